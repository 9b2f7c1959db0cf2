/* invite.c - invite codes: one copyable line with a fingerprint and the addresses to try. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "invite.h"
#include "sock.h"

#define CHECK_SYMS  6      /* check symbols: 30 bits */
#define GF_POLY     0x25   /* x^5 + x^2 + 1, primitive: x generates GF(32)* */
#define PREFIX_LEN  6      /* strlen(INVITE_PREFIX) */

/* TLV types of the payload (after the 32-byte key). */
#define TLV_IPV4  1        /* 4 address bytes, u16 port */
#define TLV_IPV6  2        /* 16 address bytes, u16 port */
#define TLV_NAME  3        /* u16 port, then the host name (1..253 bytes) */
#define TLV_ONION 4        /* u16 port, then a v3 onion address: 35 bytes (its 56 base32 characters) */
#define TLV_MAPPED 5       /* empty: the address just before is a router's port mapping */
#define ONION_BIN 35
#define ONION_ID  56

static const char b32onion[] = "abcdefghijklmnopqrstuvwxyz234567";

static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

/* The 5-bit value of a typed character (fingerprint rules), or -1. */
static int
sym_value(unsigned char c)
{
	const char *p;

	c = (unsigned char)tolower(c);
	if (c == 'o')
		c = '0';
	if (c == 'i' || c == 'l')
		c = '1';
	if (c == '\0' || (p = strchr(alphabet, c)) == NULL)
		return -1;
	return (int)(p - alphabet);
}

/* Multiply in GF(32). */
static uint8_t
gf_mul(uint8_t a, uint8_t b)
{
	uint8_t r = 0;

	while (b != 0) {
		if (b & 1)
			r ^= a;
		b >>= 1;
		a <<= 1;
		if (a & 0x20)
			a ^= GF_POLY;
	}
	return r;
}

/* g(x) = (x + a)(x + a^2)...(x + a^6), a = x: coefficients g[0..6], g[6] = 1. */
static void
generator(uint8_t g[CHECK_SYMS + 1])
{
	uint8_t root = 1, next[CHECK_SYMS + 1];
	int i, k;

	memset(g, 0, CHECK_SYMS + 1);
	g[0] = 1;
	for (i = 1; i <= CHECK_SYMS; i++) {
		root = gf_mul(root, 2);
		/* multiply g by (x + root) */
		memset(next, 0, sizeof next);
		for (k = 0; k <= CHECK_SYMS; k++) {
			if (k > 0)
				next[k] ^= g[k - 1];
			next[k] ^= gf_mul(g[k], root);
		}
		memcpy(g, next, sizeof next);
	}
}

/*
 * The remainder of (symbols as a polynomial, first = highest degree) * x^6
 * divided by g.  Zero exactly when the symbols (check symbols included) form a
 * codeword.  r[k] is the coefficient of x^k.
 */
static void
remainder6(const uint8_t *sym, size_t n, uint8_t r[CHECK_SYMS])
{
	uint8_t g[CHECK_SYMS + 1], fb;
	size_t i;
	int k;

	generator(g);
	memset(r, 0, CHECK_SYMS);
	for (i = 0; i < n; i++) {
		fb = r[CHECK_SYMS - 1] ^ sym[i];
		for (k = CHECK_SYMS - 1; k > 0; k--)
			r[k] = r[k - 1] ^ gf_mul(fb, g[k]);
		r[0] = gf_mul(fb, g[0]);
	}
}

/* Whether two socket addresses are the same address and port. */
static int
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
	}
	return 0;
}

/* Add an address. */
int
invite_add_addr(struct invite *inv, const struct sockaddr *sa, socklen_t len)
{
	struct invite_cand c;
	size_t i;

	memset(&c, 0, sizeof c);
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		c.kind = INV_IPV4;
		c.len = sizeof(struct sockaddr_in);
		c.port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		c.kind = INV_IPV6;
		c.len = sizeof(struct sockaddr_in6);
		c.port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	} else {
		return -1;
	}
	if (c.port == 0)
		return -1;
	memcpy(&c.ss, sa, c.len);
	if (c.kind == INV_IPV6) {
		((struct sockaddr_in6 *)&c.ss)->sin6_scope_id = 0;   /* meaningless elsewhere */
		((struct sockaddr_in6 *)&c.ss)->sin6_flowinfo = 0;
	}
	for (i = 0; i < inv->n; i++)
		if (inv->c[i].kind == c.kind && same_addr(&inv->c[i].ss, &c.ss))
			return 0;
	if (inv->n == INVITE_MAX_CANDS)
		return -1;
	inv->c[inv->n++] = c;
	return 0;
}

/* Add a DNS name. */
int
invite_add_name(struct invite *inv, const char *host, uint16_t port)
{
	size_t i;

	if (!dns_name_ok(host) || port == 0)
		return -1;
	for (i = 0; i < inv->n; i++)
		if (inv->c[i].kind == INV_NAME && inv->c[i].port == port && strcasecmp(inv->c[i].host, host) == 0)
			return 0;
	if (inv->n == INVITE_MAX_CANDS)
		return -1;
	memset(&inv->c[inv->n], 0, sizeof inv->c[inv->n]);
	inv->c[inv->n].kind = INV_NAME;
	snprintf(inv->c[inv->n].host, sizeof inv->c[inv->n].host, "%s", host);
	inv->c[inv->n].port = port;
	inv->n++;
	return 0;
}

/* "ID.onion" (any case) to its 35 bytes; -1 if it is not a v3 onion name. */
static int
onion_bin(const char *host, uint8_t out[ONION_BIN])
{
	unsigned acc = 0, bits = 0;
	size_t i, n = 0;
	const char *p;

	if (strlen(host) != ONION_ID + 6 || strcasecmp(host + ONION_ID, ".onion") != 0)
		return -1;
	for (i = 0; i < ONION_ID; i++) {
		char ch = host[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch == '\0' || (p = strchr(b32onion, ch)) == NULL)
			return -1;
		acc = (acc << 5) | (unsigned)(p - b32onion);
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return out[ONION_BIN - 1] == 3 ? 0 : -1;   /* the last byte is the version, 3 */
}

/* 35 bytes to "ID.onion". */
static void
onion_text(const uint8_t in[ONION_BIN], char out[ONION_ID + 7])
{
	unsigned acc = 0, bits = 0;
	size_t i, n = 0;

	for (i = 0; i < ONION_BIN; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[n++] = b32onion[(acc >> bits) & 31];
		}
		acc &= (1u << bits) - 1;
	}
	memcpy(out + n, ".onion", 7);
}

/* Add an onion address. */
int
invite_add_onion(struct invite *inv, const char *host, uint16_t port)
{
	uint8_t bin[ONION_BIN];
	size_t i;

	if (port == 0 || onion_bin(host, bin) == -1)
		return -1;
	for (i = 0; i < inv->n; i++)
		if (inv->c[i].kind == INV_ONION && inv->c[i].port == port && strcasecmp(inv->c[i].host, host) == 0)
			return 0;
	if (inv->n == INVITE_MAX_CANDS)
		return -1;
	memset(&inv->c[inv->n], 0, sizeof inv->c[inv->n]);
	inv->c[inv->n].kind = INV_ONION;
	onion_text(bin, inv->c[inv->n].host);   /* lower case */
	inv->c[inv->n].port = port;
	inv->n++;
	return 0;
}

/* The marker that the address just written is a router's port mapping. */
static int
mapped_put(struct buf *b)
{
	int rc = buf_put_u8(b, TLV_MAPPED);

	return rc == BUF_OK ? buf_put_u8(b, 0) : rc;
}

/* The payload bytes of an invite. */
static int
payload_put(const struct invite *inv, struct buf *b)
{
	size_t i, hl;
	int rc = buf_put(b, inv->key, ID_KEYLEN);

	for (i = 0; i < inv->n && rc == BUF_OK; i++) {
		const struct invite_cand *c = &inv->c[i];

		switch (c->kind) {
		case INV_IPV4:
			rc = buf_put_u8(b, TLV_IPV4);
			if (rc == BUF_OK)
				rc = buf_put_u8(b, 6);
			if (rc == BUF_OK)
				rc = buf_put(b, &((const struct sockaddr_in *)&c->ss)->sin_addr, 4);
			if (rc == BUF_OK)
				rc = buf_put_u16(b, c->port);
			if (rc == BUF_OK && c->mapped)
				rc = mapped_put(b);
			break;
		case INV_IPV6:
			rc = buf_put_u8(b, TLV_IPV6);
			if (rc == BUF_OK)
				rc = buf_put_u8(b, 18);
			if (rc == BUF_OK)
				rc = buf_put(b, &((const struct sockaddr_in6 *)&c->ss)->sin6_addr, 16);
			if (rc == BUF_OK)
				rc = buf_put_u16(b, c->port);
			if (rc == BUF_OK && c->mapped)
				rc = mapped_put(b);
			break;
		case INV_NAME:
			hl = strlen(c->host);
			rc = buf_put_u8(b, TLV_NAME);
			if (rc == BUF_OK)
				rc = buf_put_u8(b, (uint8_t)(hl + 2));
			if (rc == BUF_OK)
				rc = buf_put_u16(b, c->port);
			if (rc == BUF_OK)
				rc = buf_put(b, c->host, hl);
			break;
		case INV_ONION: {
			uint8_t bin[ONION_BIN];

			if (onion_bin(c->host, bin) == -1)
				return BUF_ETOOBIG;   /* invite_add_onion checked it */
			rc = buf_put_u8(b, TLV_ONION);
			if (rc == BUF_OK)
				rc = buf_put_u8(b, 2 + ONION_BIN);
			if (rc == BUF_OK)
				rc = buf_put_u16(b, c->port);
			if (rc == BUF_OK)
				rc = buf_put(b, bin, ONION_BIN);
			break;
		}
		}
	}
	return rc;
}

/* Write a code around any payload and version symbol. */
int
invite_encode_raw(const uint8_t *p, size_t len, unsigned version, char *out, size_t outlen)
{
	uint8_t sym[INVITE_TEXT_MAX], r[CHECK_SYMS];
	unsigned int acc = 0, bits = 0;
	size_t n = 0, i;

	if (len > INVITE_PAYLOAD_MAX || version > 31)
		return -1;
	sym[n++] = (uint8_t)version;
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 5) {
			sym[n++] = (acc >> (bits - 5)) & 31;
			bits -= 5;
		}
	}
	if (bits > 0)
		sym[n++] = (acc << (5 - bits)) & 31;
	remainder6(sym, n, r);
	for (i = 0; i < CHECK_SYMS; i++)
		sym[n++] = r[CHECK_SYMS - 1 - i];
	if (PREFIX_LEN + n + 1 > outlen)
		return -1;
	memcpy(out, INVITE_PREFIX, PREFIX_LEN);
	for (i = 0; i < n; i++)
		out[PREFIX_LEN + i] = alphabet[sym[i]];
	out[PREFIX_LEN + n] = '\0';
	return (int)(PREFIX_LEN + n);
}

/* Write the code. */
int
invite_encode(const struct invite *inv, char *out, size_t outlen)
{
	struct buf b;
	int rc = -1;

	buf_init(&b, INVITE_PAYLOAD_MAX);
	if (payload_put(inv, &b) == BUF_OK)
		rc = invite_encode_raw(buf_ptr(&b), buf_len(&b), INVITE_VERSION, out, outlen);
	buf_free(&b);
	return rc;
}

/* Parse the payload: the key, then candidates. */
static int
payload_get(const uint8_t *p, size_t n, struct invite *inv, char *err, size_t errlen)
{
	const uint8_t *v;
	struct buf b, tb;
	uint8_t type, tlen;
	uint16_t port;

	memset(inv, 0, sizeof *inv);
	buf_view(&b, p, n);
	if (buf_get(&b, inv->key, ID_KEYLEN) != BUF_OK) {
		snprintf(err, errlen, "the invite code is damaged: it holds no full fingerprint");
		return -1;
	}
	while (buf_len(&b) > 0) {
		if (buf_get_u8(&b, &type) != BUF_OK || buf_get_u8(&b, &tlen) != BUF_OK ||
		    buf_get_ptr(&b, &v, tlen) != BUF_OK) {
			snprintf(err, errlen, "the invite code is damaged: an address is cut short");
			return -1;
		}
		buf_view(&tb, v, tlen);
		if (type == TLV_IPV4 || type == TLV_IPV6) {
			struct sockaddr_storage ss;
			socklen_t sl;

			memset(&ss, 0, sizeof ss);
			if (type == TLV_IPV4) {
				struct sockaddr_in *s = (struct sockaddr_in *)&ss;

				s->sin_family = AF_INET;
				if (tlen != 6 || buf_get(&tb, &s->sin_addr, 4) != BUF_OK ||
				    buf_get_u16(&tb, &port) != BUF_OK)
					goto bad;
				s->sin_port = htons(port);
				sl = sizeof *s;
			} else {
				struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

				s->sin6_family = AF_INET6;
				if (tlen != 18 || buf_get(&tb, &s->sin6_addr, 16) != BUF_OK ||
				    buf_get_u16(&tb, &port) != BUF_OK)
					goto bad;
				s->sin6_port = htons(port);
				sl = sizeof *s;
			}
			if (port == 0)
				goto bad;
			if (inv->n == INVITE_MAX_CANDS) {
				snprintf(err, errlen, "the invite code lists more than %d addresses", INVITE_MAX_CANDS);
				return -1;
			}
			if (invite_add_addr(inv, (struct sockaddr *)&ss, sl) == -1)
				goto bad;
		} else if (type == TLV_NAME) {
			char host[DNS_NAME_MAX + 1];

			if (tlen < 3 || buf_get_u16(&tb, &port) != BUF_OK)
				goto bad;
			memcpy(host, buf_ptr(&tb), buf_len(&tb));
			host[buf_len(&tb)] = '\0';
			if (memchr(buf_ptr(&tb), '\0', buf_len(&tb)) != NULL || !dns_name_ok(host) || port == 0)
				goto bad;
			if (inv->n == INVITE_MAX_CANDS) {
				snprintf(err, errlen, "the invite code lists more than %d addresses", INVITE_MAX_CANDS);
				return -1;
			}
			invite_add_name(inv, host, port);
		} else if (type == TLV_ONION) {
			uint8_t bin[ONION_BIN];
			char host[ONION_ID + 7];

			if (tlen != 2 + ONION_BIN || buf_get_u16(&tb, &port) != BUF_OK ||
			    buf_get(&tb, bin, ONION_BIN) != BUF_OK || port == 0 || bin[ONION_BIN - 1] != 3)
				goto bad;
			if (inv->n == INVITE_MAX_CANDS) {
				snprintf(err, errlen, "the invite code lists more than %d addresses", INVITE_MAX_CANDS);
				return -1;
			}
			onion_text(bin, host);
			if (invite_add_onion(inv, host, port) == -1)
				goto bad;
		} else if (type == TLV_MAPPED) {
			/* marks the address before it; readers before type 5 skip it */
			if (tlen != 0 || inv->n == 0 ||
			    (inv->c[inv->n - 1].kind != INV_IPV4 && inv->c[inv->n - 1].kind != INV_IPV6))
				goto bad;
			inv->c[inv->n - 1].mapped = 1;
		}
		/* other types: from a later version, skipped */
	}
	return 0;
bad:
	snprintf(err, errlen, "the invite code is damaged: an address does not make sense");
	return -1;
}

/* Read a code. */
int
invite_decode(const char *text, struct invite *inv, char *err, size_t errlen)
{
	uint8_t sym[INVITE_TEXT_MAX], r[CHECK_SYMS], bytes[INVITE_PAYLOAD_MAX + 8];
	unsigned int acc = 0, bits = 0;
	size_t len = strlen(text), n = 0, nb = 0, i;
	int v;

	if (len < PREFIX_LEN || strncasecmp(text, INVITE_PREFIX, PREFIX_LEN) != 0) {
		snprintf(err, errlen, "not an invite code (invite codes start with \"%s%d\")", INVITE_PREFIX,
		    INVITE_VERSION);
		return -1;
	}
	if (len >= INVITE_TEXT_MAX) {
		snprintf(err, errlen, "that invite code is too long (%zu characters)", len);
		return -1;
	}
	for (i = PREFIX_LEN; i < len; i++) {
		if ((v = sym_value((unsigned char)text[i])) == -1) {
			unsigned char c = (unsigned char)text[i];

			if (c > 0x20 && c < 0x7f)
				snprintf(err, errlen, "invalid character '%c' at position %zu of the invite code "
				    "(it has only letters and digits, and no u)", c, i + 1);
			else
				snprintf(err, errlen, "invalid character (byte 0x%02x) at position %zu of the invite code",
				    c, i + 1);
			return -1;
		}
		sym[n++] = (uint8_t)v;
	}
	if (n < 1 + CHECK_SYMS + (ID_KEYLEN * 8 + 4) / 5) {
		snprintf(err, errlen, "that invite code is too short: part of it is missing (copy all of it)");
		return -1;
	}
	remainder6(sym, n, r);
	for (i = 0; i < CHECK_SYMS; i++) {
		if (r[i] != 0) {
			snprintf(err, errlen, "the invite code has a typo: its check characters do not match "
			    "(copy it again, or compare it character by character)");
			return -1;
		}
	}
	if (sym[0] != INVITE_VERSION) {
		snprintf(err, errlen, "this is a version %u invite code, but this confab reads version %d: "
		    "a newer confab made it", sym[0], INVITE_VERSION);
		return -1;
	}
	for (i = 1; i < n - CHECK_SYMS; i++) {
		acc = ((acc << 5) | sym[i]) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			if (nb == sizeof bytes)
				break;
			bytes[nb++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0 || nb > INVITE_PAYLOAD_MAX) {
		snprintf(err, errlen, "the invite code is damaged: its length is not that of any code");
		return -1;
	}
	return payload_get(bytes, nb, inv, err, errlen);
}

/* Whether text is meant as an invite code. */
int
invite_looks_like(const char *text)
{
	size_t i;

	if (strncasecmp(text, INVITE_PREFIX, PREFIX_LEN) != 0 || !isdigit((unsigned char)text[PREFIX_LEN]))
		return 0;
	for (i = PREFIX_LEN; text[i] != '\0'; i++)
		if (!isalnum((unsigned char)text[i]))
			return 0;
	return i >= PREFIX_LEN + 4;   /* a code cut short is still one: reported, not looked up in DNS */
}

/* An invite code without the blanks and line breaks a copy from a screen adds. */
int
invite_squeeze(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	if (outlen == 0)
		return 0;
	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\r')
			continue;
		if (n + 1 >= outlen) {
			out[0] = '\0';
			return 0;
		}
		out[n++] = *in;
	}
	out[n] = '\0';
	if (!invite_looks_like(out)) {
		out[0] = '\0';
		return 0;
	}
	return 1;
}

/* A candidate as text. */
void
invite_cand_text(const struct invite_cand *c, char *out, size_t outlen)
{
	if (c->kind == INV_NAME || c->kind == INV_ONION)
		snprintf(out, outlen, "%s:%u", c->host, c->port);
	else
		sock_format((const struct sockaddr *)&c->ss, out, outlen);
}

/* The candidates of an invite as one line of text ("a, b, ..."). */
void
invite_cands_text(const struct invite *inv, char *out, size_t outlen)
{
	char one[DNS_NAME_MAX + 16];
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < inv->n && len + 1 < outlen; i++) {
		invite_cand_text(&inv->c[i], one, sizeof one);
		len += (size_t)snprintf(out + len, outlen - len, "%s%s", i ? ", " : "", one);
	}
	if (len >= outlen && outlen > 4)
		memcpy(out + outlen - 4, "...", 4);
}
