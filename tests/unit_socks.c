/* unit_socks.c - the SOCKS5 client: URLs, requests, and every kind of reply, good and bad. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "socks.h"
#include "tap.h"

/* Feed all of in at once; returns the result, *used what was consumed. */
static int
feed(struct socks *s, const void *in, size_t len, size_t *used, struct buf *out)
{
	buf_reset(out);
	return socks_input(s, in, len, used, out);
}

/* Feed in one byte more at a time until the machine stops asking for more. */
static int
feed_bytewise(struct socks *s, const uint8_t *in, size_t len, size_t *used, size_t *calls, struct buf *out)
{
	size_t n;
	int r = 0;

	*calls = 0;
	for (n = 1; n <= len; n++) {
		buf_reset(out);
		(*calls)++;
		if ((r = socks_input(s, in, n, used, out)) != 0)
			return r;
		if (*used != 0)
			return -2;   /* consumed part of an incomplete unit */
	}
	return r;
}

static void
test_url(void)
{
	struct socks_conf c;
	char err[200];

	ok(socks_parse_url("socks5://127.0.0.1:1080", &c, err, sizeof err) == 0 && !c.has_auth &&
	    strcmp(c.addr, "127.0.0.1:1080") == 0, "plain URL: %s", c.addr);
	ok(socks_parse_url("socks5://alice:s3:cr@t@[::1]:9050", &c, err, sizeof err) == 0 && c.has_auth &&
	    strcmp(c.user, "alice") == 0 && strcmp(c.pass, "s3:cr@t") == 0 && strcmp(c.addr, "[::1]:9050") == 0,
	    "login and IPv6: user '%s' pass '%s' at %s", c.user, c.pass, c.addr);
	ok(socks_parse_url("socks5://localhost:1", &c, err, sizeof err) == 0, "localhost");
	ok(socks_parse_url("socks5h://127.0.0.1:1080", &c, err, sizeof err) == 0, "socks5h is the same");
	ok(socks_parse_url("socks5://127.0.0.1", &c, err, sizeof err) == -1 && strstr(err, "port") != NULL,
	    "no port refused: %s", err);
	ok(socks_parse_url("socks5://127.0.0.1:0", &c, err, sizeof err) == -1, "port 0 refused");
	ok(socks_parse_url("socks5://127.0.0.1:70000", &c, err, sizeof err) == -1, "port 70000 refused");
	ok(socks_parse_url("socks5://proxy.example:1080", &c, err, sizeof err) == -1, "host name refused");
	ok(socks_parse_url("http://127.0.0.1:3128", &c, err, sizeof err) == -1 && strstr(err, "socks5") != NULL,
	    "http refused: %s", err);
	ok(socks_parse_url("socks4://127.0.0.1:1080", &c, err, sizeof err) == -1, "socks4 refused");
	ok(socks_parse_url("socks5://:pw@127.0.0.1:1080", &c, err, sizeof err) == -1, "empty user refused");
	ok(socks_parse_url("socks5://user@127.0.0.1:1080", &c, err, sizeof err) == -1, "user without password refused");
	{
		char url[700];

		snprintf(url, sizeof url, "socks5://%0256d:pw@127.0.0.1:1080", 0);
		ok(socks_parse_url(url, &c, err, sizeof err) == -1, "256-byte user refused");
		snprintf(url, sizeof url, "socks5://%0255d:%0255d@127.0.0.1:1080", 0, 0);
		ok(socks_parse_url(url, &c, err, sizeof err) == 0, "255-byte user and password taken");
	}
	ok(socks_parse_url(NULL, &c, err, sizeof err) == -1, "NULL refused");
}

static void
test_connect_addr(void)
{
	struct socks_conf c;
	struct socks s;
	struct sockaddr_in sin;
	struct sockaddr_in6 s6;
	struct buf out;
	char err[200];
	size_t used, calls;
	const uint8_t m_none[] = { 5, 0 };
	const uint8_t want4[] = { 5, 1, 0, 1, 10, 1, 2, 3, 0x1c, 0xae };
	uint8_t reply[] = { 5, 0, 0, 1, 0, 0, 0, 0, 0, 0, 'C', 'F' };
	const uint8_t rep6[] = { 5, 0, 0, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0, 1 };

	buf_init(&out, 4096);
	socks_parse_url("socks5://127.0.0.1:1080", &c, err, sizeof err);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(7342);
	inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr);
	ok(socks_start_addr(&s, &c, (struct sockaddr *)&sin, &out) == 0 && buf_len(&out) == 3 &&
	    memcmp(buf_ptr(&out), "\x05\x01\x00", 3) == 0, "greeting offers no authentication only");
	is_int(feed(&s, m_none, 1, &used, &out), 0, "half a method answer: more");
	is_int(used, 0, "nothing consumed");
	is_int(feed(&s, m_none, 2, &used, &out), 0, "method chosen: waiting for the reply");
	is_int(used, 2, "method answer consumed");
	ok(buf_len(&out) == sizeof want4 && memcmp(buf_ptr(&out), want4, sizeof want4) == 0,
	    "CONNECT 10.1.2.3:7342 request bytes");
	is_int(feed_bytewise(&s, reply, 10, &used, &calls, &out), 1, "IPv4 reply byte by byte: open");
	is_int(calls, 10, "open only with the tenth byte");
	is_int(used, 10, "reply consumed");
	/* what follows the reply is the tunnelled stream's */
	socks_start_addr(&s, &c, (struct sockaddr *)&sin, &out);
	feed(&s, m_none, 2, &used, &out);
	is_int(feed(&s, reply, sizeof reply, &used, &out), 1, "reply with the peer's first bytes behind it");
	is_int(used, 10, "the peer's bytes are left alone");
	ok(buf_len(&out) == 0, "nothing more sent");

	memset(&s6, 0, sizeof s6);
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(1);
	inet_pton(AF_INET6, "fd00::1", &s6.sin6_addr);
	socks_start_addr(&s, &c, (struct sockaddr *)&s6, &out);
	feed(&s, m_none, 2, &used, &out);
	ok(buf_len(&out) == 4 + 16 + 2 && buf_ptr(&out)[3] == 4 && buf_ptr(&out)[4] == 0xfd &&
	    buf_ptr(&out)[19] == 1 && buf_ptr(&out)[21] == 1, "IPv6 request: ATYP 4, address, port");
	is_int(feed_bytewise(&s, rep6, sizeof rep6, &used, &calls, &out), 1, "IPv6 reply byte by byte: open");
	is_int(used, sizeof rep6, "IPv6 reply consumed");
	buf_free(&out);
}

static void
test_connect_name(void)
{
	struct socks_conf c;
	struct socks s;
	struct buf out;
	char err[200], host[300];
	size_t used, calls;
	const uint8_t m_none[] = { 5, 0 };
	uint8_t rep[4 + 1 + 255 + 2 + 3];

	buf_init(&out, 4096);
	socks_parse_url("socks5://127.0.0.1:1080", &c, err, sizeof err);
	ok(socks_start_name(&s, &c, "peer.lab", 7470, &out) == 0, "start by name");
	feed(&s, m_none, 2, &used, &out);
	ok(buf_len(&out) == 4 + 1 + 8 + 2 && memcmp(buf_ptr(&out), "\x05\x01\x00\x03\x08peer.lab\x1d\x2e", 15) == 0,
	    "the name goes to the proxy as ATYP 3 (remote DNS)");
	/* a reply that names the bound host: the longest there is, then extra bytes */
	memset(rep, 'x', sizeof rep);
	rep[0] = 5; rep[1] = 0; rep[2] = 0; rep[3] = 3; rep[4] = 255;
	is_int(feed_bytewise(&s, rep, sizeof rep, &used, &calls, &out), 1, "255-byte bound name: open");
	is_int(used, 4 + 1 + 255 + 2, "exactly the reply consumed, not the bytes behind it");
	is_int(calls, 262, "not open before its last byte");
	memset(host, 'a', 256);
	host[256] = '\0';
	ok(socks_start_name(&s, &c, host, 1, &out) == -1, "a 256-byte name is refused");
	ok(socks_start_name(&s, &c, "", 1, &out) == -1, "an empty name is refused");
	host[255] = '\0';
	ok(socks_start_name(&s, &c, host, 1, &out) == 0, "a 255-byte name is taken");
	buf_free(&out);
}

static void
test_auth(void)
{
	struct socks_conf c;
	struct socks s;
	struct buf out;
	char err[200];
	size_t used;
	const uint8_t m_up[] = { 5, 2 }, m_none[] = { 5, 0 }, m_ff[] = { 5, 0xff };
	const uint8_t a_ok[] = { 1, 0 }, a_bad[] = { 1, 1 }, a_ver[] = { 5, 0 };

	buf_init(&out, 4096);
	socks_parse_url("socks5://bob:pw@127.0.0.1:1080", &c, err, sizeof err);
	ok(socks_start_name(&s, &c, "h", 1, &out) == 0 && buf_len(&out) == 4 &&
	    memcmp(buf_ptr(&out), "\x05\x02\x00\x02", 4) == 0, "with a login: offers none and user/pass");
	is_int(feed(&s, m_up, 2, &used, &out), 0, "user/pass chosen");
	ok(buf_len(&out) == 8 && memcmp(buf_ptr(&out), "\x01\x03" "bob" "\x02" "pw", 8) == 0,
	    "RFC 1929 login bytes");
	is_int(feed(&s, a_ok, 1, &used, &out), 0, "half an auth answer: more");
	is_int(feed(&s, a_ok, 2, &used, &out), 0, "login accepted");
	ok(buf_len(&out) > 0 && buf_ptr(&out)[0] == 5 && buf_ptr(&out)[1] == 1, "then the CONNECT request");

	socks_start_name(&s, &c, "h", 1, &out);
	feed(&s, m_up, 2, &used, &out);
	is_int(feed(&s, a_bad, 2, &used, &out), -1, "login refused");
	ok(strstr(s.err, "refused our user name and password") != NULL, "says so: %s", s.err);
	socks_start_name(&s, &c, "h", 1, &out);
	feed(&s, m_up, 2, &used, &out);
	is_int(feed(&s, a_ver, 2, &used, &out), -1, "auth answer of the wrong version");
	socks_start_name(&s, &c, "h", 1, &out);
	is_int(feed(&s, m_none, 2, &used, &out), 0, "a proxy may skip the login we offered");
	socks_start_name(&s, &c, "h", 1, &out);
	is_int(feed(&s, m_ff, 2, &used, &out), -1, "no acceptable method");
	ok(strstr(s.err, "neither") != NULL, "says so: %s", s.err);

	socks_parse_url("socks5://127.0.0.1:1080", &c, err, sizeof err);
	socks_start_name(&s, &c, "h", 1, &out);
	is_int(feed(&s, m_ff, 2, &used, &out), -1, "proxy wants a login we do not have");
	ok(strstr(s.err, "requires authentication") != NULL, "says so: %s", s.err);
	socks_start_name(&s, &c, "h", 1, &out);
	is_int(feed(&s, m_up, 2, &used, &out), -1, "proxy picks user/pass we did not offer");
	ok(strstr(s.err, "did not offer") != NULL, "says so: %s", s.err);
	buf_free(&out);
}

static void
test_bad_replies(void)
{
	static const char *const want[] = { NULL, "general SOCKS server failure", "not allowed",
	    "network unreachable", "host unreachable", "connection refused", "TTL expired",
	    "command not supported", "address type not supported", "unknown reply code" };
	struct socks_conf c;
	struct socks s;
	struct buf out;
	char err[200];
	size_t used;
	const uint8_t m_none[] = { 5, 0 };
	uint8_t r[12];
	unsigned code;

	buf_init(&out, 4096);
	socks_parse_url("socks5://127.0.0.1:1080", &c, err, sizeof err);
	for (code = 1; code <= 9; code++) {
		socks_start_name(&s, &c, "h", 1, &out);
		feed(&s, m_none, 2, &used, &out);
		r[0] = 5;
		r[1] = (uint8_t)code;
		/* two bytes are enough: a proxy may close right after them */
		ok(feed(&s, r, 2, &used, &out) == -1 && s.rep == code && strstr(s.err, want[code]) != NULL,
		    "reply %u: %s", code, s.err);
	}
	/* tor's extended errors (SocksPort ExtendedErrors) for onion services */
	socks_start_name(&s, &c, "x.onion", 1, &out);
	feed(&s, m_none, 2, &used, &out);
	ok(feed(&s, "\x05\xf0", 2, &used, &out) == -1 && strstr(s.err, "onion service descriptor not found") != NULL,
	    "tor's 0xF0: %s", s.err);
	socks_start_name(&s, &c, "x.onion", 1, &out);
	feed(&s, m_none, 2, &used, &out);
	ok(feed(&s, "\x05\xf6", 2, &used, &out) == -1 && strstr(s.err, "invalid onion address") != NULL,
	    "tor's 0xF6: %s", s.err);
	socks_start_name(&s, &c, "x.onion", 1, &out);
	feed(&s, m_none, 2, &used, &out);
	ok(feed(&s, "\x05\xf8", 2, &used, &out) == -1 && strstr(s.err, "unknown reply code") != NULL,
	    "0xF8 is unknown: %s", s.err);
	socks_start_name(&s, &c, "h", 1, &out);
	ok(feed(&s, "\x04\x5a", 2, &used, &out) == -1 && strstr(s.err, "not a SOCKS5") != NULL,
	    "a SOCKS4 answer to the greeting: %s", s.err);
	socks_start_name(&s, &c, "h", 1, &out);
	feed(&s, m_none, 2, &used, &out);
	ok(feed(&s, "\x04\x00\x00\x01\0\0\0\0\0\0", 10, &used, &out) == -1, "reply of the wrong version");
	socks_start_name(&s, &c, "h", 1, &out);
	feed(&s, m_none, 2, &used, &out);
	ok(feed(&s, "\x05\x00\x00\x07\0\0\0\0\0\0", 10, &used, &out) == -1 && strstr(s.err, "address type") != NULL,
	    "unknown bound address type: %s", s.err);
	socks_start_name(&s, &c, "h", 1, &out);
	feed(&s, m_none, 2, &used, &out);
	ok(feed(&s, "\x05\x00\x00\x03\x00\0\0", 7, &used, &out) == -1, "empty bound name");
	socks_start_name(&s, &c, "h", 1, &out);
	feed(&s, m_none, 2, &used, &out);
	ok(feed(&s, "\x05\x00\x01\x01\0\0\0\0\0\0", 10, &used, &out) == -1, "reserved byte set");
	socks_start_name(&s, &c, "h", 1, &out);
	feed(&s, m_none, 2, &used, &out);
	is_int(feed(&s, "\x05\x00\x00\x01\0\0\0\0\0", 9, &used, &out), 0, "one byte short: still waiting");
	is_int(used, 0, "and nothing consumed");
	is_int(feed(&s, "", 0, &used, &out), 0, "no bytes: still waiting");
	ok(s.step == SOCKS_REPLY, "still at the reply step");
	buf_free(&out);
}

int
main(void)
{
	test_url();
	test_connect_addr();
	test_connect_name();
	test_auth();
	test_bad_replies();
	return tap_done();
}
