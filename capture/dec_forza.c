/*
 * dec_forza.c - Forza "Data Out" (FM7, FH4/FH5, FM2023), docs/protocols.md §6.
 *
 * One datagram per game frame, no header, no version: the format is the
 * datagram length. 232 Sled (FM7/FM2023 "Sled"), 311 FM7 Dash, 324 FH4/FH5
 * (12 undocumented bytes before the dash block, 1 trailing byte), 331 FM2023
 * Dash (+ tyre wear, track ordinal). Any other length is DEC_ESIZE. Every
 * datagram is a frame; IsRaceOn == 0 (menus, race stopped) sets
 * FRAME_FLAG_PAUSED.
 *
 * Conventions, and how each was settled. "CSV" is the only real Forza data
 * here, tests/data/forza/austinbaccus_forza-telemetry/laguna-seca.csv: 687
 * decoded FM7 Dash packets, one lap of Laguna Seca (see its README).
 *  - Car axes: X right, Y up, Z forward (official text). Verified on the CSV:
 *    the world heading atan2(dPosX, dPosZ) matches Yaw, the lap turns -360 deg
 *    in that heading (Laguna Seca is driven anticlockwise, mostly left-handers),
 *    AccelerationX correlates at -0.92 with the left-turn rate (so + = right,
 *    the frame's lateral sign), Steer at -0.94 (so + = right), AccelerationZ at
 *    +0.91 with the change of Speed (+ = forward). Acceleration excludes gravity
 *    (mean AccelerationY 0.23 m/s^2 over the lap). Converted m/s^2 -> g with
 *    the signs unchanged; velocity copied as is (same axes as the frame).
 *  - Speed: Dash Speed m/s * 3.6. Sled has no Speed field: |velocity| * 3.6,
 *    which equals the Dash Speed to 2e-5 m/s on every CSV row.
 *  - AngularVelocity has no frame channel and is dropped.
 *  - TireSlipRatio and TireSlipAngle are left out: both are normalised to the
 *    tyre's grip peak (official text: 0 = full grip, |x| > 1 = loss of grip),
 *    not the frame's physical slip ratio or an angle in radians. On the CSV the
 *    slip ratio runs 4-10x the physical (w r - v) / v, and a locked front
 *    wheel (w = 0, physical -1) reads -5.65.
 *  - SuspensionTravelMeters -> susp_travel_m, + = compression (it tracks the
 *    normalised travel, 1 = max compression, at correlation 1.0 on the CSV).
 *    NormalizedSuspensionTravel -> susp_travel_norm, clamped to 0..1 (official
 *    text: 0 = max stretch, 1 = max compression; the CSV holds 0..1, and 1.0,
 *    the bump stop, where SuspensionTravelMeters peaks at 0.05 m).
 *    WheelRotationSpeed rad/s -> wheel_speed_rads.
 *  - Tyre temperature degF -> degC (community knowledge; the CSV's 128..213
 *    are plausible only as degF). Boost psi gauge -> bar (the CSV's -11.0 psi
 *    minimum is a vacuum, so gauge, not absolute). Fuel 0..1 -> fuel_frac.
 *  - Lap times s -> ms; 0 means "no time" (BestLap/LastLap before the first
 *    lap, everything in free roam) and becomes -1 with the channel present.
 *    LapNumber is laps completed (CSV: 0 -> 1 as LastLap becomes 75.256 s).
 *  - DistanceTraveled counts from the start line over the whole race (CSV:
 *    16.8 m at 0.297 s into lap 0, 3606.5 m at 0.059 s into lap 1; Laguna
 *    Seca is 3602 m). lap_dist_m = distance - distance at the start of this
 *    lap; that start is 0 in lap 0 and is estimated at each observed lap change
 *    as distance - Speed * CurrentLap. Absent after joining mid-race until the
 *    next lap change, and whenever CurrentLap is 0 (no lap being timed).
 *    This and CurrentLapTime (lap_time_ms) are the game's lap distance and
 *    time in lap; the Sled format has no lap data at all, and none is derived
 *    for it. The yaw rate is derived downstream (common/derive.h) from Yaw.
 *  - Gear: 0 = reverse -> -1, 1..10 forward. 11 is neutral (the game sends it
 *    in neutral and between gears during a shift; several independent Forza
 *    dashboards read it that way) -> 0. Other values -> gear absent.
 *  - Inputs 0..255 -> 0..1; Steer -127..127 -> -1..1, + right.
 *  - RacePosition 0 means none -> position absent.
 *  - FM2023 TireWear is copied as is, clamped to 0..1 (1 = new per the
 *    lead's reading of the Turn 10 page; not verified on data, no FM2023
 *    capture exists here). Fuel is clamped to 0..1 the same way.
 *  - game_time_s: TimestampMS / 1000, unwrapped across its 32-bit overflow.
 *  - game_session: a new session starts with the first datagram, when
 *    IsRaceOn goes 0 -> 1, when the format changes, or when the car ordinal
 *    or (FM2023) track ordinal changes while the race is on (menu datagrams
 *    may carry zeros; they change neither the session nor the car metadata).
 *    Its id is the unwrapped TimestampMS of its first datagram (kept strictly
 *    increasing), so it survives a capture restart. A pause that clears
 *    IsRaceOn therefore also starts a new session.
 * Metadata: game per format, format = datagram length, car_class "class:C
 * pi:P" (raw numbers; the class letters differ per game). FM2023 (331 B):
 * car and track named from the public ordinal list in dec_forza_names.c
 * ("2014 Porsche 918 Spyder", "Brands Hatch (Grand Prix)" with layout "Grand
 * Prix"), "car_ordinal:N" / "track_ordinal:N" for ordinals it does not list.
 * The numbers themselves (car and track ordinal, class, PI) are in meta's
 * numeric fields as well, with DrivetrainType (0 FWD, 1 RWD, 2 AWD; another
 * value leaves it unknown).
 * FM7, FH4/5 and Sled: car "car_ordinal:N" (no public list of their ordinals
 * was found that could be checked), no track.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/bytes.h"
#include "capture/decoder.h"
#include "capture/forza.h"

/* a lap change is seen at most one packet late; beyond this the Speed * CurrentLap
 * back-projection is not trusted and the raw distance is used */
#define FZ_LAP_START_BACKFILL_S 1.0f

const struct forza_format forza_formats[FZ_FORMATS] = {
	{ FZ_SLED_LEN, PW_GAME_FORZA_SLED, 0, 0 },
	{ FZ_FM7_LEN, PW_GAME_FM7, FZ_DASH_OFF, 0 },
	{ FZ_FH_LEN, PW_GAME_FH, FZ_FH_DASH_OFF, 0 },
	{ FZ_FM2023_LEN, PW_GAME_FM2023, FZ_DASH_OFF, 1 },
};

/* The raw numbers behind meta.car, car_class and track, as last formatted:
 * the strings are rebuilt only when one of them changes. */
struct forza_meta_key {
	int32_t car, car_class, pi, track, drivetrain;
	uint8_t has_track;
};

struct forza_priv {
	uint8_t have_prev, prev_race_on, have_lap, lap_start_known;
	uint32_t prev_len;
	int32_t car_ordinal, track_ordinal;
	uint32_t last_ts, ts_wraps;
	uint64_t session;
	uint16_t prev_lap;
	float lap_start_m;
	uint8_t meta_game; /* enum pw_game in meta.game; 0 = not set yet */
	uint8_t have_meta_key;
	struct forza_meta_key meta_key;
};
_Static_assert(sizeof(struct forza_priv) <= sizeof(((struct dec_state *)0)->priv),
	       "forza_priv fits in dec_state.priv");

static const struct forza_format *format_for(size_t len)
{
	for (size_t i = 0; i < FZ_FORMATS; i++)
		if (forza_formats[i].len == len)
			return &forza_formats[i];
	return NULL;
}

/* fin(rd_f32()) tested on the bits (NaN and Inf have every exponent bit set).
 * Inline, so that with a constant len and offset the bounds check folds away. */
static inline float f32_at(const uint8_t *b, size_t len, size_t off)
{
	uint32_t u = rd_u32(b, len, off);
	float v;

	if ((u & 0x7f800000u) == 0x7f800000u)
		return 0.0f;
	memcpy(&v, &u, sizeof v);
	return v;
}

/* TimestampMS overflows to 0 after 49.7 days; keep counting in 64 bits. */
static uint64_t unwrap_ms(struct forza_priv *p, uint32_t ts)
{
	if (p->have_prev && ts < p->last_ts && p->last_ts - ts > 0x80000000u)
		p->ts_wraps++;
	p->last_ts = ts;
	return (uint64_t)p->ts_wraps << 32 | ts;
}

/* Lap time in seconds (finite: read with f32_at) -> ms; 0 (or garbage) = no
 * time. Rounds half away from zero like lround() without the libm call: for
 * 0 < s <= 2e6, s * 1000 + 0.5 is exact in double, so truncating it is lround
 * (checked for every such float). */
static int32_t lap_ms(float s)
{
	if (!(s > 0.0f) || s > 2.0e6f)
		return -1;
	return (int32_t)((double)s * 1000.0 + 0.5);
}

static int8_t gear_from(uint8_t g, int *known)
{
	*known = 1;
	if (g == 0)
		return -1;
	if (g == FZ_GEAR_NEUTRAL)
		return 0;
	if (g <= FZ_MAX_FWD_GEAR)
		return (int8_t)g;
	*known = 0;
	return 0;
}

static float unit_u8(uint8_t v)
{
	return (float)v / 255.0f;
}

static float steer_from(int8_t v)
{
	float s = (float)v / 127.0f;
	return s < -1.0f ? -1.0f : s;
}

static float degf_to_c(float f)
{
	return (f - 32.0f) * 5.0f / 9.0f;
}

/* len: FZ_SLED_LEN, the bytes every format has (all reads below are inside it). */
static void decode_sled(const uint8_t *b, size_t len, struct pw_frame *out)
{
	float vx = f32_at(b, len, FZ_VEL), vy = f32_at(b, len, FZ_VEL + 4),
	      vz = f32_at(b, len, FZ_VEL + 8);

	out->max_rpm = f32_at(b, len, FZ_MAX_RPM);
	out->rpm = f32_at(b, len, FZ_RPM);
	out->accel_lat_g = f32_at(b, len, FZ_ACCEL_X) / FZ_G; /* finite / g cannot overflow */
	out->accel_vert_g = f32_at(b, len, FZ_ACCEL_Y) / FZ_G;
	out->accel_lon_g = f32_at(b, len, FZ_ACCEL_Z) / FZ_G;
	out->vel_ms[0] = vx;
	out->vel_ms[1] = vy;
	out->vel_ms[2] = vz;
	out->speed_kmh = fin(sqrtf(vx * vx + vy * vy + vz * vz) * 3.6f);
	out->yaw_rad = f32_at(b, len, FZ_YAW);
	out->pitch_rad = f32_at(b, len, FZ_PITCH);
	out->roll_rad = f32_at(b, len, FZ_ROLL);
#pragma GCC unroll 4
	for (int w = 0; w < 4; w++) {
		out->wheel_speed_rads[w] = f32_at(b, len, FZ_WHEEL_SPEED + 4 * (size_t)w);
		out->susp_travel_m[w] = f32_at(b, len, FZ_SUSP_TRAVEL + 4 * (size_t)w);
		out->susp_travel_norm[w] =
			clampf(f32_at(b, len, FZ_SUSP_NORM + 4 * (size_t)w), 0.0f, 1.0f);
	}
	out->present |= FRAME_P_MAX_RPM | FRAME_P_RPM | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON |
			FRAME_P_ACCEL_VERT | FRAME_P_VEL | FRAME_P_SPEED | FRAME_P_YAW |
			FRAME_P_PITCH | FRAME_P_ROLL | FRAME_P_WHEEL_SPEED | FRAME_P_SUSP_TRAVEL |
			FRAME_P_SUSP_NORM;
}

/* Distance along the current lap; see the header comment for the method. */
static void lap_distance(struct forza_priv *p, struct pw_frame *out, uint16_t lap, float dist_m,
			 float cur_lap_s)
{
	if (lap == 0) {
		p->lap_start_known = 1;
		p->lap_start_m = 0.0f;
	} else if (p->have_lap && lap == (uint16_t)(p->prev_lap + 1)) {
		float back = cur_lap_s >= 0.0f && cur_lap_s <= FZ_LAP_START_BACKFILL_S
				     ? out->speed_kmh / 3.6f * cur_lap_s
				     : 0.0f;
		p->lap_start_known = 1;
		p->lap_start_m = fin(dist_m - back);
	} else if (!p->have_lap || lap != p->prev_lap) {
		p->lap_start_known = 0;
	}
	p->have_lap = 1;
	p->prev_lap = lap;

	if (p->lap_start_known && cur_lap_s > 0.0f && dist_m >= p->lap_start_m) {
		out->lap_dist_m = fin(dist_m - p->lap_start_m);
		out->present |= FRAME_P_LAP_DIST;
	}
}

/* b, len: the dash block (FZ_DASH_LEN bytes, offsets below relative to it). */
static void decode_dash(struct forza_priv *p, const uint8_t *b, size_t len, struct pw_frame *out)
{
	float cur_lap_s = f32_at(b, len, FZ_D_CUR_LAP);
	uint16_t lap = rd_u16(b, len, FZ_D_LAP);
	uint8_t race_pos = rd_u8(b, len, FZ_D_RACE_POS);
	int gear_known;
	int8_t gear = gear_from(rd_u8(b, len, FZ_D_GEAR), &gear_known);

#pragma GCC unroll 4
	for (int i = 0; i < 3; i++)
		out->pos_m[i] = f32_at(b, len, FZ_D_POS + 4 * (size_t)i);
	out->speed_kmh = fin(f32_at(b, len, FZ_D_SPEED) * 3.6f);
	out->power_w = f32_at(b, len, FZ_D_POWER);
	out->torque_nm = f32_at(b, len, FZ_D_TORQUE);
#pragma GCC unroll 4
	for (int w = 0; w < 4; w++)
		out->tyre_temp_c[w] =
			fin(degf_to_c(f32_at(b, len, FZ_D_TYRE_TEMP + 4 * (size_t)w)));
	out->boost_bar = f32_at(b, len, FZ_D_BOOST) * FZ_BAR_PER_PSI; /* factor < 1: stays finite */
	out->fuel_frac = clampf(f32_at(b, len, FZ_D_FUEL), 0.0f, 1.0f);
	out->best_lap_ms = lap_ms(f32_at(b, len, FZ_D_BEST_LAP));
	out->last_lap_ms = lap_ms(f32_at(b, len, FZ_D_LAST_LAP));
	out->lap_time_ms = lap_ms(cur_lap_s);
	out->lap = lap;
	out->throttle = unit_u8(rd_u8(b, len, FZ_D_THROTTLE));
	out->brake = unit_u8(rd_u8(b, len, FZ_D_BRAKE));
	out->clutch = unit_u8(rd_u8(b, len, FZ_D_CLUTCH));
	out->handbrake = unit_u8(rd_u8(b, len, FZ_D_HANDBRAKE));
	out->steer = steer_from(rd_s8(b, len, FZ_D_STEER));
	out->present |= FRAME_P_POS | FRAME_P_SPEED | FRAME_P_POWER | FRAME_P_TORQUE |
			FRAME_P_TYRE_TEMP | FRAME_P_BOOST | FRAME_P_FUEL_FRAC | FRAME_P_BEST_LAP |
			FRAME_P_LAST_LAP | FRAME_P_LAP_TIME | FRAME_P_LAP | FRAME_P_THROTTLE |
			FRAME_P_BRAKE | FRAME_P_CLUTCH | FRAME_P_HANDBRAKE | FRAME_P_STEER;
	if (gear_known) {
		out->gear = gear;
		out->present |= FRAME_P_GEAR;
	}
	if (race_pos > 0) {
		out->position = race_pos;
		out->present |= FRAME_P_POSITION;
	}
	lap_distance(p, out, lap, f32_at(b, len, FZ_D_DISTANCE), cur_lap_s);
}

static void decode_fm2023(const uint8_t *b, size_t len, struct pw_frame *out)
{
#pragma GCC unroll 4
	for (int w = 0; w < 4; w++)
		out->tyre_wear[w] = clampf(f32_at(b, len, FZ_WEAR_OFF + 4 * (size_t)w), 0.0f, 1.0f);
	out->present |= FRAME_P_TYRE_WEAR;
}

static void set_meta_u64(struct dec_state *st, uint64_t *dst, uint64_t v)
{
	if (*dst != v) {
		*dst = v;
		st->meta_gen++;
	}
}

static int car_cmp(const void *key, const void *elem)
{
	int32_t a = *(const int32_t *)key, b = ((const struct forza_name *)elem)->ordinal;

	return (a > b) - (a < b);
}

static int track_cmp(const void *key, const void *elem)
{
	int32_t a = *(const int32_t *)key, b = ((const struct forza_track *)elem)->ordinal;

	return (a > b) - (a < b);
}

static void set_meta_strings(struct dec_state *st, const struct forza_meta_key *k)
{
	const struct forza_name *car = NULL;
	const struct forza_track *track = NULL;
	char s[META_STR];

	/* the names are FM2023's (the 331-byte format, the one with a track ordinal) */
	if (k->has_track) {
		car = bsearch(&k->car, forza_fm2023_cars, FZ_FM2023_CARS, sizeof *car, car_cmp);
		track = bsearch(&k->track, forza_fm2023_tracks, FZ_FM2023_TRACKS, sizeof *track,
				track_cmp);
	}
	if (car)
		snprintf(s, sizeof s, "%s", car->name);
	else
		snprintf(s, sizeof s, "car_ordinal:%d", (int)k->car);
	dec_meta_set(st, st->meta.car, sizeof st->meta.car, s, strlen(s));
	snprintf(s, sizeof s, "class:%d pi:%d", (int)k->car_class, (int)k->pi);
	dec_meta_set(st, st->meta.car_class, sizeof st->meta.car_class, s, strlen(s));
	if (track)
		snprintf(s, sizeof s, "%s", track->name);
	else if (k->has_track)
		snprintf(s, sizeof s, "track_ordinal:%d", (int)k->track);
	else
		s[0] = '\0';
	dec_meta_set(st, st->meta.track, sizeof st->meta.track, s, strlen(s));
	s[0] = '\0';
	if (track)
		snprintf(s, sizeof s, "%s", track->layout);
	dec_meta_set(st, st->meta.layout, sizeof st->meta.layout, s, strlen(s));
	/* the numbers too: a name from the list hides them (the seed-004 stream wants them) */
	st->meta.numbers = META_N_CAR_ORDINAL | META_N_CAR_CLASS | META_N_CAR_PI |
			   (k->has_track ? META_N_TRACK_ORDINAL : 0) |
			   (k->drivetrain >= 0 && k->drivetrain <= 2 ? META_N_DRIVETRAIN : 0);
	st->meta.drivetrain = k->drivetrain;
	st->meta.car_ordinal = k->car;
	st->meta.track_ordinal = k->has_track ? k->track : 0;
	st->meta.car_class_num = k->car_class;
	st->meta.car_pi = k->pi;
	st->meta_gen++;
}

/* Only this decoder writes these meta fields, so a string is formatted (and
 * compared) only when its raw value differs from the one it was made from. */
static void update_meta(struct dec_state *st, struct forza_priv *p, const struct forza_format *fmt,
			const uint8_t *b, size_t len, int32_t track, int race_on)
{
	struct forza_meta_key k;

	if (p->meta_game != fmt->game) {
		const char *game = frame_game_name(fmt->game);

		dec_meta_set(st, st->meta.game, sizeof st->meta.game, game, strlen(game));
		p->meta_game = (uint8_t)fmt->game;
	}
	if (st->meta.format != fmt->len) {
		st->meta.format = (uint32_t)fmt->len;
		st->meta_gen++;
	}
	if (!race_on && st->meta.car[0])
		return;
	memset(&k, 0, sizeof k); /* padding too: keys are compared with memcmp */
	k.car = rd_s32(b, len, FZ_CAR_ORDINAL);
	k.car_class = rd_s32(b, len, FZ_CAR_CLASS);
	k.pi = rd_s32(b, len, FZ_CAR_PI);
	k.drivetrain = rd_s32(b, len, FZ_DRIVETRAIN);
	k.has_track = (uint8_t)fmt->fm2023;
	k.track = fmt->fm2023 ? track : 0;
	if (p->have_meta_key && memcmp(&k, &p->meta_key, sizeof k) == 0)
		return;
	set_meta_strings(st, &k);
	p->meta_key = k;
	p->have_meta_key = 1;
}

static void track_session(struct dec_state *st, struct forza_priv *p, size_t len, int race_on,
			  int32_t car, int32_t track, uint64_t ms)
{
	int fresh = !p->have_prev || (race_on && !p->prev_race_on) || p->prev_len != len ||
		    (race_on && (p->car_ordinal != car || p->track_ordinal != track));

	if (fresh) {
		p->session = ms > p->session ? ms : p->session + 1;
		p->have_lap = 0;
		p->lap_start_known = 0;
	}
	if (!p->have_prev || race_on) {
		p->car_ordinal = car;
		p->track_ordinal = track;
	}
	p->have_prev = 1;
	p->prev_race_on = (uint8_t)race_on;
	p->prev_len = (uint32_t)len;
	set_meta_u64(st, &st->meta.game_session, p->session);
}

static int forza_decode(struct dec_state *st, const uint8_t *buf, size_t len, struct pw_frame *out)
{
	struct forza_priv *p = (struct forza_priv *)st->priv;
	const struct forza_format *fmt = format_for(len);
	int race_on;
	int32_t car, track;
	uint64_t ms;

	if (!buf || !fmt)
		return DEC_ESIZE;
	race_on = rd_s32(buf, len, FZ_IS_RACE_ON) != 0;
	car = rd_s32(buf, len, FZ_CAR_ORDINAL);
	track = fmt->fm2023 ? rd_s32(buf, len, FZ_TRACK_OFF) : -1;
	ms = unwrap_ms(p, rd_u32(buf, len, FZ_TIMESTAMP_MS));
	track_session(st, p, len, race_on, car, track, ms);
	update_meta(st, p, fmt, buf, len, track, race_on);

	frame_init(out, fmt->game, PW_FEED_FORZA);
	out->game_session = p->session;
	out->game_time_s = (double)ms / 1000.0;
	out->present |= FRAME_P_GAME_TIME;
	out->flags_known = FRAME_FLAG_PAUSED;
	if (!race_on)
		out->flags |= FRAME_FLAG_PAUSED;
	/* constant lengths no longer than the datagram's, so the reads check at compile time */
	decode_sled(buf, FZ_SLED_LEN, out);
	if (fmt->dash)
		decode_dash(p, buf + fmt->dash, FZ_DASH_LEN, out);
	if (fmt->fm2023)
		decode_fm2023(buf, FZ_FM2023_LEN, out);
	return DEC_FRAME;
}

const struct decoder dec_forza = {
	.feed = "forza",
	.feed_id = PW_FEED_FORZA,
	.title = "Forza Motorsport / Horizon Data Out",
	.default_port = 5300,
	.mode = DEC_LISTEN,
	.max_rate_hz = 60,
	.raw_bytes_per_s = 60 * FZ_FM2023_LEN,
	.decode = forza_decode,
	.hello = NULL,
	.bye = NULL,
};
