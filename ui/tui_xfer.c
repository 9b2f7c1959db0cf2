/* tui_xfer.c - the transfers window: every transfer with its progress, offers listed in full. */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "transfer.h"
#include "tui_int.h"

#define NAME_SHOWN  160   /* bytes of a name taken into a one-line summary */
#define INDENT      4     /* columns before a transfer's detail rows */
#define BAR_MIN     6     /* cells of a progress bar */
#define BAR_MAX     40

/* Whether a transfer is an incoming offer waiting for the user's answer. */
int
tui_xfer_is_offer(const struct xfer *x)
{
	return x->dir == XFER_IN && x->state == XS_PENDING;
}

/* Whether a transfer has ended. */
int
tui_xfer_ended(const struct xfer *x)
{
	return x->state == XS_DONE || x->state == XS_FAILED || x->state == XS_CANCELLED ||
	    x->state == XS_REJECTED;
}

/* A byte count for people: "512 B", "1.5 MB" (as confab send/recv say it). */
void
tui_human_bytes(uint64_t n, char *out, size_t outlen)
{
	text_bytes(n, out, outlen);
}

/* A rate: "2.1 MB/s". */
static void
human_rate(uint64_t rate, char *out, size_t outlen)
{
	char b[32];

	tui_human_bytes(rate, b, sizeof b);
	snprintf(out, outlen, "%s/s", b);
}

/* Time left at the transfer's rate: "0:07", "1:02:03", "--:--" when unknown. */
static void
eta(const struct xfer *x, char *out, size_t outlen)
{
	text_eta(x->total > x->done ? x->total - x->done : 0, x->rate, out, outlen);
}

/* Percent done, rounded down: 100 only when every byte is there. */
static unsigned
percent(const struct xfer *x)
{
	if (x->total == 0)
		return x->state == XS_DONE ? 100 : 0;
	if (x->done >= x->total)
		return 100;
	return (unsigned)((double)x->done * 100 / (double)x->total);
}

/* The direction arrow: down for incoming, up for outgoing. */
static const char *
arrow(const struct tui *t, const struct xfer *x)
{
	if (x->dir == XFER_IN)
		return t->utf8 ? "\xe2\x86\x93" : "v";
	return t->utf8 ? "\xe2\x86\x91" : "^";
}

/* What a transfer holds: its first top-level name (sanitised) and "and N more". */
void
tui_xfer_label(const struct xfer *x, char *out, size_t outlen)
{
	struct xfer_contents ct;
	char name[NAME_SHOWN * 3 + 1];
	size_t n;

	xfer_contents(x, &ct);
	if (ct.first == NULL) {
		snprintf(out, outlen, "an offer of %u item%s", x->expect, x->expect == 1 ? "" : "s");
		return;
	}
	n = strlen(ct.first);
	text_sanitize((const uint8_t *)ct.first, n > NAME_SHOWN ? NAME_SHOWN : n, name, sizeof name, 0);
	if (ct.top > 1)
		snprintf(out, outlen, "%s%s and %zu more", name, ct.first_dir ? "/" : "", ct.top - 1);
	else
		snprintf(out, outlen, "%s%s", name, ct.first_dir ? "/" : "");
}

/* Its size and counts: "18 B" for one file, else "3 files, 1 folder, 12.3 MB". */
void
tui_xfer_what(const struct xfer *x, char *out, size_t outlen)
{
	struct xfer_contents ct;
	size_t files, dirs;
	char size[32];
	int len;

	xfer_contents(x, &ct);
	files = ct.files;
	dirs = ct.dirs;
	tui_human_bytes(x->total, size, sizeof size);
	if (files <= 1 && dirs == 0) {
		snprintf(out, outlen, "%s", size);
		return;
	}
	len = snprintf(out, outlen, "%zu file%s", files, files == 1 ? "" : "s");
	if (dirs > 0 && len > 0 && (size_t)len < outlen)
		len += snprintf(out + len, outlen - (size_t)len, ", %zu folder%s", dirs, dirs == 1 ? "" : "s");
	if (len > 0 && (size_t)len < outlen)
		snprintf(out + len, outlen - (size_t)len, ", %s", size);
}

/* qsort: transfers under way (or waiting for an answer) first, then newest first. */
static int
by_serial_desc(const void *a, const void *b)
{
	const struct xfer *x = *(const struct xfer *const *)a, *y = *(const struct xfer *const *)b;
	int ex = tui_xfer_ended(x), ey = tui_xfer_ended(y);

	if (ex != ey)
		return ex - ey;
	return x->serial < y->serial ? 1 : x->serial > y->serial ? -1 : 0;
}

/* Every transfer, newest first (the model keeps them in its round-robin order). */
static const struct xfer **
sorted(struct tui *t, size_t *n)
{
	const struct xfer *x, **v;
	size_t k = 0;

	for (x = t->core.xfers; x != NULL; x = x->next)
		k++;
	*n = 0;
	if (k == 0 || (v = malloc(k * sizeof *v)) == NULL)
		return NULL;
	for (x = t->core.xfers, k = 0; x != NULL; x = x->next)
		if (!x->hidden)
			v[k++] = x;
	qsort(v, k, sizeof *v, by_serial_desc);
	*n = k;
	return v;
}

/*
 * Rows a transfer takes in the list: a header and a detail row (an offer:
 * every entry, the total and what to type instead), then a blank row.
 */
static size_t
block_rows(const struct xfer *x)
{
	return (tui_xfer_is_offer(x) ? 1 + x->list.n + 2 : 2) + 1;
}

/* Add a model string at the cursor, cleaned, clipped at column x1. */
static void
put_to(const struct tui *t, const char *s, int x1)
{
	int y, x;

	getyx(stdscr, y, x);
	(void)y;
	if (x < x1)
		tui_put_model(t, s, x1 - x);
}

/* The attribute of a transfer's state word. */
static attr_t
state_attr(const struct tui *t, const struct xfer *x)
{
	switch (x->state) {
	case XS_RUNNING:  return tui_color_attr(t, PAIR_CYAN, A_NORMAL) | A_BOLD;
	case XS_DONE:     return tui_color_attr(t, PAIR_GREEN, A_NORMAL) | A_BOLD;
	case XS_FAILED:   return tui_color_attr(t, PAIR_RED, A_NORMAL) | A_BOLD;
	case XS_PENDING:
	case XS_WAITING:  return tui_color_attr(t, PAIR_YELLOW, A_NORMAL) | A_BOLD;
	default:          return A_NORMAL;
	}
}

/* The highlight of an offer waiting for an answer. */
static attr_t
offer_attr(const struct tui *t)
{
	return tui_color_attr(t, PAIR_YELLOW, A_REVERSE) | A_BOLD;
}

/* Row 0 of a transfer: arrow, id, state, peer, what it holds. */
static void
draw_header(struct tui *t, const struct xfer *x, int y, int width)
{
	char label[NAME_SHOWN * 3 + 64], what[96], rest[NAME_SHOWN * 3 + NICK_BUF + 200];
	int offer = tui_xfer_is_offer(x);
	attr_t base = offer ? offer_attr(t) : A_BOLD;

	tui_xfer_label(x, label, sizeof label);
	tui_xfer_what(x, what, sizeof what);
	snprintf(rest, sizeof rest, " %s %s (%s): %s (%s)", x->dir == XFER_IN ? "from" : "to",
	    x->peer->nick, tui_trust_word(x->peer), label, what);
	move(y, 0);
	attrset(base);
	addstr(arrow(t, x));
	printw(" %.8s ", x->idhex);
	if (!offer)
		attrset(state_attr(t, x));
	printw("%-9s", xfer_state_name(x->state));
	attrset(base);
	put_to(t, rest, width);
	if (offer)
		tui_pad_to(y, width);
	attrset(A_NORMAL);
}

/* How the transfer's session goes, when not direct: "  via tor", "  via proxy". */
static const char *
route_text(const struct xfer *x)
{
	const char *p = core_peer_path(x->peer);

	if (p == NULL)
		p = "direct";
	return strcmp(p, "onion") == 0 ? "  via tor" : strcmp(p, "proxy") == 0 ? "  via proxy" : "";
}

/*
 * A progress bar with percent, bytes, and rate and time left (or why it is
 * paused).  On a narrow view the byte counts go first, then the bar shrinks.
 */
static void
draw_progress(struct tui *t, const struct xfer *x, int y, int width)
{
	char done[32], total[32], bytes[80], rate[40], left[16], tail[NICK_BUF + 160];
	int cells, filled, i, room = width - INDENT - 2;
	unsigned pct = percent(x);

	tui_human_bytes(x->done, done, sizeof done);
	tui_human_bytes(x->total, total, sizeof total);
	snprintf(bytes, sizeof bytes, "  %s of %s", done, total);
	human_rate(x->rate, rate, sizeof rate);
	eta(x, left, sizeof left);
	for (i = 0; i < 2; i++) {
		if (x->state == XS_WAITING)
			snprintf(tail, sizeof tail, " %3u%%%s  paused until %s is back", pct,
			    i == 0 ? bytes : "", x->peer->nick);
		else
			snprintf(tail, sizeof tail, " %3u%%%s  %s  ETA %s%s", pct, i == 0 ? bytes : "",
			    rate, left, route_text(x));
		if ((int)text_width(tail, strlen(tail)) + BAR_MIN <= room)
			break;
	}
	cells = room - (int)text_width(tail, strlen(tail));
	if (cells > BAR_MAX)
		cells = BAR_MAX;
	if (cells < BAR_MIN)
		cells = BAR_MIN;
	filled = x->total > 0 ? (int)((double)cells * (double)(x->done < x->total ? x->done : x->total) /
	    (double)x->total) : 0;
	move(y, INDENT);
	addch('[');
	attrset(tui_color_attr(t, PAIR_CYAN, A_BOLD));
	for (i = 0; i < filled; i++)
		addstr(t->utf8 ? "\xe2\x96\x88" : "#");
	attrset(A_DIM);
	for (; i < cells; i++)
		addstr(t->utf8 ? "\xe2\x96\x91" : ".");
	attrset(A_NORMAL);
	addch(']');
	put_to(t, tail, width);
}

/* Row 1 of a transfer that is not an offer: progress, or how it stands. */
static void
draw_detail(struct tui *t, const struct xfer *x, int y, int width)
{
	char text[PATH_MAX + NICK_BUF + 128], sz[32];
	attr_t attr = A_NORMAL;

	if (x->state == XS_RUNNING || x->state == XS_WAITING) {
		draw_progress(t, x, y, width);
		return;
	}
	switch (x->state) {
	case XS_OFFERING:
		if (x->dir == XFER_IN)
			snprintf(text, sizeof text, "receiving the list of names: %zu of %u", x->list.n, x->expect);
		else
			snprintf(text, sizeof text, "offering: %u of %zu names sent", x->sent_entries, x->list.n);
		break;
	case XS_PENDING:
		snprintf(text, sizeof text, "waiting for %s to accept or reject", x->peer->nick);
		break;
	case XS_DONE:
		tui_human_bytes(x->resumed, sz, sizeof sz);
		if (x->dir == XFER_IN)
			snprintf(text, sizeof text, "saved as %s%s%s%s", x->result ? x->result : "?",
			    x->resumed ? " (" : "", x->resumed ? sz : "", x->resumed ? " resumed)" : "");
		else
			snprintf(text, sizeof text, "received and verified by %s%s%s%s", x->peer->nick,
			    x->resumed ? " (" : "", x->resumed ? sz : "", x->resumed ? " resumed)" : "");
		attr = tui_color_attr(t, PAIR_GREEN, A_NORMAL);
		break;
	default:
		snprintf(text, sizeof text, "%s", x->reason ? x->reason : xfer_state_name(x->state));
		attr = x->state == XS_FAILED ? tui_color_attr(t, PAIR_RED, A_BOLD) : A_DIM;
		break;
	}
	move(y, INDENT);
	attrset(attr);
	put_to(t, text, width);
	attrset(A_NORMAL);
}

/* One entry of an offer: its name (sanitised, cut to fit) and, for a file, its size on the right. */
static void
draw_entry(struct tui *t, const struct xfs_entry *e, int y, int width)
{
	static char name[XFS_PATH_MAX * 3 + 2];
	char size[32] = "";
	size_t n, fit, used;
	int x0 = INDENT + 2, sizew = 0, avail;

	n = tui_disp_clean(t, e->rel, strlen(e->rel), name, sizeof name - 1, 0);
	if (e->type == XFS_DIR) {
		name[n++] = '/';
		name[n] = '\0';
	} else {
		tui_human_bytes(e->size, size, sizeof size);
		sizew = (int)strlen(size);
	}
	avail = width - x0 - (sizew > 0 ? sizew + 2 : 0);
	if (avail < 2)
		avail = 2;
	move(y, x0);
	fit = text_fit(name, n, (size_t)avail, &used);
	if (fit < n) {
		/* too long: cut it and say so */
		fit = text_fit(name, n, (size_t)avail - 1, &used);
		tui_put_cols(name, fit, avail - 1);
		addstr(t->utf8 ? "\xe2\x80\xa6" : "~");
	} else {
		tui_put_cols(name, fit, avail);
	}
	if (sizew > 0 && width - sizew > x0) {
		move(y, width - sizew);
		addstr(size);
	}
}

/* Row r of transfer x at screen row y. */
static void
draw_row(struct tui *t, const struct xfer *x, size_t r, int y, int width)
{
	char text[NAME_SHOWN + NICK_BUF + 128], what[96];

	if (r == 0) {
		draw_header(t, x, y, width);
		return;
	}
	if (r + 1 == block_rows(x))
		return;   /* the blank row between transfers */
	if (!tui_xfer_is_offer(x)) {
		draw_detail(t, x, y, width);
		return;
	}
	if (r <= x->list.n) {
		draw_entry(t, &x->list.v[r - 1], y, width);
		return;
	}
	move(y, INDENT);
	if (r == x->list.n + 1) {
		tui_xfer_what(x, what, sizeof what);
		snprintf(text, sizeof text, "total: %s", what);
		attrset(A_BOLD);
	} else {
		snprintf(text, sizeof text, "/accept %.8s [DIR]  or  /reject %.8s%s%s%s", x->idhex, x->idhex,
		    x->peer->trust == TRUST_VERIFIED ? "" : "  (unverified: /verify ",
		    x->peer->trust == TRUST_VERIFIED ? "" : x->peer->nick,
		    x->peer->trust == TRUST_VERIFIED ? "" : " first)");
		attrset(offer_attr(t));
	}
	put_to(t, text, width);
	attrset(A_NORMAL);
}

/* A reverse-video marker row ("more above", "more below"). */
static void
marker(const char *msg, int y, int width)
{
	move(y, 0);
	attrset(A_REVERSE | A_BOLD);
	tui_put_cols(msg, strlen(msg), width);
	attrset(A_REVERSE);
	tui_pad_to(y, width);
	attrset(A_NORMAL);
}

/*
 * The transfers window: the list of every transfer, newest first, scrolled by
 * t->xscroll rows; below it, when there are any, the newest of the window's
 * notes (answers to commands typed here).
 */
void
tui_xfer_view(struct tui *t, int y0, int h, int width)
{
	const struct tui_win *w = &t->win[t->cur];
	const struct conversation *cv = &t->xconv;
	const struct xfer **v;
	char msg[96];
	size_t n, i, k, r, rows = 0, br, smax, avail;
	int notes = 0, lh, y, top, bottom;
	static const char empty[] =
	    "No transfers yet. /send PEER PATH... offers files; offers to you are listed here in full.";

	if (cv->nlines > 0 && w->clear_mark < cv->dropped + cv->nlines)
		notes = h >= 20 ? 4 : 2;
	lh = h - (notes > 0 ? notes + 1 : 0);
	if (lh < 3) {
		notes = 0;
		lh = h;
	}
	if (notes > 0) {
		move(y0 + lh, 0);
		attrset(A_DIM);
		hline(ACS_HLINE, width);
		attrset(A_NORMAL);
		tui_draw_view(t, y0 + lh + 1, notes, width);
	}
	v = sorted(t, &n);
	if (n == 0) {
		move(y0, 0);
		tui_put_cols(empty, strlen(empty), width);
		return;
	}
	for (i = 0; i < n; i++)
		rows += block_rows(v[i]);
	smax = rows > (size_t)lh ? rows - (size_t)(lh - 1) : 0;
	if (t->xscroll < 0)
		t->xscroll = 0;
	if ((size_t)t->xscroll > smax)
		t->xscroll = (long)smax;
	top = t->xscroll > 0;
	avail = (size_t)(lh - top);
	bottom = (size_t)t->xscroll + avail < rows;
	avail -= (size_t)bottom;
	y = y0;
	if (top) {
		snprintf(msg, sizeof msg, " -- %ld more above -- PgUp ", t->xscroll);
		marker(msg, y++, width);
	}
	for (i = 0, r = 0; i < n && y < y0 + top + (int)avail; i++, r += br) {
		br = block_rows(v[i]);
		if (r + br <= (size_t)t->xscroll)
			continue;
		for (k = (size_t)t->xscroll > r ? (size_t)t->xscroll - r : 0;
		    k < br && y < y0 + top + (int)avail; k++)
			draw_row(t, v[i], k, y++, width);
	}
	if (bottom) {
		snprintf(msg, sizeof msg, " -- %zu more below -- PgDn ", rows - (size_t)t->xscroll - avail);
		marker(msg, y0 + lh - 1, width);
	}
	free(v);
}

/* Scroll the list by n rows (positive: down); tui_xfer_view keeps it in range. */
void
tui_xfer_scroll(struct tui *t, long n)
{
	t->xscroll += n;
	if (t->xscroll < 0)
		t->xscroll = 0;
}

/* The transfers window's title: how many are running, waiting for an answer, ended. */
void
tui_xfer_title(struct tui *t, char *out, size_t outlen)
{
	const struct xfer *x;
	unsigned running = 0, offers = 0, other = 0, ended = 0;
	size_t len;

	for (x = t->core.xfers; x != NULL; x = x->next) {
		if (x->hidden)
			continue;
		if (x->state == XS_RUNNING)
			running++;
		else if (tui_xfer_is_offer(x))
			offers++;
		else if (tui_xfer_ended(x))
			ended++;
		else
			other++;
	}
	len = (size_t)snprintf(out, outlen, " %u:transfers ", t->win[t->cur].num);
	if (running + offers + other + ended == 0 && len < outlen)
		len += (size_t)snprintf(out + len, outlen - len, " none yet");
	if (running > 0 && len < outlen)
		len += (size_t)snprintf(out + len, outlen - len, " %u running", running);
	if (offers > 0 && len < outlen)
		len += (size_t)snprintf(out + len, outlen - len, " %u offer%s to answer", offers,
		    offers == 1 ? "" : "s");
	if (other > 0 && len < outlen)
		len += (size_t)snprintf(out + len, outlen - len, " %u waiting", other);
	if (ended > 0 && len < outlen)
		len += (size_t)snprintf(out + len, outlen - len, " %u ended", ended);
	if (len < outlen)
		snprintf(out + len, outlen - len, "  --  PgUp/PgDn scroll, F3 back");
}

/*
 * The status bar's part: the newest running transfer's progress (and how many
 * others are under way), and the offers waiting for an answer.
 */
void
tui_xfer_status(struct tui *t, char *out, size_t outlen)
{
	const struct xfer *x, *best = NULL;
	unsigned active = 0, offers = 0;
	char rate[40], left[16], more[16] = "";
	size_t len = 0;

	out[0] = '\0';
	for (x = t->core.xfers; x != NULL; x = x->next) {
		if (x->hidden)
			continue;
		if (tui_xfer_is_offer(x)) {
			offers++;
		} else if (!tui_xfer_ended(x)) {
			active++;
			if (x->state == XS_RUNNING && (best == NULL || x->serial > best->serial))
				best = x;
		}
	}
	if (best != NULL) {
		human_rate(best->rate, rate, sizeof rate);
		eta(best, left, sizeof left);
		if (active > 1)
			snprintf(more, sizeof more, " +%u", active - 1);
		len = (size_t)snprintf(out, outlen, " [xfer %s %u%% %s ETA %s%s]", arrow(t, best),
		    percent(best), rate, left, more);
	} else if (active > 0) {
		len = (size_t)snprintf(out, outlen, " [xfer: %u waiting]", active);
	}
	if (offers > 0 && len < outlen)
		snprintf(out + len, outlen - len, " [offers: %u, /accept ID]", offers);
}
