/* beacon.h - the LAN discovery datagram: encoding and strict parsing. */
#ifndef CONFAB_BEACON_H
#define CONFAB_BEACON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* See net/PROTOCOL.md, "LAN discovery", for the normative description. */

#define BEACON_MAGIC        "cfbn"
#define BEACON_MAGIC_LEN    4
#define BEACON_VERSION      1
#define BEACON_KEYLEN       32
#define BEACON_NICK_MAX     64
#define BEACON_MAX_PORTS    2         /* one per address family */
#define BEACON_MAX          1200      /* largest datagram sent or accepted */
#define BEACON_MIN          (4 + 1 + 1 + 4 + 2 + BEACON_KEYLEN + 1 + 1)
#define BEACON_INTERVAL_MAX 3600      /* seconds */
#define BEACON_PREFIX_LEN   4         /* bytes of a key in a KNOWN list */

/* Flags. */
#define BEACON_QUERY    0x01   /* please tell me about yourself (by unicast) */
#define BEACON_REPLY    0x02   /* this answers a query or a newcomer, by unicast */
#define BEACON_GOODBYE  0x04   /* the sender is leaving */
#define BEACON_FLAGS    0x07   /* every flag version 1 defines */

/* Extension types. */
#define BEACON_EXT_KNOWN 0x01  /* key prefixes the querier already knows */

/* Address families in the port list. */
#define BEACON_AF_INET  4
#define BEACON_AF_INET6 6

struct beacon_port {
	uint8_t  af;     /* BEACON_AF_INET or BEACON_AF_INET6 */
	uint16_t port;
};

struct beacon {
	uint8_t            flags;
	uint32_t           seq;          /* same for every copy of one transmission */
	uint16_t           interval_s;   /* next refresh at the latest, seconds */
	uint8_t            key[BEACON_KEYLEN];
	struct beacon_port ports[BEACON_MAX_PORTS];
	int                nports;
	const uint8_t     *nick;         /* borrowed; not NUL-terminated */
	size_t             nick_len;
	/* Encoding: nknown 4-byte key prefixes to send in KNOWN extensions. */
	const uint8_t     *known;
	size_t             nknown;
	/* Decoding: the extension area as received (already validated). */
	const uint8_t     *ext;
	size_t             ext_len;
};

#define BEACON_OK        0
#define BEACON_EMAGIC   -1   /* not a beacon at all */
#define BEACON_EVERSION -2   /* a version we do not speak */
#define BEACON_EMALFORMED -3 /* a beacon, but broken */

/*
 * Whether a datagram could be a beacon: length and magic only, so that
 * unrelated traffic costs nothing more than a compare.
 */
int  beacon_sniff(const uint8_t *p, size_t n);
/*
 * Parse one datagram strictly.  On success b borrows nick and ext from p.
 * Any length, range or layout error gives BEACON_EMALFORMED.
 */
int  beacon_decode(const uint8_t *p, size_t n, struct beacon *b);
/*
 * Encode b into out.  Extensions carry as many of b->known as fit within
 * BEACON_MAX; returns how many were written (>= 0), or a negative BUF_E* code.
 */
long beacon_encode(struct buf *out, const struct beacon *b);
/* Whether a decoded query lists key among the prefixes it already knows. */
int  beacon_knows(const struct beacon *b, const uint8_t key[BEACON_KEYLEN]);
/* The port announced for a family (BEACON_AF_*), or 0. */
uint16_t beacon_port_for(const struct beacon *b, uint8_t af);

#endif
