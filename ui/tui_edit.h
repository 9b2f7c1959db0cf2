/* tui_edit.h - the input line: emacs-style editing, kill ring, history (no curses here). */
#ifndef CONFAB_TUI_EDIT_H
#define CONFAB_TUI_EDIT_H

#include <stddef.h>
#include <stdint.h>

#define EDIT_MAX      8192   /* code points in the line */
#define EDIT_KILLS    16     /* kill ring entries */
#define EDIT_HISTORY  500    /* remembered lines */

enum edit_op { EDIT_OP_OTHER = 0, EDIT_OP_KILL, EDIT_OP_YANK, EDIT_OP_COMPLETE };

struct edit_kill {
	uint32_t *cp;
	size_t    n;
};

struct edit {
	uint32_t        *cp;            /* the line, as code points */
	size_t           len, cap;
	size_t           cur;           /* cursor: index into cp */
	size_t           off;           /* first code point shown (kept by the drawing code) */

	struct edit_kill kill[EDIT_KILLS];   /* kill[0] is the newest */
	size_t           nkill;
	enum edit_op     op, prev_op;   /* the last command, for kill appending and yank-pop */
	size_t           yank_at, yank_len, yank_idx;

	char           **hist;          /* oldest first, UTF-8 */
	size_t           nhist;
	size_t           hpos;          /* == nhist when editing the draft */
	char            *draft;         /* the line being typed before browsing history */
};

void   edit_init(struct edit *);
void   edit_free(struct edit *);
/* Start a new editing command (remembers the previous one for C-y / M-y / kills). */
void   edit_begin(struct edit *);

/* Insert one code point (printable) at the cursor; -1 if the line is full. */
int    edit_insert(struct edit *, uint32_t cp);
/* Insert UTF-8 text at the cursor (control characters dropped). */
int    edit_insert_utf8(struct edit *, const char *s, size_t n);
/* Replace cp[from..to) with UTF-8 text and put the cursor after it. */
int    edit_replace(struct edit *, size_t from, size_t to, const char *s);

/* Cursor motion, by character cluster or word. */
void   edit_left(struct edit *);
void   edit_right(struct edit *);
void   edit_home(struct edit *);
void   edit_end(struct edit *);
void   edit_word_left(struct edit *);
void   edit_word_right(struct edit *);

/* Deletion and the kill ring. */
void   edit_backspace(struct edit *);
void   edit_delete(struct edit *);
void   edit_kill_to_end(struct edit *);
void   edit_kill_to_start(struct edit *);
void   edit_kill_word_back(struct edit *);      /* C-w: back to whitespace */
void   edit_kill_alnum_back(struct edit *);     /* M-Backspace: back to a word start */
void   edit_kill_word_fwd(struct edit *);       /* M-d */
void   edit_yank(struct edit *);
void   edit_yank_pop(struct edit *);
void   edit_transpose(struct edit *);

/* The line as UTF-8 (malloc'd), and its code-point range [from,to) as UTF-8. */
char  *edit_text(const struct edit *);
char  *edit_slice(const struct edit *, size_t from, size_t to);
/* Replace the whole line with UTF-8 text, cursor at its end. */
void   edit_set(struct edit *, const char *s);
void   edit_clear(struct edit *);

/*
 * A paste with line breaks ('\n'): the paste goes in at the cursor, then every
 * complete line of the result (a blank one too) is handed to line() and taken
 * out; the last part stays, the cursor where the paste ended.  Returns -1 (the
 * line untouched) if out of memory.
 */
int    edit_paste_lines(struct edit *, const char *paste, size_t n,
                        void (*line)(void *arg, const char *text), void *arg);

/* History: add a submitted line; move to the previous / next one. */
void   edit_history_add(struct edit *, const char *line);
void   edit_history_prev(struct edit *);
void   edit_history_next(struct edit *);

#endif
