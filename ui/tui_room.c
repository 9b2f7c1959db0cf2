/*
 * tui_room.c - room windows (issue 15): one per room joined or invited to,
 * with a stable number like a conversation's; its title, member list, the
 * author marks of its lines, and the room events.  Everything is drawn from
 * the model (app/rooms.h); text typed there goes to the room.
 */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "rooms.h"
#include "text.h"
#include "tui_int.h"

/* One member as the UI shows it. */
struct member {
	const struct room_author *au;
	struct peer *p;           /* NULL: us, or a key we never met */
	int          me, online;
	char         fp[FP_LEN + 1];
};

/* The room whose window shows cv, or NULL (home, a peer's, transfers). */
struct room_app *
tui_room_of(struct tui *t, const struct conversation *cv)
{
	size_t i;

	if (t->core.rooms == NULL || cv == NULL || cv->peer != NULL)
		return NULL;
	for (i = 0; i < t->core.rooms->n; i++)
		if (&t->core.rooms->list[i]->conv == cv)
			return t->core.rooms->list[i];
	return NULL;
}

/* Our state in a room. */
static enum room_mstate
my_state(struct tui *t, const struct room_app *ra)
{
	return room_state(ra->r, t->core.rooms->me.x);
}

/* Fill m for directory entry au. */
static void
member_of(struct tui *t, const struct room_author *au, struct member *m)
{
	m->au = au;
	m->me = memcmp(au->x, t->core.rooms->me.x, ROOM_KEY_LEN) == 0;
	m->p = m->me ? NULL : core_peer_get(&t->core, au->x, 0);
	m->online = m->me || (m->p != NULL && m->p->state == PEER_ONLINE);
	fp_encode(au->x, m->fp);
}

/* The name shown for a member: ours, a peer's nick, else its short fingerprint. */
static const char *
member_nick(struct tui *t, const struct member *m, char *buf, size_t len)
{
	if (m->me)
		return t->core.nick;
	if (m->p != NULL && m->p->nick[0] != '\0')
		return m->p->nick;
	snprintf(buf, len, "%.*s", FP_SHORT, m->fp);
	return buf;
}

/* A member's trust mark, as conversations show it; "*" is us, a key never met is unverified. */
static const char *
member_mark(struct tui *t, const struct member *m, attr_t *a)
{
	if (m->me) {
		*a = A_BOLD;
		return "*";
	}
	if (m->p != NULL)
		return tui_trust_mark(t, m->p, a);
	*a = tui_color_attr(t, PAIR_YELLOW, A_NORMAL);
	return "?";
}

/* Joined members, those of them online (us included) and members invited. */
void
tui_room_counts(struct tui *t, const struct room_app *ra, size_t *online, size_t *total, size_t *invited)
{
	struct member m;
	size_t i;

	*online = *total = *invited = 0;
	for (i = 0; i < ra->r->nau; i++) {
		if (ra->r->au[i].state == RM_INVITED)
			(*invited)++;
		if (ra->r->au[i].state != RM_JOINED)
			continue;
		member_of(t, &ra->r->au[i], &m);
		(*total)++;
		*online += (size_t)m.online;
	}
}

/* The title of room window i: "#name  online/total", then our state in it. */
void
tui_room_title(struct tui *t, const struct room_app *ra, unsigned num, char *buf, size_t len)
{
	size_t on, tot, inv;
	char more[48] = "";
	const char *st;

	tui_room_counts(t, ra, &on, &tot, &inv);
	if (inv > 0)
		snprintf(more, sizeof more, ", %zu invited", inv);
	switch (my_state(t, ra)) {
	case RM_JOINED:   st = ""; break;
	case RM_INVITED:  st = "  you are invited: /room join or /room decline"; break;
	case RM_LEFT:     st = "  you left"; break;
	case RM_KICKED:   st = "  you were kicked"; break;
	case RM_DECLINED: st = "  you declined"; break;
	default:          st = "  not a member"; break;
	}
	snprintf(buf, len, " %u:#%s  %zu/%zu online%s%s  id %.8s", num, ra->name, on, tot, more, st, ra->idhex);
}

/* The glyph of a member's presence. */
static const char *
presence(const struct tui *t, int online)
{
	return online ? (t->utf8 ? "\xe2\x97\x8f" : "+") : (t->utf8 ? "\xe2\x97\x8b" : "-");
}

/* One row of the member list at (y, x0): presence, trust mark, nick, fingerprint or "invited". */
static void
member_row(struct tui *t, const struct member *m, int y, int x0, int inner)
{
	char nb[FP_SHORT + 1];
	const char *mark, *tail = m->au->state == RM_INVITED ? "invited" : m->fp;
	int ncols = inner - 4 - FP_SHORT - 1, x;
	attr_t ma;

	move(y, x0);
	attrset(m->online ? tui_color_attr(t, PAIR_GREEN, A_BOLD) : A_DIM);
	addstr(presence(t, m->online));
	attrset(A_NORMAL);
	addch(' ');
	mark = member_mark(t, m, &ma);
	attrset(ma);
	addstr(mark);
	attrset(A_NORMAL);
	addch(' ');
	attrset(m->me ? A_BOLD : tui_color_attr(t, tui_nick_pair(m->fp), A_NORMAL));
	x = tui_put_model(t, member_nick(t, m, nb, sizeof nb), ncols);
	attrset(A_NORMAL);
	for (; x < ncols + 1; x++)
		addch(' ');
	attrset(A_DIM);
	addnstr(tail, FP_SHORT);
	attrset(A_NORMAL);
}

/*
 * The member list in the side pane of a room window (columns x0.., rows
 * y0..y0+h-1): joined members, then those invited.
 */
void
tui_room_sidebar(struct tui *t, const struct room_app *ra, int x0, int y0, int h)
{
	int inner = TUI_SIDEBAR_W - 2, y = y0, pass;
	size_t on, tot, inv, i, listed, shown = 0;
	char head[ROOM_NAME_BUF + 32];
	struct member m;

	mvvline(y0, x0, ACS_VLINE, h);
	tui_room_counts(t, ra, &on, &tot, &inv);
	listed = tot + inv;
	snprintf(head, sizeof head, "%zu/%zu online #%s", on, tot, ra->name);
	move(y++, x0 + 2);
	attrset(A_BOLD);
	tui_put_model(t, head, inner);
	attrset(A_NORMAL);
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < ra->r->nau && y < y0 + h; i++) {
			if (ra->r->au[i].state != (pass == 0 ? RM_JOINED : RM_INVITED))
				continue;
			shown++;
			if (y == y0 + h - 1 && shown < listed) {
				snprintf(head, sizeof head, "+%zu more (/room members)", listed - shown + 1);
				move(y++, x0 + 2);
				tui_put_cols(head, strlen(head), inner);
				return;
			}
			member_of(t, &ra->r->au[i], &m);
			member_row(t, &m, y++, x0 + 2, inner);
		}
}

/*
 * The rooms at the top of the peer list (at most half of its h rows): name,
 * unread count, members online/total.  Returns the rows used.
 */
int
tui_room_list(struct tui *t, int x0, int y0, int h)
{
	int inner = TUI_SIDEBAR_W - 2, y = y0, x, ncols;
	size_t i, on, tot, inv;
	char right[32], unread[16];

	if (t->core.rooms == NULL)
		return 0;
	for (i = 0; i < t->core.rooms->n && y < y0 + h / 2; i++) {
		struct room_app *ra = t->core.rooms->list[i];
		enum room_mstate st = my_state(t, ra);

		if (ra->provisional || (st != RM_JOINED && st != RM_INVITED && tui_win_find(t, &ra->conv) < 0))
			continue;
		tui_room_counts(t, ra, &on, &tot, &inv);
		if (st == RM_INVITED)
			snprintf(right, sizeof right, "invite");
		else
			snprintf(right, sizeof right, "%zu/%zu", on, tot);
		unread[0] = '\0';
		if (ra->conv.unread > 0)
			snprintf(unread, sizeof unread, " %u", ra->conv.unread > 999 ? 999 : ra->conv.unread);
		ncols = inner - 1 - (int)strlen(unread) - 1 - (int)strlen(right);
		move(y, x0);
		attrset(&ra->conv == tui_cur_conv(t) ? A_REVERSE | A_BOLD : A_BOLD);
		addch('#');
		x = 1 + tui_put_model(t, ra->name, ncols);
		if (unread[0] != '\0')
			addstr(unread);
		x += (int)strlen(unread);
		for (; x < inner - (int)strlen(right); x++)
			addch(' ');
		attrset(A_DIM);
		addstr(right);
		attrset(A_NORMAL);
		y++;
	}
	return y - y0;
}

/* The directory entry of the author of room line l (its id: 16 hex digits of the key, '-', seq). */
static const struct room_author *
line_author(const struct room_app *ra, const struct chat_line *l)
{
	static const char hex[] = "0123456789abcdef";
	char h[17];
	size_t i, k;

	if (strlen(l->id) < 17 || l->id[16] != '-')
		return NULL;
	for (i = 0; i < ra->r->nau; i++) {
		for (k = 0; k < 8; k++) {
			h[2 * k] = hex[ra->r->au[i].x[k] >> 4];
			h[2 * k + 1] = hex[ra->r->au[i].x[k] & 15];
		}
		if (memcmp(h, l->id, 16) == 0)
			return &ra->r->au[i];
	}
	return NULL;
}

/*
 * For a message line of a room window: its author's trust mark (and
 * attribute) and fingerprint (its colour).  0 if cv is not a room's or the
 * author is not known.
 */
int
tui_room_line_author(struct tui *t, const struct conversation *cv, const struct chat_line *l,
    const char **mark, attr_t *ma, char fp[FP_LEN + 1])
{
	struct room_app *ra = tui_room_of(t, cv);
	const struct room_author *au;
	struct member m;

	if (ra == NULL || (au = line_author(ra, l)) == NULL)
		return 0;
	member_of(t, au, &m);
	*mark = member_mark(t, &m, ma);
	memcpy(fp, m.fp, FP_LEN + 1);
	return 1;
}

/* The member list as lines in conversation to (/room members, an invitation). */
void
tui_room_members_note(struct tui *t, struct room_app *ra, struct conversation *to)
{
	size_t on, tot, inv, i;
	char nb[FP_SHORT + 1];
	struct member m;
	attr_t ma;
	int pass;

	tui_room_counts(t, ra, &on, &tot, &inv);
	core_note(&t->core, to, LINE_SYSTEM, "#%s: %zu member%s, %zu online, %zu invited (id %s)", ra->name,
	    tot, tot == 1 ? "" : "s", on, inv, ra->idhex);
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < ra->r->nau; i++) {
			if (ra->r->au[i].state != (pass == 0 ? RM_JOINED : RM_INVITED))
				continue;
			member_of(t, &ra->r->au[i], &m);
			core_note(&t->core, to, LINE_SYSTEM, "  %s %s %s  %.*s  %s%s", presence(t, m.online),
			    member_mark(t, &m, &ma), member_nick(t, &m, nb, sizeof nb), FP_SHORT, m.fp,
			    m.me ? "you" : m.online ? "online" : "offline", pass ? ", invited" : "");
		}
}

/* Open (or find) a room's window; returns its index, -1 if out of memory. */
static long
room_win(struct tui *t, struct room_app *ra)
{
	long i = tui_win_open(t, &ra->conv);

	if (i >= 0)
		t->win[i].room = ra;
	return i;
}

/* We are invited: a window saying by whom, the members and how to answer; a note at home. */
static void
invited(struct tui *t, struct room_app *ra, const char *by)
{
	long i;

	ra->fe_state = RM_INVITED;
	if ((i = room_win(t, ra)) < 0)
		return;
	core_note(&t->core, &ra->conv, LINE_SYSTEM, "%s invites you to #%s: /room join or /room decline "
	    "(typed here, the room is this one)", by, ra->name);
	tui_room_members_note(t, ra, &ra->conv);
	if (i != (long)t->cur) {
		ra->conv.unread++;
		if (t->bell == TUI_BELL_ALL)
			t->want_bell = 1;
	}
	if (t->win[i].num <= 10)
		core_note(&t->core, NULL, LINE_SYSTEM, "%s invites you to #%s - window %u (Alt-%u)", by, ra->name,
		    t->win[i].num, t->win[i].num % 10);
	else
		core_note(&t->core, NULL, LINE_SYSTEM, "%s invites you to #%s - /window %u", by, ra->name,
		    t->win[i].num);
}

/* A room's state or members changed: our state is news (join, create: its window on screen). */
static void
changed(struct tui *t, struct room_app *ra)
{
	enum room_mstate st = my_state(t, ra);
	long i;

	if ((int)st == ra->fe_state || ra->provisional)
		return;   /* members: the title and list are drawn from the model */
	if (st == RM_INVITED) {
		invited(t, ra, "someone");
		return;
	}
	ra->fe_state = (int)st;
	if (st == RM_JOINED && (i = room_win(t, ra)) >= 0) {
		tui_win_switch(t, (size_t)i);   /* only we write our JOIN (and CREATE) */
		return;
	}
	if ((i = tui_win_find(t, &ra->conv)) == (long)t->cur)
		return;   /* its window says so (a line for the event, the title) */
	if (i > 0)
		ra->conv.unread++;
	core_note(&t->core, NULL, LINE_SYSTEM, "#%s: %s", ra->name, st == RM_KICKED ? "you were kicked" :
	    st == RM_LEFT ? "you left" : st == RM_DECLINED ? "you declined" : "you are not a member");
}

/* A room event from the core (EV_ROOM*): windows, unread counts, notes. */
void
tui_room_event(struct tui *t, const struct core_event *ev)
{
	struct room_app *ra = ev->room;
	long i;

	if (ra == NULL || t->core.rooms == NULL)
		return;
	switch (ev->type) {
	case EV_ROOM_MESSAGE:
		i = room_win(t, ra);
		if (i == (long)t->cur)
			ra->conv.unread = 0;
		else if (t->bell)
			t->want_bell = 1;
		break;
	case EV_ROOM_SENT:
		room_win(t, ra);
		break;
	case EV_ROOM_INVITE:
		invited(t, ra, ev->author_nick != NULL ? ev->author_nick : "someone");
		break;
	case EV_ROOM:
		if (ev->cmd == NULL)
			changed(t, ra);
		else if (strncasecmp(ev->cmd, "/rooms", 6) == 0 && (ev->cmd[6] == '\0' || ev->cmd[6] == ' ')) {
			size_t on, tot, inv;

			tui_room_counts(t, ra, &on, &tot, &inv);
			i = tui_win_find(t, &ra->conv);
			core_note(&t->core, tui_cur_conv(t), LINE_SYSTEM, "#%s  %zu/%zu online, %zu invited  you: %s  "
			    "id %s%s", ra->name, on, tot, inv, room_mstate_name(my_state(t, ra)), ra->idhex,
			    i > 0 ? "  (a window is open)" : "");
		} else {
			tui_room_members_note(t, ra, tui_cur_conv(t));
		}
		break;
	default:
		break;   /* withdrawn, delivered: the model marked the lines */
	}
}

/* At start: a window for each room joined and each invitation not answered. */
void
tui_room_start(struct tui *t)
{
	size_t i;

	if (t->core.rooms == NULL)
		return;
	for (i = 0; i < t->core.rooms->n; i++) {
		struct room_app *ra = t->core.rooms->list[i];
		enum room_mstate st = my_state(t, ra);

		if (ra->provisional)
			continue;
		ra->fe_state = (int)st;
		if (st == RM_JOINED || st == RM_INVITED)
			room_win(t, ra);
	}
}

/* Close the window of a room the core no longer holds (compares pointers only). */
void
tui_room_prune(struct tui *t)
{
	size_t i, k;

	for (i = t->nwin; i-- > 1;) {
		int held = 0;

		if (t->win[i].room == NULL)
			continue;
		for (k = 0; t->core.rooms != NULL && k < t->core.rooms->n; k++)
			held |= t->core.rooms->list[k] == t->win[i].room;
		if (!held)
			tui_win_drop(t, t->win[i].conv);
	}
}

/*
 * The room's id, when it names this room and no other: a room whose name
 * is another's id (a peer names rooms) must not catch what is meant here.
 */
static const char *
room_ref(struct tui *t, struct room_app *ra)
{
	const char *why = NULL;

	if (rooms_find(&t->core, ra->idhex, &why) != ra) {
		core_note(&t->core, &ra->conv, LINE_ERROR, "another room is named %s: use its name or id "
		    "prefix (/rooms) with /msg #NAME and /room", ra->idhex);
		return NULL;
	}
	return ra->idhex;
}

/* Text typed or pasted in a room window: to the room. */
int
tui_room_say(struct tui *t, struct room_app *ra, const char *text)
{
	const char *id = room_ref(t, ra);

	if (id == NULL)
		return -1;
	return rooms_send(&t->core, id, text, NULL);
}

/*
 * "/room SUB" typed in a room window without its ROOM: the line with this
 * room put in (join, decline, leave, members; invite and kick with one
 * PEER).  A new string to free, or NULL to run the line as it is.
 */
char *
tui_room_default(struct tui *t, struct room_app *ra, const char *line)
{
	static const char *const bare[] = { "join", "decline", "leave", "members", NULL };
	char copy[1024], *args = copy, *sub, *out;
	const char *id, *rest;
	size_t nwords = 0, i;
	int peer_only, known = 0;

	if (strlen(line) >= sizeof copy)
		return NULL;
	memcpy(copy, line, strlen(line) + 1);
	cmd_next_word(&args);   /* "/room" */
	if ((sub = cmd_next_word(&args)) == NULL)
		return NULL;
	peer_only = strcmp(sub, "invite") == 0 || strcmp(sub, "kick") == 0;
	for (i = 0; bare[i] != NULL; i++)
		known |= strcmp(sub, bare[i]) == 0;
	while (cmd_next_word(&args) != NULL)
		nwords++;
	if (!((known && nwords == 0) || (peer_only && nwords == 1)) || (id = room_ref(t, ra)) == NULL)
		return NULL;
	/* the same words again, the room after the subcommand */
	for (rest = line; *rest == ' ' || *rest == '\t'; rest++)
		;
	rest += strcspn(rest, " \t");
	rest += strspn(rest, " \t");
	rest += strcspn(rest, " \t");
	if ((out = malloc(strlen(line) + ROOM_IDHEX + 2)) == NULL)
		return NULL;
	snprintf(out, strlen(line) + ROOM_IDHEX + 2, "%.*s %s%s", (int)(rest - line), line, id, rest);
	return out;
}

/* Tab after '#': the names of the rooms (joined, invited, or with a window). */
void
tui_room_complete(struct tui *t, struct tui_comp *c, const char *word)
{
	size_t i, n = strlen(word);

	if (t->core.rooms == NULL || n == 0 || word[0] != '#')
		return;
	for (i = 0; i < t->core.rooms->n; i++) {
		struct room_app *ra = t->core.rooms->list[i];

		if (!ra->provisional && strncasecmp(ra->name, word + 1, n - 1) == 0 &&
		    strpbrk(ra->name, " \t") == NULL)
			comp_add(c, "#", ra->name, " ");
	}
}
