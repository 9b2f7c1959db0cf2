/* noise_vectors.c - run a cacophony-format Noise test vector file (TAP output). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noise.h"

/* ---- a small, strict, bounds-checked JSON reader ------------------------ */

/*
 * mj_parse() checks a whole document against RFC 8259 (no extensions, no
 * trailing commas, no duplicate keys, valid UTF-8, nesting at most
 * MJ_MAX_DEPTH) and records every value as a node.  Nodes refer to the text
 * by offset, so the text must outlive the document.  Object nodes have as
 * children alternately a key (a string node) and its value.
 */

#define MJ_MAX_DEPTH 64
#define MJ_MAX_NODES (1 << 22)

enum mj_type { MJ_NULL, MJ_BOOL, MJ_NUMBER, MJ_STRING, MJ_ARRAY, MJ_OBJECT };

struct mj_node {
	enum mj_type type;
	size_t start, len;   /* the value's text; for strings, inside the quotes */
	int child;           /* first child, or -1 */
	int next;            /* next sibling, or -1 */
};

struct mj_doc {
	const char     *text;
	size_t          len;
	struct mj_node *nodes;
	int             n, cap;
	size_t          err_at;   /* offset of the first error */
};

/* Skip JSON whitespace. */
static void
mj_ws(const struct mj_doc *d, size_t *p)
{
	while (*p < d->len && (d->text[*p] == ' ' || d->text[*p] == '\t' ||
	                       d->text[*p] == '\n' || d->text[*p] == '\r'))
		(*p)++;
}

/* Append a node; its index, or -1 when out of memory or over the limit. */
static int
mj_new(struct mj_doc *d, enum mj_type type, size_t start)
{
	struct mj_node *nn;
	int cap;

	if (d->n == d->cap) {
		if (d->cap >= MJ_MAX_NODES)
			return -1;
		cap = d->cap ? d->cap * 2 : 256;
		nn = realloc(d->nodes, (size_t)cap * sizeof *nn);
		if (nn == NULL)
			return -1;
		d->nodes = nn;
		d->cap = cap;
	}
	d->nodes[d->n].type = type;
	d->nodes[d->n].start = start;
	d->nodes[d->n].len = 0;
	d->nodes[d->n].child = -1;
	d->nodes[d->n].next = -1;
	return d->n++;
}

/* Value of hex digit c, or -1. */
static int
mj_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read 4 hex digits at s[p..] (p + 4 <= len checked by caller); -1 if bad. */
static long
mj_hex4(const char *s)
{
	long v = 0;
	int i, h;

	for (i = 0; i < 4; i++) {
		h = mj_hexval((unsigned char)s[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* Length of the valid UTF-8 sequence at s (avail bytes), or 0 if invalid. */
static size_t
mj_utf8_len(const unsigned char *s, size_t avail)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2; cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3; cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4; cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Check a string starting at the opening quote; *p ends after the closing one. */
static int
mj_scan_string(struct mj_doc *d, size_t *p, size_t *start, size_t *len)
{
	const char *s = d->text;
	size_t q = *p + 1, n;
	long u, lo;

	*start = q;
	for (;;) {
		if (q >= d->len)
			goto bad;
		if (s[q] == '"')
			break;
		if ((unsigned char)s[q] < 0x20)
			goto bad;
		if (s[q] != '\\') {
			n = mj_utf8_len((const unsigned char *)s + q, d->len - q);
			if (n == 0)
				goto bad;
			q += n;
			continue;
		}
		if (q + 1 >= d->len)
			goto bad;
		switch (s[q + 1]) {
		case '"': case '\\': case '/': case 'b': case 'f':
		case 'n': case 'r': case 't':
			q += 2;
			break;
		case 'u':
			if (d->len - q < 6 || (u = mj_hex4(s + q + 2)) < 0)
				goto bad;
			q += 6;
			if (u >= 0xdc00 && u <= 0xdfff)
				goto bad;   /* lone low surrogate */
			if (u >= 0xd800 && u <= 0xdbff) {
				if (d->len - q < 6 || s[q] != '\\' || s[q + 1] != 'u' ||
				    (lo = mj_hex4(s + q + 2)) < 0xdc00 || lo > 0xdfff)
					goto bad;
				q += 6;
			}
			break;
		default:
			goto bad;
		}
	}
	*len = q - *start;
	*p = q + 1;
	return 0;
bad:
	d->err_at = q;
	return -1;
}

/* Check a number; *p ends after it. */
static int
mj_scan_number(struct mj_doc *d, size_t *p)
{
	const char *s = d->text;
	size_t q = *p, digits;

	if (q < d->len && s[q] == '-')
		q++;
	if (q < d->len && s[q] == '0') {
		q++;
	} else {
		for (digits = 0; q < d->len && s[q] >= '0' && s[q] <= '9'; q++)
			digits++;
		if (digits == 0)
			goto bad;
	}
	if (q < d->len && s[q] == '.') {
		q++;
		for (digits = 0; q < d->len && s[q] >= '0' && s[q] <= '9'; q++)
			digits++;
		if (digits == 0)
			goto bad;
	}
	if (q < d->len && (s[q] == 'e' || s[q] == 'E')) {
		q++;
		if (q < d->len && (s[q] == '+' || s[q] == '-'))
			q++;
		for (digits = 0; q < d->len && s[q] >= '0' && s[q] <= '9'; q++)
			digits++;
		if (digits == 0)
			goto bad;
	}
	*p = q;
	return 0;
bad:
	d->err_at = q;
	return -1;
}

/* Whether two string nodes have the same raw text. */
static int
mj_same_raw(const struct mj_doc *d, int a, int b)
{
	return d->nodes[a].len == d->nodes[b].len &&
	    memcmp(d->text + d->nodes[a].start, d->text + d->nodes[b].start,
	           d->nodes[a].len) == 0;
}

static int mj_value(struct mj_doc *d, size_t *p, int depth);

/* Parse an array or object at *p (its opening bracket). */
static int
mj_container(struct mj_doc *d, size_t *p, int depth)
{
	int is_obj = d->text[*p] == '{', self, prev = -1, key, val, k;
	char close = is_obj ? '}' : ']';
	size_t q = *p + 1, ks, kl;

	self = mj_new(d, is_obj ? MJ_OBJECT : MJ_ARRAY, *p);
	if (self < 0)
		goto bad;
	mj_ws(d, &q);
	if (q < d->len && d->text[q] == close) {
		q++;
		goto done;
	}
	for (;;) {
		if (is_obj) {
			mj_ws(d, &q);
			if (q >= d->len || d->text[q] != '"')
				goto bad;
			if (mj_scan_string(d, &q, &ks, &kl) != 0)
				return -1;
			key = mj_new(d, MJ_STRING, ks);
			if (key < 0)
				goto bad;
			d->nodes[key].len = kl;
			/* reject duplicate keys (compared as written) */
			for (k = d->nodes[self].child; k >= 0; k = d->nodes[d->nodes[k].next].next)
				if (mj_same_raw(d, k, key))
					goto bad;
			if (prev < 0)
				d->nodes[self].child = key;
			else
				d->nodes[prev].next = key;
			prev = key;
			mj_ws(d, &q);
			if (q >= d->len || d->text[q] != ':')
				goto bad;
			q++;
		}
		mj_ws(d, &q);
		val = d->n;
		if (mj_value(d, &q, depth + 1) != 0)
			return -1;
		if (prev < 0)
			d->nodes[self].child = val;
		else
			d->nodes[prev].next = val;
		prev = val;
		mj_ws(d, &q);
		if (q >= d->len)
			goto bad;
		if (d->text[q] == close) {
			q++;
			break;
		}
		if (d->text[q] != ',')
			goto bad;
		q++;
	}
done:
	d->nodes[self].len = q - d->nodes[self].start;
	*p = q;
	return 0;
bad:
	d->err_at = q;
	return -1;
}

/* Parse one value at *p (whitespace already skipped). */
static int
mj_value(struct mj_doc *d, size_t *p, int depth)
{
	static const char *const lits[] = { "null", "true", "false" };
	size_t q = *p, start, len, i;
	int node;
	char c;

	if (depth > MJ_MAX_DEPTH || q >= d->len)
		goto bad;
	c = d->text[q];
	if (c == '{' || c == '[')
		return mj_container(d, p, depth);
	if (c == '"') {
		if (mj_scan_string(d, &q, &start, &len) != 0)
			return -1;
		node = mj_new(d, MJ_STRING, start);
		if (node < 0)
			goto bad;
		d->nodes[node].len = len;
		*p = q;
		return 0;
	}
	if (c == '-' || (c >= '0' && c <= '9')) {
		if (mj_scan_number(d, &q) != 0)
			return -1;
		node = mj_new(d, MJ_NUMBER, *p);
		if (node < 0)
			goto bad;
		d->nodes[node].len = q - *p;
		*p = q;
		return 0;
	}
	for (i = 0; i < 3; i++) {
		len = strlen(lits[i]);
		if (d->len - q >= len && memcmp(d->text + q, lits[i], len) == 0) {
			node = mj_new(d, i == 0 ? MJ_NULL : MJ_BOOL, q);
			if (node < 0)
				goto bad;
			d->nodes[node].len = len;
			*p = q + len;
			return 0;
		}
	}
bad:
	d->err_at = q;
	return -1;
}

/* Parse text (len bytes) into d; 0 on success, else -1 with d->err_at set. */
static int
mj_parse(struct mj_doc *d, const char *text, size_t len)
{
	size_t p = 0;

	memset(d, 0, sizeof *d);
	d->text = text;
	d->len = len;
	mj_ws(d, &p);
	if (mj_value(d, &p, 0) != 0)
		return -1;
	mj_ws(d, &p);
	if (p != len) {
		d->err_at = p;
		return -1;
	}
	return 0;
}

/* Release a document's nodes. */
static void
mj_free(struct mj_doc *d)
{
	free(d->nodes);
	d->nodes = NULL;
	d->n = d->cap = 0;
}

/* Append code point cp as UTF-8 to out (room checked by the caller). */
static size_t
mj_put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decode string node idx into a new NUL-terminated buffer (free() it); NULL if
 * idx is not a string, contains \u0000, or memory runs out.  *outlen may be NULL.
 */
static char *
mj_strdup(const struct mj_doc *d, int idx, size_t *outlen)
{
	const char *s;
	size_t i, o = 0, len;
	uint32_t cp;
	char *out;

	if (idx < 0 || idx >= d->n || d->nodes[idx].type != MJ_STRING)
		return NULL;
	s = d->text + d->nodes[idx].start;
	len = d->nodes[idx].len;
	out = malloc(len + 1);   /* decoding never grows the text */
	if (out == NULL)
		return NULL;
	for (i = 0; i < len; ) {
		if (s[i] != '\\') {
			out[o++] = s[i++];
			continue;
		}
		/* escapes were validated by the parser */
		switch (s[i + 1]) {
		case 'b': out[o++] = '\b'; i += 2; break;
		case 'f': out[o++] = '\f'; i += 2; break;
		case 'n': out[o++] = '\n'; i += 2; break;
		case 'r': out[o++] = '\r'; i += 2; break;
		case 't': out[o++] = '\t'; i += 2; break;
		case 'u':
			cp = (uint32_t)mj_hex4(s + i + 2);
			i += 6;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    ((uint32_t)mj_hex4(s + i + 2) - 0xdc00);
				i += 6;
			}
			if (cp == 0) {
				free(out);
				return NULL;
			}
			o += mj_put_utf8(out + o, cp);
			break;
		default:
			out[o++] = s[i + 1];
			i += 2;
			break;
		}
	}
	out[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return out;
}

/* The value of key in object node obj, or -1. */
static int
mj_get(const struct mj_doc *d, int obj, const char *key)
{
	size_t klen = strlen(key);
	int k;

	if (obj < 0 || obj >= d->n || d->nodes[obj].type != MJ_OBJECT)
		return -1;
	for (k = d->nodes[obj].child; k >= 0; k = d->nodes[d->nodes[k].next].next) {
		/* keys with escapes never match: the tests use plain keys */
		if (d->nodes[k].len == klen &&
		    memcmp(d->text + d->nodes[k].start, key, klen) == 0)
			return d->nodes[k].next;
	}
	return -1;
}

/* Number of children of an array node, or -1. */
static int
mj_count(const struct mj_doc *d, int arr)
{
	int c, n = 0;

	if (arr < 0 || arr >= d->n || d->nodes[arr].type != MJ_ARRAY)
		return -1;
	for (c = d->nodes[arr].child; c >= 0; c = d->nodes[c].next)
		n++;
	return n;
}

/* ---- the vector runner ---------------------------------------------------- */

#define MAX_FILE (64u << 20)   /* refuse vector files above 64 MiB */

enum { RES_PASS, RES_FAIL, RES_SKIP };

/* An optional 32-byte key from a vector. */
struct key {
	int     have;
	uint8_t b[NOISE_DHLEN];
};

/* A hex field decoded to bytes. */
struct bytes {
	uint8_t *p;
	size_t   len;
};

/* One message of a vector. */
struct vmsg {
	struct bytes payload, ct;
};

/* One vector entry. */
struct vec {
	char        *name;
	struct bytes iprol, rprol;
	struct key   is, ie, irs, ire, rs, re, rrs, rre;
	int          has_hh;
	uint8_t      hh[NOISE_HASHLEN];
	struct vmsg *msgs;
	int          nmsgs;
};

/* Format a failure reason into why. */
static void
why_set(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* Read a whole file into a new buffer (free() it); NULL on error. */
static char *
read_file(const char *path, size_t *len)
{
	FILE *f;
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0, got;

	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			if (cap >= MAX_FILE)
				goto fail;
			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (nb == NULL)
				goto fail;
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	*len = n;
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

/* Decode a hex string node into b (allocated, may be empty); -1 if malformed. */
static int
get_hex(const struct mj_doc *d, int node, struct bytes *b)
{
	char *s;
	size_t slen, i;
	int hi, lo, rc = -1;

	b->p = NULL;
	b->len = 0;
	s = mj_strdup(d, node, &slen);
	if (s == NULL || slen % 2 != 0)
		goto out;
	b->p = malloc(slen / 2 + 1);
	if (b->p == NULL)
		goto out;
	for (i = 0; i < slen; i += 2) {
		hi = mj_hexval((unsigned char)s[i]);
		lo = mj_hexval((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			goto out;
		b->p[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	b->len = slen / 2;
	rc = 0;
out:
	if (rc != 0) {
		free(b->p);
		b->p = NULL;
	}
	free(s);
	return rc;
}

/* An optional hex field of exactly want bytes; -1 if present but malformed. */
static int
get_fixed(const struct mj_doc *d, int obj, const char *field, uint8_t *out,
          size_t want, int *have)
{
	struct bytes b;
	int node = mj_get(d, obj, field), rc = -1;

	*have = 0;
	if (node < 0)
		return 0;
	if (get_hex(d, node, &b) != 0)
		return -1;
	if (b.len == want) {
		memcpy(out, b.p, want);
		*have = 1;
		rc = 0;
	}
	free(b.p);
	return rc;
}

/* An optional hex field of any length (absent: empty); -1 if malformed. */
static int
get_var(const struct mj_doc *d, int obj, const char *field, struct bytes *b)
{
	int node = mj_get(d, obj, field);

	b->p = NULL;
	b->len = 0;
	if (node < 0)
		return 0;
	return get_hex(d, node, b);
}

/* Free what load_vec allocated. */
static void
free_vec(struct vec *v)
{
	int i;

	free(v->name);
	free(v->iprol.p);
	free(v->rprol.p);
	for (i = 0; i < v->nmsgs; i++) {
		free(v->msgs[i].payload.p);
		free(v->msgs[i].ct.p);
	}
	free(v->msgs);
	memset(v, 0, sizeof *v);
}

/* Load one entry object; -1 with why set if it is malformed. */
static int
load_vec(const struct mj_doc *d, int obj, struct vec *v, char *why, size_t whylen)
{
	static const struct { const char *name; size_t off; } keys[] = {
		{ "init_static",           offsetof(struct vec, is) },
		{ "init_ephemeral",        offsetof(struct vec, ie) },
		{ "init_remote_static",    offsetof(struct vec, irs) },
		{ "init_remote_ephemeral", offsetof(struct vec, ire) },
		{ "resp_static",           offsetof(struct vec, rs) },
		{ "resp_ephemeral",        offsetof(struct vec, re) },
		{ "resp_remote_static",    offsetof(struct vec, rrs) },
		{ "resp_remote_ephemeral", offsetof(struct vec, rre) },
	};
	struct key *k;
	size_t i;
	int arr, m, idx;

	memset(v, 0, sizeof *v);
	if (obj < 0 || d->nodes[obj].type != MJ_OBJECT) {
		why_set(why, whylen, "entry is not an object");
		return -1;
	}
	v->name = mj_strdup(d, mj_get(d, obj, "protocol_name"), NULL);
	if (v->name == NULL) {
		why_set(why, whylen, "no protocol_name string");
		return -1;
	}
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		k = (struct key *)((char *)v + keys[i].off);
		if (get_fixed(d, obj, keys[i].name, k->b, NOISE_DHLEN, &k->have) != 0) {
			why_set(why, whylen, "bad %s", keys[i].name);
			return -1;
		}
	}
	if (get_fixed(d, obj, "handshake_hash", v->hh, NOISE_HASHLEN, &v->has_hh) != 0) {
		why_set(why, whylen, "bad handshake_hash");
		return -1;
	}
	if (get_var(d, obj, "init_prologue", &v->iprol) != 0 ||
	    get_var(d, obj, "resp_prologue", &v->rprol) != 0) {
		why_set(why, whylen, "bad prologue");
		return -1;
	}
	arr = mj_get(d, obj, "messages");
	m = mj_count(d, arr);
	if (m <= 0) {
		why_set(why, whylen, "no messages array");
		return -1;
	}
	v->msgs = calloc((size_t)m, sizeof *v->msgs);
	if (v->msgs == NULL) {
		why_set(why, whylen, "out of memory");
		return -1;
	}
	v->nmsgs = m;
	for (i = 0, idx = d->nodes[arr].child; idx >= 0; i++, idx = d->nodes[idx].next) {
		if (get_hex(d, mj_get(d, idx, "payload"), &v->msgs[i].payload) != 0 ||
		    get_hex(d, mj_get(d, idx, "ciphertext"), &v->msgs[i].ct) != 0) {
			why_set(why, whylen, "bad message %zu", i);
			return -1;
		}
	}
	return 0;
}

/* Whether got (glen bytes) equals the want buffer. */
static int
same(const uint8_t *got, size_t glen, const struct bytes *want)
{
	return glen == want->len && (glen == 0 || memcmp(got, want->p, glen) == 0);
}

/* Run one vector through both sides; RES_PASS, RES_FAIL or RES_SKIP. */
static int
run_vec(const struct vec *v, char *why, size_t whylen)
{
	static uint8_t buf[NOISE_MAX_MSG], pt[NOISE_MAX_MSG];
	struct noise_hs hi, hr, *w, *r;
	struct noise_cs isend, irecv, rsend, rrecv, *cw, *cr;
	uint8_t hhi[NOISE_HASHLEN], hhr[NOISE_HASHLEN];
	const struct vmsg *m;
	size_t len, plen;
	int rc, i, res = RES_FAIL;

	memset(&hi, 0, sizeof hi);
	memset(&hr, 0, sizeof hr);
	memset(&isend, 0, sizeof isend);
	memset(&irecv, 0, sizeof irecv);
	memset(&rsend, 0, sizeof rsend);
	memset(&rrecv, 0, sizeof rrecv);

	rc = noise_hs_init(&hi, v->name, 1, v->iprol.p, v->iprol.len,
	                   v->is.have ? v->is.b : NULL, v->ie.have ? v->ie.b : NULL,
	                   v->irs.have ? v->irs.b : NULL, v->ire.have ? v->ire.b : NULL);
	if (rc == NOISE_EUNSUP) {
		res = RES_SKIP;
		goto out;
	}
	if (rc != NOISE_OK) {
		why_set(why, whylen, "initiator init: %s", noise_strerror(rc));
		goto out;
	}
	rc = noise_hs_init(&hr, v->name, 0, v->rprol.p, v->rprol.len,
	                   v->rs.have ? v->rs.b : NULL, v->re.have ? v->re.b : NULL,
	                   v->rrs.have ? v->rrs.b : NULL, v->rre.have ? v->rre.b : NULL);
	if (rc != NOISE_OK) {
		why_set(why, whylen, "responder init: %s", noise_strerror(rc));
		goto out;
	}

	/* handshake */
	for (i = 0; noise_hs_action(&hi) != NOISE_ACTION_SPLIT ||
	            noise_hs_action(&hr) != NOISE_ACTION_SPLIT; i++) {
		if (i >= v->nmsgs) {
			why_set(why, whylen, "vector ends during the handshake");
			goto out;
		}
		if (noise_hs_action(&hi) == NOISE_ACTION_WRITE &&
		    noise_hs_action(&hr) == NOISE_ACTION_READ) {
			w = &hi;
			r = &hr;
		} else if (noise_hs_action(&hr) == NOISE_ACTION_WRITE &&
		           noise_hs_action(&hi) == NOISE_ACTION_READ) {
			w = &hr;
			r = &hi;
		} else {
			why_set(why, whylen, "message %d: sides disagree on who writes", i);
			goto out;
		}
		m = &v->msgs[i];
		rc = noise_hs_write(w, m->payload.p, m->payload.len, buf, sizeof buf, &len);
		if (rc != NOISE_OK) {
			why_set(why, whylen, "message %d: write: %s", i, noise_strerror(rc));
			goto out;
		}
		if (!same(buf, len, &m->ct)) {
			why_set(why, whylen, "message %d: handshake ciphertext mismatch", i);
			goto out;
		}
		rc = noise_hs_read(r, m->ct.p, m->ct.len, pt, sizeof pt, &plen);
		if (rc != NOISE_OK) {
			why_set(why, whylen, "message %d: read: %s", i, noise_strerror(rc));
			goto out;
		}
		if (!same(pt, plen, &m->payload)) {
			why_set(why, whylen, "message %d: handshake payload mismatch", i);
			goto out;
		}
	}

	noise_hs_hash(&hi, hhi);
	noise_hs_hash(&hr, hhr);
	if (memcmp(hhi, hhr, sizeof hhi) != 0) {
		why_set(why, whylen, "handshake hashes differ between the sides");
		goto out;
	}
	if (v->has_hh && memcmp(hhi, v->hh, sizeof hhi) != 0) {
		why_set(why, whylen, "handshake_hash mismatch");
		goto out;
	}
	if ((rc = noise_hs_split(&hi, &isend, &irecv)) != NOISE_OK ||
	    (rc = noise_hs_split(&hr, &rsend, &rrecv)) != NOISE_OK) {
		why_set(why, whylen, "split: %s", noise_strerror(rc));
		goto out;
	}

	/*
	 * transport: directions keep alternating from the handshake (message i
	 * is the initiator's when i is even), or all initiator -> responder
	 */
	for (; i < v->nmsgs; i++) {
		m = &v->msgs[i];
		if (hi.oneway || i % 2 == 0) {
			cw = &isend;
			cr = &rrecv;
		} else {
			cw = &rsend;
			cr = &irecv;
		}
		if (m->payload.len > sizeof buf - NOISE_TAGLEN) {
			why_set(why, whylen, "message %d: payload too large", i);
			goto out;
		}
		rc = noise_cs_encrypt(cw, NULL, 0, m->payload.p, m->payload.len, buf);
		if (rc != NOISE_OK) {
			why_set(why, whylen, "message %d: encrypt: %s", i, noise_strerror(rc));
			goto out;
		}
		if (!same(buf, m->payload.len + NOISE_TAGLEN, &m->ct)) {
			why_set(why, whylen, "message %d: transport ciphertext mismatch", i);
			goto out;
		}
		if (m->ct.len < NOISE_TAGLEN) {
			why_set(why, whylen, "message %d: ciphertext shorter than a tag", i);
			goto out;
		}
		rc = noise_cs_decrypt(cr, NULL, 0, m->ct.p, m->ct.len, pt);
		if (rc != NOISE_OK) {
			why_set(why, whylen, "message %d: decrypt: %s", i, noise_strerror(rc));
			goto out;
		}
		if (!same(pt, m->ct.len - NOISE_TAGLEN, &m->payload)) {
			why_set(why, whylen, "message %d: transport payload mismatch", i);
			goto out;
		}
	}
	res = RES_PASS;
out:
	noise_hs_wipe(&hi);
	noise_hs_wipe(&hr);
	noise_cs_wipe(&isend);
	noise_cs_wipe(&irecv);
	noise_cs_wipe(&rsend);
	noise_cs_wipe(&rrecv);
	return res;
}

/* Entry point: noise_vectors [--aesgcm=libsodium|libcrypto] FILE. */
int
main(int argc, char **argv)
{
	struct mj_doc doc;
	struct vec v;
	char *text = NULL, why[256];
	size_t len = 0;
	int root, arr, idx, n = 0, passed = 0, failed = 0, skipped = 0, res, entry;

	memset(&doc, 0, sizeof doc);
	if (noise_global_init() != 0) {
		fprintf(stderr, "noise_vectors: libsodium failed to initialise\n");
		return 1;
	}
	if (argc == 3 && strcmp(argv[1], "--aesgcm=libsodium") == 0) {
		noise_aesgcm_use_libcrypto(0);
		argv++, argc--;
	} else if (argc == 3 && strcmp(argv[1], "--aesgcm=libcrypto") == 0) {
		if (noise_aesgcm_use_libcrypto(1) != 0) {
			fprintf(stderr, "noise_vectors: built without libcrypto\n");
			return 2;
		}
		argv++, argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: %s [--aesgcm=libsodium|libcrypto] FILE\n", argv[0]);
		return 2;
	}
	printf("# AESGCM %s, run by %s\n", noise_aesgcm_available() ?
	       "available (hardware AES)" : "not available: AESGCM entries skipped",
	       noise_aesgcm_impl());

	text = read_file(argv[1], &len);
	if (text == NULL) {
		printf("not ok 1 - %s: cannot read: %s\n", argv[1], strerror(errno));
		n = failed = 1;
		goto done;
	}
	if (mj_parse(&doc, text, len) != 0) {
		printf("not ok 1 - %s: JSON error at byte %zu\n", argv[1], doc.err_at);
		n = failed = 1;
		goto done;
	}
	root = 0;
	arr = mj_get(&doc, root, "vectors");
	if (mj_count(&doc, arr) < 0) {
		printf("not ok 1 - %s: no \"vectors\" array\n", argv[1]);
		n = failed = 1;
		goto done;
	}

	entry = 0;
	for (idx = doc.nodes[arr].child; idx >= 0; idx = doc.nodes[idx].next, entry++) {
		why[0] = '\0';
		if (load_vec(&doc, idx, &v, why, sizeof why) != 0) {
			n++;
			failed++;
			printf("not ok %d - entry %d%s%s: %s\n", n, entry, v.name ? " " : "",
			       v.name ? v.name : "", why);
			free_vec(&v);
			continue;
		}
		res = run_vec(&v, why, sizeof why);
		if (res == RES_SKIP) {
			skipped++;
		} else if (res == RES_PASS) {
			n++;
			passed++;
			printf("ok %d - %s\n", n, v.name);
		} else {
			n++;
			failed++;
			printf("not ok %d - %s: %s\n", n, v.name, why);
		}
		free_vec(&v);
	}
done:
	printf("1..%d\n", n);
	printf("# skipped %d unsupported\n", skipped);
	printf("%d passed, %d failed\n", passed, failed);
	mj_free(&doc);
	free(text);
	return failed > 0 || passed == 0 ? 1 : 0;
}
