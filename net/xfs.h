/* xfs.h - the file system side of file drop: safe names, sender walks, receiver staging. */
#ifndef CONFAB_XFS_H
#define CONFAB_XFS_H

#include <stddef.h>
#include <stdint.h>

#define XFS_NAME_MAX     255      /* bytes in one path component */
#define XFS_PATH_MAX     4096     /* bytes in a relative path */
#define XFS_DEPTH_MAX    64       /* components in a relative path */
#define XFS_ENTRIES_MAX  100000   /* entries in one offer */

enum xfs_type { XFS_FILE = 0, XFS_DIR = 1 };

/*
 * Whether a relative path received from a peer is acceptable: valid UTF-8,
 * '/'-separated components that are not empty, "." or "..", no leading '/',
 * no NUL, no C0/C1 control characters or DEL, no backslash, each component at
 * most XFS_NAME_MAX bytes, at most XFS_DEPTH_MAX components, XFS_PATH_MAX bytes.
 * Returns 1 if acceptable; else 0 and a short reason in *why.
 */
int  xfs_path_ok(const char *path, size_t len, const char **why);

struct xfs_entry {
	char         *rel;       /* relative name as sent: "dir/sub/file.txt" */
	char         *src;       /* sender: absolute source path (NULL for receiver lists) */
	enum xfs_type type;
	uint64_t      size;      /* 0 for directories */
	int64_t       mtime_ns;  /* modification time, ns since the epoch */
	uint32_t      mode;      /* permission bits only (& 0777) */
};

struct xfs_list {
	struct xfs_entry *v;
	size_t            n, cap;
	uint64_t          total;      /* sum of file sizes */
	size_t            skipped;    /* symlinks, sockets, devices left out */
};

/*
 * Sender: add path to the list.  A regular file becomes one entry named by its
 * base name; a directory becomes an entry for itself and, recursively and in a
 * stable (sorted) order, every directory (empty ones included) and regular
 * file below it, named "base/sub/...".  Symbolic links are never followed
 * (neither at the top level... except that a top-level path given by the user
 * may itself be a symlink to a file or directory) and are counted in skipped,
 * as are other special files.  Fails (-1, message in err) on an unreadable
 * path, a name that xfs_path_ok would refuse, or more than XFS_ENTRIES_MAX
 * entries.
 */
int  xfs_walk(struct xfs_list *, const char *path, char *err, size_t errlen);
/* Add one entry (receiver side, from an offer); copies rel. */
int  xfs_list_add(struct xfs_list *, const char *rel, size_t rellen, enum xfs_type type,
                  uint64_t size, int64_t mtime_ns, uint32_t mode);
void xfs_list_free(struct xfs_list *);
/*
 * Check a received list as a whole: no name twice (a file and a directory of
 * the same name included), and every name below the top level listed after a
 * directory entry for its parent (so nothing is below a name that is a
 * file).  Linear in the bytes of the names (a keyed hash table).  Returns 0,
 * or -1 with a message naming the (sanitised) culprit.
 */
int  xfs_list_check(const struct xfs_list *, char *err, size_t errlen);

/*
 * Receiver: a staging directory "<target>/.confab-<tag>.partial" (tag: a short
 * hex string naming the transfer).  Everything is created below it, through
 * file descriptors (openat/mkdirat with O_NOFOLLOW at every component), so no
 * symlink, whether in the staging tree or planted by anyone, can redirect a
 * write outside it.  Nothing outside the target directory is ever created or
 * touched.
 */
struct xfs_stage;

/* Open (create if create != 0) the staging dir for tag in target_dir (created if missing, mode 0700). */
struct xfs_stage *xfs_stage_open(const char *target_dir, const char *tag, int create,
                                 char *err, size_t errlen);
/* Create directory rel (and missing parents) inside the staging dir. */
int  xfs_stage_mkdir(struct xfs_stage *, const char *rel, char *err, size_t errlen);
/*
 * Open file rel for writing from offset: creates it (and missing parent
 * directories) if absent, truncates it to offset (data past the last
 * persisted offset is discarded), positions nothing (use pwrite).  Returns fd
 * or -1 with a message.  The fd is opened read-write, so the partial prefix
 * can be read back (pread) to prove it on resume.  A file shorter than offset
 * is refused (ERANGE): zeros are never invented; see xfs_stage_file_size.
 * Hard-linked, foreign-owned and non-regular files are refused.
 */
int  xfs_stage_open_file(struct xfs_stage *, const char *rel, uint64_t offset,
                         char *err, size_t errlen);
/*
 * Close a finished file after setting its mtime and mode (mode & 0777 less the
 * process umask, as scp and cp do: never setuid, setgid or sticky) and starting
 * the write-back of its data without waiting for it; make it durable later
 * with xfs_stage_sync_file.  fd is closed even on failure.
 */
int  xfs_stage_finish_file(int fd, int64_t mtime_ns, uint32_t mode, char *err, size_t errlen);
/*
 * Flush (fdatasync) the staged file rel, finished earlier, so that it survives
 * a crash.  Returns 0, or -1 with a message (rel refused, missing, not a
 * plain file, or the flush failed: an I/O error surfaces here).
 */
int  xfs_stage_sync_file(struct xfs_stage *, const char *rel, char *err, size_t errlen);
/*
 * Start writing len bytes from off of fd back to the disk without waiting
 * (sync_file_range), so that a later fdatasync has little left to do.  Best
 * effort: file systems without it simply do nothing.
 */
void xfs_start_writeback(int fd, uint64_t off, uint64_t len);
/*
 * Move the finished top-level entries (names without '/') out of the staging
 * dir into the target dir without ever replacing anything: an existing name
 * becomes "name (1).ext", "name (2).ext", ... (for directories and names
 * without an extension: "name (1)").  final[i] receives the name chosen (caller
 * frees).  Then removes the (now empty) staging dir.  Returns 0 or -1.
 * A name absent from the staging dir gets final[i] = NULL (not an error); a
 * name that cannot be moved also gets NULL and makes the result -1, but the
 * others are still moved.
 */
int  xfs_stage_commit(struct xfs_stage *, const char *const *top, size_t n, char **final,
                      char *err, size_t errlen);
/*
 * Resume helper: the size of the partial file rel in the staging dir.  Returns
 * 0 with *size, 1 if there is no such file yet, -1 if rel is refused or is not
 * a regular file.
 */
int  xfs_stage_file_size(struct xfs_stage *, const char *rel, uint64_t *size);
/* Set a finished directory's mtime and mode (call after its contents are done). */
int  xfs_stage_finish_dir(struct xfs_stage *, const char *rel, int64_t mtime_ns, uint32_t mode,
                          char *err, size_t errlen);
/*
 * The k-th (k >= 1) alternative to the component name used by commit:
 * "stem (k).ext", or "name (k)" for directories and names without an
 * extension; the stem is shortened at a character boundary to stay within
 * XFS_NAME_MAX bytes.  Returns 0, or -1 if out is too small.
 */
int  xfs_conflict_name(const char *name, int is_dir, unsigned k, char *out, size_t outlen);
/* Delete the staging dir and everything in it. */
int  xfs_stage_remove(struct xfs_stage *);
/* Close the handle (the staging dir stays for a later resume). */
void xfs_stage_close(struct xfs_stage *);
/* The absolute path of the target dir (for messages). */
const char *xfs_stage_target(const struct xfs_stage *);

/* Bytes available to an unprivileged user on the file system holding dir. */
int  xfs_free_space(const char *dir, uint64_t *avail);

#endif
