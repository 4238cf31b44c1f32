/*
 * analyze.c - pw-analyze: a stateless analysis worker (docs/architecture.md §4).
 *
 * PULLs jobs from $PITWALL_JOBS and PUSHes results to $PITWALL_RESULTS (the
 * messages are common/job.h's, described in docs/store.md). A job is a
 * session's analysis or a track build (the store's track.build waits for its
 * result). Any number of workers can run, on any machine that reaches those
 * endpoints. Every job is validated part by part (job_decode) before it is
 * trusted; a malformed job gets an error result (when it names itself) and
 * never a crash. A per-lap job (kind "lap") runs the race engineer on its one
 * lap in live mode (analyze/engineer.h). A session's analysis job carries
 * its runs as the columns the analysis reads (a frame file image), or, from
 * a store on this host, the paths of the runs' files, which a worker reads
 * itself when they lie inside its data dir ($PITWALL_DATA_DIR). See --help.
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "analyze/analysis.h"
#include "analyze/engineer.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/daemon.h"
#include "common/framefile.h"
#include "common/job.h"
#include "common/log.h"

static const char usage_text[] =
	"usage: pw-analyze [--help]\n"
	"\n"
	"pitwall's analysis worker: takes jobs from the store ($PITWALL_JOBS), runs the\n"
	"session's analysis (shift_points, car_grip, track_mapping, general) and sends\n"
	"the result back ($PITWALL_RESULTS). Stateless: run as many as you like, here\n"
	"or on other machines.\n";

/* A per-lap job: the engineer on its run's frames as one lap, live. */
static json_t *run_lap(const struct job *j, const struct an_input *in, struct an_err *err)
{
	struct eng_opts o = { .live = true };
	struct eng_lap lap = { .run = 0, .first = 0, .number = (uint32_t)j->lap_number };
	const json_t *v;
	json_t *res;
	size_t i;

	if (j->nruns != 1 || j->runs[0].nframes == 0) {
		an_fail(err, AN_E_NO_DATA, "a lap job needs one run with the lap's frames");
		return NULL;
	}
	lap.last = j->runs[0].nframes - 1;
	json_array_foreach(j->suppress, i, v) {
		int c = eng_category_parse(json_string_value(v));
		if (c >= 0)
			o.suppress |= 1u << c;
	}
	res = an_engineer(in, &lap, 1, &o, err);
	if (res) {
		json_object_set_new(res, "lap_number", json_integer(j->lap_number));
		json_object_set_new(res, "run_id", json_string(j->runs[0].run_id));
	}
	return res;
}

/* A run read in two passes: its file (a "path" run, with its own columns)
 * or its image (a "framefile" run: the job's columns), what is left, read
 * aside first (an_more). */
struct path_run {
	char file[PATH_MAX];
	struct framefile_cols *opened; /* file, its block index walked once for both passes */
	struct framecols cols;
	const struct job_run *image; /* NULL: file */
	uint64_t per_lap;
	struct framecols aside;
	struct an_more more;
};

static struct framecols *path_cols(struct path_run *p)
{
	return p->image ? (struct framecols *)&p->image->cols : &p->cols;
}

static int load_per_lap(void *ctx, size_t first, size_t count)
{
	struct path_run *p = ctx;
	int rc = framecols_aside(&p->aside, path_cols(p));

	if (rc < 0)
		return rc;
	if (p->image)
		return framefile_load_cols_range_buf(p->image->image, p->image->image_len,
						     p->per_lap, first, count, &p->aside);
	return framefile_cols_load_range(p->opened, p->per_lap, first, count, &p->aside);
}

static void adopt_per_lap(void *ctx)
{
	struct path_run *p = ctx;

	framecols_take(path_cols(p), &p->aside);
}

/*
 * A "path" run: its file's columns, read here when it lies inside data_dir
 * (the store's data dir, this host's). For an analysis that reads some
 * channels over its laps only (job_needs_split: general), those wait for
 * the laps (p->more). 0, or -1 with err set.
 */
static int load_path(const struct job_run *r, const char *use_case, const char *data_dir,
		     struct path_run *p, struct an_err *err)
{
	char dir[PATH_MAX];
	struct framefile_info info;
	uint64_t first = r->channels, split;
	unsigned parts;
	size_t dl;
	int rc;

	if (!realpath(data_dir, dir) || !realpath(r->path, p->file) || (dl = strlen(dir)) == 0 ||
	    strncmp(p->file, dir, dl) != 0 || p->file[dl] != '/') {
		an_fail(err, AN_E_BAD_INPUT,
			"run %s: its frame file %s is not in this worker's data "
			"dir %s",
			r->run_id, r->path, data_dir);
		return -1;
	}
	if (job_needs_split(use_case, &split, &parts, &p->per_lap) == 0 && p->per_lap) {
		p->per_lap &= r->channels;
		first = r->channels & ~p->per_lap;
		p->more = (struct an_more){ load_per_lap, adopt_per_lap, p };
	}
	if ((rc = framefile_cols_open(&p->opened, p->file)) < 0 ||
	    (rc = framefile_cols_load(p->opened, first, r->parts, &p->cols, &info)) < 0) {
		an_fail(err, rc == -ENOMEM ? AN_E_NO_MEMORY : AN_E_BAD_INPUT,
			"run %s: its frame file %s does not read: %s", r->run_id, r->path,
			strerror(-rc));
		return -1;
	}
	if (info.tail != FRAMEFILE_TAIL_CLEAN)
		log_warn(
			"msg=\"run file ends in a damaged tail: its valid frames analysed\" run=%s "
			"file=%s frames=%zu",
			r->run_id, r->path, p->cols.n);
	return 0;
}

/* The columns run_job read for the job's runs (n of them), freed. */
static void free_own(struct path_run *own, size_t n)
{
	for (size_t i = 0; own && i < n; i++) {
		framecols_free(&own[i].cols);
		framecols_free(&own[i].aside);
		framefile_cols_close(own[i].opened);
	}
	free(own);
}

/* The job's work: a track build, a lap's recommendations, or its session's use case.
 * *own: the columns read for it, for the caller to free (free_own) once the result
 * has gone: giving back an hour's columns takes a few milliseconds. */
static json_t *run_job(const struct job *j, const char *data_dir, struct an_err *err,
		       struct path_run **own_out)
{
	struct an_run *runs = calloc(j->nruns + 1, sizeof *runs);
	struct path_run *own = calloc(j->nruns + 1, sizeof *own);
	struct an_input in;
	json_t *res = NULL;

	*own_out = own;
	if (!runs || !own) {
		an_fail(err, AN_E_NO_MEMORY, "out of memory for %zu runs", j->nruns);
		goto out;
	}
	for (size_t i = 0; i < j->nruns; i++) {
		const struct job_run *r = &j->runs[i];

		runs[i] = (struct an_run){ .run_id = r->run_id,
					   .feed = r->feed_name,
					   .label = r->label,
					   .frames = r->frames,
					   .n = r->nframes };
		if (r->encoding != JOB_ENC_FRAMES && j->kind != JOB_ANALYSIS) {
			an_fail(err, AN_E_BAD_INPUT, "a %s job carries its runs as frames",
				job_kind_name(j->kind));
			goto out;
		}
		if (r->encoding == JOB_ENC_FRAMEFILE) {
			runs[i].cols = &r->cols;
			if (r->per_lap) { /* job_decode_split left them in the image */
				own[i].image = r;
				own[i].per_lap = r->per_lap;
				own[i].more =
					(struct an_more){ load_per_lap, adopt_per_lap, &own[i] };
				runs[i].more = &own[i].more;
			}
		}
		if (r->encoding == JOB_ENC_PATH) {
			if (load_path(r, j->use_case, data_dir, &own[i], err) < 0)
				goto out;
			runs[i].cols = &own[i].cols;
			runs[i].n = own[i].cols.n;
			runs[i].more = own[i].more.load ? &own[i].more : NULL;
		}
	}
	in = (struct an_input){ .session_id = j->session_id,
				.use_case = j->use_case,
				.car_name = j->car_name,
				.game = j->game,
				.track = j->track,
				.runs = runs,
				.nruns = j->nruns,
				.track_model = j->track_model };
	if (j->kind == JOB_TRACK_BUILD)
		res = an_track_build(&in, j->game, j->track, err);
	else if (j->kind == JOB_LAP)
		res = run_lap(j, &in, err);
	else
		res = an_run_use_case(&in, err);
out:
	free(runs);
	return res;
}

static void reply(void *push, const struct job *j, const json_t *res, const struct an_err *err)
{
	char *text =
		job_result_encode(j->kind, j->job_id, j->session_id, res, err->code, err->message);

	if (!text)
		log_error("msg=\"cannot encode the result\" job=%s", j->job_id);
	else if (zmq_send(push, text, strlen(text), 0) < 0)
		log_error("msg=\"cannot send the result\" error=\"%s\"", zmq_strerror(zmq_errno()));
	free(text);
}

static void handle(void *push, const char *data_dir, struct job_inbox *ib)
{
	struct job j;
	struct an_err err = { AN_E_BAD_INPUT, "" };
	json_t *res = NULL;
	struct path_run *own = NULL;
	int64_t t0 = clock_mono_ns();
	size_t frames = 0, nparts;
	const struct job_part *parts = job_inbox_parts(ib, &nparts);
	/* a general job's image keeps the per-lap channels until the laps are known */
	int rc = job_decode_split(&j, parts, nparts, err.message, sizeof err.message);

	if (rc == -ENOMEM)
		err.code = AN_E_NO_MEMORY;
	if (rc == 0) {
		for (size_t i = 0; i < j.nruns; i++)
			frames += j.runs[i].nframes;
		res = run_job(&j, data_dir, &err, &own);
	}
	job_inbox_free(ib); /* the job's images pointed into it */
	if (!j.job_id) {
		log_warn("msg=\"malformed job without an id, dropped\" error=\"%s\"", err.message);
		goto out;
	}
	log_info("msg=analysed job=%s kind=%s session=%s use_case=%s runs=%zu frames=%zu ms=%.1f "
		 "ok=%d%s%s",
		 j.job_id, job_kind_name(j.kind), j.session_id ? j.session_id : "",
		 j.use_case ? j.use_case : "", j.nruns, frames,
		 (double)(clock_mono_ns() - t0) / 1e6, res != NULL,
		 res ? "" : " error=", res ? "" : err.message);
	reply(push, &j, res, &err);
out:
	json_decref(res);
	free_own(own, rc == 0 ? j.nruns : 0); /* after the reply: it waits for no free */
	job_release(&j);
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
	struct daemon d = { .prog = "pw-analyze",
			    .component = "analyze",
			    .usage = usage_text,
			    .progs = CONFIG_ANALYZE };
	int rc;

	if ((rc = daemon_start(&d, argc, argv, &w.cfg)) != DAEMON_RUN)
		return rc;
	/* A job's frames (and ZeroMQ's copy of its message) are MBs allocated and freed once per
	 * job. glibc raises its mmap threshold after the first such free and then keeps them in
	 * the heap, so an idle worker held 12-63 MB after ten minutes of per-lap jobs (make
	 * soak). A fixed threshold maps every block over 128 KiB and unmaps it on free: the
	 * worker stays at its idle size between jobs, for one mmap per large block. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	if (daemon_setup(&d, steps, sizeof steps / sizeof *steps, &w) < 0)
		return 1;
	log_info("msg=started jobs=%s results=%s", w.cfg.jobs, w.cfg.results);
	while (!daemon_stopping()) {
		zmq_pollitem_t pi = { .socket = w.pull, .events = ZMQ_POLLIN };
		struct job_inbox *ib;

		/* SIGTERM interrupts the poll; the timeout only bounds one that came
		 * between the check and the poll */
		if (zmq_poll(&pi, 1, 1000) <= 0 || job_recv(w.pull, ZMQ_DONTWAIT, &ib) < 0)
			continue;
		handle(w.push, w.cfg.data_dir, ib); /* frees ib */
		w.jobs++;
	}
	log_info("msg=stopped jobs=%llu", (unsigned long long)w.jobs);
	daemon_teardown(&d);
	return 0;
}
