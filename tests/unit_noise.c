/* unit_noise.c - unit tests for net/noise.c (no external files needed). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noise.h"
#include "tap.h"

#define XX_CHACHA "Noise_XX_25519_ChaChaPoly_BLAKE2b"
#define XX_AESGCM "Noise_XX_25519_AESGCM_BLAKE2b"

/*
 * Known-answer vectors, from the cacophony set (public domain).  All three use
 * the same keys, prologue and payloads.
 */
static const char kat_prologue[] = "4a6f686e2047616c74";
static const char kat_is[] = "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1";
static const char kat_ie[] = "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a";
static const char kat_rs[] = "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893";
static const char kat_re[] = "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b";
/* the responder's static public key, as the IK initiator knows it */
static const char kat_rs_pub[] = "31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62";
static const char *const kat_payloads[] = {
	"4c756477696720766f6e204d69736573",   /* Ludwig von Mises */
	"4d757272617920526f746862617264",     /* Murray Rothbard */
	"462e20412e20486179656b",             /* F. A. Hayek */
	"4361726c204d656e676572",             /* Carl Menger */
	"4a65616e2d426170746973746520536179", /* Jean-Baptiste Say */
};

struct kat {
	const char *protocol;
	int         ik;          /* the initiator knows the responder's static key */
	const char *hash;        /* handshake hash */
	const char *ct[5];       /* handshake messages, then 2 transport messages */
};

static const struct kat kats[] = {
	{ XX_CHACHA, 0,
	  "8cf47d7b3cb5804c0109d48e8bcdbee2cbb65687d8ea2c92994ca361fb86151a"
	  "d93627b98936cbb32de56e8abb21def3925011ac3e35db9cbeea73ab9a4392c2",
	  { "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944"
	    "4c756477696720766f6e204d69736573",
	    "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843"
	    "0505b6745ce64a5f33f0e8e3b83f11ce8802bca507f4f2d8b564dbe277e19661"
	    "16e132faa2dfd70b8b077b9f94b913df5056ae1319469b824a98d54bbaa82c32"
	    "5595587064f978c4b6d104f7596e6f",
	    "99579e1c1ee15e422a57ddd6b16d37087b17558e8369c18991b4b2ca3a824abf"
	    "904cdcf5458b5431a75af034ca9e9b982de039eaaf156775e2d580cd4e5ebae8"
	    "9c3f8cb2594b556d8a8169",
	    "fc56eea290b3f3a21aac0c70cd5787b5ee99be37d2f4d751329b55",
	    "bb31c9da10d5639a4cdb88a12f5c61de41bbc7df09bf75d94f8184fe4157f5c68f" } },
	{ XX_AESGCM, 0,
	  "93bc73059d78d6409b76bc43e76ec5b3a6a3612d5a94c1c8f81308d06a8a0495"
	  "11f717a87d4d8b4abe0f12ac73d7a9047d0d4fcac80456fbff1349655c454046",
	  { "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944"
	    "4c756477696720766f6e204d69736573",
	    "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843"
	    "cf031a86733a890297fda30d4b471d0ceeff97124c67a7b656356862398ad52e"
	    "08b423271d80894ace0fc531c39492823f2cc8f5ebe97a7feffaae500aef491e"
	    "f9815e8e024ac906b3678983549ec8",
	    "ee1c5e4fe3060d7014884f9328573c4f2e3c5593c3ef574b418e8bb397792a77"
	    "db4cc497ce5db0c79d29afbbb78a3059d289413105384ef2738071c015c39467"
	    "f6e9b61eb3e2f1db47d5f6",
	    "7ab9b6ee246550448f838ec94ab1c3cb93e7d475dc8aa7434e6462",
	    "3d741aa91dff33adf4758746ddbf2b6afef8b64768b1d589e6bd999f7e7c7e4287" } },
	{ "Noise_IK_25519_ChaChaPoly_BLAKE2b", 1,
	  "1c8fa891cb414fedba6daa7c6f4ae0a6d98e5f9768cc9cecd27e805614943ee9"
	  "c8a1b27fbfb76dc197255c8aa69f6b4285c423840b8bedf45e652ca64f797d81",
	  { "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944"
	    "ba83a447b38c83e327ad936929812f624884847b7831e95e197b2f797088efdd"
	    "2f88f1db7e1fb0e99c64419097af91cee64e470f4b6fcd9298ce0b56fe20f86e"
	    "13bf70439c538e3602a7127af71a29cc",
	    "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843"
	    "9f069b267a06b3de3ecb1043bcb098e9af91d9c64748d998c7b47890871571",
	    "cd54383060e7a28434cca27fb1cc524cfbabeb18181589df219d07",
	    "a856d3bf0246bfc476c655009cd1ed677b8dcc5b349ae8ef2a05f2",
	    NULL } },
};

/* Decode hex into out (at most max bytes); the length, or exits on bad input. */
static size_t
unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t len = strlen(hex), bin_len = 0;

	if (sodium_hex2bin(out, max, hex, len, NULL, &bin_len, NULL) != 0 ||
	    bin_len * 2 != len) {
		printf("Bail out! bad hex in test data\n");
		exit(1);
	}
	return bin_len;
}

/* Reference HMAC-BLAKE2b built from whole buffers, independently of noise.c. */
static void
ref_hmac(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t mlen,
         uint8_t out[64])
{
	uint8_t k0[128] = { 0 }, *buf;
	size_t i;

	if (keylen > 128)
		crypto_generichash(k0, 64, key, keylen, NULL, 0);
	else
		memcpy(k0, key, keylen);
	buf = malloc(128 + (mlen > 64 ? mlen : 64));
	if (buf == NULL)
		exit(1);
	for (i = 0; i < 128; i++)
		buf[i] = k0[i] ^ 0x36;
	memcpy(buf + 128, msg, mlen);
	crypto_generichash(out, 64, buf, 128 + mlen, NULL, 0);
	for (i = 0; i < 128; i++)
		buf[i] = k0[i] ^ 0x5c;
	memcpy(buf + 128, out, 64);
	crypto_generichash(out, 64, buf, 128 + 64, NULL, 0);
	free(buf);
}

/* HMAC and HKDF against Python's hmac/hashlib and against ref_hmac. */
static void
test_hmac_hkdf(void)
{
	uint8_t key[200], msg[100], got[64], want[64], ck[64], o1[64], o2[64], o3[64];
	uint8_t t[64], b[65];
	size_t i, klen;
	static const char big_msg[] = "Test Using Larger Than Block-Size Key - Hash Key First";

	memset(key, 0x0b, 20);
	noise_hmac(key, 20, (const uint8_t *)"Hi There", 8, got);
	unhex("358a6a184924894fc34bee5680eedf57d84a37bb38832f288e3b27dc63a98cc8"
	      "c91e76da476b508bc6b2d408a248857452906e4a20b48c6b4b55d2df0fe1dd24", want, 64);
	is_mem(got, want, 64, "HMAC-BLAKE2b short key matches Python hmac");

	for (i = 0; i < 131; i++)
		key[i] = (uint8_t)i;
	noise_hmac(key, 131, (const uint8_t *)big_msg, strlen(big_msg), got);
	unhex("9024ab0e744574ad3afc72a8cc58d1a53aba483f2ce34c7f2eb91f90e70a7519"
	      "9f8f745c15d34830d3ca889aeee1c4a63ba8fe9b1843460087a4ab99ba088222", want, 64);
	is_mem(got, want, 64, "HMAC-BLAKE2b key longer than a block matches Python hmac");

	noise_hmac(NULL, 0, NULL, 0, got);
	unhex("198cd2006f66ff83fbbd913f78aca2251caf4f19fe9475aade8cf2091b99a684"
	      "66775177424f58286886cbae8229644cec747237d4b721735485e17372fdf59c", want, 64);
	is_mem(got, want, 64, "HMAC-BLAKE2b empty key and message matches Python hmac");

	/* key lengths around the block size, against the reference */
	for (i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)(255 - i);
	{
		static const size_t lens[] = { 1, 64, 127, 128, 129, 200 };
		int all = 1;

		for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
			klen = lens[i];
			noise_hmac(key, klen, msg, sizeof msg, got);
			ref_hmac(key, klen, msg, sizeof msg, want);
			all &= memcmp(got, want, 64) == 0;
		}
		ok(all, "HMAC-BLAKE2b equals the reference for key lengths 1..200");
	}

	/* HKDF: Python values, and its definition in terms of HMAC */
	for (i = 0; i < 64; i++)
		ck[i] = (uint8_t)i;
	noise_hkdf(ck, (const uint8_t *)"confab ikm", 10, o1, o2, o3);
	unhex("be20cf3fe89964b58440eb65418e595db608e1c1f9fc5271b1ec39159adda2dc"
	      "be1534f3fd9cda6441fb6a4a63de250b584cd46807dd8ddafd4c73e3ee785ceb", want, 64);
	is_mem(o1, want, 64, "HKDF output 1 matches Python");
	unhex("087859b150454a23526d3db42f9acbfb3b04131d91189ea872ef4240cf76deee"
	      "512720c119bf7caf00a30ab40f3a2eb3a8cd225d3e40dd2f3e3ff9d35e461d1e", want, 64);
	is_mem(o2, want, 64, "HKDF output 2 matches Python");
	unhex("a4b5de718265d0a5616a401ac82b245213ec53f530a2686246f371f0d97dd24d"
	      "887cb5b8e8e327ca33ac3432e95954fdc9b8088426a0e53479b075a1c37915f1", want, 64);
	is_mem(o3, want, 64, "HKDF output 3 matches Python");

	ref_hmac(ck, 64, (const uint8_t *)"confab ikm", 10, t);
	b[0] = 1;
	ref_hmac(t, 64, b, 1, want);
	is_mem(o1, want, 64, "HKDF output 1 = HMAC(HMAC(ck, ikm), 0x01)");
	memcpy(b, o1, 64);
	b[64] = 2;
	ref_hmac(t, 64, b, 65, want);
	is_mem(o2, want, 64, "HKDF output 2 = HMAC(temp, out1 || 0x02)");

	/* two outputs, written over the chaining key itself */
	noise_hkdf(ck, (const uint8_t *)"confab ikm", 10, ck, got, NULL);
	ok(memcmp(ck, o1, 64) == 0 && memcmp(got, o2, 64) == 0,
	   "HKDF with two outputs, output 1 aliasing ck");
}

/* Handshake and two transport messages of one known-answer vector. */
static void
test_kat(const struct kat *k)
{
	struct noise_hs hi, hr, *w, *r;
	struct noise_cs is, ir, rs, rr;
	uint8_t pro[16], isk[32], iek[32], rsk[32], rek[32], rpub[32], ipub[32];
	uint8_t want[256], out[256], pt[256], pay[64], hh[64], h1[64], h2[64], key[32];
	size_t prolen, wlen, olen, plen, paylen;
	int i, nhs, rc;

	if (strstr(k->protocol, "AESGCM") != NULL && !noise_aesgcm_available()) {
		skip("%s: no hardware AES", k->protocol);
		return;
	}
	prolen = unhex(kat_prologue, pro, sizeof pro);
	unhex(kat_is, isk, 32);
	unhex(kat_ie, iek, 32);
	unhex(kat_rs, rsk, 32);
	unhex(kat_re, rek, 32);
	unhex(kat_rs_pub, rpub, 32);
	noise_pubkey(rsk, key);
	is_mem(key, rpub, 32, "%s: responder public key derived as published", k->protocol);
	noise_pubkey(isk, ipub);

	rc = noise_hs_init(&hi, k->protocol, 1, pro, prolen, isk, iek,
	                   k->ik ? rpub : NULL, NULL);
	is_int(rc, NOISE_OK, "%s: initiator init", k->protocol);
	rc = noise_hs_init(&hr, k->protocol, 0, pro, prolen, rsk, rek, NULL, NULL);
	is_int(rc, NOISE_OK, "%s: responder init", k->protocol);

	nhs = hi.nmsgs;
	for (i = 0; i < nhs; i++) {
		w = i % 2 == 0 ? &hi : &hr;
		r = i % 2 == 0 ? &hr : &hi;
		is_int(noise_hs_action(w), NOISE_ACTION_WRITE, "%s: msg %d writer", k->protocol, i);
		is_int(noise_hs_action(r), NOISE_ACTION_READ, "%s: msg %d reader", k->protocol, i);
		wlen = unhex(k->ct[i], want, sizeof want);
		paylen = unhex(kat_payloads[i], pay, sizeof pay);
		rc = noise_hs_write(w, pay, paylen, out, sizeof out, &olen);
		ok(rc == NOISE_OK && olen == wlen && memcmp(out, want, wlen) == 0,
		   "%s: handshake message %d ciphertext", k->protocol, i);
		rc = noise_hs_read(r, want, wlen, pt, sizeof pt, &plen);
		ok(rc == NOISE_OK && plen == paylen && memcmp(pt, pay, paylen) == 0,
		   "%s: handshake message %d payload", k->protocol, i);
	}
	is_int(noise_hs_action(&hi), NOISE_ACTION_SPLIT, "%s: initiator done", k->protocol);
	is_int(noise_hs_action(&hr), NOISE_ACTION_SPLIT, "%s: responder done", k->protocol);

	unhex(k->hash, hh, 64);
	noise_hs_hash(&hi, h1);
	noise_hs_hash(&hr, h2);
	is_mem(h1, h2, 64, "%s: both sides have the same handshake hash", k->protocol);
	is_mem(h1, hh, 64, "%s: handshake hash as published", k->protocol);
	ok(noise_hs_remote_static(&hi, key) == NOISE_OK && memcmp(key, rpub, 32) == 0,
	   "%s: initiator's remote static = responder's public key", k->protocol);
	ok(noise_hs_remote_static(&hr, key) == NOISE_OK && memcmp(key, ipub, 32) == 0,
	   "%s: responder's remote static = initiator's public key", k->protocol);

	is_int(noise_hs_split(&hi, &is, &ir), NOISE_OK, "%s: initiator split", k->protocol);
	is_int(noise_hs_split(&hr, &rs, &rr), NOISE_OK, "%s: responder split", k->protocol);
	ok(noise_hs_remote_static(&hr, key) == NOISE_OK && memcmp(key, ipub, 32) == 0,
	   "%s: remote static still available after split", k->protocol);

	/* transport: message i is the initiator's when i is even */
	for (i = nhs; i < nhs + 2; i++) {
		struct noise_cs *cw = i % 2 == 0 ? &is : &rs, *cr = i % 2 == 0 ? &rr : &ir;

		wlen = unhex(k->ct[i], want, sizeof want);
		paylen = unhex(kat_payloads[i], pay, sizeof pay);
		rc = noise_cs_encrypt(cw, NULL, 0, pay, paylen, out);
		ok(rc == NOISE_OK && paylen + NOISE_TAGLEN == wlen && memcmp(out, want, wlen) == 0,
		   "%s: transport message %d ciphertext", k->protocol, i);
		rc = noise_cs_decrypt(cr, NULL, 0, want, wlen, pt);
		ok(rc == NOISE_OK && memcmp(pt, pay, paylen) == 0,
		   "%s: transport message %d payload", k->protocol, i);
	}
	noise_hs_wipe(&hi);
	noise_hs_wipe(&hr);
	noise_cs_wipe(&is);
	noise_cs_wipe(&ir);
	noise_cs_wipe(&rs);
	noise_cs_wipe(&rr);
}

/* A pair of sides with random static keys, for the behaviour tests. */
struct pair {
	struct noise_hs i, r;
	uint8_t         is[32], ipub[32], rs[32], rpub[32];
};

/* Start a handshake on both sides; rs/ipub are passed where pre-messages need them. */
static int
pair_init(struct pair *p, const char *protocol)
{
	int rc;

	noise_keypair(p->is, p->ipub);
	noise_keypair(p->rs, p->rpub);
	rc = noise_hs_init(&p->i, protocol, 1, (const uint8_t *)"pro", 3, p->is, NULL,
	                   p->rpub, NULL);
	if (rc == NOISE_OK)
		rc = noise_hs_init(&p->r, protocol, 0, (const uint8_t *)"pro", 3, p->rs,
		                   NULL, p->ipub, NULL);
	return rc;
}

/* Move one message from the writing side to the reading side. */
static int
pair_step(struct pair *p, const char *payload)
{
	uint8_t msg[NOISE_MAX_MSG], pt[NOISE_MAX_MSG];
	size_t mlen, plen;
	struct noise_hs *w, *r;
	int rc;

	if (noise_hs_action(&p->i) == NOISE_ACTION_WRITE) {
		w = &p->i;
		r = &p->r;
	} else {
		w = &p->r;
		r = &p->i;
	}
	rc = noise_hs_write(w, (const uint8_t *)payload, strlen(payload), msg, sizeof msg, &mlen);
	if (rc != NOISE_OK)
		return rc;
	rc = noise_hs_read(r, msg, mlen, pt, sizeof pt, &plen);
	if (rc != NOISE_OK)
		return rc;
	if (plen != strlen(payload) || memcmp(pt, payload, plen) != 0)
		return NOISE_EINVAL;
	return NOISE_OK;
}

/* Run every pattern with both ciphers and random keys. */
static void
test_all_patterns(void)
{
	static const char *const pats[] = {
		"N", "K", "X", "NN", "NK", "NX", "XN", "XK", "XX",
		"KN", "KK", "KX", "IN", "IK", "IX",
	};
	static const char *const ciphers[] = { "ChaChaPoly", "AESGCM" };
	struct pair p;
	struct noise_cs is, ir, rs, rr;
	uint8_t h1[64], h2[64], key[32], ct[64], pt[64];
	char name[64];
	size_t i, c;
	int rc, good;

	for (c = 0; c < 2; c++) {
		if (c == 1 && !noise_aesgcm_available()) {
			skip("AESGCM patterns: no hardware AES");
			continue;
		}
		for (i = 0; i < sizeof pats / sizeof pats[0]; i++) {
			snprintf(name, sizeof name, "Noise_%s_25519_%s_BLAKE2b", pats[i], ciphers[c]);
			good = pair_init(&p, name) == NOISE_OK;
			while (good && noise_hs_action(&p.i) != NOISE_ACTION_SPLIT)
				good = pair_step(&p, "hello") == NOISE_OK;
			good = good && noise_hs_action(&p.r) == NOISE_ACTION_SPLIT;
			noise_hs_hash(&p.i, h1);
			noise_hs_hash(&p.r, h2);
			good = good && memcmp(h1, h2, 64) == 0;
			/* whoever learned a static key learned the right one */
			if (noise_hs_remote_static(&p.i, key) == NOISE_OK)
				good = good && memcmp(key, p.rpub, 32) == 0;
			if (noise_hs_remote_static(&p.r, key) == NOISE_OK)
				good = good && memcmp(key, p.ipub, 32) == 0;
			good = good && noise_hs_split(&p.i, &is, &ir) == NOISE_OK &&
			    noise_hs_split(&p.r, &rs, &rr) == NOISE_OK;
			good = good && noise_cs_encrypt(&is, NULL, 0, (const uint8_t *)"ping", 4, ct) == 0 &&
			    noise_cs_decrypt(&rr, NULL, 0, ct, 4 + NOISE_TAGLEN, pt) == 0 &&
			    memcmp(pt, "ping", 4) == 0;
			if (p.i.oneway) {
				good = good && noise_cs_encrypt(&rs, NULL, 0, (const uint8_t *)"x", 1, ct) ==
				    NOISE_EINVAL && !ir.has_key;
			} else {
				rc = noise_cs_encrypt(&rs, (const uint8_t *)"ad", 2,
				                      (const uint8_t *)"pong", 4, ct);
				good = good && rc == 0 &&
				    noise_cs_decrypt(&ir, (const uint8_t *)"ad", 2, ct, 4 + NOISE_TAGLEN, pt) == 0 &&
				    memcmp(pt, "pong", 4) == 0;
			}
			ok(good, "%s: random-key handshake and transport", name);
			noise_hs_wipe(&p.i);
			noise_hs_wipe(&p.r);
		}
	}
}

/* Names that must be refused as unsupported. */
static void
test_unsupported(void)
{
	static const char *const names[] = {
		"Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b",
		"Noise_XX1_25519_ChaChaPoly_BLAKE2b",
		"Noise_fallback_25519_ChaChaPoly_BLAKE2b",
		"Noise_XX_448_ChaChaPoly_BLAKE2b",
		"Noise_XX_25519_ChaChaPoly_SHA256",
		"Noise_XX_25519_ChaChaPoly_BLAKE2s",
		"Noise_XX_25519_AESGCM_BLAKE2b_",
		"Noise_XX_25519_ChaChaPoly_BLAKE2bX",
		"Noise_XX_25519_ChaChaPoly",
		"Noise_XX_25519_ChaChaPoly_",
		"NoiseXX_25519_ChaChaPoly_BLAKE2b",
		"Noise_xx_25519_ChaChaPoly_BLAKE2b",
		"Noise__25519_ChaChaPoly_BLAKE2b",
		"Noise_XX",
		"",
	};
	struct noise_hs hs;
	uint8_t s[32], pub[32];
	size_t i;
	int all = 1, rc;

	noise_keypair(s, pub);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		rc = noise_hs_init(&hs, names[i], 1, NULL, 0, s, NULL, pub, NULL);
		if (rc != NOISE_EUNSUP || noise_hs_action(&hs) != NOISE_ACTION_FAILED) {
			printf("# \"%s\" gave %d\n", names[i], rc);
			all = 0;
		}
	}
	ok(all, "unsupported protocol names give NOISE_EUNSUP and a failed state");
	is_int(noise_hs_init(&hs, NULL, 1, NULL, 0, NULL, NULL, NULL, NULL), NOISE_EINVAL,
	       "NULL protocol name gives NOISE_EINVAL");
	is_int(noise_hs_init(&hs, XX_CHACHA, 1, NULL, 0, NULL, NULL, NULL, NULL), NOISE_EINVAL,
	       "XX without a static key gives NOISE_EINVAL");
	is_int(noise_hs_init(&hs, "Noise_IK_25519_ChaChaPoly_BLAKE2b", 1, NULL, 0, s, NULL,
	                     NULL, NULL), NOISE_EINVAL,
	       "IK initiator without the remote static key gives NOISE_EINVAL");
	is_int(noise_hs_init(&hs, "Noise_NN_25519_ChaChaPoly_BLAKE2b", 1, NULL, 5, NULL, NULL,
	                     NULL, NULL), NOISE_EINVAL,
	       "NULL prologue with a length gives NOISE_EINVAL");
	is_int(noise_hs_init(&hs, "Noise_NN_25519_ChaChaPoly_BLAKE2b", 1, NULL, 0, NULL, NULL,
	                     NULL, NULL), NOISE_OK, "NN needs no keys");
	noise_hs_wipe(&hs);
}

/* Tampered and truncated handshake messages fail the reader for good. */
static void
test_tamper_truncate(void)
{
	struct pair p;
	uint8_t m1[256], m2[256], pt[256], key[32], *big;
	size_t l1, l2, plen;
	int rc;

	/* tampered encrypted static key in XX message 2 */
	pair_init(&p, XX_CHACHA);
	noise_hs_write(&p.i, NULL, 0, m1, sizeof m1, &l1);
	is_int(noise_hs_read(&p.r, m1, l1, pt, sizeof pt, &plen), NOISE_OK, "XX message 1 read");
	noise_hs_write(&p.r, (const uint8_t *)"hi", 2, m2, sizeof m2, &l2);
	m2[40] ^= 0x01;
	rc = noise_hs_read(&p.i, m2, l2, pt, sizeof pt, &plen);
	is_int(rc, NOISE_EDECRYPT, "tampered handshake ciphertext gives NOISE_EDECRYPT");
	is_int(noise_hs_action(&p.i), NOISE_ACTION_FAILED, "and leaves the state failed");
	is_int(noise_hs_remote_static(&p.i, key), NOISE_EINVAL, "no remote static from a failed state");
	m2[40] ^= 0x01;
	is_int(noise_hs_read(&p.i, m2, l2, pt, sizeof pt, &plen), NOISE_EINVAL,
	       "the genuine message is refused afterwards");
	is_int(noise_hs_write(&p.i, NULL, 0, m1, sizeof m1, &l1), NOISE_EINVAL,
	       "a failed state refuses to write");

	/* tampered payload tag in XX message 3 */
	pair_init(&p, XX_AESGCM);
	if (noise_aesgcm_available()) {
		ok(pair_step(&p, "a") == NOISE_OK && pair_step(&p, "b") == NOISE_OK, "XX AESGCM to message 3");
		noise_hs_write(&p.i, (const uint8_t *)"c", 1, m1, sizeof m1, &l1);
		m1[l1 - 1] ^= 0x80;
		is_int(noise_hs_read(&p.r, m1, l1, pt, sizeof pt, &plen), NOISE_EDECRYPT,
		       "tampered AESGCM payload tag gives NOISE_EDECRYPT");
		is_int(noise_hs_action(&p.r), NOISE_ACTION_FAILED, "responder failed");
	} else {
		skip("no hardware AES");
	}

	/* truncations */
	pair_init(&p, XX_CHACHA);
	noise_hs_write(&p.i, NULL, 0, m1, sizeof m1, &l1);
	is_int(noise_hs_read(&p.r, m1, 31, pt, sizeof pt, &plen), NOISE_ESHORT,
	       "message 1 cut inside the ephemeral key gives NOISE_ESHORT");
	is_int(noise_hs_action(&p.r), NOISE_ACTION_FAILED, "and fails the state");

	pair_init(&p, XX_CHACHA);
	noise_hs_write(&p.i, NULL, 0, m1, sizeof m1, &l1);
	noise_hs_read(&p.r, m1, l1, pt, sizeof pt, &plen);
	noise_hs_write(&p.r, NULL, 0, m2, sizeof m2, &l2);
	is_int((int)l2, 32 + 48 + 16, "XX message 2 is e, encrypted s and a tag");
	is_int(noise_hs_read(&p.i, m2, 32 + 47, pt, sizeof pt, &plen), NOISE_ESHORT,
	       "message 2 cut inside the encrypted static key gives NOISE_ESHORT");

	pair_init(&p, XX_CHACHA);
	noise_hs_write(&p.i, NULL, 0, m1, sizeof m1, &l1);
	noise_hs_read(&p.r, m1, l1, pt, sizeof pt, &plen);
	noise_hs_write(&p.r, NULL, 0, m2, sizeof m2, &l2);
	is_int(noise_hs_read(&p.i, m2, l2 - 1, pt, sizeof pt, &plen), NOISE_ESHORT,
	       "message 2 without a whole payload tag gives NOISE_ESHORT");
	is_int(noise_hs_action(&p.i), NOISE_ACTION_FAILED, "and fails the state");

	pair_init(&p, XX_CHACHA);
	is_int(noise_hs_read(&p.r, NULL, 0, pt, sizeof pt, &plen), NOISE_ESHORT,
	       "an empty message gives NOISE_ESHORT");
	big = calloc(1, NOISE_MAX_MSG + 1);
	if (big == NULL)
		exit(1);
	pair_init(&p, XX_CHACHA);
	is_int(noise_hs_read(&p.r, big, NOISE_MAX_MSG + 1, big, NOISE_MAX_MSG + 1, &plen),
	       NOISE_ETOOBIG, "a message above NOISE_MAX_MSG gives NOISE_ETOOBIG");
	free(big);
}

/* Calls in the wrong order are refused. */
static void
test_order(void)
{
	struct pair p;
	struct noise_cs s, r, none;
	uint8_t m[256], pt[256];
	size_t l, plen;

	pair_init(&p, XX_CHACHA);
	is_int(noise_hs_write(&p.r, NULL, 0, m, sizeof m, &l), NOISE_EINVAL,
	       "responder writing first gives NOISE_EINVAL");
	is_int(noise_hs_action(&p.r), NOISE_ACTION_READ, "and leaves the responder waiting to read");
	is_int(noise_hs_split(&p.i, &s, &r), NOISE_EINVAL, "split before the end gives NOISE_EINVAL");
	is_int(noise_hs_read(&p.i, m, 32, pt, sizeof pt, &plen), NOISE_EINVAL,
	       "initiator reading first gives NOISE_EINVAL");
	is_int(noise_hs_action(&p.i), NOISE_ACTION_FAILED, "a failed read fails the state");

	pair_init(&p, XX_CHACHA);
	ok(pair_step(&p, "1") == 0 && pair_step(&p, "2") == 0 && pair_step(&p, "3") == 0,
	   "XX completes");
	is_int(noise_hs_write(&p.i, NULL, 0, m, sizeof m, &l), NOISE_EINVAL,
	       "writing after the last message gives NOISE_EINVAL");
	is_int(noise_hs_split(&p.i, &s, &s), NOISE_EINVAL, "split into one state gives NOISE_EINVAL");
	is_int(noise_hs_split(&p.i, &s, &r), NOISE_OK, "split");
	is_int(noise_hs_split(&p.i, &s, &r), NOISE_EINVAL, "a second split gives NOISE_EINVAL");
	is_int(noise_hs_action(&p.i), NOISE_ACTION_FAILED, "a split state is spent");

	memset(&none, 0, sizeof none);
	is_int(noise_cs_encrypt(&none, NULL, 0, m, 4, pt), NOISE_EINVAL,
	       "encrypting without a key gives NOISE_EINVAL");
	is_int(noise_cs_decrypt(&none, NULL, 0, m, 20, pt), NOISE_EINVAL,
	       "decrypting without a key gives NOISE_EINVAL");
	is_int(noise_cs_rekey(&none), NOISE_EINVAL, "rekey without a key gives NOISE_EINVAL");
	noise_cs_wipe(&s);
	noise_cs_wipe(&r);
}

/* Finish an XX handshake and split both sides. */
static int
pair_transport(struct pair *p, const char *protocol, struct noise_cs *is,
               struct noise_cs *ir, struct noise_cs *rs, struct noise_cs *rr)
{
	if (pair_init(p, protocol) != 0)
		return -1;
	while (noise_hs_action(&p->i) != NOISE_ACTION_SPLIT)
		if (pair_step(p, "") != 0)
			return -1;
	if (noise_hs_split(&p->i, is, ir) != 0 || noise_hs_split(&p->r, rs, rr) != 0)
		return -1;
	return 0;
}

/* Nonce limits, transport tampering, size limits, nonce layout and rekey. */
static void
test_transport(void)
{
	struct pair p;
	struct noise_cs is, ir, rs, rr, copy;
	uint8_t ct[128], ct2[128], pt[128], nonce[12], zeros[32], want[48], *big, *out;
	unsigned long long clen;
	uint64_t n;
	int i;

	ok(pair_transport(&p, XX_CHACHA, &is, &ir, &rs, &rr) == 0, "XX ChaChaPoly transport");

	/* nonce exhaustion */
	is.n = UINT64_MAX - 1;
	rr.n = UINT64_MAX - 1;
	is_int(noise_cs_encrypt(&is, NULL, 0, (const uint8_t *)"last", 4, ct), NOISE_OK,
	       "nonce 2^64-2 encrypts");
	is_int(noise_cs_encrypt(&is, NULL, 0, (const uint8_t *)"more", 4, ct2), NOISE_ENONCE,
	       "nonce 2^64-1 gives NOISE_ENONCE");
	ok(is.n == UINT64_MAX, "and the nonce stays at 2^64-1");
	is_int(noise_cs_decrypt(&rr, NULL, 0, ct, 20, pt), NOISE_OK, "nonce 2^64-2 decrypts");
	ok(memcmp(pt, "last", 4) == 0, "to the right plaintext");
	is_int(noise_cs_decrypt(&rr, NULL, 0, ct, 20, pt), NOISE_ENONCE,
	       "decrypting at nonce 2^64-1 gives NOISE_ENONCE");

	/* tampering: the nonce does not advance, the genuine message still decrypts */
	is.n = rr.n = 7;
	noise_cs_encrypt(&is, (const uint8_t *)"ad", 2, (const uint8_t *)"data", 4, ct);
	ct[2] ^= 4;
	is_int(noise_cs_decrypt(&rr, (const uint8_t *)"ad", 2, ct, 20, pt), NOISE_EDECRYPT,
	       "tampered transport ciphertext gives NOISE_EDECRYPT");
	ok(rr.n == 7, "and does not advance the nonce");
	ct[2] ^= 4;
	is_int(noise_cs_decrypt(&rr, (const uint8_t *)"AD", 2, ct, 20, pt), NOISE_EDECRYPT,
	       "wrong associated data gives NOISE_EDECRYPT");
	is_int(noise_cs_decrypt(&rr, (const uint8_t *)"ad", 2, ct, 20, pt), NOISE_OK,
	       "the genuine message decrypts");
	is_int(noise_cs_decrypt(&rr, NULL, 0, ct, NOISE_TAGLEN - 1, pt), NOISE_ESHORT,
	       "ciphertext shorter than a tag gives NOISE_ESHORT");

	/* size limits */
	big = calloc(1, NOISE_MAX_MSG + 64);
	out = calloc(1, NOISE_MAX_MSG + 64);
	if (big == NULL || out == NULL)
		exit(1);
	is_int(noise_cs_encrypt(&is, NULL, 0, big, NOISE_MAX_MSG - NOISE_TAGLEN + 1, out),
	       NOISE_ETOOBIG, "transport plaintext above the limit gives NOISE_ETOOBIG");
	is_int(noise_cs_encrypt(&is, NULL, 0, big, NOISE_MAX_MSG - NOISE_TAGLEN, out), NOISE_OK,
	       "transport plaintext at the limit encrypts");
	is_int(noise_cs_decrypt(&rr, NULL, 0, out, NOISE_MAX_MSG, big), NOISE_OK,
	       "transport ciphertext at the limit decrypts");
	is_int(noise_cs_decrypt(&rr, NULL, 0, out, NOISE_MAX_MSG + 1, big), NOISE_ETOOBIG,
	       "transport ciphertext above the limit gives NOISE_ETOOBIG");
	free(big);
	free(out);

	/* ChaChaPoly nonce: 4 zero bytes and the little-endian counter */
	n = 0x0102030405060708ULL;
	is.n = n;
	memset(nonce, 0, sizeof nonce);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
	crypto_aead_chacha20poly1305_ietf_encrypt(want, &clen, (const uint8_t *)"nonce", 5,
	                                          NULL, 0, NULL, nonce, is.k);
	noise_cs_encrypt(&is, NULL, 0, (const uint8_t *)"nonce", 5, ct);
	is_mem(ct, want, 5 + NOISE_TAGLEN, "ChaChaPoly nonce is 0^32 || LE64(n)");

	/* Rekey: k = ENCRYPT(k, 2^64-1, "", 0^32)[0:32], n unchanged */
	memset(zeros, 0, sizeof zeros);
	memset(nonce, 0, 4);
	memset(nonce + 4, 0xff, 8);
	crypto_aead_chacha20poly1305_ietf_encrypt(want, &clen, zeros, 32, NULL, 0, NULL, nonce, is.k);
	copy = is;
	is_int(noise_cs_rekey(&is), NOISE_OK, "rekey");
	is_mem(is.k, want, 32, "rekeyed ChaChaPoly key as the specification defines it");
	ok(is.n == copy.n, "rekey keeps the nonce");
	rr.n = is.n;
	noise_cs_rekey(&rr);
	noise_cs_encrypt(&is, NULL, 0, (const uint8_t *)"after", 5, ct);
	noise_cs_encrypt(&copy, NULL, 0, (const uint8_t *)"after", 5, ct2);
	ok(memcmp(ct, ct2, 5 + NOISE_TAGLEN) != 0, "rekey changes the ciphertext");
	ok(noise_cs_decrypt(&rr, NULL, 0, ct, 5 + NOISE_TAGLEN, pt) == NOISE_OK &&
	   memcmp(pt, "after", 5) == 0, "both sides rekeyed still talk");
	noise_cs_wipe(&copy);
	noise_cs_wipe(&is);
	ok(!is.has_key && sodium_is_zero(is.k, sizeof is.k), "noise_cs_wipe clears the key");
	noise_cs_wipe(&ir);
	noise_cs_wipe(&rs);
	noise_cs_wipe(&rr);

	if (!noise_aesgcm_available()) {
		skip("AESGCM nonce and rekey: no hardware AES");
		return;
	}
	ok(pair_transport(&p, XX_AESGCM, &is, &ir, &rs, &rr) == 0, "XX AESGCM transport");
	/* AESGCM nonce: 4 zero bytes and the big-endian counter */
	is.n = n;
	memset(nonce, 0, sizeof nonce);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (56 - 8 * i));
	crypto_aead_aes256gcm_encrypt(want, &clen, (const uint8_t *)"nonce", 5, NULL, 0, NULL,
	                              nonce, is.k);
	noise_cs_encrypt(&is, NULL, 0, (const uint8_t *)"nonce", 5, ct);
	is_mem(ct, want, 5 + NOISE_TAGLEN, "AESGCM nonce is 0^32 || BE64(n)");
	memset(nonce + 4, 0xff, 8);
	crypto_aead_aes256gcm_encrypt(want, &clen, zeros, 32, NULL, 0, NULL, nonce, is.k);
	noise_cs_rekey(&is);
	is_mem(is.k, want, 32, "rekeyed AESGCM key as the specification defines it");
	rr.n = is.n;
	noise_cs_rekey(&rr);
	noise_cs_encrypt(&is, NULL, 0, (const uint8_t *)"after", 5, ct);
	ok(noise_cs_decrypt(&rr, NULL, 0, ct, 5 + NOISE_TAGLEN, pt) == NOISE_OK &&
	   memcmp(pt, "after", 5) == 0, "AESGCM both sides rekeyed still talk (expanded key updated)");
	noise_cs_wipe(&is);
	noise_cs_wipe(&ir);
	noise_cs_wipe(&rs);
	noise_cs_wipe(&rr);
}

/* Output and payload buffers that are too small, and oversized payloads. */
static void
test_sizes(void)
{
	struct pair p;
	uint8_t m[256], pt[256], *big, *out;
	size_t l, plen;

	pair_init(&p, XX_CHACHA);
	is_int(noise_hs_write(&p.i, (const uint8_t *)"payload", 7, m, 32 + 6, &l), NOISE_ETOOBIG,
	       "out buffer one byte short gives NOISE_ETOOBIG");
	is_int(noise_hs_action(&p.i), NOISE_ACTION_WRITE, "and leaves the state usable");
	is_int(noise_hs_write(&p.i, (const uint8_t *)"payload", 7, m, 32 + 7, &l), NOISE_OK,
	       "an exact out buffer works");
	is_int((int)l, 39, "message 1 is e and the plaintext payload");
	is_int(noise_hs_read(&p.r, m, l, pt, 6, &plen), NOISE_ETOOBIG,
	       "payload buffer one byte short gives NOISE_ETOOBIG");
	is_int(noise_hs_action(&p.r), NOISE_ACTION_FAILED, "and fails the reader");

	pair_init(&p, XX_CHACHA);
	noise_hs_write(&p.i, NULL, 0, m, sizeof m, &l);
	noise_hs_read(&p.r, m, l, pt, sizeof pt, &plen);
	is_int(noise_hs_write(&p.r, (const uint8_t *)"x", 1, m, 32 + 48 + 16, &l), NOISE_ETOOBIG,
	       "message 2 needs room for the payload tag");

	big = calloc(1, NOISE_MAX_MSG + 1);
	out = calloc(1, NOISE_MAX_MSG + 1);
	if (big == NULL || out == NULL)
		exit(1);
	pair_init(&p, XX_CHACHA);
	is_int(noise_hs_write(&p.i, big, NOISE_MAX_MSG - 31, out, NOISE_MAX_MSG + 1, &l),
	       NOISE_ETOOBIG, "handshake message above NOISE_MAX_MSG gives NOISE_ETOOBIG");
	is_int(noise_hs_write(&p.i, big, NOISE_MAX_MSG + 1, out, NOISE_MAX_MSG + 1, &l),
	       NOISE_ETOOBIG, "payload above NOISE_MAX_MSG gives NOISE_ETOOBIG");
	is_int(noise_hs_write(&p.i, big, NOISE_MAX_MSG - 32, out, NOISE_MAX_MSG + 1, &l),
	       NOISE_OK, "handshake message of exactly NOISE_MAX_MSG bytes is written");
	is_int((long long)l, NOISE_MAX_MSG, "with the expected length");
	is_int(noise_hs_read(&p.r, out, l, big, NOISE_MAX_MSG, &plen), NOISE_OK,
	       "and read");
	free(big);
	free(out);
}

/* Invalid DH results fail the handshake. */
static void
test_dh(void)
{
	struct noise_hs hs;
	uint8_t zero[32] = { 0 }, m[256];
	size_t l;

	is_int(noise_hs_init(&hs, "Noise_NK_25519_ChaChaPoly_BLAKE2b", 1, NULL, 0, NULL, NULL,
	                     zero, NULL), NOISE_OK, "NK with an all-zero responder key initialises");
	is_int(noise_hs_write(&hs, NULL, 0, m, sizeof m, &l), NOISE_EDH,
	       "DH with a low-order point gives NOISE_EDH");
	is_int(noise_hs_action(&hs), NOISE_ACTION_FAILED, "and fails the state");
	noise_hs_wipe(&hs);
	ok(sodium_is_zero(hs.e_priv, 32) && sodium_is_zero(hs.ck, 64), "wipe clears secrets");
}

/*
 * AES-256-GCM by libcrypto against libsodium's: the same ciphertext and tag
 * for every length around the block size and a full frame, with and without
 * associated data; each opens the other's; a bad tag is refused and leaves
 * no plaintext behind.
 */
static void
test_gcm_cross(void)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 255, 4096, 65519 };
	static uint8_t pt[65519], ct[65535], want[65535], back[65519];
	struct noise_cs a, b;
	uint8_t key[32], nonce[12], ad[64];
	unsigned long long clen;
	size_t i, j, len;
	int same = 1, opened = 1, refused = 1, wiped = 1;

	if (!noise_aesgcm_available() || noise_aesgcm_use_libcrypto(1) != 0) {
		skip("libcrypto against libsodium: %s",
		   noise_aesgcm_available() ? "built without libcrypto" : "no hardware AES");
		return;
	}
	randombytes_buf(key, sizeof key);
	randombytes_buf(ad, sizeof ad);
	randombytes_buf(pt, sizeof pt);
	memset(&a, 0, sizeof a);
	a.cipher = NOISE_CIPHER_AESGCM;
	a.has_key = 1;
	memcpy(a.k, key, sizeof key);
	crypto_aead_aes256gcm_beforenm(&a.aes, key);
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		for (j = 0; j < 2; j++) {
			len = lens[i];
			a.n = 1000 + i;
			memset(nonce, 0, sizeof nonce);
			nonce[10] = (uint8_t)((1000 + i) >> 8);
			nonce[11] = (uint8_t)(1000 + i);
			crypto_aead_aes256gcm_encrypt(want, &clen, pt, len, j ? ad : NULL, j ? 64 : 0,
			                              NULL, nonce, key);
			noise_aesgcm_use_libcrypto(1);
			b = a;
			if (noise_cs_encrypt(&b, j ? ad : NULL, j ? 64 : 0, pt, len, ct) != NOISE_OK ||
			    memcmp(ct, want, len + NOISE_TAGLEN) != 0)
				same = 0;
			/* libcrypto opens what libsodium sealed */
			b = a;
			if (noise_cs_decrypt(&b, j ? ad : NULL, j ? 64 : 0, want, len + NOISE_TAGLEN,
			                     back) != NOISE_OK || memcmp(back, pt, len) != 0)
				opened = 0;
			/* a flipped tag bit: refused, nonce kept, output wiped */
			want[len] ^= 0x40;
			memset(back, 0xa5, sizeof back);
			b = a;
			if (noise_cs_decrypt(&b, j ? ad : NULL, j ? 64 : 0, want, len + NOISE_TAGLEN,
			                     back) != NOISE_EDECRYPT || b.n != a.n)
				refused = 0;
			if (len > 0 && !sodium_is_zero(back, len))
				wiped = 0;
			want[len] ^= 0x40;
			/* libsodium opens what libcrypto sealed */
			noise_aesgcm_use_libcrypto(0);
			b = a;
			if (noise_cs_decrypt(&b, j ? ad : NULL, j ? 64 : 0, ct, len + NOISE_TAGLEN,
			                     back) != NOISE_OK || memcmp(back, pt, len) != 0)
				opened = 0;
		}
	}
	noise_aesgcm_use_libcrypto(1);
	ok(same, "libcrypto seals exactly as libsodium (lengths 0..65519, with and without AD)");
	ok(opened, "each library opens what the other sealed");
	ok(refused, "a flipped tag bit is refused by libcrypto without advancing the nonce");
	ok(wiped, "and leaves no unverified plaintext in the output");
	noise_cs_wipe(&a);
	noise_cs_wipe(&b);
}

/* Entry point. */
int
main(void)
{
	size_t i;
	int run;

	is_int(noise_global_init(), 0, "libsodium initialises");
	is_int(noise_global_init(), 0, "and again");
	printf("# AESGCM %s\n", noise_aesgcm_available() ? "available" : "not available");
	ok(strcmp(noise_strerror(NOISE_EDECRYPT), noise_strerror(NOISE_OK)) != 0, "noise_strerror");

	/* everything with the default AES-GCM library, then with libsodium's */
	for (run = 0; run < 2; run++) {
		if (run == 1 && strcmp(noise_aesgcm_impl(), "libsodium") == 0)
			break;   /* built without libcrypto: one run covers it */
		if (run == 1)
			noise_aesgcm_use_libcrypto(0);
		printf("# AES-256-GCM by %s\n", noise_aesgcm_impl());
		test_hmac_hkdf();
		for (i = 0; i < sizeof kats / sizeof kats[0]; i++)
			test_kat(&kats[i]);
		test_all_patterns();
		test_unsupported();
		test_tamper_truncate();
		test_order();
		test_transport();
		test_sizes();
		test_dh();
	}
	test_gcm_cross();
	return tap_done();
}
