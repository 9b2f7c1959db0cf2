/* headless.h - the JSON Lines front-end for scripts and tests. */
#ifndef CONFAB_HEADLESS_H
#define CONFAB_HEADLESS_H

#include "core.h"

/* Run confab reading commands on stdin and writing events to stdout; returns the exit code. */
int headless_run(const struct core_options *);

#endif
