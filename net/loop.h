/* loop.h - the single-threaded poll(2) event loop: fds, timers, signals. */
#ifndef CONFAB_LOOP_H
#define CONFAB_LOOP_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct loop_timer;

typedef void (*loop_fd_cb)(struct loop *, int fd, int revents, void *arg);
typedef void (*loop_timer_cb)(struct loop *, struct loop_timer *, void *arg);
typedef void (*loop_signal_cb)(struct loop *, int signo, void *arg);
typedef void (*loop_hook_cb)(struct loop *, void *arg);

/* A timer is embedded in its owner's struct and armed with loop_timer_set. */
struct loop_timer {
	uint64_t      when;    /* absolute monotonic ms */
	size_t        slot;    /* index in the heap + 1; 0 when not armed */
	loop_timer_cb cb;
	void         *arg;
};

/* Create a loop; returns NULL on failure. */
struct loop *loop_new(void);
/* Free a loop (does not close registered fds). */
void     loop_free(struct loop *);
/* Run until loop_stop is called; returns 0, or -1 on a fatal poll error. */
int      loop_run(struct loop *);
/* Run one turn waiting at most max_ms (-1: no limit); for tests and tools. */
int      loop_once(struct loop *, int max_ms);
/* Ask loop_run to return after the current turn. */
void     loop_stop(struct loop *);
/* Monotonic milliseconds, cached at the start of each turn. */
uint64_t loop_now(struct loop *);
/* Wall-clock milliseconds since the epoch. */
uint64_t loop_wallclock_ms(void);
/* Number of poll wake-ups so far (for measurement). */
uint64_t loop_wakeups(struct loop *);

/* Watch fd for events (POLLIN/POLLOUT); replaces any earlier registration. */
int      loop_fd_add(struct loop *, int fd, int events, loop_fd_cb cb, void *arg);
/* Change the events watched on fd. */
int      loop_fd_events(struct loop *, int fd, int events);
/* Stop watching fd (safe inside its own callback). */
void     loop_fd_del(struct loop *, int fd);

/* Prepare a timer (not armed). */
void     loop_timer_init(struct loop_timer *, loop_timer_cb cb, void *arg);
/* Arm (or re-arm) a timer to fire once after ms milliseconds. */
int      loop_timer_set(struct loop *, struct loop_timer *, uint64_t ms);
/* Disarm a timer; harmless if it is not armed. */
void     loop_timer_del(struct loop *, struct loop_timer *);
/* Whether a timer is armed. */
static inline int loop_timer_armed(const struct loop_timer *t) { return t->slot != 0; }

/* Deliver signo through the loop (self-pipe); cb runs in normal context. */
int      loop_signal(struct loop *, int signo, loop_signal_cb cb, void *arg);
/* Run cb before every sleep (deferred writes, one redraw per turn). */
int      loop_before_sleep(struct loop *, loop_hook_cb cb, void *arg);
/* Remove a before-sleep hook. */
void     loop_before_sleep_del(struct loop *, loop_hook_cb cb, void *arg);

#endif
