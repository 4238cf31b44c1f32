/*
 * test_an_car_grip.c - the car_grip analysis (analyze/car_grip.c) against
 * the emulator's ground truth, the real Assetto Corsa Monza capture and the
 * edge cases.
 *
 * Ground truth (capture/sim/car.h, driver.h): the built-in car has
 * grip_limit_g 1.45, brake_limit_g 1.60, traction_limit_g 1.10.
 * - cornering mode holds 99.5 % of the grip limit for 5 s on an 80 m circle,
 *   each repetition turning the other way, and ramps through every speed
 *   from 40 km/h on the way, where lateral g = v^2 / (80 m * g) exactly: the
 *   peak must be within 5 % of the grip limit (the demand; it is
 *   measured within 1 %) and every envelope bin below the hold speed must
 *   match v^2/R at the bin's upper edge.
 * - laps mode drives corners at 97 % of sqrt(mu g R), i.e. 0.97^2 = 94.1 %
 *   of the grip limit in lateral g, and plans braking at 92 % of the brake
 *   limit: the peaks are checked against those driven values, against the
 *   raw peaks of the data (at most 2 % below) and against the limits.
 * Every run goes through driver_frame(), so the emulator's sensor noise is
 * in the data; 60 Hz and 333 Hz are both checked.
 *
 * Real data: the Assetto Corsa Monza capture (tests/data/ac_remote, see
 * test_monza_real_capture for the figures and why they are plausible),
 * cross-checked with the path curvature and the speed change. Then the
 * filter against a brute-force median, spikes, impacts, excluded frames,
 * clocks, several runs, determinism, edge cases and the cost.
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
#include "common/pcap.h"
#include "tests/unit/t.h"

#define PCAP_PATH "ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap"
#define MONZA_PKTS 8641
#define SKIDPAD_R_M 80.0
#define HOLD_FRAC 0.995             /* driver.c SKIDPAD_HOLD_FRAC */
#define LAPS_LAT_FRAC (0.97 * 0.97) /* driver.c LAPS_SPEED_FRAC, squared */
#define LAPS_BRAKE_FRAC 0.92        /* driver.c PROFILE_BRAKE_FRAC */
#define SCATTER_MAX 800

/* --- helpers --- */

/* a relative to b, in percent */
static double pct(double a, double b)
{
	return 100.0 * (a / b - 1.0);
}

struct sim {
	struct pw_frame *f;
	size_t n;
};

/* Frames of mode at rate_hz for the given number of laps/repetitions (plus
 * a second), stamped with seq and t_ns like pw-capture would. */
static struct sim sim_run(enum driver_mode mode, uint64_t seed, double rate_hz, double laps)
{
	struct sim s = { NULL, 0 };
	struct track *t = track_new();
	struct driver *d = t ? driver_new(mode, seed, car_default(), t) : NULL;
	double seconds;
	size_t cap;

	if (!d)
		goto out;
	seconds = laps * driver_reference_lap_ms(d) / 1000.0 + 1.0;
	cap = (size_t)(seconds * rate_hz);
	s.f = malloc(cap * sizeof *s.f);
	if (!s.f)
		goto out;
	for (size_t k = 0; k < cap; k++) {
		driver_run_to(d, llround((double)k * 1000.0 / rate_hz));
		driver_frame(d, &s.f[k]);
		s.f[k].seq = k;
		s.f[k].t_ns = 1700000000000000000LL + driver_step(d) * 1000000LL;
		s.f[k].game = PW_GAME_AC;
		s.f[k].feed = PW_FEED_KSUDP;
	}
	s.n = cap;
out:
	driver_free(d);
	track_free(t);
	return s;
}

static json_t *grip_of(const struct pw_frame *f, size_t n, struct an_err *err)
{
	struct an_run run = { "run-1", "ksudp", "", f, n };
	struct an_input in = {
		"sess", "car_grip", "pitwall_gt3", "assetto_corsa", "", &run, 1, NULL
	};

	return an_car_grip(&in, err);
}

static double num(const json_t *o, const char *path)
{
	char key[64];
	const char *dot = strchr(path, '.');

	if (dot) {
		snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
		return num(json_object_get(o, key), dot + 1);
	}
	return json_number_value(json_object_get(o, path));
}

static const json_t *envelope_bin(const json_t *res, double centre_kmh)
{
	size_t i;
	json_t *b;

	json_array_foreach(json_object_get(res, "grip_envelope"), i, b)
		if (fabs(num(b, "speed_kmh") - centre_kmh) < 1e-9)
			return b;
	return NULL;
}

enum raw_axis { RAW_LAT, RAW_ACCEL, RAW_BRAKE };

/* The unfiltered peak of the frames at 10 km/h or more: the true peak of
 * the emulator's signal plus at most its +-0.003 g noise. */
static double raw_max(const struct pw_frame *f, size_t n, enum raw_axis axis)
{
	double m = 0.0;

	for (size_t i = 0; i < n; i++) {
		double v = axis == RAW_LAT     ? fabs(f[i].accel_lat_g)
			   : axis == RAW_ACCEL ? f[i].accel_lon_g
					       : -f[i].accel_lon_g;

		if (f[i].speed_kmh >= 10.0f && v > m)
			m = v;
	}
	return m;
}

static double raw_max_abs_lat(const struct pw_frame *f, size_t n)
{
	return raw_max(f, n, RAW_LAT);
}

/* Every key of the seed's v0.7.1 response, nothing else, with the right
 * types; envelope ascending by bin centre, counts adding up. */
static void check_shape(const json_t *res)
{
	static const char *const top[] = { "summary",       "grip_envelope",
					   "grip_circle",   "steering_response",
					   "runs_analyzed", "total_frames_analyzed" };
	static const char *const sum[] = { "max_lateral_g", "max_accel_g", "max_brake_g",
					   "max_combined_g", "peak_lateral_speed_kmh" };
	static const char *const bin[] = { "speed_kmh", "max_lateral_g", "max_accel_g",
					   "max_brake_g", "sample_count" };
	const json_t *s = json_object_get(res, "summary");
	json_t *e;
	size_t i, counted = 0;
	double last = 0.0;

	T_CHECK(json_is_object(res) && json_object_size(res) == 6);
	for (i = 0; i < 6; i++)
		T_CHECKF(json_object_get(res, top[i]) != NULL, "missing %s", top[i]);
	T_CHECK(json_is_object(s) && json_object_size(s) == 5);
	for (i = 0; i < 5; i++)
		T_CHECKF(json_is_number(json_object_get(s, sum[i])), "summary.%s", sum[i]);
	T_CHECK(json_is_integer(json_object_get(res, "runs_analyzed")));
	T_CHECK(json_is_integer(json_object_get(res, "total_frames_analyzed")));
	json_array_foreach(json_object_get(res, "grip_envelope"), i, e) {
		double c = num(e, "speed_kmh");

		T_CHECK(json_object_size(e) == 5);
		for (size_t k = 0; k < 5; k++)
			T_CHECKF(json_is_number(json_object_get(e, bin[k])), "bin %s", bin[k]);
		T_CHECK(json_is_integer(json_object_get(e, "sample_count")));
		T_CHECKF(fmod(c, 10.0) == 5.0 && c > last, "bin centre %.1f after %.1f", c, last);
		T_CHECK(num(e, "max_brake_g") >= 0.0 && num(e, "max_accel_g") >= 0.0);
		T_CHECK(num(e, "max_lateral_g") <= num(s, "max_lateral_g"));
		T_CHECK(num(e, "sample_count") >= 1.0);
		last = c;
		counted += (size_t)json_integer_value(json_object_get(e, "sample_count"));
	}
	T_CHECKF(counted == (size_t)num(res, "total_frames_analyzed"), "%zu counted", counted);
	json_array_foreach(json_object_get(res, "grip_circle"), i, e)
		T_CHECK(json_object_size(e) == 2 &&
			json_is_number(json_object_get(e, "longitudinal_g")) &&
			json_is_number(json_object_get(e, "lateral_g")));
	json_array_foreach(json_object_get(res, "steering_response"), i, e)
		T_CHECK(json_object_size(e) == 3 && json_is_number(json_object_get(e, "steer")) &&
			json_is_number(json_object_get(e, "lateral_g")) &&
			json_is_number(json_object_get(e, "speed_kmh")));
	T_CHECK(json_array_size(json_object_get(res, "grip_circle")) <= SCATTER_MAX);
	T_CHECK(json_array_size(json_object_get(res, "steering_response")) <= SCATTER_MAX);
	T_CHECK(num(s, "max_combined_g") >= num(s, "max_lateral_g") - 1e-9);
	T_CHECK(num(s, "max_combined_g") >= num(s, "max_brake_g") - 1e-9);
	T_CHECK(num(s, "max_combined_g") >= num(s, "max_accel_g") - 1e-9);
}

/* The grip circle's outermost point is the summary's max_combined_g, and
 * both lateral extremes of the summary are in it. */
static void check_circle_keeps_extremes(const json_t *res)
{
	double rmax = 0.0, latmax = 0.0;
	size_t i;
	json_t *p;

	json_array_foreach(json_object_get(res, "grip_circle"), i, p) {
		rmax = fmax(rmax, hypot(num(p, "longitudinal_g"), num(p, "lateral_g")));
		latmax = fmax(latmax, fabs(num(p, "lateral_g")));
	}
	T_NEAR(rmax, num(res, "summary.max_combined_g"), 0.0015);
	T_NEAR(latmax, num(res, "summary.max_lateral_g"), 1e-9);
}

/* --- ground truth: cornering --- */

static void check_cornering(double rate_hz, uint64_t seed)
{
	const struct car_spec *car = car_default();
	struct sim s = sim_run(DRIVER_CORNERING, seed, rate_hz, 2.0);
	struct an_err err = { 0 };
	json_t *res;
	double lat, left = 0.0, right = 0.0, worst_bin = 0.0;
	size_t i;
	json_t *p;

	T_CHECK(s.n > 0);
	res = grip_of(s.f, s.n, &err);
	T_CHECKF(res != NULL, "%s", err.message);
	if (!res)
		goto out;
	check_shape(res);
	check_circle_keeps_extremes(res);
	lat = num(res, "summary.max_lateral_g");
	fprintf(stderr,
		"# cornering %3.0f Hz: max_lateral_g %.3f vs grip limit %.3f (%+.2f %%), "
		"held %.3f (%+.2f %%); raw max %.3f; at %.1f km/h\n",
		rate_hz, lat, car->grip_limit_g, pct(lat, car->grip_limit_g),
		HOLD_FRAC * car->grip_limit_g, pct(lat, HOLD_FRAC * car->grip_limit_g),
		raw_max_abs_lat(s.f, s.n), num(res, "summary.peak_lateral_speed_kmh"));
	/* the issue: within 5 % of the grip limit; we do better than that */
	T_CHECKF(fabs(lat / car->grip_limit_g - 1.0) < 0.05, "%.3f", lat);
	T_CHECKF(fabs(lat / (HOLD_FRAC * car->grip_limit_g) - 1.0) < 0.01, "%.3f", lat);
	/* the hold speed: v = sqrt(a R) */
	T_NEAR(num(res, "summary.peak_lateral_speed_kmh"),
	       3.6 * sqrt(HOLD_FRAC * car->grip_limit_g * CAR_G * SKIDPAD_R_M), 1.0);
	/* both directions reach the limit (the repetitions alternate) */
	json_array_foreach(json_object_get(res, "grip_circle"), i, p) {
		right = fmax(right, num(p, "lateral_g"));
		left = fmax(left, -num(p, "lateral_g"));
	}
	T_CHECKF(right > 0.99 * HOLD_FRAC * car->grip_limit_g &&
			 left > 0.99 * HOLD_FRAC * car->grip_limit_g,
		 "left %.3f right %.3f", left, right);
	/* every bin below the hold speed: lateral g = v^2/R at the bin's top */
	for (double lo = 40.0; lo + 10.0 <= 120.0; lo += 10.0) {
		const json_t *b = envelope_bin(res, lo + 5.0);
		double hi_ms = (lo + 10.0) / 3.6, want = hi_ms * hi_ms / SKIDPAD_R_M / CAR_G;
		double got = b ? num(b, "max_lateral_g") : 0.0;

		T_CHECKF(b && fabs(got / want - 1.0) < 0.015, "bin %.0f: %.3f vs %.3f", lo, got,
			 want);
		worst_bin = fmax(worst_bin, fabs(got / want - 1.0));
	}
	fprintf(stderr,
		"# cornering %3.0f Hz: envelope bins 40..120 km/h within %.2f %% of "
		"v^2/R\n",
		rate_hz, 100.0 * worst_bin);
	/* no frame below 10 km/h here: everything is analysed */
	T_CHECK(num(res, "total_frames_analyzed") == (double)s.n);
	T_CHECK(num(res, "runs_analyzed") == 1.0);
	/* on a constant-radius circle steer and lateral g rise together */
	T_CHECK(json_array_size(json_object_get(res, "steering_response")) > SCATTER_MAX - 50);
	json_array_foreach(json_object_get(res, "steering_response"), i, p)
		if (fabs(num(p, "lateral_g")) > 0.3)
			T_CHECK(num(p, "steer") * num(p, "lateral_g") > 0.0);
	json_decref(res);
out:
	free(s.f);
}

static void test_cornering_60hz(void)
{
	check_cornering(60.0, 11);
}

static void test_cornering_333hz(void)
{
	check_cornering(333.0, 12);
}

/* --- ground truth: laps --- */

static void check_laps(double rate_hz, uint64_t seed)
{
	const struct car_spec *car = car_default();
	struct sim s = sim_run(DRIVER_LAPS, seed, rate_hz, 2.0);
	struct an_err err = { 0 };
	json_t *res;
	double lat, brake, accel, raw_lat, raw_brake, raw_accel;
	double driven_lat = LAPS_LAT_FRAC * car->grip_limit_g;
	double driven_brake = LAPS_BRAKE_FRAC * car->brake_limit_g;

	T_CHECK(s.n > 0);
	res = grip_of(s.f, s.n, &err);
	T_CHECKF(res != NULL, "%s", err.message);
	if (!res)
		goto out;
	check_shape(res);
	check_circle_keeps_extremes(res);
	lat = num(res, "summary.max_lateral_g");
	brake = num(res, "summary.max_brake_g");
	accel = num(res, "summary.max_accel_g");
	raw_lat = raw_max(s.f, s.n, RAW_LAT);
	raw_brake = raw_max(s.f, s.n, RAW_BRAKE);
	raw_accel = raw_max(s.f, s.n, RAW_ACCEL);
	fprintf(stderr,
		"# laps %3.0f Hz: max_lateral_g %.3f vs grip limit %.3f (%+.2f %%), driven "
		"%.3f (%+.2f %%), data peak %.3f (%+.2f %%)\n",
		rate_hz, lat, car->grip_limit_g, pct(lat, car->grip_limit_g), driven_lat,
		pct(lat, driven_lat), raw_lat, pct(lat, raw_lat));
	fprintf(stderr,
		"# laps %3.0f Hz: max_brake_g %.3f vs brake limit %.3f (%+.2f %%), driven "
		"%.3f (%+.2f %%), data peak %.3f (%+.2f %%)\n",
		rate_hz, brake, car->brake_limit_g, pct(brake, car->brake_limit_g), driven_brake,
		pct(brake, driven_brake), raw_brake, pct(brake, raw_brake));
	fprintf(stderr,
		"# laps %3.0f Hz: max_accel_g %.3f vs traction limit %.2f, data peak %.3f; "
		"max_combined_g %.3f; %zu bins\n",
		rate_hz, accel, car->traction_limit_g, raw_accel,
		num(res, "summary.max_combined_g"),
		json_array_size(json_object_get(res, "grip_envelope")));
	/* the peaks in the data: the raw maximum is a peak plus noise, and at
	 * the start of a braking zone a 1-2 frame overshoot of the driver's
	 * speed tracking (1.47 -> 1.35 -> 1.53 -> 1.49 g at 60 Hz) that the
	 * median does not keep: at most 2 % below */
	T_CHECKF(pct(lat, raw_lat) > -2.0 && lat <= raw_lat, "%.3f vs %.3f", lat, raw_lat);
	T_CHECKF(pct(brake, raw_brake) > -2.0 && brake <= raw_brake, "%.3f vs %.3f", brake,
		 raw_brake);
	T_CHECKF(pct(accel, raw_accel) > -2.0 && accel <= raw_accel, "%.3f vs %.3f", accel,
		 raw_accel);
	/* the driver takes corners at 97 % of the limit speed, 94.1 % of the
	 * grip limit in g (a little more where the speed tracking overshoots):
	 * the 5 % holds only just, so the driven value is the check */
	T_CHECKF(pct(lat, driven_lat) > -1.0 && pct(lat, driven_lat) < 2.5, "%.3f", lat);
	T_CHECKF(lat <= car->grip_limit_g && pct(lat, car->grip_limit_g) > -6.0, "%.3f", lat);
	/* braking zones planned at 92 % of the brake limit; the speed tracking
	 * asks for more when the car runs above the plan, ABS caps it at 100 % */
	T_CHECKF(pct(brake, driven_brake) > -1.0 && pct(brake, driven_brake) < 5.0, "%.3f", brake);
	T_CHECKF(brake <= car->brake_limit_g, "%.3f", brake);
	/* traction-limited launches out of slow corners */
	T_CHECKF(accel > 0.9 && accel <= car->traction_limit_g, "%.3f", accel);
	T_CHECK(num(res, "summary.max_combined_g") <= car->brake_limit_g);
	T_CHECK(json_array_size(json_object_get(res, "grip_circle")) > SCATTER_MAX - 50);
	json_decref(res);
out:
	free(s.f);
}

static void test_laps_60hz(void)
{
	check_laps(60.0, 21);
}

static void test_laps_333hz(void)
{
	check_laps(333.0, 22);
}

/* --- robustness --- */

/* Glitches of up to h frames (2 at 60 Hz, 4 at 333 Hz) every 397 frames
 * do not move the peaks; without the filter they would. */
static void check_spikes(double rate_hz, int width, uint64_t seed)
{
	struct sim s = sim_run(DRIVER_CORNERING, seed, rate_hz, 1.0);
	struct an_err err = { 0 };
	json_t *clean, *spiky;

	T_CHECK(s.n > 0);
	clean = grip_of(s.f, s.n, &err);
	for (size_t i = 100; i + width < s.n; i += 397)
		for (int k = 0; k < width; k++) {
			s.f[i + k].accel_lat_g = (i / 397) % 2 ? 4.0f : -4.0f;
			s.f[i + k].accel_lon_g = (i / 397) % 3 ? 3.0f : -3.5f;
		}
	T_CHECK(raw_max_abs_lat(s.f, s.n) >= 4.0);
	spiky = grip_of(s.f, s.n, &err);
	T_CHECK(clean && spiky);
	if (clean && spiky) {
		const char *keys[] = { "max_lateral_g", "max_accel_g", "max_brake_g",
				       "max_combined_g" };
		for (int k = 0; k < 4; k++) {
			double a = num(json_object_get(clean, "summary"), keys[k]);
			double b = num(json_object_get(spiky, "summary"), keys[k]);

			T_CHECKF(fabs(a - b) <= 0.01, "%s %.3f -> %.3f", keys[k], a, b);
		}
	}
	json_decref(clean);
	json_decref(spiky);
	free(s.f);
}

static void test_spikes_are_ignored(void)
{
	check_spikes(60.0, 1, 31);
	check_spikes(60.0, 2, 32); /* the 5-frame window outvotes 2 */
	check_spikes(333.0, 1, 33);
	check_spikes(333.0, 4, 34); /* the 9-frame window outvotes 4 (12 ms) */
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* The filter is the centred running median the docs describe, at every
 * window size (2h+1 = 5, 7, 9 at 60, 250, 333 Hz) and truncated at the
 * ends: random g values, peaks checked against a brute-force median. */
static void test_filter_is_the_running_median(void)
{
	static const double rates[] = { 60.0, 250.0, 333.0 };
	static const int halves[] = { 2, 3, 4 };
	enum { N = 600 };
	static struct pw_frame f[N];
	uint64_t x = 88172645463325252ull;

	for (int r = 0; r < 3; r++) {
		double want_lat = 0.0, want_acc = 0.0, want_brk = 0.0, want_comb = 0.0;
		struct an_err err = { 0 };
		json_t *res;
		int h = halves[r];

		for (int i = 0; i < N; i++) {
			frame_init(&f[i], PW_GAME_AC, PW_FEED_KSUDP);
			f[i].present = FRAME_P_SPEED | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON |
				       FRAME_P_GAME_TIME;
			f[i].game_time_s = i / rates[r];
			f[i].speed_kmh = 100.0f;
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			f[i].accel_lat_g = (float)((double)(x % 4001) / 1000.0 - 2.0);
			f[i].accel_lon_g = (float)((double)((x >> 20) % 3001) / 1000.0 - 1.5);
		}
		for (int i = 0; i < N; i++) {
			float wl[9], wo[9];
			int n = 0;
			double ml, mo;

			for (int j = i - h; j <= i + h; j++)
				if (j >= 0 && j < N) {
					wl[n] = f[j].accel_lat_g;
					wo[n++] = f[j].accel_lon_g;
				}
			qsort(wl, (size_t)n, sizeof wl[0], cmp_float);
			qsort(wo, (size_t)n, sizeof wo[0], cmp_float);
			ml = n % 2 ? wl[n / 2] : 0.5 * (wl[n / 2 - 1] + wl[n / 2]);
			mo = n % 2 ? wo[n / 2] : 0.5 * (wo[n / 2 - 1] + wo[n / 2]);
			want_lat = fmax(want_lat, fabs(ml));
			want_acc = fmax(want_acc, mo);
			want_brk = fmax(want_brk, -mo);
			want_comb = fmax(want_comb, hypot(ml, mo));
		}
		res = grip_of(f, N, &err);
		T_CHECKF(res != NULL, "%s", err.message);
		T_CHECKF(fabs(num(res, "summary.max_lateral_g") - want_lat) < 0.0005,
			 "%.0f Hz: %.3f vs %.3f", rates[r], num(res, "summary.max_lateral_g"),
			 want_lat);
		T_NEAR(num(res, "summary.max_accel_g"), want_acc, 0.0005);
		T_NEAR(num(res, "summary.max_brake_g"), want_brk, 0.0005);
		T_NEAR(num(res, "summary.max_combined_g"), want_comb, 0.0005);
		/* and it does filter: the raw values reach +-2 g */
		T_CHECK(want_lat < 1.9);
		json_decref(res);
	}
}

/* A sustained plateau keeps its full height: the filter is not biased low. */
static void test_plateau_not_biased(void)
{
	struct pw_frame f[40];
	struct an_err err = { 0 };
	json_t *res;

	for (int i = 0; i < 40; i++) {
		frame_init(&f[i], PW_GAME_AC, PW_FEED_KSUDP);
		f[i].present = FRAME_P_SPEED | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON;
		f[i].speed_kmh = 100.0f;
		f[i].accel_lat_g = i >= 10 && i < 16 ? -1.8f : -0.2f; /* 6 frames at 1.8 g left */
		f[i].accel_lon_g = i >= 30 && i < 36 ? -1.5f : 0.1f;
	}
	res = grip_of(f, 40, &err);
	T_CHECK(res != NULL);
	T_NEAR(num(res, "summary.max_lateral_g"), 1.8, 1e-6);
	T_NEAR(num(res, "summary.max_brake_g"), 1.5, 1e-6);
	T_NEAR(num(res, "summary.max_accel_g"), 0.1, 1e-6);
	T_NEAR(num(res, "summary.max_combined_g"), hypot(1.8, 0.1), 0.001);
	T_NEAR(num(res, "summary.peak_lateral_speed_kmh"), 100.0, 1e-9);
	T_CHECK(json_array_size(json_object_get(res, "grip_envelope")) == 1);
	T_NEAR(num(envelope_bin(res, 105.0), "sample_count"), 40, 0);
	/* 40 samples: every one is in the scatter (no steer: no steering points) */
	T_CHECK(json_array_size(json_object_get(res, "grip_circle")) == 40);
	T_CHECK(json_array_size(json_object_get(res, "steering_response")) == 0);
	json_decref(res);
}

/* Paused, pit, reverse, slow, channel-less and impact frames are left out;
 * each breaks the stretch of consecutive frames. */
static void test_excluded_frames(void)
{
	struct sim s = sim_run(DRIVER_CORNERING, 41, 60.0, 1.0);
	struct an_err err = { 0 };
	json_t *base, *res;
	size_t cut = 0;

	T_CHECK(s.n > 1000);
	base = grip_of(s.f, s.n, &err);
	/* pause from 1.35 g through the hold phase, where the peak is */
	{
		size_t from = 0, to = 0;

		for (size_t i = 0; i < s.n; i++)
			if (fabs(s.f[i].accel_lat_g) > 1.35) {
				from = from ? from : i;
				to = i;
			}
		T_CHECK(from > 100 && to > from);
		for (size_t i = from; i <= to; i++) {
			s.f[i].flags |= FRAME_FLAG_PAUSED;
			s.f[i].accel_lat_g *= 1.5f; /* what a replay camera might report */
			cut++;
		}
	}
	s.f[10].gear = -1;
	s.f[20].flags |= FRAME_FLAG_IN_PIT;
	s.f[30].present &= ~(uint64_t)FRAME_P_ACCEL_LON;
	s.f[40].speed_kmh = 5.0f;
	s.f[50].accel_lon_g = 25.0f; /* a wall: 9 frames (0.15 s) either side go too */
	res = grip_of(s.f, s.n, &err);
	T_CHECKF(res != NULL, "%s", err.message);
	if (res && base) {
		double lat = num(res, "summary.max_lateral_g");

		T_CHECKF(lat < 1.36 && lat > 1.3, "%.3f", lat);
		T_CHECK(num(res, "summary.max_brake_g") < 1.0);
		/* 4 single frames, the wall with 41..49 (the stretch since the slow
		 * frame at 40) and 51..59 */
		T_NEAR(num(res, "total_frames_analyzed"), (double)(s.n - cut - 4 - 19), 0);
		check_shape(res);
	}
	json_decref(base);
	json_decref(res);
	/* the same frames with the paused flag not reported by the game count */
	for (size_t i = 0; i < s.n; i++)
		s.f[i].flags_known &= (uint16_t)~FRAME_FLAG_PAUSED;
	res = grip_of(s.f, s.n, &err);
	T_CHECK(res && num(res, "summary.max_lateral_g") > 2.0);
	json_decref(res);
	free(s.f);
}

/* A kerb strike or collision: a vertical shock with lateral and
 * longitudinal readings far beyond grip, longer than the median window.
 * The frames within 0.15 s of the shock are left out, whatever the game's
 * resting vertical level (0 or 1 g); without a vertical channel the
 * event would count. */
static void test_vertical_shock(void)
{
	struct sim s = sim_run(DRIVER_CORNERING, 43, 60.0, 1.0);
	struct an_err err = { 0 };
	json_t *res;
	size_t at = s.n / 4;

	T_CHECK(s.n > 1000);
	for (size_t i = 0; i < s.n; i++)
		s.f[i].accel_vert_g += 1.0f;   /* a game that reports gravity */
	for (size_t i = at; i < at + 8; i++) { /* 133 ms at 60 Hz */
		s.f[i].accel_lat_g = -2.9f;
		s.f[i].accel_lon_g = 1.2f;
	}
	s.f[at + 3].accel_vert_g = 2.6f;
	s.f[at + 4].accel_vert_g = -0.4f;
	res = grip_of(s.f, s.n, &err);
	T_CHECKF(res != NULL, "%s", err.message);
	if (res) {
		T_CHECKF(num(res, "summary.max_lateral_g") < 1.45, "%.3f",
			 num(res, "summary.max_lateral_g"));
		T_CHECKF(num(res, "summary.max_accel_g") < 0.5, "%.3f",
			 num(res, "summary.max_accel_g"));
		/* at + 3 and at + 4, 9 frames before the first and after the last */
		T_NEAR(num(res, "total_frames_analyzed"), (double)(s.n - 2 - 9 - 9), 0);
	}
	json_decref(res);
	for (size_t i = 0; i < s.n; i++)
		s.f[i].present &= ~(uint64_t)FRAME_P_ACCEL_VERT;
	res = grip_of(s.f, s.n, &err);
	T_CHECK(res && num(res, "summary.max_lateral_g") > 2.8);
	json_decref(res);
	free(s.f);
}

/* Steer absent: the steering response is empty, the rest is intact; speed
 * from vel_ms when speed_kmh is absent. */
static void test_missing_channels(void)
{
	struct sim s = sim_run(DRIVER_CORNERING, 42, 60.0, 1.0);
	struct an_err err = { 0 };
	json_t *base, *res;

	base = grip_of(s.f, s.n, &err);
	for (size_t i = 0; i < s.n; i++)
		s.f[i].present &= ~(uint64_t)(FRAME_P_STEER | FRAME_P_SPEED);
	res = grip_of(s.f, s.n, &err);
	T_CHECKF(res != NULL, "%s", err.message);
	if (res && base) {
		T_CHECK(json_array_size(json_object_get(res, "steering_response")) == 0);
		T_NEAR(num(res, "summary.max_lateral_g"), num(base, "summary.max_lateral_g"),
		       0.002);
		T_NEAR(num(res, "summary.peak_lateral_speed_kmh"),
		       num(base, "summary.peak_lateral_speed_kmh"), 1.0);
		check_shape(res);
	}
	json_decref(res);
	/* neither speed nor velocity: nothing to bin by */
	for (size_t i = 0; i < s.n; i++)
		s.f[i].present &= ~(uint64_t)FRAME_P_VEL;
	res = grip_of(s.f, s.n, &err);
	T_CHECK(res == NULL && strcmp(err.code, AN_E_NO_DATA) == 0);
	T_CHECK(strstr(err.message, "without speed") != NULL);
	json_decref(base);
	free(s.f);
}

/* Runs are analysed together; a run with nothing usable is not counted;
 * stretches split by a clock jump or a rewind shorter than 3 frames drop. */
static void test_runs_and_clock(void)
{
	struct sim a = sim_run(DRIVER_CORNERING, 51, 60.0, 1.0);
	struct sim b = sim_run(DRIVER_LAPS, 52, 60.0, 0.5);
	struct pw_frame slow[10];
	struct an_run runs[3] = {
		{ "a", "ksudp", "", a.f, a.n },
		{ "b", "ksudp", "", b.f, b.n },
		{ "c", "ksudp", "", slow, 10 },
	};
	struct an_input in = { "s", "car_grip", "", "", "", runs, 3, NULL };
	struct an_err err = { 0 };
	json_t *res;

	memcpy(slow, a.f, sizeof slow);
	for (int i = 0; i < 10; i++)
		slow[i].speed_kmh = 3.0f;
	res = an_car_grip(&in, &err);
	T_CHECKF(res != NULL, "%s", err.message);
	if (res) {
		T_NEAR(num(res, "runs_analyzed"), 2, 0);
		T_NEAR(num(res, "total_frames_analyzed"), (double)(a.n + b.n), 0);
		check_shape(res);
	}
	json_decref(res);

	/* 4 frames, 2 + 2 around a 1 s hole: both stretches too short */
	{
		struct pw_frame f[4];

		memcpy(f, a.f + 100, sizeof f);
		res = grip_of(f, 4, &err);
		T_CHECK(res && num(res, "total_frames_analyzed") == 4.0);
		json_decref(res);
		f[2].game_time_s += 1.0;
		f[3].game_time_s += 1.0;
		res = grip_of(f, 4, &err);
		T_CHECK(res == NULL && strcmp(err.code, AN_E_NO_DATA) == 0);
		/* a rewind splits too */
		f[2].game_time_s -= 5.0;
		f[3].game_time_s -= 5.0;
		res = grip_of(f, 4, &err);
		T_CHECK(res == NULL);
		/* no game clock: the receive time is used */
		for (int i = 0; i < 4; i++)
			f[i].present &= ~(uint64_t)FRAME_P_GAME_TIME;
		res = grip_of(f, 4, &err);
		T_CHECK(res && num(res, "total_frames_analyzed") == 4.0);
		json_decref(res);
		f[3].t_ns += 2000000000LL;
		f[2].t_ns += 2000000000LL;
		res = grip_of(f, 4, &err);
		T_CHECK(res == NULL);
	}
	free(a.f);
	free(b.f);
}

/* Same input, same output (byte for byte). */
static void test_deterministic(void)
{
	struct sim s = sim_run(DRIVER_LAPS, 61, 60.0, 1.0);
	struct an_err err = { 0 };
	json_t *x = grip_of(s.f, s.n, &err), *y = grip_of(s.f, s.n, &err);
	char *a = x ? json_dumps(x, JSON_COMPACT) : NULL;
	char *b = y ? json_dumps(y, JSON_COMPACT) : NULL;

	T_CHECK(a && b && strcmp(a, b) == 0);
	free(a);
	free(b);
	json_decref(x);
	json_decref(y);
	free(s.f);
}

static void test_edge_cases(void)
{
	struct an_err err = { 0 };
	struct pw_frame f[3];
	struct an_run run = { "r", "ksudp", "", NULL, 0 };
	struct an_input in = { "s", "car_grip", "", "", "", NULL, 0, NULL };

	T_CHECK(an_car_grip(NULL, &err) == NULL && strcmp(err.code, AN_E_BAD_INPUT) == 0);
	T_CHECK(an_car_grip(&in, &err) == NULL && strcmp(err.code, AN_E_NO_DATA) == 0);
	in.runs = &run;
	in.nruns = 1;
	T_CHECK(an_car_grip(&in, &err) == NULL && strcmp(err.code, AN_E_NO_DATA) == 0);
	T_CHECK(an_car_grip(&in, NULL) == NULL); /* err is optional */

	for (int i = 0; i < 3; i++) {
		frame_init(&f[i], PW_GAME_AC, PW_FEED_KSUDP);
		f[i].present =
			FRAME_P_SPEED | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON | FRAME_P_STEER;
		f[i].speed_kmh = 80.0f + (float)i;
		f[i].accel_lat_g = 1.0f;
		f[i].accel_lon_g = -0.5f;
		f[i].steer = 0.1f;
	}
	/* one frame: no stretch to tell a spike from grip */
	T_CHECK(grip_of(f, 1, &err) == NULL && strcmp(err.code, AN_E_NO_DATA) == 0);
	T_CHECK(strstr(err.message, "shorter than 3") != NULL);
	/* three frames: the smallest result */
	{
		json_t *res = grip_of(f, 3, &err);

		T_CHECK(res != NULL);
		if (res) {
			check_shape(res);
			T_NEAR(num(res, "summary.max_lateral_g"), 1.0, 1e-9);
			T_NEAR(num(res, "summary.max_brake_g"), 0.5, 1e-9);
			T_NEAR(num(res, "summary.max_accel_g"), 0.0, 0.0);
			T_CHECK(json_array_size(json_object_get(res, "grip_circle")) == 3);
			T_CHECK(json_array_size(json_object_get(res, "steering_response")) == 3);
			json_t *p = json_array_get(json_object_get(res, "steering_response"), 0);

			T_NEAR(num(p, "steer"), 0.1, 1e-9);
		}
		json_decref(res);
	}
	/* all paused */
	for (int i = 0; i < 3; i++) {
		f[i].flags_known = FRAME_FLAG_PAUSED;
		f[i].flags = FRAME_FLAG_PAUSED;
	}
	T_CHECK(grip_of(f, 3, &err) == NULL && strcmp(err.code, AN_E_NO_DATA) == 0);
	T_CHECKF(strstr(err.message, "3 paused") != NULL, "%s", err.message);
	/* no accelerations */
	for (int i = 0; i < 3; i++) {
		f[i].flags = 0;
		f[i].present = FRAME_P_SPEED;
	}
	T_CHECK(grip_of(f, 3, &err) == NULL && strcmp(err.code, AN_E_NO_DATA) == 0);
}

/* --- real data: Assetto Corsa, Audi R8 LMS (GT3) at Monza --- */

static size_t monza_frames(struct pw_frame *out, size_t cap)
{
	static struct dec_state st;
	struct pcap_reader *r;
	struct pcap_pkt p;
	size_t n = 0;

	if (pcap_open(&r, t_data_path(PCAP_PATH)) < 0)
		return 0;
	dec_reset(&st);
	while (n < cap && pcap_next(r, &p) == 1)
		if (dec_ksudp.decode(&st, p.data, p.len, &out[n]) == DEC_FRAME)
			out[n++].t_ns = p.t_ns; /* what pw-capture stamps */
	pcap_close(r);
	return n;
}

/* Lateral g of the driven path at frame i: speed^2 times the curvature of
 * the circle through the positions d metres before and after it, d =
 * max(5 m, 0.15 s of travel). Independent of the accelerometer, and blind
 * to impacts (they do not bend the path). */
static double path_lat_g(const struct pw_frame *f, size_t n, size_t i)
{
	double v = f[i].speed_kmh / 3.6, d = fmax(5.0, 0.15 * v), back = 0.0, fwd = 0.0;
	size_t a = i, b = i;
	double d1, d2, d3, cross;

	while (a > 0 && back < d) {
		back += hypot(f[a].pos_m[0] - f[a - 1].pos_m[0], f[a].pos_m[2] - f[a - 1].pos_m[2]);
		a--;
	}
	while (b + 1 < n && fwd < d) {
		fwd += hypot(f[b + 1].pos_m[0] - f[b].pos_m[0], f[b + 1].pos_m[2] - f[b].pos_m[2]);
		b++;
	}
	d1 = hypot(f[i].pos_m[0] - f[a].pos_m[0], f[i].pos_m[2] - f[a].pos_m[2]);
	d2 = hypot(f[b].pos_m[0] - f[i].pos_m[0], f[b].pos_m[2] - f[i].pos_m[2]);
	d3 = hypot(f[b].pos_m[0] - f[a].pos_m[0], f[b].pos_m[2] - f[a].pos_m[2]);
	if (d1 < 1.0 || d2 < 1.0 || d3 < 1.0)
		return 0.0;
	cross = (f[i].pos_m[0] - f[a].pos_m[0]) * (f[b].pos_m[2] - f[a].pos_m[2]) -
		(f[i].pos_m[2] - f[a].pos_m[2]) * (f[b].pos_m[0] - f[a].pos_m[0]);
	return v * v * 2.0 * cross / (d1 * d2 * d3) / CAR_G;
}

/* Longitudinal g from the speed change over +-15 frames (~0.5 s):
 * independent of the accelerometer. AC sends at a steady rate while the
 * receive times come in bunches, so the period is the capture's mean. */
static double speed_lon_g(const struct pw_frame *f, size_t n, size_t i)
{
	double period = (double)(f[n - 1].t_ns - f[0].t_ns) * 1e-9 / (double)(n - 1);

	if (i < 15 || i + 15 >= n)
		return 0.0;
	return (f[i + 15].speed_kmh - f[i - 15].speed_kmh) / 3.6 / (30.0 * period) / CAR_G;
}

/*
 * The capture: 148 s of an Audi R8 LMS (a GT3 car) at Monza, ~58 Hz, from
 * the pit box (the first 320 frames, isInPit) onto the circuit, up to
 * 252 km/h, in the hands of a driver who leaves the track more than once
 * (the lap took 5:45): at frame 1667 the car is sideways at full lock with
 * two wheels unloaded and reads -2.99 g lateral with +1.86 g vertical for
 * ~150 ms (a collision, not grip); similar shocks at 1523-1694, 3123-3248
 * and 5937-5958.
 *
 * Real GT3 figures are ~1.5-2.5 g lateral in fast corners (slicks plus
 * downforce), ~1.5-2 g braking from high speed and ~0.6-1.0 g accelerating
 * in the low gears. What the analysis finds (asserted below):
 * - max_lateral_g 2.04 at 133.5 km/h (frames 7203-7208: a sustained 1.9 to
 *   2.1 g with kerb vibration on it). The driven path's own curvature says
 *   1.90 g at 202 km/h for the whole capture: the accelerometer reads ~7 %
 *   above the path there, which is the kerb ride, not a filter artefact.
 *   Without the vertical-shock guard the collision would make it 2.73 g.
 * - max_brake_g 2.07 at ~228 km/h (frames 5363-5365), confirmed by the
 *   speed itself: 1.90 g averaged over 0.5 s (1.95 g over 0.17 s), GT3
 *   downforce at top speed.
 * - max_accel_g 1.00 at ~75 km/h in first gear at full throttle (the speed
 *   change over 0.5 s says 0.87 g), 0.16 g left at 250 km/h.
 * - 25 bins, 10 to 252 km/h; 8080 of the 8312 frames on track at 10 km/h or
 *   more analysed: 229 are at or within 0.15 s of the vertical shocks, 3 in
 *   stretches shorter than 3 frames.
 */
static void test_monza_real_capture(void)
{
	static struct pw_frame f[MONZA_PKTS];
	struct an_err err = { 0 };
	size_t n = monza_frames(f, MONZA_PKTS), pit = 0, slow = 0;
	json_t *res, *env, *first, *last;
	double lat, brake, accel, comb, at, path_lat = 0.0, speed_brake = 0.0, speed_accel = 0.0;
	struct timespec t0, t1;

	T_CHECKF(n == MONZA_PKTS, "%zu frames", n);
	for (size_t i = 0; i < n; i++) {
		int on_track = !(f[i].flags & FRAME_FLAG_IN_PIT) && f[i].speed_kmh >= 10.0f;

		pit += (f[i].flags & FRAME_FLAG_IN_PIT) != 0;
		slow += !(f[i].flags & FRAME_FLAG_IN_PIT) && f[i].speed_kmh < 10.0f;
		if (on_track) {
			path_lat = fmax(path_lat, fabs(path_lat_g(f, n, i)));
			speed_brake = fmax(speed_brake, -speed_lon_g(f, n, i));
			speed_accel = fmax(speed_accel, speed_lon_g(f, n, i));
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	res = grip_of(f, n, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	T_CHECKF(res != NULL, "%s", err.message);
	if (!res)
		return;
	check_shape(res);
	check_circle_keeps_extremes(res);
	env = json_object_get(res, "grip_envelope");
	first = json_array_get(env, 0);
	last = json_array_get(env, json_array_size(env) - 1);
	lat = num(res, "summary.max_lateral_g");
	brake = num(res, "summary.max_brake_g");
	accel = num(res, "summary.max_accel_g");
	comb = num(res, "summary.max_combined_g");
	at = num(res, "summary.peak_lateral_speed_kmh");
	fprintf(stderr,
		"# monza (AC, Audi R8 LMS): %zu frames, %zu in pit, %zu below 10 km/h; "
		"analysed %.0f; %.2f ms\n",
		n, pit, slow, num(res, "total_frames_analyzed"),
		(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	fprintf(stderr,
		"# monza: max_lateral_g %.3f at %.1f km/h (driven path %.3f, %+.1f %%; "
		"raw max %.3f)\n",
		lat, at, path_lat, pct(lat, path_lat), raw_max_abs_lat(f, n));
	fprintf(stderr,
		"# monza: max_brake_g %.3f (speed change %.3f, %+.1f %%), max_accel_g "
		"%.3f (speed change %.3f), max_combined_g %.3f; bins %.0f..%.0f km/h (%zu)\n",
		brake, speed_brake, pct(brake, speed_brake), accel, speed_accel, comb,
		num(first, "speed_kmh"), num(last, "speed_kmh"), json_array_size(env));
	/* a GT3 car: see the comment above */
	T_CHECKF(lat > 1.8 && lat < 2.2, "lateral %.3f", lat);
	T_CHECKF(fabs(pct(lat, path_lat)) < 10.0, "lateral %.3f vs path %.3f", lat, path_lat);
	T_CHECKF(at > 120.0 && at < 210.0, "peak lateral at %.1f km/h", at);
	T_CHECKF(brake > 1.8 && brake < 2.2, "brake %.3f", brake);
	/* the speed change averages over 0.5 s, so it reads a little lower */
	T_CHECKF(brake >= speed_brake && pct(brake, speed_brake) < 12.0, "brake %.3f vs %.3f",
		 brake, speed_brake);
	T_CHECKF(accel > 0.8 && accel < 1.1, "accel %.3f", accel);
	T_CHECKF(accel >= speed_accel && pct(accel, speed_accel) < 20.0, "accel %.3f vs %.3f",
		 accel, speed_accel);
	T_CHECK(comb >= lat && comb < 2.3);
	T_CHECK(num(first, "speed_kmh") == 15.0);
	T_CHECK(num(last, "speed_kmh") == 255.0); /* top speed 252.2 km/h */
	T_CHECK(json_array_size(env) == 25);
	/* downforce: the high-speed bins brake harder than the low ones */
	T_CHECK(num(envelope_bin(res, 225.0), "max_brake_g") >
		num(envelope_bin(res, 105.0), "max_brake_g"));
	/* accelerating: strong in the low gears, little left near top speed */
	T_CHECK(num(envelope_bin(res, 245.0), "max_accel_g") < 0.3);
	T_CHECK(num(envelope_bin(res, 75.0), "max_accel_g") > 0.8);
	T_CHECKF(num(res, "total_frames_analyzed") <= (double)(n - pit - slow) &&
			 num(res, "total_frames_analyzed") > 0.95 * (double)(n - pit - slow),
		 "%.0f", num(res, "total_frames_analyzed"));
	T_CHECK(num(res, "runs_analyzed") == 1.0);
	T_CHECK(json_array_size(json_object_get(res, "grip_circle")) > SCATTER_MAX - 50);
	T_CHECK(json_array_size(json_object_get(res, "steering_response")) > SCATTER_MAX - 50);
	json_decref(res);
	/* the same capture without its vertical channel: the collision counts */
	for (size_t i = 0; i < n; i++)
		f[i].present &= ~(uint64_t)FRAME_P_ACCEL_VERT;
	res = grip_of(f, n, &err);
	T_CHECKF(res && num(res, "summary.max_lateral_g") > 2.5, "%.3f",
		 res ? num(res, "summary.max_lateral_g") : 0.0);
	json_decref(res);
}

/* --- cost --- */

/* 20 minutes of laps at 333 Hz (400 k frames); the figure is scaled to the
 * issue's 1.2 M frames (one hour at 333 Hz). Sanitizer builds only print. */
static void test_timing(void)
{
	struct sim s = sim_run(DRIVER_LAPS, 71, 333.0, 1.0);
	size_t n = 400000, best_n = 0;
	struct pw_frame *big = malloc(n * sizeof *big);
	struct an_err err = { 0 };
	double best = 1e9;

	T_CHECK(s.n > 0 && big);
	if (!big || !s.n)
		goto out;
	for (size_t i = 0; i < n; i++) {
		big[i] = s.f[i % s.n];
		big[i].game_time_s += (double)(i / s.n) * (double)s.n / 333.0;
	}
	for (int rep = 0; rep < 3; rep++) {
		struct timespec t0, t1;
		json_t *res;
		double ms;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		res = grip_of(big, n, &err);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		if (res && ms < best) {
			best = ms;
			best_n = (size_t)num(res, "total_frames_analyzed");
		}
		json_decref(res);
	}
	fprintf(stderr,
		"# timing: %zu frames (%zu analysed) in %.1f ms = %.1f ms per 1.2 M "
		"frames\n",
		n, best_n, best, best * 1.2e6 / (double)n);
	T_CHECK(best_n > n * 9 / 10);
out:
	free(big);
	free(s.f);
}

int main(void)
{
	T_RUN(test_cornering_60hz);
	T_RUN(test_cornering_333hz);
	T_RUN(test_laps_60hz);
	T_RUN(test_laps_333hz);
	T_RUN(test_spikes_are_ignored);
	T_RUN(test_filter_is_the_running_median);
	T_RUN(test_plateau_not_biased);
	T_RUN(test_excluded_frames);
	T_RUN(test_vertical_shock);
	T_RUN(test_missing_channels);
	T_RUN(test_runs_and_clock);
	T_RUN(test_deterministic);
	T_RUN(test_edge_cases);
	T_RUN(test_monza_real_capture);
	T_RUN(test_timing);
	return T_DONE();
}
