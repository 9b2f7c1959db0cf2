/*
 * verify.h - what two people compare to know there is no man in the middle:
 * the session code (12 digits from the handshake hash of the live session)
 * and the safety number (60 digits from both long-term keys).  net/PROTOCOL.md
 * section 11 specifies both.
 */
#ifndef CONFAB_VERIFY_H
#define CONFAB_VERIFY_H

#include <stdint.h>

#include "identity.h"
#include "noise.h"

#define VERIFY_CODE_LEN    16   /* "123 456 789 012" and NUL */
#define VERIFY_SAFETY_LEN  72   /* 12 groups of 5 digits, 11 spaces, NUL */

struct core;
struct peer;

/* The session code of a session whose final handshake hash is h. */
void verify_session_code(const uint8_t h[NOISE_HASHLEN], char out[VERIFY_CODE_LEN]);
/* The safety number of two public keys; the same in either order. */
void verify_safety_number(const uint8_t a[ID_KEYLEN], const uint8_t b[ID_KEYLEN],
                          char out[VERIFY_SAFETY_LEN]);
/*
 * Both for a peer: the safety number always; the session code of its open
 * session, or "" when it has none.  Returns 1 if there is a session code.
 */
int  verify_peer(struct core *, const struct peer *, char code[VERIFY_CODE_LEN],
                 char safety[VERIFY_SAFETY_LEN]);

#endif
