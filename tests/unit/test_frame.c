/* test_frame.c - self-test of the normalized frame's names and encodings (common/frame.h). */
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/frame.h"
#include "tests/unit/t.h"

/*
 * The channel dictionary, written out independently of frame.c: docs/architecture.md §2
 * says the C field, the JSON key and the CSV column are the same word, so the
 * name is the stringified field.
 */
enum ch_type { F32, F64, I8, U8, U16, I32 };

struct ch {
	uint64_t bit;
	const char *name;
	size_t off;
	enum ch_type type;
	int n;
};

#define CH(bit, field, type, n)                                        \
	{                                                              \
		bit, #field, offsetof(struct pw_frame, field), type, n \
	}

static const struct ch chans[FRAME_P_COUNT] = {
	CH(FRAME_P_GAME_TIME, game_time_s, F64, 1),
	CH(FRAME_P_THROTTLE, throttle, F32, 1),
	CH(FRAME_P_BRAKE, brake, F32, 1),
	CH(FRAME_P_CLUTCH, clutch, F32, 1),
	CH(FRAME_P_HANDBRAKE, handbrake, F32, 1),
	CH(FRAME_P_STEER, steer, F32, 1),
	CH(FRAME_P_STEER_DEG, steer_deg, F32, 1),
	CH(FRAME_P_GEAR, gear, I8, 1),
	CH(FRAME_P_NUM_GEARS, num_gears, U8, 1),
	CH(FRAME_P_SPEED, speed_kmh, F32, 1),
	CH(FRAME_P_RPM, rpm, F32, 1),
	CH(FRAME_P_MAX_RPM, max_rpm, F32, 1),
	CH(FRAME_P_POWER, power_w, F32, 1),
	CH(FRAME_P_TORQUE, torque_nm, F32, 1),
	CH(FRAME_P_VEL, vel_ms, F32, 3),
	CH(FRAME_P_ACCEL_LAT, accel_lat_g, F32, 1),
	CH(FRAME_P_ACCEL_LON, accel_lon_g, F32, 1),
	CH(FRAME_P_ACCEL_VERT, accel_vert_g, F32, 1),
	CH(FRAME_P_POS, pos_m, F32, 3),
	CH(FRAME_P_YAW, yaw_rad, F32, 1),
	CH(FRAME_P_PITCH, pitch_rad, F32, 1),
	CH(FRAME_P_ROLL, roll_rad, F32, 1),
	CH(FRAME_P_LAP, lap, U16, 1),
	CH(FRAME_P_LAP_TIME, lap_time_ms, I32, 1),
	CH(FRAME_P_LAST_LAP, last_lap_ms, I32, 1),
	CH(FRAME_P_BEST_LAP, best_lap_ms, I32, 1),
	CH(FRAME_P_SECTOR_TIMES, sector_ms, I32, 3),
	CH(FRAME_P_LAP_DIST, lap_dist_m, F32, 1),
	CH(FRAME_P_SPLINE, spline, F32, 1),
	CH(FRAME_P_TRACK_LEN, track_len_m, F32, 1),
	CH(FRAME_P_SECTOR, sector, U8, 1),
	CH(FRAME_P_POSITION, position, U8, 1),
	CH(FRAME_P_TYRE_TEMP, tyre_temp_c, F32, 4),
	CH(FRAME_P_TYRE_PRESS, tyre_press_kpa, F32, 4),
	CH(FRAME_P_BRAKE_TEMP, brake_temp_c, F32, 4),
	CH(FRAME_P_SLIP_RATIO, slip_ratio, F32, 4),
	CH(FRAME_P_SLIP_ANGLE, slip_angle_rad, F32, 4),
	CH(FRAME_P_WHEEL_SPEED, wheel_speed_rads, F32, 4),
	CH(FRAME_P_SUSP_TRAVEL, susp_travel_m, F32, 4),
	CH(FRAME_P_TYRE_LOAD, tyre_load_n, F32, 4),
	CH(FRAME_P_TYRE_WEAR, tyre_wear, F32, 4),
	CH(FRAME_P_FUEL_L, fuel_l, F32, 1),
	CH(FRAME_P_FUEL_FRAC, fuel_frac, F32, 1),
	CH(FRAME_P_BOOST, boost_bar, F32, 1),
	CH(FRAME_P_YAW_RATE, yaw_rate_rads, F32, 1),
	CH(FRAME_P_SUSP_NORM, susp_travel_norm, F32, 4),
	CH(FRAME_P_TYRE_TEMP_INNER, tyre_temp_inner_c, U8, 4),
	CH(FRAME_P_TYRE_TEMP_MIDDLE, tyre_temp_middle_c, U8, 4),
	CH(FRAME_P_TYRE_TEMP_OUTER, tyre_temp_outer_c, U8, 4),
};

static const char *const flag_names[FRAME_FLAG_COUNT] = {
	"in_pit", "lap_invalid", "abs", "tc", "limiter", "paused",
};

static double get(const struct pw_frame *f, const struct ch *c, int i)
{
	const uint8_t *p = (const uint8_t *)f + c->off;

	switch (c->type) {
	case F32:
		return ((const float *)p)[i];
	case F64:
		return ((const double *)p)[i];
	case I8:
		return ((const int8_t *)p)[i];
	case U8:
		return ((const uint8_t *)p)[i];
	case U16:
		return ((const uint16_t *)p)[i];
	case I32:
		return ((const int32_t *)p)[i];
	}
	return 0;
}

/* A value written as null / an empty cell: sector_ms' negative "not known
 * yet", a tread zone temperature's 0 "none". */
static int is_none(const struct ch *c, double v)
{
	return (c->bit == FRAME_P_SECTOR_TIMES && v < 0) ||
	       ((c->bit &
		 (FRAME_P_TYRE_TEMP_INNER | FRAME_P_TYRE_TEMP_MIDDLE | FRAME_P_TYRE_TEMP_OUTER)) &&
		v == 0);
}

static int is_real(const struct ch *c)
{
	return c->type == F32 || c->type == F64;
}

/* Did the decimal text parse back to exactly the stored value at its own precision? */
static int same_value(const struct ch *c, double stored, double parsed)
{
	if (c->type == F32)
		return (float)parsed == (float)stored;
	return parsed == stored;
}

/* Every channel set to a value that needs all of float's 9 significant digits. */
static void fill_full(struct pw_frame *f)
{
	frame_init(f, PW_GAME_FM2023, PW_FEED_FORZA);
	f->seq = 9223372036854775807ull;
	f->t_ns = 1763805600123456789ll;
	f->game_session = 0x0123456789abcdefull;
	f->game_time_s = 4294967.295; /* Forza's ms clock just before it wraps */
	f->throttle = 0.123456789f;
	f->brake = 0.987654321f;
	f->clutch = 1.f;
	f->handbrake = 0.1f;
	f->steer = -0.333333343f;
	f->steer_deg = -451.234567f;
	f->gear = -1;
	f->num_gears = 7;
	f->speed_kmh = 287.654321f;
	f->rpm = 8765.4321f;
	f->max_rpm = 9250.f;
	f->power_w = 456789.123f;
	f->torque_nm = 612.345678f;
	f->vel_ms[0] = -1.23456789f, f->vel_ms[1] = 0.0123456789f, f->vel_ms[2] = 79.9012345f;
	f->accel_lat_g = -2.71828183f;
	f->accel_lon_g = 1.41421356f;
	f->accel_vert_g = 1e-7f;
	f->pos_m[0] = -1234.56789f, f->pos_m[1] = 12.3456789f, f->pos_m[2] = 98765.4321f;
	f->yaw_rad = 3.14159274f;
	f->pitch_rad = -0.0174532924f;
	f->roll_rad = 1.17549435e-38f; /* FLT_MIN */
	f->lap = 65535;
	f->lap_time_ms = 83456;
	f->last_lap_ms = 2147483647;
	f->best_lap_ms = -1;
	f->sector_ms[0] = 28123, f->sector_ms[1] = -1, f->sector_ms[2] = 0;
	f->lap_dist_m = 5792.98765f;
	f->spline = 0.999999881f;
	f->track_len_m = 5793.f;
	f->sector = 2;
	f->position = 255;
	f->fuel_l = 67.8901234f;
	f->fuel_frac = 0.678901234f;
	f->boost_bar = -0.876543211f;
	f->yaw_rate_rads = -0.456789123f;
	for (int i = 0; i < 4; i++) {
		f->tyre_temp_c[i] = 85.1234567f + (float)i * 1.1f;
		f->tyre_press_kpa[i] = 172.369324f - (float)i * 0.7f;
		f->brake_temp_c[i] = 612.789123f + (float)i * 10.3f;
		f->slip_ratio[i] = -0.0512345678f * (float)(i + 1);
		f->slip_angle_rad[i] = 0.0345678912f * (float)(i - 2);
		f->wheel_speed_rads[i] = 123.456789f + (float)i;
		f->susp_travel_m[i] = 0.0456789123f + (float)i * 0.001f;
		f->tyre_load_n[i] = 4567.89123f + (float)i * 100.f;
		f->tyre_wear[i] = 0.987654321f - (float)i * 0.01f;
		f->susp_travel_norm[i] = 0.412345678f + (float)i * 0.1f;
		f->tyre_temp_inner_c[i] = (uint8_t)(95 + i);
		f->tyre_temp_middle_c[i] = (uint8_t)(i == 3 ? 255 : 90 + i);
		f->tyre_temp_outer_c[i] = (uint8_t)(i == 1 ? 0 : 85 + i); /* 0: none */
	}
	f->present = (1ull << FRAME_P_COUNT) - 1;
	f->flags_known = (1u << FRAME_FLAG_COUNT) - 1;
	f->flags = FRAME_FLAG_ABS | FRAME_FLAG_PAUSED;
}

static json_t *parse_json(const char *s)
{
	json_error_t err;
	json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &err);

	T_CHECKF(j && json_is_object(j), "json_loads: %s in %s", j ? "not an object" : err.text, s);
	return j;
}

static size_t json_of(const struct pw_frame *f, char *buf, size_t cap)
{
	size_t n = frame_to_json(f, buf, cap);

	T_CHECKF(n < cap, "frame_to_json needs %zu of %zu", n, cap);
	T_EQ(strlen(buf), n);
	return n;
}

static void test_init(void)
{
	struct pw_frame f;
	const uint8_t *b = (const uint8_t *)&f;
	int dirty = 0;

	memset(&f, 0xa5, sizeof f);
	frame_init(&f, PW_GAME_F1_25, PW_FEED_F1);
	T_CHECK(f.version == FRAME_VERSION && f.version == 2);
	T_CHECK(f.game == PW_GAME_F1_25 && f.feed == PW_FEED_F1);
	for (size_t i = 0; i < sizeof f; i++)
		if (i < offsetof(struct pw_frame, version) || i > offsetof(struct pw_frame, feed))
			dirty += b[i] != 0;
	T_CHECKF(dirty == 0, "%d bytes not zeroed", dirty);
	frame_init(&f, PW_GAME_UNKNOWN, PW_FEED_NONE);
	T_CHECK(f.version == 2 && f.game == 0 && f.feed == 0 && f.present == 0 && f.derived == 0);
}

static void test_game_names(void)
{
	static const char *const want[PW_GAME_COUNT] = {
		"unknown",
		"assetto_corsa",
		"assetto_corsa_competizione",
		"project_cars_1",
		"project_cars_2",
		"forza_motorsport",
		"forza_motorsport_7",
		"forza_horizon",
		"forza_motorsport_2023",
		"f1_23",
		"f1_24",
		"f1_25",
	};

	T_EQ(PW_GAME_COUNT, 12);
	for (unsigned i = 0; i < PW_GAME_COUNT; i++) {
		T_CHECKF(strcmp(frame_game_name(i), want[i]) == 0, "game %u: %s", i,
			 frame_game_name(i));
		if (i)
			T_CHECKF(frame_game_id(want[i]) == i, "id of %s", want[i]);
		T_CHECK(frame_game_title(i) && frame_game_title(i)[0]);
		for (unsigned j = 0; j < i; j++)
			T_CHECK(strcmp(frame_game_title(i), frame_game_title(j)) != 0);
	}
	T_STREQ(frame_game_title(PW_GAME_AC), "Assetto Corsa");
	T_STREQ(frame_game_title(PW_GAME_F1_24), "F1 24");
	/* out of range ids */
	T_STREQ(frame_game_name(PW_GAME_COUNT), "unknown");
	T_STREQ(frame_game_name(255), "unknown");
	T_STREQ(frame_game_name(~0u), "unknown");
	T_STREQ(frame_game_title(PW_GAME_COUNT), "Unknown");
	T_STREQ(frame_game_title(~0u), "Unknown");
	/* unknown names: exact, case-sensitive matches only */
	T_EQ(frame_game_id("unknown"), PW_GAME_UNKNOWN);
	T_EQ(frame_game_id(""), 0);
	T_EQ(frame_game_id(NULL), 0);
	T_EQ(frame_game_id("Assetto_Corsa"), 0);
	T_EQ(frame_game_id("assetto_corsa "), 0);
	T_EQ(frame_game_id("assetto"), 0);
	T_EQ(frame_game_id("f1_26"), 0);
	T_EQ(frame_game_id("ksudp"), 0);
}

static void test_feed_names(void)
{
	static const char *const want[PW_FEED_COUNT] = {
		"none", "ksudp", "pcars", "acc", "forza", "f1",
	};

	T_EQ(PW_FEED_COUNT, 6);
	for (unsigned i = 0; i < PW_FEED_COUNT; i++) {
		T_CHECKF(strcmp(frame_feed_name(i), want[i]) == 0, "feed %u: %s", i,
			 frame_feed_name(i));
		if (i)
			T_CHECKF(frame_feed_id(want[i]) == i, "id of %s", want[i]);
	}
	T_STREQ(frame_feed_name(PW_FEED_COUNT), "unknown");
	T_STREQ(frame_feed_name(~0u), "unknown");
	T_EQ(frame_feed_id("none"), PW_FEED_NONE);
	T_EQ(frame_feed_id("unknown"), 0);
	T_EQ(frame_feed_id(""), 0);
	T_EQ(frame_feed_id(NULL), 0);
	T_EQ(frame_feed_id("KSUDP"), 0);
	T_EQ(frame_feed_id("f"), 0);
	T_EQ(frame_feed_id("f1 "), 0);
	T_EQ(frame_feed_id("assetto_corsa"), 0);
}

static void test_channel_and_flag_names(void)
{
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const char *n = frame_channel_name(b);

		T_EQ(chans[b].bit, 1ull << b);
		T_CHECKF(n && strcmp(n, chans[b].name) == 0, "bit %u: %s, want %s", b,
			 n ? n : "NULL", chans[b].name);
	}
	T_CHECK(frame_channel_name(FRAME_P_COUNT) == NULL);
	T_CHECK(frame_channel_name(64) == NULL);
	T_CHECK(frame_channel_name(~0u) == NULL);
	/* FRAME_P_COUNT covers every bit of the enum */
	T_EQ(FRAME_P_TYRE_TEMP_OUTER, 1ull << (FRAME_P_COUNT - 1));
	for (unsigned b = 0; b < FRAME_FLAG_COUNT; b++) {
		const char *n = frame_flag_name(b);
		T_CHECKF(n && strcmp(n, flag_names[b]) == 0, "flag %u: %s", b, n ? n : "NULL");
	}
	T_EQ(FRAME_FLAG_PAUSED, 1u << (FRAME_FLAG_COUNT - 1));
	T_CHECK(frame_flag_name(FRAME_FLAG_COUNT) == NULL);
	T_CHECK(frame_flag_name(~0u) == NULL);
}

/* The generated dictionary (frame_channels[]) agrees with the one written out above. */
static void test_channel_dictionary(void)
{
	static const size_t type_size[] = { 4, 8, 1, 1, 2, 4 };
	static const int dim_n[] = { 1, 3, 4, 3 };
	unsigned char cover[sizeof(struct pw_frame)] = { 0 };
	uint64_t bits = 0;

	T_CHECK(FRAME_P_ALL == (1ull << FRAME_P_COUNT) - 1);
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const struct frame_channel *c = &frame_channels[b];
		/* the test's types are in frame_type order: F32 F64 I8 U8 U16 I32 */
		unsigned want_type = (unsigned)chans[b].type;

		T_CHECKF(c->bit == chans[b].bit && c->bit == 1ull << b, "bit %u", b);
		T_CHECKF(strcmp(c->name, chans[b].name) == 0 && c->name_len == strlen(c->name),
			 "bit %u: %s", b, c->name);
		T_CHECKF(c->off == chans[b].off, "%s: offset %u, want %zu", c->name, c->off,
			 chans[b].off);
		T_CHECKF(c->type == want_type, "%s: type %u, want %u", c->name, c->type, want_type);
		T_CHECKF(c->n == chans[b].n && c->dim < 4 && dim_n[c->dim] == c->n,
			 "%s: n %u dim %u", c->name, c->n, c->dim);
		T_CHECKF(c->type < 6 && c->size == c->n * type_size[c->type], "%s: size %u",
			 c->name, c->size);
		T_CHECKF(c->unit && c->description && c->description[0], "%s: unit/description",
			 c->name);
		T_CHECKF(c->lo <= c->hi, "%s: range", c->name);
		/* flags: only the split times have a "not reached" value */
		T_CHECK(!!(c->flags & FRAME_CF_NEG_NULL) == (c->bit == FRAME_P_SECTOR_TIMES));
		/* only the yaw rate is derived by construction (no game sends it) */
		T_CHECK(!!(c->flags & FRAME_CF_DERIVED) == (c->bit == FRAME_P_YAW_RATE));
		T_CHECK(!(bits & c->bit));
		bits |= c->bit;
		for (unsigned k = 0; k < c->size; k++)
			cover[c->off + k]++;
	}
	T_CHECK(bits == FRAME_P_ALL);
	for (size_t o = 0; o < sizeof cover; o++)
		T_CHECKF(cover[o] <= 1, "byte %zu in %d channels", o, cover[o]);
	/* frame_channel_value reads what the test's own table reads */
	{
		struct pw_frame f;

		fill_full(&f);
		for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
			for (int i = 0; i < chans[b].n; i++)
				T_CHECKF(frame_channel_value(&f, b, (unsigned)i) ==
						 get(&f, &chans[b], i),
					 "%s[%d]", chans[b].name, i);
			T_CHECK(isnan(frame_channel_value(&f, b, (unsigned)chans[b].n)));
		}
		T_CHECK(isnan(frame_channel_value(&f, FRAME_P_COUNT, 0)));
		T_CHECK(isnan(frame_channel_value(&f, ~0u, 0)));
	}
	/* the dimensions the dictionary names (docs/architecture.md §2) */
	T_CHECK(frame_channels[FRAME_CH_VEL].dim == FRAME_DIM_XYZ);
	T_CHECK(frame_channels[FRAME_CH_POS].dim == FRAME_DIM_XYZ);
	T_CHECK(frame_channels[FRAME_CH_SECTOR_TIMES].dim == FRAME_DIM_SECTORS);
	T_CHECK(frame_channels[FRAME_CH_TYRE_WEAR].dim == FRAME_DIM_WHEELS);
	T_CHECK(frame_channels[FRAME_CH_SPEED].dim == FRAME_DIM_SCALAR);
	/* units and ranges of a few channels, as frame.h's header documents them */
	T_CHECK(strcmp(frame_channels[FRAME_CH_SPEED].unit, "km/h") == 0);
	T_CHECK(strcmp(frame_channels[FRAME_CH_GAME_TIME].unit, "s") == 0);
	T_CHECK(strcmp(frame_channels[FRAME_CH_TYRE_PRESS].unit, "kPa") == 0);
	T_CHECK(strcmp(frame_channels[FRAME_CH_THROTTLE].unit, "") == 0);
	{
		const struct frame_channel *thr = &frame_channels[FRAME_CH_THROTTLE];
		const struct frame_channel *steer = &frame_channels[FRAME_CH_STEER];
		const struct frame_channel *wear = &frame_channels[FRAME_CH_TYRE_WEAR];
		const struct frame_channel *speed = &frame_channels[FRAME_CH_SPEED];

		T_CHECK(thr->lo == 0 && thr->hi == 1 && steer->lo == -1 && steer->hi == 1);
		T_CHECK(wear->lo == 0 && wear->hi == 1 && isinf(speed->lo) && isinf(speed->hi));
	}
}

/* README.md's channel table names every channel and flag of the table. */
static void test_readme_channels(void)
{
	size_t len;
	char *text = (char *)t_read_file(t_data_path("../../README.md"), &len);
	const char *sec, *end;

	T_CHECK(text != NULL);
	if (!text)
		return;
	text[len] = 0; /* t_read_file leaves room for it */
	sec = strstr(text, "## The normalized frame");
	end = sec ? strstr(sec + 1, "\n## ") : NULL;
	T_CHECK(sec && end);
	for (unsigned b = 0; sec && end && b < FRAME_P_COUNT + FRAME_FLAG_COUNT; b++) {
		const char *name = b < FRAME_P_COUNT ? frame_channel_name(b)
						     : frame_flag_name(b - FRAME_P_COUNT);
		char want[64];
		const char *at;

		snprintf(want, sizeof want, "`%s`", name);
		at = strstr(sec, want);
		T_CHECKF(at && at < end, "README.md does not document %s", want);
	}
	free(text);
}

static void test_json_exact(void)
{
	struct pw_frame f;
	char buf[1024];

	frame_init(&f, PW_GAME_AC, PW_FEED_KSUDP);
	f.seq = 7;
	f.t_ns = 123;
	/* values without presence bits must not leak out */
	f.speed_kmh = 99.f;
	f.rpm = 5000.f;
	f.flags = FRAME_FLAG_IN_PIT;
	json_of(&f, buf, sizeof buf);
	T_CHECKF(strcmp(buf,
			"{\"seq\":7,\"t_ns\":123,\"feed\":\"ksudp\",\"game\":\"assetto_corsa\","
			"\"game_session\":0}") == 0,
		 "%s", buf);

	frame_init(&f, PW_GAME_AC, PW_FEED_KSUDP);
	f.seq = 42;
	f.t_ns = 1763805600123456789ll;
	f.game_session = 9;
	f.present = FRAME_P_GEAR | FRAME_P_SPEED | FRAME_P_SECTOR_TIMES | FRAME_P_LAST_LAP;
	f.gear = -1;
	f.speed_kmh = 123.5f;
	f.last_lap_ms = -1; /* scalar lap times are printed as given */
	f.sector_ms[0] = 83000, f.sector_ms[1] = -1, f.sector_ms[2] = -1;
	f.flags_known = FRAME_FLAG_IN_PIT | FRAME_FLAG_ABS;
	f.flags = FRAME_FLAG_ABS | FRAME_FLAG_TC; /* tc is not known: never shown */
	json_of(&f, buf, sizeof buf);
	T_CHECKF(strcmp(buf,
			"{\"seq\":42,\"t_ns\":1763805600123456789,\"feed\":\"ksudp\","
			"\"game\":\"assetto_corsa\",\"game_session\":9,\"gear\":-1,"
			"\"speed_kmh\":123.5,\"last_lap_ms\":-1,\"sector_ms\":[83000,null,null],"
			"\"flags\":{\"in_pit\":false,\"abs\":true}}") == 0,
		 "%s", buf);

	/* the full uint64 range of seq */
	f.seq = 18446744073709551615ull;
	json_of(&f, buf, sizeof buf);
	T_CHECKF(strncmp(buf, "{\"seq\":18446744073709551615,", 28) == 0, "%s", buf);

	/* ids out of range print as "unknown" */
	frame_init(&f, (enum pw_game)200, (enum pw_feed)77);
	json_of(&f, buf, sizeof buf);
	T_CHECKF(strstr(buf, "\"feed\":\"unknown\",\"game\":\"unknown\""), "%s", buf);
}

/* Only the present channel appears, even when every value is set; absent is never 0. */
static void test_json_presence(void)
{
	struct pw_frame full, f;
	char buf[4096];

	fill_full(&full);
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		json_t *j;
		const char *key;
		json_t *val;
		int keys = 0;

		f = full;
		f.present = 1ull << b;
		f.flags_known = 0;
		json_of(&f, buf, sizeof buf);
		if (!(j = parse_json(buf)))
			continue;
		json_object_foreach(j, key, val) {
			keys++;
			(void)val;
		}
		T_CHECKF(keys == 6, "bit %u: %d keys in %s", b, keys, buf);
		T_CHECKF(json_object_get(j, chans[b].name) != NULL, "bit %u missing: %s", b, buf);
		json_decref(j);
	}
	/* nothing present: identity only */
	f = full;
	f.present = 0;
	f.flags_known = 0;
	json_of(&f, buf, sizeof buf);
	for (unsigned b = 0; b < FRAME_P_COUNT; b++)
		T_CHECKF(!strstr(buf, chans[b].name), "%s leaked: %s", chans[b].name, buf);
	T_CHECK(!strstr(buf, "flags"));
	/* present with value 0 does appear */
	frame_init(&f, PW_GAME_ACC, PW_FEED_ACC);
	f.present = FRAME_P_THROTTLE | FRAME_P_GEAR | FRAME_P_TYRE_WEAR;
	json_of(&f, buf, sizeof buf);
	T_CHECKF(strstr(buf, ",\"throttle\":0,\"gear\":0,\"tyre_wear\":[0,0,0,0]}"), "%s", buf);
}

static void check_json_values(const struct pw_frame *f, json_t *j)
{
	T_EQ(json_integer_value(json_object_get(j, "seq")), (json_int_t)f->seq);
	T_EQ(json_integer_value(json_object_get(j, "t_ns")), f->t_ns);
	T_EQ(json_integer_value(json_object_get(j, "game_session")), (json_int_t)f->game_session);
	T_STREQ(json_string_value(json_object_get(j, "feed")), frame_feed_name(f->feed));
	T_STREQ(json_string_value(json_object_get(j, "game")), frame_game_name(f->game));
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const struct ch *c = &chans[b];
		json_t *v = json_object_get(j, c->name);

		if (!(f->present & c->bit)) {
			T_CHECK(v == NULL);
			continue;
		}
		if (c->n > 1) {
			T_CHECKF(json_is_array(v) && json_array_size(v) == (size_t)c->n, "%s",
				 c->name);
			if (!json_is_array(v))
				continue;
		}
		for (int i = 0; i < c->n; i++) {
			json_t *e = c->n > 1 ? json_array_get(v, (size_t)i) : v;
			double want = get(f, c, i);

			if (is_none(c, want)) {
				T_CHECKF(json_is_null(e), "%s[%d] should be null", c->name, i);
				continue;
			}
			if (!is_real(c)) {
				T_CHECKF(json_is_integer(e) &&
						 (double)json_integer_value(e) == want,
					 "%s[%d]: want %.0f", c->name, i, want);
				continue;
			}
			T_CHECKF(json_is_number(e) && same_value(c, want, json_number_value(e)),
				 "%s[%d]: %.17g parsed as %.17g", c->name, i, want,
				 json_number_value(e));
		}
	}
}

static void test_json_full_roundtrip(void)
{
	struct pw_frame f;
	char buf[4096];
	json_t *j, *fl;

	fill_full(&f);
	json_of(&f, buf, sizeof buf);
	T_CHECK(!strchr(buf, '\n') && !strchr(buf, ' '));
	if (!(j = parse_json(buf)))
		return;
	T_EQ(json_object_size(j), 5 + FRAME_P_COUNT + 1);
	check_json_values(&f, j);
	T_CHECKF(strcmp(json_string_value(json_object_get(j, "game")), "forza_motorsport_2023") ==
			 0,
		 "%s", buf);
	T_EQ(json_integer_value(json_object_get(j, "seq")), 9223372036854775807ll);
	fl = json_object_get(j, "flags");
	T_EQ(json_object_size(fl), FRAME_FLAG_COUNT);
	for (unsigned b = 0; b < FRAME_FLAG_COUNT; b++)
		T_CHECKF(json_is_boolean(json_object_get(fl, flag_names[b])) &&
				 json_is_true(json_object_get(fl, flag_names[b])) ==
					 !!(f.flags & (1u << b)),
			 "flag %s", flag_names[b]);
	json_decref(j);

	/* many random frames: every number comes back as the same float */
	srand(12345);
	for (int round = 0; round < 2000; round++) {
		uint8_t *p = (uint8_t *)&f;

		for (unsigned b = 0; b < FRAME_P_COUNT; b++)
			for (int i = 0; i < chans[b].n; i++) {
				uint8_t *q = p + chans[b].off;
				double r = ((double)rand() / RAND_MAX - 0.5) *
					   pow(10, rand() % 14 - 6);
				switch (chans[b].type) {
				case F32:
					((float *)q)[i] = (float)r;
					break;
				case F64:
					((double *)q)[i] = r * 1e3;
					break;
				case I8:
					((int8_t *)q)[i] = (int8_t)rand();
					break;
				case U8:
					((uint8_t *)q)[i] = (uint8_t)rand();
					break;
				case U16:
					((uint16_t *)q)[i] = (uint16_t)rand();
					break;
				case I32:
					((int32_t *)q)[i] = rand() - RAND_MAX / 2;
					break;
				}
			}
		f.present =
			((uint64_t)rand() << 31 ^ (uint64_t)rand()) & ((1ull << FRAME_P_COUNT) - 1);
		f.flags_known = (uint16_t)(rand() & 63);
		f.flags = (uint16_t)rand();
		json_of(&f, buf, sizeof buf);
		if (!(j = parse_json(buf)))
			break;
		check_json_values(&f, j);
		fl = json_object_get(j, "flags");
		T_CHECK(f.flags_known ? json_is_object(fl) : fl == NULL);
		for (unsigned b = 0; b < FRAME_FLAG_COUNT; b++) {
			json_t *v = json_object_get(fl, flag_names[b]);
			if (f.flags_known & (1u << b))
				T_CHECK(json_is_true(v) == !!(f.flags & (1u << b)) &&
					json_is_boolean(v));
			else
				T_CHECK(v == NULL);
		}
		json_decref(j);
		if (t_case_failed)
			break;
	}
}

/* A non-finite value is not a JSON number: it must still give valid JSON. */
static void test_json_non_finite(void)
{
	struct pw_frame f;
	char buf[1024];
	json_t *j;

	frame_init(&f, PW_GAME_PCARS2, PW_FEED_PCARS);
	f.present = FRAME_P_SPEED | FRAME_P_RPM | FRAME_P_POS | FRAME_P_GAME_TIME;
	f.speed_kmh = NAN;
	f.rpm = INFINITY;
	f.pos_m[0] = 1.5f, f.pos_m[1] = -INFINITY, f.pos_m[2] = 2.f;
	f.game_time_s = NAN;
	json_of(&f, buf, sizeof buf);
	if (!(j = parse_json(buf)))
		return;
	T_CHECK(json_is_null(json_object_get(j, "speed_kmh")));
	T_CHECK(json_is_null(json_object_get(j, "rpm")));
	T_CHECK(json_is_null(json_object_get(j, "game_time_s")));
	T_EQ(json_real_value(json_array_get(json_object_get(j, "pos_m"), 0)), 1.5);
	T_CHECK(json_is_null(json_array_get(json_object_get(j, "pos_m"), 1)));
	json_decref(j);
}

/* snprintf semantics at every capacity: exact needed length, always terminated, never past cap. */
static void check_snprintf(size_t (*fn)(const struct pw_frame *, char *, size_t),
			   const struct pw_frame *f, const char *what)
{
	char full[8192], buf[8192 + 16];
	size_t need = fn(f, NULL, 0), n;

	T_CHECKF(need > 0 && need < sizeof full, "%s needs %zu", what, need);
	T_CHECK(fn(f, full, sizeof full) == need && strlen(full) == need);
	T_CHECK(fn(f, full, need + 1) == need && strlen(full) == need);
	memset(buf, 'X', sizeof buf);
	T_CHECK(fn(f, buf, 0) == need && buf[0] == 'X');
	for (size_t cap = 1; cap <= need + 1; cap++) {
		memset(buf, 'X', cap + 8);
		n = fn(f, buf, cap);
		if (n != need || strlen(buf) != (cap - 1 < need ? cap - 1 : need) ||
		    memcmp(buf, full, strlen(buf)) != 0 || buf[cap] != 'X') {
			T_CHECKF(0, "%s cap %zu: returned %zu (need %zu), got '%s'", what, cap, n,
				 need, buf);
			break;
		}
	}
}

static size_t csv_header_of(const struct pw_frame *f, char *buf, size_t cap)
{
	(void)f;
	return frame_csv_header(buf, cap);
}

static void test_snprintf_semantics(void)
{
	struct pw_frame f;

	fill_full(&f);
	check_snprintf(frame_to_json, &f, "json");
	check_snprintf(frame_to_csv, &f, "csv");
	check_snprintf(csv_header_of, &f, "csv header");
	frame_init(&f, PW_GAME_AC, PW_FEED_KSUDP);
	check_snprintf(frame_to_json, &f, "json (empty)");
	check_snprintf(frame_to_csv, &f, "csv (empty)");
}

/* Split a CSV line (no quoting: every field is a number or a fixed name). */
static int split(char *line, char **cells, int max)
{
	int n = 0;
	char *p = line;
	size_t len = strlen(line);

	if (len && line[len - 1] == '\n')
		line[len - 1] = 0;
	T_CHECK(!strchr(line, '\n') && !strchr(line, '"'));
	for (;;) {
		char *comma = strchr(p, ',');
		if (n == max)
			return -1;
		cells[n++] = p;
		if (!comma)
			return n;
		*comma = 0;
		p = comma + 1;
	}
}

#define CSV_COLS (5 + 33 + 3 * 3 + 13 * 4 + FRAME_FLAG_COUNT + 1)

static int column(char **hdr, int ncol, const char *name)
{
	for (int i = 0; i < ncol; i++)
		if (strcmp(hdr[i], name) == 0)
			return i;
	return -1;
}

static void column_name(char *out, size_t cap, const struct ch *c, int i)
{
	static const char *const wheel[4] = { "fl", "fr", "rl", "rr" };
	static const char *const xyz[3] = { "x", "y", "z" };
	static const char *const sect[3] = { "1", "2", "3" };

	if (c->n == 1)
		snprintf(out, cap, "%s", c->name);
	else
		snprintf(out, cap, "%s_%s", c->name,
			 c->n == 4                        ? wheel[i]
			 : c->bit == FRAME_P_SECTOR_TIMES ? sect[i]
							  : xyz[i]);
}

static void check_csv_row(const struct pw_frame *f, char **hdr, int ncol)
{
	char row[8192], *cells[CSV_COLS + 8], name[64];
	int n;

	T_LT(frame_to_csv(f, row, sizeof row), sizeof row);
	n = split(row, cells, CSV_COLS + 8);
	T_CHECKF(n == ncol, "row has %d cells, header %d", n, ncol);
	if (n != ncol)
		return;
	T_EQ(strtoull(cells[0], NULL, 10), f->seq);
	T_EQ(strtoll(cells[1], NULL, 10), f->t_ns);
	T_STREQ(cells[2], frame_feed_name(f->feed));
	T_STREQ(cells[3], frame_game_name(f->game));
	T_EQ(strtoull(cells[4], NULL, 10), f->game_session);
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const struct ch *c = &chans[b];

		for (int i = 0; i < c->n; i++) {
			int col;
			char *cell, *end;
			double want = get(f, c, i), got;

			column_name(name, sizeof name, c, i);
			col = column(hdr, ncol, name);
			T_CHECKF(col >= 5, "no column %s", name);
			if (col < 5)
				continue;
			cell = cells[col];
			if (!(f->present & c->bit) || is_none(c, want)) {
				T_CHECKF(cell[0] == 0, "%s should be empty: '%s'", name, cell);
				continue;
			}
			got = strtod(cell, &end);
			T_CHECKF(cell[0] && *end == 0 && same_value(c, want, got),
				 "%s: '%s' want %.17g", name, cell, want);
			if (!is_real(c))
				T_CHECKF(!strpbrk(cell, ".eE"), "%s: '%s' is not an integer", name,
					 cell);
		}
	}
	for (unsigned b = 0; b < FRAME_FLAG_COUNT; b++) {
		const char *cell = cells[column(hdr, ncol, flag_names[b])];

		if (f->flags_known & (1u << b))
			T_CHECKF(strcmp(cell, (f->flags & (1u << b)) ? "1" : "0") == 0, "%s: '%s'",
				 flag_names[b], cell);
		else
			T_CHECKF(cell[0] == 0, "%s: '%s'", flag_names[b], cell);
	}
	/* the last column names the derived channels among the present ones */
	{
		char want[1024] = "", *w = want;

		T_STREQ(hdr[ncol - 1], "derived");
		for (unsigned b = 0; b < FRAME_P_COUNT; b++)
			if (f->present & f->derived & chans[b].bit)
				w += snprintf(w, sizeof want - (size_t)(w - want), "%s%s",
					      w == want ? "" : " ", chans[b].name);
		T_CHECKF(strcmp(cells[ncol - 1], want) == 0, "derived: '%s', want '%s'",
			 cells[ncol - 1], want);
	}
}

static void test_csv(void)
{
	char hline[8192], line[8192], *hdr[CSV_COLS + 8], name[64];
	struct pw_frame f;
	int ncol, next = 5;

	T_EQ(frame_csv_header(hline, sizeof hline), strlen(hline));
	memcpy(line, hline, sizeof line);
	T_EQ(strncmp(line, "seq,t_ns,feed,game,game_session,game_time_s,throttle,brake,", 59), 0);
	T_CHECK(strstr(line, ",vel_ms_x,vel_ms_y,vel_ms_z,") != NULL);
	T_CHECK(strstr(line, ",sector_ms_1,sector_ms_2,sector_ms_3,") != NULL);
	T_CHECK(strstr(line, ",tyre_temp_c_fl,tyre_temp_c_fr,tyre_temp_c_rl,tyre_temp_c_rr,") !=
		NULL);
	T_CHECK(strstr(line,
		       ",boost_bar,yaw_rate_rads,susp_travel_norm_fl,susp_travel_norm_fr,"
		       "susp_travel_norm_rl,susp_travel_norm_rr,tyre_temp_inner_c_fl,") != NULL);
	T_CHECK(strstr(line, ",tyre_temp_outer_c_rl,tyre_temp_outer_c_rr,in_pit,lap_invalid,abs,tc,"
			     "limiter,paused,derived") != NULL);
	ncol = split(hline, hdr, CSV_COLS + 8);
	T_CHECKF(ncol == CSV_COLS, "%d columns, want %d", ncol, CSV_COLS);
	if (ncol != CSV_COLS)
		return;
	/* columns in presence-bit order, names unique */
	for (unsigned b = 0; b < FRAME_P_COUNT; b++)
		for (int i = 0; i < chans[b].n; i++, next++) {
			column_name(name, sizeof name, &chans[b], i);
			T_CHECKF(strcmp(hdr[next], name) == 0, "column %d: %s, want %s", next,
				 hdr[next], name);
		}
	for (int i = 0; i < ncol; i++)
		for (int k = 0; k < i; k++)
			T_CHECK(strcmp(hdr[i], hdr[k]) != 0);

	fill_full(&f);
	check_csv_row(&f, hdr, ncol);
	/* all absent: empty cells, not zeros */
	f.present = 0;
	f.flags_known = 0;
	check_csv_row(&f, hdr, ncol);
	frame_init(&f, PW_GAME_AC, PW_FEED_KSUDP);
	T_EQ(frame_to_csv(&f, line, sizeof line), 25 + CSV_COLS - 5);
	T_EQ(strncmp(line, "0,0,ksudp,assetto_corsa,0,,,", 28), 0);
	T_EQ(strspn(line + 25, ","), CSV_COLS - 5);
	/* random presence subsets */
	srand(777);
	for (int round = 0; round < 300 && !t_case_failed; round++) {
		fill_full(&f);
		f.present =
			((uint64_t)rand() << 31 ^ (uint64_t)rand()) & ((1ull << FRAME_P_COUNT) - 1);
		f.flags_known = (uint16_t)(rand() & 63);
		f.flags = (uint16_t)rand();
		f.gear = (int8_t)(rand() % 9 - 1);
		f.sector_ms[rand() % 3] = -1;
		f.derived = ((uint64_t)rand() << 31 ^ (uint64_t)rand()) | 1ull << 63;
		check_csv_row(&f, hdr, ncol);
	}
	/* non-finite numbers leave the cell empty rather than writing "nan" */
	frame_init(&f, PW_GAME_AC, PW_FEED_KSUDP);
	f.present = FRAME_P_SPEED | FRAME_P_RPM;
	f.speed_kmh = NAN;
	f.rpm = 7000.f;
	frame_to_csv(&f, line, sizeof line);
	T_CHECKF(!strstr(line, "nan") && strstr(line, ",,7000,"), "%s", line);
}

static void test_meta_strcpy(void)
{
	char dst[16], *src;

	/* stops at the NUL, zero-fills the rest (the meta block is compared bytewise) */
	memset(dst, 'X', sizeof dst);
	meta_strcpy(dst, sizeof dst, "monza\0garbage", 13);
	T_STREQ(dst, "monza");
	for (size_t i = 5; i < sizeof dst; i++)
		T_EQ(dst[i], 0);
	/* a source without a NUL: exactly n bytes are read (ASan checks the heap copy) */
	src = malloc(6);
	memcpy(src, "abcdef", 6);
	meta_strcpy(dst, sizeof dst, src, 6);
	T_STREQ(dst, "abcdef");
	meta_strcpy(dst, sizeof dst, src, 3);
	T_STREQ(dst, "abc");
	/* bounded by cap */
	meta_strcpy(dst, 4, src, 6);
	T_STREQ(dst, "abc");
	free(src);
	meta_strcpy(dst, sizeof dst, "0123456789abcdefghij", 20);
	T_STREQ(dst, "0123456789abcde");
	/* control bytes replaced, UTF-8 kept */
	meta_strcpy(dst, sizeof dst, "a\tb\001c\x7f\n", 7);
	T_CHECKF(strcmp(dst, "a?b?c??") == 0, "%s", dst);
	meta_strcpy(dst, sizeof dst, "N\xc3\xbcrburgring", 12);
	T_STREQ(dst, "N\xc3\xbcrburgring");
	/* trailing blanks trimmed, inner kept; also after cutting at cap */
	meta_strcpy(dst, sizeof dst, "spa   ", 6);
	T_STREQ(dst, "spa");
	meta_strcpy(dst, sizeof dst, "  le mans  \0  x", 15);
	T_STREQ(dst, "  le mans");
	meta_strcpy(dst, sizeof dst, "     ", 5);
	T_EQ(dst[0], 0);
	meta_strcpy(dst, 5, "ab  cd", 6);
	T_STREQ(dst, "ab");
	/* empty inputs */
	memset(dst, 'X', sizeof dst);
	meta_strcpy(dst, sizeof dst, "abc", 0);
	T_CHECK(dst[0] == 0 && dst[15] == 0);
	meta_strcpy(dst, sizeof dst, "", 10);
	T_EQ(dst[0], 0);
	/* cap 1: just the terminator; cap 0: nothing touched */
	memset(dst, 'X', sizeof dst);
	meta_strcpy(dst, 1, "abc", 3);
	T_CHECK(dst[0] == 0 && dst[1] == 'X');
	memset(dst, 'X', sizeof dst);
	meta_strcpy(dst, 0, "abc", 3);
	T_EQ(dst[0], 'X');
	/* exactly fits: cap - 1 characters */
	meta_strcpy(dst, sizeof dst, "0123456789abcde", 15);
	T_STREQ(dst, "0123456789abcde");
}

/* The "derived" key lists the present derived channels, in channel order, and only them. */
static void test_json_derived(void)
{
	struct pw_frame f;
	char buf[4096];
	json_t *j, *d;

	frame_init(&f, PW_GAME_ACC, PW_FEED_ACC);
	f.present = FRAME_P_SPEED | FRAME_P_ACCEL_LAT | FRAME_P_YAW_RATE | FRAME_P_LAP_DIST;
	f.speed_kmh = 100.f;
	f.accel_lat_g = 1.25f;
	f.yaw_rate_rads = -0.5f;
	f.lap_dist_m = 12.f;
	/* a derived bit without its presence bit (accel_lon_g) and one beyond the table never show */
	f.derived = FRAME_P_YAW_RATE | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON | 1ull << 63;
	json_of(&f, buf, sizeof buf);
	T_CHECKF(
		strcmp(buf,
		       "{\"seq\":0,\"t_ns\":0,\"feed\":\"acc\",\"game\":\"assetto_corsa_competizione\","
		       "\"game_session\":0,\"speed_kmh\":100,\"accel_lat_g\":1.25,\"lap_dist_m\":12,"
		       "\"yaw_rate_rads\":-0.5,\"derived\":[\"accel_lat_g\",\"yaw_rate_rads\"]}") ==
			0,
		"%s", buf);
	/* nothing derived: no key at all (the frames of a game that sends everything are unchanged) */
	f.derived = FRAME_P_ACCEL_LON;
	json_of(&f, buf, sizeof buf);
	T_CHECKF(!strstr(buf, "derived"), "%s", buf);
	/* every channel derived: a valid object, the list in channel order */
	fill_full(&f);
	f.derived = FRAME_P_ALL;
	json_of(&f, buf, sizeof buf);
	if (!(j = parse_json(buf)))
		return;
	d = json_object_get(j, "derived");
	T_CHECK(json_is_array(d) && json_array_size(d) == FRAME_P_COUNT);
	for (unsigned b = 0; b < FRAME_P_COUNT && json_is_array(d); b++)
		T_STREQ(json_string_value(json_array_get(d, b)), chans[b].name);
	json_decref(j);
}

/* Version 1 frames (rings, frame files and jobs written before version 2) come up clean. */
static void test_upgrade(void)
{
	struct pw_frame f, g;

	fill_full(&f);
	f.derived = FRAME_P_ACCEL_LAT;
	g = f;
	T_EQ(frame_upgrade(&f), 0);
	T_CHECK(memcmp(&f, &g, sizeof f) == 0);
	/* a version 1 frame with junk where version 2 keeps its new fields */
	fill_full(&f);
	f.version = 1;
	memset(&f.yaw_rate_rads, 0xa5, sizeof f - offsetof(struct pw_frame, yaw_rate_rads));
	g = f;
	T_EQ(frame_upgrade(&f), 0);
	T_EQ(f.version, FRAME_VERSION);
	T_CHECK(f.derived == 0 && f.yaw_rate_rads == 0.f && !(f.present & FRAME_P_YAW_RATE));
	T_EQ(f.present, FRAME_P_YAW_RATE - 1);
	g.present = f.present;
	T_CHECK(memcmp(&f, &g, offsetof(struct pw_frame, version)) == 0);
	T_CHECK(memcmp(&f.game, &g.game,
		       offsetof(struct pw_frame, yaw_rate_rads) -
			       offsetof(struct pw_frame, game)) == 0);
	for (size_t i = offsetof(struct pw_frame, yaw_rate_rads); i < sizeof f; i++)
		T_EQ(((const uint8_t *)&f)[i], 0);
	/* versions this build does not know are refused and left alone */
	for (unsigned v = 0; v < 70000; v += v < 8 ? 1 : 9973) {
		if (v >= FRAME_VERSION_MIN && v <= FRAME_VERSION)
			continue;
		fill_full(&f);
		f.version = (uint16_t)v;
		g = f;
		T_EQ(frame_upgrade(&f), -EPROTO);
		T_CHECK(memcmp(&f, &g, sizeof f) == 0);
	}
}

/* game_session fits every JSON reader: kept below 2^53, folded above (F1's
 * random 64-bit uids; jansson refused those above 2^63 and the store then
 * dropped the laps of such a session). */
static void test_session_id(void)
{
	const uint64_t big[] = { 0x68f65200bf7d356dull, 0xfedcba9876543210ull, UINT64_MAX,
				 (1ull << 53), 0x8000000000000001ull };
	char buf[512];
	json_error_t jerr;

	T_EQ(frame_session_id(0), 0);
	T_EQ(frame_session_id(42), 42);
	T_EQ(frame_session_id((1ull << 53) - 1), (1ull << 53) - 1);
	for (size_t i = 0; i < sizeof big / sizeof *big; i++) {
		uint64_t id = frame_session_id(big[i]);
		struct pw_frame f;
		json_t *o;

		T_LT(id, 1ull << 53);
		T_NE(id, frame_session_id(big[i] ^ 1)); /* neighbours stay apart */
		frame_init(&f, PW_GAME_F1_24, PW_FEED_F1);
		f.game_session = id;
		frame_to_json(&f, buf, sizeof buf);
		o = json_loads(buf, 0, &jerr);
		T_CHECK(o != NULL);
		T_EQ((uint64_t)json_integer_value(json_object_get(o, "game_session")), id);
		json_decref(o);
	}
}

int main(void)
{
	T_RUN(test_init);
	T_RUN(test_game_names);
	T_RUN(test_feed_names);
	T_RUN(test_channel_and_flag_names);
	T_RUN(test_channel_dictionary);
	T_RUN(test_readme_channels);
	T_RUN(test_json_exact);
	T_RUN(test_json_presence);
	T_RUN(test_json_full_roundtrip);
	T_RUN(test_json_non_finite);
	T_RUN(test_snprintf_semantics);
	T_RUN(test_csv);
	T_RUN(test_json_derived);
	T_RUN(test_upgrade);
	T_RUN(test_meta_strcpy);
	T_RUN(test_session_id);
	return T_DONE();
}
