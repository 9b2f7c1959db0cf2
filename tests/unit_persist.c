/* unit_persist.c - unit tests for app/persist.c: atomic writes and synced appends, failures included. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "persist.h"
#include "tap.h"

static char dir[64];

/* Entries in the test directory (temporary files included). */
static int
entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Open file descriptors of this process. */
static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n - 3;   /* ".", ".." and the one opendir holds */
}

/* The file's content (at most 255 bytes) as a string; "" if unreadable. */
static const char *
content(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f != NULL) {
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* The file's permission bits, -1 if missing. */
static int
mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* The file's size, -1 if missing. */
static long
size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* A writer that writes arg (a string). */
static int
write_str(FILE *f, void *arg)
{
	return fputs(arg, f) == EOF ? -1 : 0;
}

/* A writer that writes some, then gives up. */
static int
write_fail(FILE *f, void *arg)
{
	(void)arg;
	fputs("half", f);
	errno = EINVAL;
	return -1;
}

/* A writer of 256 KiB: more than a small file size limit allows. */
static int
write_big(FILE *f, void *arg)
{
	static char block[4096];
	int i;

	(void)arg;
	memset(block, 'x', sizeof block);
	for (i = 0; i < 64; i++)
		if (fwrite(block, 1, sizeof block, f) != sizeof block)
			return -1;
	return 0;
}

/* Set the soft file size limit (RLIM_INFINITY or as before: restore). */
static void
fsize_limit(rlim_t soft)
{
	static struct rlimit saved;
	static int have;
	struct rlimit rl;

	if (!have) {
		getrlimit(RLIMIT_FSIZE, &saved);
		have = 1;
	}
	rl = saved;
	rl.rlim_cur = soft == RLIM_INFINITY ? saved.rlim_cur : soft;
	setrlimit(RLIMIT_FSIZE, &rl);
}

int
main(void)
{
	char path[128], logp[128], err[256], longp[5000];
	int fds, rc;

	signal(SIGXFSZ, SIG_IGN);   /* past the size limit, write(2) fails with EFBIG */
	umask(0);                   /* the mode must come from fchmod, not the umask */
	snprintf(dir, sizeof dir, "/tmp/unit_persist.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof path, "%s/state", dir);
	snprintf(logp, sizeof logp, "%s/log", dir);
	fds = open_fds();

	/* a new file */
	is_int(persist_atomic_write(path, 0600, 0, write_str, "one\n", err, sizeof err), 0, "a new file is written");
	is_str(content(path), "one\n", "with its content");
	is_int(mode_of(path), 0600, "mode 0600 under umask 0");
	is_int(entries(), 1, "no temporary file left beside it");

	/* replacing one, whatever its mode was */
	chmod(path, 0644);
	is_int(persist_atomic_write_buf(path, 0600, 0, "two\n", 4, err, sizeof err), 0, "an existing file is replaced");
	is_str(content(path), "two\n", "with the new content");
	is_int(mode_of(path), 0600, "and mode 0600 again (it was 0644)");

	/* a writer that fails */
	err[0] = '\0';
	is_int(persist_atomic_write(path, 0600, 0, write_fail, NULL, err, sizeof err), -1, "a failing writer fails the write");
	is_str(content(path), "two\n", "the old content is untouched");
	is_int(entries(), 1, "no temporary file left");
	ok(strstr(err, dir) != NULL, "the error names the file (%s)", err);

	/* a full disk: the file size limit */
	fsize_limit(8192);
	err[0] = '\0';
	rc = persist_atomic_write(path, 0600, 0, write_big, NULL, err, sizeof err);
	fsize_limit(RLIM_INFINITY);
	is_int(rc, -1, "a write past the file size limit fails");
	ok(strstr(err, strerror(EFBIG)) != NULL, "with the reason (%s)", err);
	is_str(content(path), "two\n", "the old content is untouched");
	is_int(entries(), 1, "no temporary file left");
	is_int(open_fds(), fds, "no file descriptor leaked by the failed writes");

	/* never replacing */
	is_int(persist_atomic_write_buf(path, 0600, PERSIST_EXCL, "three\n", 6, err, sizeof err), 1,
	    "PERSIST_EXCL keeps an existing file (returns 1)");
	is_str(content(path), "two\n", "its content untouched");
	is_int(entries(), 1, "no temporary file left");
	unlink(path);
	is_int(persist_atomic_write_buf(path, 0600, PERSIST_EXCL, "three\n", 6, err, sizeof err), 0,
	    "PERSIST_EXCL creates a missing file");
	is_str(content(path), "three\n", "with its content");
	is_int(entries(), 1, "no temporary file left");

	/* impossible paths */
	snprintf(longp, sizeof longp, "%s/no/such/dir/state", dir);
	is_int(persist_atomic_write_buf(longp, 0600, 0, "x", 1, err, sizeof err), -1, "a missing directory fails");
	memset(longp, 'a', sizeof longp - 1);
	longp[0] = '/';
	longp[sizeof longp - 1] = '\0';
	is_int(persist_atomic_write_buf(longp, 0600, 0, "x", 1, err, sizeof err), -1, "a path too long fails");

	/* appends */
	is_int(persist_append_sync(logp, 0600, "a1\n", 3, err, sizeof err), 0, "append creates the file");
	is_int(mode_of(logp), 0600, "mode 0600 under umask 0");
	is_int(persist_append_sync(logp, 0600, "b22\n", 4, err, sizeof err), 0, "a second append");
	is_str(content(logp), "a1\nb22\n", "both records, in order");
	fsize_limit(10);
	err[0] = '\0';
	rc = persist_append_sync(logp, 0600, "c333333\n", 8, err, sizeof err);
	fsize_limit(RLIM_INFINITY);
	is_int(rc, -1, "an append past the file size limit fails");
	ok(strstr(err, strerror(EFBIG)) != NULL, "with the reason (%s)", err);
	is_int(size_of(logp), 7, "the part that fitted is cut off again: whole records only");
	is_str(content(logp), "a1\nb22\n", "the earlier records are intact");
	fsize_limit(12);
	rc = persist_append(logp, 0600, "d4444444\n", 9, err, sizeof err);
	fsize_limit(RLIM_INFINITY);
	is_int(rc, -1, "an unsynced append past the limit fails too");
	is_int(size_of(logp), 7, "and is cut off as well");
	is_int(persist_append(logp, 0600, "e5\n", 3, err, sizeof err), 0, "an unsynced append that fits");
	is_str(content(logp), "a1\nb22\ne5\n", "lands after the others");
	snprintf(longp, sizeof longp, "%s/no/such/log", dir);
	is_int(persist_append_sync(longp, 0600, "x", 1, err, sizeof err), -1, "append in a missing directory fails");
	is_int(open_fds(), fds, "no file descriptor leaked");

	unlink(path);
	unlink(logp);
	rmdir(dir);
	return tap_done();
}
