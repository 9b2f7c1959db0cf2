/* fuzz_wire.c - libFuzzer target for the preamble, frames and the record codec. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any broken invariant is a crash for libFuzzer to report. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* Two borrowed byte strings are equal. */
static int
same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* A str8 text (any length: the decoder takes up to 255) as the C string the
 * BYE/RESULT/CANCEL encoders take (cut at NUL). */
static const char *
cstr(const uint8_t *p, size_t n, char out[256])
{
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

/* Encode what was decoded; returns 0, or -1 for a type this target cannot rebuild. */
static int
reencode(const struct record *r, struct buf *b)
{
	char t[256];
	struct rec_list l;
	struct wire_entry e;
	struct wire_resume rs;
	uint16_t n;
	int rc = BUF_OK;

	switch (r->type) {
	case REC_HELLO:
		rc = wire_put_hello(b, r->u.hello.caps, (const char *)r->u.hello.nick, r->u.hello.nick_len, r->u.hello.port);
		break;
	case REC_MSG:
		rc = wire_put_msg(b, r->u.msg.id, r->u.msg.ts_ms, (const char *)r->u.msg.text,
		    r->u.msg.text_len);
		break;
	case REC_ACK:
		rc = wire_put_ack(b, r->u.ack_id);
		break;
	case REC_PING:
	case REC_PONG:
		rc = wire_put_ping(b, r->type, r->u.ping);
		break;
	case REC_BYE:
		rc = wire_put_bye(b, r->u.bye.reason, cstr(r->u.bye.text, r->u.bye.text_len, t));
		break;
	case REC_OFFER:
		rc = wire_put_offer(b, r->u.offer.id, r->u.offer.handle, r->u.offer.count,
		    r->u.offer.total, r->u.offer.key);
		break;
	case REC_OFFER_PART:
	case REC_RESUME:
		rc = wire_begin_list(b, r->type, r->u.list.handle, r->u.list.first);
		l = r->u.list;
		for (n = 0; rc == BUF_OK && n < r->u.list.count; n++) {
			if (r->type == REC_OFFER_PART) {
				CHECK(wire_next_entry(&l, &e) == 0);
				rc = wire_put_entry(b, (const char *)e.path, e.path_len, e.type, e.size,
				    e.mtime_ns, e.mode);
			} else {
				CHECK(wire_next_resume(&l, &rs) == 0);
				rc = wire_put_resume(b, &rs);
			}
		}
		CHECK(l.len == 0);   /* decode allowed nothing after the entries */
		if (rc == BUF_OK)
			wire_end_list(b, r->u.list.count);
		break;
	case REC_ACCEPT:
		rc = wire_put_accept(b, r->u.handle, r->accept_resumes);
		break;
	case REC_DATA:
		rc = wire_put_data_hdr(b, r->u.data.handle, r->u.data.index, r->u.data.offset);
		if (rc == BUF_OK)
			rc = buf_put(b, r->u.data.p, r->u.data.len);
		break;
	case REC_FILE_END:
		rc = wire_put_file_end(b, r->u.fend.handle, r->u.fend.index, r->u.fend.size,
		    r->u.fend.status);
		break;
	case REC_XFER_DONE:
		rc = wire_put_xfer_done(b, r->u.handle);
		break;
	case REC_XFER_RESULT:
		rc = wire_put_result(b, r->u.result.handle, r->u.result.code,
		    cstr(r->u.result.text, r->u.result.text_len, t));
		break;
	case REC_CANCEL:
		rc = wire_put_cancel(b, r->u.result.handle, r->u.result.dir, r->u.result.code,
		    cstr(r->u.result.text, r->u.result.text_len, t));
		break;
	default:
		return -1;
	}
	CHECK(rc == BUF_OK);   /* whatever decoded must be encodable */
	return 0;
}

/*
 * A text field re-encoded through a C string loses everything from its first
 * NUL, and the encoders cut it to max (the decoders take up to 255 bytes:
 * PROTOCOL.md 5.6, 6.6).
 */
static size_t
ctext_len(const uint8_t *p, size_t n, size_t max)
{
	const uint8_t *z = memchr(p, 0, n);
	size_t l = z ? (size_t)(z - p) : n;

	return l > max ? max : l;
}

/* The two decodings describe the same record. */
static void
compare(const struct record *a, const struct record *b)
{
	CHECK(a->type == b->type);
	switch (a->type) {
	case REC_HELLO:
		CHECK(b->u.hello.version == WIRE_VERSION);   /* we always announce ours */
		CHECK(a->u.hello.caps == b->u.hello.caps);
		CHECK(same(a->u.hello.nick, a->u.hello.nick_len, b->u.hello.nick, b->u.hello.nick_len));
		break;
	case REC_MSG:
		CHECK(memcmp(a->u.msg.id, b->u.msg.id, WIRE_ID_LEN) == 0);
		CHECK(a->u.msg.ts_ms == b->u.msg.ts_ms);
		CHECK(same(a->u.msg.text, a->u.msg.text_len, b->u.msg.text, b->u.msg.text_len));
		break;
	case REC_ACK:
		CHECK(memcmp(a->u.ack_id, b->u.ack_id, WIRE_ID_LEN) == 0);
		break;
	case REC_PING:
	case REC_PONG:
		CHECK(a->u.ping == b->u.ping);
		break;
	case REC_BYE:
		CHECK(a->u.bye.reason == b->u.bye.reason);
		CHECK(same(a->u.bye.text, ctext_len(a->u.bye.text, a->u.bye.text_len, WIRE_BYE_TEXT_MAX),
		    b->u.bye.text, b->u.bye.text_len));
		break;
	case REC_OFFER:
		CHECK(memcmp(a->u.offer.id, b->u.offer.id, WIRE_ID_LEN) == 0);
		CHECK(a->u.offer.handle == b->u.offer.handle && a->u.offer.count == b->u.offer.count);
		CHECK(a->u.offer.total == b->u.offer.total);
		CHECK(memcmp(a->u.offer.key, b->u.offer.key, XFER_KEY_LEN) == 0);
		break;
	case REC_OFFER_PART:
	case REC_RESUME:
		CHECK(a->u.list.handle == b->u.list.handle && a->u.list.count == b->u.list.count);
		CHECK(a->type == REC_RESUME || a->u.list.first == b->u.list.first);
		CHECK(same(a->u.list.p, a->u.list.len, b->u.list.p, b->u.list.len));
		break;
	case REC_ACCEPT:
		CHECK(a->u.handle == b->u.handle && a->accept_resumes == b->accept_resumes);
		break;
	case REC_DATA:
		CHECK(a->u.data.handle == b->u.data.handle && a->u.data.index == b->u.data.index);
		CHECK(a->u.data.offset == b->u.data.offset);
		CHECK(same(a->u.data.p, a->u.data.len, b->u.data.p, b->u.data.len));
		break;
	case REC_FILE_END:
		CHECK(a->u.fend.handle == b->u.fend.handle && a->u.fend.index == b->u.fend.index);
		CHECK(a->u.fend.size == b->u.fend.size && a->u.fend.status == b->u.fend.status);
		break;
	case REC_XFER_DONE:
		CHECK(a->u.handle == b->u.handle);
		break;
	case REC_XFER_RESULT:
	case REC_CANCEL:
		CHECK(a->u.result.handle == b->u.result.handle && a->u.result.code == b->u.result.code);
		CHECK(a->u.result.dir == b->u.result.dir);
		CHECK(same(a->u.result.text, ctext_len(a->u.result.text, a->u.result.text_len, WIRE_XFER_TEXT_MAX),
		    b->u.result.text, b->u.result.text_len));
		break;
	}
}

/* Whether the encoding is canonical: re-encoding gives back the very same bytes. */
static int
canonical(const struct record *r, const uint8_t *p, size_t n)
{
	switch (r->type) {
	case REC_HELLO:
		/* extensions are dropped and our own version is sent */
		return r->u.hello.version == WIRE_VERSION && n == 1 + 2 + 4 + 1 + r->u.hello.nick_len;
	case REC_BYE:
		return ctext_len(r->u.bye.text, r->u.bye.text_len, WIRE_BYE_TEXT_MAX) == r->u.bye.text_len;
	case REC_XFER_RESULT:
	case REC_CANCEL:
		return ctext_len(r->u.result.text, r->u.result.text_len, WIRE_XFER_TEXT_MAX) == r->u.result.text_len;
	}
	return 1;
}

/* Decode, re-encode, decode again, compare. */
static void
check_record(const uint8_t *p, size_t n)
{
	struct record r, r2;
	struct buf b;
	uint8_t *copy;
	int rc;

	/* an exact-size copy so ASan catches any read past the end */
	copy = malloc(n ? n : 1);
	memcpy(copy, p, n);
	rc = wire_decode(copy, n, &r);
	CHECK(rc == WIRE_OK || rc == WIRE_EUNKNOWN || rc == WIRE_EMALFORMED);
	if (rc == WIRE_EUNKNOWN)
		CHECK(n > 0 && r.type == copy[0] && strcmp(wire_type_name(r.type), "unknown") == 0);
	if (rc != WIRE_OK)
		goto out;
	CHECK(n > 0 && r.type == copy[0]);
	if (n > WIRE_RECORD_MAX)
		goto out;   /* no frame carries it; the encoders rightly refuse such sizes */
	buf_init(&b, WIRE_RECORD_MAX);
	if (reencode(&r, &b) == 0) {
		CHECK(wire_decode(buf_ptr(&b), buf_len(&b), &r2) == WIRE_OK);
		compare(&r, &r2);
		if (canonical(&r, copy, n))
			CHECK(buf_len(&b) == n && memcmp(buf_ptr(&b), copy, n) == 0);
	}
	buf_free(&b);
out:
	free(copy);
}

/* Walk the input as a stream of frames, the way a session does. */
static void
check_frames(const uint8_t *p, size_t n, size_t max)
{
	const uint8_t *body;
	size_t len, declared;
	struct buf v;
	int rc;

	buf_view(&v, p, n);
	for (;;) {
		rc = wire_frame_peek(&v, max, &body, &len);
		if (buf_len(&v) >= WIRE_FRAME_HDR)
			declared = (size_t)buf_ptr(&v)[0] << 8 | buf_ptr(&v)[1];
		else
			declared = 0;
		if (rc == 0) {
			CHECK(buf_len(&v) < WIRE_FRAME_HDR ||
			    (declared >= 1 && declared <= max && buf_len(&v) - WIRE_FRAME_HDR < declared));
			return;
		}
		if (rc == -1) {
			CHECK(buf_len(&v) >= WIRE_FRAME_HDR && (declared == 0 || declared > max));
			return;
		}
		CHECK(rc == 1);
		CHECK(body == buf_ptr(&v) + WIRE_FRAME_HDR && len == declared);
		CHECK(len >= 1 && len <= max && WIRE_FRAME_HDR + len <= buf_len(&v));
		if (max != WIRE_HS_MAX)
			check_record(body, len);
		CHECK(buf_consume(&v, WIRE_FRAME_HDR + len) == BUF_OK);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t ver = 0, flags = 0;
	int rc;

	/* the whole input as one record */
	check_record(data, size);

	/* as a stream of frames, with the handshake and the transport limits */
	check_frames(data, size, WIRE_HS_MAX);
	check_frames(data, size, WIRE_FRAME_MAX);

	/* as a preamble */
	if (size >= WIRE_PREAMBLE_LEN) {
		rc = wire_preamble_parse(data, &ver, &flags);
		if (memcmp(data, WIRE_MAGIC, 6) == 0 && data[6] != 0)
			CHECK(rc == 0 && ver == data[6] && flags == data[7]);
		else
			CHECK(rc == -1);
		/* and whatever follows a preamble as frames */
		check_frames(data + WIRE_PREAMBLE_LEN, size - WIRE_PREAMBLE_LEN, WIRE_FRAME_MAX);
	}
	return 0;
}
