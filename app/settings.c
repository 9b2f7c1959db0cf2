/* settings.c - one row per setting (name, option, type, range, default, help): checked, merged, shown. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conffile.h"
#include "reach.h"
#include "sock.h"
#include "socks.h"
#include "text.h"

#define SHOW_MAX       CONFIG_SHOW_MAX
#define RATE_MAX       1000000000000ULL  /* 1000g */

/* How a setting's value is read, checked and written. */
enum setting_type {
	T_NICK = 1,   /* char[]: a nick, or "" for the login name */
	T_LISTEN,     /* config.listen and nlisten: ADDR:PORT list, adds up */
	T_PATH,       /* char[]: absolute path or ~/...; "" the default */
	T_IFACE,      /* char[]: an interface name, "" every interface */
	T_TEXT,       /* char[]: "" or a value that explain() accepts */
	T_ENUM,       /* int: an index into names (on/off is an enum) */
	T_UINT,       /* uint64_t: min..max, digits only */
	T_RATE,       /* uint64_t: 0 or min..max, digits with k, m or g */
	T_ARG,        /* const char *: the argument itself (command line only) */
	T_ACTION,     /* no value: main acts on it (--help, --version) */
};

/* One setting: everything about it in one row. */
struct setting {
	const char *key;       /* in the config file; NULL: command line only */
	const char *opt;       /* long option; NULL: config file only */
	char        shortopt;  /* short option, 0 if none */
	const char *arg;       /* the option's argument in --help; NULL: it takes none */
	const char *flagval;   /* an option without argument: the value it gives */
	enum setting_type type;
	size_t      off, size; /* the field in struct config */
	uint64_t    min, max, def;    /* T_UINT, T_RATE; def is the index for T_ENUM */
	const char *const *names;     /* T_ENUM: the values, NULL-terminated */
	int       (*check)(const char *);   /* T_ARG: 0 if the argument is usable */
	const char *expect;    /* a valid value, for messages ("1 to 3600 seconds") */
	const char *doc;       /* the config file's comment; '\n' separates lines */
	const char *empty;     /* what an empty default means (NULL: not empty) */
	const char *help;      /* --help text after the option; '\n' separates lines */
	int       (*explain)(const char *, char *why, size_t);   /* T_TEXT: 0, or -1 and why */
};

/* T_TEXT check of a proxy URL (net/socks.c parses it the same way at start). */
static int
check_proxy(const char *v, char *why, size_t whylen)
{
	struct socks_conf sc;

	return socks_parse_url(v, &sc, why, whylen);
}

/* T_TEXT check of a tor control port: ADDR:PORT (numeric) or unix:/PATH. */
static int
check_tor_control(const char *v, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	if (strncmp(v, "unix:/", 6) == 0 && strlen(v) - 5 < 108)
		return 0;
	if (sock_parse(v, 0, &ss, &sl) == 0 && strchr(v, ':') != NULL)
		return 0;
	snprintf(why, whylen, "a tor control port is ADDR:PORT (numeric) or unix:/PATH");
	return -1;
}

/* T_TEXT check of a tor control password: printable, one line. */
static int
check_tor_password(const char *v, char *why, size_t whylen)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f) {
			snprintf(why, whylen, "a control password is one line of printable characters");
			return -1;
		}
	return 0;
}

#define F(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)
#define STR_(x) #x
#define STR(x) STR_(x)

static const char *const onoff[] = { "off", "on", NULL };
/*
 * An on/off setting: its config file key (NULL: command line only), long
 * option (NULL: config file only) and the value the option gives, its field,
 * its default (an index into onoff), the config file's comment, --help's text.
 */
#define ONOFF(key, opt, flagval, field, def, doc, help) \
	{ key, opt, 0, NULL, flagval, T_ENUM, F(field), 0, 0, def, onoff, NULL, "on or off", doc, NULL, help, NULL }
static const char *const colors[] = { "auto", "on", "off", NULL };   /* COLORS_* */
static const char *const bells[] = { "off", "messages", "all", "on", NULL };   /* CONFIG_BELL_* */
static const char *const accept_names[] = { "off", "verified", NULL };   /* CONFIG_ACCEPT_* */
/* CONFIG_CIPHER_*: the default (both) has no name, so --cipher takes only the two */
static const char *const ciphers[] = { "", "chachapoly", "aesgcm", NULL };

/* --dns-name: a host name, optionally with :PORT. */
static int
check_dns_name(const char *v)
{
	char host[256];
	uint16_t port;

	return reach_parse_dns_name(v, host, sizeof host, &port);
}

static const struct setting settings[CONFIG_NKEYS] = {
	[CONFIG_HOME] = { NULL, "home", 0, "DIR", NULL, T_ARG, F(home), 0, 0, 0, NULL, NULL,
	    "a directory", NULL, NULL,
	    "keep all state in DIR (default: $CONFAB_HOME, else XDG dirs)", NULL },
	[CONFIG_NICK] = { "nick", "nick", 0, "NAME", NULL, T_NICK, F(nick), 0, 0, 0, NULL, NULL,
	    "1 to " STR(NICK_MAX) " bytes of printable UTF-8 without spaces",
	    "The name peers see: 1 to 64 bytes of printable UTF-8 without spaces.\n"
	    "Command line: --nick.",
	    "your login name ($USER)",
	    "the nick peers see (default: $USER)", NULL },
	[CONFIG_LISTEN] = { "listen", "listen", 0, "ADDR:PORT", NULL, T_LISTEN, F(listen), 0, 0, 0, NULL, NULL,
	    "ADDR:PORT",
	    "Where to accept connections: ADDR:PORT, or [ADDR]:PORT for IPv6;\n"
	    "port 0 picks any free port.  Repeat the key or separate addresses\n"
	    "with commas, at most 8 in all.\n"
	    "Command line: --listen (which replaces every address given here).",
	    "0.0.0.0 and [::] on port 7470\n(or on any free port if 7470 is taken)",
	    "listen there (repeatable; default 0.0.0.0 and [::] port " STR(DEFAULT_PORT) ",\n"
	    "or any free port if that one is taken)", NULL },
	[CONFIG_DOWNLOAD_DIR] = { "download_dir", "download-dir", 0, "DIR", NULL, T_PATH, F(download_dir),
	    0, 0, 0, NULL, NULL,
	    "an absolute path or ~/...",
	    "Where received files go: an absolute path, or one starting with ~/\n"
	    "for your home directory.  Command line: --download-dir.",
	    "confab/ in the XDG download\ndirectory (DIR/downloads with --home DIR)",
	    "where received files go (default: XDG download dir/confab,\n"
	    "or DIR/downloads with --home DIR)", NULL },
	[CONFIG_DISCOVERY] = ONOFF("discovery", "no-discovery", "off", discovery, 1,
	    "Announce yourself to, and look for, peers on the local network: on or off.\n"
	    "Command line: --no-discovery.",
	    "do not announce or look for peers on the LAN"),
	[CONFIG_DISCOVERY_IFACE] = { "discovery_iface", "discovery-iface", 0, "IFACE", NULL, T_IFACE,
	    F(discovery_iface), 0, 0, 0, NULL, NULL,
	    "an interface name (under " STR(IF_NAMESIZE) " bytes)",
	    "Do LAN discovery on this network interface only (for example eth0).\n"
	    "Command line: --discovery-iface.",
	    "every interface",
	    "LAN discovery on IFACE only (may be loopback)", NULL },
	[CONFIG_DISCOVERY_REFRESH] = { NULL, "discovery-refresh", 0, "SECS", NULL, T_UINT,
	    F(discovery_refresh), 1, 3600, 0, NULL, NULL,
	    "1 to 3600 seconds", NULL, NULL,
	    "shortest LAN announcement interval (default 30;\n"
	    "shorter for tests: peers expire after 3 missed ones)", NULL },
	[CONFIG_NAT] = ONOFF("nat", "no-nat", "off", nat, 1,
	    "Ask the router for a port mapping (UPnP or NAT-PMP) so that peers\n"
	    "beyond it can connect: on or off.  Command line: --no-nat.",
	    "do not ask the router for a port mapping"),
	[CONFIG_NAT_LEASE] = { NULL, "nat-lease", 0, "SECS", NULL, T_UINT, F(nat_lease), 2, 86400, 0,
	    NULL, NULL,
	    "2 to 86400 seconds", NULL, NULL,
	    "port mapping lease asked of the router (default 3600;\n"
	    "renewed at half time, removed on exit)", NULL },
	[CONFIG_DNS_NAME] = { NULL, "dns-name", 0, "NAME[:PORT]", NULL, T_ARG, F(dns_name), 0, 0, 0,
	    NULL, check_dns_name,
	    "a host name, optionally with :PORT", NULL, NULL,
	    "a DNS name that reaches this host: put in invite codes", NULL },
	[CONFIG_PROXY] = { "proxy", "proxy", 0, "socks5://[USER:PASS@]HOST:PORT", NULL, T_TEXT, F(proxy),
	    0, 0, 0, NULL, NULL,
	    "socks5://[USER:PASS@]HOST:PORT with a numeric HOST or localhost",
	    "Open every outgoing connection through this SOCKS5 proxy:\n"
	    "socks5://[USER:PASS@]HOST:PORT with a numeric HOST (for example the\n"
	    "port of `ssh -D PORT host`).  Command line: --proxy.",
	    "no proxy",
	    "open every outgoing connection through\n"
	    "this SOCKS5 proxy (e.g. ssh -D PORT); names are resolved by\n"
	    "the proxy; LAN peers are still dialled directly", check_proxy },
	[CONFIG_TOR] = ONOFF("tor", "tor", "on", tor, 0,
	    "Be reachable as a Tor onion service (a tor that confab starts, or\n"
	    "the one at tor_control): on or off.  Off by default: starting tor\n"
	    "contacts the Tor network.  tor_config or tor_control turn it on.\n"
	    "Command line: --tor, --no-tor.",
	    "be reachable as a Tor onion service: start tor (needs\n"
	    "tor installed; the address is kept in the state dir)"),
	[CONFIG_NO_TOR] = ONOFF(NULL, "no-tor", "on", no_tor, 0, NULL,
	    "no onion service, whatever the config file says"),
	[CONFIG_TOR_CONFIG] = { "tor_config", "tor-config", 0, "FILE", NULL, T_PATH, F(tor_config),
	    0, 0, 0, NULL, NULL,
	    "an absolute path or ~/...",
	    "A file of torrc lines for the tor confab starts (bridges, a private\n"
	    "Tor network); implies tor = on.  Command line: --tor-config.",
	    "none",
	    "add the torrc lines in FILE to the tor confab starts\n"
	    "(implies --tor)", NULL },
	[CONFIG_TOR_BINARY] = { "tor_binary", "tor-binary", 0, "PATH", NULL, T_PATH, F(tor_binary),
	    0, 0, 0, NULL, NULL,
	    "an absolute path or ~/...",
	    "The tor program confab starts (with tor = on), when it is not the\n"
	    "tor found in PATH.  Command line: --tor-binary.",
	    "tor, found in PATH",
	    "the tor program to start (default: tor in PATH)", NULL },
	[CONFIG_TOR_CONTROL] = { "tor_control", "tor-control", 0, "ADDR:PORT|unix:PATH", NULL, T_TEXT,
	    F(tor_control), 0, 0, 0, NULL, NULL,
	    "ADDR:PORT (numeric) or unix:/PATH",
	    "Use the tor already running with this control port instead of\n"
	    "starting one (cookie authentication, or tor_password); implies\n"
	    "tor = on.  Command line: --tor-control.",
	    "start a tor of our own",
	    "use the running tor with this control port\n"
	    "(implies --tor; it must run on this host)", check_tor_control },
	[CONFIG_TOR_PASSWORD] = { "tor_password", "tor-password", 0, "PASS", NULL, T_TEXT, F(tor_password),
	    0, 0, 0, NULL, NULL,
	    "one line of printable characters",
	    "The password of tor_control's control port (HashedControlPassword);\n"
	    "empty: its cookie file.  Command line: --tor-password.",
	    "the cookie file",
	    "the password of --tor-control's port", check_tor_password },
	[CONFIG_TOR_ONLY] = ONOFF("tor_only", "tor-only", "on", tor_only, 0,
	    "Privacy mode: reachable only as an onion service and reaching peers\n"
	    "only at onion addresses; no LAN discovery, no port mapping, no direct\n"
	    "connection, no listener but the onion service's on loopback;\n"
	    "implies tor = on.\n"
	    "Command line: --tor-only.",
	    "onion only: no LAN discovery, no port mapping, no direct\n"
	    "connections, loopback listener for tor (implies --tor)"),
	[CONFIG_BELL] = { "bell", NULL, 0, NULL, NULL, T_ENUM, F(bell), 0, 0, CONFIG_BELL_MESSAGES, bells, NULL,
	    "messages, all or off",
	    "Ring the terminal bell for a window you are not looking at: messages\n"
	    "(a message arrives there), all (offers and security warnings too), or\n"
	    "off (on, as earlier releases wrote, means messages).  /bell changes it\n"
	    "until you quit.", NULL, NULL, NULL },
	[CONFIG_COLORS] = { "colors", NULL, 0, NULL, NULL, T_ENUM, F(colors), 0, 0, COLORS_AUTO, colors, NULL,
	    "on, off or auto",
	    "Colours on the chat screen: on, off, or auto (colours unless the\n"
	    "NO_COLOR environment variable is set and not empty).", NULL, NULL, NULL },
	[CONFIG_HISTORY_LINES] = { "history_lines", NULL, 0, NULL, NULL, T_UINT, F(history_lines),
	    0, CONFIG_HISTORY_MAX, CONFIG_HISTORY_DEF, NULL, NULL,
	    "a number from 0 to " STR(CONFIG_HISTORY_MAX),
	    "Conversation lines kept on disk for each peer and shown again after\n"
	    "a restart: 0 (keep none) to 1000000.", NULL, NULL, NULL },
	[CONFIG_AUTO_ACCEPT] = { "auto_accept", NULL, 0, NULL, NULL, T_ENUM, F(auto_accept),
	    0, 0, CONFIG_ACCEPT_OFF, accept_names, NULL,
	    "off or verified",
	    "Accept offered files without asking: off, or verified (only from\n"
	    "peers you have marked verified with /trust).", NULL, NULL, NULL },
	[CONFIG_PASTE_CONFIRM_LINES] = { "paste_confirm_lines", NULL, 0, NULL, NULL, T_UINT,
	    F(paste_confirm_lines), 0, 100000, 5, NULL, NULL,
	    "a number from 0 to 100000",
	    "A paste of more lines than this is sent only after you answer y (n\n"
	    "drops it), like irssi's paste_verify_line_count: 0 (never ask) to\n"
	    "100000.  A paste goes as one message, its blank lines kept.", NULL, NULL, NULL },
	[CONFIG_KEEPALIVE] = { "keepalive", "keepalive", 0, "SECS", NULL, T_UINT, F(keepalive),
	    1, 3600, CONFIG_KEEPALIVE_DEF, NULL, NULL,
	    "1 to 3600 seconds",
	    "Seconds of silence after which a peer is pinged, 1 to 3600; a peer\n"
	    "silent for three times as long is dropped.  Command line: --keepalive.", NULL,
	    "ping a silent peer after SECS, drop it after 3*SECS (default 15)", NULL },
	[CONFIG_HANDSHAKE_TIMEOUT] = { NULL, "handshake-timeout", 0, "SECS", NULL, T_UINT,
	    F(handshake_timeout), 1, 600, 0, NULL, NULL,
	    "1 to 600 seconds", NULL, NULL,
	    "drop a peer that has not finished its handshake (10)", NULL },
	[CONFIG_CIPHER] = { NULL, "cipher", 0, "NAME", NULL, T_ENUM, F(cipher), 0, 0, CONFIG_CIPHER_ALL,
	    ciphers, NULL,
	    "chachapoly or aesgcm", NULL, NULL,
	    "offer only chachapoly or aesgcm (default: both where available)", NULL },
	[CONFIG_LIMIT_RATE] = { "limit_rate", "limit-rate", 0, "RATE", NULL, T_RATE, F(limit_rate),
	    1000, RATE_MAX, 0, NULL, NULL,
	    "0 or bytes per second from 1000 to 1000g (suffix k, m or g)",
	    "Cap on outgoing file data in bytes per second, with an optional\n"
	    "suffix k, m or g (thousand, million, billion): 0 for no cap, else\n"
	    "1000 at least.  Command line: --limit-rate.", NULL,
	    "cap outgoing file data at RATE bytes/s (suffix k, m, g;\n"
	    "1000 to 1000g; 0: no cap, e.g. to override the config file)", NULL },
	[CONFIG_LOG] = { NULL, "log", 0, "FILE", NULL, T_ARG, F(log), 0, 0, 0, NULL, NULL,
	    "a file", NULL, NULL,
	    "write diagnostics to FILE (default: confab.log in the state dir)", NULL },
	[CONFIG_DEBUG] = ONOFF(NULL, "debug", "on", debug, 0, NULL, "more detail in the log"),
	[CONFIG_HEADLESS] = ONOFF(NULL, "headless", "on", headless, 0, NULL,
	    "run without a screen (see confab(1), HEADLESS MODE)"),
	[CONFIG_EXIT_WHEN_IDLE] = { NULL, "exit-when-idle", 0, "SECS", NULL, T_UINT, F(exit_when_idle),
	    1, 86400, 0, NULL, NULL,
	    "1 to 86400 seconds", NULL, NULL,
	    "headless: at the end of input, exit once every queued\n"
	    "message is delivered and every transfer has ended (0);\n"
	    "exit 3 if that takes over SECS", NULL },
	[CONFIG_PRINT_CONFIG] = ONOFF(NULL, "print-config", "on", print_config, 0, NULL,
	    "print the configuration in effect (the config file with\n"
	    "these options applied) as a config file, and exit"),
	[CONFIG_HELP] = { NULL, "help", 'h', NULL, NULL, T_ACTION, 0, 0, 0, 0, 0, NULL, NULL,
	    "", NULL, NULL,
	    "show this help", NULL },
	[CONFIG_VERSION] = { NULL, "version", 'V', NULL, NULL, T_ACTION, 0, 0, 0, 0, 0, NULL, NULL,
	    "", NULL, NULL,
	    "show the version", NULL },
};
#undef ONOFF
#undef F

/* The name of a key (its long option for one with no config file key). */
const char *
config_key_name(enum config_key k)
{
	if ((unsigned)k >= CONFIG_NKEYS)
		return "?";
	return settings[k].key != NULL ? settings[k].key : settings[k].opt;
}

/* Key k's name in the config file, NULL for one of the command line only. */
const char *
config_file_key(enum config_key k)
{
	return (unsigned)k < CONFIG_NKEYS ? settings[k].key : NULL;
}

/* Key k's documentation in the config file. */
const char *
config_key_doc(enum config_key k)
{
	return (unsigned)k < CONFIG_NKEYS && settings[k].doc != NULL ? settings[k].doc : "";
}

/* What an empty default of key k means. */
const char *
config_key_empty(enum config_key k)
{
	return (unsigned)k < CONFIG_NKEYS && settings[k].empty != NULL ? settings[k].empty : "the default";
}

/* Key k's long option, whether it takes an argument, its short option. */
const char *
config_key_option(enum config_key k, int *has_arg, int *short_opt)
{
	if ((unsigned)k >= CONFIG_NKEYS)
		return NULL;
	*has_arg = settings[k].arg != NULL;
	*short_opt = settings[k].shortopt;
	return settings[k].opt;
}

/* Reset one key to its default. */
static void
key_default(struct config *cfg, enum config_key k)
{
	const struct setting *s = &settings[k];
	char *field = (char *)cfg + s->off;

	switch (s->type) {
	case T_LISTEN:
		memset(cfg->listen, 0, sizeof cfg->listen);
		cfg->nlisten = 0;
		break;
	case T_NICK: case T_PATH: case T_IFACE: case T_TEXT:
		field[0] = '\0';
		break;
	case T_ENUM:
		*(int *)(void *)field = (int)s->def;
		break;
	case T_UINT: case T_RATE:
		*(uint64_t *)(void *)field = s->def;
		break;
	case T_ARG:
		*(const char **)(void *)field = NULL;
		break;
	case T_ACTION:
		break;
	}
	cfg->set &= ~CONFIG_BIT(k);
}

/* Every key at its default, nothing set. */
void
config_defaults(struct config *cfg)
{
	int k;

	memset(cfg, 0, sizeof *cfg);
	for (k = 0; k < CONFIG_NKEYS; k++)
		key_default(cfg, (enum config_key)k);
}

/* Reset every key marked bad to its default. */
void
config_drop_bad(struct config *cfg)
{
	int k;

	for (k = 0; k < CONFIG_NKEYS; k++)
		if (cfg->bad & CONFIG_BIT(k))
			key_default(cfg, (enum config_key)k);
}

/* s[0..n) made safe to quote back in a message, shortened if long. */
void
config_show(char *out, size_t outlen, const char *s, size_t n)
{
	size_t len;

	if (outlen < SHOW_MAX + 8)
		abort();
	len = text_sanitize((const uint8_t *)s, n > SHOW_MAX ? SHOW_MAX : n, out, SHOW_MAX + 1, 0);
	if (n > SHOW_MAX)
		snprintf(out + len, outlen - len, "...");
}

/* Copy s into out[outlen] if it fits; returns whether it did. */
static int
fits(char *out, size_t outlen, const char *s)
{
	size_t n = strlen(s);

	if (n >= outlen)
		return 0;
	memcpy(out, s, n + 1);
	return 1;
}

/*
 * A number of digits with, if suffix, an optional k, m or g (thousand,
 * million, billion) into *out, refused above max before anything can
 * overflow.
 */
int
config_parse_number(const char *v, int suffix, uint64_t max, uint64_t *out)
{
	uint64_t n = 0, mult = 1;
	size_t len = strlen(v), i;

	if (suffix && len > 0) {
		switch (v[len - 1]) {
		case 'k': case 'K': mult = 1000ULL; len--; break;
		case 'm': case 'M': mult = 1000000ULL; len--; break;
		case 'g': case 'G': mult = 1000000000ULL; len--; break;
		}
	}
	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if ((uint64_t)(v[i] - '0') > max / mult || n > (max / mult - (uint64_t)(v[i] - '0')) / 10)
			return -1;   /* beyond max: refused before it can overflow */
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	*out = n * mult;
	return 0;
}

/* Add the comma-separated addresses in v to cfg's listen list. */
static int
parse_listen(struct config *cfg, const char *v, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char addr[CONFIG_ADDR_MAX], shown[SHOW_MAX + 8];
	const char *p = v, *end, *a, *b;

	if (*v == '\0') {           /* empty: back to the default listeners */
		cfg->nlisten = 0;
		return 0;
	}
	for (;;) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		for (a = p; a < end && (*a == ' ' || *a == '\t'); a++)
			;
		for (b = end; b > a && (b[-1] == ' ' || b[-1] == '\t'); b--)
			;
		if (a == b) {
			snprintf(err, errlen, "empty address in the list");
			return -1;
		}
		config_show(shown, sizeof shown, a, (size_t)(b - a));
		if ((size_t)(b - a) >= sizeof addr) {
			snprintf(err, errlen, "expected ADDR:PORT, got '%s'", shown);
			return -1;
		}
		memcpy(addr, a, (size_t)(b - a));
		addr[b - a] = '\0';
		if (sock_parse(addr, DEFAULT_PORT, &ss, &sl) == -1) {
			snprintf(err, errlen, "expected ADDR:PORT with a numeric address, got '%s'", shown);
			return -1;
		}
		if (cfg->nlisten == CONFIG_LISTEN_MAX) {
			snprintf(err, errlen, "more than %d addresses", CONFIG_LISTEN_MAX);
			return -1;
		}
		memcpy(cfg->listen[cfg->nlisten++], addr, (size_t)(b - a) + 1);
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

/*
 * Give key k the value v, or explain in err why not (without the key's
 * name).  From the command line (cli), a relative path is made absolute.
 */
int
config_set_value(struct config *cfg, enum config_key k, const char *v, int cli, char *err, size_t errlen)
{
	const struct setting *s = &settings[k];
	char *field = (char *)cfg + s->off, shown[SHOW_MAX + 8];
	const char *home;
	size_t len = strlen(v);
	uint64_t n;
	int i;

	config_show(shown, sizeof shown, v, len);
	switch (s->type) {
	case T_NICK:
		if (len > 0 && !core_nick_ok(v))
			goto bad;
		memcpy(field, v, len + 1);   /* core_nick_ok: at most NICK_MAX bytes */
		return 0;
	case T_LISTEN:
		return parse_listen(cfg, v, err, errlen);
	case T_PATH:
		if (len == 0) {
			field[0] = '\0';
			return 0;
		}
		if (v[0] == '~' && (v[1] == '/' || v[1] == '\0')) {
			home = getenv("HOME");
			if (home == NULL || home[0] != '/') {
				snprintf(err, errlen, "~ needs HOME set to an absolute path");
				return -1;
			}
			if ((size_t)snprintf(field, s->size, "%s%s", home, v + 1) >= s->size) {
				field[0] = '\0';
				snprintf(err, errlen, "path too long");
				return -1;
			}
			return 0;
		}
		if (v[0] != '/' && cli) {
			char abs[PATH_MAX];   /* what realpath may write */

			if (realpath(v, abs) == NULL) {
				snprintf(err, errlen, "%s: %s", shown, strerror(errno));
				return -1;
			}
			if (!fits(field, s->size, abs)) {
				snprintf(err, errlen, "path too long");
				return -1;
			}
			return 0;
		}
		if (v[0] != '/' || len >= s->size)
			goto bad;
		memcpy(field, v, len + 1);
		return 0;
	case T_IFACE:
		if (len >= s->size || strpbrk(v, "/: \t") != NULL)
			goto bad;
		memcpy(field, v, len + 1);
		return 0;
	case T_TEXT:
		if (len > 0 && len >= s->size) {
			snprintf(err, errlen, "too long");
			return -1;
		}
		if (len > 0 && s->explain != NULL && s->explain(v, err, errlen) != 0)
			return -1;
		memcpy(field, v, len + 1);
		return 0;
	case T_ENUM:
		for (i = 0; s->names[i] != NULL; i++) {
			if (strcasecmp(v, s->names[i]) == 0) {
				*(int *)(void *)field = i;
				return 0;
			}
		}
		goto bad;
	case T_UINT:
	case T_RATE:
		if (config_parse_number(v, s->type == T_RATE, s->max, &n) == -1 ||
		    (n < s->min && !(n == 0 && s->type == T_RATE)))
			goto bad;
		*(uint64_t *)(void *)field = n;
		return 0;
	case T_ARG:
		if (s->check != NULL && s->check(v) != 0)
			goto bad;
		*(const char **)(void *)field = v;   /* command line only: argv outlives cfg's use */
		return 0;
	case T_ACTION:
		return 0;
	}
bad:
	snprintf(err, errlen, "expected %s, got '%s'", s->expect, shown);
	return -1;
}

/* A rate in its shortest exact form (40000000 as 40m). */
static void
rate_str(uint64_t r, char *out, size_t outlen)
{
	if (r != 0 && r % 1000000000ULL == 0)
		snprintf(out, outlen, "%llug", (unsigned long long)(r / 1000000000ULL));
	else if (r != 0 && r % 1000000ULL == 0)
		snprintf(out, outlen, "%llum", (unsigned long long)(r / 1000000ULL));
	else if (r != 0 && r % 1000ULL == 0)
		snprintf(out, outlen, "%lluk", (unsigned long long)(r / 1000ULL));
	else
		snprintf(out, outlen, "%llu", (unsigned long long)r);
}

/* Key k's value in cfg as text (listen: the first address). */
const char *
config_value_str(const struct config *cfg, enum config_key k, char *buf, size_t buflen)
{
	const struct setting *s = &settings[k];
	const char *field = (const char *)cfg + s->off;
	int e, i;

	switch (s->type) {
	case T_LISTEN:
		return cfg->nlisten > 0 ? cfg->listen[0] : "";
	case T_NICK: case T_PATH: case T_IFACE: case T_TEXT:
		return field;
	case T_ENUM:
		e = *(const int *)(const void *)field;
		for (i = 0; s->names[i] != NULL; i++)
			if (i == e)
				return s->names[i];
		return s->names[s->def];
	case T_UINT:
		snprintf(buf, buflen, "%llu", (unsigned long long)*(const uint64_t *)(const void *)field);
		return buf;
	case T_RATE:
		rate_str(*(const uint64_t *)(const void *)field, buf, buflen);
		return buf;
	case T_ARG:
		return *(const char *const *)(const void *)field != NULL ?
		    *(const char *const *)(const void *)field : "";
	case T_ACTION:
		break;
	}
	return "";
}

/* --- options ------------------------------------------------------------- */

/* Give key k the option's argument. */
int
config_option(struct config *cfg, enum config_key k, const char *arg, char *err, size_t errlen)
{
	const struct setting *s;
	char why[512];

	if ((unsigned)k >= CONFIG_NKEYS || settings[k].opt == NULL) {
		snprintf(err, errlen, "no such option");
		return -1;
	}
	s = &settings[k];
	if (s->arg == NULL)
		arg = s->flagval != NULL ? s->flagval : "";
	else if (arg == NULL || (arg[0] == '\0' && s->type != T_ARG)) {
		snprintf(err, errlen, "--%s: expected %s, got ''", s->opt, s->expect);
		return -1;
	}
	if (config_set_value(cfg, k, arg, 1, why, sizeof why) == -1) {
		snprintf(err, errlen, "--%s: %s", s->opt, why);
		return -1;
	}
	cfg->set |= CONFIG_BIT(k);
	cfg->bad &= ~CONFIG_BIT(k);
	return 0;
}

/* Copy every key set in cli over cfg. */
void
config_merge(struct config *cfg, const struct config *cli)
{
	const struct setting *s;
	int k;

	for (k = 0; k < CONFIG_NKEYS; k++) {
		if (!(cli->set & CONFIG_BIT(k)))
			continue;
		s = &settings[k];
		if (s->type == T_LISTEN) {
			memcpy(cfg->listen, cli->listen, sizeof cfg->listen);
			cfg->nlisten = cli->nlisten;
		} else if (s->size > 0)
			memcpy((char *)cfg + s->off, (const char *)cli + s->off, s->size);
		cfg->set |= CONFIG_BIT(k);
		cfg->bad &= ~CONFIG_BIT(k);
	}
}

/* Make cfg the configuration in effect. */
void
config_effective(struct config *cfg, const char *default_download_dir)
{
	const char *user = getenv("USER");
	int k;

	/* the login name, as the core would pick it, if it is a valid nick */
	if (cfg->nick[0] == '\0' && user != NULL && core_nick_ok(user))
		fits(cfg->nick, sizeof cfg->nick, user);
	if (cfg->download_dir[0] == '\0' && default_download_dir != NULL)
		fits(cfg->download_dir, sizeof cfg->download_dir, default_download_dir);
	for (k = 0; k < CONFIG_NKEYS; k++)
		if (settings[k].key != NULL)
			cfg->set |= CONFIG_BIT(k);
}

/* The core's options from cfg. */
void
config_options(const struct config *cfg, struct core_options *opt)
{
	int i;

	opt->home = cfg->home;
	opt->nick = cfg->nick[0] != '\0' ? cfg->nick : NULL;
	for (i = 0; i < cfg->nlisten && i < CONFIG_LISTEN_MAX; i++)
		opt->listen[i] = cfg->listen[i];
	opt->nlisten = i;
	opt->download_dir = cfg->download_dir[0] != '\0' ? cfg->download_dir : NULL;
	opt->discovery = cfg->discovery;
	opt->discovery_iface = cfg->discovery_iface[0] != '\0' ? cfg->discovery_iface : NULL;
	opt->discovery_refresh_s = (int)cfg->discovery_refresh;
	opt->nat = cfg->nat;
	opt->nat_lease_s = (uint32_t)cfg->nat_lease;
	opt->dns_name = cfg->dns_name;
	opt->bell = cfg->bell != CONFIG_BELL_OFF;
	opt->bell_all = cfg->bell == CONFIG_BELL_ALL;
	opt->colors = cfg->colors;
	opt->history_lines = (size_t)cfg->history_lines;
	opt->history_set = 1;
	opt->auto_accept_verified = cfg->auto_accept == CONFIG_ACCEPT_VERIFIED;
	opt->keepalive_s = (int)cfg->keepalive;
	opt->handshake_s = (int)cfg->handshake_timeout;
	opt->ciphers = cfg->cipher == CONFIG_CIPHER_CHACHA ? WIRE_CIPHER_CHACHA :
	    cfg->cipher == CONFIG_CIPHER_AESGCM ? WIRE_CIPHER_AESGCM : 0;
	opt->limit_rate = cfg->limit_rate;
	opt->proxy = cfg->proxy[0] != '\0' ? cfg->proxy : NULL;
	opt->tor = (cfg->tor || cfg->tor_config[0] != '\0' || cfg->tor_control[0] != '\0') && !cfg->no_tor;
	opt->tor_only = cfg->tor_only;
	if (opt->tor_only) {
		/* privacy mode: nothing leaves but through tor (--no-tor cannot undo it) */
		opt->tor = 1;
		opt->discovery = 0;
		opt->nat = 0;
	}
	opt->tor_config = cfg->tor_config[0] != '\0' ? cfg->tor_config : NULL;
	opt->tor_binary = cfg->tor_binary[0] != '\0' ? cfg->tor_binary : NULL;
	opt->tor_control = cfg->tor_control[0] != '\0' ? cfg->tor_control : NULL;
	opt->tor_password = cfg->tor_password[0] != '\0' ? cfg->tor_password : NULL;
	opt->log_file = cfg->log;
	opt->debug = cfg->debug;
	opt->exit_when_idle_s = (int)cfg->exit_when_idle;
	opt->paste_confirm_lines = (size_t)cfg->paste_confirm_lines;
}

/* Write the options part of --help. */
void
config_usage(FILE *f)
{
	const struct setting *s;
	const char *p, *nl;
	char head[64];
	int k;

	for (k = 0; k < CONFIG_NKEYS; k++) {
		s = &settings[k];
		if (s->opt == NULL || s->help == NULL)
			continue;
		if (s->shortopt != 0)
			snprintf(head, sizeof head, "-%c, --%s", s->shortopt, s->opt);
		else
			snprintf(head, sizeof head, "--%s%s%s", s->opt, s->arg ? " " : "", s->arg ? s->arg : "");
		fprintf(f, "  %-18s  ", head);
		for (p = s->help; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
			fprintf(f, "%.*s\n%22s", (int)(nl - p), p, "");
		fprintf(f, "%s\n", p);
	}
}

