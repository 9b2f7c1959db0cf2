/* race.c - connection racing: every address of a peer at once, the first proven handshake wins. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "invite.h"
#include "log.h"
#include "race.h"
#include "reach.h"        /* reach_target_check */
#include "text.h"

#define USER_MAX     64    /* NAME in NAME@DOMAIN */

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
	int                     mapped;     /* the peer's router maps this address to it */
	int                     onion;      /* an onion name: held back while direct addresses are tried */
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
	struct races     *rs;
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
	struct loop_timer onion_hold;    /* onion racers start when it fires (or nothing else is left) */
	int               onion_go;      /* onion racers may start */
	char              user[USER_MAX + 1];     /* NAME@DOMAIN */
	char              domain[DNS_NAME_MAX + 1];
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
int
race_parse_host(const char *text, char *host, size_t hostlen, uint16_t *port, uint16_t defport)
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

/* --- races ----------------------------------------------------------------- */

/* Free a race once nothing of it is left in flight. */
static void
race_gc(struct race *race)
{
	struct races *rs = race->rs;
	struct race **pp;
	size_t i;

	if (race->depth > 0 || !(race->won || race->over) || race->nlook > 0)
		return;
	for (i = 0; i < race->n; i++)
		if (race->rc[i].st == RC_LIVE)
			return;
	for (pp = &rs->list; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == race) {
			*pp = race->next;
			break;
		}
	}
	loop_timer_del(rs->c->loop, &race->deadline);
	loop_timer_del(rs->c->loop, &race->onion_hold);
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
	struct core *c = race->rs->c;
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
	if (msg != NULL && !race->rs->stopping) {
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
	struct core *c = race->rs->c;

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
	if (x->mapped)
		session_set_mapped(x->s);
	log_info("connect to %s: trying %s%s", race->label, x->addr,
	    strcmp(session_path(x->s), "onion") == 0 ? " through tor" :
	    net_proxied(c->net) ? " through the proxy" : "");
}

/* A new, waiting racer of a race (NULL if the race is decided or already full). */
static struct racer *
race_slot(struct race *race)
{
	struct racer *x;

	if (race->won || race->over)
		return NULL;
	if (race->n == REACH_RACE_MAX) {
		log_info("connect to %s: more than %d addresses, ignoring the rest", race->label, REACH_RACE_MAX);
		return NULL;
	}
	x = &race->rc[race->n++];
	memset(x, 0, sizeof *x);
	x->st = RC_WAIT;
	return x;
}

/* Add a host name to try through the proxy, which resolves it (remote DNS). */
static void
race_add_name(struct race *race, const char *host, uint16_t port)
{
	struct racer *x;
	size_t i;

	for (i = 0; i < race->n; i++)
		if (race->rc[i].port == port && strcmp(race->rc[i].host, host) == 0)
			return;
	if ((x = race_slot(race)) == NULL)
		return;
	snprintf(x->host, sizeof x->host, "%s", host);
	x->port = port;
	snprintf(x->addr, sizeof x->addr, "%.*s:%u", (int)(sizeof x->addr - 7), host, port);
	x->onion = net_onion_name(host) && !race->rs->c->opt.tor_only;
	if (x->onion && !race->onion_go) {
		/* like happy eyeballs: a direct address that answers is faster than any circuit */
		if (!loop_timer_armed(&race->onion_hold))
			loop_timer_set(race->rs->c->loop, &race->onion_hold, REACH_ONION_HOLD_MS);
		log_info("connect to %s: %s waits %d ms for the direct addresses", race->label, x->addr,
		    REACH_ONION_HOLD_MS);
		return;
	}
	if (!race->holding)
		racer_start(race, x);
}

/* Add an address to try (started at once unless the race holds); mapped: a router's port mapping. */
static void
race_add(struct race *race, const struct sockaddr *sa, socklen_t len, int mapped)
{
	struct racer *x;
	size_t i;

	if (len > sizeof x->ss)
		return;
	for (i = 0; i < race->n; i++)
		if (race->rc[i].len == len && memcmp(&race->rc[i].ss, sa, len) == 0)
			return;
	if ((x = race_slot(race)) == NULL)
		return;
	memcpy(&x->ss, sa, len);
	x->len = len;
	sock_format(sa, x->addr, sizeof x->addr);
	x->mapped = mapped;
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
		if (race->rc[i].st == RC_WAIT && (!race->rc[i].onion || race->onion_go))
			racer_start(race, &race->rc[i]);
}

/* Start the onion racers held back (the hold is over, or nothing else is left to try). */
static void
race_onions_go(struct race *race)
{
	size_t i;

	loop_timer_del(race->rs->c->loop, &race->onion_hold);
	race->onion_go = 1;
	if (race->holding)
		return;   /* the TXT answer releases everything */
	for (i = 0; i < race->n && !race->won && !race->over; i++)
		if (race->rc[i].st == RC_WAIT && race->rc[i].onion)
			racer_start(race, &race->rc[i]);
}

/* Timer: the direct addresses had their head start. */
static void
race_onion_hold(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct race *race = arg;

	(void)loop;
	(void)t;
	race->depth++;
	race_onions_go(race);
	race->depth--;
	race_check(race);
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
		if (race->rc[i].st == RC_LIVE || (race->rc[i].st == RC_WAIT && !race->rc[i].onion))
			return;
	for (i = 0; i < race->n; i++) {
		if (race->rc[i].st == RC_WAIT) {
			/* only held onion addresses are left: no reason to wait (then look again) */
			race->depth++;
			race_onions_go(race);
			race->depth--;
			race_check(race);
			return;
		}
	}
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
race_new(struct races *rs, const char *label, const char *cmd)
{
	struct race *race;

	if ((race = calloc(1, sizeof *race)) == NULL) {
		core_error(rs->c, cmd, NULL, "out of memory");
		return NULL;
	}
	race->rs = rs;
	snprintf(race->label, sizeof race->label, "%s", label);
	if (cmd != NULL) {
		snprintf(race->cmd, sizeof race->cmd, "%s", cmd);
		race->has_cmd = 1;
	}
	loop_timer_init(&race->deadline, race_deadline, race);
	loop_timer_init(&race->onion_hold, race_onion_hold, race);
	loop_timer_set(rs->c->loop, &race->deadline, REACH_RACE_MS);
	race->next = rs->list;
	rs->list = race;
	return race;
}

/* Find the race and racer of an attempt's session. */
static struct racer *
racer_of(struct races *rs, struct session *s, struct race **racep)
{
	struct race *race;
	size_t i;

	for (race = rs->list; race != NULL; race = race->next)
		for (i = 0; i < race->n; i++)
			if (race->rc[i].st == RC_LIVE && race->rc[i].s == s) {
				*racep = race;
				return &race->rc[i];
			}
	return NULL;
}

/* A handshake finished: the first of a race wins, the others are refused. */
int
race_established(struct races *rs, struct session *s)
{
	struct core *c = rs->c;
	struct race *race;
	struct racer *x;
	size_t i;

	if ((x = racer_of(rs, s, &race)) == NULL)
		return 0;
	if (race->won || race->over || rs->stopping) {
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
race_closed(struct races *rs, struct session *s, const char *reason)
{
	struct core *c = rs->c;
	char got[FP_LEN + 1], want[FP_LEN + 1];
	const uint8_t *pk;
	struct race *race;
	struct racer *x;

	if ((x = racer_of(rs, s, &race)) == NULL)
		return 0;
	x->st = RC_DONE;
	x->s = NULL;
	if (x->why[0] == '\0')
		snprintf(x->why, sizeof x->why, "%s", reason ? reason : "closed");
	pk = session_remote_pk(s);
	if (race->pinned && !race->won && !race->over && !rs->stopping && !key_zero(pk) &&
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
	struct dns *d = race->rs->dns;

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
	if (race->rs->c->opt.tor_only && !net_onion_name(host)) {
		log_info("connect to %s: --tor-only: %s:%u skipped (not an onion name)", race->label, host, port);
		return 0;
	}
	if (net_onion_name(host)) {
		/* only tor knows onion names: never ask DNS */
		if (net_onion_ok(race->rs->c->net))
			race_add_name(race, host, port);
		else
			log_info("connect to %s: no tor to reach %s:%u (--tor)", race->label, host, port);
		return 0;
	}
	if (net_proxied(race->rs->c->net)) {
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
		core_note(race->rs->c, NULL, LINE_SYSTEM, "%s: no SRV record at %s, trying %s port %d",
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
			if (memcmp(race->pk, race->rs->c->id.pub, ID_KEYLEN) == 0) {
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
		core_note(race->rs->c, NULL, LINE_SYSTEM, "%s publishes no fingerprint (no %s=... TXT string at %s): "
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
				race_add(race, (const struct sockaddr *)&ans->addrs[i], ans->addrlens[i], 0);
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
connect_host(struct races *rs, const char *target, const char *cmd)
{
	char host[DNS_NAME_MAX + 1], label[DNS_NAME_MAX + 16], shown[200];
	struct race *race;
	uint16_t port;

	if (race_parse_host(target, host, sizeof host, &port, DEFAULT_PORT) == -1) {
		clean_copy(target, shown, sizeof shown);
		core_error(rs->c, cmd, NULL, "cannot parse \"%s\": use HOST[:PORT], NAME@DOMAIN or an invite code",
		    shown);
		return -1;
	}
	snprintf(label, sizeof label, "%s:%u", host, port);
	if (net_onion_name(host) && !net_onion_ok(rs->c->net)) {
		core_error(rs->c, cmd, NULL, "%s is an onion address: only tor reaches it (start confab with --tor, "
		    "or wait until tor is ready)", label);
		return -1;
	}
	if ((race = race_new(rs, label, cmd)) == NULL)
		return -1;
	race->depth++;
	if (race_host(race, host, port) == -1) {
		race->depth--;
		race_fail(race, "cannot look up %s: out of memory", host);
		return -1;
	}
	race->depth--;
	if (net_onion_name(host)) {
		log_info("connect to %s: through tor", label);
		race_check(race);
	} else if (net_proxied(rs->c->net)) {
		log_info("connect to %s: the proxy resolves the name", label);
		race_check(race);
	} else {
		log_info("connect to %s: looking up the name", label);
	}
	return 0;
}

/* NAME@DOMAIN through SRV (host, port) and TXT (fingerprint). */
static int
connect_named(struct races *rs, const char *target, const char *cmd)
{
	const char *at = strrchr(target, '@');
	char qname[DNS_NAME_MAX + 2], shown[200];
	struct race *race;
	size_t ul = (size_t)(at - target);

	if (!user_ok(target, ul) || !dns_name_ok(at + 1) ||
	    (size_t)snprintf(qname, sizeof qname, "_confab._tcp.%s", at + 1) > DNS_NAME_MAX) {
		clean_copy(target, shown, sizeof shown);
		core_error(rs->c, cmd, NULL, "cannot parse \"%s\": NAME@DOMAIN takes a name of letters, digits, "
		    "'.', '_' and '-', and a domain name", shown);
		return -1;
	}
	if ((race = race_new(rs, target, cmd)) == NULL)
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
connect_invite(struct races *rs, const char *code, const char *cmd)
{
	struct core *c = rs->c;
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
	if ((race = race_new(rs, label, cmd)) == NULL)
		return -1;
	race->pinned = 1;
	memcpy(race->pk, inv.key, ID_KEYLEN);
	invite_cands_text(&inv, list, sizeof list);
	log_info("connect to %s (%s): %zu candidates: %s", label, fp, inv.n, list);
	core_note(c, NULL, LINE_SYSTEM, "connecting to %s, trying %zu address%s at once: %s", label, inv.n,
	    inv.n == 1 ? "" : "es", list);
	race->depth++;
	for (i = 0; i < inv.n; i++) {
		if (inv.c[i].kind == INV_NAME || inv.c[i].kind == INV_ONION) {
			if (race_host(race, inv.c[i].host, inv.c[i].port) == -1)
				log_warn("cannot look up %s", inv.c[i].host);
		} else if (!c->opt.tor_only) {
			race_add(race, (struct sockaddr *)&inv.c[i].ss, inv.c[i].len, inv.c[i].mapped);
		}
	}
	race->depth--;
	race_check(race);
	return 0;
}

/* Connect to an invite code, NAME@DOMAIN or HOST[:PORT]. */
int
race_connect(struct races *rs, const char *target, const char *cmd)
{
	struct core *c = rs->c;
	char shown[200];

	if (rs->stopping) {
		clean_copy(target, shown, sizeof shown);
		core_error(c, cmd, NULL, "cannot connect to \"%s\" now", shown);
		return -1;
	}
	if (invite_looks_like(target))
		return connect_invite(rs, target, cmd);
	if (strchr(target, '@') != NULL)
		return connect_named(rs, target, cmd);
	return connect_host(rs, target, cmd);
}

/* Whether core_connect could take target, checked without the network. */
int
reach_target_check(const char *target, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct invite inv;
	char code[INVITE_TEXT_MAX], host[DNS_NAME_MAX + 1], shown[200], why[300];
	const char *at;
	uint16_t port;

	if (invite_squeeze(target, code, sizeof code))
		target = code;
	clean_copy(target, shown, sizeof shown);
	if (sock_parse(target, DEFAULT_PORT, &ss, &len) == 0)
		return 0;
	if (invite_looks_like(target)) {
		if (invite_decode(target, &inv, why, sizeof why) == 0)
			return 0;
		snprintf(err, errlen, "%s: %s", shown, why);
		return -1;
	}
	if ((at = strrchr(target, '@')) != NULL) {
		if (user_ok(target, (size_t)(at - target)) && dns_name_ok(at + 1) &&
		    strlen(at + 1) + sizeof "_confab._tcp." <= DNS_NAME_MAX + 1)
			return 0;
		snprintf(err, errlen, "%s: NAME@DOMAIN takes a name of letters, digits, '.', '_' and '-', "
		    "and a domain name", shown);
		return -1;
	}
	if (race_parse_host(target, host, sizeof host, &port, DEFAULT_PORT) == 0)
		return 0;
	snprintf(err, errlen, "%s: use HOST[:PORT] with a port from 1 to 65535, NAME@DOMAIN or an invite code",
	    shown);
	return -1;
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

/* --- the set of races ---------------------------------------------------------- */

/* No attempt yet. */
void
races_init(struct races *rs, struct core *c, struct dns *dns)
{
	memset(rs, 0, sizeof *rs);
	rs->c = c;
	rs->dns = dns;
}

/* Quitting: drop lookups; attempts still open end silently. */
void
races_stop(struct races *rs)
{
	struct race *race;

	rs->stopping = 1;
	for (race = rs->list; race != NULL; race = race->next) {
		race_unlook(race);
		if (!race->won)
			race->over = 1;
	}
}

/* Free every attempt. */
void
races_free(struct races *rs)
{
	struct race *race;

	while ((race = rs->list) != NULL) {
		rs->list = race->next;
		race_unlook(race);
		loop_timer_del(rs->c->loop, &race->deadline);
		loop_timer_del(rs->c->loop, &race->onion_hold);
		free(race);
	}
}
