/* conffile.c - the configuration file: parse, check, document, write. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conffile.h"
#include "sock.h"
#include "text.h"

#define VALUE_MAX      PATH_MAX  /* longest value, after unquoting */
#define KEY_MAX        32        /* longest key we try to recognise */
#define SHOW_MAX       48        /* bytes of a bad key or value quoted back */
#define PROBLEMS_SHOWN 20        /* a file with more problems is not worth reading out */
#define RATE_MAX       1000000000000ULL  /* 1000g */

/* One key: its name and documentation. */
struct key_def {
	const char *name;
	const char *doc;     /* comment text; '\n' separates lines */
	const char *empty;   /* what the default, an empty value, means (NULL: not empty) */
};

static const struct key_def keys[CONFIG_NKEYS] = {
	[CONFIG_NICK] = { "nick",
	    "The name peers see: 1 to 64 bytes of printable UTF-8 without spaces.\n"
	    "Command line: --nick.",
	    "your login name ($USER)" },
	[CONFIG_LISTEN] = { "listen",
	    "Where to accept connections: ADDR:PORT, or [ADDR]:PORT for IPv6;\n"
	    "port 0 picks any free port.  Repeat the key or separate addresses\n"
	    "with commas, at most 8 in all.\n"
	    "Command line: --listen (which replaces every address given here).",
	    "0.0.0.0 and [::] on port 7470\n(or on any free port if 7470 is taken)" },
	[CONFIG_DOWNLOAD_DIR] = { "download_dir",
	    "Where received files go: an absolute path, or one starting with ~/\n"
	    "for your home directory.  Command line: --download-dir.",
	    "confab/ in the XDG download\ndirectory (DIR/downloads with --home DIR)" },
	[CONFIG_DISCOVERY] = { "discovery",
	    "Announce yourself to, and look for, peers on the local network: on or off.\n"
	    "Command line: --no-discovery.", NULL },
	[CONFIG_DISCOVERY_IFACE] = { "discovery_iface",
	    "Do LAN discovery on this network interface only (for example eth0).\n"
	    "Command line: --discovery-iface.",
	    "every interface" },
	[CONFIG_NAT] = { "nat",
	    "Ask the router for a port mapping (UPnP or NAT-PMP) so that peers\n"
	    "beyond it can connect: on or off.  Command line: --no-nat.", NULL },
	[CONFIG_BELL] = { "bell",
	    "Ring the terminal bell when a message arrives in a window you are not\n"
	    "looking at: on or off.  /bell changes it until you quit.", NULL },
	[CONFIG_COLORS] = { "colors",
	    "Colours on the chat screen: on, off, or auto (colours unless the\n"
	    "NO_COLOR environment variable is set and not empty).", NULL },
	[CONFIG_HISTORY_LINES] = { "history_lines",
	    "Conversation lines kept on disk for each peer and shown again after\n"
	    "a restart: 0 (keep none) to 1000000.", NULL },
	[CONFIG_AUTO_ACCEPT] = { "auto_accept",
	    "Accept offered files without asking: off, or verified (only from\n"
	    "peers you have marked verified with /trust).", NULL },
	[CONFIG_KEEPALIVE] = { "keepalive",
	    "Seconds of silence after which a peer is pinged, 1 to 3600; a peer\n"
	    "silent for three times as long is dropped.  Command line: --keepalive.", NULL },
	[CONFIG_LIMIT_RATE] = { "limit_rate",
	    "Cap on outgoing file data in bytes per second, with an optional\n"
	    "suffix k, m or g (thousand, million, billion): 0 for no cap, else\n"
	    "1000 at least.  Command line: --limit-rate.", NULL },
};

static const char file_intro[] =
"confab configuration file.\n"
"\n"
"One setting per line: key = value.  Lines starting with # are comments\n"
"(a # further along a line is part of the value).  A value in double quotes\n"
"keeps spaces at its ends; inside quotes, \\\" is a quote, \\\\ a backslash\n"
"and \\xHH a byte.  If a key appears twice the later line wins, except for\n"
"listen, whose addresses add up.  A key that is commented out or missing\n"
"keeps the default shown next to it.  Options on the command line win over\n"
"this file; confab --print-config shows the configuration in effect.\n"
"A mistake here is reported with its line number, and that key keeps its\n"
"default.";

/* The name of a key. */
const char *
config_key_name(enum config_key k)
{
	return (unsigned)k < CONFIG_NKEYS ? keys[k].name : "?";
}

/* Reset one key to its default. */
static void
key_default(struct config *cfg, enum config_key k)
{
	switch (k) {
	case CONFIG_NICK:            cfg->nick[0] = '\0'; break;
	case CONFIG_LISTEN:          memset(cfg->listen, 0, sizeof cfg->listen); cfg->nlisten = 0; break;
	case CONFIG_DOWNLOAD_DIR:    cfg->download_dir[0] = '\0'; break;
	case CONFIG_DISCOVERY:       cfg->discovery = 1; break;
	case CONFIG_DISCOVERY_IFACE: cfg->discovery_iface[0] = '\0'; break;
	case CONFIG_NAT:             cfg->nat = 1; break;
	case CONFIG_BELL:            cfg->bell = 1; break;
	case CONFIG_COLORS:          cfg->colors = COLORS_AUTO; break;
	case CONFIG_HISTORY_LINES:   cfg->history_lines = CONFIG_HISTORY_DEF; break;
	case CONFIG_AUTO_ACCEPT:     cfg->auto_accept = CONFIG_ACCEPT_OFF; break;
	case CONFIG_KEEPALIVE:       cfg->keepalive = CONFIG_KEEPALIVE_DEF; break;
	case CONFIG_LIMIT_RATE:      cfg->limit_rate = 0; break;
	case CONFIG_NKEYS:           break;
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

/* --- reading ------------------------------------------------------------- */

/* s[0..n) made safe to quote back in a message, shortened if long. */
static void
show(char *out, size_t outlen, const char *s, size_t n)
{
	size_t len;

	if (outlen < SHOW_MAX + 8)
		abort();
	len = text_sanitize((const uint8_t *)s, n > SHOW_MAX ? SHOW_MAX : n, out, SHOW_MAX + 1, 0);
	if (n > SHOW_MAX)
		snprintf(out + len, outlen - len, "...");
}

/* Levenshtein distance between two short strings (at most KEY_MAX bytes). */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[KEY_MAX + 1], i, j, diag, up, best;

	if (la > KEY_MAX || lb > KEY_MAX)
		return KEY_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The key a misspelt one probably meant (norm is lower case with '_'), or NULL. */
static const char *
suggest(const char *norm)
{
	size_t len = strlen(norm), d, best = KEY_MAX, limit = len / 3 > 2 ? len / 3 : 2;
	const char *pick = NULL, *prefix = NULL;
	int k, nprefix = 0;

	for (k = 0; k < CONFIG_NKEYS; k++) {
		d = distance(norm, keys[k].name);
		if (d < best) {
			best = d;
			pick = keys[k].name;
		}
		if (len >= 4 && strncmp(keys[k].name, norm, len) == 0) {
			prefix = keys[k].name;
			nprefix++;
		}
	}
	if (pick != NULL && best <= limit && best * 2 <= (len > strlen(pick) ? len : strlen(pick)))
		return pick;
	return nprefix == 1 ? prefix : NULL;
}

/*
 * Find a key: case does not matter, and '-' may stand for '_' (the spelling
 * of the command-line options).  Fills norm with the normalised name.
 * Returns the key or -1.
 */
static int
key_find(const char *s, size_t n, char norm[KEY_MAX + 1])
{
	size_t i;
	int k;

	norm[0] = '\0';
	if (n > KEY_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		norm[i] = ch == '-' ? '_' : (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : (char)ch;
	}
	norm[n] = '\0';
	for (k = 0; k < CONFIG_NKEYS; k++)
		if (strcmp(norm, keys[k].name) == 0)
			return k;
	return -1;
}

/* "on" or "off" into *out. */
static int
parse_onoff(const char *v, int *out)
{
	if (strcasecmp(v, "on") == 0)
		*out = 1;
	else if (strcasecmp(v, "off") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* A decimal number from 0 to max into *out (digits only). */
static int
parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
	unsigned long long n = 0;

	if (*v == '\0')
		return -1;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9')
			return -1;
		if (n > (max - (unsigned long long)(*v - '0')) / 10)
			return -1;   /* beyond max: refused before it can overflow */
		n = n * 10 + (unsigned long long)(*v - '0');
	}
	*out = n;
	return 0;
}

/* A byte rate: digits and an optional k, m or g. */
static int
parse_rate(const char *v, uint64_t *out)
{
	char num[24];
	size_t n = strlen(v);
	unsigned long long mult = 1, x;

	if (n == 0 || n >= sizeof num)
		return -1;
	memcpy(num, v, n + 1);
	switch (num[n - 1]) {
	case 'k': case 'K': mult = 1000ULL; break;
	case 'm': case 'M': mult = 1000000ULL; break;
	case 'g': case 'G': mult = 1000000000ULL; break;
	}
	if (mult != 1)
		num[n - 1] = '\0';
	if (parse_uint(num, RATE_MAX / mult, &x) == -1)
		return -1;
	x *= mult;
	if (x != 0 && x < 1000)
		return -1;
	*out = x;
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
			snprintf(err, errlen, "listen: empty address in the list");
			return -1;
		}
		show(shown, sizeof shown, a, (size_t)(b - a));
		if ((size_t)(b - a) >= sizeof addr) {
			snprintf(err, errlen, "listen: expected ADDR:PORT, got '%s'", shown);
			return -1;
		}
		memcpy(addr, a, (size_t)(b - a));
		addr[b - a] = '\0';
		if (sock_parse(addr, DEFAULT_PORT, &ss, &sl) == -1) {
			snprintf(err, errlen, "listen: expected ADDR:PORT with a numeric address, got '%s'", shown);
			return -1;
		}
		if (cfg->nlisten == CONFIG_LISTEN_MAX) {
			snprintf(err, errlen, "listen: more than %d addresses", CONFIG_LISTEN_MAX);
			return -1;
		}
		memcpy(cfg->listen[cfg->nlisten++], addr, (size_t)(b - a) + 1);
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

/* Give key k the value v, or explain in err why not. */
static int
parse_value(struct config *cfg, enum config_key k, const char *v, char *err, size_t errlen)
{
	char shown[SHOW_MAX + 8];
	const char *home;
	unsigned long long n;
	size_t len = strlen(v);
	int x;

	show(shown, sizeof shown, v, len);
	switch (k) {
	case CONFIG_NICK:
		if (len > 0 && !core_nick_ok(v)) {
			snprintf(err, errlen, "nick: expected 1 to %d bytes of printable UTF-8 without spaces, got '%s'",
			    NICK_MAX, shown);
			return -1;
		}
		memcpy(cfg->nick, v, len + 1);
		return 0;
	case CONFIG_LISTEN:
		return parse_listen(cfg, v, err, errlen);
	case CONFIG_DOWNLOAD_DIR:
		if (len == 0) {
			cfg->download_dir[0] = '\0';
			return 0;
		}
		if (v[0] == '~' && (v[1] == '/' || v[1] == '\0')) {
			home = getenv("HOME");
			if (home == NULL || home[0] != '/') {
				snprintf(err, errlen, "download_dir: ~ needs HOME set to an absolute path");
				return -1;
			}
			if ((size_t)snprintf(cfg->download_dir, sizeof cfg->download_dir, "%s%s", home, v + 1) >=
			    sizeof cfg->download_dir) {
				cfg->download_dir[0] = '\0';
				snprintf(err, errlen, "download_dir: path too long");
				return -1;
			}
			return 0;
		}
		if (v[0] != '/') {
			snprintf(err, errlen, "download_dir: expected an absolute path or ~/..., got '%s'", shown);
			return -1;
		}
		memcpy(cfg->download_dir, v, len + 1);   /* len < VALUE_MAX == PATH_MAX */
		return 0;
	case CONFIG_DISCOVERY:
	case CONFIG_NAT:
	case CONFIG_BELL:
		if (parse_onoff(v, &x) == -1) {
			snprintf(err, errlen, "%s: expected on or off, got '%s'", keys[k].name, shown);
			return -1;
		}
		if (k == CONFIG_DISCOVERY)
			cfg->discovery = x;
		else if (k == CONFIG_NAT)
			cfg->nat = x;
		else
			cfg->bell = x;
		return 0;
	case CONFIG_DISCOVERY_IFACE:
		if (len >= sizeof cfg->discovery_iface || strpbrk(v, "/: \t") != NULL) {
			snprintf(err, errlen, "discovery_iface: expected an interface name (under %d bytes), got '%s'",
			    IF_NAMESIZE, shown);
			return -1;
		}
		memcpy(cfg->discovery_iface, v, len + 1);
		return 0;
	case CONFIG_COLORS:
		if (strcasecmp(v, "auto") == 0)
			cfg->colors = COLORS_AUTO;
		else if (strcasecmp(v, "on") == 0)
			cfg->colors = COLORS_ON;
		else if (strcasecmp(v, "off") == 0)
			cfg->colors = COLORS_OFF;
		else {
			snprintf(err, errlen, "colors: expected on, off or auto, got '%s'", shown);
			return -1;
		}
		return 0;
	case CONFIG_HISTORY_LINES:
		if (parse_uint(v, CONFIG_HISTORY_MAX, &n) == -1) {
			snprintf(err, errlen, "history_lines: expected a number from 0 to %d, got '%s'",
			    CONFIG_HISTORY_MAX, shown);
			return -1;
		}
		cfg->history_lines = (int)n;
		return 0;
	case CONFIG_AUTO_ACCEPT:
		if (strcasecmp(v, "off") == 0)
			cfg->auto_accept = CONFIG_ACCEPT_OFF;
		else if (strcasecmp(v, "verified") == 0)
			cfg->auto_accept = CONFIG_ACCEPT_VERIFIED;
		else {
			snprintf(err, errlen, "auto_accept: expected off or verified, got '%s'", shown);
			return -1;
		}
		return 0;
	case CONFIG_KEEPALIVE:
		if (parse_uint(v, 3600, &n) == -1 || n < 1) {
			snprintf(err, errlen, "keepalive: expected 1 to 3600 seconds, got '%s'", shown);
			return -1;
		}
		cfg->keepalive = (int)n;
		return 0;
	case CONFIG_LIMIT_RATE:
		if (parse_rate(v, &cfg->limit_rate) == -1) {
			snprintf(err, errlen, "limit_rate: expected 0 or bytes per second from 1000 to 1000g"
			    " (suffix k, m or g), got '%s'", shown);
			return -1;
		}
		return 0;
	case CONFIG_NKEYS:
		break;
	}
	return -1;
}

/* Report a problem at name:lineno. */
static int
problem(config_warn_fn *warn, void *arg, const char *name, unsigned long lineno, const char *what)
{
	char msg[PATH_MAX + 1024];

	if (warn != NULL) {
		snprintf(msg, sizeof msg, "%s:%lu: %s", name, lineno, what);
		warn(arg, msg);
	}
	return 1;
}

/* Whether c is a space or a tab. */
static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A hex digit's value, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The value starting at line[i]: quoted or bare.  Returns its length in val
 * (NUL-terminated, may contain NUL from \x00), or -1 with err set.
 */
static long
read_value(const char *line, size_t len, size_t i, char *val, size_t valmax, char *err, size_t errlen)
{
	size_t n = 0, end;
	int hi, lo;
	char ch;

	if (i < len && line[i] == '"') {
		for (i++;; ) {
			if (i == len) {
				snprintf(err, errlen, "no closing quote");
				return -1;
			}
			ch = line[i++];
			if (ch == '"')
				break;
			if (ch == '\\') {
				if (i == len) {
					snprintf(err, errlen, "no closing quote");
					return -1;
				}
				ch = line[i++];
				if (ch == 'x') {
					if (len - i < 2 || (hi = hexval(line[i])) < 0 || (lo = hexval(line[i + 1])) < 0) {
						snprintf(err, errlen, "\\x needs two hex digits");
						return -1;
					}
					ch = (char)(hi * 16 + lo);
					i += 2;
				} else if (ch != '"' && ch != '\\') {
					snprintf(err, errlen, "unknown escape in quotes (use \\\\ for a backslash)");
					return -1;
				}
			}
			if (n + 1 >= valmax) {
				snprintf(err, errlen, "value longer than %zu bytes", valmax - 1);
				return -1;
			}
			val[n++] = ch;
		}
		while (i < len && blank(line[i]))
			i++;
		if (i < len) {
			snprintf(err, errlen, "text after the closing quote");
			return -1;
		}
	} else {
		for (end = len; end > i && blank(line[end - 1]); end--)
			;
		n = end - i;
		if (n >= valmax) {
			snprintf(err, errlen, "value longer than %zu bytes", valmax - 1);
			return -1;
		}
		memcpy(val, line + i, n);
	}
	val[n] = '\0';
	return (long)n;
}

/* Parse one line. */
int
config_parse_line(struct config *cfg, const char *name, unsigned long lineno,
    const char *line, size_t len, config_warn_fn *warn, void *arg)
{
	char norm[KEY_MAX + 1], shown[SHOW_MAX + 8], err[512], msg[768];
	static char val[VALUE_MAX];   /* single-threaded; too big for the stack of a fuzzer */
	const char *hint;
	size_t i = 0, k0, klen;
	long vlen;
	int k;

	while (i < len && blank(line[i]))
		i++;
	if (i == len || line[i] == '#')
		return 0;
	if (memchr(line, '\0', len) != NULL)
		return problem(warn, arg, name, lineno, "NUL byte in the line");
	k0 = i;
	while (i < len && line[i] != '=' && !blank(line[i]))
		i++;
	klen = i - k0;
	while (i < len && blank(line[i]))
		i++;
	if (i == len || line[i] != '=') {
		show(shown, sizeof shown, line + k0, len - k0);
		snprintf(msg, sizeof msg, "expected 'key = value', got '%s'", shown);
		return problem(warn, arg, name, lineno, msg);
	}
	i++;
	while (i < len && blank(line[i]))
		i++;
	if (klen == 0)
		return problem(warn, arg, name, lineno, "no key before '='");
	if ((k = key_find(line + k0, klen, norm)) < 0) {
		show(shown, sizeof shown, line + k0, klen);
		hint = norm[0] != '\0' ? suggest(norm) : NULL;
		if (hint != NULL)
			snprintf(msg, sizeof msg, "unknown key '%s' (did you mean '%s'?)", shown, hint);
		else
			snprintf(msg, sizeof msg, "unknown key '%s'", shown);
		return problem(warn, arg, name, lineno, msg);
	}
	if ((vlen = read_value(line, len, i, val, sizeof val, err, sizeof err)) >= 0) {
		for (i = 0; i < (size_t)vlen; i++) {
			if ((unsigned char)val[i] < 0x20 || val[i] == 0x7f) {
				snprintf(err, sizeof err, "control character in the value");
				vlen = -1;
				break;
			}
		}
	}
	if (vlen < 0 || parse_value(cfg, (enum config_key)k, val, err, sizeof err) == -1) {
		cfg->bad |= CONFIG_BIT(k);
		cfg->set &= ~CONFIG_BIT(k);
		if (vlen < 0)
			snprintf(msg, sizeof msg, "%s: %s", keys[k].name, err);
		else
			snprintf(msg, sizeof msg, "%s", err);
		return problem(warn, arg, name, lineno, msg);
	}
	if (!(cfg->bad & CONFIG_BIT(k)))
		cfg->set |= CONFIG_BIT(k);
	return 0;
}

/* Passes the first PROBLEMS_SHOWN problems on, counts the rest. */
struct counter {
	config_warn_fn *warn;
	void           *arg;
	unsigned long   n;
};

/* config_warn_fn for struct counter. */
static void
count_warn(void *arg, const char *msg)
{
	struct counter *c = arg;

	if (++c->n <= PROBLEMS_SHOWN && c->warn != NULL)
		c->warn(c->arg, msg);
}

/* Parse a whole file held in memory. */
int
config_parse(struct config *cfg, const char *name, const char *buf, size_t len,
    config_warn_fn *warn, void *arg)
{
	struct counter cnt = { warn, arg, 0 };
	const char *p = buf, *end = buf + len, *nl;
	unsigned long lineno = 0;
	size_t n;
	char msg[512];

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)   /* a byte order mark */
		p += 3;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		config_parse_line(cfg, name, lineno, p, n > 0 && p[n - 1] == '\r' ? n - 1 : n,
		    count_warn, &cnt);
		p += n + (nl != NULL);
	}
	if (cnt.n > PROBLEMS_SHOWN && warn != NULL) {
		snprintf(msg, sizeof msg, "%s: %lu more problems not shown", name, cnt.n - PROBLEMS_SHOWN);
		warn(arg, msg);
	}
	config_drop_bad(cfg);
	return cnt.n > INT_MAX ? INT_MAX : (int)cnt.n;
}

/* A config_warn_fn that drops the message. */
static void
no_warn(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Read the file at path. */
int
config_load(struct config *cfg, const char *path, int create_if_missing,
    config_warn_fn *warn, void *arg)
{
	char msg[PATH_MAX + 256], err[256];
	struct stat st;
	size_t got = 0;
	ssize_t r;
	char *buf;
	int fd, n;

	if (warn == NULL)
		warn = no_warn;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		if (errno == ENOENT && create_if_missing) {
			if (config_create(path, err, sizeof err) == 0)
				return 0;
			snprintf(msg, sizeof msg, "%s: cannot write the default configuration: %s", path, err);
			warn(arg, msg);
			return 1;
		}
		if (errno == ENOENT)
			return 0;
		snprintf(msg, sizeof msg, "%s: %s; using the defaults", path, strerror(errno));
		warn(arg, msg);
		return -1;
	}
	buf = NULL;
	if (fstat(fd, &st) == -1) {
		snprintf(msg, sizeof msg, "%s: %s; using the defaults", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, sizeof msg, "%s: not a regular file; using the defaults", path);
		goto fail;
	}
	if ((buf = malloc(CONFIG_FILE_MAX + 1)) == NULL) {
		snprintf(msg, sizeof msg, "%s: out of memory; using the defaults", path);
		goto fail;
	}
	while (got <= CONFIG_FILE_MAX && (r = read(fd, buf + got, CONFIG_FILE_MAX + 1 - got)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			snprintf(msg, sizeof msg, "%s: %s; using the defaults", path, strerror(errno));
			goto fail;
		}
		got += (size_t)r;
	}
	if (got > CONFIG_FILE_MAX) {
		snprintf(msg, sizeof msg, "%s: larger than 1 MiB; using the defaults", path);
		goto fail;
	}
	close(fd);
	n = config_parse(cfg, path, buf, got, warn, arg);
	free(buf);
	return n;
fail:
	warn(arg, msg);
	close(fd);
	free(buf);
	return -1;
}

/* --- writing ------------------------------------------------------------- */

/* Write a value so that it reads back the same: bare if it can be, else quoted. */
static void
put_value(FILE *f, const char *v)
{
	size_t n = strlen(v), i;
	int quote = n > 0 && (blank(v[0]) || blank(v[n - 1]) || v[0] == '"');

	for (i = 0; i < n && !quote; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			quote = 1;
	if (!quote) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (i = 0; i < n; i++) {
		if (v[i] == '"' || v[i] == '\\')
			fprintf(f, "\\%c", v[i]);
		else if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			fprintf(f, "\\x%02x", (unsigned char)v[i]);
		else
			fputc(v[i], f);
	}
	fputc('"', f);
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
static const char *
value_str(const struct config *cfg, enum config_key k, char *buf, size_t buflen)
{
	static const char *const colors[] = { "auto", "on", "off" };

	switch (k) {
	case CONFIG_NICK:            return cfg->nick;
	case CONFIG_LISTEN:          return cfg->nlisten > 0 ? cfg->listen[0] : "";
	case CONFIG_DOWNLOAD_DIR:    return cfg->download_dir;
	case CONFIG_DISCOVERY:       return cfg->discovery ? "on" : "off";
	case CONFIG_DISCOVERY_IFACE: return cfg->discovery_iface;
	case CONFIG_NAT:             return cfg->nat ? "on" : "off";
	case CONFIG_BELL:            return cfg->bell ? "on" : "off";
	case CONFIG_COLORS:
		return cfg->colors >= 0 && cfg->colors <= 2 ? colors[cfg->colors] : "auto";
	case CONFIG_HISTORY_LINES:   snprintf(buf, buflen, "%d", cfg->history_lines); return buf;
	case CONFIG_AUTO_ACCEPT:     return cfg->auto_accept == CONFIG_ACCEPT_VERIFIED ? "verified" : "off";
	case CONFIG_KEEPALIVE:       snprintf(buf, buflen, "%d", cfg->keepalive); return buf;
	case CONFIG_LIMIT_RATE:      rate_str(cfg->limit_rate, buf, buflen); return buf;
	case CONFIG_NKEYS:           break;
	}
	return "";
}

/* Write text as comment lines. */
static void
put_comment(FILE *f, const char *text)
{
	const char *p = text, *nl;

	for (;;) {
		nl = strchr(p, '\n');
		if (nl == p)
			fputs("#\n", f);
		else
			fprintf(f, "# %.*s\n", (int)(nl != NULL ? nl - p : (long)strlen(p)), p);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* Write cfg as a config file. */
int
config_write(FILE *f, const struct config *cfg, int with_docs)
{
	struct config def;
	char buf[32], dbuf[32], line[256];
	const char *dv;
	int k, i;

	config_defaults(&def);
	if (with_docs)
		put_comment(f, file_intro);
	for (k = 0; k < CONFIG_NKEYS; k++) {
		if (with_docs) {
			fputc('\n', f);
			put_comment(f, keys[k].doc);
			dv = value_str(&def, (enum config_key)k, dbuf, sizeof dbuf);
			if (dv[0] != '\0')
				fprintf(f, "# Default: %s\n", dv);
			else
			{
				snprintf(line, sizeof line, "Default: empty, meaning %s", keys[k].empty);
				put_comment(f, line);
			}
		}
		if (!(cfg->set & CONFIG_BIT(k))) {
			if (with_docs) {
				dv = value_str(&def, (enum config_key)k, dbuf, sizeof dbuf);
				fprintf(f, "#%s =%s%s\n", keys[k].name, dv[0] ? " " : "", dv);
			}
			continue;
		}
		if (k == CONFIG_LISTEN && cfg->nlisten > 0) {
			for (i = 0; i < cfg->nlisten; i++) {
				fprintf(f, "%s = ", keys[k].name);
				put_value(f, cfg->listen[i]);
				fputc('\n', f);
			}
			continue;
		}
		dv = value_str(cfg, (enum config_key)k, buf, sizeof buf);
		fprintf(f, "%s =%s", keys[k].name, dv[0] != '\0' ? " " : "");
		put_value(f, dv);
		fputc('\n', f);
	}
	return ferror(f) ? -1 : 0;
}

/* Write the documented defaults to path, atomically, never replacing a file. */
int
config_create(const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX], *slash;
	struct config def;
	FILE *f = NULL;
	int fd, dfd, rc = -1;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= sizeof tmp) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0600) == -1 || (f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		goto out;
	}
	config_defaults(&def);
	if (config_write(f, &def, 1) == -1 || fflush(f) == EOF || fsync(fileno(f)) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		fclose(f);
		goto out;
	}
	if (fclose(f) == EOF) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	/* link(2) fails if another instance got there first: its file stays */
	if (link(tmp, path) == -1 && errno != EEXIST) {
		if (errno != EPERM && errno != ENOSYS && errno != EOPNOTSUPP) {
			snprintf(err, errlen, "%s", strerror(errno));
			goto out;
		}
		if (rename(tmp, path) == -1) {   /* a file system without hard links */
			snprintf(err, errlen, "%s", strerror(errno));
			goto out;
		}
	}
	snprintf(dir, sizeof dir, "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		if ((dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
			fsync(dfd);
			close(dfd);
		}
	}
	rc = 0;
out:
	unlink(tmp);
	return rc;
}

/* --- options ------------------------------------------------------------- */

/* Fill the options the command line did not set. */
void
config_apply(const struct config *cfg, struct core_options *opt, unsigned cli_set)
{
	int i;

#define FROM_FILE(k) (!(cli_set & CONFIG_BIT(k)))
	if (FROM_FILE(CONFIG_NICK) && cfg->nick[0] != '\0')
		opt->nick = cfg->nick;
	if (FROM_FILE(CONFIG_LISTEN) && cfg->nlisten > 0) {
		for (i = 0; i < cfg->nlisten; i++)
			opt->listen[i] = cfg->listen[i];
		opt->nlisten = cfg->nlisten;
	}
	if (FROM_FILE(CONFIG_DOWNLOAD_DIR) && cfg->download_dir[0] != '\0')
		opt->download_dir = cfg->download_dir;
	if (FROM_FILE(CONFIG_DISCOVERY))
		opt->no_discovery = !cfg->discovery;
	if (FROM_FILE(CONFIG_DISCOVERY_IFACE) && cfg->discovery_iface[0] != '\0')
		opt->discovery_iface = cfg->discovery_iface;
	if (FROM_FILE(CONFIG_NAT))
		opt->no_nat = !cfg->nat;
	if (FROM_FILE(CONFIG_BELL))
		opt->no_bell = !cfg->bell;
	if (FROM_FILE(CONFIG_COLORS))
		opt->colors = cfg->colors;
	if (FROM_FILE(CONFIG_HISTORY_LINES)) {
		opt->history_lines = (size_t)cfg->history_lines;
		opt->history_set = 1;
	}
	if (FROM_FILE(CONFIG_AUTO_ACCEPT))
		opt->auto_accept_verified = cfg->auto_accept == CONFIG_ACCEPT_VERIFIED;
	if (FROM_FILE(CONFIG_KEEPALIVE))
		opt->keepalive_s = cfg->keepalive;
	if (FROM_FILE(CONFIG_LIMIT_RATE))
		opt->limit_rate = cfg->limit_rate;
#undef FROM_FILE
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

/* The effective configuration as a config. */
void
config_from_options(struct config *cfg, const struct core_options *opt,
    const char *default_download_dir)
{
	const char *user = getenv("USER");
	int i;

	config_defaults(cfg);
	/* the login name, as the core would pick it, if it is a valid nick */
	if (opt->nick != NULL)
		fits(cfg->nick, sizeof cfg->nick, opt->nick);
	else if (user != NULL && core_nick_ok(user))
		fits(cfg->nick, sizeof cfg->nick, user);
	for (i = 0; i < opt->nlisten && i < CONFIG_LISTEN_MAX; i++)
		if (opt->listen[i] != NULL && fits(cfg->listen[cfg->nlisten], CONFIG_ADDR_MAX, opt->listen[i]))
			cfg->nlisten++;
	fits(cfg->download_dir, sizeof cfg->download_dir,
	    opt->download_dir != NULL ? opt->download_dir :
	    default_download_dir != NULL ? default_download_dir : "");
	cfg->discovery = !opt->no_discovery;
	if (opt->discovery_iface != NULL)
		fits(cfg->discovery_iface, sizeof cfg->discovery_iface, opt->discovery_iface);
	cfg->nat = !opt->no_nat;
	cfg->bell = !opt->no_bell;
	cfg->colors = opt->colors;
	if (opt->history_set || opt->history_lines != 0)
		cfg->history_lines = opt->history_lines > CONFIG_HISTORY_MAX ? CONFIG_HISTORY_MAX :
		    (int)opt->history_lines;
	cfg->auto_accept = opt->auto_accept_verified ? CONFIG_ACCEPT_VERIFIED : CONFIG_ACCEPT_OFF;
	cfg->keepalive = opt->keepalive_s > 0 ? opt->keepalive_s : CONFIG_KEEPALIVE_DEF;
	cfg->limit_rate = opt->limit_rate;
	cfg->set = CONFIG_BIT(CONFIG_NKEYS) - 1;
}
