/*
 * shift_points.c - the shift_points use case: per gear rpm and speed range,
 * full-throttle longitudinal acceleration against speed, the optimal upshift
 * of every gear (where the next gear accelerates harder at the same road
 * speed) and one recommended shift rpm. docs/analysis-shift_points.md says
 * the same with the reasoning and the accuracy measured on the emulator.
 *
 * Output (units are the frame's):
 *   {"gears":[{"gear":1,
 *              "min_rpm","max_rpm",             integers, 1/min
 *              "min_speed_kmh","max_speed_kmh", 0.1 km/h
 *              "samples",                       full-throttle frames used
 *              "rpm_per_kmh",                   0.001
 *              "accel_curve":[{"speed_kmh","accel_g","samples"}...],
 *              "optimal_upshift_rpm",           1 rpm
 *              "optimal_upshift_speed_kmh",     0.1 km/h
 *              "crossover":"found"|"not_reached",
 *              "method":"measured"|"model"|"none"}, ...],
 *    "recommended_shift_rpm",                   10 rpm, null if no gear has one
 *    "runs_analyzed","total_frames_analyzed","full_throttle_frames",
 *    "model":{"bins","rms_residual_g","rolling_g","drag_g_at_100kmh"} | null}
 * Gears appear in ascending order, those with engaged frames only. A gear
 * whose next gear was never seen (the top gear) has the four upshift fields
 * null.
 *
 * Frames. A frame counts when it is not paused, gear is 1..12 and rpm and a
 * speed (speed_kmh, else |vel_ms|) are present, finite and under 600 km/h.
 * total_frames_analyzed counts them; runs_analyzed the runs with one.
 * Counted frames form segments: consecutive frames of one run and game
 * session on one clock (game_time_s when the run's first and last frames
 * have it and it advances, else t_ns, else the frame index at a nominal
 * 60 Hz). A paused frame, the clock going backwards or a gap over 0.5 s
 * ends a segment. Each frame passes a ring of pending frames until the
 * +-0.5 s around it have been seen, which gives it:
 * - guard: a gear change within 0.2 s either way (shift transients);
 * - held (full throttle only): the speed changes by less than 0.5 km/h over
 *   the 0.5 s behind or ahead of it - a pit or speed limiter holds the car
 *   (also under 0.028 g of real acceleration, which is lost);
 * - accel_g: accel_lon_g when present, else the least-squares slope of
 *   speed over +-0.1 s, only when every frame of that window is flat out
 *   and unflagged (braking before a pull or the limiter after it would bend
 *   the slope).
 *
 * Per gear: the median rpm / speed ratio over its frames above 10 km/h away
 * from shifts (a 0.05-0.1 % histogram). Engaged = within 5 % of that ratio
 * and over 5 km/h: "clutch engaged" measured rather than read, because the
 * clutch channel means the pedal in some feeds and engagement in others
 * (AC), and because launches and wheelspin fail it too. min/max rpm and
 * speed cover the engaged frames (cells of 0.5-0.8 % of ratio within the
 * 5 %). A frame is used for the curve when it is engaged, not guard, not
 * held, throttle >= 0.95, brake <= 0.05 (when present), speed >= 10 km/h,
 * |accel_lat_g| <= 0.4 (when present: straight-line acceleration), none of
 * FRAME_FLAG_LIMITER / TC / IN_PIT, accel_g known, and rpm < 99 % of the
 * rev top (the higher of the frames' max_rpm and the highest engaged rpm).
 * rpm_per_kmh: least squares through the origin of rpm on speed over the
 * used frames (the median ratio when fewer than 10).
 *
 * accel_curve: the used frames in 2 km/h speed bins [2k, 2k+2); speed_kmh
 * is the bins' mean speed, accel_g their median; bins of 3 frames or more.
 * No bin at all is AN_E_NO_DATA.
 *
 * Optimal upshift g -> g+1, first rule that applies:
 * 1. measured: both curves have the same speed bins and, going up, g+1's
 *    accel_g is below g's in two shared bins in a row and then at least g's
 *    in the next two (the first two of those four adjacent); the speed is
 *    interpolated linearly between the bin centres around the sign change
 *    and turned into rpm with g's rpm_per_kmh.
 * 2. model: mostly the curves do not overlap (flat out, a driver changes up
 *    at one speed), so the crossing is predicted from an engine model fitted
 *    to every bin of every gear at once:
 *        accel_g = s_g * tau(rpm) - rolling - drag * (speed / 100 km/h)^2
 *    s_g is rpm_per_kmh (the overall ratio up to a constant); tau, the
 *    full-throttle torque curve up to a constant, is piecewise linear on an
 *    rpm grid (25..1000 rpm steps, ~96 intervals, 2 nodes past the data)
 *    with a light second-difference penalty; rolling and drag, the shared
 *    resistance, are held >= 0. Gears turning the same rpm at different
 *    speeds tell torque from resistance. Weighted least squares (weight
 *    sqrt(frames) per bin), then 4 rounds of Tukey biweights on the bin
 *    residuals. The model counts when two gears or more give bins and the
 *    robust rms residual is under 0.05 g. Equal wheel force at one speed is
 *        s_{g+1} * tau(r * s_{g+1} / s_g) = s_g * tau(r)
 *    (what the emulator's car_optimal_shift_rpm solves); r is scanned up
 *    gear g's rpm range in 5 rpm steps where tau is trusted at both r and
 *    r * s_{g+1} / s_g, and the first sign change is interpolated (if g+1
 *    already wins at the first trusted point, that point, an upper bound).
 *    tau at an rpm is trusted when bins of g or g+1 back it (the grid nodes
 *    on both sides, gaps of 2 nodes bridged, 2 nodes past a gear's last
 *    bin), or bins of two other gears (one other gear alone may be traction
 *    limited without a flag saying so).
 * 3. otherwise crossover "not_reached" and the optimum is the top of gear g
 *    (max_rpm, max_speed_kmh); method "model" when the model compared and
 *    g+1 never won, "none" when nothing could be compared.
 * recommended_shift_rpm: the mean of optimal_upshift_rpm over the gears
 * that have one ("not_reached" ones with their max_rpm, as the emulator's
 * truth does with max_rpm), rounded to 10 rpm like the truth.
 * model: bins with weight left after the robust rounds, their rms residual,
 * and the resistance found (g; drag at 100 km/h); null when not used.
 *
 * Limits: one car per input (ratios belong to gear numbers); traction-
 * limited acceleration is only recognised by FRAME_FLAG_TC and the 5 %
 * ratio gate; the same drivetrain efficiency is assumed in every gear; no
 * extrapolation beyond 2 grid nodes past the data, so a gear whose partner
 * rpm was never driven flat out ends "not_reached".
 *
 * Cost: one pass over the frames through a 256 KB ring; 12 bytes per
 * full-throttle frame plus 4 for the medians; about 1.2 MB of histograms.
 * Measured: 1.2 M frames at 333 Hz in ~65 ms, 13 MB peak
 * (tests/bench/bench_an_shift_points.c). Pure: no I/O, no globals.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analysis.h"

#define SP_E_NO_MEMORY AN_E_NO_MEMORY

#define SP_MAX_GEAR 12
#define SP_NOMINAL_HZ 60.0
#define SP_GAP_S 0.5
#define SP_SHIFT_GUARD_S 0.2
#define SP_ACCEL_HALF_S 0.1
#define SP_HOLD_HALF_S 0.5
#define SP_HOLD_MIN_S 0.375 /* a half window must span this much */
#define SP_HOLD_KMH 0.5     /* net change over a half window: 0.028 g */
#define SP_FULL_THROTTLE 0.95
#define SP_BRAKE_OFF 0.05
#define SP_MAX_LAT_G 0.4
#define SP_RATIO_TOL 0.05
#define SP_RATIO_MIN_KMH 10.0
#define SP_MIN_KMH 5.0
#define SP_USE_MIN_KMH 10.0
#define SP_MAX_KMH 600.0
#define SP_REV_TOP_FRAC 0.99
#define SP_FIT_MIN_FRAMES 10
#define SP_BIN_KMH 2.0
#define SP_NBINS 300 /* SP_MAX_KMH / SP_BIN_KMH */
#define SP_NKEYS ((SP_MAX_GEAR + 1) * SP_NBINS)
#define SP_BIN_MIN 3
#define SP_RATIO_LO 2.0              /* rpm per km/h: the ratio histograms' domain, 2 .. 2048 */
#define SP_RATIO_LO_BITS 0x40000000u /* 2.0f */
#define SP_RATIO_MANT_BITS 10
#define SP_RATIO_BINS (10 << SP_RATIO_MANT_BITS) /* 10 octaves */
#define SP_RANGE_SPAN 8                          /* ratio bins per range cell (0.5 to 0.8 %) */
#define SP_RANGE_CELLS (SP_RATIO_BINS / SP_RANGE_SPAN + 1)
#define SP_RING 8192 /* pending frames: 1 s of frames up to 8 kHz */
#define SP_SUMS_REFRESH 256
#define SP_GRID_TARGET 96 /* rpm grid intervals, at most about */
#define SP_SMOOTH 0.01    /* second-difference penalty, per node, of the data weight */
#define SP_RIDGE 1e-4     /* on rolling/drag, of the data weight */
#define SP_PIN 1e6        /* ridge that holds a resistance term at 0 */
#define SP_IRLS_ROUNDS 4
#define SP_TUKEY_C 4.685
#define SP_MIN_SCALE_G 0.005
#define SP_MODEL_MAX_RMS_G 0.05
#define SP_SCAN_STEP_RPM 5.0
#define SP_GAP_NODES 2  /* unsupported grid nodes bridged between data */
#define SP_EDGE_NODES 2 /* grid nodes trusted beyond the data (linear extension) */
#define SP_ROUND_RPM 10.0

enum sp_bits {
	SP_B_FULL = 1 << 0,    /* throttle full, brake off */
	SP_B_FLAGGED = 1 << 1, /* limiter, traction control or pit */
	SP_B_ACCEL = 1 << 2,   /* accel_g known */
	SP_B_CORNER = 1 << 3,  /* |accel_lat_g| over SP_MAX_LAT_G */
};

/* A frame waiting in the ring until its windows (+-0.5 s) are complete. */
struct sp_ent {
	double t_s;
	double change_t_s; /* last gear change at or before it in the segment */
	float speed_kmh, rpm, accel_g;
	int8_t gear;
	uint8_t bits;
};

/* A full-throttle frame that passed every test but the ratio and rev top. */
struct sp_cand {
	float rpm, accel_g;
	uint16_t speed_ckmh; /* 0.01 km/h */
	uint16_t key;        /* gear * SP_NBINS + speed bin */
};
_Static_assert(sizeof(struct sp_cand) == 12, "candidate is 12 bytes");

/* Running least-squares sums of speed on time (derived acceleration). */
struct sp_sums {
	double origin, n, st, sv, stt, stv;
	double off; /* frames not flat out (or flagged) in the window */
	int valid, age;
};

/* The segment being streamed through the ring. Indices are absolute; entry
 * k lives in ring[k % SP_RING]. */
struct sp_stream {
	struct sp_ent *ring;
	uint64_t base, head, tail; /* segment start, next to finish, next free */
	uint64_t hold_lo, hold_hi, acc_lo, acc_hi, guard_hi;
	struct sp_sums sums;
	double last_change_t_s;
};

/* One curve bin while it is being filled. */
struct sp_acc {
	size_t count, off;
	double sv, sr;
};

/* Min/max of engaged frames, per gear and ratio cell (0.5-0.8 %). */
struct sp_cell {
	float min_rpm, max_rpm, min_kmh, max_kmh;
};

struct sp_gear {
	int seen;         /* has engaged frames */
	int samples;      /* used frames */
	double ratio_med; /* median rpm / speed */
	double ratio;     /* rpm_per_kmh */
	double min_rpm, max_rpm, min_kmh, max_kmh;
	double srv, svv;    /* sums of rpm * speed, speed^2 over used frames */
	size_t bin0, nbins; /* its bins in the bin table */
	double opt_rpm, opt_kmh;
	int has_opt, found;
	const char *method;
};

struct sp_bin {
	int gear, index; /* index: speed bin, [2 index, 2 index + 2) km/h */
	int n;
	double speed_kmh, rpm, accel_g;
};

enum sp_pin { SP_PIN_ROLLING = 1, SP_PIN_DRAG = 2 };

struct sp_model {
	int ok;
	double r0, h; /* rpm grid: node j at r0 + j h */
	int nodes;
	double *tau;
	uint16_t *sup; /* per node: bit g = gear g's bins back it */
	int pinned;    /* SP_PIN_*: resistance terms held at 0 */
	double rolling, drag, s_ref, rms;
	int bins;
};

struct sp_ctx {
	const struct an_input *in;
	struct sp_stream st;
	uint32_t (*ratio_hist)[SP_RATIO_BINS];   /* [gear] */
	struct sp_cell (*cells)[SP_RANGE_CELLS]; /* [gear] */
	struct sp_cand *cand;
	struct sp_acc *acc; /* [SP_NKEYS] */
	float *scratch;
	size_t n, ncand, used;
	int runs;
	double spec_max_rpm; /* highest max_rpm of any frame, 0 = none */
	double rev_top;
	struct sp_gear gear[SP_MAX_GEAR + 1];
	struct sp_bin *bins;
	size_t nbins;
	struct sp_model model;
};

static double round_to(double x, double q)
{
	return round(x / q) * q;
}

/* --- frames: clock, channels --- */

enum sp_clock { SP_CLOCK_GAME, SP_CLOCK_RECV, SP_CLOCK_INDEX };

static enum sp_clock run_clock(const struct an_run *r)
{
	const struct pw_frame *a = &r->frames[0], *b = &r->frames[r->n - 1];

	if ((a->present & b->present & FRAME_P_GAME_TIME) != 0 && b->game_time_s > a->game_time_s)
		return SP_CLOCK_GAME;
	if (a->t_ns != 0 && b->t_ns != 0)
		return SP_CLOCK_RECV;
	return SP_CLOCK_INDEX;
}

/* NAN when the frame has no time on the run's clock. */
static double frame_time(const struct pw_frame *f, enum sp_clock clock, size_t i)
{
	switch (clock) {
	case SP_CLOCK_GAME:
		return (f->present & FRAME_P_GAME_TIME) ? f->game_time_s : NAN;
	case SP_CLOCK_RECV:
		return f->t_ns != 0 ? f->t_ns * 1e-9 : NAN;
	default:
		return (double)i / SP_NOMINAL_HZ;
	}
}

static int has(const struct pw_frame *f, uint64_t bits)
{
	return (f->present & bits) == bits;
}

static int flagged(const struct pw_frame *f, unsigned flag)
{
	return (f->flags_known & flag) && (f->flags & flag);
}

/* speed_kmh, else |vel_ms| in km/h; NAN when the frame has neither. */
static float frame_speed(const struct pw_frame *f)
{
	if (has(f, FRAME_P_SPEED))
		return f->speed_kmh;
	if (has(f, FRAME_P_VEL))
		return 3.6f * sqrtf(f->vel_ms[0] * f->vel_ms[0] + f->vel_ms[1] * f->vel_ms[1] +
				    f->vel_ms[2] * f->vel_ms[2]);
	return NAN;
}

static int usable(const struct pw_frame *f, float kmh)
{
	return has(f, FRAME_P_GEAR | FRAME_P_RPM) && f->gear >= 1 && f->gear <= SP_MAX_GEAR &&
	       kmh >= 0.0f && kmh < SP_MAX_KMH && f->rpm >= 0.0f && f->rpm < 1e6f;
}

static uint8_t frame_bits(const struct pw_frame *f)
{
	uint8_t bits = 0;
	int full = has(f, FRAME_P_THROTTLE) && f->throttle >= SP_FULL_THROTTLE;

	if (full && (!has(f, FRAME_P_BRAKE) || f->brake <= SP_BRAKE_OFF))
		bits |= SP_B_FULL;
	if (flagged(f, FRAME_FLAG_LIMITER) || flagged(f, FRAME_FLAG_TC) ||
	    flagged(f, FRAME_FLAG_IN_PIT))
		bits |= SP_B_FLAGGED;
	if (has(f, FRAME_P_ACCEL_LON) && isfinite(f->accel_lon_g))
		bits |= SP_B_ACCEL;
	if (has(f, FRAME_P_ACCEL_LAT) && !(fabsf(f->accel_lat_g) <= SP_MAX_LAT_G))
		bits |= SP_B_CORNER;
	return bits;
}

/* --- per frame, once its windows are complete --- */

/* Ratio histogram bin of rpm / speed, -1 outside the domain: the float's
 * exponent and top SP_RATIO_MANT_BITS mantissa bits, so bins are 0.05 to
 * 0.1 % wide without a log per frame. */
static int ratio_bin(float rpm, float kmh)
{
	float k = rpm / kmh;
	uint32_t u;
	int b;

	if (!(kmh >= SP_MIN_KMH) || !(k >= SP_RATIO_LO))
		return -1;
	memcpy(&u, &k, sizeof u);
	b = (int)(u >> (23 - SP_RATIO_MANT_BITS)) -
	    (int)(SP_RATIO_LO_BITS >> (23 - SP_RATIO_MANT_BITS));
	return b < SP_RATIO_BINS ? b : -1;
}

static double ratio_of_bin(double b)
{
	int octave = (int)(b / (1 << SP_RATIO_MANT_BITS));
	double m = b - octave * (double)(1 << SP_RATIO_MANT_BITS);

	return SP_RATIO_LO * ldexp(1.0 + m / (1 << SP_RATIO_MANT_BITS), octave);
}

static void cell_add(struct sp_cell *c, const struct sp_ent *e)
{
	if (c->max_kmh <= 0.0f) {
		c->min_rpm = c->max_rpm = e->rpm;
		c->min_kmh = c->max_kmh = e->speed_kmh;
		return;
	}
	if (e->rpm < c->min_rpm)
		c->min_rpm = e->rpm;
	if (e->rpm > c->max_rpm)
		c->max_rpm = e->rpm;
	if (e->speed_kmh < c->min_kmh)
		c->min_kmh = e->speed_kmh;
	if (e->speed_kmh > c->max_kmh)
		c->max_kmh = e->speed_kmh;
}

static void emit(struct sp_ctx *c, const struct sp_ent *e, int guard, int held)
{
	int b = ratio_bin(e->rpm, e->speed_kmh);
	struct sp_cand *o;

	if (b < 0)
		return;
	cell_add(&c->cells[e->gear][b / SP_RANGE_SPAN], e);
	if (e->speed_kmh >= SP_RATIO_MIN_KMH && !guard)
		c->ratio_hist[e->gear][b]++;
	if (guard || held || e->speed_kmh < SP_USE_MIN_KMH ||
	    (e->bits & (SP_B_FULL | SP_B_FLAGGED | SP_B_ACCEL | SP_B_CORNER)) !=
		    (SP_B_FULL | SP_B_ACCEL))
		return;
	o = &c->cand[c->ncand++];
	o->rpm = e->rpm;
	o->accel_g = e->accel_g;
	o->speed_ckmh = (uint16_t)lrintf(e->speed_kmh * 100.0f);
	o->key = (uint16_t)(e->gear * SP_NBINS + (int)(e->speed_kmh / SP_BIN_KMH));
}

/* --- the ring: windows around the frame being finished --- */

static struct sp_ent *ent(struct sp_stream *s, uint64_t k)
{
	return &s->ring[k % SP_RING];
}

static void sums_add(struct sp_stream *s, uint64_t k, double sign)
{
	const struct sp_ent *e = ent(s, k);
	double t = e->t_s - s->sums.origin;

	s->sums.n += sign;
	s->sums.st += sign * t;
	s->sums.sv += sign * e->speed_kmh;
	s->sums.stt += sign * t * t;
	s->sums.stv += sign * t * e->speed_kmh;
	if ((e->bits & (SP_B_FULL | SP_B_FLAGGED)) != SP_B_FULL)
		s->sums.off += sign;
}

/* Rebuilt from the window every SP_SUMS_REFRESH uses so that adding and
 * removing cannot drift. */
static void sums_rebuild(struct sp_stream *s, double origin)
{
	memset(&s->sums, 0, sizeof s->sums);
	s->sums.origin = origin;
	for (uint64_t k = s->acc_lo; k <= s->acc_hi; k++)
		sums_add(s, k, 1.0);
	s->sums.valid = 1;
}

/* Least-squares d(speed)/dt over +-SP_ACCEL_HALF_S, in g; NAN if the
 * window is too thin or holds a frame that is not flat out (braking before
 * a pull, the limiter after it would bend the slope). */
static double derived_accel(struct sp_stream *s, const struct sp_ent *e)
{
	const struct sp_sums *m = &s->sums;
	double var;

	if (!m->valid || ++s->sums.age >= SP_SUMS_REFRESH) {
		sums_rebuild(s, e->t_s);
		m = &s->sums;
	}
	var = m->stt - m->st * m->st / m->n;
	if (m->n < 3 || m->off > 0.5 || !(var > 0.0) ||
	    ent(s, s->acc_hi)->t_s - ent(s, s->acc_lo)->t_s < SP_ACCEL_HALF_S)
		return NAN;
	return (m->stv - m->st * m->sv / m->n) / var / 3.6 / 9.80665;
}

static void move_windows(struct sp_stream *s, uint64_t i)
{
	double t = ent(s, i)->t_s;

	if (s->hold_hi < i)
		s->hold_hi = i;
	while (s->hold_hi + 1 < s->tail && ent(s, s->hold_hi + 1)->t_s <= t + SP_HOLD_HALF_S)
		s->hold_hi++;
	while (ent(s, s->hold_lo)->t_s < t - SP_HOLD_HALF_S)
		s->hold_lo++;
	if (s->guard_hi < i)
		s->guard_hi = i;
	while (s->guard_hi + 1 < s->tail && ent(s, s->guard_hi + 1)->t_s <= t + SP_SHIFT_GUARD_S)
		s->guard_hi++;
	if (s->acc_hi < i) {
		s->acc_hi = i;
		s->sums.valid = 0;
	}
	while (s->acc_hi + 1 < s->tail && ent(s, s->acc_hi + 1)->t_s <= t + SP_ACCEL_HALF_S)
		if (s->sums.valid)
			sums_add(s, ++s->acc_hi, 1.0);
		else
			s->acc_hi++;
	while (ent(s, s->acc_lo)->t_s < t - SP_ACCEL_HALF_S)
		if (s->sums.valid)
			sums_add(s, s->acc_lo++, -1.0);
		else
			s->acc_lo++;
}

/* Speed held over the half window behind or ahead of e: a pit or speed
 * limiter, not the engine (one-sided, so the frames next to the limiter's
 * start and end are caught too). */
static int held_back(struct sp_stream *s, const struct sp_ent *e)
{
	const struct sp_ent *lo = ent(s, s->hold_lo);

	return e->t_s - lo->t_s >= SP_HOLD_MIN_S &&
	       fabsf(e->speed_kmh - lo->speed_kmh) < SP_HOLD_KMH;
}

static int held_ahead(struct sp_stream *s, const struct sp_ent *e)
{
	const struct sp_ent *hi = ent(s, s->hold_hi);

	return hi->t_s - e->t_s >= SP_HOLD_MIN_S &&
	       fabsf(hi->speed_kmh - e->speed_kmh) < SP_HOLD_KMH;
}

/* Finish the head frame: shift guard, held speed, derived acceleration. */
static void finish_head(struct sp_ctx *c)
{
	struct sp_stream *s = &c->st;
	uint64_t i = s->head++;
	struct sp_ent *e = ent(s, i);
	int guard, held = 0;

	move_windows(s, i);
	guard = e->t_s - e->change_t_s < SP_SHIFT_GUARD_S ||
		ent(s, s->guard_hi)->change_t_s > e->t_s;
	if (e->bits & SP_B_FULL)
		held = held_back(s, e) || held_ahead(s, e);
	if ((e->bits & (SP_B_ACCEL | SP_B_FULL)) == SP_B_FULL) {
		double a = derived_accel(s, e);
		if (isfinite(a)) {
			e->accel_g = (float)a;
			e->bits |= SP_B_ACCEL;
		}
	}
	emit(c, e, guard, held);
}

static void flush(struct sp_ctx *c)
{
	struct sp_stream *s = &c->st;

	while (s->head < s->tail)
		finish_head(c);
	s->base = s->head = s->hold_lo = s->hold_hi = s->acc_lo = s->acc_hi = s->guard_hi = s->tail;
	s->sums.valid = 0;
	s->last_change_t_s = -INFINITY;
}

/* Keep the look-back windows inside the ring at very high frame rates. */
static void make_room(struct sp_stream *s)
{
	uint64_t floor_k = s->tail + 1 > SP_RING ? s->tail + 1 - SP_RING : 0;

	if (s->hold_lo < floor_k)
		s->hold_lo = floor_k;
	if (s->acc_lo < floor_k) {
		s->acc_lo = floor_k;
		s->sums.valid = 0;
	}
}

static void push(struct sp_ctx *c, const struct pw_frame *f, float kmh, double t)
{
	struct sp_stream *s = &c->st;
	struct sp_ent *e;

	if (s->tail > s->base && f->gear != ent(s, s->tail - 1)->gear)
		s->last_change_t_s = t;
	make_room(s);
	e = ent(s, s->tail++);
	e->t_s = t;
	e->change_t_s = s->last_change_t_s;
	e->speed_kmh = kmh;
	e->rpm = f->rpm;
	e->gear = f->gear;
	e->bits = frame_bits(f);
	e->accel_g = (e->bits & SP_B_ACCEL) ? f->accel_lon_g : 0.0f;
	while (s->head < s->tail &&
	       (t - ent(s, s->head)->t_s > SP_HOLD_HALF_S || s->tail - s->head >= SP_RING / 2))
		finish_head(c);
}

static void stream_run(struct sp_ctx *c, const struct an_run *r)
{
	enum sp_clock clock = run_clock(r);
	double t_prev = 0.0;
	uint64_t session = 0;
	int any = 0;

	for (size_t i = 0; i < r->n; i++) {
		const struct pw_frame *f = &r->frames[i];
		float kmh;
		double t;

		if (flagged(f, FRAME_FLAG_PAUSED)) {
			flush(c);
			continue;
		}
		kmh = frame_speed(f);
		t = frame_time(f, clock, i);
		if (!usable(f, kmh) || !isfinite(t))
			continue;
		if (has(f, FRAME_P_MAX_RPM) && f->max_rpm > c->spec_max_rpm && f->max_rpm < 1e6f)
			c->spec_max_rpm = f->max_rpm;
		if (c->st.tail > c->st.base &&
		    (f->game_session != session || t < t_prev || t - t_prev > SP_GAP_S))
			flush(c);
		push(c, f, kmh, t);
		c->n++;
		any = 1;
		t_prev = t;
		session = f->game_session;
	}
	flush(c);
	c->runs += any;
}

/* --- per gear: ratio, ranges, the frames used --- */

static void gear_ratio(struct sp_ctx *c, int g)
{
	const uint32_t *h = c->ratio_hist[g];
	uint64_t total = 0, acc = 0;

	for (int b = 0; b < SP_RATIO_BINS; b++)
		total += h[b];
	if (!total)
		return;
	for (int b = 0; b < SP_RATIO_BINS; b++) {
		acc += h[b];
		if (2 * acc >= total) {
			c->gear[g].ratio_med = ratio_of_bin(b + 0.5);
			return;
		}
	}
}

/* Ranges over the cells within SP_RATIO_TOL of the median ratio. */
static void gear_range(struct sp_ctx *c, int g)
{
	struct sp_gear *gr = &c->gear[g];
	int first = 1;

	if (gr->ratio_med <= 0.0)
		return;
	for (int k = 0; k < SP_RANGE_CELLS; k++) {
		const struct sp_cell *cell = &c->cells[g][k];
		double r = ratio_of_bin((k + 0.5) * SP_RANGE_SPAN);
		if (cell->max_kmh <= 0.0f || fabs(r / gr->ratio_med - 1.0) > SP_RATIO_TOL)
			continue;
		if (first) {
			gr->min_rpm = cell->min_rpm, gr->max_rpm = cell->max_rpm;
			gr->min_kmh = cell->min_kmh, gr->max_kmh = cell->max_kmh;
			first = 0;
		}
		gr->min_rpm = cell->min_rpm < gr->min_rpm ? cell->min_rpm : gr->min_rpm;
		gr->max_rpm = cell->max_rpm > gr->max_rpm ? cell->max_rpm : gr->max_rpm;
		gr->min_kmh = cell->min_kmh < gr->min_kmh ? cell->min_kmh : gr->min_kmh;
		gr->max_kmh = cell->max_kmh > gr->max_kmh ? cell->max_kmh : gr->max_kmh;
	}
	gr->seen = !first;
}

static int cand_gear(const struct sp_cand *x)
{
	return x->key / SP_NBINS;
}

static double cand_kmh(const struct sp_cand *x)
{
	return x->speed_ckmh * 0.01;
}

static int cand_used(const struct sp_ctx *c, const struct sp_cand *x)
{
	double k = c->gear[cand_gear(x)].ratio_med;

	return k > 0.0 && c->gear[cand_gear(x)].seen &&
	       fabs(x->rpm / (k * cand_kmh(x)) - 1.0) <= SP_RATIO_TOL &&
	       x->rpm < SP_REV_TOP_FRAC * c->rev_top;
}

/* Keep the used candidates (in place), count them per curve bin and fit
 * rpm_per_kmh on them. */
static void classify(struct sp_ctx *c)
{
	double top = 0.0;

	for (int g = 1; g <= SP_MAX_GEAR; g++) {
		gear_ratio(c, g);
		gear_range(c, g);
		if (c->gear[g].seen && c->gear[g].max_rpm > top)
			top = c->gear[g].max_rpm;
	}
	/* a max_rpm below what the engine turns is not the limiter */
	c->rev_top = c->spec_max_rpm > top ? c->spec_max_rpm : top;
	for (size_t i = 0; i < c->ncand; i++) {
		const struct sp_cand *x = &c->cand[i];
		struct sp_gear *g = &c->gear[cand_gear(x)];
		double v = cand_kmh(x);
		if (!cand_used(c, x))
			continue;
		g->samples++;
		g->srv += x->rpm * v;
		g->svv += v * v;
		c->acc[x->key].count++;
		c->cand[c->used++] = *x;
	}
	for (int g = 1; g <= SP_MAX_GEAR; g++) {
		struct sp_gear *gr = &c->gear[g];
		gr->ratio = gr->samples >= SP_FIT_MIN_FRAMES ? gr->srv / gr->svv : gr->ratio_med;
		if (!gr->seen)
			gr->ratio = 0.0;
	}
}

/* --- acceleration curves: used frames binned by gear and speed --- */

static void swapf(float *a, float *b)
{
	float t = *a;

	*a = *b;
	*b = t;
}

/* k-th smallest of v[0..n-1] (reorders v). */
static float select_kth(float *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		float pivot = v[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;

		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				swapf(&v[i], &v[j]);
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

static double median(float *v, size_t n)
{
	double hi = select_kth(v, n, n / 2);

	if (n % 2)
		return hi;
	return 0.5 * (hi + select_kth(v, n / 2, n / 2 - 1));
}

static int build_bins(struct sp_ctx *c)
{
	size_t off = 0, nb = 0;

	c->scratch = malloc((c->used ? c->used : 1) * sizeof *c->scratch);
	if (!c->scratch)
		return -1;
	for (size_t k = 0; k < SP_NKEYS; k++) {
		c->acc[k].off = off;
		off += c->acc[k].count;
		nb += c->acc[k].count >= SP_BIN_MIN;
		c->acc[k].count = 0;
	}
	for (size_t i = 0; i < c->used; i++) {
		const struct sp_cand *x = &c->cand[i];
		struct sp_acc *a = &c->acc[x->key];
		c->scratch[a->off + a->count++] = x->accel_g;
		a->sv += cand_kmh(x);
		a->sr += x->rpm;
	}
	c->bins = calloc(nb ? nb : 1, sizeof *c->bins);
	if (!c->bins)
		return -1;
	for (size_t k = 0; k < SP_NKEYS; k++) {
		struct sp_acc *a = &c->acc[k];
		struct sp_bin *b = &c->bins[c->nbins];
		struct sp_gear *g = &c->gear[k / SP_NBINS];
		if (a->count < SP_BIN_MIN)
			continue;
		if (!g->nbins)
			g->bin0 = c->nbins;
		g->nbins++;
		b->gear = (int)(k / SP_NBINS);
		b->index = (int)(k % SP_NBINS);
		b->n = (int)a->count;
		b->speed_kmh = a->sv / a->count;
		b->rpm = a->sr / a->count;
		b->accel_g = median(c->scratch + a->off, a->count);
		c->nbins++;
	}
	return 0;
}

/* --- the engine model: accel = s_g tau(rpm) - rolling - drag u^2 --- */

static double nice_step(double span)
{
	static const double steps[] = { 25, 50, 100, 200, 250, 500, 1000, 2000 };
	double want = span / SP_GRID_TARGET;

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (steps[i] >= want)
			return steps[i];
	return 5000;
}

/* Grid position of rpm: node j and weight of node j + 1. */
static int grid_at(const struct sp_model *m, double rpm, double *frac)
{
	double u = (rpm - m->r0) / m->h;
	int j = (int)floor(u);

	if (j < 0) {
		*frac = 0.0;
		return 0;
	}
	if (j >= m->nodes - 1) {
		*frac = 1.0;
		return m->nodes - 2;
	}
	*frac = u - j;
	return j;
}

static double tau_at(const struct sp_model *m, double rpm)
{
	double f;
	int j = grid_at(m, rpm, &f);

	return m->tau[j] * (1.0 - f) + m->tau[j + 1] * f;
}

/* Gears whose data back tau at rpm (both grid nodes around it). */
static unsigned backing(const struct sp_model *m, double rpm)
{
	double f;
	int j;

	if (rpm < m->r0 || rpm > m->r0 + m->h * (m->nodes - 1))
		return 0;
	j = grid_at(m, rpm, &f);
	return m->sup[j] & m->sup[j + 1];
}

/* tau at rpm is trusted for the g -> g+1 comparison when g or g+1 measured
 * it, or two other gears agree on it (one gear alone may be traction
 * limited without saying so). */
static int trusted(const struct sp_model *m, double rpm, int g)
{
	unsigned b = backing(m, rpm);

	return (b & (3u << g)) || (b & (b - 1));
}

/* Solve the symmetric positive definite system a x = b (Cholesky, in place). */
static int solve_spd(double *a, double *b, int p)
{
	for (int j = 0; j < p; j++) {
		double d = a[j * p + j];
		for (int k = 0; k < j; k++)
			d -= a[j * p + k] * a[j * p + k];
		if (!(d > 0.0))
			return -1;
		a[j * p + j] = sqrt(d);
		for (int i = j + 1; i < p; i++) {
			double s = a[i * p + j];
			for (int k = 0; k < j; k++)
				s -= a[i * p + k] * a[j * p + k];
			a[i * p + j] = s / a[j * p + j];
		}
	}
	for (int i = 0; i < p; i++) {
		for (int k = 0; k < i; k++)
			b[i] -= a[i * p + k] * b[k];
		b[i] /= a[i * p + i];
	}
	for (int i = p; i-- > 0;) {
		for (int k = i + 1; k < p; k++)
			b[i] -= a[k * p + i] * b[k];
		b[i] /= a[i * p + i];
	}
	return 0;
}

struct sp_row {
	int j;
	double c0, c1, cr, cd; /* coefficients of tau_j, tau_j+1, rolling, drag */
};

static void model_row(const struct sp_ctx *c, const struct sp_bin *b, struct sp_row *row)
{
	const struct sp_model *m = &c->model;
	double f, s = c->gear[b->gear].ratio / m->s_ref, u = b->speed_kmh / 100.0;

	row->j = grid_at(m, b->rpm, &f);
	row->c0 = s * (1.0 - f);
	row->c1 = s * f;
	row->cr = -1.0;
	row->cd = -u * u;
}

static double row_predict(const struct sp_model *m, const struct sp_row *row)
{
	return row->c0 * m->tau[row->j] + row->c1 * m->tau[row->j + 1] + row->cr * m->rolling +
	       row->cd * m->drag;
}

/* Normal equations of one weighted fit; unknowns tau[0..J-1], rolling, drag. */
static int model_solve(struct sp_ctx *c, const double *w, double *a, double *rhs)
{
	struct sp_model *m = &c->model;
	int J = m->nodes, p = J + 2;
	double wsum = 0.0, lam;

	memset(a, 0, sizeof *a * (size_t)p * p);
	memset(rhs, 0, sizeof *rhs * (size_t)p);
	for (size_t i = 0; i < c->nbins; i++) {
		struct sp_row row;
		int idx[4];
		double co[4];
		model_row(c, &c->bins[i], &row);
		idx[0] = row.j, idx[1] = row.j + 1, idx[2] = J, idx[3] = J + 1;
		co[0] = row.c0, co[1] = row.c1, co[2] = row.cr, co[3] = row.cd;
		for (int x = 0; x < 4; x++) {
			for (int y = 0; y < 4; y++)
				a[idx[x] * p + idx[y]] += w[i] * co[x] * co[y];
			rhs[idx[x]] += w[i] * co[x] * c->bins[i].accel_g;
		}
		wsum += w[i];
	}
	if (wsum <= 0.0)
		return -1;
	lam = SP_SMOOTH * wsum / J;
	for (int j = 1; j + 1 < J; j++) {
		int idx[3] = { j - 1, j, j + 1 };
		double co[3] = { 1.0, -2.0, 1.0 };
		for (int x = 0; x < 3; x++)
			for (int y = 0; y < 3; y++)
				a[idx[x] * p + idx[y]] += lam * co[x] * co[y];
	}
	for (int j = 0; j < J; j++)
		a[j * p + j] += 1e-9 * wsum;
	a[J * p + J] += (m->pinned & SP_PIN_ROLLING ? SP_PIN : SP_RIDGE) * wsum;
	a[(J + 1) * p + J + 1] += (m->pinned & SP_PIN_DRAG ? SP_PIN : SP_RIDGE) * wsum;
	if (solve_spd(a, rhs, p) < 0)
		return -1;
	memcpy(m->tau, rhs, sizeof *rhs * (size_t)J);
	m->rolling = rhs[J];
	m->drag = rhs[J + 1];
	return 0;
}

static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return a < b ? -1 : a > b;
}

/* Tukey biweights from the residuals; returns the robust rms (g). */
static double robust_weights(struct sp_ctx *c, const double *base, double *w, double *tmp)
{
	const struct sp_model *m = &c->model;
	double scale, ss = 0.0, ws = 0.0;

	for (size_t i = 0; i < c->nbins; i++) {
		struct sp_row row;
		model_row(c, &c->bins[i], &row);
		tmp[i] = fabs(c->bins[i].accel_g - row_predict(m, &row));
	}
	memcpy(tmp + c->nbins, tmp, sizeof *tmp * c->nbins);
	qsort(tmp + c->nbins, c->nbins, sizeof *tmp, cmp_double);
	scale = fmax(1.4826 * tmp[c->nbins + c->nbins / 2], SP_MIN_SCALE_G);
	for (size_t i = 0; i < c->nbins; i++) {
		double u = tmp[i] / (SP_TUKEY_C * scale);
		w[i] = u < 1.0 ? base[i] * (1.0 - u * u) * (1.0 - u * u) : 0.0;
		ss += w[i] * tmp[i] * tmp[i];
		ws += w[i];
	}
	return ws > 0.0 ? sqrt(ss / ws) : INFINITY;
}

/* Nodes backed by each gear's bins; short gaps bridged, ends extended. */
static void support_gear(struct sp_model *m, uint16_t bit)
{
	int last = -1;

	for (int j = 0; j < m->nodes; j++) {
		if (!(m->sup[j] & bit))
			continue;
		for (int k = last + 1; last >= 0 && j - last - 1 <= SP_GAP_NODES && k < j; k++)
			m->sup[k] |= bit;
		last = j;
	}
	/* the smoothness penalty continues tau linearly past the data's ends */
	for (int j = 0; j < m->nodes; j++) {
		if (!(m->sup[j] & bit) || (j > 0 && (m->sup[j - 1] & bit)))
			continue;
		for (int k = j - SP_EDGE_NODES; k < j; k++)
			if (k >= 0)
				m->sup[k] |= bit;
	}
	for (int j = m->nodes; j-- > 0;) {
		if (!(m->sup[j] & bit) || (j + 1 < m->nodes && (m->sup[j + 1] & bit)))
			continue;
		for (int k = j + 1; k <= j + SP_EDGE_NODES && k < m->nodes; k++)
			m->sup[k] |= bit;
	}
}

static void model_support(struct sp_ctx *c, const double *w)
{
	struct sp_model *m = &c->model;

	for (size_t i = 0; i < c->nbins; i++) {
		struct sp_row row;
		uint16_t bit = (uint16_t)(1u << c->bins[i].gear);
		if (w[i] <= 0.0)
			continue;
		model_row(c, &c->bins[i], &row);
		if (row.c0 > 0.0)
			m->sup[row.j] |= bit;
		if (row.c1 > 0.0)
			m->sup[row.j + 1] |= bit;
	}
	for (int g = 1; g <= SP_MAX_GEAR; g++)
		support_gear(m, (uint16_t)(1u << g));
}

static int model_grid(struct sp_ctx *c)
{
	struct sp_model *m = &c->model;
	double lo = INFINITY, hi = -INFINITY, ssum = 0.0;
	int gears = 0, prev = 0;

	for (size_t i = 0; i < c->nbins; i++) {
		lo = c->bins[i].rpm < lo ? c->bins[i].rpm : lo;
		hi = c->bins[i].rpm > hi ? c->bins[i].rpm : hi;
		if (c->bins[i].gear != prev) {
			prev = c->bins[i].gear;
			gears++;
			ssum += c->gear[prev].ratio;
		}
	}
	if (gears < 2 || !(hi > lo))
		return -1;
	m->s_ref = ssum / gears;
	m->h = nice_step(hi - lo);
	m->r0 = fmax(floor(lo / m->h) - SP_EDGE_NODES, 0.0) * m->h;
	m->nodes = (int)ceil((hi - m->r0) / m->h) + 1 + SP_EDGE_NODES;
	if (m->nodes < 2)
		m->nodes = 2;
	m->tau = calloc((size_t)m->nodes, sizeof *m->tau);
	m->sup = calloc((size_t)m->nodes, sizeof *m->sup);
	return m->tau && m->sup ? 0 : -2;
}

static int fit_model(struct sp_ctx *c)
{
	struct sp_model *m = &c->model;
	int rc = model_grid(c), p;
	double *a = NULL, *rhs = NULL, *w = NULL, *base = NULL, *tmp = NULL;

	if (rc < 0)
		return rc == -2 ? -1 : 0;
	p = m->nodes + 2;
	a = malloc(sizeof *a * (size_t)p * p);
	rhs = malloc(sizeof *rhs * (size_t)p);
	w = malloc(sizeof *w * c->nbins);
	base = malloc(sizeof *base * c->nbins);
	tmp = malloc(sizeof *tmp * c->nbins * 2);
	rc = -1;
	if (!a || !rhs || !w || !base || !tmp)
		goto out;
	for (size_t i = 0; i < c->nbins; i++)
		w[i] = base[i] = sqrt((double)c->bins[i].n);
	rc = 0;
	for (int round = 0; round <= SP_IRLS_ROUNDS; round++) {
		if (model_solve(c, w, a, rhs) < 0)
			goto out;
		/* resistance cannot push: hold a negative term at 0 and refit */
		if (m->rolling < 0.0 || m->drag < 0.0) {
			m->pinned |= (m->rolling < 0.0 ? SP_PIN_ROLLING : 0) |
				     (m->drag < 0.0 ? SP_PIN_DRAG : 0);
			if (model_solve(c, w, a, rhs) < 0)
				goto out;
		}
		if (m->pinned & SP_PIN_ROLLING)
			m->rolling = 0.0;
		if (m->pinned & SP_PIN_DRAG)
			m->drag = 0.0;
		m->rms = robust_weights(c, base, w, tmp);
	}
	for (size_t i = 0; i < c->nbins; i++)
		m->bins += w[i] > 0.0;
	model_support(c, w);
	m->ok = m->rms < SP_MODEL_MAX_RMS_G;
out:
	free(a);
	free(rhs);
	free(w);
	free(base);
	free(tmp);
	return rc;
}

/* --- crossovers --- */

static const struct sp_bin *bin_of(const struct sp_ctx *c, int gear, int index)
{
	const struct sp_gear *g = &c->gear[gear];

	for (size_t i = 0; i < g->nbins; i++)
		if (c->bins[g->bin0 + i].index == index)
			return &c->bins[g->bin0 + i];
	return NULL;
}

/* Rule 1: where both curves were driven, g+1 going from behind (two shared
 * bins in a row) to ahead (two in a row). Returns the crossing speed or -1. */
static double measured_crossing(const struct sp_ctx *c, int g)
{
	const struct sp_gear *lo = &c->gear[g];
	double v[SP_NBINS], d[SP_NBINS];
	int idx[SP_NBINS], m = 0;

	for (size_t i = 0; i < lo->nbins; i++) {
		const struct sp_bin *a = &c->bins[lo->bin0 + i], *b = bin_of(c, g + 1, a->index);
		if (!b)
			continue;
		idx[m] = a->index;
		v[m] = (a->index + 0.5) * SP_BIN_KMH;
		d[m++] = b->accel_g - a->accel_g;
	}
	for (int k = 2; k + 1 < m; k++) {
		if (!(d[k - 2] < 0.0 && d[k - 1] < 0.0 && d[k] >= 0.0 && d[k + 1] >= 0.0))
			continue;
		if (idx[k] - idx[k - 1] > 2)
			continue;
		return v[k - 1] + (v[k] - v[k - 1]) * -d[k - 1] / (d[k] - d[k - 1]);
	}
	return -1.0;
}

/* Rule 2: equal wheel force at the same speed on the fitted torque curve.
 * Returns the rpm in gear g, 0 when g+1 never wins where the data reach,
 * -1 when there is nowhere to compare. */
static double model_crossing(const struct sp_ctx *c, int g)
{
	const struct sp_model *m = &c->model;
	double sg = c->gear[g].ratio, sh = c->gear[g + 1].ratio, q = sh / sg;
	double prev_r = 0.0, prev_gain = 0.0;
	int compared = 0, have_prev = 0;

	if (!(q > 0.0 && q < 1.0))
		return -1.0;
	for (double r = c->gear[g].min_rpm; r <= c->gear[g].max_rpm; r += SP_SCAN_STEP_RPM) {
		double gain;
		if (!trusted(m, r, g) || !trusted(m, r * q, g)) {
			have_prev = 0;
			continue;
		}
		gain = sh * tau_at(m, r * q) - sg * tau_at(m, r);
		compared = 1;
		if (gain >= 0.0) {
			if (!have_prev)
				return r;
			return prev_r + (r - prev_r) * -prev_gain / (gain - prev_gain);
		}
		prev_r = r;
		prev_gain = gain;
		have_prev = 1;
	}
	return compared ? 0.0 : -1.0;
}

static void upshift(struct sp_ctx *c, int g)
{
	struct sp_gear *gr = &c->gear[g];
	double v = -1.0, r = -1.0;

	gr->has_opt = 1;
	gr->method = "none";
	if (c->gear[g].nbins && c->gear[g + 1].nbins)
		v = measured_crossing(c, g);
	if (v > 0.0) {
		gr->method = "measured";
		r = v * gr->ratio;
	} else if (c->model.ok) {
		r = model_crossing(c, g);
		if (r >= 0.0)
			gr->method = "model";
		if (r > 0.0)
			v = r / gr->ratio;
	}
	gr->found = r > 0.0;
	gr->opt_rpm = gr->found ? r : gr->max_rpm;
	gr->opt_kmh = gr->found ? v : gr->max_kmh;
}

static void find_upshifts(struct sp_ctx *c)
{
	for (int g = 1; g < SP_MAX_GEAR; g++)
		if (c->gear[g].seen && c->gear[g + 1].seen && c->gear[g].ratio > 0.0 &&
		    c->gear[g + 1].ratio > 0.0)
			upshift(c, g);
}

/* --- output --- */

static json_t *curve_json(const struct sp_ctx *c, const struct sp_gear *g)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < g->nbins; i++) {
		const struct sp_bin *b = &c->bins[g->bin0 + i];
		json_array_append_new(a, json_pack("{s:f,s:f,s:i}", "speed_kmh",
						   round_to(b->speed_kmh, 0.1), "accel_g",
						   round_to(b->accel_g, 0.001), "samples", b->n));
	}
	return a;
}

static json_t *gear_json(const struct sp_ctx *c, int gi)
{
	const struct sp_gear *g = &c->gear[gi];
	json_t *o =
		json_pack("{s:i,s:I,s:I,s:f,s:f,s:i,s:f,s:o}", "gear", gi, "min_rpm",
			  (json_int_t)lround(g->min_rpm), "max_rpm", (json_int_t)lround(g->max_rpm),
			  "min_speed_kmh", round_to(g->min_kmh, 0.1), "max_speed_kmh",
			  round_to(g->max_kmh, 0.1), "samples", g->samples, "rpm_per_kmh",
			  round_to(g->ratio, 0.001), "accel_curve", curve_json(c, g));

	if (!o)
		return NULL;
	if (g->has_opt) {
		json_object_set_new(o, "optimal_upshift_rpm", json_real(round(g->opt_rpm)));
		json_object_set_new(o, "optimal_upshift_speed_kmh",
				    json_real(round_to(g->opt_kmh, 0.1)));
		json_object_set_new(o, "crossover",
				    json_string(g->found ? "found" : "not_reached"));
		json_object_set_new(o, "method", json_string(g->method));
	} else {
		json_object_set_new(o, "optimal_upshift_rpm", json_null());
		json_object_set_new(o, "optimal_upshift_speed_kmh", json_null());
		json_object_set_new(o, "crossover", json_null());
		json_object_set_new(o, "method", json_null());
	}
	return o;
}

static json_t *model_json(const struct sp_model *m)
{
	if (!m->ok)
		return json_null();
	return json_pack("{s:i,s:f,s:f,s:f}", "bins", m->bins, "rms_residual_g",
			 round_to(m->rms, 0.0001), "rolling_g", round_to(m->rolling, 0.0001),
			 "drag_g_at_100kmh", round_to(m->drag, 0.0001));
}

static json_t *result_json(const struct sp_ctx *c)
{
	json_t *gears = json_array(), *out;
	double sum = 0.0;
	int nopt = 0;

	for (int g = 1; gears && g <= SP_MAX_GEAR; g++) {
		if (!c->gear[g].seen)
			continue;
		json_array_append_new(gears, gear_json(c, g));
		if (c->gear[g].has_opt) {
			sum += c->gear[g].opt_rpm;
			nopt++;
		}
	}
	out = json_pack("{s:o,s:o,s:i,s:I,s:I,s:o}", "gears", gears, "recommended_shift_rpm",
			nopt ? json_real(round_to(sum / nopt, SP_ROUND_RPM)) : json_null(),
			"runs_analyzed", c->runs, "total_frames_analyzed", (json_int_t)c->n,
			"full_throttle_frames", (json_int_t)c->used, "model",
			model_json(&c->model));
	return out;
}

/* --- entry --- */

static size_t total_frames(const struct an_input *in)
{
	size_t n = 0;

	for (size_t i = 0; i < in->nruns; i++)
		if (in->runs[i].frames)
			n += in->runs[i].n;
	return n;
}

static json_t *analyse(struct sp_ctx *c, struct an_err *err)
{
	json_t *out;

	for (size_t i = 0; i < c->in->nruns; i++)
		if (c->in->runs[i].frames && c->in->runs[i].n)
			stream_run(c, &c->in->runs[i]);
	if (!c->n) {
		an_fail(err, AN_E_NO_DATA,
			"no frames with gear >= 1, speed and rpm (paused excluded)");
		return NULL;
	}
	classify(c);
	if (!c->used) {
		an_fail(err, AN_E_NO_DATA,
			"no full-throttle frames in gear (throttle >= 0.95 with brake off, clutch "
			"engaged, away from shifts and limiters; %zu frames looked at)",
			c->n);
		return NULL;
	}
	if (build_bins(c) < 0) {
		an_fail(err, SP_E_NO_MEMORY, "out of memory");
		return NULL;
	}
	if (!c->nbins) {
		an_fail(err, AN_E_NO_DATA,
			"too few full-throttle frames: %zu, no 2 km/h speed bin of a gear holds %d",
			c->used, SP_BIN_MIN);
		return NULL;
	}
	if (fit_model(c) < 0) {
		an_fail(err, SP_E_NO_MEMORY, "out of memory");
		return NULL;
	}
	find_upshifts(c);
	out = result_json(c);
	if (!out)
		an_fail(err, SP_E_NO_MEMORY, "out of memory");
	return out;
}

/* The big arrays: candidates are reserved for every frame but only touched
 * (so only paged in) for the full-throttle ones. */
static int ctx_alloc(struct sp_ctx *c, size_t n)
{
	c->st.ring = malloc(SP_RING * sizeof *c->st.ring);
	c->ratio_hist = calloc(SP_MAX_GEAR + 1, sizeof *c->ratio_hist);
	c->cells = calloc(SP_MAX_GEAR + 1, sizeof *c->cells);
	c->cand = malloc(n * sizeof *c->cand);
	c->acc = calloc(SP_NKEYS, sizeof *c->acc);
	c->st.last_change_t_s = -INFINITY;
	return c->st.ring && c->ratio_hist && c->cells && c->cand && c->acc ? 0 : -1;
}

static void ctx_free(struct sp_ctx *c)
{
	free(c->st.ring);
	free(c->ratio_hist);
	free(c->cells);
	free(c->cand);
	free(c->acc);
	free(c->scratch);
	free(c->bins);
	free(c->model.tau);
	free(c->model.sup);
}

json_t *an_shift_points(const struct an_input *in, struct an_err *err)
{
	struct sp_ctx c;
	size_t n;
	json_t *out = NULL;

	if (!in || (in->nruns && !in->runs)) {
		an_fail(err, AN_E_BAD_INPUT, "no input");
		return NULL;
	}
	n = total_frames(in);
	if (!n) {
		an_fail(err, AN_E_NO_DATA, "no frames");
		return NULL;
	}
	memset(&c, 0, sizeof c);
	c.in = in;
	if (ctx_alloc(&c, n) < 0)
		an_fail(err, SP_E_NO_MEMORY, "out of memory for %zu frames", n);
	else
		out = analyse(&c, err);
	ctx_free(&c);
	return out;
}
