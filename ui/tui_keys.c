/* tui_keys.c - the key decoder: Alt-x, CSI and SS3 sequences, bracketed paste (no curses here). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "mem.h"
#include "tui_keys.h"

/* Set up a decoder that reports to ops with arg. */
void
keys_init(struct keys *d, const struct keys_codes *codes, const struct keys_ops *ops, void *arg,
          int utf8)
{
	memset(d, 0, sizeof *d);
	d->codes = codes;
	d->ops = ops;
	d->arg = arg;
	d->utf8 = utf8;
}

/* Free the paste buffer. */
void
keys_free(struct keys *d)
{
	free(d->paste);
	d->paste = NULL;
	d->npaste = d->apaste = 0;
}

/* Add one key to the paste being collected ("\r\n" and "\r" become "\n", tabs spaces). */
static void
paste_add(struct keys *d, uint32_t cp)
{
	char enc[4];
	size_t n;

	d->ops->paste_busy(d->arg);
	if (cp == '\n' && d->cr) {
		d->cr = 0;   /* "\r\n" is one line break */
		return;
	}
	d->cr = cp == '\r';
	if (cp == '\r')
		cp = '\n';
	else if (cp == '\t')
		cp = ' ';
	else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
		return;
	if (!d->utf8 && cp >= 0x80)
		return;
	n = text_utf8_encode(cp, enc);
	if (d->npaste + n > KEYS_PASTE_MAX) {
		d->overflow = 1;
		return;
	}
	if (d->npaste + n > d->apaste) {
		char *np = mem_grow(d->paste, &d->apaste, d->npaste + n, 1, 4096, 0);

		if (np == NULL) {
			d->overflow = 1;
			return;
		}
		d->paste = np;
	}
	memcpy(d->paste + d->npaste, enc, n);
	d->npaste += n;
}

/* End the paste: hand its text over and start afresh. */
void
keys_paste_end(struct keys *d)
{
	int overflow = d->overflow;
	size_t n = d->npaste;

	if (!d->pasting)
		return;
	d->pasting = 0;
	d->overflow = 0;
	d->npaste = 0;
	d->ops->paste_end(d->arg, d->paste != NULL ? d->paste : "", n, overflow);
}

/* A decoded key: into the paste being collected, or to the owner. */
static void
dispatch(struct keys *d, int code, uint32_t k, int alt)
{
	if (d->pasting) {
		if (code && k == (uint32_t)d->codes->enter)
			paste_add(d, '\n');
		else if (!code)
			paste_add(d, k);
		return;
	}
	d->ops->key(d->arg, code, k, alt);
}

/* Dispatch a code key the decoder made up. */
static void
code_key(struct keys *d, int code, int alt)
{
	dispatch(d, 1, (uint32_t)code, alt);
}

/*
 * A complete CSI sequence ncurses did not turn into a key: bracketed paste
 * markers, and cursor keys a terminfo entry lacks.
 */
static void
csi_done(struct keys *d, char final)
{
	const struct keys_codes *kc = d->codes;
	const char *p = d->csi;

	if (final == '~' && strcmp(p, "200") == 0) {
		d->pasting = 1;
		d->npaste = 0;
		d->overflow = 0;
		d->cr = 0;
		d->ops->paste_busy(d->arg);
		return;
	}
	if (final == '~' && strcmp(p, "201") == 0) {
		keys_paste_end(d);
		return;
	}
	if (d->pasting)
		return;
	switch (final) {
	case 'A': code_key(d, kc->up, 0); break;
	case 'B': code_key(d, kc->down, 0); break;
	case 'C':
	case 'D':
		if (strcmp(p, "1;5") == 0)        /* Ctrl-Right/Left: as M-f / M-b */
			dispatch(d, 0, final == 'C' ? 'f' : 'b', 1);
		else if (strcmp(p, "1;3") == 0)   /* Alt-Right/Left */
			code_key(d, final == 'C' ? kc->right : kc->left, 1);
		else
			code_key(d, final == 'C' ? kc->right : kc->left, 0);
		break;
	case 'H': code_key(d, kc->home, 0); break;
	case 'F': code_key(d, kc->end, 0); break;
	case 'Z': code_key(d, kc->btab, 0); break;
	case '~':
		if (strcmp(p, "1") == 0 || strcmp(p, "7") == 0)
			code_key(d, kc->home, 0);
		else if (strcmp(p, "4") == 0 || strcmp(p, "8") == 0)
			code_key(d, kc->end, 0);
		else if (strcmp(p, "3") == 0)
			code_key(d, kc->dc, 0);
		else if (strcmp(p, "5") == 0)
			code_key(d, kc->ppage, 0);
		else if (strcmp(p, "6") == 0)
			code_key(d, kc->npage, 0);
		break;
	default:
		break;   /* focus reports and the like: ignored */
	}
}

/* Feed one key through the escape-sequence decoder. */
void
keys_feed(struct keys *d, int code, uint32_t k)
{
	const struct keys_codes *kc = d->codes;

	switch (d->ks) {
	case KEYS_NORMAL:
		if (!code && k == 27) {
			d->ks = KEYS_ESC;
			return;
		}
		dispatch(d, code, k, 0);
		return;
	case KEYS_ESC:
		d->ks = KEYS_NORMAL;
		if (!code && k == '[') {
			d->ks = KEYS_CSI;
			d->ncsi = 0;
			d->csi[0] = '\0';
			return;
		}
		if (!code && k == 'O' && !d->pasting) {
			d->ks = KEYS_SS3;
			return;
		}
		if (!code && k == 27) {
			d->ks = KEYS_ESC;
			return;
		}
		dispatch(d, code, k, !d->pasting);
		return;
	case KEYS_CSI:
		if (!code && k >= 0x20 && k <= 0x3f) {
			if (d->ncsi + 1 < sizeof d->csi) {
				d->csi[d->ncsi++] = (char)k;
				d->csi[d->ncsi] = '\0';
			}
			return;
		}
		d->ks = KEYS_NORMAL;
		if (!code && k >= 0x40 && k <= 0x7e) {
			csi_done(d, (char)k);
			return;
		}
		dispatch(d, code, k, 0);
		return;
	case KEYS_SS3:
		d->ks = KEYS_NORMAL;
		if (code) {
			dispatch(d, code, k, 0);
		} else if (k == 'A' || k == 'B' || k == 'C' || k == 'D') {
			const int map[] = { kc->up, kc->down, kc->right, kc->left };

			code_key(d, map[k - 'A'], 0);
		} else if (k == 'H' || k == 'F') {
			code_key(d, k == 'H' ? kc->home : kc->end, 0);
		} else if (k == 'M') {
			code_key(d, kc->enter, 0);
		} else {
			dispatch(d, 0, 'O', 1);   /* Alt-O then a key */
			dispatch(d, code, k, 0);
		}
		return;
	}
}

/* The input went quiet: a pending lone Escape was only that. */
void
keys_idle(struct keys *d)
{
	if (d->ks == KEYS_ESC)
		d->ks = KEYS_NORMAL;
}
