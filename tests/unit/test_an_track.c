/*
 * test_an_track.c - track_mapping (an_track_build) against the emulator's
 * ground truth and on the real Assetto Corsa Monza capture.
 *
 * Ground truth: pw-sim's left and right modes drive the boundaries of
 * capture/sim/track.h's circuit (12 m wide, 10 corners) with sensor noise
 * (+-0.01 m on positions); the built centre line must lie within 0.5 m of
 * the true one and the corner list must match track_corner() exactly in
 * count and directions. Angles, radii and distances are compared with
 * tolerances and printed.
 *
 * Real data: tests/data/ac_remote (an Audi R8 LMS at Monza, AC, CC0) holds
 * one racing-line lap that starts in the pit lane; it is not a closed lap
 * and is refused, and boundaries made by offsetting that line by 5 m each
 * way (the missing 290 m of main straight bridged straight) give a
 * plausible Monza.
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
#include "capture/sim/driver.h"
#include "tests/unit/t.h"

#define SEED 7
#define TRUE_SAMPLE_M 0.5
#define CENTRE_TOL_M 0.5
#define MONZA_PATH "ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.raw"
#define MONZA_PKT 328
#define MONZA_NPKT 8641
#define MONZA_OFFSET_M 5.0

struct frames {
	struct pw_frame *f;
	size_t n, cap;
};

static struct track *trk;

static void push(struct frames *fs, const struct pw_frame *f)
{
	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? 2 * fs->cap : 4096;
		fs->f = realloc(fs->f, fs->cap * sizeof *fs->f);
		if (!fs->f)
			abort();
	}
	fs->f[fs->n++] = *f;
}

static double progress(const struct pw_frame *f)
{
	return f->lap + f->lap_dist_m / f->track_len_m;
}

/* Frames of mode at rate_hz with lap progress in [from, to]: the first frame
 * at or past `to` is included, so to = 1.0 ends back on the line. */
static struct frames sim_run(enum driver_mode mode, double rate_hz, double from, double to,
			     uint64_t seed)
{
	struct driver *d = driver_new(mode, seed, car_default(), trk);
	struct frames fs = { 0 };
	struct pw_frame f;

	if (!d)
		abort();
	for (int64_t k = 0;; k++) {
		driver_run_to(d, (int64_t)llround(k * 1000.0 / rate_hz));
		driver_frame(d, &f);
		f.game = PW_GAME_AC;
		f.feed = PW_FEED_KSUDP;
		f.t_ns = (int64_t)llround(k * 1e9 / rate_hz);
		if (progress(&f) >= from)
			push(&fs, &f);
		if (progress(&f) >= to)
			break;
	}
	driver_free(d);
	return fs;
}

static json_t *build(struct frames *l, const char *ll, struct frames *r, const char *rl,
		     struct an_err *err)
{
	struct an_run runs[2] = {
		{ .run_id = "r1", .feed = "ksudp", .label = ll, .frames = l->f, .n = l->n },
		{ .run_id = "r2", .feed = "ksudp", .label = rl, .frames = r->f, .n = r->n },
	};
	struct an_input in = { .session_id = "s",
			       .use_case = "track_mapping",
			       .car_name = "",
			       .game = "pw_sim",
			       .track = "pitwall_ring",
			       .runs = runs,
			       .nruns = 2 };

	memset(err, 0, sizeof *err);
	return an_track_build(&in, NULL, NULL, err);
}

/* --- ground truth --- */

struct truth_poly {
	double *x, *z;
	size_t n;
};

static struct truth_poly truth_centre(void)
{
	struct truth_poly p;
	double len = track_length_m(trk);

	p.n = (size_t)ceil(len / TRUE_SAMPLE_M);
	p.x = malloc(2 * p.n * sizeof *p.x);
	p.z = p.x + p.n;
	for (size_t i = 0; i < p.n; i++) {
		struct track_point tp;

		track_sample(trk, len * (double)i / (double)p.n, &tp);
		p.x[i] = tp.x_m;
		p.z[i] = tp.z_m;
	}
	return p;
}

/* Distance from (x, z) to the closed polyline p, searching all segments. */
static double poly_dist(const struct truth_poly *p, double x, double z)
{
	double best = INFINITY;

	for (size_t i = 0; i < p->n; i++) {
		size_t j = (i + 1) % p->n;
		double dx = p->x[j] - p->x[i], dz = p->z[j] - p->z[i], l2 = dx * dx + dz * dz;
		double t = l2 > 0 ? ((x - p->x[i]) * dx + (z - p->z[i]) * dz) / l2 : 0.0;

		t = fmin(fmax(t, 0.0), 1.0);
		best = fmin(best, hypot(p->x[i] + t * dx - x, p->z[i] + t * dz - z));
	}
	return best;
}

/* Middle of the corner's stretch of peak |curvature| (its constant-radius
 * arc). track.h's apex_m is (entry transition start + arc end) / 2, half an
 * entry transition earlier; both are printed. */
static double true_apex(const struct track_corner *c)
{
	double kmax = 0.0, a = c->start_m, b = c->start_m;

	for (double s = c->start_m; s <= c->end_m; s += 0.05)
		kmax = fmax(kmax, fabs(track_curvature(trk, s)));
	for (double s = c->start_m; s <= c->end_m; s += 0.05)
		if (fabs(track_curvature(trk, s)) >= kmax - 1e-9) {
			if (a == c->start_m)
				a = s;
			b = s;
		}
	return 0.5 * (a + b);
}

static double num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static double wrapped_gap(double a, double b, double len)
{
	return fabs(remainder(a - b, len));
}

/* The model of two boundary laps against track.h, with the figures printed. */
static void check_truth(json_t *m, const char *what)
{
	struct truth_poly tp = truth_centre();
	json_t *cl = json_object_get(m, "center_line"), *corners = json_object_get(m, "corners");
	json_t *w = json_object_get(m, "track_width"), *hd = json_object_get(m, "heading");
	json_t *cv = json_object_get(m, "curvature"), *sec = json_object_get(m, "sectors");
	double len = num(m, "length_m"), step = num(m, "sample_spacing_m"),
	       tlen = track_length_m(trk);
	double dmax = 0, dsum = 0, wmax = 0, hmax = 0, kmax_straight = 0;
	double amax = 0, rmax = 0, apmax = 0, apsim = 0, enmax = 0, exmax = 0;
	size_t n = json_array_size(cl);

	T_CHECK(n > 1000 && json_array_size(w) == n && json_array_size(hd) == n &&
		json_array_size(cv) == n);
	T_CHECK(json_array_size(json_object_get(m, "left_boundary")) == n);
	T_CHECK(json_array_size(json_object_get(m, "right_boundary")) == n);
	T_NEAR(step * (double)n, len, 1e-6);
	T_CHECKF(fabs(len / tlen - 1.0) < 0.001, "length %.2f m vs true %.2f m", len, tlen);
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(cl, i);
		double d = poly_dist(&tp, json_real_value(json_array_get(p, 0)),
				     json_real_value(json_array_get(p, 1)));
		double s = (double)i * step * tlen / len;
		struct track_point q;

		dmax = fmax(dmax, d);
		dsum += d;
		wmax = fmax(wmax, fabs(json_real_value(json_array_get(w, i)) - track_width_m(trk)));
		track_sample(trk, s, &q);
		hmax = fmax(hmax,
			    fabs(remainder(json_real_value(json_array_get(hd, i)) - q.heading_rad,
					   2.0 * M_PI)));
		/* curvature well inside the straights (truth 0 within +-15 m) */
		if (fabs(track_curvature(trk, s - 15.0)) + fabs(track_curvature(trk, s + 15.0)) +
			    fabs(q.curvature_1pm) ==
		    0.0)
			kmax_straight =
				fmax(kmax_straight, fabs(json_real_value(json_array_get(cv, i))));
	}
	fprintf(stderr,
		"  %s: centre vs truth max %.3f m mean %.3f m; length %.2f (true %.2f) m; "
		"width err max %.3f m; heading err max %.4f rad; |k| on straights max %.5f 1/m\n",
		what, dmax, dsum / (double)n, len, tlen, wmax, hmax, kmax_straight);
	T_CHECKF(dmax < CENTRE_TOL_M, "centre max %.3f m", dmax);
	T_CHECK(wmax < 0.05);
	T_CHECK(hmax < 0.04);
	T_CHECK(kmax_straight < 0.0005);

	T_CHECKF((int)json_array_size(corners) == track_corner_count(trk), "%zu corners, true %d",
		 json_array_size(corners), track_corner_count(trk));
	for (size_t i = 0; i < json_array_size(corners) && (int)i < track_corner_count(trk); i++) {
		json_t *c = json_array_get(corners, i);
		const struct track_corner *t = track_corner(trk, (int)i);
		const char *dir = json_string_value(json_object_get(c, "direction"));
		double ang = num(c, "angle_deg"), r = num(c, "min_radius_m");
		double ap = num(c, "apex_dist_m"), en = num(c, "entry_dist_m"),
		       ex = num(c, "exit_dist_m");
		json_t *apex = json_object_get(c, "apex");
		struct track_point q;

		double tap = true_apex(t);

		track_sample(trk, tap, &q);
		T_CHECK(num(c, "index") == (double)(i + 1));
		T_CHECKF(strcmp(dir, t->direction > 0 ? "right" : "left") == 0, "T%zu %s", i + 1,
			 dir);
		amax = fmax(amax, fabs(ang - t->angle_deg));
		rmax = fmax(rmax, fabs(r / t->min_radius_m - 1.0));
		apmax = fmax(apmax, wrapped_gap(ap, tap, tlen));
		apsim = fmax(apsim, wrapped_gap(ap, t->apex_m, tlen));
		enmax = fmax(enmax, wrapped_gap(en, t->start_m, tlen));
		exmax = fmax(exmax, wrapped_gap(ex, t->end_m, tlen));
		T_CHECK(hypot(json_real_value(json_array_get(apex, 0)) - q.x_m,
			      json_real_value(json_array_get(apex, 1)) - q.z_m) < 5.0);
		if (getenv("PW_TRACK_VERBOSE"))
			fprintf(stderr,
				"   T%zu %s ang %.1f/%.1f R %.1f/%.1f apex %.1f/%.1f (track.h "
				"%.1f) entry %.1f/%.1f exit %.1f/%.1f\n",
				i + 1, dir, ang, t->angle_deg, r, t->min_radius_m, ap, tap,
				t->apex_m, en, t->start_m, ex, t->end_m);
	}
	fprintf(stderr,
		"  %s: %zu corners (true %d); worst angle err %.2f deg, radius err %.1f%%, "
		"apex %.1f m (%.1f m from track.h's apex_m), entry %.1f m, exit %.1f m\n",
		what, json_array_size(corners), track_corner_count(trk), amax, 100.0 * rmax, apmax,
		apsim, enmax, exmax);
	T_CHECK(amax < 3.0);
	T_CHECK(rmax < 0.10);
	T_CHECK(apmax < 5.0);
	T_CHECK(enmax < 10.0 && exmax < 10.0);

	T_CHECK(json_array_size(sec) == 3);
	for (size_t i = 0; i < json_array_size(sec) && i < 3; i++) {
		json_t *s = json_array_get(sec, i);

		T_CHECK(num(s, "index") == (double)(i + 1));
		T_CHECKF(wrapped_gap(num(s, "start_dist_m"), track_sector_start_m(trk, (int)i),
				     tlen) < 2.0,
			 "sector %zu at %.1f m, true %.1f m", i + 1, num(s, "start_dist_m"),
			 track_sector_start_m(trk, (int)i));
	}
	T_NEAR(num(json_array_get(sec, 2), "end_dist_m"), len, 1e-9);
	free(tp.x);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void one_lap_each(double rate_hz, const char *what)
{
	struct frames l = sim_run(DRIVER_LEFT, rate_hz, 0.0, 1.0, SEED);
	struct frames r = sim_run(DRIVER_RIGHT, rate_hz, 0.0, 1.0, SEED + 1);
	struct an_err err;
	double t0 = now_ms();
	json_t *m = build(&l, "left", &r, "right", &err);
	double ms = now_ms() - t0;

	T_CHECKF(m != NULL, "%s: %s", err.code, err.message);
	fprintf(stderr, "  %s: %zu + %zu frames, built in %.1f ms\n", what, l.n, r.n, ms);
	if (m)
		check_truth(m, what);
	json_decref(m);
	free(l.f);
	free(r.f);
}

static void test_one_lap_each_60hz(void)
{
	one_lap_each(60.0, "60 Hz");
}

static void test_one_lap_each_333hz(void)
{
	one_lap_each(333.0, "333 Hz");
}

/* Runs starting mid-lap: the first complete lap by the counter is used (lap
 * 1 of the left run), so the start/finish line is the game's. */
static void test_counter_lap(void)
{
	struct frames l = sim_run(DRIVER_LEFT, 60.0, 0.4, 2.6, SEED);
	struct frames r = sim_run(DRIVER_RIGHT, 60.0, 0.7, 2.2, SEED + 1);
	struct an_err err;
	json_t *m = build(&l, "left", &r, "right", &err);

	T_CHECKF(m != NULL, "%s: %s", err.code, err.message);
	if (m)
		check_truth(m, "counter lap");
	json_decref(m);
	free(l.f);
	free(r.f);
}

/* No complete counter lap: the left run closes on position from its first
 * point (0.3 lap) and is rotated to the game's line where lap 0 -> 1. */
static void test_closed_on_position(void)
{
	struct frames l = sim_run(DRIVER_LEFT, 60.0, 0.3, 1.35, SEED);
	struct frames r = sim_run(DRIVER_RIGHT, 60.0, 0.55, 1.6, SEED + 1);
	struct an_err err;
	json_t *m;

	for (size_t i = 0; i < r.n; i++) /* a feed without a lap counter at all */
		r.f[i].present &= ~(uint64_t)(FRAME_P_LAP | FRAME_P_SPLINE | FRAME_P_SECTOR);
	m = build(&l, "left", &r, "right", &err);
	T_CHECKF(m != NULL, "%s: %s", err.code, err.message);
	if (m)
		check_truth(m, "closed on position");
	json_decref(m);
	free(l.f);
	free(r.f);
}

/*
 * Neither run has a lap counter, spline or sectors, and the left one starts
 * in the middle of T1: the line is there, T1 spans it (exit < entry) and
 * comes last, the others follow in driving order; three equal sectors.
 */
static void test_corner_across_the_line(void)
{
	const struct track_corner *t1 = track_corner(trk, 0);
	double mid = 0.5 * (t1->start_m + t1->end_m) / track_length_m(trk);
	struct frames l = sim_run(DRIVER_LEFT, 60.0, mid, 1.0 + mid + 0.1, SEED);
	struct frames r = sim_run(DRIVER_RIGHT, 60.0, 0.5, 1.6, SEED + 1);
	uint64_t strip = FRAME_P_LAP | FRAME_P_SPLINE | FRAME_P_SECTOR | FRAME_P_LAP_DIST;
	struct an_err err;
	json_t *m, *corners, *last;
	int nc = track_corner_count(trk);

	for (size_t i = 0; i < l.n; i++)
		l.f[i].present &= ~strip;
	for (size_t i = 0; i < r.n; i++)
		r.f[i].present &= ~strip;
	m = build(&l, "left", &r, "right", &err);
	T_CHECKF(m != NULL, "%s: %s", err.code, err.message);
	if (!m)
		goto out;
	corners = json_object_get(m, "corners");
	T_CHECK((int)json_array_size(corners) == nc);
	for (int i = 0; i < nc && i < (int)json_array_size(corners); i++) {
		const struct track_corner *t = track_corner(trk, (i + 1) % nc);
		json_t *c = json_array_get(corners, (size_t)i);

		T_CHECK(strcmp(json_string_value(json_object_get(c, "direction")),
			       t->direction > 0 ? "right" : "left") == 0);
		T_CHECKF(fabs(num(c, "angle_deg") - t->angle_deg) < 3.0, "corner %d %.1f vs %.1f",
			 i + 1, num(c, "angle_deg"), t->angle_deg);
		if (i > 0)
			T_CHECK(num(c, "entry_dist_m") >
				num(json_array_get(corners, (size_t)i - 1), "entry_dist_m"));
	}
	last = json_array_get(corners, (size_t)nc - 1);
	T_CHECK(num(last, "exit_dist_m") < num(last, "entry_dist_m"));
	T_CHECK(num(last, "entry_dist_m") > num(m, "length_m") - 40.0);
	T_CHECK(num(last, "exit_dist_m") < 40.0);
	T_NEAR(num(json_array_get(json_object_get(m, "sectors"), 1), "start_dist_m"),
	       num(m, "length_m") / 3.0, 1e-9);
	fprintf(stderr, "  line inside T1: T1 last, entry %.1f exit %.1f of %.1f m, %.1f deg\n",
		num(last, "entry_dist_m"), num(last, "exit_dist_m"), num(m, "length_m"),
		num(last, "angle_deg"));
	json_decref(m);
out:
	free(l.f);
	free(r.f);
}

/* No sector channel in either run: three equal sectors. */
static void test_equal_sectors(void)
{
	struct frames l = sim_run(DRIVER_LEFT, 60.0, 0.0, 1.0, SEED);
	struct frames r = sim_run(DRIVER_RIGHT, 60.0, 0.0, 1.0, SEED + 1);
	struct an_err err;
	json_t *m, *sec;

	for (size_t i = 0; i < l.n; i++)
		l.f[i].present &= ~(uint64_t)FRAME_P_SECTOR;
	for (size_t i = 0; i < r.n; i++)
		r.f[i].present &= ~(uint64_t)FRAME_P_SECTOR;
	m = build(&l, "left", &r, "right", &err);
	T_CHECK(m != NULL);
	sec = json_object_get(m, "sectors");
	T_CHECK(json_array_size(sec) == 3);
	for (size_t i = 0; i < json_array_size(sec); i++) {
		T_NEAR(num(json_array_get(sec, i), "start_dist_m"), num(m, "length_m") * i / 3.0,
		       1e-9);
		T_NEAR(num(json_array_get(sec, i), "end_dist_m"),
		       num(m, "length_m") * (i + 1) / 3.0, 1e-9);
	}
	json_decref(m);
	free(l.f);
	free(r.f);
}

/* The same path driven the other way: frames in reverse order, every bend
 * turning the other way (lateral g and steering negated). */
static void reverse_frames(struct frames *fs)
{
	for (size_t i = 0, j = fs->n - 1; i < j; i++, j--) {
		struct pw_frame t = fs->f[i];

		fs->f[i] = fs->f[j];
		fs->f[j] = t;
	}
	for (size_t i = 0; i < fs->n; i++) {
		fs->f[i].accel_lat_g = -fs->f[i].accel_lat_g;
		fs->f[i].steer = -fs->f[i].steer;
		fs->f[i].steer_deg = -fs->f[i].steer_deg;
	}
}

/* The right boundary driven the other way round: reversed to the left run's
 * direction, the same model. The left one driven backwards instead: the left
 * run sets the direction, so "left" lies on the right - refused. */
static void test_opposite_directions(void)
{
	struct frames l = sim_run(DRIVER_LEFT, 60.0, 0.0, 1.0, SEED);
	struct frames r = sim_run(DRIVER_RIGHT, 60.0, 0.0, 1.0, SEED + 1);
	struct an_err err;
	json_t *m;

	reverse_frames(&r);
	m = build(&l, "left", &r, "right", &err);
	T_CHECKF(m != NULL, "%s: %s", err.code, err.message);
	if (m)
		check_truth(m, "right run reversed");
	json_decref(m);

	reverse_frames(&r);
	reverse_frames(&l);
	m = build(&l, "left", &r, "right", &err);
	T_CHECK(m == NULL);
	T_CHECK(err.code && strcmp(err.code, AN_E_NOT_QUALIFIED) == 0);
	T_CHECKF(strstr(err.message, "opposite directions") != NULL, "%s", err.message);
	fprintf(stderr, "  left run reversed: %s\n", err.message);
	json_decref(m);
	free(l.f);
	free(r.f);
}

static int passes(const struct frames *fs, size_t i, double p)
{
	return i > 0 && progress(&fs->f[i]) >= p && progress(&fs->f[i - 1]) < p;
}

/*
 * A teleport (200 frames 800 m away) spoils lap 1 of the left run, so lap 2
 * is the lap used; it holds a pause (paused frames at the origin), a stop
 * (the car standing 60 s with position noise) and a pit-flagged detour 40 m
 * off the boundary.
 */
static void test_pause_stop_and_glitches(void)
{
	struct frames src = sim_run(DRIVER_LEFT, 333.0, 0.0, 3.0, SEED);
	struct frames l = { 0 }, r = sim_run(DRIVER_RIGHT, 333.0, 0.0, 1.0, SEED + 1);
	struct an_err err;
	uint64_t rng = 88172645463325252ull;
	json_t *m;

	for (size_t i = 0; i < src.n; i++) {
		struct pw_frame f = src.f[i], g = f;
		double p = progress(&f);

		if (passes(&src, i, 1.5))
			for (int k = 0; k < 200; k++) {
				g.pos_m[0] = f.pos_m[0] + 800.0f;
				push(&l, &g);
			}
		if (passes(&src, i, 2.3)) {
			g.flags |= FRAME_FLAG_PAUSED;
			g.pos_m[0] = g.pos_m[2] = 0.0f;
			for (int k = 0; k < 3000; k++)
				push(&l, &g);
			g = f;
			g.speed_kmh = 0.0f;
			for (int k = 0; k < 20000; k++) {
				rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
				g.pos_m[0] =
					f.pos_m[0] +
					(float)((double)(rng & 0xffff) / 65535.0 - 0.5) * 0.02f;
				g.pos_m[2] = f.pos_m[2] +
					     (float)((double)(rng >> 48) / 65535.0 - 0.5) * 0.02f;
				push(&l, &g);
			}
		}
		if (p >= 2.6 && p < 2.62) {
			g = f;
			g.flags |= FRAME_FLAG_IN_PIT;
			g.pos_m[0] += 40.0f;
			push(&l, &g);
		}
		push(&l, &f);
	}
	m = build(&l, "left", &r, "right", &err);
	T_CHECKF(m != NULL, "%s: %s", err.code, err.message);
	if (m)
		check_truth(m, "teleport, pause, stop, pit");
	json_decref(m);

	/* the same left run cut before lap 2 ends: the teleport spoils lap 1,
	 * the only complete lap by the counter, so the lap is found on
	 * position: from the first point (the line) round to the line, before
	 * the jump */
	l.n = 0;
	for (size_t i = 0; i < src.n && progress(&src.f[i]) < 1.9; i++) {
		struct pw_frame g = src.f[i];

		if (passes(&src, i, 1.5))
			for (int k = 0; k < 200; k++) {
				g.pos_m[0] = src.f[i].pos_m[0] + 800.0f;
				push(&l, &g);
			}
		push(&l, &src.f[i]);
	}
	m = build(&l, "left", &r, "right", &err);
	T_CHECKF(m != NULL, "%s: %s", err.code, err.message);
	if (m)
		check_truth(m, "lap before a teleport");
	json_decref(m);
	free(src.f);
	free(l.f);
	free(r.f);
}

static void test_labels(void)
{
	struct frames l = sim_run(DRIVER_LEFT, 60.0, 0.0, 1.0, SEED);
	struct frames r = sim_run(DRIVER_RIGHT, 60.0, 0.0, 1.0, SEED + 1);
	struct an_err err;
	json_t *m;

	m = build(&r, " Right ", &l, "LEFT", &err); /* any order, any case */
	T_CHECKF(m != NULL, "%s: %s", err.code, err.message);
	T_CHECK(json_array_size(json_object_get(m, "corners")) == (size_t)track_corner_count(trk));
	json_decref(m);

	m = build(&l, "right", &r, "left", &err); /* swapped */
	T_CHECK(m == NULL && strcmp(err.code, AN_E_NOT_QUALIFIED) == 0);
	T_CHECKF(strstr(err.message, "labels swapped") != NULL, "%s", err.message);
	fprintf(stderr, "  swapped labels: %s\n", err.message);

	m = build(&l, "left", &r, "left", &err);
	T_CHECK(m == NULL && strcmp(err.code, AN_E_NOT_QUALIFIED) == 0);
	T_CHECK(strstr(err.message, "\"left\" and \"left\"") != NULL);
	m = build(&l, NULL, &r, "right", &err);
	T_CHECK(m == NULL && strcmp(err.code, AN_E_NOT_QUALIFIED) == 0);
	m = build(&l, "", &r, "", &err);
	T_CHECK(m == NULL && strcmp(err.code, AN_E_NOT_QUALIFIED) == 0);
	m = build(&l, "lefty", &r, "right", &err);
	T_CHECK(m == NULL && strcmp(err.code, AN_E_NOT_QUALIFIED) == 0);

	m = build(&l, "left", &l, "right", &err); /* one line labelled twice */
	T_CHECK(m == NULL && strcmp(err.code, AN_E_NOT_QUALIFIED) == 0);
	T_CHECKF(strstr(err.message, "same line") != NULL, "%s", err.message);
	free(l.f);
	free(r.f);
}

static void expect_refused(struct frames *l, struct frames *r, const char *needle)
{
	struct an_err err;
	json_t *m = build(l, "left", r, "right", &err);

	T_CHECK(m == NULL);
	T_CHECK(err.code && strcmp(err.code, AN_E_NOT_QUALIFIED) == 0);
	T_CHECKF(strstr(err.message, needle) != NULL, "wanted \"%s\" in: %s", needle, err.message);
	json_decref(m);
}

static void test_run_count(void)
{
	struct frames l = sim_run(DRIVER_LEFT, 60.0, 0.0, 1.0, SEED);
	struct an_run runs[3] = {
		{ .label = "left", .frames = l.f, .n = l.n },
		{ .label = "right", .frames = l.f, .n = l.n },
		{ .label = "right", .frames = l.f, .n = l.n },
	};
	struct an_input in = { .runs = runs, .nruns = 1 };
	struct an_err err;

	T_CHECK(an_track_build(&in, "g", "t", &err) == NULL);
	T_CHECK(strcmp(err.code, AN_E_NOT_QUALIFIED) == 0 && strstr(err.message, "has 1") != NULL);
	in.nruns = 3;
	T_CHECK(an_track_build(&in, "g", "t", &err) == NULL);
	T_CHECK(strcmp(err.code, AN_E_NOT_QUALIFIED) == 0 && strstr(err.message, "has 3") != NULL);
	in.nruns = 0;
	T_CHECK(an_track_build(&in, "g", "t", &err) == NULL);
	T_CHECK(strcmp(err.code, AN_E_NOT_QUALIFIED) == 0);
	T_CHECK(an_track_build(NULL, "g", "t", &err) == NULL);
	T_CHECK(strcmp(err.code, AN_E_BAD_INPUT) == 0);
	free(l.f);
}

static void test_unusable_runs(void)
{
	struct frames l = sim_run(DRIVER_LEFT, 60.0, 0.0, 1.0, SEED);
	struct frames r = sim_run(DRIVER_RIGHT, 60.0, 0.0, 1.0, SEED + 1);
	struct frames x = { 0 };

	expect_refused(&l, &x, "right has no world positions"); /* empty run */
	push(&x, &l.f[100]);
	expect_refused(&x, &r, "left has no usable positions"); /* one frame */
	x.n = 0;
	for (size_t i = 0; i < l.n; i++) { /* no positions */
		struct pw_frame f = l.f[i];

		f.present &= ~(uint64_t)FRAME_P_POS;
		push(&x, &f);
	}
	expect_refused(&l, &x, "right has no world positions");
	for (size_t i = 0; i < x.n; i++) { /* all paused */
		x.f[i].present |= FRAME_P_POS;
		x.f[i].flags |= FRAME_FLAG_PAUSED;
	}
	expect_refused(&l, &x, "right has no usable positions");
	x.n = 300; /* 5 s */
	for (size_t i = 0; i < x.n; i++)
		x.f[i].flags = 0;
	expect_refused(&l, &x, "covers only");
	free(x.f);
	x = sim_run(DRIVER_RIGHT, 60.0, 0.0, 0.7, SEED + 1); /* not closed */
	expect_refused(&l, &x, "right has no closed lap");
	free(x.f);
	free(l.f);
	free(r.f);
}

/* Exactly the keys of analysis.h, names from the caller or the input. */
static void test_shape(void)
{
	static const char *const keys[] = {
		"game",           "track_name",       "source",      "created_at",
		"length_m",       "sample_spacing_m", "center_line", "left_boundary",
		"right_boundary", "track_width",      "heading",     "curvature",
		"corners",        "sectors",
	};
	static const char *const corner_keys[] = {
		"index",       "direction", "entry_dist_m", "apex_dist_m",
		"exit_dist_m", "angle_deg", "min_radius_m", "apex",
	};
	struct frames l = sim_run(DRIVER_LEFT, 60.0, 0.0, 1.0, SEED);
	struct frames r = sim_run(DRIVER_RIGHT, 60.0, 0.0, 1.0, SEED + 1);
	struct an_run runs[2] = {
		{ .label = "left", .frames = l.f, .n = l.n },
		{ .label = "right", .frames = r.f, .n = r.n },
	};
	struct an_input in = {
		.game = "pw_sim", .track = "pitwall_ring", .runs = runs, .nruns = 2
	};
	struct an_err err;
	json_t *m = an_track_build(&in, "assetto_corsa", NULL, &err), *c;
	const char *at;

	T_CHECK(m != NULL);
	if (!m)
		return;
	T_CHECK(json_object_size(m) == sizeof keys / sizeof keys[0]);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		T_CHECKF(json_object_get(m, keys[i]) != NULL, "%s", keys[i]);
	T_CHECK(strcmp(json_string_value(json_object_get(m, "game")), "assetto_corsa") == 0);
	T_CHECK(strcmp(json_string_value(json_object_get(m, "track_name")), "pitwall_ring") == 0);
	T_CHECK(strcmp(json_string_value(json_object_get(m, "source")), "boundary_recording") == 0);
	at = json_string_value(json_object_get(m, "created_at"));
	T_CHECK(at && strlen(at) == 20 && at[4] == '-' && at[10] == 'T' && at[19] == 'Z');
	c = json_array_get(json_object_get(m, "corners"), 0);
	T_CHECK(json_object_size(c) == sizeof corner_keys / sizeof corner_keys[0]);
	for (size_t i = 0; i < sizeof corner_keys / sizeof corner_keys[0]; i++)
		T_CHECKF(json_object_get(c, corner_keys[i]) != NULL, "%s", corner_keys[i]);
	T_CHECK(json_array_size(json_object_get(c, "apex")) == 2);
	T_CHECK(json_array_size(json_array_get(json_object_get(m, "center_line"), 0)) == 2);
	json_decref(m);
	in.game = NULL;
	m = an_track_build(&in, NULL, "ring", &err);
	T_CHECK(m && strcmp(json_string_value(json_object_get(m, "game")), "") == 0);
	T_CHECK(m && strcmp(json_string_value(json_object_get(m, "track_name")), "ring") == 0);
	json_decref(m);
	free(l.f);
	free(r.f);
}

/* --- real capture: Assetto Corsa, Monza --- */

static struct frames monza_frames(void)
{
	size_t len;
	unsigned char *raw = t_read_file(t_data_path(MONZA_PATH), &len);
	struct frames fs = { 0 };
	struct dec_state *st = calloc(1, sizeof *st);
	struct pw_frame f;

	if (raw && len == (size_t)MONZA_NPKT * MONZA_PKT && st) {
		dec_reset(st);
		for (size_t i = 0; i < MONZA_NPKT; i++)
			if (dec_ksudp.decode(st, raw + i * MONZA_PKT, MONZA_PKT, &f) == DEC_FRAME)
				push(&fs, &f);
	}
	free(st);
	free(raw);
	return fs;
}

/* The capture as recorded: out of the pit box at spline 0.043, round to the
 * line, stops at spline 0.050 of lap 1. The pit lane runs beside the main
 * straight, so the path never comes back to where it started. */
static void test_monza_not_closed(void)
{
	struct frames fs = monza_frames();
	struct an_err err;
	json_t *m;

	T_CHECK(fs.n == MONZA_NPKT);
	m = build(&fs, "left", &fs, "right", &err);
	T_CHECK(m == NULL && err.code && strcmp(err.code, AN_E_NOT_QUALIFIED) == 0);
	T_CHECKF(strstr(err.message, "left has no closed lap") != NULL, "%s", err.message);
	fprintf(stderr, "  monza as recorded: %s\n", err.message);
	free(fs.f);
}

/* Direction of travel at frame i of the line, from positions >= 5 m away. */
static void line_tangent(const struct frames *fs, size_t a, size_t b, size_t i, double *tx,
			 double *tz)
{
	size_t lo = i, hi = i;
	double dx, dz, l;

	while (lo > a && hypot(fs->f[i].pos_m[0] - fs->f[lo].pos_m[0],
			       fs->f[i].pos_m[2] - fs->f[lo].pos_m[2]) < 5.0)
		lo--;
	while (hi + 1 < b && hypot(fs->f[hi].pos_m[0] - fs->f[i].pos_m[0],
				   fs->f[hi].pos_m[2] - fs->f[i].pos_m[2]) < 5.0)
		hi++;
	dx = fs->f[hi].pos_m[0] - fs->f[lo].pos_m[0];
	dz = fs->f[hi].pos_m[2] - fs->f[lo].pos_m[2];
	l = hypot(dx, dz);
	*tx = dx / l;
	*tz = dz / l;
}

/*
 * Boundaries from the real racing line: frames from where the out-lap has
 * joined the track (lap 0, spline >= 0.10) to the end, plus a straight
 * bridge back (the main straight, 290 m), each moved 5 m to the car's left
 * and right. hand: the side the car's right is on, +1 = (tz, -tx) as in the
 * emulator's axes; AC's x/z are mirrored (dec_ksudp.c: clockwise Monza
 * turns +370 deg in atan2(dz, dx)), so its right is hand = -1.
 */
static void monza_boundaries(const struct frames *fs, int hand, struct frames *l, struct frames *r,
			     struct frames *line)
{
	size_t a = 0, b = fs->n;

	line->n = l->n = r->n = 0;
	while (a < fs->n && (fs->f[a].lap != 0 || fs->f[a].spline < 0.10f))
		a++;
	for (size_t i = a; i < b; i++)
		push(line, &fs->f[i]);
	{
		struct pw_frame g = fs->f[b - 1];
		double x0 = g.pos_m[0], z0 = g.pos_m[2], x1 = fs->f[a].pos_m[0],
		       z1 = fs->f[a].pos_m[2];
		int steps = (int)(hypot(x1 - x0, z1 - z0) / 1.0);

		for (int k = 1; k < steps; k++) {
			g.pos_m[0] = (float)(x0 + (x1 - x0) * k / steps);
			g.pos_m[2] = (float)(z0 + (z1 - z0) * k / steps);
			push(line, &g);
		}
	}
	for (size_t i = 0; i < line->n; i++) {
		struct pw_frame f = line->f[i];
		double tx, tz, rx, rz;

		line_tangent(line, 0, line->n, i, &tx, &tz);
		rx = hand * tz * MONZA_OFFSET_M;
		rz = -hand * tx * MONZA_OFFSET_M;
		f.pos_m[0] = (float)(line->f[i].pos_m[0] - rx);
		f.pos_m[2] = (float)(line->f[i].pos_m[2] - rz);
		push(l, &f);
		f.pos_m[0] = (float)(line->f[i].pos_m[0] + rx);
		f.pos_m[2] = (float)(line->f[i].pos_m[2] + rz);
		push(r, &f);
	}
}

/* Distance from (x, z) to the line's polyline. */
static double line_dist(const struct frames *line, double x, double z)
{
	double best = INFINITY;

	for (size_t j = 0; j + 1 < line->n; j++) {
		double ax = line->f[j].pos_m[0], az = line->f[j].pos_m[2];
		double dx = line->f[j + 1].pos_m[0] - ax, dz = line->f[j + 1].pos_m[2] - az;
		double l2 = dx * dx + dz * dz,
		       t = l2 > 0 ? ((x - ax) * dx + (z - az) * dz) / l2 : 0.0;

		t = fmin(fmax(t, 0.0), 1.0);
		best = fmin(best, hypot(ax + t * dx - x, az + t * dz - z));
	}
	return best;
}

static void test_monza_offset_boundaries(void)
{
	struct frames fs = monza_frames(), l = { 0 }, r = { 0 }, line = { 0 };
	struct an_err err;
	json_t *m, *corners, *cl;
	double len, turn = 0.0, biggest = 0.0, dmax = 0.0, dsum = 0.0, wmax = 0.0, at = 0.0;
	size_t rights = 0, n;
	char dirs[64] = "";

	/* sides taken in the emulator's axes are the wrong way round for AC */
	monza_boundaries(&fs, 1, &l, &r, &line);
	m = build(&l, "left", &r, "right", &err);
	T_CHECK(m == NULL && err.code && strcmp(err.code, AN_E_NOT_QUALIFIED) == 0);
	T_CHECKF(strstr(err.message, "labels swapped") != NULL, "%s", err.message);

	monza_boundaries(&fs, -1, &l, &r, &line);
	m = build(&l, "left", &r, "right", &err);
	T_CHECKF(m != NULL, "%s: %s", err.code, err.message);
	if (!m)
		goto out;
	len = num(m, "length_m");
	corners = json_object_get(m, "corners");
	cl = json_object_get(m, "center_line");
	n = json_array_size(cl);
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(cl, i);
		double d = line_dist(&line, json_real_value(json_array_get(p, 0)),
				     json_real_value(json_array_get(p, 1)));

		if (d > dmax)
			at = (double)i * num(m, "sample_spacing_m");
		dmax = fmax(dmax, d);
		dsum += d;
		wmax = fmax(
			wmax,
			fabs(json_real_value(json_array_get(json_object_get(m, "track_width"), i)) -
			     2.0 * MONZA_OFFSET_M));
		turn += json_real_value(json_array_get(json_object_get(m, "curvature"), i)) *
			num(m, "sample_spacing_m");
	}
	for (size_t i = 0; i < json_array_size(corners); i++) {
		json_t *c = json_array_get(corners, i);
		int right =
			strcmp(json_string_value(json_object_get(c, "direction")), "right") == 0;

		rights += right;
		biggest = fmax(biggest, num(c, "angle_deg"));
		snprintf(dirs + strlen(dirs), sizeof dirs - strlen(dirs), "%s", right ? "R" : "L");
	}
	fprintf(stderr,
		"  monza offset: length %.0f m, %zu corners %s, largest %.0f deg, total "
		"turn %.1f deg, centre vs line max %.2f m (at %.0f m) mean %.3f m, width err max "
		"%.2f m\n",
		len, json_array_size(corners), dirs, biggest, turn * 180.0 / M_PI, dmax, at,
		dsum / (double)n, wmax);
	for (size_t i = 0; getenv("PW_TRACK_VERBOSE") && i < json_array_size(corners); i++) {
		json_t *c = json_array_get(corners, i);

		fprintf(stderr, "   T%zu %s entry %.0f apex %.0f exit %.0f ang %.0f R %.0f\n",
			i + 1, json_string_value(json_object_get(c, "direction")),
			num(c, "entry_dist_m"), num(c, "apex_dist_m"), num(c, "exit_dist_m"),
			num(c, "angle_deg"), num(c, "min_radius_m"));
	}
	/* Monza GP is 5793 m on its centre line; the racing line cuts it */
	T_CHECKF(len > 5600.0 && len < 5850.0, "length %.0f", len);
	/* driven clockwise: one full turn to the right */
	T_NEAR(turn, 2.0 * M_PI, 1e-6);
	T_CHECKF(json_array_size(corners) >= 9 && json_array_size(corners) <= 13, "%zu",
		 json_array_size(corners));
	T_CHECK(rights > json_array_size(corners) / 2);
	T_CHECKF(biggest > 150.0 && biggest < 200.0, "Parabolica %.0f deg", biggest);
	T_CHECK(dmax < 0.3);
	T_CHECK(wmax < 0.3);
	json_decref(m);
out:
	free(fs.f);
	free(l.f);
	free(r.f);
	free(line.f);
}

int main(void)
{
	trk = track_new();
	if (!trk)
		return 1;
	T_RUN(test_one_lap_each_60hz);
	T_RUN(test_one_lap_each_333hz);
	T_RUN(test_counter_lap);
	T_RUN(test_closed_on_position);
	T_RUN(test_corner_across_the_line);
	T_RUN(test_equal_sectors);
	T_RUN(test_opposite_directions);
	T_RUN(test_pause_stop_and_glitches);
	T_RUN(test_labels);
	T_RUN(test_run_count);
	T_RUN(test_unusable_runs);
	T_RUN(test_shape);
	T_RUN(test_monza_not_closed);
	T_RUN(test_monza_offset_boundaries);
	track_free(trk);
	return T_DONE();
}
