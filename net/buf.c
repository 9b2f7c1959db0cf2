/* buf.c - bounds-checked byte buffers. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "buf.h"

/* Initialise an empty owning buffer that may grow up to cap bytes. */
void
buf_init(struct buf *b, size_t cap)
{
	memset(b, 0, sizeof *b);
	b->cap = cap > BUF_MAX_CAP ? BUF_MAX_CAP : cap;
}

/* Initialise a read-only view over existing bytes. */
void
buf_view(struct buf *b, const void *p, size_t n)
{
	memset(b, 0, sizeof *b);
	b->d = (uint8_t *)(uintptr_t)p;
	b->len = b->alloc = b->cap = n;
	b->ro = 1;
}

/* Free the storage, wiping it first since it may have held plaintext. */
void
buf_free(struct buf *b)
{
	size_t cap = b->cap;

	if (!b->ro && b->d != NULL) {
		sodium_memzero(b->d, b->alloc);
		free(b->d);
	}
	memset(b, 0, sizeof *b);
	b->cap = cap;
}

/* Drop all data but keep the storage. */
void
buf_reset(struct buf *b)
{
	if (b->ro)
		return;
	b->off = b->len = 0;
}

/* Move unread data to the front of the storage. */
void
buf_compact(struct buf *b)
{
	if (b->ro || b->off == 0)
		return;
	if (b->len > b->off)
		memmove(b->d, b->d + b->off, b->len - b->off);
	b->len -= b->off;
	b->off = 0;
}

/* Give back the storage of an empty buffer that grew beyond keep bytes (a burst is over). */
void
buf_shrink(struct buf *b, size_t keep)
{
	if (b->ro || buf_len(b) > 0 || b->alloc <= keep)
		return;
	buf_free(b);   /* keeps the cap; the next put allocates again */
}

/* Make room for n more bytes and return where to write them. */
int
buf_reserve(struct buf *b, size_t n, uint8_t **p)
{
	size_t need, nalloc;
	uint8_t *nd;

	if (b->ro)
		return BUF_ERDONLY;
	if (n > b->cap || buf_len(b) > b->cap - n)
		return BUF_ETOOBIG;
	if (b->alloc - b->len >= n) {
		*p = b->d + b->len;
		return BUF_OK;
	}
	/* Reclaim consumed space before growing. */
	if (b->off > 0 && b->alloc - buf_len(b) >= n && b->off >= b->alloc / 4) {
		buf_compact(b);
		*p = b->d + b->len;
		return BUF_OK;
	}
	buf_compact(b);
	need = b->len + n;
	nalloc = b->alloc ? b->alloc : 256;
	while (nalloc < need)
		nalloc = nalloc > SIZE_MAX / 2 ? need : nalloc * 2;
	if (nalloc > b->cap)
		nalloc = b->cap;
	if ((nd = malloc(nalloc)) == NULL)
		return BUF_ENOMEM;
	if (b->d != NULL) {
		memcpy(nd, b->d, b->len);
		sodium_memzero(b->d, b->alloc);
		free(b->d);
	}
	b->d = nd;
	b->alloc = nalloc;
	*p = b->d + b->len;
	return BUF_OK;
}

/* Mark n bytes written after buf_reserve. */
void
buf_commit(struct buf *b, size_t n)
{
	if (n > b->alloc - b->len)
		abort();   /* caller bug: wrote past its reservation */
	b->len += n;
}

/* Discard n bytes from the front. */
int
buf_consume(struct buf *b, size_t n)
{
	if (n > buf_len(b))
		return BUF_ESHORT;
	b->off += n;
	if (b->off == b->len && !b->ro)
		b->off = b->len = 0;
	return BUF_OK;
}

/* Append n bytes. */
int
buf_put(struct buf *b, const void *p, size_t n)
{
	uint8_t *w;
	int r;

	if (n == 0)
		return BUF_OK;
	if ((r = buf_reserve(b, n, &w)) != BUF_OK)
		return r;
	memcpy(w, p, n);
	buf_commit(b, n);
	return BUF_OK;
}

/* Append one byte. */
int
buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put(b, &v, 1);
}

/* Append a big-endian 16-bit value. */
int
buf_put_u16(struct buf *b, uint16_t v)
{
	uint8_t x[2] = { v >> 8, v };

	return buf_put(b, x, sizeof x);
}

/* Append a big-endian 32-bit value. */
int
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { v >> 24, v >> 16, v >> 8, v };

	return buf_put(b, x, sizeof x);
}

/* Append a big-endian 64-bit value. */
int
buf_put_u64(struct buf *b, uint64_t v)
{
	uint8_t x[8];
	int i;

	for (i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (56 - 8 * i));
	return buf_put(b, x, sizeof x);
}

/* Append a string with a one-byte length prefix. */
int
buf_put_str8(struct buf *b, const char *s, size_t n)
{
	uint8_t *w;
	int r;

	if (n > UINT8_MAX)
		return BUF_ETOOBIG;
	if ((r = buf_reserve(b, 1 + n, &w)) != BUF_OK)   /* all or nothing */
		return r;
	w[0] = (uint8_t)n;
	if (n > 0)
		memcpy(w + 1, s, n);
	buf_commit(b, 1 + n);
	return BUF_OK;
}

/* Append a string with a two-byte length prefix. */
int
buf_put_str16(struct buf *b, const char *s, size_t n)
{
	uint8_t *w;
	int r;

	if (n > UINT16_MAX)
		return BUF_ETOOBIG;
	if ((r = buf_reserve(b, 2 + n, &w)) != BUF_OK)   /* all or nothing */
		return r;
	w[0] = (uint8_t)(n >> 8);
	w[1] = (uint8_t)n;
	if (n > 0)
		memcpy(w + 2, s, n);
	buf_commit(b, 2 + n);
	return BUF_OK;
}

/* Copy out n bytes. */
int
buf_get(struct buf *b, void *p, size_t n)
{
	if (n > buf_len(b))
		return BUF_ESHORT;
	if (n > 0)
		memcpy(p, buf_ptr(b), n);
	b->off += n;
	return BUF_OK;
}

/* Read one byte. */
int
buf_get_u8(struct buf *b, uint8_t *v)
{
	return buf_get(b, v, 1);
}

/* Read a big-endian 16-bit value. */
int
buf_get_u16(struct buf *b, uint16_t *v)
{
	uint8_t x[2];
	int r;

	if ((r = buf_get(b, x, sizeof x)) != BUF_OK)
		return r;
	*v = (uint16_t)(x[0] << 8 | x[1]);
	return BUF_OK;
}

/* Read a big-endian 32-bit value. */
int
buf_get_u32(struct buf *b, uint32_t *v)
{
	uint8_t x[4];
	int r;

	if ((r = buf_get(b, x, sizeof x)) != BUF_OK)
		return r;
	*v = (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 | (uint32_t)x[2] << 8 | x[3];
	return BUF_OK;
}

/* Read a big-endian 64-bit value. */
int
buf_get_u64(struct buf *b, uint64_t *v)
{
	uint32_t hi, lo;

	if (buf_len(b) < 8)
		return BUF_ESHORT;
	(void)buf_get_u32(b, &hi);
	(void)buf_get_u32(b, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return BUF_OK;
}

/* Borrow n bytes in place. */
int
buf_get_ptr(struct buf *b, const uint8_t **p, size_t n)
{
	if (n > buf_len(b))
		return BUF_ESHORT;
	*p = buf_ptr(b);
	b->off += n;
	return BUF_OK;
}

/* Borrow a string whose length prefix is plen bytes wide. */
static int
get_str(struct buf *b, size_t plen, const uint8_t **p, size_t *n, size_t max)
{
	const uint8_t *q = buf_ptr(b);
	size_t len;

	if (buf_len(b) < plen)
		return BUF_ESHORT;
	len = plen == 1 ? q[0] : (size_t)(q[0] << 8 | q[1]);
	if (len > max)
		return BUF_ETOOBIG;
	if (buf_len(b) - plen < len)
		return BUF_ESHORT;
	*p = q + plen;
	*n = len;
	b->off += plen + len;
	return BUF_OK;
}

/* Borrow a string with a one-byte length prefix. */
int
buf_get_str8(struct buf *b, const uint8_t **p, size_t *n, size_t max)
{
	return get_str(b, 1, p, n, max);
}

/* Borrow a string with a two-byte length prefix. */
int
buf_get_str16(struct buf *b, const uint8_t **p, size_t *n, size_t max)
{
	return get_str(b, 2, p, n, max);
}

/* Succeed only if nothing is left to read. */
int
buf_get_end(const struct buf *b)
{
	return buf_len(b) == 0 ? BUF_OK : BUF_ETRAILING;
}

/* A short English description of a BUF_E* code. */
const char *
buf_strerror(int err)
{
	switch (err) {
	case BUF_OK:        return "success";
	case BUF_ESHORT:    return "truncated data";
	case BUF_ETOOBIG:   return "length over limit";
	case BUF_ENOMEM:    return "out of memory";
	case BUF_ETRAILING: return "unexpected trailing bytes";
	case BUF_EINVAL:    return "malformed value";
	case BUF_ERDONLY:   return "buffer is read-only";
	}
	return "unknown buffer error";
}
