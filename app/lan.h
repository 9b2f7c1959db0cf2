/* lan.h - LAN discovery glue: beacons (net/disc) become peers in the model. */
#ifndef CONFAB_LAN_H
#define CONFAB_LAN_H

#include "core.h"

#define LAN_MAX_CREATED  1024   /* peers the LAN may add to the model per run */
#define LAN_BAN_MAX      16     /* remembered (key, address) pairs that lied */
#define LAN_BAN_MS       (10 * 60 * 1000)
#define LAN_HOLD_MS      (30 * 1000)   /* first hold on a key whose beacon's address failed */

struct lan;

/* Start announcing and listening (c->lan); 0, or -1 with a logged reason. */
int  lan_start(struct core *);
/* Say goodbye on the LAN and stop (harmless when not started). */
void lan_stop(struct core *);
/* Our nick changed: announce it. */
void lan_set_nick(struct core *);
/*
 * An outgoing connect to p failed before its handshake finished.  If the host
 * proved a key other than p's, warn, distrust the beacon that sent us there,
 * and show the host under the key it proved.
 */
void lan_connect_failed(struct core *, struct peer *, struct session *);

#endif
