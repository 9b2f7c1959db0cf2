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
#define CONFIG_LISTEN_MAX  NET_LISTEN_MAX /* as many as core_options.listen */
#define CONFIG_ADDR_MAX    SOCK_ADDRSTRLEN
#define CONFIG_HISTORY_MAX 1000000
#define CONFIG_HISTORY_DEF 1000
#define CONFIG_KEEPALIVE_DEF 15          /* as net_limits_default */
#define CONFIG_SHOW_MAX    48           /* bytes of a bad key or value quoted back */

/* config.auto_accept */
enum { CONFIG_ACCEPT_OFF = 0, CONFIG_ACCEPT_VERIFIED };
/* config.cipher */
enum { CONFIG_CIPHER_ALL = 0, CONFIG_CIPHER_CHACHA, CONFIG_CIPHER_AESGCM };
/* bell: "on" is what earlier releases wrote, and means messages */
enum { CONFIG_BELL_OFF = 0, CONFIG_BELL_MESSAGES, CONFIG_BELL_ALL, CONFIG_BELL_ON };

/*
 * Every setting, in the order of --help; those with a config file key are
 * written in this order too.  Each is one row of the table in conffile.c
 * (name, option, type, range, default, documentation), and CONFIG_BIT(key)
 * is its bit in config.set and config.bad.
 */
enum config_key {
	CONFIG_HOME = 0,           /* --home (command line only) */
	CONFIG_NICK,
	CONFIG_LISTEN,
	CONFIG_DOWNLOAD_DIR,
	CONFIG_DISCOVERY,          /* --no-discovery */
	CONFIG_DISCOVERY_IFACE,
	CONFIG_DISCOVERY_REFRESH,  /* command line only */
	CONFIG_NAT,                /* --no-nat */
	CONFIG_NAT_LEASE,          /* command line only */
	CONFIG_DNS_NAME,           /* command line only */
	CONFIG_PROXY,
	CONFIG_TOR,                /* --tor */
	CONFIG_NO_TOR,             /* command line only */
	CONFIG_TOR_CONFIG,
	CONFIG_TOR_BINARY,
	CONFIG_TOR_CONTROL,
	CONFIG_TOR_PASSWORD,
	CONFIG_TOR_ONLY,
	CONFIG_BELL,               /* config file only */
	CONFIG_COLORS,             /* config file only */
	CONFIG_HISTORY_LINES,      /* config file only */
	CONFIG_AUTO_ACCEPT,        /* config file only */
	CONFIG_PASTE_CONFIRM_LINES,   /* config file only */
	CONFIG_KEEPALIVE,
	CONFIG_HANDSHAKE_TIMEOUT,  /* command line only */
	CONFIG_CIPHER,             /* command line only */
	CONFIG_LIMIT_RATE,
	CONFIG_LOG,                /* command line only */
	CONFIG_DEBUG,              /* command line only */
	CONFIG_HEADLESS,           /* command line only: the mode */
	CONFIG_EXIT_WHEN_IDLE,     /* command line only: headless, at the end of input */
	CONFIG_PRINT_CONFIG,       /* command line only: print and exit */
	CONFIG_HELP,               /* command line only: -h, print --help and exit */
	CONFIG_VERSION,            /* command line only: -V */
	CONFIG_NKEYS
};
#define CONFIG_BIT(k) ((uint64_t)1 << (k))

/* Every setting; a key not in `set` holds its default. */
struct config {
	uint64_t set;                     /* keys given a valid value */
	uint64_t bad;                     /* keys with a bad value somewhere: kept at the default */
	char     nick[NICK_MAX + 1];      /* "": the login name */
	char     listen[CONFIG_LISTEN_MAX][CONFIG_ADDR_MAX];
	int      nlisten;                 /* 0: the default listeners */
	char     download_dir[PATH_MAX];  /* "": the default */
	int      discovery;               /* 1 on, 0 off */
	char     discovery_iface[IF_NAMESIZE];   /* "": every interface */
	int      nat;                     /* 1 on, 0 off */
	int      bell;                    /* CONFIG_BELL_* */
	int      colors;                  /* COLORS_AUTO, COLORS_ON, COLORS_OFF */
	uint64_t history_lines;           /* 0..CONFIG_HISTORY_MAX */
	int      auto_accept;             /* CONFIG_ACCEPT_OFF, CONFIG_ACCEPT_VERIFIED */
	uint64_t keepalive;               /* seconds, 1..3600 */
	uint64_t limit_rate;              /* bytes/s, 0: no limit */
	char     proxy[600];              /* socks5://...; "": no proxy */
	int      tor;                     /* 1: an onion service (app/onion.c) */
	char     tor_config[PATH_MAX];    /* torrc lines for the tor we start; "": none */
	char     tor_binary[PATH_MAX];    /* the tor program we start; "": tor in PATH */
	char     tor_control[PATH_MAX];   /* an existing tor's control port; "": start one */
	char     tor_password[256];       /* its password; "": cookie or none */
	int      tor_only;                /* 1: onion only: no LAN, no mapping, no direct connection */
	/* command line only: strings point into argv */
	const char *home, *log, *dns_name;   /* NULL: the default */
	uint64_t discovery_refresh;       /* seconds, 0: the default */
	uint64_t nat_lease;               /* seconds, 0: the default */
	uint64_t handshake_timeout;       /* seconds, 0: the default */
	uint64_t exit_when_idle;          /* seconds, 0: exit at the end of input at once */
	uint64_t paste_confirm_lines;     /* a paste of more lines asks first; 0: never */
	int      cipher;                  /* CONFIG_CIPHER_* */
	int      debug, headless, print_config;   /* 1 on, 0 off */
	int      no_tor;                  /* 1: no onion service, whatever else says */
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
 * Give key k (one with a command-line option) the option's argument arg
 * (NULL for an option without one) in cfg, checked as the config file's
 * value would be, and a relative --download-dir made absolute.  Returns 0,
 * or -1 with a message in err.
 */
int  config_option(struct config *, enum config_key k, const char *arg, char *err, size_t errlen);
/* Copy every key set in cli over cfg (the command line wins over the file). */
void config_merge(struct config *cfg, const struct config *cli);
/*
 * Make cfg the configuration in effect, as --print-config shows it: every
 * config file key set, the nick the core would pick and default_download_dir
 * for a download_dir left unset.
 */
void config_effective(struct config *, const char *default_download_dir);
/* The core's options from cfg; opt keeps pointers into cfg, which must outlive it. */
void config_options(const struct config *, struct core_options *opt);
/* Write the options part of --help: every option with its help text. */
void config_usage(FILE *);
/* The name of a key (its long option for one with no config file key). */
const char *config_key_name(enum config_key);
/* Key k's long option (NULL if none), whether it takes an argument, its short option (0 if none). */
const char *config_key_option(enum config_key k, int *has_arg, int *short_opt);

/* --- the table's parts the config file reads and writes (app/settings.c) --- */
/* Key k's name in the config file, NULL for one of the command line only. */
const char *config_file_key(enum config_key k);
/* Key k's documentation in the config file ('\n' between lines). */
const char *config_key_doc(enum config_key k);
/* What an empty default of key k means. */
const char *config_key_empty(enum config_key k);
/*
 * Give key k the value v, checked against its type and range, or explain
 * in err why not (without the key's name).  From the command line (cli), a
 * relative path is made absolute.  Returns 0 or -1.
 */
int  config_set_value(struct config *, enum config_key k, const char *v, int cli,
                      char *err, size_t errlen);
/* Key k's value in cfg as text that reads back the same (listen: the first address). */
const char *config_value_str(const struct config *, enum config_key k, char *buf, size_t buflen);
/*
 * A number of digits, with an optional k, m or g (thousand, million,
 * billion) if suffix, into *out; refused (-1) above max, before anything
 * can overflow.
 */
int  config_parse_number(const char *v, int suffix, uint64_t max, uint64_t *out);
/* s[0..n) made safe to quote back in a message (out: CONFIG_SHOW_MAX + 8 bytes at least). */
void config_show(char *out, size_t outlen, const char *s, size_t n);

#endif
