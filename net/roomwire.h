/* roomwire.h - the room records (net/PROTOCOL.md section 13): encode, decode, sign, verify. */
#ifndef CONFAB_ROOMWIRE_H
#define CONFAB_ROOMWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define REC_ROOM_EVENT  0x20
#define REC_ROOM_HAVE   0x21
#define REC_ROOM_WANT   0x22
#define REC_ROOM_PROOF  0x23       /* two rival events: proof of an equivocation (13.4) */
#define REC_ROOM_FILE   0x24       /* the transfer offered next is for a room (13.10) */

#define HELLO_EXT_ROOMKEY 3        /* HELLO extension: Ed25519 key + binding */

#define ROOM_ID_LEN     16
#define ROOM_KEY_LEN    32         /* X25519 identity and Ed25519 public key */
#define ROOM_SIG_LEN    64         /* Ed25519 signature */
#define ROOM_SK_LEN     64         /* Ed25519 secret key (libsodium form) */
#define ROOM_BIND_EXT_LEN (ROOM_KEY_LEN + ROOM_SIG_LEN)

/* Limits that are part of the protocol (PROTOCOL.md section 7 and 13.8). */
#define ROOM_BODY_MAX    4096      /* bytes of an event body */
#define ROOM_NAME_MAX    64        /* bytes of a room name */
#define ROOM_MEMBERS_MAX 128       /* invited and joined members */
#define ROOM_OPS_MAX     256       /* non-MSG events per author per room */
#define ROOM_HAVE_MAX    256       /* entries in one ROOM_HAVE */

/* Event kinds (13.2). */
#define RK_CREATE   1
#define RK_MSG      2
#define RK_INVITE   3
#define RK_JOIN     4
#define RK_DECLINE  5
#define RK_LEAVE    6
#define RK_KICK     7

/* The fixed part of an event record: type .. kind, then str16 body, then sig. */
#define ROOM_EV_HDR  (1 + ROOM_ID_LEN + ROOM_KEY_LEN + 8 + 8 + 8 + 1)
#define ROOM_EV_MAX  (ROOM_EV_HDR + 2 + ROOM_BODY_MAX + ROOM_SIG_LEN)

/* A decoded ROOM_EVENT; pointers borrow from the record bytes. */
struct rec_room_event {
	uint8_t        room[ROOM_ID_LEN];
	uint8_t        author[ROOM_KEY_LEN];
	uint64_t       seq;
	uint64_t       lamport;
	uint64_t       ts_ms;
	uint8_t        kind;
	const uint8_t *body;
	size_t         body_len;
	const uint8_t *sig;            /* ROOM_SIG_LEN bytes */
	const uint8_t *signed_p;       /* the signed bytes: room id .. end of body */
	size_t         signed_len;
};

/*
 * An author's events are numbered in two sequences (13.4): its membership
 * events (ROOM_CLASS_OPS: every kind but MSG) and its messages
 * (ROOM_CLASS_MSG), each from 1.
 */
#define ROOM_CLASS_OPS 0
#define ROOM_CLASS_MSG 1
#define ROOM_CLASSES   2
/* The sequence an event kind is numbered in. */
#define ROOM_CLASS(kind) ((kind) == RK_MSG ? ROOM_CLASS_MSG : ROOM_CLASS_OPS)

struct room_have_entry {
	uint8_t        author[ROOM_KEY_LEN];
	uint64_t       hwm[ROOM_CLASSES];   /* membership events, messages */
	uint64_t       floor;               /* messages up to it may be gone */
	uint64_t       chain[ROOM_CLASSES]; /* digest of the sequence up to hwm (0: not known) */
	uint64_t       frozen;              /* lamport it equivocated at (0: not known to) */
};

/* A decoded ROOM_HAVE; walk its entries with roomwire_next_have. */
struct rec_room_have {
	uint8_t        room[ROOM_ID_LEN];
	uint16_t       count;
	const uint8_t *p;
	size_t         len;
};

struct rec_room_want {
	uint8_t        room[ROOM_ID_LEN];
	uint8_t        author[ROOM_KEY_LEN];
	uint8_t        cls;            /* ROOM_CLASS_* */
	uint64_t       first, last;
};

/* A decoded ROOM_PROOF: two event records, each checked to decode. */
struct rec_room_proof {
	uint8_t        room[ROOM_ID_LEN];
	const uint8_t *ev[2];
	size_t         len[2];
};

/* The bodies of CREATE and INVITE (13.2), and KICK's target. */
struct room_body_member {
	const uint8_t *name;           /* CREATE only */
	size_t         name_len;
	uint8_t        x[ROOM_KEY_LEN];    /* INVITE/KICK: the member named */
	uint8_t        ed[ROOM_KEY_LEN];   /* CREATE/INVITE: its signing key */
	uint8_t        bind[ROOM_SIG_LEN]; /* CREATE/INVITE: binding of ed to x */
};

/* A decoded ROOM_FILE: the OFFER with transfer id xfer is sent to a member of room. */
struct rec_room_file {
	uint8_t        room[ROOM_ID_LEN];
	uint8_t        xfer[ROOM_ID_LEN];   /* the OFFER's transfer id (WIRE_ID_LEN) */
};

/* Decoders: WIRE_OK (0) or WIRE_EMALFORMED (-1); n counts the type byte. */
int  roomwire_decode_event(const uint8_t *p, size_t n, struct rec_room_event *e);
int  roomwire_decode_have(const uint8_t *p, size_t n, struct rec_room_have *h);
int  roomwire_decode_want(const uint8_t *p, size_t n, struct rec_room_want *w);
int  roomwire_decode_proof(const uint8_t *p, size_t n, struct rec_room_proof *f);
int  roomwire_decode_file(const uint8_t *p, size_t n, struct rec_room_file *f);
/* The next entry of a decoded HAVE; 0, or -1 at the end. */
int  roomwire_next_have(struct rec_room_have *h, struct room_have_entry *e);
/*
 * Parse the body of a CREATE, INVITE or KICK (author is the event's, for
 * CREATE's x); 0, or -1 if it is not of that kind's form.
 */
int  roomwire_parse_body(uint8_t kind, const uint8_t *author, const uint8_t *body, size_t len,
                         struct room_body_member *m);

/* Encode a ROOM_EVENT signed with sk (libsodium 64-byte Ed25519 secret key). */
int  roomwire_put_event(struct buf *b, const uint8_t room[ROOM_ID_LEN],
                        const uint8_t author[ROOM_KEY_LEN], uint64_t seq, uint64_t lamport,
                        uint64_t ts_ms, uint8_t kind, const void *body, size_t body_len,
                        const uint8_t sk[ROOM_SK_LEN]);
/* Encode a ROOM_EVENT with a given signature (relaying, tests). */
int  roomwire_put_event_sig(struct buf *b, const struct rec_room_event *e, const uint8_t sig[ROOM_SIG_LEN]);
/* Start a ROOM_HAVE; then roomwire_put_have_entry count times, then roomwire_end_have. */
int  roomwire_begin_have(struct buf *b, const uint8_t room[ROOM_ID_LEN]);
int  roomwire_put_have_entry(struct buf *b, const struct room_have_entry *e);
void roomwire_end_have(struct buf *b, size_t start, uint16_t count);
int  roomwire_put_want(struct buf *b, const struct rec_room_want *w);
/* Encode a ROOM_PROOF of two event records (a, then b). */
int  roomwire_put_proof(struct buf *b, const uint8_t room[ROOM_ID_LEN], const uint8_t *a, size_t na,
                        const uint8_t *b2, size_t nb);
int  roomwire_put_file(struct buf *b, const struct rec_room_file *f);
/* Build the body of CREATE (name, ed, bind), INVITE (x, ed, bind) or KICK (x). */
int  roomwire_put_body(struct buf *b, uint8_t kind, const struct room_body_member *m);

/* Whether an event's signature verifies under the author's Ed25519 key. */
int  roomwire_verify(const struct rec_room_event *e, const uint8_t ed[ROOM_KEY_LEN]);
/* The binding of an Ed25519 key to an X25519 identity (13.1). */
void roomwire_bind(uint8_t sig[ROOM_SIG_LEN], const uint8_t x[ROOM_KEY_LEN], const uint8_t sk[ROOM_SK_LEN]);
int  roomwire_bind_ok(const uint8_t sig[ROOM_SIG_LEN], const uint8_t x[ROOM_KEY_LEN], const uint8_t ed[ROOM_KEY_LEN]);
/* The signing key of an identity (13.1): derived from its X25519 private key. */
void roomwire_signing_key(const uint8_t x_priv[ROOM_KEY_LEN], uint8_t ed_pk[ROOM_KEY_LEN], uint8_t ed_sk[ROOM_SK_LEN]);

/* A name for a kind, for logs ("msg", "invite", ... "unknown"). */
const char *roomwire_kind_name(uint8_t kind);

#endif
