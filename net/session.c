/* session.c - encrypted sessions: preamble, Noise XX, records, keepalive, limits. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sodium.h>

#include "log.h"
#include "session.h"

#define PROLOGUE_TAG     "confab/1"
#define IN_CAP           (256 * 1024)       /* at least one whole frame */
#define IN_READ_PRE      4096               /* read size before the handshake is done */
#define OUT_LOW          (192 * 1024)       /* refill the output below this */
#define QUEUE_KEEP       (16 * 1024)        /* queue storage kept once drained (a burst's is given back) */
#define OUT_CAP          (OUT_LOW + WIRE_FRAME_HDR + WIRE_FRAME_MAX + 1024)
#define TURN_BUDGET      (1024 * 1024)      /* bytes moved per session per turn */
#define UNSENT_MAX       (128 * 1024)       /* kernel bytes not yet sent (chat latency) */

struct listener {
	int  fd;
	int  onion;   /* the onion service's target: only tor connects here */
	char addr[SOCK_ADDRSTRLEN];
};

struct session {
	struct net        *net;
	struct session    *next;
	unsigned long      id;
	int                fd;
	int                initiator;
	enum session_state state;
	struct sockaddr_storage sa;
	socklen_t          salen;
	char               addr[SOCK_ADDRSTRLEN];

	struct buf         in;       /* bytes read, not yet processed */
	struct buf         out;      /* ciphertext frames ready to write */
	struct buf         ctrlq;    /* queued plaintext records: u16 len + record */
	int                want_bulk;
	int                dirty;    /* has something to flush */
	int                events;   /* poll events registered */

	int                proxied;  /* through a SOCKS5 proxy (2: tor's, to an onion): socks drives SS_PROXY */
	int                mapped;   /* dialled to an address a router port-maps for the peer */
	int                onion_in; /* accepted on the onion service's listener: the peer came through tor */
	struct socks       socks;
	int                tunnel_err;   /* session_tunnel_error */

	uint8_t            my_pre[WIRE_PREAMBLE_LEN];
	uint8_t            cipher;   /* WIRE_CIPHER_* chosen */
	int                has_expect;
	uint8_t            expect_pk[NOISE_DHLEN];
	struct noise_hs    hs;
	struct noise_cs    tx, rx;
	uint8_t            remote_pk[NOISE_DHLEN];
	uint8_t            hash[NOISE_HASHLEN];

	struct loop_timer  timer;
	uint64_t           last_rx;
	uint64_t           last_act; /* opened, or last record for the owner (eviction) */
	int                prio;     /* session_set_priority */
	int                ping_out;
	uint64_t           ping_nonce;

	void              *user;
};

struct net {
	struct loop       *loop;
	struct net_ops     ops;
	void              *arg;
	struct net_limits  lim;
	uint8_t            s_priv[NOISE_DHLEN];
	uint8_t            s_pub[NOISE_DHLEN];
	uint8_t            ciphers;
	struct listener    ls[NET_LISTEN_MAX];
	int                has_proxy;
	struct socks_conf  proxy;
	int                has_onion;   /* tor's SOCKS port, for .onion names only */
	int                tor_only;    /* no outgoing session but to .onion names through tor */
	struct socks_conf  onion;
	int                nls;
	struct session    *sessions;
	struct session    *dead;
	struct buf         scratch;   /* one bulk record at a time, reused */
	int                nsessions;
	unsigned long      next_id;
	int                hooked;
};

static void session_io(struct loop *, int, int, void *);
static void session_tick(struct loop *, struct loop_timer *, void *);
static void session_fail(struct session *, const char *why);
static int  flush(struct session *);

/* The defaults. */
void
net_limits_default(struct net_limits *l)
{
	l->max_sessions = 256;
	l->max_pending = 64;
	l->max_pending_per_ip = 8;
	l->max_per_ip = 32;
	l->handshake_ms = WIRE_HS_TIMEOUT_MS;
	l->keepalive_ms = 15000;
	l->dead_ms = 45000;
	l->sendq_max = 1024 * 1024;
}

/* Before each sleep: flush dirty sessions and free dead ones. */
static void
net_before_sleep(struct loop *loop, void *arg)
{
	struct net *n = arg;
	struct session *s, *next;

	for (s = n->sessions; s != NULL; s = next) {
		next = s->next;
		if (s->dirty && s->state != SS_CLOSED)
			flush(s);
	}
	while ((s = n->dead) != NULL) {
		n->dead = s->next;
		buf_free(&s->in);
		buf_free(&s->out);
		buf_free(&s->ctrlq);
		noise_hs_wipe(&s->hs);
		noise_cs_wipe(&s->tx);
		noise_cs_wipe(&s->rx);
		sodium_memzero(s, sizeof *s);
		free(s);
	}
}

/* Make a net that owns listeners and sessions for one identity. */
struct net *
net_new(struct loop *loop, const uint8_t s_priv[NOISE_DHLEN], const struct net_ops *ops, void *arg)
{
	struct net *n;

	if (noise_global_init() != 0)
		return NULL;
	if ((n = calloc(1, sizeof *n)) == NULL)
		return NULL;
	n->loop = loop;
	n->ops = *ops;
	n->arg = arg;
	net_limits_default(&n->lim);
	memcpy(n->s_priv, s_priv, NOISE_DHLEN);
	noise_pubkey(s_priv, n->s_pub);
	n->ciphers = WIRE_CIPHER_CHACHA | (noise_aesgcm_available() ? WIRE_CIPHER_AESGCM : 0);
	buf_init(&n->scratch, WIRE_RECORD_MAX);
	if (loop_before_sleep(loop, net_before_sleep, n) == -1) {
		free(n);
		return NULL;
	}
	return n;
}

/* Drop a session without callbacks (used by net_free). */
static void
session_drop(struct session *s)
{
	loop_fd_del(s->net->loop, s->fd);
	loop_timer_del(s->net->loop, &s->timer);
	close(s->fd);
}

/* Close every session without a goodbye and free the net. */
void
net_free(struct net *n)
{
	struct session *s;
	int i;

	if (n == NULL)
		return;
	for (s = n->sessions; s != NULL; s = s->next)
		session_drop(s);
	while ((s = n->sessions) != NULL) {
		n->sessions = s->next;
		s->next = n->dead;
		n->dead = s;
	}
	net_before_sleep(n->loop, n);
	for (i = 0; i < n->nls; i++) {
		loop_fd_del(n->loop, n->ls[i].fd);
		close(n->ls[i].fd);
	}
	loop_before_sleep_del(n->loop, net_before_sleep, n);
	buf_free(&n->scratch);
	sodium_memzero(n->s_priv, sizeof n->s_priv);
	sodium_memzero(&n->proxy, sizeof n->proxy);
	sodium_memzero(&n->onion, sizeof n->onion);
	free(n);
}

/* Replace the limits. */
void
net_set_limits(struct net *n, const struct net_limits *l)
{
	n->lim = *l;
}

/* Restrict the ciphers we offer. */
void
net_set_ciphers(struct net *n, uint8_t flags)
{
	if (!noise_aesgcm_available())
		flags &= (uint8_t)~WIRE_CIPHER_AESGCM;
	if (flags == 0)
		flags = WIRE_CIPHER_CHACHA;
	n->ciphers = flags;
}

/* How many sessions exist. */
int
net_session_count(struct net *n)
{
	return n->nsessions;
}

/* Update the poll events for a session. */
static void
set_events(struct session *s, int ev)
{
	if (s->events != ev) {
		s->events = ev;
		loop_fd_events(s->net->loop, s->fd, ev);
	}
}

/*
 * Whether two addresses count as one for the limits: the same IPv4 address
 * (also when mapped into IPv6), or the same IPv6 /64 (one subscriber's LAN).
 */
static int
same_origin(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct in6_addr *x, *y;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family != AF_INET6)
		return 0;
	x = &((const struct sockaddr_in6 *)a)->sin6_addr;
	y = &((const struct sockaddr_in6 *)b)->sin6_addr;
	if (IN6_IS_ADDR_V4MAPPED(x) || IN6_IS_ADDR_V4MAPPED(y))
		return memcmp(x, y, 16) == 0;
	return memcmp(x, y, 8) == 0;
}

/*
 * Count sessions still in their handshake (overall and from sa's origin) and
 * sessions in any state from sa's origin.
 */
static void
count_origin(struct net *n, const struct sockaddr_storage *sa, int *pending, int *pending_same,
    int *same)
{
	struct session *s;
	int here;

	*pending = *pending_same = *same = 0;
	for (s = n->sessions; s != NULL; s = s->next) {
		if (s->state == SS_CLOSED)
			continue;
		here = same_origin(&s->sa, sa);
		*same += here;
		if (s->state == SS_OPEN)
			continue;
		(*pending)++;
		*pending_same += here;
	}
}

/*
 * Make room for a new connection: close the open session of priority 0
 * (from sa's origin, or from anywhere when sa is NULL) that has been idle
 * the longest.  Returns 1 if one was closed, 0 if there is none.
 */
static int
evict_idle(struct net *n, const struct sockaddr_storage *sa, const char *newcomer)
{
	struct session *s, *v = NULL;

	for (s = n->sessions; s != NULL; s = s->next) {
		if (s->state != SS_OPEN || s->prio > 0 || (sa != NULL && !same_origin(&s->sa, sa)))
			continue;
		if (v == NULL || s->last_act < v->last_act)
			v = s;
	}
	if (v == NULL)
		return 0;
	log_info("evicting session %lu %s (unverified, idle %llu ms) for %s: %s", v->id, v->addr,
	    (unsigned long long)(loop_now(n->loop) - v->last_act), newcomer,
	    sa != NULL ? "too many sessions from that address" : "all sessions in use");
	session_close(v, BYE_BUSY, "evicted to make room");
	return 1;
}

/* Allocate a session around a connected (or connecting) socket. */
static struct session *
session_new(struct net *n, int fd, int initiator, const struct sockaddr *sa, socklen_t salen)
{
	struct session *s;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->net = n;
	s->id = ++n->next_id;
	s->fd = fd;
	s->initiator = initiator;
	memcpy(&s->sa, sa, salen);
	s->salen = salen;
	sock_format(sa, s->addr, sizeof s->addr);
	buf_init(&s->in, IN_CAP);
	buf_init(&s->out, OUT_CAP);
	buf_init(&s->ctrlq, n->lim.sendq_max);
	loop_timer_init(&s->timer, session_tick, s);
	s->last_rx = loop_now(n->loop);
	s->events = initiator ? POLLOUT : POLLIN;
	if (loop_fd_add(n->loop, fd, s->events, session_io, s) == -1) {
		free(s);
		return NULL;
	}
	loop_timer_set(n->loop, &s->timer, (uint64_t)n->lim.handshake_ms);
	s->next = n->sessions;
	n->sessions = s;
	n->nsessions++;
	return s;
}

/* Unlink s from the live list and put it on the dead list. */
static void
session_bury(struct session *s)
{
	struct net *n = s->net;
	struct session **pp;

	for (pp = &n->sessions; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	n->nsessions--;
	s->next = n->dead;
	n->dead = s;
}

/* Tear a session down now and tell the owner why. */
static void
session_end(struct session *s, const char *why)
{
	if (s->state == SS_CLOSED)
		return;
	if (s->state == SS_OPEN)
		log_info("session %lu %s closed: %s", s->id, s->addr, why);
	else
		log_info("session %lu %s dropped during handshake: %s", s->id, s->addr, why);
	s->state = SS_CLOSED;
	session_drop(s);
	session_bury(s);
	s->net->ops.closed(s, why, s->net->arg);
}

/* A protocol or I/O failure: end the session without a goodbye. */
static void
session_fail(struct session *s, const char *why)
{
	session_end(s, why);
}

/* Encrypt one plaintext record into a frame at the end of out. */
static int
seal(struct session *s, const uint8_t *rec, size_t len)
{
	uint8_t *w;
	size_t clen = len + NOISE_TAGLEN;

	if (len > WIRE_RECORD_MAX)
		return -1;
	if (buf_reserve(&s->out, WIRE_FRAME_HDR + clen, &w) != BUF_OK)
		return -1;
	w[0] = (uint8_t)(clen >> 8);
	w[1] = (uint8_t)clen;
	if (noise_cs_encrypt(&s->tx, NULL, 0, rec, len, w + WIRE_FRAME_HDR) != NOISE_OK)
		return -1;
	buf_commit(&s->out, WIRE_FRAME_HDR + clen);
	return 0;
}

/* Append a plaintext frame (preamble excluded) to out. */
static int
put_frame(struct session *s, const uint8_t *p, size_t len)
{
	if (buf_put_u16(&s->out, (uint16_t)len) != BUF_OK || buf_put(&s->out, p, len) != BUF_OK)
		return -1;
	return 0;
}

/* Move queued records (control first, then bulk) into out while it has room. */
static int
fill(struct session *s)
{
	struct buf *tmp;
	uint16_t len;
	const uint8_t *p;
	int r;

	if (s->state != SS_OPEN)
		return 0;
	while (buf_len(&s->out) < OUT_LOW) {
		if (buf_len(&s->ctrlq) > 0) {
			if (buf_get_u16(&s->ctrlq, &len) != BUF_OK ||
			    buf_get_ptr(&s->ctrlq, &p, len) != BUF_OK)
				return -1;
			if (seal(s, p, len) == -1)
				return -1;
			continue;
		}
		if (!s->want_bulk || s->net->ops.bulk == NULL)
			break;
		tmp = &s->net->scratch;
		buf_reset(tmp);
		r = s->net->ops.bulk(s, tmp, s->net->arg);
		if (r == 1 && (buf_len(tmp) == 0 || seal(s, buf_ptr(tmp), buf_len(tmp)) == -1))
			r = -1;
		if (r == -1)
			return -1;
		if (r == 0) {
			s->want_bulk = 0;
			break;
		}
		if (s->state != SS_OPEN)
			return 0;
	}
	return 0;
}

/* Write out what the socket takes; returns -1 if the session ended. */
static int
flush(struct session *s)
{
	size_t moved = 0;
	ssize_t w;

	s->dirty = 0;
	for (;;) {
		if (fill(s) == -1) {
			session_fail(s, "cannot queue record");
			return -1;
		}
		if (s->state == SS_CLOSED)
			return -1;
		if (buf_len(&s->out) == 0)
			break;
		w = write(s->fd, buf_ptr(&s->out), buf_len(&s->out));
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			session_fail(s, strerror(errno));
			return -1;
		}
		buf_consume(&s->out, (size_t)w);
		moved += (size_t)w;
		if (moved >= TURN_BUDGET) {
			s->dirty = 1;   /* be fair to other sessions: go on next turn */
			break;
		}
	}
	if (s->state == SS_CONNECTING)
		return 0;
	buf_shrink(&s->ctrlq, QUEUE_KEEP);   /* each no-op unless drained after a burst */
	buf_shrink(&s->out, QUEUE_KEEP);
	set_events(s, POLLIN | (buf_len(&s->out) > 0 || s->want_bulk ? POLLOUT : 0));
	return 0;
}

/* Queue one plaintext record. */
int
session_send(struct session *s, const uint8_t *rec, size_t len)
{
	if (s->state == SS_CLOSED || len == 0 || len > WIRE_RECORD_MAX)
		return -1;
	if (buf_put_u16(&s->ctrlq, (uint16_t)len) != BUF_OK)
		return -1;
	if (buf_put(&s->ctrlq, rec, len) != BUF_OK) {
		s->ctrlq.len -= 2;   /* undo the length we just wrote */
		return -1;
	}
	s->dirty = 1;
	return 0;
}

/* Queue the record held in a buf. */
int
session_send_buf(struct session *s, const struct buf *rec)
{
	return session_send(s, buf_ptr(rec), buf_len(rec));
}

/* Ask for bulk records when the pipe has room. */
void
session_want_bulk(struct session *s)
{
	if (s->state == SS_CLOSED)
		return;
	s->want_bulk = 1;
	s->dirty = 1;
}

/* Bytes queued or buffered for sending. */
size_t
session_pending(const struct session *s)
{
	return buf_len(&s->ctrlq) + buf_len(&s->out);
}

/* Close politely: BYE if open, flush, close. */
void
session_close(struct session *s, uint8_t reason, const char *why)
{
	struct buf b;

	if (s->state == SS_CLOSED)
		return;
	if (s->state == SS_OPEN) {
		/* what was queued before the goodbye goes out before it */
		s->want_bulk = 0;
		if (fill(s) == -1)
			buf_reset(&s->out);
		buf_init(&b, 512);
		if (wire_put_bye(&b, reason, why) == BUF_OK &&
		    seal(s, buf_ptr(&b), buf_len(&b)) == 0) {
			/* best effort: a BYE is small and the socket rarely full */
			while (buf_len(&s->out) > 0) {
				ssize_t w = write(s->fd, buf_ptr(&s->out), buf_len(&s->out));

				if (w <= 0)
					break;
				buf_consume(&s->out, (size_t)w);
			}
		}
		buf_free(&b);
	}
	session_end(s, why ? why : "closed");
}

/* Choose the cipher both sides offer and start the handshake. */
static int
start_handshake(struct session *s, uint8_t peer_flags)
{
	uint8_t prologue[sizeof PROLOGUE_TAG - 1 + 2 * WIRE_PREAMBLE_LEN];
	uint8_t peer_pre[WIRE_PREAMBLE_LEN];
	uint8_t common = s->my_pre[7] & peer_flags;
	const char *proto;
	uint8_t msg[WIRE_HS_MAX];
	size_t mlen;

	memcpy(peer_pre, buf_ptr(&s->in), WIRE_PREAMBLE_LEN);
	if (common & WIRE_CIPHER_AESGCM) {
		s->cipher = WIRE_CIPHER_AESGCM;
		proto = "Noise_XX_25519_AESGCM_BLAKE2b";
	} else if (common & WIRE_CIPHER_CHACHA) {
		s->cipher = WIRE_CIPHER_CHACHA;
		proto = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
	} else {
		return -1;
	}
	/* The prologue binds both preambles: a changed offer breaks the handshake. */
	memcpy(prologue, PROLOGUE_TAG, sizeof PROLOGUE_TAG - 1);
	memcpy(prologue + sizeof PROLOGUE_TAG - 1,
	    s->initiator ? s->my_pre : peer_pre, WIRE_PREAMBLE_LEN);
	memcpy(prologue + sizeof PROLOGUE_TAG - 1 + WIRE_PREAMBLE_LEN,
	    s->initiator ? peer_pre : s->my_pre, WIRE_PREAMBLE_LEN);
	if (noise_hs_init(&s->hs, proto, s->initiator, prologue, sizeof prologue,
	    s->net->s_priv, NULL, NULL, NULL) != NOISE_OK)
		return -1;
	s->state = SS_HANDSHAKE;
	if (s->initiator) {
		if (noise_hs_write(&s->hs, NULL, 0, msg, sizeof msg, &mlen) != NOISE_OK ||
		    put_frame(s, msg, mlen) == -1)
			return -1;
		s->dirty = 1;
	}
	return 0;
}

/* The handshake is complete: split, check the peer, tell the owner. */
static int
open_session(struct session *s)
{
	struct net *n = s->net;

	if (noise_hs_split(&s->hs, &s->tx, &s->rx) != NOISE_OK)
		return -1;
	noise_hs_hash(&s->hs, s->hash);
	noise_hs_wipe(&s->hs);
	s->state = SS_OPEN;
	(void)sock_limit_unsent(s->fd, UNSENT_MAX);   /* not TCP (tests): no matter */
	s->last_rx = loop_now(n->loop);
	s->last_act = s->last_rx;
	loop_timer_set(n->loop, &s->timer, (uint64_t)n->lim.keepalive_ms);
	log_info("session %lu %s open (%s, %s)", s->id, s->addr,
	    s->initiator ? "outgoing" : "incoming", session_cipher(s));
	if (n->ops.established(s, n->arg) == -1) {
		if (s->state != SS_CLOSED)
			session_end(s, "refused");
		return 1;
	}
	return s->state == SS_CLOSED ? 1 : 0;
}

/* Process one handshake message. */
static int
handshake_step(struct session *s, const uint8_t *body, size_t len)
{
	uint8_t payload[WIRE_HS_MAX], msg[WIRE_HS_MAX];
	size_t plen, mlen;

	if (noise_hs_action(&s->hs) != NOISE_ACTION_READ)
		return -1;
	if (noise_hs_read(&s->hs, body, len, payload, sizeof payload, &plen) != NOISE_OK)
		return -1;
	if (noise_hs_remote_static(&s->hs, s->remote_pk) == NOISE_OK) {
		if (memcmp(s->remote_pk, s->net->s_pub, NOISE_DHLEN) == 0) {
			session_fail(s, "connected to ourselves");
			return 1;
		}
		if (s->has_expect && sodium_memcmp(s->remote_pk, s->expect_pk, NOISE_DHLEN) != 0) {
			session_fail(s, "peer key does not match the expected fingerprint");
			return 1;
		}
	}
	if (noise_hs_action(&s->hs) == NOISE_ACTION_WRITE) {
		if (noise_hs_write(&s->hs, NULL, 0, msg, sizeof msg, &mlen) != NOISE_OK ||
		    put_frame(s, msg, mlen) == -1)
			return -1;
		s->dirty = 1;
	}
	if (noise_hs_action(&s->hs) == NOISE_ACTION_SPLIT)
		return open_session(s);
	return 0;
}

/* Decrypt and dispatch one transport frame. */
static int
record_step(struct session *s, const uint8_t *body, size_t len)
{
	uint8_t pt[WIRE_FRAME_MAX];
	struct record r;
	struct buf b;
	size_t plen;
	int rc;

	/* shorter than a tag: it cannot be authentic (section 5: close, no BYE) */
	if (len < NOISE_TAGLEN ||
	    noise_cs_decrypt(&s->rx, NULL, 0, body, len, pt) != NOISE_OK) {
		session_fail(s, "frame failed authentication");
		return 1;
	}
	plen = len - NOISE_TAGLEN;
	if (plen == 0) {
		/* an authentic but empty record: the peer's framing is broken */
		log_warn("session %lu %s: empty record", s->id, s->addr);
		session_close(s, BYE_PROTOCOL, "empty record");
		return 1;
	}
	rc = wire_decode(pt, plen, &r);
	if (rc == WIRE_EUNKNOWN) {
		log_debug("session %lu: ignoring unknown record type 0x%02x", s->id, pt[0]);
		return 0;
	}
	if (rc != WIRE_OK) {
		log_warn("session %lu %s: malformed %s record", s->id, s->addr, wire_type_name(pt[0]));
		session_close(s, BYE_PROTOCOL, "malformed record");
		return 1;
	}
	switch (r.type) {
	case REC_PING:
		buf_init(&b, 16);
		wire_put_ping(&b, REC_PONG, r.u.ping);
		session_send_buf(s, &b);
		buf_free(&b);
		return 0;
	case REC_PONG:
		if (s->ping_out && r.u.ping == s->ping_nonce)
			s->ping_out = 0;
		return 0;
	case REC_BYE:
		s->net->ops.record(s, &r, s->net->arg);
		if (s->state != SS_CLOSED)
			session_end(s, r.u.bye.reason == BYE_QUIT ? "peer quit" : "peer closed the session");
		return 1;
	default:
		s->last_act = loop_now(s->net->loop);
		s->net->ops.record(s, &r, s->net->arg);
		return s->state == SS_CLOSED ? 1 : 0;
	}
}

/*
 * Start the preamble exchange once the stream to the peer is open: queue ours
 * and wait for theirs.  If it cannot be queued the session is ended (-1).
 */
static int
preamble_start(struct session *s)
{
	s->state = SS_PREAMBLE;
	wire_preamble(s->my_pre, s->net->ciphers);
	if (buf_put(&s->out, s->my_pre, sizeof s->my_pre) != BUF_OK) {
		session_fail(s, "cannot queue the preamble");
		return -1;
	}
	s->events = -1;
	s->dirty = 1;
	return 0;
}

/*
 * Feed the proxy's answer to the SOCKS5 client: 1 when the tunnel is open
 * (what follows in the input is the peer's), 0 for more, -1 when the
 * session failed.
 */
static int
proxy_step(struct session *s)
{
	char why[SOCKS_ERR_MAX + SOCK_ADDRSTRLEN + 16];
	size_t used = 0;
	int r;

	r = socks_input(&s->socks, buf_ptr(&s->in), buf_len(&s->in), &used, &s->out);
	buf_consume(&s->in, used);
	if (r == -1) {
		s->tunnel_err = s->socks.rep;
		snprintf(why, sizeof why, "%s %s: %s", s->proxied == 2 ? "tor" : "proxy", s->socks.conf->addr,
		    s->socks.err);
		session_fail(s, why);
		return -1;
	}
	s->dirty = 1;
	if (r == 0)
		return 0;
	log_debug("session %lu: proxy %s opened the tunnel to %s", s->id, s->socks.conf->addr, s->addr);
	return preamble_start(s) == -1 ? -1 : 1;
}

/* Consume whatever complete units (preamble, frames) the input holds. */
static void
process_input(struct session *s)
{
	const uint8_t *body;
	size_t len, max;
	uint8_t ver, flags;
	int r;

	while (s->state != SS_CLOSED) {
		if (s->state == SS_PROXY) {
			if (proxy_step(s) != 1)
				return;
			continue;
		}
		if (s->state == SS_PREAMBLE) {
			if (buf_len(&s->in) < WIRE_PREAMBLE_LEN)
				return;
			if (wire_preamble_parse(buf_ptr(&s->in), &ver, &flags) == -1) {
				session_fail(s, "not a confab peer (bad preamble)");
				return;
			}
			if (start_handshake(s, flags) == -1) {
				session_fail(s, "no cipher in common");
				return;
			}
			buf_consume(&s->in, WIRE_PREAMBLE_LEN);
			continue;
		}
		max = s->state == SS_HANDSHAKE ? WIRE_HS_MAX : WIRE_FRAME_MAX;
		r = wire_frame_peek(&s->in, max, &body, &len);
		if (r == 0)
			return;
		if (r == -1) {
			if (s->state == SS_HANDSHAKE)
				session_fail(s, "oversized handshake message");
			else
				session_close(s, BYE_PROTOCOL, "empty frame");   /* 0: the only bad length */
			return;
		}
		if (s->state == SS_HANDSHAKE)
			r = handshake_step(s, body, len);
		else
			r = record_step(s, body, len);
		if (r == -1) {
			session_fail(s, s->state == SS_HANDSHAKE ? "handshake failed" : "protocol error");
			return;
		}
		if (s->state == SS_CLOSED)
			return;
		buf_consume(&s->in, WIRE_FRAME_HDR + len);
	}
}

/* Read what the socket has, within this turn's budget. */
static void
session_read(struct session *s)
{
	size_t total = 0;
	uint8_t *w;
	ssize_t r;
	size_t room;

	while (s->state != SS_CLOSED && total < TURN_BUDGET) {
		buf_compact(&s->in);
		room = s->in.cap - buf_len(&s->in);
		if (room == 0) {
			session_fail(s, "input buffer full");
			return;
		}
		if (s->state != SS_OPEN && room > IN_READ_PRE)
			room = IN_READ_PRE;   /* strangers get no big buffers */
		if (buf_reserve(&s->in, room, &w) != BUF_OK) {
			session_fail(s, "out of memory");
			return;
		}
		r = read(s->fd, w, room);
		if (r == 0) {
			session_fail(s, s->state == SS_OPEN ? "connection closed by peer" :
			    "connection closed during handshake");
			return;
		}
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				session_fail(s, strerror(errno));
			return;
		}
		buf_commit(&s->in, (size_t)r);
		total += (size_t)r;
		s->last_rx = loop_now(s->net->loop);
		process_input(s);
		if ((size_t)r < room)
			return;
	}
	if (s->state != SS_CLOSED)
		s->dirty = 1;   /* more may be waiting; come back next turn */
}

/* Socket readiness. */
static void
session_io(struct loop *loop, int fd, int revents, void *arg)
{
	struct session *s = arg;
	int err;

	if (s->state == SS_CONNECTING) {
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return;
		if ((err = sock_connect_result(fd)) != 0) {
			if (s->proxied) {
				char why[SOCK_ADDRSTRLEN + 160];

				snprintf(why, sizeof why, "cannot reach the %s %s: %s",
				    s->proxied == 2 ? "tor SOCKS port" : "proxy", s->socks.conf->addr, strerror(err));
				session_fail(s, why);
			} else {
				session_fail(s, strerror(err));
			}
			return;
		}
		if (s->proxied) {
			s->state = SS_PROXY;   /* the greeting is queued already */
			s->events = -1;
			flush(s);
			return;
		}
		if (preamble_start(s) == 0)
			flush(s);
		return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR))
		session_read(s);
	if (s->state != SS_CLOSED && (revents & POLLOUT))
		flush(s);
}

/* Handshake deadline and keepalive. */
static void
session_tick(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct session *s = arg;
	struct net *n = s->net;
	uint64_t now = loop_now(loop), idle;
	struct buf b;

	if (s->state != SS_OPEN) {
		if (s->state == SS_PROXY)
			s->tunnel_err = SESSION_TUNNEL_TIMEOUT;   /* tor held the stream: maybe stale onion state */
		if (s->proxied && s->state == SS_CONNECTING)
			session_fail(s, "timed out connecting to the proxy");
		else if (s->state == SS_PROXY)
			session_fail(s, "the proxy did not open the tunnel in time");
		else
			session_fail(s, "handshake timed out");
		return;
	}
	idle = now - s->last_rx;
	if (idle >= (uint64_t)n->lim.dead_ms) {
		session_fail(s, "peer timed out");
		return;
	}
	if (idle >= (uint64_t)n->lim.keepalive_ms && !s->ping_out) {
		s->ping_nonce = randombytes_random() | (uint64_t)randombytes_random() << 32;
		s->ping_out = 1;
		buf_init(&b, 16);
		wire_put_ping(&b, REC_PING, s->ping_nonce);
		session_send_buf(s, &b);
		buf_free(&b);
	}
	if (idle < (uint64_t)n->lim.keepalive_ms) {
		s->ping_out = 0;
		loop_timer_set(loop, t, (uint64_t)n->lim.keepalive_ms - idle);
	} else {
		loop_timer_set(loop, t, (uint64_t)n->lim.dead_ms - idle);
	}
}

/* A new incoming connection on a listener. */
static void
listener_io(struct loop *loop, int fd, int revents, void *arg)
{
	struct net *n = arg;
	struct sockaddr_storage ss;
	socklen_t len;
	struct session *s;
	char addr[SOCK_ADDRSTRLEN];
	int c, all, same, from, i, onion = 0;

	for (i = 0; i < n->nls; i++)
		if (n->ls[i].fd == fd)
			onion = n->ls[i].onion;
	for (i = 0; i < 64; i++) {
		len = sizeof ss;
		c = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		sock_format((struct sockaddr *)&ss, addr, sizeof addr);
		count_origin(n, &ss, &all, &same, &from);
		if (all >= n->lim.max_pending || same >= n->lim.max_pending_per_ip) {
			log_warn("refusing %s: too many handshakes in progress (%d, %d from it)",
			    addr, all, same);
			close(c);
			continue;
		}
		if (from >= n->lim.max_per_ip && !evict_idle(n, &ss, addr)) {
			log_warn("refusing %s: %d sessions from that address already", addr, from);
			close(c);
			continue;
		}
		if (n->nsessions >= n->lim.max_sessions && !evict_idle(n, NULL, addr)) {
			log_warn("refusing %s: %d sessions already", addr, n->nsessions);
			close(c);
			continue;
		}
		if ((s = session_new(n, c, 0, (struct sockaddr *)&ss, len)) == NULL) {
			close(c);
			continue;
		}
		s->onion_in = onion;
		log_debug("session %lu: incoming from %s%s", s->id, addr, onion ? " (onion service)" : "");
		if (preamble_start(s) == 0)
			flush(s);
	}
}

/* Listen on an address (onion: the onion service's target). */
static int
listen_on(struct net *n, const struct sockaddr *sa, socklen_t len, char *bound, size_t boundlen, int onion)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int fd;

	if (n->nls == NET_LISTEN_MAX) {
		errno = EMFILE;
		return -1;
	}
	if ((fd = sock_listen(sa, len)) == -1)
		return -1;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    loop_fd_add(n->loop, fd, POLLIN, listener_io, n) == -1) {
		close(fd);
		return -1;
	}
	n->ls[n->nls].fd = fd;
	n->ls[n->nls].onion = onion;
	sock_format((struct sockaddr *)&ss, n->ls[n->nls].addr, sizeof n->ls[n->nls].addr);
	if (bound != NULL)
		snprintf(bound, boundlen, "%s", n->ls[n->nls].addr);
	n->nls++;
	return 0;
}

/* Listen on an address. */
int
net_listen(struct net *n, const struct sockaddr *sa, socklen_t len, char *bound, size_t boundlen)
{
	return listen_on(n, sa, len, bound, boundlen, 0);
}

/* Listen where tor hands over the onion service's connections. */
int
net_listen_onion(struct net *n, const struct sockaddr *sa, socklen_t len, char *bound, size_t boundlen)
{
	return listen_on(n, sa, len, bound, boundlen, 1);
}

/* The addresses we listen on (not the onion service's). */
size_t
net_listen_addrs(struct net *n, char (*out)[SOCK_ADDRSTRLEN], size_t max)
{
	size_t i, k = 0;

	for (i = 0; i < (size_t)n->nls && k < max; i++)
		if (!n->ls[i].onion)
			memcpy(out[k++], n->ls[i].addr, SOCK_ADDRSTRLEN);
	return k;
}

/* The port of the first listener (not the onion service's). */
int
net_listen_port(struct net *n)
{
	int i;

	for (i = 0; i < n->nls; i++)
		if (!n->ls[i].onion)
			return sock_local_port(n->ls[i].fd);
	return 0;
}

/* Open a session to an address, or to a name (host != NULL, through the proxy). */
static struct session *
connect_to(struct net *n, const struct sockaddr *sa, socklen_t len, const char *host, uint16_t port,
    const uint8_t *expect_pk, int direct)
{
	struct sockaddr_storage none;
	const struct socks_conf *pc = NULL;
	struct session *s;
	int fd, proxied = 0;

	if (n->nsessions >= n->lim.max_sessions) {
		errno = EMFILE;
		return NULL;
	}
	if (host != NULL && n->has_onion && net_onion_name(host)) {
		pc = &n->onion;   /* an onion address goes to tor, even with --proxy */
		proxied = 2;
	} else if (n->has_proxy && !direct) {
		pc = &n->proxy;
		proxied = 1;
	}
	if (host != NULL && !proxied) {
		errno = EINVAL;
		return NULL;
	}
	if (n->tor_only && proxied != 2) {
		errno = EACCES;   /* --tor-only: nothing but onion names, through tor */
		return NULL;
	}
	if (proxied)
		fd = sock_connect((const struct sockaddr *)&pc->ss, pc->len);
	else
		fd = sock_connect(sa, len);
	if (fd == -1)
		return NULL;
	if (host != NULL) {
		/* no address of the peer is known here: the proxy resolves the name */
		memset(&none, 0, sizeof none);
		none.ss_family = AF_UNSPEC;
		sa = (struct sockaddr *)&none;
		len = sizeof none.ss_family;
	}
	if ((s = session_new(n, fd, 1, sa, len)) == NULL) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	s->state = SS_CONNECTING;
	if (proxied) {
		s->proxied = proxied;
		if (host != NULL)
			snprintf(s->addr, sizeof s->addr, "%.*s:%u", (int)sizeof s->addr - 8, host, port);
		if ((host != NULL ? socks_start_name(&s->socks, pc, host, port, &s->out) :
		    socks_start_addr(&s->socks, pc, sa, &s->out)) == -1) {
			/* no callback yet: the caller sees NULL */
			session_drop(s);
			session_bury(s);
			s->state = SS_CLOSED;
			errno = EINVAL;
			return NULL;
		}
	}
	if (expect_pk != NULL) {
		s->has_expect = 1;
		memcpy(s->expect_pk, expect_pk, NOISE_DHLEN);
	}
	return s;
}

/* Open a session to an address (through the proxy if there is one). */
struct session *
net_connect(struct net *n, const struct sockaddr *sa, socklen_t len, const uint8_t *expect_pk)
{
	return connect_to(n, sa, len, NULL, 0, expect_pk, 0);
}

/* Open a session to an address, never through the proxy. */
struct session *
net_connect_direct(struct net *n, const struct sockaddr *sa, socklen_t len, const uint8_t *expect_pk)
{
	return connect_to(n, sa, len, NULL, 0, expect_pk, 1);
}

/* Open a session to a host name through the proxy. */
struct session *
net_connect_name(struct net *n, const char *host, uint16_t port, const uint8_t *expect_pk)
{
	if (host == NULL || strlen(host) > SOCKS_HOST_MAX) {
		errno = EINVAL;
		return NULL;
	}
	return connect_to(n, NULL, 0, host, port, expect_pk, 0);
}

/* Use a SOCKS5 proxy for later outgoing sessions. */
void
net_set_proxy(struct net *n, const struct socks_conf *conf)
{
	sodium_memzero(&n->proxy, sizeof n->proxy);
	n->has_proxy = conf != NULL;
	if (conf != NULL)
		n->proxy = *conf;
}

/* Whether outgoing sessions go through a proxy. */
int
net_proxied(const struct net *n)
{
	return n->has_proxy;
}

/* Send sessions to .onion names through tor's SOCKS port (NULL: no more). */
void
net_set_onion_proxy(struct net *n, const struct socks_conf *conf)
{
	sodium_memzero(&n->onion, sizeof n->onion);
	n->has_onion = conf != NULL;
	if (conf != NULL)
		n->onion = *conf;
}

/* Refuse every later outgoing session that is not to an onion name through tor. */
void
net_set_tor_only(struct net *n)
{
	n->tor_only = 1;
}

/* Whether an onion address can be reached: through tor, or through the proxy. */
int
net_onion_ok(const struct net *n)
{
	return n->has_onion || n->has_proxy;
}

/* Whether host is NAME.onion (a name only tor can reach; never looked up in DNS). */
int
net_onion_name(const char *host)
{
	size_t n = strlen(host);

	return n > 6 && strcasecmp(host + n - 6, ".onion") == 0;
}

/* Run a session over an already connected socket (tests, fuzzing). */
struct session *
net_adopt(struct net *n, int fd, int initiator)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct session *s;

	memset(&ss, 0, sizeof ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1 || len > sizeof ss ||
	    len < sizeof ss.ss_family) {
		ss.ss_family = AF_UNSPEC;
		len = sizeof ss.ss_family;
	}
	if (n->nsessions >= n->lim.max_sessions || sock_nonblock(fd) == -1 ||
	    (s = session_new(n, fd, initiator, (struct sockaddr *)&ss, len)) == NULL)
		return NULL;
	if (initiator) {
		s->state = SS_CONNECTING;   /* writable at once: goes on as after connect */
		return s;
	}
	if (preamble_start(s) == 0)   /* a failure closed it like any session */
		flush(s);
	return s;
}

/* Send BYE everywhere and close all sessions. */
void
net_shutdown(struct net *n, const char *why)
{
	/*
	 * The closed sessions are freed by the next before-sleep hook or by
	 * net_free, not here: this may run inside one of their own callbacks.
	 */
	while (n->sessions != NULL)
		session_close(n->sessions, BYE_QUIT, why);
}

void  session_set_priority(struct session *s, int prio) { s->prio = prio; }
void  session_set_user(struct session *s, void *user) { s->user = user; }
void *session_user(const struct session *s) { return s->user; }
enum session_state session_state(const struct session *s) { return s->state; }
int   session_initiator(const struct session *s) { return s->initiator; }
const uint8_t *session_remote_pk(const struct session *s) { return s->remote_pk; }
/* The final handshake hash, only while the session is open. */
const uint8_t *
session_hash(const struct session *s)
{
	return s->state == SS_OPEN ? s->hash : NULL;
}
const char *session_addr(const struct session *s) { return s->addr; }
unsigned long session_id(const struct session *s) { return s->id; }

/* The peer's socket address. */
const struct sockaddr *
session_sockaddr(const struct session *s, socklen_t *len)
{
	*len = s->salen;
	return (const struct sockaddr *)&s->sa;
}

/* How the session reaches the peer. */
const char *
session_path(const struct session *s)
{
	return s->proxied == 2 || s->onion_in ? "onion" : s->proxied ? "proxy" : s->mapped ? "mapped" : "direct";
}

/* Why the proxy did not open s's tunnel: its SOCKS5 reply code, SESSION_TUNNEL_TIMEOUT, or 0. */
int
session_tunnel_error(const struct session *s)
{
	return s->tunnel_err;
}

/* Say the address dialled is one a router port-maps for the peer (session_path "mapped"). */
void
session_set_mapped(struct session *s)
{
	s->mapped = 1;
}

/* The cipher in use. */
const char *
session_cipher(const struct session *s)
{
	return s->cipher == WIRE_CIPHER_AESGCM ? "AESGCM" :
	    s->cipher == WIRE_CIPHER_CHACHA ? "ChaChaPoly" : "none";
}
