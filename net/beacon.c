/* beacon.c - the LAN discovery datagram: encoding and strict parsing. */
#include "config.h"

#include <string.h>

#include "beacon.h"

/* Whether a datagram could be a beacon (length and magic only). */
int
beacon_sniff(const uint8_t *p, size_t n)
{
	return n >= BEACON_MAGIC_LEN && memcmp(p, BEACON_MAGIC, BEACON_MAGIC_LEN) == 0;
}

/* Walk the extension area; returns 0 if every extension is well formed. */
static int
ext_check(const uint8_t *p, size_t n)
{
	struct buf b;
	const uint8_t *body;
	size_t len;
	uint8_t type;

	buf_view(&b, p, n);
	while (buf_len(&b) > 0) {
		if (buf_get_u8(&b, &type) != BUF_OK ||
		    buf_get_str8(&b, &body, &len, 255) != BUF_OK)
			return -1;
		if (type == BEACON_EXT_KNOWN && len % BEACON_PREFIX_LEN != 0)
			return -1;
	}
	return 0;
}

/* Parse one datagram strictly. */
int
beacon_decode(const uint8_t *p, size_t n, struct beacon *bc)
{
	struct buf b;
	const uint8_t *magic, *key;
	uint8_t version, nports, af;
	uint16_t port;
	int i, j;

	memset(bc, 0, sizeof *bc);
	if (!beacon_sniff(p, n))
		return BEACON_EMAGIC;
	if (n < BEACON_MIN || n > BEACON_MAX)
		return n > BEACON_MAGIC_LEN && p[BEACON_MAGIC_LEN] != BEACON_VERSION ?
		    BEACON_EVERSION : BEACON_EMALFORMED;
	buf_view(&b, p, n);
	if (buf_get_ptr(&b, &magic, BEACON_MAGIC_LEN) != BUF_OK ||
	    buf_get_u8(&b, &version) != BUF_OK)
		return BEACON_EMALFORMED;
	if (version != BEACON_VERSION)
		return BEACON_EVERSION;
	if (buf_get_u8(&b, &bc->flags) != BUF_OK ||
	    buf_get_u32(&b, &bc->seq) != BUF_OK ||
	    buf_get_u16(&b, &bc->interval_s) != BUF_OK ||
	    buf_get_ptr(&b, &key, BEACON_KEYLEN) != BUF_OK ||
	    buf_get_u8(&b, &nports) != BUF_OK)
		return BEACON_EMALFORMED;
	bc->flags &= BEACON_FLAGS;   /* reserved bits are ignored */
	if ((bc->flags & BEACON_GOODBYE) && (bc->flags & (BEACON_QUERY | BEACON_REPLY)))
		return BEACON_EMALFORMED;
	if ((bc->flags & BEACON_QUERY) && (bc->flags & BEACON_REPLY))
		return BEACON_EMALFORMED;
	if (bc->interval_s == 0 || bc->interval_s > BEACON_INTERVAL_MAX)
		return BEACON_EMALFORMED;
	if (nports > BEACON_MAX_PORTS || (nports == 0 && !(bc->flags & BEACON_GOODBYE)))
		return BEACON_EMALFORMED;
	memcpy(bc->key, key, BEACON_KEYLEN);
	for (i = 0; i < nports; i++) {
		if (buf_get_u8(&b, &af) != BUF_OK || buf_get_u16(&b, &port) != BUF_OK)
			return BEACON_EMALFORMED;
		if ((af != BEACON_AF_INET && af != BEACON_AF_INET6) || port == 0)
			return BEACON_EMALFORMED;
		for (j = 0; j < i; j++)
			if (bc->ports[j].af == af)
				return BEACON_EMALFORMED;
		bc->ports[i].af = af;
		bc->ports[i].port = port;
	}
	bc->nports = nports;
	if (buf_get_str8(&b, &bc->nick, &bc->nick_len, BEACON_NICK_MAX) != BUF_OK)
		return BEACON_EMALFORMED;
	bc->ext = buf_ptr(&b);
	bc->ext_len = buf_len(&b);
	if (ext_check(bc->ext, bc->ext_len) != 0)
		return BEACON_EMALFORMED;
	return BEACON_OK;
}

/* Encode a beacon; returns how many known prefixes fitted. */
long
beacon_encode(struct buf *out, const struct beacon *bc)
{
	size_t done = 0, room, k;
	int rc, i;

	if (bc->nports < 0 || bc->nports > BEACON_MAX_PORTS || bc->nick_len > BEACON_NICK_MAX)
		return BUF_EINVAL;
	if ((rc = buf_put(out, BEACON_MAGIC, BEACON_MAGIC_LEN)) != BUF_OK ||
	    (rc = buf_put_u8(out, BEACON_VERSION)) != BUF_OK ||
	    (rc = buf_put_u8(out, bc->flags)) != BUF_OK ||
	    (rc = buf_put_u32(out, bc->seq)) != BUF_OK ||
	    (rc = buf_put_u16(out, bc->interval_s)) != BUF_OK ||
	    (rc = buf_put(out, bc->key, BEACON_KEYLEN)) != BUF_OK ||
	    (rc = buf_put_u8(out, (uint8_t)bc->nports)) != BUF_OK)
		return rc;
	for (i = 0; i < bc->nports; i++)
		if ((rc = buf_put_u8(out, bc->ports[i].af)) != BUF_OK ||
		    (rc = buf_put_u16(out, bc->ports[i].port)) != BUF_OK)
			return rc;
	if ((rc = buf_put_str8(out, (const char *)bc->nick, bc->nick_len)) != BUF_OK)
		return rc;
	/* KNOWN extensions of up to 63 prefixes each, while the datagram has room */
	while (done < bc->nknown) {
		if (buf_len(out) + 2 + BEACON_PREFIX_LEN > BEACON_MAX)
			break;
		room = (BEACON_MAX - buf_len(out) - 2) / BEACON_PREFIX_LEN;
		k = bc->nknown - done;
		if (k > 255 / BEACON_PREFIX_LEN)
			k = 255 / BEACON_PREFIX_LEN;
		if (k > room)
			k = room;
		if ((rc = buf_put_u8(out, BEACON_EXT_KNOWN)) != BUF_OK ||
		    (rc = buf_put_str8(out, (const char *)bc->known + done * BEACON_PREFIX_LEN,
		        k * BEACON_PREFIX_LEN)) != BUF_OK)
			return rc;
		done += k;
	}
	return (long)done;
}

/* Whether a decoded beacon's KNOWN lists carry key's prefix. */
int
beacon_knows(const struct beacon *bc, const uint8_t key[BEACON_KEYLEN])
{
	struct buf b;
	const uint8_t *body;
	size_t len, i;
	uint8_t type;

	buf_view(&b, bc->ext, bc->ext_len);
	while (buf_len(&b) > 0) {
		if (buf_get_u8(&b, &type) != BUF_OK ||
		    buf_get_str8(&b, &body, &len, 255) != BUF_OK)
			return 0;
		if (type != BEACON_EXT_KNOWN)
			continue;
		for (i = 0; i + BEACON_PREFIX_LEN <= len; i += BEACON_PREFIX_LEN)
			if (memcmp(body + i, key, BEACON_PREFIX_LEN) == 0)
				return 1;
	}
	return 0;
}

/* The port announced for a family, or 0. */
uint16_t
beacon_port_for(const struct beacon *bc, uint8_t af)
{
	int i;

	for (i = 0; i < bc->nports; i++)
		if (bc->ports[i].af == af)
			return bc->ports[i].port;
	return 0;
}
