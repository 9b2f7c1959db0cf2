/*
 * tui_complete.h - Tab completion of the word before the cursor: commands,
 * nicks, file paths, transfer ids.  No curses: the front-end hands in where
 * the candidates come from (struct comp_src), so it can be tested and fuzzed.
 */
#ifndef CONFAB_TUI_COMPLETE_H
#define CONFAB_TUI_COMPLETE_H

#include <stddef.h>

#include "tui_edit.h"

#define COMP_MAX 1000   /* candidates kept at most */

/* A completion in progress (Tab again cycles through its candidates). */
struct tui_comp {
	int     active;
	size_t  start;          /* code point index where the completed word starts */
	size_t  end;            /* where the inserted candidate ends */
	char  **cand;
	size_t  ncand, idx;
	int     colon;          /* completing a nick at the start of a line: add ": " */
};

/* What a word stands for, from its place among a command's arguments. */
enum comp_kind { COMP_OTHER = 0, COMP_PEER, COMP_PATH, COMP_ID };

/* Where the candidates come from: each adds its own with comp_add. */
struct comp_src {
	/* Command names starting with prefix (without the slash): comp_add(c, "/", name, " "). */
	void        (*commands)(struct tui_comp *, const char *prefix, void *arg);
	/* The argument synopsis of a command ("PEER PATH...", "[ID [DIR]]"), or NULL. */
	const char *(*synopsis)(const char *cmd, void *arg);
	/* Peers whose nick (any case) starts with word, else whose fingerprint does. */
	void        (*peers)(struct tui_comp *, const char *word, void *arg);
	/* Transfer ids starting with word, for command cmd (offers for accept/reject). */
	void        (*ids)(struct tui_comp *, const char *word, const char *cmd, void *arg);
	/* File paths for the word as typed (NULL: comp_paths, the file system). */
	void        (*paths)(struct tui_comp *, const char *typed, void *arg);
	void         *arg;
};

/* Add a candidate: a copy of a, b and c joined (ignored past COMP_MAX or out of memory). */
void comp_add(struct tui_comp *, const char *a, const char *b, const char *c);
/* Forget a completion in progress. */
void comp_reset(struct tui_comp *);
/* Candidates for a file path ("~/" means $HOME); typed may hold escapes and quotes. */
void comp_paths(struct tui_comp *, const char *typed, void *unused);
/*
 * What the word starting at code point start of e stands for, from its place
 * among the arguments of the command the line starts with, as the command's
 * synopsis names it.  COMP_OTHER when the line is not a command or the place
 * is free text.  The command's name goes to cmd.
 */
enum comp_kind comp_arg_kind(const struct edit *e, size_t start, const struct comp_src *src,
                             char *cmd, size_t cmdlen);
/*
 * Tab (dir 1) or Shift-Tab (dir -1): complete the word before the cursor of e.
 * One candidate is put in; several extend the word to what they share, then
 * Tab cycles.  Several transfer ids are never picked from: then 1 is returned
 * and note says which match (for the front-end to show); else 0.
 */
int  comp_complete(struct tui_comp *, struct edit *e, int dir, const struct comp_src *src,
                   char *note, size_t notelen);

#endif
