/*
 * complete_stub.h - a completion source (struct comp_src) over fixed lists,
 * shared by tests/unit_complete.c and tests/fuzz/fuzz_complete.c.
 */
#ifndef CONFAB_COMPLETE_STUB_H
#define CONFAB_COMPLETE_STUB_H

#include "tui_complete.h"

/* NULL-terminated lists; synopses[i] is the synopsis of commands[i]. */
struct stub_lists {
	const char *const *commands;
	const char *const *synopses;
	const char *const *peers;      /* all of them for "", as the front-end does */
	const char *const *ids;        /* offered cut to their first 8 characters */
};

/* Fill src with the stub's sources over lists (paths: NULL, the file system). */
void stub_src(struct comp_src *src, const struct stub_lists *lists);

#endif
