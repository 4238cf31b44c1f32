/*
 * laps.h - the per-feed lap tracker: normalized frames in, lap events out.
 *
 * pw-store runs one struct laps per feed and feeds it every frame of that
 * feed in ring order. The tracker is pure (no I/O, no clock of its own, no
 * allocation after laps_new) and single-threaded: one caller per tracker.
 *
 * Events
 *   LAP_COMPLETED        a lap ended at the line; the struct lap describes it.
 *   LAP_INVALIDATED      a lap already reported valid turned out invalid (a
 *                        game flag that arrives in the first seconds of the
 *                        next lap, or a rewind that undid the lap); the lap is
 *                        repeated with valid false and the reason. Consumers
 *                        replace the earlier record of that lap number.
 *   LAP_SESSION_CHANGED  the frame's game_session changed: laps restart (the
 *                        lap in progress is dropped, numbering restarts).
 *
 * How laps are found
 *   - Lap counter (FRAME_P_LAP, laps completed): an increment completes a lap;
 *     number = the new counter. Lap counter and lap clock are read from one
 *     game packet by every decoder, so they change in the same frame.
 *   - No counter: the line is where the spline (else lap_dist_m / track_len_m)
 *     wraps from > 0.9 to < 0.1. A crossing counts only after the car has been
 *     in the middle of the lap (0.25..0.75) since the last one, so jitter at
 *     the line or reversing over it does not make laps.
 *   - Start on the grid (lap counter 0, lap clock not running, car behind the
 *     line: lap_dist_m < 0 or spline > 0.9): the first crossing starts lap 1
 *     and completes nothing. A game that counts that first crossing as a lap
 *     (counter 0 -> 1 there) is re-based so its next increment is lap 1. A
 *     game that times lap 1 from the start signal (F1) keeps that lap; its
 *     frames begin when the lap clock starts.
 *   - A lap's frames run from the first frame showing it (start_seq) to the
 *     last one before the next lap (end_seq); paused and duplicate frames are
 *     not counted in frames.
 *
 * Timing. time_ms is the game's last_lap_ms when the game gives one (a value
 * that changed at the line, or that agrees with the measurement; the tracker
 * waits up to LAPS_SETTLE_S for a game that updates it late), else the
 * tracker's measured_ms. measured_ms comes from the game's lap clock
 * (lap_time_ms before the line + the last frame step - lap_time_ms after it),
 * else from crossing instants (interpolated on the spline) on the feed clock:
 * game_time_s when present, else t_ns, not advancing over paused frames.
 * sector_ms are the game's splits of the lap (last values seen before the
 * line); S3 = time - S1 - S2 when the game gives only the first two; -1 where
 * the game gives none.
 *
 * Validity (valid == (invalid_reason == LAP_REASON_NONE)); when several apply,
 * the first of this list wins:
 *   reset       a rewind, flashback or restart happened in the lap (counter
 *               back, lap clock back > 100 ms, game clock back > 50 ms).
 *               A rewind to before the line of the latest lap (counter one
 *               lower; without a counter, game clock back before the line by
 *               less than 60 s) undoes that lap: LAP_INVALIDATED, and the lap
 *               is completed again when the car gets back to the line.
 *   pit         IN_PIT was set during the lap (entered the pit lane in it),
 *               or the whole lap was spent in the pit lane
 *   out_lap     the lap began in the pit lane, or right after a lap in which
 *               the car entered and left the pit lane
 *   game_flag   the game flagged the lap invalid (FRAME_FLAG_LAP_INVALID);
 *               the flag seen in the first LAPS_SETTLE_S of a lap belongs to
 *               the lap before it
 *   incomplete  not seen whole: the tracker started mid-lap (at the first
 *               frame the lap clock was above LAPS_CLEAN_START_MS, or absent,
 *               or the car was away from the line), or a data gap
 *               (receive time jump > LAPS_GAP_S while the game's clock ran,
 *               or the game's clock jumping > LAPS_GAP_S), or laps missed
 *   cut_short   seen whole, but the car covered < 90 % of the lap (spline
 *               jumps of more than 5 % of a lap are not counted)
 * Paused frames (FRAME_FLAG_PAUSED) and duplicates (same seq, or the same
 * content as the previous frame) are ignored; they never count as gaps.
 *
 * JSON (lap_to_json, published as `lap.<feed>` and stored with each run):
 *   {"number":3,"time_ms":93456,"measured_ms":93455,
 *    "sector_ms":[31002,30011,32443],"valid":true,"invalid_reason":"none",
 *    "personal_best":true,"game_session":42,"start_seq":1200,"end_seq":6807,
 *    "start_t_ns":1700000000000000000,"end_t_ns":1700000093456000000,
 *    "min_speed_kmh":61.20,"max_speed_kmh":281.90,"frames":5608}
 * Unknown times, splits and speeds are null; personal_best = fastest valid
 * lap of the session so far (taken back by a LAP_INVALIDATED). invalid_reason is one of "none",
 * "game_flag", "pit", "reset", "out_lap", "incomplete", "cut_short".
 * lap_event_to_json wraps it: {"event":"lap_completed","lap":{...}},
 * {"event":"lap_invalidated","lap":{...}},
 * {"event":"session_changed","from_session":41,"to_session":42}.
 */
#ifndef PW_LAPS_H
#define PW_LAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/frame.h"

#define LAPS_MAX_EVENTS 8 /* room for this many never leaves events queued */
#define LAPS_SETTLE_S 2.0 /* late last_lap_ms / late invalid flag window */
#define LAPS_GAP_S 2.0
#define LAPS_CLEAN_START_MS 1000 /* lap clock at the first frame: lap seen whole */

enum lap_event_kind {
	LAP_COMPLETED = 1,
	LAP_INVALIDATED,
	LAP_SESSION_CHANGED,
};

enum lap_reason {
	LAP_REASON_NONE = 0,
	LAP_REASON_GAME_FLAG,
	LAP_REASON_PIT,
	LAP_REASON_RESET,
	LAP_REASON_OUT_LAP,
	LAP_REASON_INCOMPLETE,
	LAP_REASON_CUT_SHORT,
	LAP_REASON_COUNT
};

struct lap {
	uint32_t number;      /* 1-based */
	int32_t time_ms;      /* -1 = unknown */
	int32_t measured_ms;  /* the tracker's own measurement, -1 = unknown */
	int32_t sector_ms[3]; /* -1 = unknown */
	bool valid;
	bool personal_best;     /* fastest valid lap of the session so far */
	uint8_t invalid_reason; /* enum lap_reason */
	uint64_t game_session;
	uint64_t start_seq, end_seq; /* first and last frame of the lap */
	int64_t start_t_ns, end_t_ns;
	float min_speed_kmh, max_speed_kmh; /* -1 = no speed channel */
	uint32_t frames; /* frames of the lap (paused and duplicates not counted) */
};

struct lap_event {
	enum lap_event_kind kind;
	struct lap lap;        /* COMPLETED, INVALIDATED */
	uint64_t from_session; /* SESSION_CHANGED */
	uint64_t to_session;
};

struct laps;

/* Lifecycle */
/* A tracker with no frame seen yet; NULL when out of memory. The caller owns
 * it and frees it with laps_free() (NULL is fine). */
struct laps *laps_new(void);
void laps_free(struct laps *l);

/* Operations */
/*
 * Feed the next frame of the feed. Writes up to max events to out and returns
 * how many (0 for most frames). Events that do not fit stay queued and come
 * first on the next call. f == NULL means the feed ended: a lap still waiting
 * for the game's lap time is reported with what is known, queued events are
 * returned. Frames with another FRAME_VERSION are ignored.
 */
int laps_feed(struct laps *l, const struct pw_frame *f, struct lap_event *out, int max);

/* One lap as compact JSON (no newline), snprintf semantics: returns the length
 * it needs (excluding the NUL), writes at most cap bytes, NUL-terminated when
 * cap > 0. */
size_t lap_to_json(const struct lap *lap, char *buf, size_t cap);
size_t lap_event_to_json(const struct lap_event *ev, char *buf, size_t cap);

/* Accessors */
/* The lap in progress as it stands (time_ms = elapsed so far, invalid_reason
 * = reasons so far, end_* = latest frame). Returns 1, or 0 when no lap is in
 * progress (no frame yet, waiting on the grid, no lap channels). */
int laps_current(const struct laps *l, struct lap *out);
/* "none", "game_flag", ... ; "unknown" out of range. */
const char *lap_reason_name(unsigned reason);
/* "lap_completed", "lap_invalidated", "session_changed"; "unknown". */
const char *lap_event_name(unsigned kind);

#endif
