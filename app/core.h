/* core.h - the model: identity, peers, conversations; the only place net events become state. */
#ifndef CONFAB_CORE_H
#define CONFAB_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "identity.h"
#include "loop.h"
#include "paths.h"
#include "ratelimit.h"
#include "session.h"
#include "wire.h"

#define NICK_MAX        WIRE_NICK_MAX      /* bytes of UTF-8 */
#define NICK_BUF        (NICK_MAX * 3 + 1) /* sanitised nick (U+FFFD may grow it) */
#define MSGID_HEX       (WIRE_ID_LEN * 2)
#define CONV_MAX_LINES  5000               /* scrollback kept in memory per window */
#define CONV_MAX_BYTES  (2 * 1024 * 1024)  /* and at most this much text per window */
#define CONV_STRANGER_BYTES (128 * 1024)   /* ... with a stranger (see struct peer.known) */
#define STRANGERS_MAX   64                 /* offline strangers kept in memory (the rest forgotten) */
#define SEEN_MAX        4096               /* received ids remembered per peer */
#define OUTQ_MAX        5000               /* unacknowledged messages per peer */
#define DEFAULT_PORT    7470

enum trust {
	TRUST_UNVERIFIED = 0,  /* first use: we only know the key it proved */
	TRUST_VERIFIED,        /* the user compared a /verify code and said /trust */
	TRUST_BLOCKED,         /* refused silently */
};

enum peer_state {
	PEER_OFFLINE = 0,
	PEER_DISCOVERED,    /* seen on the LAN, no session */
	PEER_CONNECTING,    /* session in handshake or waiting for HELLO */
	PEER_ONLINE,        /* session open, HELLO received */
};

enum msg_state {
	MSG_QUEUED = 0,     /* waiting for the peer to be online */
	MSG_SENT,           /* handed to the session, no ACK yet */
	MSG_DELIVERED,      /* the peer acknowledged it */
};

enum line_kind {
	LINE_MSG_IN = 1,    /* a message from the peer */
	LINE_MSG_OUT,       /* a message we sent */
	LINE_SYSTEM,        /* online/offline and other notices */
	LINE_ERROR,         /* an error */
	LINE_BARE,          /* text to copy (an invite code): shown alone, no time or mark */
};

/* One line of a conversation's scrollback; every string is sanitised. */
struct chat_line {
	enum line_kind kind;
	uint64_t       ts_ms;          /* wall clock */
	char           id[MSGID_HEX + 1];  /* message id (MSG lines) */
	enum msg_state state;          /* LINE_MSG_OUT only */
	char           nick[NICK_BUF]; /* author at the time */
	char          *text;           /* UTF-8, may contain '\n' */
	int            history;        /* loaded from (or written to) the history file */
	int            late;           /* a room message sorted before one shown earlier (13.3) */
};

struct peer;

/* A window's worth of lines: the home window or one per peer. */
struct conversation {
	struct peer       *peer;       /* NULL for the home window */
	struct chat_line **lines;      /* oldest first */
	size_t             nlines, alines;
	uint64_t           dropped;    /* lines dropped off the front (scrollback cap) */
	size_t             bytes;      /* text held, counted against the byte cap */
	unsigned           unread;
	int                open;       /* shown as a window in the UI */
};

struct outmsg {
	struct outmsg *next;
	uint8_t        id[WIRE_ID_LEN];
	uint64_t       ts_ms;
	char          *text;
	size_t         len;
	struct chat_line *line;        /* its line in the conversation, if still there */
	unsigned long  sent_on;        /* id of the session it was last sent on, 0 if none */
};

#define PEER_ONION_MAX  72   /* "ID.onion:PORT" */

struct peer {
	struct peer     *next;
	uint8_t          pk[ID_KEYLEN];
	char             fp[FP_LEN + 1];
	char             nick[NICK_BUF];   /* sanitised */
	enum peer_state  state;
	char             addr[SOCK_ADDRSTRLEN];   /* last known address */
	char             onion[PEER_ONION_MAX];   /* "ID.onion:PORT" it announced (HELLO extension 2), or "" */
	unsigned         onion_turn;       /* reconnects alternate between addr and onion */
	struct session  *sess;
	struct session  *pending;          /* our outgoing connect still in its handshake */
	char             via[8];           /* how we know it: "lan", "direct", "" */
	uint16_t         lan_port;         /* port announced on the LAN, 0 if none */
	struct sockaddr_storage lan_addr;  /* address it was discovered at */
	socklen_t        lan_addrlen;
	uint64_t         lan_hold_until;   /* loop ms: beacons' addresses ignored until then */
	uint64_t         lan_hold_ms;      /* the last hold (doubles while hints fail) */
	int              hello;            /* HELLO received on sess */
	uint32_t         caps;             /* capability bits of its last HELLO (CAP_*) */
	struct outmsg   *outq, *outq_tail; /* sent or queued, not acknowledged */
	size_t           noutq;
	uint8_t        (*seen)[WIRE_ID_LEN];   /* received message ids: grows, then a ring */
	size_t           nseen, seen_pos, aseen;
	struct conversation conv;
	struct loop_timer settle;          /* after a duplicate BYE: wait for the other session */
	struct core     *core;
	/* trust and memory */
	enum trust       trust;
	/*
	 * known: the user interacted with it (core_peer_keep): saved in the
	 * peers file with its history, queue and seen ids, called after a
	 * restart.  Otherwise a stranger: in memory only, with a small
	 * conversation, forgotten when more than STRANGERS_MAX are offline.
	 */
	int              known;
	uint64_t         last_active;      /* monotonic ms: the stranger least recently active goes first */
	unsigned         nsess;            /* sessions whose user it is (closing ones too) */
	size_t           hist_lines;       /* lines in its history file (store.c) */
	uint64_t         hist_t0;          /* start of the minute its history writes are counted in */
	size_t           hist_min_lines, hist_min_bytes;   /* written in that minute (unverified only) */
	int              hist_throttled;   /* over the limit this minute (logged once) */
	int              renamed;          /* nick is the user's name for it */
	int              forgotten;        /* /forget: listed nowhere until it comes back */
	int              told_queued;      /* "offline; queued" said since it was last online */
	int              fe_online;        /* owned by the front-end: it said the peer is online */
	int              fe_lan;           /* owned by the front-end: it said the peer is on the LAN */
	char             announced[NICK_BUF];   /* the nick it announced last */
	int              nick_clash;       /* announced a nick another known key uses (2: a beacon did, not warned yet) */
	uint64_t         last_seen;        /* wall-clock ms */
	struct loop_timer retry;           /* reconnect with back-off */
	uint64_t         backoff_ms;
	int              auto_connecting;  /* the pending connect was ours, not the user's */
	int              out_pending;      /* messages wait for the store flush to go out */
	uint8_t        (*acks)[WIRE_ID_LEN];    /* ACKs wait for the store flush */
	size_t           nacks, aacks;
	/* rooms (app/rooms.c): its signing key, from its HELLO extension 3 */
	int              room_key;
	uint8_t          room_ed[32], room_bind[64];
	uint64_t         room_pull_until;  /* loop ms: its room events answer our HAVE (not live) */
	uint32_t         room_answers;     /* ...but no more of its own than this (ROOM_PUSH_MAX a HAVE) */
};

enum core_event_type {
	EV_READY = 1,   /* listening; peer NULL */
	EV_PEER,        /* peer state or nick changed */
	EV_MESSAGE,     /* a new message from peer (line) */
	EV_SENT,        /* our message accepted (line, id; queued if peer offline) */
	EV_DELIVERED,   /* our message acknowledged (line, id) */
	EV_ERROR,       /* text, cmd (may be NULL), peer (may be NULL) */
	EV_INFO,        /* text: a notice for the home window */
	EV_NICK,        /* our own nick changed */
	EV_LINE,        /* a system line was added to peer's (or home) conversation */
	EV_OFFER,       /* an incoming offer is complete and waits for the user (xfer) */
	EV_PROGRESS,    /* a transfer moved (xfer), at most a few times a second */
	EV_TRANSFER,    /* a transfer changed state (xfer) */
	EV_VERIFY,      /* text: the session code (NULL: peer offline), safety: the safety number */
	EV_WARNING,     /* text: a security warning about peer (key or nick change) */
	EV_HISTORY,     /* line: one line of peer's conversation, in answer to /history */
	/* reachability (app/reach.c) */
	EV_NAT,         /* text: the port mapping changed (c->reach has the state); cmd for /nat */
	EV_INVITE,      /* text: our invite code, in answer to /invite (cmd) */
	EV_REACH,       /* the onion service changed state (app/onion.c) */
	/* peer lifecycle */
	EV_GONE,        /* a stranger is forgotten (STRANGERS_MAX): peer is freed right after; drop it */
	/* rooms (app/rooms.c): room is set, peer is NULL */
	EV_ROOM,        /* a room's state or members changed, or /rooms, /room members asked (cmd) */
	EV_ROOM_INVITE, /* we are invited: author is the inviter */
	EV_ROOM_MESSAGE,/* a message in a room (line, id, author, author_nick) */
	EV_ROOM_SENT,   /* our message in a room written and sent (line, id) */
	EV_ROOM_DELIVERED, /* a member has our message (id, to) */
	EV_ROOM_WITHDRAWN, /* a message shown earlier is no longer valid (13.5): id, author, author_nick */
};

struct xfer;
struct store;
struct room_app;

struct core_event {
	enum core_event_type    type;
	struct peer            *peer;
	const struct chat_line *line;
	const char             *id;
	const char             *text;
	const char             *cmd;
	const char             *reason;   /* EV_PEER: why it went offline */
	const char             *safety;   /* EV_VERIFY: the safety number */
	int                     queued;   /* EV_SENT */
	struct xfer            *xfer;     /* EV_OFFER, EV_PROGRESS, EV_TRANSFER */
	struct room_app        *room;     /* EV_ROOM* */
	const char             *author;   /* EV_ROOM_MESSAGE, _INVITE, _WITHDRAWN: fingerprint */
	const char             *author_nick;
	const char             *to;       /* EV_ROOM_DELIVERED: the member's fingerprint */
	int                     late;     /* EV_ROOM_MESSAGE: inserted before messages shown earlier */
};

struct core;

/* A front-end: the ncurses UI or the headless JSON Lines writer. */
struct frontend {
	void (*event)(struct core *, const struct core_event *, void *arg);
	void (*quit)(struct core *, void *arg);   /* the core is about to stop */
	void  *arg;
};

/* core_options.colors (configuration file, app/conffile.c) */
enum { COLORS_AUTO = 0, COLORS_ON, COLORS_OFF };

struct core_options {
	const char *home;
	const char *nick;
	const char *listen[NET_LISTEN_MAX];
	int         nlisten;
	int         discovery;      /* LAN discovery (config file: discovery, --no-discovery) */
	const char *discovery_iface;     /* LAN discovery on this interface only (NULL: all) */
	int         discovery_refresh_s; /* shortest LAN refresh interval, 0: default (tests) */
	int         nat;            /* UPnP / NAT-PMP port mapping (config file: nat, --no-nat) */
	int         keepalive_s;    /* 0: default */
	int         handshake_s;    /* 0: default */
	uint8_t     ciphers;        /* 0: all available */
	const char *log_file;
	int         debug;
	int         exit_when_idle_s;   /* headless: at the end of input, wait (at most this long)
	                                   for the queue and the transfers to empty; 0: exit at once */
	const char *download_dir;   /* NULL: the default */
	const char *accept_from;    /* auto-accept offers from this fingerprint (confab recv --yes) */
	uint64_t    limit_rate;     /* bytes/s of outgoing file data, 0: no limit */
	/* trust and memory (app/store.c) */
	size_t      history_lines;  /* history kept per peer; 0: none (see history_set) */
	int         history_set;    /* history_lines was given (else 1000) */
	int         auto_accept_verified;   /* accept files from verified peers without asking */
	int         no_reconnect;   /* never call known peers by ourselves (one-shot send/recv) */
	int         scratch_if_busy;   /* home in use by another confab: run with a temporary
	                               identity and state (one-shot send/recv) instead of failing */
	int         no_incoming;    /* no listener; refuse any session we did not open (one-shot send) */
	/* reachability (app/reach.c) */
	const char *dns_name;       /* --dns-name NAME[:PORT]: put in invite codes */
	const char *proxy;          /* --proxy socks5://...: every outgoing session through it */
	int         tor;            /* an onion service (app/onion.c) */
	const char *tor_config;     /* torrc lines for the tor we start (NULL: none) */
	const char *tor_binary;     /* the tor program we start (NULL: tor in PATH) */
	const char *tor_control;    /* an existing tor's control port (NULL: start one) */
	const char *tor_password;   /* its password (NULL: cookie or none) */
	int         tor_only;       /* onion only: loopback listeners, no connection but to .onion names */
	uint32_t    nat_lease_s;    /* --nat-lease: port mapping lease asked for, 0: default */
	const char *const *notes;   /* problems found before start (the config file's): */
	size_t      nnotes;         /* repeated in the home window once it is up */
	/* --- configuration file only (app/conffile.c): read by the UI --- */
	int         bell;           /* bell for messages in other windows (UI default) */
	int         bell_all;       /* ... and a bell for offers and warnings there too */
	size_t      paste_confirm_lines;   /* UI: a paste of more lines asks first (0: never) */
	int         colors;         /* COLORS_AUTO (unless $NO_COLOR), COLORS_ON, COLORS_OFF */
	/* --- end of configuration file only --- */
};

struct core {
	struct loop        *loop;
	struct net         *net;
	struct identity     id;
	struct paths        paths;
	struct core_options opt;
	char                nick[NICK_BUF];
	struct peer        *peers;
	size_t              npeers;
	struct conversation home;
	struct frontend     fe;
	int                 quitting;
	int                 exit_code;
	struct lan         *lan;         /* LAN discovery (app/lan.c), NULL when off */
	struct store       *store;       /* what we remember (app/store.c) */
	struct reach       *reach;       /* port mapping, invites, DNS names (app/reach.c) */
	struct onion       *onion;       /* the onion service (app/onion.c), NULL when off */
	struct rooms       *rooms;       /* group rooms (app/rooms.c) */
	struct xfer        *xfers;       /* newest first */
	uint32_t            next_handle;
	char                xfer_dir[PATH_MAX];   /* resume state of incoming transfers */
	int                 lock_fd;         /* the state directory's lock (paths_lock), -1 if none */
	char                scratch[PATH_MAX];   /* temporary state directory, removed at exit */
	struct ratelimit    rate;            /* --limit-rate (app/transfer.c) */
	struct loop_timer   rate_timer;      /* wakes the senders when data may go again */
	/*
	 * The peer that core_connect was asked for: the key that answered at the
	 * address, or that proved the key an invite code or DNS pins (one-shot
	 * send sends to it and to no one else).
	 */
	unsigned long       connect_sid;     /* session opened by core_connect to an address */
	int                 asked;           /* asked_pk is set */
	uint8_t             asked_pk[ID_KEYLEN];
};

/* Load identity and paths, start listening.  Returns 0 or -1 with err set. */
int  core_init(struct core *, struct loop *, const struct core_options *,
               const struct frontend *, char *err, size_t errlen);
/* Emit EV_READY (call once the front-end is ready to show it). */
void core_ready(struct core *);
/* Say goodbye to every peer and stop the loop. */
void core_quit(struct core *, int exit_code);
/* Free everything. */
void core_free(struct core *);
/* Our listening addresses as text ("0.0.0.0:7470"), at most max; returns how many. */
size_t core_listen_addrs(struct core *, char (*out)[SOCK_ADDRSTRLEN], size_t max);
const char *core_peer_path(const struct peer *);

/*
 * Connect to "HOST:PORT" (numeric, or localhost); anything else (an invite
 * code, NAME@DOMAIN, a host name) goes to reach_connect.  Errors are EV_ERROR
 * events for cmd.
 */
int  core_connect(struct core *, const char *target, const char *cmd);
/* A blocked peer: report "NAME is blocked" for cmd and return -1; else 0. */
int  core_refuse_blocked(struct core *, struct peer *, const char *cmd);
/* Send text to peer; queued if the peer is offline. Returns 0 or -1. */
int  core_send_msg(struct core *, struct peer *, const char *text, size_t len, const char *cmd);
/* Whether a nick is acceptable as ours: 1 to NICK_MAX bytes of printable UTF-8, no spaces. */
int  core_nick_ok(const char *nick);
/* Change our nick and tell every online peer. */
int  core_set_nick(struct core *, const char *nick, const char *cmd);
/*
 * Find a peer by nick (exact, case-insensitive) or fingerprint prefix (at least
 * FP_MIN_PREFIX characters).  On failure returns NULL and a reason in why.
 */
struct peer *core_find_peer(struct core *, const char *name, const char **why);
/* Free a conversation's lines (the conversation itself stays usable, empty). */
void conv_free(struct conversation *);
/* Hand an event to the front-end (nothing happens when none is attached). */
void core_emit(struct core *, const struct core_event *);
/* Append a system or error line to conv (or the home window if conv is NULL). */
void core_note(struct core *, struct conversation *, enum line_kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Report an error for a command (EV_ERROR). */
void core_error(struct core *, const char *cmd, struct peer *, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Find a peer by key; with create, add it if unknown. NULL if absent or out of memory. */
struct peer *core_peer_get(struct core *, const uint8_t pk[ID_KEYLEN], int create);
/* Call known peers with an onion address again soon (tor's SOCKS port is known now). */
void core_redial_known(struct core *);
/* Send HELLO again on every open session (our onion address is new). */
void core_hello_all(struct core *);
/* Whether s is "ID.onion:PORT" (a v3 onion id and a port). */
int  core_onion_ok(const char *s);
/*
 * The user interacted with a peer: sent it a message or a file, accepted a
 * file from it, asked for its verification code (/verify), trusted, blocked,
 * unblocked or renamed it, or connected to it by address or invite.  It
 * becomes known: saved in the peers file, its conversation so far and the ids
 * it sent written to disk, called again after a restart.  Does nothing for a
 * peer already known.  (A peer with queued messages is known: sending made it.)
 */
void core_peer_keep(struct core *, struct peer *);
/* Tell the front-end that a peer changed (state, nick, addresses). */
void core_peer_changed(struct core *, struct peer *, const char *reason);
/*
 * Drop a peer the model only heard of (a LAN beacon): unknown, unverified,
 * unnamed, no session, no lines, no window, no queue, no transfer.  Returns 0
 * if it was freed (p is gone), -1 if anything still refers to it.
 */
int  core_peer_forget(struct core *, struct peer *);
/*
 * Open a session to a peer we are not connected to, at its discovered LAN
 * address or its last known address, insisting on its key.  Returns 0 if a
 * session exists or is on its way, -1 if there is no address to try.
 */
int  core_connect_peer(struct core *, struct peer *);

/* Append a line to a conversation (oldest dropped beyond CONV_MAX_LINES). */
struct chat_line *core_conv_add(struct conversation *, enum line_kind, const char *nick, const char *text);
/* Remember a received message id (the oldest forgotten beyond SEEN_MAX). */
void core_seen_remember(struct peer *, const uint8_t id[WIRE_ID_LEN]);
/*
 * A peer announced a nick in its HELLO: adopt it, unless another known key
 * uses a lookalike of it or it reads as a fingerprint (then mangle and warn).
 */
void core_peer_announce(struct core *, struct peer *, const char *nick);
/* A LAN beacon named a key we never had a session with: the name shown until its HELLO. */
void core_peer_hint(struct core *, struct peer *, const char *nick);
/* Trust verbs: set the state, save it, tell the front-end. */
int  core_set_trust(struct core *, struct peer *, enum trust, const char *cmd);
int  core_rename(struct core *, struct peer *, const char *name, const char *cmd);
int  core_forget(struct core *, struct peer *, const char *cmd);
void core_clear_history(struct core *, struct peer *);
const char *trust_name(enum trust);

/* Short state name: "offline", "discovered", "connecting", "online". */
const char *peer_state_name(enum peer_state);

#endif
