/* oneshot.c - "confab send" and "confab recv": one transfer, then exit. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "invite.h"
#include "log.h"
#include "loop.h"         /* stdin and signals */
#include "oneshot.h"
#include "reach.h"
#include "text.h"
#include "transfer.h"

struct oneshot {
	struct core   core;
	struct loop  *loop;
	int           sending;
	char *const  *paths;
	int           npaths;
	const char   *from;       /* recv: only this fingerprint (prefix) */
	int           yes;
	int           tty;        /* stderr is a terminal: redraw one progress line */
	int           asking;     /* waiting for y/n on stdin */
	int           connected;  /* send: the peer came online */
	int           failed;     /* recv: the offer could not be received here (exit 1) */
	int           stopped;    /* Ctrl-C during the transfer: what arrived is kept */
	const char   *text;       /* send --text: the message, instead of files */
	size_t        textlen;
	uint64_t      t_run;      /* when the data started to flow (loop ms) */
	struct xfer  *x;          /* the transfer we care about */
	char          answer[64];
	size_t        alen;
};

/* Human-readable byte counts, in the units of the chat screen. */
static void
human(uint64_t n, char *out, size_t outlen)
{
	text_bytes(n, out, outlen);
}

/* "done: sent 3.0 MB in 1.2 s (2.5 MB/s on average)", and what a resume spared. */
static void
summary(struct oneshot *o, const struct xfer *x)
{
	uint64_t ms = loop_now(o->loop) - (o->t_run ? o->t_run : x->t_start), moved;
	char size[32], rate[32], kept[32];

	moved = x->done > x->resumed ? x->done - x->resumed : 0;
	human(x->total, size, sizeof size);
	human(ms > 0 ? moved * 1000 / ms : moved, rate, sizeof rate);
	fprintf(stderr, "done: %s %s in %.1f s (%s/s on average), every file verified", o->sending ? "sent" :
	    "received", size, (double)ms / 1000.0, rate);
	if (x->resumed > 0) {
		human(x->resumed, kept, sizeof kept);
		fprintf(stderr, "; %s of it was already there", kept);
	}
	fputc('\n', stderr);
}

/* Where what arrived so far is kept, for a resume (recv). */
static void
kept_note(struct oneshot *o, const struct xfer *x)
{
	char done[32], tot[32];

	human(x->done, done, sizeof done);
	human(x->total, tot, sizeof tot);
	fprintf(stderr, "%s%s of %s kept in %s for a resume: run confab recv again with the same "
	    "--dir (and home), and have the sender send the same files again\n", o->tty ? "\n" : "",
	    done, tot, x->target != NULL ? x->target : "the download directory");
}

/* Finish with an exit code. */
static void
finish(struct oneshot *o, int code)
{
	if (o->tty)
		fputc('\n', stderr);
	core_quit(&o->core, code);
}

/* Show an offer and decide (or ask) what to do with it. */
static void
on_offer(struct oneshot *o, struct xfer *x)
{
	char tot[32], sz[32], clean[XFS_PATH_MAX * 3 + 1];
	size_t i;

	if (o->x != NULL && o->x->hidden)
		o->x = NULL;   /* the same offer sent again (a reconnect): follow the new copy */
	if (o->x != NULL) {
		xfer_reject(&o->core, x, NULL);   /* one transfer at a time */
		return;
	}
	if (o->from != NULL && strncmp(x->peer->fp, o->from, strlen(o->from)) != 0) {
		fprintf(stderr, "confab: rejecting an offer from %s (not %s)\n", x->peer->fp, o->from);
		xfer_reject(&o->core, x, NULL);
		return;
	}
	o->x = x;
	if (x->auto_accept)
		return;   /* accepted by policy: a resume, or --yes with --from */
	human(x->total, tot, sizeof tot);
	fprintf(stderr, "%s (%s) offers %zu item(s), %s:\n", x->peer->nick, x->peer->fp, x->list.n, tot);
	for (i = 0; i < x->list.n && i < 50; i++) {
		text_sanitize((const uint8_t *)x->list.v[i].rel, strlen(x->list.v[i].rel), clean, sizeof clean, 0);
		human(x->list.v[i].size, sz, sizeof sz);
		fprintf(stderr, "  %s%s  %s\n", clean, x->list.v[i].type == XFS_DIR ? "/" : "",
		    x->list.v[i].type == XFS_DIR ? "" : sz);
	}
	if (x->list.n > 50)
		fprintf(stderr, "  ... and %zu more\n", x->list.n - 50);
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "confab: not accepting without --yes --from FINGERPRINT (stdin is not a terminal)\n");
		xfer_reject(&o->core, x, NULL);
		finish(o, ONESHOT_REJECTED);
		return;
	}
	fprintf(stderr, "Accept into %s? [y/N] ",
	    o->core.opt.download_dir ? o->core.opt.download_dir : o->core.paths.downloads);
	o->asking = 1;
}

/* Progress and results. */
static void
on_event(struct core *c, const struct core_event *ev, void *arg)
{
	struct oneshot *o = arg;
	struct xfer *x = ev->xfer;
	char done[32], tot[32], rate[32], eta[16];
	size_t i;

	switch (ev->type) {
	case EV_PEER:
		/*
		 * Only the peer asked for: the key that answered at the address,
		 * or proved the key the invite code pins.  (No one else can open
		 * a session to a sender: it does not listen, refuses incoming
		 * ones; but a LAN peer we called could come online too.)
		 */
		if (o->sending && ev->peer->state == PEER_ONLINE && o->x == NULL && c->asked &&
		    memcmp(ev->peer->pk, c->asked_pk, ID_KEYLEN) == 0) {
			fprintf(stderr, "connected to %s (%s)\n", ev->peer->nick, ev->peer->fp);
			o->connected = 1;
			if (o->text != NULL) {
				if (core_send_msg(c, ev->peer, o->text, o->textlen, NULL) == -1)
					finish(o, ONESHOT_FAILED);
				return;   /* EV_DELIVERED ends it */
			}
			if (xfer_send(c, ev->peer, o->paths, o->npaths, NULL) == -1) {
				finish(o, ONESHOT_FAILED);
				return;
			}
			o->x = c->xfers;
			fprintf(stderr, "waiting for the receiver to accept...\n");
		} else if (o->x != NULL && ev->peer == o->x->peer && ev->peer->state == PEER_OFFLINE &&
		    o->x->state != XS_DONE && !o->stopped) {
			fprintf(stderr, "%sconfab: %s went offline (%s)\n", o->tty ? "\n" : "", ev->peer->nick,
			    ev->reason ? ev->reason : "connection lost");
			if (o->x->state == XS_WAITING && o->x->dir == XFER_IN)
				kept_note(o, o->x);
			else if (o->x->state == XS_WAITING && o->t_run != 0)
				fprintf(stderr, "the receiver keeps what arrived: run the same confab send again "
				    "to resume\n");
			finish(o, ONESHOT_FAILED);
		} else if (o->text != NULL && o->connected && ev->peer->state == PEER_OFFLINE &&
		    memcmp(ev->peer->pk, c->asked_pk, ID_KEYLEN) == 0) {
			fprintf(stderr, "confab: %s went offline before the text was delivered\n", ev->peer->nick);
			finish(o, ONESHOT_FAILED);
		}
		break;
	case EV_DELIVERED:
		if (o->sending && o->text != NULL) {
			fprintf(stderr, "done: the text (%zu bytes) was delivered\n", o->textlen);
			finish(o, ONESHOT_OK);
		}
		break;
	case EV_MESSAGE:
		/* confab send --text: printed on stdout, as magic-wormhole does */
		if (!o->sending && o->x == NULL && ev->line != NULL &&
		    (o->from == NULL || strncmp(ev->peer->fp, o->from, strlen(o->from)) == 0)) {
			fprintf(stderr, "a text from %s (%s):\n", ev->peer->nick, ev->peer->fp);
			printf("%s\n", ev->line->text);
			fflush(stdout);
			finish(o, ONESHOT_OK);   /* core_quit sends the ACK before BYE */
		} else if (!o->sending && ev->line != NULL) {
			fprintf(stderr, "confab: ignoring a text from %s (%s)%s\n", ev->peer->nick, ev->peer->fp,
			    o->x != NULL ? ": a transfer is under way" : " (not --from)");
		}
		break;
	case EV_ERROR:
		fprintf(stderr, "confab: %s\n", ev->text);
		if (o->sending && !o->connected)
			finish(o, ONESHOT_UNREACHABLE);
		else if (!o->sending && o->x != NULL && o->x->state == XS_PENDING)
			o->failed = 1;   /* accepting failed (the directory): the core rejects it */
		break;
	case EV_OFFER:
		if (!o->sending)
			on_offer(o, x);
		break;
	case EV_PROGRESS:
		if (x != o->x)
			break;
		human(x->done, done, sizeof done);
		human(x->total, tot, sizeof tot);
		human(x->rate, rate, sizeof rate);
		text_eta(x->total > x->done ? x->total - x->done : 0, x->rate, eta, sizeof eta);
		if (o->tty)
			fprintf(stderr, "\r%s of %s  %3u%%  %s/s  ETA %s   ", done, tot,
			    x->total == 0 || x->done >= x->total ? 100u :
			    (unsigned)((double)x->done * 100 / (double)x->total), rate, eta);
		break;
	case EV_TRANSFER:
		if (x != o->x)
			break;
		if (x->state == XS_RUNNING && o->t_run == 0)
			o->t_run = loop_now(o->loop);
		if (x->state == XS_RUNNING && x->resumed > 0) {
			human(x->resumed, done, sizeof done);
			fprintf(stderr, "%sresuming: %s already there\n", o->tty ? "\r" : "", done);
		}
		if (x->state == XS_DONE) {
			if (o->tty)
				fputc('\n', stderr);
			/* one path a line on stdout (a name cannot hold a line break: xfs_path_ok) */
			for (i = 0; x->dir == XFER_IN && i < x->nfinals; i++) {
				char clean[XFS_PATH_MAX * 3 + 1];

				text_sanitize((const uint8_t *)x->finals[i], strlen(x->finals[i]), clean,
				    sizeof clean, 0);
				printf("%s/%s\n", x->target, clean);
			}
			if (x->dir == XFER_IN && x->nfinals == 0)
				printf("%s\n", x->result ? x->result : "");
			summary(o, x);
			core_quit(c, ONESHOT_OK);
		} else if (x->state == XS_REJECTED || x->state == XS_CANCELLED) {
			fprintf(stderr, "\nconfab: %s\n", x->reason ? x->reason : xfer_state_name(x->state));
			finish(o, o->failed ? ONESHOT_FAILED : ONESHOT_REJECTED);
		} else if (x->state == XS_FAILED) {
			fprintf(stderr, "\nconfab: transfer failed: %s\n", x->reason ? x->reason : "?");
			finish(o, ONESHOT_FAILED);
		}
		break;
	default:
		break;
	}
}

/* The answer to "Accept?" on the terminal. */
static void
on_stdin(struct loop *loop, int fd, int revents, void *arg)
{
	struct oneshot *o = arg;
	ssize_t r;
	char c;

	r = read(fd, &c, 1);
	if (r <= 0) {
		loop_fd_del(loop, fd);
		if (o->asking) {
			o->asking = 0;
			xfer_reject(&o->core, o->x, NULL);
			finish(o, ONESHOT_REJECTED);
		}
		return;
	}
	if (!o->asking)
		return;
	if (c != '\n') {
		if (o->alen < sizeof o->answer - 1)
			o->answer[o->alen++] = c;
		return;
	}
	o->answer[o->alen] = '\0';
	o->alen = 0;
	o->asking = 0;
	if (o->answer[0] == 'y' || o->answer[0] == 'Y') {
		if (xfer_accept(&o->core, o->x, NULL, NULL) == -1) {
			o->failed = 1;
			if (o->x->state != XS_PENDING || xfer_reject(&o->core, o->x, NULL) == -1)
				finish(o, ONESHOT_FAILED);   /* else the rejection ends it, with exit 1 */
		}
	} else {
		xfer_reject(&o->core, o->x, NULL);
		finish(o, ONESHOT_REJECTED);
	}
}

/*
 * SIGINT / SIGTERM: leave.  A transfer under way is not cancelled: the
 * receiver keeps what arrived (the core saves it on the way out, or when
 * the sender goes), and the same files sent again resume from there.
 * An offer not answered yet is rejected or withdrawn.
 */
static void
on_signal(struct loop *loop, int signo, void *arg)
{
	struct oneshot *o = arg;
	struct xfer *x = o->x;
	char done[32], tot[32];

	if (x != NULL && (x->state == XS_RUNNING || x->state == XS_WAITING) && o->t_run != 0) {
		o->stopped = 1;
		if (x->dir == XFER_IN) {
			kept_note(o, x);
		} else {
			human(x->done, done, sizeof done);
			human(x->total, tot, sizeof tot);
			fprintf(stderr, "%sstopped: the receiver keeps what arrived (%s of %s): run the same "
			    "confab send again to resume\n", o->tty ? "\n" : "", done, tot);
		}
		o->tty = 0;
		finish(o, ONESHOT_REJECTED);
		return;
	}
	if (x != NULL && x->state != XS_DONE)
		xfer_cancel(&o->core, x, NULL);
	finish(o, ONESHOT_REJECTED);
}

/* Common set-up and loop for both directions. */
static int
run(struct oneshot *o, const struct core_options *opt, const char *target)
{
	struct frontend fe = { on_event, NULL, o };
	struct core_options one = *opt;
	char err[512];
	int rc = ONESHOT_FAILED;

	/*
	 * Only the one connection asked for: calling known peers as well could
	 * open a second session to the same peer, which replaces the first under
	 * a transfer in flight.
	 */
	one.no_reconnect = 1;
	one.scratch_if_busy = 1;
	signal(SIGPIPE, SIG_IGN);
	o->tty = isatty(STDERR_FILENO);
	if ((o->loop = loop_new()) == NULL)
		return ONESHOT_FAILED;
	if (core_init(&o->core, o->loop, &one, &fe, err, sizeof err) == -1) {
		fprintf(stderr, "confab: %s\n", err);
		core_free(&o->core);
		loop_free(o->loop);
		return ONESHOT_FAILED;
	}
	if (!o->sending) {
		/* a directory that cannot take the files: say so now, not after an offer */
		const char *dir = o->core.opt.download_dir ? o->core.opt.download_dir : o->core.paths.downloads;

		if (xfer_dir_usable(dir, err, sizeof err) == -1) {
			fprintf(stderr, "confab: cannot receive into %s: %s\n", dir, err);
			core_free(&o->core);
			loop_free(o->loop);
			return ONESHOT_USAGE;
		}
	}
	if (o->core.scratch[0] != '\0')
		fprintf(stderr, "confab: another confab is running with this home; this %s uses a "
		    "temporary identity (%s) and keeps no state\n", o->sending ? "send" : "recv",
		    o->core.id.fp);
	loop_signal(o->loop, SIGINT, on_signal, o);
	loop_signal(o->loop, SIGTERM, on_signal, o);
	if (o->sending) {
		if (core_connect(&o->core, target, NULL) == -1)
			rc = ONESHOT_UNREACHABLE;
		else
			rc = -1;
	} else {
		char addrs[NET_LISTEN_MAX][SOCK_ADDRSTRLEN];
		size_t n = core_listen_addrs(&o->core, addrs, NET_LISTEN_MAX), i;

		char code[INVITE_TEXT_MAX];

		fprintf(stderr, "waiting for an offer; this is %s (%s), listening on", o->core.nick,
		    o->core.id.fp);
		for (i = 0; i < n; i++)
			fprintf(stderr, " %s", addrs[i]);
		fputc('\n', stderr);
		/* the exact command for the sender, the code on a line of its own */
		if (reach_invite_code(&o->core, code, sizeof code) == 0)
			fprintf(stderr, "to send here, run on the other machine (add --text TEXT for a text):\n"
			    "    confab send --to %s FILE...\n", code);
		loop_fd_add(o->loop, STDIN_FILENO, POLLIN, on_stdin, o);
		rc = -1;
	}
	if (rc == -1) {
		loop_run(o->loop);
		rc = o->core.exit_code;
	}
	core_free(&o->core);
	loop_free(o->loop);
	return rc;
}

/*
 * Every PATH there and readable, checked before any connection (a file
 * that goes missing later still fails the transfer): 0, or -1 said on stderr.
 */
static int
paths_check(char *const *paths, int npaths)
{
	char err[512];
	int i;

	for (i = 0; i < npaths; i++) {
		if (strcmp(paths[i], "-") == 0 && access("-", F_OK) != 0) {
			fprintf(stderr, "confab: cannot send -: standard input is sent as a text with --text - "
			    "(a file named - : ./-)\n");
			return -1;
		}
	}
	if (xfer_paths_check(paths, npaths, err, sizeof err) == -1) {
		fprintf(stderr, "confab: %s\n", err);
		return -1;
	}
	return 0;
}

/* confab send --to TARGET PATH... */
int
oneshot_send(const struct core_options *opt, const char *target, char *const *paths, int npaths,
    const char *text, size_t textlen)
{
	struct oneshot o;
	struct core_options so = *opt;

	if (text == NULL && paths_check(paths, npaths) == -1)
		return ONESHOT_USAGE;
	memset(&o, 0, sizeof o);
	o.sending = 1;
	o.text = text;
	o.textlen = textlen;
	o.paths = paths;
	o.npaths = npaths;
	so.no_incoming = 1;   /* a sender listens nowhere: it only calls the one peer asked for */
	so.nlisten = 0;
	return run(&o, &so, target);
}

/* confab recv [--dir DIR] [--from FP] [--yes] */
int
oneshot_recv(const struct core_options *opt, const char *from, int yes)
{
	struct oneshot o;
	struct core_options ro = *opt;
	char norm[FP_LEN + 2];

	memset(&o, 0, sizeof o);
	if (from != NULL) {
		if (fp_normalise(from, norm, sizeof norm) < FP_MIN_PREFIX) {
			fprintf(stderr, "confab: --from needs a fingerprint (or 4+ characters of one)\n");
			return ONESHOT_USAGE;
		}
		o.from = norm;
	}
	if (yes && from == NULL) {
		fprintf(stderr, "confab: --yes accepts only from a peer named with --from FINGERPRINT\n");
		return ONESHOT_USAGE;
	}
	o.yes = yes;
	ro.accept_from = NULL;
	if (yes && strlen(norm) == FP_LEN)
		ro.accept_from = norm;
	else if (yes) {
		fprintf(stderr, "confab: --yes needs the full fingerprint in --from\n");
		return ONESHOT_USAGE;
	}
	return run(&o, &ro, NULL);
}
