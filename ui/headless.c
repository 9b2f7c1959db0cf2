/* headless.c - the JSON Lines front-end: commands on stdin, events on stdout. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"          /* the stdin and stdout buffers */
#include "cmd.h"
#include "headless.h"
#include "json.h"
#include "text.h"
#include "log.h"
#include "loop.h"         /* stdin, stdout and signals */
#include "main.h"         /* exit statuses */
#include "reach_view.h"   /* nat and invite events */
#include "rooms.h"        /* room events */
#include "transfer.h"

#define IN_LINE_MAX   (64 * 1024)
#define OUT_MAX       (16 * 1024 * 1024)
#define EVENT_MAX     (256 * 1024)          /* one event line */
#define OFFER_FILES_JSON (192 * 1024)       /* an offer's "files": the rest is "more" */

struct headless {
	struct core  core;
	struct loop *loop;
	struct buf   in;
	struct buf   out;
	int          out_nb;      /* stdout is non-blocking (not a tty) */
	int          out_polling;
	int          discarding;  /* skipping the rest of an over-long line */
	int          eof;
	struct loop_timer idle;   /* --exit-when-idle: checks after the end of input */
	uint64_t     idle_deadline;
};

static void out_writable(struct loop *, int, int, void *);

/* Write as much of the output buffer as stdout takes now. */
static void
out_flush(struct headless *h)
{
	ssize_t w;

	while (buf_len(&h->out) > 0) {
		w = write(STDOUT_FILENO, buf_ptr(&h->out), buf_len(&h->out));
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* nobody reads our events any more */
			buf_reset(&h->out);
			if (!h->core.quitting)
				core_quit(&h->core, 1);
			return;
		}
		buf_consume(&h->out, (size_t)w);
	}
	if (buf_len(&h->out) > 0 && !h->out_polling) {
		loop_fd_add(h->loop, STDOUT_FILENO, POLLOUT, out_writable, h);
		h->out_polling = 1;
	} else if (buf_len(&h->out) == 0 && h->out_polling) {
		loop_fd_del(h->loop, STDOUT_FILENO);
		h->out_polling = 0;
	}
}

/* stdout can take more. */
static void
out_writable(struct loop *loop, int fd, int revents, void *arg)
{
	out_flush(arg);
}

/* Finish one JSON object and send it. */
static void
emit_json(struct headless *h, struct json *j, struct buf *tmp)
{
	if (json_end(j) == 0) {
		if (buf_len(&h->out) + buf_len(tmp) > OUT_MAX)
			log_warn("headless: event output backlog over %d bytes, dropping an event", OUT_MAX);
		else
			buf_put(&h->out, buf_ptr(tmp), buf_len(tmp));
	}
	buf_free(tmp);
	out_flush(h);
}

/* Add a peer's fields to an object. */
static void
peer_fields(struct json *j, const struct peer *p)
{
	json_str(j, "fingerprint", p->fp);
	json_str(j, "nick", p->nick);
	json_str(j, "state", peer_state_name(p->state));
	json_str(j, "addr", p->addr);
	if (p->via[0] != '\0')
		json_str(j, "via", p->via);
	if (p->sess != NULL)
		json_str(j, "path", core_peer_path(p));
	json_str(j, "trust", trust_name(p->trust));
	if (p->nick_clash)
		json_str(j, "warning", "nick-clash");
}

/* The fields every transfer event carries. */
/* A room: id, name, creator, our state, members (joined) and invited, as fingerprints. */
static void
room_fields(struct json *j, struct core *c, const struct room_app *ra)
{
	char fp[FP_LEN + 1];
	size_t i;
	int pass;

	json_str(j, "room", ra->idhex);
	json_str(j, "name", ra->name);
	fp_encode(ra->r->creator, fp);
	json_str(j, "creator", fp);
	json_str(j, "state", room_mstate_name(room_state(ra->r, c->rooms->me.x)));
	for (pass = 0; pass < 2; pass++) {
		json_arr_begin(j, pass == 0 ? "members" : "invited");
		for (i = 0; i < ra->r->nau; i++) {
			if (ra->r->au[i].state != (pass == 0 ? RM_JOINED : RM_INVITED))
				continue;
			fp_encode(ra->r->au[i].x, fp);
			json_arr_str(j, fp);
		}
		json_arr_end(j);
	}
}

static void
xfer_fields(struct json *j, const struct xfer *x)
{
	json_str(j, "id", x->idhex);
	json_str(j, "direction", x->dir == XFER_IN ? "in" : "out");
	json_str(j, x->dir == XFER_IN ? "from" : "to", x->peer->fp);
	json_str(j, "nick", x->peer->nick);
	json_uint(j, "total", x->total);
	if (x->room[0] != '\0')
		json_str(j, "room", x->room);   /* sent to (out) or from (in) a room's member */
	if (x->peer->sess != NULL)
		json_str(j, "route", core_peer_path(x->peer));   /* direct, proxy or onion */
}

/* A message's text; an action ("/me waves") as "text":"waves","action":true. */
static void
message_text(struct json *j, const char *text)
{
	if (cmd_is_action(text)) {
		json_str(j, "text", text + 4 + strspn(text + 4, " "));
		json_bool(j, "action", 1);
	} else {
		json_str(j, "text", text);
	}
}

/* The ready event's fields: who we are and where we listen. */
static void
ready_fields(struct json *j, struct core *c)
{
	char addrs[NET_LISTEN_MAX][SOCK_ADDRSTRLEN];
	size_t n, i;

	json_str(j, "event", "ready");
	json_str(j, "fingerprint", c->id.fp);
	json_str(j, "nick", c->nick);
	json_str(j, "version", CONFAB_VERSION);
	json_arr_begin(j, "listen");
	n = core_listen_addrs(c, addrs, NET_LISTEN_MAX);
	for (i = 0; i < n; i++)
		json_arr_str(j, addrs[i]);
	json_arr_end(j);
}

/* An offer's file list: at most 1000 names, and few enough long ones to keep the line within EVENT_MAX. */
static void
offer_files(struct json *j, const struct buf *line, const struct xfer *x)
{
	size_t i;

	json_arr_begin(j, "files");
	for (i = 0; i < x->list.n && i < 1000 && buf_len(line) < OFFER_FILES_JSON; i++) {
		const struct xfs_entry *e = &x->list.v[i];
		char clean[XFS_PATH_MAX * 3 + 1];

		/* names passed xfs_path_ok, but sanitise anyway: never trust twice-removed input */
		text_sanitize((const uint8_t *)e->rel, strlen(e->rel), clean, sizeof clean, 0);
		json_obj_begin(j, NULL);
		json_str(j, "path", clean);
		json_str(j, "type", e->type == XFS_DIR ? "dir" : "file");
		json_uint(j, "size", e->size);
		json_obj_end(j);
	}
	json_arr_end(j);
	if (x->list.n > i)
		json_uint(j, "more", x->list.n - i);
}

/* A transfer's progress and state events. */
static void
xfer_event(struct json *j, const struct core_event *ev)
{
	switch (ev->type) {
	case EV_PROGRESS:
		json_str(j, "event", "progress");
		json_str(j, "id", ev->xfer->idhex);
		json_str(j, "direction", ev->xfer->dir == XFER_IN ? "in" : "out");
		json_uint(j, "bytes", ev->xfer->done);
		json_uint(j, "total", ev->xfer->total);
		json_uint(j, "wire", ev->xfer->wire);
		json_uint(j, "rate", ev->xfer->rate);
		if (ev->xfer->peer->sess != NULL)
			json_str(j, "route", core_peer_path(ev->xfer->peer));
		break;
	case EV_TRANSFER:
		json_str(j, "event", "transfer");
		xfer_fields(j, ev->xfer);
		json_str(j, "state", xfer_state_name(ev->xfer->state));
		json_uint(j, "bytes", ev->xfer->done);
		json_uint(j, "wire", ev->xfer->wire);
		json_uint(j, "resumed", ev->xfer->resumed);
		if (ev->xfer->result != NULL)
			json_str(j, "path", ev->xfer->result);
		if (ev->xfer->reason != NULL)
			json_str(j, "reason", ev->xfer->reason);
		break;
	default:
		break;
	}
}

/* The room events: room, room_invite, and message, sent, delivered and withdrawn with their room. */
static void
room_event(struct json *j, struct core *c, const struct core_event *ev)
{
	switch (ev->type) {
	case EV_ROOM:
	case EV_ROOM_INVITE:
		json_str(j, "event", ev->type == EV_ROOM ? "room" : "room_invite");
		room_fields(j, c, ev->room);
		if (ev->type == EV_ROOM_INVITE && ev->author != NULL) {
			json_str(j, "from", ev->author);
			json_str(j, "nick", ev->author_nick);
		}
		if (ev->cmd != NULL)
			json_str(j, "command", ev->cmd);
		break;
	case EV_ROOM_MESSAGE:
		json_str(j, "event", "message");
		json_str(j, "room", ev->room->idhex);
		json_str(j, "name", ev->room->name);
		json_str(j, "from", ev->author);
		json_str(j, "nick", ev->author_nick);
		json_str(j, "id", ev->id);
		json_str(j, "text", ev->line->text);
		json_uint(j, "ts", ev->line->ts_ms);
		if (ev->late)
			json_bool(j, "late", 1);
		break;
	case EV_ROOM_SENT:
		json_str(j, "event", "sent");
		json_str(j, "room", ev->room->idhex);
		json_str(j, "id", ev->id);
		break;
	case EV_ROOM_DELIVERED:
		json_str(j, "event", "delivered");
		json_str(j, "room", ev->room->idhex);
		json_str(j, "id", ev->id);
		json_str(j, "to", ev->to);
		break;
	case EV_ROOM_WITHDRAWN:
		json_str(j, "event", "withdrawn");
		json_str(j, "room", ev->room->idhex);
		json_str(j, "name", ev->room->name);
		json_str(j, "id", ev->id);
		json_str(j, "from", ev->author);
		json_str(j, "nick", ev->author_nick);
		break;
	default:
		break;
	}
}

/* A history line of /history, as a history event. */
static void
history_fields(struct json *j, const struct peer *p, const struct chat_line *line)
{
	json_str(j, "event", "history");
	json_str(j, "peer", p->fp);
	json_str(j, "kind", line->kind == LINE_MSG_IN ? "in" :
	    line->kind == LINE_MSG_OUT ? "out" : line->kind == LINE_ERROR ? "error" : "system");
	if (line->id[0] != '\0')
		json_str(j, "id", line->id);
	json_str(j, "nick", line->nick);
	if (line->kind == LINE_MSG_IN || line->kind == LINE_MSG_OUT)
		message_text(j, line->text);
	else
		json_str(j, "text", line->text);
	json_uint(j, "ts", line->ts_ms);
	if (line->kind == LINE_MSG_OUT)
		json_str(j, "state", line->state == MSG_DELIVERED ? "delivered" :
		    line->state == MSG_SENT ? "sent" : "queued");
}

/* Turn one core event into a JSON line. */
static void
on_event(struct core *c, const struct core_event *ev, void *arg)
{
	struct headless *h = arg;
	struct buf tmp;
	struct json j;

	buf_init(&tmp, EVENT_MAX);
	json_begin(&j, &tmp);
	switch (ev->type) {
	case EV_READY:
		ready_fields(&j, c);
		break;
	case EV_PEER:
		json_str(&j, "event", "peer");
		peer_fields(&j, ev->peer);
		if (ev->reason != NULL)
			json_str(&j, "reason", ev->reason);
		break;
	case EV_MESSAGE:
		json_str(&j, "event", "message");
		json_str(&j, "from", ev->peer->fp);
		json_str(&j, "nick", ev->peer->nick);
		json_str(&j, "id", ev->id);
		message_text(&j, ev->line->text);
		json_uint(&j, "ts", ev->line->ts_ms);
		break;
	case EV_SENT:
		json_str(&j, "event", "sent");
		json_str(&j, "id", ev->id);
		json_str(&j, "to", ev->peer->fp);
		json_bool(&j, "queued", ev->queued);
		break;
	case EV_DELIVERED:
		json_str(&j, "event", "delivered");
		json_str(&j, "id", ev->id);
		json_str(&j, "to", ev->peer->fp);
		break;
	case EV_ERROR:
		json_str(&j, "event", "error");
		json_str(&j, "message", ev->text);
		if (ev->cmd != NULL)
			json_str(&j, "command", ev->cmd);
		if (ev->peer != NULL)
			json_str(&j, "peer", ev->peer->fp);
		break;
	case EV_OFFER:
		json_str(&j, "event", "offer");
		xfer_fields(&j, ev->xfer);
		json_uint(&j, "count", ev->xfer->list.n);
		offer_files(&j, &tmp, ev->xfer);
		break;
	case EV_PROGRESS:
	case EV_TRANSFER:
		xfer_event(&j, ev);
		break;
	case EV_ROOM:
	case EV_ROOM_INVITE:
	case EV_ROOM_MESSAGE:
	case EV_ROOM_SENT:
	case EV_ROOM_DELIVERED:
	case EV_ROOM_WITHDRAWN:
		room_event(&j, c, ev);
		break;
	case EV_HISTORY:
		history_fields(&j, ev->peer, ev->line);
		break;
	case EV_VERIFY:
		json_str(&j, "event", "verify");
		json_str(&j, "peer", ev->peer->fp);
		json_str(&j, "nick", ev->peer->nick);
		if (ev->text != NULL)   /* the session code: only while online */
			json_str(&j, "code", ev->text);
		else
			json_null(&j, "code");
		json_str(&j, "safety", ev->safety);
		break;
	case EV_WARNING:
		json_str(&j, "event", "warning");
		json_str(&j, "peer", ev->peer->fp);
		json_str(&j, "nick", ev->peer->nick);
		json_str(&j, "message", ev->text);
		break;
	case EV_NAT:   /* reach: port mapping */
		json_str(&j, "event", "nat");
		reach_view_json_nat(c, &j);
		if (ev->cmd != NULL)
			json_str(&j, "command", ev->cmd);
		break;
	case EV_REACH:   /* onion: the service's state */
		json_str(&j, "event", "reach");
		onion_view_json(c, &j);
		break;
	case EV_INVITE:   /* reach: /invite */
		json_str(&j, "event", "invite");
		reach_view_json_invite(c, &j);
		if (ev->cmd != NULL)
			json_str(&j, "command", ev->cmd);
		break;
	case EV_NICK:
		json_str(&j, "event", "nick");
		json_str(&j, "nick", ev->text);
		break;
	case EV_INFO:
	case EV_LINE:
		json_str(&j, "event", "info");
		json_str(&j, "text", ev->text);
		if (ev->peer != NULL)
			json_str(&j, "peer", ev->peer->fp);
		break;
	default:
		buf_free(&tmp);
		return;
	}
	emit_json(h, &j, &tmp);
}

/* Run one complete input line. */
static void
run_line(struct headless *h, char *line)
{
	size_t n = strlen(line);

	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	if (n == 0)
		return;
	if (line[0] != '/') {
		core_error(&h->core, line, NULL, "commands start with '/' (try /msg PEER TEXT)");
		return;
	}
	if (cmd_run(&h->core, NULL, line) == 1)
		core_error(&h->core, line, NULL, "unknown command");
}

/* stdin has bytes: split them into lines and run each. */
static void
in_readable(struct loop *loop, int fd, int revents, void *arg)
{
	struct headless *h = arg;
	uint8_t *w, *nl;
	ssize_t r;

	if (buf_reserve(&h->in, 8192, &w) != BUF_OK) {
		/* a line longer than the cap: drop it and say so once */
		buf_reset(&h->in);
		h->discarding = 1;
		core_error(&h->core, NULL, NULL, "input line longer than %d bytes ignored", IN_LINE_MAX);
		return;
	}
	r = read(fd, w, 8192);
	if (r == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		r = 0;
	}
	if (r == 0) {
		loop_fd_del(loop, fd);
		h->eof = 1;
		if (h->core.opt.exit_when_idle_s > 0 && !h->core.quitting) {
			/* the queue and the transfers first (checked at once, then every 100 ms) */
			h->idle_deadline = loop_now(loop) + (uint64_t)h->core.opt.exit_when_idle_s * 1000;
			loop_timer_set(loop, &h->idle, 0);
			return;
		}
		core_quit(&h->core, 0);
		return;
	}
	buf_commit(&h->in, (size_t)r);
	while (!h->core.quitting &&
	    (nl = memchr(buf_ptr(&h->in), '\n', buf_len(&h->in))) != NULL) {
		size_t len = (size_t)(nl - buf_ptr(&h->in));
		char *line = malloc(len + 1);

		if (line == NULL)
			break;
		memcpy(line, buf_ptr(&h->in), len);
		line[len] = '\0';
		buf_consume(&h->in, len + 1);
		if (h->discarding)
			h->discarding = 0;
		else if (memchr(line, '\0', len) != NULL)
			core_error(&h->core, NULL, NULL, "input line contains a NUL byte");
		else
			run_line(h, line);
		free(line);
	}
}

/* What still holds a --exit-when-idle exit: undelivered messages, transfers under way. */
static size_t
busy(struct core *c, size_t *msgs, size_t *xfers)
{
	struct peer *p;
	struct xfer *x;

	*msgs = *xfers = 0;
	for (p = c->peers; p != NULL; p = p->next)
		if (p->trust != TRUST_BLOCKED)
			*msgs += p->noutq;
	for (x = c->xfers; x != NULL; x = x->next) {
		if (x->hidden || x->state == XS_DONE || x->state == XS_FAILED || x->state == XS_CANCELLED ||
		    x->state == XS_REJECTED)
			continue;
		/* an offer to us that nobody answered holds nothing: no one will */
		if (x->dir == XFER_IN && (x->state == XS_OFFERING || x->state == XS_PENDING))
			continue;
		(*xfers)++;
	}
	return *msgs + *xfers;
}

/* --exit-when-idle: quit once idle (0), or when the time is up (3). */
static void
idle_check(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct headless *h = arg;
	size_t msgs, xfers;

	if (h->core.quitting)
		return;
	if (busy(&h->core, &msgs, &xfers) == 0) {
		log_info("--exit-when-idle: every message delivered, every transfer ended: quitting");
		core_quit(&h->core, EXIT_OK);
		return;
	}
	if (loop_now(loop) >= h->idle_deadline) {
		core_error(&h->core, NULL, NULL, "exit-when-idle: still %zu message%s undelivered and %zu "
		    "transfer%s under way after %d s: giving up", msgs, msgs == 1 ? "" : "s", xfers,
		    xfers == 1 ? "" : "s", h->core.opt.exit_when_idle_s);
		core_quit(&h->core, EXIT_IDLE_TIMEOUT);
		return;
	}
	loop_timer_set(loop, t, 100);
}

/* SIGINT / SIGTERM: leave cleanly. */
static void
on_signal(struct loop *loop, int signo, void *arg)
{
	struct headless *h = arg;

	log_info("signal %d: quitting", signo);
	core_quit(&h->core, 0);
}

/* Run the headless front-end. */
int
headless_run(const struct core_options *opt)
{
	struct headless h;
	struct frontend fe = { on_event, NULL, &h };
	char err[512];
	int rc = 1;

	memset(&h, 0, sizeof h);
	buf_init(&h.in, IN_LINE_MAX);
	buf_init(&h.out, OUT_MAX + 256 * 1024);
	signal(SIGPIPE, SIG_IGN);
	if ((h.loop = loop_new()) == NULL) {
		fprintf(stderr, "confab: out of memory\n");
		goto out;
	}
	if (!isatty(STDOUT_FILENO)) {
		fcntl(STDOUT_FILENO, F_SETFL, fcntl(STDOUT_FILENO, F_GETFL) | O_NONBLOCK);
		h.out_nb = 1;
	}
	if (core_init(&h.core, h.loop, opt, &fe, err, sizeof err) == -1) {
		fprintf(stderr, "confab: %s\n", err);
		core_free(&h.core);
		goto out;
	}
	loop_timer_init(&h.idle, idle_check, &h);
	loop_signal(h.loop, SIGINT, on_signal, &h);
	loop_signal(h.loop, SIGTERM, on_signal, &h);
	loop_signal(h.loop, SIGHUP, on_signal, &h);
	loop_fd_add(h.loop, STDIN_FILENO, POLLIN, in_readable, &h);
	core_ready(&h.core);
	if (loop_run(h.loop) == -1)
		log_err("event loop failed: %s", strerror(errno));
	rc = h.core.exit_code;
	loop_timer_del(h.loop, &h.idle);
	core_free(&h.core);
	/* deliver what is left of our output before leaving */
	if (h.out_nb)
		fcntl(STDOUT_FILENO, F_SETFL, fcntl(STDOUT_FILENO, F_GETFL) & ~O_NONBLOCK);
	while (buf_len(&h.out) > 0) {
		ssize_t w = write(STDOUT_FILENO, buf_ptr(&h.out), buf_len(&h.out));

		if (w <= 0)
			break;
		buf_consume(&h.out, (size_t)w);
	}
out:
	buf_free(&h.in);
	buf_free(&h.out);
	loop_free(h.loop);
	return rc;
}
