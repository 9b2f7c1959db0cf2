/* core.c - the model: peers, conversations, messages; net events become state here. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sodium.h>

#include "core.h"
#include "invite.h"       /* a code copied in pieces */
#include "lan.h"          /* LAN discovery */
#include "log.h"
#include "onion.h"        /* the onion service */
#include "mem.h"
#include "persist.h"
#include "reach.h"        /* port mapping, invite codes, DNS names */
#include "rooms.h"        /* group rooms */
#include "store.h"
#include "text.h"
#include "torctl.h"       /* onion names */
#include "transfer.h"

static int  on_established(struct session *, void *);
static void on_record(struct session *, const struct record *, void *);
static void on_closed(struct session *, const char *, void *);
static int  on_bulk(struct session *, struct buf *, void *);
static void peer_retry(struct loop *, struct loop_timer *, void *);
static void flush_outq(struct core *, struct peer *);

static const struct net_ops core_net_ops = {
	.established = on_established,
	.record = on_record,
	.closed = on_closed,
	.bulk = on_bulk,
};

/* Short state name. */
const char *
peer_state_name(enum peer_state st)
{
	switch (st) {
	case PEER_OFFLINE:    return "offline";
	case PEER_DISCOVERED: return "discovered";
	case PEER_CONNECTING: return "connecting";
	case PEER_ONLINE:     return "online";
	}
	return "unknown";
}

/* Hand an event to the front-end (if one is attached). */
void
core_emit(struct core *c, const struct core_event *ev)
{
	if (c->fe.event != NULL)
		c->fe.event(c, ev, c->fe.arg);
}

/* What a line costs against a conversation's byte cap. */
static size_t
line_cost(const struct chat_line *l)
{
	return sizeof *l + strlen(l->text) + 1;
}

/* Drop a conversation's oldest line. */
static void
conv_drop_oldest(struct conversation *cv)
{
	struct chat_line *old = cv->lines[0];
	size_t cost = line_cost(old);

	if (cv->peer != NULL) {
		struct outmsg *m;

		for (m = cv->peer->outq; m != NULL; m = m->next)
			if (m->line == old)
				m->line = NULL;
	}
	cv->bytes -= cost < cv->bytes ? cost : cv->bytes;
	free(old->text);
	free(old);
	memmove(cv->lines, cv->lines + 1, (cv->nlines - 1) * sizeof *cv->lines);
	cv->nlines--;
	cv->dropped++;
}

/*
 * Append a line to a conversation, dropping the oldest beyond the caps:
 * CONV_MAX_LINES lines and CONV_MAX_BYTES (CONV_STRANGER_BYTES with a stranger).
 */
struct chat_line *
core_conv_add(struct conversation *cv, enum line_kind kind, const char *nick, const char *text)
{
	struct chat_line *l;
	size_t cap = cv->peer != NULL && !cv->peer->known ? CONV_STRANGER_BYTES : CONV_MAX_BYTES;

	if ((l = calloc(1, sizeof *l)) == NULL || (l->text = strdup(text)) == NULL) {
		free(l);
		return NULL;
	}
	l->kind = kind;
	l->ts_ms = loop_wallclock_ms();
	snprintf(l->nick, sizeof l->nick, "%s", nick ? nick : "");
	while (cv->nlines > 0 && (cv->nlines >= CONV_MAX_LINES || cv->bytes + line_cost(l) > cap))
		conv_drop_oldest(cv);
	if (cv->nlines == cv->alines) {
		struct chat_line **nl = mem_grow(cv->lines, &cv->alines, cv->nlines + 1,
		                                 sizeof *nl, 64, CONV_MAX_LINES);

		if (nl == NULL) {
			free(l->text);
			free(l);
			return NULL;
		}
		cv->lines = nl;
	}
	cv->lines[cv->nlines++] = l;
	cv->bytes += line_cost(l);
	return l;
}

/* Free a conversation's lines (the conversation itself stays usable, empty). */
void
conv_free(struct conversation *cv)
{
	size_t i;

	for (i = 0; i < cv->nlines; i++) {
		free(cv->lines[i]->text);
		free(cv->lines[i]);
	}
	free(cv->lines);
	cv->lines = NULL;
	cv->nlines = cv->alines = 0;
	cv->bytes = 0;
}

/* Append a system or error line and tell the front-end. */
void
core_note(struct core *c, struct conversation *cv, enum line_kind kind, const char *fmt, ...)
{
	struct core_event ev;
	struct chat_line *l;
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (cv == NULL)
		cv = &c->home;
	if ((l = core_conv_add(cv, kind, NULL, text)) == NULL)
		return;
	memset(&ev, 0, sizeof ev);
	ev.type = EV_LINE;
	ev.peer = cv->peer;
	ev.line = l;
	ev.text = l->text;
	core_emit(c, &ev);
}

/* Report an error for a command. */
void
core_error(struct core *c, const char *cmd, struct peer *p, const char *fmt, ...)
{
	struct core_event ev;
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	log_info("error: %s", text);
	memset(&ev, 0, sizeof ev);
	ev.type = EV_ERROR;
	ev.peer = p;
	ev.text = text;
	ev.cmd = cmd;
	core_emit(c, &ev);
}

/* Tell the front-end that a peer changed. */
static void
peer_changed(struct core *c, struct peer *p, const char *reason)
{
	struct core_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = EV_PEER;
	ev.peer = p;
	ev.reason = reason;
	core_emit(c, &ev);
}

/* Find a known peer by key. */
static struct peer *
peer_by_pk_(struct core *c, const uint8_t pk[ID_KEYLEN])
{
	struct peer *p;

	for (p = c->peers; p != NULL; p = p->next)
		if (memcmp(p->pk, pk, ID_KEYLEN) == 0)
			return p;
	return NULL;
}

/* The replacement session of a duplicate did not come: the peer is offline. */
static void
peer_settle(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct peer *p = arg;

	if (p->sess != NULL || p->state != PEER_CONNECTING)
		return;
	p->state = PEER_OFFLINE;
	peer_changed(p->core, p, "connection lost");
}

/* Create the model entry for a key we have not seen before. */
static struct peer *
peer_new(struct core *c, const uint8_t pk[ID_KEYLEN])
{
	struct peer *p, **pp;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return NULL;
	memcpy(p->pk, pk, ID_KEYLEN);
	fp_encode(pk, p->fp);
	p->core = c;
	loop_timer_init(&p->settle, peer_settle, p);
	loop_timer_init(&p->retry, peer_retry, p);
	snprintf(p->nick, sizeof p->nick, "%.*s", FP_SHORT, p->fp);
	p->conv.peer = p;
	/* keep the list in creation order */
	for (pp = &c->peers; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = p;
	c->npeers++;
	return p;
}

/* Find a peer by key, optionally creating it. */
struct peer *
core_peer_get(struct core *c, const uint8_t pk[ID_KEYLEN], int create)
{
	struct peer *p = peer_by_pk_(c, pk);

	if (p == NULL && create)
		p = peer_new(c, pk);
	return p;
}

/* Tell the front-end that a peer changed. */
void
core_peer_changed(struct core *c, struct peer *p, const char *reason)
{
	peer_changed(c, p, reason);
}

static void peer_free(struct peer *);

/* Drop a peer nothing refers to (see core.h). */
int
core_peer_forget(struct core *c, struct peer *p)
{
	struct peer **pp;
	struct xfer *x;

	if (p->known || p->trust != TRUST_UNVERIFIED || p->renamed || p->sess != NULL ||
	    p->pending != NULL || p->nsess > 0 || p->outq != NULL || p->noutq > 0 || p->nacks > 0 ||
	    p->out_pending || p->conv.nlines > 0 || p->conv.open || p->conv.unread > 0)
		return -1;
	for (x = c->xfers; x != NULL; x = x->next)
		if (x->peer == p)
			return -1;
	for (pp = &c->peers; *pp != NULL && *pp != p; pp = &(*pp)->next)
		;
	if (*pp == NULL)
		return -1;
	*pp = p->next;
	c->npeers--;
	loop_timer_del(c->loop, &p->settle);
	loop_timer_del(c->loop, &p->retry);
	free(p->acks);
	peer_free(p);
	return 0;
}

/* The user interacted with a peer: remember it from now on. */
void
core_peer_keep(struct core *c, struct peer *p)
{
	if (p->known || c->opt.no_reconnect)
		return;   /* a one-shot send/recv keeps no peer of its own accord */
	p->known = 1;
	log_info("peer %s (%s) is known now: saved, and called again after a restart", p->fp, p->nick);
	store_peers_dirty(c);
	store_peer_kept(c, p);   /* what it said as a stranger goes to its history too */
}

/* The peers file needs rewriting because p changed (nothing is saved about strangers). */
static void
peer_dirty(struct core *c, struct peer *p)
{
	if (p->known)
		store_peers_dirty(c);
}

/* Make p the user of session s (counted: a peer with sessions is never freed). */
static void
peer_bind(struct session *s, struct peer *p)
{
	if (session_user(s) == p)
		return;
	session_set_user(s, p);
	p->nsess++;
}

/* Free a peer and its queues. */
static void
peer_free(struct peer *p)
{
	struct outmsg *m;

	while ((m = p->outq) != NULL) {
		p->outq = m->next;
		sodium_memzero(m->text, m->len);
		free(m->text);
		free(m);
	}
	conv_free(&p->conv);
	free(p->seen);
	free(p);
}

/*
 * Whether p is a stranger that can be forgotten: not known, offline, no
 * session (not even a closing one), no transfer.  (A window open on it is
 * closed: the front-end hears EV_GONE.)
 */
static int
stranger_idle(struct core *c, const struct peer *p)
{
	const struct xfer *x;

	if (p->known || p->state != PEER_OFFLINE || p->nsess > 0 || p->sess != NULL ||
	    p->pending != NULL || p->noutq > 0)
		return 0;
	for (x = c->xfers; x != NULL; x = x->next)
		if (x->peer == p)
			return 0;
	return 1;
}

/*
 * Keep at most STRANGERS_MAX idle strangers in memory: forget the least
 * recently active beyond that, conversation and all (called between loop
 * turns, when nothing holds a pointer to one).
 */
static void
strangers_trim(struct core *c)
{
	struct peer *p, **pp, **oldest;
	struct core_event ev;
	size_t n = 0;

	for (p = c->peers; p != NULL; p = p->next)
		n += stranger_idle(c, p);
	while (n > STRANGERS_MAX) {
		oldest = NULL;
		for (pp = &c->peers; *pp != NULL; pp = &(*pp)->next)
			if (stranger_idle(c, *pp) && (oldest == NULL || (*pp)->last_active < (*oldest)->last_active))
				oldest = pp;
		if (oldest == NULL)
			break;
		p = *oldest;
		*oldest = p->next;
		c->npeers--;
		n--;
		log_debug("forgetting the stranger %s (%s): more than %d strangers", p->fp, p->nick, STRANGERS_MAX);
		memset(&ev, 0, sizeof ev);
		ev.type = EV_GONE;
		ev.peer = p;
		core_emit(c, &ev);
		loop_timer_del(c->loop, &p->settle);
		loop_timer_del(c->loop, &p->retry);
		store_peer_gone(c, p);
		free(p->acks);
		peer_free(p);
	}
}

/*
 * Find a peer by fingerprint prefix or nick.  A fingerprint (or a prefix of
 * 4 characters at least) always means the key, never a peer that took it as
 * its nick; a prefix that is also another peer's nick, or that fits more than
 * one key, is an error: we never guess.
 */
struct peer *
core_find_peer(struct core *c, const char *name, const char **why)
{
	struct peer *p, *found = NULL, *by_nick = NULL;
	char norm[FP_LEN + 2];
	int n, matches = 0;

	*why = NULL;
	if (name == NULL || *name == '\0') {
		*why = "no peer named";
		return NULL;
	}
	n = fp_normalise(name, norm, sizeof norm);
	if (n >= FP_MIN_PREFIX) {
		for (p = c->peers; p != NULL; p = p->next) {
			if (!p->forgotten && strncmp(p->fp, norm, (size_t)n) == 0) {
				found = p;
				matches++;
			}
		}
	}
	for (p = c->peers; p != NULL; p = p->next) {
		if (p->forgotten)
			continue;
		if (strcasecmp(p->nick, name) == 0) {
			if (by_nick != NULL && by_nick != p) {
				*why = "more than one peer has that nick: use a fingerprint prefix";
				return NULL;
			}
			by_nick = p;
		}
	}
	if (matches > 1) {
		*why = "ambiguous fingerprint prefix: type more characters";
		return NULL;
	}
	if (found != NULL) {
		if (by_nick != NULL && by_nick != found && n < FP_LEN) {
			*why = "that is one peer's nick and another's fingerprint prefix: type more of the fingerprint";
			return NULL;
		}
		return found;
	}
	if (by_nick != NULL)
		return by_nick;
	if (n >= 0 && n < FP_MIN_PREFIX)
		*why = "fingerprint prefix too short (4 characters at least)";
	else
		*why = "no such peer";
	return NULL;
}

/* Hold an ACK until the id it acknowledges is on disk. */
static void
ack_later(struct peer *p, const uint8_t id[WIRE_ID_LEN])
{
	if (p->nacks == p->aacks) {
		uint8_t (*n)[WIRE_ID_LEN] = mem_grow(p->acks, &p->aacks, p->nacks + 1,
		                                     WIRE_ID_LEN, 64, 0);

		if (n == NULL)
			return;   /* the sender will resend; we acknowledge then */
		p->acks = n;
	}
	memcpy(p->acks[p->nacks++], id, WIRE_ID_LEN);
}

/* Name of a trust state. */
const char *
trust_name(enum trust t)
{
	switch (t) {
	case TRUST_UNVERIFIED: return "unverified";
	case TRUST_VERIFIED:   return "verified";
	case TRUST_BLOCKED:    return "blocked";
	}
	return "unknown";
}

/* Tell the front-end about a security warning concerning p. */
static void
warn_peer(struct core *c, struct peer *p, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void
warn_peer(struct core *c, struct peer *p, const char *fmt, ...)
{
	struct core_event ev;
	char text[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	log_warn("%s", text);
	core_note(c, NULL, LINE_ERROR, "%s", text);
	core_note(c, &p->conv, LINE_ERROR, "%s", text);
	memset(&ev, 0, sizeof ev);
	ev.type = EV_WARNING;
	ev.peer = p;
	ev.text = text;
	core_emit(c, &ev);
}

/*
 * Whether nick reads as a fingerprint: a whole one (any key), or a prefix of
 * FP_MIN_PREFIX characters or more of our key or of a key other than p's.
 */
static int
nick_is_fingerprint(struct core *c, const struct peer *p, const char *nick)
{
	char norm[FP_LEN + 2];
	struct peer *q;
	int n = fp_normalise(nick, norm, sizeof norm);

	if (n == FP_LEN)
		return 1;
	if (n < FP_MIN_PREFIX)
		return 0;
	if (strncmp(c->id.fp, norm, (size_t)n) == 0)
		return 1;
	for (q = c->peers; q != NULL; q = q->next)
		if (q != p && strncmp(q->fp, norm, (size_t)n) == 0)
			return 1;
	return 0;
}

/* Whether two nicks look alike (same skeleton: see text_nick_skeleton). */
static int
nicks_look_alike(const char *a, const char *b)
{
	char sa[NICK_BUF], sb[NICK_BUF];

	text_nick_skeleton((const uint8_t *)a, strlen(a), sa, sizeof sa);
	text_nick_skeleton((const uint8_t *)b, strlen(b), sb, sizeof sb);
	return sa[0] != '\0' && strcmp(sa, sb) == 0;
}

/*
 * What is wrong with p going by nick: NICK_FINE; NICK_FINGERPRINT (it reads
 * as a fingerprint); NICK_CLASH (another known key already goes by a name
 * that looks the same, as shown or as it announced it if the user renamed
 * it: whoever holds it first keeps it; *clash is that peer).
 */
enum { NICK_FINE, NICK_CLASH, NICK_FINGERPRINT };
static int
nick_trouble(struct core *c, struct peer *p, const char *nick, struct peer **clash)
{
	struct peer *q;

	*clash = NULL;
	if (nick_is_fingerprint(c, p, nick))
		return NICK_FINGERPRINT;
	for (q = c->peers; q != NULL; q = q->next) {
		if (q == p || !q->known)
			continue;
		if (nicks_look_alike(q->nick, nick) || (q->renamed && nicks_look_alike(q->announced, nick))) {
			*clash = q;
			return NICK_CLASH;
		}
	}
	return NICK_FINE;
}

/* Show p as "nick~abcd" (the start of its fingerprint), the nick cut between characters. */
static void
nick_mangle(struct peer *p, const char *nick)
{
	size_t n = strlen(nick);

	if (n > NICK_MAX) {
		n = NICK_MAX;
		while (n > 0 && ((unsigned char)nick[n] & 0xc0) == 0x80)
			n--;
	}
	snprintf(p->nick, sizeof p->nick, "%.*s~%.4s", (int)n, nick, p->fp);
}

/*
 * A peer announced a nick in the HELLO of an authenticated session (LAN
 * beacons only hint, see core_peer_hint).  Unless the user renamed it, that
 * becomes its name, except when it reads as a fingerprint or another known
 * key already goes by a name that looks the same: then it is shown as
 * "nick~abcd", with a warning, and never merged with the one the user knows.
 */
void
core_peer_announce(struct core *c, struct peer *p, const char *nick)
{
	struct peer *clash;
	int why;

	if (strcmp(p->announced, nick) != 0) {
		snprintf(p->announced, sizeof p->announced, "%s", nick);
		peer_dirty(c, p);
	}
	/* checked every time, so a clash is flagged again after a restart */
	why = nick_trouble(c, p, nick, &clash);
	if (why == NICK_FINGERPRINT || (why == NICK_CLASH && p->trust != TRUST_VERIFIED && !p->renamed)) {
		if (!p->renamed)
			nick_mangle(p, nick);
		if (p->nick_clash != 1) {
			p->nick_clash = 1;
			if (why == NICK_FINGERPRINT)
				warn_peer(c, p, "WARNING: a key (%s) calls itself \"%s\", which reads as a fingerprint. "
				    "It is shown as %s. A fingerprint always names its own key.", p->fp, nick, p->nick);
			else
				warn_peer(c, p, "WARNING: a different key (%s) calls itself \"%s\", like %s (%s)%s. "
				    "It is shown as %s. Do not trust it before you /verify it.",
				    p->fp, nick, clash->nick, clash->fp,
				    clash->trust == TRUST_VERIFIED ? ", whom you verified" : "", p->nick);
		}
		return;
	}
	if (p->nick_clash == 2)
		p->nick_clash = 0;   /* only a beacon's hint had clashed */
	if (!p->renamed && strcmp(p->nick, nick) != 0) {
		char was[NICK_BUF];

		snprintf(was, sizeof was, "%s", p->nick);
		snprintf(p->nick, sizeof p->nick, "%s", nick);
		if (p->hello && was[0] != '\0')   /* a change while connected, not the first HELLO */
			core_note(c, &p->conv, LINE_SYSTEM, "%s is now known as %s", was, p->nick);
	}
}

/*
 * How much the net should keep s (session_set_priority): a verified peer's
 * session, or one we opened, is never evicted to make room for a newcomer;
 * an unverified peer's incoming session may be, when idle the longest.
 */
static int
session_keep(const struct peer *p, struct session *s)
{
	return p->trust == TRUST_VERIFIED || session_initiator(s) ? 1 : 0;
}

/*
 * A LAN beacon, which anyone can forge, named a key: only a key we never
 * had a session with takes it, as the name shown until its HELLO; it is not
 * stored, and one that reads as a fingerprint or looks like a known peer's
 * name is shown as "nick~abcd" and flagged (nick_clash 2: no warning yet).
 */
void
core_peer_hint(struct core *c, struct peer *p, const char *nick)
{
	struct peer *clash;

	if (p->known || p->renamed || p->announced[0] != '\0' || nick[0] == '\0')
		return;
	if (nick_trouble(c, p, nick, &clash) != NICK_FINE) {
		nick_mangle(p, nick);
		if (p->nick_clash == 0)
			p->nick_clash = 2;
		return;
	}
	snprintf(p->nick, sizeof p->nick, "%s", nick);
}

/* Set a peer's trust. */
int
core_set_trust(struct core *c, struct peer *p, enum trust t, const char *cmd)
{
	p->trust = t;
	core_peer_keep(c, p);   /* a blocked peer too: so that the block holds after a restart */
	store_peers_dirty(c);
	if (t == TRUST_VERIFIED)
		p->nick_clash = 0;
	if (p->sess != NULL)
		session_set_priority(p->sess, session_keep(p, p->sess));
	core_note(c, &p->conv, LINE_SYSTEM, "%s (%s) is now %s", p->nick, p->fp, trust_name(t));
	if (t == TRUST_BLOCKED) {
		loop_timer_del(c->loop, &p->retry);
		if (p->pending != NULL)
			session_close(p->pending, BYE_BLOCKED, "blocked");
		if (p->sess != NULL)
			session_close(p->sess, BYE_BLOCKED, "blocked");
	}
	peer_changed(c, p, NULL);
	return 0;
}

/* Give a peer a name of our choosing. */
int
core_rename(struct core *c, struct peer *p, const char *name, const char *cmd)
{
	char clean[NICK_BUF];
	struct peer *q;
	size_t n = strlen(name);

	text_sanitize((const uint8_t *)name, n, clean, sizeof clean, 0);
	if (n == 0 || n > NICK_MAX || strcmp(clean, name) != 0 || strchr(name, ' ') != NULL) {
		core_error(c, cmd, p, "a name is 1 to %d bytes of printable UTF-8 without spaces", NICK_MAX);
		return -1;
	}
	if (nick_is_fingerprint(c, p, name)) {
		core_error(c, cmd, p, "%s reads as another key's fingerprint: choose another name", name);
		return -1;
	}
	for (q = c->peers; q != NULL; q = q->next) {
		if (q != p && strcasecmp(q->nick, name) == 0) {
			core_error(c, cmd, p, "%s already names another peer (%.8s)", name, q->fp);
			return -1;
		}
	}
	snprintf(p->nick, sizeof p->nick, "%s", name);
	p->renamed = 1;
	core_peer_keep(c, p);
	store_peers_dirty(c);
	peer_changed(c, p, NULL);
	return 0;
}

/* Forget everything about a peer. */
int
core_forget(struct core *c, struct peer *p, const char *cmd)
{
	struct outmsg *m;

	loop_timer_del(c->loop, &p->retry);
	if (p->pending != NULL)
		session_close(p->pending, BYE_QUIT, "forgotten");
	if (p->sess != NULL)
		session_close(p->sess, BYE_QUIT, "forgotten");
	store_forget(c, p);
	while ((m = p->outq) != NULL) {
		p->outq = m->next;
		free(m->text);
		free(m);
	}
	p->outq_tail = NULL;
	p->noutq = 0;
	p->nseen = p->seen_pos = 0;
	p->nacks = 0;
	core_clear_history(c, p);
	p->known = 0;
	p->trust = TRUST_UNVERIFIED;
	p->renamed = 0;
	p->addr[0] = '\0';
	p->forgotten = 1;
	core_note(c, NULL, LINE_SYSTEM, "forgot %s (%s)", p->nick, p->fp);
	peer_changed(c, p, "forgotten");
	return 0;
}

/* Clear a conversation, on screen and on disk. */
void
core_clear_history(struct core *c, struct peer *p)
{
	struct outmsg *m;

	for (m = p->outq; m != NULL; m = m->next)
		m->line = NULL;
	p->conv.dropped += p->conv.nlines;   /* line numbers go on: front-ends keep marks by them */
	conv_free(&p->conv);
	p->conv.unread = 0;
	store_history_clear(c, p);
}

/* Before each sleep: make logged records durable, then send what waited for that. */
static void
core_before_sleep(struct loop *loop, void *arg)
{
	struct core *c = arg;
	struct peer *p;
	struct buf b;
	size_t i;

	store_flush(c);
	rooms_flush(c);
	for (p = c->peers; p != NULL; p = p->next) {
		if (p->nacks > 0) {
			if (p->sess != NULL) {
				buf_init(&b, 64);
				for (i = 0; i < p->nacks; i++) {
					buf_reset(&b);
					if (wire_put_ack(&b, p->acks[i]) == BUF_OK)
						session_send_buf(p->sess, &b);
				}
				buf_free(&b);
			}
			p->nacks = 0;
		}
		if (p->out_pending) {
			p->out_pending = 0;
			flush_outq(c, p);
		}
	}
	if (c->npeers > STRANGERS_MAX)
		strangers_trim(c);
}

/* Try again to reach a known peer that went away. */
static void
peer_retry(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct peer *p = arg;

	if (p->sess != NULL || p->pending != NULL || p->trust == TRUST_BLOCKED || p->core->quitting)
		return;
	if (core_connect_peer(p->core, p) == 0)
		p->auto_connecting = 1;
}

/*
 * Arm the reconnect timer with exponential back-off (2 s doubling to 5 min;
 * to 30 s for a peer with an onion address while our tor runs: a restarted
 * peer's new descriptor takes tor a while to find, and a long back-off would
 * miss it by minutes).
 */
static void
schedule_retry(struct core *c, struct peer *p)
{
	uint32_t cap = p->onion[0] != '\0' && onion_socks(c) != NULL ? 30000 : 300000;

	if (!p->known || p->trust == TRUST_BLOCKED || c->quitting || (p->addr[0] == '\0' && p->onion[0] == '\0') ||
	    c->opt.no_reconnect)
		return;
	p->backoff_ms = p->backoff_ms == 0 ? 2000 : p->backoff_ms * 2;
	if (p->backoff_ms > cap)
		p->backoff_ms = cap;
	/* a little jitter so that two sides do not knock at the same instant */
	loop_timer_set(c->loop, &p->retry, p->backoff_ms + randombytes_uniform(1000));
}

/* Send our HELLO on a fresh session. */
static int
send_hello(struct core *c, struct session *s)
{
	struct buf b;
	int rc;

	buf_init(&b, 512);
	rc = wire_put_hello(&b, CAP_MSG | (c->opt.no_incoming ? CAP_ONESHOT : 0), c->nick, strlen(c->nick), (uint16_t)net_listen_port(c->net));
	if (rc == BUF_OK && onion_id(c) != NULL)
		rc = wire_put_hello_onion(&b, onion_id(c), (uint16_t)onion_port(c));   /* extension 2 */
	if (rc == BUF_OK)
		rc = rooms_hello_ext(c, &b);
	if (rc == BUF_OK)
		rc = session_send_buf(s, &b);
	buf_free(&b);
	return rc;
}

/* Put one outgoing message on the peer's session. */
static int
send_outmsg(struct peer *p, struct outmsg *m)
{
	struct buf b;
	int rc;

	buf_init(&b, WIRE_RECORD_MAX);
	rc = wire_put_msg(&b, m->id, m->ts_ms, m->text, m->len);
	if (rc == BUF_OK)
		rc = session_send_buf(p->sess, &b);
	buf_free(&b);
	if (rc == 0)
		m->sent_on = session_id(p->sess);
	return rc;
}

/* Mark a message line and tell the front-end. */
static void
line_state(struct core *c, struct peer *p, struct outmsg *m, enum msg_state st, int evtype)
{
	struct core_event ev;
	char hex[MSGID_HEX + 1];

	sodium_bin2hex(hex, sizeof hex, m->id, WIRE_ID_LEN);
	if (m->line != NULL)
		m->line->state = st;
	if (evtype == 0)
		return;
	memset(&ev, 0, sizeof ev);
	ev.type = evtype;
	ev.peer = p;
	ev.line = m->line;
	ev.id = hex;
	core_emit(c, &ev);
}

/* Send every unacknowledged message not yet sent on the current session, oldest first. */
static void
flush_outq(struct core *c, struct peer *p)
{
	struct outmsg *m;

	if (p->sess == NULL || !p->hello)
		return;
	for (m = p->outq; m != NULL; m = m->next) {
		if (m->sent_on == session_id(p->sess))
			continue;
		if (send_outmsg(p, m) != 0) {
			log_warn("peer %s: send queue full, retrying later", p->fp);
			break;
		}
		if (m->line != NULL && m->line->state == MSG_QUEUED)
			line_state(c, p, m, MSG_SENT, 0);
	}
}

/* A session finished its handshake: bind it to a peer. */
static int
on_established(struct session *s, void *arg)
{
	struct core *c = arg;
	const uint8_t *pk = session_remote_pk(s);
	struct peer *p;
	struct session *old;
	int keep_new, won, user_dialled = 0;

	if (c->opt.no_incoming && !session_initiator(s)) {
		log_info("refusing an incoming session from %s: only sending", session_addr(s));
		return -1;
	}
	if ((won = reach_established(c, s)) == -1)
		return -1;   /* reach: another address of the same attempt was first */
	if (won == 1 || (c->connect_sid != 0 && session_id(s) == c->connect_sid)) {
		memcpy(c->asked_pk, pk, ID_KEYLEN);   /* the peer core_connect was asked for */
		c->asked = 1;
		c->connect_sid = 0;
	}
	if ((p = peer_by_pk_(c, pk)) == NULL && (p = peer_new(c, pk)) == NULL)
		return -1;
	if (p->pending == s)
		p->pending = NULL;
	else if (session_initiator(s))
		user_dialled = 1;   /* core_connect: the user gave its address or invite */
	if (p->trust == TRUST_BLOCKED) {
		log_info("refusing blocked peer %s at %s", p->fp, session_addr(s));
		return -1;
	}
	peer_bind(s, p);
	p->last_active = loop_now(c->loop);
	p->forgotten = 0;   /* back after /forget: a new contact, listed again */
	old = p->sess;
	if (old != NULL && old != s) {
		/*
		 * Two sessions with one peer.  Sessions opened by the same side: the
		 * newer wins (the older is likely dead).  Opened by different sides
		 * (a crossing connect): both ends keep the one opened by the smaller
		 * key, so they agree without talking.
		 */
		if (session_initiator(old) == session_initiator(s))
			keep_new = 1;
		else {
			int mine_smaller = memcmp(c->id.pub, pk, ID_KEYLEN) < 0;
			keep_new = session_initiator(s) ? mine_smaller : !mine_smaller;
		}
		if (!keep_new) {
			log_info("peer %s: keeping the existing session", p->fp);
			session_close(s, BYE_DUPLICATE, "duplicate session");
			return 0;
		}
		p->sess = NULL;   /* so that closing old does not mark p offline */
		session_close(old, BYE_DUPLICATE, "duplicate session");
		/*
		 * Transfer records in flight on it are lost with it: pause the
		 * transfers, so that the new session's HELLO offers them again (as
		 * the other side does on our BYE_DUPLICATE).
		 */
		xfer_peer_offline(c, p);
	}
	p->sess = s;
	p->hello = 0;
	session_set_priority(s, session_keep(p, s));
	if (p->via[0] == '\0')
		snprintf(p->via, sizeof p->via, "direct");
	/* the address to reconnect to: where we reached it, or where it listens (not our tor's) */
	if (session_initiator(s))
		snprintf(p->addr, sizeof p->addr, "%s", session_addr(s));
	else if (p->addr[0] == '\0' && strcmp(session_path(s), "onion") != 0)
		snprintf(p->addr, sizeof p->addr, "%s", session_addr(s));
	if (user_dialled)
		core_peer_keep(c, p);
	peer_dirty(c, p);   /* its address */
	loop_timer_del(c->loop, &p->retry);
	if (p->state != PEER_ONLINE)
		p->state = PEER_CONNECTING;
	if (send_hello(c, s) != 0)
		return -1;
	return 0;
}

/* Call the known peers that are away again soon (a new way to reach them: tor is ready). */
void
core_redial_known(struct core *c)
{
	struct peer *p;

	for (p = c->peers; p != NULL && !c->opt.no_reconnect && !c->quitting; p = p->next) {
		if (!p->known || p->trust == TRUST_BLOCKED || p->sess != NULL || p->onion[0] == '\0')
			continue;
		p->backoff_ms = 0;   /* a call under way that fails is tried again soon */
		if (p->pending == NULL)
			loop_timer_set(c->loop, &p->retry, 200 + randombytes_uniform(800));
	}
}

/* Send HELLO again on every open session (what it says changed: the onion address). */
void
core_hello_all(struct core *c)
{
	struct peer *p;

	for (p = c->peers; p != NULL; p = p->next)
		if (p->sess != NULL && session_state(p->sess) == SS_OPEN)
			send_hello(c, p->sess);
}

/* Remember a received message id; returns 1 if it was seen before. */
static int
seen_check(struct peer *p, const uint8_t id[WIRE_ID_LEN])
{
	size_t i;

	for (i = 0; i < p->nseen; i++)
		if (memcmp(p->seen[i], id, WIRE_ID_LEN) == 0)
			return 1;
	core_seen_remember(p, id);
	return 0;
}

/*
 * Remember a received message id.  The table starts small (a stranger costs
 * little memory) and grows up to SEEN_MAX; then it is a ring.
 */
void
core_seen_remember(struct peer *p, const uint8_t id[WIRE_ID_LEN])
{
	if (p->nseen == p->aseen && p->aseen < SEEN_MAX) {
		uint8_t (*n)[WIRE_ID_LEN] = mem_grow(p->seen, &p->aseen, p->nseen + 1,
		                                     WIRE_ID_LEN, 32, SEEN_MAX);

		if (n != NULL)
			p->seen = n;
	}
	if (p->aseen == 0)
		return;
	if (p->nseen < p->aseen) {
		memcpy(p->seen[p->nseen++], id, WIRE_ID_LEN);
		p->seen_pos = p->nseen % p->aseen;
		return;
	}
	memcpy(p->seen[p->seen_pos], id, WIRE_ID_LEN);   /* full: overwrite the oldest */
	p->seen_pos = (p->seen_pos + 1) % p->aseen;
}

/* HELLO: the peer is online under its announced nick. */
static void
got_hello(struct core *c, struct peer *p, const struct rec_hello *h)
{
	char nick[NICK_BUF];
	int first = !p->hello;

	text_sanitize(h->nick, h->nick_len, nick, sizeof nick, 0);
	text_trim_blanks(nick);   /* "bob " is not a name of its own */
	if (nick[0] != '\0')
		core_peer_announce(c, p, nick);
	if (h->port != 0 && p->sess != NULL && !session_initiator(p->sess) && strcmp(session_path(p->sess), "onion") != 0) {
		/* it connected to us (not through our onion): remember where it listens, to reconnect later */
		socklen_t sl;
		const struct sockaddr *sa = session_sockaddr(p->sess, &sl);
		struct sockaddr_storage ss;

		memcpy(&ss, sa, sl);
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = htons(h->port);
		else if (ss.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&ss)->sin6_port = htons(h->port);
		sock_format((struct sockaddr *)&ss, p->addr, sizeof p->addr);
	}
	if (h->onion != NULL) {
		/* its onion address: another way to call it later, from anywhere */
		char onion[PEER_ONION_MAX];

		snprintf(onion, sizeof onion, "%.*s.onion:%u", WIRE_ONION_LEN, (const char *)h->onion, h->onion_port);
		if (strcmp(onion, p->onion) != 0) {
			snprintf(p->onion, sizeof p->onion, "%s", onion);
			log_info("peer %s announces the onion address %s", p->fp, p->onion);
		}
	}
	p->hello = 1;
	p->caps = h->caps;
	rooms_peer_hello(c, p, h->roomkey);
	p->last_seen = loop_wallclock_ms();
	p->last_active = loop_now(c->loop);
	p->backoff_ms = 0;
	p->lan_hold_ms = 0;   /* its LAN hints are welcome again */
	p->lan_hold_until = 0;
	peer_dirty(c, p);   /* a stranger's HELLO costs no disk write */
	if (first) {
		int was_online = p->state == PEER_ONLINE;   /* a new session replaced a live one */

		p->told_queued = 0;
		p->state = PEER_ONLINE;
		log_info("peer %s (%s) online at %s", p->fp, p->nick, p->addr);
		if (!was_online && p->sess != NULL && strcmp(session_path(p->sess), "direct") != 0)
			core_note(c, &p->conv, LINE_SYSTEM, "%s is online (%s, through %s)", p->nick,
			    p->addr[0] != '\0' ? p->addr : p->onion[0] != '\0' ? p->onion : "to our onion service",
			    strcmp(session_path(p->sess), "onion") == 0 ? "tor" :
			    strcmp(session_path(p->sess), "mapped") == 0 ? "a port their router mapped" : "the proxy");
		else if (!was_online)
			core_note(c, &p->conv, LINE_SYSTEM, "%s is online (%s)", p->nick, p->addr);
		peer_changed(c, p, NULL);
		flush_outq(c, p);
		xfer_peer_online(c, p);
		rooms_peer_online(c, p);
	} else {
		peer_changed(c, p, NULL);
	}
}

/* MSG: show it once, acknowledge it always. */
static void
got_msg(struct core *c, struct peer *p, const struct rec_msg *m)
{
	struct core_event ev;
	struct chat_line *l;
	char hex[MSGID_HEX + 1], *text;
	size_t cap = m->text_len * 3 + 1;
	struct buf b;

	if (seen_check(p, m->id)) {
		/* a retransmission: already shown, acknowledge it again */
		buf_init(&b, 64);
		if (wire_put_ack(&b, m->id) == BUF_OK)
			session_send_buf(p->sess, &b);
		buf_free(&b);
		return;
	}
	/* the ACK goes out only once the id is written (store_flush), so a crash never shows it twice */
	store_seen_add(c, p, m->id);
	ack_later(p, m->id);
	p->last_active = loop_now(c->loop);
	if ((text = malloc(cap)) == NULL)
		return;
	text_sanitize(m->text, m->text_len, text, cap, TEXT_KEEP_NEWLINE | TEXT_KEEP_TAB);
	l = core_conv_add(&p->conv, LINE_MSG_IN, p->nick, text);
	free(text);
	if (l == NULL)
		return;
	sodium_bin2hex(hex, sizeof hex, m->id, WIRE_ID_LEN);
	memcpy(l->id, hex, sizeof l->id);
	/* the sender's clock is only a claim: keep ours unless it is close */
	if (m->ts_ms > 0 && (m->ts_ms > l->ts_ms ? m->ts_ms - l->ts_ms : l->ts_ms - m->ts_ms) < 300000)
		l->ts_ms = m->ts_ms;
	store_history_add(c, p, l);
	p->conv.unread++;
	memset(&ev, 0, sizeof ev);
	ev.type = EV_MESSAGE;
	ev.peer = p;
	ev.line = l;
	ev.id = l->id;
	core_emit(c, &ev);
}

/* ACK: our message arrived. */
static void
got_ack(struct core *c, struct peer *p, const uint8_t id[WIRE_ID_LEN])
{
	struct outmsg *m, **pp, *prev = NULL;

	for (pp = &p->outq; (m = *pp) != NULL; prev = m, pp = &m->next) {
		if (memcmp(m->id, id, WIRE_ID_LEN) != 0)
			continue;
		*pp = m->next;
		if (p->outq_tail == m)
			p->outq_tail = prev;
		p->noutq--;
		store_queue_ack(c, p, m->id);
		line_state(c, p, m, MSG_DELIVERED, EV_DELIVERED);
		sodium_memzero(m->text, m->len);
		free(m->text);
		free(m);
		return;
	}
	/* an ACK for something we no longer hold (a repeat): ignore */
}

/* A record arrived. */
static void
on_record(struct session *s, const struct record *r, void *arg)
{
	struct core *c = arg;
	struct peer *p = session_user(s);

	if (p == NULL || p->sess != s)
		return;
	if (r->type != REC_HELLO && r->type != REC_BYE && !p->hello) {
		session_close(s, BYE_PROTOCOL, "record before HELLO");
		return;
	}
	switch (r->type) {
	case REC_HELLO:
		got_hello(c, p, &r->u.hello);
		break;
	case REC_MSG:
		got_msg(c, p, &r->u.msg);
		break;
	case REC_ACK:
		got_ack(c, p, r->u.ack_id);
		break;
	case REC_BYE:
		log_info("peer %s said goodbye (reason %u)", p->fp, r->u.bye.reason);
		if (r->u.bye.reason == BYE_DUPLICATE) {
			/*
			 * The peer keeps another session with us that we may not have
			 * finished yet: do not show it offline unless that one fails.
			 */
			p->sess = NULL;
			p->hello = 0;
			p->state = PEER_CONNECTING;
			xfer_peer_offline(c, p);
			loop_timer_set(c->loop, &p->settle, 5000);
		}
		break;
	case REC_ROOM_EVENT:
	case REC_ROOM_HAVE:
	case REC_ROOM_WANT:
	case REC_ROOM_PROOF:
	case REC_ROOM_FILE:
		rooms_record(c, p, r->u.raw.p, r->u.raw.n);
		break;
	default:
		if (r->type >= REC_OFFER && r->type <= REC_CANCEL)
			xfer_record(c, p, r);
		break;
	}
}

/* A session ended. */
static void
on_closed(struct session *s, const char *reason, void *arg)
{
	struct core *c = arg;
	struct peer *p = session_user(s);
	struct outmsg *m;
	int was_online;

	if (session_tunnel_error(s) != 0 && strcmp(session_path(s), "onion") == 0)
		onion_call_failed(c, session_addr(s), session_tunnel_error(s));   /* tor may hold stale state */
	if (reach_closed(c, s, reason))
		return;   /* reach: one address of an invite/DNS connect attempt */
	if (p != NULL) {
		if (p->nsess > 0)
			p->nsess--;
		p->last_active = loop_now(c->loop);
	}
	if (p == NULL) {
		if (session_initiator(s))
			core_error(c, NULL, NULL, "connection to %s failed: %s", session_addr(s), reason);
		return;
	}
	if (p->pending == s) {
		/* our on-demand connect failed before the handshake finished */
		p->pending = NULL;
		lan_connect_failed(c, p, s);   /* LAN: warn if the host proved another key */
		if (p->sess == NULL && !c->quitting) {
			enum peer_state was = p->state;

			p->state = p->lan_port != 0 ? PEER_DISCOVERED : PEER_OFFLINE;
			/* our own retries fail quietly (logged); the user's are errors */
			if (p->auto_connecting)
				log_info("cannot reach %s at %s yet: %s", p->fp, session_addr(s), reason);
			else
				core_error(c, NULL, p, "cannot reach %s at %s: %s", p->nick, session_addr(s), reason);
			if (!p->auto_connecting || was != p->state)
				peer_changed(c, p, reason);
			/* a host that proved another key is not tried again for this one */
			if (strstr(reason, "does not match") == NULL)
				schedule_retry(c, p);
		}
		p->auto_connecting = 0;
		return;
	}
	if (p->sess != s)
		return;   /* a duplicate we replaced */
	was_online = p->state == PEER_ONLINE;
	p->sess = NULL;
	p->hello = 0;
	p->state = p->lan_port != 0 ? PEER_DISCOVERED : PEER_OFFLINE;
	for (m = p->outq; m != NULL; m = m->next)
		if (m->line != NULL && m->line->state == MSG_SENT)
			m->line->state = MSG_QUEUED;
	xfer_peer_offline(c, p);
	if (c->quitting)
		return;
	p->last_seen = loop_wallclock_ms();
	peer_dirty(c, p);
	if (strcmp(reason, "peer quit") != 0 && strcmp(reason, "forgotten") != 0)
		schedule_retry(c, p);
	if (was_online)
		core_note(c, &p->conv, LINE_SYSTEM, "%s is offline (%s)", p->nick, reason);
	peer_changed(c, p, reason);
}

/* The session has room for bulk data: let a transfer fill it. */
static int
on_bulk(struct session *s, struct buf *b, void *arg)
{
	struct core *c = arg;
	struct peer *p = session_user(s);

	if (p == NULL || p->sess != s || !p->hello)
		return 0;
	return xfer_bulk(c, p, b);
}

/* Connect to an address given as text. */
int
core_connect(struct core *c, const char *target, const char *cmd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct session *s;
	char addr[SOCK_ADDRSTRLEN], code[INVITE_TEXT_MAX];

	if (invite_squeeze(target, code, sizeof code))
		target = code;   /* an invite code copied with line breaks or an indent */
	if (c->opt.tor_only && !invite_looks_like(target) && strstr(target, ".onion") == NULL) {
		core_error(c, cmd, NULL, "--tor-only: only onion addresses (ID.onion[:PORT]) and invite codes "
		    "that list one can be reached");
		return -1;
	}
	if (sock_parse(target, DEFAULT_PORT, &ss, &len) == -1)
		return reach_connect(c, target, cmd);   /* reach: invite code, NAME@DOMAIN, HOST[:PORT] */
	{
		char mine[NET_LISTEN_MAX][SOCK_ADDRSTRLEN];
		size_t n = net_listen_addrs(c->net, mine, NET_LISTEN_MAX), i;

		sock_format((struct sockaddr *)&ss, addr, sizeof addr);
		for (i = 0; i < n; i++) {
			if (strcmp(mine[i], addr) == 0) {
				core_error(c, cmd, NULL, "%s is your own address: give it to the peer who should "
				    "reach you", addr);
				return -1;
			}
		}
	}
	if ((s = net_connect(c->net, (struct sockaddr *)&ss, len, NULL)) == NULL) {
		core_error(c, cmd, NULL, "cannot connect to %s: %s", target, strerror(errno));
		return -1;
	}
	c->connect_sid = session_id(s);
	sock_format((struct sockaddr *)&ss, addr, sizeof addr);
	log_info("connecting to %s", addr);
	if (cmd != NULL)
		core_note(c, NULL, LINE_SYSTEM, "connecting to %s", addr);
	return 0;
}

/*
 * Whether a peer's last address is no use from elsewhere: loopback (where
 * tor hands us the onion's connections) or an onion name itself.
 */
static int
onion_only_addr(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (sock_parse(addr, DEFAULT_PORT, &ss, &len) == 0)
		return (ss.ss_family == AF_INET &&
		    (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127) ||
		    (ss.ss_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr));
	return strstr(addr, ".onion:") != NULL;
}

/* Whether s is "ID.onion:PORT" (a v3 id, a port from 1 to 65535). */
int
core_onion_ok(const char *s)
{
	char id[TORCTL_ID_LEN + 1], *end;
	unsigned long port;

	if (!torctl_onion_name(s, id) || s[TORCTL_ID_LEN + 6] != ':')
		return 0;
	errno = 0;
	port = strtoul(s + TORCTL_ID_LEN + 7, &end, 10);
	return errno == 0 && *end == '\0' && port >= 1 && port <= 65535 && s[TORCTL_ID_LEN + 7] >= '1' &&
	    s[TORCTL_ID_LEN + 7] <= '9';
}

/* Open a session to a peer at its discovered or last known address. */
int
core_connect_peer(struct core *c, struct peer *p)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct session *s;
	char host[SOCK_ADDRSTRLEN];
	uint16_t port;

	if (p->sess != NULL || p->pending != NULL)
		return 0;
	if (p->trust == TRUST_BLOCKED)
		return -1;   /* never dial a blocked peer */
	if (p->lan_port != 0) {
		/* a LAN peer is dialled directly, also with --proxy */
		memcpy(&ss, &p->lan_addr, p->lan_addrlen);
		len = p->lan_addrlen;
		s = net_connect_direct(c->net, (struct sockaddr *)&ss, len, p->pk);
	} else if (p->onion[0] != '\0' && net_onion_ok(c->net) && (c->opt.tor_only || p->onion_turn++ % 2 == 1 ||
	    p->addr[0] == '\0' || onion_only_addr(p->addr)) &&
	    reach_parse_dns_name(p->onion, host, sizeof host, &port) == 0) {
		/* its onion address, every other try (every try when the other is no use) */
		s = net_connect_name(c->net, host, port, p->pk);
	} else if (p->addr[0] != '\0' && sock_parse(p->addr, DEFAULT_PORT, &ss, &len) == 0) {
		s = net_connect(c->net, (struct sockaddr *)&ss, len, p->pk);
	} else if (p->addr[0] != '\0' && reach_parse_dns_name(p->addr, host, sizeof host, &port) == 0 &&
	    (net_proxied(c->net) || (net_onion_ok(c->net) && net_onion_name(host)))) {
		/* reached by a name through the proxy: the proxy resolves it again */
		s = net_connect_name(c->net, host, port, p->pk);
	} else {
		return -1;
	}
	if (s == NULL) {
		log_warn("connect to %s: %s", p->fp, strerror(errno));
		return -1;
	}
	peer_bind(s, p);
	p->pending = s;
	if (p->state != PEER_ONLINE) {
		p->state = PEER_CONNECTING;
		peer_changed(c, p, NULL);
	}
	return 0;
}

/* Refuse to message or send to a blocked peer: an error for cmd, -1; else 0. */
int
core_refuse_blocked(struct core *c, struct peer *p, const char *cmd)
{
	if (p->trust != TRUST_BLOCKED)
		return 0;
	core_error(c, cmd, p, "%s is blocked (/unblock %s first)", p->nick, p->nick);
	return -1;
}

/* Send (or queue) a message to a peer. */
int
core_send_msg(struct core *c, struct peer *p, const char *text, size_t len, const char *cmd)
{
	struct core_event ev;
	struct outmsg *m;
	char hex[MSGID_HEX + 1];
	char *clean;

	if (core_refuse_blocked(c, p, cmd) == -1)
		return -1;
	if (len == 0) {
		core_error(c, cmd, p, "empty message");
		return -1;
	}
	if (len > WIRE_TEXT_MAX) {
		core_error(c, cmd, p, "message too long (%zu bytes; the limit is %d)", len, WIRE_TEXT_MAX);
		return -1;
	}
	if (p->noutq >= OUTQ_MAX) {
		core_error(c, cmd, p, "too many undelivered messages to %s", p->nick);
		return -1;
	}
	core_peer_keep(c, p);   /* before its line is added: that one goes to the history below */
	if ((m = calloc(1, sizeof *m)) == NULL || (m->text = malloc(len)) == NULL ||
	    (clean = malloc(len * 3 + 1)) == NULL) {
		if (m != NULL)
			free(m->text);
		free(m);
		core_error(c, cmd, p, "out of memory");
		return -1;
	}
	randombytes_buf(m->id, sizeof m->id);
	m->ts_ms = loop_wallclock_ms();
	memcpy(m->text, text, len);
	m->len = len;
	text_sanitize((const uint8_t *)text, len, clean, len * 3 + 1, TEXT_KEEP_NEWLINE | TEXT_KEEP_TAB);
	m->line = core_conv_add(&p->conv, LINE_MSG_OUT, c->nick, clean);
	free(clean);
	sodium_bin2hex(hex, sizeof hex, m->id, WIRE_ID_LEN);
	if (m->line != NULL) {
		memcpy(m->line->id, hex, sizeof m->line->id);
		m->line->ts_ms = m->ts_ms;
		m->line->state = MSG_QUEUED;
	}
	if (p->outq_tail != NULL)
		p->outq_tail->next = m;
	else
		p->outq = m;
	p->outq_tail = m;
	p->noutq++;
	if (m->line != NULL)
		store_history_add(c, p, m->line);
	/* logged first, sent once the log is written (store_flush) */
	store_queue_add(c, p, m);
	p->out_pending = 1;
	if (p->sess == NULL && p->pending == NULL && core_connect_peer(c, p) == 0)
		p->auto_connecting = 1;   /* on demand; a failure is quiet: the queue waits */
	if (!(p->sess != NULL && p->hello) && !p->told_queued) {
		p->told_queued = 1;   /* once until it is back */
		core_note(c, &p->conv, LINE_SYSTEM, "%s is offline; queued - it will be delivered when %s is back",
		    p->nick, p->nick);
	}
	memset(&ev, 0, sizeof ev);
	ev.type = EV_SENT;
	ev.peer = p;
	ev.line = m->line;
	ev.id = hex;
	ev.queued = !(p->sess != NULL && p->hello);
	core_emit(c, &ev);
	return 0;
}

/* Whether a nick is acceptable as ours. */
int
core_nick_ok(const char *nick)
{
	char clean[NICK_BUF];
	size_t n = strlen(nick);

	if (n == 0 || n > NICK_MAX || strchr(nick, ' ') != NULL)
		return 0;
	text_sanitize((const uint8_t *)nick, n, clean, sizeof clean, 0);
	return strcmp(clean, nick) == 0;
}

/* Remember a nick chosen with /nick in STATE/nick (0600, written atomically). */
static void
nick_save(struct core *c)
{
	char path[PATH_MAX], line[NICK_BUF + 1], err[PATH_MAX + 64];
	int n;

	if (paths_join(path, sizeof path, c->paths.state, "nick") == -1)
		return;
	n = snprintf(line, sizeof line, "%s\n", c->nick);
	if (n < 0 || (size_t)n >= sizeof line ||
	    persist_atomic_write_buf(path, 0600, 0, line, (size_t)n, err, sizeof err) != 0)
		log_err("cannot save the nick in %s: %s", path, n < 0 || (size_t)n >= sizeof line ?
		    "too long" : err);
}

/* The nick saved by /nick, if any and still acceptable: 0, else -1. */
static int
nick_load(struct core *c, char *out, size_t outlen)
{
	char path[PATH_MAX], buf[NICK_MAX + 2];
	ssize_t r;
	int fd;

	if (paths_join(path, sizeof path, c->paths.state, "nick") == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	r = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!core_nick_ok(buf) || strlen(buf) >= outlen)
		return -1;
	snprintf(out, outlen, "%s", buf);
	return 0;
}

/* Change our nick and tell every online peer. */
int
core_set_nick(struct core *c, const char *nick, const char *cmd)
{
	struct core_event ev;
	struct peer *p;

	if (!core_nick_ok(nick)) {
		core_error(c, cmd, NULL, "a nick is 1 to %d bytes of printable UTF-8 without spaces",
		    NICK_MAX);
		return -1;
	}
	snprintf(c->nick, sizeof c->nick, "%s", nick);
	if (c->net == NULL)
		return 0;   /* --nick during core_init: the ready event carries it */
	if (cmd != NULL)
		nick_save(c);   /* /nick: remembered for the next start (unless --nick names one) */
	for (p = c->peers; p != NULL; p = p->next)
		if (p->sess != NULL && session_state(p->sess) == SS_OPEN)
			send_hello(c, p->sess);
	lan_set_nick(c);   /* LAN: announce the new nick */
	memset(&ev, 0, sizeof ev);
	ev.type = EV_NICK;
	ev.text = c->nick;
	core_emit(c, &ev);
	return 0;
}

/* Pick a default nick from the environment. */
static void
default_nick(char *out, size_t outlen)
{
	const char *u = getenv("USER");
	char clean[NICK_BUF];

	if (u == NULL || *u == '\0' || strlen(u) > NICK_MAX)
		u = "anonymous";
	text_sanitize((const uint8_t *)u, strlen(u), clean, sizeof clean, 0);
	snprintf(out, outlen, "%s", clean[0] ? clean : "anonymous");
}

/* Start listening on the configured addresses. */
static int
start_listening(struct core *c, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char bound[SOCK_ADDRSTRLEN];
	int i;

	if (c->opt.nlisten == 0 && c->opt.tor_only)
		return 0;   /* tor_only: only the onion service's own loopback listener (onion_start) */
	if (c->opt.nlisten == 0) {
		/* the default port, or any free port if it is taken */
		sock_parse("0.0.0.0", DEFAULT_PORT, &ss, &len);
		if (net_listen(c->net, (struct sockaddr *)&ss, len, bound, sizeof bound) == -1) {
			sock_parse("0.0.0.0", 0, &ss, &len);
			if (net_listen(c->net, (struct sockaddr *)&ss, len, bound, sizeof bound) == -1) {
				snprintf(err, errlen, "cannot listen: %s", strerror(errno));
				return -1;
			}
		}
		sock_parse("::", net_listen_port(c->net), &ss, &len);
		if (net_listen(c->net, (struct sockaddr *)&ss, len, bound, sizeof bound) == -1)
			log_info("no IPv6 listener: %s", strerror(errno));
		return 0;
	}
	for (i = 0; i < c->opt.nlisten; i++) {
		if (sock_parse(c->opt.listen[i], DEFAULT_PORT, &ss, &len) == -1) {
			snprintf(err, errlen, "cannot parse listen address \"%s\"", c->opt.listen[i]);
			return -1;
		}
		if (c->opt.tor_only && !onion_only_addr(c->opt.listen[i])) {
			snprintf(err, errlen, "--tor-only listens on loopback only, not on %s", c->opt.listen[i]);
			return -1;
		}
		if (net_listen(c->net, (struct sockaddr *)&ss, len, bound, sizeof bound) == -1) {
			snprintf(err, errlen, "cannot listen on %s: %s", c->opt.listen[i], strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * One confab per home: take the state directory's lock.  A second instance
 * fails with the holder's pid; a one-shot (scratch_if_busy) goes on with a
 * temporary identity and state of its own, removed when it exits.
 */
static int
lock_home(struct core *c, char *err, size_t errlen)
{
	long holder;

	if ((c->lock_fd = paths_lock(&c->paths, &holder, err, errlen)) >= 0)
		return 0;
	if (c->lock_fd == -1)
		return -1;
	c->lock_fd = -1;
	if (!c->opt.scratch_if_busy) {
		if (holder > 0)
			snprintf(err, errlen, "confab is already running with this home (pid %ld): %s",
			    holder, c->paths.state);
		else
			snprintf(err, errlen, "confab is already running with this home: %s",
			    c->paths.state);
		return -1;
	}
	if (paths_scratch(&c->paths, err, errlen) == -1)
		return -1;
	snprintf(c->scratch, sizeof c->scratch, "%s", c->paths.state);
	c->opt.no_reconnect = 1;
	return 0;
}

/* Load identity and paths, start listening. */
int
core_init(struct core *c, struct loop *loop, const struct core_options *opt,
    const struct frontend *fe, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct net_limits lim;

	memset(c, 0, sizeof *c);
	c->loop = loop;
	c->opt = *opt;
	c->fe = *fe;
	c->home.open = 1;
	c->lock_fd = -1;
	if (paths_init(&c->paths, opt->home, err, errlen) == -1 ||
	    lock_home(c, err, errlen) == -1)
		return -1;
	if (opt->log_file != NULL) {
		if (log_open(opt->log_file, opt->debug ? LOG_DEBUG : LOG_INFO) == -1) {
			snprintf(err, errlen, "cannot open log %s: %s", opt->log_file, strerror(errno));
			return -1;
		}
	} else if (paths_join(path, sizeof path, c->paths.state, "confab.log") == 0) {
		log_open(path, opt->debug ? LOG_DEBUG : LOG_INFO);
	}
	if (store_init(c, err, errlen) == -1)
		return -1;
	/* before the net's own hook, so that what it releases is written this turn */
	loop_before_sleep(loop, core_before_sleep, c);
	if (xfer_init(c) == -1) {
		snprintf(err, errlen, "cannot create %s/transfers: %s", c->paths.state, strerror(errno));
		return -1;
	}
	if (paths_join(path, sizeof path, c->paths.state, "identity") == -1 ||
	    identity_load(&c->id, path, err, errlen) == -1)
		return -1;
	if (opt->nick != NULL) {
		if (core_set_nick(c, opt->nick, NULL) == -1) {
			snprintf(err, errlen, "invalid nick \"%s\"", opt->nick);
			return -1;
		}
	} else if (nick_load(c, c->nick, sizeof c->nick) == -1) {
		default_nick(c->nick, sizeof c->nick);
	}
	if ((c->net = net_new(loop, c->id.priv, &core_net_ops, c)) == NULL) {
		snprintf(err, errlen, "cannot start networking");
		return -1;
	}
	net_limits_default(&lim);
	if (opt->keepalive_s > 0) {
		lim.keepalive_ms = opt->keepalive_s * 1000;
		lim.dead_ms = opt->keepalive_s * 3000;
	}
	if (opt->handshake_s > 0)
		lim.handshake_ms = opt->handshake_s * 1000;
	net_set_limits(c->net, &lim);
	if (opt->ciphers != 0)
		net_set_ciphers(c->net, opt->ciphers);
	if (opt->proxy != NULL) {
		struct socks_conf sc;

		if (socks_parse_url(opt->proxy, &sc, err, errlen) == -1)
			return -1;
		net_set_proxy(c->net, &sc);
		log_info("outgoing sessions go through the SOCKS5 proxy %s", sc.addr);
		sodium_memzero(&sc, sizeof sc);
	}
	if (opt->tor_only) {
		net_set_tor_only(c->net);
		log_info("--tor-only: no LAN discovery, no port mapping, no connection but to onion names through tor");
	}
	if (!opt->no_incoming && start_listening(c, err, errlen) == -1)
		return -1;
	if (c->opt.history_lines == 0 && !c->opt.history_set)
		c->opt.history_lines = 1000;
	store_load(c);
	if (rooms_init(c, err, errlen) == -1)
		return -1;
	xfer_load_outgoing(c);   /* outgoing transfers of the last run, offered again when their peer is back */
	{
		/* known peers: try their last addresses, with back-off if that fails */
		struct peer *p;

		for (p = c->peers; p != NULL && !opt->no_reconnect; p = p->next)
			if (p->known && p->trust != TRUST_BLOCKED && (p->addr[0] != '\0' || p->onion[0] != '\0'))
				loop_timer_set(loop, &p->retry, 200 + randombytes_uniform(800));
	}
	/* LAN discovery: a failure to start it is logged, never fatal */
	if (opt->discovery)
		lan_start(c);
	reach_start(c);   /* reach: port mapping unless --no-nat; failures are logged, never fatal */
	log_info("confab %s started as %s (%s)", CONFAB_VERSION, c->nick, c->id.fp);
	return 0;
}

/* Emit EV_READY, then repeat the problems found before the start. */
void
core_ready(struct core *c)
{
	struct core_event ev;
	const char *dl = c->opt.download_dir != NULL ? c->opt.download_dir : c->paths.downloads;
	char why[PATH_MAX + 64];
	struct xfer *x;
	size_t i;

	memset(&ev, 0, sizeof ev);
	ev.type = EV_READY;
	core_emit(c, &ev);
	for (i = 0; i < c->opt.nnotes; i++)
		core_note(c, NULL, LINE_ERROR, "config: %s", c->opt.notes[i]);
	for (x = c->xfers; x != NULL; x = x->next)
		if (x->dir == XFER_OUT && x->state == XS_WAITING)
			core_note(c, &x->peer->conv, LINE_SYSTEM, "transfer %.8s to %s, from the last run: "
			    "offered again (and resumed) when %s is back", x->idhex, x->peer->nick, x->peer->nick);
	if (xfer_dir_usable(dl, why, sizeof why) == -1)
		core_note(c, NULL, LINE_ERROR, "the download directory %s cannot be used: %s "
		    "(offers can still be accepted with /accept ID DIR)", dl, why);
	if (c->onion == NULL)
		onion_start(c);   /* onion: only when asked for (--tor ...), after ready: its notes follow it */
}

/* Our listening addresses, for the front-ends to show. */
size_t
core_listen_addrs(struct core *c, char (*out)[SOCK_ADDRSTRLEN], size_t max)
{
	return net_listen_addrs(c->net, out, max);
}

/* The path p's session takes ("direct", "mapped", "proxy" or "onion"), or NULL offline. */
const char *
core_peer_path(const struct peer *p)
{
	return p->sess != NULL ? session_path(p->sess) : NULL;
}

/* Say goodbye to every peer and stop the loop. */
void
core_quit(struct core *c, int exit_code)
{
	if (c->quitting)
		return;
	c->quitting = 1;
	c->exit_code = exit_code;
	if (c->fe.quit != NULL)
		c->fe.quit(c, c->fe.arg);
	lan_stop(c);   /* LAN: goodbye beacon, before the sessions close */
	reach_stop(c);   /* reach: start removing the port mapping */
	onion_stop(c);   /* onion: the service goes with the control connection */
	core_before_sleep(c->loop, c);   /* durable records, held ACKs and messages go before BYE */
	if (c->net != NULL)
		net_shutdown(c->net, "quit");
	loop_stop(c->loop);
}

/* Free everything. */
void
core_free(struct core *c)
{
	struct peer *p;

	c->quitting = 1;
	lan_stop(c);   /* LAN: harmless if core_quit already stopped it */
	reach_free(c);   /* reach: the mapping is removed (bounded wait), then freed */
	onion_free(c);   /* onion: our tor is waited for (bounded) */
	xfer_free_all(c);
	store_free(c);
	loop_before_sleep_del(c->loop, core_before_sleep, c);
	net_free(c->net);
	c->net = NULL;
	while ((p = c->peers) != NULL) {
		c->peers = p->next;
		loop_timer_del(c->loop, &p->settle);
		loop_timer_del(c->loop, &p->retry);
		free(p->acks);
		peer_free(p);
	}
	conv_free(&c->home);
	rooms_free(c);
	identity_wipe(&c->id);
	if (c->scratch[0] != '\0' && paths_rmtree(c->scratch) == -1)
		log_warn("cannot remove the scratch directory %s: %s", c->scratch, strerror(errno));
	log_close();
	if (c->lock_fd >= 0)
		close(c->lock_fd);   /* the lock file stays; flock ends with the fd */
	c->lock_fd = -1;
}
