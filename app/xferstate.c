/* xferstate.c - resume-state files of transfers (see xferstate.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "log.h"
#include "mem.h"
#include "persist.h"
#include "xferstate.h"

#define DIGEST_HEX 65   /* an offer digest in hex, NUL included */

/* Path of the resume state file for an incoming transfer. */
static int
in_path(const struct xfer *x, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s.in", x->core->xfer_dir, x->idhex);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* Where an outgoing transfer is saved: XFER_DIR/ID.out. */
static int
out_path(const struct xfer *x, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s.out", x->core->xfer_dir, x->idhex);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* A digest of the offer (sender key + every entry) to recognise it when sent again. */
static void
offer_digest(const struct xfer *x, char out[DIGEST_HEX])
{
	crypto_generichash_state st;
	uint8_t d[32], num[8 + 8 + 4 + 1];
	size_t i;

	crypto_generichash_init(&st, NULL, 0, sizeof d);
	crypto_generichash_update(&st, x->peer->pk, ID_KEYLEN);
	for (i = 0; i < x->list.n; i++) {
		const struct xfs_entry *e = &x->list.v[i];
		uint64_t sz = e->size, mt = (uint64_t)e->mtime_ns;
		int k;

		crypto_generichash_update(&st, (const uint8_t *)e->rel, strlen(e->rel) + 1);
		for (k = 0; k < 8; k++) {
			num[k] = (uint8_t)(sz >> (56 - 8 * k));
			num[8 + k] = (uint8_t)(mt >> (56 - 8 * k));
		}
		num[16] = (uint8_t)(e->mode >> 24); num[17] = (uint8_t)(e->mode >> 16);
		num[18] = (uint8_t)(e->mode >> 8);  num[19] = (uint8_t)e->mode;
		num[20] = (uint8_t)e->type;
		crypto_generichash_update(&st, num, sizeof num);
	}
	crypto_generichash_final(&st, d, sizeof d);
	sodium_bin2hex(out, DIGEST_HEX, d, sizeof d);
}

/* Write an incoming transfer's resume state to f (persist_writer_fn). */
static int
in_write(FILE *f, void *arg)
{
	struct xfer *x = arg;
	char digest[DIGEST_HEX];
	size_t i;

	offer_digest(x, digest);
	fprintf(f, "confab-transfer-in 1\npeer %s\nid %s\ndigest %s\ntag %s\ntarget %s\n",
	    x->peer->fp, x->idhex, digest, x->tag, x->target);
	for (i = 0; i < x->list.n; i++) {
		uint64_t off = x->start[i];

		if (x->list.v[i].type != XFS_FILE)
			continue;
		if (x->fdone[i] == FDONE_DURABLE)
			fprintf(f, "done %zu\n", i);
		else if (x->fdone[i])
			continue;   /* not flushed yet: after a crash it is sent again */
		else if (i == x->cur && x->cur_open)
			fprintf(f, "part %zu %llu\n", i, (unsigned long long)x->last_sync);
		else if (off > 0)
			fprintf(f, "part %zu %llu\n", i, (unsigned long long)off);
	}
	return 0;
}

/* Persist an accepted incoming transfer (see xferstate.h). */
int
xstate_in_save(struct xfer *x)
{
	char path[PATH_MAX], err[PATH_MAX + 64];

	if (in_path(x, path, sizeof path) == -1) {
		log_warn("transfer %s: cannot save resume state: path too long", x->idhex);
		return -1;
	}
	if (persist_atomic_write(path, 0600, 0, in_write, x, err, sizeof err) != 0) {
		log_warn("transfer %s: cannot save resume state: %s", x->idhex, err);
		return -1;
	}
	return 0;
}

/* Remove the resume state of an incoming transfer. */
void
xstate_in_remove(struct xfer *x)
{
	char path[PATH_MAX];

	if (in_path(x, path, sizeof path) == 0)
		unlink(path);
}

/* Remove the resume state saved under another id (the offer came again with a new one). */
void
xstate_in_remove_id(struct core *c, const char *idhex)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof path, "%s/%s.in", c->xfer_dir, idhex) < (int)sizeof path)
		unlink(path);
}

/* What one ID.in file says (in_read). */
struct in_state {
	char fp[FP_LEN + 2], digest[DIGEST_HEX], tag[sizeof ((struct xfer *)0)->tag];
	char id[XFER_ID_HEX + 1], target[PATH_MAX];
};

/*
 * Read one resume state file: its header into st, its per-file lines into
 * x->start and x->fdone (zeroed first; lines that do not fit x's list are
 * ignored).  Returns 0, or -1 if it cannot be opened.
 */
static int
in_read(const char *path, struct xfer *x, struct in_state *st)
{
	char line[PATH_MAX + 32];
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	memset(st, 0, sizeof *st);
	memset(x->start, 0, x->list.n * sizeof *x->start);
	memset(x->fdone, 0, x->list.n);
	while (fgets(line, sizeof line, f) != NULL) {
		unsigned long long off;
		size_t idx;
		char *nl = strchr(line, '\n');

		if (nl != NULL)
			*nl = '\0';
		if (sscanf(line, "peer %53s", st->fp) == 1 || sscanf(line, "digest %64s", st->digest) == 1 ||
		    sscanf(line, "tag %16s", st->tag) == 1 || sscanf(line, "id %32s", st->id) == 1)
			continue;
		if (strncmp(line, "target ", 7) == 0) {
			if (strlen(line + 7) < sizeof st->target)
				memcpy(st->target, line + 7, strlen(line + 7) + 1);
			continue;
		}
		if (sscanf(line, "done %zu", &idx) == 1 && idx < x->list.n &&
		    x->list.v[idx].type == XFS_FILE) {
			x->fdone[idx] = FDONE_DURABLE;
			continue;
		}
		if (sscanf(line, "part %zu %llu", &idx, &off) == 2 && idx < x->list.n &&
		    x->list.v[idx].type == XFS_FILE && off <= x->list.v[idx].size)
			x->start[idx] = off;
	}
	fclose(f);
	return 0;
}

/* Whether a state read by in_read is x's: the same peer and offer, and complete. */
static int
in_match(const struct xfer *x, const struct in_state *st, const char *digest)
{
	return strcmp(st->fp, x->peer->fp) == 0 && strcmp(st->digest, digest) == 0 &&
	    strlen(st->tag) == 16 && st->target[0] == '/';
}

/* Load saved state matching x (see xferstate.h). */
int
xstate_in_load(struct xfer *x, char oldid[XFER_ID_HEX + 1])
{
	char path[PATH_MAX + 300], want[DIGEST_HEX], *target;
	struct in_state st;
	struct dirent *de;
	size_t nl;
	DIR *d;
	int found = 0;

	offer_digest(x, want);
	/* first the file of x's own id, then any file in the directory */
	if (in_path(x, path, sizeof path) == 0 && in_read(path, x, &st) == 0)
		found = in_match(x, &st, want);
	if (!found && (d = opendir(x->core->xfer_dir)) != NULL) {
		while (!found && (de = readdir(d)) != NULL) {
			nl = strlen(de->d_name);
			if (nl != XFER_ID_HEX + 3 || strcmp(de->d_name + XFER_ID_HEX, ".in") != 0 ||
			    snprintf(path, sizeof path, "%s/%s", x->core->xfer_dir, de->d_name) >= (int)sizeof path)
				continue;
			if (in_read(path, x, &st) == 0)
				found = in_match(x, &st, want);
		}
		closedir(d);
	}
	if (!found || (target = strdup(st.target)) == NULL) {
		memset(x->start, 0, x->list.n * sizeof *x->start);
		memset(x->fdone, 0, x->list.n);
		return 0;
	}
	memcpy(oldid, st.id, XFER_ID_HEX + 1);
	memcpy(x->tag, st.tag, sizeof x->tag);
	free(x->target);
	x->target = target;
	return 1;
}

/* What xstate_out_save writes. */
struct out_arg {
	struct xfer  *x;
	char *const  *paths;
	int           npaths;
};

/* Write an outgoing transfer's file to f (persist_writer_fn). */
static int
out_write(FILE *f, void *arg)
{
	const struct out_arg *a = arg;
	char keyhex[XFER_KEY_LEN * 2 + 1], *abs;
	size_t i, n;
	int k;

	sodium_bin2hex(keyhex, sizeof keyhex, a->x->key, sizeof a->x->key);
	fprintf(f, "confab-transfer-out 1\npeer %s\nid %s\nkey %s\ntotal %llu\n", a->x->peer->fp,
	    a->x->idhex, keyhex, (unsigned long long)a->x->total);
	sodium_memzero(keyhex, sizeof keyhex);
	if (a->x->room[0] != '\0')
		fprintf(f, "room %s\n", a->x->room);
	for (k = 0; k < a->npaths; k++) {
		const char *p = (abs = realpath(a->paths[k], NULL)) != NULL ? abs : a->paths[k];

		fputs("path ", f);
		for (i = 0, n = strlen(p); i < n; i++)
			fprintf(f, "%02x", (unsigned char)p[i]);
		fputc('\n', f);
		free(abs);
	}
	return 0;
}

/* Save an outgoing transfer for a restart (see xferstate.h). */
void
xstate_out_save(struct xfer *x, char *const *paths, int npaths)
{
	struct out_arg a = { x, paths, npaths };
	char path[PATH_MAX], err[PATH_MAX + 64];

	if (x->core->opt.no_reconnect)
		return;
	if (out_path(x, path, sizeof path) == -1)
		log_warn("transfer %s: cannot save it for a restart: path too long", x->idhex);
	else if (persist_atomic_write(path, 0600, 0, out_write, &a, err, sizeof err) != 0)
		log_warn("transfer %s: cannot save it for a restart: %s", x->idhex, err);
}

/* An outgoing transfer has ended: it is no longer saved. */
void
xstate_out_remove(struct xfer *x)
{
	char path[PATH_MAX];

	if (x->dir == XFER_OUT && !x->core->opt.no_reconnect && out_path(x, path, sizeof path) == 0)
		unlink(path);
}

/* Decode hex text into at most outlen - 1 bytes, NUL-terminated; -1 if not hex. */
static int
unhex(const char *hex, char *out, size_t outlen)
{
	size_t bin_len;

	if (sodium_hex2bin((unsigned char *)out, outlen - 1, hex, strlen(hex), NULL, &bin_len, NULL) != 0)
		return -1;
	out[bin_len] = '\0';
	return memchr(out, '\0', bin_len) == NULL ? 0 : -1;
}

/* Read an ID.out file (see xferstate.h). */
int
xstate_out_read(const char *file, struct xstate_out *o)
{
	char line[PATH_MAX * 2 + 16], p[PATH_MAX], **np;
	FILE *f;
	int rc = 0;

	memset(o, 0, sizeof *o);
	if ((f = fopen(file, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, "confab-transfer-out 1") == 0)
			o->magic = 1;
		else if (strncmp(line, "peer ", 5) == 0)
			snprintf(o->fp, sizeof o->fp, "%.*s", FP_LEN, line + 5);
		else if (strncmp(line, "id ", 3) == 0)
			snprintf(o->idhex, sizeof o->idhex, "%.*s", XFER_ID_HEX, line + 3);
		else if (strncmp(line, "key ", 4) == 0)
			snprintf(o->keyhex, sizeof o->keyhex, "%.*s", XFER_KEY_LEN * 2, line + 4);
		else if (strncmp(line, "total ", 6) == 0)
			o->total = strtoull(line + 6, NULL, 10);
		else if (strncmp(line, "room ", 5) == 0 && strlen(line + 5) == XFER_ROOM_HEX &&
		    strspn(line + 5, "0123456789abcdef") == XFER_ROOM_HEX)
			memcpy(o->room, line + 5, XFER_ROOM_HEX + 1);
		else if (strncmp(line, "path ", 5) == 0) {
			if ((np = mem_grow(o->paths, &o->apaths, o->npaths + 1, sizeof *np, 8, 0)) == NULL) {
				rc = -1;
				break;
			}
			o->paths = np;
			o->paths[o->npaths] = NULL;   /* a damaged path */
			if (unhex(line + 5, p, sizeof p) == 0 && (o->paths[o->npaths] = strdup(p)) == NULL) {
				rc = -1;
				break;
			}
			o->npaths++;
		}
	}
	sodium_memzero(line, sizeof line);
	fclose(f);
	if (rc != 0)
		xstate_out_free(o);
	return rc;
}

/* Free what xstate_out_read kept (see xferstate.h). */
void
xstate_out_free(struct xstate_out *o)
{
	size_t i;

	for (i = 0; i < o->npaths; i++)
		free(o->paths[i]);
	free(o->paths);
	sodium_memzero(o->keyhex, sizeof o->keyhex);
	o->paths = NULL;
	o->npaths = o->apaths = 0;
}
