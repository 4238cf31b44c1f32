/*
 * truth.h - pw-sim's ground truth: everything the analysis should find in
 * the simulated data, as one line of JSON.
 *
 * {"car":{...spec...}, "optimal_shift_rpm":[gear 1..n-1],
 *  "recommended_shift_rpm":X, "track":{name, layout, length_m, width_m,
 *  corners:[{index, direction, start_m, apex_dist_m, end_m, angle_deg,
 *  min_radius_m}], corner_count, sectors:[start m], center_line_sample:
 *  [[x,z] every 10 m]}, "course":{name, length_m}, "reference_lap_ms",
 *  "mode", "seed", "rate_hz", "feed", "format",
 *  "fault":{name, category, parameters, description} | null}
 * The car is the one driven, setup fault included (car_with_fault); "fault"
 * names the recommendation that fixes it: seed 004's category and the setup
 * parameters whose change fixes it, the direct one first.
 *
 * The numbers come straight from the car and track modules the simulation
 * runs on (car_optimal_shift_rpm, track_corner ...), so they cannot drift
 * from the simulated behaviour.
 */
#ifndef PW_SIM_TRUTH_H
#define PW_SIM_TRUTH_H

#include <stdint.h>

#include "capture/sim/car.h"
#include "capture/sim/track.h"

#define TRUTH_SAMPLE_M 10.0

/* The run being described; strings are borrowed. rate_hz <= 0 = chosen by
 * the client (ACC), printed as null. */
struct truth_run {
	const char *mode;
	const char *feed;
	const char *format;
	uint64_t seed;
	double rate_hz;
	const char *course_name; /* what the car actually drives */
	double course_length_m;
	int32_t reference_lap_ms; /* flying lap / repetition time, ms */
};

/* The ground truth as one NUL-terminated JSON line without the newline.
 * Returns a malloc'd string the caller frees, or NULL when out of memory. */
char *truth_json(const struct car_spec *c, const struct track *t, const struct truth_run *run);

#endif
