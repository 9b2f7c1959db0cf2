/* socks.h - SOCKS5 client (RFC 1928, RFC 1929): a byte state machine, no I/O. */
#ifndef CONFAB_SOCKS_H
#define CONFAB_SOCKS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "sock.h"

#define SOCKS_HOST_MAX   255   /* a DOMAINNAME target: one length byte */
#define SOCKS_CRED_MAX   255   /* RFC 1929 user name and password */
#define SOCKS_REPLY_MAX  262   /* VER REP RSV ATYP + 1 + 255 + PORT */
#define SOCKS_ERR_MAX    200

/* Where the proxy is and how to log in; from socks_parse_url. */
struct socks_conf {
	struct sockaddr_storage ss;
	socklen_t len;
	char      addr[SOCK_ADDRSTRLEN];        /* the proxy, for people */
	int       has_auth;
	char      user[SOCKS_CRED_MAX + 1];
	char      pass[SOCKS_CRED_MAX + 1];
};

enum socks_step { SOCKS_METHOD = 1, SOCKS_AUTH, SOCKS_REPLY, SOCKS_OK, SOCKS_FAILED };

/* One CONNECT through a proxy. */
struct socks {
	const struct socks_conf *conf;
	enum socks_step step;
	uint8_t  atyp;                          /* 1 IPv4, 3 name, 4 IPv6 */
	uint8_t  addr[SOCKS_HOST_MAX];          /* 4 or 16 bytes, or the name */
	size_t   addrlen;
	uint16_t port;
	uint8_t  rep;                           /* the reply code when it failed */
	char     err[SOCKS_ERR_MAX];
};

/*
 * Parse "socks5://[USER:PASS@]HOST:PORT" (HOST numeric: a.b.c.d, [v6] or
 * localhost).  Returns 0, or -1 with a reason in err.
 */
int  socks_parse_url(const char *url, struct socks_conf *conf, char *err, size_t errlen);
/* Start a CONNECT to an address; the greeting goes to out.  0 or -1. */
int  socks_start_addr(struct socks *, const struct socks_conf *, const struct sockaddr *, struct buf *out);
/* Start a CONNECT to a host name the proxy resolves (remote DNS).  0 or -1. */
int  socks_start_name(struct socks *, const struct socks_conf *, const char *host, uint16_t port,
                      struct buf *out);
/*
 * Feed bytes from the proxy.  *used is set to what was consumed; anything
 * after the final reply belongs to the tunnelled stream.  Answers go to out.
 * Returns 1 when the tunnel is open, 0 when more bytes are needed, -1 when
 * it failed (s->err says why, s->rep holds a SOCKS reply code if any).
 */
int  socks_input(struct socks *, const uint8_t *in, size_t len, size_t *used, struct buf *out);
/* The text for a SOCKS5 reply code. */
const char *socks_rep_text(uint8_t rep);

#endif
