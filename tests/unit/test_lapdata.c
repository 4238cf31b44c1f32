/*
 * test_lapdata.c - laps on distance and lap comparison (common/lapdata.h),
 * checked against ground truth:
 *
 *   the emulator (libpwsim) drives laps at 60 Hz, the real lap tracker
 *   (common/laps.h) cuts them; the truth is the same drive sampled every
 *   physics step (1 kHz), whose lap distance and lap clock carry no noise:
 *   t_truth(d) of every lap, its time at every corner, its minimum speeds
 *   and brake points. Lap 1 starts from 60 km/h on the line, so it is slower
 *   than the flying laps 2 and 3: the delta has a shape to get right.
 *   Every alignment (track model projection, spline, lap distance, speed)
 *   is checked against the same truth, as is a lap driven on another line
 *   (the left boundary at 60 % of the speed) projected onto the centre line.
 *
 *   synthetic: a lap compared with itself (0 everywhere), the same lap with
 *   its clock stretched by 1 % (delta = 1 % of the reference's time), grids,
 *   discrete channels and flags, absent channels, laps seen in part, the
 *   frame file reader, bad parameters.
 *
 *   real: the Assetto Corsa Monza capture (tests/data/ac_remote) through
 *   dec_ksudp and the lap tracker: its one lap (344.684 s by the game).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/decoder.h"
#include "capture/sim/car.h"
#include "capture/sim/driver.h"
#include "capture/sim/track.h"
#include "common/framefile.h"
#include "common/lapdata.h"
#include "common/laps.h"
#include "common/pcap.h"
#include "t.h"

#define RATE_HZ 60.0
#define SEQ0 1000
#define MAX_LAPS 8
#define AC_CAPTURE "ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap"
#define AC_LAP_MS 344684

/* One emulator run cut into laps by the lap tracker. */
struct run {
	struct pw_frame *f;
	size_t n;
	struct lapdata_span span[MAX_LAPS];
	int nlaps;
};

/* The truth of one lap: (lap distance, lap time) every physics step. */
struct truth {
	double *d, *t, *v_kmh, *brake;
	size_t n;
	double len_m;
	int32_t lap_ms;
};

static struct track *g_track;
static struct run g_laps, g_left; /* laps mode; left boundary mode */
static struct truth g_truth[MAX_LAPS + 1], g_left_truth[MAX_LAPS + 1];
static double *g_cx, *g_cz;
static struct lapdata_corner g_corners[32];
static struct lapdata_track g_model;

static int drive(struct run *r, enum driver_mode mode, double rate_hz, double seconds)
{
	struct driver *d = driver_new(mode, 5, car_default(), g_track);
	struct laps *lt = laps_new();
	struct lap_event ev[LAPS_MAX_EVENTS];

	memset(r, 0, sizeof *r);
	r->n = (size_t)(seconds * rate_hz);
	r->f = calloc(r->n, sizeof *r->f);
	if (!d || !lt || !r->f)
		return -1;
	for (size_t k = 0; k < r->n; k++) {
		struct pw_frame *f = &r->f[k];
		int ne;

		driver_run_to(d, (int64_t)((double)k * 1000.0 / rate_hz + 0.5));
		driver_frame(d, f);
		f->seq = SEQ0 + k;
		f->t_ns = 1750000000000000000ll + (int64_t)((double)k * 1e9 / rate_hz);
		f->game = PW_GAME_AC;
		f->feed = PW_FEED_KSUDP;
		ne = laps_feed(lt, f, ev, LAPS_MAX_EVENTS);
		for (int i = 0; i < ne; i++)
			if (ev[i].kind == LAP_COMPLETED && r->nlaps < MAX_LAPS)
				r->span[r->nlaps++] = (struct lapdata_span){ ev[i].lap.start_seq,
									     ev[i].lap.end_seq,
									     ev[i].lap.time_ms };
	}
	laps_free(lt);
	driver_free(d);
	return 0;
}

/* The same drive at every physics step, noise-free distance and clock. */
static int drive_truth(enum driver_mode mode, double seconds, struct truth *tr)
{
	struct driver *d = driver_new(mode, 5, car_default(), g_track);
	size_t n = (size_t)(seconds * 1000.0);
	struct pw_frame f;
	double len = track_length_m(g_track);

	if (!d)
		return -1;
	for (int i = 0; i <= MAX_LAPS; i++) {
		tr[i].n = 0;
		tr[i].len_m = len;
		tr[i].d = malloc(((size_t)200000 + 2) * 4 * sizeof(double));
		if (!tr[i].d)
			return -1;
		tr[i].t = tr[i].d + 200002;
		tr[i].v_kmh = tr[i].t + 200002;
		tr[i].brake = tr[i].v_kmh + 200002;
		/* the line at time 0 */
		tr[i].d[0] = 0;
		tr[i].t[0] = 0;
		tr[i].v_kmh[0] = NAN;
		tr[i].brake[0] = NAN;
		tr[i].n = 1;
	}
	for (size_t k = 0; k < n; k++) {
		struct truth *t;
		driver_run_to(d, (int64_t)k);
		driver_frame(d, &f);
		if (f.lap >= MAX_LAPS)
			break;
		t = &tr[f.lap + 1];
		if (t->n < 200000 && f.lap_dist_m > t->d[t->n - 1]) {
			t->d[t->n] = f.lap_dist_m;
			t->t[t->n] = f.lap_time_ms / 1000.0;
			t->v_kmh[t->n] = f.speed_kmh;
			t->brake[t->n] = f.brake;
			t->n++;
		}
		if (f.lap > 0 && tr[f.lap].lap_ms == 0) {
			struct truth *done = &tr[f.lap];
			done->lap_ms = f.last_lap_ms;
			done->d[done->n] = len;
			done->t[done->n] = f.last_lap_ms / 1000.0;
			done->v_kmh[done->n] = NAN;
			done->brake[done->n] = NAN;
			done->n++;
		}
	}
	driver_free(d);
	return 0;
}

static double truth_time(const struct truth *tr, double d)
{
	size_t lo = 0, hi = tr->n - 1;

	if (d <= 0)
		return 0;
	if (d >= tr->d[hi])
		return tr->t[hi];
	while (hi - lo > 1) {
		size_t m = (lo + hi) / 2;
		if (tr->d[m] <= d)
			lo = m;
		else
			hi = m;
	}
	return tr->t[lo] + (tr->t[hi] - tr->t[lo]) * (d - tr->d[lo]) / (tr->d[hi] - tr->d[lo]);
}

static double truth_min_speed(const struct truth *tr, double a, double b)
{
	double m = INFINITY;

	for (size_t i = 0; i < tr->n; i++)
		if (tr->d[i] >= a && tr->d[i] <= b && tr->v_kmh[i] < m)
			m = tr->v_kmh[i];
	return m;
}

static double truth_brake_point(const struct truth *tr, double lo, double hi)
{
	int armed = 0;

	for (size_t i = 1; i < tr->n; i++) {
		if (tr->d[i] < lo || tr->d[i] > hi || isnan(tr->brake[i]))
			continue;
		if (tr->brake[i] < LAPDATA_BRAKE_ON)
			armed = 1;
		else if (armed)
			return tr->d[i];
	}
	return NAN;
}

static void build_model(void)
{
	double len = track_length_m(g_track);
	size_t n = (size_t)round(len / 2.0);

	g_cx = malloc(n * sizeof *g_cx);
	g_cz = malloc(n * sizeof *g_cz);
	for (size_t i = 0; g_cx && g_cz && i < n; i++) {
		struct track_point p;
		track_sample(g_track, (double)i * len / (double)n, &p);
		g_cx[i] = p.x_m;
		g_cz[i] = p.z_m;
	}
	g_model = (struct lapdata_track){ .length_m = len, .n = n, .x = g_cx, .z = g_cz };
	for (int i = 0; i < track_corner_count(g_track) && i < 32; i++) {
		const struct track_corner *c = track_corner(g_track, i);
		g_corners[i] = (struct lapdata_corner){ c->index, c->direction, c->start_m,
							c->apex_m, c->end_m };
		g_model.ncorners++;
	}
	g_model.corners = g_corners;
}

/* A copy of the run's frames with some presence bits cleared. */
static struct pw_frame *without(const struct run *r, uint64_t bits)
{
	struct pw_frame *f = malloc(r->n * sizeof *f);

	for (size_t k = 0; f && k < r->n; k++) {
		f[k] = r->f[k];
		f[k].present &= ~bits;
	}
	return f;
}

static struct lapdata_lap *lap_of(const struct pw_frame *f, size_t n, const struct lapdata_span *sp,
				  const struct lapdata_channels *cs)
{
	struct lapdata_lap *l = NULL;
	struct lapdata_channels def;

	if (!cs) {
		lapdata_channels_default(&def);
		cs = &def;
	}
	T_CHECK(lapdata_from_frames(f, n, sp, cs, &l) == 0 && l);
	return l;
}

/* --- channels --- */

static void test_channels(void)
{
	struct lapdata_channels cs;
	char bad[64];

	lapdata_channels_default(&cs);
	T_CHECK(cs.n == 9);
	T_STREQ(lapdata_channel_name(cs.id[0]), "speed_kmh");
	T_STREQ(lapdata_channel_name(cs.id[8]), "pos_m");
	T_CHECK(lapdata_channel_values(cs.id[8]) == 3);
	/* a lap's memory bound: 128 MB of samples, fewer frames with more channels */
	T_CHECK(lapdata_max_frames(&cs) > 850000 && lapdata_max_frames(&cs) < 950000);
	T_CHECK(lapdata_channels_parse("speed_kmh,gear,tyre_temp_c,abs", &cs, bad, sizeof bad) ==
		0);
	T_CHECK(cs.n == 4 && cs.id[1] == FRAME_CH_GEAR &&
		cs.id[3] == LAPDATA_FLAG_ID + FRAME_FLAG_NO_ABS);
	T_CHECK(lapdata_channel_values(cs.id[2]) == 4);
	T_CHECK(lapdata_channel_discrete(cs.id[1]) && lapdata_channel_discrete(cs.id[3]));
	T_CHECK(!lapdata_channel_discrete(cs.id[0]) &&
		!lapdata_channel_discrete(FRAME_CH_LAP_TIME));
	T_STREQ(lapdata_channel_name(cs.id[3]), "abs");
	T_CHECK(lapdata_channels_parse("speed_kmh,warp_factor", &cs, bad, sizeof bad) == -EINVAL);
	T_STREQ(bad, "warp_factor");
	T_CHECK(lapdata_channels_parse("gear,speed_kmh,gear", &cs, bad, sizeof bad) == -EINVAL);
	T_STREQ(bad, "gear");
	T_CHECK(lapdata_channels_parse("speed_kmh,", &cs, bad, sizeof bad) == -EINVAL);
	T_STREQ(bad, "");
	T_CHECK(lapdata_channels_parse("", &cs, bad, sizeof bad) == -EINVAL);
	T_CHECK(lapdata_channels_parse("speed", &cs, bad, sizeof bad) == -EINVAL);
	T_STREQ(bad, "speed");
	T_CHECK(lapdata_channels_parse("pos_m_x", &cs, bad, sizeof bad) == -EINVAL);
	{
		char list[2048] = "", one[64];
		for (unsigned i = 0; i < FRAME_P_COUNT; i++) {
			snprintf(one, sizeof one, "%s%s", i ? "," : "", frame_channel_name(i));
			T_STRCAT(list, one);
		}
		T_CHECK(FRAME_P_COUNT > LAPDATA_MAX_CHANNELS);
		T_CHECK(lapdata_channels_parse(list, &cs, bad, sizeof bad) == -EINVAL);
		T_STREQ(bad, frame_channel_name(LAPDATA_MAX_CHANNELS));
		T_CHECK(cs.n == LAPDATA_MAX_CHANNELS && lapdata_max_frames(&cs) < 600000);
	}
}

/* --- against the truth --- */

struct variant {
	const char *name;
	uint64_t cleared;
	int model;
	enum lapdata_align want;
	double tol_s; /* delta vs truth at every point */
	int bunched;  /* receive times 1 us apart: frames sent at full speed */
};

static const struct variant variants[] = {
	{ "track model", 0, 1, LAPDATA_ALIGN_TRACK, 0.003 },
	{ "spline", 0, 0, LAPDATA_ALIGN_SPLINE, 0.003 },
	{ "lap distance", FRAME_P_SPLINE, 0, LAPDATA_ALIGN_LAP_DIST, 0.003 },
	{ "lap distance, no lap clock", FRAME_P_SPLINE | FRAME_P_LAP_TIME, 0,
	  LAPDATA_ALIGN_LAP_DIST, 0.003 },
	{ "spline, receive time only", FRAME_P_LAP_TIME | FRAME_P_GAME_TIME, 0,
	  LAPDATA_ALIGN_SPLINE, 0.003 },
	{ "speed", FRAME_P_SPLINE | FRAME_P_LAP_DIST, 0, LAPDATA_ALIGN_SPEED, 0.010 },
	{ "spline, sent at full speed", FRAME_P_GAME_TIME, 0, LAPDATA_ALIGN_SPLINE, 0.003, 1 },
	{ "speed, sent at full speed", FRAME_P_GAME_TIME | FRAME_P_SPLINE | FRAME_P_LAP_DIST, 0,
	  LAPDATA_ALIGN_SPEED, 0.010, 1 },
};

/* Lap 2 is the reference; laps 1 and 3 are compared with it. */
static void test_truth(void)
{
	for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
		const struct variant *var = &variants[v];
		struct pw_frame *f = without(&g_laps, var->cleared);
		struct lapdata_lap *laps[3] = { NULL, NULL, NULL };

		for (size_t k = 0; f && var->bunched && k < g_laps.n; k++)
			f[k].t_ns = 1750000000000000000ll + (int64_t)k * 1000;
		struct lapdata_result *r = NULL;
		char why[256];
		int idx[3] = { 1, 0, 2 };
		double worst[3] = { 0, 0, 0 }, end_err[3] = { 0, 0, 0 };

		T_CHECK(f && g_laps.nlaps >= 3);
		if (!f || g_laps.nlaps < 3)
			return;
		for (int k = 0; k < 3; k++)
			laps[k] = lap_of(f, g_laps.n, &g_laps.span[idx[k]], NULL);
		T_CHECK(lapdata_compute(laps, 3, var->model ? &g_model : NULL, 1.0, &r, why,
					sizeof why) == 0);
		if (r) {
			const double *dist = lapdata_distance(r);
			size_t np = lapdata_points(r);

			T_CHECKF(lapdata_alignment(r) == var->want, "%s: %s", var->name,
				 lapdata_align_name(lapdata_alignment(r)));
			T_NEAR(lapdata_length(r), track_length_m(g_track),
			       var->model ? 1e-9 : 0.05);
			for (int k = 0; k < 3; k++) {
				const double *t = lapdata_time(r, (size_t)k);
				const struct truth *tr = &g_truth[idx[k] + 1];
				for (size_t j = 0; j < np; j++) {
					double want = truth_time(tr, dist[j] * tr->len_m /
									     lapdata_length(r));
					worst[k] = fmax(worst[k], fabs(t[j] - want));
				}
				if (k > 0) {
					const double *dl = lapdata_delta(r, (size_t)k);
					double lap_diff = (g_laps.span[idx[k]].time_ms -
							   g_laps.span[idx[0]].time_ms) /
							  1000.0;
					end_err[k] = fabs(dl[np - 1] - lap_diff);
					/* the acceptance: the final delta is the lap-time difference */
					T_CHECKF(end_err[k] <= 0.010, "%s lap %d: %.4f", var->name,
						 idx[k] + 1, end_err[k]);
				}
				T_CHECKF(worst[k] <= var->tol_s, "%s lap %d: worst %.4f s",
					 var->name, idx[k] + 1, worst[k]);
			}
			fprintf(stderr,
				"  %-28s time vs truth worst %.1f / %.1f / %.1f ms (laps 2 1 3); final delta "
				"vs lap-time difference %.1f / %.1f ms (lap 1 %+.3f s)\n",
				var->name, worst[0] * 1e3, worst[1] * 1e3, worst[2] * 1e3,
				end_err[1] * 1e3, end_err[2] * 1e3, lapdata_delta(r, 1)[np - 1]);
		} else {
			fprintf(stderr, "  %s: %s\n", var->name, why);
		}
		lapdata_result_free(r);
		for (int k = 0; k < 3; k++)
			lapdata_lap_free(laps[k]);
		free(f);
	}
}

/* A lap on another line: the left boundary at 60 % of the speed, on the
 * model; its lap distance is the centre line's, so the truth is exact. */
static void test_other_line(void)
{
	struct lapdata_lap *laps[2] = { NULL, NULL };
	struct lapdata_result *r = NULL;
	double worst = 0;

	T_CHECK(g_left.nlaps >= 2);
	if (g_left.nlaps < 2)
		return;
	laps[0] = lap_of(g_laps.f, g_laps.n, &g_laps.span[1], NULL);
	laps[1] = lap_of(g_left.f, g_left.n, &g_left.span[1], NULL);
	T_CHECK(lapdata_compute(laps, 2, &g_model, 1.0, &r, NULL, 0) == 0);
	if (r) {
		const double *dist = lapdata_distance(r), *dl = lapdata_delta(r, 1);
		size_t np = lapdata_points(r);

		T_CHECK(lapdata_alignment(r) == LAPDATA_ALIGN_TRACK);
		for (size_t j = 0; j < np; j++) {
			double want = truth_time(&g_left_truth[2], dist[j]) -
				      truth_time(&g_truth[2], dist[j]);
			worst = fmax(worst, fabs(dl[j] - want));
		}
		T_CHECKF(worst <= 0.006, "worst %.4f", worst);
		T_NEAR(dl[np - 1], (g_left.span[1].time_ms - g_laps.span[1].time_ms) / 1000.0,
		       0.010);
		fprintf(stderr,
			"  left boundary vs racing line on the model: delta vs truth worst %.1f ms, "
			"final %.3f s\n",
			worst * 1e3, dl[np - 1]);
	}
	lapdata_result_free(r);
	lapdata_lap_free(laps[0]);
	lapdata_lap_free(laps[1]);
}

/* --- synthetic --- */

static void test_self(void)
{
	for (int model = 0; model < 2; model++) {
		struct lapdata_lap *laps[2];
		struct lapdata_result *r = NULL;

		laps[0] = lap_of(g_laps.f, g_laps.n, &g_laps.span[1], NULL);
		laps[1] = lap_of(g_laps.f, g_laps.n, &g_laps.span[1], NULL);
		T_CHECK(lapdata_compute(laps, 2, model ? &g_model : NULL, 0.5, &r, NULL, 0) == 0);
		if (r) {
			const double *dl = lapdata_delta(r, 1);
			int zero = 1;
			for (size_t j = 0; j < lapdata_points(r); j++)
				zero &= dl[j] == 0.0;
			T_CHECK(zero);
			T_CHECK(lapdata_delta(r, 0) == NULL);
			T_CHECK(lapdata_corner_count(r) == 10);
			for (size_t i = 0; i < lapdata_corner_count(r); i++) {
				const struct lapdata_corner_row *row = lapdata_corner_row(r, i);
				T_CHECK(row->time_s[1] == row->time_s[0] && row->time_s[0] > 0);
				T_CHECK(row->brake_m[1] == row->brake_m[0] ||
					isnan(row->brake_m[0]));
				T_CHECK(row->min_speed_kmh[1] == row->min_speed_kmh[0]);
			}
		}
		lapdata_result_free(r);
		lapdata_lap_free(laps[0]);
		lapdata_lap_free(laps[1]);
	}
}

/* The same lap with its clocks running 1 % slow: delta = 1 % of the reference's time. */
static void test_stretched_clock(void)
{
	for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
		const struct variant *var = &variants[v];
		struct pw_frame *f = without(&g_laps, var->cleared),
				*g = without(&g_laps, var->cleared);
		const struct lapdata_span *sp = &g_laps.span[1];
		struct lapdata_lap *laps[2] = { NULL, NULL };
		struct lapdata_result *r = NULL;
		double worst = 0, gt0 = 0;
		int64_t t0 = 0;

		if (!f || !g)
			goto next;
		for (size_t k = 0; k < g_laps.n; k++) {
			if (g[k].seq == sp->start_seq) {
				gt0 = g[k].game_time_s;
				t0 = g[k].t_ns;
			}
		}
		for (size_t k = 0; k < g_laps.n; k++) {
			g[k].lap_time_ms = (int32_t)lround(g[k].lap_time_ms * 1.01);
			g[k].game_time_s = gt0 + (g[k].game_time_s - gt0) * 1.01;
			g[k].t_ns = t0 + (int64_t)llround((double)(g[k].t_ns - t0) * 1.01);
		}
		for (size_t k = 0; var->bunched && k < g_laps.n; k++)
			f[k].t_ns = g[k].t_ns = 1750000000000000000ll + (int64_t)k * 1000;
		laps[0] = lap_of(f, g_laps.n, sp, NULL);
		{
			struct lapdata_span s2 = *sp;
			s2.time_ms = (int32_t)lround(sp->time_ms * 1.01);
			laps[1] = lap_of(g, g_laps.n, &s2, NULL);
		}
		T_CHECK(lapdata_compute(laps, 2, var->model ? &g_model : NULL, 1.0, &r, NULL, 0) ==
			0);
		if (r) {
			const double *t = lapdata_time(r, 0), *dl = lapdata_delta(r, 1);
			for (size_t j = 0; j < lapdata_points(r); j++)
				worst = fmax(worst, fabs(dl[j] - 0.01 * t[j]));
			T_CHECKF(worst <= 0.05, "%s: %.4f", var->name, worst);
			fprintf(stderr,
				"  clock stretched 1 %%, %-28s delta - 1 %% of t_ref: worst %.2f ms\n",
				var->name, worst * 1e3);
		}
next:
		lapdata_result_free(r);
		lapdata_lap_free(laps[0]);
		lapdata_lap_free(laps[1]);
		free(f);
		free(g);
	}
}

/* Corner table: the track's corners, each row's delta equal to the grid's
 * delta(end) - delta(start), times, minimum speeds and brake points as the
 * truth has them; the corners found without a model match track.h's. */
static void test_corners(void)
{
	for (int src = 0; src < 3; src++) {
		struct pw_frame *f = without(&g_laps, src == 2 ? FRAME_P_POS : 0);
		struct lapdata_lap *laps[3];
		struct lapdata_result *r = NULL;
		int idx[3] = { 1, 0, 2 };
		double werr_delta = 0, werr_t = 0, werr_v = 0, werr_b = 0, werr_pos = 0;
		int dirs_ok = 1;

		for (int k = 0; k < 3; k++)
			laps[k] = lap_of(f, g_laps.n, &g_laps.span[idx[k]], NULL);
		T_CHECK(lapdata_compute(laps, 3, src == 0 ? &g_model : NULL, 1.0, &r, NULL, 0) ==
			0);
		if (!r)
			goto next;
		T_CHECK(lapdata_corners_from(r) == (src == 0   ? LAPDATA_CORNERS_TRACK
						    : src == 1 ? LAPDATA_CORNERS_PATH
							       : LAPDATA_CORNERS_LATERAL_G));
		T_CHECKF(lapdata_corner_count(r) == (size_t)track_corner_count(g_track),
			 "%s: %zu corners", lapdata_corner_source_name(lapdata_corners_from(r)),
			 lapdata_corner_count(r));
		for (size_t i = 0;
		     i < lapdata_corner_count(r) && i < (size_t)track_corner_count(g_track); i++) {
			const struct lapdata_corner_row *row = lapdata_corner_row(r, i);
			const struct lapdata_corner *c = &row->corner;
			const struct track_corner *tc = track_corner(g_track, (int)i);
			const double *dist = lapdata_distance(r);
			size_t np = lapdata_points(r);

			dirs_ok &= c->dir == tc->direction;
			werr_pos = fmax(werr_pos, fmax(fabs(c->start_m - tc->start_m),
						       fabs(c->end_m - tc->end_m)));
			for (int k = 0; k < 3; k++) {
				const struct truth *tr = &g_truth[idx[k] + 1];
				double tt = truth_time(tr, c->end_m) - truth_time(tr, c->start_m);
				werr_t = fmax(werr_t, fabs(row->time_s[k] - tt));
				werr_v = fmax(werr_v,
					      fabs(row->min_speed_kmh[k] -
						   truth_min_speed(tr, c->start_m, c->end_m)));
				if (k > 0) {
					/* the grid's delta at the corner's ends, linear between points */
					const double *dl = lapdata_delta(r, (size_t)k);
					size_t a = (size_t)floor(c->start_m),
					       b = (size_t)floor(c->end_m);
					double da, db;
					T_CHECK(b + 1 < np);
					da = dl[a] + (dl[a + 1] - dl[a]) * (c->start_m - dist[a]);
					db = dl[b] + (dl[b + 1] - dl[b]) * (c->end_m - dist[b]);
					werr_delta = fmax(werr_delta,
							  fabs((row->time_s[k] - row->time_s[0]) -
							       (db - da)));
				}
				if (!isnan(row->brake_m[k])) {
					const struct lapdata_corner *p =
						&lapdata_corner_row(
							 r, (i + lapdata_corner_count(r) - 1) %
								    lapdata_corner_count(r))
							 ->corner;
					double lo =
						fmax(i ? p->end_m : p->end_m - lapdata_length(r),
						     c->start_m - 500);
					werr_b = fmax(werr_b,
						      fabs(row->brake_m[k] -
							   truth_brake_point(tr, lo, c->apex_m)));
				}
			}
		}
		T_CHECK(dirs_ok);
		T_CHECKF(werr_delta <= 0.002, "corner delta vs grid delta %.4f", werr_delta);
		T_CHECKF(werr_t <= 0.003, "corner time vs truth %.4f", werr_t);
		T_CHECKF(werr_v <= 0.5, "min speed vs truth %.3f", werr_v);
		T_CHECKF(werr_b <= 1.5, "brake point vs truth %.3f", werr_b);
		if (src == 0)
			T_CHECK(werr_pos == 0);
		else
			T_CHECKF(werr_pos <= (src == 1 ? 10.0 : 30.0), "corner ends %.1f m off",
				 werr_pos);
		fprintf(stderr,
			"  corners from %-19s %zu; ends vs track.h %.1f m; corner delta vs grid "
			"%.2f ms; time vs truth %.2f ms; min speed %.2f km/h; brake point %.2f m\n",
			lapdata_corner_source_name(lapdata_corners_from(r)),
			lapdata_corner_count(r), werr_pos, werr_delta * 1e3, werr_t * 1e3, werr_v,
			werr_b);
next:
		lapdata_result_free(r);
		for (int k = 0; k < 3; k++)
			lapdata_lap_free(laps[k]);
		free(f);
	}
}

static void test_grid(void)
{
	struct lapdata_lap *l = lap_of(g_laps.f, g_laps.n, &g_laps.span[1], NULL);
	struct lapdata_result *r = NULL;
	double len = track_length_m(g_track), bad_steps[] = { 0.05, 50.01, NAN, -1, 0 };
	struct lapdata_lap *many[8] = { l, l, l, l, l, l, l, l };

	for (int s = 0; s < 3; s++) {
		double step = s == 0 ? 1.0 : s == 1 ? 0.1 : 50.0;
		T_CHECK(lapdata_compute(&l, 1, &g_model, step, &r, NULL, 0) == 0);
		if (!r)
			continue;
		T_CHECK(lapdata_points(r) == (size_t)floor(len / step) + 2);
		T_CHECK(lapdata_distance(r)[0] == 0.0);
		T_NEAR(lapdata_distance(r)[1], step, 1e-12);
		T_CHECK(lapdata_distance(r)[lapdata_points(r) - 1] == len);
		T_NEAR(lapdata_time(r, 0)[lapdata_points(r) - 1], g_laps.span[1].time_ms / 1000.0,
		       0.002);
		T_CHECK(lapdata_corner_count(r) == 0); /* one lap: no table */
		lapdata_result_free(r);
		r = NULL;
	}
	for (size_t i = 0; i < sizeof bad_steps / sizeof *bad_steps; i++)
		T_CHECK(lapdata_compute(&l, 1, NULL, bad_steps[i], &r, NULL, 0) == -EINVAL && !r);
	T_CHECK(lapdata_compute(many, 8, NULL, 1, &r, NULL, 0) == -EINVAL);
	T_CHECK(lapdata_compute(many, 0, NULL, 1, &r, NULL, 0) == -EINVAL);
	T_CHECK(lapdata_compute(many, 7, NULL, 1, &r, NULL, 0) == 0);
	lapdata_result_free(r);
	lapdata_lap_free(l);
}

/* Gear and flags from the nearest sample, absent channels, a channel some frames lack. */
static void test_channel_kinds(void)
{
	struct pw_frame *f = without(&g_laps, FRAME_P_BOOST);
	struct lapdata_channels cs;
	struct lapdata_lap *l = NULL;
	struct lapdata_result *r = NULL;

	if (!f)
		return;
	for (size_t k = 0; k < g_laps.n; k += 2)
		f[k].present &= ~(uint64_t)FRAME_P_RPM;
	for (size_t k = 0; k < g_laps.n; k++)
		f[k].flags_known &= ~(uint16_t)FRAME_FLAG_IN_PIT;
	T_CHECK(lapdata_channels_parse(
			"gear,abs,in_pit,boost_bar,rpm,tyre_temp_c,yaw_rad,sector_ms", &cs, NULL,
			0) == 0);
	l = lap_of(f, g_laps.n, &g_laps.span[1], &cs);
	T_CHECK(lapdata_compute(&l, 1, NULL, 0.5, &r, NULL, 0) == 0);
	if (r) {
		size_t np = lapdata_points(r);
		const double *gear = lapdata_values(r, 0, 0), *abs_on = lapdata_values(r, 0, 1);
		const double *rpm = lapdata_values(r, 0, 4), *tt = lapdata_values(r, 0, 5);
		const double *yaw = lapdata_values(r, 0, 6), *sm = lapdata_values(r, 0, 7);
		int ints = 1, bits = 1, finite = 1, gears = 0, yaw_ok = 1;

		T_CHECK(gear && abs_on && rpm && tt && yaw && sm);
		T_CHECK(lapdata_values(r, 0, 2) == NULL); /* the game does not say */
		T_CHECK(lapdata_values(r, 0, 3) == NULL); /* absent in every frame */
		for (size_t j = 0; gear && abs_on && rpm && tt && yaw && j < np; j++) {
			ints &= gear[j] == floor(gear[j]) && gear[j] >= 1 && gear[j] <= 8;
			gears |= 1 << (int)gear[j];
			bits &= abs_on[j] == 0 || abs_on[j] == 1;
			finite &= isfinite(rpm[j]) && isfinite(tt[4 * j + 3]);
			yaw_ok &= fabs(yaw[j]) <= M_PI + 1e-9;
		}
		T_CHECK(ints && bits && finite && yaw_ok);
		T_CHECK(gears > 8); /* more than one gear */
	}
	lapdata_result_free(r);
	lapdata_lap_free(l);
	free(f);
}

/* A manifest's derived channels on distance: resampled like the frame's own
 * (speed_ms = speed_kmh / 3.6 at every point), computed over the lap's
 * frames in order (distance driven from the lap's start, by integral). */
static void test_manifest_channels(void)
{
	json_t *doc = json_loads("{\"channels\": [{\"name\": \"speed_ms\", \"formula\": "
				 "\"speed_kmh / 3.6\"}, {\"name\": \"driven_m\", \"formula\": "
				 "\"integral(speed_ms)\"}, {\"name\": \"boost_kpa\", "
				 "\"formula\": \"boost_bar * 100\"}]}",
				 0, NULL);
	struct pw_frame *f = without(&g_laps, FRAME_P_BOOST);
	struct manifest *m = NULL;
	struct lapdata_channels cs;
	struct lapdata_lap *l = NULL;
	struct lapdata_result *r = NULL;
	char err[MANIFEST_ERR_MAX], bad[64];

	T_EQ(manifest_parse(doc, "m", &m, err, sizeof err), 0);
	if (!m || !f)
		goto out;
	T_EQ(lapdata_channels_parse_with("speed_kmh,speed_ms,driven_m,boost_kpa", m, &cs, bad,
					 sizeof bad),
	     0);
	T_STREQ(lapdata_channels_name(&cs, 1), "speed_ms");
	T_CHECK(lapdata_channel_values(cs.id[2]) == 1 && !lapdata_channel_discrete(cs.id[2]));
	/* without the manifest the name is unknown */
	T_EQ(lapdata_channels_parse("speed_kmh,speed_ms", &cs, bad, sizeof bad), -EINVAL);
	T_STREQ(bad, "speed_ms");
	T_EQ(lapdata_channels_parse_with("speed_kmh,speed_ms,driven_m,boost_kpa", m, &cs, bad,
					 sizeof bad),
	     0);
	l = lap_of(f, g_laps.n, &g_laps.span[1], &cs);
	T_CHECK(l && lapdata_compute(&l, 1, NULL, 1.0, &r, NULL, 0) == 0);
	if (r) {
		size_t np = lapdata_points(r), bad_pts = 0;
		const double *v = lapdata_values(r, 0, 0), *ms = lapdata_values(r, 0, 1);
		const double *dr = lapdata_values(r, 0, 2);

		T_CHECK(v && ms && dr);
		T_CHECK(lapdata_values(r, 0, 3) == NULL); /* no boost: no value anywhere */
		for (size_t j = 0; v && ms && j < np; j++)
			bad_pts += fabs(ms[j] - v[j] / 3.6) > 1e-3;
		T_EQ(bad_pts, (size_t)0);
		/* the integral grows by the lap's length over the lap (within 1 %) */
		if (dr)
			T_NEAR(dr[np - 1] - dr[0], lapdata_length(r), lapdata_length(r) * 0.01);
	}
out:
	lapdata_result_free(r);
	lapdata_lap_free(l);
	manifest_free(m);
	json_decref(doc);
	free(f);
}

/* A lap seen from the middle: nothing before where it was first seen. */
static void test_partial_lap(void)
{
	struct lapdata_span sp = g_laps.span[1];
	struct lapdata_lap *l;
	struct lapdata_result *r = NULL;

	sp.start_seq += 4000; /* 67 s into the lap */
	l = lap_of(g_laps.f, g_laps.n, &sp, NULL);
	T_CHECK(lapdata_compute(&l, 1, &g_model, 1.0, &r, NULL, 0) == 0);
	if (r) {
		const double *t = lapdata_time(r, 0), *v = lapdata_values(r, 0, 0);
		double first = NAN, d0;
		size_t j;

		for (j = 0; j < lapdata_points(r) && isnan(t[j]); j++)
			T_CHECK(isnan(v[j]));
		first = lapdata_distance(r)[j];
		/* the frame before the lap's first is its first sample; at most 50 m before it */
		d0 = g_laps.f[sp.start_seq - 1 - SEQ0].lap_dist_m;
		T_CHECKF(first >= d0 - LAPDATA_EXTRAPOLATE_M - 1.0 &&
				 first <= d0 - LAPDATA_EXTRAPOLATE_M + 1.0,
			 "first %.1f, lap distance of the first frame %.1f", first, d0);
		/* the times there are the lap clock's */
		T_NEAR(t[lapdata_points(r) - 1], g_laps.span[1].time_ms / 1000.0, 0.002);
	}
	lapdata_result_free(r);
	lapdata_lap_free(l);
}

static void test_no_distance(void)
{
	struct pw_frame *f = without(&g_laps, FRAME_P_SPLINE | FRAME_P_LAP_DIST | FRAME_P_SPEED);
	struct lapdata_lap *l = f ? lap_of(f, g_laps.n, &g_laps.span[1], NULL) : NULL;
	struct lapdata_result *r = NULL;
	char why[200];

	T_CHECK(lapdata_compute(&l, 1, NULL, 1, &r, why, sizeof why) == -ENODATA && !r);
	T_CHECKF(strstr(why, "lap 0 has no") != NULL, "%s", why);
	/* with a model the positions do */
	T_CHECK(lapdata_compute(&l, 1, &g_model, 1, &r, why, sizeof why) == 0);
	lapdata_result_free(r);
	lapdata_lap_free(l);
	free(f);
}

/* The frame file: a lap read by its seq range equals the lap from memory. */
static void test_load(void)
{
	char dir[] = "/tmp/pw-test-lapdata-XXXXXX", path[128];
	struct framefile_hdr h = { .codec = BLOCKCODEC_PACK };
	struct framefile_writer *w = NULL;
	struct lapdata_channels cs;
	struct lapdata_lap *a = NULL, *b = NULL;
	struct lapdata_result *ra = NULL, *rb = NULL;
	struct lapdata_span sp = g_laps.span[2], bad;

	T_CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/run.frames", dir);
	snprintf(h.feed, sizeof h.feed, "ksudp");
	snprintf(h.run_id, sizeof h.run_id, "run");
	T_CHECK(framefile_create(&w, path, &h) == 0);
	T_CHECK(framefile_append(w, g_laps.f, g_laps.n) == 0 && framefile_close(w) == 0);
	lapdata_channels_default(&cs);
	T_CHECK(lapdata_load(path, &sp, &cs, &a) == 0 && a);
	b = lap_of(g_laps.f, g_laps.n, &sp, NULL);
	if (a && b) {
		T_CHECK(lapdata_lap_frames(a) == sp.end_seq - sp.start_seq + 1);
		T_CHECK(lapdata_lap_frames(a) == lapdata_lap_frames(b));
		T_CHECK(lapdata_compute(&a, 1, NULL, 1, &ra, NULL, 0) == 0);
		T_CHECK(lapdata_compute(&b, 1, NULL, 1, &rb, NULL, 0) == 0);
		T_CHECK(ra && rb && lapdata_points(ra) == lapdata_points(rb) &&
			memcmp(lapdata_time(ra, 0), lapdata_time(rb, 0),
			       lapdata_points(ra) * sizeof(double)) == 0);
	}
	lapdata_lap_free(b);
	bad = sp;
	bad.end_seq = g_laps.f[g_laps.n - 1].seq + 5; /* not all stored yet */
	T_CHECK(lapdata_load(path, &bad, &cs, &b) == -EAGAIN && b == NULL);
	bad = (struct lapdata_span){ 1, SEQ0 - 10, -1 }; /* before the run */
	T_CHECK(lapdata_load(path, &bad, &cs, &b) == -ENODATA);
	bad = (struct lapdata_span){ SEQ0 + 10, SEQ0 + 9, -1 };
	T_CHECK(lapdata_load(path, &bad, &cs, &b) == -EINVAL);
	T_CHECK(lapdata_load("/nonexistent/run.frames", &sp, &cs, &b) == -ENOENT);
	lapdata_result_free(ra);
	lapdata_result_free(rb);
	lapdata_lap_free(a);
	unlink(path);
	rmdir(dir);
}

/* The real AC capture: its one lap (an out lap from the pit box) on distance. */
static void test_ac_monza(void)
{
	static struct dec_state st;
	struct pcap_reader *pr;
	struct pcap_pkt p;
	struct pw_frame *f = calloc(16384, sizeof *f);
	struct laps *lt = laps_new();
	struct lap_event ev[LAPS_MAX_EVENTS];
	struct lapdata_span sp = { 0, 0, -1 };
	struct lapdata_lap *l = NULL;
	struct lapdata_result *r = NULL;
	size_t n = 0;
	char why[200] = "";

	T_CHECK(f && lt && pcap_open(&pr, t_data_path(AC_CAPTURE)) == 0);
	if (!f || !lt)
		goto out;
	dec_reset(&st);
	while (n < 16384 && pcap_next(pr, &p) == 1)
		if (dec_ksudp.decode(&st, p.data, p.len, &f[n]) == DEC_FRAME) {
			int ne;
			f[n].seq = 1 + n;
			f[n].t_ns = p.t_ns;
			ne = laps_feed(lt, &f[n], ev, LAPS_MAX_EVENTS);
			for (int i = 0; i < ne; i++)
				if (ev[i].kind == LAP_COMPLETED)
					sp = (struct lapdata_span){ ev[i].lap.start_seq,
								    ev[i].lap.end_seq,
								    ev[i].lap.time_ms };
			n++;
		}
	pcap_close(pr);
	T_CHECK(sp.time_ms == AC_LAP_MS);
	l = lap_of(f, n, &sp, NULL);
	T_CHECK(lapdata_compute(&l, 1, NULL, 1.0, &r, why, sizeof why) == 0);
	if (r) {
		size_t np = lapdata_points(r);
		const double *t = lapdata_time(r, 0), *v = lapdata_values(r, 0, 0);
		double vmax = 0;

		T_CHECK(lapdata_alignment(r) == LAPDATA_ALIGN_SPLINE);
		/* AC sends no track length: the lap's own, driven; Monza is 5793 m */
		T_CHECKF(fabs(lapdata_length(r) - 5793) < 150, "length %.1f", lapdata_length(r));
		/* AC's spline passes 0 about 19 ms (1.2 m) before its lap clock restarts */
		T_NEAR(t[np - 1], AC_LAP_MS / 1000.0, 0.025);
		for (size_t j = 0; j < np; j++)
			vmax = fmax(vmax, v[j]);
		T_CHECK(vmax > 200 && vmax < 300);
		fprintf(stderr,
			"  AC Monza lap 1 (out lap): %zu frames, length %.1f m, time at the "
			"line %.3f s (game %.3f s), at 0 m %.3f s, top speed %.1f km/h\n",
			lapdata_lap_frames(l), lapdata_length(r), t[np - 1], AC_LAP_MS / 1000.0,
			t[0], vmax);
	} else {
		fprintf(stderr, "  AC Monza: %s\n", why);
	}
out:
	lapdata_result_free(r);
	lapdata_lap_free(l);
	laps_free(lt);
	free(f);
}

int main(void)
{
	g_track = track_new();
	if (!g_track || drive(&g_laps, DRIVER_LAPS, RATE_HZ, 300) < 0 ||
	    drive(&g_left, DRIVER_LEFT, RATE_HZ, 400) < 0 ||
	    drive_truth(DRIVER_LAPS, 300, g_truth) < 0 ||
	    drive_truth(DRIVER_LEFT, 400, g_left_truth) < 0) {
		fprintf(stderr, "cannot set up the emulator runs\n");
		return 1;
	}
	build_model();
	fprintf(stderr, "  emulator: %d laps (%d %d %d ms), left boundary: %d laps (%d ms)\n",
		g_laps.nlaps, g_laps.span[0].time_ms, g_laps.span[1].time_ms,
		g_laps.span[2].time_ms, g_left.nlaps, g_left.span[1].time_ms);
	T_RUN(test_channels);
	T_RUN(test_truth);
	T_RUN(test_other_line);
	T_RUN(test_self);
	T_RUN(test_stretched_clock);
	T_RUN(test_corners);
	T_RUN(test_grid);
	T_RUN(test_channel_kinds);
	T_RUN(test_manifest_channels);
	T_RUN(test_partial_lap);
	T_RUN(test_no_distance);
	T_RUN(test_load);
	T_RUN(test_ac_monza);
	return T_DONE();
}
