/* race.h - connection racing: every address of a peer at once, the first proven handshake wins. */
#ifndef CONFAB_RACE_H
#define CONFAB_RACE_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "dns.h"

#define REACH_RACE_MAX  24          /* addresses one connect attempt tries at once */
#define REACH_RACE_MS   30000       /* a connect attempt gives up after this */
#define REACH_ONION_HOLD_MS 2000    /* onion addresses start this much after the direct ones */

struct race;

/* Every connect attempt in flight (one per reach). */
struct races {
	struct core *c;
	struct dns  *dns;            /* NULL: names cannot be looked up here */
	struct race *list;
	int          stopping;       /* quitting: attempts end without a word */
};

void races_init(struct races *, struct core *, struct dns *);
/* Quitting: drop outstanding lookups; attempts still open end silently. */
void races_stop(struct races *);
/* Free every attempt (their sessions belong to the net, which closes them). */
void races_free(struct races *);

/*
 * Connect to an invite code, NAME@DOMAIN (SRV and TXT records) or HOST[:PORT]
 * (A and AAAA).  Every address found is tried at once; the first handshake
 * that completes wins and the others are closed.  Errors are EV_ERROR events
 * for cmd.
 */
int  race_connect(struct races *, const char *target, const char *cmd);
/* From on_established: -1 if s lost a race (refuse it), 1 if it won one, 0 if it is no racer. */
int  race_established(struct races *, struct session *);
/* From on_closed: 1 if s was one of our attempts (handled here), else 0. */
int  race_closed(struct races *, struct session *, const char *reason);

/* Parse "HOST[:PORT]" (a DNS name; the port defaults to defport); -1 if it is none. */
int  race_parse_host(const char *text, char *host, size_t hostlen, uint16_t *port, uint16_t defport);

/*
 * The fingerprint published for user in the TXT strings of _confab._tcp.DOMAIN
 * ("user=FINGERPRINT", user compared without case).  Returns 1 with pk set,
 * 0 if no string has that form at all, -1 with a reason in err (user not
 * listed, a malformed fingerprint, two different ones).
 */
int  reach_txt_pin(const struct dns_txt *, size_t n, const char *user, uint8_t pk[ID_KEYLEN],
                   char *err, size_t errlen);

#endif
