/* store.c - what confab remembers: known peers, history, the offline queue, seen ids. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "log.h"
#include "persist.h"
#include "store.h"
#include "text.h"

#define PEERS_MAGIC   "confab-peers 1"
#define LINE_MAX_     (WIRE_TEXT_MAX * 4 + 512)

enum pend_kind { PEND_HISTORY = 0, PEND_QUEUE, PEND_SEEN, PEND_KINDS };

static const char *const pend_dir[PEND_KINDS] = { "history", "queue", "seen" };

#define SYNC_MS  1000   /* written records reach the disk itself within this */

/* Buffered appends for one peer. */
struct pend {
	struct pend *next;
	struct peer *p;
	struct buf   b[PEND_KINDS];
	size_t       lines[PEND_KINDS];
	int          unsynced[PEND_KINDS];   /* written, not yet fdatasync'ed */
};

struct store {
	struct core *c;
	struct pend *pend;
	int          peers_dirty;
	uint64_t     last_sync;
	struct loop_timer sync_timer;
	char         dir[PEND_KINDS][PATH_MAX];
	char         peers[PATH_MAX];
};

/* Escape text for one line of a store file. */
int
store_escape(const char *in, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	if (outlen == 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];
		size_t need = ch == '\\' || ch == '\n' || ch == '\t' ? 2 :
		    ch < 0x20 || ch == 0x7f ? 4 : 1;

		/* room for this byte's escape and the NUL after it */
		if (need >= outlen - o)
			return -1;
		if (ch == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (ch == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (ch == '\t') {
			out[o++] = '\\';
			out[o++] = 't';
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
	return (int)o;
}

/* Undo store_escape in place. */
size_t
store_unescape(char *s)
{
	char *r = s, *w = s;
	unsigned int v;

	while (*r != '\0') {
		if (*r != '\\' || r[1] == '\0') {
			*w++ = *r++;
			continue;
		}
		r++;
		if (*r == 'n')
			*w++ = '\n', r++;
		else if (*r == 't')
			*w++ = '\t', r++;
		else if (*r == 'x' && sscanf(r + 1, "%2x", &v) == 1 && r[1] != '\0' && r[2] != '\0')
			*w++ = (char)v, r += 3;
		else
			*w++ = *r++;
	}
	*w = '\0';
	return (size_t)(w - s);
}

/* Path of a per-peer file. */
static int
peer_path(struct core *c, enum pend_kind k, const struct peer *p, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", c->store->dir[k], p->fp);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static void sync_due(struct loop *, struct loop_timer *, void *);
static char *slurp(const char *, size_t *);

/* Create the directories. */
int
store_init(struct core *c, char *err, size_t errlen)
{
	struct store *s;
	int k;

	if ((s = calloc(1, sizeof *s)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->store = s;
	s->c = c;
	loop_timer_init(&s->sync_timer, sync_due, s);
	for (k = 0; k < PEND_KINDS; k++) {
		if (paths_join(s->dir[k], sizeof s->dir[k], c->paths.state, pend_dir[k]) == -1 ||
		    paths_mkdirs(s->dir[k], 0700) == -1) {
			snprintf(err, errlen, "cannot create %s/%s: %s", c->paths.state, pend_dir[k],
			    strerror(errno));
			return -1;
		}
	}
	if (paths_join(s->peers, sizeof s->peers, c->paths.state, "peers") == -1) {
		snprintf(err, errlen, "state path too long");
		return -1;
	}
	return 0;
}

/* The pending-append record of a peer, made on first use. */
static struct pend *
pend_get(struct core *c, struct peer *p)
{
	struct pend *q;
	int k;

	for (q = c->store->pend; q != NULL; q = q->next)
		if (q->p == p)
			return q;
	if ((q = calloc(1, sizeof *q)) == NULL)
		return NULL;
	q->p = p;
	for (k = 0; k < PEND_KINDS; k++)
		buf_init(&q->b[k], 16 * 1024 * 1024);
	q->next = c->store->pend;
	c->store->pend = q;
	return q;
}

/* Queue one line for appending. */
static void
pend_line(struct core *c, struct peer *p, enum pend_kind k, const char *line)
{
	struct pend *q = pend_get(c, p);

	if (q == NULL || buf_put(&q->b[k], line, strlen(line)) != BUF_OK) {
		log_err("store: cannot buffer a %s record for %s", pend_dir[k], p->fp);
		return;
	}
	q->lines[k]++;
}

/*
 * Whether an unverified peer may put one more message of len bytes into its
 * history this minute (HIST_MINUTE_LINES, HIST_MINUTE_BYTES); says so once a
 * minute when it may not.
 */
static int
history_allowed(struct core *c, struct peer *p, size_t len)
{
	uint64_t now = loop_now(c->loop);

	if (p->hist_t0 == 0 || now - p->hist_t0 >= 60000) {
		p->hist_t0 = now;
		p->hist_min_lines = p->hist_min_bytes = 0;
		p->hist_throttled = 0;
	}
	if (p->hist_min_lines < HIST_MINUTE_LINES && len <= HIST_MINUTE_BYTES - p->hist_min_bytes) {
		p->hist_min_lines++;
		p->hist_min_bytes += len;
		return 1;
	}
	if (!p->hist_throttled) {
		p->hist_throttled = 1;
		log_warn("history: %s (%s) writes too fast: an unverified peer gets %d lines or %d KiB "
		    "a minute in the history; the rest is shown, not kept", p->fp, p->nick,
		    HIST_MINUTE_LINES, HIST_MINUTE_BYTES / 1024);
		core_note(c, &p->conv, LINE_SYSTEM, "%s writes too fast: not all its messages this minute "
		    "are kept in the history (unverified: %d lines a minute)", p->nick, HIST_MINUTE_LINES);
	}
	return 0;
}

/* Format one history line (NUL-terminated, ending in '\n'); NULL if out of memory. */
static char *
history_line(const struct chat_line *l)
{
	char *line, *nick, *text;
	size_t tl = strlen(l->text), cap = tl * 4 + 512;

	line = malloc(cap);
	nick = malloc(sizeof l->nick * 4 + 1);
	text = malloc(tl * 4 + 1);
	if (line != NULL && nick != NULL && text != NULL &&
	    store_escape(l->nick, strlen(l->nick), nick, sizeof l->nick * 4 + 1) >= 0 &&
	    store_escape(l->text, tl, text, tl * 4 + 1) >= 0) {
		snprintf(line, cap, "%llu\t%s\t%s\t%s\t%s\n", (unsigned long long)l->ts_ms,
		    l->kind == LINE_MSG_IN ? "in" : l->kind == LINE_MSG_OUT ? "out" : "sys",
		    l->id[0] ? l->id : "-", nick, text);
		free(nick);
		free(text);
		return line;
	}
	free(line);
	free(nick);
	free(text);
	return NULL;
}

/* Queue a history line for appending. */
static void
history_append(struct core *c, struct peer *p, const struct chat_line *l)
{
	char *line = history_line(l);

	if (line == NULL) {
		log_err("store: out of memory for a history line of %s", p->fp);
		return;
	}
	pend_line(c, p, PEND_HISTORY, line);
	p->hist_lines++;
	free(line);
}

/* Append one conversation line to the history (known peers only). */
void
store_history_add(struct core *c, struct peer *p, const struct chat_line *l)
{
	if (c->store == NULL || c->opt.history_lines == 0 || !p->known)
		return;
	if (l->kind == LINE_MSG_IN && p->trust != TRUST_VERIFIED && !history_allowed(c, p, strlen(l->text)))
		return;
	history_append(c, p, l);
}

/* A stranger became known: its conversation so far and its received ids go to disk. */
void
store_peer_kept(struct core *c, struct peer *p)
{
	size_t i, start;

	if (c->store == NULL || !p->known)
		return;
	for (i = 0; i < p->conv.nlines && c->opt.history_lines > 0; i++) {
		const struct chat_line *l = p->conv.lines[i];

		if ((l->kind == LINE_MSG_IN || l->kind == LINE_MSG_OUT) && !l->history)
			history_append(c, p, l);
	}
	/* oldest first, as they came */
	start = p->nseen == p->aseen ? p->seen_pos : 0;
	for (i = 0; i < p->nseen; i++)
		store_seen_add(c, p, p->seen[(start + i) % p->aseen]);
}

/* Log an outgoing message before it is sent. */
void
store_queue_add(struct core *c, struct peer *p, const struct outmsg *m)
{
	char hex[MSGID_HEX + 1], *text, *line;
	size_t cap = m->len * 4 + 128;

	if (c->store == NULL)
		return;
	text = malloc(m->len * 4 + 1);
	line = malloc(cap);
	if (text != NULL && line != NULL && store_escape(m->text, m->len, text, m->len * 4 + 1) >= 0) {
		sodium_bin2hex(hex, sizeof hex, m->id, WIRE_ID_LEN);
		snprintf(line, cap, "Q %s %llu %s\n", hex, (unsigned long long)m->ts_ms, text);
		pend_line(c, p, PEND_QUEUE, line);
	}
	free(text);
	free(line);
}

/* Log an acknowledgement. */
void
store_queue_ack(struct core *c, struct peer *p, const uint8_t id[WIRE_ID_LEN])
{
	char hex[MSGID_HEX + 1], line[MSGID_HEX + 4];

	if (c->store == NULL)
		return;
	sodium_bin2hex(hex, sizeof hex, id, WIRE_ID_LEN);
	snprintf(line, sizeof line, "A %s\n", hex);
	pend_line(c, p, PEND_QUEUE, line);
}

/* Remember a received message id. */
void
store_seen_add(struct core *c, struct peer *p, const uint8_t id[WIRE_ID_LEN])
{
	char line[MSGID_HEX + 2];

	if (c->store == NULL || !p->known)
		return;
	sodium_bin2hex(line, MSGID_HEX + 1, id, WIRE_ID_LEN);
	strcat(line, "\n");
	pend_line(c, p, PEND_SEEN, line);
}

/* Mark the peers file for rewriting. */
void
store_peers_dirty(struct core *c)
{
	if (c->store != NULL)
		c->store->peers_dirty = 1;
}

/* persist_writer_fn: the peers file of arg (a struct core), one line per known peer. */
static int
peers_lines(FILE *f, void *arg)
{
	struct core *c = arg;
	char nick[NICK_BUF * 4 + 1], ann[NICK_BUF * 4 + 1];
	struct peer *p;

	fprintf(f, "%s\n", PEERS_MAGIC);
	for (p = c->peers; p != NULL; p = p->next) {
		if (!p->known)
			continue;
		store_escape(p->nick, strlen(p->nick), nick, sizeof nick);
		store_escape(p->announced, strlen(p->announced), ann, sizeof ann);
		fprintf(f, "%s\t%c\t%d\t%s\t%s\t%s\t%llu%s%s\n", p->fp,
		    p->trust == TRUST_VERIFIED ? 'v' : p->trust == TRUST_BLOCKED ? 'b' : 'u',
		    p->renamed, nick[0] ? nick : "-", ann[0] ? ann : "-",
		    p->addr[0] ? p->addr : "-", (unsigned long long)p->last_seen,
		    p->onion[0] ? "\t" : "", p->onion);   /* the onion it announced: an 8th field, optional */
	}
	return ferror(f) ? -1 : 0;
}

/* Rewrite the peers file atomically. */
static void
write_peers(struct core *c)
{
	char err[PATH_MAX + 128];

	if (persist_atomic_write(c->store->peers, 0600, 0, peers_lines, c, err, sizeof err) == -1)
		log_err("store: cannot write %s", err);
}

/* Append one pending buffer to its file, whole or not at all (synced later, in sync_now). */
static int
append_file(const char *path, struct buf *b, char *err, size_t errlen)
{
	int rc = persist_append(path, 0600, buf_ptr(b), buf_len(b), err, errlen);

	buf_reset(b);
	return rc;
}

/* fdatasync every queue and seen-id file written since the last sync. */
static void
sync_now(struct store *s)
{
	char path[PATH_MAX + 64];
	struct pend *q;
	int k, fd;

	for (q = s->pend; q != NULL; q = q->next) {
		for (k = 0; k < PEND_KINDS; k++) {
			if (!q->unsynced[k])
				continue;
			q->unsynced[k] = 0;
			if (peer_path(s->c, (enum pend_kind)k, q->p, path, sizeof path) == -1 ||
			    (fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
				continue;
			if (fdatasync(fd) == -1)
				log_err("store: cannot sync %s: %s", path, strerror(errno));
			close(fd);
		}
	}
	s->last_sync = loop_now(s->c->loop);
}

/* The sync timer: time to make the recent records power-loss safe. */
static void
sync_due(struct loop *loop, struct loop_timer *t, void *arg)
{
	sync_now(arg);
}

/*
 * Cut a history file back to its newest history_lines lines (it has reached
 * twice that): the tail is copied to a new file that replaces it.
 */
static void
history_compact(struct core *c, struct peer *p, const char *path)
{
	char err[PATH_MAX + 128], *d, *at;
	size_t len, keep = c->opt.history_lines, n = 0;

	if ((d = slurp(path, &len)) == NULL) {
		log_err("store: cannot read %s to cut it back: %s", path, strerror(errno));
		p->hist_lines = keep;   /* try again after as many lines more */
		return;
	}
	/* from the end: the start of the keep-th line from the last */
	for (at = d + len; at > d; at--)
		if (at[-1] == '\n' && at != d + len && ++n == keep)
			break;
	if (at == d && len > 0)
		n++;   /* the first line: the file had no more than keep lines */
	if (persist_atomic_write_buf(path, 0600, 0, at, len - (size_t)(at - d), err, sizeof err) == -1)
		log_err("store: cannot cut back %s", err);
	p->hist_lines = n < keep ? n : keep;
	free(d);
}

/* Make the pending appends durable and rewrite the peers file if needed. */
void
store_flush(struct core *c)
{
	struct store *s = c->store;
	struct pend *q, *next;
	char path[PATH_MAX + 64], err[PATH_MAX + 128];
	int k, synced_later = 0;

	if (s == NULL)
		return;
	for (q = s->pend; q != NULL; q = next) {
		next = q->next;
		for (k = 0; k < PEND_KINDS; k++) {
			if (buf_len(&q->b[k]) == 0)
				continue;
			if (peer_path(c, (enum pend_kind)k, q->p, path, sizeof path) == -1) {
				log_err("store: path too long for %s", q->p->fp);
				buf_reset(&q->b[k]);
				continue;
			}
			if (append_file(path, &q->b[k], err, sizeof err) == -1) {
				log_err("store: cannot append to %s", err);
				continue;
			}
			if (k != PEND_HISTORY)
				q->unsynced[k] = 1;
			else if (c->opt.history_lines > 0 && q->p->hist_lines >= 2 * c->opt.history_lines)
				history_compact(c, q->p, path);   /* the cap holds while running too */
			synced_later = 1;
		}
		/* an empty queue needs no log: start it afresh */
		if (q->lines[PEND_QUEUE] > 0 && q->p->outq == NULL &&
		    peer_path(c, PEND_QUEUE, q->p, path, sizeof path) == 0)
			truncate(path, 0);
		q->lines[PEND_QUEUE] = 0;
	}
	if (s->peers_dirty) {
		s->peers_dirty = 0;
		write_peers(c);
	}
	/*
	 * Records are written before anything that depends on them is sent, so
	 * a crashed or killed process loses nothing; they reach the disk itself
	 * (power loss) at most SYNC_MS later, batched, to keep chat fast.
	 */
	if (synced_later && !loop_timer_armed(&s->sync_timer)) {
		uint64_t since = loop_now(c->loop) - s->last_sync;

		if (since >= SYNC_MS)
			sync_now(s);
		else
			loop_timer_set(c->loop, &s->sync_timer, SYNC_MS - since);
	}
}

/* Drop a peer's pending appends. */
static void
pend_drop(struct core *c, struct peer *p)
{
	struct pend **pp, *q;
	int k;

	if (c->store == NULL)
		return;
	for (pp = &c->store->pend; (q = *pp) != NULL; pp = &q->next) {
		if (q->p != p)
			continue;
		*pp = q->next;
		for (k = 0; k < PEND_KINDS; k++)
			buf_free(&q->b[k]);
		free(q);
		return;
	}
}

/* Forget the peer's history on disk. */
void
store_history_clear(struct core *c, struct peer *p)
{
	char path[PATH_MAX + 64];
	struct pend *q;

	if (c->store == NULL)
		return;
	for (q = c->store->pend; q != NULL; q = q->next)
		if (q->p == p)
			buf_reset(&q->b[PEND_HISTORY]);
	if (peer_path(c, PEND_HISTORY, p, path, sizeof path) == 0)
		unlink(path);
	p->hist_lines = 0;
}

/* A peer is about to be freed. */
void
store_peer_gone(struct core *c, struct peer *p)
{
	pend_drop(c, p);
}

/* Delete everything stored about a peer. */
void
store_forget(struct core *c, struct peer *p)
{
	char path[PATH_MAX + 64];
	int k;

	if (c->store == NULL)
		return;
	pend_drop(c, p);
	for (k = 0; k < PEND_KINDS; k++)
		if (peer_path(c, (enum pend_kind)k, p, path, sizeof path) == 0)
			unlink(path);
	p->hist_lines = 0;
	store_peers_dirty(c);
}

/* Read a whole small file into memory (NUL-terminated). */
static char *
slurp(const char *path, size_t *len)
{
	struct stat st;
	char *d = NULL;
	ssize_t r;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || st.st_size > 256 * 1024 * 1024 ||
	    (d = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size && (r = read(fd, d + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	close(fd);
	d[got] = '\0';
	*len = got;
	return d;
}

/* Split the next complete line off *s (a torn last line without '\n' is ignored). */
static char *
next_line(char **s)
{
	char *line = *s, *nl;

	if (line == NULL || *line == '\0' || (nl = strchr(line, '\n')) == NULL)
		return NULL;
	*nl = '\0';
	*s = nl + 1;
	return line;
}

/* persist_writer_fn: the received ids of arg (a struct peer), oldest first. */
static int
seen_lines(FILE *f, void *arg)
{
	struct peer *p = arg;
	size_t i, start = p->nseen == p->aseen ? p->seen_pos : 0;
	char hex[MSGID_HEX + 1];

	for (i = 0; i < p->nseen; i++) {
		sodium_bin2hex(hex, sizeof hex, p->seen[(start + i) % p->aseen], WIRE_ID_LEN);
		fprintf(f, "%s\n", hex);
	}
	return ferror(f) ? -1 : 0;
}

/* Load the received ids of a peer (the newest SEEN_MAX), compacting the file if long. */
static void
load_seen(struct core *c, struct peer *p)
{
	char path[PATH_MAX + 64], err[PATH_MAX + 128], *d, *s, *line;
	uint8_t id[WIRE_ID_LEN];
	size_t len, n = 0, bin;

	if (peer_path(c, PEND_SEEN, p, path, sizeof path) == -1 || (s = d = slurp(path, &len)) == NULL)
		return;
	while ((line = next_line(&s)) != NULL) {
		if (sodium_hex2bin(id, sizeof id, line, strlen(line), NULL, &bin, NULL) != 0 ||
		    bin != WIRE_ID_LEN)
			continue;
		core_seen_remember(p, id);
		n++;
	}
	free(d);
	/* rewrite with the ids we keep */
	if (n > 2 * SEEN_MAX && persist_atomic_write(path, 0600, 0, seen_lines, p, err, sizeof err) == -1)
		log_err("store: cannot cut back %s", err);
}

/* Load the unacknowledged messages of a peer back into its queue, in order. */
static void
load_queue(struct core *c, struct peer *p)
{
	char path[PATH_MAX + 64], *d, *s, *line;
	struct outmsg *m, **pp;
	uint8_t id[WIRE_ID_LEN];
	unsigned long long ts;
	size_t len, bin;
	int n;

	if (peer_path(c, PEND_QUEUE, p, path, sizeof path) == -1 || (s = d = slurp(path, &len)) == NULL)
		return;
	while ((line = next_line(&s)) != NULL) {
		if (strlen(line) < 2 + MSGID_HEX ||
		    sodium_hex2bin(id, sizeof id, line + 2, MSGID_HEX, NULL, &bin, NULL) != 0 ||
		    bin != WIRE_ID_LEN)
			continue;
		if (line[0] == 'A') {
			for (pp = &p->outq; (m = *pp) != NULL; pp = &m->next) {
				if (memcmp(m->id, id, WIRE_ID_LEN) == 0) {
					*pp = m->next;
					free(m->text);
					free(m);
					p->noutq--;
					break;
				}
			}
			continue;
		}
		if (line[0] != 'Q' || sscanf(line + 3 + MSGID_HEX, "%llu %n", &ts, &n) != 1)
			continue;
		if ((m = calloc(1, sizeof *m)) == NULL)
			break;
		memcpy(m->id, id, WIRE_ID_LEN);
		m->ts_ms = ts;
		m->text = strdup(line + 3 + MSGID_HEX + n);
		if (m->text == NULL) {
			free(m);
			break;
		}
		m->len = store_unescape(m->text);
		for (pp = &p->outq; *pp != NULL; pp = &(*pp)->next)
			;
		*pp = m;
		p->noutq++;
	}
	free(d);
	for (p->outq_tail = p->outq; p->outq_tail != NULL && p->outq_tail->next != NULL;
	    p->outq_tail = p->outq_tail->next)
		;
}

/* persist_writer_fn: the history lines in the window of arg (a struct peer). */
static int
history_lines(FILE *f, void *arg)
{
	struct peer *p = arg;
	char *line;
	size_t i;

	for (i = 0; i < p->conv.nlines; i++) {
		if (!p->conv.lines[i]->history)
			continue;
		if ((line = history_line(p->conv.lines[i])) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		fputs(line, f);
		free(line);
	}
	return ferror(f) ? -1 : 0;
}

/* Load the newest history_lines lines of a peer's history into its window. */
static void
load_history(struct core *c, struct peer *p)
{
	char path[PATH_MAX + 64], err[PATH_MAX + 128], *d, *s, *line, *f[5];
	size_t len, total = 0, skip, i;
	struct chat_line *l;
	struct outmsg *m;
	int k;

	if (peer_path(c, PEND_HISTORY, p, path, sizeof path) == -1 || (d = slurp(path, &len)) == NULL)
		return;
	for (s = d; *s != '\0'; s++)
		if (*s == '\n')
			total++;
	skip = total > c->opt.history_lines ? total - c->opt.history_lines : 0;
	s = d;
	for (i = 0; (line = next_line(&s)) != NULL; i++) {
		if (i < skip)
			continue;
		for (k = 0; k < 5; k++) {
			f[k] = line;
			if (k < 4) {
				if ((line = strchr(line, '\t')) == NULL)
					break;
				*line++ = '\0';
			}
		}
		if (k < 5)
			continue;
		store_unescape(f[3]);
		store_unescape(f[4]);
		l = core_conv_add(&p->conv, strcmp(f[1], "in") == 0 ? LINE_MSG_IN :
		    strcmp(f[1], "out") == 0 ? LINE_MSG_OUT : LINE_SYSTEM, f[3], f[4]);
		if (l == NULL)
			break;
		l->ts_ms = strtoull(f[0], NULL, 10);
		l->history = 1;
		if (strlen(f[2]) == MSGID_HEX)
			memcpy(l->id, f[2], MSGID_HEX + 1);
		if (l->kind == LINE_MSG_OUT) {
			l->state = MSG_DELIVERED;
			for (m = p->outq; m != NULL; m = m->next) {
				char hex[MSGID_HEX + 1];

				sodium_bin2hex(hex, sizeof hex, m->id, WIRE_ID_LEN);
				if (strcmp(hex, l->id) == 0) {
					l->state = MSG_QUEUED;
					m->line = l;
				}
			}
		}
	}
	free(d);
	p->hist_lines = total;
	/* keep the file from growing without bound */
	if (total > 2 * (size_t)c->opt.history_lines + 100) {
		if (persist_atomic_write(path, 0600, 0, history_lines, p, err, sizeof err) == 0) {
			for (p->hist_lines = 0, i = 0; i < p->conv.nlines; i++)
				p->hist_lines += p->conv.lines[i]->history != 0;
		} else
			log_err("store: cannot cut back %s", err);
	}
}

/* Load known peers with their history, queued messages and seen ids. */
int
store_load(struct core *c)
{
	char *d, *s, *line, *f[7];
	uint8_t pk[ID_KEYLEN];
	struct peer *p;
	size_t len;
	int k;

	if (c->store == NULL || (s = d = slurp(c->store->peers, &len)) == NULL)
		return 0;
	line = next_line(&s);
	if (line == NULL || strcmp(line, PEERS_MAGIC) != 0) {
		log_err("store: %s is not a confab peers file; ignoring it", c->store->peers);
		free(d);
		return -1;
	}
	while ((line = next_line(&s)) != NULL) {
		for (k = 0; k < 7; k++) {
			f[k] = line;
			if (k < 6) {
				if ((line = strchr(line, '\t')) == NULL)
					break;
				*line++ = '\0';
			}
		}
		if (k < 7 || fp_decode(f[0], pk) == -1)
			continue;
		if ((p = core_peer_get(c, pk, 1)) == NULL)
			break;
		p->known = 1;
		p->trust = f[1][0] == 'v' ? TRUST_VERIFIED : f[1][0] == 'b' ? TRUST_BLOCKED : TRUST_UNVERIFIED;
		p->renamed = f[2][0] == '1';
		if (strcmp(f[3], "-") != 0) {
			store_unescape(f[3]);
			snprintf(p->nick, sizeof p->nick, "%s", f[3]);
		}
		if (strcmp(f[4], "-") != 0) {
			store_unescape(f[4]);
			snprintf(p->announced, sizeof p->announced, "%s", f[4]);
		}
		if (strcmp(f[5], "-") != 0)
			snprintf(p->addr, sizeof p->addr, "%s", f[5]);
		p->last_seen = strtoull(f[6], NULL, 10);
		if ((line = strchr(f[6], '\t')) != NULL && core_onion_ok(line + 1))
			snprintf(p->onion, sizeof p->onion, "%s", line + 1);
		load_seen(c, p);
		load_queue(c, p);
		load_history(c, p);
	}
	free(d);
	return 0;
}

/* Free buffers (after a last flush). */
void
store_free(struct core *c)
{
	struct pend *q;
	int k;

	if (c->store == NULL)
		return;
	store_flush(c);
	sync_now(c->store);
	loop_timer_del(c->loop, &c->store->sync_timer);
	while ((q = c->store->pend) != NULL) {
		c->store->pend = q->next;
		for (k = 0; k < PEND_KINDS; k++)
			buf_free(&q->b[k]);
		free(q);
	}
	free(c->store);
	c->store = NULL;
}
