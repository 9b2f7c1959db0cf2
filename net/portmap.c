/* portmap.c - open our port on the home router: NAT-PMP in the loop, UPnP IGD on a worker thread. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <natpmp.h>
#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>
#include <sodium.h>

#include "log.h"
#include "portmap.h"

/* --- the UPnP worker: one thread, a small job queue, results via eventfd -- */

enum job_kind { JOB_DISCOVER = 1, JOB_MAP, JOB_DELETE, JOB_QUIT };

struct upnp_job {
	enum job_kind kind;
	unsigned      gen;        /* attempt number: stale results are ignored */
	int           renew;      /* JOB_MAP: a renewal of the mapping we hold */
	int           delay_ms;   /* JOB_DISCOVER */
	uint16_t      int_port, ext_port;
	uint32_t      lease_s;
	int           permanent;  /* the router takes only permanent leases */
};

struct upnp_result {
	enum job_kind  kind;
	unsigned       gen;
	int            renew;
	int            ok;
	enum pm_reason reason;
	char           why[160];
	char           ext_addr[PM_ADDRLEN];
	uint16_t       ext_port;
	uint32_t       lease_s;
	int            permanent;
	char           trace[160];   /* what the worker did, logged by the loop (never by the thread) */
};

#define WQ 8   /* queued jobs or results; the main side never has more than 3 */

struct upnp_worker {
	pthread_mutex_t    mu;
	pthread_cond_t     cv;          /* a job was queued */
	pthread_cond_t     done_cv;     /* a job finished, or the thread ended */
	struct upnp_job    jobs[WQ];
	size_t             jhead, jn;
	struct upnp_result res[WQ];
	size_t             rhead, rn;
	int                busy;
	enum job_kind      running;
	int                exited;
	int                abandoned;   /* the portmap is gone: the thread frees this */
	int                efd;         /* eventfd, readable when results wait */
	pthread_t          th;
	/* the worker's own state: touched by the thread only */
	struct UPNPUrls    urls;
	struct IGDdatas    data;
	int                have_igd;
	char               lan[PM_ADDRLEN];
	uint16_t           mapped_port; /* external port we hold, 0 if none */
};

/* Free a worker whose thread has ended (or never started). */
static void
worker_destroy(struct upnp_worker *w)
{
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	pthread_cond_destroy(&w->done_cv);
	if (w->efd >= 0)
		close(w->efd);
	free(w);
}

/* A UPnP error code in words. */
static const char *
upnp_err(int code)
{
	const char *s = strupnperror(code);

	return s != NULL ? s : "unknown error";
}

/* Find the IGD and its external address. */
static void
w_discover(struct upnp_worker *w, const struct upnp_job *j, struct upnp_result *r)
{
	struct UPNPDev *devs;
	char ext[PM_ADDRLEN], status[64], lasterr[64];
	unsigned int uptime = 0;
	int err = 0, igd, rc, connected, not_igd;
#if MINIUPNPC_API_VERSION >= 18
	char wan[PM_ADDRLEN];
#endif

	if (w->have_igd) {
		FreeUPNPUrls(&w->urls);
		w->have_igd = 0;
	}
	/* "" as the minissdpd socket: ask the network, not a local daemon */
	devs = upnpDiscover(j->delay_ms, NULL, "", 0, 0, 2, &err);
	if (devs == NULL) {
		r->reason = PMR_NO_ANSWER;
		if (err == UPNPDISCOVER_SUCCESS)
			snprintf(r->why, sizeof r->why, "no UPnP device answered");
		else
			snprintf(r->why, sizeof r->why, "cannot search for UPnP devices (error %d)", err);
		return;
	}
	memset(&w->urls, 0, sizeof w->urls);
	memset(&w->data, 0, sizeof w->data);
	memset(w->lan, 0, sizeof w->lan);
#if MINIUPNPC_API_VERSION >= 18
	/* 1 connected, 2 connected with a reserved address, 3 not connected, 4 not an IGD */
	memset(wan, 0, sizeof wan);
	igd = UPNP_GetValidIGD(devs, &w->urls, &w->data, w->lan, sizeof w->lan, wan, sizeof wan);
	connected = igd == 1 || igd == 2;
	not_igd = igd == 4;
#else
	/* 1 connected, 2 not connected (or no public address), 3 not an IGD */
	igd = UPNP_GetValidIGD(devs, &w->urls, &w->data, w->lan, sizeof w->lan);
	connected = igd == 1;
	not_igd = igd == 3;
#endif
	freeUPNPDevlist(devs);
	w->lan[sizeof w->lan - 1] = '\0';
	if (igd == 0) {
		r->reason = PMR_NO_ANSWER;
		snprintf(r->why, sizeof r->why, "UPnP devices answered, but none is an internet gateway");
		return;
	}
	w->have_igd = 1;
	if (not_igd) {
		r->reason = PMR_NO_ANSWER;
		snprintf(r->why, sizeof r->why, "UPnP devices answered, but none is an internet gateway");
		return;
	}
	memset(ext, 0, sizeof ext);
	rc = UPNP_GetExternalIPAddress(w->urls.controlURL, w->data.first.servicetype, ext);
	ext[sizeof ext - 1] = '\0';
	memset(status, 0, sizeof status);
	memset(lasterr, 0, sizeof lasterr);
	if (UPNP_GetStatusInfo(w->urls.controlURL, w->data.first.servicetype, status, &uptime, lasterr) != 0)
		status[0] = '\0';
	status[sizeof status - 1] = '\0';
	if (strcmp(status, "Connected") == 0)
		connected = 1;
	snprintf(r->trace, sizeof r->trace, "IGD %d at %.60s, lan %.20s, external \"%.20s\" (%d), status \"%.16s\"",
	    igd, w->urls.controlURL ? w->urls.controlURL : "?", w->lan, ext, rc, status);
	if (rc == 0 && ext[0] != '\0' && strcmp(ext, "0.0.0.0") != 0) {
		if (pm_addr_reserved(ext)) {
			r->reason = PMR_DOUBLE_NAT;
			snprintf(r->why, sizeof r->why, "the router's own external address %s is private or reserved", ext);
			return;
		}
		if (!connected) {
			r->reason = PMR_REFUSED;
			snprintf(r->why, sizeof r->why, "the router says it is not connected (%s)",
			    status[0] ? status : "no status");
			return;
		}
		r->ok = 1;
		snprintf(r->ext_addr, sizeof r->ext_addr, "%s", ext);
		return;
	}
	if (connected) {
		/* miniupnpd hides a private or reserved external address this way */
		r->reason = PMR_DOUBLE_NAT;
		snprintf(r->why, sizeof r->why, "the router has no public external address to give");
	} else {
		r->reason = PMR_REFUSED;
		snprintf(r->why, sizeof r->why, "the router says it is not connected (%s)",
		    status[0] ? status : "no status");
	}
}

/* Whether the mapping of ext_port on the router points at our own port. */
static int
w_held_by_us(struct upnp_worker *w, const char *ext, uint16_t int_port)
{
	char client[64], port[16], desc[96], enabled[16], lease[32];

	/* left unwritten on error: start from zeros */
	memset(client, 0, sizeof client);
	memset(port, 0, sizeof port);
	memset(desc, 0, sizeof desc);
	memset(enabled, 0, sizeof enabled);
	memset(lease, 0, sizeof lease);
	if (UPNP_GetSpecificPortMappingEntry(w->urls.controlURL, w->data.first.servicetype, ext, "TCP",
	    NULL, client, port, desc, enabled, lease) != 0)
		return 0;
	client[sizeof client - 1] = port[sizeof port - 1] = '\0';
	return strcmp(client, w->lan) == 0 && atoi(port) == int_port;
}

/* Add (or renew) the mapping; move to another external port if ours is taken. */
static void
w_map(struct upnp_worker *w, const struct upnp_job *j, struct upnp_result *r)
{
	char ext[8], in[8], lease[16];
	uint16_t port = j->ext_port;
	int permanent = j->permanent, tries, code = 0, cleared = 0;

	if (!w->have_igd) {
		r->reason = PMR_REFUSED;
		snprintf(r->why, sizeof r->why, "no internet gateway known");
		return;
	}
	snprintf(in, sizeof in, "%u", j->int_port);
	for (tries = 0; tries < 8; tries++) {
		snprintf(ext, sizeof ext, "%u", port);
		snprintf(lease, sizeof lease, "%u", permanent ? 0u : j->lease_s);
		code = UPNP_AddPortMapping(w->urls.controlURL, w->data.first.servicetype, ext, in,
		    w->lan, "confab", "TCP", NULL, lease);
		{
			size_t tl = strlen(r->trace);

			snprintf(r->trace + tl, sizeof r->trace - tl, "%sAddPortMapping %s->%s:%s lease %s: %d",
			    tl ? "; " : "", ext, w->lan, in, lease, code);
		}
		if (code == UPNPCOMMAND_SUCCESS) {
			r->ok = 1;
			r->ext_port = port;
			r->lease_s = permanent ? 0 : j->lease_s;
			r->permanent = permanent;
			w->mapped_port = port;
			return;
		}
		if (code == 725 && !permanent) {
			/* OnlyPermanentLeasesSupported: ask for "0", delete it ourselves */
			permanent = 1;
			continue;
		}
		if (code == 724 && port != j->int_port) {
			/* SamePortValuesRequired */
			port = j->int_port;
			continue;
		}
		if (code == 718) {
			/* ConflictInMappingEntry: ours from an earlier run, or someone else's */
			if (!cleared && w_held_by_us(w, ext, j->int_port)) {
				UPNP_DeletePortMapping(w->urls.controlURL, w->data.first.servicetype, ext, "TCP", NULL);
				cleared = 1;
				continue;
			}
			port = (uint16_t)(1024 + randombytes_uniform(65536 - 1024));
			continue;
		}
		break;
	}
	r->reason = PMR_REFUSED;
	if (code == 718)
		snprintf(r->why, sizeof r->why, "every external port we tried is taken (UPnP 718)");
	else if (code < 0)
		snprintf(r->why, sizeof r->why, "the router did not answer the mapping request (%s)",
		    upnp_err(code));
	else
		snprintf(r->why, sizeof r->why, "the router refused the mapping: %s (UPnP %d)",
		    upnp_err(code), code);
}

/* Remove the mapping we hold, if any. */
static void
w_delete(struct upnp_worker *w, struct upnp_result *r)
{
	char ext[8];
	int code;

	if (!w->have_igd || w->mapped_port == 0) {
		r->ok = 1;
		return;
	}
	snprintf(ext, sizeof ext, "%u", w->mapped_port);
	code = UPNP_DeletePortMapping(w->urls.controlURL, w->data.first.servicetype, ext, "TCP", NULL);
	snprintf(r->trace, sizeof r->trace, "DeletePortMapping %s: %d", ext, code);
	r->ok = code == 0 || code == 714;   /* 714: NoSuchEntryInArray (expired already) */
	w->mapped_port = 0;
}

/* The worker thread: run jobs one at a time until JOB_QUIT. */
static void *
worker_main(void *arg)
{
	struct upnp_worker *w = arg;
	struct upnp_job j;
	struct upnp_result r;
	uint64_t one = 1;
	int quit = 0, free_me;
	ssize_t wr;

	while (!quit) {
		pthread_mutex_lock(&w->mu);
		while (w->jn == 0)
			pthread_cond_wait(&w->cv, &w->mu);
		j = w->jobs[w->jhead];
		w->jhead = (w->jhead + 1) % WQ;
		w->jn--;
		w->busy = 1;
		w->running = j.kind;
		pthread_mutex_unlock(&w->mu);

		memset(&r, 0, sizeof r);
		r.kind = j.kind;
		r.gen = j.gen;
		r.renew = j.renew;
		switch (j.kind) {
		case JOB_DISCOVER:
			w_discover(w, &j, &r);
			break;
		case JOB_MAP:
			w_map(w, &j, &r);
			break;
		case JOB_DELETE:
			w_delete(w, &r);
			break;
		case JOB_QUIT:
			quit = 1;
			break;
		}

		pthread_mutex_lock(&w->mu);
		w->busy = 0;
		if (!quit && !w->abandoned && w->rn < WQ) {
			w->res[(w->rhead + w->rn) % WQ] = r;
			w->rn++;
		}
		pthread_cond_broadcast(&w->done_cv);
		pthread_mutex_unlock(&w->mu);
		if (!quit)
			do
				wr = write(w->efd, &one, sizeof one);
			while (wr == -1 && errno == EINTR);
	}
	if (w->have_igd)
		FreeUPNPUrls(&w->urls);
	w->have_igd = 0;
	pthread_mutex_lock(&w->mu);
	w->exited = 1;
	free_me = w->abandoned;
	pthread_cond_broadcast(&w->done_cv);
	pthread_mutex_unlock(&w->mu);
	if (free_me)
		worker_destroy(w);
	return NULL;
}

/* Queue a job for the worker (main thread). */
static void
worker_post(struct upnp_worker *w, const struct upnp_job *j)
{
	pthread_mutex_lock(&w->mu);
	if (w->jn < WQ) {
		w->jobs[(w->jhead + w->jn) % WQ] = *j;
		w->jn++;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
}

/* Start the thread with every signal blocked (they belong to the loop). */
static struct upnp_worker *
worker_new(void)
{
	struct upnp_worker *w;
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	if ((w = calloc(1, sizeof *w)) == NULL)
		return NULL;
	if ((w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, NULL);
	pthread_cond_init(&w->done_cv, &ca);
	pthread_condattr_destroy(&ca);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->th, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		worker_destroy(w);
		return NULL;
	}
	return w;
}

/* --- the port mapper (main thread) ----------------------------------------- */

enum nat_state {
	N_OFF = 0,
	N_ADDR,      /* public address request pending */
	N_READY,     /* public address known; may map */
	N_MAP,       /* mapping request pending */
	N_MAPPED,    /* holds the mapping */
	N_RENEW,     /* renewal pending (still holds it) */
	N_FAILED,
	N_DELETE,    /* removal pending */
};

enum upnp_state {
	U_OFF = 0,
	U_DISCOVER,
	U_READY,
	U_MAP,
	U_MAPPED,
	U_RENEW,
	U_FAILED,
};

struct portmap {
	struct loop        *loop;
	struct portmap_opts o;
	portmap_cb          cb;
	void               *arg;
	struct pm_status    st;
	int                 stopping;
	unsigned            gen;
	struct loop_timer   renew;
	struct loop_timer   restart;
	struct loop_timer   later;         /* a change found inside a call: told a turn later */
	int                 in_call;

	/* NAT-PMP */
	natpmp_t            n;
	int                 n_open;
	enum nat_state      nstate;
	uint64_t            n_t0;          /* when the pending request was first sent */
	struct loop_timer   n_timer;
	char                n_gw[PM_ADDRLEN];
	char                n_ext[PM_ADDRLEN];
	enum pm_reason      n_reason;
	char                n_why[160];

	/* UPnP */
	struct upnp_worker *w;
	enum upnp_state     ustate;
	char                u_ext[PM_ADDRLEN];
	int                 u_permanent;
	enum pm_reason      u_reason;
	char                u_why[160];
};

static void pm_next(struct portmap *);
static void pm_lost(struct portmap *, const char *why);
static void natpmp_begin(struct portmap *);

/* Method names for events. */
const char *
pm_method_name(enum pm_method m)
{
	switch (m) {
	case PM_NATPMP: return "natpmp";
	case PM_UPNP:   return "upnp";
	case PM_NONE:   break;
	}
	return "none";
}

/* Reason names for events. */
const char *
pm_reason_name(enum pm_reason r)
{
	switch (r) {
	case PMR_NO_GATEWAY: return "no-gateway";
	case PMR_NO_ANSWER:  return "no-answer";
	case PMR_REFUSED:    return "refused";
	case PMR_DOUBLE_NAT: return "double-nat";
	case PMR_LOST:       return "lost";
	case PMR_NONE:       break;
	}
	return "none";
}

/* Whether an IPv4 address is one that is never reachable from the internet. */
int
pm_addr_reserved(const char *text)
{
	static const struct { uint32_t net; int bits; } blocks[] = {
		{ 0x00000000, 8 },    /* 0/8 "this network" */
		{ 0x0a000000, 8 },    /* 10/8 private */
		{ 0x64400000, 10 },   /* 100.64/10 shared (carrier-grade NAT) */
		{ 0x7f000000, 8 },    /* 127/8 loopback */
		{ 0xa9fe0000, 16 },   /* 169.254/16 link local */
		{ 0xac100000, 12 },   /* 172.16/12 private */
		{ 0xc0000000, 24 },   /* 192.0.0/24 protocol assignments */
		{ 0xc0000200, 24 },   /* 192.0.2/24 documentation */
		{ 0xc0586300, 24 },   /* 192.88.99/24 deprecated 6to4 relay */
		{ 0xc0a80000, 16 },   /* 192.168/16 private */
		{ 0xc6120000, 15 },   /* 198.18/15 benchmarking */
		{ 0xc6336400, 24 },   /* 198.51.100/24 documentation */
		{ 0xcb007100, 24 },   /* 203.0.113/24 documentation */
		{ 0xe0000000, 4 },    /* 224/4 multicast */
		{ 0xf0000000, 4 },    /* 240/4 reserved, and the broadcast address */
	};
	struct in_addr a;
	uint32_t v;
	size_t i;

	if (text == NULL || inet_pton(AF_INET, text, &a) != 1)
		return 1;
	v = ntohl(a.s_addr);
	for (i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
		if ((v >> (32 - blocks[i].bits)) == (blocks[i].net >> (32 - blocks[i].bits)))
			return 1;
	return 0;
}

/* Tell the owner (never after stop, never from inside one of our own functions). */
static void
pm_emit(struct portmap *pm)
{
	if (pm->in_call) {
		loop_timer_set(pm->loop, &pm->later, 0);
		return;
	}
	if (!pm->stopping && pm->cb != NULL)
		pm->cb(pm->arg, &pm->st);
}

/* A change found inside portmap_start or portmap_retry. */
static void
pm_later_cb(struct loop *loop, struct loop_timer *t, void *arg)
{
	pm_emit(arg);
}

/* Arm the renewal of a finite lease at half time. */
static void
pm_arm_renew(struct portmap *pm, uint32_t lease_s)
{
	uint64_t ms;

	if (lease_s == 0) {
		loop_timer_del(pm->loop, &pm->renew);
		return;
	}
	ms = (uint64_t)lease_s * 500;
	if (ms < 1000)
		ms = 1000;
	loop_timer_set(pm->loop, &pm->renew, ms);
}

/* A method holds the mapping: record it and tell the owner. */
static void
pm_mapped(struct portmap *pm, enum pm_method m, const char *ext, uint16_t port, uint32_t lease_s, int renewal)
{
	int changed = pm->st.state != PM_MAPPED || pm->st.method != m ||
	    pm->st.ext_port != port || strcmp(pm->st.ext_addr, ext) != 0;

	pm->st.state = PM_MAPPED;
	pm->st.method = m;
	snprintf(pm->st.ext_addr, sizeof pm->st.ext_addr, "%s", ext);
	pm->st.ext_port = port;
	pm->st.lease_s = lease_s;
	pm->st.reason = PMR_NONE;
	pm->st.why[0] = '\0';
	if (renewal)
		pm->st.renewals++;
	pm_arm_renew(pm, lease_s);
	if (changed)
		log_info("portmap: reachable via %s at %s:%u (lease %us)", pm_method_name(m), ext, port, lease_s);
	else
		log_info("portmap: %s lease renewed (%us, %u renewals)", pm_method_name(m), lease_s, pm->st.renewals);
	pm_emit(pm);
}

/* Order of the reasons when both methods failed: the most telling first. */
static int
reason_rank(enum pm_reason r)
{
	switch (r) {
	case PMR_DOUBLE_NAT: return 4;
	case PMR_REFUSED:    return 3;
	case PMR_NO_GATEWAY: return 2;
	case PMR_NO_ANSWER:  return 1;
	default:             return 0;
	}
}

/* --- NAT-PMP ----------------------------------------------------------------- */

/* Stop watching and close the NAT-PMP socket. */
static void
natpmp_close(struct portmap *pm)
{
	loop_timer_del(pm->loop, &pm->n_timer);
	if (pm->n_open) {
		loop_fd_del(pm->loop, pm->n.s);
		closenatpmp(&pm->n);
		pm->n_open = 0;
	}
}

/* NAT-PMP cannot map: remember why and let the arbiter decide. */
static void
natpmp_fail(struct portmap *pm, enum pm_reason reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
natpmp_fail(struct portmap *pm, enum pm_reason reason, const char *fmt, ...)
{
	enum nat_state was = pm->nstate;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pm->n_why, sizeof pm->n_why, fmt, ap);
	va_end(ap);
	pm->n_reason = reason;
	pm->nstate = N_FAILED;
	natpmp_close(pm);
	log_info("portmap: NAT-PMP: %s", pm->n_why);
	if (was == N_RENEW || (pm->st.state == PM_MAPPED && pm->st.method == PM_NATPMP))
		pm_lost(pm, pm->n_why);
	else
		pm_next(pm);
}

/* Time the next look at the pending request (libnatpmp retransmits on it). */
static void
natpmp_arm(struct portmap *pm)
{
	struct timeval tv;
	long long ms = 250;

	if (getnatpmprequesttimeout(&pm->n, &tv) == 0) {
		ms = (long long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
		if (ms < 0)
			ms = 0;   /* it can be negative when the retry time has passed */
	}
	if (ms > 1000)
		ms = 1000;
	if (pm->nstate != N_DELETE) {
		/* look again exactly when we would give up */
		uint64_t now = loop_now(pm->loop), end = pm->n_t0 + (uint64_t)pm->o.natpmp_ms;
		long long left = end > now ? (long long)(end - now) : 0;

		if (ms > left)
			ms = left;
	}
	loop_timer_set(pm->loop, &pm->n_timer, (uint64_t)ms);
}

/* Send a request and wait for its answer in state st. */
static void
natpmp_send(struct portmap *pm, enum nat_state st)
{
	uint16_t port = pm->o.port;
	int rc;

	if (st == N_ADDR)
		rc = sendpublicaddressrequest(&pm->n);
	else if (st == N_DELETE)
		rc = sendnewportmappingrequest(&pm->n, NATPMP_PROTOCOL_TCP, port, 0, 0);
	else
		rc = sendnewportmappingrequest(&pm->n, NATPMP_PROTOCOL_TCP, port,
		    pm->st.method == PM_NATPMP && pm->st.ext_port ? pm->st.ext_port : port, pm->o.lease_s);
	if (rc < 0) {
		if (st == N_DELETE) {
			pm->nstate = N_OFF;
			natpmp_close(pm);
		} else {
			natpmp_fail(pm, PMR_NO_ANSWER, "cannot send to the gateway %s (%s)", pm->n_gw,
			    strerror(errno));
		}
		return;
	}
	pm->nstate = st;
	pm->n_t0 = loop_now(pm->loop);
	if (st != N_DELETE)
		natpmp_arm(pm);
}

/* A NAT-PMP error code in words and as a reason. */
static enum pm_reason
natpmp_reason(int rc, char *why, size_t n, const char *gw)
{
	switch (rc) {
	case NATPMP_ERR_NOGATEWAYSUPPORT:
		snprintf(why, n, "the gateway %s does not speak NAT-PMP", gw);
		return PMR_NO_ANSWER;
	case NATPMP_ERR_NETWORKFAILURE:
		snprintf(why, n, "the gateway %s has no public address (NAT-PMP: network failure)", gw);
		return PMR_DOUBLE_NAT;
	case NATPMP_ERR_NOTAUTHORIZED:
		snprintf(why, n, "the gateway %s refused: not authorized", gw);
		return PMR_REFUSED;
	case NATPMP_ERR_OUTOFRESOURCES:
		snprintf(why, n, "the gateway %s refused: out of resources", gw);
		return PMR_REFUSED;
	case NATPMP_ERR_UNSUPPORTEDVERSION:
	case NATPMP_ERR_UNSUPPORTEDOPCODE:
		snprintf(why, n, "the gateway %s refused: unsupported request", gw);
		return PMR_REFUSED;
	case NATPMP_ERR_RECVFROM:
		snprintf(why, n, "no NAT-PMP answer from %s (%s)", gw, strerror(errno));
		return PMR_NO_ANSWER;
	default:
		snprintf(why, n, "the gateway %s refused (NAT-PMP error %d)", gw, rc);
		return PMR_REFUSED;
	}
}

/* Read an answer (or retransmit) for the pending request. */
static void
natpmp_poll(struct portmap *pm)
{
	natpmpresp_t resp;
	char addr[PM_ADDRLEN], why[160];
	enum pm_reason reason;
	int rc;

	memset(&resp, 0, sizeof resp);
	rc = readnatpmpresponseorretry(&pm->n, &resp);
	if (rc == NATPMP_TRYAGAIN || rc == NATPMP_ERR_WRONGPACKETSOURCE) {
		if (loop_now(pm->loop) - pm->n_t0 >= (uint64_t)pm->o.natpmp_ms) {
			natpmp_fail(pm, PMR_NO_ANSWER, "no NAT-PMP answer from the gateway %s in %d ms",
			    pm->n_gw, pm->o.natpmp_ms);
			return;
		}
		natpmp_arm(pm);
		return;
	}
	loop_timer_del(pm->loop, &pm->n_timer);
	if (rc < 0) {
		reason = natpmp_reason(rc, why, sizeof why, pm->n_gw);
		natpmp_fail(pm, reason, "%s", why);
		return;
	}
	switch (pm->nstate) {
	case N_ADDR:
		if (resp.type != NATPMP_RESPTYPE_PUBLICADDRESS)
			break;
		inet_ntop(AF_INET, &resp.pnu.publicaddress.addr, addr, sizeof addr);
		if (pm_addr_reserved(addr)) {
			natpmp_fail(pm, PMR_DOUBLE_NAT, "the router's own external address %s is private or reserved",
			    addr);
			return;
		}
		snprintf(pm->n_ext, sizeof pm->n_ext, "%s", addr);
		pm->nstate = N_READY;
		log_info("portmap: NAT-PMP gateway %s, external address %s", pm->n_gw, addr);
		pm_next(pm);
		return;
	case N_MAP:
	case N_RENEW:
		if (resp.type != NATPMP_RESPTYPE_TCPPORTMAPPING ||
		    resp.pnu.newportmapping.privateport != pm->o.port)
			break;
		if (resp.pnu.newportmapping.lifetime == 0 || resp.pnu.newportmapping.mappedpublicport == 0) {
			natpmp_fail(pm, PMR_REFUSED, "the gateway %s granted no mapping", pm->n_gw);
			return;
		}
		{
			int renewal = pm->nstate == N_RENEW;

			pm->nstate = N_MAPPED;
			pm_mapped(pm, PM_NATPMP, pm->n_ext, resp.pnu.newportmapping.mappedpublicport,
			    resp.pnu.newportmapping.lifetime, renewal);
		}
		return;
	case N_DELETE:
		pm->nstate = N_OFF;
		natpmp_close(pm);
		return;
	default:
		break;
	}
	/* an answer to something else: keep waiting within the same deadline */
	if (pm->nstate == N_ADDR || pm->nstate == N_MAP || pm->nstate == N_RENEW)
		natpmp_arm(pm);
}

/* The NAT-PMP socket is readable. */
static void
natpmp_readable(struct loop *loop, int fd, int revents, void *arg)
{
	struct portmap *pm = arg;
	uint8_t junk[64];

	if (pm->nstate == N_ADDR || pm->nstate == N_MAP || pm->nstate == N_RENEW || pm->nstate == N_DELETE) {
		natpmp_poll(pm);
		return;
	}
	/* nothing pending: drop the datagram (or the error) */
	if (recv(fd, junk, sizeof junk, MSG_DONTWAIT) == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
		log_debug("portmap: NAT-PMP socket: %s", strerror(errno));
}

/* The retry time of the pending request has come. */
static void
natpmp_timeout(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct portmap *pm = arg;

	if (pm->nstate == N_ADDR || pm->nstate == N_MAP || pm->nstate == N_RENEW)
		natpmp_poll(pm);
}

/* Find the gateway and ask it for the public address. */
static void
natpmp_begin(struct portmap *pm)
{
	struct in_addr gw;
	int rc;

	natpmp_close(pm);
	pm->n_ext[0] = '\0';
	memset(&pm->n, 0, sizeof pm->n);
	pm->n.s = -1;
	rc = initnatpmp(&pm->n, 0, 0);
	if (rc < 0) {
		/* initnatpmp leaves its socket open when it fails later on */
		if (pm->n.s >= 0)
			closenatpmp(&pm->n);
		if (rc == NATPMP_ERR_CANNOTGETGATEWAY)
			natpmp_fail(pm, PMR_NO_GATEWAY, "no default gateway (IPv4)");
		else
			natpmp_fail(pm, PMR_NO_ANSWER, "cannot reach the gateway (NAT-PMP error %d)", rc);
		return;
	}
	pm->n_open = 1;
	fcntl(pm->n.s, F_SETFD, FD_CLOEXEC);
	gw.s_addr = pm->n.gateway;
	inet_ntop(AF_INET, &gw, pm->n_gw, sizeof pm->n_gw);
	if (loop_fd_add(pm->loop, pm->n.s, POLLIN, natpmp_readable, pm) == -1) {
		natpmp_fail(pm, PMR_NO_ANSWER, "cannot watch the NAT-PMP socket");
		return;
	}
	natpmp_send(pm, N_ADDR);
}

/* --- UPnP (main-thread side) ---------------------------------------------- */

/* Queue a job of this attempt. */
static void
upnp_post(struct portmap *pm, enum job_kind kind, int renew)
{
	struct upnp_job j;

	memset(&j, 0, sizeof j);
	j.kind = kind;
	j.gen = pm->gen;
	j.renew = renew;
	j.delay_ms = pm->o.upnp_delay_ms;
	j.int_port = pm->o.port;
	j.ext_port = renew && pm->st.ext_port ? pm->st.ext_port : pm->o.port;
	j.lease_s = pm->o.lease_s;
	j.permanent = pm->u_permanent;
	worker_post(pm->w, &j);
}

/* UPnP cannot map. */
static void
upnp_fail(struct portmap *pm, enum pm_reason reason, const char *why)
{
	snprintf(pm->u_why, sizeof pm->u_why, "%s", why);
	pm->u_reason = reason;
	pm->ustate = U_FAILED;
	log_info("portmap: UPnP: %s", why);
	pm_next(pm);
}

/* Take one result from the worker. */
static void
upnp_result(struct portmap *pm, const struct upnp_result *r)
{
	if (r->trace[0] != '\0')
		log_debug("portmap: upnp: %s", r->trace);
	if (r->gen != pm->gen || pm->stopping)
		return;   /* from an earlier attempt */
	switch (r->kind) {
	case JOB_DISCOVER:
		if (pm->ustate != U_DISCOVER)
			return;
		if (!r->ok) {
			upnp_fail(pm, r->reason, r->why);
			return;
		}
		snprintf(pm->u_ext, sizeof pm->u_ext, "%s", r->ext_addr);
		pm->ustate = U_READY;
		log_info("portmap: UPnP gateway found, external address %s", pm->u_ext);
		pm_next(pm);
		return;
	case JOB_MAP:
		if (r->renew) {
			if (pm->ustate != U_RENEW)
				return;
			if (!r->ok) {
				pm->ustate = U_FAILED;
				snprintf(pm->u_why, sizeof pm->u_why, "%s", r->why);
				pm_lost(pm, r->why);
				return;
			}
			pm->ustate = U_MAPPED;
			pm->u_permanent = r->permanent;
			pm_mapped(pm, PM_UPNP, pm->u_ext, r->ext_port, r->lease_s, 1);
			return;
		}
		if (pm->ustate != U_MAP)
			return;
		if (!r->ok) {
			upnp_fail(pm, r->reason, r->why);
			return;
		}
		pm->ustate = U_MAPPED;
		pm->u_permanent = r->permanent;
		pm_mapped(pm, PM_UPNP, pm->u_ext, r->ext_port, r->lease_s, 0);
		return;
	default:
		return;
	}
}

/* The worker has results. */
static void
upnp_readable(struct loop *loop, int fd, int revents, void *arg)
{
	struct portmap *pm = arg;
	struct upnp_result rs[WQ];
	uint64_t v;
	size_t n = 0, i;

	if (read(fd, &v, sizeof v) == -1 && errno != EAGAIN)
		log_debug("portmap: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&pm->w->mu);
	while (pm->w->rn > 0) {
		rs[n++] = pm->w->res[pm->w->rhead];
		pm->w->rhead = (pm->w->rhead + 1) % WQ;
		pm->w->rn--;
	}
	pthread_mutex_unlock(&pm->w->mu);
	for (i = 0; i < n; i++)
		upnp_result(pm, &rs[i]);
}

/* --- the arbiter ------------------------------------------------------------- */

/* Let a ready method map if nobody holds or is getting the mapping; notice total failure. */
static void
pm_next(struct portmap *pm)
{
	int held, mapping;

	if (pm->stopping)
		return;
	held = pm->nstate == N_MAPPED || pm->nstate == N_RENEW ||
	    pm->ustate == U_MAPPED || pm->ustate == U_RENEW;
	mapping = pm->nstate == N_MAP || pm->ustate == U_MAP;
	if (held || mapping)
		return;
	if (pm->nstate == N_READY) {
		natpmp_send(pm, N_MAP);
		return;
	}
	if (pm->ustate == U_READY) {
		pm->ustate = U_MAP;
		upnp_post(pm, JOB_MAP, 0);
		return;
	}
	if (pm->nstate == N_FAILED && (pm->ustate == U_FAILED || pm->w == NULL) &&
	    pm->st.state == PM_PENDING) {
		int nr = reason_rank(pm->n_reason), ur = pm->w ? reason_rank(pm->u_reason) : -1;

		pm->st.state = PM_FAILED;
		pm->st.method = PM_NONE;
		pm->st.reason = nr >= ur ? pm->n_reason : pm->u_reason;
		if (pm->w != NULL)
			snprintf(pm->st.why, sizeof pm->st.why, "NAT-PMP: %.118s; UPnP: %.118s", pm->n_why, pm->u_why);
		else
			snprintf(pm->st.why, sizeof pm->st.why, "NAT-PMP: %s", pm->n_why);
		log_info("portmap: not reachable from outside (%s): %s", pm_reason_name(pm->st.reason), pm->st.why);
		pm_emit(pm);
	}
}

/* Start (or start over) both methods. */
static void
pm_begin(struct portmap *pm)
{
	pm->gen++;
	pm->st.state = PM_PENDING;
	pm->st.method = PM_NONE;
	pm->st.reason = PMR_NONE;
	pm->st.why[0] = '\0';
	pm->st.ext_addr[0] = '\0';
	pm->st.ext_port = 0;
	pm->n_reason = pm->u_reason = PMR_NONE;
	pm->n_why[0] = pm->u_why[0] = '\0';
	pm->u_permanent = 0;
	loop_timer_del(pm->loop, &pm->renew);
	if (pm->w != NULL) {
		pm->ustate = U_DISCOVER;
		upnp_post(pm, JOB_DISCOVER, 0);
	} else {
		pm->ustate = U_FAILED;
		snprintf(pm->u_why, sizeof pm->u_why, "not available");
		pm->u_reason = PMR_NO_ANSWER;
	}
	pm->nstate = N_OFF;
	natpmp_begin(pm);
}

/* Time to start over after a lost mapping. */
static void
pm_restart_cb(struct loop *loop, struct loop_timer *t, void *arg)
{
	pm_begin(arg);
}

/* The mapping we held is gone: say so and start over shortly. */
static void
pm_lost(struct portmap *pm, const char *why)
{
	pm->st.state = PM_FAILED;
	pm->st.method = PM_NONE;
	pm->st.reason = PMR_LOST;
	snprintf(pm->st.why, sizeof pm->st.why, "the router stopped renewing our mapping: %s", why);
	pm->st.ext_addr[0] = '\0';
	pm->st.ext_port = 0;
	loop_timer_del(pm->loop, &pm->renew);
	log_warn("portmap: %s", pm->st.why);
	pm_emit(pm);
	loop_timer_set(pm->loop, &pm->restart, 2000);
}

/* Half the lease is gone: renew with the method that holds the mapping. */
static void
pm_renew_cb(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct portmap *pm = arg;

	if (pm->stopping || pm->st.state != PM_MAPPED)
		return;
	if (pm->st.method == PM_NATPMP && pm->nstate == N_MAPPED) {
		natpmp_send(pm, N_RENEW);
	} else if (pm->st.method == PM_UPNP && pm->ustate == U_MAPPED) {
		pm->ustate = U_RENEW;
		upnp_post(pm, JOB_MAP, 1);
	}
}

/* Start mapping. */
struct portmap *
portmap_start(struct loop *loop, const struct portmap_opts *o, portmap_cb cb, void *arg)
{
	struct portmap *pm;

	if ((pm = calloc(1, sizeof *pm)) == NULL)
		return NULL;
	pm->loop = loop;
	pm->o = *o;
	if (pm->o.lease_s == 0)
		pm->o.lease_s = PM_LEASE_DEFAULT;
	if (pm->o.natpmp_ms <= 0)
		pm->o.natpmp_ms = PM_NATPMP_MS_DEFAULT;
	if (pm->o.upnp_delay_ms < 1000)
		pm->o.upnp_delay_ms = PM_UPNP_DELAY_DEFAULT;
	pm->cb = cb;
	pm->arg = arg;
	pm->st.int_port = o->port;
	pm->n.s = -1;
	loop_timer_init(&pm->renew, pm_renew_cb, pm);
	loop_timer_init(&pm->restart, pm_restart_cb, pm);
	loop_timer_init(&pm->later, pm_later_cb, pm);
	loop_timer_init(&pm->n_timer, natpmp_timeout, pm);
	if ((pm->w = worker_new()) == NULL)
		log_warn("portmap: no UPnP worker thread: %s", strerror(errno));
	else if (loop_fd_add(loop, pm->w->efd, POLLIN, upnp_readable, pm) == -1) {
		struct upnp_job q = { .kind = JOB_QUIT };

		worker_post(pm->w, &q);
		pthread_join(pm->w->th, NULL);
		worker_destroy(pm->w);
		pm->w = NULL;
	}
	log_info("portmap: mapping TCP port %u (lease %us)", pm->o.port, pm->o.lease_s);
	pm->in_call = 1;
	pm_begin(pm);
	pm->in_call = 0;
	return pm;
}

/* The current status. */
const struct pm_status *
portmap_status(const struct portmap *pm)
{
	return &pm->st;
}

/* Try again if we are not mapped and not trying. */
void
portmap_retry(struct portmap *pm)
{
	if (pm->stopping || pm->st.state == PM_MAPPED)
		return;
	if (pm->st.state == PM_PENDING && !(pm->nstate == N_FAILED && pm->ustate == U_FAILED))
		return;
	loop_timer_del(pm->loop, &pm->restart);
	pm->in_call = 1;
	pm_begin(pm);
	pm->in_call = 0;
}

/* Start removing our mapping; no more callbacks. */
void
portmap_stop(struct portmap *pm)
{
	struct upnp_job j;

	if (pm == NULL || pm->stopping)
		return;
	pm->stopping = 1;
	loop_timer_del(pm->loop, &pm->renew);
	loop_timer_del(pm->loop, &pm->restart);
	loop_timer_del(pm->loop, &pm->later);
	loop_timer_del(pm->loop, &pm->n_timer);
	if (pm->nstate == N_MAP || pm->nstate == N_MAPPED || pm->nstate == N_RENEW)
		natpmp_send(pm, N_DELETE);   /* lifetime 0 */
	else {
		pm->nstate = N_OFF;
		natpmp_close(pm);
	}
	if (pm->w != NULL) {
		/* the worker removes whatever it holds (nothing if it never mapped) */
		memset(&j, 0, sizeof j);
		j.kind = JOB_DELETE;
		worker_post(pm->w, &j);
		j.kind = JOB_QUIT;
		worker_post(pm->w, &j);
	}
}

/* Monotonic milliseconds (the loop is no longer turning). */
static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait up to ms for the answer to the NAT-PMP removal. */
static void
natpmp_wait_delete(struct portmap *pm, int ms)
{
	uint64_t end = mono_ms() + (uint64_t)ms;
	natpmpresp_t resp;
	struct pollfd pfd;
	struct timeval tv;
	long long wait;
	int rc;

	while (pm->nstate == N_DELETE) {
		uint64_t now = mono_ms();

		if (now >= end)
			break;
		wait = 250;
		if (getnatpmprequesttimeout(&pm->n, &tv) == 0)
			wait = (long long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
		if (wait < 0)
			wait = 0;
		if (wait > (long long)(end - now))
			wait = (long long)(end - now);
		pfd.fd = pm->n.s;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)wait) == -1 && errno != EINTR)
			break;
		rc = readnatpmpresponseorretry(&pm->n, &resp);
		if (rc == NATPMP_TRYAGAIN)
			continue;
		log_info("portmap: NAT-PMP mapping removed (%d)", rc);
		break;
	}
	pm->nstate = N_OFF;
	natpmp_close(pm);
}

/* Wait (bounded) for the removals, then free. */
void
portmap_free(struct portmap *pm)
{
	struct upnp_worker *w;
	struct timespec until;
	int done;

	if (pm == NULL)
		return;
	portmap_stop(pm);
	if (pm->nstate == N_DELETE)
		natpmp_wait_delete(pm, 1000);
	natpmp_close(pm);
	if ((w = pm->w) != NULL) {
		loop_fd_del(pm->loop, w->efd);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += 4;
		pthread_mutex_lock(&w->mu);
		while (!w->exited) {
			/* a discovery holds no mapping: do not wait seconds for it */
			if (w->busy && w->running == JOB_DISCOVER)
				break;
			if (pthread_cond_timedwait(&w->done_cv, &w->mu, &until) == ETIMEDOUT)
				break;
		}
		done = w->exited;
		if (!done)
			w->abandoned = 1;
		pthread_mutex_unlock(&w->mu);
		if (done) {
			pthread_join(w->th, NULL);
			worker_destroy(w);
		} else {
			log_info("portmap: leaving the UPnP worker to finish on its own");
			pthread_detach(w->th);
		}
	}
	free(pm);
}
