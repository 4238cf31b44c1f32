/*
 * test_ws_seed.c - the seed-004 dialect of the stream (api/ws_seed.c): the
 * telemetry payload built from a frame, field by field against the ADR's own
 * example (the same keys, the example's values from a frame holding them,
 * written without float noise), nulls where a game lacks a channel, the lap
 * status from the frame's flags and the lap followed over frames, the
 * session and lap events with the contract's fields and tags, and hello.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ws_int.h"
#include "tests/unit/t.h"

/* The ADR's telemetry example's data, as the contract gives it. */
static const char adr_example[] =
	"{\"is_race_on\": true, \"session_t_ms\": 142318, \"speed_kph\": 187.4, \"rpm\": 8120.0,"
	" \"rpm_max\": 9200.0, \"gear\": 4, \"throttle\": 0.92, \"brake\": 0.0, \"clutch\": 0.0,"
	" \"handbrake\": 0.0, \"steer\": -0.18, \"drivetrain\": \"AWD\", \"lap\": {\"number\": 3,"
	" \"current_s\": 42.318, \"last_s\": 89.114, \"best_s\": 88.902, \"position\": 4,"
	" \"distance_m\": 4821.6}, \"tire_temp_c\": {\"fl\": 88.3, \"fr\": 92.1, \"rl\": 79.5,"
	" \"rr\": 81.0}, \"tire_slip_ratio\": {\"fl\": 0.02, \"fr\": 0.03, \"rl\": 0.05, \"rr\": 0.06},"
	" \"tire_slip_angle_rad\": {\"fl\": 0.04, \"fr\": 0.05, \"rl\": 0.03, \"rr\": 0.04},"
	" \"suspension_travel_norm\": {\"fl\": 0.41, \"fr\": 0.43, \"rl\": 0.55, \"rr\": 0.57},"
	" \"fuel_frac\": 0.62, \"boost_bar\": 0.8, \"accel_g\": {\"x\": 0.12, \"y\": -0.04,"
	" \"z\": 1.21}, \"lap_status\": \"valid\", \"tire_wear_frac\": {\"fl\": 0.92, \"fr\": 0.91,"
	" \"rl\": 0.87, \"rr\": 0.89}, \"track_ordinal\": 861}";

static void set4(float *a, float v0, float v1, float v2, float v3)
{
	a[0] = v0, a[1] = v1, a[2] = v2, a[3] = v3;
}

/* The example's values in a frame (what a Forza FM2023 decode gives). */
static void example_frame(struct pw_frame *f, struct pw_meta *m)
{
	frame_init(f, PW_GAME_FM2023, PW_FEED_FORZA);
	memset(m, 0, sizeof *m);
	f->present = FRAME_P_SPEED | FRAME_P_RPM | FRAME_P_MAX_RPM | FRAME_P_GEAR |
		     FRAME_P_THROTTLE | FRAME_P_BRAKE | FRAME_P_CLUTCH | FRAME_P_HANDBRAKE |
		     FRAME_P_STEER | FRAME_P_LAP | FRAME_P_LAP_TIME | FRAME_P_LAST_LAP |
		     FRAME_P_BEST_LAP | FRAME_P_POSITION | FRAME_P_LAP_DIST | FRAME_P_TYRE_TEMP |
		     FRAME_P_SLIP_RATIO | FRAME_P_SLIP_ANGLE | FRAME_P_FUEL_FRAC | FRAME_P_BOOST |
		     FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_VERT | FRAME_P_ACCEL_LON | FRAME_P_TYRE_WEAR;
	f->speed_kmh = 187.4f;
	f->rpm = 8120;
	f->max_rpm = 9200;
	f->gear = 4;
	f->throttle = 0.92f;
	f->steer = -0.18f;
	f->lap = 2; /* laps completed: the lap driven is number 3 */
	f->lap_time_ms = 42318;
	f->last_lap_ms = 89114;
	f->best_lap_ms = 88902;
	f->position = 4;
	f->lap_dist_m = 4821.6f;
	set4(f->tyre_temp_c, 88.3f, 92.1f, 79.5f, 81.0f);
	set4(f->slip_ratio, 0.02f, 0.03f, 0.05f, 0.06f);
	set4(f->slip_angle_rad, 0.04f, 0.05f, 0.03f, 0.04f);
	set4(f->tyre_wear, 0.92f, 0.91f, 0.87f, 0.89f);
	f->fuel_frac = 0.62f;
	f->boost_bar = 0.8f;
	f->accel_lat_g = 0.12f;   /* x: right */
	f->accel_vert_g = -0.04f; /* y: up */
	f->accel_lon_g = 1.21f;   /* z: forward */
	f->flags_known = FRAME_FLAG_IN_PIT | FRAME_FLAG_LAP_INVALID | FRAME_FLAG_PAUSED;
	/* as dec_forza writes FM2023's: the names from its list, the numbers beside them */
	snprintf(m->track, sizeof m->track, "Brands Hatch (Indy)");
	snprintf(m->car, sizeof m->car, "2014 Porsche 918 Spyder");
	m->numbers = META_N_CAR_ORDINAL | META_N_TRACK_ORDINAL | META_N_CAR_CLASS | META_N_CAR_PI |
		     META_N_DRIVETRAIN;
	m->drivetrain = META_DRIVETRAIN_AWD;
	m->track_ordinal = 861;
	m->car_ordinal = 3456;
	m->car_class_num = 5;
	m->car_pi = 750;
}

static json_t *payload(const struct pw_frame *f, const struct pw_meta *m,
		       const struct ws_seed_lap *lap, bool live, int64_t t_ms, char *text,
		       size_t cap)
{
	size_t n = ws_seed_telemetry(f, m, lap, live, t_ms, text, cap);
	json_error_t je;
	json_t *o;

	T_CHECKF(n < cap, "%zu bytes", n);
	o = json_loads(text, 0, &je);
	T_CHECKF(json_is_object(o), "%s: %s", text, je.text);
	return o;
}

/* Every key of want is in got with an equal value (numbers compared as
 * written: a float channel's 187.4 as 187.4), and no other key. */
static void same_shape(const json_t *got, const json_t *want, const char *path)
{
	const char *k;
	json_t *w;

	T_CHECKF(json_object_size(got) == json_object_size(want), "%s: %zu keys, not %zu", path,
		 json_object_size(got), json_object_size(want));
	json_object_foreach((json_t *)want, k, w) {
		json_t *g = json_object_get(got, k);
		char sub[128];

		snprintf(sub, sizeof sub, "%s.%s", path, k);
		T_CHECKF(g != NULL, "%s is missing", sub);
		if (!g)
			continue;
		if (json_is_object(w))
			same_shape(g, w, sub);
		else if (json_is_number(w))
			T_CHECKF(json_is_number(g) && json_number_value(g) == json_number_value(w),
				 "%s: %g, not %g", sub, json_number_value(g), json_number_value(w));
		else
			T_CHECKF(json_equal(g, w), "%s differs", sub);
	}
}

static void test_adr_example(void)
{
	struct pw_frame f;
	struct pw_meta m;
	char text[WS_SEED_TELEMETRY_MAX];
	json_t *want = json_loads(adr_example, 0, NULL), *got, *norm;

	example_frame(&f, &m);
	got = payload(&f, &m, NULL, true, 142318, text, sizeof text);
	/* the table has no normalised suspension travel unless a build adds one:
	 * then it is null, the rest the example's */
	norm = json_object_get(got, "suspension_travel_norm");
	if (json_is_null(norm)) {
		json_object_set_new(want, "suspension_travel_norm", json_null());
		json_object_set_new(got, "suspension_travel_norm", json_null());
	}
	same_shape(got, want, "");
	/* as written: no noise, the float as the float it is */
	T_CHECK(strstr(text, "\"speed_kph\":187.4,") != NULL);
	T_CHECK(strstr(text, "\"current_s\":42.318,") != NULL);
	T_CHECK(strstr(text, "\"last_s\":89.114,") != NULL);
	T_CHECK(strstr(text, "\"distance_m\":4821.6}") != NULL);
	T_CHECK(strstr(text, "\"steer\":-0.18,") != NULL);
	T_CHECK(strstr(text, "\"rpm\":8120,") != NULL);
	json_decref(got);
	json_decref(want);
}

/* A game without most channels: every one of them null, the shape the same. */
static void test_nulls(void)
{
	struct pw_frame f;
	char text[WS_SEED_TELEMETRY_MAX];
	json_t *o, *lap;
	static const char *const nulls[] = {
		"session_t_ms",
		"speed_kph",
		"rpm_max",
		"gear",
		"throttle",
		"brake",
		"clutch",
		"handbrake",
		"steer",
		"drivetrain",
		"tire_temp_c",
		"tire_slip_ratio",
		"tire_slip_angle_rad",
		"suspension_travel_norm",
		"fuel_frac",
		"boost_bar",
		"accel_g",
		"lap_status",
		"tire_wear_frac",
		"track_ordinal",
	};

	frame_init(&f, PW_GAME_AC, PW_FEED_KSUDP);
	f.present = FRAME_P_RPM | FRAME_P_LAST_LAP;
	f.rpm = 5000.5f;
	f.last_lap_ms = -1; /* no lap yet */
	o = payload(&f, NULL, NULL, true, -1, text, sizeof text);
	T_EQ(json_object_size(o), (size_t)23);
	for (size_t i = 0; i < sizeof nulls / sizeof *nulls; i++)
		T_CHECKF(json_is_null(json_object_get(o, nulls[i])), "%s is not null", nulls[i]);
	T_EQ(json_number_value(json_object_get(o, "rpm")), 5000.5);
	T_CHECK(json_is_true(json_object_get(o, "is_race_on")));
	lap = json_object_get(o, "lap");
	T_EQ(json_object_size(lap), (size_t)6);
	T_CHECK(json_is_null(json_object_get(lap, "number")) &&
		json_is_null(json_object_get(lap, "last_s")) &&
		json_is_null(json_object_get(lap, "current_s")));
	json_decref(o);

	/* one axis of three: the others null */
	f.present = FRAME_P_ACCEL_LON;
	f.accel_lon_g = 0.5f;
	o = payload(&f, NULL, NULL, true, 10, text, sizeof text);
	T_CHECK(strstr(text, "\"accel_g\":{\"x\":null,\"y\":null,\"z\":0.5}") != NULL);
	T_EQ(json_integer_value(json_object_get(o, "session_t_ms")), 10);
	json_decref(o);

	/* no frame at all, or paused, or the feed not live: the race is not on */
	o = payload(NULL, NULL, NULL, true, -1, text, sizeof text);
	T_CHECK(json_is_false(json_object_get(o, "is_race_on")));
	T_EQ(json_object_size(o), (size_t)23);
	json_decref(o);
	f.flags_known = FRAME_FLAG_PAUSED;
	f.flags = FRAME_FLAG_PAUSED;
	o = payload(&f, NULL, NULL, true, -1, text, sizeof text);
	T_CHECK(json_is_false(json_object_get(o, "is_race_on")));
	json_decref(o);
	f.flags = 0;
	o = payload(&f, NULL, NULL, false, -1, text, sizeof text);
	T_CHECK(json_is_false(json_object_get(o, "is_race_on")));
	json_decref(o);
}

static const char *status_of(const struct pw_frame *f, const struct ws_seed_lap *lap)
{
	static char s[32];
	char text[WS_SEED_TELEMETRY_MAX];
	json_t *o = payload(f, NULL, lap, true, -1, text, sizeof text);
	json_t *v = json_object_get(o, "lap_status");

	snprintf(s, sizeof s, "%s", json_is_string(v) ? json_string_value(v) : "null");
	json_decref(o);
	return s;
}

static void test_lap_status(void)
{
	struct pw_frame f;
	struct ws_seed_lap lap = { 0 };

	frame_init(&f, PW_GAME_F1_24, PW_FEED_F1);
	f.present = FRAME_P_LAP | FRAME_P_LAP_TIME;
	/* no flags reported: nothing to say */
	T_STREQ(status_of(&f, &lap), "null");
	f.flags_known = FRAME_FLAG_IN_PIT | FRAME_FLAG_LAP_INVALID;
	/* in the pit lane, then the out lap */
	f.flags = FRAME_FLAG_IN_PIT;
	f.lap = 0;
	f.lap_time_ms = 1000;
	ws_seed_lap_track(&lap, &f);
	T_STREQ(status_of(&f, &lap), "pit");
	f.flags = 0;
	f.lap_time_ms = 2000;
	ws_seed_lap_track(&lap, &f);
	T_STREQ(status_of(&f, &lap), "out_lap");
	/* a flying lap */
	f.lap = 1;
	f.lap_time_ms = 10;
	ws_seed_lap_track(&lap, &f);
	T_STREQ(status_of(&f, &lap), "valid");
	f.lap_time_ms = 30000;
	ws_seed_lap_track(&lap, &f);
	T_STREQ(status_of(&f, &lap), "valid");
	/* the game flags it */
	f.flags = FRAME_FLAG_LAP_INVALID;
	T_STREQ(status_of(&f, &lap), "dirty");
	/* a flashback: the lap clock goes back */
	f.flags = 0;
	f.lap_time_ms = 25000;
	ws_seed_lap_track(&lap, &f);
	T_STREQ(status_of(&f, &lap), "reset");
	f.lap_time_ms = 26000;
	ws_seed_lap_track(&lap, &f);
	T_STREQ(status_of(&f, &lap), "reset"); /* for the rest of the lap */
	f.lap = 2;
	f.lap_time_ms = 5;
	ws_seed_lap_track(&lap, &f);
	T_STREQ(status_of(&f, &lap), "valid");
	/* a new game session starts over */
	f.game_session = 9;
	f.flags = FRAME_FLAG_IN_PIT;
	ws_seed_lap_track(&lap, &f);
	f.flags = 0;
	T_STREQ(status_of(&f, &lap), "out_lap");
}

static json_t *data_of(struct ws_msg *m, const char *type)
{
	json_t *e = m ? json_loadb(m->text, m->len, 0, NULL) : NULL, *d;

	T_CHECKF(e && strcmp(json_string_value(json_object_get(e, "type")), type) == 0,
		 "not a %s: %.*s", type, m ? (int)m->len : 0, m ? m->text : "");
	d = json_incref(json_object_get(e, "data"));
	json_decref(e);
	return d;
}

static void test_events(void)
{
	struct ws_feed *f = calloc(1, sizeof *f);
	struct ws_msg *m;
	json_t *d, *payload_json;

	snprintf(f->name, sizeof f->name, "forza");
	f->game_session = 0x1234;
	f->latest.game = PW_GAME_FM2023;
	/* a segment of an older pw-capture: the numbers only in the strings */
	snprintf(f->meta.car, sizeof f->meta.car, "car_ordinal:3456");
	snprintf(f->meta.car_class, sizeof f->meta.car_class, "class:5 pi:750");
	d = data_of(m = ws_seed_session_started(f), "session_started");
	T_STREQ(json_string_value(json_object_get(d, "session_id")), "forza-0000000000001234");
	T_EQ(json_integer_value(json_object_get(d, "car_ordinal")), 3456);
	T_STREQ(json_string_value(json_object_get(d, "car_class")), "5");
	T_EQ(json_integer_value(json_object_get(d, "car_pi")), 750);
	T_CHECK(json_is_null(json_object_get(d, "drivetrain")));
	json_decref(d);
	ws_msg_unref(m);
	/* dec_forza now: a car named from the list, the numbers beside the name */
	snprintf(f->meta.car, sizeof f->meta.car, "2014 Porsche 918 Spyder");
	snprintf(f->meta.car_class, sizeof f->meta.car_class, "class:6 pi:800");
	f->meta.numbers = META_N_CAR_ORDINAL | META_N_CAR_CLASS | META_N_CAR_PI | META_N_DRIVETRAIN;
	f->meta.drivetrain = META_DRIVETRAIN_RWD;
	f->meta.car_ordinal = 2290;
	f->meta.car_class_num = 6;
	f->meta.car_pi = 800;
	d = data_of(m = ws_seed_session_started(f), "session_started");
	T_EQ(json_integer_value(json_object_get(d, "car_ordinal")), 2290);
	T_STREQ(json_string_value(json_object_get(d, "car_class")), "6");
	T_EQ(json_integer_value(json_object_get(d, "car_pi")), 800);
	T_STREQ(json_string_value(json_object_get(d, "drivetrain")), "RWD");
	json_decref(d);
	ws_msg_unref(m);
	memset(&f->meta, 0, sizeof f->meta);
	/* another game's class is its own text; no ordinal, no PI */
	snprintf(f->meta.car, sizeof f->meta.car, "Ferrari 488 GT3");
	snprintf(f->meta.car_class, sizeof f->meta.car_class, "GT3");
	d = data_of(m = ws_seed_session_started(f), "session_started");
	T_CHECK(json_is_null(json_object_get(d, "car_ordinal")) &&
		json_is_null(json_object_get(d, "car_pi")));
	T_STREQ(json_string_value(json_object_get(d, "car_class")), "GT3");
	json_decref(d);
	ws_msg_unref(m);

	m = ws_seed_session_ended(f, 1842.3, json_integer(12), "feed_stale");
	T_CHECK(m && strstr(m->text, "\"duration_s\":1842.3,") != NULL);
	d = data_of(m, "session_ended");
	T_EQ(json_integer_value(json_object_get(d, "lap_count")), 12);
	json_decref(d);
	ws_msg_unref(m);

	/* a lap: the contract's fields, the time without noise, the store's reasons as tags */
	payload_json =
		json_loads("{\"event\":\"lap_completed\",\"lap\":{\"number\":3,"
			   "\"time_ms\":91769,\"valid\":false,\"invalid_reason\":\"game_flag\","
			   "\"personal_best\":false}}",
			   0, NULL);
	m = ws_seed_lap(payload_json);
	T_CHECK(m && strstr(m->text, "\"lap_time_s\":91.769,") != NULL);
	d = data_of(m, "lap_completed");
	T_EQ(json_object_size(d), (size_t)5);
	T_EQ(json_integer_value(json_object_get(d, "lap_number")), 3);
	T_STREQ(json_string_value(json_object_get(d, "validity")), "dirty");
	T_STREQ(json_string_value(json_array_get(json_object_get(d, "invalid_reasons"), 0)),
		"off_track");
	json_decref(d);
	ws_msg_unref(m);
	json_decref(payload_json);
	{
		static const char *const cases[][3] = {
			{ "pit", "pit", "pit_in" },
			{ "out_lap", "pit", "out_lap" },
			{ "reset", "reset", "rewind" },
		};
		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
			payload_json = json_pack("{s:s, s:{s:i, s:i, s:b, s:s}}", "event",
						 "lap_completed", "lap", "number", 1, "time_ms",
						 80000, "valid", 0, "invalid_reason", cases[i][0]);
			d = data_of(m = ws_seed_lap(payload_json), "lap_completed");
			T_STREQ(json_string_value(json_object_get(d, "validity")), cases[i][1]);
			T_STREQ(json_string_value(
					json_array_get(json_object_get(d, "invalid_reasons"), 0)),
				cases[i][2]);
			json_decref(d);
			ws_msg_unref(m);
			json_decref(payload_json);
		}
	}
	/* a valid personal best; other lap events are not the contract's */
	payload_json = json_loads("{\"event\":\"lap_completed\",\"lap\":{\"number\":4,"
				  "\"time_ms\":88902,\"valid\":true,\"invalid_reason\":\"none\","
				  "\"personal_best\":true}}",
				  0, NULL);
	d = data_of(m = ws_seed_lap(payload_json), "lap_completed");
	T_CHECK(json_is_true(json_object_get(d, "is_personal_best")));
	T_EQ(json_array_size(json_object_get(d, "invalid_reasons")), (size_t)0);
	json_decref(d);
	ws_msg_unref(m);
	json_object_set_new(payload_json, "event", json_string("lap_invalidated"));
	T_CHECK(ws_seed_lap(payload_json) == NULL);
	json_decref(payload_json);
	free(f);
}

int main(void)
{
	T_RUN(test_adr_example);
	T_RUN(test_nulls);
	T_RUN(test_lap_status);
	T_RUN(test_events);
	return T_DONE();
}
