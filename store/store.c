/*
 * store.c - pw-store: the hub. Owns the data dir (sessions, runs, recordings),
 * serves the command channel and runs the bus. See --help and store.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/atomicio.h"
#include "common/clock.h"
#include "common/log.h"
#include "store/store.h"

#define LOOP_MS 5           /* ring drain cadence: frame.<feed> latency and run draining */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pw-store [--help]\n"
		"\n"
		"pitwall's hub: the only writer of the data dir. Serves the command channel\n"
		"(ZeroMQ ROUTER at $PITWALL_CMD) and runs the bus: subscribers connect to\n"
		"$PITWALL_BUS (default tcp://127.0.0.1:7700), publishers to $PITWALL_BUS_IN\n"
		"(default tcp://127.0.0.1:7701). Sessions live in $PITWALL_DATA_DIR/sessions;\n"
		"a corrupt session file is reported and skipped, the others load.\n"
		"Configuration is the PITWALL_* environment (see README). Stop with SIGTERM.\n");
}

static int bind_router(struct store *st)
{
	int linger = 0, rc;

	if (strncmp(st->cfg.cmd, "ipc://", 6) == 0 && (rc = atomicio_mkdirs(st->cfg.run_dir)) < 0) {
		log_error("msg=\"cannot create the run dir\" dir=%s error=\"%s\"", st->cfg.run_dir,
			  strerror(-rc));
		return -1;
	}
	st->router = zmq_socket(st->zctx, ZMQ_ROUTER);
	zmq_setsockopt(st->router, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_bind(st->router, st->cfg.cmd) < 0) {
		log_error("msg=\"cannot bind the command endpoint\" endpoint=%s error=\"%s\"",
			  st->cfg.cmd, zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
}

/* The status page (common/storestat.h): heartbeat and counters, each loop. */
static void publish_status(struct store *st, int64_t now)
{
	storestat_set(st->stat, STORESTAT_COMMANDS, st->cmds);
	storestat_set(st->stat, STORESTAT_COMMANDS_REFUSED, st->cmd_errors);
	storestat_set(st->stat, STORESTAT_SESSIONS, (uint64_t)st->nsessions);
	storestat_set(st->stat, STORESTAT_RUNS_RECORDING, (uint64_t)runs_recording(st));
	storestat_beat(st->stat, now);
}

int main(int argc, char **argv)
{
	static struct store st;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[256];
	int rc;

	log_init("store");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		usage(stderr);
		return 2;
	}
	if (config_load(&st.cfg, err, sizeof err) < 0) {
		log_error("msg=\"bad configuration\" error=\"%s\"", err);
		return 2;
	}
	config_log(&st.cfg);
	snprintf(st.sessions_dir, sizeof st.sessions_dir, "%s/sessions", st.cfg.data_dir);
	if ((rc = atomicio_mkdirs(st.sessions_dir)) < 0) {
		log_error("msg=\"cannot create the data dir\" dir=%s error=\"%s\"", st.sessions_dir,
			  strerror(-rc));
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN); /* a file-size limit is an EFBIG write error, not a kill */
	st.zctx = zmq_ctx_new();
	snprintf(st.data_dir, sizeof st.data_dir, "%s", st.cfg.data_dir);
	if (sessions_load(&st) < 0 || bind_router(&st) < 0 ||
	    bus_start(&st, st.cfg.bus_in, st.cfg.bus) < 0 || feeds_init(&st) < 0 ||
	    jobs_init(&st) < 0 || recordings_init(&st) < 0) {
		zmq_close(st.router);
		zmq_ctx_term(st.zctx);
		return 1;
	}
	if ((rc = storestat_open(&st.stat, st.cfg.instance)) < 0)
		log_warn("msg=\"no status page: readers ask the store for everything\" error=\"%s\"",
			 strerror(-rc));
	rc = runs_resume(&st);
	log_info("msg=started sessions=%d resumed_runs=%d cmd=%s", st.nsessions, rc, st.cfg.cmd);
	while (!stop_requested) {
		zmq_pollitem_t pi = { .socket = st.router, .events = ZMQ_POLLIN };
		int64_t now;

		if (zmq_poll(&pi, 1, LOOP_MS) > 0)
			cmd_drain(&st);
		now = clock_now_ns();
		feeds_tick(&st, now);
		runs_tick(&st, now);
		recordings_tick(&st, now);
		jobs_tick(&st, clock_mono_ns());
		publish_status(&st, now);
	}
	log_info("msg=stopping commands=%llu refused=%llu", (unsigned long long)st.cmds,
		 (unsigned long long)st.cmd_errors);
	runs_fini(&st);
	recordings_fini(&st);
	jobs_fini(&st);
	feeds_fini(&st);
	bus_stop(&st);
	storestat_stopped(st.stat);
	storestat_close(st.stat);
	zmq_close(st.router);
	zmq_ctx_term(st.zctx);
	return 0;
}
