/* tui_edit.c - the input line: emacs-style editing, kill ring, history. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "text.h"
#include "mem.h"
#include "tui_edit.h"

/* Set up an empty line. */
void
edit_init(struct edit *e)
{
	memset(e, 0, sizeof *e);
}

/* Free the line, the kill ring and the history. */
void
edit_free(struct edit *e)
{
	size_t i;

	free(e->cp);
	for (i = 0; i < e->nkill; i++)
		free(e->kill[i].cp);
	for (i = 0; i < e->nhist; i++)
		free(e->hist[i]);
	free(e->hist);
	free(e->draft);
	memset(e, 0, sizeof *e);
}

/* Start a command: what ran before decides whether kills append and M-y works. */
void
edit_begin(struct edit *e)
{
	e->prev_op = e->op;
	e->op = EDIT_OP_OTHER;
}

/* Make room for n more code points. */
static int
edit_room(struct edit *e, size_t n)
{
	uint32_t *p;

	if (e->len + n > EDIT_MAX)
		return -1;
	if (e->len + n <= e->cap)
		return 0;
	if ((p = mem_grow(e->cp, &e->cap, e->len + n, sizeof *p, 64, 0)) == NULL)
		return -1;
	e->cp = p;
	return 0;
}

/* Whether a code point may be typed into the line. */
static int
printable(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
		return 0;
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 0;   /* bidirectional overrides, as text_sanitize drops them */
	return cp <= 0x10ffff;
}

/* Insert n code points at position at. */
static int
insert_at(struct edit *e, size_t at, const uint32_t *cp, size_t n)
{
	if (n == 0)
		return 0;   /* nothing to do, and the line may not be allocated yet */
	if (edit_room(e, n) == -1)
		return -1;
	memmove(e->cp + at + n, e->cp + at, (e->len - at) * sizeof *e->cp);
	memcpy(e->cp + at, cp, n * sizeof *cp);
	e->len += n;
	if (e->cur >= at)
		e->cur += n;
	return 0;
}

/* Remove cp[from..to). */
static void
remove_range(struct edit *e, size_t from, size_t to)
{
	if (from == to)
		return;
	memmove(e->cp + from, e->cp + to, (e->len - to) * sizeof *e->cp);
	e->len -= to - from;
	if (e->cur >= to)
		e->cur -= to - from;
	else if (e->cur > from)
		e->cur = from;
}

/* Insert one code point at the cursor. */
int
edit_insert(struct edit *e, uint32_t cp)
{
	if (!printable(cp))
		return 0;
	return insert_at(e, e->cur, &cp, 1);
}

/* Decode UTF-8 into a freshly allocated code point array. */
static uint32_t *
decode(const char *s, size_t n, size_t *outn)
{
	uint32_t *out, cp;
	size_t i = 0, k = 0, l;

	if ((out = malloc((n + 1) * sizeof *out)) == NULL)
		return NULL;
	while (i < n) {
		l = text_utf8_decode((const uint8_t *)s + i, n - i, &cp);
		i += l;
		if (cp == '\t')
			cp = ' ';
		if (printable(cp))
			out[k++] = cp;
	}
	*outn = k;
	return out;
}

/* Insert UTF-8 text at the cursor. */
int
edit_insert_utf8(struct edit *e, const char *s, size_t n)
{
	uint32_t *cp;
	size_t k;
	int rc;

	if ((cp = decode(s, n, &k)) == NULL)
		return -1;
	rc = insert_at(e, e->cur, cp, k);
	free(cp);
	return rc;
}

/* Replace a range with UTF-8 text; the cursor goes after it. */
int
edit_replace(struct edit *e, size_t from, size_t to, const char *s)
{
	uint32_t *cp;
	size_t k;
	int rc;

	if (from > to || to > e->len)
		return -1;
	if ((cp = decode(s, strlen(s), &k)) == NULL)
		return -1;
	remove_range(e, from, to);
	e->cur = from;
	rc = insert_at(e, from, cp, k);
	free(cp);
	return rc;
}

/* Whether a code point joins the previous one on screen (combining mark). */
static int
joins(uint32_t cp)
{
	return text_cp_width(cp) == 0;
}

/* Start of the character cluster before position i. */
static size_t
cluster_before(const struct edit *e, size_t i)
{
	if (i == 0)
		return 0;
	i--;
	while (i > 0 && joins(e->cp[i]))
		i--;
	return i;
}

/* End of the character cluster starting at position i. */
static size_t
cluster_after(const struct edit *e, size_t i)
{
	if (i >= e->len)
		return e->len;
	i++;
	while (i < e->len && joins(e->cp[i]))
		i++;
	return i;
}

void edit_left(struct edit *e)  { e->cur = cluster_before(e, e->cur); }
void edit_right(struct edit *e) { e->cur = cluster_after(e, e->cur); }
void edit_home(struct edit *e)  { e->cur = 0; }
void edit_end(struct edit *e)   { e->cur = e->len; }

/* A word character for M-b, M-f, M-d and M-Backspace. */
static int
wordch(uint32_t cp)
{
	return iswalnum((wint_t)cp) || cp == '_' || (cp >= 0x80 && text_cp_width(cp) > 0 &&
	    !iswspace((wint_t)cp) && !iswpunct((wint_t)cp));
}

/* Position of the start of the word before i. */
static size_t
word_start(const struct edit *e, size_t i)
{
	while (i > 0 && !wordch(e->cp[i - 1]))
		i--;
	while (i > 0 && wordch(e->cp[i - 1]))
		i--;
	return i;
}

/* Position of the end of the word at or after i. */
static size_t
word_end(const struct edit *e, size_t i)
{
	while (i < e->len && !wordch(e->cp[i]))
		i++;
	while (i < e->len && wordch(e->cp[i]))
		i++;
	return i;
}

void edit_word_left(struct edit *e)  { e->cur = word_start(e, e->cur); }
void edit_word_right(struct edit *e) { e->cur = word_end(e, e->cur); }

/* Delete the cluster before the cursor (^H, ^?). */
void
edit_backspace(struct edit *e)
{
	if (e->cur > 0)
		remove_range(e, cluster_before(e, e->cur), e->cur);
}

/* Delete the cluster under the cursor (C-d, Delete). */
void
edit_delete(struct edit *e)
{
	if (e->cur < e->len)
		remove_range(e, e->cur, cluster_after(e, e->cur));
}

/* Move cp[from..to) into the kill ring (appending to the last kill if it was one). */
static void
kill_range(struct edit *e, size_t from, size_t to, int backward)
{
	struct edit_kill *k;
	size_t n = to - from, i;
	uint32_t *p;

	if (n == 0) {
		e->op = EDIT_OP_KILL;
		return;
	}
	if (e->prev_op == EDIT_OP_KILL && e->nkill > 0) {
		k = &e->kill[0];
		if ((p = mem_reallocarray(k->cp, k->n + n, sizeof *p)) == NULL)
			return;
		if (backward) {
			memmove(p + n, p, k->n * sizeof *p);
			memcpy(p, e->cp + from, n * sizeof *p);
		} else {
			memcpy(p + k->n, e->cp + from, n * sizeof *p);
		}
		k->cp = p;
		k->n += n;
	} else {
		if ((p = malloc(n * sizeof *p)) == NULL)
			return;
		memcpy(p, e->cp + from, n * sizeof *p);
		if (e->nkill == EDIT_KILLS)
			free(e->kill[--e->nkill].cp);
		for (i = e->nkill; i > 0; i--)
			e->kill[i] = e->kill[i - 1];
		e->kill[0].cp = p;
		e->kill[0].n = n;
		e->nkill++;
	}
	remove_range(e, from, to);
	e->op = EDIT_OP_KILL;
}

void edit_kill_to_end(struct edit *e)     { kill_range(e, e->cur, e->len, 0); }
void edit_kill_to_start(struct edit *e)   { kill_range(e, 0, e->cur, 1); }
void edit_kill_alnum_back(struct edit *e) { kill_range(e, word_start(e, e->cur), e->cur, 1); }
void edit_kill_word_fwd(struct edit *e)   { kill_range(e, e->cur, word_end(e, e->cur), 0); }

/* C-w: kill back to the previous whitespace. */
void
edit_kill_word_back(struct edit *e)
{
	size_t i = e->cur;

	while (i > 0 && e->cp[i - 1] == ' ')
		i--;
	while (i > 0 && e->cp[i - 1] != ' ')
		i--;
	kill_range(e, i, e->cur, 1);
}

/* C-y: insert the newest kill. */
void
edit_yank(struct edit *e)
{
	if (e->nkill == 0)
		return;
	e->yank_at = e->cur;
	if (insert_at(e, e->cur, e->kill[0].cp, e->kill[0].n) == -1)
		return;
	e->yank_len = e->kill[0].n;
	e->yank_idx = 0;
	e->op = EDIT_OP_YANK;
}

/* M-y right after a yank: replace it with the next older kill. */
void
edit_yank_pop(struct edit *e)
{
	struct edit_kill *k;

	if (e->prev_op != EDIT_OP_YANK || e->nkill == 0 || e->yank_at + e->yank_len > e->len)
		return;
	remove_range(e, e->yank_at, e->yank_at + e->yank_len);
	e->cur = e->yank_at;
	e->yank_idx = (e->yank_idx + 1) % e->nkill;
	k = &e->kill[e->yank_idx];
	if (insert_at(e, e->cur, k->cp, k->n) == -1) {
		e->yank_len = 0;
		return;
	}
	e->yank_len = k->n;
	e->op = EDIT_OP_YANK;
}

/* C-t: swap the characters before and at the cursor (the last two at the end). */
void
edit_transpose(struct edit *e)
{
	uint32_t t;
	size_t i = e->cur;

	if (e->len < 2 || i == 0)
		return;
	if (i == e->len)
		i--;
	t = e->cp[i - 1];
	e->cp[i - 1] = e->cp[i];
	e->cp[i] = t;
	e->cur = i + 1;
}

/* cp[from..to) as UTF-8. */
char *
edit_slice(const struct edit *e, size_t from, size_t to)
{
	char *s, *p;
	size_t i;

	if (to > e->len)
		to = e->len;
	if (from > to)
		from = to;
	if ((s = malloc((to - from) * 4 + 1)) == NULL)
		return NULL;
	p = s;
	for (i = from; i < to; i++)
		p += text_utf8_encode(e->cp[i], p);
	*p = '\0';
	return s;
}

/* The whole line as UTF-8. */
char *
edit_text(const struct edit *e)
{
	return edit_slice(e, 0, e->len);
}

/* Replace the line. */
void
edit_set(struct edit *e, const char *s)
{
	e->len = e->cur = e->off = 0;
	if (s != NULL)
		edit_insert_utf8(e, s, strlen(s));
	e->cur = e->len;
}

/* Empty the line (the kill ring and history stay). */
void
edit_clear(struct edit *e)
{
	e->len = e->cur = e->off = 0;
}

/* Split a multi-line paste into whole lines (to line()) and the rest (kept). */
int
edit_paste_lines(struct edit *e, const char *paste, size_t n,
                 void (*line)(void *arg, const char *text), void *arg)
{
	char *before, *after, *all = NULL, *p, *nl;
	size_t len, tail;
	int rc = -1;

	before = edit_slice(e, 0, e->cur);
	after = edit_slice(e, e->cur, e->len);
	if (before == NULL || after == NULL)
		goto out;
	len = strlen(before);
	if ((all = malloc(len + n + 1)) == NULL)
		goto out;
	memcpy(all, before, len);
	memcpy(all + len, paste, n);
	all[len + n] = '\0';
	for (p = all; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		line(arg, p);   /* blank ones too: the caller keeps them inside a paste */
	}
	/* the last part stays; the cursor goes where the paste ended */
	edit_set(e, p);
	tail = e->len;
	edit_insert_utf8(e, after, strlen(after));
	e->cur = tail;
	rc = 0;
out:
	free(before);
	free(after);
	free(all);
	return rc;
}

/* Remember a submitted line. */
void
edit_history_add(struct edit *e, const char *line)
{
	char **h, *dup;

	free(e->draft);
	e->draft = NULL;
	e->hpos = e->nhist;
	if (*line == '\0' || (e->nhist > 0 && strcmp(e->hist[e->nhist - 1], line) == 0))
		return;
	if ((dup = strdup(line)) == NULL)
		return;
	if (e->nhist == EDIT_HISTORY) {
		free(e->hist[0]);
		memmove(e->hist, e->hist + 1, (e->nhist - 1) * sizeof *e->hist);
		e->nhist--;
	} else if ((h = mem_reallocarray(e->hist, e->nhist + 1, sizeof *h)) != NULL) {
		e->hist = h;
	} else {
		free(dup);
		return;
	}
	e->hist[e->nhist++] = dup;
	e->hpos = e->nhist;
}

/* Up: the previous history line (the current text is kept as the draft). */
void
edit_history_prev(struct edit *e)
{
	if (e->hpos == 0 || e->nhist == 0)
		return;
	if (e->hpos >= e->nhist) {
		free(e->draft);
		e->draft = edit_text(e);
		e->hpos = e->nhist;
	}
	e->hpos--;
	edit_set(e, e->hist[e->hpos]);
}

/* Down: the next history line, or back to the draft. */
void
edit_history_next(struct edit *e)
{
	if (e->hpos >= e->nhist)
		return;
	e->hpos++;
	if (e->hpos == e->nhist) {
		edit_set(e, e->draft);
		free(e->draft);
		e->draft = NULL;
	} else {
		edit_set(e, e->hist[e->hpos]);
	}
}
