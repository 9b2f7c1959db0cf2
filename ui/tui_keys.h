/* tui_keys.h - the key decoder: escape sequences ncurses passes through, and bracketed paste (no curses here). */
#ifndef CONFAB_TUI_KEYS_H
#define CONFAB_TUI_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_PASTE_MAX  (1024 * 1024)   /* bytes of one paste kept; the rest is dropped */

/* Decoder states. */
enum { KEYS_NORMAL = 0, KEYS_ESC, KEYS_CSI, KEYS_SS3 };

/*
 * The key codes the decoder hands out for sequences it decodes itself (in the
 * curses front-end: KEY_UP and so on).  They must not be 0.
 */
struct keys_codes {
	int up, down, left, right, home, end, dc, ppage, npage, btab, enter;
};

/* What the decoder tells its owner. */
struct keys_ops {
	/* A key outside a paste: a code key (code != 0) or a character, with Alt or not. */
	void (*key)(void *arg, int code, uint32_t k, int alt);
	/* A paste began, or a key of it arrived (re-arm an idle timer). */
	void (*paste_busy)(void *arg);
	/*
	 * A paste ended: its text is UTF-8 (ASCII without utf8), with '\n' line
	 * breaks and no other control characters; overflow says some was dropped.
	 */
	void (*paste_end)(void *arg, const char *text, size_t n, int overflow);
};

struct keys {
	const struct keys_codes *codes;
	const struct keys_ops   *ops;
	void            *arg;
	int              utf8;        /* characters above ASCII may be pasted */

	int              ks;          /* KEYS_NORMAL, ... */
	char             csi[32];     /* parameter bytes of the CSI sequence being read */
	size_t           ncsi;

	int              pasting;
	char            *paste;
	size_t           npaste, apaste;
	int              overflow;
	int              cr;          /* the last pasted key was '\r' */
};

void keys_init(struct keys *, const struct keys_codes *, const struct keys_ops *, void *arg, int utf8);
void keys_free(struct keys *);
/* Feed one key as get_wch returns it: code != 0 for a code key (KEY_...), else a character. */
void keys_feed(struct keys *, int code, uint32_t k);
/* No more input waiting: an Escape on its own was just Escape (ignored). */
void keys_idle(struct keys *);
/* End the paste being collected (its end marker never came). */
void keys_paste_end(struct keys *);

#endif
