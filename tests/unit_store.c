/* unit_store.c - tests for the store's line encoding (store_escape, store_unescape). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "tap.h"

/* Kinds of byte: each escapes to 1, 2 or 4 bytes. */
static const char fills[] = { 'k', '?', '\\', '\n', '\t', '\x01', '\x7f', '\xe9' };

/*
 * Escape n bytes into a buffer of exactly n * 4 + 1 bytes (what a history
 * line gets for its text: the worst case plus the NUL), then undo it.
 */
static int
round_trip(const char *in, size_t n)
{
	size_t cap = n * 4 + 1;
	char *out = malloc(cap + 16), *canary;
	int rc, good;

	if (out == NULL)
		return 0;
	canary = out + cap;
	memset(canary, 0x5a, 16);
	rc = store_escape(in, n, out, cap);
	good = rc >= 0 && (size_t)rc == strlen(out) && strchr(out, '\n') == NULL &&
	    strchr(out, '\t') == NULL && store_unescape(out) == n && memcmp(out, in, n) == 0;
	for (size_t i = 0; i < 16; i++)
		if ((unsigned char)canary[i] != 0x5a)
			good = 0;
	free(out);
	return good;
}

int
main(void)
{
	char in[WIRE_TEXT_MAX];
	char small[8];
	size_t n, f, i;
	int all;

	/* every length 0 to 8, each kind of byte, and a mix of all of them */
	for (n = 0; n <= 8; n++) {
		all = 1;
		for (f = 0; f < sizeof fills; f++) {
			memset(in, fills[f], n);
			if (!round_trip(in, n)) {
				all = 0;
				printf("#   length %zu of byte 0x%02x fails\n", n, (unsigned char)fills[f]);
			}
		}
		for (i = 0; i < n; i++)
			in[i] = fills[(i * 3 + n) % sizeof fills];
		if (!round_trip(in, n))
			all = 0;
		ok(all, "length %zu: every kind of byte round-trips in a buffer of 4n+1", n);
	}
	/* at the limit */
	all = 1;
	for (f = 0; f < sizeof fills; f++) {
		memset(in, fills[f], sizeof in);
		all &= round_trip(in, sizeof in);
	}
	for (i = 0; i < sizeof in; i++)
		in[i] = fills[i % sizeof fills];
	all &= round_trip(in, sizeof in);
	ok(all, "length %d (the limit): every kind of byte round-trips", WIRE_TEXT_MAX);

	/* a buffer too small is refused, never overrun */
	memset(small, 0x5a, sizeof small);
	ok(store_escape("\x01\x02", 2, small, 8) == -1, "8 bytes cannot hold two \\xHH escapes and a NUL");
	ok(store_escape("k", 1, small, 2) == 1 && strcmp(small, "k") == 0, "one plain byte fits in 2");
	ok(store_escape("\n", 1, small, 2) == -1, "an escaped newline does not fit in 2");
	ok(store_escape("", 0, small, 1) == 0 && small[0] == '\0', "the empty text fits in 1");
	return tap_done();
}
