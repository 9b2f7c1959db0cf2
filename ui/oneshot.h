/* oneshot.h - "confab send" and "confab recv": one transfer, then exit. */
#ifndef CONFAB_ONESHOT_H
#define CONFAB_ONESHOT_H

#include "core.h"

#define ONESHOT_OK           0   /* every file arrived and was verified */
#define ONESHOT_FAILED       1   /* the transfer failed */
#define ONESHOT_USAGE        2   /* bad command line */
#define ONESHOT_REJECTED     3   /* rejected or cancelled */
#define ONESHOT_UNREACHABLE  4   /* could not connect to the peer */

/*
 * Connect to target, offer paths (or, with text != NULL, send text[0..textlen)
 * as a message), wait for the verdict.  Returns an ONESHOT_* code.
 */
int oneshot_send(const struct core_options *, const char *target, char *const *paths, int npaths,
                 const char *text, size_t textlen);
/* Wait for one offer and receive it. Returns an ONESHOT_* code. */
int oneshot_recv(const struct core_options *, const char *from, int yes);

#endif
