/* utf8.h - strict UTF-8 decoding. */
#ifndef CONFAB_UTF8_H
#define CONFAB_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode one strictly valid UTF-8 character at p (n > 0 bytes available):
 * returns its length (1-4) and sets *cp, or 0 for an invalid, overlong,
 * surrogate, out-of-range or truncated sequence.
 */
size_t utf8_decode(const uint8_t *p, size_t n, uint32_t *cp);

#endif
