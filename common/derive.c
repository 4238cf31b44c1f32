/* derive.c - derived channels (see derive.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/derive.h"

/* The fields of a window sample: speed m/s, unwrapped heading rad (+ turning
 * right), car-frame velocity x and z m/s. */
enum field { F_SPEED, F_YAW, F_VX, F_VZ, F_COUNT };

struct sample {
	double t;          /* the derived clock, s */
	double y[F_COUNT]; /* by enum field */
	unsigned bits;     /* 1 << enum field: the fields it holds */
};

/* Sums of the window's samples holding a field: the least-squares line's
 * terms (times and values taken relative to a reference). */
struct wsum {
	double n, st, stt, sy, sty;
};

/* What the next frame is compared with. */
struct prev {
	uint64_t present;
	double game_time_s;
	int64_t t_ns;
	int32_t lap_time_ms;
	uint16_t lap;
	float spline;
	float v; /* speed, m/s; < 0 unknown */
};

struct derive {
	double window_s;
	int started; /* a frame was seen since the reset */
	uint8_t game;
	uint64_t session;
	struct prev p;
	double t;       /* the derived clock, s since the reset */
	double yaw;     /* unwrapped heading of the last frame with one */
	double yaw_raw; /* its heading as the game gave it (x the sense) */
	int have_yaw;
	/* the window: the n samples at most window_s older than the newest
	 * (head - 1), oldest at tail */
	struct sample s[DERIVE_SAMPLES];
	unsigned head, tail, n;
	/* their sums per field, of the samples holding it, relative to (t_ref,
	 * y_ref): the fit costs the same whatever the frames in the window */
	struct wsum sum[F_COUNT];
	double t_ref, y_ref[F_COUNT];
	unsigned pushes; /* since the sums were last made afresh */
	/* the lap since the line */
	int anchored;
	double t_line; /* clock at the line, s */
	double dist_m; /* integrated lap distance */
};

/*
 * Which way each game's heading turns, from the axes its decoder documents:
 *  - ACC: Unreal Engine's left-handed world, yaw clockwise seen from above;
 *    not verified on data (no real ACC capture exists), the emulator agrees.
 *  - Project CARS: the car's forward vector is (-sin o1, -cos o1) in the x/z
 *    world (dec_pcars.c, verified on the Spa capture), so o1 grows turning
 *    right; on that capture the lateral g derived with +1 follows the game's
 *    own at correlation +0.99 (test_derive).
 *  - Forza: yaw = atan2(dPosX, dPosZ) in a left-handed world (dec_forza.c,
 *    verified on the Laguna Seca CSV, a lap of left-handers turns it -360 deg);
 *    the derived rate follows the game's own AngularVelocityY at corr 0.996.
 *  - F1: yaw = atan2(fwd.x, fwd.z) in a right-handed world (dec_f1.c, from the
 *    real motion packets' forward/right vectors), so it grows turning left.
 *  - Assetto Corsa's remote telemetry has no heading.
 */
int derive_yaw_sense(unsigned game)
{
	switch (game) {
	case PW_GAME_ACC:
	case PW_GAME_PCARS1:
	case PW_GAME_PCARS2:
	case PW_GAME_FORZA_SLED:
	case PW_GAME_FM7:
	case PW_GAME_FH:
	case PW_GAME_FM2023:
		return 1;
	case PW_GAME_F1_23:
	case PW_GAME_F1_24:
	case PW_GAME_F1_25:
		return -1;
	default:
		return 0;
	}
}

struct derive *derive_new(double window_s)
{
	struct derive *d = calloc(1, sizeof *d);

	if (!d)
		return NULL;
	if (!(window_s > 0))
		window_s = DERIVE_WINDOW_S;
	d->window_s = window_s < DERIVE_WINDOW_MAX_S ? window_s : DERIVE_WINDOW_MAX_S;
	return d;
}

void derive_free(struct derive *d)
{
	free(d);
}

void derive_reset(struct derive *d)
{
	double w = d->window_s;

	memset(d, 0, sizeof *d);
	d->window_s = w;
}

static int has(uint64_t present, uint64_t bit)
{
	return (present & bit) != 0;
}

uint64_t derive_channels(uint64_t have, unsigned game)
{
	int yaw = derive_yaw_sense(game) != 0 && has(have, FRAME_P_YAW);
	int vel = has(have, FRAME_P_VEL), speed = vel || has(have, FRAME_P_SPEED);
	int line =
		has(have, FRAME_P_LAP) || has(have, FRAME_P_SPLINE) || has(have, FRAME_P_LAP_TIME);
	uint64_t out = 0;

	if (yaw)
		out |= FRAME_P_YAW_RATE;
	if (yaw && speed)
		out |= FRAME_P_ACCEL_LAT;
	if ((vel && yaw) || speed)
		out |= FRAME_P_ACCEL_LON;
	if ((has(have, FRAME_P_SPLINE) && has(have, FRAME_P_TRACK_LEN)) || (speed && line))
		out |= FRAME_P_LAP_DIST;
	if (line)
		out |= FRAME_P_LAP_TIME;
	return out & ~have;
}

/* The frame's speed in m/s, or -1 when it has none. */
static float speed_of(const struct pw_frame *f)
{
	if (has(f->present, FRAME_P_SPEED) && isfinite(f->speed_kmh))
		return f->speed_kmh / 3.6f;
	if (has(f->present, FRAME_P_VEL)) {
		float v = sqrtf(f->vel_ms[0] * f->vel_ms[0] + f->vel_ms[1] * f->vel_ms[1] +
				f->vel_ms[2] * f->vel_ms[2]);
		if (isfinite(v))
			return v;
	}
	return -1.0f;
}

/*
 * The time from the previous frame to f on the best clock both have (see
 * derive.h): 1 with *dt, 0 when there is none.
 */
static int clock_step(const struct prev *p, const struct pw_frame *f, double *dt)
{
	uint64_t both = p->present & f->present;

	if (has(both, FRAME_P_GAME_TIME)) {
		*dt = f->game_time_s - p->game_time_s;
		return isfinite(*dt);
	}
	if (has(both, FRAME_P_LAP_TIME) && p->lap_time_ms >= 0 && f->lap_time_ms >= 0) {
		int same_lap = !has(p->present | f->present, FRAME_P_LAP) ||
			       (has(both, FRAME_P_LAP) && p->lap == f->lap);

		if (same_lap && f->lap_time_ms >= p->lap_time_ms) {
			*dt = (f->lap_time_ms - p->lap_time_ms) / 1000.0;
			return 1;
		}
		/* across the line: the rest of the old lap, then the new one so far */
		if (has(both, FRAME_P_LAP) && f->lap == p->lap + 1 &&
		    has(f->present, FRAME_P_LAST_LAP) && f->last_lap_ms >= p->lap_time_ms) {
			*dt = (f->last_lap_ms - p->lap_time_ms + f->lap_time_ms) / 1000.0;
			if (*dt <= DERIVE_GAP_S)
				return 1;
		}
	}
	if (p->t_ns > 0 && f->t_ns > 0) {
		*dt = (double)(f->t_ns - p->t_ns) / 1e9;
		return 1;
	}
	return 0;
}

static void window_clear(struct derive *d)
{
	d->n = 0;
	d->head = 0;
	d->tail = 0;
	d->pushes = 0;
	memset(d->sum, 0, sizeof d->sum);
}

static const struct sample *window_at(const struct derive *d, unsigned i) /* 0: the oldest */
{
	return &d->s[(d->tail + i) % DERIVE_SAMPLES];
}

/* Sample s into the sums (sign +1) or out of them (-1). */
static void sums_add(struct derive *d, const struct sample *s, double sign)
{
	double t = s->t - d->t_ref;

	for (unsigned w = s->bits; w; w &= w - 1) {
		unsigned k = (unsigned)__builtin_ctz(w);
		double y = s->y[k] - d->y_ref[k];
		struct wsum *m = &d->sum[k];

		m->n += sign;
		m->st += sign * t;
		m->stt += sign * t * t;
		m->sy += sign * y;
		m->sty += sign * t * y;
	}
}

/* The sums made afresh from the window's samples, relative to the newest:
 * what adding and taking out has rounded goes (every DERIVE_SAMPLES pushes). */
static void sums_remake(struct derive *d)
{
	const struct sample *newest = window_at(d, d->n - 1);

	d->t_ref = newest->t;
	for (unsigned k = 0; k < F_COUNT; k++)
		d->y_ref[k] = newest->bits >> k & 1 ? newest->y[k] : d->y_ref[k];
	memset(d->sum, 0, sizeof d->sum);
	for (unsigned i = 0; i < d->n; i++)
		sums_add(d, window_at(d, i), 1.0);
	d->pushes = 0;
}

/* s becomes the newest sample; the samples more than window_s older than it
 * leave the window (and the oldest when DERIVE_SAMPLES are held). */
static void window_push(struct derive *d, const struct sample *s)
{
	while (d->n && (s->t - window_at(d, 0)->t > d->window_s || d->n == DERIVE_SAMPLES)) {
		sums_add(d, window_at(d, 0), -1.0);
		d->tail = (d->tail + 1) % DERIVE_SAMPLES;
		d->n--;
	}
	d->s[d->head] = *s;
	d->head = (d->head + 1) % DERIVE_SAMPLES;
	d->n++;
	if (d->n == 1 || ++d->pushes >= DERIVE_SAMPLES) {
		sums_remake(d);
		return;
	}
	for (unsigned w = s->bits; w; w &= w - 1) { /* a field first seen: its reference */
		unsigned k = (unsigned)__builtin_ctz(w);

		if (d->sum[k].n < 0.5)
			d->y_ref[k] = s->y[k];
	}
	sums_add(d, s, 1.0);
}

/* A least-squares line through one field's samples in the window. */
struct fit {
	double slope, mean;
	int ok;
};

/* The time of the window's oldest sample holding field k (one is). */
static double oldest_with(const struct derive *d, unsigned k)
{
	unsigned i = 0;

	if (d->sum[k].n < d->n - 0.5) /* not every sample holds it */
		while (i + 1 < d->n && !(window_at(d, i)->bits >> k & 1))
			i++;
	return window_at(d, i)->t;
}

/*
 * Fit the fields in want (1 << enum field) over the window from its sums; a
 * field the newest sample lacks is not fitted, nor one whose samples span
 * less than half the window or are fewer than 3. A sample lacking some of
 * the fields (a game that sends a channel only now and then) still counts
 * for the others.
 */
static void window_fit(const struct derive *d, unsigned want, struct fit out[F_COUNT])
{
	const struct sample *newest = d->n ? window_at(d, d->n - 1) : NULL;

	for (unsigned k = 0; k < F_COUNT; k++)
		out[k] = (struct fit){ 0, 0, 0 };
	if (!newest)
		return;
	for (unsigned w = want & newest->bits; w; w &= w - 1) {
		unsigned k = (unsigned)__builtin_ctz(w);
		const struct wsum *m = &d->sum[k];
		double den = m->n * m->stt - m->st * m->st;

		if (m->n < 2.5 || newest->t - oldest_with(d, k) < d->window_s / 2 || !(den > 0))
			continue;
		out[k].slope = (m->n * m->sty - m->st * m->sy) / den;
		out[k].mean = d->y_ref[k] + m->sy / m->n;
		out[k].ok = isfinite(out[k].slope) && isfinite(out[k].mean);
	}
}

/* The heading of f unwrapped against the previous one, + turning right: the
 * game's angle wraps at +-pi (or 0..2 pi), the sum of the steps does not. */
static double unwrap_yaw(struct derive *d, float yaw_rad, int sense)
{
	double y = sense * (double)yaw_rad;

	d->yaw = d->have_yaw ? d->yaw + remainder(y - d->yaw_raw, 2.0 * M_PI) : y;
	d->yaw_raw = y;
	d->have_yaw = 1;
	return d->yaw;
}

/* yaw rate, lateral and longitudinal g from the window; only what f lacks is fitted */
static void derive_motion(struct derive *d, struct pw_frame *f)
{
	int lat_g = !has(f->present, FRAME_P_ACCEL_LAT),
	    lon_g = !has(f->present, FRAME_P_ACCEL_LON);
	unsigned want = 1u << F_YAW;
	struct fit fit[F_COUNT];
	const struct fit *yaw = &fit[F_YAW], *vx = &fit[F_VX], *vz = &fit[F_VZ], *v = &fit[F_SPEED];
	int vel;

	if (lat_g || lon_g)
		want |= 1u << F_SPEED | 1u << F_VX | 1u << F_VZ;
	window_fit(d, want, fit);
	vel = vx->ok && vz->ok;
	if (yaw->ok && !has(f->present, FRAME_P_YAW_RATE)) {
		f->yaw_rate_rads = (float)yaw->slope;
		f->present |= FRAME_P_YAW_RATE;
		f->derived |= FRAME_P_YAW_RATE;
	}
	if (lat_g && yaw->ok && (vel || v->ok)) {
		double lat = vel ? yaw->slope * vz->mean + vx->slope : yaw->slope * v->mean;

		f->accel_lat_g = (float)(lat / DERIVE_G);
		f->present |= FRAME_P_ACCEL_LAT;
		f->derived |= FRAME_P_ACCEL_LAT;
	}
	if (lon_g && ((vel && yaw->ok) || v->ok)) {
		double lon = vel && yaw->ok ? vz->slope - yaw->slope * vx->mean : v->slope;

		f->accel_lon_g = (float)(lon / DERIVE_G);
		f->present |= FRAME_P_ACCEL_LON;
		f->derived |= FRAME_P_ACCEL_LON;
	}
}

/* 1 when f is the first frame after the line, -1 when the lap counter jumped
 * (the lap is lost), 0 otherwise. */
static int crossed_line(const struct prev *p, const struct pw_frame *f)
{
	uint64_t both = p->present & f->present;

	if (has(both, FRAME_P_LAP)) {
		if (f->lap == p->lap)
			return 0;
		return f->lap == p->lap + 1 ? 1 : -1;
	}
	if (has(both, FRAME_P_SPLINE))
		return p->spline > 0.9f && f->spline < 0.1f;
	if (has(both, FRAME_P_LAP_TIME) && p->lap_time_ms >= 0 && f->lap_time_ms >= 0)
		return f->lap_time_ms + 1000 < p->lap_time_ms && f->lap_time_ms < 2000;
	return 0;
}

/* The game's own time since the line, s, when it gives one; else -1. */
static double game_lap_s(const struct pw_frame *f)
{
	return has(f->present, FRAME_P_LAP_TIME) && f->lap_time_ms >= 0 ? f->lap_time_ms / 1000.0
									: -1.0;
}

static void anchor(struct derive *d, const struct pw_frame *f, float v)
{
	double since = game_lap_s(f);

	if (since < 0 || since * 1000.0 >= DERIVE_FRESH_LAP_MS)
		since = 0.0;
	d->anchored = 1;
	d->t_line = d->t - since;
	d->dist_m = v >= 0 ? v * since : 0.0;
}

/* lap distance and time in lap; clock = the frame has a clock step (or is
 * the first), dt that step */
static void derive_lap(struct derive *d, struct pw_frame *f, int first, int clock, double dt,
		       float v)
{
	if (!has(f->present, FRAME_P_LAP_DIST) && has(f->present, FRAME_P_SPLINE) &&
	    has(f->present, FRAME_P_TRACK_LEN) && f->track_len_m > 0 && isfinite(f->spline)) {
		f->lap_dist_m = f->spline * f->track_len_m;
		f->present |= FRAME_P_LAP_DIST;
		f->derived |= FRAME_P_LAP_DIST;
	}
	if (first) {
		double since = game_lap_s(f);

		if (since >= 0 && since * 1000.0 < DERIVE_FRESH_LAP_MS)
			anchor(d, f, v);
	} else {
		int line = crossed_line(&d->p, f);

		if (line < 0 || !clock || dt > DERIVE_LAP_GAP_S || (d->p.v < 0) != (v < 0))
			d->anchored = 0;
		else if (d->anchored && v >= 0)
			d->dist_m += 0.5 * (d->p.v + v) * dt;
		if (line > 0 && clock)
			anchor(d, f, v);
	}
	if (!d->anchored)
		return;
	if (!has(f->present, FRAME_P_LAP_DIST) && v >= 0) {
		f->lap_dist_m = (float)d->dist_m;
		f->present |= FRAME_P_LAP_DIST;
		f->derived |= FRAME_P_LAP_DIST;
	}
	if (!has(f->present, FRAME_P_LAP_TIME) || f->lap_time_ms < 0) {
		f->lap_time_ms = (int32_t)lround((d->t - d->t_line) * 1000.0);
		f->present |= FRAME_P_LAP_TIME;
		f->derived |= FRAME_P_LAP_TIME;
	}
}

static void remember(struct derive *d, const struct pw_frame *f, float v)
{
	d->p.present = f->present & ~f->derived;
	d->p.game_time_s = f->game_time_s;
	d->p.t_ns = f->t_ns;
	d->p.lap_time_ms = has(f->derived, FRAME_P_LAP_TIME) ? -1 : f->lap_time_ms;
	d->p.lap = f->lap;
	d->p.spline = f->spline;
	d->p.v = v;
}

void derive_frame(struct derive *d, struct pw_frame *f)
{
	int sense, first, clock = 0, paused;
	double dt = 0.0;
	float v;

	if (f->version != FRAME_VERSION)
		return;
	if (d->started && (f->game != d->game || f->game_session != d->session))
		derive_reset(d);
	first = !d->started;
	d->started = 1;
	d->game = f->game;
	d->session = f->game_session;
	sense = derive_yaw_sense(f->game);
	v = speed_of(f);
	paused = (f->flags & f->flags_known & FRAME_FLAG_PAUSED) != 0;
	if (!first) {
		clock = clock_step(&d->p, f, &dt);
		if (clock && (dt < 0 || dt > DERIVE_GAP_S))
			window_clear(d);
		if (clock && dt < 0) {
			d->anchored = 0; /* the game's clock went back: a restart or a rewind */
			clock = 0;
		}
		if (!clock)
			window_clear(d);
		if (paused)
			dt = 0.0; /* the game stands still, whatever the receive clock says */
		if (clock)
			d->t += dt;
	}
	if (paused) {
		window_clear(d);
		if (!first && crossed_line(&d->p, f))
			d->anchored = 0;
		remember(d, f, v);
		return;
	}
	if (first || clock) {
		struct sample s = { .t = d->t, .y = { [F_SPEED] = v } };

		if (v >= 0)
			s.bits |= 1u << F_SPEED;
		if (sense && has(f->present, FRAME_P_YAW) && isfinite(f->yaw_rad)) {
			s.y[F_YAW] = unwrap_yaw(d, f->yaw_rad, sense);
			s.bits |= 1u << F_YAW;
		}
		if (has(f->present, FRAME_P_VEL) && isfinite(f->vel_ms[0]) &&
		    isfinite(f->vel_ms[2])) {
			s.y[F_VX] = f->vel_ms[0];
			s.y[F_VZ] = f->vel_ms[2];
			s.bits |= 1u << F_VX | 1u << F_VZ;
		}
		window_push(d, &s);
		derive_motion(d, f);
	}
	derive_lap(d, f, first, first || clock, dt, v);
	remember(d, f, v);
}
