/* tui.c - the ncurses front-end: windows, keys, commands; it draws the model and never touches the network. */
#include "config.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "cmd.h"
#include "reach.h"        /* the addresses on the first screen */
#include "rooms.h"        /* room windows */
#include "log.h"
#include "mem.h"
#include "loop.h"         /* the terminal, signals, timers */
#include "main.h"
#include "text.h"
#include "transfer.h"
#include "tui.h"
#include "tui_int.h"


/* A UI command: one the front-end handles itself. */
struct ui_cmd {
	const char *name, *args, *help;
	void      (*fn)(struct tui *, char *args);
};

static void ui_help(struct tui *, char *);
static void ui_close(struct tui *, char *);
static void ui_clear(struct tui *, char *);
static void ui_window(struct tui *, char *);
static void ui_query(struct tui *, char *);
static void ui_bell(struct tui *, char *);
static void ui_transfers(struct tui *, char *);
static void ui_history(struct tui *, char *);

static const struct ui_cmd ui_cmds[] = {
	{ "help", "[COMMAND]", "list commands and keys", ui_help },
	{ "query", "PEER", "open (or go to) the window of a conversation with PEER", ui_query },
	{ "window", "N|renumber", "go to window N (1 is home); renumber: close the gaps /close left", ui_window },
	{ "close", "", "close this conversation window (the conversation is kept)", ui_close },
	{ "clear", "[--history]", "clear this window (hidden, not deleted); --history also deletes "
	  "the stored history with this peer", ui_clear },
	{ "history", "PEER [N]", "go to PEER's window, scrolled back to its last N lines (default: the "
	  "oldest line kept; PgUp scrolls back)",
	  ui_history },
	{ "bell", "[messages|all|off]", "ring the terminal bell for messages in other windows "
	  "(the default), also for offers and warnings (all), or never", ui_bell },
	{ "transfers", "[clear]", "go to the transfers window: every transfer, its progress, offers in "
	  "full (those under way first); clear: take the finished ones off the list",
	  ui_transfers },
	{ NULL, NULL, NULL, NULL },
};

/* The keys, as /help shows them; keep in step with key_plain and key_alt. */
static const char *const key_help[] = {
	"Enter send the line; a line starting with / is a command, // sends a literal /",
	"Alt-1..9, Alt-0  go to window 1..10        Ctrl-N / Ctrl-P  next / previous window",
	"Alt-Left/Right   previous / next window   Alt-A  next window with unread messages",
	"PgUp / PgDn      scroll back / forward     Ctrl-End, Alt->  back to the newest line",
	"F2, Alt-S        show / hide the peer list Ctrl-L  redraw the screen",
	"F3, Alt-T        the transfers window (again: back where you were); PgUp / PgDn scroll it",
	"Left/Right, C-b/C-f  move   Home/End, C-a/C-e  line start/end   M-b/M-f, C-Left/Right  word",
	"Backspace (^H or ^?)  delete back   Delete, C-d  delete   C-t  transpose",
	"C-k kill to end   C-u kill to start   C-w kill word back   M-d kill word   M-Backspace kill word back",
	"C-y yank   M-y yank older kill   C-c  clear the line (it can be yanked back)",
	"Up/Down  history   Tab / Shift-Tab  complete commands, nicks, file paths, transfer ids (again: next match)",
	"A paste of several lines is one message (blank lines kept), never run as commands;",
	"  over paste_confirm_lines lines (default 5) it waits for y (send) or n (drop)",
	NULL,
};

/* --- events from the core ------------------------------------------------ */

/* Make the transfers window the current one (opening it), remembering where we were. */
static void
xwin_show(struct tui *t)
{
	long i;

	if (tui_cur_conv(t) != &t->xconv)
		t->back = tui_cur_conv(t);
	if ((i = tui_win_open(t, &t->xconv)) >= 0)
		tui_win_switch(t, (size_t)i);
}

/* F3 / Alt-T: to the transfers window, or from it back where we were. */
static void
xwin_toggle(struct tui *t)
{
	long i;

	if (tui_cur_conv(t) != &t->xconv) {
		xwin_show(t);
		return;
	}
	i = t->back != NULL ? tui_win_find(t, t->back) : -1;
	tui_win_switch(t, i >= 0 ? (size_t)i : 0);
}

/*
 * A transfer event: one short line in the peer's window for each change of
 * state (the transfers window shows the rest).  An offer also opens the
 * transfers window, where every name is listed.
 */
static void
note_xfer(struct tui *t, const struct core_event *ev)
{
	struct xfer *x = ev->xfer;
	struct peer *p = ev->peer;
	char label[512], what[96], detail[PATH_MAX + NICK_BUF + 64] = "", sz[32];
	enum line_kind kind = LINE_SYSTEM;
	long i, xi;

	if (x == NULL || p == NULL || ev->cmd != NULL || x->hidden)
		return;   /* ev->cmd: an answer to the core's /transfers; the UI has a window instead;
		             hidden: a copy superseded by the same offer sent again */
	if (ev->type == EV_TRANSFER && (int)x->state == x->fe_state)
		return;   /* said already */
	x->fe_state = (int)x->state;
	tui_xfer_label(x, label, sizeof label);
	tui_xfer_what(x, what, sizeof what);
	i = tui_win_open(t, &p->conv);
	if (ev->type == EV_OFFER && x->auto_accept) {
		/* accepted by policy: an offer sent again (resume), or a verified peer (configuration) */
		core_note(&t->core, &p->conv, LINE_SYSTEM, "%s offers %s (%s)%s", p->nick, label, what,
		    x->target != NULL ? " again: resuming" : ": accepted without asking");
		return;
	}
	if (ev->type == EV_OFFER) {
		xi = tui_win_open(t, &t->xconv);
		core_note(&t->core, &p->conv, LINE_SYSTEM,
		    "%s offers %s (%s): /accept %.8s [DIR] or /reject %.8s (from %s; F3 lists every name)",
		    p->nick, label, what, x->idhex, x->idhex,
		    p->trust == TRUST_VERIFIED ? "a verified peer" : p->nick_clash ?
		    "an UNVERIFIED NEW KEY using a known peer's name" : "an unverified peer");
		if (i != (long)t->cur && xi != (long)t->cur) {
			p->conv.unread++;
			if (t->bell == TUI_BELL_ALL)
				t->want_bell = 1;
		}
		if (xi >= 0 && xi != (long)t->cur)
			t->xconv.unread++;
		return;
	}
	switch (x->state) {
	case XS_OFFERING:
		return;   /* the names are on their way; "pending" follows */
	case XS_PENDING:
		snprintf(detail, sizeof detail, ", waiting for an answer");
		break;
	case XS_RUNNING:
		if (x->resumed > 0) {
			tui_human_bytes(x->resumed, sz, sizeof sz);
			snprintf(detail, sizeof detail, ", resuming with %s already there", sz);
		}
		break;
	case XS_WAITING:
		snprintf(detail, sizeof detail, " until %s is back", p->nick);
		break;
	case XS_DONE:
		if (x->dir == XFER_OUT)
			snprintf(detail, sizeof detail, ", verified by %s", p->nick);
		else if (x->result != NULL)
			snprintf(detail, sizeof detail, ", saved as %s", x->result);
		break;
	case XS_FAILED:
		kind = LINE_ERROR;
		/* fall through */
	default:
		snprintf(detail, sizeof detail, ": %s", x->reason ? x->reason : "?");
		break;
	}
	tui_human_bytes(x->total, sz, sizeof sz);
	core_note(&t->core, &p->conv, kind, "transfer %.8s %s %s: %s (%s): %s%s", x->idhex,
	    x->dir == XFER_IN ? "from" : "to", p->nick, label, sz, xfer_state_name(x->state), detail);
}

/* Turn one core event into UI state; drawing happens before the loop sleeps. */
static void
on_event(struct core *c, const struct core_event *ev, void *arg)
{
	struct tui *t = arg;
	long i;

	t->dirty = 1;
	if (t->nwin == 0)
		return;   /* during core_init: nothing to keep yet */
	switch (ev->type) {
	case EV_PEER:
		if (ev->peer->forgotten && (i = tui_win_find(t, &ev->peer->conv)) > 0)
			tui_win_close(t, (size_t)i);   /* /forget: its window goes too */
		if (ev->peer->state == PEER_ONLINE && !ev->peer->fe_online && ev->cmd == NULL) {
			/* said at home, with the way to its window */
			ev->peer->fe_online = 1;
			size_t at;

			i = tui_win_find(t, &ev->peer->conv);
			core_note(c, NULL, LINE_SYSTEM, "%s is online - /query %s or Alt-%u", ev->peer->nick,
			    ev->peer->nick, i >= 0 ? t->win[i].num : tui_win_free_num(t, &at));
		} else if (ev->peer->state != PEER_ONLINE) {
			ev->peer->fe_online = 0;
		}
		if (ev->peer->state == PEER_DISCOVERED && !ev->peer->fe_lan && ev->cmd == NULL &&
		    ev->peer->trust != TRUST_BLOCKED) {
			/* once a run: its beacons go on every few seconds */
			ev->peer->fe_lan = 1;
			core_note(c, NULL, LINE_SYSTEM, "%s is on your LAN - /query %s", ev->peer->nick,
			    ev->peer->nick);
		}
		if (ev->cmd != NULL)   /* an answer to /peers */
			core_note(c, tui_cur_conv(t), LINE_SYSTEM, "%s  %s  %s  %s  %s", ev->peer->nick,
			    ev->peer->fp, tui_state_words(ev->peer), tui_trust_word(ev->peer),
			    ev->peer->addr[0] ? ev->peer->addr : "-");
		break;
	case EV_VERIFY:
		/* the core put the code in the peer's window: go there to read it */
		if (ev->cmd != NULL && (i = tui_win_open(t, &ev->peer->conv)) >= 0)
			tui_win_switch(t, (size_t)i);
		break;
	case EV_WARNING:
		/* the core wrote it as an error line in home and in the peer's window; make both seen */
		i = tui_win_open(t, &ev->peer->conv);
		if (i != (long)t->cur)
			ev->peer->conv.unread++;
		if (t->cur != 0)
			c->home.unread++;
		if (t->bell == TUI_BELL_ALL)
			t->want_bell = 1;
		break;
	case EV_MESSAGE:
		i = tui_win_open(t, &ev->peer->conv);
		if (i == (long)t->cur) {
			ev->peer->conv.unread = 0;
		} else if (t->bell) {
			t->want_bell = 1;
		}
		break;
	case EV_SENT:
		tui_win_open(t, &ev->peer->conv);
		break;
	case EV_OFFER:
	case EV_TRANSFER:
		note_xfer(t, ev);
		break;
	case EV_INVITE:
		/* reach: our invite code, shown alone across the full width until the next line */
		snprintf(t->invite, sizeof t->invite, "%s", ev->text);
		break;
	case EV_PROGRESS:
		break;   /* drawn from the model at the next redraw (at most one per loop turn) */
	case EV_GONE:
		tui_win_drop(t, &ev->peer->conv);   /* the peer is freed next */
		break;
	case EV_ERROR:
		/* errors answer what was typed: show them where it was typed */
		core_note(c, tui_cur_conv(t), LINE_ERROR, "%s", ev->text);
		break;
	case EV_INFO:
		if (ev->text != NULL && ev->line == NULL)
			core_note(c, NULL, LINE_SYSTEM, "%s", ev->text);
		break;
	case EV_ROOM:
	case EV_ROOM_INVITE:
	case EV_ROOM_MESSAGE:
	case EV_ROOM_SENT:
	case EV_ROOM_DELIVERED:
	case EV_ROOM_WITHDRAWN:
		tui_room_event(t, ev);   /* tui_room.c: the room's window */
		break;
	default:
		break;
	}
}

/* The core is stopping. */
static void
on_quit(struct core *c, void *arg)
{
	struct tui *t = arg;

	loop_timer_del(t->loop, &t->clock);
	loop_timer_del(t->loop, &t->paste_timer);
}

/* --- drawing hook, clock, signals ---------------------------------------- */

/* Before the loop sleeps: at most one screen update per turn. */
static void
before_sleep(struct loop *l, void *arg)
{
	struct tui *t = arg;

	if (!t->curses_up || !t->dirty)
		return;
	t->dirty = 0;
	tui_room_prune(t);
	if (t->full) {
		clearok(curscr, TRUE);
		t->full = 0;
	}
	tui_draw(t);
	wnoutrefresh(stdscr);
	doupdate();
	t->redraws++;
	if (t->want_bell) {
		beep();
		t->want_bell = 0;
	}
}

/* Arm the clock for the next minute boundary. */
static void
clock_arm(struct tui *t)
{
	uint64_t now = loop_wallclock_ms();

	loop_timer_set(t->loop, &t->clock, 60000 - now % 60000 + 20);
}

/* The minute changed: the status bar's clock needs redrawing. */
static void
on_clock(struct loop *l, struct loop_timer *tm, void *arg)
{
	struct tui *t = arg;

	t->dirty = 1;
	clock_arm(t);
}

/* SIGWINCH: take the new size; the view stays anchored, the input keeps its text. */
static void
on_winch(struct loop *l, int signo, void *arg)
{
	struct tui *t = arg;
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0 &&
	    (ws.ws_row != LINES || ws.ws_col != COLS)) {
		resize_term(ws.ws_row, ws.ws_col);
		log_debug("tui: resized to %ux%u", ws.ws_col, ws.ws_row);
	}
	t->dirty = t->full = 1;
}

/* SIGTERM, SIGHUP, SIGINT: leave cleanly (peers get BYE). */
static void
on_term(struct loop *l, int signo, void *arg)
{
	struct tui *t = arg;

	log_info("signal %d: quitting", signo);
	core_quit(&t->core, 0);
}

/* --- commands ------------------------------------------------------------ */

/* Whether the rest of a command line is blank. */
static int
blank(const char *s)
{
	return s[strspn(s, " \t")] == '\0';
}

/* An error line in the current window. */
static void
ui_error(struct tui *t, const char *msg)
{
	core_note(&t->core, tui_cur_conv(t), LINE_ERROR, "%s", msg);
}

/* /help [COMMAND] */
static void
ui_help(struct tui *t, char *args)
{
	struct conversation *cv = tui_cur_conv(t);
	const struct cmd_def *d;
	const struct ui_cmd *u;
	char *name = cmd_next_word(&args);
	size_t i;

	if (name != NULL) {
		static const char *ui_names[sizeof ui_cmds / sizeof ui_cmds[0]];
		const char *full, *more, *nl;
		char err[256], al[256] = "";
		size_t len = 0;

		if (*name == '/')
			name++;
		for (i = 0; ui_cmds[i].name != NULL; i++)
			ui_names[i] = ui_cmds[i].name;
		/* any case, a unique prefix, an alias, as when it is typed */
		if ((full = cmd_resolve(name, ui_names, err, sizeof err)) == NULL) {
			core_note(&t->core, cv, LINE_ERROR, "no command /%s (/help lists them)", name);
			return;
		}
		for (u = ui_cmds; u->name != NULL && strcmp(u->name, full) != 0; u++)
			;
		d = cmd_find(cmd_table, full);
		if (u->name != NULL)
			core_note(&t->core, cv, LINE_SYSTEM, "/%s%s%s - %s", u->name, *u->args ? " " : "", u->args,
			    u->help);
		else if (d != NULL)
			core_note(&t->core, cv, LINE_SYSTEM, "/%s%s%s - %s", d->name, *d->args ? " " : "", d->args,
			    d->help);
		/* the full text, a line at a time, and the other names it goes by */
		for (more = cmd_help_text(full); more != NULL && *more != '\0'; more = *nl ? nl + 1 : nl) {
			nl = more + strcspn(more, "\n");
			core_note(&t->core, cv, LINE_SYSTEM, "  %.*s", (int)(nl - more), more);
		}
		for (i = 0; cmd_aliases[i].alias != NULL && len + 32 < sizeof al; i++)
			if (strcmp(cmd_aliases[i].name, full) == 0)
				len += (size_t)snprintf(al + len, sizeof al - len, "%s/%s", len ? ", " : "",
				    cmd_aliases[i].alias);
		if (len > 0)
			core_note(&t->core, cv, LINE_SYSTEM, "  aliases: %s", al);
		return;
	}
	core_note(&t->core, cv, LINE_SYSTEM, "Commands (PEER is a nick or a fingerprint prefix of 4+ characters):");
	for (d = cmd_table; d->name != NULL; d++) {
		/* a command the UI does its own way is described as the UI does it */
		for (u = ui_cmds; u->name != NULL && strcmp(u->name, d->name) != 0; u++)
			;
		core_note(&t->core, cv, LINE_SYSTEM, "  /%s%s%s - %s", d->name,
		    *(u->name ? u->args : d->args) ? " " : "", u->name ? u->args : d->args,
		    u->name ? u->help : d->help);
	}
	for (u = ui_cmds; u->name != NULL; u++)
		if (cmd_find(cmd_table, u->name) == NULL)
			core_note(&t->core, cv, LINE_SYSTEM, "  /%s%s%s - %s", u->name, *u->args ? " " : "",
			    u->args, u->help);
	{
		char al[256];
		size_t len = 0;

		for (i = 0; cmd_aliases[i].alias != NULL && len + 32 < sizeof al; i++)
			len += (size_t)snprintf(al + len, sizeof al - len, " /%s=/%s", cmd_aliases[i].alias,
			    cmd_aliases[i].name);
		core_note(&t->core, cv, LINE_SYSTEM, "Any case, any unique prefix (/tra: /transfers); aliases:%s", al);
	}
	core_note(&t->core, cv, LINE_SYSTEM, "Text typed in a conversation window is sent to that peer; in a "
	    "room's window (#name), to the room, where /room SUB needs no ROOM.");
	core_note(&t->core, cv, LINE_SYSTEM, "Keys:");
	for (i = 0; key_help[i] != NULL; i++)
		core_note(&t->core, cv, LINE_SYSTEM, "  %s", key_help[i]);
	core_note(&t->core, cv, LINE_SYSTEM, "Marks on your lines: %s queued (peer offline), %s sent, %s delivered.",
	    t->utf8 ? "\xe2\x80\xa6" : "~", t->utf8 ? "\xc2\xb7" : "-", t->utf8 ? "\xe2\x9c\x93" : "+");
	core_note(&t->core, cv, LINE_SYSTEM, "Trust marks in the peer list: %s verified, ? unverified "
	    "(compare a /verify code, then /trust), %s blocked, ! a new key using the name of a peer you know.",
	    t->utf8 ? "\xe2\x9c\x93" : "V", t->utf8 ? "\xe2\x9c\x97" : "X");
}

/* /close: close this conversation's window. */
static void
ui_close(struct tui *t, char *args)
{
	size_t i = t->cur;

	if (!blank(args)) {
		ui_error(t, "usage: /close");
		return;
	}
	if (i == 0) {
		ui_error(t, "the home window cannot be closed");
		return;
	}
	tui_win_close(t, i);
}

/* /clear [--history]: hide what is in this window so far; --history deletes it for good. */
static void
ui_clear(struct tui *t, char *args)
{
	struct tui_win *w = &t->win[t->cur];
	char *opt = cmd_next_word(&args);
	struct peer *p = w->conv->peer;

	if ((opt != NULL && strcmp(opt, "--history") != 0) || !blank(args)) {
		ui_error(t, "usage: /clear [--history]");
		return;
	}
	if (opt != NULL) {
		if (p == NULL) {
			ui_error(t, "/clear --history deletes a conversation's history: use it in that peer's window");
			return;
		}
		core_clear_history(&t->core, p);
		core_note(&t->core, &p->conv, LINE_SYSTEM, "history with %s deleted", p->nick);
		w->clear_mark = w->conv->dropped;
		w->scrolled = 0;
		t->dirty = 1;
		return;
	}
	w->clear_mark = w->conv->dropped + w->conv->nlines;
	w->scrolled = 0;
	t->dirty = 1;
}

/* /window N */
static void
ui_window(struct tui *t, char *args)
{
	char *w = cmd_next_word(&args), *end;
	long n;

	if (w == NULL || !blank(args)) {
		ui_error(t, "usage: /window N");
		return;
	}
	n = strtol(w, &end, 10);
	if (strcmp(w, "renumber") == 0) {
		/* close the gaps: 1, 2, 3... in the present order */
		size_t i;

		for (i = 0; i < t->nwin; i++)
			t->win[i].num = (unsigned)i + 1;
		t->dirty = 1;
		core_note(&t->core, tui_cur_conv(t), LINE_SYSTEM, "windows renumbered 1 to %zu", t->nwin);
		return;
	}
	n = strtol(w, &end, 10);
	if (*end != '\0' || n < 1 || n > 100000 || tui_win_by_num(t, (unsigned)n) < 0) {
		char nums[256];
		size_t i, len = 0;

		if (t->win[t->nwin - 1].num == t->nwin)   /* no gaps */
			snprintf(nums, sizeof nums, "1 to %zu", t->nwin);
		for (i = 0; t->win[t->nwin - 1].num != t->nwin && i < t->nwin && len + 16 < sizeof nums; i++)
			len += (size_t)snprintf(nums + len, sizeof nums - len, "%s%u", i ? ", " : "", t->win[i].num);
		core_note(&t->core, tui_cur_conv(t), LINE_ERROR, "no window %s (there %s %zu: %s)", w,
		    t->nwin == 1 ? "is" : "are", t->nwin, nums);
		return;
	}
	tui_win_switch(t, (size_t)tui_win_by_num(t, (unsigned)n));
}

/* /query PEER */
static void
ui_query(struct tui *t, char *args)
{
	char *name = cmd_next_word(&args);
	struct peer *p;
	const char *why;
	long i;

	if (name == NULL || !blank(args)) {
		ui_error(t, "usage: /query PEER");
		return;
	}
	if ((p = core_find_peer(&t->core, name, &why)) == NULL) {
		core_note(&t->core, tui_cur_conv(t), LINE_ERROR, "%s: %s", name, why);
		return;
	}
	if ((i = tui_win_open(t, &p->conv)) >= 0)
		tui_win_switch(t, (size_t)i);
}

/* /bell [messages|all|off] (on: messages) */
static void
ui_bell(struct tui *t, char *args)
{
	char *w = cmd_next_word(&args);

	if (w != NULL && (strcasecmp(w, "on") == 0 || strcasecmp(w, "messages") == 0) && blank(args))
		t->bell = TUI_BELL_MESSAGES;
	else if (w != NULL && strcasecmp(w, "all") == 0 && blank(args))
		t->bell = TUI_BELL_ALL;
	else if (w != NULL && strcasecmp(w, "off") == 0 && blank(args))
		t->bell = TUI_BELL_OFF;
	else if (w != NULL) {
		ui_error(t, "usage: /bell [messages|all|off]");
		return;
	}
	core_note(&t->core, tui_cur_conv(t), LINE_SYSTEM, "bell: %s",
	    t->bell == TUI_BELL_ALL ? "all (messages, offers and warnings in other windows)" :
	    t->bell == TUI_BELL_MESSAGES ? "messages (in other windows)" : "off");
}

/*
 * /history PEER [N]: the conversation window, which holds the history, shown
 * from its last N lines (without N: from the oldest line kept).
 */
static void
ui_history(struct tui *t, char *args)
{
	char *name = cmd_next_word(&args), *num = cmd_next_word(&args), *end;
	unsigned long n = 0;
	struct peer *p;
	const char *why;
	long i;

	if (num != NULL) {
		n = strtoul(num, &end, 10);
		if (*end != '\0' || n == 0)
			num = NULL, name = NULL;
	}
	if (name == NULL || !blank(args)) {
		ui_error(t, "usage: /history PEER [N]");
		return;
	}
	if ((p = core_find_peer(&t->core, name, &why)) == NULL) {
		core_note(&t->core, tui_cur_conv(t), LINE_ERROR, "%s: %s", name, why);
		return;
	}
	if ((i = tui_win_open(t, &p->conv)) < 0)
		return;
	tui_win_switch(t, (size_t)i);
	t->win[i].clear_mark = 0;   /* what /clear hid comes back */
	t->win[i].scrolled = 0;
	if (p->conv.nlines == 0)
		core_note(&t->core, &p->conv, LINE_SYSTEM, "no history with %s", p->nick);
	else if (num != NULL && n < p->conv.nlines)
		tui_scroll_to_line(t, p->conv.nlines - n);   /* the last N lines, from the top */
	else
		tui_scroll(t, LONG_MAX / 2);   /* to the oldest line kept */
}

/* /transfers: the transfers window. */
static void
ui_transfers(struct tui *t, char *args)
{
	char *w = cmd_next_word(&args);
	struct xfer *x;
	unsigned n = 0;

	if ((w != NULL && strcasecmp(w, "clear") != 0) || !blank(args)) {
		ui_error(t, "usage: /transfers [clear]");
		return;
	}
	if (w != NULL) {
		/* finished transfers off the list (the files stay where they landed) */
		for (x = t->core.xfers; x != NULL; x = x->next)
			if (!x->hidden && tui_xfer_ended(x))
				x->hidden = 1, n++;
		core_note(&t->core, tui_cur_conv(t), LINE_SYSTEM, "%u finished transfer%s cleared from the list",
		    n, n == 1 ? "" : "s");
	}
	xwin_show(t);
}

/* Run a line typed in the input (never one from a paste). */
static void
run_line(struct tui *t, const char *line)
{
	const struct ui_cmd *u;
	char buf[256], *args, *name;
	struct tui_win *w = &t->win[t->cur];
	struct room_app *ra;
	int rc;

	t->invite[0] = '\0';   /* the code strip goes with the next line entered */
	if (line[0] == '/' && line[1] != '/') {
		static const char *ui_names[sizeof ui_cmds / sizeof ui_cmds[0]];
		const char *cmd, *a;
		char err[256], *again, *with;
		size_t i;

		for (i = 0; ui_cmds[i].name != NULL; i++)
			ui_names[i] = ui_cmds[i].name;
		snprintf(buf, sizeof buf, "%s", line + 1);
		args = buf;
		if ((name = cmd_next_word(&args)) == NULL) {
			core_note(&t->core, w->conv, LINE_ERROR, "empty command (/help lists them)");
			return;
		}
		/* any case, an alias, a unique prefix; else "did you mean ...?" */
		if ((cmd = cmd_resolve(name, ui_names, err, sizeof err)) == NULL) {
			core_note(&t->core, w->conv, LINE_ERROR, "%s", err);
			return;
		}
		/* the line again with the full name, arguments unshortened */
		for (a = line + 1; *a == ' ' || *a == '\t'; a++)
			;
		a += strcspn(a, " \t");
		if ((again = malloc(strlen(cmd) + strlen(a) + 3)) == NULL)
			return;
		sprintf(again, "/%s%s", cmd, a);
		if (strcmp(cmd, "room") == 0 && (ra = tui_room_of(t, w->conv)) != NULL &&
		    (with = tui_room_default(t, ra, again)) != NULL) {
			free(again);   /* typed in a room's window: that room */
			again = with;
		}
		if (strcmp(cmd, "me") == 0 && (ra = tui_room_of(t, w->conv)) != NULL && cmd_is_action(again)) {
			tui_room_say(t, ra, again);   /* an action in a room: "/me waves" as its text (5.4) */
			free(again);
			return;
		}
		for (u = ui_cmds; u->name != NULL; u++) {
			if (strcmp(u->name, cmd) == 0) {
				char *rest = again + 1;

				cmd_next_word(&rest);
				u->fn(t, rest);
				free(again);
				return;
			}
		}
		rc = cmd_run(&t->core, w->conv, again);
		if (rc == 1)
			core_note(&t->core, w->conv, LINE_ERROR, "unknown command /%s (/help lists them)", cmd);
		free(again);
		return;
	}
	if (line[strspn(line, " ")] == '\0')
		return;
	w->scrolled = 0;   /* talking: back to the newest line */
	if ((ra = tui_room_of(t, w->conv)) != NULL) {
		tui_room_say(t, ra, line[0] == '/' ? line + 1 : line);   /* "//" sends a literal '/' */
		return;
	}
	cmd_run(&t->core, w->conv, line);
}

/* --- completion ---------------------------------------------------------- */

/* Command names (the core's, then the UI's own) starting with prefix. */
static void
comp_commands(struct tui_comp *c, const char *prefix, void *arg)
{
	const struct cmd_def *d;
	const struct ui_cmd *u;
	size_t n = strlen(prefix);

	(void)arg;
	for (d = cmd_table; d->name != NULL; d++)
		if (strncmp(d->name, prefix, n) == 0)
			comp_add(c, "/", d->name, " ");
	for (u = ui_cmds; u->name != NULL; u++)
		if (strncmp(u->name, prefix, n) == 0 && cmd_find(cmd_table, u->name) == NULL)
			comp_add(c, "/", u->name, " ");
}

/* A command's argument synopsis: the UI's own command first, else the core's. */
static const char *
comp_synopsis(const char *cmd, void *arg)
{
	const struct cmd_def *d;
	const struct ui_cmd *u;

	(void)arg;
	for (u = ui_cmds; u->name != NULL; u++)
		if (strcmp(u->name, cmd) == 0)
			return u->args;
	return (d = cmd_find(cmd_table, cmd)) != NULL ? d->args : NULL;
}

/* Candidates for a peer: nicks (any case), else fingerprint prefixes. */
static void
comp_peers(struct tui_comp *c, const char *word, void *arg)
{
	struct tui *t = arg;
	struct peer *p;
	size_t n = strlen(word);
	char fp[FP_SHORT + 1];

	if (word[0] == '#') {
		tui_room_complete(t, c, word);   /* "#te": a room */
		return;
	}
	for (p = t->core.peers; p != NULL; p = p->next)
		if (!p->forgotten && strncasecmp(p->nick, word, n) == 0)
			comp_add(c, p->nick, c->colon ? ": " : " ", "");   /* "bob: " starts a line */
	if (c->ncand > 0 || n == 0)
		return;
	for (p = t->core.peers; p != NULL; p = p->next) {
		if (!p->forgotten && strncasecmp(p->fp, word, n) == 0) {
			snprintf(fp, sizeof fp, "%.*s", FP_SHORT, p->fp);
			comp_add(c, n > FP_SHORT ? p->fp : fp, " ", "");
		}
	}
}

/* Candidates for a transfer id: offers for /accept and /reject, else transfers under way. */
static void
comp_ids(struct tui_comp *c, const char *word, const char *cmd, void *arg)
{
	struct tui *t = arg;
	int offers = strcmp(cmd, "accept") == 0 || strcmp(cmd, "reject") == 0;
	const struct xfer *x;
	size_t n = strlen(word);
	char id[16];

	for (x = t->core.xfers; x != NULL; x = x->next) {
		if (x->hidden || (offers ? !tui_xfer_is_offer(x) : tui_xfer_ended(x)))
			continue;
		if (strncasecmp(x->idhex, word, n) != 0)
			continue;
		snprintf(id, sizeof id, "%.8s", x->idhex);
		comp_add(c, id, " ", "");
	}
}

/* Tab (dir 1) or Shift-Tab (dir -1): complete the word before the cursor. */
static void
complete(struct tui *t, int dir)
{
	const struct comp_src src = {
		.commands = comp_commands, .synopsis = comp_synopsis, .peers = comp_peers,
		.ids = comp_ids, .paths = NULL, .arg = t,
	};
	char note[512];

	if (comp_complete(&t->comp, &t->edit, dir, &src, note, sizeof note) == 1)
		core_note(&t->core, tui_cur_conv(t), LINE_SYSTEM, "%s", note);
}

/* --- keys ---------------------------------------------------------------- */

/* Enter: run or send the line. */
static void
submit(struct tui *t)
{
	char *line = edit_text(&t->edit);

	if (line == NULL)
		return;
	edit_history_add(&t->edit, line);
	edit_clear(&t->edit);
	run_line(t, line);
	free(line);
}

/* The complete lines of a paste, gathered into one message. */
struct paste_to {
	struct tui          *t;
	struct conversation *cv;
	char                *buf;
	size_t               len, cap;
	int                  failed;
};

/* One complete line of a paste (a blank one too): added to the message. */
static void
paste_line(void *arg, const char *p)
{
	struct paste_to *to = arg;
	size_t n = strlen(p);
	char *nb;

	if (to->failed)
		return;
	if (to->len + n + 2 > to->cap) {
		if ((nb = mem_grow(to->buf, &to->cap, to->len + n + 2, 1, 256, 0)) == NULL) {
			to->failed = 1;
			return;
		}
		to->buf = nb;
	}
	memcpy(to->buf + to->len, p, n);
	to->len += n;
	to->buf[to->len++] = '\n';
	to->buf[to->len] = '\0';
}

/* Send a paste to the window's peer, as text (never a command). */
static void
paste_send(struct tui *t, struct conversation *cv, const char *text)
{
	struct room_app *ra = tui_win_find(t, cv) < 0 ? NULL : tui_room_of(t, cv);

	if (ra != NULL) {
		tui_room_say(t, ra, text);
		return;
	}
	if (tui_win_find(t, cv) < 0 || cv->peer == NULL) {
		core_note(&t->core, tui_cur_conv(t), LINE_ERROR, "the paste's window is gone: not sent");
		return;
	}
	cmd_send_text(&t->core, cv->peer, text);
}

/* y or n to a long paste: send it or drop it (any other key drops it too). */
static void
paste_answer(struct tui *t, int yes)
{
	char *text = t->paste_wait;

	t->paste_wait = NULL;
	if (yes) {
		paste_send(t, t->paste_conv, text);
	} else {
		core_note(&t->core, tui_win_find(t, t->paste_conv) >= 0 ? t->paste_conv : tui_cur_conv(t), LINE_SYSTEM,
		    "paste dropped: %zu lines not sent", t->paste_lines);
	}
	free(text);
	t->dirty = 1;
}

/*
 * The end of a bracketed paste.  Without a line break it is just inserted.
 * With line breaks, the input (with the paste put in at the cursor) is split:
 * the complete lines go as one message (blank lines inside kept; a line
 * starting with '/' is text, never run), and the last part stays in the input
 * to be edited.  More lines than paste_confirm_lines wait for a y.
 */
static void
paste_end(void *arg, const char *text, size_t n, int overflow)
{
	struct tui *t = arg;
	struct paste_to to = { t, tui_cur_conv(t), NULL, 0, 0, 0 };
	size_t nlines = 0, i, a, b;
	char raw[INVITE_TEXT_MAX * 2], code[INVITE_TEXT_MAX];

	loop_timer_del(t->loop, &t->paste_timer);
	t->dirty = 1;
	if (overflow)
		core_note(&t->core, to.cv, LINE_ERROR, "paste longer than %d bytes: the rest was dropped",
		    KEYS_PASTE_MAX);
	if (n < sizeof raw) {
		/* an invite code copied off a screen in pieces: one word again */
		memcpy(raw, text, n);
		raw[n] = '\0';
		if (invite_squeeze(raw, code, sizeof code)) {
			edit_insert_utf8(&t->edit, code, strlen(code));
			return;
		}
	}
	if (memchr(text, '\n', n) == NULL) {
		edit_insert_utf8(&t->edit, text, n);
		return;
	}
	for (i = 0; i < n; i++)
		nlines += text[i] == '\n';
	if (to.cv->peer == NULL && tui_room_of(t, to.cv) == NULL) {
		core_note(&t->core, to.cv, LINE_ERROR,
		    "a paste of %zu lines is sent to a peer or a room: open its window (/query PEER) first",
		    nlines + 1);
		return;
	}
	t->win[t->cur].scrolled = 0;
	if (edit_paste_lines(&t->edit, text, n, paste_line, &to) == -1 || to.failed || to.buf == NULL) {
		free(to.buf);
		return;
	}
	/* blank lines before and after go; those inside stay */
	for (a = 0; a < to.len && (to.buf[a] == '\n' || to.buf[a] == ' ' || to.buf[a] == '\t'); a++)
		;
	while (a > 0 && to.buf[a - 1] != '\n')
		a--;   /* keep the first line's own indent */
	for (b = to.len; b > a && (to.buf[b - 1] == '\n' || to.buf[b - 1] == ' ' || to.buf[b - 1] == '\t'); b--)
		;
	if (b == a) {
		free(to.buf);
		return;
	}
	memmove(to.buf, to.buf + a, b - a);
	to.buf[b - a] = '\0';
	for (nlines = 1, i = 0; to.buf[i] != '\0'; i++)
		nlines += to.buf[i] == '\n';
	if (t->core.opt.paste_confirm_lines > 0 && nlines > t->core.opt.paste_confirm_lines) {
		free(t->paste_wait);   /* an earlier one not answered: this one replaces it */
		t->paste_wait = to.buf;
		t->paste_conv = to.cv;
		t->paste_lines = nlines;
		core_note(&t->core, to.cv, LINE_SYSTEM, "paste of %zu lines to %s: y sends it, n drops it "
		    "(paste_confirm_lines = %zu)", nlines, tui_win_name(t, t->cur), t->core.opt.paste_confirm_lines);
		return;
	}
	paste_send(t, to.cv, to.buf);
	free(to.buf);
}

/* A paste began or goes on: (re)arm the timer that ends one that never ends. */
static void
paste_busy(void *arg)
{
	struct tui *t = arg;

	loop_timer_set(t->loop, &t->paste_timer, TUI_PASTE_IDLE_MS);
}

/* A paste went silent without its end marker: take what came as the paste. */
static void
on_paste_idle(struct loop *l, struct loop_timer *tm, void *arg)
{
	struct tui *t = arg;

	if (!t->keys.pasting)
		return;
	log_warn("tui: a bracketed paste never ended; taking %zu bytes as pasted", t->keys.npaste);
	keys_paste_end(&t->keys);
}

/* Scroll by a page. */
static void
page(struct tui *t, int dir)
{
	long h = tui_chat_height(t) - 2;

	if (tui_cur_conv(t) == &t->xconv)
		tui_xfer_scroll(t, h > 1 ? -dir * h : -dir);   /* the list: PgDn goes down */
	else
		tui_scroll(t, h > 1 ? dir * h : dir);
	t->dirty = 1;
}

/* Back to the newest line (in the transfers window: the top of the list). */
static void
to_newest(struct tui *t)
{
	t->win[t->cur].scrolled = 0;
	if (tui_cur_conv(t) == &t->xconv)
		t->xscroll = 0;
}

/* A key with Alt (sent as ESC then the key). */
static void
key_alt(struct tui *t, int code, wint_t k)
{
	struct edit *e = &t->edit;

	if (code) {
		switch (k) {
		case KEY_LEFT:      tui_win_step(t, -1); break;
		case KEY_RIGHT:     tui_win_step(t, 1); break;
		case KEY_BACKSPACE: edit_kill_alnum_back(e); break;
		default: break;
		}
		return;
	}
	switch (k) {
	case 'b': case 'B': edit_word_left(e); break;
	case 'f': case 'F': edit_word_right(e); break;
	case 'd': case 'D': edit_kill_word_fwd(e); break;
	case 'y': case 'Y': edit_yank_pop(e); break;
	case 's': case 'S': t->sidebar = !t->sidebar; break;
	case 'a': case 'A': tui_win_next_active(t); break;
	case 't': case 'T': xwin_toggle(t); break;
	case '>': to_newest(t); break;
	case 127: case 8:   edit_kill_alnum_back(e); break;
	case '0':           if (tui_win_by_num(t, 10) >= 0) tui_win_switch(t, (size_t)tui_win_by_num(t, 10)); break;
	default:
		if (k >= '1' && k <= '9' && tui_win_by_num(t, (unsigned)(k - '0')) >= 0)
			tui_win_switch(t, (size_t)tui_win_by_num(t, (unsigned)(k - '0')));
		break;
	}
}

/* A key without Alt. */
static void
key_plain(struct tui *t, int code, wint_t k)
{
	struct edit *e = &t->edit;
	const char *name;

	if (code) {
		switch (k) {
		case KEY_LEFT:      edit_left(e); break;
		case KEY_RIGHT:     edit_right(e); break;
		case KEY_HOME:      edit_home(e); break;
		case KEY_END:       edit_end(e); break;
		case KEY_DC:        edit_delete(e); break;
		case KEY_BACKSPACE: edit_backspace(e); break;
		case KEY_UP:        edit_history_prev(e); break;
		case KEY_DOWN:      edit_history_next(e); break;
		case KEY_PPAGE:     page(t, 1); break;
		case KEY_NPAGE:     page(t, -1); break;
		case KEY_F(2):      t->sidebar = !t->sidebar; break;
		case KEY_F(3):      xwin_toggle(t); break;
		case KEY_BTAB:      complete(t, -1); break;
		case KEY_ENTER:     submit(t); break;
		case KEY_RESIZE:    t->full = 1; break;
		default:
			/* modified cursor keys have terminfo names: kLFT5 is Ctrl-Left */
			if ((name = keyname((int)k)) == NULL)
				break;
			if (strcmp(name, "kLFT5") == 0)
				edit_word_left(e);
			else if (strcmp(name, "kRIT5") == 0)
				edit_word_right(e);
			else if (strcmp(name, "kLFT3") == 0)
				tui_win_step(t, -1);
			else if (strcmp(name, "kRIT3") == 0)
				tui_win_step(t, 1);
			else if (strcmp(name, "kEND5") == 0 || strcmp(name, "kEND3") == 0)
				to_newest(t);
			break;
		}
		return;
	}
	switch (k) {
	case 1:   edit_home(e); break;                   /* C-a */
	case 2:   edit_left(e); break;                   /* C-b */
	case 3:   edit_home(e); edit_kill_to_end(e); break;   /* C-c */
	case 4:   edit_delete(e); break;                 /* C-d */
	case 5:   edit_end(e); break;                    /* C-e */
	case 6:   edit_right(e); break;                  /* C-f */
	case 8:   edit_backspace(e); break;              /* C-h */
	case 9:   complete(t, 1); break;                 /* Tab */
	case 10:
	case 13:  submit(t); break;                      /* Enter */
	case 11:  edit_kill_to_end(e); break;            /* C-k */
	case 12:  t->full = 1; break;                    /* C-l */
	case 14:  tui_win_step(t, 1); break;                 /* C-n */
	case 16:  tui_win_step(t, -1); break;                /* C-p */
	case 20:  edit_transpose(e); break;              /* C-t */
	case 21:  edit_kill_to_start(e); break;          /* C-u */
	case 23:  edit_kill_word_back(e); break;         /* C-w */
	case 25:  edit_yank(e); break;                   /* C-y */
	case 127: edit_backspace(e); break;              /* ^? */
	default:
		if (k >= 0x20 && (t->utf8 || k < 0x80))
			edit_insert(e, (uint32_t)k);
		break;
	}
}

/* A decoded key outside a paste: an editing command. */
static void
on_key(void *arg, int code, uint32_t key, int alt)
{
	struct tui *t = arg;
	wint_t k = (wint_t)key;

	if (t->paste_wait != NULL) {
		/* a long paste waits for its answer: y sends it, anything else drops it */
		paste_answer(t, !code && !alt && (k == 'y' || k == 'Y'));
		return;
	}
	edit_begin(&t->edit);
	if (!(!code && k == 9) && !(code && k == KEY_BTAB))
		comp_reset(&t->comp);
	if (alt)
		key_alt(t, code, k);
	else
		key_plain(t, code, k);
	t->dirty = 1;
}

/* The curses key codes the decoder uses for the sequences it decodes itself. */
static const struct keys_codes tui_codes = {
	.up = KEY_UP, .down = KEY_DOWN, .left = KEY_LEFT, .right = KEY_RIGHT,
	.home = KEY_HOME, .end = KEY_END, .dc = KEY_DC, .ppage = KEY_PPAGE,
	.npage = KEY_NPAGE, .btab = KEY_BTAB, .enter = KEY_ENTER,
};
static const struct keys_ops tui_keys_ops = { on_key, paste_busy, paste_end };

/* stdin is readable: take every key that is there, never waiting for more. */
static void
on_stdin(struct loop *l, int fd, int revents, void *arg)
{
	static int empty_reads;
	struct tui *t = arg;
	wint_t k;
	int r, n = 0;

	while (!t->core.quitting && (r = get_wch(&k)) != ERR) {
		n++;
		keys_feed(&t->keys, r == KEY_CODE_YES, (uint32_t)k);
	}
	/* a lone Escape (ncurses already waited ESCDELAY for more): nothing to do */
	keys_idle(&t->keys);
	if (n > 0) {
		empty_reads = 0;
		return;
	}
	/* readable yet nothing to read: the terminal has gone */
	if ((revents & (POLLHUP | POLLERR | POLLNVAL)) || ++empty_reads >= 3) {
		log_info("tui: terminal input closed");
		loop_fd_del(l, fd);
		core_quit(&t->core, 0);
	}
}

/* --- start and stop ------------------------------------------------------ */

/* The welcome lines in the home window. */
static void
welcome(struct tui *t)
{
	char addrs[NET_LISTEN_MAX][SOCK_ADDRSTRLEN], all[NET_LISTEN_MAX * (SOCK_ADDRSTRLEN + 1)] = "", reach[700];
	size_t i, n;

	n = core_listen_addrs(&t->core, addrs, sizeof addrs / sizeof addrs[0]);
	for (i = 0; i < n; i++) {
		strcat(all, i ? " " : "");
		strcat(all, addrs[i]);
	}
	core_note(&t->core, NULL, LINE_SYSTEM, "confab %s: you are %s, fingerprint %s",
	    CONFAB_VERSION, t->core.nick, t->core.id.fp);
	core_note(&t->core, NULL, LINE_SYSTEM, "listening on %s", all[0] ? all :
	    t->core.opt.tor_only ? "no address: only tor, for the onion service" : "nothing");
	reach_addrs_text(&t->core, reach, sizeof reach);   /* the interfaces' addresses, not 0.0.0.0 */
	if (reach[0] != '\0')
		core_note(&t->core, NULL, LINE_SYSTEM, "peers can reach you at %s; /invite prints your code "
		    "(it lists them all)", reach);
	core_note(&t->core, NULL, LINE_SYSTEM, "LAN discovery: %s", !t->core.opt.discovery ?
	    "off (--no-discovery)" : t->core.lan != NULL ? "on (peers on your LAN are listed by themselves)" :
	    "off (it could not start: see the log)");
	core_note(&t->core, NULL, LINE_SYSTEM,
	    "/connect HOST:PORT reaches a peer, /query PEER opens a conversation, /help lists commands and keys");
}

/* Run the full-screen interface until /quit. */
int
tui_run(const struct core_options *opt)
{
	struct frontend fe;
	struct tui *t;
	char err[512];
	int rc = EXIT_FAILURE_, saved_err = -1;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "confab: the chat screen needs a terminal (use --headless for scripts)\n");
		return EXIT_USAGE;
	}
	if ((t = calloc(1, sizeof *t)) == NULL) {
		fprintf(stderr, "confab: out of memory\n");
		return EXIT_FAILURE_;
	}
	t->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	keys_init(&t->keys, &tui_codes, &tui_keys_ops, t, t->utf8);
	t->sidebar = 1;
	t->bell = !opt->bell ? TUI_BELL_OFF : opt->bell_all ? TUI_BELL_ALL : TUI_BELL_MESSAGES;   /* config: bell */
	edit_init(&t->edit);
	signal(SIGPIPE, SIG_IGN);
	fe.event = on_event;
	fe.quit = on_quit;
	fe.arg = t;
	if ((t->loop = loop_new()) == NULL) {
		fprintf(stderr, "confab: out of memory\n");
		goto out;
	}
	if (core_init(&t->core, t->loop, opt, &fe, err, sizeof err) == -1) {
		fprintf(stderr, "confab: %s\n", err);
		core_free(&t->core);
		goto out;
	}
	t->core_up = 1;
	if (tui_win_open(t, &t->core.home) != 0) {
		fprintf(stderr, "confab: out of memory\n");
		goto out_core;
	}
	saved_err = tui_term_stderr_to_log(t);
	atexit(tui_term_atexit);
	if (tui_term_start(t) == -1) {
		if (saved_err != -1) {
			dup2(saved_err, STDERR_FILENO);
			close(saved_err);
			saved_err = -1;
		}
		fprintf(stderr, "confab: cannot use the terminal (TERM=%s)\n",
		    getenv("TERM") ? getenv("TERM") : "unset");
		goto out_core;
	}
	loop_fd_add(t->loop, STDIN_FILENO, POLLIN, on_stdin, t);
	loop_signal(t->loop, SIGWINCH, on_winch, t);
	on_winch(t->loop, SIGWINCH, t);   /* a resize before the handler was in place */
	loop_signal(t->loop, SIGTERM, on_term, t);
	loop_signal(t->loop, SIGHUP, on_term, t);
	loop_signal(t->loop, SIGINT, on_term, t);
	loop_before_sleep(t->loop, before_sleep, t);
	loop_timer_init(&t->clock, on_clock, t);
	loop_timer_init(&t->paste_timer, on_paste_idle, t);
	clock_arm(t);
	core_ready(&t->core);
	welcome(t);
	tui_room_start(t);   /* a window for each room joined and each invitation */
	log_info("tui: %dx%d, TERM=%s, %s, %s", t->cols, t->rows, getenv("TERM") ? getenv("TERM") : "",
	    t->color ? "colour" : "monochrome", t->utf8 ? "UTF-8" : "ASCII");
	if (loop_run(t->loop) == -1) {
		log_err("event loop failed: %s", strerror(errno));
		t->core.exit_code = EXIT_FAILURE_;
	}
	rc = t->core.exit_code;
	log_info("tui: %llu screen updates", (unsigned long long)t->redraws);
	tui_term_stop(t);
out_core:
	loop_before_sleep_del(t->loop, before_sleep, t);
	loop_timer_del(t->loop, &t->clock);
	free(t->paste_wait);
	t->paste_wait = NULL;
	loop_timer_del(t->loop, &t->paste_timer);
	core_free(&t->core);
	if (saved_err != -1) {
		dup2(saved_err, STDERR_FILENO);
		close(saved_err);
	}
out:
	comp_reset(&t->comp);
	conv_free(&t->xconv);   /* the core frees the other conversations */
	memset(&t->xconv, 0, sizeof t->xconv);
	edit_free(&t->edit);
	keys_free(&t->keys);
	free(t->win);
	loop_free(t->loop);
	free(t);
	return rc;
}
