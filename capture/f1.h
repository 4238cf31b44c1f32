/*
 * f1.h - F1 23/24/25 id tables shared by the decoder (ids -> names in the
 * metadata) and the emulator's encoder (names -> ids), so the two cannot
 * drift apart. Entries are NULL for ids the EA appendix does not name.
 */
#ifndef PW_F1_H
#define PW_F1_H

#define F1_TRACK_IDS 42
#define F1_TEAM_IDS 256

extern const char *const f1_tracks[F1_TRACK_IDS];
extern const char *const f1_teams_2023[F1_TEAM_IDS];
extern const char *const f1_teams_2024[F1_TEAM_IDS];
extern const char *const f1_teams_2025[F1_TEAM_IDS];

#endif
