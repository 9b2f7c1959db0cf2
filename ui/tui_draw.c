/* tui_draw.c - drawing the model: title, conversation view, peer list, status, input. */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"          /* cmd_is_action */
#include "reach_view.h"   /* nat and onion state in the status bar */
#include "rooms.h"        /* room windows: names */
#include "text.h"
#include "transfer.h"
#include "tui_int.h"
#include "verify.h"

#define NICK_COLS   16   /* columns of a nick in a line's prefix */
#define LINE_BUF    (WIRE_TEXT_MAX * 3 + 16)

/* A line's prefix, split into the pieces drawn with different attributes. */
struct prefix {
	char   time[8];
	char   mark[8];     /* delivery mark or "-!-" */
	char   nick[NICK_BUF + 4];
	int    width;       /* columns of the whole prefix */
	attr_t mark_attr, nick_attr, text_attr;
	size_t skip;        /* bytes of the text not shown ("/me " of an action) */
};

/*
 * Copy a model string into something safe to print: text_sanitize again (the
 * core already did, but the screen never trusts), tabs to spaces, newlines kept
 * only if asked, and everything outside ASCII shown as '?' when the locale is
 * not UTF-8.  Returns the length.
 */
size_t
tui_disp_clean(const struct tui *t, const char *in, size_t n, char *out, size_t outmax, int keep_nl)
{
	size_t len, i, k;
	uint32_t cp;

	len = text_sanitize((const uint8_t *)in, n, out, outmax, keep_nl ? TEXT_KEEP_NEWLINE : 0);
	if (t->utf8)
		return len;
	for (i = k = 0; i < len; ) {
		size_t l = text_utf8_decode((const uint8_t *)out + i, len - i, &cp);

		if (cp >= 0x80) {
			if (text_cp_width(cp) > 0)
				out[k++] = '?';
		} else {
			out[k++] = (char)cp;
		}
		i += l;
	}
	out[k] = '\0';
	return k;
}

/* Add at most cols columns of clean UTF-8 at the cursor; returns the columns used. */
int
tui_put_cols(const char *s, size_t n, int cols)
{
	size_t used, len;

	if (cols <= 0)
		return 0;
	len = text_fit(s, n, (size_t)cols, &used);
	if (len > 0)
		addnstr(s, (int)len);
	return (int)used;
}

/* Add a model string (cleaned first) in at most cols columns. */
int
tui_put_model(const struct tui *t, const char *s, int cols)
{
	char buf[1024];
	size_t n = tui_disp_clean(t, s, strlen(s), buf, sizeof buf, 0);

	return tui_put_cols(buf, n, cols);
}

/* Fill the rest of row y (up to column x1) with blanks. */
void
tui_pad_to(int y, int x1)
{
	int y0, x;

	getyx(stdscr, y0, x);
	if (y0 != y)
		return;
	for (; x < x1; x++)
		addch(' ');
}

/* A stable colour pair for a key (a fingerprint), never red (errors are red). */
int
tui_nick_pair(const char *key)
{
	static const int pairs[] = { PAIR_GREEN, PAIR_YELLOW, PAIR_BLUE, PAIR_MAGENTA, PAIR_CYAN };
	uint32_t h = 2166136261u;

	for (; *key != '\0'; key++)
		h = (h ^ (uint8_t)*key) * 16777619u;
	return pairs[h % (sizeof pairs / sizeof pairs[0])];
}

/* An attribute for a colour pair, or a monochrome fallback. */
attr_t
tui_color_attr(const struct tui *t, int pair, attr_t mono)
{
	return t->color ? COLOR_PAIR(pair) : mono;
}

/* The name of window i. */
const char *
tui_win_name(struct tui *t, size_t i)
{
	static char name[ROOM_NAME_BUF + 1];
	const struct room_app *ra;

	if (i < t->nwin && t->win[i].conv == &t->xconv)
		return "transfers";
	if (i < t->nwin && (ra = tui_room_of(t, t->win[i].conv)) != NULL) {
		snprintf(name, sizeof name, "#%s", ra->name);
		return name;
	}
	if (i >= t->nwin || t->win[i].conv->peer == NULL)
		return "home";
	return t->win[i].conv->peer->nick;
}

/* A peer's trust mark for lists, and the attribute to draw it with. */
const char *
tui_trust_mark(const struct tui *t, const struct peer *p, attr_t *attr)
{
	if (p->trust == TRUST_BLOCKED) {
		*attr = tui_color_attr(t, PAIR_RED, A_NORMAL);
		return t->utf8 ? "\xe2\x9c\x97" : "X";
	}
	if (p->nick_clash && p->trust != TRUST_VERIFIED) {
		/* reverse and bold: it must be seen without colour too */
		*attr = tui_color_attr(t, PAIR_RED, A_NORMAL) | A_REVERSE | A_BOLD;
		return "!";
	}
	if (p->trust == TRUST_VERIFIED) {
		*attr = tui_color_attr(t, PAIR_GREEN, A_NORMAL) | A_BOLD;
		return t->utf8 ? "\xe2\x9c\x93" : "V";
	}
	*attr = tui_color_attr(t, PAIR_YELLOW, A_NORMAL);
	return "?";
}

/* A peer's trust in words. */
const char *
tui_trust_word(const struct peer *p)
{
	if (p->trust == TRUST_UNVERIFIED && p->nick_clash)
		return "unverified new key";
	return trust_name(p->trust);
}

/* A peer's state, with the path when online: "online (tor)", "offline". */
const char *
tui_state_words(const struct peer *p)
{
	const char *path = core_peer_path(p);

	if (p->state != PEER_ONLINE || path == NULL)
		return peer_state_name(p->state);
	return strcmp(path, "onion") == 0 ? "online (tor)" : strcmp(path, "proxy") == 0 ? "online (proxy)" :
	    strcmp(path, "mapped") == 0 ? "online (mapped port)" : "online (direct)";
}

/* Whether the current window warns of a new key using a known peer's nick. */
static int
banner_rows(struct tui *t)
{
	const struct peer *p;

	if (t->nwin == 0 || (p = t->win[t->cur].conv->peer) == NULL)
		return 0;
	return p->nick_clash && p->trust == TRUST_UNVERIFIED;
}

/* Whether the peer list is shown at this size. */
int
tui_sidebar_shown(struct tui *t)
{
	return t->sidebar && t->cols - TUI_SIDEBAR_W >= TUI_MIN_COLS;
}

/* Columns of the conversation view. */
int
tui_chat_width(struct tui *t)
{
	return tui_sidebar_shown(t) ? t->cols - TUI_SIDEBAR_W : t->cols;
}

/*
 * Rows of the invite code strip: after /invite the code is shown across the
 * whole width above the status bar, from column 0 and with nothing else on its
 * rows, so that it can be copied at any size (until the next line is entered).
 */
int
tui_invite_rows(struct tui *t)
{
	size_t n = strlen(t->invite), rows;

	if (n == 0 || t->cols <= 0)
		return 0;
	rows = (n + (size_t)t->cols - 1) / (size_t)t->cols;
	return t->rows - 4 - banner_rows(t) >= (int)rows ? (int)rows : 0;   /* one chat row stays */
}

/* Rows of the conversation view (between the title, or the warning under it, and the status bar). */
int
tui_chat_height(struct tui *t)
{
	return t->rows - 3 - banner_rows(t) - tui_invite_rows(t);
}

/* Draw the invite code strip from row y, full width. */
static void
draw_invite(struct tui *t, int y)
{
	size_t n = strlen(t->invite), pos;
	int row = 0;

	for (pos = 0; pos < n; pos += (size_t)t->cols, row++) {
		move(y + row, 0);
		attrset(A_BOLD);
		tui_put_cols(t->invite + pos, n - pos < (size_t)t->cols ? n - pos : (size_t)t->cols, t->cols);
		attrset(A_NORMAL);
		tui_pad_to(y + row, t->cols);
	}
}

/* A room message withdrawn (13.5) is a notice now; whose it was stays in its prefix. */
static void
withdrawn_nick(struct tui *t, const struct chat_line *l, struct prefix *p)
{
	char nick[NICK_BUF];
	size_t n, used;

	n = tui_disp_clean(t, l->nick, strlen(l->nick), nick, sizeof nick, 0);
	n = text_fit(nick, n, NICK_COLS, &used);
	snprintf(p->nick, sizeof p->nick, "<%.*s> ", (int)n, nick);
	p->nick_attr = A_DIM;
	p->width += (int)used + 3;
}

/* Work out the prefix of a line: time, mark, nick, and their attributes. */
static void
line_prefix(struct tui *t, const struct conversation *cv, const struct chat_line *l, struct prefix *p)
{
	time_t secs = (time_t)(l->ts_ms / 1000);
	struct tm tm;
	char nick[NICK_BUF], rfp[FP_LEN + 1];
	const char *rmark;
	attr_t rattr;
	size_t n, used;

	memset(p, 0, sizeof *p);
	if (l->kind == LINE_BARE)
		return;   /* no time, no mark, no indent: copied as it is */
	if (localtime_r(&secs, &tm) != NULL)
		strftime(p->time, sizeof p->time, "%H:%M ", &tm);
	else
		snprintf(p->time, sizeof p->time, "--:-- ");
	switch (l->kind) {
	case LINE_MSG_IN:
	case LINE_MSG_OUT:
		if (l->kind == LINE_MSG_OUT) {
			switch (l->state) {
			case MSG_QUEUED:
				snprintf(p->mark, sizeof p->mark, "%s ", t->utf8 ? "\xe2\x80\xa6" : "~");
				p->mark_attr = tui_color_attr(t, PAIR_YELLOW, A_DIM);
				break;
			case MSG_SENT:
				snprintf(p->mark, sizeof p->mark, "%s ", t->utf8 ? "\xc2\xb7" : "-");
				p->mark_attr = A_NORMAL;
				break;
			case MSG_DELIVERED:
				snprintf(p->mark, sizeof p->mark, "%s ", t->utf8 ? "\xe2\x9c\x93" : "+");
				p->mark_attr = tui_color_attr(t, PAIR_GREEN, A_NORMAL);
				break;
			}
			p->nick_attr = A_BOLD;
		} else if (cv->peer == NULL && tui_room_line_author(t, cv, l, &rmark, &rattr, rfp)) {
			/* a room: the author's trust mark where a conversation has none */
			snprintf(p->mark, sizeof p->mark, "%s ", rmark);
			p->mark_attr = rattr;
			p->nick_attr = tui_color_attr(t, tui_nick_pair(rfp), A_NORMAL) | A_BOLD;
		} else {
			snprintf(p->mark, sizeof p->mark, "  ");
			p->nick_attr = tui_color_attr(t, tui_nick_pair(cv->peer ? cv->peer->fp : l->nick), A_NORMAL) | A_BOLD;
		}
		n = tui_disp_clean(t, l->nick, strlen(l->nick), nick, sizeof nick, 0);
		n = text_fit(nick, n, NICK_COLS, &used);
		if (cmd_is_action(l->text)) {
			/* "/me waves": "* alice waves" (PROTOCOL.md 5.4) */
			snprintf(p->nick, sizeof p->nick, "* %.*s ", (int)n, nick);
			p->skip = 4 + strspn(l->text + 4, " ");
		} else {
			snprintf(p->nick, sizeof p->nick, "<%.*s> ", (int)n, nick);
		}
		p->width = 6 + 2 + (int)used + 3;
		if (l->late && strlen(p->nick) + 8 < sizeof p->nick) {
			/* a room message the order puts before lines shown earlier (13.3) */
			strcat(p->nick, "(late) ");
			p->width += 7;
		}
		p->text_attr = A_NORMAL;
		break;
	case LINE_ERROR:
		snprintf(p->mark, sizeof p->mark, "!!! ");
		p->mark_attr = tui_color_attr(t, PAIR_RED, A_BOLD) | A_BOLD;
		p->text_attr = tui_color_attr(t, PAIR_RED, A_BOLD);
		p->width = 6 + 4;
		break;
	default:
		snprintf(p->mark, sizeof p->mark, "-!- ");
		p->mark_attr = tui_color_attr(t, PAIR_CYAN, A_BOLD);
		p->text_attr = tui_color_attr(t, PAIR_CYAN, A_DIM);
		p->width = 6 + 4;
		if (l->nick[0] != '\0' && l->id[0] != '\0' && tui_room_of(t, cv) != NULL)
			withdrawn_nick(t, l, p);
		break;
	}
	if (l->history) {
		/* from an earlier session: there, but in the background */
		p->nick_attr = (p->nick_attr & ~(attr_t)A_BOLD) | A_DIM;
		p->text_attr |= A_DIM;
	}
}

/*
 * Whether line i is the last of the history loaded at start: a separator row
 * follows it.
 */
static int
history_ends(const struct conversation *cv, size_t i)
{
	return cv->lines[i]->history && (i + 1 == cv->nlines || !cv->lines[i + 1]->history);
}

/*
 * Where a code to compare is in a line (clean text buf of n bytes): the
 * "session code ..." and "safety number ..." notes of /verify in a peer's
 * window, where the code comes right after those words.  The codes are
 * worked out again (from the keys and the live session) and only bold in that
 * place, so a peer cannot choose what is highlighted, and a session code from
 * an earlier connection is no longer bold.  Sets [*s, *e) or leaves it empty.
 */
static void
code_span(struct tui *t, const struct conversation *cv, const struct chat_line *l,
    const char *buf, size_t n, size_t *s, size_t *e)
{
	static const char code_words[] = "session code ", safety_words[] = "safety number ";
	char code[VERIFY_CODE_LEN], safety[VERIFY_SAFETY_LEN];
	const char *want;
	size_t at, len;

	*s = *e = 0;
	if (l->kind != LINE_SYSTEM || cv->peer == NULL)
		return;
	(void)verify_peer(&t->core, cv->peer, code, safety);
	if (n >= sizeof code_words - 1 && memcmp(buf, code_words, sizeof code_words - 1) == 0) {
		want = code;
		at = sizeof code_words - 1;
	} else if (n >= sizeof safety_words - 1 && memcmp(buf, safety_words, sizeof safety_words - 1) == 0) {
		want = safety;
		at = sizeof safety_words - 1;
	} else {
		return;
	}
	len = strlen(want);
	if (len > 0 && len <= n - at && memcmp(buf + at, want, len) == 0) {
		*s = at;
		*e = at + len;
	}
}

/* The local calendar day of a wall-clock time in ms (year * 400 + day of year). */
static long
day_of(uint64_t ts_ms, struct tm *tm)
{
	time_t secs = (time_t)(ts_ms / 1000);

	if (localtime_r(&secs, tm) == NULL)
		return -1;
	return (long)tm->tm_year * 400 + tm->tm_yday;
}

/*
 * The day line above line i, irssi-style: "--- Day changed Thu 03 Dec 2026"
 * where the day differs from the line before, or the date alone above the
 * oldest line kept when that is not from today.  Returns 0 if none.
 */
static int
day_line(const struct conversation *cv, size_t i, char *out, size_t outlen)
{
	struct tm tm, prev;
	time_t now = time(NULL);
	long d = day_of(cv->lines[i]->ts_ms, &tm), before;
	char date[64];

	if (d == -1)
		return 0;
	if (i > 0)
		before = day_of(cv->lines[i - 1]->ts_ms, &prev);
	else
		before = day_of((uint64_t)now * 1000, &prev);
	if (before == -1 || before == d || strftime(date, sizeof date, "%a %d %b %Y", &tm) == 0)
		return 0;
	snprintf(out, outlen, i > 0 ? "--- Day changed %s" : "--- %s", date);
	return 1;
}

/*
 * Draw bytes [pos, pos+len) of buf in at most cols columns with attribute a,
 * the part inside [hs, he) with attribute ha.  Returns the columns used.
 */
static int
put_span(const char *buf, size_t pos, size_t len, int cols, attr_t a, size_t hs, size_t he, attr_t ha)
{
	size_t end = pos + len, cut[4], k;
	int used = 0;

	cut[0] = pos;
	cut[1] = hs > pos ? (hs < end ? hs : end) : pos;
	cut[2] = he > cut[1] ? (he < end ? he : end) : cut[1];
	cut[3] = end;
	for (k = 0; k < 3; k++) {
		if (cut[k + 1] <= cut[k])
			continue;
		attrset(k == 1 ? ha : a);
		used += tui_put_cols(buf + cut[k], cut[k + 1] - cut[k], cols - used);
	}
	return used;
}

/*
 * Lay a line out at a width: the prefix on its first row, the text wrapped at
 * word boundaries (text_wrap) with a hanging indent, '\n' as a hard break.
 * Returns the number of rows; when draw is set, rows first..last are drawn
 * starting at screen row y.
 */
static size_t
line_layout(struct tui *t, const struct conversation *cv, size_t i,
    int width, int draw, int y, size_t first, size_t last)
{
	static char buf[LINE_BUF];
	const struct chat_line *l = cv->lines[i];
	struct prefix p;
	size_t n, pos = 0, seg, row = 0, top = 0, avail, indent, show, hs = 0, he = 0;
	char day[96];

	if (day_line(cv, i, day, sizeof day)) {
		if (draw && row >= first && row <= last) {
			move(y + (int)(row - first), 0);
			attrset(tui_color_attr(t, PAIR_CYAN, A_DIM));
			tui_put_cols(day, strlen(day), width);
			attrset(A_NORMAL);
		}
		row = top = 1;
	}
	line_prefix(t, cv, l, &p);
	n = tui_disp_clean(t, l->text + p.skip, strlen(l->text + p.skip), buf, sizeof buf, 1);
	if (draw)
		code_span(t, cv, l, buf, n, &hs, &he);
	indent = (size_t)p.width <= (size_t)width / 2 ? (size_t)p.width : 2;
	for (;;) {
		avail = (size_t)width - (row == top ? (size_t)p.width : indent);
		if (avail < 2)
			avail = 2;
		seg = n > pos ? text_wrap(buf + pos, n - pos, avail) : 0;
		if (draw && row >= first && row <= last) {
			move(y + (int)(row - first), 0);
			if (row == top) {
				addstr(p.time);
				attrset(p.mark_attr);
				addstr(p.mark);
				attrset(p.nick_attr);
				addstr(p.nick);
			} else {
				attrset(A_NORMAL);
				printw("%*s", (int)indent, "");
			}
			show = seg;
			if (show > 0 && buf[pos + show - 1] == '\n')
				show--;
			put_span(buf, pos, show, (int)avail, p.text_attr, hs, he, A_BOLD);
			attrset(A_NORMAL);
		}
		row++;
		if (seg == 0)
			break;
		pos += seg;
		if (pos >= n)
			break;
		if (buf[pos - 1] != '\n' && buf[pos] == ' ')
			pos++;   /* the blank the line broke at */
		if (pos >= n)
			break;
	}
	if (history_ends(cv, i)) {
		if (draw && row >= first && row <= last) {
			const char *d = t->utf8 ? "\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80" : "---";
			char sep[96];

			snprintf(sep, sizeof sep, "%s%s history from earlier sessions above %s%s", d, d, d, d);
			move(y + (int)(row - first), 0);
			attrset(A_DIM);
			tui_put_cols(sep, strlen(sep), width);
			attrset(A_NORMAL);
		}
		row++;
	}
	return row;
}

/* Rows of line i of a conversation (the prefix needs the conversation). */
static size_t
rows_of(struct tui *t, const struct conversation *cv, size_t i, int width)
{
	return line_layout(t, cv, i, width, 0, 0, 0, 0);
}

/* The first line index (relative) a window shows. */
static size_t
first_shown(const struct tui_win *w)
{
	const struct conversation *cv = w->conv;

	if (w->clear_mark > cv->dropped)
		return (size_t)(w->clear_mark - cv->dropped) > cv->nlines ? cv->nlines :
		    (size_t)(w->clear_mark - cv->dropped);
	return 0;
}

/*
 * The bottom of the view of window w: line index *b (relative) and its row *rb.
 * Returns 0 if there is nothing to show.  A scrolled window whose anchor fell
 * off the front of the scrollback is held at the oldest line.
 */
static int
view_bottom(struct tui *t, struct tui_win *w, int width, size_t *b, size_t *rb)
{
	const struct conversation *cv = w->conv;
	size_t first = first_shown(w), nr;

	if (cv->nlines == 0 || first >= cv->nlines)
		return 0;
	if (!w->scrolled) {
		*b = cv->nlines - 1;
		*rb = rows_of(t, cv, *b, width) - 1;
		return 1;
	}
	if (w->anchor < cv->dropped + first) {
		w->anchor = cv->dropped + first;
		w->anchor_row = 0;
	}
	if (w->anchor - cv->dropped >= cv->nlines) {
		w->scrolled = 0;
		return view_bottom(t, w, width, b, rb);
	}
	*b = (size_t)(w->anchor - cv->dropped);
	nr = rows_of(t, cv, *b, width);
	if (w->anchor_row >= nr)
		w->anchor_row = nr - 1;
	*rb = w->anchor_row;
	return 1;
}

/* Scroll the current window n rows towards older lines (negative: newer). */
void
tui_scroll(struct tui *t, long n)
{
	struct tui_win *w = &t->win[t->cur];
	const struct conversation *cv = w->conv;
	int width = tui_chat_width(t), height = tui_chat_height(t) - 1;
	size_t b, rb, first = first_shown(w), above, i;

	if (!view_bottom(t, w, width, &b, &rb))
		return;
	if (n > 0) {
		while (n > 0) {
			if ((long)rb >= n) {
				rb -= (size_t)n;
				n = 0;
			} else if (b == first) {
				rb = 0;
				n = 0;
			} else {
				n -= (long)rb + 1;
				b--;
				rb = rows_of(t, cv, b, width) - 1;
			}
		}
		/* do not leave blank rows above the oldest line */
		above = rb + 1;
		for (i = b; i > first && above < (size_t)height; i--)
			above += rows_of(t, cv, i - 1, width);
		if (above < (size_t)height) {
			/* everything fits above: the bottom is height rows below the top */
			size_t want = (size_t)height, nr;

			for (i = first; i < cv->nlines; i++) {
				nr = rows_of(t, cv, i, width);
				if (want <= nr) {
					b = i;
					rb = want - 1;
					break;
				}
				want -= nr;
			}
			if (i == cv->nlines) {
				w->scrolled = 0;
				return;
			}
		}
	} else {
		n = -n;
		while (n > 0) {
			size_t nr = rows_of(t, cv, b, width);

			if (rb + (size_t)n < nr) {
				rb += (size_t)n;
				n = 0;
			} else if (b + 1 >= cv->nlines) {
				rb = nr - 1;
				n = 0;
			} else {
				n -= (long)(nr - rb);
				b++;
				rb = 0;
			}
		}
	}
	if (b + 1 == cv->nlines && rb + 1 == rows_of(t, cv, b, width)) {
		w->scrolled = 0;
		return;
	}
	w->scrolled = 1;
	w->anchor = cv->dropped + b;
	w->anchor_row = rb;
}

/* Scroll the current window so that line i is at the top (see tui_int.h). */
void
tui_scroll_to_line(struct tui *t, size_t i)
{
	struct tui_win *w = &t->win[t->cur];
	const struct conversation *cv = w->conv;
	int width = tui_chat_width(t);
	long height = tui_chat_height(t) - 1, rows = 0;
	size_t k;

	if (i >= cv->nlines)
		return;
	for (k = i; k < cv->nlines && rows <= LONG_MAX / 2; k++)
		rows += (long)rows_of(t, cv, k, width);
	w->scrolled = 0;
	if (rows > height)
		tui_scroll(t, rows - height);
}

/* One placed piece of the view: rows first..last of line i at screen row y. */
struct placed {
	size_t i, first, last;
};

/* Draw the conversation view of the current window into rows y0.. of height h. */
void
tui_draw_view(struct tui *t, int y0, int h, int width)
{
	struct tui_win *w = &t->win[t->cur];
	const struct conversation *cv = w->conv;
	struct placed *pl;
	size_t b, rb, i, first = first_shown(w), npl = 0, used = 0, nr, k, below;
	int vh = h, y;

	if (!view_bottom(t, w, width, &b, &rb))
		return;
	if (w->scrolled)
		vh = h - 1;
	if (vh <= 0 || (pl = calloc((size_t)vh, sizeof *pl)) == NULL)
		return;
	/* walk up from the bottom until the view is full */
	for (i = b + 1; i-- > first && used < (size_t)vh; ) {
		size_t last = i == b ? rb : rows_of(t, cv, i, width) - 1;

		nr = last + 1;
		pl[npl].i = i;
		pl[npl].last = last;
		pl[npl].first = 0;
		if (used + nr > (size_t)vh)
			pl[npl].first = used + nr - (size_t)vh;
		used += nr - pl[npl].first;
		npl++;
	}
	/* few lines: start at the top, as a fresh window should */
	y = y0;
	for (k = npl; k-- > 0; ) {
		line_layout(t, cv, pl[k].i, width, 1, y, pl[k].first, pl[k].last);
		y += (int)(pl[k].last - pl[k].first + 1);
	}
	free(pl);
	if (w->scrolled) {
		char msg[96];

		below = cv->nlines - 1 - b;
		if (below > 0)
			snprintf(msg, sizeof msg, " -- more below: %zu line%s -- PgDn ", below,
			    below == 1 ? "" : "s");
		else
			snprintf(msg, sizeof msg, " -- more below -- PgDn ");
		move(y0 + h - 1, 0);
		attrset(A_REVERSE | A_BOLD);
		tui_put_cols(msg, strlen(msg), width);
		attrset(A_REVERSE);
		tui_pad_to(y0 + h - 1, width);
		attrset(A_NORMAL);
	}
}

/* The state glyph of a peer. */
static const char *
state_glyph(const struct tui *t, enum peer_state st)
{
	switch (st) {
	case PEER_ONLINE:     return t->utf8 ? "\xe2\x97\x8f" : "+";
	case PEER_CONNECTING: return t->utf8 ? "\xe2\x97\x90" : "~";
	case PEER_DISCOVERED: return t->utf8 ? "\xe2\x97\x87" : "?";
	default:              return t->utf8 ? "\xe2\x97\x8b" : "-";
	}
}

/* Draw the peer list at column x0, rows y0..y0+h-1. */
static void
draw_sidebar(struct tui *t, int x0, int y0, int h)
{
	const struct peer *cur = t->win[t->cur].conv->peer, *p;
	int inner = TUI_SIDEBAR_W - 2, y = y0, online = 0, shown = 0, x, ncols;
	size_t listed = 0;
	char head[64], unread[16];
	const char *mark;
	attr_t mattr;
	const struct room_app *ra = tui_room_of(t, t->win[t->cur].conv);

	if (ra != NULL) {
		tui_room_sidebar(t, ra, x0, y0, h);   /* a room's window: its members */
		return;
	}
	mvvline(y0, x0, ACS_VLINE, h);
	y += tui_room_list(t, x0 + 2, y0, h);
	for (p = t->core.peers; p != NULL; p = p->next) {
		online += p->state == PEER_ONLINE && !p->forgotten;
		listed += !p->forgotten;   /* /forget: off the list at once */
	}
	snprintf(head, sizeof head, "peers %d/%zu online", online, listed);
	move(y++, x0 + 2);
	attrset(A_BOLD);
	tui_put_cols(head, strlen(head), inner);
	attrset(A_NORMAL);
	for (p = t->core.peers; p != NULL && y < y0 + h; p = p->next) {
		if (p->forgotten)
			continue;
		shown++;
		if (y == y0 + h - 1 && (size_t)shown < listed) {
			snprintf(head, sizeof head, "+%zu more", listed - (size_t)shown + 1);
			move(y++, x0 + 2);
			tui_put_cols(head, strlen(head), inner);
			break;
		}
		move(y, x0 + 2);
		attrset(p == cur ? A_REVERSE : A_NORMAL);
		attron(p->state == PEER_ONLINE ? tui_color_attr(t, PAIR_GREEN, A_BOLD) : A_DIM);
		addstr(state_glyph(t, p->state));
		attrset(p == cur ? A_REVERSE : A_NORMAL);
		addch(' ');
		/* the trust mark; on the highlighted row a reversed mark shows the other way round */
		mark = tui_trust_mark(t, p, &mattr);
		attrset(p == cur ? mattr ^ A_REVERSE : mattr);
		addstr(mark);
		attrset(p == cur ? A_REVERSE : A_NORMAL);
		addch(' ');
		unread[0] = '\0';
		if (p->conv.unread > 0)
			snprintf(unread, sizeof unread, " %u", p->conv.unread > 999 ? 999 : p->conv.unread);
		ncols = inner - 4 - FP_SHORT - 1 - (int)strlen(unread);
		attron(tui_color_attr(t, tui_nick_pair(p->fp), A_NORMAL));
		x = tui_put_model(t, p->nick, ncols);
		attroff(tui_color_attr(t, tui_nick_pair(p->fp), A_NORMAL));
		if (unread[0] != '\0') {
			attron(A_BOLD);
			addstr(unread);
			attroff(A_BOLD);
		}
		x += (int)strlen(unread);
		for (; x < ncols + (int)strlen(unread) + 1; x++)
			addch(' ');
		attron(A_DIM);
		addnstr(p->fp, FP_SHORT);
		attrset(A_NORMAL);
		y++;
	}
}

/* Draw the top line: which window this is and what it is about. */
static void
draw_title(struct tui *t)
{
	struct tui_win *w = &t->win[t->cur];
	const struct peer *p = w->conv->peer;
	const struct room_app *ra;
	char buf[512];
	attr_t ma;

	if (w->conv == &t->xconv)
		tui_xfer_title(t, buf, sizeof buf);
	else if ((ra = tui_room_of(t, w->conv)) != NULL)
		tui_room_title(t, ra, w->num, buf, sizeof buf);
	else if (p == NULL)
		snprintf(buf, sizeof buf, " %u:home  confab %s  --  /help lists commands and keys",
		    w->num, CONFAB_VERSION);
	else
		snprintf(buf, sizeof buf, " %u:%s  %s  %s %s  %.*s  %s", w->num, p->nick,
		    tui_state_words(p), tui_trust_mark(t, p, &ma), tui_trust_word(p),
		    FP_SHORT, p->fp, p->addr[0] ? p->addr : "-");
	move(0, 0);
	attrset(A_REVERSE);
	tui_put_model(t, buf, t->cols);
	tui_pad_to(0, t->cols);
	attrset(A_NORMAL);
}

/*
 * Draw the warning under the title of a new key that announced a nick another
 * known key uses: there until the user verifies (or blocks) it.
 */
static void
draw_banner(struct tui *t, int y, int width)
{
	const struct peer *p = t->win[t->cur].conv->peer;
	char buf[512];

	snprintf(buf, sizeof buf, " ! WARNING: a NEW KEY calls itself \"%s\", the name of a peer you know. "
	    "It is not that peer: /verify %s before you trust it.", p->announced[0] ? p->announced : p->nick,
	    p->nick);
	move(y, 0);
	attrset(tui_color_attr(t, PAIR_RED, A_NORMAL) | A_REVERSE | A_BOLD);
	tui_put_model(t, buf, width);
	tui_pad_to(y, width);
	attrset(A_NORMAL);
}

/* Draw the status bar: clock, identity, window, activity, transfers, addresses. */
static void
draw_status(struct tui *t, int y)
{
	char buf[1024], act[256] = "", one[32], addrs[NET_LISTEN_MAX][SOCK_ADDRSTRLEN], xf[160], nat[80], onion[48];
	time_t now = time(NULL);
	struct tm tm;
	size_t i, k, len, naddrs;

	for (i = 0; i < t->nwin; i++) {
		if (i == t->cur || t->win[i].conv->unread == 0)
			continue;
		snprintf(one, sizeof one, "%s%u", act[0] ? "," : "", t->win[i].num);
		if (strlen(act) + strlen(one) < sizeof act)
			strcat(act, one);
	}
	len = 0;
	buf[0] = '\0';
	if (localtime_r(&now, &tm) != NULL)
		len += strftime(buf, sizeof buf, "[%H:%M] ", &tm);
	/* what changes comes before the addresses, which a narrow terminal cuts off */
	len += (size_t)snprintf(buf + len, sizeof buf - len, "[%s %.*s] [%u/%u]", t->core.nick,
	    FP_SHORT, t->core.id.fp, t->win[t->cur].num, t->nwin > 0 ? t->win[t->nwin - 1].num : 0);
	if (act[0] != '\0' && len < sizeof buf - 40)
		len += (size_t)snprintf(buf + len, sizeof buf - len, " [act: %s]", act);
	tui_xfer_status(t, xf, sizeof xf);
	if (xf[0] != '\0' && len < sizeof buf - sizeof xf)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s", xf);
	if (len < sizeof buf - 80)
		len += (size_t)snprintf(buf + len, sizeof buf - len, " [");
	naddrs = core_listen_addrs(&t->core, addrs, sizeof addrs / sizeof addrs[0]);
	for (k = 0; k < naddrs && len < sizeof buf - 80; k++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", k ? " " : "", addrs[k]);
	if (naddrs == 0 && len < sizeof buf - 80)
		len += (size_t)snprintf(buf + len, sizeof buf - len, t->core.opt.tor_only ? "onion only" : "not listening");
	reach_view_status(&t->core, nat, sizeof nat);   /* " nat:upnp 1.2.3.4:7470", " nat:off", ... */
	onion_view_status(&t->core, onion, sizeof onion);   /* " onion:45%", " onion:abcdefgh...", "" */
	if (len < sizeof buf - 80 - sizeof nat - sizeof onion)
		snprintf(buf + len, sizeof buf - len, "%s%s%s]", nat, onion, !t->core.opt.discovery ? " lan:off" : "");
	move(y, 0);
	attrset(A_REVERSE);
	tui_put_model(t, buf, t->cols);
	tui_pad_to(y, t->cols);
	attrset(A_NORMAL);
}

/* Draw the input line and leave the cursor at its place. */
static void
draw_input(struct tui *t, int y)
{
	struct edit *e = &t->edit;
	char prompt[64], name[NICK_BUF], ch[8];
	size_t n, used, i, w, avail, pw;
	int x;

	n = tui_disp_clean(t, tui_win_name(t, t->cur), strlen(tui_win_name(t, t->cur)), name, sizeof name, 0);
	n = text_fit(name, n, 12, &used);
	snprintf(prompt, sizeof prompt, "[%.*s] ", (int)n, name);
	pw = used + 3;
	move(y, 0);
	attrset(A_BOLD);
	addstr(prompt);
	attrset(A_NORMAL);
	avail = (size_t)t->cols - pw;   /* columns for text and the cursor cell */
	/* keep the cursor inside the visible part, with some context on the left */
	if (e->off > e->cur)
		e->off = e->cur > avail / 4 ? e->cur - avail / 4 : 0;
	for (w = 0, i = e->off; i < e->cur; i++)
		w += (size_t)text_cp_width(e->cp[i]);
	while (w + 1 > avail && e->off < e->cur)
		w -= (size_t)text_cp_width(e->cp[e->off++]);
	x = (int)pw;
	for (i = e->off, w = 0; i < e->len; i++) {
		size_t cw = (size_t)text_cp_width(e->cp[i]);
		uint32_t cp = e->cp[i];

		if (w + cw > avail)
			break;
		if (!t->utf8 && cp >= 0x80)
			cp = cw > 0 ? '?' : 0;
		if (cp != 0) {
			ch[text_utf8_encode(cp, ch)] = '\0';
			addstr(ch);
		}
		if (i < e->cur)
			x += (int)cw;
		w += cw;
	}
	clrtoeol();
	move(y, x);
}

/* Draw the "terminal too small" notice, centred on two lines. */
static void
draw_too_small(struct tui *t)
{
	char l1[64], l2[64];
	int n1, n2, y = t->rows / 2 - 1;

	n1 = snprintf(l1, sizeof l1, "terminal too small");
	n2 = snprintf(l2, sizeof l2, "%dx%d, need %dx%d", t->cols, t->rows, TUI_MIN_COLS, TUI_MIN_ROWS);
	move(y < 0 ? 0 : y, n1 < t->cols ? (t->cols - n1) / 2 : 0);
	tui_put_cols(l1, (size_t)n1, t->cols);
	if (t->rows > 1) {
		move(y < 0 ? 1 : y + 1, n2 < t->cols ? (t->cols - n2) / 2 : 0);
		tui_put_cols(l2, (size_t)n2, t->cols);
	}
}

/* Redraw the whole screen from the model (ncurses sends only what changed). */
void
tui_draw(struct tui *t)
{
	int h, width;

	erase();
	getmaxyx(stdscr, t->rows, t->cols);
	if (t->rows < TUI_MIN_ROWS || t->cols < TUI_MIN_COLS) {
		draw_too_small(t);
		curs_set(0);
		return;
	}
	h = tui_chat_height(t);
	width = tui_chat_width(t);
	draw_title(t);
	if (banner_rows(t))
		draw_banner(t, 1, width);
	if (t->win[t->cur].conv == &t->xconv)
		tui_xfer_view(t, 1, h, width);
	else
		tui_draw_view(t, 1 + banner_rows(t), h, width);
	if (tui_sidebar_shown(t))
		draw_sidebar(t, width, 1, h + banner_rows(t));
	if (tui_invite_rows(t) > 0)
		draw_invite(t, t->rows - 2 - tui_invite_rows(t));
	draw_status(t, t->rows - 2);
	draw_input(t, t->rows - 1);
	curs_set(1);
}
