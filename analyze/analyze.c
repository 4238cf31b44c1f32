/*
 * analyze.c - pw-analyze: a stateless analysis worker (DESIGN §4).
 *
 * PULLs jobs from $PITWALL_JOBS and PUSHes results to $PITWALL_RESULTS (the
 * messages are common/job.h's, described in docs/store.md). A job is a
 * session's analysis or a track build (the store's track.build waits for its
 * result). Any number of workers can run, on any machine that reaches those
 * endpoints. Every job is validated part by part (job_decode) before it is
 * trusted; a malformed job gets an error result (when it names itself) and
 * never a crash. See --help.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "analyze/analysis.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/job.h"
#include "common/log.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pw-analyze [--help]\n"
		"\n"
		"pitwall's analysis worker: takes jobs from the store ($PITWALL_JOBS), runs the\n"
		"session's analysis (shift_points, car_grip, track_mapping, general) and sends\n"
		"the result back ($PITWALL_RESULTS). Stateless: run as many as you like, here\n"
		"or on other machines. Configuration is the PITWALL_* environment (README).\n");
}

/* The job's work: a track build, or its session's use case. */
static json_t *run_job(const struct job *j, struct an_err *err)
{
	struct an_run *runs = calloc(j->nruns + 1, sizeof *runs);
	struct an_input in;
	json_t *res;

	if (!runs) {
		an_fail(err, AN_E_NO_MEMORY, "out of memory for %zu runs", j->nruns);
		return NULL;
	}
	for (size_t i = 0; i < j->nruns; i++)
		runs[i] = (struct an_run){ .run_id = j->runs[i].run_id, .feed = j->runs[i].feed_name,
					   .label = j->runs[i].label, .frames = j->runs[i].frames,
					   .n = j->runs[i].nframes };
	in = (struct an_input){ .session_id = j->session_id, .use_case = j->use_case,
				.car_name = j->car_name, .game = j->game, .track = j->track,
				.runs = runs, .nruns = j->nruns, .track_model = j->track_model };
	if (j->kind == JOB_TRACK_BUILD)
		res = an_track_build(&in, j->game, j->track, err);
	else
		res = an_run_use_case(&in, err);
	free(runs);
	return res;
}

static void reply(void *push, const struct job *j, const json_t *res, const struct an_err *err)
{
	char *text = job_result_encode(j->kind, j->job_id, j->session_id, res, err->code,
				       err->message);

	if (!text)
		log_error("msg=\"cannot encode the result\" job=%s", j->job_id);
	else if (zmq_send(push, text, strlen(text), 0) < 0)
		log_error("msg=\"cannot send the result\" error=\"%s\"", zmq_strerror(zmq_errno()));
	free(text);
}

static void handle(void *push, struct job_inbox *ib)
{
	struct job j;
	struct an_err err = { AN_E_BAD_INPUT, "" };
	json_t *res = NULL;
	int64_t t0 = clock_mono_ns();
	size_t frames = 0, nparts;
	const struct job_part *parts = job_inbox_parts(ib, &nparts);
	int rc = job_decode(&j, parts, nparts, err.message, sizeof err.message);

	job_inbox_free(ib); /* the job holds its own copies */
	if (rc == -ENOMEM)
		err.code = AN_E_NO_MEMORY;
	if (rc == 0) {
		for (size_t i = 0; i < j.nruns; i++)
			frames += j.runs[i].nframes;
		res = run_job(&j, &err);
	}
	if (!j.job_id) {
		log_warn("msg=\"malformed job without an id, dropped\" error=\"%s\"", err.message);
		goto out;
	}
	log_info("msg=analysed job=%s kind=%s session=%s use_case=%s runs=%zu frames=%zu ms=%.1f "
		 "ok=%d%s%s", j.job_id, job_kind_name(j.kind), j.session_id ? j.session_id : "",
		 j.use_case ? j.use_case : "", j.nruns, frames, (double)(clock_mono_ns() - t0) / 1e6,
		 res != NULL, res ? "" : " error=", res ? "" : err.message);
	reply(push, &j, res, &err);
out:
	json_decref(res);
	job_release(&j);
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[256];
	void *ctx, *pull, *push;
	int linger = 1000;
	uint64_t jobs = 0;

	log_init("analyze");
	if (argc > 1) {
		int help = strcmp(argv[1], "--help") == 0;
		usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	if (config_load(&cfg, err, sizeof err) < 0) {
		log_error("msg=\"bad configuration\" error=\"%s\"", err);
		return 2;
	}
	config_log(&cfg);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ctx = zmq_ctx_new();
	pull = zmq_socket(ctx, ZMQ_PULL);
	push = zmq_socket(ctx, ZMQ_PUSH);
	zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
	{
		int hwm = 1; /* take one job at a time: the others stay with idle workers */
		zmq_setsockopt(pull, ZMQ_RCVHWM, &hwm, sizeof hwm);
	}
	if (zmq_connect(pull, cfg.jobs) < 0 || zmq_connect(push, cfg.results) < 0) {
		log_error("msg=\"cannot connect\" jobs=%s results=%s error=\"%s\"", cfg.jobs, cfg.results,
			  zmq_strerror(zmq_errno()));
		return 1;
	}
	log_info("msg=started jobs=%s results=%s", cfg.jobs, cfg.results);
	while (!stop_requested) {
		zmq_pollitem_t pi = { .socket = pull, .events = ZMQ_POLLIN };
		struct job_inbox *ib;

		if (zmq_poll(&pi, 1, 200) <= 0 || job_recv(pull, ZMQ_DONTWAIT, &ib) < 0)
			continue;
		handle(push, ib); /* frees ib */
		jobs++;
	}
	log_info("msg=stopped jobs=%llu", (unsigned long long)jobs);
	zmq_close(pull);
	zmq_close(push);
	zmq_ctx_term(ctx);
	return 0;
}
