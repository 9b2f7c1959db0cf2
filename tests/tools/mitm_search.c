/*
 * mitm_search.c - the birthday search against the OLD /verify code
 * (confab-verify-1: 12 digits from both static keys), run by hand, not by
 * make check.  It finds two man-in-the-middle keys M1, M2 with
 * old_code(A, M1) == old_code(B, M2), so that A talking to M1 and B talking
 * to M2 see the same 12 digits.  tests/unit_verify.c ships its result.
 *
 *   cc -O2 -o mitm_search tests/tools/mitm_search.c -lsodium
 *   ./mitm_search [max_keys]
 *
 * The victims A and B are the fixed test identities of unit_verify.c; the
 * candidate private keys are BLAKE2b-256("confab-mitm-search", i), so any
 * result can be reproduced from its index.  Codes are < 10^12 < 2^40: each
 * table entry packs code << 24 | index into 64 bits (16 MiB per million keys).
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEYLEN 32
#define IDX_BITS 24

/* The old code as a number below 10^12 (smaller key first). */
static uint64_t
old_code(const uint8_t *a, const uint8_t *b)
{
	crypto_generichash_state st;
	const uint8_t *t;
	uint8_t h[32];
	uint64_t v = 0;
	int i;

	if (memcmp(a, b, KEYLEN) > 0) {
		t = a;
		a = b;
		b = t;
	}
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const uint8_t *)"confab-verify-1", 15);
	crypto_generichash_update(&st, a, KEYLEN);
	crypto_generichash_update(&st, b, KEYLEN);
	crypto_generichash_final(&st, h, sizeof h);
	for (i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return v % 1000000000000ull;
}

/* Candidate private key number i. */
static void
cand_priv(uint64_t i, uint8_t priv[KEYLEN])
{
	uint8_t in[8];
	int k;

	for (k = 0; k < 8; k++)
		in[k] = (uint8_t)(i >> (56 - 8 * k));
	crypto_generichash(priv, KEYLEN, in, sizeof in,
	    (const uint8_t *)"confab-mitm-search", 18);
}

/* A fixed test identity: BLAKE2b-256 of its label. */
static void
test_priv(const char *label, uint8_t priv[KEYLEN])
{
	crypto_generichash(priv, KEYLEN, (const uint8_t *)label, strlen(label), NULL, 0);
}

static int
cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

static void
hex(const char *name, const uint8_t *k)
{
	int i;

	printf("%s ", name);
	for (i = 0; i < KEYLEN; i++)
		printf("%02x", k[i]);
	printf("\n");
}

int
main(int argc, char **argv)
{
	uint64_t max = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000;
	uint8_t apriv[KEYLEN], apub[KEYLEN], bpriv[KEYLEN], bpub[KEYLEN];
	uint8_t m[KEYLEN], mpub[KEYLEN];
	uint64_t *ta, *tb, *sa, *sb, n = 0, step = 250000;
	time_t t0 = time(NULL);

	if (sodium_init() < 0 || max == 0 || max >= (1ull << IDX_BITS))
		return 2;
	test_priv("confab unit_verify victim A", apriv);
	test_priv("confab unit_verify victim B", bpriv);
	crypto_scalarmult_base(apub, apriv);
	crypto_scalarmult_base(bpub, bpriv);
	ta = malloc(max * sizeof *ta);
	tb = malloc(max * sizeof *tb);
	sa = malloc(max * sizeof *sa);
	sb = malloc(max * sizeof *sb);
	if (ta == NULL || tb == NULL || sa == NULL || sb == NULL)
		return 2;
	while (n < max) {
		uint64_t end = n + step < max ? n + step : max, i, j;

		for (; n < end; n++) {
			cand_priv(n, m);
			crypto_scalarmult_base(mpub, m);
			ta[n] = old_code(apub, mpub) << IDX_BITS | n;
			tb[n] = old_code(bpub, mpub) << IDX_BITS | n;
		}
		memcpy(sa, ta, n * sizeof *sa);
		memcpy(sb, tb, n * sizeof *sb);
		qsort(sa, n, sizeof *sa, cmp_u64);
		qsort(sb, n, sizeof *sb, cmp_u64);
		fprintf(stderr, "%llu keys, %lds\n", (unsigned long long)n, (long)(time(NULL) - t0));
		for (i = 0, j = 0; i < n && j < n;) {
			uint64_t ca = sa[i] >> IDX_BITS, cb = sb[j] >> IDX_BITS;

			if (ca < cb) {
				i++;
			} else if (ca > cb) {
				j++;
			} else {
				uint64_t i1 = sa[i] & ((1u << IDX_BITS) - 1), i2 = sb[j] & ((1u << IDX_BITS) - 1);
				uint8_t m1[KEYLEN], m2[KEYLEN], p1[KEYLEN], p2[KEYLEN];

				cand_priv(i1, m1);
				cand_priv(i2, m2);
				crypto_scalarmult_base(p1, m1);
				crypto_scalarmult_base(p2, m2);
				printf("# after %llu keys, %lds: M1 = candidate %llu, M2 = candidate %llu, code %012llu\n",
				    (unsigned long long)n, (long)(time(NULL) - t0),
				    (unsigned long long)i1, (unsigned long long)i2,
				    (unsigned long long)old_code(apub, p1));
				hex("A_priv ", apriv);
				hex("A_pub  ", apub);
				hex("B_priv ", bpriv);
				hex("B_pub  ", bpub);
				hex("M1_priv", m1);
				hex("M1_pub ", p1);
				hex("M2_priv", m2);
				hex("M2_pub ", p2);
				return old_code(apub, p1) == old_code(bpub, p2) ? 0 : 1;
			}
		}
	}
	fprintf(stderr, "no collision in %llu keys\n", (unsigned long long)n);
	return 1;
}
