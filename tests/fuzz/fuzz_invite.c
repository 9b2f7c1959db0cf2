/* fuzz_invite.c - libFuzzer target for invite code decoding (app/invite.c). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "invite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any broken invariant is a crash for libFuzzer to report. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/*
 * Decode the input as typed text.  Whatever is accepted must hold at most
 * INVITE_MAX_CANDS sane candidates, and encode again to a code that decodes
 * to the same key and candidates.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, err[300], again[INVITE_TEXT_MAX], a[300], b[300];
	struct invite inv, inv2;
	size_t i;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)invite_looks_like(text);
	err[0] = '\0';
	if (invite_decode(text, &inv, err, sizeof err) == -1) {
		CHECK(err[0] != '\0' && memchr(err, '\0', sizeof err) != NULL);
		free(text);
		return 0;
	}
	CHECK(inv.n <= INVITE_MAX_CANDS);
	for (i = 0; i < inv.n; i++) {
		CHECK(inv.c[i].port != 0);
		CHECK(inv.c[i].kind == INV_IPV4 || inv.c[i].kind == INV_IPV6 || inv.c[i].kind == INV_NAME);
		if (inv.c[i].kind == INV_NAME)
			CHECK(dns_name_ok(inv.c[i].host));
	}
	CHECK(invite_encode(&inv, again, sizeof again) > 0);
	CHECK(invite_decode(again, &inv2, err, sizeof err) == 0);
	CHECK(memcmp(inv.key, inv2.key, ID_KEYLEN) == 0);
	CHECK(inv.n == inv2.n);
	for (i = 0; i < inv.n; i++) {
		invite_cand_text(&inv.c[i], a, sizeof a);
		invite_cand_text(&inv2.c[i], b, sizeof b);
		CHECK(strcmp(a, b) == 0);
	}
	free(text);
	return 0;
}
