/* disc.h - LAN discovery: beacons on IPv4/IPv6 multicast and IPv4 broadcast. */
#ifndef CONFAB_DISC_H
#define CONFAB_DISC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "beacon.h"
#include "loop.h"

/*
 * The discovery engine knows nothing of the model: it announces one identity
 * (key, nick, TCP ports) on every suitable interface and reports what others
 * announce through two callbacks.  A report is a hint, never an identity: the
 * owner must let the handshake prove the key.  See net/PROTOCOL.md, "LAN
 * discovery", for the datagram, the groups, the timings and the suppression
 * rules.
 */

#define DISC_PORT          7470              /* UDP, for multicast and broadcast */
#define DISC_GROUP4        "239.255.74.70"   /* IPv4 local scope (RFC 2365) */
#define DISC_GROUP6        "ff12::7470"      /* IPv6 link-local scope, transient */
#define DISC_REFRESH_MS    30000             /* shortest refresh interval */
#define DISC_SCALE_PEERS   30                /* above this many hosts the interval grows */
#define DISC_EXPIRE_MISSES 3                 /* refreshes missed before a peer expires */
#define DISC_EXPIRE_GRACE  2000              /* ms added to the expiry */
#define DISC_MAX_PEERS     512               /* peers remembered at once */
#define DISC_MAX_PER_SOURCE 8                /* ... from one IPv4 address or IPv6 /64 */

struct disc;

struct disc_config {
	uint8_t            key[BEACON_KEYLEN];   /* our public key */
	const char        *nick;
	struct beacon_port ports[BEACON_MAX_PORTS];
	int                nports;
	const char        *iface;       /* only this interface (loopback allowed); NULL: all */
	unsigned           refresh_ms;  /* shortest refresh interval; 0: DISC_REFRESH_MS */
};

/* A peer as announced: where to open a TCP connection to it. */
struct disc_peer {
	const uint8_t         *key;
	const uint8_t         *nick;     /* raw bytes from the wire: sanitise before use */
	size_t                 nick_len;
	const struct sockaddr *sa;       /* source address of its beacon, its TCP port */
	socklen_t              salen;
	int                    ifindex;
};

struct disc_ops {
	/* A peer is new, or its nick or address changed. */
	void (*seen)(void *arg, const struct disc_peer *);
	/* A peer said goodbye, expired, or its interface went away. */
	void (*gone)(void *arg, const uint8_t key[BEACON_KEYLEN], const char *why);
};

struct disc_stats {
	uint64_t rx;           /* datagrams read */
	uint64_t rx_bad;       /* not a beacon, malformed, or wrong version */
	uint64_t rx_own;       /* our own, looped back */
	uint64_t rx_limited;   /* over a rate limit */
	uint64_t rx_dup;       /* another copy of a transmission already seen */
	uint64_t evicted;      /* peers forgotten to make room for a new key */
	uint64_t tx_mcast, tx_bcast, tx_unicast, tx_err;
	size_t   peers;        /* peers currently known */
	size_t   ifaces;       /* interfaces in use */
};

/* Start: open sockets, watch interfaces.  NULL (errno set) on failure. */
struct disc *disc_new(struct loop *, const struct disc_config *,
                      const struct disc_ops *, void *arg);
/* Announce a new nick (coalesced, at most one extra announcement a second). */
void disc_set_nick(struct disc *, const char *nick);
/* Stop; with goodbye, first tell the network we are leaving. */
void disc_free(struct disc *, int goodbye);
void disc_get_stats(const struct disc *, struct disc_stats *);
/* The refresh interval in ms for nhosts hosts (ourselves included). */
unsigned disc_refresh_interval(unsigned min_ms, size_t nhosts);

#endif
