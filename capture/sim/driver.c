/* driver.c - see driver.h */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "capture/sim/driver.h"

#define DT_S (DRIVER_STEP_MS / 1000.0)
#define KMH (1.0 / 3.6)
#define SECTORS 3

#define PROFILE_DS_M 0.5
#define LAPS_SPEED_FRAC 0.97 /* of sqrt(mu g R) */
#define MAP_SPEED_FRAC 0.60
#define MAP_SPEED_CAP_MS (150.0 * KMH)
#define SPEED_CAP_MS 120.0
#define PROFILE_BRAKE_FRAC 0.92 /* of the brake limit left by the friction circle */
#define TRACK_START_MS (60.0 * KMH)
#define TRACK_TAU_S 0.1 /* speed-tracking time constant */
#define DOWNSHIFT_MARGIN_RPM 800.0
#define SHIFT_GAP_STEPS 150

#define PULL_START_MS (15.0 * KMH)
#define PULL_LIMITER_HOLD_S 0.15
#define PULL_TOP_GEAR_MAX_S 90.0
#define PULL_BRAKE_FRAC 0.8
#define PULL_DOWNSHIFT_RPM 6000.0

#define SKIDPAD_RADIUS_M 80.0
#define SKIDPAD_START_MS (40.0 * KMH)
#define SKIDPAD_RAMP_GPS 0.05   /* lateral g per second */
#define SKIDPAD_HOLD_FRAC 0.995 /* of the grip limit */
#define SKIDPAD_HOLD_S 5.0
#define SKIDPAD_EASE_MS2 3.0

#define FLAGS_KNOWN                                                                    \
	(FRAME_FLAG_IN_PIT | FRAME_FLAG_LAP_INVALID | FRAME_FLAG_ABS | FRAME_FLAG_TC | \
	 FRAME_FLAG_LIMITER | FRAME_FLAG_PAUSED)

enum phase {
	PHASE_DRIVE = 0, /* track modes: always */
	PHASE_PULL,
	PHASE_PULL_BRAKE,
	PHASE_RAMP,
	PHASE_HOLD,
	PHASE_EASE,
};

struct driver {
	enum driver_mode mode;
	const struct car_spec *car;
	const struct track *track;
	uint64_t seed, rng;
	struct car_state cs;
	int64_t step;

	/* course */
	double offset_m;      /* from the centre line, + right (track modes) */
	double s_m;           /* centre-line distance this lap / distance this repetition */
	double x_m, z_m, psi; /* pulls and cornering: integrated pose */
	double curvature;     /* of the driven path now, + right */
	double *profile;      /* target speed by centre-line distance (track modes) */
	int profile_n;
	double profile_ds;
	double course_len_m;
	int32_t reference_lap_ms;
	double shift_rpm[CAR_MAX_GEARS + 1];

	/* timing */
	int laps;
	int64_t lap_start_step, sector_start_step;
	int sector;
	int32_t last_lap_ms, best_lap_ms;
	int32_t sector_ms[SECTORS];
	double last_lap_dist_m; /* pulls, cornering: length of the last repetition */

	/* mode state machine */
	enum phase phase;
	int64_t phase_start_step, last_shift_step;
	double limiter_s;      /* pulls: time held on the limiter in this gear */
	double lat_target_ms2; /* cornering */
	double target_ms;      /* cornering: current speed target */
	int turn_dir;          /* cornering: +1 right, -1 left */
};

static const char *const mode_names[DRIVER_MODE_COUNT] = {
	"laps", "left", "right", "pulls", "cornering",
};

const char *driver_mode_name(enum driver_mode mode)
{
	return (unsigned)mode < DRIVER_MODE_COUNT ? mode_names[mode] : "unknown";
}

int driver_mode_parse(const char *name)
{
	for (int i = 0; i < DRIVER_MODE_COUNT; i++)
		if (strcmp(name, mode_names[i]) == 0)
			return i;
	return -1;
}

static int track_mode(const struct driver *d)
{
	return d->mode == DRIVER_LAPS || d->mode == DRIVER_LEFT || d->mode == DRIVER_RIGHT;
}

/* --- noise: xorshift64*, seeded through splitmix64 --- */

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static uint64_t rng_next(struct driver *d)
{
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return d->rng * 0x2545F4914F6CDD1Dull;
}

/* Uniform noise in [-amp, amp]. */
static double noise(struct driver *d, double amp)
{
	double u = (double)(rng_next(d) >> 11) / 9007199254740992.0;

	return amp * (2.0 * u - 1.0);
}

/* --- speed profile (track modes) --- */

static double path_stretch(const struct driver *d, double k_centre)
{
	return 1.0 - d->offset_m * k_centre;
}

static double limit_speed(const struct driver *d, double k_path, double frac, double cap)
{
	double k = fabs(k_path);

	if (k < 1e-9)
		return cap;
	return fmin(cap, frac * sqrt(d->car->grip_limit_g * CAR_G / k));
}

static int build_profile(struct driver *d)
{
	const struct car_spec *c = d->car;
	double len = track_length_m(d->track);
	double frac = d->mode == DRIVER_LAPS ? LAPS_SPEED_FRAC : MAP_SPEED_FRAC;
	double cap = d->mode == DRIVER_LAPS ? SPEED_CAP_MS : MAP_SPEED_CAP_MS;
	int n = (int)ceil(len / PROFILE_DS_M);
	double ds = len / n;

	d->profile = malloc((size_t)n * sizeof *d->profile);
	if (!d->profile)
		return -1;
	d->profile_n = n;
	d->profile_ds = ds;
	for (int i = 0; i < n; i++) {
		double k = track_curvature(d->track, i * ds);

		d->profile[i] = limit_speed(d, k / path_stretch(d, k), frac, cap);
	}
	/* braking zones, worked out backwards; twice round so the wrap is covered */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = n - 1; i >= 0; i--) {
			double k = track_curvature(d->track, i * ds), stretch = path_stretch(d, k);
			double v1 = d->profile[(i + 1) % n];
			double u = v1 * v1 * fabs(k / stretch) / (c->grip_limit_g * CAR_G);
			double share = u >= 1.0 ? 0.0 : sqrt(1.0 - u * u);
			double a = PROFILE_BRAKE_FRAC * c->brake_limit_g * CAR_G * share;

			d->profile[i] = fmin(d->profile[i], sqrt(v1 * v1 + 2.0 * a * ds * stretch));
		}
	}
	return 0;
}

static double profile_at(const struct driver *d, double s)
{
	double u = track_wrap(d->track, s) / d->profile_ds;
	int i = (int)u;
	double f = u - i;

	if (i >= d->profile_n)
		i = d->profile_n - 1;
	return d->profile[i] + (d->profile[(i + 1) % d->profile_n] - d->profile[i]) * f;
}

/* --- gears --- */

static void shift_to(struct driver *d, int gear)
{
	if (gear == d->cs.gear)
		return;
	car_shift(d->car, &d->cs, gear);
	d->last_shift_step = d->step;
}

/* Upshift at the optimal point (rpm only rises there when the car
 * accelerates), downshift when the lower gear would pull clearly below its
 * own shift point. */
static void choose_gear(struct driver *d)
{
	const struct car_spec *c = d->car;
	int g = d->cs.gear;

	if (d->cs.shift_left_s > 0.0)
		return;
	if (g < c->num_gears && d->cs.rpm >= d->shift_rpm[g]) {
		shift_to(d, g + 1);
		return;
	}
	if (g > 1 && d->step - d->last_shift_step >= SHIFT_GAP_STEPS &&
	    car_rpm_at(c, g - 1, d->cs.v_ms) <= d->shift_rpm[g - 1] - DOWNSHIFT_MARGIN_RPM)
		shift_to(d, g - 1);
}

static int start_gear(const struct driver *d, double v)
{
	int g = 1;

	while (g < d->car->num_gears &&
	       car_rpm_at(d->car, g, v) > d->shift_rpm[g] - DOWNSHIFT_MARGIN_RPM)
		g++;
	return g;
}

/* --- lap and sector timing --- */

static void reset_sectors(struct driver *d)
{
	for (int i = 0; i < SECTORS; i++)
		d->sector_ms[i] = -1;
	d->sector = 0;
	d->sector_start_step = d->step;
}

static int sector_of(const struct driver *d, double s)
{
	if (track_mode(d))
		return track_sector_at(d->track, s);
	if (d->course_len_m <= 0.0)
		return 0;
	return s >= d->course_len_m * 2.0 / 3.0 ? 2 : s >= d->course_len_m / 3.0 ? 1 : 0;
}

static void update_sector(struct driver *d)
{
	int k = sector_of(d, d->s_m);

	while (d->sector < k && d->sector < SECTORS - 1) {
		d->sector_ms[d->sector] =
			(int32_t)((d->step - d->sector_start_step) * DRIVER_STEP_MS);
		d->sector_start_step = d->step;
		d->sector++;
	}
}

static void complete_lap(struct driver *d)
{
	int32_t t = (int32_t)((d->step - d->lap_start_step) * DRIVER_STEP_MS);

	d->laps++;
	d->last_lap_ms = t;
	d->last_lap_dist_m = d->s_m;
	if (d->best_lap_ms < 0 || t < d->best_lap_ms)
		d->best_lap_ms = t;
	d->lap_start_step = d->step;
	reset_sectors(d);
}

/* --- one physics step per mode --- */

static void drive_at(struct driver *d, double a_req, double lat_ms2)
{
	double throttle, brake;

	car_pedals_for(d->car, &d->cs, a_req, &throttle, &brake);
	choose_gear(d);
	car_step(d->car, &d->cs, throttle, brake, lat_ms2, DT_S);
}

static void step_track(struct driver *d)
{
	double k = track_curvature(d->track, d->s_m), stretch = path_stretch(d, k);
	double v = d->cs.v_ms, vt = profile_at(d, d->s_m);
	double slope = (profile_at(d, d->s_m + d->profile_ds) - vt) / d->profile_ds;
	double len = track_length_m(d->track);

	d->curvature = k / stretch;
	drive_at(d, (vt - v) / TRACK_TAU_S + v * slope / stretch, v * v * d->curvature);
	d->step++;
	d->s_m += d->cs.v_ms * DT_S / stretch;
	if (d->s_m >= len) {
		d->s_m -= len;
		complete_lap(d);
	}
	update_sector(d);
}

/* Advance the integrated pose (pulls, cornering) by the step's arc. */
static void advance_pose(struct driver *d, double ds)
{
	double dpsi = d->curvature * ds, half = 0.5 * dpsi;
	double chord = ds * (fabs(half) > 1e-12 ? sin(half) / half : 1.0);

	d->x_m += chord * sin(d->psi + half);
	d->z_m += chord * cos(d->psi + half);
	d->psi += dpsi;
	d->s_m += ds;
}

static void start_repetition(struct driver *d, enum phase phase)
{
	d->phase = phase;
	d->phase_start_step = d->step;
	d->s_m = 0.0;
	d->limiter_s = 0.0;
}

static void step_pulls(struct driver *d)
{
	const struct car_spec *c = d->car;
	double throttle = 1.0, brake = 0.0;

	d->curvature = 0.0;
	if (d->phase == PHASE_PULL) {
		if (d->cs.limiter_left_s > 0.0)
			d->limiter_s += DT_S;
		if (d->limiter_s >= PULL_LIMITER_HOLD_S && d->cs.shift_left_s <= 0.0) {
			d->limiter_s = 0.0;
			if (d->cs.gear < c->num_gears)
				shift_to(d, d->cs.gear + 1);
			else
				d->phase = PHASE_PULL_BRAKE;
		}
		if (d->cs.gear == c->num_gears &&
		    d->step - d->last_shift_step > (int64_t)(PULL_TOP_GEAR_MAX_S * 1000))
			d->phase = PHASE_PULL_BRAKE;
	}
	if (d->phase == PHASE_PULL_BRAKE) {
		car_pedals_for(c, &d->cs, -PULL_BRAKE_FRAC * c->brake_limit_g * CAR_G, &throttle,
			       &brake);
		if (d->cs.gear > 1 && d->cs.shift_left_s <= 0.0 &&
		    car_rpm_at(c, d->cs.gear - 1, d->cs.v_ms) < PULL_DOWNSHIFT_RPM)
			shift_to(d, d->cs.gear - 1);
	}
	car_step(c, &d->cs, throttle, brake, 0.0, DT_S);
	d->step++;
	advance_pose(d, d->cs.v_ms * DT_S);
	update_sector(d);
	if (d->phase == PHASE_PULL_BRAKE && d->cs.v_ms <= PULL_START_MS) {
		complete_lap(d);
		start_repetition(d, PHASE_PULL);
		shift_to(d, 1);
	}
}

static void step_cornering(struct driver *d)
{
	const struct car_spec *c = d->car;
	double r = SKIDPAD_RADIUS_M, hold = SKIDPAD_HOLD_FRAC * c->grip_limit_g * CAR_G;
	double prev = d->target_ms, v = d->cs.v_ms;

	switch (d->phase) {
	case PHASE_RAMP:
		d->lat_target_ms2 = fmin(d->lat_target_ms2 + SKIDPAD_RAMP_GPS * CAR_G * DT_S, hold);
		d->target_ms = sqrt(d->lat_target_ms2 * r);
		if (d->lat_target_ms2 >= hold) {
			d->phase = PHASE_HOLD;
			d->phase_start_step = d->step;
		}
		break;
	case PHASE_HOLD:
		if ((d->step - d->phase_start_step) * DT_S >= SKIDPAD_HOLD_S)
			d->phase = PHASE_EASE;
		break;
	default:
		d->target_ms = fmax(d->target_ms - SKIDPAD_EASE_MS2 * DT_S, SKIDPAD_START_MS);
		break;
	}
	d->curvature = d->turn_dir / r;
	drive_at(d, (d->target_ms - v) / TRACK_TAU_S + (d->target_ms - prev) / DT_S,
		 v * v * d->curvature);
	d->step++;
	advance_pose(d, d->cs.v_ms * DT_S);
	update_sector(d);
	if (d->phase == PHASE_EASE && d->cs.v_ms <= SKIDPAD_START_MS + 0.05) {
		complete_lap(d);
		start_repetition(d, PHASE_RAMP);
		d->turn_dir = -d->turn_dir;
		d->lat_target_ms2 = d->cs.v_ms * d->cs.v_ms / r;
		d->target_ms = d->cs.v_ms;
	}
}

static void step_once(struct driver *d)
{
	switch (d->mode) {
	case DRIVER_PULLS:
		step_pulls(d);
		break;
	case DRIVER_CORNERING:
		step_cornering(d);
		break;
	default:
		step_track(d);
		break;
	}
}

/* --- lifecycle --- */

static void reset(struct driver *d)
{
	const struct car_spec *c = d->car;
	double v0 = track_mode(d)             ? TRACK_START_MS
		    : d->mode == DRIVER_PULLS ? PULL_START_MS
					      : SKIDPAD_START_MS;

	d->rng = splitmix64(d->seed);
	if (!d->rng)
		d->rng = 0x2545F4914F6CDD1Dull;
	d->step = 0;
	d->s_m = d->x_m = d->z_m = d->psi = d->curvature = 0.0;
	d->laps = 0;
	d->lap_start_step = 0;
	d->last_lap_ms = d->best_lap_ms = -1;
	reset_sectors(d);
	car_state_init(c, &d->cs, v0, d->mode == DRIVER_PULLS ? 1 : start_gear(d, v0));
	d->last_shift_step = -SHIFT_GAP_STEPS;
	start_repetition(d, track_mode(d)             ? PHASE_DRIVE
			    : d->mode == DRIVER_PULLS ? PHASE_PULL
						      : PHASE_RAMP);
	d->turn_dir = 1;
	d->target_ms = v0;
	d->lat_target_ms2 = v0 * v0 / SKIDPAD_RADIUS_M;
}

/* Dry run: time the second lap/repetition and, off the track, the longest
 * of the first two repetitions (the course length for spline and sectors). */
static void measure_course(struct driver *d)
{
	double len = 0.0;

	d->course_len_m = track_mode(d) ? track_length_m(d->track) : 0.0;
	while (d->laps < 2 && d->step < 3600 * 1000) {
		int before = d->laps;

		step_once(d);
		if (d->laps != before)
			len = fmax(len, d->last_lap_dist_m);
	}
	d->reference_lap_ms = d->last_lap_ms;
	if (!track_mode(d))
		d->course_len_m = len > 0.0 ? len : 1.0;
}

struct driver *driver_new(enum driver_mode mode, uint64_t seed, const struct car_spec *car,
			  const struct track *track)
{
	struct driver *d;

	if ((unsigned)mode >= DRIVER_MODE_COUNT)
		return NULL;
	d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->mode = mode;
	d->seed = seed;
	d->car = car;
	d->track = track;
	d->offset_m = mode == DRIVER_LEFT    ? -0.5 * track_width_m(track)
		      : mode == DRIVER_RIGHT ? 0.5 * track_width_m(track)
					     : 0.0;
	for (int g = 1; g < car->num_gears; g++)
		d->shift_rpm[g] = car_optimal_shift_rpm(car, g);
	d->shift_rpm[car->num_gears] = car->max_rpm;
	if (track_mode(d) && build_profile(d) < 0) {
		driver_free(d);
		return NULL;
	}
	reset(d);
	measure_course(d);
	reset(d);
	return d;
}

void driver_free(struct driver *d)
{
	if (!d)
		return;
	free(d->profile);
	free(d);
}

void driver_run_to(struct driver *d, int64_t step)
{
	while (d->step < step)
		step_once(d);
}

/* --- frame --- */

static void frame_pose(struct driver *d, double *x, double *z, double *psi)
{
	struct track_point p;

	if (!track_mode(d)) {
		*x = d->x_m;
		*z = d->z_m;
		*psi = d->psi;
		return;
	}
	track_sample(d->track, d->s_m, &p);
	*x = p.x_m + d->offset_m * cos(p.heading_rad);
	*z = p.z_m - d->offset_m * sin(p.heading_rad);
	*psi = p.heading_rad;
}

static double wrap_pi(double a)
{
	a = fmod(a, 2.0 * M_PI);
	if (a > M_PI)
		a -= 2.0 * M_PI;
	else if (a <= -M_PI)
		a += 2.0 * M_PI;
	return a;
}

static void frame_motion(struct driver *d, struct pw_frame *f)
{
	const struct car_spec *c = d->car;
	double v = d->cs.v_ms, k = d->curvature;
	double lat_g = d->cs.accel_lat_ms2 / CAR_G, lon_g = d->cs.accel_ms2 / CAR_G;
	/* kinematic bicycle: the CG slides inward by atan(l_rear * k) */
	double beta = atan(c->wheelbase_m * c->front_weight_frac * k);
	double wheel = atan(c->wheelbase_m * k) + c->understeer_rad_per_g * lat_g;
	double steer_deg = wheel * c->steering_ratio * 180.0 / M_PI;
	double x, z, psi;

	frame_pose(d, &x, &z, &psi);
	f->steer_deg = (float)(steer_deg + noise(d, 0.05));
	f->steer = (float)fmin(fmax(f->steer_deg / c->steer_lock_deg, -1.0), 1.0);
	f->speed_kmh = (float)fmax(v * 3.6 + noise(d, 0.05), 0.0);
	f->vel_ms[0] = (float)(v * sin(beta) + noise(d, 0.01));
	f->vel_ms[1] = (float)noise(d, 0.01);
	f->vel_ms[2] = (float)(v * cos(beta) + noise(d, 0.01));
	f->accel_lat_g = (float)(lat_g + noise(d, 0.003));
	f->accel_lon_g = (float)(lon_g + noise(d, 0.003));
	f->accel_vert_g = (float)noise(d, 0.003);
	f->pos_m[0] = (float)(x + noise(d, 0.01));
	f->pos_m[1] = 0.0f;
	f->pos_m[2] = (float)(z + noise(d, 0.01));
	f->yaw_rad = (float)wrap_pi(psi + noise(d, 0.001));
	f->yaw_rate_rads = (float)(v * k); /* the truth the derived yaw rate is checked against */
	f->pitch_rad = (float)(0.008 * lon_g + noise(d, 0.0005));
	f->roll_rad = (float)(-0.012 * lat_g + noise(d, 0.0005));
}

static void frame_engine(struct driver *d, struct pw_frame *f)
{
	const struct car_spec *c = d->car;
	const struct car_state *cs = &d->cs;

	f->throttle = (float)cs->throttle;
	f->brake = (float)cs->brake;
	f->clutch = (float)cs->clutch;
	f->handbrake = 0.0f;
	f->gear = (int8_t)cs->gear;
	f->num_gears = (uint8_t)c->num_gears;
	f->rpm = (float)fmax(cs->rpm + noise(d, 3.0), 0.0);
	f->max_rpm = (float)c->max_rpm;
	f->torque_nm = (float)cs->torque_nm;
	f->power_w = (float)cs->power_w;
	f->fuel_l = (float)cs->fuel_l;
	f->fuel_frac = (float)(cs->fuel_l / c->fuel_capacity_l);
	f->boost_bar = 0.0f;
	if (cs->limiter_left_s > 0.0)
		f->flags |= FRAME_FLAG_LIMITER;
	if (cs->traction_limited)
		f->flags |= FRAME_FLAG_TC;
	if (cs->abs_active)
		f->flags |= FRAME_FLAG_ABS;
	f->flags_known = FLAGS_KNOWN;
}

static void frame_lap(struct driver *d, struct pw_frame *f)
{
	double len = d->course_len_m;

	f->lap = (uint16_t)d->laps;
	f->lap_time_ms = (int32_t)((d->step - d->lap_start_step) * DRIVER_STEP_MS);
	if (d->laps > 0) {
		f->last_lap_ms = d->last_lap_ms;
		f->best_lap_ms = d->best_lap_ms;
	} else {
		f->present &= ~(uint64_t)(FRAME_P_LAST_LAP | FRAME_P_BEST_LAP);
	}
	memcpy(f->sector_ms, d->sector_ms, sizeof f->sector_ms);
	f->lap_dist_m = (float)d->s_m;
	f->track_len_m = (float)len;
	f->spline = (float)fmin(d->s_m / len, 0.99999);
	f->sector = (uint8_t)d->sector;
	f->position = 1;
}

/* A tread zone's temperature as the frame holds it: whole degC, 1..255 (0 is "none"). */
static uint8_t tread_u8(double c)
{
	return (uint8_t)fmin(fmax(lround(c), 1.0), 255.0);
}

static void frame_wheels(struct driver *d, struct pw_frame *f)
{
	struct car_wheels w;

	car_wheels(d->car, &d->cs, d->curvature, &w);
	for (int i = 0; i < 4; i++) {
		f->tyre_temp_c[i] = (float)(d->cs.tyre_temp_c[i] + noise(d, 0.05));
		f->tyre_press_kpa[i] = (float)(w.tyre_press_kpa[i] + noise(d, 0.05));
		f->brake_temp_c[i] = (float)(d->cs.brake_temp_c[i] + noise(d, 0.2));
		f->slip_ratio[i] = (float)w.slip_ratio[i];
		f->slip_angle_rad[i] = (float)w.slip_angle_rad[i];
		f->wheel_speed_rads[i] = (float)w.wheel_speed_rads[i];
		f->susp_travel_m[i] = (float)w.susp_travel_m[i];
		f->tyre_load_n[i] = (float)(w.load_n[i] + noise(d, 5.0));
		f->tyre_wear[i] = (float)d->cs.tyre_wear[i];
		f->susp_travel_norm[i] = (float)w.susp_travel_norm[i];
		f->tyre_temp_inner_c[i] = tread_u8(w.tread_c[i][0]);
		f->tyre_temp_middle_c[i] = tread_u8(w.tread_c[i][1]);
		f->tyre_temp_outer_c[i] = tread_u8(w.tread_c[i][2]);
	}
}

void driver_frame(struct driver *d, struct pw_frame *f)
{
	memset(f, 0, sizeof *f);
	f->version = FRAME_VERSION;
	f->present = FRAME_P_ALL;
	f->game_session = driver_session(d);
	f->game_time_s = d->step * DT_S;
	frame_motion(d, f);
	frame_engine(d, f);
	frame_lap(d, f);
	frame_wheels(d, f);
}

/* --- accessors --- */

int64_t driver_step(const struct driver *d)
{
	return d->step;
}

uint64_t driver_session(const struct driver *d)
{
	return splitmix64(d->seed ^ 0x5057534Dull) | 1;
}

double driver_time_s(const struct driver *d)
{
	return d->step * DT_S;
}

int driver_laps(const struct driver *d)
{
	return d->laps;
}

int32_t driver_last_lap_ms(const struct driver *d)
{
	return d->last_lap_ms;
}

const char *driver_course_name(const struct driver *d)
{
	if (track_mode(d))
		return track_name(d->track);
	return d->mode == DRIVER_PULLS ? "pitwall_straight" : "pitwall_skidpad";
}

double driver_course_length_m(const struct driver *d)
{
	return d->course_len_m;
}

int32_t driver_reference_lap_ms(const struct driver *d)
{
	return d->reference_lap_ms;
}
