/*
 * room.h - the model of a group room (net/PROTOCOL.md section 13): its signed
 * event log in total order, exactly-once acceptance with per-author
 * high-water marks, the membership fold, anti-entropy and fan-out decisions.
 * Pure: no sockets, no files, no clock of its own (callers pass the time),
 * so that every rule can be unit-tested (tests/unit_room.c).
 */
#ifndef CONFAB_ROOM_H
#define CONFAB_ROOM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "roomwire.h"

/* confab's room policy (PROTOCOL.md section 7 and 13.8). */
#define ROOM_PENDING_MAX  256      /* events waiting for their predecessors, per room */
#define ROOM_PUSH_MAX     512      /* events pushed in answer to one HAVE */
#define ROOMS_MAX         32       /* rooms, invitations included */
#define ROOM_INVITES_MAX  8        /* unanswered invitations */
#define ROOM_INVITES_PEER 3        /* ... from one inviter */
#define ROOM_INVITES_STRANGERS 4   /* ... from strangers, together */
#define ROOM_LOG_OPS_MAX  4096     /* non-MSG events kept per room */
#define ROOM_RATE         50       /* events a second accepted live from one author */
#define ROOM_ASK_MS       3000     /* a WANT, or a push, counts as in flight this long */
#define ROOM_DIR_MAX      (2 * ROOM_MEMBERS_MAX)   /* keys that may sign in a room */
#define ROOM_KEYS_PER_MEMBER 4     /* signing keys one identity may be invited with */
#define ROOM_FILE_TAGS    16       /* ROOM_FILE records remembered (13.10) */

enum room_mstate {
	RM_NONE = 0,
	RM_INVITED,
	RM_JOINED,
	RM_DECLINED,
	RM_LEFT,
	RM_KICKED,
};

/* What room_receive did with an event. */
enum room_verdict {
	RV_ACCEPTED = 0,   /* stored (see ev->valid: a non-member's event is stored, not shown) */
	RV_DUPLICATE,      /* seq <= hwm: seen before, or a replay */
	RV_PENDING,        /* waits: a gap before it, or its author's key is not known yet */
	RV_FORGED,         /* the signature does not verify under any key the room knows for the author */
	RV_BADORDER,       /* lamport not above the author's previous event */
	RV_BADBODY,        /* the body does not parse as its kind says, or a binding fails */
	RV_CAPPED,         /* over ROOM_OPS_MAX / ROOM_LOG_OPS_MAX: refused */
	RV_RATE,           /* over ROOM_RATE, live: refused (anti-entropy brings it later) */
	RV_FULL,           /* the pending set is full: dropped */
	RV_OTHER,          /* another room's event, a second CREATE, or a malformed record */
	RV_EQUIVOCATION,   /* a second, different event for an (author, class, seq) held: the author
	                    * equivocates; the proof is kept (room_author.proof), the author frozen */
};

/* One accepted event; rec holds the record as signed, e views into it. */
struct room_event {
	uint8_t              *rec;
	size_t                len;
	struct rec_room_event e;
	uint8_t               keyidx;   /* which of the author's keys verified it */
	uint8_t               valid;    /* the fold says it counts (shown, if a MSG) */
	uint8_t               late;     /* sorted before an event accepted earlier */
	uint8_t               withdrawn;/* was valid, a later-arriving event made it not */
	uint8_t               verified; /* its signature held under ed[keyidx] (pending: not again) */
	uint64_t              chain;    /* its author's sequence digest up to it (13.4; 0: not known) */
};

/* A key that may sign in the room: an identity and the signing keys it was invited with. */
struct room_author {
	uint8_t          x[ROOM_KEY_LEN];
	uint8_t          ed[ROOM_KEYS_PER_MEMBER][ROOM_KEY_LEN];
	uint8_t          nkeys;
	uint8_t          key;           /* fold: its current key (index into ed) */
	enum room_mstate state;         /* fold: its membership */
	const struct room_event *gone;  /* fold: the event that made it declined, left or kicked */
	uint64_t         hwm[ROOM_CLASSES];   /* per sequence: every seq up to it accepted or gone */
	uint64_t         floor;         /* messages up to it may be gone (dropped) */
	uint64_t         skip_to;       /* a peer said messages up to it are gone */
	uint64_t         last_lamport[ROOM_CLASSES];  /* lamport of its event at hwm (0: not held) */
	uint64_t         chain[ROOM_CLASSES];   /* digest of each sequence up to hwm (0: not known) */
	uint64_t         chain_pushed[ROOM_CLASSES];  /* a peer's differing digest we answered (once) */
	uint64_t         frozen;        /* it equivocated: its events from this lamport on do not count */
	struct room_event *proof;       /* then: rec is the ROOM_PROOF, e the rival with the smaller lamport */
	uint8_t          proof_new;     /* a proof came since the application last looked (it clears it) */
	double           tokens;        /* ROOM_RATE bucket */
	uint64_t         tokens_t;
	uint64_t         rated[ROOM_CLASSES];  /* largest seq refused for the rate: the rest, pulled once */
	uint64_t         asked[ROOM_CLASSES];  /* largest seq asked for (WANT) or held pending... */
	uint64_t         asked_t;              /* ...at this time (ROOM_ASK_MS) */
	uint64_t         push_t;        /* as a peer: when we last pushed it events (in flight) */
	uint64_t        *seen;          /* as a peer: what its HAVEs said it holds (and we pushed
	                                 * it since), per author index and class (13.6) */
	size_t           nseen;         /* authors in seen */
};

struct room_stats {
	uint64_t duplicate, pending, forged, badorder, badbody, capped, rate, full, other;
	uint64_t nonmember;            /* stored, not valid when accepted */
	uint64_t late, withdrawn, pruned;
	uint64_t equivocation;         /* proofs that froze an author (or froze it earlier) */
};

struct room {
	struct room        *next;
	uint8_t             id[ROOM_ID_LEN];
	uint8_t             name[ROOM_NAME_MAX];   /* raw: sanitise before showing */
	size_t              name_len;
	uint8_t             creator[ROOM_KEY_LEN];
	struct room_event **log;         /* total order (13.3) */
	size_t              nlog, alog;
	size_t              nmsgs, nops;
	struct room_author *au;
	size_t              nau, aau;
	struct room_event **pend;        /* not yet accepted, arrival order */
	size_t              npend;
	uint64_t            clock;       /* Lamport clock */
	size_t              history;     /* MSG events kept */
	int                 replaying;   /* taking events back from our own log: a gap in an
	                                  * author's messages is messages we dropped (history) */
	struct room_stats   st;
	uint64_t            now;         /* the caller's clock (ms), for what is in flight */
	void               *app;         /* the application's state for this room */
};

/* Our own identity in rooms. */
struct room_self {
	uint8_t x[ROOM_KEY_LEN];
	uint8_t ed[ROOM_KEY_LEN];
	uint8_t sk[ROOM_SK_LEN];
	uint8_t bind[ROOM_SIG_LEN];
};

/* Called for every event a call accepted (the one given and any pending one it released). */
typedef void room_accept_fn(struct room *, struct room_event *, void *arg);
/* Called for every event to send to a peer (a push or a WANT's answer). */
typedef void room_push_fn(struct room *, const struct room_event *, void *arg);

/* Fill a room_self from an X25519 key pair (derives the signing key). */
void room_self_init(struct room_self *, const uint8_t x_pub[ROOM_KEY_LEN], const uint8_t x_priv[ROOM_KEY_LEN]);

/*
 * Create a room: id (random, the caller's), name, history kept; writes the
 * CREATE event (passed to cb).  Returns the room or NULL (bad name, memory).
 */
struct room *room_create(const struct room_self *, const uint8_t id[ROOM_ID_LEN],
                         const char *name, size_t name_len, size_t history, uint64_t now_ms,
                         room_accept_fn *cb, void *arg);
/*
 * A room known from its CREATE event (received, or the first record of its
 * log file).  NULL if rec is not a well-signed CREATE.
 */
struct room *room_from_create(const uint8_t *rec, size_t n, size_t history);
void room_free(struct room *);

/*
 * Take an event record from a peer (live: straight from its author's
 * session, so ROOM_RATE applies).  Accepted events (this one and pending ones
 * it releases) go to cb.  On RV_PENDING for a gap, *want (if not NULL) is
 * the range to ask for and *want_set is 1.
 */
enum room_verdict room_receive(struct room *, const uint8_t *rec, size_t n, int live, uint64_t now_ms,
                               room_accept_fn *cb, void *arg,
                               struct rec_room_want *want, int *want_set);

/* Write an event of ours; errors: -1 not allowed (not joined, not the creator...), -2 memory/too big. */
int  room_write(struct room *, const struct room_self *, uint8_t kind, const void *body, size_t len,
                uint64_t now_ms, room_accept_fn *cb, void *arg);
int  room_send_text(struct room *, const struct room_self *, const char *text, size_t len,
                    uint64_t now_ms, room_accept_fn *cb, void *arg);
/* Invite x (its signing key and binding from its HELLO extension 3); -1 also when the binding fails. */
int  room_invite(struct room *, const struct room_self *, const uint8_t x[ROOM_KEY_LEN],
                 const uint8_t ed[ROOM_KEY_LEN], const uint8_t bind[ROOM_SIG_LEN],
                 uint64_t now_ms, room_accept_fn *cb, void *arg);
int  room_kick(struct room *, const struct room_self *, const uint8_t x[ROOM_KEY_LEN],
               uint64_t now_ms, room_accept_fn *cb, void *arg);

/* A member's state (RM_NONE for a key the room does not know). */
enum room_mstate room_state(const struct room *, const uint8_t x[ROOM_KEY_LEN]);
/* The directory entry of x, or NULL. */
struct room_author *room_author(const struct room *, const uint8_t x[ROOM_KEY_LEN]);
/*
 * Whether x may receive ev (13.7): joined, every event; invited, non-MSG
 * events; left or kicked, the events up to and including the one that
 * removed it in the room's order, and nothing after; declined, the same but
 * no MSG; none, nothing.
 */
int  room_may_receive(const struct room *, const uint8_t x[ROOM_KEY_LEN], const struct room_event *ev);
/*
 * The peers an accepted event goes to (13.6): every member that may receive
 * it, but not us, its author or the peer it came from (from: NULL if ours);
 * nobody if the event is not valid or came straight from its author (who
 * sent it to everyone it reaches).  Fills out (keys in the room), returns the count.
 */
size_t room_fanout(const struct room *, const struct room_event *, const uint8_t *from,
                   const uint8_t me[ROOM_KEY_LEN], const uint8_t **out, size_t max);
/* Invited plus joined members. */
size_t room_nmembers(const struct room *);

/*
 * Encode our HAVE for the room into b: every author, or only those listed in
 * only (n of them) for an acknowledgment.
 */
int  room_put_have(const struct room *, struct buf *b, const uint8_t (*only)[ROOM_KEY_LEN], size_t n);
/*
 * A HAVE from peer from: push what it lacks (cb, at most ROOM_PUSH_MAX;
 * *more = 1 if it stopped short).  Returns the number pushed, -1 if from may
 * not receive anything of the room (ignored).
 */
int  room_on_have(struct room *, const uint8_t from[ROOM_KEY_LEN], const uint8_t *rec, size_t n,
                  room_push_fn *cb, void *arg, int *more);
/* Everything peer to may receive, in total order (to an invitee); -1 as for HAVE. */
int  room_push_all(struct room *, const uint8_t to[ROOM_KEY_LEN], room_push_fn *cb, void *arg, int *more);
/*
 * The ranges a HAVE shows its sender holds and we lack (pull, 13.6): fills
 * out (at most max WANTs, asking for at most ROOM_PUSH_MAX events in all),
 * returns the count.  msgs: messages too (we are joined), else membership only.
 */
size_t room_have_wants(struct room *, const uint8_t *rec, size_t n, int msgs,
                       struct rec_room_want *out, size_t max);
/*
 * The WANTs for the rest of author x's events that were refused for the rate
 * (13.8): one per class, asked of x once; fills out (max 2), returns the count.
 */
size_t room_pull_wants(struct room *, const uint8_t x[ROOM_KEY_LEN], struct rec_room_want *out, size_t max);
/* Whether x has events refused for the rate that no pull in flight asks for: pull again. */
int room_pull_rest(const struct room *, const uint8_t x[ROOM_KEY_LEN]);
/* Event ev went to peer to (its fan-out): it is in flight, not pushed again on a HAVE. */
void room_note_push(struct room *, const uint8_t to[ROOM_KEY_LEN], const struct room_event *ev);
/* What we sent peer to may be lost (a full queue, a new session): a HAVE of it is believed. */
void room_push_lost(struct room *, const uint8_t to[ROOM_KEY_LEN]);
/*
 * Whether answering this HAVE would leave a gap the asker cannot explain:
 * it lacks messages we dropped (below our floor).  Then send our HAVE first,
 * so that it learns the floor (13.6).
 */
int  room_have_below_floor(const struct room *, const uint8_t *rec, size_t n);
/* A WANT from peer from: push the events held in the range; -1 as for HAVE. */
int  room_on_want(struct room *, const uint8_t from[ROOM_KEY_LEN], const struct rec_room_want *,
                  room_push_fn *cb, void *arg);
/*
 * A ROOM_PROOF (13.4): two different events signed by one author for one
 * class and seq.  RV_EQUIVOCATION when it freezes the author (or from an
 * earlier lamport), RV_DUPLICATE when known, RV_PENDING when the author's key
 * is not known yet, RV_FORGED when a signature fails, RV_OTHER when the two
 * are not rivals of this room.
 */
enum room_verdict room_on_proof(struct room *, const uint8_t *rec, size_t n);
/* Whether x may receive author a's proof (both rivals, 13.7). */
int  room_may_receive_proof(const struct room *, const uint8_t x[ROOM_KEY_LEN], const struct room_author *a);

/* After loading: seqs up to floor of author x are gone (saved floors). */
void room_set_floor(struct room *, const uint8_t x[ROOM_KEY_LEN], uint64_t floor);

/* A digest of what the room shows: valid events in order and every member's state (tests). */
void room_digest(const struct room *, uint8_t out[32]);
const char *room_mstate_name(enum room_mstate);
const char *room_verdict_name(enum room_verdict);

#endif
