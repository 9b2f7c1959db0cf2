/*
 * xferstate.h - the files that let transfers outlive a restart: an incoming
 * transfer's resume state (XFER_DIR/ID.in) and an outgoing transfer's offer
 * (XFER_DIR/ID.out).  Both are written with persist_atomic_write, mode 0600.
 */
#ifndef CONFAB_XFERSTATE_H
#define CONFAB_XFERSTATE_H

#include <stddef.h>

#include "transfer.h"

/*
 * Persist an accepted incoming transfer: where it goes, its staging tag, and
 * for each file the offset up to which data is safely on disk.  0 or -1
 * (logged).
 */
int  xstate_in_save(struct xfer *);
/* Remove the resume state of an incoming transfer. */
void xstate_in_remove(struct xfer *);
/* Remove the resume state saved under another id (an offer sent again). */
void xstate_in_remove_id(struct core *, const char *idhex);
/*
 * Load saved state matching x: the file named by x's id, else any state from
 * the same peer with the same offer digest.  Fills tag, target, start and
 * fdone.  Returns 1 if found (and the id it was saved under in oldid), else 0
 * (start and fdone zeroed).
 */
int  xstate_in_load(struct xfer *, char oldid[XFER_ID_HEX + 1]);

/*
 * Save an outgoing transfer so that a restart does not lose it: the peer,
 * id, key, total and each path given (absolute, in hex).  Not in one-shot
 * mode (no_reconnect).  A failure is logged.
 */
void xstate_out_save(struct xfer *, char *const *paths, int npaths);
/* An outgoing transfer has ended: it is no longer saved. */
void xstate_out_remove(struct xfer *);

/* What an ID.out file holds (xstate_out_read). */
struct xstate_out {
	int                magic;        /* the first line was ours */
	char               fp[FP_LEN + 1];
	char               idhex[XFER_ID_HEX + 1];
	char               keyhex[XFER_KEY_LEN * 2 + 1];
	unsigned long long total;
	char               room[XFER_ROOM_HEX + 1];   /* "room HEX": sent to a room's member */
	char             **paths;        /* decoded; NULL for a damaged one */
	size_t             npaths, apaths;
};

/* Read an ID.out file; 0, or -1 if it cannot be read.  Free with xstate_out_free. */
int  xstate_out_read(const char *file, struct xstate_out *);
/* Free what xstate_out_read kept (and wipe the key). */
void xstate_out_free(struct xstate_out *);

#endif
