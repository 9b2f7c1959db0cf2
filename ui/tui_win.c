/* tui_win.c - the windows: one per conversation (the home window first), which one is on screen. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "tui_int.h"

/* The window index showing conv, or -1. */
long
tui_win_find(struct tui *t, const struct conversation *cv)
{
	size_t i;

	for (i = 0; i < t->nwin; i++)
		if (t->win[i].conv == cv)
			return (long)i;
	return -1;
}

/*
 * The number a new window gets: the lowest one free (irssi-style: a window
 * closed leaves a gap, which the next one opened fills); its index in *at.
 */
unsigned
tui_win_free_num(const struct tui *t, size_t *at)
{
	unsigned num = 1;
	size_t i;

	for (i = 0; i < t->nwin && t->win[i].num == num; i++)
		num++;
	*at = i;
	return num;
}

/* The index of the window numbered num, or -1. */
long
tui_win_by_num(const struct tui *t, unsigned num)
{
	size_t i;

	for (i = 0; i < t->nwin; i++)
		if (t->win[i].num == num)
			return (long)i;
	return -1;
}

/* Open a window for a conversation (or find its window); returns its index. */
long
tui_win_open(struct tui *t, struct conversation *cv)
{
	struct tui_win *nw;
	unsigned num;
	size_t at;
	long i;

	if ((i = tui_win_find(t, cv)) >= 0)
		return i;
	if (t->nwin == t->awin) {
		if ((nw = mem_grow(t->win, &t->awin, t->nwin + 1, sizeof *nw, 8, 0)) == NULL)
			return -1;
		t->win = nw;
	}
	/* kept in the order of their numbers */
	num = tui_win_free_num(t, &at);
	memmove(&t->win[at + 1], &t->win[at], (t->nwin - at) * sizeof t->win[0]);
	memset(&t->win[at], 0, sizeof t->win[0]);
	t->win[at].conv = cv;
	t->win[at].num = num;
	t->nwin++;
	if (t->cur >= at && t->nwin > 1 && at > 0)
		t->cur++;
	cv->open = 1;
	t->dirty = 1;
	return (long)at;
}

/* A conversation goes away (a stranger forgotten): close its window, if any. */
void
tui_win_drop(struct tui *t, const struct conversation *cv)
{
	long i = tui_win_find(t, cv);

	if (t->back == cv)
		t->back = NULL;
	if (t->paste_wait != NULL && t->paste_conv == cv) {
		free(t->paste_wait);   /* its peer is gone: nowhere to send it */
		t->paste_wait = NULL;
	}
	if (i <= 0)
		return;   /* none (the home window is never a peer's) */
	memmove(&t->win[i], &t->win[i + 1], (t->nwin - (size_t)i - 1) * sizeof t->win[0]);
	t->nwin--;
	if (t->cur == (size_t)i)
		t->cur = 0;   /* it was on screen: back to the home window */
	else if (t->cur > (size_t)i)
		t->cur--;
	t->win[t->cur].conv->unread = 0;
	t->dirty = 1;
}

/* Make window i the one on screen. */
void
tui_win_switch(struct tui *t, size_t i)
{
	if (i >= t->nwin)
		return;
	t->cur = i;
	t->win[i].conv->unread = 0;
	t->dirty = 1;
}

/* Close window i (not home); the one on screen stays, or its left neighbour if it was i. */
void
tui_win_close(struct tui *t, size_t i)
{
	if (i == 0 || i >= t->nwin)
		return;
	t->win[i].conv->open = 0;
	memmove(&t->win[i], &t->win[i + 1], (t->nwin - i - 1) * sizeof t->win[0]);
	t->nwin--;
	tui_win_switch(t, t->cur == i ? i - 1 : t->cur > i ? t->cur - 1 : t->cur);
}

/* The conversation on screen. */
struct conversation *
tui_cur_conv(struct tui *t)
{
	return t->win[t->cur].conv;
}


/* Switch to the next (dir 1) or previous (-1) window. */
void
tui_win_step(struct tui *t, int dir)
{
	tui_win_switch(t, (t->cur + t->nwin + (size_t)(dir > 0 ? 1 : -1)) % t->nwin);
}

/* Go to the next window with unread messages. */
void
tui_win_next_active(struct tui *t)
{
	size_t i, k;

	for (k = 1; k < t->nwin; k++) {
		i = (t->cur + k) % t->nwin;
		if (t->win[i].conv->unread > 0) {
			tui_win_switch(t, i);
			return;
		}
	}
}
