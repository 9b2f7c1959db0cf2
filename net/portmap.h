/* portmap.h - open our port on the home router: NAT-PMP in the loop, UPnP IGD on a worker thread. */
#ifndef CONFAB_PORTMAP_H
#define CONFAB_PORTMAP_H

#include <stdint.h>

#include "loop.h"

/*
 * At start both methods look for the gateway at once: NAT-PMP (libnatpmp,
 * non-blocking, driven by the loop) asks for the public address; UPnP
 * (miniupnpc, whose calls block for seconds, on one worker thread that reports
 * back through an eventfd in the loop) discovers the IGD and asks for its
 * external address.  The first method that is ready maps the port; the other
 * waits, and takes over only if that mapping is refused.  Leases are finite and
 * renewed at half time; mappings are removed by portmap_stop.
 */

enum pm_method { PM_NONE = 0, PM_NATPMP, PM_UPNP };

enum pm_state {
	PM_PENDING = 1,   /* still asking */
	PM_MAPPED,        /* reachable at ext_addr:ext_port */
	PM_FAILED,        /* not reachable from outside: reason, why */
};

enum pm_reason {
	PMR_NONE = 0,
	PMR_NO_GATEWAY,   /* no IPv4 default route */
	PMR_NO_ANSWER,    /* neither NAT-PMP nor UPnP answered */
	PMR_REFUSED,      /* the router answered but would not map */
	PMR_DOUBLE_NAT,   /* the router's own external address is private/reserved, or it has none */
	PMR_LOST,         /* a renewal failed (mapping again) */
};

#define PM_ADDRLEN 46

struct pm_status {
	enum pm_state  state;
	enum pm_method method;                /* PM_MAPPED: which method holds the mapping */
	char           ext_addr[PM_ADDRLEN];  /* PM_MAPPED: the router's external address */
	uint16_t       ext_port;              /* PM_MAPPED: the external port */
	uint16_t       int_port;              /* our port */
	uint32_t       lease_s;               /* PM_MAPPED: granted lease, 0 = permanent */
	unsigned       renewals;              /* leases renewed so far */
	enum pm_reason reason;                /* PM_FAILED */
	char           why[256];              /* PM_FAILED: for people */
};

struct portmap_opts {
	uint16_t port;           /* our TCP port (internal, and the external one we ask for) */
	uint32_t lease_s;        /* lease to ask for; 0: PM_LEASE_DEFAULT */
	int      natpmp_ms;      /* a silent NAT-PMP gateway is given up after this; 0: default */
	int      upnp_delay_ms;  /* SSDP answer wait per search type (>= 1000); 0: default */
};

#define PM_LEASE_DEFAULT     3600
#define PM_NATPMP_MS_DEFAULT 4000
#define PM_UPNP_DELAY_DEFAULT 1000

struct portmap;

/* Called on every change of the status (in the loop, never on the worker). */
typedef void (*portmap_cb)(void *arg, const struct pm_status *);

/* Start mapping; NULL on failure (out of memory).  cb is never called from here. */
struct portmap *portmap_start(struct loop *, const struct portmap_opts *, portmap_cb cb, void *arg);
/* The current status. */
const struct pm_status *portmap_status(const struct portmap *);
/* If not mapped and not trying: try again now. */
void portmap_retry(struct portmap *);
/*
 * Start removing the mapping (NAT-PMP: lifetime 0; UPnP: DeletePortMapping on
 * the worker) and stop everything else.  No more callbacks after this.
 */
void portmap_stop(struct portmap *);
/*
 * Finish: wait a bounded time (about a second for NAT-PMP, a few seconds for
 * a UPnP exchange already under way) for the removal, then free.  A UPnP
 * discovery still running is abandoned: it holds no mapping.
 */
void portmap_free(struct portmap *);

const char *pm_method_name(enum pm_method);   /* "natpmp", "upnp", "none" */
const char *pm_reason_name(enum pm_reason);   /* "no-gateway", ... */
/* Whether an IPv4 address (text) is private, shared, reserved or not an address. */
int pm_addr_reserved(const char *ipv4);

#endif
