/*
 * dict.h - the channel dictionary: every key of a frame (its identity, its
 * channels, its flags) with name, unit, type, dimension, range, description,
 * whether it is derived, and which games supply it. GET /api/channels and
 * `pwctl channels` print it; both call dict_json, so they cannot differ.
 *
 * The channels come from the one channel table (common/frame.h,
 * frame_channels[]); nothing here restates a channel. What is written here
 * is which channels and flags each game's frames can carry: the declared set
 * of presence bits (FRAME_P_*) and flag bits (FRAME_FLAG_*) that the game's
 * decoder (capture/dec_<feed>.c) may set. The sets live here rather than in
 * capture/ because pw-api and pwctl, which may not include capture/, print
 * them. They are checked from both sides: every decoder fuzz target aborts
 * on a frame with a bit outside its game's set (tests/fuzz/frame_check.h),
 * and tests/integration/test_channels.sh runs the emulator for every game
 * through pw-capture and requires the frames to carry exactly the declared
 * set.
 *
 * Derived channels (common/derive.h) are computed by pw-capture where a game
 * lacks them; which ones a game gets follows from its own set
 * (derive_channels), so it is not written here.
 *
 * The JSON (docs/api.md "Channel dictionary", schema channels/v1):
 *   {"frame_version", "channels": [entry...], "games": [game...]}
 *   entry  {"name", "kind": "identity"|"channel"|"flag"|"annotation",
 *           "json_key", "csv_columns", "type", "dimension", "components",
 *           "unit", "range": {"min", "max"} (null: no bound), "nullable",
 *           "description", "derived" (never a game's own), "presence_bit"
 *           (null but for channels), "games" (whose frames carry it as the
 *           game's own), "derived_for" (channels: the games pitwall derives
 *           it for)}
 *   game   {"name", "title", "feed", "channels", "derived", "flags"}
 * Entries are in frame order: identity, channels by presence bit, flags,
 * then the annotation "derived" (the frame's list of its derived channels).
 *
 * Thread-safe: constant tables; dict_json allocates only its result.
 */
#ifndef PW_DICT_H
#define PW_DICT_H

#include <jansson.h>
#include <stdint.h>

/* The presence bits (FRAME_P_*) game's frames can carry; 0 for an unknown game. */
uint64_t dict_game_channels(unsigned game);
/* The flag bits (FRAME_FLAG_*) game reports (its frames' flags_known at most). */
unsigned dict_game_flags(unsigned game);
/* The channels pitwall derives for game's frames where the game lacks them
 * (common/derive.h: derive_channels of the game's own channels). */
uint64_t dict_game_derived(unsigned game);

/*
 * The dictionary as JSON (a new reference; NULL when out of memory). game 0
 * (PW_GAME_UNKNOWN): every entry and every game; otherwise only that game's:
 * the identity keys, the channels and flags it supplies, and its own entry
 * in "games" (each entry's "games" still lists every game that supplies it).
 */
json_t *dict_json(unsigned game);

/*
 * The JSON Schema of a frame's JSON (frame_to_json), draft 2020-12, generated
 * from the channel table, with $defs.export_row, a row of an export with
 * options (docs/export.md): docs/schemas/frame/v1.json is exactly this, dumped
 * with an indent of 2 and a final newline (`pwctl channels --frame-schema`;
 * tests/integration/test_channels.sh compares them). A new reference, NULL
 * when out of memory.
 */
json_t *dict_frame_schema(void);

/* The type name of frame type t (enum frame_type): "float32", "int8", ...;
 * NULL out of range. */
const char *dict_type_name(unsigned t);
/* "scalar", "xyz", "wheels", "sectors" for enum frame_dim; NULL out of range. */
const char *dict_dim_name(unsigned dim);

#endif
