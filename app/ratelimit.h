/* ratelimit.h - a token bucket for --limit-rate (no clock of its own: times are passed in). */
#ifndef CONFAB_RATELIMIT_H
#define CONFAB_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

struct ratelimit {
	uint64_t bps;      /* bytes per second, 0: no limit */
	double   tokens;   /* bytes that may go now */
	uint64_t t;        /* ms of the last top-up */
};

/* Start a bucket of bps bytes per second (0: no limit), empty, at time now (ms). */
void     ratelimit_init(struct ratelimit *, uint64_t bps, uint64_t now);
/*
 * Whether n bytes may go at time now (ms): 0 if they may, else how many ms
 * until they may.  The bucket holds at most a quarter second of data (and
 * never less than n).
 */
uint64_t ratelimit_wait(struct ratelimit *, uint64_t now, size_t n);
/* n bytes went. */
void     ratelimit_spend(struct ratelimit *, size_t n);

#endif
