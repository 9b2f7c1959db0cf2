/* verify.c - the session code and the safety number (net/PROTOCOL.md section 11). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "core.h"
#include "session.h"
#include "verify.h"

#define CODE_DOMAIN    "confab-session-code-1"
#define SAFETY_DOMAIN  "confab-safety-number-1"
#define SAFETY_HALF    30   /* digits from each key */

/* The session code: BLAKE2b-256(domain || h), 8 bytes mod 10^12, groups of 3. */
void
verify_session_code(const uint8_t h[NOISE_HASHLEN], char out[VERIFY_CODE_LEN])
{
	crypto_generichash_state st;
	uint8_t d[32];
	uint64_t v = 0;
	int i;

	crypto_generichash_init(&st, NULL, 0, sizeof d);
	crypto_generichash_update(&st, (const uint8_t *)CODE_DOMAIN, strlen(CODE_DOMAIN));
	crypto_generichash_update(&st, h, NOISE_HASHLEN);
	crypto_generichash_final(&st, d, sizeof d);
	for (i = 0; i < 8; i++)
		v = v << 8 | d[i];
	v %= 1000000000000ull;
	snprintf(out, VERIFY_CODE_LEN, "%03u %03u %03u %03u", (unsigned)(v / 1000000000ull),
	    (unsigned)(v / 1000000 % 1000), (unsigned)(v / 1000 % 1000), (unsigned)(v % 1000));
}

/*
 * One key's half of the safety number: BLAKE2b-256(domain || key), six 5-byte
 * big-endian chunks, each mod 100000 as 5 digits: 30 digits, no spaces.
 */
static void
safety_half(const uint8_t key[ID_KEYLEN], char out[SAFETY_HALF + 1])
{
	crypto_generichash_state st;
	uint8_t d[32];
	uint64_t v;
	int i, k;

	crypto_generichash_init(&st, NULL, 0, sizeof d);
	crypto_generichash_update(&st, (const uint8_t *)SAFETY_DOMAIN, strlen(SAFETY_DOMAIN));
	crypto_generichash_update(&st, key, ID_KEYLEN);
	crypto_generichash_final(&st, d, sizeof d);
	for (i = 0; i < SAFETY_HALF / 5; i++) {
		for (v = 0, k = 0; k < 5; k++)
			v = v << 8 | d[5 * i + k];
		snprintf(out + 5 * i, 6, "%05u", (unsigned)(v % 100000));
	}
}

/* The safety number: the smaller key's half first, in groups of 5. */
void
verify_safety_number(const uint8_t a[ID_KEYLEN], const uint8_t b[ID_KEYLEN],
    char out[VERIFY_SAFETY_LEN])
{
	char digits[2 * SAFETY_HALF + 1];
	size_t i, o = 0;

	if (memcmp(a, b, ID_KEYLEN) > 0) {
		const uint8_t *t = a;

		a = b;
		b = t;
	}
	safety_half(a, digits);
	safety_half(b, digits + SAFETY_HALF);
	for (i = 0; i < 2 * SAFETY_HALF; i++) {
		if (i > 0 && i % 5 == 0)
			out[o++] = ' ';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

/* Both codes for a peer; the session code only while a session is open. */
int
verify_peer(struct core *c, const struct peer *p, char code[VERIFY_CODE_LEN],
    char safety[VERIFY_SAFETY_LEN])
{
	const uint8_t *h;

	verify_safety_number(c->id.pub, p->pk, safety);
	code[0] = '\0';
	if (p->sess == NULL || (h = session_hash(p->sess)) == NULL)
		return 0;
	verify_session_code(h, code);
	return 1;
}
