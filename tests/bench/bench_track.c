/*
 * bench_track.c - track build time (issue: two 5-km boundary runs < 100 ms;
 * analyses: < 100 ms per 1.2 M frames).
 *
 * Cases, each built REPS times, best and mean printed:
 *   ring 333 Hz    pw-sim's left and right modes, one lap each (4.03 km,
 *                  ~41 k frames per run, with the emulator's noise)
 *   5 km 333 Hz    a synthetic 5.0 km loop (three lobes and a wiggle, 12 m
 *                  wide), boundaries driven at 120 km/h, ~50 k frames per run
 *   1.2 M frames   the ring runs repeated to 600 k frames each (15 laps, lap
 *                  counter advancing), the whole of both runs scanned
 * Prints figures and exits 0; a build that fails is reported and exits 1.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analysis.h"
#include "capture/sim/driver.h"
#include "common/clock.h"

#define REPS 10
#define RATE_HZ 333.0
#define LOOP_LEN_M 5000.0
#define LOOP_WIDTH_M 12.0
#define LOOP_SPEED_MS (120.0 / 3.6)
#define BIG_FRAMES 600000
#define TARGET_MS 100.0

struct frames {
	struct pw_frame *f;
	size_t n, cap;
};

static void push(struct frames *fs, const struct pw_frame *f)
{
	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? 2 * fs->cap : 65536;
		fs->f = realloc(fs->f, fs->cap * sizeof *fs->f);
		if (!fs->f)
			abort();
	}
	fs->f[fs->n++] = *f;
}

/* One lap of mode from the line back to it. */
static struct frames ring_lap(const struct track *t, enum driver_mode mode, uint64_t seed)
{
	struct driver *d = driver_new(mode, seed, car_default(), t);
	struct frames fs = { 0 };
	struct pw_frame f;

	if (!d)
		abort();
	for (int64_t k = 0;; k++) {
		driver_run_to(d, (int64_t)llround(k * 1000.0 / RATE_HZ));
		driver_frame(d, &f);
		push(&fs, &f);
		if (f.lap >= 1)
			break;
	}
	driver_free(d);
	return fs;
}

/* The synthetic loop's centre at parameter u in [0, 2 pi), before scaling. */
static void loop_point(double u, double *x, double *z)
{
	double r = 1.0 + 0.22 * sin(3.0 * u) + 0.04 * cos(7.0 * u);

	*x = r * sin(u);
	*z = r * cos(u);
}

/*
 * One lap along the loop's boundary at offset (+ right), clockwise, at
 * LOOP_SPEED_MS and RATE_HZ: centre tabulated finely, scaled to LOOP_LEN_M,
 * walked by arc length, lateral g from the curvature so the build can tell
 * which way is right.
 */
static struct frames synthetic_lap(double offset)
{
	enum { N = 200000 };
	double *x = malloc(N * sizeof *x), *z = malloc(N * sizeof *z), *s = malloc(N * sizeof *s);
	struct frames fs = { 0 };
	double scale, step = LOOP_SPEED_MS / RATE_HZ;
	size_t j = 0;

	if (!x || !z || !s)
		abort();
	s[0] = 0.0;
	for (int i = 0; i < N; i++) {
		loop_point(2.0 * M_PI * i / N, &x[i], &z[i]);
		if (i)
			s[i] = s[i - 1] + hypot(x[i] - x[i - 1], z[i] - z[i - 1]);
	}
	scale = LOOP_LEN_M / (s[N - 1] + hypot(x[0] - x[N - 1], z[0] - z[N - 1]));
	for (double at = 0.0; at <= LOOP_LEN_M; at += step) {
		size_t a, b, c;
		double tx, tz, l, k, cross, ab, bc;
		struct pw_frame f;

		while (j + 1 < N && s[j + 1] * scale <= at)
			j++;
		a = (j + N - 1) % N;
		b = j;
		c = (j + 1) % N;
		tx = x[c] - x[a];
		tz = z[c] - z[a];
		l = hypot(tx, tz);
		ab = hypot(x[b] - x[a], z[b] - z[a]);
		bc = hypot(x[c] - x[b], z[c] - z[b]);
		cross = (x[b] - x[a]) * (z[c] - z[b]) - (z[b] - z[a]) * (x[c] - x[b]);
		k = -2.0 * cross / (ab * bc * l) / scale; /* + right in the emulator's axes */
		memset(&f, 0, sizeof f);
		f.version = FRAME_VERSION;
		f.present = FRAME_P_POS | FRAME_P_ACCEL_LAT | FRAME_P_SPEED | FRAME_P_LAP;
		f.pos_m[0] = (float)(x[b] * scale + offset * tz / l);
		f.pos_m[2] = (float)(z[b] * scale - offset * tx / l);
		f.speed_kmh = (float)(LOOP_SPEED_MS * 3.6);
		f.accel_lat_g = (float)(LOOP_SPEED_MS * LOOP_SPEED_MS * k / 9.80665);
		push(&fs, &f);
	}
	free(x);
	free(z);
	free(s);
	return fs;
}

/* lap repeated until n frames, the lap counter advancing each time */
static struct frames repeat(const struct frames *lap, size_t n)
{
	struct frames fs = { 0 };

	for (size_t i = 0; fs.n < n; i++) {
		struct pw_frame f = lap->f[i % (lap->n - 1)];

		f.lap = (uint16_t)(f.lap + i / (lap->n - 1));
		push(&fs, &f);
	}
	return fs;
}

static int failures;

static void bench(const char *what, struct frames *l, struct frames *r)
{
	struct an_run runs[2] = {
		{ .label = "left", .frames = l->f, .n = l->n },
		{ .label = "right", .frames = r->f, .n = r->n },
	};
	struct an_input in = { .use_case = "track_mapping", .runs = runs, .nruns = 2 };
	double best = INFINITY, sum = 0.0, len = 0.0;
	size_t corners = 0;

	for (int i = 0; i < REPS; i++) {
		struct an_err err = { 0 };
		int64_t t0 = clock_mono_ns();
		json_t *m = an_track_build(&in, "bench", "bench", &err);
		double ms = (double)(clock_mono_ns() - t0) / 1e6;

		if (!m) {
			printf("track %-14s FAILED: %s: %s\n", what, err.code, err.message);
			failures++;
			return;
		}
		len = json_number_value(json_object_get(m, "length_m"));
		corners = json_array_size(json_object_get(m, "corners"));
		json_decref(m);
		best = fmin(best, ms);
		sum += ms;
	}
	printf("track %-14s %7zu + %7zu frames, %.0f m, %zu corners: best %.1f ms, mean %.1f ms "
	       "(target < %.0f ms) %s\n",
	       what, l->n, r->n, len, corners, best, sum / REPS, TARGET_MS,
	       best < TARGET_MS ? "ok" : "SLOW");
}

int main(void)
{
	struct track *t = track_new();
	struct frames l, r, bl, br;

	if (!t)
		return 1;
	l = ring_lap(t, DRIVER_LEFT, 1);
	r = ring_lap(t, DRIVER_RIGHT, 2);
	bench("ring 333 Hz", &l, &r);
	bl = repeat(&l, BIG_FRAMES);
	br = repeat(&r, BIG_FRAMES);
	bench("1.2 M frames", &bl, &br);
	free(bl.f);
	free(br.f);
	free(l.f);
	free(r.f);
	l = synthetic_lap(-0.5 * LOOP_WIDTH_M);
	r = synthetic_lap(0.5 * LOOP_WIDTH_M);
	bench("5 km 333 Hz", &l, &r);
	free(l.f);
	free(r.f);
	track_free(t);
	return failures ? 1 : 0;
}
