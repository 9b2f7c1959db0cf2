/* onion.h - reachable as a Tor onion service: a tor confab starts and owns, or
 * an existing tor's control port; the service key kept in the state dir. */
#ifndef CONFAB_ONION_H
#define CONFAB_ONION_H

#include <stddef.h>

#include "core.h"

#define ONION_ADDR_MAX  72          /* "ID.onion:PORT" */

/*
 * Start publishing (from core_ready, after the ready event), if the options ask for it
 * (tor, tor_config or tor_control, and not no_tor).  Failures are logged and
 * shown as the onion state, never fatal.
 */
void onion_start(struct core *);
/* Quitting: close the control connection (the service goes), ask our tor to stop. */
void onion_stop(struct core *);
/* Wait (bounded) for our tor to exit, then free everything. */
void onion_free(struct core *);
/* "ID.onion:PORT" once tor has added the service (published or not), else NULL. */
const char *onion_addr(const struct core *);
/* The service id (56 characters) once added, else NULL. */
const char *onion_id(const struct core *);
/* The onion's port (the listener's), 0 if none. */
unsigned onion_port(const struct core *);
/* Whether a descriptor has been uploaded: peers can reach us now. */
int  onion_published(const struct core *);
/* "off", "starting", "connecting", "bootstrapping", "publishing", "published" or "failed". */
const char *onion_state(const struct core *);
/* Tor's bootstrap progress in percent, -1 if unknown. */
int  onion_bootstrap(const struct core *);
/* Tor's SOCKS port ("127.0.0.1:9050") once known, else NULL. */
const char *onion_socks(const struct core *);
/* Why the onion service failed, or NULL. */
const char *onion_error(const struct core *);
/* Whether confab started the tor itself (else: --tor-control). */
int  onion_own_tor(const struct core *);
/*
 * A call through our tor to the onion addr did not get through: err is the
 * SOCKS5 reply code or SESSION_TUNNEL_TIMEOUT.  When the cause may be state
 * tor holds about that service (an old descriptor whose introduction points
 * are dead, a rendezvous waiting for a service that is gone, HSDirs it will
 * not ask again for 15 minutes) and the tor is ours, tor is asked to forget
 * it all (SIGNAL NEWNYM); the next call fetches the service's current
 * descriptor.  NEWNYMs are at least ONION_NEWNYM_GAP_MS apart, a gap that
 * doubles while calls keep failing (a peer that is simply away) up to
 * ONION_NEWNYM_GAP_MAX_MS, about how long tor itself takes to give up a
 * stuck rendezvous, and is back to the start after a quiet spell.
 */
#define ONION_NEWNYM_GAP_MS      30000
#define ONION_NEWNYM_GAP_MAX_MS  180000
void onion_call_failed(struct core *, const char *addr, int err);

#endif
