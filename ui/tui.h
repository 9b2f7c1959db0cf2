/* tui.h - the ncurses front-end. */
#ifndef CONFAB_TUI_H
#define CONFAB_TUI_H

#include "core.h"

/* Run the full-screen interface until /quit; returns the exit code. */
int tui_run(const struct core_options *);

#endif
