/*
 * rules.c - the race engineer's rules (rules.h), one section per rule of
 * REFERENCE-ux §5 (docs/analysis-recommendations.md repeats each with its
 * source). Sample counts the peers state at Forza's 60 Hz are windows in
 * seconds here (15 samples = 0.25 s), so every feed rate reads the same.
 *
 * A window: a condition that holds (gaps up to DET_GAP_S bridged) for at
 * least its length makes one episode, counted once however long it lasts
 * (the latch); it ends when the condition has been false for DET_GAP_S.
 * Every condition includes the common gate (eng_frame.driving).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analyze/rules.h"

#define DET_GAP_S 0.1 /* a condition may drop out this long inside one episode */
#define MAX_GEAR 10
#define MAXOF(a, b) ((a) > (b) ? (a) : (b)) /* inline in the per-frame paths (fmax is a call) */

/* ---- the rule table ---- */

#define P(x) FRAME_P_##x
#define TREAD (P(TYRE_TEMP_INNER) | P(TYRE_TEMP_MIDDLE) | P(TYRE_TEMP_OUTER))

const struct rule_def rule_defs[R_COUNT] = {
	[R_BOTTOMING] = { "bottoming", 1, ENG_SPRINGS, "Suspension bottoming out",
			  P(SUSP_NORM) | P(SPEED), 0, NULL, ENG_HIGH, false },
	[R_NEAR_BUMP_STOP] = { "near_bump_stop", 2, ENG_SPRINGS, "Running close to the bump stops",
			       P(SUSP_NORM) | P(SPEED), 0, NULL, ENG_HIGH, false },
	[R_REAR_SQUAT] = { "rear_squat", 3, ENG_SPRINGS, "Rear squats onto the bump stops on exit",
			   P(SUSP_NORM) | P(SPEED) | P(THROTTLE) | P(ACCEL_LAT), 0, NULL, ENG_HIGH,
			   false },
	[R_FRONT_LOCKUP] = { "front_lockup", 4, ENG_BRAKES, "Front wheels lock under braking",
			     P(SLIP_RATIO) | P(BRAKE) | P(SPEED),
			     P(WHEEL_SPEED) | P(BRAKE) | P(SPEED), NULL, ENG_HIGH, false },
	[R_REAR_LOCKUP] = { "rear_lockup", 5, ENG_BRAKES, "Rear wheels lock under braking",
			    P(SLIP_RATIO) | P(BRAKE) | P(SPEED),
			    P(WHEEL_SPEED) | P(BRAKE) | P(SPEED), NULL, ENG_HIGH, false },
	[R_WHEELSPIN] = { "wheelspin", 6, ENG_DIFFERENTIAL, "Wheelspin on power",
			  P(SLIP_RATIO) | P(THROTTLE) | P(SPEED),
			  P(WHEEL_SPEED) | P(THROTTLE) | P(SPEED), NULL, ENG_HIGH, false },
	[R_UNDERSTEER] = { "understeer", 7, ENG_ANTI_ROLL, "Mid-corner understeer",
			   P(SLIP_ANGLE) | P(ACCEL_LAT) | P(SPEED), 0, NULL, ENG_HIGH, false },
	[R_OVERSTEER] = { "oversteer", 8, ENG_ANTI_ROLL, "Oversteer: the rear lets go first",
			  P(SLIP_ANGLE) | P(ACCEL_LAT) | P(SPEED),
			  P(YAW) | P(STEER) | P(ACCEL_LAT) | P(SPEED), NULL, ENG_HIGH, false },
	[R_ENTRY_UNDERSTEER] = { "entry_understeer", 9, ENG_BRAKES,
				 "Turn-in understeer under trail braking",
				 P(SLIP_ANGLE) | P(ACCEL_LAT) | P(BRAKE) | P(STEER) | P(SPEED), 0,
				 NULL, ENG_HIGH, false },
	[R_GEARING_LONG] = { "gearing_long", 10, ENG_GEARING, "Gearing too long",
			     P(GEAR) | P(RPM) | P(MAX_RPM) | P(THROTTLE) | P(SPEED), 0, NULL,
			     ENG_HIGH, false },
	[R_GEARING_SHORT] = { "gearing_short", 11, ENG_GEARING,
			      "Gearing too short: on the limiter before the braking point",
			      P(GEAR) | P(RPM) | P(MAX_RPM) | P(THROTTLE) | P(SPEED), 0, NULL,
			      ENG_HIGH, false },
	[R_EXIT_BOG] = { "exit_bog", 12, ENG_GEARING, "Engine bogs out of the slowest corner",
			 P(GEAR) | P(RPM) | P(MAX_RPM) | P(THROTTLE) | P(SPEED), 0, NULL,
			 ENG_MEDIUM, false },
	[R_TYRE_PRESSURE_SPREAD] = { "tyre_pressure_spread", 13, ENG_TIRES,
				     "Tyre centre against shoulder temperatures", TREAD | P(SPEED),
				     0, NULL, ENG_MEDIUM, true },
	[R_TYRE_CAMBER_SPREAD] = { "tyre_camber_spread", 14, ENG_ALIGNMENT,
				   "Tyre inner against outer temperatures", TREAD | P(SPEED), 0,
				   NULL, ENG_MEDIUM, true },
	[R_TYRE_OVERHEAT] = { "tyre_overheat", 15, ENG_TIRES, "Tyres overheating",
			      P(TYRE_TEMP) | P(SPEED), 0, NULL, ENG_HIGH, false },
	[R_AXLE_TEMP_BALANCE] = { "axle_temp_balance", 15, ENG_TIRES,
				  "One axle's tyres run hotter than the other's",
				  P(TYRE_TEMP) | P(SPEED), 0, NULL, ENG_HIGH, true },
};
#undef TREAD
#undef P

/* ---- thresholds (REFERENCE-ux §5; "I" = inferred here, see the docs) ---- */

/* 1 bottoming: normalised travel >= 0.98 for >= 15 samples (0.25 s); critical when both
 * wheels of an axle do it (tuning-coach) or in >= 3 zones a lap (RaceIQ) */
#define BOTTOM_NORM 0.98
#define BOTTOM_S 0.25
#define BOTTOM_ZONES_STRONG 3
/* 2 near bump stop: travel >= 0.92 on >= 15 % of the driving samples of an axle; strong
 * at twice that (I) */
#define NEAR_NORM 0.92
#define NEAR_SHARE 0.15
#define NEAR_SHARE_STRONG 0.30
/* 3 rear squat: rear travel > 0.95 on corner exit under throttle (agent table); window
 * and gates as rule 1 (I: exit = throttle >= 0.5 with |lat| >= 0.3 g) */
#define SQUAT_NORM 0.95
#define SQUAT_THROTTLE 0.5
#define SQUAT_LAT_G 0.3
/* 4/5 lock-up: slip ratio <= -0.25 for >= 10 samples (0.167 s) with brake >= 40 % at
 * >= 8 m/s (tuning-coach); strong: >= 3 a lap or one of >= 0.5 s (I) */
#define LOCK_SR -0.25
#define LOCK_S (10.0 / 60.0)
#define LOCK_BRAKE 0.40
#define LOCK_MIN_MS 8.0
#define EPISODES_STRONG 3
#define LONG_EPISODE_S 0.5
/* 6 wheelspin: slip ratio >= 0.30 for >= 12 samples (0.2 s) with throttle >= 70 % */
#define SPIN_SR 0.30
#define SPIN_S 0.2
#define SPIN_THROTTLE 0.70
/* 7/8 balance: cornering = |lat| >= 0.6 g at >= 12 m/s for >= 40 samples (0.67 s) a lap;
 * mean front - rear slip angle >= 0.020 rad, strong >= 0.045 (tuning-coach) */
#define CORNER_LAT_G 0.6
#define CORNER_MIN_MS 12.0
#define CORNER_MIN_S (40.0 / 60.0)
#define BALANCE_RAD 0.020
#define BALANCE_STRONG_RAD 0.045
#define BALANCE_EPISODE_S 0.5 /* I: a corner's stretch of it, for the evidence */
/* 8 counter-steer: |yaw rate| > 0.3 rad/s with the steering the other way at > 20 mph
 * (RaceIQ detectCounterSteer); I: for >= 0.1 s, |steer| >= 0.05, a catch a lap twice =
 * a finding, four = strong */
#define CS_YAW_RATE 0.3
#define CS_MIN_MS 8.94
#define CS_STEER 0.05
#define CS_S 0.1
#define CS_HIT 2
#define CS_STRONG 4
/* 9 entry understeer: rule 7's signature while brake > 10 % and steering (I: |steer| >=
 * 0.05, |lat| >= 0.3 g, >= 20 samples = 0.33 s a lap) */
#define ENTRY_BRAKE 0.10
#define ENTRY_STEER 0.05
#define ENTRY_LAT_G 0.3
#define ENTRY_MIN_S (20.0 / 60.0)
/* 10 gearing long: >= 30 full-throttle samples (0.5 s) in the highest gear used, its max
 * rpm < 90 % of max_rpm (tuning-coach); strong < 85 % (I) */
#define FULL_THROTTLE 0.9
#define TOP_GEAR_MIN_S 0.5
#define LONG_FRAC 0.90
#define LONG_FRAC_STRONG 0.85
#define LONG_TARGET_FRAC 0.97 /* I: where the end of the longest straight should be */
#define UNUSED_GEARS 2        /* I: top gears never used for TOP_GEAR_MIN_S: too long too */
#define GEARING_STEP_PCT 10.0 /* I: at most this change of a ratio at once */
/* 11 gearing short: rpm >= max - 50 for >= 10 samples (0.167 s) at full throttle in top
 * gear (RaceIQ detectRevLimiter); strong: >= 0.5 s a lap or twice (I) */
#define LIMITER_BAND_RPM 50.0
#define LIMITER_S (10.0 / 60.0)
#define LIMITER_STRONG_S 0.5
/* 12 exit bog (I): at the lap's slowest point in its lowest gear, rpm < 45 % of max_rpm,
 * then full throttle within 1.5 s */
#define BOG_FRAC 0.45
#define BOG_THROTTLE_S 1.5
/* 13/14 tread zones (RaceIQ detectTireSurfaceProfile): per wheel, 2 s windows of driving
 * whose spread stays within 2 degC; a window takes a sign when the spread is past the
 * threshold that way for >= 1.6 s of its 2; the wheel shows the pattern with >= 3 such
 * windows of one sign that are >= 60 % of its stable windows and of those in the lap's
 * later half. 13: middle - mean(inner, outer) >= +8 / <= -8 degC; 14: inner - outer
 * >= +10 / <= -10. Strong (I): the mean spread of the wheel's signed windows twice the
 * threshold. The second signal (I): both wheels of an axle show it with the same sign (a
 * track's turn direction heats the edges of one side's tyres only; a setup error is
 * symmetric) */
#define SPREAD_WIN_S 2.0
#define SPREAD_STABLE_C 2.0
#define SPREAD_HELD_S 1.6
#define SPREAD_MIN_WIN 3
#define SPREAD_SHARE 0.6
#define CROWN_C 8.0
#define EDGE_C 10.0
#define SPREAD_MAX_WIN 512  /* windows kept a lap (17 minutes) */
#define CAMBER_STEP_DEG 0.3 /* I: reduce/increase negative camber in 0.2-0.5 deg steps */

/* 15 tyres: > 110 degC warning, > 130 critical for >= 10 s in 60 (RaceIQ
 * detectTireOverheat); front - rear mean >= 12 degC info, >= 22 warning (detectTireTempSplit) */
#define HOT_C 110.0
#define HOT_CRITICAL_C 130.0
#define HOT_SHARE (10.0 / 60.0)
#define SPLIT_C 12.0
#define SPLIT_STRONG_C 22.0

/* ---- caps (REFERENCE-ux §5, the race-engineer agent) ---- */

#define CAP_SPRING 15.0
#define CAP_DAMPING 2.0
#define CAP_PRESSURE 2.0
#define CAP_BIAS 2.0
#define PSI_KPA 6.894757

double rule_cap(enum rule_cap cap, double change)
{
	double lim = cap == CAP_SPRING_PCT       ? CAP_SPRING
		     : cap == CAP_DAMPING_CLICKS ? CAP_DAMPING
		     : cap == CAP_PRESSURE_PSI   ? CAP_PRESSURE
		     : cap == CAP_BIAS_PCT       ? CAP_BIAS
						 : INFINITY;

	return fmin(fmax(change, -lim), lim);
}

/* ---- detection state ---- */

struct det {
	bool on;
	double held_s, gap_s, peak;
	int ep; /* index in the lap's ep[] once counted; -1 not yet, -2 not kept */
};

/* The wheels of a per-wheel rule share zones: a wheel qualifying while
 * another's episode runs joins that episode instead of counting another. */
struct zone {
	bool open;
	int ep; /* as det.ep */
};

/* 13/14: one wheel's spread windows over a lap. */
struct spread {
	double t_s, pos_s, neg_s, lo, hi, sum; /* the window running */
	int n;                                 /* windows closed */
	int8_t sign[SPREAD_MAX_WIN];           /* per closed window: +1, -1, 0, or 2 = unstable */
	float mean[SPREAD_MAX_WIN];            /* its mean spread */
};

struct rules_state {
	uint32_t active;
	struct rule_lap lap[R_COUNT];
	struct det wheel[R_COUNT][4]; /* per-wheel windows (1, 3, 4, 5, 6) */
	struct zone zone[R_COUNT];
	struct det car[R_COUNT]; /* whole-car windows (7, 8, 11) */
	struct det cs;           /* 8: counter-steer */
	struct rule_lap cs_lap;
	double drive_s;
	double near_s[2];                                 /* 2: per axle */
	double bal_sum, bal_n, bal_s;                     /* 7/8 */
	double entry_sum, entry_n;                        /* 9 */
	double ft_s[MAX_GEAR + 1], ft_frac[MAX_GEAR + 1]; /* 10: full throttle per gear */
	int top_gear;                                     /* 10/11: num_gears, 0 unknown */
	int limiter_gear[RULE_MAX_EP];                    /* 11: gear of each kept episode */
	int gear_lo;                                      /* 12: lowest forward gear used */
	double min_v, bog_frac, bog_t;                    /* 12: the slowest point */
	int bog_gear;
	bool bog_throttle;
	double hot_s[4], crit_s[4], max_c[4]; /* 15 */
	double temp_front, temp_rear, temp_n;
	struct spread sp[2][4]; /* 13, 14 per wheel */
};

size_t rules_state_size(void)
{
	return sizeof(struct rules_state);
}

void rules_lap_start(struct rules_state *s, uint32_t active)
{
	memset(s, 0, sizeof *s);
	s->active = active;
	s->min_v = INFINITY;
	for (int r = 0; r < R_COUNT; r++) {
		s->lap[r].active = (active >> r) & 1;
		s->car[r].ep = -1;
		for (int w = 0; w < 4; w++)
			s->wheel[r][w].ep = -1;
	}
	s->cs.ep = -1;
}

static bool on(const struct rules_state *s, enum rule_id r)
{
	return (s->active >> r) & 1;
}

static bool has(const struct pw_frame *f, uint64_t bits)
{
	return (f->present & bits) == bits;
}

/*
 * One frame of a window on rule lap rl: cond holds or not, v is the value
 * watched (its peak is the most extreme: the lowest when lower_worse).
 * Counts the episode once it has held min_s; with a zone (per-wheel rules),
 * joins the zone's running episode instead when there is one.
 */
static void det_hold(struct rule_lap *rl, struct det *d, struct zone *z, double v, bool lower_worse,
		     const struct eng_frame *e, double min_s, uint8_t where);

static inline void det_step(struct rule_lap *rl, struct det *d, struct zone *z, bool cond, double v,
			    bool lower_worse, const struct eng_frame *e, double min_s,
			    uint8_t where)
{
	if (!cond) {
		if (d->on && (d->gap_s += e->dt_s) > DET_GAP_S)
			d->on = false;
		return;
	}
	det_hold(rl, d, z, v, lower_worse, e, min_s, where);
}

/* The condition holds this frame. */
static void det_hold(struct rule_lap *rl, struct det *d, struct zone *z, double v, bool lower_worse,
		     const struct eng_frame *e, double min_s, uint8_t where)
{
	struct rule_episode *ep;

	if (!d->on) {
		*d = (struct det){ .on = true, .peak = v, .ep = -1 };
	} else {
		d->held_s += d->gap_s;
		d->gap_s = 0;
	}
	d->held_s += e->dt_s;
	if (lower_worse ? v < d->peak : v > d->peak)
		d->peak = v;
	if (d->ep == -1 && d->held_s >= min_s) {
		if (where < 4)
			rl->wheels |= 1u << where;
		if (z && z->open) {
			d->ep = z->ep;
		} else {
			rl->episodes++;
			d->ep = -2;
			if (rl->nep < RULE_MAX_EP) {
				d->ep = rl->nep++;
				rl->ep[d->ep] = (struct rule_episode){ .t_s = e->lap_t_s -
									      d->held_s + e->dt_s,
								       .peak = d->peak,
								       .dist_m = e->dist_m,
								       .where = where };
			}
			if (z)
				*z = (struct zone){ .open = true, .ep = d->ep };
		}
	}
	if (d->ep < 0)
		return;
	ep = &rl->ep[d->ep];
	if (where < 4)
		ep->wheels |= (uint8_t)(1u << where);
	ep->dur_s = MAXOF(ep->dur_s, d->held_s);
	if (lower_worse ? d->peak < ep->peak : d->peak > ep->peak)
		ep->peak = d->peak;
}

/* After a frame of a per-wheel rule: its zone ends when no wheel's window runs. */
static void zone_step(struct zone *z, const struct det d[4])
{
	if (z->open && !d[0].on && !d[1].on && !d[2].on && !d[3].on)
		z->open = false;
}

static double fabs2(float a, float b)
{
	return 0.5 * (fabs(a) + fabs(b));
}

/* ---- per frame ---- */

static void frame_suspension(struct rules_state *s, const struct eng_frame *e)
{
	const struct pw_frame *f = e->f;
	bool ok = e->driving && has(f, FRAME_P_SUSP_NORM);

	for (int w = 0; w < 4 && on(s, R_BOTTOMING); w++)
		det_step(&s->lap[R_BOTTOMING], &s->wheel[R_BOTTOMING][w], &s->zone[R_BOTTOMING],
			 ok && f->susp_travel_norm[w] >= BOTTOM_NORM, f->susp_travel_norm[w], false,
			 e, BOTTOM_S, (uint8_t)w);
	zone_step(&s->zone[R_BOTTOMING], s->wheel[R_BOTTOMING]);
	if (on(s, R_NEAR_BUMP_STOP) && ok) {
		s->lap[R_NEAR_BUMP_STOP].gate_s += e->dt_s;
		for (int a = 0; a < 2; a++)
			if (MAXOF(f->susp_travel_norm[2 * a], f->susp_travel_norm[2 * a + 1]) >=
			    NEAR_NORM)
				s->near_s[a] += e->dt_s;
	}
	if (on(s, R_REAR_SQUAT)) {
		bool exit = ok && has(f, FRAME_P_THROTTLE | FRAME_P_ACCEL_LAT) &&
			    f->throttle >= SQUAT_THROTTLE && fabsf(f->accel_lat_g) >= SQUAT_LAT_G;
		for (int w = 2; w < 4; w++)
			det_step(&s->lap[R_REAR_SQUAT], &s->wheel[R_REAR_SQUAT][w],
				 &s->zone[R_REAR_SQUAT],
				 exit && f->susp_travel_norm[w] > SQUAT_NORM,
				 f->susp_travel_norm[w], false, e, BOTTOM_S, (uint8_t)w);
		zone_step(&s->zone[R_REAR_SQUAT], s->wheel[R_REAR_SQUAT]);
	}
}

static void frame_slip(struct rules_state *s, const struct eng_frame *e)
{
	const struct pw_frame *f = e->f;
	bool braking = e->driving && e->have_sr && has(f, FRAME_P_BRAKE) &&
		       f->brake >= LOCK_BRAKE && e->v_ms >= LOCK_MIN_MS;
	bool power = e->driving && e->have_sr && has(f, FRAME_P_THROTTLE) &&
		     f->throttle >= SPIN_THROTTLE;

	for (int w = 0; w < 4; w++) {
		enum rule_id lock = w < 2 ? R_FRONT_LOCKUP : R_REAR_LOCKUP;

		if (on(s, lock))
			det_step(&s->lap[lock], &s->wheel[lock][w], &s->zone[lock],
				 braking && e->sr[w] <= LOCK_SR, e->sr[w], true, e, LOCK_S,
				 (uint8_t)w);
		if (on(s, R_WHEELSPIN))
			det_step(&s->lap[R_WHEELSPIN], &s->wheel[R_WHEELSPIN][w],
				 &s->zone[R_WHEELSPIN], power && e->sr[w] >= SPIN_SR, e->sr[w],
				 false, e, SPIN_S, (uint8_t)w);
	}
	zone_step(&s->zone[R_FRONT_LOCKUP], s->wheel[R_FRONT_LOCKUP]);
	zone_step(&s->zone[R_REAR_LOCKUP], s->wheel[R_REAR_LOCKUP]);
	zone_step(&s->zone[R_WHEELSPIN], s->wheel[R_WHEELSPIN]);
}

static void frame_balance(struct rules_state *s, const struct eng_frame *e)
{
	const struct pw_frame *f = e->f;
	bool sa = e->driving && has(f, FRAME_P_SLIP_ANGLE | FRAME_P_ACCEL_LAT);
	float lat = fabsf(f->accel_lat_g);
	bool corner = sa && lat >= CORNER_LAT_G && e->v_ms >= CORNER_MIN_MS;
	bool entry = sa && on(s, R_ENTRY_UNDERSTEER) && has(f, FRAME_P_BRAKE | FRAME_P_STEER) &&
		     f->brake > ENTRY_BRAKE && fabsf(f->steer) >= ENTRY_STEER &&
		     lat >= ENTRY_LAT_G && e->v_ms >= CORNER_MIN_MS;
	double delta = corner || entry ? fabs2(f->slip_angle_rad[0], f->slip_angle_rad[1]) -
						 fabs2(f->slip_angle_rad[2], f->slip_angle_rad[3])
				       : 0.0;

	if (corner) {
		s->bal_sum += delta * e->dt_s;
		s->bal_s += e->dt_s;
	}
	if (entry) {
		s->entry_sum += delta * e->dt_s;
		s->entry_n += e->dt_s;
	}
	if (on(s, R_UNDERSTEER))
		det_step(&s->lap[R_UNDERSTEER], &s->car[R_UNDERSTEER], NULL,
			 corner && delta >= BALANCE_RAD, delta, false, e, BALANCE_EPISODE_S,
			 RULE_WHERE_FRONT);
	if (!on(s, R_OVERSTEER))
		return;
	det_step(&s->lap[R_OVERSTEER], &s->car[R_OVERSTEER], NULL, corner && delta <= -BALANCE_RAD,
		 delta, true, e, BALANCE_EPISODE_S, RULE_WHERE_REAR);
	/* counter-steer catches: counted on their own lap record, the evidence of the
	 * slip-angle test stays its own */
	if (e->have_yaw_rate && has(f, FRAME_P_STEER))
		det_step(&s->cs_lap, &s->cs, NULL,
			 e->driving && e->v_ms > CS_MIN_MS && fabs(e->yaw_rate) > CS_YAW_RATE &&
				 fabsf(f->steer) >= CS_STEER && (e->yaw_rate > 0) != (f->steer > 0),
			 e->yaw_rate, false, e, CS_S, RULE_WHERE_REAR);
}

static void frame_engine(struct rules_state *s, const struct eng_frame *e)
{
	const struct pw_frame *f = e->f;
	int g = f->gear;
	double frac;

	if (!e->driving ||
	    !has(f, FRAME_P_GEAR | FRAME_P_RPM | FRAME_P_MAX_RPM | FRAME_P_THROTTLE) ||
	    !(f->max_rpm > 0.0f) || g < 1 || g > MAX_GEAR)
		return;
	frac = f->rpm / f->max_rpm;
	if (has(f, FRAME_P_NUM_GEARS) && f->num_gears >= 1 && f->num_gears <= MAX_GEAR)
		s->top_gear = f->num_gears;
	if (f->throttle >= FULL_THROTTLE) {
		s->ft_s[g] += e->dt_s;
		s->ft_frac[g] = MAXOF(s->ft_frac[g], frac);
	}
	if (on(s, R_GEARING_SHORT)) {
		struct rule_lap *rl = &s->lap[R_GEARING_SHORT];
		int kept = rl->nep;

		det_step(rl, &s->car[R_GEARING_SHORT], NULL,
			 (!s->top_gear || g == s->top_gear) && f->throttle >= FULL_THROTTLE &&
				 f->rpm >= f->max_rpm - LIMITER_BAND_RPM,
			 f->rpm, false, e, LIMITER_S, RULE_WHERE_CAR);
		if (rl->nep > kept)
			s->limiter_gear[kept] = g;
	}
	if (on(s, R_EXIT_BOG)) {
		if (s->gear_lo == 0 || g < s->gear_lo)
			s->gear_lo = g;
		if (e->v_ms < s->min_v) {
			s->min_v = e->v_ms;
			s->bog_frac = frac;
			s->bog_gear = g;
			s->bog_t = e->lap_t_s;
			s->bog_throttle = false;
		} else if (f->throttle >= FULL_THROTTLE &&
			   e->lap_t_s - s->bog_t <= BOG_THROTTLE_S) {
			s->bog_throttle = true;
		}
	}
}

static void frame_tyres(struct rules_state *s, const struct eng_frame *e)
{
	const struct pw_frame *f = e->f;

	if (!e->driving || !has(f, FRAME_P_TYRE_TEMP))
		return;
	for (int w = 0; w < 4; w++) {
		double c = f->tyre_temp_c[w];

		s->max_c[w] = MAXOF(s->max_c[w], c);
		if (c > HOT_C)
			s->hot_s[w] += e->dt_s;
		if (c > HOT_CRITICAL_C)
			s->crit_s[w] += e->dt_s;
	}
	s->temp_front += 0.5 * (f->tyre_temp_c[0] + f->tyre_temp_c[1]) * e->dt_s;
	s->temp_rear += 0.5 * (f->tyre_temp_c[2] + f->tyre_temp_c[3]) * e->dt_s;
	s->temp_n += e->dt_s;
}

/* One frame of a wheel's spread v (degC) against threshold th (inline: per frame and wheel). */
static inline void spread_step(struct spread *w, double v, double th, double dt)
{
	if (w->t_s == 0.0)
		w->lo = w->hi = v;
	w->t_s += dt;
	w->lo = v < w->lo ? v : w->lo;
	w->hi = MAXOF(w->hi, v);
	w->sum += v * dt;
	if (v >= th)
		w->pos_s += dt;
	else if (v <= -th)
		w->neg_s += dt;
	if (w->t_s < SPREAD_WIN_S)
		return;
	if (w->n < SPREAD_MAX_WIN) {
		w->mean[w->n] = (float)(w->sum / w->t_s);
		w->sign[w->n++] = w->hi - w->lo > SPREAD_STABLE_C ? 2
				  : w->pos_s >= SPREAD_HELD_S     ? 1
				  : w->neg_s >= SPREAD_HELD_S     ? -1
								  : 0;
	}
	w->t_s = w->pos_s = w->neg_s = w->sum = 0.0;
}

static void frame_tread(struct rules_state *s, const struct eng_frame *e)
{
	const struct pw_frame *f = e->f;

	if (!e->driving ||
	    !has(f, FRAME_P_TYRE_TEMP_INNER | FRAME_P_TYRE_TEMP_MIDDLE | FRAME_P_TYRE_TEMP_OUTER))
		return;
	for (int w = 0; w < 4; w++) {
		double in = f->tyre_temp_inner_c[w], mid = f->tyre_temp_middle_c[w];
		double out = f->tyre_temp_outer_c[w];

		if (!in || !mid || !out) /* 0: the game gave no reading */
			continue;
		if (on(s, R_TYRE_PRESSURE_SPREAD))
			spread_step(&s->sp[0][w], mid - 0.5 * (in + out), CROWN_C, e->dt_s);
		if (on(s, R_TYRE_CAMBER_SPREAD))
			spread_step(&s->sp[1][w], in - out, EDGE_C, e->dt_s);
	}
}

void rules_frame(struct rules_state *s, const struct eng_frame *e)
{
	if (e->driving)
		s->drive_s += e->dt_s;
	if (s->active & ((1u << R_BOTTOMING) | (1u << R_NEAR_BUMP_STOP) | (1u << R_REAR_SQUAT)))
		frame_suspension(s, e);
	if (s->active & ((1u << R_FRONT_LOCKUP) | (1u << R_REAR_LOCKUP) | (1u << R_WHEELSPIN)))
		frame_slip(s, e);
	if (s->active & ((1u << R_UNDERSTEER) | (1u << R_OVERSTEER) | (1u << R_ENTRY_UNDERSTEER)))
		frame_balance(s, e);
	if (s->active & ((1u << R_GEARING_LONG) | (1u << R_GEARING_SHORT) | (1u << R_EXIT_BOG)))
		frame_engine(s, e);
	if (s->active & ((1u << R_TYRE_OVERHEAT) | (1u << R_AXLE_TEMP_BALANCE)))
		frame_tyres(s, e);
	if (s->active & ((1u << R_TYRE_PRESSURE_SPREAD) | (1u << R_TYRE_CAMBER_SPREAD)))
		frame_tread(s, e);
}

/* ---- per lap ---- */

static double longest_ep(const struct rule_lap *rl)
{
	double d = 0.0;

	for (int i = 0; i < rl->nep; i++)
		d = fmax(d, rl->ep[i].dur_s);
	return d;
}

/* Episode windows: a hit from one episode, strong from EPISODES_STRONG or a long one. */
static void end_episodes(struct rule_lap *rl)
{
	rl->hit = rl->episodes > 0;
	rl->strong = rl->episodes >= EPISODES_STRONG || longest_ep(rl) >= LONG_EPISODE_S;
	rl->value = rl->episodes;
	for (int i = 0; i < rl->nep; i++)
		rl->aux = i == 0                                 ? rl->ep[i].peak
			  : fabs(rl->ep[i].peak) > fabs(rl->aux) ? rl->ep[i].peak
								 : rl->aux;
}

/* Strong: a zone where both wheels of an axle bottomed together, or 3 zones (with 3 or
 * more every zone need not be kept to know it). */
static void end_bottoming(struct rule_lap *rl)
{
	bool axle = false;

	for (int i = 0; i < rl->nep; i++)
		axle |= (rl->ep[i].wheels & 3u) == 3u || (rl->ep[i].wheels & 12u) == 12u;
	rl->hit = rl->episodes > 0;
	rl->strong = axle || rl->episodes >= BOTTOM_ZONES_STRONG;
	rl->value = rl->episodes;
}

static void end_near(struct rules_state *s, struct rule_lap *rl)
{
	double fs = rl->gate_s > 0 ? s->near_s[0] / rl->gate_s : 0.0;
	double rs = rl->gate_s > 0 ? s->near_s[1] / rl->gate_s : 0.0;

	rl->value = fmax(fs, rs); /* the share of the worse axle */
	rl->aux = fs >= rs ? RULE_WHERE_FRONT : RULE_WHERE_REAR;
	rl->wheels = fs >= rs ? 3u : 12u;
	rl->hit = rl->value >= NEAR_SHARE;
	rl->strong = rl->value >= NEAR_SHARE_STRONG;
}

static void end_balance(struct rules_state *s, struct rule_lap *rl, bool over)
{
	double mean = s->bal_s > 0 ? s->bal_sum / s->bal_s : 0.0;
	double v = over ? -mean : mean;

	rl->gate_s = s->bal_s;
	rl->value = mean;
	rl->aux = s->cs_lap.episodes;
	rl->hit = s->bal_s >= CORNER_MIN_S && v >= BALANCE_RAD;
	rl->strong = rl->hit && v >= BALANCE_STRONG_RAD;
	if (over && s->bal_s < CORNER_MIN_S) { /* no slip angles: the counter-steer test */
		rl->value = NAN;
		rl->hit = s->cs_lap.episodes >= CS_HIT;
		rl->strong = s->cs_lap.episodes >= CS_STRONG;
	}
}

static void end_entry(struct rules_state *s, struct rule_lap *rl)
{
	double mean = s->entry_n > 0 ? s->entry_sum / s->entry_n : 0.0;

	rl->gate_s = s->entry_n;
	rl->value = mean;
	rl->hit = s->entry_n >= ENTRY_MIN_S && mean >= BALANCE_RAD;
	rl->strong = rl->hit && mean >= BALANCE_STRONG_RAD;
}

/* The highest gear with TOP_GEAR_MIN_S at full throttle, 0 = none. */
static int highest_gear(const struct rules_state *s)
{
	for (int g = MAX_GEAR; g >= 1; g--)
		if (s->ft_s[g] >= TOP_GEAR_MIN_S)
			return g;
	return 0;
}

static void end_gearing(struct rules_state *s, struct rule_lap *lng, struct rule_lap *shrt)
{
	int h = highest_gear(s), kept = 0;
	double lim_s = 0.0;

	lng->value = h ? s->ft_frac[h] : NAN;
	lng->aux = h;
	lng->wheels = (unsigned)s->top_gear; /* carried to the text: the gear count */
	lng->gate_s = h ? s->ft_s[h] : 0.0;
	lng->hit = h > 0 && lng->value < LONG_FRAC;
	lng->strong = lng->hit && lng->value < LONG_FRAC_STRONG;
	if (h > 0 && s->top_gear - h >= UNUSED_GEARS) /* so long the top gears are never used */
		lng->hit = lng->strong = true;
	/* the limiter counts in top gear only (below it the driver can change up): with
	 * num_gears the window only ran there; without, the highest gear used stands for it */
	for (int i = 0; i < shrt->nep; i++)
		if (s->top_gear || s->limiter_gear[i] == h) {
			lim_s += shrt->ep[i].dur_s;
			shrt->ep[kept++] = shrt->ep[i];
		}
	if (!s->top_gear)
		shrt->episodes = kept;
	shrt->nep = kept;
	shrt->value = lim_s;
	shrt->aux = s->top_gear ? s->top_gear : h;
	shrt->hit = shrt->episodes > 0;
	shrt->strong = lim_s >= LIMITER_STRONG_S || shrt->episodes >= 2;
}

static void end_bog(struct rules_state *s, struct rule_lap *rl)
{
	rl->value = s->bog_frac;
	rl->aux = s->bog_gear;
	rl->hit = isfinite(s->min_v) && s->bog_gear == s->gear_lo && s->bog_frac < BOG_FRAC &&
		  s->bog_throttle;
	rl->strong = false;
	if (rl->hit) {
		rl->episodes = 1;
		rl->nep = 1;
		rl->ep[0] = (struct rule_episode){
			.t_s = s->bog_t, .peak = s->bog_frac, .dist_m = NAN, .where = RULE_WHERE_CAR
		};
	}
}

static void end_tyres(struct rules_state *s, struct rule_lap *hot, struct rule_lap *bal)
{
	double share = 0.0, crit = 0.0;

	hot->gate_s = bal->gate_s = s->temp_n;
	hot->value = 0.0;
	for (int w = 0; w < 4; w++) {
		double sw = s->temp_n > 0 ? s->hot_s[w] / s->temp_n : 0.0;
		double cw = s->temp_n > 0 ? s->crit_s[w] / s->temp_n : 0.0;

		if (sw >= HOT_SHARE)
			hot->wheels |= 1u << w;
		share = fmax(share, sw);
		crit = fmax(crit, cw);
		hot->value = fmax(hot->value, s->max_c[w]);
	}
	hot->aux = share;
	hot->aux2 = crit;
	hot->hit = share >= HOT_SHARE;
	hot->strong = crit >= HOT_SHARE;
	bal->value = s->temp_n > 0 ? (s->temp_front - s->temp_rear) / s->temp_n : 0.0;
	bal->aux = s->temp_n > 0 ? s->temp_rear / s->temp_n : 0.0;
	bal->hit = s->temp_n > 0 && fabs(bal->value) >= SPLIT_C;
	bal->strong = fabs(bal->value) >= SPLIT_STRONG_C;
	bal->wheels = bal->value >= 0 ? 3u : 12u;
}

/* A wheel's pattern over the lap: +1 / -1 with its mean spread in *mean, 0 none. */
static int spread_wheel(const struct spread *w, double *mean)
{
	int stable = 0, later = 0, cnt[2] = { 0 }, later_cnt[2] = { 0 };
	double sum[2] = { 0 };

	for (int i = 0; i < w->n; i++) {
		bool late = i >= w->n / 2;

		if (w->sign[i] == 2)
			continue;
		stable++;
		later += late;
		if (w->sign[i]) {
			int k = w->sign[i] > 0;

			cnt[k]++;
			later_cnt[k] += late;
			sum[k] += w->mean[i];
		}
	}
	for (int k = 0; k < 2; k++)
		if (cnt[k] >= SPREAD_MIN_WIN && cnt[k] >= SPREAD_SHARE * stable && later > 0 &&
		    later_cnt[k] >= SPREAD_SHARE * later) {
			*mean = sum[k] / cnt[k];
			return k ? 1 : -1;
		}
	return 0;
}

/*
 * value: the mean spread (signed) of the wheels showing the pattern's
 * dominant sign; wheels: those wheels; aux: the sign; aux2: 1 when both
 * wheels of an axle show it (the second signal); gate_s: the stable time.
 */
static void end_spread(struct rules_state *s, int k, struct rule_lap *rl, double th)
{
	int sign[4], n[2] = { 0 }, dom;
	double mean[4], sum = 0.0, stable = 0.0;

	for (int w = 0; w < 4; w++) {
		double st = 0.0;

		sign[w] = spread_wheel(&s->sp[k][w], &mean[w]);
		if (sign[w])
			n[sign[w] > 0]++;
		for (int i = 0; i < s->sp[k][w].n; i++)
			st += s->sp[k][w].sign[i] != 2 ? SPREAD_WIN_S : 0.0;
		stable = fmax(stable, st);
	}
	rl->gate_s = stable; /* the longest stable time of a wheel */
	if (!n[0] && !n[1])
		return;
	dom = n[1] >= n[0] ? 1 : -1;
	for (int w = 0; w < 4; w++)
		if (sign[w] == dom) {
			rl->wheels |= 1u << w;
			sum += mean[w];
		}
	rl->hit = true;
	rl->episodes = n[dom > 0];
	rl->value = sum / n[dom > 0];
	rl->aux = dom;
	rl->aux2 = (rl->wheels & 3u) == 3u || (rl->wheels & 12u) == 12u;
	rl->strong = fabs(rl->value) >= 2.0 * th;
}

void rules_lap_end(struct rules_state *s, struct rule_lap out[R_COUNT])
{
	end_bottoming(&s->lap[R_BOTTOMING]);
	end_near(s, &s->lap[R_NEAR_BUMP_STOP]);
	end_episodes(&s->lap[R_REAR_SQUAT]);
	end_episodes(&s->lap[R_FRONT_LOCKUP]);
	end_episodes(&s->lap[R_REAR_LOCKUP]);
	end_episodes(&s->lap[R_WHEELSPIN]);
	end_balance(s, &s->lap[R_UNDERSTEER], false);
	end_balance(s, &s->lap[R_OVERSTEER], true);
	end_entry(s, &s->lap[R_ENTRY_UNDERSTEER]);
	end_gearing(s, &s->lap[R_GEARING_LONG], &s->lap[R_GEARING_SHORT]);
	end_bog(s, &s->lap[R_EXIT_BOG]);
	end_tyres(s, &s->lap[R_TYRE_OVERHEAT], &s->lap[R_AXLE_TEMP_BALANCE]);
	end_spread(s, 0, &s->lap[R_TYRE_PRESSURE_SPREAD], CROWN_C);
	end_spread(s, 1, &s->lap[R_TYRE_CAMBER_SPREAD], EDGE_C);
	for (int r = 0; r < R_COUNT; r++) {
		out[r] = s->lap[r];
		if (!out[r].active) {
			out[r] = (struct rule_lap){ 0 };
			continue;
		}
		out[r].gate_s = out[r].gate_s > 0 ? out[r].gate_s : s->drive_s;
	}
}

/* ---- the words ---- */

static const char *const wheel_names[4] = { "front-left", "front-right", "rear-left",
					    "rear-right" };
static const char *const ordinals[MAX_GEAR + 1] = { "0th", "1st", "2nd", "3rd", "4th", "5th",
						    "6th", "7th", "8th", "9th", "10th" };

static const char *gear_name(double g)
{
	int i = (int)g;

	return i >= 0 && i <= MAX_GEAR ? ordinals[i] : "?";
}

/* "front" when the front wheels are in wheels (or the rears are not), else "rear". */
static bool front_of(unsigned wheels)
{
	return (wheels & 3u) || !(wheels & 12u);
}

/* "front-left and front-right" for a wheel mask. */
static void wheels_text(unsigned wheels, char *buf, size_t cap)
{
	size_t n = 0;
	int k = 0, total = __builtin_popcount(wheels & 15u);

	buf[0] = 0;
	for (int w = 0; w < 4; w++)
		if (wheels & (1u << w)) {
			n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s",
					      k == 0           ? ""
					      : k == total - 1 ? " and "
							       : ", ",
					      wheel_names[w]);
			k++;
		}
	if (total == 0)
		snprintf(buf, cap, "the car");
}

/* Where the lap's episodes were: "in T3, T7", "at 1210 m, 2300 m" or "at 12.3 s, 40.1 s
 * into the lap"; a place already named is not repeated. */
static void where_text(const struct rule_lap *rl, char *buf, size_t cap)
{
	size_t n = 0;
	int corners = 0, dists = 0, shown = 0;
	double seen[RULE_MAX_EP];

	buf[0] = 0;
	for (int i = 0; i < rl->nep; i++) {
		corners += rl->ep[i].corner > 0;
		dists += isfinite(rl->ep[i].dist_m);
	}
	for (int i = 0; i < rl->nep && n < cap; i++) {
		const struct rule_episode *ep = &rl->ep[i];
		double at = corners == rl->nep ? ep->corner
			    : dists == rl->nep ? ep->dist_m
					       : ep->t_s;
		double near = corners == rl->nep ? 0.5 : dists == rl->nep ? 20.0 : 1.0;
		bool dup = false;

		for (int k = 0; k < shown; k++)
			dup |= fabs(seen[k] - at) < near;
		if (dup)
			continue;
		seen[shown] = at;
		n += (size_t)snprintf(buf + n, cap - n,
				      corners == rl->nep ? "%s%sT%.0f"
				      : dists == rl->nep ? "%s%s%.0f m"
							 : "%s%s%.1f s",
				      shown ? ", " : "",
				      shown                ? ""
				      : corners == rl->nep ? "in "
							   : "at ",
				      at);
		shown++;
	}
	if (shown && corners != rl->nep && dists != rl->nep && n < cap)
		n += (size_t)snprintf(buf + n, cap - n, " into the lap");
	if (rl->nep < rl->episodes && n < cap)
		snprintf(buf + n, cap - n, " and more");
	if (!shown)
		snprintf(buf, cap, "over the lap");
}

/* "on 3 of 4 laps" / "on this lap". */
static void laps_text(const struct rule_summary *s, char *buf, size_t cap)
{
	if (s->live || s->laps == 1)
		snprintf(buf, cap, "on lap %u", s->worst_lap);
	else
		snprintf(buf, cap, "on %d of %d laps (worst: lap %u)", s->laps_hit, s->laps,
			 s->worst_lap);
}

static double longest(const struct rule_lap *rl)
{
	return longest_ep(rl);
}

struct words {
	char title[160], detected[640], cause[320], expected[320];
	const char *caveats[4];
	json_t *adjustment, *alternatives;
	const char *param;
};

/* An adjustment object: the change capped, from/to null (no feed sends the setup). */
static json_t *adjust(const char *summary, const char *param, double change, enum rule_cap cap,
		      const char *unit, double step)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "summary", json_string(summary));
	json_object_set_new(o, "parameter", param ? json_string(param) : json_null());
	json_object_set_new(o, "from", json_null());
	json_object_set_new(o, "to", json_null());
	json_object_set_new(o, "change", param ? json_real(rule_cap(cap, change)) : json_null());
	json_object_set_new(o, "unit", unit ? json_string(unit) : json_null());
	json_object_set_new(o, "step", step > 0 ? json_real(step) : json_null());
	return o;
}

static void alt(struct words *w, json_t *a)
{
	if (!w->alternatives)
		w->alternatives = json_array();
	if (w->alternatives && a)
		json_array_append_new(w->alternatives, a);
	else
		json_decref(a);
}

static void words_suspension(const struct rule_summary *s, struct words *w)
{
	const struct rule_lap *rl = s->worst;
	bool front = s->rule == R_NEAR_BUMP_STOP ? rl->aux == RULE_WHERE_FRONT
		     : s->rule == R_REAR_SQUAT   ? false
						 : front_of(rl->wheels);
	const char *ax = front ? "front" : "rear", *Ax = front ? "Front" : "Rear";
	char wh[160], at[160], lp[80], sum[128], p1[32], p2[32], p3[32];

	wheels_text(rl->wheels, wh, sizeof wh);
	where_text(rl, at, sizeof at);
	laps_text(s, lp, sizeof lp);
	snprintf(p1, sizeof p1, "ride_height_%s", ax);
	snprintf(p2, sizeof p2, "spring_rate_%s", ax);
	snprintf(p3, sizeof p3, "bump_damping_%s", ax);
	switch (s->rule) {
	case R_BOTTOMING:
		snprintf(w->title, sizeof w->title, "%s suspension bottoming out", Ax);
		snprintf(
			w->detected, sizeof w->detected,
			"%s normalized suspension travel >= %.2f for up to %.2f s, %d time%s %s (%s); %s",
			wh, BOTTOM_NORM, longest(rl), rl->episodes, rl->episodes == 1 ? "" : "s",
			s->live ? "this lap" : "in that lap", at, lp);
		snprintf(w->cause, sizeof w->cause,
			 "The %s ride height or spring rate is too low for the load on that axle "
			 "(braking, downforce, kerbs): the suspension runs out of travel.",
			 ax);
		snprintf(sum, sizeof sum, "%s ride height +3 mm", Ax);
		w->adjustment = adjust(sum, p1, 3.0, CAP_NONE, "mm", 1.0);
		snprintf(sum, sizeof sum, "%s springs +5 %%", Ax);
		alt(w, adjust(sum, p2, 5.0, CAP_SPRING_PCT, "%", 1.0));
		snprintf(sum, sizeof sum, "%s bump damping +1 click", Ax);
		alt(w, adjust(sum, p3, 1.0, CAP_DAMPING_CLICKS, "clicks", 1.0));
		snprintf(w->expected, sizeof w->expected,
			 "The %s stops hitting the bump stops; a little less mechanical grip, and "
			 "ride height shifts the aero balance.",
			 ax);
		break;
	case R_NEAR_BUMP_STOP:
		snprintf(w->title, sizeof w->title, "%s suspension running near the bump stops",
			 Ax);
		snprintf(
			w->detected, sizeof w->detected,
			"%s normalized suspension travel >= %.2f for %.0f %% of the driving time "
			"(threshold %.0f %%; a working range of 20-80 %% of travel is the target); %s",
			ax, NEAR_NORM, 100.0 * rl->value, 100.0 * NEAR_SHARE, lp);
		snprintf(w->cause, sizeof w->cause,
			 "The %s sits too low or too soft for its load: mild bottoming.", ax);
		snprintf(sum, sizeof sum, "%s ride height +2 mm", Ax);
		w->adjustment = adjust(sum, p1, 2.0, CAP_NONE, "mm", 1.0);
		snprintf(sum, sizeof sum, "%s springs +3 %%", Ax);
		alt(w, adjust(sum, p2, 3.0, CAP_SPRING_PCT, "%", 1.0));
		snprintf(
			w->expected, sizeof w->expected,
			"The %s works in the middle of its travel; the bump stops stop shaping the "
			"balance.",
			ax);
		break;
	default: /* R_REAR_SQUAT */
		snprintf(w->title, sizeof w->title,
			 "Rear squats onto the bump stops on corner exit");
		snprintf(w->detected, sizeof w->detected,
			 "%s normalized suspension travel > %.2f under throttle (>= %.0f %%) with "
			 ">= %.1f g lateral for up to %.2f s, %d time%s (%s); %s",
			 wh, SQUAT_NORM, 100.0 * SQUAT_THROTTLE, SQUAT_LAT_G, longest(rl),
			 rl->episodes, rl->episodes == 1 ? "" : "s", at, lp);
		snprintf(w->cause, sizeof w->cause,
			 "The rear is too soft for the load transfer under power: it squats.");
		w->adjustment = adjust("Rear springs +5 %", "spring_rate_rear", 5.0, CAP_SPRING_PCT,
				       "%", 1.0);
		alt(w, adjust("Rear bump damping +1 click", "bump_damping_rear", 1.0,
			      CAP_DAMPING_CLICKS, "clicks", 1.0));
		alt(w, adjust("Acceleration differential lock -5 %", "diff_accel_lock", -5.0,
			      CAP_NONE, "%", 1.0));
		snprintf(w->expected, sizeof w->expected,
			 "The rear stays off the bump stops on exit and puts the power down more "
			 "evenly.");
		break;
	}
	w->param = s->rule == R_REAR_SQUAT ? "spring_rate_rear"
		   : front                 ? "ride_height_front"
					   : "ride_height_rear";
	w->caveats[0] = "Kerb strikes bottom any car: zones on kerbs are not setup";
	w->caveats[1] = "If the game has no ride height adjustment, use the spring rate";
	w->caveats[2] = "Re-check after 3 clean laps";
}

static void words_slip(const struct rule_summary *s, struct words *w)
{
	const struct rule_lap *rl = s->worst;
	char wh[160], at[160], lp[80];

	wheels_text(rl->wheels, wh, sizeof wh);
	where_text(rl, at, sizeof at);
	laps_text(s, lp, sizeof lp);
	if (s->rule == R_WHEELSPIN) {
		snprintf(w->title, sizeof w->title, "Wheelspin on power");
		snprintf(
			w->detected, sizeof w->detected,
			"%s slip ratio up to %+.2f (spinning past %+.2f) with the throttle >= %.0f %% "
			"for up to %.2f s, %d time%s (%s); %s",
			wh, rl->aux, SPIN_SR, 100.0 * SPIN_THROTTLE, longest(rl), rl->episodes,
			rl->episodes == 1 ? "" : "s", at, lp);
		snprintf(
			w->cause, sizeof w->cause,
			"More torque than the driven tyres can take: the acceleration differential "
			"locks too much, or the throttle comes in too early.");
		w->adjustment = adjust("Acceleration differential lock -6 %", "diff_accel_lock",
				       -6.0, CAP_NONE, "%", 1.0);
		alt(w,
		    adjust("Progressive throttle on exit (driving)", NULL, 0, CAP_NONE, NULL, 0));
		alt(w, adjust("Rear tyre pressures -1 psi (7 kPa)", "tyre_pressure_rear", -1.0,
			      CAP_PRESSURE_PSI, "psi", 0.5));
		snprintf(w->expected, sizeof w->expected,
			 "The driven wheels hook up on exit: less wheelspin, less rear tyre heat, "
			 "better drive down the next straight.");
		w->param = "diff_accel_lock";
		w->caveats[0] = "Traction control, if the car has it, hides part of this";
		w->caveats[1] = "Re-check after 3 clean laps";
		return;
	}
	if (s->rule == R_FRONT_LOCKUP) {
		snprintf(w->title, sizeof w->title, "Front wheels lock under braking");
		snprintf(
			w->cause, sizeof w->cause,
			"Brake bias too far forward (or too much brake pressure): the fronts run out "
			"of grip before the rears.");
		w->adjustment = adjust("Brake bias 2 % rearward", "brake_bias", -2.0, CAP_BIAS_PCT,
				       "%", 0.5);
		alt(w, adjust("Brake pressure -5 %", "brake_pressure", -5.0, CAP_NONE, "%", 1.0));
		snprintf(
			w->expected, sizeof w->expected,
			"The fronts stop locking: shorter stops, no flat spots, and the car turns in "
			"under braking.");
	} else {
		snprintf(w->title, sizeof w->title, "Rear wheels lock under braking");
		snprintf(
			w->cause, sizeof w->cause,
			"Brake bias too far rearward: the rears lock first and the car steps out on "
			"the brakes.");
		w->adjustment =
			adjust("Brake bias 2 % forward", "brake_bias", 2.0, CAP_BIAS_PCT, "%", 0.5);
		alt(w, adjust("Rear slow rebound damping -1 click", "rebound_damping_rear", -1.0,
			      CAP_DAMPING_CLICKS, "clicks", 1.0));
		snprintf(w->expected, sizeof w->expected,
			 "The rears stay rolling: a stable car on the brakes and shorter stops.");
	}
	snprintf(
		w->detected, sizeof w->detected,
		"%s slip ratio down to %+.2f (locking past %+.2f) with the brake >= %.0f %% for up "
		"to %.2f s, %d time%s (%s); %s",
		wh, rl->aux, LOCK_SR, 100.0 * LOCK_BRAKE, longest(rl), rl->episodes,
		rl->episodes == 1 ? "" : "s", at, lp);
	w->param = "brake_bias";
	w->caveats[0] =
		"A lock from a late, hard stab at the pedal is driving: brake progressively";
	w->caveats[1] = "Re-check after 3 clean laps";
}

static void words_balance(const struct rule_summary *s, struct words *w)
{
	const struct rule_lap *rl = s->worst;
	char at[160], lp[80];
	double d = fabs(rl->value);

	where_text(rl, at, sizeof at);
	laps_text(s, lp, sizeof lp);
	if (s->rule == R_UNDERSTEER) {
		snprintf(w->title, sizeof w->title, "Mid-corner understeer");
		snprintf(
			w->detected, sizeof w->detected,
			"the front slip angles exceed the rears' by %.3f rad (%.1f deg) on average "
			"over %.1f s of cornering above %.1f g (threshold %.3f rad)%s%s; %s",
			d, d * 180.0 / M_PI, rl->gate_s, CORNER_LAT_G, BALANCE_RAD,
			rl->nep ? ", mostly " : "", rl->nep ? at : "", lp);
		snprintf(w->cause, sizeof w->cause,
			 "The front axle saturates first: too much front roll stiffness for the "
			 "grip it has.");
		w->adjustment = adjust("Soften the front anti-roll bar 2 clicks", "arb_front", -2.0,
				       CAP_DAMPING_CLICKS, "clicks", 1.0);
		alt(w, adjust("Stiffen the rear anti-roll bar 2 clicks", "arb_rear", 2.0,
			      CAP_DAMPING_CLICKS, "clicks", 1.0));
		alt(w, adjust("Front tyre pressures -0.5 psi (3.5 kPa)", "tyre_pressure_front",
			      -0.5, CAP_PRESSURE_PSI, "psi", 0.5));
		alt(w, adjust("Front camber 0.2 deg more negative", "camber_front", -0.2, CAP_NONE,
			      "deg", 0.1));
		snprintf(
			w->expected, sizeof w->expected,
			"The front holds its line through the middle of the corner; the rear gets a "
			"little more mobile.");
		w->param = "arb_front";
	} else if (s->rule == R_ENTRY_UNDERSTEER) {
		snprintf(w->title, sizeof w->title, "Turn-in understeer under trail braking");
		snprintf(
			w->detected, sizeof w->detected,
			"with the brake > %.0f %% and the wheel turned, the front slip angles exceed "
			"the rears' by %.3f rad (%.1f deg) on average over %.1f s (threshold %.3f "
			"rad); %s",
			100.0 * ENTRY_BRAKE, d, d * 180.0 / M_PI, rl->gate_s, BALANCE_RAD, lp);
		snprintf(w->cause, sizeof w->cause,
			 "The entry balance: the fronts do the braking and the turning at once and "
			 "run out of grip.");
		w->adjustment = adjust("Brake bias 1 % rearward", "brake_bias", -1.0, CAP_BIAS_PCT,
				       "%", 0.5);
		alt(w, adjust("Coast (entry) differential lock -5 %", "diff_coast_lock", -5.0,
			      CAP_NONE, "%", 1.0));
		alt(w, adjust("Soften the front anti-roll bar 1 click", "arb_front", -1.0,
			      CAP_DAMPING_CLICKS, "clicks", 1.0));
		snprintf(w->expected, sizeof w->expected,
			 "The car turns in on the brakes instead of pushing wide to the apex.");
		w->param = "brake_bias";
	} else if (isfinite(rl->value)) {
		snprintf(w->title, sizeof w->title, "Mid-corner oversteer");
		snprintf(
			w->detected, sizeof w->detected,
			"the rear slip angles exceed the fronts' by %.3f rad (%.1f deg) on average "
			"over %.1f s of cornering above %.1f g (threshold %.3f rad)%s%s; %s",
			d, d * 180.0 / M_PI, rl->gate_s, CORNER_LAT_G, BALANCE_RAD,
			rl->nep ? ", mostly " : "", rl->nep ? at : "", lp);
	} else {
		snprintf(w->title, sizeof w->title, "Oversteer: counter-steer catches");
		snprintf(
			w->detected, sizeof w->detected,
			"%.0f counter-steer catches (yaw rate > %.1f rad/s with the wheel turned the "
			"other way, above 20 mph) (no slip angles from this game); %s",
			rl->aux, CS_YAW_RATE, lp);
	}
	if (s->rule == R_OVERSTEER) {
		snprintf(w->cause, sizeof w->cause,
			 "The rear axle saturates first: too much rear roll stiffness, or too much "
			 "locking under power.");
		w->adjustment = adjust("Soften the rear anti-roll bar 2 clicks", "arb_rear", -2.0,
				       CAP_DAMPING_CLICKS, "clicks", 1.0);
		alt(w, adjust("Acceleration differential lock -4 % (if it happens on power)",
			      "diff_accel_lock", -4.0, CAP_NONE, "%", 1.0));
		alt(w, adjust("Rear toe-in +0.1 deg", "toe_rear", 0.1, CAP_NONE, "deg", 0.05));
		snprintf(w->expected, sizeof w->expected,
			 "A calmer rear through the corner; the front may push a little more.");
		w->param = "arb_rear";
	}
	w->caveats[0] = "Assumes a smooth driving style: a sudden lift or stab of throttle moves "
			"the balance by itself";
	w->caveats[1] = "Change one axle at a time and re-check after 3 clean laps";
}

static void words_gearing(const struct rule_summary *s, struct words *w)
{
	const struct rule_lap *rl = s->worst;
	char at[160], lp[80], sum[128], top[128] = "";

	where_text(rl, at, sizeof at);
	laps_text(s, lp, sizeof lp);
	if (s->rule == R_GEARING_LONG) {
		int unused = rl->wheels ? (int)rl->wheels - (int)rl->aux : 0;
		double pct = unused >= UNUSED_GEARS
				     ? GEARING_STEP_PCT
				     : fmin((LONG_TARGET_FRAC / rl->value - 1.0) * 100.0,
					    GEARING_STEP_PCT);

		if (unused >= UNUSED_GEARS)
			snprintf(top, sizeof top,
				 "; the top %d gears (of %u) are never held at full "
				 "throttle for %.1f s",
				 unused, rl->wheels, TOP_GEAR_MIN_S);
		else if (unused == 1)
			snprintf(top, sizeof top, "; top gear (%s) is never held at full throttle",
				 gear_name(rl->wheels));
		snprintf(w->title, sizeof w->title, "Gearing too long");
		snprintf(w->detected, sizeof w->detected,
			 "in %s, the highest gear held at full throttle (%.1f s), the engine peaks "
			 "at %.0f %% of max rpm (threshold %.0f %%)%s; %s",
			 gear_name(rl->aux), rl->gate_s, 100.0 * rl->value, 100.0 * LONG_FRAC, top,
			 lp);
		snprintf(w->cause, sizeof w->cause,
			 "The final drive is too long for this track: the engine never reaches its "
			 "power at the end of the straights.");
		snprintf(sum, sizeof sum, "Final drive %.0f %% shorter (a higher ratio)",
			 ceil(pct));
		w->adjustment = adjust(sum, "final_drive", ceil(pct), CAP_NONE, "%", 1.0);
		alt(w, adjust("Shorten top gear", "gear_top", ceil(pct), CAP_NONE, "%", 1.0));
		snprintf(w->expected, sizeof w->expected,
			 "More acceleration everywhere; check that top gear then just reaches the "
			 "limiter before the braking point of the longest straight.");
		w->param = "final_drive";
		w->caveats[0] = "Slipstream in a race adds speed: leave some margin";
	} else if (s->rule == R_GEARING_SHORT) {
		snprintf(w->title, sizeof w->title,
			 "Gearing too short: on the limiter in top gear");
		snprintf(
			w->detected, sizeof w->detected,
			"on the rev limiter (rpm >= max - %.0f) at full throttle in top gear (%s) for "
			"%.2f s, %d time%s before the braking point (%s); %s",
			LIMITER_BAND_RPM, gear_name(rl->aux), rl->value, rl->episodes,
			rl->episodes == 1 ? "" : "s", at, lp);
		snprintf(w->cause, sizeof w->cause,
			 "Top gear (or the final drive) is too short: the car stops accelerating "
			 "before the braking point.");
		w->adjustment =
			adjust("Lengthen top gear 5 %", "gear_top", -5.0, CAP_NONE, "%", 1.0);
		alt(w, adjust("Final drive 5 % longer (a lower ratio)", "final_drive", -5.0,
			      CAP_NONE, "%", 1.0));
		snprintf(
			w->expected, sizeof w->expected,
			"Top speed rises on the longest straight; acceleration in the lower gears is "
			"unchanged when only top gear is changed.");
		w->param = "gear_top";
		w->caveats[0] =
			"In a slipstream the limiter comes earlier: race and qualifying differ";
	} else {
		snprintf(w->title, sizeof w->title, "Engine bogs out of the slowest corner");
		snprintf(
			w->detected, sizeof w->detected,
			"at the slowest point of the lap, in %s (its lowest gear), the engine turns "
			"%.0f %% of max rpm (threshold %.0f %%) and the driver is back at full "
			"throttle within %.1f s; %s",
			gear_name(rl->aux), 100.0 * rl->value, 100.0 * BOG_FRAC, BOG_THROTTLE_S,
			lp);
		snprintf(w->cause, sizeof w->cause,
			 "First (or the lowest gear used) is too tall for the slowest corner: the "
			 "engine is below its torque band on exit.");
		w->adjustment =
			adjust("Shorten the lowest gear 5 %", "gear_1", 5.0, CAP_NONE, "%", 1.0);
		alt(w, adjust("Final drive 5 % shorter", "final_drive", 5.0, CAP_NONE, "%", 1.0));
		alt(w, adjust("Carry more speed through the apex (driving)", NULL, 0, CAP_NONE,
			      NULL, 0));
		snprintf(w->expected, sizeof w->expected,
			 "A stronger exit from the slowest corner.");
		w->param = "gear_1";
		w->caveats[0] =
			"The threshold is pitwall's (45 % of max rpm), not a peer's: medium "
			"confidence at most";
	}
	w->caveats[1] = "Re-check after 3 clean laps";
}

static void words_tyres(const struct rule_summary *s, struct words *w)
{
	const struct rule_lap *rl = s->worst;
	char wh[160], lp[80], sum[128], p[32];
	bool front = front_of(rl->wheels), both = (rl->wheels & 3u) && (rl->wheels & 12u);
	const char *ax = both ? "all four" : front ? "front" : "rear";

	wheels_text(rl->wheels, wh, sizeof wh);
	laps_text(s, lp, sizeof lp);
	snprintf(p, sizeof p,
		 both    ? "tyre_pressure"
		 : front ? "tyre_pressure_front"
			 : "tyre_pressure_rear");
	if (s->rule == R_TYRE_OVERHEAT) {
		snprintf(w->title, sizeof w->title, "Tyres overheating");
		snprintf(
			w->detected, sizeof w->detected,
			"%s above %.0f degC for %.0f %% of the driving time, above %.0f degC for %.0f "
			"%% (peak %.1f degC; a warning from %.0f s a minute above %.0f degC, critical "
			"above %.0f); %s",
			wh, HOT_C, 100.0 * rl->aux, HOT_CRITICAL_C, 100.0 * rl->aux2, rl->value,
			HOT_SHARE * 60.0, HOT_C, HOT_CRITICAL_C, lp);
		snprintf(w->cause, sizeof w->cause,
			 "Too little pressure lets the carcass flex and heat up; too much slip (a "
			 "balance problem) does the same on one axle.");
		snprintf(sum, sizeof sum, "Raise the %s cold tyre pressures 1 psi (7 kPa)", ax);
		w->adjustment = adjust(sum, p, 1.0, CAP_PRESSURE_PSI, "psi", 0.5);
		alt(w, adjust("Fix the axle balance first (understeer heats the fronts, oversteer "
			      "the rears)",
			      NULL, 0, CAP_NONE, NULL, 0));
		snprintf(w->expected, sizeof w->expected,
			 "Tyre temperatures back under %.0f degC and grip that lasts the stint.",
			 HOT_C);
		w->param = both    ? "tyre_pressure"
			   : front ? "tyre_pressure_front"
				   : "tyre_pressure_rear";
		w->caveats[0] = "If the hot pressures are already above the car's window, look for "
				"slip (balance, wheelspin) instead";
		w->caveats[1] = "Re-check after 3 clean laps";
		return;
	}
	snprintf(w->title, sizeof w->title, "%s tyres run hotter than the %s",
		 rl->value >= 0 ? "Front" : "Rear", rl->value >= 0 ? "rears" : "fronts");
	snprintf(w->detected, sizeof w->detected,
		 "the %s tyres are %.1f degC hotter than the %s on average (information from %.0f "
		 "degC, a warning from %.0f); %s",
		 rl->value >= 0 ? "front" : "rear", fabs(rl->value),
		 rl->value >= 0 ? "rears" : "fronts", SPLIT_C, SPLIT_STRONG_C, lp);
	if (s->second_signal) {
		/* the change is the balance finding's: this one supports it, no second change */
		snprintf(w->cause, sizeof w->cause,
			 "The %s axle works harder: the balance data agree (%s).",
			 rl->value >= 0 ? "front" : "rear",
			 rl->value >= 0 ? "understeer" : "oversteer");
		w->adjustment = adjust(
			rl->value >= 0 ? "The understeer fix (a softer front anti-roll bar) "
					 "evens the temperatures out: no change of its own"
				       : "The oversteer fix (a softer rear anti-roll bar) evens "
					 "the temperatures out: no change of its own",
			NULL, 0, CAP_NONE, NULL, 0);
		w->param = NULL;
	} else {
		snprintf(w->cause, sizeof w->cause,
			 "An observation, not a pressure or balance diagnosis: no second signal "
			 "agrees yet.");
		w->adjustment = adjust("No setup change from temperatures alone: check the balance "
				       "first",
				       NULL, 0, CAP_NONE, NULL, 0);
		w->param = NULL;
	}
	alt(w, adjust("Then the pressures of the hotter axle", NULL, 0, CAP_NONE, NULL, 0));
	snprintf(w->expected, sizeof w->expected,
		 "Both axles in the same temperature window, so they lose grip together.");
	w->caveats[0] = "Tyre temperatures alone are a pattern, not a diagnosis";
}

/* 13 and 14: the tread's zones; an observation unless both tyres of an axle agree. */
static void words_tread(const struct rule_summary *s, struct words *w)
{
	const struct rule_lap *rl = s->worst;
	char wh[160], lp[80], sum[160];
	bool front = front_of(rl->wheels), both = (rl->wheels & 3u) && (rl->wheels & 12u);
	bool pos = rl->value >= 0, crown = s->rule == R_TYRE_PRESSURE_SPREAD;
	const char *ax = both ? "all four" : front ? "front" : "rear";
	double th = crown ? CROWN_C : EDGE_C, mag = fabs(rl->value) >= 2.0 * th ? 2.0 : 1.0;

	wheels_text(rl->wheels, wh, sizeof wh);
	laps_text(s, lp, sizeof lp);
	if (crown) {
		snprintf(w->title, sizeof w->title, "Tyre %s run hotter than the %s",
			 pos ? "centres" : "shoulders", pos ? "shoulders" : "centres");
		snprintf(w->detected, sizeof w->detected,
			 "%s: the middle of the tread is %+.1f degC against the mean of its inner "
			 "and outer edges (threshold +-%.0f), held in 2 s windows stable within "
			 "%.0f degC; %s",
			 wh, rl->value, CROWN_C, SPREAD_STABLE_C, lp);
	} else {
		snprintf(w->title, sizeof w->title, "Tyre %s edges run hotter than the %s",
			 pos ? "inner" : "outer", pos ? "outer" : "inner");
		snprintf(w->detected, sizeof w->detected,
			 "%s: the inner edge of the tread is %+.1f degC against the outer "
			 "(threshold +-%.0f), held in 2 s windows stable within %.0f degC; %s",
			 wh, rl->value, EDGE_C, SPREAD_STABLE_C, lp);
	}
	w->caveats[0] = "Tyre temperatures alone are a pattern, not a diagnosis";
	w->caveats[1] = "Re-check after 3 clean laps";
	if (!s->second_signal) {
		snprintf(w->cause, sizeof w->cause,
			 "An observation, not a %s diagnosis: only one tyre of an axle shows it, "
			 "which the track's turns can do by themselves.",
			 crown ? "pressure" : "camber");
		w->adjustment = adjust("No setup change from one tyre's temperatures: watch "
				       "whether the other tyre of the axle follows",
				       NULL, 0, CAP_NONE, NULL, 0);
		w->param = NULL;
		snprintf(w->expected, sizeof w->expected, "The tread evenly hot across its width.");
		return;
	}
	if (crown) {
		w->param = both    ? "tyre_pressure"
			   : front ? "tyre_pressure_front"
				   : "tyre_pressure_rear";
		snprintf(w->cause, sizeof w->cause,
			 "%s: the %s and the tyre rides on its %s (both tyres of the axle agree).",
			 pos ? "Over-inflated" : "Under-inflated",
			 pos ? "centre bulges" : "centre sags", pos ? "middle" : "shoulders");
		snprintf(sum, sizeof sum, "%s the %s cold tyre pressures %.0f psi (%.0f kPa)",
			 pos ? "Lower" : "Raise", ax, mag, mag * PSI_KPA);
		w->adjustment =
			adjust(sum, w->param, pos ? -mag : mag, CAP_PRESSURE_PSI, "psi", 0.5);
		snprintf(w->expected, sizeof w->expected,
			 "The middle of the tread within %.0f degC of the edges: the whole width "
			 "works, more grip and even wear.",
			 CROWN_C);
		return;
	}
	w->param = both ? "camber" : front ? "camber_front" : "camber_rear";
	snprintf(w->cause, sizeof w->cause,
		 "%s: the %s edge carries the load on the straights and the tread never "
		 "lies flat (both tyres of the axle agree; toe can add to it).",
		 pos ? "Too much negative camber" : "Too little negative camber",
		 pos ? "inner" : "outer");
	snprintf(sum, sizeof sum, "%s camber %.1f deg %s negative", both ? "All" : ax,
		 CAMBER_STEP_DEG, pos ? "less" : "more");
	w->adjustment = adjust(sum, w->param, pos ? CAMBER_STEP_DEG : -CAMBER_STEP_DEG, CAP_NONE,
			       "deg", 0.1);
	alt(w, adjust(pos ? "Less toe-out on that axle" : "Check the toe of that axle", NULL, 0,
		      CAP_NONE, NULL, 0));
	snprintf(w->expected, sizeof w->expected,
		 "The inner edge within %.0f degC of the outer: the tread lies flat in the "
		 "corners and wears evenly.",
		 EDGE_C);
}

json_t *rule_compose(const struct rule_summary *s, const char **param)
{
	struct words w;
	json_t *o, *cav;

	memset(&w, 0, sizeof w);
	switch (s->rule) {
	case R_BOTTOMING:
	case R_NEAR_BUMP_STOP:
	case R_REAR_SQUAT:
		words_suspension(s, &w);
		break;
	case R_FRONT_LOCKUP:
	case R_REAR_LOCKUP:
	case R_WHEELSPIN:
		words_slip(s, &w);
		break;
	case R_UNDERSTEER:
	case R_OVERSTEER:
	case R_ENTRY_UNDERSTEER:
		words_balance(s, &w);
		break;
	case R_GEARING_LONG:
	case R_GEARING_SHORT:
	case R_EXIT_BOG:
		words_gearing(s, &w);
		break;
	case R_TYRE_PRESSURE_SPREAD:
	case R_TYRE_CAMBER_SPREAD:
		words_tread(s, &w);
		break;
	default:
		words_tyres(s, &w);
		break;
	}
	o = json_object();
	cav = json_array();
	if (!o || !cav || !w.adjustment) {
		json_decref(o);
		json_decref(cav);
		json_decref(w.adjustment);
		json_decref(w.alternatives);
		return NULL;
	}
	for (int i = 0; i < 4 && w.caveats[i]; i++)
		json_array_append_new(cav, json_string(w.caveats[i]));
	json_object_set_new(o, "category",
			    json_string(eng_category_name(rule_defs[s->rule].category)));
	json_object_set_new(o, "title", json_string(w.title));
	json_object_set_new(o, "detected", json_string(w.detected));
	json_object_set_new(o, "cause", json_string(w.cause));
	json_object_set_new(o, "adjustment", w.adjustment);
	json_object_set_new(o, "expected_outcome", json_string(w.expected));
	json_object_set_new(o, "caveats", cav);
	json_object_set_new(o, "alternatives", w.alternatives ? w.alternatives : json_array());
	json_object_set_new(o, "driving_style_assumed", json_string("smooth"));
	json_object_set_new(o, "locked_fallback_used", json_false());
	*param = w.param;
	return o;
}
