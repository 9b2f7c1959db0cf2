/* json_check.h - a strict JSON checker for the tests and fuzz targets of json.c. */
#ifndef CONFAB_JSON_CHECK_H
#define CONFAB_JSON_CHECK_H

#include <stdint.h>
#include <string.h>

#include "text.h"

/*
 * A small strict JSON checker (RFC 8259, valid UTF-8, no lone surrogate
 * escapes).  Each jv_* function checks one item at s[*p..n) and advances *p
 * past it; 0 on success, -1 if malformed.  Flags make it stricter still:
 * JV_COMPACT takes JSON exactly as json.c writes it (no whitespace, integers
 * only), JV_NO_C1 refuses raw DEL and C1 controls in strings (json_quote must
 * escape them).
 */
#define JV_COMPACT 1
#define JV_NO_C1   2

/* Skip JSON whitespace. */
static inline void
jv_ws(const char *s, size_t n, size_t *p, int flags)
{
	if (flags & JV_COMPACT)
		return;
	while (*p < n && (s[*p] == ' ' || s[*p] == '\t' || s[*p] == '\n' || s[*p] == '\r'))
		(*p)++;
}

/* Read four hex digits at s[*p..]; -1 if malformed. */
static inline long
jv_hex4(const char *s, size_t n, size_t *p)
{
	long v = 0;
	int i, c;

	if (n - *p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		c = s[(*p)++];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * Check a string at its opening quote; if out is not NULL the decoded bytes go
 * there (never more than the quoted length) and their count to *outlen.
 */
static inline int
jv_string(const char *s, size_t n, size_t *p, char *out, size_t *outlen, int flags)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t o = 0, l;
	uint32_t cp;
	long v, lo;
	char enc[4];

	if (*p >= n || s[*p] != '"')
		return -1;
	(*p)++;
	while (*p < n && s[*p] != '"') {
		if (u[*p] < 0x20)
			return -1;
		if (s[*p] != '\\') {
			l = text_utf8_decode(u + *p, n - *p, &cp);
			if ((l == 1 && cp == 0xfffd) ||
			    ((flags & JV_NO_C1) && cp >= 0x7f && cp <= 0x9f))
				return -1;
			if (out != NULL)
				memcpy(out + o, s + *p, l);
			o += l;
			*p += l;
			continue;
		}
		if (++(*p) >= n)
			return -1;
		switch (s[(*p)++]) {
		case '"':  cp = '"';  break;
		case '\\': cp = '\\'; break;
		case '/':  cp = '/';  break;
		case 'b':  cp = '\b'; break;
		case 'f':  cp = '\f'; break;
		case 'n':  cp = '\n'; break;
		case 'r':  cp = '\r'; break;
		case 't':  cp = '\t'; break;
		case 'u':
			if ((v = jv_hex4(s, n, p)) < 0 || (v >= 0xdc00 && v <= 0xdfff))
				return -1;
			if (v >= 0xd800 && v <= 0xdbff) {
				if (n - *p < 2 || s[*p] != '\\' || s[*p + 1] != 'u')
					return -1;
				*p += 2;
				if ((lo = jv_hex4(s, n, p)) < 0xdc00 || lo > 0xdfff)
					return -1;
				v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
			}
			cp = (uint32_t)v;
			break;
		default:
			return -1;
		}
		l = text_utf8_encode(cp, enc);
		if (out != NULL)
			memcpy(out + o, enc, l);
		o += l;
	}
	if (*p >= n)
		return -1;
	(*p)++;
	if (outlen != NULL)
		*outlen = o;
	return 0;
}

/* Check a number. */
static inline int
jv_number(const char *s, size_t n, size_t *p, int flags)
{
	size_t d;

	if (*p < n && s[*p] == '-')
		(*p)++;
	if (*p < n && s[*p] == '0') {
		(*p)++;
	} else {
		for (d = *p; *p < n && s[*p] >= '0' && s[*p] <= '9'; (*p)++)
			;
		if (*p == d || s[d] == '0')
			return -1;
	}
	if ((flags & JV_COMPACT) && *p < n && (s[*p] == '.' || s[*p] == 'e' || s[*p] == 'E'))
		return -1;
	if (*p < n && s[*p] == '.') {
		for (d = ++(*p); *p < n && s[*p] >= '0' && s[*p] <= '9'; (*p)++)
			;
		if (*p == d)
			return -1;
	}
	if (*p < n && (s[*p] == 'e' || s[*p] == 'E')) {
		(*p)++;
		if (*p < n && (s[*p] == '+' || s[*p] == '-'))
			(*p)++;
		for (d = *p; *p < n && s[*p] >= '0' && s[*p] <= '9'; (*p)++)
			;
		if (*p == d)
			return -1;
	}
	return 0;
}

/* Check any value, containers to at most depth levels. */
static inline int
jv_value(const char *s, size_t n, size_t *p, int depth, int flags)
{
	char close;
	int first = 1;

	jv_ws(s, n, p, flags);
	if (*p >= n)
		return -1;
	if (s[*p] == '"')
		return jv_string(s, n, p, NULL, NULL, flags);
	if (s[*p] == '-' || (s[*p] >= '0' && s[*p] <= '9'))
		return jv_number(s, n, p, flags);
	if (n - *p >= 4 && (memcmp(s + *p, "true", 4) == 0 || memcmp(s + *p, "null", 4) == 0)) {
		*p += 4;
		return 0;
	}
	if (n - *p >= 5 && memcmp(s + *p, "false", 5) == 0) {
		*p += 5;
		return 0;
	}
	if ((s[*p] != '{' && s[*p] != '[') || depth == 0)
		return -1;
	close = s[(*p)++] == '{' ? '}' : ']';
	for (;;) {
		jv_ws(s, n, p, flags);
		if (*p < n && s[*p] == close && first) {
			(*p)++;
			return 0;
		}
		if (close == '}') {
			if (jv_string(s, n, p, NULL, NULL, flags) != 0)
				return -1;
			jv_ws(s, n, p, flags);
			if (*p >= n || s[(*p)++] != ':')
				return -1;
		}
		if (jv_value(s, n, p, depth - 1, flags) != 0)
			return -1;
		jv_ws(s, n, p, flags);
		if (*p >= n)
			return -1;
		if (s[*p] == close) {
			(*p)++;
			return 0;
		}
		if (s[(*p)++] != ',')
			return -1;
		first = 0;
	}
}

/* Whether text[0..n) is one strict JSON document (trailing whitespace allowed). */
static inline int
jv_parses(const char *text, size_t n, int flags)
{
	size_t p = 0;

	if (jv_value(text, n, &p, 64, flags) != 0)
		return 0;
	jv_ws(text, n, &p, flags);
	return p == n;
}

#endif
