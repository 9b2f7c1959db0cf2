/*
 * fuzz_room.c - libFuzzer target for the room records (net/roomwire.c) and
 * the room model that takes them (app/room.c).
 *
 * The first input byte picks how the rest is used: as a record for every
 * decoder (round trips checked); as an event, a HAVE or a WANT given to a
 * room with a few members; or as an event body re-signed with a member's
 * key, so that the fuzzer reaches the membership fold past the signature
 * check; or as a body signed twice with one seq (the second a byte longer),
 * an equivocation, given as events and as a ROOM_PROOF.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "room.h"
#include "roomwire.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static const uint8_t RID[ROOM_ID_LEN] = { 0x52, 0x4f, 0x4f, 0x4d, 0xf0, 0x22 };
static struct room_self M[3];
static int ready;

/* Three members with fixed keys. */
static void
setup(void)
{
	uint8_t priv[32], pub[32];
	int i;

	if (ready)
		return;
	if (sodium_init() < 0)
		abort();
	for (i = 0; i < 3; i++) {
		memset(priv, 0x11 * (i + 1), sizeof priv);
		crypto_scalarmult_base(pub, priv);
		room_self_init(&M[i], pub, priv);
	}
	ready = 1;
}

static void
ignore_push(struct room *r, const struct room_event *ev, void *arg)
{
	(void)r;
	(void)arg;
	CHECK(ev->len > 0 && (ev->rec[0] == REC_ROOM_EVENT || ev->rec[0] == REC_ROOM_PROOF));
}

static void
check_accept(struct room *r, struct room_event *ev, void *arg)
{
	(void)arg;
	CHECK(memcmp(ev->e.room, r->id, ROOM_ID_LEN) == 0);
}

/* A room where M[0] created, invited M[1] (joined) and M[2] (invited). */
static struct room *
make_room(void)
{
	struct room *r = room_create(&M[0], RID, "fuzz", 4, 8, 1, NULL, NULL);

	CHECK(r != NULL);
	CHECK(room_invite(r, &M[0], M[1].x, M[1].ed, M[1].bind, 2, NULL, NULL) == 0);
	CHECK(room_invite(r, &M[0], M[2].x, M[2].ed, M[2].bind, 3, NULL, NULL) == 0);
	CHECK(room_write(r, &M[1], RK_JOIN, NULL, 0, 4, NULL, NULL) == 0);
	return r;
}

/* Decode with every decoder; re-encode what decodes and compare. */
static void
check_codecs(const uint8_t *p, size_t n)
{
	struct rec_room_event e, e2;
	struct rec_room_have h, h2;
	struct rec_room_want w, w2;
	struct rec_room_proof f;
	struct rec_room_file fl, fl2;
	struct room_have_entry he;
	struct room_body_member m;
	struct buf b;
	uint8_t *copy = malloc(n ? n : 1);
	size_t start;
	uint16_t count = 0;

	memcpy(copy, p, n);
	buf_init(&b, 2 * WIRE_RECORD_MAX);
	if (roomwire_decode_event(copy, n, &e) == WIRE_OK) {
		CHECK(e.body_len <= ROOM_BODY_MAX && e.seq > 0 && e.lamport > 0);
		CHECK(roomwire_put_event_sig(&b, &e, e.sig) == BUF_OK);
		CHECK(buf_len(&b) == n && memcmp(buf_ptr(&b), copy, n) == 0);
		CHECK(roomwire_decode_event(buf_ptr(&b), buf_len(&b), &e2) == WIRE_OK);
		if (roomwire_parse_body(e.kind, e.author, e.body, e.body_len, &m) == 0) {
			buf_reset(&b);
			CHECK(roomwire_put_body(&b, e.kind, &m) == BUF_OK);
			CHECK(buf_len(&b) == e.body_len && memcmp(buf_ptr(&b), e.body, e.body_len) == 0);
		}
		(void)roomwire_verify(&e, M[0].ed);
	}
	buf_reset(&b);
	if (roomwire_decode_have(copy, n, &h) == WIRE_OK) {
		start = buf_len(&b);
		CHECK(roomwire_begin_have(&b, h.room) == BUF_OK);
		h2 = h;
		while (roomwire_next_have(&h2, &he) == 0) {
			CHECK(roomwire_put_have_entry(&b, &he) == BUF_OK);
			count++;
		}
		CHECK(count == h.count);
		roomwire_end_have(&b, start, count);
		CHECK(buf_len(&b) == n && memcmp(buf_ptr(&b), copy, n) == 0);
	}
	buf_reset(&b);
	if (roomwire_decode_want(copy, n, &w) == WIRE_OK) {
		CHECK(w.first >= 1 && w.first <= w.last && w.cls < ROOM_CLASSES);
		CHECK(roomwire_put_want(&b, &w) == BUF_OK);
		CHECK(roomwire_decode_want(buf_ptr(&b), buf_len(&b), &w2) == WIRE_OK);
		CHECK(buf_len(&b) == n && memcmp(buf_ptr(&b), copy, n) == 0);
	}
	buf_reset(&b);
	if (roomwire_decode_proof(copy, n, &f) == WIRE_OK) {
		CHECK(roomwire_decode_event(f.ev[0], f.len[0], &e) == WIRE_OK &&
		    memcmp(e.room, f.room, ROOM_ID_LEN) == 0);
		CHECK(roomwire_put_proof(&b, f.room, f.ev[0], f.len[0], f.ev[1], f.len[1]) == BUF_OK);
		CHECK(buf_len(&b) == n && memcmp(buf_ptr(&b), copy, n) == 0);
	}
	buf_reset(&b);
	if (roomwire_decode_file(copy, n, &fl) == WIRE_OK) {
		CHECK(n == 1 + 2 * ROOM_ID_LEN);
		CHECK(roomwire_put_file(&b, &fl) == BUF_OK);
		CHECK(roomwire_decode_file(buf_ptr(&b), buf_len(&b), &fl2) == WIRE_OK);
		CHECK(buf_len(&b) == n && memcmp(buf_ptr(&b), copy, n) == 0);
	}
	/* the input as a body of each kind */
	{
		uint8_t k;

		for (k = 0; k < 9; k++)
			(void)roomwire_parse_body(k, M[0].x, copy, n, &m);
	}
	buf_free(&b);
	free(copy);
}

/* Feed the input to a room as an event, a HAVE and a WANT; check its invariants. */
static void
check_model(const uint8_t *p, size_t n, int resign)
{
	struct room *r = make_room();
	struct rec_room_event e;
	struct rec_room_want w;
	struct buf b;
	size_t i;
	int want = 0, more = 0;

	buf_init(&b, 2 * WIRE_RECORD_MAX);
	if (resign && n >= 3 && roomwire_decode_event(p, n, &e) != WIRE_OK) {
		/* p = member index, kind, then the body: sign it as that member */
		const struct room_self *me = &M[p[0] % 3];
		struct room_author *a = room_author(r, me->x);
		uint64_t seq = a ? a->hwm[ROOM_CLASS(p[1])] + 1 + (p[0] >> 6) : 1;

		if (roomwire_put_event(&b, RID, me->x, seq, r->clock + 1, 5, p[1], p + 2,
		        n - 2 > ROOM_BODY_MAX ? ROOM_BODY_MAX : n - 2, me->sk) == BUF_OK) {
			p = buf_ptr(&b);
			n = buf_len(&b);
		}
	}
	(void)room_receive(r, p, n, 1, 10, check_accept, NULL, &w, &want);
	if (want)
		CHECK(w.first >= 1 && w.first <= w.last);
	(void)room_on_have(r, M[1].x, p, n, ignore_push, NULL, &more);
	(void)room_on_proof(r, p, n);
	if (roomwire_decode_want(p, n, &w) == WIRE_OK)
		(void)room_on_want(r, M[2].x, &w, ignore_push, NULL);
	/* invariants */
	CHECK(r->npend <= ROOM_PENDING_MAX && r->nmsgs <= r->history);
	CHECK(room_nmembers(r) <= ROOM_MEMBERS_MAX && r->nau <= ROOM_DIR_MAX);
	for (i = 1; i < r->nlog; i++)
		CHECK(r->log[i - 1]->e.lamport <= r->log[i]->e.lamport);
	CHECK(room_state(r, M[0].x) == RM_JOINED);   /* nobody else can remove the creator */
	buf_reset(&b);
	CHECK(room_put_have(r, &b, NULL, 0) == BUF_OK);
	buf_free(&b);
	room_free(r);
}

/* p = member index, kind, body: two rival events of that member, as events and as a proof. */
static void
check_rivals(const uint8_t *p, size_t n)
{
	struct room *r = make_room(), *r2 = make_room();
	const struct room_self *me;
	struct room_author *a;
	struct buf x, y, f;
	uint8_t body[ROOM_BODY_MAX];
	size_t len;
	uint64_t seq;
	int more = 0;

	if (n < 2) {
		room_free(r);
		room_free(r2);
		return;
	}
	me = &M[p[0] % 3];
	len = n - 2 > ROOM_BODY_MAX - 1 ? ROOM_BODY_MAX - 1 : n - 2;
	memcpy(body, p + 2, len);
	body[len] = 'x';
	a = room_author(r, me->x);
	seq = a != NULL && a->hwm[ROOM_CLASS(p[1])] > 0 ? a->hwm[ROOM_CLASS(p[1])] : 1;
	buf_init(&x, ROOM_EV_MAX);
	buf_init(&y, ROOM_EV_MAX);
	buf_init(&f, 2 * ROOM_EV_MAX + 64);
	if (roomwire_put_event(&x, RID, me->x, seq, r->clock + 1, 5, p[1], body, len, me->sk) == BUF_OK &&
	    roomwire_put_event(&y, RID, me->x, seq, r->clock + 2, 6, p[1], body, len + 1, me->sk) == BUF_OK &&
	    roomwire_put_proof(&f, RID, buf_ptr(&x), buf_len(&x), buf_ptr(&y), buf_len(&y)) == BUF_OK) {
		(void)room_receive(r, buf_ptr(&x), buf_len(&x), 0, 10, check_accept, NULL, NULL, NULL);
		(void)room_receive(r, buf_ptr(&y), buf_len(&y), 0, 10, check_accept, NULL, NULL, NULL);
		(void)room_on_proof(r2, buf_ptr(&f), buf_len(&f));
		(void)room_on_proof(r, buf_ptr(&f), buf_len(&f));
		if (p[1] != RK_CREATE && (a = room_author(r2, me->x)) != NULL)
			CHECK(a->frozen != 0 && a->proof != NULL);
		(void)room_push_all(r2, M[1].x, ignore_push, NULL, &more);
		CHECK(room_state(r, M[0].x) == RM_JOINED || me == &M[0]);
	}
	buf_free(&x);
	buf_free(&y);
	buf_free(&f);
	room_free(r);
	room_free(r2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		check_codecs(data + 1, size - 1);
		break;
	case 1:
		check_model(data + 1, size - 1, 0);
		break;
	case 2:
		check_model(data + 1, size - 1, 1);
		break;
	case 3:
		check_rivals(data + 1, size - 1);
		break;
	}
	return 0;
}
