/* cmd.c - the command language shared by every front-end. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "log.h"

#define CMD_LINE_MAX 8192

/* Split off the first word of *s (NUL-terminating it); NULL if none. */
static char *
next_word(char **s)
{
	char *w, *p = *s;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		*s = p;
		return NULL;
	}
	w = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	if (*p != '\0')
		*p++ = '\0';
	*s = p;
	return w;
}

/* Skip leading blanks. */
static char *
skip_blanks(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* /connect HOST:PORT */
static int
cmd_connect(struct core *c, struct conversation *cur, const char *line, char *args)
{
	char *target = next_word(&args);

	if (target == NULL || *skip_blanks(args) != '\0') {
		core_error(c, line, NULL, "usage: /connect HOST:PORT");
		return -1;
	}
	return core_connect(c, target, line);
}

/* /msg PEER TEXT */
static int
cmd_msg(struct core *c, struct conversation *cur, const char *line, char *args)
{
	const char *why;
	struct peer *p;
	char *name = next_word(&args), *text;

	text = skip_blanks(args);
	if (name == NULL || *text == '\0') {
		core_error(c, line, NULL, "usage: /msg PEER TEXT");
		return -1;
	}
	if ((p = core_find_peer(c, name, &why)) == NULL) {
		core_error(c, line, NULL, "%s: %s", name, why);
		return -1;
	}
	return core_send_msg(c, p, text, strlen(text), line);
}

/* /peers: list known peers as info lines (and EV_PEER for each). */
static int
cmd_peers(struct core *c, struct conversation *cur, const char *line, char *args)
{
	struct core_event ev;
	struct peer *p;

	if (c->peers == NULL)
		core_note(c, NULL, LINE_SYSTEM, "no peers known yet");
	for (p = c->peers; p != NULL; p = p->next) {
		memset(&ev, 0, sizeof ev);
		ev.type = EV_PEER;
		ev.peer = p;
		ev.cmd = line;
		if (c->fe.event != NULL)
			c->fe.event(c, &ev, c->fe.arg);
	}
	return 0;
}

/* /nick NAME */
static int
cmd_nick(struct core *c, struct conversation *cur, const char *line, char *args)
{
	char *nick = next_word(&args);

	if (nick == NULL || *skip_blanks(args) != '\0') {
		core_error(c, line, NULL, "usage: /nick NAME (no spaces)");
		return -1;
	}
	return core_set_nick(c, nick, line);
}

/* /me: who am I. */
static int
cmd_whoami(struct core *c, struct conversation *cur, const char *line, char *args)
{
	char addrs[8][SOCK_ADDRSTRLEN];
	char all[8 * (SOCK_ADDRSTRLEN + 1) + 1] = "";
	size_t n, i;

	n = net_listen_addrs(c->net, addrs, 8);
	for (i = 0; i < n; i++) {
		strcat(all, i ? " " : "");
		strcat(all, addrs[i]);
	}
	core_note(c, cur, LINE_SYSTEM, "you are %s, fingerprint %s, listening on %s",
	    c->nick, c->id.fp, all);
	return 0;
}

/* /quit */
static int
cmd_quit(struct core *c, struct conversation *cur, const char *line, char *args)
{
	core_quit(c, 0);
	return 0;
}

const struct cmd_def cmd_table[] = {
	{ "connect", "HOST:PORT", "connect to a peer at an address", cmd_connect },
	{ "msg", "PEER TEXT", "send a message (PEER: nick or fingerprint prefix)", cmd_msg },
	{ "peers", "", "list known peers", cmd_peers },
	{ "nick", "NAME", "change your nick", cmd_nick },
	{ "whoami", "", "show your nick, fingerprint and addresses", cmd_whoami },
	{ "quit", "", "say goodbye to every peer and exit", cmd_quit },
	{ NULL, NULL, NULL, NULL },
};

/* Find a command by name. */
const struct cmd_def *
cmd_find(const struct cmd_def *table, const char *name)
{
	for (; table->name != NULL; table++)
		if (strcmp(table->name, name) == 0)
			return table;
	return NULL;
}

/* Run one line of input. */
int
cmd_run(struct core *c, struct conversation *cur, const char *line)
{
	const struct cmd_def *d;
	char buf[CMD_LINE_MAX], *args, *name;
	size_t n = strlen(line);

	if (n >= sizeof buf) {
		core_error(c, NULL, NULL, "line too long (%zu bytes)", n);
		return -1;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	memcpy(buf, line, n);
	buf[n] = '\0';
	if (buf[0] != '/' || buf[1] == '/') {
		const char *text = buf[0] == '/' ? buf + 1 : buf;

		if (*text == '\0')
			return 0;
		if (cur == NULL || cur->peer == NULL) {
			core_error(c, buf, NULL, "not in a conversation: use /msg PEER TEXT");
			return -1;
		}
		return core_send_msg(c, cur->peer, text, strlen(text), buf);
	}
	args = buf + 1;
	name = next_word(&args);
	if (name == NULL) {
		core_error(c, buf, NULL, "empty command");
		return -1;
	}
	if ((d = cmd_find(cmd_table, name)) == NULL)
		return 1;
	{
		char orig[CMD_LINE_MAX];

		memcpy(orig, line, n);
		orig[n] = '\0';
		return d->fn(c, cur, orig, args) == 0 ? 0 : -1;
	}
}
