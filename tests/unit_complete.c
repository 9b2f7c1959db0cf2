/* unit_complete.c - unit tests for ui/tui_complete.c, Tab completion without curses. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "complete_stub.h"
#include "tap.h"
#include "tui_complete.h"

static const char *const commands[] = { "accept", "alpha", "msg", "send", NULL };
static const char *const synopses[] = { "[ID [DIR]]", "", "PEER TEXT", "PEER PATH...", NULL };
static const char *const peers[] = { "bob", "bobby", "carol", NULL };
static const char *const ids[] = { "aa11bb22cc33dd44", "aa11cc3300000000", "ff00ff00ff00ff00", NULL };

static const struct stub_lists lists = { commands, synopses, peers, ids };
static struct comp_src src;   /* over lists: stub_src in main */

static struct edit e;
static struct tui_comp comp;
static char note[512];

/* Type line, press Tab n times (dir each), return the line. */
static char *
tab(const char *line, int n, int dir)
{
	static char *last;
	int i;

	free(last);
	edit_begin(&e);
	edit_set(&e, line);
	for (i = 0; i < n; i++) {
		edit_begin(&e);
		comp_complete(&comp, &e, dir, &src, note, sizeof note);
	}
	return last = edit_text(&e);
}

/* What a word stands for by its place among the arguments. */
static void
test_kinds(void)
{
	char cmd[32];

	edit_set(&e, "/send bob x");
	is_int(comp_arg_kind(&e, 6, &src, cmd, sizeof cmd), COMP_PEER, "/send's first argument is a peer");
	is_str(cmd, "send", "and the command is named");
	is_int(comp_arg_kind(&e, 10, &src, cmd, sizeof cmd), COMP_PATH, "its second a path");
	edit_set(&e, "/send bob x y z");
	is_int(comp_arg_kind(&e, 14, &src, cmd, sizeof cmd), COMP_PATH, "PATH... repeats");
	edit_set(&e, "/accept x y");
	is_int(comp_arg_kind(&e, 8, &src, cmd, sizeof cmd), COMP_ID, "[ID [DIR]]: an id first");
	is_int(comp_arg_kind(&e, 10, &src, cmd, sizeof cmd), COMP_PATH, "then a directory");
	edit_set(&e, "/msg bob hello there");
	is_int(comp_arg_kind(&e, 15, &src, cmd, sizeof cmd), COMP_OTHER, "free text is nothing");
	edit_set(&e, "/nosuch x");
	is_int(comp_arg_kind(&e, 8, &src, cmd, sizeof cmd), COMP_OTHER, "an unknown command is nothing");
	edit_set(&e, "hello x");
	is_int(comp_arg_kind(&e, 6, &src, cmd, sizeof cmd), COMP_OTHER, "a message is nothing");
	edit_set(&e, "/send \"a b\" x");
	is_int(comp_arg_kind(&e, 12, &src, cmd, sizeof cmd), COMP_PATH, "a quoted word counts once");
}

/* Commands, nicks and ids. */
static void
test_complete(void)
{
	is_str(tab("/ac", 1, 1), "/accept ", "a unique command is put in");
	is_str(tab("/a", 1, 1), "/accept ", "of several with nothing more in common, the first");
	is_str(tab("/a", 2, 1), "/alpha ", "Tab again: the next");
	is_str(tab("/a", 3, 1), "/accept ", "and round");
	is_str(tab("/a", 1, -1), "/alpha ", "Shift-Tab starts from the last");
	is_str(tab("bo", 1, 1), "bob", "several nicks: first their common prefix");
	is_str(tab("bo", 2, 1), "bob: ", "then a nick at the start of a line is addressed");
	is_str(tab("bo", 3, 1), "bobby: ", "and cycles");
	is_str(tab("hi ca", 1, 1), "hi carol ", "a nick inside a line gets a blank");
	is_str(tab("/msg c", 1, 1), "/msg carol ", "a PEER argument");
	is_str(tab("/msg zz", 1, 1), "/msg zz", "no candidate: the line stays");
	is_str(tab("/accept f", 1, 1), "/accept ff00ff00 ", "one transfer id");
	note[0] = 'x';
	is_str(tab("/accept a", 1, 1), "/accept aa11", "several ids: only what they share");
	is_str(note, "2 transfers match: aa11bb22 aa11cc33 (type more of the id)", "and a note lists them");
	is_int(comp.active, 0, "no cycling through ids");
	is_str(tab("", 1, 1), "bob: ", "Tab on an empty line offers the nicks, addressed");
}

/* File paths: escapes, directories, hidden files. */
static void
test_paths(void)
{
	char dir[] = "/tmp/unit_complete.XXXXXX", p[256], line[300], want[300];
	FILE *f;

	if (!ok(mkdtemp(dir) != NULL, "a scratch directory"))
		return;
	snprintf(p, sizeof p, "%s/a b.txt", dir);
	if ((f = fopen(p, "w")) != NULL)
		fclose(f);
	snprintf(p, sizeof p, "%s/sub", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/.hidden", dir);
	mkdir(p, 0700);
	snprintf(line, sizeof line, "/send bob %s/a", dir);
	snprintf(want, sizeof want, "/send bob %s/a\\ b.txt ", dir);
	is_str(tab(line, 1, 1), want, "a file name with a blank is escaped, a blank follows");
	snprintf(line, sizeof line, "/send bob %s/s", dir);
	snprintf(want, sizeof want, "/send bob %s/sub/", dir);
	is_str(tab(line, 1, 1), want, "a directory gets a slash");
	snprintf(line, sizeof line, "%s/.h", dir);
	snprintf(want, sizeof want, "%s/.hidden/", dir);
	is_str(tab(line, 1, 1), want, "a word with a slash is a path, even in a message; dot files when asked");
	snprintf(line, sizeof line, "/send bob %s/", dir);
	snprintf(want, sizeof want, "/send bob %s/sub/", dir);
	is_str(tab(line, 2, 1), want, "a directory's entries in turn");
	snprintf(want, sizeof want, "/send bob %s/a\\ b.txt ", dir);
	is_str(tab(line, 3, 1), want, "two of them: hidden files stay out when not asked");
	snprintf(p, sizeof p, "%s/a b.txt", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/sub", dir);
	rmdir(p);
	snprintf(p, sizeof p, "%s/.hidden", dir);
	rmdir(p);
	rmdir(dir);
}

/* The candidate cap. */
static void
test_cap(void)
{
	struct tui_comp c;
	size_t i;

	memset(&c, 0, sizeof c);
	for (i = 0; i < COMP_MAX + 10; i++)
		comp_add(&c, "x", "y", "z");
	is_int(c.ncand, COMP_MAX, "candidates stop at COMP_MAX");
	is_str(c.cand[0], "xyz", "each is its parts joined");
	comp_reset(&c);
	is_int(c.ncand, 0, "reset forgets them");
}

int
main(void)
{
	stub_src(&src, &lists);
	edit_init(&e);
	memset(&comp, 0, sizeof comp);
	test_kinds();
	test_complete();
	test_paths();
	test_cap();
	comp_reset(&comp);
	edit_free(&e);
	tab("", 0, 1);
	return tap_done();
}
