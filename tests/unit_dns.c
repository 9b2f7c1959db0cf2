/* unit_dns.c - unit tests for the DNS answer parser (net/dns.c) and the TXT pin rule (app/race.c). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dns.h"
#include "identity.h"
#include "reach.h"
#include "tap.h"

/* A message under construction. */
static struct buf m;

/* Append a name as labels (no compression). */
static void
put_name(const char *name)
{
	const char *p = name, *dot;

	while (*p != '\0') {
		dot = strchr(p, '.');
		if (dot == NULL)
			dot = p + strlen(p);
		buf_put_u8(&m, (uint8_t)(dot - p));
		buf_put(&m, p, (size_t)(dot - p));
		p = *dot ? dot + 1 : dot;
	}
	buf_put_u8(&m, 0);
}

/* Header and one question. */
static void
start(uint16_t flags, uint16_t an, const char *qname, uint16_t qtype)
{
	buf_reset(&m);
	buf_put_u16(&m, 0x1234);
	buf_put_u16(&m, flags);
	buf_put_u16(&m, 1);
	buf_put_u16(&m, an);
	buf_put_u16(&m, 0);
	buf_put_u16(&m, 0);
	put_name(qname);
	buf_put_u16(&m, qtype);
	buf_put_u16(&m, 1);
}

/* An answer record header whose owner points at the question name (offset 12). */
static void
rr(uint16_t type, uint16_t rdlen)
{
	buf_put_u16(&m, 0xc00c);
	buf_put_u16(&m, type);
	buf_put_u16(&m, 1);
	buf_put_u32(&m, 300);
	buf_put_u16(&m, rdlen);
}

/* Parse a copy of exactly n bytes (so ASan sees any read past the end). */
static int
srv_copy(const uint8_t *p, size_t n, struct dns_srv *out, size_t max, size_t *cnt)
{
	uint8_t *c = malloc(n ? n : 1);
	int rc;

	memcpy(c, p, n);
	rc = dns_parse_srv(c, n, out, max, cnt);
	free(c);
	return rc;
}

static int
txt_copy(const uint8_t *p, size_t n, struct dns_txt *out, size_t max, size_t *cnt)
{
	uint8_t *c = malloc(n ? n : 1);
	int rc;

	memcpy(c, p, n);
	rc = dns_parse_txt(c, n, out, max, cnt);
	free(c);
	return rc;
}

int
main(void)
{
	struct dns_srv srv[DNS_SRV_MAX];
	struct dns_txt txt[DNS_TXT_MAX], tp[4];
	uint8_t good[512], pk[ID_KEYLEN], k1[ID_KEYLEN], k2[ID_KEYLEN];
	char fp1[FP_LEN + 1], fp2[FP_LEN + 1], err[300];
	size_t n, glen, i, bad;
	int rc;

	buf_init(&m, 4096);

	/* SRV: two records, the second target compressed against the first */
	start(0x8180, 2, "_confab._tcp.example.test", 33);
	rr(33, 6 + 19);
	buf_put_u16(&m, 10);
	buf_put_u16(&m, 5);
	buf_put_u16(&m, 7470);
	put_name("home.example.test");
	{
		size_t target = buf_len(&m) - 19;   /* where "home.example.test" starts */

		rr(33, 6 + 2 + 2);
		buf_put_u16(&m, 20);
		buf_put_u16(&m, 0);
		buf_put_u16(&m, 7471);
		buf_put_u8(&m, 1);
		buf_put_u8(&m, 'b');
		buf_put_u16(&m, (uint16_t)(0xc000 | (target + 5)));   /* "example.test" */
	}
	glen = buf_len(&m);
	memcpy(good, buf_ptr(&m), glen);
	rc = srv_copy(good, glen, srv, DNS_SRV_MAX, &n);
	is_int(rc, DNS_OK, "an SRV answer parses");
	is_int(n, 2, "two records");
	ok(srv[0].prio == 10 && srv[0].weight == 5 && srv[0].port == 7470, "priority, weight, port");
	is_str(srv[0].target, "home.example.test", "the target");
	is_str(srv[1].target, "b.example.test", "a compressed target");
	is_int(srv_copy(good, glen, srv, 1, &n), DNS_OK, "with room for one");
	is_int(n, 1, "one is kept");
	is_int(txt_copy(good, glen, txt, DNS_TXT_MAX, &n), DNS_OK, "asked for TXT, an SRV answer...");
	is_int(n, 0, "...has none");

	/* every strict prefix is malformed, never a crash */
	for (i = 0, bad = 0; i < glen; i++)
		if (srv_copy(good, i, srv, DNS_SRV_MAX, &n) != DNS_EMALFORMED)
			bad++;
	is_int(bad, 0, "every truncation of it is malformed (%zu tried)", glen);

	/* header rules */
	good[2] &= 0x7f;   /* QR = 0: a query, not an answer */
	is_int(srv_copy(good, glen, srv, DNS_SRV_MAX, &n), DNS_EMALFORMED, "a query is not an answer");
	good[2] |= 0x80;
	good[3] = (uint8_t)((good[3] & 0xf0) | 3);
	is_int(srv_copy(good, glen, srv, DNS_SRV_MAX, &n), DNS_ENONAME, "NXDOMAIN is no such name");
	good[3] = (uint8_t)((good[3] & 0xf0) | 2);
	is_int(srv_copy(good, glen, srv, DNS_SRV_MAX, &n), DNS_EFAIL, "SERVFAIL is a failure");
	good[3] &= 0xf0;

	/* compression that loops or points forward */
	start(0x8180, 1, "x.test", 33);
	rr(33, 8);
	buf_put_u16(&m, 0);
	buf_put_u16(&m, 0);
	buf_put_u16(&m, 1);
	buf_put_u16(&m, (uint16_t)(0xc000 | (buf_len(&m))));   /* points at itself */
	is_int(srv_copy(buf_ptr(&m), buf_len(&m), srv, DNS_SRV_MAX, &n), DNS_EMALFORMED, "a pointer to itself");
	start(0x8180, 1, "x.test", 33);
	rr(33, 8);
	buf_put_u16(&m, 0);
	buf_put_u16(&m, 0);
	buf_put_u16(&m, 1);
	buf_put_u16(&m, (uint16_t)(0xc000 | (buf_len(&m) + 2)));   /* forwards */
	buf_put_u16(&m, 0);
	is_int(srv_copy(buf_ptr(&m), buf_len(&m), srv, DNS_SRV_MAX, &n), DNS_EMALFORMED, "a pointer forwards");
	start(0x8180, 1, "x.test", 33);
	buf_put_u16(&m, 0xc00e);   /* owner: into the middle of the question name, then ... */
	buf_put_u16(&m, 33);
	is_int(srv_copy(buf_ptr(&m), buf_len(&m), srv, DNS_SRV_MAX, &n), DNS_EMALFORMED,
	    "an answer cut after its owner");
	/* two pointers that point at each other: the second must be refused */
	buf_reset(&m);
	buf_put_u16(&m, 1);
	buf_put_u16(&m, 0x8180);
	buf_put_u16(&m, 1);
	buf_put_u16(&m, 0);
	buf_put_u16(&m, 0);
	buf_put_u16(&m, 0);
	buf_put_u16(&m, 0xc00e);   /* at 12: -> 14 (forward) */
	buf_put_u16(&m, 0xc00c);   /* at 14: -> 12 */
	buf_put_u32(&m, 0);
	is_int(srv_copy(buf_ptr(&m), buf_len(&m), srv, DNS_SRV_MAX, &n), DNS_EMALFORMED, "a pointer cycle");

	/* a name over 255 octets */
	start(0x8180, 1, "x.test", 33);
	rr(33, 6 + 5 * 52 + 1);
	buf_put_u16(&m, 0);
	buf_put_u16(&m, 0);
	buf_put_u16(&m, 1);
	for (i = 0; i < 52; i++)
		buf_put(&m, "\x04" "abcd", 5);
	buf_put_u8(&m, 0);
	is_int(srv_copy(buf_ptr(&m), buf_len(&m), srv, DNS_SRV_MAX, &n), DNS_EMALFORMED, "a 261-octet name");

	/* a target that is not a host name is skipped, not an error */
	start(0x8180, 1, "x.test", 33);
	rr(33, 6 + 6);
	buf_put_u16(&m, 0);
	buf_put_u16(&m, 0);
	buf_put_u16(&m, 1);
	buf_put(&m, "\x04" "a\033[b", 5);
	buf_put_u8(&m, 0);
	is_int(srv_copy(buf_ptr(&m), buf_len(&m), srv, DNS_SRV_MAX, &n), DNS_OK, "an escape in a target parses");
	is_int(n, 0, "but the record is dropped");
	/* rdlength that disagrees with the target */
	start(0x8180, 1, "x.test", 33);
	rr(33, 6 + 6 + 1);
	buf_put_u16(&m, 0);
	buf_put_u16(&m, 0);
	buf_put_u16(&m, 1);
	buf_put(&m, "\x04" "host", 5);
	buf_put_u8(&m, 0);
	buf_put_u8(&m, 0);
	is_int(srv_copy(buf_ptr(&m), buf_len(&m), srv, DNS_SRV_MAX, &n), DNS_EMALFORMED, "rdlength longer than the record");
	/* root target: "no such service" */
	start(0x8180, 1, "x.test", 33);
	rr(33, 7);
	buf_put_u16(&m, 0);
	buf_put_u16(&m, 0);
	buf_put_u16(&m, 0);
	buf_put_u8(&m, 0);
	is_int(srv_copy(buf_ptr(&m), buf_len(&m), srv, DNS_SRV_MAX, &n), DNS_OK, "a root target parses");
	ok(n == 1 && srv[0].target[0] == '\0', "as an empty target");

	/* TXT */
	start(0x8180, 2, "_confab._tcp.example.test", 16);
	rr(16, 1 + 5 + 1 + 0 + 1 + 3);
	buf_put(&m, "\x05" "hello", 6);
	buf_put_u8(&m, 0);                /* an empty string */
	buf_put(&m, "\x03" "a=b", 4);
	rr(16, 3);
	buf_put(&m, "\x02" "x\0", 3);     /* a NUL inside */
	glen = buf_len(&m);
	memcpy(good, buf_ptr(&m), glen);
	is_int(txt_copy(good, glen, txt, DNS_TXT_MAX, &n), DNS_OK, "a TXT answer parses");
	is_int(n, 4, "four strings");
	ok(txt[0].len == 5 && strcmp(txt[0].s, "hello") == 0, "the first");
	ok(txt[1].len == 0, "an empty one");
	ok(txt[3].len == 2 && memcmp(txt[3].s, "x\0", 2) == 0, "a NUL kept with its length");
	for (i = 0, bad = 0; i < glen; i++)
		if (txt_copy(good, i, txt, DNS_TXT_MAX, &n) != DNS_EMALFORMED)
			bad++;
	is_int(bad, 0, "every truncation of it is malformed");
	start(0x8180, 1, "x.test", 16);
	rr(16, 4);
	buf_put(&m, "\x09" "abc", 4);     /* string longer than the record */
	buf_put(&m, "defghi", 6);
	is_int(txt_copy(buf_ptr(&m), buf_len(&m), txt, DNS_TXT_MAX, &n), DNS_EMALFORMED, "a string overrunning its record");
	start(0x8180, 1, "x.test", 16);
	rr(16, 40 * 2);
	for (i = 0; i < 40; i++)
		buf_put(&m, "\x01" "z", 2);
	is_int(txt_copy(buf_ptr(&m), buf_len(&m), txt, DNS_TXT_MAX, &n), DNS_OK, "40 strings parse");
	is_int(n, DNS_TXT_MAX, "at most %d are kept", DNS_TXT_MAX);

	/* host names */
	ok(dns_name_ok("example.test") && dns_name_ok("a") && dns_name_ok("_confab._tcp.x-y.test"), "names");
	ok(!dns_name_ok("") && !dns_name_ok(".a") && !dns_name_ok("a.") && !dns_name_ok("a..b") &&
	    !dns_name_ok("a b") && !dns_name_ok("a:1") && !dns_name_ok("a@b"), "not names");

	/* the TXT pin: "user=FINGERPRINT" */
	for (i = 0; i < ID_KEYLEN; i++) {
		k1[i] = (uint8_t)i;
		k2[i] = (uint8_t)(255 - i);
	}
	fp_encode(k1, fp1);
	fp_encode(k2, fp2);
	memset(tp, 0, sizeof tp);
	tp[0].len = (size_t)snprintf(tp[0].s, sizeof tp[0].s, "carol=%s", fp2);
	tp[1].len = (size_t)snprintf(tp[1].s, sizeof tp[1].s, "Alice=%s", fp1);
	tp[2].len = (size_t)snprintf(tp[2].s, sizeof tp[2].s, "v=spf1 -all");
	is_int(reach_txt_pin(tp, 3, "alice", pk, err, sizeof err), 1, "alice's pin is found (names without case)");
	is_mem(pk, k1, ID_KEYLEN, "and is her key");
	is_int(reach_txt_pin(tp, 3, "dave", pk, err, sizeof err), -1, "dave is not listed");
	ok(strstr(err, "dave") && strstr(err, "carol, Alice") && !strstr(err, "v,"),
	    "the error lists who is (not the SPF string): %s", err);
	is_int(reach_txt_pin(tp + 2, 1, "alice", pk, err, sizeof err), 0, "no user=... strings: no pin");
	tp[3].len = (size_t)snprintf(tp[3].s, sizeof tp[3].s, "alice=%s", fp2);
	is_int(reach_txt_pin(tp, 4, "alice", pk, err, sizeof err), -1, "two different keys for alice");
	ok(strstr(err, "two different") != NULL, "are refused: %s", err);
	tp[3].len = (size_t)snprintf(tp[3].s, sizeof tp[3].s, "alice=%s", fp1);
	is_int(reach_txt_pin(tp, 4, "alice", pk, err, sizeof err), 1, "the same key twice is fine");
	tp[1].len = (size_t)snprintf(tp[1].s, sizeof tp[1].s, "alice=%.50s", fp1);
	is_int(reach_txt_pin(tp, 2, "alice", pk, err, sizeof err), -1, "a short fingerprint is refused");
	tp[1].len = (size_t)snprintf(tp[1].s, sizeof tp[1].s, "alice=%.51su", fp1);
	is_int(reach_txt_pin(tp, 2, "alice", pk, err, sizeof err), -1, "a fingerprint with a bad character is refused");
	tp[1].len = 8;
	memcpy(tp[1].s, "alice=\0x", 8);
	is_int(reach_txt_pin(tp + 1, 1, "alice", pk, err, sizeof err), 0, "a string with a NUL is ignored");

	buf_free(&m);
	return tap_done();
}
