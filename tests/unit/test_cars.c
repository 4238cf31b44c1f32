/*
 * test_cars.c - a car's profile over its shift_points
 * analyses (the seed's Car Characteristics detail and list entry).
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analysis.h"
#include "capture/sim/driver.h"
#include "store/cars.h"
#include "t.h"

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *o = json_loads(text, 0, &e);

	if (!o)
		fprintf(stderr, "  bad fixture: %s\n", e.text);
	return o;
}

static const json_t *gear_of(const json_t *detail, int g)
{
	const json_t *gears = json_object_get(detail, "gears"), *e;
	size_t i;

	json_array_foreach(gears, i, e)
		if (json_integer_value(json_object_get(e, "gear")) == g)
			return e;
	return NULL;
}

static double num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void check_gear(const json_t *d, int g, double r0, double r1, double v0, double v1)
{
	const json_t *e = gear_of(d, g);

	T_CHECKF(e != NULL, "gear %d missing", g);
	if (!e)
		return;
	T_CHECK(json_is_integer(json_object_get(e, "min_rpm")));
	T_CHECK(json_is_integer(json_object_get(e, "max_rpm")));
	T_NEAR(num(e, "min_rpm"), r0, 0.0);
	T_NEAR(num(e, "max_rpm"), r1, 0.0);
	T_NEAR(num(e, "min_speed_kmh"), v0, 1e-9);
	T_NEAR(num(e, "max_speed_kmh"), v1, 1e-9);
	T_CHECK(json_object_size(e) == 5);
}

/* Three sessions of one car, in the shape an_shift_points writes. */
static const char *const three[] = {
	"{\"gears\":[{\"gear\":1,\"min_rpm\":3000,\"max_rpm\":7900,\"min_speed_kmh\":20.0,"
	"\"max_speed_kmh\":90.5,\"samples\":100,\"optimal_upshift_rpm\":7900.0},"
	"{\"gear\":2,\"min_rpm\":4100,\"max_rpm\":7800,\"min_speed_kmh\":60.0,"
	"\"max_speed_kmh\":125.0}],\"recommended_shift_rpm\":7600.0,\"runs_analyzed\":2}",
	"{\"gears\":[{\"gear\":2,\"min_rpm\":3900,\"max_rpm\":8100,\"min_speed_kmh\":62.5,"
	"\"max_speed_kmh\":130.2},{\"gear\":3,\"min_rpm\":5000,\"max_rpm\":8000,"
	"\"min_speed_kmh\":100.0,\"max_speed_kmh\":165.0}],\"recommended_shift_rpm\":7700}",
	"{\"gears\":[{\"gear\":1,\"min_rpm\":2500.4,\"max_rpm\":7700,\"min_speed_kmh\":15.04,"
	"\"max_speed_kmh\":88.0},{\"gear\":3,\"min_rpm\":5200,\"max_rpm\":8200.6,"
	"\"min_speed_kmh\":98.96,\"max_speed_kmh\":170.0}],\"recommended_shift_rpm\":7735.0}",
};

static void test_three_sessions(void)
{
	json_t *a[3], *d, *sum;

	for (int i = 0; i < 3; i++)
		a[i] = parse(three[i]);
	d = cars_characteristics("Ferrari 488 GT3", a, 3);
	T_CHECK(d != NULL);
	if (d) {
		T_CHECK(strcmp(str(d, "car_name"), "Ferrari 488 GT3") == 0);
		T_CHECK(json_integer_value(json_object_get(d, "session_count")) == 3);
		T_CHECK(json_array_size(json_object_get(d, "gears")) == 3);
		check_gear(d, 1, 2500, 7900, 15.0, 90.5);
		check_gear(d, 2, 3900, 8100, 60.0, 130.2);
		check_gear(d, 3, 5000, 8201, 99.0, 170.0);
		/* (7600 + 7700 + 7735) / 3 = 7678.3 -> 7680 */
		T_NEAR(num(d, "recommended_shift_rpm"), 7680.0, 0.0);
		T_CHECK(json_is_real(json_object_get(d, "recommended_shift_rpm")));
		T_CHECK(num(json_array_get(json_object_get(d, "gears"), 0), "gear") == 1);
		T_CHECK(json_object_size(d) == 4);
	}
	sum = cars_characteristics_summary(d);
	T_CHECK(sum != NULL);
	if (sum) {
		T_CHECK(json_object_size(sum) == 3);
		T_CHECK(strcmp(str(sum, "car_name"), "Ferrari 488 GT3") == 0);
		T_CHECK(json_integer_value(json_object_get(sum, "session_count")) == 3);
		T_NEAR(num(sum, "recommended_shift_rpm"), 7680.0, 0.0);
	}
	json_decref(sum);
	json_decref(d);
	for (int i = 0; i < 3; i++)
		json_decref(a[i]);
}

static void test_malformed_skipped(void)
{
	static const char *const bad[] = {
		"[1,2,3]",
		"{\"status\":\"pending\"}",
		"{\"ok\":false,\"error\":{\"code\":\"no_data\"}}",
		"{\"gears\":\"none\",\"recommended_shift_rpm\":\"7000\"}",
		"{\"gears\":[{\"gear\":0,\"min_rpm\":1,\"max_rpm\":2,\"min_speed_kmh\":1,"
		"\"max_speed_kmh\":2},{\"gear\":2,\"min_rpm\":3000},{\"gear\":\"3\",\"min_rpm\":1,"
		"\"max_rpm\":2,\"min_speed_kmh\":1,\"max_speed_kmh\":2},"
		"{\"gear\":4,\"min_rpm\":9000,\"max_rpm\":2000,\"min_speed_kmh\":1,"
		"\"max_speed_kmh\":2},{\"gear\":5,\"min_rpm\":\"x\",\"max_rpm\":2,"
		"\"min_speed_kmh\":1,\"max_speed_kmh\":2},7],"
		"\"recommended_shift_rpm\":-5}",
	};
	/* partial: a gear without the recommendation, a recommendation without gears */
	static const char *const partial[] = {
		"{\"gears\":[{\"gear\":2,\"min_rpm\":4000,\"max_rpm\":7500,\"min_speed_kmh\":70,"
		"\"max_speed_kmh\":120},{\"gear\":3,\"max_rpm\":1}],"
		"\"recommended_shift_rpm\":null}",
		"{\"gears\":[],\"recommended_shift_rpm\":7400}",
	};
	json_t *a[8], *d;
	size_t n = 0;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		a[n++] = parse(bad[i]);
	for (size_t i = 0; i < sizeof partial / sizeof partial[0]; i++)
		a[n++] = parse(partial[i]);
	a[n++] = NULL;
	d = cars_characteristics("car", a, n);
	T_CHECK(d != NULL);
	if (d) {
		T_CHECK(json_integer_value(json_object_get(d, "session_count")) == 2);
		T_CHECK(json_array_size(json_object_get(d, "gears")) == 1);
		check_gear(d, 2, 4000, 7500, 70.0, 120.0);
		T_NEAR(num(d, "recommended_shift_rpm"), 7400.0, 0.0);
	}
	json_decref(d);
	for (size_t i = 0; i < n; i++)
		json_decref(a[i]);
}

static void test_no_sessions(void)
{
	json_t *junk = parse("{\"status\":\"failed\"}");
	json_t *d = cars_characteristics("Audi R8 LMS", NULL, 0), *sum;

	T_CHECK(d != NULL);
	if (d) {
		T_CHECK(json_integer_value(json_object_get(d, "session_count")) == 0);
		T_CHECK(json_is_array(json_object_get(d, "gears")) &&
			json_array_size(json_object_get(d, "gears")) == 0);
		T_CHECK(json_is_null(json_object_get(d, "recommended_shift_rpm")));
	}
	sum = cars_characteristics_summary(d);
	T_CHECK(sum && json_is_null(json_object_get(sum, "recommended_shift_rpm")) &&
		json_integer_value(json_object_get(sum, "session_count")) == 0);
	json_decref(sum);
	json_decref(d);
	d = cars_characteristics(NULL, &junk, 1);
	T_CHECK(d && strcmp(json_string_value(json_object_get(d, "car_name")), "") == 0 &&
		json_integer_value(json_object_get(d, "session_count")) == 0);
	json_decref(d);
	json_decref(junk);
	T_CHECK(cars_characteristics_summary(NULL) == NULL);
	junk = json_array();
	T_CHECK(cars_characteristics_summary(junk) == NULL);
	json_decref(junk);
}

/* Emulator sessions through an_shift_points, then aggregated. */
static json_t *sim_analysis(enum driver_mode mode, double seconds)
{
	struct track *t = track_new();
	struct driver *d = driver_new(mode, 21, car_default(), t);
	size_t n = (size_t)(seconds * 60.0);
	struct pw_frame *f = malloc(n * sizeof *f);
	struct an_run run = { "r1", "ksudp", "", f, n };
	struct an_input in = { .use_case = "shift_points", .runs = &run, .nruns = 1 };
	struct an_err err;
	json_t *o = NULL;

	if (d && f) {
		for (size_t k = 0; k < n; k++) {
			driver_run_to(d, llround(k * 1000.0 / 60.0));
			driver_frame(d, &f[k]);
			f[k].t_ns = 1700000000000000000ll + (int64_t)llround(k * 1e9 / 60.0);
		}
		o = an_shift_points(&in, &err);
	}
	free(f);
	driver_free(d);
	track_free(t);
	return o;
}

static void test_emulator_sessions(void)
{
	const struct car_spec *car = car_default();
	json_t *a[2] = { sim_analysis(DRIVER_PULLS, 130.0), sim_analysis(DRIVER_LAPS, 200.0) };
	json_t *d;
	double truth = car_recommended_shift_rpm(car), mean;

	T_CHECK(a[0] && a[1]);
	d = cars_characteristics(car->name, a, 2);
	T_CHECK(d != NULL);
	if (d && a[0] && a[1]) {
		mean = (num(a[0], "recommended_shift_rpm") + num(a[1], "recommended_shift_rpm")) /
		       2.0;
		T_NEAR(num(d, "recommended_shift_rpm"), round(mean / 10.0) * 10.0, 0.0);
		T_CHECKF(fabs(num(d, "recommended_shift_rpm") / truth - 1.0) < 0.03, "%.0f vs %.0f",
			 num(d, "recommended_shift_rpm"), truth);
		T_CHECK(json_array_size(json_object_get(d, "gears")) == (size_t)car->num_gears);
		/* pulls reach the limiter in every gear, laps only the shift points */
		for (int g = 1; g <= car->num_gears; g++)
			T_NEAR(num(gear_of(d, g), "max_rpm"), car->max_rpm, 10.0);
		T_CHECK(json_integer_value(json_object_get(d, "session_count")) == 2);
	}
	json_decref(d);
	json_decref(a[0]);
	json_decref(a[1]);
}

int main(void)
{
	T_RUN(test_three_sessions);
	T_RUN(test_malformed_skipped);
	T_RUN(test_no_sessions);
	T_RUN(test_emulator_sessions);
	return T_DONE();
}
