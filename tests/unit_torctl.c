/*
 * unit_torctl.c - the Tor control-port reply parser: good replies, data
 * blocks, events, and malformed input; and SIGNAL NEWNYM on a controller
 * connection to a fake tor on a unix socket.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "loop.h"
#include "tap.h"
#include "torctl.h"

static struct torctl_reply rep;

/* Parse s whole; returns the parser's result, used in *used. */
static int
parse(const char *s, size_t *used, char *err, size_t errlen)
{
	err[0] = '\0';
	return torctl_parse(s, strlen(s), &rep, used, err, errlen);
}

/* The parser says "more" for every proper prefix of s, and 1 for all of it. */
static int
prefixes_wait(const char *s)
{
	char err[200];
	size_t n, used;

	for (n = 0; n < strlen(s); n++)
		if (torctl_parse(s, n, &rep, &used, err, sizeof err) != 0)
			return 0;
	return torctl_parse(s, strlen(s), &rep, &used, err, sizeof err) == 1 && used == strlen(s);
}

static void
test_good(void)
{
	char err[200];
	size_t used;
	const char *pi = "250-PROTOCOLINFO 1\r\n"
	    "250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE=\"/var/lib/tor/control_auth_cookie\"\r\n"
	    "250-VERSION Tor=\"0.4.9.11\"\r\n250 OK\r\n";

	is_int(parse("250 OK\r\n", &used, err, sizeof err), 1, "250 OK is a reply");
	is_int(rep.code, 250, "its code");
	is_int((int)rep.n, 1, "one line");
	is_str(rep.line[0], "OK", "its text");
	is_int((int)used, 8, "all of it consumed");

	is_int(parse(pi, &used, err, sizeof err), 1, "PROTOCOLINFO's answer");
	is_int((int)rep.n, 4, "four lines");
	is_str(rep.line[1], "AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE=\"/var/lib/tor/control_auth_cookie\"",
	    "the AUTH line");
	ok(prefixes_wait(pi), "every prefix asks for more, the whole is one reply");

	is_int(parse("250 OK\r\n650 HS_DESC UPLOADED x\r\n", &used, err, sizeof err), 1, "two replies: the first");
	is_int((int)used, 8, "only the first is consumed");

	is_int(parse("250+config-text=\r\nSocksPort 9050\r\n..dot\r\n.\r\n250 OK\r\n", &used, err, sizeof err), 1,
	    "a data block");
	is_str(rep.line[0], "config-text=\nSocksPort 9050\n.dot", "data lines joined, a leading .. unescaped");
	is_str(rep.line[1], "OK", "the line after the block");

	is_int(parse("650 HS_DESC UPLOADED abc UNKNOWN $AAAA~relay1\r\n", &used, err, sizeof err), 1, "an event");
	is_int(rep.code, 650, "event code 650");

	is_int(parse("552 Unrecognized command \"X\"\r\n", &used, err, sizeof err), 1, "an error reply parses");
	is_int(rep.code, 552, "its code");
	is_int(parse("250 OK\r", &used, err, sizeof err), 0, "a CR at the end: more");
	is_int(parse("", &used, err, sizeof err), 0, "nothing: more");
}

/* A malformed input is -1 with a reason. */
static void
bad(const char *s, size_t len, const char *what)
{
	char err[200] = "";
	size_t used = 99;
	int r = torctl_parse(s, len, &rep, &used, err, sizeof err);

	ok(r == -1 && err[0] != '\0' && used == 0, "malformed: %s (%s)", what, err);
}

static void
test_bad(void)
{
	static char big[TORCTL_LINE_MAX + 64];
	static char many[(TORCTL_LINES_MAX + 2) * 12];
	static char huge[TORCTL_REPLY_MAX + 4096];
	size_t n = 0;
	int i;

	bad("250 OK\n", 7, "LF without CR");
	bad("250 O\rK\r\n", 9, "a CR inside a line");
	bad("25 OK\r\n", 7, "two digits");
	bad("2x0 OK\r\n", 8, "a letter in the code");
	bad("250\r\n", 5, "no separator");
	bad("250*OK\r\n", 8, "a bad separator");
	bad("150 OK\r\n", 8, "code under 200");
	bad("750 OK\r\n", 8, "code over 699");
	bad("250-a\r\n550 b\r\n", 14, "two codes in one reply");
	bad("250 O\0K\r\n", 9, "a NUL");
	bad("250 \x1b[31m\r\n", 11, "an escape byte");
	bad("250 caf\xc3\xa9\r\n", 10, "a byte over 0x7e");
	bad("250+x=\r\nline\n.\r\n", 16, "LF in a data block");
	memset(big, 'a', sizeof big);
	memcpy(big, "250 ", 4);
	bad(big, sizeof big, "a line longer than the limit, no CRLF");
	memcpy(big + TORCTL_LINE_MAX + 10, "\r\n", 2);
	bad(big, TORCTL_LINE_MAX + 12, "a line longer than the limit");
	for (i = 0; i < TORCTL_LINES_MAX + 1; i++)
		n += (size_t)snprintf(many + n, sizeof many - n, "250-x%d\r\n", i);
	bad(many, n, "more lines than the limit");
	n = (size_t)snprintf(huge, sizeof huge, "250+d=\r\n");
	while (n + 4000 < sizeof huge - 16) {
		memset(huge + n, 'b', 3998);
		memcpy(huge + n + 3998, "\r\n", 2);
		n += 4000;
	}
	bad(huge, n, "a data block over the reply limit");
}

static void
test_kv(void)
{
	char v[64];

	is_int(torctl_kv("METHODS=COOKIE,SAFECOOKIE COOKIEFILE=\"/a b/c\"", "METHODS", v, sizeof v), 1, "plain value");
	is_str(v, "COOKIE,SAFECOOKIE", "its text");
	is_int(torctl_kv("METHODS=COOKIE COOKIEFILE=\"/a b/\\\"c\\\\\"", "COOKIEFILE", v, sizeof v), 1, "quoted value");
	is_str(v, "/a b/\"c\\", "escapes undone");
	is_int(torctl_kv("X=\"a KEY=no\" KEY=yes", "KEY", v, sizeof v), 1, "a key inside a quoted value is skipped");
	is_str(v, "yes", "the real one");
	is_int(torctl_kv("NOTKEY=1", "KEY", v, sizeof v), 0, "a longer key is another key");
	is_int(torctl_kv("KEY=\"open", "KEY", v, sizeof v), -1, "unterminated quote");
	is_int(torctl_kv("KEY=\"a\\q\"", "KEY", v, sizeof v), -1, "unknown escape");
	is_int(torctl_kv("KEY=0123456789", "KEY", v, 5), -1, "too long for out");
	is_int(torctl_kv("X=\"unterminated KEY=1", "KEY", v, sizeof v), 0, "inside an unterminated quote: absent");
}

static void
test_names(void)
{
	const char *id = "vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd";
	char name[100], got[TORCTL_ID_LEN + 1];

	ok(torctl_id_ok(id, strlen(id)), "a v3 id");
	ok(!torctl_id_ok("vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyy1", 56), "'1' is not base32");
	ok(!torctl_id_ok(id, 55), "55 characters");
	snprintf(name, sizeof name, "%s.onion", id);
	ok(torctl_onion_name(name, got) && strcmp(got, id) == 0, "ID.onion");
	snprintf(name, sizeof name, "%s.ONION:7470", id);
	name[0] = 'V';
	ok(torctl_onion_name(name, got) && strcmp(got, id) == 0, "upper case and a port");
	snprintf(name, sizeof name, "%s.onion.example", id);
	ok(!torctl_onion_name(name, got), "a name under .onion's id is not one");
	ok(!torctl_onion_name("short.onion", got), "a short name");
}

/* --- SIGNAL NEWNYM against a fake tor ------------------------------------ */

#define SID "vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd"

/* The fake tor's end: the commands it got, one per line. */
struct fake {
	int  lfd, fd;
	char in[4096];
	size_t inlen;
	char log[4096];       /* every command line, '\n'-separated */
	int  newnym_answer;   /* 250, or an error code to answer SIGNAL NEWNYM with */
	int  changes;
};

/* The owner's callback: count the calls. */
static void
on_change(struct torctl *t, void *arg)
{
	struct fake *f = arg;

	(void)t;
	f->changes++;
}

/* Answer one command line as a willing tor does. */
static void
fake_answer(struct fake *f, const char *cmd)
{
	char out[512];

	if (strncmp(cmd, "PROTOCOLINFO", 12) == 0)
		snprintf(out, sizeof out, "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=NULL\r\n250 OK\r\n");
	else if (strncmp(cmd, "GETINFO", 7) == 0)
		snprintf(out, sizeof out, "250-net/listeners/socks=\"127.0.0.1:9\"\r\n"
		    "250-status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY=\"Done\"\r\n250 OK\r\n");
	else if (strncmp(cmd, "ADD_ONION", 9) == 0)
		snprintf(out, sizeof out, "250-ServiceID=" SID "\r\n250 OK\r\n");
	else if (strcmp(cmd, "SIGNAL NEWNYM") == 0 && f->newnym_answer != 250)
		snprintf(out, sizeof out, "%d Unrecognized signal\r\n", f->newnym_answer);
	else
		snprintf(out, sizeof out, "250 OK\r\n");
	if (write(f->fd, out, strlen(out)) != (ssize_t)strlen(out))
		ok(0, "the fake tor could not answer");
}

/* Run the loop and the fake tor for ms milliseconds. */
static void
run(struct loop *loop, struct fake *f, int ms)
{
	uint64_t end = loop_now(loop) + (uint64_t)ms;
	ssize_t n;
	char *nl;

	while (loop_now(loop) < end) {
		loop_once(loop, 5);
		if (f->fd == -1 && (f->fd = accept(f->lfd, NULL, NULL)) != -1)
			fcntl(f->fd, F_SETFL, O_NONBLOCK);
		if (f->fd == -1)
			continue;
		while ((n = read(f->fd, f->in + f->inlen, sizeof f->in - 1 - f->inlen)) > 0)
			f->inlen += (size_t)n;
		f->in[f->inlen] = '\0';
		while ((nl = strstr(f->in, "\r\n")) != NULL) {
			*nl = '\0';
			snprintf(f->log + strlen(f->log), sizeof f->log - strlen(f->log), "%s\n", f->in);
			fake_answer(f, f->in);
			f->inlen -= (size_t)(nl + 2 - f->in);
			memmove(f->in, nl + 2, f->inlen + 1);
		}
	}
}

/* How many lines of the fake's log are exactly line. */
static int
count_cmd(const struct fake *f, const char *line)
{
	const char *p = f->log;
	size_t l = strlen(line);
	int n = 0;

	for (; (p = strstr(p, line)) != NULL; p += l)
		if ((p == f->log || p[-1] == '\n') && p[l] == '\n')
			n++;
	return n;
}

static void
test_newnym(void)
{
	struct loop *loop = loop_new();
	struct torctl_conf conf;
	struct sockaddr_un un;
	struct fake f;
	struct torctl *t;
	char dir[] = "/tmp/unit_torctl.XXXXXX";

	memset(&f, 0, sizeof f);
	f.fd = -1;
	f.newnym_answer = 250;
	memset(&un, 0, sizeof un);
	un.sun_family = AF_UNIX;
	if (loop == NULL || mkdtemp(dir) == NULL ||
	    (size_t)snprintf(un.sun_path, sizeof un.sun_path, "%s/ctl", dir) >= sizeof un.sun_path ||
	    (f.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(f.lfd, (struct sockaddr *)&un, sizeof un) == -1 || listen(f.lfd, 1) == -1) {
		ok(0, "a fake tor on a unix socket: %s", strerror(errno));
		return;
	}
	memset(&conf, 0, sizeof conf);
	snprintf(conf.control, sizeof conf.control, "unix:%s", un.sun_path);
	conf.port = 7470;
	snprintf(conf.target, sizeof conf.target, "127.0.0.1:7470");
	t = torctl_new(loop, &conf, on_change, &f);
	ok(t != NULL, "a controller connection to the fake tor");
	if (t == NULL)
		return;
	torctl_newnym(t);   /* before logging in: waits until ADD_ONION is answered */
	torctl_newnym(t);
	run(loop, &f, 300);
	is_str(torctl_id(t), SID, "logged in, the service added");
	ok(strstr(f.log, "ADD_ONION") != NULL && strstr(f.log, "SIGNAL NEWNYM") > strstr(f.log, "ADD_ONION"),
	    "NEWNYM asked for early goes after ADD_ONION, not in the middle of logging in");
	is_int(count_cmd(&f, "SIGNAL NEWNYM"), 1, "asked for twice before it went: sent once");
	is_int((int)torctl_newnyms(t), 1, "tor's 250 counted");
	ok(torctl_state(t) != TC_FAILED, "the connection stays");

	torctl_newnym(t);   /* idle now: goes at once */
	run(loop, &f, 100);
	is_int(count_cmd(&f, "SIGNAL NEWNYM"), 2, "asked for when idle: sent at once");
	is_int((int)torctl_newnyms(t), 2, "and answered");

	f.newnym_answer = 552;
	torctl_newnym(t);
	run(loop, &f, 100);
	is_int(count_cmd(&f, "SIGNAL NEWNYM"), 3, "sent again");
	is_int((int)torctl_newnyms(t), 2, "a refusal is not counted");
	ok(torctl_state(t) != TC_FAILED, "tor refusing NEWNYM does not end the connection (nor the service)");
	f.newnym_answer = 250;
	torctl_newnym(t);
	run(loop, &f, 100);
	is_int((int)torctl_newnyms(t), 3, "the connection still works after the refusal");
	ok(strstr(f.log, "SIGNAL NEWNYM\n") != NULL && strstr(f.log, "HSFETCH") == NULL,
	    "nothing but SIGNAL NEWNYM was added to the exchange");
	torctl_free(t);
	if (f.fd != -1)
		close(f.fd);
	close(f.lfd);
	unlink(un.sun_path);
	rmdir(dir);
	loop_free(loop);
}

int
main(void)
{
	test_good();
	test_bad();
	test_kv();
	test_names();
	test_newnym();
	return tap_done();
}
