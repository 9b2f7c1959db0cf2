/*
 * gen_room_seeds.c - write the seed corpus of fuzz_room.
 *
 * Not built by make; to regenerate after a change to the room records:
 *   cc -std=gnu11 -I. -Ibuild -Inet -Iapp net/buf.c net/roomwire.c app/room.c \
 *      tests/fuzz/gen_room_seeds.c -lsodium -o gen_room_seeds && ./gen_room_seeds tests/fuzz/corpus/room
 * The output is deterministic (fixed keys and times).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "room.h"
#include "roomwire.h"

static const char *outdir;
static int nfile;

/* Write the mode byte and n bytes as outdir/name. */
static void
put(const char *name, uint8_t mode, const uint8_t *p, size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", outdir, name);
	if ((f = fopen(path, "wb")) == NULL || fputc(mode, f) == EOF ||
	    fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	nfile++;
}

static void
on_accept(struct room *r, struct room_event *ev, void *arg)
{
	static int i;
	char name[64];

	(void)r;
	(void)arg;
	snprintf(name, sizeof name, "event_%s_%d", roomwire_kind_name(ev->e.kind), i);
	put(name, 0, ev->rec, ev->len);
	snprintf(name, sizeof name, "model_%s_%d", roomwire_kind_name(ev->e.kind), i++);
	put(name, 1, ev->rec, ev->len);   /* the same, given to the model */
}

int
main(int argc, char **argv)
{
	static const uint8_t rid[ROOM_ID_LEN] = { 0x52, 0x4f, 0x4f, 0x4d, 0xf0, 0x22 };
	struct room_self m[3];
	uint8_t priv[32], pub[32];
	struct rec_room_want w;
	struct room *r;
	struct buf b;
	int i;

	if (argc != 2 || sodium_init() < 0)
		return 2;
	outdir = argv[1];
	for (i = 0; i < 3; i++) {
		memset(priv, 0x11 * (i + 1), sizeof priv);
		crypto_scalarmult_base(pub, priv);
		room_self_init(&m[i], pub, priv);
	}
	r = room_create(&m[0], rid, "fuzz", 4, 8, 1, on_accept, NULL);
	room_invite(r, &m[0], m[1].x, m[1].ed, m[1].bind, 2, on_accept, NULL);
	room_invite(r, &m[0], m[2].x, m[2].ed, m[2].bind, 3, on_accept, NULL);
	room_write(r, &m[1], RK_JOIN, NULL, 0, 4, on_accept, NULL);
	room_send_text(r, &m[1], "hello room", 10, 5, on_accept, NULL);
	room_kick(r, &m[0], m[2].x, 6, on_accept, NULL);
	room_write(r, &m[1], RK_LEAVE, NULL, 0, 7, on_accept, NULL);
	buf_init(&b, 65536);
	room_put_have(r, &b, NULL, 0);
	put("have", 0, buf_ptr(&b), buf_len(&b));
	put("have_model", 1, buf_ptr(&b), buf_len(&b));
	buf_reset(&b);
	memcpy(w.room, rid, ROOM_ID_LEN);
	memcpy(w.author, m[0].x, ROOM_KEY_LEN);
	w.cls = ROOM_CLASS_OPS;
	w.first = 1;
	w.last = 3;
	roomwire_put_want(&b, &w);
	put("want", 0, buf_ptr(&b), buf_len(&b));
	put("want_model", 1, buf_ptr(&b), buf_len(&b));
	buf_reset(&b);
	{
		struct rec_room_file f;

		memcpy(f.room, rid, ROOM_ID_LEN);
		memset(f.xfer, 0x5a, sizeof f.xfer);
		roomwire_put_file(&b, &f);
		put("file", 0, buf_ptr(&b), buf_len(&b));
	}
	/* bodies to be signed by the target: member, kind, body */
	{
		uint8_t s[3 + 128];

		s[0] = 1; s[1] = RK_MSG; memcpy(s + 2, "hi", 2);
		put("sign_msg", 2, s, 4);
		s[0] = 2; s[1] = RK_JOIN;
		put("sign_join", 2, s, 2);
		s[0] = 1; s[1] = RK_KICK; memcpy(s + 2, m[0].x, 32);
		put("sign_kick_creator", 2, s, 34);
		s[0] = 1; s[1] = RK_INVITE; memcpy(s + 2, m[2].x, 32); memcpy(s + 34, m[2].ed, 32);
		memcpy(s + 66, m[2].bind, 64);
		put("sign_invite", 2, s, 130);
		s[0] = 1; s[1] = RK_MSG; memcpy(s + 2, "one", 3);
		put("rivals_msg", 3, s, 5);
		s[0] = 1; s[1] = RK_LEAVE;
		put("rivals_leave", 3, s, 2);
	}
	buf_free(&b);
	room_free(r);
	printf("%d seeds in %s\n", nfile, outdir);
	return 0;
}
