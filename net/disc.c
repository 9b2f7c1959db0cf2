/* disc.c - LAN discovery: beacons on IPv4/IPv6 multicast and IPv4 broadcast. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sodium.h>

#include "disc.h"
#include "ifwatch.h"
#include "mem.h"
#include "log.h"
#include "sock.h"

#define BURST_STEP1_MS     250    /* + up to 100: an announcement */
#define BURST_STEP2_MS     1000   /* + up to 200: a query listing whom we heard */
#define REPLY_DELAY_MIN    20     /* a reply waits 20..120 ms so that replies batch */
#define REPLY_DELAY_SPREAD 100
#define REPLY_QUICK_SPREAD 20     /* ... or 0..20 ms after a quiet second */
#define REPLY_QUIET_MS     1000
#define REPLY_GAP_MS       500    /* at most one reply to a peer per this */
#define REPLY_QMAX         64     /* replies waiting at once */
#define AGGREGATE_MIN      3      /* this many waiting replies: multicast one instead */
#define MCAST_MIN_GAP_MS   100    /* least time between announcements that replace replies */
#define NICK_GAP_MS        1000   /* a nick change is announced at most this often */
#define DUP_WINDOW_MS      2000   /* copies of one transmission arrive within this */
#define RX_PER_WAKE        64     /* datagrams read per socket per wake-up */
#define RX_SOCKBUF         (1 << 20)
#define RL_SLOTS           256    /* per-source rate limiter: table size */
#define RL_PROBE           8
#define RL_BURST           30     /* per source: burst and datagrams per second */
#define RL_RATE            10
#define RL_IDLE_MS         10000  /* an entry idle this long may be reused */
#define RX_BURST           1000   /* all sources together */
#define RX_RATE            500
#define REPLY_BURST        64     /* unicast replies, all destinations together */
#define REPLY_RATE         32

enum rx_class { RX_UNICAST = 0, RX_MCAST, RX_BCAST };

/* An interface in use. */
struct dif {
	int            ifindex;
	char           name[IF_NAMESIZE];
	int            v4, v6;        /* usable for that family now */
	int            joined4, joined6;
	struct in_addr brd;           /* IPv4 broadcast address */
	int            has_brd;
	struct in_addr addr4;         /* our IPv4 source address on it */
	uint64_t       sent4_at, sent6_at;   /* last beacon of ours to the group */
	uint64_t       burst_t0;      /* when the start-up query went out */
	int            burst_step;    /* next start-up step, or -1 */
	int            burst_v4, burst_v6;
	uint64_t       burst_at;
	int            alive;         /* still present (interface sweep) */
};

/* A peer as we heard it. */
struct dpeer {
	uint8_t        key[BEACON_KEYLEN];
	uint8_t        nick[BEACON_NICK_MAX];
	size_t         nick_len;
	uint32_t       seq;
	uint16_t       interval_s;
	uint64_t       last_rx, expires, replied_at;
	uint8_t        src[16];           /* where its last beacon came from (ip16) */
	uint32_t       hits;              /* transmissions heard (copies count once) */
	struct sockaddr_storage a4, a6;   /* beacon source with the announced TCP port */
	socklen_t      a4len, a6len;      /* 0: no usable path of that family */
	uint64_t       last4, last6;
	int            if4, if6;
	uint64_t       mc4_at, bc4_at;    /* last IPv4 beacon by multicast, by broadcast */
	struct sockaddr_storage rep;      /* the address last reported to the owner */
	socklen_t      replen;
};

struct reply {
	struct sockaddr_storage to;
	socklen_t      tolen;
	int            ifindex;
	uint64_t       queued_at;
};

struct rl_ent {
	uint8_t  ip[16];
	uint64_t at;
	int64_t  milli;    /* tokens * 1000 */
	int      used;
};

struct tbucket {
	uint64_t at;
	int64_t  milli;
};

struct disc {
	struct loop      *loop;
	struct disc_ops   ops;
	void             *arg;
	uint8_t           key[BEACON_KEYLEN];
	char              nick[BEACON_NICK_MAX + 1];
	struct beacon_port ports[BEACON_MAX_PORTS];
	int               nports;
	char              iface[IF_NAMESIZE];
	unsigned          refresh_min;
	int               rx4, rx6, tx4, tx6;
	struct in_addr    group4;
	struct in6_addr   group6;
	struct ifwatch   *ifw;
	struct dif       *ifs;
	size_t            nifs, aifs;
	struct dpeer     *peers;
	size_t            npeers, apeers;
	struct reply      replies[REPLY_QMAX];
	size_t            nreplies;
	uint64_t          last_aggregate; /* last announcement that replaced replies */
	uint64_t          last_queued;   /* last reply queued */
	struct loop_timer refresh_t, burst_t, reply_t, expire_t, nick_t;
	uint32_t          seq;
	uint16_t          interval_s;    /* what our beacons announce */
	uint64_t          last_mcast;    /* last announcement to the groups */
	struct rl_ent     rl[RL_SLOTS];
	struct tbucket    rx_tb, reply_tb;
	struct disc_stats st;
};

static void schedule_refresh(struct disc *);

/* The refresh interval in ms for nhosts hosts. */
unsigned
disc_refresh_interval(unsigned min_ms, size_t nhosts)
{
	uint64_t t = (uint64_t)min_ms * nhosts / DISC_SCALE_PEERS;

	if (t < min_ms)
		t = min_ms;
	if (t > BEACON_INTERVAL_MAX * 1000u)
		t = BEACON_INTERVAL_MAX * 1000u;
	return (unsigned)t;
}

/* A uniformly random number of ms in [0, spread). */
static uint64_t
jitter(uint32_t spread)
{
	return spread ? randombytes_uniform(spread) : 0;
}

/* Take one token from a bucket refilled at rate per second up to burst. */
static int
tb_take(struct tbucket *tb, uint64_t now, int64_t burst, int64_t rate)
{
	if (tb->at == 0) {
		tb->milli = burst * 1000;
	} else if (now > tb->at) {
		tb->milli += (int64_t)(now - tb->at) * rate;
		if (tb->milli > burst * 1000)
			tb->milli = burst * 1000;
	}
	tb->at = now;
	if (tb->milli < 1000)
		return 0;
	tb->milli -= 1000;
	return 1;
}

/* Per-source token bucket; 0 if this datagram is over the limit. */
static int
rl_allow(struct disc *d, const uint8_t ip[16], uint64_t now)
{
	struct rl_ent *e, *victim = NULL;
	struct tbucket tb;
	uint32_t h = 2166136261u;
	size_t i, k;
	int ok;

	for (i = 0; i < 16; i++)
		h = (h ^ ip[i]) * 16777619u;
	for (k = 0; k < RL_PROBE; k++) {
		e = &d->rl[(h + k) % RL_SLOTS];
		if (e->used && memcmp(e->ip, ip, 16) == 0)
			goto found;
		if (victim == NULL && (!e->used || now - e->at > RL_IDLE_MS))
			victim = e;
	}
	if (victim == NULL)
		return 0;   /* every nearby slot is busy: the table is under attack */
	e = victim;
	memcpy(e->ip, ip, 16);
	e->used = 1;
	e->at = 0;
found:
	tb.at = e->at;
	tb.milli = e->milli;
	ok = tb_take(&tb, now, RL_BURST, RL_RATE);
	e->at = tb.at;
	e->milli = tb.milli;
	return ok;
}

/* The source address as 16 bytes (IPv4 mapped) for the rate limiter. */
static void
ip16(const struct sockaddr *sa, uint8_t out[16])
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
}

/* Whether two socket addresses have the same IP (ports ignored). */
static int
same_ip(const struct sockaddr *a, const struct sockaddr *b)
{
	uint8_t x[16], y[16];

	if (a->sa_family != b->sa_family)
		return 0;
	ip16(a, x);
	ip16(b, y);
	return memcmp(x, y, 16) == 0;
}

/* Find an interface in use by index. */
static struct dif *
dif_find(struct disc *d, int ifindex)
{
	size_t i;

	for (i = 0; i < d->nifs; i++)
		if (d->ifs[i].ifindex == ifindex)
			return &d->ifs[i];
	return NULL;
}

/* Find a peer by key. */
static struct dpeer *
peer_find(struct disc *d, const uint8_t key[BEACON_KEYLEN])
{
	size_t i;

	for (i = 0; i < d->npeers; i++)
		if (memcmp(d->peers[i].key, key, BEACON_KEYLEN) == 0)
			return &d->peers[i];
	return NULL;
}

/*
 * How long after its last beacon a peer expires: DISC_EXPIRE_MISSES of its
 * announced interval, but of no more than twice our own.  Whoever shares
 * this segment sees the same hosts and so announces about as often as we do;
 * an interval far longer is only a way to stay in the table for hours.
 */
static uint64_t
peer_window(const struct disc *d, const struct dpeer *p)
{
	uint64_t own = d->interval_s > 0 ? d->interval_s : (d->refresh_min + 999) / 1000;
	uint64_t iv = p->interval_s;

	if (iv > 2 * own)
		iv = 2 * own;
	return (uint64_t)DISC_EXPIRE_MISSES * iv * 1000 + DISC_EXPIRE_GRACE;
}

/* Whether two ip16 addresses count as one source: one IPv4 address, or one IPv6 /64. */
static int
same_source(const uint8_t a[16], const uint8_t b[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (memcmp(a, mapped, 12) == 0 || memcmp(b, mapped, 12) == 0)
		return memcmp(a, b, 16) == 0;
	return memcmp(a, b, 8) == 0;
}

/*
 * The IPv4 broadcast fallback: broadcast too on an interface where some peer
 * reaches us by broadcast but not by multicast (a switch or access point that
 * filters multicast).  Peers that hear only our broadcasts do the same, so both
 * directions recover.
 */
static int
dif_needs_bcast(struct disc *d, const struct dif *f, uint64_t now)
{
	size_t i;

	for (i = 0; i < d->npeers; i++) {
		const struct dpeer *p = &d->peers[i];
		uint64_t w = peer_window(d, p);

		if (p->if4 != f->ifindex || p->bc4_at == 0 || now - p->bc4_at > w)
			continue;
		if (p->mc4_at == 0 || now - p->mc4_at > w)
			return 1;
	}
	return 0;
}

/* Build one beacon of ours. */
static int
build(struct disc *d, uint8_t flags, int with_known, struct buf *out)
{
	struct beacon bc;
	uint8_t *known = NULL;
	size_t i;
	long rc;

	memset(&bc, 0, sizeof bc);
	bc.flags = flags;
	bc.seq = d->seq;
	bc.interval_s = d->interval_s;
	memcpy(bc.key, d->key, BEACON_KEYLEN);
	memcpy(bc.ports, d->ports, sizeof bc.ports);
	bc.nports = flags & BEACON_GOODBYE ? 0 : d->nports;
	bc.nick = (const uint8_t *)d->nick;
	bc.nick_len = strlen(d->nick);
	if (with_known && d->npeers > 0 && (known = malloc(d->npeers * BEACON_PREFIX_LEN)) != NULL) {
		for (i = 0; i < d->npeers; i++)
			memcpy(known + i * BEACON_PREFIX_LEN, d->peers[i].key, BEACON_PREFIX_LEN);
		bc.known = known;
		bc.nknown = d->npeers;
	}
	buf_init(out, BEACON_MAX);
	rc = beacon_encode(out, &bc);
	free(known);
	return rc < 0 ? -1 : 0;
}

/*
 * Send an IPv4 datagram out of one interface (IP_PKTINFO picks it, and src if
 * not 0 the source: needed on loopback, whose 127.0.0.1 the kernel would not
 * pick for a multicast).
 */
static int
send4(struct disc *d, const struct sockaddr_in *to, int ifindex, struct in_addr src,
    const struct buf *b)
{
	union {
		char           buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} u;
	struct in_pktinfo pi;
	struct iovec iov;
	struct msghdr m;
	struct cmsghdr *c;

	memset(&u, 0, sizeof u);
	memset(&m, 0, sizeof m);
	memset(&pi, 0, sizeof pi);
	iov.iov_base = (void *)(uintptr_t)buf_ptr(b);
	iov.iov_len = buf_len(b);
	m.msg_name = (void *)(uintptr_t)to;
	m.msg_namelen = sizeof *to;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof u.buf;
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof pi);
	pi.ipi_ifindex = ifindex;
	pi.ipi_spec_dst = src;
	memcpy(CMSG_DATA(c), &pi, sizeof pi);
	if (sendmsg(d->tx4, &m, MSG_DONTWAIT | MSG_NOSIGNAL) == -1) {
		d->st.tx_err++;
		log_debug("discovery: send to %s on %d: %s", inet_ntoa(to->sin_addr), ifindex, strerror(errno));
		return -1;
	}
	return 0;
}

/* Send an IPv6 datagram (link-local destinations carry the interface). */
static int
send6(struct disc *d, const struct sockaddr_in6 *to, const struct buf *b)
{
	if (sendto(d->tx6, buf_ptr(b), buf_len(b), MSG_DONTWAIT | MSG_NOSIGNAL,
	    (const struct sockaddr *)to, sizeof *to) == -1) {
		d->st.tx_err++;
		log_debug("discovery: IPv6 send on %u: %s", to->sin6_scope_id, strerror(errno));
		return -1;
	}
	return 0;
}

/* Send one beacon to the groups of one interface (and broadcast if wanted). */
static void
send_groups(struct disc *d, struct dif *f, const struct buf *b, int v4, int v6, int bcast)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;

	if (v4 && f->v4 && d->tx4 >= 0) {
		memset(&s4, 0, sizeof s4);
		s4.sin_family = AF_INET;
		s4.sin_port = htons(DISC_PORT);
		s4.sin_addr = d->group4;
		if (send4(d, &s4, f->ifindex, f->addr4, b) == 0) {
			d->st.tx_mcast++;
			f->sent4_at = loop_now(d->loop);
		}
		if (bcast) {
			s4.sin_addr.s_addr = f->has_brd ? f->brd.s_addr : htonl(INADDR_BROADCAST);
			if (send4(d, &s4, f->ifindex, f->addr4, b) == 0)
				d->st.tx_bcast++;
		}
	}
	if (v6 && f->v6 && d->tx6 >= 0) {
		memset(&s6, 0, sizeof s6);
		s6.sin6_family = AF_INET6;
		s6.sin6_port = htons(DISC_PORT);
		s6.sin6_addr = d->group6;
		s6.sin6_scope_id = (uint32_t)f->ifindex;
		if (send6(d, &s6, b) == 0) {
			d->st.tx_mcast++;
			f->sent6_at = loop_now(d->loop);
		}
	}
}

/* Announce (or say goodbye) on every interface in use. */
static void
announce_all(struct disc *d, uint8_t flags)
{
	uint64_t now = loop_now(d->loop);
	struct buf b;
	size_t i;

	d->seq++;
	if (build(d, flags, 0, &b) == 0) {
		for (i = 0; i < d->nifs; i++)
			send_groups(d, &d->ifs[i], &b, 1, 1, dif_needs_bcast(d, &d->ifs[i], now));
	}
	buf_free(&b);
	if (flags & BEACON_GOODBYE)
		return;
	d->last_mcast = now;
	schedule_refresh(d);   /* suppression: this announcement counts as a refresh */
}

/* Arm the refresh for the current number of peers, with jitter. */
static void
schedule_refresh(struct disc *d)
{
	unsigned t = disc_refresh_interval(d->refresh_min, d->npeers + 1);
	unsigned s = (t + 999) / 1000;

	/* never announce more than double the last interval: peers expire on it */
	if (d->interval_s > 0 && s > 2u * d->interval_s) {
		s = 2u * d->interval_s;
		t = s * 1000;
	}
	d->interval_s = (uint16_t)(s > BEACON_INTERVAL_MAX ? BEACON_INTERVAL_MAX : s);
	loop_timer_set(d->loop, &d->refresh_t, t - jitter(t / 4 + 1));
}

/* Time for a periodic announcement. */
static void
refresh_fire(struct loop *loop, struct loop_timer *t, void *arg)
{
	announce_all(arg, 0);
}

/* The nick changed a moment ago: announce it. */
static void
nick_fire(struct loop *loop, struct loop_timer *t, void *arg)
{
	announce_all(arg, 0);
}

/* Arm the burst timer for the earliest pending start-up step. */
static void
arm_burst(struct disc *d)
{
	uint64_t now = loop_now(d->loop), first = UINT64_MAX;
	size_t i;

	for (i = 0; i < d->nifs; i++)
		if (d->ifs[i].burst_step >= 0 && d->ifs[i].burst_at < first)
			first = d->ifs[i].burst_at;
	if (first == UINT64_MAX)
		loop_timer_del(d->loop, &d->burst_t);
	else
		loop_timer_set(d->loop, &d->burst_t, first > now ? first - now : 0);
}

/*
 * Start-up steps on an interface that just became usable: a query (also
 * broadcast, which reveals a multicast-deaf segment), an announcement, then a
 * query that lists whom we heard so that only the others answer.
 */
static void
burst_fire(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct disc *d = arg;
	uint64_t now = loop_now(d->loop);
	struct buf b;
	size_t i;
	int step, v4, v6;

	buf_init(&b, BEACON_MAX);
	for (i = 0; i < d->nifs; i++) {
		struct dif *f = &d->ifs[i];

		if (f->burst_step < 0 || f->burst_at > now)
			continue;
		step = f->burst_step;
		v4 = f->burst_v4;
		v6 = f->burst_v6;
		if (step == 1) {
			/* an announcement since the query (answering several) did this */
			v4 = v4 && f->sent4_at <= f->burst_t0;
			v6 = v6 && f->sent6_at <= f->burst_t0;
		}
		d->seq++;
		if ((v4 || v6) && build(d, step == 1 ? 0 : BEACON_QUERY, step == 2, &b) == 0)
			send_groups(d, f, &b, v4, v6, step == 0 || dif_needs_bcast(d, f, now));
		buf_free(&b);
		if (step == 0) {
			f->burst_t0 = now;
			f->burst_step = 1;
			f->burst_at = now + BURST_STEP1_MS + jitter(100);
		} else if (step == 1) {
			f->burst_step = 2;
			f->burst_at = now + BURST_STEP2_MS - BURST_STEP1_MS + jitter(200);
		} else {
			f->burst_step = -1;
			f->burst_v4 = f->burst_v6 = 0;
		}
		d->last_mcast = now;
	}
	arm_burst(d);
}

/* Send a unicast reply (our announcement) to one peer. */
static void
send_reply(struct disc *d, const struct reply *r, const struct buf *b)
{
	int rc;

	if (r->to.ss_family == AF_INET) {
		if (d->tx4 < 0)
			return;
		struct in_addr any;

		any.s_addr = 0;
		rc = send4(d, (const struct sockaddr_in *)&r->to, r->ifindex, any, b);
	} else {
		if (d->tx6 < 0)
			return;
		rc = send6(d, (const struct sockaddr_in6 *)&r->to, b);
	}
	if (rc == 0)
		d->st.tx_unicast++;
}

/*
 * The reply delay is over.  A reply is dropped if an announcement of ours went
 * to the group on its interface after the query arrived: that said it all.
 * A few replies go out by unicast; several at once (hosts starting together)
 * become one announcement to the groups, flagged REPLY so that nobody answers
 * it, which every one of them hears.
 */
static void
reply_fire(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct disc *d = arg;
	uint64_t now = loop_now(d->loop);
	struct buf b;
	size_t i, n = 0;

	for (i = 0; i < d->nreplies; i++) {
		const struct reply *r = &d->replies[i];
		const struct dif *f = dif_find(d, r->ifindex);

		if (f != NULL && (r->to.ss_family == AF_INET ? f->sent4_at : f->sent6_at) >= r->queued_at)
			continue;
		d->replies[n++] = *r;
	}
	d->nreplies = 0;
	if (n == 0)
		return;
	if (n >= AGGREGATE_MIN && now - d->last_aggregate >= MCAST_MIN_GAP_MS) {
		d->last_aggregate = now;
		announce_all(d, BEACON_REPLY);
		return;
	}
	d->seq++;
	if (build(d, BEACON_REPLY, 0, &b) == 0)
		for (i = 0; i < n; i++)
			send_reply(d, &d->replies[i], &b);
	buf_free(&b);
}

/* Queue a unicast reply to a peer at the address its beacon came from. */
static void
queue_reply(struct disc *d, struct dpeer *p, const struct sockaddr *from, socklen_t fromlen, int ifindex)
{
	uint64_t now = loop_now(d->loop);
	struct reply *r;

	if (p->replied_at != 0 && now - p->replied_at < REPLY_GAP_MS)
		return;
	if (d->nreplies == REPLY_QMAX || !tb_take(&d->reply_tb, now, REPLY_BURST, REPLY_RATE))
		return;
	r = &d->replies[d->nreplies++];
	memset(r, 0, sizeof *r);
	memcpy(&r->to, from, fromlen);
	r->tolen = fromlen;
	r->ifindex = ifindex;
	r->queued_at = now;
	p->replied_at = now;
	/*
	 * A lone query (nothing queued for a second) is answered almost at once;
	 * when queries come thick, answers wait so that they batch.
	 */
	if (!loop_timer_armed(&d->reply_t))
		loop_timer_set(d->loop, &d->reply_t, now - d->last_queued > REPLY_QUIET_MS ?
		    jitter(REPLY_QUICK_SPREAD) : REPLY_DELAY_MIN + jitter(REPLY_DELAY_SPREAD));
	d->last_queued = now;
}

/* Arm the expiry timer no later than when. */
static void
arm_expire(struct disc *d, uint64_t when)
{
	uint64_t now = loop_now(d->loop);

	if (loop_timer_armed(&d->expire_t) && d->expire_t.when <= when)
		return;
	loop_timer_set(d->loop, &d->expire_t, when > now ? when - now : 0);
}

/* Remove peer i (swap with the last). */
static void
peer_remove(struct disc *d, size_t i)
{
	d->peers[i] = d->peers[--d->npeers];
}

/* Tell the owner a peer left; the entry must already be gone. */
static void
report_gone(struct disc *d, const uint8_t key[BEACON_KEYLEN], const char *why)
{
	uint8_t k[BEACON_KEYLEN];

	memcpy(k, key, sizeof k);
	log_debug("discovery: peer %02x%02x%02x%02x gone (%s)", k[0], k[1], k[2], k[3], why);
	if (d->ops.gone != NULL)
		d->ops.gone(d->arg, k, why);
}

/* Peers whose last beacon is too old are gone. */
static void
expire_fire(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct disc *d = arg;
	uint64_t now = loop_now(d->loop), next = UINT64_MAX;
	uint8_t key[BEACON_KEYLEN];
	size_t i = 0;

	while (i < d->npeers) {
		if (d->peers[i].expires <= now) {
			memcpy(key, d->peers[i].key, sizeof key);
			peer_remove(d, i);
			report_gone(d, key, "no longer announced");
			continue;
		}
		if (d->peers[i].expires < next)
			next = d->peers[i].expires;
		i++;
	}
	if (next != UINT64_MAX)
		loop_timer_set(d->loop, &d->expire_t, next - now);
}

/*
 * Pick the address to report: IPv4 while its beacons keep coming (easier to
 * read, and what most hosts listen on), else IPv6.  Tell the owner if it or
 * the nick changed.
 */
static void
peer_report(struct disc *d, struct dpeer *p, int force)
{
	uint64_t now = loop_now(d->loop), w = peer_window(d, p);
	const struct sockaddr_storage *a = NULL;
	struct disc_peer info;
	socklen_t alen = 0;
	int ifindex = 0;

	if (p->a4len > 0 && now - p->last4 <= w) {
		a = &p->a4;
		alen = p->a4len;
		ifindex = p->if4;
	} else if (p->a6len > 0 && now - p->last6 <= w) {
		a = &p->a6;
		alen = p->a6len;
		ifindex = p->if6;
	}
	if (a == NULL)
		return;   /* nothing we could connect to */
	if (!force && alen == p->replen && memcmp(a, &p->rep, alen) == 0)
		return;
	memcpy(&p->rep, a, alen);
	p->replen = alen;
	if (d->ops.seen == NULL)
		return;
	memset(&info, 0, sizeof info);
	info.key = p->key;
	info.nick = p->nick;
	info.nick_len = p->nick_len;
	info.sa = (const struct sockaddr *)&p->rep;
	info.salen = p->replen;
	info.ifindex = ifindex;
	d->ops.seen(d->arg, &info);
}

/*
 * Make room for a new key heard from ip: a source that already holds
 * DISC_MAX_PER_SOURCE entries gives up the one it refreshed least recently;
 * a full table gives up the least recently heard entry, one heard only once
 * (a key that never announced again) first.  The owner is told.
 */
static void
make_room(struct disc *d, const uint8_t ip[16])
{
	size_t i, same = 0, lru_src = SIZE_MAX, lru_once = SIZE_MAX, lru = SIZE_MAX, v;
	uint8_t key[BEACON_KEYLEN];
	const char *why;

	for (i = 0; i < d->npeers; i++) {
		const struct dpeer *p = &d->peers[i];

		if (same_source(p->src, ip)) {
			same++;
			if (lru_src == SIZE_MAX || p->last_rx < d->peers[lru_src].last_rx)
				lru_src = i;
		}
		if (p->hits <= 1 && (lru_once == SIZE_MAX || p->last_rx < d->peers[lru_once].last_rx))
			lru_once = i;
		if (lru == SIZE_MAX || p->last_rx < d->peers[lru].last_rx)
			lru = i;
	}
	if (same >= DISC_MAX_PER_SOURCE) {
		v = lru_src;
		why = "evicted: too many keys from its address";
	} else if (d->npeers >= DISC_MAX_PEERS) {
		v = lru_once != SIZE_MAX ? lru_once : lru;
		why = "evicted: the table is full";
	} else {
		return;
	}
	memcpy(key, d->peers[v].key, sizeof key);
	peer_remove(d, v);
	d->st.evicted++;
	report_gone(d, key, why);
}

/* One valid beacon from another host. */
static void
got_beacon(struct disc *d, const struct beacon *bc, const struct sockaddr *from, socklen_t fromlen,
    int ifindex, enum rx_class cls)
{
	uint64_t now = loop_now(d->loop);
	struct dpeer *p = peer_find(d, bc->key);
	struct sockaddr_storage *a;
	uint16_t port;
	uint8_t ip[16];
	int is_new = 0, dup, nick_changed = 0;

	if (bc->flags & BEACON_GOODBYE) {
		/* only from where we heard it: a goodbye is a hint like the rest */
		if (p != NULL && ((p->a4len && same_ip(from, (struct sockaddr *)&p->a4)) ||
		    (p->a6len && same_ip(from, (struct sockaddr *)&p->a6)))) {
			peer_remove(d, (size_t)(p - d->peers));
			report_gone(d, bc->key, "left the network");
		}
		return;
	}
	ip16(from, ip);
	if (p == NULL) {
		make_room(d, ip);
		if (d->npeers == DISC_MAX_PEERS)
			return;
		if (d->npeers == d->apeers) {
			struct dpeer *np = mem_grow(d->peers, &d->apeers, d->npeers + 1,
			                            sizeof *np, 16, 0);

			if (np == NULL)
				return;
			d->peers = np;
		}
		p = &d->peers[d->npeers++];
		memset(p, 0, sizeof *p);
		memcpy(p->key, bc->key, BEACON_KEYLEN);
		is_new = 1;
	}
	dup = !is_new && bc->seq == p->seq && now - p->last_rx < DUP_WINDOW_MS;
	if (dup)
		d->st.rx_dup++;
	else if (p->hits < UINT32_MAX)
		p->hits++;
	memcpy(p->src, ip, sizeof p->src);
	if (from->sa_family == AF_INET) {
		port = beacon_port_for(bc, BEACON_AF_INET);
		a = &p->a4;
		p->a4len = port ? fromlen : 0;
		p->last4 = now;
		p->if4 = ifindex;
		if (cls == RX_MCAST)
			p->mc4_at = now;
		else if (cls == RX_BCAST)
			p->bc4_at = now;
	} else {
		port = beacon_port_for(bc, BEACON_AF_INET6);
		a = &p->a6;
		p->a6len = port ? fromlen : 0;
		p->last6 = now;
		p->if6 = ifindex;
	}
	if (port != 0) {
		memcpy(a, from, fromlen);
		if (from->sa_family == AF_INET)
			((struct sockaddr_in *)a)->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)a)->sin6_port = htons(port);
	}
	if (bc->nick_len != p->nick_len || memcmp(bc->nick, p->nick, bc->nick_len) != 0) {
		memcpy(p->nick, bc->nick, bc->nick_len);
		p->nick_len = bc->nick_len;
		nick_changed = !is_new;
	}
	p->seq = bc->seq;
	p->interval_s = bc->interval_s;
	p->last_rx = now;
	p->expires = now + peer_window(d, p);
	arm_expire(d, p->expires);
	if (is_new) {
		char addr[SOCK_ADDRSTRLEN];

		sock_format(from, addr, sizeof addr);
		log_info("discovery: new peer %02x%02x%02x%02x at %s (%s)", bc->key[0], bc->key[1],
		    bc->key[2], bc->key[3], addr, cls == RX_MCAST ? "multicast" :
		    cls == RX_BCAST ? "broadcast" : "unicast");
	}
	/*
	 * Answer a query that does not list us, and a newcomer's announcement;
	 * a copy of a transmission already seen by another path needs no answer.
	 */
	if (!dup && ((bc->flags & BEACON_QUERY) ? !beacon_knows(bc, d->key) :
	    (is_new && !(bc->flags & BEACON_REPLY))))
		queue_reply(d, p, from, fromlen, ifindex);
	peer_report(d, p, is_new || nick_changed);
}

/* Classify and check one datagram, then hand it to got_beacon. */
static void
got_datagram(struct disc *d, const uint8_t *buf, size_t n, int trunc,
    const struct sockaddr_storage *from, socklen_t fromlen, int ifindex, const void *dst)
{
	uint64_t now = loop_now(d->loop);
	struct beacon bc;
	struct dif *f;
	enum rx_class cls = RX_UNICAST;
	uint8_t ip[16];
	int fam = from->ss_family;

	d->st.rx++;
	if (trunc || n > BEACON_MAX || !beacon_sniff(buf, n)) {
		d->st.rx_bad++;
		return;
	}
	if ((f = dif_find(d, ifindex)) == NULL || !(fam == AF_INET ? f->v4 : f->v6))
		return;   /* an interface we do not use */
	if (fam == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)from;
		uint32_t src = ntohl(s4->sin_addr.s_addr), dsta;

		if (fromlen < sizeof *s4 || src == 0 || IN_MULTICAST(src) || src == INADDR_BROADCAST)
			return;
		memcpy(&dsta, dst, 4);
		if (IN_MULTICAST(ntohl(dsta)))
			cls = RX_MCAST;
		else if (dsta == htonl(INADDR_BROADCAST) || (f->has_brd && dsta == f->brd.s_addr))
			cls = RX_BCAST;
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)from;

		if (fromlen < sizeof *s6 || IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) ||
		    IN6_IS_ADDR_MULTICAST(&s6->sin6_addr))
			return;
		if (IN6_IS_ADDR_MULTICAST((const struct in6_addr *)dst))
			cls = RX_MCAST;
	}
	ip16((const struct sockaddr *)from, ip);
	if (!rl_allow(d, ip, now) || !tb_take(&d->rx_tb, now, RX_BURST, RX_RATE)) {
		d->st.rx_limited++;
		return;
	}
	if (beacon_decode(buf, n, &bc) != BEACON_OK) {
		d->st.rx_bad++;
		return;
	}
	if (memcmp(bc.key, d->key, BEACON_KEYLEN) == 0) {
		d->st.rx_own++;
		return;
	}
	got_beacon(d, &bc, (const struct sockaddr *)from, fromlen, ifindex, cls);
}

/* A discovery socket is readable: read a bounded number of datagrams. */
static void
sock_readable(struct loop *loop, int fd, int revents, void *arg)
{
	struct disc *d = arg;
	uint8_t buf[BEACON_MAX + 1];
	union {
		char           buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} u;
	struct sockaddr_storage from;
	struct iovec iov;
	struct msghdr m;
	struct cmsghdr *c;
	uint8_t dst[16];
	ssize_t r;
	int i, ifindex;

	for (i = 0; i < RX_PER_WAKE; i++) {
		memset(&m, 0, sizeof m);
		iov.iov_base = buf;
		iov.iov_len = sizeof buf;
		m.msg_name = &from;
		m.msg_namelen = sizeof from;
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = u.buf;
		m.msg_controllen = sizeof u.buf;
		r = recvmsg(fd, &m, MSG_DONTWAIT);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		ifindex = 0;
		memset(dst, 0, sizeof dst);
		for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
			    c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(c), sizeof pi);
				ifindex = pi.ipi_ifindex;
				memcpy(dst, &pi.ipi_addr, 4);
			} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
			    c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
				struct in6_pktinfo pi;

				memcpy(&pi, CMSG_DATA(c), sizeof pi);
				ifindex = (int)pi.ipi6_ifindex;
				memcpy(dst, &pi.ipi6_addr, 16);
			}
		}
		if (ifindex == 0 || (from.ss_family != AF_INET && from.ss_family != AF_INET6))
			continue;
		got_datagram(d, buf, (size_t)r, (m.msg_flags & MSG_TRUNC) || (size_t)r > BEACON_MAX,
		    &from, m.msg_namelen, ifindex, dst);
	}
}

/* Join or leave our group on one interface. */
static void
membership(struct disc *d, struct dif *f, int fam, int join)
{
	int rc;

	if (fam == AF_INET) {
		struct ip_mreqn mr;

		if (d->rx4 < 0 || f->joined4 == join)
			return;
		memset(&mr, 0, sizeof mr);
		mr.imr_multiaddr = d->group4;
		mr.imr_ifindex = f->ifindex;
		rc = setsockopt(d->rx4, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &mr, sizeof mr);
		if (rc == -1 && join && errno != EADDRINUSE)
			log_warn("discovery: cannot join %s on %s: %s", DISC_GROUP4, f->name, strerror(errno));
		f->joined4 = join && (rc == 0 || errno == EADDRINUSE);
	} else {
		struct ipv6_mreq mr;

		if (d->rx6 < 0 || f->joined6 == join)
			return;
		memset(&mr, 0, sizeof mr);
		mr.ipv6mr_multiaddr = d->group6;
		mr.ipv6mr_interface = (unsigned)f->ifindex;
		rc = setsockopt(d->rx6, IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &mr, sizeof mr);
		if (rc == -1 && join && errno != EADDRINUSE)
			log_warn("discovery: cannot join %s on %s: %s", DISC_GROUP6, f->name, strerror(errno));
		f->joined6 = join && (rc == 0 || errno == EADDRINUSE);
	}
}

/* A family stopped working on an interface: forget the paths it carried. */
static void
drop_paths(struct disc *d, int ifindex, int fam)
{
	uint8_t key[BEACON_KEYLEN];
	size_t i = 0;

	while (i < d->npeers) {
		struct dpeer *p = &d->peers[i];

		if (fam == AF_INET && p->if4 == ifindex) {
			p->a4len = 0;
			p->last4 = p->mc4_at = p->bc4_at = 0;
			p->if4 = 0;
		}
		if (fam == AF_INET6 && p->if6 == ifindex) {
			p->a6len = 0;
			p->last6 = 0;
			p->if6 = 0;
		}
		if (p->if4 == 0 && p->if6 == 0) {
			memcpy(key, p->key, sizeof key);
			peer_remove(d, i);
			report_gone(d, key, "interface down");
			continue;
		}
		i++;
	}
	for (i = 0; i < d->npeers; i++)
		peer_report(d, &d->peers[i], 0);
}

/* Bring an interface's families up or down. */
static void
dif_apply(struct disc *d, struct dif *f, int v4, int v6)
{
	int newly4 = v4 && !f->v4, newly6 = v6 && !f->v6;

	if (v4 != f->v4 || v6 != f->v6)
		log_info("discovery: %s (%d): IPv4 %s, IPv6 %s", f->name, f->ifindex,
		    v4 ? "on" : "off", v6 ? "on" : "off");
	if (!v4 && f->v4) {
		membership(d, f, AF_INET, 0);
		f->v4 = 0;
		drop_paths(d, f->ifindex, AF_INET);
	}
	if (!v6 && f->v6) {
		membership(d, f, AF_INET6, 0);
		f->v6 = 0;
		drop_paths(d, f->ifindex, AF_INET6);
	}
	if (newly4) {
		membership(d, f, AF_INET, 1);
		f->v4 = 1;
		f->burst_v4 = 1;
	}
	if (newly6) {
		membership(d, f, AF_INET6, 1);
		f->v6 = 1;
		f->burst_v6 = 1;
	}
	if (newly4 || newly6) {
		f->burst_step = 0;
		f->burst_at = loop_now(d->loop);
	}
}

/* The interface table changed: decide which interfaces and families to use. */
static void
ifs_changed(void *arg)
{
	struct disc *d = arg;
	size_t i, j;

	for (i = 0; i < d->nifs; i++)
		d->ifs[i].alive = 0;
	for (i = 0; i < ifwatch_nlinks(d->ifw); i++) {
		const struct ifw_link *l = ifwatch_link(d->ifw, i);
		int named = d->iface[0] != '\0', v4 = 0, v6 = 0, up, mc, has_brd = 0;
		struct in_addr brd, addr4;
		struct dif *f;

		if (named && strcmp(l->name, d->iface) != 0)
			continue;
		if ((l->flags & IFF_LOOPBACK) && !named)
			continue;
		up = (l->flags & IFF_UP) && (l->flags & IFF_RUNNING);
		mc = (l->flags & IFF_MULTICAST) || named;
		memset(&brd, 0, sizeof brd);
		memset(&addr4, 0, sizeof addr4);
		for (j = 0; up && j < ifwatch_naddrs(d->ifw); j++) {
			const struct ifw_addr *a = ifwatch_addr(d->ifw, j);

			if (a->ifindex != l->ifindex)
				continue;
			if (a->family == AF_INET && (mc || (l->flags & IFF_BROADCAST))) {
				if (!v4)
					memcpy(&addr4, a->addr, 4);
				v4 = 1;
				if (!has_brd && a->has_brd && (l->flags & IFF_BROADCAST)) {
					memcpy(&brd, a->brd, 4);
					has_brd = 1;
				}
			}
			if (a->family == AF_INET6 && mc && a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80 &&
			    !(a->flags & (IFW_ADDR_TENTATIVE | IFW_ADDR_DADFAILED)))
				v6 = 1;
		}
		if (d->rx4 < 0 && d->tx4 < 0)
			v4 = 0;
		if (d->rx6 < 0 && d->tx6 < 0)
			v6 = 0;
		if ((f = dif_find(d, l->ifindex)) == NULL) {
			if (!v4 && !v6)
				continue;
			if (d->nifs == d->aifs) {
				struct dif *nf = mem_grow(d->ifs, &d->aifs, d->nifs + 1,
				                          sizeof *nf, 8, 0);

				if (nf == NULL)
					continue;
				d->ifs = nf;
			}
			f = &d->ifs[d->nifs++];
			memset(f, 0, sizeof *f);
			f->ifindex = l->ifindex;
			f->burst_step = -1;
		}
		snprintf(f->name, sizeof f->name, "%s", l->name);
		f->alive = 1;
		f->brd = brd;
		f->has_brd = has_brd;
		if (f->v4 && v4 && f->addr4.s_addr != addr4.s_addr) {
			/* a new IPv4 address: tell the segment now, not at the next refresh */
			f->burst_v4 = 1;
			f->burst_step = 0;
			f->burst_at = loop_now(d->loop);
		}
		f->addr4 = addr4;
		dif_apply(d, f, v4, v6);
	}
	i = 0;
	while (i < d->nifs) {
		struct dif *f = &d->ifs[i];

		if (f->alive && (f->v4 || f->v6)) {
			i++;
			continue;
		}
		dif_apply(d, f, 0, 0);
		d->ifs[i] = d->ifs[--d->nifs];
	}
	d->st.ifaces = d->nifs;
	arm_burst(d);
}

/* Open one UDP socket with the options discovery needs. */
static int
open_sock(int fam, int port, int rx)
{
	int fd, one = 1, zero = 0, hops = 1;
	int rcvbuf = RX_SOCKBUF;   /* a start-up burst of a large segment (capped by rmem_max) */

	if ((fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (fam == AF_INET) {
		struct sockaddr_in s4;

		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
		if (rx) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
			setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof zero);
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
		} else {
			setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
			setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &hops, sizeof hops);
			setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &one, sizeof one);
			setsockopt(fd, IPPROTO_IP, IP_TTL, &hops, sizeof hops);
		}
		memset(&s4, 0, sizeof s4);
		s4.sin_family = AF_INET;
		s4.sin_port = htons((uint16_t)port);
		if (bind(fd, (struct sockaddr *)&s4, sizeof s4) == -1)
			goto fail;
	} else {
		struct sockaddr_in6 s6;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
		if (rx) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
			setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &zero, sizeof zero);
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
		} else {
			setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops);
			setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &one, sizeof one);
			setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops);
		}
		memset(&s6, 0, sizeof s6);
		s6.sin6_family = AF_INET6;
		s6.sin6_port = htons((uint16_t)port);
		if (bind(fd, (struct sockaddr *)&s6, sizeof s6) == -1)
			goto fail;
	}
	return fd;
fail:
	{
		int saved = errno;

		close(fd);
		errno = saved;
	}
	return -1;
}

/* Close a socket and stop watching it. */
static void
close_sock(struct disc *d, int *fd)
{
	if (*fd < 0)
		return;
	loop_fd_del(d->loop, *fd);
	close(*fd);
	*fd = -1;
}

/* Start: open sockets, watch interfaces. */
struct disc *
disc_new(struct loop *loop, const struct disc_config *cfg, const struct disc_ops *ops, void *arg)
{
	struct disc *d;
	int *fds[4], i, saved;

	if ((d = calloc(1, sizeof *d)) == NULL)
		return NULL;
	d->loop = loop;
	d->ops = *ops;
	d->arg = arg;
	d->rx4 = d->rx6 = d->tx4 = d->tx6 = -1;
	memcpy(d->key, cfg->key, BEACON_KEYLEN);
	snprintf(d->nick, sizeof d->nick, "%s", cfg->nick ? cfg->nick : "");
	memcpy(d->ports, cfg->ports, sizeof d->ports);
	d->nports = cfg->nports;
	if (cfg->iface != NULL)
		snprintf(d->iface, sizeof d->iface, "%s", cfg->iface);
	d->refresh_min = cfg->refresh_ms ? cfg->refresh_ms : DISC_REFRESH_MS;
	d->seq = randombytes_random();
	inet_pton(AF_INET, DISC_GROUP4, &d->group4);
	inet_pton(AF_INET6, DISC_GROUP6, &d->group6);
	loop_timer_init(&d->refresh_t, refresh_fire, d);
	loop_timer_init(&d->burst_t, burst_fire, d);
	loop_timer_init(&d->reply_t, reply_fire, d);
	loop_timer_init(&d->expire_t, expire_fire, d);
	loop_timer_init(&d->nick_t, nick_fire, d);

	d->tx4 = open_sock(AF_INET, 0, 0);
	if (d->tx4 >= 0 && (d->rx4 = open_sock(AF_INET, DISC_PORT, 1)) == -1)
		log_warn("discovery: cannot listen on UDP port %d (IPv4): %s", DISC_PORT, strerror(errno));
	d->tx6 = open_sock(AF_INET6, 0, 0);
	if (d->tx6 >= 0 && (d->rx6 = open_sock(AF_INET6, DISC_PORT, 1)) == -1)
		log_warn("discovery: cannot listen on UDP port %d (IPv6): %s", DISC_PORT, strerror(errno));
	if (d->tx4 < 0 && d->tx6 < 0) {
		saved = errno;
		goto fail;
	}
	fds[0] = &d->rx4;
	fds[1] = &d->rx6;
	fds[2] = &d->tx4;
	fds[3] = &d->tx6;
	for (i = 0; i < 4; i++)
		if (*fds[i] >= 0 && loop_fd_add(loop, *fds[i], POLLIN, sock_readable, d) == -1) {
			saved = errno;
			goto fail;
		}
	if ((d->ifw = ifwatch_new(loop, ifs_changed, d)) == NULL) {
		saved = errno;
		goto fail;
	}
	schedule_refresh(d);
	log_info("discovery: started (group %s and %s, UDP port %d%s%s)", DISC_GROUP4, DISC_GROUP6,
	    DISC_PORT, d->iface[0] ? ", interface " : "", d->iface);
	return d;
fail:
	disc_free(d, 0);
	errno = saved;
	return NULL;
}

/* Announce a new nick soon. */
void
disc_set_nick(struct disc *d, const char *nick)
{
	uint64_t now = loop_now(d->loop), at;

	if (strcmp(nick, d->nick) == 0)
		return;
	snprintf(d->nick, sizeof d->nick, "%s", nick);
	at = d->last_mcast + NICK_GAP_MS;
	if (!loop_timer_armed(&d->nick_t))
		loop_timer_set(d->loop, &d->nick_t, at > now ? at - now : 0);
}

/* Stop, saying goodbye first if asked. */
void
disc_free(struct disc *d, int goodbye)
{
	if (d == NULL)
		return;
	if (goodbye && d->nifs > 0) {
		announce_all(d, BEACON_GOODBYE);
		log_info("discovery: said goodbye on %zu interface(s)", d->nifs);
	}
	log_debug("discovery: rx %llu (bad %llu, own %llu, limited %llu, dup %llu), "
	    "tx multicast %llu, broadcast %llu, unicast %llu, errors %llu, evicted %llu",
	    (unsigned long long)d->st.rx, (unsigned long long)d->st.rx_bad,
	    (unsigned long long)d->st.rx_own, (unsigned long long)d->st.rx_limited,
	    (unsigned long long)d->st.rx_dup, (unsigned long long)d->st.tx_mcast,
	    (unsigned long long)d->st.tx_bcast, (unsigned long long)d->st.tx_unicast,
	    (unsigned long long)d->st.tx_err, (unsigned long long)d->st.evicted);
	ifwatch_free(d->ifw);
	loop_timer_del(d->loop, &d->refresh_t);
	loop_timer_del(d->loop, &d->burst_t);
	loop_timer_del(d->loop, &d->reply_t);
	loop_timer_del(d->loop, &d->expire_t);
	loop_timer_del(d->loop, &d->nick_t);
	close_sock(d, &d->rx4);
	close_sock(d, &d->rx6);
	close_sock(d, &d->tx4);
	close_sock(d, &d->tx6);
	free(d->ifs);
	free(d->peers);
	free(d);
}

/* Counters, for logs and tests. */
void
disc_get_stats(const struct disc *d, struct disc_stats *st)
{
	*st = d->st;
	st->peers = d->npeers;
	st->ifaces = d->nifs;
}
