/* core.c - the model: peers, conversations, messages; net events become state here. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>

#include "core.h"
#include "lan.h"          /* LAN discovery */
#include "log.h"
#include "text.h"
#include "transfer.h"

static int  on_established(struct session *, void *);
static void on_record(struct session *, const struct record *, void *);
static void on_closed(struct session *, const char *, void *);
static int  on_bulk(struct session *, struct buf *, void *);

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

/* Hand an event to the front-end. */
static void
emit(struct core *c, const struct core_event *ev)
{
	if (c->fe.event != NULL)
		c->fe.event(c, ev, c->fe.arg);
}

/* Append a line to a conversation, dropping the oldest beyond the cap. */
static struct chat_line *
conv_add(struct conversation *cv, enum line_kind kind, const char *nick, const char *text)
{
	struct chat_line *l;

	if ((l = calloc(1, sizeof *l)) == NULL || (l->text = strdup(text)) == NULL) {
		free(l);
		return NULL;
	}
	l->kind = kind;
	l->ts_ms = loop_wallclock_ms();
	snprintf(l->nick, sizeof l->nick, "%s", nick ? nick : "");
	if (cv->nlines == CONV_MAX_LINES) {
		struct chat_line *old = cv->lines[0];

		if (cv->peer != NULL) {
			struct outmsg *m;

			for (m = cv->peer->outq; m != NULL; m = m->next)
				if (m->line == old)
					m->line = NULL;
		}
		free(old->text);
		free(old);
		memmove(cv->lines, cv->lines + 1, (cv->nlines - 1) * sizeof *cv->lines);
		cv->nlines--;
		cv->dropped++;
	}
	if (cv->nlines == cv->alines) {
		size_t na = cv->alines ? cv->alines * 2 : 64;
		struct chat_line **nl;

		if (na > CONV_MAX_LINES)
			na = CONV_MAX_LINES;
		if ((nl = realloc(cv->lines, na * sizeof *nl)) == NULL) {
			free(l->text);
			free(l);
			return NULL;
		}
		cv->lines = nl;
		cv->alines = na;
	}
	cv->lines[cv->nlines++] = l;
	return l;
}

/* Free a conversation's lines. */
static void
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
	if ((l = conv_add(cv, kind, NULL, text)) == NULL)
		return;
	memset(&ev, 0, sizeof ev);
	ev.type = EV_LINE;
	ev.peer = cv->peer;
	ev.line = l;
	ev.text = l->text;
	emit(c, &ev);
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
	emit(c, &ev);
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
	emit(c, &ev);
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
	if ((p->seen = calloc(SEEN_MAX, WIRE_ID_LEN)) == NULL) {
		free(p);
		return NULL;
	}
	memcpy(p->pk, pk, ID_KEYLEN);
	fp_encode(pk, p->fp);
	p->core = c;
	loop_timer_init(&p->settle, peer_settle, p);
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

/* Find a peer by nick or fingerprint prefix. */
struct peer *
core_find_peer(struct core *c, const char *name, const char **why)
{
	struct peer *p, *found = NULL;
	char norm[FP_LEN + 2];
	int n, matches = 0;

	*why = NULL;
	if (name == NULL || *name == '\0') {
		*why = "no peer named";
		return NULL;
	}
	for (p = c->peers; p != NULL; p = p->next) {
		if (strcasecmp(p->nick, name) == 0) {
			if (found != NULL && found != p) {
				*why = "more than one peer has that nick: use a fingerprint prefix";
				return NULL;
			}
			found = p;
		}
	}
	if (found != NULL)
		return found;
	n = fp_normalise(name, norm, sizeof norm);
	if (n < 0) {
		*why = "no such peer";
		return NULL;
	}
	if (n < FP_MIN_PREFIX) {
		*why = "fingerprint prefix too short (4 characters at least)";
		return NULL;
	}
	for (p = c->peers; p != NULL; p = p->next) {
		if (strncmp(p->fp, norm, (size_t)n) == 0) {
			found = p;
			matches++;
		}
	}
	if (matches > 1) {
		*why = "ambiguous fingerprint prefix: type more characters";
		return NULL;
	}
	if (found == NULL)
		*why = "no such peer";
	return found;
}

/* Send our HELLO on a fresh session. */
static int
send_hello(struct core *c, struct session *s)
{
	struct buf b;
	int rc;

	buf_init(&b, 512);
	rc = wire_put_hello(&b, CAP_MSG, c->nick, strlen(c->nick));
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
	emit(c, &ev);
}

/* (Re)send every unacknowledged message, oldest first. */
static void
flush_outq(struct core *c, struct peer *p)
{
	struct outmsg *m;

	for (m = p->outq; m != NULL; m = m->next) {
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
	int keep_new;

	if ((p = peer_by_pk_(c, pk)) == NULL && (p = peer_new(c, pk)) == NULL)
		return -1;
	if (p->pending == s)
		p->pending = NULL;
	session_set_user(s, p);
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
	}
	p->sess = s;
	p->hello = 0;
	if (p->via[0] == '\0')
		snprintf(p->via, sizeof p->via, "direct");
	session_set_user(s, p);
	snprintf(p->addr, sizeof p->addr, "%s", session_addr(s));
	if (p->state != PEER_ONLINE)
		p->state = PEER_CONNECTING;
	if (send_hello(c, s) != 0)
		return -1;
	return 0;
}

/* Remember a received message id; returns 1 if it was seen before. */
static int
seen_check(struct peer *p, const uint8_t id[WIRE_ID_LEN])
{
	size_t i;

	for (i = 0; i < p->nseen; i++)
		if (memcmp(p->seen[i], id, WIRE_ID_LEN) == 0)
			return 1;
	memcpy(p->seen[p->seen_pos], id, WIRE_ID_LEN);
	p->seen_pos = (p->seen_pos + 1) % SEEN_MAX;
	if (p->nseen < SEEN_MAX)
		p->nseen++;
	return 0;
}

/* HELLO: the peer is online under its announced nick. */
static void
got_hello(struct core *c, struct peer *p, const struct rec_hello *h)
{
	char nick[NICK_BUF];
	int first = !p->hello;

	text_sanitize(h->nick, h->nick_len, nick, sizeof nick, 0);
	if (nick[0] != '\0')
		snprintf(p->nick, sizeof p->nick, "%s", nick);
	p->hello = 1;
	if (first) {
		p->state = PEER_ONLINE;
		log_info("peer %s (%s) online at %s", p->fp, p->nick, p->addr);
		core_note(c, &p->conv, LINE_SYSTEM, "%s is online (%s)", p->nick, p->addr);
		peer_changed(c, p, NULL);
		flush_outq(c, p);
		xfer_peer_online(c, p);
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

	buf_init(&b, 64);
	if (wire_put_ack(&b, m->id) == BUF_OK)
		session_send_buf(p->sess, &b);
	buf_free(&b);
	if (seen_check(p, m->id))
		return;   /* a retransmission: already shown */
	if ((text = malloc(cap)) == NULL)
		return;
	text_sanitize(m->text, m->text_len, text, cap, TEXT_KEEP_NEWLINE | TEXT_KEEP_TAB);
	l = conv_add(&p->conv, LINE_MSG_IN, p->nick, text);
	free(text);
	if (l == NULL)
		return;
	sodium_bin2hex(hex, sizeof hex, m->id, WIRE_ID_LEN);
	memcpy(l->id, hex, sizeof l->id);
	/* the sender's clock is only a claim: keep ours unless it is close */
	if (m->ts_ms > 0 && (m->ts_ms > l->ts_ms ? m->ts_ms - l->ts_ms : l->ts_ms - m->ts_ms) < 300000)
		l->ts_ms = m->ts_ms;
	p->conv.unread++;
	memset(&ev, 0, sizeof ev);
	ev.type = EV_MESSAGE;
	ev.peer = p;
	ev.line = l;
	ev.id = l->id;
	emit(c, &ev);
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
			p->state = p->lan_port != 0 ? PEER_DISCOVERED : PEER_OFFLINE;
			core_error(c, NULL, p, "cannot reach %s at %s: %s", p->nick, session_addr(s), reason);
			peer_changed(c, p, reason);
		}
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
	char addr[SOCK_ADDRSTRLEN];

	if (sock_parse(target, DEFAULT_PORT, &ss, &len) == -1) {
		core_error(c, cmd, NULL, "cannot parse address \"%s\" (use HOST:PORT)", target);
		return -1;
	}
	if ((s = net_connect(c->net, (struct sockaddr *)&ss, len, NULL)) == NULL) {
		core_error(c, cmd, NULL, "cannot connect to %s: %s", target, strerror(errno));
		return -1;
	}
	sock_format((struct sockaddr *)&ss, addr, sizeof addr);
	log_info("connecting to %s", addr);
	return 0;
}

/* Open a session to a peer at its discovered or last known address. */
int
core_connect_peer(struct core *c, struct peer *p)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct session *s;

	if (p->sess != NULL || p->pending != NULL)
		return 0;
	if (p->lan_port != 0) {
		memcpy(&ss, &p->lan_addr, p->lan_addrlen);
		len = p->lan_addrlen;
	} else if (p->addr[0] == '\0' || sock_parse(p->addr, DEFAULT_PORT, &ss, &len) == -1) {
		return -1;
	}
	if ((s = net_connect(c->net, (struct sockaddr *)&ss, len, p->pk)) == NULL) {
		log_warn("connect to %s: %s", p->fp, strerror(errno));
		return -1;
	}
	session_set_user(s, p);
	p->pending = s;
	if (p->state != PEER_ONLINE) {
		p->state = PEER_CONNECTING;
		peer_changed(c, p, NULL);
	}
	return 0;
}

/* Send (or queue) a message to a peer. */
int
core_send_msg(struct core *c, struct peer *p, const char *text, size_t len, const char *cmd)
{
	struct core_event ev;
	struct outmsg *m;
	char hex[MSGID_HEX + 1];
	char *clean;

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
	m->line = conv_add(&p->conv, LINE_MSG_OUT, c->nick, clean);
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
	if (p->sess != NULL && p->hello && send_outmsg(p, m) == 0 && m->line != NULL)
		m->line->state = MSG_SENT;
	else if (p->sess == NULL)
		core_connect_peer(c, p);   /* on demand; the queue goes out on HELLO */
	memset(&ev, 0, sizeof ev);
	ev.type = EV_SENT;
	ev.peer = p;
	ev.line = m->line;
	ev.id = hex;
	ev.queued = !(p->sess != NULL && p->hello);
	emit(c, &ev);
	return 0;
}

/* Change our nick and tell every online peer. */
int
core_set_nick(struct core *c, const char *nick, const char *cmd)
{
	char clean[NICK_BUF];
	struct core_event ev;
	struct peer *p;
	size_t n = strlen(nick);

	if (n == 0 || n > NICK_MAX) {
		core_error(c, cmd, NULL, "a nick is 1 to %d bytes", NICK_MAX);
		return -1;
	}
	text_sanitize((const uint8_t *)nick, n, clean, sizeof clean, 0);
	if (strcmp(clean, nick) != 0 || strchr(nick, ' ') != NULL) {
		core_error(c, cmd, NULL, "a nick is printable UTF-8 without spaces");
		return -1;
	}
	snprintf(c->nick, sizeof c->nick, "%s", clean);
	for (p = c->peers; p != NULL; p = p->next)
		if (p->sess != NULL && session_state(p->sess) == SS_OPEN)
			send_hello(c, p->sess);
	lan_set_nick(c);   /* LAN: announce the new nick */
	memset(&ev, 0, sizeof ev);
	ev.type = EV_NICK;
	ev.text = c->nick;
	emit(c, &ev);
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
		if (net_listen(c->net, (struct sockaddr *)&ss, len, bound, sizeof bound) == -1) {
			snprintf(err, errlen, "cannot listen on %s: %s", c->opt.listen[i], strerror(errno));
			return -1;
		}
	}
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
	if (paths_init(&c->paths, opt->home, err, errlen) == -1)
		return -1;
	if (opt->log_file != NULL) {
		if (log_open(opt->log_file, opt->debug ? LOG_DEBUG : LOG_INFO) == -1) {
			snprintf(err, errlen, "cannot open log %s: %s", opt->log_file, strerror(errno));
			return -1;
		}
	} else if (paths_join(path, sizeof path, c->paths.state, "confab.log") == 0) {
		log_open(path, opt->debug ? LOG_DEBUG : LOG_INFO);
	}
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
	} else {
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
	if (start_listening(c, err, errlen) == -1)
		return -1;
	/* LAN discovery: a failure to start it is logged, never fatal */
	if (!opt->no_discovery)
		lan_start(c);
	log_info("confab %s started as %s (%s)", CONFAB_VERSION, c->nick, c->id.fp);
	return 0;
}

/* Emit EV_READY. */
void
core_ready(struct core *c)
{
	struct core_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = EV_READY;
	emit(c, &ev);
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
	xfer_free_all(c);
	net_free(c->net);
	c->net = NULL;
	while ((p = c->peers) != NULL) {
		c->peers = p->next;
		loop_timer_del(c->loop, &p->settle);
		peer_free(p);
	}
	conv_free(&c->home);
	identity_wipe(&c->id);
	log_close();
}
