/* persist.c - atomic whole-file writes and synced appends. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "persist.h"

/* fsync the directory that holds path. */
int
persist_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd, rc, e;

	if (slash == NULL) {
		snprintf(dir, sizeof dir, ".");
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof dir) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	e = errno;
	if (rc == -1 && (e == EINVAL || e == EROFS))
		rc = 0;   /* a file system that cannot sync directories */
	close(fd);
	errno = e;
	return rc;
}

/* Replace path atomically with what writer writes. */
int
persist_atomic_write(const char *path, mode_t mode, int flags,
    persist_writer_fn *writer, void *arg, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	FILE *f = NULL;
	int fd = -1, rc = -1, have_tmp = 0, linked;
	const char *what = path;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= sizeof tmp) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	what = tmp;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		goto fail;
	have_tmp = 1;
	if (fchmod(fd, mode) == -1 || (f = fdopen(fd, "w")) == NULL)
		goto fail;
	fd = -1;   /* f owns it */
	errno = 0;
	if (writer(f, arg) == -1 || ferror(f)) {
		if (errno == 0)
			errno = EIO;
		goto fail;
	}
	if (fflush(f) == EOF || fsync(fileno(f)) == -1)
		goto fail;
	if (fclose(f) == EOF) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	what = path;
	if (flags & PERSIST_EXCL) {
		/* link(2) fails if another instance got there first: its file stays */
		linked = link(tmp, path) == 0;
		if (!linked && errno == EEXIST) {
			rc = 1;
			goto out;
		}
		if (!linked && errno != EPERM && errno != ENOSYS && errno != EOPNOTSUPP)
			goto fail;
		if (!linked && rename(tmp, path) == -1)   /* a file system without hard links */
			goto fail;
		if (!linked)
			have_tmp = 0;
	} else {
		if (rename(tmp, path) == -1)
			goto fail;
		have_tmp = 0;
	}
	if (persist_sync_dir(path) == -1)
		goto fail;
	rc = 0;
	goto out;
fail:
	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	rc = -1;
out:
	if (f != NULL)
		fclose(f);   /* after an error: the error is already reported */
	if (fd != -1)
		close(fd);
	if (have_tmp)
		unlink(tmp);
	return rc;
}

/* A buffer to write. */
struct bufarg {
	const void *buf;
	size_t      len;
};

/* persist_writer_fn for struct bufarg. */
static int
write_buf(FILE *f, void *arg)
{
	struct bufarg *b = arg;

	return b->len == 0 || fwrite(b->buf, 1, b->len, f) == b->len ? 0 : -1;
}

/* persist_atomic_write of a buffer. */
int
persist_atomic_write_buf(const char *path, mode_t mode, int flags,
    const void *buf, size_t len, char *err, size_t errlen)
{
	struct bufarg b = { buf, len };

	return persist_atomic_write(path, mode, flags, write_buf, &b, err, errlen);
}

/* Append buf to path, whole or not at all; fsync it if sync. */
static int
append(const char *path, mode_t mode, const void *buf, size_t len, int sync,
    char *err, size_t errlen)
{
	const char *p = buf;
	struct stat st;
	size_t done = 0;
	ssize_t w;
	int fd, e;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, mode)) == -1)
		goto fail;
	if (fstat(fd, &st) == -1)
		goto fail_fd;
	while (done < len) {
		if ((w = write(fd, p + done, len - done)) == -1) {
			if (errno == EINTR)
				continue;
			goto cut;
		}
		done += (size_t)w;
	}
	if (sync && fsync(fd) == -1)
		goto cut;
	if (close(fd) == -1)
		goto fail;
	return 0;
cut:
	e = errno;
	if (done > 0 && ftruncate(fd, st.st_size) == 0 && sync)
		fsync(fd);   /* best effort: the error reported is the write's */
	errno = e;
fail_fd:
	e = errno;
	close(fd);
	errno = e;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

/* Append buf to path and fsync it. */
int
persist_append_sync(const char *path, mode_t mode, const void *buf, size_t len,
    char *err, size_t errlen)
{
	return append(path, mode, buf, len, 1, err, errlen);
}

/* Append buf to path, whole or not at all; the caller syncs later. */
int
persist_append(const char *path, mode_t mode, const void *buf, size_t len,
    char *err, size_t errlen)
{
	return append(path, mode, buf, len, 0, err, errlen);
}
