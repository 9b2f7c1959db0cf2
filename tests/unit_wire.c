/* unit_wire.c - unit tests for net/wire.c: preamble, frames, record codec. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "wire.h"
#include "tap.h"

static const uint8_t id16[WIRE_ID_LEN] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};

/* Every prefix shorter than the whole record must fail as malformed. */
static int
all_prefixes_malformed(const uint8_t *p, size_t n)
{
	struct record r;
	size_t k;
	int bad = 0;

	for (k = 0; k < n; k++) {
		/* copy so ASan sees a read past the prefix */
		uint8_t *c = malloc(k ? k : 1);

		memcpy(c, p, k);
		if (wire_decode(c, k, &r) != WIRE_EMALFORMED)
			bad++;
		free(c);
	}
	return bad;
}

/* The same record with one byte appended must fail as malformed. */
static int
trailing_malformed(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n + 1);
	struct record r;
	int rc;

	memcpy(c, p, n);
	c[n] = 0;
	rc = wire_decode(c, n + 1, &r);
	free(c);
	return rc == WIRE_EMALFORMED;
}

/* Round trip, truncation and trailing bytes for each record type. */
static void
test_records(void)
{
	struct record r;
	struct buf b;
	char nick[WIRE_NICK_MAX], text[WIRE_TEXT_MAX + 1];
	int rc;

	memset(nick, 'n', sizeof nick);
	memset(text, 't', sizeof text);
	buf_init(&b, WIRE_RECORD_MAX);

	/* HELLO */
	is_int(wire_put_hello(&b, CAP_MSG | 0x80000000u, "alice", 5), BUF_OK, "encode HELLO");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	is_int(rc, WIRE_OK, "decode HELLO");
	is_int(r.type, REC_HELLO, "HELLO type");
	is_int(r.u.hello.version, WIRE_VERSION, "HELLO version");
	ok(r.u.hello.caps == (CAP_MSG | 0x80000000u), "HELLO caps");
	ok(r.u.hello.nick_len == 5 && memcmp(r.u.hello.nick, "alice", 5) == 0, "HELLO nick");
	ok(r.u.hello.nick >= buf_ptr(&b) && r.u.hello.nick < buf_ptr(&b) + buf_len(&b),
	    "HELLO nick borrows from the input");
	is_int(all_prefixes_malformed(buf_ptr(&b), buf_len(&b)), 0, "every truncated HELLO is malformed");
	ok(trailing_malformed(buf_ptr(&b), buf_len(&b)), "HELLO + one stray byte is malformed");
	buf_reset(&b);
	is_int(wire_put_hello(&b, 0, nick, WIRE_NICK_MAX), BUF_OK, "HELLO with a 64-byte nick");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.u.hello.nick_len == WIRE_NICK_MAX, "decodes with all 64 bytes");
	buf_reset(&b);
	is_int(wire_put_hello(&b, 0, "", 0), BUF_OK, "HELLO with an empty nick");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.u.hello.nick_len == 0, "decodes with an empty nick");
	buf_reset(&b);
	is_int(wire_put_hello(&b, 0, nick, WIRE_NICK_MAX + 1), BUF_ETOOBIG, "a 65-byte nick is not encoded");
	is_int(buf_len(&b), 0, "and nothing was written");

	/* MSG */
	buf_reset(&b);
	is_int(wire_put_msg(&b, id16, 0x0102030405060708ull, "hi there", 8), BUF_OK, "encode MSG");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	is_int(rc, WIRE_OK, "decode MSG");
	is_int(r.type, REC_MSG, "MSG type");
	is_mem(r.u.msg.id, id16, WIRE_ID_LEN, "MSG id");
	ok(r.u.msg.ts_ms == 0x0102030405060708ull, "MSG timestamp");
	ok(r.u.msg.text_len == 8 && memcmp(r.u.msg.text, "hi there", 8) == 0, "MSG text");
	is_int(all_prefixes_malformed(buf_ptr(&b), buf_len(&b)), 0, "every truncated MSG is malformed");
	ok(trailing_malformed(buf_ptr(&b), buf_len(&b)), "MSG + one stray byte is malformed");
	buf_reset(&b);
	is_int(wire_put_msg(&b, id16, 0, text, WIRE_TEXT_MAX), BUF_OK, "MSG with 4096 bytes of text");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.u.msg.text_len == WIRE_TEXT_MAX, "decodes with all 4096 bytes");
	is_int(all_prefixes_malformed(buf_ptr(&b), buf_len(&b)), 0, "every truncated 4096-byte MSG is malformed");
	buf_reset(&b);
	is_int(wire_put_msg(&b, id16, 0, text, WIRE_TEXT_MAX + 1), BUF_ETOOBIG, "4097 bytes of text are not encoded");
	is_int(buf_len(&b), 0, "and nothing was written");
	buf_reset(&b);
	is_int(wire_put_msg(&b, id16, UINT64_MAX, "", 0), BUF_OK, "MSG with empty text");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.u.msg.text_len == 0 && r.u.msg.ts_ms == UINT64_MAX, "decodes");

	/* ACK */
	buf_reset(&b);
	is_int(wire_put_ack(&b, id16), BUF_OK, "encode ACK");
	is_int(buf_len(&b), 1 + WIRE_ID_LEN, "ACK is 17 bytes");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.type == REC_ACK && memcmp(r.u.ack_id, id16, WIRE_ID_LEN) == 0,
	    "decode ACK");
	is_int(all_prefixes_malformed(buf_ptr(&b), buf_len(&b)), 0, "every truncated ACK is malformed");
	ok(trailing_malformed(buf_ptr(&b), buf_len(&b)), "ACK + one stray byte is malformed");

	/* PING and PONG */
	buf_reset(&b);
	is_int(wire_put_ping(&b, REC_PING, 0xfedcba9876543210ull), BUF_OK, "encode PING");
	{
		static const uint8_t want[] = { 0x04, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10 };

		ok(buf_len(&b) == sizeof want && memcmp(buf_ptr(&b), want, sizeof want) == 0,
		    "PING bytes: type, big-endian nonce");
	}
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.type == REC_PING && r.u.ping == 0xfedcba9876543210ull, "decode PING");
	is_int(all_prefixes_malformed(buf_ptr(&b), buf_len(&b)), 0, "every truncated PING is malformed");
	ok(trailing_malformed(buf_ptr(&b), buf_len(&b)), "PING + one stray byte is malformed");
	buf_reset(&b);
	is_int(wire_put_ping(&b, REC_PONG, 42), BUF_OK, "encode PONG");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.type == REC_PONG && r.u.ping == 42, "decode PONG");
	is_int(all_prefixes_malformed(buf_ptr(&b), buf_len(&b)), 0, "every truncated PONG is malformed");
	ok(trailing_malformed(buf_ptr(&b), buf_len(&b)), "PONG + one stray byte is malformed");

	/* BYE */
	buf_reset(&b);
	is_int(wire_put_bye(&b, BYE_DUPLICATE, "already connected"), BUF_OK, "encode BYE");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.type == REC_BYE && r.u.bye.reason == BYE_DUPLICATE, "decode BYE reason");
	ok(r.u.bye.text_len == 17 && memcmp(r.u.bye.text, "already connected", 17) == 0, "BYE text");
	is_int(all_prefixes_malformed(buf_ptr(&b), buf_len(&b)), 0, "every truncated BYE is malformed");
	ok(trailing_malformed(buf_ptr(&b), buf_len(&b)), "BYE + one stray byte is malformed");
	buf_reset(&b);
	is_int(wire_put_bye(&b, BYE_QUIT, NULL), BUF_OK, "BYE without text");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.u.bye.reason == BYE_QUIT && r.u.bye.text_len == 0, "decodes with empty text");
	buf_reset(&b);
	text[200] = '\0';
	is_int(wire_put_bye(&b, BYE_PROTOCOL, text), BUF_OK, "BYE with 200 bytes of text");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.u.bye.text_len == WIRE_BYE_TEXT_MAX, "is cut to 128 bytes");

	buf_free(&b);
}

/* MSG and HELLO byte for byte, as the format defines them. */
static void
test_layout(void)
{
	static const uint8_t msg[] = {
		0x02,                                             /* MSG */
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,   /* id */
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
		0x00, 0x00, 0x01, 0x8f, 0x0e, 0x1a, 0x2b, 0x3c,   /* ts_ms */
		0x00, 0x05,                                       /* text length */
		'h', 'e', 'l', 'l', 'o',
	};
	static const uint8_t hello[] = {
		0x01,                      /* HELLO */
		0x00, 0x01,                /* version 1 */
		0x00, 0x00, 0x00, 0x01,    /* caps: CAP_MSG */
		0x03, 'b', 'o', 'b',       /* nick, u8 length */
	};
	static const uint8_t bye[] = { 0x06, 0x02, 0x03, 'b', 'a', 'd' };
	struct buf b;

	buf_init(&b, 1024);
	wire_put_msg(&b, id16, 0x0000018f0e1a2b3cull, "hello", 5);
	ok(buf_len(&b) == sizeof msg && memcmp(buf_ptr(&b), msg, sizeof msg) == 0,
	    "MSG: type, 16-byte id, u64 ts, u16 length, text");
	buf_reset(&b);
	wire_put_hello(&b, CAP_MSG, "bob", 3);
	ok(buf_len(&b) == sizeof hello && memcmp(buf_ptr(&b), hello, sizeof hello) == 0,
	    "HELLO: type, u16 version, u32 caps, u8 length, nick");
	buf_reset(&b);
	wire_put_bye(&b, BYE_PROTOCOL, "bad");
	ok(buf_len(&b) == sizeof bye && memcmp(buf_ptr(&b), bye, sizeof bye) == 0,
	    "BYE: type, reason, u8 length, text");
	buf_free(&b);
}

/* Hand-made records that break the rules. */
static void
test_malformed(void)
{
	struct record r;
	uint8_t big[1 + WIRE_ID_LEN + 8 + 2 + WIRE_TEXT_MAX + 1];
	uint8_t h[16 + 70];

	/* HELLO version 0 */
	{
		static const uint8_t v0[] = { 0x01, 0x00, 0x00, 0, 0, 0, 1, 0 };
		static const uint8_t v9[] = { 0x01, 0x00, 0x09, 0, 0, 0, 1, 0 };

		is_int(wire_decode(v0, sizeof v0, &r), WIRE_EMALFORMED, "HELLO version 0 is malformed");
		is_int(wire_decode(v9, sizeof v9, &r), WIRE_OK, "HELLO version 9 decodes");
		is_int(r.u.hello.version, 9, "and reports version 9");
	}
	/* nick over 64 */
	memset(h, 'x', sizeof h);
	h[0] = REC_HELLO;
	h[1] = 0;
	h[2] = 1;
	h[3] = h[4] = h[5] = h[6] = 0;
	h[7] = WIRE_NICK_MAX + 1;
	is_int(wire_decode(h, 8 + WIRE_NICK_MAX + 1, &r), WIRE_EMALFORMED, "a 65-byte nick is malformed");
	h[7] = WIRE_NICK_MAX;
	is_int(wire_decode(h, 8 + WIRE_NICK_MAX, &r), WIRE_OK, "a 64-byte nick decodes");
	h[7] = 255;
	is_int(wire_decode(h, sizeof h, &r), WIRE_EMALFORMED, "a 255-byte nick claim is malformed");

	/* text over 4096 */
	memset(big, 'y', sizeof big);
	big[0] = REC_MSG;
	big[1 + WIRE_ID_LEN + 8] = (WIRE_TEXT_MAX + 1) >> 8;
	big[1 + WIRE_ID_LEN + 8 + 1] = (WIRE_TEXT_MAX + 1) & 0xff;
	is_int(wire_decode(big, sizeof big, &r), WIRE_EMALFORMED, "4097 bytes of MSG text are malformed");
	big[1 + WIRE_ID_LEN + 8 + 1] = WIRE_TEXT_MAX & 0xff;
	big[1 + WIRE_ID_LEN + 8] = WIRE_TEXT_MAX >> 8;
	is_int(wire_decode(big, sizeof big - 1, &r), WIRE_OK, "4096 bytes decode");
	is_int(wire_decode(big, sizeof big, &r), WIRE_EMALFORMED, "4096 bytes plus one stray byte do not");
	big[1 + WIRE_ID_LEN + 8] = 0xff;
	big[1 + WIRE_ID_LEN + 8 + 1] = 0xff;
	is_int(wire_decode(big, sizeof big, &r), WIRE_EMALFORMED, "a 65535-byte text claim is malformed");

	/* BYE text over 128 */
	{
		uint8_t bye[3 + 129];

		memset(bye, 'b', sizeof bye);
		bye[0] = REC_BYE;
		bye[1] = 0;
		bye[2] = 129;
		is_int(wire_decode(bye, sizeof bye, &r), WIRE_EMALFORMED, "129 bytes of BYE text are malformed");
		bye[2] = 128;
		is_int(wire_decode(bye, sizeof bye - 1, &r), WIRE_OK, "128 bytes decode");
	}

	/* empty input */
	is_int(wire_decode(h, 0, &r), WIRE_EMALFORMED, "an empty record is malformed");
}

/* HELLO extensions: skipped when well formed, rejected otherwise. */
static void
test_extensions(void)
{
	static const uint8_t base[] = { 0x01, 0x00, 0x01, 0, 0, 0, 1, 0x02, 'e', 'd' };
	static const uint8_t ext1[] = { 0x09, 0x00, 0x03, 'a', 'b', 'c' };
	static const uint8_t ext2[] = { 0xff, 0x00, 0x00 };
	uint8_t rec[64];
	struct record r;
	size_t n = 0, k, bad = 0;

	memcpy(rec, base, sizeof base);
	n = sizeof base;
	memcpy(rec + n, ext1, sizeof ext1);
	n += sizeof ext1;
	memcpy(rec + n, ext2, sizeof ext2);
	n += sizeof ext2;
	is_int(wire_decode(rec, n, &r), WIRE_OK, "HELLO with two unknown extensions decodes");
	ok(r.u.hello.nick_len == 2 && memcmp(r.u.hello.nick, "ed", 2) == 0 && r.u.hello.caps == 1,
	    "and its fields are those before the extensions");
	/* prefixes are valid only at extension boundaries */
	for (k = 0; k < n; k++) {
		int want = (k == sizeof base || k == sizeof base + sizeof ext1) ? WIRE_OK : WIRE_EMALFORMED;

		if (wire_decode(rec, k, &r) != want)
			bad++;
	}
	is_int(bad, 0, "its truncations are malformed except at extension boundaries");

	/* an extension claiming more than is there */
	memcpy(rec, base, sizeof base);
	n = sizeof base;
	rec[n++] = 0x01;
	rec[n++] = 0x00;
	rec[n++] = 0x10;
	rec[n++] = 'z';
	is_int(wire_decode(rec, n, &r), WIRE_EMALFORMED, "an extension longer than the record is malformed");
	/* an extension with a one-byte length */
	n = sizeof base;
	rec[n++] = 0x01;
	rec[n++] = 0x00;
	is_int(wire_decode(rec, n, &r), WIRE_EMALFORMED, "an extension with a cut length is malformed");
	/* a single stray type byte */
	n = sizeof base + 1;
	is_int(wire_decode(rec, n, &r), WIRE_EMALFORMED, "a lone extension type byte is malformed");
}

/* Unknown record types are reported as such, not as malformed. */
static void
test_unknown(void)
{
	static const uint8_t types[] = { 0x00, 0x07, 0x0f, 0x7e, 0x80, 0xff };
	uint8_t rec[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	struct record r;
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof types; i++) {
		rec[0] = types[i];
		if (wire_decode(rec, sizeof rec, &r) != WIRE_EUNKNOWN || r.type != types[i])
			bad++;
		if (wire_decode(rec, 1, &r) != WIRE_EUNKNOWN)
			bad++;
	}
	is_int(bad, 0, "types 0x00 0x07 0x0f 0x7e 0x80 0xff are WIRE_EUNKNOWN, with or without a body");
	is_str(wire_type_name(REC_MSG), "MSG", "MSG has a name");
	is_str(wire_type_name(REC_HELLO), "HELLO", "HELLO has a name");
	is_str(wire_type_name(0x7e), "unknown", "0x7e is unknown");
}

/* wire_frame_peek on partial, complete, empty and oversized frames. */
static void
test_frames(void)
{
	uint8_t in[16 + 300];
	const uint8_t *body = NULL;
	size_t len = 0;
	struct buf v;

	memset(in, 0xab, sizeof in);
	buf_view(&v, in, 0);
	is_int(wire_frame_peek(&v, 100, &body, &len), 0, "no bytes: need more");
	in[0] = 0x00;
	in[1] = 0x05;
	buf_view(&v, in, 1);
	is_int(wire_frame_peek(&v, 100, &body, &len), 0, "one header byte: need more");
	buf_view(&v, in, 2);
	is_int(wire_frame_peek(&v, 100, &body, &len), 0, "header only: need more");
	buf_view(&v, in, 6);
	is_int(wire_frame_peek(&v, 100, &body, &len), 0, "4 of 5 body bytes: need more");
	buf_view(&v, in, 7);
	is_int(wire_frame_peek(&v, 100, &body, &len), 1, "5 of 5 body bytes: a frame");
	ok(body == in + 2 && len == 5, "body points past the header, length 5");
	is_int(buf_len(&v), 7, "peeking consumed nothing");
	/* a second frame behind the first does not change the answer */
	in[7] = 0x00;
	in[8] = 0x01;
	buf_view(&v, in, 10);
	ok(wire_frame_peek(&v, 100, &body, &len) == 1 && body == in + 2 && len == 5,
	    "the first of two frames");
	buf_consume(&v, 7);
	ok(wire_frame_peek(&v, 100, &body, &len) == 1 && body == in + 9 && len == 1,
	    "then the second one");

	in[0] = 0;
	in[1] = 0;
	buf_view(&v, in, 2);
	is_int(wire_frame_peek(&v, 100, &body, &len), -1, "a zero-length frame is an error");
	in[0] = 0x01;
	in[1] = 0x00;   /* 256 */
	buf_view(&v, in, 2);
	is_int(wire_frame_peek(&v, 255, &body, &len), -1, "256 over a max of 255: an error before the body");
	buf_view(&v, in, 2 + 256);
	is_int(wire_frame_peek(&v, 255, &body, &len), -1, "also with the body present");
	is_int(wire_frame_peek(&v, 256, &body, &len), 1, "256 at a max of 256 is a frame");
	is_int(len, 256, "of 256 bytes");
	in[0] = 0xff;
	in[1] = 0xff;
	buf_view(&v, in, sizeof in);
	is_int(wire_frame_peek(&v, WIRE_HS_MAX, &body, &len), -1, "65535 over the handshake max is an error");
	is_int(wire_frame_peek(&v, WIRE_FRAME_MAX, &body, &len), 0, "65535 under the frame max needs more");
}

/* The preamble. */
static void
test_preamble(void)
{
	uint8_t p[WIRE_PREAMBLE_LEN], q[WIRE_PREAMBLE_LEN];
	static const uint8_t want[WIRE_PREAMBLE_LEN] = { 'C', 'O', 'N', 'F', 'A', 'B', 1, 3 };
	uint8_t ver = 0, flags = 0;
	int i, bad = 0;

	wire_preamble(p, WIRE_CIPHER_CHACHA | WIRE_CIPHER_AESGCM);
	is_mem(p, want, sizeof want, "preamble is CONFAB, version 1, flags");
	is_int(wire_preamble_parse(p, &ver, &flags), 0, "our own preamble parses");
	ok(ver == WIRE_VERSION && flags == 3, "version 1 and flags 3");
	for (i = 0; i < 6; i++) {
		memcpy(q, p, sizeof q);
		q[i] ^= 0x20;   /* "confab" in another case is not ours */
		if (wire_preamble_parse(q, &ver, &flags) != -1)
			bad++;
	}
	is_int(bad, 0, "any change to the magic is refused");
	memcpy(q, "GET / HTTP/1.1", WIRE_PREAMBLE_LEN);
	is_int(wire_preamble_parse(q, &ver, &flags), -1, "an HTTP request is refused");
	memcpy(q, p, sizeof q);
	q[6] = 0;
	is_int(wire_preamble_parse(q, &ver, &flags), -1, "version 0 is refused");
	q[6] = 2;
	q[7] = 0x80;
	ok(wire_preamble_parse(q, &ver, &flags) == 0 && ver == 2 && flags == 0x80,
	    "a later version is parsed and reported for the caller to judge");
}

int
main(void)
{
	test_records();
	test_layout();
	test_malformed();
	test_extensions();
	test_unknown();
	test_frames();
	test_preamble();
	return tap_done();
}
