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
#include "onion.h"
#include "persist.h"
#include "portmap.h"
#include "reach.h"
#include "text.h"
#include "torctl.h"

#define LISTEN_MAX   8

struct reach {
	struct core      *c;
	struct portmap   *pm;
	struct pm_status  st;            /* state 0: no port mapping (off_why says why) */
	char              off_why[96];
	struct dns       *dns;
	struct races      races;         /* connect attempts (race.c) */
	int               stopping;
	struct invite     inv;           /* the last invite made */
	char              code[INVITE_TEXT_MAX];
	char              dns_host[DNS_NAME_MAX + 1];   /* --dns-name */
	uint16_t          dns_port;
	char              statefile[PATH_MAX];
};


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
		if (sock_parse(t, 0, &ss, &sl) == 0 && invite_add_addr(inv, (struct sockaddr *)&ss, sl) == 0 &&
		    inv->n == 1)
			inv->c[0].mapped = 1;
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

/* Parse "--dns-name NAME[:PORT]". */
int
reach_parse_dns_name(const char *text, char *host, size_t hostlen, uint16_t *port)
{
	return race_parse_host(text, host, hostlen, port, 0);
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
	core_emit(c, &ev);
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
	races_init(&r->races, c, r->dns);
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
	if (!c->opt.nat) {
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

/* --- connect attempts (race.c) --------------------------------------------- */

/* Connect to what core_connect could not parse as a numeric address. */
int
reach_connect(struct core *c, const char *target, const char *cmd)
{
	char shown[200];

	if (c->reach == NULL) {
		text_sanitize((const uint8_t *)target, strlen(target), shown, sizeof shown, 0);
		core_error(c, cmd, NULL, "cannot connect to \"%s\" now", shown);
		return -1;
	}
	return race_connect(&c->reach->races, target, cmd);
}

/* A handshake finished: is it one of our attempts? */
int
reach_established(struct core *c, struct session *s)
{
	return c->reach != NULL ? race_established(&c->reach->races, s) : 0;
}

/* A session ended: is it one of our attempts? */
int
reach_closed(struct core *c, struct session *s, const char *reason)
{
	return c->reach != NULL ? race_closed(&c->reach->races, s, reason) : 0;
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
	if (!r->c->opt.tor_only)   /* --tor-only: no address but the onion one */
		collect(inv, ls, lens, n, r->st.state == PM_MAPPED ? r->st.ext_addr : NULL, r->st.ext_port,
		    r->dns_host, dport);
	if (onion_id(r->c) != NULL) {
		/* the onion address: works from anywhere once published (reach races it with the rest) */
		char host[TORCTL_ID_LEN + 7];

		snprintf(host, sizeof host, "%s.onion", onion_id(r->c));
		if (inv->n == INVITE_MAX_CANDS)
			inv->n--;   /* the last interface address makes room */
		invite_add_onion(inv, host, (uint16_t)onion_port(r->c));
	}
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
	invite_cands_text(&inv, out, outlen);
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
	invite_cands_text(&r->inv, list, sizeof list);
	if (onion_id(c) != NULL && !onion_published(c))
		hint = " (the onion address works once tor has published it: see the status bar)";
	else if (onion_id(c) != NULL)
		hint = "";
	else if (r->st.state == PM_PENDING)
		hint = " (the router has not answered yet: ask again in a moment for the external address)";
	else if (r->st.state != PM_MAPPED && r->dns_host[0] == '\0')
		hint = " (no address reachable from outside: only peers on your networks can use it)";
	memset(&ev, 0, sizeof ev);
	ev.type = EV_INVITE;
	ev.text = r->code;
	ev.cmd = line;
	core_emit(c, &ev);
	core_note(c, cur, LINE_SYSTEM, "your invite code, for %s%s; give it to your peer, who types /connect CODE:",
	    list, hint);
	core_note(c, cur, LINE_BARE, "%s", r->code);   /* on a line of its own, to copy */
	return 0;
}

/* Our invite code now, into out: 0, or -1. */
int
reach_invite_code(struct core *c, char *out, size_t outlen)
{
	struct invite inv;

	if (c->reach == NULL)
		return -1;
	make_invite(c->reach, &inv);
	return invite_encode(&inv, out, outlen) == -1 ? -1 : 0;
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

/* The port mapping now, for the front-ends. */
const struct pm_status *
reach_nat_status(struct core *c, const char **off_why)
{
	struct reach *r = c->reach;

	if (r == NULL)
		return NULL;
	if (off_why != NULL)
		*off_why = r->off_why;
	return &r->st;
}

/* The port mapping now, in a sentence. */
void
reach_nat_text(struct core *c, char *out, size_t outlen)
{
	if (c->reach == NULL) {
		snprintf(out, outlen, "port mapping not started");
		return;
	}
	nat_text(c->reach, out, outlen);
}

/* The invite /invite made last (NULL before the first). */
const struct invite *
reach_last_invite(struct core *c, const char **code)
{
	struct reach *r = c->reach;

	if (r == NULL || r->code[0] == '\0')
		return NULL;
	*code = r->code;
	return &r->inv;
}

/* confab invite: this identity's invite code, from the state file of a running instance if any. */
int
reach_invite_offline(const struct core_options *opt, struct reach_offline *out, char *err, size_t errlen)
{
	struct sockaddr_storage ls[LISTEN_MAX];
	socklen_t lens[LISTEN_MAX];
	char path[PATH_MAX], host[DNS_NAME_MAX + 1] = "";
	struct state_file sf;
	struct identity id;
	struct paths paths;
	struct invite inv;
	uint16_t dport = 0;
	size_t nls = 0;
	int i, running;

	memset(out, 0, sizeof *out);
	if (paths_init(&paths, opt->home, err, errlen) == -1 ||
	    paths_join(path, sizeof path, paths.state, "identity") == -1 ||
	    identity_load(&id, path, err, errlen) == -1)
		return 1;
	memset(&inv, 0, sizeof inv);
	memcpy(inv.key, id.pub, ID_KEYLEN);
	memcpy(out->fp, id.fp, sizeof out->fp);
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
		snprintf(err, errlen, "--dns-name %s is not a host name", opt->dns_name);
		return 2;
	}
	if (host[0] != '\0' && dport == 0)
		dport = sf.mapped_port ? (uint16_t)sf.mapped_port : port_of((struct sockaddr *)&ls[0]);
	collect(&inv, ls, lens, nls, sf.mapped, (uint16_t)sf.mapped_port, host, dport);
	if (invite_encode(&inv, out->code, sizeof out->code) == -1) {
		snprintf(err, errlen, "cannot make an invite code (too many addresses)");
		return 1;
	}
	invite_cands_text(&inv, out->list, sizeof out->list);
	out->running = running;
	out->port = port_of((struct sockaddr *)&ls[0]);
	return 0;
}

/* --- stop and free ----------------------------------------------------------- */

/* Quitting: remove the mapping, drop attempts silently. */
void
reach_stop(struct core *c)
{
	struct reach *r = c->reach;

	if (r == NULL || r->stopping)
		return;
	r->stopping = 1;
	if (r->pm != NULL)
		portmap_stop(r->pm);
	races_stop(&r->races);
}

/* Free everything (the mapping is removed first, within a bounded time). */
void
reach_free(struct core *c)
{
	struct reach *r = c->reach;
	struct state_file sf;

	if (r == NULL)
		return;
	reach_stop(c);
	portmap_free(r->pm);
	r->pm = NULL;
	races_free(&r->races);
	dns_free(r->dns);
	if (r->statefile[0] != '\0' && state_read(r->statefile, &sf) == -1)
		unlink(r->statefile);   /* ours (state_read ignores our own pid) */
	c->reach = NULL;
	free(r);
}
