/* unit_identity.c - unit tests for app/identity.c: fingerprints and the key file. */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "identity.h"
#include "tap.h"

/* Known answers worked out by hand from the Crockford alphabet. */
static void
test_vectors(void)
{
	uint8_t key[ID_KEYLEN], back[ID_KEYLEN];
	char fp[FP_LEN + 1], want[FP_LEN + 1];

	/* 256 zero bits: 51 groups of five and one padded bit, all '0' */
	memset(key, 0, sizeof key);
	memset(want, '0', FP_LEN);
	want[FP_LEN] = '\0';
	fp_encode(key, fp);
	is_str(fp, want, "all-zero key is 52 zeros");

	/* 256 one bits: 51 groups of 11111 ('z'), then 1 + 0000 padding = 16 = 'g' */
	memset(key, 0xff, sizeof key);
	memset(want, 'z', FP_LEN - 1);
	want[FP_LEN - 1] = 'g';
	want[FP_LEN] = '\0';
	fp_encode(key, fp);
	is_str(fp, want, "all-ones key is 51 'z' then 'g'");
	is_int(fp_decode(fp, back), 0, "which decodes");
	is_mem(back, key, ID_KEYLEN, "back to all ones");

	/*
	 * 0x00 0x44 0x32 ...: the first bytes 00000000 01000100 00110010 group as
	 * 00000 00001 00010 00011 0010(0) = "01234".
	 */
	memset(key, 0, sizeof key);
	key[1] = 0x44;
	key[2] = 0x32;
	fp_encode(key, fp);
	ok(strncmp(fp, "01234", 5) == 0, "0x00 0x44 0x32 starts \"01234\" (%.8s)", fp);
	/* the last byte's low bit lands in the final character: 1 followed by 4 padding zeros */
	memset(key, 0, sizeof key);
	key[31] = 0x01;
	fp_encode(key, fp);
	is_int(fp[FP_LEN - 1], 'g', "the lowest bit alone makes the last character 'g'");
	is_int(fp[FP_LEN - 2], '0', "and the one before it '0'");
	is_int(strlen(fp), FP_LEN, "fingerprints are 52 characters");
}

/* Random keys survive encode and decode, in any case and with look-alikes. */
static void
test_roundtrip(void)
{
	uint8_t key[ID_KEYLEN], back[ID_KEYLEN];
	char fp[FP_LEN + 1], alt[FP_LEN + 1];
	int i, j, bad = 0, badalt = 0;

	for (i = 0; i < 2000; i++) {
		randombytes_buf(key, sizeof key);
		fp_encode(key, fp);
		if (strlen(fp) != FP_LEN || strspn(fp, "0123456789abcdefghjkmnpqrstvwxyz") != FP_LEN)
			bad++;
		memset(back, 0, sizeof back);
		if (fp_decode(fp, back) != 0 || memcmp(back, key, ID_KEYLEN) != 0)
			bad++;
		/* upper case, and 0/1 typed as O/I/L */
		for (j = 0; j < FP_LEN; j++) {
			char c = fp[j];

			if (c == '0')
				c = (j & 1) ? 'O' : 'o';
			else if (c == '1')
				c = "iIlL"[j & 3];
			else if (c >= 'a' && c <= 'z' && (j & 1))
				c = (char)(c - 'a' + 'A');
			alt[j] = c;
		}
		alt[FP_LEN] = '\0';
		memset(back, 0, sizeof back);
		if (fp_decode(alt, back) != 0 || memcmp(back, key, ID_KEYLEN) != 0)
			badalt++;
	}
	is_int(bad, 0, "2000 random keys round-trip through fingerprints");
	is_int(badalt, 0, "and through mixed-case fingerprints with o/i/l look-alikes");
}

/* Things that are not fingerprints. */
static void
test_decode_errors(void)
{
	uint8_t key[ID_KEYLEN];
	char fp[FP_LEN + 2], bad[FP_LEN + 2];
	static const char badchars[] = "uU!-_ *.\x7f\xc3";
	size_t i;
	int fails = 0;

	randombytes_buf(key, sizeof key);
	key[31] &= 0xfe;
	fp_encode(key, fp);
	is_int(fp_decode("", key), -1, "empty string refused");
	memcpy(bad, fp, FP_LEN - 1);
	bad[FP_LEN - 1] = '\0';
	is_int(fp_decode(bad, key), -1, "51 characters refused");
	memcpy(bad, fp, FP_LEN);
	bad[FP_LEN] = '0';
	bad[FP_LEN + 1] = '\0';
	is_int(fp_decode(bad, key), -1, "53 characters refused");
	for (i = 0; i < sizeof badchars - 1; i++) {
		memcpy(bad, fp, FP_LEN + 1);
		bad[(i * 7) % FP_LEN] = badchars[i];
		if (fp_decode(bad, key) != -1)
			fails++;
	}
	is_int(fails, 0, "u, punctuation, space, DEL and non-ASCII bytes refused");

	/* the last character carries 1 data bit and 4 padding bits that must be 0 */
	memcpy(bad, fp, FP_LEN + 1);
	bad[FP_LEN - 1] = '0';
	is_int(fp_decode(bad, key), 0, "last character '0' (bit 0, padding 0000) accepted");
	bad[FP_LEN - 1] = 'g';
	is_int(fp_decode(bad, key), 0, "last character 'g' (bit 1, padding 0000) accepted");
	fails = 0;
	for (i = 1; i < 32; i++) {
		if (i == 16)
			continue;
		bad[FP_LEN - 1] = "0123456789abcdefghjkmnpqrstvwxyz"[i];
		if (fp_decode(bad, key) != -1)
			fails++;
	}
	is_int(fails, 0, "the 30 last characters with non-zero padding bits are refused");
}

/* What people type, made canonical. */
static void
test_normalise(void)
{
	char out[64];

	is_int(fp_normalise("ABCDEF", out, sizeof out), 6, "upper case normalises");
	is_str(out, "abcdef", "to lower case");
	is_int(fp_normalise("IiLlOo", out, sizeof out), 6, "look-alikes normalise");
	is_str(out, "111100", "i and l to 1, o to 0");
	is_int(fp_normalise("Zz9", out, sizeof out), 3, "digits and z");
	is_str(out, "zz9", "kept");
	is_int(fp_normalise("", out, sizeof out), 0, "empty input has length 0");
	is_str(out, "", "and gives an empty string");
	is_int(fp_normalise("abcu", out, sizeof out), -1, "'u' is refused");
	is_int(fp_normalise("ab cd", out, sizeof out), -1, "a space is refused");
	is_int(fp_normalise("ab-cd", out, sizeof out), -1, "a dash is refused");
	is_int(fp_normalise("abcd", out, 4), -1, "4 characters do not fit 4 bytes with the NUL");
	is_int(fp_normalise("abcd", out, 5), 4, "but fit 5");
	is_str(out, "abcd", "exactly");
}

/* Count the entries of a directory other than . and .. */
static int
dir_entries(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Write text to path, replacing it. */
static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f;

	unlink(path);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* The key file: created once with mode 0600, then loaded as it is. */
static void
test_load(void)
{
	char dir[] = "/tmp/confab-unit-identity-XXXXXX", path[256], err[256];
	struct identity a, b;
	uint8_t pub[ID_KEYLEN];
	char fp[FP_LEN + 1];
	struct stat st;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof path, "%s/identity", dir);
	err[0] = '\0';
	is_int(identity_load(&a, path, err, sizeof err), 0, "identity created in an empty directory");
	ok(stat(path, &st) == 0 && S_ISREG(st.st_mode), "the key file exists");
	is_int(st.st_mode & 0777, 0600, "with mode 0600");
	is_int(dir_entries(dir), 1, "and no temporary file is left behind");
	crypto_scalarmult_base(pub, a.priv);
	is_mem(a.pub, pub, ID_KEYLEN, "the public key belongs to the private key");
	fp_encode(a.pub, fp);
	is_str(a.fp, fp, "the fingerprint is that of the public key");

	is_int(identity_load(&b, path, err, sizeof err), 0, "identity loaded again");
	is_mem(b.priv, a.priv, ID_KEYLEN, "same private key");
	is_mem(b.pub, a.pub, ID_KEYLEN, "same public key");
	is_str(b.fp, a.fp, "same fingerprint");

	/* a loosened file is tightened on load */
	chmod(path, 0644);
	is_int(identity_load(&b, path, err, sizeof err), 0, "loads with mode 0644");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "and is back to 0600");

	/* damage */
	{
		char line[200], hex[ID_KEYLEN * 2 + 1];
		int rc;

		sodium_bin2hex(hex, sizeof hex, a.priv, ID_KEYLEN);
		hex[10] = 'q';
		snprintf(line, sizeof line, "confab-identity-v1 %s\n", hex);
		write_file(path, line, 0600);
		err[0] = '\0';
		rc = identity_load(&b, path, err, sizeof err);
		is_int(rc, -1, "a key with a non-hex character is refused");
		ok(strstr(err, "damaged") != NULL, "with a message (%s)", err);

		sodium_bin2hex(hex, sizeof hex, a.priv, ID_KEYLEN);
		hex[40] = '\0';
		snprintf(line, sizeof line, "confab-identity-v1 %s\n", hex);
		write_file(path, line, 0600);
		is_int(identity_load(&b, path, err, sizeof err), -1, "a truncated key is refused");

		sodium_bin2hex(hex, sizeof hex, a.priv, ID_KEYLEN);
		snprintf(line, sizeof line, "confab-identity-v1 %s00\n", hex);
		write_file(path, line, 0600);
		is_int(identity_load(&b, path, err, sizeof err), -1, "an overlong key is refused");

		snprintf(line, sizeof line, "ssh-ed25519 %s\n", hex);
		write_file(path, line, 0600);
		err[0] = '\0';
		is_int(identity_load(&b, path, err, sizeof err), -1, "a file with another magic is refused");
		ok(strstr(err, "not a confab identity") != NULL, "with a message (%s)", err);

		write_file(path, "", 0600);
		is_int(identity_load(&b, path, err, sizeof err), -1, "an empty file is refused");
		ok(access(path, F_OK) == 0, "and is not replaced by a fresh key");

		/* the good file again, with a CRLF line end, still loads */
		snprintf(line, sizeof line, "confab-identity-v1 %s\r\n", hex);
		write_file(path, line, 0600);
		is_int(identity_load(&b, path, err, sizeof err), 0, "a CRLF line end is accepted");
		is_mem(b.priv, a.priv, ID_KEYLEN, "and gives the original key");
	}

	/* a directory that does not exist */
	snprintf(path, sizeof path, "%s/missing/identity", dir);
	err[0] = '\0';
	is_int(identity_load(&b, path, err, sizeof err), -1, "no identity in a missing directory");
	ok(err[0] != '\0', "with a message (%s)", err);

	identity_wipe(&b);
	{
		static const uint8_t zero[sizeof b] = { 0 };

		is_mem(&b, zero, sizeof b, "identity_wipe clears the whole struct");
	}
	snprintf(path, sizeof path, "%s/identity", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_vectors();
	test_roundtrip();
	test_decode_errors();
	test_normalise();
	test_load();
	return tap_done();
}
