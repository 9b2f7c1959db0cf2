/* fuzz_dns.c - libFuzzer target for the DNS answer parser (SRV, TXT) and the TXT pin rule. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "identity.h"
#include "reach.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any broken invariant is a crash for libFuzzer to report. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/*
 * Parse the input as a DNS response, for SRV and for TXT records.  Whatever is
 * accepted respects the caps; SRV targets are host names (or the root); TXT
 * strings are at most 255 bytes and NUL-terminated; a pin found in them is a
 * key whose fingerprint decodes back to it.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_srv srv[DNS_SRV_MAX];
	static struct dns_txt txt[DNS_TXT_MAX];
	uint8_t *copy, pk[ID_KEYLEN], back[ID_KEYLEN];
	char err[300], fp[FP_LEN + 1];
	size_t n, i;
	int rc;

	/* an exact-size copy, so that ASan catches any read past the end */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	rc = dns_parse_srv(copy, size, srv, DNS_SRV_MAX, &n);
	CHECK(rc == DNS_OK || rc == DNS_EMALFORMED || rc == DNS_ENONAME || rc == DNS_EFAIL);
	CHECK(rc == DNS_OK || n == 0);
	CHECK(n <= DNS_SRV_MAX);
	for (i = 0; i < n; i++)
		CHECK(srv[i].target[0] == '\0' || dns_name_ok(srv[i].target));
	rc = dns_parse_txt(copy, size, txt, DNS_TXT_MAX, &n);
	CHECK(rc == DNS_OK || rc == DNS_EMALFORMED || rc == DNS_ENONAME || rc == DNS_EFAIL);
	CHECK(n <= DNS_TXT_MAX);
	for (i = 0; i < n; i++)
		CHECK(txt[i].len <= 255 && txt[i].s[txt[i].len] == '\0');
	rc = reach_txt_pin(txt, n, "alice", pk, err, sizeof err);
	CHECK(rc == -1 || rc == 0 || rc == 1);
	if (rc == 1) {
		fp_encode(pk, fp);
		CHECK(fp_decode(fp, back) == 0 && memcmp(pk, back, ID_KEYLEN) == 0);
	}
	if (rc == -1)
		CHECK(memchr(err, '\0', sizeof err) != NULL);
	free(copy);
	return 0;
}
