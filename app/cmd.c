/* cmd.c - the command language shared by every front-end. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "invite.h"
#include "log.h"
#include "reach.h"        /* /invite, /nat */
#include "rooms.h"        /* /room, /rooms, /msg #NAME */
#include "transfer.h"
#include "verify.h"

#define CMD_LINE_MAX 8192

/* Split off the first word of *s (NUL-terminating it); NULL if none. */
char *
cmd_next_word(char **s)
{
	char *w, *p = *s;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		*s = p;
		return NULL;
	}
	w = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	if (*p != '\0')
		*p++ = '\0';
	*s = p;
	return w;
}

/* Skip leading blanks. */
static char *
skip_blanks(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Report the usage of command name (from cmd_table) as line's error; note, if any, follows. */
static void
usage_error(struct core *c, const char *line, struct peer *p, const char *name, const char *note)
{
	char u[CMD_USAGE_MAX];

	cmd_usage(name, u, sizeof u);
	if (note != NULL)
		core_error(c, line, p, "usage: %s (%s)", u, note);
	else
		core_error(c, line, p, "usage: %s", u);
}

/* /connect HOST[:PORT] | CODE | NAME@DOMAIN (blanks inside a code are dropped) */
static int
cmd_connect(struct core *c, struct conversation *cur, const char *line, char *args)
{
	char code[INVITE_TEXT_MAX], *target;
	const char *why;
	struct peer *p;

	if (invite_squeeze(args, code, sizeof code))
		return core_connect(c, code, line);   /* a code copied in pieces */
	target = cmd_next_word(&args);
	if (target == NULL || *skip_blanks(args) != '\0') {
		usage_error(c, line, NULL, "connect", NULL);
		return -1;
	}
	if (strpbrk(target, ".:@[") == NULL && (p = core_find_peer(c, target, &why)) != NULL) {
		/* a known peer by its nick (or fingerprint): call it again */
		if (core_refuse_blocked(c, p, line) == -1)
			return -1;
		if (p->state == PEER_ONLINE) {
			core_note(c, cur, LINE_SYSTEM, "already connected to %s (%s)", p->nick, p->addr);
			return 0;
		}
		if (core_connect_peer(c, p) == -1) {
			core_error(c, line, p, "no address known for %s: /connect HOST:PORT or an invite code",
			    p->nick);
			return -1;
		}
		core_note(c, cur, LINE_SYSTEM, "connecting to %s at %s", p->nick, p->addr[0] ? p->addr : "its LAN address");
		return 0;
	}
	return core_connect(c, target, line);
}

/*
 * Send text to p; over the length limit it goes as several messages, split
 * at a line break, else a blank, else between characters, and a note says so.
 */
static int
send_text(struct core *c, struct peer *p, const char *text, const char *cmd)
{
	size_t len = strlen(text), n, cut, parts = 0;
	const char *s = text;

	if (len <= WIRE_TEXT_MAX)
		return core_send_msg(c, p, text, len, cmd);
	if (core_refuse_blocked(c, p, cmd) == -1)
		return -1;
	while (len > 0) {
		n = len;
		cut = len;
		if (n > WIRE_TEXT_MAX) {
			n = WIRE_TEXT_MAX;
			for (cut = n; cut > n / 2 && s[cut] != '\n'; cut--)
				;
			if (s[cut] != '\n')
				for (cut = n; cut > n / 2 && s[cut] != ' '; cut--)
					;
			if (s[cut] != '\n' && s[cut] != ' ')
				for (cut = n; cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80; cut--)
					;   /* no blank: between two characters */
			n = cut;
		}
		if (n > 0 && core_send_msg(c, p, s, n, cmd) == -1)
			return -1;
		parts += n > 0;
		s += n;
		len -= n;
		if (len > 0 && (*s == '\n' || *s == ' ')) {
			s++;   /* the break it was split at */
			len--;
		}
	}
	core_note(c, &p->conv, LINE_SYSTEM, "a message over %d bytes was sent in %zu parts (split at "
	    "line breaks or blanks)", WIRE_TEXT_MAX, parts);
	return 0;
}

/* Send text (a paste: line breaks and all) to p, in parts if it is long. */
int
cmd_send_text(struct core *c, struct peer *p, const char *text)
{
	return send_text(c, p, text, NULL);
}

/* /msg PEER TEXT */
static int
cmd_msg(struct core *c, struct conversation *cur, const char *line, char *args)
{
	const char *why;
	struct peer *p;
	char *name = cmd_next_word(&args), *text;

	text = skip_blanks(args);
	if (name == NULL || *text == '\0') {
		usage_error(c, line, NULL, "msg", NULL);
		return -1;
	}
	if (name[0] == '#')
		return rooms_send(c, name, text, line);
	if ((p = core_find_peer(c, name, &why)) == NULL) {
		core_error(c, line, NULL, "%s: %s", name, why);
		return -1;
	}
	if (send_text(c, p, text, line) == -1)
		return -1;
	if (cur != NULL && cur != &p->conv)
		core_note(c, cur, LINE_SYSTEM, "-> %s: %s", p->nick, text);   /* said where it was typed */
	return 0;
}

/* /peers: list known peers as info lines (and EV_PEER for each). */
static int
cmd_peers(struct core *c, struct conversation *cur, const char *line, char *args)
{
	struct core_event ev;
	struct peer *p;

	if (c->peers == NULL)
		core_note(c, NULL, LINE_SYSTEM, "no peers known yet");
	for (p = c->peers; p != NULL; p = p->next) {
		if (p->forgotten)
			continue;
		memset(&ev, 0, sizeof ev);
		ev.type = EV_PEER;
		ev.peer = p;
		ev.cmd = line;
		core_emit(c, &ev);
	}
	return 0;
}

/* /nick NAME */
static int
cmd_nick(struct core *c, struct conversation *cur, const char *line, char *args)
{
	char *nick = cmd_next_word(&args);

	if (nick == NULL || *skip_blanks(args) != '\0') {
		usage_error(c, line, NULL, "nick", "no spaces");
		return -1;
	}
	if (core_set_nick(c, nick, line) == -1)
		return -1;
	core_note(c, cur, LINE_SYSTEM, "you are now known as %s", c->nick);
	return 0;
}

/* /me: who am I. */
static int
cmd_whoami(struct core *c, struct conversation *cur, const char *line, char *args)
{
	char addrs[NET_LISTEN_MAX][SOCK_ADDRSTRLEN];
	char all[NET_LISTEN_MAX * (SOCK_ADDRSTRLEN + 1) + 1] = "";
	size_t n, i;

	n = net_listen_addrs(c->net, addrs, NET_LISTEN_MAX);
	for (i = 0; i < n; i++) {
		strcat(all, i ? " " : "");
		strcat(all, addrs[i]);
	}
	core_note(c, cur, LINE_SYSTEM, "you are %s, fingerprint %s, listening on %s",
	    c->nick, c->id.fp, n > 0 ? all : c->opt.tor_only ? "no address: only tor, for the onion service" : "nothing");
	return 0;
}

/*
 * Split args into words in place, honouring "double quotes" and backslash
 * escapes, so that paths with spaces can be named.  Returns the word count, or
 * -1 if there are more than max or a quote is left open.
 */
static int
split_words(char *args, char **words, int max)
{
	char *r = args, *w = args;
	int n = 0, inq;

	for (;;) {
		while (*r == ' ' || *r == '\t')
			r++;
		if (*r == '\0')
			return n;
		if (n == max)
			return -1;
		words[n++] = w;
		inq = 0;
		while (*r != '\0' && (inq || (*r != ' ' && *r != '\t'))) {
			if (*r == '"') {
				inq = !inq;
				r++;
			} else if (*r == '\\' && r[1] != '\0') {
				*w++ = r[1];
				r += 2;
			} else {
				*w++ = *r++;
			}
		}
		if (inq)
			return -1;
		if (*r != '\0')
			r++;
		*w++ = '\0';
	}
}

/*
 * A path word as the user means it: "~" or "~/..." is below $HOME (the UI's
 * path completion offers such paths).  Returns NULL if word needs no change,
 * else a new string (caller frees).
 */
static char *
home_path(const char *word)
{
	const char *home = getenv("HOME");
	size_t n;
	char *out;

	if (word[0] != '~' || (word[1] != '\0' && word[1] != '/') || home == NULL || home[0] != '/')
		return NULL;
	n = strlen(home) + strlen(word);
	if ((out = malloc(n)) != NULL)
		snprintf(out, n, "%s%s", home, word + 1);
	return out;
}

/* /send PEER PATH... */
static int
cmd_send(struct core *c, struct conversation *cur, const char *line, char *args)
{
	char *words[65], *expanded[65] = { NULL };
	const char *why;
	struct peer *p;
	int n = split_words(args, words, 65), i, rc, first = 1;

	if (n >= 2 && words[0][0] == '#') {
		p = NULL;   /* /send #ROOM PATH...: to its members */
	} else if (n >= 1 && cur != NULL && cur->peer != NULL &&
	    (n == 1 || core_find_peer(c, words[0], &why) == NULL)) {
		p = cur->peer;   /* in a conversation window: /send PATH... to its peer */
		first = 0;
	} else if (n < 2) {
		if (n == -1)
			core_error(c, line, NULL, "unbalanced quotes or too many paths (64 at most)");
		else
			usage_error(c, line, NULL, "send",
			    "quote paths with spaces; in a conversation window, /send PATH...");
		return -1;
	} else if ((p = core_find_peer(c, words[0], &why)) == NULL) {
		core_error(c, line, NULL, "%s: %s", words[0], why);
		return -1;
	}
	for (i = first; i < n; i++)
		if ((expanded[i] = home_path(words[i])) != NULL)
			words[i] = expanded[i];
	if (p == NULL)
		rc = rooms_send_files(c, words[0], words + first, n - first, line);
	else
		rc = xfer_send(c, p, words + first, n - first, line);
	for (i = first; i < n; i++)
		free(expanded[i]);
	return rc;
}

/*
 * Find the transfer named by the first word of args.  For /accept and
 * /reject (offers), without an id: the only offer waiting for an answer.
 */
static struct xfer *
xfer_arg(struct core *c, const char *line, char **args, const char *name)
{
	const char *why;
	struct xfer *x, *only = NULL;
	char *id = cmd_next_word(args), usage[CMD_USAGE_MAX];
	int offers = strcmp(name, "accept") == 0 || strcmp(name, "reject") == 0, n = 0;

	if (id == NULL && offers) {
		for (x = c->xfers; x != NULL; x = x->next)
			if (!x->hidden && x->dir == XFER_IN && x->state == XS_PENDING)
				only = x, n++;
		if (n == 1)
			return only;
		cmd_usage(name, usage, sizeof usage);
		core_error(c, line, NULL, n == 0 ? "no offer is waiting for an answer" :
		    "%d offers are waiting: name one (usage: %s; Tab completes the id)", n, usage);
		return NULL;
	}
	if (id == NULL) {
		usage_error(c, line, NULL, name, NULL);
		return NULL;
	}
	if ((x = xfer_find(c, id, &why)) == NULL)
		core_error(c, line, NULL, "%s: %s", id, why);
	return x;
}

/* /accept ID [DIR] */
static int
cmd_accept(struct core *c, struct conversation *cur, const char *line, char *args)
{
	struct xfer *x = xfer_arg(c, line, &args, "accept");
	char *words[2], *expanded = NULL;
	int n, rc;

	if (x == NULL)
		return -1;
	n = split_words(args, words, 1);
	if (n == -1) {
		usage_error(c, line, NULL, "accept", "quote a directory with spaces");
		return -1;
	}
	if (n == 1 && (expanded = home_path(words[0])) != NULL)
		words[0] = expanded;
	if (n == 1 && words[0][0] != '/') {
		core_error(c, line, NULL, "the directory must be an absolute path");
		return -1;
	}
	rc = xfer_accept(c, x, n == 1 ? words[0] : NULL, line);
	free(expanded);
	return rc;
}

/* /reject ID */
static int
cmd_reject(struct core *c, struct conversation *cur, const char *line, char *args)
{
	struct xfer *x = xfer_arg(c, line, &args, "reject");

	return x == NULL ? -1 : xfer_reject(c, x, line);
}

/* /cancel ID */
static int
cmd_cancel(struct core *c, struct conversation *cur, const char *line, char *args)
{
	struct xfer *x = xfer_arg(c, line, &args, "cancel");

	return x == NULL ? -1 : xfer_cancel(c, x, line);
}

/* /transfers: one event per transfer. */
static int
cmd_transfers(struct core *c, struct conversation *cur, const char *line, char *args)
{
	struct core_event ev;
	struct xfer *x;

	if (c->xfers == NULL)
		core_note(c, cur, LINE_SYSTEM, "no transfers");
	for (x = c->xfers; x != NULL; x = x->next) {
		if (x->hidden)
			continue;
		memset(&ev, 0, sizeof ev);
		ev.type = EV_TRANSFER;
		ev.peer = x->peer;
		ev.xfer = x;
		ev.id = x->idhex;
		ev.cmd = line;
		core_emit(c, &ev);
	}
	return 0;
}

/*
 * Find the peer named by the first word of args (the rest stays in args).
 * Without one, in a conversation window (cur), that window's peer.
 */
static struct peer *
peer_arg_in(struct core *c, struct conversation *cur, const char *line, char **args,
    const char *name)
{
	const char *why;
	struct peer *p;
	char *word = cmd_next_word(args);

	if (word == NULL && cur != NULL && cur->peer != NULL)
		return cur->peer;   /* the window's peer is implied */
	if (word == NULL) {
		usage_error(c, line, NULL, name, NULL);
		return NULL;
	}
	if ((p = core_find_peer(c, word, &why)) == NULL)
		core_error(c, line, NULL, "%s: %s", word, why);
	return p;
}

/* The peer named by the first word of args, never implied. */
static struct peer *
peer_arg(struct core *c, const char *line, char **args, const char *name)
{
	return peer_arg_in(c, NULL, line, args, name);
}

/*
 * /verify PEER: show the session code (peer online) and the safety number,
 * each first on its line, so that the peer's nick cannot put digits of its
 * choosing where the code is read.
 */
static int
cmd_verify(struct core *c, struct conversation *cur, const char *line, char *args)
{
	struct core_event ev;
	struct peer *p = peer_arg_in(c, cur, line, &args, "verify");
	char code[VERIFY_CODE_LEN], safety[VERIFY_SAFETY_LEN];
	int live;

	if (p == NULL)
		return -1;
	core_peer_keep(c, p);   /* the user means to verify it: remember it */
	live = verify_peer(c, p, code, safety);
	if (live)
		core_note(c, &p->conv, LINE_SYSTEM,
		    "session code %s (with %s) - read it to each other now, by voice; "
		    "it is new for every connection", code, p->nick);
	else
		core_note(c, &p->conv, LINE_SYSTEM,
		    "session code: none while %s is offline (it comes from the live "
		    "connection: /verify again once %s is online)", p->nick, p->nick);
	core_note(c, &p->conv, LINE_SYSTEM,
	    "safety number %s (with %s) - compare it any time (in person, on paper); "
	    "it stays the same while both keys do", safety, p->nick);
	core_note(c, &p->conv, LINE_SYSTEM, "if %s is the same on both screens, type /trust %s",
	    live ? "either one" : "the safety number", p->nick);
	memset(&ev, 0, sizeof ev);
	ev.type = EV_VERIFY;
	ev.peer = p;
	ev.text = live ? code : NULL;
	ev.safety = safety;
	ev.cmd = line;
	core_emit(c, &ev);
	return 0;
}

/*
 * /trust, /block, /unblock, /untrust [PEER] (in a conversation window: its
 * peer); name is the command's full name (the line may hold a prefix of it).
 */
static int
trust_cmd(struct core *c, struct conversation *cur, const char *line, char *args, const char *name)
{
	int untrust = strcmp(name, "untrust") == 0;
	enum trust t = strcmp(name, "trust") == 0 ? TRUST_VERIFIED :
	    strcmp(name, "block") == 0 ? TRUST_BLOCKED : TRUST_UNVERIFIED;
	struct peer *p = peer_arg_in(c, cur, line, &args, name);

	if (p == NULL)
		return -1;
	if (untrust && p->trust != TRUST_VERIFIED) {
		core_error(c, line, p, "%s is not verified (it is %s)", p->nick,
		    p->trust == TRUST_BLOCKED ? "blocked: /unblock it" : "unverified already");
		return -1;
	}
	if (!untrust && t == TRUST_UNVERIFIED && p->trust != TRUST_BLOCKED) {
		core_error(c, line, p, "%s is not blocked", p->nick);
		return -1;
	}
	if (core_set_trust(c, p, t, line) == -1)
		return -1;
	if (cur != NULL && cur != &p->conv)   /* the answer where it was typed */
		core_note(c, cur, LINE_SYSTEM, "%s is now %s", p->nick,
		    t == TRUST_VERIFIED ? "verified" : t == TRUST_BLOCKED ? "blocked" : "unverified");
	return 0;
}

/* /trust [PEER] */
static int
cmd_trust(struct core *c, struct conversation *cur, const char *line, char *args)
{
	return trust_cmd(c, cur, line, args, "trust");
}

/* /block [PEER] */
static int
cmd_block(struct core *c, struct conversation *cur, const char *line, char *args)
{
	return trust_cmd(c, cur, line, args, "block");
}

/* /unblock PEER */
static int
cmd_unblock(struct core *c, struct conversation *cur, const char *line, char *args)
{
	return trust_cmd(c, cur, line, args, "unblock");
}

/* /untrust PEER */
static int
cmd_untrust(struct core *c, struct conversation *cur, const char *line, char *args)
{
	return trust_cmd(c, cur, line, args, "untrust");
}

/* /rename PEER NAME */
static int
cmd_rename(struct core *c, struct conversation *cur, const char *line, char *args)
{
	struct peer *p = peer_arg(c, line, &args, "rename");
	char *name;

	if (p == NULL)
		return -1;
	if ((name = cmd_next_word(&args)) == NULL || *skip_blanks(args) != '\0') {
		usage_error(c, line, p, "rename", "no spaces");
		return -1;
	}
	{
		char was[NICK_BUF];

		snprintf(was, sizeof was, "%s", p->nick);
		if (core_rename(c, p, name, line) == -1)
			return -1;
		core_note(c, cur != NULL ? cur : &p->conv, LINE_SYSTEM, "%s (%.8s) is now called %s", was,
		    p->fp, p->nick);
	}
	return 0;
}

/* /forget PEER */
static int
cmd_forget(struct core *c, struct conversation *cur, const char *line, char *args)
{
	struct peer *p = peer_arg(c, line, &args, "forget");

	return p == NULL ? -1 : core_forget(c, p, line);
}

/* /history-clear [PEER]: forget a conversation's history (the UI's /clear --history). */
static int
cmd_history_clear(struct core *c, struct conversation *cur, const char *line, char *args)
{
	struct peer *p;

	if (*skip_blanks(args) == '\0' && cur != NULL && cur->peer != NULL)
		p = cur->peer;
	else if ((p = peer_arg(c, line, &args, "history-clear")) == NULL)
		return -1;
	core_clear_history(c, p);
	core_note(c, &p->conv, LINE_SYSTEM, "history with %s cleared", p->nick);
	return 0;
}

/* /history PEER [N]: the last N (default 20) lines of a conversation as events. */
static int
cmd_history(struct core *c, struct conversation *cur, const char *line, char *args)
{
	struct core_event ev;
	struct peer *p = peer_arg(c, line, &args, "history");
	char *num;
	size_t n = 20, i;

	if (p == NULL)
		return -1;
	if ((num = cmd_next_word(&args)) != NULL) {
		char *end;
		unsigned long v = strtoul(num, &end, 10);

		if (*end != '\0' || v == 0) {
			usage_error(c, line, p, "history", NULL);
			return -1;
		}
		n = v;
	}
	i = p->conv.nlines > n ? p->conv.nlines - n : 0;
	for (; i < p->conv.nlines; i++) {
		memset(&ev, 0, sizeof ev);
		ev.type = EV_HISTORY;
		ev.peer = p;
		ev.line = p->conv.lines[i];
		ev.cmd = line;
		core_emit(c, &ev);
	}
	return 0;
}

/* /me ACTION: a message that starts with "/me " (PROTOCOL.md 5.4), in this window. */
static int
cmd_me(struct core *c, struct conversation *cur, const char *line, char *args)
{
	char text[CMD_LINE_MAX + 8];

	args = skip_blanks(args);
	if (*args == '\0') {
		usage_error(c, line, NULL, "me", "for example /me waves");
		return -1;
	}
	if (cur == NULL || cur->peer == NULL) {
		core_error(c, line, NULL, "/me ACTION works in a conversation window; elsewhere: /msg PEER /me ACTION");
		return -1;
	}
	snprintf(text, sizeof text, "/me %s", args);
	return send_text(c, cur->peer, text, line);
}

/* Whether a message's text is an action ("/me waves"): shown "* NICK waves". */
int
cmd_is_action(const char *text)
{
	return strncmp(text, "/me ", 4) == 0 && text[4 + strspn(text + 4, " ")] != '\0';
}

/* /quit */
static int
cmd_quit(struct core *c, struct conversation *cur, const char *line, char *args)
{
	core_quit(c, 0);
	return 0;
}

const struct cmd_def cmd_table[] = {
	{ "connect", "HOST[:PORT]|CODE|NAME@DOMAIN|PEER", "connect to an address, an invite code, "
	  "a DNS name, or a known peer again", cmd_connect },
	{ "msg", "PEER TEXT", "send a message (PEER: nick or fingerprint prefix)", cmd_msg },
	{ "peers", "", "list known peers", cmd_peers },
	{ "nick", "NAME", "change your nick", cmd_nick },
	{ "send", "PEER PATH...", "offer files or directories to a peer (in its window: /send PATH...; "
	  "#ROOM: to its members)", cmd_send },
	{ "accept", "[ID [DIR]]", "accept an offer (into DIR, else the download directory; no ID: "
	  "the only offer waiting)", cmd_accept },
	{ "reject", "[ID]", "reject an offer (no ID: the only offer waiting)", cmd_reject },
	{ "cancel", "ID", "cancel a transfer, either direction", cmd_cancel },
	{ "transfers", "", "list transfers", cmd_transfers },
	{ "verify", "[PEER]", "show the session code and safety number to compare with PEER "
	  "(in its window: PEER may be left out)", cmd_verify },
	{ "trust", "[PEER]", "mark PEER verified (after comparing a /verify code)", cmd_trust },
	{ "block", "[PEER]", "refuse PEER's connections, messages and beacons", cmd_block },
	{ "unblock", "PEER", "undo /block (PEER becomes unverified)", cmd_unblock },
	{ "untrust", "PEER", "undo /trust (PEER becomes unverified)", cmd_untrust },
	{ "rename", "PEER NAME", "call PEER by a name of your choosing", cmd_rename },
	{ "forget", "PEER", "forget PEER: trust, history, queued messages", cmd_forget },
	{ "history", "PEER [N]", "show the last N lines with PEER (headless: history events)", cmd_history },
	{ "history-clear", "[PEER]", "delete the conversation history with PEER", cmd_history_clear },
	{ "whoami", "", "show your nick, fingerprint and addresses", cmd_whoami },
	{ "invite", "", "print an invite code (fingerprint and addresses) for a peer to /connect", reach_cmd_invite },
	{ "nat", "", "show whether the router maps our port (and ask again if it failed)", reach_cmd_nat },
	{ "me", "ACTION", "send ACTION as an action, shown \"* you ACTION\" (in a conversation window)", cmd_me },
	{ "room", "create NAME|invite ROOM PEER|join ROOM|decline ROOM|leave ROOM|kick ROOM PEER|members ROOM",
	  "group rooms (ROOM: name, #name or id prefix)", rooms_cmd },
	{ "rooms", "", "list your rooms and invitations", rooms_cmd_list },
	{ "quit", "", "say goodbye to every peer and exit", cmd_quit },
	{ NULL, NULL, NULL, NULL },
};

/*
 * What /help COMMAND adds to a command's line in the tables: the full text,
 * one sentence or example a line.  The core's commands and the UI's.
 */
static const struct { const char *name, *text; } cmd_more[] = {
	{ "connect", "HOST[:PORT]: a numeric address or a DNS name (every address it has is tried at "
	  "once; the first handshake wins); the port defaults to 7470.\n"
	  "CODE: an invite code (from /invite or confab invite): every address in it is "
	  "tried, and only the peer that proves the code's fingerprint is accepted.\n"
	  "Blanks and line breaks inside a pasted code are ignored.\n"
	  "NAME@DOMAIN: SRV and TXT records of _confab._tcp.DOMAIN give the address and "
	  "the fingerprint to pin.\n"
	  "PEER (a known nick): call that peer again at its last address.\n"
	  "Example: /connect 192.168.1.20:7470" },
	{ "msg", "Sends TEXT to PEER; in PEER's window, just type the text.\n"
	  "A peer that is offline gets it when it is back (queued on disk, even across "
	  "restarts); marks: ~ queued, - sent, + delivered.\n"
	  "TEXT starting with /me is an action: /msg bob /me waves.\n"
	  "Over 4096 bytes, it is split at line breaks or blanks, with a note." },
	{ "peers", "Every peer you know and the strangers still in memory: nick, fingerprint, "
	  "state (online with the path: direct, mapped port, tor or proxy), trust and last address." },
	{ "nick", "Online peers see the new nick at once; it is kept for the next start (unless "
	  "--nick or the config file names one).  1 to 64 bytes, no blanks." },
	{ "send", "Offers the files and directories (whole, empty folders included) to PEER, who "
	  "sees every name and size before saying yes.  In PEER's window: /send PATH...\n"
	  "Quote a PATH with blanks in double quotes (\"my notes.txt\") or put a backslash "
	  "before each blank; ~/ is your home directory.\n"
	  "A peer that is offline gets the offer when it is back; an interrupted transfer "
	  "resumes where it stopped.\n"
	  "/send #ROOM PATH... offers them to every other member of the room, each its own "
	  "transfer: the members online now at once, the others when they are back (unless they "
	  "left the room or were kicked in the meantime)." },
	{ "accept", "ID: the transfer's id, or 4+ of its first hex digits (the screen shows 8).\n"
	  "DIR: where the files go (default: the download directory); quoted like a /send "
	  "PATH.  Nothing already there is overwritten: \"name (1).ext\"." },
	{ "reject", "The sender is told; nothing is written." },
	{ "cancel", "Ends a transfer either way, at any stage; the other side is told.  An incoming "
	  "transfer cancelled leaves nothing behind." },
	{ "transfers", "In the full-screen interface: the transfers window (Alt-T), with progress, rate "
	  "and ETA; offers are listed in full; those under way come first.\n"
	  "/transfers clear takes the finished ones off the list." },
	{ "verify", "Shows the session code (the same on both screens for this connection) and the "
	  "safety number (the same for this pair of keys).  Compare them with PEER over "
	  "another channel (voice, in person); if they match, /trust PEER." },
	{ "trust", "Marks PEER verified (a check mark) once you have compared a /verify code.\n"
	  "Undo with /untrust PEER." },
	{ "block", "PEER can no longer connect, message or offer; its LAN beacons are ignored.\n"
	  "Undo with /unblock PEER." },
	{ "unblock", "PEER becomes unverified again, and can connect." },
	{ "untrust", "PEER becomes unverified again." },
	{ "rename", "Only you see NAME; it wins over the nick PEER sends.  /rename PEER with the "
	  "nick it sends gives the choice back to it." },
	{ "forget", "Drops PEER's trust, history, queued messages and saved address; it becomes a "
	  "stranger again." },
	{ "history", "Goes to PEER's window scrolled back to its last N lines (PgUp scrolls further). "
	  " Headless: one history event a line." },
	{ "history-clear", "Deletes the stored conversation with PEER (every peer without PEER)." },
	{ "whoami", "Your nick, fingerprint, listening addresses and port mapping." },
	{ "invite", "Prints your invite code on a line of its own: your fingerprint and every "
	  "address to try.  Give it to a peer, who types /connect CODE (or runs confab "
	  "send --to CODE FILE)." },
	{ "nat", "Says whether the router forwards your port (UPnP or NAT-PMP), and asks it again "
	  "if it did not." },
	{ "me", "Sent as a message whose text starts with \"/me \" (as in IRC): peers show it "
	  "\"* yournick ACTION\".  Elsewhere than a conversation window:\n"
	  "/msg PEER /me ACTION." },
	{ "room", "A room is a group conversation with no server: its members carry it.\n"
	  "/room create NAME makes one; /room invite ROOM PEER invites a peer you know (online "
	  "once since you started); the invitee answers /room join ROOM or /room decline ROOM.\n"
	  "/room leave ROOM; /room kick ROOM PEER (the creator only: final); /room members ROOM.\n"
	  "Write with /msg #NAME TEXT.  ROOM is a name, #name or an id prefix (4+ hex)." },
	{ "rooms", "Your rooms and invitations, with your state in each and their members." },
	{ "quit", "Says goodbye to every peer (they see you offline at once) and exits; queued "
	  "messages and transfers wait for the next start." },
	{ "help", "/help lists every command and key; /help COMMAND gives its full text (any case, "
	  "a unique prefix, or an alias)." },
	{ "query", "Opens PEER's window (or goes to it); Alt-1..9 and /window N move between "
	  "windows." },
	{ "window", "1 is home; the others are numbered as they open, and keep their number when "
	  "another closes (a gap, which the next window opened fills).\n"
	  "/window renumber closes the gaps.\n"
	  "Alt-1..9, Alt-left/right, Ctrl-N/Ctrl-P move too." },
	{ "close", "Closes this conversation window; the conversation is kept (its history too), "
	  "and /query PEER opens it again." },
	{ "clear", "Hides the lines of this window (they are not deleted); --history also deletes "
	  "the stored history with this peer." },
	{ "bell", "messages: ring for a message in a window you are not looking at (the default); "
	  "all: also for offers and warnings; off: never.  Until you quit; the config file "
	  "key bell sets it for good." },
	{ NULL, NULL },
};

/* The full text of /help NAME (after its usage line), or NULL. */
const char *
cmd_help_text(const char *name)
{
	size_t i;

	for (i = 0; cmd_more[i].name != NULL; i++)
		if (strcmp(cmd_more[i].name, name) == 0)
			return cmd_more[i].text;
	return NULL;
}

/* Short names people type out of habit (irssi's among them). */
const struct cmd_alias cmd_aliases[] = {
	{ .alias = "q", .name = "query" }, { .alias = "j", .name = "query" },
	{ .alias = "join", .name = "query" }, { .alias = "w", .name = "window" },
	{ .alias = "win", .name = "window" }, { .alias = "exit", .name = "quit" },
	{ .alias = "bye", .name = "quit" }, { .alias = "m", .name = "msg" },
	{ .alias = "tell", .name = "msg" }, { .alias = NULL, .name = NULL },
};

/* Edit distance of two short words (typos: a letter wrong, missing, extra or swapped). */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, row[33], prev, tmp, best;

	if (la > 32 || lb > 32)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			best = prev + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/* Resolve a typed command name (see cmd.h). */
const char *
cmd_resolve(const char *name, const char *const *extra, char *err, size_t errlen)
{
	const char *found = NULL, *near = NULL, *nm;
	char amb[160] = "";
	size_t n = strlen(name), d, dnear = 3, i, k;
	int matches = 0;

	for (k = 0; k < 2; k++) {
		for (i = 0; (nm = k == 0 ? cmd_table[i].name : extra != NULL ? extra[i] : NULL) != NULL; i++)
			if (strcasecmp(nm, name) == 0)
				return nm;
	}
	for (i = 0; cmd_aliases[i].alias != NULL; i++)
		if (strcasecmp(cmd_aliases[i].alias, name) == 0)
			return cmd_aliases[i].name;
	for (k = 0; k < 2; k++) {
		for (i = 0; (nm = k == 0 ? cmd_table[i].name : extra != NULL ? extra[i] : NULL) != NULL; i++) {
			if (n > 0 && strncasecmp(nm, name, n) == 0 && (found == NULL || strcmp(found, nm) != 0)) {
				found = nm;
				matches++;
				if (strlen(amb) + strlen(nm) + 4 < sizeof amb)
					snprintf(amb + strlen(amb), sizeof amb - strlen(amb), "%s/%s", amb[0] ? ", " : "", nm);
			}
			if ((d = distance(nm, name)) < dnear) {
				dnear = d;
				near = nm;
			}
		}
	}
	if (matches == 1)
		return found;
	if (matches > 1)
		snprintf(err, errlen, "ambiguous command /%s: %s", name, amb);
	else if (near != NULL && dnear <= (n > 4 ? 2u : 1u))
		snprintf(err, errlen, "unknown command /%s: did you mean /%s? (/help lists them)", name, near);
	else
		snprintf(err, errlen, "unknown command /%s (/help lists them)", name);
	return NULL;
}

/* Find a command by name. */
const struct cmd_def *
cmd_find(const struct cmd_def *table, const char *name)
{
	for (; table->name != NULL; table++)
		if (strcmp(table->name, name) == 0)
			return table;
	return NULL;
}

/* Run one line of input. */
int
cmd_run(struct core *c, struct conversation *cur, const char *line)
{
	const struct cmd_def *d;
	char buf[CMD_LINE_MAX], *args, *name;
	size_t n = strlen(line);

	if (n >= sizeof buf) {
		core_error(c, NULL, NULL, "line too long (%zu bytes)", n);
		return -1;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	memcpy(buf, line, n);
	buf[n] = '\0';
	if (buf[0] != '/' || buf[1] == '/') {
		const char *text = buf[0] == '/' ? buf + 1 : buf;

		if (*text == '\0')
			return 0;
		if (cur == NULL || cur->peer == NULL) {
			core_error(c, buf, NULL, "not in a conversation: use /msg PEER TEXT");
			return -1;
		}
		return send_text(c, cur->peer, text, buf);
	}
	args = buf + 1;
	name = cmd_next_word(&args);
	if (name == NULL) {
		core_error(c, buf, NULL, "empty command");
		return -1;
	}
	if ((d = cmd_find(cmd_table, name)) == NULL) {
		char err[256];
		const char *full = cmd_resolve(name, NULL, err, sizeof err);

		if (full == NULL) {
			core_error(c, buf, NULL, "%s", err);
			return -1;
		}
		if ((d = cmd_find(cmd_table, full)) == NULL)
			return 1;   /* a front-end's command (/query, /window: the UI's) */
	}
	{
		char orig[CMD_LINE_MAX];

		memcpy(orig, line, n);
		orig[n] = '\0';
		return d->fn(c, cur, orig, args) == 0 ? 0 : -1;
	}
}

/* "/NAME ARGS" of a command in cmd_table (see cmd.h). */
size_t
cmd_usage(const char *name, char *out, size_t outlen)
{
	const struct cmd_def *d = cmd_find(cmd_table, name);
	int n;

	if (d == NULL)
		n = snprintf(out, outlen, "/%s", name);
	else
		n = snprintf(out, outlen, "/%s%s%s", d->name, *d->args ? " " : "", d->args);
	return n < 0 ? 0 : (size_t)n;
}
