/* unit_ratelimit.c - unit tests for app/ratelimit.c, the --limit-rate token bucket. */
#include "config.h"

#include "ratelimit.h"
#include "tap.h"

int
main(void)
{
	struct ratelimit r;
	uint64_t now = 1000, sent = 0, t;

	ratelimit_init(&r, 0, now);
	is_int(ratelimit_wait(&r, now, 1 << 20), 0, "no limit: anything goes at once");

	ratelimit_init(&r, 100000, now);
	is_int(ratelimit_wait(&r, now, 16384), 164, "an empty bucket: 16384 bytes at 100 kB/s wait 164 ms");
	is_int(ratelimit_wait(&r, now + 164, 16384), 0, "and go then");
	ratelimit_spend(&r, 16384);
	ok(ratelimit_wait(&r, now + 164, 16384) > 0, "the next record waits again");
	is_int(ratelimit_wait(&r, now + 100000, 16384), 0, "after a long pause one goes at once");
	ratelimit_spend(&r, 16384);
	ratelimit_spend(&r, 16384);
	ok(ratelimit_wait(&r, now + 100000, 16384) > 0,
	    "but the bucket held a quarter second (25000 bytes), not 100 s of data");

	/* ten seconds of sending as fast as the bucket allows */
	ratelimit_init(&r, 100000, 0);
	for (t = 0; t <= 10000; t++) {
		while (ratelimit_wait(&r, t, 16384) == 0) {
			ratelimit_spend(&r, 16384);
			sent += 16384;
		}
	}
	printf("# sent %llu bytes in 10 s at a limit of 100000 bytes/s\n", (unsigned long long)sent);
	ok(sent >= 950000 && sent <= 1050000, "ten seconds move 1 MB, within 5 %%");
	return tap_done();
}
