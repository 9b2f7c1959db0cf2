/* unit_xfs.c - tests for net/xfs.c: hostile names, sender walks, receiver staging. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "xfs.h"

static char root[PATH_MAX];      /* the scratch directory of this run */
static char outside[PATH_MAX + 16];   /* a directory nothing may touch */

/* root + "/" + formatted rest, in one of a few rotating buffers. */
static const char *path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *
path(const char *fmt, ...)
{
	static char bufs[8][PATH_MAX + 64];
	static int next;
	char *b = bufs[next++ % 8];
	va_list ap;
	int n;

	n = snprintf(b, PATH_MAX, "%s/", root);
	va_start(ap, fmt);
	vsnprintf(b + n, PATH_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	return b;
}

/* Write s to file p (created or truncated). */
static void
put(const char *p, const char *s)
{
	FILE *f = fopen(p, "w");

	if (f == NULL) {
		perror(p);
		exit(2);
	}
	fputs(s, f);
	fclose(f);
}

/* The content of file p (static buffer), or "(missing)". */
static const char *
get(const char *p)
{
	static char b[8192];
	int fd = open(p, O_RDONLY | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return "(missing)";
	n = read(fd, b, sizeof b - 1);
	close(fd);
	b[n < 0 ? 0 : n] = '\0';
	return b;
}

/* Whether p exists (not following a final symlink). */
static int
exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

/* Whether p is a symlink. */
static int
is_link(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0 && S_ISLNK(st.st_mode);
}

/* Append a description of the tree at dir (sorted, recursive, no following) to out. */
static void
tree_sig(const char *dir, char *out, size_t outmax)
{
	struct dirent **v;
	char p[PATH_MAX + 512], line[2 * PATH_MAX + 9000], lt[256];
	struct stat st;
	ssize_t ll;
	int n, i;

	if ((n = scandir(dir, &v, NULL, alphasort)) < 0) {
		snprintf(line, sizeof line, "[%s unreadable]", dir);
		strncat(out, line, outmax - strlen(out) - 1);
		return;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(v[i]->d_name, ".") != 0 && strcmp(v[i]->d_name, "..") != 0) {
			snprintf(p, sizeof p, "%s/%s", dir, v[i]->d_name);
			lstat(p, &st);
			lt[0] = '\0';
			if (S_ISLNK(st.st_mode) && (ll = readlink(p, lt, sizeof lt - 1)) >= 0)
				lt[ll] = '\0';
			snprintf(line, sizeof line, "%s %o %lld %s %s;", p, (unsigned)st.st_mode,
			    (long long)st.st_size, lt, S_ISREG(st.st_mode) ? get(p) : "");
			strncat(out, line, outmax - strlen(out) - 1);
			if (S_ISDIR(st.st_mode))
				tree_sig(p, out, outmax);
		}
		free(v[i]);
	}
	free(v);
}

/* A fresh signature of the outside directory. */
static const char *
outside_sig(char *buf, size_t n)
{
	buf[0] = '\0';
	tree_sig(outside, buf, n);
	return buf;
}

/* Whether why is set to a non-empty reason. */
static int
has_reason(const char *why)
{
	return why != NULL && *why != '\0';
}

/* Every hostile name is refused with a reason; good names pass. */
static void
test_names(void)
{
	static const struct { const char *s; size_t len; const char *what; } bad[] = {
		{ "/etc/passwd", 11, "absolute" },
		{ "/", 1, "root" },
		{ "../x", 4, "dot-dot first" },
		{ "a/../../x", 9, "dot-dot inside" },
		{ "..", 2, "dot-dot alone" },
		{ "a/..", 4, "dot-dot last" },
		{ "a//b", 4, "empty component" },
		{ "a/", 2, "trailing slash" },
		{ "./a", 3, "dot first" },
		{ "a/.", 3, "dot last" },
		{ ".", 1, "dot alone" },
		{ "", 0, "empty" },
		{ "a\0b", 3, "embedded NUL" },
		{ "a\0", 2, "trailing NUL" },
		{ "a\nb", 3, "newline" },
		{ "a\rb", 3, "carriage return" },
		{ "a\tb", 3, "tab" },
		{ "\x1b]0;x\x07", 6, "OSC title escape" },
		{ "\x1b[2J", 4, "CSI escape" },
		{ "a\xc2\x9b" "2J", 5, "C1 CSI" },
		{ "a\xc2\x85", 3, "C1 NEL" },
		{ "a\xc2\x80", 3, "C1 first" },
		{ "a\xc2\x9f", 3, "C1 last" },
		{ "a\x7f", 2, "DEL" },
		{ "..\\x", 4, "backslash traversal" },
		{ "a\\b", 3, "backslash" },
		{ "\xc0\xae\xc0\xae/x", 6, "overlong dot-dot" },
		{ "\xc0\xaf", 2, "overlong slash" },
		{ "\xe0\x80\xaf", 3, "3-byte overlong" },
		{ "\xf0\x80\x80\xaf", 4, "4-byte overlong" },
		{ "a\xed\xa0\x80", 4, "surrogate" },
		{ "a\xed\xbf\xbf", 4, "low surrogate" },
		{ "\xf4\x90\x80\x80", 4, "above U+10FFFF" },
		{ "\xf5\x80\x80\x80", 4, "lead byte F5" },
		{ "\xe6\x97", 2, "truncated sequence" },
		{ "\x80x", 2, "lone continuation" },
		{ "\xff", 1, "byte FF" },
		{ "caf\xe9", 4, "Latin-1" },
	};
	static const char *const good[] = {
		"\xc3\x9c" "berweisung.pdf",               /* Überweisung.pdf */
		"\xe6\x97\xa5\xe6\x9c\xac/\xe8\xaa\x9e.txt", /* 日本/語.txt */
		"my file (final).txt",
		" leading and trailing space ",
		"...",
		".hidden",
		"..foo",
		"foo..",
		"a/b/c/d.e",
		"emoji \xf0\x9f\x98\x80.png",
		"nbsp\xc2\xa0" "after C1",
		"max \xf4\x8f\xbf\xbf",
		"-rf",
		"~",
		"a:b*c?d|e<f>g\"h",
	};
	char big[XFS_PATH_MAX + 64];
	const char *why;
	size_t i, k;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int r;

		why = NULL;
		r = xfs_path_ok(bad[i].s, bad[i].len, &why);
		ok(!r && has_reason(why), "refused: %s (%s)", bad[i].what, why ? why : "no reason");
	}
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		int r;

		why = "unset";
		r = xfs_path_ok(good[i], strlen(good[i]), &why);
		ok(r && why == NULL, "accepted good name %zu: %s", i, good[i]);
	}
	/* the reasons say what is wrong */
	xfs_path_ok("/etc/passwd", 11, &why);
	is_str(why, "absolute path", "reason for an absolute path");
	xfs_path_ok("a/../x", 6, &why);
	is_str(why, "\".\" or \"..\" path component", "reason for ..");
	xfs_path_ok("a\0b", 3, &why);
	is_str(why, "NUL byte", "reason for NUL");
	xfs_path_ok("a\nb", 3, &why);
	is_str(why, "control character", "reason for a newline");
	xfs_path_ok("..\\x", 4, &why);
	is_str(why, "backslash", "reason for a backslash");
	xfs_path_ok("\xc0\xae", 2, &why);
	is_str(why, "invalid UTF-8", "reason for an overlong form");
	ok(xfs_path_ok("ab", 1, NULL), "length, not NUL, ends the name; why may be NULL");
	ok(!xfs_path_ok(NULL, 0, NULL), "NULL refused");

	/* component length: 255 bytes pass, 256 do not */
	memset(big, 'n', 256);
	ok(xfs_path_ok(big, 255, NULL), "255-byte component accepted");
	ok(!xfs_path_ok(big, 256, &why), "256-byte component refused");
	is_str(why, "path component too long", "reason for a long component");
	big[0] = 'd';
	big[1] = '/';
	ok(!xfs_path_ok(big, 2 + 256, NULL), "256-byte second component refused");

	/* 17 components of 240 bytes and 16 slashes: exactly 4096 bytes */
	for (i = 0, k = 0; i < 17; i++) {
		memset(big + k, 'p', 240);
		k += 240;
		if (i < 16)
			big[k++] = '/';
	}
	is_int(k, 4096, "built a 4096-byte path");
	ok(xfs_path_ok(big, 4096, &why), "4096-byte path accepted");
	memmove(big + 1, big, 4096);
	ok(!xfs_path_ok(big, 4097, &why), "4097-byte path refused");
	is_str(why, "name too long", "reason for a long path");

	/* depth: 64 components pass, 65 do not */
	for (i = 0, k = 0; i < 65; i++) {
		big[k++] = 'a';
		big[k++] = '/';
	}
	ok(xfs_path_ok(big, 64 * 2 - 1, NULL), "depth 64 accepted");
	ok(!xfs_path_ok(big, 65 * 2 - 1, &why), "depth 65 refused");
	is_str(why, "path too deep", "reason for depth");
}

/* Offer lists: entries are validated on add; the whole list on check. */
static void
test_list(void)
{
	struct xfs_list l;
	char err[256];

	memset(&l, 0, sizeof l);
	is_int(xfs_list_add(&l, "a", 1, XFS_DIR, 0, 5, 0755), 0, "add a directory");
	is_int(xfs_list_add(&l, "a/f", 3, XFS_FILE, 100, 6, 0100644), 0, "add a file");
	is_int(l.v[1].mode, 0644, "mode kept to permission bits");
	is_int(xfs_list_add(&l, "../x", 4, XFS_FILE, 1, 0, 0644), -1, "bad name refused on add");
	is_int(xfs_list_add(&l, "a\0b", 3, XFS_FILE, 1, 0, 0644), -1, "NUL refused on add");
	is_int(xfs_list_add(&l, "d", 1, XFS_DIR, 7, 0, 0755), -1, "directory with a size refused");
	is_int(xfs_list_add(&l, "t", 1, (enum xfs_type)7, 0, 0, 0644), -1, "bad type refused");
	is_int(xfs_list_add(&l, "big", 3, XFS_FILE, UINT64_MAX, 0, 0644), -1, "total overflow refused");
	is_int(l.n, 2, "refused entries not added");
	is_int(l.total, 100, "total is the sum of file sizes");
	is_int(xfs_list_check(&l, err, sizeof err), 0, "consistent list passes");
	is_int(xfs_list_add(&l, "a b", 3, XFS_FILE, 1, 0, 0644), 0, "add a sibling that sorts between");
	is_int(xfs_list_add(&l, "a!", 2, XFS_FILE, 1, 0, 0644), 0, "add another");
	is_int(xfs_list_check(&l, err, sizeof err), 0, "still consistent");
	is_int(xfs_list_add(&l, "a", 1, XFS_FILE, 1, 0, 0644), 0, "add a file with the directory's name");
	is_int(xfs_list_check(&l, err, sizeof err), -1, "name listed twice refused");
	ok(strstr(err, "twice") != NULL, "message says twice: %s", err);
	xfs_list_free(&l);
	is_int(l.n, 0, "free empties the list");

	/* a file with entries below it, even with siblings sorting between */
	xfs_list_add(&l, "x", 1, XFS_FILE, 1, 0, 0644);
	xfs_list_add(&l, "x y", 3, XFS_FILE, 1, 0, 0644);
	xfs_list_add(&l, "x!", 2, XFS_FILE, 1, 0, 0644);
	xfs_list_add(&l, "x/inner", 7, XFS_FILE, 1, 0, 0644);
	is_int(xfs_list_check(&l, err, sizeof err), -1, "entries below a file refused");
	ok(strstr(err, "is a file") != NULL, "message says so: %s", err);
	xfs_list_free(&l);
	is_int(xfs_list_check(&l, err, sizeof err), 0, "empty list passes");

	/* every name below the top level needs its directory listed before it */
	xfs_list_add(&l, "a", 1, XFS_DIR, 0, 0, 0755);
	xfs_list_add(&l, "a/b/c", 5, XFS_FILE, 1, 0, 0644);
	is_int(xfs_list_check(&l, err, sizeof err), -1, "a name whose directory is not listed refused");
	ok(strstr(err, "a/b/c") != NULL && strstr(err, "not in a directory") != NULL, "message names it: %s", err);
	xfs_list_free(&l);
	xfs_list_add(&l, "a/b", 3, XFS_FILE, 1, 0, 0644);
	xfs_list_add(&l, "a", 1, XFS_DIR, 0, 0, 0755);
	is_int(xfs_list_check(&l, err, sizeof err), -1, "a name before its directory refused");
	ok(strstr(err, "comes before its directory") != NULL, "message says so: %s", err);
	xfs_list_free(&l);
	xfs_list_add(&l, "x", 1, XFS_FILE, 1, 0, 0644);
	xfs_list_add(&l, "x/a/b", 5, XFS_FILE, 1, 0, 0644);
	is_int(xfs_list_check(&l, err, sizeof err), -1, "a name deep below a file refused");
	xfs_list_free(&l);
	/* a sibling sorting between a directory and its contents does not hide them */
	xfs_list_add(&l, "d", 1, XFS_DIR, 0, 0, 0755);
	xfs_list_add(&l, "d e", 3, XFS_DIR, 0, 0, 0755);
	xfs_list_add(&l, "d e/f", 5, XFS_FILE, 1, 0, 0644);
	xfs_list_add(&l, "d/g", 3, XFS_DIR, 0, 0, 0755);
	xfs_list_add(&l, "d/g/h", 5, XFS_FILE, 1, 0, 0644);
	xfs_list_add(&l, "d!", 2, XFS_FILE, 1, 0, 0644);
	is_int(xfs_list_check(&l, err, sizeof err), 0, "nested directories and look-alike siblings pass");
	xfs_list_free(&l);
}

/* Big lists are checked in time linear in their names, not O(n^2) or O(n log n * length). */
static void
test_list_big(void)
{
	struct xfs_list l;
	char err[256], name[32];
	struct timespec t0, t1;
	double ms;
	int k, n;

	memset(&l, 0, sizeof l);
	xfs_list_add(&l, "top", 3, XFS_DIR, 0, 0, 0755);
	for (k = 1; k < XFS_ENTRIES_MAX; k++) {
		n = snprintf(name, sizeof name, "top/d%06d", k);
		if (xfs_list_add(&l, name, (size_t)n, XFS_DIR, 0, 0, 0755) != 0)
			break;
	}
	is_int(l.n, XFS_ENTRIES_MAX, "100,000 entries added");
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	is_int(xfs_list_check(&l, err, sizeof err), 0, "100,000 sibling directories pass");
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1000 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("# checking 100,000 sibling directories took %.1f ms of CPU\n", ms);
	ok(ms < 1000, "checked in under a second (%.1f ms)", ms);
	xfs_list_free(&l);

	/* 4,000 names of 4 KiB below one chain of directories: 16 MB sharing prefixes */
	{
		char *big = malloc(XFS_PATH_MAX + 1);
		size_t len = 0;
		int d;

		for (d = 0; d < 19 && big != NULL; d++) {
			if (d > 0)
				big[len++] = '/';
			memset(big + len, 'a' + d, 200);
			len += 200;
			xfs_list_add(&l, big, len, XFS_DIR, 0, 0, 0755);
		}
		for (k = 0; k < 4000 && big != NULL; k++) {
			n = snprintf(big + len, 16, "/f%06d", k);
			xfs_list_add(&l, big, len + (size_t)n, XFS_FILE, 0, 0, 0644);
		}
		free(big);
	}
	is_int(l.n, 19 + 4000, "4,019 long names added");
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	is_int(xfs_list_check(&l, err, sizeof err), 0, "names of 4 KiB sharing their directories pass");
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1000 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("# checking 4,019 names of 4 KiB took %.1f ms of CPU\n", ms);
	ok(ms < 100, "checked in under 100 ms (%.1f ms)", ms);
	xfs_list_free(&l);
}

/* The names commit falls back to. */
static void
test_conflict_names(void)
{
	char out[XFS_NAME_MAX + 1], name[XFS_NAME_MAX + 1], small[8];
	size_t i;

	xfs_conflict_name("a.txt", 0, 1, out, sizeof out);
	is_str(out, "a (1).txt", "extension kept");
	xfs_conflict_name("archive.tar.gz", 0, 2, out, sizeof out);
	is_str(out, "archive.tar (2).gz", "last extension only");
	xfs_conflict_name("noext", 0, 1, out, sizeof out);
	is_str(out, "noext (1)", "no extension");
	xfs_conflict_name(".hidden", 0, 3, out, sizeof out);
	is_str(out, ".hidden (3)", "leading dot is not an extension");
	xfs_conflict_name("trailing.", 0, 1, out, sizeof out);
	is_str(out, "trailing. (1)", "trailing dot is not an extension");
	xfs_conflict_name("my.dir", 1, 1, out, sizeof out);
	is_str(out, "my.dir (1)", "directories get no extension split");
	xfs_conflict_name("a.txt", 0, 9999, out, sizeof out);
	is_str(out, "a (9999).txt", "four digits");
	is_int(xfs_conflict_name("a.txt", 0, 1, small, sizeof small), -1, "too small an output refused");

	/* a full-length "stem (98).txt" must not come out as itself (fuzz_names found it) */
	memset(name, 'a', XFS_NAME_MAX - 9);
	memcpy(name + XFS_NAME_MAX - 9, " (98).txt", 10);
	xfs_conflict_name(name, 0, 98, out, sizeof out);
	ok(strcmp(out, name) != 0 && strlen(out) <= XFS_NAME_MAX, "a full-length name that ends in its own suffix gets another name");

	/* 127 two-byte characters and an 'x': 255 bytes; shortening keeps UTF-8 whole */
	for (i = 0; i < 127; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	strcpy(name + 254, "x");
	is_int(xfs_conflict_name(name, 0, 9999, out, sizeof out), 0, "long name shortened");
	ok(strlen(out) <= XFS_NAME_MAX && xfs_path_ok(out, strlen(out), NULL),
	    "shortened name valid, %zu bytes", strlen(out));
	ok(strstr(out, " (9999)") != NULL, "suffix kept: ...%s", out + strlen(out) - 8);
	memset(name, 'e', 255);
	name[0] = 'n';
	name[1] = '.';
	is_int(xfs_conflict_name(name, 0, 1, out, sizeof out), 0, "huge extension handled");
	ok(strlen(out) <= XFS_NAME_MAX && xfs_path_ok(out, strlen(out), NULL), "still a valid name");
}

/* The sender's walk over a prepared tree. */
static void
test_walk(void)
{
	struct xfs_list l;
	struct timespec ts[2];
	char err[512], *real, want[PATH_MAX + 64];
	static const char *const order[] = {
		"top", "top/.hidden", "top/a", "top/a/c", "top/a/x.bin", "top/b.txt", "top/empty",
		"top/\xc3\x84rger.txt",
	};
	static const char big[1000] = { 1 };
	size_t i, n0;
	int fd, dfd;

	mkdir(path("src"), 0755);
	mkdir(path("src/top"), 0755);
	mkdir(path("src/top/a"), 0755);
	mkdir(path("src/top/a/c"), 0755);
	mkdir(path("src/top/empty"), 0755);
	put(path("src/top/b.txt"), "bee");
	put(path("src/top/.hidden"), "h");
	put(path("src/top/\xc3\x84rger.txt"), "umlaut");
	fd = open(path("src/top/a/x.bin"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ok(fd >= 0 && write(fd, big, sizeof big) == (ssize_t)sizeof big, "wrote x.bin");
	close(fd);
	chmod(path("src/top/b.txt"), 0640);
	symlink(outside, path("src/top/z link"));
	symlink("b.txt", path("src/top/flink"));
	mkfifo(path("src/top/fifo"), 0644);
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = 1600000000;
	ts[1].tv_nsec = 123456789;
	utimensat(AT_FDCWD, path("src/top/b.txt"), ts, 0);
	ts[1].tv_sec = 1500000001;
	ts[1].tv_nsec = 5;
	utimensat(AT_FDCWD, path("src/top/a"), ts, 0);

	memset(&l, 0, sizeof l);
	is_int(xfs_walk(&l, path("src/top"), err, sizeof err), 0, "walk the tree");
	is_int(l.n, 8, "8 entries (symlinks and fifo left out)");
	is_int(l.skipped, 3, "two symlinks and a fifo skipped");
	for (i = 0; i < l.n && i < 8; i++)
		is_str(l.v[i].rel, order[i], "entry %zu in sorted, parents-first order", i);
	is_int(l.v[0].type, XFS_DIR, "top is a directory");
	is_int(l.v[3].type, XFS_DIR, "empty nested dir kept");
	is_int(l.v[6].type, XFS_DIR, "empty dir kept");
	is_int(l.v[4].type, XFS_FILE, "x.bin is a file");
	is_int(l.v[4].size, 1000, "x.bin size");
	is_int(l.v[5].size, 3, "b.txt size");
	is_int(l.v[5].mtime_ns, 1600000000123456789LL, "b.txt mtime to the ns");
	is_int(l.v[2].mtime_ns, 1500000001000000005LL, "directory mtime to the ns");
	is_int(l.v[5].mode, 0640, "b.txt mode");
	is_int(l.v[0].size, 0, "directories have size 0");
	is_int(l.total, 1000 + 3 + 1 + 6, "total");
	real = realpath(path("src/top"), NULL);
	snprintf(want, sizeof want, "%s/a/x.bin", real);
	is_str(l.v[4].src, want, "absolute source path");
	is_str(l.v[0].src, real, "top's source path");
	free(real);

	/* a top-level symlink is followed and keeps its own name */
	symlink(path("src/top"), path("src/toplink"));
	n0 = l.n;
	is_int(xfs_walk(&l, path("src/toplink"), err, sizeof err), 0, "walk through a top-level symlink");
	is_int(l.n - n0, 8, "same tree again");
	is_str(l.v[n0].rel, "toplink", "named after the link");
	is_str(l.v[n0 + 4].rel, "toplink/a/x.bin", "children under the link's name");
	ok(strstr(l.v[n0 + 4].src, "/src/top/a/x.bin") != NULL, "source is the real path");
	is_int(l.skipped, 6, "skipped counts add up");
	xfs_list_free(&l);

	/* single files, trailing slashes and dot-dot */
	is_int(xfs_walk(&l, path("src/top/b.txt"), err, sizeof err), 0, "walk one file");
	is_int(l.n, 1, "one entry");
	is_str(l.v[0].rel, "b.txt", "named by its base name");
	is_int(xfs_walk(&l, path("src/top/a/"), err, sizeof err), 0, "trailing slash");
	is_str(l.v[1].rel, "a", "trailing slash dropped");
	is_int(xfs_walk(&l, path("src/top/a/c/.."), err, sizeof err), 0, "dot-dot last");
	is_str(l.v[4].rel, "a", "named after the real directory");
	xfs_list_free(&l);

	/* failures leave the list as it was */
	xfs_walk(&l, path("src/top/b.txt"), err, sizeof err);
	is_int(xfs_walk(&l, path("src/nope"), err, sizeof err), -1, "missing path fails");
	ok(strstr(err, "No such file") != NULL, "message: %s", err);
	is_int(xfs_walk(&l, path("src/top/fifo"), err, sizeof err), -1, "top-level fifo refused");
	ok(strstr(err, "not a regular file") != NULL, "message: %s", err);
	is_int(xfs_walk(&l, "/", err, sizeof err), -1, "root directory refused");
	mkdir(path("src/nl"), 0755);
	mkdir(path("src/nl/sub"), 0755);
	put(path("src/nl/sub/bad\nname\x1b[31m"), "x");
	put(path("src/nl/good"), "x");
	is_int(xfs_walk(&l, path("src/nl"), err, sizeof err), -1, "newline in a name fails the walk");
	ok(strstr(err, "bad?name?[31m") != NULL && strchr(err, '\n') == NULL &&
	    strchr(err, '\x1b') == NULL, "message names it, sanitised: %s", err);
	is_int(l.n, 1, "list rolled back");
	is_int(l.total, 3, "total rolled back");
	put(path("src/bad\x7fname"), "x");
	is_int(xfs_walk(&l, path("src/bad\x7fname"), err, sizeof err), -1, "bad top-level name fails");
	ok(strchr(err, '\x7f') == NULL, "message sanitised: %s", err);
	xfs_list_free(&l);

	/* too deep: 70 nested directories */
	mkdir(path("src/deep"), 0755);
	dfd = open(path("src/deep"), O_RDONLY | O_DIRECTORY);
	for (i = 0; i < 70; i++) {
		mkdirat(dfd, "d", 0755);
		fd = openat(dfd, "d", O_RDONLY | O_DIRECTORY);
		close(dfd);
		dfd = fd;
	}
	close(dfd);
	is_int(xfs_walk(&l, path("src/deep"), err, sizeof err), -1, "70 levels refused");
	ok(strstr(err, "too deep") != NULL, "message: %s", err);
	is_int(l.n, 0, "nothing kept");
	xfs_list_free(&l);
}

/* Staging: create, write, resume, finish. */
static void
test_stage_files(void)
{
	struct xfs_stage *st, *st2;
	char err[512], *real;
	struct stat sb;
	uint64_t sz;
	int fd;

	st = xfs_stage_open(path("dl/deeper/target"), "ab12", 1, err, sizeof err);
	ok(st != NULL, "staging opened (%s)", st ? "ok" : err);
	if (st == NULL)
		exit(1);
	ok(stat(path("dl/deeper"), &sb) == 0 && (sb.st_mode & 0777) == 0700, "missing parents made 0700");
	ok(stat(path("dl/deeper/target/.confab-ab12.partial"), &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    (sb.st_mode & 0777) == 0700, "staging dir is a 0700 directory");
	real = realpath(path("dl/deeper/target"), NULL);
	is_str(xfs_stage_target(st), real, "target is absolute");
	free(real);

	ok(xfs_stage_open(path("dl"), "../x", 1, err, sizeof err) == NULL, "tag with a slash refused");
	ok(xfs_stage_open(path("dl"), "", 1, err, sizeof err) == NULL, "empty tag refused");
	ok(xfs_stage_open(path("dl"), "zz", 1, err, sizeof err) == NULL, "non-hex tag refused");
	ok(xfs_stage_open(path("dl/deeper/target"), "ffff", 0, err, sizeof err) == NULL,
	    "open without create of a missing staging dir fails");
	ok(!exists(path("dl/deeper/target/.confab-ffff.partial")), "and creates nothing");

	is_int(xfs_stage_mkdir(st, "d1/d2/d3", err, sizeof err), 0, "nested mkdir");
	ok(stat(path("dl/deeper/target/.confab-ab12.partial/d1/d2/d3"), &sb) == 0 && S_ISDIR(sb.st_mode),
	    "nested dirs exist");
	is_int(xfs_stage_mkdir(st, "d1/d2", err, sizeof err), 0, "mkdir of an existing dir is fine");

	fd = xfs_stage_open_file(st, "d1/new/f.bin", 0, err, sizeof err);
	ok(fd >= 0, "file opened with a missing parent (%s)", fd < 0 ? err : "ok");
	is_int(pwrite(fd, "hello world", 11, 0), 11, "pwrite");
	close(fd);
	is_int(xfs_stage_file_size(st, "d1/new/f.bin", &sz), 0, "size of the partial file");
	is_int(sz, 11, "11 bytes");
	fd = xfs_stage_open_file(st, "d1/new/f.bin", 5, err, sizeof err);
	ok(fd >= 0, "reopened at offset 5");
	ok(fstat(fd, &sb) == 0 && sb.st_size == 5, "truncated to the offset");
	is_int(pwrite(fd, ", there", 7, 5), 7, "resume writing");
	{
		char b[32] = "";
		is_int(pread(fd, b, sizeof b - 1, 0), 12, "the fd reads back the prefix");
		is_str(b, "hello, there", "content");
	}
	is_int(xfs_stage_finish_file(fd, 1234567890123456789LL, 04754, err, sizeof err), 0, "finish");
	ok(stat(path("dl/deeper/target/.confab-ab12.partial/d1/new/f.bin"), &sb) == 0, "stat it");
	is_int(sb.st_mtim.tv_sec, 1234567890, "mtime seconds");
	is_int(sb.st_mtim.tv_nsec, 123456789, "mtime nanoseconds");
	is_int(sb.st_mode & 07777, 0754, "mode applied, setuid dropped");
	is_int(xfs_stage_finish_file(-1, 0, 0644, err, sizeof err), -1, "finishing no fd fails");
	is_int(xfs_stage_sync_file(st, "d1/new/f.bin", err, sizeof err), 0, "a finished file flushes");
	is_int(xfs_stage_sync_file(st, "d1/new/nothere", err, sizeof err), -1, "a missing file does not");
	is_int(xfs_stage_sync_file(st, "d1/new", err, sizeof err), -1, "nor a directory");
	ok(strstr(err, "not a plain file") != NULL, "message: %s", err);
	is_int(xfs_stage_sync_file(st, "../x", err, sizeof err), -1, "nor a bad name");
	ok(symlink(outside, path("dl/deeper/target/.confab-ab12.partial/d1/new/ln")) == 0,
	    "plant a symlink in the staging dir");
	is_int(xfs_stage_sync_file(st, "d1/new/ln", err, sizeof err), -1, "a symlink is not followed");
	unlink(path("dl/deeper/target/.confab-ab12.partial/d1/new/ln"));

	/* the reused parent directory: names sharing a prefix go where they belong */
	{
		static const char *const names[] = { "d1/new/a", "d1/new2/b", "d1/c", "d1/new/d",
		                                     "d1/ne/e", "top", "d1/new/f" };
		char want[64], got[64];
		size_t k;
		int good = 1;

		for (k = 0; k < sizeof names / sizeof names[0]; k++) {
			fd = xfs_stage_open_file(st, names[k], 0, err, sizeof err);
			if (fd < 0 || pwrite(fd, names[k], strlen(names[k]), 0) != (ssize_t)strlen(names[k]))
				good = 0;
			if (fd >= 0)
				close(fd);
		}
		for (k = 0; k < sizeof names / sizeof names[0]; k++) {
			snprintf(want, sizeof want, "%s", names[k]);
			memset(got, 0, sizeof got);
			fd = open(path("dl/deeper/target/.confab-ab12.partial/%s", names[k]), O_RDONLY);
			if (fd < 0 || read(fd, got, sizeof got - 1) < 0 || strcmp(got, want) != 0)
				good = 0;
			if (fd >= 0)
				close(fd);
		}
		ok(good, "files in alternating directories land under their own names");
		for (k = 0; k < sizeof names / sizeof names[0]; k++)
			unlink(path("dl/deeper/target/.confab-ab12.partial/%s", names[k]));
		rmdir(path("dl/deeper/target/.confab-ab12.partial/d1/new2"));
		rmdir(path("dl/deeper/target/.confab-ab12.partial/d1/ne"));
	}

	fd = xfs_stage_open_file(st, "old.txt", 0, err, sizeof err);
	is_int(xfs_stage_finish_file(fd, -1500000000000000001LL, 06777, err, sizeof err), 0,
	    "finish with a time before 1970");
	ok(stat(path("dl/deeper/target/.confab-ab12.partial/old.txt"), &sb) == 0, "stat it");
	is_int(sb.st_mtim.tv_sec, -1500000001, "negative seconds");
	is_int(sb.st_mtim.tv_nsec, 999999999, "nanoseconds normalised");
	is_int(sb.st_mode & 07777, 0755, "umask 022 applied, setgid and sticky dropped");

	fd = xfs_stage_open_file(st, "d1/new/f.bin", 13, err, sizeof err);
	is_int(fd, -1, "offset beyond the partial data refused");
	is_int(errno, ERANGE, "with ERANGE");
	ok(strstr(err, "fewer than the offset") != NULL, "message: %s", err);
	is_int(xfs_stage_file_size(st, "d1/nothere", &sz), 1, "absent file: 1");
	is_int(xfs_stage_file_size(st, "zz/nothere", &sz), 1, "absent parent: 1");
	is_int(xfs_stage_file_size(st, "d1", &sz), -1, "a directory: -1");
	is_int(xfs_stage_file_size(st, "../x", &sz), -1, "a bad name: -1");
	is_int(xfs_stage_open_file(st, "d1/d2", 0, err, sizeof err), -1, "file over a directory refused");
	is_int(xfs_stage_mkdir(st, "d1/new/f.bin/x", err, sizeof err), -1, "mkdir through a file refused");
	is_int(xfs_stage_open_file(st, "d1/new/f.bin/x", 0, err, sizeof err), -1,
	    "file through a file refused");
	is_int(xfs_stage_open_file(st, "../escape", 0, err, sizeof err), -1, "../ refused");
	is_int(xfs_stage_open_file(st, "/tmp/abs", 0, err, sizeof err), -1, "absolute refused");
	is_int(xfs_stage_mkdir(st, "a//b", err, sizeof err), -1, "empty component refused");
	ok(!exists(path("dl/deeper/escape")) && !exists(path("dl/deeper/target/escape")),
	    "nothing escaped");

	is_int(xfs_stage_finish_dir(st, "d1/d2", 1400000000000000007LL, 0500, err, sizeof err), 0,
	    "finish a directory");
	ok(stat(path("dl/deeper/target/.confab-ab12.partial/d1/d2"), &sb) == 0, "stat it");
	is_int(sb.st_mtim.tv_nsec, 7, "dir mtime");
	is_int(sb.st_mode & 07777, 0700, "dir mode keeps owner rwx");

	/* the staging dir survives close and is found again */
	xfs_stage_close(st);
	st2 = xfs_stage_open(path("dl/deeper/target"), "AB12", 0, err, sizeof err);
	ok(st2 == NULL, "tags are case-sensitive names (AB12 is another transfer)");
	st2 = xfs_stage_open(path("dl/deeper/target"), "ab12", 0, err, sizeof err);
	ok(st2 != NULL, "reopened for resume");
	is_int(xfs_stage_file_size(st2, "d1/new/f.bin", &sz), 0, "partial file found");
	is_int(sz, 12, "with its size");
	is_int(xfs_stage_remove(st2), 0, "remove");
	ok(!exists(path("dl/deeper/target/.confab-ab12.partial")), "staging dir gone");
	ok(exists(path("dl/deeper/target")), "target stays");
	xfs_stage_close(st2);
}

/* Symlinks, hard links and fifos planted in the staging tree are refused. */
static void
test_stage_attacks(void)
{
	static char before[1 << 16], after[1 << 16];
	struct xfs_stage *st;
	char err[512], sdir[PATH_MAX + 64];
	struct stat sb;
	int fd;

	outside_sig(before, sizeof before);
	st = xfs_stage_open(path("atk"), "c0ffee", 1, err, sizeof err);
	ok(st != NULL, "staging opened");
	if (st == NULL)
		exit(1);
	snprintf(sdir, sizeof sdir, "%s", path("atk/.confab-c0ffee.partial"));

	ok(symlink(outside, path("atk/.confab-c0ffee.partial/sub")) == 0, "planted sub -> outside");
	is_int(xfs_stage_mkdir(st, "sub/x", err, sizeof err), -1, "mkdir through symlink refused");
	ok(strstr(err, "symlink") != NULL, "message: %s", err);
	is_int(xfs_stage_mkdir(st, "sub", err, sizeof err), -1, "mkdir onto a symlink refused");
	is_int(xfs_stage_open_file(st, "sub/y", 0, err, sizeof err), -1, "file through symlink refused");
	is_int(xfs_stage_finish_dir(st, "sub", 0, 0777, err, sizeof err), -1, "finish_dir on symlink refused");

	ok(symlink(path("outside/victim"), path("atk/.confab-c0ffee.partial/f")) == 0,
	    "planted f -> outside/victim");
	is_int(xfs_stage_open_file(st, "f", 0, err, sizeof err), -1, "open onto symlink refused");
	ok(strstr(err, "symlink") != NULL, "message: %s", err);
	ok(symlink(path("outside/newfile"), path("atk/.confab-c0ffee.partial/g")) == 0,
	    "planted dangling g -> outside/newfile");
	is_int(xfs_stage_open_file(st, "g", 0, err, sizeof err), -1, "open onto dangling symlink refused");

	mkdir(path("atk/.confab-c0ffee.partial/d"), 0755);
	symlink(outside, path("atk/.confab-c0ffee.partial/d/lnk"));
	is_int(xfs_stage_mkdir(st, "d/lnk/z", err, sizeof err), -1, "deeper symlink component refused");
	is_int(xfs_stage_open_file(st, "d/lnk/z/w", 0, err, sizeof err), -1, "and for files");

	ok(link(path("outside/victim"), path("atk/.confab-c0ffee.partial/hl")) == 0,
	    "planted a hard link to outside/victim");
	is_int(xfs_stage_open_file(st, "hl", 0, err, sizeof err), -1, "hard-linked file refused");
	is_str(get(path("outside/victim")), "precious", "victim not truncated");

	ok(mkfifo(path("atk/.confab-c0ffee.partial/pipe"), 0600) == 0, "planted a fifo");
	is_int(xfs_stage_open_file(st, "pipe", 0, err, sizeof err), -1, "fifo refused without blocking");

	/* remove deletes the links themselves, never what they point at */
	is_int(xfs_stage_remove(st), 0, "remove the attacked staging dir");
	ok(!exists(sdir), "staging dir gone");
	xfs_stage_close(st);
	ok(strcmp(outside_sig(after, sizeof after), before) == 0, "outside unchanged");
	ok(exists(path("outside/victim")) && !exists(path("outside/newfile")), "victim there, no new file");

	/* the staging dir itself planted as a symlink, a file, or open to others */
	mkdir(path("atk2"), 0755);
	symlink(outside, path("atk2/.confab-beef.partial"));
	ok(xfs_stage_open(path("atk2"), "beef", 1, err, sizeof err) == NULL, "symlinked staging dir refused");
	ok(strstr(err, "symlink") != NULL, "message: %s", err);
	ok(xfs_stage_open(path("atk2"), "beef", 0, err, sizeof err) == NULL, "also without create");
	put(path("atk2/.confab-f00d.partial"), "x");
	ok(xfs_stage_open(path("atk2"), "f00d", 1, err, sizeof err) == NULL, "file as staging dir refused");
	mkdir(path("atk2/.confab-0a0a.partial"), 0700);
	chmod(path("atk2/.confab-0a0a.partial"), 0777);
	ok(xfs_stage_open(path("atk2"), "0a0a", 0, err, sizeof err) == NULL,
	    "world-writable staging dir refused");
	ok(strstr(err, "private") != NULL, "message: %s", err);
	ok(strcmp(outside_sig(after, sizeof after), before) == 0, "outside still unchanged");
	ok(lstat(path("atk2/.confab-beef.partial"), &sb) == 0 && S_ISLNK(sb.st_mode), "planted link left alone");

	/* a target dir that is a symlink is the user's choice and is followed */
	symlink(path("atk2"), path("atklink"));
	st = xfs_stage_open(path("atklink"), "1234", 1, err, sizeof err);
	ok(st != NULL, "symlinked target followed");
	fd = st ? xfs_stage_open_file(st, "x", 0, err, sizeof err) : -1;
	ok(fd >= 0 && exists(path("atk2/.confab-1234.partial/x")), "file lands in the real dir");
	if (fd >= 0)
		close(fd);
	if (st != NULL) {
		xfs_stage_remove(st);
		xfs_stage_close(st);
	}
}

/* Commit: moves into place, never replaces, never follows a planted name. */
static void
test_commit(void)
{
	static char before[1 << 16], after[1 << 16];
	static const char *const tops[] = {
		"a.txt", "dir", "noext", "link.txt", "dang", "fresh.md", "emptydir", "missing",
	};
	static const char *const want[] = {
		"a (1).txt", "dir (1)", "noext (1)", "link (1).txt", "dang (1)", "fresh.md", "emptydir", NULL,
	};
	struct xfs_stage *st;
	char err[512], *final[8], *f1[2];
	size_t i;
	int fd;

	mkdir(path("tgt"), 0755);
	put(path("tgt/a.txt"), "old");
	mkdir(path("tgt/dir"), 0755);
	put(path("tgt/dir/keep"), "keep");
	put(path("tgt/noext"), "old noext");
	symlink(path("outside/victim"), path("tgt/link.txt"));
	symlink(path("outside/dangling"), path("tgt/dang"));
	outside_sig(before, sizeof before);

	st = xfs_stage_open(path("tgt"), "1", 1, err, sizeof err);
	ok(st != NULL, "staging opened");
	if (st == NULL)
		exit(1);
	for (i = 0; i < 6; i++) {
		char rel[64];

		if (i == 1) {
			xfs_stage_mkdir(st, "dir/sub", err, sizeof err);
			strcpy(rel, "dir/sub/inner.txt");
		} else {
			snprintf(rel, sizeof rel, "%s", tops[i]);
		}
		fd = xfs_stage_open_file(st, rel, 0, err, sizeof err);
		ok(fd >= 0 && pwrite(fd, "new", 3, 0) == 3, "staged %s", rel);
		is_int(xfs_stage_finish_file(fd, 1000000000LL * (int64_t)(i + 1), 0644, err, sizeof err), 0,
		    "finished %s", rel);
	}
	xfs_stage_mkdir(st, "emptydir", err, sizeof err);
	is_int(xfs_stage_commit(st, tops, 8, final, err, sizeof err), 0, "commit (%s)", err);
	for (i = 0; i < 8; i++) {
		if (want[i] == NULL)
			ok(final[i] == NULL, "absent entry gets NULL");
		else
			is_str(final[i], want[i], "final name of %s", tops[i]);
		free(final[i]);
	}
	is_str(get(path("tgt/a.txt")), "old", "existing a.txt untouched");
	is_str(get(path("tgt/a (1).txt")), "new", "new a.txt beside it");
	is_str(get(path("tgt/dir/keep")), "keep", "existing dir untouched");
	ok(!exists(path("tgt/dir/sub")), "nothing merged into it");
	is_str(get(path("tgt/dir (1)/sub/inner.txt")), "new", "new dir beside it");
	is_str(get(path("tgt/noext")), "old noext", "existing noext untouched");
	ok(is_link(path("tgt/link.txt")), "planted link still a link");
	is_str(get(path("tgt/link (1).txt")), "new", "file landed beside the link");
	ok(is_link(path("tgt/dang")) && !exists(path("outside/dangling")), "dangling link not followed");
	ok(exists(path("tgt/emptydir")), "empty dir committed");
	ok(!exists(path("tgt/.confab-1.partial")), "staging dir removed");
	ok(strcmp(outside_sig(after, sizeof after), before) == 0, "outside unchanged");
	{
		struct stat sb;
		ok(stat(path("tgt/fresh.md"), &sb) == 0 && sb.st_mtim.tv_sec == 6, "mtime survives the move");
	}
	xfs_stage_close(st);

	/* a second transfer of the same name */
	st = xfs_stage_open(path("tgt"), "2", 1, err, sizeof err);
	fd = xfs_stage_open_file(st, "a.txt", 0, err, sizeof err);
	xfs_stage_finish_file(fd, 0, 0644, err, sizeof err);
	is_int(xfs_stage_commit(st, (const char *const[]){ "a.txt" }, 1, f1, err, sizeof err), 0,
	    "second commit");
	is_str(f1[0], "a (2).txt", "gets (2)");
	free(f1[0]);
	xfs_stage_close(st);

	/* refused top names; the rest still moves; the staging dir stays for what is left */
	st = xfs_stage_open(path("tgt"), "3", 1, err, sizeof err);
	fd = xfs_stage_open_file(st, "ok.txt", 0, err, sizeof err);
	xfs_stage_finish_file(fd, 0, 0644, err, sizeof err);
	symlink(outside, path("tgt/.confab-3.partial/sneaky"));
	is_int(xfs_stage_commit(st, (const char *const[]){ "../x", "sneaky", "ok.txt" }, 3, final, err,
	    sizeof err), -1, "commit with bad entries fails");
	ok(final[0] == NULL && final[1] == NULL, "bad entries not moved");
	is_str(final[2], "ok.txt", "good entry moved");
	free(final[2]);
	ok(!exists(path("tgt/sneaky")), "planted symlink not moved");
	ok(exists(path("tgt/.confab-3.partial")), "staging dir kept while not empty");
	is_int(xfs_stage_remove(st), 0, "remove after commit");
	ok(!exists(path("tgt/.confab-3.partial")), "now gone");
	xfs_stage_close(st);

	/* zero entries */
	st = xfs_stage_open(path("tgt"), "4", 1, err, sizeof err);
	is_int(xfs_stage_commit(st, NULL, 0, NULL, err, sizeof err), 0, "commit of nothing");
	ok(!exists(path("tgt/.confab-4.partial")), "staging dir removed");
	is_int(xfs_stage_remove(st), 0, "remove after that is harmless");
	xfs_stage_close(st);
	ok(strcmp(outside_sig(after, sizeof after), before) == 0, "outside unchanged at the end");
}

/* Free space, also for a download dir that does not exist yet. */
static void
test_free_space(void)
{
	uint64_t a = 0, b = 0, diff;
	struct statvfs sv;

	is_int(xfs_free_space(root, &a), 0, "free space of the scratch dir");
	ok(statvfs(root, &sv) == 0, "statvfs");
	ok(a > 0 && a <= (uint64_t)sv.f_blocks * sv.f_frsize, "within the file system size");
	is_int(xfs_free_space(path("not/made/yet"), &b), 0, "free space for a dir not made yet");
	diff = a > b ? a - b : b - a;
	ok(diff < ((uint64_t)256 << 20), "same file system (differ by %llu bytes)", (unsigned long long)diff);
	is_int(xfs_free_space("relative-not-there", &b), 0, "relative missing dir resolves to cwd");
}

/* Remove the scratch tree (no following of links). */
static void
rm_rf(const char *p)
{
	struct dirent **v;
	char q[PATH_MAX + 256];
	struct stat st;
	int n, i;

	if (lstat(p, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		chmod(p, 0700);
		if ((n = scandir(p, &v, NULL, NULL)) >= 0) {
			for (i = 0; i < n; i++) {
				if (strcmp(v[i]->d_name, ".") != 0 && strcmp(v[i]->d_name, "..") != 0) {
					snprintf(q, sizeof q, "%s/%s", p, v[i]->d_name);
					rm_rf(q);
				}
				free(v[i]);
			}
			free(v);
		}
		rmdir(p);
	} else {
		unlink(p);
	}
}

int
main(void)
{
	int rc;

	umask(022);
	snprintf(root, sizeof root, "%s/unit_xfs.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(outside, sizeof outside, "%s/outside", root);
	mkdir(outside, 0755);
	put(path("outside/victim"), "precious");

	test_names();
	test_list();
	test_list_big();
	test_conflict_names();
	test_walk();
	test_stage_files();
	test_stage_attacks();
	test_commit();
	test_free_space();
	rc = tap_done();
	rm_rf(root);
	return rc;
}
