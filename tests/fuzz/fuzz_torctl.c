/* fuzz_torctl.c - libFuzzer target for the Tor control-port reply parser and its KEY=VALUE reader. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "torctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any broken invariant is a crash for libFuzzer to report. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/*
 * The bytes are what a control port sends.  Replies are parsed one after
 * the other as a controller does: a reply is never longer than its input,
 * its lines hold printable ASCII (a data block's '\n' aside) within the
 * limits, and every line's KEY=VALUE words read back safely.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct torctl_reply r;
	static const char *const keys[] = { "METHODS", "COOKIEFILE", "PROGRESS", "SERVERHASH", "ServiceID" };
	char err[200], v[256], id[TORCTL_ID_LEN + 1];
	size_t off = 0, used, i, k;
	char *copy;
	int rc;

	while (off < size) {
		/* an exact-size copy, so that ASan catches any read past the end */
		if ((copy = malloc(size - off)) == NULL)
			return 0;
		memcpy(copy, data + off, size - off);
		rc = torctl_parse(copy, size - off, &r, &used, err, sizeof err);
		free(copy);
		CHECK(rc == -1 || rc == 0 || rc == 1);
		if (rc != 1) {
			CHECK(used == 0);
			if (rc == -1)
				CHECK(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0');
			break;
		}
		CHECK(used > 0 && used <= size - off);
		CHECK(r.code >= 200 && r.code <= 699 && r.n >= 1 && r.n <= TORCTL_LINES_MAX);
		for (i = 0; i < r.n; i++) {
			const char *l = r.line[i];

			CHECK(l >= r.text && l < r.text + sizeof r.text);
			CHECK(strlen(l) < sizeof r.text - (size_t)(l - r.text));
			for (k = 0; l[k] != '\0'; k++)
				CHECK(l[k] == '\n' || l[k] == '\t' || (l[k] >= 0x20 && l[k] <= 0x7e));
			for (k = 0; k < sizeof keys / sizeof keys[0]; k++) {
				int kr = torctl_kv(l, keys[k], v, sizeof v);

				CHECK(kr >= -1 && kr <= 1);
				if (kr == 1)
					CHECK(strlen(v) < sizeof v);
			}
			if (torctl_onion_name(l, id))
				CHECK(torctl_id_ok(id, strlen(id)));
		}
		off += used;
	}
	return 0;
}
