/* noise.c - the Noise Protocol Framework (revision 34) over libsodium. */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sodium.h>
#ifdef HAVE_OPENSSL
#include <openssl/evp.h>
#endif

#include "noise.h"

#define HMAC_BLOCK   128          /* BLAKE2b block size */
#define NONCE_LEN    12           /* both AEADs take a 96-bit nonce */
#define NAME_MAX_LEN 255          /* protocol names are at most 255 bytes */

/* Handshake tokens. */
enum { T_END = 0, T_E, T_S, T_EE, T_ES, T_SE, T_SS };

/* Pre-message contents. */
#define PRE_E 1
#define PRE_S 2

#define PAT_MSGS   3
#define PAT_TOKENS 6

/* One handshake pattern: pre-messages and zero-terminated token lists. */
struct pattern {
	const char *name;
	uint8_t     pre_i, pre_r;
	uint8_t     msgs[PAT_MSGS][PAT_TOKENS];
};

/* The one-way and fundamental interactive patterns of section 7. */
static const struct pattern patterns[] = {
	{ "N",  0,     PRE_S, { { T_E, T_ES } } },
	{ "K",  PRE_S, PRE_S, { { T_E, T_ES, T_SS } } },
	{ "X",  0,     PRE_S, { { T_E, T_ES, T_S, T_SS } } },
	{ "NN", 0,     0,     { { T_E }, { T_E, T_EE } } },
	{ "NK", 0,     PRE_S, { { T_E, T_ES }, { T_E, T_EE } } },
	{ "NX", 0,     0,     { { T_E }, { T_E, T_EE, T_S, T_ES } } },
	{ "XN", 0,     0,     { { T_E }, { T_E, T_EE }, { T_S, T_SE } } },
	{ "XK", 0,     PRE_S, { { T_E, T_ES }, { T_E, T_EE }, { T_S, T_SE } } },
	{ "XX", 0,     0,     { { T_E }, { T_E, T_EE, T_S, T_ES }, { T_S, T_SE } } },
	{ "KN", PRE_S, 0,     { { T_E }, { T_E, T_EE, T_SE } } },
	{ "KK", PRE_S, PRE_S, { { T_E, T_ES, T_SS }, { T_E, T_EE, T_SE } } },
	{ "KX", PRE_S, 0,     { { T_E }, { T_E, T_EE, T_SE, T_S, T_ES } } },
	{ "IN", 0,     0,     { { T_E, T_S }, { T_E, T_EE, T_SE } } },
	{ "IK", 0,     PRE_S, { { T_E, T_ES, T_S, T_SS }, { T_E, T_EE, T_SE } } },
	{ "IX", 0,     0,     { { T_E, T_S }, { T_E, T_EE, T_SE, T_S, T_ES } } },
};

#define NPATTERNS (sizeof patterns / sizeof patterns[0])

_Static_assert(PAT_MSGS <= NOISE_MAX_MSGS, "pattern table too long");
_Static_assert(PAT_TOKENS <= NOISE_MAX_TOKENS, "pattern table too wide");

static int noise_ready;   /* the once-init flag: sodium_init() succeeded */

#ifdef HAVE_OPENSSL
/*
 * AES-256-GCM through libcrypto, 1.6-2.4x as fast as libsodium 1.0.18 here
 * (tests/bench/aead.sh).  One context serves every cipher state (we are
 * single-threaded), keyed anew on each call so that a noise_cs stays a plain
 * value that can be copied.
 */
static EVP_CIPHER     *gcm_cipher;
static EVP_CIPHER_CTX *gcm_ctx;
static int             gcm_tried;      /* gcm_cipher and gcm_ctx were fetched */
static int             gcm_off;        /* tests: use libsodium even so */

/*
 * Whether libcrypto runs AES-256-GCM.  The cipher is fetched on first use, not
 * at start: loading libcrypto's provider costs about 2 MB of resident memory
 * that an instance with no AES-GCM session never needs.  libsodium is the
 * fallback when the fetch fails.
 */
static int
gcm_ready(void)
{
	if (!gcm_tried) {
		gcm_tried = 1;
		gcm_cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
		gcm_ctx = gcm_cipher != NULL ? EVP_CIPHER_CTX_new() : NULL;
	}
	return gcm_ctx != NULL && !gcm_off;
}

/* One AES-256-GCM seal (enc) or open (!enc) of len bytes; tag in/out. */
static int
gcm_openssl(int enc, const uint8_t key[NOISE_KEYLEN], const uint8_t nonce[NONCE_LEN],
            const uint8_t *ad, size_t adlen, const uint8_t *in, size_t len,
            uint8_t *out, uint8_t tag[NOISE_TAGLEN])
{
	int n = 0;

	if (len > INT_MAX || adlen > INT_MAX ||
	    EVP_CipherInit_ex2(gcm_ctx, gcm_cipher, key, nonce, enc, NULL) != 1)
		return -1;
	if (adlen > 0 && EVP_CipherUpdate(gcm_ctx, NULL, &n, ad, (int)adlen) != 1)
		return -1;
	if (len > 0 && EVP_CipherUpdate(gcm_ctx, out, &n, in, (int)len) != 1)
		return -1;
	if (!enc && EVP_CIPHER_CTX_ctrl(gcm_ctx, EVP_CTRL_GCM_SET_TAG, NOISE_TAGLEN, tag) != 1)
		return -1;
	if (EVP_CipherFinal_ex(gcm_ctx, out + len, &n) != 1)
		return -1;   /* for open: the tag did not verify */
	if (enc && EVP_CIPHER_CTX_ctrl(gcm_ctx, EVP_CTRL_GCM_GET_TAG, NOISE_TAGLEN, tag) != 1)
		return -1;
	return 0;
}
#endif

/* Initialise libsodium once; 0 on success. */
int
noise_global_init(void)
{
	if (noise_ready)
		return 0;
	if (sodium_init() < 0)
		return -1;
	noise_ready = 1;
	return 0;
}

/* Which library runs AES-256-GCM: "libcrypto" or "libsodium". */
const char *
noise_aesgcm_impl(void)
{
	(void)noise_global_init();
#ifdef HAVE_OPENSSL
	if (gcm_ready())
		return "libcrypto";
#endif
	return "libsodium";
}

/* Choose libcrypto (1) or libsodium (0) for AES-256-GCM; -1 if unavailable. */
int
noise_aesgcm_use_libcrypto(int on)
{
	(void)noise_global_init();
#ifdef HAVE_OPENSSL
	gcm_off = 0;
	if (on && !gcm_ready())
		return -1;
	gcm_off = !on;
	return 0;
#else
	return on ? -1 : 0;
#endif
}

/* Whether libsodium can run AES-256-GCM on this CPU. */
int
noise_aesgcm_available(void)
{
	if (noise_global_init() != 0)
		return 0;
	return crypto_aead_aes256gcm_is_available();
}

/* Generate a random X25519 key pair. */
void
noise_keypair(uint8_t priv[NOISE_DHLEN], uint8_t pub[NOISE_DHLEN])
{
	(void)noise_global_init();
	randombytes_buf(priv, NOISE_DHLEN);
	crypto_scalarmult_base(pub, priv);
}

/* Derive the X25519 public key of priv. */
void
noise_pubkey(const uint8_t priv[NOISE_DHLEN], uint8_t pub[NOISE_DHLEN])
{
	crypto_scalarmult_base(pub, priv);
}

/* A message for each error code. */
const char *
noise_strerror(int err)
{
	switch (err) {
	case NOISE_OK:       return "success";
	case NOISE_EINVAL:   return "invalid argument or call out of order";
	case NOISE_EUNSUP:   return "unsupported protocol";
	case NOISE_EDECRYPT: return "decryption failed";
	case NOISE_ESHORT:   return "message too short";
	case NOISE_ETOOBIG:  return "message too large";
	case NOISE_EDH:      return "invalid Diffie-Hellman result";
	case NOISE_ENONCE:   return "nonce exhausted";
	default:             return "unknown error";
	}
}

/* ---- hashing ------------------------------------------------------------ */

/* out = BLAKE2b-512(a || b); either part may be empty. */
static void
hash2(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
      uint8_t out[NOISE_HASHLEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, NOISE_HASHLEN);
	if (alen > 0)
		crypto_generichash_update(&st, a, alen);
	if (blen > 0)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, NOISE_HASHLEN);
	sodium_memzero(&st, sizeof st);
}

/* HMAC-BLAKE2b per RFC 2104 (B = 128, L = 64); out may alias the inputs. */
void
noise_hmac(const uint8_t *key, size_t keylen, const uint8_t *data, size_t dlen,
           uint8_t out[NOISE_HASHLEN])
{
	uint8_t k[HMAC_BLOCK], pad[HMAC_BLOCK], inner[NOISE_HASHLEN];
	size_t i;

	memset(k, 0, sizeof k);
	if (keylen > HMAC_BLOCK)
		hash2(key, keylen, NULL, 0, k);
	else if (keylen > 0)
		memcpy(k, key, keylen);

	for (i = 0; i < HMAC_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	hash2(pad, sizeof pad, data, dlen, inner);
	for (i = 0; i < HMAC_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	hash2(pad, sizeof pad, inner, sizeof inner, out);

	sodium_memzero(k, sizeof k);
	sodium_memzero(pad, sizeof pad);
	sodium_memzero(inner, sizeof inner);
}

/* HKDF from section 4.3; out2 and out3 may be NULL, outputs may alias ck. */
void
noise_hkdf(const uint8_t ck[NOISE_HASHLEN], const uint8_t *ikm, size_t ikmlen,
           uint8_t out1[NOISE_HASHLEN], uint8_t out2[NOISE_HASHLEN],
           uint8_t out3[NOISE_HASHLEN])
{
	uint8_t tk[NOISE_HASHLEN], o1[NOISE_HASHLEN], o2[NOISE_HASHLEN];
	uint8_t o3[NOISE_HASHLEN], buf[NOISE_HASHLEN + 1];

	noise_hmac(ck, NOISE_HASHLEN, ikm, ikmlen, tk);
	buf[0] = 0x01;
	noise_hmac(tk, sizeof tk, buf, 1, o1);
	memcpy(buf, o1, NOISE_HASHLEN);
	buf[NOISE_HASHLEN] = 0x02;
	noise_hmac(tk, sizeof tk, buf, sizeof buf, o2);
	if (out3 != NULL) {
		memcpy(buf, o2, NOISE_HASHLEN);
		buf[NOISE_HASHLEN] = 0x03;
		noise_hmac(tk, sizeof tk, buf, sizeof buf, o3);
		memcpy(out3, o3, NOISE_HASHLEN);
	}
	memcpy(out1, o1, NOISE_HASHLEN);
	if (out2 != NULL)
		memcpy(out2, o2, NOISE_HASHLEN);

	sodium_memzero(tk, sizeof tk);
	sodium_memzero(o1, sizeof o1);
	sodium_memzero(o2, sizeof o2);
	sodium_memzero(o3, sizeof o3);
	sodium_memzero(buf, sizeof buf);
}

/* ---- CipherState -------------------------------------------------------- */

/* Lay out counter n as the cipher's 96-bit nonce. */
static void
make_nonce(enum noise_cipher cipher, uint64_t n, uint8_t nonce[NONCE_LEN])
{
	int i;

	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++) {
		if (cipher == NOISE_CIPHER_AESGCM)
			nonce[4 + i] = (uint8_t)(n >> (56 - 8 * i));
		else
			nonce[4 + i] = (uint8_t)(n >> (8 * i));
	}
}

/* Install key k without touching the nonce (expands it for AESGCM). */
static int
cs_set_key(struct noise_cs *cs, const uint8_t k[NOISE_KEYLEN])
{
	memmove(cs->k, k, NOISE_KEYLEN);
	if (cs->cipher == NOISE_CIPHER_AESGCM) {
		if (crypto_aead_aes256gcm_beforenm(&cs->aes, cs->k) != 0)
			return NOISE_EUNSUP;
	} else if (cs->cipher != NOISE_CIPHER_CHACHAPOLY) {
		return NOISE_EINVAL;
	}
	cs->has_key = 1;
	return NOISE_OK;
}

/* InitializeKey(k): install k and reset the nonce. */
static int
cs_init_key(struct noise_cs *cs, const uint8_t k[NOISE_KEYLEN])
{
	cs->n = 0;
	return cs_set_key(cs, k);
}

/* ENCRYPT(k, n, ad, pt) into out (ptlen + tag bytes); no nonce checks. */
static int
cipher_encrypt(struct noise_cs *cs, uint64_t n, const uint8_t *ad, size_t adlen,
               const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	uint8_t nonce[NONCE_LEN], dummy = 0;
	unsigned long long clen = 0;
	int rc = -1;

	if (pt == NULL)
		pt = &dummy;
	make_nonce(cs->cipher, n, nonce);
	if (cs->cipher == NOISE_CIPHER_CHACHAPOLY)
		rc = crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, pt, ptlen,
		        ad, adlen, NULL, nonce, cs->k);
#ifdef HAVE_OPENSSL
	else if (cs->cipher == NOISE_CIPHER_AESGCM && gcm_ready())
		rc = gcm_openssl(1, cs->k, nonce, ad, adlen, pt, ptlen, out, out + ptlen);
#endif
	else if (cs->cipher == NOISE_CIPHER_AESGCM)
		rc = crypto_aead_aes256gcm_encrypt_afternm(out, &clen, pt, ptlen,
		        ad, adlen, NULL, nonce, &cs->aes);
	return rc == 0 ? NOISE_OK : NOISE_EINVAL;
}

/* DECRYPT(k, n, ad, ct) into out (ctlen - tag bytes); no nonce checks. */
static int
cipher_decrypt(struct noise_cs *cs, uint64_t n, const uint8_t *ad, size_t adlen,
               const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	uint8_t nonce[NONCE_LEN], dummy = 0;
	unsigned long long mlen = 0;
	int rc = -1;

	if (out == NULL)
		out = &dummy;
	make_nonce(cs->cipher, n, nonce);
	if (cs->cipher == NOISE_CIPHER_CHACHAPOLY)
		rc = crypto_aead_chacha20poly1305_ietf_decrypt(out, &mlen, NULL, ct, ctlen,
		        ad, adlen, nonce, cs->k);
#ifdef HAVE_OPENSSL
	else if (cs->cipher == NOISE_CIPHER_AESGCM && gcm_ready()) {
		uint8_t tag[NOISE_TAGLEN];

		if (ctlen < NOISE_TAGLEN)
			return NOISE_EDECRYPT;
		memcpy(tag, ct + ctlen - NOISE_TAGLEN, NOISE_TAGLEN);
		rc = gcm_openssl(0, cs->k, nonce, ad, adlen, ct, ctlen - NOISE_TAGLEN, out, tag);
		if (rc != 0 && ctlen > NOISE_TAGLEN)
			sodium_memzero(out, ctlen - NOISE_TAGLEN);   /* never leak unverified text */
	}
#endif
	else if (cs->cipher == NOISE_CIPHER_AESGCM)
		rc = crypto_aead_aes256gcm_decrypt_afternm(out, &mlen, NULL, ct, ctlen,
		        ad, adlen, nonce, &cs->aes);
	else
		return NOISE_EINVAL;
	return rc == 0 ? NOISE_OK : NOISE_EDECRYPT;
}

/* EncryptWithAd on a keyed state: refuses nonce 2^64-1, advances n. */
static int
cs_encrypt(struct noise_cs *cs, const uint8_t *ad, size_t adlen,
           const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	int rc;

	if (cs->n == UINT64_MAX)
		return NOISE_ENONCE;
	rc = cipher_encrypt(cs, cs->n, ad, adlen, pt, ptlen, out);
	if (rc == NOISE_OK)
		cs->n++;
	return rc;
}

/* DecryptWithAd on a keyed state: refuses nonce 2^64-1, advances n on success. */
static int
cs_decrypt(struct noise_cs *cs, const uint8_t *ad, size_t adlen,
           const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	int rc;

	if (ctlen < NOISE_TAGLEN)
		return NOISE_ESHORT;
	if (cs->n == UINT64_MAX)
		return NOISE_ENONCE;
	rc = cipher_decrypt(cs, cs->n, ad, adlen, ct, ctlen, out);
	if (rc == NOISE_OK)
		cs->n++;
	return rc;
}

/* Transport encryption; a state without a key is refused. */
int
noise_cs_encrypt(struct noise_cs *cs, const uint8_t *ad, size_t adlen,
                 const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	if (cs == NULL || out == NULL || (pt == NULL && ptlen > 0) ||
	    (ad == NULL && adlen > 0) || !cs->has_key)
		return NOISE_EINVAL;
	if (ptlen > NOISE_MAX_MSG - NOISE_TAGLEN)
		return NOISE_ETOOBIG;
	return cs_encrypt(cs, ad, adlen, pt, ptlen, out);
}

/* Transport decryption; a state without a key is refused. */
int
noise_cs_decrypt(struct noise_cs *cs, const uint8_t *ad, size_t adlen,
                 const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	if (cs == NULL || (ct == NULL && ctlen > 0) || (ad == NULL && adlen > 0) ||
	    (out == NULL && ctlen > NOISE_TAGLEN) || !cs->has_key)
		return NOISE_EINVAL;
	if (ctlen > NOISE_MAX_MSG)
		return NOISE_ETOOBIG;
	return cs_decrypt(cs, ad, adlen, ct, ctlen, out);
}

/* Rekey(): k = first 32 bytes of ENCRYPT(k, 2^64-1, "", zeros); n is kept. */
int
noise_cs_rekey(struct noise_cs *cs)
{
	uint8_t zeros[NOISE_KEYLEN], tmp[NOISE_KEYLEN + NOISE_TAGLEN];
	int rc;

	if (cs == NULL || !cs->has_key)
		return NOISE_EINVAL;
	memset(zeros, 0, sizeof zeros);
	rc = cipher_encrypt(cs, UINT64_MAX, NULL, 0, zeros, sizeof zeros, tmp);
	if (rc != NOISE_OK)
		goto out;
	rc = cs_set_key(cs, tmp);
out:
	sodium_memzero(tmp, sizeof tmp);
	return rc;
}

/* Forget the key and nonce. */
void
noise_cs_wipe(struct noise_cs *cs)
{
	if (cs != NULL)
		sodium_memzero(cs, sizeof *cs);
}

/* ---- SymmetricState ----------------------------------------------------- */

/* MixHash(data): h = HASH(h || data). */
static void
mix_hash(struct noise_hs *hs, const uint8_t *data, size_t len)
{
	hash2(hs->h, NOISE_HASHLEN, data, len, hs->h);
}

/* MixKey(ikm): ck, k = HKDF(ck, ikm, 2); the cipher key is k truncated. */
static int
mix_key(struct noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t tk[NOISE_HASHLEN];
	int rc;

	noise_hkdf(hs->ck, ikm, len, hs->ck, tk, NULL);
	rc = cs_init_key(&hs->cs, tk);
	sodium_memzero(tk, sizeof tk);
	return rc;
}

/* EncryptAndHash(pt) into out; *outlen gets the ciphertext length. */
static int
encrypt_and_hash(struct noise_hs *hs, const uint8_t *pt, size_t len,
                 uint8_t *out, size_t *outlen)
{
	int rc = NOISE_OK;

	if (hs->cs.has_key) {
		rc = cs_encrypt(&hs->cs, hs->h, NOISE_HASHLEN, pt, len, out);
		if (rc != NOISE_OK)
			return rc;
		*outlen = len + NOISE_TAGLEN;
	} else {
		if (len > 0)
			memmove(out, pt, len);
		*outlen = len;
	}
	mix_hash(hs, out, *outlen);
	return rc;
}

/* DecryptAndHash(ct) into out; *outlen gets the plaintext length. */
static int
decrypt_and_hash(struct noise_hs *hs, const uint8_t *ct, size_t len,
                 uint8_t *out, size_t *outlen)
{
	uint8_t newh[NOISE_HASHLEN];
	int rc = NOISE_OK;

	/* hash first, so out may overlap ct */
	hash2(hs->h, NOISE_HASHLEN, ct, len, newh);
	if (hs->cs.has_key) {
		rc = cs_decrypt(&hs->cs, hs->h, NOISE_HASHLEN, ct, len, out);
		if (rc != NOISE_OK)
			goto out;
		*outlen = len - NOISE_TAGLEN;
	} else {
		if (len > 0)
			memmove(out, ct, len);
		*outlen = len;
	}
	memcpy(hs->h, newh, NOISE_HASHLEN);
out:
	sodium_memzero(newh, sizeof newh);
	return rc;
}

/* ---- HandshakeState ----------------------------------------------------- */

/* Find the pattern and cipher of a protocol name. */
static int
parse_name(const char *name, const struct pattern **pat, enum noise_cipher *cipher)
{
	static const char prefix[] = "Noise_", dh[] = "25519_";
	const char *p, *sep;
	size_t i, plen;

	if (strnlen(name, NAME_MAX_LEN + 1) > NAME_MAX_LEN)
		return NOISE_EUNSUP;
	if (strncmp(name, prefix, sizeof prefix - 1) != 0)
		return NOISE_EUNSUP;
	p = name + sizeof prefix - 1;
	sep = strchr(p, '_');
	if (sep == NULL)
		return NOISE_EUNSUP;
	plen = (size_t)(sep - p);

	*pat = NULL;
	for (i = 0; i < NPATTERNS; i++) {
		if (strlen(patterns[i].name) == plen &&
		    memcmp(patterns[i].name, p, plen) == 0)
			*pat = &patterns[i];
	}
	if (*pat == NULL)
		return NOISE_EUNSUP;

	p = sep + 1;
	if (strncmp(p, dh, sizeof dh - 1) != 0)
		return NOISE_EUNSUP;
	p += sizeof dh - 1;
	if (strcmp(p, "ChaChaPoly_BLAKE2b") == 0)
		*cipher = NOISE_CIPHER_CHACHAPOLY;
	else if (strcmp(p, "AESGCM_BLAKE2b") == 0)
		*cipher = NOISE_CIPHER_AESGCM;
	else
		return NOISE_EUNSUP;
	return NOISE_OK;
}

/* Whether the message at idx is written by the initiator. */
static int
initiator_writes(int idx)
{
	return idx % 2 == 0;
}

/* Whether this side's static key is used: in its pre-message or a message. */
static int
needs_local_static(const struct noise_hs *hs, uint8_t pre_local)
{
	int i, j;

	if (pre_local & PRE_S)
		return 1;
	for (i = 0; i < hs->nmsgs; i++) {
		if (initiator_writes(i) != hs->initiator)
			continue;
		for (j = 0; j < hs->ntokens[i]; j++)
			if (hs->tokens[i][j] == T_S)
				return 1;
	}
	return 0;
}

/* Mix one side's pre-message public keys into h (e before s). */
static void
mix_premessage(struct noise_hs *hs, uint8_t pre, int local)
{
	if (pre & PRE_E)
		mix_hash(hs, local ? hs->e_pub : hs->re, NOISE_DHLEN);
	if (pre & PRE_S)
		mix_hash(hs, local ? hs->s_pub : hs->rs, NOISE_DHLEN);
}

/* Wipe private keys, chaining key and cipher; h and public keys stay. */
static void
wipe_secrets(struct noise_hs *hs)
{
	sodium_memzero(hs->s_priv, sizeof hs->s_priv);
	sodium_memzero(hs->e_priv, sizeof hs->e_priv);
	sodium_memzero(hs->ck, sizeof hs->ck);
	sodium_memzero(&hs->cs, sizeof hs->cs);
	hs->has_s = 0;
	hs->fixed_e = 0;
}

/* Set up a HandshakeState: Initialize() from section 5.3. */
int
noise_hs_init(struct noise_hs *hs, const char *protocol, int initiator,
              const uint8_t *prologue, size_t prologue_len,
              const uint8_t *s_priv, const uint8_t *e_priv,
              const uint8_t *rs, const uint8_t *re)
{
	const struct pattern *pat = NULL;
	enum noise_cipher cipher = NOISE_CIPHER_CHACHAPOLY;
	uint8_t pre_local, pre_remote;
	size_t namelen;
	int rc, i, j;

	if (hs == NULL)
		return NOISE_EINVAL;
	memset(hs, 0, sizeof *hs);
	if (protocol == NULL || (prologue == NULL && prologue_len > 0)) {
		rc = NOISE_EINVAL;
		goto out;
	}
	if (noise_global_init() != 0) {
		rc = NOISE_EINVAL;
		goto out;
	}
	rc = parse_name(protocol, &pat, &cipher);
	if (rc != NOISE_OK)
		goto out;
	if (cipher == NOISE_CIPHER_AESGCM && !crypto_aead_aes256gcm_is_available()) {
		rc = NOISE_EUNSUP;
		goto out;
	}

	hs->initiator = initiator ? 1 : 0;
	hs->oneway = strlen(pat->name) == 1;
	for (i = 0; i < PAT_MSGS && pat->msgs[i][0] != T_END; i++) {
		for (j = 0; j < PAT_TOKENS && pat->msgs[i][j] != T_END; j++)
			hs->tokens[i][j] = pat->msgs[i][j];
		hs->ntokens[i] = j;
	}
	hs->nmsgs = i;

	pre_local = hs->initiator ? pat->pre_i : pat->pre_r;
	pre_remote = hs->initiator ? pat->pre_r : pat->pre_i;
	if ((needs_local_static(hs, pre_local) && s_priv == NULL) ||
	    ((pre_local & PRE_E) && e_priv == NULL) ||
	    ((pre_remote & PRE_S) && rs == NULL) ||
	    ((pre_remote & PRE_E) && re == NULL)) {
		rc = NOISE_EINVAL;
		goto out;
	}

	if (s_priv != NULL) {
		memcpy(hs->s_priv, s_priv, NOISE_DHLEN);
		noise_pubkey(hs->s_priv, hs->s_pub);
		hs->has_s = 1;
	}
	if (e_priv != NULL) {
		memcpy(hs->e_priv, e_priv, NOISE_DHLEN);
		noise_pubkey(hs->e_priv, hs->e_pub);
		hs->fixed_e = 1;
		hs->has_e = (pre_local & PRE_E) != 0;
	}
	if (pre_remote & PRE_S) {
		memcpy(hs->rs, rs, NOISE_DHLEN);
		hs->has_rs = 1;
	}
	if (pre_remote & PRE_E) {
		memcpy(hs->re, re, NOISE_DHLEN);
		hs->has_re = 1;
	}

	/* InitializeSymmetric(protocol_name) */
	namelen = strlen(protocol);
	if (namelen <= NOISE_HASHLEN)
		memcpy(hs->h, protocol, namelen);   /* the rest stays zero */
	else
		hash2((const uint8_t *)protocol, namelen, NULL, 0, hs->h);
	memcpy(hs->ck, hs->h, NOISE_HASHLEN);
	hs->cs.cipher = cipher;

	mix_hash(hs, prologue, prologue_len);
	mix_premessage(hs, pat->pre_i, hs->initiator);
	mix_premessage(hs, pat->pre_r, !hs->initiator);
	rc = NOISE_OK;
out:
	if (rc != NOISE_OK) {
		sodium_memzero(hs, sizeof *hs);
		hs->failed = 1;
	}
	return rc;
}

/* What the caller must do next; a spent (split) state reports FAILED. */
enum noise_action
noise_hs_action(const struct noise_hs *hs)
{
	if (hs == NULL || hs->failed || hs->nmsgs <= 0 || hs->msg_idx > hs->nmsgs)
		return NOISE_ACTION_FAILED;
	if (hs->msg_idx == hs->nmsgs)
		return NOISE_ACTION_SPLIT;
	return initiator_writes(hs->msg_idx) == hs->initiator ?
	    NOISE_ACTION_WRITE : NOISE_ACTION_READ;
}

/* Bytes the tokens of message idx take; *keyed: whether the payload is encrypted. */
static size_t
tokens_len(const struct noise_hs *hs, int idx, int *keyed)
{
	int j, k = hs->cs.has_key;
	size_t n = 0;

	for (j = 0; j < hs->ntokens[idx]; j++) {
		switch (hs->tokens[idx][j]) {
		case T_E:
			n += NOISE_DHLEN;
			break;
		case T_S:
			n += NOISE_DHLEN + (k ? NOISE_TAGLEN : 0);
			break;
		default:
			k = 1;   /* every DH token ends in MixKey */
			break;
		}
	}
	*keyed = k;
	return n;
}

/* Perform a DH token and MixKey() the result. */
static int
dh_token(struct noise_hs *hs, uint8_t tok)
{
	const uint8_t *priv = NULL, *pub = NULL;
	int have_priv = 0, have_pub = 0, rc;
	uint8_t shared[NOISE_DHLEN];
	int use_e, use_re;

	switch (tok) {
	case T_EE: use_e = 1; use_re = 1; break;
	case T_ES: use_e = hs->initiator; use_re = !hs->initiator; break;
	case T_SE: use_e = !hs->initiator; use_re = hs->initiator; break;
	case T_SS: use_e = 0; use_re = 0; break;
	default:   return NOISE_EINVAL;
	}
	if (use_e) {
		priv = hs->e_priv;
		have_priv = hs->has_e;
	} else {
		priv = hs->s_priv;
		have_priv = hs->has_s;
	}
	if (use_re) {
		pub = hs->re;
		have_pub = hs->has_re;
	} else {
		pub = hs->rs;
		have_pub = hs->has_rs;
	}
	if (!have_priv || !have_pub)
		return NOISE_EINVAL;

	if (crypto_scalarmult(shared, priv, pub) != 0) {
		rc = NOISE_EDH;
		goto out;
	}
	rc = mix_key(hs, shared, sizeof shared);
out:
	sodium_memzero(shared, sizeof shared);
	return rc;
}

/* Write one token at out + *off (room was checked by the caller). */
static int
write_token(struct noise_hs *hs, uint8_t tok, uint8_t *out, size_t *off)
{
	size_t n = 0;
	int rc;

	switch (tok) {
	case T_E:
		if (hs->has_e)
			return NOISE_EINVAL;
		if (!hs->fixed_e)
			noise_keypair(hs->e_priv, hs->e_pub);
		hs->has_e = 1;
		memcpy(out + *off, hs->e_pub, NOISE_DHLEN);
		mix_hash(hs, hs->e_pub, NOISE_DHLEN);
		*off += NOISE_DHLEN;
		return NOISE_OK;
	case T_S:
		if (!hs->has_s)
			return NOISE_EINVAL;
		rc = encrypt_and_hash(hs, hs->s_pub, NOISE_DHLEN, out + *off, &n);
		if (rc == NOISE_OK)
			*off += n;
		return rc;
	default:
		return dh_token(hs, tok);
	}
}

/* WriteMessage(): tokens, then the encrypted payload. */
int
noise_hs_write(struct noise_hs *hs, const uint8_t *payload, size_t plen,
               uint8_t *out, size_t outmax, size_t *outlen)
{
	size_t need, off = 0, n = 0;
	int rc, keyed, j, idx;

	if (hs == NULL || outlen == NULL || (payload == NULL && plen > 0) ||
	    (out == NULL && outmax > 0))
		return NOISE_EINVAL;
	*outlen = 0;
	/* errors found before anything is processed leave the state as it was */
	if (noise_hs_action(hs) != NOISE_ACTION_WRITE)
		return NOISE_EINVAL;
	if (plen > NOISE_MAX_MSG)
		return NOISE_ETOOBIG;
	idx = hs->msg_idx;
	need = tokens_len(hs, idx, &keyed) + plen + (keyed ? NOISE_TAGLEN : 0);
	if (need > NOISE_MAX_MSG || need > outmax)
		return NOISE_ETOOBIG;

	for (j = 0; j < hs->ntokens[idx]; j++) {
		rc = write_token(hs, hs->tokens[idx][j], out, &off);
		if (rc != NOISE_OK)
			goto out;
	}
	rc = encrypt_and_hash(hs, payload, plen, out + off, &n);
	if (rc != NOISE_OK)
		goto out;
	off += n;
	if (off != need) {   /* cannot happen: the size was computed from the same tokens */
		rc = NOISE_EINVAL;
		goto out;
	}
	hs->msg_idx++;
	*outlen = off;
out:
	if (rc != NOISE_OK) {
		hs->failed = 1;
		wipe_secrets(hs);
	}
	return rc;
}

/* Read one token from msg + *off, checking the remaining length. */
static int
read_token(struct noise_hs *hs, uint8_t tok, const uint8_t *msg, size_t mlen,
           size_t *off)
{
	uint8_t tmp[NOISE_DHLEN];
	size_t need, n = 0;
	int rc;

	switch (tok) {
	case T_E:
		if (mlen - *off < NOISE_DHLEN)
			return NOISE_ESHORT;
		if (hs->has_re)
			return NOISE_EINVAL;
		memcpy(hs->re, msg + *off, NOISE_DHLEN);
		hs->has_re = 1;
		mix_hash(hs, hs->re, NOISE_DHLEN);
		*off += NOISE_DHLEN;
		return NOISE_OK;
	case T_S:
		need = NOISE_DHLEN + (hs->cs.has_key ? NOISE_TAGLEN : 0);
		if (mlen - *off < need)
			return NOISE_ESHORT;
		if (hs->has_rs)
			return NOISE_EINVAL;
		rc = decrypt_and_hash(hs, msg + *off, need, tmp, &n);
		if (rc == NOISE_OK && n != NOISE_DHLEN)
			rc = NOISE_EINVAL;
		if (rc == NOISE_OK) {
			memcpy(hs->rs, tmp, NOISE_DHLEN);
			hs->has_rs = 1;
			*off += need;
		}
		return rc;
	default:
		return dh_token(hs, tok);
	}
}

/* ReadMessage(): tokens, then the payload; any failure fails the state. */
int
noise_hs_read(struct noise_hs *hs, const uint8_t *msg, size_t mlen,
              uint8_t *payload, size_t pmax, size_t *plen)
{
	size_t off = 0, rem, n = 0;
	int rc, j, idx;

	if (hs == NULL)
		return NOISE_EINVAL;
	if (plen != NULL)
		*plen = 0;
	if (plen == NULL || (msg == NULL && mlen > 0) || (payload == NULL && pmax > 0) ||
	    noise_hs_action(hs) != NOISE_ACTION_READ) {
		rc = NOISE_EINVAL;
		goto out;
	}
	if (mlen > NOISE_MAX_MSG) {
		rc = NOISE_ETOOBIG;
		goto out;
	}
	idx = hs->msg_idx;
	for (j = 0; j < hs->ntokens[idx]; j++) {
		rc = read_token(hs, hs->tokens[idx][j], msg, mlen, &off);
		if (rc != NOISE_OK)
			goto out;
	}
	rem = mlen - off;
	if (hs->cs.has_key && rem < NOISE_TAGLEN) {
		rc = NOISE_ESHORT;
		goto out;
	}
	if (rem - (hs->cs.has_key ? NOISE_TAGLEN : 0) > pmax) {
		rc = NOISE_ETOOBIG;
		goto out;
	}
	rc = decrypt_and_hash(hs, msg + off, rem, payload, &n);
	if (rc != NOISE_OK)
		goto out;
	hs->msg_idx++;
	*plen = n;
out:
	if (rc != NOISE_OK) {
		hs->failed = 1;
		wipe_secrets(hs);
	}
	return rc;
}

/* Split(): the two transport states, oriented for this side. */
int
noise_hs_split(struct noise_hs *hs, struct noise_cs *send, struct noise_cs *recv)
{
	uint8_t k1[NOISE_HASHLEN], k2[NOISE_HASHLEN];
	struct noise_cs *c1, *c2;
	int rc;

	if (hs == NULL || send == NULL || recv == NULL || send == recv)
		return NOISE_EINVAL;
	if (noise_hs_action(hs) != NOISE_ACTION_SPLIT)
		return NOISE_EINVAL;

	noise_hkdf(hs->ck, NULL, 0, k1, k2, NULL);
	c1 = hs->initiator ? send : recv;   /* initiator -> responder */
	c2 = hs->initiator ? recv : send;   /* responder -> initiator */
	memset(c1, 0, sizeof *c1);
	memset(c2, 0, sizeof *c2);
	c1->cipher = c2->cipher = hs->cs.cipher;
	rc = cs_init_key(c1, k1);
	if (rc == NOISE_OK && !hs->oneway)
		rc = cs_init_key(c2, k2);
	if (rc != NOISE_OK) {
		noise_cs_wipe(c1);
		noise_cs_wipe(c2);
		hs->failed = 1;
	}
	wipe_secrets(hs);
	hs->msg_idx = hs->nmsgs + 1;   /* spent */
	sodium_memzero(k1, sizeof k1);
	sodium_memzero(k2, sizeof k2);
	return rc;
}

/* Copy the handshake hash h. */
void
noise_hs_hash(const struct noise_hs *hs, uint8_t out[NOISE_HASHLEN])
{
	if (hs != NULL && out != NULL)
		memcpy(out, hs->h, NOISE_HASHLEN);
}

/* Copy the remote static key, if known and the state has not failed. */
int
noise_hs_remote_static(const struct noise_hs *hs, uint8_t out[NOISE_DHLEN])
{
	if (hs == NULL || out == NULL || hs->failed || !hs->has_rs)
		return NOISE_EINVAL;
	memcpy(out, hs->rs, NOISE_DHLEN);
	return NOISE_OK;
}

/* Wipe all secrets; an unfinished handshake becomes failed. */
void
noise_hs_wipe(struct noise_hs *hs)
{
	if (hs == NULL)
		return;
	wipe_secrets(hs);
	if (hs->msg_idx <= hs->nmsgs)
		hs->failed = 1;
}
