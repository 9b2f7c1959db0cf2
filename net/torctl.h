/* torctl.h - Tor control-port client: a strict reply parser, and one controller
 * connection on the loop that authenticates, adds an onion service and follows
 * its publication (tor's control-spec). */
#ifndef CONFAB_TORCTL_H
#define CONFAB_TORCTL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "sock.h"

#define TORCTL_LINE_MAX    4096    /* one reply line, without its CRLF */
#define TORCTL_REPLY_MAX   16384   /* one whole reply, every line and data block */
#define TORCTL_LINES_MAX   64      /* lines in one reply */
#define TORCTL_ID_LEN      56      /* a v3 onion service id (base32) */
#define TORCTL_KEY_MAX     160     /* "ED25519-V3:" and 88 base64 characters */
#define TORCTL_PASS_MAX    255
#define TORCTL_ERR_MAX     256
#define TORCTL_TIMEOUT_MS  30000   /* connect and log in within this */

/* One reply (or asynchronous event): its code and its lines. */
struct torctl_reply {
	int    code;                       /* 250, 515, 650, ... */
	size_t n;                          /* lines */
	char  *line[TORCTL_LINES_MAX];     /* without "NNN-"; a data block follows after '\n' */
	char   text[TORCTL_REPLY_MAX];
};

/*
 * Parse one complete reply at the start of in.  Returns 1 (r filled, *used
 * bytes consumed), 0 when more bytes are needed, -1 when the bytes are not a
 * reply (a reason in err): lines end in CRLF, start with three digits (the
 * same in every line of a reply) and ' ', '-' or '+', hold printable ASCII
 * only, and fit the limits above; '+' starts a data block ending in ".".
 */
int  torctl_parse(const char *in, size_t len, struct torctl_reply *r, size_t *used,
                  char *err, size_t errlen);
/*
 * The value of KEY=VALUE among the blank-separated words of line (VALUE
 * plain or a quoted string, unescaped).  Returns 1 with the value in out,
 * 0 if the key is not there, -1 if its value is malformed or too long.
 */
int  torctl_kv(const char *line, const char *key, char *out, size_t outlen);
/* Whether s is a v3 onion service id: 56 characters of a-z and 2-7. */
int  torctl_id_ok(const char *s, size_t len);
/* Whether text is "ID.onion" (any case) optionally followed by ":PORT"; the id (lower case) to id. */
int  torctl_onion_name(const char *host, char id[TORCTL_ID_LEN + 1]);

enum torctl_state {
	TC_CONNECTING = 1,   /* connecting, logging in */
	TC_STARTING,         /* logged in: adding the service, tor bootstrapping */
	TC_PUBLISHED,        /* a descriptor was uploaded: reachable */
	TC_FAILED,           /* gave up: torctl_error says why */
};

struct torctl_conf {
	char     control[PATH_MAX];   /* "ADDR:PORT" (numeric) or "unix:PATH" */
	char     password[TORCTL_PASS_MAX + 1];   /* "": cookie or no authentication */
	int      own;                 /* TAKEOWNERSHIP: tor exits with this connection */
	char     key[TORCTL_KEY_MAX]; /* "ED25519-V3:..." to reuse, "": a new one */
	uint16_t port;                /* the onion's port */
	char     target[SOCK_ADDRSTRLEN];   /* where tor takes it: "127.0.0.1:7470" */
};

struct torctl;
/* Called when the state, the bootstrap progress or the address changes. */
typedef void (*torctl_cb)(struct torctl *, void *arg);

/* Start connecting to tor's control port; NULL and errno on failure. */
struct torctl *torctl_new(struct loop *, const struct torctl_conf *, torctl_cb cb, void *arg);
/* Close the connection (the service goes with it) and free. */
void torctl_free(struct torctl *);
enum torctl_state torctl_state(const struct torctl *);
/* Why it failed ("" otherwise). */
const char *torctl_error(const struct torctl *);
/* Tor's bootstrap progress in percent, -1 before it is known. */
int  torctl_bootstrap(const struct torctl *);
/* The service's id (56 characters, no ".onion"), "" before ADD_ONION answered. */
const char *torctl_id(const struct torctl *);
/* Tor's first SOCKS listener ("127.0.0.1:9050"), "" if none is known. */
const char *torctl_socks(const struct torctl *);
/* A key tor made for us (ADD_ONION NEW) the owner should keep, or NULL; cleared by torctl_key_taken. */
const char *torctl_new_key(const struct torctl *);
void torctl_key_taken(struct torctl *);
/*
 * Ask tor for SIGNAL NEWNYM once no other command is out (asked twice
 * before it went: sent once).  It purges tor's client-side onion state: the
 * descriptors it holds, its introduction-point failures, its record of the
 * HSDirs it asked, and the circuits new streams would join.  Tor's refusal
 * is logged, never fatal.  Tor itself delays NEWNYMs less than 10 s apart.
 */
void torctl_newnym(struct torctl *);
/* How many SIGNAL NEWNYM tor answered with 250. */
unsigned torctl_newnyms(const struct torctl *);

#endif
