/* roomwire.c - encode, decode, sign and verify the room records (PROTOCOL.md 13). */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "roomwire.h"
#include "wire.h"

#define EVENT_DOMAIN "confab-room-event-1"
#define BIND_DOMAIN  "confab-room-bind-1"
#define SEED_DOMAIN  "confab-room-signing-key-1"

/* Decode a ROOM_EVENT: fixed header, str16 body, signature, nothing after. */
int
roomwire_decode_event(const uint8_t *p, size_t n, struct rec_room_event *e)
{
	struct buf b;
	uint8_t type;

	buf_view(&b, p, n);
	if (buf_get_u8(&b, &type) != BUF_OK || type != REC_ROOM_EVENT)
		return WIRE_EMALFORMED;
	e->signed_p = buf_ptr(&b);
	if (buf_get(&b, e->room, ROOM_ID_LEN) != BUF_OK ||
	    buf_get(&b, e->author, ROOM_KEY_LEN) != BUF_OK ||
	    buf_get_u64(&b, &e->seq) != BUF_OK ||
	    buf_get_u64(&b, &e->lamport) != BUF_OK ||
	    buf_get_u64(&b, &e->ts_ms) != BUF_OK ||
	    buf_get_u8(&b, &e->kind) != BUF_OK ||
	    buf_get_str16(&b, &e->body, &e->body_len, ROOM_BODY_MAX) != BUF_OK)
		return WIRE_EMALFORMED;
	e->signed_len = (size_t)(buf_ptr(&b) - e->signed_p);
	if (buf_get_ptr(&b, &e->sig, ROOM_SIG_LEN) != BUF_OK || buf_get_end(&b) != BUF_OK)
		return WIRE_EMALFORMED;
	if (e->seq == 0 || e->lamport == 0)
		return WIRE_EMALFORMED;
	return WIRE_OK;
}

/* Read one HAVE entry. */
static int
get_have(struct buf *b, struct room_have_entry *e)
{
	if (buf_get(b, e->author, ROOM_KEY_LEN) != BUF_OK ||
	    buf_get_u64(b, &e->hwm[ROOM_CLASS_OPS]) != BUF_OK ||
	    buf_get_u64(b, &e->hwm[ROOM_CLASS_MSG]) != BUF_OK ||
	    buf_get_u64(b, &e->floor) != BUF_OK ||
	    buf_get_u64(b, &e->chain[ROOM_CLASS_OPS]) != BUF_OK ||
	    buf_get_u64(b, &e->chain[ROOM_CLASS_MSG]) != BUF_OK ||
	    buf_get_u64(b, &e->frozen) != BUF_OK)
		return -1;
	return 0;
}

/* Decode a ROOM_HAVE and check that exactly count entries follow. */
int
roomwire_decode_have(const uint8_t *p, size_t n, struct rec_room_have *h)
{
	struct room_have_entry e;
	struct buf b;
	uint8_t type;
	uint16_t i;

	buf_view(&b, p, n);
	if (buf_get_u8(&b, &type) != BUF_OK || type != REC_ROOM_HAVE ||
	    buf_get(&b, h->room, ROOM_ID_LEN) != BUF_OK ||
	    buf_get_u16(&b, &h->count) != BUF_OK || h->count > ROOM_HAVE_MAX)
		return WIRE_EMALFORMED;
	h->p = buf_ptr(&b);
	h->len = buf_len(&b);
	for (i = 0; i < h->count; i++)
		if (get_have(&b, &e) != 0)
			return WIRE_EMALFORMED;
	return buf_get_end(&b) == BUF_OK ? WIRE_OK : WIRE_EMALFORMED;
}

/* The next entry of a decoded HAVE. */
int
roomwire_next_have(struct rec_room_have *h, struct room_have_entry *e)
{
	struct buf b;

	if (h->len == 0)
		return -1;
	buf_view(&b, h->p, h->len);
	if (get_have(&b, e) != 0)
		return -1;
	h->p = buf_ptr(&b);
	h->len = buf_len(&b);
	return 0;
}

/* Decode a ROOM_WANT: a known class, first <= last, first >= 1. */
int
roomwire_decode_want(const uint8_t *p, size_t n, struct rec_room_want *w)
{
	struct buf b;
	uint8_t type;

	buf_view(&b, p, n);
	if (buf_get_u8(&b, &type) != BUF_OK || type != REC_ROOM_WANT ||
	    buf_get(&b, w->room, ROOM_ID_LEN) != BUF_OK ||
	    buf_get(&b, w->author, ROOM_KEY_LEN) != BUF_OK ||
	    buf_get_u8(&b, &w->cls) != BUF_OK ||
	    buf_get_u64(&b, &w->first) != BUF_OK ||
	    buf_get_u64(&b, &w->last) != BUF_OK || buf_get_end(&b) != BUF_OK)
		return WIRE_EMALFORMED;
	if (w->cls >= ROOM_CLASSES || w->first == 0 || w->first > w->last)
		return WIRE_EMALFORMED;
	return WIRE_OK;
}

/* Decode a ROOM_PROOF: room id, two str16 event records of that room, nothing after. */
int
roomwire_decode_proof(const uint8_t *p, size_t n, struct rec_room_proof *f)
{
	struct rec_room_event e;
	struct buf b;
	uint8_t type;
	int i;

	buf_view(&b, p, n);
	if (buf_get_u8(&b, &type) != BUF_OK || type != REC_ROOM_PROOF ||
	    buf_get(&b, f->room, ROOM_ID_LEN) != BUF_OK)
		return WIRE_EMALFORMED;
	for (i = 0; i < 2; i++)
		if (buf_get_str16(&b, &f->ev[i], &f->len[i], ROOM_EV_MAX) != BUF_OK ||
		    roomwire_decode_event(f->ev[i], f->len[i], &e) != WIRE_OK ||
		    memcmp(e.room, f->room, ROOM_ID_LEN) != 0)
			return WIRE_EMALFORMED;
	return buf_get_end(&b) == BUF_OK ? WIRE_OK : WIRE_EMALFORMED;
}

/* Decode a ROOM_FILE: exactly a room id and a transfer id. */
int
roomwire_decode_file(const uint8_t *p, size_t n, struct rec_room_file *f)
{
	struct buf b;
	uint8_t type;

	buf_view(&b, p, n);
	if (buf_get_u8(&b, &type) != BUF_OK || type != REC_ROOM_FILE ||
	    buf_get(&b, f->room, ROOM_ID_LEN) != BUF_OK ||
	    buf_get(&b, f->xfer, ROOM_ID_LEN) != BUF_OK || buf_get_end(&b) != BUF_OK)
		return WIRE_EMALFORMED;
	return WIRE_OK;
}

/* Parse the body of a CREATE, INVITE or KICK. */
int
roomwire_parse_body(uint8_t kind, const uint8_t *author, const uint8_t *body, size_t len,
                    struct room_body_member *m)
{
	struct buf b;

	memset(m, 0, sizeof *m);
	buf_view(&b, body, len);
	switch (kind) {
	case RK_CREATE:
		if (buf_get_str8(&b, &m->name, &m->name_len, ROOM_NAME_MAX) != BUF_OK || m->name_len == 0)
			return -1;
		memcpy(m->x, author, ROOM_KEY_LEN);
		/* fall through */
	case RK_INVITE:
		if (kind == RK_INVITE && buf_get(&b, m->x, ROOM_KEY_LEN) != BUF_OK)
			return -1;
		if (buf_get(&b, m->ed, ROOM_KEY_LEN) != BUF_OK || buf_get(&b, m->bind, ROOM_SIG_LEN) != BUF_OK)
			return -1;
		break;
	case RK_KICK:
		if (buf_get(&b, m->x, ROOM_KEY_LEN) != BUF_OK)
			return -1;
		break;
	case RK_JOIN:
	case RK_DECLINE:
	case RK_LEAVE:
		break;
	default:
		return -1;
	}
	return buf_get_end(&b) == BUF_OK ? 0 : -1;
}

/* The message an event signature covers: domain || signed bytes. */
static int
event_msg(uint8_t *out, size_t outlen, const uint8_t *p, size_t n, size_t *len)
{
	size_t dl = sizeof EVENT_DOMAIN - 1;

	if (n > outlen - dl)
		return -1;
	memcpy(out, EVENT_DOMAIN, dl);
	memcpy(out + dl, p, n);
	*len = dl + n;
	return 0;
}

/* Encode a ROOM_EVENT signed with sk. */
int
roomwire_put_event(struct buf *b, const uint8_t room[ROOM_ID_LEN],
                   const uint8_t author[ROOM_KEY_LEN], uint64_t seq, uint64_t lamport,
                   uint64_t ts_ms, uint8_t kind, const void *body, size_t body_len,
                   const uint8_t sk[ROOM_SK_LEN])
{
	uint8_t msg[sizeof EVENT_DOMAIN + ROOM_EV_MAX], sig[ROOM_SIG_LEN];
	size_t start = buf_len(b), mlen;
	int rc;

	if (body_len > ROOM_BODY_MAX || seq == 0 || lamport == 0)
		return BUF_ETOOBIG;
	if ((rc = buf_put_u8(b, REC_ROOM_EVENT)) != BUF_OK ||
	    (rc = buf_put(b, room, ROOM_ID_LEN)) != BUF_OK ||
	    (rc = buf_put(b, author, ROOM_KEY_LEN)) != BUF_OK ||
	    (rc = buf_put_u64(b, seq)) != BUF_OK ||
	    (rc = buf_put_u64(b, lamport)) != BUF_OK ||
	    (rc = buf_put_u64(b, ts_ms)) != BUF_OK ||
	    (rc = buf_put_u8(b, kind)) != BUF_OK ||
	    (rc = buf_put_str16(b, body, body_len)) != BUF_OK)
		return rc;
	if (event_msg(msg, sizeof msg, buf_ptr(b) + start + 1, buf_len(b) - start - 1, &mlen) != 0)
		return BUF_ETOOBIG;
	crypto_sign_detached(sig, NULL, msg, mlen, sk);
	return buf_put(b, sig, ROOM_SIG_LEN);
}

/* Encode a ROOM_EVENT with a given signature. */
int
roomwire_put_event_sig(struct buf *b, const struct rec_room_event *e, const uint8_t sig[ROOM_SIG_LEN])
{
	int rc;

	if (e->body_len > ROOM_BODY_MAX)
		return BUF_ETOOBIG;
	if ((rc = buf_put_u8(b, REC_ROOM_EVENT)) != BUF_OK ||
	    (rc = buf_put(b, e->room, ROOM_ID_LEN)) != BUF_OK ||
	    (rc = buf_put(b, e->author, ROOM_KEY_LEN)) != BUF_OK ||
	    (rc = buf_put_u64(b, e->seq)) != BUF_OK ||
	    (rc = buf_put_u64(b, e->lamport)) != BUF_OK ||
	    (rc = buf_put_u64(b, e->ts_ms)) != BUF_OK ||
	    (rc = buf_put_u8(b, e->kind)) != BUF_OK ||
	    (rc = buf_put_str16(b, (const char *)e->body, e->body_len)) != BUF_OK)
		return rc;
	return buf_put(b, sig, ROOM_SIG_LEN);
}

/* Start a ROOM_HAVE with a zero count (patched by roomwire_end_have). */
int
roomwire_begin_have(struct buf *b, const uint8_t room[ROOM_ID_LEN])
{
	int rc;

	if ((rc = buf_put_u8(b, REC_ROOM_HAVE)) != BUF_OK ||
	    (rc = buf_put(b, room, ROOM_ID_LEN)) != BUF_OK)
		return rc;
	return buf_put_u16(b, 0);
}

/* One HAVE entry. */
int
roomwire_put_have_entry(struct buf *b, const struct room_have_entry *e)
{
	int rc;

	if ((rc = buf_put(b, e->author, ROOM_KEY_LEN)) != BUF_OK ||
	    (rc = buf_put_u64(b, e->hwm[ROOM_CLASS_OPS])) != BUF_OK ||
	    (rc = buf_put_u64(b, e->hwm[ROOM_CLASS_MSG])) != BUF_OK ||
	    (rc = buf_put_u64(b, e->floor)) != BUF_OK ||
	    (rc = buf_put_u64(b, e->chain[ROOM_CLASS_OPS])) != BUF_OK ||
	    (rc = buf_put_u64(b, e->chain[ROOM_CLASS_MSG])) != BUF_OK)
		return rc;
	return buf_put_u64(b, e->frozen);
}

/* Patch the count of a HAVE begun at offset start of b's unread bytes. */
void
roomwire_end_have(struct buf *b, size_t start, uint16_t count)
{
	uint8_t *p = b->d + b->off + start + 1 + ROOM_ID_LEN;

	p[0] = (uint8_t)(count >> 8);
	p[1] = (uint8_t)count;
}

/* Encode a ROOM_WANT. */
int
roomwire_put_want(struct buf *b, const struct rec_room_want *w)
{
	int rc;

	if ((rc = buf_put_u8(b, REC_ROOM_WANT)) != BUF_OK ||
	    (rc = buf_put(b, w->room, ROOM_ID_LEN)) != BUF_OK ||
	    (rc = buf_put(b, w->author, ROOM_KEY_LEN)) != BUF_OK ||
	    (rc = buf_put_u8(b, w->cls)) != BUF_OK ||
	    (rc = buf_put_u64(b, w->first)) != BUF_OK)
		return rc;
	return buf_put_u64(b, w->last);
}

/* Encode a ROOM_PROOF of two event records. */
int
roomwire_put_proof(struct buf *b, const uint8_t room[ROOM_ID_LEN], const uint8_t *a, size_t na,
                   const uint8_t *b2, size_t nb)
{
	int rc;

	if (na > ROOM_EV_MAX || nb > ROOM_EV_MAX)
		return BUF_ETOOBIG;
	if ((rc = buf_put_u8(b, REC_ROOM_PROOF)) != BUF_OK ||
	    (rc = buf_put(b, room, ROOM_ID_LEN)) != BUF_OK ||
	    (rc = buf_put_str16(b, (const char *)a, na)) != BUF_OK)
		return rc;
	return buf_put_str16(b, (const char *)b2, nb);
}

/* Encode a ROOM_FILE. */
int
roomwire_put_file(struct buf *b, const struct rec_room_file *f)
{
	int rc;

	if ((rc = buf_put_u8(b, REC_ROOM_FILE)) != BUF_OK ||
	    (rc = buf_put(b, f->room, ROOM_ID_LEN)) != BUF_OK)
		return rc;
	return buf_put(b, f->xfer, ROOM_ID_LEN);
}

/* Build the body of a CREATE, INVITE or KICK. */
int
roomwire_put_body(struct buf *b, uint8_t kind, const struct room_body_member *m)
{
	int rc;

	switch (kind) {
	case RK_CREATE:
		if (m->name_len == 0 || m->name_len > ROOM_NAME_MAX)
			return BUF_ETOOBIG;
		if ((rc = buf_put_str8(b, (const char *)m->name, m->name_len)) != BUF_OK)
			return rc;
		break;
	case RK_INVITE:
	case RK_KICK:
		if ((rc = buf_put(b, m->x, ROOM_KEY_LEN)) != BUF_OK)
			return rc;
		if (kind == RK_KICK)
			return BUF_OK;
		break;
	default:
		return BUF_OK;   /* JOIN, DECLINE, LEAVE: empty */
	}
	if ((rc = buf_put(b, m->ed, ROOM_KEY_LEN)) != BUF_OK)
		return rc;
	return buf_put(b, m->bind, ROOM_SIG_LEN);
}

/* Whether an event's signature verifies under ed. */
int
roomwire_verify(const struct rec_room_event *e, const uint8_t ed[ROOM_KEY_LEN])
{
	uint8_t msg[sizeof EVENT_DOMAIN + ROOM_EV_MAX];
	size_t mlen;

	if (event_msg(msg, sizeof msg, e->signed_p, e->signed_len, &mlen) != 0)
		return 0;
	return crypto_sign_verify_detached(e->sig, msg, mlen, ed) == 0;
}

/* The binding of ed (whose secret is sk) to the identity x. */
void
roomwire_bind(uint8_t sig[ROOM_SIG_LEN], const uint8_t x[ROOM_KEY_LEN], const uint8_t sk[ROOM_SK_LEN])
{
	uint8_t msg[sizeof BIND_DOMAIN - 1 + ROOM_KEY_LEN];

	memcpy(msg, BIND_DOMAIN, sizeof BIND_DOMAIN - 1);
	memcpy(msg + sizeof BIND_DOMAIN - 1, x, ROOM_KEY_LEN);
	crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
}

/* Whether sig binds ed to x. */
int
roomwire_bind_ok(const uint8_t sig[ROOM_SIG_LEN], const uint8_t x[ROOM_KEY_LEN], const uint8_t ed[ROOM_KEY_LEN])
{
	uint8_t msg[sizeof BIND_DOMAIN - 1 + ROOM_KEY_LEN];

	memcpy(msg, BIND_DOMAIN, sizeof BIND_DOMAIN - 1);
	memcpy(msg + sizeof BIND_DOMAIN - 1, x, ROOM_KEY_LEN);
	return crypto_sign_verify_detached(sig, msg, sizeof msg, ed) == 0;
}

/* The signing key of an identity, derived from its X25519 private key. */
void
roomwire_signing_key(const uint8_t x_priv[ROOM_KEY_LEN], uint8_t ed_pk[ROOM_KEY_LEN], uint8_t ed_sk[ROOM_SK_LEN])
{
	uint8_t seed[crypto_sign_SEEDBYTES];

	crypto_generichash(seed, sizeof seed, (const uint8_t *)SEED_DOMAIN, sizeof SEED_DOMAIN - 1,
	    x_priv, ROOM_KEY_LEN);
	crypto_sign_seed_keypair(ed_pk, ed_sk, seed);
	sodium_memzero(seed, sizeof seed);
}

/* A name for a kind, for logs. */
const char *
roomwire_kind_name(uint8_t kind)
{
	switch (kind) {
	case RK_CREATE:  return "create";
	case RK_MSG:     return "msg";
	case RK_INVITE:  return "invite";
	case RK_JOIN:    return "join";
	case RK_DECLINE: return "decline";
	case RK_LEAVE:   return "leave";
	case RK_KICK:    return "kick";
	}
	return "unknown";
}
