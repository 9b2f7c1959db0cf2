/* fuzz_beacon.c - libFuzzer target for the LAN discovery datagram parser. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "beacon.h"
#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any broken invariant is a crash for libFuzzer to report. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/*
 * Parse the input; whatever is accepted must satisfy every documented limit,
 * re-encode to the same bytes (reserved flag bits and extensions aside), and
 * answer KNOWN lookups without reading outside the datagram.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct beacon bc, again;
	uint8_t *copy, probe[BEACON_KEYLEN];
	struct buf b;
	size_t fixed;
	int rc, i;

	/* an exact-size copy, so that ASan catches any read past the end */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	rc = beacon_decode(copy, size, &bc);
	CHECK(rc == BEACON_OK || rc == BEACON_EMAGIC || rc == BEACON_EVERSION || rc == BEACON_EMALFORMED);
	CHECK((rc == BEACON_EMAGIC) == !beacon_sniff(copy, size));
	if (rc != BEACON_OK) {
		free(copy);
		return 0;
	}
	CHECK(size >= BEACON_MIN && size <= BEACON_MAX);
	CHECK((bc.flags & ~BEACON_FLAGS) == 0);
	CHECK(!((bc.flags & BEACON_GOODBYE) && (bc.flags & (BEACON_QUERY | BEACON_REPLY))));
	CHECK(!((bc.flags & BEACON_QUERY) && (bc.flags & BEACON_REPLY)));
	CHECK(bc.interval_s >= 1 && bc.interval_s <= BEACON_INTERVAL_MAX);
	CHECK(bc.nports >= 0 && bc.nports <= BEACON_MAX_PORTS);
	CHECK(bc.nports > 0 || (bc.flags & BEACON_GOODBYE));
	for (i = 0; i < bc.nports; i++) {
		CHECK(bc.ports[i].port != 0);
		CHECK(bc.ports[i].af == BEACON_AF_INET || bc.ports[i].af == BEACON_AF_INET6);
		CHECK(beacon_port_for(&bc, bc.ports[i].af) == bc.ports[i].port);
	}
	CHECK(bc.nick_len <= BEACON_NICK_MAX);
	CHECK(bc.nick >= copy && bc.nick + bc.nick_len <= copy + size);
	CHECK(bc.ext >= copy && bc.ext + bc.ext_len == copy + size);

	/* the lookups walk only the validated extension area */
	memcpy(probe, copy, sizeof probe < size ? sizeof probe : size);
	(void)beacon_knows(&bc, probe);
	(void)beacon_knows(&bc, bc.key);

	/* re-encode the fixed part and the nick: identical bytes */
	again = bc;
	again.known = NULL;
	again.nknown = 0;
	buf_init(&b, BEACON_MAX);
	CHECK(beacon_encode(&b, &again) == 0);
	fixed = size - bc.ext_len;
	CHECK(buf_len(&b) == fixed);
	CHECK(memcmp(buf_ptr(&b), copy, 5) == 0);
	CHECK(memcmp(buf_ptr(&b) + 6, copy + 6, fixed - 6) == 0);
	CHECK(buf_ptr(&b)[5] == (copy[5] & BEACON_FLAGS));
	CHECK(beacon_decode(buf_ptr(&b), buf_len(&b), &again) == BEACON_OK);
	buf_free(&b);
	free(copy);
	return 0;
}
