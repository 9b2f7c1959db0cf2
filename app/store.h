/* store.h - what confab remembers: known peers, history, the offline queue, seen ids. */
#ifndef CONFAB_STORE_H
#define CONFAB_STORE_H

#include <stdint.h>

#include "core.h"

/*
 * Files, all mode 0600 in directories of mode 0700 under the state directory:
 *   peers              every known peer (core_peer_keep): key, trust, names, addresses
 *   history/FP         the conversation with one peer, one line per message
 *   queue/FP           write-ahead log of messages to FP not yet acknowledged
 *   seen/FP            ids of messages received from FP (duplicate filter)
 * Appends are buffered during a loop turn and written together before the
 * turn ends; messages and acknowledgements that depend on them are sent only
 * after that (see store_flush), so a crash or kill -9 at any moment loses no
 * queued message and shows nothing twice.  The queue and seen-id files are
 * fdatasync'ed at most a second later, batched, against power loss.
 * Nothing is written about strangers (peers not known): they live in memory.
 * A history file is cut back to its newest history_lines lines whenever it
 * reaches twice that; an unverified peer's messages go into it at most
 * HIST_MINUTE_LINES lines and HIST_MINUTE_BYTES bytes a minute (the rest are
 * shown, not kept).
 */

#define HIST_MINUTE_LINES 120
#define HIST_MINUTE_BYTES (128 * 1024)

/* Create the directories. Returns 0 or -1 with err set. */
int  store_init(struct core *, char *err, size_t errlen);
/* Load known peers with their history, queued messages and seen ids. */
int  store_load(struct core *);
/* Write buffered appends, fsync them, and rewrite the peers file if it changed. */
void store_flush(struct core *);
/* The peers file needs rewriting (trust, names, addresses changed). */
void store_peers_dirty(struct core *);

/* Append one conversation line (a message in or out) to the peer's history. */
void store_history_add(struct core *, struct peer *, const struct chat_line *);
/* Forget the peer's history on disk. */
void store_history_clear(struct core *, struct peer *);
/* Log an outgoing message before it is sent (write-ahead). */
void store_queue_add(struct core *, struct peer *, const struct outmsg *);
/* Log that a queued message was acknowledged. */
void store_queue_ack(struct core *, struct peer *, const uint8_t id[WIRE_ID_LEN]);
/* Remember a received message id. */
void store_seen_add(struct core *, struct peer *, const uint8_t id[WIRE_ID_LEN]);
/* Delete everything stored about a peer. */
void store_forget(struct core *, struct peer *);
/* A stranger became known: write its conversation so far and its received ids. */
void store_peer_kept(struct core *, struct peer *);
/* A peer is about to be freed: drop its pending appends. */
void store_peer_gone(struct core *, struct peer *);
/* Free buffers. */
void store_free(struct core *);

/* Escape text for one line of a store file (\\, \n, \t, controls as \xHH). */
int  store_escape(const char *in, size_t n, char *out, size_t outlen);
/* Undo store_escape in place; returns the length. */
size_t store_unescape(char *s);

#endif
