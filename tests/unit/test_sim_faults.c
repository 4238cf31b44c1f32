/*
 * test_sim_faults.c - pw-sim's setup faults (capture/sim/car.h, pw-sim
 * --fault): each fault shows its symptom in the frames, only on the axle it
 * concerns, and nowhere in the clean car; the clean car with fault "none" is
 * byte for byte the car of car_default(); the ground truth names the fault.
 *
 * Symptoms are measured on the second lap at 60 Hz with the thresholds the
 * race engineer reads them with (REFERENCE-ux §5), so a fault that stopped
 * showing would be found here before in the recommendations.
 */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "capture/sim/car.h"
#include "capture/sim/driver.h"
#include "capture/sim/track.h"
#include "capture/sim/truth.h"
#include "tests/unit/t.h"

#define RATE_HZ 60.0

struct symptoms {
	double max_norm[4], lock_s[4], spin_s[4], crit_tyre_s[4];
	double delta_sum, delta_s; /* front - rear slip angle in corners */
	double limiter_s;          /* full throttle in top gear on the limiter */
	int top_gear;
	double lap_s;
	double crown_sum[4], edge_sum[4]; /* tread: middle - mean(edges), inner - outer, x dt */
	double zone_err;                  /* the largest |mean of the zones - tyre_temp_c| */
};

static int lap_of(struct driver *d, const struct car_spec *car, struct symptoms *s)
{
	struct pw_frame f;
	double dt = 1.0 / RATE_HZ;

	memset(s, 0, sizeof *s);
	for (int64_t k = 0; driver_laps(d) < 2; k++) {
		driver_run_to(d, (int64_t)llround(k * 1000.0 / RATE_HZ));
		if (driver_laps(d) != 1)
			continue;
		driver_frame(d, &f);
		s->lap_s += dt;
		for (int w = 0; w < 4; w++) {
			s->max_norm[w] = fmax(s->max_norm[w], f.susp_travel_norm[w]);
			s->lock_s[w] += (f.brake >= 0.4 && f.slip_ratio[w] <= -0.25) * dt;
			s->spin_s[w] += (f.throttle >= 0.7 && f.slip_ratio[w] >= 0.30) * dt;
			s->crit_tyre_s[w] += (f.tyre_temp_c[w] > 130.0) * dt;
			s->crown_sum[w] +=
				(f.tyre_temp_middle_c[w] -
				 0.5 * (f.tyre_temp_inner_c[w] + f.tyre_temp_outer_c[w])) *
				dt;
			s->edge_sum[w] += (f.tyre_temp_inner_c[w] - f.tyre_temp_outer_c[w]) * dt;
			s->zone_err = fmax(s->zone_err,
					   fabs((f.tyre_temp_inner_c[w] + f.tyre_temp_middle_c[w] +
						 f.tyre_temp_outer_c[w]) /
							3.0 -
						f.tyre_temp_c[w]));
		}
		if (fabs(f.accel_lat_g) >= 0.6 && f.speed_kmh >= 43.2) {
			s->delta_sum += (fabs(f.slip_angle_rad[0]) + fabs(f.slip_angle_rad[1]) -
					 fabs(f.slip_angle_rad[2]) - fabs(f.slip_angle_rad[3])) /
					2 * dt;
			s->delta_s += dt;
		}
		if (f.gear > s->top_gear)
			s->top_gear = f.gear;
		if (f.gear == car->num_gears && f.throttle >= 0.9 && f.rpm >= f.max_rpm - 50)
			s->limiter_s += dt;
	}
	return 0;
}

static void drive_fault(enum car_fault fault, struct car_spec *car, struct symptoms *s)
{
	struct track *t = track_new();
	struct driver *d;

	car_with_fault(car_default(), fault, car);
	d = driver_new(DRIVER_LAPS, 5, car, t);
	T_CHECK(d != NULL);
	if (d)
		lap_of(d, car, s);
	driver_free(d);
	track_free(t);
}

static double mean_delta(const struct symptoms *s)
{
	return s->delta_s > 0 ? s->delta_sum / s->delta_s : 0.0;
}

static void test_names(void)
{
	T_EQ(car_fault_parse("none"), CAR_FAULT_NONE);
	T_EQ(car_fault_parse("front_lockup"), CAR_FAULT_FRONT_LOCKUP);
	T_EQ(car_fault_parse("hot_tyres"), CAR_FAULT_HOT_TYRES);
	T_EQ(car_fault_parse("Hot_Tyres"), -1);
	T_EQ(car_fault_parse(""), -1);
	T_CHECK(car_fault_info(CAR_FAULT_COUNT) == NULL);
	for (int i = 0; i < CAR_FAULT_COUNT; i++) {
		const struct car_fault_info *fi = car_fault_info((enum car_fault)i);

		T_EQ(car_fault_parse(fi->name), i);
		T_CHECK(i == CAR_FAULT_NONE ? fi->category == NULL
					    : fi->category && fi->parameters[0] && fi->description);
	}
}

/* The clean car through car_with_fault is the default car, frame for frame. */
static void test_clean_unchanged(void)
{
	struct track *t = track_new();
	struct car_spec clean;
	struct driver *a, *b;
	int differ = 0;

	car_with_fault(car_default(), CAR_FAULT_NONE, &clean);
	a = driver_new(DRIVER_LAPS, 9, car_default(), t);
	b = driver_new(DRIVER_LAPS, 9, &clean, t);
	for (int64_t k = 0; a && b && k < 6000; k++) {
		struct pw_frame fa, fb;

		driver_run_to(a, k * 17);
		driver_run_to(b, k * 17);
		driver_frame(a, &fa);
		driver_frame(b, &fb);
		differ += memcmp(&fa, &fb, sizeof fa) != 0;
	}
	T_EQ(differ, 0);
	driver_free(a);
	driver_free(b);
	track_free(t);
}

static void test_clean_has_no_symptom(void)
{
	struct car_spec car;
	struct symptoms s;

	drive_fault(CAR_FAULT_NONE, &car, &s);
	for (int w = 0; w < 4; w++) {
		T_LT(s.max_norm[w], 0.92);
		T_EQ(s.lock_s[w], 0.0);
		T_EQ(s.spin_s[w], 0.0);
		T_EQ(s.crit_tyre_s[w], 0.0);
	}
	T_LT(fabs(mean_delta(&s)), 0.020);
	T_EQ(s.limiter_s, 0.0);
	T_EQ(s.top_gear, car.num_gears);
}

static void test_bottoming(void)
{
	struct car_spec car;
	struct symptoms s;

	drive_fault(CAR_FAULT_BOTTOMING, &car, &s);
	T_NEAR(s.max_norm[0], 1.0, 1e-9);
	T_NEAR(s.max_norm[1], 1.0, 1e-9);
	T_LT(s.max_norm[2], 0.92);
	T_LT(s.max_norm[3], 0.92);
}

static void test_lockups_and_spin(void)
{
	struct car_spec car;
	struct symptoms s;

	drive_fault(CAR_FAULT_FRONT_LOCKUP, &car, &s);
	T_GT(s.lock_s[0], 1.0);
	T_GT(s.lock_s[1], 1.0);
	T_EQ(s.lock_s[2] + s.lock_s[3], 0.0);
	drive_fault(CAR_FAULT_REAR_LOCKUP, &car, &s);
	T_EQ(s.lock_s[0] + s.lock_s[1], 0.0);
	T_GT(s.lock_s[2], 1.0);
	T_GT(s.lock_s[3], 1.0);
	drive_fault(CAR_FAULT_WHEELSPIN, &car, &s);
	T_EQ(s.spin_s[0] + s.spin_s[1], 0.0); /* rear-wheel drive */
	T_GT(s.spin_s[2], 1.0);
	T_GT(s.spin_s[3], 1.0);
	for (int w = 0; w < 4; w++)
		T_EQ(s.lock_s[w], 0.0);
}

static void test_balance(void)
{
	struct car_spec car;
	struct symptoms s;

	drive_fault(CAR_FAULT_UNDERSTEER, &car, &s);
	T_GT(mean_delta(&s), 0.045);
	T_GT(car.understeer_rad_per_g, car_default()->understeer_rad_per_g);
	drive_fault(CAR_FAULT_OVERSTEER, &car, &s);
	T_LT(mean_delta(&s), -0.045);
	T_LT(car.understeer_rad_per_g, car_default()->understeer_rad_per_g);
}

static void test_gearing_and_tyres(void)
{
	struct car_spec car;
	struct symptoms s;

	drive_fault(CAR_FAULT_LONG_GEARING, &car, &s);
	T_LT(car.final_drive, car_default()->final_drive);
	T_LE(s.top_gear, car.num_gears - 1); /* the top gears are out of reach */
	drive_fault(CAR_FAULT_SHORT_GEARING, &car, &s);
	T_GT(car.final_drive, car_default()->final_drive);
	T_GT(s.limiter_s, 0.5);
	drive_fault(CAR_FAULT_HOT_TYRES, &car, &s);
	for (int w = 0; w < 4; w++)
		T_GT(s.crit_tyre_s[w], 10.0);
}

/* The tread's zones (car.h): they average to the tyre's temperature (within the whole
 * degrees they are sent in); the clean car stays inside rules 13 and 14's thresholds,
 * over_inflated and too_much_camber go past them as the model says. */
static void test_tread(void)
{
	struct car_spec car;
	struct symptoms s;

	drive_fault(CAR_FAULT_NONE, &car, &s);
	T_LE(s.zone_err, 1.0);
	for (int w = 0; w < 4; w++) {
		T_NEAR(s.crown_sum[w] / s.lap_s, 0.0, 0.6);
		T_NEAR(s.edge_sum[w] / s.lap_s, w < 2 ? 7.5 : 6.0, 0.6);
	}
	drive_fault(CAR_FAULT_OVER_INFLATED, &car, &s);
	for (int w = 0; w < 4; w++)
		T_NEAR(s.crown_sum[w] / s.lap_s, 14.0, 0.6);
	drive_fault(CAR_FAULT_TOO_MUCH_CAMBER, &car, &s);
	T_EQ(car.camber_front_deg, -5.0);
	for (int w = 0; w < 4; w++)
		T_NEAR(s.edge_sum[w] / s.lap_s, w < 2 ? 15.0 : 6.0, 0.6);
	drive_fault(CAR_FAULT_HOT_TYRES, &car, &s); /* under-inflated: the shoulders */
	for (int w = 0; w < 4; w++)
		T_LT(s.crown_sum[w] / s.lap_s, -8.0);
}

static void test_truth_names_the_fault(void)
{
	struct track *t = track_new();
	struct truth_run run = { .mode = "laps",
				 .feed = "forza",
				 .format = "fm7",
				 .seed = 1,
				 .rate_hz = 60,
				 .course_name = "pitwall_ring",
				 .course_length_m = 1,
				 .reference_lap_ms = 1 };
	struct car_spec car;
	json_t *j, *f;
	char *s;

	car_with_fault(car_default(), CAR_FAULT_FRONT_LOCKUP, &car);
	s = truth_json(&car, t, &run);
	j = s ? json_loads(s, 0, NULL) : NULL;
	f = json_object_get(j, "fault");
	T_CHECK(json_is_object(f));
	T_STREQ(json_string_value(json_object_get(f, "name")), "front_lockup");
	T_STREQ(json_string_value(json_object_get(f, "category")), "brakes");
	T_STREQ(json_string_value(json_array_get(json_object_get(f, "parameters"), 0)),
		"brake_bias");
	json_decref(j);
	free(s);
	s = truth_json(car_default(), t, &run);
	j = s ? json_loads(s, 0, NULL) : NULL;
	T_CHECK(json_is_null(json_object_get(j, "fault")));
	T_NEAR(json_number_value(json_object_get(json_object_get(j, "car"), "susp_travel_max_m")),
	       CAR_SUSP_TRAVEL_M, 0);
	json_decref(j);
	free(s);
	track_free(t);
}

int main(void)
{
	T_RUN(test_names);
	T_RUN(test_clean_unchanged);
	T_RUN(test_clean_has_no_symptom);
	T_RUN(test_bottoming);
	T_RUN(test_lockups_and_spin);
	T_RUN(test_balance);
	T_RUN(test_gearing_and_tyres);
	T_RUN(test_tread);
	T_RUN(test_truth_names_the_fault);
	return T_DONE();
}
