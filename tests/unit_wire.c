/* unit_wire.c - unit tests for net/wire.c: preamble, frames, record codec. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "session.h"
#include "wire.h"
#include "xfs.h"
#include "transfer.h"
#include "room.h"
#include "roomwire.h"
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
	is_int(wire_put_hello(&b, CAP_MSG | 0x80000000u, "alice", 5, 0), BUF_OK, "encode HELLO");
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
	is_int(wire_put_hello(&b, 0, nick, WIRE_NICK_MAX, 0), BUF_OK, "HELLO with a 64-byte nick");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.u.hello.nick_len == WIRE_NICK_MAX, "decodes with all 64 bytes");
	buf_reset(&b);
	is_int(wire_put_hello(&b, 0, "", 0, 0), BUF_OK, "HELLO with an empty nick");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.u.hello.nick_len == 0, "decodes with an empty nick");
	buf_reset(&b);
	is_int(wire_put_hello(&b, 0, nick, WIRE_NICK_MAX + 1, 0), BUF_ETOOBIG, "a 65-byte nick is not encoded");
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
	wire_put_hello(&b, CAP_MSG, "bob", 3, 0);
	ok(buf_len(&b) == sizeof hello && memcmp(buf_ptr(&b), hello, sizeof hello) == 0,
	    "HELLO: type, u16 version, u32 caps, u8 length, nick");
	{
		/* with the listening port: extension 1, u16 length 2, the port */
		static const uint8_t ext[] = { 0x01, 0x00, 0x02, 0x1d, 0x2e };
		struct record r;

		buf_reset(&b);
		wire_put_hello(&b, CAP_MSG, "bob", 3, 7470);
		ok(buf_len(&b) == sizeof hello + sizeof ext &&
		    memcmp(buf_ptr(&b), hello, sizeof hello) == 0 &&
		    memcmp(buf_ptr(&b) + sizeof hello, ext, sizeof ext) == 0,
		    "HELLO with a port: the port extension follows the nick");
		is_int(wire_decode(buf_ptr(&b), buf_len(&b), &r), WIRE_OK, "it decodes");
		is_int(r.u.hello.port, 7470, "and the port comes back");
	}
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
		/* PROTOCOL.md 5.6: a receiver honours a BYE whatever its text (a str8) */
		is_int(wire_decode(bye, sizeof bye, &r), WIRE_OK, "129 bytes of BYE text still decode");
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

/* HELLO extension 2: the sender's onion id and port; a bad body is ignored. */
static void
test_onion_ext(void)
{
	static const char id[] = "vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd";
	struct record r;
	struct buf b;
	uint8_t *p;
	size_t at;

	buf_init(&b, WIRE_RECORD_MAX);
	is_int(wire_put_hello(&b, CAP_MSG, "bob", 3, 7470), BUF_OK, "HELLO with a port");
	is_int(wire_put_hello_onion(&b, id, 7471), BUF_OK, "and the onion extension");
	is_int(wire_decode(buf_ptr(&b), buf_len(&b), &r), WIRE_OK, "decodes");
	ok(r.u.hello.onion != NULL && memcmp(r.u.hello.onion, id, WIRE_ONION_LEN) == 0, "the onion id");
	is_int(r.u.hello.onion_port, 7471, "its port");
	is_int(r.u.hello.port, 7470, "the listening port too");
	is_int(all_prefixes_malformed(buf_ptr(&b), buf_len(&b)), 2, "truncations are malformed but at the two extension boundaries");
	at = buf_len(&b) - 2 - WIRE_ONION_LEN;
	p = b.d + b.off + at;
	p[5] = '1';   /* not base32 */
	is_int(wire_decode(buf_ptr(&b), buf_len(&b), &r), WIRE_OK, "an id with a '1' still decodes");
	ok(r.u.hello.onion == NULL && r.u.hello.onion_port == 0, "but the extension is ignored");
	p[5] = 'a';
	p[WIRE_ONION_LEN] = p[WIRE_ONION_LEN + 1] = 0;
	is_int(wire_decode(buf_ptr(&b), buf_len(&b), &r), WIRE_OK, "port 0 decodes");
	ok(r.u.hello.onion == NULL, "but the extension is ignored");
	buf_reset(&b);
	is_int(wire_put_hello_onion(&b, "short", 7471), BUF_ETOOBIG, "a short id is not encoded");
	is_int(wire_put_hello_onion(&b, id, 0), BUF_ETOOBIG, "nor port 0");
	buf_free(&b);
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

/* Every prefix of a DATA record from its header + 1 byte on is itself valid. */
static int
data_prefixes_ok(const uint8_t *p, size_t n)
{
	struct record r;
	size_t k;
	int bad = 0;

	for (k = 0; k < n; k++) {
		int want = k >= XFER_DATA_HDR + 1 ? WIRE_OK : WIRE_EMALFORMED;

		if (wire_decode(p, k, &r) != want)
			bad++;
	}
	return bad;
}

/* The file transfer records: round trips, exact sizes, truncation, limits. */
static void
test_xfer(void)
{
	static const uint8_t key[XFER_KEY_LEN] = "0123456789abcdef0123456789abcdef";
	struct wire_resume rs, rs2;
	struct wire_entry e;
	struct rec_list l;
	struct record r;
	struct buf b;
	char *path;
	int rc;

	buf_init(&b, WIRE_RECORD_MAX);

	/* OFFER */
	is_int(wire_put_offer(&b, id16, 0x01020304, 3, 0x1122334455667788ull, key), BUF_OK, "encode OFFER");
	is_int(buf_len(&b), 1 + 16 + 4 + 4 + 8 + 32, "OFFER is 65 bytes");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.type == REC_OFFER && memcmp(r.u.offer.id, id16, WIRE_ID_LEN) == 0 &&
	    r.u.offer.handle == 0x01020304 && r.u.offer.count == 3 &&
	    r.u.offer.total == 0x1122334455667788ull && memcmp(r.u.offer.key, key, XFER_KEY_LEN) == 0,
	    "decode OFFER with every field");
	is_int(all_prefixes_malformed(buf_ptr(&b), buf_len(&b)), 0, "every truncated OFFER is malformed");
	ok(trailing_malformed(buf_ptr(&b), buf_len(&b)), "OFFER + one stray byte is malformed");

	/* OFFER_PART with a directory and a file */
	buf_reset(&b);
	is_int(wire_begin_list(&b, REC_OFFER_PART, 9, 100), BUF_OK, "begin OFFER_PART");
	is_int(wire_put_entry(&b, "dir", 3, 1, 0, -5, 0755), BUF_OK, "directory entry");
	is_int(wire_put_entry(&b, "dir/f", 5, 0, 12345, 1700000000123456789ll, 0644), BUF_OK, "file entry");
	wire_end_list(&b, 2);
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.type == REC_OFFER_PART && r.u.list.handle == 9 && r.u.list.first == 100 &&
	    r.u.list.count == 2, "decode OFFER_PART header");
	l = r.u.list;
	ok(wire_next_entry(&l, &e) == 0 && e.path_len == 3 && memcmp(e.path, "dir", 3) == 0 &&
	    e.type == 1 && e.size == 0 && e.mtime_ns == -5 && e.mode == 0755, "first entry: the directory");
	ok(wire_next_entry(&l, &e) == 0 && e.path_len == 5 && memcmp(e.path, "dir/f", 5) == 0 &&
	    e.type == 0 && e.size == 12345 && e.mtime_ns == 1700000000123456789ll && e.mode == 0644,
	    "second entry: the file (negative and large times survive)");
	is_int(wire_next_entry(&l, &e), -1, "then no more");
	is_int(all_prefixes_malformed(buf_ptr(&b), buf_len(&b)), 0, "every truncated OFFER_PART is malformed");
	ok(trailing_malformed(buf_ptr(&b), buf_len(&b)), "OFFER_PART + one stray byte is malformed");
	wire_end_list(&b, 0);
	is_int(wire_decode(buf_ptr(&b), buf_len(&b), &r), WIRE_EMALFORMED, "an OFFER_PART of 0 entries is malformed");
	wire_end_list(&b, 3);
	is_int(wire_decode(buf_ptr(&b), buf_len(&b), &r), WIRE_EMALFORMED, "one claiming 3 of 2 entries is malformed");
	wire_end_list(&b, 1);
	is_int(wire_decode(buf_ptr(&b), buf_len(&b), &r), WIRE_EMALFORMED, "one claiming 1 of 2 entries is malformed");

	/*
	 * Entries with bad values decode: PROTOCOL.md 6.7 makes them an error of
	 * the transfer (CANCEL 5, app/transfer.c), not of the session.
	 */
	buf_reset(&b);
	wire_begin_list(&b, REC_OFFER_PART, 1, 0);
	wire_put_entry(&b, "x", 1, 2, 0, 0, 0644);
	wire_end_list(&b, 1);
	is_int(wire_decode(buf_ptr(&b), buf_len(&b), &r), WIRE_OK, "entry type 2 decodes (the transfer refuses it)");
	l = r.u.list;
	ok(wire_next_entry(&l, &e) == 0 && e.type == 2, "... and is walked with its type");
	buf_reset(&b);
	wire_begin_list(&b, REC_OFFER_PART, 1, 0);
	wire_put_entry(&b, "d", 1, 1, 1, 0, 0755);
	wire_end_list(&b, 1);
	is_int(wire_decode(buf_ptr(&b), buf_len(&b), &r), WIRE_OK, "a directory with a size decodes");
	buf_reset(&b);
	wire_begin_list(&b, REC_OFFER_PART, 1, 0);
	wire_put_entry(&b, "", 0, 0, 1, 0, 0644);
	wire_end_list(&b, 1);
	is_int(wire_decode(buf_ptr(&b), buf_len(&b), &r), WIRE_OK, "an empty path decodes");
	path = malloc(XFER_PATH_MAX + 1);
	memset(path, 'p', XFER_PATH_MAX + 1);
	buf_reset(&b);
	wire_begin_list(&b, REC_OFFER_PART, 1, 0);
	is_int(wire_put_entry(&b, path, XFER_PATH_MAX + 1, 0, 1, 0, 0644), BUF_ETOOBIG, "a 4097-byte path is not encoded");
	is_int(wire_put_entry(&b, path, XFER_PATH_MAX, 0, 1, 0, 0644), BUF_OK, "a 4096-byte path is");
	wire_end_list(&b, 1);
	is_int(wire_decode(buf_ptr(&b), buf_len(&b), &r), WIRE_OK, "and decodes");
	/* the same by hand with 4097 bytes */
	buf_reset(&b);
	wire_begin_list(&b, REC_OFFER_PART, 1, 0);
	buf_put_str16(&b, path, XFER_PATH_MAX + 1);
	buf_put_u8(&b, 0);
	buf_put_u64(&b, 1);
	buf_put_u64(&b, 0);
	buf_put_u32(&b, 0644);
	wire_end_list(&b, 1);
	is_int(wire_decode(buf_ptr(&b), buf_len(&b), &r), WIRE_EMALFORMED, "a 4097-byte path is malformed");
	/* entries stop at the record limit, all or nothing */
	buf_reset(&b);
	wire_begin_list(&b, REC_OFFER_PART, 1, 0);
	{
		int n = 0;
		size_t before;

		for (;;) {
			before = buf_len(&b);
			if (wire_put_entry(&b, path, XFER_PATH_MAX, 0, 1, 0, 0644) != BUF_OK)
				break;
			n++;
		}
		ok(n > 1 && buf_len(&b) == before && buf_len(&b) <= WIRE_RECORD_MAX,
		    "%d big entries fit one record and the refused one left nothing behind", n);
		wire_end_list(&b, (uint16_t)n);
		rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
		ok(rc == WIRE_OK && r.u.list.count == n, "the full record decodes");
	}
	free(path);

	/* ACCEPT */
	buf_reset(&b);
	is_int(wire_put_accept(&b, 77, 2), BUF_OK, "encode ACCEPT");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.type == REC_ACCEPT && r.u.handle == 77 && r.accept_resumes == 2, "decode ACCEPT");
	is_int(all_prefixes_malformed(buf_ptr(&b), buf_len(&b)), 0, "every truncated ACCEPT is malformed");
	ok(trailing_malformed(buf_ptr(&b), buf_len(&b)), "ACCEPT + one stray byte is malformed");

	/* RESUME */
	memset(&rs, 0, sizeof rs);
	rs.index = 4;
	rs.offset = 1ull << 40;
	rs.flags = XRESUME_DONE;
	memset(rs.mac, 0x3c, sizeof rs.mac);
	buf_reset(&b);
	wire_begin_list(&b, REC_RESUME, 77, 0);
	is_int(wire_put_resume(&b, &rs), BUF_OK, "RESUME entry");
	wire_end_list(&b, 1);
	is_int(buf_len(&b), 1 + 4 + 2 + 4 + 8 + 1 + 16, "RESUME with one entry is 36 bytes");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.type == REC_RESUME && r.u.list.handle == 77 && r.u.list.count == 1, "decode RESUME");
	l = r.u.list;
	ok(wire_next_resume(&l, &rs2) == 0 && rs2.index == 4 && rs2.offset == 1ull << 40 &&
	    rs2.flags == XRESUME_DONE && memcmp(rs2.mac, rs.mac, XFER_MAC_LEN) == 0, "its entry");
	is_int(wire_next_resume(&l, &rs2), -1, "then no more");
	is_int(all_prefixes_malformed(buf_ptr(&b), buf_len(&b)), 0, "every truncated RESUME is malformed");
	ok(trailing_malformed(buf_ptr(&b), buf_len(&b)), "RESUME + one stray byte is malformed");

	/* DATA: the bytes run to the end of the record */
	buf_reset(&b);
	is_int(wire_put_data_hdr(&b, 77, 4, 4096), BUF_OK, "encode DATA header");
	is_int(buf_len(&b), XFER_DATA_HDR, "the header is XFER_DATA_HDR bytes");
	is_int(wire_decode(buf_ptr(&b), buf_len(&b), &r), WIRE_EMALFORMED, "DATA with no bytes is malformed");
	buf_put(&b, "payload", 7);
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.type == REC_DATA && r.u.data.handle == 77 && r.u.data.index == 4 &&
	    r.u.data.offset == 4096 && r.u.data.len == 7 && memcmp(r.u.data.p, "payload", 7) == 0,
	    "decode DATA");
	is_int(data_prefixes_ok(buf_ptr(&b), buf_len(&b)), 0,
	    "DATA prefixes are malformed up to the header and valid (shorter) after it");

	/* FILE_END */
	buf_reset(&b);
	is_int(wire_put_file_end(&b, 77, 4, 99999, 1), BUF_OK, "encode FILE_END");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.type == REC_FILE_END && r.u.fend.handle == 77 && r.u.fend.index == 4 &&
	    r.u.fend.size == 99999 && r.u.fend.status == 1, "decode FILE_END");
	is_int(all_prefixes_malformed(buf_ptr(&b), buf_len(&b)), 0, "every truncated FILE_END is malformed");
	ok(trailing_malformed(buf_ptr(&b), buf_len(&b)), "FILE_END + one stray byte is malformed");

	/* XFER_DONE */
	buf_reset(&b);
	is_int(wire_put_xfer_done(&b, 77), BUF_OK, "encode XFER_DONE");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.type == REC_XFER_DONE && r.u.handle == 77, "decode XFER_DONE");
	is_int(all_prefixes_malformed(buf_ptr(&b), buf_len(&b)), 0, "every truncated XFER_DONE is malformed");
	ok(trailing_malformed(buf_ptr(&b), buf_len(&b)), "XFER_DONE + one stray byte is malformed");

	/* XFER_RESULT */
	buf_reset(&b);
	is_int(wire_put_result(&b, 77, 2, "disk full"), BUF_OK, "encode XFER_RESULT");
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.type == REC_XFER_RESULT && r.u.result.handle == 77 && r.u.result.code == 2 &&
	    r.u.result.text_len == 9 && memcmp(r.u.result.text, "disk full", 9) == 0, "decode XFER_RESULT");
	is_int(all_prefixes_malformed(buf_ptr(&b), buf_len(&b)), 0, "every truncated XFER_RESULT is malformed");
	ok(trailing_malformed(buf_ptr(&b), buf_len(&b)), "XFER_RESULT + one stray byte is malformed");

	/* CANCEL */
	buf_reset(&b);
	is_int(wire_put_cancel(&b, 77, XDIR_RECEIVING, XCANCEL_NOSPACE, "no room"), BUF_OK, "encode CANCEL");
	{
		static const uint8_t want[] = {
			0x18, 0, 0, 0, 77, XDIR_RECEIVING, XCANCEL_NOSPACE, 7, 'n', 'o', ' ', 'r', 'o', 'o', 'm',
		};

		ok(buf_len(&b) == sizeof want && memcmp(buf_ptr(&b), want, sizeof want) == 0,
		    "CANCEL: type, u32 handle, u8 direction, u8 reason, str8 text");
	}
	rc = wire_decode(buf_ptr(&b), buf_len(&b), &r);
	ok(rc == WIRE_OK && r.type == REC_CANCEL && r.u.result.handle == 77 &&
	    r.u.result.dir == XDIR_RECEIVING && r.u.result.code == XCANCEL_NOSPACE &&
	    r.u.result.text_len == 7, "decode CANCEL");
	is_int(all_prefixes_malformed(buf_ptr(&b), buf_len(&b)), 0, "every truncated CANCEL is malformed");
	ok(trailing_malformed(buf_ptr(&b), buf_len(&b)), "CANCEL + one stray byte is malformed");
	b.d[b.off + 5] = 2;
	ok(wire_decode(buf_ptr(&b), buf_len(&b), &r) == WIRE_OK && r.u.result.dir == 2,
	    "CANCEL direction 2 decodes (an error of the transfer, PROTOCOL.md 6.6)");
	{
		char t[300];

		memset(t, 't', sizeof t);
		t[200] = '\0';
		buf_reset(&b);
		is_int(wire_put_cancel(&b, 77, XDIR_SENDING, XCANCEL_USER, t), BUF_OK, "encode CANCEL, long text");
		ok(wire_decode(buf_ptr(&b), buf_len(&b), &r) == WIRE_OK &&
		    r.u.result.text_len == WIRE_XFER_TEXT_MAX, "a CANCEL text is cut to WIRE_XFER_TEXT_MAX when sent");
		buf_reset(&b);
		is_int(wire_put_result(&b, 77, XRESULT_OK, t), BUF_OK, "encode XFER_RESULT, long text");
		ok(wire_decode(buf_ptr(&b), buf_len(&b), &r) == WIRE_OK &&
		    r.u.result.text_len == WIRE_XFER_TEXT_MAX, "an XFER_RESULT text is cut to WIRE_XFER_TEXT_MAX when sent");
		buf_reset(&b);
		buf_put_u8(&b, REC_CANCEL);
		buf_put_u32(&b, 77);
		buf_put_u8(&b, XDIR_SENDING);
		buf_put_u8(&b, XCANCEL_USER);
		buf_put_str8(&b, t, 255);
		ok(wire_decode(buf_ptr(&b), buf_len(&b), &r) == WIRE_OK && r.u.result.text_len == 255,
		    "a received CANCEL text of 255 bytes decodes (the transfer layer judges it)");
	}

	buf_free(&b);
}

/*
 * PROTOCOL.md section 7: every row's "NAME = VALUE" must be what the code
 * uses, every constant below must have its row, and the value must be in the
 * row's limit column.
 */
static void
test_limits_table(void)
{
	struct net_limits nl;
	struct { const char *name; long long v; int seen; } c[] = {
		{ "WIRE_FRAME_MAX", WIRE_FRAME_MAX, 0 }, { "WIRE_HS_MAX", WIRE_HS_MAX, 0 },
		{ "WIRE_RECORD_MAX", WIRE_RECORD_MAX, 0 }, { "WIRE_NICK_MAX", WIRE_NICK_MAX, 0 },
		{ "WIRE_TEXT_MAX", WIRE_TEXT_MAX, 0 }, { "WIRE_BYE_TEXT_MAX", WIRE_BYE_TEXT_MAX, 0 },
		{ "WIRE_XFER_TEXT_MAX", WIRE_XFER_TEXT_MAX, 0 }, { "XFER_DATA_MAX", XFER_DATA_MAX, 0 },
		{ "XFS_ENTRIES_MAX", XFS_ENTRIES_MAX, 0 }, { "XFS_PATH_MAX", XFS_PATH_MAX, 0 },
		{ "XFS_DEPTH_MAX", XFS_DEPTH_MAX, 0 }, { "XFS_NAME_MAX", XFS_NAME_MAX, 0 },
		{ "WIRE_HS_TIMEOUT_MS", WIRE_HS_TIMEOUT_MS, 0 },
		{ "WIRE_RESULT_TIMEOUT_MS", WIRE_RESULT_TIMEOUT_MS, 0 },
		{ "keepalive_ms", 0, 0 }, { "dead_ms", 0, 0 }, { "max_sessions", 0, 0 },
		{ "max_per_ip", 0, 0 }, { "max_pending", 0, 0 }, { "max_pending_per_ip", 0, 0 },
		{ "sendq_max", 0, 0 },
		{ "XFER_PENDING_PEER", XFER_PENDING_PEER, 0 }, { "XFER_PENDING_ALL", XFER_PENDING_ALL, 0 },
		{ "XFER_PENDING_ADDR", XFER_PENDING_ADDR, 0 }, { "XFER_OFFER_NAMES", XFER_OFFER_NAMES, 0 },
		{ "XFER_ENTRY_COST", XFER_ENTRY_COST, 0 }, { "XFER_PEER_NAMES", XFER_PEER_NAMES, 0 },
		{ "XFER_ALL_NAMES", XFER_ALL_NAMES, 0 }, { "XFER_OFFER_IDLE_MS", XFER_OFFER_IDLE_MS, 0 },
		{ "WIRE_ONION_LEN", WIRE_ONION_LEN, 0 },
		{ "ROOM_BODY_MAX", ROOM_BODY_MAX, 0 }, { "ROOM_NAME_MAX", ROOM_NAME_MAX, 0 },
		{ "ROOM_MEMBERS_MAX", ROOM_MEMBERS_MAX, 0 }, { "ROOM_OPS_MAX", ROOM_OPS_MAX, 0 },
		{ "ROOM_HAVE_MAX", ROOM_HAVE_MAX, 0 }, { "ROOM_PENDING_MAX", ROOM_PENDING_MAX, 0 },
		{ "ROOM_PUSH_MAX", ROOM_PUSH_MAX, 0 }, { "ROOMS_MAX", ROOMS_MAX, 0 },
		{ "ROOM_INVITES_MAX", ROOM_INVITES_MAX, 0 }, { "ROOM_LOG_OPS_MAX", ROOM_LOG_OPS_MAX, 0 },
		{ "ROOM_INVITES_PEER", ROOM_INVITES_PEER, 0 },
		{ "ROOM_INVITES_STRANGERS", ROOM_INVITES_STRANGERS, 0 },
		{ "ROOM_RATE", ROOM_RATE, 0 },
		{ "ROOM_FILE_TAGS", ROOM_FILE_TAGS, 0 },
	};
	size_t nc = sizeof c / sizeof c[0], i;
	char path[4096], line[1024];
	const char *top = getenv("top_srcdir");
	int in7 = 0, rows = 0, bad = 0;
	FILE *f;

	net_limits_default(&nl);
	for (i = 0; i < nc; i++) {
		if (strcmp(c[i].name, "keepalive_ms") == 0) c[i].v = nl.keepalive_ms;
		if (strcmp(c[i].name, "dead_ms") == 0) c[i].v = nl.dead_ms;
		if (strcmp(c[i].name, "max_sessions") == 0) c[i].v = nl.max_sessions;
		if (strcmp(c[i].name, "max_per_ip") == 0) c[i].v = nl.max_per_ip;
		if (strcmp(c[i].name, "max_pending") == 0) c[i].v = nl.max_pending;
		if (strcmp(c[i].name, "max_pending_per_ip") == 0) c[i].v = nl.max_pending_per_ip;
		if (strcmp(c[i].name, "sendq_max") == 0) c[i].v = (long long)nl.sendq_max;
	}
	snprintf(path, sizeof path, "%s/net/PROTOCOL.md", top != NULL ? top : "..");
	if ((f = fopen(path, "r")) == NULL) {
		ok(0, "read %s", path);
		return;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *cell[4] = { NULL }, *p, *eq, name[64];
		long long v;
		int n = 0;

		if (strncmp(line, "## ", 3) == 0) {
			in7 = strncmp(line, "## 7.", 5) == 0;
			continue;
		}
		if (!in7 || line[0] != '|' || strncmp(line, "|---", 4) == 0 || strstr(line, "| constant |") != NULL)
			continue;
		/* | what | limit | NAME = VALUE | */
		for (p = line; *p != '\0' && n < 4; p++)
			if (*p == '|')
				cell[n++] = p + 1;
		if (n < 4 || (eq = strchr(cell[2], '=')) == NULL || eq > cell[3]) {
			ok(0, "§7 row names its constant: %s", line);
			bad++;
			continue;
		}
		if (sscanf(cell[2], " %63[A-Za-z_] = %lld", name, &v) != 2) {
			ok(0, "§7 row parses: %s", line);
			continue;
		}
		rows++;
		for (i = 0; i < nc && strcmp(c[i].name, name) != 0; i++)
			;
		if (i == nc) {
			ok(0, "§7 names %s, which the test does not know", name);
			continue;
		}
		c[i].seen = 1;
		is_int(v, c[i].v, "§7: %s = %lld in the table, %lld in the code", name, v, c[i].v);
		{
			/* the value is also in the limit column, as a number on its own */
			char want[32], *at = cell[1];
			size_t wl = (size_t)snprintf(want, sizeof want, "%lld", v);
			int found = 0;

			if (v >= 1000 && v % 1000 == 0 && strstr(name, "_MS") != NULL)
				wl = (size_t)snprintf(want, sizeof want, "%lld", v / 1000);
			if (strcmp(name, "keepalive_ms") == 0 || strcmp(name, "dead_ms") == 0)
				wl = (size_t)snprintf(want, sizeof want, "%lld", v / 1000);
			while ((at = strstr(at, want)) != NULL && at < cell[2]) {
				if ((at == cell[1] || at[-1] == ' ') && (at[wl] == ' ' || at[wl] == '|'))
					found = 1;
				at += wl;
			}
			ok(found, "§7: %s's row says %s in its limit column", name, want);
		}
	}
	fclose(f);
	ok(rows >= (int)nc && bad == 0, "§7 has a row for each limit (%d rows)", rows);
	for (i = 0; i < nc; i++)
		ok(c[i].seen, "§7 lists %s", c[i].name);
}

/*
 * PROTOCOL.md 6.4: the resume proof, defined without naming a library, is
 * libsodium's kdf + onetimeauth (what app/transfer.c calls); known answer.
 */
static void
test_resume_proof(void)
{
	uint8_t k[32], sub[32], sub2[32], salt[16] = { 0 }, pers[16] = { 0 }, data[100], tag[16];
	char hex[65];
	int i;

	for (i = 0; i < 32; i++)
		k[i] = (uint8_t)i;
	for (i = 0; i < 100; i++)
		data[i] = (uint8_t)(7 * i);
	salt[0] = 3;   /* the entry index, u64 little-endian */
	memcpy(pers, "cfresume", 8);
	ok(sodium_init() >= 0, "libsodium");
	crypto_generichash_blake2b_salt_personal(sub, sizeof sub, NULL, 0, k, sizeof k, salt, pers);
	crypto_kdf_derive_from_key(sub2, sizeof sub2, 3, "cfresume", k);
	is_mem(sub, sub2, sizeof sub, "6.4: BLAKE2b(key, salt = index LE, personal = cfresume) is the kdf");
	sodium_bin2hex(hex, sizeof hex, sub, sizeof sub);
	is_str(hex, "a1d5129b93231d07a291e71ff575a156074a953831b444f7e9d870a4142c437d", "6.4: subkey known answer");
	crypto_onetimeauth(tag, data, sizeof data, sub);
	sodium_bin2hex(hex, sizeof hex, tag, sizeof tag);
	is_str(hex, "048abbe69ba8a95b0886be285467b780", "6.4: proof known answer");
}

int
main(void)
{
	test_limits_table();
	test_resume_proof();
	test_records();
	test_xfer();
	test_layout();
	test_malformed();
	test_extensions();
	test_onion_ext();
	test_unknown();
	test_frames();
	test_preamble();
	return tap_done();
}
