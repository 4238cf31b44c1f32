/*
 * test_engineer.c - the race engineer (analyze/engineer.h, analyze/rules.c).
 *
 * Synthetic laps: 40 s at 60 Hz of a car cruising straight with every channel
 * present and nothing wrong, into which each test writes one symptom. Every
 * rule fires on one side of its threshold (window length, value, gate) and
 * stays silent on the other; the common gates, the confidence policy over
 * several laps, the live filters, the caps and the channel requirements
 * (not_evaluated) are checked the same way.
 *
 * Ground truth: pw-sim's setup faults (capture/sim/car.h) driven for 3 laps
 * must each give a recommendation of the category and a parameter the
 * emulator names, at high or medium confidence; the clean car none at high.
 *
 * Real data: the Assetto Corsa Monza capture through the general use case
 * and the Project CARS 1 Spa session as one partial lap: no crash, and every
 * finding's evidence is checked against the frames it names, recomputed here.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analysis.h"
#include "analyze/engineer.h"
#include "analyze/rules.h"
#include "capture/decoder.h"
#include "capture/rawsplit.h"
#include "capture/sim/car.h"
#include "capture/sim/driver.h"
#include "capture/sim/track.h"
#include "common/pcap.h"
#include "tests/unit/t.h"

#define HZ 60.0
#define LAP_S 40.0
#define LAP_N 2400 /* LAP_S x HZ */
#define MAX_LAPS 4
#define V_MS 30.0
#define RADIUS_M 0.34

static struct pw_frame fr[LAP_N * MAX_LAPS];

/* ---- synthetic laps ---- */

static size_t at(double t_s)
{
	return (size_t)llround(t_s * HZ);
}

static void base_laps(int nlaps)
{
	memset(fr, 0, sizeof fr);
	for (size_t k = 0; k < LAP_N * (size_t)nlaps; k++) {
		struct pw_frame *f = &fr[k];

		frame_init(f, PW_GAME_AC, PW_FEED_KSUDP);
		f->seq = k + 1;
		f->present = FRAME_P_ALL;
		f->game_time_s = (double)k / HZ;
		f->t_ns = (int64_t)k * 16666667;
		f->speed_kmh = (float)(V_MS * 3.6);
		f->vel_ms[2] = (float)V_MS;
		f->throttle = 0.2f;
		f->gear = 4;
		f->num_gears = 6;
		f->rpm = 6000.0f;
		f->max_rpm = 8000.0f;
		f->lap = (uint16_t)(k / LAP_N);
		f->lap_dist_m = (float)((double)(k % LAP_N) / HZ * V_MS);
		f->track_len_m = (float)(LAP_S * V_MS);
		f->spline = f->lap_dist_m / f->track_len_m;
		for (int w = 0; w < 4; w++) {
			f->susp_travel_norm[w] = 0.5f;
			f->susp_travel_m[w] = 0.04f;
			f->slip_angle_rad[w] = 0.01f;
			f->tyre_temp_c[w] = 90.0f;
			f->tyre_press_kpa[w] = 180.0f;
			f->wheel_speed_rads[w] = (float)(V_MS / RADIUS_M);
			f->tyre_wear[w] = 1.0f;
			f->tyre_temp_inner_c[w] = 92; /* a clean tread: 4 degC across, flat crown */
			f->tyre_temp_middle_c[w] = 90;
			f->tyre_temp_outer_c[w] = 88;
		}
	}
}

/* Frames [t0, t0 + dur) of lap `lap` (0-based). */
#define SPAN(lap, t0, dur, k)                                                                     \
	for (size_t k = (size_t)(lap)*LAP_N + at(t0); k < (size_t)(lap)*LAP_N + at((t0) + (dur)); \
	     k++)

static json_t *engineer(int nlaps, const struct eng_opts *o)
{
	struct eng_lap laps[MAX_LAPS];
	struct an_run run = { "run", "ksudp", "", fr, LAP_N * (size_t)nlaps };
	struct an_input in = {
		.session_id = "sess", .use_case = "general", .runs = &run, .nruns = 1
	};
	struct an_err err = { 0 };
	json_t *res;

	for (int i = 0; i < nlaps; i++)
		laps[i] = (struct eng_lap){ 0, LAP_N * (size_t)i, LAP_N * (size_t)(i + 1) - 1,
					    (uint32_t)i + 1 };
	res = an_engineer(&in, laps, (size_t)nlaps, o, &err);
	T_CHECKF(res != NULL, "%s", err.message);
	return res;
}

static json_t *rec_of(const json_t *res, const char *rule)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(res, "recommendations"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "rule")), rule) == 0)
			return r;
	return NULL;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static const char *param(const json_t *rec)
{
	return str(json_object_get(rec, "adjustment"), "parameter");
}

static double change(const json_t *rec)
{
	return json_number_value(json_object_get(json_object_get(rec, "adjustment"), "change"));
}

/* The rule's finding on a fresh single lap after setup, or NULL. */
static bool fires(const char *rule, void (*setup)(double), double arg, const char *conf)
{
	json_t *res, *r;
	bool found;

	base_laps(1);
	setup(arg);
	res = engineer(1, NULL);
	r = rec_of(res, rule);
	found = r != NULL;
	if (r && conf)
		T_CHECKF(strcmp(str(r, "confidence"), conf) == 0, "%s: confidence %s, want %s",
			 rule, str(r, "confidence"), conf);
	json_decref(res);
	return found;
}

static void test_quiet_lap(void)
{
	json_t *res, *ne;

	base_laps(1);
	res = engineer(1, NULL);
	T_EQ(json_array_size(json_object_get(res, "recommendations")), 0);
	T_EQ(json_array_size(json_object_get(res, "evaluated")), R_COUNT);
	T_EQ(json_integer_value(json_object_get(res, "laps_analyzed")), 1);
	T_EQ(json_array_size(json_object_get(res, "not_evaluated")), 0);
	json_decref(res);
	/* a game with one temperature per tyre: 13 and 14 are not evaluated, and say why */
	for (size_t k = 0; k < LAP_N; k++)
		fr[k].present &= ~(FRAME_P_TYRE_TEMP_INNER | FRAME_P_TYRE_TEMP_MIDDLE |
				   FRAME_P_TYRE_TEMP_OUTER);
	res = engineer(1, NULL);
	T_EQ(json_array_size(json_object_get(res, "evaluated")), R_COUNT - 2);
	ne = json_object_get(res, "not_evaluated");
	T_EQ(json_array_size(ne), 2);
	T_STREQ(str(json_array_get(ne, 0), "rule"), "tyre_pressure_spread");
	T_STREQ(str(json_array_get(ne, 1), "rule"), "tyre_camber_spread");
	T_STREQ(json_string_value(
			json_array_get(json_object_get(json_array_get(ne, 1), "missing"), 1)),
		"tyre_temp_middle_c");
	T_CHECK(strstr(str(json_array_get(ne, 0), "reason"), "one temperature per tyre") != NULL);
	json_decref(res);
}

/* ---- suspension ---- */

static void bottom(double dur)
{
	SPAN(0, 10, dur, k)
	fr[k].susp_travel_norm[0] = fr[k].susp_travel_norm[1] = 0.99f;
}

static void bottom_shy(double dur)
{
	SPAN(0, 10, dur, k)
	fr[k].susp_travel_norm[0] = 0.97f;
}

static void bottom_one(double dur)
{
	SPAN(0, 10, dur, k)
	fr[k].susp_travel_norm[0] = 0.99f;
}

/* both fronts, but at different places: two zones, not the axle at once */
static void bottom_apart(double dur)
{
	SPAN(0, 10, dur, k)
	fr[k].susp_travel_norm[0] = 0.99f;
	SPAN(0, 20, dur, k)
	fr[k].susp_travel_norm[1] = 0.99f;
}

static void test_bottoming(void)
{
	json_t *res, *r;

	T_CHECK(fires("bottoming", bottom, 0.30, "high")); /* both fronts: strong */
	T_CHECK(fires("bottoming", bottom_one, 0.30, "medium"));
	T_CHECK(fires("bottoming", bottom_apart, 0.30, "medium"));
	T_CHECK(!fires("bottoming", bottom, 0.20, NULL));    /* shorter than 0.25 s */
	T_CHECK(!fires("bottoming", bottom_shy, 2.0, NULL)); /* 0.97 < 0.98 */
	base_laps(1);
	bottom(0.30);
	res = engineer(1, NULL);
	r = rec_of(res, "bottoming");
	T_STREQ(str(r, "category"), "springs");
	T_STREQ(param(r), "ride_height_front");
	T_NEAR(change(r), 3, 0);
	T_EQ(json_integer_value(json_object_get(json_object_get(r, "evidence"), "episodes")), 1);
	T_STREQ(str(json_array_get(json_object_get(json_object_get(r, "evidence"), "episode_list"),
				   0),
		    "where"),
		"front-left+front-right");
	/* the common gate: not while the car stands (or crawls) */
	SPAN(0, 10, 0.30, k)
	fr[k].speed_kmh = 10.0f;
	json_decref(res);
	res = engineer(1, NULL);
	T_CHECK(rec_of(res, "bottoming") == NULL);
	/* nor in the pit lane */
	SPAN(0, 10, 0.30, k)
	{
		fr[k].speed_kmh = (float)(V_MS * 3.6);
		fr[k].flags |= FRAME_FLAG_IN_PIT;
	}
	json_decref(res);
	res = engineer(1, NULL);
	T_CHECK(rec_of(res, "bottoming") == NULL);
	json_decref(res);
}

static void near_bump(double share)
{
	SPAN(0, 5, share * LAP_S, k)
	fr[k].susp_travel_norm[1] = 0.93f;
}

static void test_near_bump_stop(void)
{
	T_CHECK(fires("near_bump_stop", near_bump, 0.16, "medium"));
	T_CHECK(!fires("near_bump_stop", near_bump, 0.14, NULL));
	T_CHECK(fires("near_bump_stop", near_bump, 0.31, "high"));
}

static void squat(double throttle)
{
	SPAN(0, 10, 0.3, k)
	{
		fr[k].susp_travel_norm[2] = fr[k].susp_travel_norm[3] = 0.96f;
		fr[k].throttle = (float)throttle;
		fr[k].accel_lat_g = 0.4f;
	}
}

static void test_rear_squat(void)
{
	T_CHECK(fires("rear_squat", squat, 0.6, "medium"));
	T_CHECK(!fires("rear_squat", squat, 0.4, NULL));
}

/* ---- slip ---- */

static double lock_sr = -0.30, lock_brake = 0.5;

static void lock_front(double dur)
{
	SPAN(0, 12, dur, k)
	{
		fr[k].slip_ratio[0] = (float)lock_sr;
		fr[k].brake = (float)lock_brake;
		fr[k].throttle = 0.0f;
	}
}

static void lock_rear(double dur)
{
	SPAN(0, 12, dur, k)
	{
		fr[k].slip_ratio[2] = (float)lock_sr;
		fr[k].brake = (float)lock_brake;
		fr[k].throttle = 0.0f;
	}
}

static void test_lockups(void)
{
	json_t *res, *r;

	T_CHECK(fires("front_lockup", lock_front, 0.2, "medium"));
	T_CHECK(fires("front_lockup", lock_front, 0.6, "high")); /* one long lock: strong */
	T_CHECK(!fires("front_lockup", lock_front, 0.15, NULL)); /* < 10 samples */
	T_CHECK(!fires("rear_lockup", lock_front, 0.6, NULL));
	T_CHECK(fires("rear_lockup", lock_rear, 0.2, "medium"));
	lock_sr = -0.20;
	T_CHECK(!fires("front_lockup", lock_front, 0.6, NULL));
	lock_sr = -0.30;
	lock_brake = 0.35;
	T_CHECK(!fires("front_lockup", lock_front, 0.6, NULL));
	lock_brake = 0.5;
	base_laps(1);
	lock_front(0.2);
	res = engineer(1, NULL);
	r = rec_of(res, "front_lockup");
	T_STREQ(str(r, "category"), "brakes");
	T_STREQ(param(r), "brake_bias");
	T_NEAR(change(r), -2, 0);
	T_NEAR(json_number_value(json_object_get(json_object_get(r, "evidence"), "second_value")),
	       -0.30, 1e-6);
	json_decref(res);
	base_laps(1);
	lock_rear(0.2);
	res = engineer(1, NULL);
	T_NEAR(change(rec_of(res, "rear_lockup")), 2, 0);
	json_decref(res);
}

static double spin_sr = 0.35, spin_throttle = 0.8;

static void spin(double dur)
{
	SPAN(0, 15, dur, k)
	{
		fr[k].slip_ratio[2] = fr[k].slip_ratio[3] = (float)spin_sr;
		fr[k].throttle = (float)spin_throttle;
	}
}

static void test_wheelspin(void)
{
	T_CHECK(fires("wheelspin", spin, 0.25, "medium"));
	T_CHECK(!fires("wheelspin", spin, 0.15, NULL));
	spin_sr = 0.25;
	T_CHECK(!fires("wheelspin", spin, 1.0, NULL));
	spin_sr = 0.35;
	spin_throttle = 0.6;
	T_CHECK(!fires("wheelspin", spin, 1.0, NULL));
	spin_throttle = 0.8;
}

/* A game without slip ratios: the slip from wheel speeds and a radius from coasting. */
static void derived_lock(double factor)
{
	for (size_t k = 0; k < LAP_N; k++)
		fr[k].present &= ~FRAME_P_SLIP_RATIO;
	SPAN(0, 12, 0.3, k)
	{
		fr[k].wheel_speed_rads[0] = (float)(V_MS / RADIUS_M * factor);
		fr[k].brake = 0.5f;
		fr[k].throttle = 0.0f;
	}
}

static void test_derived_slip(void)
{
	json_t *res, *ne;
	size_t i;
	json_t *o;
	bool listed = false;

	T_CHECK(fires("front_lockup", derived_lock, 0.7, "medium"));
	T_CHECK(!fires("front_lockup", derived_lock, 0.8, NULL));
	/* always at full throttle off the brakes: one radius from the two slowest wheels */
	base_laps(1);
	derived_lock(0.7);
	for (size_t k = 0; k < LAP_N; k++)
		if (fr[k].brake == 0.0f)
			fr[k].throttle = 0.95f;
	res = engineer(1, NULL);
	T_CHECK(rec_of(res, "front_lockup") != NULL);
	json_decref(res);
	/* never straight off the brakes: no radius, not evaluated, and said why */
	base_laps(1);
	derived_lock(0.7);
	for (size_t k = 0; k < LAP_N; k++)
		fr[k].accel_lat_g = 0.3f;
	res = engineer(1, NULL);
	T_CHECK(rec_of(res, "front_lockup") == NULL);
	ne = json_object_get(res, "not_evaluated");
	json_array_foreach(ne, i, o)
		if (strcmp(str(o, "rule"), "front_lockup") == 0) {
			listed = true;
			T_STREQ(json_string_value(json_array_get(json_object_get(o, "missing"), 0)),
				"slip_ratio");
			T_CHECK(strstr(str(o, "reason"), "rolling radius") != NULL);
		}
	T_CHECK(listed);
	json_decref(res);
}

/* ---- balance ---- */

static void corner(double t0, double dur, double front, double rear, double lat)
{
	SPAN(0, t0, dur, k)
	{
		fr[k].accel_lat_g = (float)lat;
		fr[k].slip_angle_rad[0] = fr[k].slip_angle_rad[1] = (float)front;
		fr[k].slip_angle_rad[2] = fr[k].slip_angle_rad[3] = (float)rear;
	}
}

static void under(double delta)
{
	corner(10, 10, 0.025 + delta, 0.025, 0.8);
}

static void over(double delta)
{
	corner(10, 10, 0.025, 0.025 + delta, -0.8);
}

static void test_balance(void)
{
	json_t *res, *r;

	T_CHECK(fires("understeer", under, 0.025, "medium"));
	T_CHECK(fires("understeer", under, 0.05, "high"));
	T_CHECK(!fires("understeer", under, 0.015, NULL));
	T_CHECK(!fires("oversteer", under, 0.05, NULL));
	T_CHECK(fires("oversteer", over, 0.025, "medium"));
	T_CHECK(!fires("oversteer", over, 0.015, NULL));
	T_CHECK(!fires("understeer", over, 0.05, NULL));
	base_laps(1);
	under(0.05);
	res = engineer(1, NULL);
	r = rec_of(res, "understeer");
	T_STREQ(str(r, "category"), "anti_roll");
	T_STREQ(param(r), "arb_front");
	T_NEAR(json_number_value(json_object_get(json_object_get(r, "evidence"), "value")), 0.05,
	       1e-4);
	T_NEAR(json_number_value(json_object_get(json_object_get(r, "evidence"), "gate_s")), 10,
	       0.05);
	json_decref(res);
	/* below the cornering gate (0.6 g) nothing is measured */
	base_laps(1);
	corner(10, 10, 0.1, 0.025, 0.5);
	res = engineer(1, NULL);
	T_CHECK(rec_of(res, "understeer") == NULL);
	json_decref(res);
}

/* No slip angles: turns to learn the yaw sign, then catches with opposite lock. */
static void catches(double steer)
{
	double yaw = 0.0;

	for (size_t k = 0; k < LAP_N; k++) {
		double t = (double)k / HZ, rate = 0.0;
		bool turn = t >= 5 && t < 15, catch = false;

		fr[k].present &= ~FRAME_P_SLIP_ANGLE;
		for (int c = 0; c < 3; c++)
			catch |= t >= 20 + 5 * c && t < 20.3 + 5 * c;
		if (turn) {
			rate = 0.3;
			fr[k].steer = 0.2f;
			fr[k].accel_lat_g = 0.8f;
		} else if (catch) {
			rate = 0.6;
			fr[k].steer = (float)steer;
			fr[k].accel_lat_g = 0.8f;
		}
		yaw += rate / HZ;
		fr[k].yaw_rad = (float)remainder(yaw, 2 * M_PI);
	}
}

static void test_counter_steer(void)
{
	T_CHECK(fires("oversteer", catches, -0.2, "medium"));
	T_CHECK(!fires("oversteer", catches, 0.2, NULL));
}

static void entry(double brake)
{
	SPAN(0, 10, 1.0, k)
	{
		fr[k].brake = (float)brake;
		fr[k].steer = 0.2f;
		fr[k].accel_lat_g = 0.5f;
		fr[k].slip_angle_rad[0] = fr[k].slip_angle_rad[1] = 0.045f;
		fr[k].slip_angle_rad[2] = fr[k].slip_angle_rad[3] = 0.015f;
	}
}

static void test_entry_understeer(void)
{
	T_CHECK(fires("entry_understeer", entry, 0.3, "medium"));
	T_CHECK(!fires("entry_understeer", entry, 0.05, NULL));
	T_CHECK(!fires("understeer", entry, 0.3, NULL)); /* 0.5 g: not mid-corner */
}

/* ---- gearing ---- */

static int gear_used = 6;

static void top_gear_at(double frac)
{
	SPAN(0, 20, 2.0, k)
	{
		fr[k].gear = (int8_t)gear_used;
		fr[k].throttle = 1.0f;
		fr[k].rpm = (float)(frac * 8000.0);
	}
}

static void test_gearing_long(void)
{
	json_t *res, *r;

	T_CHECK(fires("gearing_long", top_gear_at, 0.86, "medium"));
	T_CHECK(fires("gearing_long", top_gear_at, 0.80, "high"));
	T_CHECK(!fires("gearing_long", top_gear_at, 0.92, NULL));
	gear_used = 4; /* of 6: the top two gears never used */
	T_CHECK(fires("gearing_long", top_gear_at, 0.95, "high"));
	gear_used = 5;
	T_CHECK(!fires("gearing_long", top_gear_at, 0.95, NULL));
	gear_used = 6;
	base_laps(1);
	top_gear_at(0.80);
	res = engineer(1, NULL);
	r = rec_of(res, "gearing_long");
	T_STREQ(param(r), "final_drive");
	/* 0.97 / 0.80 = 21 % shorter, one step capped at 10 % */
	T_NEAR(change(r), 10, 0);
	json_decref(res);
}

static void limiter(double dur)
{
	SPAN(0, 20, dur, k)
	{
		fr[k].gear = (int8_t)gear_used;
		fr[k].throttle = 1.0f;
		fr[k].rpm = 7960.0f;
	}
}

static void test_gearing_short(void)
{
	T_CHECK(fires("gearing_short", limiter, 0.3, "medium"));
	T_CHECK(fires("gearing_short", limiter, 0.6, "high"));
	T_CHECK(!fires("gearing_short", limiter, 0.1, NULL));
	gear_used = 5; /* below top gear the driver can change up */
	T_CHECK(!fires("gearing_short", limiter, 0.6, NULL));
	gear_used = 6;
}

static double bog_throttle_after = 0.5;

static void bog(double frac)
{
	SPAN(0, 19.5, 1.0, k)
	{
		fr[k].speed_kmh = 54.0f;
		fr[k].gear = 1;
		fr[k].rpm = (float)(frac * 8000.0);
	}
	SPAN(0, 19.5 + bog_throttle_after, 0.5, k)
	fr[k].throttle = 1.0f;
}

static void test_exit_bog(void)
{
	T_CHECK(fires("exit_bog", bog, 0.40, "medium"));
	T_CHECK(!fires("exit_bog", bog, 0.50, NULL));
	bog_throttle_after = 2.0;
	T_CHECK(!fires("exit_bog", bog, 0.40, NULL));
	bog_throttle_after = 0.5;
}

/* ---- tyres ---- */

static double hot_c = 115.0;

static void hot(double share)
{
	SPAN(0, 2, share * LAP_S, k)
	fr[k].tyre_temp_c[0] = (float)hot_c;
}

static void axle(double split)
{
	for (size_t k = 0; k < LAP_N; k++)
		fr[k].tyre_temp_c[0] = fr[k].tyre_temp_c[1] = (float)(90.0 + split);
}

static void test_tyres(void)
{
	json_t *res, *r;

	T_CHECK(fires("tyre_overheat", hot, 0.20, "medium"));
	T_CHECK(!fires("tyre_overheat", hot, 0.10, NULL));
	hot_c = 135.0;
	T_CHECK(fires("tyre_overheat", hot, 0.20, "high"));
	hot_c = 115.0;
	base_laps(1);
	hot(0.2);
	res = engineer(1, NULL);
	r = rec_of(res, "tyre_overheat");
	T_STREQ(str(r, "category"), "tires");
	T_STREQ(param(r), "tyre_pressure_front");
	T_NEAR(change(r), 1, 0);
	json_decref(res);
	/* the axle split alone is an observation: low, no setup change */
	T_CHECK(fires("axle_temp_balance", axle, 15, "low"));
	T_CHECK(!fires("axle_temp_balance", axle, 9, NULL));
	base_laps(1);
	axle(15);
	res = engineer(1, NULL);
	r = rec_of(res, "axle_temp_balance");
	T_STREQ(str(r, "kind"), "observation");
	T_CHECK(json_is_null(json_object_get(json_object_get(r, "adjustment"), "parameter")));
	json_decref(res);
	/* with understeer agreeing it becomes a recommendation */
	base_laps(1);
	axle(25);
	under(0.05);
	res = engineer(1, NULL);
	r = rec_of(res, "axle_temp_balance");
	T_STREQ(str(r, "kind"), "recommendation");
	T_STREQ(str(r, "confidence"), "high");
	json_decref(res);
}

/* ---- 13, 14: the tread's zones ---- */

static unsigned tread_wheels = 15u;       /* the wheels a pattern is put on */
static double tread_from_s, tread_flip_s; /* from this time of the lap; the spread's sign
					   * flips every tread_flip_s (0: never) */

/* Zones with middle - mean(inner, outer) = crown and inner - outer = edge, mean 90 degC. */
static void tread(struct pw_frame *f, int w, double crown, double edge)
{
	double e = 90.0 - crown / 3.0;

	f->tyre_temp_inner_c[w] = (uint8_t)lround(e + 0.5 * edge);
	f->tyre_temp_middle_c[w] = (uint8_t)lround(e + crown);
	f->tyre_temp_outer_c[w] = (uint8_t)lround(e - 0.5 * edge);
}

static void tread_lap(double crown, double edge)
{
	SPAN(0, tread_from_s, LAP_S - tread_from_s, k)
	{
		double t = (double)(k % LAP_N) / HZ;
		double sg = tread_flip_s > 0 && (int)(t / tread_flip_s) % 2 ? 0.3 : 1.0;

		for (int w = 0; w < 4; w++)
			if ((tread_wheels >> w) & 1u)
				tread(&fr[k], w, crown * sg, edge * sg);
	}
}

static void crown_lap(double c)
{
	tread_lap(c, 4.0);
}

static void edge_lap(double d)
{
	tread_lap(0.0, d);
}

/* Both sides of threshold th, both signs: medium 1 degC past it, nothing 1 short. */
static void tread_threshold(const char *rule, void (*setup)(double), double th)
{
	for (int sg = -1; sg <= 1; sg += 2) {
		T_CHECKF(fires(rule, setup, sg * (th + 1.0), "medium"), "%s at %+.0f", rule,
			 sg * (th + 1.0));
		T_CHECKF(!fires(rule, setup, sg * (th - 1.0), NULL), "%s at %+.0f", rule,
			 sg * (th - 1.0));
	}
}

/* The recommendation of a lap set up with setup(arg): rule, category, parameter, change;
 * and the other tread rule silent. */
static void tread_rec(void (*setup)(double), double arg, const char *rule, const char *cat,
		      const char *par, double chg, const char *other)
{
	json_t *res, *r;

	base_laps(1);
	setup(arg);
	res = engineer(1, NULL);
	r = rec_of(res, rule);
	T_CHECKF(r != NULL, "%s at %+.0f", rule, arg);
	T_STREQ(str(r, "category"), cat);
	T_STREQ(str(r, "kind"), "recommendation");
	T_STREQ(param(r), par);
	T_NEAR(change(r), chg, 1e-9);
	T_CHECK(rec_of(res, other) == NULL);
	json_decref(res);
}

static void test_tread(void)
{
	json_t *res, *r;

	/* 13: centre hot on all four past +8 degC -> lower all pressures, medium (a pattern
	 * that both tyres of each axle agree on); just under it, nothing */
	tread_threshold("tyre_pressure_spread", crown_lap, 8.0);
	tread_rec(crown_lap, 9.0, "tyre_pressure_spread", "tires", "tyre_pressure", -1.0,
		  "tyre_camber_spread");
	/* shoulders hot, twice the threshold: +2 psi (the cap) */
	tread_rec(crown_lap, -17.0, "tyre_pressure_spread", "tires", "tyre_pressure", 2.0,
		  "tyre_camber_spread");
	/* 14: front inner edges 11 degC hotter -> less negative front camber; 9: nothing */
	tread_wheels = 3u;
	tread_threshold("tyre_camber_spread", edge_lap, 10.0);
	tread_rec(edge_lap, 11.0, "tyre_camber_spread", "alignment", "camber_front", 0.3,
		  "tyre_pressure_spread");
	tread_rec(edge_lap, -11.0, "tyre_camber_spread", "alignment", "camber_front", -0.3,
		  "tyre_pressure_spread");
	/* one tyre alone: an observation at low, no setup change */
	tread_wheels = 1u;
	T_CHECK(fires("tyre_camber_spread", edge_lap, 14.0, "low"));
	base_laps(1);
	edge_lap(14.0);
	res = engineer(1, NULL);
	r = rec_of(res, "tyre_camber_spread");
	T_STREQ(str(r, "kind"), "observation");
	T_CHECK(json_is_null(json_object_get(json_object_get(r, "adjustment"), "parameter")));
	json_decref(res);
	/* RaceIQ's windows: a spread that swings by more than 2 degC within 2 s is not a
	 * pattern; one that only holds in the first half of the lap is not either */
	tread_wheels = 15u;
	tread_flip_s = 0.5;
	T_CHECK(!fires("tyre_camber_spread", edge_lap, 14.0, NULL));
	tread_flip_s = 0.0;
	base_laps(1);
	tread_from_s = 0.0;
	edge_lap(14.0);
	SPAN(0, LAP_S / 2, LAP_S / 2, k) /* back to clean in the later half */
	for (int w = 0; w < 4; w++)
		tread(&fr[k], w, 0.0, 4.0);
	res = engineer(1, NULL);
	T_CHECK(rec_of(res, "tyre_camber_spread") == NULL);
	json_decref(res);
	/* a wheel the game gave no reading of (0) is skipped, not read as 0 degC */
	base_laps(1);
	SPAN(0, 0, LAP_S, k)
	{
		fr[k].tyre_temp_outer_c[0] = 0;
		fr[k].tyre_temp_outer_c[1] = 0;
	}
	res = engineer(1, NULL);
	T_CHECK(rec_of(res, "tyre_camber_spread") == NULL);
	T_CHECK(rec_of(res, "tyre_pressure_spread") == NULL);
	json_decref(res);
}

/* ---- policy ---- */

static void test_confidence_over_laps(void)
{
	json_t *res;

	base_laps(4);
	SPAN(1, 12, 0.6, k)
	{ /* strong on one lap of four */
		fr[k].slip_ratio[0] = -0.3f;
		fr[k].brake = 0.5f;
	}
	res = engineer(4, NULL);
	T_STREQ(str(rec_of(res, "front_lockup"), "confidence"), "medium");
	T_EQ(json_integer_value(json_object_get(
		     json_object_get(rec_of(res, "front_lockup"), "evidence"), "laps_with")),
	     1);
	T_EQ(json_integer_value(json_object_get(rec_of(res, "front_lockup"), "lap_number")), 2);
	json_decref(res);
	SPAN(3, 12, 0.6, k)
	{ /* strong on two of four: high */
		fr[k].slip_ratio[0] = -0.3f;
		fr[k].brake = 0.5f;
	}
	res = engineer(4, NULL);
	T_STREQ(str(rec_of(res, "front_lockup"), "confidence"), "high");
	json_decref(res);
	base_laps(4);
	SPAN(2, 12, 0.2, k)
	{ /* one short lock on one lap of four: low */
		fr[k].slip_ratio[0] = -0.3f;
		fr[k].brake = 0.5f;
	}
	res = engineer(4, NULL);
	T_STREQ(str(rec_of(res, "front_lockup"), "confidence"), "low");
	json_decref(res);
}

static void test_live(void)
{
	struct eng_opts live = { .live = true };
	json_t *res, *recs, *r;
	size_t i;

	base_laps(1);
	lock_front(0.6);
	spin(0.6);
	under(0.05);
	axle(15);
	hot_c = 135.0;
	hot(0.3);
	hot_c = 115.0;
	res = engineer(1, &live);
	recs = json_object_get(res, "recommendations");
	T_EQ(json_array_size(recs), ENG_MAX_LIVE);
	json_array_foreach(recs, i, r)
		T_CHECK(strcmp(str(r, "confidence"), "low") != 0);
	json_decref(res);
	res = engineer(1, NULL); /* the session report keeps them all */
	T_EQ(json_array_size(json_object_get(res, "recommendations")), 5);
	T_STREQ(str(rec_of(res, "axle_temp_balance"), "kind"), "recommendation");
	json_decref(res);
	live.suppress = (1u << ENG_BRAKES) | (1u << ENG_ANTI_ROLL) | (1u << ENG_DIFFERENTIAL);
	res = engineer(1, &live);
	recs = json_object_get(res, "recommendations");
	T_GE(json_array_size(recs), 1);
	json_array_foreach(recs, i, r)
		T_STREQ(str(r, "category"), "tires");
	json_decref(res);
}

static void test_one_per_parameter(void)
{
	json_t *res;

	/* front lock-up and entry understeer both move the brake bias: one finding */
	base_laps(1);
	lock_front(0.6);
	entry(0.3);
	res = engineer(1, NULL);
	T_CHECK(rec_of(res, "front_lockup") != NULL);
	T_CHECK(rec_of(res, "entry_understeer") == NULL);
	json_decref(res);
}

static void test_caps(void)
{
	T_NEAR(rule_cap(CAP_SPRING_PCT, 20), 15, 0);
	T_NEAR(rule_cap(CAP_SPRING_PCT, -20), -15, 0);
	T_NEAR(rule_cap(CAP_SPRING_PCT, 5), 5, 0);
	T_NEAR(rule_cap(CAP_DAMPING_CLICKS, 3), 2, 0);
	T_NEAR(rule_cap(CAP_PRESSURE_PSI, -2.5), -2, 0);
	T_NEAR(rule_cap(CAP_BIAS_PCT, 2.5), 2, 0);
	T_NEAR(rule_cap(CAP_BIAS_PCT, -1), -1, 0);
	T_NEAR(rule_cap(CAP_NONE, 30), 30, 0);
}

static void test_not_evaluated(void)
{
	json_t *res, *o;
	size_t i;
	int seen = 0;

	base_laps(1);
	for (size_t k = 0; k < LAP_N; k++)
		fr[k].present &= ~(FRAME_P_SUSP_NORM | FRAME_P_MAX_RPM | FRAME_P_TYRE_TEMP);
	res = engineer(1, NULL);
	json_array_foreach(json_object_get(res, "not_evaluated"), i, o) {
		const char *m = json_string_value(json_array_get(json_object_get(o, "missing"), 0));

		if (strcmp(str(o, "rule"), "bottoming") == 0 ||
		    strcmp(str(o, "rule"), "rear_squat") == 0)
			seen += strcmp(m, "susp_travel_norm") == 0;
		if (strncmp(str(o, "rule"), "gearing_", 8) == 0)
			seen += strcmp(m, "max_rpm") == 0;
		if (strcmp(str(o, "rule"), "tyre_overheat") == 0)
			seen += strcmp(m, "tyre_temp_c") == 0;
	}
	T_EQ(seen, 5);
	T_EQ(json_array_size(json_object_get(res, "evaluated")), R_COUNT - 8);
	json_decref(res);
}

static void test_bad_input(void)
{
	struct an_run run = { "run", "ksudp", "", fr, 10 };
	struct an_input in = { .session_id = "s", .runs = &run, .nruns = 1 };
	struct eng_lap lap = { 0, 5, 10, 1 };
	struct an_err err = { 0 };
	json_t *res;

	T_CHECK(an_engineer(&in, &lap, 1, NULL, &err) == NULL);
	T_STREQ(err.code, AN_E_BAD_INPUT);
	lap.run = 1;
	lap.last = 9;
	T_CHECK(an_engineer(&in, &lap, 1, NULL, &err) == NULL);
	T_CHECK(an_engineer(NULL, &lap, 1, NULL, &err) == NULL);
	res = an_engineer(&in, NULL, 0, NULL, &err); /* no laps: an empty report */
	T_EQ(json_array_size(json_object_get(res, "recommendations")), 0);
	T_EQ(json_integer_value(json_object_get(res, "laps_analyzed")), 0);
	json_decref(res);
	T_STREQ(eng_category_name(ENG_ANTI_ROLL), "anti_roll");
	T_EQ(eng_category_parse("differential"), ENG_DIFFERENTIAL);
	T_EQ(eng_category_parse("suspension"), -1);
	T_EQ(eng_confidence_parse("medium"), ENG_MEDIUM);
	T_CHECK(eng_confidence_name(3) == NULL);
}

/* ---- the emulator's faults ---- */

static struct pw_frame *sim_laps(enum car_fault fault, int laps, size_t *n, struct eng_lap *out,
				 size_t *nlaps)
{
	struct track *t = track_new();
	struct car_spec car;
	struct driver *d;
	size_t cap = 1 << 16, first = 0;
	struct pw_frame *f = malloc(cap * sizeof *f);

	car_with_fault(car_default(), fault, &car);
	d = driver_new(DRIVER_LAPS, 11, &car, t);
	*n = *nlaps = 0;
	for (int64_t k = 0; d && f; k++) {
		driver_run_to(d, (int64_t)llround((double)k * 1000.0 / HZ));
		if (driver_laps(d) >= laps)
			break;
		if (*n == cap) {
			struct pw_frame *p = realloc(f, 2 * cap * sizeof *f);

			if (!p)
				break;
			f = p;
			cap *= 2;
		}
		driver_frame(d, &f[*n]);
		f[*n].seq = (uint64_t)k + 1;
		f[*n].t_ns = driver_step(d) * 1000000ll;
		if (*n > 0 && f[*n].lap != f[*n - 1].lap) {
			out[(*nlaps)++] = (struct eng_lap){ 0, first, *n - 1, f[first].lap + 1u };
			first = *n;
		}
		(*n)++;
	}
	if (*n > first)
		out[(*nlaps)++] = (struct eng_lap){ 0, first, *n - 1, f[first].lap + 1u };
	driver_free(d);
	track_free(t);
	return f;
}

static void test_emulator_faults(void)
{
	for (int fault = 0; fault < CAR_FAULT_COUNT; fault++) {
		const struct car_fault_info *fi = car_fault_info((enum car_fault)fault);
		struct eng_lap laps[8];
		size_t n, nl, i;
		struct pw_frame *f = sim_laps((enum car_fault)fault, 3, &n, laps, &nl);
		struct an_run run = { "run", "ksudp", "", f, n };
		struct an_input in = { .session_id = "s", .runs = &run, .nruns = 1 };
		struct an_err err;
		json_t *res = an_engineer(&in, laps, nl, NULL, &err), *r;
		bool right = false;

		T_CHECKF(res != NULL, "%s", fi->name);
		json_array_foreach(json_object_get(res, "recommendations"), i, r) {
			const char *c = str(r, "confidence");

			if (fault == CAR_FAULT_NONE) {
				T_CHECKF(strcmp(c, "high") != 0, "clean car: %s at high",
					 str(r, "rule"));
				continue;
			}
			for (int p = 0; p < 3 && fi->parameters[p]; p++)
				right |= strcmp(str(r, "category"), fi->category) == 0 &&
					 strcmp(param(r), fi->parameters[p]) == 0 &&
					 (strcmp(c, "high") == 0 || strcmp(c, "medium") == 0);
		}
		T_CHECKF(fault == CAR_FAULT_NONE || right, "%s: no %s recommendation on %s",
			 fi->name, fi->category, fi->parameters[0]);
		for (unsigned th = 1; th <= 2; th++) { /* the laps on one thread or two */
			struct eng_opts o = { .threads = th };
			json_t *again = an_engineer(&in, laps, nl, &o, &err);

			T_CHECKF(again && json_equal(again, res),
				 "%s: another result on %u threads", fi->name, th);
			json_decref(again);
		}
		if (fault == CAR_FAULT_FRONT_LOCKUP || fault == CAR_FAULT_REAR_LOCKUP ||
		    fault == CAR_FAULT_WHEELSPIN) {
			/* as Forza and PCARS send it: wheel speeds, no slip ratio */
			const char *want = fault == CAR_FAULT_WHEELSPIN      ? "wheelspin"
					   : fault == CAR_FAULT_FRONT_LOCKUP ? "front_lockup"
									     : "rear_lockup";
			json_t *fz;

			for (size_t k = 0; k < n; k++)
				f[k].present &= ~(FRAME_P_SLIP_RATIO | FRAME_P_SLIP_ANGLE);
			fz = an_engineer(&in, laps, nl, NULL, &err);
			T_CHECKF(rec_of(fz, want) != NULL, "%s: not found from the wheel speeds",
				 fi->name);
			json_decref(fz);
		}
		printf("  %-13s ->", fi->name);
		json_array_foreach(json_object_get(res, "recommendations"), i, r)
			printf(" %s:%s(%s)", str(r, "rule"), param(r), str(r, "confidence"));
		printf("\n");
		json_decref(res);
		free(f);
	}
}

/* ---- real captures: every finding's evidence, recomputed from the frames ---- */

static double t_of(const struct pw_frame *f, const struct pw_frame *f0)
{
	return (f->present & FRAME_P_GAME_TIME) ? f->game_time_s - f0->game_time_s
						: (double)(f->t_ns - f0->t_ns) * 1e-9;
}

/* Every frame of an episode's window holds the rule's condition on one of its wheels (but
 * for gaps of at most 0.1 s), and the window is at least the rule's length. */
static void check_episode(const char *rule, const struct pw_frame *f, size_t first, size_t last,
			  const json_t *ep)
{
	double t0 = json_number_value(json_object_get(ep, "t_s"));
	double dur = json_number_value(json_object_get(ep, "duration_s")), gap = 0.0, held = 0.0;
	const char *where = str(ep, "where");
	double min_s = strcmp(rule, "wheelspin") == 0 ? 0.2 : 10.0 / 60.0;

	T_GE(dur, min_s - 1e-6);
	for (size_t k = first; k <= last; k++) {
		double t = t_of(&f[k], &f[first]);
		bool ok = false;

		if (t < t0 - 1e-3 || t > t0 + dur + 1e-3)
			continue;
		for (int w = 0; w < 4; w++) {
			static const char *const names[] = { "front-left", "front-right",
							     "rear-left", "rear-right" };
			if (!strstr(where, names[w]))
				continue;
			ok |= strcmp(rule, "wheelspin") == 0
				      ? f[k].slip_ratio[w] >= 0.30 && f[k].throttle >= 0.7
				      : f[k].slip_ratio[w] <= -0.25 && f[k].brake >= 0.4;
		}
		if (ok) {
			held += gap + 1.0 / 333.0;
			gap = 0;
		} else {
			gap += 1.0 / 333.0;
			T_CHECKF(gap <= 0.1 + 1e-3, "%s at %.2f s: the condition is off for %.3f s",
				 rule, t, gap);
		}
	}
	T_GT(held, 0.0);
}

static void check_evidence(const json_t *rec, const struct pw_frame *f, size_t first, size_t last)
{
	const char *rule = str(rec, "rule");
	const json_t *ev = json_object_get(rec, "evidence"), *ep;
	double sum = 0.0, n = 0.0;
	size_t i;

	if (strstr(rule, "lockup") || strcmp(rule, "wheelspin") == 0) {
		json_array_foreach(json_object_get(ev, "episode_list"), i, ep)
			check_episode(rule, f, first, last, ep);
		T_GT(json_array_size(json_object_get(ev, "episode_list")), 0);
	} else if (strcmp(rule, "understeer") == 0 || strcmp(rule, "oversteer") == 0) {
		double dt_last = 1.0 / 60.0;

		for (size_t k = first; k <= last; k++) {
			double dt = k > first ? t_of(&f[k], &f[k - 1]) : 0.0;

			/* a frame's share of time: its step, the last good one when the clock
			 * stood still or jumped (engineer.c) */
			if (dt > 0 && dt <= 0.5)
				dt_last = dt;
			dt = dt_last;
			if (!(f[k].present & FRAME_P_SLIP_ANGLE) || fabs(f[k].accel_lat_g) < 0.6 ||
			    f[k].speed_kmh < 43.2 || (f[k].flags & FRAME_FLAG_IN_PIT))
				continue;
			sum += dt *
			       ((fabs(f[k].slip_angle_rad[0]) + fabs(f[k].slip_angle_rad[1])) / 2 -
				(fabs(f[k].slip_angle_rad[2]) + fabs(f[k].slip_angle_rad[3])) / 2);
			n += dt;
		}
		T_GT(n, 40.0 / 60.0);
		T_NEAR(sum / n, json_number_value(json_object_get(ev, "value")), 2e-3);
		T_GE(fabs(sum / n), 0.020);
	} else if (strcmp(rule, "gearing_long") == 0) {
		int h = (int)json_number_value(json_object_get(ev, "second_value"));
		double top = 0.0, held = 0.0;

		for (size_t k = first; k <= last; k++)
			if (f[k].gear == h && f[k].throttle >= 0.9 && f[k].speed_kmh >= 18 &&
			    f[k].max_rpm > 0)
				top = fmax(top, f[k].rpm / f[k].max_rpm), held += 1.0 / HZ;
		T_NEAR(top, json_number_value(json_object_get(ev, "value")), 1e-3);
		T_LT(top, 0.90);
		T_GE(held, 0.5);
	} else {
		T_CHECKF(0, "the test cannot check the evidence of rule %s: add it here", rule);
	}
}

static void test_real_ac_monza(void)
{
	static struct dec_state st;
	struct pcap_reader *pr;
	struct pcap_pkt p;
	struct pw_frame *f = calloc(9000, sizeof *f);
	struct eng_lap *laps = NULL;
	size_t n = 0, nl = 0, i;
	struct an_err err;
	struct an_run run;
	struct an_input in;
	json_t *gen, *res, *r;

	T_CHECK(f &&
		pcap_open(&pr, t_data_path("ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap")) ==
			0);
	if (!f)
		return;
	dec_reset(&st);
	while (n < 9000 && pcap_next(pr, &p) == 1)
		if (dec_ksudp.decode(&st, p.data, p.len, &f[n]) == DEC_FRAME) {
			f[n].seq = n + 1;
			f[n].t_ns = p.t_ns;
			n++;
		}
	pcap_close(pr);
	run = (struct an_run){ "monza", "ksudp", "", f, n };
	in = (struct an_input){
		.session_id = "s", .use_case = "general", .runs = &run, .nruns = 1
	};
	gen = an_general_laps(&in, &laps, &nl, &err);
	T_CHECK(gen && nl == 1);
	res = nl ? an_engineer(&in, laps, nl, NULL, &err) : NULL;
	T_CHECK(res != NULL);
	printf("  AC Monza, one out lap of %zu frames:",
	       laps ? laps[0].last - laps[0].first + 1 : 0);
	json_array_foreach(json_object_get(res, "recommendations"), i, r) {
		printf(" %s(%s)", str(r, "rule"), str(r, "confidence"));
		check_evidence(r, f, laps[0].first, laps[0].last);
	}
	printf("\n");
	/* AC sends no normalised travel, no max rpm, no tyre temperatures */
	T_EQ(json_array_size(json_object_get(res, "evaluated")), 6);
	json_decref(res);
	json_decref(gen);
	free(laps);
	free(f);
}

static void test_real_pcars_spa(void)
{
	static struct dec_state st;
	size_t len = 0, at_b = 0, k, n = 0, i;
	unsigned char *raw =
		t_read_file(t_data_path("pcars1/vthinsel_pcars_v1_session2.raw"), &len);
	struct pw_frame *f = calloc(4000, sizeof *f);
	struct rawsplit rs;
	struct an_err err;
	struct an_run run;
	struct an_input in;
	struct eng_lap lap;
	json_t *res, *r;

	T_CHECK(raw && f && rawsplit_init(&rs, "pcars", len) == 0);
	if (!raw || !f) {
		free(raw);
		free(f);
		return;
	}
	dec_reset(&st);
	while (at_b < len && n < 4000 && (k = rawsplit_next(&rs, raw + at_b, len - at_b))) {
		if (dec_pcars.decode(&st, raw + at_b, k, &f[n]) == DEC_FRAME) {
			f[n].seq = n + 1;
			n++;
		}
		at_b += k;
	}
	/* a raw capture has no receive times and PCARS1 no game clock: 60 Hz is assumed */
	run = (struct an_run){ "spa", "pcars", "", f, n };
	in = (struct an_input){
		.session_id = "s", .use_case = "general", .runs = &run, .nruns = 1
	};
	lap = (struct eng_lap){ 0, 0, n - 1, 1 };
	res = an_engineer(&in, &lap, 1, NULL, &err);
	T_CHECK(res != NULL);
	printf("  PCARS1 Spa, %zu frames as one partial lap:", n);
	json_array_foreach(json_object_get(res, "recommendations"), i, r) {
		printf(" %s(%s)", str(r, "rule"), str(r, "confidence"));
		check_evidence(r, f, 0, n - 1);
	}
	printf("\n");
	json_decref(res);
	free(raw);
	free(f);
}

int main(void)
{
	T_RUN(test_quiet_lap);
	T_RUN(test_bottoming);
	T_RUN(test_near_bump_stop);
	T_RUN(test_rear_squat);
	T_RUN(test_lockups);
	T_RUN(test_wheelspin);
	T_RUN(test_derived_slip);
	T_RUN(test_balance);
	T_RUN(test_counter_steer);
	T_RUN(test_entry_understeer);
	T_RUN(test_gearing_long);
	T_RUN(test_gearing_short);
	T_RUN(test_exit_bog);
	T_RUN(test_tyres);
	T_RUN(test_tread);
	T_RUN(test_confidence_over_laps);
	T_RUN(test_live);
	T_RUN(test_one_per_parameter);
	T_RUN(test_caps);
	T_RUN(test_not_evaluated);
	T_RUN(test_bad_input);
	T_RUN(test_emulator_faults);
	T_RUN(test_real_ac_monza);
	T_RUN(test_real_pcars_spa);
	return T_DONE();
}
