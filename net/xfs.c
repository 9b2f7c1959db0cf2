/* xfs.c - the file system side of file drop: safe names, sender walks, receiver staging. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <sodium.h>

#include "utf8.h"
#include "mem.h"
#include "xfs.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

#define NS_PER_SEC       1000000000LL
#define XFS_TAG_MAX      64         /* hex digits in a staging tag */
#define XFS_COPIES_MAX   9999       /* "name (9999).ext" is the last try */
#define SHOW_MAX         256        /* bytes of a name quoted in a message */
#define DIR_BATCH        4096       /* names read at a time when deleting */

struct xfs_stage {
	int   tdir;                     /* the target directory */
	int   sdir;                     /* the staging directory inside it */
	int   pdir;                     /* the last parent dir used below sdir, or -1 */
	char  prel[XFS_PATH_MAX + 1];   /* its path inside the staging dir */
	char *target;                   /* absolute path of the target directory */
	char  name[XFS_TAG_MAX + 32];   /* ".confab-<tag>.partial" */
};

/* Format a message into err (if there is room for one); returns -1. */
static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = saved;
	return -1;
}

/*
 * Copy s into out (outmax > 0) for a message: control characters (C0, DEL,
 * C1) and bytes that are not valid UTF-8 become '?'; never splits a character.
 */
static const char *
show(const char *s, char *out, size_t outmax)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0, l;
	uint32_t cp;

	while (i < n) {
		l = utf8_decode(p + i, n - i, &cp);
		if (l == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			if (o + 1 >= outmax)
				break;
			out[o++] = '?';
			i += l == 0 ? 1 : l;
			continue;
		}
		if (o + l >= outmax)
			break;
		memcpy(out + o, s + i, l);
		o += l;
		i += l;
	}
	out[o] = '\0';
	return out;
}

/* Whether a peer-supplied relative path is acceptable (see xfs.h). */
int
xfs_path_ok(const char *path, size_t len, const char **why)
{
	const unsigned char *p = (const unsigned char *)path;
	size_t i = 0, start = 0, l, depth = 0;
	const char *r = NULL;
	uint32_t cp;

	if (path == NULL || len == 0) {
		r = "empty name";
		goto out;
	}
	if (len > XFS_PATH_MAX) {
		r = "name too long";
		goto out;
	}
	if (p[0] == '/') {
		r = "absolute path";
		goto out;
	}
	while (i <= len) {
		if (i == len || p[i] == '/') {
			l = i - start;
			if (l == 0)
				r = "empty path component";
			else if ((l == 1 && p[start] == '.') ||
			    (l == 2 && p[start] == '.' && p[start + 1] == '.'))
				r = "\".\" or \"..\" path component";
			else if (l > XFS_NAME_MAX)
				r = "path component too long";
			else if (++depth > XFS_DEPTH_MAX)
				r = "path too deep";
			if (r != NULL)
				goto out;
			start = ++i;
			continue;
		}
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			i++;   /* printable ASCII: the common case, without a decode */
			continue;
		}
		if ((l = utf8_decode(p + i, len - i, &cp)) == 0)
			r = "invalid UTF-8";
		else if (cp == 0)
			r = "NUL byte";
		else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			r = "control character";
		else if (cp == '\\')
			r = "backslash";
		if (r != NULL)
			goto out;
		i += l;
	}
out:
	if (why != NULL)
		*why = r;
	return r == NULL;
}

/* A timestamp as signed nanoseconds, clamped to what int64_t holds. */
static int64_t
ts_to_ns(const struct timespec *ts)
{
	if (ts->tv_sec >= INT64_MAX / NS_PER_SEC)
		return INT64_MAX;
	if (ts->tv_sec <= INT64_MIN / NS_PER_SEC)
		return INT64_MIN;
	return (int64_t)ts->tv_sec * NS_PER_SEC + ts->tv_nsec;
}

/* Signed nanoseconds as a timespec (tv_nsec always in 0..999999999). */
static struct timespec
ns_to_ts(int64_t ns)
{
	struct timespec ts;
	int64_t s = ns / NS_PER_SEC, r = ns % NS_PER_SEC;

	if (r < 0) {
		r += NS_PER_SEC;
		s--;
	}
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)r;
	return ts;
}

/* Append an entry, taking ownership of rel and src on success. */
static int
list_push(struct xfs_list *l, char *rel, char *src, enum xfs_type type, uint64_t size,
          int64_t mtime_ns, uint32_t mode)
{
	struct xfs_entry *nv, *e;

	if (l->n >= XFS_ENTRIES_MAX || size > UINT64_MAX - l->total) {
		errno = E2BIG;
		return -1;
	}
	if (l->n == l->cap) {
		if ((nv = mem_grow(l->v, &l->cap, l->n + 1, sizeof *nv, 16, XFS_ENTRIES_MAX)) == NULL)
			return -1;
		l->v = nv;
	}
	e = &l->v[l->n++];
	e->rel = rel;
	e->src = src;
	e->type = type;
	e->size = type == XFS_DIR ? 0 : size;
	e->mtime_ns = mtime_ns;
	e->mode = mode & 0777;
	l->total += e->size;
	return 0;
}

/* Drop the entries from index n on (undoing a failed walk). */
static void
list_truncate(struct xfs_list *l, size_t n)
{
	while (l->n > n) {
		l->n--;
		l->total -= l->v[l->n].size;
		free(l->v[l->n].rel);
		free(l->v[l->n].src);
	}
}

/* Add one entry received in an offer; refuses bad names, types and sizes. */
int
xfs_list_add(struct xfs_list *l, const char *rel, size_t rellen, enum xfs_type type,
             uint64_t size, int64_t mtime_ns, uint32_t mode)
{
	char *copy;

	if (!xfs_path_ok(rel, rellen, NULL) || (type != XFS_FILE && type != XFS_DIR) ||
	    (type == XFS_DIR && size != 0)) {
		errno = EINVAL;
		return -1;
	}
	if ((copy = malloc(rellen + 1)) == NULL)
		return -1;
	memcpy(copy, rel, rellen);
	copy[rellen] = '\0';
	if (list_push(l, copy, NULL, type, size, mtime_ns, mode) != 0) {
		free(copy);
		return -1;
	}
	return 0;
}

/* Free every entry and the array. */
void
xfs_list_free(struct xfs_list *l)
{
	list_truncate(l, 0);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/*
 * A keyed hash of a name (SipHash, with a key drawn once per process), so
 * that a peer cannot choose names that all land in one bucket.
 */
static size_t
name_hash(const char *name, size_t n)
{
	static uint8_t key[crypto_shorthash_KEYBYTES];
	static int keyed;
	uint8_t h[crypto_shorthash_BYTES];
	size_t v = 0, i;

	if (!keyed) {
		if (sodium_init() < 0)
			abort();   /* no randomness: nothing here can be trusted */
		randombytes_buf(key, sizeof key);
		keyed = 1;
	}
	crypto_shorthash(h, (const unsigned char *)name, n, key);
	for (i = 0; i < sizeof v && i < sizeof h; i++)
		v = v << 8 | h[i];
	return v;
}

/*
 * In the table tab (mask + 1 slots of entry index + 1, 0: empty; open
 * addressing) the slot holding the entry named by the n bytes at name, or
 * the empty slot where it would go.
 */
static size_t
name_slot(const struct xfs_list *l, const size_t *tab, size_t mask, const char *name, size_t n)
{
	size_t i = name_hash(name, n) & mask;
	const char *r;

	while (tab[i] != 0) {
		r = l->v[tab[i] - 1].rel;
		/* names hold no NUL, so equal first n bytes make r[n] readable */
		if (strncmp(r, name, n) == 0 && r[n] == '\0')
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

/*
 * Check the list as a whole (see xfs.h) in time linear in the bytes of its
 * names: every name goes into a hash table (a second copy is a duplicate),
 * then each name's parent is looked up in it.  Sorting would compare long
 * common prefixes over and over: an offer of 4 KiB names that all share
 * their directories would cost a second of CPU.
 */
int
xfs_list_check(const struct xfs_list *l, char *err, size_t errlen)
{
	const struct xfs_entry *e, *up;
	const char *slash;
	size_t *tab, cap = 16, i, k;
	char sh[SHOW_MAX];
	int rc = 0;

	if (l->n == 0)
		return 0;
	while (cap < 2 * l->n)   /* l->n <= XFS_ENTRIES_MAX: no overflow */
		cap *= 2;
	if ((tab = calloc(cap, sizeof *tab)) == NULL)
		return fail(err, errlen, "out of memory");
	for (i = 0; i < l->n && rc == 0; i++) {
		e = &l->v[i];
		k = name_slot(l, tab, cap - 1, e->rel, strlen(e->rel));
		if (tab[k] != 0)
			rc = fail(err, errlen, "\"%s\" is listed twice", show(e->rel, sh, sizeof sh));
		tab[k] = i + 1;
	}
	for (i = 0; i < l->n && rc == 0; i++) {
		e = &l->v[i];
		if ((slash = strrchr(e->rel, '/')) == NULL)
			continue;   /* top level */
		k = tab[name_slot(l, tab, cap - 1, e->rel, (size_t)(slash - e->rel))];
		up = k != 0 ? &l->v[k - 1] : NULL;
		if (up == NULL)
			rc = fail(err, errlen, "\"%s\" is not in a directory of the list",
			    show(e->rel, sh, sizeof sh));
		else if (up->type == XFS_FILE)
			rc = fail(err, errlen, "\"%s\" is a file but has entries below it",
			    show(up->rel, sh, sizeof sh));
		else if (k - 1 > i)
			rc = fail(err, errlen, "\"%s\" comes before its directory",
			    show(e->rel, sh, sizeof sh));
	}
	free(tab);
	if (rc != 0)
		errno = EINVAL;
	return rc;
}

/* qsort comparator for an array of C strings. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Free an array of n strings. */
static void
free_names(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

/*
 * Read up to max names (not "." or "..") of the directory open at dfd, which
 * stays open and unmoved.  Returns 0 with a malloc'd array, or -1 with errno.
 */
static int
read_names(int dfd, size_t max, char ***out, size_t *nout)
{
	char **v = NULL, **nv;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd, saved;

	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == max)
			break;
		if (n == cap) {
			if ((nv = mem_grow(v, &cap, n + 1, sizeof *v, 32, 0)) == NULL)
				goto nomem;
			v = nv;
		}
		if ((v[n] = strdup(de->d_name)) == NULL)
			goto nomem;
		n++;
	}
	if (errno != 0)
		goto bad;
	closedir(d);
	*out = v;
	*nout = n;
	return 0;
nomem:
	errno = ENOMEM;
bad:
	saved = errno;
	closedir(d);
	free_names(v, n);
	errno = saved;
	return -1;
}

/* The state of one sender walk. */
struct walk {
	struct xfs_list *l;
	char            *err;
	size_t           errlen;
	const char      *base;                          /* absolute source of the top entry */
	size_t           toplen;                        /* length of the top entry's name */
	char             rel[XFS_PATH_MAX + XFS_NAME_MAX + 2];
};

/* The absolute source path of the entry named w->rel. */
static char *
walk_src(const struct walk *w, size_t rellen)
{
	size_t bl = strlen(w->base), tail = rellen - w->toplen;
	char *s;

	if ((s = malloc(bl + tail + 1)) == NULL)
		return NULL;
	memcpy(s, w->base, bl);
	memcpy(s + bl, w->rel + w->toplen, tail);
	s[bl + tail] = '\0';
	return s;
}

/* Add w->rel (rellen bytes) with the attributes in st; src is built here. */
static int
walk_add(struct walk *w, size_t rellen, const struct stat *st)
{
	char *rel = NULL, *src = NULL, sh[SHOW_MAX];
	int dir = S_ISDIR(st->st_mode);

	if ((rel = strndup(w->rel, rellen)) == NULL || (src = walk_src(w, rellen)) == NULL)
		goto nomem;
	if (list_push(w->l, rel, src, dir ? XFS_DIR : XFS_FILE,
	    dir ? 0 : (uint64_t)st->st_size, ts_to_ns(&st->st_mtim), st->st_mode & 0777) != 0) {
		if (errno == E2BIG) {
			free(rel);
			free(src);
			return fail(w->err, w->errlen, "%s: more than %d entries to send",
			    show(w->base, sh, sizeof sh), XFS_ENTRIES_MAX);
		}
		goto nomem;
	}
	return 0;
nomem:
	free(rel);
	free(src);
	return fail(w->err, w->errlen, "out of memory");
}

/*
 * Add everything below the directory open at dfd, whose entry is w->rel
 * (rellen bytes): sorted by name, each directory before its contents, never
 * following a symbolic link.
 */
static int
walk_dir(struct walk *w, int dfd, size_t rellen)
{
	char **names = NULL, sh[SHOW_MAX], *src;
	size_t n = 0, i, nl, len;
	const char *why;
	struct stat st;
	int fd = -1, rc = -1;

	if (read_names(dfd, XFS_ENTRIES_MAX + 1, &names, &n) != 0) {
		src = walk_src(w, rellen);
		fail(w->err, w->errlen, "%s: %s", show(src ? src : w->base, sh, sizeof sh),
		    strerror(errno));
		free(src);
		return -1;
	}
	if (n > 1)
		qsort(names, n, sizeof *names, cmp_str);
	for (i = 0; i < n; i++) {
		nl = strlen(names[i]);
		len = rellen;
		if (rellen + 1 + nl >= sizeof w->rel) {
			errno = ENAMETOOLONG;    /* not on Linux: names have <= 255 bytes */
			goto err_errno;
		}
		w->rel[rellen] = '/';
		memcpy(w->rel + rellen + 1, names[i], nl + 1);
		len = rellen + 1 + nl;
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue;            /* removed while we looked */
			goto err_errno;
		}
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
			w->l->skipped++;         /* symlinks, sockets, fifos, devices */
			continue;
		}
		if (!xfs_path_ok(w->rel, len, &why)) {
			src = walk_src(w, len);
			fail(w->err, w->errlen, "cannot send \"%s\": %s",
			    show(src ? src : w->base, sh, sizeof sh), why);
			free(src);
			goto out;
		}
		/* Open without following and check the type again: no race. */
		if (S_ISDIR(st.st_mode))
			fd = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		else
			fd = openat(dfd, names[i], O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK |
			    O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) != 0)
			goto err_errno;
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
			w->l->skipped++;
			close(fd);
			fd = -1;
			continue;
		}
		if (walk_add(w, len, &st) != 0)
			goto out;
		if (S_ISDIR(st.st_mode) && walk_dir(w, fd, len) != 0)
			goto out;
		close(fd);
		fd = -1;
	}
	rc = 0;
	goto out;
err_errno:
	src = walk_src(w, len);
	fail(w->err, w->errlen, "%s: %s", show(src ? src : w->base, sh, sizeof sh),
	    strerror(errno));
	free(src);
out:
	if (fd >= 0)
		close(fd);
	free_names(names, n);
	return rc;
}

/*
 * The name the top entry for path is sent under: its last component as the
 * user wrote it (so a symlink keeps its own name), or the real directory's
 * name for ".", ".." and the like.  Points into path or abs.
 */
static const char *
top_name(const char *path, const char *abs, size_t *len)
{
	size_t n = strlen(path), s;

	while (n > 1 && path[n - 1] == '/')
		n--;
	for (s = n; s > 0 && path[s - 1] != '/'; s--)
		;
	if (n - s == 0 || (n - s == 1 && path[s] == '.') ||
	    (n - s == 2 && path[s] == '.' && path[s + 1] == '.')) {
		path = abs;
		n = strlen(abs);
		for (s = n; s > 0 && abs[s - 1] != '/'; s--)
			;
	}
	*len = n - s;
	return path + s;
}

/* Sender: add path (a file or a directory tree) to the list. */
int
xfs_walk(struct xfs_list *l, const char *path, char *err, size_t errlen)
{
	size_t n0 = l->n, s0 = l->skipped, nl;
	char *abs = NULL, sh[SHOW_MAX];
	struct stat st, st2;
	struct walk w;
	const char *name, *why;
	int fd = -1, rc = -1;

	if ((abs = realpath(path, NULL)) == NULL || stat(abs, &st) != 0) {
		fail(err, errlen, "%s: %s", show(path, sh, sizeof sh), strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		fail(err, errlen, "%s: not a regular file or directory", show(path, sh, sizeof sh));
		goto out;
	}
	name = top_name(path, abs, &nl);
	if (nl == 0) {
		fail(err, errlen, "%s: cannot send the root directory", show(path, sh, sizeof sh));
		goto out;
	}
	if (!xfs_path_ok(name, nl, &why)) {
		fail(err, errlen, "cannot send \"%s\": %s", show(path, sh, sizeof sh), why);
		goto out;
	}
	/* abs has no symlinks left; O_NOFOLLOW and the identity check catch a swap. */
	fd = open(abs, (S_ISDIR(st.st_mode) ? O_DIRECTORY : O_NOCTTY | O_NONBLOCK) |
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st2) != 0) {
		fail(err, errlen, "%s: %s", show(path, sh, sizeof sh), strerror(errno));
		goto out;
	}
	if (st2.st_dev != st.st_dev || st2.st_ino != st.st_ino) {
		fail(err, errlen, "%s: changed while being read", show(path, sh, sizeof sh));
		goto out;
	}
	memset(&w, 0, sizeof w);
	w.l = l;
	w.err = err;
	w.errlen = errlen;
	w.base = abs;
	w.toplen = nl;
	memcpy(w.rel, name, nl);
	w.rel[nl] = '\0';
	if (walk_add(&w, nl, &st2) != 0)
		goto out;
	if (S_ISDIR(st2.st_mode) && walk_dir(&w, fd, nl) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		list_truncate(l, n0);
		l->skipped = s0;
	}
	if (fd >= 0)
		close(fd);
	free(abs);
	return rc;
}

/* The process umask, read once (umask(2) can only be read by setting it). */
static mode_t
get_umask(void)
{
	static int cached = -1;
	mode_t m;

	if (cached < 0) {
		m = umask(077);
		umask(m);
		cached = (int)m;
	}
	return (mode_t)cached;
}

/* mkdir -p with mode 0700 for the components that are missing. */
static int
mkdir_p(const char *path, char *err, size_t errlen)
{
	char *p, *s, sh[SHOW_MAX];
	int rc = 0;

	if ((p = strdup(path)) == NULL)
		return fail(err, errlen, "out of memory");
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		if (s[-1] != '/') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST) {
				rc = fail(err, errlen, "cannot create %s: %s", show(p, sh, sizeof sh),
				    strerror(errno));
				break;
			}
			*s = c;
		}
		if (*s == '\0')
			break;
	}
	free(p);
	return rc;
}

/* Whether a staging tag is safe to put in a file name: 1..64 hex digits. */
static int
tag_ok(const char *tag)
{
	size_t n = strlen(tag), i;

	if (n == 0 || n > XFS_TAG_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((tag[i] >= '0' && tag[i] <= '9') || (tag[i] >= 'a' && tag[i] <= 'f') ||
		    (tag[i] >= 'A' && tag[i] <= 'F')))
			return 0;
	return 1;
}

/* Open (creating if asked) the staging dir for tag in target_dir. */
struct xfs_stage *
xfs_stage_open(const char *target_dir, const char *tag, int create, char *err, size_t errlen)
{
	struct xfs_stage *st;
	char sh[SHOW_MAX];
	struct stat sb;

	if (target_dir == NULL || *target_dir == '\0' || tag == NULL || !tag_ok(tag)) {
		errno = EINVAL;
		fail(err, errlen, "bad staging directory or tag");
		return NULL;
	}
	if ((st = calloc(1, sizeof *st)) == NULL) {
		fail(err, errlen, "out of memory");
		return NULL;
	}
	st->tdir = st->sdir = st->pdir = -1;
	snprintf(st->name, sizeof st->name, ".confab-%s.partial", tag);
	if (create && mkdir_p(target_dir, err, errlen) != 0)
		goto bad;
	/* The target is the user's choice: following symlinks to it is fine. */
	if ((st->tdir = open(target_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (st->target = realpath(target_dir, NULL)) == NULL) {
		fail(err, errlen, "%s: %s", show(target_dir, sh, sizeof sh), strerror(errno));
		goto bad;
	}
	if (create && mkdirat(st->tdir, st->name, 0700) != 0 && errno != EEXIST) {
		fail(err, errlen, "cannot create %s/%s: %s", show(st->target, sh, sizeof sh),
		    st->name, strerror(errno));
		goto bad;
	}
	st->sdir = openat(st->tdir, st->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (st->sdir < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			fail(err, errlen, "%s/%s is a symlink or not a directory: refusing it",
			    show(st->target, sh, sizeof sh), st->name);
		else
			fail(err, errlen, "%s/%s: %s", show(st->target, sh, sizeof sh), st->name,
			    strerror(errno));
		goto bad;
	}
	/* Someone else's (or an open) staging dir could be tampered with. */
	if (fstat(st->sdir, &sb) != 0 || sb.st_uid != geteuid() || (sb.st_mode & 022) != 0) {
		errno = EPERM;
		fail(err, errlen, "%s/%s is not a private directory of ours: refusing it",
		    show(st->target, sh, sizeof sh), st->name);
		goto bad;
	}
	return st;
bad:
	xfs_stage_close(st);
	return NULL;
}

/* Forget the cached parent directory. */
static void
stage_forget_parent(struct xfs_stage *st)
{
	if (st->pdir >= 0)
		close(st->pdir);
	st->pdir = -1;
	st->prel[0] = '\0';
}

/* Done with a dir fd from stage_descend: close it unless the stage keeps it. */
static void
stage_release(struct xfs_stage *st, int fd)
{
	if (fd >= 0 && fd != st->sdir && fd != st->pdir)
		close(fd);
}

/*
 * Open the directory holding the last component of rel (which must pass
 * xfs_path_ok) inside the staging dir, creating missing directories on the way
 * if create; with all != 0 the last component is a directory to open too.
 * Never follows a symlink.  Returns a dir fd (st->sdir itself or a new one)
 * and sets *last to the last component inside buf; -1 with a message.
 */
static int
stage_descend(struct xfs_stage *st, const char *rel, int create, int all, char *buf,
              const char **last, char *err, size_t errlen)
{
	char *comp, *slash = NULL, sh[SHOW_MAX], sh2[SHOW_MAX];
	const char *why;
	size_t len = strlen(rel);
	int cur = st->sdir, fd, saved;

	if (!xfs_path_ok(rel, len, &why)) {
		errno = EINVAL;
		return fail(err, errlen, "refusing \"%s\": %s", show(rel, sh, sizeof sh), why);
	}
	memcpy(buf, rel, len + 1);
	/* files of one directory come one after another: reuse its fd */
	slash = strrchr(buf, '/');
	if (!all && slash != NULL && st->pdir >= 0 && (size_t)(slash - buf) == strlen(st->prel) &&
	    memcmp(buf, st->prel, (size_t)(slash - buf)) == 0) {
		*last = slash + 1;
		return st->pdir;
	}
	slash = NULL;
	for (comp = buf; ; comp = slash + 1) {
		slash = strchr(comp, '/');
		if (slash == NULL && !all)
			break;
		if (slash != NULL)
			*slash = '\0';
		fd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create) {
			if (mkdirat(cur, comp, 0755) != 0 && errno != EEXIST)
				goto bad;
			fd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0)
			goto bad;
		if (cur != st->sdir)
			close(cur);
		cur = fd;
		if (slash == NULL)
			break;
		*slash = '/';
	}
	*last = comp;
	if (!all && cur != st->sdir) {
		stage_forget_parent(st);
		st->pdir = cur;
		memcpy(st->prel, buf, (size_t)(comp - 1 - buf));
		st->prel[comp - 1 - buf] = '\0';
	}
	return cur;
bad:
	saved = errno;
	if (cur != st->sdir)
		close(cur);
	if (slash != NULL)
		*slash = '\0';
	if (saved == ELOOP || saved == ENOTDIR)
		fail(err, errlen, "refusing \"%s\": \"%s\" is a symlink or not a directory",
		    show(rel, sh, sizeof sh), show(buf, sh2, sizeof sh2));
	else
		fail(err, errlen, "\"%s\": %s", show(rel, sh, sizeof sh), strerror(saved));
	errno = saved;
	return -1;
}

/* Create directory rel (and missing parents) inside the staging dir. */
int
xfs_stage_mkdir(struct xfs_stage *st, const char *rel, char *err, size_t errlen)
{
	char buf[XFS_PATH_MAX + 1];
	const char *last;
	int fd;

	if ((fd = stage_descend(st, rel, 1, 1, buf, &last, err, errlen)) < 0)
		return -1;
	stage_release(st, fd);
	return 0;
}

/* Open file rel in the staging dir for writing from offset (see xfs.h). */
int
xfs_stage_open_file(struct xfs_stage *st, const char *rel, uint64_t offset, char *err,
                    size_t errlen)
{
	char buf[XFS_PATH_MAX + 1], sh[SHOW_MAX];
	const char *last;
	struct stat sb;
	int dfd, fd;

	if (offset > (uint64_t)INT64_MAX) {
		errno = EFBIG;
		return fail(err, errlen, "\"%s\": offset too large", show(rel, sh, sizeof sh));
	}
	if ((dfd = stage_descend(st, rel, 1, 0, buf, &last, err, errlen)) < 0)
		return -1;
	/* O_NONBLOCK: a planted fifo must not hang the loop (ENXIO instead). */
	fd = openat(dfd, last, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
	    0600);
	stage_release(st, dfd);
	if (fd < 0) {
		if (errno == ELOOP)
			return fail(err, errlen, "refusing \"%s\": it is a symlink",
			    show(rel, sh, sizeof sh));
		return fail(err, errlen, "\"%s\": %s", show(rel, sh, sizeof sh), strerror(errno));
	}
	if (fstat(fd, &sb) != 0)
		goto bad_errno;
	if (!S_ISREG(sb.st_mode) || sb.st_nlink != 1 || sb.st_uid != geteuid()) {
		close(fd);
		errno = EPERM;
		return fail(err, errlen, "refusing \"%s\": not a plain file of ours",
		    show(rel, sh, sizeof sh));
	}
	if ((uint64_t)sb.st_size < offset) {
		close(fd);
		errno = ERANGE;
		return fail(err, errlen, "\"%s\": partial file has %llu bytes, fewer than the offset %llu",
		    show(rel, sh, sizeof sh), (unsigned long long)sb.st_size,
		    (unsigned long long)offset);
	}
	if ((uint64_t)sb.st_size != offset && ftruncate(fd, (off_t)offset) != 0)
		goto bad_errno;
	return fd;
bad_errno:
	fail(err, errlen, "\"%s\": %s", show(rel, sh, sizeof sh), strerror(errno));
	close(fd);
	return -1;
}

/* Resume helper: the size of the partial file rel, 1 if absent. */
int
xfs_stage_file_size(struct xfs_stage *st, const char *rel, uint64_t *size)
{
	char buf[XFS_PATH_MAX + 1];
	const char *last;
	struct stat sb;
	int dfd, r;

	if ((dfd = stage_descend(st, rel, 0, 0, buf, &last, NULL, 0)) < 0)
		return errno == ENOENT ? 1 : -1;
	r = fstatat(dfd, last, &sb, AT_SYMLINK_NOFOLLOW);
	stage_release(st, dfd);
	if (r != 0)
		return errno == ENOENT ? 1 : -1;
	if (!S_ISREG(sb.st_mode)) {
		errno = EPERM;
		return -1;
	}
	*size = (uint64_t)sb.st_size;
	return 0;
}

/* Start write-back of a byte range; never waits for it. */
void
xfs_start_writeback(int fd, uint64_t off, uint64_t len)
{
	if (fd >= 0 && off <= (uint64_t)INT64_MAX && len <= (uint64_t)INT64_MAX)
		(void)sync_file_range(fd, (off64_t)off, (off64_t)len, SYNC_FILE_RANGE_WRITE);
}

/* Flush a finished staged file to the disk (see xfs.h). */
int
xfs_stage_sync_file(struct xfs_stage *st, const char *rel, char *err, size_t errlen)
{
	char buf[XFS_PATH_MAX + 1], sh[SHOW_MAX];
	const char *last;
	struct stat sb;
	int dfd, fd, rc = 0;

	if ((dfd = stage_descend(st, rel, 0, 0, buf, &last, err, errlen)) < 0)
		return -1;
	fd = openat(dfd, last, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	stage_release(st, dfd);
	if (fd < 0)
		return fail(err, errlen, "\"%s\": %s", show(rel, sh, sizeof sh), strerror(errno));
	if (fstat(fd, &sb) != 0) {
		rc = fail(err, errlen, "\"%s\": %s", show(rel, sh, sizeof sh), strerror(errno));
	} else if (!S_ISREG(sb.st_mode)) {
		errno = EPERM;
		rc = fail(err, errlen, "refusing \"%s\": not a plain file", show(rel, sh, sizeof sh));
	} else if (fdatasync(fd) != 0) {
		rc = fail(err, errlen, "cannot flush \"%s\": %s", show(rel, sh, sizeof sh),
		    strerror(errno));
	}
	close(fd);
	return rc;
}

/* Set mtime and mode on a finished file, start its write-back and close it. */
int
xfs_stage_finish_file(int fd, int64_t mtime_ns, uint32_t mode, char *err, size_t errlen)
{
	struct timespec ts[2];
	int rc = 0;

	if (fd < 0) {
		errno = EBADF;
		return fail(err, errlen, "finishing a file that is not open");
	}
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_NOW;
	ts[1] = ns_to_ts(mtime_ns);
	if (fchmod(fd, (mode_t)(mode & 0777) & ~get_umask()) != 0)
		rc = fail(err, errlen, "cannot set the mode: %s", strerror(errno));
	else if (futimens(fd, ts) != 0)
		rc = fail(err, errlen, "cannot set the time: %s", strerror(errno));
	else
		xfs_start_writeback(fd, 0, 0);   /* 0 length: to the end of the file */
	if (close(fd) != 0 && rc == 0)
		rc = fail(err, errlen, "cannot close: %s", strerror(errno));
	return rc;
}

/* Set a finished directory's mtime and mode; the owner keeps rwx on it. */
int
xfs_stage_finish_dir(struct xfs_stage *st, const char *rel, int64_t mtime_ns, uint32_t mode,
                     char *err, size_t errlen)
{
	char buf[XFS_PATH_MAX + 1], sh[SHOW_MAX];
	struct timespec ts[2];
	const char *last;
	int fd, rc = 0;

	if ((fd = stage_descend(st, rel, 0, 1, buf, &last, err, errlen)) < 0)
		return -1;
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_NOW;
	ts[1] = ns_to_ts(mtime_ns);
	/* Without owner rwx it could not be moved out or cleaned up. */
	if (fchmod(fd, (((mode_t)(mode & 0777)) & ~get_umask()) | 0700) != 0 ||
	    futimens(fd, ts) != 0)
		rc = fail(err, errlen, "\"%s\": %s", show(rel, sh, sizeof sh), strerror(errno));
	close(fd);
	return rc;
}

/* The k-th alternative to a conflicting name (see xfs.h). */
int
xfs_conflict_name(const char *name, int is_dir, unsigned k, char *out, size_t outlen)
{
	size_t nl = strlen(name), sl, el = 0, fl;
	const char *dot = strrchr(name, '.');
	char sfx[24];

	fl = (size_t)snprintf(sfx, sizeof sfx, " (%u)", k);
	if (!is_dir && dot != NULL && dot != name && dot[1] != '\0')
		el = nl - (size_t)(dot - name);
	if (el + fl + 1 > XFS_NAME_MAX)
		el = 0;                                 /* an absurd extension: keep none */
	sl = nl - el;
	if (sl + fl + el > XFS_NAME_MAX) {
		sl = XFS_NAME_MAX - fl - el;
		while (sl > 0 && ((unsigned char)name[sl] & 0xc0) == 0x80)
			sl--;                               /* do not split a character */
	}
	if (sl + fl + el == nl && memcmp(name + sl, sfx, fl) == 0) {
		/* a full-length "stem (k).ext" would come out as itself: cut one more character */
		while (sl > 0 && ((unsigned char)name[--sl] & 0xc0) == 0x80)
			;
	}
	if (sl + fl + el + 1 > outlen)
		return -1;
	memcpy(out, name, sl);
	memcpy(out + sl, sfx, fl);
	memcpy(out + sl + fl, name + nl - el, el);
	out[sl + fl + el] = '\0';
	return 0;
}

/* renameat2 with flags, through the system call where glibc lacks it. */
static int
rename2(int ofd, const char *old, int nfd, const char *new, unsigned flags)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 28))
	return renameat2(ofd, old, nfd, new, flags);
#elif defined(SYS_renameat2)
	return (int)syscall(SYS_renameat2, ofd, old, nfd, new, flags);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * Move old (in the staging dir) to new (in the target dir) unless new exists.
 * Falls back, where the file system has no RENAME_NOREPLACE, on link+unlink for
 * files and on a check before rename for directories.
 */
static int
move_noreplace(struct xfs_stage *st, const char *old, const char *new, int is_dir)
{
	struct stat sb;

	if (rename2(st->sdir, old, st->tdir, new, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (!is_dir && linkat(st->sdir, old, st->tdir, new, 0) == 0) {
		unlinkat(st->sdir, old, 0);
		return 0;
	}
	if (!is_dir && errno == EEXIST)
		return -1;
	if (fstatat(st->tdir, new, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(st->sdir, old, st->tdir, new);
}

/* Remove the staging dir itself if it is still the one we have open. */
static int
remove_stage_dir(struct xfs_stage *st)
{
	struct stat a, b;

	if (fstat(st->sdir, &a) != 0)
		return -1;
	if (fstatat(st->tdir, st->name, &b, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return 0;                               /* not ours any more */
	return unlinkat(st->tdir, st->name, AT_REMOVEDIR);
}

/* Move the finished top-level entries into the target dir, never replacing. */
int
xfs_stage_commit(struct xfs_stage *st, const char *const *top, size_t n, char **final,
                 char *err, size_t errlen)
{
	char cand[XFS_NAME_MAX + 1], sh[SHOW_MAX], sh2[SHOW_MAX];
	const char *why;
	struct stat sb;
	size_t i, len;
	unsigned k;
	int rc = 0, isdir, moved;

	stage_forget_parent(st);   /* what it names is about to move */
	for (i = 0; i < n; i++)
		final[i] = NULL;
	for (i = 0; i < n; i++) {
		len = strlen(top[i]);
		if (!xfs_path_ok(top[i], len, &why) || memchr(top[i], '/', len) != NULL) {
			rc = fail(err, errlen, "refusing \"%s\": %s", show(top[i], sh, sizeof sh),
			    memchr(top[i], '/', len) != NULL ? "not a top-level name" : why);
			continue;
		}
		if (fstatat(st->sdir, top[i], &sb, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT)
				rc = fail(err, errlen, "\"%s\": %s", show(top[i], sh, sizeof sh),
				    strerror(errno));
			continue;
		}
		if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode)) {
			rc = fail(err, errlen, "refusing \"%s\": not a file or directory",
			    show(top[i], sh, sizeof sh));
			continue;
		}
		isdir = S_ISDIR(sb.st_mode);
		moved = 0;
		for (k = 0; k <= XFS_COPIES_MAX; k++) {
			if (k == 0)
				memcpy(cand, top[i], len + 1);
			else if (xfs_conflict_name(top[i], isdir, k, cand, sizeof cand) != 0)
				break;
			if (move_noreplace(st, top[i], cand, isdir) == 0) {
				moved = 1;
				break;
			}
			if (errno != EEXIST && errno != ENOTEMPTY)
				break;
		}
		if (!moved) {
			rc = fail(err, errlen, "cannot move \"%s\" into %s: %s",
			    show(top[i], sh, sizeof sh), show(st->target, sh2, sizeof sh2),
			    k > XFS_COPIES_MAX ? "too many copies exist" : strerror(errno));
			continue;
		}
		if ((final[i] = strdup(cand)) == NULL)
			rc = fail(err, errlen, "out of memory");
	}
	fsync(st->tdir);
	/* Anything left behind (a failed move) keeps the staging dir. */
	if (remove_stage_dir(st) != 0 && errno != ENOTEMPTY && errno != EEXIST && rc == 0)
		rc = fail(err, errlen, "cannot remove %s/%s: %s", show(st->target, sh, sizeof sh), st->name,
		    strerror(errno));
	return rc;
}

/* Delete everything below the directory open at dfd, never following symlinks. */
static int
remove_tree(int dfd, int depth)
{
	char **names;
	size_t n, i;
	struct stat sb;
	int fd, rc = 0;

	if (depth > XFS_DEPTH_MAX + 8) {
		errno = ELOOP;
		return -1;
	}
	for (;;) {
		if (read_names(dfd, DIR_BATCH, &names, &n) != 0)
			return errno == ENOENT ? rc : -1;   /* already removed (commit) */
		if (n == 0) {
			free(names);
			return rc;
		}
		for (i = 0; i < n; i++) {
			if (fstatat(dfd, names[i], &sb, AT_SYMLINK_NOFOLLOW) != 0) {
				if (errno != ENOENT)
					rc = -1;
				continue;
			}
			if (S_ISDIR(sb.st_mode)) {
				fd = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (fd < 0 || remove_tree(fd, depth + 1) != 0)
					rc = -1;
				if (fd >= 0)
					close(fd);
				if (unlinkat(dfd, names[i], AT_REMOVEDIR) != 0 && errno != ENOENT)
					rc = -1;
			} else if (unlinkat(dfd, names[i], 0) != 0 && errno != ENOENT) {
				rc = -1;
			}
		}
		free_names(names, n);
		if (rc != 0)
			return rc;                          /* do not spin on what stays */
	}
}

/* Delete the staging dir and everything in it. */
int
xfs_stage_remove(struct xfs_stage *st)
{
	int rc = 0;

	stage_forget_parent(st);
	if (remove_tree(st->sdir, 0) != 0)
		rc = -1;
	if (remove_stage_dir(st) != 0)
		rc = -1;
	return rc;
}

/* Close the handle; the staging dir stays. */
void
xfs_stage_close(struct xfs_stage *st)
{
	if (st == NULL)
		return;
	stage_forget_parent(st);
	if (st->sdir >= 0)
		close(st->sdir);
	if (st->tdir >= 0)
		close(st->tdir);
	free(st->target);
	free(st);
}

/* The absolute path of the target dir. */
const char *
xfs_stage_target(const struct xfs_stage *st)
{
	return st->target;
}

/* Bytes available to an unprivileged user where dir is (or would be created). */
int
xfs_free_space(const char *dir, uint64_t *avail)
{
	struct statvfs sv;
	uint64_t unit;
	char *p, *s;
	int r;

	if ((p = strdup(dir)) == NULL)
		return -1;
	/* A download dir not made yet: ask about its nearest existing ancestor. */
	while ((r = statvfs(p, &sv)) != 0 && errno == ENOENT &&
	    strcmp(p, ".") != 0 && strcmp(p, "/") != 0) {
		if ((s = strrchr(p, '/')) == NULL)
			strcpy(p, ".");
		else if (s == p)
			p[1] = '\0';
		else
			*s = '\0';
	}
	free(p);
	if (r != 0)
		return -1;
	unit = sv.f_frsize != 0 ? sv.f_frsize : sv.f_bsize;
	if (unit != 0 && (uint64_t)sv.f_bavail > UINT64_MAX / unit)
		*avail = UINT64_MAX;
	else
		*avail = (uint64_t)sv.f_bavail * unit;
	return 0;
}
