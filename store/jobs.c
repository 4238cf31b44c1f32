/*
 * jobs.c - analysis jobs (docs/architecture.md §4): the store PUSHes a job when a session is
 * completed (or re-analysed), or when track.build asks for a track model, and
 * PULLs results from the workers (pw-analyze). The messages are common/job.h's
 * (described in docs/store.md).
 *
 * A session's analysis: until a worker answers, the session's analysis reads
 * {"status":"pending"}; the result (or the failure) becomes its analysis. Its
 * runs travel as the columns the analysis reads (job_needs): to workers on
 * this host (an ipc:// or inproc:// job endpoint) as the paths of the run
 * files, which they read themselves; to others as extracts of the files
 * (their chunks as stored, read when the job is sent, never kept). A job
 * whose session was deleted or reopened meanwhile is dropped.
 *
 * A track build (tracks.c): the job holds the left and right runs' frames,
 * read when the command came, and the command's reply waits for the result
 * (cmd_defer); track_build_done writes the model and answers. It no longer
 * depends on its session, so it completes even when the session is deleted or
 * reopened meanwhile. Builds live in memory only: a store that stops loses
 * them, and their clients time out.
 *
 * A per-lap job (engineer.c) holds its lap's frames; it goes out first, and
 * only once: one no worker took, or whose result did not come, within its
 * time to live is dropped (engineer.c says why).
 *
 * Every other job without a result by its deadline (PITWALL_JOB_DEADLINE_MS)
 * is sent again; one that no worker can take yet is tried again each second.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/framefile.h"
#include "common/job.h"
#include "common/log.h"
#include "store/cmd.h"
#include "store/store.h"

#define JOB_RETRY_NS (1 * NS_PER_S)
#define LAP_RETRY_NS (20 * NS_PER_MS) /* a per-lap job no worker could take: soon again */
#define JOBS_MAX 1024

struct queued {
	char id[ID_LEN + 1];
	char session_id[ID_LEN + 1];
	int64_t next_send_ns; /* monotonic: when to (re)send */
	int sent;
	struct track_build *build; /* owned; NULL: the session's analysis */
	struct lap_job *lap;       /* owned; a per-lap job */
};

struct jobs {
	void *push, *pull;
	int64_t deadline_ns;
	struct queued q[JOBS_MAX];
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
	if (zmq_bind(st->jobs->push, st->cfg.jobs) < 0 ||
	    zmq_bind(st->jobs->pull, st->cfg.results) < 0) {
		log_error(
			"msg=\"cannot bind the analysis endpoints\" jobs=%s results=%s error=\"%s\"",
			st->cfg.jobs, st->cfg.results, zmq_strerror(zmq_errno()));
		return -1;
	}
	/* sessions completed before a restart still wait for their analysis */
	for (int i = 0; i < st->nsessions; i++) {
		struct session *s = st->sessions[i];

		if (s->completed &&
		    (s->details ? analysis_state_of(s->analysis) : s->analysis_state) ==
			    AS_PENDING &&
		    session_details(st, s) == 0)
			jobs_submit(st, s);
	}
	return 0;
}

void jobs_fini(struct store *st)
{
	if (!st->jobs)
		return;
	for (int i = 0; i < st->jobs->n; i++) { /* their clients time out */
		track_build_free(st->jobs->q[i].build);
		if (st->jobs->q[i].lap)
			lap_job_drop(st->jobs->q[i].lap, "the store stops");
	}
	zmq_close(st->jobs->push);
	zmq_close(st->jobs->pull);
	free(st->jobs);
	st->jobs = NULL;
}

int jobs_submit(struct store *st, struct session *s)
{
	struct jobs *j = st->jobs;
	struct queued *jb = NULL;

	for (int i = 0; i < j->n; i++) /* a re-analysis replaces a queued job */
		if (!j->q[i].build && !j->q[i].lap && strcmp(j->q[i].session_id, s->id) == 0)
			jb = &j->q[i];
	if (!jb) {
		if (j->n == JOBS_MAX)
			return -ENOSPC;
		jb = &j->q[j->n++];
	}
	memset(jb, 0, sizeof *jb);
	ids_new(jb->id);
	snprintf(jb->session_id, sizeof jb->session_id, "%s", s->id);
	json_decref(s->analysis);
	s->analysis = json_pack("{s:s, s:s}", "status", "pending", "job_id", jb->id);
	return 0;
}

int jobs_submit_build(struct store *st, struct track_build *b)
{
	struct jobs *j = st->jobs;
	struct job *job = track_build_job(b);
	struct queued *jb;
	int builds = 0;

	for (int i = 0; i < j->n; i++)
		builds += j->q[i].build != NULL;
	if (j->n == JOBS_MAX || builds >= STORE_MAX_TRACK_BUILDS)
		return -ENOSPC;
	job->deadline_ms = j->deadline_ns / NS_PER_MS;
	jb = &j->q[j->n++];
	*jb = (struct queued){ .build = b };
	snprintf(jb->id, sizeof jb->id, "%s", job->job_id);
	snprintf(jb->session_id, sizeof jb->session_id, "%s", job->session_id);
	return 0;
}

int jobs_submit_lap(struct store *st, struct lap_job *lj)
{
	struct jobs *j = st->jobs;
	struct job *job = lap_job_job(lj);
	struct queued *jb;

	if (j->n == JOBS_MAX)
		return -ENOSPC;
	/* first in the queue: the next send round takes it before the session analyses */
	jb = &j->q[j->n++];
	if (jb != &j->q[0]) {
		*jb = j->q[0];
		jb = &j->q[0];
	}
	*jb = (struct queued){ .lap = lj };
	snprintf(jb->id, sizeof jb->id, "%s", job->job_id);
	snprintf(jb->session_id, sizeof jb->session_id, "%s", job->session_id);
	return 0;
}

/* The job endpoint reaches only workers on this host (they can read the run files). */
static int jobs_local(const struct store *st)
{
	return strncmp(st->cfg.jobs, "ipc://", 6) == 0 ||
	       strncmp(st->cfg.jobs, "inproc://", 9) == 0;
}

/*
 * One run of a session's analysis job: the columns the analysis reads, as
 * the path of the run's file for a worker on this host, else as an extract
 * of the file (its chunks as stored). A run without a readable file goes as
 * no frames. *img is the extract (the caller frees it).
 */
static void job_run_of(struct store *st, struct session *s, struct run *r, uint64_t channels,
		       unsigned parts, struct job_run *out, void **img, char *abs, size_t cap)
{
	char path[IDS_PATH_MAX];
	struct framefile_info info;
	size_t len = 0;
	int rc;

	*img = NULL;
	*out = (struct job_run){ .run_id = r->id,
				 .feed_name = r->feed,
				 .label = r->label,
				 .channels = channels,
				 .parts = parts };
	run_frames_path(st, s, r, path, sizeof path);
	if (jobs_local(st) && strlen(path) < cap && realpath(path, abs)) {
		out->encoding = JOB_ENC_PATH;
		out->path = abs;
		out->nframes = (size_t)r->frame_count;
		return;
	}
	if ((rc = framefile_extract(path, channels, parts, img, &len, &info)) < 0) {
		if (rc != -ENOENT)
			log_warn(
				"msg=\"run frames unreadable, sent as none\" run=%s file=%s error=\"%s\"",
				r->id, path, strerror(-rc));
		return;
	}
	out->encoding = JOB_ENC_FRAMEFILE;
	out->image = *img;
	out->image_len = len;
	out->nframes = (size_t)info.frames;
}

/* Send the session's analysis job; 1 sent, 0 no worker ready (try later), <0 error. */
static int send_analysis(struct store *st, struct queued *jb, struct session *s)
{
	struct job_run *runs = calloc((size_t)s->nruns + 1, sizeof *runs);
	void **imgs = calloc((size_t)s->nruns + 1, sizeof *imgs);
	char(*paths)[PATH_MAX] = calloc((size_t)s->nruns + 1, sizeof *paths);
	json_t *model = NULL;
	struct job job = { .kind = JOB_ANALYSIS,
			   .job_id = jb->id,
			   .session_id = s->id,
			   .use_case = use_case_name(s->use_case),
			   .car_name = s->car_name,
			   .deadline_ms = st->jobs->deadline_ns / NS_PER_MS,
			   .runs = runs,
			   .nruns = (size_t)s->nruns };
	uint64_t channels = FRAME_P_ALL;
	unsigned parts = FRAMECOLS_HEAD;
	int rc;

	if (!runs || !imgs || !paths) {
		rc = -ENOMEM;
		goto out;
	}
	job_needs(job.use_case, &channels, &parts);
	for (int i = 0; i < s->nruns; i++)
		job_run_of(st, s, &s->runs[i], channels, parts, &runs[i], &imgs[i], paths[i],
			   sizeof paths[i]);
	if (s->nruns) { /* the runs' game and track; general uses a stored model of it */
		job.game = s->runs[0].game;
		job.track = s->runs[0].track;
		job.track_model = model = track_load(st, s->runs[0].game, s->runs[0].track);
	}
	rc = job_send_giving(st->jobs->push, &job, imgs); /* an extract is MBs: no copy */
out:
	for (int i = 0; imgs && i < s->nruns; i++)
		free(imgs[i]);
	free(imgs);
	free(paths);
	free(runs);
	json_decref(model);
	return rc;
}

static void drop_job(struct jobs *j, int i)
{
	j->q[i] = j->q[--j->n];
}

static void take_result(struct store *st, const void *buf, size_t len)
{
	struct job_result r;
	struct queued jb;
	struct session *s = NULL;
	char err[256] = "";
	int idx = -1, rc = job_result_decode(&r, buf, len, err, sizeof err);
	json_t *an;

	for (int i = 0; rc == 0 && i < st->jobs->n; i++)
		if (strcmp(st->jobs->q[i].id, r.job_id) == 0 &&
		    strcmp(st->jobs->q[i].session_id, r.session_id) == 0)
			idx = i;
	if (idx >= 0 && st->jobs->q[idx].lap) { /* a per-lap job: published, not kept */
		jb = st->jobs->q[idx];
		drop_job(st->jobs, idx);
		storestat_add(st->stat, STORESTAT_JOBS_DONE, 1);
		lap_job_done(st, jb.lap, &r);
		job_result_release(&r);
		return;
	}
	if (idx >= 0 && !st->jobs->q[idx].build)
		s = session_find(st, r.session_id);
	if (rc < 0 || idx < 0 || (!st->jobs->q[idx].build && !s)) {
		log_warn("msg=\"analysis result ignored: malformed, unknown or superseded job\" "
			 "job=%s%s%s%s",
			 r.job_id ? r.job_id : "?", rc < 0 ? " error=\"" : "", rc < 0 ? err : "",
			 rc < 0 ? "\"" : "");
		job_result_release(&r);
		return;
	}
	jb = st->jobs->q[idx];
	drop_job(st->jobs, idx);
	storestat_add(st->stat, STORESTAT_JOBS_DONE, 1);
	if (jb.build) {
		track_build_done(st, jb.build, &r);
		job_result_release(&r);
		return;
	}
	if (r.ok) /* the result's own object: it outlives the result's root */
		an = json_incref((json_t *)r.analysis);
	else
		an = json_pack("{s:s, s:O}", "status", "failed", "error",
			       json_object_get(r.root, "error"));
	json_decref(s->analysis);
	s->analysis = an;
	session_save(st, s);
	bus_publish(st, r.ok ? TOPIC_ANALYSIS_COMPLETED : TOPIC_ANALYSIS_FAILED,
		    json_pack("{s:s, s:s}", "session_id", s->id, "job_id", jb.id));
	job_result_release(&r);
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
		take_result(st, zmq_msg_data(&m), zmq_msg_size(&m));
		zmq_msg_close(&m);
		while (more) { /* drop any further parts */
			zmq_msg_init(&m);
			zmq_msg_recv(&m, j->pull, 0);
			more = zmq_msg_more(&m);
			zmq_msg_close(&m);
		}
	}
	for (int i = 0; i < j->n; i++) {
		struct queued *jb = &j->q[i];
		struct session *s = jb->build || jb->lap ? NULL : session_find(st, jb->session_id);
		int rc;

		if (jb->lap && (jb->sent || lap_job_expired(jb->lap, now_mono))) {
			if (lap_job_expired(jb->lap, now_mono)) {
				lap_job_drop(jb->lap,
					     jb->sent ? "no result in time" : "no worker took it");
				drop_job(j, i--);
			}
			continue; /* sent once: its result or its expiry ends it */
		}
		if (!jb->build && !jb->lap && (!s || !s->completed)) { /* deleted or reopened */
			drop_job(j, i--);
			continue;
		}
		if (now_mono < jb->next_send_ns)
			continue;
		rc = jb->lap     ? lap_job_send(j->push, jb->lap)
		     : jb->build ? job_send(j->push, track_build_job(jb->build))
				 : send_analysis(st, jb, s);
		if (rc > 0) {
			storestat_add(st->stat, STORESTAT_JOBS_SENT, 1);
			if (jb->sent++)
				log_warn(
					"msg=\"analysis job timed out, sent again\" job=%s kind=%s session=%s",
					jb->id, jb->build ? "track_build" : "analysis",
					jb->session_id);
			jb->next_send_ns = now_mono + j->deadline_ns;
		} else {
			jb->next_send_ns = now_mono + (jb->lap ? LAP_RETRY_NS : JOB_RETRY_NS);
		}
	}
}

int jobs_pending(const struct store *st)
{
	return st->jobs ? st->jobs->n : 0;
}

int jobs_results_fd(struct store *st, int *fd)
{
	size_t len = sizeof *fd;

	return zmq_getsockopt(st->jobs->pull, ZMQ_FD, fd, &len) < 0 ? -zmq_errno() : 0;
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
