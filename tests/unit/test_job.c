/*
 * test_job.c - self-test of the analysis job and result messages
 * (common/job.h): encode -> decode of every job kind and of results, runs as
 * frames, as frame file images and as paths (version 2), sending over a PUSH
 * socket, job_needs, and every malformed case the decoders must refuse.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <zmq.h>

#include "common/framefile.h"
#include "common/job.h"
#include "tests/unit/t.h"
#include "tests/unit/t_frames.h"

#define SID "00000000-0000-4000-8000-000000000001"

static struct pw_frame fa[5], fb[3];
static const struct job_run two_runs[2] = {
	{ .run_id = "run-a", .feed_name = "ksudp", .label = "left", .frames = fa, .nframes = 5 },
	{ .run_id = "run-b", .feed_name = "forza", .label = "right", .frames = fb, .nframes = 3 },
};

static void fill_frames(void)
{
	for (int i = 0; i < 5; i++) {
		frame_init(&fa[i], PW_GAME_AC, PW_FEED_KSUDP);
		fa[i].seq = 100 + (uint64_t)i;
		fa[i].speed_kmh = 10.0f * (float)i;
	}
	for (int i = 0; i < 3; i++) {
		frame_init(&fb[i], PW_GAME_AC, PW_FEED_FORZA);
		fb[i].seq = 7 + (uint64_t)i;
		fb[i].rpm = 1000.0f + (float)i;
	}
}

static struct job valid_job(enum job_kind kind)
{
	return (struct job){ .kind = kind,
			     .job_id = "job-1",
			     .session_id = SID,
			     .use_case = kind == JOB_TRACK_BUILD ? "track_mapping" : "general",
			     .car_name = "Audi R8",
			     .game = "assetto_corsa",
			     .track = "monza",
			     .deadline_ms = 60000,
			     .runs = two_runs,
			     .nruns = 2 };
}

/* The parts of a message: header text plus the runs' frames. */
static void parts_of(const char *hdr, const struct job *j, struct job_part *p, size_t *n)
{
	p[0] = (struct job_part){ hdr, strlen(hdr) };
	for (size_t i = 0; i < j->nruns; i++)
		p[i + 1] = (struct job_part){ j->runs[i].frames,
					      j->runs[i].nframes * sizeof(struct pw_frame) };
	*n = j->nruns + 1;
}

static void test_kind_names(void)
{
	T_CHECK(strcmp(job_kind_name(JOB_ANALYSIS), "analysis") == 0);
	T_CHECK(strcmp(job_kind_name(JOB_TRACK_BUILD), "track_build") == 0);
	T_CHECK(strcmp(job_kind_name(JOB_LAP), "lap") == 0);
	T_CHECK(job_kind_name(JOB_KIND_COUNT) == NULL);
	/* seed 004's recommendation categories and confidences, in its order */
	T_EQ(job_rec_category("tires"), 0);
	T_EQ(job_rec_category("differential"), JOB_REC_CATEGORIES - 1);
	T_EQ(job_rec_category("suspension"), -1);
	T_EQ(job_rec_category(NULL), -1);
	T_EQ(job_rec_confidence("low"), 0);
	T_EQ(job_rec_confidence("high"), JOB_REC_CONFIDENCES - 1);
	T_EQ(job_rec_confidence("High"), -1);
	T_CHECK(job_kind_name((enum job_kind) - 1) == NULL);
}

static void test_roundtrip_analysis(void)
{
	struct job j = valid_job(JOB_ANALYSIS), d;
	json_t *model = json_pack("{s:s, s:[i]}", "track_name", "monza", "corners", 1);
	struct job_part p[3];
	size_t n;
	char err[256] = "", *hdr;

	j.track_model = model;
	hdr = job_encode(&j);
	T_CHECK(hdr != NULL);
	parts_of(hdr, &j, p, &n);
	T_CHECKF(job_decode(&d, p, n, err, sizeof err) == 0, "%s", err);
	T_CHECK(d.kind == JOB_ANALYSIS && strcmp(d.job_id, "job-1") == 0 &&
		strcmp(d.session_id, SID) == 0 && strcmp(d.use_case, "general") == 0 &&
		strcmp(d.car_name, "Audi R8") == 0 && strcmp(d.game, "assetto_corsa") == 0 &&
		strcmp(d.track, "monza") == 0 && d.deadline_ms == 60000);
	T_CHECK(d.track_model && json_equal((json_t *)d.track_model, model));
	T_CHECK(d.nruns == 2);
	for (size_t i = 0; i < 2 && d.nruns == 2; i++) {
		T_CHECK(strcmp(d.runs[i].run_id, two_runs[i].run_id) == 0);
		T_CHECK(strcmp(d.runs[i].feed_name, two_runs[i].feed_name) == 0);
		T_CHECK(strcmp(d.runs[i].label, two_runs[i].label) == 0);
		T_CHECK(d.runs[i].nframes == two_runs[i].nframes);
		T_CHECK(d.runs[i].frames != two_runs[i].frames); /* a copy */
		T_CHECK((uintptr_t)d.runs[i].frames % _Alignof(struct pw_frame) == 0);
		T_CHECK(memcmp(d.runs[i].frames, two_runs[i].frames,
			       two_runs[i].nframes * sizeof(struct pw_frame)) == 0);
	}
	job_release(&d);
	T_CHECK(d.hdr == NULL && d.mem == NULL && d.nruns == 0);
	job_release(&d); /* twice is harmless */
	free(hdr);
	json_decref(model);
}

static void test_roundtrip_track_build(void)
{
	struct job j = valid_job(JOB_TRACK_BUILD), d;
	struct job_part p[3];
	size_t n;
	char err[256] = "", *hdr = job_encode(&j);
	json_t *h;
	json_error_t jerr;

	T_CHECK(hdr != NULL);
	h = json_loads(hdr, 0, &jerr);
	T_CHECK(strcmp(json_string_value(json_object_get(h, "kind")), "track_build") == 0);
	T_CHECK(json_integer_value(json_object_get(h, "frame_size")) ==
		(json_int_t)sizeof(struct pw_frame));
	T_CHECK(json_integer_value(json_object_get(h, "frame_version")) == FRAME_VERSION);
	T_CHECK(json_integer_value(json_object_get(h, "v")) == 1); /* frames alone: version 1 */
	T_CHECK(json_object_get(h, "track_model") == NULL);
	json_decref(h);
	parts_of(hdr, &j, p, &n);
	T_CHECKF(job_decode(&d, p, n, err, sizeof err) == 0, "%s", err);
	T_CHECK(d.kind == JOB_TRACK_BUILD && strcmp(d.use_case, "track_mapping") == 0 &&
		strcmp(d.game, "assetto_corsa") == 0 && strcmp(d.track, "monza") == 0 &&
		d.track_model == NULL && d.nruns == 2);
	job_release(&d);
	free(hdr);
}

/* A per-lap job: its lap number and the categories it must not report. */
static void test_roundtrip_lap(void)
{
	struct job j = valid_job(JOB_LAP), d;
	json_t *sup = json_pack("[s,s]", "brakes", "tires");
	struct job_part p[3];
	size_t n;
	char err[256] = "", *hdr;

	j.lap_number = 7;
	j.suppress = sup;
	hdr = job_encode(&j);
	T_CHECK(hdr && strstr(hdr, "\"kind\":\"lap\"") && strstr(hdr, "\"lap_number\":7"));
	parts_of(hdr, &j, p, &n);
	T_CHECKF(job_decode(&d, p, n, err, sizeof err) == 0, "%s", err);
	T_CHECK(d.kind == JOB_LAP && d.lap_number == 7 && d.suppress &&
		json_equal((json_t *)d.suppress, sup) && d.nruns == 2);
	job_release(&d);
	free(hdr);
	j.lap_number = 0; /* a lap job without its lap is not encoded */
	T_CHECK(job_encode(&j) == NULL);
	j = valid_job(JOB_ANALYSIS);
	j.lap_number = 3; /* other kinds do not carry it */
	hdr = job_encode(&j);
	T_CHECK(hdr && !strstr(hdr, "lap_number"));
	free(hdr);
	json_decref(sup);
}

/* A job of no runs and no optional fields; an empty run. */
static void test_roundtrip_minimal(void)
{
	struct job j = {
		.kind = JOB_ANALYSIS, .job_id = "j", .session_id = "", .use_case = "general"
	};
	struct job_run empty = { .run_id = "r", .feed_name = "f", .label = "" };
	struct job d;
	struct job_part p[2];
	size_t n;
	char err[256] = "", *hdr = job_encode(&j);

	T_CHECK(hdr && strstr(hdr, "\"game\"") == NULL && strstr(hdr, "\"track\"") == NULL);
	parts_of(hdr, &j, p, &n);
	T_CHECKF(job_decode(&d, p, n, err, sizeof err) == 0, "%s", err);
	T_CHECK(d.nruns == 0 && strcmp(d.car_name, "") == 0 && strcmp(d.game, "") == 0 &&
		strcmp(d.track, "") == 0);
	job_release(&d);
	free(hdr);
	j.runs = &empty;
	j.nruns = 1;
	hdr = job_encode(&j);
	parts_of(hdr, &j, p, &n);
	T_CHECKF(job_decode(&d, p, n, err, sizeof err) == 0, "%s", err);
	T_CHECK(d.nruns == 1 && d.runs[0].nframes == 0 && d.runs[0].frames == NULL);
	job_release(&d);
	free(hdr);
}

/* A job of a store from before frame version 2 (header and frames of version
 * 1, junk where version 2 keeps its new fields): the frames arrive upgraded. */
static void test_decode_version1_frames(void)
{
	const char *hdr = "{\"v\":1,\"job_id\":\"x\",\"session_id\":\"s\",\"use_case\":\"general\","
			  "\"frame_size\":384,\"frame_version\":1,\"runs\":[{\"run_id\":\"r\","
			  "\"feed_name\":\"ksudp\",\"label\":\"\",\"frames\":2}]}";
	struct pw_frame v1[2];
	struct job_part p[2];
	struct job d;
	char err[256] = "";

	for (int i = 0; i < 2; i++) {
		frame_init(&v1[i], PW_GAME_AC, PW_FEED_KSUDP);
		v1[i].version = 1;
		v1[i].seq = 10 + (uint64_t)i;
		v1[i].present = FRAME_P_SPEED;
		v1[i].speed_kmh = 50.f;
		memset(&v1[i].yaw_rate_rads, 0xff,
		       sizeof v1[i] - offsetof(struct pw_frame, yaw_rate_rads));
	}
	p[0] = (struct job_part){ hdr, strlen(hdr) };
	p[1] = (struct job_part){ v1, sizeof v1 };
	T_CHECKF(job_decode(&d, p, 2, err, sizeof err) == 0, "%s", err);
	T_CHECK(d.nruns == 1 && d.runs[0].nframes == 2);
	for (size_t k = 0; d.nruns == 1 && k < d.runs[0].nframes; k++) {
		const struct pw_frame *f = &d.runs[0].frames[k];

		T_CHECK(f->version == FRAME_VERSION && f->derived == 0 && f->yaw_rate_rads == 0.f);
		T_CHECK(f->seq == 10 + k && f->present == FRAME_P_SPEED && f->speed_kmh == 50.f);
	}
	job_release(&d);
}

/* A job of a store that knew no kinds: no "kind", no deadline, no car. */
static void test_decode_old_header(void)
{
	const char *hdr = "{\"v\":1,\"job_id\":\"x\",\"session_id\":\"s\",\"use_case\":\"general\","
			  "\"frame_size\":384,\"frame_version\":1,\"runs\":[]}";
	struct job_part p = { hdr, strlen(hdr) };
	struct job d;
	char err[256] = "";

	T_CHECKF(job_decode(&d, &p, 1, err, sizeof err) == 0, "%s", err);
	T_CHECK(d.kind == JOB_ANALYSIS && d.deadline_ms == 0 && strcmp(d.car_name, "") == 0);
	job_release(&d);
}

static void test_encode_refuses(void)
{
	struct job j = valid_job(JOB_ANALYSIS);

	j.job_id = NULL;
	T_CHECK(job_encode(&j) == NULL);
	j.job_id = "";
	T_CHECK(job_encode(&j) == NULL);
	j = valid_job(JOB_ANALYSIS);
	j.session_id = NULL;
	T_CHECK(job_encode(&j) == NULL);
	j = valid_job(JOB_ANALYSIS);
	j.use_case = NULL;
	T_CHECK(job_encode(&j) == NULL);
	j = valid_job(JOB_ANALYSIS);
	j.kind = JOB_KIND_COUNT;
	T_CHECK(job_encode(&j) == NULL);
	j = valid_job(JOB_ANALYSIS);
	j.nruns = JOB_MAX_RUNS + 1;
	T_CHECK(job_encode(&j) == NULL);
	j = valid_job(JOB_ANALYSIS);
	j.runs = NULL;
	T_CHECK(job_encode(&j) == NULL);
	T_CHECK(job_encode(NULL) == NULL);
}

/* Decode the valid job's header changed by set (a JSON object merged in; a
 * null member deletes the key) with the valid parts; expect -EPROTO, an error
 * message containing want, and the job id readable when the header names it. */
static void expect_bad_header(const char *set, const char *want, int named)
{
	struct job j = valid_job(JOB_ANALYSIS), d;
	json_error_t jerr;
	json_t *h, *patch = json_loads(set, 0, &jerr), *v;
	const char *key;
	struct job_part p[3];
	size_t n;
	char err[256] = "", *base = job_encode(&j), *hdr;
	int rc;

	h = json_loads(base, 0, &jerr);
	json_object_foreach(patch, key, v) {
		if (json_is_null(v))
			json_object_del(h, key);
		else
			json_object_set(h, key, v);
	}
	hdr = json_dumps(h, JSON_COMPACT);
	parts_of(hdr, &j, p, &n);
	rc = job_decode(&d, p, n, err, sizeof err);
	T_CHECKF(rc == -EPROTO && strstr(err, want), "%s: rc %d, error \"%s\"", set, rc, err);
	T_CHECKF(named ? d.job_id && strcmp(d.job_id, "job-1") == 0 : d.job_id == NULL,
		 "%s: the job id %s", set, d.job_id ? d.job_id : "(none)");
	job_release(&d);
	T_CHECK(d.hdr == NULL && d.mem == NULL);
	free(hdr);
	free(base);
	json_decref(h);
	json_decref(patch);
}

static void test_decode_bad_header(void)
{
	expect_bad_header("{\"v\":null}", "version 1", 1);
	expect_bad_header("{\"v\":3}", "version 1..2", 1);
	expect_bad_header("{\"v\":0}", "version 1..2", 1);
	expect_bad_header("{\"v\":\"1\"}", "version 1", 1);
	expect_bad_header("{\"job_id\":null}", "job_id", 0);
	expect_bad_header("{\"job_id\":\"\"}", "job_id", 0);
	expect_bad_header("{\"job_id\":7}", "job_id", 0);
	expect_bad_header("{\"session_id\":null}", "session_id", 1);
	expect_bad_header("{\"session_id\":[]}", "session_id", 1);
	expect_bad_header("{\"kind\":\"dance\"}", "kind", 1);
	expect_bad_header("{\"kind\":1}", "kind", 1);
	expect_bad_header("{\"use_case\":null}", "use_case", 1);
	expect_bad_header("{\"use_case\":5}", "use_case", 1);
	expect_bad_header("{\"car_name\":5}", "car_name", 1);
	expect_bad_header("{\"game\":{}}", "game", 1);
	expect_bad_header("{\"track\":true}", "track", 1);
	expect_bad_header("{\"track_model\":[1]}", "track_model", 1);
	expect_bad_header("{\"deadline_ms\":-1}", "deadline_ms", 1);
	expect_bad_header("{\"deadline_ms\":1.5}", "deadline_ms", 1);
	expect_bad_header("{\"kind\":\"track_build\"}", "track_build", 1); /* use_case general */
	expect_bad_header("{\"kind\":\"track_build\",\"use_case\":\"track_mapping\",\"game\":null}",
			  "track_build", 1);
	expect_bad_header(
		"{\"kind\":\"track_build\",\"use_case\":\"track_mapping\",\"track\":\"\"}",
		"track_build", 1);
	expect_bad_header("{\"kind\":\"lap\"}", "lap_number", 1);
	expect_bad_header("{\"kind\":\"lap\",\"lap_number\":0}", "lap_number", 1);
	expect_bad_header("{\"kind\":\"lap\",\"lap_number\":2147483648}", "lap_number", 1);
	expect_bad_header("{\"kind\":\"lap\",\"lap_number\":\"3\"}", "lap_number", 1);
	expect_bad_header("{\"kind\":\"lap\",\"lap_number\":3,\"suppress\":\"tires\"}", "suppress",
			  1);
	expect_bad_header("{\"kind\":\"lap\",\"lap_number\":3,\"suppress\":[1]}", "suppress", 1);
	expect_bad_header(
		"{\"kind\":\"lap\",\"lap_number\":3,\"suppress\":[\"a\",\"b\",\"c\","
		"\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"q\"]}",
		"suppress", 1);
	expect_bad_header("{\"lap_number\":3}", "lap jobs", 1);
	expect_bad_header("{\"frame_size\":100}", "size 100", 1);
	expect_bad_header("{\"frame_size\":null}", "frames of size", 1);
	expect_bad_header("{\"frame_version\":3}", "version 3", 1);
	expect_bad_header("{\"frame_version\":0}", "version 0", 1);
	expect_bad_header("{\"frame_version\":\"1\"}", "frames of size", 1);
	expect_bad_header("{\"runs\":null}", "runs", 1);
	expect_bad_header("{\"runs\":{}}", "runs", 1);
	expect_bad_header(
		"{\"runs\":[{\"run_id\":\"a\",\"feed_name\":\"f\",\"label\":\"\",\"frames\":5}]}",
		"1 runs but 2 frame parts", 1);
	expect_bad_header("{\"runs\":[7,8]}", "run 0", 1);
	expect_bad_header("{\"runs\":[{\"feed_name\":\"f\",\"label\":\"\",\"frames\":5},"
			  "{\"run_id\":\"b\",\"feed_name\":\"f\",\"label\":\"\",\"frames\":3}]}",
			  "run 0", 1);
	expect_bad_header(
		"{\"runs\":[{\"run_id\":\"a\",\"feed_name\":\"f\",\"label\":\"\",\"frames\":5},"
		"{\"run_id\":\"b\",\"feed_name\":\"f\",\"label\":3,\"frames\":3}]}",
		"run 1", 1);
	expect_bad_header(
		"{\"runs\":[{\"run_id\":\"a\",\"feed_name\":\"f\",\"label\":\"\",\"frames\":-5},"
		"{\"run_id\":\"b\",\"feed_name\":\"f\",\"label\":\"\",\"frames\":3}]}",
		"run 0: -5 frames announced", 1);
	expect_bad_header(
		"{\"runs\":[{\"run_id\":\"a\",\"feed_name\":\"f\",\"label\":\"\",\"frames\":\"5\"},"
		"{\"run_id\":\"b\",\"feed_name\":\"f\",\"label\":\"\",\"frames\":3}]}",
		"run 0", 1);
	expect_bad_header(
		"{\"runs\":[{\"run_id\":\"a\",\"feed_name\":\"f\",\"label\":\"\",\"frames\":5},"
		"{\"run_id\":\"b\",\"feed_name\":\"f\",\"label\":\"\",\"frames\":4}]}",
		"run 1: 4 frames announced", 1);
	expect_bad_header(
		"{\"runs\":[{\"run_id\":\"a\",\"feed_name\":\"f\",\"label\":\"\",\"frames\":4},"
		"{\"run_id\":\"b\",\"feed_name\":\"f\",\"label\":\"\",\"frames\":3}]}",
		"run 0: 4 frames announced", 1);
	expect_bad_header("{\"runs\":[{\"run_id\":\"a\",\"feed_name\":\"f\",\"label\":\"\","
			  "\"frames\":999999999999},"
			  "{\"run_id\":\"b\",\"feed_name\":\"f\",\"label\":\"\",\"frames\":3}]}",
			  "run 0", 1);
}

static void expect_bad_parts(const struct job_part *p, size_t n, const char *want, int named)
{
	struct job d;
	char err[256] = "";
	int rc = job_decode(&d, p, n, err, sizeof err);

	T_CHECKF(rc == -EPROTO && strstr(err, want), "want \"%s\": rc %d, error \"%s\"", want, rc,
		 err);
	T_CHECK(named ? d.job_id != NULL : d.job_id == NULL);
	job_release(&d);
}

static void test_decode_bad_parts(void)
{
	struct job j = valid_job(JOB_ANALYSIS);
	char *hdr = job_encode(&j);
	static struct job_part many[JOB_MAX_RUNS + 2];
	struct job_part p[3];
	struct pw_frame bad[3];
	size_t n;

	expect_bad_parts(NULL, 0, "empty", 0);
	p[0] = (struct job_part){ "{\"v\":1,\"job_id\":\"nojson", 23 };
	expect_bad_parts(p, 1, "not a JSON object", 0);
	p[0] = (struct job_part){ "[1,2]", 5 };
	expect_bad_parts(p, 1, "not a JSON object", 0);
	p[0] = (struct job_part){ "{\"v\":1,\"v\":1}", 13 };
	expect_bad_parts(p, 1, "not a JSON object", 0); /* duplicate keys */
	parts_of(hdr, &j, p, &n);
	expect_bad_parts(p, 2, "2 runs but 1 frame parts", 1);
	p[2].len -= 17;
	expect_bad_parts(p, 3, "run 1: 3 frames announced", 1);
	parts_of(hdr, &j, p, &n);
	p[1].len += sizeof(struct pw_frame);
	expect_bad_parts(p, 3, "run 0: 5 frames announced", 1);
	/* a frame of another version inside a part of the right size */
	memcpy(bad, fb, sizeof bad);
	bad[2].version = FRAME_VERSION + 1;
	parts_of(hdr, &j, p, &n);
	p[2].data = bad;
	expect_bad_parts(p, 3, "run 1 frame 2", 1);
	/* more parts than any job has: refused before any but the first is read */
	many[0] = (struct job_part){ hdr, strlen(hdr) };
	expect_bad_parts(many, JOB_MAX_RUNS + 2, "more than", 1);
	free(hdr);
}

/* --- version 2: runs as frame file images and as paths --- */

static char tmpdir[64];

/* n simulated frames written to a frame file; the extract of the general
 * analysis's columns into *img. 0 or -1. */
static int image_of(const struct pw_frame *f, size_t n, void **img, size_t *len)
{
	char path[128];
	struct framefile_hdr h = { 0 };
	struct framefile_writer *w = NULL;
	struct framefile_info info;
	uint64_t ch;
	unsigned parts;
	int rc;

	snprintf(path, sizeof path, "%s/run.frames", tmpdir);
	snprintf(h.feed, sizeof h.feed, "ksudp");
	snprintf(h.run_id, sizeof h.run_id, "run-a");
	unlink(path);
	if (job_needs("general", &ch, &parts) < 0 || framefile_create(&w, path, &h) < 0 ||
	    framefile_append(w, f, n) < 0 || framefile_close(w) < 0)
		return -1;
	rc = framefile_extract(path, ch, parts, img, len, &info);
	unlink(path);
	return rc == 0 && info.frames == n ? 0 : -1;
}

static void test_needs(void)
{
	uint64_t ch = 1;
	unsigned parts = 1;
	static const char *const cases[] = { "shift_points", "car_grip", "track_mapping",
					     "general" };

	for (size_t i = 0; i < 4; i++) {
		T_CHECK(job_needs(cases[i], &ch, &parts) == 0);
		T_CHECK(ch && !(ch & ~FRAME_P_ALL) && (parts & FRAMECOLS_SEQ) &&
			(parts & FRAMECOLS_IDS));
	}
	T_CHECK(job_needs("general", &ch, &parts) == 0 && (ch & FRAME_P_LAP) &&
		(ch & FRAME_P_THROTTLE));
	ch = 5;
	T_CHECK(job_needs("drifting", &ch, &parts) == -EINVAL && ch == 5);
	T_CHECK(job_needs(NULL, &ch, &parts) == -EINVAL);
}

static void test_roundtrip_framefile_and_path(void)
{
	size_t n = 2000, len = 0;
	struct pw_frame *f = t_sim_frames(n, 3, 500);
	void *img = NULL;
	struct job_run runs[2];
	struct job j = valid_job(JOB_ANALYSIS), d;
	struct job_part p[3];
	char err[256] = "", *hdr;
	json_t *h;
	json_error_t jerr;
	uint64_t ch;
	unsigned parts;

	T_CHECK(f && image_of(f, n, &img, &len) == 0);
	if (!f || !img)
		goto out;
	job_needs("general", &ch, &parts);
	runs[0] = (struct job_run){ .run_id = "run-a",
				    .feed_name = "ksudp",
				    .label = "",
				    .nframes = n,
				    .encoding = JOB_ENC_FRAMEFILE,
				    .channels = ch,
				    .parts = parts,
				    .image = img,
				    .image_len = len };
	runs[1] = (struct job_run){ .run_id = "run-b",
				    .feed_name = "ksudp",
				    .label = "",
				    .nframes = 77,
				    .encoding = JOB_ENC_PATH,
				    .channels = ch,
				    .parts = parts,
				    .path = "/data/sessions/s/run-b.frames" };
	j.runs = runs;
	hdr = job_encode(&j);
	T_CHECK(hdr != NULL);
	if (!hdr)
		goto out;
	h = json_loads(hdr, 0, &jerr);
	T_CHECK(json_integer_value(json_object_get(h, "v")) == 2);
	T_CHECK(strcmp(json_string_value(json_object_get(
			       json_array_get(json_object_get(h, "runs"), 0), "encoding")),
		       "framefile") == 0);
	json_decref(h);
	p[0] = (struct job_part){ hdr, strlen(hdr) };
	p[1] = (struct job_part){ img, len };
	p[2] = (struct job_part){ NULL, 0 };
	T_CHECKF(job_decode(&d, p, 3, err, sizeof err) == 0, "%s", err);
	if (d.nruns == 2) {
		const struct framecols *c = &d.runs[0].cols;
		int ok = c->n == n && d.runs[0].encoding == JOB_ENC_FRAMEFILE && !d.runs[0].frames;

		for (size_t i = 0; ok && i < n; i++)
			ok = c->seq[i] == f[i].seq && c->t_ns[i] == f[i].t_ns &&
			     *(const float *)framecols_at(c, FRAME_CH_SPEED, i) == f[i].speed_kmh &&
			     memcmp(framecols_at(c, FRAME_CH_TYRE_TEMP, i), f[i].tyre_temp_c, 16) ==
				     0;
		T_CHECK(ok && c->ch[FRAME_CH_FUEL_L] == NULL); /* not a general channel */
		T_CHECK(d.runs[1].encoding == JOB_ENC_PATH && d.runs[1].nframes == 77 &&
			strcmp(d.runs[1].path, "/data/sessions/s/run-b.frames") == 0 &&
			d.runs[1].channels == ch && d.runs[1].parts == parts && !d.runs[1].frames);
	}
	job_release(&d);
	T_CHECK(d.mem == NULL && d.nruns == 0);
	/* split: the lap table's columns loaded, the engineer's left in the image (in p[1]),
	 * loaded from it for some frames */
	T_CHECKF(job_decode_split(&d, p, 3, err, sizeof err) == 0, "%s", err);
	if (d.nruns == 2) {
		struct framecols *c = (struct framecols *)&d.runs[0].cols;
		uint64_t first, per_lap;
		unsigned pp;
		int ok = job_needs_split("general", &first, &pp, &per_lap) == 0 && c->n == n;

		T_CHECK(ok && d.runs[0].per_lap == per_lap && c->channels == first &&
			!c->ch[FRAME_CH_TYRE_TEMP] && c->ch[FRAME_CH_SPEED] &&
			d.runs[0].image == p[1].data && d.runs[0].image_len == len &&
			d.runs[1].per_lap == 0);
		T_CHECK(framefile_load_cols_range_buf(d.runs[0].image, d.runs[0].image_len,
						      d.runs[0].per_lap, 0, n, c) == 0);
		for (size_t i = 0; ok && i < n; i++)
			ok = memcmp(framecols_at(c, FRAME_CH_TYRE_TEMP, i), f[i].tyre_temp_c, 16) ==
			     0;
		T_CHECK(ok);
	}
	job_release(&d);

	/* refused: the image one frame short, damaged, or cut; bytes with a path run */
	{
		char *bad_hdr;

		runs[0].nframes = n - 1;
		bad_hdr = job_encode(&j);
		p[0] = (struct job_part){ bad_hdr, strlen(bad_hdr) };
		T_CHECK(job_decode(&d, p, 3, err, sizeof err) == -EPROTO &&
			strstr(err, "the image holds"));
		job_release(&d);
		free(bad_hdr);
		runs[0].nframes = n;
		p[0] = (struct job_part){ hdr, strlen(hdr) };
		((uint8_t *)img)[len - 10] ^= 0x55;
		T_CHECK(job_decode(&d, p, 3, err, sizeof err) == -EPROTO && strstr(err, "run 0"));
		job_release(&d);
		((uint8_t *)img)[len - 10] ^= 0x55;
		p[1].len = 100;
		T_CHECK(job_decode(&d, p, 3, err, sizeof err) == -EPROTO && strstr(err, "run 0"));
		job_release(&d);
		p[1].len = len;
		p[2] = (struct job_part){ "x", 1 };
		T_CHECK(job_decode(&d, p, 3, err, sizeof err) == -EPROTO && strstr(err, "run 1"));
		job_release(&d);
	}
	/* refused in the header: encodings in a version 1 job, unknown ones, masks and paths */
	{
		static const char *const bad_runs[][2] = {
			{ "{\"encoding\":\"zip\"}", "\"encoding\" must be" },
			{ "{\"encoding\":7}", "\"encoding\" must be" },
			{ "{\"channels\":-1}", "\"channels\"" },
			{ "{\"channels\":9007199254740991}", "\"channels\"" },
			{ "{\"parts\":255}", "\"parts\"" },
			{ "{\"channels\":null}", "\"channels\"" },
			{ "{\"path\":\"relative/run.frames\"}", "\"path\"" },
			{ "{\"path\":\"/etc/passwd\"}", "\"path\"" },
			{ "{\"path\":\"/data/../etc/x.frames\"}", "\"path\"" },
			{ "{\"path\":7}", "\"path\"" },
		};

		for (size_t k = 0; k < sizeof bad_runs / sizeof *bad_runs; k++) {
			json_t *hh = json_loads(hdr, 0, &jerr),
			       *patch = json_loads(bad_runs[k][0], 0, &jerr);
			json_t *r1 = json_array_get(json_object_get(hh, "runs"), 1), *v;
			const char *key;
			char *t;

			json_object_foreach(patch, key, v)
				json_object_set(r1, key, v);
			t = json_dumps(hh, JSON_COMPACT);
			p[0] = (struct job_part){ t, strlen(t) };
			p[2] = (struct job_part){ NULL, 0 };
			T_CHECKF(job_decode(&d, p, 3, err, sizeof err) == -EPROTO &&
					 strstr(err, bad_runs[k][1]),
				 "%s: %s", bad_runs[k][0], err);
			job_release(&d);
			free(t);
			json_decref(patch);
			json_decref(hh);
		}
		h = json_loads(hdr, 0, &jerr);
		json_object_set_new(h, "v", json_integer(1));
		free(hdr);
		hdr = json_dumps(h, JSON_COMPACT);
		json_decref(h);
		p[0] = (struct job_part){ hdr, strlen(hdr) };
		T_CHECK(job_decode(&d, p, 3, err, sizeof err) == -EPROTO &&
			strstr(err, "needs a version 2"));
		job_release(&d);
	}
	/* the encoder refuses a path run without a path */
	runs[1].path = NULL;
	T_CHECK(job_encode(&j) == NULL);
	free(hdr);
out:
	free(img);
	free(f);
}

static void test_send_and_receive(void)
{
	void *ctx = zmq_ctx_new(), *push = zmq_socket(ctx, ZMQ_PUSH),
	     *pull = zmq_socket(ctx, ZMQ_PULL);
	struct job j = valid_job(JOB_TRACK_BUILD), d;
	zmq_msg_t m[3];
	struct job_part p[3];
	size_t n = 0;
	int linger = 0, more = 1;
	char err[256] = "";
	zmq_pollitem_t out = { .socket = push, .events = ZMQ_POLLOUT };
	zmq_pollitem_t in = { .socket = pull, .events = ZMQ_POLLIN };

	zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
	T_CHECK(zmq_bind(push, "inproc://test-job") == 0);
	T_CHECK(job_send(push, &j) == 0); /* nobody connected: try later */
	T_CHECK(zmq_connect(pull, "inproc://test-job") == 0);
	T_CHECK(zmq_poll(&out, 1, 5000) == 1); /* the PUSH socket has seen its peer */
	T_CHECK(job_send(push, &j) == 1);
	T_CHECK(zmq_poll(&in, 1, 5000) == 1);
	while (more && n < 3) {
		zmq_msg_init(&m[n]);
		if (zmq_msg_recv(&m[n], pull, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m[n]);
			break;
		}
		more = zmq_msg_more(&m[n]);
		p[n] = (struct job_part){ zmq_msg_data(&m[n]), zmq_msg_size(&m[n]) };
		n++;
	}
	T_CHECK(n == 3 && !more);
	T_CHECKF(job_decode(&d, p, n, err, sizeof err) == 0, "%s", err);
	T_CHECK(d.kind == JOB_TRACK_BUILD && d.nruns == 2 && d.runs[1].nframes == 3 &&
		memcmp(d.runs[1].frames, fb, sizeof fb) == 0);
	job_release(&d);
	for (size_t i = 0; i < n; i++)
		zmq_msg_close(&m[i]);
	j.job_id = NULL;
	T_CHECK(job_send(push, &j) == -EINVAL);
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
}

/* An extract given to ZeroMQ: received whole, the sender's pointer taken
 * (valgrind and ASan see it freed once). */
static void test_send_giving(void)
{
	void *ctx = zmq_ctx_new(), *push = zmq_socket(ctx, ZMQ_PUSH),
	     *pull = zmq_socket(ctx, ZMQ_PULL);
	size_t n = 700, len = 0;
	struct pw_frame *f = t_sim_frames(n, 3, 1);
	struct job_run run = { .run_id = "run-a",
			       .feed_name = "ksudp",
			       .label = "",
			       .nframes = n,
			       .encoding = JOB_ENC_FRAMEFILE };
	struct job j = { .kind = JOB_ANALYSIS,
			 .job_id = "g",
			 .session_id = "s",
			 .use_case = "general",
			 .runs = &run,
			 .nruns = 1 };
	struct job_inbox *ib = NULL;
	const struct job_part *parts;
	struct job d;
	void *img = NULL, *imgs[1], *copy = NULL;
	size_t np = 0;
	int linger = 0;
	char err[256] = "";
	zmq_pollitem_t out = { .socket = push, .events = ZMQ_POLLOUT };
	zmq_pollitem_t in = { .socket = pull, .events = ZMQ_POLLIN };

	T_CHECK(f && image_of(f, n, &img, &len) == 0 && (copy = malloc(len)));
	if (!img || !copy)
		goto out;
	memcpy(copy, img, len);
	job_needs("general", &run.channels, &run.parts);
	run.image = img;
	run.image_len = len;
	imgs[0] = img;
	zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
	T_CHECK(zmq_bind(push, "inproc://test-job-giving") == 0);
	T_CHECK(job_send_giving(push, &j, imgs) == 0 && imgs[0] == img); /* nobody: kept */
	T_CHECK(zmq_connect(pull, "inproc://test-job-giving") == 0);
	T_CHECK(zmq_poll(&out, 1, 5000) == 1);
	T_CHECK(job_send_giving(push, &j, imgs) == 1 && imgs[0] == NULL);
	T_CHECK(zmq_poll(&in, 1, 5000) == 1 && job_recv(pull, ZMQ_DONTWAIT, &ib) == 0 && ib);
	parts = ib ? job_inbox_parts(ib, &np) : NULL;
	T_CHECK(np == 2 && parts[1].len == len && memcmp(parts[1].data, copy, len) == 0);
	T_CHECKF(np == 2 && job_decode(&d, parts, np, err, sizeof err) == 0, "%s", err);
	T_CHECK(d.nruns == 1 && d.runs[0].cols.n == n);
	job_release(&d);
	job_inbox_free(ib);
	img = imgs[0];
out:
	free(img);
	free(copy);
	free(f);
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
}

/* A per-lap job's frames given to ZeroMQ: they lie in a malloc'd block from
 * its 100th frame on (the lap buffer), go out as they are, and the block is
 * freed once sent (valgrind and ASan see it freed once, and not before). */
static void test_send_giving_frames(void)
{
	void *ctx = zmq_ctx_new(), *push = zmq_socket(ctx, ZMQ_PUSH),
	     *pull = zmq_socket(ctx, ZMQ_PULL);
	size_t n = 600, skip = 100;
	struct pw_frame *block = t_sim_frames(n + skip, 3, 1), *copy = malloc(n * sizeof *copy);
	struct job_run run = { .run_id = "run-a", .feed_name = "ksudp", .label = "" };
	struct job j = { .kind = JOB_LAP,
			 .job_id = "l",
			 .session_id = "s",
			 .use_case = "general",
			 .lap_number = 2,
			 .runs = &run,
			 .nruns = 1 };
	struct job_inbox *ib = NULL;
	const struct job_part *parts;
	struct job d;
	void *imgs[1] = { block };
	size_t np = 0;
	int linger = 0;
	char err[256] = "";
	zmq_pollitem_t in = { .socket = pull, .events = ZMQ_POLLIN };

	T_CHECK(block && copy);
	if (!block || !copy)
		goto out;
	memcpy(copy, block + skip, n * sizeof *copy);
	run.frames = block + skip;
	run.nframes = n;
	zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
	T_CHECK(zmq_bind(push, "inproc://test-job-giving-frames") == 0);
	T_CHECK(zmq_connect(pull, "inproc://test-job-giving-frames") == 0);
	T_CHECK(job_send_giving(push, &j, imgs) == 1 && imgs[0] == NULL);
	block = imgs[0];
	T_CHECK(zmq_poll(&in, 1, 5000) == 1 && job_recv(pull, ZMQ_DONTWAIT, &ib) == 0 && ib);
	parts = ib ? job_inbox_parts(ib, &np) : NULL;
	T_CHECK(np == 2 && parts[1].len == n * sizeof *copy &&
		memcmp(parts[1].data, copy, n * sizeof *copy) == 0);
	T_CHECKF(np == 2 && job_decode(&d, parts, np, err, sizeof err) == 0, "%s", err);
	T_CHECK(d.kind == JOB_LAP && d.nruns == 1 && d.runs[0].nframes == n &&
		d.runs[0].frames[0].seq == copy[0].seq);
	job_release(&d);
	job_inbox_free(ib);
out:
	free(block);
	free(copy);
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
}

static void test_result_roundtrip(void)
{
	json_t *an = json_pack("{s:f, s:[i, i]}", "x", 1.0 / 3.0, "laps", 1, 2);
	struct job_result r;
	char err[256] = "", *text;

	text = job_result_encode(JOB_ANALYSIS, "job-1", SID, an, NULL, NULL);
	T_CHECKF(job_result_decode(&r, text, strlen(text), err, sizeof err) == 0, "%s", err);
	T_CHECK(r.ok && strcmp(r.job_id, "job-1") == 0 && strcmp(r.session_id, SID) == 0);
	T_CHECK(json_is_object(r.analysis) &&
		json_array_size(json_object_get(r.analysis, "laps")) == 2);
	/* a session analysis keeps 10 significant digits */
	T_NEAR(json_real_value(json_object_get(r.analysis, "x")), 0.3333333333, 1e-12);
	T_CHECK(json_real_value(json_object_get(r.analysis, "x")) != 1.0 / 3.0);
	job_result_release(&r);
	T_CHECK(r.root == NULL);
	free(text);
	/* a track model travels in full */
	text = job_result_encode(JOB_TRACK_BUILD, "job-2", SID, an, NULL, NULL);
	T_CHECKF(job_result_decode(&r, text, strlen(text), err, sizeof err) == 0, "%s", err);
	T_CHECK(json_real_value(json_object_get(r.analysis, "x")) == 1.0 / 3.0);
	job_result_release(&r);
	free(text);
	text = job_result_encode(JOB_ANALYSIS, "job-3", "", NULL, JOB_E_NOT_QUALIFIED,
				 "no left run");
	T_CHECKF(job_result_decode(&r, text, strlen(text), err, sizeof err) == 0, "%s", err);
	T_CHECK(!r.ok && r.analysis == NULL && strcmp(r.code, "not_qualified") == 0 &&
		strcmp(r.message, "no left run") == 0 && strcmp(r.session_id, "") == 0);
	job_result_release(&r);
	free(text);
	text = job_result_encode(JOB_ANALYSIS, "job-4", NULL, NULL, NULL, NULL);
	T_CHECKF(job_result_decode(&r, text, strlen(text), err, sizeof err) == 0, "%s", err);
	T_CHECK(!r.ok && strcmp(r.code, JOB_E_BAD_INPUT) == 0 && strcmp(r.message, "") == 0);
	job_result_release(&r);
	free(text);
	T_CHECK(job_result_encode(JOB_ANALYSIS, NULL, SID, an, NULL, NULL) == NULL);
	json_decref(an);
}

static void expect_bad_result(const char *text, const char *want, int named)
{
	struct job_result r;
	char err[256] = "";
	int rc = job_result_decode(&r, text, strlen(text), err, sizeof err);

	T_CHECKF(rc == -EPROTO && strstr(err, want), "%s: rc %d, error \"%s\"", text, rc, err);
	T_CHECKF(named ? r.job_id && strcmp(r.job_id, "j") == 0 : r.job_id == NULL, "%s", text);
	job_result_release(&r);
}

static void test_result_malformed(void)
{
	static const struct {
		const char *text, *want;
		int named;
	} bad[] = {
		{ "\x01\x02not json", "not a JSON object", 0 },
		{ "[]", "not a JSON object", 0 },
		{ "{\"v\":1,\"v\":1}", "not a JSON object", 0 },
		{ "{\"job_id\":\"j\",\"session_id\":\"s\",\"ok\":true,\"analysis\":{}}", "version",
		  1 },
		{ "{\"v\":2,\"job_id\":\"j\",\"session_id\":\"s\",\"ok\":true,\"analysis\":{}}",
		  "version", 1 },
		{ "{\"v\":1,\"session_id\":\"s\",\"ok\":true,\"analysis\":{}}", "job_id", 0 },
		{ "{\"v\":1,\"job_id\":\"\",\"session_id\":\"s\",\"ok\":true,\"analysis\":{}}",
		  "job_id", 0 },
		{ "{\"v\":1,\"job_id\":\"j\",\"ok\":true,\"analysis\":{}}", "session_id", 1 },
		{ "{\"v\":1,\"job_id\":\"j\",\"session_id\":\"s\",\"analysis\":{}}", "\"ok\"", 1 },
		{ "{\"v\":1,\"job_id\":\"j\",\"session_id\":\"s\",\"ok\":1,\"analysis\":{}}",
		  "\"ok\"", 1 },
		{ "{\"v\":1,\"job_id\":\"j\",\"session_id\":\"s\",\"ok\":true}", "analysis", 1 },
		{ "{\"v\":1,\"job_id\":\"j\",\"session_id\":\"s\",\"ok\":true,\"analysis\":[]}",
		  "analysis", 1 },
		{ "{\"v\":1,\"job_id\":\"j\",\"session_id\":\"s\",\"ok\":false}", "error", 1 },
		{ "{\"v\":1,\"job_id\":\"j\",\"session_id\":\"s\",\"ok\":false,\"error\":{\"message\":\"m\"}}",
		  "error", 1 },
		{ "{\"v\":1,\"job_id\":\"j\",\"session_id\":\"s\",\"ok\":false,\"error\":{\"code\":\"\",\"message\":\"m\"}}",
		  "error", 1 },
		{ "{\"v\":1,\"job_id\":\"j\",\"session_id\":\"s\",\"ok\":false,\"error\":{\"code\":\"no_data\"}}",
		  "error", 1 },
		{ "{\"v\":1,\"job_id\":\"j\",\"session_id\":\"s\",\"ok\":false,\"error\":\"no_data\"}",
		  "error", 1 },
	};
	struct job_result r;
	char err[256] = "";

	T_CHECK(job_result_decode(&r, "{}", (size_t)JOB_RESULT_MAX_BYTES + 1, err, sizeof err) ==
		-E2BIG);
	T_CHECK(strstr(err, "bytes") != NULL);
	job_result_release(&r);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		expect_bad_result(bad[i].text, bad[i].want, bad[i].named);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/pw-test-job-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	fill_frames();
	T_RUN(test_kind_names);
	T_RUN(test_roundtrip_analysis);
	T_RUN(test_roundtrip_track_build);
	T_RUN(test_roundtrip_lap);
	T_RUN(test_roundtrip_minimal);
	T_RUN(test_decode_old_header);
	T_RUN(test_decode_version1_frames);
	T_RUN(test_encode_refuses);
	T_RUN(test_decode_bad_header);
	T_RUN(test_decode_bad_parts);
	T_RUN(test_send_and_receive);
	T_RUN(test_send_giving);
	T_RUN(test_send_giving_frames);
	T_RUN(test_result_roundtrip);
	T_RUN(test_result_malformed);
	T_RUN(test_needs);
	T_RUN(test_roundtrip_framefile_and_path);
	rmdir(tmpdir);
	return T_DONE();
}
