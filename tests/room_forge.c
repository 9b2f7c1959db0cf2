/*
 * room_forge.c - test tool: write a room log with any name (a hostile one:
 * escape sequences) for the identity in a confab home, as if its owner had
 * created that room.  confab's own /room create refuses such names; a peer
 * that is not confab need not (net/PROTOCOL.md 13.2 allows any bytes).
 * usage: room_forge HOME NAME   prints the room's id (32 hex digits).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "identity.h"
#include "room.h"

/* Where the CREATE goes: HOME/rooms/ID.log, a 2-byte length before the record. */
struct out {
	char path[4096];
	int  rc;
};

/* Accept callback: write the CREATE record. */
static void
put(struct room *r, struct room_event *ev, void *arg)
{
	struct out *o = arg;
	uint8_t h[2] = { (uint8_t)(ev->len >> 8), (uint8_t)ev->len };
	FILE *f = fopen(o->path, "wb");

	(void)r;
	if (f == NULL)
		return;
	if (fwrite(h, 1, 2, f) == 2 && fwrite(ev->rec, 1, ev->len, f) == ev->len)
		o->rc = 0;
	if (fclose(f) != 0)
		o->rc = -1;
}

int
main(int argc, char **argv)
{
	struct identity id;
	struct room_self me;
	struct room *r;
	struct out o = { "", -1 };
	uint8_t rid[ROOM_ID_LEN];
	char path[4096], err[512], hex[ROOM_ID_LEN * 2 + 1];

	if (argc != 3 || sodium_init() < 0) {
		fprintf(stderr, "usage: room_forge HOME NAME\n");
		return 2;
	}
	snprintf(path, sizeof path, "%s/identity", argv[1]);
	if (identity_load(&id, path, err, sizeof err) != 0) {
		fprintf(stderr, "room_forge: %s\n", err);
		return 1;
	}
	room_self_init(&me, id.pub, id.priv);
	randombytes_buf(rid, sizeof rid);
	sodium_bin2hex(hex, sizeof hex, rid, sizeof rid);
	snprintf(o.path, sizeof o.path, "%s/rooms/%s.log", argv[1], hex);
	if ((r = room_create(&me, rid, argv[2], strlen(argv[2]), 100, 1, put, &o)) == NULL || o.rc != 0) {
		fprintf(stderr, "room_forge: cannot write %s\n", o.path);
		return 1;
	}
	room_free(r);
	printf("%s\n", hex);
	return 0;
}
