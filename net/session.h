/* session.h - encrypted sessions between peers: handshake, records, limits. */
#ifndef CONFAB_SESSION_H
#define CONFAB_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "loop.h"
#include "noise.h"
#include "sock.h"
#include "socks.h"
#include "wire.h"

struct net;
struct session;

#define NET_LISTEN_MAX 8   /* listening sockets one net holds */

enum session_state {
	SS_CONNECTING = 1,   /* TCP connect in progress (initiator) */
	SS_PROXY,            /* asking the SOCKS5 proxy for the tunnel (initiator) */
	SS_PREAMBLE,         /* waiting for the peer's preamble */
	SS_HANDSHAKE,        /* Noise XX in progress */
	SS_OPEN,             /* transport records flow */
	SS_CLOSED,           /* closed; freed at the end of the loop turn */
};

/* What the owner of a net (the app core) is told. */
struct net_ops {
	/* Handshake done and the remote key known; return -1 to refuse (closed silently). */
	int  (*established)(struct session *, void *arg);
	/* A record arrived on an open session (PING and PONG never reach here). */
	void (*record)(struct session *, const struct record *, void *arg);
	/* The session ended; reason says why.  It is freed after the loop turn. */
	void (*closed)(struct session *, const char *reason, void *arg);
	/*
	 * Optional: append one plaintext record of bulk data to b when the pipe has
	 * room.  Return 1 if a record was appended, 0 when there is nothing to send
	 * (then call session_want_bulk again when there is), -1 on error.
	 */
	int  (*bulk)(struct session *, struct buf *b, void *arg);
};

struct net_limits {
	int    max_sessions;        /* all sessions at once */
	int    max_pending;         /* sessions still in their handshake */
	int    max_pending_per_ip;  /* the same, per remote address (IPv6: per /64) */
	int    max_per_ip;          /* sessions in any state from one address (IPv6: one /64) */
	int    handshake_ms;        /* preamble + handshake must finish within this */
	int    keepalive_ms;        /* PING after this much silence */
	int    dead_ms;             /* close after this much silence */
	size_t sendq_max;           /* queued plaintext control records, bytes */
};

/*
 * The defaults: 256 sessions (32 per address), 64 pending (8 per address),
 * 10 s, 15 s, 45 s, 1 MiB.  When a new connection would pass the overall or
 * the per-address cap, the open session of priority 0 (see
 * session_set_priority) that has been idle the longest is closed to make
 * room (from that address, for the per-address cap); with none, the new
 * connection is refused.
 */
void net_limits_default(struct net_limits *);

struct net *net_new(struct loop *, const uint8_t s_priv[NOISE_DHLEN],
                    const struct net_ops *ops, void *arg);
/* Close every session without a goodbye and free the net. */
void net_free(struct net *);
void net_set_limits(struct net *, const struct net_limits *);
/* Restrict the ciphers we offer (WIRE_CIPHER_* flags; AESGCM needs hardware). */
void net_set_ciphers(struct net *, uint8_t flags);
/* Listen on an address; the bound address (with the real port) goes to bound. */
int  net_listen(struct net *, const struct sockaddr *, socklen_t, char *bound, size_t boundlen);
/*
 * Listen where tor hands over our onion service's connections: every session
 * accepted there has path "onion".  Such listeners are left out of
 * net_listen_addrs and net_listen_port (no peer dials them).
 */
int  net_listen_onion(struct net *, const struct sockaddr *, socklen_t, char *bound, size_t boundlen);
/* The addresses we listen on, as text; returns how many were written. */
size_t net_listen_addrs(struct net *, char (*out)[SOCK_ADDRSTRLEN], size_t max);
/* The port of the first listener, or 0. */
int  net_listen_port(struct net *);
/*
 * Open a session to an address.  If expect_pk is not NULL the handshake is
 * aborted unless the peer proves that key.  Returns NULL and errno on failure.
 */
struct session *net_connect(struct net *, const struct sockaddr *, socklen_t,
                            const uint8_t *expect_pk);
/*
 * Send every later outgoing session through a SOCKS5 proxy (NULL: direct
 * again).  The net keeps its own copy.
 */
void net_set_proxy(struct net *, const struct socks_conf *);
/* Whether outgoing sessions go through a proxy. */
int  net_proxied(const struct net *);
/*
 * Send later sessions to NAME.onion through tor's SOCKS port (NULL: no
 * more), also when there is a --proxy; their path is "onion".
 */
void net_set_onion_proxy(struct net *, const struct socks_conf *);
/* From now on refuse (EACCES) every outgoing session but to .onion names through tor. */
void net_set_tor_only(struct net *);
/* Whether a .onion name can be reached now (tor's SOCKS port, or the proxy). */
int  net_onion_ok(const struct net *);
/* Whether host ends in ".onion" (such names are never looked up in DNS). */
int  net_onion_name(const char *host);
/* Like net_connect, but never through the proxy (LAN peers). */
struct session *net_connect_direct(struct net *, const struct sockaddr *, socklen_t,
                                   const uint8_t *expect_pk);
/*
 * Open a session to a host name through the proxy, which resolves it
 * (remote DNS: the name is never looked up here).  NULL and errno EINVAL
 * without a proxy.
 */
struct session *net_connect_name(struct net *, const char *host, uint16_t port,
                                 const uint8_t *expect_pk);
/*
 * Run a session over a socket that is already connected (one end of a
 * socketpair in tests and fuzz targets).  On success the net owns fd; on
 * failure (NULL) the caller still does.  A session that fails at once (its
 * preamble cannot be queued) is returned already closed, as any may end.
 */
struct session *net_adopt(struct net *, int fd, int initiator);
/* Send BYE on every open session, flush what the sockets take, close all. */
void net_shutdown(struct net *, const char *why);
/* How many sessions exist (any state). */
int  net_session_count(struct net *);

/* Queue one plaintext record (type byte first). Returns 0, or -1 if the queue is full or closed. */
int  session_send(struct session *, const uint8_t *rec, size_t len);
/* Same, from a buf holding exactly one record. */
int  session_send_buf(struct session *, const struct buf *rec);
/* Close: send BYE (if open) with reason code and text, flush, close. */
void session_close(struct session *, uint8_t bye_reason, const char *why);
/* The bulk source has data again: ask for it when the pipe has room. */
void session_want_bulk(struct session *);
/* Plaintext bytes queued or buffered for sending (for back-pressure). */
size_t session_pending(const struct session *);

/*
 * How much the owner wants to keep a session: 0 (the default) may be closed
 * to make room for a new connection when the limits are reached (the one
 * idle the longest first); anything higher never is.
 */
void  session_set_priority(struct session *, int prio);
void  session_set_user(struct session *, void *user);
void *session_user(const struct session *);
enum session_state session_state(const struct session *);
int   session_initiator(const struct session *);
/* The peer's static key; valid from the established callback on. */
const uint8_t *session_remote_pk(const struct session *);
/*
 * The final Noise handshake hash h (NOISE_HASHLEN bytes), the same on both
 * ends and new for every session; NULL unless the session is open.
 */
const uint8_t *session_hash(const struct session *);
const char *session_addr(const struct session *);
const struct sockaddr *session_sockaddr(const struct session *, socklen_t *len);
const char *session_cipher(const struct session *);
/* How the session reaches the peer: "direct", "mapped", "proxy" or "onion" (also accepted on net_listen_onion). */
const char *session_path(const struct session *);
#define SESSION_TUNNEL_TIMEOUT  0x100
/*
 * Why the proxy (tor's SOCKS port, for an onion) did not open s's tunnel:
 * its SOCKS5 reply code (tor's 0xF0-0xF7 for onion services, see
 * socks_rep_text), SESSION_TUNNEL_TIMEOUT when it gave no answer in time,
 * 0 when the tunnel opened, was not asked for, or is still being asked for.
 */
int         session_tunnel_error(const struct session *);
/* The address dialled is one a router port-maps for the peer: the path is "mapped" (unless proxied). */
void        session_set_mapped(struct session *);
/* A unique number for logs and for telling sessions apart. */
unsigned long session_id(const struct session *);

#endif
