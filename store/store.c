/*
 * store.c - pw-store: the hub. Owns the data dir (sessions, runs, recordings),
 * serves the command channel and runs the bus. See --help and store.h.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/atomicio.h"
#include "common/clock.h"
#include "common/daemon.h"
#include "common/log.h"
#include "store/store.h"

#define SOCKET_ROUNDS 16 /* command / result drains in a row before the rings' turn */
#define FEEDS_PERIOD_NS \
	(500 * NS_PER_MS) /* feed status (stale after 2 s), attaching, job deadlines */

static const char usage_text[] =
	"usage: pw-store [--help]\n"
	"\n"
	"pitwall's hub: the only writer of the data dir. Serves the command channel\n"
	"(ZeroMQ ROUTER at $PITWALL_CMD) and runs the bus: subscribers connect to\n"
	"$PITWALL_BUS (default tcp://127.0.0.1:7700), publishers to $PITWALL_BUS_IN\n"
	"(default tcp://127.0.0.1:7701). Sessions live in $PITWALL_DATA_DIR/sessions;\n"
	"a corrupt session file is reported and skipped, the others load.\n"
	"A setup step that fails (an endpoint that cannot be bound, a data dir that\n"
	"cannot be written) is logged, what was set up is undone, and pw-store exits 1.\n"
	"Stop with SIGTERM.\n";

/* --- setup steps (daemon.h): each init logs its own failure --- */

static int data_dir_open(void *arg)
{
	struct store *st = arg;
	int rc;

	snprintf(st->data_dir, sizeof st->data_dir, "%s", st->cfg.data_dir);
	snprintf(st->sessions_dir, sizeof st->sessions_dir, "%s/sessions", st->cfg.data_dir);
	if ((rc = atomicio_mkdirs(st->sessions_dir)) < 0) {
		log_error("msg=\"cannot create the data dir\" dir=%s error=\"%s\"",
			  st->sessions_dir, strerror(-rc));
		return rc;
	}
	return 0;
}

static int sessions_open(void *arg)
{
	struct store *st = arg;
	int rc = sessions_load(st);

	if (rc < 0)
		log_error("msg=\"cannot list the sessions\" dir=%s error=\"%s\"", st->sessions_dir,
			  strerror(-rc));
	return rc < 0 ? rc : 0;
}

/* The session index is written when the store stops, if it is behind. */
static void sessions_close(void *arg)
{
	struct store *st = arg;

	if (st->index_dirty)
		sindex_save(st);
}

static int ctx_open(void *arg)
{
	struct store *st = arg;

	if (!(st->zctx = zmq_ctx_new())) {
		log_error("msg=\"cannot create a ZeroMQ context\" error=\"%s\"",
			  zmq_strerror(zmq_errno()));
		return -ENOMEM;
	}
	return 0;
}

/* Last to go: every socket of the context is closed by then (linger 0), so
 * the term does not wait. */
static void ctx_close(void *arg)
{
	struct store *st = arg;

	if (st->zctx)
		zmq_ctx_term(st->zctx);
	st->zctx = NULL;
}

static int router_open(void *arg)
{
	struct store *st = arg;
	int linger = 0, rc;

	if (strncmp(st->cfg.cmd, "ipc://", 6) == 0 && (rc = atomicio_mkdirs(st->cfg.run_dir)) < 0) {
		log_error("msg=\"cannot create the run dir\" dir=%s error=\"%s\"", st->cfg.run_dir,
			  strerror(-rc));
		return rc;
	}
	if (!(st->router = zmq_socket(st->zctx, ZMQ_ROUTER)))
		return -zmq_errno();
	zmq_setsockopt(st->router, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_bind(st->router, st->cfg.cmd) < 0) {
		rc = -zmq_errno();
		log_error("msg=\"cannot bind the command endpoint\" endpoint=%s error=\"%s\"",
			  st->cfg.cmd, zmq_strerror(-rc));
		return rc;
	}
	return 0;
}

static void router_close(void *arg)
{
	struct store *st = arg;

	if (st->router)
		zmq_close(st->router);
	st->router = NULL;
}

static int bus_up(void *arg)
{
	struct store *st = arg;

	return bus_start(st, st->cfg.bus_in, st->cfg.bus);
}

static void bus_down(void *arg)
{
	bus_stop(arg);
}

static int feeds_up(void *arg)
{
	return feeds_init(arg);
}

static void feeds_down(void *arg)
{
	feeds_fini(arg);
}

static int jobs_up(void *arg)
{
	return jobs_init(arg);
}

static void jobs_down(void *arg)
{
	jobs_fini(arg);
}

static int loop_up(void *arg)
{
	return loop_open(arg);
}

static void loop_down(void *arg)
{
	loop_close(arg);
}

static int recordings_up(void *arg)
{
	return recordings_init(arg);
}

static void recordings_down(void *arg)
{
	recordings_fini(arg);
}

/* The status page is an optimisation of the readers: without it they ask us. */
static int status_open(void *arg)
{
	struct store *st = arg;
	int rc = storestat_open(&st->stat, st->cfg.instance);

	if (rc < 0)
		log_warn("msg=\"no status page: readers ask the store for everything\" "
			 "error=\"%s\"",
			 strerror(-rc));
	return 0;
}

static void status_close(void *arg)
{
	struct store *st = arg;

	storestat_stopped(st->stat);
	storestat_close(st->stat);
	st->stat = NULL; /* later steps' fini may still count: a NULL page ignores it */
}

static int resumed_runs;

static int runs_up(void *arg)
{
	resumed_runs = runs_resume(arg);
	return 0;
}

static void runs_down(void *arg)
{
	runs_fini(arg);
}

/* In order; the teardown runs their fini in reverse. */
static const struct daemon_step steps[] = {
	{ "data dir", data_dir_open, NULL },
	{ "sessions", sessions_open, sessions_close },
	{ "zmq context", ctx_open, ctx_close },
	{ "command endpoint", router_open, router_close },
	{ "bus", bus_up, bus_down },
	{ "feeds", feeds_up, feeds_down },
	{ "analysis endpoints", jobs_up, jobs_down },
	{ "loop wake-ups", loop_up, loop_down },
	{ "recordings", recordings_up, recordings_down },
	{ "status page", status_open, status_close },
	{ "runs", runs_up, runs_down },
};

/* The status page (common/storestat.h): counters after commands, and with
 * the heartbeat at every housekeeping. */
static void publish_status(struct store *st, int64_t now, int beat)
{
	storestat_set(st->stat, STORESTAT_COMMANDS, st->cmds);
	storestat_set(st->stat, STORESTAT_COMMANDS_REFUSED, st->cmd_errors);
	storestat_set(st->stat, STORESTAT_SESSIONS, (uint64_t)st->nsessions);
	storestat_set(st->stat, STORESTAT_RUNS_RECORDING, (uint64_t)runs_recording(st));
	if (beat)
		storestat_beat(st->stat, now);
}

/* Results, the bus and commands until the sockets are empty. A command may
 * queue a job (the next round's jobs_tick sends it) and a result may answer a
 * waiting command on the router; so the last call on each socket is a
 * receive that found it empty, and the watcher's next poll sees whatever
 * comes later. */
static void serve_sockets(struct store *st)
{
	for (int round = 0; round < SOCKET_ROUNDS; round++) {
		jobs_tick(st, clock_mono_ns());
		bus_serve(st);
		if (cmd_drain(st) == 0)
			break;
	}
	publish_status(st, 0, 0);
	loop_sockets_drained(st);
}

/* Leave the idle period: beat now, then say the period is short again, and
 * keep house at the usual pace from here. Returns 0 (not idle). */
static int idle_end(struct store *st, int64_t now, int64_t mono, int64_t *next_housekeeping,
		    int64_t *next_feeds)
{
	publish_status(st, now, 1);
	storestat_beat_period(st->stat, 0);
	*next_housekeeping = mono + LOOP_HOUSEKEEPING_NS;
	*next_feeds = mono;
	return 0;
}

/*
 * A turn: housekeeping when its period is up (the heartbeat; every
 * FEEDS_PERIOD_NS feed status, attaching, job deadlines and the sockets,
 * whatever the watcher saw; a feed turns "up" at its first frame, in
 * feeds_drain), the sockets when the watcher saw them readable, the rings
 * whenever the loop wakes; then sleep until a capture publishes, a command,
 * result, subscription or bus message comes, or the next housekeeping
 * (store/loop.c). That is LOOP_HOUSEKEEPING_NS between wake-ups with nothing
 * coming, and LOOP_IDLE_HOUSEKEEPING_NS once the store is idle (store.h).
 */
static void run(struct store *st)
{
	int64_t next_housekeeping = 0, next_feeds = 0, last_busy = clock_mono_ns();
	int idle = 0;

	while (!daemon_stopping()) {
		int64_t mono = clock_mono_ns(), now = clock_now_ns();
		int slow = 0, frames, sockets, busy;

		if (mono >= next_housekeeping) {
			if ((slow = mono >= next_feeds)) {
				feeds_tick(st, now);
				next_feeds =
					mono + (idle ? LOOP_IDLE_HOUSEKEEPING_NS : FEEDS_PERIOD_NS);
			}
			publish_status(st, now, 1);
			sindex_tick(st, mono);
			next_housekeeping =
				mono + (idle ? LOOP_IDLE_HOUSEKEEPING_NS : LOOP_HOUSEKEEPING_NS);
		}
		loop_snapshot(st);
		sockets = loop_sockets_due(st);
		if (idle && sockets) /* before the answer: whoever asked sees a busy store */
			idle = idle_end(st, now, mono, &next_housekeeping, &next_feeds);
		if (sockets || slow)
			serve_sockets(st);
		frames = feeds_drain(st);
		runs_tick(st, now);
		recordings_tick(st, now);
		loop_drained(st, frames);
		busy = frames > 0 || sockets || st->live || recordings_active_id(st) ||
		       jobs_pending(st);
		if (busy) {
			last_busy = mono;
			if (idle)
				idle = idle_end(st, now, mono, &next_housekeeping, &next_feeds);
		} else if (!idle && mono - last_busy >= LOOP_IDLE_AFTER_NS) {
			idle = 1; /* said before the first longer sleep */
			storestat_beat_period(st->stat,
					      (int32_t)(LOOP_IDLE_HOUSEKEEPING_NS / NS_PER_MS));
			next_housekeeping = mono + LOOP_IDLE_HOUSEKEEPING_NS;
		}
		loop_wait(st, next_housekeeping);
	}
}

int main(int argc, char **argv)
{
	static struct store st;
	struct daemon d = {
		.prog = "pw-store", .component = "store", .usage = usage_text, .progs = CONFIG_STORE
	};
	int rc;

	if ((rc = daemon_start(&d, argc, argv, &st.cfg)) != DAEMON_RUN)
		return rc;
	signal(SIGXFSZ, SIG_IGN); /* a file-size limit is an EFBIG write error, not a kill */
	/* A per-lap job copies the lap's frames (11 MB for a 90 s lap at 333 Hz, engineer.c) and
	 * frees them once sent. glibc raises its mmap threshold to the size of the first such
	 * block freed, so every later copy came from the heap, whose top is trimmed only past
	 * twice that: pw-store held 17 MB more for minutes after a lap (make soak). A fixed
	 * threshold maps every block over 128 KiB and unmaps it on free, as in pw-analyze; the
	 * lap buffers, which keep their capacity, grow in place (mremap). */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	if (daemon_setup(&d, steps, sizeof steps / sizeof *steps, &st) < 0)
		return 1;
	log_info("msg=started sessions=%d resumed_runs=%d cmd=%s", st.nsessions, resumed_runs,
		 st.cfg.cmd);
	run(&st);
	log_info("msg=stopping commands=%llu refused=%llu", (unsigned long long)st.cmds,
		 (unsigned long long)st.cmd_errors);
	daemon_teardown(&d);
	return 0;
}
