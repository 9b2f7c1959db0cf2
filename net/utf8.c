/* utf8.c - strict UTF-8 decoding, shared by the file-name checks and the text layer. */
#include "config.h"

#include "utf8.h"

/*
 * Decode one strictly valid UTF-8 character at p (n > 0 bytes available):
 * returns its length and sets *cp, or 0 for an invalid, overlong, surrogate,
 * out-of-range or truncated sequence.
 */
size_t
utf8_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	size_t len, i;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;          /* overlong below U+0800 */
		else if (c == 0xed)
			hi = 0x9f;          /* surrogates U+D800..U+DFFF */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;          /* overlong below U+10000 */
		else if (c == 0xf4)
			hi = 0x8f;          /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	v = v << 6 | (p[1] & 0x3f);
	for (i = 2; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	*cp = v;
	return len;
}
