/*
 * test_dec_forza.c - Forza Data Out decoder and encoders against real data.
 *
 * No raw Forza capture exists under a usable licence; the real data is a CSV
 * written by austinbaccus/forza-telemetry from 687 FM7 Dash packets (one lap
 * of Laguna Seca). Every row is rebuilt here field by field into the exact
 * 311-byte datagram the game sent (and into the 232/324/331-byte variants),
 * decoded, and checked against the CSV values and their unit relations.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/bytes.h"
#include "capture/decoder.h"
#include "capture/forza.h"
#include "capture/sim/encoder.h"
#include "tests/unit/t.h"
#include "tests/unit/t_csv.h"

#define CSV_PATH "forza/austinbaccus_forza-telemetry/laguna-seca.csv"
#define CSV_ROWS 687
#define MAX_FIELDS 100

#define SLED 232
#define FM7 311
#define FH 324
#define FM2023 331
#define FH_DASH 244
#define G0 9.80665
#define PI 3.14159265358979323846

/* ---- the CSV ---- */

static struct t_csv csv;

/* ---- Turn 10 field table: CSV column name -> offset and type ---- */

enum ftype { F32, S32, U32, U16, U8, S8 };

struct field {
	char name[64];
	size_t off; /* from the packet start (sled) or the dash block (dash) */
	enum ftype type;
	int dash;
};

static struct field fields[MAX_FIELDS];
static int nfields;

static void add(const char *name, size_t off, enum ftype type, int dash)
{
	struct field *f = &fields[nfields++];

	snprintf(f->name, sizeof f->name, "%s", name);
	f->off = off;
	f->type = type;
	f->dash = dash;
}

static void add_xyz(const char *prefix, size_t off)
{
	static const char *const axis[] = { "X", "Y", "Z" };
	char n[64];

	for (int i = 0; i < 3; i++) {
		snprintf(n, sizeof n, "%s%s", prefix, axis[i]);
		add(n, off + 4 * (size_t)i, F32, prefix[0] == 'P');
	}
}

static void add_wheels(const char *prefix, size_t off, enum ftype type)
{
	static const char *const wheel[] = { "FrontLeft", "FrontRight", "RearLeft", "RearRight" };
	char n[64];

	for (int i = 0; i < 4; i++) {
		snprintf(n, sizeof n, "%s%s", prefix, wheel[i]);
		add(n, off + 4 * (size_t)i, type, 0);
	}
}

static void build_fields(void)
{
	static const char *const sled_groups[] = {
		"NormalizedSuspensionTravel",
		"TireSlipRatio",
		"WheelRotationSpeed",
		"WheelOnRumbleStrip",
		"WheelInPuddleDepth",
		"SurfaceRumble",
		"TireSlipAngle",
		"TireCombinedSlip",
		"SuspensionTravelMeters",
	};
	static const char *const sled_tail[] = {
		"CarOrdinal", "CarClass", "CarPerformanceIndex", "DrivetrainType", "NumCylinders",
	};
	static const char *const temps[] = { "TireTempFl", "TireTempFr", "TireTempRl",
					     "TireTempRr" };
	static const char *const dash_f32[] = {
		"Boost",       "Fuel",           "Distance",        "BestLapTime",
		"LastLapTime", "CurrentLapTime", "CurrentRaceTime",
	};
	static const char *const dash_u8[] = {
		"RacePosition", "Accelerator", "Brake", "Clutch", "Handbrake", "Gear",
	};

	if (nfields)
		return;
	add("IsRaceOn", 0, S32, 0);
	add("TimestampMS", 4, U32, 0);
	add("EngineMaxRpm", 8, F32, 0);
	add("EngineIdleRpm", 12, F32, 0);
	add("CurrentEngineRpm", 16, F32, 0);
	add_xyz("Acceleration", 20);
	add_xyz("Velocity", 32);
	add_xyz("AngularVelocity", 44);
	add("Yaw", 56, F32, 0);
	add("Pitch", 60, F32, 0);
	add("Roll", 64, F32, 0);
	for (int g = 0; g < 9; g++)
		add_wheels(sled_groups[g], 68 + 16 * (size_t)g, g == 3 ? S32 : F32);
	for (int i = 0; i < 5; i++)
		add(sled_tail[i], 212 + 4 * (size_t)i, S32, 0);

	add_xyz("Position", 0);
	add("Speed", 12, F32, 1);
	add("Power", 16, F32, 1);
	add("Torque", 20, F32, 1);
	for (int i = 0; i < 4; i++)
		add(temps[i], 24 + 4 * (size_t)i, F32, 1);
	for (int i = 0; i < 7; i++)
		add(dash_f32[i], 40 + 4 * (size_t)i, F32, 1);
	add("Lap", 68, U16, 1);
	for (int i = 0; i < 6; i++)
		add(dash_u8[i], 70 + (size_t)i, U8, 1);
	add("Steer", 76, S8, 1);
	add("NormalDrivingLine", 77, U8, 1);
	add("NormalAiBrakeDifference", 78, U8, 1);
}

/*
 * Write one CSV cell back into its packet slot. The recorder printed the s32
 * WheelOnRumbleStrip fields as floats of the same bits (1 shows as 1e-45), so
 * a non-integral value in an s32 slot is written back as those float bits.
 */
static void put_field(uint8_t *b, size_t len, size_t off, enum ftype type, double v)
{
	switch (type) {
	case F32:
		wr_f32(b, len, off, (float)v);
		break;
	case S32:
	case U32:
		if (v == floor(v))
			wr_u32(b, len, off, (uint32_t)(int64_t)v);
		else
			wr_f32(b, len, off, (float)v);
		break;
	case U16:
		wr_u16(b, len, off, (uint16_t)v);
		break;
	case U8:
	case S8:
		wr_u8(b, len, off, (uint8_t)(int)v);
		break;
	}
}

/* The datagram of row r in the layout of the given length (dash fields absent in Sled). */
static void build_packet(int r, size_t len, uint8_t *b)
{
	size_t dash = len == FH ? FH_DASH : SLED;

	memset(b, 0, len);
	for (int i = 0; i < nfields; i++) {
		const struct field *f = &fields[i];
		if (f->dash && len == SLED)
			continue;
		put_field(b, len, (f->dash ? dash : 0) + f->off, f->type,
			  t_csv_cell(&csv, r, f->name));
	}
	if (len == FM2023) {
		for (int w = 0; w < 4; w++)
			wr_f32(b, len, 311 + 4 * (size_t)w, 1.0f - 0.0001f * (float)(r + w));
		wr_u32(b, len, 327, 860);
	}
}

/* ---- helpers ---- */

static int all_finite(const struct pw_frame *f)
{
	const float *p = &f->throttle;
	const float *end = (const float *)(const void *)&f->gear;

	for (; p < end; p++)
		if (!isfinite(*p))
			return 0;
	for (p = &f->lap_dist_m; p < (const float *)(const void *)f->reserved; p++)
		if (!isfinite(*p))
			return 0;
	return isfinite(f->game_time_s);
}

static int decode(struct dec_state *st, const uint8_t *b, size_t len, struct pw_frame *f)
{
	return dec_forza.decode(st, b, len, f);
}

static double wrap_pi(double a)
{
	while (a > PI)
		a -= 2 * PI;
	while (a < -PI)
		a += 2 * PI;
	return a;
}

static double correlation(const double *a, const double *b, int n)
{
	double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;

	for (int i = 0; i < n; i++) {
		ma += a[i] / n;
		mb += b[i] / n;
	}
	for (int i = 0; i < n; i++) {
		sab += (a[i] - ma) * (b[i] - mb);
		saa += (a[i] - ma) * (a[i] - ma);
		sbb += (b[i] - mb) * (b[i] - mb);
	}
	return sab / sqrt(saa * sbb);
}

/* ---- real data ---- */

static void test_csv_shape(void)
{
	build_fields();
	T_CHECK(t_csv_load(&csv, CSV_PATH) == CSV_ROWS);
	T_CHECK(csv.ncols == 85);
	T_CHECK(nfields == 85);
	for (int i = 0; i < nfields; i++)
		T_CHECKF(t_csv_col(&csv, fields[i].name) >= 0, "column %s", fields[i].name);
}

/* Checks shared by every format carrying the Dash block. */
static void check_dash_row(int r, const struct pw_frame *f)
{
	int gear = (int)t_csv_cell(&csv, r, "Gear");

	T_NEAR(f->speed_kmh, t_csv_cell(&csv, r, "Speed") * 3.6, 1e-3);
	T_NEAR(f->tyre_temp_c[0], (t_csv_cell(&csv, r, "TireTempFl") - 32) * 5 / 9, 1e-3);
	T_NEAR(f->tyre_temp_c[1], (t_csv_cell(&csv, r, "TireTempFr") - 32) * 5 / 9, 1e-3);
	T_NEAR(f->tyre_temp_c[2], (t_csv_cell(&csv, r, "TireTempRl") - 32) * 5 / 9, 1e-3);
	T_NEAR(f->tyre_temp_c[3], (t_csv_cell(&csv, r, "TireTempRr") - 32) * 5 / 9, 1e-3);
	T_CHECK(f->present & FRAME_P_GEAR);
	T_CHECK(gear >= 2 && gear <= 7 && f->gear == gear);
	T_NEAR(f->throttle, t_csv_cell(&csv, r, "Accelerator") / 255, 1e-6);
	T_NEAR(f->brake, t_csv_cell(&csv, r, "Brake") / 255, 1e-6);
	T_NEAR(f->clutch, 0, 0);
	T_NEAR(f->steer, t_csv_cell(&csv, r, "Steer") / 127, 1e-6);
	T_NEAR(f->power_w, t_csv_cell(&csv, r, "Power"), fabs(t_csv_cell(&csv, r, "Power")) * 1e-6);
	T_NEAR(f->torque_nm, t_csv_cell(&csv, r, "Torque"), 1e-3);
	T_NEAR(f->boost_bar, t_csv_cell(&csv, r, "Boost") * 0.0689475729, 1e-5);
	T_NEAR(f->fuel_frac, 1.0, 0);
	T_NEAR(f->pos_m[0], t_csv_cell(&csv, r, "PositionX"), 1e-3);
	T_NEAR(f->pos_m[2], t_csv_cell(&csv, r, "PositionZ"), 1e-3);
	T_CHECK(f->position == 1 && (f->present & FRAME_P_POSITION));
	T_CHECK(f->lap == (uint16_t)t_csv_cell(&csv, r, "Lap"));
	T_CHECK(f->lap_time_ms ==
		(int32_t)lround((double)(float)t_csv_cell(&csv, r, "CurrentLapTime") * 1000));
	if (f->lap == 0) {
		T_CHECK(f->last_lap_ms == -1 && f->best_lap_ms == -1);
		T_NEAR(f->lap_dist_m, t_csv_cell(&csv, r, "Distance"), 1e-3);
	} else {
		T_CHECK(f->last_lap_ms == 75256 && f->best_lap_ms == 75256);
		/* lap 1 began ~0.06 s before its first packet: distance ~ v t */
		T_NEAR(f->lap_dist_m,
		       t_csv_cell(&csv, r, "CurrentLapTime") * t_csv_cell(&csv, r, "Speed"), 1.5);
	}
	T_CHECK(f->present & FRAME_P_LAP_DIST);
	T_CHECK((f->present & (FRAME_P_SLIP_RATIO | FRAME_P_SLIP_ANGLE)) == 0);
}

static void check_sled_row(int r, const struct pw_frame *f)
{
	double v = t_csv_cell(&csv, r, "Speed");

	T_NEAR(f->game_time_s, t_csv_cell(&csv, r, "TimestampMS") / 1000.0, 1e-6);
	T_NEAR(f->rpm, t_csv_cell(&csv, r, "CurrentEngineRpm"), 1e-2);
	T_NEAR(f->max_rpm, 14999.992, 1e-2);
	T_NEAR(f->accel_lat_g, t_csv_cell(&csv, r, "AccelerationX") / G0, 1e-5);
	T_NEAR(f->accel_vert_g, t_csv_cell(&csv, r, "AccelerationY") / G0, 1e-5);
	T_NEAR(f->accel_lon_g, t_csv_cell(&csv, r, "AccelerationZ") / G0, 1e-5);
	T_NEAR(f->vel_ms[0], t_csv_cell(&csv, r, "VelocityX"), 1e-5);
	T_NEAR(f->vel_ms[2], t_csv_cell(&csv, r, "VelocityZ"), 1e-4);
	T_NEAR(f->yaw_rad, t_csv_cell(&csv, r, "Yaw"), 1e-6);
	T_NEAR(f->wheel_speed_rads[3], t_csv_cell(&csv, r, "WheelRotationSpeedRearRight"), 1e-4);
	T_NEAR(f->susp_travel_m[0], t_csv_cell(&csv, r, "SuspensionTravelMetersFrontLeft"), 1e-7);
	T_NEAR(f->susp_travel_norm[0], t_csv_cell(&csv, r, "NormalizedSuspensionTravelFrontLeft"),
	       1e-7);
	T_NEAR(f->susp_travel_norm[3], t_csv_cell(&csv, r, "NormalizedSuspensionTravelRearRight"),
	       1e-7);
	T_CHECK(f->present & FRAME_P_SUSP_NORM);
	/* Sled speed comes from |velocity|, which is the Dash Speed on real data */
	T_NEAR(f->speed_kmh, v * 3.6, 1e-3);
	T_CHECK(f->flags_known == FRAME_FLAG_PAUSED && f->flags == 0);
	T_CHECK(all_finite(f));
}

static void test_real_lap_all_formats(void)
{
	static const size_t lens[] = { FM7, SLED, FH, FM2023 };
	static const uint8_t games[] = { PW_GAME_FM7, PW_GAME_FORZA_SLED, PW_GAME_FH,
					 PW_GAME_FM2023 };
	static struct dec_state st;
	uint8_t b[FM2023];
	struct pw_frame f;

	build_fields();
	if (t_csv_load(&csv, CSV_PATH) != CSV_ROWS) {
		T_CHECK(!"fixture missing");
		return;
	}
	for (int k = 0; k < 4; k++) {
		int frames = 0, laps_done = 0, lap0 = 0;
		uint64_t session = 0;

		dec_reset(&st);
		for (int r = 0; r < csv.nrows; r++) {
			build_packet(r, lens[k], b);
			if (decode(&st, b, lens[k], &f) != DEC_FRAME)
				continue;
			frames++;
			T_CHECK(f.version == FRAME_VERSION && f.game == games[k] &&
				f.feed == PW_FEED_FORZA);
			check_sled_row(r, &f);
			if (lens[k] != SLED)
				check_dash_row(r, &f);
			if (lens[k] == FM2023)
				T_NEAR(f.tyre_wear[2], 1.0f - 0.0001f * (float)(r + 2), 1e-7);
			if (r == 0)
				session = f.game_session;
			T_CHECK(f.game_session == session && session != 0);
			lap0 += f.lap == 0;
			laps_done = f.lap;
		}
		T_CHECKF(frames == CSV_ROWS, "format %zu: %d frames", lens[k], frames);
		if (lens[k] != SLED) {
			T_CHECK(lap0 == 684 && laps_done == 1);
		}
		T_CHECK(strcmp(st.meta.car, "car_ordinal:29") == 0);
		T_CHECK(strcmp(st.meta.car_class, "class:8 pi:231") == 0);
		T_CHECK(st.meta.car_ordinal == 29 && st.meta.car_class_num == 8 &&
			st.meta.car_pi == 231);
		T_CHECK(!(st.meta.numbers & META_N_TRACK_ORDINAL) == (lens[k] != FM2023));
		T_CHECK(lens[k] != FM2023 || st.meta.track_ordinal == 860);
		T_CHECK(st.meta.format == lens[k]);
		T_CHECK(strcmp(st.meta.game, frame_game_name(games[k])) == 0);
		T_CHECK(st.meta.game_session == session);
		/* FM2023's track ordinal 860 is named from the public list (dec_forza_names.c) */
		T_CHECK(strcmp(st.meta.track,
			       lens[k] == FM2023 ? "Brands Hatch (Grand Prix)" : "") == 0);
		T_CHECK(strcmp(st.meta.layout, lens[k] == FM2023 ? "Grand Prix" : "") == 0);
	}
}

/*
 * Sign conventions from the path itself. The heading of the displacement,
 * atan2(dx, dz), follows the decoded yaw; over the lap it winds -2 pi, as
 * Laguna Seca is driven anticlockwise, so a rising heading is a right turn.
 * Lateral g and steer must then be positive in right turns.
 */
static void test_real_sign_conventions(void)
{
	static struct dec_state st;
	static struct pw_frame fr[CSV_ROWS];
	static double rate[CSV_ROWS], lat[CSV_ROWS], steer[CSV_ROWS];
	uint8_t b[FM7];
	double total = 0, yaw_err = 0;
	int n = 0;

	build_fields();
	if (t_csv_load(&csv, CSV_PATH) != CSV_ROWS)
		return;
	dec_reset(&st);
	for (int r = 0; r < CSV_ROWS; r++) {
		build_packet(r, FM7, b);
		T_CHECK(decode(&st, b, FM7, &fr[r]) == DEC_FRAME);
	}
	for (int r = 1; r + 1 < CSV_ROWS; r++) {
		double h0 = atan2(fr[r].pos_m[0] - fr[r - 1].pos_m[0],
				  fr[r].pos_m[2] - fr[r - 1].pos_m[2]);
		double h1 = atan2(fr[r + 1].pos_m[0] - fr[r].pos_m[0],
				  fr[r + 1].pos_m[2] - fr[r].pos_m[2]);

		rate[n] = wrap_pi(h1 - h0);
		lat[n] = fr[r].accel_lat_g;
		steer[n] = fr[r].steer;
		total += rate[n];
		yaw_err += fabs(wrap_pi(h1 - fr[r].yaw_rad)) / (CSV_ROWS - 2);
		n++;
	}
	T_NEAR(total, -2 * PI, 0.05);
	T_CHECKF(yaw_err < 0.02, "mean |heading - yaw| %g rad", yaw_err);
	T_CHECKF(correlation(lat, rate, n) > 0.85, "lat g vs right-turn rate %g",
		 correlation(lat, rate, n));
	T_CHECKF(correlation(steer, rate, n) > 0.85, "steer vs right-turn rate %g",
		 correlation(steer, rate, n));
}

/* The lap change: lap 0 -> 1 with LastLap 75.256 s; lap start back-projected. */
static void test_real_lap_change(void)
{
	static struct dec_state st;
	uint8_t b[FM7];
	struct pw_frame f;
	int r;

	build_fields();
	if (t_csv_load(&csv, CSV_PATH) != CSV_ROWS)
		return;
	dec_reset(&st);
	for (r = 0; r < CSV_ROWS; r++) {
		build_packet(r, FM7, b);
		decode(&st, b, FM7, &f);
		if (f.lap == 1)
			break;
	}
	T_CHECK(r == 684);
	T_CHECK(f.last_lap_ms == 75256);
	/* Laguna Seca is 3602 m: the estimated start of lap 1 is the track length */
	T_NEAR(t_csv_cell(&csv, r, "Distance") - f.lap_dist_m, 3602, 5);

	/* joining mid-race (lap 1 first seen): distance is unknown until the next lap */
	dec_reset(&st);
	build_packet(685, FM7, b);
	decode(&st, b, FM7, &f);
	T_CHECK(f.lap == 1 && !(f.present & FRAME_P_LAP_DIST));
	T_CHECK(f.present & FRAME_P_LAP);
}

/* ---- synthetic cases ---- */

static void base_packet(uint8_t *b, size_t len)
{
	size_t d = len == FH ? FH_DASH : SLED;

	memset(b, 0, len);
	wr_u32(b, len, 0, 1);
	wr_u32(b, len, 4, 1000);
	wr_u32(b, len, 212, 1234);
	if (len == SLED)
		return;
	wr_f32(b, len, d + 12, 50.0f);
	wr_f32(b, len, d + 60, 10.0f);
	wr_u8(b, len, d + 70, 3);
	wr_u8(b, len, d + 75, 4);
}

static void test_truncation_and_sizes(void)
{
	static struct dec_state st;
	uint8_t b[512];
	struct pw_frame f;

	memset(b, 0xA5, sizeof b);
	dec_reset(&st);
	for (size_t len = 0; len < sizeof b; len++) {
		int rc = decode(&st, b, len, &f);
		int known = len == SLED || len == FM7 || len == FH || len == FM2023;
		T_CHECKF(known ? rc == DEC_FRAME : rc == DEC_ESIZE, "len %zu rc %d", len, rc);
	}
	T_CHECK(decode(&st, NULL, 0, &f) == DEC_ESIZE);
	/* an exact-size heap copy so ASan sees any overrun */
	for (size_t len = 0; len <= FM2023; len++) {
		uint8_t *h = malloc(len ? len : 1);
		memcpy(h, b, len);
		decode(&st, h, len, &f);
		free(h);
	}
}

static void test_garbage(void)
{
	static const size_t lens[] = { SLED, FM7, FH, FM2023 };
	static struct dec_state st;
	uint32_t x = 12345;
	uint8_t b[FM2023];
	struct pw_frame f;

	dec_reset(&st);
	for (int i = 0; i < 4000; i++) {
		size_t len = lens[i % 4];
		for (size_t j = 0; j < len; j++) {
			x = x * 1103515245u + 12345u;
			b[j] = (uint8_t)(x >> 16);
		}
		if (i % 3 == 0) /* NaN floats everywhere */
			for (size_t j = 8; j + 4 <= len; j += 4)
				wr_u32(b, len, j, 0x7fc00000u);
		T_CHECK(decode(&st, b, len, &f) == DEC_FRAME);
		T_CHECK(all_finite(&f));
		T_CHECK(f.version == FRAME_VERSION && f.feed == PW_FEED_FORZA);
		T_CHECK(!(f.present & FRAME_P_GEAR) || (f.gear >= -1 && f.gear <= 10));
		T_CHECK(f.steer >= -1.0f && f.steer <= 1.0f);
	}
}

static void test_nan_and_unset(void)
{
	static struct dec_state st;
	uint8_t b[FM7];
	struct pw_frame f;

	base_packet(b, FM7);
	wr_u32(b, FM7, 232 + 12, 0x7f800000u); /* Speed = +Inf */
	wr_u32(b, FM7, 16, 0xffc00000u);       /* rpm = NaN */
	wr_f32(b, FM7, 232 + 60, 0.0f);        /* CurrentLap 0: not timing */
	wr_u8(b, FM7, 232 + 70, 0);            /* RacePosition 0: none */
	dec_reset(&st);
	T_CHECK(decode(&st, b, FM7, &f) == DEC_FRAME);
	T_CHECK(f.speed_kmh == 0 && f.rpm == 0);
	T_CHECK((f.present & FRAME_P_SPEED) && (f.present & FRAME_P_RPM));
	T_CHECK(f.lap_time_ms == -1 && f.last_lap_ms == -1 && f.best_lap_ms == -1);
	T_CHECK(f.present & FRAME_P_LAP_TIME);
	T_CHECK(!(f.present & FRAME_P_POSITION) && f.position == 0);
	T_CHECK(!(f.present & FRAME_P_LAP_DIST));
	T_CHECK(!(f.present & FRAME_P_TYRE_WEAR));
}

static void test_gears(void)
{
	static const struct {
		uint8_t raw;
		int known;
		int8_t gear;
	} cases[] = {
		{ 0, 1, -1 }, { 1, 1, 1 },  { 6, 1, 6 },   { 10, 1, 10 },
		{ 11, 1, 0 }, { 12, 0, 0 }, { 255, 0, 0 },
	};
	static struct dec_state st;
	uint8_t b[FH];
	struct pw_frame f;

	dec_reset(&st);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		base_packet(b, FH);
		wr_u8(b, FH, FH_DASH + 75, cases[i].raw);
		T_CHECK(decode(&st, b, FH, &f) == DEC_FRAME);
		T_CHECKF(!!(f.present & FRAME_P_GEAR) == cases[i].known && f.gear == cases[i].gear,
			 "raw gear %u -> %d", cases[i].raw, f.gear);
	}
	/* steer extremes: -128 clamps to -1 */
	base_packet(b, FH);
	wr_u8(b, FH, FH_DASH + 76, 0x80);
	decode(&st, b, FH, &f);
	T_NEAR(f.steer, -1.0, 0);
	wr_u8(b, FH, FH_DASH + 76, 127);
	decode(&st, b, FH, &f);
	T_NEAR(f.steer, 1.0, 0);
}

static void test_paused_and_sessions(void)
{
	static struct dec_state st;
	uint8_t b[FM2023];
	struct pw_frame f;
	uint64_t s1, s2;
	uint32_t gen;

	dec_reset(&st);
	base_packet(b, FM2023);
	wr_u32(b, FM2023, 327, 500);
	decode(&st, b, FM2023, &f);
	s1 = f.game_session;
	T_CHECK(s1 == 1000 && st.meta.game_session == s1);
	T_CHECK(!(f.flags & FRAME_FLAG_PAUSED) && (f.flags_known & FRAME_FLAG_PAUSED));

	/* race stops: still a frame, paused, same session */
	wr_u32(b, FM2023, 0, 0);
	wr_u32(b, FM2023, 4, 2000);
	T_CHECK(decode(&st, b, FM2023, &f) == DEC_FRAME);
	T_CHECK((f.flags & FRAME_FLAG_PAUSED) && f.game_session == s1);

	/* IsRaceOn 0 -> 1: new session */
	wr_u32(b, FM2023, 0, 1);
	wr_u32(b, FM2023, 4, 3000);
	decode(&st, b, FM2023, &f);
	s2 = f.game_session;
	T_CHECK(s2 == 3000 && s2 != s1 && !(f.flags & FRAME_FLAG_PAUSED));

	/* unchanged packet: same session, no metadata change */
	gen = st.meta_gen;
	wr_u32(b, FM2023, 4, 3016);
	decode(&st, b, FM2023, &f);
	T_CHECK(f.game_session == s2 && st.meta_gen == gen);

	/* track ordinal change: new session and new meta.track */
	wr_u32(b, FM2023, 327, 501);
	wr_u32(b, FM2023, 4, 3032);
	decode(&st, b, FM2023, &f);
	T_CHECK(f.game_session == 3032 && strcmp(st.meta.track, "track_ordinal:501") == 0);
	T_CHECK(st.meta_gen != gen);

	/* car ordinal change at the same timestamp: still a distinct, larger id */
	wr_u32(b, FM2023, 212, 77);
	decode(&st, b, FM2023, &f);
	T_CHECK(f.game_session == 3033 && strcmp(st.meta.car, "car_ordinal:77") == 0);

	/* menu datagrams full of zeros: no session flapping, car metadata kept */
	memset(b, 0, FM2023);
	wr_u32(b, FM2023, 4, 4000);
	T_CHECK(decode(&st, b, FM2023, &f) == DEC_FRAME && (f.flags & FRAME_FLAG_PAUSED));
	T_CHECK(f.game_session == 3033 && strcmp(st.meta.car, "car_ordinal:77") == 0);
	T_CHECK(strcmp(st.meta.track, "track_ordinal:501") == 0);
	/* back on track with another car: new session */
	base_packet(b, FM2023);
	wr_u32(b, FM2023, 4, 5000);
	decode(&st, b, FM2023, &f);
	T_CHECK(f.game_session == 5000 && strcmp(st.meta.car, "car_ordinal:1234") == 0);
	/* ordinal 0 is a listed track (Laguna Seca); 1234 no listed car */
	T_CHECK(strcmp(st.meta.track, "WeatherTech Raceway Laguna Seca (Full Circuit)") == 0);
}

/* FM2023 ordinals named from the public list; other formats and unlisted ordinals keep the number. */
static void test_names(void)
{
	static struct dec_state st;
	struct pw_frame f;
	uint8_t b[FM2023];

	dec_reset(&st);
	base_packet(b, FM2023);
	wr_u32(b, FM2023, 212, 2290); /* car */
	wr_u32(b, FM2023, 327, 101);  /* track */
	decode(&st, b, FM2023, &f);
	T_STREQ(st.meta.car, "2014 Porsche 918 Spyder");
	T_STREQ(st.meta.track, "Le Mans (Old Mulsanne Circuit)");
	T_STREQ(st.meta.layout, "Old Mulsanne Circuit");
	/* the numbers behind the names stay in the metadata */
	T_EQ(st.meta.numbers, (uint32_t)(META_N_CAR_ORDINAL | META_N_TRACK_ORDINAL |
					 META_N_CAR_CLASS | META_N_CAR_PI | META_N_DRIVETRAIN));
	T_EQ(st.meta.car_ordinal, 2290);
	T_EQ(st.meta.track_ordinal, 101);
	/* DrivetrainType: 2 AWD; a value outside 0..2 is not known */
	wr_u32(b, FM2023, 224, 2);
	decode(&st, b, FM2023, &f);
	T_CHECK((st.meta.numbers & META_N_DRIVETRAIN) && st.meta.drivetrain == META_DRIVETRAIN_AWD);
	wr_u32(b, FM2023, 224, 7);
	decode(&st, b, FM2023, &f);
	T_CHECK(!(st.meta.numbers & META_N_DRIVETRAIN));
	wr_u32(b, FM2023, 224, 0);
	wr_u32(b, FM2023, 212, 9007); /* the last car of the list */
	wr_u32(b, FM2023, 327, 1663); /* the last track */
	wr_u32(b, FM2023, 4, 9000);
	decode(&st, b, FM2023, &f);
	T_STREQ(st.meta.car, "1994 Ford Supervan 3 'Donut Media Edition'");
	T_STREQ(st.meta.track, "Eaglerock Speedway (Club Circuit Reverse)");
	wr_u32(b, FM2023, 212, 248); /* between two listed cars */
	wr_u32(b, FM2023, 327, 2);
	wr_u32(b, FM2023, 4, 9100);
	decode(&st, b, FM2023, &f);
	T_STREQ(st.meta.car, "car_ordinal:248");
	T_STREQ(st.meta.track, "track_ordinal:2");
	T_STREQ(st.meta.layout, "");
	/* FM7 Dash: ordinals only (the list is FM2023's) */
	dec_reset(&st);
	base_packet(b, FM7);
	wr_u32(b, FM7, 212, 2290);
	decode(&st, b, FM7, &f);
	T_STREQ(st.meta.car, "car_ordinal:2290");
	T_STREQ(st.meta.track, "");
	/* the tables are sorted (bsearch) and every name fits the metadata */
	for (int i = 0; i < FZ_FM2023_CARS; i++) {
		T_CHECK(i == 0 || forza_fm2023_cars[i - 1].ordinal < forza_fm2023_cars[i].ordinal);
		T_CHECK(strlen(forza_fm2023_cars[i].name) < META_STR);
	}
	for (int i = 0; i < FZ_FM2023_TRACKS; i++) {
		T_CHECK(i == 0 ||
			forza_fm2023_tracks[i - 1].ordinal < forza_fm2023_tracks[i].ordinal);
		T_CHECK(strlen(forza_fm2023_tracks[i].name) < META_STR);
	}
}

static void test_timestamp_wrap(void)
{
	static struct dec_state st;
	uint8_t b[SLED];
	struct pw_frame f;

	dec_reset(&st);
	base_packet(b, SLED);
	wr_u32(b, SLED, 4, 0xfffffff0u);
	decode(&st, b, SLED, &f);
	T_NEAR(f.game_time_s, 4294967.280, 1e-6);
	wr_u32(b, SLED, 4, 0x10);
	decode(&st, b, SLED, &f);
	T_NEAR(f.game_time_s, 4294967.312, 1e-6);
	T_CHECK(f.game_session == 0xfffffff0u);
	T_CHECK(f.present & FRAME_P_SPEED);
	T_CHECK(!(f.present & (FRAME_P_GEAR | FRAME_P_POS | FRAME_P_LAP | FRAME_P_THROTTLE)));
}

/* ---- encoders ---- */

struct sink {
	uint8_t buf[4][FM2023];
	size_t len[4];
	int n;
};

static void collect(void *ctx, const uint8_t *buf, size_t len)
{
	struct sink *s = ctx;

	if (s->n < 4 && len <= sizeof s->buf[0]) {
		memcpy(s->buf[s->n], buf, len);
		s->len[s->n++] = len;
	}
}

static void distinctive(struct pw_frame *f, struct pw_meta *m)
{
	static const float vel[3] = { 1.25f, -0.5f, 41.0f };

	frame_init(f, PW_GAME_FM2023, PW_FEED_FORZA);
	memset(m, 0, sizeof *m);
	snprintf(m->car, sizeof m->car, "car_ordinal:2871");
	snprintf(m->car_class, sizeof m->car_class, "class:5 pi:801");
	snprintf(m->track, sizeof m->track, "track_ordinal:3001");
	f->game_time_s = 1234.567;
	f->throttle = 200 / 255.0f;
	f->brake = 17 / 255.0f;
	f->clutch = 1.0f;
	f->handbrake = 0;
	f->steer = -64 / 127.0f;
	f->gear = 5;
	f->rpm = 7123.5f;
	f->max_rpm = 8500;
	f->power_w = 301234.5f;
	f->torque_nm = 456.25f;
	memcpy(f->vel_ms, vel, sizeof vel);
	f->speed_kmh = sqrtf(vel[0] * vel[0] + vel[1] * vel[1] + vel[2] * vel[2]) * 3.6f;
	f->accel_lat_g = 1.5f;
	f->accel_lon_g = -0.75f;
	f->accel_vert_g = 0.125f;
	f->pos_m[0] = -350.5f;
	f->pos_m[1] = 12.25f;
	f->pos_m[2] = 283.75f;
	f->yaw_rad = -2.5f;
	f->pitch_rad = 0.03125f;
	f->roll_rad = -0.0625f;
	f->lap = 0;
	f->lap_time_ms = 61234;
	f->last_lap_ms = 75256;
	f->best_lap_ms = 74001;
	f->lap_dist_m = 2345.5f;
	f->position = 7;
	f->fuel_frac = 0.625f;
	f->boost_bar = 1.25f;
	for (int w = 0; w < 4; w++) {
		f->tyre_temp_c[w] = 80.0f + (float)w * 2.5f;
		f->wheel_speed_rads[w] = 120.0f + (float)w;
		f->susp_travel_m[w] = 0.01f * (float)(w + 1);
		f->susp_travel_norm[w] = 0.2f * (float)(w + 1);
		f->tyre_wear[w] = 0.9f - 0.05f * (float)w;
	}
	f->present = FRAME_P_GAME_TIME | FRAME_P_THROTTLE | FRAME_P_BRAKE | FRAME_P_CLUTCH |
		     FRAME_P_HANDBRAKE | FRAME_P_STEER | FRAME_P_GEAR | FRAME_P_RPM |
		     FRAME_P_MAX_RPM | FRAME_P_POWER | FRAME_P_TORQUE | FRAME_P_VEL |
		     FRAME_P_SPEED | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON | FRAME_P_ACCEL_VERT |
		     FRAME_P_POS | FRAME_P_YAW | FRAME_P_PITCH | FRAME_P_ROLL | FRAME_P_LAP |
		     FRAME_P_LAP_TIME | FRAME_P_LAST_LAP | FRAME_P_BEST_LAP | FRAME_P_LAP_DIST |
		     FRAME_P_POSITION | FRAME_P_FUEL_FRAC | FRAME_P_BOOST | FRAME_P_TYRE_TEMP |
		     FRAME_P_WHEEL_SPEED | FRAME_P_SUSP_TRAVEL | FRAME_P_TYRE_WEAR |
		     FRAME_P_SUSP_NORM;
}

static void check_roundtrip(const struct pw_frame *a, const struct pw_frame *b, size_t len)
{
	uint64_t sled = FRAME_P_GAME_TIME | FRAME_P_RPM | FRAME_P_MAX_RPM | FRAME_P_VEL |
			FRAME_P_SPEED | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON | FRAME_P_ACCEL_VERT |
			FRAME_P_YAW | FRAME_P_PITCH | FRAME_P_ROLL | FRAME_P_WHEEL_SPEED |
			FRAME_P_SUSP_TRAVEL | FRAME_P_SUSP_NORM;
	uint64_t want = sled;

	if (len != SLED)
		want = a->present & ~FRAME_P_TYRE_WEAR;
	if (len == FM2023)
		want = a->present;
	T_CHECKF(b->present == want, "len %zu present %llx want %llx", len,
		 (unsigned long long)b->present, (unsigned long long)want);
	T_NEAR(b->game_time_s, a->game_time_s, 1e-3);
	T_NEAR(b->rpm, a->rpm, 1e-3);
	T_NEAR(b->max_rpm, a->max_rpm, 1e-3);
	for (int i = 0; i < 3; i++) {
		T_NEAR(b->vel_ms[i], a->vel_ms[i], 1e-6);
		T_NEAR(b->pos_m[i], len == SLED ? 0 : a->pos_m[i], 1e-4);
	}
	T_NEAR(b->speed_kmh, a->speed_kmh, 1e-3);
	T_NEAR(b->accel_lat_g, a->accel_lat_g, 1e-6);
	T_NEAR(b->accel_lon_g, a->accel_lon_g, 1e-6);
	T_NEAR(b->accel_vert_g, a->accel_vert_g, 1e-6);
	T_NEAR(b->yaw_rad, a->yaw_rad, 0);
	T_NEAR(b->pitch_rad, a->pitch_rad, 0);
	T_NEAR(b->roll_rad, a->roll_rad, 0);
	for (int w = 0; w < 4; w++) {
		T_NEAR(b->wheel_speed_rads[w], a->wheel_speed_rads[w], 0);
		T_NEAR(b->susp_travel_m[w], a->susp_travel_m[w], 0);
		T_NEAR(b->susp_travel_norm[w], a->susp_travel_norm[w], 0);
	}
	T_CHECK(b->flags == a->flags && b->flags_known == FRAME_FLAG_PAUSED);
	if (len == SLED)
		return;
	T_NEAR(b->throttle, a->throttle, 1e-6);
	T_NEAR(b->brake, a->brake, 1e-6);
	T_NEAR(b->clutch, a->clutch, 1e-6);
	T_NEAR(b->handbrake, a->handbrake, 1e-6);
	T_NEAR(b->steer, a->steer, 1e-6);
	T_CHECK(b->gear == a->gear && b->lap == a->lap && b->position == a->position);
	T_NEAR(b->power_w, a->power_w, 1e-2);
	T_NEAR(b->torque_nm, a->torque_nm, 1e-4);
	T_CHECK(b->lap_time_ms == a->lap_time_ms && b->last_lap_ms == a->last_lap_ms &&
		b->best_lap_ms == a->best_lap_ms);
	T_NEAR(b->lap_dist_m, a->lap_dist_m, 1e-3);
	T_NEAR(b->fuel_frac, a->fuel_frac, 0);
	T_NEAR(b->boost_bar, a->boost_bar, 1e-5);
	for (int w = 0; w < 4; w++) {
		T_NEAR(b->tyre_temp_c[w], a->tyre_temp_c[w], 1e-4);
		T_NEAR(b->tyre_wear[w], len == FM2023 ? a->tyre_wear[w] : 0, 0);
	}
}

static void test_roundtrip(void)
{
	static const struct encoder *const encs[] = {
		&enc_forza_sled,
		&enc_forza_fm7,
		&enc_forza_fh,
		&enc_forza_fm2023,
	};
	static const size_t lens[] = { SLED, FM7, FH, FM2023 };
	static const char *const names[] = { "sled", "fm7", "fh", "fm2023" };
	static struct dec_state st;
	struct enc_state es;
	struct pw_frame f, out;
	struct pw_meta m;
	struct sink sink;

	for (int k = 0; k < 4; k++) {
		T_CHECK(strcmp(encs[k]->feed, "forza") == 0 &&
			strcmp(encs[k]->format, names[k]) == 0);
		for (int paused = 0; paused < 2; paused++) {
			distinctive(&f, &m);
			f.flags = paused ? FRAME_FLAG_PAUSED : 0;
			f.flags_known = FRAME_FLAG_PAUSED;
			memset(&es, 0, sizeof es);
			memset(&sink, 0, sizeof sink);
			encs[k]->encode(&es, &f, &m, collect, &sink);
			T_CHECK(sink.n == 1 && sink.len[0] == lens[k] && es.tick == 1);
			dec_reset(&st);
			T_CHECK(decode(&st, sink.buf[0], sink.len[0], &out) == DEC_FRAME);
			check_roundtrip(&f, &out, lens[k]);
			T_CHECK(strcmp(st.meta.car, m.car) == 0);
			T_CHECK(strcmp(st.meta.car_class, m.car_class) == 0);
			T_CHECK(strcmp(st.meta.track, lens[k] == FM2023 ? m.track : "") == 0);
		}
	}
	/* gear edge cases through the encoder: R and N */
	distinctive(&f, &m);
	for (int g = -1; g <= 0; g++) {
		f.gear = (int8_t)g;
		memset(&sink, 0, sizeof sink);
		enc_forza_fm7.encode(&es, &f, &m, collect, &sink);
		dec_reset(&st);
		decode(&st, sink.buf[0], sink.len[0], &out);
		T_CHECK(out.gear == g && (out.present & FRAME_P_GEAR));
	}
}

int main(void)
{
	T_RUN(test_csv_shape);
	T_RUN(test_real_lap_all_formats);
	T_RUN(test_real_sign_conventions);
	T_RUN(test_real_lap_change);
	T_RUN(test_truncation_and_sizes);
	T_RUN(test_garbage);
	T_RUN(test_nan_and_unset);
	T_RUN(test_gears);
	T_RUN(test_paused_and_sessions);
	T_RUN(test_names);
	T_RUN(test_timestamp_wrap);
	T_RUN(test_roundtrip);
	free(csv.text);
	return T_DONE();
}
