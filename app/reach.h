/* reach.h - being reachable and reaching others: port mapping, invite codes, DNS names. */
#ifndef CONFAB_REACH_H
#define CONFAB_REACH_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "dns.h"
#include "json.h"
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
/* From on_established: -1 if s lost a race (refuse it), 1 if it won one, 0 if it is no racer. */
int  reach_established(struct core *, struct session *);
/* From on_closed: 1 if s was one of our attempts (handled here), else 0. */
int  reach_closed(struct core *, struct session *, const char *reason);

/* /invite and /nat (command table entries). */
int  reach_cmd_invite(struct core *, struct conversation *, const char *line, char *args);
int  reach_cmd_nat(struct core *, struct conversation *, const char *line, char *args);

/* For the status bar: " nat:upnp 1.2.3.4:7470", " nat:off", ... */
void reach_status_short(struct core *, char *out, size_t outlen);
/* The addresses an invite code would list now (interfaces, not 0.0.0.0), as text. */
void reach_addrs_text(struct core *, char *out, size_t outlen);
/* The fields of the headless "nat" and "invite" events. */
void reach_json_nat(struct core *, struct json *);
void reach_json_invite(struct core *, struct json *);

/* Parse --dns-name NAME[:PORT] (port 0 if none given); -1 if NAME is not a host name. */
int  reach_parse_dns_name(const char *text, char *host, size_t hostlen, uint16_t *port);
/* "confab invite": print this identity's invite code; returns an exit status. */
int  reach_invite_main(const struct core_options *);

#endif
