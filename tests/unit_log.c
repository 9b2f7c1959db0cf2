/* unit_log.c - the log writer: whatever a message holds, the log line carries no control character. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tap.h"
#include "utf8.h"

/* Log one message (as %s) to a fresh stream; return the line written (without the timestamp), malloc'd. */
static char *
logged(const char *msg, size_t *outlen)
{
	char *buf = NULL, *p;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	log_stream(f, LOG_INFO);
	log_info("m=%s", msg);
	log_close();
	fclose(f);
	/* "YYYY-MM-DD HH:MM:SS.mmm info: m=..." */
	if ((p = strstr(buf, " info: m=")) == NULL) {
		free(buf);
		return NULL;
	}
	p += strlen(" info: m=");
	memmove(buf, p, len - (size_t)(p - buf) + 1);
	*outlen = strlen(buf);
	return buf;
}

/*
 * Whether a logged line is clean: one newline, at its end; no other C0 byte,
 * no DEL, no C1 character, valid UTF-8 throughout.
 */
static int
clean(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	uint32_t cp;
	size_t i = 0, k;

	if (n == 0 || p[n - 1] != '\n')
		return 0;
	n--;
	while (i < n) {
		if ((k = utf8_decode(p + i, n - i, &cp)) == 0)
			return 0;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return 0;
		i += k;
	}
	return 1;
}

int
main(void)
{
	char in[8], *out;
	size_t n;
	int c, bad;

	/* every C0 byte and DEL, alone between letters */
	for (bad = 0, c = 1; c < 0x20 || c == 0x7f; c = c == 0x1f ? 0x7f : c + 1) {
		snprintf(in, sizeof in, "a%cb", c);
		out = logged(in, &n);
		if (out == NULL || !clean(out, n)) {
			printf("# byte 0x%02x came out raw\n", c);
			bad++;
		}
		free(out);
		if (c == 0x7f)
			break;
	}
	ok(bad == 0, "every C0 control byte and DEL is escaped");

	/* every C1 control as UTF-8 (U+0080..U+009F) and as a lone byte */
	for (bad = 0, c = 0x80; c <= 0x9f; c++) {
		snprintf(in, sizeof in, "a%c%cb", 0xc2, c);
		out = logged(in, &n);
		if (out == NULL || !clean(out, n))
			bad++;
		free(out);
		snprintf(in, sizeof in, "a%cb", c);
		out = logged(in, &n);
		if (out == NULL || !clean(out, n))
			bad++;
		free(out);
	}
	ok(bad == 0, "every C1 control is escaped, encoded or as a lone byte");

	/* an escape sequence as a hostile router would send it */
	out = logged("Router\x1b]0;owned\x07\x1b[2J\x9b" "31m\r\nfake line", &n);
	ok(out != NULL && clean(out, n), "an OSC/CSI sequence and a newline are escaped");
	ok(out != NULL && strstr(out, "\\x1b]0;owned") != NULL, "the escape shows as \\x1b");
	ok(out != NULL && strstr(out, "fake line\n") != NULL && strchr(out, '\n') == out + n - 1,
	    "a newline in a message does not start a log line of its own");
	free(out);

	/* invalid UTF-8: overlong, surrogate, truncated, above U+10FFFF, stray continuation */
	out = logged("x\xc0\xaf" "x\xed\xa0\x80" "x\xe2\x82" "x\xf4\x90\x80\x80" "x\x80" "x\xff", &n);
	ok(out != NULL && clean(out, n), "invalid UTF-8 is escaped byte by byte");
	free(out);

	/* what is fine stays as it was: text, UTF-8, a backslash is doubled */
	out = logged("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80 tab\\", &n);
	is_str(out, "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80 tab\\\\\n", "printable UTF-8 stays, a backslash is doubled");
	free(out);

	/* a very long message is written whole */
	{
		char *big = malloc(20001);

		memset(big, 'y', 20000);
		big[20000] = '\0';
		big[19999] = '\x1b';
		out = logged(big, &n);
		ok(out != NULL && n == 19999 + 4 + 1 && clean(out, n), "a 20,000-byte message is written whole, escaped");
		free(out);
		free(big);
	}
	return tap_done();
}
