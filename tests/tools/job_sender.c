/*
 * job_sender.c - a scripted stand-in for the store's job channel, to test
 * pw-analyze against malformed jobs (tests/integration/test_worker.sh).
 *
 *   job_sender JOBS_EP RESULTS_EP DATA_DIR [RESULTS_FILE]
 *
 * Binds both endpoints like the store, sends a series of broken jobs and one
 * valid job (an emulated 3-lap general session) to whatever worker connects,
 * and checks every answer: each broken job that names itself gets an error
 * result with code bad_input, one without a job id gets none, and the valid
 * job still gets its analysis afterwards (the worker survived them all).
 * Then the version 2 encodings: the same session as a frame file in
 * DATA_DIR (the worker's), sent as an extract of the general analysis's
 * columns and as the file's path, each gives the same laps as the frames;
 * a path outside DATA_DIR, a damaged file and a damaged extract are refused.
 * The jobs are common/job.h's encoding, broken field by field after it.
 * Prints PASS/FAIL lines. With RESULTS_FILE, every result received is appended
 * to it as one line, for the tests to check against the JSON Schema job-result.
 */
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "capture/sim/car.h"
#include "capture/sim/driver.h"
#include "capture/sim/track.h"
#include "common/framefile.h"
#include "common/job.h"

int main(int argc, char **argv);

static int fails;
static FILE *results;

static void send_parts(void *push, const char *hdr, const void *const *parts, const size_t *lens,
		       int nparts)
{
	zmq_send(push, hdr, strlen(hdr), nparts ? ZMQ_SNDMORE : 0);
	for (int i = 0; i < nparts; i++)
		zmq_send(push, parts[i], lens[i], i + 1 < nparts ? ZMQ_SNDMORE : 0);
}

/* The next result (job_result_release it), or -1 after timeout_ms or when it
 * is not a well-formed result. */
static int result(void *pull, int timeout_ms, struct job_result *r)
{
	zmq_pollitem_t pi = { .socket = pull, .events = ZMQ_POLLIN };
	zmq_msg_t m;
	char err[256];
	int rc = -1;

	memset(r, 0, sizeof *r);
	if (zmq_poll(&pi, 1, timeout_ms) <= 0)
		return -1;
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, pull, 0) >= 0) {
		if (results) {
			fwrite(zmq_msg_data(&m), 1, zmq_msg_size(&m), results);
			fputc('\n', results);
			fflush(results);
		}
		rc = job_result_decode(r, zmq_msg_data(&m), zmq_msg_size(&m), err, sizeof err);
		if (rc < 0)
			fprintf(stderr, "a malformed result: %s\n", err);
	}
	zmq_msg_close(&m);
	return rc;
}

static void expect_error(void *pull, const char *name, const char *job_id)
{
	struct job_result r;
	int ok = result(pull, 10000, &r) == 0 && !r.ok && strcmp(r.job_id, job_id) == 0 &&
		 strcmp(r.code, JOB_E_BAD_INPUT) == 0;

	printf("%s %s: an error result (bad_input), no crash\n", ok ? "PASS" : "FAIL", name);
	fails += !ok;
	job_result_release(&r);
}

/* A general job of nruns runs as the store encodes it (common/job.h), then
 * broken: frame_size and each run's frame count set to what is given. */
static char *header(const char *job, int frame_size, int nruns, const long *frames)
{
	struct job_run runs[4];
	struct job j = { .kind = JOB_ANALYSIS,
			 .job_id = job,
			 .session_id = "00000000-0000-4000-8000-000000000001",
			 .use_case = "general",
			 .car_name = "car",
			 .runs = runs,
			 .nruns = (size_t)nruns };
	json_t *h, *r;
	json_error_t jerr;
	char *s = NULL, *text;
	size_t i;

	for (int k = 0; k < nruns && k < 4; k++)
		runs[k] = (struct job_run){ .run_id = "r",
					    .feed_name = "ksudp",
					    .label = "",
					    .nframes = frames[k] > 0 ? (size_t)frames[k] : 0 };
	if (!(text = job_encode(&j)) || !(h = json_loads(text, 0, &jerr))) {
		free(text);
		return NULL;
	}
	json_object_set_new(h, "frame_size", json_integer(frame_size));
	json_array_foreach(json_object_get(h, "runs"), i, r)
		json_object_set_new(r, "frames", json_integer(frames[i]));
	s = json_dumps(h, JSON_COMPACT);
	json_decref(h);
	free(text);
	return s;
}

/* The analysis of a result (a new reference), or NULL when it failed (its
 * error printed). */
static json_t *analysis_of(void *pull, const char *job_id)
{
	struct job_result r;
	json_t *a = NULL;

	if (result(pull, 20000, &r) < 0 || strcmp(r.job_id, job_id) != 0)
		printf("  %s: no result\n", job_id);
	else if (!r.ok)
		printf("  %s: %s: %s\n", job_id, r.code, r.message);
	else
		a = json_deep_copy(r.analysis);
	job_result_release(&r);
	return a;
}

static void send_v2(void *push, const char *job_id, struct job_run *run)
{
	struct job j = { .kind = JOB_ANALYSIS,
			 .job_id = job_id,
			 .session_id = "00000000-0000-4000-8000-000000000001",
			 .use_case = "general",
			 .car_name = "car",
			 .runs = run,
			 .nruns = 1 };

	if (job_send(push, &j) != 1)
		printf("  %s: not sent\n", job_id);
}

/* The session as a frame file in the worker's data dir, sent as an extract
 * and as a path: the analysis of the frames (want); then the refusals. */
static void v2_jobs(void *push, void *pull, const struct pw_frame *f, size_t n, const json_t *want,
		    const char *data_dir)
{
	char path[PATH_MAX], real[PATH_MAX], bad_path[PATH_MAX];
	struct framefile_hdr h = { 0 };
	struct framefile_writer *w = NULL;
	struct framefile_info info;
	struct job_run run = { .run_id = "r", .feed_name = "ksudp", .label = "" };
	void *img = NULL;
	size_t len = 0;
	json_t *got;
	int ok;

	snprintf(path, sizeof path, "%s/sender.frames", data_dir);
	snprintf(h.feed, sizeof h.feed, "ksudp");
	snprintf(h.run_id, sizeof h.run_id, "r");
	unlink(path);
	job_needs("general", &run.channels, &run.parts);
	if (framefile_create(&w, path, &h) < 0 || framefile_append(w, f, n) < 0 ||
	    framefile_close(w) < 0 || !realpath(path, real) ||
	    framefile_extract(path, run.channels, run.parts, &img, &len, &info) < 0) {
		printf("FAIL the session as a frame file in %s\n", data_dir);
		fails++;
		return;
	}
	run.encoding = JOB_ENC_FRAMEFILE;
	run.image = img;
	run.image_len = len;
	run.nframes = n;
	send_v2(push, "v2-extract", &run);
	got = analysis_of(pull, "v2-extract");
	ok = got && want && json_equal(got, (json_t *)want);
	printf("%s a version 2 job with the run as an extract of its columns (%zu of %zu bytes): "
	       "the analysis of the frames\n",
	       ok ? "PASS" : "FAIL", len, n * sizeof *f);
	fails += !ok;
	json_decref(got);
	run.encoding = JOB_ENC_PATH;
	run.path = real;
	send_v2(push, "v2-path", &run);
	got = analysis_of(pull, "v2-path");
	ok = got && want && json_equal(got, (json_t *)want);
	printf("%s a version 2 job with the run as the path of its file in the worker's data dir: "
	       "the analysis of the frames\n",
	       ok ? "PASS" : "FAIL");
	fails += !ok;
	json_decref(got);
	/* refused: a path outside the data dir, a file that is not a frame file,
	 * an extract cut short */
	run.path = "/etc/none.frames";
	send_v2(push, "v2-outside", &run);
	expect_error(pull, "a path outside the worker's data dir", "v2-outside");
	snprintf(bad_path, sizeof bad_path, "%s/garbage.frames", data_dir);
	{
		FILE *g = fopen(bad_path, "w");

		if (g) {
			fputs("not a frame file", g);
			fclose(g);
		}
	}
	if (realpath(bad_path, real))
		run.path = real;
	send_v2(push, "v2-garbage", &run);
	expect_error(pull, "a path to a file that is not a frame file", "v2-garbage");
	unlink(bad_path);
	run.encoding = JOB_ENC_FRAMEFILE;
	run.image_len = len / 2;
	send_v2(push, "v2-short", &run);
	expect_error(pull, "an extract cut short", "v2-short");
	free(img);
	unlink(path);
}

int main(int argc, char **argv)
{
	void *ctx = zmq_ctx_new(), *push, *pull;
	size_t n = 0;
	struct pw_frame *f;
	struct track *t = track_new();
	struct driver *d = driver_new(DRIVER_LAPS, 3, car_default(), t);
	long one = 1, nfr;
	char *h;
	const void *parts[2];
	size_t lens[2];
	struct job_result r;
	json_t *want = NULL;
	int linger = 0;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: job_sender JOBS_EP RESULTS_EP DATA_DIR [RESULTS_FILE]\n");
		return 2;
	}
	if (argc == 5 && !(results = fopen(argv[4], "a"))) {
		perror(argv[4]);
		return 2;
	}
	/* three emulated laps at 60 Hz: a valid general session */
	nfr = 60 * 280;
	f = calloc((size_t)nfr, sizeof *f);
	for (long i = 0; i < nfr; i++, n++) {
		driver_run_to(d, llround((double)i * 1000.0 / 60));
		driver_frame(d, &f[i]);
		f[i].seq = (uint64_t)i;
	}
	push = zmq_socket(ctx, ZMQ_PUSH);
	pull = zmq_socket(ctx, ZMQ_PULL);
	zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
	zmq_bind(push, argv[1]);
	zmq_bind(pull, argv[2]);

	send_parts(push, "{\"v\":1,\"job_id\":\"nojson", NULL, NULL,
		   0); /* no id readable: no answer */
	h = header("bad-frame-size", 100, 1, &one);
	parts[0] = f;
	lens[0] = 100;
	send_parts(push, h, parts, lens, 1);
	free(h);
	expect_error(pull, "frame size other than the worker's", "bad-frame-size");
	h = header("parts-mismatch", (int)sizeof *f, 2, (long[]){ 1, 1 });
	parts[0] = f;
	lens[0] = sizeof *f;
	send_parts(push, h, parts, lens, 1);
	free(h);
	expect_error(pull, "fewer frame parts than runs", "parts-mismatch");
	h = header("short-part", (int)sizeof *f, 1, (long[]){ 10 });
	parts[0] = f;
	lens[0] = 9 * sizeof *f + 17;
	send_parts(push, h, parts, lens, 1);
	free(h);
	expect_error(pull, "a frame part shorter than announced", "short-part");
	h = header("negative", (int)sizeof *f, 1, (long[]){ -5 });
	parts[0] = f;
	lens[0] = 0;
	send_parts(push, h, parts, lens, 1);
	free(h);
	expect_error(pull, "a negative frame count", "negative");
	send_parts(push, "{\"v\":3,\"job_id\":\"wrong-version\",\"runs\":[]}", NULL, NULL, 0);
	expect_error(pull, "an unknown job version", "wrong-version");

	h = header("valid", (int)sizeof *f, 1, &nfr);
	parts[0] = f;
	lens[0] = (size_t)nfr * sizeof *f;
	send_parts(push, h, parts, lens, 1);
	free(h);
	{
		int got = result(pull, 20000, &r) == 0;
		const json_t *laps = got && r.ok ? json_object_get(r.analysis, "laps") : NULL;
		int ok =
			got && r.ok && strcmp(r.job_id, "valid") == 0 && json_array_size(laps) >= 2;
		printf("%s after every broken job the worker still analyses a valid one (%zu laps)\n",
		       ok ? "PASS" : "FAIL", json_array_size(laps));
		fails += !ok;
		want = ok ? json_deep_copy(r.analysis) : NULL;
	}
	job_result_release(&r);
	v2_jobs(push, pull, f, (size_t)nfr, want, argv[3]);
	json_decref(want);
	free(f);
	driver_free(d);
	track_free(t);
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
	if (results)
		fclose(results);
	return fails ? 1 : 0;
}
