/* lan.c - LAN discovery glue: beacons (net/disc) become peers in the model. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "disc.h"
#include "lan.h"
#include "log.h"
#include "store.h"
#include "text.h"

struct lan_ban {
	uint8_t  key[ID_KEYLEN];
	struct sockaddr_storage ip;    /* port ignored */
	uint64_t until;
};

struct lan {
	struct core   *c;
	struct disc   *d;
	struct lan_ban bans[LAN_BAN_MAX];
	size_t         nextban;
	size_t         created;        /* model peers this run's beacons added */
};

/* Whether two addresses have the same family and IP. */
static int
same_ip(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
		    &((const struct sockaddr_in *)b)->sin_addr, sizeof(struct in_addr)) == 0;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
	return 0;
}

/* The port of an address. */
static uint16_t
addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

/* Whether beacons claiming key from this address are distrusted. */
static int
banned(struct lan *l, const uint8_t key[ID_KEYLEN], const struct sockaddr *sa)
{
	uint64_t now = loop_now(l->c->loop);
	size_t i;

	for (i = 0; i < LAN_BAN_MAX; i++)
		if (l->bans[i].until > now && memcmp(l->bans[i].key, key, ID_KEYLEN) == 0 &&
		    same_ip((const struct sockaddr *)&l->bans[i].ip, sa))
			return 1;
	return 0;
}

/* Distrust beacons claiming key from this address for a while. */
static void
ban(struct lan *l, const uint8_t key[ID_KEYLEN], const struct sockaddr *sa, socklen_t salen)
{
	struct lan_ban *b = &l->bans[l->nextban];

	l->nextban = (l->nextban + 1) % LAN_BAN_MAX;
	memset(b, 0, sizeof *b);
	memcpy(b->key, key, ID_KEYLEN);
	memcpy(&b->ip, sa, salen < sizeof b->ip ? salen : sizeof b->ip);
	b->until = loop_now(l->c->loop) + LAN_BAN_MS;
}

/*
 * A beacon: the peer is on the LAN (new, or its address changed).  Beacons
 * are not authenticated, so they are hints: for a key we know they only add
 * an address to try (the handshake proves it or not), never its name, trust
 * or stored address; a key we never had a session with is shown under the
 * beacon's nick (core_peer_hint) until its HELLO.  An address that failed
 * without the handshake ever proving it is not tried again for a while
 * (lan_connect_failed sets the hold).
 */
static void
on_seen(void *arg, const struct disc_peer *dp)
{
	struct lan *l = arg;
	struct core *c = l->c;
	enum peer_state was;
	char nick[NICK_BUF], addr[SOCK_ADDRSTRLEN];
	struct peer *p;
	int known;

	if (memcmp(dp->key, c->id.pub, ID_KEYLEN) == 0 || banned(l, dp->key, dp->sa) ||
	    dp->salen > sizeof p->lan_addr)
		return;
	if ((p = core_peer_get(c, dp->key, 0)) == NULL) {
		if (l->created >= LAN_MAX_CREATED || (p = core_peer_get(c, dp->key, 1)) == NULL)
			return;
		l->created++;
	}
	if (p->trust == TRUST_BLOCKED)
		return;   /* trust: blocked peers' beacons are ignored silently */
	known = p->known || p->announced[0] != '\0';
	sock_format(dp->sa, addr, sizeof addr);
	if (p->lan_hold_until > loop_now(c->loop) && !(known && strcmp(addr, p->addr) == 0))
		return;   /* its beacons' addresses failed lately; the proven one is still welcome */
	memset(&p->lan_addr, 0, sizeof p->lan_addr);
	memcpy(&p->lan_addr, dp->sa, dp->salen);
	p->lan_addrlen = dp->salen;
	p->lan_port = addr_port(dp->sa);
	was = p->state;
	if (was == PEER_ONLINE || was == PEER_CONNECTING)
		return;   /* a session speaks for the peer; keep the hint for later */
	if (!known) {
		text_sanitize(dp->nick, dp->nick_len, nick, sizeof nick, 0);
		text_trim_blanks(nick);
		core_peer_hint(c, p, nick);   /* flagged if it reads as a fingerprint or looks like a known nick */
		snprintf(p->addr, sizeof p->addr, "%s", addr);
		snprintf(p->via, sizeof p->via, "lan");
	}
	p->state = PEER_DISCOVERED;
	log_info("lan: %s (%s) at %s", p->fp, p->nick, addr);
	core_peer_changed(c, p, NULL);
	/* a peer we talked to this run, or have messages for: connect by ourselves */
	if (was == PEER_OFFLINE && (p->known || p->noutq > 0 || p->conv.nlines > 0))
		core_connect_peer(c, p);   /* memory: known peers reconnect when they reappear */
}

/* A peer left the LAN, expired, or its interface went away. */
static void
on_gone(void *arg, const uint8_t key[BEACON_KEYLEN], const char *why)
{
	struct lan *l = arg;
	struct peer *p = core_peer_get(l->c, key, 0);

	if (p == NULL)
		return;
	p->lan_port = 0;
	p->lan_addrlen = 0;
	memset(&p->lan_addr, 0, sizeof p->lan_addr);
	if (p->state != PEER_DISCOVERED)
		return;   /* online: its session decides; offline: nothing to say */
	p->state = PEER_OFFLINE;
	log_info("lan: %s (%s) %s", p->fp, p->nick, why);
	core_peer_changed(l->c, p, why);
	/*
	 * A key only ever heard on the LAN leaves the model with its beacon and
	 * gives back its share of LAN_MAX_CREATED: a flood of keys that come and
	 * go can neither grow the model nor use up the room for real newcomers.
	 */
	if (core_peer_forget(l->c, p) == 0 && l->created > 0)
		l->created--;
}

static const struct disc_ops lan_ops = { on_seen, on_gone };

/* Start announcing and listening. */
int
lan_start(struct core *c)
{
	char addrs[NET_LISTEN_MAX][SOCK_ADDRSTRLEN];
	struct disc_config cfg;
	struct sockaddr_storage ss;
	struct lan *l;
	socklen_t len;
	size_t n, i;
	int j, af;

	if (c->lan != NULL)
		return 0;
	memset(&cfg, 0, sizeof cfg);
	memcpy(cfg.key, c->id.pub, ID_KEYLEN);
	cfg.nick = c->nick;
	cfg.iface = c->opt.discovery_iface;
	cfg.refresh_ms = c->opt.discovery_refresh_s > 0 ? (unsigned)c->opt.discovery_refresh_s * 1000 : 0;
	/* one TCP port per family, from the listeners peers on the LAN can reach */
	n = net_listen_addrs(c->net, addrs, NET_LISTEN_MAX);
	for (i = 0; i < n; i++) {
		if (sock_parse(addrs[i], 0, &ss, &len) == -1)
			continue;
		if (ss.ss_family == AF_INET) {
			if (((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_LOOPBACK) &&
			    cfg.iface == NULL)
				continue;
			af = BEACON_AF_INET;
		} else {
			if (IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr) && cfg.iface == NULL)
				continue;
			af = BEACON_AF_INET6;
		}
		for (j = 0; j < cfg.nports; j++)
			if (cfg.ports[j].af == af)
				break;
		if (j < cfg.nports || cfg.nports == BEACON_MAX_PORTS || addr_port((struct sockaddr *)&ss) == 0)
			continue;
		cfg.ports[cfg.nports].af = (uint8_t)af;
		cfg.ports[cfg.nports].port = addr_port((struct sockaddr *)&ss);
		cfg.nports++;
	}
	if (cfg.nports == 0) {
		log_info("lan: no listener reachable from the LAN; discovery off");
		return -1;
	}
	if ((l = calloc(1, sizeof *l)) == NULL)
		return -1;
	l->c = c;
	if ((l->d = disc_new(c->loop, &cfg, &lan_ops, l)) == NULL) {
		log_warn("lan: discovery could not start: %s", strerror(errno));
		free(l);
		return -1;
	}
	c->lan = l;
	return 0;
}

/* Say goodbye and stop. */
void
lan_stop(struct core *c)
{
	struct lan *l = c->lan;

	if (l == NULL)
		return;
	c->lan = NULL;
	disc_free(l->d, 1);
	free(l);
}

/* Announce our new nick. */
void
lan_set_nick(struct core *c)
{
	if (c->lan != NULL)
		disc_set_nick(c->lan->d, c->nick);
}

/* A connect failed before its handshake finished: did the host prove another key? */
static void
lan_other_key(struct core *c, struct peer *p, struct session *s)
{
	const uint8_t *pk = session_remote_pk(s);
	const struct sockaddr *sa;
	char fp[FP_LEN + 1];
	struct peer *q;
	socklen_t salen = 0;
	int from_lan;

	if (pk == NULL || sodium_is_zero(pk, ID_KEYLEN) || memcmp(pk, p->pk, ID_KEYLEN) == 0 ||
	    memcmp(pk, c->id.pub, ID_KEYLEN) == 0)
		return;
	sa = session_sockaddr(s, &salen);
	from_lan = p->lan_port != 0 && sa != NULL && same_ip((const struct sockaddr *)&p->lan_addr, sa);
	fp_encode(pk, fp);
	log_warn("lan: %s (%s) at %s proved key %s instead", p->fp, p->nick, session_addr(s), fp);
	core_note(c, NULL, LINE_ERROR,
	    "warning: the host at %s %s %s (%s) but proved the key %s; not trusted",
	    session_addr(s), from_lan ? "announced itself on the LAN as" : "was expected to be",
	    p->nick, p->fp, fp);
	if (from_lan) {
		/* the beacon lied: forget its hint (the caller then shows p offline) */
		if (c->lan != NULL)
			ban(c->lan, p->pk, sa, salen);
		p->lan_port = 0;
		p->lan_addrlen = 0;
		memset(&p->lan_addr, 0, sizeof p->lan_addr);
	}
	/* show the host under the key it proved */
	if (sa == NULL)
		return;
	if ((q = core_peer_get(c, pk, 0)) == NULL) {
		if (c->lan != NULL && c->lan->created >= LAN_MAX_CREATED)
			return;
		if ((q = core_peer_get(c, pk, 1)) == NULL)
			return;
		if (c->lan != NULL)
			c->lan->created++;
	}
	if (q->state == PEER_ONLINE || q->state == PEER_CONNECTING)
		return;
	if (q->state == PEER_OFFLINE)
		sock_format(sa, q->addr, sizeof q->addr);
	if (q->via[0] == '\0')
		snprintf(q->via, sizeof q->via, "%s", from_lan ? "lan" : "direct");
	core_peer_changed(c, q, "key proved by handshake");
}

/*
 * A connect failed before its handshake finished.  If it went to the address
 * a beacon gave, and the handshake never proved that address for this key,
 * the hint is dropped and the key's beacons are ignored for a while (30 s,
 * doubling up to LAN_BAN_MS while they keep failing): a forged beacon is
 * worth one connection attempt, not a retry loop.  Retries go to the stored
 * address, which a handshake proved (a key never in a session has none).
 */
void
lan_connect_failed(struct core *c, struct peer *p, struct session *s)
{
	char hint[SOCK_ADDRSTRLEN];
	const struct sockaddr *sa;
	socklen_t salen = 0;
	int unproven = 0;

	sa = session_sockaddr(s, &salen);
	if (p->lan_port != 0 && sa != NULL && same_ip((const struct sockaddr *)&p->lan_addr, sa) &&
	    addr_port(sa) == p->lan_port) {
		sock_format((const struct sockaddr *)&p->lan_addr, hint, sizeof hint);
		/* proven: the stored address of a key that has been in a session (sent a HELLO) */
		unproven = p->announced[0] == '\0' || strcmp(hint, p->addr) != 0;
	}
	lan_other_key(c, p, s);
	if (!unproven)
		return;
	p->lan_hold_ms = p->lan_hold_ms == 0 ? LAN_HOLD_MS : p->lan_hold_ms * 2;
	if (p->lan_hold_ms > LAN_BAN_MS)
		p->lan_hold_ms = LAN_BAN_MS;
	p->lan_hold_until = loop_now(c->loop) + p->lan_hold_ms;
	log_info("lan: %s (%s) not reached at %s, which its beacons gave; they are ignored for %llu s",
	    p->fp, p->nick, hint, (unsigned long long)(p->lan_hold_ms / 1000));
	p->lan_port = 0;
	p->lan_addrlen = 0;
	memset(&p->lan_addr, 0, sizeof p->lan_addr);
	if (strcmp(p->addr, hint) == 0) {
		p->addr[0] = '\0';   /* a stranger's beacon address: not one to reconnect to */
		store_peers_dirty(c);
	}
}
