/* socks.c - SOCKS5 client (RFC 1928 CONNECT, RFC 1929 user name and password). */
#include "config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "socks.h"

#define SOCKS_VER     5
#define AUTH_VER      1
#define M_NONE        0x00
#define M_USERPASS    0x02
#define M_REFUSED     0xff
#define CMD_CONNECT   1
#define AT_IPV4       1
#define AT_NAME       3
#define AT_IPV6       4

/* The text for a SOCKS5 reply code (RFC 1928 section 6, and tor's 0xF0-0xF7). */
const char *
socks_rep_text(uint8_t rep)
{
	switch (rep) {
	case 0: return "succeeded";
	case 1: return "general SOCKS server failure";
	case 2: return "connection not allowed by the proxy's rules";
	case 3: return "network unreachable (from the proxy)";
	case 4: return "host unreachable (from the proxy)";
	case 5: return "connection refused (by the target, as seen from the proxy)";
	case 6: return "TTL expired";
	case 7: return "command not supported by the proxy";
	case 8: return "address type not supported by the proxy";
	/* tor's extended errors (SocksPort ... ExtendedErrors), for onion services */
	case 0xf0: return "onion service descriptor not found (the service is not published, or not yet)";
	case 0xf1: return "onion service descriptor is invalid";
	case 0xf2: return "onion service introduction failed";
	case 0xf3: return "onion service rendezvous failed";
	case 0xf4: return "onion service requires client authorization";
	case 0xf5: return "onion service client authorization is wrong";
	case 0xf6: return "invalid onion address";
	case 0xf7: return "onion service introduction timed out";
	default: return "unknown reply code";
	}
}

/* Set the failure reason. */
static int
fail(struct socks *s, const char *why)
{
	s->step = SOCKS_FAILED;
	snprintf(s->err, sizeof s->err, "%s", why);
	return -1;
}

/* Parse a proxy URL. */
int
socks_parse_url(const char *url, struct socks_conf *conf, char *err, size_t errlen)
{
	const char *p, *at, *colon;
	size_t ul, pl;
	int has_port;

	memset(conf, 0, sizeof *conf);
	if (url == NULL)
		goto bad;
	if (strncmp(url, "socks5://", 9) == 0)
		p = url + 9;
	else if (strncmp(url, "socks5h://", 10) == 0)
		p = url + 10;
	else {
		snprintf(err, errlen, "only socks5://[USER:PASS@]HOST:PORT proxies are supported");
		return -1;
	}
	if ((at = strrchr(p, '@')) != NULL) {
		if ((colon = memchr(p, ':', (size_t)(at - p))) == NULL) {
			snprintf(err, errlen, "a proxy login is USER:PASS@");
			return -1;
		}
		ul = (size_t)(colon - p);
		pl = (size_t)(at - colon - 1);
		if (ul == 0 || ul > SOCKS_CRED_MAX || pl == 0 || pl > SOCKS_CRED_MAX) {
			snprintf(err, errlen, "the proxy user name and password take 1 to %d bytes each",
			    SOCKS_CRED_MAX);
			return -1;
		}
		memcpy(conf->user, p, ul);
		memcpy(conf->pass, colon + 1, pl);
		conf->has_auth = 1;
		p = at + 1;
	}
	if (p[0] == '[')
		has_port = strstr(p, "]:") != NULL;
	else
		has_port = (colon = strchr(p, ':')) != NULL && strchr(colon + 1, ':') == NULL;
	if (!has_port || sock_parse(p, 0, &conf->ss, &conf->len) == -1)
		goto bad;
	if ((conf->ss.ss_family == AF_INET && ((struct sockaddr_in *)&conf->ss)->sin_port == 0) ||
	    (conf->ss.ss_family == AF_INET6 && ((struct sockaddr_in6 *)&conf->ss)->sin6_port == 0))
		goto bad;
	sock_format((struct sockaddr *)&conf->ss, conf->addr, sizeof conf->addr);
	return 0;
bad:
	snprintf(err, errlen, "the proxy must be socks5://[USER:PASS@]HOST:PORT with a numeric HOST "
	    "(a.b.c.d, [IPv6] or localhost) and a port");
	memset(conf, 0, sizeof *conf);
	return -1;
}

/* The greeting: the methods we offer. */
static int
greet(struct socks *s, const struct socks_conf *conf, struct buf *out)
{
	s->conf = conf;
	s->step = SOCKS_METHOD;
	s->err[0] = '\0';
	s->rep = 0;
	if (conf->has_auth) {
		const uint8_t g[] = { SOCKS_VER, 2, M_NONE, M_USERPASS };

		return buf_put(out, g, sizeof g) == BUF_OK ? 0 : -1;
	} else {
		const uint8_t g[] = { SOCKS_VER, 1, M_NONE };

		return buf_put(out, g, sizeof g) == BUF_OK ? 0 : -1;
	}
}

/* Start a CONNECT to an address. */
int
socks_start_addr(struct socks *s, const struct socks_conf *conf, const struct sockaddr *sa, struct buf *out)
{
	memset(s, 0, sizeof *s);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;

		s->atyp = AT_IPV4;
		memcpy(s->addr, &s4->sin_addr, 4);
		s->addrlen = 4;
		s->port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;

		s->atyp = AT_IPV6;
		memcpy(s->addr, &s6->sin6_addr, 16);
		s->addrlen = 16;
		s->port = ntohs(s6->sin6_port);
	} else {
		return fail(s, "not an IP address");
	}
	return greet(s, conf, out);
}

/* Start a CONNECT to a name the proxy resolves. */
int
socks_start_name(struct socks *s, const struct socks_conf *conf, const char *host, uint16_t port,
    struct buf *out)
{
	size_t n = strlen(host);

	memset(s, 0, sizeof *s);
	if (n == 0 || n > SOCKS_HOST_MAX)
		return fail(s, "host name too long for SOCKS5");
	s->atyp = AT_NAME;
	memcpy(s->addr, host, n);
	s->addrlen = n;
	s->port = port;
	return greet(s, conf, out);
}

/* The CONNECT request. */
static int
request(struct socks *s, struct buf *out)
{
	const uint8_t h[] = { SOCKS_VER, CMD_CONNECT, 0, s->atyp };

	if (buf_put(out, h, sizeof h) != BUF_OK ||
	    (s->atyp == AT_NAME && buf_put_u8(out, (uint8_t)s->addrlen) != BUF_OK) ||
	    buf_put(out, s->addr, s->addrlen) != BUF_OK || buf_put_u16(out, s->port) != BUF_OK)
		return fail(s, "out of memory");
	s->step = SOCKS_REPLY;
	return 0;
}

/* The RFC 1929 login. */
static int
login(struct socks *s, struct buf *out)
{
	const struct socks_conf *c = s->conf;
	size_t ul = strlen(c->user), pl = strlen(c->pass);

	if (buf_put_u8(out, AUTH_VER) != BUF_OK ||
	    buf_put_u8(out, (uint8_t)ul) != BUF_OK || buf_put(out, c->user, ul) != BUF_OK ||
	    buf_put_u8(out, (uint8_t)pl) != BUF_OK || buf_put(out, c->pass, pl) != BUF_OK)
		return fail(s, "out of memory");
	s->step = SOCKS_AUTH;
	return 0;
}

/* The length of a complete CONNECT reply in in[0..len), 0 if more is needed, -1 if malformed. */
static long
reply_len(struct socks *s, const uint8_t *in, size_t len)
{
	if (len < 5)
		return 0;
	switch (in[3]) {
	case AT_IPV4: return 4 + 4 + 2;
	case AT_IPV6: return 4 + 16 + 2;
	case AT_NAME:
		if (in[4] == 0) {
			fail(s, "malformed reply from the proxy (empty bound name)");
			return -1;
		}
		return 4 + 1 + (long)in[4] + 2;
	default:
		fail(s, "malformed reply from the proxy (unknown address type)");
		return -1;
	}
}

/* Feed bytes from the proxy. */
int
socks_input(struct socks *s, const uint8_t *in, size_t len, size_t *used, struct buf *out)
{
	char msg[SOCKS_ERR_MAX];
	long need;

	*used = 0;
	for (;;) {
		switch (s->step) {
		case SOCKS_METHOD:
			if (len - *used < 2)
				return 0;
			if (in[*used] != SOCKS_VER)
				return fail(s, "not a SOCKS5 proxy (wrong version in its answer)");
			if (in[*used + 1] == M_REFUSED)
				return fail(s, s->conf->has_auth ?
				    "the proxy accepts neither no authentication nor our user name and password" :
				    "the proxy requires authentication: give socks5://USER:PASS@HOST:PORT");
			if (in[*used + 1] == M_NONE) {
				if (request(s, out) == -1)
					return -1;
			} else if (in[*used + 1] == M_USERPASS && s->conf->has_auth) {
				if (login(s, out) == -1)
					return -1;
			} else {
				return fail(s, "the proxy chose an authentication method we did not offer");
			}
			*used += 2;
			break;
		case SOCKS_AUTH:
			if (len - *used < 2)
				return 0;
			if (in[*used] != AUTH_VER)
				return fail(s, "malformed authentication answer from the proxy");
			if (in[*used + 1] != 0)
				return fail(s, "the proxy refused our user name and password");
			*used += 2;
			if (request(s, out) == -1)
				return -1;
			break;
		case SOCKS_REPLY:
			if (len - *used < 2)
				return 0;
			if (in[*used] != SOCKS_VER)
				return fail(s, "malformed reply from the proxy (wrong version)");
			if (in[*used + 1] != 0) {
				s->rep = in[*used + 1];
				snprintf(msg, sizeof msg, "the proxy could not connect: %s (SOCKS5 reply %u)",
				    socks_rep_text(s->rep), s->rep);
				return fail(s, msg);
			}
			if ((need = reply_len(s, in + *used, len - *used)) == -1)
				return -1;
			if (need == 0 || len - *used < (size_t)need)
				return 0;
			if (in[*used + 2] != 0)
				return fail(s, "malformed reply from the proxy (reserved byte set)");
			*used += (size_t)need;
			s->step = SOCKS_OK;
			return 1;
		case SOCKS_OK:
			return 1;
		default:
			return -1;
		}
	}
}
