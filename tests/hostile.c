/* hostile.c - a test peer that speaks confab's protocol and misbehaves on purpose. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "noise.h"
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
	    "       offer-flood N\n");
	exit(2);
}

/* Connect with a blocking socket. */
static int
dial(const char *target)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (sock_parse(target, 7470, &ss, &len) == -1) {
		printf("error bad address\n");
		exit(1);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1 ||
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

/* Run a full XX handshake as initiator (with a fresh key unless c has one). */
static int
handshake(struct conn *c, const char *target)
{
	uint8_t mine[8], theirs[8], prologue[8 + 16], msg[512], pl[512];
	struct noise_hs hs;
	size_t n, pn;
	const char *proto;

	c->fd = dial(target);
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
	    noise_hs_read(&hs, msg, n, pl, sizeof pl, &pn) != 0 ||
	    noise_hs_write(&hs, NULL, 0, msg, sizeof msg, &n) != 0 || put_frame(c->fd, msg, n) == -1 ||
	    noise_hs_split(&hs, &c->tx, &c->rx) != 0)
		return -1;
	return 0;
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
	if (handshake(&c, target) == -1) {
		printf("error handshake failed\n");
		return 1;
	}
	if (strcmp(mode, "no-hello") == 0) {
		send_msg(&c, "message before hello", NULL, NULL);
		return verdict(c.fd, 5);
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
	if (strcmp(mode, "chat") == 0) {
		if (argc < 5)
			usage();
		for (i = 4; i < argc; i++)
			send_msg(&c, argv[i], NULL, NULL);
		return verdict(c.fd, 2) == 1 ? 0 : 1;
	}
	usage();
}
