/*
 * fuzz_input.c - the UI's input decoding: the key decoder (escape sequences,
 * bracketed paste) feeding the line editor (insert, motion, kill and yank,
 * history, paste merging), as the curses front-end wires them, minus curses.
 *
 * Input: the first byte sets the mode (bit 0: a UTF-8 locale).  The rest is
 * UTF-8 typed at the terminal (each character is one key from get_wch), with
 * these bytes, never part of UTF-8, as controls:
 *   0xff HI LO     a curses code key (a value 1..16 stands for one of the
 *                  codes the decoder makes up, anything else is passed on)
 *   0xfe           the input went quiet (a lone Escape is dropped)
 *   0xfd           the paste timer fired (a paste without its end marker ends)
 *   0xfc B3..B0    a raw 32-bit key value, possibly not a character at all
 *   0xfb F T N ... edit_replace from F to T (mod length+1) with N bytes of text
 *
 * Checked after every step: the cursor within the line, the line within
 * EDIT_MAX, only printable code points in the line and the kill ring, the
 * line's UTF-8 valid, pasted text and lines sent from a paste valid UTF-8
 * without control characters (ASCII only without UTF-8), history valid UTF-8.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "tui_edit.h"
#include "tui_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stand-ins for the curses codes (nonzero, distinct, like KEY_UP and so on). */
enum {
	K_UP = 0x101, K_DOWN, K_LEFT, K_RIGHT, K_HOME, K_END, K_DC, K_PPAGE, K_NPAGE, K_BTAB,
	K_ENTER, K_BACKSPACE, K_F2, K_F3, K_RESIZE, K_OTHER
};

static const struct keys_codes codes = {
	.up = K_UP, .down = K_DOWN, .left = K_LEFT, .right = K_RIGHT, .home = K_HOME,
	.end = K_END, .dc = K_DC, .ppage = K_PPAGE, .npage = K_NPAGE, .btab = K_BTAB,
	.enter = K_ENTER,
};

struct state {
	struct edit e;
	struct keys k;
	int         utf8;
};

/* Whether the line editor may hold this code point (mirrors its own rule). */
static int
printable(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
		return 0;
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return cp <= 0x10ffff;
}

/* UTF-8 with no control characters other than those allowed ("\n" in a paste). */
static void
check_text(const char *s, size_t n, int allow_nl, int ascii)
{
	size_t i = 0;
	uint32_t cp;

	if (!text_utf8_valid((const uint8_t *)s, n))
		abort();
	while (i < n) {
		i += text_utf8_decode((const uint8_t *)s + i, n - i, &cp);
		if (cp == '\n' && allow_nl)
			continue;
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			abort();
		if (ascii && cp >= 0x80)
			abort();
	}
}

/* The editor's invariants. */
static void
check_edit(const struct edit *e)
{
	size_t i, j;
	char *s;

	if (e->cur > e->len || e->len > EDIT_MAX || (e->len > 0 && e->len > e->cap))
		abort();
	for (i = 0; i < e->len; i++)
		if (!printable(e->cp[i]))
			abort();
	if (e->nkill > EDIT_KILLS)
		abort();
	for (i = 0; i < e->nkill; i++)
		for (j = 0; j < e->kill[i].n; j++)
			if (!printable(e->kill[i].cp[j]))
				abort();
	if (e->nhist > EDIT_HISTORY || e->hpos > e->nhist)
		abort();
	if ((s = edit_text(e)) != NULL) {
		check_text(s, strlen(s), 0, 0);
		free(s);
	}
}

/* A line a paste sends: what cmd_run would get. */
static void
on_line(void *arg, const char *text)
{
	struct state *st = arg;

	(void)st;
	check_text(text, strlen(text), 0, 0);
	if (strchr(text, '\n') != NULL)
		abort();
}

/* Enter: what submit() does with the line. */
static void
submit(struct state *st)
{
	char *line = edit_text(&st->e);

	if (line == NULL)
		return;
	check_text(line, strlen(line), 0, 0);
	edit_history_add(&st->e, line);
	edit_clear(&st->e);
	free(line);
}

/* The editing keys, as key_plain and key_alt map them (window keys left out). */
static void
on_key(void *arg, int code, uint32_t k, int alt)
{
	struct state *st = arg;
	struct edit *e = &st->e;

	edit_begin(e);
	if (code) {
		switch (k) {
		case K_LEFT:      alt ? (void)0 : edit_left(e); break;
		case K_RIGHT:     alt ? (void)0 : edit_right(e); break;
		case K_HOME:      edit_home(e); break;
		case K_END:       edit_end(e); break;
		case K_DC:        edit_delete(e); break;
		case K_BACKSPACE: alt ? edit_kill_alnum_back(e) : edit_backspace(e); break;
		case K_UP:        edit_history_prev(e); break;
		case K_DOWN:      edit_history_next(e); break;
		case K_ENTER:     submit(st); break;
		default:          break;
		}
	} else if (alt) {
		switch (k) {
		case 'b': case 'B': edit_word_left(e); break;
		case 'f': case 'F': edit_word_right(e); break;
		case 'd': case 'D': edit_kill_word_fwd(e); break;
		case 'y': case 'Y': edit_yank_pop(e); break;
		case 127: case 8:   edit_kill_alnum_back(e); break;
		default: break;
		}
	} else {
		switch (k) {
		case 1:   edit_home(e); break;
		case 2:   edit_left(e); break;
		case 3:   edit_home(e); edit_kill_to_end(e); break;
		case 4:   edit_delete(e); break;
		case 5:   edit_end(e); break;
		case 6:   edit_right(e); break;
		case 8:   edit_backspace(e); break;
		case 10:
		case 13:  submit(st); break;
		case 11:  edit_kill_to_end(e); break;
		case 20:  edit_transpose(e); break;
		case 21:  edit_kill_to_start(e); break;
		case 23:  edit_kill_word_back(e); break;
		case 25:  edit_yank(e); break;
		case 127: edit_backspace(e); break;
		default:
			if (k >= 0x20 && (st->utf8 || k < 0x80))
				edit_insert(e, k);
			break;
		}
	}
	check_edit(e);
}

/* Nothing to re-arm here. */
static void
on_busy(void *arg)
{
	(void)arg;
}

/* A paste ended: check it, then merge it as paste_end() in tui.c does. */
static void
on_paste(void *arg, const char *text, size_t n, int overflow)
{
	struct state *st = arg;

	(void)overflow;
	if (n > KEYS_PASTE_MAX)
		abort();
	check_text(text, n, 1, !st->utf8);
	if (memchr(text, '\n', n) == NULL)
		edit_insert_utf8(&st->e, text, n);
	else
		edit_paste_lines(&st->e, text, n, on_line, st);
	check_edit(&st->e);
}

static const struct keys_ops ops = { on_key, on_busy, on_paste };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct state st;
	size_t i = 1;

	if (size < 1)
		return 0;
	memset(&st, 0, sizeof st);
	st.utf8 = data[0] & 1;
	edit_init(&st.e);
	keys_init(&st.k, &codes, &ops, &st, st.utf8);
	while (i < size) {
		uint8_t b = data[i];
		uint32_t cp;

		if (b == 0xff && i + 2 < size) {
			int v = data[i + 1] << 8 | data[i + 2];

			keys_feed(&st.k, 1, (uint32_t)(v >= 1 && v <= 16 ? K_UP + v - 1 : v));
			i += 3;
		} else if (b == 0xfe) {
			keys_idle(&st.k);
			i++;
		} else if (b == 0xfd) {
			keys_paste_end(&st.k);
			i++;
		} else if (b == 0xfc && i + 4 < size) {
			cp = (uint32_t)data[i + 1] << 24 | (uint32_t)data[i + 2] << 16 |
			    (uint32_t)data[i + 3] << 8 | data[i + 4];
			keys_feed(&st.k, 0, cp);
			i += 5;
		} else if (b == 0xfb && i + 3 < size) {
			size_t from = data[i + 1] % (st.e.len + 1), to = data[i + 2] % (st.e.len + 1);
			size_t n = data[i + 3];
			char text[256];

			i += 4;
			if (n > size - i)
				n = size - i;
			memcpy(text, data + i, n);
			text[n] = '\0';
			i += n;
			edit_replace(&st.e, from, to, text);
			check_edit(&st.e);
		} else {
			/* one character as get_wch would deliver it (invalid UTF-8: U+FFFD) */
			i += text_utf8_decode(data + i, size - i, &cp);
			keys_feed(&st.k, 0, cp);
		}
		if (st.k.ncsi >= sizeof st.k.csi || st.k.npaste > KEYS_PASTE_MAX)
			abort();
		check_edit(&st.e);
	}
	keys_idle(&st.k);
	keys_paste_end(&st.k);
	check_edit(&st.e);
	keys_free(&st.k);
	edit_free(&st.e);
	return 0;
}
