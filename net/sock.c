/* sock.c - socket helpers. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sock.h"

/* Parse a numeric address with an optional port. */
int
sock_parse(const char *text, int defport, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128], *end;
	const char *port = NULL, *p;
	struct addrinfo hints, *res = NULL;
	long pn = defport;
	size_t hl;

	if (text == NULL || *text == '\0')
		return -1;
	if (text[0] == '[') {
		if ((p = strchr(text, ']')) == NULL)
			return -1;
		hl = (size_t)(p - text - 1);
		if (hl == 0 || hl >= sizeof host)
			return -1;
		memcpy(host, text + 1, hl);
		host[hl] = '\0';
		if (p[1] == ':')
			port = p + 2;
		else if (p[1] != '\0')
			return -1;
	} else if ((p = strchr(text, ':')) != NULL && strchr(p + 1, ':') == NULL) {
		hl = (size_t)(p - text);
		if (hl == 0 || hl >= sizeof host)
			return -1;
		memcpy(host, text, hl);
		host[hl] = '\0';
		port = p + 1;
	} else {
		if (strlen(text) >= sizeof host)
			return -1;
		strcpy(host, text);
	}
	if (port != NULL) {
		errno = 0;
		pn = strtol(port, &end, 10);
		if (*port == '\0' || *end != '\0' || errno || pn < 0 || pn > 65535)
			return -1;
	}
	if (pn < 0 || pn > 65535)
		return -1;
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	/*
	 * Only the canonical forms: dotted quads and IPv6 (with an optional
	 * %scope).  getaddrinfo alone would also take "1.2.3" as 1.2.0.3.
	 */
	if (strchr(host, ':') == NULL) {
		struct in_addr a4;

		if (inet_pton(AF_INET, host, &a4) != 1)
			return -1;
	}
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)pn);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)pn);
	return 0;
}

/* Format an address for people and logs. */
void
sock_format(const struct sockaddr *sa, char *out, size_t outlen)
{
	char h[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, h, sizeof h);
		snprintf(out, outlen, "%s:%u", h, ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		char ifn[IF_NAMESIZE];

		inet_ntop(AF_INET6, &s6->sin6_addr, h, sizeof h);
		if (s6->sin6_scope_id != 0 && if_indextoname(s6->sin6_scope_id, ifn) != NULL) {
			strncat(h, "%", sizeof h - strlen(h) - 1);
			strncat(h, ifn, sizeof h - strlen(h) - 1);
		}
		snprintf(out, outlen, "[%s]:%u", h, ntohs(s6->sin6_port));
	} else {
		snprintf(out, outlen, "?");
	}
}

/* Make fd non-blocking and close-on-exec. */
int
sock_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/*
 * Bound the bytes a TCP socket holds that the peer has not been sent yet:
 * writes stop at BYTES instead of filling a send buffer of megabytes, so a
 * record queued after bulk data waits behind far less of it.
 */
int
sock_limit_unsent(int fd, int bytes)
{
	return setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &bytes, sizeof bytes);
}

/* A non-blocking listening TCP socket. */
int
sock_listen(const struct sockaddr *sa, socklen_t len)
{
	int fd, one = 1, saved;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, sa, len) == -1 || listen(fd, 128) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Start a non-blocking TCP connect. */
int
sock_connect(const struct sockaddr *sa, socklen_t len)
{
	int fd, one = 1, saved;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, sa, len) == -1 && errno != EINPROGRESS) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* The result of a finished non-blocking connect. */
int
sock_connect_result(int fd)
{
	int err = 0;
	socklen_t len = sizeof err;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return errno;
	return err;
}

/* The port a socket is bound to. */
int
sock_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}
