/* sock.h - socket helpers: address text, non-blocking listen and connect. */
#ifndef CONFAB_SOCK_H
#define CONFAB_SOCK_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#define SOCK_ADDRSTRLEN 96   /* "[v6%scope]:port" fits, and "NAME.onion:port" (62 + 6) */

struct sockaddr_storage;

/*
 * Parse "ADDR:PORT", "[V6]:PORT", "V6" or "ADDR" (numeric only).  A missing
 * port becomes defport.  Returns 0 or -1.
 */
int  sock_parse(const char *text, int defport, struct sockaddr_storage *ss, socklen_t *len);
/* Format an address as "a.b.c.d:port" or "[v6]:port". */
void sock_format(const struct sockaddr *sa, char *out, size_t outlen);
/* A non-blocking, close-on-exec listening TCP socket; -1 and errno on failure. */
int  sock_listen(const struct sockaddr *sa, socklen_t len);
/* Start a non-blocking TCP connect; -1 and errno on immediate failure. */
int  sock_connect(const struct sockaddr *sa, socklen_t len);
/* The result of a finished non-blocking connect: 0 or an errno value. */
int  sock_connect_result(int fd);
/* Make fd non-blocking and close-on-exec. */
int  sock_nonblock(int fd);
/* The port a socket is bound to, or -1. */
int  sock_local_port(int fd);
/* Keep at most BYTES unsent in the kernel (TCP_NOTSENT_LOWAT); -1 if not TCP. */
int  sock_limit_unsent(int fd, int bytes);

#endif
