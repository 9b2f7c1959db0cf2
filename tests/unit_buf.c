/* unit_buf.c - unit tests for net/buf.c, the bounds-checked buffer. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"

/* A small deterministic generator so a failure can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* Next pseudo-random 64-bit value (xorshift64*). */
static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* A pseudo-random value in [0, n). */
static size_t
rng_below(size_t n)
{
	return n == 0 ? 0 : (size_t)(rng() % n);
}

/* Every getter on a buffer holding fewer bytes than it needs. */
static void
test_short(void)
{
	static const uint8_t src[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t out[16], u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	const uint8_t *p;
	size_t n, avail;
	struct buf b;
	int fails = 0;

	/* For every length below what each getter needs. */
	for (avail = 0; avail < 8; avail++) {
		buf_view(&b, src, avail);
		if (avail < 1 && buf_get_u8(&b, &u8) != BUF_ESHORT)
			fails++;
		if (avail < 2 && buf_get_u16(&b, &u16) != BUF_ESHORT)
			fails++;
		if (avail < 4 && buf_get_u32(&b, &u32) != BUF_ESHORT)
			fails++;
		if (buf_get_u64(&b, &u64) != BUF_ESHORT)
			fails++;
		if (buf_get(&b, out, avail + 1) != BUF_ESHORT)
			fails++;
		if (buf_get_ptr(&b, &p, avail + 1) != BUF_ESHORT)
			fails++;
		if (buf_consume(&b, avail + 1) != BUF_ESHORT)
			fails++;
		if (buf_len(&b) != avail || b.off != 0)
			fails++;
	}
	is_int(fails, 0, "fixed-size getters on short input return BUF_ESHORT and consume nothing");

	/* A length prefix itself cut short. */
	buf_view(&b, src, 0);
	is_int(buf_get_str8(&b, &p, &n, 255), BUF_ESHORT, "str8 with no prefix byte is short");
	buf_view(&b, src, 1);
	is_int(buf_get_str16(&b, &p, &n, 65535), BUF_ESHORT, "str16 with one prefix byte is short");
	is_int(buf_len(&b), 1, "short str16 consumed nothing");

	/* A prefix promising more than is there. */
	{
		static const uint8_t s8[] = { 5, 'a', 'b', 'c', 'd' };
		static const uint8_t s16[] = { 0x01, 0x00, 'x', 'y' };

		buf_view(&b, s8, sizeof s8);
		is_int(buf_get_str8(&b, &p, &n, 255), BUF_ESHORT, "str8 with a body one byte short");
		is_int(buf_len(&b), sizeof s8, "short str8 body consumed nothing");
		buf_view(&b, s16, sizeof s16);
		is_int(buf_get_str16(&b, &p, &n, 65535), BUF_ESHORT, "str16 promising 256 bytes over 2");
		is_int(buf_len(&b), sizeof s16, "short str16 body consumed nothing");
	}

	/* Short reads after a successful one leave the offset where it was. */
	buf_view(&b, src, 5);
	is_int(buf_get_u32(&b, &u32), BUF_OK, "u32 from 5 bytes");
	is_int(buf_get_u16(&b, &u16), BUF_ESHORT, "u16 from the 1 remaining byte is short");
	is_int(buf_len(&b), 1, "still 1 byte left");
	is_int(buf_get_u8(&b, &u8), BUF_OK, "the last byte reads");
	is_int(u8, 5, "and it is the fifth byte");
	is_int(buf_get_u8(&b, &u8), BUF_ESHORT, "nothing after the end");
}

/* Length caps, both the buffer's and the getters'. */
static void
test_caps(void)
{
	uint8_t tmp[300], *w;
	const uint8_t *p;
	struct buf b;
	size_t n;
	int i;

	memset(tmp, 'q', sizeof tmp);
	buf_init(&b, 10);
	is_int(buf_put(&b, tmp, 10), BUF_OK, "10 bytes fit a cap of 10");
	is_int(buf_put_u8(&b, 1), BUF_ETOOBIG, "the 11th byte does not");
	is_int(buf_len(&b), 10, "the failed put wrote nothing");
	is_int(buf_consume(&b, 4), BUF_OK, "consume 4");
	is_int(buf_put(&b, tmp, 5), BUF_ETOOBIG, "6 unread + 5 > 10");
	is_int(buf_put(&b, tmp, 4), BUF_OK, "6 unread + 4 = 10 fits (consumed space is reused)");
	is_int(buf_len(&b), 10, "10 unread bytes");
	ok(b.alloc <= 10, "storage never exceeds the cap (alloc %zu)", b.alloc);
	buf_free(&b);
	is_int(b.cap, 10, "buf_free keeps the cap");
	is_int(buf_len(&b), 0, "buf_free empties");

	/* Lengths near SIZE_MAX must fail cleanly, not wrap around. */
	buf_init(&b, SIZE_MAX);
	is_int(b.cap, BUF_MAX_CAP, "a cap above BUF_MAX_CAP is clamped");
	is_int(buf_reserve(&b, (size_t)BUF_MAX_CAP + 1, &w), BUF_ETOOBIG,
	    "reserving BUF_MAX_CAP + 1 fails");
	is_int(buf_reserve(&b, SIZE_MAX, &w), BUF_ETOOBIG, "reserving SIZE_MAX fails");
	is_int(buf_put(&b, tmp, SIZE_MAX), BUF_ETOOBIG, "putting SIZE_MAX bytes fails before copying");
	is_int(buf_put_u8(&b, 7), BUF_OK, "one byte goes in");
	is_int(buf_reserve(&b, SIZE_MAX, &w), BUF_ETOOBIG, "SIZE_MAX with 1 byte held fails");
	is_int(buf_reserve(&b, SIZE_MAX - 1, &w), BUF_ETOOBIG, "SIZE_MAX - 1 with 1 byte held fails");
	is_int(buf_reserve(&b, BUF_MAX_CAP, &w), BUF_ETOOBIG, "cap bytes with 1 byte held fails");
	is_int(buf_len(&b), 1, "and the byte is still there");
	is_int(buf_get(&b, tmp, SIZE_MAX), BUF_ESHORT, "getting SIZE_MAX bytes is short");
	is_int(buf_get_ptr(&b, &p, SIZE_MAX), BUF_ESHORT, "borrowing SIZE_MAX bytes is short");
	is_int(buf_consume(&b, SIZE_MAX), BUF_ESHORT, "consuming SIZE_MAX bytes is short");
	is_int(buf_len(&b), 1, "nothing was consumed");
	buf_free(&b);

	/* Encoders refuse lengths their prefix cannot carry. */
	buf_init(&b, 1 << 20);
	is_int(buf_put_str8(&b, (const char *)tmp, 256), BUF_ETOOBIG, "str8 of 256 bytes refused");
	is_int(buf_put_str16(&b, (const char *)tmp, 65536), BUF_ETOOBIG, "str16 of 65536 bytes refused");
	is_int(buf_put_str16(&b, (const char *)tmp, SIZE_MAX), BUF_ETOOBIG, "str16 of SIZE_MAX bytes refused");
	is_int(buf_len(&b), 0, "refused strings wrote nothing");
	is_int(buf_put_str8(&b, (const char *)tmp, 255), BUF_OK, "str8 of 255 bytes accepted");
	is_int(buf_len(&b), 256, "prefix + 255 bytes");
	buf_reset(&b);

	/* Decoders check the prefix against max before consuming anything. */
	buf_put_str8(&b, (const char *)tmp, 65);
	is_int(buf_get_str8(&b, &p, &n, 64), BUF_ETOOBIG, "str8 of 65 with max 64 refused");
	is_int(buf_len(&b), 66, "refused str8 consumed nothing");
	is_int(buf_get_str8(&b, &p, &n, 65), BUF_OK, "str8 of 65 with max 65 accepted");
	is_int(n, 65, "length 65");
	ok(p != NULL && p[0] == 'q' && p[64] == 'q', "borrowed pointer sees the body");
	is_int(buf_len(&b), 0, "everything consumed");

	/* a str16 that claims the maximum but whose max is lower */
	buf_put_u16(&b, 0xffff);
	is_int(buf_get_str16(&b, &p, &n, 4096), BUF_ETOOBIG, "str16 claiming 65535 with max 4096");
	is_int(buf_len(&b), 2, "prefix not consumed");
	is_int(buf_get_str16(&b, &p, &n, 65535), BUF_ESHORT, "with max 65535 it is merely short");
	buf_reset(&b);
	for (i = 0; i < 4097; i++)
		buf_put_u8(&b, 'z');
	{
		struct buf v;
		uint8_t hdr[2] = { 0x10, 0x00 };   /* 4096 */
		uint8_t *both = malloc(2 + 4097);

		memcpy(both, hdr, 2);
		memcpy(both + 2, buf_ptr(&b), 4097);
		buf_view(&v, both, 2 + 4096);
		is_int(buf_get_str16(&v, &p, &n, 4095), BUF_ETOOBIG, "4096 over max 4095");
		is_int(buf_get_str16(&v, &p, &n, 4096), BUF_OK, "4096 at max 4096");
		is_int(n, 4096, "4096 bytes borrowed");
		is_int(buf_get_end(&v), BUF_OK, "nothing trails");
		free(both);
	}
	buf_free(&b);
}

/* buf_get_end and the trailing check. */
static void
test_end(void)
{
	static const uint8_t src[] = { 0, 1, 2 };
	uint16_t v;
	struct buf b;

	buf_view(&b, src, 0);
	is_int(buf_get_end(&b), BUF_OK, "an empty view is at its end");
	buf_view(&b, src, sizeof src);
	is_int(buf_get_end(&b), BUF_ETRAILING, "3 unread bytes trail");
	buf_get_u16(&b, &v);
	is_int(buf_get_end(&b), BUF_ETRAILING, "1 unread byte trails");
	buf_consume(&b, 1);
	is_int(buf_get_end(&b), BUF_OK, "at the end after consuming it");
	ok(strcmp(buf_strerror(BUF_ETRAILING), buf_strerror(BUF_ESHORT)) != 0,
	    "error texts differ: \"%s\"", buf_strerror(BUF_ETRAILING));
	ok(buf_strerror(12345) != NULL, "an unknown code still has a text");
}

/* A view over someone else's bytes never writes to them. */
static void
test_readonly(void)
{
	uint8_t src[4] = { 0xaa, 0xbb, 0xcc, 0xdd }, *w = NULL;
	const uint8_t want[4] = { 0xaa, 0xbb, 0xcc, 0xdd };
	uint8_t u8;
	struct buf b;

	buf_view(&b, src, sizeof src);
	is_int(buf_put_u8(&b, 1), BUF_ERDONLY, "put_u8 on a view refused");
	is_int(buf_put_u16(&b, 1), BUF_ERDONLY, "put_u16 on a view refused");
	is_int(buf_put_u32(&b, 1), BUF_ERDONLY, "put_u32 on a view refused");
	is_int(buf_put_u64(&b, 1), BUF_ERDONLY, "put_u64 on a view refused");
	is_int(buf_put(&b, "xy", 2), BUF_ERDONLY, "put on a view refused");
	is_int(buf_put_str8(&b, "xy", 2), BUF_ERDONLY, "put_str8 on a view refused");
	is_int(buf_put_str16(&b, "xy", 2), BUF_ERDONLY, "put_str16 on a view refused");
	is_int(buf_reserve(&b, 1, &w), BUF_ERDONLY, "reserve on a view refused");
	ok(w == NULL, "no write pointer handed out");
	is_int(buf_get_u8(&b, &u8), BUF_OK, "a view reads");
	buf_compact(&b);
	buf_reset(&b);
	is_int(buf_len(&b), 3, "compact and reset leave a view alone");
	is_int(buf_get_u8(&b, &u8), BUF_OK, "and it keeps reading");
	is_int(u8, 0xbb, "the second byte");
	is_mem(src, want, sizeof want, "the viewed bytes are unchanged");
	buf_free(&b);   /* must not free the stack array */
	is_int(buf_len(&b), 0, "a freed view is empty");
	is_mem(src, want, sizeof want, "freeing the view left the bytes alone");
}

/*
 * A buffer that grew for a burst gives its storage back once drained
 * (buf_shrink): a session's queues after a room's join burst (PROTOCOL.md
 * 13.9) kept their peak, 1 MiB per session at most, for good.
 */
static void
test_shrink(void)
{
	static uint8_t chunk[4096];
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 20);
	for (i = 0; i < 64; i++)
		buf_put(&b, chunk, sizeof chunk);
	ok(b.alloc >= 256 * 1024, "a burst grows the storage (%zu bytes)", b.alloc);
	buf_shrink(&b, 16384);
	ok(b.alloc >= 256 * 1024, "not given back while it holds data");
	buf_consume(&b, buf_len(&b));
	buf_shrink(&b, 16384);
	is_int(b.alloc, 0, "drained: the storage is given back");
	is_int(b.cap, 1 << 20, "the cap stays");
	is_int(buf_put(&b, chunk, 100), BUF_OK, "and it takes data again");
	buf_consume(&b, buf_len(&b));
	buf_shrink(&b, 16384);
	ok(b.alloc > 0 && b.alloc <= 16384, "a small buffer keeps its storage (%zu bytes)", b.alloc);
	buf_free(&b);
}

/* Exact big-endian bytes and round trips of the integer puts and gets. */
static void
test_integers(void)
{
	static const uint8_t want[] = {
		0x7f,
		0x12, 0x34,
		0xde, 0xad, 0xbe, 0xef,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0x00, 0x03, 'a', 'b', 'c',
		0x02, 'h', 'i',
	};
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	const uint8_t *p;
	size_t n;
	struct buf b;
	int i, bad = 0;

	buf_init(&b, 1024);
	buf_put_u8(&b, 0x7f);
	buf_put_u16(&b, 0x1234);
	buf_put_u32(&b, 0xdeadbeefu);
	buf_put_u64(&b, 0x0123456789abcdefull);
	buf_put_str16(&b, "abc", 3);
	buf_put_str8(&b, "hi", 2);
	is_int(buf_len(&b), sizeof want, "encoded length");
	is_mem(buf_ptr(&b), want, sizeof want, "big-endian bytes exactly as expected");

	is_int(buf_get_u8(&b, &u8), BUF_OK, "get u8");
	is_int(u8, 0x7f, "u8 value");
	is_int(buf_get_u16(&b, &u16), BUF_OK, "get u16");
	is_int(u16, 0x1234, "u16 value");
	is_int(buf_get_u32(&b, &u32), BUF_OK, "get u32");
	ok(u32 == 0xdeadbeefu, "u32 value");
	is_int(buf_get_u64(&b, &u64), BUF_OK, "get u64");
	ok(u64 == 0x0123456789abcdefull, "u64 value");
	is_int(buf_get_str16(&b, &p, &n, 3), BUF_OK, "get str16 at its max");
	ok(n == 3 && memcmp(p, "abc", 3) == 0, "str16 body");
	is_int(buf_get_str8(&b, &p, &n, 2), BUF_OK, "get str8 at its max");
	ok(n == 2 && memcmp(p, "hi", 2) == 0, "str8 body");
	is_int(buf_get_end(&b), BUF_OK, "everything read");

	/* extremes and random values survive a round trip */
	for (i = 0; i < 2000; i++) {
		uint64_t v = i == 0 ? 0 : i == 1 ? UINT64_MAX : rng();

		buf_reset(&b);
		buf_put_u8(&b, (uint8_t)v);
		buf_put_u16(&b, (uint16_t)v);
		buf_put_u32(&b, (uint32_t)v);
		buf_put_u64(&b, v);
		if (buf_len(&b) != 15 || buf_ptr(&b)[0] != (uint8_t)v ||
		    buf_ptr(&b)[1] != (uint8_t)(v >> 8) || buf_ptr(&b)[7] != (uint8_t)(v >> 56) ||
		    buf_ptr(&b)[14] != (uint8_t)v)
			bad++;
		if (buf_get_u8(&b, &u8) || buf_get_u16(&b, &u16) || buf_get_u32(&b, &u32) ||
		    buf_get_u64(&b, &u64) || buf_get_end(&b))
			bad++;
		if (u8 != (uint8_t)v || u16 != (uint16_t)v || u32 != (uint32_t)v || u64 != v)
			bad++;
	}
	is_int(bad, 0, "2000 integer round trips (incl. 0 and all-ones)");
	buf_free(&b);
}

/*
 * Random reserve/commit/consume/compact/put/get/reset sequences against a
 * plain array model.  Any divergence in length, content or error code counts.
 */
static void
test_model(void)
{
	enum { CAP = 3000, ITER = 200000 };
	uint8_t model[CAP], tmp[CAP + 64], *w;
	size_t mlen = 0, n, i;
	struct buf b;
	int it, bad = 0, r, first_bad = -1;
	unsigned long ops[7] = { 0 };

	buf_init(&b, CAP);
	for (it = 0; it < ITER && bad == 0; it++) {
		int op = (int)rng_below(7);

		ops[op]++;
		switch (op) {
		case 0:   /* put */
			n = rng_below(rng_below(4) == 0 ? CAP + 40 : 64);
			for (i = 0; i < n; i++)
				tmp[i] = (uint8_t)rng();
			r = buf_put(&b, tmp, n);
			if (n == 0 || mlen + n <= CAP) {
				if (r != BUF_OK)
					bad++;
				memcpy(model + mlen, tmp, n);
				mlen += n;
			} else if (r != BUF_ETOOBIG) {
				bad++;
			}
			break;
		case 1:   /* reserve more than we write, commit part of it */
			n = rng_below(200) + 1;
			r = buf_reserve(&b, n, &w);
			if (mlen + n > CAP) {
				if (r != BUF_ETOOBIG)
					bad++;
				break;
			}
			if (r != BUF_OK) {
				bad++;
				break;
			}
			{
				size_t k = rng_below(n + 1);

				for (i = 0; i < n; i++)
					w[i] = (uint8_t)rng();   /* the whole reservation is writable */
				memcpy(model + mlen, w, k);
				mlen += k;
				buf_commit(&b, k);
			}
			break;
		case 2:   /* consume */
			n = rng_below(mlen + 20);
			r = buf_consume(&b, n);
			if (n <= mlen) {
				if (r != BUF_OK)
					bad++;
				memmove(model, model + n, mlen - n);
				mlen -= n;
			} else if (r != BUF_ESHORT) {
				bad++;
			}
			break;
		case 3:   /* compact */
			buf_compact(&b);
			if (b.off != 0)
				bad++;
			break;
		case 4:   /* get */
			n = rng_below(mlen + 20);
			r = buf_get(&b, tmp, n);
			if (n <= mlen) {
				if (r != BUF_OK || memcmp(tmp, model, n) != 0)
					bad++;
				memmove(model, model + n, mlen - n);
				mlen -= n;
			} else if (r != BUF_ESHORT) {
				bad++;
			}
			break;
		case 5:   /* u16 round trip through the tail: put then check bytes */
			r = buf_put_u16(&b, (uint16_t)it);
			if (mlen + 2 <= CAP) {
				if (r != BUF_OK)
					bad++;
				model[mlen++] = (uint8_t)(it >> 8);
				model[mlen++] = (uint8_t)it;
			} else if (r != BUF_ETOOBIG) {
				bad++;
			}
			break;
		case 6:   /* occasionally start over */
			if (rng_below(50) == 0) {
				buf_reset(&b);
				mlen = 0;
			}
			break;
		}
		if (buf_len(&b) != mlen || (mlen > 0 && memcmp(buf_ptr(&b), model, mlen) != 0) ||
		    b.len > b.alloc || b.alloc > CAP || b.off > b.len)
			bad++;
		if (bad && first_bad < 0)
			first_bad = it;
	}
	if (!ok(bad == 0, "%d random buffer operations match the reference model", ITER))
		printf("#   first divergence at iteration %d (op counts %lu %lu %lu %lu %lu %lu %lu)\n",
		    first_bad, ops[0], ops[1], ops[2], ops[3], ops[4], ops[5], ops[6]);
	ok(ops[0] > 1000 && ops[1] > 1000 && ops[2] > 1000 && ops[4] > 1000,
	    "every kind of operation ran many times");
	buf_free(&b);
}

/* Consumed space is reclaimed: a steady stream never needs more than the cap. */
static void
test_stream(void)
{
	uint8_t chunk[700], out[700];
	struct buf b;
	int i, got = 0, bad = 0;

	buf_init(&b, 2048);
	for (i = 0; i < 5000; i++) {
		memset(chunk, i & 0xff, sizeof chunk);
		if (buf_put(&b, chunk, sizeof chunk) != BUF_OK)
			bad++;
		if (buf_len(&b) < 1400)
			continue;
		/* the oldest chunk comes out whole and in order */
		memset(chunk, got & 0xff, sizeof chunk);
		if (buf_get(&b, out, sizeof out) != BUF_OK || memcmp(out, chunk, sizeof out) != 0)
			bad++;
		got++;
	}
	ok(got > 4000, "%d chunks read back", got);
	is_int(bad, 0, "5000 put/get cycles through a 2048-byte cap");
	ok(b.alloc <= 2048, "storage stayed within the cap (%zu)", b.alloc);
	buf_free(&b);
}

int
main(void)
{
	test_short();
	test_caps();
	test_end();
	test_readonly();
	test_shrink();
	test_integers();
	test_model();
	test_stream();
	return tap_done();
}
