/*
 * enc_forza.c - Forza "Data Out" datagrams from frames (the inverse of
 * dec_forza.c; layouts in docs/protocols.md §6).
 *
 * One datagram per tick: 232-byte Sled, 311-byte FM7 Dash, 324-byte FH4/FH5
 * or 331-byte FM2023. Fields the frame does not carry get the game's resting
 * value 0 (idle rpm, angular velocity, normalised slip angle and combined
 * slip, rumble, puddles, driving line). NormalizedSuspensionTravel is
 * susp_travel_norm; TireSlipRatio is the game's normalised slip, slip_ratio /
 * FZ_SLIP_RATIO_PEAK (the real Laguna Seca CSV reads -5.65 on a locked wheel,
 * physical -1: the peak sits at a slip of 0.177; dec_forza does not read it).
 * The car ordinal, class and PI come from meta.car ("car_ordinal:N") and
 * meta.car_class ("class:C pi:P"), the FM2023 track ordinal from meta.track
 * ("track_ordinal:N"), as dec_forza writes them.
 * DistanceTraveled is rebuilt as lap * meta.track_len_m + lap_dist_m.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "capture/bytes.h"
#include "capture/forza.h"
#include "capture/sim/encoder.h"

#define FZ_TICK_MS 16.6667
#define FZ_SLIP_RATIO_PEAK 0.177f

static int has(const struct pw_frame *f, uint64_t bit)
{
	return (f->present & bit) != 0;
}

/* The integer after key in a dec_forza meta string ("class:8 pi:231"), or 0. */
static uint32_t meta_int(const char *s, const char *key)
{
	const char *p = strstr(s, key);
	return p ? (uint32_t)strtol(p + strlen(key), NULL, 10) : 0;
}

static uint8_t to_u8(float unit)
{
	float v = roundf(fin(unit) * 255.0f);
	return (uint8_t)(v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v);
}

static int8_t to_steer(float s)
{
	float v = roundf(fin(s) * 127.0f);
	return (int8_t)(v < -127.0f ? -127.0f : v > 127.0f ? 127.0f : v);
}

static float lap_s(int32_t ms)
{
	return ms > 0 ? (float)ms / 1000.0f : 0.0f;
}

static uint8_t to_gear(const struct pw_frame *f)
{
	if (!has(f, FRAME_P_GEAR) || f->gear == 0)
		return FZ_GEAR_NEUTRAL;
	return f->gear < 0 ? 0 : (uint8_t)f->gear;
}

static uint32_t timestamp_ms(const struct enc_state *es, const struct pw_frame *f)
{
	double ms =
		has(f, FRAME_P_GAME_TIME) ? f->game_time_s * 1000.0 : (double)es->tick * FZ_TICK_MS;
	return (uint32_t)(uint64_t)llround(ms);
}

static void put_sled(uint8_t *b, size_t len, const struct enc_state *es, const struct pw_frame *f,
		     const struct pw_meta *m)
{
	wr_u32(b, len, FZ_IS_RACE_ON, (f->flags & FRAME_FLAG_PAUSED) ? 0 : 1);
	wr_u32(b, len, FZ_TIMESTAMP_MS, timestamp_ms(es, f));
	wr_f32(b, len, FZ_MAX_RPM, f->max_rpm);
	wr_f32(b, len, FZ_RPM, f->rpm);
	wr_f32(b, len, FZ_ACCEL_X, f->accel_lat_g * FZ_G);
	wr_f32(b, len, FZ_ACCEL_Y, f->accel_vert_g * FZ_G);
	wr_f32(b, len, FZ_ACCEL_Z, f->accel_lon_g * FZ_G);
	for (int i = 0; i < 3; i++)
		wr_f32(b, len, FZ_VEL + 4 * (size_t)i, f->vel_ms[i]);
	wr_f32(b, len, FZ_YAW, f->yaw_rad);
	wr_f32(b, len, FZ_PITCH, f->pitch_rad);
	wr_f32(b, len, FZ_ROLL, f->roll_rad);
	for (int w = 0; w < 4; w++) {
		wr_f32(b, len, FZ_WHEEL_SPEED + 4 * (size_t)w, f->wheel_speed_rads[w]);
		wr_f32(b, len, FZ_SUSP_TRAVEL + 4 * (size_t)w, f->susp_travel_m[w]);
		wr_f32(b, len, FZ_SUSP_NORM + 4 * (size_t)w,
		       has(f, FRAME_P_SUSP_NORM) ? f->susp_travel_norm[w] : 0.0f);
		wr_f32(b, len, FZ_SLIP_RATIO + 4 * (size_t)w,
		       has(f, FRAME_P_SLIP_RATIO) ? f->slip_ratio[w] / FZ_SLIP_RATIO_PEAK : 0.0f);
	}
	wr_u32(b, len, FZ_CAR_ORDINAL, meta_int(m->car, "car_ordinal:"));
	wr_u32(b, len, FZ_CAR_CLASS, meta_int(m->car_class, "class:"));
	wr_u32(b, len, FZ_CAR_PI, meta_int(m->car_class, "pi:"));
	wr_u32(b, len, FZ_DRIVETRAIN,
	       1); /* RWD: the emulator's car drives its rear wheels (car.c) */
}

static void put_dash(uint8_t *b, size_t len, size_t d, const struct pw_frame *f,
		     const struct pw_meta *m)
{
	float lap_start = m->track_len_m > 0.0f ? (float)f->lap * m->track_len_m : 0.0f;

	for (int i = 0; i < 3; i++)
		wr_f32(b, len, d + FZ_D_POS + 4 * (size_t)i, f->pos_m[i]);
	wr_f32(b, len, d + FZ_D_SPEED, f->speed_kmh / 3.6f);
	wr_f32(b, len, d + FZ_D_POWER, f->power_w);
	wr_f32(b, len, d + FZ_D_TORQUE, f->torque_nm);
	for (int w = 0; w < 4; w++)
		wr_f32(b, len, d + FZ_D_TYRE_TEMP + 4 * (size_t)w,
		       f->tyre_temp_c[w] * 9.0f / 5.0f + 32.0f);
	wr_f32(b, len, d + FZ_D_BOOST, f->boost_bar / FZ_BAR_PER_PSI);
	wr_f32(b, len, d + FZ_D_FUEL, f->fuel_frac);
	wr_f32(b, len, d + FZ_D_DISTANCE, lap_start + f->lap_dist_m);
	wr_f32(b, len, d + FZ_D_BEST_LAP, lap_s(f->best_lap_ms));
	wr_f32(b, len, d + FZ_D_LAST_LAP, lap_s(f->last_lap_ms));
	wr_f32(b, len, d + FZ_D_CUR_LAP, lap_s(f->lap_time_ms));
	wr_f32(b, len, d + FZ_D_RACE_TIME, (float)f->game_time_s);
	wr_u16(b, len, d + FZ_D_LAP, f->lap);
	wr_u8(b, len, d + FZ_D_RACE_POS, has(f, FRAME_P_POSITION) ? f->position : 0);
	wr_u8(b, len, d + FZ_D_THROTTLE, to_u8(f->throttle));
	wr_u8(b, len, d + FZ_D_BRAKE, to_u8(f->brake));
	wr_u8(b, len, d + FZ_D_CLUTCH, to_u8(f->clutch));
	wr_u8(b, len, d + FZ_D_HANDBRAKE, to_u8(f->handbrake));
	wr_u8(b, len, d + FZ_D_GEAR, to_gear(f));
	wr_u8(b, len, d + FZ_D_STEER, (uint8_t)to_steer(f->steer));
}

static void put_fm2023(uint8_t *b, size_t len, const struct pw_frame *f, const struct pw_meta *m)
{
	for (int w = 0; w < 4; w++)
		wr_f32(b, len, FZ_WEAR_OFF + 4 * (size_t)w,
		       has(f, FRAME_P_TYRE_WEAR) ? f->tyre_wear[w] : 1.0f);
	wr_u32(b, len, FZ_TRACK_OFF, meta_int(m->track, "track_ordinal:"));
}

static void encode_len(struct enc_state *es, const struct pw_frame *f, const struct pw_meta *m,
		       enc_emit_fn emit, void *ctx, size_t len)
{
	uint8_t b[FZ_FM2023_LEN];

	memset(b, 0, sizeof b);
	put_sled(b, len, es, f, m);
	if (len == FZ_FM7_LEN || len == FZ_FM2023_LEN)
		put_dash(b, len, FZ_DASH_OFF, f, m);
	else if (len == FZ_FH_LEN)
		put_dash(b, len, FZ_FH_DASH_OFF, f, m);
	if (len == FZ_FM2023_LEN)
		put_fm2023(b, len, f, m);
	emit(ctx, b, len);
	es->tick++;
}

static void encode_sled(struct enc_state *es, const struct pw_frame *f, const struct pw_meta *m,
			enc_emit_fn emit, void *ctx)
{
	encode_len(es, f, m, emit, ctx, FZ_SLED_LEN);
}

static void encode_fm7(struct enc_state *es, const struct pw_frame *f, const struct pw_meta *m,
		       enc_emit_fn emit, void *ctx)
{
	encode_len(es, f, m, emit, ctx, FZ_FM7_LEN);
}

static void encode_fh(struct enc_state *es, const struct pw_frame *f, const struct pw_meta *m,
		      enc_emit_fn emit, void *ctx)
{
	encode_len(es, f, m, emit, ctx, FZ_FH_LEN);
}

static void encode_fm2023(struct enc_state *es, const struct pw_frame *f, const struct pw_meta *m,
			  enc_emit_fn emit, void *ctx)
{
	encode_len(es, f, m, emit, ctx, FZ_FM2023_LEN);
}

const struct encoder enc_forza_sled = { "forza", "sled", encode_sled, PW_GAME_FORZA_SLED };
const struct encoder enc_forza_fm7 = { "forza", "fm7", encode_fm7, PW_GAME_FM7 };
const struct encoder enc_forza_fh = { "forza", "fh", encode_fh, PW_GAME_FH };
const struct encoder enc_forza_fm2023 = { "forza", "fm2023", encode_fm2023, PW_GAME_FM2023 };
