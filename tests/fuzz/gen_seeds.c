/*
 * gen_seeds.c - write the seed corpora of fuzz_wire and fuzz_handshake.
 *
 * Not built by make; to regenerate after a protocol change:
 *   cc -std=gnu11 -I. -Inet -Itests/fuzz net/buf.c net/wire.c net/noise.c \
 *      tests/fuzz/gen_seeds.c -lsodium -o gen_seeds && ./gen_seeds tests/fuzz/corpus
 * The output is deterministic (fixed keys, no randomness).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "noise.h"
#include "wire.h"
#include "hs_fixture.h"

static const char *outdir;

/* Write n bytes to outdir/sub/name. */
static void
put_file(const char *sub, const char *name, const uint8_t *p, size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", outdir, sub);
	if (mkdir(path, 0755) == -1 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof path, "%s/%s/%s", outdir, sub, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	printf("%s\n", path);
}

/* Write a buf's contents and empty it. */
static void
put_buf(const char *sub, const char *name, struct buf *b)
{
	put_file(sub, name, buf_ptr(b), buf_len(b));
	buf_reset(b);
}

/* Append a u16-length-prefixed message (fuzz_handshake's Noise-level layout). */
static void
add_msg(struct buf *b, const uint8_t *p, size_t n)
{
	if (buf_put_u16(b, (uint16_t)n) != BUF_OK || buf_put(b, p, n) != BUF_OK)
		abort();
}

/* One of each record type, and a few broken ones. */
static void
wire_seeds(void)
{
	static const uint8_t id[WIRE_ID_LEN] = "0123456789abcdef";
	static const uint8_t key[XFER_KEY_LEN] = "resume proof key, 32 bytes long";
	struct wire_resume rs;
	struct buf b, t;
	uint8_t pre[WIRE_PREAMBLE_LEN];

	buf_init(&b, WIRE_RECORD_MAX);
	buf_init(&t, WIRE_RECORD_MAX);

	wire_put_hello(&b, CAP_MSG, "alice", 5, 0);
	put_buf("wire", "hello", &b);
	wire_put_hello(&b, CAP_MSG, "bob", 3, 0);
	buf_put_u8(&b, 0x42);                  /* an extension: type, str16 body */
	buf_put_str16(&b, "ext", 3);
	put_buf("wire", "hello_ext", &b);
	wire_put_msg(&b, id, 1700000000000ull, "hello, world \xe2\x9c\x93", 16);
	put_buf("wire", "msg", &b);
	wire_put_ack(&b, id);
	put_buf("wire", "ack", &b);
	wire_put_ping(&b, REC_PING, 0x0102030405060708ull);
	put_buf("wire", "ping", &b);
	wire_put_ping(&b, REC_PONG, 0x0102030405060708ull);
	put_buf("wire", "pong", &b);
	wire_put_bye(&b, BYE_QUIT, "see you");
	put_buf("wire", "bye", &b);

	wire_put_offer(&b, id, 7, 2, 12345, key);
	put_buf("wire", "offer", &b);
	wire_begin_list(&b, REC_OFFER_PART, 7, 0);
	wire_put_entry(&b, "photos", 6, 1, 0, 1700000000000000000ll, 0755);
	wire_put_entry(&b, "photos/a.jpg", 12, 0, 12345, 1700000000000000000ll, 0644);
	wire_end_list(&b, 2);
	put_buf("wire", "offer_part", &b);
	wire_put_accept(&b, 7, 1);
	put_buf("wire", "accept", &b);
	memset(&rs, 0, sizeof rs);
	rs.index = 1;
	rs.offset = 4096;
	memset(rs.mac, 0xa5, sizeof rs.mac);
	wire_begin_list(&b, REC_RESUME, 7, 0);
	wire_put_resume(&b, &rs);
	wire_end_list(&b, 1);
	put_buf("wire", "resume", &b);
	wire_put_data_hdr(&b, 7, 1, 4096);
	buf_put(&b, "some file bytes", 15);
	put_buf("wire", "data", &b);
	wire_put_file_end(&b, 7, 1, 12345, 0);
	put_buf("wire", "file_end", &b);
	wire_put_xfer_done(&b, 7);
	put_buf("wire", "xfer_done", &b);
	wire_put_result(&b, 7, 0, "ok");
	put_buf("wire", "xfer_result", &b);
	wire_put_cancel(&b, 7, XDIR_RECEIVING, XCANCEL_USER, "changed my mind");
	put_buf("wire", "cancel", &b);

	/* broken ones */
	wire_put_msg(&b, id, 0, "cut short", 9);
	b.len -= 3;
	put_buf("wire", "bad_msg_short", &b);
	wire_put_ack(&b, id);
	buf_put_u8(&b, 0);
	put_buf("wire", "bad_ack_trailing", &b);
	buf_put_u8(&b, REC_HELLO);
	buf_put_u16(&b, 1);
	buf_put_u32(&b, CAP_MSG);
	buf_put_u8(&b, 65);
	while (buf_len(&b) < 8 + 65)
		buf_put_u8(&b, 'n');
	put_buf("wire", "bad_hello_nick65", &b);
	buf_put_u8(&b, 0x7e);
	buf_put(&b, "future record", 13);
	put_buf("wire", "unknown_type", &b);

	/* errors of a transfer, not of the session: these decode (PROTOCOL.md 6.7) */
	wire_begin_list(&b, REC_OFFER_PART, 7, 0);
	wire_put_entry(&b, "odd", 3, 2, 1, 0, 0644);
	wire_put_entry(&b, "", 0, 0, 1, 0, 0644);
	wire_put_entry(&b, "dir", 3, 1, 5, 0, 0755);
	wire_end_list(&b, 3);
	put_buf("wire", "offer_part_bad_entries", &b);
	wire_put_cancel(&b, 7, 2, XCANCEL_USER, "direction 2");
	put_buf("wire", "cancel_dir2", &b);
	buf_put_u8(&b, REC_CANCEL);
	buf_put_u32(&b, 7);
	buf_put_u8(&b, XDIR_SENDING);
	buf_put_u8(&b, XCANCEL_USER);
	buf_put_u8(&b, 255);
	while (buf_len(&b) < 8 + 255)
		buf_put_u8(&b, 't');
	put_buf("wire", "cancel_text255", &b);
	/* HELLO: an unknown extension, a port of the wrong size, then one cut short */
	buf_put_u8(&b, REC_HELLO);
	buf_put_u16(&b, 1);
	buf_put_u32(&b, CAP_MSG | CAP_NOFILES);
	buf_put_str8(&b, "", 0);
	buf_put_u8(&b, 9);
	buf_put_str16(&b, "abc", 3);
	buf_put_u8(&b, HELLO_EXT_PORT);
	buf_put_str16(&b, "\x1f\x90\x00", 3);
	buf_put_u8(&b, HELLO_EXT_PORT);
	buf_put_u8(&b, 0);
	put_buf("wire", "bad_hello_ext_cut", &b);

	/* a preamble followed by two frames holding records */
	wire_preamble(pre, WIRE_CIPHER_CHACHA | WIRE_CIPHER_AESGCM);
	buf_put(&b, pre, sizeof pre);
	wire_put_ping(&t, REC_PING, 99);
	buf_put_u16(&b, (uint16_t)buf_len(&t));
	buf_put(&b, buf_ptr(&t), buf_len(&t));
	buf_reset(&t);
	wire_put_msg(&t, id, 5, "framed", 6);
	buf_put_u16(&b, (uint16_t)buf_len(&t));
	buf_put(&b, buf_ptr(&t), buf_len(&t));
	put_buf("wire", "preamble_frames", &b);

	buf_free(&b);
	buf_free(&t);
}

/* Encrypt a few records with cs, each as a u16-prefixed message. */
static void
add_transport(struct buf *out, struct noise_cs *cs)
{
	static const uint8_t id[WIRE_ID_LEN] = "fedcba9876543210";
	uint8_t ct[512];
	struct buf r;
	int i;

	buf_init(&r, 512);
	for (i = 0; i < 4; i++) {
		buf_reset(&r);
		if (i == 0)
			wire_put_hello(&r, CAP_MSG, "fuzz", 4, 0);
		else if (i == 1)
			wire_put_msg(&r, id, 1, "over the wire", 13);
		else if (i == 2)
			wire_put_ping(&r, REC_PING, 7);
		else
			wire_put_bye(&r, BYE_QUIT, "bye");
		if (noise_cs_encrypt(cs, NULL, 0, buf_ptr(&r), buf_len(&r), ct) != NOISE_OK)
			abort();
		add_msg(out, ct, buf_len(&r) + NOISE_TAGLEN);
	}
	buf_free(&r);
}

/* A complete handshake with the fixture keys; the messages and transport seeds. */
static void
handshake_seeds(int aes)
{
	uint8_t prologue[8 + 2 * WIRE_PREAMBLE_LEN], m[3][WIRE_HS_MAX], pl[WIRE_HS_MAX];
	size_t mlen[3], plen, prl;
	struct noise_hs ini, res;
	struct noise_cs itx, irx, rtx, rrx;
	struct buf b;
	int mode = aes ? HSF_AESGCM : 0;
	const char *tag = aes ? "aesgcm" : "chachapoly";
	char name[64];
	uint8_t pre[WIRE_PREAMBLE_LEN];

	prl = hsf_prologue(mode, prologue);
	if (noise_hs_init(&ini, hsf_protocol(mode), 1, prologue, prl, hsf_init_s, hsf_init_e,
	    NULL, NULL) != NOISE_OK ||
	    noise_hs_init(&res, hsf_protocol(mode), 0, prologue, prl, hsf_resp_s, hsf_resp_e,
	    NULL, NULL) != NOISE_OK) {
		fprintf(stderr, "gen_seeds: %s not available, skipped\n", hsf_protocol(mode));
		return;
	}
	if (noise_hs_write(&ini, NULL, 0, m[0], sizeof m[0], &mlen[0]) ||
	    noise_hs_read(&res, m[0], mlen[0], pl, sizeof pl, &plen) ||
	    noise_hs_write(&res, NULL, 0, m[1], sizeof m[1], &mlen[1]) ||
	    noise_hs_read(&ini, m[1], mlen[1], pl, sizeof pl, &plen) ||
	    noise_hs_write(&ini, NULL, 0, m[2], sizeof m[2], &mlen[2]) ||
	    noise_hs_read(&res, m[2], mlen[2], pl, sizeof pl, &plen) ||
	    noise_hs_split(&ini, &itx, &irx) || noise_hs_split(&res, &rtx, &rrx))
		abort();

	buf_init(&b, 65536);
	/* we respond: the fuzzer sends messages 1 and 3, then transport frames */
	buf_put_u8(&b, (uint8_t)mode);
	add_msg(&b, m[0], mlen[0]);
	add_msg(&b, m[2], mlen[2]);
	add_transport(&b, &itx);
	snprintf(name, sizeof name, "noise_responder_%s", tag);
	put_buf("handshake", name, &b);
	/* we initiate: the fuzzer answers with message 2, then transport frames */
	buf_put_u8(&b, (uint8_t)(mode | HSF_INITIATOR));
	add_msg(&b, m[1], mlen[1]);
	add_transport(&b, &rtx);
	snprintf(name, sizeof name, "noise_initiator_%s", tag);
	put_buf("handshake", name, &b);

	if (!aes) {
		/* session level: a preamble, then framed handshake messages */
		wire_preamble(pre, WIRE_CIPHER_CHACHA);
		buf_put_u8(&b, HSF_SESSION);
		buf_put(&b, pre, sizeof pre);
		add_msg(&b, m[0], mlen[0]);
		add_msg(&b, m[2], mlen[2]);
		put_buf("handshake", "session_responder", &b);
		buf_put_u8(&b, HSF_SESSION | HSF_INITIATOR);
		buf_put(&b, pre, sizeof pre);
		add_msg(&b, m[1], mlen[1]);
		put_buf("handshake", "session_initiator", &b);
		buf_put_u8(&b, HSF_SESSION);
		buf_put(&b, pre, sizeof pre);
		buf_put_u16(&b, 0xffff);
		put_buf("handshake", "session_oversized", &b);
	}
	buf_free(&b);
	noise_hs_wipe(&ini);
	noise_hs_wipe(&res);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds CORPUS_DIR\n");
		return 2;
	}
	if (noise_global_init() != 0)
		return 1;
	outdir = argv[1];
	wire_seeds();
	handshake_seeds(0);
	handshake_seeds(1);
	return 0;
}
