/* paths.c - where confab keeps its state. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "paths.h"

/* Join dir and name. */
int
paths_join(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* mkdir -p. */
int
paths_mkdirs(const char *dir, int mode)
{
	char tmp[PATH_MAX], *p;

	if (strlen(dir) >= sizeof tmp)
		return -1;
	strcpy(tmp, dir);
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, (mode_t)mode) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, (mode_t)mode) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* An XDG directory: $var if absolute, else $HOME/fallback. */
static int
xdg(char *out, size_t outlen, const char *var, const char *fallback, const char *leaf)
{
	const char *v = getenv(var), *home = getenv("HOME");
	int n;

	if (v != NULL && v[0] == '/')
		n = snprintf(out, outlen, "%s/%s", v, leaf);
	else if (home != NULL && home[0] == '/')
		n = snprintf(out, outlen, "%s/%s/%s", home, fallback, leaf);
	else
		return -1;
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* The XDG download directory, from user-dirs.dirs if set there. */
static void
download_dir(char *out, size_t outlen)
{
	char cfg[PATH_MAX], line[PATH_MAX + 64], *p, *q;
	const char *home = getenv("HOME");
	FILE *f;
	int n = 0;

	if (home == NULL)
		home = "/tmp";
	snprintf(out, outlen, "%s/Downloads/confab", home);
	if (xdg(cfg, sizeof cfg, "XDG_CONFIG_HOME", ".config", "user-dirs.dirs") == -1 ||
	    (f = fopen(cfg, "re")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "XDG_DOWNLOAD_DIR=\"", 18) != 0)
			continue;
		p = line + 18;
		if ((q = strchr(p, '"')) == NULL)
			break;
		*q = '\0';
		if (strncmp(p, "$HOME/", 6) == 0)
			n = snprintf(out, outlen, "%s/%s/confab", home, p + 6);
		else if (p[0] == '/')
			n = snprintf(out, outlen, "%s/confab", p);
		if (n < 0 || (size_t)n >= outlen)   /* absurdly long: keep the default */
			snprintf(out, outlen, "%s/Downloads/confab", home);
		break;
	}
	fclose(f);
}

/* Resolve and create the directories. */
int
paths_init(struct paths *p, const char *home, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	if (home == NULL || *home == '\0')
		home = getenv("CONFAB_HOME");
	if (home != NULL && *home != '\0') {
		if (strlen(home) + 16 >= sizeof p->state) {
			snprintf(err, errlen, "home directory path too long");
			return -1;
		}
		strcpy(p->config, home);
		strcpy(p->state, home);
		snprintf(p->downloads, sizeof p->downloads, "%s/downloads", home);
	} else {
		if (xdg(p->config, sizeof p->config, "XDG_CONFIG_HOME", ".config", "confab") == -1 ||
		    xdg(p->state, sizeof p->state, "XDG_STATE_HOME", ".local/state", "confab") == -1) {
			snprintf(err, errlen, "cannot find a home directory: set HOME or use --home DIR");
			return -1;
		}
		download_dir(p->downloads, sizeof p->downloads);
	}
	if (paths_mkdirs(p->config, 0700) == -1 || paths_mkdirs(p->state, 0700) == -1) {
		snprintf(err, errlen, "cannot create %s: %s", p->state, strerror(errno));
		return -1;
	}
	return 0;
}

/* Take the state directory's lock, or say who holds it. */
int
paths_lock(const struct paths *p, long *holder, char *err, size_t errlen)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	int fd, len;

	*holder = 0;
	if (paths_join(path, sizeof path, p->state, "lock") == -1) {
		snprintf(err, errlen, "state directory path too long");
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			if ((n = pread(fd, buf, sizeof buf - 1, 0)) > 0) {
				buf[n] = '\0';
				*holder = strtol(buf, NULL, 10);
			}
			close(fd);
			return -2;
		}
		snprintf(err, errlen, "cannot lock %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)len, 0) != len) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Point p->state at a new private directory inside it. */
int
paths_scratch(struct paths *p, char *err, size_t errlen)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof tmp, "%s/scratch.XXXXXX", p->state) >= (int)sizeof tmp) {
		snprintf(err, errlen, "state directory path too long");
		return -1;
	}
	if (mkdtemp(tmp) == NULL) {   /* mode 0700 */
		snprintf(err, errlen, "cannot create a scratch directory in %s: %s", p->state,
		    strerror(errno));
		return -1;
	}
	strcpy(p->state, tmp);
	return 0;
}

/* nftw callback: remove one entry (children come first). */
static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* rm -r, not following symbolic links. */
int
paths_rmtree(const char *dir)
{
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
