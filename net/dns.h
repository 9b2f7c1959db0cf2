/* dns.h - name lookups with c-ares driven by the loop: A/AAAA, SRV, TXT; a bounds-checked answer parser. */
#ifndef CONFAB_DNS_H
#define CONFAB_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "loop.h"

#define DNS_NAME_MAX   253   /* text form of a name, without the final dot */
#define DNS_SRV_MAX    16    /* SRV records kept from one answer */
#define DNS_TXT_MAX    32    /* TXT character-strings kept from one answer */
#define DNS_ADDR_MAX   16    /* addresses kept from one host lookup */
#define DNS_ANSWERS_MAX 64   /* answer records looked at in one message */

/* Parser results, and the status of a finished lookup. */
#define DNS_OK          0
#define DNS_EMALFORMED -1    /* the message does not parse */
#define DNS_ENONAME    -2    /* no such name, or no record of that type */
#define DNS_ETIMEOUT   -3    /* no answer in time */
#define DNS_EFAIL      -4    /* any other failure (err says which) */

struct dns_srv {
	uint16_t prio, weight, port;
	char     target[DNS_NAME_MAX + 1];   /* "" for the root: "no such service here" */
};

/* One TXT character-string (up to 255 bytes, any bytes; s is NUL-terminated too). */
struct dns_txt {
	size_t len;
	char   s[256];
};

/*
 * Parse a whole DNS response message: the SRV (or TXT) records of class IN in
 * its answer section, at most max of them.  Compressed names are followed
 * strictly backwards; SRV targets that are not host names (letters, digits,
 * '-', '_') are skipped.  Returns DNS_OK with *n records (maybe 0), DNS_ENONAME
 * when the response code says the name does not exist, or DNS_EMALFORMED.
 */
int dns_parse_srv(const uint8_t *msg, size_t len, struct dns_srv *out, size_t max, size_t *n);
int dns_parse_txt(const uint8_t *msg, size_t len, struct dns_txt *out, size_t max, size_t *n);

/* Whether text is a plausible host name: labels of letters, digits, '-' and '_', dots between. */
int dns_name_ok(const char *name);

/* What a lookup found (valid during the callback only). */
struct dns_answer {
	int                     status;   /* DNS_OK or DNS_E* */
	const char             *err;      /* the failure in words (status != DNS_OK) */
	struct sockaddr_storage addrs[DNS_ADDR_MAX];   /* host lookups, port filled in */
	socklen_t               addrlens[DNS_ADDR_MAX];
	size_t                  naddrs;
	const struct dns_srv   *srv;      /* SRV lookups */
	size_t                  nsrv;
	const struct dns_txt   *txt;      /* TXT lookups */
	size_t                  ntxt;
};

struct dns;
struct dns_req;

/* Called once per lookup, from the loop (never from inside dns_lookup_*). */
typedef void (*dns_cb)(void *arg, const struct dns_answer *);

/* A resolver over loop; nothing is read or sent until the first lookup. */
struct dns *dns_new(struct loop *);
/* Cancel every lookup (no callbacks) and free. */
void dns_free(struct dns *);
/* A and AAAA (and /etc/hosts) for host; every address gets port.  NULL: out of memory. */
struct dns_req *dns_lookup_addr(struct dns *, const char *host, uint16_t port, dns_cb, void *arg);
/* SRV or TXT records of name. */
struct dns_req *dns_lookup_srv(struct dns *, const char *name, dns_cb, void *arg);
struct dns_req *dns_lookup_txt(struct dns *, const char *name, dns_cb, void *arg);
/* Forget a lookup: its callback will not run. */
void dns_cancel(struct dns_req *);

#endif
