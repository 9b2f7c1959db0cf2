/* unit_text.c - tests for UTF-8 handling, sanitising and column widths. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "text.h"

#define FFFD "\xef\xbf\xbd"

/* Whether out[0..len) breaks an output rule of text_sanitize; names it. */
static const char *
sanitize_violation(const char *out, size_t len, int flags)
{
	const uint8_t *p = (const uint8_t *)out;
	size_t i = 0, l;
	uint32_t cp;

	if (out[len] != '\0' || strlen(out) != len)
		return "not NUL-terminated at its length";
	if (!text_utf8_valid(p, len))
		return "invalid UTF-8";
	while (i < len) {
		l = text_utf8_decode(p + i, len - i, &cp);
		if (cp == '\n' && !(flags & TEXT_KEEP_NEWLINE))
			return "newline";
		if (cp == '\t' && !(flags & TEXT_KEEP_TAB))
			return "tab";
		if ((cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7f && cp <= 0x9f))
			return "control character";
		if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
			return "bidi control";
		i += l;
	}
	return NULL;
}

/* Sanitise in (n bytes) and compare with want; also check the output rules. */
static void
check_san(const char *in, size_t n, int flags, const char *want, const char *name)
{
	char out[512];
	size_t len = text_sanitize((const uint8_t *)in, n, out, sizeof out, flags);
	const char *bad = sanitize_violation(out, len, flags);

	is_str(out, want, "sanitize: %s", name);
	is_int(len, strlen(want), "sanitize: %s: length", name);
	if (bad != NULL)
		ok(0, "sanitize: %s: output rule broken: %s", name, bad);
}

#define SAN(in, flags, want, name) check_san((in), sizeof(in) - 1, (flags), (want), (name))

/* Escape sequences of every kind, whole, partial and hostile. */
static void
test_escapes(void)
{
	SAN("plain text", 0, "plain text", "plain ASCII unchanged");
	SAN("\x1b]0;pwned\x07", 0, "", "OSC 0 title set with BEL");
	SAN("a\x1b]0;pwned\x07" "b", 0, "ab", "OSC between text");
	SAN("\x1b]2;x\x1b\\after", 0, "after", "OSC 2 with ESC \\ terminator");
	SAN("\x1b]0;x\xc2\x9cok", 0, "ok", "OSC ended by C1 ST");
	SAN("\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\", 0, "click", "OSC 8 hyperlink");
	SAN("\x1b]52;c;cm0gLXJmIH4K\x07", 0, "", "OSC 52 clipboard write");
	SAN("\x1b]0;a\x1b[31mb\x07" "c", 0, "c", "ESC inside OSC is not ST");
	SAN("\x1b]0;a\x1b\x1b\\z", 0, "z", "ESC ESC \\ inside OSC");
	SAN("\x1b[2J\x1b[H", 0, "", "CSI clear screen and home");
	SAN("a\x1b[31mred\x1b[0m", 0, "ared", "SGR colour");
	SAN("\x1b[?1049h\x1b[?25l", 0, "", "CSI private modes");
	SAN("\x1b[1 qx", 0, "x", "CSI with intermediate byte");
	SAN("\x1b[38;2;255;0;0mX", 0, "X", "CSI with many parameters");
	SAN("\x1b[6n", 0, "", "CSI device status report");
	SAN("\x1b[21t", 0, "", "CSI title report");
	SAN("\xc2\x9b" "2Jx", 0, "x", "8-bit C1 CSI (C2 9B)");
	SAN("\xc2\x9d" "0;t\x07y", 0, "y", "8-bit C1 OSC (C2 9D)");
	SAN("\xc2\x90q#0;2;0;0;0\xc2\x9cz", 0, "z", "8-bit C1 DCS ended by C1 ST");
	SAN("\xc2\x9f" "apc\x1b\\a\xc2\x9epm\x07" "b\xc2\x98sos\xc2\x9c" "c", 0, "abc",
	    "8-bit C1 APC, PM, SOS");
	SAN("\x1bPq#0;2\x1b\\d", 0, "d", "DCS sixel");
	SAN("\x1b_apc\x1b\\a\x1b^pm\x07" "b\x1bXsos\x1b\\c", 0, "abc", "APC, PM, SOS");
	SAN("\x9b" "2J", 0, FFFD "2J", "raw byte 9B is invalid UTF-8, not CSI");
	SAN("ok\x1b]0;never ends", 0, "ok", "unterminated OSC");
	SAN("ok\x1b[12;", 0, "ok", "unterminated CSI");
	SAN("ok\x1b", 0, "ok", "lone ESC at end");
	SAN("ok\xc2\x9b", 0, "ok", "lone C1 CSI at end");
	SAN("ok\x1bP data", 0, "ok", "unterminated DCS");
	SAN("ok\x1b]0;x\x1b", 0, "ok", "OSC ending in lone ESC");
	SAN("a\x1b" "7b\x1b" "8c", 0, "abc", "ESC 7 / ESC 8 pairs");
	SAN("\x1b" "cx", 0, "x", "ESC c (full reset)");
	SAN("\x1b(Bx\x1b)0y", 0, "xy", "charset designation with intermediate");
	SAN("\x1b#8z", 0, "z", "ESC # 8 screen alignment");
	SAN("\x1b\x1b[2J", 0, "", "ESC ESC CSI");
	SAN("\x1b\x1b]0;t\x07z", 0, "z", "ESC ESC OSC");
	SAN("\x1b\xc3\xa9x", 0, "x", "ESC + multi-byte character pair");
	SAN("\x1b[2\nJ", TEXT_KEEP_NEWLINE, "\nJ", "newline ends a malformed CSI");
	SAN("\x1b[\x1b[2Jq", 0, "q", "CSI restarted by ESC");
	SAN("\x1b[1\xc2\x9b" "2Jq", 0, "q", "CSI restarted by C1 CSI");
	SAN("\x1b[1\xc3\xa9", 0, "\xc3\xa9", "non-ASCII ends a malformed CSI");
	SAN("\x1b[\x7fm", 0, "m", "DEL ends a malformed CSI");
	SAN("\x1b" "\x07x", 0, "x", "ESC BEL");
}

/* Control characters and newline/tab flags. */
static void
test_controls(void)
{
	char all[32];
	int i;

	SAN("a\0b", 0, "ab", "NUL dropped");
	SAN("a\x07" "b", 0, "ab", "BEL dropped");
	SAN("abc\b\b\bxyz", 0, "abcxyz", "backspaces dropped");
	SAN("a\x7f" "b", 0, "ab", "DEL dropped");
	SAN("a\rb", 0, "ab", "CR dropped");
	SAN("a\r\nb", TEXT_KEEP_NEWLINE, "a\nb", "CR LF becomes LF");
	SAN("a\x0b\x0c\x0e\x0f\x18\x1a" "b", 0, "ab", "VT FF SO SI CAN SUB dropped");
	SAN("a\xc2\x85" "b\xc2\x80\xc2\x8f" "c", 0, "abc", "C1 NEL, PAD, SS3 dropped");
	SAN("a\xc2\x9c" "b", 0, "ab", "lone C1 ST dropped");
	SAN("a\nb", 0, "a b", "newline becomes space without flag");
	SAN("a\nb", TEXT_KEEP_NEWLINE, "a\nb", "newline kept with flag");
	SAN("a\nb", TEXT_KEEP_TAB, "a b", "KEEP_TAB does not keep newline");
	SAN("a\tb", 0, "a b", "tab becomes space without flag");
	SAN("a\tb", TEXT_KEEP_TAB, "a\tb", "tab kept with flag");
	SAN("a\tb", TEXT_KEEP_NEWLINE, "a b", "KEEP_NEWLINE does not keep tab");
	SAN("\t\n", TEXT_KEEP_NEWLINE | TEXT_KEEP_TAB, "\t\n", "both kept with both flags");

	for (i = 0; i < 32; i++)
		all[i] = (char)i;
	check_san(all, sizeof all, 0, "  ", "all C0 controls, no flags");
	check_san(all, sizeof all, TEXT_KEEP_NEWLINE | TEXT_KEEP_TAB, "\t\n",
	    "all C0 controls, both flags");
}

/* Invalid UTF-8 of every kind becomes U+FFFD; valid text is kept. */
static void
test_utf8_repair(void)
{
	SAN("h\xc3\xa9llo \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80", 0,
	    "h\xc3\xa9llo \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80", "valid UTF-8 kept");
	SAN("\xc0\xaf", 0, FFFD FFFD, "overlong C0 AF");
	SAN("\xc1\xbf", 0, FFFD FFFD, "overlong C1 BF");
	SAN("\xe0\x80\xaf", 0, FFFD FFFD FFFD, "overlong 3-byte slash");
	SAN("\xf0\x80\x80\xaf", 0, FFFD FFFD FFFD FFFD, "overlong 4-byte slash");
	SAN("\xed\xa0\x80", 0, FFFD FFFD FFFD, "surrogate D800");
	SAN("\xed\xbf\xbf", 0, FFFD FFFD FFFD, "surrogate DFFF");
	SAN("\xf4\x90\x80\x80", 0, FFFD FFFD FFFD FFFD, "above U+10FFFF");
	SAN("\xf5\x80\x80\x80", 0, FFFD FFFD FFFD FFFD, "F5 lead byte");
	SAN("\xff\xfe", 0, FFFD FFFD, "FF FE");
	SAN("\x80", 0, FFFD, "lone continuation byte");
	SAN("ab\xe4\xb8", 0, "ab" FFFD FFFD, "truncated 3-byte at end");
	SAN("\xf0\x9f\x98", 0, FFFD FFFD FFFD, "truncated emoji at end");
	SAN("x\xc3", 0, "x" FFFD, "truncated 2-byte at end");
	SAN("\xe4\xb8" "a", 0, FFFD FFFD "a", "truncated 3-byte before ASCII");
	SAN("\xef\xbf\xbd", 0, FFFD, "real U+FFFD kept");
	SAN("\xf4\x8f\xbf\xbf", 0, "\xf4\x8f\xbf\xbf", "U+10FFFF kept");
	SAN("\xe2\x80\x8d\xef\xb8\x8f", 0, "\xe2\x80\x8d\xef\xb8\x8f", "ZWJ and VS16 kept");
	SAN("abc\xe2\x80\xae" "fed", 0, "abcfed", "RLO U+202E dropped");
	SAN("\xe2\x80\xaa" "a\xe2\x80\xab" "b\xe2\x80\xac" "c\xe2\x80\xad" "d", 0, "abcd",
	    "LRE RLE PDF LRO dropped");
	SAN("\xe2\x81\xa6" "a\xe2\x81\xa7" "b\xe2\x81\xa8" "c\xe2\x81\xa9", 0, "abc",
	    "isolates U+2066..2069 dropped");
	SAN("\xe2\x80\x8e", 0, "\xe2\x80\x8e", "LRM (not an override) kept");
}

/* Output size limits: never split a character, never overrun. */
static void
test_outmax(void)
{
	static const char emoji2[] = "\xf0\x9f\x98\x80\xf0\x9f\x98\x81";
	char out[16];
	size_t len;

	len = text_sanitize((const uint8_t *)emoji2, 8, out, 8, 0);
	is_int(len, 4, "outmax 8: only the first emoji fits in 7 bytes");
	ok(memcmp(out, emoji2, 4) == 0 && out[4] == '\0', "outmax 8: first emoji, NUL");
	len = text_sanitize((const uint8_t *)emoji2, 8, out, 9, 0);
	is_int(len, 8, "outmax 9: both emoji");
	len = text_sanitize((const uint8_t *)emoji2, 8, out, 5, 0);
	is_int(len, 4, "outmax 5: one emoji");
	len = text_sanitize((const uint8_t *)emoji2, 8, out, 4, 0);
	is_int(len, 0, "outmax 4: emoji does not fit in 3 bytes");
	is_int(out[0], 0, "outmax 4: empty string");
	len = text_sanitize((const uint8_t *)"ab\xf0\x9f\x98\x80", 6, out, 6, 0);
	is_int(len, 2, "outmax 6: \"ab\" then emoji does not fit");
	is_str(out, "ab", "outmax 6: prefix kept");
	len = text_sanitize((const uint8_t *)"a\xf0\x9f\x98\x80" "b", 6, out, 5, 0);
	is_str(out, "a", "output stops at the first character that does not fit");
	len = text_sanitize((const uint8_t *)"\xff\xff", 2, out, 4, 0);
	is_int(len, 3, "outmax 4: one U+FFFD");
	len = text_sanitize((const uint8_t *)"abc", 3, out, 1, 0);
	is_int(len, 0, "outmax 1: nothing but the NUL");
	is_int(out[0], 0, "outmax 1: NUL written");
	memset(out, 'Z', sizeof out);
	len = text_sanitize((const uint8_t *)"abc", 3, out, 0, 0);
	is_int(len, 0, "outmax 0: returns 0");
	is_int(out[0], 'Z', "outmax 0: nothing written");
	len = text_sanitize((const uint8_t *)"abcdefgh", 8, out, 4, 0);
	is_str(out, "abc", "ASCII truncated to outmax-1");
	len = text_sanitize((const uint8_t *)"\x1b[2Jabc", 7, out, 3, 0);
	is_str(out, "ab", "escape removal before truncation");
	len = text_sanitize((const uint8_t *)"", 0, out, sizeof out, 0);
	is_int(len, 0, "empty input");
}

/* Every 1-, 2- and 3-byte input obeys the output rules, with every flag set. */
static void
test_exhaustive(void)
{
	static const uint8_t lead[] = { 0x1b, 0xc2, 0xe2, 0xed, 0xf0, 0xf4, 0x9b, 'a' };
	uint8_t in[3];
	char out[16], big[16];
	size_t len, blen, k;
	const char *bad = NULL;
	unsigned a, b;
	int flags, fails = 0;

	for (flags = 0; flags < 4; flags++) {
		for (a = 0; a < 256; a++) {
			for (b = 0; b < 256; b++) {
				in[0] = (uint8_t)a;
				in[1] = (uint8_t)b;
				len = text_sanitize(in, 2, out, sizeof out, flags);
				if ((bad = sanitize_violation(out, len, flags)) != NULL)
					fails++;
				for (k = 0; k < sizeof lead; k++) {
					in[0] = lead[k];
					in[1] = (uint8_t)a;
					in[2] = (uint8_t)b;
					blen = text_sanitize(in, 3, big, sizeof big, flags);
					len = text_sanitize(in, 3, out, 4, flags);
					if (sanitize_violation(big, blen, flags) != NULL ||
					    sanitize_violation(out, len, flags) != NULL ||
					    len > 3 || memcmp(out, big, len) != 0)
						fails++;
				}
			}
		}
	}
	is_int(fails, 0, "all 2-byte and 3-byte inputs obey the output rules");
}

/* Encoding, decoding and validation. */
static void
test_codec(void)
{
	static const uint32_t cps[] = { 0, 0x41, 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0x4e2d,
	    0xfffd, 0xffff, 0x10000, 0x1f600, 0x10ffff };
	char enc[4];
	size_t i, l, l2;
	uint32_t cp;
	int fails = 0;

	for (i = 0; i < sizeof cps / sizeof cps[0]; i++) {
		l = text_utf8_encode(cps[i], enc);
		l2 = text_utf8_decode((const uint8_t *)enc, l, &cp);
		if (l2 != l || cp != cps[i] || !text_utf8_valid((const uint8_t *)enc, l))
			fails++;
	}
	is_int(fails, 0, "encode/decode round trip");
	is_int(text_utf8_encode(0xe9, enc), 2, "U+00E9 is 2 bytes");
	is_int(text_utf8_encode(0x4e2d, enc), 3, "U+4E2D is 3 bytes");
	is_int(text_utf8_encode(0x1f600, enc), 4, "U+1F600 is 4 bytes");
	ok(text_utf8_encode(0xd800, enc) == 3 && memcmp(enc, FFFD, 3) == 0,
	    "surrogate encodes as U+FFFD");
	ok(text_utf8_encode(0x110000, enc) == 3 && memcmp(enc, FFFD, 3) == 0,
	    "U+110000 encodes as U+FFFD");
	l = text_utf8_decode((const uint8_t *)"\xc3", 1, &cp);
	ok(l == 1 && cp == 0xfffd, "truncated decode: 1, U+FFFD");
	l = text_utf8_decode((const uint8_t *)"\xc3\xa9", 1, &cp);
	ok(l == 1 && cp == 0xfffd, "decode respects n");
	l = text_utf8_decode((const uint8_t *)"\xef\xbf\xbd", 3, &cp);
	ok(l == 3 && cp == 0xfffd, "real U+FFFD decodes as 3 bytes");
	ok(text_utf8_valid((const uint8_t *)"", 0), "empty is valid");
	ok(text_utf8_valid((const uint8_t *)"a\xc3\xa9\xf0\x9f\x98\x80", 7), "valid mixed");
	ok(!text_utf8_valid((const uint8_t *)"\xc0\xaf", 2), "overlong invalid");
	ok(!text_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3), "surrogate invalid");
	ok(!text_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4), "> U+10FFFF invalid");
	ok(!text_utf8_valid((const uint8_t *)"a\xf0\x9f\x98", 4), "truncated invalid");
	ok(!text_utf8_valid((const uint8_t *)"\xe0\x9f\xbf", 3), "overlong E0 invalid");
}

/* Column widths of single code points and strings. */
static void
test_width(void)
{
	is_int(text_cp_width('a'), 1, "width a");
	is_int(text_cp_width(0xe9), 1, "width U+00E9 precomposed");
	is_int(text_cp_width(0x301), 0, "width U+0301 combining acute");
	is_int(text_cp_width(0x36f), 0, "width U+036F");
	is_int(text_cp_width(0x4e2d), 2, "width U+4E2D");
	is_int(text_cp_width(0x1f600), 2, "width U+1F600");
	is_int(text_cp_width(0x1f9d0), 2, "width U+1F9D0");
	is_int(text_cp_width(0x200d), 0, "width ZWJ");
	is_int(text_cp_width(0x200b), 0, "width ZWSP");
	is_int(text_cp_width(0xfe0f), 0, "width VS16");
	is_int(text_cp_width(0xfe20), 0, "width U+FE20");
	is_int(text_cp_width(0x1ab0), 0, "width U+1AB0");
	is_int(text_cp_width(0x1dc0), 0, "width U+1DC0");
	is_int(text_cp_width(0x20d0), 0, "width U+20D0");
	is_int(text_cp_width(0xad), 1, "width soft hyphen");
	is_int(text_cp_width(0x1100), 2, "width Hangul choseong");
	is_int(text_cp_width(0x1160), 0, "width Hangul jungseong");
	is_int(text_cp_width(0xac00), 2, "width Hangul syllable");
	is_int(text_cp_width(0xd7a3), 2, "width last Hangul syllable");
	is_int(text_cp_width(0x2e80), 2, "width U+2E80");
	is_int(text_cp_width(0x3000), 2, "width ideographic space");
	is_int(text_cp_width(0x303f), 1, "width U+303F half fill space");
	is_int(text_cp_width(0xf900), 2, "width U+F900");
	is_int(text_cp_width(0xfe30), 2, "width U+FE30");
	is_int(text_cp_width(0xff01), 2, "width fullwidth !");
	is_int(text_cp_width(0xff61), 1, "width halfwidth U+FF61");
	is_int(text_cp_width(0xffe6), 2, "width U+FFE6");
	is_int(text_cp_width(0x20000), 2, "width U+20000");
	is_int(text_cp_width(0x3fffd), 2, "width U+3FFFD");
	is_int(text_cp_width(0xe0001), 0, "width language tag");
	is_int(text_cp_width(0x1b), 0, "width ESC");
	is_int(text_cp_width(0x9b), 0, "width C1 CSI");
	is_int(text_cp_width(0x0416), 1, "width Cyrillic");

	is_int(text_width("a", 1), 1, "text_width a");
	is_int(text_width("\xc3\xa9", 2), 1, "text_width e-acute precomposed");
	is_int(text_width("e\xcc\x81", 3), 1, "text_width e + U+0301");
	is_int(text_width("\xe4\xb8\xad", 3), 2, "text_width CJK");
	is_int(text_width("\xf0\x9f\x98\x80", 4), 2, "text_width emoji");
	is_int(text_width("a\xe4\xb8\xad\xf0\x9f\x98\x80\xc3\xa9", 10), 6, "text_width mixed");
	is_int(text_width("", 0), 0, "text_width empty");
	is_int(text_width("\xff", 1), 1, "text_width invalid byte as U+FFFD");
}

/* Fitting prefixes into a number of columns. */
static void
test_fit(void)
{
	size_t used = 99;

	is_int(text_fit("a\xe4\xb8\xad" "b", 5, 2, &used), 1, "fit a|CJK in 2: CJK does not fit");
	is_int(used, 1, "fit: used 1");
	is_int(text_fit("a\xe4\xb8\xad" "b", 5, 3, &used), 4, "fit a+CJK in 3");
	is_int(used, 3, "fit: used 3");
	is_int(text_fit("a\xe4\xb8\xad" "b", 5, 9, &used), 5, "fit all");
	is_int(used, 4, "fit all: used 4");
	is_int(text_fit("e\xcc\x81x", 4, 1, &used), 3, "fit keeps the combining mark");
	is_int(used, 1, "fit combining: used 1");
	is_int(text_fit("\xe4\xb8\xad\xe4\xb8\xad", 6, 3, &used), 3, "fit CJK CJK in 3");
	is_int(used, 2, "fit CJK: used 2");
	is_int(text_fit("abc", 3, 0, &used), 0, "fit in 0 columns");
	is_int(used, 0, "fit 0: used 0");
	is_int(text_fit("\xcc\x81" "a", 3, 1, &used), 3, "fit orphan mark then a");
	is_int(text_fit("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd!", 9, 3, NULL), 4,
	    "fit emoji, skin tone is a wide character, NULL used");
	is_int(text_fit("\xe2\x9d\xa4\xef\xb8\x8f" "a", 7, 1, &used), 6,
	    "fit U+2764 + VS16 stay together");
}

/* Check that wrapping s (n bytes) at cols yields lines that fit and cover s. */
static int
wrap_all_ok(const char *s, size_t n, size_t cols)
{
	size_t off = 0, k, used;

	while (off < n) {
		k = text_wrap(s + off, n - off, cols);
		if (k == 0 || k > n - off)
			return 0;
		if (!text_utf8_valid((const uint8_t *)s + off, k))
			return 0;   /* broke inside a character */
		if (text_width(s + off, k) > cols)
			return 0;
		if (text_fit(s + off, k, cols, &used) != k)
			return 0;   /* not whole cells */
		off += k;
	}
	return 1;
}

/* Number of lines text_wrap splits s into (for widths where nothing fits). */
static int
count_lines(const char *s, size_t n, size_t cols)
{
	size_t off = 0, k;
	int lines = 0;

	while (off < n && lines < 1000) {
		k = text_wrap(s + off, n - off, cols);
		if (k == 0)
			return -1;
		off += k;
		lines++;
	}
	return lines;
}

/* Word wrapping of ASCII, CJK and mixed text. */
static void
test_wrap(void)
{
	static const char mixed[] = "Hello \xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c, "
	    "caf\xc3\xa9 cafe\xcc\x81 \xf0\x9f\x98\x80\xf0\x9f\x98\x80 "
	    "supercalifragilistic \xe4\xb8\xad\xe6\x96\x87text ok";
	const char *hw = "hello world";
	const char *hi = "hi \xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c";
	const char *cjk = "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c";
	const char *abc = "abc\xe4\xb8\xad\xe6\x96\x87" "def";
	const char *acc = "e\xcc\x81" "e\xcc\x81" "e\xcc\x81";
	size_t cols;
	int fails = 0;

	is_int(text_wrap(hw, 11, 20), 11, "wrap: whole line fits");
	is_int(text_wrap(hw, 11, 11), 11, "wrap: exactly fits");
	is_int(text_wrap(hw, 11, 8), 6, "wrap: after the space");
	is_int(text_wrap(hw, 11, 6), 6, "wrap: space fits exactly");
	is_int(text_wrap(hw, 11, 5), 5, "wrap: word fits, space does not");
	is_int(text_wrap(hw, 11, 3), 3, "wrap: hard break in long word");
	is_int(text_wrap(hw + 5, 6, 4), 1, "wrap: leading space then long word");
	is_int(text_wrap("abcdefghij", 10, 4), 4, "wrap: hard break at cols");
	is_int(text_wrap("ab cd", 5, 1), 1, "wrap: cols 1");
	is_int(text_wrap("ab", 2, 2), 2, "wrap: short");
	is_int(text_wrap("", 0, 10), 0, "wrap: empty");
	is_int(text_wrap("a\nb", 3, 10), 2, "wrap: newline ends the line");
	is_int(text_wrap("\nabc", 4, 10), 1, "wrap: leading newline");
	is_int(text_wrap("abc def\nx", 9, 5), 4, "wrap: space before newline");

	is_int(text_wrap(hi, 15, 20), 15, "wrap CJK: fits");
	is_int(text_wrap(hi, 15, 7), 9, "wrap CJK: hi + 2 ideographs in 7");
	is_int(text_wrap(hi, 15, 6), 6, "wrap CJK: hi + 1 ideograph in 6");
	is_int(text_wrap(hi, 15, 5), 6, "wrap CJK: hi + 1 ideograph in 5");
	is_int(text_wrap(hi, 15, 4), 3, "wrap CJK: hi + space in 4");
	is_int(text_wrap(hi, 15, 3), 3, "wrap CJK: hi + space in 3");
	is_int(text_wrap(hi, 15, 2), 2, "wrap CJK: hi in 2");
	is_int(text_wrap(cjk, 12, 5), 6, "wrap CJK only: 2 ideographs in 5");
	is_int(text_wrap(cjk, 12, 4), 6, "wrap CJK only: 2 ideographs in 4");
	is_int(text_wrap(cjk, 12, 2), 3, "wrap CJK only: 1 ideograph in 2");
	is_int(text_wrap(cjk, 12, 1), 3, "wrap CJK only: cols 1 still advances");
	is_int(text_wrap(cjk, 12, 0), 3, "wrap CJK only: cols 0 still advances");
	is_int(text_wrap(abc, 12, 4), 3, "wrap abcCJK: before the ideograph");
	is_int(text_wrap(abc, 12, 5), 6, "wrap abcCJK: one ideograph");
	is_int(text_wrap(abc, 12, 6), 6, "wrap abcCJK: second does not fit");
	is_int(text_wrap(abc, 12, 7), 9, "wrap abcCJK: both ideographs");
	is_int(text_wrap(abc, 12, 8), 9, "wrap abcCJK: word after CJK moves down");
	is_int(text_wrap(abc, 12, 10), 12, "wrap abcCJK: all");
	is_int(text_wrap(acc, 9, 2), 6, "wrap: combining marks stay with their base");
	is_int(text_wrap(acc, 9, 1), 3, "wrap: one accented letter");
	is_int(text_wrap("\xf0\x9f\x98\x80\xf0\x9f\x98\x80 x", 10, 3), 4, "wrap: emoji");
	is_int(text_wrap("a\xf0\x9f\x98\x80", 5, 2), 1, "wrap: emoji does not fit after a");

	for (cols = 2; cols <= 40; cols++)
		if (!wrap_all_ok(mixed, sizeof mixed - 1, cols))
			fails++;
	is_int(fails, 0, "wrap mixed text at 2..40 columns: every line fits, none empty");
	is_int(count_lines(cjk, 12, 1), 4, "wrap CJK at 1 column: one ideograph a line");
	is_int(count_lines(acc, 9, 1), 3, "wrap accents at 1 column: one letter a line");
	is_int(count_lines(cjk, 12, 0), 4, "wrap CJK at 0 columns terminates");
}

/* Run all groups. */
/* Nicks that look alike have one skeleton; nicks that differ do not. */
static void
test_skeleton(void)
{
	static const struct { const char *a, *b; int same; } pairs[] = {
		{ "bob", "bob", 1 },
		{ "bob", "BOB", 1 },
		{ "bob", "Bob", 1 },
		{ "bob", "bob\xe2\x80\x8b", 1 },            /* zero-width space */
		{ "bob", "b\xe2\x80\x8bob", 1 },
		{ "bob", "bob\xe2\x80\x8c", 1 },            /* ZWNJ */
		{ "bob", "bob\xe2\x80\x8d", 1 },            /* ZWJ */
		{ "bob", "\xef\xbb\xbf" "bob", 1 },         /* BOM */
		{ "bob", "bob\xe2\x81\xa0", 1 },            /* word joiner */
		{ "bob", "b\xc2\xad" "ob", 1 },              /* soft hyphen */
		{ "bob", "bob ", 1 },
		{ "bob", " bob", 1 },
		{ "bob", "bob\xc2\xa0", 1 },                 /* no-break space */
		{ "bob", "bob\xe3\x80\x80", 1 },            /* ideographic space */
		{ "bob", "bob\xe2\x80\xaf", 1 },            /* narrow no-break space */
		{ "bob", "bob\xe3\x85\xa4", 1 },            /* Hangul filler */
		{ "bob", "b\xd0\xbe" "b", 1 },               /* Cyrillic o */
		{ "bob", "b\xce\xbf" "b", 1 },               /* Greek omicron */
		{ "bob", "\xd0\x92\xd0\x9e\xd0\x92", 1 },  /* Cyrillic VOV */
		{ "bob", "\xce\x92\xce\x9f\xce\x92", 1 },  /* Greek BOB */
		{ "bob", "\xef\xbd\x82\xef\xbd\x8f\xef\xbd\x82", 1 },   /* fullwidth */
		{ "bob", "b0b", 1 },
		{ "bob", "b\xc3\xb3" "b", 1 },               /* o acute */
		{ "bob", "bo\xcc\x81" "b", 1 },              /* o + combining acute */
		{ "alice", "\xd0\xb0lice", 1 },              /* Cyrillic a */
		{ "alice", "a1ice", 1 },
		{ "alice", "aIice", 1 },
		{ "alice", "al\xd1\x96" "ce", 1 },           /* Cyrillic i */
		{ "alice", "alic\xd0\xb5", 1 },              /* Cyrillic e */
		{ "paypal", "\xd1\x80\xd0\xb0y\xd1\x80\xd0\xb0l", 1 },
		{ "mary", "rnary", 1 },
		{ "carol", "caro1", 1 },
		{ "xavier", "\xd1\x85" "avier", 1 },            /* Cyrillic ha */
		{ "kate", "\xce\xba" "ate", 1 },                /* Greek kappa */
		{ "b\xc3\xb6rk", "bork", 1 },                /* o umlaut */
		{ "bob", "bobby", 0 },
		{ "bob", "bab", 0 },
		{ "bob", "rob", 0 },
		{ "bob", "bo", 0 },
		{ "bob", "", 0 },
		{ "\xe6\x9d\x8e", "\xe7\x8e\x8b", 0 },       /* two different CJK names */
		{ "\xe6\x9d\x8e", "\xe6\x9d\x8e ", 1 },
		{ "bob~abcd", "bob", 0 },                      /* a mangled name is not the name */
		{ "\xce\xb1\xce\xb2", "\xce\xb1\xce\xb3", 0 },
	};
	char sa[256], sb[256];
	size_t i, la, lb;

	for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		la = text_nick_skeleton((const uint8_t *)pairs[i].a, strlen(pairs[i].a), sa, sizeof sa);
		lb = text_nick_skeleton((const uint8_t *)pairs[i].b, strlen(pairs[i].b), sb, sizeof sb);
		ok((la == lb && strcmp(sa, sb) == 0) == pairs[i].same, "skeleton: \"%s\" %s \"%s\" (%s / %s)",
		    pairs[i].a, pairs[i].same ? "looks like" : "differs from", pairs[i].b, sa, sb);
	}
	/* the skeleton itself */
	text_nick_skeleton((const uint8_t *)"  B\xc3\xb3 \xe2\x80\x8b" "B ", 12, sa, sizeof sa);
	is_str(sa, "bob", "skeleton: blanks, zero-width and accents go, case folds");
	text_nick_skeleton((const uint8_t *)"Ian|1!", 6, sa, sizeof sa);
	is_str(sa, "lanlll", "skeleton: 1, i, l, I, | and ! are one letter");
	text_nick_skeleton((const uint8_t *)"bo\xff" "b\xc0", 5, sa, sizeof sa);
	is_str(sa, "bo" FFFD "b" FFFD, "skeleton: invalid UTF-8 counts as U+FFFD");
	text_nick_skeleton((const uint8_t *)"a\x1b[31mb\x7f", 9, sa, sizeof sa);
	is_str(sa, "a[3lmb", "skeleton: control characters are dropped");
	is_int(text_nick_skeleton((const uint8_t *)"bob", 3, sa, 0), 0, "skeleton: outmax 0 writes nothing");
	is_int(text_nick_skeleton((const uint8_t *)"bob", 3, sa, 3), 2, "skeleton: outmax bounds the output");
	is_str(sa, "bo", "skeleton: a prefix when it does not fit");
	is_int(text_nick_skeleton((const uint8_t *)"\xe6\x9d\x8e\xe6\x9d\x8e", 6, sa, 6), 3,
	    "skeleton: never splits a character");
	is_int(text_nick_skeleton((const uint8_t *)"rn", 2, sa, 2), 1, "skeleton: rn becomes m in place");
	is_str(sa, "m", "skeleton: rn reads as m");
}

/* Blanks and invisible characters go from both ends, not from the middle. */
static void
test_trim(void)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "bob", "bob" },
		{ "bob ", "bob" },
		{ "  bob  ", "bob" },
		{ "bob\xc2\xa0", "bob" },
		{ "\xe2\x80\x8b" "bob\xe2\x80\x8b", "bob" },
		{ "bob\xe2\x80\x8d", "bob" },
		{ "\xe3\x80\x80" "bob\xe3\x85\xa4", "bob" },
		{ "bob\xc2\xad", "bob" },
		{ "b ob", "b ob" },
		{ "b\xe2\x80\x8bob", "b\xe2\x80\x8bob" },
		{ "   ", "" },
		{ "\xe2\x80\x8b", "" },
		{ "", "" },
		{ "\xe6\x9d\x8e ", "\xe6\x9d\x8e" },
		{ "e\xcc\x81", "e\xcc\x81" },     /* a mark on a letter stays */
		{ "e\xef\xb8\x8f", "e" },            /* a variation selector goes */
	};
	char buf[64];
	size_t i, n;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(buf, sizeof buf, "%s", cases[i].in);
		n = text_trim_blanks(buf);
		is_str(buf, cases[i].want, "trim: case %zu", i);
		is_int(n, strlen(cases[i].want), "trim: case %zu: length", i);
	}
}

/* Byte counts and times left, as the chat screen and confab send/recv show them. */
static void
test_units(void)
{
	static const struct { uint64_t n; const char *want; } b[] = {
		{ 0, "0 B" }, { 999, "999 B" }, { 1000, "1.0 kB" }, { 1500000, "1.5 MB" },
		{ 3000000, "3.0 MB" }, { 1000000000000ULL, "1.0 TB" }, { UINT64_MAX, "18.4 EB" },
	};
	static const struct { uint64_t left, rate; const char *want; } e[] = {
		{ 100, 0, "--:--" }, { 0, 10, "0:00" }, { 7, 1, "0:07" }, { 71, 10, "0:08" },
		{ 3723, 1, "1:02:03" }, { 360000, 1, ">99h" }, { UINT64_MAX, 1, ">99h" },
	};
	char out[32];
	size_t i;

	for (i = 0; i < sizeof b / sizeof b[0]; i++) {
		text_bytes(b[i].n, out, sizeof out);
		is_str(out, b[i].want, "bytes: %llu", (unsigned long long)b[i].n);
	}
	for (i = 0; i < sizeof e / sizeof e[0]; i++) {
		text_eta(e[i].left, e[i].rate, out, sizeof out);
		is_str(out, e[i].want, "eta: %llu at %llu/s", (unsigned long long)e[i].left,
		    (unsigned long long)e[i].rate);
	}
}

int
main(void)
{
	test_units();
	test_escapes();
	test_controls();
	test_utf8_repair();
	test_outmax();
	test_exhaustive();
	test_codec();
	test_width();
	test_fit();
	test_wrap();
	test_skeleton();
	test_trim();
	return tap_done();
}
