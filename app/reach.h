/* reach.h - being reachable and reaching others: port mapping, invite codes, DNS names. */
#ifndef CONFAB_REACH_H
#define CONFAB_REACH_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "dns.h"
#include "invite.h"
#include "portmap.h"
#include "race.h"         /* the connect attempts, reach_txt_pin */

struct reach;

/* Set up c->reach and start the port mapping (unless --no-nat); failures are logged. */
int  reach_start(struct core *);
/* Quitting: start removing the port mapping, drop connect attempts silently. */
void reach_stop(struct core *);
/* Wait (bounded) for the mapping to be removed, then free everything. */
void reach_free(struct core *);

/*
 * Connect to what core_connect could not parse as a numeric address: an
 * invite code, NAME@DOMAIN (SRV and TXT records), or HOST[:PORT] (A and AAAA).
 * Every address found is tried at once; the first handshake that completes
 * wins and the others are closed.  Errors are EV_ERROR events for cmd.
 */
int  reach_connect(struct core *, const char *target, const char *cmd);
/* Whether reach_connect (or core_connect) can parse target: 0, or -1 and why in err. */
int  reach_target_check(const char *target, char *err, size_t errlen);
/* From on_established: -1 if s lost a race (refuse it), 1 if it won one, 0 if it is no racer. */
int  reach_established(struct core *, struct session *);
/* From on_closed: 1 if s was one of our attempts (handled here), else 0. */
int  reach_closed(struct core *, struct session *, const char *reason);

/* /invite and /nat (command table entries). */
int  reach_cmd_invite(struct core *, struct conversation *, const char *line, char *args);
int  reach_cmd_nat(struct core *, struct conversation *, const char *line, char *args);

/* The port mapping now: NULL before reach_start; state 0 if there is none (*off_why says why). */
const struct pm_status *reach_nat_status(struct core *, const char **off_why);
/* The port mapping now, in a sentence ("reachable from outside via UPnP at ..."). */
void reach_nat_text(struct core *, char *out, size_t outlen);
/* The invite /invite made last, with its code; NULL before the first. */
const struct invite *reach_last_invite(struct core *, const char **code);
/* The addresses an invite code would list now (interfaces, not 0.0.0.0), as text. */
void reach_addrs_text(struct core *, char *out, size_t outlen);

/* Parse --dns-name NAME[:PORT] (port 0 if none given); -1 if NAME is not a host name. */
int  reach_parse_dns_name(const char *text, char *host, size_t hostlen, uint16_t *port);
/* Our invite code as /invite would give it (confab recv prints it): 0, or -1. */
int  reach_invite_code(struct core *, char *out, size_t outlen);
/* What "confab invite" shows. */
struct reach_offline {
	char     code[INVITE_TEXT_MAX];
	char     list[700];          /* the candidates, as text */
	char     fp[FP_LEN + 1];
	int      running;            /* a confab runs with this home: its listeners, mapping and name are listed */
	uint16_t port;               /* the first listener's port */
};
/*
 * "confab invite": this identity's invite code, made without starting: from
 * the state file of a confab running with this home, else from the options.
 * Returns 0, or an exit status (1 failure, 2 bad --dns-name) with err set.
 */
int  reach_invite_offline(const struct core_options *, struct reach_offline *, char *err, size_t errlen);

#endif
