/*
 * jobs.c - analysis jobs (DESIGN §4): the store PUSHes a job when a session is
 * completed (or re-analysed) and PULLs results from the workers (pw-analyze).
 *
 * A job is a multipart message:
 *   part 0  JSON header {"v":1,"job_id","session_id","use_case","car_name",
 *           "deadline_ms","frame_size":384,"frame_version":1,
 *           "runs":[{"run_id","feed_name","label","frames"}...]}
 *   part 1+ one part per run: its frames as packed struct pw_frame (common/frame.h)
 * A result is one JSON part:
 *   {"v":1,"job_id","session_id","ok":true,"analysis":{...}}
 *   {"v":1,"job_id","session_id","ok":false,"error":{"code","message"}}
 *
 * Until a worker takes a job the session's analysis reads {"status":"pending"};
 * a job without a result by its deadline is sent again. Frames are loaded from
 * the run files only when a job is sent (lazily), never kept.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/log.h"
#include "store/cmd.h"
#include "common/framefile.h"
#include "store/store.h"

#define JOB_RETRY_NS (1 * NS_PER_S)
#define JOBS_MAX 1024
#define RESULT_MAX (64 << 20)   /* a result larger than this is refused */

struct job {
	char id[ID_LEN + 1];
	char session_id[ID_LEN + 1];
	int64_t next_send_ns;       /* monotonic: when to (re)send */
	int sent;
};

struct jobs {
	void *push, *pull;
	int64_t deadline_ns;
	struct job q[JOBS_MAX];
	int n;
};

int jobs_init(struct store *st)
{
	int hwm = 16, linger = 0;

	if (!(st->jobs = calloc(1, sizeof *st->jobs)))
		return -ENOMEM;
	st->jobs->deadline_ns = st->cfg.job_deadline_ms * NS_PER_MS;
	st->jobs->push = zmq_socket(st->zctx, ZMQ_PUSH);
	st->jobs->pull = zmq_socket(st->zctx, ZMQ_PULL);
	zmq_setsockopt(st->jobs->push, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_setsockopt(st->jobs->push, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(st->jobs->pull, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_bind(st->jobs->push, st->cfg.jobs) < 0 || zmq_bind(st->jobs->pull, st->cfg.results) < 0) {
		log_error("msg=\"cannot bind the analysis endpoints\" jobs=%s results=%s error=\"%s\"",
			  st->cfg.jobs, st->cfg.results, zmq_strerror(zmq_errno()));
		return -1;
	}
	/* sessions completed before a restart still wait for their analysis */
	for (int i = 0; i < st->nsessions; i++) {
		json_t *a = st->sessions[i]->analysis;
		if (st->sessions[i]->completed && json_is_object(a) &&
		    json_is_string(json_object_get(a, "status")) &&
		    strcmp(json_string_value(json_object_get(a, "status")), "pending") == 0)
			jobs_submit(st, st->sessions[i]);
	}
	return 0;
}

void jobs_fini(struct store *st)
{
	if (!st->jobs)
		return;
	zmq_close(st->jobs->push);
	zmq_close(st->jobs->pull);
	free(st->jobs);
	st->jobs = NULL;
}

int jobs_submit(struct store *st, struct session *s)
{
	struct jobs *j = st->jobs;
	struct job *jb = NULL;

	for (int i = 0; i < j->n; i++) /* a re-analysis replaces a queued job */
		if (strcmp(j->q[i].session_id, s->id) == 0)
			jb = &j->q[i];
	if (!jb) {
		if (j->n == JOBS_MAX)
			return -ENOSPC;
		jb = &j->q[j->n++];
	}
	memset(jb, 0, sizeof *jb);
	ids_new(jb->id);
	strcpy(jb->session_id, s->id);
	json_decref(s->analysis);
	s->analysis = json_pack("{s:s, s:s}", "status", "pending", "job_id", jb->id);
	return 0;
}

/* Send one job; 1 sent, 0 no worker ready (try later), <0 error. */
static int send_job(struct store *st, struct job *jb, struct session *s)
{
	json_t *hdr, *runs = json_array();
	struct pw_frame *frames[STORE_MAX_RUNS] = { 0 };
	size_t counts[STORE_MAX_RUNS] = { 0 };
	char *text;
	int rc = 1;

	for (int i = 0; i < s->nruns; i++) {
		char path[4400];
		struct framefile_info info;
		run_frames_path(st, s, &s->runs[i], path, sizeof path);
		if (framefile_load(path, &frames[i], &counts[i], &info) < 0)
			counts[i] = 0;
		json_array_append_new(runs, json_pack("{s:s, s:s, s:s, s:I}", "run_id", s->runs[i].id,
						      "feed_name", s->runs[i].feed, "label",
						      s->runs[i].label, "frames", (json_int_t)counts[i]));
	}
	hdr = json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:o}", "v", 1, "job_id", jb->id,
			"session_id", s->id, "use_case", use_case_name(s->use_case), "car_name",
			s->car_name, "deadline_ms", (json_int_t)(st->jobs->deadline_ns / NS_PER_MS),
			"frame_size", (int)sizeof(struct pw_frame), "frame_version", FRAME_VERSION,
			"runs", runs);
	if (s->nruns) { /* the runs' game and track; general uses a stored model of it */
		json_t *model = track_load(st, s->runs[0].game, s->runs[0].track);
		json_object_set_new(hdr, "game", json_string(s->runs[0].game));
		json_object_set_new(hdr, "track", json_string(s->runs[0].track));
		if (model)
			json_object_set_new(hdr, "track_model", model);
	}
	text = json_dumps(hdr, JSON_COMPACT);
	json_decref(hdr);
	if (zmq_send(st->jobs->push, text, strlen(text), ZMQ_DONTWAIT | (s->nruns ? ZMQ_SNDMORE : 0)) < 0)
		rc = zmq_errno() == EAGAIN ? 0 : -zmq_errno();
	for (int i = 0; rc == 1 && i < s->nruns; i++)
		zmq_send(st->jobs->push, frames[i], counts[i] * sizeof(struct pw_frame),
			 i + 1 < s->nruns ? ZMQ_SNDMORE : 0);
	for (int i = 0; i < s->nruns; i++)
		free(frames[i]);
	free(text);
	return rc;
}

static void drop_job(struct jobs *j, int i)
{
	j->q[i] = j->q[--j->n];
}

static void take_result(struct store *st, const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *o = json_loadb(buf, len, 0, &jerr), *an;
	const char *job_id = json_string_value(json_object_get(o, "job_id"));
	const char *sid = json_string_value(json_object_get(o, "session_id"));
	struct session *s = sid ? session_find(st, sid) : NULL;
	int idx = -1;

	for (int i = 0; job_id && i < st->jobs->n; i++)
		if (strcmp(st->jobs->q[i].id, job_id) == 0)
			idx = i;
	if (!o || idx < 0 || !s) {
		log_warn("msg=\"analysis result ignored: malformed, unknown or superseded job\" "
			 "job=%s", job_id ? job_id : "?");
		json_decref(o);
		return;
	}
	drop_job(st->jobs, idx);
	if (json_is_true(json_object_get(o, "ok")) && json_is_object((an = json_object_get(o, "analysis"))))
		an = json_incref(an);
	else
		an = json_pack("{s:s, s:O}", "status", "failed", "error",
			       json_object_get(o, "error") ? json_object_get(o, "error") : json_null());
	json_decref(s->analysis);
	s->analysis = an;
	storestat_add(st->stat, STORESTAT_JOBS_DONE, 1);
	session_save(st, s);
	bus_publish(st, json_is_true(json_object_get(o, "ok")) ? TOPIC_ANALYSIS_COMPLETED :
		    TOPIC_ANALYSIS_FAILED, json_pack("{s:s, s:s}", "session_id", s->id, "job_id", job_id));
	json_decref(o);
}

void jobs_tick(struct store *st, int64_t now_mono)
{
	struct jobs *j = st->jobs;

	for (;;) { /* results are one part of any size: a zmq_msg_t holds it whole */
		zmq_msg_t m;
		int more;

		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, j->pull, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			break;
		}
		more = zmq_msg_more(&m);
		if (zmq_msg_size(&m) <= RESULT_MAX)
			take_result(st, zmq_msg_data(&m), zmq_msg_size(&m));
		else
			log_warn("msg=\"analysis result too large, ignored\" bytes=%zu", zmq_msg_size(&m));
		zmq_msg_close(&m);
		while (more) { /* drop any further parts */
			zmq_msg_init(&m);
			zmq_msg_recv(&m, j->pull, 0);
			more = zmq_msg_more(&m);
			zmq_msg_close(&m);
		}
	}
	for (int i = 0; i < j->n; i++) {
		struct job *jb = &j->q[i];
		struct session *s = session_find(st, jb->session_id);
		int rc;

		if (!s || !s->completed) { /* deleted or reopened meanwhile */
			drop_job(j, i--);
			continue;
		}
		if (now_mono < jb->next_send_ns)
			continue;
		rc = send_job(st, jb, s);
		if (rc > 0) {
			storestat_add(st->stat, STORESTAT_JOBS_SENT, 1);
			if (jb->sent++)
				log_warn("msg=\"analysis job timed out, sent again\" job=%s session=%s",
					 jb->id, s->id);
			jb->next_send_ns = now_mono + j->deadline_ns;
		} else {
			jb->next_send_ns = now_mono + JOB_RETRY_NS;
		}
	}
}

static json_t *h_session_analyze(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "id", NULL };
	struct session *s;
	int rc;

	if (only_keys(args, keys, err) < 0 || !(s = need_session(st, args, "id", err)))
		return NULL;
	if (!s->completed)
		return fail(err, MSG_E_CONFLICT, "session %s is not completed", s->id);
	if ((rc = jobs_submit(st, s)) < 0)
		return fail(err, MSG_E_CONFLICT, "the analysis queue is full (%d jobs)", JOBS_MAX);
	bus_publish(st, TOPIC_ANALYSIS_PENDING, json_pack("{s:s}", "session_id", s->id));
	return saved(st, s, err);
}

const struct cmd_entry job_commands[] = {
	{ "session.analyze", h_session_analyze },
	{ NULL, NULL },
};
