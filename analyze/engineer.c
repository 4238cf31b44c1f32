/*
 * engineer.c - the race engineer (engineer.h): frames in, recommendations out.
 *
 * Per run, a sampled pass first (every frame of runs up to PREP_ALL_FRAMES,
 * else every PREP_STRIDE-th): the channels the run has, which rules can run
 * on them, the rolling radius of each wheel for a derived slip ratio (games
 * that send wheel speeds but no slip: per wheel the median of speed over
 * wheel speed while rolling straight off the brakes and short of full
 * throttle; else one radius from the two slowest wheels, RaceIQ's method;
 * prep_run says more)
 * and the sign of the yaw angle (yaw rate times lateral g over the turns: yaw
 * is "as the game reports it"). Then each lap: one eng_frame per frame read,
 * the rules (rules.c), a rule_lap per rule. Frames are read at most every
 * MIN_STEP_S (125 Hz: the shortest window is 0.1 s); of a faster feed the
 * frames between are left unread, their time counted in the next one's step,
 * which keeps a one-hour 333 Hz session within its time budget (most of the
 * cost is reading 384-byte frames from memory). Last the rules' laps become findings:
 * confidence from how often and how strongly they fired, one per setup
 * parameter, ranked, capped in number, in JSON.
 *
 * Confidence (REFERENCE-ux §5: high only for clear symptoms with a
 * well-trodden fix): over the n analysed laps a rule ran on, high when it
 * was past its strong threshold on at least half of them; medium when it
 * fired on at least half, or was strong once; low otherwise; never above the
 * rule's max_conf; a tyre-temperature pattern with no agreeing balance
 * finding is an observation at low. A lap counts when the car was driven on
 * it for LAP_MIN_DRIVE_S.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/engineer.h"
#include "analyze/rules.h"
#include "common/job.h"

#define PREP_ALL_FRAMES 20000
#define PREP_STRIDE 16
/* what prep_run reads of a frame */
#define PREP_CHANNELS                                                                        \
	(FRAME_P_SPEED | FRAME_P_VEL | FRAME_P_GAME_TIME | FRAME_P_YAW | FRAME_P_ACCEL_LAT | \
	 FRAME_P_WHEEL_SPEED | FRAME_P_BRAKE | FRAME_P_THROTTLE)
#define PREP_PARTS (FRAMECOLS_T_NS | FRAMECOLS_PRESENT | FRAMECOLS_FLAGS)
#define DT_DEFAULT_S (1.0 / 60.0)
#define DT_MAX_S 0.5 /* a longer step is a gap: the last good one is used */
#define LAP_MIN_DRIVE_S 10.0
#define COAST_MIN_MS 10.0 /* radius calibration: rolling straight above this */
#define COAST_THROTTLE 0.9
#define COAST_BRAKE 0.02
#define COAST_LAT_G 0.2
#define COAST_MIN_SAMPLES 30
#define COAST_SAMPLES 2048 /* kept for the median, spread over the run */
#define SR_MIN_MS 1.0      /* derived slip needs some speed */
#define YAW_TAU_S 0.1      /* yaw rate smoothing: the frames' yaw noise, at 333 Hz */
#define YAW_SIGN_LAT_G 0.3
#define MIN_STEP_S (1.0 / 125.0) /* frames read at most this often: the shortest window is 0.1 s */
#define EP_OUT 6                 /* episodes in a finding's evidence */

_Static_assert(ENG_CATEGORY_COUNT == JOB_REC_CATEGORIES, "seed 004's categories, once");
_Static_assert(ENG_HIGH + 1 == JOB_REC_CONFIDENCES, "low, medium, high");

const char *eng_category_name(unsigned cat)
{
	return cat < ENG_CATEGORY_COUNT ? job_rec_category_names[cat] : NULL;
}

int eng_category_parse(const char *name)
{
	return job_rec_category(name);
}

const char *eng_confidence_name(unsigned conf)
{
	return conf <= ENG_HIGH ? job_rec_confidence_names[conf] : NULL;
}

int eng_confidence_parse(const char *name)
{
	return job_rec_confidence(name);
}

/* ---- per run: channels, calibrations ---- */

struct prep {
	bool done;
	uint64_t present;
	uint32_t active;
	bool radius_ok;
	double radius[4];
	int yaw_sign; /* +1, -1; 0 unknown */
};

static bool has(const struct pw_frame *f, uint64_t bits)
{
	return (f->present & bits) == bits;
}

static double frame_t(const struct pw_frame *f)
{
	return has(f, FRAME_P_GAME_TIME) ? f->game_time_s : (double)f->t_ns * 1e-9;
}

static inline double speed_ms(const struct pw_frame *f)
{
	if (has(f, FRAME_P_SPEED))
		return f->speed_kmh / 3.6;
	if (has(f, FRAME_P_VEL))
		return sqrt((double)f->vel_ms[0] * f->vel_ms[0] +
			    (double)f->vel_ms[1] * f->vel_ms[1] +
			    (double)f->vel_ms[2] * f->vel_ms[2]);
	return NAN;
}

static bool driving(const struct pw_frame *f, double v)
{
	return v >= RULE_DRIVING_MS && !(f->flags & (FRAME_FLAG_IN_PIT | FRAME_FLAG_PAUSED));
}

/* a in (-pi, pi] for a yaw step (|a| < 3 pi: no loop, no libm call per frame) */
static double wrap_pi(double a)
{
	return a > M_PI ? a - 2.0 * M_PI : a <= -M_PI ? a + 2.0 * M_PI : a;
}

static bool set_ok(uint64_t present, uint64_t set)
{
	return set && (present & set) == set;
}

static uint32_t active_rules(const struct prep *p)
{
	uint32_t a = 0;

	for (int r = 0; r < R_COUNT; r++) {
		const struct rule_def *d = &rule_defs[r];
		bool alt = set_ok(p->present, d->needs_alt);

		if (d->absent)
			continue;
		/* the alternative sets need their calibration: a radius, a yaw sign */
		if (alt && (d->needs_alt & FRAME_P_WHEEL_SPEED) && !p->radius_ok)
			alt = false;
		if (alt && (d->needs_alt & FRAME_P_YAW) && !p->yaw_sign)
			alt = false;
		if (set_ok(p->present, d->needs) || alt)
			a |= 1u << r;
	}
	return a;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Reservoir sampling: the slot for the seen-th sample (uniform over the run),
 * COAST_SAMPLES when it is not kept. */
static size_t reservoir(size_t seen, uint64_t *lcg)
{
	size_t k = seen < COAST_SAMPLES ? seen : (size_t)((*lcg >> 33) % (seen + 1));

	*lcg = *lcg * 6364136223846793005ull + 1442695040888963407ull;
	return k < COAST_SAMPLES ? k : COAST_SAMPLES;
}

/* The median of n values (sorts them). */
static double median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return v[n / 2];
}

/* The mean wheel speed of the two slowest wheels (free rolling under power). */
static double two_slowest(const struct pw_frame *f)
{
	double w[4], t;

	for (int i = 0; i < 4; i++)
		w[i] = fabs(f->wheel_speed_rads[i]);
	for (int i = 0; i < 2; i++) /* partial selection: the two smallest first */
		for (int j = i + 1; j < 4; j++)
			if (w[j] < w[i]) {
				t = w[i];
				w[i] = w[j];
				w[j] = t;
			}
	return 0.5 * (w[0] + w[1]);
}

/*
 * The run's channels and calibrations; -ENOMEM. The rolling radius: per
 * wheel the median of speed / wheel speed over samples rolling straight off
 * the brakes and short of full throttle; when the run has too few of those
 * (a driver always on one pedal), one radius for every wheel from the two
 * slowest wheels of the straight, unbraked samples (RaceIQ's method: under
 * power the undriven wheels roll free).
 */
static int prep_run(const struct an_run *r, size_t lo, size_t hi, struct prep *p)
{
	size_t step = hi - lo > PREP_ALL_FRAMES ? PREP_STRIDE : 1, seen = 0, seen2 = 0, k;
	double yaw_lat = 0.0, (*ratio)[COAST_SAMPLES] = malloc(5 * sizeof *ratio);
	uint64_t lcg = 0x9E3779B97F4A7C15ull;
	const struct pw_frame *prev = NULL;
	struct pw_frame prev_copy; /* the cursor's window may move under prev */
	struct an_cursor cur;

	memset(p, 0, sizeof *p);
	if (!ratio || an_cursor_init(&cur, r) < 0) {
		free(ratio);
		return -ENOMEM;
	}
	an_cursor_only(&cur, PREP_CHANNELS, PREP_PARTS); /* a sample: its channels only */
	p->done = true;
	for (size_t i = lo; i < hi; i += step) {
		/* sampled: only the frames read are made from columns */
		const struct pw_frame *f = an_frame_every(&cur, i, step);
		double v = speed_ms(f), dt, slow;

		p->present |= f->present;
		if (prev && has(prev, FRAME_P_YAW) && has(f, FRAME_P_YAW | FRAME_P_ACCEL_LAT) &&
		    (dt = frame_t(f) - frame_t(prev)) > 0 && dt <= DT_MAX_S && driving(f, v) &&
		    fabs(f->accel_lat_g) >= YAW_SIGN_LAT_G)
			yaw_lat +=
				wrap_pi((double)f->yaw_rad - prev->yaw_rad) / dt * f->accel_lat_g;
		prev_copy = *f;
		prev = &prev_copy;
		if (!has(f, FRAME_P_WHEEL_SPEED) || !driving(f, v) || v < COAST_MIN_MS ||
		    (has(f, FRAME_P_BRAKE) && f->brake >= COAST_BRAKE) ||
		    (has(f, FRAME_P_ACCEL_LAT) && fabs(f->accel_lat_g) >= COAST_LAT_G))
			continue;
		if ((slow = two_slowest(f)) > 0 && (k = reservoir(seen2++, &lcg)) < COAST_SAMPLES)
			ratio[4][k] = v / slow;
		if (has(f, FRAME_P_THROTTLE) && f->throttle >= COAST_THROTTLE)
			continue;
		if ((k = reservoir(seen++, &lcg)) == COAST_SAMPLES)
			continue;
		for (int w = 0; w < 4; w++) {
			double ws = fabs(f->wheel_speed_rads[w]);

			ratio[w][k] = ws > 0 ? v / ws : 0.0;
		}
	}
	seen = seen < COAST_SAMPLES ? seen : COAST_SAMPLES;
	seen2 = seen2 < COAST_SAMPLES ? seen2 : COAST_SAMPLES;
	p->radius_ok = seen >= COAST_MIN_SAMPLES || seen2 >= COAST_MIN_SAMPLES;
	for (int w = 0; w < 4 && p->radius_ok; w++) {
		p->radius[w] = seen >= COAST_MIN_SAMPLES ? median(ratio[w], seen)
			       : w == 0                  ? median(ratio[4], seen2)
							 : p->radius[0];
		if (!(p->radius[w] > 0.05 && p->radius[w] < 2.0))
			p->radius_ok = false;
	}
	p->yaw_sign = yaw_lat > 0 ? 1 : yaw_lat < 0 ? -1 : 0;
	p->active = active_rules(p);
	free(ratio);
	an_cursor_fini(&cur);
	return 0;
}

/* The run's calibrations over the frames its laps span. */
static int prep_laps(const struct an_run *r, const struct eng_lap *laps, size_t nlaps, size_t run,
		     struct prep *p)
{
	size_t lo = r->n, hi = 0;

	for (size_t i = 0; i < nlaps; i++)
		if (laps[i].run == run) {
			lo = laps[i].first < lo ? laps[i].first : lo;
			hi = laps[i].last + 1 > hi ? laps[i].last + 1 : hi;
		}
	return prep_run(r, lo, hi, p);
}

/* ---- the track model's corners, to name where episodes were ---- */

struct corner {
	int index;
	double entry, exit;
};

static int load_corners(const json_t *tm, struct corner **out)
{
	const json_t *cs = tm ? json_object_get(tm, "corners") : NULL, *c;
	size_t i, n = json_array_size(cs);
	struct corner *k;
	int m = 0;

	*out = NULL;
	if (!n)
		return 0;
	if (!(k = calloc(n, sizeof *k)))
		return -1;
	json_array_foreach(cs, i, c) {
		const json_t *en = json_object_get(c, "entry_dist_m"),
			     *ex = json_object_get(c, "exit_dist_m");

		if (!json_is_number(en) || !json_is_number(ex))
			continue;
		k[m++] = (struct corner){ (int)json_integer_value(json_object_get(c, "index")),
					  json_number_value(en), json_number_value(ex) };
	}
	*out = k;
	return m;
}

static int corner_at(const struct corner *k, int n, double d)
{
	for (int i = 0; i < n && isfinite(d); i++) {
		bool in = k[i].entry <= k[i].exit ? d >= k[i].entry && d <= k[i].exit
						  : d >= k[i].entry || d <= k[i].exit;
		if (in)
			return k[i].index;
	}
	return 0;
}

/* ---- one lap ---- */

struct lap_out {
	double drive_s;
	struct rule_lap r[R_COUNT];
};

/* frame_t of frame i of a run given as columns, read from them (no frame made). */
static double time_at(const struct framecols *c, size_t i)
{
	const double *gt = c->ch[FRAME_CH_GAME_TIME];
	uint64_t present = c->present ? c->present[i] : 0;

	if (present & FRAME_P_GAME_TIME)
		return gt ? gt[i] : 0.0;
	return c->t_ns ? (double)c->t_ns[i] * 1e-9 : 0.0;
}

/* A frame closer than MIN_STEP_S to the last one read is left out (the lap's
 * first and last are always read): the next one's step covers it. A frame at
 * the same instant is read (a coarse receive clock stamps several frames
 * alike: they are data, their time is the last step's). */
static bool left_out(const struct eng_lap *lap, size_t i, double dt)
{
	return dt > 0.0 && dt < MIN_STEP_S && i > lap->first && i < lap->last;
}

/* A lap's walk: what carries from one frame read to the next. */
struct lap_walk {
	double t0, tprev, dt_last, yaw_ema, yaw_s;
	float yaw_prev;
	bool derive;
};

static void walk_start(struct lap_walk *w, const struct prep *p, const struct pw_frame *first)
{
	*w = (struct lap_walk){ .t0 = frame_t(first),
				.dt_last = DT_DEFAULT_S,
				.yaw_prev = first->yaw_rad,
				.derive = !has(first, FRAME_P_SLIP_RATIO) && p->radius_ok };
	w->tprev = w->t0;
}

/* Frame i of the lap, read: its eng_frame to the rules (inlined in both walks: not a
 * call per frame read). */
static inline __attribute__((always_inline)) void
read_frame(struct rules_state *st, const struct prep *p, const struct eng_lap *lap,
	   struct lap_walk *w, const struct pw_frame *f, size_t i, struct lap_out *out)
{
	struct eng_frame e = { .f = f };
	double t = frame_t(f), dt = t - w->tprev;

	if (!(dt > 0.0 && dt <= DT_MAX_S))
		dt = w->dt_last;
	else
		w->dt_last = dt;
	w->tprev = t;
	e.dt_s = dt;
	e.lap_t_s = t - w->t0;
	if (!(e.lap_t_s >= 0.0) || e.lap_t_s > 1e6)
		e.lap_t_s = (double)(i - lap->first) * dt;
	e.v_ms = speed_ms(f);
	e.driving = driving(f, e.v_ms);
	if (e.driving)
		out->drive_s += dt;
	if (has(f, FRAME_P_SLIP_RATIO)) {
		e.have_sr = true;
		memcpy(e.sr, f->slip_ratio, sizeof e.sr);
	} else if (w->derive && has(f, FRAME_P_WHEEL_SPEED) && e.v_ms >= SR_MIN_MS) {
		e.have_sr = true;
		for (int k = 0; k < 4; k++)
			e.sr[k] =
				(float)(fabs(f->wheel_speed_rads[k]) * p->radius[k] / e.v_ms - 1.0);
	}
	if (p->yaw_sign && has(f, FRAME_P_YAW)) {
		double raw = wrap_pi((double)f->yaw_rad - w->yaw_prev) / dt;

		w->yaw_ema += (raw - w->yaw_ema) * fmin(1.0, dt / YAW_TAU_S);
		w->yaw_s += dt;
		e.have_yaw_rate = w->yaw_s >= YAW_TAU_S;
		e.yaw_rate = p->yaw_sign * w->yaw_ema;
		w->yaw_prev = f->yaw_rad;
	}
	e.dist_m = has(f, FRAME_P_LAP_DIST)                     ? f->lap_dist_m
		   : has(f, FRAME_P_SPLINE | FRAME_P_TRACK_LEN) ? f->spline * f->track_len_m
								: NAN;
	rules_frame(st, &e);
}

/* A lap of a run given as columns to the rules: the frames to read picked from its
 * time column first, up to AN_WINDOW at a time (their indices in idx), and only those
 * made (an_frames_at). */
static __attribute__((noinline)) void walk_cols(struct rules_state *st, const struct an_run *run,
						const struct prep *p, const struct eng_lap *lap,
						struct lap_out *out, struct an_cursor *cur,
						size_t *idx)
{
	struct lap_walk w = { 0 }; /* walk_start's on the lap's first frame */
	double tsel = time_at(run->cols, lap->first);
	size_t i = lap->first;

	while (i <= lap->last) {
		const struct pw_frame *win;
		size_t m = 0;

		for (; i <= lap->last && m < AN_WINDOW; i++) {
			double t = time_at(run->cols, i);

			if (left_out(lap, i, t - tsel))
				continue;
			idx[m++] = i;
			tsel = t;
		}
		win = an_frames_at(cur, idx, m);
		if (idx[0] == lap->first) /* the lap's first frame: always read, first */
			walk_start(&w, p, win);
		for (size_t k = 0; k < m; k++)
			read_frame(st, p, lap, &w, &win[k], idx[k], out);
	}
}

/* The lap's frames to the rules: whole frames read in place, or columns (walk_cols). */
static void run_lap(struct rules_state *st, const struct an_run *run, const struct prep *p,
		    const struct eng_lap *lap, struct lap_out *out, struct an_cursor *cur,
		    size_t *idx)
{
	const struct pw_frame *frames = run->frames;

	rules_lap_start(st, p->active);
	out->drive_s = 0.0;
	if (frames) {
		struct lap_walk w;
		size_t kept = lap->first;

		walk_start(&w, p, &frames[lap->first]);
		for (size_t i = lap->first; i <= lap->last; i++) {
			const struct pw_frame *f = &frames[i];

			if (left_out(lap, i, frame_t(f) - w.tprev))
				continue;
			/* the rules read every cache line of a frame: ask for those of the
			 * frame read two steps ahead (the steps keep their length at a
			 * steady rate) */
			if (i + 2 * (i - kept) <= lap->last)
				for (size_t b = 0; b < sizeof *f; b += 64)
					__builtin_prefetch(
						(const char *)&frames[i + 2 * (i - kept)] + b);
			kept = i;
			read_frame(st, p, lap, &w, f, i, out);
		}
	} else {
		walk_cols(st, run, p, lap, out, cur, idx);
	}
	rules_lap_end(st, out->r);
}

/* ---- findings ---- */

struct finding {
	enum rule_id rule;
	enum eng_confidence conf;
	double strength; /* ranking within a confidence */
	json_t *rec;
	const char *param;
};

static double severity(enum rule_id r, const struct rule_lap *l)
{
	switch (r) {
	case R_GEARING_LONG:
	case R_EXIT_BOG:
		return isfinite(l->value) ? 1.0 - l->value : 0.0;
	case R_TYRE_OVERHEAT:
		return l->aux;
	case R_OVERSTEER:
		return isfinite(l->value) ? fabs(l->value) : l->aux;
	case R_NEAR_BUMP_STOP:
	case R_UNDERSTEER:
	case R_ENTRY_UNDERSTEER:
	case R_AXLE_TEMP_BALANCE:
	case R_TYRE_PRESSURE_SPREAD:
	case R_TYRE_CAMBER_SPREAD:
		return fabs(l->value);
	default:
		return l->episodes + l->value * 1e-3;
	}
}

static json_t *num(double v, double unit)
{
	return isfinite(v) ? json_real(round(v / unit) * unit) : json_null();
}

/* "front-left+front-right" for an episode's wheels, else its axle or "car". */
static void where_name(const struct rule_episode *e, char *buf, size_t cap)
{
	static const char *const names[] = { "front-left", "front-right", "rear-left", "rear-right",
					     "front",      "rear",        "car" };
	size_t n = 0;

	buf[0] = 0;
	for (int w = 0; w < 4; w++)
		if (e->wheels & (1u << w))
			n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s", n ? "+" : "",
					      names[w]);
	if (!n)
		snprintf(buf, cap, "%s", e->where < 7 ? names[e->where] : "car");
}

static json_t *evidence(const struct rule_summary *s)
{
	json_t *o = json_object(), *laps = json_array(), *eps = json_array();
	const struct rule_lap *w = s->worst;

	if (!o || !laps || !eps) {
		json_decref(o);
		json_decref(laps);
		json_decref(eps);
		return NULL;
	}
	for (int i = 0; i < s->laps_hit; i++)
		json_array_append_new(laps, json_integer(s->hit_laps[i]));
	for (int i = 0; i < w->nep && i < EP_OUT; i++) {
		const struct rule_episode *e = &w->ep[i];
		char where[64];

		where_name(e, where, sizeof where);
		json_array_append_new(
			eps,
			json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:s}", "lap",
				  (json_int_t)s->worst_lap, "t_s", num(e->t_s, 0.01), "duration_s",
				  num(e->dur_s, 0.001), "peak", num(e->peak, 0.001), "lap_dist_m",
				  num(e->dist_m, 0.1), "corner",
				  e->corner > 0 ? json_integer(e->corner) : json_null(), "where",
				  where));
	}
	json_object_set_new(o, "laps_analyzed", json_integer(s->laps));
	json_object_set_new(o, "laps_with", json_integer(s->laps_hit));
	json_object_set_new(o, "laps_strong", json_integer(s->laps_strong));
	json_object_set_new(o, "laps", laps);
	json_object_set_new(o, "worst_lap", json_integer(s->worst_lap));
	json_object_set_new(o, "value", num(w->value, 0.0001));
	json_object_set_new(o, "value_mean", num(s->value_mean, 0.0001));
	json_object_set_new(o, "second_value", num(w->aux, 0.0001));
	json_object_set_new(o, "gate_s", num(w->gate_s, 0.01));
	json_object_set_new(o, "episodes", json_integer(w->episodes));
	json_object_set_new(o, "episode_list", eps);
	return o;
}

/* A stable id: FNV-1a of session, lap, rule and mode. */
static void finding_id(const char *session, uint32_t lap, const char *rule, bool live, char out[17])
{
	uint64_t h = 0xcbf29ce484222325ull;
	char key[256];
	int n = snprintf(key, sizeof key, "%s|%u|%s|%d", session ? session : "", lap, rule, live);

	for (int i = 0; i < n && i < (int)sizeof key - 1; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3ull;
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static enum eng_confidence confidence(const struct rule_summary *s)
{
	int half = (s->laps + 1) / 2;
	enum eng_confidence c = s->laps_strong >= half                      ? ENG_HIGH
				: s->laps_hit >= half || s->laps_strong > 0 ? ENG_MEDIUM
									    : ENG_LOW;

	if (c > rule_defs[s->rule].max_conf)
		c = rule_defs[s->rule].max_conf;
	if (rule_defs[s->rule].pattern && !s->second_signal)
		c = ENG_LOW;
	return c;
}

static int cmp_finding(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;

	if (x->conf != y->conf)
		return x->conf > y->conf ? -1 : 1;
	if (x->strength != y->strength)
		return x->strength > y->strength ? -1 : 1;
	return rule_defs[x->rule].number - rule_defs[y->rule].number;
}

struct eng {
	const struct an_input *in;
	const struct eng_lap *laps;
	size_t nlaps;
	const struct eng_opts *o;
	struct lap_out *out;
	bool *counted; /* per lap: driven long enough */
	uint32_t *hit_laps;
	struct finding f[R_COUNT];
	int nf;
	bool oom;
};

static void summarize(struct eng *g, enum rule_id r, struct rule_summary *s)
{
	double best = -1.0, sum = 0.0;
	int k = 0;

	memset(s, 0, sizeof *s);
	s->rule = r;
	s->live = g->o->live;
	s->hit_laps = g->hit_laps + (size_t)r * g->nlaps;
	for (size_t i = 0; i < g->nlaps; i++) {
		const struct rule_lap *l = &g->out[i].r[r];
		double score;

		if (!g->counted[i] || !l->active)
			continue;
		s->laps++;
		if (!l->hit)
			continue;
		s->laps_hit++;
		s->laps_strong += l->strong;
		s->episodes += l->episodes;
		s->wheels |= l->wheels;
		g->hit_laps[(size_t)r * g->nlaps + k++] = g->laps[i].number;
		if (isfinite(l->value))
			sum += l->value;
		score = l->strong * 1e6 + severity(r, l);
		if (score > best) {
			best = score;
			s->worst = l;
			s->worst_lap = g->laps[i].number;
		}
	}
	s->value_mean = s->laps_hit ? sum / s->laps_hit : NAN;
}

static bool fired(const struct eng *g, enum rule_id r)
{
	for (size_t i = 0; i < g->nlaps; i++)
		if (g->counted[i] && g->out[i].r[r].hit)
			return true;
	return false;
}

static void find(struct eng *g)
{
	for (int r = 0; r < R_COUNT; r++) {
		struct rule_summary s;
		struct finding *fd = &g->f[g->nf];
		const char *param = NULL;
		char id[17];
		json_t *rec;

		summarize(g, (enum rule_id)r, &s);
		if (!s.laps_hit)
			continue;
		if (r == R_AXLE_TEMP_BALANCE)
			s.second_signal = s.worst->value >= 0 ? fired(g, R_UNDERSTEER) ||
									fired(g, R_ENTRY_UNDERSTEER)
							      : fired(g, R_OVERSTEER);
		if (r == R_TYRE_PRESSURE_SPREAD || r == R_TYRE_CAMBER_SPREAD)
			s.second_signal = s.worst->aux2 > 0; /* both tyres of an axle agree */
		if (!(rec = rule_compose(&s, &param))) {
			g->oom = true;
			return;
		}
		fd->rule = (enum rule_id)r;
		fd->conf = confidence(&s);
		fd->strength = (double)s.laps_strong / s.laps + (double)s.laps_hit / s.laps / 10.0;
		fd->param = param;
		finding_id(g->in->session_id, s.worst_lap, rule_defs[r].id, g->o->live, id);
		json_object_set_new(rec, "id", json_string(id));
		json_object_set_new(rec, "session_id",
				    json_string(g->in->session_id ? g->in->session_id : ""));
		json_object_set_new(rec, "lap_number", json_integer(s.worst_lap));
		json_object_set_new(rec, "rule", json_string(rule_defs[r].id));
		json_object_set_new(rec, "rule_number", json_integer(rule_defs[r].number));
		json_object_set_new(rec, "confidence", json_string(eng_confidence_name(fd->conf)));
		json_object_set_new(rec, "kind",
				    json_string(rule_defs[r].pattern && !s.second_signal
							? "observation"
							: "recommendation"));
		json_object_set_new(rec, "evidence", evidence(&s));
		fd->rec = rec;
		g->nf++;
	}
}

/* Ranked, one per parameter, the live filters, the most a report holds. */
static json_t *select_findings(struct eng *g)
{
	json_t *a = json_array();
	int kept = 0, max = g->o->live ? ENG_MAX_LIVE : ENG_MAX_SESSION;

	if (!a)
		return NULL;
	qsort(g->f, (size_t)g->nf, sizeof *g->f, cmp_finding);
	for (int i = 0; i < g->nf && kept < max; i++) {
		const struct finding *fd = &g->f[i];
		bool dup = false;

		for (int k = 0; k < i && fd->param; k++)
			dup |= g->f[k].param && strcmp(g->f[k].param, fd->param) == 0 &&
			       g->f[k].conf >= fd->conf;
		if (dup)
			continue;
		if (g->o->live &&
		    (fd->conf == ENG_LOW || (g->o->suppress >> rule_defs[fd->rule].category) & 1u))
			continue;
		json_array_append(a, fd->rec);
		kept++;
	}
	return a;
}

/* ---- what could not be evaluated ---- */

static json_t *missing_of(uint64_t present, uint64_t set)
{
	json_t *a = json_array();

	for (unsigned b = 0; a && b < FRAME_P_COUNT; b++)
		if ((set >> b) & 1u && !((present >> b) & 1u))
			json_array_append_new(a, json_string(frame_channel_name(b)));
	return a;
}

static json_t *not_evaluated(const struct prep *preps, size_t nruns, uint32_t active,
			     json_t **evaluated)
{
	json_t *a = json_array();
	uint64_t present = 0;

	*evaluated = json_array();
	for (size_t i = 0; i < nruns; i++)
		present |= preps[i].done ? preps[i].present : 0;
	for (int r = 0; a && *evaluated && r < R_COUNT; r++) {
		const struct rule_def *d = &rule_defs[r];
		json_t *o, *miss;

		if ((active >> r) & 1u) {
			json_array_append_new(*evaluated, json_string(d->id));
			continue;
		}
		if (d->absent) {
			miss = json_array();
			for (int k = 0; miss && d->absent[k]; k++)
				json_array_append_new(miss, json_string(d->absent[k]));
		} else {
			miss = missing_of(present, d->needs);
		}
		o = json_pack("{s:s, s:i, s:s, s:o}", "rule", d->id, "rule_number", d->number,
			      "title", d->title, "missing", miss ? miss : json_array());
		if (o && d->needs_alt)
			json_object_set_new(o, "or_missing", missing_of(present, d->needs_alt));
		if (o && d->absent)
			json_object_set_new(
				o, "reason",
				json_string("no feed pitwall decodes sends these channels"));
		else if (o && (d->needs & FRAME_P_TYRE_TEMP_INNER))
			json_object_set_new(
				o, "reason",
				json_string(
					"the game sends one temperature per tyre, not the tread's inner, "
					"middle and outer (Project CARS 2 / AMS2 do)"));
		else if (o && set_ok(present, d->needs_alt) && (d->needs_alt & FRAME_P_WHEEL_SPEED))
			json_object_set_new(
				o, "reason",
				json_string(
					"the wheel speeds are there, but no rolling radius: too little "
					"coasting straight above 10 m/s to calibrate a derived slip ratio"));
		else if (o && set_ok(present, d->needs_alt))
			json_object_set_new(
				o, "reason",
				json_string(
					"yaw and steering are there, but the yaw direction could not be "
					"calibrated: no turns above 0.3 g with a running clock"));
		json_array_append_new(a, o);
	}
	return a;
}

/*
 * The laps to the rules, each on its own (rules_lap_start clears the state):
 * a long session's laps shared by two threads, every other lap each, with a
 * rules state and a window of their own (eng_opts.threads). 0 or -ENOMEM.
 */
struct lap_walker {
	const struct eng *g;
	const struct prep *preps;
	struct rules_state *st;
	size_t from, step;
	int rc;
	pthread_t thread;
};

static void *walker_run(void *arg)
{
	struct lap_walker *w = arg;
	const struct eng *g = w->g;
	size_t *idx = malloc(AN_WINDOW * sizeof *idx); /* the frames a lap's window reads */

	w->rc = idx ? 0 : -ENOMEM;
	for (size_t i = w->from; w->rc == 0 && i < g->nlaps; i += w->step) {
		const struct an_run *run = &g->in->runs[g->laps[i].run];
		struct an_cursor cur;

		if ((w->rc = an_cursor_init(&cur, run)) < 0)
			break;
		run_lap(w->st, run, &w->preps[g->laps[i].run], &g->laps[i], &g->out[i], &cur, idx);
		an_cursor_fini(&cur);
	}
	free(idx);
	return NULL;
}

static int walk_laps(struct eng *g, const struct prep *preps, struct rules_state *st)
{
	struct lap_walker w[2] = { { g, preps, st, 0, 1, 0, 0 }, { g, preps, NULL, 1, 2, 0, 0 } };
	size_t frames = 0;
	bool two = false;

	for (size_t i = 0; i < g->nlaps; i++)
		frames += g->laps[i].last - g->laps[i].first + 1;
	if (g->nlaps >= 2 && g->o->threads != 1 &&
	    (frames >= ENG_PARALLEL_MIN_FRAMES || g->o->threads == 2) &&
	    (w[1].st = malloc(rules_state_size()))) {
		w[0].step = 2;
		two = pthread_create(&w[1].thread, NULL, walker_run, &w[1]) == 0;
		if (!two)
			w[0].step = 1;
	}
	walker_run(&w[0]);
	if (two)
		pthread_join(w[1].thread, NULL);
	free(w[1].st);
	return w[0].rc < 0 ? w[0].rc : two ? w[1].rc : 0;
}

/* ---- entry point ---- */

static void release(struct eng *g, struct prep *preps, struct rules_state *st)
{
	for (int i = 0; i < g->nf; i++)
		json_decref(g->f[i].rec);
	free(g->out);
	free(g->counted);
	free(g->hit_laps);
	free(preps);
	free(st);
}

json_t *an_engineer(const struct an_input *in, const struct eng_lap *laps, size_t nlaps,
		    const struct eng_opts *opts, struct an_err *err)
{
	static const struct eng_opts report = { 0 };
	struct eng g = { .in = in, .laps = laps, .nlaps = nlaps, .o = opts ? opts : &report };
	struct prep *preps = NULL;
	struct rules_state *st = NULL;
	struct corner *corners = NULL;
	json_t *res = NULL, *recs, *ne, *ev;
	uint32_t active = 0;
	int ncorners = 0, counted = 0;

	if (!in || (in->nruns && !in->runs) || (nlaps && !laps)) {
		an_fail(err, AN_E_BAD_INPUT, "no input, or runs or laps missing");
		return NULL;
	}
	for (size_t i = 0; i < nlaps; i++)
		if (laps[i].run >= in->nruns || laps[i].first > laps[i].last ||
		    laps[i].last >= in->runs[laps[i].run].n ||
		    !an_run_has_frames(&in->runs[laps[i].run])) {
			an_fail(err, AN_E_BAD_INPUT, "lap %zu lies outside its run", i);
			return NULL;
		}
	preps = calloc(in->nruns + 1, sizeof *preps);
	st = malloc(rules_state_size());
	g.out = calloc(nlaps + 1, sizeof *g.out);
	g.counted = calloc(nlaps + 1, sizeof *g.counted);
	g.hit_laps = calloc((nlaps + 1) * R_COUNT, sizeof *g.hit_laps);
	ncorners = load_corners(in->track_model, &corners);
	if (!preps || !st || !g.out || !g.counted || !g.hit_laps || ncorners < 0)
		goto oom;
	for (size_t i = 0; i < nlaps; i++) {
		struct prep *p = &preps[laps[i].run];

		if (!p->done && prep_laps(&in->runs[laps[i].run], laps, nlaps, laps[i].run, p) < 0)
			goto oom;
		active |= p->active;
	}
	if (walk_laps(&g, preps, st) < 0)
		goto oom;
	for (size_t i = 0; i < nlaps; i++) {
		g.counted[i] = g.out[i].drive_s >= LAP_MIN_DRIVE_S;
		counted += g.counted[i];
		for (int r = 0; r < R_COUNT && ncorners; r++)
			for (int k = 0; k < g.out[i].r[r].nep; k++)
				g.out[i].r[r].ep[k].corner = (int16_t)corner_at(
					corners, ncorners, g.out[i].r[r].ep[k].dist_m);
	}
	for (size_t i = 0; i < in->nruns; i++) /* runs without a lap still say what they carry */
		if (!preps[i].done && an_run_has_frames(&in->runs[i]) && in->runs[i].n) {
			if (prep_run(&in->runs[i], 0, in->runs[i].n, &preps[i]) < 0)
				goto oom;
			active |= preps[i].active;
		}
	find(&g);
	if (g.oom)
		goto oom;
	recs = select_findings(&g);
	ne = not_evaluated(preps, in->nruns, active, &ev);
	res = json_object();
	if (!recs || !ne || !ev || !res) {
		json_decref(recs);
		json_decref(ne);
		json_decref(ev);
		goto oom;
	}
	json_object_set_new(res, "recommendations", recs);
	json_object_set_new(res, "not_evaluated", ne);
	json_object_set_new(res, "evaluated", ev);
	json_object_set_new(res, "laps_analyzed", json_integer(counted));
	free(corners);
	release(&g, preps, st);
	return res;
oom:
	json_decref(res);
	free(corners);
	release(&g, preps, st);
	an_fail(err, AN_E_NO_MEMORY, "out of memory for the recommendations");
	return NULL;
}
