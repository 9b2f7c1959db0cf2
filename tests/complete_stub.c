/* complete_stub.c - a completion source over fixed lists (see complete_stub.h). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "complete_stub.h"

/* Command names starting with prefix. */
static void
stub_commands(struct tui_comp *c, const char *prefix, void *arg)
{
	const struct stub_lists *l = arg;
	size_t i;

	for (i = 0; l->commands[i] != NULL; i++)
		if (strncmp(l->commands[i], prefix, strlen(prefix)) == 0)
			comp_add(c, "/", l->commands[i], " ");
}

/* A command's synopsis. */
static const char *
stub_synopsis(const char *cmd, void *arg)
{
	const struct stub_lists *l = arg;
	size_t i;

	for (i = 0; l->commands[i] != NULL; i++)
		if (strcmp(l->commands[i], cmd) == 0)
			return l->synopses[i];
	return NULL;
}

/* Nicks starting with word. */
static void
stub_peers(struct tui_comp *c, const char *word, void *arg)
{
	const struct stub_lists *l = arg;
	size_t i;

	for (i = 0; l->peers[i] != NULL; i++)
		if (strncmp(l->peers[i], word, strlen(word)) == 0)
			comp_add(c, l->peers[i], c->colon ? ": " : " ", "");
}

/* Transfer ids starting with word, offered cut to 8 characters. */
static void
stub_ids(struct tui_comp *c, const char *word, const char *cmd, void *arg)
{
	const struct stub_lists *l = arg;
	char id[9];
	size_t i;

	(void)cmd;
	for (i = 0; l->ids[i] != NULL; i++)
		if (strncmp(l->ids[i], word, strlen(word)) == 0) {
			snprintf(id, sizeof id, "%.8s", l->ids[i]);
			comp_add(c, id, " ", "");
		}
}

/* Fill src with the stub's sources over lists. */
void
stub_src(struct comp_src *src, const struct stub_lists *lists)
{
	memset(src, 0, sizeof *src);
	src->commands = stub_commands;
	src->synopsis = stub_synopsis;
	src->peers = stub_peers;
	src->ids = stub_ids;
	src->arg = (void *)(uintptr_t)lists;
}
