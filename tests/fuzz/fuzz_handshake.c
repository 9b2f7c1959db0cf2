/* fuzz_handshake.c - libFuzzer target for the Noise XX handshake and the session's parsing of it. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "loop.h"
#include "noise.h"
#include "session.h"
#include "wire.h"
#include "hs_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any broken invariant is a crash for libFuzzer to report. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* The largest handshake payload the session accepts; the buffer is exactly this big. */
#define PAYLOAD_MAX WIRE_HS_MAX

/* Take the next u16-length-prefixed message; returns 0 when the input is used up. */
static int
next_msg(const uint8_t **data, size_t *size, const uint8_t **msg, size_t *len)
{
	size_t n;

	if (*size < 2)
		return 0;
	n = (size_t)(*data)[0] << 8 | (*data)[1];
	*data += 2;
	*size -= 2;
	if (n > *size)
		n = *size;
	*msg = *data;
	*len = n;
	*data += n;
	*size -= n;
	return 1;
}

/* A failed handshake must stay failed: nothing more is read or written. */
static void
check_failed(struct noise_hs *hs, const uint8_t *msg, size_t len)
{
	uint8_t out[512], *pl;
	size_t n = 0;

	CHECK(noise_hs_action(hs) == NOISE_ACTION_FAILED);
	pl = malloc(PAYLOAD_MAX);
	CHECK(noise_hs_read(hs, msg, len, pl, PAYLOAD_MAX, &n) != NOISE_OK);
	CHECK(noise_hs_write(hs, NULL, 0, out, sizeof out, &n) != NOISE_OK);
	free(pl);
	noise_hs_wipe(hs);
}

/* Read one handshake message from the fuzzer; returns 0 if it was accepted. */
static int
read_msg(struct noise_hs *hs, const uint8_t *msg, size_t len)
{
	uint8_t *copy, *pl;
	size_t plen = (size_t)-1;
	int rc;

	/* exact-size heap copies so ASan sees any read or write past the end */
	copy = malloc(len ? len : 1);
	memcpy(copy, msg, len);
	pl = malloc(PAYLOAD_MAX);
	rc = noise_hs_read(hs, copy, len, pl, PAYLOAD_MAX, &plen);
	if (rc == NOISE_OK) {
		CHECK(plen <= PAYLOAD_MAX);
		CHECK(plen <= len);
		CHECK(noise_hs_action(hs) != NOISE_ACTION_FAILED);
	} else {
		check_failed(hs, copy, len);
	}
	free(pl);
	free(copy);
	return rc;
}

/*
 * Write our next handshake message; returns 0 if it was written.  It may fail
 * only because the peer's ephemeral key is a low-order point (DH result all
 * zero), and then the handshake must be marked failed.
 */
static int
write_msg(struct noise_hs *hs, size_t want_len)
{
	uint8_t out[WIRE_HS_MAX];
	size_t olen = 0;
	int rc;

	rc = noise_hs_write(hs, NULL, 0, out, sizeof out, &olen);
	if (rc == NOISE_OK) {
		CHECK(olen == want_len);
		return 0;
	}
	CHECK(rc == NOISE_EDH);
	check_failed(hs, out, 32);
	return -1;
}

/* After the handshake: decrypt what follows as transport frames and decode records. */
static void
transport(struct noise_cs *tx, struct noise_cs *rx, const uint8_t *data, size_t size)
{
	const uint8_t *msg;
	uint8_t *pt, echo[64], ct[64 + NOISE_TAGLEN];
	struct record r;
	size_t len;
	uint64_t n0;
	int rc;

	while (next_msg(&data, &size, &msg, &len)) {
		n0 = rx->n;
		pt = malloc(len > NOISE_TAGLEN ? len - NOISE_TAGLEN : 1);
		rc = noise_cs_decrypt(rx, NULL, 0, msg, len, pt);
		if (rc != NOISE_OK) {
			/* the session would end here; the nonce must not have moved */
			CHECK(rx->n == n0);
			free(pt);
			return;
		}
		CHECK(len >= NOISE_TAGLEN && rx->n == n0 + 1);
		rc = wire_decode(pt, len - NOISE_TAGLEN, &r);
		CHECK(rc == WIRE_OK || rc == WIRE_EUNKNOWN || rc == WIRE_EMALFORMED);
		free(pt);
	}
	/* and our own direction still works */
	memset(echo, 0x5a, sizeof echo);
	CHECK(noise_cs_encrypt(tx, NULL, 0, echo, sizeof echo, ct) == NOISE_OK);
}

/* Noise level: we are the responder, the fuzzer sends messages 1 and 3. */
static void
noise_responder(int mode, const uint8_t *data, size_t size)
{
	uint8_t prologue[8 + 2 * WIRE_PREAMBLE_LEN], rs[NOISE_DHLEN];
	struct noise_hs hs;
	struct noise_cs tx, rx;
	const uint8_t *msg;
	size_t len;

	if (noise_hs_init(&hs, hsf_protocol(mode), 0, prologue, hsf_prologue(mode, prologue),
	    hsf_resp_s, hsf_resp_e, NULL, NULL) != NOISE_OK)
		return;   /* AESGCM without hardware support */
	CHECK(noise_hs_action(&hs) == NOISE_ACTION_READ);
	if (!next_msg(&data, &size, &msg, &len) || read_msg(&hs, msg, len) != NOISE_OK)
		goto out;
	CHECK(noise_hs_remote_static(&hs, rs) != NOISE_OK);   /* XX: not known after message 1 */
	CHECK(noise_hs_action(&hs) == NOISE_ACTION_WRITE);
	if (write_msg(&hs, 32 + 32 + NOISE_TAGLEN + NOISE_TAGLEN) != 0)
		goto out;
	if (!next_msg(&data, &size, &msg, &len) || read_msg(&hs, msg, len) != NOISE_OK)
		goto out;
	CHECK(noise_hs_action(&hs) == NOISE_ACTION_SPLIT);
	CHECK(noise_hs_remote_static(&hs, rs) == NOISE_OK);
	CHECK(noise_hs_split(&hs, &tx, &rx) == NOISE_OK);
	transport(&tx, &rx, data, size);
	noise_cs_wipe(&tx);
	noise_cs_wipe(&rx);
out:
	noise_hs_wipe(&hs);
}

/* Noise level: we are the initiator, the fuzzer answers message 1 with message 2. */
static void
noise_initiator(int mode, const uint8_t *data, size_t size)
{
	uint8_t prologue[8 + 2 * WIRE_PREAMBLE_LEN], out[WIRE_HS_MAX], rs[NOISE_DHLEN];
	struct noise_hs hs;
	struct noise_cs tx, rx;
	const uint8_t *msg;
	size_t len, olen;

	if (noise_hs_init(&hs, hsf_protocol(mode), 1, prologue, hsf_prologue(mode, prologue),
	    hsf_init_s, hsf_init_e, NULL, NULL) != NOISE_OK)
		return;
	CHECK(noise_hs_write(&hs, NULL, 0, out, sizeof out, &olen) == NOISE_OK);
	CHECK(olen == 32);
	if (!next_msg(&data, &size, &msg, &len) || read_msg(&hs, msg, len) != NOISE_OK)
		goto out;
	CHECK(noise_hs_remote_static(&hs, rs) == NOISE_OK);   /* message 2 carried s */
	CHECK(noise_hs_action(&hs) == NOISE_ACTION_WRITE);
	if (write_msg(&hs, 32 + NOISE_TAGLEN + NOISE_TAGLEN) != 0)
		goto out;
	CHECK(noise_hs_action(&hs) == NOISE_ACTION_SPLIT);
	CHECK(noise_hs_split(&hs, &tx, &rx) == NOISE_OK);
	transport(&tx, &rx, data, size);
	noise_cs_wipe(&tx);
	noise_cs_wipe(&rx);
out:
	noise_hs_wipe(&hs);
}

/* --- session level: a real session on one end of a socketpair ------------ */

static struct loop *sl;
static struct net  *sn;
static int          s_est, s_closed;

/* No unauthenticated peer may ever get this far. */
static int
s_established(struct session *s, void *arg)
{
	s_est++;
	return -1;
}

/* Records need an open session, which no fuzz input can reach. */
static void
s_record(struct session *s, const struct record *r, void *arg)
{
	abort();
}

/* Every ending has a reason. */
static void
s_closed_cb(struct session *s, const char *reason, void *arg)
{
	CHECK(reason != NULL && reason[0] != '\0');
	s_closed++;
}

static const struct net_ops s_ops = {
	.established = s_established,
	.record = s_record,
	.closed = s_closed_cb,
};

/* Feed the bytes to a session over a socketpair, then hang up. */
static void
session_level(int mode, const uint8_t *data, size_t size)
{
	struct session *s;
	size_t off = 0;
	ssize_t w;
	int sv[2], turns;

	if (sl == NULL) {
		if ((sl = loop_new()) == NULL || (sn = net_new(sl, hsf_resp_s, &s_ops, NULL)) == NULL)
			abort();
	}
	s_est = s_closed = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	if ((s = net_adopt(sn, sv[0], mode & HSF_INITIATOR)) == NULL)
		abort();
	/* write everything, turning the loop whenever the socket is full */
	for (turns = 0; off < size && turns < 10000; turns++) {
		w = write(sv[1], data + off, size - off);
		if (w > 0)
			off += (size_t)w;
		else if (w == -1 && errno != EAGAIN && errno != EINTR)
			break;
		loop_once(sl, 0);
		if (s_closed)
			break;
	}
	shutdown(sv[1], SHUT_WR);
	for (turns = 0; !s_closed && turns < 100; turns++)
		loop_once(sl, 0);
	CHECK(s_closed == 1);   /* end of input always ends an unfinished handshake */
	CHECK(s_est == 0);
	loop_once(sl, 0);       /* free the dead session */
	CHECK(net_session_count(sn) == 0);
	close(sv[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int mode;

	if (size < 1)
		return 0;
	if (noise_global_init() != 0)
		abort();
	mode = data[0];
	data++;
	size--;
	if (mode & HSF_SESSION)
		session_level(mode, data, size);
	else if (mode & HSF_INITIATOR)
		noise_initiator(mode, data, size);
	else
		noise_responder(mode, data, size);
	return 0;
}
