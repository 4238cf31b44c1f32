/*
 * frame.h - the normalized telemetry frame and the feed metadata block.
 *
 * One fixed-size, versioned struct for every game. Decoders convert the game's
 * units into the ones below; nothing downstream converts again. The struct is a
 * wire and shared-memory layout (rings, frame files, analysis jobs): plain,
 * little-endian, no pointers, size and offsets asserted at compile time. Any
 * change to it bumps FRAME_VERSION.
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
 *   lap         laps completed; lap_time_ms current lap; last/best lap ms
 *   sector_ms   split times of the current lap, ms, -1 = not reached yet
 *   lap_dist_m  distance along the current lap, m; spline 0..1; track_len_m m
 *   sector      0-based sector the car is in; position = race position (1..)
 *   per wheel   arrays ordered FL, FR, RL, RR; tyre_temp_c and brake_temp_c
 *               degC, tyre_press_kpa kPa, slip_angle_rad rad, wheel_speed_rads
 *               rad/s, susp_travel_m m, tyre_load_n N, tyre_wear 0..1 (1 = new)
 *   fuel_l      litres; fuel_frac 0..1; boost_bar bar (gauge)
 *
 * A field the game does not supply is absent: its FRAME_P_* bit is clear and
 * its value is meaningless (left zero). flags carries FRAME_FLAG_* bits and
 * flags_known says which of those bits the game reports at all.
 *
 * Thread/process use: plain data; copy freely.
 */
#ifndef PW_FRAME_H
#define PW_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_VERSION 1
#define FRAME_SIZE 384

enum pw_game {
	PW_GAME_UNKNOWN = 0,
	PW_GAME_AC,            /* assetto_corsa */
	PW_GAME_ACC,           /* assetto_corsa_competizione */
	PW_GAME_PCARS1,        /* project_cars_1 (also PC2/AMS2 in v1 mode) */
	PW_GAME_PCARS2,        /* project_cars_2 (PC2, AMS2 "patch 5" v2 format) */
	PW_GAME_FORZA_SLED,    /* forza_motorsport (Sled, FM7 or FM2023) */
	PW_GAME_FM7,           /* forza_motorsport_7 (Dash 311 B) */
	PW_GAME_FH,            /* forza_horizon (FH4/FH5, 324 B) */
	PW_GAME_FM2023,        /* forza_motorsport_2023 (331 B) */
	PW_GAME_F1_23,         /* f1_23 */
	PW_GAME_F1_24,         /* f1_24 */
	PW_GAME_F1_25,         /* f1_25 */
	PW_GAME_COUNT
};

enum pw_feed {
	PW_FEED_NONE = 0,
	PW_FEED_KSUDP,         /* Assetto Corsa remote telemetry */
	PW_FEED_PCARS,         /* Project CARS 1/2, AMS2 */
	PW_FEED_ACC,           /* ACC broadcasting */
	PW_FEED_FORZA,         /* Forza Data Out */
	PW_FEED_F1,            /* F1 23/24/25 */
	PW_FEED_COUNT
};

/* Presence bits: one per channel (arrays count as one channel). */
enum frame_presence {
	FRAME_P_GAME_TIME     = 1ull << 0,
	FRAME_P_THROTTLE      = 1ull << 1,
	FRAME_P_BRAKE         = 1ull << 2,
	FRAME_P_CLUTCH        = 1ull << 3,
	FRAME_P_HANDBRAKE     = 1ull << 4,
	FRAME_P_STEER         = 1ull << 5,
	FRAME_P_STEER_DEG     = 1ull << 6,
	FRAME_P_GEAR          = 1ull << 7,
	FRAME_P_NUM_GEARS     = 1ull << 8,
	FRAME_P_SPEED         = 1ull << 9,
	FRAME_P_RPM           = 1ull << 10,
	FRAME_P_MAX_RPM       = 1ull << 11,
	FRAME_P_POWER         = 1ull << 12,
	FRAME_P_TORQUE        = 1ull << 13,
	FRAME_P_VEL           = 1ull << 14,
	FRAME_P_ACCEL_LAT     = 1ull << 15,
	FRAME_P_ACCEL_LON     = 1ull << 16,
	FRAME_P_ACCEL_VERT    = 1ull << 17,
	FRAME_P_POS           = 1ull << 18,
	FRAME_P_YAW           = 1ull << 19,
	FRAME_P_PITCH         = 1ull << 20,
	FRAME_P_ROLL          = 1ull << 21,
	FRAME_P_LAP           = 1ull << 22,
	FRAME_P_LAP_TIME      = 1ull << 23,
	FRAME_P_LAST_LAP      = 1ull << 24,
	FRAME_P_BEST_LAP      = 1ull << 25,
	FRAME_P_SECTOR_TIMES  = 1ull << 26,
	FRAME_P_LAP_DIST      = 1ull << 27,
	FRAME_P_SPLINE        = 1ull << 28,
	FRAME_P_TRACK_LEN     = 1ull << 29,
	FRAME_P_SECTOR        = 1ull << 30,
	FRAME_P_POSITION      = 1ull << 31,
	FRAME_P_TYRE_TEMP     = 1ull << 32,
	FRAME_P_TYRE_PRESS    = 1ull << 33,
	FRAME_P_BRAKE_TEMP    = 1ull << 34,
	FRAME_P_SLIP_RATIO    = 1ull << 35,
	FRAME_P_SLIP_ANGLE    = 1ull << 36,
	FRAME_P_WHEEL_SPEED   = 1ull << 37,
	FRAME_P_SUSP_TRAVEL   = 1ull << 38,
	FRAME_P_TYRE_LOAD     = 1ull << 39,
	FRAME_P_TYRE_WEAR     = 1ull << 40,
	FRAME_P_FUEL_L        = 1ull << 41,
	FRAME_P_FUEL_FRAC     = 1ull << 42,
	FRAME_P_BOOST         = 1ull << 43,
};
#define FRAME_P_COUNT 44

enum frame_flag {
	FRAME_FLAG_IN_PIT      = 1u << 0,
	FRAME_FLAG_LAP_INVALID = 1u << 1,
	FRAME_FLAG_ABS         = 1u << 2,   /* ABS acting now */
	FRAME_FLAG_TC          = 1u << 3,   /* traction control acting now */
	FRAME_FLAG_LIMITER     = 1u << 4,   /* rev/pit limiter on */
	FRAME_FLAG_PAUSED      = 1u << 5,   /* game paused, menus or replay */
};
#define FRAME_FLAG_COUNT 6

struct pw_frame {
	/* identity */
	uint64_t seq;              /* ring sequence; set by the ring, not the decoder */
	int64_t t_ns;              /* receive time, ns since the epoch (realtime) */
	uint64_t present;          /* FRAME_P_* */
	uint64_t game_session;     /* changes when the game's session changes */
	double game_time_s;        /* the game's own clock, s */
	uint16_t version;          /* FRAME_VERSION */
	uint8_t game;              /* enum pw_game */
	uint8_t feed;              /* enum pw_feed */
	uint16_t flags;            /* FRAME_FLAG_* */
	uint16_t flags_known;      /* FRAME_FLAG_* bits the game reports */

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

	uint8_t reserved[44];
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
_Static_assert(offsetof(struct pw_frame, reserved) == 340, "tail");

/* Slow-changing feed metadata (segment metadata block, decoder output). */
#define META_STR 64
struct pw_meta {
	char game[32];             /* game id, e.g. "assetto_corsa" */
	char car[META_STR];
	char car_class[META_STR];
	char track[META_STR];
	char layout[META_STR];
	char driver[META_STR];
	char session_type[32];     /* "practice", "qualifying", "race", ... */
	char source[48];           /* sender "ip:port" */
	uint64_t game_session;
	float track_len_m;
	uint32_t format;           /* protocol variant: F1 2024, Forza 331, PCARS 1/2 */
	uint8_t reserved[192];
};
_Static_assert(sizeof(struct pw_meta) == 640, "meta size is part of the layout");

/* Lifecycle */
/* Zero *f and set version, game and feed. */
void frame_init(struct pw_frame *f, enum pw_game game, enum pw_feed feed);

/* Accessors */
/* Canonical names ("assetto_corsa", "ksudp"); "unknown" for out-of-range ids. */
const char *frame_game_name(unsigned game);
const char *frame_feed_name(unsigned feed);
/* Id for a name, or 0 (PW_*_UNKNOWN / NONE) when unknown. */
unsigned frame_game_id(const char *name);
unsigned frame_feed_id(const char *name);
/* Human game title ("Assetto Corsa"). */
const char *frame_game_title(unsigned game);
/* Canonical channel name of presence bit i (0..FRAME_P_COUNT-1). */
const char *frame_channel_name(unsigned bit);
const char *frame_flag_name(unsigned bit);

/* Operations */
/*
 * Write f as one compact JSON object (no newline) into buf. Only present
 * channels appear; feed and game appear as names. Returns the length written
 * (excluding the NUL), or the length that would have been needed when it is
 * >= cap (snprintf semantics). Never allocates.
 */
size_t frame_to_json(const struct pw_frame *f, char *buf, size_t cap);

/* CSV header line and one row (same column names as JSON; arrays expand to
 * name_fl, name_fr, ...; absent channels are empty cells). snprintf semantics. */
size_t frame_csv_header(char *buf, size_t cap);
size_t frame_to_csv(const struct pw_frame *f, char *buf, size_t cap);

/* Copy a possibly non-terminated string of at most n bytes into dst[cap],
 * stopping at NUL, replacing control bytes and trimming trailing blanks. */
void meta_strcpy(char *dst, size_t cap, const char *src, size_t n);

#endif
