/*
 * dec_f1.c - F1 23 / F1 24 / F1 25 UDP telemetry (EA/Codemasters, port 20777).
 *
 * Layouts: docs/protocols.md section 7 (header 7.1, sizes 7.2, CarTelemetryData 7.3,
 * CarMotionData 7.4, LapData 7.5, ParticipantData 7.6, Session 7.7). The
 * records of 7.8 come from the official F1 23 structs
 * (hotlaps/f1-game-udp-specs, folder 2023) and the F1 24/25 ctypes parsers
 * (Fredrik2002/f1-25-telemetry-application src/parsers/parser2025.py); their
 * sizes reproduce table 7.2 exactly:
 *   CarStatusData (55 B, 2023-2025): u8 tc@0 abs@1 fuelMix@2 brakeBias@3
 *     pitLimiter@4, f32 fuelInTank@5 (kg) fuelCapacity@9 (kg)
 *     fuelRemainingLaps@13, u16 maxRPM@17 idleRPM@19, u8 maxGears@21
 *     drsAllowed@22, u16 drsDistance@23, u8 compound@25 visual@26 age@27,
 *     s8 fiaFlag@28, f32 powerICE@29 (W) powerMGUK@33 (W) ersStore@37,
 *     u8 deployMode@41, f32 harvestK@42 harvestH@46 deployed@50, u8 paused@54.
 *   CarDamageData (42 B 2023/2024, 46 B 2025): f32 tyresWear[4]@0 (percent,
 *     wheel order RL RR FL FR); 2025 inserts u8 tyreBlisters[4] after the
 *     brake damage, behind the wear array.
 *   Session History (1460 B): u8 carIdx@29 numLaps@30 numTyreStints@31
 *     bestLapTimeLapNum@32 (1-based, 0 = none) bestS1/S2/S3LapNum@33..35,
 *     LapHistoryData[100] x 14 B @36 {u32 lapTimeInMS, ...}, stints x 3 B @1436.
 *
 * Dispatch: m_packetFormat (2023/2024/2025; anything else, including F1 22's
 * 24-byte-header format, is DEC_EFORMAT), then m_packetId, then the exact
 * datagram length for that year (events: any length >= 33, see 7.8).
 *
 * Tick model: every packet updates st->carry with the fields of the player car
 * (m_playerCarIndex, or m_secondaryPlayerCarIndex with DEC_OPT_F1_SECOND_PLAYER;
 * 255 or any index >= 22 = no car, the packet is DEC_OK without a frame). Car
 * Telemetry (id 6) closes the tick and emits everything accumulated. A change
 * of m_sessionUID (or of the format year) starts a new carry, so fields of the
 * old session never leak into the new one; game_session =
 * frame_session_id(m_sessionUID) (the 64-bit uid folded into 53 bits) and
 * game_time_s = m_sessionTime of the telemetry packet.
 *
 * Conventions (verified on the real packets in tests/data/f1/ unless noted):
 * - Axes. The world is right-handed with y up. The real motion packets give
 *   yaw = atan2(fwd.x, fwd.z), pitch = -asin(fwd.y) (nose down positive) and
 *   roll = -asin(right.y / cos pitch) (right side down positive) to 1e-4 rad,
 *   i.e. the game's car frame is right-handed with x to the car's LEFT, y up,
 *   z forward (rotating that frame by yaw, then pitch, then roll reproduces
 *   the forward/right vectors of all 40 real cars to 3/32767: test_dec_f1).
 *   vel_ms uses the packet's own right/forward vectors: x = v.right,
 *   y = v.(right x forward) (= +up, checked on data), z = v.forward.
 * - G forces. EA documents m_gForceLateral only as "lateral G-force component".
 *   We take the g components as expressed in the car frame above, so positive
 *   lateral points to the car's left and accel_lat_g = -m_gForceLateral;
 *   longitudinal (+ forward, z) and vertical (+ up, y) keep their sign. NOT
 *   verified on moving data: every real packet here is a car parked on the
 *   grid (|g| < 0.05, |v| < 0.003 m/s); gravity is not included (vertical ~ 0
 *   at rest).
 * - Wheels: F1 arrays are RL RR FL FR; frames are FL FR RL RR.
 * - Tyre pressure PSI -> kPa; temperatures are already degC (tyre_temp_c =
 *   surface temperature); clutch 0..100 -> 0..1; steer -1 (left) .. 1 (right).
 * - Fuel: m_fuelInTank and m_fuelCapacity are kg; litres cannot be derived,
 *   so fuel_l is absent and fuel_frac = inTank / capacity.
 * - num_gears = m_maxGears - 1: both real status packets say 9 for 8-speed
 *   F1 cars (telemetry gears 1..8), so the game counts one non-forward gear.
 * - power_w = ICE + MGU-K power (W). ABS/TC in car status are assist
 *   settings, not "acting now": not mapped. Pit limiter -> FRAME_FLAG_LIMITER.
 * - Lap: lap = m_currentLapNum - 1 (laps completed); last_lap_ms -1 when 0;
 *   sector_ms = sector durations of the current lap (minutes + ms parts),
 *   -1 until that sector is completed (S3 is never known within the lap) and
 *   while the game reports 0 (on the grid the real packets say sector 3 with
 *   S1 = S2 = 0);
 *   lap_dist_m is the game's value, negative before the line is first crossed;
 *   lap_time_ms (m_currentLapTimeInMS) is the game's lap clock. Lap distance,
 *   time in lap and g are all the game's; only the yaw rate is derived
 *   downstream (common/derive.h; yaw grows turning left in this world).
 * - best_lap_ms comes from the player's Session History packet (-1 when the
 *   game reports no best lap yet); absent until that packet arrives.
 * - Flags: IN_PIT (pit status != 0) and LAP_INVALID from lap data, LIMITER
 *   from car status, PAUSED from session m_gamePaused.
 */
#include <stdio.h>
#include <string.h>

#include "capture/bytes.h"
#include "capture/decoder.h"
#include "capture/f1.h"

#define F1_NO_CAR 255

/* Session m_formula (F1 23: 5 Supercars, 7 F2 2021; F1 24/25: 8 F1 World, 9 F1 Elimination). */
static const char *const f1_formulas[] = {
	"F1",        "F1 Classic", "F2",      "F1 Generic", "Beta",
	"Supercars", "Esports",    "F2 2021", "F1 World",   "F1 Elimination",
};

struct f1_priv {
	uint64_t session_uid;
	uint16_t format; /* 0 until the first packet that carries car data */
};
_Static_assert(sizeof(struct f1_priv) <= sizeof(((struct dec_state *)0)->priv), "priv fits");

/* Car record index of the followed player, or -1 when there is none. */
static int f1_player(const struct dec_state *st, const uint8_t *b, size_t len)
{
	int second = (st->opt_flags & DEC_OPT_F1_SECOND_PLAYER) != 0;
	unsigned idx = rd_u8(b, len, second ? F1_HDR_SECOND_PLAYER : F1_HDR_PLAYER);

	return idx < F1_CARS ? (int)idx : -1;
}

static void f1_meta_u64(struct dec_state *st, uint64_t *dst, uint64_t v)
{
	if (*dst != v) {
		*dst = v;
		st->meta_gen++;
	}
}

static void f1_meta_u32(struct dec_state *st, uint32_t *dst, uint32_t v)
{
	if (*dst != v) {
		*dst = v;
		st->meta_gen++;
	}
}

static void f1_meta_str(struct dec_state *st, char *dst, size_t cap, const char *s)
{
	dec_meta_set(st, dst, cap, s, strlen(s));
}

/* Start a new carry when the session (or the format year) changes. */
static void f1_session(struct dec_state *st, const struct f1_layout *ly, const uint8_t *b,
		       size_t len)
{
	struct f1_priv *p = (struct f1_priv *)st->priv;
	uint64_t uid = frame_session_id(rd_u64(b, len, F1_HDR_SESSION_UID));

	if (p->format != ly->format || p->session_uid != uid) {
		p->format = ly->format;
		p->session_uid = uid;
		frame_init(&st->carry, (enum pw_game)ly->game, PW_FEED_F1);
		st->carry.game_session = uid;
	}
	f1_meta_str(st, st->meta.game, sizeof st->meta.game, frame_game_name(ly->game));
	f1_meta_u32(st, &st->meta.format, ly->format);
	f1_meta_u64(st, &st->meta.game_session, uid);
}

static void f1_flag(struct pw_frame *f, unsigned flag, int on)
{
	f->flags_known |= flag;
	if (on)
		f->flags |= flag;
	else
		f->flags &= (uint16_t)~flag;
}

static float f1_dir(const uint8_t *b, size_t len, size_t off)
{
	return (float)rd_s16(b, len, off) / 32767.0f;
}

static void decode_motion(struct pw_frame *c, const uint8_t *b, size_t len, int car)
{
	size_t o = F1_HDR + (size_t)car * F1_MOTION_REC;
	float v[3], fw[3], rt[3], up[3];

	for (int i = 0; i < 3; i++) {
		c->pos_m[i] = fin(rd_f32(b, len, o + 4 * (size_t)i));
		v[i] = fin(rd_f32(b, len, o + 12 + 4 * (size_t)i));
		fw[i] = f1_dir(b, len, o + 24 + 2 * (size_t)i);
		rt[i] = f1_dir(b, len, o + 30 + 2 * (size_t)i);
	}
	up[0] = rt[1] * fw[2] - rt[2] * fw[1];
	up[1] = rt[2] * fw[0] - rt[0] * fw[2];
	up[2] = rt[0] * fw[1] - rt[1] * fw[0];
	c->vel_ms[0] = fin(v[0] * rt[0] + v[1] * rt[1] + v[2] * rt[2]);
	c->vel_ms[1] = fin(v[0] * up[0] + v[1] * up[1] + v[2] * up[2]);
	c->vel_ms[2] = fin(v[0] * fw[0] + v[1] * fw[1] + v[2] * fw[2]);
	c->accel_lat_g = -fin(rd_f32(b, len, o + 36)) + 0.0f;
	c->accel_lon_g = fin(rd_f32(b, len, o + 40));
	c->accel_vert_g = fin(rd_f32(b, len, o + 44));
	c->yaw_rad = fin(rd_f32(b, len, o + 48));
	c->pitch_rad = fin(rd_f32(b, len, o + 52));
	c->roll_rad = fin(rd_f32(b, len, o + 56));
	c->present |= FRAME_P_POS | FRAME_P_VEL | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON |
		      FRAME_P_ACCEL_VERT | FRAME_P_YAW | FRAME_P_PITCH | FRAME_P_ROLL;
}

static const char *f1_session_kind(const struct f1_layout *ly, unsigned type)
{
	if (type == 0)
		return "unknown";
	if (type <= 4)
		return "practice";
	if (type < ly->race_first)
		return "qualifying";
	if (type < ly->race_first + 3u)
		return "race";
	if (type == ly->race_first + 3u)
		return "time_trial";
	return "unknown";
}

static void decode_session(struct dec_state *st, const struct f1_layout *ly, const uint8_t *b,
			   size_t len)
{
	struct pw_frame *c = &st->carry;
	int track = rd_s8(b, len, 36);
	unsigned formula = rd_u8(b, len, 37);
	char name[META_STR];

	c->track_len_m = (float)rd_u16(b, len, 33);
	c->present |= FRAME_P_TRACK_LEN;
	f1_flag(c, FRAME_FLAG_PAUSED, rd_u8(b, len, 43) != 0);
	if (st->meta.track_len_m != c->track_len_m) {
		st->meta.track_len_m = c->track_len_m;
		st->meta_gen++;
	}

	if (track < 0)
		name[0] = '\0';
	else if ((size_t)track < F1_TRACK_IDS && f1_tracks[track])
		snprintf(name, sizeof name, "%s", f1_tracks[track]);
	else
		snprintf(name, sizeof name, "track %d", track);
	f1_meta_str(st, st->meta.track, sizeof st->meta.track, name);

	if (formula < sizeof f1_formulas / sizeof f1_formulas[0])
		snprintf(name, sizeof name, "%s", f1_formulas[formula]);
	else
		snprintf(name, sizeof name, "formula %u", formula);
	f1_meta_str(st, st->meta.car_class, sizeof st->meta.car_class, name);
	f1_meta_str(st, st->meta.session_type, sizeof st->meta.session_type,
		    f1_session_kind(ly, rd_u8(b, len, 35)));
}

/* minutes part + ms part; 0 (the game's "not set", e.g. on the grid) -> -1 */
static int32_t f1_split_ms(const uint8_t *b, size_t len, size_t off)
{
	int32_t ms = (int32_t)rd_u8(b, len, off + 2) * 60000 + rd_u16(b, len, off);

	return ms ? ms : -1;
}

static void decode_lap(struct pw_frame *c, const struct f1_layout *ly, const uint8_t *b, size_t len,
		       int car)
{
	size_t o = F1_HDR + (size_t)car * ly->lap_rec;
	size_t d = o + ly->lap_dist_off;
	uint32_t last = rd_u32(b, len, o);
	unsigned lap_num = rd_u8(b, len, d + 13);
	unsigned sector = rd_u8(b, len, d + 16);

	c->last_lap_ms = last ? (int32_t)(last & 0x7fffffff) : -1;
	c->lap_time_ms = (int32_t)(rd_u32(b, len, o + 4) & 0x7fffffff);
	c->sector_ms[0] = sector >= 1 ? f1_split_ms(b, len, o + 8) : -1;
	c->sector_ms[1] = sector >= 2 ? f1_split_ms(b, len, o + 11) : -1;
	c->sector_ms[2] = -1;
	c->lap_dist_m = fin(rd_f32(b, len, d));
	c->position = rd_u8(b, len, d + 12);
	c->lap = (uint16_t)(lap_num ? lap_num - 1 : 0);
	c->sector = (uint8_t)(sector <= 2 ? sector : 2);
	f1_flag(c, FRAME_FLAG_IN_PIT, rd_u8(b, len, d + 14) != 0);
	f1_flag(c, FRAME_FLAG_LAP_INVALID, rd_u8(b, len, d + 17) != 0);
	c->present |= FRAME_P_LAST_LAP | FRAME_P_LAP_TIME | FRAME_P_SECTOR_TIMES |
		      FRAME_P_LAP_DIST | FRAME_P_POSITION | FRAME_P_LAP | FRAME_P_SECTOR;
}

static void decode_participants(struct dec_state *st, const struct f1_layout *ly, const uint8_t *b,
				size_t len, int car)
{
	size_t o = F1_HDR + 1 + (size_t)car * ly->part_rec;
	unsigned team = rd_u8(b, len, o + 3);
	char name[META_STR];

	dec_meta_set(st, st->meta.driver, sizeof st->meta.driver, (const char *)b + o + 7,
		     ly->name_len);
	if (ly->teams[team])
		snprintf(name, sizeof name, "%s", ly->teams[team]);
	else
		snprintf(name, sizeof name, "team %u", team);
	f1_meta_str(st, st->meta.car, sizeof st->meta.car, name);
}

static void decode_status(struct pw_frame *c, const uint8_t *b, size_t len, int car)
{
	size_t o = F1_HDR + (size_t)car * F1_STATUS_REC;
	float fuel = fin(rd_f32(b, len, o + 5)), capacity = fin(rd_f32(b, len, o + 9));
	unsigned max_rpm = rd_u16(b, len, o + 17), gears = rd_u8(b, len, o + 21);

	f1_flag(c, FRAME_FLAG_LIMITER, rd_u8(b, len, o + 4) != 0);
	c->present &= ~(FRAME_P_FUEL_FRAC | FRAME_P_MAX_RPM | FRAME_P_NUM_GEARS);
	if (capacity > 0.0f) {
		c->fuel_frac = fuel > 0.0f ? clampf(fin(fuel / capacity), 0.0f, 1.0f) : 0.0f;
		c->present |= FRAME_P_FUEL_FRAC;
	}
	if (max_rpm) {
		c->max_rpm = (float)max_rpm;
		c->present |= FRAME_P_MAX_RPM;
	}
	if (gears >= 2) {
		c->num_gears = (uint8_t)(gears - 1);
		c->present |= FRAME_P_NUM_GEARS;
	}
	c->power_w = fin(fin(rd_f32(b, len, o + 29)) + fin(rd_f32(b, len, o + 33)));
	c->present |= FRAME_P_POWER;
}

static void decode_damage(struct pw_frame *c, const struct f1_layout *ly, const uint8_t *b,
			  size_t len, int car)
{
	size_t o = F1_HDR + (size_t)car * ly->damage_rec;

	for (int w = 0; w < 4; w++) {
		float worn = fin(rd_f32(b, len, o + 4u * f1_wheel[w])) / 100.0f;
		c->tyre_wear[w] = clampf(1.0f - worn, 0.0f, 1.0f);
	}
	c->present |= FRAME_P_TYRE_WEAR;
}

/* Session History is one car per packet; only the player's gives best_lap_ms. */
static void decode_history(struct pw_frame *c, const uint8_t *b, size_t len, int car)
{
	unsigned best = rd_u8(b, len, 32);
	uint32_t ms = 0;

	if (rd_u8(b, len, 29) != (unsigned)car)
		return;
	if (best >= 1 && best <= F1_HISTORY_LAPS)
		ms = rd_u32(b, len, 36 + (size_t)(best - 1) * F1_HISTORY_LAP_REC);
	c->best_lap_ms = ms ? (int32_t)(ms & 0x7fffffff) : -1;
	c->present |= FRAME_P_BEST_LAP;
}

static void decode_telemetry(struct pw_frame *c, const uint8_t *b, size_t len, int car)
{
	size_t o = F1_HDR + (size_t)car * F1_TELEMETRY_REC;

	c->game_time_s = fin(rd_f32(b, len, F1_HDR_SESSION_TIME));
	c->speed_kmh = rd_u16(b, len, o);
	c->throttle = clampf(fin(rd_f32(b, len, o + 2)), 0.0f, 1.0f);
	c->steer = clampf(fin(rd_f32(b, len, o + 6)), -1.0f, 1.0f) + 0.0f;
	c->brake = clampf(fin(rd_f32(b, len, o + 10)), 0.0f, 1.0f);
	c->clutch = clampf(rd_u8(b, len, o + 14) / 100.0f, 0.0f, 1.0f);
	c->gear = rd_s8(b, len, o + 15);
	c->rpm = rd_u16(b, len, o + 16);
	for (int w = 0; w < 4; w++) {
		unsigned g = f1_wheel[w];
		c->brake_temp_c[w] = rd_u16(b, len, o + 22 + 2 * g);
		c->tyre_temp_c[w] = rd_u8(b, len, o + 30 + g);
		c->tyre_press_kpa[w] = fin(rd_f32(b, len, o + 40 + 4 * g) * F1_PSI_KPA);
	}
	c->present |= FRAME_P_GAME_TIME | FRAME_P_SPEED | FRAME_P_THROTTLE | FRAME_P_STEER |
		      FRAME_P_BRAKE | FRAME_P_CLUTCH | FRAME_P_GEAR | FRAME_P_RPM |
		      FRAME_P_BRAKE_TEMP | FRAME_P_TYRE_TEMP | FRAME_P_TYRE_PRESS;
}

/* Validate header, id and length; returns the layout or NULL with *err set. */
static const struct f1_layout *f1_check(const uint8_t *b, size_t len, unsigned *id, int *err)
{
	const struct f1_layout *ly;

	*err = DEC_ESIZE;
	if (len < 2)
		return NULL;
	ly = f1_layout_of(rd_u16(b, len, F1_HDR_FORMAT));
	if (!ly) {
		*err = DEC_EFORMAT;
		return NULL;
	}
	if (len < F1_HDR)
		return NULL;
	*id = rd_u8(b, len, F1_HDR_PACKET_ID);
	if (*id >= F1_PACKET_IDS || !ly->size[*id]) {
		*err = DEC_EFORMAT;
		return NULL;
	}
	if (*id == F1_EVENT ? len < F1_EVENT_MIN : len != ly->size[*id])
		return NULL;
	*err = DEC_OK;
	return ly;
}

static int f1_decode(struct dec_state *st, const uint8_t *buf, size_t len, struct pw_frame *out)
{
	const struct f1_layout *ly;
	unsigned id = 0;
	int err, car;

	ly = f1_check(buf, len, &id, &err);
	if (!ly)
		return err;
	switch (id) {
	case F1_MOTION:
	case F1_SESSION:
	case F1_LAP:
	case F1_PARTICIPANTS:
	case F1_TELEMETRY:
	case F1_STATUS:
	case F1_DAMAGE:
	case F1_HISTORY:
		break;
	default:
		return DEC_OK; /* valid, nothing we use (events, setups, lobby, ...) */
	}

	f1_session(st, ly, buf, len);
	if (id == F1_SESSION) {
		decode_session(st, ly, buf, len);
		return DEC_OK;
	}
	car = f1_player(st, buf, len);
	if (car < 0)
		return DEC_OK;
	switch (id) {
	case F1_MOTION:
		decode_motion(&st->carry, buf, len, car);
		break;
	case F1_LAP:
		decode_lap(&st->carry, ly, buf, len, car);
		break;
	case F1_PARTICIPANTS:
		decode_participants(st, ly, buf, len, car);
		break;
	case F1_STATUS:
		decode_status(&st->carry, buf, len, car);
		break;
	case F1_DAMAGE:
		decode_damage(&st->carry, ly, buf, len, car);
		break;
	case F1_HISTORY:
		decode_history(&st->carry, buf, len, car);
		break;
	case F1_TELEMETRY:
		decode_telemetry(&st->carry, buf, len, car);
		*out = st->carry;
		return DEC_FRAME;
	}
	return DEC_OK;
}

const struct decoder dec_f1 = {
	.feed = "f1",
	.feed_id = PW_FEED_F1,
	.title = "F1 23 / F1 24 / F1 25",
	.default_port = 20777,
	.mode = DEC_LISTEN,
	.max_rate_hz = 120,
	.raw_bytes_per_s = 120 * 6000,
	.decode = f1_decode,
	.hello = NULL,
	.bye = NULL,
};
