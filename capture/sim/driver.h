/*
 * driver.h - pw-sim's driving modes: the simulated driver, its car and the
 * course, stepped at a fixed 1 ms physics step and sampled into normalized
 * frames.
 *
 * Modes:
 *   laps       follow the centre line of the track at the grip-limited speed
 *              profile (corners at 97 % of sqrt(mu g R), braking zones worked
 *              out backwards at 92 % of the brake limit inside the friction
 *              circle), upshifting at car_optimal_shift_rpm.
 *   left/right drive along the left/right track boundary at 60 % of the limit
 *              speed, at most 150 km/h (track mapping); lap distance and
 *              spline still follow the centre line.
 *   pulls      straight road: from 15 km/h in 1st at full throttle through
 *              every gear, each held 150 ms on the rev limiter before the
 *              upshift, top gear to the limiter; then brake to 15 km/h and
 *              repeat. One repetition counts as a lap.
 *   cornering  circle of radius 80 m: lateral acceleration ramps at 0.05 g/s
 *              from 40 km/h to 99.5 % of the grip limit, is held there 5 s,
 *              then the car slows to 40 km/h and the next repetition turns
 *              the other way (tangent figure-of-eight). One repetition is a lap.
 *
 * Determinism: the physics has no randomness at all; only the sensor noise
 * added by driver_frame() comes from an xorshift64* generator seeded with
 * seed. The same mode, seed and sequence of driver_run_to()/driver_frame()
 * calls give byte-identical frames.
 *
 * Frames carry every channel of frame.h with its presence bit, except
 * last_lap_ms and best_lap_ms, which are absent until the first lap (or
 * repetition) is done; sector_ms holds the current lap's sector times, -1
 * until reached. pos_m is (x, 0, z) in the track's axes (see track.h) and
 * yaw_rad is the heading psi wrapped to (-pi, pi]. pitch_rad is + nose up,
 * roll_rad + when the right side drops (so a right-hand turn rolls -).
 *
 * One driver per simulated car; not thread-safe. The driver borrows the car
 * spec and the track (both must outlive it).
 */
#ifndef PW_SIM_DRIVER_H
#define PW_SIM_DRIVER_H

#include <stdint.h>

#include "capture/sim/car.h"
#include "capture/sim/track.h"
#include "common/frame.h"

#define DRIVER_STEP_MS 1

enum driver_mode {
	DRIVER_LAPS = 0,
	DRIVER_LEFT,
	DRIVER_RIGHT,
	DRIVER_PULLS,
	DRIVER_CORNERING,
	DRIVER_MODE_COUNT
};

struct driver;

/* Lifecycle */
/* Returns NULL on allocation failure. Borrows car and track. */
struct driver *driver_new(enum driver_mode mode, uint64_t seed, const struct car_spec *car,
			  const struct track *track);
void driver_free(struct driver *d);

/* Operations */
/* Advance the physics to step (ms since the start); no-op if already there. */
void driver_run_to(struct driver *d, int64_t step);
/* The frame for the current step, with fresh sensor noise. Sets version,
 * present, flags; leaves seq, t_ns, game and feed zero for the caller. */
void driver_frame(struct driver *d, struct pw_frame *f);

/* Accessors */
int64_t driver_step(const struct driver *d);
/* The frames' game_session: fixed for a run, derived from the seed. */
uint64_t driver_session(const struct driver *d);
double driver_time_s(const struct driver *d);
/* Laps (repetitions) completed. */
int driver_laps(const struct driver *d);
/* Last completed lap time, ms; -1 before the first. */
int32_t driver_last_lap_ms(const struct driver *d);
/* Course the mode drives: the track for laps/left/right, else its own. */
const char *driver_course_name(const struct driver *d);
double driver_course_length_m(const struct driver *d);
/* Flying-lap time of the mode (a noise-free second lap or repetition), ms,
 * worked out by driver_new with a private run. */
int32_t driver_reference_lap_ms(const struct driver *d);

/* "laps", "left", ...; mode for a name or -1. */
const char *driver_mode_name(enum driver_mode mode);
int driver_mode_parse(const char *name);

#endif
