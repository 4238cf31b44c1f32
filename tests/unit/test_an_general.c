/*
 * test_an_general.c - the general analysis (analyze/general.c): laps table,
 * best / average / consistency, per-corner figures against a track model.
 *
 * Ground truth: pw-sim's laps mode (libpwsim, no sockets) at 60 Hz and
 * 333 Hz with its sensor noise. Every lap must take exactly the emulator's
 * own lap time (last_lap_ms), every flying lap the driver's reference lap
 * time to the 1 ms physics step (89209 / 89208 ms: a lap ends on the step
 * where the distance wraps); the per-corner entry / minimum / exit speeds
 * and corner times must match what the frames themselves show at the
 * corner's boundaries (found with the frames' exact lap_dist_m, not with
 * positions); the best lap loses 0 ms everywhere. The track model is built
 * here from the emulator's true track (capture/sim/track.h), so the test does
 * not depend on the track-build analysis.
 *
 * Real data: the Assetto Corsa Monza capture (tests/data/ac_remote, 8641
 * RTCarInfo, decoded by dec_ksudp). The car leaves the pit box and crosses
 * the line once: one out lap of 344684 ms (the game's lastLap), invalid
 * (out_lap), so there is no best lap, no average and no consistency. Its
 * min speed 0 km/h (standing in the box) and max 252.17 km/h (the main
 * straight; the README says 252.2 max) are the tracker's.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/analysis.h"
#include "capture/decoder.h"
#include "capture/sim/car.h"
#include "capture/sim/driver.h"
#include "capture/sim/track.h"
#include "common/pcap.h"
#include "tests/unit/t.h"

#define AC_RAW "ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.raw"
#define AC_PCAP "ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap"
#define AC_NPKT 8641
#define AC_PKT 328
#define AC_LAP_MS 344684
#define T0_NS 1700000000000000000ll

/* ---- emulator frames ---- */

struct sim_run {
	struct pw_frame *f;
	size_t n;
	int32_t ref_ms; /* the driver's flying-lap time */
	int laps;       /* laps completed in the frames */
	double rate_hz;
};

static struct track *g_track;

static int64_t tick_step(size_t k, double rate)
{
	return (int64_t)llround((double)k * 1000.0 / rate);
}

/* A driving mode at rate until `laps` laps are done, then 2 s more. */
static int sim_mode(struct sim_run *r, enum driver_mode mode, double rate, int laps, uint64_t seed)
{
	struct driver *d = driver_new(mode, seed, car_default(), g_track);
	size_t cap = 0;
	int64_t end_step = -1;

	memset(r, 0, sizeof *r);
	if (!d)
		return -1;
	r->ref_ms = driver_reference_lap_ms(d);
	r->rate_hz = rate;
	for (size_t k = 0;; k++) {
		if (r->n == cap) {
			struct pw_frame *p;

			cap = cap ? 2 * cap : 65536;
			p = realloc(r->f, cap * sizeof *p);
			if (!p) {
				driver_free(d);
				return -1;
			}
			r->f = p;
		}
		driver_run_to(d, tick_step(k, rate));
		if (end_step < 0 && driver_laps(d) >= laps)
			end_step = driver_step(d) + 2000;
		if (end_step >= 0 && driver_step(d) > end_step)
			break;
		driver_frame(d, &r->f[r->n]);
		r->f[r->n].game = PW_GAME_AC;
		r->f[r->n].feed = PW_FEED_KSUDP;
		r->f[r->n].seq = 1000 + k;
		r->f[r->n].t_ns = T0_NS + driver_step(d) * 1000000ll;
		r->n++;
	}
	r->laps = driver_laps(d);
	driver_free(d);
	return 0;
}

static int sim_laps(struct sim_run *r, double rate, int laps, uint64_t seed)
{
	return sim_mode(r, DRIVER_LAPS, rate, laps, seed);
}

static void sim_free(struct sim_run *r)
{
	free(r->f);
	memset(r, 0, sizeof *r);
}

/* The emulator's track as the TrackModel of analysis.h. */
static json_t *model_of(const struct track *t, double spacing)
{
	json_t *m = json_object(), *line = json_array(), *cs = json_array();
	double len = track_length_m(t);

	for (int i = 0; i * spacing < len; i++) {
		struct track_point p;

		track_sample(t, i * spacing, &p);
		json_array_append_new(line, json_pack("[f,f]", p.x_m, p.z_m));
	}
	for (int i = 0; i < track_corner_count(t); i++) {
		const struct track_corner *c = track_corner(t, i);

		json_array_append_new(cs,
				      json_pack("{s:i,s:s,s:f,s:f,s:f,s:f,s:f}", "index", c->index,
						"direction", c->direction > 0 ? "right" : "left",
						"entry_dist_m", c->start_m, "apex_dist_m",
						c->apex_m, "exit_dist_m", c->end_m, "angle_deg",
						c->angle_deg, "min_radius_m", c->min_radius_m));
	}
	json_object_set_new(m, "game", json_string("assetto_corsa"));
	json_object_set_new(m, "track_name", json_string(track_name(t)));
	json_object_set_new(m, "length_m", json_real(len));
	json_object_set_new(m, "sample_spacing_m", json_real(spacing));
	json_object_set_new(m, "center_line", line);
	json_object_set_new(m, "corners", cs);
	return m;
}

/* ---- running the analysis ---- */

static json_t *run_general(const struct an_run *runs, size_t nruns, const json_t *model,
			   struct an_err *err)
{
	struct an_input in = { .session_id = "s1",
			       .use_case = "general",
			       .car_name = "",
			       .game = "assetto_corsa",
			       .track = "",
			       .runs = runs,
			       .nruns = nruns,
			       .track_model = model };

	memset(err, 0, sizeof *err);
	return an_general(&in, err);
}

static json_t *run_one(const struct pw_frame *f, size_t n, const json_t *model, struct an_err *err)
{
	struct an_run r = { .run_id = "run-a", .feed = "ksudp", .label = "", .frames = f, .n = n };

	return run_general(&r, 1, model, err);
}

static double jnum(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static json_int_t jint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : -999999;
}

static int jnull(const json_t *o, const char *key)
{
	return json_is_null(json_object_get(o, key));
}

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

static double elapsed_ms(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1e3 + (b.tv_nsec - a->tv_nsec) / 1e6;
}

/* ---- what the frames say, without the analysis ---- */

struct truth_lap {
	int32_t time_ms;
	float min_kmh, max_kmh;
	int32_t sector_ms[2];
};

/* Lap k (1-based) spans the frames with lap counter k - 1. */
static void frames_lap(const struct sim_run *r, int k, struct truth_lap *t)
{
	memset(t, 0, sizeof *t);
	t->min_kmh = INFINITY;
	t->max_kmh = -INFINITY;
	for (size_t i = 0; i < r->n; i++) {
		const struct pw_frame *f = &r->f[i];

		if (f->lap == k - 1) {
			t->min_kmh = fminf(t->min_kmh, f->speed_kmh);
			t->max_kmh = fmaxf(t->max_kmh, f->speed_kmh);
			t->sector_ms[0] = f->sector_ms[0];
			t->sector_ms[1] = f->sector_ms[1];
		} else if (f->lap == k) {
			t->time_ms = f->last_lap_ms;
			break;
		}
	}
}

struct truth_corner {
	int found;
	double t_in, t_out;
	double v_in, v_out, v_min;
};

/* Corner passage of lap k found with the frames' exact lap_dist_m. */
static void frames_corner(const struct sim_run *r, int k, const struct track_corner *c,
			  struct truth_corner *t)
{
	int stage = 0;

	memset(t, 0, sizeof *t);
	t->v_min = INFINITY;
	for (size_t i = 1; i < r->n && stage < 2; i++) {
		const struct pw_frame *p = &r->f[i - 1], *f = &r->f[i];
		double b = stage == 0 ? c->start_m : c->end_m, w;

		if (f->lap != k - 1 || p->lap != k - 1)
			continue;
		if (stage == 1 && f->lap_dist_m < b)
			t->v_min = fmin(t->v_min, f->speed_kmh);
		if (!(p->lap_dist_m < b && f->lap_dist_m >= b))
			continue;
		w = (b - p->lap_dist_m) / (f->lap_dist_m - p->lap_dist_m);
		if (stage == 0) {
			t->t_in = p->game_time_s + w * (f->game_time_s - p->game_time_s);
			t->v_in = p->speed_kmh + w * (f->speed_kmh - p->speed_kmh);
			t->v_min = fmin(t->v_min, t->v_in);
			if (f->lap_dist_m < c->end_m)
				t->v_min = fmin(t->v_min, f->speed_kmh);
		} else {
			t->t_out = p->game_time_s + w * (f->game_time_s - p->game_time_s);
			t->v_out = p->speed_kmh + w * (f->speed_kmh - p->speed_kmh);
			t->v_min = fmin(t->v_min, t->v_out);
		}
		stage++;
	}
	t->found = stage == 2;
}

static const json_t *corner_lap(const json_t *corner, const char *run_id, int number)
{
	const json_t *laps = json_object_get(corner, "laps"), *l;
	size_t i;

	json_array_foreach(laps, i, l)
		if (jint(l, "number") == number && strcmp(jstr(l, "run_id"), run_id) == 0)
			return l;
	return NULL;
}

/* ---- emulator: laps, best, average, consistency ---- */

static void check_laps_table(const struct sim_run *r, const json_t *res)
{
	const json_t *laps = json_object_get(res, "laps"), *best = json_object_get(res, "best_lap");
	const json_t *cons = json_object_get(res, "consistency");
	double sum = 0.0, sq = 0.0, lo = INFINITY, hi = -INFINITY, mean, sd;
	int n = (int)json_array_size(laps), best_k = 0;
	double fly_hi = 0.0;

	T_CHECKF(n == r->laps, "%d laps in the table, the driver completed %d", n, r->laps);
	for (int k = 1; k <= n; k++) {
		const json_t *l = json_array_get(laps, (size_t)k - 1);
		const json_t *s = json_object_get(l, "sector_ms");
		struct truth_lap t;

		frames_lap(r, k, &t);
		T_CHECK(jint(l, "number") == k);
		T_CHECK(strcmp(jstr(l, "run_id"), "run-a") == 0);
		T_CHECKF(jint(l, "time_ms") == t.time_ms, "lap %d: %lld vs %d", k,
			 (long long)jint(l, "time_ms"), (int)t.time_ms);
		if (k > 1) /* flying laps: the reference, to the 1 ms physics step */
			T_CHECKF(llabs(jint(l, "time_ms") - r->ref_ms) <= 1,
				 "lap %d: %lld vs reference %d", k, (long long)jint(l, "time_ms"),
				 (int)r->ref_ms);
		else /* from 60 km/h on the line: slower than a flying lap */
			T_CHECK(jint(l, "time_ms") > r->ref_ms + 1000);
		T_CHECK(json_is_true(json_object_get(l, "valid")));
		T_CHECK(strcmp(jstr(l, "invalid_reason"), "none") == 0);
		T_NEAR(jnum(l, "min_speed_kmh"), t.min_kmh, 0.006);
		T_NEAR(jnum(l, "max_speed_kmh"), t.max_kmh, 0.006);
		T_CHECK(json_integer_value(json_array_get(s, 0)) == t.sector_ms[0]);
		T_CHECK(json_integer_value(json_array_get(s, 1)) == t.sector_ms[1]);
		T_CHECK(json_integer_value(json_array_get(s, 0)) +
				json_integer_value(json_array_get(s, 1)) +
				json_integer_value(json_array_get(s, 2)) ==
			t.time_ms);
		T_CHECK(jint(l, "start_seq") >= 1000 && jint(l, "end_seq") > jint(l, "start_seq"));
		T_CHECK(jint(l, "frames") == jint(l, "end_seq") - jint(l, "start_seq") + 1);
		sum += t.time_ms;
		if (t.time_ms < lo)
			best_k = k;
		if (k > 1)
			fly_hi = fmax(fly_hi, t.time_ms);
		lo = fmin(lo, t.time_ms);
		hi = fmax(hi, t.time_ms);
	}
	mean = sum / n;
	for (int k = 1; k <= n; k++) {
		double d = jint(json_array_get(laps, (size_t)k - 1), "time_ms") - mean;

		sq += d * d;
	}
	sd = sqrt(sq / (n - 1));
	T_CHECK(json_is_object(best));
	T_CHECK(best_k >= 2);
	T_CHECK(jint(best, "number") == best_k); /* the first of the fastest */
	T_CHECK(jint(best, "time_ms") == (json_int_t)lo);
	T_CHECK(llabs(jint(best, "time_ms") - r->ref_ms) <= 1);
	T_CHECK(strcmp(jstr(best, "run_id"), "run-a") == 0);
	T_CHECK(jint(res, "valid_lap_count") == n);
	T_CHECK(jint(res, "average_lap_ms") == llround(mean));
	T_CHECK(jint(cons, "laps") == n);
	T_NEAR(jnum(cons, "stddev_ms"), sd, 0.051);
	T_CHECK(jint(cons, "spread_ms") == llround(hi - lo));
	T_NEAR(jnum(cons, "score"), fmax(0.0, 100.0 - 1000.0 * sd / mean), 0.051);
	T_CHECK(jint(res, "runs_analyzed") == 1);
	T_CHECK(jint(res, "total_frames_analyzed") == (json_int_t)r->n);
	fprintf(stderr,
		"  %.0f Hz: %d laps, lap 1 %lld ms, flying laps %d..%d ms (reference %d), "
		"average %lld, stddev %.1f, spread %lld, score %.1f\n",
		r->rate_hz, n, (long long)jint(json_array_get(laps, 0), "time_ms"), (int)lo,
		(int)fly_hi, (int)r->ref_ms, (long long)jint(res, "average_lap_ms"),
		jnum(cons, "stddev_ms"), (long long)jint(cons, "spread_ms"), jnum(cons, "score"));
}

/* ---- emulator: corners ---- */

struct corner_err {
	double v, t_ms, lost_ms;
	int passages;
};

static void check_corners(const struct sim_run *r, const json_t *res, struct corner_err *e)
{
	const json_t *cs = json_object_get(res, "corners"),
		     *tm = json_object_get(res, "track_model");
	const double g = 9.80665, grip = car_default()->grip_limit_g;
	int best_k = (int)jint(json_object_get(res, "best_lap"), "number");

	memset(e, 0, sizeof *e);
	T_CHECK(json_array_size(cs) == (size_t)track_corner_count(g_track));
	T_CHECK(strcmp(jstr(tm, "distance_source"), "position") == 0);
	T_CHECK(jint(tm, "frames_located") == (json_int_t)r->n);
	T_CHECK(jint(tm, "frames_off_line") == 0);
	T_CHECK(jint(tm, "corner_count") == track_corner_count(g_track));
	for (int c = 0; c < track_corner_count(g_track); c++) {
		const struct track_corner *tc = track_corner(g_track, c);
		const json_t *jc = json_array_get(cs, (size_t)c),
			     *fast = json_object_get(jc, "fastest");
		double apex_kmh = 0.97 * sqrt(grip * g * tc->min_radius_m) * 3.6;

		T_CHECK(jint(jc, "index") == tc->index);
		T_CHECK(strcmp(jstr(jc, "direction"), tc->direction > 0 ? "right" : "left") == 0);
		T_NEAR(jnum(jc, "entry_dist_m"), tc->start_m, 0.006);
		T_CHECK(json_array_size(json_object_get(jc, "laps")) == (size_t)r->laps);
		for (int k = 1; k <= r->laps; k++) {
			const json_t *l = corner_lap(jc, "run-a", k);
			struct truth_corner t;
			double t_ms;

			frames_corner(r, k, tc, &t);
			T_CHECKF(l && t.found, "corner %d lap %d missing", c + 1, k);
			if (!l || !t.found)
				continue;
			e->passages++;
			t_ms = (t.t_out - t.t_in) * 1000.0;
			e->v = fmax(e->v, fabs(jnum(l, "entry_speed_kmh") - t.v_in));
			e->v = fmax(e->v, fabs(jnum(l, "exit_speed_kmh") - t.v_out));
			e->v = fmax(e->v, fabs(jnum(l, "min_speed_kmh") - t.v_min));
			e->t_ms = fmax(e->t_ms, fabs(jint(l, "time_ms") - t_ms));
			T_NEAR(jnum(l, "entry_speed_kmh"), t.v_in, 0.15);
			T_NEAR(jnum(l, "exit_speed_kmh"), t.v_out, 0.15);
			T_NEAR(jnum(l, "min_speed_kmh"), t.v_min, 0.15);
			T_NEAR(jint(l, "time_ms"), t_ms, 1.6);
			/* the driver takes the corner at 97 % of the grip limit */
			T_CHECKF(fabs(jnum(l, "min_speed_kmh") - apex_kmh) < 0.02 * apex_kmh,
				 "corner %d lap %d: min %.2f km/h, limit x 0.97 = %.2f", c + 1, k,
				 jnum(l, "min_speed_kmh"), apex_kmh);
			T_CHECK(jnum(l, "min_speed_kmh") <= jnum(l, "entry_speed_kmh"));
			T_CHECK(jnum(l, "min_speed_kmh") <= jnum(l, "exit_speed_kmh"));
			if (k == best_k)
				T_CHECK(jint(l, "time_lost_ms") == 0);
			else /* every lap drives the same profile through the corners: noise only */
				T_CHECKF(llabs(jint(l, "time_lost_ms")) <= 1,
					 "corner %d lap %d lost %lld", c + 1, k,
					 (long long)jint(l, "time_lost_ms"));
			e->lost_ms = fmax(e->lost_ms, (double)llabs(jint(l, "time_lost_ms")));
		}
		T_CHECK(json_is_object(fast));
		T_CHECK(jint(fast, "time_ms") <= jint(corner_lap(jc, "run-a", 2), "time_ms"));
	}
}

static void emulator_case(double rate, double spacing, uint64_t seed)
{
	struct sim_run r;
	struct an_err err;
	struct corner_err e;
	json_t *model = model_of(g_track, spacing), *res;
	struct timespec t0;
	double ms;

	T_CHECK(sim_laps(&r, rate, 4, seed) == 0);
	T_CHECK(r.laps >= 4);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	res = run_one(r.f, r.n, model, &err);
	ms = elapsed_ms(&t0);
	T_CHECKF(res != NULL, "%s: %s", err.code, err.message);
	if (res) {
		check_laps_table(&r, res);
		check_corners(&r, res, &e);
		if (getenv("PW_DUMP_GENERAL")) {
			char *txt = json_dumps(res, JSON_COMPACT | JSON_REAL_PRECISION(10));

			fprintf(stderr, "%s\n", txt);
			free(txt);
		}
		fprintf(stderr,
			"  %.0f Hz, model every %.0f m: %d corner passages, worst |speed| "
			"error %.3f km/h, |time| %.2f ms, laps lose <= %.0f ms; %zu frames "
			"in %.1f ms (%.0f ms per 1.2 M)\n",
			rate, spacing, e.passages, e.v, e.t_ms, e.lost_ms, r.n, ms,
			ms * 1.2e6 / r.n);
	}
	json_decref(res);
	json_decref(model);
	sim_free(&r);
}

static void test_emulator_60hz(void)
{
	emulator_case(60.0, 10.0, 7);
}

static void test_emulator_333hz(void)
{
	emulator_case(333.0, 2.0, 11);
}

/* Without a model: no corners, same laps. */
static void test_emulator_no_model(void)
{
	struct sim_run r;
	struct an_err err;
	json_t *res;

	T_CHECK(sim_laps(&r, 60.0, 3, 3) == 0);
	res = run_one(r.f, r.n, NULL, &err);
	T_CHECK(res != NULL);
	if (res) {
		check_laps_table(&r, res);
		T_CHECK(json_object_get(res, "corners") == NULL);
		T_CHECK(json_object_get(res, "track_model") == NULL);
	}
	json_decref(res);
	sim_free(&r);
}

/* Two runs: laps of both, best over both, each with its run id. */
static void test_two_runs(void)
{
	struct sim_run a, b;
	struct an_err err;
	json_t *model = model_of(g_track, 5.0), *res;
	struct an_run runs[2];
	const json_t *laps, *c1, *best;

	T_CHECK(sim_laps(&a, 60.0, 2, 21) == 0 && sim_laps(&b, 60.0, 3, 22) == 0);
	runs[0] = (struct an_run){ "run-a", "ksudp", "", a.f, a.n };
	runs[1] = (struct an_run){ "run-b", "ksudp", "", b.f, b.n };
	res = run_general(runs, 2, model, &err);
	T_CHECK(res != NULL);
	laps = json_object_get(res, "laps");
	T_CHECK(json_array_size(laps) == (size_t)(a.laps + b.laps));
	T_CHECK(strcmp(jstr(json_array_get(laps, 0), "run_id"), "run-a") == 0);
	T_CHECK(strcmp(jstr(json_array_get(laps, (size_t)a.laps), "run_id"), "run-b") == 0);
	T_CHECK(jint(json_array_get(laps, (size_t)a.laps), "number") == 1);
	T_CHECK(jint(res, "runs_analyzed") == 2);
	T_CHECK(jint(res, "total_frames_analyzed") == (json_int_t)(a.n + b.n));
	/* the fastest lap of either run; run-b's lap 3 (89208 ms) beats run-a's lap 2 (89209) */
	best = json_object_get(res, "best_lap");
	T_CHECK(strcmp(jstr(best, "run_id"), "run-b") == 0 && jint(best, "number") == 3);
	T_CHECK(jint(best, "time_ms") == jint(json_array_get(laps, (size_t)a.laps + 2), "time_ms"));
	T_CHECK(jint(best, "time_ms") < jint(json_array_get(laps, 1), "time_ms"));
	c1 = json_array_get(json_object_get(res, "corners"), 0);
	T_CHECK(json_array_size(json_object_get(c1, "laps")) == (size_t)(a.laps + b.laps));
	T_CHECK(jint(corner_lap(c1, "run-b", 3), "time_lost_ms") == 0);
	T_CHECK(llabs(jint(corner_lap(c1, "run-a", 2), "time_lost_ms")) <= 1);
	T_CHECK(strcmp(jstr(json_object_get(c1, "fastest"), "run_id"), "") != 0);
	json_decref(res);
	json_decref(model);
	sim_free(&a);
	sim_free(&b);
}

/* No positions: distances from the spline, same figures within noise. */
static void test_spline_fallback(void)
{
	struct sim_run r;
	struct an_err err;
	json_t *model = model_of(g_track, 5.0), *res;
	struct corner_err e;

	T_CHECK(sim_laps(&r, 60.0, 3, 5) == 0);
	for (size_t i = 0; i < r.n; i++)
		r.f[i].present &= ~(uint64_t)FRAME_P_POS;
	res = run_one(r.f, r.n, model, &err);
	T_CHECK(res != NULL);
	if (res) {
		const json_t *tm = json_object_get(res, "track_model");

		T_CHECK(strcmp(jstr(tm, "distance_source"), "spline") == 0);
		json_object_set_new((json_t *)tm, "distance_source", json_string("position"));
		check_corners(&r, res, &e);
	}
	json_decref(res);
	json_decref(model);
	sim_free(&r);
}

/* No speed channels: laps and corner times stay, speeds are null. */
static void test_no_speed(void)
{
	struct sim_run r;
	struct an_err err;
	json_t *model = model_of(g_track, 5.0), *res;

	T_CHECK(sim_laps(&r, 60.0, 2, 9) == 0);
	for (size_t i = 0; i < r.n; i++)
		r.f[i].present &= ~(uint64_t)(FRAME_P_SPEED | FRAME_P_VEL);
	res = run_one(r.f, r.n, model, &err);
	T_CHECK(res != NULL);
	if (res) {
		const json_t *l1 = json_array_get(json_object_get(res, "laps"), 1);
		const json_t *c = json_array_get(json_object_get(res, "corners"), 3);
		const json_t *cl = corner_lap(c, "run-a", 2);

		T_CHECK(jint(l1, "time_ms") == r.ref_ms);
		T_CHECK(jnull(l1, "min_speed_kmh") && jnull(l1, "max_speed_kmh"));
		T_CHECK(cl != NULL);
		T_CHECK(jnull(cl, "entry_speed_kmh") && jnull(cl, "min_speed_kmh") &&
			jnull(cl, "exit_speed_kmh"));
		T_CHECK(jint(cl, "time_ms") > 0 && jint(cl, "time_lost_ms") == 0);
	}
	json_decref(res);
	json_decref(model);
	sim_free(&r);
}

/* Velocity instead of speed: |vel_ms| x 3.6. */
static void test_speed_from_velocity(void)
{
	struct sim_run r;
	struct an_err err;
	json_t *model = model_of(g_track, 5.0), *res, *ref;

	T_CHECK(sim_laps(&r, 60.0, 2, 9) == 0);
	ref = run_one(r.f, r.n, model, &err);
	for (size_t i = 0; i < r.n; i++)
		r.f[i].present &= ~(uint64_t)FRAME_P_SPEED;
	res = run_one(r.f, r.n, model, &err);
	T_CHECK(res && ref);
	if (res && ref) {
		const json_t *a =
			corner_lap(json_array_get(json_object_get(res, "corners"), 6), "run-a", 2);
		const json_t *b =
			corner_lap(json_array_get(json_object_get(ref, "corners"), 6), "run-a", 2);

		/* vel_ms carries +-0.01 m/s noise per axis, speed_kmh +-0.05 km/h */
		T_NEAR(jnum(a, "min_speed_kmh"), jnum(b, "min_speed_kmh"), 0.2);
		T_NEAR(jnum(a, "entry_speed_kmh"), jnum(b, "entry_speed_kmh"), 0.2);
	}
	json_decref(res);
	json_decref(ref);
	json_decref(model);
	sim_free(&r);
}

/* A pause in the middle of a corner (the game frozen, paused frames while
 * the receive clock runs on for 5 s) changes nothing. */
static void test_pause_in_corner(void)
{
	struct sim_run r;
	struct an_err err;
	json_t *model = model_of(g_track, 5.0), *res, *ref;
	const struct track_corner *c = track_corner(g_track, 4);
	size_t at = 0, extra = 300, n;
	struct pw_frame *f;

	T_CHECK(sim_laps(&r, 60.0, 2, 13) == 0);
	ref = run_one(r.f, r.n, model, &err);
	for (size_t i = 0; i < r.n; i++)
		if (r.f[i].lap == 1 && r.f[i].lap_dist_m > c->apex_m) {
			at = i;
			break;
		}
	n = r.n + extra;
	f = malloc(n * sizeof *f);
	memcpy(f, r.f, at * sizeof *f);
	for (size_t k = 0; k < extra; k++) {
		f[at + k] = r.f[at - 1];
		f[at + k].flags |= FRAME_FLAG_PAUSED;
		f[at + k].t_ns += (int64_t)(k + 1) * 16666667;
	}
	memcpy(f + at + extra, r.f + at, (r.n - at) * sizeof *f);
	for (size_t i = 0; i < n; i++)
		f[i].seq = i + 1;
	for (size_t i = at + extra; i < n; i++)
		f[i].t_ns += (int64_t)extra * 16666667;
	res = run_one(f, n, model, &err);
	T_CHECK(res && ref);
	if (res && ref) {
		const json_t *a =
			corner_lap(json_array_get(json_object_get(res, "corners"), 4), "run-a", 2);
		const json_t *b =
			corner_lap(json_array_get(json_object_get(ref, "corners"), 4), "run-a", 2);

		T_CHECK(a && b);
		T_CHECK(jint(a, "time_ms") == jint(b, "time_ms"));
		T_NEAR(jnum(a, "min_speed_kmh"), jnum(b, "min_speed_kmh"), 0.0);
		T_CHECK(jint(res, "total_frames_analyzed") == (json_int_t)r.n);
		T_CHECK(jint(json_array_get(json_object_get(res, "laps"), 1), "time_ms") ==
			r.ref_ms);
	}
	json_decref(res);
	json_decref(ref);
	json_decref(model);
	free(f);
	sim_free(&r);
}

/* A 3 s data gap inside a corner: that passage is dropped, the lap is
 * incomplete (not valid), the other corners of the lap are still there. */
static void test_gap_in_corner(void)
{
	struct sim_run r;
	struct an_err err;
	json_t *model = model_of(g_track, 5.0), *res;
	const struct track_corner *c = track_corner(g_track, 5);
	size_t at = 0, cut = 180;

	T_CHECK(sim_laps(&r, 60.0, 3, 17) == 0);
	for (size_t i = 0; i < r.n; i++)
		if (r.f[i].lap == 1 && r.f[i].lap_dist_m > c->apex_m) {
			at = i;
			break;
		}
	memmove(r.f + at, r.f + at + cut, (r.n - at - cut) * sizeof *r.f);
	r.n -= cut;
	res = run_one(r.f, r.n, model, &err);
	T_CHECK(res != NULL);
	if (res) {
		const json_t *cs = json_object_get(res, "corners");
		const json_t *l2 = json_array_get(json_object_get(res, "laps"), 1);

		T_CHECK(!json_is_true(json_object_get(l2, "valid")));
		T_CHECK(strcmp(jstr(l2, "invalid_reason"), "incomplete") == 0);
		T_CHECK(corner_lap(json_array_get(cs, 5), "run-a", 2) == NULL);
		T_CHECK(corner_lap(json_array_get(cs, 5), "run-a", 3) != NULL);
		T_CHECK(corner_lap(json_array_get(cs, 6), "run-a", 2) != NULL);
		T_CHECK(corner_lap(json_array_get(cs, 4), "run-a", 2) != NULL);
		/* the best lap is now lap 3; lap 2's other corners still compare */
		T_CHECK(jint(json_object_get(res, "best_lap"), "number") == 3);
		T_CHECK(llabs(jint(corner_lap(json_array_get(cs, 6), "run-a", 2),
				   "time_lost_ms")) <= 1);
	}
	json_decref(res);
	json_decref(model);
	sim_free(&r);
}

/* Off the centre line: the emulator's track-mapping modes drive the left
 * and right boundaries, 6 m either side of the line (lap_dist_m still
 * follows the line, so the truth is exact). With the line sampled every
 * 5 m, a point 6 m off it at a corner's entry or exit (where the curvature
 * is still ~0) projects within 0.11 m of its true distance (T7, the
 * radius-20 hairpin; < 0.03 m at the others), and up to 0.25 m inside the
 * corners. T7 on its inside boundary is taken at about 8.5 m/s, braking at
 * up to 1.6 /s (6 km/h per metre): 0.1 m there is ~12 ms and ~0.3 km/h, the
 * largest errors of the test; elsewhere they are a few ms and < 0.1 km/h. */
static void boundary_case(enum driver_mode mode)
{
	struct sim_run r;
	struct an_err err;
	json_t *model = model_of(g_track, 5.0), *res;
	double worst_v = 0.0, worst_t = 0.0;
	int passages = 0;

	T_CHECK(sim_mode(&r, mode, 60.0, 2, 61) == 0);
	res = run_one(r.f, r.n, model, &err);
	T_CHECK(res != NULL);
	for (int c = 0; res && c < track_corner_count(g_track); c++) {
		const json_t *jc = json_array_get(json_object_get(res, "corners"), (size_t)c);

		for (int k = 1; k <= r.laps; k++) {
			const json_t *l = corner_lap(jc, "run-a", k);
			struct truth_corner t;

			frames_corner(&r, k, track_corner(g_track, c), &t);
			T_CHECK(l && t.found);
			if (!l || !t.found)
				continue;
			passages++;
			worst_v = fmax(worst_v, fabs(jnum(l, "entry_speed_kmh") - t.v_in));
			worst_v = fmax(worst_v, fabs(jnum(l, "exit_speed_kmh") - t.v_out));
			worst_v = fmax(worst_v, fabs(jnum(l, "min_speed_kmh") - t.v_min));
			worst_t = fmax(worst_t,
				       fabs(jint(l, "time_ms") - (t.t_out - t.t_in) * 1000.0));
		}
	}
	T_CHECK(passages == r.laps * track_corner_count(g_track));
	T_CHECKF(worst_v < 0.4, "speed error %.3f km/h", worst_v);
	T_CHECKF(worst_t < 15.0, "time error %.2f ms", worst_t);
	fprintf(stderr,
		"  %s boundary (6 m off the line), model every 5 m: %d passages, worst "
		"|speed| error %.3f km/h, |time| %.2f ms\n",
		driver_mode_name(mode), passages, worst_v, worst_t);
	json_decref(res);
	json_decref(model);
	sim_free(&r);
}

static void test_boundary_runs(void)
{
	boundary_case(DRIVER_LEFT);
	boundary_case(DRIVER_RIGHT);
}

/* The game flags lap 2 invalid early in lap 3 (the tracker has reported
 * lap 2 valid by then): the table holds lap 2 once, invalid, and the best
 * lap moves on. */
static void test_late_invalid(void)
{
	struct sim_run r;
	struct an_err err;
	json_t *res;

	T_CHECK(sim_laps(&r, 60.0, 3, 71) == 0);
	for (size_t i = 0; i < r.n; i++)
		if (r.f[i].lap == 2 && r.f[i].lap_time_ms < 1000)
			r.f[i].flags |= FRAME_FLAG_LAP_INVALID;
	res = run_one(r.f, r.n, NULL, &err);
	T_CHECK(res != NULL);
	if (res) {
		const json_t *laps = json_object_get(res, "laps"), *l2 = json_array_get(laps, 1);

		T_CHECK(json_array_size(laps) == (size_t)r.laps);
		T_CHECK(jint(l2, "number") == 2);
		T_CHECK(json_is_false(json_object_get(l2, "valid")));
		T_CHECK(strcmp(jstr(l2, "invalid_reason"), "game_flag") == 0);
		T_CHECK(jint(json_object_get(res, "best_lap"), "number") == 3);
		T_CHECK(jint(res, "valid_lap_count") == r.laps - 1);
	}
	json_decref(res);
	sim_free(&r);
}

/* Two game sessions in one run (the game restarted the session): lap
 * numbers restart, no lap replaces one of the other session, and no corner
 * passage spans the change. */
static void test_session_change(void)
{
	struct sim_run a, b;
	struct an_err err;
	json_t *model = model_of(g_track, 5.0), *res;
	struct pw_frame *f;
	size_t n;

	T_CHECK(sim_laps(&a, 60.0, 2, 81) == 0 && sim_laps(&b, 60.0, 2, 82) == 0);
	T_CHECK(a.f[0].game_session != b.f[0].game_session);
	n = a.n + b.n;
	f = malloc(n * sizeof *f);
	memcpy(f, a.f, a.n * sizeof *f);
	memcpy(f + a.n, b.f, b.n * sizeof *f);
	for (size_t i = 0; i < n; i++) {
		f[i].seq = i + 1;
		f[i].t_ns = T0_NS + (int64_t)i * 16666667;
	}
	res = run_one(f, n, model, &err);
	T_CHECK(res != NULL);
	if (res) {
		const json_t *laps = json_object_get(res, "laps");
		const json_t *c1 = json_array_get(json_object_get(res, "corners"), 0);

		T_CHECK(json_array_size(laps) == (size_t)(a.laps + b.laps));
		T_CHECK(jint(json_array_get(laps, (size_t)a.laps), "number") == 1);
		T_CHECK(jint(json_array_get(laps, (size_t)a.laps), "start_seq") ==
			(json_int_t)a.n + 1);
		/* every lap of both sessions has its T1 passage */
		T_CHECK(json_array_size(json_object_get(c1, "laps")) == (size_t)(a.laps + b.laps));
	}
	json_decref(res);
	json_decref(model);
	free(f);
	sim_free(&a);
	sim_free(&b);
}

/* ---- projection: a hairpin with its two straights 16 m apart ---- */

#define HP_STRAIGHT_M 400.0
#define HP_R 8.0
#define HP_OFFSET_M 9.0

/* Lateral offset of the car at distance `at` into the lap. */
static double hp_offset(double at, double arc)
{
	double d;

	if (at <= HP_STRAIGHT_M)
		d = fmin(at, HP_STRAIGHT_M - at);
	else if (at >= HP_STRAIGHT_M + arc && at <= 2.0 * HP_STRAIGHT_M + arc)
		d = fmin(at - HP_STRAIGHT_M - arc, 2.0 * HP_STRAIGHT_M + arc - at);
	else
		d = 0.0;
	return HP_OFFSET_M * fmin(1.0, d / 20.0);
}

static double hp_speed(double s)
{
	return 100.0 + 50.0 * sin(s / 50.0);
}

/* Centre line: up x = 0 from z = 0 to 400, a right-hand semicircle of radius
 * 8 m to x = 16, down to z = 0, a semicircle back to the start. */
static void hairpin_point(double s, double *x, double *z)
{
	double arc = M_PI * HP_R, len = 2.0 * (HP_STRAIGHT_M + arc);

	s = fmod(s, len);
	if (s < HP_STRAIGHT_M) {
		*x = 0.0;
		*z = s;
	} else if (s < HP_STRAIGHT_M + arc) {
		double a = (s - HP_STRAIGHT_M) / HP_R;

		*x = HP_R - HP_R * cos(a);
		*z = HP_STRAIGHT_M + HP_R * sin(a);
	} else if (s < 2.0 * HP_STRAIGHT_M + arc) {
		*x = 2.0 * HP_R;
		*z = HP_STRAIGHT_M - (s - HP_STRAIGHT_M - arc);
	} else {
		double a = (s - 2.0 * HP_STRAIGHT_M - arc) / HP_R;

		*x = HP_R + HP_R * cos(a);
		*z = -HP_R * sin(a);
	}
}

static void test_hairpin_projection(void)
{
	double arc = M_PI * HP_R, len = 2.0 * (HP_STRAIGHT_M + arc), sp = 2.0;
	json_t *m = json_object(), *line = json_array(), *cs = json_array(), *res;
	size_t n = 0, laps = 3, per_lap = 2000;
	double clock = 0.0;
	struct pw_frame *f = calloc(laps * per_lap + 10, sizeof *f);
	struct an_err err;

	for (int i = 0; i * sp < len; i++) {
		double x, z;

		hairpin_point(i * sp, &x, &z);
		json_array_append_new(line, json_pack("[f,f]", x, z));
	}
	/* the far hairpin and the second straight's middle (beside the first straight) */
	json_array_append_new(cs, json_pack("{s:i,s:s,s:f,s:f,s:f}", "index", 1, "direction",
					    "right", "entry_dist_m", HP_STRAIGHT_M, "apex_dist_m",
					    HP_STRAIGHT_M + 0.5 * arc, "exit_dist_m",
					    HP_STRAIGHT_M + arc));
	json_array_append_new(cs, json_pack("{s:i,s:n,s:f,s:f,s:f}", "index", 2, "direction",
					    "entry_dist_m", HP_STRAIGHT_M + arc + 100.0,
					    "apex_dist_m", HP_STRAIGHT_M + arc + 150.0,
					    "exit_dist_m", HP_STRAIGHT_M + arc + 200.0));
	/* a corner over the line: entry before it, exit after it */
	json_array_append_new(cs, json_pack("{s:i,s:f,s:f}", "index", 3, "entry_dist_m", len - 20.0,
					    "exit_dist_m", 20.0));
	json_object_set_new(m, "center_line", line);
	json_object_set_new(m, "sample_spacing_m", json_real(sp));
	json_object_set_new(m, "length_m", json_real(len));
	json_object_set_new(m, "corners", cs);
	/* on the straights the car runs 9 m right of the line, toward the other
	 * straight: 7 m from that one's line, nearer than to its own, so only a
	 * projection that follows the car along its own branch gets it right
	 * (a nearest-point search over the whole line puts it on the other
	 * straight). It is back on the line 20 m before each hairpin (off-line
	 * projection in corners: test_boundary_run);
	 * 1 m of centre line per frame at 60 Hz (216 km/h), except through
	 * corner 1 on the third lap: 2 frame periods per metre there */
	for (size_t k = 0; k < laps * (size_t)ceil(len) + 40; k++) {
		struct pw_frame *p = &f[n++];
		double s = (double)k, x, z, xa, za, xb, zb, h, at = fmod(s, len);

		hairpin_point(s, &x, &z);
		hairpin_point(s - 0.01, &xa, &za);
		hairpin_point(s + 0.01, &xb, &zb);
		h = atan2(xb - xa, zb - za);
		frame_init(p, PW_GAME_AC, PW_FEED_KSUDP);
		p->seq = k + 1;
		p->present = FRAME_P_POS | FRAME_P_SPEED | FRAME_P_SPLINE | FRAME_P_GAME_TIME;
		p->pos_m[0] = (float)(x + hp_offset(at, arc) * cos(h));
		p->pos_m[2] = (float)(z - hp_offset(at, arc) * sin(h));
		p->speed_kmh = (float)hp_speed(s);
		p->spline = (float)(at / len);
		clock += k == 0 ? 0.0
			 : (s >= 2.0 * len && at > HP_STRAIGHT_M && at <= HP_STRAIGHT_M + arc)
				 ? 2.0 / 60.0
				 : 1.0 / 60.0;
		p->game_time_s = clock;
		p->game_session = 1;
	}
	res = run_one(f, n, m, &err);
	T_CHECKF(res != NULL, "%s %s", err.code, err.message);
	if (res) {
		const json_t *c = json_object_get(res, "corners");
		const json_t *laps_j = json_object_get(res, "laps");
		double b[3][2] = { { HP_STRAIGHT_M, HP_STRAIGHT_M + arc },
				   { HP_STRAIGHT_M + arc + 100.0, HP_STRAIGHT_M + arc + 200.0 },
				   { len - 20.0, len + 20.0 } };

		T_CHECK(json_array_size(laps_j) == laps);
		/* lap 1 began mid-lap for the tracker (no lap clock): incomplete; lap 3
		 * took 419 ms longer in corner 1: lap 2 is the best */
		T_CHECK(jint(json_object_get(res, "best_lap"), "number") == 2);
		for (int i = 0; i < 3; i++) {
			const json_t *cl = json_object_get(json_array_get(c, (size_t)i), "laps");
			double exp_ms = (b[i][1] - b[i][0]) * 1000.0 / 60.0;

			/* corner 3 spans the line: each passage belongs to the lap it is
			 * entered in, the end of laps 1, 2 and 3 (the run goes on 40 m) */
			T_CHECKF(json_array_size(cl) == laps, "corner %d: %zu passages", i + 1,
				 json_array_size(cl));
			for (size_t k = 0; k < json_array_size(cl); k++) {
				const json_t *l = json_array_get(cl, k);
				double s0 = k * len + b[i][0], s1 = k * len + b[i][1],
				       lo = INFINITY;
				int slow = i == 0 && k == 2;

				for (double s = ceil(s0); s < s1; s += 1.0)
					lo = fmin(lo, hp_speed(s));
				lo = fmin(lo, fmin(hp_speed(s0), hp_speed(s1)));
				T_NEAR(jnum(l, "entry_speed_kmh"), hp_speed(s0), 0.02);
				T_NEAR(jnum(l, "exit_speed_kmh"), hp_speed(s1), 0.02);
				T_NEAR(jnum(l, "min_speed_kmh"), lo, 0.02);
				T_NEAR(jint(l, "time_ms"), slow ? 2.0 * exp_ms : exp_ms,
				       slow ? 17.0 : 1.0);
				T_NEAR(jint(l, "time_lost_ms"), slow ? exp_ms : 0.0,
				       slow ? 17.0 : 1.0);
			}
		}
		T_CHECK(jnull(json_array_get(c, 1), "direction"));
		T_CHECK(jint(json_object_get(res, "track_model"), "frames_off_line") == 0);
	}
	json_decref(res);
	json_decref(m);
	free(f);
}

/* ---- real data: Assetto Corsa, Monza ---- */

static size_t ac_frames(struct pw_frame **out)
{
	static struct dec_state st;
	size_t len, n = 0;
	unsigned char *raw = t_read_file(t_data_path(AC_RAW), &len);
	struct pw_frame *f = calloc(AC_NPKT, sizeof *f);

	*out = f;
	if (!raw || !f || len != (size_t)AC_NPKT * AC_PKT) {
		free(raw);
		return 0;
	}
	dec_reset(&st);
	for (size_t i = 0; i < AC_NPKT; i++)
		if (dec_ksudp.decode(&st, raw + AC_PKT * i, AC_PKT, &f[n]) == DEC_FRAME) {
			f[n].seq = 5000 + i;
			n++;
		}
	free(raw);
	return n;
}

static void check_ac(const json_t *res, size_t n, json_int_t first_seq)
{
	const json_t *laps = json_object_get(res, "laps"), *l = json_array_get(laps, 0);
	const json_t *s = json_object_get(l, "sector_ms"), *c = json_object_get(res, "consistency");

	T_CHECK(json_array_size(laps) == 1);
	T_CHECK(jint(l, "number") == 1);
	T_CHECK(jint(l, "time_ms") == AC_LAP_MS);
	T_CHECKF(llabs(jint(l, "measured_ms") - AC_LAP_MS) <= 10, "measured %lld",
		 (long long)jint(l, "measured_ms"));
	T_CHECK(json_is_false(json_object_get(l, "valid")));
	T_CHECK(strcmp(jstr(l, "invalid_reason"), "out_lap") == 0);
	for (int i = 0; i < 3; i++)
		T_CHECK(json_is_null(json_array_get(s, (size_t)i)));
	T_NEAR(jnum(l, "min_speed_kmh"), 0.0, 0.0);
	T_NEAR(jnum(l, "max_speed_kmh"), 252.17, 0.005);
	T_CHECK(jint(l, "start_seq") == first_seq);
	T_CHECK(jint(l, "end_seq") == first_seq + 7898); /* packet 7899 is the last of lap 1 */
	T_CHECK(jint(l, "frames") == 7899);
	T_CHECK(jnull(res, "best_lap"));
	T_CHECK(jnull(res, "average_lap_ms"));
	T_CHECK(jint(res, "valid_lap_count") == 0);
	T_CHECK(jint(c, "laps") == 0);
	T_CHECK(jnull(c, "stddev_ms") && jnull(c, "spread_ms") && jnull(c, "score"));
	T_CHECK(jint(res, "runs_analyzed") == 1);
	T_CHECK(jint(res, "total_frames_analyzed") == (json_int_t)n);
}

static void test_ac_monza(void)
{
	struct pw_frame *f;
	size_t n = ac_frames(&f);
	struct an_err err;
	json_t *res;

	T_CHECKF(n == AC_NPKT, "%zu frames decoded", n);
	res = run_one(f, n, NULL, &err);
	T_CHECKF(res != NULL, "%s: %s", err.code, err.message);
	if (res)
		check_ac(res, n, 5000);
	json_decref(res);
	free(f);
}

/* The pcap of the same packets: receive times, seq from 1. */
static void test_ac_monza_pcap(void)
{
	static struct dec_state st;
	struct pcap_reader *pr;
	struct pcap_pkt p;
	struct pw_frame *f = calloc(AC_NPKT + 1, sizeof *f);
	size_t n = 0;
	struct an_err err;
	json_t *res;

	T_CHECK(f && pcap_open(&pr, t_data_path(AC_PCAP)) == 0);
	if (!f)
		return;
	dec_reset(&st);
	while (n < AC_NPKT + 1 && pcap_next(pr, &p) == 1)
		if (dec_ksudp.decode(&st, p.data, p.len, &f[n]) == DEC_FRAME) {
			f[n].seq = n + 1;
			f[n].t_ns = p.t_ns;
			n++;
		}
	pcap_close(pr);
	T_CHECK(n == AC_NPKT);
	res = run_one(f, n, NULL, &err);
	T_CHECK(res != NULL);
	if (res)
		check_ac(res, n, 1);
	json_decref(res);
	free(f);
}

/*
 * Corners on real positions: a centre line made from the car's own path
 * (every 5 m of path length from where it leaves the pit lane to the line,
 * closed back to the start) and three corners around the three slowest
 * points of that path: Monza's chicanes, Rettifilo (spline 0.174, 45 km/h),
 * Roggia (0.375, 50 km/h) and Ascari (0.696, 73 km/h). The out lap's
 * passage must be found with the path's own speeds: the minimum is the
 * path's local minimum, exactly a frame's speed.
 */
static void test_ac_monza_corners(void)
{
	struct pw_frame *f;
	size_t n = ac_frames(&f), first = 0, last = 0, k;
	double *cum = calloc(AC_NPKT, sizeof *cum), s = 0.0, next = 0.0;
	json_t *m = json_object(), *line = json_array(), *cs = json_array(), *res;
	struct an_err err;
	size_t mins[3] = { 0, 0, 0 };
	int nm = 0;

	T_CHECK(n == AC_NPKT && cum);
	if (n != AC_NPKT || !cum)
		goto out;
	for (k = 0; k < n && (f[k].flags & FRAME_FLAG_IN_PIT); k++)
		;
	first = k;
	for (; k < n && f[k].lap == 0; k++)
		;
	last = k - 1; /* the last frame before the line */
	for (k = first; k <= last; k++) {
		if (k > first)
			s += hypot(f[k].pos_m[0] - f[k - 1].pos_m[0],
				   f[k].pos_m[2] - f[k - 1].pos_m[2]);
		cum[k] = s;
		if (s >= next) {
			json_array_append_new(line,
					      json_pack("[f,f]", f[k].pos_m[0], f[k].pos_m[2]));
			next += 5.0;
		}
	}
	/* the three slowest local minima below 150 km/h, at least 300 m apart */
	for (int pick = 0; pick < 3; pick++) {
		size_t best = 0;

		for (k = first + 1; k < last; k++) {
			int near = 0;

			for (int j = 0; j < nm; j++)
				near |= fabs(cum[k] - cum[mins[j]]) < 300.0;
			if (!near && cum[k] > 200.0 && cum[k] < s - 200.0 &&
			    (!best || f[k].speed_kmh < f[best].speed_kmh))
				best = k;
		}
		if (best && f[best].speed_kmh < 150.0)
			mins[nm++] = best;
	}
	T_CHECKF(nm == 3, "%d slow corners", nm);
	for (int j = 0; j < nm; j++)
		json_array_append_new(cs,
				      json_pack("{s:i,s:f,s:f,s:f}", "index", j + 1, "entry_dist_m",
						floor(cum[mins[j]] / 5.0) * 5.0 - 100.0,
						"apex_dist_m", cum[mins[j]], "exit_dist_m",
						floor(cum[mins[j]] / 5.0) * 5.0 + 100.0));
	json_object_set_new(m, "center_line", line);
	json_object_set_new(m, "sample_spacing_m", json_real(5.0));
	json_object_set_new(m, "corners", cs);
	res = run_one(f, n, m, &err);
	T_CHECKF(res != NULL, "%s: %s", err.code, err.message);
	if (res) {
		const json_t *c = json_object_get(res, "corners");
		const json_t *tm = json_object_get(res, "track_model");

		for (int j = 0; j < nm; j++) {
			const json_t *cl = corner_lap(json_array_get(c, (size_t)j), "run-a", 1);

			T_CHECKF(cl != NULL, "corner %d: no passage", j + 1);
			if (!cl)
				continue;
			T_NEAR(jnum(cl, "min_speed_kmh"), f[mins[j]].speed_kmh, 0.006);
			T_CHECK(jnum(cl, "entry_speed_kmh") > jnum(cl, "min_speed_kmh") + 20.0);
			T_CHECK(jnum(cl, "exit_speed_kmh") > jnum(cl, "min_speed_kmh") + 10.0);
			/* 200 m at 80..250 km/h: 3..9 s */
			T_CHECK(jint(cl, "time_ms") > 2500 && jint(cl, "time_ms") < 9000);
			T_CHECK(jnull(cl, "time_lost_ms")); /* no valid lap to compare with */
			T_CHECK(jnull(json_array_get(c, (size_t)j), "fastest"));
			fprintf(stderr,
				"  AC Monza corner at %.0f m of the path: entry %.1f, min %.1f, "
				"exit %.1f km/h, %lld ms\n",
				cum[mins[j]], jnum(cl, "entry_speed_kmh"),
				jnum(cl, "min_speed_kmh"), jnum(cl, "exit_speed_kmh"),
				(long long)jint(cl, "time_ms"));
		}
		fprintf(stderr, "  AC Monza: %lld of %zu frames located, %lld off the line\n",
			(long long)jint(tm, "frames_located"), n,
			(long long)jint(tm, "frames_off_line"));
		T_CHECK(jint(tm, "frames_located") > (json_int_t)(last - first));
	}
	json_decref(res);
out:
	json_decref(m);
	free(cum);
	free(f);
}

/* ---- edge cases ---- */

static void test_no_data(void)
{
	struct an_err err;
	struct pw_frame f[3];
	struct an_run empty = { "r", "ksudp", "", NULL, 0 };
	json_t *res;

	T_CHECK(run_general(NULL, 0, NULL, &err) == NULL);
	T_CHECK(err.code && strcmp(err.code, AN_E_NO_DATA) == 0);
	T_CHECK(err.message[0] != '\0');
	T_CHECK(run_general(&empty, 1, NULL, &err) == NULL);
	T_CHECK(strcmp(err.code, AN_E_NO_DATA) == 0);

	/* one frame: no lap */
	frame_init(&f[0], PW_GAME_AC, PW_FEED_KSUDP);
	f[0].present = FRAME_P_LAP | FRAME_P_LAP_TIME | FRAME_P_SPEED;
	f[0].lap_time_ms = 500;
	f[0].speed_kmh = 100.0f;
	res = run_one(f, 1, NULL, &err);
	T_CHECK(res == NULL && strcmp(err.code, AN_E_NO_DATA) == 0);
	fprintf(stderr, "  message: %s\n", err.message);
	json_decref(res);

	/* NULL input */
	T_CHECK(an_general(NULL, &err) == NULL && strcmp(err.code, AN_E_BAD_INPUT) == 0);
}

/* Frames without any lap channel, and all-paused frames: no lap. */
static void test_no_laps(void)
{
	struct sim_run r;
	struct an_err err;
	json_t *res;

	T_CHECK(sim_laps(&r, 60.0, 2, 31) == 0);
	for (size_t i = 0; i < r.n; i++)
		r.f[i].flags |= FRAME_FLAG_PAUSED;
	res = run_one(r.f, r.n, NULL, &err);
	T_CHECK(res == NULL && strcmp(err.code, AN_E_NO_DATA) == 0);
	json_decref(res);
	for (size_t i = 0; i < r.n; i++) {
		r.f[i].flags &= (uint16_t)~FRAME_FLAG_PAUSED;
		r.f[i].present &= ~(uint64_t)(FRAME_P_LAP | FRAME_P_LAP_TIME | FRAME_P_SPLINE |
					      FRAME_P_LAP_DIST | FRAME_P_LAST_LAP);
	}
	res = run_one(r.f, r.n, NULL, &err);
	T_CHECK(res == NULL && strcmp(err.code, AN_E_NO_DATA) == 0);
	json_decref(res);
	sim_free(&r);
}

static void expect_bad_model(const struct sim_run *r, json_t *m, const char *what)
{
	struct an_err err;
	json_t *res = run_one(r->f, r->n, m, &err);

	T_CHECKF(res == NULL && err.code && strcmp(err.code, AN_E_BAD_INPUT) == 0, "%s", what);
	json_decref(res);
	json_decref(m);
}

static void test_bad_model(void)
{
	struct sim_run r;
	json_t *m;

	T_CHECK(sim_laps(&r, 60.0, 1, 41) == 0);
	expect_bad_model(&r, json_string("x"), "not an object");
	m = model_of(g_track, 5.0);
	json_object_set_new(m, "center_line", json_pack("[[f,f],[f,f]]", 0.0, 0.0, 1.0, 1.0));
	expect_bad_model(&r, m, "two points");
	m = model_of(g_track, 5.0);
	json_object_del(m, "sample_spacing_m");
	expect_bad_model(&r, m, "no spacing");
	m = model_of(g_track, 5.0);
	json_array_append_new(json_object_get(m, "center_line"), json_string("p"));
	expect_bad_model(&r, m, "a point that is not [x, z]");
	m = model_of(g_track, 5.0);
	json_object_set_new(m, "corners", json_object());
	expect_bad_model(&r, m, "corners not an array");
	m = model_of(g_track, 5.0);
	json_object_del(json_array_get(json_object_get(m, "corners"), 2), "exit_dist_m");
	expect_bad_model(&r, m, "a corner without exit");
	m = model_of(g_track, 5.0);
	json_object_set_new(m, "length_m", json_real(100.0));
	expect_bad_model(&r, m, "length shorter than the line");
	sim_free(&r);
}

/* A model of another track: every frame off the line, no passages. */
static void test_wrong_model(void)
{
	struct sim_run r;
	struct an_err err;
	json_t *m = model_of(g_track, 5.0), *res;
	json_t *line = json_object_get(m, "center_line"), *p;
	size_t i;

	json_array_foreach(line, i, p)
		json_array_set_new(p, 0,
				   json_real(json_number_value(json_array_get(p, 0)) + 5000.0));
	T_CHECK(sim_laps(&r, 60.0, 2, 43) == 0);
	res = run_one(r.f, r.n, m, &err);
	T_CHECK(res != NULL);
	if (res) {
		const json_t *tm = json_object_get(res, "track_model"), *c;

		T_CHECK(jint(tm, "frames_off_line") == (json_int_t)r.n);
		T_CHECK(jint(tm, "frames_located") == 0);
		json_array_foreach(json_object_get(res, "corners"), i, c)
			T_CHECK(json_array_size(json_object_get(c, "laps")) == 0);
		T_CHECK(json_array_size(json_object_get(res, "laps")) == (size_t)r.laps);
	}
	json_decref(res);
	json_decref(m);
	sim_free(&r);
}

/* Reversing through a corner: the passage it was in is dropped; driving on
 * forward again, the next lap's passages are there. */
static void test_reverse(void)
{
	struct sim_run r;
	struct an_err err;
	json_t *m = model_of(g_track, 5.0), *res;
	const struct track_corner *c = track_corner(g_track, 2);
	size_t at = 0, back = 120;
	struct pw_frame *f;
	size_t n;

	T_CHECK(sim_laps(&r, 60.0, 3, 47) == 0);
	for (size_t i = 0; i < r.n; i++)
		if (r.f[i].lap == 1 && r.f[i].lap_dist_m > c->apex_m) {
			at = i;
			break;
		}
	/* play frames at-1 .. at-back backwards (the car rolls back 2 s of
	 * driving, the clocks run on), then continue forward from at - back */
	n = r.n + 2 * back;
	f = malloc(n * sizeof *f);
	memcpy(f, r.f, at * sizeof *f);
	for (size_t k = 0; k < back; k++)
		f[at + k] = r.f[at - 1 - k];
	memcpy(f + at + back, r.f + at - back, (r.n - at + back) * sizeof *f);
	for (size_t i = 0; i < n; i++) {
		double t = (double)i / 60.0;

		f[i].seq = i + 1;
		f[i].game_time_s = t;
		f[i].t_ns = T0_NS + (int64_t)(t * 1e9);
		f[i].present &= ~(uint64_t)FRAME_P_LAP_TIME;
	}
	res = run_one(f, n, m, &err);
	T_CHECK(res != NULL);
	if (res) {
		const json_t *cs = json_object_get(res, "corners");
		const json_t *cl = corner_lap(json_array_get(cs, 2), "run-a", 2);

		/* the passage after the car drove forward again through the corner is kept */
		T_CHECK(cl != NULL);
		T_CHECK(corner_lap(json_array_get(cs, 2), "run-a", 3) != NULL);
		T_CHECK(corner_lap(json_array_get(cs, 3), "run-a", 2) != NULL);
	}
	json_decref(res);
	json_decref(m);
	free(f);
	sim_free(&r);
}

/* ---- dispatch ---- */

static void test_dispatch(void)
{
	struct sim_run r;
	struct an_err err;
	struct an_run run;
	struct an_input in;
	json_t *res;

	T_CHECK(sim_laps(&r, 60.0, 2, 51) == 0);
	run = (struct an_run){ "run-a", "ksudp", "", r.f, r.n };
	in = (struct an_input){ .session_id = "s",
				.use_case = "general",
				.car_name = "",
				.game = "",
				.track = "",
				.runs = &run,
				.nruns = 1 };
	res = an_run_use_case(&in, &err);
	T_CHECK(res && json_array_size(json_object_get(res, "laps")) == (size_t)r.laps);
	json_decref(res);
	in.use_case = "lap_magic";
	memset(&err, 0, sizeof err);
	T_CHECK(an_run_use_case(&in, &err) == NULL);
	T_CHECK(err.code && strcmp(err.code, AN_E_BAD_INPUT) == 0 &&
		strstr(err.message, "lap_magic"));
	in.use_case = NULL;
	T_CHECK(an_run_use_case(&in, &err) == NULL && strcmp(err.code, AN_E_BAD_INPUT) == 0);
	T_CHECK(an_run_use_case(NULL, &err) == NULL);
	sim_free(&r);
}

int main(void)
{
	g_track = track_new();
	if (!g_track)
		return 1;
	T_RUN(test_emulator_60hz);
	T_RUN(test_emulator_333hz);
	T_RUN(test_emulator_no_model);
	T_RUN(test_two_runs);
	T_RUN(test_spline_fallback);
	T_RUN(test_no_speed);
	T_RUN(test_speed_from_velocity);
	T_RUN(test_pause_in_corner);
	T_RUN(test_gap_in_corner);
	T_RUN(test_late_invalid);
	T_RUN(test_session_change);
	T_RUN(test_boundary_runs);
	T_RUN(test_hairpin_projection);
	T_RUN(test_ac_monza);
	T_RUN(test_ac_monza_pcap);
	T_RUN(test_ac_monza_corners);
	T_RUN(test_no_data);
	T_RUN(test_no_laps);
	T_RUN(test_bad_model);
	T_RUN(test_wrong_model);
	T_RUN(test_reverse);
	T_RUN(test_dispatch);
	track_free(g_track);
	return T_DONE();
}
