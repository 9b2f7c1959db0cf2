/*
 * persist.h - writing state to disk so that a crash or a full disk never
 * leaves a torn file: whole files replaced atomically, append-only logs
 * appended whole and synced.
 */
#ifndef CONFAB_PERSIST_H
#define CONFAB_PERSIST_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* persist_atomic_write flags */
#define PERSIST_EXCL 1   /* never replace an existing file: keep it, return 1 */

/* Writes a file's content to f; returns 0, or -1 (errno set) to abandon the write. */
typedef int persist_writer_fn(FILE *f, void *arg);

/*
 * Replace path with what writer writes, atomically: a temporary file beside
 * it (mkstemp), mode set with fchmod, written, fsync'ed, renamed over path
 * (with PERSIST_EXCL: linked to path, so that an existing file is kept), and
 * the directory fsync'ed.  Every error is checked; on one the temporary file
 * is removed, path is untouched and err says why ("path: reason").
 * Returns 0, 1 with PERSIST_EXCL when path already existed, or -1.
 */
int persist_atomic_write(const char *path, mode_t mode, int flags,
                         persist_writer_fn *writer, void *arg, char *err, size_t errlen);
/* persist_atomic_write of the len bytes at buf. */
int persist_atomic_write_buf(const char *path, mode_t mode, int flags,
                             const void *buf, size_t len, char *err, size_t errlen);
/*
 * Append the len bytes at buf to path (created with mode if missing) and
 * fsync it.  A write that fails part way is cut back off, so the file holds
 * whole records only.  Returns 0, or -1 with err set.
 */
int persist_append_sync(const char *path, mode_t mode, const void *buf, size_t len,
                        char *err, size_t errlen);
/*
 * persist_append_sync without the fsync, for logs that batch their syncs
 * (app/store.c syncs on a timer).
 */
int persist_append(const char *path, mode_t mode, const void *buf, size_t len,
                   char *err, size_t errlen);
/* fsync the directory that holds path; returns 0 or -1 (errno set). */
int persist_sync_dir(const char *path);

#endif
