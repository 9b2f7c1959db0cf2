/* reach_view.c - the port mapping and invite codes as the front-ends show them. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "onion.h"
#include "reach.h"
#include "reach_view.h"

/* Status bar text. */
void
reach_view_status(struct core *c, char *out, size_t outlen)
{
	const struct pm_status *st = reach_nat_status(c, NULL);
	const char *why;

	if (!c->opt.nat) {
		snprintf(out, outlen, " nat:off");
		return;
	}
	if (st == NULL || st->state == 0) {
		snprintf(out, outlen, " nat:n/a");   /* not listening where a router could forward to */
		return;
	}
	switch (st->state) {
	case PM_PENDING:
		snprintf(out, outlen, " nat:...");
		return;
	case PM_MAPPED:
		snprintf(out, outlen, " nat:%s %s:%u", pm_method_name(st->method), st->ext_addr, st->ext_port);
		return;
	default:
		switch (st->reason) {
		case PMR_DOUBLE_NAT: why = "double NAT"; break;
		case PMR_REFUSED:    why = "refused"; break;
		case PMR_NO_GATEWAY: why = "no gateway"; break;
		case PMR_LOST:       why = "lost"; break;
		default:             why = "no answer"; break;
		}
		snprintf(out, outlen, " nat:none(%s)", why);
	}
}

/* The fields of a "nat" event. */
void
reach_view_json_nat(struct core *c, struct json *j)
{
	const char *off_why = "";
	const struct pm_status *st = reach_nat_status(c, &off_why);
	char text[512], ext[PM_ADDRLEN + 8];

	if (st == NULL)
		return;
	reach_nat_text(c, text, sizeof text);
	json_str(j, "method", st->state == PM_MAPPED ? pm_method_name(st->method) : "none");
	json_bool(j, "reachable", st->state == PM_MAPPED);
	if (st->state == PM_MAPPED) {
		snprintf(ext, sizeof ext, "%s:%u", st->ext_addr, st->ext_port);
		json_str(j, "external", ext);
		json_uint(j, "lease", st->lease_s);
		json_uint(j, "renewals", st->renewals);
	} else if (st->state == PM_FAILED) {
		json_str(j, "reason", pm_reason_name(st->reason));
		json_str(j, "detail", st->why);
	} else if (st->state == PM_PENDING) {
		json_str(j, "reason", "pending");
	} else {
		json_str(j, "reason", "off");
		json_str(j, "detail", off_why);
	}
	if (st->int_port != 0)
		json_uint(j, "port", st->int_port);
	json_str(j, "text", text);
}

/* The fields of an "invite" event. */
void
reach_view_json_invite(struct core *c, struct json *j)
{
	const char *code = NULL;
	const struct invite *inv = reach_last_invite(c, &code);
	char one[DNS_NAME_MAX + 16];
	size_t i;

	if (inv == NULL)
		return;
	json_str(j, "code", code);
	json_str(j, "fingerprint", c->id.fp);
	json_arr_begin(j, "candidates");
	for (i = 0; i < inv->n; i++) {
		invite_cand_text(&inv->c[i], one, sizeof one);
		json_arr_str(j, one);
	}
	json_arr_end(j);
}

/* confab invite. */
int
reach_view_invite_main(const struct core_options *opt)
{
	struct reach_offline o;
	char err[512];
	int rc;

	if ((rc = reach_invite_offline(opt, &o, err, sizeof err)) != 0) {
		fprintf(stderr, "confab: %s\n", err);
		return rc;
	}
	if (!o.running)
		fprintf(stderr, "note: no confab is running with this home: the code lists port %u and no "
		    "address mapped on the router\n", o.port);
	fprintf(stderr, "invite code of %s, listing %s:\n", o.fp, o.list);
	printf("%s\n", o.code);
	return 0;
}

/* The onion state for the status bar. */
void
onion_view_status(const struct core *c, char *out, size_t outlen)
{
	const char *st = onion_state(c);

	if (strcmp(st, "off") == 0)
		out[0] = '\0';
	else if (strcmp(st, "bootstrapping") == 0 && onion_bootstrap(c) >= 0)
		snprintf(out, outlen, " onion:%d%%", onion_bootstrap(c));
	else if (strcmp(st, "published") == 0 && onion_addr(c) != NULL)
		snprintf(out, outlen, " onion:%.8s...", onion_addr(c));
	else
		snprintf(out, outlen, " onion:%s", st);
}

/* The "reach" event's fields. */
void
onion_view_json(const struct core *c, struct json *j)
{
	json_str(j, "state", onion_state(c));
	if (strcmp(onion_state(c), "off") == 0)
		return;
	json_str(j, "via", onion_own_tor(c) ? "own tor" : "tor control port");
	if (onion_addr(c) != NULL)
		json_str(j, "onion", onion_addr(c));
	if (onion_bootstrap(c) >= 0)
		json_uint(j, "bootstrap", (uint64_t)onion_bootstrap(c));
	if (onion_socks(c) != NULL)
		json_str(j, "socks", onion_socks(c));
	if (onion_error(c) != NULL)
		json_str(j, "error", onion_error(c));
}
