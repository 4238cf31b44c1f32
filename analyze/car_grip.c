/*
 * car_grip.c - the car_grip use case: the car's grip envelope from laps
 * driven at the limit (the seed's "Car Grip Analysis Response (v0.7.1)").
 *
 * Output, exactly the seed's keys and nesting (full description with the
 * reasoning in docs/analysis-car_grip.md):
 *
 *   {"summary":{"max_lateral_g","max_accel_g","max_brake_g","max_combined_g",
 *               "peak_lateral_speed_kmh"},
 *    "grip_envelope":[{"speed_kmh","max_lateral_g","max_accel_g","max_brake_g",
 *                      "sample_count"}, ...],
 *    "grip_circle":[{"longitudinal_g","lateral_g"}, ...],
 *    "steering_response":[{"steer","lateral_g","speed_kmh"}, ...],
 *    "runs_analyzed", "total_frames_analyzed"}
 *
 * Units are the frame's: g (lateral + right, longitudinal + forward), km/h,
 * steer -1..1 (+ right). g values are rounded to 0.001, speeds to 0.1 km/h,
 * steer to 0.001.
 *
 * Usable frames: speed (speed_kmh, or |vel_ms| when only that is present)
 * and both accel_lat_g and accel_lon_g present; not paused, not in the pit,
 * not in reverse; 10 <= speed < 600 km/h. Usable frames form segments of
 * consecutive frames of one run; a segment also ends where the frames'
 * clock (game_time_s, else t_ns) goes backwards or jumps by more than
 * max(8 frame periods, 0.2 s). Segments shorter than 3 frames are dropped
 * (too short to tell a spike from grip); every frame of the remaining ones
 * is "analyzed" (total_frames_analyzed, sample_count).
 *
 * Impacts are not grip: a frame whose lateral or longitudinal g exceeds
 * 10 g, or whose vertical g departs more than 1 g from the run's median
 * vertical g (a kerb strike, a landing, a collision; the median makes it
 * work whether or not the game includes gravity), is left out together
 * with the frames within 0.15 s before and after it. Runs without a
 * vertical channel only get the 10 g test.
 *
 * Robust peaks: lateral and longitudinal g are replaced by their running
 * median over a centred window of 2h+1 frames, h = floor(frame rate / 75
 * Hz) clamped to 2..4 (below 225 Hz: 5 frames, 83 ms at 60 Hz; 225-299 Hz:
 * 7; from 300 Hz: 9 frames, 27 ms at 333 Hz; h = 2 when the run has no
 * clock), truncated at segment ends. A glitch of up to h consecutive
 * frames cannot reach the median, while a plateau or a smooth peak lasting
 * longer than the window keeps its full height: the envelope's peaks are
 * maxima of the filtered signal, not percentiles, so they are not biased
 * low by the time spent below the limit (on the emulator they sit 0-2 %
 * below the raw data maximum, which is the peak plus noise and 1-2 frame
 * transients).
 *
 * grip_envelope: 10 km/h bins [10k, 10k+10), speed_kmh the bin centre,
 * ascending, only bins holding analyzed frames. max_lateral_g = max |lat|,
 * max_accel_g = max(lon, 0), max_brake_g = max(-lon, 0) over the bin's
 * filtered samples; sample_count = analyzed frames in the bin.
 * summary: the maxima over all bins; max_combined_g = max sqrt(lat^2 +
 * lon^2) of the filtered samples; peak_lateral_speed_kmh = the speed of the
 * frame where max_lateral_g occurred (not a bin centre).
 *
 * Scatter (filtered samples, in time order, at most 800 points each):
 * grip_circle keeps the outermost sample of each of 360 equal sectors of
 * the (lon, lat) plane (sectors in pseudo-angle, a cheap monotonic stand-in
 * for atan2) plus the samples holding the summary's extremes (left, right,
 * accel, brake, combined), then fills the rest of the budget with every
 * k-th sample. steering_response (frames with steer only) keeps the highest
 * and lowest lateral g in each of 200 steer columns over -1..1, then fills
 * with every k-th sample. With 800 or fewer candidates every one is output.
 *
 * Cost: one pass over the frames, a branch-free median network per sample
 * and axis, a few passes over the 16-byte samples (one allocation of 16
 * bytes per frame); ~70 ns per frame at 333 Hz (tests/bench/bench_car_grip).
 * Pure: no I/O, no globals.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analysis.h"

#define GRIP_E_NO_MEMORY AN_E_NO_MEMORY

#define GRIP_MIN_KMH 10.0
#define GRIP_MAX_KMH 600.0
#define GRIP_BIN_KMH 10.0
#define GRIP_BINS 60 /* GRIP_MAX_KMH / GRIP_BIN_KMH */
#define GRIP_MAX_ABS_G 10.0
#define GRIP_MIN_SEGMENT 3

#define GRIP_HZ_PER_HALF 75.0 /* h = rate / 75 Hz, rounded down */
#define GRIP_HALF_MIN 2
#define GRIP_HALF_MAX 4
#define GRIP_WINDOW_MAX (2 * GRIP_HALF_MAX + 1)
#define GRIP_RING 16 /* > GRIP_WINDOW_MAX; a power of two */

#define GRIP_GAP_PERIODS 8.0
#define GRIP_GAP_MIN_S 0.2
#define GRIP_PROBES 63 /* frames sampled for a run's period and vertical level */
#define GRIP_DEFAULT_PERIOD_S (1.0 / 60.0) /* when the run has no clock */

#define GRIP_SHOCK_VERT_G 1.0
#define GRIP_IMPACT_GUARD_S 0.15

#define GRIP_SCATTER_POINTS 800
#define GRIP_CIRCLE_SECTORS 360
#define GRIP_STEER_COLUMNS 200

enum grip_sample_bits {
	GS_STEER = 1u << 0,    /* steer present */
	GS_CIRCLE = 1u << 1,   /* picked for grip_circle */
	GS_STEERING = 1u << 2, /* picked for steering_response */
};

#define GRIP_STEER_SCALE 10000.0f /* steer stored as int16 in 1/10000 */

/* One usable frame, 16 bytes; lat/lon hold the raw g until the segment is
 * filtered. */
struct grip_sample {
	float lat_g, lon_g;
	float speed_kmh;
	int16_t steer_q; /* steer * GRIP_STEER_SCALE, when GS_STEER */
	uint16_t bits;
};
_Static_assert(sizeof(struct grip_sample) == 16, "samples stay small");

struct grip_bin {
	double max_lat_g, max_accel_g, max_brake_g;
	size_t count;
};

/* Indices of the samples holding the summary's extremes. */
enum grip_extreme { GX_LEFT, GX_RIGHT, GX_ACCEL, GX_BRAKE, GX_COMBINED_SQ, GX_COUNT };

/* Why frames were not used, for the no-data message. */
struct grip_rejects {
	size_t frames, paused, pit, reverse, no_channels, slow, impact, short_segment;
};

struct grip {
	struct grip_sample *s;
	size_t n;         /* samples kept so far */
	size_t seg_start; /* first sample of the open segment */
	int half;         /* median half-window of the current run */
	struct grip_bin bins[GRIP_BINS];
	double extreme_val[GX_COUNT];
	size_t extreme_at[GX_COUNT];
	size_t runs_used;
	struct grip_rejects rej;
};

/* --- running median --- */

/* Compare-exchange: p[a] <= p[b] afterwards. Written exactly as the SSE
 * minss/maxss semantics so that the compiler emits them, not branches. */
#define GRIP_CX(a, b)                       \
	do {                                \
		float x_ = p[a], y_ = p[b]; \
		p[a] = x_ < y_ ? x_ : y_;   \
		p[b] = x_ > y_ ? x_ : y_;   \
	} while (0)

/* Median selection networks for 5, 7 and 9 values (N. Devillard, "Fast
 * median search", 1998); checked exhaustively on 0/1 inputs. p is
 * scrambled. Branch-free: a noisy window costs no mispredictions. */
static float median5(float *p)
{
	GRIP_CX(0, 1);
	GRIP_CX(3, 4);
	GRIP_CX(0, 3);
	GRIP_CX(1, 4);
	GRIP_CX(1, 2);
	GRIP_CX(2, 3);
	GRIP_CX(1, 2);
	return p[2];
}

static float median7(float *p)
{
	GRIP_CX(0, 5);
	GRIP_CX(0, 3);
	GRIP_CX(1, 6);
	GRIP_CX(2, 4);
	GRIP_CX(0, 1);
	GRIP_CX(3, 5);
	GRIP_CX(2, 6);
	GRIP_CX(2, 3);
	GRIP_CX(3, 6);
	GRIP_CX(4, 5);
	GRIP_CX(1, 4);
	GRIP_CX(1, 3);
	GRIP_CX(3, 4);
	return p[3];
}

static float median9(float *p)
{
	GRIP_CX(1, 2);
	GRIP_CX(4, 5);
	GRIP_CX(7, 8);
	GRIP_CX(0, 1);
	GRIP_CX(3, 4);
	GRIP_CX(6, 7);
	GRIP_CX(1, 2);
	GRIP_CX(4, 5);
	GRIP_CX(7, 8);
	GRIP_CX(0, 3);
	GRIP_CX(5, 8);
	GRIP_CX(4, 7);
	GRIP_CX(3, 6);
	GRIP_CX(1, 4);
	GRIP_CX(2, 5);
	GRIP_CX(4, 7);
	GRIP_CX(4, 2);
	GRIP_CX(6, 4);
	GRIP_CX(4, 2);
	return p[4];
}

/* Median of p[0..n), 1 <= n <= GRIP_WINDOW_MAX; the mean of the two middle
 * values for even n (truncated windows at segment ends). p is scrambled. */
static float median_small(float *p, int n)
{
	if (n == 5)
		return median5(p);
	if (n == 7)
		return median7(p);
	if (n == 9)
		return median9(p);
	for (int i = 1; i < n; i++) {
		float v = p[i];
		int j = i;

		while (j > 0 && p[j - 1] > v) {
			p[j] = p[j - 1];
			j--;
		}
		p[j] = v;
	}
	return n % 2 ? p[n / 2] : 0.5f * (p[n / 2 - 1] + p[n / 2]);
}

/* Replace lat_g/lon_g of s[0..len) by their centred running medians over
 * s[i-h..i+h], truncated at both ends. In place: the rings keep the raw
 * values of samples already overwritten (sample j lives at j % GRIP_RING). */
static void filter_segment(struct grip_sample *s, size_t len, int h)
{
	float lat[GRIP_RING], lon[GRIP_RING];
	size_t loaded = 0;

	for (size_t i = 0; i < len; i++) {
		size_t lo = i >= (size_t)h ? i - (size_t)h : 0;
		size_t hi = i + (size_t)h < len ? i + (size_t)h : len - 1;
		float wlat[GRIP_WINDOW_MAX], wlon[GRIP_WINDOW_MAX];
		int n = 0;

		for (; loaded <= hi; loaded++) {
			lat[loaded % GRIP_RING] = s[loaded].lat_g;
			lon[loaded % GRIP_RING] = s[loaded].lon_g;
		}
		for (size_t j = lo; j <= hi; j++, n++) {
			wlat[n] = lat[j % GRIP_RING];
			wlon[n] = lon[j % GRIP_RING];
		}
		s[i].lat_g = median_small(wlat, n);
		s[i].lon_g = median_small(wlon, n);
	}
}

/* --- accumulation --- */

static void note_extreme(struct grip *g, enum grip_extreme x, double v, size_t at)
{
	if (v > g->extreme_val[x]) {
		g->extreme_val[x] = v;
		g->extreme_at[x] = at;
	}
}

static void accumulate(struct grip *g, size_t at)
{
	const struct grip_sample *s = &g->s[at];
	int k = (int)(s->speed_kmh / GRIP_BIN_KMH);
	struct grip_bin *b = &g->bins[k < GRIP_BINS ? k : GRIP_BINS - 1];
	double lat = s->lat_g, lon = s->lon_g;

	b->count++;
	if (fabs(lat) > b->max_lat_g)
		b->max_lat_g = fabs(lat);
	if (lon > b->max_accel_g)
		b->max_accel_g = lon;
	if (-lon > b->max_brake_g)
		b->max_brake_g = -lon;
	note_extreme(g, GX_LEFT, -lat, at);
	note_extreme(g, GX_RIGHT, lat, at);
	note_extreme(g, GX_ACCEL, lon, at);
	note_extreme(g, GX_BRAKE, -lon, at);
	note_extreme(g, GX_COMBINED_SQ, lat * lat + lon * lon, at);
}

/* Close the open segment: drop it when too short, else filter and count it. */
static void end_segment(struct grip *g)
{
	size_t len = g->n - g->seg_start;

	if (len == 0)
		return;
	if (len < GRIP_MIN_SEGMENT) {
		g->rej.short_segment += len;
		g->n = g->seg_start;
		return;
	}
	filter_segment(&g->s[g->seg_start], len, g->half);
	for (size_t i = g->seg_start; i < g->n; i++)
		accumulate(g, i);
	g->seg_start = g->n;
}

/* --- frames --- */

static int frame_speed(const struct pw_frame *f, double *kmh)
{
	if (f->present & FRAME_P_SPEED) {
		*kmh = f->speed_kmh;
		return 1;
	}
	if (f->present & FRAME_P_VEL) {
		*kmh = 3.6 * sqrt((double)f->vel_ms[0] * f->vel_ms[0] +
				  (double)f->vel_ms[1] * f->vel_ms[1] +
				  (double)f->vel_ms[2] * f->vel_ms[2]);
		return 1;
	}
	return 0;
}

static int flag_set(const struct pw_frame *f, unsigned flag)
{
	return (f->flags_known & flag) && (f->flags & flag);
}

/* NULL when f is usable (*kmh = its speed), else the counter of the reason. */
static size_t *reject_reason(const struct pw_frame *f, struct grip_rejects *r, double *kmh)
{
	const uint64_t accel = FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON;

	if (flag_set(f, FRAME_FLAG_PAUSED))
		return &r->paused;
	if (flag_set(f, FRAME_FLAG_IN_PIT))
		return &r->pit;
	if ((f->present & FRAME_P_GEAR) && f->gear < 0)
		return &r->reverse;
	if ((f->present & accel) != accel || !frame_speed(f, kmh) || !isfinite(*kmh) ||
	    !isfinite(f->accel_lat_g) || !isfinite(f->accel_lon_g))
		return &r->no_channels;
	if (!(*kmh >= GRIP_MIN_KMH && *kmh < GRIP_MAX_KMH))
		return &r->slow;
	if (fabsf(f->accel_lat_g) > GRIP_MAX_ABS_G || fabsf(f->accel_lon_g) > GRIP_MAX_ABS_G)
		return &r->impact; /* the caller's impact() counts it */
	return NULL;
}

/* Seconds from a to b on the frames' clock; NAN when they share none. */
static double frame_dt(const struct pw_frame *a, const struct pw_frame *b)
{
	if (a->present & b->present & FRAME_P_GAME_TIME)
		return b->game_time_s - a->game_time_s;
	if (a->t_ns && b->t_ns)
		return (double)(b->t_ns - a->t_ns) * 1e-9;
	return NAN;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_of(double *v, int k)
{
	qsort(v, (size_t)k, sizeof v[0], cmp_double);
	return v[k / 2];
}

/* Median frame period of a run from evenly spread neighbour pairs; 0 when
 * the run has no usable clock. */
static double run_period_s(const struct an_run *r)
{
	double dt[GRIP_PROBES];
	int k = 0;

	if (r->n < 2)
		return 0.0;
	for (int p = 0; p < GRIP_PROBES; p++) {
		size_t i = (size_t)((double)p * (double)(r->n - 1) / GRIP_PROBES);
		double d = frame_dt(&r->frames[i], &r->frames[i + 1]);

		if (d > 0.0 && isfinite(d))
			dt[k++] = d;
	}
	return k ? median_of(dt, k) : 0.0;
}

/* The run's resting vertical g (0 or 1 g depending on the game), from
 * evenly spread frames; NAN when the run has no vertical channel. */
static double run_vert_level_g(const struct an_run *r)
{
	double v[GRIP_PROBES];
	int k = 0;

	for (int p = 0; p < GRIP_PROBES && r->n; p++) {
		size_t i = (size_t)((double)p * (double)r->n / GRIP_PROBES);
		const struct pw_frame *f = &r->frames[i];

		if ((f->present & FRAME_P_ACCEL_VERT) && isfinite(f->accel_vert_g))
			v[k++] = f->accel_vert_g;
	}
	return k ? median_of(v, k) : NAN;
}

static int median_half(double period_s)
{
	long h;

	if (!(period_s > 0.0))
		return GRIP_HALF_MIN;
	/* the epsilon keeps 300 Hz at 4, not 3.999 */
	h = (long)floor(1.0 / (GRIP_HZ_PER_HALF * period_s) + 1e-6);
	return h < GRIP_HALF_MIN ? GRIP_HALF_MIN : h > GRIP_HALF_MAX ? GRIP_HALF_MAX : (int)h;
}

/* A clock that runs backwards (rewind, restart) or jumps ends the segment. */
static int clock_breaks(const struct pw_frame *prev, const struct pw_frame *f, double gap_s)
{
	double dt = frame_dt(prev, f);

	return !isnan(dt) && (dt < 0.0 || dt > gap_s);
}

/* A vertical shock: kerb strike, landing, collision. */
static int vertical_shock(const struct pw_frame *f, double level_g)
{
	return !isnan(level_g) && (f->present & FRAME_P_ACCEL_VERT) &&
	       fabs(f->accel_vert_g - level_g) > GRIP_SHOCK_VERT_G;
}

/* An impact at the current frame: the open segment loses the frames of the
 * guard time before it, and ends. */
static void impact(struct grip *g, size_t guard)
{
	size_t open = g->n - g->seg_start, k = guard < open ? guard : open;

	g->n -= k;
	g->rej.impact += k + 1;
	end_segment(g);
}

struct run_scan {
	double gap_s; /* a longer clock step ends a segment */
	double vert_level_g;
	size_t guard; /* frames excluded either side of an impact */
};

static void scan_setup(struct grip *g, const struct an_run *r, struct run_scan *rs)
{
	double period = run_period_s(r);

	g->half = median_half(period);
	rs->gap_s = fmax(GRIP_GAP_PERIODS * period, GRIP_GAP_MIN_S);
	rs->vert_level_g = run_vert_level_g(r);
	if (!(period > 0.0))
		period = GRIP_DEFAULT_PERIOD_S;
	/* the epsilon keeps 0.15 s at 60 Hz at 9 frames, not 10 */
	rs->guard = (size_t)ceil(GRIP_IMPACT_GUARD_S / period - 1e-6);
}

static void add_sample(struct grip *g, const struct pw_frame *f, double kmh)
{
	struct grip_sample *s = &g->s[g->n++];

	s->lat_g = f->accel_lat_g;
	s->lon_g = f->accel_lon_g;
	s->speed_kmh = (float)kmh;
	s->bits = 0;
	s->steer_q = 0;
	if ((f->present & FRAME_P_STEER) && isfinite(f->steer)) {
		float steer = f->steer < -1.0f ? -1.0f : f->steer > 1.0f ? 1.0f : f->steer;

		s->steer_q = (int16_t)lrintf(steer * GRIP_STEER_SCALE);
		s->bits = GS_STEER;
	}
}

static void scan_run(struct grip *g, const struct an_run *r)
{
	struct run_scan rs;
	const struct pw_frame *prev = NULL;
	size_t before = g->n, quiet_until = 0;

	scan_setup(g, r, &rs);
	g->rej.frames += r->n;
	for (size_t i = 0; i < r->n; i++) {
		const struct pw_frame *f = &r->frames[i];
		size_t *why;
		double kmh;

		why = reject_reason(f, &g->rej, &kmh);
		if (why == &g->rej.impact || (!why && vertical_shock(f, rs.vert_level_g))) {
			impact(g, rs.guard);
			quiet_until = i + rs.guard + 1;
			prev = NULL;
			continue;
		}
		if (why || i < quiet_until) {
			if (why)
				(*why)++;
			else
				g->rej.impact++;
			end_segment(g);
			prev = NULL;
			continue;
		}
		if (prev && clock_breaks(prev, f, rs.gap_s))
			end_segment(g);
		prev = f;
		add_sample(g, f, kmh);
	}
	end_segment(g);
	if (g->n > before)
		g->runs_used++;
}

/* --- scatter selection --- */

/* Pseudo-angle of (x, y) in [0, 4), monotonic in atan2(y, x). */
static double pseudo_angle(double x, double y)
{
	double p, d = fabs(x) + fabs(y);

	if (d == 0.0)
		return 0.0;
	p = y / d; /* -1..1 over the right half plane */
	return x >= 0.0 ? (p < 0.0 ? 4.0 + p : p) : 2.0 - p;
}

/* Mark every k-th sample having the `need` bits with `mark`, so that about
 * budget samples are marked; all of them when there are not more. */
static void pick_stride(struct grip *g, uint16_t need, uint16_t mark, size_t total, size_t budget)
{
	size_t seen = 0, j = 0, next = 0;

	if (budget == 0)
		return;
	for (size_t i = 0; i < g->n && j < budget; i++) {
		if ((g->s[i].bits & need) != need)
			continue;
		if (total <= budget || seen == next) {
			g->s[i].bits |= mark;
			j++;
			next = (size_t)((double)j * (double)total / (double)budget);
		}
		seen++;
	}
}

/* Set mark on sample i; 1 when it was not set before. */
static size_t mark_sample(struct grip *g, size_t i, uint16_t mark)
{
	size_t fresh = !(g->s[i].bits & mark);

	g->s[i].bits |= mark;
	return fresh;
}

static void pick_circle(struct grip *g)
{
	size_t best[GRIP_CIRCLE_SECTORS];
	double r_best[GRIP_CIRCLE_SECTORS];
	size_t kept = 0;

	if (g->n <= GRIP_SCATTER_POINTS) {
		pick_stride(g, 0, GS_CIRCLE, g->n, g->n);
		return;
	}
	for (int k = 0; k < GRIP_CIRCLE_SECTORS; k++)
		r_best[k] = -1.0;
	for (size_t i = 0; i < g->n; i++) {
		double x = g->s[i].lon_g, y = g->s[i].lat_g, r2 = x * x + y * y;
		int k = (int)(pseudo_angle(x, y) * (GRIP_CIRCLE_SECTORS / 4.0));

		if (k >= GRIP_CIRCLE_SECTORS)
			k = GRIP_CIRCLE_SECTORS - 1;
		if (r2 > r_best[k]) {
			r_best[k] = r2;
			best[k] = i;
		}
	}
	for (int k = 0; k < GRIP_CIRCLE_SECTORS; k++)
		if (r_best[k] >= 0.0)
			kept += mark_sample(g, best[k], GS_CIRCLE);
	for (int x = 0; x < GX_COUNT; x++)
		if (g->extreme_val[x] > 0.0)
			kept += mark_sample(g, g->extreme_at[x], GS_CIRCLE);
	if (kept < GRIP_SCATTER_POINTS)
		pick_stride(g, 0, GS_CIRCLE, g->n, GRIP_SCATTER_POINTS - kept);
}

static void pick_steering(struct grip *g)
{
	size_t hi[GRIP_STEER_COLUMNS], lo[GRIP_STEER_COLUMNS];
	int used[GRIP_STEER_COLUMNS] = { 0 };
	size_t total = 0, kept = 0;

	for (size_t i = 0; i < g->n; i++) {
		const struct grip_sample *s = &g->s[i];
		int c;

		if (!(s->bits & GS_STEER))
			continue;
		total++;
		c = (int)((s->steer_q / GRIP_STEER_SCALE + 1.0f) * (GRIP_STEER_COLUMNS / 2));
		if (c >= GRIP_STEER_COLUMNS)
			c = GRIP_STEER_COLUMNS - 1;
		if (!used[c]) {
			used[c] = 1;
			hi[c] = lo[c] = i;
		}
		if (s->lat_g > g->s[hi[c]].lat_g)
			hi[c] = i;
		if (s->lat_g < g->s[lo[c]].lat_g)
			lo[c] = i;
	}
	if (total <= GRIP_SCATTER_POINTS) {
		pick_stride(g, GS_STEER, GS_STEERING, total, total);
		return;
	}
	for (int c = 0; c < GRIP_STEER_COLUMNS; c++) {
		if (used[c]) {
			kept += mark_sample(g, hi[c], GS_STEERING);
			kept += mark_sample(g, lo[c], GS_STEERING);
		}
	}
	if (kept < GRIP_SCATTER_POINTS)
		pick_stride(g, GS_STEER, GS_STEERING, total, GRIP_SCATTER_POINTS - kept);
}

/* --- output --- */

static double round_to(double v, double unit)
{
	double r = round(v / unit) * unit;

	return r == 0.0 ? 0.0 : r; /* no "-0.0" in the JSON */
}

static double g3(double v)
{
	return round_to(v, 0.001);
}

static double kmh1(double v)
{
	return round_to(v, 0.1);
}

/* json_object_set_new that remembers a failure in *ok. */
static void put(json_t *o, const char *key, json_t *v, int *ok)
{
	if (!v || json_object_set_new(o, key, v) < 0)
		*ok = 0;
}

static void append(json_t *a, json_t *v, int *ok)
{
	if (!v || json_array_append_new(a, v) < 0)
		*ok = 0;
}

static json_t *summary_json(const struct grip *g, int *ok)
{
	json_t *o = json_object();
	double lat = fmax(g->extreme_val[GX_LEFT], g->extreme_val[GX_RIGHT]);
	size_t at = g->extreme_val[GX_LEFT] > g->extreme_val[GX_RIGHT] ? g->extreme_at[GX_LEFT]
								       : g->extreme_at[GX_RIGHT];

	if (!o)
		return NULL;
	put(o, "max_lateral_g", json_real(g3(lat)), ok);
	put(o, "max_accel_g", json_real(g3(g->extreme_val[GX_ACCEL])), ok);
	put(o, "max_brake_g", json_real(g3(g->extreme_val[GX_BRAKE])), ok);
	put(o, "max_combined_g", json_real(g3(sqrt(g->extreme_val[GX_COMBINED_SQ]))), ok);
	put(o, "peak_lateral_speed_kmh", json_real(lat > 0.0 ? kmh1(g->s[at].speed_kmh) : 0.0), ok);
	return o;
}

static json_t *envelope_json(const struct grip *g, int *ok)
{
	json_t *a = json_array();

	for (int k = 0; a && k < GRIP_BINS; k++) {
		const struct grip_bin *b = &g->bins[k];
		json_t *o;

		if (!b->count)
			continue;
		o = json_object();
		if (o) {
			put(o, "speed_kmh", json_real((k + 0.5) * GRIP_BIN_KMH), ok);
			put(o, "max_lateral_g", json_real(g3(b->max_lat_g)), ok);
			put(o, "max_accel_g", json_real(g3(b->max_accel_g)), ok);
			put(o, "max_brake_g", json_real(g3(b->max_brake_g)), ok);
			put(o, "sample_count", json_integer((json_int_t)b->count), ok);
		}
		append(a, o, ok);
	}
	return a;
}

static json_t *circle_json(const struct grip *g, int *ok)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < g->n; i++) {
		const struct grip_sample *s = &g->s[i];
		json_t *o;

		if (!(s->bits & GS_CIRCLE))
			continue;
		o = json_object();
		if (o) {
			put(o, "longitudinal_g", json_real(g3(s->lon_g)), ok);
			put(o, "lateral_g", json_real(g3(s->lat_g)), ok);
		}
		append(a, o, ok);
	}
	return a;
}

static json_t *steering_json(const struct grip *g, int *ok)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < g->n; i++) {
		const struct grip_sample *s = &g->s[i];
		json_t *o;

		if (!(s->bits & GS_STEERING))
			continue;
		o = json_object();
		if (o) {
			double steer = s->steer_q / GRIP_STEER_SCALE;

			put(o, "steer", json_real(round_to(steer, 0.001)), ok);
			put(o, "lateral_g", json_real(g3(s->lat_g)), ok);
			put(o, "speed_kmh", json_real(kmh1(s->speed_kmh)), ok);
		}
		append(a, o, ok);
	}
	return a;
}

static json_t *result_json(const struct grip *g)
{
	json_t *o = json_object();
	int ok = o != NULL;

	if (!o)
		return NULL;
	put(o, "summary", summary_json(g, &ok), &ok);
	put(o, "grip_envelope", envelope_json(g, &ok), &ok);
	put(o, "grip_circle", circle_json(g, &ok), &ok);
	put(o, "steering_response", steering_json(g, &ok), &ok);
	put(o, "runs_analyzed", json_integer((json_int_t)g->runs_used), &ok);
	put(o, "total_frames_analyzed", json_integer((json_int_t)g->n), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void no_data(const struct grip_rejects *r, struct an_err *err)
{
	an_fail(err, AN_E_NO_DATA,
		"no usable frames for car_grip: %zu frames, %zu paused, %zu in the pit, "
		"%zu in reverse, %zu without speed or lateral/longitudinal g, %zu below %.0f km/h, "
		"%zu at or near impacts, %zu in stretches shorter than %d frames",
		r->frames, r->paused, r->pit, r->reverse, r->no_channels, r->slow, GRIP_MIN_KMH,
		r->impact, r->short_segment, GRIP_MIN_SEGMENT);
}

json_t *an_car_grip(const struct an_input *in, struct an_err *err)
{
	struct grip *g;
	size_t total = 0;
	json_t *res = NULL;

	if (!in || (in->nruns && !in->runs)) {
		an_fail(err, AN_E_BAD_INPUT, "car_grip: no input");
		return NULL;
	}
	for (size_t r = 0; r < in->nruns; r++)
		total += in->runs[r].frames ? in->runs[r].n : 0;
	if (total == 0) {
		an_fail(err, AN_E_NO_DATA, "car_grip: no frames in %zu runs; drive a few laps",
			in->nruns);
		return NULL;
	}
	g = calloc(1, sizeof *g);
	if (!g || !(g->s = malloc(total * sizeof *g->s))) {
		an_fail(err, GRIP_E_NO_MEMORY, "car_grip: out of memory for %zu frames", total);
		free(g);
		return NULL;
	}
	for (size_t r = 0; r < in->nruns; r++)
		if (in->runs[r].frames)
			scan_run(g, &in->runs[r]);
	if (g->n == 0) {
		no_data(&g->rej, err);
		goto out;
	}
	pick_circle(g);
	pick_steering(g);
	res = result_json(g);
	if (!res)
		an_fail(err, GRIP_E_NO_MEMORY, "car_grip: out of memory building the result");
out:
	free(g->s);
	free(g);
	return res;
}
