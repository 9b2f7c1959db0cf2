/* tui_complete.c - Tab completion, curses-free (see tui_complete.h). */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mem.h"
#include "tui_complete.h"

/* Forget a completion in progress. */
void
comp_reset(struct tui_comp *c)
{
	size_t i;

	for (i = 0; i < c->ncand; i++)
		free(c->cand[i]);
	free(c->cand);
	memset(c, 0, sizeof *c);
}

/* Add a candidate (a copy of a+b+c). */
void
comp_add(struct tui_comp *cp, const char *a, const char *b, const char *c)
{
	char **nc, *s;
	size_t n;

	if (cp->ncand >= COMP_MAX)
		return;
	n = strlen(a) + strlen(b) + strlen(c) + 1;
	if ((s = malloc(n)) == NULL)
		return;
	snprintf(s, n, "%s%s%s", a, b, c);
	if ((nc = mem_reallocarray(cp->cand, cp->ncand + 1, sizeof *nc)) == NULL) {
		free(s);
		return;
	}
	cp->cand = nc;
	cp->cand[cp->ncand++] = s;
}

/* qsort comparison of strings. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Copy in to out with blanks, quotes and backslashes escaped as the command parser reads them. */
static void
escape_path(const char *in, char *out, size_t outlen)
{
	size_t k = 0;

	for (; *in != '\0' && k + 3 < outlen; in++) {
		if (*in == ' ' || *in == '\t' || *in == '"' || *in == '\\')
			out[k++] = '\\';
		out[k++] = *in;
	}
	out[k] = '\0';
}

/* Candidates for a file path ("~/" means $HOME); typed is as typed (may hold escapes). */
void
comp_paths(struct tui_comp *c, const char *typed, void *unused)
{
	const char *slash, *base, *home = getenv("HOME");
	char word[PATH_MAX], dir[PATH_MAX], shown[PATH_MAX], full[2 * PATH_MAX], esc[2 * PATH_MAX];
	char quoted[4 * PATH_MAX];
	struct dirent *de;
	struct stat st;
	size_t bl, k = 0;
	int isdir;
	DIR *d;

	(void)unused;
	/* undo the escapes and quotes the command parser would undo */
	for (; *typed != '\0' && k + 1 < sizeof word; typed++) {
		if (*typed == '"')
			continue;
		if (*typed == '\\' && typed[1] != '\0')
			typed++;
		word[k++] = *typed;
	}
	word[k] = '\0';
	if ((slash = strrchr(word, '/')) != NULL) {
		snprintf(shown, sizeof shown, "%.*s", (int)(slash - word + 1), word);
		base = slash + 1;
	} else {
		shown[0] = '\0';
		base = word;
	}
	if (shown[0] == '~' && shown[1] == '/' && home != NULL)
		snprintf(dir, sizeof dir, "%s/%s", home, shown + 2);
	else
		snprintf(dir, sizeof dir, "%s", shown[0] ? shown : ".");
	if ((d = opendir(dir)) == NULL)
		return;
	bl = strlen(base);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_name[0] == '.' && base[0] != '.')
			continue;
		if (strncmp(de->d_name, base, bl) != 0)
			continue;
		snprintf(full, sizeof full, "%s/%s", dir, de->d_name);
		isdir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
		snprintf(esc, sizeof esc, "%s%s", shown, de->d_name);
		escape_path(esc, quoted, sizeof quoted);
		comp_add(c, quoted, isdir ? "/" : " ", "");
	}
	closedir(d);
}

/* What the word at start stands for (see tui_complete.h). */
enum comp_kind
comp_arg_kind(const struct edit *e, size_t start, const struct comp_src *src, char *cmd, size_t cmdlen)
{
	const char *args, *p, *tok = NULL;
	size_t i, k = 0, n = 0, tl = 0, j;
	int inq = 0, inword = 0, found = 0;

	if (e->len == 0 || e->cp[0] != '/' || cmdlen == 0)
		return COMP_OTHER;
	for (i = 1; i < e->len && e->cp[i] != ' ' && e->cp[i] < 0x80 && n + 1 < cmdlen; i++)
		cmd[n++] = (char)e->cp[i];
	cmd[n] = '\0';
	if (i < e->len && e->cp[i] != ' ')
		return COMP_OTHER;
	/* count the words before start, as the command parser splits them */
	for (; i < start; i++) {
		if (!inq && e->cp[i] == ' ') {
			inword = 0;
			continue;
		}
		if (!inword) {
			inword = 1;
			k++;
		}
		if (e->cp[i] == '"')
			inq = !inq;
		else if (e->cp[i] == '\\' && i + 1 < start)
			i++;
	}
	if (src->synopsis == NULL || (args = src->synopsis(cmd, src->arg)) == NULL)
		return COMP_OTHER;
	/* the k-th word of the synopsis; a last "WORD..." repeats */
	for (p = args, j = 0;; j++) {
		p += strspn(p, " ");
		if (*p == '\0')
			break;
		tok = p;
		tl = strcspn(p, " ");
		p += tl;
		if (j == k) {
			found = 1;
			break;
		}
	}
	if (tok == NULL || (!found && (tl < 3 || strncmp(tok + tl - 3, "...", 3) != 0)))
		return COMP_OTHER;
	if (*tok == '[')
		tok++, tl--;
	if (strncmp(tok, "PEER", 4) == 0)
		return COMP_PEER;
	if (strncmp(tok, "PATH", 4) == 0 || strncmp(tok, "FILE", 4) == 0 || strncmp(tok, "DIR", 3) == 0)
		return COMP_PATH;
	if (strncmp(tok, "ID", 2) == 0)
		return COMP_ID;
	return COMP_OTHER;
}

/* Candidates for the word, by what it stands for. */
static void
gather(struct tui_comp *c, const char *word, int first, enum comp_kind kind, const char *cmd,
    const struct comp_src *src)
{
	void (*paths)(struct tui_comp *, const char *, void *) =
	    src->paths != NULL ? src->paths : comp_paths;

	if (first && word[0] == '/' && strchr(word + 1, '/') == NULL) {
		if (src->commands != NULL)
			src->commands(c, word + 1, src->arg);
	} else if (kind == COMP_PEER) {
		if (src->peers != NULL)
			src->peers(c, word, src->arg);
	} else if (kind == COMP_PATH) {
		paths(c, word, src->arg);
	} else if (kind == COMP_ID) {
		if (src->ids != NULL)
			src->ids(c, word, cmd, src->arg);
	} else if (strchr(word, '/') != NULL || word[0] == '~' || (word[0] == '.' && word[1] == '/')) {
		paths(c, word, src->arg);
	} else if (src->peers != NULL) {
		c->colon = first;   /* a nick at the start of a line is addressed: "bob: " */
		src->peers(c, word, src->arg);
		c->colon = 0;
	}
}

/* The length of the candidates' common prefix, never splitting a UTF-8 character. */
static size_t
common_prefix(const struct tui_comp *c)
{
	size_t lcp, i;

	for (lcp = 0; c->cand[0][lcp] != '\0'; lcp++) {
		for (i = 1; i < c->ncand; i++)
			if (c->cand[i][lcp] != c->cand[0][lcp])
				break;
		if (i < c->ncand)
			break;
	}
	while (lcp > 0 && (c->cand[0][lcp] & 0xc0) == 0x80)
		lcp--;
	return lcp;
}

/* Tab or Shift-Tab (see tui_complete.h). */
int
comp_complete(struct tui_comp *c, struct edit *e, int dir, const struct comp_src *src,
    char *note, size_t notelen)
{
	char *word, *cand, cmd[32] = "";
	size_t start, i, lcp, len;
	enum comp_kind kind = COMP_OTHER;
	int first, rc = 0;

	if (notelen > 0)
		note[0] = '\0';
	if (c->active && e->prev_op == EDIT_OP_COMPLETE && c->ncand > 0) {
		if (c->idx >= c->ncand)   /* after the common prefix: begin the cycle */
			c->idx = dir > 0 ? 0 : c->ncand - 1;
		else
			c->idx = (c->idx + c->ncand + (size_t)(dir > 0 ? 1 : -1)) % c->ncand;
		edit_replace(e, c->start, c->end, c->cand[c->idx]);
		c->end = e->cur;
		e->op = EDIT_OP_COMPLETE;
		return 0;
	}
	comp_reset(c);
	/* the word before the cursor; "\\ " is an escaped blank inside it */
	for (start = e->cur; start > 0; start--)
		if (e->cp[start - 1] == ' ' && !(start >= 2 && e->cp[start - 2] == '\\'))
			break;
	for (i = 0, first = 1; i < start; i++)
		if (e->cp[i] != ' ')
			first = 0;
	if ((word = edit_slice(e, start, e->cur)) == NULL)
		return 0;
	if (!first)
		kind = comp_arg_kind(e, start, src, cmd, sizeof cmd);
	gather(c, word, first, kind, cmd, src);
	if (c->ncand == 0)
		goto out;
	qsort(c->cand, c->ncand, sizeof *c->cand, cmp_str);
	c->start = start;
	c->active = 1;
	if (c->ncand == 1) {
		edit_replace(e, start, e->cur, c->cand[0]);
		comp_reset(c);
		goto out;
	}
	/* several: first extend to their common prefix, then cycle */
	lcp = common_prefix(c);
	if (kind == COMP_ID) {
		/* transfer ids: never pick one of several; list them, extend to what they share */
		char list[400] = "";

		for (i = 0, len = 0; i < c->ncand && len + 12 < sizeof list; i++)
			len += (size_t)snprintf(list + len, sizeof list - len, " %.8s", c->cand[i]);
		if (lcp > strlen(word) && (cand = strndup(c->cand[0], lcp)) != NULL) {
			edit_replace(e, start, e->cur, cand);
			free(cand);
		}
		if (notelen > 0)
			snprintf(note, notelen, "%zu transfers match:%s%s (type more of the id)",
			    c->ncand, list, i < c->ncand ? " ..." : "");
		comp_reset(c);
		rc = 1;
		goto out;
	}
	if (lcp > strlen(word)) {
		if ((cand = strndup(c->cand[0], lcp)) != NULL) {
			edit_replace(e, start, e->cur, cand);
			free(cand);
		}
		c->idx = c->ncand;   /* the next Tab starts cycling */
	} else {
		c->idx = dir > 0 ? 0 : c->ncand - 1;
		edit_replace(e, start, e->cur, c->cand[c->idx]);
	}
	c->end = e->cur;
	e->op = EDIT_OP_COMPLETE;
out:
	free(word);
	return rc;
}
