/* unit_cmd.c - unit tests for app/cmd.c: usage messages and command names. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "core.h"
#include "loop.h"
#include "tap.h"

static char last_error[512];

/* The front-end: keep the last error's text. */
static void
on_event(struct core *c, const struct core_event *ev, void *arg)
{
	(void)c;
	(void)arg;
	if (ev->type == EV_ERROR && ev->text != NULL)
		snprintf(last_error, sizeof last_error, "%s", ev->text);
}

/* Run one line and return the error it gave ("" if none). */
static const char *
run(struct core *c, const char *line)
{
	last_error[0] = '\0';
	cmd_run(c, NULL, line);
	return last_error;
}

/* A command line that is a usage error for each command that takes arguments. */
static const struct {
	const char *name, *line;
} bad[] = {
	{ "connect", "/connect" }, { "connect", "/connect a b" },
	{ "msg", "/msg" }, { "msg", "/msg PEER" },
	{ "nick", "/nick" }, { "nick", "/nick two words" },
	{ "send", "/send" }, { "send", "/send PEER" },
	{ "cancel", "/cancel" },
	{ "verify", "/verify" },
	{ "trust", "/trust" }, { "block", "/block" }, { "unblock", "/unblock" },
	{ "untrust", "/untrust" },
	{ "rename", "/rename" }, { "rename", "/rename PEER" },
	{ "forget", "/forget" },
	{ "history", "/history" }, { "history", "/history PEER x" },
	{ "history-clear", "/history-clear" },
	{ "me", "/me" },
	{ "room", "/room" }, { "room", "/room nosuch ROOM" },
};

/* Every usage message is "usage: " and the table's "/NAME ARGS", then at most a note. */
static void
test_usage(struct core *c, const struct peer *p)
{
	const struct cmd_def *d;
	char want[128], line[256];
	const char *got, *at;
	size_t i, k, n;
	int covered;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		d = cmd_find(cmd_table, bad[i].name);
		if (!ok(d != NULL, "/%s is in cmd_table", bad[i].name))
			continue;
		snprintf(want, sizeof want, "usage: /%s%s%s", d->name, *d->args ? " " : "", d->args);
		if ((at = strstr(bad[i].line, "PEER")) != NULL)   /* a known peer's name */
			snprintf(line, sizeof line, "%.*s%s%s", (int)(at - bad[i].line), bad[i].line,
			    p->nick, at + 4);
		else
			snprintf(line, sizeof line, "%s", bad[i].line);
		got = run(c, line);
		n = strlen(want);
		if (!ok(strncmp(got, want, n) == 0 && (got[n] == '\0' || strncmp(got + n, " (", 2) == 0),
		    "\"%s\" answers the table's usage \"%s\"", line, want))
			printf("#   got \"%s\"\n", got);
	}
	for (d = cmd_table; d->name != NULL; d++)
		ok(cmd_usage(d->name, want, sizeof want) < CMD_USAGE_MAX, "/%s's usage fits CMD_USAGE_MAX", d->name);
	for (d = cmd_table; d->name != NULL; d++) {
		if (*d->args == '\0' || strcmp(d->name, "accept") == 0 || strcmp(d->name, "reject") == 0)
			continue;   /* /accept, /reject: usage only once an offer is waiting */
		for (covered = 0, k = 0; k < sizeof bad / sizeof bad[0]; k++)
			covered |= strcmp(bad[k].name, d->name) == 0;
		ok(covered, "/%s's usage message is checked here", d->name);
	}
}

/* Abbreviated and upper-case names do what the full name does. */
static void
test_names(struct core *c, struct peer *p)
{
	char line[256];

	snprintf(line, sizeof line, "/blo %s", p->nick);
	run(c, line);
	is_int(p->trust, TRUST_BLOCKED, "\"/blo PEER\" blocks it (a prefix of /block)");
	snprintf(line, sizeof line, "/UNBLOCK %s", p->nick);
	run(c, line);
	is_int(p->trust, TRUST_UNVERIFIED, "\"/UNBLOCK PEER\" unblocks it");
	snprintf(line, sizeof line, "/BLOCK %s", p->nick);
	run(c, line);
	is_int(p->trust, TRUST_BLOCKED, "\"/BLOCK PEER\" blocks it");
	snprintf(line, sizeof line, "/unbl %s", p->nick);
	run(c, line);
	is_int(p->trust, TRUST_UNVERIFIED, "\"/unbl PEER\" unblocks it");
	snprintf(line, sizeof line, "/Trust %s", p->nick);
	run(c, line);
	is_int(p->trust, TRUST_VERIFIED, "\"/Trust PEER\" verifies it");
	snprintf(line, sizeof line, "/untr %s", p->nick);
	run(c, line);
	is_int(p->trust, TRUST_UNVERIFIED, "\"/untr PEER\" undoes /trust");
}

int
main(void)
{
	char home[] = "/tmp/unit_cmd.XXXXXX", err[512], rm[64];
	struct core_options opt;
	struct frontend fe;
	struct loop *loop;
	uint8_t pk[ID_KEYLEN];
	struct peer *p;
	struct core c;

	if (mkdtemp(home) == NULL || (loop = loop_new()) == NULL) {
		ok(0, "a scratch home and a loop");
		return tap_done();
	}
	memset(&opt, 0, sizeof opt);
	opt.home = home;
	opt.nick = "alice";
	opt.no_incoming = 1;
	opt.no_reconnect = 1;
	memset(&fe, 0, sizeof fe);
	fe.event = on_event;
	if (!ok(core_init(&c, loop, &opt, &fe, err, sizeof err) == 0, "core_init (%s)", err))
		return tap_done();
	memset(pk, 0x42, sizeof pk);
	if (ok((p = core_peer_get(&c, pk, 1)) != NULL, "a known peer to name")) {
		core_peer_keep(&c, p);
		test_usage(&c, p);
		test_names(&c, p);
	}
	core_free(&c);
	loop_free(loop);
	snprintf(rm, sizeof rm, "rm -rf %s", home);
	if (system(rm) != 0)
		printf("# could not remove %s\n", home);
	return tap_done();
}
