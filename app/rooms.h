/*
 * rooms.h - group rooms in the running program: the pure model (room.c)
 * wired to the sessions (fan-out, anti-entropy), to disk (a write-ahead log
 * per room) and to the front-ends (events), plus the /room commands.
 */
#ifndef CONFAB_ROOMS_H
#define CONFAB_ROOMS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "room.h"

#define ROOM_NAME_BUF  (ROOM_NAME_MAX * 3 + 1)   /* sanitised name */
#define ROOM_IDHEX     (ROOM_ID_LEN * 2)
#define ROOM_LOG_MAX   (64u * 1024 * 1024)        /* a room log file read at start */
#define ROOM_WAL_MAX   (1024u * 1024)             /* bytes of records waiting for their fsync */
#define ROOM_DROPLOG_BURST 256                    /* dropped events logged one by one, at once */
#define ROOM_DROPLOG_RATE  10                     /* ... and then a second (the rest: counted) */
#define ROOM_ANSWERS_MAX   (4 * ROOM_PUSH_MAX)       /* own events a peer may push as answers at once */

/* Delivery of our messages to one member (its HAVE covers them). */
struct room_ack {
	uint8_t  x[ROOM_KEY_LEN];
	uint64_t hwm;                  /* our messages up to this seq it has */
};

/* A message accepted this turn, shown once its record is on disk (room_app.wal). */
struct room_show {
	size_t  off, len;              /* the record in wal */
	uint8_t late;
};

/* One room as the program holds it. */
struct room_app {
	struct room        *r;
	char                idhex[ROOM_IDHEX + 1];
	char                name[ROOM_NAME_BUF];
	char                path[PATH_MAX];
	int                 provisional;   /* a CREATE from a peer, no invitation for us (yet): memory only */
	uint8_t             via[ROOM_KEY_LEN];   /* provisional: the peer it came from */
	enum room_mstate    told;          /* our state last reported */
	size_t              told_ops;      /* membership events when last reported */
	uint64_t            told_withdrawn;/* the room's withdrawn count when last looked at */
	struct conversation conv;          /* its window */
	struct room_ack    *acks;
	size_t              nacks;
	uint8_t           (*ann)[ROOM_KEY_LEN];   /* authors to announce (a partial HAVE) */
	size_t              nann;
	uint64_t            log_bytes;     /* size of its log file */
	struct buf          wal;           /* records accepted, not yet on disk (one fsync a turn) */
	struct room_show   *show;          /* messages in wal, shown after the fsync */
	size_t              nshow, ashow;
	uint64_t            compact_at;    /* rewrite the log when it grows past this */
	uint8_t           (*pull)[ROOM_KEY_LEN];  /* peers to send our HAVE to a second from now */
	size_t              npull;
	int                 fe_state;      /* owned by the front-end: our state it last showed */
};

/* A ROOM_FILE received: the OFFER it names is for a room (13.10). */
struct room_ftag {
	uint8_t  peer[ROOM_KEY_LEN];
	uint8_t  xfer[ROOM_ID_LEN];
	char     room[ROOM_IDHEX + 1];
};

struct rooms {
	struct room_self  me;
	struct room_ftag  ftag[ROOM_FILE_TAGS];
	size_t            nftag;       /* ROOM_FILEs received, ever (ftag is a ring) */
	char              dir[PATH_MAX];
	struct room_app  *list[ROOMS_MAX];
	size_t            n;
	int               loading;
	struct core      *core;
	struct loop_timer pull_timer;  /* sends the HAVEs of room_app.pull */
	double            droplog;     /* tokens: dropped events we may still log one by one */
	uint64_t          droplog_t;   /* when the tokens were counted */
	uint64_t          droplog_quiet;   /* dropped events not logged since the last one that was */
};

/* Load the rooms from the state directory.  Returns 0 or -1 with err. */
int  rooms_init(struct core *, char *err, size_t errlen);
void rooms_free(struct core *);
/* Append HELLO extension 3 (our signing key and its binding) to a HELLO. */
int  rooms_hello_ext(struct core *, struct buf *);
/* A peer's HELLO: remember its signing key if its binding holds. */
void rooms_peer_hello(struct core *, struct peer *, const uint8_t *roomkey);
/* A peer came online (first HELLO): exchange HAVEs for the rooms it has a place in. */
void rooms_peer_online(struct core *, struct peer *);
/* A room record (0x20..0x22) from a peer. */
void rooms_record(struct core *, struct peer *, const uint8_t *rec, size_t n);
/* Before sleeping: announce what we gained this turn (partial HAVEs). */
void rooms_flush(struct core *);
/* Find a room by name, #name or id prefix (4+ hex). NULL with why. */
struct room_app *rooms_find(struct core *, const char *name, const char **why);
/* /msg #NAME TEXT */
int  rooms_send(struct core *, const char *name, const char *text, const char *cmd);
/*
 * /send #NAME PATH...: offer the files to every other joined member, each
 * its own transfer (transfer.c), tagged with the room: at once to those
 * online, when they are back to the others (saved across restarts).
 */
int  rooms_send_files(struct core *, const char *name, char *const *paths, int npaths, const char *cmd);
/* Before the OFFER of a transfer sent to a room's member: ROOM_FILE (13.10) to it. */
void rooms_offer_tag(struct core *, struct peer *, const char *room, const uint8_t id[ROOM_ID_LEN]);
/*
 * An OFFER with transfer id from p: the room (hex id) its ROOM_FILE named,
 * copied to out, if p and we are joined in it; else out is "".
 */
void rooms_offer_room(struct core *, const struct peer *, const uint8_t id[ROOM_ID_LEN], char *out,
                      size_t outlen);
/* Whether p may still get a file sent to the room with id hex room: it is joined or invited. */
int  rooms_may_get_file(struct core *, const char *room, const struct peer *p);
/* /room SUBCOMMAND ... and /rooms */
int  rooms_cmd(struct core *, struct conversation *, const char *line, char *args);
int  rooms_cmd_list(struct core *, struct conversation *, const char *line, char *args);

#endif
