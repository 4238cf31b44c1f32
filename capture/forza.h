/*
 * forza.h - Forza "Data Out" UDP (protocols.md section 7): what the decoder
 * (dec_forza.c), the emulator's encoder (sim/enc_forza.c) and the raw splitter
 * (rawsplit.c) share.
 *
 * One datagram per game frame, no header and no version: the format is the
 * datagram's length. Every format starts with the 232-byte Sled block; FM7
 * and FM2023 append the 79-byte Dash block at 232, FH4/FH5 at 244 (12
 * undocumented bytes come first); FM2023 appends tyre wear and the track
 * ordinal after the Dash block. Offsets below are bytes from the start of
 * their block, little-endian.
 */
#ifndef PW_FORZA_H
#define PW_FORZA_H

#include <stddef.h>

#include "common/frame.h"

enum forza_size {
	FZ_SLED_LEN = 232,
	FZ_FM7_LEN = 311,
	FZ_FH_LEN = 324,
	FZ_FM2023_LEN = 331,
};

#define FZ_DASH_OFF 232    /* dash block in FM7 and FM2023 */
#define FZ_FH_DASH_OFF 244 /* FH4/FH5: 12 undocumented bytes come first */
#define FZ_DASH_LEN 79     /* dash block bytes every Dash format carries (FM7: 311 - 232) */
#define FZ_WEAR_OFF 311    /* FM2023: f32 TireWear FL FR RL RR, 0..1 */
#define FZ_TRACK_OFF 327   /* FM2023: s32 TrackOrdinal */

/* Sled block (every format). */
enum forza_sled_off {
	FZ_IS_RACE_ON = 0,   /* s32: 1 while racing, 0 in menus and paused */
	FZ_TIMESTAMP_MS = 4, /* u32, wraps after 49.7 days */
	FZ_MAX_RPM = 8,      /* f32 EngineMaxRpm */
	FZ_RPM = 16,         /* f32 CurrentEngineRpm */
	FZ_ACCEL_X = 20,     /* f32 m/s^2, car frame: x right, y up, z forward */
	FZ_ACCEL_Y = 24,
	FZ_ACCEL_Z = 28,
	FZ_VEL = 32, /* f32 x3, m/s, car frame */
	FZ_YAW = 56, /* f32 rad */
	FZ_PITCH = 60,
	FZ_ROLL = 64,
	FZ_SUSP_NORM = 68,      /* f32 x4 NormalizedSuspensionTravel, 0 stretched .. 1 compressed */
	FZ_SLIP_RATIO = 84,     /* f32 x4 TireSlipRatio, normalised: |x| > 1 = past the grip peak */
	FZ_WHEEL_SPEED = 100,   /* f32 x4 WheelRotationSpeed FL FR RL RR, rad/s */
	FZ_SLIP_ANGLE = 164,    /* f32 x4 TireSlipAngle, normalised like the slip ratio */
	FZ_COMBINED_SLIP = 180, /* f32 x4 TireCombinedSlip, normalised */
	FZ_SUSP_TRAVEL = 196,   /* f32 x4 SuspensionTravelMeters */
	FZ_CAR_ORDINAL = 212,   /* s32 */
	FZ_CAR_CLASS = 216,     /* s32 */
	FZ_CAR_PI = 220,        /* s32 CarPerformanceIndex */
	FZ_DRIVETRAIN = 224,    /* s32 DrivetrainType: 0 FWD, 1 RWD, 2 AWD */
};

/* Dash block, from its start (FZ_DASH_OFF or FZ_FH_DASH_OFF). */
enum forza_dash_off {
	FZ_D_POS = 0,        /* f32 x3 world position, m */
	FZ_D_SPEED = 12,     /* f32 m/s */
	FZ_D_POWER = 16,     /* f32 W */
	FZ_D_TORQUE = 20,    /* f32 N*m */
	FZ_D_TYRE_TEMP = 24, /* f32 x4, degF */
	FZ_D_BOOST = 40,     /* f32 psi */
	FZ_D_FUEL = 44,      /* f32 0..1 */
	FZ_D_DISTANCE = 48,  /* f32 DistanceTraveled, m */
	FZ_D_BEST_LAP = 52,  /* f32 s */
	FZ_D_LAST_LAP = 56,  /* f32 s */
	FZ_D_CUR_LAP = 60,   /* f32 s */
	FZ_D_RACE_TIME = 64, /* f32 s */
	FZ_D_LAP = 68,       /* u16 laps completed */
	FZ_D_RACE_POS = 70,  /* u8, 0 = not racing */
	FZ_D_THROTTLE = 71,  /* u8 0..255 */
	FZ_D_BRAKE = 72,
	FZ_D_CLUTCH = 73,
	FZ_D_HANDBRAKE = 74,
	FZ_D_GEAR = 75,  /* u8: 0 reverse, 1..10 forward, FZ_GEAR_NEUTRAL */
	FZ_D_STEER = 76, /* s8 -127..127 */
};

#define FZ_G 9.80665f
#define FZ_BAR_PER_PSI 0.0689475729f
#define FZ_GEAR_NEUTRAL 11
#define FZ_MAX_FWD_GEAR 10

/* What a datagram length means. */
struct forza_format {
	size_t len;
	enum pw_game game;
	size_t dash; /* offset of the dash block; 0 = Sled only */
	int fm2023;  /* tyre wear and track ordinal follow the dash block */
};

#define FZ_FORMATS 4
/* By length, shortest first (dec_forza.c). */
extern const struct forza_format forza_formats[FZ_FORMATS];

/* Forza Motorsport (2023) names by ordinal, from a public community list
 * (dec_forza_names.c says which); both tables sorted by ordinal. */
struct forza_name {
	int32_t ordinal;
	const char *name; /* "2014 Porsche 918 Spyder" */
};
struct forza_track {
	int32_t ordinal;
	const char *name;   /* "Brands Hatch (Grand Prix)": the layout is part of the name */
	const char *layout; /* "Grand Prix" */
};
#define FZ_FM2023_CARS 690
#define FZ_FM2023_TRACKS 63
extern const struct forza_name forza_fm2023_cars[FZ_FM2023_CARS];
extern const struct forza_track forza_fm2023_tracks[FZ_FM2023_TRACKS];

#endif
