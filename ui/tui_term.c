/* tui_term.c - the terminal: curses on and off, and given back as it was even on a crash. */
#include "config.h"

#include <curses.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tui_int.h"

#define PASTE_ON   "\033[?2004h"
#define PASTE_OFF  "\033[?2004l"

/*
 * What a fatal signal handler needs to give the terminal back: the modes from
 * before curses and the strings that leave the alternate screen.  Written once
 * at start, read from signal context.
 */
static struct termios           g_tio;
static int                      g_tio_ok;
static char                     g_restore[256];
static size_t                   g_restore_len;
static volatile sig_atomic_t    g_curses;
static struct sigaction         g_old_fatal[NSIG];
static const int                g_fatal_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
static int                      g_paste_on;
static SCREEN                  *g_screen;

/* Give the terminal back from a fatal signal: async-signal-safe. */
static void
restore_from_signal(void)
{
	if (!g_curses)
		return;
	g_curses = 0;
	(void)!write(STDOUT_FILENO, g_restore, g_restore_len);
	if (g_tio_ok)
		tcsetattr(STDIN_FILENO, TCSANOW, &g_tio);
}

/* A fatal signal: restore the terminal, then let the old disposition have it. */
static void
on_fatal(int sig)
{
	restore_from_signal();
	sigaction(sig, &g_old_fatal[sig], NULL);
	raise(sig);
}

/* exit() while the screen is ours (a library giving up): leave curses first. */
void
tui_term_atexit(void)
{
	if (!g_curses)
		return;
	g_curses = 0;
	endwin();
	if (g_paste_on) {
		fputs(PASTE_OFF, stdout);
		fflush(stdout);
	}
}

/* Append a terminfo string to the restore sequence. */
static void
restore_add(const char *cap)
{
	char *s = tigetstr(cap);
	size_t n;

	if (s == NULL || s == (char *)-1)
		return;
	n = strlen(s);
	if (g_restore_len + n < sizeof g_restore) {
		memcpy(g_restore + g_restore_len, s, n);
		g_restore_len += n;
	}
}

/* Send a terminfo string now (after endwin). */
static void
restore_put(const char *cap)
{
	char *s = tigetstr(cap);

	if (s != NULL && s != (char *)-1) {
		putp(s);
		fflush(stdout);
	}
}

/* Whether the terminal takes bracketed paste mode (xterm's private mode 2004). */
static int
term_has_paste(void)
{
	static const char *const families[] = {
		"xterm", "screen", "tmux", "rxvt", "alacritty", "foot", "kitty", "st-", "st",
		"vte", "gnome", "konsole", "putty", "wezterm", "contour", "iterm", NULL,
	};
	const char *term = getenv("TERM");
	size_t i, n;

	if (term == NULL)
		return 0;
	for (i = 0; families[i] != NULL; i++) {
		n = strlen(families[i]);
		if (strncmp(term, families[i], n) == 0 && (term[n] == '\0' || term[n] == '-' ||
		    families[i][n - 1] == '-'))
			return 1;
	}
	return 0;
}

/* Enter curses mode. Returns 0 or -1. */
int
tui_term_start(struct tui *t)
{
	const char *nc = getenv("NO_COLOR");
	static const int colors[PAIR_COUNT] = {
		0, COLOR_RED, COLOR_GREEN, COLOR_YELLOW, COLOR_BLUE, COLOR_MAGENTA, COLOR_CYAN,
	};
	struct sigaction sa;
	size_t i;
	int p;

	g_tio_ok = tcgetattr(STDIN_FILENO, &g_tio) == 0;
	/*
	 * The size comes from the terminal (ioctl), not from stale LINES/COLUMNS;
	 * use_env(FALSE) alone would take terminfo's lines/cols, which some
	 * entries (linux) do not have, and newterm would fail.
	 */
	use_env(FALSE);
	use_tioctl(TRUE);
	if ((g_screen = newterm(NULL, stdout, stdin)) == NULL)
		return -1;
	t->curses_up = 1;
	g_curses = 1;
	raw();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	leaveok(stdscr, FALSE);
	set_escdelay(TUI_ESCDELAY_MS);
	t->color = 0;
	/* config file: colors = on wins over $NO_COLOR, off means never, auto follows it */
	if (t->core.opt.colors != COLORS_OFF &&
	    (t->core.opt.colors == COLORS_ON || nc == NULL || *nc == '\0') &&
	    has_colors() && start_color() == OK &&
	    use_default_colors() == OK) {
		/* pairs only: the terminal's palette is never redefined */
		for (p = 1; p < PAIR_COUNT; p++)
			init_pair((short)p, (short)colors[p], -1);
		t->color = 1;
	}
	g_restore_len = 0;
	if (term_has_paste()) {
		fputs(PASTE_ON, stdout);
		fflush(stdout);
		g_paste_on = 1;
		memcpy(g_restore, PASTE_OFF, strlen(PASTE_OFF));
		g_restore_len = strlen(PASTE_OFF);
	}
	restore_add("sgr0");
	restore_add("cnorm");
	restore_add("rmcup");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fatal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof g_fatal_signals / sizeof g_fatal_signals[0]; i++)
		sigaction(g_fatal_signals[i], &sa, &g_old_fatal[g_fatal_signals[i]]);
	getmaxyx(stdscr, t->rows, t->cols);
	t->dirty = t->full = 1;
	return 0;
}

/* Leave curses mode and give the terminal back as it was. */
void
tui_term_stop(struct tui *t)
{
	size_t i;

	if (!t->curses_up)
		return;
	for (i = 0; i < sizeof g_fatal_signals / sizeof g_fatal_signals[0]; i++)
		sigaction(g_fatal_signals[i], &g_old_fatal[g_fatal_signals[i]], NULL);
	g_curses = 0;
	curs_set(1);
	endwin();
	restore_put("cnorm");   /* some terminals bring back the hidden cursor of the alternate screen */
	if (g_paste_on) {
		fputs(PASTE_OFF, stdout);
		fflush(stdout);
		g_paste_on = 0;
	}
	delscreen(g_screen);
	g_screen = NULL;
	t->curses_up = 0;
}

/* Send stderr to the log file while the screen is ours (libraries may write there). */
int
tui_term_stderr_to_log(struct tui *t)
{
	char path[PATH_MAX];
	int fd, saved;

	if (t->core.opt.log_file != NULL)
		snprintf(path, sizeof path, "%s", t->core.opt.log_file);
	else if (paths_join(path, sizeof path, t->core.paths.state, "confab.log") == -1)
		return -1;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) == -1)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	return saved;
}
