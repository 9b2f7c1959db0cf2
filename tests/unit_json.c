/* unit_json.c - tests for the JSON Lines writer. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "json_check.h"
#include "tap.h"
#include "text.h"

#define FFFD "\xef\xbf\xbd"

/* The buffer's unread bytes as a new NUL-terminated string (free() it). */
static char *
buf_string(const struct buf *b)
{
	char *s = malloc(buf_len(b) + 1);

	if (s == NULL)
		abort();
	if (buf_len(b) > 0)
		memcpy(s, buf_ptr(b), buf_len(b));
	s[buf_len(b)] = '\0';
	return s;
}

/* The checker itself must reject malformed JSON, or the tests prove nothing. */
static void
test_checker(void)
{
	static const char *bad[] = { "", "{", "{\"a\":1,}", "[1 2]", "[1,]", "{\"a\" 1}",
	    "{a:1}", "\"\x01\"", "\"\xff\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\x41\"",
	    "01", "1.", "-", "tru", "\"abc", "{\"a\":1}}" };
	static const char *good[] = { "{}", "[]", "{\"a\":[1,-2.5e+3,true,false,null,\"x\"]}",
	    " {\"\\u00e9\\ud83d\\ude00\":{}} \n", "\"\xf0\x9f\x98\x80\"" };
	char deep[130];
	size_t i;
	int fails = 0;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (jv_parses(bad[i], strlen(bad[i]), 0))
			fails++;
	is_int(fails, 0, "checker rejects %zu malformed documents", sizeof bad / sizeof bad[0]);
	fails = 0;
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!jv_parses(good[i], strlen(good[i]), 0))
			fails++;
	is_int(fails, 0, "checker accepts %zu good documents", sizeof good / sizeof good[0]);
	memset(deep, '[', 65);
	memset(deep + 65, ']', 65);
	ok(!jv_parses(deep, 130, 0), "checker rejects nesting deeper than 64");
	ok(jv_parses(deep + 1, 128, 0), "checker accepts nesting of 64");
	/* the stricter modes the fuzz target uses */
	ok(jv_parses("{\"a\":[1,-2,\"x\"]}", 16, JV_COMPACT), "compact: json.c's own shape passes");
	ok(!jv_parses("[1, 2]", 6, JV_COMPACT), "compact: whitespace is refused");
	ok(!jv_parses("1.5", 3, JV_COMPACT) && !jv_parses("1e3", 3, JV_COMPACT),
	    "compact: fractions and exponents are refused");
	ok(jv_parses("\"\x7f\xc2\x85\"", 5, 0), "raw DEL and C1 are valid JSON");
	ok(!jv_parses("\"\x7f\"", 3, JV_NO_C1) && !jv_parses("\"\xc2\x85\"", 4, JV_NO_C1),
	    "but refused with JV_NO_C1");
}

/* Quote in (n bytes) and compare with the exact expected JSON text. */
static void
check_quote(const char *in, size_t n, const char *want, const char *name)
{
	struct buf b;
	char *got;

	buf_init(&b, 4096);
	is_int(json_quote(&b, in, n), 0, "quote %s: returns 0", name);
	got = buf_string(&b);
	is_str(got, want, "quote %s", name);
	ok(jv_parses(got, strlen(got), 0), "quote %s: valid JSON", name);
	free(got);
	buf_free(&b);
}

#define QUOTE(in, want, name) check_quote((in), sizeof(in) - 1, (want), (name))

/* Exact escaping of single strings. */
static void
test_quote(void)
{
	QUOTE("plain", "\"plain\"", "plain");
	QUOTE("", "\"\"", "empty");
	QUOTE("a\"b\\c/d", "\"a\\\"b\\\\c/d\"", "quote, backslash, slash");
	QUOTE("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"", "short escapes");
	QUOTE("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"", "other C0 and DEL");
	QUOTE("a\0b", "\"a\\u0000b\"", "NUL");
	QUOTE("\x1b[2J\x1b]0;pwned\x07", "\"\\u001b[2J\\u001b]0;pwned\\u0007\"", "escape sequences");
	QUOTE("h\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80",
	    "\"h\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"", "valid UTF-8 kept raw");
	QUOTE("\xc2\x9b" "2J\xc2\x85", "\"\\u009b2J\\u0085\"", "C1 controls escaped");
	QUOTE("\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\"", "line/paragraph separators");
	QUOTE("\xc0\xaf", "\"" FFFD FFFD "\"", "overlong");
	QUOTE("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"", "surrogate");
	QUOTE("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"", "above U+10FFFF");
	QUOTE("a\xe4\xb8", "\"a" FFFD FFFD "\"", "truncated at end");
	QUOTE("\xff\"", "\"" FFFD "\\\"\"", "invalid byte then quote");
	QUOTE("\xef\xbf\xbd", "\"" FFFD "\"", "real U+FFFD");
	QUOTE("\\u0041", "\"\\\\u0041\"", "backslash-u text is not an escape");
}

/* Every byte value 1..255 in one string round-trips through a strict parser. */
static void
test_quote_all_bytes(void)
{
	char in[255], want[127 + 128 * 3 + 1], dec[2048], *got;
	struct buf b;
	size_t i, w = 0, declen = 0, p = 0;

	for (i = 0; i < sizeof in; i++) {
		in[i] = (char)(i + 1);
		if (i + 1 < 0x80) {
			want[w++] = (char)(i + 1);
		} else {
			memcpy(want + w, FFFD, 3);
			w += 3;
		}
	}
	buf_init(&b, 1 << 16);
	is_int(json_quote(&b, in, sizeof in), 0, "all bytes: quoted");
	got = buf_string(&b);
	ok(jv_parses(got, strlen(got), 0), "all bytes: strict parser accepts it");
	ok(text_utf8_valid((const uint8_t *)got, strlen(got)), "all bytes: valid UTF-8");
	ok(strlen(got) < sizeof dec &&
	    jv_string(got, strlen(got), &p, dec, &declen, 0) == 0 && p == strlen(got) &&
	    declen == w && memcmp(dec, want, w) == 0,
	    "all bytes: decodes to the input with U+FFFD for invalid bytes");
	free(got);
	buf_free(&b);
}

/* Finish j into b and compare the whole buffer with want. */
static void
check_obj(struct json *j, struct buf *b, const char *want, const char *name)
{
	char *got;

	is_int(json_end(j), 0, "%s: json_end ok", name);
	got = buf_string(b);
	is_str(got, want, "%s", name);
	ok(strlen(got) > 0 && got[strlen(got) - 1] == '\n' && jv_parses(got, strlen(got), 0),
	    "%s: one valid JSON line", name);
	free(got);
	buf_reset(b);
}

/* Objects, arrays and nesting, with exact output. */
static void
test_objects(void)
{
	struct json j;
	struct buf b;

	buf_init(&b, 4096);

	json_begin(&j, &b);
	json_str(&j, "event", "ready");
	json_int(&j, "n", 3);
	json_arr_begin(&j, "listen");
	json_arr_str(&j, "1.2.3.4:5");
	json_arr_end(&j);
	check_obj(&j, &b, "{\"event\":\"ready\",\"n\":3,\"listen\":[\"1.2.3.4:5\"]}\n",
	    "header example");

	json_begin(&j, &b);
	check_obj(&j, &b, "{}\n", "empty object");

	json_begin(&j, &b);
	json_arr_begin(&j, "a");
	json_arr_end(&j);
	json_obj_begin(&j, "o");
	json_obj_end(&j);
	check_obj(&j, &b, "{\"a\":[],\"o\":{}}\n", "empty nested array and object");

	json_begin(&j, &b);
	json_obj_begin(&j, "peer");
	json_str(&j, "id", "x");
	json_arr_begin(&j, "addrs");
	json_arr_str(&j, "1");
	json_arr_str(&j, "2");
	json_arr_end(&j);
	json_bool(&j, "ok", 1);
	json_obj_end(&j);
	json_null(&j, "z");
	json_uint(&j, "u", UINT64_MAX);
	json_int(&j, "i", INT64_MIN);
	json_bool(&j, "f", 0);
	json_str(&j, "nul", NULL);
	check_obj(&j, &b, "{\"peer\":{\"id\":\"x\",\"addrs\":[\"1\",\"2\"],\"ok\":true},"
	    "\"z\":null,\"u\":18446744073709551615,\"i\":-9223372036854775808,"
	    "\"f\":false,\"nul\":null}\n", "nested object with array");

	json_begin(&j, &b);
	json_arr_begin(&j, "list");
	json_obj_begin(&j, NULL);
	json_int(&j, "n", 1);
	json_obj_end(&j);
	json_obj_begin(&j, NULL);
	json_obj_end(&j);
	json_int(&j, NULL, -7);
	json_arr_begin(&j, NULL);
	json_null(&j, NULL);
	json_bool(&j, NULL, 1);
	json_arr_end(&j);
	json_arr_end(&j);
	json_int(&j, "after", 0);
	check_obj(&j, &b, "{\"list\":[{\"n\":1},{},-7,[null,true]],\"after\":0}\n",
	    "array of objects, values and arrays");

	json_begin(&j, &b);
	json_strn(&j, "k\xff", "v\xc0\xaf\n", 4);
	json_str(&j, "\x1b]0;t\x07", "\"\\");
	json_strn(&j, "bin", "a\0b", 3);
	check_obj(&j, &b, "{\"k" FFFD "\":\"v" FFFD FFFD "\\n\",\"\\u001b]0;t\\u0007\":"
	    "\"\\\"\\\\\",\"bin\":\"a\\u0000b\"}\n", "hostile keys and values");

	json_begin(&j, &b);
	json_obj_begin(&j, "l2");
	json_obj_begin(&j, "l3");
	json_arr_begin(&j, "l4");
	json_arr_begin(&j, NULL);
	json_obj_begin(&j, NULL);
	json_arr_begin(&j, "l7");
	json_obj_begin(&j, NULL);
	json_int(&j, "deep", 8);
	json_obj_end(&j);
	json_arr_end(&j);
	json_obj_end(&j);
	json_arr_end(&j);
	json_arr_end(&j);
	json_obj_end(&j);
	json_obj_end(&j);
	check_obj(&j, &b, "{\"l2\":{\"l3\":{\"l4\":[[{\"l7\":[{\"deep\":8}]}]]}}}\n",
	    "nesting to JSON_MAX_DEPTH (8) levels");

	buf_free(&b);
}

/* Run build(j) after one good line; json_end must fail and leave only that line. */
static void
check_rejected(void (*build)(struct json *), const char *name)
{
	static const char good[] = "{\"keep\":1}\n";
	struct json j;
	struct buf b;
	char *got;

	buf_init(&b, 4096);
	json_begin(&j, &b);
	json_int(&j, "keep", 1);
	(void)json_end(&j);
	json_begin(&j, &b);
	json_str(&j, "x", "partial");
	build(&j);
	is_int(json_end(&j), -1, "%s: json_end fails", name);
	got = buf_string(&b);
	is_str(got, good, "%s: partial object removed, earlier line kept", name);
	free(got);
	buf_free(&b);
}

/* Misuse: an array element inside an object. */
static void
bad_arr_str_in_obj(struct json *j)
{
	json_arr_str(j, "v");
}

/* Misuse: an object member without a key. */
static void
bad_null_key(struct json *j)
{
	json_str(j, NULL, "v");
}

/* Misuse: a keyed member inside an array. */
static void
bad_key_in_arr(struct json *j)
{
	json_arr_begin(j, "a");
	json_str(j, "k", "v");
	json_arr_end(j);
}

/* Misuse: an array left open at json_end. */
static void
bad_unclosed(struct json *j)
{
	json_arr_begin(j, "a");
}

/* Misuse: closing an array that was never opened. */
static void
bad_extra_end(struct json *j)
{
	json_arr_end(j);
}

/* Misuse: closing an array as an object. */
static void
bad_mismatch(struct json *j)
{
	json_arr_begin(j, "a");
	json_obj_end(j);
}

/* Misuse: closing the top-level object with json_obj_end. */
static void
bad_close_top(struct json *j)
{
	json_obj_end(j);
}

/* Misuse: one level more than JSON_MAX_DEPTH. */
static void
bad_too_deep(struct json *j)
{
	int i;

	for (i = 0; i < JSON_MAX_DEPTH; i++)
		json_obj_begin(j, "d");
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		json_obj_end(j);
}

/* Misuse followed by valid calls, which must not clear the error. */
static void
bad_sticky(struct json *j)
{
	json_arr_end(j);
	json_int(j, "later", 1);
}

/* Misuse and resource errors are reported and leave no partial output. */
static void
test_errors(void)
{
	struct json j;
	struct buf b, ro;
	char *got;
	int i;

	check_rejected(bad_arr_str_in_obj, "json_arr_str inside an object");
	check_rejected(bad_null_key, "NULL key inside an object");
	check_rejected(bad_key_in_arr, "key inside an array");
	check_rejected(bad_unclosed, "unclosed array");
	check_rejected(bad_extra_end, "array end without begin");
	check_rejected(bad_mismatch, "object end closing an array");
	check_rejected(bad_close_top, "object end closing the top level");
	check_rejected(bad_too_deep, "nesting deeper than JSON_MAX_DEPTH");
	check_rejected(bad_sticky, "errors are sticky");

	buf_init(&b, 32);
	json_begin(&j, &b);
	for (i = 0; i < 10; i++)
		json_str(&j, "key", "value");
	is_int(json_end(&j), -1, "buffer cap reached: json_end fails");
	is_int(buf_len(&b), 0, "buffer cap reached: nothing left in the buffer");
	json_begin(&j, &b);
	json_int(&j, "n", 1);
	is_int(json_end(&j), 0, "buffer usable again after a failed object");
	got = buf_string(&b);
	is_str(got, "{\"n\":1}\n", "small object fits the cap");
	free(got);

	is_int(json_end(&j), -1, "second json_end fails");
	json_int(&j, "late", 2);
	is_int(buf_len(&b), 8, "calls after json_end do not touch the buffer");
	buf_free(&b);

	buf_init(&b, 8);
	is_int(json_quote(&b, "0123456789", 10), -1, "json_quote over cap fails");
	is_int(buf_len(&b), 0, "json_quote over cap leaves nothing");
	buf_free(&b);

	buf_view(&ro, "x", 1);
	json_begin(&j, &ro);
	json_int(&j, "n", 1);
	is_int(json_end(&j), -1, "read-only buffer: json_end fails");
	is_int(buf_len(&ro), 1, "read-only buffer untouched");

	json_begin(&j, NULL);
	json_int(&j, "n", 1);
	is_int(json_end(&j), -1, "NULL buffer: json_end fails");
}

/* Several objects append as separate lines. */
static void
test_lines(void)
{
	struct json j;
	struct buf b;
	char *got;

	buf_init(&b, 4096);
	json_begin(&j, &b);
	json_str(&j, "event", "a");
	(void)json_end(&j);
	json_begin(&j, &b);
	json_str(&j, "event", "b\nc");
	(void)json_end(&j);
	got = buf_string(&b);
	is_str(got, "{\"event\":\"a\"}\n{\"event\":\"b\\nc\"}\n", "two lines, newline escaped");
	free(got);
	buf_free(&b);
}

/* Run all groups. */
int
main(void)
{
	test_checker();
	test_quote();
	test_quote_all_bytes();
	test_objects();
	test_errors();
	test_lines();
	return tap_done();
}
