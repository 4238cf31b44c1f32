/*
 * dec_pcars.c - Project CARS 1, Project CARS 2 and Automobilista 2 UDP (5606).
 *
 * Layouts: docs/protocols.md section 3 (v1, "Project CARS 1": telemetry 1367 B,
 * participant strings 1347 B, additional strings 1028 B) and section 4 (v2,
 * "Project CARS 2" patch 5, with the original PC2 sizes where the layout is a
 * prefix or a narrower record of it: telemetry 538, participants 1040,
 * timings 993 with 30-byte records, time stats 784 with 24-byte records).
 *
 * Telling the formats apart (4.1): a datagram of 1367/1347/1028 bytes is v1,
 * its type in byte 2 bits 0-1 (type 3 is DEC_EFORMAT, a type that does not
 * match the length DEC_ESIZE). Anything else needs the 12-byte v2 PacketBase:
 * byte 10 is the packet type and the length must be one this type has (1040 is
 * participants for type 2 and time stats for type 7). Shorter than 12 bytes:
 * DEC_ESIZE; type 5, 6 or > 8: DEC_EFORMAT; a known type with a length it does
 * not have: DEC_ESIZE. Because the original PC2 sizes are prefixes of patch 5,
 * a patch-5 packet cut to the original size decodes as the original packet.
 *
 * Frames: v1 telemetry is a whole tick (game PW_GAME_PCARS1). v2 spreads a tick
 * over packets (game PW_GAME_PCARS2): race definition, game state, timings and
 * time stats update st->carry (timings and time stats also keep their raw
 * records in the private state, so the telemetry packet can pick the viewed
 * participant, which only it names), and the telemetry packet emits carry plus
 * its own fields. pw-sim sends timings before telemetry for that reason.
 *
 * Conventions. Verified on the real v1 capture (tests/data/pcars1/, PCARS1
 * build 1200, solo practice at Spa, Audi R8 LMS Ultra) unless noted; the v2
 * packets share the v1 telemetry fields and are decoded with the same rules
 * (not verified: no real v2 capture exists).
 * - Axes. Both hairpins of Spa are right-handers; the one in the capture turns
 *   the path by -187 deg in atan2(dz, dx) with sSteering +46, so steer + =
 *   right (corr +0.90 between sSteering and the rightward world acceleration).
 *   The car's forward vector in the world is (-sin o[1], -cos o[1]) (mean
 *   cosine 0.999 with the world velocity), so o[1] is the heading; o[0]
 *   follows the road slope (corr 0.98): pitch; o[2] is roll. sLocalVelocity
 *   and sLocalAcceleration have x to the car's LEFT, y up, z BACKWARD: local x
 *   = -(world component to the right) (corr -0.997 velocity, -0.99999
 *   acceleration), local z acceleration = -(forward world acceleration) (corr
 *   -0.9999), local y vs d(world vy) +0.66. So vel_ms = (-x, y, -z),
 *   accel_lat_g = -ax/g, accel_lon_g = -az/g, accel_vert_g = ay/g (m/s^2 to
 *   g; gravity not included, mean ay ~ 0).
 * - sTyreRPS is rad/s and negative when rolling forward (|rps| x 0.33 m =
 *   speed); wheel_speed_rads = -sTyreRPS.
 * - sTyreTemp (u8) is degC (54..67 on data, the u16 tread temps are the same
 *   in Kelvin); brake temps degC; sAirPressure kPa (198..201 = 29 psi, not
 *   documented); sSuspensionTravel m (0.036..0.06); sEngineSpeed rad/s
 *   (193 rad/s at 1837 rpm) and sEngineTorque N*m, power_w = torque x speed.
 * - Tread zones (v2 only): sTyreTempLeft/Center/Right, u16 per wheel, the
 *   tyre's left and right as seen from the driver's seat; the inner edge
 *   (toward the car's centre line) is the right one on the left wheels (FL,
 *   RL) and the left one on the right wheels (FR, RR). The UDP header gives
 *   no unit; the shared-memory header's mTyreTempLeft/Center/Right are degC
 *   (its tread/layer/carcass temps are Kelvin), so degC, except that a value
 *   of PCARS_KELVIN_FROM (233) or more is taken as Kelvin (no tread runs at
 *   233 degC; no tyre is colder than -40 degC). Whole degrees, 0 = unset ->
 *   0 in the frame (its "none"); present when one of the 12 is set.
 *   Unverified: no real v2 capture.
 * - Tyre wear 0..255 (0 on the fresh tyres of the capture) -> 1 - w/255.
 * - Fuel: sFuelLevel 0..1 -> fuel_frac; sFuelCapacity litres (120, the R8's
 *   tank) -> fuel_l = level x capacity.
 * - Gear nibble 15 = R -> -1; num_gears = high nibble (absent when 0 or 15,
 *   which the game sends before the car is set up).
 * - Times are seconds, -1 = unset (every time field of the capture is -1):
 *   last/best/sector times <= 0 -> -1 ms, current lap time < 0 -> -1 ms;
 *   present either way.
 * - Position: viewed participant's s16 metres + quarter-metre fractions in
 *   sSector bits 6-7 (x) and 4-5 (z); y integer. v2 patch 5 telemetry (559 B)
 *   carries the full-precision sFullPosition, which wins.
 * - Sector: sSector & 7 values 1..3 are the three sectors (data: 2 all along
 *   1.7-2.9 km) -> 0..2; other values leave sector absent. Same for v2
 *   (unverified).
 * - Lap distance (the viewed participant's, whole metres) and the lap clock
 *   (sCurrentTime) are the game's. There is no session clock; where the game
 *   says the lap time is unset (-1, all along the Spa capture) pw-capture
 *   derives the time in lap from the receive clock since the line downstream
 *   (common/derive.h, flagged derived), and the yaw rate from o[1] always.
 * - Laps: v1 sLapsCompleted & 127; v2 sCurrentLap - 1 (no laps-completed
 *   field). Lap invalid: v1 sRaceStateFlags bit 3 or sLapsCompleted bit 7;
 *   v2 sRaceState bit 7. ABS: v1 sRaceStateFlags bit 4, sCarFlags bit 4 (the
 *   same 142 packets on data); limiter: sCarFlags bit 3. In pit: pit mode
 *   (v1 sPitModeSchedule & 7, v2 timings record byte 17 & 7) 1..5.
 * - Paused: game state (v1 byte 3 bits 0-2, v2 game-state packet) other than
 *   2 "in game playing" (menus, paused, replays, restarting).
 * - Session: game_session counts sessions seen by this state; it moves on when
 *   the session state (byte 3 >> 4 in v1 telemetry and the v2 game state, the
 *   CrewChief rule that the v1 data confirms: 1 practice) or the track or
 *   layout changes, or the format switches between v1 and v2. meta.session_type
 *   maps practice/test -> "practice", qualify -> "qualifying", formation lap
 *   and race -> "race", time attack -> "time_trial".
 * - Metadata: v1 strings: car, class, track, layout, driver = name of the
 *   viewed participant; names stop at the first NUL (stale bytes follow).
 *   v2: race definition -> track, layout, track length; participants ->
 *   driver; participant vehicle names -> car (and its class index, named by
 *   the 1452-byte class names packet).
 * - Not mapped (no frame channel): boost amount (push-to-pass, not turbo),
 *   v2 sTurboBoostPressure (unit undocumented), oil/water, damage, weather,
 *   tyre slip speed (m/s, not a ratio); no game clock in either format.
 */
#include <string.h>

#include "capture/bytes.h"
#include "capture/decoder.h"
#include "capture/pcars.h"

#define V2_REC 32 /* largest timings / time-stats record */

/* Every v2 length a type may have; rec = participant record size where one applies. */
static const struct v2_kind {
	uint8_t type;
	uint16_t size;
	uint8_t rec;
} v2_kinds[] = {
	{ PCARS_V2_TELEMETRY, PCARS_V2_TELEMETRY_SIZE, 0 },
	{ PCARS_V2_TELEMETRY, PCARS_V2_TELEMETRY_OLD_SIZE, 0 },
	{ PCARS_V2_RACE, PCARS_V2_RACE_SIZE, 0 },
	{ PCARS_V2_PARTICIPANTS, PCARS_V2_PARTICIPANTS_SIZE, 0 },
	{ PCARS_V2_PARTICIPANTS, PCARS_V2_PARTICIPANTS_OLD_SIZE, 0 },
	{ PCARS_V2_TIMINGS, PCARS_V2_TIMINGS_SIZE, 32 },
	{ PCARS_V2_TIMINGS, PCARS_V2_TIMINGS_OLD_SIZE, 30 },
	{ PCARS_V2_GAME_STATE, PCARS_V2_GAME_STATE_SIZE, 0 },
	{ PCARS_V2_TIME_STATS, PCARS_V2_TIME_STATS_SIZE, 32 },
	{ PCARS_V2_TIME_STATS, PCARS_V2_TIME_STATS_OLD_SIZE, 24 },
	{ PCARS_V2_VEHICLE_NAMES, PCARS_V2_VEHICLE_NAMES_SIZE, 0 },
	{ PCARS_V2_VEHICLE_NAMES, PCARS_V2_CLASS_NAMES_SIZE, 0 },
};

const struct pcars_car_layout pcars_v1_car = {
	.car_flags = 110,
	.fuel_cap = 111,
	.brake = 112,
	.throttle = 113,
	.clutch = 114,
	.steering = 115,
	.fuel_level = 116,
	.speed = 120,
	.rpm = 124,
	.max_rpm = 126,
	.gear = 128,
	.orientation = 136,
	.local_vel = 148,
	.local_acc = 184,
	.tyre_rps = 244,
	.tyre_temp = 276,
	.tyre_wear = 316,
	.brake_temp = 328,
	.susp_travel = 408,
	.air_press = 440,
	.engine_speed = 448,
	.torque = 452,
	.handbrake = 0,
};

const struct pcars_car_layout pcars_v2_car = {
	.car_flags = 17,
	.fuel_cap = 28,
	.brake = 29,
	.throttle = 30,
	.clutch = 31,
	.steering = 44,
	.fuel_level = 32,
	.speed = 36,
	.rpm = 40,
	.max_rpm = 42,
	.gear = 45,
	.orientation = 52,
	.local_vel = 64,
	.local_acc = 100,
	.tyre_rps = 160,
	.tyre_temp = 176,
	.tyre_wear = 196,
	.brake_temp = 208,
	.susp_travel = 312,
	.air_press = 352,
	.engine_speed = 360,
	.torque = 364,
	.handbrake = 370,
};

struct pcars_priv {
	uint64_t session;                         /* game_session of the current session */
	uint8_t timings[PCARS_V2_PARTS * V2_REC]; /* last v2 timings records, as sent */
	uint8_t stats[PCARS_V2_PARTS * V2_REC];   /* last v2 time-stats records, as sent */
	uint8_t timings_rec, stats_rec;           /* their record sizes (30/32, 24/32) */
	uint8_t game;                             /* enum pw_game of the session, 0 = none yet */
	uint8_t have_timings, have_stats;
	uint8_t have_session_state, session_state;
	uint8_t have_class;
	int8_t viewed; /* sViewedParticipantIndex of the last telemetry */
	uint8_t have_viewed;
	uint16_t local_index; /* v2 timings sLocalParticipantIndex */
	uint32_t class_index; /* v2 class of the viewed participant's car */
};
_Static_assert(sizeof(struct pcars_priv) <= sizeof(((struct dec_state *)0)->priv), "priv fits");

static struct pcars_priv *pcars_priv(struct dec_state *st)
{
	return (struct pcars_priv *)st->priv;
}

/* --- metadata and session -------------------------------------------------- */

static void meta_str(struct dec_state *st, char *dst, size_t cap, const uint8_t *b, size_t len,
		     size_t off, size_t n)
{
	if (rd_ok(len, off, n))
		dec_meta_set(st, dst, cap, (const char *)b + off, n);
}

static void meta_f32(struct dec_state *st, float *dst, float v)
{
	if (*dst != v) {
		*dst = v;
		st->meta_gen++;
	}
}

static void pcars_new_session(struct dec_state *st)
{
	struct pcars_priv *p = pcars_priv(st);

	p->session++;
	p->have_timings = 0;
	p->have_stats = 0;
	frame_init(&st->carry, (enum pw_game)p->game, PW_FEED_PCARS);
	st->carry.game_session = p->session;
	st->meta.game_session = p->session;
	st->meta_gen++;
}

/* Every valid packet: the format decides the game; a switch is a new session.
 * meta.game is written only here, so it can change only with p->game. */
static void pcars_enter(struct dec_state *st, enum pw_game game)
{
	struct pcars_priv *p = pcars_priv(st);
	uint32_t format = game == PW_GAME_PCARS1 ? 1 : 2;

	if (p->game != game) {
		const char *name = frame_game_name(game);

		p->game = (uint8_t)game;
		p->have_session_state = 0;
		pcars_new_session(st);
		if (strcmp(st->meta.game, name) != 0)
			dec_meta_set(st, st->meta.game, sizeof st->meta.game, name, strlen(name));
	}
	if (st->meta.format != format) {
		st->meta.format = format;
		st->meta_gen++;
	}
}

static const char *pcars_session_kind(unsigned session_state)
{
	switch (session_state) {
	case 1: /* practice */
	case 2: /* test */
		return "practice";
	case 3:
		return "qualifying";
	case 4: /* formation lap */
	case 5:
		return "race";
	case 6: /* time attack */
		return "time_trial";
	default:
		return "unknown";
	}
}

/* meta.session_type is written only here: it can change only with the state. */
static void pcars_session_state(struct dec_state *st, unsigned ss)
{
	struct pcars_priv *p = pcars_priv(st);
	const char *kind;

	if (p->have_session_state && p->session_state == ss)
		return;
	if (p->have_session_state)
		pcars_new_session(st);
	p->session_state = (uint8_t)ss;
	p->have_session_state = 1;
	kind = pcars_session_kind(ss);
	if (strcmp(st->meta.session_type, kind) != 0)
		dec_meta_set(st, st->meta.session_type, sizeof st->meta.session_type, kind,
			     strlen(kind));
}

/* Track location and variation (char[64] each); a change of either, after a
 * first non-empty track, is a new session. */
static void pcars_track(struct dec_state *st, const uint8_t *b, size_t len, size_t track_off,
			size_t layout_off)
{
	char track[META_STR], layout[META_STR];

	if (!rd_ok(len, track_off, 64) || !rd_ok(len, layout_off, 64))
		return;
	meta_strcpy(track, sizeof track, (const char *)b + track_off, 64);
	meta_strcpy(layout, sizeof layout, (const char *)b + layout_off, 64);
	if (st->meta.track[0] &&
	    (strcmp(track, st->meta.track) != 0 || strcmp(layout, st->meta.layout) != 0))
		pcars_new_session(st);
	dec_meta_set(st, st->meta.track, sizeof st->meta.track, track, sizeof track);
	dec_meta_set(st, st->meta.layout, sizeof st->meta.layout, layout, sizeof layout);
}

/* --- shared field conversions ------------------------------------------------ */

#define PCARS_MAX_TIME_S 2000000.0f /* keeps ms inside int32 */

/* s finite and >= 0 -> ms: lroundf(fminf(s, max) * 1000) without the libm
 * calls. The float product plus 0.5 is exact in double, so truncating it rounds
 * half away from zero exactly as lroundf (checked for every such float). */
static int32_t time_ms(float s)
{
	float ms = (s < PCARS_MAX_TIME_S ? s : PCARS_MAX_TIME_S) * 1000.0f;

	return (int32_t)((double)ms + 0.5);
}

/* Last/best/sector time, s (finite: read with f32_at) -> ms; <= 0 (the game's
 * -1) = no time. */
static int32_t lap_ms(float s)
{
	return s > 0.0f ? time_ms(s) : -1;
}

/* Running lap time, s (finite) -> ms; 0 is a valid time, < 0 is none. */
static int32_t running_ms(float s)
{
	return s >= 0.0f ? time_ms(s) : -1;
}

static void set_flag(struct pw_frame *f, uint16_t flag, int on)
{
	f->flags_known |= flag;
	if (on)
		f->flags |= flag;
	else
		f->flags &= (uint16_t)~flag;
}

/* -127..127 -> -1..1; -128 is -1 too (fmaxf without the libm call) */
static float steer_from(int8_t v)
{
	float s = v / 127.0f;

	return s < -1.0f ? -1.0f : s;
}

static void pcars_gear(struct pw_frame *f, uint8_t v)
{
	unsigned gear = v & 15, gears = v >> 4;

	f->gear = gear == 15 ? -1 : (int8_t)gear;
	f->present |= FRAME_P_GEAR;
	if (gears > 0 && gears < 15) {
		f->num_gears = (uint8_t)gears;
		f->present |= FRAME_P_NUM_GEARS;
	}
}

/* fin(rd_f32()) tested on the bits (NaN and Inf have every exponent bit set).
 * Inline, so that with a constant len and offset the bounds check folds away. */
static inline float f32_at(const uint8_t *b, size_t len, size_t off, int i)
{
	uint32_t u = rd_u32(b, len, off + 4 * (size_t)i);
	float v;

	if ((u & 0x7f800000u) == 0x7f800000u)
		return 0.0f;
	memcpy(&v, &u, sizeof v);
	return v;
}

/* Car fields common to both telemetry layouts. Inline into each caller, which
 * passes a constant layout and a constant len (at most the datagram's), so
 * every offset is known and every read checked at compile time. */
static inline __attribute__((always_inline)) void
pcars_car(struct pw_frame *f, const uint8_t *b, size_t len, const struct pcars_car_layout *ly)
{
	uint8_t car_flags = rd_u8(b, len, ly->car_flags);
	float fuel_level = f32_at(b, len, ly->fuel_level, 0);
	unsigned fuel_cap = rd_u8(b, len, ly->fuel_cap);
	float engine_speed = f32_at(b, len, ly->engine_speed, 0);

	f->throttle = rd_u8(b, len, ly->throttle) / 255.0f;
	f->brake = rd_u8(b, len, ly->brake) / 255.0f;
	f->clutch = rd_u8(b, len, ly->clutch) / 255.0f;
	f->steer = steer_from(rd_s8(b, len, ly->steering));
	f->speed_kmh = fin(f32_at(b, len, ly->speed, 0) * 3.6f);
	f->rpm = rd_u16(b, len, ly->rpm);
	f->max_rpm = rd_u16(b, len, ly->max_rpm);
	pcars_gear(f, rd_u8(b, len, ly->gear));
	f->pitch_rad = f32_at(b, len, ly->orientation, 0);
	f->yaw_rad = f32_at(b, len, ly->orientation, 1);
	f->roll_rad = f32_at(b, len, ly->orientation, 2);
	f->vel_ms[0] = -f32_at(b, len, ly->local_vel, 0) + 0.0f;
	f->vel_ms[1] = f32_at(b, len, ly->local_vel, 1);
	f->vel_ms[2] = -f32_at(b, len, ly->local_vel, 2) + 0.0f;
	f->accel_lat_g = -f32_at(b, len, ly->local_acc, 0) / PCARS_G_MS2 + 0.0f;
	f->accel_vert_g = f32_at(b, len, ly->local_acc, 1) / PCARS_G_MS2;
	f->accel_lon_g = -f32_at(b, len, ly->local_acc, 2) / PCARS_G_MS2 + 0.0f;
#pragma GCC unroll 4 /* unrolled, each read becomes one load */
	for (int i = 0; i < 4; i++) {
		f->wheel_speed_rads[i] = -f32_at(b, len, ly->tyre_rps, i) + 0.0f;
		f->tyre_temp_c[i] = rd_u8(b, len, ly->tyre_temp + (size_t)i);
		f->tyre_wear[i] = 1.0f - rd_u8(b, len, ly->tyre_wear + (size_t)i) / 255.0f;
		f->brake_temp_c[i] = rd_s16(b, len, ly->brake_temp + 2 * (size_t)i);
		f->susp_travel_m[i] = f32_at(b, len, ly->susp_travel, i);
		f->tyre_press_kpa[i] = rd_u16(b, len, ly->air_press + 2 * (size_t)i);
	}
	f->torque_nm = f32_at(b, len, ly->torque, 0);
	f->power_w = fin(f->torque_nm * engine_speed);
	f->fuel_frac = clampf(fuel_level, 0.0f, 1.0f);
	f->present |= FRAME_P_THROTTLE | FRAME_P_BRAKE | FRAME_P_CLUTCH | FRAME_P_STEER |
		      FRAME_P_SPEED | FRAME_P_RPM | FRAME_P_MAX_RPM | FRAME_P_PITCH | FRAME_P_YAW |
		      FRAME_P_ROLL | FRAME_P_VEL | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_VERT |
		      FRAME_P_ACCEL_LON | FRAME_P_WHEEL_SPEED | FRAME_P_TYRE_TEMP |
		      FRAME_P_TYRE_WEAR | FRAME_P_BRAKE_TEMP | FRAME_P_SUSP_TRAVEL |
		      FRAME_P_TYRE_PRESS | FRAME_P_TORQUE | FRAME_P_POWER | FRAME_P_FUEL_FRAC;
	if (fuel_cap > 0) {
		f->fuel_l = fin(fuel_level * (float)fuel_cap);
		f->present |= FRAME_P_FUEL_L;
	}
	if (ly->handbrake) {
		f->handbrake = rd_u8(b, len, ly->handbrake) / 255.0f;
		f->present |= FRAME_P_HANDBRAKE;
	}
	set_flag(f, FRAME_FLAG_LIMITER, car_flags & 8);
	set_flag(f, FRAME_FLAG_ABS, (f->flags & FRAME_FLAG_ABS) || (car_flags & 16));
}

/* World position: s16 metres at off, quarter-metre x/z fractions in sector. */
static void pcars_pos(struct pw_frame *f, const uint8_t *b, size_t len, size_t off, uint8_t sector)
{
	f->pos_m[0] = rd_s16(b, len, off) + ((sector >> 6) & 3) / 4.0f;
	f->pos_m[1] = rd_s16(b, len, off + 2);
	f->pos_m[2] = rd_s16(b, len, off + 4) + ((sector >> 4) & 3) / 4.0f;
	f->present |= FRAME_P_POS;
}

static void pcars_sector(struct pw_frame *f, uint8_t sector)
{
	unsigned s = sector & 7;

	if (s >= 1 && s <= 3) {
		f->sector = (uint8_t)(s - 1);
		f->present |= FRAME_P_SECTOR;
	}
}

static void pcars_race_position(struct pw_frame *f, uint8_t v)
{
	if (v & 127) {
		f->position = v & 127;
		f->present |= FRAME_P_POSITION;
	}
}

static void pcars_paused(struct pw_frame *f, unsigned game_state)
{
	set_flag(f, FRAME_FLAG_PAUSED, game_state != 2);
}

static void pcars_in_pit(struct pw_frame *f, uint8_t pit_mode_schedule)
{
	unsigned mode = pit_mode_schedule & 7;

	set_flag(f, FRAME_FLAG_IN_PIT, mode >= 1 && mode <= 5);
}

/* --- v1 ------------------------------------------------------------------------ */

static void v1_participant(struct pw_frame *f, const uint8_t *b, size_t len, int viewed)
{
	size_t o;
	uint8_t laps, sector;

	if (viewed < 0 || viewed >= PCARS_V1_PARTS)
		return;
	o = 464 + 16 * (size_t)viewed;
	if (!(rd_u8(b, len, o + 8) & 0x80))
		return; /* record not active */
	sector = rd_u8(b, len, o + 11);
	laps = rd_u8(b, len, o + 9);
	pcars_pos(f, b, len, o, sector);
	f->lap_dist_m = rd_u16(b, len, o + 6);
	f->lap = laps & 127;
	f->present |= FRAME_P_LAP_DIST | FRAME_P_LAP;
	pcars_race_position(f, rd_u8(b, len, o + 8));
	pcars_sector(f, sector);
	if (laps & 0x80)
		f->flags |= FRAME_FLAG_LAP_INVALID;
}

static int v1_telemetry(struct dec_state *st, const uint8_t *b, size_t len, struct pw_frame *f)
{
	struct pcars_priv *p = pcars_priv(st);
	uint8_t state = rd_u8(b, len, 3), race = rd_u8(b, len, 10);

	pcars_enter(st, PW_GAME_PCARS1);
	pcars_session_state(st, state >> 4);
	p->viewed = rd_s8(b, len, 4);
	p->have_viewed = 1;
	frame_init(f, PW_GAME_PCARS1, PW_FEED_PCARS);
	f->game_session = p->session;

	set_flag(f, FRAME_FLAG_LAP_INVALID, race & 8);
	set_flag(f, FRAME_FLAG_ABS, race & 16);
	pcars_paused(f, state & 7);
	pcars_in_pit(f, rd_u8(b, len, 99));
	f->best_lap_ms = lap_ms(f32_at(b, len, 12, 0));
	f->last_lap_ms = lap_ms(f32_at(b, len, 16, 0));
	f->lap_time_ms = running_ms(f32_at(b, len, 20, 0));
#pragma GCC unroll 4
	for (int i = 0; i < 3; i++)
		f->sector_ms[i] = lap_ms(f32_at(b, len, 48, i));
	f->present |= FRAME_P_BEST_LAP | FRAME_P_LAST_LAP | FRAME_P_LAP_TIME | FRAME_P_SECTOR_TIMES;
	pcars_car(f, b, PCARS_V1_TELEMETRY_SIZE, &pcars_v1_car); /* == len */
	v1_participant(f, b, len, p->viewed);
	f->track_len_m = f32_at(b, len, 1360, 0);
	f->present |= FRAME_P_TRACK_LEN;
	meta_f32(st, &st->meta.track_len_m, f->track_len_m);
	return DEC_FRAME;
}

static int v1_strings(struct dec_state *st, const uint8_t *b, size_t len)
{
	struct pcars_priv *p = pcars_priv(st);

	pcars_enter(st, PW_GAME_PCARS1);
	pcars_track(st, b, len, 131, 195);
	meta_str(st, st->meta.car, sizeof st->meta.car, b, len, 3, 64);
	meta_str(st, st->meta.car_class, sizeof st->meta.car_class, b, len, 67, 64);
	if (p->viewed >= 0 && p->viewed < 16)
		meta_str(st, st->meta.driver, sizeof st->meta.driver, b, len,
			 259 + 64 * (size_t)p->viewed, 64);
	return DEC_OK;
}

static int v1_strings_more(struct dec_state *st, const uint8_t *b, size_t len)
{
	struct pcars_priv *p = pcars_priv(st);
	int first = rd_u8(b, len, 3);

	pcars_enter(st, PW_GAME_PCARS1);
	if (p->viewed >= first && p->viewed < first + 16)
		meta_str(st, st->meta.driver, sizeof st->meta.driver, b, len,
			 4 + 64 * (size_t)(p->viewed - first), 64);
	return DEC_OK;
}

static int v1_decode(struct dec_state *st, const uint8_t *b, size_t len, struct pw_frame *out)
{
	static const size_t sizes[3] = {
		PCARS_V1_TELEMETRY_SIZE,
		PCARS_V1_STRINGS_SIZE,
		PCARS_V1_STRINGS_MORE_SIZE,
	};
	unsigned type = rd_u8(b, len, PCARS_V1_TYPE_OFF) & 3;

	if (type == 3)
		return DEC_EFORMAT;
	if (len != sizes[type])
		return DEC_ESIZE;
	if (type == 0)
		return v1_telemetry(st, b, PCARS_V1_TELEMETRY_SIZE, out); /* constant: fold */
	return type == 1 ? v1_strings(st, b, len) : v1_strings_more(st, b, len);
}

/* --- v2 ------------------------------------------------------------------------ */

/* The participant the frames follow: the telemetry's viewed index once one was
 * seen, before that the timings' local participant. */
static int v2_viewed(const struct pcars_priv *p)
{
	return p->have_viewed ? p->viewed : (int)p->local_index;
}

/* Absent channels read 0: forget the previous participant fields entirely. */
static void v2_participant_clear(struct pw_frame *c)
{
	c->present &= ~(FRAME_P_POS | FRAME_P_LAP_DIST | FRAME_P_POSITION | FRAME_P_SECTOR |
			FRAME_P_LAP | FRAME_P_LAP_TIME | FRAME_P_LAST_LAP | FRAME_P_BEST_LAP);
	c->flags_known &= (uint16_t) ~(FRAME_FLAG_LAP_INVALID | FRAME_FLAG_IN_PIT);
	c->flags &= (uint16_t) ~(FRAME_FLAG_LAP_INVALID | FRAME_FLAG_IN_PIT);
	memset(c->pos_m, 0, sizeof c->pos_m);
	c->lap_dist_m = 0.0f;
	c->position = 0;
	c->sector = 0;
	c->lap = 0;
	c->lap_time_ms = c->last_lap_ms = c->best_lap_ms = 0;
}

/* Fill the carry's participant fields from the stored timings and time stats. */
static void v2_participant(struct dec_state *st)
{
	struct pcars_priv *p = pcars_priv(st);
	struct pw_frame *c = &st->carry;
	int idx = v2_viewed(p);
	const uint8_t *r;
	uint8_t sector, race_state, lap;

	v2_participant_clear(c);
	if (idx < 0 || idx >= PCARS_V2_PARTS)
		return;
	if (p->have_stats) {
		r = p->stats + p->stats_rec * (size_t)idx;
		c->best_lap_ms = lap_ms(f32_at(r, p->stats_rec, 0, 0));
		c->last_lap_ms = lap_ms(f32_at(r, p->stats_rec, 4, 0));
		c->present |= FRAME_P_BEST_LAP | FRAME_P_LAST_LAP;
	}
	r = p->timings + p->timings_rec * (size_t)idx;
	if (!p->have_timings || !(r[14] & 0x80))
		return; /* no timings yet, or record not active */
	sector = r[15];
	race_state = r[20];
	lap = r[21];
	pcars_pos(c, r, p->timings_rec, 0, sector);
	c->lap_dist_m = rd_u16(r, p->timings_rec, 12);
	c->lap_time_ms = running_ms(f32_at(r, p->timings_rec, 22, 0));
	c->present |= FRAME_P_LAP_DIST | FRAME_P_LAP_TIME;
	pcars_race_position(c, r[14]);
	pcars_sector(c, sector);
	pcars_in_pit(c, r[17]);
	set_flag(c, FRAME_FLAG_LAP_INVALID, race_state & 0x80);
	if (lap >= 1) {
		c->lap = (uint16_t)(lap - 1);
		c->present |= FRAME_P_LAP;
	}
}

/* One tread zone value in whole degC for the frame (0 stays 0: unset). */
static uint8_t tread_c(unsigned v)
{
	if (v >= PCARS_KELVIN_FROM)
		v = v >= 273 + 1 ? v - 273 : 1; /* 0 degC and below: the lowest reading, 1 */
	return (uint8_t)(v > 255 ? 255 : v);
}

/* The tread's zones of a v2 telemetry packet (see the top comment). */
static void v2_tread(struct pw_frame *f, const uint8_t *b, size_t len)
{
	unsigned any = 0;

	for (size_t i = 0; i < 4; i++) {
		unsigned l = rd_u16(b, len, PCARS_V2_TYRE_TEMP_LEFT + 2 * i);
		unsigned c = rd_u16(b, len, PCARS_V2_TYRE_TEMP_CENTER + 2 * i);
		unsigned r = rd_u16(b, len, PCARS_V2_TYRE_TEMP_RIGHT + 2 * i);
		int left_wheel = i == 0 || i == 2;

		f->tyre_temp_inner_c[i] = tread_c(left_wheel ? r : l);
		f->tyre_temp_middle_c[i] = tread_c(c);
		f->tyre_temp_outer_c[i] = tread_c(left_wheel ? l : r);
		any |= l | c | r;
	}
	if (any)
		f->present |= FRAME_P_TYRE_TEMP_INNER | FRAME_P_TYRE_TEMP_MIDDLE |
			      FRAME_P_TYRE_TEMP_OUTER;
}

static int v2_telemetry(struct dec_state *st, const uint8_t *b, size_t len, struct pw_frame *f)
{
	struct pcars_priv *p = pcars_priv(st);

	p->viewed = rd_s8(b, len, 12);
	p->have_viewed = 1;
	v2_participant(st);
	*f = st->carry;
	pcars_car(f, b, PCARS_V2_TELEMETRY_OLD_SIZE, &pcars_v2_car); /* <= len */
	v2_tread(f, b, PCARS_V2_TELEMETRY_OLD_SIZE);
	if (len >= 554) { /* patch 5: full-precision position of the viewed car */
#pragma GCC unroll 4
		for (int i = 0; i < 3; i++)
			f->pos_m[i] = f32_at(b, len, 542, i);
		f->present |= FRAME_P_POS;
	}
	return DEC_FRAME;
}

static int v2_race(struct dec_state *st, const uint8_t *b, size_t len)
{
	float track_len = f32_at(b, len, 44, 0);

	pcars_track(st, b, len, 48, 112);
	st->carry.track_len_m = track_len;
	st->carry.present |= FRAME_P_TRACK_LEN;
	meta_f32(st, &st->meta.track_len_m, track_len);
	return DEC_OK;
}

/* Partial packets carry 16 participants each; mPartialPacketIndex is 1-based. */
static int v2_block_slot(const struct pcars_priv *p, const uint8_t *b, size_t len)
{
	int part = rd_u8(b, len, 8), slot = v2_viewed(p) - 16 * (part > 0 ? part - 1 : 0);

	return slot >= 0 && slot < 16 ? slot : -1;
}

static int v2_participants(struct dec_state *st, const uint8_t *b, size_t len)
{
	int slot = v2_block_slot(pcars_priv(st), b, len);

	if (slot >= 0)
		meta_str(st, st->meta.driver, sizeof st->meta.driver, b, len,
			 16 + 64 * (size_t)slot, 64);
	return DEC_OK;
}

static int v2_timings(struct dec_state *st, const uint8_t *b, size_t len, unsigned rec)
{
	struct pcars_priv *p = pcars_priv(st);

	/* one block copy: per-record copies of a variable size cost a slow "rep movs" each */
	memcpy(p->timings, b + 33, PCARS_V2_PARTS * (size_t)rec);
	p->timings_rec = (uint8_t)rec;
	p->local_index = rd_u16(b, len, 33 + PCARS_V2_PARTS * rec); /* 0 past the 993-byte end */
	p->have_timings = 1;
	v2_participant(st);
	return DEC_OK;
}

static int v2_game_state(struct dec_state *st, const uint8_t *b, size_t len)
{
	uint8_t state = rd_u8(b, len, 14);

	pcars_session_state(st, state >> 4);
	pcars_paused(&st->carry, state & 7);
	return DEC_OK;
}

static int v2_time_stats(struct dec_state *st, const uint8_t *b, size_t len, unsigned rec)
{
	struct pcars_priv *p = pcars_priv(st);

	memcpy(p->stats, b + 16, PCARS_V2_PARTS * (size_t)rec);
	p->stats_rec = (uint8_t)rec;
	p->have_stats = 1;
	(void)len;
	v2_participant(st);
	return DEC_OK;
}

static int v2_vehicle_names(struct dec_state *st, const uint8_t *b, size_t len)
{
	struct pcars_priv *p = pcars_priv(st);
	int slot = v2_block_slot(p, b, len);
	size_t o;

	if (slot < 0)
		return DEC_OK;
	o = 12 + 72 * (size_t)slot;
	meta_str(st, st->meta.car, sizeof st->meta.car, b, len, o + 8, 64);
	p->class_index = rd_u32(b, len, o + 4);
	p->have_class = 1;
	return DEC_OK;
}

static int v2_class_names(struct dec_state *st, const uint8_t *b, size_t len)
{
	struct pcars_priv *p = pcars_priv(st);

	for (size_t i = 0; i < 60 && p->have_class; i++) {
		size_t o = 12 + 24 * i;

		if (rd_u32(b, len, o) == p->class_index) {
			meta_str(st, st->meta.car_class, sizeof st->meta.car_class, b, len, o + 4,
				 20);
			break;
		}
	}
	return DEC_OK;
}

static int v2_decode(struct dec_state *st, const uint8_t *b, size_t len, struct pw_frame *out)
{
	unsigned type;
	const struct v2_kind *k = NULL;
	int known = 0;

	if (len < PCARS_V2_HDR)
		return DEC_ESIZE;
	type = b[PCARS_V2_HDR_TYPE];
	for (size_t i = 0; i < sizeof v2_kinds / sizeof v2_kinds[0]; i++) {
		if (v2_kinds[i].type != type)
			continue;
		known = 1;
		if (v2_kinds[i].size == len)
			k = &v2_kinds[i];
	}
	if (!known)
		return DEC_EFORMAT;
	if (!k)
		return DEC_ESIZE;
	pcars_enter(st, PW_GAME_PCARS2);
	switch (type) {
	case PCARS_V2_TELEMETRY:
		return v2_telemetry(st, b, len, out);
	case PCARS_V2_RACE:
		return v2_race(st, b, len);
	case PCARS_V2_PARTICIPANTS:
		return v2_participants(st, b, len);
	case PCARS_V2_TIMINGS:
		return v2_timings(st, b, len, k->rec);
	case PCARS_V2_GAME_STATE:
		return v2_game_state(st, b, len);
	case PCARS_V2_TIME_STATS:
		return v2_time_stats(st, b, len, k->rec);
	default:
		return len == PCARS_V2_CLASS_NAMES_SIZE ? v2_class_names(st, b, len)
							: v2_vehicle_names(st, b, len);
	}
}

static int pcars_decode(struct dec_state *st, const uint8_t *buf, size_t len, struct pw_frame *out)
{
	if (len == PCARS_V1_TELEMETRY_SIZE || len == PCARS_V1_STRINGS_SIZE ||
	    len == PCARS_V1_STRINGS_MORE_SIZE)
		return v1_decode(st, buf, len, out);
	return v2_decode(st, buf, len, out);
}

const struct decoder dec_pcars = {
	.feed = "pcars",
	.feed_id = PW_FEED_PCARS,
	.title = "Project CARS 1/2, Automobilista 2",
	.default_port = 5606,
	.mode = DEC_LISTEN,
	.max_rate_hz = 100,
	.raw_bytes_per_s = 100 * 1500,
	.decode = pcars_decode,
	.hello = NULL,
	.bye = NULL,
};
