/* main.c - command line parsing and mode selection. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conffile.h"
#include "core.h"
#include "headless.h"
#include "identity.h"
#include "log.h"
#include "main.h"
#include "oneshot.h"
#include "reach.h"        /* confab invite, --dns-name */
#include "paths.h"
#include "tui.h"
#include "wire.h"

static const char usage_text[] =
"usage: confab [OPTIONS]             full-screen chat (ncurses)\n"
"       confab --headless [OPTIONS]  JSON Lines on stdout, commands on stdin\n"
"       confab id [--home DIR]       print this identity's fingerprint\n"
"       confab send --to HOST:PORT PATH...           send files (to that peer only), then exit\n"
"       confab recv [--dir DIR] [--from FP [--yes]]  receive one offer, then exit\n"
"       confab invite [--dns-name NAME[:PORT]]   print an invite code for a peer\n"
"\n"
"options:\n"
"  --home DIR          keep all state in DIR (default: $CONFAB_HOME, else XDG dirs)\n"
"  --nick NAME         the nick peers see (default: $USER)\n"
"  --listen ADDR:PORT  listen there (repeatable; default 0.0.0.0 and [::] port %d,\n"
"                      or any free port if that one is taken)\n"
"  --no-discovery      do not announce or look for peers on the LAN\n"
"  --discovery-iface IFACE  LAN discovery on IFACE only (may be loopback)\n"
"  --discovery-refresh SECS  shortest LAN announcement interval (default 30;\n"
"                      shorter for tests: peers expire after 3 missed ones)\n"
"  --no-nat            do not ask the router for a port mapping\n"
"  --nat-lease SECS    port mapping lease asked of the router (default 3600;\n"
"                      renewed at half time, removed on exit)\n"
"  --dns-name NAME[:PORT]  a DNS name that reaches this host: put in invite codes\n"
"  --log FILE          write diagnostics to FILE (default: confab.log in the state dir)\n"
"  --debug             more detail in the log\n"
"  --keepalive SECS    ping a silent peer after SECS, drop it after 3*SECS (default 15)\n"
"  --handshake-timeout SECS  drop a peer that has not finished its handshake (10)\n"
"  --cipher NAME       offer only chachapoly or aesgcm (default: both where available)\n"
"  --download-dir DIR  where received files go (default: XDG download dir/confab,\n"
"                      or DIR/downloads with --home DIR)\n"
"  --limit-rate RATE   cap outgoing file data at RATE bytes/s (suffix k, m, g;\n"
"                      0: no cap, e.g. to override the config file)\n"
"  --headless          run without a screen (see confab(1), HEADLESS MODE)\n"
"  --print-config      print the configuration in effect (the config file with\n"
"                      these options applied) as a config file, and exit\n"
"  -h, --help          show this help\n"
"  -V, --version       show the version\n"
"\n"
"send: offer PATH... (files, directories) to the peer at --to HOST:PORT (or an\n"
"  invite code, or NAME@DOMAIN).\n"
"recv: wait for one offer (only from --from FINGERPRINT, 4+ characters of it),\n"
"  list it and ask; --yes accepts without asking, only with the full fingerprint\n"
"  in --from; files go to --dir DIR, else the download directory.\n"
"  Exit status of both: 0 every file arrived verified, 1 failed, 2 usage,\n"
"  3 rejected or cancelled, 4 peer unreachable (send).\n"
"\n"
"Commands (type them in the input line, or on stdin in headless mode):\n"
"  /connect HOST[:PORT] | INVITE-CODE | NAME@DOMAIN, /invite, /nat,\n"
"  /msg PEER TEXT, /peers, /nick NAME, /whoami, /quit,\n"
"  /send PEER PATH..., /accept ID [DIR], /reject ID, /cancel ID, /transfers,\n"
"  /verify PEER, /trust PEER, /block PEER, /unblock PEER, /rename PEER NAME,\n"
"  /forget PEER, /history PEER [N], /history-clear [PEER]\n"
"  (quote a PATH with blanks in \"double quotes\" or escape them with \\)\n"
"  PEER is a nick or a fingerprint prefix of 4 characters or more.\n"
"Settings are read from the file config in the config directory (DIR with\n"
"--home DIR, else $XDG_CONFIG_HOME/confab); the first start writes it with every\n"
"key documented.  Options given here win over it.\n"
"See confab(1) for keys, every command, files and exit codes.\n";

enum {
	OPT_HOME = 256, OPT_NICK, OPT_LISTEN, OPT_NODISC, OPT_NONAT, OPT_LOG,
	OPT_DEBUG, OPT_KEEPALIVE, OPT_HSTIMEOUT, OPT_CIPHER, OPT_HEADLESS,
	OPT_DLDIR, OPT_TO, OPT_DIR, OPT_FROM, OPT_YES, OPT_RATE,
	OPT_DISC_IFACE, OPT_DISC_REFRESH, OPT_PRINT_CONFIG,
	OPT_DNS_NAME, OPT_NAT_LEASE,   /* reach */
};

static const struct option long_opts[] = {
	{ "home", required_argument, NULL, OPT_HOME },
	{ "nick", required_argument, NULL, OPT_NICK },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "no-discovery", no_argument, NULL, OPT_NODISC },
	{ "discovery-iface", required_argument, NULL, OPT_DISC_IFACE },
	{ "discovery-refresh", required_argument, NULL, OPT_DISC_REFRESH },
	{ "no-nat", no_argument, NULL, OPT_NONAT },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "debug", no_argument, NULL, OPT_DEBUG },
	{ "keepalive", required_argument, NULL, OPT_KEEPALIVE },
	{ "handshake-timeout", required_argument, NULL, OPT_HSTIMEOUT },
	{ "cipher", required_argument, NULL, OPT_CIPHER },
	{ "headless", no_argument, NULL, OPT_HEADLESS },
	{ "download-dir", required_argument, NULL, OPT_DLDIR },
	{ "to", required_argument, NULL, OPT_TO },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "yes", no_argument, NULL, OPT_YES },
	{ "limit-rate", required_argument, NULL, OPT_RATE },
	{ "print-config", no_argument, NULL, OPT_PRINT_CONFIG },
	{ "dns-name", required_argument, NULL, OPT_DNS_NAME },
	{ "nat-lease", required_argument, NULL, OPT_NAT_LEASE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Print usage to f. */
static void
usage(FILE *f)
{
	fprintf(f, usage_text, DEFAULT_PORT);
}

/* confab id: print the fingerprint (creating the identity if needed). */
static int
run_id(const struct core_options *opt)
{
	struct paths paths;
	struct identity id;
	char path[PATH_MAX], err[512];

	if (paths_init(&paths, opt->home, err, sizeof err) == -1 ||
	    paths_join(path, sizeof path, paths.state, "identity") == -1 ||
	    identity_load(&id, path, err, sizeof err) == -1) {
		fprintf(stderr, "confab: %s\n", err);
		return EXIT_FAILURE_;
	}
	printf("%s\n", id.fp);
	identity_wipe(&id);
	return EXIT_OK;
}

/* The problems found in the config file, kept to be logged once the log is open. */
struct config_problems {
	char  **v;
	size_t  n;
};

/* config_warn_fn: say it on stderr now (before any screen), keep it for the log. */
static void
config_problem(void *arg, const char *msg)
{
	struct config_problems *p = arg;
	char **v;

	fprintf(stderr, "confab: %s\n", msg);
	if ((v = realloc(p->v, (p->n + 1) * sizeof *v)) == NULL)
		return;
	p->v = v;
	if ((p->v[p->n] = strdup(msg)) != NULL)
		p->n++;
}

/*
 * Read the config file (written with its documentation if missing, unless
 * only printing) and fill the options the command line left unset.  With
 * print, print the configuration in effect.  Problems go to stderr and to the
 * log (which core_init opens again, appending).  Returns -1 only if printing
 * fails; a broken or unreadable file leaves the defaults in place.
 */
static int
load_config(struct config *cfg, struct core_options *opt, unsigned cli_set, int print)
{
	static struct config_problems probs;   /* kept: the front-end repeats them */
	struct config eff;
	struct paths paths;
	struct stat st;
	char path[PATH_MAX], logpath[PATH_MAX], err[512];
	int n = 0, created = 0, rc = 0;
	size_t i;

	config_defaults(cfg);
	if (paths_init(&paths, opt->home, err, sizeof err) == -1) {
		if (!print)
			return 0;   /* core_init reports it */
		fprintf(stderr, "confab: %s\n", err);
		return -1;
	}
	if (paths_join(path, sizeof path, paths.config, CONFIG_FILE) == -1) {
		config_problem(&probs, "config directory path too long; using the defaults");
		n = 1;
	} else {
		created = !print && stat(path, &st) == -1 && errno == ENOENT;
		n = config_load(cfg, path, !print, config_problem, &probs);
		created = created && n == 0 && stat(path, &st) == 0;
	}
	if (n != 0) {
		char sum[PATH_MAX + 64];

		snprintf(sum, sizeof sum, "%s: %s", path[0] ? path : "config",
		    n < 0 ? "not read; every key keeps its default" :
		    "the keys with problems keep their defaults");
		config_problem(&probs, sum);
	}
	config_apply(cfg, opt, cli_set);
	if (print) {
		config_from_options(&eff, opt, paths.downloads);
		if (config_write(stdout, &eff, 1) == -1 || fflush(stdout) == EOF) {
			fprintf(stderr, "confab: cannot write the configuration: %s\n", strerror(errno));
			rc = -1;
		}
	} else if (n != 0 || created) {
		/* the same log core_init opens; it appends */
		if (opt->log_file != NULL)
			snprintf(logpath, sizeof logpath, "%s", opt->log_file);
		else if (paths_join(logpath, sizeof logpath, paths.state, "confab.log") == -1)
			logpath[0] = '\0';
		if (logpath[0] != '\0' && log_open(logpath, opt->debug ? LOG_DEBUG : LOG_INFO) == 0) {
			if (created)
				log_info("config: wrote the documented defaults to %s", path);
			for (i = 0; i < probs.n; i++)
				log_warn("config: %s", probs.v[i]);
			log_close();
		}
	}
	opt->notes = (const char *const *)probs.v;   /* shown again once the screen is up */
	opt->nnotes = probs.n;
	return rc;
}

int
main(int argc, char **argv)
{
	struct core_options opt;
	int c, headless = 0, yes = 0, print_config = 0, mode = 0;
	unsigned cli_set = 0;   /* CONFIG_BIT of each key the command line gave */
	static struct config cfg;   /* opt points into it */
	const char *to = NULL, *from = NULL;
	static char dlbuf[PATH_MAX];
	long v;
	char *end;

	setlocale(LC_ALL, "");
	memset(&opt, 0, sizeof opt);
	while ((c = getopt_long(argc, argv, "hV", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_HOME:
			opt.home = optarg;
			break;
		case OPT_NICK:
			if (!core_nick_ok(optarg)) {
				fprintf(stderr, "confab: --nick: a nick is 1 to %d bytes of printable "
				    "UTF-8 without spaces\n", NICK_MAX);
				return EXIT_USAGE;
			}
			opt.nick = optarg;
			cli_set |= CONFIG_BIT(CONFIG_NICK);
			break;
		case OPT_LISTEN:
			if (opt.nlisten == (int)(sizeof opt.listen / sizeof opt.listen[0])) {
				fprintf(stderr, "confab: too many --listen addresses\n");
				return EXIT_USAGE;
			}
			opt.listen[opt.nlisten++] = optarg;
			cli_set |= CONFIG_BIT(CONFIG_LISTEN);
			break;
		case OPT_NODISC:
			opt.no_discovery = 1;
			cli_set |= CONFIG_BIT(CONFIG_DISCOVERY);
			break;
		case OPT_DISC_IFACE:
			if (*optarg == '\0' || strlen(optarg) >= IF_NAMESIZE) {
				fprintf(stderr, "confab: --discovery-iface takes an interface name\n");
				return EXIT_USAGE;
			}
			opt.discovery_iface = optarg;
			cli_set |= CONFIG_BIT(CONFIG_DISCOVERY_IFACE);
			break;
		case OPT_DISC_REFRESH:
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 1 || v > 3600) {
				fprintf(stderr, "confab: --discovery-refresh takes 1 to 3600 seconds\n");
				return EXIT_USAGE;
			}
			opt.discovery_refresh_s = (int)v;
			break;
		case OPT_NONAT:
			opt.no_nat = 1;
			cli_set |= CONFIG_BIT(CONFIG_NAT);
			break;
		case OPT_LOG:
			opt.log_file = optarg;
			break;
		case OPT_DEBUG:
			opt.debug = 1;
			break;
		case OPT_KEEPALIVE:
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 1 || v > 3600) {
				fprintf(stderr, "confab: --keepalive takes 1 to 3600 seconds\n");
				return EXIT_USAGE;
			}
			opt.keepalive_s = (int)v;
			cli_set |= CONFIG_BIT(CONFIG_KEEPALIVE);
			break;
		case OPT_HSTIMEOUT:
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 1 || v > 600) {
				fprintf(stderr, "confab: --handshake-timeout takes 1 to 600 seconds\n");
				return EXIT_USAGE;
			}
			opt.handshake_s = (int)v;
			break;
		case OPT_CIPHER:
			if (strcmp(optarg, "chachapoly") == 0)
				opt.ciphers = WIRE_CIPHER_CHACHA;
			else if (strcmp(optarg, "aesgcm") == 0)
				opt.ciphers = WIRE_CIPHER_AESGCM;
			else {
				fprintf(stderr, "confab: --cipher is chachapoly or aesgcm\n");
				return EXIT_USAGE;
			}
			break;
		case OPT_HEADLESS:
			headless = 1;
			break;
		case OPT_DLDIR:
		case OPT_DIR:
			if (optarg[0] != '/') {
				if (realpath(optarg, dlbuf) == NULL) {
					fprintf(stderr, "confab: %s: %s\n", optarg, strerror(errno));
					return EXIT_USAGE;
				}
				opt.download_dir = dlbuf;
			} else
				opt.download_dir = optarg;
			cli_set |= CONFIG_BIT(CONFIG_DOWNLOAD_DIR);
			break;
		case OPT_TO:
			to = optarg;
			break;
		case OPT_FROM:
			from = optarg;
			break;
		case OPT_YES:
			yes = 1;
			break;
		case OPT_RATE:
			v = strtol(optarg, &end, 10);
			if (*end == 'k' || *end == 'K')
				v *= 1000, end++;
			else if (*end == 'm' || *end == 'M')
				v *= 1000000, end++;
			else if (*end == 'g' || *end == 'G')
				v *= 1000000000, end++;
			if (*optarg == '\0' || *end != '\0' || (v != 0 && v < 1000)) {
				fprintf(stderr, "confab: --limit-rate takes bytes per second, 1000 at least (e.g. 500k, 20m), or 0 for no cap\n");
				return EXIT_USAGE;
			}
			opt.limit_rate = (uint64_t)v;
			cli_set |= CONFIG_BIT(CONFIG_LIMIT_RATE);
			break;
		case OPT_PRINT_CONFIG:
			print_config = 1;
			break;
		case OPT_DNS_NAME: {   /* reach */
			char host[256];
			uint16_t port;

			if (reach_parse_dns_name(optarg, host, sizeof host, &port) == -1) {
				fprintf(stderr, "confab: --dns-name takes a host name, optionally with :PORT\n");
				return EXIT_USAGE;
			}
			opt.dns_name = optarg;
			break;
		}
		case OPT_NAT_LEASE:   /* reach */
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 2 || v > 86400) {
				fprintf(stderr, "confab: --nat-lease takes 2 to 86400 seconds\n");
				return EXIT_USAGE;
			}
			opt.nat_lease_s = (uint32_t)v;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("confab %s\n", CONFAB_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		if (strcmp(argv[optind], "id") == 0 && optind + 1 == argc && !print_config)
			return run_id(&opt);
		if (strcmp(argv[optind], "send") == 0) {
			if (to == NULL || optind + 1 == argc) {
				fprintf(stderr, "usage: confab send --to HOST:PORT PATH...\n");
				return EXIT_USAGE;
			}
			mode = 's';
		} else if (strcmp(argv[optind], "recv") == 0 && optind + 1 == argc) {
			mode = 'r';
		} else if (strcmp(argv[optind], "invite") == 0 && optind + 1 == argc) {
			mode = 'i';   /* reach */
		} else {
			fprintf(stderr, "confab: unknown command \"%s\"\n", argv[optind]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	/* the config file fills in what the command line left unset */
	if (mode == 's')
		cli_set |= CONFIG_BIT(CONFIG_LISTEN);   /* a sender listens nowhere: no config listen */
	if (load_config(&cfg, &opt, cli_set, print_config) == -1)
		return EXIT_FAILURE_;
	if (print_config)
		return EXIT_OK;
	if (mode == 'i')
		return reach_invite_main(&opt);
	if (mode == 's')
		return oneshot_send(&opt, to, argv + optind + 1, argc - optind - 1);
	if (mode == 'r')
		return oneshot_recv(&opt, from, yes);
	if (headless)
		return headless_run(&opt);
	return tui_run(&opt);
}
