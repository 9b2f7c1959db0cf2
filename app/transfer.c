/* transfer.c - file drop: offers, acceptance, streaming, resume and verification. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>

#include "log.h"
#include "rooms.h"
#include "text.h"
#include "transfer.h"
#include "xferstate.h"

#define CHECKPOINT_BYTES  (64ull * 1024 * 1024)   /* persist resume state this often */
#define CHECKPOINT_MS     2000
#define WRITEBACK_BYTES   (8u * 1024 * 1024)      /* start write-back this often */
#define PROGRESS_MS       250
#define MAC_CHUNK         (1024 * 1024)
#define FINISHED_KEEP     64                       /* finished transfers kept for display */
#define REFUSED_SHOWN     96                       /* bytes of a refused name quoted in the reason */

static void xfer_fail(struct xfer *, enum xfer_state, uint8_t cancel_reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Name of a state as shown to people and scripts. */
const char *
xfer_state_name(enum xfer_state st)
{
	switch (st) {
	case XS_OFFERING:  return "offering";
	case XS_PENDING:   return "pending";
	case XS_RUNNING:   return "running";
	case XS_WAITING:   return "waiting";
	case XS_DONE:      return "done";
	case XS_FAILED:    return "failed";
	case XS_CANCELLED: return "cancelled";
	case XS_REJECTED:  return "rejected";
	}
	return "unknown";
}

/* Whether a state is final. */
static int
finished(enum xfer_state st)
{
	return st == XS_DONE || st == XS_FAILED || st == XS_CANCELLED || st == XS_REJECTED;
}

/* Tell the front-end about a transfer. */
static void
emit(struct xfer *x, enum core_event_type type)
{
	struct core_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = type;
	ev.peer = x->peer;
	ev.xfer = x;
	ev.id = x->idhex;
	core_emit(x->core, &ev);
}

/* Report progress, at most every PROGRESS_MS (always when forced). */
static void
progress(struct xfer *x, int force)
{
	uint64_t now = loop_now(x->core->loop), el;

	if (!force && now - x->t_progress < PROGRESS_MS)
		return;
	el = now > x->t_start ? now - x->t_start : 1;
	x->rate = x->wire * 1000 / el;
	x->t_progress = now;
	emit(x, EV_PROGRESS);
}

/* Queue a control record for the transfer's peer; -1 if it is not connected. */
static int
send_ctrl(struct peer *p, struct buf *b)
{
	if (p->sess == NULL || !p->hello)
		return -1;
	return session_send_buf(p->sess, b);
}

/* Send CANCEL for x with a reason. */
static void
send_cancel(struct xfer *x, uint8_t reason, const char *text)
{
	struct buf b;

	buf_init(&b, 512);
	if (wire_put_cancel(&b, x->handle, x->dir == XFER_OUT ? XDIR_SENDING : XDIR_RECEIVING,
	    reason, text) == BUF_OK)
		send_ctrl(x->peer, &b);
	buf_free(&b);
}

static struct xfer *xfer_new(struct core *, struct peer *, enum xfer_dir);
static void xfer_destroy(struct xfer *);
static int  alloc_files(struct xfer *, size_t);

/* Load one saved outgoing transfer (see xstate_out_save); 0, or -1 if the file is unusable. */
static int
out_load(struct core *c, const char *file)
{
	char err[512];
	struct xstate_out o;
	uint8_t pk[ID_KEYLEN];
	struct peer *peer;
	struct xfer *x = NULL;
	size_t bin_len, n, i;
	int rc = -1;
	const char *why = NULL;

	if (xstate_out_read(file, &o) == -1)
		return -1;
	if (!o.magic || o.npaths == 0 || fp_decode(o.fp, pk) != 0 ||
	    (peer = core_peer_get(c, pk, 1)) == NULL || (x = xfer_new(c, peer, XFER_OUT)) == NULL)
		goto out;
	for (i = 0; i < o.npaths && why == NULL; i++) {
		if (o.paths[i] == NULL)
			why = "a damaged path";
		else if (xfs_walk(&x->list, o.paths[i], err, sizeof err) == -1)
			why = err;
	}
	if (strlen(o.idhex) != XFER_ID_HEX ||
	    sodium_hex2bin(x->id, sizeof x->id, o.idhex, strlen(o.idhex), NULL, &bin_len, NULL) != 0 ||
	    bin_len != sizeof x->id ||
	    sodium_hex2bin(x->key, sizeof x->key, o.keyhex, strlen(o.keyhex), NULL, &bin_len, NULL) != 0 ||
	    bin_len != sizeof x->key)
		goto out;
	memcpy(x->idhex, o.idhex, sizeof x->idhex);
	memcpy(x->room, o.room, sizeof x->room);
	x->handle = ++c->next_handle;
	n = x->list.n;
	if (alloc_files(x, n) == -1)
		goto out;
	x->total = x->list.total;
	x->t_start = x->t_progress = loop_now(c->loop);
	if (why == NULL && (x->list.total != o.total || n == 0))
		why = "the files changed since it was offered";
	if (why != NULL) {
		x->reason = strdup(why);
		x->state = XS_FAILED;
		log_warn("transfer %s (saved): %s", x->idhex, why);
		unlink(file);
	} else {
		x->state = XS_WAITING;
		log_info("transfer %s: saved by the last run: %zu entries, %llu bytes to %s, waiting for it",
		    x->idhex, n, (unsigned long long)x->total, x->peer->fp);
	}
	x = NULL;
	rc = 0;
out:
	if (x != NULL) {
		c->xfers = x->next;   /* xfer_new put it first */
		xfer_destroy(x);
	}
	xstate_out_free(&o);
	return rc;
}

/* Load the outgoing transfers saved by an earlier run. */
size_t
xfer_load_outgoing(struct core *c)
{
	char path[PATH_MAX];
	struct dirent *d;
	size_t n = 0, len;
	DIR *dir;

	if (c->opt.no_reconnect || (dir = opendir(c->xfer_dir)) == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL) {
		len = strlen(d->d_name);
		if (len != XFER_ID_HEX + 4 || strcmp(d->d_name + XFER_ID_HEX, ".out") != 0 ||
		    snprintf(path, sizeof path, "%s/%s", c->xfer_dir, d->d_name) >= (int)sizeof path)
			continue;
		if (out_load(c, path) == 0)
			n++;
		else
			log_warn("%s: unusable, ignored", path);
	}
	closedir(dir);
	return n;
}

/* Close the current file of a transfer, if any. */
static void
close_current(struct xfer *x)
{
	if (x->cur_open) {
		close(x->fd);
		x->cur_open = 0;
		x->fd = -1;
	}
}

/*
 * A transfer has ended: keep what the front-end shows of it (xfer_contents)
 * and free its entry list and per-file state, which an offer of 100,000 long
 * names makes big.
 */
static void
drop_entries(struct xfer *x)
{
	struct xfer_contents ct;

	xfer_contents(x, &ct);
	x->nfiles = ct.files;
	x->ndirs = ct.dirs;
	x->ntop = ct.top;
	x->first_dir = ct.first_dir;
	if (ct.first != NULL && x->first == NULL)
		x->first = strdup(ct.first);   /* NULL (out of memory) only loses the label */
	xfs_list_free(&x->list);
	free(x->start);
	free(x->fdone);
	x->start = NULL;
	x->fdone = NULL;
	x->names = 0;
}

/* Move a transfer to a final or waiting state and tell the front-end. */
static void
set_state(struct xfer *x, enum xfer_state st)
{
	x->state = st;
	if (st != XS_OFFERING)
		loop_timer_del(x->core->loop, &x->idle);
	if (finished(st))
		xstate_out_remove(x);   /* an outgoing transfer that ended is no longer saved */
	if (finished(st) || st == XS_WAITING) {
		close_current(x);
		loop_timer_del(x->core->loop, &x->result_timer);
	}
	if (finished(st) && x->stage != NULL) {
		xfs_stage_close(x->stage);
		x->stage = NULL;
	}
	emit(x, EV_TRANSFER);
	if (finished(st))
		drop_entries(x);
}

/* What a transfer holds (see transfer.h): from its list, or what was kept of it. */
void
xfer_contents(const struct xfer *x, struct xfer_contents *ct)
{
	const struct xfs_entry *e;
	size_t i;

	memset(ct, 0, sizeof *ct);
	if (x->list.n == 0) {
		ct->files = x->nfiles;
		ct->dirs = x->ndirs;
		ct->top = x->ntop;
		ct->first = x->first;
		ct->first_dir = x->first_dir;
		return;
	}
	for (i = 0; i < x->list.n; i++) {
		e = &x->list.v[i];
		if (e->type == XFS_DIR)
			ct->dirs++;
		else
			ct->files++;
		if (strchr(e->rel, '/') != NULL)
			continue;
		if (ct->first == NULL) {
			ct->first = e->rel;
			ct->first_dir = e->type == XFS_DIR;
		}
		ct->top++;
	}
}

/* xfer_fail's cancel reason for "the peer knows already / must not be told". */
#define XCANCEL_SILENT 255

/* End a transfer unsuccessfully: tell the peer (unless XCANCEL_SILENT) and the user. */
static void
xfer_fail(struct xfer *x, enum xfer_state st, uint8_t cancel_reason, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (finished(x->state))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	log_info("transfer %s: %s: %s", x->idhex, xfer_state_name(st), text);
	free(x->reason);
	x->reason = strdup(text);
	if (cancel_reason != XCANCEL_SILENT)
		send_cancel(x, cancel_reason, text);
	set_state(x, st);
}

/* Free one transfer. */
static void
xfer_destroy(struct xfer *x)
{
	close_current(x);
	loop_timer_del(x->core->loop, &x->idle);
	loop_timer_del(x->core->loop, &x->result_timer);
	if (x->stage != NULL)
		xfs_stage_close(x->stage);
	xfs_list_free(&x->list);
	free(x->start);
	free(x->fdone);
	free(x->first);
	free(x->reason);
	free(x->result);
	while (x->nfinals > 0)
		free(x->finals[--x->nfinals]);
	free(x->finals);
	free(x->target);
	sodium_memzero(x->key, sizeof x->key);
	free(x);
}

/* Drop the oldest finished transfers beyond FINISHED_KEEP. */
static void
prune(struct core *c)
{
	struct xfer **pp, *x;
	int kept = 0;

	for (pp = &c->xfers; (x = *pp) != NULL;) {
		if (finished(x->state) && ++kept > FINISHED_KEEP) {
			*pp = x->next;
			xfer_destroy(x);
			continue;
		}
		pp = &x->next;
	}
}

static void offer_idle(struct loop *, struct loop_timer *, void *);

/*
 * XFER_DONE went out long ago and no XFER_RESULT (nor CANCEL) came back:
 * end the transfer on both sides rather than show it running for ever.
 */
static void
result_timeout(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct xfer *x = arg;

	(void)loop;
	(void)t;
	if (x->dir == XFER_OUT && x->state == XS_RUNNING && x->all_sent)
		xfer_fail(x, XS_FAILED, XCANCEL_FAILED, "no result from the receiver within %d s",
		    WIRE_RESULT_TIMEOUT_MS / 1000);
}

/* Make a new transfer in the list. */
static struct xfer *
xfer_new(struct core *c, struct peer *p, enum xfer_dir dir)
{
	static uint64_t serial;
	struct xfer *x;

	prune(c);
	if ((x = calloc(1, sizeof *x)) == NULL)
		return NULL;
	loop_timer_init(&x->idle, offer_idle, x);
	x->serial = ++serial;   /* xfer_bulk reorders c->xfers: listings sort by this */
	x->core = c;
	x->peer = p;
	x->dir = dir;
	x->fd = -1;
	loop_timer_init(&x->result_timer, result_timeout, x);
	x->next = c->xfers;
	c->xfers = x;
	return x;
}

/* Allocate the per-file arrays once the entry count is known. */
static int
alloc_files(struct xfer *x, size_t n)
{
	x->start = calloc(n ? n : 1, sizeof *x->start);
	x->fdone = calloc(n ? n : 1, 1);
	return x->start != NULL && x->fdone != NULL ? 0 : -1;
}

/* Find a transfer by peer, handle and direction. */
static struct xfer *
by_handle(struct core *c, struct peer *p, uint32_t handle, enum xfer_dir dir)
{
	struct xfer *x;

	for (x = c->xfers; x != NULL; x = x->next)
		if (x->peer == p && x->handle == handle && x->dir == dir && !finished(x->state))
			return x;
	return NULL;
}

/* Find a transfer by id prefix. */
struct xfer *
xfer_find(struct core *c, const char *prefix, const char **why)
{
	struct xfer *x, *found = NULL;
	size_t n = strlen(prefix);
	int matches = 0;

	*why = NULL;
	if (n < 4) {
		*why = "a transfer id needs 4 characters at least";
		return NULL;
	}
	for (x = c->xfers; x != NULL; x = x->next) {
		if (x->hidden || strncasecmp(x->idhex, prefix, n) != 0)
			continue;   /* hidden: superseded or cleared */
		if (found != NULL && strcmp(found->idhex, x->idhex) != 0)
			matches++;   /* another transfer: never guess which one was meant */
		/* copies of one offer sent again: the one under way, else the newest */
		if (found == NULL || (finished(found->state) && !finished(x->state)) ||
		    (finished(found->state) == finished(x->state) && x->serial > found->serial))
			found = x;
	}
	if (found == NULL) {
		*why = "no such transfer";
	} else if (matches > 0) {
		*why = "ambiguous transfer id: it starts several transfers, type more of it";
		found = NULL;
	}
	return found;
}

/*
 * A Poly1305 MAC of the first len bytes of fd under a key derived from the
 * offer key and the file index: the proof that a partial file matches.
 */
static int
prefix_mac(const uint8_t key[XFER_KEY_LEN], uint32_t index, int fd, uint64_t len,
    uint8_t mac[XFER_MAC_LEN])
{
	crypto_onetimeauth_state st;
	uint8_t k[crypto_onetimeauth_KEYBYTES], full[crypto_onetimeauth_BYTES], ctx[8];
	uint8_t *chunk;
	uint64_t off = 0;
	ssize_t r;

	memcpy(ctx, "cfresume", 8);
	if (crypto_kdf_derive_from_key(k, sizeof k, index, (const char *)ctx, key) != 0)
		return -1;
	if ((chunk = malloc(MAC_CHUNK)) == NULL)
		return -1;
	crypto_onetimeauth_init(&st, k);
	while (off < len) {
		size_t want = len - off > MAC_CHUNK ? MAC_CHUNK : (size_t)(len - off);

		r = pread(fd, chunk, want, (off_t)off);
		if (r <= 0) {
			free(chunk);
			return -1;
		}
		crypto_onetimeauth_update(&st, chunk, (size_t)r);
		off += (uint64_t)r;
	}
	free(chunk);
	crypto_onetimeauth_final(&st, full);
	memcpy(mac, full, XFER_MAC_LEN);
	sodium_memzero(k, sizeof k);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Sending                                                                    */

/* (Re)start offering x to its peer: OFFER now, the entries through the bulk path. */
static void
offer_start(struct xfer *x)
{
	struct buf b;
	size_t i;

	close_current(x);
	if (x->peer->caps & CAP_NOFILES) {
		xfer_fail(x, XS_FAILED, XCANCEL_SILENT, "%s takes no files", x->peer->nick);
		return;
	}
	x->sent_entries = 0;
	x->resumes_due = x->resumes_got = 0;
	x->cur = 0;
	x->off = 0;
	x->all_sent = 0;
	x->done = x->wire = x->resumed = 0;
	for (i = 0; i < x->list.n; i++) {
		x->start[i] = 0;
		x->fdone[i] = 0;
	}
	if (x->room[0] != '\0')
		rooms_offer_tag(x->core, x->peer, x->room, x->id);   /* PROTOCOL.md 13.10 */
	buf_init(&b, 256);
	if (wire_put_offer(&b, x->id, x->handle, (uint32_t)x->list.n, x->total, x->key) == BUF_OK &&
	    send_ctrl(x->peer, &b) == 0) {
		x->state = XS_OFFERING;
		session_want_bulk(x->peer->sess);
		emit(x, EV_TRANSFER);
	}
	buf_free(&b);
}

/*
 * Check, before any connection, that paths name something to send and that
 * every file among them opens for reading: 0, or -1 with the reason in err.
 */
int
xfer_paths_check(char *const *paths, int npaths, char *err, size_t errlen)
{
	struct xfs_list l;
	char why[512], clean[XFS_PATH_MAX * 3 + 1];
	size_t k;
	int i, fd, rc = -1;

	memset(&l, 0, sizeof l);
	for (i = 0; i < npaths; i++) {
		if (xfs_walk(&l, paths[i], why, sizeof why) == -1) {
			snprintf(err, errlen, "cannot send %s", why);
			goto out;
		}
	}
	if (l.n == 0) {
		snprintf(err, errlen, "nothing to send (symbolic links and special files are skipped)");
		goto out;
	}
	for (k = 0; k < l.n; k++) {
		if (l.v[k].type != XFS_FILE || l.v[k].src == NULL)
			continue;
		fd = open(l.v[k].src, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			text_sanitize((const uint8_t *)l.v[k].src, strlen(l.v[k].src), clean, sizeof clean, 0);
			snprintf(err, errlen, "cannot send %s: %s", clean, strerror(errno));
			goto out;
		}
		close(fd);
	}
	rc = 0;
out:
	xfs_list_free(&l);
	return rc;
}

/* /send: offer files and directories to a peer. */
int
xfer_send(struct core *c, struct peer *p, char *const *paths, int npaths, const char *cmd)
{
	return xfer_send_room(c, p, paths, npaths, cmd, NULL);
}

/* /send, to a peer or (room not NULL) to one member of a room. */
int
xfer_send_room(struct core *c, struct peer *p, char *const *paths, int npaths, const char *cmd,
    const char *room)
{
	struct xfer *x;
	char err[512];
	size_t names, k;
	int i;

	if (npaths == 0) {
		core_error(c, cmd, p, "usage: /send PEER PATH...");
		return -1;
	}
	if (core_refuse_blocked(c, p, cmd) == -1)
		return -1;
	if (p->hello && (p->caps & CAP_NOFILES)) {
		/* section 5, HELLO: a peer that says it takes no files gets no OFFER */
		core_error(c, cmd, p, "%s takes no files", p->nick);
		return -1;
	}
	if ((x = xfer_new(c, p, XFER_OUT)) == NULL) {
		core_error(c, cmd, p, "out of memory");
		return -1;
	}
	for (i = 0; i < npaths; i++) {
		if (xfs_walk(&x->list, paths[i], err, sizeof err) == -1) {
			core_error(c, cmd, p, "cannot send %s", err);
			goto fail;
		}
	}
	if (x->list.n == 0) {
		core_error(c, cmd, p, "nothing to send (symbolic links and special files are skipped)");
		goto fail;
	}
	for (names = 0, k = 0; k < x->list.n; k++)
		names += strlen(x->list.v[k].rel) + XFER_ENTRY_COST;
	if (names > XFER_OFFER_NAMES) {
		/* the receiver would refuse it (PROTOCOL.md, limits) */
		core_error(c, cmd, p, "cannot send %zu names at once: their length passes %u MiB; send fewer",
		    x->list.n, XFER_OFFER_NAMES >> 20);
		goto fail;
	}
	if (alloc_files(x, x->list.n) == -1) {
		core_error(c, cmd, p, "out of memory");
		goto fail;
	}
	randombytes_buf(x->id, sizeof x->id);
	sodium_bin2hex(x->idhex, sizeof x->idhex, x->id, sizeof x->id);
	randombytes_buf(x->key, sizeof x->key);
	x->handle = ++c->next_handle;
	x->total = x->list.total;
	x->t_start = x->t_progress = loop_now(c->loop);
	if (room != NULL)
		snprintf(x->room, sizeof x->room, "%s", room);
	log_info("transfer %s: offering %zu entries, %llu bytes to %s%s%s", x->idhex, x->list.n,
	    (unsigned long long)x->total, p->fp, room ? " in room " : "", room ? room : "");
	xstate_out_save(x, paths, npaths);   /* a restart does not lose it */
	core_peer_keep(c, p);   /* sending it a file: the user knows this peer */
	if (x->list.skipped > 0)
		core_note(c, &p->conv, LINE_SYSTEM, "%zu symbolic link(s) or special file(s) left out",
		    x->list.skipped);
	if (p->sess != NULL && p->hello) {
		offer_start(x);
	} else {
		x->state = XS_WAITING;
		emit(x, EV_TRANSFER);
		if (p->pending == NULL && core_connect_peer(c, p) == 0)
			p->auto_connecting = 1;   /* on demand; a failure is quiet: it waits */
	}
	return 0;
fail:
	c->xfers = x->next;
	xfer_destroy(x);
	return -1;
}

/* Produce the next OFFER_PART record. */
static int
bulk_offer_part(struct xfer *x, struct buf *b)
{
	uint16_t count = 0;

	if (wire_begin_list(b, REC_OFFER_PART, x->handle, x->sent_entries) != BUF_OK)
		return -1;
	while (x->sent_entries < x->list.n && count < UINT16_MAX) {
		const struct xfs_entry *e = &x->list.v[x->sent_entries];

		if (wire_put_entry(b, e->rel, strlen(e->rel), (uint8_t)e->type, e->size,
		    e->mtime_ns, e->mode) != BUF_OK)
			break;
		x->sent_entries++;
		count++;
	}
	if (count == 0)
		return -1;   /* an entry that does not fit in a record: cannot happen with XFER_PATH_MAX */
	wire_end_list(b, count);
	if (x->sent_entries == x->list.n) {
		x->state = XS_PENDING;
		emit(x, EV_TRANSFER);
	}
	return 1;
}

/* Whether the source file still looks like what we offered. */
static int
source_unchanged(int fd, const struct xfs_entry *e)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return 0;
	return (uint64_t)st.st_size == e->size &&
	    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec == e->mtime_ns;
}

/* Produce the next DATA, FILE_END or XFER_DONE record. */
static int
bulk_data(struct xfer *x, struct buf *b)
{
	const struct xfs_entry *e;
	uint8_t *w;
	size_t want;
	ssize_t r;
	int changed;

	for (;;) {
		if (x->cur >= x->list.n) {
			if (x->all_sent)
				return 0;
			x->all_sent = 1;
			if (wire_put_xfer_done(b, x->handle) != BUF_OK)
				return -1;
			loop_timer_set(x->core->loop, &x->result_timer, WIRE_RESULT_TIMEOUT_MS);
			progress(x, 1);
			return 1;
		}
		e = &x->list.v[x->cur];
		if (e->type != XFS_FILE || x->fdone[x->cur]) {
			x->cur++;
			continue;
		}
		break;
	}
	if (!x->cur_open) {
		x->fd = open(e->src, O_RDONLY | O_CLOEXEC);
		if (x->fd == -1 || !source_unchanged(x->fd, e)) {
			if (x->fd != -1)
				close(x->fd);
			x->fd = -1;
			xfer_fail(x, XS_FAILED, XCANCEL_FAILED, "%s changed or vanished since it was offered", e->rel);
			return 0;
		}
		x->cur_open = 1;
		x->off = x->start[x->cur];
		posix_fadvise(x->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	if (x->off < e->size) {
		want = e->size - x->off > XFER_DATA_MAX ? XFER_DATA_MAX : (size_t)(e->size - x->off);
		if (wire_put_data_hdr(b, x->handle, x->cur, x->off) != BUF_OK ||
		    buf_reserve(b, want, &w) != BUF_OK)
			return -1;
		r = pread(x->fd, w, want, (off_t)x->off);
		if (r <= 0) {
			xfer_fail(x, XS_FAILED, XCANCEL_FAILED, "cannot read %s: %s", e->rel,
			    r == 0 ? "file shrank" : strerror(errno));
			return 0;
		}
		buf_commit(b, (size_t)r);
		x->off += (uint64_t)r;
		x->wire += (uint64_t)r;
		x->done += (uint64_t)r;
		progress(x, 0);
		return 1;
	}
	/* the whole file went out: say so, and whether it stayed the same */
	changed = !source_unchanged(x->fd, e);
	if (wire_put_file_end(b, x->handle, x->cur, e->size, changed ? 1 : 0) != BUF_OK)
		return -1;
	close_current(x);
	if (changed) {
		/* section 6: status 1 ends the transfer; our CANCEL follows the FILE_END */
		xfer_fail(x, XS_FAILED, XCANCEL_FAILED, "%s changed during the transfer", e->rel);
		return 1;
	}
	x->cur++;
	return 1;
}

/* The rate limit allows more data again: wake every session with work. */
static void
rate_refill(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct core *c = arg;
	struct xfer *x;

	for (x = c->xfers; x != NULL; x = x->next)
		if (x->dir == XFER_OUT && x->state == XS_RUNNING && x->peer->sess != NULL)
			session_want_bulk(x->peer->sess);
}

/* --limit-rate: 1 if a full data record may go now; else arms the refill timer. */
static int
rate_ok(struct core *c)
{
	uint64_t wait = ratelimit_wait(&c->rate, loop_now(c->loop), XFER_DATA_MAX);

	if (wait == 0)
		return 1;
	if (!loop_timer_armed(&c->rate_timer))
		loop_timer_set(c->loop, &c->rate_timer, wait);
	return 0;
}

/* The session has room: produce one record for one of this peer's transfers. */
int
xfer_bulk(struct core *c, struct peer *p, struct buf *b)
{
	struct xfer *x, *pick = NULL;
	int r;

	/*
	 * Round robin: the transfer that produced a record last moves to the end
	 * of the candidates by taking the one after it next time.
	 */
	for (x = c->xfers; x != NULL; x = x->next) {
		if (x->peer != p || x->dir != XFER_OUT)
			continue;
		if ((x->state == XS_OFFERING && x->sent_entries < x->list.n) ||
		    (x->state == XS_RUNNING && !x->all_sent)) {
			if (pick == NULL || x->t_progress < pick->t_progress || x->handle == 0)
				pick = x;
		}
	}
	if (pick == NULL)
		return 0;
	if (pick->state == XS_RUNNING && !rate_ok(c))
		return 0;
	r = pick->state == XS_OFFERING ? bulk_offer_part(pick, b) : bulk_data(pick, b);
	if (r == 1 && pick->state == XS_RUNNING)
		ratelimit_spend(&c->rate, buf_len(b));
	pick->t_progress = pick->t_progress;   /* progress() keeps its own clock */
	if (r == 1) {
		/* move pick to the end of its peer's turn order */
		struct xfer **pp;

		for (pp = &c->xfers; *pp != pick; pp = &(*pp)->next)
			;
		*pp = pick->next;
		pick->next = NULL;
		for (pp = &c->xfers; *pp != NULL; pp = &(*pp)->next)
			;
		*pp = pick;
	}
	if (r == 0 && pick->state == XS_RUNNING && !finished(pick->state))
		return xfer_bulk(c, p, b);   /* that one had nothing after all: try the next */
	return r;
}

/* The receiver has said what it has: start streaming from the first file. */
static void
send_start(struct xfer *x)
{
	x->state = XS_RUNNING;
	x->t_start = x->t_progress = loop_now(x->core->loop);
	x->cur = 0;
	emit(x, EV_TRANSFER);
	session_want_bulk(x->peer->sess);
}

/* The receiver accepted; resume entries may follow. */
static void
got_accept(struct xfer *x, uint32_t nresume)
{
	if (x->state != XS_PENDING) {
		xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "accept out of order");
		return;
	}
	x->resumes_due = nresume;
	x->resumes_got = 0;
	if (nresume > x->list.n) {
		xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "too many resume entries");
		return;
	}
	if (nresume == 0)
		send_start(x);
}

/* Resume entries: check each partial file's proof, then start sending. */
static void
got_resume(struct xfer *x, struct rec_list *l)
{
	struct wire_resume e;
	uint8_t mac[XFER_MAC_LEN];
	int fd;

	if (x->state != XS_PENDING || x->resumes_got + l->count > x->resumes_due) {
		xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "unexpected resume entries");
		return;
	}
	while (wire_next_resume(l, &e) == 0) {
		const struct xfs_entry *f;

		x->resumes_got++;
		if (e.index >= x->list.n || x->list.v[e.index].type != XFS_FILE ||
		    e.offset > x->list.v[e.index].size ||
		    ((e.flags & XRESUME_DONE) && e.offset != x->list.v[e.index].size) ||
		    x->fdone[e.index] || x->start[e.index] != 0) {
			/* section 6: an index twice, or "whole" at another offset, is a lie */
			xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "bad resume entry");
			return;
		}
		f = &x->list.v[e.index];
		if (e.flags & XRESUME_DONE) {
			x->fdone[e.index] = 1;
			x->resumed += f->size;
			continue;
		}
		if (e.offset == 0)
			continue;
		fd = open(f->src, O_RDONLY | O_CLOEXEC);
		if (fd != -1 && source_unchanged(fd, f) &&
		    prefix_mac(x->key, e.index, fd, e.offset, mac) == 0 &&
		    sodium_memcmp(mac, e.mac, XFER_MAC_LEN) == 0) {
			x->start[e.index] = e.offset;
			x->resumed += e.offset;
		} else {
			log_info("transfer %s: %s: partial data does not match, sending it whole",
			    x->idhex, f->rel);
		}
		if (fd != -1)
			close(fd);
	}
	if (x->resumes_got < x->resumes_due)
		return;
	x->done = x->resumed;
	log_info("transfer %s: resuming, %llu bytes already there", x->idhex,
	    (unsigned long long)x->resumed);
	send_start(x);
}

/* ------------------------------------------------------------------------ */
/* Receiving                                                                  */

/* Check an offer that has all its entries: sizes add up, parents first, no duplicates. */
static const char *
offer_check(struct xfer *x, char *err, size_t errlen)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < x->list.n; i++) {
		const struct xfs_entry *e = &x->list.v[i];

		if (e->type == XFS_FILE && sum + e->size < sum)
			return "sizes overflow";
		sum += e->size;
	}
	if (sum != x->total)
		return "the declared total does not match the files";
	/* linear: an offer of 100,000 entries is checked in milliseconds */
	if (xfs_list_check(&x->list, err, errlen) != 0)
		return err;
	return NULL;
}

/*
 * Whether p is a friend rather than a stranger: a peer the user interacted
 * with (known: see core_peer_keep), verified, or has written to, and has not
 * blocked.  Strangers' offers are limited per address and give way to friends'.
 */
static int
friendly(const struct peer *p)
{
	if (p->trust == TRUST_BLOCKED)
		return 0;
	return p->known || p->trust == TRUST_VERIFIED || p->noutq > 0;
}

/* The address p's session comes from, as a key: IPv4 address, or IPv6 /64 prefix. */
static void
source_key(const struct peer *p, char *out, size_t outlen)
{
	const struct sockaddr *sa;
	const uint8_t *a6;
	socklen_t sl;

	snprintf(out, outlen, "?");
	if (p->sess == NULL || (sa = session_sockaddr(p->sess, &sl)) == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
		    (socklen_t)outlen);
		return;
	}
	if (sa->sa_family != AF_INET6)
		return;
	a6 = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)a6)) {
		inet_ntop(AF_INET, a6 + 12, out, (socklen_t)outlen);
		return;
	}
	snprintf(out, outlen, "%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64", a6[0], a6[1], a6[2], a6[3],
	    a6[4], a6[5], a6[6], a6[7]);
}

/* Whether x is an incoming offer not decided yet (it holds a slot). */
static int
undecided(const struct xfer *x)
{
	return x->dir == XFER_IN && (x->state == XS_OFFERING || x->state == XS_PENDING);
}

/* Refuse an offer at once with a CANCEL. */
static void
refuse_offer(struct peer *p, const struct rec_offer *o, uint8_t reason, const char *text)
{
	struct buf b;

	buf_init(&b, 256);
	if (wire_put_cancel(&b, o->handle, XDIR_RECEIVING, reason, text) == BUF_OK)
		send_ctrl(p, &b);
	buf_free(&b);
	log_warn("peer %s: offer refused (%u entries): %s", p->fp, o->count, text);
}

/* An incoming offer's entries stopped coming: drop it, freeing its slot. */
static void
offer_idle(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct xfer *x = arg;

	(void)loop;
	(void)t;
	if (x->state == XS_OFFERING)
		xfer_fail(x, XS_FAILED, XCANCEL_FAILED, "offer stalled: no entries for %d s",
		    XFER_OFFER_IDLE_MS / 1000);
}

/* An OFFER arrived: start collecting its entries, if there is room for it. */
static void
got_offer(struct core *c, struct peer *p, const struct rec_offer *o)
{
	struct xfer *x, *old, *evict = NULL;
	int pending_peer = 0, pending_all = 0, pending_addr = 0, stranger = !friendly(p);
	char from[sizeof x->from];

	/* an offer sent again (after a reconnect) replaces the old copy: say so, free its slot */
	for (old = c->xfers; old != NULL; old = old->next) {
		if (old->dir == XFER_IN && old->peer == p && memcmp(old->id, o->id, WIRE_ID_LEN) == 0 &&
		    !finished(old->state)) {
			old->hidden = 1;   /* one entry per transfer: the new copy is the one listed */
			xfer_fail(old, XS_FAILED, XCANCEL_SILENT, "replaced by the same offer sent again");
		}
	}
	if (o->count == 0 || o->count > XFS_ENTRIES_MAX) {
		refuse_offer(p, o, XCANCEL_PROTOCOL, "bad entry count");
		return;
	}
	source_key(p, from, sizeof from);
	for (x = c->xfers; x != NULL; x = x->next) {
		if (!undecided(x))
			continue;
		pending_all++;
		if (x->peer == p)
			pending_peer++;
		if (x->stranger && strcmp(x->from, from) == 0)
			pending_addr++;
		if (x->stranger && (evict == NULL || x->serial < evict->serial))
			evict = x;   /* the oldest stranger's offer */
	}
	if (pending_peer >= XFER_PENDING_PEER) {
		refuse_offer(p, o, XCANCEL_BUSY, "too many offers waiting");
		return;
	}
	if (stranger && pending_addr >= XFER_PENDING_ADDR) {
		refuse_offer(p, o, XCANCEL_BUSY, "too many offers waiting from your address");
		return;
	}
	if (pending_all >= XFER_PENDING_ALL) {
		if (stranger || evict == NULL) {
			refuse_offer(p, o, XCANCEL_BUSY, "too many offers waiting");
			return;
		}
		/* strangers never starve a friend: the oldest stranger's offer gives way */
		xfer_fail(evict, XS_FAILED, XCANCEL_BUSY, "dropped to make room for a friend's offer");
	}
	if ((x = xfer_new(c, p, XFER_IN)) == NULL)
		return;
	memcpy(x->id, o->id, WIRE_ID_LEN);
	sodium_bin2hex(x->idhex, sizeof x->idhex, x->id, WIRE_ID_LEN);
	memcpy(x->key, o->key, XFER_KEY_LEN);
	x->handle = o->handle;
	x->expect = o->count;
	x->total = o->total;
	x->state = XS_OFFERING;
	x->stranger = stranger;
	memcpy(x->from, from, sizeof x->from);
	rooms_offer_room(c, p, x->id, x->room, sizeof x->room);   /* a ROOM_FILE came before it */
	x->t_start = x->t_progress = loop_now(c->loop);
	loop_timer_set(c->loop, &x->idle, XFER_OFFER_IDLE_MS);
}

/*
 * Whether policy accepts x without asking: an offer sent again that we had
 * accepted before (its saved state carries the same id), or confab recv
 * --yes from the one peer the user named.
 */
static int
auto_accept(struct core *c, struct xfer *x)
{
	char oldid[XFER_ID_HEX + 1] = "";

	if (xstate_in_load(x, oldid) && strcmp(oldid, x->idhex) == 0) {
		log_info("transfer %s: offered again, resuming into %s", x->idhex, x->target);
		return 1;
	}
	free(x->target);
	x->target = NULL;
	if (c->opt.auto_accept_verified && x->peer->trust == TRUST_VERIFIED) {
		log_info("transfer %s: accepted without asking: %s is verified", x->idhex, x->peer->fp);
		return 1;
	}
	return c->opt.accept_from != NULL && strcmp(c->opt.accept_from, x->peer->fp) == 0;
}

/* OFFER_PART: more entries of an offer being collected. */
static void
got_offer_part(struct core *c, struct peer *p, struct rec_list *l)
{
	struct xfer *x = by_handle(c, p, l->handle, XFER_IN), *y;
	struct wire_entry e;
	const char *why;
	char err[512];
	size_t peer_names = 0, all_names = 0, cost;

	if (x == NULL || x->state != XS_OFFERING)
		return;   /* for an offer we refused or dropped */
	if (l->first != x->list.n || x->list.n + l->count > x->expect) {
		xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "offer entries out of order or too many");
		return;
	}
	for (y = c->xfers; y != NULL; y = y->next) {
		if (!undecided(y))
			continue;
		if (y->stranger)
			all_names += y->names;
		if (y->peer == p)
			peer_names += y->names;
	}
	while (wire_next_entry(l, &e) == 0) {
		/* bounded memory: names of this offer, of this peer's and of all strangers' offers */
		cost = e.path_len + XFER_ENTRY_COST;
		if (x->names + cost > XFER_OFFER_NAMES) {
			xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "bad offer: too big (its names pass %u MiB)",
			    XFER_OFFER_NAMES >> 20);
			return;
		}
		if (peer_names + cost > XFER_PEER_NAMES ||
		    (x->stranger && all_names + cost > XFER_ALL_NAMES)) {
			xfer_fail(x, XS_FAILED, XCANCEL_BUSY, "too many names waiting: %s",
			    peer_names + cost > XFER_PEER_NAMES ? "decide on the earlier offers first" :
			    "offers from other peers wait");
			return;
		}
		if (e.type > 1 || (e.type == 1 && e.size != 0)) {
			xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "bad offer: %s",
			    e.type > 1 ? "an entry of an unknown type" : "a directory with a size");
			return;
		}
		if (e.path_len == 0 || !xfs_path_ok((const char *)e.path, e.path_len, &why)) {
			if (e.path_len == 0)
				why = "empty name";
			/* name the culprit, neutralised, so the user sees what was refused */
			char shown[REFUSED_SHOWN * 3 + 1];

			text_sanitize(e.path, e.path_len > REFUSED_SHOWN ? REFUSED_SHOWN : e.path_len,
			    shown, sizeof shown, 0);
			xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "refused a file name \"%s\": %s", shown, why);
			return;
		}
		if (xfs_list_add(&x->list, (const char *)e.path, e.path_len, e.type, e.size,
		    e.mtime_ns, e.mode & 0777) == -1) {
			if (errno == E2BIG || errno == EINVAL)   /* the peer's fault, not ours */
				xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "bad offer: %s",
				    errno == E2BIG ? "sizes overflow or too many entries" : "bad entry");
			else
				xfer_fail(x, XS_FAILED, XCANCEL_FAILED, "out of memory");
			return;
		}
		x->names += cost;
		peer_names += cost;
		all_names += cost;
	}
	if (x->list.n < x->expect) {
		loop_timer_set(c->loop, &x->idle, XFER_OFFER_IDLE_MS);   /* more to come */
		return;
	}
	loop_timer_del(c->loop, &x->idle);
	if ((why = offer_check(x, err, sizeof err)) != NULL || alloc_files(x, x->list.n) == -1) {
		xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "bad offer: %s", why ? why : "out of memory");
		return;
	}
	x->state = XS_PENDING;
	log_info("transfer %s: offer from %s: %zu entries, %llu bytes", x->idhex, p->fp,
	    x->list.n, (unsigned long long)x->total);
	x->auto_accept = auto_accept(c, x);
	emit(x, EV_OFFER);
	if (x->auto_accept && x->state == XS_PENDING && xfer_accept(c, x, x->target, NULL) == -1 &&
	    x->state == XS_PENDING)
		xfer_reject(c, x, NULL);   /* nobody is asked: the sender must not wait for ever */
}

/* Whether a directory can take downloads (see transfer.h). */
int
xfer_dir_usable(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX], *slash;
	struct stat sb;
	size_t n;

	if (dir == NULL || *dir == '\0' || strlen(dir) >= sizeof path) {
		snprintf(err, errlen, "no directory, or a path too long");
		return -1;
	}
	snprintf(path, sizeof path, "%s", dir);
	for (;;) {
		if (stat(path, &sb) == 0) {
			if (!S_ISDIR(sb.st_mode)) {
				snprintf(err, errlen, "%s is not a directory", path);
				return -1;
			}
			if (access(path, W_OK | X_OK) != 0) {
				snprintf(err, errlen, "%s is not writable (%s)", path, strerror(errno));
				return -1;
			}
			return 0;
		}
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		/* it would be made: look at its parent */
		while ((n = strlen(path)) > 1 && path[n - 1] == '/')
			path[n - 1] = '\0';
		if ((slash = strrchr(path, '/')) == NULL)
			snprintf(path, sizeof path, ".");
		else if (slash == path)
			path[1] = '\0';
		else
			*slash = '\0';
	}
}

/* Send ACCEPT and the resume entries for the files we have a part of. */
static int
send_accept(struct xfer *x)
{
	struct wire_resume r;
	struct buf b;
	uint32_t nres = 0, inlist = 0;
	size_t i;
	char err[256];
	int fd, rc = -1;

	for (i = 0; i < x->list.n; i++)
		if (x->fdone[i] || x->start[i] > 0)
			nres++;
	buf_init(&b, WIRE_RECORD_MAX);
	if (wire_put_accept(&b, x->handle, nres) != BUF_OK || send_ctrl(x->peer, &b) != 0)
		goto out;
	buf_reset(&b);
	for (i = 0; i < x->list.n; i++) {
		if (!x->fdone[i] && x->start[i] == 0)
			continue;
		memset(&r, 0, sizeof r);
		r.index = (uint32_t)i;
		if (x->fdone[i]) {
			r.flags = XRESUME_DONE;
			r.offset = x->list.v[i].size;
		} else {
			r.offset = x->start[i];
			fd = xfs_stage_open_file(x->stage, x->list.v[i].rel, x->start[i], err, sizeof err);
			if (fd == -1 || prefix_mac(x->key, r.index, fd, r.offset, r.mac) == -1) {
				/* cannot prove it: start that file over */
				r.offset = 0;
				x->start[i] = 0;
			}
			if (fd != -1)
				close(fd);
		}
		if (inlist == 0)
			wire_begin_list(&b, REC_RESUME, x->handle, 0);
		if (wire_put_resume(&b, &r) != BUF_OK) {
			wire_end_list(&b, (uint16_t)inlist);
			if (send_ctrl(x->peer, &b) != 0)
				goto out;
			buf_reset(&b);
			wire_begin_list(&b, REC_RESUME, x->handle, 0);
			inlist = 0;
			wire_put_resume(&b, &r);
		}
		inlist++;
	}
	if (inlist > 0) {
		wire_end_list(&b, (uint16_t)inlist);
		if (send_ctrl(x->peer, &b) != 0)
			goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

/* Advance the receiver's current file past directories and finished files. */
static void
skip_to_next_file(struct xfer *x)
{
	while (x->cur < x->list.n &&
	    (x->list.v[x->cur].type != XFS_FILE || x->fdone[x->cur]))
		x->cur++;
	x->off = x->cur < x->list.n ? x->start[x->cur] : 0;
	x->last_sync = x->off;
}

/*
 * /accept, step 1: choose where the offer goes.  A fresh decision looks for
 * partial data we kept for this offer (resumed into its old directory unless
 * dir names another); else a new staging tag in dir or the download
 * directory.  Returns 0, or -1 when out of memory.
 */
static int
accept_target(struct core *c, struct xfer *x, const char *dir)
{
	char oldid[XFER_ID_HEX + 1];
	uint8_t rnd[8];
	struct xfer *o;

	if (x->target != NULL && dir != NULL && strcmp(dir, x->target) == 0)
		return 0;   /* decided already */
	if (!xstate_in_load(x, oldid) || (dir != NULL && strcmp(dir, x->target) != 0)) {
		if (dir != NULL || x->target == NULL) {
			memset(x->start, 0, x->list.n * sizeof *x->start);
			memset(x->fdone, 0, x->list.n);
			randombytes_buf(rnd, sizeof rnd);
			sodium_bin2hex(x->tag, sizeof x->tag, rnd, sizeof rnd);
			free(x->target);
			x->target = strdup(dir != NULL ? dir : c->opt.download_dir != NULL ?
			    c->opt.download_dir : c->paths.downloads);
		}
	} else if (strcmp(oldid, x->idhex) != 0) {
		/* resuming under a new id: the saved state moves over */
		xstate_in_remove_id(c, oldid);
		/* and the old entry, paused, goes: one entry per transfer */
		for (o = c->xfers; o != NULL; o = o->next) {
			if (o != x && o->dir == XFER_IN && strcmp(o->idhex, oldid) == 0 &&
			    !finished(o->state)) {
				close_current(o);
				if (o->stage != NULL) {
					xfs_stage_close(o->stage);
					o->stage = NULL;
				}
				o->state = XS_FAILED;   /* superseded, quietly */
				o->hidden = 1;
			}
		}
	}
	return x->target != NULL ? 0 : -1;
}

/*
 * /accept, step 2: open the staging directory in the target and check that
 * the bytes still missing fit (with 1 MiB to spare).  Returns the bytes
 * already there in *have; 0, or -1 (reported, nothing left behind).
 */
static int
accept_space(struct core *c, struct xfer *x, const char *cmd, uint64_t *have)
{
	char err[512];
	uint64_t avail, need;
	size_t i;

	if ((x->stage = xfs_stage_open(x->target, x->tag, 1, err, sizeof err)) == NULL) {
		core_error(c, cmd, x->peer, "cannot receive into %s: %s", x->target, err);
		return -1;
	}
	for (*have = 0, i = 0; i < x->list.n; i++)
		*have += x->fdone[i] ? x->list.v[i].size : x->start[i];
	need = x->total - *have;
	/* written so that a huge need cannot wrap around */
	if (xfs_free_space(x->target, &avail) == 0 &&
	    (avail < 1024 * 1024 || avail - 1024 * 1024 < need)) {
		core_error(c, cmd, x->peer, "not enough space in %s: %llu bytes needed, %llu free",
		    x->target, (unsigned long long)need, (unsigned long long)avail);
		if (*have == 0)
			xfs_stage_remove(x->stage);   /* just made, empty: leave nothing behind */
		xfs_stage_close(x->stage);
		x->stage = NULL;
		return -1;
	}
	return 0;
}

/* /accept, step 3: make the directories, tell the sender, and run. */
static int
accept_start(struct core *c, struct xfer *x, const char *cmd, uint64_t have)
{
	char err[512];
	size_t i;

	for (i = 0; i < x->list.n; i++) {
		if (x->list.v[i].type == XFS_DIR &&
		    xfs_stage_mkdir(x->stage, x->list.v[i].rel, err, sizeof err) == -1) {
			xfer_fail(x, XS_FAILED, XCANCEL_FAILED, "cannot create %s", err);
			return -1;
		}
	}
	if (send_accept(x) == -1) {
		core_error(c, cmd, x->peer, "%s is not connected", x->peer->nick);
		xfs_stage_close(x->stage);
		x->stage = NULL;
		return -1;
	}
	x->resumed = x->done = have;
	x->wire = 0;
	x->cur = x->unsynced = 0;
	skip_to_next_file(x);
	xstate_in_save(x);
	x->state = XS_RUNNING;
	x->t_start = x->t_progress = x->t_sync = loop_now(c->loop);
	log_info("transfer %s: accepted into %s (%llu bytes already there)", x->idhex, x->target,
	    (unsigned long long)have);
	/* accepting a file from it: the user knows this peer (not a one-shot sender: 5.3) */
	if (!(x->peer->caps & CAP_ONESHOT))
		core_peer_keep(c, x->peer);
	emit(x, EV_TRANSFER);
	return 0;
}

/* /accept: take an offer into dir. */
int
xfer_accept(struct core *c, struct xfer *x, const char *dir, const char *cmd)
{
	uint64_t have;

	if (x->dir != XFER_IN || x->state != XS_PENDING) {
		core_error(c, cmd, x->peer, "transfer %.8s is not an offer waiting for an answer", x->idhex);
		return -1;
	}
	if (accept_target(c, x, dir) == -1) {
		core_error(c, cmd, x->peer, "out of memory");
		return -1;
	}
	if (accept_space(c, x, cmd, &have) == -1)
		return -1;
	return accept_start(c, x, cmd, have);
}

/* /reject an offer. */
int
xfer_reject(struct core *c, struct xfer *x, const char *cmd)
{
	if (x->dir != XFER_IN || x->state != XS_PENDING) {
		core_error(c, cmd, x->peer, "transfer %.8s is not an offer waiting for an answer", x->idhex);
		return -1;
	}
	xfer_fail(x, XS_REJECTED, XCANCEL_REJECT, "rejected");
	return 0;
}

/* /cancel a transfer in either direction. */
int
xfer_cancel(struct core *c, struct xfer *x, const char *cmd)
{
	if (finished(x->state)) {
		core_error(c, cmd, x->peer, "transfer %.8s has already ended (%s)", x->idhex,
		    xfer_state_name(x->state));
		return -1;
	}
	if (x->dir == XFER_IN && x->stage != NULL) {
		close_current(x);
		xfs_stage_remove(x->stage);
	}
	if (x->dir == XFER_IN)
		xstate_in_remove(x);
	xfer_fail(x, XS_CANCELLED, XCANCEL_USER, "cancelled by %s", c->nick);
	return 0;
}

/*
 * Flush the files finished since the last flush (their write-back started when
 * each was closed, so little is left to wait for); -1 with a message in err if
 * one cannot be flushed.  Files before x->unsynced are all durable.
 */
static int
sync_finished(struct xfer *x, char *err, size_t errlen)
{
	uint32_t i;

	for (i = x->unsynced; i < x->list.n && i < x->cur; i++) {
		if (x->fdone[i] != FDONE_WRITTEN)
			continue;
		if (xfs_stage_sync_file(x->stage, x->list.v[i].rel, err, errlen) == -1) {
			x->unsynced = i;
			return -1;
		}
		x->fdone[i] = FDONE_DURABLE;
	}
	x->unsynced = i;
	return 0;
}

/* Save a checkpoint: data on disk up to off, then the state that says so. */
static void
checkpoint(struct xfer *x)
{
	char err[512];

	if (x->cur_open && fdatasync(x->fd) == 0)
		x->last_sync = x->off;
	if (x->stage != NULL && sync_finished(x, err, sizeof err) == -1)
		log_warn("transfer %s: %s", x->idhex, err);   /* saved as not done: sent again */
	xstate_in_save(x);
	x->t_sync = loop_now(x->core->loop);
}

/* A write failed: fail the transfer but keep what is on disk for a resume. */
static void
write_failed(struct xfer *x, const char *rel, int err)
{
	if (x->cur_open)
		checkpoint(x);
	xfer_fail(x, XS_FAILED, err == ENOSPC ? XCANCEL_NOSPACE : XCANCEL_FAILED,
	    err == ENOSPC ? "receiver out of disk space writing %s" : "cannot write %s", rel);
}

/* DATA: bytes of the current file. */
static void
got_data(struct xfer *x, const struct rec_data *d)
{
	const struct xfs_entry *e;
	char err[512];
	size_t done = 0;
	ssize_t w;

	if (x->state != XS_RUNNING || d->index != x->cur || x->cur >= x->list.n) {
		xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "data for the wrong file");
		return;
	}
	e = &x->list.v[x->cur];
	if (!x->cur_open && d->offset == 0 && x->off > 0) {
		/* the sender could not verify our partial copy: start it over */
		x->done -= x->off;
		x->resumed -= x->off;
		x->off = x->last_sync = 0;
		x->start[x->cur] = 0;
	}
	if (d->offset != x->off || d->len > e->size - x->off) {
		xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "%s: data beyond the declared size or out of place", e->rel);
		return;
	}
	if (!x->cur_open) {
		x->fd = xfs_stage_open_file(x->stage, e->rel, x->off, err, sizeof err);
		if (x->fd == -1) {
			xfer_fail(x, XS_FAILED, XCANCEL_FAILED, "cannot write %s", err);
			return;
		}
		x->cur_open = 1;
		x->kicked = x->off;
	}
	/* a run of zeros past everything written stays a hole (sparse files stay sparse) */
	if (d->p[0] == 0 && memcmp(d->p, d->p + 1, d->len - 1) == 0)
		done = d->len;
	while (done < d->len) {
		w = pwrite(x->fd, d->p + done, d->len - done, (off_t)(x->off + done));
		if (w <= 0) {
			if (w == -1 && errno == EINTR)
				continue;
			x->off += done;
			write_failed(x, e->rel, w == 0 ? ENOSPC : errno);
			return;
		}
		done += (size_t)w;
	}
	x->off += d->len;
	x->done += d->len;
	x->wire += d->len;
	if (x->off - x->kicked >= WRITEBACK_BYTES) {
		/* keep the disk busy now, so that the checkpoint's flush is short */
		xfs_start_writeback(x->fd, x->kicked, x->off - x->kicked);
		x->kicked = x->off;
	}
	if (x->off - x->last_sync >= CHECKPOINT_BYTES ||
	    loop_now(x->core->loop) - x->t_sync >= CHECKPOINT_MS)
		checkpoint(x);
	progress(x, 0);
}

/* FILE_END: the current file is complete on the sender's side. */
static void
got_file_end(struct xfer *x, const struct rec_file_end *f)
{
	const struct xfs_entry *e;
	char err[512];

	if (x->state != XS_RUNNING || f->index != x->cur || x->cur >= x->list.n) {
		xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "file end for the wrong file");
		return;
	}
	e = &x->list.v[x->cur];
	if (f->status != 0) {
		/* nothing to resume from a source that changed */
		close_current(x);
		if (x->stage != NULL)
			xfs_stage_remove(x->stage);
		xstate_in_remove(x);
		/* tell the sender too (an older sender waits for a result otherwise) */
		xfer_fail(x, XS_FAILED, XCANCEL_FAILED, "%s changed on the sender's side during the transfer",
		    e->rel);
		return;
	}
	if (f->size != e->size || x->off != e->size) {
		xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "%s: %llu bytes arrived, %llu were declared",
		    e->rel, (unsigned long long)x->off, (unsigned long long)e->size);
		return;
	}
	if (!x->cur_open) {
		x->fd = xfs_stage_open_file(x->stage, e->rel, x->off, err, sizeof err);
		if (x->fd == -1) {
			xfer_fail(x, XS_FAILED, XCANCEL_FAILED, "cannot write %s", err);
			return;
		}
	}
	x->cur_open = 0;
	if (ftruncate(x->fd, (off_t)e->size) == -1) {   /* trailing holes */
		close(x->fd);
		x->fd = -1;
		write_failed(x, e->rel, errno);
		return;
	}
	if (xfs_stage_finish_file(x->fd, e->mtime_ns, e->mode, err, sizeof err) == -1) {
		x->fd = -1;
		xfer_fail(x, XS_FAILED, XCANCEL_FAILED, "cannot finish %s: %s", e->rel, err);
		return;
	}
	x->fd = -1;
	x->fdone[x->cur] = FDONE_WRITTEN;
	x->cur++;
	skip_to_next_file(x);
	if (loop_now(x->core->loop) - x->t_sync >= CHECKPOINT_MS)
		checkpoint(x);
}

/* XFER_DONE: every file was sent; verify, move into place, report. */
static void
got_xfer_done(struct xfer *x)
{
	const char **top = NULL;
	char **final = NULL, err[512], path[PATH_MAX + 64];
	struct buf b;
	size_t i, ntop = 0;

	if (x->state != XS_RUNNING) {
		xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "done out of order");
		return;
	}
	for (i = 0; i < x->list.n; i++) {
		if (x->list.v[i].type == XFS_FILE && !x->fdone[i]) {
			xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "%s never arrived", x->list.v[i].rel);
			return;
		}
	}
	top = calloc(x->list.n, sizeof *top);
	final = calloc(x->list.n, sizeof *final);
	if (top == NULL || final == NULL) {
		xfer_fail(x, XS_FAILED, XCANCEL_FAILED, "out of memory");
		goto out;
	}
	for (i = 0; i < x->list.n; i++)
		if (strchr(x->list.v[i].rel, '/') == NULL)
			top[ntop++] = x->list.v[i].rel;
	/* everything on the disk before anything takes its final name */
	if (sync_finished(x, err, sizeof err) == -1) {
		xfer_fail(x, XS_FAILED, XCANCEL_FAILED, "%s", err);
		goto out;
	}
	if (xfs_stage_commit(x->stage, top, ntop, final, err, sizeof err) == -1) {
		xfer_fail(x, XS_FAILED, XCANCEL_FAILED, "cannot move the files into place: %s", err);
		goto out;
	}
	if (ntop > 1)
		snprintf(path, sizeof path, "%s/%s (and %zu more)", x->target, final[0], ntop - 1);
	else
		snprintf(path, sizeof path, "%s/%s", x->target, final[0]);
	free(x->result);
	x->result = strdup(path);
	x->finals = final;   /* every name, for confab recv's one path a line */
	x->nfinals = ntop;
	final = NULL;
	xfs_stage_close(x->stage);
	x->stage = NULL;
	xstate_in_remove(x);
	buf_init(&b, 256);
	if (wire_put_result(&b, x->handle, XRESULT_OK, "verified") == BUF_OK)
		send_ctrl(x->peer, &b);
	buf_free(&b);
	progress(x, 1);
	log_info("transfer %s: done: %s (%llu bytes, %llu over the network)", x->idhex, path,
	    (unsigned long long)x->done, (unsigned long long)x->wire);
	set_state(x, XS_DONE);
out:
	for (i = 0; final != NULL && i < ntop; i++)
		free(final[i]);
	free(final);
	free(top);
}

/* CANCEL from the peer, for one of our transfers. */
static void
got_cancel(struct core *c, struct peer *p, const struct rec_result *r)
{
	/* their "sending" is our incoming transfer, and the other way round */
	enum xfer_dir dir = r->dir == XDIR_SENDING ? XFER_IN : XFER_OUT;
	struct xfer *x;
	char text[WIRE_XFER_TEXT_MAX * 3 + 1];

	if (r->dir > XDIR_RECEIVING) {
		/* section 6: which transfer is unknown, so the handle's both end */
		log_warn("peer %s: CANCEL with direction %u", p->fp, r->dir);
		if ((x = by_handle(c, p, r->handle, XFER_IN)) != NULL)
			xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "protocol error: CANCEL direction %u", r->dir);
		if ((x = by_handle(c, p, r->handle, XFER_OUT)) != NULL)
			xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "protocol error: CANCEL direction %u", r->dir);
		return;
	}
	if ((x = by_handle(c, p, r->handle, dir)) == NULL)
		return;
	if (r->text_len > WIRE_XFER_TEXT_MAX) {
		/* the peer ended it anyway: no answer, but not its words either */
		xfer_fail(x, XS_FAILED, XCANCEL_SILENT, "%s: protocol error: a CANCEL text of %zu bytes",
		    p->nick, r->text_len);
		return;
	}
	text_sanitize(r->text, r->text_len, text, sizeof text, 0);
	if (dir == XFER_IN && r->code == XCANCEL_USER) {
		/* the sender gave up on purpose: nothing to resume */
		close_current(x);
		if (x->stage != NULL)
			xfs_stage_remove(x->stage);
		xstate_in_remove(x);
	}
	xfer_fail(x, r->code == XCANCEL_REJECT ? XS_REJECTED :
	    r->code == XCANCEL_USER ? XS_CANCELLED : XS_FAILED, XCANCEL_SILENT,
	    "%s: %s", p->nick, text[0] ? text : "cancelled");
}

/* A transfer record arrived from p. */
void
xfer_record(struct core *c, struct peer *p, const struct record *r)
{
	struct xfer *x;
	struct rec_list l;

	switch (r->type) {
	case REC_OFFER:
		got_offer(c, p, &r->u.offer);
		return;
	case REC_OFFER_PART:
		l = r->u.list;
		got_offer_part(c, p, &l);
		return;
	case REC_ACCEPT:
		if ((x = by_handle(c, p, r->u.handle, XFER_OUT)) != NULL)
			got_accept(x, r->accept_resumes);
		return;
	case REC_RESUME:
		l = r->u.list;
		if ((x = by_handle(c, p, l.handle, XFER_OUT)) != NULL)
			got_resume(x, &l);
		return;
	case REC_DATA:
		if ((x = by_handle(c, p, r->u.data.handle, XFER_IN)) != NULL)
			got_data(x, &r->u.data);
		return;
	case REC_FILE_END:
		if ((x = by_handle(c, p, r->u.fend.handle, XFER_IN)) != NULL)
			got_file_end(x, &r->u.fend);
		return;
	case REC_XFER_DONE:
		if ((x = by_handle(c, p, r->u.handle, XFER_IN)) != NULL)
			got_xfer_done(x);
		return;
	case REC_XFER_RESULT:
		if ((x = by_handle(c, p, r->u.result.handle, XFER_OUT)) == NULL)
			return;
		if (finished(x->state))
			return;
		if (r->u.result.text_len > WIRE_XFER_TEXT_MAX) {
			xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "protocol error: a result text of %zu bytes",
			    r->u.result.text_len);
		} else if (r->u.result.code == XRESULT_OK && x->state == XS_RUNNING && x->all_sent) {
			progress(x, 1);
			log_info("transfer %s: the receiver verified everything", x->idhex);
			set_state(x, XS_DONE);
		} else if (r->u.result.code == XRESULT_OK) {
			xfer_fail(x, XS_FAILED, XCANCEL_PROTOCOL, "protocol error: a result before XFER_DONE");
		} else {
			char text[WIRE_XFER_TEXT_MAX * 3 + 1];

			text_sanitize(r->u.result.text, r->u.result.text_len, text, sizeof text, 0);
			xfer_fail(x, XS_FAILED, XCANCEL_SILENT, "the receiver reports: %s", text);
		}
		return;
	case REC_CANCEL:
		got_cancel(c, p, &r->u.result);
		return;
	}
}

/* The peer is (back) online: offer again what we were sending it. */
void
xfer_peer_online(struct core *c, struct peer *p)
{
	struct xfer *x;

	for (x = c->xfers; x != NULL; x = x->next) {
		if (x->peer != p || x->dir != XFER_OUT || x->state != XS_WAITING)
			continue;
		if (x->room[0] != '\0' && !rooms_may_get_file(c, x->room, p))
			/* sent to a room it has left (or was kicked from) since: it gets nothing */
			xfer_fail(x, XS_CANCELLED, XCANCEL_SILENT, "%s is no longer in the room", p->nick);
		else
			offer_start(x);
	}
}

/* A member left or was kicked: end the room's transfers to it that it has not accepted. */
void
xfer_room_gone(struct core *c, const char *room, struct peer *p)
{
	struct xfer *x;

	for (x = c->xfers; x != NULL; x = x->next) {
		if (x->peer != p || x->dir != XFER_OUT || strcmp(x->room, room) != 0)
			continue;
		if (x->state == XS_WAITING)
			xfer_fail(x, XS_CANCELLED, XCANCEL_SILENT, "%s is no longer in the room", p->nick);
		else if (x->state == XS_OFFERING || x->state == XS_PENDING)
			xfer_fail(x, XS_CANCELLED, XCANCEL_USER, "%s is no longer in the room", p->nick);
	}
}

/* The peer went away: pause its transfers (they resume when it is back). */
void
xfer_peer_offline(struct core *c, struct peer *p)
{
	struct xfer *x;

	for (x = c->xfers; x != NULL; x = x->next) {
		if (x->peer != p || finished(x->state))
			continue;
		if (x->dir == XFER_IN) {
			if (x->state == XS_RUNNING)
				checkpoint(x);
			if (x->state == XS_OFFERING || x->state == XS_PENDING) {
				/* not accepted yet: the sender offers it again when back */
				xfer_fail(x, XS_FAILED, XCANCEL_SILENT, "%s went offline", p->nick);
				continue;
			}
		}
		set_state(x, XS_WAITING);
	}
}

/* Set up the transfer state directory. */
int
xfer_init(struct core *c)
{
	loop_timer_init(&c->rate_timer, rate_refill, c);
	ratelimit_init(&c->rate, c->opt.limit_rate, loop_now(c->loop));
	if (paths_join(c->xfer_dir, sizeof c->xfer_dir, c->paths.state, "transfers") == -1 ||
	    paths_mkdirs(c->xfer_dir, 0700) == -1)
		return -1;
	return 0;
}

/* Free every transfer, saving resume state of running incoming ones. */
void
xfer_free_all(struct core *c)
{
	struct xfer *x;

	loop_timer_del(c->loop, &c->rate_timer);
	while ((x = c->xfers) != NULL) {
		c->xfers = x->next;
		if (x->dir == XFER_IN && x->state == XS_RUNNING)
			checkpoint(x);
		xfer_destroy(x);
	}
}
