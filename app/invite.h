/* invite.h - invite codes: one copyable line with a fingerprint and the addresses to try. */
#ifndef CONFAB_INVITE_H
#define CONFAB_INVITE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns.h"
#include "identity.h"

/*
 * An invite code is "confab" followed by base32 symbols (the fingerprint
 * alphabet, see net/PROTOCOL.md, "Invite codes"): a version symbol, the
 * payload, and six check symbols of a code over GF(32) that catches every
 * single mistyped character and every swap of two neighbours.  Letters and
 * digits only, so a double click selects all of it.
 */
#define INVITE_VERSION    1
#define INVITE_PREFIX     "confab"
#define INVITE_MAX_CANDS  16
#define INVITE_PAYLOAD_MAX 512
#define INVITE_TEXT_MAX   (6 + 1 + (INVITE_PAYLOAD_MAX * 8 + 4) / 5 + 6 + 1)

enum invite_kind { INV_IPV4 = 1, INV_IPV6 = 2, INV_NAME = 3, INV_ONION = 4 };

struct invite_cand {
	enum invite_kind        kind;
	struct sockaddr_storage ss;       /* INV_IPV4, INV_IPV6 (port included) */
	socklen_t               len;
	char                    host[DNS_NAME_MAX + 1];   /* INV_NAME; INV_ONION: "ID.onion" */
	uint16_t                port;
	int                     mapped;   /* INV_IPV4, INV_IPV6: the router's port mapping for the peer */
};

struct invite {
	uint8_t            key[ID_KEYLEN];
	struct invite_cand c[INVITE_MAX_CANDS];
	size_t             n;
};

/* Add an address (IPv4 or IPv6 with its port); duplicates are ignored. -1 if full or unusable. */
int  invite_add_addr(struct invite *, const struct sockaddr *, socklen_t);
/* Add a DNS name with a port. -1 if full or not a host name. */
int  invite_add_name(struct invite *, const char *host, uint16_t port);
/* Add a v3 onion address ("ID.onion", 56 base32 characters) with a port. -1 if full or malformed. */
int  invite_add_onion(struct invite *, const char *host, uint16_t port);
/* Write the code (NUL-terminated) to out; returns its length, or -1 if it does not fit. */
int  invite_encode(const struct invite *, char *out, size_t outlen);
/* Write a code around any payload bytes and version symbol (tests, fuzz seeds); -1 if too long. */
int  invite_encode_raw(const uint8_t *payload, size_t n, unsigned version, char *out, size_t outlen);
/* Read a code; -1 with a sentence for people in err (a typo, another version, ...). */
int  invite_decode(const char *text, struct invite *, char *err, size_t errlen);
/* Whether text is meant as an invite code (starts with "confab" and a digit, letters and digits only). */
int  invite_looks_like(const char *text);
/*
 * An invite code copied off a screen: in without its blanks, tabs and line
 * breaks (a wrapped line, an indent) into out.  Returns 1 if what is left
 * looks like an invite code (invite_looks_like), else 0 (out is then "").
 */
int  invite_squeeze(const char *in, char *out, size_t outlen);
/* A candidate as text: "1.2.3.4:7470", "[2001:db8::1]:7470", "host.example:7470". */
void invite_cand_text(const struct invite_cand *, char *out, size_t outlen);
/* The candidates of an invite as one line of text ("a, b, ..."; "..." when cut). */
void invite_cands_text(const struct invite *, char *out, size_t outlen);

#endif
