/* text.h - UTF-8 handling and terminal-safe sanitising of peer strings. */
#ifndef CONFAB_TEXT_H
#define CONFAB_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Flags for text_sanitize. */
#define TEXT_KEEP_NEWLINE  0x01   /* keep '\n' (message bodies); else it becomes a space */
#define TEXT_KEEP_TAB      0x02   /* keep '\t'; else it becomes a space */

/*
 * Make a peer-supplied byte string safe for a terminal and for JSON: invalid
 * UTF-8 (overlong forms, surrogates, code points above U+10FFFF, truncated
 * sequences) becomes U+FFFD; C0 controls, DEL and C1 controls (U+0080..U+009F)
 * are dropped, and escape sequences introduced by ESC or by the C1 CSI/OSC/DCS
 * characters are removed whole (CSI up to its final byte, OSC/DCS/APC/PM/SOS up
 * to BEL or ST).  Bidirectional overrides (U+202A..U+202E, U+2066..U+2069) are
 * dropped too.  The result is NUL-terminated and always valid UTF-8; at most
 * outmax-1 bytes are written, never splitting a character.  Returns its length.
 */
size_t text_sanitize(const uint8_t *in, size_t n, char *out, size_t outmax, int flags);

/* Whether p[0..n) is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
int    text_utf8_valid(const uint8_t *p, size_t n);

/*
 * Decode one UTF-8 character at p (n bytes available).  Returns its length in
 * bytes (1..4) and the code point in *cp; an invalid sequence returns 1 and
 * *cp = 0xFFFD.  n must be > 0.
 */
size_t text_utf8_decode(const uint8_t *p, size_t n, uint32_t *cp);
/* Encode a code point; returns bytes written (1..4) into out[4]. */
size_t text_utf8_encode(uint32_t cp, char out[4]);

/* Columns a code point takes on a terminal: 0 (combining), 1 or 2. */
int    text_cp_width(uint32_t cp);
/* Columns a valid UTF-8 string takes. */
size_t text_width(const char *s, size_t n);
/*
 * Byte length of the longest prefix of s (n bytes) that fits in cols columns,
 * breaking only between characters and keeping combining marks with their
 * base.  *used receives the columns that prefix takes.
 */
size_t text_fit(const char *s, size_t n, size_t cols, size_t *used);
/*
 * Where to break s for word wrapping at cols columns: the byte length of the
 * first line (after the last space that fits, or a hard break at cols if a
 * word is longer than the line).  Never returns 0 for non-empty s with cols > 1.
 */
size_t text_wrap(const char *s, size_t n, size_t cols);

/*
 * Remove blanks (spaces of any width, fillers) and invisible format
 * characters (zero-width spaces and joiners, soft hyphen, BOM, variation
 * selectors, tags) at both ends of s, a NUL-terminated valid UTF-8 string, in
 * place.  Returns the new length.
 */
size_t text_trim_blanks(char *s);

/*
 * The skeleton of a nick: what two nicks that look alike have in common.
 * Blanks, invisible characters and combining marks are dropped, accented Latin, Greek,
 * Cyrillic and fullwidth lookalikes of ASCII letters become those letters,
 * case is folded, 0/o and 1/i/l/| are merged and "rn" reads as "m".  Takes
 * any bytes (invalid UTF-8 counts as U+FFFD); out is NUL-terminated valid
 * UTF-8 of at most outmax-1 bytes, never split inside a character.  Returns
 * its length.
 */
size_t text_nick_skeleton(const uint8_t *in, size_t n, char *out, size_t outmax);

/* A byte count for people, in powers of 1000: "512 B", "1.5 MB" (every front-end says it so). */
void   text_bytes(uint64_t n, char *out, size_t outlen);
/* Time left for left bytes at rate bytes/s: "0:07", "1:02:03", ">99h", "--:--" if rate is 0. */
void   text_eta(uint64_t left, uint64_t rate, char *out, size_t outlen);

#endif
