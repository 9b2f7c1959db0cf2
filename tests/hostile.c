/* hostile.c - a test peer that speaks confab's protocol and misbehaves on purpose. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sodium.h>

#include "noise.h"
#include "roomwire.h"
#include "sock.h"
#include "wire.h"

/*
 * usage: hostile MODE HOST:PORT [ARG...]
 * Prints one line saying how the victim reacted:
 *   "closed"   the victim closed the connection (what we want for bad input)
 *   "open"     the connection was still open when we gave up waiting
 *   "error ..." something went wrong on our side
 * Modes are listed in usage() below.
 */

struct conn {
	int             fd;
	struct noise_cs tx, rx;
	uint8_t         priv[32], pub[32];
	uint8_t         peer[32];      /* the other side's static key, once the handshake read it */
};

/* Print usage and exit. */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: hostile MODE HOST:PORT [ARG...]\n"
	    "modes: garbage | bad-preamble | oversize-hs | truncated-hs | stall SECS |\n"
	    "       oversize-frame | badauth | malformed | replay | unknown-then-msg TEXT |\n"
	    "       chat NICK TEXT... | resend TEXT | flood N SECS | churn N | no-hello |\n"
	    "       offer NAME[:SIZE]... | offer-total N | lie-size | lie-offset | short-file |\n"
	    "       offer-flood N | silent SECS | stall-msg1 SECS | idle-flood N SECS NSRC |\n"
	    "       msg-flood N [SIZE] | reorder | open-flood N SECS NSRC | strangers N [TEXT] |\n"
	    "       impostor NICK SECS |\n"
	    "       offer-fat N NAMES LEN bad|hold SECS | offer-dirs N SECS |\n"
	    "       offer-stall N SECS [SRCADDR] | offer-again N SECS | offer-ids HEX N SECS |\n"
	    "       room-relay LOGFILE forged|replay  (a member's rooms/ID.log, relayed)\n"
	    "       room-invites N  (N rooms of ours, each with an INVITE of the victim)\n"
	    "       room-say ROOMHEX SEQ LAMPORT TEXT  (a room message signed with our key: with\n"
	    "       HOSTILE_PRIV a member's, e.g. to equivocate)\n"
	    "       room-flood ROOMHEX N SIZE live|replay|forged  (as a member: HOSTILE_PRIV its key)\n"
	    "       hostile proto CASE HOST:PORT [ARG...]  (conformance cases of tests/t_protocol.sh)\n"
	    "       hostile listen-stall silent|preamble|msg1|msg2 HOST:PORT SECS  (a stalling responder;\n"
	    "       msg2: a real msg2 with our key, then \"msg3\", \"closed\" or \"open\")\n"
	    "environment: HOSTILE_KEY=WORDS  derive the static key from WORDS (the same peer every run)\n"
	    "             HOSTILE_PRIV=HEX   use this private key (e.g. the victim's own)\n");
	exit(2);
}

/*
 * Our static key: HOSTILE_PRIV (64 hex digits, e.g. the victim's own key
 * from its identity file), else derived from HOSTILE_KEY's words (the same
 * peer every run), else a fresh one.
 */
static void
hostile_key(uint8_t priv[32], uint8_t pub[32])
{
	const char *w = getenv("HOSTILE_KEY"), *hex = getenv("HOSTILE_PRIV");
	size_t len;

	if (hex != NULL && sodium_hex2bin(priv, 32, hex, strlen(hex), NULL, &len, NULL) == 0 &&
	    len == 32)
		crypto_scalarmult_base(pub, priv);
	else if (w != NULL && *w != '\0') {
		crypto_generichash(priv, 32, (const uint8_t *)w, strlen(w), NULL, 0);
		crypto_scalarmult_base(pub, priv);
	} else
		noise_keypair(priv, pub);
}

/* The source address dial binds to (offer-stall SRCADDR), or NULL. */
static const char *src_bind;

/* Connect with a blocking socket. */
static int
dial(const char *target)
{
	struct sockaddr_storage ss, src;
	socklen_t len, srclen;
	int fd;

	if (sock_parse(target, 7470, &ss, &len) == -1 ||
	    (src_bind != NULL && sock_parse(src_bind, 0, &src, &srclen) == -1)) {
		printf("error bad address\n");
		exit(1);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1 ||
	    (src_bind != NULL && bind(fd, (struct sockaddr *)&src, srclen) == -1) ||
	    connect(fd, (struct sockaddr *)&ss, len) == -1) {
		printf("error connect: %s\n", strerror(errno));
		exit(1);
	}
	return fd;
}

/* Write everything or die. */
static int
put(int fd, const void *p, size_t n)
{
	const uint8_t *q = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, q, n)) <= 0)
			return -1;
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read exactly n bytes; -1 on EOF or error. */
static int
get(int fd, void *p, size_t n)
{
	uint8_t *q = p;
	ssize_t r;

	while (n > 0) {
		if ((r = read(fd, q, n)) <= 0)
			return -1;
		q += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Read one frame. */
static int
get_frame(int fd, uint8_t *body, size_t max, size_t *len)
{
	uint8_t h[2];

	if (get(fd, h, 2) == -1)
		return -1;
	*len = (size_t)h[0] << 8 | h[1];
	if (*len > max)
		return -1;
	return get(fd, body, *len);
}

/* Send one frame. */
static int
put_frame(int fd, const uint8_t *body, size_t len)
{
	uint8_t h[2] = { (uint8_t)(len >> 8), (uint8_t)len };

	if (put(fd, h, 2) == -1)
		return -1;
	return put(fd, body, len);
}

/* Wait up to secs for the victim to close; print the verdict. */
static int
verdict(int fd, int secs)
{
	struct pollfd p = { fd, POLLIN, 0 };
	uint8_t junk[4096];
	int waited = 0;

	while (waited < secs * 10) {
		if (poll(&p, 1, 100) == 1) {
			ssize_t r = read(fd, junk, sizeof junk);

			if (r <= 0) {
				printf("closed\n");
				return 0;
			}
			continue;   /* ignore what it says (BYE, PONG, ...) */
		}
		waited++;
	}
	printf("open\n");
	return 1;
}

/*
 * Run an XX handshake as initiator (with a fresh key unless c has one).  With
 * upto_msg2 set, stop once the responder's msg2 is in: msg3 is never sent.
 */
static int
handshake_steps(struct conn *c, const char *target, int upto_msg2)
{
	uint8_t mine[8], theirs[8], prologue[8 + 16], msg[512], pl[512];
	struct noise_hs hs;
	size_t n, pn;
	const char *proto;

	if (target != NULL)
		c->fd = dial(target);   /* else c->fd is connected already */
	if (sodium_is_zero(c->pub, sizeof c->pub))
		noise_keypair(c->priv, c->pub);
	wire_preamble(mine, WIRE_CIPHER_CHACHA);
	if (put(c->fd, mine, 8) == -1 || get(c->fd, theirs, 8) == -1)
		return -1;
	proto = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
	memcpy(prologue, "confab/1", 8);
	memcpy(prologue + 8, mine, 8);
	memcpy(prologue + 16, theirs, 8);
	if (noise_hs_init(&hs, proto, 1, prologue, sizeof prologue, c->priv, NULL, NULL, NULL) != 0 ||
	    noise_hs_write(&hs, NULL, 0, msg, sizeof msg, &n) != 0 || put_frame(c->fd, msg, n) == -1 ||
	    get_frame(c->fd, msg, sizeof msg, &n) == -1 ||
	    noise_hs_read(&hs, msg, n, pl, sizeof pl, &pn) != 0)
		return -1;
	memcpy(c->peer, hs.rs, sizeof c->peer);
	if (upto_msg2)
		return 0;
	if (noise_hs_write(&hs, NULL, 0, msg, sizeof msg, &n) != 0 || put_frame(c->fd, msg, n) == -1 ||
	    noise_hs_split(&hs, &c->tx, &c->rx) != 0)
		return -1;
	return 0;
}

/* A complete handshake as initiator. */
static int
handshake(struct conn *c, const char *target)
{
	return handshake_steps(c, target, 0);
}

/* Encrypt and send one record. */
static int
send_rec(struct conn *c, const struct buf *rec, uint8_t *sent, size_t *sentlen)
{
	uint8_t ct[WIRE_FRAME_MAX];
	size_t n = buf_len(rec) + NOISE_TAGLEN;

	if (noise_cs_encrypt(&c->tx, NULL, 0, buf_ptr(rec), buf_len(rec), ct) != 0)
		return -1;
	if (sent != NULL) {
		memcpy(sent, ct, n);
		*sentlen = n;
	}
	return put_frame(c->fd, ct, n);
}

/* Read and decrypt one record (skipping PING, answering nothing); returns its type or -1. */
static int
recv_rec(struct conn *c, uint8_t *pt, size_t *ptlen, int secs)
{
	uint8_t ct[WIRE_FRAME_MAX];
	struct pollfd p = { c->fd, POLLIN, 0 };
	size_t n;

	for (;;) {
		if (poll(&p, 1, secs * 1000) != 1)
			return -1;
		if (get_frame(c->fd, ct, sizeof ct, &n) == -1 || n < NOISE_TAGLEN + 1)
			return -1;
		if (noise_cs_decrypt(&c->rx, NULL, 0, ct, n, pt) != 0)
			return -1;
		*ptlen = n - NOISE_TAGLEN;
		if (pt[0] != REC_PING && pt[0] != REC_PONG && pt[0] != REC_HELLO)
			return pt[0];
	}
}

/* Wait for a CANCEL or ACCEPT (or XFER_RESULT); print what came. */
static int
await_answer(struct conn *c, int secs)
{
	uint8_t pt[WIRE_FRAME_MAX];
	struct record r;
	size_t n;
	int t;

	while ((t = recv_rec(c, pt, &n, secs)) != -1) {
		if (wire_decode(pt, n, &r) != WIRE_OK)
			continue;
		if (t == REC_CANCEL) {
			printf("cancelled %u %.*s\n", r.u.result.code, (int)r.u.result.text_len, r.u.result.text);
			return REC_CANCEL;
		}
		if (t == REC_ACCEPT) {
			printf("accepted\n");
			return REC_ACCEPT;
		}
		if (t == REC_XFER_RESULT) {
			printf("result %u\n", r.u.result.code);
			return REC_XFER_RESULT;
		}
	}
	printf("no answer\n");
	return -1;
}

/* Offer files named by argv entries "NAME" (1 byte each; "NAME:SIZE" sets the size, "NAME/" a dir). */
static int
send_offer(struct conn *c, uint32_t handle, char **names, int n, uint64_t total_override)
{
	uint8_t id[WIRE_ID_LEN], key[XFER_KEY_LEN];
	uint64_t total = 0;
	struct buf b;
	int i;

	randombytes_buf(id, sizeof id);
	randombytes_buf(key, sizeof key);
	for (i = 0; i < n; i++) {
		char *colon = strrchr(names[i], ':');

		if (names[i][strlen(names[i]) - 1] != '/')
			total += colon ? strtoull(colon + 1, NULL, 10) : 1;
	}
	buf_init(&b, WIRE_RECORD_MAX);
	wire_put_offer(&b, id, handle, (uint32_t)n, total_override ? total_override : total, key);
	send_rec(c, &b, NULL, NULL);
	buf_reset(&b);
	wire_begin_list(&b, REC_OFFER_PART, handle, 0);
	for (i = 0; i < n; i++) {
		char name[8192], *colon;
		uint64_t size = 1;
		int dir = 0;
		size_t len;

		snprintf(name, sizeof name, "%s", names[i]);
		if ((colon = strrchr(name, ':')) != NULL) {
			size = strtoull(colon + 1, NULL, 10);
			*colon = '\0';
		}
		len = strlen(name);
		if (len > 1 && name[len - 1] == '/') {
			name[--len] = '\0';
			dir = 1;
			size = 0;
		}
		/* "%00" in a name stands for a NUL byte */
		{
			char *q;

			while ((q = strstr(name, "%00")) != NULL) {
				*q = '\0';
				memmove(q + 1, q + 3, strlen(q + 3) + 1);
				len -= 2;
			}
		}
		wire_put_entry(&b, name, len, (uint8_t)dir, size, 1500000000000000000LL, 0644);
	}
	wire_end_list(&b, (uint16_t)n);
	send_rec(c, &b, NULL, NULL);
	buf_free(&b);
	return 0;
}

/* Send one DATA record. */
static int
send_data(struct conn *c, uint32_t handle, uint32_t index, uint64_t off, size_t len)
{
	uint8_t junk[4096];
	struct buf b;
	int rc;

	memset(junk, 'x', sizeof junk);
	buf_init(&b, WIRE_RECORD_MAX);
	wire_put_data_hdr(&b, handle, index, off);
	buf_put(&b, junk, len > sizeof junk ? sizeof junk : len);
	rc = send_rec(c, &b, NULL, NULL);
	buf_free(&b);
	return rc;
}

/* Send HELLO with a nick. */
static int
send_hello(struct conn *c, const char *nick)
{
	struct buf b;
	int rc;

	buf_init(&b, 1024);
	rc = wire_put_hello(&b, CAP_MSG, nick, strlen(nick), 0);
	if (rc == 0)
		rc = send_rec(c, &b, NULL, NULL);
	buf_free(&b);
	return rc;
}

/* Send one chat message with a given id (NULL: a fresh one). */
static int
send_msg_id(struct conn *c, const uint8_t *fixed, const char *text, uint8_t *sent, size_t *sentlen)
{
	uint8_t id[WIRE_ID_LEN];
	struct buf b;
	int rc;

	if (fixed != NULL)
		memcpy(id, fixed, sizeof id);
	else
		randombytes_buf(id, sizeof id);
	buf_init(&b, WIRE_RECORD_MAX);
	rc = wire_put_msg(&b, id, 0, text, strlen(text));
	if (rc == 0)
		rc = send_rec(c, &b, sent, sentlen);
	buf_free(&b);
	return rc;
}

/* Send one chat message with a fresh id. */
static int
send_msg(struct conn *c, const char *text, uint8_t *sent, size_t *sentlen)
{
	return send_msg_id(c, NULL, text, sent, sentlen);
}

/* Milliseconds on a monotonic clock. */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to secs for the other side to close fd; print when it did. */
static int
closed_after(int fd, long long t0, int secs)
{
	struct pollfd p = { fd, POLLIN, 0 };
	uint8_t junk[4096];
	ssize_t r;

	while (now_ms() - t0 < (long long)secs * 1000) {
		if (poll(&p, 1, 100) != 1)
			continue;
		if ((r = read(fd, junk, sizeof junk)) <= 0) {
			printf("closed after %.1f s\n", (double)(now_ms() - t0) / 1000.0);
			return 0;
		}
	}
	printf("open\n");
	return 1;
}

static int respond_msg2(int, const uint8_t[8], const uint8_t[8], uint8_t *, size_t, int);

/*
 * A responder that stalls: listen on target (port 0: any free one), print
 * "listening ADDR", accept one connection and play the responder up to step
 * ("silent": not even a preamble; "preamble": preambles exchanged; "msg1":
 * msg1 read, msg2 never sent), then wait for the caller to give up.
 */
static int
listen_stall(const char *target, const char *step, int secs)
{
	struct sockaddr_storage ss;
	struct pollfd p;
	socklen_t len;
	uint8_t pre[8], theirs[8], msg[WIRE_FRAME_MAX];
	char addr[SOCK_ADDRSTRLEN];
	long long t0;
	size_t n;
	int lfd, fd, one = 1;

	if (sock_parse(target, 0, &ss, &len) == -1 ||
	    (lfd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    bind(lfd, (struct sockaddr *)&ss, len) == -1 || listen(lfd, 4) == -1) {
		printf("error listen: %s\n", strerror(errno));
		return 1;
	}
	len = sizeof ss;
	getsockname(lfd, (struct sockaddr *)&ss, &len);
	sock_format((struct sockaddr *)&ss, addr, sizeof addr);
	printf("listening %s\n", addr);
	p.fd = lfd;
	p.events = POLLIN;
	if (poll(&p, 1, 30000) != 1 || (fd = accept(lfd, NULL, NULL)) == -1) {
		printf("error nobody connected\n");
		return 1;
	}
	t0 = now_ms();
	if (strcmp(step, "preamble") == 0 || strcmp(step, "msg1") == 0 || strcmp(step, "msg2") == 0) {
		wire_preamble(pre, WIRE_CIPHER_CHACHA);
		if (put(fd, pre, 8) == -1 || get(fd, theirs, 8) == -1) {
			printf("error preamble\n");
			return 1;
		}
	}
	if ((strcmp(step, "msg1") == 0 || strcmp(step, "msg2") == 0) &&
	    get_frame(fd, msg, sizeof msg, &n) == -1) {
		printf("error msg1\n");
		return 1;
	}
	if (strcmp(step, "msg2") == 0)
		return respond_msg2(fd, pre, theirs, msg, n, secs);
	return closed_after(fd, t0, secs);
}

/*
 * As the responder, answer msg1 (n bytes in msg) with a genuine msg2 that
 * proves our own (fresh or HOSTILE_KEY) static key, then say what the
 * initiator did: "msg3" if it went on with frame 3, "closed" if it hung up
 * first, "open" if it did neither within secs.
 */
static int
respond_msg2(int fd, const uint8_t mine[8], const uint8_t theirs[8], uint8_t *msg, size_t n, int secs)
{
	uint8_t prologue[8 + 16], pl[512], priv[32], pub[32], out[512];
	struct noise_hs hs;
	struct pollfd p = { fd, POLLIN, 0 };
	size_t pn, on;

	hostile_key(priv, pub);
	memcpy(prologue, "confab/1", 8);
	memcpy(prologue + 8, theirs, 8);   /* the initiator's preamble first */
	memcpy(prologue + 16, mine, 8);
	if (noise_hs_init(&hs, "Noise_XX_25519_ChaChaPoly_BLAKE2b", 0, prologue, sizeof prologue,
	    priv, NULL, NULL, NULL) != 0 || noise_hs_read(&hs, msg, n, pl, sizeof pl, &pn) != 0 ||
	    noise_hs_write(&hs, NULL, 0, out, sizeof out, &on) != 0 || put_frame(fd, out, on) == -1) {
		printf("error msg2\n");
		return 1;
	}
	if (poll(&p, 1, secs * 1000) != 1) {
		printf("open\n");
		return 0;
	}
	printf(get_frame(fd, msg, WIRE_FRAME_MAX, &n) == 0 ? "msg3\n" : "closed\n");
	return 0;
}

/* Per-connection bookkeeping for idle_flood. */
struct idle {
	long long t_pre;    /* when the victim's preamble came (0: not yet) */
	int       closed;
};

/*
 * One look at every idle connection: note preambles and closes.  A connection
 * the victim closed without a preamble was refused; one it closed after its
 * preamble was admitted and then timed out.
 */
static void
idle_sweep(struct pollfd *pf, struct idle *st, int n, int nsrc, int *counts, int wait)
{
	uint8_t junk[256];
	int k, waiting = 0, *src = counts + 8;
	long long now;

	if (poll(pf, (nfds_t)n, wait) <= 0)
		goto count;
	now = now_ms();
	for (k = 0; k < n; k++) {
		ssize_t r;

		if (pf[k].fd < 0 || pf[k].revents == 0)
			continue;
		while ((r = recv(pf[k].fd, junk, sizeof junk, MSG_DONTWAIT)) > 0)
			if (st[k].t_pre == 0)
				st[k].t_pre = now;
		if (r == 0 || (r == -1 && errno != EAGAIN)) {
			close(pf[k].fd);
			pf[k].fd = -1;
			st[k].closed = 1;
			if (st[k].t_pre == 0) {
				counts[1]++;                        /* refused */
			} else {
				long long w = now - st[k].t_pre;

				counts[3]++;                        /* timed out */
				if (counts[4] == -1 || w < counts[4])
					counts[4] = (int)w;
				if (w > counts[5])
					counts[5] = (int)w;
			}
		}
	}
count:
	memset(src, 0, (size_t)nsrc * sizeof *src);
	for (k = 0; k < n; k++) {
		if (st[k].t_pre != 0 && !st[k].closed) {
			waiting++;
			if (++src[k % nsrc] > counts[6])
				counts[6] = src[k % nsrc];
		}
	}
	if (waiting > counts[2])
		counts[2] = waiting;
}

/*
 * Open n connections from nsrc loopback source addresses (127.0.0.2, .3, ...)
 * and never say a word on them; watch for secs what the victim does.  Prints
 * how many it refused at once, the most it let wait for a handshake at the
 * same time (overall and from one address), and how long those waited before
 * it dropped them.
 */
static int
idle_flood(const char *target, int n, int secs, int nsrc)
{
	struct sockaddr_storage ss;
	struct pollfd *pf;
	struct idle *st;
	struct rlimit rl;
	socklen_t len;
	long long t_end;
	/* opened, refused, most waiting, timed out, min wait, max wait, most from one source */
	int *counts, k, left;

	if (sock_parse(target, 7470, &ss, &len) == -1 || ss.ss_family != AF_INET) {
		printf("error idle-flood needs an IPv4 loopback address\n");
		return 1;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)n + 64 ? rl.rlim_max : (rlim_t)n + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	pf = calloc((size_t)n, sizeof *pf);
	st = calloc((size_t)n, sizeof *st);
	counts = calloc(8 + (size_t)nsrc, sizeof *counts);
	if (pf == NULL || st == NULL || counts == NULL)
		return 1;
	counts[4] = -1;
	for (k = 0; k < n; k++) {
		struct sockaddr_in src = { .sin_family = AF_INET };

		src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(k % nsrc));
		pf[k].events = POLLIN;
		pf[k].fd = socket(AF_INET, SOCK_STREAM, 0);
		if (pf[k].fd == -1 || bind(pf[k].fd, (struct sockaddr *)&src, sizeof src) == -1 ||
		    connect(pf[k].fd, (struct sockaddr *)&ss, len) == -1) {
			if (pf[k].fd != -1)
				close(pf[k].fd);
			pf[k].fd = -1;
			st[k].closed = 1;
			continue;
		}
		counts[0]++;
		idle_sweep(pf, st, k + 1, nsrc, counts, 0);
	}
	t_end = now_ms() + (long long)secs * 1000;
	do {
		idle_sweep(pf, st, n, nsrc, counts, 20);
		for (left = 0, k = 0; k < n; k++)
			left += pf[k].fd >= 0;
	} while (left > 0 && now_ms() < t_end);
	for (k = 0; k < n; k++)
		if (pf[k].fd >= 0)
			close(pf[k].fd);
	printf("opened %d refused %d most-waiting %d most-from-one %d timed-out %d wait-ms %d %d still-open %d\n",
	    counts[0], counts[1], counts[2], counts[6], counts[3], counts[4], counts[5], left);
	free(pf);
	free(st);
	free(counts);
	return 0;
}

/*
 * Send n chat messages as fast as the victim takes them, reading (and
 * dropping) whatever it sends back so that neither side waits on the other.
 */
static int
msg_flood(struct conn *c, int n, size_t size)
{
	uint8_t out[WIRE_FRAME_HDR + WIRE_FRAME_MAX], junk[65536], id[WIRE_ID_LEN];
	size_t have = 0, at = 0;
	long long t0 = now_ms();
	char text[WIRE_TEXT_MAX + 1];
	struct buf b;
	int sent = 0;

	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	buf_init(&b, WIRE_RECORD_MAX);
	while (sent < n || at < have) {
		struct pollfd p = { c->fd, POLLIN | POLLOUT, 0 };
		ssize_t r;

		if (at == have && sent < n) {
			size_t clen;

			int k = snprintf(text, sizeof text, "flood %d", sent + 1);

			/* padded to size bytes with a filler the victim shows as is */
			while ((size_t)k < size && k < WIRE_TEXT_MAX)
				text[k++] = '.';
			text[k] = '\0';
			randombytes_buf(id, sizeof id);
			buf_reset(&b);
			if (wire_put_msg(&b, id, 0, text, strlen(text)) != 0)
				break;
			clen = buf_len(&b) + NOISE_TAGLEN;
			out[0] = (uint8_t)(clen >> 8);
			out[1] = (uint8_t)clen;
			if (noise_cs_encrypt(&c->tx, NULL, 0, buf_ptr(&b), buf_len(&b), out + 2) != 0)
				break;
			have = clen + 2;
			at = 0;
			sent++;
		}
		if (poll(&p, 1, 10000) != 1) {
			printf("error stuck after %d messages\n", sent);
			return 1;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			r = read(c->fd, junk, sizeof junk);
			if (r == 0 || (r == -1 && errno != EAGAIN)) {
				printf("closed after %d messages\n", sent);
				return 1;
			}
		}
		if (p.revents & POLLOUT) {
			r = write(c->fd, out + at, have - at);
			if (r > 0)
				at += (size_t)r;
			else if (r == -1 && errno != EAGAIN) {
				printf("closed after %d messages\n", sent);
				return 1;
			}
		}
	}
	buf_free(&b);
	printf("sent %d in %.1f s\n", sent, (double)(now_ms() - t0) / 1000.0);
	/*
	 * Hang up with a FIN, not a close: a close with unread data here would
	 * send a reset, and a reset throws away what the victim has not read yet.
	 * It reads everything, then closes its end.
	 */
	shutdown(c->fd, SHUT_WR);
	return closed_after(c->fd, now_ms(), 600);
}

/*
 * Complete an XX handshake (fresh key) on a socket connected from source
 * address src, then send HELLO: an authenticated stranger.  -1 if the victim
 * closed or did not answer within 2 s.
 */
static int
open_one(struct conn *c, const struct sockaddr_storage *ss, socklen_t len, uint32_t src)
{
	struct sockaddr_in from = { .sin_family = AF_INET };
	struct timeval tv = { 2, 0 };
	int one = 1;
	uint8_t mine[8], theirs[8], prologue[8 + 16], msg[512], pl[512];
	struct noise_hs hs;
	size_t n, pn;

	from.sin_addr.s_addr = htonl(src);
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* frames go in two writes */
	if (bind(c->fd, (struct sockaddr *)&from, sizeof from) == -1 ||
	    connect(c->fd, (const struct sockaddr *)ss, len) == -1)
		goto fail;
	noise_keypair(c->priv, c->pub);
	wire_preamble(mine, WIRE_CIPHER_CHACHA);
	if (put(c->fd, mine, 8) == -1 || get(c->fd, theirs, 8) == -1)
		goto fail;
	memcpy(prologue, "confab/1", 8);
	memcpy(prologue + 8, mine, 8);
	memcpy(prologue + 16, theirs, 8);
	if (noise_hs_init(&hs, "Noise_XX_25519_ChaChaPoly_BLAKE2b", 1, prologue, sizeof prologue,
	        c->priv, NULL, NULL, NULL) != 0 ||
	    noise_hs_write(&hs, NULL, 0, msg, sizeof msg, &n) != 0 || put_frame(c->fd, msg, n) == -1 ||
	    get_frame(c->fd, msg, sizeof msg, &n) == -1 ||
	    noise_hs_read(&hs, msg, n, pl, sizeof pl, &pn) != 0 ||
	    noise_hs_write(&hs, NULL, 0, msg, sizeof msg, &n) != 0 || put_frame(c->fd, msg, n) == -1 ||
	    noise_hs_split(&hs, &c->tx, &c->rx) != 0 || send_hello(c, "flood") == -1)
		goto fail;
	return 0;
fail:
	close(c->fd);
	c->fd = -1;
	return -1;
}

/* Drain the sessions open_flood holds; count the ones the victim closed. */
static void
open_sweep(struct pollfd *pf, int n, int nsrc, int *per, int *live, int *evicted, int wait)
{
	uint8_t junk[4096];
	ssize_t r;
	int j;

	if (poll(pf, (nfds_t)n, wait) <= 0)
		return;
	for (j = 0; j < n; j++) {
		if (pf[j].fd < 0 || pf[j].revents == 0)
			continue;
		while ((r = recv(pf[j].fd, junk, sizeof junk, MSG_DONTWAIT)) > 0)
			;
		if (r == 0 || (r == -1 && errno != EAGAIN)) {
			close(pf[j].fd);
			pf[j].fd = -1;
			(*evicted)++;
			(*live)--;
			per[j % nsrc]--;
		}
	}
}

/*
 * open-flood N SECS NSRC: open N authenticated sessions (fresh keys, HELLO
 * sent) from NSRC loopback addresses (127.0.0.2, .3, ...), one after the
 * other, and hold them idle until SECS have passed since the start.  Prints
 * how many the victim let open, refused, later closed (evicted), the most
 * held open at once overall and from one address, and how many are still
 * open at the end.
 */
static int
open_flood(const char *target, int n, int secs, int nsrc)
{
	struct sockaddr_storage ss;
	struct pollfd *pf;
	struct conn c;
	struct rlimit rl;
	socklen_t len;
	long long t_end = now_ms() + (long long)secs * 1000;
	int *per, k, live = 0, most = 0, most1 = 0, opened = 0, refused = 0, evicted = 0;

	if (sock_parse(target, 7470, &ss, &len) == -1 || ss.ss_family != AF_INET) {
		printf("error open-flood needs an IPv4 loopback address\n");
		return 1;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)n + 64 ? rl.rlim_max : (rlim_t)n + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	pf = calloc((size_t)n, sizeof *pf);
	per = calloc((size_t)nsrc, sizeof *per);
	if (pf == NULL || per == NULL)
		return 1;
	memset(&c, 0, sizeof c);
	for (k = 0; k < n; k++) {
		pf[k].fd = -1;
		pf[k].events = POLLIN;
		if (open_one(&c, &ss, len, 0x7f000002u + (uint32_t)(k % nsrc)) == -1) {
			refused++;
			poll(NULL, 0, 10);   /* the victim is busy with the last ones: let it */
		} else {
			pf[k].fd = c.fd;
			opened++;
			live++;
			per[k % nsrc]++;
		}
		/* the victim makes room before it answers: what it closed is seen now */
		open_sweep(pf, k + 1, nsrc, per, &live, &evicted, 0);
		if (pf[k].fd >= 0 && per[k % nsrc] > most1)
			most1 = per[k % nsrc];
		if (live > most)
			most = live;
	}
	printf("holding %d\n", live);   /* all tried: the test looks now */
	while (now_ms() < t_end && live > 0)
		open_sweep(pf, n, nsrc, per, &live, &evicted, 50);
	for (k = 0; k < n; k++)
		if (pf[k].fd >= 0)
			close(pf[k].fd);
	printf("opened %d refused %d evicted %d most-open %d most-from-one %d still-open %d\n",
	    opened, refused, evicted, most, most1, live);
	free(pf);
	free(per);
	return 0;
}

/* Wait up to secs for the other side to close fd (reading what it sends); 1 if it did. */
static int
closed_quietly(int fd, int secs)
{
	struct pollfd p = { fd, POLLIN, 0 };
	uint8_t junk[4096];
	long long t0 = now_ms();

	while (now_ms() - t0 < (long long)secs * 1000) {
		if (poll(&p, 1, 100) == 1 && read(fd, junk, sizeof junk) <= 0)
			return 1;
	}
	return 0;
}

/*
 * N handshakes in a row, each with a fresh key, from loopback source addresses
 * 127.0.0.2..51 in turn: HELLO, TEXT as a message if given, then a half-close,
 * and wait (5 s at most) for the victim to close its end.  Prints how many
 * completed and the rate, which is the victim's rate of taking new peers.
 */
static int
strangers(const char *target, int n, const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;
	long long t0 = now_ms();
	int k, ok = 0, failed = 0, one = 1;
	double secs;

	if (sock_parse(target, 7470, &ss, &len) == -1 || ss.ss_family != AF_INET) {
		printf("error strangers needs an IPv4 loopback address\n");
		return 1;
	}
	for (k = 0; k < n; k++) {
		struct sockaddr_in src = { .sin_family = AF_INET };
		struct conn c;

		memset(&c, 0, sizeof c);
		src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(k % 50));
		/* (no Nagle: a frame's header and body go in two writes) */
		if ((c.fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1 ||
		    bind(c.fd, (struct sockaddr *)&src, sizeof src) == -1 ||
		    connect(c.fd, (struct sockaddr *)&ss, len) == -1 ||
		    handshake_steps(&c, NULL, 0) == -1 || send_hello(&c, "stranger") == -1 ||
		    (text != NULL && send_msg(&c, text, NULL, NULL) == -1)) {
			failed++;
		} else {
			shutdown(c.fd, SHUT_WR);
			if (closed_quietly(c.fd, 5))
				ok++;
			else
				failed++;
		}
		if (c.fd != -1)
			close(c.fd);
	}
	secs = (double)(now_ms() - t0) / 1000.0;
	printf("strangers %d failed %d in %.1f s rate %d/s\n", ok, failed, secs,
	    (int)(ok / (secs > 0.001 ? secs : 0.001)));
	return 0;
}

/*
 * impostor: announce nick (any bytes, e.g. another peer's fingerprint), print
 * "ready", then for secs print "got TEXT" for every message the victim sends
 * us (acknowledged, so that it is not resent), and "done" at the end.
 */
static int
impostor(struct conn *c, int secs)
{
	uint8_t pt[WIRE_FRAME_MAX];
	long long end = now_ms() + (long long)secs * 1000;
	struct record r;
	struct buf b;
	size_t n;
	int t;

	printf("ready\n");
	buf_init(&b, 64);
	while (now_ms() < end) {
		struct pollfd p = { c->fd, POLLIN, 0 };

		if (poll(&p, 1, 200) != 1)
			continue;
		if ((t = recv_rec(c, pt, &n, 1)) == -1) {
			uint8_t one;

			if (recv(c->fd, &one, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
				break;   /* the victim hung up */
			continue;    /* a PING and then nothing yet */
		}
		if (t != REC_MSG || wire_decode(pt, n, &r) != WIRE_OK)
			continue;
		printf("got %.*s\n", (int)r.u.msg.text_len, (const char *)r.u.msg.text);
		buf_reset(&b);
		if (wire_put_ack(&b, r.u.msg.id) == BUF_OK)
			send_rec(c, &b, NULL, NULL);
	}
	buf_free(&b);
	printf("done\n");
	return 0;
}

/* ---- big and stalled offers (offer-fat, offer-dirs, offer-stall, offer-again, offer-ids) ---- */

#define FAT_COMP 200   /* bytes in one component of a long offer-fat name */

/*
 * Entry k of a generated offer: "fat" names of about len bytes (a chain of
 * directories of FAT_COMP-byte components first, then files below the last
 * one), "dirs" (a top directory, then its sibling subdirectories) or "one"
 * (a single file "f").  Writes the name into out; returns its length.
 */
static size_t
gen_entry(const char *kind, int k, size_t len, char *out, int *dir)
{
	int depth = len > FAT_COMP + 9 ? (int)((len - 9) / (FAT_COMP + 1)) : 0, i;
	size_t n = 0;

	*dir = 0;
	if (strcmp(kind, "dirs") == 0) {
		*dir = 1;
		return (size_t)(k == 0 ? snprintf(out, 32, "top") : snprintf(out, 32, "top/d%06d", k));
	}
	if (strcmp(kind, "one") == 0)
		return (size_t)snprintf(out, 32, "f");
	/* fat */
	for (i = 0; i < (k < depth ? k + 1 : depth); i++) {
		if (i > 0)
			out[n++] = '/';
		memset(out + n, 'a' + i % 26, FAT_COMP);
		n += FAT_COMP;
	}
	if (k < depth) {
		*dir = 1;
		return n;
	}
	return n + (size_t)snprintf(out + n, 32, "%sf%07d", n > 0 ? "/" : "", k);
}

/*
 * Send an OFFER of count entries (files of 0 bytes) with the given id and
 * handle, then its first n generated entries in as many OFFER_PART records
 * as they need; with bad, one more entry whose name has a control character.
 */
static int
send_gen_offer(struct conn *c, const uint8_t id[WIRE_ID_LEN], uint32_t handle, uint32_t count,
    const char *kind, int n, size_t len, int bad)
{
	uint8_t key[XFER_KEY_LEN];
	char name[XFER_PATH_MAX + 64];
	struct buf b;
	uint16_t inrec = 0;
	int k, dir, rc = 0;
	size_t nl;

	randombytes_buf(key, sizeof key);
	buf_init(&b, WIRE_RECORD_MAX);
	if (wire_put_offer(&b, id, handle, count, 0, key) != BUF_OK || send_rec(c, &b, NULL, NULL) != 0)
		rc = -1;
	for (k = 0; rc == 0 && k < n + (bad ? 1 : 0); k++) {
		if (k < n) {
			nl = gen_entry(kind, k, len, name, &dir);
		} else {
			nl = (size_t)snprintf(name, sizeof name, "bad\001name");
			dir = 0;
		}
		if (inrec == 0) {
			buf_reset(&b);
			wire_begin_list(&b, REC_OFFER_PART, handle, (uint32_t)k);
		}
		if (inrec < UINT16_MAX &&
		    wire_put_entry(&b, name, nl, (uint8_t)dir, 0, 1500000000000000000LL, 0644) == BUF_OK) {
			inrec++;
			continue;
		}
		wire_end_list(&b, inrec);
		if (send_rec(c, &b, NULL, NULL) != 0)
			rc = -1;
		inrec = 0;
		k--;   /* this entry starts the next record */
	}
	if (rc == 0 && inrec > 0) {
		wire_end_list(&b, inrec);
		rc = send_rec(c, &b, NULL, NULL);
	}
	buf_free(&b);
	return rc;
}

/*
 * Print every ACCEPT and CANCEL the victim sends for ms milliseconds, with
 * the handle and the time since t0: "cancelled HANDLE CODE after MS ms TEXT"
 * or "accepted HANDLE after MS ms"; then "closed" or "end".
 */
static int
answers(struct conn *c, long long t0, long long ms)
{
	uint8_t ct[WIRE_FRAME_MAX], pt[WIRE_FRAME_MAX];
	long long end = now_ms() + ms, left;
	struct record r;
	size_t n;

	while ((left = end - now_ms()) > 0) {
		struct pollfd p = { c->fd, POLLIN, 0 };

		if (poll(&p, 1, (int)left) != 1)
			continue;
		if (get_frame(c->fd, ct, sizeof ct, &n) == -1 || n < NOISE_TAGLEN + 1 ||
		    noise_cs_decrypt(&c->rx, NULL, 0, ct, n, pt) != 0) {
			printf("closed\n");
			return 0;
		}
		if (wire_decode(pt, n - NOISE_TAGLEN, &r) != WIRE_OK)
			continue;
		if (r.type == REC_CANCEL)
			printf("cancelled %u %u after %lld ms %.*s\n", r.u.result.handle, r.u.result.code,
			    now_ms() - t0, (int)r.u.result.text_len, r.u.result.text);
		else if (r.type == REC_ACCEPT)
			printf("accepted %u after %lld ms\n", r.u.handle, now_ms() - t0);
	}
	printf("end\n");
	return 0;
}

/*
 * room-relay LOGFILE HOW: relay the room events of a member's log file
 * (u16 length, record, ...) as if passing them on: "replay" sends them as
 * they are (the victim has them: duplicates), "forged" changes a byte of
 * every MSG event's text and moves its seq a million ahead, as if new (the
 * signature no longer holds).  Prints how many
 * it sent; 0 if the session stays open (bad events are not a session error).
 */
static int
room_relay(struct conn *c, const char *file, const char *how)
{
	static uint8_t data[16 * 1024 * 1024];
	size_t len, off = 0, n;
	int sent = 0, forged = strcmp(how, "forged") == 0;
	struct buf b;
	FILE *f;

	if ((f = fopen(file, "rb")) == NULL) {
		printf("error %s\n", file);
		return 1;
	}
	len = fread(data, 1, sizeof data, f);
	fclose(f);
	while (off + 2 <= len) {
		n = (size_t)data[off] << 8 | data[off + 1];
		if (n == 0 || off + 2 + n > len)
			break;
		/* type, room, author, seq, lamport, ts, then the kind: a MSG's text ends 65 bytes from the end */
		if (forged && (n < 1 + 16 + 32 + 24 + 1 + 2 + 64 + 1 || data[off + 2 + 1 + 16 + 32 + 24] != 2)) {
			off += 2 + n;
			continue;
		}
		if (forged) {
			data[off + 2 + n - 64 - 1] ^= 0x01;
			data[off + 2 + 1 + 16 + 32 + 5] ^= 0x0f;   /* seq + 15 << 16 */
		}
		buf_view(&b, data + off + 2, n);
		send_rec(c, &b, NULL, NULL);
		sent++;
		off += 2 + n;
	}
	printf("sent %d\n", sent);
	return verdict(c->fd, 2) == 1 ? 0 : 1;
}

/*
 * room-say ROOMHEX SEQ LAMPORT TEXT: a room MSG event by our identity,
 * signed with the signing key derived from our private key (PROTOCOL.md
 * 13.1): with HOSTILE_PRIV set to a member's key, a message as that member
 * would write it, with the seq and lamport we choose.
 */
static int
room_say(struct conn *c, char **argv)
{
	uint8_t room[ROOM_ID_LEN], ed[ROOM_KEY_LEN], sk[ROOM_SK_LEN];
	size_t len = 0;
	struct buf b;
	int rc;

	if (sodium_hex2bin(room, sizeof room, argv[0], strlen(argv[0]), NULL, &len, NULL) != 0 ||
	    len != sizeof room) {
		printf("error room id\n");
		return 1;
	}
	roomwire_signing_key(c->priv, ed, sk);
	buf_init(&b, ROOM_EV_MAX);
	rc = roomwire_put_event(&b, room, c->pub, strtoull(argv[1], NULL, 10), strtoull(argv[2], NULL, 10),
	    (uint64_t)now_ms(), RK_MSG, argv[3], strlen(argv[3]), sk);
	sodium_memzero(sk, sizeof sk);
	if (rc != BUF_OK) {
		buf_free(&b);
		printf("error event\n");
		return 1;
	}
	send_rec(c, &b, NULL, NULL);
	buf_free(&b);
	printf("sent 1\n");
	return verdict(c->fd, 2) == 1 ? 0 : 1;
}

/* The victim's room signing key and binding, from its HELLO (extension 3); 0, or -1. */
static int
victim_roomkey(struct conn *c, uint8_t ext[ROOM_BIND_EXT_LEN])
{
	uint8_t ct[WIRE_FRAME_MAX], pt[WIRE_FRAME_MAX];
	struct pollfd pf = { c->fd, POLLIN, 0 };
	struct record r;
	size_t n;

	while (poll(&pf, 1, 5000) == 1 && get_frame(c->fd, ct, sizeof ct, &n) == 0 && n > NOISE_TAGLEN) {
		if (noise_cs_decrypt(&c->rx, NULL, 0, ct, n, pt) != 0)
			return -1;
		if (pt[0] != REC_HELLO || wire_decode(pt, n - NOISE_TAGLEN, &r) != WIRE_OK)
			continue;
		if (r.u.hello.roomkey == NULL)
			return -1;
		memcpy(ext, r.u.hello.roomkey, ROOM_BIND_EXT_LEN);
		return 0;
	}
	return -1;
}

/*
 * room-invites N: N rooms created by us (fresh ids), each sent as its
 * CREATE and an INVITE of the victim (with the key and binding of its
 * HELLO), as a peer that spams invitations would.
 */
static int
room_invites(struct conn *c, int n)
{
	uint8_t ext[ROOM_BIND_EXT_LEN], ed[ROOM_KEY_LEN], sk[ROOM_SK_LEN], room[ROOM_ID_LEN];
	struct room_body_member m;
	struct buf body, b;
	char name[32];
	int k, sent = 0;

	if (victim_roomkey(c, ext) != 0) {
		printf("error no room key in the victim's HELLO\n");
		return 1;
	}
	roomwire_signing_key(c->priv, ed, sk);
	buf_init(&body, ROOM_BODY_MAX);
	buf_init(&b, ROOM_EV_MAX);
	for (k = 1; k <= n; k++) {
		randombytes_buf(room, sizeof room);
		memset(&m, 0, sizeof m);
		snprintf(name, sizeof name, "spam%d", k);
		m.name = (const uint8_t *)name;
		m.name_len = strlen(name);
		memcpy(m.ed, ed, ROOM_KEY_LEN);
		roomwire_bind(m.bind, c->pub, sk);
		buf_reset(&body);
		buf_reset(&b);
		if (roomwire_put_body(&body, RK_CREATE, &m) != BUF_OK ||
		    roomwire_put_event(&b, room, c->pub, 1, 1, (uint64_t)now_ms(), RK_CREATE, buf_ptr(&body),
		        buf_len(&body), sk) != BUF_OK || send_rec(c, &b, NULL, NULL) != 0)
			break;
		memcpy(m.x, c->peer, ROOM_KEY_LEN);
		memcpy(m.ed, ext, ROOM_KEY_LEN);
		memcpy(m.bind, ext + ROOM_KEY_LEN, ROOM_SIG_LEN);
		buf_reset(&body);
		buf_reset(&b);
		if (roomwire_put_body(&body, RK_INVITE, &m) != BUF_OK ||
		    roomwire_put_event(&b, room, c->pub, 2, 2, (uint64_t)now_ms(), RK_INVITE, buf_ptr(&body),
		        buf_len(&body), sk) != BUF_OK || send_rec(c, &b, NULL, NULL) != 0)
			break;
		sent++;
	}
	sodium_memzero(sk, sizeof sk);
	buf_free(&body);
	buf_free(&b);
	printf("sent %d\n", sent);
	return verdict(c->fd, 2) == 1 ? 0 : 1;
}

/*
 * The next record of a room flood (room-flood): event k (from 0) of ours,
 * a MSG of size bytes, signed with our room signing key ("live": seq k + 1,
 * each new), the first one again ("replay"), or with a broken signature
 * ("forged").
 */
static int
room_flood_rec(struct buf *b, const uint8_t room[ROOM_ID_LEN], const uint8_t pub[32],
    const uint8_t sk[ROOM_SK_LEN], int k, size_t size, const char *how)
{
	static uint8_t body[ROOM_BODY_MAX];
	uint64_t seq = strcmp(how, "replay") == 0 ? 1 : (uint64_t)k + 1;

	memset(body, 'f', sizeof body);
	snprintf((char *)body, sizeof body, "flood %llu ", (unsigned long long)seq);
	buf_reset(b);
	if (roomwire_put_event(b, room, pub, seq, 1000000 + seq, (uint64_t)time(NULL) * 1000, RK_MSG, body,
	        size > ROOM_BODY_MAX ? ROOM_BODY_MAX : size, sk) != BUF_OK)
		return -1;
	if (strcmp(how, "forged") == 0)
		b->d[b->len - 1] ^= 0x01;   /* the signature's last byte */
	return 0;
}

/*
 * room-flood ROOMHEX N SIZE HOW: N room events as fast as the victim takes
 * them, as a member of the room (HOSTILE_PRIV: its private key, so that the
 * signing key is its own, 13.1).  Prints "sent N in S s", then whether the
 * session stays open.
 */
static int
room_flood(struct conn *c, const char *roomhex, int n, size_t size, const char *how)
{
	uint8_t room[ROOM_ID_LEN], ed[ROOM_KEY_LEN], sk[ROOM_SK_LEN], junk[65536];
	uint8_t out[WIRE_FRAME_HDR + WIRE_FRAME_MAX];
	size_t have = 0, at = 0, len;
	long long t0 = now_ms();
	struct buf b;
	int sent = 0;

	if (sodium_hex2bin(room, sizeof room, roomhex, strlen(roomhex), NULL, &len, NULL) != 0 ||
	    len != sizeof room)
		usage();
	roomwire_signing_key(c->priv, ed, sk);
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	buf_init(&b, WIRE_RECORD_MAX);
	while (sent < n || at < have) {
		struct pollfd p = { c->fd, POLLIN | POLLOUT, 0 };
		ssize_t r;

		if (at == have && sent < n) {
			size_t clen;

			if (room_flood_rec(&b, room, c->pub, sk, sent, size, how) != 0)
				break;
			clen = buf_len(&b) + NOISE_TAGLEN;
			out[0] = (uint8_t)(clen >> 8);
			out[1] = (uint8_t)clen;
			if (noise_cs_encrypt(&c->tx, NULL, 0, buf_ptr(&b), buf_len(&b), out + 2) != 0)
				break;
			have = clen + 2;
			at = 0;
			sent++;
		}
		if (poll(&p, 1, 10000) != 1) {
			printf("error stuck after %d events\n", sent);
			return 1;
		}
		if ((p.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    ((r = read(c->fd, junk, sizeof junk)) == 0 || (r == -1 && errno != EAGAIN))) {
			printf("closed after %d events\n", sent);
			return 1;
		}
		if ((p.revents & POLLOUT) && (r = write(c->fd, out + at, have - at)) > 0)
			at += (size_t)r;
	}
	buf_free(&b);
	sodium_memzero(sk, sizeof sk);
	printf("sent %d in %.1f s\n", sent, (double)(now_ms() - t0) / 1000.0);
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
	return verdict(c->fd, 2) == 1 ? 0 : 1;
}

/* The offer modes that need a finished handshake; -1 if mode is none of them. */
static int
offer_modes(struct conn *c, const char *mode, int argc, char **argv)
{
	uint8_t id[WIRE_ID_LEN], first[WIRE_ID_LEN];
	long long t0 = now_ms();
	int n, k;

	if (strcmp(mode, "offer-fat") == 0) {
		/* N offers of NAMES long names (and a bad one, or held for SECS) */
		int names, bad, secs = 0;
		size_t len;

		if (argc < 7)
			usage();
		n = atoi(argv[3]);
		names = atoi(argv[4]);
		len = (size_t)atoi(argv[5]);
		bad = strcmp(argv[6], "bad") == 0;
		if (!bad && argc > 7)
			secs = atoi(argv[7]);
		for (k = 1; k <= n; k++) {
			randombytes_buf(id, sizeof id);
			if (send_gen_offer(c, id, (uint32_t)k, (uint32_t)(names + bad), "fat", names, len, bad) != 0) {
				printf("closed while sending offer %d\n", k);
				return 0;
			}
			if (bad && await_answer(c, 60) == -1)
				return 1;
		}
		printf("sent %d offers in %lld ms\n", n, now_ms() - t0);
		return bad ? 0 : answers(c, t0, (long long)secs * 1000);
	}
	if (strcmp(mode, "offer-dirs") == 0) {
		/* one offer: a directory and N-1 sibling subdirectories; held for SECS */
		if (argc < 5)
			usage();
		n = atoi(argv[3]);
		randombytes_buf(id, sizeof id);
		if (send_gen_offer(c, id, 1, (uint32_t)n, "dirs", n, 0, 0) != 0) {
			printf("closed while sending\n");
			return 0;
		}
		printf("sent %d entries in %lld ms\n", n, now_ms() - t0);
		return answers(c, t0, atoll(argv[4]) * 1000);
	}
	if (strcmp(mode, "offer-stall") == 0) {
		/* N offers of 5 entries whose entries never come; answers for SECS */
		if (argc < 5)
			usage();
		n = atoi(argv[3]);
		for (k = 1; k <= n; k++) {
			randombytes_buf(id, sizeof id);
			send_gen_offer(c, id, (uint32_t)k, 5, "one", 0, 0, 0);
		}
		printf("sent %d stalled offers\n", n);
		return answers(c, t0, atoll(argv[4]) * 1000);
	}
	if (strcmp(mode, "offer-again") == 0) {
		/* N complete offers, then the first one again (same id and handle) */
		if (argc < 5)
			usage();
		n = atoi(argv[3]);
		for (k = 1; k <= n; k++) {
			randombytes_buf(id, sizeof id);
			if (k == 1)
				memcpy(first, id, sizeof id);
			send_gen_offer(c, id, (uint32_t)k, 1, "one", 1, 0, 0);
		}
		usleep(300000);
		send_gen_offer(c, first, 1, 1, "one", 1, 0, 0);
		printf("sent %d offers and the first again\n", n);
		for (k = 0; k < WIRE_ID_LEN; k++)
			printf("%s%02x", k == 0 ? "first " : "", first[k]);
		printf("\n");
		return answers(c, t0, atoll(argv[4]) * 1000);
	}
	if (strcmp(mode, "offer-ids") == 0) {
		/* N complete offers whose ids all start with the hex digits HEX */
		size_t hl;

		if (argc < 6)
			usage();
		n = atoi(argv[4]);
		for (k = 1; k <= n; k++) {
			randombytes_buf(id, sizeof id);
			if (sodium_hex2bin(id, sizeof id, argv[3], strlen(argv[3]), NULL, &hl, NULL) != 0) {
				printf("error bad hex\n");
				return 1;
			}
			send_gen_offer(c, id, (uint32_t)k, 1, "one", 1, 0, 0);
		}
		printf("sent %d offers\n", n);
		return answers(c, t0, atoll(argv[5]) * 1000);
	}
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Conformance cases for tests/t_protocol.sh: "hostile proto CASE HOST:PORT".  */

/* A payload for our handshake messages (hs-payload: version 1 peers ignore it). */
static const char *proto_payload = "";

/*
 * A handshake as initiator (listening: as responder on fd) with our preamble
 * carrying version ver and cipher flags; prints "flags 0xNN" (the victim's).
 * Returns 0 when open, 1 when the victim closed before the end, -1 on error.
 */
static int
proto_hs(struct conn *c, int fd, int initiator, uint8_t ver, uint8_t flags)
{
	uint8_t mine[8], theirs[8], prologue[8 + 16], msg[512], pl[512], common;
	struct noise_hs hs;
	size_t n, pn;
	const char *proto;
	int step;

	c->fd = fd;
	noise_keypair(c->priv, c->pub);
	wire_preamble(mine, flags);
	mine[6] = ver;
	if (put(fd, mine, 8) == -1 || get(fd, theirs, 8) == -1)
		return 1;
	printf("flags 0x%02x version %u\n", theirs[7], theirs[6]);
	common = flags & theirs[7];
	proto = common & WIRE_CIPHER_AESGCM ? "Noise_XX_25519_AESGCM_BLAKE2b" :
	    common & WIRE_CIPHER_CHACHA ? "Noise_XX_25519_ChaChaPoly_BLAKE2b" : NULL;
	if (proto == NULL)
		return verdict(fd, 3) == 0 ? 1 : -1;
	memcpy(prologue, "confab/1", 8);
	memcpy(prologue + 8, initiator ? mine : theirs, 8);
	memcpy(prologue + 16, initiator ? theirs : mine, 8);
	if (noise_hs_init(&hs, proto, initiator, prologue, sizeof prologue, c->priv,
	    NULL, NULL, NULL) != 0)
		return -1;
	for (step = 0; step < 3; step++) {
		if ((step % 2 == 0) == (initiator != 0)) {
			if (noise_hs_write(&hs, (const uint8_t *)proto_payload, strlen(proto_payload),
			    msg, sizeof msg, &n) != 0)
				return -1;
			if (put_frame(fd, msg, n) == -1)
				return 1;   /* the victim hung up first */
		} else if (get_frame(fd, msg, sizeof msg, &n) == -1) {
			return 1;
		} else if (noise_hs_read(&hs, msg, n, pl, sizeof pl, &pn) != 0) {
			return -1;
		}
	}
	if (noise_hs_split(&hs, &c->tx, &c->rx) != 0)   /* it knows our role */
		return -1;
	printf("cipher %s\n", common & WIRE_CIPHER_AESGCM ? "AESGCM" : "ChaChaPoly");
	return 0;
}

/* Send a record given as bytes. */
static int
proto_send(struct conn *c, const void *p, size_t n)
{
	struct buf b;
	int rc;

	buf_init(&b, n + 1);
	buf_put(&b, p, n);
	rc = send_rec(c, &b, NULL, NULL);
	buf_free(&b);
	return rc;
}

/* Send HELLO with these fields and extension bytes. */
static int
proto_hello(struct conn *c, uint16_t ver, uint32_t caps, const char *nick, const void *ext, size_t extlen)
{
	struct buf b;
	int rc;

	buf_init(&b, 1024);
	buf_put_u8(&b, REC_HELLO);
	buf_put_u16(&b, ver);
	buf_put_u32(&b, caps);
	buf_put_str8(&b, nick, strlen(nick));
	if (extlen > 0)
		buf_put(&b, ext, extlen);
	rc = send_rec(c, &b, NULL, NULL);
	buf_free(&b);
	return rc;
}

/*
 * Read records for up to secs: print "bye R" for a BYE, "cancelled R DIR" for
 * a CANCEL (wanted: stop there), "acked" for an ACK, "accepted", "offered",
 * "file_end S", "done"; stop at the first record whose type is in stop.
 * Returns the type it stopped at, 0 on close, -1 on timeout.
 */
static int
proto_until(struct conn *c, int secs, const char *stop)
{
	uint8_t pt[WIRE_FRAME_MAX], ct[WIRE_FRAME_MAX + 2];
	struct pollfd p = { c->fd, POLLIN, 0 };
	long long end = now_ms() + secs * 1000LL;
	struct record r;
	size_t n;

	for (;;) {
		long long left = end - now_ms();

		if (left <= 0 || poll(&p, 1, (int)left) != 1) {
			printf("timeout\n");
			return -1;
		}
		if (get_frame(c->fd, ct, sizeof ct, &n) == -1) {
			printf("closed\n");
			return 0;
		}
		if (n < NOISE_TAGLEN + 1 || noise_cs_decrypt(&c->rx, NULL, 0, ct, n, pt) != 0) {
			printf("error undecryptable\n");
			return -1;
		}
		n -= NOISE_TAGLEN;
		if (wire_decode(pt, n, &r) != WIRE_OK)
			continue;
		switch (r.type) {
		case REC_BYE:
			printf("bye %u %.*s\n", r.u.bye.reason, (int)r.u.bye.text_len, r.u.bye.text);
			break;
		case REC_CANCEL:
			printf("cancelled %u %u %.*s\n", r.u.result.code, r.u.result.dir,
			    (int)r.u.result.text_len, r.u.result.text);
			break;
		case REC_ACK:
			printf("acked\n");
			break;
		case REC_ACCEPT:
			printf("accepted %u\n", r.accept_resumes);
			break;
		case REC_PONG:
			printf("pong %llx\n", (unsigned long long)r.u.ping);
			break;
		case REC_OFFER:
			printf("offered %u\n", r.u.offer.handle);
			break;
		case REC_FILE_END:
			printf("file_end %u\n", r.u.fend.status);
			break;
		case REC_XFER_DONE:
			printf("done\n");
			break;
		case REC_XFER_RESULT:
			printf("result %u\n", r.u.result.code);
			break;
		case REC_PING: {
			struct buf b;

			buf_init(&b, 16);
			wire_put_ping(&b, REC_PONG, r.u.ping);
			send_rec(c, &b, NULL, NULL);
			buf_free(&b);
			break;
		}
		default:
			break;
		}
		if (strchr(stop, (char)r.type) != NULL)
			return r.type;
	}
}

/* A chat message, then its ACK within 5 s: prints "acked" or why not. */
static int
proto_chat(struct conn *c)
{
	char stop[2] = { REC_ACK, 0 };

	send_msg(c, "still talking", NULL, NULL);
	return proto_until(c, 5, stop) == REC_ACK ? 0 : 1;
}

/* Offer one entry of any type and size (hostile's send_offer cannot lie so). */
static void
proto_offer_raw(struct conn *c, uint32_t handle, const char *path, uint8_t type, uint64_t size)
{
	uint8_t id[WIRE_ID_LEN], key[XFER_KEY_LEN];
	struct buf b;

	randombytes_buf(id, sizeof id);
	randombytes_buf(key, sizeof key);
	buf_init(&b, 8192);
	wire_put_offer(&b, id, handle, 1, size, key);
	send_rec(c, &b, NULL, NULL);
	buf_reset(&b);
	wire_begin_list(&b, REC_OFFER_PART, handle, 0);
	wire_put_entry(&b, path, strlen(path), type, size, 1500000000000000000LL, 0644);
	wire_end_list(&b, 1);
	send_rec(c, &b, NULL, NULL);
	buf_free(&b);
}

/* Send CANCEL with a text of len bytes. */
static void
proto_cancel(struct conn *c, uint32_t handle, uint8_t dir, uint8_t reason, size_t len)
{
	char text[256];
	struct buf b;

	memset(text, 'c', sizeof text);
	buf_init(&b, 512);
	buf_put_u8(&b, REC_CANCEL);
	buf_put_u32(&b, handle);
	buf_put_u8(&b, dir);
	buf_put_u8(&b, reason);
	buf_put_str8(&b, text, len > 255 ? 255 : len);
	send_rec(c, &b, NULL, NULL);
	buf_free(&b);
}

/* Listen on target, print "listening ADDR", accept one connection (small receive buffer). */
static int
proto_listen(const char *target)
{
	struct sockaddr_storage ss;
	struct pollfd p;
	socklen_t len;
	char addr[SOCK_ADDRSTRLEN];
	int lfd, fd, one = 1, small = 32768;

	if (sock_parse(target, 0, &ss, &len) == -1 ||
	    (lfd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == -1 ||
	    bind(lfd, (struct sockaddr *)&ss, len) == -1 || listen(lfd, 4) == -1) {
		printf("error listen: %s\n", strerror(errno));
		return -1;
	}
	len = sizeof ss;
	getsockname(lfd, (struct sockaddr *)&ss, &len);
	sock_format((struct sockaddr *)&ss, addr, sizeof addr);
	printf("listening %s\n", addr);
	p.fd = lfd;
	p.events = POLLIN;
	if (poll(&p, 1, 30000) != 1 || (fd = accept(lfd, NULL, NULL)) == -1) {
		printf("error nobody connected\n");
		return -1;
	}
	close(lfd);
	return fd;
}

/*
 * A receiver that accepts whatever is offered and then misbehaves: "touch
 * PATH" changes PATH's time after the first DATA (the source changed
 * mid-transfer), "mute" never answers XFER_DONE.  Prints what came and how
 * long the victim took to end the transfer ("ended after MS").
 */
static int
proto_receiver(const char *target, const char *how, const char *path)
{
	uint8_t pt[WIRE_FRAME_MAX], ct[WIRE_FRAME_MAX + 2];
	struct conn c;
	struct record r;
	long long t0 = 0, end = now_ms() + 50000;
	int fd, touched = 0;
	char nick[32];

	snprintf(nick, sizeof nick, "recv-%s", how);
	size_t n;
	struct buf b;

	memset(&c, 0, sizeof c);
	if ((fd = proto_listen(target)) == -1 || proto_hs(&c, fd, 0, 1, WIRE_CIPHER_CHACHA) != 0 ||
	    proto_hello(&c, 1, CAP_MSG, nick, NULL, 0) != 0)
		return 1;
	for (;;) {
		struct pollfd p = { c.fd, POLLIN, 0 };
		long long left = end - now_ms();

		/* at most 50 s in all: the victim's PINGs must not keep us here */
		if (left <= 0 || poll(&p, 1, (int)left) != 1) {
			printf("timeout\n");
			return 1;
		}
		if (get_frame(c.fd, ct, sizeof ct, &n) == -1) {
			printf("closed\n");
			return 1;
		}
		if (n < NOISE_TAGLEN + 1 || noise_cs_decrypt(&c.rx, NULL, 0, ct, n, pt) != 0 ||
		    wire_decode(pt, n - NOISE_TAGLEN, &r) != WIRE_OK)
			continue;
		switch (r.type) {
		case REC_OFFER:
			printf("offered %u\n", r.u.offer.handle);
			break;
		case REC_OFFER_PART: {
			/* the victim sends one file: accept it once its entry is here */
			struct wire_resume rs;
			int lie = strcmp(how, "lie-resume") == 0, proof = strcmp(how, "bad-proof") == 0;

			buf_init(&b, 256);
			wire_put_accept(&b, r.u.list.handle, lie || proof ? 1 : 0);
			send_rec(&c, &b, NULL, NULL);
			if (lie || proof) {
				/* lie: "whole" at an offset that is not the size; proof: a wrong one */
				memset(&rs, 0, sizeof rs);
				rs.offset = 5;
				rs.flags = lie ? XRESUME_DONE : 0;
				randombytes_buf(rs.mac, sizeof rs.mac);
				buf_reset(&b);
				wire_begin_list(&b, REC_RESUME, r.u.list.handle, 0);
				wire_put_resume(&b, &rs);
				wire_end_list(&b, 1);
				send_rec(&c, &b, NULL, NULL);
			}
			buf_free(&b);
			break;
		}
		case REC_DATA:
			if (!touched && strcmp(how, "bad-proof") == 0)
				printf("data offset %llu\n", (unsigned long long)r.u.data.offset);
			if (!touched && strcmp(how, "touch") == 0) {
				struct timespec ts[2] = { { 0, UTIME_NOW }, { 1000, 0 } };

				utimensat(AT_FDCWD, path, ts, 0);
			}
			touched = 1;
			break;
		case REC_FILE_END:
			printf("file_end %u\n", r.u.fend.status);
			if (r.u.fend.status != 0)
				t0 = now_ms();
			break;
		case REC_XFER_DONE:
			printf("done\n");
			t0 = now_ms();
			if (strcmp(how, "bad-proof") == 0) {
				/* all of it came from 0: say so, and stay until it is read */
				buf_init(&b, 64);
				wire_put_result(&b, r.u.handle, XRESULT_OK, "verified");
				send_rec(&c, &b, NULL, NULL);
				buf_free(&b);
				return verdict(c.fd, 1) == -1;
			}
			break;
		case REC_CANCEL:
			printf("cancelled %u %u %.*s\n", r.u.result.code, r.u.result.dir,
			    (int)r.u.result.text_len, r.u.result.text);
			printf("ended after %lld ms\n", t0 ? now_ms() - t0 : -1LL);
			return 0;
		case REC_PING:
			buf_init(&b, 16);
			wire_put_ping(&b, REC_PONG, r.u.ping);
			send_rec(&c, &b, NULL, NULL);
			buf_free(&b);
			break;
		}
	}
}

/* Run one conformance case; see tests/t_protocol.sh for what each proves. */
static int
proto_case(const char *cs, const char *target, int argc, char **argv)
{
	struct conn c;
	char stop[4] = { REC_CANCEL, REC_BYE, 0, 0 };
	uint8_t flags = WIRE_CIPHER_CHACHA | WIRE_CIPHER_AESGCM, ver = 1;
	int rc, i;

	memset(&c, 0, sizeof c);
	if (strcmp(cs, "receiver") == 0)
		return proto_receiver(target, argc > 0 ? argv[0] : "mute", argc > 1 ? argv[1] : "");
	if (strcmp(cs, "preamble") == 0 && argc > 0)
		flags = (uint8_t)strtoul(argv[0], NULL, 0);
	if (strcmp(cs, "version") == 0 && argc > 0)
		ver = (uint8_t)strtoul(argv[0], NULL, 0);
	if (strcmp(cs, "hs-payload") == 0)
		proto_payload = "a later version's handshake payload";
	rc = proto_hs(&c, dial(target), 1, ver, flags);
	if (rc != 0) {
		printf(rc == 1 ? "closed\n" : "error handshake\n");
		return 0;
	}
	if (strcmp(cs, "preamble") == 0 || strcmp(cs, "version") == 0 || strcmp(cs, "hs-payload") == 0) {
		proto_hello(&c, 1, CAP_MSG, "proto", NULL, 0);
		return proto_chat(&c);
	}
	if (strcmp(cs, "unknown-first") == 0) {
		/* an unknown type before HELLO is ignored like any other */
		proto_send(&c, "\x7f" "future", 7);
		proto_hello(&c, 1, CAP_MSG, "proto", NULL, 0);
		return proto_chat(&c);
	}
	if (strcmp(cs, "known-first") == 0) {
		send_msg(&c, "before hello", NULL, NULL);
		return proto_until(&c, 5, stop) != REC_BYE;
	}
	if (strcmp(cs, "hello") == 0 && argc >= 3) {
		/* hello VERSION CAPS NICK [EXT-HEX]: the victim's answer to that HELLO */
		uint8_t ext[512];
		size_t extlen = 0;

		if (argc > 3)
			sodium_hex2bin(ext, sizeof ext, argv[3], strlen(argv[3]), NULL, &extlen, NULL);
		proto_hello(&c, (uint16_t)strtoul(argv[0], NULL, 0), (uint32_t)strtoul(argv[1], NULL, 0),
		    argv[2], ext, extlen);
		stop[2] = REC_ACK;
		send_msg(&c, "after hello", NULL, NULL);
		return proto_until(&c, 5, stop) != REC_ACK;
	}
	/* the case's name is the nick, so that the victim's user can name this peer */
	proto_hello(&c, 1, CAP_MSG | (strcmp(cs, "nofiles") == 0 ? CAP_NOFILES : 0), cs, NULL, 0);
	if (strcmp(cs, "msg-twice") == 0) {
		/* the same id twice: two ACKs (the victim shows it once) */
		uint8_t id[WIRE_ID_LEN];

		randombytes_buf(id, sizeof id);
		stop[2] = REC_ACK;
		for (i = 0; i < 2; i++) {
			send_msg_id(&c, id, "said twice", NULL, NULL);
			if (proto_until(&c, 5, stop) != REC_ACK)
				return 1;
		}
		send_msg(&c, "", NULL, NULL);   /* an empty text is a message too */
		return proto_until(&c, 5, stop) != REC_ACK;
	}
	if (strcmp(cs, "ping") == 0) {
		struct buf b;

		buf_init(&b, 16);
		wire_put_ping(&b, REC_PING, 0x1122334455667788ull);
		send_rec(&c, &b, NULL, NULL);
		buf_free(&b);
		stop[2] = REC_PONG;
		return proto_until(&c, 5, stop) != REC_PONG;
	}
	if (strcmp(cs, "bye-long") == 0) {
		/* BYE 0 with 200 bytes of text: still a BYE */
		char t[201];
		struct buf b;

		memset(t, 'q', 200);
		t[200] = '\0';
		buf_init(&b, 512);
		buf_put_u8(&b, REC_BYE);
		buf_put_u8(&b, BYE_QUIT);
		buf_put_str8(&b, t, 200);
		send_rec(&c, &b, NULL, NULL);
		buf_free(&b);
		return proto_until(&c, 5, stop) != 0;
	}
	if (strcmp(cs, "unknown-handle") == 0) {
		/* transfer records for a handle the victim never saw: ignored */
		struct buf b;

		buf_init(&b, 256);
		wire_put_accept(&b, 999, 0);
		send_rec(&c, &b, NULL, NULL);
		buf_reset(&b);
		wire_put_data_hdr(&b, 999, 0, 0);
		buf_put(&b, "x", 1);
		send_rec(&c, &b, NULL, NULL);
		buf_reset(&b);
		wire_put_file_end(&b, 999, 0, 1, 0);
		send_rec(&c, &b, NULL, NULL);
		buf_reset(&b);
		wire_put_xfer_done(&b, 999);
		send_rec(&c, &b, NULL, NULL);
		buf_reset(&b);
		wire_put_result(&b, 999, 0, "ok");
		send_rec(&c, &b, NULL, NULL);
		buf_reset(&b);
		wire_put_cancel(&b, 999, XDIR_SENDING, XCANCEL_USER, "never mind");
		send_rec(&c, &b, NULL, NULL);
		buf_free(&b);
		stop[2] = REC_ACK;
		send_msg(&c, "after strangers", NULL, NULL);
		return proto_until(&c, 5, stop) != REC_ACK;
	}
	if (strcmp(cs, "empty-record") == 0) {
		proto_send(&c, "", 0);
		return proto_until(&c, 5, stop) != REC_BYE;
	}
	if (strcmp(cs, "empty-frame") == 0) {
		put(c.fd, "\0\0", 2);
		return proto_until(&c, 5, stop) != REC_BYE;
	}
	if (strcmp(cs, "malformed") == 0) {
		proto_send(&c, "\x03" "short-ack", 10);   /* an ACK of 9 bytes */
		return proto_until(&c, 5, stop) != REC_BYE;
	}
	if (strcmp(cs, "bad-entry") == 0 && argc > 0) {
		/* bad-entry type2|empty|sizeddir: CANCEL 5, and the chat goes on */
		if (strcmp(argv[0], "type2") == 0)
			proto_offer_raw(&c, 7, "odd", 2, 1);
		else if (strcmp(argv[0], "empty") == 0)
			proto_offer_raw(&c, 7, "", 0, 1);
		else
			proto_offer_raw(&c, 7, "dir", 1, 5);
		proto_until(&c, 5, stop);
		return proto_chat(&c);
	}
	if (strcmp(cs, "cancel-dir") == 0) {
		/* an offer, then a CANCEL for it with direction 2 */
		proto_offer_raw(&c, 7, "x", 0, 10);
		usleep(300000);
		proto_cancel(&c, 7, 2, 0, 4);
		proto_until(&c, 5, stop);
		return proto_chat(&c);
	}
	if (strcmp(cs, "long-cancel") == 0 && argc > 0) {
		/* an offer, then our CANCEL of it with an N-byte text */
		proto_offer_raw(&c, 7, "x", 0, 10);
		usleep(300000);
		proto_cancel(&c, 7, XDIR_SENDING, XCANCEL_USER, strtoul(argv[0], NULL, 10));
		return proto_chat(&c);
	}
	if (strcmp(cs, "cancel-reason") == 0 && argc > 0) {
		/* an offer, then our CANCEL of it with reason N (10-byte text) */
		proto_offer_raw(&c, 7, "x", 0, 10);
		usleep(300000);
		proto_cancel(&c, 7, XDIR_SENDING, (uint8_t)atoi(argv[0]), 10);
		return proto_chat(&c);
	}
	if (strcmp(cs, "reoffer") == 0 && argc > 0) {
		/*
		 * A sender with a bug: it offers a bad entry, and offers it again
		 * after every reconnect, up to N times, until it gets an answer.
		 */
		int n = atoi(argv[0]);

		for (i = 1; i <= n; i++) {
			proto_offer_raw(&c, 7, "odd", 2, 1);
			if (proto_until(&c, 5, stop) == REC_CANCEL)
				break;
			close(c.fd);
			memset(&c, 0, sizeof c);
			if (proto_hs(&c, dial(target), 1, 1, flags) != 0)
				break;
			proto_hello(&c, 1, CAP_MSG, "proto", NULL, 0);
		}
		printf("connections %d\n", i > n ? n : i);
		return proto_chat(&c);
	}
	if (strcmp(cs, "file-end-1") == 0) {
		/* a 10-byte file; once accepted, all of it and FILE_END status 1 */
		char one[] = "x:10", *names[] = { one };
		struct buf b;

		send_offer(&c, 7, names, 1, 0);
		stop[2] = REC_ACCEPT;
		if (proto_until(&c, 30, stop) != REC_ACCEPT)
			return 1;
		send_data(&c, 7, 0, 0, 10);
		buf_init(&b, 64);
		wire_put_file_end(&b, 7, 0, 10, 1);
		send_rec(&c, &b, NULL, NULL);
		buf_free(&b);
		stop[2] = 0;
		if (proto_until(&c, 5, stop) != REC_CANCEL)
			return 1;
		return proto_chat(&c);
	}
	if (strcmp(cs, "nofiles") == 0) {
		/* we said we take no files: print "offered" if an OFFER comes anyway */
		stop[0] = REC_OFFER;
		stop[1] = 0;
		return proto_until(&c, argc > 0 ? atoi(argv[0]) : 5, stop) == REC_OFFER;
	}
	usage();
}

int
main(int argc, char **argv)
{
	struct conn c;
	uint8_t pre[8], junk[4096], saved[WIRE_FRAME_MAX];
	size_t savedlen = 0;
	const char *mode, *target;
	struct buf b;
	int i, n;

	if (argc < 3)
		usage();
	mode = argv[1];
	target = argv[2];
	signal(SIGPIPE, SIG_IGN);
	if (noise_global_init() != 0)
		return 1;
	memset(&c, 0, sizeof c);
	setvbuf(stdout, NULL, _IONBF, 0);
	if ((getenv("HOSTILE_KEY") != NULL && *getenv("HOSTILE_KEY") != '\0') ||
	    getenv("HOSTILE_PRIV") != NULL)
		hostile_key(c.priv, c.pub);

	if (strcmp(mode, "proto") == 0) {
		/* hostile proto CASE HOST:PORT [ARG...]: a conformance case */
		if (argc < 4)
			usage();
		return proto_case(argv[2], argv[3], argc - 4, argv + 4);
	}

	if (strcmp(mode, "garbage") == 0) {
		c.fd = dial(target);
		randombytes_buf(junk, sizeof junk);
		put(c.fd, junk, sizeof junk);
		return verdict(c.fd, 5);
	}
	if (strcmp(mode, "bad-preamble") == 0) {
		c.fd = dial(target);
		put(c.fd, "SSH-2.0-OpenSSH_9\r\n", 19);
		return verdict(c.fd, 5);
	}
	if (strcmp(mode, "oversize-hs") == 0) {
		c.fd = dial(target);
		wire_preamble(pre, WIRE_CIPHER_CHACHA);
		put(c.fd, pre, 8);
		put(c.fd, "\xff\xff", 2);   /* a 65535-byte handshake message */
		return verdict(c.fd, 5);
	}
	if (strcmp(mode, "truncated-hs") == 0) {
		c.fd = dial(target);
		wire_preamble(pre, WIRE_CIPHER_CHACHA);
		put(c.fd, pre, 8);
		put(c.fd, "\x00\x20", 2);   /* says 32 bytes, sends 10, then half-closes */
		put(c.fd, junk, 10);
		shutdown(c.fd, SHUT_WR);
		return verdict(c.fd, 5);
	}
	if (strcmp(mode, "stall") == 0) {
		if (argc < 4)
			usage();
		c.fd = dial(target);
		wire_preamble(pre, WIRE_CIPHER_CHACHA);
		put(c.fd, pre, 8);   /* then say nothing more */
		return verdict(c.fd, atoi(argv[3]));
	}
	if (strcmp(mode, "silent") == 0) {
		/* connect and never send the preamble */
		if (argc < 4)
			usage();
		c.fd = dial(target);
		return verdict(c.fd, atoi(argv[3]));
	}
	if (strcmp(mode, "stall-msg1") == 0) {
		/* preambles, msg1 out and msg2 in, then msg3 never comes */
		if (argc < 4)
			usage();
		if (handshake_steps(&c, target, 1) == -1) {
			printf("error handshake failed\n");
			return 1;
		}
		return verdict(c.fd, atoi(argv[3]));
	}
	if (strcmp(mode, "listen-stall") == 0) {
		/* here argv[2] is the step and argv[3] the address to listen on */
		if (argc < 5)
			usage();
		return listen_stall(argv[3], argv[2], atoi(argv[4]));
	}
	if (strcmp(mode, "idle-flood") == 0) {
		if (argc < 6)
			usage();
		return idle_flood(target, atoi(argv[3]), atoi(argv[4]), atoi(argv[5]) > 0 ? atoi(argv[5]) : 1);
	}
	if (strcmp(mode, "open-flood") == 0) {
		if (argc < 6)
			usage();
		return open_flood(target, atoi(argv[3]), atoi(argv[4]), atoi(argv[5]) > 0 ? atoi(argv[5]) : 1);
	}
	if (strcmp(mode, "flood") == 0) {
		/* open N connections, send a preamble on each, hold them for SECS */
		int k, ok = 0, closed = 0, fails = 0, secs;
		int *fds;

		if (argc < 5)
			usage();
		n = atoi(argv[3]);
		secs = atoi(argv[4]);
		if ((fds = calloc((size_t)n, sizeof *fds)) == NULL)
			return 1;
		for (k = 0; k < n; k++) {
			struct sockaddr_storage ss;
			socklen_t len;

			sock_parse(target, 7470, &ss, &len);
			fds[k] = socket(ss.ss_family, SOCK_STREAM, 0);
			if (fds[k] != -1 && connect(fds[k], (struct sockaddr *)&ss, len) == 0) {
				wire_preamble(pre, WIRE_CIPHER_CHACHA);
				(void)!write(fds[k], pre, 8);
				ok++;
			} else {
				if (fails++ == 0)
					fprintf(stderr, "hostile: connect: %s\n", strerror(errno));
				if (fds[k] != -1)
					close(fds[k]);
				fds[k] = -1;
			}
		}
		sleep((unsigned)secs);
		for (k = 0; k < n; k++) {
			struct pollfd p = { fds[k], POLLIN, 0 };

			if (fds[k] == -1)
				continue;
			if (poll(&p, 1, 0) == 1) {
				ssize_t r;

				while ((r = recv(fds[k], junk, sizeof junk, MSG_DONTWAIT)) > 0)
					;
				if (r == 0 || (r == -1 && errno != EAGAIN))
					closed++;
			}
			close(fds[k]);
		}
		printf("opened %d closed-by-victim %d\n", ok, closed);
		return 0;
	}
	if (strcmp(mode, "strangers") == 0) {
		if (argc < 4)
			usage();
		return strangers(target, atoi(argv[3]), argc > 4 ? argv[4] : NULL);
	}
	if (strcmp(mode, "churn") == 0) {
		if (argc < 4)
			usage();
		n = atoi(argv[3]);
		for (i = 0; i < n; i++) {
			c.fd = dial(target);
			if (i % 2)
				put(c.fd, "CONFAB\x01\x01", 8);
			close(c.fd);
		}
		printf("churned %d\n", n);
		return 0;
	}

	/* The rest complete a real handshake first. */
	if (strcmp(mode, "offer-stall") == 0 && argc > 5)
		src_bind = argv[5];
	if (handshake(&c, target) == -1) {
		printf("error handshake failed\n");
		return 1;
	}
	if (strcmp(mode, "no-hello") == 0) {
		send_msg(&c, "message before hello", NULL, NULL);
		return verdict(c.fd, 5);
	}
	if (strcmp(mode, "impostor") == 0) {
		if (argc < 5)
			usage();
		if (send_hello(&c, argv[3]) == -1) {
			printf("error hello\n");
			return 1;
		}
		return impostor(&c, atoi(argv[4]));
	}
	if (send_hello(&c, strcmp(mode, "chat") == 0 && argc > 3 ? argv[3] : "hostile") == -1) {
		printf("error hello\n");
		return 1;
	}
	if (strcmp(mode, "oversize-frame") == 0) {
		/* declare a full-size frame but send only part of it, then stop */
		put(c.fd, "\xff\xff", 2);
		put(c.fd, junk, 100);
		return verdict(c.fd, 3);
	}
	if (strcmp(mode, "badauth") == 0) {
		uint8_t ct[64];

		randombytes_buf(ct, sizeof ct);
		put_frame(c.fd, ct, sizeof ct);
		return verdict(c.fd, 5);
	}
	if (strcmp(mode, "malformed") == 0) {
		/* a MSG whose text length runs past the record */
		buf_init(&b, 256);
		buf_put_u8(&b, REC_MSG);
		buf_put(&b, junk, WIRE_ID_LEN);
		buf_put_u64(&b, 0);
		buf_put_u16(&b, 500);
		buf_put(&b, "short", 5);
		send_rec(&c, &b, NULL, NULL);
		buf_free(&b);
		return verdict(c.fd, 5);
	}
	if (strcmp(mode, "replay") == 0) {
		/* send a message, then the very same ciphertext again */
		send_msg(&c, "replayed once", saved, &savedlen);
		put_frame(c.fd, saved, savedlen);
		return verdict(c.fd, 5);
	}
	if (strcmp(mode, "reorder") == 0) {
		/* seal two messages, send the second first: its nonce is not the expected one */
		uint8_t second[WIRE_FRAME_MAX];
		size_t secondlen = 0;
		int fd = c.fd;

		c.fd = -1;   /* seal without sending */
		send_msg(&c, "sealed first", saved, &savedlen);
		send_msg(&c, "sealed second", second, &secondlen);
		c.fd = fd;
		put_frame(c.fd, second, secondlen);
		put_frame(c.fd, saved, savedlen);
		return verdict(c.fd, 5);
	}
	if (strcmp(mode, "msg-flood") == 0) {
		if (argc < 4)
			usage();
		return msg_flood(&c, atoi(argv[3]), argc > 4 ? (size_t)atoi(argv[4]) : 0);
	}
	if (strcmp(mode, "unknown-then-msg") == 0) {
		if (argc < 4)
			usage();
		buf_init(&b, 256);
		buf_put_u8(&b, 0x7e);   /* a record type from the future */
		buf_put(&b, "whatever it means", 17);
		send_rec(&c, &b, NULL, NULL);
		buf_free(&b);
		send_msg(&c, argv[3], NULL, NULL);
		return verdict(c.fd, 2) == 1 ? 0 : 1;   /* here staying open is right */
	}
	if (strcmp(mode, "resend") == 0) {
		/* the same message id on two sessions, as after a lost ACK */
		uint8_t id[WIRE_ID_LEN];

		if (argc < 4)
			usage();
		randombytes_buf(id, sizeof id);
		send_msg_id(&c, id, argv[3], NULL, NULL);
		usleep(300000);
		close(c.fd);
		if (handshake(&c, target) == -1 || send_hello(&c, "hostile") == -1) {
			printf("error second handshake\n");
			return 1;
		}
		send_msg_id(&c, id, argv[3], NULL, NULL);
		return verdict(c.fd, 2) == 1 ? 0 : 1;
	}
	if (strcmp(mode, "room-relay") == 0) {
		if (argc < 5)
			usage();
		return room_relay(&c, argv[3], argv[4]);
	}
	if (strcmp(mode, "room-invites") == 0) {
		if (argc < 4)
			usage();
		return room_invites(&c, atoi(argv[3]));
	}
	if (strcmp(mode, "room-say") == 0) {
		if (argc < 7)
			usage();
		return room_say(&c, argv + 3);
	}
	if (strcmp(mode, "room-flood") == 0) {
		if (argc < 7)
			usage();
		return room_flood(&c, argv[3], atoi(argv[4]), (size_t)atoi(argv[5]), argv[6]);
	}
	if (strcmp(mode, "offer") == 0) {
		/* offer names; print the victim's answer (it must refuse bad names) */
		if (argc < 4)
			usage();
		send_offer(&c, 1, argv + 3, argc - 3, 0);
		return await_answer(&c, 20) == -1;
	}
	if (strcmp(mode, "offer-total") == 0) {
		/* one file "x" of 10 bytes but a declared total of argv[3] */
		char *one[] = { "x:10" };

		if (argc < 4)
			usage();
		send_offer(&c, 1, one, 1, strtoull(argv[3], NULL, 10));
		return await_answer(&c, 20) == -1;
	}
	if (strcmp(mode, "lie-size") == 0 || strcmp(mode, "lie-offset") == 0 ||
	    strcmp(mode, "short-file") == 0) {
		/* a 10-byte file "x"; once accepted, break the rules */
		char *one[] = { "x:10" };

		send_offer(&c, 1, one, 1, 0);
		if (await_answer(&c, 30) != REC_ACCEPT)
			return 1;
		if (strcmp(mode, "lie-size") == 0) {
			send_data(&c, 1, 0, 0, 8);
			send_data(&c, 1, 0, 8, 8);   /* 16 bytes of a 10-byte file */
		} else if (strcmp(mode, "lie-offset") == 0) {
			send_data(&c, 1, 0, 100, 5);
		} else {
			send_data(&c, 1, 0, 0, 5);
			buf_init(&b, 64);
			wire_put_file_end(&b, 1, 0, 10, 0);
			send_rec(&c, &b, NULL, NULL);
			wire_put_xfer_done(&b, 1);
			buf_free(&b);
		}
		return await_answer(&c, 10) == -1;
	}
	if (strcmp(mode, "offer-flood") == 0) {
		/* many offers at once: the victim refuses those beyond its limits */
		uint8_t pt[WIRE_FRAME_MAX];
		char *one[] = { "f:1" };
		int k, busy = 0, t;
		size_t plen;

		if (argc < 4)
			usage();
		n = atoi(argv[3]);
		for (k = 0; k < n; k++)
			send_offer(&c, (uint32_t)(k + 1), one, 1, 0);
		while ((t = recv_rec(&c, pt, &plen, 3)) != -1)
			if (t == REC_CANCEL)
				busy++;
		printf("offers %d refused %d\n", n, busy);
		return 0;
	}
	if ((i = offer_modes(&c, mode, argc, argv)) != -1)
		return i;
	if (strcmp(mode, "chat") == 0) {
		if (argc < 5)
			usage();
		for (i = 4; i < argc; i++)
			send_msg(&c, argv[i], NULL, NULL);
		/* HOSTILE_STAY: seconds to stay connected (default 2) */
		return verdict(c.fd, getenv("HOSTILE_STAY") != NULL ? atoi(getenv("HOSTILE_STAY")) : 2) == 1 ? 0 : 1;
	}
	usage();
}
