/* loop.c - the single-threaded poll(2) event loop. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "mem.h"

#define LOOP_MAX_SIGNAL 65
#define LOOP_MAX_HOOKS  8

struct loop_fd {
	int        events;   /* 0: slot unused */
	loop_fd_cb cb;
	void      *arg;
	int        gen;      /* bumped on every add/del, to skip stale revents */
};

struct loop_hook {
	loop_hook_cb cb;
	void        *arg;
};

struct loop {
	struct loop_fd     *fds;       /* indexed by fd */
	int                 nfds;      /* size of fds */
	struct pollfd      *pfds;
	int                *pgen;
	size_t              npfds, apfds;
	int                 dirty;     /* pfds needs rebuilding */

	struct loop_timer **heap;
	size_t              nheap, aheap;

	struct loop_hook    hooks[LOOP_MAX_HOOKS];
	int                 nhooks;

	loop_signal_cb      sigcb[LOOP_MAX_SIGNAL];
	void               *sigarg[LOOP_MAX_SIGNAL];
	int                 sigpipe[2];

	uint64_t            now;
	uint64_t            wakeups;
	int                 stop;
};

static volatile sig_atomic_t sig_pending[LOOP_MAX_SIGNAL];
static int sig_wfd = -1;

/* Read the monotonic clock in milliseconds. */
static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wall-clock milliseconds since the epoch. */
uint64_t
loop_wallclock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Async-signal-safe handler: note the signal and wake the loop. */
static void
sig_handler(int signo)
{
	int saved = errno;
	char c = (char)signo;

	if (signo > 0 && signo < LOOP_MAX_SIGNAL)
		sig_pending[signo] = 1;
	if (sig_wfd != -1)
		(void)!write(sig_wfd, &c, 1);
	errno = saved;
}

/* Drain the self-pipe and run the callbacks of pending signals. */
static void
sig_readable(struct loop *l, int fd, int revents, void *arg)
{
	char tmp[64];
	int i;

	while (read(fd, tmp, sizeof tmp) > 0)
		;
	for (i = 1; i < LOOP_MAX_SIGNAL; i++) {
		if (!sig_pending[i])
			continue;
		sig_pending[i] = 0;
		if (l->sigcb[i] != NULL)
			l->sigcb[i](l, i, l->sigarg[i]);
	}
}

/* Create a loop. */
struct loop *
loop_new(void)
{
	struct loop *l;

	if ((l = calloc(1, sizeof *l)) == NULL)
		return NULL;
	l->sigpipe[0] = l->sigpipe[1] = -1;
	l->now = mono_ms();
	return l;
}

/* Free a loop. */
void
loop_free(struct loop *l)
{
	int i;

	if (l == NULL)
		return;
	for (i = 1; i < LOOP_MAX_SIGNAL; i++)
		if (l->sigcb[i] != NULL)
			signal(i, SIG_DFL);
	if (l->sigpipe[0] != -1) {
		if (sig_wfd == l->sigpipe[1])
			sig_wfd = -1;
		close(l->sigpipe[0]);
		close(l->sigpipe[1]);
	}
	for (i = 0; (size_t)i < l->nheap; i++)
		l->heap[i]->slot = 0;
	free(l->fds);
	free(l->pfds);
	free(l->pgen);
	free(l->heap);
	free(l);
}

/* Ask loop_run to return after the current turn. */
void
loop_stop(struct loop *l)
{
	l->stop = 1;
}

/* Monotonic milliseconds, cached per turn. */
uint64_t
loop_now(struct loop *l)
{
	return l->now;
}

/* Number of poll wake-ups so far. */
uint64_t
loop_wakeups(struct loop *l)
{
	return l->wakeups;
}

/* Watch fd for events. */
int
loop_fd_add(struct loop *l, int fd, int events, loop_fd_cb cb, void *arg)
{
	struct loop_fd *n;
	size_t nn;

	if (fd < 0 || cb == NULL)
		return -1;
	if (fd >= l->nfds) {
		nn = (size_t)l->nfds;
		if ((n = mem_grow(l->fds, &nn, (size_t)fd + 1, sizeof *n, 64, INT_MAX)) == NULL)
			return -1;
		memset(n + l->nfds, 0, (nn - (size_t)l->nfds) * sizeof *n);
		l->fds = n;
		l->nfds = (int)nn;
	}
	l->fds[fd].events = events | POLLHUP;   /* nonzero marks the slot used */
	l->fds[fd].cb = cb;
	l->fds[fd].arg = arg;
	l->fds[fd].gen++;
	l->dirty = 1;
	return 0;
}

/* Change the events watched on fd. */
int
loop_fd_events(struct loop *l, int fd, int events)
{
	if (fd < 0 || fd >= l->nfds || l->fds[fd].events == 0)
		return -1;
	if ((l->fds[fd].events & ~POLLHUP) != events) {
		l->fds[fd].events = events | POLLHUP;
		l->dirty = 1;
	}
	return 0;
}

/* Stop watching fd. */
void
loop_fd_del(struct loop *l, int fd)
{
	if (fd < 0 || fd >= l->nfds || l->fds[fd].events == 0)
		return;
	l->fds[fd].events = 0;
	l->fds[fd].cb = NULL;
	l->fds[fd].gen++;
	l->dirty = 1;
}

/* Rebuild the pollfd array from the fd table. */
static int
rebuild(struct loop *l)
{
	size_t n = 0;
	int fd;

	for (fd = 0; fd < l->nfds; fd++)
		if (l->fds[fd].events)
			n++;
	if (n > l->apfds) {
		struct pollfd *p = mem_reallocarray(l->pfds, n, sizeof *p);
		int *g;

		if (p == NULL)
			return -1;
		l->pfds = p;
		if ((g = mem_reallocarray(l->pgen, n, sizeof *g)) == NULL)
			return -1;
		l->pgen = g;
		l->apfds = n;
	}
	l->npfds = 0;
	for (fd = 0; fd < l->nfds; fd++) {
		if (!l->fds[fd].events)
			continue;
		l->pfds[l->npfds].fd = fd;
		l->pfds[l->npfds].events = (short)(l->fds[fd].events & ~POLLHUP);
		l->pfds[l->npfds].revents = 0;
		l->pgen[l->npfds] = l->fds[fd].gen;
		l->npfds++;
	}
	l->dirty = 0;
	return 0;
}

/* Swap two heap entries, keeping their slots right. */
static void
heap_swap(struct loop *l, size_t a, size_t b)
{
	struct loop_timer *t = l->heap[a];

	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->slot = a + 1;
	l->heap[b]->slot = b + 1;
}

/* Restore the heap order around index i. */
static void
heap_fix(struct loop *l, size_t i)
{
	size_t c;

	while (i > 0 && l->heap[(i - 1) / 2]->when > l->heap[i]->when) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		c = 2 * i + 1;
		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->when < l->heap[c]->when)
			c++;
		if (l->heap[i]->when <= l->heap[c]->when)
			break;
		heap_swap(l, i, c);
		i = c;
	}
}

/* Prepare a timer. */
void
loop_timer_init(struct loop_timer *t, loop_timer_cb cb, void *arg)
{
	memset(t, 0, sizeof *t);
	t->cb = cb;
	t->arg = arg;
}

/* Arm or re-arm a timer. */
int
loop_timer_set(struct loop *l, struct loop_timer *t, uint64_t ms)
{
	t->when = mono_ms() + ms;
	if (t->slot != 0) {
		heap_fix(l, t->slot - 1);
		return 0;
	}
	if (l->nheap == l->aheap) {
		struct loop_timer **h = mem_grow(l->heap, &l->aheap, l->nheap + 1, sizeof *h, 32, 0);

		if (h == NULL)
			return -1;
		l->heap = h;
	}
	l->heap[l->nheap] = t;
	t->slot = ++l->nheap;
	heap_fix(l, l->nheap - 1);
	return 0;
}

/* Disarm a timer. */
void
loop_timer_del(struct loop *l, struct loop_timer *t)
{
	size_t i;

	if (t->slot == 0)
		return;
	i = t->slot - 1;
	t->slot = 0;
	l->nheap--;
	if (i == l->nheap)
		return;
	l->heap[i] = l->heap[l->nheap];
	l->heap[i]->slot = i + 1;
	heap_fix(l, i);
}

/* Deliver signo through the loop. */
int
loop_signal(struct loop *l, int signo, loop_signal_cb cb, void *arg)
{
	struct sigaction sa;
	int i;

	if (signo <= 0 || signo >= LOOP_MAX_SIGNAL)
		return -1;
	if (l->sigpipe[0] == -1) {
		if (pipe(l->sigpipe) == -1)
			return -1;
		for (i = 0; i < 2; i++) {
			fcntl(l->sigpipe[i], F_SETFL, fcntl(l->sigpipe[i], F_GETFL) | O_NONBLOCK);
			fcntl(l->sigpipe[i], F_SETFD, FD_CLOEXEC);
		}
		sig_wfd = l->sigpipe[1];
		if (loop_fd_add(l, l->sigpipe[0], POLLIN, sig_readable, NULL) == -1)
			return -1;
	}
	l->sigcb[signo] = cb;
	l->sigarg[signo] = arg;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = cb != NULL ? sig_handler : SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	return sigaction(signo, &sa, NULL);
}

/* Run cb before every sleep. */
int
loop_before_sleep(struct loop *l, loop_hook_cb cb, void *arg)
{
	if (l->nhooks == LOOP_MAX_HOOKS)
		return -1;
	l->hooks[l->nhooks].cb = cb;
	l->hooks[l->nhooks].arg = arg;
	l->nhooks++;
	return 0;
}

/* Remove a before-sleep hook. */
void
loop_before_sleep_del(struct loop *l, loop_hook_cb cb, void *arg)
{
	int i;

	for (i = 0; i < l->nhooks; i++) {
		if (l->hooks[i].cb == cb && l->hooks[i].arg == arg) {
			memmove(&l->hooks[i], &l->hooks[i + 1],
			    (size_t)(l->nhooks - i - 1) * sizeof l->hooks[0]);
			l->nhooks--;
			return;
		}
	}
}

/* Fire every timer that is due. */
static void
run_timers(struct loop *l)
{
	struct loop_timer *t;
	int budget = 10000;   /* a timer re-arming itself at 0 ms cannot spin us */

	while (l->nheap > 0 && l->heap[0]->when <= l->now && budget-- > 0) {
		t = l->heap[0];
		loop_timer_del(l, t);
		t->cb(l, t, t->arg);
	}
}

/* Run one turn: hooks, poll, fd callbacks, timers. */
int
loop_once(struct loop *l, int max_ms)
{
	int timeout, n, i;
	size_t k;

	for (i = 0; i < l->nhooks; i++)
		l->hooks[i].cb(l, l->hooks[i].arg);
	if (l->stop)
		return 0;
	if (l->dirty && rebuild(l) == -1)
		return -1;

	l->now = mono_ms();
	timeout = max_ms;
	if (l->nheap > 0) {
		uint64_t when = l->heap[0]->when;
		int64_t d = when > l->now ? (int64_t)(when - l->now) : 0;

		if (d > INT32_MAX)
			d = INT32_MAX;
		if (timeout < 0 || d < timeout)
			timeout = (int)d;
	}

	n = poll(l->pfds, (nfds_t)l->npfds, timeout);
	l->wakeups++;
	l->now = mono_ms();
	if (n == -1) {
		if (errno == EINTR)
			return 0;
		return -1;
	}
	for (k = 0; n > 0 && k < l->npfds; k++) {
		struct pollfd *p = &l->pfds[k];
		struct loop_fd *f;

		if (p->revents == 0)
			continue;
		n--;
		if (p->fd >= l->nfds)
			continue;
		f = &l->fds[p->fd];
		/* skip fds removed or replaced by an earlier callback this turn */
		if (f->events == 0 || f->gen != l->pgen[k] || f->cb == NULL)
			continue;
		f->cb(l, p->fd, p->revents, f->arg);
	}
	run_timers(l);
	return 0;
}

/* Run until loop_stop. */
int
loop_run(struct loop *l)
{
	l->stop = 0;
	while (!l->stop)
		if (loop_once(l, -1) == -1)
			return -1;
	return 0;
}
