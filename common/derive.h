/*
 * derive.h - the channels every analysis can count on, computed once from a
 * game's own channels where the game lacks them (issue 10 section 1).
 *
 * pw-capture runs one derive state per feed on every decoded frame, in
 * order, right after the decoder (pw-capture --decode too), so the ring, the
 * store, the WebSocket, the exports and the analyses all see the same
 * values. A derived channel is present and its bit is also set in
 * pw_frame.derived: it never passes as the game's. Nothing a game sends is
 * changed, with one exception: a lap_time_ms the game marks as unknown (-1)
 * is replaced by the derived time in lap when there is one (and flagged).
 *
 * What is derived, and from what (each only where the frame lacks it):
 *   yaw_rate_rads  slope of the unwrapped heading (yaw_rad), turned into
 *                  "+ = turning right" by the game's axis sense
 *                  (derive_yaw_sense); every game with a heading
 *   accel_lat_g    yaw rate x speed, plus d(vx)/dt where the game gives the
 *                  car-frame velocity (the sideslip term): ACC broadcasting
 *   accel_lon_g    d(speed)/dt, or d(vz)/dt - yaw rate x vx with a velocity
 *   lap_dist_m     spline x track length where both are given, else speed
 *                  integrated (trapezoids) on the clock below from the line:
 *                  Assetto Corsa (spline but no track length)
 *   lap_time_ms    the clock since the line, where the game gives no lap
 *                  clock or says it does not know (Project CARS "unset")
 *
 * The clock: the game's own (game_time_s); else its lap clock (lap_time_ms
 * steps within a lap; across the line last_lap_ms closes the old lap), which
 * is what Assetto Corsa has; else the receive time (t_ns). The real AC
 * capture shows why the lap clock comes before the receive time: its receive
 * times are on Windows' 15.6 ms timer (10 % of the steps are 0), its lap
 * clock steps 12..20 ms. A frame without any clock (a raw capture decoded
 * offline: no receive times) gets nothing that needs one.
 *
 * The line: the lap counter going up by one; without a counter, the spline
 * wrapping from > 0.9 to < 0.1, or the lap clock restarting. The first frame
 * of a fresh lap (lap clock under 1 s) counts as the line too; otherwise a
 * derived lap distance or time in lap starts at the first line seen. A lap
 * counter that changes otherwise, a game session change, a clock that goes
 * back or jumps more than DERIVE_LAP_GAP_S lose it until the next line.
 *
 * Filter: every derivative is the least-squares slope over the frames of the
 * last window_s seconds (at least 3 frames spanning half the window, else
 * nothing is derived), so a derived value describes the middle of the
 * window: it lags the frame by about window_s / 2. The default,
 * DERIVE_WINDOW_S = 0.15 s, is chosen on the data (tests/unit/test_derive.c
 * prints the table): on the emulator's car as ACC sends it (speed in whole
 * km/h, 60 Hz, no g) the summed RMS error of lateral + longitudinal g against
 * the truth over a lap and the skid pad is smallest at 0.15 s among 0.1..0.4 s
 * (0.297 g; 0.1 s: 0.346, 0.2 s: 0.307, 0.4 s: 0.433): shorter windows
 * amplify the 0.28 m/s speed steps, longer ones lag. Derived again on real
 * captures that carry the game's own g, against the game's g over the same
 * window: Project CARS 1 lateral 0.086 g RMS (corr 0.994), longitudinal
 * 0.045 (0.997); Assetto Corsa longitudinal 0.062 (0.995); with the lag in
 * (against the same frame) 0.12, 0.19 and 0.16.
 * Clock jumps of more than DERIVE_GAP_S (lost packets, a pause on the
 * receive clock) restart the window; paused frames derive nothing.
 *
 * Who may call: one state per feed, one thread; pure (no I/O, no clock
 * reads, no globals). Memory: derive_new allocates the state, the caller
 * owns it and frees it with derive_free.
 */
#ifndef PW_DERIVE_H
#define PW_DERIVE_H

#include "common/frame.h"

#define DERIVE_WINDOW_S 0.15     /* default derivative window, s (see above) */
#define DERIVE_WINDOW_MAX_S 2.0  /* longest window derive_new accepts */
#define DERIVE_SAMPLES 256       /* frames kept for the window (333 Hz x 0.77 s) */
#define DERIVE_GAP_S 0.5         /* a longer clock step restarts the window */
#define DERIVE_LAP_GAP_S 2.0     /* a longer one loses the lap distance until the line */
#define DERIVE_FRESH_LAP_MS 1000 /* a first frame this early in its lap is at the line */
#define DERIVE_G 9.80665         /* m/s^2 per g */

/* The channels derive_frame() may fill. */
#define DERIVE_CHANNELS                                                                \
	(FRAME_P_YAW_RATE | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON | FRAME_P_LAP_DIST | \
	 FRAME_P_LAP_TIME)

struct derive; /* process-local, opaque */

/* Lifecycle */
/* A state with a derivative window of window_s seconds (<= 0: DERIVE_WINDOW_S;
 * longer than DERIVE_WINDOW_MAX_S: that). NULL when out of memory. The caller
 * owns it (derive_free; NULL is fine). */
struct derive *derive_new(double window_s);
void derive_free(struct derive *d);
/* Forget everything seen (as at a game session change). */
void derive_reset(struct derive *d);

/* Operations */
/*
 * Add the derived channels f lacks (see the top of this file), setting their
 * presence and derived bits. f is the next frame of the feed, in order; a
 * frame of another FRAME_VERSION is left alone.
 */
void derive_frame(struct derive *d, struct pw_frame *f);

/* Accessors */
/*
 * The channels derive_frame adds to the frames of game that carry the
 * channels of have (FRAME_P_*) and no others, once its window and a line are
 * there: the rules at the top of this file on presence masks. With have = the
 * channels a game sends (common/dict.h) this is what pitwall derives for that
 * game; a frame that lacks one of its game's own channels for a while (ACC
 * before its track data) may get that one derived too.
 */
uint64_t derive_channels(uint64_t have, unsigned game);
/* How a game's yaw_rad turns: +1 it grows turning right (clockwise seen from
 * above), -1 it grows turning left, 0 no heading or not known. */
int derive_yaw_sense(unsigned game);

#endif
