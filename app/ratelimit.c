/* ratelimit.c - a token bucket for --limit-rate (see ratelimit.h). */
#include "config.h"

#include "ratelimit.h"

/* Start an empty bucket. */
void
ratelimit_init(struct ratelimit *r, uint64_t bps, uint64_t now)
{
	r->bps = bps;
	r->tokens = 0;
	r->t = now;
}

/* Top the bucket up to now; 0 if n bytes may go, else the ms to wait. */
uint64_t
ratelimit_wait(struct ratelimit *r, uint64_t now, size_t n)
{
	double cap;

	if (r->bps == 0)
		return 0;
	cap = (double)r->bps / 4;
	if (cap < (double)n)
		cap = (double)n;
	if (now > r->t)
		r->tokens += (double)(now - r->t) * (double)r->bps / 1000;
	r->t = now;
	if (r->tokens > cap)
		r->tokens = cap;
	if (r->tokens >= (double)n)
		return 0;
	return 1 + (uint64_t)(((double)n - r->tokens) * 1000 / (double)r->bps);
}

/* Take n bytes out of the bucket. */
void
ratelimit_spend(struct ratelimit *r, size_t n)
{
	if (r->bps != 0)
		r->tokens -= (double)n;
}
