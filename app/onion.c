/* onion.c - reachable as a Tor onion service: our own tor or an existing one's control port. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "onion.h"
#include "paths.h"
#include "persist.h"
#include "socks.h"
#include "text.h"
#include "torctl.h"

#define WATCH_MS        200      /* how often our tor and its control port file are looked at */
#define PORTFILE_MS     60000    /* tor must open its control port within this */
#define RETRY_MS        10000    /* an existing tor's control port: try again after this */
#define STOP_WAIT_MS    3000     /* at exit, wait this long for our tor before SIGKILL */

extern char **environ;

struct onion {
	struct core      *c;
	struct torctl    *tc;
	struct torctl_conf conf;
	pid_t             pid;                 /* the tor we started, 0 if none */
	int               own;                 /* mode a: we start tor */
	char              dir[PATH_MAX];       /* its DataDirectory */
	char              portfile[PATH_MAX];
	char              keyfile[PATH_MAX];
	struct loop_timer timer;
	uint64_t          t0;                  /* loop ms when tor was started */
	int               failed;
	char              err[TORCTL_ERR_MAX + 64];
	char              addr[ONION_ADDR_MAX];
	char              socks[SOCK_ADDRSTRLEN];
	char              shown[128];           /* the state last reported */
	uint64_t          t_start;             /* loop ms at onion_start, for the published log line */
	uint64_t          newnym_at;           /* loop ms of the last NEWNYM asked for */
	uint64_t          newnym_gap;          /* the next one not before newnym_at + this */
	int               newnym_asked;
};

/* Tell the front-end the onion state changed (once per distinct state). */
static void
report(struct onion *o)
{
	struct core_event ev;
	char now[128];
	int boot = o->tc != NULL ? torctl_bootstrap(o->tc) : -1;

	snprintf(now, sizeof now, "%s %d %s", onion_state(o->c), boot, o->addr);
	if (strcmp(now, o->shown) == 0)
		return;
	snprintf(o->shown, sizeof o->shown, "%s", now);
	memset(&ev, 0, sizeof ev);
	ev.type = EV_REACH;
	if (o->c->fe.event != NULL)
		o->c->fe.event(o->c, &ev, o->c->fe.arg);
}

/* Give up on onion reachability, saying why. */
static void
onion_fail(struct onion *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
onion_fail(struct onion *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->err, sizeof o->err, fmt, ap);
	va_end(ap);
	o->failed = 1;
	log_warn("onion: %s", o->err);
	core_note(o->c, NULL, LINE_ERROR, "onion service: %s", o->err);
	report(o);
}

/* The last warning or error tor logged (sanitised), for a message. */
static void
tor_last_words(const struct onion *o, char *out, size_t outlen)
{
	char path[PATH_MAX], buf[2048], line[600];
	const char *p, *best = NULL;
	ssize_t n;
	int fd;

	out[0] = '\0';
	if (paths_join(path, sizeof path, o->dir, "notice.log") == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	if (lseek(fd, -(off_t)(sizeof buf - 1), SEEK_END) == -1)
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (p = buf; (p = strchr(p, '[')) != NULL; p++)
		if (strncmp(p, "[warn]", 6) == 0 || strncmp(p, "[err]", 5) == 0)
			best = p;
	if (best == NULL)
		return;
	snprintf(line, sizeof line, "%.*s", (int)strcspn(best, "\n"), best);
	text_sanitize((const uint8_t *)line, strlen(line), out, outlen, 0);
}

/* The control connection moved on. */
static void
on_torctl(struct torctl *tc, void *arg)
{
	struct onion *o = arg;
	struct core *c = o->c;
	const char *key;

	if ((key = torctl_new_key(tc)) != NULL) {
		char err[PATH_MAX + 100], line[TORCTL_KEY_MAX + 2];
		int n = snprintf(line, sizeof line, "%s\n", key);

		if (persist_atomic_write_buf(o->keyfile, 0600, 0, line, (size_t)n, err, sizeof err) == -1)
			log_warn("onion: cannot keep the service key (the address changes at the next start): %s", err);
		else
			log_info("onion: the service key is kept in %s", o->keyfile);
		sodium_memzero(line, sizeof line);
		torctl_key_taken(tc);
	}
	if (torctl_socks(tc)[0] != '\0' && strcmp(torctl_socks(tc), o->socks) != 0) {
		struct socks_conf sc;
		char url[SOCK_ADDRSTRLEN + 16], err[200];

		snprintf(url, sizeof url, "socks5://%s", torctl_socks(tc));
		if (socks_parse_url(url, &sc, err, sizeof err) == 0) {
			net_set_onion_proxy(c->net, &sc);
			snprintf(o->socks, sizeof o->socks, "%s", torctl_socks(tc));
			log_info("onion: .onion names are reached through tor's SOCKS port %s", o->socks);
			core_redial_known(c);   /* known peers' onion addresses work now */
		}
	}
	if (torctl_id(tc)[0] != '\0' && o->addr[0] == '\0') {
		snprintf(o->addr, sizeof o->addr, "%s.onion:%u", torctl_id(tc), o->conf.port);
		core_hello_all(c);   /* HELLO extension 2: peers already here learn it too */
	}
	if (torctl_state(tc) == TC_PUBLISHED && strncmp(o->shown, "published", 9) != 0) {
		log_info("onion: reachable at %s (%llu ms after the start)", o->addr,
		    (unsigned long long)(loop_now(c->loop) - o->t_start));
		core_note(c, NULL, LINE_SYSTEM, "reachable through tor at %s", o->addr);
		core_redial_known(c);   /* a peer that published before us is found now, at once */
	}
	if (torctl_state(tc) == TC_FAILED) {
		char words[300];

		if (!o->own && !c->quitting) {
			/* an existing tor may come back: try again later */
			log_info("onion: %s; trying again in %d s", torctl_error(tc), RETRY_MS / 1000);
			snprintf(o->err, sizeof o->err, "%s", torctl_error(tc));
			o->failed = 1;
			loop_timer_set(c->loop, &o->timer, RETRY_MS);
			report(o);
			return;
		}
		tor_last_words(o, words, sizeof words);
		onion_fail(o, "%s%s%s", torctl_error(tc), words[0] ? "; tor said: " : "", words);
		return;
	}
	report(o);
}

/* Open the control connection (conf.control is set). */
static void
control_open(struct onion *o)
{
	if (o->tc != NULL) {
		torctl_free(o->tc);
		o->tc = NULL;
	}
	o->failed = 0;
	o->err[0] = '\0';
	if ((o->tc = torctl_new(o->c->loop, &o->conf, on_torctl, o)) == NULL) {
		if (!o->own) {
			snprintf(o->err, sizeof o->err, "cannot connect to tor's control port %s: %s", o->conf.control,
			    strerror(errno));
			o->failed = 1;
			log_info("onion: %s; trying again in %d s", o->err, RETRY_MS / 1000);
			loop_timer_set(o->c->loop, &o->timer, RETRY_MS);
			report(o);
			return;
		}
		onion_fail(o, "cannot connect to tor's control port %s: %s", o->conf.control, strerror(errno));
		return;
	}
	report(o);
}

/* Timer: watch our tor (exit, control port file), or retry an existing tor. */
static void
on_timer(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct onion *o = arg;
	char buf[128], words[300];
	int st, fd;
	ssize_t n;

	(void)t;
	if (!o->own) {
		control_open(o);
		return;
	}
	if (o->pid > 0 && waitpid(o->pid, &st, WNOHANG) == o->pid) {
		o->pid = 0;
		tor_last_words(o, words, sizeof words);
		if (o->tc != NULL)
			torctl_free(o->tc);
		o->tc = NULL;
		onion_fail(o, "tor exited (%s %d)%s%s", WIFEXITED(st) ? "status" : "signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), words[0] ? ": " : "", words);
		return;
	}
	if (o->tc == NULL && !o->failed) {
		/* "PORT=127.0.0.1:40123" once tor listens */
		if ((fd = open(o->portfile, O_RDONLY | O_CLOEXEC)) != -1) {
			n = read(fd, buf, sizeof buf - 1);
			close(fd);
			if (n > 5 && buf[n - 1] == '\n' && strncmp(buf, "PORT=", 5) == 0) {
				buf[n - 1] = '\0';
				snprintf(o->conf.control, sizeof o->conf.control, "%s", buf + 5);
				log_info("onion: our tor (pid %ld) listens for its controller at %s after %llu ms",
				    (long)o->pid, o->conf.control, (unsigned long long)(loop_now(loop) - o->t0));
				control_open(o);
			}
		} else if (loop_now(loop) - o->t0 > PORTFILE_MS) {
			onion_fail(o, "tor did not open its control port in %d s", PORTFILE_MS / 1000);
			return;
		}
	}
	if (o->pid > 0)
		loop_timer_set(loop, &o->timer, o->tc != NULL ? 1000 : WATCH_MS);
}

/* persist_writer_fn: our tor's torrc. */
static int
torrc_lines(FILE *f, void *arg)
{
	const struct onion *o = arg;
	const struct core_options *opt = &o->c->opt;

	fprintf(f, "# written by confab at each start: changes here are lost\n"
	    "DataDirectory %s\n"
	    "ControlPort auto\n"
	    "ControlPortWriteToFile %s\n"
	    "CookieAuthentication 1\n"
	    "SocksPort auto\n"
	    "__OwningControllerProcess %ld\n"
	    "Log notice file %s/notice.log\n"
	    "AvoidDiskWrites 1\n",
	    o->dir, o->portfile, (long)getpid(), o->dir);
	if (opt->tor_config != NULL)
		fprintf(f, "%%include %s\n", opt->tor_config);
	return ferror(f) ? -1 : 0;
}

/* Start our own tor (mode a). */
static void
tor_launch(struct onion *o)
{
	struct core *c = o->c;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, deflt;
	char torrc[PATH_MAX], empty[PATH_MAX], out[PATH_MAX], err[PATH_MAX + 100];
	char *argv[] = { "tor", "--defaults-torrc", empty, "-f", torrc, NULL };
	pid_t pid;
	int rc;

	if (paths_join(o->dir, sizeof o->dir, c->paths.state, "tor") == -1 ||
	    paths_join(o->portfile, sizeof o->portfile, o->dir, "control.port") == -1 ||
	    paths_join(torrc, sizeof torrc, o->dir, "torrc") == -1 ||
	    paths_join(empty, sizeof empty, o->dir, "torrc-defaults") == -1 ||
	    paths_join(out, sizeof out, o->dir, "stdout.log") == -1) {
		onion_fail(o, "the state directory's path is too long for tor's files");
		return;
	}
	if (paths_mkdirs(o->dir, 0700) == -1 || chmod(o->dir, 0700) == -1) {
		onion_fail(o, "cannot make %s: %s", o->dir, strerror(errno));
		return;
	}
	if (unlink(o->portfile) == -1 && errno != ENOENT) {
		onion_fail(o, "cannot remove the old %s: %s", o->portfile, strerror(errno));
		return;
	}
	if (persist_atomic_write(torrc, 0600, 0, torrc_lines, o, err, sizeof err) == -1 ||
	    persist_atomic_write_buf(empty, 0600, 0, "", 0, err, sizeof err) == -1) {
		onion_fail(o, "cannot write tor's configuration: %s", err);
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&deflt);
	sigaddset(&deflt, SIGPIPE);
	sigaddset(&deflt, SIGINT);
	sigaddset(&deflt, SIGTERM);
	sigaddset(&deflt, SIGHUP);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &deflt);
	/* its own process group: a ^C meant for the terminal reaches confab, which stops tor */
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	if (c->opt.tor_binary != NULL)
		rc = posix_spawn(&pid, c->opt.tor_binary, &fa, &at, argv, environ);
	else
		rc = posix_spawnp(&pid, "tor", &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		if (c->opt.tor_binary != NULL)
			onion_fail(o, "cannot start tor (%s): %s", c->opt.tor_binary, strerror(rc));
		else if (rc == ENOENT)
			onion_fail(o, "tor is not installed (apt-get install tor): no onion address");
		else
			onion_fail(o, "cannot start tor: %s", strerror(rc));
		return;
	}
	o->pid = pid;
	o->t0 = loop_now(c->loop);
	log_info("onion: started %s (pid %ld) with %s", c->opt.tor_binary != NULL ? c->opt.tor_binary : "tor",
	    (long)pid, torrc);
	loop_timer_set(c->loop, &o->timer, WATCH_MS);
}

/* Read the kept service key into conf.key (none: a new one). */
static int
key_load(struct onion *o)
{
	char buf[TORCTL_KEY_MAX + 2];
	ssize_t n;
	int fd;

	o->conf.key[0] = '\0';
	if ((fd = open(o->keyfile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return 0;
		onion_fail(o, "cannot read %s: %s", o->keyfile, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n <= 11 || (size_t)n >= sizeof o->conf.key || strncmp(buf, "ED25519-V3:", 11) != 0 ||
	    strspn(buf + 11, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != (size_t)n - 11) {
		sodium_memzero(buf, sizeof buf);
		onion_fail(o, "the service key %s is damaged (move it away to get a new onion address)", o->keyfile);
		return -1;
	}
	memcpy(o->conf.key, buf, (size_t)n);
	o->conf.key[n] = '\0';
	sodium_memzero(buf, sizeof buf);
	return 0;
}

/*
 * Where tor sends the onion's connections: a loopback listener of its own (any
 * free port), so that every session accepted there is known to come through
 * the onion (path "onion").  The onion's port, what peers dial, is our first
 * ordinary listener's (the default port with none: --tor-only).
 */
static int
target_of(struct core *c, char *out, size_t outlen, uint16_t *port)
{
	static const char *const loop[] = { "127.0.0.1", "::1" };
	struct sockaddr_storage ss;
	socklen_t sl;
	size_t i;

	*port = (uint16_t)net_listen_port(c->net);
	if (*port == 0)
		*port = DEFAULT_PORT;
	for (i = 0; i < sizeof loop / sizeof loop[0]; i++)
		if (sock_parse(loop[i], 0, &ss, &sl) == 0 &&
		    net_listen_onion(c->net, (struct sockaddr *)&ss, sl, out, outlen) == 0) {
			log_info("onion: tor hands the onion's connections (port %u) to %s", *port, out);
			return 0;
		}
	return -1;
}

/* Start publishing, if asked to. */
void
onion_start(struct core *c)
{
	const struct core_options *opt = &c->opt;
	struct onion *o;

	if (!opt->tor || opt->no_incoming)
		return;
	if ((o = calloc(1, sizeof *o)) == NULL) {
		log_warn("onion: out of memory");
		return;
	}
	c->onion = o;
	o->c = c;
	o->t_start = loop_now(c->loop);
	loop_timer_init(&o->timer, on_timer, o);
	o->own = opt->tor_control == NULL;
	o->conf.own = o->own;
	if (opt->tor_password != NULL)
		snprintf(o->conf.password, sizeof o->conf.password, "%s", opt->tor_password);
	if (paths_join(o->keyfile, sizeof o->keyfile, c->paths.state, "onion_key") == -1) {
		onion_fail(o, "the state directory's path is too long");
		return;
	}
	if (target_of(c, o->conf.target, sizeof o->conf.target, &o->conf.port) == -1) {
		onion_fail(o, "cannot listen on loopback for tor to forward to: %s", strerror(errno));
		return;
	}
	if (key_load(o) == -1)
		return;
	if (o->own) {
		tor_launch(o);
	} else {
		snprintf(o->conf.control, sizeof o->conf.control, "%s", opt->tor_control);
		control_open(o);
	}
	report(o);
}

/* Close the control connection and ask our tor to stop. */
void
onion_stop(struct core *c)
{
	struct onion *o = c->onion;

	if (o == NULL)
		return;
	loop_timer_del(c->loop, &o->timer);
	if (o->tc != NULL) {
		torctl_free(o->tc);   /* an owned tor exits when its controller goes */
		o->tc = NULL;
	}
	net_set_onion_proxy(c->net, NULL);
	if (o->pid > 0)
		kill(o->pid, SIGTERM);
}

/* Wait for our tor, free. */
void
onion_free(struct core *c)
{
	struct onion *o = c->onion;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i, st;

	if (o == NULL)
		return;
	onion_stop(c);
	for (i = 0; o->pid > 0 && i < STOP_WAIT_MS / 20; i++) {
		if (waitpid(o->pid, &st, WNOHANG) == o->pid)
			o->pid = 0;
		else
			nanosleep(&ts, NULL);
	}
	if (o->pid > 0) {
		log_warn("onion: tor (pid %ld) did not stop in %d ms: killed", (long)o->pid, STOP_WAIT_MS);
		kill(o->pid, SIGKILL);
		waitpid(o->pid, &st, 0);
	}
	sodium_memzero(o, sizeof *o);
	free(o);
	c->onion = NULL;
}

/* "ID.onion:PORT" or NULL. */
const char *
onion_addr(const struct core *c)
{
	return c->onion != NULL && c->onion->addr[0] != '\0' ? c->onion->addr : NULL;
}

/* The id or NULL. */
const char *
onion_id(const struct core *c)
{
	return c->onion != NULL && c->onion->tc != NULL && torctl_id(c->onion->tc)[0] != '\0' ?
	    torctl_id(c->onion->tc) : NULL;
}

/* The onion's port. */
unsigned
onion_port(const struct core *c)
{
	return c->onion != NULL ? c->onion->conf.port : 0;
}

/* Whether a descriptor is up. */
int
onion_published(const struct core *c)
{
	return c->onion != NULL && c->onion->tc != NULL && torctl_state(c->onion->tc) == TC_PUBLISHED;
}

/* The state in one word. */
const char *
onion_state(const struct core *c)
{
	const struct onion *o = c->onion;

	if (o == NULL)
		return "off";
	if (o->failed)
		return "failed";
	if (o->tc == NULL)
		return "starting";
	switch (torctl_state(o->tc)) {
	case TC_CONNECTING: return "connecting";
	case TC_STARTING:   return torctl_id(o->tc)[0] == '\0' || torctl_bootstrap(o->tc) < 100 ?
	                        "bootstrapping" : "publishing";
	case TC_PUBLISHED:  return "published";
	default:            return "failed";
	}
}

/* Tor's bootstrap progress in percent, -1 if unknown. */
int
onion_bootstrap(const struct core *c)
{
	return c->onion != NULL && c->onion->tc != NULL ? torctl_bootstrap(c->onion->tc) : -1;
}

/* Tor's SOCKS port as "ADDR:PORT", or NULL. */
const char *
onion_socks(const struct core *c)
{
	return c->onion != NULL && c->onion->socks[0] != '\0' ? c->onion->socks : NULL;
}

/* Why it failed, or NULL. */
const char *
onion_error(const struct core *c)
{
	return c->onion != NULL && c->onion->failed ? c->onion->err : NULL;
}

/* Whether confab started the tor itself. */
int
onion_own_tor(const struct core *c)
{
	return c->onion != NULL && c->onion->own;
}

/* Whether a failed call's err may come from stale onion state in tor (the service itself may be fine). */
static int
stale_state_err(int err)
{
	switch (err) {
	case SESSION_TUNNEL_TIMEOUT:   /* tor held the stream: a rendezvous the old service never joins */
	case 0xf0:                     /* no descriptor: HSDirs it will not ask again for 15 minutes */
	case 0xf2:                     /* introduction failed: the old descriptor's introduction points */
	case 0xf3:                     /* rendezvous failed */
	case 0xf7:                     /* introduction timed out */
		return 1;
	default:
		return 0;
	}
}

/* A call to an onion through our tor failed: maybe ask tor to forget what it holds about services. */
void
onion_call_failed(struct core *c, const char *addr, int err)
{
	struct onion *o = c->onion;
	uint64_t now;
	char why[80];

	if (o == NULL || o->tc == NULL || c->quitting || !stale_state_err(err))
		return;
	if (err == SESSION_TUNNEL_TIMEOUT)
		snprintf(why, sizeof why, "no answer in time");
	else
		snprintf(why, sizeof why, "%s", socks_rep_text((uint8_t)err));
	if (!o->own) {
		log_info("onion: tor could not reach %s (%s); not asking it to forget its onion state "
		    "(NEWNYM): it is not our tor, other programs use it", addr, why);
		return;
	}
	now = loop_now(c->loop);
	if (o->newnym_asked && now - o->newnym_at < o->newnym_gap) {
		log_debug("onion: tor could not reach %s (%s); NEWNYM was asked for %llu ms ago", addr, why,
		    (unsigned long long)(now - o->newnym_at));
		return;
	}
	/* failures in a row: each NEWNYM waits twice as long; after a quiet spell, from the start */
	if (!o->newnym_asked || now - o->newnym_at > 2 * o->newnym_gap)
		o->newnym_gap = ONION_NEWNYM_GAP_MS;
	else if (o->newnym_gap < ONION_NEWNYM_GAP_MAX_MS)
		o->newnym_gap = o->newnym_gap * 2 > ONION_NEWNYM_GAP_MAX_MS ? ONION_NEWNYM_GAP_MAX_MS :
		    o->newnym_gap * 2;
	o->newnym_asked = 1;
	o->newnym_at = now;
	log_info("onion: tor could not reach %s (%s): asking it to forget the onion descriptors and "
	    "circuits it holds (NEWNYM), so that the next call fetches the current descriptor", addr, why);
	torctl_newnym(o->tc);
}
