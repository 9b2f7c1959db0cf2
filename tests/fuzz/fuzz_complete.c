/*
 * fuzz_complete.c - Tab completion (ui/tui_complete.c) on any line: the word
 * splitting around escapes and quotes, the argument counting against the
 * command synopses, the common prefix (never splitting UTF-8), cycling.
 *
 * Input: byte 0 is the cursor position (mod length+1, in code points), byte 1
 * the presses (bits 0-2: how many, 1-8; bit 3 onwards: Shift-Tab for press
 * k when bit 3+k is set), the rest the line as typed (UTF-8; invalid bytes are
 * dropped by the editor).  The candidates come from fixed lists (nicks with
 * multi-byte characters, hex ids) and, for paths, from the word itself (no
 * file system).  Checked after every press: the cursor within the line, the line
 * within EDIT_MAX and valid UTF-8, the completion's range within the line.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../complete_stub.h"
#include "text.h"
#include "tui_complete.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const commands[] = { "accept", "alpha", "msg", "send", "sendé", NULL };
static const char *const synopses[] = { "[ID [DIR]]", "", "PEER TEXT", "PEER PATH...", "FILE", NULL };
static const char *const nicks[] = { "bob", "bobby", "böb", "bö", "日本", "日本語", "x y", NULL };

static const char *const ids[] = { "aa11bb22", "aa11cc33", "aa1", "ff00ff00", NULL };
static const struct stub_lists lists = { commands, synopses, nicks, ids };

/* Paths: the word with endings, one of them a directory with a blank. */
static void
f_paths(struct tui_comp *c, const char *typed, void *arg)
{
	(void)arg;
	comp_add(c, typed, "x", " ");
	comp_add(c, typed, "\\ y/", "");
	comp_add(c, typed, "語", " ");
}

static struct comp_src src;   /* the stub over lists, and f_paths: set at the first input */

/* The invariants after a press. */
static void
check(const struct edit *e, const struct tui_comp *c)
{
	char *s;

	if (e->cur > e->len || e->len > EDIT_MAX)
		abort();
	if (c->active && c->ncand > 0 && (c->start > c->end || c->end > e->len))
		abort();
	if ((s = edit_text(e)) != NULL) {
		if (!text_utf8_valid((const uint8_t *)s, strlen(s)))
			abort();
		free(s);
	}
}

/* One line, a few presses. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tui_comp c;
	struct edit e;
	char note[512];
	size_t n, k, at;

	if (size < 2)
		return 0;
	if (src.commands == NULL) {
		stub_src(&src, &lists);
		src.paths = f_paths;
	}
	memset(&c, 0, sizeof c);
	edit_init(&e);
	edit_insert_utf8(&e, (const char *)data + 2, size - 2);
	at = data[0] % (e.len + 1);
	while (e.cur > at)
		edit_left(&e);
	n = (data[1] & 7) + 1;
	for (k = 0; k < n; k++) {
		edit_begin(&e);
		comp_complete(&c, &e, (data[1] >> (3 + k)) & 1 ? -1 : 1, &src, note, sizeof note);
		check(&e, &c);
		if (!text_utf8_valid((const uint8_t *)note, strlen(note)))
			abort();
	}
	comp_reset(&c);
	edit_free(&e);
	return 0;
}
