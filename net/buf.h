/* buf.h - bounds-checked byte buffers for everything that crosses the wire. */
#ifndef CONFAB_BUF_H
#define CONFAB_BUF_H

#include <stddef.h>
#include <stdint.h>

/*
 * A buf owns (or borrows) a byte array with a read offset and a write offset.
 * Every getter checks the remaining length first and returns a negative BUF_E*
 * code instead of reading past the end; on error nothing is consumed.  Every
 * buffer has a hard size cap: a put that would grow it beyond the cap fails.
 */

#define BUF_OK          0
#define BUF_ESHORT     -1   /* not enough bytes left to read */
#define BUF_ETOOBIG    -2   /* would exceed the buffer's cap or a length limit */
#define BUF_ENOMEM     -3   /* allocation failed */
#define BUF_ETRAILING  -4   /* bytes left over where none were expected */
#define BUF_EINVAL     -5   /* malformed value (e.g. bad string) */
#define BUF_ERDONLY    -6   /* write to a borrowed read-only view */

#define BUF_MAX_CAP   (64u * 1024 * 1024)   /* no buffer ever exceeds this */

struct buf {
	uint8_t *d;       /* storage */
	size_t   off;     /* read offset */
	size_t   len;     /* end of valid data */
	size_t   alloc;   /* bytes allocated at d */
	size_t   cap;     /* hard upper bound on len */
	int      ro;      /* borrowed, read-only view */
};

/* Initialise an empty owning buffer that may grow up to cap bytes. */
void     buf_init(struct buf *b, size_t cap);
/* Initialise a read-only view over existing bytes (not copied, not freed). */
void     buf_view(struct buf *b, const void *p, size_t n);
/* Free the storage (wiping it) and reset to empty. */
void     buf_free(struct buf *b);
/* Drop all data but keep the storage. */
void     buf_reset(struct buf *b);

/* Bytes available to read. */
static inline size_t buf_len(const struct buf *b) { return b->len - b->off; }
/* Pointer to the first unread byte. */
static inline const uint8_t *buf_ptr(const struct buf *b) { return b->d + b->off; }

/* Make room for n more bytes, returning a pointer to write them (then buf_commit). */
int      buf_reserve(struct buf *b, size_t n, uint8_t **p);
/* Mark n bytes written after buf_reserve. */
void     buf_commit(struct buf *b, size_t n);
/* Discard n bytes from the front; fails if fewer are available. */
int      buf_consume(struct buf *b, size_t n);
/* Move unread data to the front of the storage. */
void     buf_compact(struct buf *b);
/* Give back the storage of an empty buffer that grew beyond keep bytes (wiped first). */
void     buf_shrink(struct buf *b, size_t keep);

int      buf_put(struct buf *b, const void *p, size_t n);
int      buf_put_u8(struct buf *b, uint8_t v);
int      buf_put_u16(struct buf *b, uint16_t v);   /* big-endian */
int      buf_put_u32(struct buf *b, uint32_t v);
int      buf_put_u64(struct buf *b, uint64_t v);
/* A string with a u8 length prefix (at most 255 bytes). */
int      buf_put_str8(struct buf *b, const char *s, size_t n);
/* A string with a u16 length prefix. */
int      buf_put_str16(struct buf *b, const char *s, size_t n);

int      buf_get(struct buf *b, void *p, size_t n);
int      buf_get_u8(struct buf *b, uint8_t *v);
int      buf_get_u16(struct buf *b, uint16_t *v);
int      buf_get_u32(struct buf *b, uint32_t *v);
int      buf_get_u64(struct buf *b, uint64_t *v);
/* Borrow n bytes in place (no copy); *p stays valid until the buffer changes. */
int      buf_get_ptr(struct buf *b, const uint8_t **p, size_t n);
/*
 * Borrow a length-prefixed byte string (u8 or u16 prefix) in place.  The
 * length is checked against max before anything is consumed.
 */
int      buf_get_str8(struct buf *b, const uint8_t **p, size_t *n, size_t max);
int      buf_get_str16(struct buf *b, const uint8_t **p, size_t *n, size_t max);
/* Succeed only if nothing is left to read. */
int      buf_get_end(const struct buf *b);

/* A short English description of a BUF_E* code. */
const char *buf_strerror(int err);

#endif
