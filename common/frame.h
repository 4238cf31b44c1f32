/*
 * frame.h - the normalized telemetry frame and the feed metadata block.
 *
 * One fixed-size, versioned struct for every game. Decoders convert the game's
 * units into the ones below; nothing downstream converts again. The struct is a
 * wire and shared-memory layout (rings, frame files, analysis jobs): plain,
 * little-endian, no pointers, size and offsets asserted at compile time. Any
 * change to it bumps FRAME_VERSION, except a channel appended in the reserved
 * tail: older frames hold zeros there with its presence bit clear, which reads
 * as "absent", so they stay valid frames of the same version.
 *
 * Units and axes (the same for every game):
 *   inputs      throttle, brake, clutch, handbrake pedal/lever 0..1 (1 = fully
 *               pressed; clutch 1 = disengaged); steer -1 (full left)
 *               .. +1 (full right); steer_deg = steering-wheel angle, + right
 *   gear        -1 reverse, 0 neutral, 1..n forward
 *   speed_kmh   km/h; rpm, max_rpm 1/min; power_w W; torque_nm N*m
 *   vel_ms      car frame, m/s: [0] x to the right, [1] y up, [2] z forward
 *   accel_*_g   g (9.80665 m/s^2): lat + toward the car's right (a right-hand
 *               turn), lon + forward (accelerating), vert + up
 *   pos_m       world position, m, y up (games with a 2-D map: x, z; y = 0)
 *   yaw/pitch/roll  rad, as the game reports them
 *   yaw_rate_rads   rad/s, + turning right (clockwise seen from above)
 *   lap         laps completed; lap_time_ms current lap; last/best lap ms
 *   sector_ms   split times of the current lap, ms, -1 = not reached yet
 *   lap_dist_m  distance along the current lap, m; spline 0..1; track_len_m m
 *   sector      0-based sector the car is in; position = race position (1..)
 *   per wheel   arrays ordered FL, FR, RL, RR; tyre_temp_c and brake_temp_c
 *               degC, tyre_press_kpa kPa, slip_angle_rad rad, wheel_speed_rads
 *               rad/s, susp_travel_m m, tyre_load_n N, tyre_wear 0..1 (1 = new),
 *               susp_travel_norm 0..1 of the suspension's range (1 = bump stop);
 *               tyre_temp_inner_c, _middle_c, _outer_c: the tread's three zones
 *               across the tyre, whole degC (uint8_t, 0 = the game gave none
 *               for that wheel), inner = the side toward the car's centre line
 *   fuel_l      litres; fuel_frac 0..1; boost_bar bar (gauge)
 *
 * A field the game does not supply is absent: its FRAME_P_* bit is clear and
 * its value is meaningless (left zero). flags carries FRAME_FLAG_* bits and
 * flags_known says which of those bits the game reports at all.
 *
 * Derived channels: where a game lacks a channel the analyses need, pw-capture
 * computes it from the game's own channels (common/derive.h: g from speed and
 * yaw rate, lap distance from speed on the game's clock, ...). Such a channel
 * is present and its bit is also set in `derived`, so nothing derived passes
 * as the game's: JSON lists them in a "derived" array, CSV in a "derived"
 * column, and channels no game sends at all carry FRAME_CF_DERIVED.
 *
 * The lists are written once, below, as X-macro tables that the rest of the
 * tree expands: PW_FEEDS and PW_GAMES (ids, names, titles, which feed a game
 * comes on), FRAME_CHANNELS (every channel: presence bit, member, C type,
 * dimension, unit, guaranteed range, description; the JSON, CSV, merge and
 * frame_channels[] dictionary come from it) and FRAME_FLAGS. Adding a channel
 * is one line in FRAME_CHANNELS plus the struct member it describes.
 *
 * Thread/process use: plain data; copy freely.
 */
#ifndef PW_FRAME_H
#define PW_FRAME_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ids.h"

/*
 * Version 2 added yaw_rate_rads, the derived mask, susp_travel_norm and the
 * tread zone temperatures (in what were reserved bytes of version 1). Readers of rings, frame files and jobs accept every
 * version from FRAME_VERSION_MIN and bring each frame up with frame_upgrade().
 */
#define FRAME_VERSION 2
#define FRAME_VERSION_MIN 1
#define FRAME_SIZE 384

/*
 * The games and feeds, each written once. A feed is one UDP protocol (one
 * decoder, capture/dec_<feed>.c, and one line in capture/decoder.c); a game is
 * what its frames, recordings and track models are labelled with. Ids are part
 * of the frame layout (pw_frame.game, .feed): append, never renumber.
 *   PW_FEEDS: X(ID, name)                 PW_FEED_<ID>, canonical name
 *   PW_GAMES: X(ID, name, title, FEED)    PW_GAME_<ID>, canonical name (the
 *             seed's Game enum serialized), human title, the feed it comes on
 */
#define PW_FEEDS(X)                                            \
	X(NONE, "none")                                        \
	X(KSUDP, "ksudp") /* Assetto Corsa remote telemetry */ \
	X(PCARS, "pcars") /* Project CARS 1/2, AMS2 */         \
	X(ACC, "acc")     /* ACC broadcasting */               \
	X(FORZA, "forza") /* Forza Data Out */                 \
	X(F1, "f1")       /* F1 23/24/25 */

#define PW_GAMES(X)                                                                            \
	X(UNKNOWN, "unknown", "Unknown", NONE)                                                 \
	X(AC, "assetto_corsa", "Assetto Corsa", KSUDP)                                         \
	X(ACC, "assetto_corsa_competizione", "Assetto Corsa Competizione", ACC)                \
	/* PC1, and PC2/AMS2 in v1 mode */                                                     \
	X(PCARS1, "project_cars_1", "Project CARS 1", PCARS)                                   \
	/* PC2 and AMS2 in the v2 ("patch 5") format */                                        \
	X(PCARS2, "project_cars_2", "Project CARS 2 / Automobilista 2", PCARS)                 \
	/* the Sled datagram (232 B) of FM7 or FM2023 */                                       \
	X(FORZA_SLED, "forza_motorsport", "Forza Motorsport (Sled)", FORZA)                    \
	X(FM7, "forza_motorsport_7", "Forza Motorsport 7", FORZA)            /* Dash, 311 B */ \
	X(FH, "forza_horizon", "Forza Horizon 4/5", FORZA)                   /* 324 B */       \
	X(FM2023, "forza_motorsport_2023", "Forza Motorsport (2023)", FORZA) /* 331 B */       \
	X(F1_23, "f1_23", "F1 23", F1)                                                         \
	X(F1_24, "f1_24", "F1 24", F1)                                                         \
	X(F1_25, "f1_25", "F1 25", F1)

#define PW_X_FEED_ID(id, name) PW_FEED_##id,
enum pw_feed { PW_FEEDS(PW_X_FEED_ID) PW_FEED_COUNT };
#undef PW_X_FEED_ID

#define PW_X_GAME_ID(id, name, title, feed) PW_GAME_##id,
enum pw_game { PW_GAMES(PW_X_GAME_ID) PW_GAME_COUNT };
#undef PW_X_GAME_ID

/*
 * The channel table: every channel of the frame, once. The frame's JSON and
 * CSV (frame_to_json, frame_csv_header, frame_to_csv), the channel names, the
 * feed merge (store/merge.c), the decoder fuzz checks and the frame_channels[]
 * dictionary are generated from it. One line per channel, in presence-bit
 * order (bit numbers are part of the frame layout: append, never reorder):
 *
 *   X(ID, field, type, dim, unit, lo, hi, flags, description)
 *
 *   ID      presence bit FRAME_P_<ID> = 1 << FRAME_CH_<ID>
 *   field   the pw_frame member; its name is also the JSON key and the CSV
 *           column (docs/architecture.md §2: one word for all three)
 *   type    C type of each value: F32 float, F64 double, I8 int8_t, U8 uint8_t,
 *           U16 uint16_t, I32 int32_t (FRAME_T_<type>)
 *   dim     FRAME_DIM_<dim>: SCALAR, XYZ [x,y,z], WHEELS [FL,FR,RL,RR],
 *           SECTORS [s1,s2,s3]; a CSV row spreads an array over columns
 *           name_x.., name_fl.., name_1..
 *   unit    SI or display unit of each value, "" for a plain number
 *   lo, hi  the range every decoder keeps a present value in (the decoder
 *           fuzz targets check it); -INFINITY, INFINITY where none is promised
 *   flags   FRAME_CF_*: NEG_NULL = a negative value means "not known yet"
 *           (JSON null, empty CSV cell); ZERO_NULL = 0 means "none" (the same;
 *           for an unsigned value whose 0 is no reading); DERIVED = no game sends it: always
 *           computed (common/derive.h), never the game's own
 *   description  one line for the channel dictionary
 *
 * frame.c asserts at compile time that type and dim match the struct member.
 */
#define FRAME_CHANNELS(X)                                                                          \
	X(GAME_TIME, game_time_s, F64, SCALAR, "s", -INFINITY, INFINITY, 0,                        \
	  "the game's own clock")                                                                  \
	X(THROTTLE, throttle, F32, SCALAR, "", 0, 1, 0, "throttle pedal, 1 = fully pressed")       \
	X(BRAKE, brake, F32, SCALAR, "", 0, 1, 0, "brake pedal, 1 = fully pressed")                \
	X(CLUTCH, clutch, F32, SCALAR, "", 0, 1, 0,                                                \
	  "clutch pedal, 1 = fully pressed (disengaged)")                                          \
	X(HANDBRAKE, handbrake, F32, SCALAR, "", 0, 1, 0, "handbrake lever, 1 = fully pulled")     \
	X(STEER, steer, F32, SCALAR, "", -1, 1, 0,                                                 \
	  "steering input, -1 full left .. +1 full right")                                         \
	X(STEER_DEG, steer_deg, F32, SCALAR, "deg", -INFINITY, INFINITY, 0,                        \
	  "steering-wheel angle, + right")                                                         \
	X(GEAR, gear, I8, SCALAR, "", -INFINITY, INFINITY, 0,                                      \
	  "gear: -1 reverse, 0 neutral, 1..n forward")                                             \
	X(NUM_GEARS, num_gears, U8, SCALAR, "", -INFINITY, INFINITY, 0, "number of forward gears") \
	X(SPEED, speed_kmh, F32, SCALAR, "km/h", -INFINITY, INFINITY, 0, "road speed")             \
	X(RPM, rpm, F32, SCALAR, "1/min", -INFINITY, INFINITY, 0, "engine speed")                  \
	X(MAX_RPM, max_rpm, F32, SCALAR, "1/min", -INFINITY, INFINITY, 0,                          \
	  "highest engine speed (rev limit)")                                                      \
	X(POWER, power_w, F32, SCALAR, "W", -INFINITY, INFINITY, 0, "engine power")                \
	X(TORQUE, torque_nm, F32, SCALAR, "N*m", -INFINITY, INFINITY, 0, "engine torque")          \
	X(VEL, vel_ms, F32, XYZ, "m/s", -INFINITY, INFINITY, 0,                                    \
	  "velocity in the car frame: x to the right, y up, z forward")                            \
	X(ACCEL_LAT, accel_lat_g, F32, SCALAR, "g", -INFINITY, INFINITY, 0,                        \
	  "lateral acceleration, + toward the car's right (a right-hand turn)")                    \
	X(ACCEL_LON, accel_lon_g, F32, SCALAR, "g", -INFINITY, INFINITY, 0,                        \
	  "longitudinal acceleration, + forward (accelerating)")                                   \
	X(ACCEL_VERT, accel_vert_g, F32, SCALAR, "g", -INFINITY, INFINITY, 0,                      \
	  "vertical acceleration, + up")                                                           \
	X(POS, pos_m, F32, XYZ, "m", -INFINITY, INFINITY, 0,                                       \
	  "world position, y up (games with a 2-D map: x, z; y = 0)")                              \
	X(YAW, yaw_rad, F32, SCALAR, "rad", -INFINITY, INFINITY, 0,                                \
	  "heading, as the game reports it")                                                       \
	X(PITCH, pitch_rad, F32, SCALAR, "rad", -INFINITY, INFINITY, 0,                            \
	  "pitch, as the game reports it")                                                         \
	X(ROLL, roll_rad, F32, SCALAR, "rad", -INFINITY, INFINITY, 0,                              \
	  "roll, as the game reports it")                                                          \
	X(LAP, lap, U16, SCALAR, "", -INFINITY, INFINITY, 0, "laps completed")                     \
	X(LAP_TIME, lap_time_ms, I32, SCALAR, "ms", -INFINITY, INFINITY, 0,                        \
	  "time of the current lap so far")                                                        \
	X(LAST_LAP, last_lap_ms, I32, SCALAR, "ms", -INFINITY, INFINITY, 0,                        \
	  "time of the last completed lap")                                                        \
	X(BEST_LAP, best_lap_ms, I32, SCALAR, "ms", -INFINITY, INFINITY, 0,                        \
	  "best lap time of the session")                                                          \
	X(SECTOR_TIMES, sector_ms, I32, SECTORS, "ms", -INFINITY, INFINITY, FRAME_CF_NEG_NULL,     \
	  "split times of the current lap, null until reached")                                    \
	X(LAP_DIST, lap_dist_m, F32, SCALAR, "m", -INFINITY, INFINITY, 0,                          \
	  "distance along the current lap")                                                        \
	X(SPLINE, spline, F32, SCALAR, "", -INFINITY, INFINITY, 0,                                 \
	  "fraction of the lap done, 0..1")                                                        \
	X(TRACK_LEN, track_len_m, F32, SCALAR, "m", -INFINITY, INFINITY, 0, "length of the track") \
	X(SECTOR, sector, U8, SCALAR, "", -INFINITY, INFINITY, 0, "sector the car is in, 0-based") \
	X(POSITION, position, U8, SCALAR, "", -INFINITY, INFINITY, 0,                              \
	  "race position, 1 = leading")                                                            \
	X(TYRE_TEMP, tyre_temp_c, F32, WHEELS, "degC", -INFINITY, INFINITY, 0, "tyre temperature") \
	X(TYRE_PRESS, tyre_press_kpa, F32, WHEELS, "kPa", -INFINITY, INFINITY, 0, "tyre pressure") \
	X(BRAKE_TEMP, brake_temp_c, F32, WHEELS, "degC", -INFINITY, INFINITY, 0,                   \
	  "brake disc temperature")                                                                \
	X(SLIP_RATIO, slip_ratio, F32, WHEELS, "", -INFINITY, INFINITY, 0,                         \
	  "longitudinal tyre slip ratio")                                                          \
	X(SLIP_ANGLE, slip_angle_rad, F32, WHEELS, "rad", -INFINITY, INFINITY, 0,                  \
	  "tyre slip angle")                                                                       \
	X(WHEEL_SPEED, wheel_speed_rads, F32, WHEELS, "rad/s", -INFINITY, INFINITY, 0,             \
	  "wheel rotation speed")                                                                  \
	X(SUSP_TRAVEL, susp_travel_m, F32, WHEELS, "m", -INFINITY, INFINITY, 0,                    \
	  "suspension travel")                                                                     \
	X(TYRE_LOAD, tyre_load_n, F32, WHEELS, "N", -INFINITY, INFINITY, 0,                        \
	  "vertical load on the tyre")                                                             \
	X(TYRE_WEAR, tyre_wear, F32, WHEELS, "", 0, 1, 0, "tyre condition, 1 = new")               \
	X(FUEL_L, fuel_l, F32, SCALAR, "l", -INFINITY, INFINITY, 0, "fuel in the tank")            \
	X(FUEL_FRAC, fuel_frac, F32, SCALAR, "", 0, 1, 0,                                          \
	  "fuel in the tank as a fraction of its capacity")                                        \
	X(BOOST, boost_bar, F32, SCALAR, "bar", -INFINITY, INFINITY, 0,                            \
	  "turbo boost pressure (gauge)")                                                          \
	X(YAW_RATE, yaw_rate_rads, F32, SCALAR, "rad/s", -INFINITY, INFINITY, FRAME_CF_DERIVED,    \
	  "yaw rate, + turning right (clockwise seen from above), from the heading")               \
	X(SUSP_NORM, susp_travel_norm, F32, WHEELS, "", 0, 1, 0,                                   \
	  "suspension travel as a fraction of its range, 1 = on the bump stop")                    \
	X(TYRE_TEMP_INNER, tyre_temp_inner_c, U8, WHEELS, "degC", 0, 255, FRAME_CF_ZERO_NULL,      \
	  "tread temperature at the inner edge (toward the car's centre line)")                    \
	X(TYRE_TEMP_MIDDLE, tyre_temp_middle_c, U8, WHEELS, "degC", 0, 255, FRAME_CF_ZERO_NULL,    \
	  "tread temperature in the middle of the tyre")                                           \
	X(TYRE_TEMP_OUTER, tyre_temp_outer_c, U8, WHEELS, "degC", 0, 255, FRAME_CF_ZERO_NULL,      \
	  "tread temperature at the outer edge (away from the car)")

/* Channel numbers (= presence bit numbers) and FRAME_P_COUNT, the number of channels. */
#define FRAME_X_CH(id, ...) FRAME_CH_##id,
enum frame_channel_id { FRAME_CHANNELS(FRAME_X_CH) FRAME_P_COUNT };
#undef FRAME_X_CH

/* Presence bits: one per channel (arrays count as one channel). */
#define FRAME_X_P(id, ...) FRAME_P_##id = 1ull << FRAME_CH_##id,
enum frame_presence { FRAME_CHANNELS(FRAME_X_P) };
#undef FRAME_X_P
#define FRAME_P_ALL ((1ull << FRAME_P_COUNT) - 1)
#define FRAME_P_V1 (FRAME_P_YAW_RATE - 1) /* the channels of frame version 1 */

enum frame_type { FRAME_T_F32, FRAME_T_F64, FRAME_T_I8, FRAME_T_U8, FRAME_T_U16, FRAME_T_I32 };
enum frame_dim { FRAME_DIM_SCALAR, FRAME_DIM_XYZ, FRAME_DIM_WHEELS, FRAME_DIM_SECTORS };
enum frame_channel_flag {
	FRAME_CF_NEG_NULL = 1u << 0,  /* a negative value means "not known yet" */
	FRAME_CF_DERIVED = 1u << 1,   /* always derived (common/derive.h), never a game's */
	FRAME_CF_ZERO_NULL = 1u << 2, /* 0 means "none" (an unsigned reading's no value) */
};

/* One entry of frame_channels[], generated from FRAME_CHANNELS. */
struct frame_channel {
	const char *name; /* JSON key, CSV column and struct member */
	const char *unit; /* "km/h"; "" for a plain number */
	const char *description;
	double lo, hi;    /* guaranteed range of a present value (see above) */
	uint64_t bit;     /* FRAME_P_* */
	uint16_t off;     /* offsetof(struct pw_frame, member) */
	uint8_t size;     /* sizeof the member: n values */
	uint8_t n;        /* values: 1, 3 or 4 */
	uint8_t name_len; /* strlen(name) */
	uint8_t type;     /* enum frame_type */
	uint8_t dim;      /* enum frame_dim */
	uint8_t flags;    /* FRAME_CF_* */
};

/*
 * Frame flags, once: X(ID, name, description). FRAME_FLAG_<ID> is a bit of
 * pw_frame.flags and .flags_known; name is its JSON key and CSV column.
 */
#define FRAME_FLAGS(X)                                                  \
	X(IN_PIT, "in_pit", "in the pit lane or the garage")            \
	X(LAP_INVALID, "lap_invalid", "the current lap will not count") \
	X(ABS, "abs", "ABS acting now")                                 \
	X(TC, "tc", "traction control acting now")                      \
	X(LIMITER, "limiter", "rev or pit limiter on")                  \
	X(PAUSED, "paused", "game paused, in menus or in a replay")

#define FRAME_X_FLAG_NO(id, ...) FRAME_FLAG_NO_##id,
enum frame_flag_no { FRAME_FLAGS(FRAME_X_FLAG_NO) FRAME_FLAG_COUNT };
#undef FRAME_X_FLAG_NO
#define FRAME_X_FLAG(id, ...) FRAME_FLAG_##id = 1u << FRAME_FLAG_NO_##id,
enum frame_flag { FRAME_FLAGS(FRAME_X_FLAG) };
#undef FRAME_X_FLAG

struct pw_frame {
	/* identity */
	uint64_t seq;          /* ring sequence; set by the ring, not the decoder */
	int64_t t_ns;          /* receive time, ns since the epoch (realtime) */
	uint64_t present;      /* FRAME_P_* */
	uint64_t game_session; /* changes when the game's session changes; < 2^53 */
	double game_time_s;    /* the game's own clock, s */
	uint16_t version;      /* FRAME_VERSION */
	uint8_t game;          /* enum pw_game */
	uint8_t feed;          /* enum pw_feed */
	uint16_t flags;        /* FRAME_FLAG_* */
	uint16_t flags_known;  /* FRAME_FLAG_* bits the game reports */

	/* driver inputs */
	float throttle, brake, clutch, handbrake;
	float steer;
	float steer_deg;

	/* engine and motion */
	float speed_kmh;
	float rpm, max_rpm;
	float power_w, torque_nm;
	float vel_ms[3];
	float accel_lat_g, accel_lon_g, accel_vert_g;
	float pos_m[3];
	float yaw_rad, pitch_rad, roll_rad;
	int8_t gear;
	uint8_t num_gears;
	uint8_t sector;
	uint8_t position;

	/* lap */
	uint16_t lap;
	uint16_t reserved0;
	int32_t lap_time_ms, last_lap_ms, best_lap_ms;
	int32_t sector_ms[3];
	float lap_dist_m, spline, track_len_m;

	/* fuel */
	float fuel_l, fuel_frac, boost_bar;

	/* per wheel, FL FR RL RR */
	float tyre_temp_c[4];
	float tyre_press_kpa[4];
	float brake_temp_c[4];
	float slip_ratio[4];
	float slip_angle_rad[4];
	float wheel_speed_rads[4];
	float susp_travel_m[4];
	float tyre_load_n[4];
	float tyre_wear[4];

	/* version 2 */
	float yaw_rate_rads;       /* derived by construction, see FRAME_CF_DERIVED */
	uint64_t derived;          /* FRAME_P_* of the present channels that were derived
				    * (common/derive.h) rather than sent by the game */
	float susp_travel_norm[4]; /* FL FR RL RR, 0..1 of the travel, 1 = bump stop */
	/* the tread's zones, FL FR RL RR, whole degC, 0 = none: the games that send them
	 * (Project CARS 2 / AMS2) send whole degrees, and three float[4] would not fit */
	uint8_t tyre_temp_inner_c[4];
	uint8_t tyre_temp_middle_c[4];
	uint8_t tyre_temp_outer_c[4];
	uint8_t reserved[4];
};

_Static_assert(sizeof(struct pw_frame) == FRAME_SIZE, "frame size is part of the layout");
_Static_assert(offsetof(struct pw_frame, seq) == 0, "seq first");
_Static_assert(offsetof(struct pw_frame, t_ns) == 8, "t_ns");
_Static_assert(offsetof(struct pw_frame, present) == 16, "present");
_Static_assert(offsetof(struct pw_frame, throttle) == 48, "inputs");
_Static_assert(offsetof(struct pw_frame, speed_kmh) == 72, "speed");
_Static_assert(offsetof(struct pw_frame, gear) == 140, "gear");
_Static_assert(offsetof(struct pw_frame, lap) == 144, "lap");
_Static_assert(offsetof(struct pw_frame, tyre_temp_c) == 196, "wheels");
_Static_assert(offsetof(struct pw_frame, yaw_rate_rads) == 340, "version 2 tail");
_Static_assert(offsetof(struct pw_frame, derived) == 344, "derived mask");
_Static_assert(offsetof(struct pw_frame, susp_travel_norm) == 352, "appended wheel channel");
_Static_assert(offsetof(struct pw_frame, tyre_temp_inner_c) == 368, "tread zones");
_Static_assert(offsetof(struct pw_frame, reserved) == 380, "tail");

/* Slow-changing feed metadata (segment metadata block, decoder output). */
#define META_STR 64
struct pw_meta {
	char game[IDS_GAME_MAX + 1]; /* game name, e.g. "assetto_corsa" */
	char car[META_STR];
	char car_class[META_STR];
	char track[META_STR];
	char layout[META_STR];
	char driver[META_STR];
	char session_type[32]; /* "practice", "qualifying", "race", ... */
	char source[48];       /* sender "ip:port" */
	uint64_t game_session;
	float track_len_m;
	uint32_t format; /* protocol variant: F1 2024, Forza 331, PCARS 1/2 */
	/* the game's numbers behind the names above, where it has them (Forza):
	 * META_N_* bits in numbers say which are set (0 in older segments) */
	uint32_t numbers;
	int32_t car_ordinal;   /* Forza CarOrdinal */
	int32_t track_ordinal; /* Forza FM2023 TrackOrdinal */
	int32_t car_class_num; /* Forza CarClass (its letters differ per game) */
	int32_t car_pi;        /* Forza CarPerformanceIndex */
	int32_t drivetrain;    /* META_DRIVETRAIN_* */
	uint8_t reserved[168];
};
enum meta_number {
	META_N_CAR_ORDINAL = 1u << 0,
	META_N_TRACK_ORDINAL = 1u << 1,
	META_N_CAR_CLASS = 1u << 2,
	META_N_CAR_PI = 1u << 3,
	META_N_DRIVETRAIN = 1u << 4,
};
enum meta_drivetrain { META_DRIVETRAIN_FWD = 0, META_DRIVETRAIN_RWD, META_DRIVETRAIN_AWD };
_Static_assert(sizeof(struct pw_meta) == 640, "meta size is part of the layout");

/* Lifecycle */
/* Zero *f and set version, game and feed. */
void frame_init(struct pw_frame *f, enum pw_game game, enum pw_feed feed);
/* A game's own session identifier as a frame's game_session: values below
 * 2^53 are kept, larger ones (F1's random 64-bit m_sessionUID) are folded
 * into 53 bits, so every JSON reader (JavaScript's numbers, jansson's signed
 * integers) carries the id exactly wherever it is printed. */
static inline uint64_t frame_session_id(uint64_t id)
{
	const uint64_t mask = (1ull << 53) - 1;

	return id <= mask ? id : ((id & mask) ^ (id >> 53)) | 1ull << 52;
}
/*
 * Bring a frame read from a ring, a frame file or a job (bytes from outside)
 * to FRAME_VERSION in place. A version 1 frame gets the fields version 2 added
 * zeroed (its reserved bytes are not trusted), no derived channel and no
 * presence bit beyond its own channels. Returns 0, or -EPROTO for a version
 * outside FRAME_VERSION_MIN..FRAME_VERSION (f is then left as it is).
 */
int frame_upgrade(struct pw_frame *f);

/* Accessors */
/* Canonical names ("assetto_corsa", "ksudp"); "unknown" for out-of-range ids. */
const char *frame_game_name(unsigned game);
const char *frame_feed_name(unsigned feed);
/* Id for a name, or 0 (PW_*_UNKNOWN / NONE) when unknown. */
unsigned frame_game_id(const char *name);
unsigned frame_feed_id(const char *name);
/* Human game title ("Assetto Corsa"). */
const char *frame_game_title(unsigned game);
/* The feed a game comes on (PW_FEED_NONE for unknown or out-of-range ids). */
unsigned frame_game_feed(unsigned game);
/* Canonical channel name of presence bit i (0..FRAME_P_COUNT-1); NULL out of range. */
const char *frame_channel_name(unsigned bit);
const char *frame_flag_name(unsigned bit);
/* The CSV column suffix of value i of an array dimension ("x", "fl", "1");
 * NULL for a scalar or out of range. */
const char *frame_dim_suffix(unsigned dim, unsigned i);
/* One line saying what flag bit i means; NULL out of range. */
const char *frame_flag_description(unsigned bit);

/* The channel dictionary, indexed by presence bit number (static, read-only). */
extern const struct frame_channel frame_channels[FRAME_P_COUNT];
/* Value i (0..n-1) of channel bit in f, whatever its C type; NAN out of range.
 * Does not look at the presence bit. */
double frame_channel_value(const struct pw_frame *f, unsigned bit, unsigned i);
/* Whether v, a value of channel c, is a value to show: finite, and not the
 * channel's "none" (FRAME_CF_NEG_NULL: negative, FRAME_CF_ZERO_NULL: 0). */
static inline int frame_value_known(const struct frame_channel *c, double v)
{
	return isfinite(v) && !((c->flags & FRAME_CF_NEG_NULL) && v < 0) &&
	       !((c->flags & FRAME_CF_ZERO_NULL) && v == 0);
}

/* Operations */
/*
 * Write f as one compact JSON object (no newline) into buf. Only present
 * channels appear; feed and game appear as names; "derived" (only when there
 * are any) lists the derived ones among them in channel order. Returns the length written
 * (excluding the NUL), or the length that would have been needed when it is
 * >= cap (snprintf semantics). Never allocates.
 */
size_t frame_to_json(const struct pw_frame *f, char *buf, size_t cap);

/* CSV header line and one row (same column names as JSON; arrays expand to
 * name_fl, name_fr, ...; absent channels are empty cells; then one column
 * per flag and a last column "derived": the names of the row's derived
 * channels, separated by spaces, empty when none). snprintf semantics. */
size_t frame_csv_header(char *buf, size_t cap);
size_t frame_to_csv(const struct pw_frame *f, char *buf, size_t cap);

/* Copy a possibly non-terminated string of at most n bytes into dst[cap],
 * stopping at NUL, replacing control bytes and trimming trailing blanks. */
void meta_strcpy(char *dst, size_t cap, const char *src, size_t n);

#endif
