/*
 * pcars.h - Project CARS UDP (port 5606): what the decoder (dec_pcars.c), the
 * emulator's encoder (sim/enc_pcars.c) and the raw splitter (rawsplit.c)
 * share. Layouts: protocols.md section 3 (v1, Project CARS 1 and PC2/AMS2 in
 * "Project CARS 1" mode) and section 4 (v2, PC2/AMS2 "patch 5").
 *
 * v1 datagrams are told apart by their length, and their type by the low two
 * bits of byte 2. v2 datagrams start with a 12-byte header whose byte 10 is the
 * packet type; each type has the length of the current protocol and, for some
 * types, the shorter one of the original PC2 release. Vehicle names and class
 * names share type 8 and differ only in length.
 */
#ifndef PW_PCARS_H
#define PW_PCARS_H

#include <stdint.h>

#define PCARS_G_MS2 9.80665f /* accelerations are m/s^2 on the wire */

/* v1 */
enum pcars_v1_size {
	PCARS_V1_TELEMETRY_SIZE = 1367,    /* type 0 */
	PCARS_V1_STRINGS_SIZE = 1347,      /* type 1: car, track, 16 participant names */
	PCARS_V1_STRINGS_MORE_SIZE = 1028, /* type 2: 16 more participant names */
};
#define PCARS_V1_TYPE_OFF 2 /* u8: packet type in bits 0-1 (3 = none) */
#define PCARS_V1_PARTS 56   /* participant records in telemetry */

/* v2 header */
#define PCARS_V2_HDR 12
enum pcars_v2_header_off {
	PCARS_V2_HDR_PACKET = 0,          /* u32 mPacketNumber */
	PCARS_V2_HDR_CATEGORY_PACKET = 4, /* u32 mCategoryPacketNumber */
	PCARS_V2_HDR_PART = 8,            /* u8 mPartialPacketIndex, 1-based */
	PCARS_V2_HDR_PARTS = 9,           /* u8 mPartialPacketNumber */
	PCARS_V2_HDR_TYPE = 10,           /* u8 mPacketType: enum pcars_v2_type */
	PCARS_V2_HDR_VERSION = 11,        /* u8 mPacketVersion */
};

enum pcars_v2_type {
	PCARS_V2_TELEMETRY = 0,
	PCARS_V2_RACE = 1,
	PCARS_V2_PARTICIPANTS = 2,
	PCARS_V2_TIMINGS = 3,
	PCARS_V2_GAME_STATE = 4,
	PCARS_V2_TIME_STATS = 7,
	PCARS_V2_VEHICLE_NAMES = 8, /* vehicle names or class names */
	PCARS_V2_TYPES = 9,
};

enum pcars_v2_size {
	PCARS_V2_TELEMETRY_SIZE = 559,
	PCARS_V2_TELEMETRY_OLD_SIZE = 538, /* holds every car field both layouts share */
	PCARS_V2_RACE_SIZE = 308,
	PCARS_V2_PARTICIPANTS_SIZE = 1136,
	PCARS_V2_PARTICIPANTS_OLD_SIZE = 1040,
	PCARS_V2_TIMINGS_SIZE = 1063,    /* 32 records of 32 bytes */
	PCARS_V2_TIMINGS_OLD_SIZE = 993, /* 32 records of 30 bytes */
	PCARS_V2_GAME_STATE_SIZE = 24,
	PCARS_V2_TIME_STATS_SIZE = 1040,    /* 32 records of 32 bytes */
	PCARS_V2_TIME_STATS_OLD_SIZE = 784, /* 32 records of 24 bytes */
	PCARS_V2_VEHICLE_NAMES_SIZE = 1164,
	PCARS_V2_CLASS_NAMES_SIZE = 1452,
};
/* v2 telemetry: the tread's left, centre and right temperatures, u16[4] each */
#define PCARS_V2_TYRE_TEMP_LEFT 256
#define PCARS_V2_TYRE_TEMP_CENTER 264
#define PCARS_V2_TYRE_TEMP_RIGHT 272
#define PCARS_KELVIN_FROM 233 /* a tread zone value this high is Kelvin, not degC */
#define PCARS_V2_PARTS 32     /* participant records per timings / stats packet */

/* Offsets of the car fields both telemetry layouts carry (0 = not in the layout). */
struct pcars_car_layout {
	uint16_t car_flags, fuel_cap, brake, throttle, clutch, steering, fuel_level, speed;
	uint16_t rpm, max_rpm, gear, orientation, local_vel, local_acc, tyre_rps, tyre_temp;
	uint16_t tyre_wear, brake_temp, susp_travel, air_press, engine_speed, torque, handbrake;
};

/* v1 telemetry and v2 telemetry (dec_pcars.c) */
extern const struct pcars_car_layout pcars_v1_car, pcars_v2_car;

#endif
