/*
 * enc_pcars.c - Project CARS UDP for pw-sim: format "v1" (Project CARS 1,
 * 1367-byte telemetry + 1347-byte participant strings) and format "v2"
 * (Project CARS 2 / AMS2 patch 5, one packet per type).
 *
 * The exact inverse of capture/dec_pcars.c (its header lists the axes and
 * units: local vectors x left, y up, z back; tyre RPS negative forward; wear
 * 0 = new; times in seconds, -1 = unset; positions as s16 metres plus
 * quarter-metre fractions in sSector). The simulated car is participant 0,
 * viewed and local, the only active one, racing (race state 2), build 1200.
 *
 * v1 per tick: the strings packet every 60 ticks (first, so the first frame
 * already has its metadata), then telemetry. v2 per tick: race definition,
 * participants, vehicle and class names, game state and time stats every 60
 * ticks and whenever what they carry changes, then timings, then telemetry -
 * the decoder emits the frame on telemetry, so the tick's timings go first.
 * Fields the frame lacks are written as the game's "unset": -1 s for times,
 * 0 elsewhere (world velocity/acceleration, damage, weather, temperatures of
 * oil and water, tyre carcass layers). v2 telemetry sends the tread's inner,
 * middle and outer temperatures as sTyreTempLeft/Center/Right in whole degC.
 */
#include <math.h>
#include <string.h>

#include "capture/bytes.h"
#include "capture/pcars.h"
#include "capture/sim/encoder.h"

#define BUILD 1200
#define PERIOD 60 /* ticks between periodic packets */
#define UNSET_S (-1.0f)

/* v2 stream state kept in enc_state.priv. */
struct pc2_enc {
	uint32_t packets;                  /* mPacketNumber of the next packet */
	uint32_t category[PCARS_V2_TYPES]; /* mCategoryPacketNumber per type */
	int32_t last_ms, best_ms;          /* what the last time-stats packet said */
	uint8_t game_state, session_state, sent_any;
	float track_len;
	char track[64], layout[64];
};
_Static_assert(sizeof(struct pc2_enc) <= sizeof(((struct enc_state *)0)->priv), "priv fits");

static int has(const struct pw_frame *f, uint64_t bit)
{
	return (f->present & bit) != 0;
}

static uint8_t q_u8(float v, float scale)
{
	return (uint8_t)lroundf(clampf(v * scale, 0.0f, 255.0f));
}

static int8_t q_s8(float v)
{
	return (int8_t)lroundf(clampf(v * 127.0f, -127.0f, 127.0f));
}

static uint16_t q_u16(float v)
{
	return (uint16_t)lroundf(clampf(v, 0.0f, 65535.0f));
}

static int16_t q_s16(float v)
{
	return (int16_t)lroundf(clampf(v, -32768.0f, 32767.0f));
}

static float seconds(const struct pw_frame *f, uint64_t bit, int32_t ms)
{
	return has(f, bit) && ms >= 0 ? (float)ms / 1000.0f : UNSET_S;
}

static void put_str(uint8_t *b, size_t len, size_t off, const char *s, size_t n)
{
	size_t k = s ? strnlen(s, n - 1) : 0;

	if (rd_ok(len, off, n)) {
		memset(b + off, 0, n);
		memcpy(b + off, s ? s : "", k);
	}
}

static unsigned session_state(const struct pw_meta *m)
{
	static const struct {
		const char *name;
		unsigned state;
	} map[] = { { "practice", 1 }, { "qualifying", 3 }, { "race", 5 }, { "time_trial", 6 } };

	for (size_t i = 0; m && i < sizeof map / sizeof map[0]; i++)
		if (strcmp(m->session_type, map[i].name) == 0)
			return map[i].state;
	return 0;
}

static unsigned game_state(const struct pw_frame *f)
{
	return (f->flags & FRAME_FLAG_PAUSED) ? 3 : 2; /* in game: paused / playing */
}

/* sGearNumGears: gear low nibble (15 = R), number of gears high nibble. */
static uint8_t gear_byte(const struct pw_frame *f)
{
	int g = has(f, FRAME_P_GEAR) ? f->gear : 0;
	unsigned gears = has(f, FRAME_P_NUM_GEARS) && f->num_gears < 15 ? f->num_gears : 0;

	g = g < 0 ? 15 : g > 14 ? 14 : g;
	return (uint8_t)((unsigned)g | gears << 4);
}

/* Quarter-metre world position: s16 metres at off, fraction bits for sSector. */
static uint8_t put_pos(uint8_t *b, size_t len, size_t off, const struct pw_frame *f)
{
	float q[3];
	uint8_t frac = 0;

	if (!has(f, FRAME_P_POS))
		return 0;
	for (int i = 0; i < 3; i++)
		q[i] = floorf(clampf(f->pos_m[i], -32768.0f, 32767.75f) * 4.0f);
	for (int i = 0; i < 3; i += 2) {
		float whole = floorf(q[i] / 4.0f);
		wr_u16(b, len, off + 2 * (size_t)i, (uint16_t)(int16_t)whole);
		frac |= (uint8_t)((unsigned)(q[i] - whole * 4.0f) << (i == 0 ? 6 : 4));
	}
	wr_u16(b, len, off + 2, (uint16_t)q_s16(floorf(f->pos_m[1])));
	return frac;
}

static uint8_t sector_byte(const struct pw_frame *f, uint8_t frac)
{
	return (uint8_t)(frac | (has(f, FRAME_P_SECTOR) && f->sector < 3 ? f->sector + 1 : 0));
}

static void put_wheel_f32(uint8_t *b, size_t len, size_t off, const float v[4], float scale,
			  int present)
{
	for (int i = 0; i < 4; i++)
		wr_f32(b, len, off + 4 * (size_t)i, present ? v[i] * scale + 0.0f : 0.0f);
}

static void put_vec(uint8_t *b, size_t len, size_t off, float x, float y, float z)
{
	wr_f32(b, len, off, x + 0.0f);
	wr_f32(b, len, off + 4, y + 0.0f);
	wr_f32(b, len, off + 8, z + 0.0f);
}

/* Car fields both telemetry layouts carry. */
static void put_car(uint8_t *b, size_t len, const struct pcars_car_layout *ly,
		    const struct pw_frame *f)
{
	float fuel_level = has(f, FRAME_P_FUEL_FRAC) ? f->fuel_frac : 0.0f;
	float fuel_cap = 0.0f, engine_speed = 0.0f;
	uint8_t car_flags = 2; /* engine active */

	if (has(f, FRAME_P_FUEL_L) && fuel_level > 0.0f)
		fuel_cap = f->fuel_l / fuel_level;
	if (has(f, FRAME_P_POWER) && has(f, FRAME_P_TORQUE) && f->torque_nm != 0.0f)
		engine_speed = f->power_w / f->torque_nm;
	else if (has(f, FRAME_P_RPM))
		engine_speed = f->rpm * (float)(2.0 * M_PI / 60.0);
	if (f->flags & FRAME_FLAG_LIMITER)
		car_flags |= 8;
	if (f->flags & FRAME_FLAG_ABS)
		car_flags |= 16;

	wr_u8(b, len, ly->car_flags, car_flags);
	wr_u8(b, len, ly->fuel_cap, q_u8(fuel_cap, 1.0f));
	wr_u8(b, len, ly->brake, has(f, FRAME_P_BRAKE) ? q_u8(f->brake, 255.0f) : 0);
	wr_u8(b, len, ly->throttle, has(f, FRAME_P_THROTTLE) ? q_u8(f->throttle, 255.0f) : 0);
	wr_u8(b, len, ly->clutch, has(f, FRAME_P_CLUTCH) ? q_u8(f->clutch, 255.0f) : 0);
	wr_u8(b, len, ly->steering, (uint8_t)(has(f, FRAME_P_STEER) ? q_s8(f->steer) : 0));
	wr_f32(b, len, ly->fuel_level, fuel_level);
	wr_f32(b, len, ly->speed, has(f, FRAME_P_SPEED) ? f->speed_kmh / 3.6f : 0.0f);
	wr_u16(b, len, ly->rpm, has(f, FRAME_P_RPM) ? q_u16(f->rpm) : 0);
	wr_u16(b, len, ly->max_rpm, has(f, FRAME_P_MAX_RPM) ? q_u16(f->max_rpm) : 0);
	wr_u8(b, len, ly->gear, gear_byte(f));
	put_vec(b, len, ly->orientation, has(f, FRAME_P_PITCH) ? f->pitch_rad : 0.0f,
		has(f, FRAME_P_YAW) ? f->yaw_rad : 0.0f, has(f, FRAME_P_ROLL) ? f->roll_rad : 0.0f);
	if (has(f, FRAME_P_VEL))
		put_vec(b, len, ly->local_vel, -f->vel_ms[0], f->vel_ms[1], -f->vel_ms[2]);
	put_vec(b, len, ly->local_acc,
		has(f, FRAME_P_ACCEL_LAT) ? -f->accel_lat_g * PCARS_G_MS2 : 0.0f,
		has(f, FRAME_P_ACCEL_VERT) ? f->accel_vert_g * PCARS_G_MS2 : 0.0f,
		has(f, FRAME_P_ACCEL_LON) ? -f->accel_lon_g * PCARS_G_MS2 : 0.0f);
	put_wheel_f32(b, len, ly->tyre_rps, f->wheel_speed_rads, -1.0f,
		      has(f, FRAME_P_WHEEL_SPEED));
	put_wheel_f32(b, len, ly->susp_travel, f->susp_travel_m, 1.0f, has(f, FRAME_P_SUSP_TRAVEL));
	for (size_t i = 0; i < 4; i++) {
		wr_u8(b, len, ly->tyre_temp + i,
		      has(f, FRAME_P_TYRE_TEMP) ? q_u8(f->tyre_temp_c[i], 1.0f) : 0);
		wr_u8(b, len, ly->tyre_wear + i,
		      has(f, FRAME_P_TYRE_WEAR) ? q_u8(1.0f - f->tyre_wear[i], 255.0f) : 0);
		wr_u16(b, len, ly->brake_temp + 2 * i,
		       has(f, FRAME_P_BRAKE_TEMP) ? (uint16_t)q_s16(f->brake_temp_c[i]) : 0);
		wr_u16(b, len, ly->air_press + 2 * i,
		       has(f, FRAME_P_TYRE_PRESS) ? q_u16(f->tyre_press_kpa[i]) : 0);
	}
	wr_f32(b, len, ly->engine_speed, engine_speed);
	wr_f32(b, len, ly->torque, has(f, FRAME_P_TORQUE) ? f->torque_nm : 0.0f);
	if (ly->handbrake)
		wr_u8(b, len, ly->handbrake,
		      has(f, FRAME_P_HANDBRAKE) ? q_u8(f->handbrake, 255.0f) : 0);
}

/* --- v1 -------------------------------------------------------------------------- */

static void v1_strings(struct enc_state *es, const struct pw_meta *m, enc_emit_fn emit, void *ctx)
{
	uint8_t b[PCARS_V1_STRINGS_SIZE] = { 0 };

	wr_u16(b, sizeof b, 0, BUILD);
	b[2] = (uint8_t)(1 | (es->tick & 63) << 2);
	if (m) {
		put_str(b, sizeof b, 3, m->car, 64);
		put_str(b, sizeof b, 67, m->car_class, 64);
		put_str(b, sizeof b, 131, m->track, 64);
		put_str(b, sizeof b, 195, m->layout, 64);
		put_str(b, sizeof b, 259, m->driver, 64);
	}
	emit(ctx, b, sizeof b);
}

static void v1_participant(uint8_t *b, size_t len, const struct pw_frame *f)
{
	const size_t o = 464; /* participant 0 */
	uint8_t frac = put_pos(b, len, o, f);
	unsigned laps = has(f, FRAME_P_LAP) ? (f->lap > 127 ? 127 : f->lap) : 0;

	wr_u16(b, len, o + 6, has(f, FRAME_P_LAP_DIST) ? q_u16(f->lap_dist_m) : 0);
	wr_u8(b, len, o + 8, (uint8_t)(0x80 | (has(f, FRAME_P_POSITION) ? f->position & 127 : 0)));
	wr_u8(b, len, o + 9, (uint8_t)(laps | ((f->flags & FRAME_FLAG_LAP_INVALID) ? 0x80 : 0)));
	wr_u8(b, len, o + 10, (uint8_t)(laps + 1));
	wr_u8(b, len, o + 11, sector_byte(f, frac));
	wr_f32(b, len, o + 12, UNSET_S);
}

static void v1_telemetry(struct enc_state *es, const struct pw_frame *f, const struct pw_meta *m,
			 enc_emit_fn emit, void *ctx)
{
	uint8_t b[PCARS_V1_TELEMETRY_SIZE] = { 0 };
	const size_t n = sizeof b;
	uint8_t race = 2; /* racing */

	if (f->flags & FRAME_FLAG_LAP_INVALID)
		race |= 8;
	if (f->flags & FRAME_FLAG_ABS)
		race |= 16;
	wr_u16(b, n, 0, BUILD);
	b[2] = (uint8_t)((es->tick & 63) << 2);
	b[3] = (uint8_t)(game_state(f) | session_state(m) << 4);
	b[4] = 0; /* viewed participant */
	b[5] = 1; /* participants */
	b[10] = race;
	wr_f32(b, n, 12, seconds(f, FRAME_P_BEST_LAP, f->best_lap_ms));
	wr_f32(b, n, 16, seconds(f, FRAME_P_LAST_LAP, f->last_lap_ms));
	wr_f32(b, n, 20, seconds(f, FRAME_P_LAP_TIME, f->lap_time_ms));
	for (size_t o = 24; o < 96; o += 4) /* splits, fastest laps and sectors: unset */
		wr_f32(b, n, o, UNSET_S);
	for (size_t i = 0; i < 3; i++)
		wr_f32(b, n, 48 + 4 * i, seconds(f, FRAME_P_SECTOR_TIMES, f->sector_ms[i]));
	b[99] = (f->flags & FRAME_FLAG_IN_PIT) ? 2 : 0; /* pit mode: in pit */
	put_car(b, n, &pcars_v1_car, f);
	b[6] = b[113]; /* unfiltered inputs = filtered */
	b[7] = b[112];
	b[8] = b[115];
	b[9] = b[114];
	v1_participant(b, n, f);
	wr_f32(b, n, 1360, has(f, FRAME_P_TRACK_LEN) ? f->track_len_m : 0.0f);
	emit(ctx, b, n);
}

static void pcars_v1_encode(struct enc_state *es, const struct pw_frame *f, const struct pw_meta *m,
			    enc_emit_fn emit, void *ctx)
{
	if (es->tick % PERIOD == 0)
		v1_strings(es, m, emit, ctx);
	v1_telemetry(es, f, m, emit, ctx);
	es->tick++;
}

/* --- v2 -------------------------------------------------------------------------- */

static void v2_base(struct pc2_enc *p, uint8_t *b, size_t len, unsigned type, unsigned version,
		    unsigned part, unsigned parts)
{
	wr_u32(b, len, PCARS_V2_HDR_PACKET, p->packets++);
	wr_u32(b, len, PCARS_V2_HDR_CATEGORY_PACKET, p->category[type]++);
	b[PCARS_V2_HDR_PART] = (uint8_t)part;
	b[PCARS_V2_HDR_PARTS] = (uint8_t)parts;
	b[PCARS_V2_HDR_TYPE] = (uint8_t)type;
	b[PCARS_V2_HDR_VERSION] = (uint8_t)version;
}

static void v2_race(struct pc2_enc *p, const struct pw_meta *m, enc_emit_fn emit, void *ctx)
{
	uint8_t b[PCARS_V2_RACE_SIZE] = { 0 };

	v2_base(p, b, sizeof b, PCARS_V2_RACE, 1, 1, 1);
	for (size_t o = 12; o < 44; o += 4) /* fastest laps and sectors: unset */
		wr_f32(b, sizeof b, o, UNSET_S);
	wr_f32(b, sizeof b, 44, p->track_len);
	if (m) {
		put_str(b, sizeof b, 48, m->track, 64);
		put_str(b, sizeof b, 112, m->layout, 64);
		put_str(b, sizeof b, 176, m->track, 64);
		put_str(b, sizeof b, 240, m->layout, 64);
	}
	emit(ctx, b, sizeof b);
}

static void v2_participants(struct pc2_enc *p, const struct pw_meta *m, enc_emit_fn emit, void *ctx)
{
	uint8_t b[PCARS_V2_PARTICIPANTS_SIZE] = { 0 };

	v2_base(p, b, sizeof b, PCARS_V2_PARTICIPANTS, 2, 1, 1);
	put_str(b, sizeof b, 16, m ? m->driver : NULL, 64);
	emit(ctx, b, sizeof b);
}

static void v2_vehicle_names(struct pc2_enc *p, const struct pw_meta *m, enc_emit_fn emit,
			     void *ctx)
{
	uint8_t names[PCARS_V2_VEHICLE_NAMES_SIZE] = { 0 };
	uint8_t classes[PCARS_V2_CLASS_NAMES_SIZE] = { 0 };

	v2_base(p, names, sizeof names, PCARS_V2_VEHICLE_NAMES, 2, 1, 2);
	put_str(names, sizeof names, 12 + 8, m ? m->car : NULL, 64); /* index 0, class 0 */
	emit(ctx, names, sizeof names);
	v2_base(p, classes, sizeof classes, PCARS_V2_VEHICLE_NAMES, 2, 2, 2);
	put_str(classes, sizeof classes, 12 + 4, m ? m->car_class : NULL, 20); /* class 0 */
	emit(ctx, classes, sizeof classes);
}

static void v2_game_state(struct pc2_enc *p, enc_emit_fn emit, void *ctx)
{
	uint8_t b[PCARS_V2_GAME_STATE_SIZE] = { 0 };

	v2_base(p, b, sizeof b, PCARS_V2_GAME_STATE, 2, 1, 1);
	wr_u16(b, sizeof b, 12, BUILD);
	b[14] = (uint8_t)(p->game_state | p->session_state << 4);
	emit(ctx, b, sizeof b);
}

static void v2_time_stats(struct pc2_enc *p, enc_emit_fn emit, void *ctx)
{
	uint8_t b[PCARS_V2_TIME_STATS_SIZE] = { 0 };

	v2_base(p, b, sizeof b, PCARS_V2_TIME_STATS, 2, 1, 1);
	for (size_t i = 0; i < 32; i++)
		for (size_t o = 0; o < 24; o += 4)
			wr_f32(b, sizeof b, 16 + 32 * i + o, UNSET_S);
	wr_f32(b, sizeof b, 16, p->best_ms >= 0 ? (float)p->best_ms / 1000.0f : UNSET_S);
	wr_f32(b, sizeof b, 20, p->last_ms >= 0 ? (float)p->last_ms / 1000.0f : UNSET_S);
	emit(ctx, b, sizeof b);
}

static void v2_timings(struct enc_state *es, struct pc2_enc *p, const struct pw_frame *f,
		       enc_emit_fn emit, void *ctx)
{
	uint8_t b[PCARS_V2_TIMINGS_SIZE] = { 0 };
	const size_t n = sizeof b, o = 33; /* participant 0 */
	unsigned lap = has(f, FRAME_P_LAP) ? (f->lap > 254 ? 254 : f->lap) : 0;
	uint8_t frac;

	v2_base(p, b, n, PCARS_V2_TIMINGS, 3, 1, 1);
	b[12] = 1;                 /* participants */
	wr_f32(b, n, 17, UNSET_S); /* event time remaining */
	frac = put_pos(b, n, o, f);
	wr_u16(b, n, o + 12, has(f, FRAME_P_LAP_DIST) ? q_u16(f->lap_dist_m) : 0);
	b[o + 14] = (uint8_t)(0x80 | (has(f, FRAME_P_POSITION) ? f->position & 127 : 0));
	b[o + 15] = sector_byte(f, frac);
	b[o + 17] = (f->flags & FRAME_FLAG_IN_PIT) ? 2 : 0;
	b[o + 20] = (uint8_t)(2 | ((f->flags & FRAME_FLAG_LAP_INVALID) ? 0x80 : 0));
	b[o + 21] = (uint8_t)(has(f, FRAME_P_LAP) ? lap + 1 : 0);
	wr_f32(b, n, o + 22, seconds(f, FRAME_P_LAP_TIME, f->lap_time_ms));
	wr_f32(b, n, o + 26, UNSET_S);
	wr_u16(b, n, 1057, 0); /* local participant */
	wr_u32(b, n, 1059, (uint32_t)es->tick);
	emit(ctx, b, n);
}

static void v2_telemetry(struct enc_state *es, struct pc2_enc *p, const struct pw_frame *f,
			 enc_emit_fn emit, void *ctx)
{
	uint8_t b[PCARS_V2_TELEMETRY_SIZE] = { 0 };
	const size_t n = sizeof b;

	v2_base(p, b, n, PCARS_V2_TELEMETRY, 2, 1, 1);
	b[12] = 0; /* viewed participant */
	put_car(b, n, &pcars_v2_car, f);
	b[13] = b[30]; /* unfiltered inputs = filtered */
	b[14] = b[29];
	b[15] = b[44];
	b[16] = b[31];
	for (size_t i = 0; i < 4; i++) {
		/* the game's left/right per tyre: inner is the right edge of a left wheel */
		int left_wheel = i == 0 || i == 2;
		uint16_t in = has(f, FRAME_P_TYRE_TEMP_INNER) ? f->tyre_temp_inner_c[i] : 0;
		uint16_t out = has(f, FRAME_P_TYRE_TEMP_OUTER) ? f->tyre_temp_outer_c[i] : 0;

		wr_u16(b, n, PCARS_V2_TYRE_TEMP_LEFT + 2 * i, left_wheel ? out : in);
		wr_u16(b, n, PCARS_V2_TYRE_TEMP_CENTER + 2 * i,
		       has(f, FRAME_P_TYRE_TEMP_MIDDLE) ? f->tyre_temp_middle_c[i] : 0);
		wr_u16(b, n, PCARS_V2_TYRE_TEMP_RIGHT + 2 * i, left_wheel ? in : out);
	}
	if (has(f, FRAME_P_POS))
		put_vec(b, n, 542, f->pos_m[0], f->pos_m[1], f->pos_m[2]);
	wr_u32(b, n, 555, (uint32_t)es->tick);
	emit(ctx, b, n);
}

static void pcars_v2_encode(struct enc_state *es, const struct pw_frame *f, const struct pw_meta *m,
			    enc_emit_fn emit, void *ctx)
{
	struct pc2_enc *p = (struct pc2_enc *)es->priv;
	int periodic = es->tick % PERIOD == 0 || !p->sent_any;
	int32_t last = has(f, FRAME_P_LAST_LAP) ? f->last_lap_ms : -1;
	int32_t best = has(f, FRAME_P_BEST_LAP) ? f->best_lap_ms : -1;
	float track_len = has(f, FRAME_P_TRACK_LEN) ? f->track_len_m : 0.0f;
	int track_changed = m && (strncmp(p->track, m->track, sizeof p->track) != 0 ||
				  strncmp(p->layout, m->layout, sizeof p->layout) != 0);

	if (periodic || track_changed || track_len != p->track_len) {
		p->track_len = track_len;
		if (m) {
			memcpy(p->track, m->track, sizeof p->track);
			memcpy(p->layout, m->layout, sizeof p->layout);
		}
		v2_race(p, m, emit, ctx);
	}
	if (periodic) {
		v2_participants(p, m, emit, ctx);
		v2_vehicle_names(p, m, emit, ctx);
	}
	if (periodic || p->game_state != game_state(f) || p->session_state != session_state(m)) {
		p->game_state = (uint8_t)game_state(f);
		p->session_state = (uint8_t)session_state(m);
		v2_game_state(p, emit, ctx);
	}
	if (periodic || last != p->last_ms || best != p->best_ms) {
		p->last_ms = last;
		p->best_ms = best;
		v2_time_stats(p, emit, ctx);
	}
	p->sent_any = 1;
	v2_timings(es, p, f, emit, ctx);
	v2_telemetry(es, p, f, emit, ctx);
	es->tick++;
}

const struct encoder enc_pcars_v1 = {
	.feed = "pcars",
	.format = "v1",
	.encode = pcars_v1_encode,
	.game = PW_GAME_PCARS1,
};

const struct encoder enc_pcars_v2 = {
	.feed = "pcars",
	.format = "v2",
	.encode = pcars_v2_encode,
	.game = PW_GAME_PCARS2,
};
