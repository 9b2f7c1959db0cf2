/* tui_int.h - the ncurses front-end's state, shared by tui.c and tui_draw.c. */
#ifndef CONFAB_TUI_INT_H
#define CONFAB_TUI_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "tui_edit.h"

#define TUI_MIN_COLS     40
#define TUI_MIN_ROWS     12
#define TUI_SIDEBAR_W    26      /* sidebar columns, including its border */
#define TUI_PASTE_MAX    (1024 * 1024)
#define TUI_ESCDELAY_MS  50
#define TUI_PASTE_IDLE_MS 3000   /* a paste silent this long is taken as ended */

/* Colour pairs (only the 8 basic colours on the terminal's default background). */
enum {
	PAIR_RED = 1, PAIR_GREEN, PAIR_YELLOW, PAIR_BLUE, PAIR_MAGENTA, PAIR_CYAN,
	PAIR_COUNT
};

/* One window: the home window or a conversation with a peer. */
struct tui_win {
	struct conversation *conv;
	int      scrolled;      /* 0: the view follows the newest line */
	uint64_t anchor;        /* scrolled: absolute index of the line at the bottom */
	size_t   anchor_row;    /* scrolled: its screen row (from its top) at the bottom */
	uint64_t clear_mark;    /* absolute index of the first line shown (/clear) */
};

/* Tab completion in progress. */
struct tui_comp {
	int     active;
	size_t  start;          /* code point index where the completed word starts */
	size_t  end;            /* where the inserted candidate ends */
	char  **cand;
	size_t  ncand, idx;
};

/* Key decoder states for sequences ncurses passes through (Alt-x, bracketed paste). */
enum { KS_NORMAL = 0, KS_ESC, KS_CSI, KS_SS3 };

struct tui {
	struct core      core;
	struct loop     *loop;
	int              core_up;     /* core_init succeeded */
	int              curses_up;   /* the terminal is in curses mode */

	struct tui_win  *win;         /* win[0] is home */
	size_t           nwin, awin, cur;

	struct edit      edit;
	struct tui_comp  comp;

	/* key decoding */
	int              ks;
	char             csi[32];
	size_t           ncsi;
	int              pasting;
	char            *paste;
	size_t           npaste, apaste;
	int              paste_overflow;
	int              paste_cr;    /* the last pasted key was '\r' */
	struct loop_timer paste_timer; /* ends a paste whose end marker never came */

	/* display */
	int              dirty;
	int              full;        /* repaint everything (C-l, resize) */
	int              rows, cols;
	int              color;       /* colours in use (terminal has them, NO_COLOR unset) */
	int              utf8;        /* the locale's character set is UTF-8 */
	int              sidebar;     /* the peer list is wanted */
	int              bell;        /* ring for messages in other windows */
	int              want_bell;   /* ring at the next redraw */
	struct loop_timer clock;

	uint64_t         redraws;     /* screen updates, for the log */
};

/* tui_draw.c */
void   tui_draw(struct tui *);
/* Width of the chat area at the current size. */
int    tui_chat_width(struct tui *);
/* Height of the chat area at the current size. */
int    tui_chat_height(struct tui *);
/* Scroll the current window by n rows (positive: towards older lines). */
void   tui_scroll(struct tui *, long n);
/* Whether the sidebar fits and is wanted. */
int    tui_sidebar_shown(struct tui *);
/* A stable colour pair for a fingerprint (or nick). */
int    tui_nick_pair(const char *key);
/* Display name of a window. */
const char *tui_win_name(struct tui *, size_t i);

#endif
