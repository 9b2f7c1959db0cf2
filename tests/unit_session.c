/* unit_session.c - two nets in one process talking over loopback. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "noise.h"
#include "session.h"
#include "wire.h"
#include "tap.h"

#define NMSG      500
#define NBULK     1000
#define BULK_TEXT 4000
#define NCTRL_MAX 400

/* What one side of a test saw. */
struct side {
	const char     *name;
	struct net     *net;
	uint8_t         priv[NOISE_DHLEN], pub[NOISE_DHLEN];
	struct session *s;             /* the last established session */
	int             nest;          /* established callbacks */
	int             nclosed;       /* closed callbacks */
	char            reason[160];   /* the last closed reason */
	char            reasons[512];  /* every closed reason, each followed by '|' */
	uint8_t         peer_pk[NOISE_DHLEN];
	int             refuse;        /* established returns -1 */

	/* records received */
	int             nmsg, nmsg_bad;        /* plain MSGs, and those out of order */
	int             nbulk, nbulk_bad;
	int             nctrl, nctrl_bad;
	int             ctrl_mid;              /* ctrl records that arrived amid bulk */
	int             nbye;
	uint8_t         bye_reason;
	char            bye_text[160];

	/* bulk records to produce */
	int             bulk_total, bulk_made, bulk_idle;
};

/* Monotonic milliseconds. */
static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Turn the loop until cond holds or ms pass; yields whether it holds. */
#define RUN_UNTIL(l, cond, ms) __extension__ ({ \
	uint64_t end_ = now_ms() + (ms); \
	while (!(cond) && now_ms() < end_) \
		loop_once((l), 10); \
	(cond); \
})

/* The same over two loops driven in turn. */
#define RUN2_UNTIL(l1, l2, cond, ms) __extension__ ({ \
	uint64_t end_ = now_ms() + (ms); \
	while (!(cond) && now_ms() < end_) { \
		loop_once((l1), 5); \
		loop_once((l2), 5); \
	} \
	(cond); \
})

/* Handshake finished: remember the session and the peer's key. */
static int
on_established(struct session *s, void *arg)
{
	struct side *d = arg;

	d->nest++;
	d->s = s;
	memcpy(d->peer_pk, session_remote_pk(s), NOISE_DHLEN);
	return d->refuse ? -1 : 0;
}

/* A record arrived: check its sequence number against its stream. */
static void
on_record(struct session *s, const struct record *r, void *arg)
{
	struct side *d = arg;
	uint64_t seq;

	if (r->type == REC_BYE) {
		d->nbye++;
		d->bye_reason = r->u.bye.reason;
		snprintf(d->bye_text, sizeof d->bye_text, "%.*s",
		    (int)r->u.bye.text_len, (const char *)r->u.bye.text);
		return;
	}
	if (r->type != REC_MSG)
		return;
	seq = r->u.msg.ts_ms;
	switch (r->u.msg.id[0]) {
	case 'M':
		if (seq != (uint64_t)d->nmsg || r->u.msg.text_len != 10)
			d->nmsg_bad++;
		d->nmsg++;
		break;
	case 'B':
		if (seq != (uint64_t)d->nbulk || r->u.msg.text_len != BULK_TEXT ||
		    r->u.msg.text[BULK_TEXT - 1] != (uint8_t)seq)
			d->nbulk_bad++;
		d->nbulk++;
		break;
	case 'C':
		if (seq != (uint64_t)d->nctrl)
			d->nctrl_bad++;
		if (d->nbulk > 0 && d->nbulk < NBULK)
			d->ctrl_mid++;
		d->nctrl++;
		break;
	}
}

/* A session ended. */
static void
on_closed(struct session *s, const char *reason, void *arg)
{
	struct side *d = arg;

	d->nclosed++;
	snprintf(d->reason, sizeof d->reason, "%s", reason);
	if (strlen(d->reasons) + strlen(reason) + 2 < sizeof d->reasons) {
		strcat(d->reasons, reason);
		strcat(d->reasons, "|");
	}
	if (d->s == s)
		d->s = NULL;
}

/* Produce bulk records until bulk_total have been made. */
static int
on_bulk(struct session *s, struct buf *b, void *arg)
{
	struct side *d = arg;
	uint8_t id[WIRE_ID_LEN] = { 'B' };
	char text[BULK_TEXT];

	if (d->bulk_made >= d->bulk_total) {
		d->bulk_idle++;
		return 0;
	}
	memset(text, 'x', sizeof text);
	text[BULK_TEXT - 1] = (char)(uint8_t)d->bulk_made;
	if (wire_put_msg(b, id, (uint64_t)d->bulk_made, text, sizeof text) != BUF_OK)
		return -1;
	d->bulk_made++;
	return 1;
}

static const struct net_ops ops = {
	.established = on_established,
	.record = on_record,
	.closed = on_closed,
	.bulk = on_bulk,
};

/* Make a side with a fresh key on loop l. */
static void
side_init(struct side *d, const char *name, struct loop *l)
{
	memset(d, 0, sizeof *d);
	d->name = name;
	noise_keypair(d->priv, d->pub);
	d->net = net_new(l, d->priv, &ops, d);
	if (d->net == NULL)
		abort();
}

/* Listen on 127.0.0.1 with a kernel-chosen port; returns the port. */
static int
side_listen(struct side *d)
{
	struct sockaddr_in sin;
	char bound[SOCK_ADDRSTRLEN];

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (net_listen(d->net, (struct sockaddr *)&sin, sizeof sin, bound, sizeof bound) == -1)
		abort();
	return net_listen_port(d->net);
}

/* The loopback address with a port. */
static struct sockaddr_in
lo_addr(int port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	return sin;
}

/* Connect side d to port. */
static struct session *
side_connect(struct side *d, int port, const uint8_t *expect)
{
	struct sockaddr_in sin = lo_addr(port);

	return net_connect(d->net, (struct sockaddr *)&sin, sizeof sin, expect);
}

/* A plain blocking TCP connection to port, for raw bytes. */
static int
raw_connect(int port)
{
	struct sockaddr_in sin = lo_addr(port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd == -1 || connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		abort();
	return fd;
}

/* Send one MSG with marker m and sequence seq. */
static int
send_msg(struct session *s, char m, uint64_t seq, const char *text, size_t len)
{
	uint8_t id[WIRE_ID_LEN] = { (uint8_t)m };
	struct buf b;
	int rc;

	memcpy(id + 8, &seq, sizeof seq);
	buf_init(&b, WIRE_RECORD_MAX);
	rc = wire_put_msg(&b, id, seq, text, len);
	if (rc == BUF_OK)
		rc = session_send_buf(s, &b);
	buf_free(&b);
	return rc;
}

/* Handshake, keys, hash, records both ways, BYE. */
/* Connected TCP sockets of this process whose TCP_NOTSENT_LOWAT is LOWAT. */
static int
count_limited_sockets(int lowat)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, type, v, n = 0;

	for (fd = 3; fd < 1024; fd++) {
		len = sizeof type;
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 || type != SOCK_STREAM)
			continue;
		len = sizeof ss;
		if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1 || ss.ss_family != AF_INET)
			continue;
		len = sizeof v;
		if (getsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, &len) == 0 && v == lowat)
			n++;
	}
	return n;
}

static void
test_pair(void)
{
	struct loop *l = loop_new();
	struct side a, b;
	struct session *bs;
	int port, i, qa = 0, qb = 0;

	side_init(&a, "a", l);
	side_init(&b, "b", l);
	port = side_listen(&a);
	ok(port > 0, "a listens on 127.0.0.1:%d", port);
	bs = side_connect(&b, port, a.pub);
	ok(bs != NULL, "b connects, expecting a's key");
	is_int(session_state(bs), SS_CONNECTING, "the new session is connecting");
	ok(RUN_UNTIL(l, a.nest && b.nest, 5000), "both sides established");
	is_int(a.nest, 1, "a's established callback ran once");
	is_int(b.nest, 1, "b's established callback ran once");
	ok(b.s == bs, "b's session is the one net_connect returned");
	is_mem(a.peer_pk, b.pub, NOISE_DHLEN, "a sees b's public key");
	is_mem(b.peer_pk, a.pub, NOISE_DHLEN, "b sees a's public key");
	ok(a.s != NULL && session_hash(a.s) != NULL &&
	    memcmp(session_hash(a.s), session_hash(b.s), NOISE_HASHLEN) == 0,
	    "the handshake hash is the same on both sides");
	{
		static const uint8_t zero[NOISE_HASHLEN] = { 0 };

		ok(memcmp(session_hash(a.s), zero, NOISE_HASHLEN) != 0, "and not all zeros");
	}
	is_int(session_initiator(b.s), 1, "b initiated");
	is_int(session_initiator(a.s), 0, "a responded");
	is_int(session_state(a.s), SS_OPEN, "a's session is open");
	is_int(session_state(b.s), SS_OPEN, "b's session is open");
	is_str(session_cipher(a.s), session_cipher(b.s), "both use the same cipher");
	is_str(session_cipher(a.s), noise_aesgcm_available() ? "AESGCM" : "ChaChaPoly",
	    "AESGCM exactly when the hardware has AES");
	ok(strncmp(session_addr(a.s), "127.0.0.1:", 10) == 0, "a sees b at %s", session_addr(a.s));
	is_int(net_session_count(a.net), 1, "a has one session");
	is_int(net_session_count(b.net), 1, "b has one session");
	ok(session_id(a.s) != 0, "sessions have ids");
	is_int(count_limited_sockets(131072), 2,
	    "both ends of the connection keep at most 128 KiB unsent (TCP_NOTSENT_LOWAT)");

	/* 500 records each way, in order */
	for (i = 0; i < NMSG; i++) {
		qa += send_msg(a.s, 'M', (uint64_t)i, "0123456789", 10) == 0;
		qb += send_msg(b.s, 'M', (uint64_t)i, "0123456789", 10) == 0;
	}
	is_int(qa, NMSG, "a queued %d records", NMSG);
	is_int(qb, NMSG, "b queued %d records", NMSG);
	ok(session_pending(a.s) > 0, "a has bytes pending before the loop runs");
	ok(RUN_UNTIL(l, a.nmsg == NMSG && b.nmsg == NMSG, 5000), "all records arrived");
	is_int(b.nmsg, NMSG, "b received %d", NMSG);
	is_int(a.nmsg, NMSG, "a received %d", NMSG);
	is_int(a.nmsg_bad + b.nmsg_bad, 0, "in order and intact");
	ok(RUN_UNTIL(l, session_pending(a.s) == 0 && session_pending(b.s) == 0, 1000),
	    "nothing left pending");

	/* a polite close */
	session_close(b.s, BYE_QUIT, "done here");
	is_int(b.nclosed, 1, "b's closed callback ran at once");
	is_str(b.reason, "done here", "with b's own reason");
	ok(RUN_UNTIL(l, a.nclosed == 1, 5000), "a noticed the close");
	is_int(a.nbye, 1, "a received the BYE record");
	is_int(a.bye_reason, BYE_QUIT, "with reason QUIT");
	is_str(a.bye_text, "done here", "and b's text");
	is_str(a.reason, "peer quit", "a's reason is \"peer quit\"");
	RUN_UNTIL(l, 0, 20);
	is_int(net_session_count(a.net), 0, "a has no sessions left");
	is_int(net_session_count(b.net), 0, "b has no sessions left");
	net_free(a.net);
	net_free(b.net);
	loop_free(l);
}

/* A peer whose key is not the expected one is dropped before opening. */
static void
test_expect_mismatch(void)
{
	struct loop *l = loop_new();
	struct side a, b;
	uint8_t other[NOISE_DHLEN], priv[NOISE_DHLEN];
	int port;

	side_init(&a, "a", l);
	side_init(&b, "b", l);
	port = side_listen(&a);
	noise_keypair(priv, other);
	ok(side_connect(&b, port, other) != NULL, "b connects expecting another key");
	ok(RUN_UNTIL(l, a.nclosed && b.nclosed, 5000), "both sessions closed");
	is_str(b.reason, "peer key does not match the expected fingerprint", "b says why");
	ok(strstr(a.reason, "handshake") != NULL, "a lost it during the handshake (%s)", a.reason);
	is_int(a.nest + b.nest, 0, "no established callback on either side");
	net_free(a.net);
	net_free(b.net);
	loop_free(l);
}

/* Connecting to our own listener is noticed. */
static void
test_self(void)
{
	struct loop *l = loop_new();
	struct side a;
	int port;

	side_init(&a, "a", l);
	port = side_listen(&a);
	ok(side_connect(&a, port, NULL) != NULL, "a connects to itself");
	ok(RUN_UNTIL(l, a.nclosed == 2, 5000), "both ends closed");
	is_int(a.nest, 0, "never established");
	ok(strstr(a.reasons, "connected to ourselves|") != NULL,
	    "the initiating end says it reached itself (%s)", a.reasons);
	net_free(a.net);
	loop_free(l);
}

/* The owner may refuse an established session. */
static void
test_refuse(void)
{
	struct loop *l = loop_new();
	struct side a, b;
	int port;

	side_init(&a, "a", l);
	side_init(&b, "b", l);
	a.refuse = 1;
	port = side_listen(&a);
	side_connect(&b, port, NULL);
	ok(RUN_UNTIL(l, a.nclosed && b.nclosed, 5000), "a refused and both closed");
	is_str(a.reason, "refused", "a's reason is \"refused\"");
	is_int(a.nest, 1, "a's established callback ran");
	is_int(a.nmsg + b.nmsg, 0, "no records");
	net_free(a.net);
	net_free(b.net);
	loop_free(l);
}

/* One side offering only ChaChaPoly makes both use it. */
static void
test_ciphers(void)
{
	struct loop *l = loop_new();
	struct side a, b;
	int port;

	side_init(&a, "a", l);
	side_init(&b, "b", l);
	net_set_ciphers(a.net, WIRE_CIPHER_CHACHA);
	port = side_listen(&a);
	side_connect(&b, port, a.pub);
	ok(RUN_UNTIL(l, a.nest && b.nest, 5000), "established with a limited to ChaChaPoly");
	ok(a.s && b.s, "both sessions present");
	if (a.s && b.s) {
		is_str(session_cipher(a.s), "ChaChaPoly", "a uses ChaChaPoly");
		is_str(session_cipher(b.s), "ChaChaPoly", "b uses ChaChaPoly");
		send_msg(a.s, 'M', 0, "0123456789", 10);
		ok(RUN_UNTIL(l, b.nmsg == 1, 5000), "a record gets through");
	}
	net_free(a.net);
	net_free(b.net);
	loop_free(l);

	/* the initiator limited instead */
	l = loop_new();
	side_init(&a, "a", l);
	side_init(&b, "b", l);
	net_set_ciphers(b.net, WIRE_CIPHER_CHACHA);
	port = side_listen(&a);
	side_connect(&b, port, a.pub);
	ok(RUN_UNTIL(l, a.nest && b.nest, 5000), "established with b limited to ChaChaPoly");
	if (a.s && b.s)
		ok(strcmp(session_cipher(a.s), "ChaChaPoly") == 0 &&
		    strcmp(session_cipher(b.s), "ChaChaPoly") == 0, "both use ChaChaPoly");
	else
		ok(0, "both use ChaChaPoly");
	net_free(a.net);
	net_free(b.net);
	loop_free(l);
}

/* Idle sessions live on PINGs; an unanswering peer is dropped. */
static void
test_keepalive(void)
{
	struct net_limits lim;
	struct loop *l = loop_new(), *l2;
	struct side a, b;
	uint64_t start, took;
	int port;

	net_limits_default(&lim);
	lim.keepalive_ms = 100;
	lim.dead_ms = 300;
	side_init(&a, "a", l);
	side_init(&b, "b", l);
	net_set_limits(a.net, &lim);
	net_set_limits(b.net, &lim);
	port = side_listen(&a);
	side_connect(&b, port, a.pub);
	ok(RUN_UNTIL(l, a.nest && b.nest, 5000), "established with 100/300 ms keepalive");
	RUN_UNTIL(l, a.nclosed || b.nclosed, 1000);
	is_int(a.nclosed + b.nclosed, 0, "an idle pair stays open for 1 s (3 dead times)");
	ok(a.s && b.s && session_state(a.s) == SS_OPEN && session_state(b.s) == SS_OPEN,
	    "both sessions are still open");
	is_int(a.nmsg + b.nmsg, 0, "PINGs and PONGs never reach the owner");
	net_free(a.net);
	net_free(b.net);
	loop_free(l);

	/* b on a loop that stops turning once open: a must give up on it */
	l = loop_new();
	l2 = loop_new();
	side_init(&a, "a", l);
	side_init(&b, "b", l2);
	net_set_limits(a.net, &lim);
	port = side_listen(&a);
	side_connect(&b, port, a.pub);
	ok(RUN2_UNTIL(l, l2, a.nest && b.nest, 5000), "established across two loops");
	start = now_ms();
	ok(RUN_UNTIL(l, a.nclosed, 3000), "b's loop stopped: a closed the session");
	took = now_ms() - start;
	is_str(a.reason, "peer timed out", "because the peer timed out");
	ok(took >= 250 && took < 2000, "after about dead_ms (%llu ms)", (unsigned long long)took);
	ok(RUN_UNTIL(l2, b.nclosed, 3000), "b, turning again, sees the connection gone");
	is_str(b.reason, "connection closed by peer", "b's reason");
	net_free(a.net);
	net_free(b.net);
	loop_free(l);
	loop_free(l2);
}

/* Handshakes that never finish end at handshake_ms. */
static void
test_handshake_timeout(void)
{
	struct net_limits lim;
	struct loop *l = loop_new();
	struct side a, b;
	uint8_t pre[WIRE_PREAMBLE_LEN];
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	uint64_t start, took;
	int port, r1, r2, lfd;

	net_limits_default(&lim);
	lim.handshake_ms = 200;
	side_init(&a, "a", l);
	net_set_limits(a.net, &lim);
	port = side_listen(&a);

	/* an incoming connection that says nothing, and one that stops after the preamble */
	start = now_ms();
	r1 = raw_connect(port);
	r2 = raw_connect(port);
	wire_preamble(pre, WIRE_CIPHER_CHACHA);
	ok(write(r2, pre, sizeof pre) == (ssize_t)sizeof pre, "a raw peer sends only a preamble");
	ok(RUN_UNTIL(l, a.nclosed == 2, 3000), "both stalled handshakes were dropped");
	took = now_ms() - start;
	is_str(a.reason, "handshake timed out", "because the handshake timed out");
	ok(took >= 150 && took < 2000, "after about handshake_ms (%llu ms)", (unsigned long long)took);
	is_int(a.nest, 0, "nothing was established");
	is_int(net_session_count(a.net), 0, "no sessions remain");
	close(r1);
	close(r2);

	/* an outgoing connection to a socket that accepts nothing */
	side_init(&b, "b", l);
	net_set_limits(b.net, &lim);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	sin = lo_addr(0);
	if (lfd == -1 || bind(lfd, (struct sockaddr *)&sin, sizeof sin) == -1 || listen(lfd, 4) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sl) == -1)
		abort();
	ok(side_connect(&b, ntohs(sin.sin_port), NULL) != NULL, "b connects to a mute listener");
	ok(RUN_UNTIL(l, b.nclosed == 1, 3000), "b gave up");
	is_str(b.reason, "handshake timed out", "because the handshake timed out");
	close(lfd);
	net_free(a.net);
	net_free(b.net);
	loop_free(l);
}

/* Wait until fd is readable or ms pass; return what read() gives (-2 on timeout). */
static ssize_t
raw_read(int fd, void *p, size_t n, int ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };

	if (poll(&pfd, 1, ms) <= 0)
		return -2;
	return read(fd, p, n);
}

/* Bad bytes before and during the handshake end the session with a reason. */
static void
test_bad_input(void)
{
	static const struct {
		const char *what;
		uint8_t     bytes[24];
		size_t      len;
		const char *reason;
	} cases[] = {
		{ "an HTTP request", "GET / HTTP/1.1\r\n\r\n", 18, "not a confab peer (bad preamble)" },
		{ "a preamble offering no cipher", { 'C', 'O', 'N', 'F', 'A', 'B', 1, 0 }, 8,
		  "no cipher in common" },
		{ "a handshake frame of 65535 bytes",
		  { 'C', 'O', 'N', 'F', 'A', 'B', 1, 1, 0xff, 0xff }, 10, "oversized handshake message" },
		{ "a handshake frame of 257 bytes",
		  { 'C', 'O', 'N', 'F', 'A', 'B', 1, 1, 0x01, 0x01 }, 10, "oversized handshake message" },
		{ "an empty handshake frame",
		  { 'C', 'O', 'N', 'F', 'A', 'B', 1, 1, 0x00, 0x00 }, 10, "oversized handshake message" },
		{ "a 10-byte first handshake message",
		  { 'C', 'O', 'N', 'F', 'A', 'B', 1, 1, 0x00, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, 20,
		  "handshake failed" },
	};
	struct loop *l = loop_new();
	struct side a;
	uint8_t got[64];
	size_t i;
	int port, fd;
	ssize_t r;

	side_init(&a, "a", l);
	port = side_listen(&a);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int before = a.nclosed;

		fd = raw_connect(port);
		if (write(fd, cases[i].bytes, cases[i].len) != (ssize_t)cases[i].len)
			abort();
		ok(RUN_UNTIL(l, a.nclosed == before + 1, 3000), "%s ends the session", cases[i].what);
		is_str(a.reason, cases[i].reason, "with the reason expected for %s", cases[i].what);
		/* the raw peer gets our preamble, then the connection closes */
		r = raw_read(fd, got, sizeof got, 1000);
		ok(r >= WIRE_PREAMBLE_LEN && memcmp(got, "CONFAB", 6) == 0, "it got our preamble first");
		do
			r = raw_read(fd, got, sizeof got, 1000);
		while (r > 0);
		ok(r == 0 || (r == -1 && errno == ECONNRESET), "then the connection was closed");
		close(fd);
	}
	is_int(a.nest, 0, "nothing was established");
	net_free(a.net);
	loop_free(l);
}

/* Handshakes in progress are limited per remote address. */
static void
test_pending_limit(void)
{
	struct net_limits lim;
	struct loop *l = loop_new();
	struct side a;
	uint8_t got[16];
	int port, fds[4], i, open_ = 0, shut = 0;
	ssize_t r;

	net_limits_default(&lim);
	lim.max_pending_per_ip = 2;
	side_init(&a, "a", l);
	net_set_limits(a.net, &lim);
	port = side_listen(&a);
	for (i = 0; i < 4; i++)
		fds[i] = raw_connect(port);
	RUN_UNTIL(l, 0, 100);
	is_int(net_session_count(a.net), 2, "only 2 of 4 handshakes from one address were kept");
	for (i = 0; i < 4; i++) {
		r = raw_read(fds[i], got, sizeof got, 500);
		if (r >= WIRE_PREAMBLE_LEN && memcmp(got, "CONFAB", 6) == 0)
			open_++;
		else if (r == 0 || r == -1)
			shut++;
		close(fds[i]);
	}
	is_int(open_, 2, "2 raw peers got a preamble");
	is_int(shut, 2, "2 were closed at once");
	RUN_UNTIL(l, net_session_count(a.net) == 0, 2000);
	is_int(net_session_count(a.net), 0, "the kept ones went away when the peers closed");
	net_free(a.net);
	loop_free(l);
}

/* The control queue has a hard size; bad records are refused. */
static void
test_send_limits(void)
{
	struct net_limits lim;
	struct loop *l = loop_new();
	struct side a, b;
	uint8_t *big = calloc(1, WIRE_RECORD_MAX + 1);
	int port;

	net_limits_default(&lim);
	lim.sendq_max = 1024;
	side_init(&a, "a", l);
	side_init(&b, "b", l);
	net_set_limits(b.net, &lim);
	port = side_listen(&a);
	side_connect(&b, port, a.pub);
	ok(RUN_UNTIL(l, a.nest && b.nest, 5000), "established with a 1024-byte send queue on b");
	if (b.s == NULL) {
		ok(0, "no session");
		goto out;
	}
	big[0] = REC_MSG;
	is_int(session_send(b.s, big, 0), -1, "an empty record is refused");
	is_int(session_send(b.s, big, WIRE_RECORD_MAX + 1), -1, "a record over WIRE_RECORD_MAX is refused");
	is_int(send_msg(b.s, 'M', 0, (const char *)big + 1, 10), 0, "a small record is queued");
	is_int(session_pending(b.s), 2 + 37, "pending counts its length prefix and bytes");
	is_int(session_send(b.s, big, 1000), -1, "a record that overflows the queue is refused");
	is_int(session_pending(b.s), 2 + 37, "and left nothing behind");
	is_int(send_msg(b.s, 'M', 1, (const char *)big + 1, 10), 0, "another small one still fits");
	ok(RUN_UNTIL(l, a.nmsg == 2, 5000), "both arrive");
	is_int(a.nmsg_bad, 0, "in order (nothing from the refused record slipped in)");
	RUN_UNTIL(l, session_pending(b.s) == 0, 1000);
	is_int(session_send(b.s, big, 1000), 0, "with the queue drained a 1000-byte record fits");
	{
		struct session *s = b.s;   /* valid until the end of the loop turn */

		session_close(s, BYE_QUIT, NULL);
		is_int(session_state(s), SS_CLOSED, "session_close closes at once");
		is_int(session_send(s, big, 10), -1, "a closed session takes no records");
	}
out:
	free(big);
	net_free(a.net);
	net_free(b.net);
	loop_free(l);
}

/* The bulk source fills the pipe; control records still get through. */
static void
test_bulk(void)
{
	struct loop *l = loop_new();
	struct side a, b;
	uint64_t end;
	int port, nctrl = 0;

	side_init(&a, "a", l);
	side_init(&b, "b", l);
	port = side_listen(&a);
	side_connect(&b, port, a.pub);
	ok(RUN_UNTIL(l, a.nest && b.nest, 5000), "established");
	if (b.s == NULL) {
		ok(0, "no session");
		goto out;
	}
	b.bulk_total = NBULK;
	session_want_bulk(b.s);
	/* queue a few control records every turn while the bulk data flows */
	end = now_ms() + 5000;
	while ((a.nbulk < NBULK || a.nctrl < nctrl) && now_ms() < end && b.s != NULL) {
		if (b.bulk_made < NBULK && nctrl < NCTRL_MAX) {
			send_msg(b.s, 'C', (uint64_t)nctrl, "ctrl", 4);
			nctrl++;
		}
		loop_once(l, 10);
	}
	is_int(a.nbulk, NBULK, "all %d bulk records arrived", NBULK);
	is_int(a.nbulk_bad, 0, "in order and intact");
	is_int(b.bulk_made, NBULK, "the source made exactly %d", NBULK);
	ok(b.bulk_idle >= 1, "and was told to stop when it ran dry");
	ok(nctrl > 1, "%d control records were queued during the transfer", nctrl);
	is_int(a.nctrl, nctrl, "all control records arrived");
	is_int(a.nctrl_bad, 0, "in order");
	ok(a.ctrl_mid > 0, "%d of them between bulk records", a.ctrl_mid);
	is_int(a.nclosed + b.nclosed, 0, "nobody closed");

	/* the source has more again */
	b.bulk_total = NBULK + 10;
	session_want_bulk(b.s);
	ok(RUN_UNTIL(l, a.nbulk == NBULK + 10, 5000), "session_want_bulk restarts the flow");
	is_int(a.nbulk_bad, 0, "still in order");
out:
	net_free(a.net);
	net_free(b.net);
	loop_free(l);
}

/* net_adopt runs sessions over sockets made elsewhere (a socketpair here). */
static void
test_adopt(void)
{
	struct loop *l = loop_new();
	struct side a, b;
	int sv[2];

	side_init(&a, "a", l);
	side_init(&b, "b", l);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	ok(net_adopt(a.net, sv[0], 0) != NULL, "a adopts one end as responder");
	ok(net_adopt(b.net, sv[1], 1) != NULL, "b adopts the other as initiator");
	ok(RUN_UNTIL(l, a.nest && b.nest, 5000), "the handshake completes over the socketpair");
	is_mem(a.peer_pk, b.pub, NOISE_DHLEN, "a sees b's key");
	is_mem(b.peer_pk, a.pub, NOISE_DHLEN, "b sees a's key");
	if (b.s != NULL)
		send_msg(b.s, 'M', 0, "0123456789", 10);
	ok(RUN_UNTIL(l, a.nmsg == 1, 5000), "a record gets through");
	is_str(a.s ? session_addr(a.s) : NULL, "?", "an address-less peer is shown as \"?\"");
	net_free(a.net);
	net_free(b.net);
	loop_free(l);
}

int
main(void)
{
	uint64_t start = now_ms();

	if (getenv("UNIT_SESSION_LOG") != NULL)
		log_stream(stderr, LOG_DEBUG);
	if (noise_global_init() != 0)
		return 1;
	test_pair();
	test_expect_mismatch();
	test_self();
	test_refuse();
	test_ciphers();
	test_keepalive();
	test_handshake_timeout();
	test_bad_input();
	test_pending_limit();
	test_send_limits();
	test_bulk();
	test_adopt();
	printf("# took %llu ms\n", (unsigned long long)(now_ms() - start));
	return tap_done();
}
