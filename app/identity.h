/* identity.h - our long-term key pair and the fingerprint text form of keys. */
#ifndef CONFAB_IDENTITY_H
#define CONFAB_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#define ID_KEYLEN        32
#define FP_LEN           52   /* Crockford base32 of 32 bytes, lower case */
#define FP_SHORT         8    /* the short form shown in lists */
#define FP_MIN_PREFIX    4    /* shortest prefix that may name a peer */

struct identity {
	uint8_t priv[ID_KEYLEN];
	uint8_t pub[ID_KEYLEN];
	char    fp[FP_LEN + 1];
};

/*
 * Load the identity from path, or create it (mode 0600, written atomically) if
 * the file does not exist.  Returns 0, or -1 with a message in err.
 */
int  identity_load(struct identity *, const char *path, char *err, size_t errlen);
/* Wipe the private key. */
void identity_wipe(struct identity *);

/* Encode a public key as a fingerprint (FP_LEN chars + NUL). */
void fp_encode(const uint8_t key[ID_KEYLEN], char out[FP_LEN + 1]);
/* Decode a full fingerprint (case-insensitive; i/l read as 1, o as 0). */
int  fp_decode(const char *text, uint8_t key[ID_KEYLEN]);
/*
 * Normalise a fingerprint or prefix typed by a person into canonical lower
 * case; returns its length, or -1 if it has a character that cannot occur.
 */
int  fp_normalise(const char *in, char *out, size_t outlen);

#endif
