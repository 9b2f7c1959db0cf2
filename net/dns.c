/* dns.c - name lookups with c-ares driven by the loop: A/AAAA, SRV, TXT; a bounds-checked answer parser. */
#include "config.h"

#include <ares.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dns.h"
#include "log.h"

#define DNS_T_TXT  16
#define DNS_T_SRV  33
#define DNS_C_IN   1
#define DNS_QD_MAX 4     /* questions a sane answer repeats */
#define DNS_HDR    12

/* --- the answer parser (every byte here comes from the network) ----------- */

/* Whether c may appear in a host name label. */
static int
host_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_';
}

/*
 * Read the name at off.  Compression pointers must point before the start of
 * the run of labels they end, so every jump goes strictly backwards and the walk
 * ends.  *next is the offset just after the name where it starts; *host says
 * whether every label is made of host name characters (others become '?').
 */
static int
name_read(const uint8_t *msg, size_t len, size_t off, size_t *next, char out[DNS_NAME_MAX + 1], int *host)
{
	struct buf b;
	const uint8_t *lab;
	size_t o = 0, run = off, wire = 1, i, ptr;
	uint8_t l, l2;
	int jumped = 0;

	*host = 1;
	out[0] = '\0';
	for (;;) {
		if (off >= len)
			return -1;
		buf_view(&b, msg + off, len - off);
		if (buf_get_u8(&b, &l) != BUF_OK)
			return -1;
		if (l == 0) {
			if (!jumped)
				*next = off + 1;
			return 0;
		}
		if ((l & 0xc0) == 0xc0) {
			if (buf_get_u8(&b, &l2) != BUF_OK)
				return -1;
			ptr = ((size_t)(l & 0x3f) << 8) | l2;
			if (!jumped)
				*next = off + 2;
			jumped = 1;
			if (ptr >= run)
				return -1;   /* forwards, or a loop */
			run = off = ptr;
			continue;
		}
		if ((l & 0xc0) != 0)
			return -1;   /* obsolete and extended label types */
		if (buf_get_ptr(&b, &lab, l) != BUF_OK)
			return -1;
		wire += (size_t)l + 1;
		if (wire > 255)
			return -1;   /* 255 octets at most; so the text fits DNS_NAME_MAX */
		if (o > 0)
			out[o++] = '.';
		for (i = 0; i < l; i++) {
			if (host_char(lab[i])) {
				out[o++] = (char)lab[i];
			} else {
				out[o++] = '?';
				*host = 0;
			}
		}
		out[o] = '\0';
		off += 1 + (size_t)l;
	}
}

typedef int (*rr_fn)(const uint8_t *msg, size_t len, size_t rdoff, size_t rdlen, void *ctx);

/* Walk the header, the questions and the answer records; call fn for each of type want, class IN. */
static int
walk_answers(const uint8_t *msg, size_t len, uint16_t want, rr_fn fn, void *ctx)
{
	char name[DNS_NAME_MAX + 1];
	uint16_t id, flags, qd, an, ns, ar, type, klass, rdlen;
	uint32_t ttl;
	const uint8_t *rd;
	struct buf b;
	size_t off, next;
	int host, rc;
	unsigned i;

	buf_view(&b, msg, len);
	if (buf_get_u16(&b, &id) != BUF_OK || buf_get_u16(&b, &flags) != BUF_OK ||
	    buf_get_u16(&b, &qd) != BUF_OK || buf_get_u16(&b, &an) != BUF_OK ||
	    buf_get_u16(&b, &ns) != BUF_OK || buf_get_u16(&b, &ar) != BUF_OK)
		return DNS_EMALFORMED;
	if ((flags & 0x8000) == 0 || qd > DNS_QD_MAX)
		return DNS_EMALFORMED;   /* not a response */
	if ((flags & 0x000f) == 3)
		return DNS_ENONAME;      /* NXDOMAIN */
	if ((flags & 0x000f) != 0)
		return DNS_EFAIL;
	off = DNS_HDR;
	for (i = 0; i < qd; i++) {
		if (name_read(msg, len, off, &next, name, &host) == -1)
			return DNS_EMALFORMED;
		off = next;
		buf_view(&b, msg + off, len - off);
		if (buf_get_u16(&b, &type) != BUF_OK || buf_get_u16(&b, &klass) != BUF_OK)
			return DNS_EMALFORMED;
		off += 4;
	}
	for (i = 0; i < an && i < DNS_ANSWERS_MAX; i++) {
		if (name_read(msg, len, off, &next, name, &host) == -1)
			return DNS_EMALFORMED;
		off = next;
		buf_view(&b, msg + off, len - off);
		if (buf_get_u16(&b, &type) != BUF_OK || buf_get_u16(&b, &klass) != BUF_OK ||
		    buf_get_u32(&b, &ttl) != BUF_OK || buf_get_u16(&b, &rdlen) != BUF_OK ||
		    buf_get_ptr(&b, &rd, rdlen) != BUF_OK)
			return DNS_EMALFORMED;
		if (type == want && klass == DNS_C_IN && (rc = fn(msg, len, off + 10, rdlen, ctx)) != DNS_OK)
			return rc;
		off += 10 + (size_t)rdlen;
	}
	return DNS_OK;
}

struct srv_ctx {
	struct dns_srv *out;
	size_t          max, n;
};

/* One SRV record: priority, weight, port, target (ending where the record ends). */
static int
srv_one(const uint8_t *msg, size_t len, size_t rdoff, size_t rdlen, void *arg)
{
	struct srv_ctx *x = arg;
	struct dns_srv s;
	struct buf b;
	size_t next;
	int host;

	buf_view(&b, msg + rdoff, rdlen);
	if (buf_get_u16(&b, &s.prio) != BUF_OK || buf_get_u16(&b, &s.weight) != BUF_OK ||
	    buf_get_u16(&b, &s.port) != BUF_OK)
		return DNS_EMALFORMED;
	if (name_read(msg, rdoff + rdlen, rdoff + 6, &next, s.target, &host) == -1 || next != rdoff + rdlen)
		return DNS_EMALFORMED;
	if (!host || x->n == x->max)
		return DNS_OK;   /* not a host we could look up; or enough of them */
	x->out[x->n++] = s;
	return DNS_OK;
}

struct txt_ctx {
	struct dns_txt *out;
	size_t          max, n;
};

/* One TXT record: character-strings filling the record exactly. */
static int
txt_one(const uint8_t *msg, size_t len, size_t rdoff, size_t rdlen, void *arg)
{
	struct txt_ctx *x = arg;
	const uint8_t *p;
	struct buf b;
	size_t n;

	buf_view(&b, msg + rdoff, rdlen);
	while (buf_len(&b) > 0) {
		if (buf_get_str8(&b, &p, &n, 255) != BUF_OK)
			return DNS_EMALFORMED;
		if (x->n == x->max)
			continue;
		x->out[x->n].len = n;
		memcpy(x->out[x->n].s, p, n);
		x->out[x->n].s[n] = '\0';
		x->n++;
	}
	return DNS_OK;
}

/* SRV records of a response. */
int
dns_parse_srv(const uint8_t *msg, size_t len, struct dns_srv *out, size_t max, size_t *n)
{
	struct srv_ctx x = { out, max, 0 };
	int rc = walk_answers(msg, len, DNS_T_SRV, srv_one, &x);

	*n = rc == DNS_OK ? x.n : 0;
	return rc;
}

/* TXT strings of a response. */
int
dns_parse_txt(const uint8_t *msg, size_t len, struct dns_txt *out, size_t max, size_t *n)
{
	struct txt_ctx x = { out, max, 0 };
	int rc = walk_answers(msg, len, DNS_T_TXT, txt_one, &x);

	*n = rc == DNS_OK ? x.n : 0;
	return rc;
}

/* Whether text is a plausible host name. */
int
dns_name_ok(const char *name)
{
	size_t n = strlen(name), lab = 0, i;

	if (n == 0 || n > DNS_NAME_MAX || name[0] == '.' || name[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (name[i] == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
			continue;
		}
		if (!host_char((uint8_t)name[i]) || ++lab > 63)
			return 0;
	}
	return 1;
}

/* --- the resolver ------------------------------------------------------------ */

enum dns_kind { DK_ADDR = 1, DK_SRV, DK_TXT };

struct dns_req {
	struct dns_req   *next;
	struct dns       *d;
	enum dns_kind     kind;
	dns_cb            cb;
	void             *arg;
	uint16_t          port;
	int               in_flight;   /* c-ares still holds it */
	int               cancelled;
	int               failed;      /* the resolver did not start: fails a turn later */
	struct loop_timer deliver;
	struct dns_answer ans;
	char              err[128];
	struct dns_srv    srv[DNS_SRV_MAX];
	struct dns_txt    txt[DNS_TXT_MAX];
};

struct dns {
	struct loop      *loop;
	ares_channel      ch;
	int               up;          /* ch initialised */
	int               destroying;
	struct loop_timer timer;
	struct dns_req   *reqs;
};

/* Take a request off the list and free it. */
static void
req_free(struct dns_req *q)
{
	struct dns_req **pp;

	for (pp = &q->d->reqs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	}
	loop_timer_del(q->d->loop, &q->deliver);
	free(q);
}

/* Re-arm the loop timer for c-ares's next timeout. */
static void
dns_arm(struct dns *d)
{
	struct timeval tv, *tp;
	uint64_t ms;

	if (!d->up || d->destroying)
		return;
	if ((tp = ares_timeout(d->ch, NULL, &tv)) == NULL) {
		loop_timer_del(d->loop, &d->timer);
		return;
	}
	ms = (uint64_t)tp->tv_sec * 1000 + ((uint64_t)tp->tv_usec + 999) / 1000;
	loop_timer_set(d->loop, &d->timer, ms);
}

/* A c-ares socket is ready. */
static void
dns_fd_ready(struct loop *loop, int fd, int revents, void *arg)
{
	struct dns *d = arg;

	ares_process_fd(d->ch, (revents & (POLLIN | POLLERR | POLLHUP)) ? fd : ARES_SOCKET_BAD,
	    (revents & POLLOUT) ? fd : ARES_SOCKET_BAD);
	dns_arm(d);
}

/* c-ares timeouts and retries. */
static void
dns_timeout(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct dns *d = arg;

	ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dns_arm(d);
}

/* c-ares opens, changes or closes a socket: watch it in the loop. */
static void
dns_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns *d = data;

	if (!readable && !writable)
		loop_fd_del(d->loop, fd);
	else
		loop_fd_add(d->loop, fd, (readable ? POLLIN : 0) | (writable ? POLLOUT : 0), dns_fd_ready, d);
}

/* Deliver a finished lookup to its owner (a turn later, never re-entrantly). */
static void
dns_deliver(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct dns_req *q = arg;

	q->ans.srv = q->srv;
	q->ans.txt = q->txt;
	if (q->ans.status != DNS_OK)
		q->ans.err = q->err;
	q->cb(q->arg, &q->ans);
	req_free(q);
}

/* Turn a c-ares status into ours. */
static void
set_status(struct dns_req *q, int status, const char *what)
{
	switch (status) {
	case ARES_SUCCESS:
		q->ans.status = DNS_OK;
		return;
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
		q->ans.status = DNS_ENONAME;
		snprintf(q->err, sizeof q->err, "no %s record", what);
		return;
	case ARES_ETIMEOUT:
		q->ans.status = DNS_ETIMEOUT;
		snprintf(q->err, sizeof q->err, "the DNS server did not answer in time");
		return;
	default:
		q->ans.status = DNS_EFAIL;
		snprintf(q->err, sizeof q->err, "%s", ares_strerror(status));
		return;
	}
}

/* c-ares finished (or dropped) a request. */
static int
req_landed(struct dns_req *q, int status)
{
	q->in_flight = 0;
	if (status == ARES_EDESTRUCTION || q->cancelled || q->d->destroying) {
		if (!q->d->destroying)
			req_free(q);
		return 0;
	}
	return 1;
}

/* An SRV or TXT answer. */
static void
on_query(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_req *q = arg;
	const char *what = q->kind == DK_SRV ? "SRV" : "TXT";
	int rc;

	if (!req_landed(q, status))
		return;
	set_status(q, status, what);
	if (status == ARES_SUCCESS) {
		if (abuf == NULL || alen < 0)
			rc = DNS_EMALFORMED;
		else if (q->kind == DK_SRV)
			rc = dns_parse_srv(abuf, (size_t)alen, q->srv, DNS_SRV_MAX, &q->ans.nsrv);
		else
			rc = dns_parse_txt(abuf, (size_t)alen, q->txt, DNS_TXT_MAX, &q->ans.ntxt);
		if (rc == DNS_OK && q->ans.nsrv + q->ans.ntxt == 0)
			rc = DNS_ENONAME;
		q->ans.status = rc;
		if (rc == DNS_ENONAME)
			snprintf(q->err, sizeof q->err, "no %s record", what);
		else if (rc != DNS_OK)
			snprintf(q->err, sizeof q->err, "a malformed %s answer", what);
	}
	loop_timer_set(q->d->loop, &q->deliver, 0);
}

/* A host lookup's answer. */
static void
on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct dns_req *q = arg;
	struct ares_addrinfo_node *nd;
	size_t n = 0;

	if (!req_landed(q, status)) {
		if (res != NULL)
			ares_freeaddrinfo(res);
		return;
	}
	set_status(q, status, "address");
	if (status == ARES_SUCCESS && res != NULL) {
		for (nd = res->nodes; nd != NULL && n < DNS_ADDR_MAX; nd = nd->ai_next) {
			if (nd->ai_addr == NULL)
				continue;
			if (nd->ai_family == AF_INET && nd->ai_addrlen >= (int)sizeof(struct sockaddr_in)) {
				struct sockaddr_in *s = (struct sockaddr_in *)&q->ans.addrs[n];

				memcpy(s, nd->ai_addr, sizeof *s);
				s->sin_port = htons(q->port);
				q->ans.addrlens[n++] = sizeof *s;
			} else if (nd->ai_family == AF_INET6 && nd->ai_addrlen >= (int)sizeof(struct sockaddr_in6)) {
				struct sockaddr_in6 *s = (struct sockaddr_in6 *)&q->ans.addrs[n];

				memcpy(s, nd->ai_addr, sizeof *s);
				s->sin6_port = htons(q->port);
				q->ans.addrlens[n++] = sizeof *s;
			}
		}
		q->ans.naddrs = n;
		if (n == 0) {
			q->ans.status = DNS_ENONAME;
			snprintf(q->err, sizeof q->err, "no address record");
		}
	}
	if (res != NULL)
		ares_freeaddrinfo(res);
	loop_timer_set(q->d->loop, &q->deliver, 0);
}

/* A resolver over loop. */
struct dns *
dns_new(struct loop *loop)
{
	struct dns *d;

	if ((d = calloc(1, sizeof *d)) == NULL)
		return NULL;
	d->loop = loop;
	loop_timer_init(&d->timer, dns_timeout, d);
	return d;
}

/* Read the resolver configuration on first use. */
static int
dns_up(struct dns *d, char *err, size_t errlen)
{
	struct ares_options o;
	int rc;

	if (d->up)
		return 0;
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		snprintf(err, errlen, "cannot start the resolver: %s", ares_strerror(rc));
		return -1;
	}
	memset(&o, 0, sizeof o);
	o.sock_state_cb = dns_sock_state;
	o.sock_state_cb_data = d;
	o.timeout = 2000;   /* ms per try */
	o.tries = 2;
	rc = ares_init_options(&d->ch, &o, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		ares_library_cleanup();
		snprintf(err, errlen, "cannot start the resolver: %s", ares_strerror(rc));
		return -1;
	}
	d->up = 1;
	return 0;
}

/* A new request; if the resolver cannot start, it fails (a turn later). */
static struct dns_req *
req_new(struct dns *d, enum dns_kind kind, dns_cb cb, void *arg)
{
	struct dns_req *q;

	if ((q = calloc(1, sizeof *q)) == NULL)
		return NULL;
	q->d = d;
	q->kind = kind;
	q->cb = cb;
	q->arg = arg;
	loop_timer_init(&q->deliver, dns_deliver, q);
	q->next = d->reqs;
	d->reqs = q;
	if (dns_up(d, q->err, sizeof q->err) == -1) {
		q->failed = 1;
		q->ans.status = DNS_EFAIL;
		loop_timer_set(d->loop, &q->deliver, 0);
	}
	return q;
}

/* A and AAAA for host. */
struct dns_req *
dns_lookup_addr(struct dns *d, const char *host, uint16_t port, dns_cb cb, void *arg)
{
	struct ares_addrinfo_hints h;
	struct dns_req *q = req_new(d, DK_ADDR, cb, arg);

	if (q == NULL || q->failed)
		return q;
	q->port = port;
	memset(&h, 0, sizeof h);
	h.ai_family = AF_UNSPEC;
	h.ai_socktype = SOCK_STREAM;
	q->in_flight = 1;
	ares_getaddrinfo(d->ch, host, NULL, &h, on_addrinfo, q);
	dns_arm(d);
	return q;
}

/* SRV or TXT for name. */
static struct dns_req *
lookup_rr(struct dns *d, const char *name, enum dns_kind kind, dns_cb cb, void *arg)
{
	struct dns_req *q = req_new(d, kind, cb, arg);

	if (q == NULL || q->failed)
		return q;
	q->in_flight = 1;
	ares_query(d->ch, name, DNS_C_IN, kind == DK_SRV ? DNS_T_SRV : DNS_T_TXT, on_query, q);
	dns_arm(d);
	return q;
}

struct dns_req *
dns_lookup_srv(struct dns *d, const char *name, dns_cb cb, void *arg)
{
	return lookup_rr(d, name, DK_SRV, cb, arg);
}

struct dns_req *
dns_lookup_txt(struct dns *d, const char *name, dns_cb cb, void *arg)
{
	return lookup_rr(d, name, DK_TXT, cb, arg);
}

/* Forget a lookup. */
void
dns_cancel(struct dns_req *q)
{
	if (q == NULL)
		return;
	if (q->in_flight)
		q->cancelled = 1;   /* c-ares still holds it: freed when it lands */
	else
		req_free(q);
}

/* Cancel everything and free. */
void
dns_free(struct dns *d)
{
	if (d == NULL)
		return;
	d->destroying = 1;
	loop_timer_del(d->loop, &d->timer);
	if (d->up) {
		ares_destroy(d->ch);   /* lands every request with ARES_EDESTRUCTION */
		ares_library_cleanup();
	}
	while (d->reqs != NULL)
		req_free(d->reqs);
	free(d);
}
