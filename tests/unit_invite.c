/* unit_invite.c - unit tests for app/invite.c: encode/decode, typo detection, malformed codes. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invite.h"
#include "sock.h"
#include "tap.h"

static uint8_t key[ID_KEYLEN];

/* A sample invite: external IPv4, a LAN IPv4, an IPv6 address and a DNS name. */
static void
sample(struct invite *inv)
{
	struct sockaddr_storage ss;
	socklen_t len;

	memset(inv, 0, sizeof *inv);
	memcpy(inv->key, key, ID_KEYLEN);
	sock_parse("11.77.0.1:40123", 0, &ss, &len);
	invite_add_addr(inv, (struct sockaddr *)&ss, len);
	sock_parse("192.168.1.20:7470", 0, &ss, &len);
	invite_add_addr(inv, (struct sockaddr *)&ss, len);
	sock_parse("[2001:db8::42]:7470", 0, &ss, &len);
	invite_add_addr(inv, (struct sockaddr *)&ss, len);
	invite_add_name(inv, "home.example.org", 7471);
}

static int dec(const char *text, struct invite *inv, char *err, size_t errlen);

/* Candidate type 4: a v3 onion address and port, 37 bytes. */
static void
test_onion(void)
{
	static const char id[] = "vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd.onion";
	char code[INVITE_TEXT_MAX], err[300], t[100], upper[80];
	uint8_t raw[ID_KEYLEN + 64];
	struct invite inv, back;
	size_t i, at;

	memset(&inv, 0, sizeof inv);
	memcpy(inv.key, key, ID_KEYLEN);
	is_int(invite_add_onion(&inv, id, 7470), 0, "an onion candidate");
	for (i = 0; id[i] != '\0'; i++)
		upper[i] = (char)toupper((unsigned char)id[i]);
	upper[i] = '\0';
	is_int(invite_add_onion(&inv, upper, 7470), 0, "the same in upper case");
	is_int(inv.n, 1, "is a duplicate");
	is_int(invite_add_onion(&inv, "vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyya.onion", 7470), -1,
	    "an address whose version byte is not 3 is refused");
	is_int(invite_add_onion(&inv, "short.onion", 7470), -1, "a short one is refused");
	is_int(invite_add_onion(&inv, id, 0), -1, "port 0 is refused");
	ok(invite_encode(&inv, code, sizeof code) > 0, "encodes: %s", code);
	is_int(dec(code, &back, err, sizeof err), 0, "decodes: %s", err);
	ok(back.n == 1 && back.c[0].kind == INV_ONION && back.c[0].port == 7470, "one onion candidate, port 7470");
	invite_cand_text(&back.c[0], t, sizeof t);
	is_str(t, "vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd.onion:7470", "read back as text");

	/* the raw candidate: type 4, length 37, port, 35 bytes */
	memcpy(raw, key, ID_KEYLEN);
	at = ID_KEYLEN;
	raw[at] = 4;
	raw[at + 1] = 37;
	raw[at + 2] = 0x1d;
	raw[at + 3] = 0x2e;
	memset(raw + at + 4, 0x55, 34);
	raw[at + 4 + 34] = 3;
	invite_encode_raw(raw, at + 39, 1, code, sizeof code);
	is_int(dec(code, &back, err, sizeof err), 0, "any 32-byte key with version 3 decodes: %s", err);
	raw[at + 4 + 34] = 4;
	invite_encode_raw(raw, at + 39, 1, code, sizeof code);
	is_int(dec(code, &back, err, sizeof err), -1, "version 4 is rejected");
	raw[at + 4 + 34] = 3;
	raw[at + 1] = 36;
	invite_encode_raw(raw, at + 38, 1, code, sizeof code);
	is_int(dec(code, &back, err, sizeof err), -1, "length 36 is rejected");
	raw[at + 1] = 37;
	raw[at + 2] = raw[at + 3] = 0;
	invite_encode_raw(raw, at + 39, 1, code, sizeof code);
	is_int(dec(code, &back, err, sizeof err), -1, "port 0 is rejected");
	invite_encode_raw(raw, at + 20, 1, code, sizeof code);
	is_int(dec(code, &back, err, sizeof err), -1, "a cut candidate is rejected");
}

/* Candidate type 5: an empty marker saying the address before it is a router's port mapping. */
static void
test_mapped(void)
{
	char code[INVITE_TEXT_MAX], err[300];
	uint8_t raw[ID_KEYLEN + 64];
	struct invite inv, back;
	size_t at;

	sample(&inv);
	inv.c[0].mapped = 1;
	ok(invite_encode(&inv, code, sizeof code) > 0, "a code with a mapped address encodes");
	is_int(dec(code, &back, err, sizeof err), 0, "and decodes: %s", err);
	ok(back.n == 4 && back.c[0].mapped && !back.c[1].mapped && !back.c[2].mapped && !back.c[3].mapped,
	    "only the first candidate is marked mapped");
	sample(&inv);
	invite_encode(&inv, code, sizeof code);
	dec(code, &back, err, sizeof err);
	ok(!back.c[0].mapped, "an unmarked address is not mapped");

	/* raw: an IPv4 candidate, then the marker */
	memcpy(raw, key, ID_KEYLEN);
	at = ID_KEYLEN;
	memcpy(raw + at, "\x01\x06\x0b\x4d\x00\x01\x9c\xbb\x05\x00", 10);
	invite_encode_raw(raw, at + 10, 1, code, sizeof code);
	is_int(dec(code, &back, err, sizeof err), 0, "IPv4 then a marker decodes: %s", err);
	ok(back.n == 1 && back.c[0].mapped, "the IPv4 address is marked mapped");
	raw[at + 9] = 1;
	raw[at + 10] = 0;
	invite_encode_raw(raw, at + 11, 1, code, sizeof code);
	is_int(dec(code, &back, err, sizeof err), -1, "a marker of length 1 is rejected");
	memcpy(raw + at, "\x05\x00", 2);
	invite_encode_raw(raw, at + 2, 1, code, sizeof code);
	is_int(dec(code, &back, err, sizeof err), -1, "a marker with no address before it is rejected");
	memcpy(raw + at, "\x03\x07\x1d\x2f" "a.org" "\x05\x00", 11);
	invite_encode_raw(raw, at + 11, 1, code, sizeof code);
	is_int(dec(code, &back, err, sizeof err), -1, "a marker after a DNS name is rejected");
}

/* Decode text; on failure copy the message to err. */
static int
dec(const char *text, struct invite *inv, char *err, size_t errlen)
{
	err[0] = '\0';
	return invite_decode(text, inv, err, errlen);
}

/* The symbol value a typed character stands for (-1: none), as the decoder reads it. */
static int
sym_of(char c)
{
	static const char a[] = "0123456789abcdefghjkmnpqrstvwxyz";
	const char *p;

	c = (char)tolower((unsigned char)c);
	if (c == 'o')
		c = '0';
	if (c == 'i' || c == 'l')
		c = '1';
	return c != '\0' && (p = strchr(a, c)) != NULL ? (int)(p - a) : -1;
}

/* Whether two codes mean the same to the decoder (case, o/0, i/l/1 folded). */
static int
same_code(const char *x, const char *y)
{
	size_t i, n = strlen(x);

	if (strlen(y) != n)
		return 0;
	for (i = 0; i < n; i++) {
		if (i < 6) {
			if (tolower((unsigned char)x[i]) != tolower((unsigned char)y[i]))
				return 0;
		} else if (sym_of(x[i]) != sym_of(y[i]) || sym_of(x[i]) == -1) {
			return 0;
		}
	}
	return 1;
}

/* Every single-character substitution and adjacent swap of code is rejected. */
static void
typos(const char *code)
{
	static const char pool[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.:/ ";
	char t[INVITE_TEXT_MAX], err[300];
	struct invite inv;
	size_t n = strlen(code), i, k, tried = 0, missed = 0, swaps = 0, smissed = 0;

	for (i = 0; i < n; i++) {
		for (k = 0; pool[k] != '\0'; k++) {
			memcpy(t, code, n + 1);
			t[i] = pool[k];
			if (same_code(t, code))
				continue;
			tried++;
			if (dec(t, &inv, err, sizeof err) == 0) {
				missed++;
				printf("#   accepted: %s\n", t);
			}
		}
	}
	ok(tried > n * 50, "%zu substitutions tried over %zu characters", tried, n);
	is_int(missed, 0, "every single-character substitution is rejected");
	for (i = 0; i + 1 < n; i++) {
		memcpy(t, code, n + 1);
		t[i] = code[i + 1];
		t[i + 1] = code[i];
		if (same_code(t, code))
			continue;
		swaps++;
		if (dec(t, &inv, err, sizeof err) == 0) {
			smissed++;
			printf("#   accepted: %s\n", t);
		}
	}
	ok(swaps > n / 2, "%zu adjacent transpositions tried", swaps);
	is_int(smissed, 0, "every adjacent transposition is rejected");
}

int
main(void)
{
	char code[INVITE_TEXT_MAX], code2[INVITE_TEXT_MAX], upper[INVITE_TEXT_MAX], err[300], t[64], fp[FP_LEN + 1];
	uint8_t raw[INVITE_PAYLOAD_MAX + 16];
	struct invite inv, back;
	struct sockaddr_storage ss;
	socklen_t len;
	size_t i, n;
	int rc;

	for (i = 0; i < ID_KEYLEN; i++)
		key[i] = (uint8_t)(i * 37 + 11);

	/* round trip */
	sample(&inv);
	is_int(inv.n, 4, "four candidates added");
	rc = invite_encode(&inv, code, sizeof code);
	ok(rc > 0 && (size_t)rc == strlen(code), "encodes (%d characters)", rc);
	printf("# %s\n", code);
	ok(strncmp(code, "confab1", 7) == 0, "starts with confab1");
	for (i = 0; code[i] != '\0' && isalnum((unsigned char)code[i]); i++)
		;
	ok(code[i] == '\0', "letters and digits only: one word to copy");
	fp_encode(key, fp);
	ok(strncmp(code + 7, fp, FP_LEN - 1) == 0, "the fingerprint can be read off the code (first 51 characters)");
	rc = dec(code, &back, err, sizeof err);
	is_int(rc, 0, "decodes: %s", err);
	is_mem(back.key, key, ID_KEYLEN, "the key survives");
	is_int(back.n, 4, "four candidates back");
	for (i = 0; i < back.n && i < 4; i++) {
		invite_cand_text(&back.c[i], t, sizeof t);
		printf("#   %s\n", t);
	}
	invite_cand_text(&back.c[0], t, sizeof t);
	is_str(t, "11.77.0.1:40123", "IPv4 with its port");
	invite_cand_text(&back.c[2], t, sizeof t);
	is_str(t, "[2001:db8::42]:7470", "IPv6 with its port");
	invite_cand_text(&back.c[3], t, sizeof t);
	is_str(t, "home.example.org:7471", "the DNS name with its port");
	ok(invite_encode(&back, code2, sizeof code2) > 0 && strcmp(code, code2) == 0, "re-encodes to the same code");
	for (i = 0; code[i] != '\0'; i++)
		upper[i] = (char)toupper((unsigned char)code[i]);
	upper[i] = '\0';
	is_int(dec(upper, &back, err, sizeof err), 0, "upper case decodes too");
	ok(invite_looks_like(code) && invite_looks_like(upper), "looks like an invite");
	ok(!invite_looks_like("confab.example.org:7470") && !invite_looks_like("10.0.0.1:7470") &&
	    !invite_looks_like("alice@example.org") && !invite_looks_like("confab1"),
	    "host names, addresses and NAME@DOMAIN do not");

	/* duplicates and limits */
	sock_parse("11.77.0.1:40123", 0, &ss, &len);
	is_int(invite_add_addr(&inv, (struct sockaddr *)&ss, len), 0, "a duplicate is accepted...");
	is_int(inv.n, 4, "...and not added");
	is_int(invite_add_name(&inv, "not a name", 1), -1, "a bad DNS name is refused");
	sock_parse("11.77.0.1:0", 0, &ss, &len);
	is_int(invite_add_addr(&inv, (struct sockaddr *)&ss, len), -1, "port 0 is refused");
	for (i = 0; inv.n < INVITE_MAX_CANDS; i++) {
		snprintf(t, sizeof t, "10.0.0.%zu:7470", i + 1);
		sock_parse(t, 0, &ss, &len);
		invite_add_addr(&inv, (struct sockaddr *)&ss, len);
	}
	sock_parse("10.9.9.9:7470", 0, &ss, &len);
	is_int(invite_add_addr(&inv, (struct sockaddr *)&ss, len), -1, "a 17th candidate is refused");
	ok(invite_encode(&inv, code2, sizeof code2) > 0, "16 candidates still fit a code (%zu characters)",
	    strlen(code2));
	is_int(dec(code2, &back, err, sizeof err), 0, "and decode");
	is_int(back.n, INVITE_MAX_CANDS, "all 16");

	/* typos: the point of the check symbols */
	typos(code);

	/* clear messages */
	is_int(dec("hello", &back, err, sizeof err), -1, "a word is not a code");
	ok(strstr(err, "not an invite code") != NULL, "and says so: %s", err);
	memcpy(t, code, 40);
	t[40] = '\0';
	is_int(dec(t, &back, err, sizeof err), -1, "a code cut short is rejected");
	ok(strstr(err, "too short") != NULL, "as too short: %s", err);
	n = strlen(code);
	memcpy(code2, code, n - 3);
	code2[n - 3] = '\0';
	is_int(dec(code2, &back, err, sizeof err), -1, "a code missing its last characters is rejected");
	ok(strstr(err, "typo") != NULL, "as a typo: %s", err);
	memcpy(code2, code, n + 1);
	code2[20] = 'u';
	is_int(dec(code2, &back, err, sizeof err), -1, "a character outside the alphabet is rejected");
	ok(strstr(err, "'u' at position 21") != NULL, "naming it and its position: %s", err);
	code2[20] = '\x01';
	dec(code2, &back, err, sizeof err);
	ok(strstr(err, "byte 0x01") != NULL, "a control byte is shown as a number: %s", err);
	memcpy(code2, code, n + 1);
	code2[30] = code[30] == 'a' ? 'b' : 'a';
	is_int(dec(code2, &back, err, sizeof err), -1, "one wrong character");
	ok(strstr(err, "typo") != NULL, "is called a typo: %s", err);

	/* another version, checksum fine */
	memcpy(raw, key, ID_KEYLEN);
	ok(invite_encode_raw(raw, ID_KEYLEN, 2, code2, sizeof code2) > 0, "a version 2 code can be made");
	is_int(dec(code2, &back, err, sizeof err), -1, "version 2 is rejected");
	ok(strstr(err, "version 2") != NULL && strstr(err, "reads version 1") != NULL, "with the versions named: %s", err);

	/* payloads that pass the checksum but make no sense */
	raw[ID_KEYLEN] = 1;    /* IPv4 TLV */
	raw[ID_KEYLEN + 1] = 5;
	memset(raw + ID_KEYLEN + 2, 9, 5);
	invite_encode_raw(raw, ID_KEYLEN + 7, 1, code2, sizeof code2);
	is_int(dec(code2, &back, err, sizeof err), -1, "an IPv4 candidate of 5 bytes is rejected");
	ok(strstr(err, "damaged") != NULL, "as damaged: %s", err);
	raw[ID_KEYLEN + 1] = 6;
	invite_encode_raw(raw, ID_KEYLEN + 5, 1, code2, sizeof code2);
	is_int(dec(code2, &back, err, sizeof err), -1, "a candidate cut short is rejected");
	raw[ID_KEYLEN] = 3;    /* name TLV */
	raw[ID_KEYLEN + 1] = 6;
	memcpy(raw + ID_KEYLEN + 2, "\x1c\xae" "a b", 6);
	invite_encode_raw(raw, ID_KEYLEN + 8, 1, code2, sizeof code2);
	is_int(dec(code2, &back, err, sizeof err), -1, "a name with a blank is rejected");
	raw[ID_KEYLEN] = 1;
	raw[ID_KEYLEN + 1] = 6;
	memset(raw + ID_KEYLEN + 2, 0, 6);
	invite_encode_raw(raw, ID_KEYLEN + 8, 1, code2, sizeof code2);
	is_int(dec(code2, &back, err, sizeof err), -1, "port 0 is rejected");
	raw[ID_KEYLEN] = 200;  /* a type from a later version */
	raw[ID_KEYLEN + 1] = 3;
	memcpy(raw + ID_KEYLEN + 2, "xyz", 3);
	raw[ID_KEYLEN + 5] = 1;
	raw[ID_KEYLEN + 6] = 6;
	memcpy(raw + ID_KEYLEN + 7, "\x0b\x4d\x00\x01\x1d\x2e", 6);
	invite_encode_raw(raw, ID_KEYLEN + 13, 1, code2, sizeof code2);
	is_int(dec(code2, &back, err, sizeof err), 0, "an unknown candidate type is skipped: %s", err);
	is_int(back.n, 1, "the known one is kept");
	invite_cand_text(&back.c[0], t, sizeof t);
	is_str(t, "11.77.0.1:7470", "and read right");
	invite_encode_raw(raw, ID_KEYLEN - 1, 1, code2, sizeof code2);
	is_int(dec(code2, &back, err, sizeof err), -1, "a payload shorter than a key is rejected");
	memset(raw, 0, sizeof raw);
	memcpy(raw, key, ID_KEYLEN);
	for (i = 0; i < 17; i++) {
		uint8_t *p = raw + ID_KEYLEN + i * 8;

		p[0] = 1;
		p[1] = 6;
		p[2] = 10;
		p[5] = (uint8_t)(i + 1);
		p[6] = 0x1d;
		p[7] = 0x2e;
	}
	invite_encode_raw(raw, ID_KEYLEN + 17 * 8, 1, code2, sizeof code2);
	is_int(dec(code2, &back, err, sizeof err), -1, "17 candidates are rejected");
	ok(strstr(err, "more than 16") != NULL, "saying so: %s", err);
	{
		char big[4000];

		memset(big, 'a', sizeof big - 1);
		memcpy(big, "confab1", 7);
		big[sizeof big - 1] = '\0';
		is_int(dec(big, &back, err, sizeof err), -1, "an over-long code is rejected");
		ok(strstr(err, "too long") != NULL, "as too long: %s", err);
	}
	memset(raw, 7, sizeof raw);
	is_int(invite_encode_raw(raw, INVITE_PAYLOAD_MAX, 1, code2, sizeof code2), INVITE_TEXT_MAX - 1,
	    "the longest payload fits the text bound exactly");
	is_int(invite_encode_raw(raw, INVITE_PAYLOAD_MAX + 1, 1, code2, sizeof code2), -1, "one byte more does not");
	test_onion();
	test_mapped();
	return tap_done();
}
