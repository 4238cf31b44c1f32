/*
 * corners.h - the corners of a closed path: heading and curvature of a
 * closed polyline sampled at an even spacing, and the corners in a closed
 * curvature profile. One definition for the track model (analyze/track.c)
 * and for lap comparisons on tracks without a model (common/lapdata.c).
 *
 * Curvature: the path is smoothed by a [1 4 6 4 1]/16 kernel; heading =
 * atan2(dx, dz) by central differences over +-CORNERS_DIFF samples,
 * curvature = hand * (unwrapped heading difference over +-CORNERS_DIFF
 * samples) / (2 * CORNERS_DIFF * step). hand = +1 for x/z axes that turn
 * like the emulator's (atan2(dx, dz) grows in a right-hand bend), -1 for
 * mirrored ones (Assetto Corsa), so + is a right-hand bend for the driver.
 *
 * Corners (the emulator's definition, capture/sim/track.c: a contiguous
 * stretch bending one way, at least 15 degrees): scanning the loop from a
 * sample off any corner, a core is a run of |curvature| >= CORNERS_ON_1PM
 * with one sign, grown outward while the sign holds and |curvature| >=
 * CORNERS_OFF_1PM; a corner bending the same way as the previous one and
 * starting within CORNERS_MERGE_M of its end is merged into it; corners
 * turning less than CORNERS_MIN_DEG are dropped. The apex is the middle of
 * the stretch around the peak where |curvature| >= CORNERS_APEX_FRAC of the
 * peak (the middle of a constant-radius arc); the angle is the integrated
 * curvature.
 *
 * Pure functions on the caller's arrays: no allocation, any thread.
 */
#ifndef PW_CORNERS_H
#define PW_CORNERS_H

#include <stddef.h>

#define CORNERS_DIFF 2         /* finite differences over +-2 samples */
#define CORNERS_ON_1PM 0.002   /* a corner's core: R <= 500 m */
#define CORNERS_OFF_1PM 0.0005 /* its extent: R <= 2000 m */
#define CORNERS_MERGE_M 30.0
#define CORNERS_MIN_DEG 15.0
#define CORNERS_APEX_FRAC 0.9

/* One corner, in fractional sample indices of the profile (i * step from
 * the loop's first sample). entry_i is in [-0.5, n); apex_i and exit_i are
 * unrolled: they are >= n when the corner spans the loop's end. */
struct corner_span {
	double entry_i, apex_i, exit_i;
	double angle_rad; /* signed: + right */
	double kmax;      /* peak |curvature|, 1/m */
	int dir;          /* +1 right, -1 left */
};

/* Operations */
/*
 * Heading (rad, (-pi, pi]) and curvature (1/m, + right for the driver) of
 * the closed path x[i], z[i], i in [0, n), samples step_m apart; hand as
 * above. heading, curv: n doubles each; tmp: 3 * n doubles of scratch; all
 * the caller's. n must be at least 2 * CORNERS_DIFF + 1.
 */
void corners_curvature(const double *x, const double *z, size_t n, double step_m, int hand,
		       double *heading, double *curv, double *tmp);
/*
 * The corners of the closed curvature profile curv[0..n) (samples step_m
 * apart) into out, which has room for n + 1; returns how many, sorted by
 * entry_i.
 */
size_t corners_find(const double *curv, size_t n, double step_m, struct corner_span *out);

#endif
