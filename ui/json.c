/* json.c - a small JSON Lines writer for the headless front-end. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "text.h"

/* Cut b back so that it holds exactly `unread` unread bytes again. */
static void
buf_rollback(struct buf *b, size_t unread)
{
	if (b != NULL && !b->ro && buf_len(b) >= unread)
		b->len = b->off + unread;
}

/* Append a \uXXXX escape for cp (a BMP code point). */
static int
put_uescape(struct buf *b, uint32_t cp)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = { '\\', 'u', hex[cp >> 12 & 15], hex[cp >> 8 & 15],
	    hex[cp >> 4 & 15], hex[cp & 15] };

	return buf_put(b, e, sizeof e);
}

/* Append the escape for ASCII byte c (a control, quote or backslash). */
static int
put_ascii_escape(struct buf *b, uint8_t c)
{
	char e[2] = { '\\', 0 };

	switch (c) {
	case '"':  e[1] = '"';  break;
	case '\\': e[1] = '\\'; break;
	case '\b': e[1] = 'b';  break;
	case '\f': e[1] = 'f';  break;
	case '\n': e[1] = 'n';  break;
	case '\r': e[1] = 'r';  break;
	case '\t': e[1] = 't';  break;
	default:
		return put_uescape(b, c);
	}
	return buf_put(b, e, sizeof e);
}

/*
 * Append s as a JSON string.  Printable ASCII and valid multi-byte UTF-8 are
 * copied in runs; controls (C0, DEL, C1), quote, backslash and U+2028/U+2029
 * are escaped; each invalid byte becomes U+FFFD.  On failure nothing is left
 * appended.
 */
int
json_quote(struct buf *b, const char *s, size_t n)
{
	static const char fffd[3] = { '\xef', '\xbf', '\xbd' };
	const uint8_t *p = (const uint8_t *)s;
	size_t start = buf_len(b), i = 0, run = 0, l;
	uint32_t cp;
	int r = -1;

	if (buf_put_u8(b, '"') != BUF_OK)
		goto out;
	while (i < n) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') {
			i++;
			continue;
		}
		l = 1;
		cp = p[i];
		if (p[i] >= 0x80) {
			l = text_utf8_decode(p + i, n - i, &cp);
			if (!(l == 1 && cp == 0xfffd) && cp > 0x9f &&
			    cp != 0x2028 && cp != 0x2029) {
				i += l;   /* valid, printable: part of the run */
				continue;
			}
		}
		if (buf_put(b, p + run, i - run) != BUF_OK)
			goto out;
		if (p[i] < 0x80) {
			if (put_ascii_escape(b, p[i]) != BUF_OK)
				goto out;
		} else if (l == 1 && cp == 0xfffd) {
			if (buf_put(b, fffd, sizeof fffd) != BUF_OK)
				goto out;
		} else if (put_uescape(b, cp) != BUF_OK) {
			goto out;
		}
		i += l;
		run = i;
	}
	if (buf_put(b, p + run, i - run) != BUF_OK || buf_put_u8(b, '"') != BUF_OK)
		goto out;
	r = 0;
out:
	if (r != 0)
		buf_rollback(b, start);
	return r;
}

/* Append raw text to the object being built; errors are sticky. */
static int
put(struct json *j, const char *s, size_t n)
{
	if (j->err)
		return -1;
	if (buf_put(j->b, s, n) != BUF_OK)
		j->err = 1;
	return j->err ? -1 : 0;
}

/*
 * Start a new member at the current level: the comma, then "key": in an
 * object.  Objects need a key and arrays must not get one.
 */
static int
member(struct json *j, const char *key)
{
	int lvl;

	if (j->err)
		return -1;
	if (j->depth < 1)
		goto fail;
	lvl = j->depth - 1;
	if ((j->kind[lvl] == '{') != (key != NULL))
		goto fail;
	if (!j->first[lvl] && put(j, ",", 1) != 0)
		return -1;
	j->first[lvl] = 0;
	if (key == NULL)
		return 0;
	if (json_quote(j->b, key, strlen(key)) != 0)
		goto fail;
	return put(j, ":", 1);
fail:
	j->err = 1;
	return -1;
}

/* Open a nested array or object (kind '[' or '{') as a member. */
static void
open_level(struct json *j, const char *key, char kind)
{
	if (!j->err && j->depth >= JSON_MAX_DEPTH)
		j->err = 1;
	if (member(j, key) != 0 || put(j, &kind, 1) != 0)
		return;
	j->kind[j->depth] = kind;
	j->first[j->depth] = 1;
	j->depth++;
}

/* Close the innermost level, which must be a nested one of this kind. */
static void
close_level(struct json *j, char kind)
{
	char c = kind == '[' ? ']' : '}';

	if (j->err)
		return;
	if (j->depth < 2 || j->kind[j->depth - 1] != kind) {
		j->err = 1;
		return;
	}
	if (put(j, &c, 1) == 0)
		j->depth--;
}

/* Start a top-level object, appended to whatever b already holds. */
void
json_begin(struct json *j, struct buf *b)
{
	memset(j, 0, sizeof *j);
	j->b = b;
	if (b == NULL) {
		j->err = 1;
		return;
	}
	j->start = buf_len(b);
	if (put(j, "{", 1) != 0)
		return;
	j->kind[0] = '{';
	j->first[0] = 1;
	j->depth = 1;
}

/* A string member (NULL val: null). */
void
json_str(struct json *j, const char *key, const char *val)
{
	json_strn(j, key, val, val != NULL ? strlen(val) : 0);
}

/* A string member of n bytes, which need not be valid UTF-8 (NULL val: null). */
void
json_strn(struct json *j, const char *key, const char *val, size_t n)
{
	if (member(j, key) != 0)
		return;
	if (val == NULL)
		put(j, "null", 4);
	else if (json_quote(j->b, val, n) != 0)
		j->err = 1;
}

/* A signed integer member. */
void
json_int(struct json *j, const char *key, int64_t val)
{
	char tmp[24];
	int k = snprintf(tmp, sizeof tmp, "%" PRId64, val);

	if (member(j, key) == 0)
		put(j, tmp, (size_t)k);
}

/* An unsigned integer member. */
void
json_uint(struct json *j, const char *key, uint64_t val)
{
	char tmp[24];
	int k = snprintf(tmp, sizeof tmp, "%" PRIu64, val);

	if (member(j, key) == 0)
		put(j, tmp, (size_t)k);
}

/* A boolean member. */
void
json_bool(struct json *j, const char *key, int val)
{
	if (member(j, key) == 0)
		put(j, val ? "true" : "false", val ? 4 : 5);
}

/* A null member. */
void
json_null(struct json *j, const char *key)
{
	if (member(j, key) == 0)
		put(j, "null", 4);
}

/* Open an array member. */
void
json_arr_begin(struct json *j, const char *key)
{
	open_level(j, key, '[');
}

/* A string element of the current array. */
void
json_arr_str(struct json *j, const char *val)
{
	json_str(j, NULL, val);
}

/* Close the current array. */
void
json_arr_end(struct json *j)
{
	close_level(j, '[');
}

/* Open a nested object member (key NULL inside an array). */
void
json_obj_begin(struct json *j, const char *key)
{
	open_level(j, key, '{');
}

/* Close the current nested object. */
void
json_obj_end(struct json *j)
{
	close_level(j, '{');
}

/*
 * Close the top-level object and end the line.  On any error, or if nested
 * levels are still open, the partial object is removed from the buffer.
 */
int
json_end(struct json *j)
{
	int r = -1;

	if (j->err || j->depth != 1)
		goto out;
	if (put(j, "}\n", 2) != 0)
		goto out;
	r = 0;
out:
	if (r != 0) {
		j->err = 1;
		buf_rollback(j->b, j->start);
	}
	j->depth = 0;
	j->b = NULL;   /* finished: later calls fail without touching the buffer */
	return r;
}
