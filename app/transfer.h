/* transfer.h - file drop: offers, acceptance, streaming, resume, verification. */
#ifndef CONFAB_TRANSFER_H
#define CONFAB_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "xfs.h"

#define XFER_ID_HEX        (WIRE_ID_LEN * 2)
#define XFER_PENDING_PEER  4      /* undecided incoming offers per peer */
#define XFER_PENDING_ADDR  4      /* ... from strangers at one address (IPv6: one /64) */
#define XFER_PENDING_ALL   16     /* ... in all (a friend's offer displaces a stranger's) */
/*
 * Memory an offer's names may take: each entry counts its name's length
 * plus XFER_ENTRY_COST bytes.  The limits apply while an offer is
 * undecided (being received or waiting for the user).
 */
#define XFER_ENTRY_COST    64
#define XFER_OFFER_NAMES   (16u * 1024 * 1024)   /* one offer */
#define XFER_PEER_NAMES    (16u * 1024 * 1024)   /* undecided offers of one peer */
#define XFER_ALL_NAMES     (24u * 1024 * 1024)   /* undecided offers of strangers in all */
#define XFER_OFFER_IDLE_MS 10000  /* an offer whose entries stop coming this long is dropped */
#define XFER_ROOM_HEX      32     /* a room's id in hex (rooms.h ROOM_IDHEX) */

enum xfer_dir { XFER_OUT = 0, XFER_IN = 1 };

enum xfer_state {
	XS_OFFERING = 1,   /* out: offer being sent; in: offer entries arriving */
	XS_PENDING,        /* out: waiting for the peer's answer; in: waiting for the user */
	XS_RUNNING,        /* data flowing */
	XS_WAITING,        /* interrupted: resumes when the peer is back */
	XS_DONE,           /* every file arrived and verified */
	XS_FAILED,
	XS_CANCELLED,
	XS_REJECTED,
};

struct xfer {
	struct xfer     *next;
	struct core     *core;
	struct peer     *peer;
	enum xfer_dir    dir;
	enum xfer_state  state;
	uint8_t          id[WIRE_ID_LEN];
	char             idhex[XFER_ID_HEX + 1];
	uint32_t         handle;       /* the sender's handle */
	uint8_t          key[XFER_KEY_LEN];
	struct xfs_list  list;
	uint32_t         expect;       /* in: entries the OFFER announced */
	uint64_t         total;        /* bytes in all files */
	uint64_t         done;         /* bytes present at the receiver (incl. resumed) */
	uint64_t         wire;         /* bytes of file data that crossed the network */
	uint64_t         resumed;      /* bytes skipped thanks to resume */
	uint64_t         t_start, t_progress;   /* monotonic ms */
	uint64_t         rate;         /* bytes per second, smoothed */
	char            *reason;       /* why it failed or was cancelled */
	char            *result;       /* in: where it landed (first top-level name) */
	char           **finals;       /* in, done: every top-level name it landed under (in target) */
	size_t           nfinals;
	int              auto_accept;
	uint64_t         serial;       /* creation order (newest: highest); the list is reordered */
	int              fe_state;     /* owned by the front-end: the state it last reported */
	char             room[XFER_ROOM_HEX + 1];   /* the room it was sent to (/send #ROOM), or "" */
	int              hidden;       /* superseded by the same transfer offered again, or
	                                  cleared by the user: listed nowhere, found by no id */

	/* in, undecided: what it counts against the limits above */
	size_t           names;        /* bytes of names (XFER_ENTRY_COST each on top) */
	int              stranger;     /* from a peer that is not a friend (see got_offer) */
	char             from[64];     /* the address it came from (IPv6: the /64) */
	struct loop_timer idle;        /* in, XS_OFFERING: its entries stopped coming */

	/* what it held, kept when the entry list is freed at the end (xfer_contents) */
	size_t           nfiles, ndirs, ntop;
	char            *first;        /* the first top-level name, or NULL */
	int              first_dir;

	/* per-file resume state: offset the data starts at, and files already done
	 * (receiver: FDONE_WRITTEN when complete, FDONE_DURABLE once flushed) */
	uint64_t        *start;
	uint8_t         *fdone;        /* 0, or one of: */
#define FDONE_WRITTEN 1               /* receiver: complete, maybe only in the page cache */
#define FDONE_DURABLE 2               /* receiver: flushed to the disk; saved as done */

	/* sender streaming */
	uint32_t         sent_entries;   /* OFFER_PART entries sent */
	uint32_t         resumes_due, resumes_got;
	uint32_t         cur;            /* current file index */
	uint64_t         off;            /* next byte to send / expected */
	int              fd;
	int              cur_open;
	int              all_sent;
	struct loop_timer result_timer;  /* XFER_DONE sent: how long we wait for XFER_RESULT */

	/* receiver */
	char            *target;         /* target directory */
	char             tag[17];        /* staging name tag */
	struct xfs_stage *stage;
	uint64_t         last_sync;      /* bytes written at the last persisted checkpoint */
	uint64_t         t_sync;
	uint64_t         kicked;         /* current file: write-back started up to here */
	uint32_t         unsynced;       /* lowest file index that may be FDONE_WRITTEN */
	int              restarted;      /* current file restarts at 0 after a failed prefix proof */
};

/* Start the transfer module (state directory, etc.). */
int  xfer_init(struct core *);
void xfer_free_all(struct core *);
/*
 * Outgoing transfers saved by an earlier run (they outlive a restart): back
 * in the list, waiting for their peer, to be offered again (and resumed)
 * when it is online.  Returns how many.  Not in one-shot mode.
 */
size_t xfer_load_outgoing(struct core *);

/* /send: offer paths to a peer. Returns 0 or -1 (EV_ERROR sent). */
int  xfer_send(struct core *, struct peer *, char *const *paths, int npaths, const char *cmd);
/*
 * /send #ROOM, to one member: xfer_send with the transfer tagged with the
 * room (its id in hex), saved with it, and offered when the member is back
 * only if it is still in the room (rooms_may_get_file).
 */
int  xfer_send_room(struct core *, struct peer *, char *const *paths, int npaths, const char *cmd,
                    const char *room);
/* A member left or was kicked from room: its transfers of the room not yet accepted end. */
void xfer_room_gone(struct core *, const char *room, struct peer *);
int  xfer_paths_check(char *const *paths, int npaths, char *err, size_t errlen);
/* /accept: accept an incoming offer into dir (NULL: the download dir). */
int  xfer_accept(struct core *, struct xfer *, const char *dir, const char *cmd);
/* /reject an incoming offer. */
int  xfer_reject(struct core *, struct xfer *, const char *cmd);
/*
 * Whether dir can take downloads: a directory we may write to, or a path
 * whose nearest existing ancestor is one (the rest is made when a transfer
 * starts).  0, or -1 with a sentence in err.
 */
int  xfer_dir_usable(const char *dir, char *err, size_t errlen);
/* /cancel a transfer in either direction. */
int  xfer_cancel(struct core *, struct xfer *, const char *cmd);
/*
 * Find a transfer by id prefix (4+ hex digits).  A prefix of several
 * transfers is an error (why says so), unless they are copies of one offer
 * sent again: then the copy still under way, else the newest.
 */
struct xfer *xfer_find(struct core *, const char *idprefix, const char **why);

/* Session hooks, called by the core. */
void xfer_record(struct core *, struct peer *, const struct record *);
int  xfer_bulk(struct core *, struct peer *, struct buf *);
void xfer_peer_online(struct core *, struct peer *);
void xfer_peer_offline(struct core *, struct peer *);

const char *xfer_state_name(enum xfer_state);

/* What a transfer holds: counts and its first top-level name (NULL: none yet). */
struct xfer_contents {
	size_t      files, dirs, top;
	const char *first;
	int         first_dir;
};
void xfer_contents(const struct xfer *, struct xfer_contents *);

#endif
