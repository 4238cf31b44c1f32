/*
 * test_sim.c - pw-sim's physics: track geometry, car model, driving modes,
 * determinism and the ground truth. No sockets, no encoders.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "capture/sim/driver.h"
#include "capture/sim/truth.h"
#include "t.h"

#define RATE_HZ 60.0
#define TRACK_CORNERS 10

static int64_t tick_step(int64_t k, double rate)
{
	return (int64_t)llround(k * 1000.0 / rate);
}

/* Run d at rate, calling fn on every frame until it returns nonzero or
 * max_s simulated seconds pass. Returns the number of frames. */
typedef int (*frame_fn)(const struct pw_frame *f, void *ctx);

static int64_t drive(struct driver *d, double rate, double max_s, frame_fn fn, void *ctx)
{
	struct pw_frame f;
	int64_t k;

	for (k = 0; k / rate <= max_s; k++) {
		driver_run_to(d, tick_step(k, rate));
		driver_frame(d, &f);
		if (fn(&f, ctx))
			return k + 1;
	}
	return k;
}

static void test_track_closes(void)
{
	struct track *t = track_new();
	struct track_point a, b;
	double len;
	int left = 0, right = 0;

	T_CHECK(t != NULL);
	if (!t)
		return;
	len = track_length_m(t);
	T_CHECKF(len > 3000.0 && len < 4500.0, "length %.1f", len);
	track_sample(t, 0.0, &a);
	track_sample(t, len - 1e-7, &b);
	T_NEAR(a.x_m, 0.0, 1e-9);
	T_NEAR(a.z_m, 0.0, 1e-9);
	T_CHECKF(hypot(b.x_m - a.x_m, b.z_m - a.z_m) < 0.01, "gap %.6f m",
		 hypot(b.x_m - a.x_m, b.z_m - a.z_m));
	T_NEAR(b.heading_rad - a.heading_rad, 2.0 * M_PI, 1e-6);
	T_NEAR(track_curvature(t, len - 1e-7), track_curvature(t, 0.0), 1e-9);

	T_CHECK(track_corner_count(t) == TRACK_CORNERS);
	for (int i = 0; i < track_corner_count(t); i++) {
		const struct track_corner *c = track_corner(t, i);

		T_CHECK(c->index == i + 1);
		T_CHECK(c->angle_deg >= 15.0);
		T_CHECK(c->min_radius_m >= 20.0 && c->min_radius_m <= 250.0);
		T_CHECK(c->start_m < c->apex_m && c->apex_m < c->end_m);
		T_NEAR(1.0 / fabs(track_curvature(t, c->apex_m)), c->min_radius_m, 1e-6);
		T_CHECK(track_curvature(t, c->apex_m) * c->direction > 0.0);
		if (c->direction > 0)
			right++;
		else
			left++;
	}
	T_CHECK(left >= 2 && right >= 2);
	T_CHECK(track_corner(t, TRACK_CORNERS) == NULL);
	T_CHECK(track_sector_count(t) == 3);
	T_NEAR(track_sector_start_m(t, 0), 0.0, 0.0);
	T_NEAR(track_sector_start_m(t, 1), round(len / 3.0), 0.0);
	T_CHECK(track_sector_at(t, 10.0) == 0);
	T_CHECK(track_sector_at(t, len / 2.0) == 1);
	T_CHECK(track_sector_at(t, len - 10.0) == 2);
	T_NEAR(track_wrap(t, len + 5.0), 5.0, 1e-9);
	T_NEAR(track_wrap(t, -5.0), len - 5.0, 1e-9);
	track_free(t);
}

/* Walking the centre line in small steps covers the sampled length and
 * follows the heading: the track is a continuous curve. */
static void test_track_continuous(void)
{
	struct track *t = track_new();
	struct track_point p, q;
	double len = track_length_m(t), walked = 0.0, worst = 0.0, last = 0.0;

	track_sample(t, 0.0, &p);
	for (double s = 0.25; s < len; s += 0.25) {
		double dx, dz, mean;

		track_sample(t, s, &q);
		dx = q.x_m - p.x_m;
		dz = q.z_m - p.z_m;
		walked += hypot(dx, dz);
		/* chord direction is the mean heading over the step */
		mean = 0.5 * (p.heading_rad + q.heading_rad);
		worst = fmax(worst, fabs(remainder(atan2(dx, dz) - mean, 2.0 * M_PI)));
		p = q;
		last = s;
	}
	T_NEAR(walked, last, 0.01);
	T_CHECKF(worst < 1e-3, "heading mismatch %.6f rad", worst);
	track_free(t);
}

static void test_track_boundaries_width_apart(void)
{
	struct track *t = track_new();
	double w = track_width_m(t);

	T_NEAR(w, 12.0, 0.0);
	for (double s = 0.0; s < track_length_m(t); s += 7.3) {
		struct track_point c;
		double lx, lz, rx, rz;

		track_sample(t, s, &c);
		track_offset_point(t, s, -0.5 * w, &lx, &lz);
		track_offset_point(t, s, 0.5 * w, &rx, &rz);
		T_NEAR(hypot(rx - lx, rz - lz), w, 1e-9);
		T_NEAR(0.5 * (lx + rx), c.x_m, 1e-9);
		T_NEAR(0.5 * (lz + rz), c.z_m, 1e-9);
		/* the right boundary is to the right of the direction of travel */
		T_CHECK(sin(c.heading_rad) * (rz - c.z_m) - cos(c.heading_rad) * (rx - c.x_m) <
			0.0);
	}
	track_free(t);
}

static void test_car_torque_curve(void)
{
	const struct car_spec *c = car_default();
	double peak = 0.0, peak_rpm = 0.0;

	T_CHECK(c->num_gears == 6);
	T_CHECK(c->torque_points >= 8);
	for (double rpm = c->idle_rpm; rpm <= c->max_rpm; rpm += 10.0)
		if (car_torque_nm(c, rpm) > peak) {
			peak = car_torque_nm(c, rpm);
			peak_rpm = rpm;
		}
	T_CHECK(peak_rpm > 3500.0 && peak_rpm < 6500.0);
	T_CHECK(car_torque_nm(c, c->redline_rpm) < peak);
	T_NEAR(car_torque_nm(c, 4500.0), 0.5 * (545.0 + 580.0), 1e-9);
	T_CHECK(car_drag_torque_nm(c, 5000.0) < 0.0);
	/* rpm and speed are inverse of each other */
	T_NEAR(car_speed_at(c, 3, car_rpm_at(c, 3, 41.0)), 41.0, 1e-9);
	T_NEAR(car_wheel_force_n(c, 2, 30.0),
	       car_torque_nm(c, car_rpm_at(c, 2, 30.0)) * c->gear_ratios[1] * c->final_drive /
		       c->wheel_radius_m * c->drivetrain_efficiency,
	       1e-6);
}

/* The optimal shift point against a plain sweep over road speed. */
static void test_optimal_shift_brute_force(void)
{
	const struct car_spec *c = car_default();

	for (int g = 1; g < c->num_gears; g++) {
		double v_lo = car_speed_at(c, g + 1, c->idle_rpm);
		double v_max = car_speed_at(c, g, c->max_rpm);
		double found = c->max_rpm, opt = car_optimal_shift_rpm(c, g);

		for (double v = v_lo; v <= v_max; v += 1e-4)
			if (car_wheel_force_n(c, g + 1, v) >= car_wheel_force_n(c, g, v)) {
				found = car_rpm_at(c, g, v);
				break;
			}
		T_CHECKF(fabs(opt - found) < 0.5, "gear %d: %.3f vs brute force %.3f", g, opt,
			 found);
		T_CHECK(opt > 7000.0 && opt <= c->max_rpm);
		/* just below the point the lower gear still pulls harder */
		T_CHECK(car_wheel_force_n(c, g, car_speed_at(c, g, opt - 5.0)) >
			car_wheel_force_n(c, g + 1, car_speed_at(c, g, opt - 5.0)));
	}
	T_NEAR(car_optimal_shift_rpm(c, c->num_gears), c->max_rpm, 0.0);
	T_CHECK(car_recommended_shift_rpm(c) > 7000.0 && car_recommended_shift_rpm(c) < 8000.0);
}

/* A car whose next gear never wins below the limiter: the limiter is the answer. */
static void test_optimal_shift_limiter(void)
{
	struct car_spec flat = *car_default();

	flat.torque_points = 2;
	flat.torque_curve[0][0] = 1000;
	flat.torque_curve[0][1] = 500;
	flat.torque_curve[1][0] = 9000;
	flat.torque_curve[1][1] = 500;
	for (int g = 1; g < flat.num_gears; g++)
		T_NEAR(car_optimal_shift_rpm(&flat, g), flat.max_rpm, 0.0);
}

static void test_car_step_physics(void)
{
	const struct car_spec *c = car_default();
	struct car_state st;
	double th, br;

	car_state_init(c, &st, 30.0, 2);
	car_step(c, &st, 1.0, 0.0, 0.0, 0.001);
	T_NEAR(st.accel_ms2 * c->mass_kg,
	       fmin(car_wheel_force_n(c, 2, 30.0), c->traction_limit_g * c->mass_kg * CAR_G) -
		       car_resistance_n(c, 30.0),
	       1e-6);
	/* the pedals reproduce the asked acceleration */
	car_pedals_for(c, &st, -5.0, &th, &br);
	T_CHECK(th == 0.0 && br > 0.0);
	car_step(c, &st, th, br, 0.0, 0.001);
	T_NEAR(st.accel_ms2, -5.0, 0.05);
	car_pedals_for(c, &st, 0.5, &th, &br);
	T_CHECK(th > 0.0 && th < 1.0 && br == 0.0);
	car_step(c, &st, th, br, 0.0, 0.001);
	T_NEAR(st.accel_ms2, 0.5, 0.05);
	/* cornering at the grip limit leaves no traction */
	car_step(c, &st, 1.0, 0.0, c->grip_limit_g * CAR_G, 0.001);
	T_CHECK(st.traction_limited);
	T_CHECK(st.accel_ms2 < 0.0);
	/* gear change cuts the drive */
	car_shift(c, &st, 3);
	car_step(c, &st, 1.0, 0.0, 0.0, 0.001);
	T_CHECK(st.clutch == 1.0 && st.drive_force_n == 0.0);
}

struct det_ctx {
	struct pw_frame f[600];
	int n;
};

static int collect(const struct pw_frame *f, void *ctx)
{
	struct det_ctx *c = ctx;

	c->f[c->n++] = *f;
	return c->n == 600;
}

static void test_determinism(void)
{
	static struct det_ctx a, b, s;
	struct track *t = track_new();
	const struct car_spec *c = car_default();
	struct driver *d1 = driver_new(DRIVER_LAPS, 7, c, t);
	struct driver *d2 = driver_new(DRIVER_LAPS, 7, c, t);
	struct driver *d3 = driver_new(DRIVER_LAPS, 8, c, t);
	int differ = 0;

	a.n = b.n = s.n = 0;
	drive(d1, RATE_HZ, 20.0, collect, &a);
	drive(d2, RATE_HZ, 20.0, collect, &b);
	drive(d3, RATE_HZ, 20.0, collect, &s);
	T_CHECK(a.n == 600 && b.n == 600);
	T_CHECK(memcmp(a.f, b.f, sizeof a.f) == 0);
	for (int i = 0; i < 600; i++) {
		differ += a.f[i].speed_kmh != s.f[i].speed_kmh;
		/* the physics itself does not depend on the seed */
		T_CHECK(a.f[i].throttle == s.f[i].throttle && a.f[i].gear == s.f[i].gear);
		T_NEAR(a.f[i].speed_kmh, s.f[i].speed_kmh, 0.11);
	}
	T_CHECK(differ > 500);
	driver_free(d1);
	driver_free(d2);
	driver_free(d3);
	track_free(t);
}

struct lap_ctx {
	const struct car_spec *car;
	double track_len;
	int frames, done_at, laps_target;
	int last_before, sectors_seen;
	int32_t first_lap_ms, second_lap_ms;
	double max_lat, max_spline;
	int bad_presence, bad_steer_sign, lap_before_line;
	double prev_x, prev_z, prev_yaw;
	int heading_checked, heading_bad;
};

static int lap_frame(const struct pw_frame *f, void *ctx)
{
	struct lap_ctx *c = ctx;
	uint64_t laps_bits = FRAME_P_LAST_LAP | FRAME_P_BEST_LAP;
	uint64_t want = (1ull << FRAME_P_COUNT) - 1 - (f->lap == 0 ? laps_bits : 0);

	c->frames++;
	if (f->present != want || f->version != FRAME_VERSION)
		c->bad_presence++;
	c->max_lat = fmax(c->max_lat, fabs(f->accel_lat_g));
	c->max_spline = fmax(c->max_spline, f->spline);
	if (fabs(f->accel_lat_g) > 0.3 && (f->accel_lat_g > 0) != (f->steer > 0))
		c->bad_steer_sign++;
	if (f->lap == 0) {
		c->last_before += f->last_lap_ms == 0 && f->best_lap_ms == 0;
		c->lap_before_line++;
		if (f->sector == 2 && f->sector_ms[0] > 0 && f->sector_ms[1] > 0 &&
		    f->sector_ms[2] == -1)
			c->sectors_seen++;
	}
	if (f->lap == 1 && c->first_lap_ms == 0)
		c->first_lap_ms = f->last_lap_ms;
	if (f->lap == 2 && c->second_lap_ms == 0)
		c->second_lap_ms = f->last_lap_ms;
	/* world motion between frames points along yaw (x = sin, z = cos) */
	if (c->frames > 1 && f->speed_kmh > 100.0) {
		double dx = f->pos_m[0] - c->prev_x, dz = f->pos_m[2] - c->prev_z;
		double dir = atan2(dx, dz), mean = c->prev_yaw;

		c->heading_checked++;
		if (fabs(remainder(dir - mean, 2.0 * M_PI)) > 0.05)
			c->heading_bad++;
	}
	c->prev_x = f->pos_m[0];
	c->prev_z = f->pos_m[2];
	c->prev_yaw = f->yaw_rad;
	return f->lap >= c->laps_target;
}

static void test_laps_mode(void)
{
	struct track *t = track_new();
	const struct car_spec *car = car_default();
	struct driver *d = driver_new(DRIVER_LAPS, 1, car, t);
	struct lap_ctx c = { .car = car, .track_len = track_length_m(t), .laps_target = 2 };

	drive(d, RATE_HZ, 400.0, lap_frame, &c);
	T_CHECK(c.bad_presence == 0);
	T_CHECK(c.last_before == c.lap_before_line && c.lap_before_line > 0);
	T_CHECKF(c.first_lap_ms > 80000 && c.first_lap_ms < 110000, "out lap %d ms",
		 c.first_lap_ms);
	T_CHECKF(c.second_lap_ms > 80000 && c.second_lap_ms < c.first_lap_ms, "flying lap %d ms",
		 c.second_lap_ms);
	T_CHECK(c.second_lap_ms == driver_reference_lap_ms(d));
	T_CHECK(c.sectors_seen > 0);
	T_CHECK(c.max_spline < 1.0 && c.max_spline > 0.99);
	/* 97 % of the limit speed = 94 % of the limit lateral g, plus tracking */
	T_CHECKF(c.max_lat > 0.93 * car->grip_limit_g && c.max_lat < 0.97 * car->grip_limit_g,
		 "max lat %.4f", c.max_lat);
	T_CHECK(c.bad_steer_sign == 0);
	T_CHECK(c.heading_checked > 1000 && c.heading_bad == 0);
	T_CHECK(driver_laps(d) == 2 && driver_last_lap_ms(d) == c.second_lap_ms);
	T_NEAR(driver_course_length_m(d), track_length_m(t), 0.0);
	driver_free(d);
	track_free(t);
}

/* Gear choice in laps mode: upshifts happen at the optimal shift rpm. */
struct shift_ctx {
	const struct car_spec *car;
	struct pw_frame prev;
	int have, upshifts, bad;
};

static int shift_frame(const struct pw_frame *f, void *ctx)
{
	struct shift_ctx *c = ctx;

	if (c->have && f->gear == c->prev.gear + 1 && c->prev.throttle == 1.0f) {
		double opt = car_optimal_shift_rpm(c->car, c->prev.gear);

		c->upshifts++;
		/* the frame before the shift is at most one frame short of the point */
		if (c->prev.rpm > opt + 10.0 || c->prev.rpm < opt - 350.0)
			c->bad++;
	}
	c->prev = *f;
	c->have = 1;
	return 0;
}

static void test_laps_shift_points(void)
{
	struct track *t = track_new();
	const struct car_spec *car = car_default();
	struct driver *d = driver_new(DRIVER_LAPS, 3, car, t);
	struct shift_ctx c = { .car = car };

	drive(d, 1000.0, 95.0, shift_frame, &c);
	T_CHECKF(c.upshifts > 20 && c.bad == 0, "%d upshifts, %d off", c.upshifts, c.bad);
	driver_free(d);
	track_free(t);
}

struct edge_ctx {
	const struct track *t;
	double offset;
	int n, bad;
	double max_lat_frac;
	const struct car_spec *car;
};

static int edge_frame(const struct pw_frame *f, void *ctx)
{
	struct edge_ctx *c = ctx;
	double x, z;

	track_offset_point(c->t, f->lap_dist_m, c->offset, &x, &z);
	if (hypot(f->pos_m[0] - x, f->pos_m[2] - z) > 0.05)
		c->bad++;
	c->max_lat_frac = fmax(c->max_lat_frac, fabs(f->accel_lat_g) / c->car->grip_limit_g);
	c->n++;
	return f->lap >= 1;
}

static void test_boundary_modes(void)
{
	struct track *t = track_new();
	const struct car_spec *car = car_default();

	for (int m = DRIVER_LEFT; m <= DRIVER_RIGHT; m++) {
		struct driver *d = driver_new(m, 1, car, t);
		struct edge_ctx c = { .t = t, .car = car };

		c.offset = (m == DRIVER_LEFT ? -0.5 : 0.5) * track_width_m(t);
		drive(d, RATE_HZ, 400.0, edge_frame, &c);
		T_CHECK(c.bad == 0);
		/* 60 % of the limit speed = 36 % of the limit lateral g */
		T_CHECKF(c.max_lat_frac > 0.3 && c.max_lat_frac < 0.4, "lat frac %.3f",
			 c.max_lat_frac);
		T_CHECK(driver_laps(d) >= 1);
		T_CHECKF(driver_reference_lap_ms(d) > 95000 && driver_reference_lap_ms(d) < 200000,
			 "%s lap %d ms", driver_mode_name((enum driver_mode)m),
			 driver_reference_lap_ms(d));
		driver_free(d);
	}
	track_free(t);
}

struct corner_ctx {
	double peak_pos, peak_neg;
	int laps;
};

static int corner_frame(const struct pw_frame *f, void *ctx)
{
	struct corner_ctx *c = ctx;

	c->peak_pos = fmax(c->peak_pos, f->accel_lat_g);
	c->peak_neg = fmax(c->peak_neg, -f->accel_lat_g);
	c->laps = f->lap;
	return f->lap >= 2;
}

static void test_cornering_mode(void)
{
	struct track *t = track_new();
	const struct car_spec *car = car_default();
	struct driver *d = driver_new(DRIVER_CORNERING, 5, car, t);
	struct corner_ctx c = { 0 };
	double mu = car->grip_limit_g;

	drive(d, RATE_HZ, 200.0, corner_frame, &c);
	T_CHECK(c.laps == 2);
	/* first repetition turns right, the second left; both peak at the limit */
	T_CHECKF(c.peak_pos <= mu && c.peak_pos >= 0.99 * mu, "right peak %.4f", c.peak_pos);
	T_CHECKF(c.peak_neg <= mu && c.peak_neg >= 0.99 * mu, "left peak %.4f", c.peak_neg);
	T_CHECK(strcmp(driver_course_name(d), "pitwall_skidpad") == 0);
	T_CHECK(driver_course_length_m(d) > 500.0);
	driver_free(d);
	track_free(t);
}

struct pull_ctx {
	const struct car_spec *car;
	int top_rpm_gear[CAR_MAX_GEARS + 1]; /* frames near the limiter per gear */
	double max_kmh[CAR_MAX_GEARS + 1], min_kmh[CAR_MAX_GEARS + 1];
	int limiter_flag, laps, max_lat_bad;
	int32_t lap_ms;
};

static int pull_frame(const struct pw_frame *f, void *ctx)
{
	struct pull_ctx *c = ctx;

	if (f->lap == 0 && f->gear >= 1 && f->gear <= c->car->num_gears) {
		if (f->rpm >= c->car->max_rpm - 10.0)
			c->top_rpm_gear[f->gear]++;
		if (f->throttle == 1.0f) {
			c->max_kmh[f->gear] = fmax(c->max_kmh[f->gear], f->speed_kmh);
			if (c->min_kmh[f->gear] == 0.0 || f->speed_kmh < c->min_kmh[f->gear])
				c->min_kmh[f->gear] = f->speed_kmh;
		}
	}
	c->limiter_flag += (f->flags & FRAME_FLAG_LIMITER) != 0;
	if (fabs(f->accel_lat_g) > 0.01)
		c->max_lat_bad++;
	c->laps = f->lap;
	if (f->lap == 1)
		c->lap_ms = f->last_lap_ms;
	return f->lap >= 2;
}

static void test_pulls_mode(void)
{
	struct track *t = track_new();
	const struct car_spec *car = car_default();
	struct driver *d = driver_new(DRIVER_PULLS, 2, car, t);
	struct pull_ctx c = { .car = car };

	drive(d, RATE_HZ, 300.0, pull_frame, &c);
	T_CHECK(c.laps == 2);
	for (int g = 1; g <= car->num_gears; g++) {
		T_CHECKF(c.top_rpm_gear[g] > 0, "gear %d never reached the limiter", g);
		if (g > 1)
			/* gears overlap in speed: the next gear starts below the
			 * speed where the previous one ran out */
			T_CHECKF(c.min_kmh[g] < c.max_kmh[g - 1] && c.max_kmh[g] > c.max_kmh[g - 1],
				 "gear %d %.1f..%.1f after %.1f", g, c.min_kmh[g], c.max_kmh[g],
				 c.max_kmh[g - 1]);
	}
	T_NEAR(c.min_kmh[1], 15.0, 1.0);
	T_CHECK(c.limiter_flag > 0);
	T_CHECK(c.max_lat_bad == 0);
	T_CHECK(c.lap_ms > 20000 && c.lap_ms < 90000);
	T_CHECK(strcmp(driver_course_name(d), "pitwall_straight") == 0);
	driver_free(d);
	track_free(t);
}

static void test_frame_channels(void)
{
	struct track *t = track_new();
	const struct car_spec *car = car_default();
	struct driver *d = driver_new(DRIVER_LAPS, 1, car, t);
	const struct track_corner *t1 = track_corner(t, 0);
	struct pw_frame f;
	int64_t step = 0;

	/* run until the car sits at the apex of T1 (a right-hander) */
	do {
		step += 10;
		driver_run_to(d, step);
		driver_frame(d, &f);
	} while (f.lap_dist_m < t1->apex_m && step < 60000);
	T_CHECK(t1->direction > 0);
	T_CHECK(f.accel_lat_g > 1.0 && f.steer > 0.0 && f.steer_deg > 0.0 && f.steer <= 1.0);
	T_NEAR(f.steer, f.steer_deg / car->steer_lock_deg, 1e-6);
	T_NEAR(f.vel_ms[2] * 3.6, f.speed_kmh, 1.0);
	T_CHECK(f.vel_ms[0] > 0.0); /* kinematic slip: CG velocity points into the turn */
	T_NEAR(hypot(f.vel_ms[0], f.vel_ms[2]) * 3.6, f.speed_kmh, 0.5);
	T_NEAR(f.accel_lat_g, f.speed_kmh * f.speed_kmh / 12.96 / t1->min_radius_m / CAR_G, 0.02);
	T_CHECK(f.roll_rad < 0.0);
	T_CHECK(f.gear >= 1 && f.gear <= 6 && f.num_gears == 6);
	T_NEAR(f.rpm, car_rpm_at(car, f.gear, f.speed_kmh / 3.6), 15.0);
	T_NEAR(f.max_rpm, car->max_rpm, 0.0);
	T_NEAR(f.power_w, f.torque_nm * f.rpm * 2.0 * M_PI / 60.0, fabs(f.power_w) * 0.01 + 50.0);
	T_NEAR(f.track_len_m, track_length_m(t), 0.01);
	T_NEAR(f.spline, f.lap_dist_m / f.track_len_m, 1e-6);
	T_CHECK(f.position == 1 && f.sector == 0);
	T_CHECK(f.fuel_l < car->fuel_start_l && f.fuel_l > car->fuel_start_l - 2.0);
	T_NEAR(f.fuel_frac, f.fuel_l / car->fuel_capacity_l, 1e-6);
	T_NEAR(f.game_time_s, step / 1000.0, 1e-9);
	T_CHECK(f.lap_time_ms == step);
	T_CHECK(f.flags_known & FRAME_FLAG_LIMITER);
	/* outer (left) wheels carry more load and spin faster in a right turn */
	T_CHECK(f.tyre_load_n[0] > f.tyre_load_n[1] && f.tyre_load_n[2] > f.tyre_load_n[3]);
	T_CHECK(f.wheel_speed_rads[0] > f.wheel_speed_rads[1]);
	T_CHECK(f.susp_travel_m[0] > f.susp_travel_m[1]);
	for (int i = 0; i < 4; i++) {
		T_CHECK(f.tyre_temp_c[i] > 40.0 && f.tyre_temp_c[i] < 130.0);
		T_CHECK(f.tyre_press_kpa[i] > 150.0 && f.tyre_press_kpa[i] < 230.0);
		T_CHECK(f.brake_temp_c[i] > 50.0 && f.brake_temp_c[i] < 900.0);
		T_CHECK(f.tyre_wear[i] < 1.0 && f.tyre_wear[i] > 0.99);
		T_CHECK(f.slip_angle_rad[i] > 0.0);
	}
	driver_free(d);
	track_free(t);
}

static void test_modes_names(void)
{
	T_CHECK(driver_mode_parse("laps") == DRIVER_LAPS);
	T_CHECK(driver_mode_parse("cornering") == DRIVER_CORNERING);
	T_CHECK(driver_mode_parse("drift") == -1);
	T_CHECK(strcmp(driver_mode_name(DRIVER_PULLS), "pulls") == 0);
	T_CHECK(driver_new(DRIVER_MODE_COUNT, 1, car_default(), NULL) == NULL);
}

static void test_truth_json(void)
{
	struct track *t = track_new();
	const struct car_spec *car = car_default();
	struct truth_run run = {
		.mode = "laps",
		.feed = "f1",
		.format = "2024",
		.seed = 42,
		.rate_hz = 60.0,
		.course_name = "pitwall_ring",
		.course_length_m = track_length_m(t),
		.reference_lap_ms = 89000,
	};
	char *s = truth_json(car, t, &run);
	json_error_t err;
	json_t *j = s ? json_loads(s, 0, &err) : NULL;
	json_t *shift, *trk, *corners, *sample;

	T_CHECK(s && !strchr(s, '\n'));
	T_CHECKF(j != NULL, "%s", j ? "" : err.text);
	if (!j) {
		free(s);
		track_free(t);
		return;
	}
	T_CHECK(strcmp(json_string_value(json_object_get(json_object_get(j, "car"), "name")),
		       "pitwall_gt3") == 0);
	T_CHECK(json_array_size(json_object_get(json_object_get(j, "car"), "gear_ratios")) == 6);
	T_CHECK(json_array_size(json_object_get(json_object_get(j, "car"), "torque_curve")) ==
		(size_t)car->torque_points);
	shift = json_object_get(j, "optimal_shift_rpm");
	T_CHECK(json_array_size(shift) == 5);
	for (int g = 1; g < 6; g++)
		T_NEAR(json_number_value(json_array_get(shift, (size_t)g - 1)),
		       car_optimal_shift_rpm(car, g), 1e-5);
	T_NEAR(json_number_value(json_object_get(j, "recommended_shift_rpm")),
	       car_recommended_shift_rpm(car), 0.0);
	trk = json_object_get(j, "track");
	T_NEAR(json_number_value(json_object_get(trk, "length_m")), track_length_m(t), 1e-5);
	T_CHECK(json_integer_value(json_object_get(trk, "corner_count")) == TRACK_CORNERS);
	corners = json_object_get(trk, "corners");
	T_CHECK(json_array_size(corners) == TRACK_CORNERS);
	T_CHECK(strcmp(json_string_value(json_object_get(json_array_get(corners, 0), "direction")),
		       "right") == 0);
	T_CHECK(json_array_size(json_object_get(trk, "sectors")) == 3);
	sample = json_object_get(trk, "center_line_sample");
	T_CHECK(json_array_size(sample) == (size_t)ceil(track_length_m(t) / 10.0));
	T_CHECK(json_integer_value(json_object_get(j, "seed")) == 42);
	T_CHECK(strcmp(json_string_value(json_object_get(j, "feed")), "f1") == 0);
	T_CHECK(strcmp(json_string_value(json_object_get(j, "mode")), "laps") == 0);
	T_NEAR(json_number_value(json_object_get(j, "rate_hz")), 60.0, 0.0);
	json_decref(j);
	free(s);
	track_free(t);
}

int main(void)
{
	T_RUN(test_track_closes);
	T_RUN(test_track_continuous);
	T_RUN(test_track_boundaries_width_apart);
	T_RUN(test_car_torque_curve);
	T_RUN(test_optimal_shift_brute_force);
	T_RUN(test_optimal_shift_limiter);
	T_RUN(test_car_step_physics);
	T_RUN(test_determinism);
	T_RUN(test_laps_mode);
	T_RUN(test_laps_shift_points);
	T_RUN(test_boundary_modes);
	T_RUN(test_cornering_mode);
	T_RUN(test_pulls_mode);
	T_RUN(test_frame_channels);
	T_RUN(test_modes_names);
	T_RUN(test_truth_json);
	return T_DONE();
}
