/*
 * f1.h - F1 23/24/25 UDP telemetry (protocols.md section 6): what the decoder
 * (dec_f1.c), the emulator's encoder (sim/enc_f1.c) and the raw splitter
 * (rawsplit.c) share, so that no packet size, offset or id table is written
 * twice: the header layout, the packet ids, one layout per format year (every
 * packet's exact size, the record sizes that differ between years) and the
 * track and team names. Name entries are NULL for ids the EA appendix does
 * not name. The tables live in dec_f1_names.c.
 */
#ifndef PW_F1_H
#define PW_F1_H

#include <stdint.h>

#include "common/frame.h"

#define F1_TRACK_IDS 42
#define F1_TEAM_IDS 256
#define F1_CARS 22           /* car records in every per-car packet */
#define F1_PSI_KPA 6.894757f /* tyre pressures are psi on the wire */

/* PacketHeader, 29 bytes, at the start of every packet. */
#define F1_HDR 29
enum f1_header_off {
	F1_HDR_FORMAT = 0,         /* u16 m_packetFormat: the year, 2023.. */
	F1_HDR_GAME_YEAR = 2,      /* u8 m_gameYear: 23.. */
	F1_HDR_MAJOR = 3,          /* u8 m_gameMajorVersion */
	F1_HDR_VERSION = 5,        /* u8 m_packetVersion */
	F1_HDR_PACKET_ID = 6,      /* u8 m_packetId: enum f1_packet_id */
	F1_HDR_SESSION_UID = 7,    /* u64 m_sessionUID */
	F1_HDR_SESSION_TIME = 15,  /* f32 m_sessionTime, s */
	F1_HDR_FRAME = 19,         /* u32 m_frameIdentifier */
	F1_HDR_OVERALL_FRAME = 23, /* u32 m_overallFrameIdentifier */
	F1_HDR_PLAYER = 27,        /* u8 m_playerCarIndex */
	F1_HDR_SECOND_PLAYER = 28, /* u8 m_secondaryPlayerCarIndex, 255 = none */
};

enum f1_packet_id {
	F1_MOTION = 0,
	F1_SESSION = 1,
	F1_LAP = 2,
	F1_EVENT = 3,
	F1_PARTICIPANTS = 4,
	F1_TELEMETRY = 6,
	F1_STATUS = 7,
	F1_DAMAGE = 10,
	F1_HISTORY = 11,
	F1_PACKET_IDS = 16,
};

/* Sizes every year shares. */
#define F1_EVENT_MIN 33       /* Event: header + 4-char event code, then details */
#define F1_MOTION_REC 60      /* CarMotionData bytes per car */
#define F1_TELEMETRY_REC 60   /* CarTelemetryData bytes per car */
#define F1_STATUS_REC 55      /* CarStatusData bytes per car */
#define F1_HISTORY_LAPS 100   /* LapHistoryData records in Session History */
#define F1_HISTORY_LAP_REC 14 /* LapHistoryData bytes */

/* What one format year looks like on the wire. */
struct f1_layout {
	uint16_t format;              /* m_packetFormat */
	uint8_t game_year;            /* m_gameYear */
	uint8_t game;                 /* enum pw_game */
	uint16_t size[F1_PACKET_IDS]; /* exact datagram size; 0 = no such packet */
	uint8_t lap_rec;              /* LapData bytes per car */
	uint8_t lap_dist_off;         /* m_lapDistance; the fields after it: fixed distances */
	uint8_t part_rec;             /* ParticipantData bytes per car */
	uint8_t name_len;             /* m_name bytes */
	uint8_t damage_rec;           /* CarDamageData bytes per car */
	uint8_t race_first;           /* session types: race_first.. are races */
	const char *const *teams;     /* F1_TEAM_IDS entries, NULL = unknown id */
};

#define F1_FORMATS 3
extern const struct f1_layout f1_layouts[F1_FORMATS]; /* 2023, 2024, 2025 */

/* frame wheel (FL FR RL RR) -> index of the game's wheel arrays (RL RR FL FR) */
extern const uint8_t f1_wheel[4];

extern const char *const f1_tracks[F1_TRACK_IDS];
extern const char *const f1_teams_2023[F1_TEAM_IDS];
extern const char *const f1_teams_2024[F1_TEAM_IDS];
extern const char *const f1_teams_2025[F1_TEAM_IDS];

/* The layout of m_packetFormat format, or NULL for a year pitwall does not read. */
const struct f1_layout *f1_layout_of(unsigned format);

#endif
