/* wire.c - encode and decode confab's preamble, frames and records. */
#include "config.h"

#include <string.h>

#include "wire.h"

/* Build a preamble announcing version and cipher flags. */
void
wire_preamble(uint8_t out[WIRE_PREAMBLE_LEN], uint8_t flags)
{
	memcpy(out, WIRE_MAGIC, 6);
	out[6] = WIRE_VERSION;
	out[7] = flags;
}

/* Check a peer's preamble. */
int
wire_preamble_parse(const uint8_t in[WIRE_PREAMBLE_LEN], uint8_t *version, uint8_t *flags)
{
	if (memcmp(in, WIRE_MAGIC, 6) != 0)
		return -1;
	if (in[6] == 0)
		return -1;
	*version = in[6];
	*flags = in[7];
	return 0;
}

/* Look for a complete frame at the front of in. */
int
wire_frame_peek(const struct buf *in, size_t max, const uint8_t **body, size_t *len)
{
	const uint8_t *p = buf_ptr(in);
	size_t n;

	if (buf_len(in) < WIRE_FRAME_HDR)
		return 0;
	n = (size_t)p[0] << 8 | p[1];
	if (n > max || n == 0)
		return -1;
	if (buf_len(in) - WIRE_FRAME_HDR < n)
		return 0;
	*body = p + WIRE_FRAME_HDR;
	*len = n;
	return 1;
}

/* Decode HELLO: version, caps, nick, then extensions we skip. */
static int
decode_hello(struct buf *b, struct rec_hello *h)
{
	const uint8_t *p;
	size_t n;
	uint8_t ext;

	if (buf_get_u16(b, &h->version) != BUF_OK ||
	    buf_get_u32(b, &h->caps) != BUF_OK ||
	    buf_get_str8(b, &h->nick, &h->nick_len, WIRE_NICK_MAX) != BUF_OK)
		return WIRE_EMALFORMED;
	if (h->version == 0)
		return WIRE_EMALFORMED;
	/* Extensions: u8 type, u16-prefixed body; unknown ones are ignored. */
	while (buf_len(b) > 0) {
		if (buf_get_u8(b, &ext) != BUF_OK ||
		    buf_get_str16(b, &p, &n, WIRE_RECORD_MAX) != BUF_OK)
			return WIRE_EMALFORMED;
	}
	return WIRE_OK;
}

/* Decode one record from plaintext. */
int
wire_decode(const uint8_t *p, size_t n, struct record *r)
{
	struct buf b;
	int rc = WIRE_EMALFORMED;

	memset(r, 0, sizeof *r);
	buf_view(&b, p, n);
	if (buf_get_u8(&b, &r->type) != BUF_OK)
		goto out;
	switch (r->type) {
	case REC_HELLO:
		if (decode_hello(&b, &r->u.hello) != WIRE_OK)
			goto out;
		break;
	case REC_MSG:
		if (buf_get(&b, r->u.msg.id, WIRE_ID_LEN) != BUF_OK ||
		    buf_get_u64(&b, &r->u.msg.ts_ms) != BUF_OK ||
		    buf_get_str16(&b, &r->u.msg.text, &r->u.msg.text_len, WIRE_TEXT_MAX) != BUF_OK)
			goto out;
		break;
	case REC_ACK:
		if (buf_get(&b, r->u.ack_id, WIRE_ID_LEN) != BUF_OK)
			goto out;
		break;
	case REC_PING:
	case REC_PONG:
		if (buf_get_u64(&b, &r->u.ping) != BUF_OK)
			goto out;
		break;
	case REC_BYE:
		if (buf_get_u8(&b, &r->u.bye.reason) != BUF_OK ||
		    buf_get_str8(&b, &r->u.bye.text, &r->u.bye.text_len, WIRE_BYE_TEXT_MAX) != BUF_OK)
			goto out;
		break;
	default:
		rc = WIRE_EUNKNOWN;
		goto out;
	}
	if (buf_get_end(&b) != BUF_OK)
		goto out;
	rc = WIRE_OK;
out:
	return rc;
}

/* Encode HELLO. */
int
wire_put_hello(struct buf *b, uint32_t caps, const char *nick, size_t nick_len)
{
	if (nick_len > WIRE_NICK_MAX)
		return BUF_ETOOBIG;
	if (buf_put_u8(b, REC_HELLO) || buf_put_u16(b, WIRE_VERSION) ||
	    buf_put_u32(b, caps) || buf_put_str8(b, nick, nick_len))
		return BUF_ETOOBIG;
	return BUF_OK;
}

/* Encode MSG. */
int
wire_put_msg(struct buf *b, const uint8_t id[WIRE_ID_LEN], uint64_t ts_ms,
    const char *text, size_t text_len)
{
	if (text_len > WIRE_TEXT_MAX)
		return BUF_ETOOBIG;
	if (buf_put_u8(b, REC_MSG) || buf_put(b, id, WIRE_ID_LEN) ||
	    buf_put_u64(b, ts_ms) || buf_put_str16(b, text, text_len))
		return BUF_ETOOBIG;
	return BUF_OK;
}

/* Encode ACK. */
int
wire_put_ack(struct buf *b, const uint8_t id[WIRE_ID_LEN])
{
	if (buf_put_u8(b, REC_ACK) || buf_put(b, id, WIRE_ID_LEN))
		return BUF_ETOOBIG;
	return BUF_OK;
}

/* Encode PING or PONG. */
int
wire_put_ping(struct buf *b, uint8_t type, uint64_t nonce)
{
	if (buf_put_u8(b, type) || buf_put_u64(b, nonce))
		return BUF_ETOOBIG;
	return BUF_OK;
}

/* Encode BYE. */
int
wire_put_bye(struct buf *b, uint8_t reason, const char *text)
{
	size_t n = text ? strlen(text) : 0;

	if (n > WIRE_BYE_TEXT_MAX)
		n = WIRE_BYE_TEXT_MAX;
	if (buf_put_u8(b, REC_BYE) || buf_put_u8(b, reason) || buf_put_str8(b, text, n))
		return BUF_ETOOBIG;
	return BUF_OK;
}

/* A name for a record type, for logs. */
const char *
wire_type_name(uint8_t type)
{
	switch (type) {
	case REC_HELLO: return "HELLO";
	case REC_MSG:   return "MSG";
	case REC_ACK:   return "ACK";
	case REC_PING:  return "PING";
	case REC_PONG:  return "PONG";
	case REC_BYE:   return "BYE";
	}
	return "unknown";
}
