/* reach_view.h - the port mapping and invite codes as the front-ends show them. */
#ifndef CONFAB_REACH_VIEW_H
#define CONFAB_REACH_VIEW_H

#include <stddef.h>

#include "core.h"
#include "json.h"

/* For the status bar: " nat:upnp 1.2.3.4:7470", " nat:off", ... */
void reach_view_status(struct core *, char *out, size_t outlen);
/* The fields of the headless "nat" and "invite" events. */
void reach_view_json_nat(struct core *, struct json *);
void reach_view_json_invite(struct core *, struct json *);
/* For the status bar: " onion:published...", " onion:45%", ... ("" when off). */
void onion_view_status(const struct core *, char *out, size_t outlen);
/* The fields of the headless "reach" event (the onion service). */
void onion_view_json(const struct core *, struct json *);
/* "confab invite": print this identity's invite code; returns an exit status. */
int  reach_view_invite_main(const struct core_options *);

#endif
