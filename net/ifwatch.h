/* ifwatch.h - the machine's interfaces and addresses, kept current via rtnetlink. */
#ifndef CONFAB_IFWATCH_H
#define CONFAB_IFWATCH_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"

/*
 * A table of interfaces (index, name, IFF_* flags) and their addresses, filled
 * by an rtnetlink dump at start and updated from the kernel's link and address
 * notifications on a NETLINK_ROUTE socket in the event loop: no polling.  The
 * owner is called (coalesced, after a short settling delay) whenever something
 * changed.
 */

#define IFW_ADDR_TENTATIVE 0x01   /* IPv6 duplicate address detection not finished */
#define IFW_ADDR_DADFAILED 0x02

struct ifw_addr {
	int      ifindex;
	int      family;          /* AF_INET or AF_INET6 */
	uint8_t  addr[16];        /* the local address (4 bytes used for AF_INET) */
	uint8_t  brd[4];          /* AF_INET broadcast address, if has_brd */
	int      has_brd;
	uint8_t  prefixlen;
	uint8_t  scope;           /* RT_SCOPE_* */
	unsigned flags;           /* IFW_ADDR_* */
};

struct ifw_link {
	int      ifindex;
	char     name[IF_NAMESIZE];
	unsigned flags;           /* IFF_UP, IFF_RUNNING, IFF_LOOPBACK, IFF_MULTICAST, ... */
};

struct ifwatch;
typedef void (*ifwatch_cb)(void *arg);

/* Open the netlink socket and ask for the first dump; NULL and errno on failure. */
struct ifwatch *ifwatch_new(struct loop *, ifwatch_cb changed, void *arg);
void   ifwatch_free(struct ifwatch *);
/* Whether the first complete dump has arrived. */
int    ifwatch_ready(const struct ifwatch *);
size_t ifwatch_nlinks(const struct ifwatch *);
const struct ifw_link *ifwatch_link(const struct ifwatch *, size_t i);
size_t ifwatch_naddrs(const struct ifwatch *);
const struct ifw_addr *ifwatch_addr(const struct ifwatch *, size_t i);

#endif
