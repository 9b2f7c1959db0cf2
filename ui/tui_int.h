/* tui_int.h - the ncurses front-end's state, shared by tui.c, tui_draw.c and tui_xfer.c. */
#ifndef CONFAB_TUI_INT_H
#define CONFAB_TUI_INT_H

#include <stddef.h>
#include <stdint.h>

#include <curses.h>

#include "core.h"
#include "invite.h"
#include "tui_complete.h"
#include "tui_edit.h"
#include "tui_keys.h"

#define TUI_MIN_COLS     40
#define TUI_MIN_ROWS     12
#define TUI_SIDEBAR_W    26      /* sidebar columns, including its border */
#define TUI_ESCDELAY_MS  50
#define TUI_PASTE_IDLE_MS 3000   /* a paste silent this long is taken as ended */

/* struct tui.bell: what rings the bell when it happens in another window */
enum { TUI_BELL_OFF = 0, TUI_BELL_MESSAGES, TUI_BELL_ALL };

/* Colour pairs (only the 8 basic colours on the terminal's default background). */
enum {
	PAIR_RED = 1, PAIR_GREEN, PAIR_YELLOW, PAIR_BLUE, PAIR_MAGENTA, PAIR_CYAN,
	PAIR_COUNT
};

/* One window: the home window or a conversation with a peer. */
struct tui_win {
	struct conversation *conv;
	unsigned num;           /* its number (Alt-N, /window N): kept when another closes */
	int      scrolled;      /* 0: the view follows the newest line */
	uint64_t anchor;        /* scrolled: absolute index of the line at the bottom */
	size_t   anchor_row;    /* scrolled: its screen row (from its top) at the bottom */
	uint64_t clear_mark;    /* absolute index of the first line shown (/clear) */
	struct room_app *room;  /* a room's window (compared only: the room may be gone) */
};

struct tui {
	struct core      core;
	struct loop     *loop;
	int              core_up;     /* core_init succeeded */
	int              curses_up;   /* the terminal is in curses mode */

	struct tui_win  *win;         /* win[0] is home */
	size_t           nwin, awin, cur;

	struct edit      edit;
	struct tui_comp  comp;

	/* the transfers window: its notes (answers typed there) and the list's scroll */
	struct conversation xconv;
	long             xscroll;     /* rows of the list scrolled past (0: the top) */
	struct conversation *back;    /* where F3 / Alt-T returns to from the transfers window */

	/* key decoding */
	struct keys      keys;
	struct loop_timer paste_timer; /* ends a paste whose end marker never came */
	char            *paste_wait;   /* a long paste waiting for y (send) or n (drop) */
	struct conversation *paste_conv;   /* ... and the window it was pasted in */
	size_t           paste_lines;

	/* display */
	int              dirty;
	int              full;        /* repaint everything (C-l, resize) */
	int              rows, cols;
	int              color;       /* colours in use (terminal has them, NO_COLOR unset) */
	int              utf8;        /* the locale's character set is UTF-8 */
	int              sidebar;     /* the peer list is wanted */
	int              bell;        /* TUI_BELL_*: when to ring for other windows */
	int              want_bell;   /* ring at the next redraw */
	struct loop_timer clock;
	char             invite[INVITE_TEXT_MAX];   /* shown above the status bar after /invite */

	uint64_t         redraws;     /* screen updates, for the log */
};

/* tui_win.c: the windows */
/* The window index showing conv, or -1. */
long   tui_win_find(struct tui *, const struct conversation *);
/* The number a new window gets: the lowest one free (a closed window leaves a gap); its index in *at. */
unsigned tui_win_free_num(const struct tui *, size_t *at);
/* The index of the window numbered num, or -1. */
long   tui_win_by_num(const struct tui *, unsigned num);
/* Open a window for a conversation (or find its window); returns its index, -1 if out of memory. */
long   tui_win_open(struct tui *, struct conversation *);
/* A conversation goes away (a stranger forgotten): close its window, if any. */
void   tui_win_drop(struct tui *, const struct conversation *);
/* Make window i the one on screen. */
void   tui_win_switch(struct tui *, size_t i);
/* Close window i (not home); the one on screen stays, or its left neighbour if it was i. */
void   tui_win_close(struct tui *, size_t i);
/* Step to the next (dir 1) or previous (dir -1) window. */
void   tui_win_step(struct tui *, int dir);
/* Go to the next window with unread messages. */
void   tui_win_next_active(struct tui *);
/* The conversation on screen. */
struct conversation *tui_cur_conv(struct tui *);

/* tui_term.c: the terminal */
/* Enter curses mode (and arrange for the terminal to come back on a fatal signal); 0 or -1. */
int    tui_term_start(struct tui *);
/* Leave curses mode and give the terminal back as it was. */
void   tui_term_stop(struct tui *);
/* For atexit: a library's exit() while the screen is ours leaves curses first. */
void   tui_term_atexit(void);
/* Send stderr to the log file while the screen is ours; returns the old stderr, or -1. */
int    tui_term_stderr_to_log(struct tui *);

/* tui_draw.c */
void   tui_draw(struct tui *);
/* Draw the current window's lines into rows y0..y0+h-1, width columns. */
void   tui_draw_view(struct tui *, int y0, int h, int width);
/*
 * Copy a model string into something safe to print (text_sanitize again, tabs
 * to spaces, '?' for non-ASCII without a UTF-8 locale).  Returns the length.
 */
size_t tui_disp_clean(const struct tui *, const char *in, size_t n, char *out, size_t outmax,
                      int keep_nl);
/* Add at most cols columns of clean UTF-8 at the cursor; returns the columns used. */
int    tui_put_cols(const char *s, size_t n, int cols);
/* Add a model string (cleaned first) in at most cols columns; returns the columns used. */
int    tui_put_model(const struct tui *, const char *s, int cols);
/* Fill row y with blanks from the cursor up to column x1. */
void   tui_pad_to(int y, int x1);
/* A colour pair's attribute, or the monochrome fallback. */
attr_t tui_color_attr(const struct tui *, int pair, attr_t mono);
/* Width of the chat area at the current size. */
int    tui_chat_width(struct tui *);
/* Rows of the invite code strip above the status bar (0: none). */
int    tui_invite_rows(struct tui *);
/* Height of the chat area at the current size. */
int    tui_chat_height(struct tui *);
/* Scroll the current window so that line i (relative) is at the top, if it can be. */
void   tui_scroll_to_line(struct tui *, size_t i);
/* Scroll the current window by n rows (positive: towards older lines). */
void   tui_scroll(struct tui *, long n);
/* Whether the sidebar fits and is wanted. */
int    tui_sidebar_shown(struct tui *);
/* A stable colour pair for a fingerprint (or nick). */
int    tui_nick_pair(const char *key);
/* Display name of a window. */
const char *tui_win_name(struct tui *, size_t i);
/*
 * A peer's trust mark for lists ("✓" verified, "?" unverified, "✗" blocked,
 * "!" a new key using a known peer's nick; ASCII "V ? X !") and its attribute.
 */
const char *tui_trust_mark(const struct tui *, const struct peer *, attr_t *attr);
/* A peer's trust in words: "verified", "unverified", "blocked", "unverified new key". */
const char *tui_trust_word(const struct peer *);
/* A peer's state, with the path when online: "online (direct)", "online (tor)", "offline". */
const char *tui_state_words(const struct peer *);

/* tui_room.c: room windows */
struct room_app;
/* The room whose window shows the conversation, or NULL. */
struct room_app *tui_room_of(struct tui *, const struct conversation *);
/* Joined members, those of them online (us included), members invited. */
void   tui_room_counts(struct tui *, const struct room_app *, size_t *online, size_t *total, size_t *invited);
/* A room window's title: "#name  online/total online", our state. */
void   tui_room_title(struct tui *, const struct room_app *, unsigned num, char *buf, size_t len);
/* The member list in the side pane of a room window. */
void   tui_room_sidebar(struct tui *, const struct room_app *, int x0, int y0, int h);
/* The rooms at the top of the peer list (at most h/2 rows); returns the rows used. */
int    tui_room_list(struct tui *, int x0, int y0, int h);
/* A room message line's author: trust mark, its attribute, fingerprint; 0 if none. */
int    tui_room_line_author(struct tui *, const struct conversation *, const struct chat_line *,
                            const char **mark, attr_t *ma, char fp[FP_LEN + 1]);
/* The member list as lines in a conversation. */
void   tui_room_members_note(struct tui *, struct room_app *, struct conversation *to);
/* A room event (EV_ROOM*). */
void   tui_room_event(struct tui *, const struct core_event *);
/* At start: windows for the rooms joined and the invitations. */
void   tui_room_start(struct tui *);
/* Close windows of rooms the core no longer holds. */
void   tui_room_prune(struct tui *);
/* Text typed or pasted in a room window: sent to the room; 0 or -1. */
int    tui_room_say(struct tui *, struct room_app *, const char *text);
/* "/room SUB" in a room window without ROOM: the line with it (to free), or NULL. */
char  *tui_room_default(struct tui *, struct room_app *, const char *line);
/* Tab on a word starting with '#': room names. */
void   tui_room_complete(struct tui *, struct tui_comp *, const char *word);

/* tui_xfer.c: the transfers window and transfer summaries */
struct xfer;
/* Draw the transfers list (and the window's notes) into rows y0..y0+h-1. */
void   tui_xfer_view(struct tui *, int y0, int h, int width);
/* The transfers window's title line. */
void   tui_xfer_title(struct tui *, char *out, size_t outlen);
/* The status bar's transfer part: the most relevant running transfer, offers ("" if none). */
void   tui_xfer_status(struct tui *, char *out, size_t outlen);
/* Scroll the transfers list by n rows (positive: down, towards older transfers). */
void   tui_xfer_scroll(struct tui *, long n);
/* A byte count for people: "512 B", "1.5 MB" (decimal units). */
void   tui_human_bytes(uint64_t n, char *out, size_t outlen);
/* What a transfer holds, sanitised: its first top-level name and "and N more". */
void   tui_xfer_label(const struct xfer *, char *out, size_t outlen);
/* Its size and counts: "18 B", or "3 files, 1 folder, 12.3 MB". */
void   tui_xfer_what(const struct xfer *, char *out, size_t outlen);
/* Whether a transfer is an incoming offer waiting for the user's answer. */
int    tui_xfer_is_offer(const struct xfer *);
/* Whether a transfer has ended (done, failed, cancelled, rejected). */
int    tui_xfer_ended(const struct xfer *);

#endif
