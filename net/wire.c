/* wire.c - encode and decode confab's preamble, frames and records. */
#include "config.h"

#include <string.h>

#include "roomwire.h"
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
	h->port = 0;
	h->onion = NULL;
	h->onion_port = 0;
	h->roomkey = NULL;
	while (buf_len(b) > 0) {
		if (buf_get_u8(b, &ext) != BUF_OK ||
		    buf_get_str16(b, &p, &n, WIRE_RECORD_MAX) != BUF_OK)
			return WIRE_EMALFORMED;
		if (ext == HELLO_EXT_PORT && n == 2)
			h->port = (uint16_t)(p[0] << 8 | p[1]);
		if (ext == HELLO_EXT_ONION && n == WIRE_ONION_LEN + 2) {
			/* a body that is no onion id is ignored, like one of another size */
			int good = p[WIRE_ONION_LEN] != 0 || p[WIRE_ONION_LEN + 1] != 0;
			size_t i;

			for (i = 0; i < WIRE_ONION_LEN && good; i++)
				good = (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '2' && p[i] <= '7');
			if (good) {
				h->onion = p;
				h->onion_port = (uint16_t)(p[WIRE_ONION_LEN] << 8 | p[WIRE_ONION_LEN + 1]);
			}
		}
		if (ext == HELLO_EXT_ROOMKEY && n == ROOM_BIND_EXT_LEN)
			h->roomkey = p;
	}
	return WIRE_OK;
}

/* Read one OFFER_PART entry. */
static int
get_entry(struct buf *b, struct wire_entry *e)
{
	uint64_t mt;

	if (buf_get_str16(b, &e->path, &e->path_len, XFER_PATH_MAX) != BUF_OK ||
	    buf_get_u8(b, &e->type) != BUF_OK ||
	    buf_get_u64(b, &e->size) != BUF_OK ||
	    buf_get_u64(b, &mt) != BUF_OK ||
	    buf_get_u32(b, &e->mode) != BUF_OK)
		return WIRE_EMALFORMED;
	/* a bad type, an empty path or a sized directory is the transfer's
	 * error (CANCEL reason 5), not the session's: the caller checks */
	e->mtime_ns = (int64_t)mt;
	return WIRE_OK;
}

/* Read one RESUME entry. */
static int
get_resume(struct buf *b, struct wire_resume *e)
{
	if (buf_get_u32(b, &e->index) != BUF_OK ||
	    buf_get_u64(b, &e->offset) != BUF_OK ||
	    buf_get_u8(b, &e->flags) != BUF_OK ||
	    buf_get(b, e->mac, XFER_MAC_LEN) != BUF_OK)
		return WIRE_EMALFORMED;
	return WIRE_OK;
}

/* Decode a list record's header and check that its entries are well formed. */
static int
decode_list(struct buf *b, uint8_t type, struct rec_list *l)
{
	struct wire_entry e;
	struct wire_resume r;
	uint16_t i;

	if (buf_get_u32(b, &l->handle) != BUF_OK)
		return WIRE_EMALFORMED;
	if (type == REC_OFFER_PART && buf_get_u32(b, &l->first) != BUF_OK)
		return WIRE_EMALFORMED;
	if (buf_get_u16(b, &l->count) != BUF_OK || l->count == 0)
		return WIRE_EMALFORMED;
	l->p = buf_ptr(b);
	l->len = buf_len(b);
	for (i = 0; i < l->count; i++) {
		if ((type == REC_OFFER_PART ? get_entry(b, &e) : get_resume(b, &r)) != WIRE_OK)
			return WIRE_EMALFORMED;
	}
	return WIRE_OK;
}

/* Walk the entries of an OFFER_PART. */
int
wire_next_entry(struct rec_list *l, struct wire_entry *e)
{
	struct buf b;
	int rc;

	if (l->len == 0)
		return -1;
	buf_view(&b, l->p, l->len);
	if ((rc = get_entry(&b, e)) != WIRE_OK)
		return -1;
	l->p = buf_ptr(&b);
	l->len = buf_len(&b);
	return 0;
}

/* Walk the entries of a RESUME record. */
int
wire_next_resume(struct rec_list *l, struct wire_resume *e)
{
	struct buf b;

	if (l->len == 0)
		return -1;
	buf_view(&b, l->p, l->len);
	if (get_resume(&b, e) != WIRE_OK)
		return -1;
	l->p = buf_ptr(&b);
	l->len = buf_len(&b);
	return 0;
}

/* Decode the file transfer records. */
static int
decode_xfer(struct buf *b, struct record *r)
{
	const uint8_t *p;

	switch (r->type) {
	case REC_OFFER:
		if (buf_get(b, r->u.offer.id, WIRE_ID_LEN) || buf_get_u32(b, &r->u.offer.handle) ||
		    buf_get_u32(b, &r->u.offer.count) || buf_get_u64(b, &r->u.offer.total) ||
		    buf_get(b, r->u.offer.key, XFER_KEY_LEN))
			return WIRE_EMALFORMED;
		return WIRE_OK;
	case REC_OFFER_PART:
	case REC_RESUME:
		return decode_list(b, r->type, &r->u.list);
	case REC_ACCEPT:
		if (buf_get_u32(b, &r->u.handle) || buf_get_u32(b, &r->accept_resumes))
			return WIRE_EMALFORMED;
		return WIRE_OK;
	case REC_DATA:
		if (buf_get_u32(b, &r->u.data.handle) || buf_get_u32(b, &r->u.data.index) ||
		    buf_get_u64(b, &r->u.data.offset))
			return WIRE_EMALFORMED;
		r->u.data.len = buf_len(b);
		if (r->u.data.len == 0 || buf_get_ptr(b, &p, r->u.data.len))
			return WIRE_EMALFORMED;
		r->u.data.p = p;
		return WIRE_OK;
	case REC_FILE_END:
		if (buf_get_u32(b, &r->u.fend.handle) || buf_get_u32(b, &r->u.fend.index) ||
		    buf_get_u64(b, &r->u.fend.size) || buf_get_u8(b, &r->u.fend.status))
			return WIRE_EMALFORMED;
		return WIRE_OK;
	case REC_XFER_DONE:
		return buf_get_u32(b, &r->u.handle) ? WIRE_EMALFORMED : WIRE_OK;
	case REC_XFER_RESULT:
	case REC_CANCEL:
		if (buf_get_u32(b, &r->u.result.handle) ||
		    (r->type == REC_CANCEL && buf_get_u8(b, &r->u.result.dir)) ||
		    buf_get_u8(b, &r->u.result.code) ||
		    buf_get_str8(b, &r->u.result.text, &r->u.result.text_len, 255))
			return WIRE_EMALFORMED;
		/* a text over WIRE_XFER_TEXT_MAX or a direction over 1 ends the
		 * transfer, not the session: the caller checks */
		return WIRE_OK;
	}
	return WIRE_EUNKNOWN;
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
		    buf_get_str8(&b, &r->u.bye.text, &r->u.bye.text_len, 255) != BUF_OK)
			goto out;
		break;
	case REC_ROOM_EVENT:
	case REC_ROOM_HAVE:
	case REC_ROOM_WANT:
	case REC_ROOM_PROOF:
	case REC_ROOM_FILE: {
		/* section 13: checked whole here, interpreted by app/room.c */
		struct rec_room_event e;
		struct rec_room_have h;
		struct rec_room_want w;
		struct rec_room_proof f;
		struct rec_room_file fl;

		if ((r->type == REC_ROOM_EVENT && roomwire_decode_event(p, n, &e) != WIRE_OK) ||
		    (r->type == REC_ROOM_HAVE && roomwire_decode_have(p, n, &h) != WIRE_OK) ||
		    (r->type == REC_ROOM_WANT && roomwire_decode_want(p, n, &w) != WIRE_OK) ||
		    (r->type == REC_ROOM_PROOF && roomwire_decode_proof(p, n, &f) != WIRE_OK) ||
		    (r->type == REC_ROOM_FILE && roomwire_decode_file(p, n, &fl) != WIRE_OK))
			goto out;
		r->u.raw.p = p;
		r->u.raw.n = n;
		rc = WIRE_OK;
		goto out;
	}
	default:
		rc = decode_xfer(&b, r);
		if (rc != WIRE_OK)
			goto out;
		rc = WIRE_EMALFORMED;
		break;
	}
	if (buf_get_end(&b) != BUF_OK)
		goto out;
	rc = WIRE_OK;
out:
	return rc;
}

/* Encode HELLO. */
int
wire_put_hello(struct buf *b, uint32_t caps, const char *nick, size_t nick_len, uint16_t port)
{
	uint8_t pb[2] = { (uint8_t)(port >> 8), (uint8_t)port };

	if (nick_len > WIRE_NICK_MAX)
		return BUF_ETOOBIG;
	if (buf_put_u8(b, REC_HELLO) || buf_put_u16(b, WIRE_VERSION) ||
	    buf_put_u32(b, caps) || buf_put_str8(b, nick, nick_len))
		return BUF_ETOOBIG;
	if (port != 0 && (buf_put_u8(b, HELLO_EXT_PORT) || buf_put_str16(b, (const char *)pb, 2)))
		return BUF_ETOOBIG;
	return BUF_OK;
}

/* Append the onion extension to a HELLO. */
int
wire_put_hello_onion(struct buf *b, const char *id, uint16_t port)
{
	uint8_t body[WIRE_ONION_LEN + 2];

	if (strlen(id) != WIRE_ONION_LEN || port == 0)
		return BUF_ETOOBIG;
	memcpy(body, id, WIRE_ONION_LEN);
	body[WIRE_ONION_LEN] = (uint8_t)(port >> 8);
	body[WIRE_ONION_LEN + 1] = (uint8_t)port;
	if (buf_put_u8(b, HELLO_EXT_ONION) || buf_put_str16(b, (const char *)body, sizeof body))
		return BUF_ETOOBIG;
	return BUF_OK;
}

/* Append one HELLO extension (type, str16 body) to a HELLO just encoded. */
int
wire_put_hello_ext(struct buf *b, uint8_t type, const void *body, size_t len)
{
	if (buf_put_u8(b, type) || buf_put_str16(b, body, len))
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

/* Encode OFFER. */
int
wire_put_offer(struct buf *b, const uint8_t id[WIRE_ID_LEN], uint32_t handle,
    uint32_t count, uint64_t total, const uint8_t key[XFER_KEY_LEN])
{
	if (buf_put_u8(b, REC_OFFER) || buf_put(b, id, WIRE_ID_LEN) || buf_put_u32(b, handle) ||
	    buf_put_u32(b, count) || buf_put_u64(b, total) || buf_put(b, key, XFER_KEY_LEN))
		return BUF_ETOOBIG;
	return BUF_OK;
}

/* Start an OFFER_PART or RESUME record with a zero count to patch later. */
int
wire_begin_list(struct buf *b, uint8_t type, uint32_t handle, uint32_t first)
{
	if (buf_put_u8(b, type) || buf_put_u32(b, handle) ||
	    (type == REC_OFFER_PART && buf_put_u32(b, first)) || buf_put_u16(b, 0))
		return BUF_ETOOBIG;
	return BUF_OK;
}

/* Append one OFFER_PART entry, all or nothing. */
int
wire_put_entry(struct buf *b, const char *path, size_t path_len, uint8_t type,
    uint64_t size, int64_t mtime_ns, uint32_t mode)
{
	size_t need = 2 + path_len + 1 + 8 + 8 + 4;

	if (path_len > XFER_PATH_MAX || buf_len(b) + need > WIRE_RECORD_MAX)
		return BUF_ETOOBIG;
	if (buf_put_str16(b, path, path_len) || buf_put_u8(b, type) || buf_put_u64(b, size) ||
	    buf_put_u64(b, (uint64_t)mtime_ns) || buf_put_u32(b, mode))
		return BUF_ETOOBIG;
	return BUF_OK;
}

/* Append one RESUME entry, all or nothing. */
int
wire_put_resume(struct buf *b, const struct wire_resume *e)
{
	if (buf_len(b) + 4 + 8 + 1 + XFER_MAC_LEN > WIRE_RECORD_MAX)
		return BUF_ETOOBIG;
	if (buf_put_u32(b, e->index) || buf_put_u64(b, e->offset) || buf_put_u8(b, e->flags) ||
	    buf_put(b, e->mac, XFER_MAC_LEN))
		return BUF_ETOOBIG;
	return BUF_OK;
}

/* Patch the entry count of a list record. */
void
wire_end_list(struct buf *b, uint16_t count)
{
	uint8_t *p = b->d + b->off;
	size_t at;

	if (b->d == NULL || buf_len(b) == 0)
		return;
	at = p[0] == REC_OFFER_PART ? 9 : 5;
	if (buf_len(b) >= at + 2) {
		p[at] = (uint8_t)(count >> 8);
		p[at + 1] = (uint8_t)count;
	}
}

/* Encode ACCEPT. */
int
wire_put_accept(struct buf *b, uint32_t handle, uint32_t nresume)
{
	if (buf_put_u8(b, REC_ACCEPT) || buf_put_u32(b, handle) || buf_put_u32(b, nresume))
		return BUF_ETOOBIG;
	return BUF_OK;
}

/* Encode a DATA header. */
int
wire_put_data_hdr(struct buf *b, uint32_t handle, uint32_t index, uint64_t offset)
{
	if (buf_put_u8(b, REC_DATA) || buf_put_u32(b, handle) || buf_put_u32(b, index) ||
	    buf_put_u64(b, offset))
		return BUF_ETOOBIG;
	return BUF_OK;
}

/* Encode FILE_END. */
int
wire_put_file_end(struct buf *b, uint32_t handle, uint32_t index, uint64_t size, uint8_t status)
{
	if (buf_put_u8(b, REC_FILE_END) || buf_put_u32(b, handle) || buf_put_u32(b, index) ||
	    buf_put_u64(b, size) || buf_put_u8(b, status))
		return BUF_ETOOBIG;
	return BUF_OK;
}

/* Encode XFER_DONE. */
int
wire_put_xfer_done(struct buf *b, uint32_t handle)
{
	if (buf_put_u8(b, REC_XFER_DONE) || buf_put_u32(b, handle))
		return BUF_ETOOBIG;
	return BUF_OK;
}

/* Encode XFER_RESULT. */
int
wire_put_result(struct buf *b, uint32_t handle, uint8_t status, const char *text)
{
	size_t n = text ? strlen(text) : 0;

	if (n > WIRE_XFER_TEXT_MAX)
		n = WIRE_XFER_TEXT_MAX;
	if (buf_put_u8(b, REC_XFER_RESULT) || buf_put_u32(b, handle) || buf_put_u8(b, status) ||
	    buf_put_str8(b, text, n))
		return BUF_ETOOBIG;
	return BUF_OK;
}

/* Encode CANCEL. */
int
wire_put_cancel(struct buf *b, uint32_t handle, uint8_t dir, uint8_t reason, const char *text)
{
	size_t n = text ? strlen(text) : 0;

	if (n > WIRE_XFER_TEXT_MAX)
		n = WIRE_XFER_TEXT_MAX;
	if (buf_put_u8(b, REC_CANCEL) || buf_put_u32(b, handle) || buf_put_u8(b, dir) ||
	    buf_put_u8(b, reason) || buf_put_str8(b, text, n))
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
	case REC_OFFER: return "OFFER";
	case REC_OFFER_PART: return "OFFER_PART";
	case REC_ACCEPT: return "ACCEPT";
	case REC_RESUME: return "RESUME";
	case REC_DATA:  return "DATA";
	case REC_FILE_END: return "FILE_END";
	case REC_XFER_DONE: return "XFER_DONE";
	case REC_XFER_RESULT: return "XFER_RESULT";
	case REC_CANCEL: return "CANCEL";
	case REC_ROOM_EVENT: return "ROOM_EVENT";
	case REC_ROOM_HAVE: return "ROOM_HAVE";
	case REC_ROOM_WANT: return "ROOM_WANT";
	case REC_ROOM_PROOF: return "ROOM_PROOF";
	case REC_ROOM_FILE: return "ROOM_FILE";
	}
	return "unknown";
}
