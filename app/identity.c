/* identity.c - our key pair on disk and fingerprints. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "identity.h"
#include "noise.h"
#include "persist.h"

#define ID_MAGIC "confab-identity-v1 "

static const char b32[] = "0123456789abcdefghjkmnpqrstvwxyz";   /* Crockford */

/* Map one typed character to its Crockford value, or -1. */
static int
b32_value(int c)
{
	const char *p;

	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	if (c == 'o')
		c = '0';
	if (c == 'i' || c == 'l')
		c = '1';
	if (c == '\0' || (p = strchr(b32, c)) == NULL)
		return -1;
	return (int)(p - b32);
}

/* Encode a public key as a fingerprint. */
void
fp_encode(const uint8_t key[ID_KEYLEN], char out[FP_LEN + 1])
{
	unsigned int acc = 0, bits = 0;
	size_t i, o = 0;

	for (i = 0; i < ID_KEYLEN; i++) {
		acc = (acc << 8) | key[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = b32[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

/* Normalise a typed fingerprint or prefix. */
int
fp_normalise(const char *in, char *out, size_t outlen)
{
	size_t n = 0;
	int v;

	if (outlen == 0)
		return -1;
	for (; *in != '\0'; in++) {
		if ((v = b32_value((unsigned char)*in)) == -1)
			return -1;
		if (n + 1 >= outlen)
			return -1;
		out[n++] = b32[v];
	}
	out[n] = '\0';
	return (int)n;
}

/* Decode a full fingerprint. */
int
fp_decode(const char *text, uint8_t key[ID_KEYLEN])
{
	unsigned int acc = 0, bits = 0;
	size_t i, o = 0;
	int v;

	if (strlen(text) != FP_LEN)
		return -1;
	for (i = 0; i < FP_LEN; i++) {
		if ((v = b32_value((unsigned char)text[i])) == -1)
			return -1;
		acc = (acc << 5) | (unsigned int)v;
		bits += 5;
		if (bits >= 8) {
			key[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	/* 52 * 5 = 260 bits: the last 4 must be zero padding */
	if (o != ID_KEYLEN || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	return 0;
}

/* Read the key file at path into id. */
static int
read_key(struct identity *id, const char *path, char *err, size_t errlen)
{
	char line[128], *p;
	struct stat st;
	FILE *f = NULL;
	size_t binlen;
	int rc = -1;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0)
		fchmod(fileno(f), st.st_mode & 0700);   /* tighten a loosened file */
	if (fgets(line, sizeof line, f) == NULL || strncmp(line, ID_MAGIC, strlen(ID_MAGIC)) != 0) {
		snprintf(err, errlen, "%s: not a confab identity file", path);
		goto out;
	}
	p = line + strlen(ID_MAGIC);
	p[strcspn(p, "\r\n")] = '\0';
	if (sodium_hex2bin(id->priv, ID_KEYLEN, p, strlen(p), NULL, &binlen, NULL) != 0 ||
	    binlen != ID_KEYLEN) {
		snprintf(err, errlen, "%s: damaged identity key", path);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(line, sizeof line);
	if (f != NULL)
		fclose(f);
	return rc;
}

/* persist_writer_fn: the private key of arg (a struct identity). */
static int
write_key_line(FILE *f, void *arg)
{
	struct identity *id = arg;
	char hex[ID_KEYLEN * 2 + 1];
	int rc;

	sodium_bin2hex(hex, sizeof hex, id->priv, ID_KEYLEN);
	rc = fprintf(f, "%s%s\n", ID_MAGIC, hex) < 0 ? -1 : 0;
	sodium_memzero(hex, sizeof hex);
	return rc;
}

/* Write a fresh key to path atomically with mode 0600. */
static int
write_key(struct identity *id, const char *path, char *err, size_t errlen)
{
	switch (persist_atomic_write(path, 0600, PERSIST_EXCL, write_key_line, id, err, errlen)) {
	case 0:
		return 0;
	case 1:   /* another instance created the file meanwhile: keep theirs */
		return read_key(id, path, err, errlen);
	default:
		return -1;
	}
}

/* Load or create the identity. */
int
identity_load(struct identity *id, const char *path, char *err, size_t errlen)
{
	memset(id, 0, sizeof *id);
	if (noise_global_init() != 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	if (access(path, F_OK) == 0) {
		if (read_key(id, path, err, errlen) == -1)
			return -1;
	} else {
		noise_keypair(id->priv, id->pub);
		if (write_key(id, path, err, errlen) == -1)
			return -1;
	}
	noise_pubkey(id->priv, id->pub);
	fp_encode(id->pub, id->fp);
	return 0;
}

/* Wipe the private key. */
void
identity_wipe(struct identity *id)
{
	sodium_memzero(id, sizeof *id);
}
