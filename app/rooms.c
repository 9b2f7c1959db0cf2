/* rooms.c - group rooms wired to sessions, disk and front-ends (see rooms.h, PROTOCOL.md 13). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cmd.h"
#include "core.h"
#include "log.h"
#include "loop.h"
#include "persist.h"
#include "rooms.h"
#include "text.h"
#include "transfer.h"

/* What an accept callback needs to know. */
struct ctx {
	struct core     *c;
	struct room_app *ra;
	struct peer     *from;     /* NULL: ours, or loading */
};

/* Free one room. */
static void
ra_free(struct room_app *ra)
{
	if (ra == NULL)
		return;
	room_free(ra->r);
	conv_free(&ra->conv);
	buf_free(&ra->wal);
	free(ra->show);
	free(ra->acks);
	free(ra->ann);
	free(ra->pull);
	free(ra);
}

/* A new room_app around r. */
static struct room_app *
ra_new(struct core *c, struct room *r)
{
	struct room_app *ra = calloc(1, sizeof *ra);
	char file[ROOM_IDHEX + 8];

	if (ra == NULL)
		return NULL;
	ra->r = r;
	r->app = ra;
	sodium_bin2hex(ra->idhex, sizeof ra->idhex, r->id, ROOM_ID_LEN);
	text_sanitize(r->name, r->name_len, ra->name, sizeof ra->name, 0);
	snprintf(file, sizeof file, "%s.log", ra->idhex);
	if (paths_join(ra->path, sizeof ra->path, c->rooms->dir, file) != 0) {
		free(ra);
		return NULL;
	}
	ra->told = RM_NONE;
	buf_init(&ra->wal, ROOM_WAL_MAX + ROOM_EV_MAX + 2);
	return ra;
}

/* The fingerprint of a key. */
static void
fp_of(const uint8_t x[ROOM_KEY_LEN], char out[FP_LEN + 1])
{
	fp_encode(x, out);
}

/* The name to show for an author: a known peer's nick, else the start of its fingerprint. */
static void
author_nick(struct core *c, const uint8_t x[ROOM_KEY_LEN], char *out, size_t outlen)
{
	struct peer *p = core_peer_get(c, x, 0);
	char fp[FP_LEN + 1];

	if (memcmp(x, c->id.pub, ROOM_KEY_LEN) == 0) {
		snprintf(out, outlen, "%s", c->nick);
		return;
	}
	if (p != NULL && p->nick[0] != '\0') {
		snprintf(out, outlen, "%s", p->nick);
		return;
	}
	fp_of(x, fp);
	snprintf(out, outlen, "%.*s", FP_SHORT, fp);
}

/* A room message's id: the author's first 8 bytes in hex, a dash, its seq. */
static void
msg_id(const struct rec_room_event *e, char out[MSGID_HEX + 1])
{
	char hex[17];

	sodium_bin2hex(hex, sizeof hex, e->author, 8);
	snprintf(out, MSGID_HEX + 1, "%s-%llu", hex, (unsigned long long)e->seq);
}

/* Send one record to a peer if it is online; 0 if it is queued. */
static int
send_rec(struct peer *p, const uint8_t *rec, size_t n)
{
	struct buf b;

	if (p == NULL || p->sess == NULL || !p->hello)
		return -1;
	buf_view(&b, rec, n);
	if (session_send_buf(p->sess, &b) != BUF_OK) {
		log_warn("room record to %s: queue full", p->fp);
		return -1;
	}
	return 0;
}

/* Write the events a room keeps, CREATE first, in the room's order. */
static int
write_kept(FILE *f, void *arg)
{
	struct room *r = arg;
	size_t i;
	int pass;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < r->nlog; i++) {
			const struct room_event *ev = r->log[i];
			uint8_t h[2] = { (uint8_t)(ev->len >> 8), (uint8_t)ev->len };

			if ((pass == 0) != (ev->e.kind == RK_CREATE && ev->e.seq == 1 &&
			        memcmp(ev->e.author, r->creator, ROOM_KEY_LEN) == 0))
				continue;
			if (fwrite(h, 1, 2, f) != 2 || fwrite(ev->rec, 1, ev->len, f) != ev->len)
				return -1;
		}
	/* the proofs that froze authors (13.4): they are not in the log */
	for (i = 0; i < r->nau; i++) {
		const struct room_event *pf = r->au[i].proof;
		uint8_t h[2];

		if (pf == NULL)
			continue;
		h[0] = (uint8_t)(pf->len >> 8);
		h[1] = (uint8_t)pf->len;
		if (fwrite(h, 1, 2, f) != 2 || fwrite(pf->rec, 1, pf->len, f) != pf->len)
			return -1;
	}
	return 0;
}

/*
 * Keep the log file bounded (history_lines messages, 13.8): once it holds
 * twice what the room keeps, replace it, atomically, by what the room keeps.
 * The messages it drops leave gaps in their authors' sequences that loading
 * takes as dropped (room.replaying).
 */
static void
log_compact(struct room_app *ra)
{
	uint64_t kept = 0;
	char err[256];
	size_t i;

	if (ra->log_bytes < ra->compact_at)
		return;
	for (i = 0; i < ra->r->nlog; i++)
		kept += ra->r->log[i]->len + 2;
	ra->compact_at = 2 * kept > kept + 64 * 1024 ? 2 * kept : kept + 64 * 1024;
	if (ra->log_bytes < 2 * kept)
		return;
	if (persist_atomic_write(ra->path, 0600, 0, write_kept, ra->r, err, sizeof err) != 0) {
		log_warn("room %s: cannot compact its log: %s", ra->idhex, err);
		return;
	}
	log_info("room %s: log compacted from %llu to %llu bytes", ra->idhex,
	    (unsigned long long)ra->log_bytes, (unsigned long long)kept);
	ra->log_bytes = kept;
}

static void log_sync(struct core *, struct room_app *);

/*
 * Add a record to what goes to the room's log file (u16 length, record) at
 * the next log_sync: one fsync per loop turn for every event accepted in it
 * (rooms_flush), and before anything that promises or passes on an event
 * (a HAVE, a push).  Past ROOM_WAL_MAX bytes waiting, it syncs first.
 */
static int
log_append(struct core *c, struct room_app *ra, const uint8_t *rec, size_t n)
{
	size_t was;

	if (ra->provisional || n > 0xffff)
		return -1;
	if (buf_len(&ra->wal) + n + 2 > ROOM_WAL_MAX)
		log_sync(c, ra);
	was = ra->wal.len;
	if (buf_put_u16(&ra->wal, (uint16_t)n) != BUF_OK || buf_put(&ra->wal, rec, n) != BUF_OK) {
		ra->wal.len = was;   /* no half record */
		log_warn("room %s: out of memory for its log", ra->idhex);
		return -1;
	}
	return 0;
}

/* The peer to send to for key x (online or not); NULL if unknown. */
static struct peer *
peer_of(struct core *c, const uint8_t x[ROOM_KEY_LEN])
{
	return core_peer_get(c, x, 0);
}

/* Add key x to a set of at most ROOM_DIR_MAX keys. */
static void
keyset_add(uint8_t (**set)[ROOM_KEY_LEN], size_t *n, const uint8_t x[ROOM_KEY_LEN])
{
	uint8_t (*ns)[ROOM_KEY_LEN];
	size_t i;

	for (i = 0; i < *n; i++)
		if (memcmp((*set)[i], x, ROOM_KEY_LEN) == 0)
			return;
	if (*n >= ROOM_DIR_MAX || (ns = realloc(*set, (*n + 1) * sizeof *ns)) == NULL)
		return;
	*set = ns;
	memcpy(ns[(*n)++], x, ROOM_KEY_LEN);
}

/* Author x's hwm moved: announce it (a partial HAVE to the members, before the next sleep). */
static void
announce(struct room_app *ra, const uint8_t x[ROOM_KEY_LEN])
{
	keyset_add(&ra->ann, &ra->nann, x);
}

/* Whether event e from p is live: straight from its author, unasked (ROOM_RATE applies). */
static int
is_live(struct core *c, struct peer *p, const struct rec_room_event *e)
{
	if (memcmp(e->author, p->pk, ROOM_KEY_LEN) != 0)
		return 0;   /* relayed: it answers a HAVE or a WANT of ours */
	if (loop_now(c->loop) > p->room_pull_until || p->room_answers == 0)
		return 1;   /* not within a HAVE's answer, or more than a HAVE may bring */
	p->room_answers--;
	return 0;
}

/* Send our HAVE for the room to p. */
static void
send_have(struct room_app *ra, struct peer *p)
{
	struct buf b;

	if (p == NULL || p->sess == NULL || !p->hello)
		return;
	log_sync(p->core, ra);   /* a HAVE promises what it lists */
	buf_init(&b, WIRE_RECORD_MAX);
	if (room_put_have(ra->r, &b, NULL, 0) == BUF_OK && session_send_buf(p->sess, &b) == BUF_OK) {
		uint64_t now = loop_now(p->core->loop);

		/* what it pushes now, we asked for: as much as a HAVE may bring (13.8) */
		if (now > p->room_pull_until)
			p->room_answers = 0;
		if (p->room_answers < ROOM_ANSWERS_MAX)
			p->room_answers += ROOM_PUSH_MAX;
		p->room_pull_until = now + ROOM_ASK_MS;
	}
	buf_free(&b);
}

/* Push callback: the event goes to the peer in arg (on disk first: 13.6 passes on only what is kept). */
static void
push_to(struct room *r, const struct room_event *ev, void *arg)
{
	struct peer *p = arg;

	if (r->app != NULL)
		log_sync(p->core, r->app);
	if (send_rec(p, ev->rec, ev->len) != 0)
		room_push_lost(r, p->pk);   /* not on its way: its next HAVE brings it */
}

/* A message line in the room's window. */
static struct chat_line *
add_line(struct core *c, struct room_app *ra, const struct rec_room_event *e, int ours)
{
	char nick[NICK_BUF], *text;
	size_t cap = e->body_len * 3 + 1;
	struct chat_line *l;

	if ((text = malloc(cap)) == NULL)
		return NULL;
	text_sanitize(e->body, e->body_len, text, cap, TEXT_KEEP_NEWLINE | TEXT_KEEP_TAB);
	author_nick(c, e->author, nick, sizeof nick);
	l = core_conv_add(&ra->conv, ours ? LINE_MSG_OUT : LINE_MSG_IN, nick, text);
	free(text);
	if (l == NULL)
		return NULL;
	msg_id(e, l->id);
	if (ours)
		l->state = MSG_SENT;
	/* the author's clock is a claim: keep ours unless it is close */
	if (e->ts_ms > 0 && (e->ts_ms > l->ts_ms ? e->ts_ms - l->ts_ms : l->ts_ms - e->ts_ms) < 300000)
		l->ts_ms = e->ts_ms;
	return l;
}

/*
 * A membership event in the room's window: "bob joined", "alice invited
 * carol", "alice kicked dave" (nicks sanitised; ours is ours).
 */
static void
member_line(struct core *c, struct room_app *ra, const struct room_event *ev)
{
	static const char *const what[] = { [RK_CREATE] = "created the room", [RK_INVITE] = "invited",
	    [RK_JOIN] = "joined", [RK_DECLINE] = "declined the invitation", [RK_LEAVE] = "left",
	    [RK_KICK] = "kicked" };
	char who[NICK_BUF], whom[NICK_BUF] = "", text[2 * NICK_BUF + 64];
	struct room_body_member m;
	struct chat_line *l;

	if (!ev->valid || ev->e.kind >= sizeof what / sizeof what[0] || what[ev->e.kind] == NULL ||
	    ev->e.kind == RK_MSG)
		return;
	author_nick(c, ev->e.author, who, sizeof who);
	if ((ev->e.kind == RK_INVITE || ev->e.kind == RK_KICK) &&
	    roomwire_parse_body(ev->e.kind, ev->e.author, ev->e.body, ev->e.body_len, &m) == 0)
		author_nick(c, m.x, whom, sizeof whom);
	snprintf(text, sizeof text, "%s %s%s%s", who, what[ev->e.kind], whom[0] ? " " : "", whom);
	if ((l = core_conv_add(&ra->conv, LINE_SYSTEM, NULL, text)) != NULL)
		l->history = c->rooms->loading;
}

/* Show a room message: its line in the room's window and a message (or sent) event. */
static void
show_msg(struct core *c, struct room_app *ra, const struct rec_room_event *e, int late)
{
	int ours = memcmp(e->author, c->rooms->me.x, ROOM_KEY_LEN) == 0;
	char afp[FP_LEN + 1], anick[NICK_BUF];
	struct core_event ce;
	struct chat_line *l;

	if ((l = add_line(c, ra, e, ours)) == NULL)
		return;
	l->late = late;
	fp_of(e->author, afp);
	author_nick(c, e->author, anick, sizeof anick);
	memset(&ce, 0, sizeof ce);
	ce.type = ours ? EV_ROOM_SENT : EV_ROOM_MESSAGE;
	ce.room = ra;
	ce.line = l;
	ce.id = l->id;
	ce.author = afp;
	ce.author_nick = anick;
	ce.late = late;
	if (!ours)
		ra->conv.unread++;
	core_emit(c, &ce);
}

static void withdraw_shown(struct core *, struct room_app *, int);

/*
 * Write what waits in the room's wal to its log file, with one fsync, then
 * show the messages that waited for it (an event shown is on disk: kill -9
 * loses nothing shown), then keep the file bounded.
 */
static void
log_sync(struct core *c, struct room_app *ra)
{
	struct room_show *show = ra->show;
	size_t nshow = ra->nshow, i;
	struct rec_room_event e;
	struct buf w = ra->wal;
	char err[256];

	if (buf_len(&w) == 0)
		return;
	buf_init(&ra->wal, w.cap);   /* a re-entry starts afresh */
	ra->show = NULL;
	ra->nshow = ra->ashow = 0;
	if (persist_append_sync(ra->path, 0600, buf_ptr(&w), buf_len(&w), err, sizeof err) != 0)
		log_warn("room %s: %s", ra->idhex, err);
	else
		ra->log_bytes += buf_len(&w);
	for (i = 0; i < nshow; i++)
		if (roomwire_decode_event(buf_ptr(&w) + show[i].off, show[i].len, &e) == WIRE_OK)
			show_msg(c, ra, &e, show[i].late);
	buf_free(&w);
	free(show);
	if (nshow > 0 && ra->r->st.withdrawn > 0) {
		ra->told_withdrawn = UINT64_MAX;   /* one of them may be withdrawn already: look again */
		withdraw_shown(c, ra, 1);
	}
	log_compact(ra);
}

/* Show the message just added to the wal once it is on disk (log_sync). */
static int
show_later(struct room_app *ra, size_t n, int late)
{
	struct room_show *ns;

	if (ra->nshow == ra->ashow) {
		size_t na = ra->ashow ? 2 * ra->ashow : 64;

		if ((ns = realloc(ra->show, na * sizeof *ns)) == NULL)
			return -1;
		ra->show = ns;
		ra->ashow = na;
	}
	ra->show[ra->nshow].off = buf_len(&ra->wal) - n;
	ra->show[ra->nshow].len = n;
	ra->show[ra->nshow].late = (uint8_t)late;
	ra->nshow++;
	return 0;
}

/* A LEAVE or KICK counted: files sent to the member in the room and not yet taken are off. */
static void
member_gone(struct core *c, struct room_app *ra, const struct room_event *ev)
{
	struct room_body_member m;
	const uint8_t *who = ev->e.author;
	struct peer *p;

	if (ev->e.kind == RK_KICK) {
		if (roomwire_parse_body(RK_KICK, ev->e.author, ev->e.body, ev->e.body_len, &m) != 0)
			return;
		who = m.x;
	}
	if ((p = core_peer_get(c, who, 0)) != NULL && !rooms_may_get_file(c, ra->idhex, p))
		xfer_room_gone(c, ra->idhex, p);
}

/* An event was accepted into a room: persist, show, fan out. */
static void
on_accept(struct room *r, struct room_event *ev, void *arg)
{
	struct ctx *x = arg;
	struct core *c = x->c;
	struct room_app *ra = x->ra;
	int ours = memcmp(ev->e.author, c->rooms->me.x, ROOM_KEY_LEN) == 0;
	const uint8_t *to[ROOM_DIR_MAX];
	struct chat_line *l;
	char afp[FP_LEN + 1];
	size_t i, n;
	int queued;

	if (c->rooms->loading) {
		if (ev->e.kind == RK_MSG && ev->valid && (l = add_line(c, ra, &ev->e, ours)) != NULL) {
			l->history = 1;
			l->late = ev->late;
		}
		member_line(c, ra, ev);
		return;
	}
	/*
	 * write-ahead: on disk before it is shown, announced or sent on; ours
	 * at once (before any peer has it), others' at the end of the turn
	 * (log_sync), shown then
	 */
	queued = log_append(c, ra, ev->rec, ev->len) == 0;
	if (x->from == NULL)
		log_sync(c, ra);
	if (ev->e.kind == RK_MSG && ev->valid) {
		if (x->from == NULL || !queued || show_later(ra, ev->len, ev->late) != 0)
			show_msg(c, ra, &ev->e, ev->late);
	} else if ((ev->e.kind == RK_LEAVE || ev->e.kind == RK_KICK) && ev->valid) {
		member_line(c, ra, ev);
		member_gone(c, ra, ev);
	} else if (ev->e.kind != RK_MSG && !ra->provisional) {
		member_line(c, ra, ev);
	} else if (ev->e.kind == RK_MSG && !ev->valid && x->from != NULL) {
		fp_of(ev->e.author, afp);
		log_warn("room %s: message %llu by %s, not a member at that point, relayed by %s: dropped",
		    ra->idhex, (unsigned long long)ev->e.seq, afp, x->from->fp);
	}
	if (ra->provisional)
		return;
	if (x->from != NULL) {
		/*
		 * Someone else's event: announce that we have it (13.6); the
		 * members who lack it pull it with WANT.  It acknowledges it
		 * to the sender too.
		 */
		announce(ra, ev->e.author);
		return;
	}
	/*
	 * ours: the payload to every online member that may receive it (13.6),
	 * and an announcement after it, so that a member whose copy was lost
	 * (a full queue) pulls it
	 */
	announce(ra, ev->e.author);
	n = room_fanout(r, ev, NULL, c->rooms->me.x, to, ROOM_DIR_MAX);
	for (i = 0; i < n; i++) {
		struct room_body_member m;

		/* the invitee of our INVITE gets the room from its CREATE on (below) */
		if (ours && ev->e.kind == RK_INVITE &&
		    roomwire_parse_body(RK_INVITE, ev->e.author, ev->e.body, ev->e.body_len, &m) == 0 &&
		    memcmp(m.x, to[i], ROOM_KEY_LEN) == 0)
			continue;
		if (send_rec(peer_of(c, to[i]), ev->rec, ev->len) == 0)
			room_note_push(r, to[i], ev);   /* on its way: a HAVE that lags does not bring it again */
	}
	if (ours && ev->e.kind == RK_INVITE) {
		struct room_body_member m;
		struct peer *p;
		int more = 0;

		if (roomwire_parse_body(RK_INVITE, ev->e.author, ev->e.body, ev->e.body_len, &m) == 0 &&
		    (p = peer_of(c, m.x)) != NULL && p->sess != NULL && p->hello)
			room_push_all(r, m.x, push_to, p, &more);
	}
}

/* Turn msg line l into a withdrawn mark: its text goes (the conversation's byte count with it). */
static void
line_withdraw(struct conversation *cv, struct chat_line *l)
{
	static const char mark[] = "(withdrawn)";
	size_t was = strlen(l->text), now = sizeof mark - 1;
	char *t;

	l->kind = LINE_SYSTEM;
	if ((t = strdup(mark)) == NULL)
		return;
	if (was < now)
		cv->bytes += now - was;
	else
		cv->bytes -= was - now <= cv->bytes ? was - now : cv->bytes;
	free(l->text);
	l->text = t;
}

/*
 * The fold withdrew messages (13.5: a heal brought an earlier kick or leave
 * of their author): mark their lines in the room's window and, with tell,
 * say so per message (EV_ROOM_WITHDRAWN) and once per author in the window.
 */
static void
withdraw_shown(struct core *c, struct room_app *ra, int tell)
{
	const uint8_t *who[8];
	size_t nwho[8], nw = 0, other = 0, i, j, k;
	char id[MSGID_HEX + 1], afp[FP_LEN + 1], anick[NICK_BUF], text[NICK_BUF + 96];
	struct core_event ce;

	if (ra->r->st.withdrawn == ra->told_withdrawn)
		return;
	ra->told_withdrawn = ra->r->st.withdrawn;
	for (i = 0; i < ra->r->nlog; i++) {
		const struct room_event *ev = ra->r->log[i];
		struct chat_line *l = NULL;

		if (!ev->withdrawn || ev->e.kind != RK_MSG)
			continue;
		msg_id(&ev->e, id);
		for (j = ra->conv.nlines; j-- > 0 && l == NULL;)
			if ((ra->conv.lines[j]->kind == LINE_MSG_IN || ra->conv.lines[j]->kind == LINE_MSG_OUT) &&
			    strcmp(ra->conv.lines[j]->id, id) == 0)
				l = ra->conv.lines[j];
		if (l == NULL)
			continue;   /* never shown, or already marked */
		line_withdraw(&ra->conv, l);
		if (!tell)
			continue;
		for (k = 0; k < nw && memcmp(who[k], ev->e.author, ROOM_KEY_LEN) != 0; k++)
			;
		if (k < nw)
			nwho[k]++;
		else if (nw < sizeof who / sizeof *who) {
			who[nw] = ev->e.author;
			nwho[nw++] = 1;
		} else
			other++;
		fp_of(ev->e.author, afp);
		author_nick(c, ev->e.author, anick, sizeof anick);
		memset(&ce, 0, sizeof ce);
		ce.type = EV_ROOM_WITHDRAWN;
		ce.room = ra;
		ce.line = l;
		ce.id = id;
		ce.author = afp;
		ce.author_nick = anick;
		core_emit(c, &ce);
	}
	for (k = 0; k < nw; k++) {
		const struct room_author *a = room_author(ra->r, who[k]);

		author_nick(c, who[k], anick, sizeof anick);
		snprintf(text, sizeof text, "%zu message%s from %s %s %s withdrawn", nwho[k],
		    nwho[k] == 1 ? "" : "s", anick, a != NULL && a->frozen ? "after its equivocation" :
		    "after the kick", nwho[k] == 1 ? "is" : "are");
		(void)core_conv_add(&ra->conv, LINE_SYSTEM, NULL, text);
		log_info("room %s (%s): %s", ra->idhex, ra->name, text);
	}
	if (other > 0) {
		snprintf(text, sizeof text, "%zu more messages from other authors withdrawn", other);
		(void)core_conv_add(&ra->conv, LINE_SYSTEM, NULL, text);
	}
}

/*
 * Who invited us to ra: for an invitation still in memory, the peer whose
 * CREATE it is; else the author of the latest valid INVITE naming us.  NULL
 * if none.
 */
static const uint8_t *
inviter_of(struct core *c, const struct room_app *ra)
{
	struct room_body_member m;
	size_t i;

	if (ra->provisional)
		return ra->via;
	for (i = ra->r->nlog; i-- > 0;) {
		const struct room_event *ev = ra->r->log[i];

		if (ev->e.kind == RK_INVITE && ev->valid &&
		    roomwire_parse_body(RK_INVITE, ev->e.author, ev->e.body, ev->e.body_len, &m) == 0 &&
		    memcmp(m.x, c->rooms->me.x, ROOM_KEY_LEN) == 0)
			return ev->e.author;
	}
	return NULL;
}

/* Tell the front-end about a room; invite: it is an invitation (EV_ROOM_INVITE). */
static void
tell_room(struct core *c, struct room_app *ra, const char *cmd, int invite)
{
	struct core_event ce;
	char ifp[FP_LEN + 1], inick[NICK_BUF];
	const uint8_t *x;

	memset(&ce, 0, sizeof ce);
	ce.type = EV_ROOM;
	ce.room = ra;
	ce.cmd = cmd;
	if (invite && (x = inviter_of(c, ra)) != NULL) {
		fp_of(x, ifp);
		author_nick(c, x, inick, sizeof inick);
		ce.type = EV_ROOM_INVITE;
		ce.author = ifp;
		ce.author_nick = inick;
	}
	core_emit(c, &ce);
}

/*
 * Authors found equivocating since we last looked (13.4): write each proof
 * to the log, say so in the room's window and the log, and send the proof
 * to every online member who may receive it, so that the room converges now
 * rather than at the next HAVE.
 */
static void
proofs_new(struct core *c, struct room_app *ra)
{
	struct room *r = ra->r;
	char afp[FP_LEN + 1], anick[NICK_BUF], text[NICK_BUF + 128];
	size_t i, j;

	for (i = 0; i < r->nau; i++) {
		struct room_author *a = &r->au[i];

		if (!a->proof_new || a->proof == NULL)
			continue;
		a->proof_new = 0;
		log_append(c, ra, a->proof->rec, a->proof->len);
		log_sync(c, ra);   /* on disk before it is sent (below) */
		fp_of(a->x, afp);
		author_nick(c, a->x, anick, sizeof anick);
		snprintf(text, sizeof text, "%s signed two different events with one number (seq %llu): "
		    "nothing of it counts from there on", anick, (unsigned long long)a->proof->e.seq);
		(void)core_conv_add(&ra->conv, LINE_SYSTEM, NULL, text);
		log_warn("room %s (%s): %s equivocates: two events with %s seq %llu; frozen from lamport %llu",
		    ra->idhex, ra->name, afp, a->proof->e.kind == RK_MSG ? "message" : "membership",
		    (unsigned long long)a->proof->e.seq, (unsigned long long)a->frozen);
		for (j = 0; j < r->nau; j++)
			if (memcmp(r->au[j].x, c->rooms->me.x, ROOM_KEY_LEN) != 0 &&
			    room_may_receive_proof(r, r->au[j].x, a))
				send_rec(peer_of(c, r->au[j].x), a->proof->rec, a->proof->len);
	}
}

/* After a room changed: persist a room we were just invited to, report state changes. */
static void
room_changed(struct core *c, struct room_app *ra)
{
	enum room_mstate st = room_state(ra->r, c->rooms->me.x);
	size_t i;

	if (ra->provisional && st != RM_NONE) {
		/* invited: it is ours to keep now; write what we hold */
		ra->provisional = 0;
		for (i = 0; i < ra->r->nlog; i++)
			log_append(c, ra, ra->r->log[i]->rec, ra->r->log[i]->len);
		log_info("room %s (%s): invited", ra->idhex, ra->name);
	}
	if (ra->provisional)
		return;
	proofs_new(c, ra);
	withdraw_shown(c, ra, 1);
	if (st != ra->told || ra->r->nops != ra->told_ops) {
		int invite = st == RM_INVITED && ra->told != RM_INVITED;

		if (st != ra->told)
			log_info("room %s (%s): %s", ra->idhex, ra->name, room_mstate_name(st));
		ra->told = st;
		ra->told_ops = ra->r->nops;
		tell_room(c, ra, NULL, invite);
	}
}

/*
 * A second after events were refused for the rate: ask their authors for the
 * rest (WANT), ROOM_PUSH_MAX at a time; an author with more left than one
 * pull asks for stays in the set and is pulled again a second later (its
 * pushes are in flight, so our announcements do not bring the rest).
 */
static void
pull_due(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct core *c = arg;
	struct rec_room_want w[ROOM_CLASSES];
	struct peer *p;
	struct buf b;
	size_t i, j, k, nw, keep, again = 0;

	(void)t;
	buf_init(&b, 128);
	for (i = 0; i < c->rooms->n; i++) {
		struct room_app *ra = c->rooms->list[i];

		ra->r->now = loop_now(loop);
		for (j = 0, keep = 0; j < ra->npull; j++) {
			if ((p = peer_of(c, ra->pull[j])) == NULL || p->sess == NULL || !p->hello)
				continue;   /* offline: its HAVE when it is back brings the rest */
			nw = room_pull_wants(ra->r, ra->pull[j], w, ROOM_CLASSES);
			for (k = 0; k < nw; k++) {
				buf_reset(&b);
				if (roomwire_put_want(&b, &w[k]) == BUF_OK)
					session_send_buf(p->sess, &b);
			}
			if (room_pull_rest(ra->r, ra->pull[j]))
				memmove(ra->pull[keep++], ra->pull[j], ROOM_KEY_LEN);
		}
		ra->npull = keep;
		again += keep;
	}
	buf_free(&b);
	if (again > 0)
		loop_timer_set(loop, &c->rooms->pull_timer, 1000);
}

/* Our room_self from the identity. */
static void
self_init(struct core *c)
{
	room_self_init(&c->rooms->me, c->id.pub, c->id.priv);
}

/* Add a room to the list; -1 when full. */
static int
rooms_add(struct core *c, struct room_app *ra)
{
	if (c->rooms->n >= ROOMS_MAX)
		return -1;
	c->rooms->list[c->rooms->n++] = ra;
	return 0;
}

/* Remove and free room i. */
static void
rooms_drop(struct core *c, size_t i)
{
	ra_free(c->rooms->list[i]);
	memmove(c->rooms->list + i, c->rooms->list + i + 1, (c->rooms->n - i - 1) * sizeof *c->rooms->list);
	c->rooms->n--;
}

/* The room with id, or NULL. */
static struct room_app *
room_by_id(struct core *c, const uint8_t id[ROOM_ID_LEN])
{
	size_t i;

	for (i = 0; i < c->rooms->n; i++)
		if (memcmp(c->rooms->list[i]->r->id, id, ROOM_ID_LEN) == 0)
			return c->rooms->list[i];
	return NULL;
}

/* Load one room log: CREATE first, then the events in the order written. */
static int
load_one(struct core *c, const char *path)
{
	struct room_app *ra = NULL;
	struct room *r = NULL;
	struct ctx x;
	uint8_t *data = NULL;
	size_t len = 0, off = 0, n;
	struct stat st;
	FILE *f;
	int rc = -1;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if (fstat(fileno(f), &st) != 0 || st.st_size <= 2 || (uint64_t)st.st_size > ROOM_LOG_MAX)
		goto out;
	len = (size_t)st.st_size;
	if ((data = malloc(len)) == NULL || fread(data, 1, len, f) != len)
		goto out;
	n = (size_t)data[0] << 8 | data[1];
	if (n + 2 > len || (r = room_from_create(data + 2, n, c->opt.history_lines)) == NULL) {
		log_warn("room log %s: does not start with a room's CREATE: ignored", path);
		goto out;
	}
	if (room_by_id(c, r->id) != NULL || (ra = ra_new(c, r)) == NULL) {
		room_free(r);
		goto out;
	}
	x.c = c;
	x.ra = ra;
	x.from = NULL;
	off = n + 2;
	r->replaying = 1;
	while (off + 2 <= len) {
		n = (size_t)data[off] << 8 | data[off + 1];
		if (n == 0 || off + 2 + n > len)
			break;   /* a torn tail: persist_append cut it, but be safe */
		if (data[off + 2] == REC_ROOM_PROOF)
			(void)room_on_proof(r, data + off + 2, n);
		else
			(void)room_receive(r, data + off + 2, n, 0, 0, on_accept, &x, NULL, NULL);
		off += 2 + n;
	}
	r->replaying = 0;
	for (n = 0; n < r->nau; n++)
		r->au[n].proof_new = 0;   /* on disk already */
	ra->log_bytes = off;
	ra->compact_at = 0;   /* checked at the next append */
	ra->told = room_state(r, c->rooms->me.x);
	ra->told_ops = r->nops;
	withdraw_shown(c, ra, 0);   /* as the replay left them: no news */
	ra->conv.unread = 0;
	if (rooms_add(c, ra) != 0) {
		ra_free(ra);
		goto out;
	}
	log_info("room %s (%s): %zu events, %zu messages, %s", ra->idhex, ra->name, r->nlog, r->nmsgs,
	    room_mstate_name(ra->told));
	rc = 0;
out:
	free(data);
	fclose(f);
	return rc;
}

/* Load the rooms from the state directory. */
int
rooms_init(struct core *c, char *err, size_t errlen)
{
	struct dirent *d;
	char path[PATH_MAX];
	DIR *dir;

	if ((c->rooms = calloc(1, sizeof *c->rooms)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	self_init(c);
	c->rooms->core = c;
	c->rooms->droplog = ROOM_DROPLOG_BURST;
	loop_timer_init(&c->rooms->pull_timer, pull_due, c);
	if (paths_join(c->rooms->dir, sizeof c->rooms->dir, c->paths.state, "rooms") != 0 ||
	    paths_mkdirs(c->rooms->dir, 0700) != 0) {
		snprintf(err, errlen, "%s/rooms: %s", c->paths.state, strerror(errno));
		return -1;
	}
	if ((dir = opendir(c->rooms->dir)) == NULL)
		return 0;
	c->rooms->loading = 1;
	while ((d = readdir(dir)) != NULL) {
		size_t l = strlen(d->d_name);

		if (l != ROOM_IDHEX + 4 || strcmp(d->d_name + ROOM_IDHEX, ".log") != 0)
			continue;
		if (paths_join(path, sizeof path, c->rooms->dir, d->d_name) == 0)
			load_one(c, path);
	}
	c->rooms->loading = 0;
	closedir(dir);
	return 0;
}

/* Free every room. */
void
rooms_free(struct core *c)
{
	size_t i;

	if (c->rooms == NULL)
		return;
	loop_timer_del(c->loop, &c->rooms->pull_timer);
	for (i = 0; i < c->rooms->n; i++) {
		c->rooms->list[i]->nshow = 0;   /* to disk, no longer to a front-end */
		log_sync(c, c->rooms->list[i]);
	}
	while (c->rooms->n > 0)
		rooms_drop(c, c->rooms->n - 1);
	sodium_memzero(&c->rooms->me, sizeof c->rooms->me);
	free(c->rooms);
	c->rooms = NULL;
}

/* Append HELLO extension 3. */
int
rooms_hello_ext(struct core *c, struct buf *b)
{
	uint8_t body[ROOM_BIND_EXT_LEN];

	if (c->rooms == NULL)
		return BUF_OK;
	memcpy(body, c->rooms->me.ed, ROOM_KEY_LEN);
	memcpy(body + ROOM_KEY_LEN, c->rooms->me.bind, ROOM_SIG_LEN);
	return wire_put_hello_ext(b, HELLO_EXT_ROOMKEY, body, sizeof body);
}

/* A peer's HELLO: keep its signing key if the binding holds (13.1). */
void
rooms_peer_hello(struct core *c, struct peer *p, const uint8_t *roomkey)
{
	(void)c;
	if (roomkey == NULL)
		return;
	if (!roomwire_bind_ok(roomkey + ROOM_KEY_LEN, p->pk, roomkey)) {
		log_warn("peer %s: its room signing key is not bound to its identity: ignored", p->fp);
		return;
	}
	if (p->room_key && memcmp(p->room_ed, roomkey, ROOM_KEY_LEN) != 0)
		log_warn("peer %s: its room signing key changed", p->fp);
	memcpy(p->room_ed, roomkey, ROOM_KEY_LEN);
	memcpy(p->room_bind, roomkey + ROOM_KEY_LEN, ROOM_SIG_LEN);
	p->room_key = 1;
}

/* A peer came online: HAVE for every room it has a place in. */
void
rooms_peer_online(struct core *c, struct peer *p)
{
	size_t i;

	if (c->rooms == NULL)
		return;
	for (i = 0; i < c->rooms->n; i++) {
		struct room_app *ra = c->rooms->list[i];

		room_push_lost(ra->r, p->pk);   /* a new session: nothing of ours is on its way */
		if (!ra->provisional && room_state(ra->r, p->pk) != RM_NONE)
			send_have(ra, p);
	}
}

/* Our messages up to hwm reached member x: report them delivered. */
static void
delivered(struct core *c, struct room_app *ra, const uint8_t x[ROOM_KEY_LEN], uint64_t hwm)
{
	struct room_ack *a = NULL, *na;
	struct core_event ce;
	char fp[FP_LEN + 1], id[MSGID_HEX + 1];
	size_t i;

	for (i = 0; i < ra->nacks; i++)
		if (memcmp(ra->acks[i].x, x, ROOM_KEY_LEN) == 0)
			a = &ra->acks[i];
	if (a == NULL) {
		if (ra->nacks >= ROOM_DIR_MAX || (na = realloc(ra->acks, (ra->nacks + 1) * sizeof *na)) == NULL)
			return;
		ra->acks = na;
		a = &ra->acks[ra->nacks++];
		memcpy(a->x, x, ROOM_KEY_LEN);
		a->hwm = 0;
	}
	if (hwm <= a->hwm)
		return;
	fp_of(x, fp);
	for (i = 0; i < ra->r->nlog; i++) {
		const struct room_event *ev = ra->r->log[i];

		if (ev->e.kind != RK_MSG || ev->e.seq <= a->hwm || ev->e.seq > hwm ||
		    memcmp(ev->e.author, c->rooms->me.x, ROOM_KEY_LEN) != 0)
			continue;
		msg_id(&ev->e, id);
		memset(&ce, 0, sizeof ce);
		ce.type = EV_ROOM_DELIVERED;
		ce.room = ra;
		ce.id = id;
		ce.to = fp;
		core_emit(c, &ce);
	}
	a->hwm = hwm;
}

/* A HAVE from p: push what it lacks; note what of ours it has. */
static void
got_have(struct core *c, struct peer *p, struct room_app *ra, const uint8_t *rec, size_t n)
{
	struct rec_room_have h;
	struct room_have_entry e;
	int more = 0;

	if (ra->provisional)
		return;
	if (room_state(ra->r, p->pk) != RM_NONE && room_have_below_floor(ra->r, rec, n))
		send_have(ra, p);   /* our floors first: the push that follows has gaps */
	if (room_on_have(ra->r, p->pk, rec, n, push_to, p, &more) < 0) {
		log_info("room %s: HAVE from %s, who has no place in it: ignored", ra->idhex, p->fp);
		return;
	}
	if (more)
		send_have(ra, p);   /* it asks again for the rest */
	/* pull what it has and we lack (13.6) */
	{
		struct rec_room_want w[16];
		size_t k, nw = room_have_wants(ra->r, rec, n,
		    room_state(ra->r, c->rooms->me.x) == RM_JOINED, w, 16);
		struct buf b;

		buf_init(&b, 128);
		for (k = 0; k < nw && p->sess != NULL; k++) {
			buf_reset(&b);
			if (roomwire_put_want(&b, &w[k]) == BUF_OK)
				session_send_buf(p->sess, &b);
		}
		buf_free(&b);
	}
	if (roomwire_decode_have(rec, n, &h) != WIRE_OK)
		return;
	while (roomwire_next_have(&h, &e) == 0)
		if (memcmp(e.author, c->rooms->me.x, ROOM_KEY_LEN) == 0 &&
		    room_state(ra->r, p->pk) == RM_JOINED)
			delivered(c, ra, p->pk, e.hwm[ROOM_CLASS_MSG]);
}

/* Whether p's invitations count as a friend's: known or verified, and not blocked (13.7). */
static int
inviter_friend(const struct peer *p)
{
	return p != NULL && p->trust != TRUST_BLOCKED && (p->known || p->trust == TRUST_VERIFIED);
}

/* Whether ra is an unanswered invitation: in memory still, or invited and not joined nor declined. */
static int
unanswered(struct core *c, const struct room_app *ra)
{
	return ra->provisional || room_state(ra->r, c->rooms->me.x) == RM_INVITED;
}

/* The oldest unanswered invitation of the inviter that has the most of them; SIZE_MAX if none. */
static size_t
invites_oldest_of_most(struct core *c)
{
	size_t i, j, best = SIZE_MAX, most = 0, k;

	for (i = 0; i < c->rooms->n; i++) {
		const uint8_t *x = unanswered(c, c->rooms->list[i]) ? inviter_of(c, c->rooms->list[i]) : NULL;

		if (x == NULL)
			continue;
		for (k = 0, j = 0; j < c->rooms->n; j++) {
			const uint8_t *y = unanswered(c, c->rooms->list[j]) ? inviter_of(c, c->rooms->list[j]) : NULL;

			k += y != NULL && memcmp(x, y, ROOM_KEY_LEN) == 0;
		}
		if (k > most) {   /* the first of that inviter's is its oldest */
			most = k;
			best = i;
		}
	}
	return best;
}

/* Forget unanswered invitation i (13.7): its log file too, and say so. */
static void
invite_drop(struct core *c, size_t i)
{
	struct room_app *ra = c->rooms->list[i];

	log_info("room %s (%s): invitation dropped to make room for another (at most %d from one "
	    "inviter, %d from strangers, %d in all)", ra->idhex, ra->name, ROOM_INVITES_PEER,
	    ROOM_INVITES_STRANGERS, ROOM_INVITES_MAX);
	if (!ra->provisional) {
		if (unlink(ra->path) != 0 && errno != ENOENT)
			log_warn("room %s: %s: %s", ra->idhex, ra->path, strerror(errno));
		core_note(c, NULL, LINE_SYSTEM, "the invitation to #%s is dropped: too many invitations", ra->name);
	}
	rooms_drop(c, i);
}

/*
 * Make room for an invitation from p (13.7): at most ROOM_INVITES_PEER
 * unanswered ones from one inviter (its oldest goes), ROOM_INVITES_STRANGERS
 * from strangers together (the oldest stranger's goes), ROOM_INVITES_MAX in
 * all (a stranger's goes first; for a friend, else the oldest of the inviter
 * with the most).  A stranger never pushes out a friend's invitation, and
 * rooms we created or answered are never dropped.  0, or -1: refuse it.
 */
static int
invites_make_room(struct core *c, struct peer *p)
{
	size_t i, n = 0, nstr = 0, mine = 0, old_mine = SIZE_MAX, old_str = SIZE_MAX, victim = SIZE_MAX;
	int friend = inviter_friend(p);

	for (i = 0; i < c->rooms->n; i++) {
		const uint8_t *x;

		if (!unanswered(c, c->rooms->list[i]))
			continue;
		x = inviter_of(c, c->rooms->list[i]);
		n++;
		if (x != NULL && memcmp(x, p->pk, ROOM_KEY_LEN) == 0 && mine++ == 0)
			old_mine = i;
		if (!inviter_friend(x != NULL ? core_peer_get(c, x, 0) : NULL) && nstr++ == 0)
			old_str = i;
	}
	if (mine >= ROOM_INVITES_PEER)
		victim = old_mine;
	else if (!friend && nstr >= ROOM_INVITES_STRANGERS)
		victim = old_str;
	else if (n >= ROOM_INVITES_MAX)
		victim = old_str != SIZE_MAX ? old_str : friend ? invites_oldest_of_most(c) : SIZE_MAX;
	if (victim != SIZE_MAX)
		invite_drop(c, victim);
	else if (n >= ROOM_INVITES_MAX)
		return -1;
	return c->rooms->n >= ROOMS_MAX ? -1 : 0;
}

/* A provisional room from a CREATE a peer sent, if the invitation policy makes room for it. */
static struct room_app *
provisional(struct core *c, struct peer *p, const uint8_t *rec, size_t n)
{
	struct room_app *ra;
	struct room *r;

	if (invites_make_room(c, p) != 0) {
		log_warn("room from %s: no room for another invitation (%d rooms, %d unanswered "
		    "invitations, %d from strangers): ignored", p->fp, ROOMS_MAX, ROOM_INVITES_MAX,
		    ROOM_INVITES_STRANGERS);
		return NULL;
	}
	if ((r = room_from_create(rec, n, c->opt.history_lines)) == NULL) {
		log_warn("room CREATE from %s: not a well-signed CREATE: dropped", p->fp);
		return NULL;
	}
	if ((ra = ra_new(c, r)) == NULL) {
		room_free(r);
		return NULL;
	}
	ra->provisional = 1;
	memcpy(ra->via, p->pk, ROOM_KEY_LEN);
	if (rooms_add(c, ra) != 0) {
		ra_free(ra);
		return NULL;
	}
	return ra;
}

/* A ROOM_PROOF from p (13.4): an author equivocates; room_changed tells and spreads it. */
static void
got_proof(struct core *c, struct peer *p, struct room_app *ra, const uint8_t *rec, size_t n)
{
	enum room_verdict v;

	if (ra->provisional || room_state(ra->r, p->pk) == RM_NONE)
		return;
	v = room_on_proof(ra->r, rec, n);
	if (v == RV_FORGED || v == RV_OTHER)
		log_warn("room %s: ROOM_PROOF from %s: %s: dropped", ra->idhex, p->fp,
		    v == RV_FORGED ? "bad signature" : "not two rival events of the room");
	room_changed(c, ra);
}

/* ROOM_FILE (13.10): remember which room p's next OFFER is for, if p and we are joined in it. */
static void
got_file_tag(struct core *c, struct peer *p, struct room_app *ra, const uint8_t *rec, size_t n)
{
	struct room_ftag *t;
	struct rec_room_file f;

	if (roomwire_decode_file(rec, n, &f) != WIRE_OK)
		return;
	if (ra == NULL || ra->provisional || room_state(ra->r, p->pk) != RM_JOINED ||
	    room_state(ra->r, c->rooms->me.x) != RM_JOINED) {
		log_info("ROOM_FILE from %s for a room we do not share with it: ignored", p->fp);
		return;
	}
	t = &c->rooms->ftag[c->rooms->nftag++ % ROOM_FILE_TAGS];
	memcpy(t->peer, p->pk, ROOM_KEY_LEN);
	memcpy(t->xfer, f.xfer, ROOM_ID_LEN);
	memcpy(t->room, ra->idhex, sizeof t->room);
}

/* Send ROOM_FILE before the OFFER of a transfer to a room's member. */
void
rooms_offer_tag(struct core *c, struct peer *p, const char *room, const uint8_t id[ROOM_ID_LEN])
{
	struct rec_room_file f;
	struct buf b;
	size_t len;

	if (c->rooms == NULL || p->sess == NULL ||
	    sodium_hex2bin(f.room, sizeof f.room, room, strlen(room), NULL, &len, NULL) != 0 ||
	    len != ROOM_ID_LEN)
		return;
	memcpy(f.xfer, id, ROOM_ID_LEN);
	buf_init(&b, 64);
	if (roomwire_put_file(&b, &f) == BUF_OK)
		session_send_buf(p->sess, &b);
	buf_free(&b);
}

/* The room p's OFFER with transfer id is for (its ROOM_FILE), or "". */
void
rooms_offer_room(struct core *c, const struct peer *p, const uint8_t id[ROOM_ID_LEN], char *out,
    size_t outlen)
{
	size_t i;

	out[0] = '\0';
	if (c->rooms == NULL)
		return;
	for (i = 0; i < ROOM_FILE_TAGS; i++) {
		const struct room_ftag *t = &c->rooms->ftag[i];

		if (t->room[0] != '\0' && memcmp(t->peer, p->pk, ROOM_KEY_LEN) == 0 &&
		    memcmp(t->xfer, id, ROOM_ID_LEN) == 0) {
			if (rooms_may_get_file(c, t->room, p))
				snprintf(out, outlen, "%s", t->room);
			return;
		}
	}
}

/*
 * Whether to log one more dropped room event: ROOM_DROPLOG_BURST at once,
 * then ROOM_DROPLOG_RATE a second, the others counted and said in one line
 * (a member flooding forged events must not fill the disk with our log).
 */
static int
droplog_ok(struct core *c)
{
	struct rooms *rs = c->rooms;
	uint64_t now = loop_now(c->loop);

	rs->droplog += (double)(now - rs->droplog_t) * ROOM_DROPLOG_RATE / 1000.0;
	if (rs->droplog > ROOM_DROPLOG_BURST)
		rs->droplog = ROOM_DROPLOG_BURST;
	rs->droplog_t = now;
	if (rs->droplog < 1) {
		rs->droplog_quiet++;
		return 0;
	}
	rs->droplog -= 1;
	if (rs->droplog_quiet > 0) {
		log_warn("rooms: %llu more dropped room events not logged one by one",
		    (unsigned long long)rs->droplog_quiet);
		rs->droplog_quiet = 0;
	}
	return 1;
}

/* A room record from a peer. */
void
rooms_record(struct core *c, struct peer *p, const uint8_t *rec, size_t n)
{
	struct rec_room_event e;
	struct rec_room_want w;
	struct room_app *ra;
	enum room_verdict v;
	struct ctx x;
	struct buf b;
	int want = 0;

	if (c->rooms == NULL || n < 1 + ROOM_ID_LEN)
		return;
	ra = room_by_id(c, rec + 1);
	if (ra != NULL)
		ra->r->now = loop_now(c->loop);
	switch (rec[0]) {
	case REC_ROOM_EVENT:
		if (roomwire_decode_event(rec, n, &e) != WIRE_OK)
			return;
		if (ra == NULL) {
			if (e.kind != RK_CREATE || (ra = provisional(c, p, rec, n)) == NULL)
				return;
			room_changed(c, ra);
			return;
		}
		if (ra->provisional && memcmp(ra->via, p->pk, ROOM_KEY_LEN) != 0)
			return;   /* an invitation's events come from the inviter */
		x.c = c;
		x.ra = ra;
		x.from = p;
		v = room_receive(ra->r, rec, n, is_live(c, p, &e), loop_now(c->loop), on_accept, &x, &w, &want);
		if (v == RV_RATE) {
			size_t had = ra->npull;

			/* not lost: we ask for the rest once, in a second, and then it is not live */
			keyset_add(&ra->pull, &ra->npull, p->pk);
			if (!loop_timer_armed(&c->rooms->pull_timer))
				loop_timer_set(c->loop, &c->rooms->pull_timer, 1000);
			if (ra->npull > had)   /* once per pull, not once per event refused */
				log_info("room %s: %s writes faster than %d a second: the rest later", ra->idhex,
				    p->fp, ROOM_RATE);
		} else if (v != RV_ACCEPTED && v != RV_PENDING && v != RV_DUPLICATE && !droplog_ok(c)) {
			;   /* counted */
		} else if (v == RV_DUPLICATE && room_state(ra->r, p->pk) == RM_NONE && droplog_ok(c)) {
			char afp[FP_LEN + 1];

			/* members repeat each other during anti-entropy; a stranger has no reason to */
			fp_of(e.author, afp);
			log_warn("room %s: %s event %llu by %s replayed by %s, who has no place in the room: "
			    "dropped", ra->idhex, roomwire_kind_name(e.kind), (unsigned long long)e.seq, afp, p->fp);
		} else if (v != RV_ACCEPTED && v != RV_DUPLICATE && v != RV_PENDING && v != RV_RATE) {
			char afp[FP_LEN + 1];

			fp_of(e.author, afp);
			log_warn("room %s: %s event %llu by %s from %s: %s: dropped", ra->idhex,
			    roomwire_kind_name(e.kind), (unsigned long long)e.seq, afp, p->fp, room_verdict_name(v));
		}
		if (want) {
			buf_init(&b, 128);
			if (roomwire_put_want(&b, &w) == BUF_OK && p->sess != NULL)
				session_send_buf(p->sess, &b);
			buf_free(&b);
		}
		room_changed(c, ra);
		return;
	case REC_ROOM_HAVE:
		if (ra != NULL)
			got_have(c, p, ra, rec, n);
		return;
	case REC_ROOM_WANT:
		if (ra != NULL && !ra->provisional && roomwire_decode_want(rec, n, &w) == WIRE_OK)
			(void)room_on_want(ra->r, p->pk, &w, push_to, p);
		return;
	case REC_ROOM_PROOF:
		if (ra != NULL)
			got_proof(c, p, ra, rec, n);
		return;
	case REC_ROOM_FILE:
		got_file_tag(c, p, ra, rec, n);
		return;
	}
}

/*
 * Before sleeping: announce the authors whose events we gained this turn,
 * one partial HAVE per room to each online member (13.6).
 */
void
rooms_flush(struct core *c)
{
	struct buf b;
	size_t i, j;

	if (c->rooms == NULL)
		return;
	/* first what this turn accepted goes to disk, with one fsync a room, and is shown */
	for (i = 0; i < c->rooms->n; i++)
		log_sync(c, c->rooms->list[i]);
	buf_init(&b, WIRE_RECORD_MAX);
	for (i = 0; i < c->rooms->n; i++) {
		struct room_app *ra = c->rooms->list[i];

		if (ra->nann == 0)
			continue;
		buf_reset(&b);
		if (room_put_have(ra->r, &b, (const uint8_t (*)[ROOM_KEY_LEN])ra->ann, ra->nann) == BUF_OK)
			for (j = 0; j < ra->r->nau; j++) {
				enum room_mstate st = ra->r->au[j].state;
				struct peer *p;

				if ((st != RM_JOINED && st != RM_INVITED) ||
				    memcmp(ra->r->au[j].x, c->rooms->me.x, ROOM_KEY_LEN) == 0 ||
				    (p = peer_of(c, ra->r->au[j].x)) == NULL || p->sess == NULL || !p->hello)
					continue;
				session_send_buf(p->sess, &b);
			}
		ra->nann = 0;
	}
	buf_free(&b);
}

/* Find a room by name, #name or id prefix. */
struct room_app *
rooms_find(struct core *c, const char *name, const char **why)
{
	struct room_app *found = NULL, *named = NULL;
	size_t i, len;
	int n = 0, nnamed = 0;

	if (name[0] == '#')
		name++;
	len = strlen(name);
	for (i = 0; i < c->rooms->n; i++) {
		struct room_app *ra = c->rooms->list[i];

		if (ra->provisional)
			continue;
		if (strcasecmp(ra->name, name) == 0) {
			named = ra;
			nnamed++;
		}
		if (len >= 4 && len <= ROOM_IDHEX && strncasecmp(ra->idhex, name, len) == 0) {
			found = ra;
			n++;
		}
	}
	if (nnamed == 1)
		return named;
	if (nnamed == 0 && n == 1)
		return found;
	*why = nnamed > 1 ? "more than one room has that name: use its id (/rooms)" :
	    n > 1 ? "more than one room has that id prefix" : "no such room";
	return NULL;
}

/* Whether p may still get a file sent to the room (joined or invited in it). */
int
rooms_may_get_file(struct core *c, const char *room, const struct peer *p)
{
	enum room_mstate st;
	size_t i;

	if (c->rooms == NULL)
		return 0;
	for (i = 0; i < c->rooms->n; i++)
		if (!c->rooms->list[i]->provisional && strcmp(c->rooms->list[i]->idhex, room) == 0) {
			st = room_state(c->rooms->list[i]->r, p->pk);
			return st == RM_JOINED || st == RM_INVITED;
		}
	return 0;
}

/* /send #NAME PATH...: one transfer per other joined member. */
int
rooms_send_files(struct core *c, const char *name, char *const *paths, int npaths, const char *cmd)
{
	const char *why = NULL;
	struct room_app *ra = rooms_find(c, name, &why);
	size_t i, n = 0, online = 0;
	char err[512];
	struct peer *p;

	if (ra == NULL) {
		core_error(c, cmd, NULL, "%s: %s", name, why);
		return -1;
	}
	if (room_state(ra->r, c->rooms->me.x) != RM_JOINED) {
		core_error(c, cmd, NULL, "#%s: you are %s in it, not joined", ra->name,
		    room_mstate_name(room_state(ra->r, c->rooms->me.x)));
		return -1;
	}
	if (xfer_paths_check(paths, npaths, err, sizeof err) != 0) {
		core_error(c, cmd, NULL, "%s", err);
		return -1;
	}
	for (i = 0; i < ra->r->nau; i++) {
		const struct room_author *a = &ra->r->au[i];

		if (a->state != RM_JOINED || memcmp(a->x, c->rooms->me.x, ROOM_KEY_LEN) == 0 ||
		    (p = core_peer_get(c, a->x, 1)) == NULL || p->trust == TRUST_BLOCKED)
			continue;
		if (xfer_send_room(c, p, paths, npaths, cmd, ra->idhex) == 0) {
			n++;
			online += p->sess != NULL && p->hello;
		}
	}
	if (n == 0) {
		core_error(c, cmd, NULL, "#%s: nobody else is in it to send to", ra->name);
		return -1;
	}
	core_note(c, &ra->conv, LINE_SYSTEM, "offered to %zu member%s of #%s (%zu online now, the others when "
	    "they are back)", n, n == 1 ? "" : "s", ra->name, online);
	return 0;
}

/* The room named by the next word of args, or an error for cmd. */
static struct room_app *
room_arg(struct core *c, const char *line, char **args)
{
	const char *why = NULL;
	char *name = cmd_next_word(args);
	struct room_app *ra;

	if (name == NULL) {
		core_error(c, line, NULL, "which room? (a name, #name or an id prefix)");
		return NULL;
	}
	if ((ra = rooms_find(c, name, &why)) == NULL)
		core_error(c, line, NULL, "%s: %s", name, why);
	return ra;
}

/* /msg #NAME TEXT */
int
rooms_send(struct core *c, const char *name, const char *text, const char *cmd)
{
	const char *why = NULL;
	struct room_app *ra = rooms_find(c, name, &why);
	struct ctx x;
	size_t len = strlen(text);

	if (ra == NULL) {
		core_error(c, cmd, NULL, "%s: %s", name, why);
		return -1;
	}
	if (len > WIRE_TEXT_MAX) {
		core_error(c, cmd, NULL, "a room message is at most %d bytes", WIRE_TEXT_MAX);
		return -1;
	}
	x.c = c;
	x.ra = ra;
	x.from = NULL;
	if (room_send_text(ra->r, &c->rooms->me, text, len, loop_wallclock_ms(), on_accept, &x) != 0) {
		core_error(c, cmd, NULL, "#%s: you are %s in it, not joined", ra->name,
		    room_mstate_name(room_state(ra->r, c->rooms->me.x)));
		return -1;
	}
	return 0;
}

/* /room create NAME */
static int
sub_create(struct core *c, const char *line, char *args)
{
	uint8_t id[ROOM_ID_LEN];
	char *name = cmd_next_word(&args);
	struct room_app *ra;
	struct room *r;
	struct ctx x;
	const char *why;

	if (name == NULL || name[0] == '#' || strlen(name) > ROOM_NAME_MAX || !core_nick_ok(name)) {
		core_error(c, line, NULL, "usage: /room create NAME (1 to %d bytes, no blanks, not starting with #)",
		    ROOM_NAME_MAX);
		return -1;
	}
	if (rooms_find(c, name, &why) != NULL) {
		core_error(c, line, NULL, "you have a room called %s already", name);
		return -1;
	}
	if (c->rooms->n >= ROOMS_MAX) {
		core_error(c, line, NULL, "at most %d rooms", ROOMS_MAX);
		return -1;
	}
	randombytes_buf(id, sizeof id);
	if ((r = room_create(&c->rooms->me, id, name, strlen(name), c->opt.history_lines,
	        loop_wallclock_ms(), NULL, NULL)) == NULL || (ra = ra_new(c, r)) == NULL) {
		room_free(r);
		core_error(c, line, NULL, "out of memory");
		return -1;
	}
	rooms_add(c, ra);
	x.c = c;
	x.ra = ra;
	x.from = NULL;
	on_accept(r, r->log[0], &x);   /* writes the CREATE */
	room_changed(c, ra);
	return 0;
}

/* /room invite ROOM PEER, /room kick ROOM PEER */
static int
sub_member(struct core *c, const char *line, char *args, int kick)
{
	struct room_app *ra = room_arg(c, line, &args);
	char *name = ra ? cmd_next_word(&args) : NULL;
	const char *why = NULL;
	struct peer *p;
	struct ctx x;
	int rc;

	if (ra == NULL)
		return -1;
	if (name == NULL || (p = core_find_peer(c, name, &why)) == NULL) {
		core_error(c, line, NULL, "%s: %s", name ? name : "PEER", name ? why : "whom?");
		return -1;
	}
	x.c = c;
	x.ra = ra;
	x.from = NULL;
	if (kick) {
		rc = room_kick(ra->r, &c->rooms->me, p->pk, loop_wallclock_ms(), on_accept, &x);
		if (rc != 0)
			core_error(c, line, NULL, "only the room's creator kicks, and %s must be in it", p->nick);
	} else {
		if (!p->room_key) {
			core_error(c, line, p, "%s has not shown a room key (offline since we started, or an "
			    "older confab): it must be online once", p->nick);
			return -1;
		}
		rc = room_invite(ra->r, &c->rooms->me, p->pk, p->room_ed, p->room_bind, loop_wallclock_ms(),
		    on_accept, &x);
		if (rc != 0)
			core_error(c, line, p, "cannot invite %s to #%s (you must be joined; at most %d members)",
			    p->nick, ra->name, ROOM_MEMBERS_MAX);
		else
			core_peer_keep(c, p);
	}
	room_changed(c, ra);
	return rc;
}

/* /room join|decline|leave ROOM */
static int
sub_self(struct core *c, const char *line, char *args, uint8_t kind)
{
	struct room_app *ra = room_arg(c, line, &args);
	struct ctx x;
	size_t i;

	if (ra == NULL)
		return -1;
	x.c = c;
	x.ra = ra;
	x.from = NULL;
	if (room_write(ra->r, &c->rooms->me, kind, NULL, 0, loop_wallclock_ms(), on_accept, &x) != 0) {
		core_error(c, line, NULL, "#%s: you are %s in it", ra->name,
		    room_mstate_name(room_state(ra->r, c->rooms->me.x)));
		return -1;
	}
	if (kind == RK_JOIN)
		/* 13.6: after the JOIN, our HAVE, so that members push what we may now receive */
		for (i = 0; i < ra->r->nau; i++)
			if (room_state(ra->r, ra->r->au[i].x) == RM_JOINED)
				send_have(ra, peer_of(c, ra->r->au[i].x));
	room_changed(c, ra);
	return 0;
}

/* /room SUBCOMMAND ... */
int
rooms_cmd(struct core *c, struct conversation *cur, const char *line, char *args)
{
	char *sub = cmd_next_word(&args), usage[CMD_USAGE_MAX];
	struct room_app *ra;

	(void)cur;
	if (sub == NULL)
		sub = "";
	if (strcmp(sub, "create") == 0)
		return sub_create(c, line, args);
	if (strcmp(sub, "invite") == 0)
		return sub_member(c, line, args, 0);
	if (strcmp(sub, "kick") == 0)
		return sub_member(c, line, args, 1);
	if (strcmp(sub, "join") == 0)
		return sub_self(c, line, args, RK_JOIN);
	if (strcmp(sub, "decline") == 0)
		return sub_self(c, line, args, RK_DECLINE);
	if (strcmp(sub, "leave") == 0)
		return sub_self(c, line, args, RK_LEAVE);
	if (strcmp(sub, "members") == 0) {
		if ((ra = room_arg(c, line, &args)) == NULL)
			return -1;
		tell_room(c, ra, line, 0);
		return 0;
	}
	cmd_usage("room", usage, sizeof usage);
	core_error(c, line, NULL, "usage: %s", usage);
	return -1;
}

/* /rooms */
int
rooms_cmd_list(struct core *c, struct conversation *cur, const char *line, char *args)
{
	size_t i;

	(void)cur;
	(void)args;
	for (i = 0; i < c->rooms->n; i++)
		if (!c->rooms->list[i]->provisional)
			tell_room(c, c->rooms->list[i], line, 0);
	if (c->rooms->n == 0)
		core_note(c, NULL, LINE_SYSTEM, "no rooms (/room create NAME)");
	return 0;
}
