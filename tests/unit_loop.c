/* unit_loop.c - unit tests for net/loop.c: timers, fds, signals, hooks. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"
#include "tap.h"

/* Monotonic milliseconds, measured independently of the loop. */
static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Sleep for ms milliseconds. */
static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* --- timers ------------------------------------------------------------- */

#define NT 64

struct tctx {
	struct loop_timer  t[NT];
	uint64_t           delay[NT];
	int                order[NT * 4];   /* index of each firing */
	uint64_t           fired_when[NT * 4];
	int                late[NT * 4];    /* fired before its deadline? */
	int                nfired;
	int                rearms[NT];      /* times left to re-arm */
	int                victim;          /* timer to delete when timer 0 fires */
	int                mover;           /* timer to re-arm when timer 1 fires */
};

/* Record a firing and do whatever the test arranged for this timer. */
static void
timer_cb(struct loop *l, struct loop_timer *t, void *arg)
{
	struct tctx *c = arg;
	int i = (int)(t - c->t);

	if (c->nfired < NT * 4) {
		c->order[c->nfired] = i;
		c->fired_when[c->nfired] = t->when;
		c->late[c->nfired] = loop_now(l) < t->when;
		c->nfired++;
	}
	if (loop_timer_armed(t))
		c->late[0] = 1000;   /* a firing timer must already be disarmed */
	if (i == 0 && c->victim >= 0)
		loop_timer_del(l, &c->t[c->victim]);
	if (i == 1 && c->mover >= 0)
		loop_timer_set(l, &c->t[c->mover], 1);
	if (c->rearms[i] > 0) {
		c->rearms[i]--;
		loop_timer_set(l, t, 2);
	}
}

/* Many timers with different delays fire in deadline order. */
static void
test_timer_order(void)
{
	struct loop *l = loop_new();
	struct tctx *c = calloc(1, sizeof *c);
	int i, inorder = 1, early = 0, seen[NT] = { 0 }, dup = 0;
	uint64_t start;

	c->victim = c->mover = -1;
	/* distinct delays 3 ms apart, armed in a scrambled order */
	for (i = 0; i < NT; i++) {
		int k = (i * 37) % NT;

		loop_timer_init(&c->t[k], timer_cb, c);
		c->delay[k] = 5 + 3 * (uint64_t)k;
		loop_timer_set(l, &c->t[k], c->delay[k]);
	}
	start = now_ms();
	while (c->nfired < NT && now_ms() - start < 1000)
		loop_once(l, 50);
	is_int(c->nfired, NT, "all %d timers fired", NT);
	for (i = 0; i < c->nfired; i++) {
		if (i > 0 && c->order[i] < c->order[i - 1])
			inorder = 0;
		if (c->late[i])
			early++;
		if (seen[c->order[i]]++)
			dup++;
	}
	ok(inorder, "they fired in the order of their delays");
	is_int(early, 0, "none fired before its deadline (by loop_now)");
	is_int(dup, 0, "each fired once");
	ok(now_ms() - start >= 5 + 3 * (NT - 1) - 2, "the last one waited for its delay");
	for (i = 0; i < NT; i++)
		if (loop_timer_armed(&c->t[i]))
			break;
	is_int(i, NT, "no timer is left armed");
	loop_free(l);
	free(c);
}

/* Re-arming and deleting from inside callbacks. */
static void
test_timer_callbacks(void)
{
	struct loop *l = loop_new();
	struct tctx *c = calloc(1, sizeof *c);
	struct loop_timer never;
	int i, n0 = 0, n2 = 0, n3 = 0, n4 = 0, n5 = 0, idx3 = -1, idx4 = -1;
	uint64_t start;

	for (i = 0; i < 6; i++)
		loop_timer_init(&c->t[i], timer_cb, c);
	/* 0 fires first, deletes 2 which is due in the same turn, re-arms itself 3 times */
	c->victim = 2;
	c->rearms[0] = 3;
	/* 1 pulls 3 (armed for 5 s) in to 1 ms */
	c->mover = 3;
	loop_timer_set(l, &c->t[0], 1);
	loop_timer_set(l, &c->t[1], 2);
	loop_timer_set(l, &c->t[2], 3);
	loop_timer_set(l, &c->t[3], 5000);
	loop_timer_set(l, &c->t[4], 60);
	/* 5 is armed at 2 ms then pushed out to 5 s before anything runs */
	loop_timer_set(l, &c->t[5], 2);
	loop_timer_set(l, &c->t[5], 5000);
	ok(loop_timer_armed(&c->t[5]), "a re-armed timer stays armed");

	/* deleting a timer that was never armed, twice, is harmless */
	loop_timer_init(&never, timer_cb, c);
	loop_timer_del(l, &never);
	loop_timer_del(l, &never);
	ok(!loop_timer_armed(&never), "an unarmed timer stays unarmed after loop_timer_del");

	sleep_ms(10);   /* 0, 1 and 2 are all due in the first turn */
	start = now_ms();
	while (now_ms() - start < 300 && !(idx4 >= 0 && n0 == 4)) {
		loop_once(l, 20);
		for (i = 0, n0 = 0; i < c->nfired; i++) {
			if (c->order[i] == 3 && idx3 < 0)
				idx3 = i;
			if (c->order[i] == 4 && idx4 < 0)
				idx4 = i;
			n0 += c->order[i] == 0;
		}
	}
	loop_once(l, 5);   /* a turn more: a wrongly kept timer 2 or 5 would show */
	n0 = 0;
	for (i = 0; i < c->nfired; i++) {
		n0 += c->order[i] == 0;
		n2 += c->order[i] == 2;
		n3 += c->order[i] == 3;
		n4 += c->order[i] == 4;
		n5 += c->order[i] == 5;
	}
	is_int(n0, 4, "timer 0 fired once and re-armed itself 3 times");
	is_int(n2, 0, "timer 2, deleted by timer 0 in the same turn, never fired");
	is_int(n3, 1, "timer 3, pulled in from 5 s by timer 1, fired");
	ok(idx3 >= 0 && idx4 >= 0 && idx3 < idx4, "and before the 60 ms timer 4");
	is_int(n5, 0, "timer 5, pushed out to 5 s, has not fired");
	ok(loop_timer_armed(&c->t[5]), "and is still armed");
	ok(!loop_timer_armed(&c->t[2]), "timer 2 is disarmed");
	ok(c->late[0] != 1000, "timers are disarmed when their callback runs");
	loop_timer_del(l, &c->t[5]);
	ok(!loop_timer_armed(&c->t[5]), "timer 5 deleted");
	loop_timer_del(l, &c->t[5]);
	loop_timer_del(l, &c->t[2]);
	ok(!loop_timer_armed(&c->t[5]) && !loop_timer_armed(&c->t[2]),
	    "deleting already deleted timers leaves them disarmed");
	/* and the heap is intact: a timer armed now is the one that fires */
	i = c->nfired;
	loop_timer_set(l, &c->t[2], 1);
	start = now_ms();
	while (c->nfired == i && now_ms() - start < 1000)
		loop_once(l, 50);
	ok(c->nfired == i + 1 && c->order[i] == 2,
	    "after the double deletes a fresh timer fires, and only it");
	loop_free(l);
	free(c);
}

#define NR 300

struct rnd {
	struct loop_timer t[NR];
	int               fired[NR];
	uint64_t          when[NR];
	int               n;
};

/* Record which timer of the random test fired. */
static void
rnd_cb(struct loop *l, struct loop_timer *t, void *arg)
{
	struct rnd *r = arg;

	if (r->n < NR) {
		r->fired[r->n] = (int)(t - r->t);
		r->when[r->n] = t->when;
		r->n++;
	}
}

/* Many timers armed and some deleted at random still fire in order. */
static void
test_timer_random(void)
{
	struct loop *l = loop_new();
	struct rnd *r = calloc(1, sizeof *r);
	int deleted[NR] = { 0 }, i, ndel = 0, live, bad = 0;
	uint64_t last = 0, start;
	unsigned seed = 12345;

	for (i = 0; i < NR; i++) {
		seed = seed * 1103515245u + 12345u;
		loop_timer_init(&r->t[i], rnd_cb, r);
		loop_timer_set(l, &r->t[i], (seed >> 16) % 80);
	}
	for (i = 0; i < NR; i += 3) {
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) % 2) {
			loop_timer_del(l, &r->t[i]);
			deleted[i] = 1;
			ndel++;
		}
	}
	/* re-arm a few of the survivors to change their place in the heap */
	for (i = 1; i < NR; i += 7)
		if (!deleted[i])
			loop_timer_set(l, &r->t[i], (uint64_t)(i % 50));
	live = NR - ndel;
	start = now_ms();
	while (r->n < live && now_ms() - start < 1000)
		loop_once(l, 20);
	loop_once(l, 0);
	is_int(r->n, live, "%d of %d timers fired (%d deleted)", live, NR, ndel);
	for (i = 0; i < r->n; i++) {
		if (deleted[r->fired[i]])
			bad++;
		if (r->when[i] < last)
			bad++;
		last = r->when[i];
	}
	is_int(bad, 0, "no deleted timer fired and deadlines never went backwards");
	loop_free(l);
	free(r);
}

static int spin_count;

/* Count a firing and re-arm at 0 ms. */
static void
spin_cb(struct loop *l, struct loop_timer *t, void *arg)
{
	spin_count++;
	loop_timer_set(l, t, 0);
}

/* A timer that re-arms itself at 0 ms cannot trap loop_once. */
static void
test_timer_spin(void)
{
	struct loop *l = loop_new();
	struct loop_timer t;
	uint64_t start;

	loop_timer_init(&t, spin_cb, NULL);
	loop_timer_set(l, &t, 0);
	start = now_ms();
	loop_once(l, 0);
	ok(spin_count >= 1, "a 0 ms timer fires (%d times in one turn)", spin_count);
	ok(now_ms() - start < 500, "and loop_once returned");
	ok(loop_timer_armed(&t), "it is armed again for the next turn");
	loop_free(l);
	ok(!loop_timer_armed(&t), "loop_free disarms timers it still held");
}

/* --- file descriptors ------------------------------------------------------ */

struct fdctx {
	int  calls[2];
	int  revents[2];
	int  fds[2];        /* the read ends being watched */
	int  delete_other;  /* the first callback deletes the other fd */
	int  replace_other; /* ...and re-adds it with a fresh callback */
	int  fresh_calls;
	char got[64];
	size_t ngot;
};

/* A second callback used when an fd is replaced. */
static void
fresh_cb(struct loop *l, int fd, int revents, void *arg)
{
	struct fdctx *c = arg;
	char tmp[16];

	c->fresh_calls++;
	(void)!read(fd, tmp, sizeof tmp);
}

/* Reads a pipe and, if asked, removes (or replaces) the other pipe. */
static void
pipe_cb(struct loop *l, int fd, int revents, void *arg)
{
	struct fdctx *c = arg;
	int i = fd == c->fds[0] ? 0 : 1;
	ssize_t r;

	c->calls[i]++;
	c->revents[i] |= revents;
	if (revents & POLLIN) {
		r = read(fd, c->got + c->ngot, sizeof c->got - c->ngot - 1);
		if (r > 0)
			c->ngot += (size_t)r;
	}
	if (c->delete_other) {
		loop_fd_del(l, c->fds[1 - i]);
		if (c->replace_other)
			loop_fd_add(l, c->fds[1 - i], POLLIN, fresh_cb, c);
		c->delete_other = 0;
	}
}

/* Callbacks on a pipe, event changes and hang-up. */
static void
test_fd_pipe(void)
{
	struct loop *l = loop_new();
	struct fdctx c;
	int p[2], i;

	memset(&c, 0, sizeof c);
	if (pipe(p) == -1)
		abort();
	c.fds[0] = p[0];
	c.fds[1] = -1;
	ok(loop_fd_add(l, -1, POLLIN, pipe_cb, &c) == -1, "a negative fd is refused");
	ok(loop_fd_add(l, p[0], POLLIN, NULL, &c) == -1, "a NULL callback is refused");
	is_int(loop_fd_add(l, p[0], POLLIN, pipe_cb, &c), 0, "watch a pipe's read end");
	loop_once(l, 0);
	is_int(c.calls[0], 0, "an empty pipe gives no callback");
	(void)!write(p[1], "hello", 5);
	loop_once(l, 100);
	is_int(c.calls[0], 1, "a written pipe gives one callback");
	ok(c.revents[0] & POLLIN, "with POLLIN");
	ok(c.ngot == 5 && memcmp(c.got, "hello", 5) == 0, "and the callback read the bytes");

	/* loop_fd_events: stop wanting POLLIN */
	is_int(loop_fd_events(l, p[0], 0), 0, "watch nothing on the read end");
	(void)!write(p[1], "x", 1);
	loop_once(l, 20);
	is_int(c.calls[0], 1, "no callback while POLLIN is not wanted");
	is_int(loop_fd_events(l, p[0], POLLIN), 0, "watch POLLIN again");
	loop_once(l, 100);
	is_int(c.calls[0], 2, "the pending byte now gives a callback");
	ok(loop_fd_events(l, 1000, POLLIN) == -1, "changing events of an unwatched fd fails");

	/* POLLHUP when the writer goes away */
	close(p[1]);
	c.revents[0] = 0;
	loop_once(l, 100);
	ok(c.revents[0] & POLLHUP, "closing the write end reports POLLHUP");

	loop_fd_del(l, p[0]);
	i = c.calls[0];
	loop_once(l, 20);
	is_int(c.calls[0], i, "no callbacks after loop_fd_del");
	loop_fd_del(l, p[0]);
	loop_fd_del(l, 99999);
	ok(loop_fd_events(l, p[0], POLLIN) == -1 && loop_fd_events(l, 99999, POLLIN) == -1,
	    "deleting an unwatched fd leaves it unwatched");
	ok(loop_fd_add(l, p[0], POLLIN, pipe_cb, &c) == 0 && loop_fd_events(l, p[0], POLLIN) == 0,
	    "and the fd can be watched again afterwards");
	loop_fd_del(l, p[0]);
	close(p[0]);

	/* POLLOUT on a write end */
	if (pipe(p) == -1)
		abort();
	memset(&c, 0, sizeof c);
	c.fds[0] = p[1];
	c.fds[1] = -1;
	loop_fd_add(l, p[1], POLLOUT, pipe_cb, &c);
	loop_once(l, 100);
	ok(c.calls[0] == 1 && (c.revents[0] & POLLOUT), "an empty pipe is writable");
	loop_free(l);
	close(p[0]);
	close(p[1]);
}

/* An fd removed by an earlier callback in the same turn is not called. */
static void
test_fd_delete_in_turn(void)
{
	struct loop *l = loop_new();
	struct fdctx c;
	int a[2], b[2];

	if (pipe(a) == -1 || pipe(b) == -1)
		abort();
	memset(&c, 0, sizeof c);
	c.fds[0] = a[0];
	c.fds[1] = b[0];
	c.delete_other = 1;
	loop_fd_add(l, a[0], POLLIN, pipe_cb, &c);
	loop_fd_add(l, b[0], POLLIN, pipe_cb, &c);
	(void)!write(a[1], "A", 1);
	(void)!write(b[1], "B", 1);
	sleep_ms(1);
	loop_once(l, 100);
	is_int(c.calls[0] + c.calls[1], 1, "both were readable but only the first callback ran");
	(void)!write(a[1], "A", 1);
	(void)!write(b[1], "B", 1);
	loop_once(l, 100);
	is_int(c.calls[0] + c.calls[1], 2, "next turn only the survivor is called again");
	ok((c.calls[0] == 2) != (c.calls[1] == 2), "and it was the same fd both times");
	/* drain both pipes before the next case */
	{
		char tmp[8];

		fcntl(a[0], F_SETFL, O_NONBLOCK);
		fcntl(b[0], F_SETFL, O_NONBLOCK);
		while (read(a[0], tmp, sizeof tmp) > 0)
			;
		while (read(b[0], tmp, sizeof tmp) > 0)
			;
	}

	/* the other was deleted and re-added: the stale readiness is dropped too */
	memset(&c, 0, sizeof c);
	c.fds[0] = a[0];
	c.fds[1] = b[0];
	c.delete_other = 1;
	c.replace_other = 1;
	loop_fd_add(l, a[0], POLLIN, pipe_cb, &c);
	loop_fd_add(l, b[0], POLLIN, pipe_cb, &c);
	(void)!write(a[1], "A", 1);
	(void)!write(b[1], "B", 1);
	loop_once(l, 100);
	is_int(c.calls[0] + c.calls[1], 1, "one old callback ran");
	is_int(c.fresh_calls, 0, "the replacement was not called with the old turn's events");
	loop_once(l, 100);
	is_int(c.fresh_calls, 1, "it is called on the next turn");

	loop_free(l);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

/* --- hooks, signals, loop_once, loop_run -------------------------------- */

struct hookctx {
	int      calls;
	uint64_t wakeups_seen[8];
};

/* Count hook runs and remember the wake-up count each saw. */
static void
hook_cb(struct loop *l, void *arg)
{
	struct hookctx *h = arg;

	if (h->calls < 8)
		h->wakeups_seen[h->calls] = loop_wakeups(l);
	h->calls++;
}

/* The before-sleep hook runs once before every poll. */
static void
test_hooks(void)
{
	struct loop *l = loop_new();
	struct hookctx h1, h2;
	int i, seq = 1;

	memset(&h1, 0, sizeof h1);
	memset(&h2, 0, sizeof h2);
	is_int(loop_before_sleep(l, hook_cb, &h1), 0, "add a hook");
	is_int(loop_before_sleep(l, hook_cb, &h2), 0, "add a second hook");
	is_int(loop_wakeups(l), 0, "no wake-ups yet");
	for (i = 0; i < 5; i++)
		loop_once(l, 0);
	is_int(h1.calls, 5, "hook 1 ran once per turn");
	is_int(h2.calls, 5, "hook 2 ran once per turn");
	is_int(loop_wakeups(l), 5, "five turns, five wake-ups");
	for (i = 0; i < 5; i++)
		if (h1.wakeups_seen[i] != (uint64_t)i)
			seq = 0;
	ok(seq, "each hook run came before that turn's poll");
	loop_before_sleep_del(l, hook_cb, &h1);
	loop_once(l, 0);
	is_int(h1.calls, 5, "a removed hook no longer runs");
	is_int(h2.calls, 6, "the other one still does");
	loop_before_sleep_del(l, hook_cb, &h1);   /* not there: harmless */
	loop_before_sleep_del(l, hook_cb, &h2);
	loop_once(l, 0);
	is_int(h2.calls, 6, "both removed");
	loop_free(l);
}

struct sigctx {
	int count[65];
	int order[8];
	int n;
};

/* Note which signal arrived, in normal context. */
static void
sig_cb(struct loop *l, int signo, void *arg)
{
	struct sigctx *s = arg;

	if (signo > 0 && signo < 65)
		s->count[signo]++;
	if (s->n < 8)
		s->order[s->n++] = signo;
}

/* Signals raised in the process come out of the loop as callbacks. */
static void
test_signals(void)
{
	struct loop *l = loop_new();
	struct sigctx s;
	int flag;

	memset(&s, 0, sizeof s);
	ok(loop_signal(l, 0, sig_cb, &s) == -1, "signal 0 refused");
	ok(loop_signal(l, 1000, sig_cb, &s) == -1, "signal 1000 refused");
	is_int(loop_signal(l, SIGUSR1, sig_cb, &s), 0, "catch SIGUSR1");
	is_int(loop_signal(l, SIGUSR2, sig_cb, &s), 0, "catch SIGUSR2");
	raise(SIGUSR1);
	is_int(s.count[SIGUSR1], 0, "the callback does not run inside the handler");
	flag = 0;
	while (!s.count[SIGUSR1] && flag++ < 20)
		loop_once(l, 50);
	is_int(s.count[SIGUSR1], 1, "raise(SIGUSR1) delivered through the loop");
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR2);
	flag = 0;
	while ((s.count[SIGUSR1] < 2 || !s.count[SIGUSR2]) && flag++ < 20)
		loop_once(l, 50);
	is_int(s.count[SIGUSR1], 2, "kill(getpid(), SIGUSR1) delivered");
	is_int(s.count[SIGUSR2], 1, "kill(getpid(), SIGUSR2) delivered");
	loop_once(l, 0);
	is_int(s.count[SIGUSR1] + s.count[SIGUSR2], 3, "each signal delivered exactly once");
	/* a signal arriving while the loop sleeps wakes it */
	{
		uint64_t start;
		pid_t pid;

		flag = s.count[SIGUSR1];
		if ((pid = fork()) == 0) {
			sleep_ms(30);
			kill(getppid(), SIGUSR1);
			_exit(0);
		}
		start = now_ms();
		while (s.count[SIGUSR1] == flag && now_ms() - start < 1000)
			loop_once(l, 1000);
		is_int(s.count[SIGUSR1], flag + 1, "a signal from another process woke a sleeping loop");
		ok(now_ms() - start < 900, "well before the 1 s poll timeout");
		waitpid(pid, NULL, 0);
	}
	loop_signal(l, SIGUSR1, NULL, NULL);
	loop_signal(l, SIGUSR2, NULL, NULL);
	loop_free(l);
}

static int once_fired;

/* Note that the timer fired. */
static void
once_cb(struct loop *l, struct loop_timer *t, void *arg)
{
	once_fired++;
}

/* loop_once honours max_ms and an earlier timer. */
static void
test_once(void)
{
	struct loop *l = loop_new();
	struct loop_timer t;
	uint64_t start, took;

	start = now_ms();
	is_int(loop_once(l, 0), 0, "loop_once(0) with nothing to do returns 0");
	ok(now_ms() - start < 100, "and returns at once");
	start = now_ms();
	is_int(loop_once(l, 40), 0, "loop_once(40) returns 0");
	took = now_ms() - start;
	ok(took >= 35 && took < 1000, "after waiting about 40 ms (%llu)", (unsigned long long)took);
	is_int(loop_wakeups(l), 2, "two turns, two wake-ups");

	/* a timer due before max_ms cuts the wait short and fires in that turn */
	loop_timer_init(&t, once_cb, NULL);
	loop_timer_set(l, &t, 20);
	start = now_ms();
	loop_once(l, 5000);
	took = now_ms() - start;
	is_int(once_fired, 1, "a 20 ms timer fired within one loop_once(5000)");
	ok(took >= 15 && took < 1000, "which returned after about 20 ms (%llu)", (unsigned long long)took);
	is_int(loop_wakeups(l), 3, "three wake-ups");
	ok(loop_now(l) >= t.when, "loop_now had reached the deadline");
	loop_free(l);
}

/* Stop the loop on the third firing, else re-arm. */
static void
stop_cb(struct loop *l, struct loop_timer *t, void *arg)
{
	int *n = arg;

	if (++*n == 3)
		loop_stop(l);
	else
		loop_timer_set(l, t, 1);
}

/* loop_run returns after a callback calls loop_stop. */
static void
test_run(void)
{
	struct loop *l = loop_new();
	struct loop_timer t;
	int n = 0;

	loop_timer_init(&t, stop_cb, &n);
	loop_timer_set(l, &t, 1);
	is_int(loop_run(l), 0, "loop_run returns 0 after loop_stop");
	is_int(n, 3, "the timer ran three times first");
	ok(loop_wallclock_ms() > 1500000000000ull, "wall clock is in milliseconds since the epoch");
	loop_free(l);
	loop_free(NULL);
}

int
main(void)
{
	uint64_t start = now_ms();

	test_timer_order();
	test_timer_callbacks();
	test_timer_random();
	test_timer_spin();
	test_fd_pipe();
	test_fd_delete_in_turn();
	test_hooks();
	test_signals();
	test_once();
	test_run();
	printf("# took %llu ms\n", (unsigned long long)(now_ms() - start));
	return tap_done();
}
