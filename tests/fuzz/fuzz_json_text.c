/* fuzz_json_text.c - libFuzzer target for peer-text sanitising, wrapping, nick skeletons and JSON output. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "../json_check.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any broken invariant is a crash for libFuzzer to report. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* Whether cp must never reach a terminal. */
static int
forbidden_cp(uint32_t cp, int flags)
{
	if (cp == '\n')
		return !(flags & TEXT_KEEP_NEWLINE);
	if (cp == '\t')
		return !(flags & TEXT_KEEP_TAB);
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Abort unless s (len bytes, NUL after) is clean sanitiser output. */
static void
check_clean(const char *s, size_t len, int flags)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;
	uint32_t cp;

	CHECK(s[len] == '\0');
	CHECK(memchr(s, '\0', len) == NULL);
	CHECK(text_utf8_valid(p, len));
	while (i < len) {
		i += text_utf8_decode(p + i, len - i, &cp);
		CHECK(!forbidden_cp(cp, flags));
	}
}

/* Whether in[0..n) would pass through the sanitiser unchanged. */
static int
already_clean(const uint8_t *in, size_t n, int flags)
{
	size_t i = 0, l;
	uint32_t cp;

	while (i < n) {
		l = text_utf8_decode(in + i, n - i, &cp);
		if ((l == 1 && cp == 0xfffd) || forbidden_cp(cp, flags))
			return 0;
		i += l;
	}
	return 1;
}

/* Abort unless fitting and wrapping s (clean, len bytes) behave. */
static void
check_layout(const char *s, size_t len)
{
	static const size_t widths[] = { 0, 1, 2, 3, 5, 8, 13, 80 };
	size_t c, cols, k, used, off;
	uint32_t cp;

	for (c = 0; c < sizeof widths / sizeof widths[0]; c++) {
		cols = widths[c];
		k = text_fit(s, len, cols, &used);
		CHECK(k <= len && used <= cols);
		CHECK(text_utf8_valid((const uint8_t *)s, k));
		CHECK(text_width(s, k) == used);
		/* it stopped at a character that does not fit (so not at a mark) */
		if (k < len) {
			(void)text_utf8_decode((const uint8_t *)s + k, len - k, &cp);
			CHECK(used + (size_t)text_cp_width(cp) > cols);
		}
		for (off = 0; off < len; off += k) {
			k = text_wrap(s + off, len - off, cols);
			CHECK(k > 0 && k <= len - off);
			CHECK(text_utf8_valid((const uint8_t *)s + off, k));
			if (cols >= 2)
				CHECK(text_width(s + off, k) <= cols);
		}
	}
}

/* Sanitise with every flag combination and output size; check the rules. */
static void
fuzz_sanitize(const uint8_t *in, size_t n)
{
	static const size_t maxes[] = { 0, 1, 2, 3, 4, 5, 7, 8, 16, 64 };
	size_t fullmax = 3 * n + 1, flen, len, m, l;
	char *full = malloc(fullmax), *out = malloc(fullmax), *again = malloc(fullmax);
	uint32_t cp;
	int flags;

	CHECK(full != NULL && out != NULL && again != NULL);
	for (flags = 0; flags < 4; flags++) {
		flen = text_sanitize(in, n, full, fullmax, flags);
		CHECK(flen < fullmax);
		check_clean(full, flen, flags);
		/* clean input is left alone; sanitising is idempotent */
		if (already_clean(in, n, flags))
			CHECK(flen == n && memcmp(full, in, n) == 0);
		len = text_sanitize((const uint8_t *)full, flen, again, flen + 1, flags);
		CHECK(len == flen && memcmp(again, full, flen) == 0);
		/* smaller outputs are maximal character-aligned prefixes */
		for (m = 0; m < sizeof maxes / sizeof maxes[0]; m++) {
			memset(out, 0x55, maxes[m] < fullmax ? maxes[m] : fullmax);
			len = text_sanitize(in, n, out, maxes[m], flags);
			if (maxes[m] == 0) {
				CHECK(len == 0);
				continue;
			}
			CHECK(len < maxes[m] && len <= flen);
			check_clean(out, len, flags);
			CHECK(memcmp(out, full, len) == 0);
			if (len < flen) {
				l = text_utf8_decode((const uint8_t *)full + len, flen - len, &cp);
				CHECK(len + l > maxes[m] - 1);
			}
		}
		if (flags == (TEXT_KEEP_NEWLINE | TEXT_KEEP_TAB))
			check_layout(full, flen);
	}
	free(full);
	free(out);
	free(again);
}

/* json_quote must give one valid string that decodes to the repaired input. */
static void
fuzz_quote(const uint8_t *in, size_t n)
{
	struct buf b;
	char *want = malloc(3 * n + 1), *dec = NULL;
	size_t w = 0, i = 0, l, p = 0, declen = 0;
	uint32_t cp;

	CHECK(want != NULL);
	while (i < n) {
		l = text_utf8_decode(in + i, n - i, &cp);
		w += text_utf8_encode(cp, want + w);   /* invalid bytes: U+FFFD */
		i += l;
	}
	buf_init(&b, BUF_MAX_CAP);
	CHECK(json_quote(&b, (const char *)in, n) == 0);
	dec = malloc(buf_len(&b) + 1);
	CHECK(dec != NULL);
	CHECK(jv_string((const char *)buf_ptr(&b), buf_len(&b), &p, dec, &declen, JV_COMPACT | JV_NO_C1) == 0);
	CHECK(p == buf_len(&b));
	CHECK(declen == w && memcmp(dec, want, w) == 0);
	buf_free(&b);
	free(dec);
	free(want);
}

/* Take up to 24 bytes of the input as a string piece. */
static size_t
take(const uint8_t **in, size_t *n, const char **piece)
{
	size_t k;

	if (*n == 0) {
		*piece = "";
		return 0;
	}
	k = **in % 24;
	(*in)++;
	(*n)--;
	if (k > *n)
		k = *n;
	*piece = (const char *)*in;
	*in += k;
	*n -= k;
	return k;
}

/*
 * Drive the object writer with the input as a program, keeping a model of
 * the open levels to predict whether json_end must succeed.  On success the
 * buffer must hold exactly one valid JSON line; on failure nothing at all.
 */
static void
fuzz_builder(const uint8_t *in, size_t n)
{
	struct json j;
	struct buf b;
	char kind[64], kbuf[25];
	const char *key, *val;
	size_t kl, vl, p = 0;
	int depth = 1, bad = 0, small, r, inobj;
	uint8_t op;

	if (n == 0)
		return;
	small = in[0] & 1;
	buf_init(&b, small ? 32 + in[0] : 1 << 20);
	in++;
	n--;
	json_begin(&j, &b);
	kind[0] = '{';
	while (n > 0 && depth < (int)sizeof kind) {
		op = *in++;
		n--;
		inobj = kind[depth - 1] == '{';
		kl = take(&in, &n, &key);
		memcpy(kbuf, key, kl);   /* keys are NUL-terminated */
		kbuf[kl] = '\0';
		key = inobj ? kbuf : NULL;
		if ((op & 0x80) && op % 8 < 6) {
			key = inobj ? NULL : kbuf;   /* misuse: key where none belongs or vice versa */
			bad = 1;
		}
		switch (op % 8) {
		case 0:
			vl = take(&in, &n, &val);
			json_strn(&j, key, val, vl);
			break;
		case 1:
			json_int(&j, key, (int64_t)((uint64_t)op << 56 | n));
			break;
		case 2:
			json_uint(&j, key, (uint64_t)op * 0x0101010101010101ull);
			break;
		case 3:
			if (op & 8)
				json_bool(&j, key, op & 16);
			else
				json_null(&j, key);
			break;
		case 4:
		case 5:
			if (op % 8 == 4)
				json_arr_begin(&j, key);
			else
				json_obj_begin(&j, key);
			if (depth >= JSON_MAX_DEPTH)
				bad = 1;
			kind[depth++] = op % 8 == 4 ? '[' : '{';
			break;
		case 6:
		case 7:
			if (op % 8 == 6)
				json_arr_end(&j);
			else
				json_obj_end(&j);
			if (depth < 2 || kind[depth - 1] != (op % 8 == 6 ? '[' : '{'))
				bad = 1;
			else
				depth--;
			break;
		}
	}
	r = json_end(&j);
	if (!small)
		CHECK(r == ((bad || depth != 1) ? -1 : 0));
	if (r == 0) {
		CHECK(buf_len(&b) >= 3 && buf_ptr(&b)[buf_len(&b) - 1] == '\n');
		CHECK(jv_value((const char *)buf_ptr(&b), buf_len(&b) - 1, &p, 64, JV_COMPACT | JV_NO_C1) == 0);
		CHECK(p == buf_len(&b) - 1);
		CHECK(text_utf8_valid(buf_ptr(&b), buf_len(&b)));
	} else {
		CHECK(buf_len(&b) == 0);
	}
	buf_free(&b);
}

/* libFuzzer entry point. */
/* Insert U+200B (zero-width space) at byte offset at of s (len bytes); returns the new length. */
static size_t
insert_zwsp(const char *s, size_t len, size_t at, char *out)
{
	memcpy(out, s, at);
	memcpy(out + at, "\xe2\x80\x8b", 3);
	memcpy(out + at + 3, s + at, len - at);
	out[len + 3] = '\0';
	return len + 3;
}

/*
 * The nick skeleton and trimming (app/text.c): valid, bounded output with no
 * blank, invisible, upper-case or merged-away character in it; idempotent;
 * shorter outputs are prefixes; blanks at the ends and zero-width spaces
 * between characters change nothing.
 */
static void
fuzz_skeleton(const uint8_t *in, size_t n)
{
	static const size_t maxes[] = { 0, 1, 2, 3, 4, 8, 65 };
	size_t cap = 3 * n + 8, len, len2, m, i, l, clen;
	char *sk = malloc(cap), *sk2 = malloc(cap), *clean = malloc(cap), *mod = malloc(cap + 8);
	uint32_t cp;

	CHECK(sk != NULL && sk2 != NULL && clean != NULL && mod != NULL);
	len = text_nick_skeleton(in, n, sk, cap);
	CHECK(len < cap && sk[len] == '\0' && strlen(sk) == len);
	CHECK(text_utf8_valid((const uint8_t *)sk, len));
	for (i = 0; i < len; i += l) {
		l = text_utf8_decode((const uint8_t *)sk + i, len - i, &cp);
		CHECK(cp >= 0x20 && !(cp >= 0x7f && cp <= 0x9f));
		CHECK(cp != ' ' && cp != 0xa0 && cp != 0x3000 && cp != 0x200b && cp != 0xad && cp != 0xfeff &&
		    cp != 0x2060 && !(cp >= 0x300 && cp <= 0x36f));
		CHECK(!(cp >= 'A' && cp <= 'Z') && cp != '0' && cp != '1' && cp != 'i' && cp != '|');
		CHECK(!(cp >= 0xff01 && cp <= 0xff5e) && cp != 0x43e && cp != 0x3bf && cp != 0x430);
	}
	CHECK(strstr(sk, "rn") == NULL);
	len2 = text_nick_skeleton((const uint8_t *)sk, len, sk2, cap);
	CHECK(len2 == len && memcmp(sk, sk2, len) == 0);
	for (m = 0; m < sizeof maxes / sizeof maxes[0]; m++) {
		len2 = text_nick_skeleton(in, n, sk2, maxes[m]);
		if (maxes[m] == 0) {
			CHECK(len2 == 0);
			continue;
		}
		CHECK(len2 < maxes[m] && len2 <= len && memcmp(sk2, sk, len2) == 0);
		CHECK(text_utf8_valid((const uint8_t *)sk2, len2));
	}
	/* on clean text: blanks at the ends, zero-width spaces inside change nothing */
	clen = text_sanitize(in, n, clean, cap, 0);
	len = text_nick_skeleton((const uint8_t *)clean, clen, sk, cap);
	mod[0] = ' ';
	memcpy(mod + 1, clean, clen);
	memcpy(mod + 1 + clen, "\xc2\xa0", 3);
	len2 = text_nick_skeleton((const uint8_t *)mod, clen + 3, sk2, cap);
	CHECK(len2 == len && memcmp(sk, sk2, len) == 0);
	for (i = 0; i <= clen; i += l) {
		l = i < clen ? text_utf8_decode((const uint8_t *)clean + i, clen - i, &cp) : 1;
		if (i % 7 != 0 && i != clen)
			continue;   /* a few places are enough */
		insert_zwsp(clean, clen, i, mod);
		len2 = text_nick_skeleton((const uint8_t *)mod, clen + 3, sk2, cap);
		CHECK(len2 == len && memcmp(sk, sk2, len) == 0);
	}
	/* trimming: a piece of the middle, idempotent, same skeleton */
	memcpy(mod, clean, clen + 1);
	len2 = text_trim_blanks(mod);
	CHECK(len2 <= clen && strlen(mod) == len2 && text_utf8_valid((const uint8_t *)mod, len2));
	CHECK(memmem(clean, clen, mod, len2) != NULL);
	CHECK(text_trim_blanks(mod) == len2);
	CHECK(len2 == 0 || (mod[0] != ' ' && mod[len2 - 1] != ' '));
	l = text_nick_skeleton((const uint8_t *)mod, len2, sk2, cap);
	CHECK(l == len && memcmp(sk, sk2, len) == 0);
	free(sk);
	free(sk2);
	free(clean);
	free(mod);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_sanitize(data, size);
	fuzz_skeleton(data, size);
	fuzz_quote(data, size);
	fuzz_builder(data, size);
	return 0;
}
