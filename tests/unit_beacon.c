/* unit_beacon.c - unit tests for net/beacon.c (the discovery datagram) and the refresh rule. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beacon.h"
#include "buf.h"
#include "disc.h"
#include "tap.h"

static uint8_t key_a[BEACON_KEYLEN], key_b[BEACON_KEYLEN];

/* A typical announcement. */
static void
sample(struct beacon *bc, uint8_t flags)
{
	memset(bc, 0, sizeof *bc);
	bc->flags = flags;
	bc->seq = 0x01020304;
	bc->interval_s = 30;
	memcpy(bc->key, key_a, BEACON_KEYLEN);
	bc->ports[0].af = BEACON_AF_INET;
	bc->ports[0].port = 7470;
	bc->ports[1].af = BEACON_AF_INET6;
	bc->ports[1].port = 7471;
	bc->nports = 2;
	bc->nick = (const uint8_t *)"alice";
	bc->nick_len = 5;
}

/* Decode a copy of p[0..n) (so ASan sees reads past the end). */
static int
decode_copy(const uint8_t *p, size_t n, struct beacon *bc, uint8_t **keep)
{
	uint8_t *c = malloc(n ? n : 1);
	int rc;

	memcpy(c, p, n);
	rc = beacon_decode(c, n, bc);
	if (keep != NULL)
		*keep = c;
	else
		free(c);
	return rc;
}

/* Change one byte of an encoded sample and decode it. */
static int
decode_patched(const struct buf *b, size_t off, uint8_t v)
{
	uint8_t c[BEACON_MAX];
	struct beacon bc;

	memcpy(c, buf_ptr(b), buf_len(b));
	c[off] = v;
	return decode_copy(c, buf_len(b), &bc, NULL);
}

/* Encode, decode, compare. */
static void
test_roundtrip(void)
{
	struct beacon in, out;
	struct buf b;
	uint8_t *keep;

	sample(&in, BEACON_QUERY);
	buf_init(&b, BEACON_MAX);
	is_int(beacon_encode(&b, &in), 0, "a beacon without known keys encodes");
	is_int(buf_len(&b), BEACON_MIN + 2 * 3 + 5, "it is %d bytes", BEACON_MIN + 2 * 3 + 5);
	ok(memcmp(buf_ptr(&b), "cfbn\x01\x01\x01\x02\x03\x04\x00\x1e", 12) == 0,
	    "magic, version, flags, seq and interval are laid out as specified");
	is_int(decode_copy(buf_ptr(&b), buf_len(&b), &out, &keep), BEACON_OK, "it decodes");
	ok(out.flags == BEACON_QUERY && out.seq == in.seq && out.interval_s == 30,
	    "flags, seq and interval survive");
	ok(memcmp(out.key, key_a, BEACON_KEYLEN) == 0, "the key survives");
	ok(out.nports == 2 && beacon_port_for(&out, BEACON_AF_INET) == 7470 &&
	    beacon_port_for(&out, BEACON_AF_INET6) == 7471, "both ports survive");
	ok(out.nick_len == 5 && memcmp(out.nick, "alice", 5) == 0, "the nick survives");
	ok(out.ext_len == 0 && !beacon_knows(&out, key_a), "no extensions, knows nobody");
	free(keep);
	buf_free(&b);

	/* a goodbye carries no ports */
	sample(&in, BEACON_GOODBYE);
	in.nports = 0;
	buf_init(&b, BEACON_MAX);
	beacon_encode(&b, &in);
	is_int(decode_copy(buf_ptr(&b), buf_len(&b), &out, NULL), BEACON_OK, "a goodbye without ports decodes");
	buf_free(&b);
}

/* Every way a beacon can be broken. */
static void
test_malformed(void)
{
	struct beacon in, out;
	struct buf b;
	uint8_t big[BEACON_MAX + 8], c[BEACON_MAX];
	size_t k, n, bad = 0;

	sample(&in, 0);
	buf_init(&b, BEACON_MAX);
	beacon_encode(&b, &in);
	n = buf_len(&b);
	for (k = 0; k < n; k++)
		if (decode_copy(buf_ptr(&b), k, &out, NULL) == BEACON_OK)
			bad++;
	is_int(bad, 0, "every truncation of a beacon is refused");
	memcpy(c, buf_ptr(&b), n);
	c[n] = 0x09;   /* an extension type without its length */
	is_int(decode_copy(c, n + 1, &out, NULL), BEACON_EMALFORMED, "one trailing byte is malformed");
	c[n + 1] = 0;   /* type 9, empty: an unknown extension */
	is_int(decode_copy(c, n + 2, &out, NULL), BEACON_OK, "an unknown empty extension is skipped");
	c[n] = BEACON_EXT_KNOWN;
	c[n + 1] = 3;
	c[n + 2] = c[n + 3] = c[n + 4] = 0;
	is_int(decode_copy(c, n + 5, &out, NULL), BEACON_EMALFORMED, "a KNOWN list of 3 bytes is malformed");
	c[n + 1] = 5;
	is_int(decode_copy(c, n + 5, &out, NULL), BEACON_EMALFORMED, "an extension longer than the datagram is malformed");

	is_int(decode_patched(&b, 0, 'C'), BEACON_EMAGIC, "a wrong magic is not a beacon");
	is_int(decode_patched(&b, 4, 2), BEACON_EVERSION, "version 2 is refused as a version");
	is_int(decode_patched(&b, 4, 0), BEACON_EVERSION, "version 0 is refused as a version");
	is_int(decode_patched(&b, 5, BEACON_GOODBYE | BEACON_QUERY), BEACON_EMALFORMED, "goodbye+query is malformed");
	is_int(decode_patched(&b, 5, BEACON_GOODBYE | BEACON_REPLY), BEACON_EMALFORMED, "goodbye+reply is malformed");
	is_int(decode_patched(&b, 5, BEACON_QUERY | BEACON_REPLY), BEACON_EMALFORMED, "query+reply is malformed");
	is_int(decode_patched(&b, 5, 0xf0), BEACON_OK, "reserved flag bits are ignored");
	is_int(decode_patched(&b, 11, 0), BEACON_EMALFORMED, "interval 0 is malformed");
	{
		uint8_t cc[BEACON_MAX];

		memcpy(cc, buf_ptr(&b), n);
		cc[10] = 0x0e;
		cc[11] = 0x11;   /* 3601 */
		is_int(decode_copy(cc, n, &out, NULL), BEACON_EMALFORMED, "interval 3601 is malformed");
	}
	is_int(decode_patched(&b, 44, 3), BEACON_EMALFORMED, "three ports are malformed");
	is_int(decode_patched(&b, 44, 0), BEACON_EMALFORMED, "no port in an announcement is malformed");
	is_int(decode_patched(&b, 45, 5), BEACON_EMALFORMED, "an unknown address family is malformed");
	is_int(decode_patched(&b, 48, 4), BEACON_EMALFORMED, "two ports for one family are malformed");
	{
		uint8_t cc[BEACON_MAX];

		memcpy(cc, buf_ptr(&b), n);
		cc[46] = cc[47] = 0;
		is_int(decode_copy(cc, n, &out, NULL), BEACON_EMALFORMED, "port 0 is malformed");
	}
	buf_free(&b);

	/* a 65-byte nick */
	memset(big, 'n', sizeof big);
	sample(&in, 0);
	in.nick = big;
	in.nick_len = BEACON_NICK_MAX + 1;
	buf_init(&b, BEACON_MAX);
	ok(beacon_encode(&b, &in) < 0, "a 65-byte nick is not encoded");
	buf_free(&b);
	in.nick_len = BEACON_NICK_MAX;
	buf_init(&b, BEACON_MAX);
	beacon_encode(&b, &in);
	is_int(decode_copy(buf_ptr(&b), buf_len(&b), &out, NULL), BEACON_OK, "a 64-byte nick is fine");
	is_int(decode_patched(&b, 51, BEACON_NICK_MAX + 1), BEACON_EMALFORMED, "a nick length of 65 is malformed");
	buf_free(&b);

	/* the size limit */
	sample(&in, 0);
	buf_init(&b, 2 * BEACON_MAX);
	beacon_encode(&b, &in);
	n = buf_len(&b);
	memcpy(big, buf_ptr(&b), n);
	memset(big + n, 0, sizeof big - n);   /* empty extensions of type 0 up to the end */
	if ((BEACON_MAX - n) % 2 == 1)
		big[n + 1] = 1;   /* the first one a byte long, so that the pairs come out even */
	is_int(decode_copy(big, BEACON_MAX, &out, NULL), BEACON_OK, "a datagram of exactly %d bytes is fine", BEACON_MAX);
	is_int(decode_copy(big, BEACON_MAX + 2, &out, NULL), BEACON_EMALFORMED, "a longer one is refused");
	is_int(decode_copy((const uint8_t *)"cf", 2, &out, NULL), BEACON_EMAGIC, "two bytes are not a beacon");
	is_int(decode_copy((const uint8_t *)"", 0, &out, NULL), BEACON_EMAGIC, "nothing is not a beacon");
	buf_free(&b);
}

/* KNOWN lists: what fits, and lookups. */
static void
test_known(void)
{
	uint8_t known[500 * BEACON_PREFIX_LEN], *keep;
	struct beacon in, out;
	struct buf b;
	long rc;
	size_t i;

	for (i = 0; i < 500; i++) {
		known[i * 4] = (uint8_t)(i >> 8);
		known[i * 4 + 1] = (uint8_t)i;
		known[i * 4 + 2] = 0x5a;
		known[i * 4 + 3] = 0xa5;
	}
	memcpy(known + 7 * 4, key_b, 4);
	sample(&in, BEACON_QUERY);
	in.known = known;
	in.nknown = 500;
	buf_init(&b, BEACON_MAX);
	rc = beacon_encode(&b, &in);
	ok(rc > 250 && rc < 500, "as many of 500 prefixes as fit are sent (%ld)", rc);
	ok(buf_len(&b) <= BEACON_MAX, "the datagram stays within %d bytes (%zu)", BEACON_MAX, buf_len(&b));
	is_int(decode_copy(buf_ptr(&b), buf_len(&b), &out, &keep), BEACON_OK, "it decodes");
	ok(beacon_knows(&out, key_b), "a listed key is known");
	ok(!beacon_knows(&out, key_a), "an unlisted key is not");
	free(keep);
	buf_free(&b);

	in.nknown = 3;
	buf_init(&b, BEACON_MAX);
	is_int(beacon_encode(&b, &in), 3, "three prefixes fit");
	is_int(buf_len(&b), BEACON_MIN + 6 + 5 + 2 + 12, "in one extension");
	buf_free(&b);
}

/* The refresh interval grows with the number of hosts, within bounds. */
static void
test_interval(void)
{
	is_int(disc_refresh_interval(30000, 1), 30000, "one host: 30 s");
	is_int(disc_refresh_interval(30000, 30), 30000, "30 hosts: 30 s");
	is_int(disc_refresh_interval(30000, 50), 50000, "50 hosts: 50 s (one announcement a second)");
	is_int(disc_refresh_interval(30000, 512), 512000, "512 hosts: 512 s");
	is_int(disc_refresh_interval(30000, 100000), BEACON_INTERVAL_MAX * 1000, "never above an hour");
	is_int(disc_refresh_interval(1000, 3), 1000, "a 1 s minimum stays for a few hosts");
	is_int(disc_refresh_interval(1000, 60), 2000, "and scales the same way");
}

int
main(void)
{
	memset(key_a, 0xaa, sizeof key_a);
	memset(key_b, 0xbb, sizeof key_b);
	test_roundtrip();
	test_malformed();
	test_known();
	test_interval();
	return tap_done();
}
