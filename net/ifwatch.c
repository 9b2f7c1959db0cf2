/* ifwatch.c - the machine's interfaces and addresses, kept current via rtnetlink. */
#include "config.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ifwatch.h"
#include "log.h"
#include "mem.h"

#define IFW_RXBUF      65536
#define IFW_MAX_LINKS  512
#define IFW_MAX_ADDRS  4096
#define IFW_SETTLE_MS  50     /* coalesce a burst of notifications */
#define IFW_READS_MAX  64     /* datagrams read per wake-up */

enum dump_phase { DUMP_NONE = 0, DUMP_LINKS, DUMP_ADDRS };

struct link_ent {
	struct ifw_link l;
	int             stale;   /* not seen in the dump in progress */
};

struct addr_ent {
	struct ifw_addr a;
	int             stale;
};

struct ifwatch {
	struct loop      *loop;
	int               fd;
	ifwatch_cb        cb;
	void             *arg;
	struct link_ent  *links;
	size_t            nlinks, alinks;
	struct addr_ent  *addrs;
	size_t            naddrs, aaddrs;
	enum dump_phase   dumping;
	uint32_t          seq;        /* of the dump in progress */
	int               ready;      /* a complete dump has arrived */
	int               resync;     /* start another dump when this one ends */
	int               changed;    /* something changed since the last callback */
	struct loop_timer settle;
	uint8_t          *rx;
};

static void ifw_readable(struct loop *, int, int, void *);

/* Ask the kernel for a dump of links or addresses. */
static int
send_dump(struct ifwatch *w, int type)
{
	struct {
		struct nlmsghdr nh;
		struct rtgenmsg g;
	} req;
	struct sockaddr_nl kernel;

	memset(&req, 0, sizeof req);
	memset(&kernel, 0, sizeof kernel);
	kernel.nl_family = AF_NETLINK;
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof req.g);
	req.nh.nlmsg_type = (uint16_t)type;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = ++w->seq;
	req.g.rtgen_family = AF_UNSPEC;
	if (sendto(w->fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) == -1) {
		log_warn("ifwatch: netlink dump request: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Begin a full dump: everything not confirmed by it is dropped at its end. */
static void
start_dump(struct ifwatch *w)
{
	size_t i;

	if (w->dumping != DUMP_NONE) {
		w->resync = 1;
		return;
	}
	w->resync = 0;
	for (i = 0; i < w->nlinks; i++)
		w->links[i].stale = 1;
	for (i = 0; i < w->naddrs; i++)
		w->addrs[i].stale = 1;
	w->dumping = DUMP_LINKS;
	if (send_dump(w, RTM_GETLINK) == -1)
		w->dumping = DUMP_NONE;
}

/* The settling delay is over: tell the owner once. */
static void
settle_fire(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct ifwatch *w = arg;

	if (w->dumping != DUMP_NONE || !w->ready || !w->changed)
		return;
	w->changed = 0;
	w->cb(w->arg);
}

/* Note a change; the owner hears of it after the settling delay. */
static void
mark_changed(struct ifwatch *w)
{
	w->changed = 1;
	if (w->dumping == DUMP_NONE && w->ready && !loop_timer_armed(&w->settle))
		loop_timer_set(w->loop, &w->settle, IFW_SETTLE_MS);
}

/* Remove link i and every address on it. */
static void
link_remove(struct ifwatch *w, size_t i)
{
	int idx = w->links[i].l.ifindex;
	size_t j = 0;

	w->links[i] = w->links[--w->nlinks];
	while (j < w->naddrs) {
		if (w->addrs[j].a.ifindex == idx)
			w->addrs[j] = w->addrs[--w->naddrs];
		else
			j++;
	}
	mark_changed(w);
}

/* Drop what the finished dump did not confirm. */
static void
sweep(struct ifwatch *w, enum dump_phase phase)
{
	size_t i = 0;

	if (phase == DUMP_LINKS) {
		while (i < w->nlinks) {
			if (w->links[i].stale)
				link_remove(w, i);
			else
				i++;
		}
	} else {
		while (i < w->naddrs) {
			if (w->addrs[i].stale) {
				w->addrs[i] = w->addrs[--w->naddrs];
				mark_changed(w);
			} else {
				i++;
			}
		}
	}
}

/* RTM_NEWLINK / RTM_DELLINK. */
static void
got_link(struct ifwatch *w, const struct nlmsghdr *nh)
{
	const struct ifinfomsg *ifi;
	const struct rtattr *rta;
	char name[IF_NAMESIZE] = "";
	size_t i, n;
	int len;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof *ifi))
		return;
	ifi = NLMSG_DATA(nh);
	if (ifi->ifi_index <= 0 || ifi->ifi_family != AF_UNSPEC)
		return;   /* AF_BRIDGE messages describe bridge ports, not links */
	len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof *ifi));
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type != IFLA_IFNAME)
			continue;
		n = RTA_PAYLOAD(rta);
		if (n >= sizeof name)
			n = sizeof name - 1;
		memcpy(name, RTA_DATA(rta), n);
		name[n] = '\0';
	}
	for (i = 0; i < w->nlinks; i++)
		if (w->links[i].l.ifindex == ifi->ifi_index)
			break;
	if (nh->nlmsg_type == RTM_DELLINK) {
		if (i < w->nlinks)
			link_remove(w, i);
		return;
	}
	if (i == w->nlinks) {
		if (w->nlinks == IFW_MAX_LINKS)
			return;
		if (w->nlinks == w->alinks) {
			struct link_ent *nl = mem_grow(w->links, &w->alinks, w->nlinks + 1,
			                               sizeof *nl, 16, 0);

			if (nl == NULL)
				return;
			w->links = nl;
		}
		memset(&w->links[i], 0, sizeof w->links[i]);
		w->links[i].l.ifindex = ifi->ifi_index;
		w->nlinks++;
		mark_changed(w);
	}
	w->links[i].stale = 0;
	if (w->links[i].l.flags != ifi->ifi_flags) {
		w->links[i].l.flags = ifi->ifi_flags;
		mark_changed(w);
	}
	if (name[0] != '\0' && strcmp(name, w->links[i].l.name) != 0) {
		memcpy(w->links[i].l.name, name, sizeof name);
		mark_changed(w);
	}
}

/* RTM_NEWADDR / RTM_DELADDR. */
static void
got_addr(struct ifwatch *w, const struct nlmsghdr *nh)
{
	const struct ifaddrmsg *ifa;
	const struct rtattr *rta;
	struct ifw_addr a;
	const void *local = NULL, *address = NULL;
	unsigned raw_flags;
	size_t alen, i;
	int len;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof *ifa))
		return;
	ifa = NLMSG_DATA(nh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return;
	alen = ifa->ifa_family == AF_INET ? 4 : 16;
	memset(&a, 0, sizeof a);
	a.ifindex = (int)ifa->ifa_index;
	a.family = ifa->ifa_family;
	a.prefixlen = ifa->ifa_prefixlen;
	a.scope = ifa->ifa_scope;
	raw_flags = ifa->ifa_flags;
	len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof *ifa));
	for (rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		switch (rta->rta_type) {
		case IFA_LOCAL:
			if (RTA_PAYLOAD(rta) >= alen)
				local = RTA_DATA(rta);
			break;
		case IFA_ADDRESS:
			if (RTA_PAYLOAD(rta) >= alen)
				address = RTA_DATA(rta);
			break;
		case IFA_BROADCAST:
			if (ifa->ifa_family == AF_INET && RTA_PAYLOAD(rta) >= 4) {
				memcpy(a.brd, RTA_DATA(rta), 4);
				a.has_brd = 1;
			}
			break;
		case IFA_FLAGS:
			if (RTA_PAYLOAD(rta) >= sizeof(uint32_t))
				memcpy(&raw_flags, RTA_DATA(rta), sizeof(uint32_t));
			break;
		}
	}
	if (local == NULL)
		local = address;
	if (local == NULL || a.ifindex <= 0)
		return;
	memcpy(a.addr, local, alen);
	if (raw_flags & IFA_F_TENTATIVE)
		a.flags |= IFW_ADDR_TENTATIVE;
	if (raw_flags & IFA_F_DADFAILED)
		a.flags |= IFW_ADDR_DADFAILED;
	for (i = 0; i < w->naddrs; i++)
		if (w->addrs[i].a.ifindex == a.ifindex && w->addrs[i].a.family == a.family &&
		    w->addrs[i].a.prefixlen == a.prefixlen && memcmp(w->addrs[i].a.addr, a.addr, 16) == 0)
			break;
	if (nh->nlmsg_type == RTM_DELADDR) {
		if (i < w->naddrs) {
			w->addrs[i] = w->addrs[--w->naddrs];
			mark_changed(w);
		}
		return;
	}
	if (i == w->naddrs) {
		if (w->naddrs == IFW_MAX_ADDRS)
			return;
		if (w->naddrs == w->aaddrs) {
			struct addr_ent *nv = mem_grow(w->addrs, &w->aaddrs, w->naddrs + 1,
			                               sizeof *nv, 16, 0);

			if (nv == NULL)
				return;
			w->addrs = nv;
		}
		w->naddrs++;
		w->addrs[i].a = a;
		mark_changed(w);
	} else if (memcmp(&w->addrs[i].a, &a, sizeof a) != 0) {
		w->addrs[i].a = a;
		mark_changed(w);
	}
	w->addrs[i].stale = 0;
}

/* The end of a dump (or an error answering it). */
static void
dump_done(struct ifwatch *w)
{
	enum dump_phase phase = w->dumping;
	int first = !w->ready;

	sweep(w, phase);
	if (phase == DUMP_LINKS) {
		w->dumping = DUMP_ADDRS;
		if (send_dump(w, RTM_GETADDR) == 0)
			return;
		sweep(w, DUMP_ADDRS);
	}
	w->dumping = DUMP_NONE;
	if (first) {
		w->ready = 1;
		w->changed = 1;
	}
	if (w->resync) {
		start_dump(w);
		return;
	}
	/* the first table goes to the owner at once, later changes settle first */
	if (w->changed && (first || !loop_timer_armed(&w->settle)))
		loop_timer_set(w->loop, &w->settle, first ? 0 : IFW_SETTLE_MS);
}

/* NLMSG_OK with the signedness spelled out: a whole message fits in len bytes. */
static int
nl_ok(const struct nlmsghdr *nh, int len)
{
	return len >= (int)sizeof *nh && nh->nlmsg_len >= sizeof *nh &&
	    nh->nlmsg_len <= (unsigned int)len;
}

/* Handle one datagram of netlink messages. */
static void
process(struct ifwatch *w, const uint8_t *p, size_t n)
{
	const struct nlmsghdr *nh;
	int len = (int)n;

	for (nh = (const struct nlmsghdr *)p; nl_ok(nh, len); nh = NLMSG_NEXT(nh, len)) {
		/* DONE and ERROR only ever answer our own requests */
		int ours = w->dumping != DUMP_NONE && nh->nlmsg_seq == w->seq;

		switch (nh->nlmsg_type) {
		case NLMSG_DONE:
		case NLMSG_ERROR:
			if (ours)
				dump_done(w);
			break;
		case RTM_NEWLINK:
		case RTM_DELLINK:
			got_link(w, nh);
			break;
		case RTM_NEWADDR:
		case RTM_DELADDR:
			got_addr(w, nh);
			break;
		default:
			break;
		}
	}
}

/* The netlink socket is readable. */
static void
ifw_readable(struct loop *loop, int fd, int revents, void *arg)
{
	struct ifwatch *w = arg;
	struct sockaddr_nl from;
	socklen_t fromlen;
	ssize_t r;
	int i;

	for (i = 0; i < IFW_READS_MAX; i++) {
		fromlen = sizeof from;
		r = recvfrom(fd, w->rx, IFW_RXBUF, MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* we missed notifications: read everything again */
				log_info("ifwatch: netlink overrun, resynchronising");
				w->dumping = DUMP_NONE;
				start_dump(w);
				continue;
			}
			return;   /* EAGAIN */
		}
		if (fromlen < sizeof from || from.nl_pid != 0)
			continue;   /* only the kernel speaks here */
		if ((size_t)r > IFW_RXBUF)
			continue;   /* truncated: cannot happen with a 64 KiB buffer */
		process(w, w->rx, (size_t)r);
	}
}

/* Open the netlink socket and ask for the first dump. */
struct ifwatch *
ifwatch_new(struct loop *loop, ifwatch_cb changed, void *arg)
{
	struct ifwatch *w;
	struct sockaddr_nl sa;
	int saved;

	if ((w = calloc(1, sizeof *w)) == NULL || (w->rx = malloc(IFW_RXBUF)) == NULL) {
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	w->fd = -1;
	w->loop = loop;
	w->cb = changed;
	w->arg = arg;
	loop_timer_init(&w->settle, settle_fire, w);
	w->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (w->fd == -1)
		goto fail;
	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
	if (bind(w->fd, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    loop_fd_add(loop, w->fd, POLLIN, ifw_readable, w) == -1)
		goto fail;
	start_dump(w);
	if (w->dumping == DUMP_NONE)
		goto fail;
	return w;
fail:
	saved = errno;
	ifwatch_free(w);
	errno = saved;
	return NULL;
}

/* Close the socket and free the tables. */
void
ifwatch_free(struct ifwatch *w)
{
	if (w == NULL)
		return;
	loop_timer_del(w->loop, &w->settle);
	if (w->fd >= 0) {
		loop_fd_del(w->loop, w->fd);
		close(w->fd);
	}
	free(w->links);
	free(w->addrs);
	free(w->rx);
	free(w);
}

int ifwatch_ready(const struct ifwatch *w) { return w->ready; }
size_t ifwatch_nlinks(const struct ifwatch *w) { return w->nlinks; }
const struct ifw_link *ifwatch_link(const struct ifwatch *w, size_t i) { return &w->links[i].l; }
size_t ifwatch_naddrs(const struct ifwatch *w) { return w->naddrs; }
const struct ifw_addr *ifwatch_addr(const struct ifwatch *w, size_t i) { return &w->addrs[i].a; }
