/* conffile.c - the configuration file: read, report mistakes, document, write (the keys: settings.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conffile.h"
#include "persist.h"

#define VALUE_MAX      PATH_MAX  /* longest value, after unquoting */
#define KEY_MAX        32        /* longest key we try to recognise */
#define SHOW_MAX       CONFIG_SHOW_MAX
#define PROBLEMS_SHOWN 20        /* a file with more problems is not worth reading out */

static const char file_intro[] =
"confab configuration file.\n"
"\n"
"One setting per line: key = value.  Lines starting with # are comments\n"
"(a # further along a line is part of the value).  A value in double quotes\n"
"keeps spaces at its ends; inside quotes, \\\" is a quote, \\\\ a backslash\n"
"and \\xHH a byte.  If a key appears twice the later line wins, except for\n"
"listen, whose addresses add up.  A key that is commented out or missing\n"
"keeps the default shown next to it.  Options on the command line win over\n"
"this file; confab --print-config shows the configuration in effect.\n"
"A mistake here is reported with its line number, and that key keeps its\n"
"default.";

/* --- reading ------------------------------------------------------------- */

/* Levenshtein distance between two short strings (at most KEY_MAX bytes). */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[KEY_MAX + 1], i, j, diag, up, best;

	if (la > KEY_MAX || lb > KEY_MAX)
		return KEY_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The key a misspelt one probably meant (norm is lower case with '_'), or NULL. */
static const char *
suggest(const char *norm)
{
	size_t len = strlen(norm), d, best = KEY_MAX, limit = len / 3 > 2 ? len / 3 : 2;
	const char *pick = NULL, *prefix = NULL;
	int k, nprefix = 0;

	for (k = 0; k < CONFIG_NKEYS; k++) {
		if (config_file_key((enum config_key)k) == NULL)
			continue;
		d = distance(norm, config_file_key((enum config_key)k));
		if (d < best) {
			best = d;
			pick = config_file_key((enum config_key)k);
		}
		if (len >= 4 && strncmp(config_file_key((enum config_key)k), norm, len) == 0) {
			prefix = config_file_key((enum config_key)k);
			nprefix++;
		}
	}
	if (pick != NULL && best <= limit && best * 2 <= (len > strlen(pick) ? len : strlen(pick)))
		return pick;
	return nprefix == 1 ? prefix : NULL;
}

/*
 * Find a key: case does not matter, and '-' may stand for '_' (the spelling
 * of the command-line options).  Fills norm with the normalised name.
 * Returns the key or -1.
 */
static int
key_find(const char *s, size_t n, char norm[KEY_MAX + 1])
{
	size_t i;
	int k;

	norm[0] = '\0';
	if (n > KEY_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		norm[i] = ch == '-' ? '_' : (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : (char)ch;
	}
	norm[n] = '\0';
	for (k = 0; k < CONFIG_NKEYS; k++)
		if (config_file_key((enum config_key)k) != NULL && strcmp(norm, config_file_key((enum config_key)k)) == 0)
			return k;
	return -1;
}

/* Report a problem at name:lineno. */
static int
problem(config_warn_fn *warn, void *arg, const char *name, unsigned long lineno, const char *what)
{
	char msg[PATH_MAX + 1024];

	if (warn != NULL) {
		snprintf(msg, sizeof msg, "%s:%lu: %s", name, lineno, what);
		warn(arg, msg);
	}
	return 1;
}

/* Whether c is a space or a tab. */
static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A hex digit's value, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The value starting at line[i]: quoted or bare.  Returns its length in val
 * (NUL-terminated, may contain NUL from \x00), or -1 with err set.
 */
static long
read_value(const char *line, size_t len, size_t i, char *val, size_t valmax, char *err, size_t errlen)
{
	size_t n = 0, end;
	int hi, lo;
	char ch;

	if (i < len && line[i] == '"') {
		for (i++;; ) {
			if (i == len) {
				snprintf(err, errlen, "no closing quote");
				return -1;
			}
			ch = line[i++];
			if (ch == '"')
				break;
			if (ch == '\\') {
				if (i == len) {
					snprintf(err, errlen, "no closing quote");
					return -1;
				}
				ch = line[i++];
				if (ch == 'x') {
					if (len - i < 2 || (hi = hexval(line[i])) < 0 || (lo = hexval(line[i + 1])) < 0) {
						snprintf(err, errlen, "\\x needs two hex digits");
						return -1;
					}
					ch = (char)(hi * 16 + lo);
					i += 2;
				} else if (ch != '"' && ch != '\\') {
					snprintf(err, errlen, "unknown escape in quotes (use \\\\ for a backslash)");
					return -1;
				}
			}
			if (n + 1 >= valmax) {
				snprintf(err, errlen, "value longer than %zu bytes", valmax - 1);
				return -1;
			}
			val[n++] = ch;
		}
		while (i < len && blank(line[i]))
			i++;
		if (i < len) {
			snprintf(err, errlen, "text after the closing quote");
			return -1;
		}
	} else {
		for (end = len; end > i && blank(line[end - 1]); end--)
			;
		n = end - i;
		if (n >= valmax) {
			snprintf(err, errlen, "value longer than %zu bytes", valmax - 1);
			return -1;
		}
		memcpy(val, line + i, n);
	}
	val[n] = '\0';
	return (long)n;
}

/* Parse one line. */
int
config_parse_line(struct config *cfg, const char *name, unsigned long lineno,
    const char *line, size_t len, config_warn_fn *warn, void *arg)
{
	char norm[KEY_MAX + 1], shown[SHOW_MAX + 8], err[512], msg[768];
	static char val[VALUE_MAX];   /* single-threaded; too big for the stack of a fuzzer */
	const char *hint;
	size_t i = 0, k0, klen;
	long vlen;
	int k;

	while (i < len && blank(line[i]))
		i++;
	if (i == len || line[i] == '#')
		return 0;
	if (memchr(line, '\0', len) != NULL)
		return problem(warn, arg, name, lineno, "NUL byte in the line");
	k0 = i;
	while (i < len && line[i] != '=' && !blank(line[i]))
		i++;
	klen = i - k0;
	while (i < len && blank(line[i]))
		i++;
	if (i == len || line[i] != '=') {
		config_show(shown, sizeof shown, line + k0, len - k0);
		snprintf(msg, sizeof msg, "expected 'key = value', got '%s'", shown);
		return problem(warn, arg, name, lineno, msg);
	}
	i++;
	while (i < len && blank(line[i]))
		i++;
	if (klen == 0)
		return problem(warn, arg, name, lineno, "no key before '='");
	if ((k = key_find(line + k0, klen, norm)) < 0) {
		config_show(shown, sizeof shown, line + k0, klen);
		hint = norm[0] != '\0' ? suggest(norm) : NULL;
		if (hint != NULL)
			snprintf(msg, sizeof msg, "unknown key '%s' (did you mean '%s'?)", shown, hint);
		else
			snprintf(msg, sizeof msg, "unknown key '%s'", shown);
		return problem(warn, arg, name, lineno, msg);
	}
	if ((vlen = read_value(line, len, i, val, sizeof val, err, sizeof err)) >= 0) {
		for (i = 0; i < (size_t)vlen; i++) {
			if ((unsigned char)val[i] < 0x20 || val[i] == 0x7f) {
				snprintf(err, sizeof err, "control character in the value");
				vlen = -1;
				break;
			}
		}
	}
	if (vlen < 0 || config_set_value(cfg, (enum config_key)k, val, 0, err, sizeof err) == -1) {
		cfg->bad |= CONFIG_BIT(k);
		cfg->set &= ~CONFIG_BIT(k);
		snprintf(msg, sizeof msg, "%s: %s", config_file_key((enum config_key)k), err);
		return problem(warn, arg, name, lineno, msg);
	}
	if (!(cfg->bad & CONFIG_BIT(k)))
		cfg->set |= CONFIG_BIT(k);
	return 0;
}

/* Passes the first PROBLEMS_SHOWN problems on, counts the rest. */
struct counter {
	config_warn_fn *warn;
	void           *arg;
	unsigned long   n;
};

/* config_warn_fn for struct counter. */
static void
count_warn(void *arg, const char *msg)
{
	struct counter *c = arg;

	if (++c->n <= PROBLEMS_SHOWN && c->warn != NULL)
		c->warn(c->arg, msg);
}

/* Parse a whole file held in memory. */
int
config_parse(struct config *cfg, const char *name, const char *buf, size_t len,
    config_warn_fn *warn, void *arg)
{
	struct counter cnt = { warn, arg, 0 };
	const char *p = buf, *end = buf + len, *nl;
	unsigned long lineno = 0;
	size_t n;
	char msg[512];

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)   /* a byte order mark */
		p += 3;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		config_parse_line(cfg, name, lineno, p, n > 0 && p[n - 1] == '\r' ? n - 1 : n,
		    count_warn, &cnt);
		p += n + (nl != NULL);
	}
	if (cnt.n > PROBLEMS_SHOWN && warn != NULL) {
		snprintf(msg, sizeof msg, "%s: %lu more problems not shown", name, cnt.n - PROBLEMS_SHOWN);
		warn(arg, msg);
	}
	config_drop_bad(cfg);
	return cnt.n > INT_MAX ? INT_MAX : (int)cnt.n;
}

/* A config_warn_fn that drops the message. */
static void
no_warn(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Read the file at path. */
int
config_load(struct config *cfg, const char *path, int create_if_missing,
    config_warn_fn *warn, void *arg)
{
	char msg[PATH_MAX + 256], err[256];
	struct stat st;
	size_t got = 0;
	ssize_t r;
	char *buf;
	int fd, n;

	if (warn == NULL)
		warn = no_warn;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		if (errno == ENOENT && create_if_missing) {
			if (config_create(path, err, sizeof err) == 0)
				return 0;
			snprintf(msg, sizeof msg, "%s: cannot write the default configuration: %s", path, err);
			warn(arg, msg);
			return 1;
		}
		if (errno == ENOENT)
			return 0;
		snprintf(msg, sizeof msg, "%s: %s; using the defaults", path, strerror(errno));
		warn(arg, msg);
		return -1;
	}
	buf = NULL;
	if (fstat(fd, &st) == -1) {
		snprintf(msg, sizeof msg, "%s: %s; using the defaults", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, sizeof msg, "%s: not a regular file; using the defaults", path);
		goto fail;
	}
	if ((buf = malloc(CONFIG_FILE_MAX + 1)) == NULL) {
		snprintf(msg, sizeof msg, "%s: out of memory; using the defaults", path);
		goto fail;
	}
	while (got <= CONFIG_FILE_MAX && (r = read(fd, buf + got, CONFIG_FILE_MAX + 1 - got)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			snprintf(msg, sizeof msg, "%s: %s; using the defaults", path, strerror(errno));
			goto fail;
		}
		got += (size_t)r;
	}
	if (got > CONFIG_FILE_MAX) {
		snprintf(msg, sizeof msg, "%s: larger than 1 MiB; using the defaults", path);
		goto fail;
	}
	close(fd);
	n = config_parse(cfg, path, buf, got, warn, arg);
	free(buf);
	return n;
fail:
	warn(arg, msg);
	close(fd);
	free(buf);
	return -1;
}

/* --- writing ------------------------------------------------------------- */

/* Write a value so that it reads back the same: bare if it can be, else quoted. */
static void
put_value(FILE *f, const char *v)
{
	size_t n = strlen(v), i;
	int quote = n > 0 && (blank(v[0]) || blank(v[n - 1]) || v[0] == '"');

	for (i = 0; i < n && !quote; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			quote = 1;
	if (!quote) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (i = 0; i < n; i++) {
		if (v[i] == '"' || v[i] == '\\')
			fprintf(f, "\\%c", v[i]);
		else if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			fprintf(f, "\\x%02x", (unsigned char)v[i]);
		else
			fputc(v[i], f);
	}
	fputc('"', f);
}

/* Write text as comment lines. */
static void
put_comment(FILE *f, const char *text)
{
	const char *p = text, *nl;

	for (;;) {
		nl = strchr(p, '\n');
		if (nl == p)
			fputs("#\n", f);
		else
			fprintf(f, "# %.*s\n", (int)(nl != NULL ? nl - p : (long)strlen(p)), p);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* Write cfg as a config file. */
int
config_write(FILE *f, const struct config *cfg, int with_docs)
{
	struct config def;
	char buf[32], dbuf[32], line[256];
	const char *dv;
	int k, i;

	config_defaults(&def);
	if (with_docs)
		put_comment(f, file_intro);
	for (k = 0; k < CONFIG_NKEYS; k++) {
		if (config_file_key((enum config_key)k) == NULL)
			continue;   /* command line only */
		if (with_docs) {
			fputc('\n', f);
			put_comment(f, config_key_doc((enum config_key)k));
			dv = config_value_str(&def, (enum config_key)k, dbuf, sizeof dbuf);
			if (dv[0] != '\0')
				fprintf(f, "# Default: %s\n", dv);
			else
			{
				snprintf(line, sizeof line, "Default: empty, meaning %s", config_key_empty((enum config_key)k));
				put_comment(f, line);
			}
		}
		if (!(cfg->set & CONFIG_BIT(k))) {
			if (with_docs) {
				dv = config_value_str(&def, (enum config_key)k, dbuf, sizeof dbuf);
				fprintf(f, "#%s =%s%s\n", config_file_key((enum config_key)k), dv[0] ? " " : "", dv);
			}
			continue;
		}
		if (k == CONFIG_LISTEN && cfg->nlisten > 0) {
			for (i = 0; i < cfg->nlisten; i++) {
				fprintf(f, "%s = ", config_file_key((enum config_key)k));
				put_value(f, cfg->listen[i]);
				fputc('\n', f);
			}
			continue;
		}
		dv = config_value_str(cfg, (enum config_key)k, buf, sizeof buf);
		fprintf(f, "%s =%s", config_file_key((enum config_key)k), dv[0] != '\0' ? " " : "");
		put_value(f, dv);
		fputc('\n', f);
	}
	return ferror(f) ? -1 : 0;
}

/* persist_writer_fn: the documented defaults. */
static int
write_defaults(FILE *f, void *arg)
{
	struct config def;

	(void)arg;
	config_defaults(&def);
	return config_write(f, &def, 1);
}

/* Write the documented defaults to path, atomically, never replacing a file. */
int
config_create(const char *path, char *err, size_t errlen)
{
	/* another instance may have got there first: its file stays (1) */
	return persist_atomic_write(path, 0600, PERSIST_EXCL, write_defaults, NULL, err, errlen) == -1 ? -1 : 0;
}

