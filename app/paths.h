/* paths.h - where confab keeps its state. */
#ifndef CONFAB_PATHS_H
#define CONFAB_PATHS_H

#include <limits.h>
#include <stddef.h>

struct paths {
	char config[PATH_MAX];     /* the config file lives here */
	char state[PATH_MAX];      /* identity, peers, history, queue, log */
	char downloads[PATH_MAX];  /* where received files land by default */
};

/*
 * Resolve the directories: home (--home) if given, else $CONFAB_HOME, else the
 * XDG base directories ($XDG_CONFIG_HOME/confab, $XDG_STATE_HOME/confab,
 * the XDG download directory's confab/).  Creates config and state (mode 0700).
 * Returns 0 or -1 with a message in err.
 */
int  paths_init(struct paths *, const char *home, char *err, size_t errlen);
/* Join dir and name into out; returns -1 if it does not fit. */
int  paths_join(char *out, size_t outlen, const char *dir, const char *name);
/* mkdir -p with the given mode. */
int  paths_mkdirs(const char *dir, int mode);
/*
 * Take the lock of the state directory (the file "lock" in it, with our pid):
 * one confab per home.  Returns the lock's fd (keep it open while running),
 * -2 if another process holds it (its pid in *holder, 0 if unknown), or -1
 * with a message in err.
 */
int  paths_lock(const struct paths *, long *holder, char *err, size_t errlen);
/* Make a private scratch state directory inside the state directory (0700). */
int  paths_scratch(struct paths *, char *err, size_t errlen);
/* Remove a directory tree (without following symbolic links). */
int  paths_rmtree(const char *dir);

#endif
