/* noise.h - the Noise Protocol Framework (revision 34) over libsodium. */
#ifndef CONFAB_NOISE_H
#define CONFAB_NOISE_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

/*
 * Supported: DH 25519, hash BLAKE2b, ciphers ChaChaPoly and AESGCM (the latter
 * only where libsodium has hardware AES), and the fundamental one-way and
 * interactive handshake patterns without PSK modifiers: N K X NN NK NX XN XK
 * XX KN KK KX IN IK IX.  confab itself speaks Noise_XX_25519_*_BLAKE2b.
 */

#define NOISE_DHLEN     32
#define NOISE_KEYLEN    32
#define NOISE_HASHLEN   64
#define NOISE_TAGLEN    16
#define NOISE_MAX_MSG   65535   /* largest Noise message, handshake or transport */

#define NOISE_OK         0
#define NOISE_EINVAL    -1   /* bad argument or call out of order */
#define NOISE_EUNSUP    -2   /* protocol name not supported */
#define NOISE_EDECRYPT  -3   /* authentication failed */
#define NOISE_ESHORT    -4   /* message too short */
#define NOISE_ETOOBIG   -5   /* message or output would be too large */
#define NOISE_EDH       -6   /* DH produced an invalid (all-zero) result */
#define NOISE_ENONCE    -7   /* nonce space exhausted */

enum noise_cipher {
	NOISE_CIPHER_CHACHAPOLY = 1,
	NOISE_CIPHER_AESGCM = 2,
};

/* One direction's CipherState. */
struct noise_cs {
	enum noise_cipher cipher;
	int               has_key;
	uint64_t          n;
	uint8_t           k[NOISE_KEYLEN];
	crypto_aead_aes256gcm_state aes;   /* expanded key when cipher is AESGCM */
};

enum noise_action {
	NOISE_ACTION_WRITE = 1,   /* call noise_hs_write next */
	NOISE_ACTION_READ,        /* call noise_hs_read next */
	NOISE_ACTION_SPLIT,       /* handshake complete: call noise_hs_split */
	NOISE_ACTION_FAILED,      /* an error occurred; the state is unusable */
};

#define NOISE_MAX_TOKENS 8
#define NOISE_MAX_MSGS   8

struct noise_hs {
	/* pattern */
	int      oneway;
	int      nmsgs;
	uint8_t  tokens[NOISE_MAX_MSGS][NOISE_MAX_TOKENS];
	int      ntokens[NOISE_MAX_MSGS];
	int      msg_idx;
	int      initiator;
	int      failed;
	/* symmetric state */
	struct noise_cs cs;
	uint8_t  ck[NOISE_HASHLEN];
	uint8_t  h[NOISE_HASHLEN];
	/* keys (private halves are wiped by noise_hs_wipe) */
	int      has_s, has_e, has_rs, has_re;
	uint8_t  s_priv[NOISE_DHLEN], s_pub[NOISE_DHLEN];
	uint8_t  e_priv[NOISE_DHLEN], e_pub[NOISE_DHLEN];
	uint8_t  rs[NOISE_DHLEN], re[NOISE_DHLEN];
	int      fixed_e;   /* e was given by the caller (test vectors only) */
};

/* Initialise libsodium; returns 0 on success. Safe to call more than once. */
int  noise_global_init(void);
/* Whether this machine can run AESGCM (hardware AES as libsodium sees it). */
int  noise_aesgcm_available(void);
/* Which library runs AES-256-GCM: "libcrypto" (when built with it) or "libsodium". */
const char *noise_aesgcm_impl(void);
/* Tests: run AES-256-GCM with libcrypto (1) or libsodium (0); -1 if not built in. */
int  noise_aesgcm_use_libcrypto(int on);
/* Make a fresh X25519 key pair. */
void noise_keypair(uint8_t priv[NOISE_DHLEN], uint8_t pub[NOISE_DHLEN]);
/* Derive the public key of a private key. */
void noise_pubkey(const uint8_t priv[NOISE_DHLEN], uint8_t pub[NOISE_DHLEN]);

/*
 * Begin a handshake.  protocol is a full name such as
 * "Noise_XX_25519_ChaChaPoly_BLAKE2b".  s_priv is the local static private key
 * (NULL if the pattern needs none), e_priv a fixed ephemeral key for tests
 * (NULL: generate one when needed), rs/re the pre-known remote static and
 * ephemeral public keys where the pattern has pre-messages (else NULL).
 */
int  noise_hs_init(struct noise_hs *hs, const char *protocol, int initiator,
                   const uint8_t *prologue, size_t prologue_len,
                   const uint8_t *s_priv, const uint8_t *e_priv,
                   const uint8_t *rs, const uint8_t *re);
/* What the caller must do next (FAILED also after noise_hs_split). */
enum noise_action noise_hs_action(const struct noise_hs *hs);
/*
 * Write the next handshake message carrying payload into out (at most outmax
 * bytes); *outlen receives its length.  out must not overlap payload.  Bad
 * arguments, a call out of order or too small an out (NOISE_ETOOBIG) leave the
 * state untouched; a failure while writing marks it failed.
 */
int  noise_hs_write(struct noise_hs *hs, const uint8_t *payload, size_t plen,
                    uint8_t *out, size_t outmax, size_t *outlen);
/*
 * Read a handshake message; its decrypted payload goes to payload (at most
 * pmax bytes), its length to *plen.  Any failure marks the state failed.
 * payload must not overlap msg.
 */
int  noise_hs_read(struct noise_hs *hs, const uint8_t *msg, size_t mlen,
                   uint8_t *payload, size_t pmax, size_t *plen);
/*
 * After the last message: the two transport CipherStates, oriented for this
 * side (send encrypts what we send, recv decrypts what we receive).  For
 * one-way patterns the responder's send state (and the initiator's recv
 * state) has no key.  This wipes the handshake secrets; afterwards only
 * noise_hs_hash and noise_hs_remote_static remain useful.
 */
int  noise_hs_split(struct noise_hs *hs, struct noise_cs *send, struct noise_cs *recv);
/* The handshake hash h (channel binding), NOISE_HASHLEN bytes. */
void noise_hs_hash(const struct noise_hs *hs, uint8_t out[NOISE_HASHLEN]);
/* The remote static public key; NOISE_EINVAL if not known yet or failed. */
int  noise_hs_remote_static(const struct noise_hs *hs, uint8_t out[NOISE_DHLEN]);
/*
 * Wipe every secret in the handshake state (h and public keys stay, so this
 * may follow noise_hs_split); an unfinished handshake becomes failed.
 */
void noise_hs_wipe(struct noise_hs *hs);

/*
 * Transport encryption with associated data ad.  out needs ptlen + NOISE_TAGLEN
 * bytes.  The nonce advances on success; 2^64-1 is never used (NOISE_ENONCE).
 * A state without a key gives NOISE_EINVAL (never plaintext); ptlen +
 * NOISE_TAGLEN above NOISE_MAX_MSG gives NOISE_ETOOBIG.
 */
int  noise_cs_encrypt(struct noise_cs *cs, const uint8_t *ad, size_t adlen,
                      const uint8_t *pt, size_t ptlen, uint8_t *out);
/*
 * Decrypt ctlen bytes (tag included) into out (ctlen - NOISE_TAGLEN bytes).
 * On NOISE_EDECRYPT the nonce does not advance.
 */
int  noise_cs_decrypt(struct noise_cs *cs, const uint8_t *ad, size_t adlen,
                      const uint8_t *ct, size_t ctlen, uint8_t *out);
/* Rekey() from the specification. */
int  noise_cs_rekey(struct noise_cs *cs);
/* Wipe the key. */
void noise_cs_wipe(struct noise_cs *cs);

/*
 * HMAC-BLAKE2b (block 128, output 64) and Noise's HKDF, exposed for tests.
 * noise_hkdf: out2 and out3 may be NULL when fewer outputs are wanted.
 */
void noise_hmac(const uint8_t *key, size_t keylen, const uint8_t *data, size_t dlen,
                uint8_t out[NOISE_HASHLEN]);
void noise_hkdf(const uint8_t ck[NOISE_HASHLEN], const uint8_t *ikm, size_t ikmlen,
                uint8_t out1[NOISE_HASHLEN], uint8_t out2[NOISE_HASHLEN],
                uint8_t out3[NOISE_HASHLEN]);

const char *noise_strerror(int err);

#endif
