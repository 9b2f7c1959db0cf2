/*
 * room_scale.c - the room model (app/room.c) at scale, in one process, no
 * network: what one member's copy of an M-member room costs.  For each M
 * given: the memory of the copy (malloc'd bytes, glibc mallinfo2) with the
 * members only and with H messages kept; the CPU time to accept one message
 * (decode, verify the signature, insert in order); the size of a full HAVE
 * and the time to encode it; and what one announcement costs the member
 * that receives it (a partial HAVE from another member listing the one
 * author whose hwm moved, 13.6): CPU time and the number of events it
 * pushes back.  In a full mesh a member receives M - 2 announcements per
 * message, so that is the term that grows with M.
 *
 * Built twice (Makefile.am, by tests/bench/room_scale.sh): room_scale with
 * the protocol's limits (at most ROOM_MEMBERS_MAX = 128 members), and
 * room_scale_lift with the member, HAVE and membership-event limits raised to 1024 so
 * that the model can be measured at 500 members (-DROOM_SCALE_LIFT: this
 * file then includes room.c and roomwire.c itself, with the limits
 * redefined).
 *
 * Usage: room_scale [-h HISTORY] M...   (default: 10 50 128, history 1000)
 */
#include "config.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#ifdef ROOM_SCALE_LIFT
#include "roomwire.h"
#undef ROOM_MEMBERS_MAX
#undef ROOM_HAVE_MAX
#undef ROOM_OPS_MAX
#define ROOM_MEMBERS_MAX 1024
#define ROOM_HAVE_MAX    1024
#define ROOM_OPS_MAX     1024   /* the creator writes all the INVITEs here */
#include "../../net/roomwire.c"
#include "../../app/room.c"
#else
#include "room.h"
#include "roomwire.h"
#endif
#include "wire.h"

static const uint8_t RID[ROOM_ID_LEN] = { 0x42, 0x45, 0x4e, 0x43, 0x48, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
static uint64_t now = 1700000000000ULL;

/* Collected records (what the creator wrote). */
struct recs {
	uint8_t **p;
	size_t   *n;
	size_t    len, cap;
};

/* Monotonic milliseconds. */
static double
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Bytes in use by malloc now. */
static size_t
heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* Keep a copy of a record. */
static void
recs_add(struct recs *rs, const uint8_t *p, size_t n)
{
	if (rs->len == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 64;
		rs->p = realloc(rs->p, rs->cap * sizeof *rs->p);
		rs->n = realloc(rs->n, rs->cap * sizeof *rs->n);
		if (rs->p == NULL || rs->n == NULL)
			abort();
	}
	if ((rs->p[rs->len] = malloc(n)) == NULL)
		abort();
	memcpy(rs->p[rs->len], p, n);
	rs->n[rs->len++] = n;
}

static void
recs_free(struct recs *rs)
{
	size_t i;

	for (i = 0; i < rs->len; i++)
		free(rs->p[i]);
	free(rs->p);
	free(rs->n);
	memset(rs, 0, sizeof *rs);
}

/* Accept callback: collect the record. */
static void
on_accept(struct room *r, struct room_event *ev, void *arg)
{
	(void)r;
	if (arg != NULL)
		recs_add(arg, ev->rec, ev->len);
}

static size_t pushed;

/* Push callback: count. */
static void
on_push(struct room *r, const struct room_event *ev, void *arg)
{
	(void)r;
	(void)ev;
	(void)arg;
	pushed++;
}

/* Sign an event by member self (seq, lamport given) into rs. */
static void
sign_event(struct recs *rs, const struct room_self *self, uint64_t seq, uint64_t lamport,
           uint8_t kind, const void *body, size_t blen)
{
	struct buf b;

	buf_init(&b, ROOM_EV_MAX);
	if (roomwire_put_event(&b, RID, self->x, seq, lamport, now, kind, body, blen, self->sk) != BUF_OK)
		abort();
	recs_add(rs, buf_ptr(&b), buf_len(&b));
	buf_free(&b);
}

/* Feed every record of rs to r; returns how many were not accepted. */
static size_t
feed(struct room *r, const struct recs *rs, size_t from)
{
	size_t i, bad = 0;

	for (i = from; i < rs->len; i++)
		if (room_receive(r, rs->p[i], rs->n[i], 0, now, NULL, NULL, NULL, NULL) != RV_ACCEPTED)
			bad++;
	return bad;
}

/* One size: M members, history h. */
static int
one(size_t m, size_t h)
{
	struct room_self *me = calloc(m, sizeof *me);
	struct recs ops = { 0 }, msgs = { 0 }, fresh = { 0 };
	struct room *a, *r = NULL;
	struct buf hv;
	size_t i, bad, heap0, heap1, heap1b, heap2, authors = m < 5 ? m : 5, reps;
	uint64_t seq[5] = { 0 }, lamport;
	double t0, t1, t_recv, t_have_enc, t_on_have;
	char text[48];
	int rc = 1;

	if (me == NULL)
		return 1;
	for (i = 0; i < m; i++) {
		uint8_t pub[32], priv[32];

		crypto_box_keypair(pub, priv);
		room_self_init(&me[i], pub, priv);
	}
	/* the creator's copy: CREATE, M - 1 INVITEs (collected), then each member's JOIN */
	a = room_create(&me[0], RID, "bench", 5, h, now, on_accept, &ops);
	for (i = 1; a != NULL && i < m; i++)
		if (room_invite(a, &me[0], me[i].x, me[i].ed, me[i].bind, now, on_accept, &ops) != 0) {
			fprintf(stderr, "room_scale: the invite of member %zu was refused (limit %d)\n", i + 1,
			    ROOM_MEMBERS_MAX);
			goto out;
		}
	if (a == NULL)
		goto out;
	lamport = a->clock;
	for (i = 1; i < m; i++)
		sign_event(&ops, &me[i], 1, ++lamport, RK_JOIN, NULL, 0);
	/* member 2's copy: from the CREATE, every membership event */
	heap0 = heap_used();
	r = room_from_create(ops.p[0], ops.n[0], h);
	bad = r ? feed(r, &ops, 1) : 1;
	heap1 = heap_used();
	if (bad != 0 || room_state(r, me[1].x) != RM_JOINED || room_nmembers(r) != m) {
		fprintf(stderr, "room_scale: the member's copy did not take the membership (%zu refused)\n", bad);
		goto out;
	}
	/* h messages kept, from 5 authors in turn (texts like the lab's: "bench-N") */
	for (i = 0; i < h + 2000; i++) {
		size_t k = i % authors;

		snprintf(text, sizeof text, "bench-%zu", i);
		sign_event(i < h ? &msgs : &fresh, &me[k], ++seq[k], ++lamport, RK_MSG, text, strlen(text));
	}
	heap1b = heap_used();
	if (feed(r, &msgs, 0) != 0)
		goto out;
	heap2 = heap_used();
	/* accepting a message: the next 2000, each verified and inserted (the oldest pruned) */
	t0 = ms_now();
	bad = feed(r, &fresh, 0);
	t1 = ms_now();
	t_recv = (t1 - t0) / (double)fresh.len;
	if (bad != 0)
		goto out;
	/* our full HAVE */
	buf_init(&hv, WIRE_RECORD_MAX);
	reps = 200;
	t0 = ms_now();
	for (i = 0; i < reps; i++) {
		buf_reset(&hv);
		room_put_have(r, &hv, NULL, 0);
	}
	t1 = ms_now();
	t_have_enc = (t1 - t0) / (double)reps;
	printf("%zu members: a member's copy: %.1f KiB with the members, %.1f KiB more with %zu messages kept "
	    "(%.0f bytes a message); accepting a message %.3f ms; its full HAVE %zu bytes, encoded in %.3f ms\n",
	    m, (heap1 - heap0) / 1024.0, (heap2 - heap1b) / 1024.0, h, (heap2 - heap1b) / (double)h, t_recv,
	    buf_len(&hv), t_have_enc);
	/* member 3, up to date, as at the start of a session: its full HAVE (ours) */
	pushed = 0;
	t0 = ms_now();
	room_on_have(r, me[2].x, buf_ptr(&hv), buf_len(&hv), on_push, NULL, NULL);
	t1 = ms_now();
	printf("%zu members: a full HAVE from an up-to-date member takes %.3f ms (%zu pushed)\n", m, t1 - t0,
	    pushed);
	/* then its announcement listing author 1 (the writer) only */
	buf_reset(&hv);
	room_put_have(r, &hv, (const uint8_t (*)[ROOM_KEY_LEN])me[0].x, 1);
	pushed = 0;
	reps = 50;
	t0 = ms_now();
	for (i = 0; i < reps; i++)
		room_on_have(r, me[2].x, buf_ptr(&hv), buf_len(&hv), on_push, NULL, NULL);
	t1 = ms_now();
	t_on_have = (t1 - t0) / (double)reps;
	printf("%zu members: an announcement (a %zu-byte HAVE listing 1 author) from an up-to-date member "
	    "takes %.4f ms and pushes back %zu events; %zu a message in a full mesh: %.2f ms and %zu "
	    "events pushed per member per message\n",
	    m, buf_len(&hv), t_on_have, pushed / reps, m - 2, t_on_have * (double)(m - 2),
	    pushed / reps * (m - 2));
	buf_free(&hv);
	fflush(stdout);
	rc = 0;
out:
	room_free(r);
	room_free(a);
	recs_free(&ops);
	recs_free(&msgs);
	recs_free(&fresh);
	free(me);
	return rc;
}

int
main(int argc, char **argv)
{
	size_t h = 1000, sizes[16] = { 10, 50, 128 }, ns = 3;
	int i, rc = 0;

	if (sodium_init() < 0)
		return 1;
	if (argc > 2 && strcmp(argv[1], "-h") == 0) {
		h = strtoul(argv[2], NULL, 10);
		argc -= 2;
		argv += 2;
	}
	if (argc > 1) {
		for (ns = 0, i = 1; i < argc && ns < 16; i++)
			sizes[ns++] = strtoul(argv[i], NULL, 10);
	}
	printf("# room model at scale (%s limits: at most %d members), history %zu\n",
#ifdef ROOM_SCALE_LIFT
	    "raised",
#else
	    "protocol",
#endif
	    ROOM_MEMBERS_MAX, h);
	for (i = 0; i < (int)ns; i++)
		rc |= one(sizes[i], h);
	return rc;
}
