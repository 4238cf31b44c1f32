/*
 * test_derive.c - self-test of the derived channels (common/derive.h):
 * synthetic motion with known answers, every reset rule, and the derived
 * values against ground truth: the emulator's car (ACC's wire: whole km/h,
 * no g, no velocity) through car_grip, and the real captures that carry the
 * game's own g (Project CARS 1 at Spa, Forza at Laguna Seca, Assetto Corsa
 * at Monza), whose g are stripped, derived again and compared. "INFO" lines
 * print the figures (the window table justifies DERIVE_WINDOW_S).
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analysis.h"
#include "capture/decoder.h"
#include "capture/rawsplit.h"
#include "capture/sim/car.h"
#include "capture/sim/driver.h"
#include "capture/sim/track.h"
#include "common/derive.h"
#include "common/pcap.h"
#include "tests/unit/t.h"
#include "tests/unit/t_csv.h"

#define G0 9.80665
#define HZ 60.0

/* ---- helpers ---- */

static void derive_all(struct derive *d, struct pw_frame *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		derive_frame(d, &f[i]);
}

struct cmp {
	double sum2, sa, sb, saa, sbb, sab;
	size_t n;
};

static void cmp_add(struct cmp *c, double derived, double truth)
{
	c->sum2 += (derived - truth) * (derived - truth);
	c->sa += derived;
	c->sb += truth;
	c->saa += derived * derived;
	c->sbb += truth * truth;
	c->sab += derived * truth;
	c->n++;
}

static double cmp_rms(const struct cmp *c)
{
	return c->n ? sqrt(c->sum2 / c->n) : NAN;
}

static double cmp_corr(const struct cmp *c)
{
	double n = (double)c->n;
	double cov = c->sab - c->sa * c->sb / n, va = c->saa - c->sa * c->sa / n,
	       vb = c->sbb - c->sb * c->sb / n;

	return cov / sqrt(va * vb);
}

/* slope of derived on truth */
static double cmp_slope(const struct cmp *c)
{
	double n = (double)c->n;

	return (c->sab - c->sa * c->sb / n) / (c->sbb - c->sb * c->sb / n);
}

/* The game's channels of a (everything but what derive added) equal b's. */
static int game_channels_kept(const struct pw_frame *a, const struct pw_frame *b)
{
	for (unsigned k = 0; k < FRAME_P_COUNT; k++) {
		const struct frame_channel *c = &frame_channels[k];

		if (!(b->present & c->bit))
			continue;
		if (!(a->present & c->bit) || (a->derived & c->bit))
			return 0;
		if (memcmp((const char *)a + c->off, (const char *)b + c->off, c->size) != 0)
			return 0;
	}
	return 1;
}

/* A frame of game at clock t (s) on a circle or a line: speed v (m/s),
 * heading psi (rad, + right) in the game's own sense. */
static void motion_frame(struct pw_frame *f, unsigned game, double t, double v, double psi)
{
	frame_init(f, (enum pw_game)game, (enum pw_feed)frame_game_feed(game));
	f->game_session = 7;
	f->game_time_s = t;
	f->speed_kmh = (float)(v * 3.6);
	f->yaw_rad = (float)remainder(derive_yaw_sense(game) * psi, 2.0 * M_PI);
	f->present = FRAME_P_GAME_TIME | FRAME_P_SPEED | FRAME_P_YAW;
}

/* ---- synthetic ---- */

/* A steady right-hand circle: yaw rate v / R, lateral v^2 / R, no longitudinal,
 * in every game's axis sense, across the heading's wrap-around. */
static void test_circle(void)
{
	static const unsigned games[] = { PW_GAME_ACC, PW_GAME_PCARS1, PW_GAME_FM7, PW_GAME_F1_24 };
	const double v = 25.0, r = 60.0;

	for (size_t g = 0; g < sizeof games / sizeof *games; g++) {
		struct derive *d = derive_new(0);
		int checked = 0;

		for (int dir = -1; dir <= 1; dir += 2) {
			derive_reset(d);
			for (int i = 0; i < 600; i++) {
				double t = i / HZ;
				struct pw_frame f, orig;

				motion_frame(&f, games[g], t, v, 3.0 + dir * v / r * t);
				f.game_session = (uint64_t)(10 + dir);
				orig = f;
				derive_frame(d, &f);
				T_CHECK(game_channels_kept(&f, &orig));
				if (i < 12) /* the window needs half its span: 0.1 s */
					continue;
				T_CHECKF(f.present & f.derived & FRAME_P_YAW_RATE,
					 "game %u frame %d", games[g], i);
				T_NEAR(f.yaw_rate_rads, dir * v / r, 1e-4);
				T_NEAR(f.accel_lat_g, dir * v * v / r / G0, 1e-4);
				T_NEAR(f.accel_lon_g, 0.0, 1e-4);
				T_EQ(f.derived,
				     FRAME_P_YAW_RATE | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON);
				checked++;
			}
		}
		T_EQ(checked, 2 * (600 - 12));
		derive_free(d);
	}
	/* Assetto Corsa has no heading: nothing lateral */
	{
		struct derive *d = derive_new(0);
		struct pw_frame f;

		for (int i = 0; i < 60; i++) {
			motion_frame(&f, PW_GAME_AC, i / HZ, v, i / HZ);
			f.present |= FRAME_P_YAW;
			derive_frame(d, &f);
		}
		T_CHECK(!(f.present & (FRAME_P_YAW_RATE | FRAME_P_ACCEL_LAT)));
		T_CHECK(f.present & f.derived & FRAME_P_ACCEL_LON);
		derive_free(d);
	}
}

/* Straight-line acceleration and braking; with whole-km/h speeds (ACC's wire) too. */
static void test_straight(void)
{
	for (int quantized = 0; quantized <= 1; quantized++) {
		struct derive *d = derive_new(0);
		struct cmp c = { 0 };

		for (int i = 0; i < 480; i++) {
			double t = i / HZ, a = t < 5 ? 4.0 : -9.0,
			       v = t < 5 ? 10 + 4 * t : 30 - 9 * (t - 5);
			struct pw_frame f;

			motion_frame(&f, PW_GAME_ACC, t, v, 0.5);
			if (quantized)
				f.speed_kmh = roundf(f.speed_kmh);
			derive_frame(d, &f);
			/* away from the switch from +4 to -9 m/s^2 (the window spans it) */
			if (i >= 12 && fabs(t - 5) > 0.25) {
				cmp_add(&c, f.accel_lon_g, a / G0);
				T_NEAR(f.accel_lat_g, 0.0, 1e-6);
			}
		}
		printf("INFO straight line, %s speed: longitudinal g rms error %.4f\n",
		       quantized ? "whole km/h" : "float", cmp_rms(&c));
		/* whole km/h: steps of 0.28 m/s (sd 0.08) over ~9 frames of a 0.15 s window
		 * give a slope sd of about 0.08 / sqrt(sum (t - mean t)^2) = 0.5 m/s^2 */
		T_LT(cmp_rms(&c), (quantized ? 0.06 : 1e-4));
		derive_free(d);
	}
}

/* With the car-frame velocity the sideslip term counts: a car sliding at a
 * constant 5 deg drift angle on a circle still pulls v^2 / R; its x velocity
 * changing (drift angle opening) adds dvx/dt. */
static void test_velocity_terms(void)
{
	struct derive *d = derive_new(0);
	const double v = 20.0, r = 40.0;
	struct pw_frame f;

	for (int i = 0; i < 300; i++) {
		double t = i / HZ, beta = 0.02 * t; /* drift angle opening at 0.02 rad/s */

		motion_frame(&f, PW_GAME_PCARS1, t, v, v / r * t);
		f.vel_ms[0] = (float)(v * sin(beta));
		f.vel_ms[2] = (float)(v * cos(beta));
		f.present |= FRAME_P_VEL;
		derive_frame(d, &f);
	}
	/* lateral = r vz + dvx/dt, longitudinal = dvz/dt - r vx, at the window's middle */
	{
		double t = 299 / HZ - DERIVE_WINDOW_S / 2, beta = 0.02 * t, rate = v / r;

		T_NEAR(f.accel_lat_g, (rate * v * cos(beta) + v * cos(beta) * 0.02) / G0, 2e-4);
		T_NEAR(f.accel_lon_g, (-v * sin(beta) * 0.02 - rate * v * sin(beta)) / G0, 2e-4);
	}
	/* the game's own g is never replaced */
	derive_reset(d);
	for (int i = 0; i < 60; i++) {
		struct pw_frame orig;

		motion_frame(&f, PW_GAME_PCARS1, i / HZ, v, v / r * i / HZ);
		f.accel_lat_g = 0.123f;
		f.accel_lon_g = -0.5f;
		f.present |= FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON;
		orig = f;
		derive_frame(d, &f);
		T_CHECK(game_channels_kept(&f, &orig));
	}
	T_EQ(f.derived, FRAME_P_YAW_RATE);
	T_EQ(f.accel_lat_g, 0.123f);
	derive_free(d);
}

/* Assetto Corsa's case: a lap counter, a lap clock, a spline but no track
 * length and no game clock: the distance integrates on the lap clock from the line. */
/*
 * The window's running sums against the fit made directly, frame by frame:
 * the samples at most the window older than the newest (256 at most), some
 * lacking the velocity or the heading (for 0.12 s once), on a receive clock whose rate changes
 * (60 Hz, 333 Hz, 10 kHz: the 256 cap) and stops once (a gap clears the
 * window). The slope of the heading is the yaw rate; lateral g with the
 * velocity is yaw rate x mean vz + slope of vx.
 */
struct direct {
	double t, yaw, vx, vz;
	int has_yaw, has_vel;
};

static int direct_slope(const struct direct *w, size_t n, int vel, int field, double win,
			double *slope, double *mean)
{
	double st = 0, stt = 0, sy = 0, sty = 0, m = 0, first = 0, tn = w[n - 1].t;

	for (size_t i = n; i-- > 0;) {
		double t = w[i].t, y = field == 0 ? w[i].yaw : field == 1 ? w[i].vx : w[i].vz;

		if (tn - t > win)
			break;
		if (!(vel ? w[i].has_vel : w[i].has_yaw))
			continue;
		st += t - tn;
		stt += (t - tn) * (t - tn);
		sy += y;
		sty += (t - tn) * y;
		m++;
		first = t - tn;
	}
	if (m < 3 || -first < win / 2 || !(m * stt - st * st > 0))
		return 0;
	*slope = (m * sty - st * sy) / (m * stt - st * st);
	*mean = sy / m;
	return 1;
}

static void test_window_sums(void)
{
	struct derive *d = derive_new(0);
	struct direct *w = calloc(DERIVE_SAMPLES, sizeof *w);
	struct pw_frame f;
	size_t n = 0, checked = 0, derived = 0;
	double t = 0, worst = 0;
	uint64_t seed = 12345;
	int64_t t_ns = 1700000000000000000LL;
	int reported = 0;

	T_CHECK(d && w);
	for (int k = 0; d && w && k < 30000; k++) {
		double hz = k < 3000    ? 61
			    : k < 12000 ? 333
			    : k < 20000 ? 9973
					: 333,
		       ys, ym, vs, vm, zs, zm;
		int has_yaw = k % 11 != 5 && (k < 6000 || k >= 6040), has_vel = k % 7 != 3, ok_yaw,
		    ok_vx, ok_vz;

		/* the receive clock in whole ns, as derive sums it (a gap of 0.9 s: the
		 * window starts again) */
		t_ns += k == 15000 ? 900000000 : (int64_t)(1e9 / hz);
		t += k ? (double)(k == 15000 ? 900000000 : (int64_t)(1e9 / hz)) / 1e9 : 0;
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		frame_init(&f, PW_GAME_PCARS1, PW_FEED_PCARS);
		f.game_session = 1;
		f.t_ns = t_ns;
		f.speed_kmh = 100.0f;
		f.yaw_rad = (float)(0.8 * sin(t * 0.7) + (double)(seed >> 40) * 1e-9);
		f.vel_ms[0] = (float)(2.0 * sin(t * 3.0));
		f.vel_ms[2] = (float)(27.0 + cos(t));
		f.present =
			FRAME_P_SPEED | (has_yaw ? FRAME_P_YAW : 0) | (has_vel ? FRAME_P_VEL : 0);
		derive_frame(d, &f);
		if (k == 15000)
			n = 0;
		if (n == DERIVE_SAMPLES) {
			memmove(w, w + 1, (n - 1) * sizeof *w);
			n--;
		}
		w[n++] =
			(struct direct){ t, f.yaw_rad, f.vel_ms[0], f.vel_ms[2], has_yaw, has_vel };
		ok_yaw = has_yaw && direct_slope(w, n, 0, 0, DERIVE_WINDOW_S, &ys, &ym);
		ok_vx = has_vel && direct_slope(w, n, 1, 1, DERIVE_WINDOW_S, &vs, &vm);
		ok_vz = has_vel && direct_slope(w, n, 1, 2, DERIVE_WINDOW_S, &zs, &zm);
		T_EQ(!!(f.derived & FRAME_P_YAW_RATE), ok_yaw);
		if (ok_yaw) {
			worst = fmax(worst, fabs(f.yaw_rate_rads - ys) / fmax(fabs(ys), 0.01));
			derived++;
		}
		if (ok_yaw && ok_vx && ok_vz) { /* with the velocity: its terms */
			T_CHECK(f.derived & FRAME_P_ACCEL_LAT);
			worst = fmax(worst, fabs(f.accel_lat_g - (ys * zm + vs) / G0) /
						    fmax(fabs((ys * zm + vs) / G0), 0.01));
		}
		if (worst > 1e-5 && !reported) {
			printf("INFO first difference at frame %d (%.0f Hz): yaw rate %.9g, direct "
			       "%.9g\n",
			       k, hz, f.yaw_rate_rads, ok_yaw ? ys : NAN);
			reported = 1;
		}
		checked++;
	}
	printf("INFO window sums: %zu frames, %zu with a yaw rate, worst relative difference "
	       "from the direct fit %.2g\n",
	       checked, derived, worst);
	T_CHECK(derived > 20000 && worst < 1e-5);
	free(w);
	derive_free(d);
}

static void test_lap_distance(void)
{
	struct derive *d = derive_new(0);
	const double v = 30.0;
	struct pw_frame f, orig;
	int32_t lap_ms = 80000;
	uint16_t lap = 3;

	for (int i = 0; i < 4 * 60; i++) {
		frame_init(&f, PW_GAME_AC, PW_FEED_KSUDP);
		/* a useless receive clock */
		f.t_ns = 1000000000LL * 1700000000 + (i % 7) * 15600000LL;
		f.speed_kmh = (float)(v * 3.6);
		if (i == 60) { /* the line: lap 3 -> 4, 10 ms into the new lap */
			lap++;
			f.last_lap_ms = lap_ms + 7;
			lap_ms = 10 - 17;
		}
		lap_ms += 17;
		f.lap = lap;
		f.lap_time_ms = lap_ms;
		f.spline = 0.5f;
		f.present = FRAME_P_SPEED | FRAME_P_LAP | FRAME_P_LAP_TIME | FRAME_P_SPLINE |
			    (i == 60 ? FRAME_P_LAST_LAP : 0);
		orig = f;
		derive_frame(d, &f);
		T_CHECK(game_channels_kept(&f, &orig));
		if (i < 60) { /* joined mid-lap: no distance until the line */
			T_CHECK(!(f.present & FRAME_P_LAP_DIST));
			continue;
		}
		T_CHECKF(f.present & f.derived & FRAME_P_LAP_DIST, "frame %d", i);
		T_NEAR(f.lap_dist_m, v * f.lap_time_ms / 1000.0, 1e-3);
		T_CHECK(!(f.derived & FRAME_P_LAP_TIME)); /* the game's own lap clock */
	}
	T_NEAR(f.lap_dist_m, v * (10 + 179 * 17) / 1000.0, 1e-3);
	/* a lap counter that jumps (a restart) loses it until the next line */
	f.lap = 9;
	f.lap_time_ms += 17;
	f.present &= ~(FRAME_P_LAP_DIST | FRAME_P_YAW_RATE | FRAME_P_ACCEL_LON);
	f.derived = 0;
	derive_frame(d, &f);
	T_CHECK(!(f.present & FRAME_P_LAP_DIST));
	/* a spline and a track length make the distance without any clock */
	derive_reset(d);
	frame_init(&f, PW_GAME_AC, PW_FEED_KSUDP);
	f.spline = 0.25f;
	f.track_len_m = 5793.f;
	f.present = FRAME_P_SPLINE | FRAME_P_TRACK_LEN;
	derive_frame(d, &f);
	T_EQ(f.present & f.derived, FRAME_P_LAP_DIST);
	T_NEAR(f.lap_dist_m, 5793 * 0.25, 1e-3);
	derive_free(d);
}

/* Project CARS's case: the game says "lap time unset" (-1) and has no game
 * clock; the receive clock gives the time since the line, flagged derived. */
static void test_time_in_lap(void)
{
	struct derive *d = derive_new(0);
	struct pw_frame f, orig;
	const int64_t t0 = 1700000000000000000LL, step = 20000000; /* 50 Hz */

	for (int i = 0; i < 200; i++) {
		frame_init(&f, PW_GAME_PCARS1, PW_FEED_PCARS);
		f.t_ns = t0 + i * step;
		f.speed_kmh = 100.f;
		f.lap = i < 50 ? 0 : 1;
		f.lap_time_ms = -1;
		f.lap_dist_m = (float)(i < 50 ? 6900 + i : i - 50);
		f.present = FRAME_P_SPEED | FRAME_P_LAP | FRAME_P_LAP_TIME | FRAME_P_LAP_DIST;
		orig = f;
		derive_frame(d, &f);
		T_CHECK(game_channels_kept(&f, &orig) || i >= 50);
		if (i < 50) {
			T_EQ(f.lap_time_ms, -1);
			T_CHECK(!(f.derived & FRAME_P_LAP_TIME));
			continue;
		}
		T_CHECK(f.present & f.derived & FRAME_P_LAP_TIME);
		T_EQ(f.lap_time_ms, (i - 50) * 20);
		T_EQ(f.lap_dist_m, orig.lap_dist_m); /* the game's own */
		T_CHECK(!(f.derived & FRAME_P_LAP_DIST));
	}
	/* a raw capture (no receive times) has no clock at all: nothing timed */
	derive_reset(d);
	for (int i = 0; i < 100; i++) {
		frame_init(&f, PW_GAME_PCARS1, PW_FEED_PCARS);
		f.lap = i < 50 ? 0 : 1;
		f.lap_time_ms = -1;
		f.speed_kmh = 100.f;
		f.yaw_rad = 0.01f * i;
		f.present = FRAME_P_SPEED | FRAME_P_LAP | FRAME_P_LAP_TIME | FRAME_P_YAW;
		orig = f;
		derive_frame(d, &f);
		T_CHECK(memcmp(&f, &orig, sizeof f) == 0);
	}
	derive_free(d);
}

static void session8_frame(struct derive *d, struct pw_frame *f, double t)
{
	motion_frame(f, PW_GAME_ACC, t, 20, 0.3 * t);
	f->game_session = 8;
	derive_frame(d, f);
}

/* Sessions, clocks that go back or jump, pauses, other versions. */
static void test_resets(void)
{
	struct derive *d = derive_new(0);
	struct pw_frame f;
	double t = 0;
	int i;

	for (i = 0; i < 60; i++, t += 1 / HZ) {
		motion_frame(&f, PW_GAME_ACC, t, 20, 0.3 * t);
		derive_frame(d, &f);
	}
	T_CHECK(f.derived & FRAME_P_YAW_RATE);
	/* a new game session starts from nothing */
	session8_frame(d, &f, t);
	T_EQ(f.derived, 0);
	/* a gap longer than DERIVE_GAP_S restarts the window */
	for (i = 0; i < 60; i++, t += 1 / HZ)
		session8_frame(d, &f, t);
	T_CHECK(f.derived & FRAME_P_YAW_RATE);
	t += DERIVE_GAP_S + 0.01;
	session8_frame(d, &f, t);
	T_EQ(f.derived, 0);
	/* the game clock going back as well */
	for (i = 0; i < 60; i++, t += 1 / HZ)
		session8_frame(d, &f, t);
	session8_frame(d, &f, t - 5);
	T_EQ(f.derived, 0);
	/* paused frames derive nothing */
	for (i = 0; i < 60; i++, t += 1 / HZ)
		session8_frame(d, &f, t);
	motion_frame(&f, PW_GAME_ACC, t, 20, 0.3 * t);
	f.game_session = 8;
	f.flags = f.flags_known = FRAME_FLAG_PAUSED;
	derive_frame(d, &f);
	T_EQ(f.derived, 0);
	/* frames of another version are left alone */
	motion_frame(&f, PW_GAME_ACC, t + 1 / HZ, 20, 0.3 * t);
	f.version = FRAME_VERSION + 1;
	{
		struct pw_frame orig = f;

		derive_frame(d, &f);
		T_CHECK(memcmp(&f, &orig, sizeof f) == 0);
	}
	derive_free(d);
	/* the window argument */
	T_CHECK((d = derive_new(-1)) != NULL);
	derive_free(d);
	T_CHECK((d = derive_new(1e9)) != NULL);
	derive_free(d);
	derive_free(NULL);
	T_EQ(derive_yaw_sense(PW_GAME_AC), 0);
	T_EQ(derive_yaw_sense(PW_GAME_COUNT + 5), 0);
}

/* ---- the emulator's car, on ACC's wire ---- */

/* Frames of pw-sim's car in mode at 60 Hz, as the ACC decoder gives them:
 * speed in whole km/h, heading, game clock; no g, no velocity. The truth
 * (the emulator's own g and yaw rate) goes to truth[]. */
static size_t acc_frames(enum driver_mode mode, double seconds, struct pw_frame **out,
			 struct pw_frame **truth)
{
	struct track *t = track_new();
	struct driver *d = t ? driver_new(mode, 3, car_default(), t) : NULL;
	size_t n = (size_t)(seconds * HZ);
	struct pw_frame *f = d ? calloc(n, sizeof *f) : NULL, *g = f ? calloc(n, sizeof *g) : NULL;

	for (size_t k = 0; g && k < n; k++) {
		driver_run_to(d, llround((double)k * 1000.0 / HZ));
		driver_frame(d, &g[k]);
		g[k].game = PW_GAME_ACC;
		g[k].feed = PW_FEED_ACC;
		f[k] = g[k];
		f[k].speed_kmh = roundf(f[k].speed_kmh);
		f[k].present &= ~(FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON | FRAME_P_ACCEL_VERT |
				  FRAME_P_VEL | FRAME_P_YAW_RATE);
	}
	driver_free(d);
	track_free(t);
	if (!g) {
		free(f);
		n = 0;
		f = NULL;
	}
	*out = f;
	*truth = g;
	return n;
}

struct errs {
	double lat, lon, rate;
};

static struct errs acc_errors(const struct pw_frame *in, const struct pw_frame *truth, size_t n,
			      double window_s, struct pw_frame *work)
{
	struct derive *d = derive_new(window_s);
	struct cmp lat = { 0 }, lon = { 0 }, rate = { 0 };

	memcpy(work, in, n * sizeof *work);
	derive_all(d, work, n);
	for (size_t k = 0; k < n; k++) {
		if (!(work[k].present & FRAME_P_ACCEL_LAT) || truth[k].speed_kmh < 10)
			continue;
		cmp_add(&lat, work[k].accel_lat_g, truth[k].accel_lat_g);
		cmp_add(&lon, work[k].accel_lon_g, truth[k].accel_lon_g);
		cmp_add(&rate, work[k].yaw_rate_rads, truth[k].yaw_rate_rads);
	}
	derive_free(d);
	return (struct errs){ cmp_rms(&lat), cmp_rms(&lon), cmp_rms(&rate) };
}

static double car_grip_max_lat(struct pw_frame *f, size_t n)
{
	struct an_run run = { "run-1", "acc", "", f, n };
	struct an_input in = { "sess", "car_grip", "pitwall_gt3", "assetto_corsa_competizione", "",
			       &run,   1,          NULL };
	struct an_err err = { 0 };
	json_t *r = an_car_grip(&in, &err);
	double v = r ? json_number_value(
			       json_object_get(json_object_get(r, "summary"), "max_lateral_g"))
		     : NAN;

	T_CHECKF(r != NULL, "car_grip: %s", err.message);
	json_decref(r);
	return v;
}

/*
 * The window: the summed RMS error of lateral and longitudinal g on a lap of
 * the emulator's track and its skid pad, for windows 0.1..0.4 s. The default
 * must be the best of them (within 0.005 g), and car_grip on the derived
 * frames must find the grip limit within 5 %, the tolerance of the other games.
 */
static void test_emulator_acc(void)
{
	static const double windows[] = { 0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3, 0.4 };
	struct pw_frame *lap = NULL, *lap_truth = NULL, *pad = NULL, *pad_truth = NULL, *work;
	size_t nl = acc_frames(DRIVER_LAPS, 95, &lap, &lap_truth);
	size_t np = acc_frames(DRIVER_CORNERING, 40, &pad, &pad_truth);
	double best = INFINITY, at_default = NAN, limit = car_default()->grip_limit_g;

	work = malloc((nl > np ? nl : np) * sizeof *work);
	T_CHECK(nl && np && work);
	if (!nl || !np || !work)
		goto out;
	for (size_t w = 0; w < sizeof windows / sizeof *windows; w++) {
		struct errs a = acc_errors(lap, lap_truth, nl, windows[w], work);
		struct errs b = acc_errors(pad, pad_truth, np, windows[w], work);
		double sum = a.lat + a.lon + b.lat + b.lon;

		printf("INFO window %.2f s: lap lat %.3f lon %.3f yaw rate %.4f rad/s | skid pad lat "
		       "%.3f lon %.3f | sum %.3f g rms\n",
		       windows[w], a.lat, a.lon, a.rate, b.lat, b.lon, sum);
		best = fmin(best, sum);
		if (windows[w] == DERIVE_WINDOW_S)
			at_default = sum;
	}
	T_CHECKF(at_default <= best + 0.005, "default window %.2f s: %.3f, best %.3f",
		 DERIVE_WINDOW_S, at_default, best);
	/* car_grip on ACC-like frames: the seed analysis works and finds the limit */
	{
		struct derive *d = derive_new(0);
		double got;

		derive_all(d, pad, np);
		got = car_grip_max_lat(pad, np);
		printf("INFO car_grip on derived ACC frames: max lateral %.3f g, grip limit %.3f g "
		       "(%.1f %%)\n",
		       got, limit, 100 * (got - limit) / limit);
		T_CHECKF(fabs(got - limit) / limit < 0.05, "%.3f vs %.3f", got, limit);
		derive_free(d);
	}
out:
	free(lap);
	free(lap_truth);
	free(pad);
	free(pad_truth);
	free(work);
}

/* ---- real captures with the game's own g ---- */

static size_t decode_file(const char *rel, const struct decoder *dec, struct pw_frame **out)
{
	struct dec_state *st = calloc(1, sizeof *st);
	struct pcap_reader *r = NULL;
	size_t n = 0, cap = 16384;
	struct pw_frame *f = malloc(cap * sizeof *f);
	struct pcap_pkt p;

	*out = NULL;
	if (!st || !f)
		goto out;
	if (pcap_open(&r, t_data_path(rel)) == 0) {
		while (n < cap && pcap_next(r, &p) == 1) {
			if (dec->decode(st, p.data, p.len, &f[n]) == DEC_FRAME)
				f[n].t_ns = p.t_ns, n++;
		}
		pcap_close(r);
	} else {
		size_t len, off = 0;
		unsigned char *buf = t_read_file(t_data_path(rel), &len);
		struct rawsplit rs;

		if (buf && rawsplit_init(&rs, dec->feed, len) == 0) {
			while (off < len && n < cap) {
				size_t k = rawsplit_next(&rs, buf + off, len - off);

				if (!k)
					break;
				if (dec->decode(st, buf + off, k, &f[n]) == DEC_FRAME)
					n++;
				off += k;
			}
		}
		free(buf);
	}
	*out = f;
	f = NULL;
out:
	free(f);
	free(st);
	return n;
}

/* The frame's time on the clock derive uses for it, s. */
static double time_of(const struct pw_frame *f)
{
	return f->present & FRAME_P_GAME_TIME ? f->game_time_s : f->t_ns / 1e9;
}

/* The mean of channel bit over the frames of the window ending at frame k:
 * what a window's least-squares slope estimates, so the derived value
 * compared with it shows the derivation's error without its lag. */
static double window_mean(const struct pw_frame *f, size_t k, double window_s, unsigned bit)
{
	double sum = 0;
	size_t n = 0;

	for (size_t j = k + 1; j-- > 0 && time_of(&f[k]) - time_of(&f[j]) <= window_s;) {
		sum += frame_channel_value(&f[j], bit, 0);
		n++;
	}
	return sum / (double)n;
}

/* Derive g again for frames that have the game's own, and compare with the
 * game's value of the same frame, and with its mean over the window. */
static void real_compare(const char *name, struct pw_frame *f, size_t n, double window_s,
			 double max_lat_rms, double max_lon_rms)
{
	struct pw_frame *w = malloc(n * sizeof *w);
	struct derive *d = derive_new(window_s);
	struct cmp lat = { 0 }, lon = { 0 }, latw = { 0 }, lonw = { 0 };

	T_CHECK(w && d);
	if (!w || !d)
		goto out;
	for (size_t k = 0; k < n; k++) {
		w[k] = f[k];
		w[k].present &= ~(FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON);
	}
	derive_all(d, w, n);
	for (size_t k = 0; k < n; k++) {
		if (w[k].speed_kmh < 10 || (w[k].flags & FRAME_FLAG_PAUSED))
			continue;
		if (w[k].present & w[k].derived & FRAME_P_ACCEL_LAT) {
			cmp_add(&lat, w[k].accel_lat_g, f[k].accel_lat_g);
			cmp_add(&latw, w[k].accel_lat_g,
				window_mean(f, k, window_s, FRAME_CH_ACCEL_LAT));
		}
		if (w[k].present & w[k].derived & FRAME_P_ACCEL_LON) {
			cmp_add(&lon, w[k].accel_lon_g, f[k].accel_lon_g);
			cmp_add(&lonw, w[k].accel_lon_g,
				window_mean(f, k, window_s, FRAME_CH_ACCEL_LON));
		}
	}
	printf("INFO %s, window %.2f s, derived vs the game's own g over %zu frames: lateral rms "
	       "%.3f corr %.3f slope %.3f | longitudinal rms %.3f corr %.3f slope %.3f\n",
	       name, window_s, lon.n, cmp_rms(&lat), lat.n ? cmp_corr(&lat) : NAN,
	       lat.n ? cmp_slope(&lat) : NAN, cmp_rms(&lon), cmp_corr(&lon), cmp_slope(&lon));
	printf("INFO %s, the same against the game's g averaged over the window (the lag taken "
	       "out): lateral rms %.3f corr %.3f | longitudinal rms %.3f corr %.3f\n",
	       name, cmp_rms(&latw), latw.n ? cmp_corr(&latw) : NAN, cmp_rms(&lonw),
	       cmp_corr(&lonw));
	T_CHECKF(lon.n > n / 2, "%s: %zu of %zu frames compared", name, lon.n, n);
	T_CHECKF(cmp_rms(&lonw) < max_lon_rms && cmp_corr(&lonw) > 0.9, "%s longitudinal", name);
	if (max_lat_rms > 0)
		T_CHECKF(latw.n > n / 2 && cmp_rms(&latw) < max_lat_rms && cmp_corr(&latw) > 0.95,
			 "%s lateral", name);
out:
	derive_free(d);
	free(w);
}

/*
 * Project CARS 1 at Spa (raw: no receive times). The packet period comes from
 * the data itself: the game's lap distance advanced 1.2 km while the speeds
 * summed to ~62 km of "metres per packet", so one packet is ~20 ms (50 Hz,
 * not the 60 Hz a replay assumes).
 */
static void test_real_pcars(void)
{
	struct pw_frame *f;
	size_t n = decode_file("pcars1/vthinsel_pcars_v1_session2.raw", &dec_pcars, &f);
	double dist = 0, vsum = 0, period;

	T_CHECKF(n == 1860, "%zu frames", n);
	for (size_t k = 1; k < n; k++) {
		double step = f[k].lap_dist_m - f[k - 1].lap_dist_m;

		if (fabs(step) < 100) {
			dist += step;
			vsum += f[k - 1].speed_kmh / 3.6;
		}
	}
	period = dist / vsum;
	printf("INFO pcars1 Spa: packet period from lap distance / speed: %.2f ms\n", period * 1e3);
	T_CHECK(period > 0.015 && period < 0.025);
	for (size_t k = 0; k < n; k++)
		f[k].t_ns = 1466000000000000000LL + (int64_t)llround(k * period * 1e9);
	real_compare("pcars1 Spa", f, n, DERIVE_WINDOW_S, 0.15, 0.25);
	free(f);
}

/* Assetto Corsa at Monza: no heading (lateral cannot be derived); the
 * longitudinal g on the lap clock; the lap distance after the line against
 * the spline. */
static void test_real_ac(void)
{
	struct pw_frame *f, *w;
	size_t n = decode_file("ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap", &dec_ksudp, &f);
	struct derive *d = derive_new(0);
	size_t line = 0, last = 0;

	T_CHECKF(n == 8641, "%zu frames", n);
	real_compare("assetto_corsa Monza", f, n, DERIVE_WINDOW_S, 0, 0.25);
	w = malloc(n * sizeof *w);
	if (!w || !d)
		goto out;
	memcpy(w, f, n * sizeof *w);
	derive_all(d, w, n);
	for (size_t k = 0; k < n; k++) {
		T_CHECK(!(w[k].present & FRAME_P_LAP_DIST) == (w[k].lap == 0));
		if (w[k].lap == 1 && !line)
			line = k;
		if (w[k].present & FRAME_P_LAP_DIST && w[k].spline > 0.04f)
			last = k;
	}
	T_EQ(line, 7899);
	if (last) {
		double len = w[last].lap_dist_m / w[last].spline;

		printf("INFO assetto_corsa Monza: derived lap distance %.1f m at spline %.4f, %.0f m a "
		       "lap (Monza: 5793 m)\n",
		       w[last].lap_dist_m, w[last].spline, len);
		T_NEAR(len, 5793, 5793 * 0.02);
	}
out:
	derive_free(d);
	free(w);
	free(f);
}

/*
 * Forza at Laguna Seca: the CSV's rows, kept by the recording app every
 * ~109 ms (not the game's 60 Hz), as the decoder gives them. A 0.2 s window
 * holds only two rows, so this capture is derived with 0.35 s (three rows).
 * The game's clock jumps 20 s between rows 0 and 1 (its lap clock moves
 * 0.13 s), so the rows start at 1, 0.43 s into lap 0. The heading's rate is
 * checked against the game's own AngularVelocityY (averaged over the window,
 * as the slope is), the integrated lap distance against the game's Distance.
 */
static void test_real_forza(void)
{
	static struct t_csv csv;
	const double window_s = 0.35;
	int rows = t_csv_load(&csv, "forza/austinbaccus_forza-telemetry/laguna-seca.csv"), n;
	struct pw_frame *f = calloc((size_t)(rows > 0 ? rows : 1), sizeof *f);
	struct derive *d = derive_new(window_s);
	struct cmp rate = { 0 };
	double end_dist = NAN, game_dist = NAN;

	T_CHECK(rows == 687 && f && d);
	if (rows != 687 || !f || !d)
		goto out;
	n = rows - 1;
	for (int k = 0; k < n; k++) {
		struct pw_frame *x = &f[k];
		int r = k + 1;
		double lap_s = t_csv_cell(&csv, r, "CurrentLapTime");

		frame_init(x, PW_GAME_FM7, PW_FEED_FORZA);
		x->game_time_s = t_csv_cell(&csv, r, "TimestampMS") / 1000.0;
		x->speed_kmh = (float)(t_csv_cell(&csv, r, "Speed") * 3.6);
		x->yaw_rad = (float)t_csv_cell(&csv, r, "Yaw");
		x->vel_ms[0] = (float)t_csv_cell(&csv, r, "VelocityX");
		x->vel_ms[1] = (float)t_csv_cell(&csv, r, "VelocityY");
		x->vel_ms[2] = (float)t_csv_cell(&csv, r, "VelocityZ");
		x->accel_lat_g = (float)(t_csv_cell(&csv, r, "AccelerationX") / G0);
		x->accel_lon_g = (float)(t_csv_cell(&csv, r, "AccelerationZ") / G0);
		/* the game's yaw rate, kept where no derived channel goes, for window_mean */
		x->steer_deg = (float)t_csv_cell(&csv, r, "AngularVelocityY");
		x->lap = (uint16_t)t_csv_cell(&csv, r, "Lap");
		x->lap_time_ms = lap_s > 0 ? (int32_t)lround(lap_s * 1000) : -1;
		x->present = FRAME_P_GAME_TIME | FRAME_P_SPEED | FRAME_P_YAW | FRAME_P_VEL |
			     FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON | FRAME_P_LAP | FRAME_P_LAP_TIME;
	}
	real_compare("forza Laguna Seca", f, (size_t)n, window_s, 0.2, 0.3);
	derive_all(d, f, (size_t)n);
	for (int k = 0; k < n; k++) {
		if (f[k].present & f[k].derived & FRAME_P_YAW_RATE)
			cmp_add(&rate, f[k].yaw_rate_rads,
				window_mean(f, (size_t)k, window_s, FRAME_CH_STEER_DEG));
		if (f[k].lap == 0 && (f[k].present & FRAME_P_LAP_DIST)) {
			end_dist = f[k].lap_dist_m;
			game_dist = t_csv_cell(&csv, k + 1, "Distance");
		}
	}
	printf("INFO forza Laguna Seca: yaw rate from the heading vs the game's AngularVelocityY: "
	       "rms %.4f rad/s corr %.4f slope %.3f over %zu rows\n",
	       cmp_rms(&rate), cmp_corr(&rate), cmp_slope(&rate), rate.n);
	T_CHECK(rate.n > 600 && cmp_corr(&rate) > 0.99 && fabs(cmp_slope(&rate) - 1) < 0.03);
	printf("INFO forza Laguna Seca: lap 0 integrated on the game clock to %.1f m, the game's "
	       "distance %.1f m\n",
	       end_dist, game_dist);
	T_NEAR(end_dist, game_dist, game_dist * 0.01);
out:
	derive_free(d);
	free(f);
	free(csv.text);
}

int main(void)
{
	T_RUN(test_circle);
	T_RUN(test_straight);
	T_RUN(test_velocity_terms);
	T_RUN(test_window_sums);
	T_RUN(test_lap_distance);
	T_RUN(test_time_in_lap);
	T_RUN(test_resets);
	T_RUN(test_emulator_acc);
	T_RUN(test_real_pcars);
	T_RUN(test_real_ac);
	T_RUN(test_real_forza);
	return T_DONE();
}
