/*
 * aead_speed.c - how fast the transport ciphers run as confab uses them:
 * noise_cs_encrypt/decrypt on full records (65519 bytes), AES-256-GCM by
 * libcrypto and by libsodium, ChaCha20-Poly1305, and BLAKE2b for reference.
 * Best of three passes over MiB mebibytes (default 1024).  Built on demand:
 * tests/bench/aead.sh runs it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "noise.h"
#include "wire.h"

#define REC WIRE_RECORD_MAX

/* Seconds on the monotonic clock. */
static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A keyed cipher state for cipher c. */
static void
keyed(struct noise_cs *cs, enum noise_cipher c, const uint8_t key[NOISE_KEYLEN])
{
	memset(cs, 0, sizeof *cs);
	cs->cipher = c;
	cs->has_key = 1;
	memcpy(cs->k, key, NOISE_KEYLEN);
	if (c == NOISE_CIPHER_AESGCM)
		crypto_aead_aes256gcm_beforenm(&cs->aes, key);
}

/* Best-of-3 seal and open rates (MB/s) of cipher c over nrec records. */
static int
run(const char *name, enum noise_cipher c, size_t nrec, uint8_t *pt, uint8_t *ct)
{
	struct noise_cs tx, rx;
	uint8_t key[NOISE_KEYLEN];
	double t0, best_e = 1e9, best_d = 1e9, mb = (double)nrec * REC / 1e6;
	size_t i;
	int pass;

	randombytes_buf(key, sizeof key);
	for (pass = 0; pass < 3; pass++) {
		keyed(&tx, c, key);
		keyed(&rx, c, key);
		t0 = now();
		for (i = 0; i < nrec; i++)
			if (noise_cs_encrypt(&tx, NULL, 0, pt, REC, ct + (i % 16) * (REC + NOISE_TAGLEN)) != NOISE_OK)
				return -1;
		if (now() - t0 < best_e)
			best_e = now() - t0;
		/* open the last 16 records again and again: same work per record */
		keyed(&tx, c, key);
		for (i = 0; i < 16; i++)
			noise_cs_encrypt(&tx, NULL, 0, pt, REC, ct + i * (REC + NOISE_TAGLEN));
		t0 = now();
		for (i = 0; i < nrec; i++) {
			rx.n = i % 16;
			if (noise_cs_decrypt(&rx, NULL, 0, ct + (i % 16) * (REC + NOISE_TAGLEN),
			    REC + NOISE_TAGLEN, pt) != NOISE_OK)
				return -1;
		}
		if (now() - t0 < best_d)
			best_d = now() - t0;
	}
	printf("  %-30s seal %7.0f MB/s   open %7.0f MB/s\n", name, mb / best_e, mb / best_d);
	noise_cs_wipe(&tx);
	noise_cs_wipe(&rx);
	return 0;
}

/* Entry point: aead_speed [MiB]. */
int
main(int argc, char **argv)
{
	size_t mib = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1024;
	size_t nrec = mib * 1024 * 1024 / REC, i;
	uint8_t *pt = malloc(REC), *ct = malloc(16 * (REC + NOISE_TAGLEN)), h[32];
	double t0, best = 1e9;
	int pass, rc = 0;

	if (pt == NULL || ct == NULL || nrec == 0 || noise_global_init() != 0)
		return 2;
	randombytes_buf(pt, REC);
	printf("# %zu records of %d bytes (%.0f MB) per pass, best of 3\n", nrec, REC,
	    (double)nrec * REC / 1e6);
	if (noise_aesgcm_available()) {
		if (noise_aesgcm_use_libcrypto(1) == 0)
			rc |= run("AES-256-GCM (libcrypto)", NOISE_CIPHER_AESGCM, nrec, pt, ct);
		else
			printf("  AES-256-GCM (libcrypto)        not built in (./configure found no libcrypto)\n");
		noise_aesgcm_use_libcrypto(0);
		rc |= run("AES-256-GCM (libsodium)", NOISE_CIPHER_AESGCM, nrec, pt, ct);
		noise_aesgcm_use_libcrypto(1);
	} else {
		printf("  AES-256-GCM                    no hardware AES on this CPU\n");
	}
	rc |= run("ChaCha20-Poly1305 (libsodium)", NOISE_CIPHER_CHACHAPOLY, nrec, pt, ct);
	for (pass = 0; pass < 3; pass++) {
		t0 = now();
		for (i = 0; i < nrec; i++)
			crypto_generichash(h, sizeof h, pt, REC, NULL, 0);
		if (now() - t0 < best)
			best = now() - t0;
	}
	printf("  %-30s hash %7.0f MB/s\n", "BLAKE2b-256 (libsodium)", (double)nrec * REC / 1e6 / best);
	free(pt);
	free(ct);
	return rc == 0 ? 0 : 1;
}
