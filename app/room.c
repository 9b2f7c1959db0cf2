/* room.c - the model of a group room (see room.h and net/PROTOCOL.md section 13). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "room.h"
#include "wire.h"

static void room_fold(struct room *);

/* Fill a room_self from an X25519 key pair. */
void
room_self_init(struct room_self *me, const uint8_t x_pub[ROOM_KEY_LEN], const uint8_t x_priv[ROOM_KEY_LEN])
{
	memcpy(me->x, x_pub, ROOM_KEY_LEN);
	roomwire_signing_key(x_priv, me->ed, me->sk);
	roomwire_bind(me->bind, me->x, me->sk);
}

/* The total order of 13.3: lamport, then author key, then seq. */
static int
ev_cmp(const struct rec_room_event *a, const struct rec_room_event *b)
{
	int c;

	if (a->lamport != b->lamport)
		return a->lamport < b->lamport ? -1 : 1;
	if ((c = memcmp(a->author, b->author, ROOM_KEY_LEN)) != 0)
		return c;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

/* Free one event. */
static void
ev_free(struct room_event *ev)
{
	if (ev == NULL)
		return;
	sodium_memzero(ev->rec, ev->len);
	free(ev->rec);
	free(ev);
}

/* Copy a record into a new event (decoded); NULL if malformed or out of memory. */
static struct room_event *
ev_new(const uint8_t *rec, size_t n)
{
	struct room_event *ev;

	if (n == 0 || n > ROOM_EV_MAX || (ev = calloc(1, sizeof *ev)) == NULL)
		return NULL;
	if ((ev->rec = malloc(n)) == NULL) {
		free(ev);
		return NULL;
	}
	memcpy(ev->rec, rec, n);
	ev->len = n;
	if (roomwire_decode_event(ev->rec, n, &ev->e) != WIRE_OK) {
		ev_free(ev);
		return NULL;
	}
	return ev;
}

/* The digest of an author's sequence after ev, from prev (13.4): never 0 (0 is "not known"). */
static uint64_t
chain_next(uint64_t prev, const struct rec_room_event *e)
{
	crypto_generichash_state st;
	uint8_t p[8], h[8];
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(prev >> (56 - 8 * i));
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, p, sizeof p);
	crypto_generichash_update(&st, e->signed_p, e->signed_len);
	crypto_generichash_final(&st, h, sizeof h);
	for (i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return v ? v : 1;
}

/* The directory entry of x, or NULL. */
struct room_author *
room_author(const struct room *r, const uint8_t x[ROOM_KEY_LEN])
{
	size_t i;

	for (i = 0; i < r->nau; i++)
		if (memcmp(r->au[i].x, x, ROOM_KEY_LEN) == 0)
			return &r->au[i];
	return NULL;
}

/* Add ed as a signing key of x (creating x's entry); NULL at the limits. */
static struct room_author *
author_add(struct room *r, const uint8_t x[ROOM_KEY_LEN], const uint8_t ed[ROOM_KEY_LEN])
{
	struct room_author *a = room_author(r, x), *na;
	uint8_t i;

	if (a == NULL) {
		if (r->nau >= ROOM_DIR_MAX)
			return NULL;
		if (r->nau == r->aau) {
			size_t n = r->aau ? r->aau * 2 : 8;

			if ((na = realloc(r->au, n * sizeof *na)) == NULL)
				return NULL;
			r->au = na;
			r->aau = n;
		}
		a = &r->au[r->nau++];
		memset(a, 0, sizeof *a);
		memcpy(a->x, x, ROOM_KEY_LEN);
		a->tokens = ROOM_RATE;
	}
	for (i = 0; i < a->nkeys; i++)
		if (memcmp(a->ed[i], ed, ROOM_KEY_LEN) == 0)
			return a;
	if (a->nkeys >= ROOM_KEYS_PER_MEMBER)
		return a;   /* known, but this key is not kept: its events will not verify */
	memcpy(a->ed[a->nkeys++], ed, ROOM_KEY_LEN);
	return a;
}

/* A new, empty room. */
static struct room *
room_alloc(const uint8_t id[ROOM_ID_LEN], size_t history)
{
	struct room *r = calloc(1, sizeof *r);

	if (r == NULL)
		return NULL;
	memcpy(r->id, id, ROOM_ID_LEN);
	r->history = history ? history : 1;
	return r;
}

/* Free a room and everything in it. */
void
room_free(struct room *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nlog; i++)
		ev_free(r->log[i]);
	for (i = 0; i < r->npend; i++)
		ev_free(r->pend[i]);
	for (i = 0; i < r->nau; i++)
		ev_free(r->au[i].proof);
	free(r->log);
	free(r->pend);
	for (i = 0; i < r->nau; i++)
		free(r->au[i].seen);
	free(r->au);
	free(r);
}

/* Check a CREATE event's form: seq 1, lamport 1, a name, a binding that verifies, signed by that key. */
static int
create_ok(const struct rec_room_event *e, struct room_body_member *m)
{
	if (e->kind != RK_CREATE || e->seq != 1 || e->lamport != 1)
		return 0;
	if (roomwire_parse_body(RK_CREATE, e->author, e->body, e->body_len, m) != 0)
		return 0;
	return roomwire_bind_ok(m->bind, m->x, m->ed) && roomwire_verify(e, m->ed);
}

/* The first index of the log whose event does not sort before e. */
static size_t
log_find(const struct room *r, const struct rec_room_event *e)
{
	size_t lo = 0, hi = r->nlog, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ev_cmp(&r->log[mid]->e, e) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Insert ev in the log in total order; returns its index, or -1 (memory). */
static long
log_insert(struct room *r, struct room_event *ev)
{
	size_t lo;

	if (r->nlog == r->alog) {
		size_t n = r->alog ? r->alog * 2 : 64;
		struct room_event **nl = realloc(r->log, n * sizeof *nl);

		if (nl == NULL)
			return -1;
		r->log = nl;
		r->alog = n;
	}
	lo = log_find(r, &ev->e);
	memmove(r->log + lo + 1, r->log + lo, (r->nlog - lo) * sizeof *r->log);
	r->log[lo] = ev;
	r->nlog++;
	return (long)lo;
}

/* Drop the oldest MSG events beyond the history limit; their seqs go into floors. */
static void
prune(struct room *r)
{
	size_t i = 0;
	struct room_author *a;

	while (r->nmsgs > r->history && i < r->nlog) {
		struct room_event *ev = r->log[i];

		if (ev->e.kind != RK_MSG) {
			i++;
			continue;
		}
		if ((a = room_author(r, ev->e.author)) != NULL && a->floor < ev->e.seq)
			a->floor = ev->e.seq;
		memmove(r->log + i, r->log + i + 1, (r->nlog - i - 1) * sizeof *r->log);
		r->nlog--;
		r->nmsgs--;
		r->st.pruned++;
		ev_free(ev);
	}
}

/* A room known from its CREATE record. */
struct room *
room_from_create(const uint8_t *rec, size_t n, size_t history)
{
	struct room_body_member m;
	struct room_event *ev;
	struct room_author *a;
	struct room *r;

	if ((ev = ev_new(rec, n)) == NULL)
		return NULL;
	if (!create_ok(&ev->e, &m) || (r = room_alloc(ev->e.room, history)) == NULL) {
		ev_free(ev);
		return NULL;
	}
	memcpy(r->name, m.name, m.name_len);
	r->name_len = m.name_len;
	memcpy(r->creator, ev->e.author, ROOM_KEY_LEN);
	if ((a = author_add(r, m.x, m.ed)) == NULL || log_insert(r, ev) < 0) {
		ev_free(ev);
		room_free(r);
		return NULL;
	}
	a->hwm[ROOM_CLASS_OPS] = 1;
	a->last_lamport[ROOM_CLASS_OPS] = 1;
	a->chain[ROOM_CLASS_OPS] = ev->chain = chain_next(0, &ev->e);
	r->nops = 1;
	r->clock = 1;
	room_fold(r);
	return r;
}

/* Create a room with our CREATE event. */
struct room *
room_create(const struct room_self *me, const uint8_t id[ROOM_ID_LEN], const char *name,
            size_t name_len, size_t history, uint64_t now_ms, room_accept_fn *cb, void *arg)
{
	struct room_body_member m;
	struct buf body, rec;
	struct room *r = NULL;

	if (name_len == 0 || name_len > ROOM_NAME_MAX)
		return NULL;
	memset(&m, 0, sizeof m);
	m.name = (const uint8_t *)name;
	m.name_len = name_len;
	memcpy(m.ed, me->ed, ROOM_KEY_LEN);
	memcpy(m.bind, me->bind, ROOM_SIG_LEN);
	buf_init(&body, ROOM_BODY_MAX);
	buf_init(&rec, ROOM_EV_MAX);
	if (roomwire_put_body(&body, RK_CREATE, &m) != BUF_OK ||
	    roomwire_put_event(&rec, id, me->x, 1, 1, now_ms, RK_CREATE, buf_ptr(&body),
	        buf_len(&body), me->sk) != BUF_OK)
		goto out;
	if ((r = room_from_create(buf_ptr(&rec), buf_len(&rec), history)) != NULL && cb != NULL)
		cb(r, r->log[0], arg);
out:
	buf_free(&body);
	buf_free(&rec);
	return r;
}

/* Invited plus joined members. */
size_t
room_nmembers(const struct room *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->nau; i++)
		if (r->au[i].state == RM_INVITED || r->au[i].state == RM_JOINED)
			n++;
	return n;
}

/*
 * The membership fold (13.5): every member's state, and every event's
 * validity, from the log in total order.  Deterministic in the set of events.
 */
static void
room_fold(struct room *r)
{
	struct room_body_member m;
	struct room_author *a, *t;
	size_t i, members = 0;
	uint8_t k;

	for (i = 0; i < r->nau; i++) {
		r->au[i].state = RM_NONE;
		r->au[i].key = 0;
		r->au[i].gone = NULL;
	}
	for (i = 0; i < r->nlog; i++) {
		struct room_event *ev = r->log[i];
		int valid = 0, was = ev->valid;

		a = room_author(r, ev->e.author);
		/* the event must be signed with the key its author is a member by */
		if (a == NULL || (ev->e.kind != RK_CREATE && ev->keyidx != a->key))
			goto done;
		/* an author who equivocated: nothing of it counts from the rival pair on */
		if (a->frozen != 0 && ev->e.lamport >= a->frozen)
			goto done;
		switch (ev->e.kind) {
		case RK_CREATE:
			if (memcmp(ev->e.author, r->creator, ROOM_KEY_LEN) == 0 && ev->e.seq == 1 &&
			    a->state == RM_NONE) {
				a->state = RM_JOINED;
				a->key = ev->keyidx;
				members++;
				valid = 1;
			}
			break;
		case RK_MSG:
			valid = a->state == RM_JOINED;
			break;
		case RK_INVITE:
			if (a->state != RM_JOINED ||
			    roomwire_parse_body(RK_INVITE, ev->e.author, ev->e.body, ev->e.body_len, &m) != 0 ||
			    (t = room_author(r, m.x)) == NULL)
				break;
			if ((t->state == RM_NONE || t->state == RM_DECLINED || t->state == RM_LEFT) &&
			    members < ROOM_MEMBERS_MAX) {
				for (k = 0; k < t->nkeys && memcmp(t->ed[k], m.ed, ROOM_KEY_LEN) != 0; k++)
					;
				if (k == t->nkeys)
					break;   /* a key beyond ROOM_KEYS_PER_MEMBER */
				t->state = RM_INVITED;
				t->key = k;
				members++;
				valid = 1;
			}
			break;
		case RK_JOIN:
		case RK_DECLINE:
			if (a->state == RM_INVITED) {
				a->state = ev->e.kind == RK_JOIN ? RM_JOINED : RM_DECLINED;
				if (ev->e.kind == RK_DECLINE) {
					a->gone = ev;
					members--;
				}
				valid = 1;
			}
			break;
		case RK_LEAVE:
			if (a->state == RM_INVITED || a->state == RM_JOINED) {
				a->state = RM_LEFT;
				a->gone = ev;
				members--;
				valid = 1;
			}
			break;
		case RK_KICK:
			if (memcmp(ev->e.author, r->creator, ROOM_KEY_LEN) != 0 || a->state != RM_JOINED ||
			    roomwire_parse_body(RK_KICK, ev->e.author, ev->e.body, ev->e.body_len, &m) != 0 ||
			    memcmp(m.x, r->creator, ROOM_KEY_LEN) == 0 || (t = room_author(r, m.x)) == NULL ||
			    t->state == RM_KICKED)
				break;
			if (t->state == RM_INVITED || t->state == RM_JOINED)
				members--;
			t->state = RM_KICKED;
			t->gone = ev;
			valid = 1;
			break;
		default:
			break;   /* a kind we do not know: kept, relayed, ignored */
		}
done:
		ev->valid = (uint8_t)valid;
		if (was && !valid && ev->e.kind == RK_MSG && !ev->withdrawn) {
			ev->withdrawn = 1;
			r->st.withdrawn++;
		}
	}
}

/* Whether the live rate allows one more event from a. */
static int
rate_ok(struct room_author *a, uint64_t now_ms)
{
	if (now_ms > a->tokens_t) {
		a->tokens += (double)(now_ms - a->tokens_t) * ROOM_RATE / 1000.0;
		if (a->tokens > ROOM_RATE)
			a->tokens = ROOM_RATE;
	}
	a->tokens_t = now_ms;
	if (a->tokens < 1.0)
		return 0;
	a->tokens -= 1.0;
	return 1;
}

/* Whether two events are the same: the same signed bytes (the signature aside). */
static int
same_event(const struct rec_room_event *a, const struct rec_room_event *b)
{
	return a->signed_len == b->signed_len && memcmp(a->signed_p, b->signed_p, a->signed_len) == 0;
}

/* The event author x holds at seq of class cls (its index in *at), or NULL. */
static struct room_event *
held_at(const struct room *r, const uint8_t x[ROOM_KEY_LEN], int cls, uint64_t seq, size_t *at)
{
	size_t i;

	for (i = 0; i < r->nlog; i++)
		if (r->log[i]->e.seq == seq && ROOM_CLASS(r->log[i]->e.kind) == cls &&
		    memcmp(r->log[i]->e.author, x, ROOM_KEY_LEN) == 0) {
			if (at != NULL)
				*at = i;
			return r->log[i];
		}
	return NULL;
}

/* Which of a's keys verifies e; a->nkeys if none. */
static uint8_t
key_of(const struct room_author *a, const struct rec_room_event *e)
{
	uint8_t k;

	for (k = 0; k < a->nkeys && !roomwire_verify(e, a->ed[k]); k++)
		;
	return k;
}

/* Keep the proof of rivals w (the winner) and l of author a; 1 if it freezes a (or from earlier). */
static int
proof_keep(struct room *r, struct room_author *a, const struct room_event *w, const struct room_event *l)
{
	const struct room_event *lo = w->e.lamport <= l->e.lamport ? w : l;
	struct room_event *pf;
	struct buf b;
	size_t off;

	if (a->frozen != 0 && a->frozen <= lo->e.lamport)
		return 0;
	buf_init(&b, 2 * ROOM_EV_MAX + 64);
	off = 1 + ROOM_ID_LEN + 2 + (lo == w ? 0 : w->len + 2);
	if (roomwire_put_proof(&b, r->id, w->rec, w->len, l->rec, l->len) != BUF_OK ||
	    (pf = calloc(1, sizeof *pf)) == NULL) {
		buf_free(&b);
		return 0;
	}
	pf->len = buf_len(&b);
	if ((pf->rec = malloc(pf->len)) != NULL)
		memcpy(pf->rec, buf_ptr(&b), pf->len);
	buf_free(&b);
	/* rec is the ROOM_PROOF; e is its earlier rival, inside rec */
	if (pf->rec == NULL || roomwire_decode_event(pf->rec + off, lo->len, &pf->e) != WIRE_OK) {
		ev_free(pf);
		return 0;
	}
	ev_free(a->proof);
	a->proof = pf;
	a->frozen = lo->e.lamport;
	a->proof_new = 1;
	r->st.equivocation++;
	return 1;
}

/*
 * Rivals x and y of author a (checked: same class and seq, different, both
 * signed by a): the log keeps the one whose signed bytes hash smaller, a is
 * frozen from the smaller lamport of the two, the fold runs again.  Returns
 * 1 when the proof is new (it freezes a, or from an earlier lamport).
 */
static int
proof_apply(struct room *r, struct room_author *a, const struct room_event *x, const struct room_event *y)
{
	const struct room_event *w = x, *l = y;
	struct room_event *held, *nw;
	uint8_t hx[32], hy[32];
	int cls = ROOM_CLASS(x->e.kind), fresh;
	size_t at;

	crypto_generichash(hx, sizeof hx, x->e.signed_p, x->e.signed_len, NULL, 0);
	crypto_generichash(hy, sizeof hy, y->e.signed_p, y->e.signed_len, NULL, 0);
	if (memcmp(hy, hx, sizeof hx) < 0) {
		w = y;
		l = x;
	}
	fresh = proof_keep(r, a, w, l);   /* first: l may be the event held, freed below */
	if ((held = held_at(r, a->x, cls, x->e.seq, &at)) != NULL && same_event(&held->e, &l->e) &&
	    (nw = ev_new(w->rec, w->len)) != NULL) {
		/* the log keeps the winner (the slot just freed: no allocation, no failure) */
		memmove(r->log + at, r->log + at + 1, (r->nlog - at - 1) * sizeof *r->log);
		r->nlog--;
		nw->keyidx = key_of(a, &nw->e);
		nw->verified = 1;
		/* what was shown under that seq is withdrawn (its line goes by author and seq) */
		if (held->valid && held->e.kind == RK_MSG) {
			nw->withdrawn = 1;
			r->st.withdrawn++;
		}
		ev_free(held);
		(void)log_insert(r, nw);
	}
	a->chain[cls] = 0;   /* the members' digests of this sequence differ for good */
	room_fold(r);
	return fresh;
}

/* ev's seq is one a has accepted: a duplicate, or a rival of the event held (an equivocation). */
static enum room_verdict
seen_seq(struct room *r, struct room_author *a, struct room_event *ev)
{
	struct room_event *held;
	size_t i;

	/* the common case: the very event, where the order puts it */
	for (i = log_find(r, &ev->e); i < r->nlog && ev_cmp(&r->log[i]->e, &ev->e) == 0; i++)
		if (same_event(&r->log[i]->e, &ev->e))
			return RV_DUPLICATE;
	held = held_at(r, ev->e.author, ROOM_CLASS(ev->e.kind), ev->e.seq, NULL);
	if (held == NULL || same_event(&held->e, &ev->e))
		return RV_DUPLICATE;   /* the same, or dropped (history) or gone: cannot tell */
	if (key_of(a, &ev->e) == a->nkeys)
		return RV_FORGED;
	return proof_apply(r, a, held, ev) ? RV_EQUIVOCATION : RV_DUPLICATE;
}

/* The largest seq of a's class cls that we asked for (or hold pending) less than ROOM_ASK_MS ago. */
static uint64_t
asked_to(const struct room_author *a, int cls, uint64_t now_ms)
{
	if (a->asked_t == 0 || now_ms < a->asked_t || now_ms - a->asked_t >= ROOM_ASK_MS)
		return 0;
	return a->asked[cls];
}

/* Note that we asked for a's class cls up to seq (WANT) at now_ms. */
static void
asked_note(struct room_author *a, int cls, uint64_t seq, uint64_t now_ms)
{
	if (seq > asked_to(a, cls, now_ms))
		a->asked[cls] = seq;
	a->asked_t = now_ms;
}

/*
 * Try to accept ev (which the caller owns until it is accepted).  On
 * RV_ACCEPTED the room owns it.
 */
static enum room_verdict
accept_one(struct room *r, struct room_event *ev, int live, uint64_t now_ms,
           struct rec_room_want *want, int *want_set)
{
	struct room_body_member m;
	struct room_author *a, *t = NULL;
	const struct rec_room_event *e = &ev->e;
	int cls = ROOM_CLASS(e->kind);
	long at;
	uint8_t k;
	size_t i;
	int shown_after = 0;
	uint64_t asked;

	if (memcmp(e->room, r->id, ROOM_ID_LEN) != 0 || e->kind == RK_CREATE) {
		/* our CREATE again is a duplicate; any other CREATE is refused */
		if (e->kind == RK_CREATE && memcmp(e->room, r->id, ROOM_ID_LEN) == 0 &&
		    r->nlog > 0 && r->log[0]->len == ev->len && memcmp(r->log[0]->rec, ev->rec, ev->len) == 0)
			return RV_DUPLICATE;
		return RV_OTHER;
	}
	if ((a = room_author(r, e->author)) == NULL)
		return RV_PENDING;              /* its INVITE has not arrived */
	if (e->seq <= a->hwm[cls])
		return seen_seq(r, a, ev);
	if (ev->verified) {
		k = ev->keyidx;   /* waited in the pending set: checked already */
	} else {
		for (k = 0; k < a->nkeys && !roomwire_verify(e, a->ed[k]); k++)
			;
		if (k == a->nkeys)
			return RV_FORGED;
		ev->keyidx = k;
		ev->verified = 1;
	}
	asked = asked_to(a, cls, now_ms);
	if (live && e->seq <= asked)
		live = 0;   /* we asked for it: an answer, not live */
	if (live && a->rated[cls] > a->hwm[cls]) {
		/* the rest of a burst over the rate: pulled once (room_pull_wants), not one by one */
		if (e->seq > a->rated[cls])
			a->rated[cls] = e->seq;
		return RV_RATE;
	}
	if (e->seq > a->hwm[cls] + 1) {
		if (cls != ROOM_CLASS_MSG || (e->seq - 1 > a->skip_to && !r->replaying)) {
			/* ask once for what is not asked for yet (13.4) */
			if (want != NULL && (asked > a->hwm[cls] ? asked : a->hwm[cls]) + 1 < e->seq) {
				memcpy(want->room, r->id, ROOM_ID_LEN);
				memcpy(want->author, e->author, ROOM_KEY_LEN);
				want->cls = (uint8_t)cls;
				want->first = (asked > a->hwm[cls] ? asked : a->hwm[cls]) + 1;
				want->last = e->seq - 1;
				*want_set = 1;
			}
			if (want != NULL)
				asked_note(a, cls, e->seq, now_ms);
			return RV_PENDING;
		}
		/* a peer told us the messages in between are gone */
		a->floor = e->seq - 1;
		a->last_lamport[cls] = 0;
		a->chain[cls] = 0;   /* not known past a gap */
	}
	if (a->last_lamport[cls] != 0 && e->lamport <= a->last_lamport[cls])
		return RV_BADORDER;
	if (cls == ROOM_CLASS_OPS) {
		if (e->seq > ROOM_OPS_MAX || r->nops >= ROOM_LOG_OPS_MAX)
			return RV_CAPPED;
		if (roomwire_parse_body(e->kind, e->author, e->body, e->body_len, &m) != 0 &&
		    (e->kind == RK_INVITE || e->kind == RK_KICK || e->kind == RK_JOIN ||
		     e->kind == RK_DECLINE || e->kind == RK_LEAVE))
			return RV_BADBODY;
		if (e->kind == RK_INVITE) {
			if (!roomwire_bind_ok(m.bind, m.x, m.ed))
				return RV_BADBODY;
			if ((t = author_add(r, m.x, m.ed)) == NULL)
				return RV_CAPPED;
			a = room_author(r, e->author);   /* author_add may have moved the directory */
		}
	}
	if (live && !rate_ok(a, now_ms)) {
		a->rated[cls] = e->seq;
		return RV_RATE;
	}
	if ((at = log_insert(r, ev)) < 0)
		return RV_FULL;
	a->chain[cls] = ev->chain = e->seq == 1 ? chain_next(0, e) :
	    a->chain[cls] != 0 ? chain_next(a->chain[cls], e) : 0;
	a->hwm[cls] = e->seq;
	a->last_lamport[cls] = e->lamport;
	if (e->lamport > r->clock)
		r->clock = e->lamport;
	if (cls == ROOM_CLASS_MSG)
		r->nmsgs++;
	else
		r->nops++;
	/* late: something accepted earlier sorts after it */
	for (i = (size_t)at + 1; i < r->nlog && !shown_after; i++)
		shown_after = r->log[i]->valid;
	ev->late = (uint8_t)shown_after;
	if (ev->late)
		r->st.late++;
	if (e->kind != RK_MSG || ev->late)
		room_fold(r);
	else
		ev->valid = a->state == RM_JOINED && ev->keyidx == a->key &&
		    (a->frozen == 0 || e->lamport < a->frozen);
	if (!ev->valid)
		r->st.nonmember++;
	return RV_ACCEPTED;
}

/* Count a verdict in the room's stats. */
static void
count(struct room *r, enum room_verdict v)
{
	switch (v) {
	case RV_ACCEPTED:  break;
	case RV_DUPLICATE: r->st.duplicate++; break;
	case RV_PENDING:   r->st.pending++; break;
	case RV_FORGED:    r->st.forged++; break;
	case RV_BADORDER:  r->st.badorder++; break;
	case RV_BADBODY:   r->st.badbody++; break;
	case RV_CAPPED:    r->st.capped++; break;
	case RV_RATE:      r->st.rate++; break;
	case RV_FULL:      r->st.full++; break;
	case RV_OTHER:     r->st.other++; break;
	case RV_EQUIVOCATION: break;   /* counted where the proof is kept */
	}
}

/* Accept whatever pending events have become acceptable, until none does. */
static void
drain_pending(struct room *r, uint64_t now_ms, room_accept_fn *cb, void *arg)
{
	size_t i;
	int progress = 1;

	while (progress) {
		progress = 0;
		for (i = 0; i < r->npend; i++) {
			struct room_event *ev = r->pend[i];
			enum room_verdict v = accept_one(r, ev, 0, now_ms, NULL, NULL);

			if (v == RV_PENDING)
				continue;
			memmove(r->pend + i, r->pend + i + 1, (r->npend - i - 1) * sizeof *r->pend);
			r->npend--;
			i--;
			if (v == RV_ACCEPTED) {
				progress = 1;
				prune(r);
				if (cb != NULL)
					cb(r, ev, arg);
			} else {
				count(r, v);
				ev_free(ev);
			}
		}
	}
}

/* Take an event record from a peer. */
enum room_verdict
room_receive(struct room *r, const uint8_t *rec, size_t n, int live, uint64_t now_ms,
             room_accept_fn *cb, void *arg, struct rec_room_want *want, int *want_set)
{
	struct room_event *ev;
	enum room_verdict v;
	size_t i;
	int dummy = 0;

	if (want_set == NULL)
		want_set = &dummy;
	*want_set = 0;
	if (now_ms > r->now)
		r->now = now_ms;
	if ((ev = ev_new(rec, n)) == NULL) {
		count(r, RV_OTHER);
		return RV_OTHER;
	}
	v = accept_one(r, ev, live, now_ms, want, want_set);
	count(r, v);
	if (v == RV_PENDING) {
		/* the same event twice in the pending set is one */
		for (i = 0; i < r->npend; i++)
			if (r->pend[i]->len == ev->len && memcmp(r->pend[i]->rec, ev->rec, ev->len) == 0) {
				ev_free(ev);
				return RV_PENDING;
			}
		if (r->npend >= ROOM_PENDING_MAX) {
			ev_free(ev);
			count(r, RV_FULL);
			return RV_FULL;
		}
		if (r->pend == NULL && (r->pend = calloc(ROOM_PENDING_MAX, sizeof *r->pend)) == NULL) {
			ev_free(ev);
			return RV_FULL;
		}
		r->pend[r->npend++] = ev;
		return RV_PENDING;
	}
	if (v != RV_ACCEPTED) {
		ev_free(ev);
		return v;
	}
	if (cb != NULL)
		cb(r, ev, arg);
	prune(r);   /* after cb: the caller may keep a line of an event pruned at once */
	drain_pending(r, now_ms, cb, arg);
	return RV_ACCEPTED;
}

/* Write an event of ours. */
int
room_write(struct room *r, const struct room_self *me, uint8_t kind, const void *body, size_t len,
           uint64_t now_ms, room_accept_fn *cb, void *arg)
{
	struct room_author *a = room_author(r, me->x);
	struct buf rec;
	enum room_verdict v;
	int rc = -2;

	if (a == NULL)
		return -1;
	switch (kind) {
	case RK_MSG:
	case RK_INVITE:
		if (a->state != RM_JOINED)
			return -1;
		break;
	case RK_JOIN:
	case RK_DECLINE:
		if (a->state != RM_INVITED)
			return -1;
		break;
	case RK_LEAVE:
		if (a->state != RM_INVITED && a->state != RM_JOINED)
			return -1;
		break;
	case RK_KICK:
		if (a->state != RM_JOINED || memcmp(me->x, r->creator, ROOM_KEY_LEN) != 0)
			return -1;
		break;
	default:
		return -1;
	}
	if (kind != RK_MSG && a->hwm[ROOM_CLASS_OPS] >= ROOM_OPS_MAX)
		return -1;
	buf_init(&rec, ROOM_EV_MAX);
	if (roomwire_put_event(&rec, r->id, me->x, a->hwm[ROOM_CLASS(kind)] + 1, r->clock + 1, now_ms, kind, body, len,
	        me->sk) != BUF_OK)
		goto out;
	v = room_receive(r, buf_ptr(&rec), buf_len(&rec), 0, now_ms, cb, arg, NULL, NULL);
	rc = v == RV_ACCEPTED ? 0 : -1;
out:
	buf_free(&rec);
	return rc;
}

/* Write a message. */
int
room_send_text(struct room *r, const struct room_self *me, const char *text, size_t len,
               uint64_t now_ms, room_accept_fn *cb, void *arg)
{
	if (len > WIRE_TEXT_MAX)
		return -2;
	return room_write(r, me, RK_MSG, text, len, now_ms, cb, arg);
}

/* Invite x with its signing key and binding. */
int
room_invite(struct room *r, const struct room_self *me, const uint8_t x[ROOM_KEY_LEN],
            const uint8_t ed[ROOM_KEY_LEN], const uint8_t bind[ROOM_SIG_LEN],
            uint64_t now_ms, room_accept_fn *cb, void *arg)
{
	struct room_body_member m;
	struct buf body;
	int rc;

	if (!roomwire_bind_ok(bind, x, ed))
		return -1;
	memset(&m, 0, sizeof m);
	memcpy(m.x, x, ROOM_KEY_LEN);
	memcpy(m.ed, ed, ROOM_KEY_LEN);
	memcpy(m.bind, bind, ROOM_SIG_LEN);
	buf_init(&body, ROOM_BODY_MAX);
	rc = roomwire_put_body(&body, RK_INVITE, &m) == BUF_OK
	    ? room_write(r, me, RK_INVITE, buf_ptr(&body), buf_len(&body), now_ms, cb, arg) : -2;
	buf_free(&body);
	return rc;
}

/* Kick x (creator only). */
int
room_kick(struct room *r, const struct room_self *me, const uint8_t x[ROOM_KEY_LEN],
          uint64_t now_ms, room_accept_fn *cb, void *arg)
{
	enum room_mstate s = room_state(r, x);

	if (memcmp(x, me->x, ROOM_KEY_LEN) == 0 || s == RM_NONE || s == RM_KICKED)
		return -1;
	return room_write(r, me, RK_KICK, x, ROOM_KEY_LEN, now_ms, cb, arg);
}

/* A member's state. */
enum room_mstate
room_state(const struct room *r, const uint8_t x[ROOM_KEY_LEN])
{
	const struct room_author *a = room_author(r, x);

	return a != NULL ? a->state : RM_NONE;
}

/* Whether x may receive ev. */
int
room_may_receive(const struct room *r, const uint8_t x[ROOM_KEY_LEN], const struct room_event *ev)
{
	const struct room_author *a = room_author(r, x);

	if (a == NULL)
		return 0;
	switch (a->state) {
	case RM_JOINED:
		return 1;
	case RM_INVITED:
		return ev->e.kind != RK_MSG;
	case RM_LEFT:
	case RM_KICKED:
	case RM_DECLINED:
		if (a->gone == NULL || ev_cmp(&ev->e, &a->gone->e) > 0)
			return 0;   /* written after it was gone */
		return a->state != RM_DECLINED || ev->e.kind != RK_MSG;
	case RM_NONE:
		break;
	}
	return 0;
}

/* Whether x may take part in anti-entropy at all (it had a place in the room). */
static int
may_sync(const struct room *r, const uint8_t x[ROOM_KEY_LEN])
{
	return room_state(r, x) != RM_NONE;
}

/*
 * The peers an accepted event goes to: not valid, nobody; ours (from NULL),
 * every member that may receive it; from its author directly, nobody (the
 * author sent it to everyone it is connected to); relayed, everyone but the
 * sender and the author.  The invitee of an INVITE gets it too.
 */
size_t
room_fanout(const struct room *r, const struct room_event *ev, const uint8_t *from,
            const uint8_t me[ROOM_KEY_LEN], const uint8_t **out, size_t max)
{
	size_t i, n = 0;

	if (!ev->valid)
		return 0;
	if (from != NULL && memcmp(from, ev->e.author, ROOM_KEY_LEN) == 0)
		return 0;
	for (i = 0; i < r->nau && n < max; i++) {
		const uint8_t *x = r->au[i].x;

		if (memcmp(x, me, ROOM_KEY_LEN) == 0 || memcmp(x, ev->e.author, ROOM_KEY_LEN) == 0 ||
		    (from != NULL && memcmp(x, from, ROOM_KEY_LEN) == 0))
			continue;
		if (room_may_receive(r, x, ev))
			out[n++] = x;
	}
	return n;
}

/* Encode our HAVE (all authors, or those in only). */
int
room_put_have(const struct room *r, struct buf *b, const uint8_t (*only)[ROOM_KEY_LEN], size_t n)
{
	struct room_have_entry e;
	size_t start = buf_len(b), i, j, count = 0;
	int rc;

	if ((rc = roomwire_begin_have(b, r->id)) != BUF_OK)
		return rc;
	for (i = 0; i < r->nau && count < ROOM_HAVE_MAX; i++) {
		if (only != NULL) {
			for (j = 0; j < n && memcmp(only[j], r->au[i].x, ROOM_KEY_LEN) != 0; j++)
				;
			if (j == n)
				continue;
		}
		if (r->au[i].hwm[ROOM_CLASS_OPS] == 0 && r->au[i].hwm[ROOM_CLASS_MSG] == 0)
			continue;
		memcpy(e.author, r->au[i].x, ROOM_KEY_LEN);
		e.hwm[ROOM_CLASS_OPS] = r->au[i].hwm[ROOM_CLASS_OPS];
		e.hwm[ROOM_CLASS_MSG] = r->au[i].hwm[ROOM_CLASS_MSG];
		e.floor = r->au[i].floor;
		e.chain[ROOM_CLASS_OPS] = r->au[i].chain[ROOM_CLASS_OPS];
		e.chain[ROOM_CLASS_MSG] = r->au[i].chain[ROOM_CLASS_MSG];
		e.frozen = r->au[i].frozen;
		if ((rc = roomwire_put_have_entry(b, &e)) != BUF_OK)
			return rc;
		count++;
	}
	roomwire_end_have(b, start, (uint16_t)count);
	return BUF_OK;
}

/* Make room in peer p's seen for every author; -1 when out of memory. */
static int
seen_grow(const struct room *r, struct room_author *p)
{
	uint64_t *ns;

	if (p->nseen >= r->nau)
		return 0;
	if ((ns = realloc(p->seen, ROOM_CLASSES * r->nau * sizeof *ns)) == NULL)
		return -1;
	memset(ns + ROOM_CLASSES * p->nseen, 0, ROOM_CLASSES * (r->nau - p->nseen) * sizeof *ns);
	p->seen = ns;
	p->nseen = r->nau;
	return 0;
}

/* Peer p has ev on its way (we sent it): a HAVE of it within ROOM_ASK_MS does not bring it again. */
static void
seen_raise(struct room *r, struct room_author *p, const struct room_event *ev)
{
	struct room_author *a = room_author(r, ev->e.author);
	size_t at;

	if (p == NULL || a == NULL || seen_grow(r, p) != 0)
		return;
	at = ROOM_CLASSES * (size_t)(a - r->au) + ROOM_CLASS(ev->e.kind);
	if (ev->e.seq > p->seen[at])
		p->seen[at] = ev->e.seq;
	p->push_t = r->now;
}

/* Event ev went to peer to (its fan-out): in flight, not pushed again on a HAVE. */
void
room_note_push(struct room *r, const uint8_t to[ROOM_KEY_LEN], const struct room_event *ev)
{
	seen_raise(r, room_author(r, to), ev);
}

/* What we sent peer to may be lost: its next HAVE is believed. */
void
room_push_lost(struct room *r, const uint8_t to[ROOM_KEY_LEN])
{
	struct room_author *p = room_author(r, to);

	if (p != NULL)
		p->push_t = 0;
}

/* Push the events of author a from seq first to last that to may receive; returns how many. */
static size_t
push_range(struct room *r, const uint8_t *to, const uint8_t author[ROOM_KEY_LEN], int cls,
           uint64_t first, uint64_t last, size_t max, room_push_fn *cb, void *arg, int *more)
{
	size_t i, n = 0;
	uint64_t want = first;

	/* the log is in total order; an author's events in it are in seq order too */
	for (i = 0; i < r->nlog; i++) {
		const struct room_event *ev = r->log[i];

		if (ROOM_CLASS(ev->e.kind) != cls || ev->e.seq < want || ev->e.seq > last ||
		    memcmp(ev->e.author, author, ROOM_KEY_LEN) != 0)
			continue;
		if (!room_may_receive(r, to, ev))
			continue;
		if (n == max) {
			*more = 1;
			break;
		}
		cb(r, ev, arg);
		seen_raise(r, room_author(r, to), ev);
		n++;
		want = ev->e.seq + 1;
	}
	return n;
}

/*
 * Push to peer to, in total order (so that every event comes after those its
 * author had seen: an INVITE before its invitee's events), every event it
 * may receive with a seq above theirs[] (indexed like r->au).
 */
static int
push_after(struct room *r, const uint8_t to[ROOM_KEY_LEN], uint64_t *theirs, int stale,
           uint8_t *proofd, room_push_fn *cb, void *arg, int *more)
{
	size_t i, pushed = 0;
	struct room_author *a;

	for (i = 0; i < r->nlog; i++) {
		const struct room_event *ev = r->log[i];

		if ((a = room_author(r, ev->e.author)) == NULL ||
		    ev->e.seq <= theirs[ROOM_CLASSES * (size_t)(a - r->au) + ROOM_CLASS(ev->e.kind)] ||
		    (!room_may_receive(r, to, ev) && !(stale && ev->e.kind == RK_MSG)))
			continue;
		if (pushed == ROOM_PUSH_MAX) {
			*more = 1;
			break;
		}
		/* an equivocating author's events go after the proof that they do not count */
		if (a->proof != NULL && ev->e.lamport >= a->frozen && !proofd[a - r->au] &&
		    room_may_receive_proof(r, to, a)) {
			cb(r, a->proof, arg);
			proofd[a - r->au] = 1;
		}
		cb(r, ev, arg);
		pushed++;
		/* it holds it now (or its next HAVE says otherwise) */
		theirs[ROOM_CLASSES * (size_t)(a - r->au) + ROOM_CLASS(ev->e.kind)] = ev->e.seq;
	}
	return (int)pushed;
}

/*
 * What peer p holds, as far as we know, into theirs (indexed like r->au):
 * from its earlier HAVEs, so that an announcement listing a few authors does
 * not count the others as 0 (13.6).
 */
static void
seen_get(const struct room *r, const struct room_author *p, uint64_t *theirs)
{
	size_t n = p->nseen < r->nau ? p->nseen : r->nau;

	if (p->seen != NULL)
		memcpy(theirs, p->seen, ROOM_CLASSES * n * sizeof *theirs);
}

/* Remember theirs as what peer p holds (kept as it was when out of memory). */
static void
seen_put(const struct room *r, struct room_author *p, const uint64_t *theirs)
{
	if (seen_grow(r, p) != 0)
		return;
	memcpy(p->seen, theirs, ROOM_CLASSES * r->nau * sizeof *theirs);
}

/*
 * What a HAVE entry of peer to says of author a beyond the hwms: a proof
 * that a equivocates which to lacks goes at once (proofd); a digest of a's
 * sequence that differs from ours at the same seq means one of us holds an
 * event the other holds a rival of: push ours of that class, so that to
 * finds the rival (and sends us the proof by its next HAVE); at most *budget
 * events for the whole HAVE, so that one HAVE cannot ask for more than a
 * WANT could.
 */
static size_t
have_check(struct room *r, const uint8_t to[ROOM_KEY_LEN], struct room_author *a,
           const struct room_have_entry *e, uint8_t *proofd, size_t *budget, room_push_fn *cb, void *arg)
{
	const struct room_event *ev;
	size_t n = 0, k;
	uint64_t ours;
	int cls, more = 0;

	if (a->proof != NULL && (e->frozen == 0 || e->frozen > a->frozen) && room_may_receive_proof(r, to, a)) {
		cb(r, a->proof, arg);
		proofd[a - r->au] = 1;
		n++;
	}
	for (cls = 0; cls < ROOM_CLASSES; cls++) {
		if (e->chain[cls] == 0 || e->hwm[cls] == 0 || e->hwm[cls] > a->hwm[cls])
			continue;
		if (e->hwm[cls] == a->hwm[cls])
			ours = a->chain[cls];
		else
			ours = (ev = held_at(r, a->x, cls, e->hwm[cls], NULL)) != NULL ? ev->chain : 0;
		if (ours == 0 || ours == e->chain[cls] || a->chain_pushed[cls] == e->chain[cls] || *budget == 0)
			continue;
		/* once per digest seen: a pair neither side can resolve is not pushed again and again */
		a->chain_pushed[cls] = e->chain[cls];
		k = push_range(r, to, a->x, cls, e->hwm[cls] > ROOM_PUSH_MAX ? e->hwm[cls] - ROOM_PUSH_MAX + 1 : 1,
		    e->hwm[cls], *budget, cb, arg, &more);
		*budget -= k;
		n += k;
	}
	return n;
}

/* Raise peer p's seen to what theirs says we pushed it (push_all). */
static void
seen_merge(struct room *r, struct room_author *p, const uint64_t *theirs)
{
	size_t i;

	if (p == NULL || seen_grow(r, p) != 0)
		return;
	for (i = 0; i < ROOM_CLASSES * r->nau; i++)
		if (theirs[i] > p->seen[i])
			p->seen[i] = theirs[i];
	p->push_t = r->now;
}

/* A HAVE from peer from. */
int
room_on_have(struct room *r, const uint8_t from[ROOM_KEY_LEN], const uint8_t *rec, size_t n,
             room_push_fn *cb, void *arg, int *more)
{
	struct rec_room_have h;
	struct room_have_entry e;
	struct room_author *a, *p;
	uint64_t *theirs;
	uint8_t *proofd;
	size_t extra = 0, budget = ROOM_PUSH_MAX, at, i;
	int dummy, rc, stale = 0, inflight;

	if (more == NULL)
		more = &dummy;
	*more = 0;
	if (roomwire_decode_have(rec, n, &h) != WIRE_OK || memcmp(h.room, r->id, ROOM_ID_LEN) != 0)
		return -1;
	if (!may_sync(r, from))
		return -1;
	if ((theirs = calloc(ROOM_CLASSES * (r->nau ? r->nau : 1), sizeof *theirs)) == NULL)
		return -1;
	if ((p = room_author(r, from)) != NULL) {
		seen_get(r, p, theirs);
		/* it holds its own events, listed or not: never push an author its own */
		at = ROOM_CLASSES * (size_t)(p - r->au);
		for (i = 0; i < ROOM_CLASSES; i++)
			if (theirs[at + i] < p->hwm[i])
				theirs[at + i] = p->hwm[i];
	}
	if ((proofd = calloc(r->nau ? r->nau : 1, 1)) == NULL) {
		free(theirs);
		return -1;
	}
	/* what we pushed it lately is on its way: a HAVE sent before it arrived does not bring it again */
	inflight = p != NULL && p->push_t != 0 && r->now >= p->push_t && r->now - p->push_t < ROOM_ASK_MS;
	while (roomwire_next_have(&h, &e) == 0) {
		if ((a = room_author(r, e.author)) == NULL)
			continue;
		/*
		 * An invitee whose own membership events are ahead of what we
		 * have of them (its JOIN has not reached us): our view of it is
		 * stale, and it may have joined, so it gets messages too.  It
		 * could have them by joining anyway.
		 */
		if (memcmp(e.author, from, ROOM_KEY_LEN) == 0 && a->state == RM_INVITED &&
		    e.hwm[ROOM_CLASS_OPS] > a->hwm[ROOM_CLASS_OPS])
			stale = 1;
		at = ROOM_CLASSES * (size_t)(a - r->au);
		if (!inflight || e.hwm[ROOM_CLASS_OPS] > theirs[at + ROOM_CLASS_OPS])
			theirs[at + ROOM_CLASS_OPS] = e.hwm[ROOM_CLASS_OPS];
		if (!inflight || e.hwm[ROOM_CLASS_MSG] > theirs[at + ROOM_CLASS_MSG])
			theirs[at + ROOM_CLASS_MSG] = e.hwm[ROOM_CLASS_MSG];
		/* they no longer hold seqs up to their floor: we may skip those */
		if (e.floor > a->hwm[ROOM_CLASS_MSG] && e.floor > a->skip_to)
			a->skip_to = e.floor;
		extra += have_check(r, from, a, &e, proofd, &budget, cb, arg);
	}
	rc = push_after(r, from, theirs, stale, proofd, cb, arg, more);
	if (p != NULL) {
		seen_put(r, p, theirs);
		if (rc > 0)
			p->push_t = r->now;
	}
	free(theirs);
	free(proofd);
	return rc + (int)extra;
}

/* Everything peer to may receive (an invitee that knows nothing of the room yet). */
int
room_push_all(struct room *r, const uint8_t to[ROOM_KEY_LEN], room_push_fn *cb, void *arg, int *more)
{
	uint64_t *theirs;
	uint8_t *proofd;
	int dummy, rc = -1;

	if (more == NULL)
		more = &dummy;
	*more = 0;
	if (!may_sync(r, to))
		return -1;
	theirs = calloc(ROOM_CLASSES * (r->nau ? r->nau : 1), sizeof *theirs);
	proofd = calloc(r->nau ? r->nau : 1, 1);
	if (theirs != NULL && proofd != NULL)
		rc = push_after(r, to, theirs, 0, proofd, cb, arg, more);
	if (theirs != NULL)
		seen_merge(r, room_author(r, to), theirs);
	free(theirs);
	free(proofd);
	return rc;
}

/* Whether answering this HAVE would leave a gap the asker cannot explain. */
int
room_have_below_floor(const struct room *r, const uint8_t *rec, size_t n)
{
	struct rec_room_have h;
	struct room_have_entry e;
	const struct room_author *a;
	uint64_t *theirs;
	size_t i;
	int below = 0;

	if (roomwire_decode_have(rec, n, &h) != WIRE_OK || memcmp(h.room, r->id, ROOM_ID_LEN) != 0)
		return 0;
	if ((theirs = calloc(r->nau ? r->nau : 1, sizeof *theirs)) == NULL)
		return 0;
	while (roomwire_next_have(&h, &e) == 0)
		if ((a = room_author(r, e.author)) != NULL)
			theirs[a - r->au] = e.hwm[ROOM_CLASS_MSG];
	for (i = 0; i < r->nau && !below; i++)
		below = r->au[i].floor > 0 && theirs[i] < r->au[i].floor;
	free(theirs);
	return below;
}

/* The ranges a HAVE shows its sender holds and we lack. */
size_t
room_have_wants(struct room *r, const uint8_t *rec, size_t n, int msgs,
                struct rec_room_want *out, size_t max)
{
	struct rec_room_have h;
	struct room_have_entry e;
	struct room_author *a;
	uint64_t ours, budget = ROOM_PUSH_MAX;
	size_t k = 0;
	int cls;

	if (roomwire_decode_have(rec, n, &h) != WIRE_OK || memcmp(h.room, r->id, ROOM_ID_LEN) != 0)
		return 0;
	while (k < max && budget > 0 && roomwire_next_have(&h, &e) == 0) {
		a = room_author(r, e.author);
		for (cls = 0; cls < (msgs ? ROOM_CLASSES : 1) && k < max && budget > 0; cls++) {
			ours = a != NULL ? a->hwm[cls] : 0;
			if (cls == ROOM_CLASS_MSG && a != NULL && a->skip_to > ours)
				ours = a->skip_to;   /* gone: do not ask */
			if (a != NULL && asked_to(a, cls, r->now) > ours)
				ours = asked_to(a, cls, r->now);   /* asked already: once */
			if (e.hwm[cls] <= ours)
				continue;
			memcpy(out[k].room, r->id, ROOM_ID_LEN);
			memcpy(out[k].author, e.author, ROOM_KEY_LEN);
			out[k].cls = (uint8_t)cls;
			out[k].first = ours + 1;
			out[k].last = e.hwm[cls] - ours > budget ? ours + budget : e.hwm[cls];
			budget -= out[k].last - ours;
			if (a != NULL)
				asked_note(a, cls, out[k].last, r->now);
			k++;
		}
	}
	return k;
}

/* The WANTs for the rest of x's events refused for the rate, asked of x once. */
size_t
room_pull_wants(struct room *r, const uint8_t x[ROOM_KEY_LEN], struct rec_room_want *out, size_t max)
{
	struct room_author *a = room_author(r, x);
	uint64_t from;
	size_t k = 0;
	int cls;

	for (cls = 0; a != NULL && cls < ROOM_CLASSES && k < max; cls++) {
		from = asked_to(a, cls, r->now) > a->hwm[cls] ? asked_to(a, cls, r->now) : a->hwm[cls];
		if (a->rated[cls] <= from)
			continue;
		memcpy(out[k].room, r->id, ROOM_ID_LEN);
		memcpy(out[k].author, x, ROOM_KEY_LEN);
		out[k].cls = (uint8_t)cls;
		out[k].first = from + 1;
		out[k].last = a->rated[cls] - from > ROOM_PUSH_MAX ? from + ROOM_PUSH_MAX : a->rated[cls];
		asked_note(a, cls, out[k].last, r->now);
		k++;
	}
	return k;
}

/* Whether x has events refused for the rate that no pull in flight asks for (room_pull_wants asks ROOM_PUSH_MAX). */
int
room_pull_rest(const struct room *r, const uint8_t x[ROOM_KEY_LEN])
{
	const struct room_author *a = room_author(r, x);
	uint64_t from;
	int cls;

	for (cls = 0; a != NULL && cls < ROOM_CLASSES; cls++) {
		from = asked_to(a, cls, r->now) > a->hwm[cls] ? asked_to(a, cls, r->now) : a->hwm[cls];
		if (a->rated[cls] > from)
			return 1;
	}
	return 0;
}

/* A WANT from peer from. */
int
room_on_want(struct room *r, const uint8_t from[ROOM_KEY_LEN], const struct rec_room_want *w,
             room_push_fn *cb, void *arg)
{
	int more = 0;

	if (memcmp(w->room, r->id, ROOM_ID_LEN) != 0 || !may_sync(r, from))
		return -1;
	return (int)push_range(r, from, w->author, w->cls, w->first, w->last, ROOM_PUSH_MAX, cb, arg, &more);
}

/* Decode the two rivals of a ROOM_PROOF into x and y (views into rec); 0, or -1. */
static int
proof_decode(const uint8_t *rec, size_t n, struct room_event *x, struct room_event *y)
{
	struct rec_room_proof f;

	memset(x, 0, sizeof *x);
	memset(y, 0, sizeof *y);
	if (roomwire_decode_proof(rec, n, &f) != WIRE_OK ||
	    roomwire_decode_event(f.ev[0], f.len[0], &x->e) != WIRE_OK ||
	    roomwire_decode_event(f.ev[1], f.len[1], &y->e) != WIRE_OK)
		return -1;
	x->rec = (uint8_t *)(uintptr_t)f.ev[0];
	x->len = f.len[0];
	y->rec = (uint8_t *)(uintptr_t)f.ev[1];
	y->len = f.len[1];
	return 0;
}

/* A ROOM_PROOF from a peer, or from our log. */
enum room_verdict
room_on_proof(struct room *r, const uint8_t *rec, size_t n)
{
	struct room_event x, y;
	struct room_author *a;

	if (proof_decode(rec, n, &x, &y) != 0 || memcmp(x.e.room, r->id, ROOM_ID_LEN) != 0 ||
	    memcmp(x.e.author, y.e.author, ROOM_KEY_LEN) != 0 || x.e.seq != y.e.seq ||
	    ROOM_CLASS(x.e.kind) != ROOM_CLASS(y.e.kind) || x.e.kind == RK_CREATE || y.e.kind == RK_CREATE ||
	    same_event(&x.e, &y.e)) {
		r->st.other++;
		return RV_OTHER;
	}
	if ((a = room_author(r, x.e.author)) == NULL)
		return RV_PENDING;   /* it comes again, with the next HAVE of whoever has it */
	if (key_of(a, &x.e) == a->nkeys || key_of(a, &y.e) == a->nkeys) {
		r->st.forged++;
		return RV_FORGED;
	}
	return proof_apply(r, a, &x, &y) ? RV_EQUIVOCATION : RV_DUPLICATE;
}

/* Whether x may receive author a's proof: both of its rivals. */
int
room_may_receive_proof(const struct room *r, const uint8_t x[ROOM_KEY_LEN], const struct room_author *a)
{
	struct room_event u, v;

	if (a->proof == NULL || proof_decode(a->proof->rec, a->proof->len, &u, &v) != 0)
		return 0;
	return room_may_receive(r, x, &u) && room_may_receive(r, x, &v);
}

/* After loading: seqs up to floor of author x are gone. */
void
room_set_floor(struct room *r, const uint8_t x[ROOM_KEY_LEN], uint64_t floor)
{
	struct room_author *a = room_author(r, x);

	if (a != NULL && floor > a->skip_to)
		a->skip_to = floor;
}

/* A digest of the valid events in order and every member's state. */
void
room_digest(const struct room *r, uint8_t out[32])
{
	crypto_generichash_state st;
	uint8_t s, key[ROOM_KEY_LEN];
	size_t i, j, done;

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, r->id, ROOM_ID_LEN);
	for (i = 0; i < r->nlog; i++)
		if (r->log[i]->valid)
			crypto_generichash_update(&st, r->log[i]->rec, r->log[i]->len);
	/* members in key order, so that the directory's arrival order does not count */
	memset(key, 0, sizeof key);
	for (done = 0; done < r->nau; done++) {
		const struct room_author *best = NULL;

		for (j = 0; j < r->nau; j++) {
			const struct room_author *a = &r->au[j];

			if ((done == 0 || memcmp(a->x, key, ROOM_KEY_LEN) > 0) &&
			    (best == NULL || memcmp(a->x, best->x, ROOM_KEY_LEN) < 0))
				best = a;
		}
		if (best == NULL)
			break;
		memcpy(key, best->x, ROOM_KEY_LEN);
		if (best->state == RM_NONE)
			continue;
		s = (uint8_t)best->state;
		crypto_generichash_update(&st, best->x, ROOM_KEY_LEN);
		crypto_generichash_update(&st, &s, 1);
	}
	crypto_generichash_final(&st, out, 32);
}

/* Names for logs and the front-ends. */
const char *
room_mstate_name(enum room_mstate s)
{
	switch (s) {
	case RM_NONE:     return "none";
	case RM_INVITED:  return "invited";
	case RM_JOINED:   return "joined";
	case RM_DECLINED: return "declined";
	case RM_LEFT:     return "left";
	case RM_KICKED:   return "kicked";
	}
	return "none";
}

/* Why an event was not accepted, for logs. */
const char *
room_verdict_name(enum room_verdict v)
{
	switch (v) {
	case RV_ACCEPTED:  return "accepted";
	case RV_DUPLICATE: return "duplicate or replayed";
	case RV_PENDING:   return "pending";
	case RV_FORGED:    return "bad signature";
	case RV_BADORDER:  return "lamport clock not increasing";
	case RV_BADBODY:   return "malformed body";
	case RV_CAPPED:    return "over the room's limits";
	case RV_RATE:      return "over the rate limit";
	case RV_FULL:      return "pending set full";
	case RV_OTHER:     return "not of this room";
	case RV_EQUIVOCATION: return "a second event with that seq: its author equivocates";
	}
	return "?";
}
