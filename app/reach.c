/* reach.c - being reachable and reaching others: port mapping, invite codes, DNS names. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "invite.h"
#include "log.h"
#include "persist.h"
#include "portmap.h"
#include "reach.h"
#include "text.h"

#define USER_MAX     64    /* NAME in NAME@DOMAIN */
#define LISTEN_MAX   8

enum racer_state { RC_WAIT = 0, RC_LIVE, RC_DONE, RC_WON };

/* One address being tried. */
struct racer {
	enum racer_state        st;
	struct session         *s;          /* RC_LIVE */
	struct sockaddr_storage ss;
	socklen_t               len;
	char                    addr[SOCK_ADDRSTRLEN];
	char                    host[DNS_NAME_MAX + 1];   /* a name the proxy resolves, or "" */
	uint16_t                port;       /* with host */
	char                    why[160];   /* RC_DONE: why it did not work */
};

enum { LK_ADDR = 1, LK_SRV, LK_TXT };

/* One DNS lookup on behalf of a race. */
struct lookup {
	struct race    *race;
	int             kind;
	uint16_t        port;
	struct dns_req *q;
	char            name[DNS_NAME_MAX + 1];
};

/* One connect attempt: every address at once, the first proven handshake wins. */
struct race {
	struct race      *next;
	struct reach     *r;
	char              label[160];    /* what we connect to, for people */
	char              cmd[256];      /* the command it answers */
	int               has_cmd;
	int               pinned;        /* the handshake must prove pk */
	uint8_t           pk[ID_KEYLEN];
	int               pin_dns;       /* the pin came from DNS TXT: a mismatch is refused loudly */
	int               holding;       /* connect nothing yet: the TXT answer decides the pin */
	int               won, over, mismatch;
	int               depth;         /* inside a loop that closes sessions: do not free */
	struct racer      rc[REACH_RACE_MAX];
	size_t            n;
	struct lookup    *look[REACH_RACE_MAX];
	size_t            nlook;
	char              lookerr[200];  /* names that did not resolve */
	struct loop_timer deadline;
	char              user[USER_MAX + 1];     /* NAME@DOMAIN */
	char              domain[DNS_NAME_MAX + 1];
};

struct reach {
	struct core      *c;
	struct portmap   *pm;
	struct pm_status  st;            /* state 0: no port mapping (off_why says why) */
	char              off_why[96];
	struct dns       *dns;
	struct race      *races;
	int               stopping;
	struct invite     inv;           /* the last invite made */
	char              code[INVITE_TEXT_MAX];
	char              dns_host[DNS_NAME_MAX + 1];   /* --dns-name */
	uint16_t          dns_port;
	char              statefile[PATH_MAX];
};

static void race_check(struct race *);

/* --- small helpers --------------------------------------------------------- */

/* Copy what a person typed into out, safe to show. */
static void
clean_copy(const char *in, char *out, size_t outlen)
{
	text_sanitize((const uint8_t *)in, strlen(in), out, outlen, 0);
}

/* Whether n bytes of s form a user name (NAME in NAME@DOMAIN). */
static int
user_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > USER_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '.' || ch == '_' || ch == '-'))
			return 0;
	}
	return 1;
}

/* Parse "HOST[:PORT]" (a DNS name); the port defaults to defport. */
static int
parse_host_port(const char *text, char *host, size_t hostlen, uint16_t *port, uint16_t defport)
{
	const char *colon = strrchr(text, ':');
	size_t hl = colon ? (size_t)(colon - text) : strlen(text);
	char *end;
	long v;

	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, text, hl);
	host[hl] = '\0';
	if (!dns_name_ok(host))
		return -1;
	*port = defport;
	if (colon != NULL) {
		errno = 0;
		v = strtol(colon + 1, &end, 10);
		if (colon[1] == '\0' || *end != '\0' || errno != 0 || v < 1 || v > 65535)
			return -1;
		*port = (uint16_t)v;
	}
	return 0;
}

/* Whether an address is the wildcard of its family. */
static int
is_any(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return 0;
}

/* Whether an address is a loopback address. */
static int
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return 0;
}

/* The port of an address. */
static uint16_t
port_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

/* Our listening addresses, parsed. */
static size_t
listeners(struct core *c, struct sockaddr_storage *ss, socklen_t *lens, size_t max)
{
	char text[LISTEN_MAX][SOCK_ADDRSTRLEN];
	size_t n, i, k = 0;

	n = net_listen_addrs(c->net, text, max < LISTEN_MAX ? max : LISTEN_MAX);
	for (i = 0; i < n; i++)
		if (sock_parse(text[i], 0, &ss[k], &lens[k]) == 0)
			k++;
	return k;
}

/*
 * The candidates of an invite: the mapped external address and the DNS name
 * first (so that many interfaces cannot crowd them out), then the addresses of
 * every interface a wildcard listener covers, then any specific listener;
 * loopback only when there is nothing else.
 */
static void
collect(struct invite *inv, const struct sockaddr_storage *ls, const socklen_t *lens, size_t nls,
    const char *mapped, uint16_t mapped_port, const char *dns_host, uint16_t dns_port)
{
	struct ifaddrs *ifs = NULL, *ifa;
	struct sockaddr_storage ss;
	socklen_t sl;
	size_t i;

	if (mapped != NULL && mapped[0] != '\0') {
		char t[SOCK_ADDRSTRLEN + 8];

		snprintf(t, sizeof t, "%s:%u", mapped, mapped_port);
		if (sock_parse(t, 0, &ss, &sl) == 0)
			invite_add_addr(inv, (struct sockaddr *)&ss, sl);
	}
	if (dns_host != NULL && dns_host[0] != '\0')
		invite_add_name(inv, dns_host, dns_port);
	if (getifaddrs(&ifs) == -1)
		ifs = NULL;
	for (i = 0; i < nls; i++) {
		const struct sockaddr *l = (const struct sockaddr *)&ls[i];

		if (!is_any(l)) {
			if (!is_loopback(l))
				invite_add_addr(inv, l, lens[i]);
			continue;
		}
		for (ifa = ifs; ifa != NULL; ifa = ifa->ifa_next) {
			if (ifa->ifa_addr == NULL || ifa->ifa_addr->sa_family != l->sa_family ||
			    !(ifa->ifa_flags & IFF_UP) || (ifa->ifa_flags & IFF_LOOPBACK))
				continue;
			memset(&ss, 0, sizeof ss);
			if (l->sa_family == AF_INET) {
				struct sockaddr_in *s = (struct sockaddr_in *)&ss;

				memcpy(s, ifa->ifa_addr, sizeof *s);
				if ((ntohl(s->sin_addr.s_addr) >> 16) == 0xa9fe)
					continue;   /* 169.254/16 link local */
				s->sin_port = htons(port_of(l));
				sl = sizeof *s;
			} else {
				struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

				memcpy(s, ifa->ifa_addr, sizeof *s);
				if (IN6_IS_ADDR_LINKLOCAL(&s->sin6_addr) || IN6_IS_ADDR_V4MAPPED(&s->sin6_addr))
					continue;
				s->sin6_port = htons(port_of(l));
				sl = sizeof *s;
			}
			invite_add_addr(inv, (struct sockaddr *)&ss, sl);
		}
	}
	if (ifs != NULL)
		freeifaddrs(ifs);
	if (inv->n == 0)
		for (i = 0; i < nls; i++)
			if (is_loopback((const struct sockaddr *)&ls[i]))
				invite_add_addr(inv, (const struct sockaddr *)&ls[i], lens[i]);
	if (inv->n == 0) {
		/* a wildcard listener on a host with only loopback: say so with 127.0.0.1 */
		for (i = 0; i < nls; i++) {
			char t[32];

			snprintf(t, sizeof t, "%s:%u", ls[i].ss_family == AF_INET6 ? "[::1]" : "127.0.0.1",
			    port_of((const struct sockaddr *)&ls[i]));
			if (sock_parse(t, 0, &ss, &sl) == 0)
				invite_add_addr(inv, (struct sockaddr *)&ss, sl);
		}
	}
}

/* The candidates as one line of text. */
static void
cands_text(const struct invite *inv, char *out, size_t outlen)
{
	char one[DNS_NAME_MAX + 16];
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < inv->n && len + 1 < outlen; i++) {
		invite_cand_text(&inv->c[i], one, sizeof one);
		len += (size_t)snprintf(out + len, outlen - len, "%s%s", i ? ", " : "", one);
	}
	if (len >= outlen && outlen > 4)
		memcpy(out + outlen - 4, "...", 4);
}

/* Parse "--dns-name NAME[:PORT]". */
int
reach_parse_dns_name(const char *text, char *host, size_t hostlen, uint16_t *port)
{
	return parse_host_port(text, host, hostlen, port, 0);
}

/* --- the state file: what "confab invite" in another terminal needs ------- */

/* persist_writer_fn: pid, listeners, mapping and DNS name of arg (a struct reach). */
static int
state_lines(FILE *f, void *arg)
{
	struct reach *r = arg;
	struct sockaddr_storage ls[LISTEN_MAX];
	socklen_t lens[LISTEN_MAX];
	char a[SOCK_ADDRSTRLEN];
	size_t n, i;

	fprintf(f, "pid %ld\n", (long)getpid());
	n = listeners(r->c, ls, lens, LISTEN_MAX);
	for (i = 0; i < n; i++) {
		sock_format((struct sockaddr *)&ls[i], a, sizeof a);
		fprintf(f, "listen %s\n", a);
	}
	if (r->st.state == PM_MAPPED)
		fprintf(f, "mapped %s %s %u\n", pm_method_name(r->st.method), r->st.ext_addr, r->st.ext_port);
	if (r->dns_host[0] != '\0')
		fprintf(f, "dns %s %u\n", r->dns_host, r->dns_port);
	return ferror(f) ? -1 : 0;
}

/* Write pid, listeners, mapping and DNS name to the state file (atomically). */
static void
state_write(struct reach *r)
{
	char err[PATH_MAX + 128];

	if (r->statefile[0] == '\0')
		return;
	if (persist_atomic_write(r->statefile, 0600, 0, state_lines, r, err, sizeof err) == -1)
		log_warn("cannot write %s", err);
}

struct state_file {
	long                    pid;
	struct sockaddr_storage ls[LISTEN_MAX];
	socklen_t               lens[LISTEN_MAX];
	size_t                  nls;
	char                    mapped[PM_ADDRLEN];
	unsigned                mapped_port;
	char                    dns[DNS_NAME_MAX + 1];
	unsigned                dns_port;
};

/* Read the state file of a running instance; -1 if there is none (or its process is gone). */
static int
state_read(const char *path, struct state_file *sf)
{
	char line[512], a[DNS_NAME_MAX + 1], b[PM_ADDRLEN], m[32];
	unsigned p;
	FILE *f;

	memset(sf, 0, sizeof *sf);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "pid %ld", &sf->pid) == 1)
			continue;
		if (sscanf(line, "listen %63s", a) == 1 && sf->nls < LISTEN_MAX) {
			if (sock_parse(a, 0, &sf->ls[sf->nls], &sf->lens[sf->nls]) == 0)
				sf->nls++;
			continue;
		}
		if (sscanf(line, "mapped %31s %45s %u", m, b, &p) == 3 && !pm_addr_reserved(b) && p > 0 && p < 65536) {
			snprintf(sf->mapped, sizeof sf->mapped, "%s", b);
			sf->mapped_port = p;
			continue;
		}
		if (sscanf(line, "dns %253s %u", a, &p) == 2 && dns_name_ok(a) && p > 0 && p < 65536) {
			snprintf(sf->dns, sizeof sf->dns, "%s", a);
			sf->dns_port = p;
		}
	}
	fclose(f);
	if (sf->pid <= 0 || sf->pid == (long)getpid() || (kill((pid_t)sf->pid, 0) == -1 && errno != EPERM))
		return -1;
	return 0;
}

/* --- port mapping -------------------------------------------------------- */

/* A sentence about the mapping state. */
static void
nat_text(struct reach *r, char *out, size_t outlen)
{
	const struct pm_status *st = &r->st;

	switch (st->state) {
	case PM_MAPPED:
		if (st->lease_s > 0)
			snprintf(out, outlen, "reachable from outside via %s at %s:%u (lease %u s, renewed at half time)",
			    st->method == PM_UPNP ? "UPnP" : "NAT-PMP", st->ext_addr, st->ext_port, st->lease_s);
		else
			snprintf(out, outlen, "reachable from outside via %s at %s:%u (permanent mapping, removed on exit)",
			    st->method == PM_UPNP ? "UPnP" : "NAT-PMP", st->ext_addr, st->ext_port);
		return;
	case PM_PENDING:
		snprintf(out, outlen, "asking the router to open port %u", st->int_port);
		return;
	case PM_FAILED:
		switch (st->reason) {
		case PMR_DOUBLE_NAT:
			snprintf(out, outlen, "not reachable from outside: double NAT (or carrier-grade NAT), "
			    "the router's own external address is private or reserved, so a port mapping "
			    "would not help; you can still connect to others (%s)", st->why);
			return;
		case PMR_REFUSED:
			snprintf(out, outlen, "not reachable from outside: the router refused the port mapping; "
			    "you can still connect to others (%s)", st->why);
			return;
		case PMR_NO_GATEWAY:
			snprintf(out, outlen, "not reachable from outside: no gateway (no IPv4 default route)");
			return;
		case PMR_LOST:
			snprintf(out, outlen, "no longer reachable from outside: %s; asking again", st->why);
			return;
		default:
			snprintf(out, outlen, "not reachable from outside: no gateway answered NAT-PMP or UPnP; "
			    "you can still connect to others (%s)", st->why);
			return;
		}
	}
	snprintf(out, outlen, "port mapping off: %s", r->off_why);
}

/* Tell the front-end about the mapping state (and answer cmd, if any). */
static void
nat_emit(struct reach *r, const char *cmd)
{
	struct core *c = r->c;
	struct core_event ev;
	char text[512];

	nat_text(r, text, sizeof text);
	memset(&ev, 0, sizeof ev);
	ev.type = EV_NAT;
	ev.text = text;
	ev.cmd = cmd;
	if (c->fe.event != NULL)
		c->fe.event(c, &ev, c->fe.arg);
}

/* The port mapper changed state. */
static void
nat_changed(void *arg, const struct pm_status *st)
{
	struct reach *r = arg;
	int renewal = r->st.state == PM_MAPPED && st->state == PM_MAPPED && r->st.method == st->method &&
	    r->st.ext_port == st->ext_port && strcmp(r->st.ext_addr, st->ext_addr) == 0;
	char text[512];

	r->st = *st;
	if (!renewal) {
		state_write(r);
		nat_text(r, text, sizeof text);
		core_note(r->c, NULL, LINE_SYSTEM, "%s", text);
	}
	nat_emit(r, NULL);
}

/* The TCP port to map: that of an IPv4 listener on every address or a non-loopback one. */
static uint16_t
mappable_port(struct core *c)
{
	struct sockaddr_storage ls[LISTEN_MAX];
	socklen_t lens[LISTEN_MAX];
	size_t n = listeners(c, ls, lens, LISTEN_MAX), i;

	for (i = 0; i < n; i++)
		if (ls[i].ss_family == AF_INET && !is_loopback((struct sockaddr *)&ls[i]))
			return port_of((struct sockaddr *)&ls[i]);
	return 0;
}

/* Set up c->reach and start the port mapping. */
int
reach_start(struct core *c)
{
	struct portmap_opts o;
	struct reach *r;
	uint16_t port;

	if ((r = calloc(1, sizeof *r)) == NULL)
		return -1;
	r->c = c;
	c->reach = r;
	r->dns = dns_new(c->loop);
	if (paths_join(r->statefile, sizeof r->statefile, c->paths.state, "reach") == -1)
		r->statefile[0] = '\0';
	else {
		struct state_file other;

		/* another confab with this home is running (a "confab send" beside the UI): leave its file */
		if (state_read(r->statefile, &other) == 0) {
			log_info("confab %ld runs with this home: not writing %s", other.pid, r->statefile);
			r->statefile[0] = '\0';
		}
	}
	if (c->opt.dns_name != NULL &&
	    reach_parse_dns_name(c->opt.dns_name, r->dns_host, sizeof r->dns_host, &r->dns_port) == -1) {
		log_warn("--dns-name %s is not a host name: ignored", c->opt.dns_name);
		r->dns_host[0] = '\0';
	}
	if (c->opt.no_nat) {
		snprintf(r->off_why, sizeof r->off_why, "--no-nat");
	} else if ((port = mappable_port(c)) == 0) {
		snprintf(r->off_why, sizeof r->off_why, "not listening on a routable IPv4 address");
	} else {
		memset(&o, 0, sizeof o);
		o.port = port;
		o.lease_s = c->opt.nat_lease_s;
		if ((r->pm = portmap_start(c->loop, &o, nat_changed, r)) == NULL)
			snprintf(r->off_why, sizeof r->off_why, "out of memory");
		else
			r->st = *portmap_status(r->pm);
	}
	if (r->pm == NULL)
		log_info("port mapping off: %s", r->off_why);
	state_write(r);
	return 0;
}

/* --- races ----------------------------------------------------------------- */

/* Free a race once nothing of it is left in flight. */
static void
race_gc(struct race *race)
{
	struct reach *r = race->r;
	struct race **pp;
	size_t i;

	if (race->depth > 0 || !(race->won || race->over) || race->nlook > 0)
		return;
	for (i = 0; i < race->n; i++)
		if (race->rc[i].st == RC_LIVE)
			return;
	for (pp = &r->races; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == race) {
			*pp = race->next;
			break;
		}
	}
	loop_timer_del(r->c->loop, &race->deadline);
	free(race);
}

/* Drop every outstanding lookup of a race. */
static void
race_unlook(struct race *race)
{
	size_t i;

	for (i = 0; i < race->nlook; i++) {
		dns_cancel(race->look[i]->q);
		free(race->look[i]);
	}
	race->nlook = 0;
}

/* End a race without a winner: close what is open, report msg (unless quitting). */
static void
race_end(struct race *race, const char *msg)
{
	struct core *c = race->r->c;
	size_t i;

	if (race->won || race->over)
		return;
	race->over = 1;
	race->depth++;
	race_unlook(race);
	for (i = 0; i < race->n; i++) {
		if (race->rc[i].st == RC_LIVE)
			session_close(race->rc[i].s, BYE_QUIT, "connect attempt given up");
		else if (race->rc[i].st == RC_WAIT)
			race->rc[i].st = RC_DONE;
	}
	race->depth--;
	if (msg != NULL && !race->r->stopping) {
		log_info("%s", msg);
		core_error(c, race->has_cmd ? race->cmd : NULL, NULL, "%s", msg);
	}
	race_gc(race);
}

/* Give up on a race with a formatted reason. */
static void
race_fail(struct race *race, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
race_fail(struct race *race, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	race_end(race, msg);
}

/* Open a session to one racer's address. */
static void
racer_start(struct race *race, struct racer *x)
{
	struct core *c = race->r->c;

	if (x->host[0] != '\0')
		x->s = net_connect_name(c->net, x->host, x->port, race->pinned ? race->pk : NULL);
	else
		x->s = net_connect(c->net, (struct sockaddr *)&x->ss, x->len, race->pinned ? race->pk : NULL);
	if (x->s == NULL) {
		x->st = RC_DONE;
		snprintf(x->why, sizeof x->why, "%s", strerror(errno));
		log_info("connect to %s (%s): %s", race->label, x->addr, x->why);
		return;
	}
	x->st = RC_LIVE;
	log_info("connect to %s: trying %s%s", race->label, x->addr,
	    net_proxied(c->net) ? " through the proxy" : "");
}

/* Add a host name to try through the proxy, which resolves it (remote DNS). */
static void
race_add_name(struct race *race, const char *host, uint16_t port)
{
	struct racer *x;
	size_t i;

	if (race->won || race->over)
		return;
	for (i = 0; i < race->n; i++)
		if (race->rc[i].port == port && strcmp(race->rc[i].host, host) == 0)
			return;
	if (race->n == REACH_RACE_MAX) {
		log_info("connect to %s: more than %d addresses, ignoring the rest", race->label, REACH_RACE_MAX);
		return;
	}
	x = &race->rc[race->n++];
	memset(x, 0, sizeof *x);
	snprintf(x->host, sizeof x->host, "%s", host);
	x->port = port;
	snprintf(x->addr, sizeof x->addr, "%.*s:%u", (int)(sizeof x->addr - 7), host, port);
	x->st = RC_WAIT;
	if (!race->holding)
		racer_start(race, x);
}

/* Add an address to try (started at once unless the race holds). */
static void
race_add(struct race *race, const struct sockaddr *sa, socklen_t len)
{
	struct racer *x;
	size_t i;

	if (race->won || race->over || len > sizeof x->ss)
		return;
	for (i = 0; i < race->n; i++)
		if (race->rc[i].len == len && memcmp(&race->rc[i].ss, sa, len) == 0)
			return;
	if (race->n == REACH_RACE_MAX) {
		log_info("connect to %s: more than %d addresses, ignoring the rest", race->label, REACH_RACE_MAX);
		return;
	}
	x = &race->rc[race->n++];
	memset(x, 0, sizeof *x);
	memcpy(&x->ss, sa, len);
	x->len = len;
	sock_format(sa, x->addr, sizeof x->addr);
	x->st = RC_WAIT;
	if (!race->holding)
		racer_start(race, x);
}

/* Start every waiting racer (the pin is known now). */
static void
race_release(struct race *race)
{
	size_t i;

	race->holding = 0;
	for (i = 0; i < race->n && !race->won && !race->over; i++)
		if (race->rc[i].st == RC_WAIT)
			racer_start(race, &race->rc[i]);
}

/* No more chances: every address failed and no lookup is outstanding. */
static void
race_check(struct race *race)
{
	char msg[900];
	size_t i, len;

	if (race->won || race->over) {
		race_gc(race);
		return;
	}
	if (race->holding || race->nlook > 0)
		return;
	for (i = 0; i < race->n; i++)
		if (race->rc[i].st == RC_WAIT || race->rc[i].st == RC_LIVE)
			return;
	if (race->mismatch) {
		/* already refused loudly; nothing else answered */
		race_end(race, NULL);
		return;
	}
	len = (size_t)snprintf(msg, sizeof msg, "cannot reach %s: ", race->label);
	if (race->n == 0 && race->lookerr[0] == '\0')
		len += (size_t)snprintf(msg + len, sizeof msg - len, "no address to try");
	for (i = 0; i < race->n && len < sizeof msg; i++)
		len += (size_t)snprintf(msg + len, sizeof msg - len, "%s%s (%s)", i ? "; " : "",
		    race->rc[i].addr, race->rc[i].why);
	if (race->lookerr[0] != '\0' && len < sizeof msg)
		snprintf(msg + len, sizeof msg - len, "%s%s", race->n ? "; " : "", race->lookerr);
	race_end(race, msg);
}

/* The whole attempt took too long. */
static void
race_deadline(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct race *race = arg;

	race_fail(race, "cannot reach %s: no answer within %d s", race->label, REACH_RACE_MS / 1000);
}

/* A new race answering cmd. */
static struct race *
race_new(struct reach *r, const char *label, const char *cmd)
{
	struct race *race;

	if ((race = calloc(1, sizeof *race)) == NULL) {
		core_error(r->c, cmd, NULL, "out of memory");
		return NULL;
	}
	race->r = r;
	snprintf(race->label, sizeof race->label, "%s", label);
	if (cmd != NULL) {
		snprintf(race->cmd, sizeof race->cmd, "%s", cmd);
		race->has_cmd = 1;
	}
	loop_timer_init(&race->deadline, race_deadline, race);
	loop_timer_set(r->c->loop, &race->deadline, REACH_RACE_MS);
	race->next = r->races;
	r->races = race;
	return race;
}

/* Find the race and racer of an attempt's session. */
static struct racer *
racer_of(struct reach *r, struct session *s, struct race **racep)
{
	struct race *race;
	size_t i;

	for (race = r->races; race != NULL; race = race->next)
		for (i = 0; i < race->n; i++)
			if (race->rc[i].st == RC_LIVE && race->rc[i].s == s) {
				*racep = race;
				return &race->rc[i];
			}
	return NULL;
}

/* A handshake finished: the first of a race wins, the others are refused. */
int
reach_established(struct core *c, struct session *s)
{
	struct reach *r = c->reach;
	struct race *race;
	struct racer *x;
	size_t i;

	if (r == NULL || (x = racer_of(r, s, &race)) == NULL)
		return 0;
	if (race->won || race->over || r->stopping) {
		snprintf(x->why, sizeof x->why, "another address answered first");
		return -1;   /* closed by the net; reach_closed marks it done */
	}
	race->won = 1;
	x->st = RC_WON;
	x->s = NULL;      /* the core owns it from here */
	race->depth++;
	race_unlook(race);
	for (i = 0; i < race->n; i++) {
		struct racer *o = &race->rc[i];

		if (o->st == RC_LIVE) {
			snprintf(o->why, sizeof o->why, "another address answered first");
			session_close(o->s, BYE_DUPLICATE, "another address answered first");
		} else if (o->st == RC_WAIT) {
			o->st = RC_DONE;
		}
	}
	race->depth--;
	log_info("connect to %s: %s won", race->label, x->addr);
	core_note(c, NULL, LINE_SYSTEM, "connected to %s at %s%s", race->label, x->addr,
	    race->pin_dns ? " (its key matches the DNS TXT record)" :
	    race->pinned ? " (its key matches the invite code)" : "");
	race_gc(race);
	return 1;
}

/* Whether a key is all zeros (not learned yet). */
static int
key_zero(const uint8_t *k)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < ID_KEYLEN; i++)
		acc |= k[i];
	return acc == 0;
}

/* A session of ours ended: note why, refuse a wrong key loudly, see whether anything is left. */
int
reach_closed(struct core *c, struct session *s, const char *reason)
{
	struct reach *r = c->reach;
	char got[FP_LEN + 1], want[FP_LEN + 1];
	const uint8_t *pk;
	struct race *race;
	struct racer *x;

	if (r == NULL || (x = racer_of(r, s, &race)) == NULL)
		return 0;
	x->st = RC_DONE;
	x->s = NULL;
	if (x->why[0] == '\0')
		snprintf(x->why, sizeof x->why, "%s", reason ? reason : "closed");
	pk = session_remote_pk(s);
	if (race->pinned && !race->won && !race->over && !r->stopping && !key_zero(pk) &&
	    memcmp(pk, race->pk, ID_KEYLEN) != 0) {
		fp_encode(pk, got);
		fp_encode(race->pk, want);
		if (race->pin_dns) {
			race->mismatch = 1;
			snprintf(x->why, sizeof x->why, "refused: key %.8s does not match DNS", got);
			log_warn("REFUSED %s at %s: key %s, DNS TXT pins %s", race->label, x->addr, got, want);
			core_error(c, race->has_cmd ? race->cmd : NULL, NULL,
			    "REFUSED %s at %s: it proved the key %s, but the DNS TXT record of _confab._tcp.%s "
			    "pins %s for %s. Not connecting: this is someone else (an impersonation attempt, "
			    "or the record is out of date).", race->label, x->addr, got, race->domain, want,
			    race->user);
		} else {
			snprintf(x->why, sizeof x->why, "a different peer is there (key %.8s)", got);
		}
	}
	race_check(race);
	return 1;
}

/* --- lookups for races ----------------------------------------------------- */

static void on_lookup(void *arg, const struct dns_answer *ans);

/* Start a lookup for a race. */
static int
race_lookup(struct race *race, int kind, const char *name, uint16_t port)
{
	struct lookup *lk;
	struct dns *d = race->r->dns;

	if (d == NULL || race->nlook == REACH_RACE_MAX || (lk = calloc(1, sizeof *lk)) == NULL)
		return -1;
	lk->race = race;
	lk->kind = kind;
	lk->port = port;
	snprintf(lk->name, sizeof lk->name, "%s", name);
	if (kind == LK_ADDR)
		lk->q = dns_lookup_addr(d, name, port, on_lookup, lk);
	else if (kind == LK_SRV)
		lk->q = dns_lookup_srv(d, name, on_lookup, lk);
	else
		lk->q = dns_lookup_txt(d, name, on_lookup, lk);
	if (lk->q == NULL) {
		free(lk);
		return -1;
	}
	race->look[race->nlook++] = lk;
	return 0;
}

/* A host name to try: the proxy resolves it if there is one, else DNS here. */
static int
race_host(struct race *race, const char *host, uint16_t port)
{
	if (net_proxied(race->r->c->net)) {
		race_add_name(race, host, port);
		return 0;
	}
	return race_lookup(race, LK_ADDR, host, port);
}

/* Order SRV records: lower priority first, then heavier weight. */
static int
srv_cmp(const void *a, const void *b)
{
	const struct dns_srv *x = a, *y = b;

	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return x->weight > y->weight ? -1 : x->weight < y->weight;
}

/* The SRV answer of NAME@DOMAIN: look up every target. */
static void
got_srv(struct race *race, const struct lookup *lk, const struct dns_answer *ans)
{
	struct dns_srv srv[DNS_SRV_MAX];
	size_t i, started = 0;

	if (ans->status == DNS_ENONAME) {
		/* no SRV record: the domain itself, on the default port */
		log_info("%s: no SRV record, trying %s:%d", race->label, race->domain, DEFAULT_PORT);
		core_note(race->r->c, NULL, LINE_SYSTEM, "%s: no SRV record at %s, trying %s port %d",
		    race->label, lk->name, race->domain, DEFAULT_PORT);
		if (race_host(race, race->domain, DEFAULT_PORT) == -1)
			race_fail(race, "cannot look up %s: out of memory", race->domain);
		return;
	}
	if (ans->status != DNS_OK) {
		race_fail(race, "cannot look up %s (SRV %s): %s", race->label, lk->name, ans->err);
		return;
	}
	memcpy(srv, ans->srv, ans->nsrv * sizeof srv[0]);
	qsort(srv, ans->nsrv, sizeof srv[0], srv_cmp);
	for (i = 0; i < ans->nsrv; i++) {
		if (srv[i].target[0] == '\0' || srv[i].port == 0)
			continue;   /* "." : no such service at this domain */
		if (race_host(race, srv[i].target, srv[i].port) == 0)
			started++;
	}
	if (started == 0)
		race_fail(race, "%s: the SRV record %s says there is no confab service there", race->label, lk->name);
}

/* The TXT answer of NAME@DOMAIN: the pin, then connect. */
static void
got_txt(struct race *race, const struct lookup *lk, const struct dns_answer *ans)
{
	char err[300], fp[FP_LEN + 1];
	int rc;

	if (ans->status == DNS_OK) {
		rc = reach_txt_pin(ans->txt, ans->ntxt, race->user, race->pk, err, sizeof err);
		if (rc == -1) {
			race_fail(race, "%s: %s (TXT %s)", race->label, err, lk->name);
			return;
		}
		if (rc == 1) {
			race->pinned = race->pin_dns = 1;
			fp_encode(race->pk, fp);
			log_info("%s: DNS pins %s", race->label, fp);
			if (memcmp(race->pk, race->r->c->id.pub, ID_KEYLEN) == 0) {
				race_fail(race, "%s is you (its DNS TXT record has your own fingerprint)", race->label);
				return;
			}
		}
	} else if (ans->status != DNS_ENONAME) {
		race_fail(race, "cannot look up the fingerprint of %s (TXT %s): %s", race->label, lk->name, ans->err);
		return;
	}
	if (!race->pinned) {
		log_warn("%s: no fingerprint in DNS, connecting unpinned", race->label);
		core_note(race->r->c, NULL, LINE_SYSTEM, "%s publishes no fingerprint (no %s=... TXT string at %s): "
		    "connecting without checking who answers", race->label, race->user, lk->name);
	}
	race_release(race);
}

/* A lookup of a race finished. */
static void
on_lookup(void *arg, const struct dns_answer *ans)
{
	struct lookup *lk = arg;
	struct race *race = lk->race;
	size_t i, len;

	for (i = 0; i < race->nlook; i++) {
		if (race->look[i] == lk) {
			race->look[i] = race->look[--race->nlook];
			break;
		}
	}
	race->depth++;
	switch (lk->kind) {
	case LK_ADDR:
		if (ans->status == DNS_OK) {
			for (i = 0; i < ans->naddrs; i++)
				race_add(race, (const struct sockaddr *)&ans->addrs[i], ans->addrlens[i]);
		} else {
			len = strlen(race->lookerr);
			if (ans->status == DNS_ENONAME)
				snprintf(race->lookerr + len, sizeof race->lookerr - len,
				    "%s%s does not exist (no address record)", len ? "; " : "", lk->name);
			else
				snprintf(race->lookerr + len, sizeof race->lookerr - len,
				    "%scannot look up %s (%s)", len ? "; " : "", lk->name, ans->err);
		}
		break;
	case LK_SRV:
		got_srv(race, lk, ans);
		break;
	case LK_TXT:
		got_txt(race, lk, ans);
		break;
	}
	race->depth--;
	free(lk);
	race_check(race);
}

/* --- connect by name, by NAME@DOMAIN, by invite code ----------------------- */

/* HOST[:PORT] through A and AAAA. */
static int
connect_host(struct reach *r, const char *target, const char *cmd)
{
	char host[DNS_NAME_MAX + 1], label[DNS_NAME_MAX + 16], shown[200];
	struct race *race;
	uint16_t port;

	if (parse_host_port(target, host, sizeof host, &port, DEFAULT_PORT) == -1) {
		clean_copy(target, shown, sizeof shown);
		core_error(r->c, cmd, NULL, "cannot parse \"%s\": use HOST[:PORT], NAME@DOMAIN or an invite code",
		    shown);
		return -1;
	}
	snprintf(label, sizeof label, "%s:%u", host, port);
	if ((race = race_new(r, label, cmd)) == NULL)
		return -1;
	race->depth++;
	if (race_host(race, host, port) == -1) {
		race->depth--;
		race_fail(race, "cannot look up %s: out of memory", host);
		return -1;
	}
	race->depth--;
	if (net_proxied(r->c->net)) {
		log_info("connect to %s: the proxy resolves the name", label);
		race_check(race);
	} else {
		log_info("connect to %s: looking up the name", label);
	}
	return 0;
}

/* NAME@DOMAIN through SRV (host, port) and TXT (fingerprint). */
static int
connect_named(struct reach *r, const char *target, const char *cmd)
{
	const char *at = strrchr(target, '@');
	char qname[DNS_NAME_MAX + 2], shown[200];
	struct race *race;
	size_t ul = (size_t)(at - target);

	if (!user_ok(target, ul) || !dns_name_ok(at + 1) ||
	    (size_t)snprintf(qname, sizeof qname, "_confab._tcp.%s", at + 1) > DNS_NAME_MAX) {
		clean_copy(target, shown, sizeof shown);
		core_error(r->c, cmd, NULL, "cannot parse \"%s\": NAME@DOMAIN takes a name of letters, digits, "
		    "'.', '_' and '-', and a domain name", shown);
		return -1;
	}
	if ((race = race_new(r, target, cmd)) == NULL)
		return -1;
	memcpy(race->user, target, ul);
	race->user[ul] = '\0';
	snprintf(race->domain, sizeof race->domain, "%s", at + 1);
	race->holding = 1;
	if (race_lookup(race, LK_SRV, qname, 0) == -1 || race_lookup(race, LK_TXT, qname, 0) == -1) {
		race_fail(race, "cannot look up %s: out of memory", qname);
		return -1;
	}
	log_info("connect to %s: looking up SRV and TXT %s", race->label, qname);
	return 0;
}

/* An invite code: every candidate at once, pinned to its fingerprint. */
static int
connect_invite(struct reach *r, const char *code, const char *cmd)
{
	struct core *c = r->c;
	char err[300], fp[FP_LEN + 1], label[160], list[700];
	struct invite inv;
	struct race *race;
	struct peer *p;
	size_t i;

	if (invite_decode(code, &inv, err, sizeof err) == -1) {
		core_error(c, cmd, NULL, "%s", err);
		return -1;
	}
	if (memcmp(inv.key, c->id.pub, ID_KEYLEN) == 0) {
		core_error(c, cmd, NULL, "that is your own invite code: give it to the peer who should reach you");
		return -1;
	}
	if (inv.n == 0) {
		core_error(c, cmd, NULL, "the invite code lists no address to try");
		return -1;
	}
	fp_encode(inv.key, fp);
	p = core_peer_get(c, inv.key, 0);
	if (p != NULL && core_refuse_blocked(c, p, cmd) == -1)
		return -1;   /* never dial a blocked peer */
	if (p != NULL && p->state == PEER_ONLINE) {
		core_note(c, &p->conv, LINE_SYSTEM, "already connected to %s (%s)", p->nick, p->addr);
		return 0;
	}
	if (p != NULL)
		snprintf(label, sizeof label, "%.100s (%.*s)", p->nick, FP_SHORT, fp);
	else
		snprintf(label, sizeof label, "the invite's peer %.*s", FP_SHORT, fp);
	if ((race = race_new(r, label, cmd)) == NULL)
		return -1;
	race->pinned = 1;
	memcpy(race->pk, inv.key, ID_KEYLEN);
	cands_text(&inv, list, sizeof list);
	log_info("connect to %s (%s): %zu candidates: %s", label, fp, inv.n, list);
	core_note(c, NULL, LINE_SYSTEM, "connecting to %s, trying %zu address%s at once: %s", label, inv.n,
	    inv.n == 1 ? "" : "es", list);
	race->depth++;
	for (i = 0; i < inv.n; i++) {
		if (inv.c[i].kind == INV_NAME) {
			if (race_host(race, inv.c[i].host, inv.c[i].port) == -1)
				log_warn("cannot look up %s", inv.c[i].host);
		} else {
			race_add(race, (struct sockaddr *)&inv.c[i].ss, inv.c[i].len);
		}
	}
	race->depth--;
	race_check(race);
	return 0;
}

/* Connect to an invite code, NAME@DOMAIN or HOST[:PORT]. */
int
reach_connect(struct core *c, const char *target, const char *cmd)
{
	struct reach *r = c->reach;
	char shown[200];

	if (r == NULL || r->stopping) {
		clean_copy(target, shown, sizeof shown);
		core_error(c, cmd, NULL, "cannot connect to \"%s\" now", shown);
		return -1;
	}
	if (invite_looks_like(target))
		return connect_invite(r, target, cmd);
	if (strchr(target, '@') != NULL)
		return connect_named(r, target, cmd);
	return connect_host(r, target, cmd);
}

/* The fingerprint published for user in TXT strings. */
int
reach_txt_pin(const struct dns_txt *t, size_t n, const char *user, uint8_t pk[ID_KEYLEN], char *err, size_t errlen)
{
	char names[120] = "", fp[FP_LEN + 1];
	uint8_t k[ID_KEYLEN];
	size_t i, kl, vl, ul = strlen(user), nl = 0;
	int found = 0, entries = 0;

	for (i = 0; i < n; i++) {
		const char *s = t[i].s, *eq;

		if (t[i].len > sizeof t[i].s - 1 || memchr(s, '\0', t[i].len) != NULL ||
		    (eq = memchr(s, '=', t[i].len)) == NULL)
			continue;
		kl = (size_t)(eq - s);
		vl = t[i].len - kl - 1;
		if (!user_ok(s, kl))
			continue;
		if (kl != ul || strncasecmp(s, user, kl) != 0) {
			/* someone else's entry, if it holds something like a fingerprint */
			if (vl != FP_LEN)
				continue;
			entries++;
			if (nl + kl + 3 < sizeof names)
				nl += (size_t)snprintf(names + nl, sizeof names - nl, "%s%.*s", nl ? ", " : "",
				    (int)kl, s);
			continue;
		}
		entries++;
		if (vl != FP_LEN) {
			snprintf(err, errlen, "the TXT string for %s holds no fingerprint (%zu characters, not %d)",
			    user, vl, FP_LEN);
			return -1;
		}
		memcpy(fp, eq + 1, FP_LEN);
		fp[FP_LEN] = '\0';
		if (fp_decode(fp, k) == -1) {
			snprintf(err, errlen, "the TXT string for %s holds no valid fingerprint", user);
			return -1;
		}
		if (found && memcmp(k, pk, ID_KEYLEN) != 0) {
			snprintf(err, errlen, "DNS publishes two different fingerprints for %s: refusing to guess", user);
			return -1;
		}
		memcpy(pk, k, ID_KEYLEN);
		found = 1;
	}
	if (found)
		return 1;
	if (entries == 0)
		return 0;
	snprintf(err, errlen, "DNS lists no confab user named %s (it lists: %s)", user, names);
	return -1;
}

/* --- /invite, /nat, confab invite ------------------------------------------ */

/* Make our invite from the listeners, the mapping and --dns-name. */
static void
make_invite(struct reach *r, struct invite *inv)
{
	struct sockaddr_storage ls[LISTEN_MAX];
	socklen_t lens[LISTEN_MAX];
	size_t n = listeners(r->c, ls, lens, LISTEN_MAX);
	uint16_t dport = r->dns_port;

	memset(inv, 0, sizeof *inv);
	memcpy(inv->key, r->c->id.pub, ID_KEYLEN);
	if (dport == 0)
		dport = r->st.state == PM_MAPPED ? r->st.ext_port : (uint16_t)net_listen_port(r->c->net);
	collect(inv, ls, lens, n, r->st.state == PM_MAPPED ? r->st.ext_addr : NULL, r->st.ext_port,
	    r->dns_host, dport);
}

/* The addresses a peer could reach us at, as the invite code lists them. */
void
reach_addrs_text(struct core *c, char *out, size_t outlen)
{
	struct invite inv;

	out[0] = '\0';
	if (c->reach == NULL)
		return;
	make_invite(c->reach, &inv);
	cands_text(&inv, out, outlen);
}

/* /invite: print our invite code. */
int
reach_cmd_invite(struct core *c, struct conversation *cur, const char *line, char *args)
{
	struct reach *r = c->reach;
	struct core_event ev;
	char list[700];
	const char *hint = "";

	if (r == NULL) {
		core_error(c, line, NULL, "not ready");
		return -1;
	}
	make_invite(r, &r->inv);
	if (invite_encode(&r->inv, r->code, sizeof r->code) == -1) {
		core_error(c, line, NULL, "cannot make an invite code (too many addresses)");
		return -1;
	}
	cands_text(&r->inv, list, sizeof list);
	if (r->st.state == PM_PENDING)
		hint = " (the router has not answered yet: ask again in a moment for the external address)";
	else if (r->st.state != PM_MAPPED && r->dns_host[0] == '\0')
		hint = " (no address reachable from outside: only peers on your networks can use it)";
	memset(&ev, 0, sizeof ev);
	ev.type = EV_INVITE;
	ev.text = r->code;
	ev.cmd = line;
	if (c->fe.event != NULL)
		c->fe.event(c, &ev, c->fe.arg);
	core_note(c, cur, LINE_SYSTEM, "your invite code, for %s%s; give it to your peer, who types /connect CODE:",
	    list, hint);
	core_note(c, cur, LINE_BARE, "%s", r->code);   /* on a line of its own, to copy */
	return 0;
}

/* /nat: show the mapping state; ask again if it failed. */
int
reach_cmd_nat(struct core *c, struct conversation *cur, const char *line, char *args)
{
	struct reach *r = c->reach;
	char text[512];

	if (r == NULL) {
		core_error(c, line, NULL, "not ready");
		return -1;
	}
	nat_text(r, text, sizeof text);
	core_note(c, cur, LINE_SYSTEM, "%s", text);
	nat_emit(r, line);
	if (r->pm != NULL && r->st.state == PM_FAILED && r->st.reason != PMR_LOST) {
		portmap_retry(r->pm);
		r->st = *portmap_status(r->pm);
		core_note(c, cur, LINE_SYSTEM, "asking the router again");
	}
	return 0;
}

/* Status bar text. */
void
reach_status_short(struct core *c, char *out, size_t outlen)
{
	struct reach *r = c->reach;
	const char *why;

	if (c->opt.no_nat) {
		snprintf(out, outlen, " nat:off");
		return;
	}
	if (r == NULL || r->st.state == 0) {
		snprintf(out, outlen, " nat:n/a");   /* not listening where a router could forward to */
		return;
	}
	switch (r->st.state) {
	case PM_PENDING:
		snprintf(out, outlen, " nat:...");
		return;
	case PM_MAPPED:
		snprintf(out, outlen, " nat:%s %s:%u", pm_method_name(r->st.method), r->st.ext_addr, r->st.ext_port);
		return;
	default:
		switch (r->st.reason) {
		case PMR_DOUBLE_NAT: why = "double NAT"; break;
		case PMR_REFUSED:    why = "refused"; break;
		case PMR_NO_GATEWAY: why = "no gateway"; break;
		case PMR_LOST:       why = "lost"; break;
		default:             why = "no answer"; break;
		}
		snprintf(out, outlen, " nat:none(%s)", why);
	}
}

/* The fields of a "nat" event. */
void
reach_json_nat(struct core *c, struct json *j)
{
	struct reach *r = c->reach;
	char text[512], ext[PM_ADDRLEN + 8];

	if (r == NULL)
		return;
	nat_text(r, text, sizeof text);
	json_str(j, "method", r->st.state == PM_MAPPED ? pm_method_name(r->st.method) : "none");
	json_bool(j, "reachable", r->st.state == PM_MAPPED);
	if (r->st.state == PM_MAPPED) {
		snprintf(ext, sizeof ext, "%s:%u", r->st.ext_addr, r->st.ext_port);
		json_str(j, "external", ext);
		json_uint(j, "lease", r->st.lease_s);
		json_uint(j, "renewals", r->st.renewals);
	} else if (r->st.state == PM_FAILED) {
		json_str(j, "reason", pm_reason_name(r->st.reason));
		json_str(j, "detail", r->st.why);
	} else if (r->st.state == PM_PENDING) {
		json_str(j, "reason", "pending");
	} else {
		json_str(j, "reason", "off");
		json_str(j, "detail", r->off_why);
	}
	if (r->st.int_port != 0)
		json_uint(j, "port", r->st.int_port);
	json_str(j, "text", text);
}

/* The fields of an "invite" event. */
void
reach_json_invite(struct core *c, struct json *j)
{
	struct reach *r = c->reach;
	char one[DNS_NAME_MAX + 16];
	size_t i;

	if (r == NULL)
		return;
	json_str(j, "code", r->code);
	json_str(j, "fingerprint", c->id.fp);
	json_arr_begin(j, "candidates");
	for (i = 0; i < r->inv.n; i++) {
		invite_cand_text(&r->inv.c[i], one, sizeof one);
		json_arr_str(j, one);
	}
	json_arr_end(j);
}

/* confab invite. */
int
reach_invite_main(const struct core_options *opt)
{
	struct sockaddr_storage ls[LISTEN_MAX];
	socklen_t lens[LISTEN_MAX];
	char path[PATH_MAX], err[512], code[INVITE_TEXT_MAX], list[700], host[DNS_NAME_MAX + 1] = "";
	char fp[FP_LEN + 1];
	struct state_file sf;
	struct identity id;
	struct paths paths;
	struct invite inv;
	uint16_t dport = 0;
	size_t nls = 0;
	int i, running;

	if (paths_init(&paths, opt->home, err, sizeof err) == -1 ||
	    paths_join(path, sizeof path, paths.state, "identity") == -1 ||
	    identity_load(&id, path, err, sizeof err) == -1) {
		fprintf(stderr, "confab: %s\n", err);
		return 1;
	}
	memset(&inv, 0, sizeof inv);
	memcpy(inv.key, id.pub, ID_KEYLEN);
	memcpy(fp, id.fp, sizeof fp);
	identity_wipe(&id);
	running = paths_join(path, sizeof path, paths.state, "reach") == 0 && state_read(path, &sf) == 0;
	if (running) {
		nls = sf.nls;
		memcpy(ls, sf.ls, sizeof ls);
		memcpy(lens, sf.lens, sizeof lens);
		snprintf(host, sizeof host, "%s", sf.dns);
		dport = (uint16_t)sf.dns_port;
	} else {
		for (i = 0; i < opt->nlisten && nls < LISTEN_MAX; i++)
			if (sock_parse(opt->listen[i], DEFAULT_PORT, &ls[nls], &lens[nls]) == 0)
				nls++;
		if (nls == 0) {
			sock_parse("0.0.0.0", DEFAULT_PORT, &ls[nls], &lens[nls]);
			nls++;
			sock_parse("::", DEFAULT_PORT, &ls[nls], &lens[nls]);
			nls++;
		}
		memset(&sf, 0, sizeof sf);
	}
	if (opt->dns_name != NULL && reach_parse_dns_name(opt->dns_name, host, sizeof host, &dport) == -1) {
		fprintf(stderr, "confab: --dns-name %s is not a host name\n", opt->dns_name);
		return 2;
	}
	if (host[0] != '\0' && dport == 0)
		dport = sf.mapped_port ? (uint16_t)sf.mapped_port : port_of((struct sockaddr *)&ls[0]);
	collect(&inv, ls, lens, nls, sf.mapped, (uint16_t)sf.mapped_port, host, dport);
	if (invite_encode(&inv, code, sizeof code) == -1) {
		fprintf(stderr, "confab: cannot make an invite code (too many addresses)\n");
		return 1;
	}
	cands_text(&inv, list, sizeof list);
	if (!running)
		fprintf(stderr, "note: no confab is running with this home: the code lists port %u and no "
		    "address mapped on the router\n", port_of((struct sockaddr *)&ls[0]));
	fprintf(stderr, "invite code of %s, listing %s:\n", fp, list);
	printf("%s\n", code);
	return 0;
}

/* --- stop and free ----------------------------------------------------------- */

/* Quitting: remove the mapping, drop attempts silently. */
void
reach_stop(struct core *c)
{
	struct reach *r = c->reach;
	struct race *race;

	if (r == NULL || r->stopping)
		return;
	r->stopping = 1;
	if (r->pm != NULL)
		portmap_stop(r->pm);
	for (race = r->races; race != NULL; race = race->next) {
		race_unlook(race);
		if (!race->won)
			race->over = 1;
	}
}

/* Free everything (the mapping is removed first, within a bounded time). */
void
reach_free(struct core *c)
{
	struct reach *r = c->reach;
	struct race *race;
	struct state_file sf;

	if (r == NULL)
		return;
	reach_stop(c);
	portmap_free(r->pm);
	r->pm = NULL;
	while ((race = r->races) != NULL) {
		r->races = race->next;
		race_unlook(race);
		loop_timer_del(c->loop, &race->deadline);
		free(race);
	}
	dns_free(r->dns);
	if (r->statefile[0] != '\0' && state_read(r->statefile, &sf) == -1)
		unlink(r->statefile);   /* ours (state_read ignores our own pid) */
	c->reach = NULL;
	free(r);
}
