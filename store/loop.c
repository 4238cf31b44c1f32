/*
 * loop.c - what wakes the store's loop (store.h, "the loop").
 *
 * The loop sleeps in one futex_waitv (common/wake.h) on:
 *   - every attached feed ring's notify word: pw-capture bumps it once per
 *     receive batch, so frames are drained, published on the bus and
 *     appended to recording runs as they come, not on a timer;
 *   - a word of ours, bumped by the socket watcher: a thread that sleeps in
 *     poll() on the ZMQ_FD of the command ROUTER, the results PULL and the
 *     bus's XPUB and XSUB, and bumps the word when any may have messages.
 *     ZeroMQ sockets belong to the main thread; the watcher only polls their
 *     descriptors, and polls again only after the loop has drained them
 *     (loop_sockets_drained), so it never spins on a descriptor the loop has
 *     not read yet. (A descriptor tells of a socket's commands, and a send
 *     may take one in before the watcher saw it: the loop also serves the
 *     sockets every FEEDS_PERIOD_NS, every second while idle, so nothing
 *     waits longer than that);
 *   - the next housekeeping deadline (LOOP_HOUSEKEEPING_NS; once the store
 *     is idle LOOP_IDLE_HOUSEKEEPING_NS, store.h): feed status, attaching
 *     segments, job deadlines, the status page's heartbeat.
 * The values of the words are taken before the work they stand for
 * (loop_snapshot), so whatever moves during the work ends the next sleep at
 * once. Above LOOP_BUSY_FPS frames/s the loop does not sleep on the rings:
 * it drains again after the time LOOP_BUSY_FRAMES frames take to come
 * (LOOP_BUSY_MAX_NS at most), so its wake-ups do not follow every batch of
 * every feed. Nor does it while frames come and no bus subscriber wants a
 * frame.<feed> (pw-api reads its telemetry from the rings, not the bus): then
 * what the drain feeds (laps and their events, recording runs, the live
 * engineer's lap buffer) can wait LOOP_QUIET_NS, and the loop drains that
 * often, whatever the rate (at 333 Hz: 50 wake-ups a second, not 333). The
 * frames wait in the ring meanwhile, as they do across a store restart. A
 * command, a result or a subscription still wakes the loop at once (the
 * rings are drained with it); a subscription or a drain that finds nothing
 * ends the pacing, so the first frame after a silence wakes the loop at once.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/wake.h"
#include "store/store.h"

#define LOOP_BUSY_FPS 2000 /* frames/s above which drains are paced */
#define LOOP_BUSY_FRAMES 64
#define LOOP_BUSY_MAX_NS (4 * NS_PER_MS)
#define LOOP_RATE_WINDOW_NS (100 * NS_PER_MS)
#define LOOP_QUIET_NS (20 * NS_PER_MS) /* frames come, none subscribed: drain this often */

struct loop {
	pthread_t watcher;
	int started;
	int quit_fd;              /* eventfd: the watcher stops */
	int fds[4];               /* ZMQ_FD of the router, the results socket, the XPUB, the XSUB */
	_Atomic uint32_t sockets; /* bumped by the watcher */
	_Atomic uint32_t drained; /* bumped by the loop after draining the sockets */
	_Atomic int quit;
	uint32_t sockets_seen; /* value of sockets at the snapshot */
	uint32_t sockets_done; /* value of sockets the last drain answered */
	struct seg *segs[CONFIG_MAX_FEEDS];
	uint32_t seen[CONFIG_MAX_FEEDS]; /* notify values at the snapshot */
	int nsegs;
	int64_t window_start, last_drain;
	uint64_t window_frames;
	int64_t pace_ns; /* > 0: busy, drain every this */
	int last_frames; /* frames the last drain read */
};

static void *watch(void *arg)
{
	struct loop *l = arg;

	while (!atomic_load(&l->quit)) {
		struct pollfd p[5] = { { l->fds[0], POLLIN, 0 },
				       { l->fds[1], POLLIN, 0 },
				       { l->fds[2], POLLIN, 0 },
				       { l->fds[3], POLLIN, 0 },
				       { l->quit_fd, POLLIN, 0 } };
		uint32_t drained;

		if (poll(p, 5, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("msg=\"socket watcher: poll failed\" error=\"%s\"",
				  strerror(errno));
			break;
		}
		if (p[4].revents)
			break;
		/* the loop reads the sockets after this bump; until it has, the
		 * descriptors may stay readable: wait for its drain, then poll again */
		drained = atomic_load(&l->drained);
		wake_bump(&l->sockets);
		while (atomic_load(&l->drained) == drained && !atomic_load(&l->quit)) {
			struct wake_set ws;

			wake_set_init(&ws);
			wake_add(&ws, &l->drained, drained, WAKE_PRIVATE);
			wake_wait(&ws, clock_mono_ns() + NS_PER_S);
		}
	}
	return NULL;
}

int loop_open(struct store *st)
{
	struct loop *l = calloc(1, sizeof *l);
	size_t len = sizeof(int);
	sigset_t stop, old;
	int rc;

	if (!l)
		return -ENOMEM;
	if ((l->quit_fd = eventfd(0, EFD_CLOEXEC)) < 0) {
		rc = -errno;
		log_error("msg=\"cannot create an eventfd\" error=\"%s\"", strerror(-rc));
		goto fail;
	}
	if (zmq_getsockopt(st->router, ZMQ_FD, &l->fds[0], &len) < 0 ||
	    (rc = jobs_results_fd(st, &l->fds[1])) < 0 || (rc = bus_fds(st, &l->fds[2])) < 0) {
		rc = -zmq_errno();
		log_error("msg=\"cannot watch the command and result sockets\" error=\"%s\"",
			  zmq_strerror(-rc));
		goto fail;
	}
	/* the stop signals go to the loop, whose sleep they end */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	rc = -pthread_create(&l->watcher, NULL, watch, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0) {
		log_error("msg=\"cannot start the socket watcher\" error=\"%s\"", strerror(-rc));
		goto fail;
	}
	l->started = 1;
	if (wake_polling())
		log_warn("msg=\"this kernel has no futex_waitv (Linux 5.16): the loop polls every "
			 "millisecond\"");
	st->loop = l;
	return 0;
fail:
	if (l->quit_fd >= 0)
		close(l->quit_fd);
	free(l);
	return rc;
}

void loop_close(struct store *st)
{
	struct loop *l = st->loop;
	uint64_t one = 1;

	if (!l)
		return;
	if (l->started) {
		atomic_store(&l->quit, 1);
		if (write(l->quit_fd, &one, sizeof one) < 0)
			log_warn("msg=\"cannot stop the socket watcher\" error=\"%s\"",
				 strerror(errno));
		wake_bump(&l->drained);
		pthread_join(l->watcher, NULL);
	}
	close(l->quit_fd);
	free(l);
	st->loop = NULL;
}

void loop_snapshot(struct store *st)
{
	struct loop *l = st->loop;

	l->nsegs = 0;
	for (int i = 0; i < st->nfeeds; i++) {
		struct seg *s = st->feeds[i].seg;

		if (!s)
			continue;
		l->segs[l->nsegs] = s;
		l->seen[l->nsegs++] = seg_notify_value(s);
	}
	l->sockets_seen = atomic_load(&l->sockets);
}

int loop_sockets_due(const struct store *st)
{
	return st->loop->sockets_seen != st->loop->sockets_done;
}

void loop_sockets_drained(struct store *st)
{
	struct loop *l = st->loop;

	l->sockets_done = l->sockets_seen;
	atomic_fetch_add(&l->drained, 1);
	wake_bump(&l->drained);
}

void loop_drained(struct store *st, int frames)
{
	struct loop *l = st->loop;
	int64_t now = clock_mono_ns();

	l->last_drain = now;
	l->last_frames = frames;
	l->window_frames += (uint64_t)frames;
	if (now - l->window_start >= LOOP_RATE_WINDOW_NS) {
		double fps = (double)l->window_frames * NS_PER_S / (double)(now - l->window_start);

		l->pace_ns =
			fps <= LOOP_BUSY_FPS ? 0 : (int64_t)(LOOP_BUSY_FRAMES * NS_PER_S / fps);
		if (l->pace_ns > LOOP_BUSY_MAX_NS)
			l->pace_ns = LOOP_BUSY_MAX_NS;
		l->window_frames = 0;
		l->window_start = now;
	}
}

/* How long after a drain the next one comes, the rings not waited on (0: they are). */
static int64_t pace_of(const struct store *st)
{
	const struct loop *l = st->loop;

	if (l->last_frames > 0 && !st->frames_subscribed && l->pace_ns < LOOP_QUIET_NS)
		return LOOP_QUIET_NS;
	return l->pace_ns;
}

void loop_wait(struct store *st, int64_t deadline_mono)
{
	struct loop *l = st->loop;
	struct wake_set ws;
	int64_t pace = pace_of(st);

	wake_set_init(&ws);
	wake_add(&ws, &l->sockets, l->sockets_seen, WAKE_PRIVATE);
	if (pace) { /* the rings wait until the paced drain */
		if (l->last_drain + pace < deadline_mono)
			deadline_mono = l->last_drain + pace;
	} else {
		for (int i = 0; i < l->nsegs; i++)
			wake_add(&ws, seg_notify_word(l->segs[i]), l->seen[i], WAKE_SHARED);
	}
	wake_wait(&ws, deadline_mono);
}
