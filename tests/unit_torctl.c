/* unit_torctl.c - the Tor control-port reply parser: good replies, data blocks, events, and malformed input. */
#include "config.h"

#include <stdio.h>
#include <string.h>

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

int
main(void)
{
	test_good();
	test_bad();
	test_kv();
	test_names();
	return tap_done();
}
