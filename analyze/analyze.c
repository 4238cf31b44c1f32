/*
 * analyze.c - pw-analyze: a stateless analysis worker (DESIGN §4).
 *
 * PULLs jobs from $PITWALL_JOBS and PUSHes results to $PITWALL_RESULTS (the
 * formats are in docs/store.md). Any number of workers can run, on any
 * machine that reaches those endpoints. Every job is validated part by part
 * before it is trusted; a malformed job gets an error result (when it names
 * itself) and never a crash. See --help.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "analyze/analysis.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/msg.h"

#define MAX_RUNS 256
#define MAX_PARTS (MAX_RUNS + 1)
#define MAX_JOB_FRAMES (64u << 20)     /* 24 GiB of frames: refuse anything near it */

static const char usage_text[] =
	"usage: pw-analyze [--help]\n"
	"\n"
	"pitwall's analysis worker: takes jobs from the store ($PITWALL_JOBS), runs the\n"
	"session's analysis (shift_points, car_grip, track_mapping, general) and sends\n"
	"the result back ($PITWALL_RESULTS). Stateless: run as many as you like, here\n"
	"or on other machines.\n";

struct job {
	zmq_msg_t parts[MAX_PARTS];
	int nparts;
	json_t *hdr;
	struct pw_frame *frames[MAX_RUNS]; /* aligned copies of the frame parts */
	struct an_run runs[MAX_RUNS];
	size_t nruns;
};

static void job_free(struct job *j)
{
	for (int i = 0; i < j->nparts; i++)
		zmq_msg_close(&j->parts[i]);
	for (size_t i = 0; i < MAX_RUNS; i++)
		free(j->frames[i]);
	json_decref(j->hdr);
	memset(j, 0, sizeof *j);
}

/* Receive every part of one message; extra parts beyond MAX_PARTS are drained. */
static int recv_job(void *pull, struct job *j)
{
	int more = 1;

	while (more) {
		zmq_msg_t *m = j->nparts < MAX_PARTS ? &j->parts[j->nparts] : NULL;
		zmq_msg_t junk;

		if (!m)
			m = &junk;
		zmq_msg_init(m);
		if (zmq_msg_recv(m, pull, 0) < 0) {
			zmq_msg_close(m);
			return -1;
		}
		more = zmq_msg_more(m);
		if (m == &junk) {
			zmq_msg_close(m);
			j->nparts = MAX_PARTS + 1; /* too many: rejected below */
		} else {
			j->nparts++;
		}
	}
	return 0;
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

/* Validate the header and the frame parts; fills j->runs. 0 or -1 + err. */
static int parse_job(struct job *j, struct an_input *in, struct an_err *err)
{
	json_error_t jerr;
	json_t *runs, *r;
	size_t i;

	err->code = AN_E_BAD_INPUT;
	if (j->nparts > MAX_PARTS) {
		snprintf(err->message, sizeof err->message, "more than %d parts", MAX_PARTS);
		return -1;
	}
	j->hdr = json_loadb(zmq_msg_data(&j->parts[0]), zmq_msg_size(&j->parts[0]), 0, &jerr);
	if (!json_is_object(j->hdr) || json_integer_value(json_object_get(j->hdr, "v")) != 1) {
		snprintf(err->message, sizeof err->message, "the header is not a version 1 job");
		return -1;
	}
	if (json_integer_value(json_object_get(j->hdr, "frame_size")) != (json_int_t)sizeof(struct pw_frame) ||
	    json_integer_value(json_object_get(j->hdr, "frame_version")) != FRAME_VERSION) {
		snprintf(err->message, sizeof err->message,
			 "frames of size %lld version %lld; this worker reads size %zu version %d",
			 (long long)json_integer_value(json_object_get(j->hdr, "frame_size")),
			 (long long)json_integer_value(json_object_get(j->hdr, "frame_version")),
			 sizeof(struct pw_frame), FRAME_VERSION);
		return -1;
	}
	runs = json_object_get(j->hdr, "runs");
	if (!json_is_array(runs) || json_array_size(runs) > MAX_RUNS ||
	    (int)json_array_size(runs) != j->nparts - 1) {
		snprintf(err->message, sizeof err->message, "%zu runs but %d frame parts",
			 json_array_size(runs), j->nparts - 1);
		return -1;
	}
	json_array_foreach(runs, i, r) {
		json_int_t n = json_integer_value(json_object_get(r, "frames"));
		size_t bytes = zmq_msg_size(&j->parts[i + 1]);

		if (!json_is_object(r) || n < 0 || (uint64_t)n > MAX_JOB_FRAMES ||
		    bytes != (size_t)n * sizeof(struct pw_frame)) {
			snprintf(err->message, sizeof err->message,
				 "run %zu: %lld frames announced, %zu bytes sent", i, (long long)n, bytes);
			return -1;
		}
		/* zmq gives no alignment guarantee: copy into memory aligned for the struct */
		if (n && !(j->frames[i] = malloc(bytes))) {
			snprintf(err->message, sizeof err->message, "out of memory for %lld frames",
				 (long long)n);
			return -1;
		}
		if (n)
			memcpy(j->frames[i], zmq_msg_data(&j->parts[i + 1]), bytes);
		j->runs[i] = (struct an_run){ .run_id = str(r, "run_id"), .feed = str(r, "feed_name"),
					      .label = str(r, "label"), .frames = j->frames[i],
					      .n = (size_t)n };
		zmq_msg_close(&j->parts[i + 1]); /* the copy is what we use */
		zmq_msg_init(&j->parts[i + 1]);
	}
	j->nruns = json_array_size(runs);
	*in = (struct an_input){
		.session_id = str(j->hdr, "session_id"), .use_case = str(j->hdr, "use_case"),
		.car_name = str(j->hdr, "car_name"), .game = str(j->hdr, "game"),
		.track = str(j->hdr, "track"), .runs = j->runs, .nruns = j->nruns,
		.track_model = json_is_object(json_object_get(j->hdr, "track_model"))
				       ? json_object_get(j->hdr, "track_model") : NULL,
	};
	return 0;
}

static void reply(void *push, json_t *hdr, json_t *analysis, const struct an_err *err)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:b}", "v", 1, "job_id", str(hdr, "job_id"),
			      "session_id", str(hdr, "session_id"), "ok", analysis != NULL);
	char *text;

	if (analysis)
		json_object_set_new(o, "analysis", analysis);
	else
		json_object_set_new(o, "error", json_pack("{s:s, s:s}", "code", err->code, "message",
							  err->message));
	text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(o);
	if (text && zmq_send(push, text, strlen(text), 0) < 0)
		log_error("msg=\"cannot send the result\" error=\"%s\"", zmq_strerror(zmq_errno()));
	free(text);
}

static void handle(void *push, struct job *j)
{
	struct an_input in;
	struct an_err err = { AN_E_BAD_INPUT, "" };
	json_t *res = NULL;
	int64_t t0 = clock_mono_ns();
	size_t frames = 0;

	if (parse_job(j, &in, &err) == 0) {
		for (size_t i = 0; i < j->nruns; i++)
			frames += j->runs[i].n;
		res = an_run_use_case(&in, &err);
	}
	if (!j->hdr || !json_is_string(json_object_get(j->hdr, "job_id"))) {
		log_warn("msg=\"malformed job without an id, dropped\" error=\"%s\"", err.message);
		json_decref(res);
		return;
	}
	log_info("msg=analysed job=%s session=%s use_case=%s runs=%zu frames=%zu ms=%.1f ok=%d%s%s",
		 str(j->hdr, "job_id"), str(j->hdr, "session_id"), str(j->hdr, "use_case"), j->nruns,
		 frames, (double)(clock_mono_ns() - t0) / 1e6, res != NULL, res ? "" : " error=",
		 res ? "" : err.message);
	reply(push, j->hdr, res, &err);
}

/* The worker's sockets: jobs in, results out. */
struct worker {
	struct config cfg;
	void *ctx, *pull, *push;
	uint64_t jobs;
};

static int ctx_open(void *arg)
{
	struct worker *w = arg;

	if (!(w->ctx = zmq_ctx_new())) {
		log_error("msg=\"cannot create a ZeroMQ context\" error=\"%s\"",
			  zmq_strerror(zmq_errno()));
		return -ENOMEM;
	}
	return 0;
}

static void ctx_close(void *arg)
{
	struct worker *w = arg;

	if (w->ctx)
		zmq_ctx_term(w->ctx);
	w->ctx = NULL;
}

static int sockets_open(void *arg)
{
	struct worker *w = arg;
	int linger = 1000, hwm = 1; /* one job at a time: the others stay with idle workers */

	w->pull = zmq_socket(w->ctx, ZMQ_PULL);
	w->push = zmq_socket(w->ctx, ZMQ_PUSH);
	if (!w->pull || !w->push)
		return -zmq_errno();
	zmq_setsockopt(w->push, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(w->pull, ZMQ_RCVHWM, &hwm, sizeof hwm);
	if (zmq_connect(w->pull, w->cfg.jobs) < 0 || zmq_connect(w->push, w->cfg.results) < 0) {
		int rc = -zmq_errno();
		log_error("msg=\"cannot connect\" jobs=%s results=%s error=\"%s\"", w->cfg.jobs,
			  w->cfg.results, zmq_strerror(-rc));
		return rc;
	}
	return 0;
}

static void sockets_close(void *arg)
{
	struct worker *w = arg;

	if (w->pull)
		zmq_close(w->pull);
	if (w->push)
		zmq_close(w->push);
	w->pull = w->push = NULL;
}

static const struct daemon_step steps[] = {
	{ "zmq context", ctx_open, ctx_close },
	{ "job and result endpoints", sockets_open, sockets_close },
};

int main(int argc, char **argv)
{
	static struct worker w;
	struct daemon d = { .prog = "pw-analyze", .component = "analyze", .usage = usage_text,
			    .progs = CONFIG_ANALYZE };
	int rc;

	if ((rc = daemon_start(&d, argc, argv, &w.cfg)) != DAEMON_RUN)
		return rc;
	if (daemon_setup(&d, steps, sizeof steps / sizeof *steps, &w) < 0)
		return 1;
	log_info("msg=started jobs=%s results=%s", w.cfg.jobs, w.cfg.results);
	while (!daemon_stopping()) {
		zmq_pollitem_t pi = { .socket = w.pull, .events = ZMQ_POLLIN };
		struct job *j;

		if (zmq_poll(&pi, 1, 200) <= 0)
			continue;
		if (!(j = calloc(1, sizeof *j)))
			continue;
		if (recv_job(w.pull, j) == 0 && j->nparts > 0) {
			handle(w.push, j);
			w.jobs++;
		}
		job_free(j);
		free(j);
	}
	log_info("msg=stopped jobs=%llu", (unsigned long long)w.jobs);
	daemon_teardown(&d);
	return 0;
}
