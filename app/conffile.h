/*
 * conffile.h - the configuration file: `key = value` lines in
 * CONFIG_DIR/config, documented defaults written on first start.
 *
 * (Named conffile, not config, because "config.h" is autoconf's header and
 * every source file includes it by that name.)
 */
#ifndef CONFAB_CONFFILE_H
#define CONFAB_CONFFILE_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core.h"

#define CONFIG_FILE        "config"     /* its name in the config directory */
#define CONFIG_FILE_MAX    (1 << 20)    /* a longer file is refused */
#define CONFIG_LISTEN_MAX  8            /* as many as core_options.listen */
#define CONFIG_ADDR_MAX    SOCK_ADDRSTRLEN
#define CONFIG_HISTORY_MAX 1000000
#define CONFIG_HISTORY_DEF 1000
#define CONFIG_KEEPALIVE_DEF 15          /* as net_limits_default */

/* config.auto_accept */
enum { CONFIG_ACCEPT_OFF = 0, CONFIG_ACCEPT_VERIFIED };

/* The keys; CONFIG_BIT(key) is its bit in config.set, config.bad and option masks. */
enum config_key {
	CONFIG_NICK = 0,
	CONFIG_LISTEN,
	CONFIG_DOWNLOAD_DIR,
	CONFIG_DISCOVERY,
	CONFIG_DISCOVERY_IFACE,
	CONFIG_NAT,
	CONFIG_BELL,
	CONFIG_COLORS,
	CONFIG_HISTORY_LINES,
	CONFIG_AUTO_ACCEPT,
	CONFIG_KEEPALIVE,
	CONFIG_LIMIT_RATE,
	CONFIG_NKEYS
};
#define CONFIG_BIT(k) (1u << (k))

/* Every setting; a key not in `set` holds its default. */
struct config {
	unsigned set;                     /* keys given a valid value */
	unsigned bad;                     /* keys with a bad value somewhere: kept at the default */
	char     nick[NICK_MAX + 1];      /* "": the login name */
	char     listen[CONFIG_LISTEN_MAX][CONFIG_ADDR_MAX];
	int      nlisten;                 /* 0: the default listeners */
	char     download_dir[PATH_MAX];  /* "": the default */
	int      discovery;               /* 1 on, 0 off */
	char     discovery_iface[IF_NAMESIZE];   /* "": every interface */
	int      nat;                     /* 1 on, 0 off */
	int      bell;                    /* 1 on, 0 off */
	int      colors;                  /* COLORS_AUTO, COLORS_ON, COLORS_OFF */
	int      history_lines;           /* 0..CONFIG_HISTORY_MAX */
	int      auto_accept;             /* CONFIG_ACCEPT_OFF, CONFIG_ACCEPT_VERIFIED */
	int      keepalive;               /* seconds, 1..3600 */
	uint64_t limit_rate;              /* bytes/s, 0: no limit */
};

/* Receives one problem: "FILE:LINE: what is wrong" (sanitised, no newline). */
typedef void config_warn_fn(void *arg, const char *msg);

/* Every key at its default, nothing set. */
void config_defaults(struct config *);
/*
 * Read the file at path into cfg (which should hold the defaults).  A missing
 * file is written with the documented defaults if create_if_missing.  Every
 * problem goes to warn; keys with problems keep their defaults.  Returns the
 * number of problems, or -1 if the file exists but cannot be read (cfg then
 * keeps its defaults).
 */
int  config_load(struct config *, const char *path, int create_if_missing,
                 config_warn_fn *warn, void *arg);
/* Parse a whole file held in memory (name is used in messages); returns the number of problems. */
int  config_parse(struct config *, const char *name, const char *buf, size_t len,
                  config_warn_fn *warn, void *arg);
/*
 * Parse one line (without its newline) of file name at line lineno.  Returns
 * 0, or 1 after reporting a problem.  A key with a bad value is marked in
 * cfg->bad; config_parse then resets it to its default.
 */
int  config_parse_line(struct config *, const char *name, unsigned long lineno,
                       const char *line, size_t len, config_warn_fn *warn, void *arg);
/* Reset every key marked bad to its default. */
void config_drop_bad(struct config *);
/*
 * Write cfg as a config file: set keys as `key = value`, the others as
 * commented defaults.  With docs, every key is preceded by comments that
 * explain it and name its default.  Returns 0 or -1 on a write error.
 */
int  config_write(FILE *, const struct config *, int with_docs);
/* Write the documented defaults to path atomically, mode 0600, never replacing a file. */
int  config_create(const char *path, char *err, size_t errlen);
/*
 * Fill the options the command line did not set (cli_set: CONFIG_BIT mask of
 * the keys it gave) from cfg; keys without a command-line option always come
 * from cfg.  opt keeps pointers into cfg, which must outlive it.
 */
void config_apply(const struct config *, struct core_options *, unsigned cli_set);
/*
 * The effective configuration as a config: every key from opt (after
 * config_apply), with default_download_dir for a download_dir left unset.
 */
void config_from_options(struct config *, const struct core_options *,
                         const char *default_download_dir);
/* The name of a key. */
const char *config_key_name(enum config_key);

#endif
