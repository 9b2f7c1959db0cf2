/* torctl.c - Tor control-port client: reply parser and one controller connection. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "log.h"
#include "torctl.h"

#define COOKIE_LEN   32
#define NONCE_LEN    32
#define OUT_MAX      4096
#define IN_MAX       (2 * TORCTL_REPLY_MAX)
#define POLL_MS      1000    /* bootstrap progress asked this often until 100 % */

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* --- the reply parser ------------------------------------------------------ */

/* Set err; returns -1. */
static int
perr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int
perr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * The line at in[0..len): its length before CRLF in *ll; 1 if complete, 0 if
 * more bytes are needed, -1 if malformed.
 */
static int
next_line(const char *in, size_t len, size_t *ll, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch == '\r') {
			if (i + 1 == len)
				return 0;
			if (in[i + 1] != '\n')
				return perr(err, errlen, "a CR without LF in a reply");
			*ll = i;
			return 1;
		}
		if (i >= TORCTL_LINE_MAX)
			return perr(err, errlen, "a reply line longer than %d bytes", TORCTL_LINE_MAX);
		if (ch == '\n')
			return perr(err, errlen, "a reply line ends without CR");
		if ((ch < 0x20 && ch != '\t') || ch > 0x7e)
			return perr(err, errlen, "a reply holds a byte 0x%02x", ch);
	}
	return len > TORCTL_LINE_MAX ? perr(err, errlen, "a reply line longer than %d bytes", TORCTL_LINE_MAX) : 0;
}

/* Append n bytes to the reply's text; -1 if it is full. */
static int
text_add(struct torctl_reply *r, size_t *tl, const char *p, size_t n)
{
	if (n >= sizeof r->text - *tl)
		return -1;
	memcpy(r->text + *tl, p, n);
	*tl += n;
	r->text[*tl] = '\0';
	return 0;
}

/* Parse one reply. */
int
torctl_parse(const char *in, size_t len, struct torctl_reply *r, size_t *used, char *err, size_t errlen)
{
	size_t pos = 0, ll, tl = 0, i;
	int rc, code;
	char sep;

	r->n = 0;
	r->code = 0;
	r->text[0] = '\0';
	*used = 0;
	for (;;) {
		if ((rc = next_line(in + pos, len - pos, &ll, err, errlen)) != 1)
			return rc;
		if (ll < 4)
			return perr(err, errlen, "a reply line of %zu bytes", ll);
		for (i = 0; i < 3; i++)
			if (in[pos + i] < '0' || in[pos + i] > '9')
				return perr(err, errlen, "a reply line without a status code");
		code = (in[pos] - '0') * 100 + (in[pos + 1] - '0') * 10 + (in[pos + 2] - '0');
		if (code < 200 || code > 699)
			return perr(err, errlen, "status code %d", code);
		if (r->n > 0 && code != r->code)
			return perr(err, errlen, "status %d within a reply of status %d", code, r->code);
		sep = in[pos + 3];
		if (sep != ' ' && sep != '-' && sep != '+')
			return perr(err, errlen, "a reply line with '%c' after its code", sep);
		if (r->n == TORCTL_LINES_MAX)
			return perr(err, errlen, "a reply of more than %d lines", TORCTL_LINES_MAX);
		r->code = code;
		if (tl > 0)
			tl++;   /* past the previous line's NUL */
		r->line[r->n++] = r->text + tl;
		if (text_add(r, &tl, in + pos + 4, ll - 4) == -1)
			return perr(err, errlen, "a reply longer than %d bytes", TORCTL_REPLY_MAX);
		pos += ll + 2;
		if (sep == '+') {
			/* a data block: lines up to ".", a leading ".." stands for "." */
			for (;;) {
				if ((rc = next_line(in + pos, len - pos, &ll, err, errlen)) != 1)
					return rc;
				if (ll == 1 && in[pos] == '.') {
					pos += 3;
					break;
				}
				i = ll >= 2 && in[pos] == '.' && in[pos + 1] == '.' ? 1 : 0;
				if (text_add(r, &tl, "\n", 1) == -1 || text_add(r, &tl, in + pos + i, ll - i) == -1)
					return perr(err, errlen, "a reply longer than %d bytes", TORCTL_REPLY_MAX);
				pos += ll + 2;
			}
		}
		if (sep == ' ')
			break;
	}
	*used = pos;
	return 1;
}

/* Find KEY=VALUE in line. */
int
torctl_kv(const char *line, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key), n = 0;
	const char *p = line;

	if (outlen == 0)
		return -1;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			p += kl + 1;
			if (*p != '"') {
				while (*p != '\0' && *p != ' ') {
					if (n + 1 >= outlen)
						return -1;
					out[n++] = *p++;
				}
				out[n] = '\0';
				return 1;
			}
			for (p++; *p != '"'; p++) {
				char ch = *p;

				if (ch == '\0')
					return -1;   /* unterminated */
				if (ch == '\\') {
					ch = *++p;
					if (ch == 'n')
						ch = '\n';
					else if (ch == 't')
						ch = '\t';
					else if (ch == 'r')
						ch = '\r';
					else if (ch != '\\' && ch != '"')
						return -1;
				}
				if (n + 1 >= outlen)
					return -1;
				out[n++] = ch;
			}
			out[n] = '\0';
			return 1;
		}
		/* skip this word, quoted strings whole */
		while (*p != '\0' && *p != ' ') {
			if (*p == '"') {
				for (p++; *p != '\0' && *p != '"'; p++)
					if (*p == '\\' && p[1] != '\0')
						p++;
				if (*p == '\0')
					return 0;
			}
			p++;
		}
	}
	return 0;
}

/* Whether s[0..len) is a v3 service id. */
int
torctl_id_ok(const char *s, size_t len)
{
	size_t i;

	if (len != TORCTL_ID_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (strchr(b32, s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}

/* Whether host is ID.onion[:PORT]. */
int
torctl_onion_name(const char *host, char id[TORCTL_ID_LEN + 1])
{
	size_t i;

	if (strlen(host) < TORCTL_ID_LEN + 6 || strncasecmp(host + TORCTL_ID_LEN, ".onion", 6) != 0 ||
	    (host[TORCTL_ID_LEN + 6] != '\0' && host[TORCTL_ID_LEN + 6] != ':'))
		return 0;
	for (i = 0; i < TORCTL_ID_LEN; i++) {
		char ch = host[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		id[i] = ch;
	}
	id[TORCTL_ID_LEN] = '\0';
	return torctl_id_ok(id, TORCTL_ID_LEN);
}

/* --- the controller connection ------------------------------------------- */

enum step {
	ST_CONNECT = 1, ST_PROTOINFO, ST_CHALLENGE, ST_AUTH, ST_OWN, ST_EVENTS, ST_INFO, ST_ADD,
	ST_IDLE, ST_BOOT, ST_NEWNYM,
};

struct torctl {
	struct loop      *loop;
	struct torctl_conf conf;
	torctl_cb         cb;
	void             *arg;
	int               fd;
	enum torctl_state st;
	enum step         step;
	struct buf        in, out;
	struct loop_timer timer;
	int               boot;                 /* percent, -1 unknown */
	char              id[TORCTL_ID_LEN + 1];
	char              socks[SOCK_ADDRSTRLEN];
	char              newkey[TORCTL_KEY_MAX];
	char              err[TORCTL_ERR_MAX];
	uint8_t           cookie[COOKIE_LEN];
	uint8_t           nonce[NONCE_LEN];
	int               newnym;               /* SIGNAL NEWNYM asked for, not sent yet */
	unsigned          newnyms;              /* SIGNAL NEWNYM answered 250 */
	struct torctl_reply rep;
};

/* Tell the owner. */
static void
changed(struct torctl *t)
{
	if (t->cb != NULL)
		t->cb(t, t->arg);
}

/* Give up: close the connection, keep the reason. */
static void
tc_fail(struct torctl *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
tc_fail(struct torctl *t, const char *fmt, ...)
{
	va_list ap;

	if (t->st == TC_FAILED)
		return;
	va_start(ap, fmt);
	vsnprintf(t->err, sizeof t->err, fmt, ap);
	va_end(ap);
	log_warn("tor control %s: %s", t->conf.control, t->err);
	t->st = TC_FAILED;
	loop_timer_del(t->loop, &t->timer);
	if (t->fd != -1) {
		loop_fd_del(t->loop, t->fd);
		close(t->fd);
		t->fd = -1;
	}
	sodium_memzero(t->cookie, sizeof t->cookie);
	changed(t);
}

/* Queue one command line (CRLF added) and ask to write. */
static int
send_line(struct torctl *t, enum step next, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int
send_line(struct torctl *t, enum step next, const char *fmt, ...)
{
	char line[OUT_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line - 2 || buf_put(&t->out, line, (size_t)n) != BUF_OK ||
	    buf_put(&t->out, "\r\n", 2) != BUF_OK) {
		sodium_memzero(line, sizeof line);
		tc_fail(t, "a command does not fit");
		return -1;
	}
	sodium_memzero(line, sizeof line);
	t->step = next;
	loop_fd_events(t->loop, t->fd, POLLIN | POLLOUT);
	return 0;
}

/* Read the authentication cookie file; 0 or -1 (t failed). */
static int
read_cookie(struct torctl *t, const char *path)
{
	uint8_t extra;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		tc_fail(t, "cannot read tor's cookie file %s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, t->cookie, sizeof t->cookie);
	if (n == (ssize_t)sizeof t->cookie && read(fd, &extra, 1) == 0) {
		close(fd);
		return 0;
	}
	close(fd);
	tc_fail(t, "tor's cookie file %s is not %d bytes", path, COOKIE_LEN);
	return -1;
}

/* PROTOCOLINFO answered: pick a way to log in. */
static void
got_protoinfo(struct torctl *t, const struct torctl_reply *r)
{
	char methods[256] = "", cookie[PATH_MAX] = "", hex[2 * COOKIE_LEN + 1];
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strncmp(r->line[i], "AUTH ", 5) == 0) {
			if (torctl_kv(r->line[i] + 5, "METHODS", methods, sizeof methods) == -1 ||
			    torctl_kv(r->line[i] + 5, "COOKIEFILE", cookie, sizeof cookie) == -1) {
				tc_fail(t, "tor's PROTOCOLINFO answer is malformed");
				return;
			}
		}
	/* as a list: ",NULL,COOKIE," */
	{
		char list[260];

		snprintf(list, sizeof list, ",%s,", methods);
		if (t->conf.password[0] != '\0' && strstr(list, ",HASHEDPASSWORD,") != NULL) {
			char q[2 * TORCTL_PASS_MAX + 3];
			size_t n = 0;

			q[n++] = '"';
			for (i = 0; t->conf.password[i] != '\0'; i++) {
				if (t->conf.password[i] == '"' || t->conf.password[i] == '\\')
					q[n++] = '\\';
				q[n++] = t->conf.password[i];
			}
			q[n++] = '"';
			q[n] = '\0';
			send_line(t, ST_AUTH, "AUTHENTICATE %s", q);
			sodium_memzero(q, sizeof q);
		} else if (strstr(list, ",SAFECOOKIE,") != NULL && cookie[0] != '\0') {
			if (read_cookie(t, cookie) == -1)
				return;
			randombytes_buf(t->nonce, sizeof t->nonce);
			sodium_bin2hex(hex, sizeof hex, t->nonce, sizeof t->nonce);
			send_line(t, ST_CHALLENGE, "AUTHCHALLENGE SAFECOOKIE %s", hex);
		} else if (strstr(list, ",COOKIE,") != NULL && cookie[0] != '\0') {
			if (read_cookie(t, cookie) == -1)
				return;
			sodium_bin2hex(hex, sizeof hex, t->cookie, sizeof t->cookie);
			send_line(t, ST_AUTH, "AUTHENTICATE %s", hex);
			sodium_memzero(hex, sizeof hex);
		} else if (strstr(list, ",NULL,") != NULL) {
			send_line(t, ST_AUTH, "AUTHENTICATE");
		} else if (strstr(list, ",HASHEDPASSWORD,") != NULL) {
			tc_fail(t, "tor asks for a password (--tor-password)");
		} else {
			tc_fail(t, "tor offers no way to log in that confab knows (%s)", methods);
		}
	}
}

/* HMAC-SHA256 of cookie | client nonce | server nonce under a label. */
static void
safecookie_hash(const struct torctl *t, const char *label, const uint8_t *snonce, uint8_t out[32])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, (const uint8_t *)label, strlen(label));
	crypto_auth_hmacsha256_update(&st, t->cookie, sizeof t->cookie);
	crypto_auth_hmacsha256_update(&st, t->nonce, sizeof t->nonce);
	crypto_auth_hmacsha256_update(&st, snonce, NONCE_LEN);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof st);
}

/* AUTHCHALLENGE answered: check tor knows the cookie, prove we do. */
static void
got_challenge(struct torctl *t, const struct torctl_reply *r)
{
	char sh[80], sn[80], hex[65];
	uint8_t shash[32], snonce[NONCE_LEN], want[32];
	size_t n1 = 0, n2 = 0;

	if (r->n != 1 || strncmp(r->line[0], "AUTHCHALLENGE ", 14) != 0 ||
	    torctl_kv(r->line[0] + 14, "SERVERHASH", sh, sizeof sh) != 1 ||
	    torctl_kv(r->line[0] + 14, "SERVERNONCE", sn, sizeof sn) != 1 ||
	    sodium_hex2bin(shash, sizeof shash, sh, strlen(sh), NULL, &n1, NULL) != 0 || n1 != sizeof shash ||
	    sodium_hex2bin(snonce, sizeof snonce, sn, strlen(sn), NULL, &n2, NULL) != 0 || n2 != sizeof snonce) {
		tc_fail(t, "tor's AUTHCHALLENGE answer is malformed");
		return;
	}
	safecookie_hash(t, "Tor safe cookie authentication server-to-controller hash", snonce, want);
	if (sodium_memcmp(want, shash, sizeof want) != 0) {
		tc_fail(t, "tor does not know its own cookie (another program on that port?)");
		return;
	}
	safecookie_hash(t, "Tor safe cookie authentication controller-to-server hash", snonce, want);
	sodium_bin2hex(hex, sizeof hex, want, sizeof want);
	sodium_memzero(t->cookie, sizeof t->cookie);
	send_line(t, ST_AUTH, "AUTHENTICATE %s", hex);
}

/* Ask for the SOCKS listeners and the bootstrap progress. */
static void
ask_info(struct torctl *t, enum step next)
{
	send_line(t, next, "GETINFO net/listeners/socks status/bootstrap-phase");
}

/* The answer to GETINFO: listeners and progress. */
static int
got_info(struct torctl *t, const struct torctl_reply *r)
{
	char v[32];
	size_t i;
	int old = t->boot;

	for (i = 0; i < r->n; i++) {
		const char *l = r->line[i];

		if (strncmp(l, "net/listeners/socks=", 20) == 0) {
			const char *p = l + 20;

			t->socks[0] = '\0';
			/* a list of quoted addresses: the first TCP one */
			while (*p == '"') {
				const char *e = strchr(p + 1, '"');
				struct sockaddr_storage ss;
				socklen_t sl;
				char a[SOCK_ADDRSTRLEN];

				if (e == NULL || (size_t)(e - p - 1) >= sizeof a)
					break;
				memcpy(a, p + 1, (size_t)(e - p - 1));
				a[e - p - 1] = '\0';
				if (sock_parse(a, 0, &ss, &sl) == 0) {
					snprintf(t->socks, sizeof t->socks, "%s", a);
					break;
				}
				p = e + 1;
				while (*p == ' ')
					p++;
			}
		} else if (strncmp(l, "status/bootstrap-phase=", 23) == 0) {
			if (torctl_kv(l + 23, "PROGRESS", v, sizeof v) == 1 && strlen(v) <= 3 &&
			    strspn(v, "0123456789") == strlen(v) && atoi(v) <= 100)
				t->boot = atoi(v);
		}
	}
	return t->boot != old;
}

/* ADD_ONION answered: our id, and a new key to keep. */
static void
got_added(struct torctl *t, const struct torctl_reply *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const char *l = r->line[i];

		if (strncmp(l, "ServiceID=", 10) == 0) {
			if (!torctl_id_ok(l + 10, strlen(l + 10))) {
				tc_fail(t, "tor answered ADD_ONION with a malformed service id");
				return;
			}
			memcpy(t->id, l + 10, TORCTL_ID_LEN + 1);
		} else if (strncmp(l, "PrivateKey=", 11) == 0) {
			const char *k = l + 11;

			if (strncmp(k, "ED25519-V3:", 11) != 0 || strlen(k) >= sizeof t->newkey || strlen(k) < 12 ||
			    strspn(k + 11, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
			    strlen(k + 11)) {
				tc_fail(t, "tor answered ADD_ONION with a malformed key");
				return;
			}
			snprintf(t->newkey, sizeof t->newkey, "%s", k);
		}
	}
	if (t->id[0] == '\0') {
		tc_fail(t, "tor answered ADD_ONION without a service id");
		return;
	}
	log_info("tor: onion service %s.onion:%u added, waiting for its descriptor to be published",
	    t->id, t->conf.port);
	changed(t);
}

/* An asynchronous event: HS_DESC UPLOADED for our service means reachable. */
static void
got_event(struct torctl *t, const struct torctl_reply *r)
{
	char ev[16], act[16], id[TORCTL_ID_LEN + 2];

	if (r->n < 1 || sscanf(r->line[0], "%15s %15s %57s", ev, act, id) != 3)
		return;
	if (strcmp(ev, "HS_DESC") != 0 || strcmp(id, t->id) != 0 || t->id[0] == '\0')
		return;
	if (strcmp(act, "UPLOADED") == 0 && t->st == TC_STARTING) {
		log_info("tor: onion service %s.onion published", t->id);
		t->st = TC_PUBLISHED;
		changed(t);
	} else if (strcmp(act, "FAILED") == 0) {
		log_debug("tor: a descriptor upload failed (tor tries again)");
	}
}

/*
 * Idle again: send what was asked for meanwhile (SIGNAL NEWNYM), else poll
 * the bootstrap progress until 100 %.
 */
static void
went_idle(struct torctl *t)
{
	t->step = ST_IDLE;
	if (t->newnym) {
		t->newnym = 0;
		send_line(t, ST_NEWNYM, "SIGNAL NEWNYM");
		return;
	}
	if (t->boot != 100)
		loop_timer_set(t->loop, &t->timer, POLL_MS);
}

/* SIGNAL NEWNYM answered: a refusal is logged, the connection (and the service) stays. */
static void
got_newnym(struct torctl *t, const struct torctl_reply *r)
{
	if (r->code == 250) {
		t->newnyms++;
		log_info("tor: NEWNYM done: tor forgot the onion descriptors, introduction failures and "
		    "circuits it had for the services it calls");
	} else {
		log_warn("tor refused SIGNAL NEWNYM: %d %s", r->code, r->n > 0 ? r->line[0] : "");
	}
	went_idle(t);
}

/* A reply to the command we sent last. */
static void
got_reply(struct torctl *t, const struct torctl_reply *r)
{
	if (r->code >= 600) {
		got_event(t, r);
		return;
	}
	if (t->step == ST_NEWNYM) {
		got_newnym(t, r);
		return;
	}
	if (r->code != 250) {
		const char *what = t->step == ST_AUTH || t->step == ST_CHALLENGE ? "logging in" :
		    t->step == ST_ADD ? "ADD_ONION" : t->step == ST_OWN ? "TAKEOWNERSHIP" : "a command";

		tc_fail(t, "tor refused %s: %d %s", what, r->code, r->n > 0 ? r->line[0] : "");
		return;
	}
	switch (t->step) {
	case ST_PROTOINFO:
		got_protoinfo(t, r);
		break;
	case ST_CHALLENGE:
		got_challenge(t, r);
		break;
	case ST_AUTH:
		log_info("tor: logged in to the control port %s", t->conf.control);
		t->st = TC_STARTING;
		if (t->conf.own)
			send_line(t, ST_OWN, "TAKEOWNERSHIP");
		else
			send_line(t, ST_EVENTS, "SETEVENTS HS_DESC");
		changed(t);
		break;
	case ST_OWN:
		send_line(t, ST_EVENTS, "SETEVENTS HS_DESC");
		break;
	case ST_EVENTS:
		ask_info(t, ST_INFO);
		break;
	case ST_INFO:
		got_info(t, r);
		if (t->conf.key[0] != '\0')
			send_line(t, ST_ADD, "ADD_ONION %s Port=%u,%s", t->conf.key, t->conf.port, t->conf.target);
		else
			send_line(t, ST_ADD, "ADD_ONION NEW:ED25519-V3 Port=%u,%s", t->conf.port, t->conf.target);
		break;
	case ST_ADD:
		t->step = ST_IDLE;
		got_added(t, r);
		if (t->st != TC_FAILED)
			went_idle(t);
		break;
	case ST_BOOT:
		t->step = ST_IDLE;
		if (got_info(t, r))
			changed(t);
		if (t->st != TC_FAILED)
			went_idle(t);
		break;
	default:
		tc_fail(t, "tor sent a reply nobody asked for");
		break;
	}
}

/* Timer: the connect and log-in deadline, then the bootstrap poll. */
static void
on_timer(struct loop *loop, struct loop_timer *tm, void *arg)
{
	struct torctl *t = arg;

	(void)loop;
	(void)tm;
	if (t->st == TC_CONNECTING) {
		tc_fail(t, "no answer from tor's control port in %d s", TORCTL_TIMEOUT_MS / 1000);
		return;
	}
	if (t->step == ST_IDLE && t->st != TC_FAILED)
		ask_info(t, ST_BOOT);
}

/* The control socket is readable or writable. */
static void
on_io(struct loop *loop, int fd, int revents, void *arg)
{
	struct torctl *t = arg;
	char err[200];
	uint8_t *p;
	ssize_t n;
	size_t used;
	int rc;

	(void)loop;
	if (t->step == ST_CONNECT && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		int e = sock_connect_result(fd);

		if (e != 0) {
			tc_fail(t, "cannot connect to tor's control port: %s", strerror(e));
			return;
		}
		send_line(t, ST_PROTOINFO, "PROTOCOLINFO 1");
	}
	if ((revents & POLLOUT) && buf_len(&t->out) > 0) {
		n = write(fd, buf_ptr(&t->out), buf_len(&t->out));
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			tc_fail(t, "writing to tor's control port: %s", strerror(errno));
			return;
		}
		if (n > 0)
			buf_consume(&t->out, (size_t)n);
		if (buf_len(&t->out) == 0) {
			buf_reset(&t->out);   /* wipes nothing, but the passwords went out */
			loop_fd_events(loop, fd, POLLIN);
		}
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	buf_compact(&t->in);
	if (buf_reserve(&t->in, 4096, &p) != BUF_OK) {
		tc_fail(t, "tor sent more than %d bytes without a complete reply", IN_MAX);
		return;
	}
	n = read(fd, p, 4096);
	if (n == 0 || (n < 0 && errno == ECONNRESET)) {
		tc_fail(t, "tor closed the control connection");
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			tc_fail(t, "reading tor's control port: %s", strerror(errno));
		return;
	}
	buf_commit(&t->in, (size_t)n);
	while (t->st != TC_FAILED && buf_len(&t->in) > 0) {
		rc = torctl_parse((const char *)buf_ptr(&t->in), buf_len(&t->in), &t->rep, &used, err, sizeof err);
		if (rc == 0)
			break;
		if (rc == -1) {
			tc_fail(t, "tor's control port sent something malformed: %s", err);
			return;
		}
		buf_consume(&t->in, used);
		got_reply(t, &t->rep);
	}
}

/* Connect to "ADDR:PORT" or "unix:PATH"; a non-blocking fd or -1. */
static int
control_connect(const char *where)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	if (strncmp(where, "unix:", 5) == 0) {
		struct sockaddr_un un;
		int fd;

		memset(&un, 0, sizeof un);
		un.sun_family = AF_UNIX;
		if (strlen(where + 5) >= sizeof un.sun_path || where[5] == '\0') {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(un.sun_path, where + 5, strlen(where + 5));
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
			return -1;
		if (connect(fd, (struct sockaddr *)&un, sizeof un) == -1 && errno != EINPROGRESS &&
		    errno != EAGAIN) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		return fd;
	}
	if (sock_parse(where, 0, &ss, &sl) == -1) {
		errno = EINVAL;
		return -1;
	}
	return sock_connect((struct sockaddr *)&ss, sl);
}

/* Start a controller connection. */
struct torctl *
torctl_new(struct loop *loop, const struct torctl_conf *conf, torctl_cb cb, void *arg)
{
	struct torctl *t;

	if ((t = calloc(1, sizeof *t)) == NULL)
		return NULL;
	t->loop = loop;
	t->conf = *conf;
	t->cb = cb;
	t->arg = arg;
	t->boot = -1;
	t->st = TC_CONNECTING;
	t->step = ST_CONNECT;
	buf_init(&t->in, IN_MAX);
	buf_init(&t->out, OUT_MAX * 2);
	loop_timer_init(&t->timer, on_timer, t);
	if ((t->fd = control_connect(conf->control)) == -1 ||
	    loop_fd_add(loop, t->fd, POLLOUT, on_io, t) == -1) {
		int e = errno;

		if (t->fd != -1)
			close(t->fd);
		buf_free(&t->in);
		buf_free(&t->out);
		sodium_memzero(t, sizeof *t);
		free(t);
		errno = e;
		return NULL;
	}
	loop_timer_set(loop, &t->timer, TORCTL_TIMEOUT_MS);
	return t;
}

/* Close and free. */
void
torctl_free(struct torctl *t)
{
	if (t == NULL)
		return;
	loop_timer_del(t->loop, &t->timer);
	if (t->fd != -1) {
		loop_fd_del(t->loop, t->fd);
		close(t->fd);
	}
	buf_free(&t->in);
	buf_free(&t->out);
	sodium_memzero(t, sizeof *t);
	free(t);
}

/* Ask tor to forget its client-side onion state (SIGNAL NEWNYM), as soon as no other command is out. */
void
torctl_newnym(struct torctl *t)
{
	if (t->st == TC_FAILED)
		return;
	t->newnym = 1;
	if (t->step == ST_IDLE) {
		loop_timer_del(t->loop, &t->timer);
		went_idle(t);
	}
}

enum torctl_state torctl_state(const struct torctl *t) { return t->st; }
unsigned torctl_newnyms(const struct torctl *t) { return t->newnyms; }
const char *torctl_error(const struct torctl *t) { return t->err; }
int torctl_bootstrap(const struct torctl *t) { return t->boot; }
const char *torctl_id(const struct torctl *t) { return t->id; }
const char *torctl_socks(const struct torctl *t) { return t->socks; }
const char *torctl_new_key(const struct torctl *t) { return t->newkey[0] != '\0' ? t->newkey : NULL; }
void torctl_key_taken(struct torctl *t) { sodium_memzero(t->newkey, sizeof t->newkey); }
