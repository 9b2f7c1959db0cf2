/* text.c - UTF-8 handling and terminal-safe sanitising of peer strings. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "text.h"
#include "utf8.h"

/* An inclusive range of code points. */
struct cp_range {
	uint32_t lo, hi;
};

/*
 * Zero-width code points: general categories Mn, Me and Cf (except U+00AD),
 * plus the conjoining Hangul jamo U+1160..U+11FF and U+D7B0..U+D7FF.
 * Derived from Unicode 14; adjacent ranges are merged across unassigned code
 * points, whose width does not matter.
 */
static const struct cp_range zero_width[] = {
	{ 0x00300, 0x0036f }, { 0x00483, 0x00489 }, { 0x00591, 0x005bd },
	{ 0x005bf, 0x005bf }, { 0x005c1, 0x005c2 }, { 0x005c4, 0x005c5 },
	{ 0x005c7, 0x005c7 }, { 0x00600, 0x00605 }, { 0x00610, 0x0061a },
	{ 0x0061c, 0x0061c }, { 0x0064b, 0x0065f }, { 0x00670, 0x00670 },
	{ 0x006d6, 0x006dd }, { 0x006df, 0x006e4 }, { 0x006e7, 0x006e8 },
	{ 0x006ea, 0x006ed }, { 0x0070f, 0x0070f }, { 0x00711, 0x00711 },
	{ 0x00730, 0x0074a }, { 0x007a6, 0x007b0 }, { 0x007eb, 0x007f3 },
	{ 0x007fd, 0x007fd }, { 0x00816, 0x00819 }, { 0x0081b, 0x00823 },
	{ 0x00825, 0x00827 }, { 0x00829, 0x0082d }, { 0x00859, 0x0085b },
	{ 0x00890, 0x0089f }, { 0x008ca, 0x00902 }, { 0x0093a, 0x0093a },
	{ 0x0093c, 0x0093c }, { 0x00941, 0x00948 }, { 0x0094d, 0x0094d },
	{ 0x00951, 0x00957 }, { 0x00962, 0x00963 }, { 0x00981, 0x00981 },
	{ 0x009bc, 0x009bc }, { 0x009c1, 0x009c4 }, { 0x009cd, 0x009cd },
	{ 0x009e2, 0x009e3 }, { 0x009fe, 0x00a02 }, { 0x00a3c, 0x00a3c },
	{ 0x00a41, 0x00a51 }, { 0x00a70, 0x00a71 }, { 0x00a75, 0x00a75 },
	{ 0x00a81, 0x00a82 }, { 0x00abc, 0x00abc }, { 0x00ac1, 0x00ac8 },
	{ 0x00acd, 0x00acd }, { 0x00ae2, 0x00ae3 }, { 0x00afa, 0x00b01 },
	{ 0x00b3c, 0x00b3c }, { 0x00b3f, 0x00b3f }, { 0x00b41, 0x00b44 },
	{ 0x00b4d, 0x00b56 }, { 0x00b62, 0x00b63 }, { 0x00b82, 0x00b82 },
	{ 0x00bc0, 0x00bc0 }, { 0x00bcd, 0x00bcd }, { 0x00c00, 0x00c00 },
	{ 0x00c04, 0x00c04 }, { 0x00c3c, 0x00c3c }, { 0x00c3e, 0x00c40 },
	{ 0x00c46, 0x00c56 }, { 0x00c62, 0x00c63 }, { 0x00c81, 0x00c81 },
	{ 0x00cbc, 0x00cbc }, { 0x00cbf, 0x00cbf }, { 0x00cc6, 0x00cc6 },
	{ 0x00ccc, 0x00ccd }, { 0x00ce2, 0x00ce3 }, { 0x00d00, 0x00d01 },
	{ 0x00d3b, 0x00d3c }, { 0x00d41, 0x00d44 }, { 0x00d4d, 0x00d4d },
	{ 0x00d62, 0x00d63 }, { 0x00d81, 0x00d81 }, { 0x00dca, 0x00dca },
	{ 0x00dd2, 0x00dd6 }, { 0x00e31, 0x00e31 }, { 0x00e34, 0x00e3a },
	{ 0x00e47, 0x00e4e }, { 0x00eb1, 0x00eb1 }, { 0x00eb4, 0x00ebc },
	{ 0x00ec8, 0x00ecd }, { 0x00f18, 0x00f19 }, { 0x00f35, 0x00f35 },
	{ 0x00f37, 0x00f37 }, { 0x00f39, 0x00f39 }, { 0x00f71, 0x00f7e },
	{ 0x00f80, 0x00f84 }, { 0x00f86, 0x00f87 }, { 0x00f8d, 0x00fbc },
	{ 0x00fc6, 0x00fc6 }, { 0x0102d, 0x01030 }, { 0x01032, 0x01037 },
	{ 0x01039, 0x0103a }, { 0x0103d, 0x0103e }, { 0x01058, 0x01059 },
	{ 0x0105e, 0x01060 }, { 0x01071, 0x01074 }, { 0x01082, 0x01082 },
	{ 0x01085, 0x01086 }, { 0x0108d, 0x0108d }, { 0x0109d, 0x0109d },
	{ 0x01160, 0x011ff }, { 0x0135d, 0x0135f }, { 0x01712, 0x01714 },
	{ 0x01732, 0x01733 }, { 0x01752, 0x01753 }, { 0x01772, 0x01773 },
	{ 0x017b4, 0x017b5 }, { 0x017b7, 0x017bd }, { 0x017c6, 0x017c6 },
	{ 0x017c9, 0x017d3 }, { 0x017dd, 0x017dd }, { 0x0180b, 0x0180f },
	{ 0x01885, 0x01886 }, { 0x018a9, 0x018a9 }, { 0x01920, 0x01922 },
	{ 0x01927, 0x01928 }, { 0x01932, 0x01932 }, { 0x01939, 0x0193b },
	{ 0x01a17, 0x01a18 }, { 0x01a1b, 0x01a1b }, { 0x01a56, 0x01a56 },
	{ 0x01a58, 0x01a60 }, { 0x01a62, 0x01a62 }, { 0x01a65, 0x01a6c },
	{ 0x01a73, 0x01a7f }, { 0x01ab0, 0x01b03 }, { 0x01b34, 0x01b34 },
	{ 0x01b36, 0x01b3a }, { 0x01b3c, 0x01b3c }, { 0x01b42, 0x01b42 },
	{ 0x01b6b, 0x01b73 }, { 0x01b80, 0x01b81 }, { 0x01ba2, 0x01ba5 },
	{ 0x01ba8, 0x01ba9 }, { 0x01bab, 0x01bad }, { 0x01be6, 0x01be6 },
	{ 0x01be8, 0x01be9 }, { 0x01bed, 0x01bed }, { 0x01bef, 0x01bf1 },
	{ 0x01c2c, 0x01c33 }, { 0x01c36, 0x01c37 }, { 0x01cd0, 0x01cd2 },
	{ 0x01cd4, 0x01ce0 }, { 0x01ce2, 0x01ce8 }, { 0x01ced, 0x01ced },
	{ 0x01cf4, 0x01cf4 }, { 0x01cf8, 0x01cf9 }, { 0x01dc0, 0x01dff },
	{ 0x0200b, 0x0200f }, { 0x0202a, 0x0202e }, { 0x02060, 0x0206f },
	{ 0x020d0, 0x020f0 }, { 0x02cef, 0x02cf1 }, { 0x02d7f, 0x02d7f },
	{ 0x02de0, 0x02dff }, { 0x0302a, 0x0302d }, { 0x03099, 0x0309a },
	{ 0x0a66f, 0x0a672 }, { 0x0a674, 0x0a67d }, { 0x0a69e, 0x0a69f },
	{ 0x0a6f0, 0x0a6f1 }, { 0x0a802, 0x0a802 }, { 0x0a806, 0x0a806 },
	{ 0x0a80b, 0x0a80b }, { 0x0a825, 0x0a826 }, { 0x0a82c, 0x0a82c },
	{ 0x0a8c4, 0x0a8c5 }, { 0x0a8e0, 0x0a8f1 }, { 0x0a8ff, 0x0a8ff },
	{ 0x0a926, 0x0a92d }, { 0x0a947, 0x0a951 }, { 0x0a980, 0x0a982 },
	{ 0x0a9b3, 0x0a9b3 }, { 0x0a9b6, 0x0a9b9 }, { 0x0a9bc, 0x0a9bd },
	{ 0x0a9e5, 0x0a9e5 }, { 0x0aa29, 0x0aa2e }, { 0x0aa31, 0x0aa32 },
	{ 0x0aa35, 0x0aa36 }, { 0x0aa43, 0x0aa43 }, { 0x0aa4c, 0x0aa4c },
	{ 0x0aa7c, 0x0aa7c }, { 0x0aab0, 0x0aab0 }, { 0x0aab2, 0x0aab4 },
	{ 0x0aab7, 0x0aab8 }, { 0x0aabe, 0x0aabf }, { 0x0aac1, 0x0aac1 },
	{ 0x0aaec, 0x0aaed }, { 0x0aaf6, 0x0aaf6 }, { 0x0abe5, 0x0abe5 },
	{ 0x0abe8, 0x0abe8 }, { 0x0abed, 0x0abed }, { 0x0d7b0, 0x0d7fb },
	{ 0x0fb1e, 0x0fb1e }, { 0x0fe00, 0x0fe0f }, { 0x0fe20, 0x0fe2f },
	{ 0x0feff, 0x0feff }, { 0x0fff9, 0x0fffb }, { 0x101fd, 0x101fd },
	{ 0x102e0, 0x102e0 }, { 0x10376, 0x1037a }, { 0x10a01, 0x10a0f },
	{ 0x10a38, 0x10a3f }, { 0x10ae5, 0x10ae6 }, { 0x10d24, 0x10d27 },
	{ 0x10eab, 0x10eac }, { 0x10f46, 0x10f50 }, { 0x10f82, 0x10f85 },
	{ 0x11001, 0x11001 }, { 0x11038, 0x11046 }, { 0x11070, 0x11070 },
	{ 0x11073, 0x11074 }, { 0x1107f, 0x11081 }, { 0x110b3, 0x110b6 },
	{ 0x110b9, 0x110ba }, { 0x110bd, 0x110bd }, { 0x110c2, 0x110cd },
	{ 0x11100, 0x11102 }, { 0x11127, 0x1112b }, { 0x1112d, 0x11134 },
	{ 0x11173, 0x11173 }, { 0x11180, 0x11181 }, { 0x111b6, 0x111be },
	{ 0x111c9, 0x111cc }, { 0x111cf, 0x111cf }, { 0x1122f, 0x11231 },
	{ 0x11234, 0x11234 }, { 0x11236, 0x11237 }, { 0x1123e, 0x1123e },
	{ 0x112df, 0x112df }, { 0x112e3, 0x112ea }, { 0x11300, 0x11301 },
	{ 0x1133b, 0x1133c }, { 0x11340, 0x11340 }, { 0x11366, 0x11374 },
	{ 0x11438, 0x1143f }, { 0x11442, 0x11444 }, { 0x11446, 0x11446 },
	{ 0x1145e, 0x1145e }, { 0x114b3, 0x114b8 }, { 0x114ba, 0x114ba },
	{ 0x114bf, 0x114c0 }, { 0x114c2, 0x114c3 }, { 0x115b2, 0x115b5 },
	{ 0x115bc, 0x115bd }, { 0x115bf, 0x115c0 }, { 0x115dc, 0x115dd },
	{ 0x11633, 0x1163a }, { 0x1163d, 0x1163d }, { 0x1163f, 0x11640 },
	{ 0x116ab, 0x116ab }, { 0x116ad, 0x116ad }, { 0x116b0, 0x116b5 },
	{ 0x116b7, 0x116b7 }, { 0x1171d, 0x1171f }, { 0x11722, 0x11725 },
	{ 0x11727, 0x1172b }, { 0x1182f, 0x11837 }, { 0x11839, 0x1183a },
	{ 0x1193b, 0x1193c }, { 0x1193e, 0x1193e }, { 0x11943, 0x11943 },
	{ 0x119d4, 0x119db }, { 0x119e0, 0x119e0 }, { 0x11a01, 0x11a0a },
	{ 0x11a33, 0x11a38 }, { 0x11a3b, 0x11a3e }, { 0x11a47, 0x11a47 },
	{ 0x11a51, 0x11a56 }, { 0x11a59, 0x11a5b }, { 0x11a8a, 0x11a96 },
	{ 0x11a98, 0x11a99 }, { 0x11c30, 0x11c3d }, { 0x11c3f, 0x11c3f },
	{ 0x11c92, 0x11ca7 }, { 0x11caa, 0x11cb0 }, { 0x11cb2, 0x11cb3 },
	{ 0x11cb5, 0x11cb6 }, { 0x11d31, 0x11d45 }, { 0x11d47, 0x11d47 },
	{ 0x11d90, 0x11d91 }, { 0x11d95, 0x11d95 }, { 0x11d97, 0x11d97 },
	{ 0x11ef3, 0x11ef4 }, { 0x13430, 0x13438 }, { 0x16af0, 0x16af4 },
	{ 0x16b30, 0x16b36 }, { 0x16f4f, 0x16f4f }, { 0x16f8f, 0x16f92 },
	{ 0x16fe4, 0x16fe4 }, { 0x1bc9d, 0x1bc9e }, { 0x1bca0, 0x1cf46 },
	{ 0x1d167, 0x1d169 }, { 0x1d173, 0x1d182 }, { 0x1d185, 0x1d18b },
	{ 0x1d1aa, 0x1d1ad }, { 0x1d242, 0x1d244 }, { 0x1da00, 0x1da36 },
	{ 0x1da3b, 0x1da6c }, { 0x1da75, 0x1da75 }, { 0x1da84, 0x1da84 },
	{ 0x1da9b, 0x1daaf }, { 0x1e000, 0x1e02a }, { 0x1e130, 0x1e136 },
	{ 0x1e2ae, 0x1e2ae }, { 0x1e2ec, 0x1e2ef }, { 0x1e8d0, 0x1e8d6 },
	{ 0x1e944, 0x1e94a }, { 0xe0001, 0xe01ef },
};

/*
 * Wide code points: East Asian Width W or F (CJK, Hangul syllables,
 * fullwidth forms, emoji with default emoji presentation), plus the
 * unassigned rest of the CJK blocks and of planes 2 and 3.  Unicode 14.
 */
static const struct cp_range wide[] = {
	{ 0x01100, 0x0115f }, { 0x0231a, 0x0231b }, { 0x02329, 0x0232a },
	{ 0x023e9, 0x023ec }, { 0x023f0, 0x023f0 }, { 0x023f3, 0x023f3 },
	{ 0x025fd, 0x025fe }, { 0x02614, 0x02615 }, { 0x02648, 0x02653 },
	{ 0x0267f, 0x0267f }, { 0x02693, 0x02693 }, { 0x026a1, 0x026a1 },
	{ 0x026aa, 0x026ab }, { 0x026bd, 0x026be }, { 0x026c4, 0x026c5 },
	{ 0x026ce, 0x026ce }, { 0x026d4, 0x026d4 }, { 0x026ea, 0x026ea },
	{ 0x026f2, 0x026f3 }, { 0x026f5, 0x026f5 }, { 0x026fa, 0x026fa },
	{ 0x026fd, 0x026fd }, { 0x02705, 0x02705 }, { 0x0270a, 0x0270b },
	{ 0x02728, 0x02728 }, { 0x0274c, 0x0274c }, { 0x0274e, 0x0274e },
	{ 0x02753, 0x02755 }, { 0x02757, 0x02757 }, { 0x02795, 0x02797 },
	{ 0x027b0, 0x027b0 }, { 0x027bf, 0x027bf }, { 0x02b1b, 0x02b1c },
	{ 0x02b50, 0x02b50 }, { 0x02b55, 0x02b55 }, { 0x02e80, 0x03029 },
	{ 0x0302e, 0x0303e }, { 0x03041, 0x03096 }, { 0x0309b, 0x03247 },
	{ 0x03250, 0x04dbf }, { 0x04e00, 0x0a4c6 }, { 0x0a960, 0x0a97c },
	{ 0x0ac00, 0x0d7a3 }, { 0x0f900, 0x0faff }, { 0x0fe10, 0x0fe19 },
	{ 0x0fe30, 0x0fe6b }, { 0x0ff01, 0x0ff60 }, { 0x0ffe0, 0x0ffe6 },
	{ 0x16fe0, 0x16fe3 }, { 0x16ff0, 0x1b2fb }, { 0x1f004, 0x1f004 },
	{ 0x1f0cf, 0x1f0cf }, { 0x1f18e, 0x1f18e }, { 0x1f191, 0x1f19a },
	{ 0x1f200, 0x1f320 }, { 0x1f32d, 0x1f335 }, { 0x1f337, 0x1f37c },
	{ 0x1f37e, 0x1f393 }, { 0x1f3a0, 0x1f3ca }, { 0x1f3cf, 0x1f3d3 },
	{ 0x1f3e0, 0x1f3f0 }, { 0x1f3f4, 0x1f3f4 }, { 0x1f3f8, 0x1f43e },
	{ 0x1f440, 0x1f440 }, { 0x1f442, 0x1f4fc }, { 0x1f4ff, 0x1f53d },
	{ 0x1f54b, 0x1f54e }, { 0x1f550, 0x1f567 }, { 0x1f57a, 0x1f57a },
	{ 0x1f595, 0x1f596 }, { 0x1f5a4, 0x1f5a4 }, { 0x1f5fb, 0x1f64f },
	{ 0x1f680, 0x1f6c5 }, { 0x1f6cc, 0x1f6cc }, { 0x1f6d0, 0x1f6d2 },
	{ 0x1f6d5, 0x1f6df }, { 0x1f6eb, 0x1f6ec }, { 0x1f6f4, 0x1f6fc },
	{ 0x1f7e0, 0x1f7f0 }, { 0x1f90c, 0x1f93a }, { 0x1f93c, 0x1f945 },
	{ 0x1f947, 0x1f9ff }, { 0x1fa70, 0x1faf6 }, { 0x20000, 0x3fffd },
};

/* Sanitiser states: where we are inside an escape sequence, if anywhere. */
enum san_state {
	ST_GROUND,    /* ordinary text */
	ST_ESC,       /* after ESC */
	ST_ESC_INT,   /* after ESC and intermediate bytes 0x20..0x2F */
	ST_CSI,       /* inside a control sequence, until its final byte */
	ST_STR,       /* inside OSC/DCS/APC/PM/SOS, until BEL or ST */
	ST_STR_ESC    /* ESC seen inside a string: ST if '\' follows */
};

/* The output of text_sanitize: a bounded, NUL-terminated byte array. */
struct san_out {
	char  *p;
	size_t len;
	size_t max;    /* bytes usable for text (outmax - 1) */
	int    full;   /* a character did not fit: stop */
};

/* Decode one strict UTF-8 character; invalid or truncated input gives 1, U+FFFD. */
size_t
text_utf8_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
	size_t len = utf8_decode(p, n, cp);

	if (len == 0) {
		*cp = 0xfffd;
		return 1;
	}
	return len;
}

/* Encode cp as UTF-8; surrogates and values above U+10FFFF become U+FFFD. */
size_t
text_utf8_encode(uint32_t cp, char out[4])
{
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Whether p[0..n) is strictly valid UTF-8. */
int
text_utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0, l;
	uint32_t cp;

	while (i < n) {
		l = text_utf8_decode(p + i, n - i, &cp);
		if (l == 1 && cp == 0xfffd)
			return 0;
		i += l;
	}
	return 1;
}

/* Append one character to the sanitiser output, or mark it full. */
static void
san_emit(struct san_out *o, uint32_t cp)
{
	char enc[4];
	size_t k = text_utf8_encode(cp, enc);

	if (k > o->max - o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->len, enc, k);
	o->len += k;
}

/* Whether cp is a bidirectional embedding, override or isolate control. */
static int
is_bidi_control(uint32_t cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Handle cp as ordinary text: emit it, drop it, or enter an escape sequence. */
static enum san_state
san_ground(struct san_out *o, uint32_t cp, int flags)
{
	switch (cp) {
	case 0x1b:                     /* ESC */
		return ST_ESC;
	case 0x9b:                     /* C1 CSI */
		return ST_CSI;
	case 0x90: case 0x98: case 0x9d: case 0x9e: case 0x9f:
		return ST_STR;         /* C1 DCS, SOS, OSC, PM, APC */
	case '\n':
		san_emit(o, flags & TEXT_KEEP_NEWLINE ? '\n' : ' ');
		return ST_GROUND;
	case '\t':
		san_emit(o, flags & TEXT_KEEP_TAB ? '\t' : ' ');
		return ST_GROUND;
	}
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || is_bidi_control(cp))
		return ST_GROUND;      /* other C0, DEL, other C1 (ST too) */
	san_emit(o, cp);
	return ST_GROUND;
}

/* Whether cp is a control character (C0, DEL or C1), or ESC. */
static int
is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/*
 * Sanitise peer text.  Escape sequences are parsed on decoded code points:
 *   ESC [ params/intermediates final   CSI, also C1 U+009B
 *   ESC ] P _ ^ X ... BEL or ST        strings, also C1 U+009D U+0090 U+009F
 *                                      U+009E U+0098; ST is ESC \ or U+009C
 *   ESC intermediates final            nF sequences such as ESC ( B
 *   ESC char                           any other pair
 * A control character (or anything >= U+0080) that cannot belong to a CSI or
 * ESC sequence ends it as malformed and is then handled as ordinary text, so
 * "ESC ESC [ 2 J" is removed whole.  Inside a string everything is swallowed
 * until its terminator; an unterminated sequence swallows the rest of the
 * input.  Output stops at the first character that does not fit.
 */
size_t
text_sanitize(const uint8_t *in, size_t n, char *out, size_t outmax, int flags)
{
	struct san_out o;
	enum san_state st = ST_GROUND;
	size_t i = 0;
	uint32_t cp;

	if (outmax == 0)
		return 0;
	o.p = out;
	o.len = 0;
	o.max = outmax - 1;
	o.full = 0;
	while (i < n && !o.full) {
		i += text_utf8_decode(in + i, n - i, &cp);
		switch (st) {
		case ST_GROUND:
			st = san_ground(&o, cp, flags);
			break;
		case ST_ESC:
			if (cp == '[')
				st = ST_CSI;
			else if (cp == ']' || cp == 'P' || cp == 'X' || cp == '^' || cp == '_')
				st = ST_STR;
			else if (cp >= 0x20 && cp <= 0x2f)
				st = ST_ESC_INT;
			else if (is_control(cp))
				st = san_ground(&o, cp, flags);
			else
				st = ST_GROUND;   /* ESC + one character */
			break;
		case ST_ESC_INT:
			if (cp >= 0x30 && cp <= 0x7e)
				st = ST_GROUND;
			else if (cp < 0x20 || cp > 0x2f)
				st = san_ground(&o, cp, flags);
			break;
		case ST_CSI:
			if (cp >= 0x40 && cp <= 0x7e)
				st = ST_GROUND;
			else if (cp < 0x20 || cp > 0x3f)
				st = san_ground(&o, cp, flags);
			break;
		case ST_STR:
			if (cp == 0x07 || cp == 0x9c)
				st = ST_GROUND;
			else if (cp == 0x1b)
				st = ST_STR_ESC;
			break;
		case ST_STR_ESC:
			if (cp == '\\' || cp == 0x07 || cp == 0x9c)
				st = ST_GROUND;
			else if (cp != 0x1b)
				st = ST_STR;
			break;
		}
	}
	out[o.len] = '\0';
	return o.len;
}

/* Whether cp lies in one of the n sorted ranges r. */
static int
in_ranges(uint32_t cp, const struct cp_range *r, size_t n)
{
	size_t lo = 0, hi = n, mid;

	if (n == 0 || cp < r[0].lo || cp > r[n - 1].hi)
		return 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cp > r[mid].hi)
			lo = mid + 1;
		else if (cp < r[mid].lo)
			hi = mid;
		else
			return 1;
	}
	return 0;
}

/* Terminal columns of cp: 0 for controls and combining/format marks, 2 for wide. */
int
text_cp_width(uint32_t cp)
{
	if (is_control(cp))
		return 0;
	if (cp < 0x300)
		return 1;
	if (in_ranges(cp, zero_width, sizeof zero_width / sizeof zero_width[0]))
		return 0;
	if (in_ranges(cp, wide, sizeof wide / sizeof wide[0]))
		return 2;
	return 1;
}

/* Columns a UTF-8 string takes (invalid bytes count as U+FFFD). */
size_t
text_width(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, w = 0;
	uint32_t cp;

	while (i < n) {
		i += text_utf8_decode(p + i, n - i, &cp);
		w += (size_t)text_cp_width(cp);
	}
	return w;
}

/*
 * Length of the display cell starting at s: one character plus any
 * zero-width marks after it (unless it is a control).  *base gets the first
 * code point and *w the columns of the whole cell.
 */
static size_t
cell(const uint8_t *s, size_t n, uint32_t *base, size_t *w)
{
	size_t len, k;
	uint32_t cp;

	len = text_utf8_decode(s, n, base);
	*w = (size_t)text_cp_width(*base);
	if (is_control(*base))
		return len;
	while (len < n) {
		k = text_utf8_decode(s + len, n - len, &cp);
		if (is_control(cp) || text_cp_width(cp) != 0)
			break;
		len += k;
	}
	return len;
}

/* Longest prefix of s fitting in cols columns, whole cells only. */
size_t
text_fit(const char *s, size_t n, size_t cols, size_t *used)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, u = 0, l, w;
	uint32_t cp;

	while (i < n) {
		l = cell(p + i, n - i, &cp, &w);
		if (w > cols - u)
			break;
		u += w;
		i += l;
	}
	if (used != NULL)
		*used = u;
	return i;
}

/*
 * First line of s when wrapping at cols columns.  Break opportunities are
 * after a space or tab, and before or after a wide (CJK/emoji) cell, since
 * such text is broken between characters.  A '\n' always ends the line (the
 * returned length includes it).  The first line never takes more than cols
 * columns, so a break just before a space that does not fit leaves that space
 * at the start of the next line.  A word longer than the line is broken hard
 * at cols; if not even one cell fits (cols < 2), one cell is returned anyway,
 * so the result is never 0 for non-empty s.
 */
size_t
text_wrap(const char *s, size_t n, size_t cols)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, u = 0, brk = 0, l, w;
	uint32_t cp;
	int opening;

	while (i < n) {
		l = cell(p + i, n - i, &cp, &w);
		if (cp == '\n')
			return i + l;
		opening = cp == ' ' || cp == '\t' || w == 2;
		if (w > cols - u) {
			if (opening && i > 0)
				brk = i;
			break;
		}
		u += w;
		i += l;
		if (opening)
			brk = i;
	}
	if (i == n)
		return n;
	if (brk > 0)
		return brk;
	if (i > 0)
		return i;
	return n > 0 ? cell(p, n, &cp, &w) : 0;
}

/* Whether cp is a blank: a space of any width, or a filler that shows as one. */
static int
is_blank(uint32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == 0xa0 || cp == 0x1680 ||
	    (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
	    cp == 0x205f || cp == 0x3000 || cp == 0x115f || cp == 0x1160 || cp == 0x3164 ||
	    cp == 0xffa0 || cp == 0x2800;
}

/* Whether cp is an invisible format character (zero-width, joiners, BOM, tags...). */
static int
is_format(uint32_t cp)
{
	return cp == 0xad || cp == 0x34f || cp == 0x61c || cp == 0x180e ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2060 && cp <= 0x206f) ||
	    (cp >= 0xfe00 && cp <= 0xfe0f) || cp == 0xfeff || (cp >= 0xe0000 && cp <= 0xe01ef);
}

/* Remove blanks and invisible format characters at both ends of s (valid UTF-8), in place. */
size_t
text_trim_blanks(char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = strlen(s), i = 0, start = n, end = 0, l;
	uint32_t cp;

	while (i < n) {
		l = text_utf8_decode(p + i, n - i, &cp);
		if (!is_blank(cp) && !is_format(cp)) {
			if (start == n)
				start = i;
			end = i + l;
		}
		i += l;
	}
	if (start == n) {
		s[0] = '\0';
		return 0;
	}
	memmove(s, s + start, end - start);
	s[end - start] = '\0';
	return end - start;
}

/*
 * Latin letters with diacritics, U+00C0..U+017F, as the ASCII letter they
 * look like ('.': not a lookalike of one letter, kept as it is).
 */
static const char latin_base[] =
	"aaaaaa.ceeeeiiiidnooooo.ouuuuy.."      /* U+00C0..U+00DF */
	"aaaaaa.ceeeeiiiidnooooo.ouuuuy.y"      /* U+00E0..U+00FF */
	"aaaaaaccccccccddddeeeeeeeeeegggggggg"  /* U+0100..U+0123 */
	"hhhhiiiiiiiiii..jjkkklllllllllln"      /* U+0124..U+0143 */
	"nnnnnnnnoooooo..rrrrrrsssssssstttttt"  /* U+0144..U+0167 */
	"uuuuuuuuuuuuwwyyyzzzzzzf";             /* U+0168..U+017F */

/* Greek and Cyrillic letters that look like an ASCII letter. */
static const struct { uint16_t cp; char a; } lookalike[] = {
	{ 0x0391, 'A' }, { 0x0392, 'B' }, { 0x0395, 'E' }, { 0x0396, 'Z' }, { 0x0397, 'H' },
	{ 0x0399, 'I' }, { 0x039a, 'K' }, { 0x039c, 'M' }, { 0x039d, 'N' }, { 0x039f, 'O' },
	{ 0x03a1, 'P' }, { 0x03a4, 'T' }, { 0x03a5, 'Y' }, { 0x03a7, 'X' }, { 0x03ac, 'a' },
	{ 0x03ad, 'e' }, { 0x03af, 'i' }, { 0x03b1, 'a' }, { 0x03b3, 'y' }, { 0x03b5, 'e' },
	{ 0x03b7, 'n' }, { 0x03b9, 'i' }, { 0x03ba, 'k' }, { 0x03bd, 'v' }, { 0x03bf, 'o' },
	{ 0x03c1, 'p' }, { 0x03c4, 't' }, { 0x03c5, 'u' }, { 0x03c7, 'x' }, { 0x03c9, 'w' },
	{ 0x03cc, 'o' }, { 0x03cd, 'u' }, { 0x03ce, 'w' },
	{ 0x0405, 'S' }, { 0x0406, 'I' }, { 0x0407, 'I' }, { 0x0408, 'J' }, { 0x0410, 'A' },
	{ 0x0412, 'B' }, { 0x0415, 'E' }, { 0x041a, 'K' }, { 0x041c, 'M' }, { 0x041d, 'H' },
	{ 0x041e, 'O' }, { 0x0420, 'P' }, { 0x0421, 'C' }, { 0x0422, 'T' }, { 0x0423, 'Y' },
	{ 0x0425, 'X' }, { 0x0430, 'a' }, { 0x0432, 'b' }, { 0x0435, 'e' }, { 0x043a, 'k' },
	{ 0x043c, 'm' }, { 0x043d, 'h' }, { 0x043e, 'o' }, { 0x0440, 'p' }, { 0x0441, 'c' },
	{ 0x0442, 't' }, { 0x0443, 'y' }, { 0x0445, 'x' }, { 0x044c, 'b' }, { 0x0451, 'e' },
	{ 0x0455, 's' }, { 0x0456, 'i' }, { 0x0457, 'i' }, { 0x0458, 'j' }, { 0x0461, 'w' },
	{ 0x04ae, 'Y' }, { 0x04af, 'y' }, { 0x04ba, 'H' }, { 0x04bb, 'h' }, { 0x04c0, 'l' },
	{ 0x04cf, 'l' }, { 0x0500, 'd' }, { 0x0501, 'd' }, { 0x051a, 'Q' }, { 0x051b, 'q' },
	{ 0x051c, 'W' }, { 0x051d, 'w' }, { 0x0131, 'i' }, { 0x0269, 'i' }, { 0x01c0, 'l' },
	{ 0x2160, 'I' }, { 0x2170, 'i' }, { 0x217c, 'l' }, { 0x2113, 'l' }, { 0x212a, 'K' },
	{ 0x212b, 'A' },
};

/* The ASCII letter cp looks like, or 0. */
static int
skel_letter(uint32_t cp)
{
	size_t i;

	if (cp < 0x80)
		return (int)cp;
	if (cp >= 0xff01 && cp <= 0xff5e)
		return (int)(cp - 0xfee0);   /* fullwidth ASCII */
	if (cp >= 0xc0 && cp <= 0x17f)
		return latin_base[cp - 0xc0] == '.' ? 0 : latin_base[cp - 0xc0];
	for (i = 0; i < sizeof lookalike / sizeof lookalike[0]; i++)
		if (lookalike[i].cp == cp)
			return lookalike[i].a;
	return 0;
}

/* Fold an ASCII character: lower case, and one class each for {0,o} and {1,i,l,|,!}. */
static int
skel_fold(int a)
{
	if (a >= 'A' && a <= 'Z')
		a += 'a' - 'A';
	if (a == '0')
		return 'o';
	if (a == '1' || a == 'i' || a == '|' || a == '!')
		return 'l';
	return a;
}

/*
 * The skeleton of a nick, for comparing nicks as a reader sees them: blanks
 * and invisible characters (zero-width, format, combining marks) dropped,
 * letters that look like an ASCII letter (accented Latin, Greek, Cyrillic,
 * fullwidth) replaced by it, case folded, 0/o and 1/i/l/| merged, "rn" read
 * as "m".  Any bytes (invalid UTF-8 counts as U+FFFD); out is NUL-terminated
 * valid UTF-8, never split inside a character; returns its length.
 */
size_t
text_nick_skeleton(const uint8_t *in, size_t n, char *out, size_t outmax)
{
	size_t i = 0, o = 0, l, k;
	uint32_t cp;
	char enc[4];
	int a;

	if (outmax == 0)
		return 0;
	while (i < n) {
		l = text_utf8_decode(in + i, n - i, &cp);
		i += l;
		if (is_blank(cp) || is_format(cp) || is_control(cp) ||
		    in_ranges(cp, zero_width, sizeof zero_width / sizeof zero_width[0]))
			continue;   /* unseen, or a mark on a letter: "bo\u0301b" reads as "bob" */
		if ((a = skel_letter(cp)) != 0) {
			a = skel_fold(a);
			if (a == 'n' && o > 0 && out[o - 1] == 'r') {
				out[o - 1] = 'm';   /* in place: a shorter outmax gives a prefix */
				continue;
			}
			if (o + 1 >= outmax)
				break;
			out[o++] = (char)a;
			continue;
		}
		k = text_utf8_encode(cp, enc);
		if (o + k >= outmax)
			break;
		memcpy(out + o, enc, k);
		o += k;
	}
	out[o] = '\0';
	return o;
}

/* A byte count for people: "512 B", "1.5 MB". */
void
text_bytes(uint64_t n, char *out, size_t outlen)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1000 && u + 1 < sizeof units / sizeof units[0]) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(out, outlen, "%llu B", (unsigned long long)n);
	else
		snprintf(out, outlen, "%.1f %s", v, units[u]);
}

/* Time left at a rate: "0:07", "1:02:03", "--:--" when unknown. */
void
text_eta(uint64_t left, uint64_t rate, char *out, size_t outlen)
{
	uint64_t s;

	if (rate == 0) {
		snprintf(out, outlen, "--:--");
		return;
	}
	s = left / rate + (left % rate != 0);
	if (s >= 100 * 3600)
		snprintf(out, outlen, ">99h");
	else if (s >= 3600)
		snprintf(out, outlen, "%u:%02u:%02u", (unsigned)(s / 3600), (unsigned)(s / 60 % 60),
		    (unsigned)(s % 60));
	else
		snprintf(out, outlen, "%u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
}
