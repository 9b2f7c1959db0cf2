/* main.c - the command line (options from the settings table) and mode selection. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conffile.h"
#include "core.h"
#include "headless.h"
#include "identity.h"
#include "log.h"
#include "main.h"
#include "mem.h"
#include "oneshot.h"
#include "reach.h"        /* reach_target_check */
#include "reach_view.h"   /* confab invite */
#include "paths.h"
#include "text.h"
#include "tui.h"
#include "wire.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static const char usage_head[] =
"usage: confab [OPTIONS]             full-screen chat (ncurses)\n"
"       confab --headless [OPTIONS]  JSON Lines on stdout, commands on stdin\n"
"       confab id [--home DIR]       print this identity's fingerprint\n"
"       confab send --to HOST:PORT PATH...           send files (to that peer only), then exit\n"
"       confab send --to HOST:PORT --text TEXT       send a text, then exit\n"
"       confab recv [--dir DIR] [--from FP [--yes]]  receive one offer, then exit\n"
"       confab invite [--dns-name NAME[:PORT]]   print an invite code for a peer\n"
"\n"
"options:\n";

static const char usage_tail[] =
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
"  /forget PEER, /history PEER [N], /history-clear [PEER], /me ACTION,\n"
"  /help [COMMAND], /rooms, /room create NAME, /room invite|kick ROOM PEER,\n"
"  /room join|decline|leave|members ROOM, /msg #ROOM TEXT, /send #ROOM PATH...\n"
"  (quote a PATH with blanks in \"double quotes\" or escape them with \\)\n"
"  PEER is a nick or a fingerprint prefix of 4 characters or more; ROOM a\n"
"  room's name or an id prefix of 4 hex digits or more.\n"
"Settings are read from the file config in the config directory (DIR with\n"
"--home DIR, else $XDG_CONFIG_HOME/confab); the first start writes it with every\n"
"key documented.  Options given here win over it.\n"
"See confab(1) for keys, every command, files and exit codes.\n";

static const char usage_send[] =
"usage: confab send --to PEER [OPTIONS] PATH...\n"
"       confab send --to PEER [OPTIONS] --text TEXT\n"
"\n"
"Offer PATH... (files, directories) to one peer, wait for it to accept, send\n"
"them (progress and ETA on a terminal, a summary at the end), and exit.  The\n"
"sender listens nowhere: it calls that peer only, which does not keep it as a\n"
"peer.  Ctrl-C stops; the receiver keeps what arrived, and the same command\n"
"run again resumes.\n"
"\n"
"  --to PEER           the receiver: HOST:PORT, an invite code (confab recv\n"
"                      prints one), or NAME@DOMAIN\n"
"  --text TEXT         send TEXT (- reads it from standard input) as a message\n"
"                      instead of files: confab recv prints it on its standard\n"
"                      output (at most 4096 bytes)\n"
"  Every option of confab --help applies too (--home, --nick, --no-discovery,\n"
"  --no-nat, --proxy, --limit-rate, --log...); --dir, --from and --yes are recv's.\n"
"\n"
"The command line (--to, every PATH) is checked before any connection.\n"
"Exit status: 0 every file arrived verified, 1 failed, 2 bad command line,\n"
"3 rejected or cancelled (Ctrl-C), 4 peer unreachable.\n";

static const char usage_recv[] =
"usage: confab recv [--dir DIR] [--from FINGERPRINT [--yes]] [OPTIONS]\n"
"\n"
"Print the command for the sender (confab send --to CODE FILE...), wait for\n"
"one offer, list it and ask, receive it, print where each top-level file or\n"
"folder landed (one path a line on standard output; the rest goes to\n"
"standard error), and exit.  A text (confab send --text) is printed on\n"
"standard output instead.  Ctrl-C stops and keeps what arrived: run recv\n"
"again with the same --dir, and the same files sent again resume.\n"
"\n"
"  --dir DIR           put the files in DIR (default: the download directory)\n"
"  --from FINGERPRINT  take offers only from this peer (4+ characters of its\n"
"                      fingerprint); others are rejected\n"
"  --yes               accept without asking (only with the full fingerprint\n"
"                      in --from)\n"
"  Every option of confab --help applies too (--home, --listen, --nick,\n"
"  --no-discovery, --no-nat, --log...); --to and --text are send's.\n"
"\n"
"Exit status: 0 every file arrived verified, 1 failed, 2 bad command line\n"
"(or a --dir that cannot be used), 3 rejected or cancelled (Ctrl-C).\n";

/* Options of the subcommands; a setting's option is OPT_SETTING + its config_key. */
enum { OPT_TO = 256, OPT_DIR, OPT_FROM, OPT_YES, OPT_TEXT, OPT_SETTING };

/* Print usage to f: the options come from the settings table. */
static void
usage(FILE *f)
{
	fputs(usage_head, f);
	config_usage(f);
	fputs(usage_tail, f);
}

/* Fill opts (CONFIG_NKEYS + 6 entries) and shortopts from the settings table. */
static void
options_table(struct option *opts, char *shortopts, size_t shortlen)
{
	static const struct option sub[] = {
		{ "to", required_argument, NULL, OPT_TO },
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "yes", no_argument, NULL, OPT_YES },
		{ "text", required_argument, NULL, OPT_TEXT },
	};
	size_t n = 0, ns = 0, i;
	int k, has_arg, so;
	const char *name;

	for (k = 0; k < CONFIG_NKEYS; k++) {
		if ((name = config_key_option((enum config_key)k, &has_arg, &so)) == NULL)
			continue;
		opts[n++] = (struct option){ name, has_arg ? required_argument : no_argument, NULL, OPT_SETTING + k };
		if (so != 0 && ns + 1 < shortlen)
			shortopts[ns++] = (char)so;
	}
	for (i = 0; i < sizeof sub / sizeof sub[0]; i++)
		opts[n++] = sub[i];
	opts[n] = (struct option){ NULL, 0, NULL, 0 };
	shortopts[ns] = '\0';
}

/*
 * send --text TEXT, or --text - (standard input, one final line break
 * dropped): at most one message, valid UTF-8.  0, or -1 said on stderr.
 */
static int
read_text(const char **text, size_t *len, char *buf, size_t buflen)
{
	size_t n = 0;
	ssize_t r;

	if (strcmp(*text, "-") == 0) {
		while (n < buflen && (r = read(STDIN_FILENO, buf + n, buflen - n)) != 0) {
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				fprintf(stderr, "confab: --text -: cannot read standard input: %s\n", strerror(errno));
				return -1;
			}
			n += (size_t)r;
		}
		if (n > 0 && n <= WIRE_TEXT_MAX + 1 && buf[n - 1] == '\n')
			n--;
		*text = buf;
	} else {
		n = strlen(*text);
	}
	if (n == 0 || n > WIRE_TEXT_MAX) {
		fprintf(stderr, "confab: --text: %s (send a longer text as a file)\n", n == 0 ? "empty" :
		    "longer than " STR(WIRE_TEXT_MAX) " bytes");
		return -1;
	}
	if (!text_utf8_valid((const uint8_t *)*text, n)) {
		fprintf(stderr, "confab: --text: not valid UTF-8\n");
		return -1;
	}
	*len = n;
	return 0;
}

/* confab id: print the fingerprint (creating the identity if needed). */
static int
run_id(const char *home)
{
	struct paths paths;
	struct identity id;
	char path[PATH_MAX], err[512];

	if (paths_init(&paths, home, err, sizeof err) == -1 ||
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
	if ((v = mem_reallocarray(p->v, p->n + 1, sizeof *v)) == NULL)
		return;
	p->v = v;
	if ((p->v[p->n] = strdup(msg)) != NULL)
		p->n++;
}

/*
 * Read the config file (written with its documentation if missing, unless
 * only printing) into cfg and lay the command line (cli) over it; opt gets
 * the result.  With cli's --print-config, print the configuration in effect.
 * Problems go to stderr and to the log (which core_init opens again,
 * appending).  Returns -1 only if printing fails; a broken or unreadable
 * file leaves the defaults in place.
 */
static int
load_config(struct config *cfg, const struct config *cli, struct core_options *opt)
{
	static struct config_problems probs;   /* kept: the front-end repeats them */
	struct config eff;
	struct paths paths;
	struct stat st;
	char path[PATH_MAX], logpath[PATH_MAX], err[512];
	int n = 0, created = 0, rc = 0, print = cli->print_config;
	size_t i;

	config_defaults(cfg);
	if (paths_init(&paths, cli->home, err, sizeof err) == -1) {
		config_merge(cfg, cli);
		config_options(cfg, opt);
		if (!print)
			return 0;   /* core_init reports it */
		fprintf(stderr, "confab: %s\n", err);
		return -1;
	}
	path[0] = '\0';
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
	config_merge(cfg, cli);
	config_options(cfg, opt);
	if (print) {
		eff = *cfg;
		config_effective(&eff, paths.downloads);
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

/* What the command line asked for besides the settings. */
struct args {
	const char *to, *from, *text, *sub;
	size_t      textlen;
	int         yes, dir, help;
	int         mode;   /* 0: chat, 's' send, 'r' recv, 'i' invite */
};

/* Read the options into a and the settings into cli: -1 to go on, or an exit code. */
static int
args_options(int argc, char **argv, struct args *a, struct config *cli)
{
	struct option long_opts[CONFIG_NKEYS + 6];
	char shortopts[8], err[PATH_MAX + 256];
	enum config_key k;
	int c;

	options_table(long_opts, shortopts, sizeof shortopts);
	while ((c = getopt_long(argc, argv, shortopts, long_opts, NULL)) != -1) {
		if (c == 'h')
			c = OPT_SETTING + CONFIG_HELP;
		else if (c == 'V')
			c = OPT_SETTING + CONFIG_VERSION;
		else if (c == OPT_DIR) {   /* recv --dir: the download directory */
			c = OPT_SETTING + CONFIG_DOWNLOAD_DIR;
			a->dir = 1;
		}
		switch (c) {
		case OPT_TO:
			a->to = optarg;
			break;
		case OPT_FROM:
			a->from = optarg;
			break;
		case OPT_YES:
			a->yes = 1;
			break;
		case OPT_TEXT:
			a->text = optarg;
			break;
		default:
			if (c < OPT_SETTING || c >= OPT_SETTING + CONFIG_NKEYS) {
				usage(stderr);
				return EXIT_USAGE;
			}
			k = (enum config_key)(c - OPT_SETTING);
			if (k == CONFIG_HELP) {
				a->help = 1;   /* once the subcommand is known: its own usage */
				break;
			}
			if (k == CONFIG_VERSION) {
				printf("confab %s\n", CONFAB_VERSION);
				return EXIT_OK;
			}
			if (config_option(cli, k, optarg, err, sizeof err) == -1) {
				fprintf(stderr, "confab: %s\n", err);
				return EXIT_USAGE;
			}
		}
	}
	a->sub = optind < argc ? argv[optind] : NULL;
	return -1;
}

/* Whether the subcommand is name. */
static int
args_sub_is(const struct args *a, const char *name)
{
	return a->sub != NULL && strcmp(a->sub, name) == 0;
}

/* An option of one subcommand given to another: the mistake, or NULL. */
static const char *
args_misplaced(const struct args *a, const struct config *cli)
{
	if (a->to != NULL && !args_sub_is(a, "send"))
		return "--to applies to confab send";
	if (a->text != NULL && !args_sub_is(a, "send"))
		return "--text applies to confab send";
	if ((a->dir || a->from != NULL || a->yes) && !args_sub_is(a, "recv"))
		return a->dir ? "--dir applies to confab recv" : a->from != NULL ?
		    "--from applies to confab recv" : "--yes applies to confab recv";
	if ((cli->set & CONFIG_BIT(CONFIG_EXIT_WHEN_IDLE)) && (a->sub != NULL || !cli->headless))
		return "--exit-when-idle applies to --headless";
	return NULL;
}

/* Check the subcommand and its arguments and set a->mode: -1 to go on, or an exit code. */
static int
args_subcommand(int argc, char **argv, struct args *a, struct config *cli, char *text_buf, size_t text_size)
{
	const char *misplaced = args_misplaced(a, cli);
	char err[PATH_MAX + 256];

	if (misplaced != NULL && (a->sub == NULL || args_sub_is(a, "send") || args_sub_is(a, "recv") ||
	    args_sub_is(a, "id") || args_sub_is(a, "invite"))) {
		fprintf(stderr, "confab: %s, not to %s\n", misplaced,
		    a->sub != NULL ? a->sub : cli->headless ? "--headless" : "the full-screen chat");
		return EXIT_USAGE;
	}
	if (a->sub == NULL)
		return -1;
	if (args_sub_is(a, "id") && optind + 1 == argc && !cli->print_config)
		return run_id(cli->home);
	if (args_sub_is(a, "send")) {
		if (a->to == NULL || (optind + 1 == argc) != (a->text != NULL)) {
			fprintf(stderr, "usage: confab send --to PEER PATH... or confab send --to PEER "
			    "--text TEXT (confab send --help)\n");
			return EXIT_USAGE;
		}
		if (a->text != NULL && read_text(&a->text, &a->textlen, text_buf, text_size) == -1)
			return EXIT_USAGE;
		if (reach_target_check(a->to, err, sizeof err) == -1) {
			fprintf(stderr, "confab: --to %s\n", err);
			return EXIT_USAGE;
		}
		a->mode = 's';
		cli->set |= CONFIG_BIT(CONFIG_LISTEN);   /* a sender listens nowhere: no config listen */
	} else if (args_sub_is(a, "recv") && optind + 1 == argc) {
		a->mode = 'r';
	} else if (args_sub_is(a, "invite") && optind + 1 == argc) {
		a->mode = 'i';   /* reach */
	} else {
		fprintf(stderr, "confab: unknown command \"%s\"\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	static struct config cfg, cli;   /* opt points into cfg */
	static char stdin_text[WIRE_TEXT_MAX + 2];
	struct core_options opt;
	struct args a;
	int rc;

	setlocale(LC_ALL, "");
	memset(&opt, 0, sizeof opt);
	memset(&a, 0, sizeof a);
	config_defaults(&cli);
	if ((rc = args_options(argc, argv, &a, &cli)) != -1)
		return rc;
	if (a.help) {
		if (args_sub_is(&a, "send") || args_sub_is(&a, "recv"))
			fputs(args_sub_is(&a, "send") ? usage_send : usage_recv, stdout);
		else
			usage(stdout);
		return EXIT_OK;
	}
	if ((rc = args_subcommand(argc, argv, &a, &cli, stdin_text, sizeof stdin_text)) != -1)
		return rc;
	/* the config file fills in what the command line left unset */
	if (load_config(&cfg, &cli, &opt) == -1)
		return EXIT_FAILURE_;
	if (cli.print_config)
		return EXIT_OK;
	switch (a.mode) {
	case 'i':
		return reach_view_invite_main(&opt);
	case 's':
		return oneshot_send(&opt, a.to, argv + optind + 1, argc - optind - 1, a.text, a.textlen);
	case 'r':
		return oneshot_recv(&opt, a.from, a.yes);
	}
	return cfg.headless ? headless_run(&opt) : tui_run(&opt);
}
