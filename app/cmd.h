/* cmd.h - the command language shared by every front-end. */
#ifndef CONFAB_CMD_H
#define CONFAB_CMD_H

#include "core.h"

struct cmd_def {
	const char *name;      /* without the slash */
	const char *args;      /* usage, e.g. "PEER TEXT" */
	const char *help;      /* one line */
	int       (*fn)(struct core *, struct conversation *cur, const char *cmdline, char *args);
};

/* Short names for commands (/q: /query), terminated by a NULL alias. */
struct cmd_alias {
	const char *alias, *name;
};
extern const struct cmd_alias cmd_aliases[];

/* The core's commands, terminated by a NULL name (front-ends add their own). */
extern const struct cmd_def cmd_table[];

/*
 * Run one line.  A line starting with '/' is a command ("//" sends a literal
 * slash); any other non-empty line is a message to cur's peer (an error in the
 * home window).  Returns 0 if it ran, -1 on an error (reported as EV_ERROR),
 * 1 if the command is not a core command (the front-end may handle it).
 */
int cmd_run(struct core *, struct conversation *cur, const char *line);
/*
 * Send text to p as it is (a paste: line breaks kept, never a command); over
 * the length limit as several messages split at line breaks or blanks.
 */
int cmd_send_text(struct core *, struct peer *, const char *text);
/* Split off the first blank-separated word of *s (NUL-terminating it); NULL if none. */
char *cmd_next_word(char **s);

/*
 * Resolve a typed command name (without the slash) against the core's table
 * and extra names (the front-end's own, NULL-terminated; may be NULL): any
 * case, an alias (/q, /j: query, /w: window, /exit: quit, /m: msg), or a
 * unique prefix.  Returns the full name, or NULL with a sentence in err
 * ("unknown command /x: did you mean /y?", "ambiguous ...").
 */
const char *cmd_resolve(const char *name, const char *const *extra, char *err, size_t errlen);

/* The full text /help NAME shows after the command's line (core and UI commands), or NULL. */
const char *cmd_help_text(const char *name);

/* Whether a message's text is an action: "/me ACTION" (PROTOCOL.md 5.4), shown "* NICK ACTION". */
int cmd_is_action(const char *text);

/* The longest usage text (cmd_usage) of a command in cmd_table. */
#define CMD_USAGE_MAX 128

/*
 * Write the usage of a cmd_table command, "/NAME ARGS", to out (the one text
 * every usage message is made from); returns its length as snprintf does.
 */
size_t cmd_usage(const char *name, char *out, size_t outlen);

/* Find a command definition by name (without the slash) in a table. */
const struct cmd_def *cmd_find(const struct cmd_def *table, const char *name);

#endif
