/*
 * track.c - track_mapping: the seed's TrackModel from two boundary laps
 * (an_track_build, analysis.h). docs/analysis-track_mapping.md has the long
 * form with figures.
 *
 * Input: exactly two runs, labelled "left" and "right" (case-insensitive,
 * blanks ignored), each holding at least one closed lap driven along that
 * track boundary, with world positions (FRAME_P_POS). Anything else is
 * refused with AN_E_NOT_QUALIFIED and a message naming the problem.
 *
 * Output (all distances along the centre line, m, from the start/finish
 * line in the driving direction; positions world x/z, m):
 *   game, track_name     the arguments (in->game / in->track when NULL)
 *   source               "boundary_recording"
 *   created_at           build time, UTC, "YYYY-MM-DDTHH:MM:SSZ"
 *   length_m             length of the closed centre line
 *   sample_spacing_m     length_m / n, n = round(length_m / 2 m): every
 *                        array below has n entries, index i at i * spacing
 *   center_line          [[x,z]]: midpoint of the paired boundary points
 *   left_boundary        [[x,z]], right_boundary [[x,z]]: the pair
 *   track_width          [m]: distance between the pair
 *   heading              [rad] atan2(dx, dz) of the smoothed centre line,
 *                        (-pi, pi]; 0 = +z, + clockwise seen from above in
 *                        the emulator's axes
 *   curvature            [1/m] + = right-hand bend for the driver: in the
 *                        emulator's axes d(heading)/ds, in a game whose x/z
 *                        are mirrored (Assetto Corsa) -d(heading)/ds
 *   corners              [{index (1-based, driving order from the line),
 *                        direction "left"|"right", entry_dist_m,
 *                        apex_dist_m, exit_dist_m (all in [0, length_m);
 *                        a corner spanning the line has exit < entry),
 *                        angle_deg (total heading change, > 0),
 *                        min_radius_m (1 / peak |curvature|), apex [x,z]}]
 *   sectors              [{index (1-based), start_dist_m, end_dist_m}]
 *
 * Method:
 *  1. Each run's usable frames (position present and finite, not paused,
 *     not in the pits, not exactly at the origin) are thinned to points at
 *     least 0.5 m apart, so a car standing still (pit stop, pause, sensor
 *     noise) adds no length. A step over 100 m is a jump (teleport, rewind,
 *     lost frames) that no lap may span; shorter gaps are bridged by chords.
 *  2. One lap per run: the first complete lap by the game's lap counter
 *     (from the frame where lap L begins to the one where L + 1 begins),
 *     else the first stretch that closes on position (the path leaves its
 *     first point by 50 m, drives at least 200 m and comes back within 10 m
 *     heading the same way; tried forward from the first point and backward
 *     from the last). A closed-on-position lap is rotated to start where
 *     the game's line is crossed (lap counter or spline wrap) when it is.
 *  3. Handedness: games do not agree on which way x/z turn (AC's are the
 *     emulator's mirrored). The path's turn in atan2(dx, dz) is correlated
 *     with the frames' physical right turn (lateral g, else steering, both
 *     + right in frame.h) over both runs; a negative sum means mirrored axes,
 *     which flips which side is "right" (pairing check) and the curvature
 *     sign. Without lateral g or steering the emulator's axes are assumed.
 *  4. Both laps are resampled as closed loops every 1 m of arc length. The
 *     right loop is reversed when it was driven the other way round (the
 *     left run decides the driving direction and the start/finish line).
 *  5. Pairing: each left sample takes the nearest point of the right
 *     polyline, searched in a window that moves forward with the match.
 *     For boundaries that are offset curves of the centre line (constant
 *     width) this is exact: both points lie on the centre line's normal.
 *     The match must go once round the right loop and lie to the right.
 *  6. The midpoints form the centre line, resampled uniformly by its own
 *     arc length (boundaries and width interpolated alongside); the centre
 *     is not smoothed. Heading and curvature come from a copy smoothed by
 *     a [1 4 6 4 1]/16 kernel: heading by central differences over +-2
 *     samples, curvature as the heading difference over +-2 samples.
 *  7. Corners (the emulator's definition, capture/sim/track.c: contiguous
 *     bending the same way, at least 15 degrees): cores where |curvature|
 *     >= 1/500 m, grown outward while the sign holds and |curvature| >=
 *     1/2000 m; neighbours bending the same way less than 30 m apart merge;
 *     then corners turning less than 15 degrees are dropped. Apex = middle
 *     of the stretch around the peak where |curvature| >= 90 % of the peak
 *     (the middle of a constant-radius arc); angle = integrated curvature.
 *  8. Sectors: where the left run's lap (else the right run's, when driven
 *     the same way) steps its 0-based sector k -> k + 1, projected onto the
 *     centre line; three equal sectors when no run carries sector changes.
 *
 * Limits: the boundaries must not be closer than their distance across the
 * track at another part of the circuit within 30 m of arc (a hairpin with an
 * inside radius below the track width); rewinds shorter than 100 m leave a
 * spike in the lap; a pit-lane detour with IN_PIT unset is taken as
 * boundary. Cost: O(frames) to collect, O(lap samples) after.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "analyze/analysis.h"
#include "common/corners.h"

#define TRK_THIN_M 0.5   /* min step between kept positions */
#define TRK_JUMP_M 100.0 /* a step this long breaks the path */
#define TRK_MIN_LAP_M 200.0
#define TRK_CLOSE_M 10.0        /* a lap ends this close to its start */
#define TRK_LEAVE_M 50.0        /* ... after going at least this far away */
#define TRK_BOUNDARY_STEP_M 1.0 /* boundary loop resampling */
#define TRK_SPACING_M 2.0       /* centre line samples (nominal) */
#define TRK_MIN_SAMPLES 16
#define TRK_WINDOW_BACK 3 /* pairing search window, right samples */
#define TRK_WINDOW_AHEAD 30
#define TRK_MAX_WIDTH_M 100.0
#define TRK_MIN_WIDTH_M 1.0
#define TRK_SIDE_FRAC 0.8    /* of samples with the right boundary to the right */
#define TRK_PROGRESS_TOL 0.1 /* pairing covers the right loop once, +-10 % */
#define TRK_MAX_SECTORS 16
#define TRK_SECTOR_MIN_M 10.0 /* sector boundaries closer than this are dropped */

/* A run's usable position, thinned. */
struct trk_pt {
	double x, z;
	int32_t lap;    /* -1 = no lap counter */
	int16_t sector; /* -1 = no sector */
	uint8_t jump;   /* the step from the previous point is a jump */
	uint8_t line;   /* the game's start/finish line is crossed here */
};

/* One boundary lap, resampled as a closed loop. */
struct trk_loop {
	double *x, *z;
	size_t n;
	double len_m;
	double sect_x[TRK_MAX_SECTORS], sect_z[TRK_MAX_SECTORS];
	double sect_tx[TRK_MAX_SECTORS], sect_tz[TRK_MAX_SECTORS];
	int nsect;
	double hand; /* collect_points() */
};

struct trk_model {
	int hand; /* +1: x/z as the emulator's; -1: mirrored */
	size_t n;
	double step_m, len_m;
	double *cx, *cz, *lx, *lz, *rx, *rz, *width, *heading, *curv;
	struct corner_span *corner;
	size_t ncorners;
	double sect_start_m[TRK_MAX_SECTORS + 1];
	int nsect;
};

static double dist(double ax, double az, double bx, double bz)
{
	return hypot(bx - ax, bz - az);
}

/* i taken round a loop of n */
static size_t wrap_index(long i, size_t n)
{
	return (size_t)(((i % (long)n) + (long)n) % (long)n);
}

/* --- runs and labels --- */

/* label equals want, ignoring case and surrounding blanks */
static int label_is(const char *label, const char *want)
{
	size_t n = strlen(want);

	if (!label)
		return 0;
	while (*label == ' ' || *label == '\t')
		label++;
	if (strncasecmp(label, want, n) != 0)
		return 0;
	for (label += n; *label; label++)
		if (*label != ' ' && *label != '\t')
			return 0;
	return 1;
}

static int find_runs(const struct an_input *in, const struct an_run **left,
		     const struct an_run **right, struct an_err *err)
{
	const struct an_run *r = in->runs;

	if (in->nruns != 2) {
		an_fail(err, AN_E_NOT_QUALIFIED,
			"a track build needs exactly two runs, labelled \"left\" and \"right\"; "
			"the session has %zu",
			in->nruns);
		return -1;
	}
	if (label_is(r[0].label, "left") && label_is(r[1].label, "right")) {
		*left = &r[0];
		*right = &r[1];
	} else if (label_is(r[0].label, "right") && label_is(r[1].label, "left")) {
		*left = &r[1];
		*right = &r[0];
	} else {
		an_fail(err, AN_E_NOT_QUALIFIED,
			"a track build needs one run labelled \"left\" and one labelled \"right\"; "
			"the runs are labelled \"%.60s\" and \"%.60s\"",
			r[0].label ? r[0].label : "", r[1].label ? r[1].label : "");
		return -1;
	}
	return 0;
}

/* --- 1. positions --- */

static int usable(const struct pw_frame *f)
{
	double x = f->pos_m[0], z = f->pos_m[2];

	if (!(f->present & FRAME_P_POS) || (f->flags & (FRAME_FLAG_PAUSED | FRAME_FLAG_IN_PIT)))
		return 0;
	if (!isfinite(x) || !isfinite(z) || !isfinite(f->pos_m[1]))
		return 0;
	return x != 0.0 || z != 0.0 || f->pos_m[1] != 0.0; /* all zero: no position yet */
}

static int crossed_line(const struct pw_frame *prev, const struct pw_frame *f)
{
	uint64_t both = prev->present & f->present;

	if (both & FRAME_P_LAP)
		return f->lap == (uint16_t)(prev->lap + 1);
	if (both & FRAME_P_SPLINE)
		return prev->spline > 0.9f && f->spline < 0.1f;
	return 0;
}

/* The frame's physical turn, + right: lateral g, else steering; 0 if neither. */
static double right_turn(const struct pw_frame *f)
{
	if (f->present & FRAME_P_ACCEL_LAT)
		return f->accel_lat_g;
	if (f->present & FRAME_P_STEER_DEG)
		return f->steer_deg / 90.0;
	if (f->present & FRAME_P_STEER)
		return f->steer;
	return 0.0;
}

/* Turn from step (ax, az) to step (bx, bz), rad, + when atan2(dx, dz) grows. */
static double step_turn(double ax, double az, double bx, double bz)
{
	return atan2(az * bx - ax * bz, ax * bx + az * bz);
}

/*
 * Thin the run's usable positions into pt (room for r->n); returns the
 * count. *with_pos counts frames carrying a position at all. *hand sums the
 * path's turn (in atan2(dx, dz)) times the frame's physical right turn: > 0
 * when x/z have the emulator's handedness, < 0 when they are mirrored (AC).
 */
static size_t collect_points(const struct an_run *r, struct trk_pt *pt, size_t *with_pos,
			     double *hand)
{
	const struct pw_frame *prev = NULL;
	size_t m = 0;

	*with_pos = 0;
	*hand = 0.0;
	for (size_t i = 0; i < r->n; i++) {
		const struct pw_frame *f = &r->frames[i];
		struct trk_pt p;
		double d2;

		*with_pos += (f->present & FRAME_P_POS) != 0;
		if (!usable(f))
			continue;
		p = (struct trk_pt){
			.x = f->pos_m[0],
			.z = f->pos_m[2],
			.lap = (f->present & FRAME_P_LAP) ? f->lap : -1,
			.sector = (f->present & FRAME_P_SECTOR) ? f->sector : -1,
			.line = prev && crossed_line(prev, f),
		};
		prev = f;
		if (m > 0) {
			const struct trk_pt *q = &pt[m - 1];

			d2 = (p.x - q->x) * (p.x - q->x) + (p.z - q->z) * (p.z - q->z);
			p.jump = d2 > TRK_JUMP_M * TRK_JUMP_M;
			if (!p.jump && !p.line && p.lap == q->lap && p.sector == q->sector &&
			    d2 < TRK_THIN_M * TRK_THIN_M)
				continue;
			if (m > 1 && !p.jump && !q->jump)
				*hand += right_turn(f) * step_turn(q->x - pt[m - 2].x,
								   q->z - pt[m - 2].z, p.x - q->x,
								   p.z - q->z);
		}
		pt[m++] = p;
	}
	return m;
}

/* --- 2. one lap --- */

static double pt_dist(const struct trk_pt *pt, size_t a, size_t b)
{
	return dist(pt[a].x, pt[a].z, pt[b].x, pt[b].z);
}

/* Unit direction of travel at i, from neighbours inside [s, e). */
static void pt_tangent(const struct trk_pt *pt, size_t s, size_t e, size_t i, double *tx,
		       double *tz)
{
	size_t a = i >= s + 2 ? i - 2 : s, b = i + 2 < e ? i + 2 : e - 1;
	double dx = pt[b].x - pt[a].x, dz = pt[b].z - pt[a].z, l = hypot(dx, dz);

	*tx = l > 0.0 ? dx / l : 0.0;
	*tz = l > 0.0 ? dz / l : 0.0;
}

static int same_heading(const struct trk_pt *pt, size_t s, size_t e, size_t i, size_t j)
{
	double ax, az, bx, bz;

	pt_tangent(pt, s, e, i, &ax, &az);
	pt_tangent(pt, s, e, j, &bx, &bz);
	return ax * bx + az * bz > 0.5;
}

static double path_len(const struct trk_pt *pt, size_t a, size_t b)
{
	double l = 0.0;

	for (size_t i = a + 1; i < b; i++)
		l += pt_dist(pt, i - 1, i);
	return l;
}

/*
 * The lap from a around to c, where pt[c] is back at pt[a]: [a, c + 1) when
 * pt[c] is still short of pt[a] along the way, else [a, c), so the closing
 * chord runs forward.
 */
static size_t lap_end(const struct trk_pt *pt, size_t s, size_t e, size_t a, size_t c)
{
	double tx, tz;

	pt_tangent(pt, s, e, a, &tx, &tz);
	return (pt[a].x - pt[c].x) * tx + (pt[a].z - pt[c].z) * tz > 0.0 ? c + 1 : c;
}

struct trk_span {
	size_t a, b; /* the lap is pt[a, b), closed back to pt[a] */
	size_t s, e; /* the jump-free stretch holding it */
};

/* First complete lap by the game's counter, with no jump inside. */
static int lap_by_counter(const struct trk_pt *pt, size_t n, struct trk_span *sp)
{
	size_t start = SIZE_MAX, s = 0;

	for (size_t i = 1; i < n; i++) {
		if (pt[i].jump) {
			start = SIZE_MAX;
			s = i;
			continue;
		}
		if (pt[i].lap < 0 || pt[i].lap == pt[i - 1].lap)
			continue;
		if (pt[i].lap != pt[i - 1].lap + 1) {
			start = SIZE_MAX;
			continue;
		}
		if (start != SIZE_MAX && pt_dist(pt, start, i) < TRK_CLOSE_M &&
		    path_len(pt, start, i + 1) >= TRK_MIN_LAP_M) {
			size_t e = i + 1;

			while (e < n && !pt[e].jump)
				e++;
			*sp = (struct trk_span){ .a = start, .s = s, .e = e };
			sp->b = lap_end(pt, s, e, start, i);
			return 0;
		}
		start = i;
	}
	return -1;
}

/* Walk from a in direction dir (+1/-1) inside [s, e) until the path comes
 * back to pt[a]; returns the closing index or SIZE_MAX. *gap: the nearest
 * return seen after leaving (for the message). */
static size_t close_walk(const struct trk_pt *pt, size_t s, size_t e, size_t a, int dir,
			 double *gap)
{
	double arc = 0.0, far = 0.0;
	size_t i = a;

	for (;;) {
		size_t prev = i;
		double d;

		if ((dir > 0 && i + 1 >= e) || (dir < 0 && i <= s))
			return SIZE_MAX;
		i = dir > 0 ? i + 1 : i - 1;
		arc += pt_dist(pt, prev, i);
		d = pt_dist(pt, i, a);
		far = fmax(far, d);
		if (arc < TRK_MIN_LAP_M || far < TRK_LEAVE_M)
			continue;
		*gap = fmin(*gap, d);
		if (d >= TRK_CLOSE_M || !same_heading(pt, s, e, i, a))
			continue;
		while ((dir > 0 ? i + 1 < e : i > s) &&
		       pt_dist(pt, dir > 0 ? i + 1 : i - 1, a) < d) {
			i = dir > 0 ? i + 1 : i - 1;
			d = pt_dist(pt, i, a);
		}
		return i;
	}
}

/* Rotate a closed-on-position lap to start at the game's line, if crossed. */
static void start_at_line(const struct trk_pt *pt, struct trk_span *sp, size_t *first)
{
	*first = sp->a;
	for (size_t i = sp->a + 1; i < sp->b; i++)
		if (pt[i].line) {
			*first = i;
			return;
		}
}

static int lap_by_position(const struct trk_pt *pt, size_t n, struct trk_span *sp, double *gap)
{
	size_t s = 0;

	while (s < n) {
		size_t e = s + 1, c;

		while (e < n && !pt[e].jump)
			e++;
		c = close_walk(pt, s, e, s, 1, gap);
		if (c != SIZE_MAX) {
			*sp = (struct trk_span){ .a = s, .s = s, .e = e };
			sp->b = lap_end(pt, s, e, s, c);
			return 0;
		}
		c = close_walk(pt, s, e, e - 1, -1, gap);
		if (c != SIZE_MAX) {
			*sp = (struct trk_span){ .a = c, .s = s, .e = e };
			sp->b = lap_end(pt, s, e, c, e - 1);
			return 0;
		}
		s = e;
	}
	return -1;
}

/* --- 4. resampled loops --- */

/* Sector steps k -> k + 1 met going round the lap from first. */
static void lap_sectors(const struct trk_pt *pt, const struct trk_span *sp, size_t first,
			struct trk_loop *lp)
{
	size_t m = sp->b - sp->a;

	lp->nsect = 0;
	for (size_t k = 1; k < m && lp->nsect < TRK_MAX_SECTORS; k++) {
		size_t i = sp->a + (first - sp->a + k) % m, h = i == sp->a ? sp->b - 1 : i - 1;

		if (i == sp->a || pt[i].line || pt[h].sector < 0 ||
		    pt[i].sector != pt[h].sector + 1)
			continue;
		lp->sect_x[lp->nsect] = pt[i].x;
		lp->sect_z[lp->nsect] = pt[i].z;
		pt_tangent(pt, sp->s, sp->e, i, &lp->sect_tx[lp->nsect], &lp->sect_tz[lp->nsect]);
		lp->nsect++;
	}
}

/* Resample pt[a, b), starting at first and closed back to it, every ~step_m
 * of arc length into lp (allocates lp->x, lp->z). */
static int resample_lap(const struct trk_pt *pt, const struct trk_span *sp, size_t first,
			double step_m, struct trk_loop *lp)
{
	size_t m = sp->b - sp->a, n, k = 0;
	double len = 0.0, h, at = 0.0;

	for (size_t j = 0; j < m; j++) {
		size_t i = sp->a + (first - sp->a + j) % m,
		       i1 = sp->a + (first - sp->a + j + 1) % m;

		len += pt_dist(pt, i, i1);
	}
	n = (size_t)fmax(round(len / step_m), TRK_MIN_SAMPLES);
	lp->x = malloc(2 * n * sizeof *lp->x);
	if (!lp->x)
		return -1;
	lp->z = lp->x + n;
	lp->n = n;
	lp->len_m = len;
	h = len / (double)n;
	for (size_t j = 0; j < m && k < n; j++) {
		size_t i = sp->a + (first - sp->a + j) % m,
		       i1 = sp->a + (first - sp->a + j + 1) % m;
		double seg = pt_dist(pt, i, i1);

		while (k < n && k * h <= at + seg) {
			double t = seg > 0.0 ? (k * h - at) / seg : 0.0;

			lp->x[k] = pt[i].x + (pt[i1].x - pt[i].x) * t;
			lp->z[k] = pt[i].z + (pt[i1].z - pt[i].z) * t;
			k++;
		}
		at += seg;
	}
	for (; k < n; k++) { /* rounding at the very end: the start point */
		lp->x[k] = pt[first].x;
		lp->z[k] = pt[first].z;
	}
	return 0;
}

/* The run's boundary lap as a loop, or -1 with err set. */
static int boundary_loop(const struct an_run *r, const char *side, struct trk_pt *pt,
			 struct trk_loop *lp, struct an_err *err)
{
	struct trk_span sp;
	size_t with_pos, n = collect_points(r, pt, &with_pos, &lp->hand), first;
	double gap = INFINITY;

	if (with_pos == 0) {
		an_fail(err, AN_E_NOT_QUALIFIED,
			"the run labelled %s has no world positions (%zu frames, none with a "
			"position): this game or feed cannot map tracks",
			side, r->n);
		return -1;
	}
	if (n < 2) {
		an_fail(err, AN_E_NOT_QUALIFIED,
			"the run labelled %s has no usable positions: %zu frames with one, but "
			"paused, in the pits, at the origin or standing still",
			side, with_pos);
		return -1;
	}
	if (lap_by_counter(pt, n, &sp) == 0) {
		first = sp.a;
	} else if (lap_by_position(pt, n, &sp, &gap) == 0) {
		start_at_line(pt, &sp, &first);
	} else if (path_len(pt, 0, n) < TRK_MIN_LAP_M) {
		an_fail(err, AN_E_NOT_QUALIFIED,
			"the run labelled %s covers only %.0f m; a boundary lap needs at least %.0f m",
			side, path_len(pt, 0, n), TRK_MIN_LAP_M);
		return -1;
	} else {
		an_fail(err, AN_E_NOT_QUALIFIED,
			"the run labelled %s has no closed lap: no complete lap by the lap counter, "
			"and its path never returns within %.0f m of where it started "
			"(nearest %.0f m)",
			side, TRK_CLOSE_M, isfinite(gap) ? gap : 0.0);
		return -1;
	}
	lap_sectors(pt, &sp, first, lp);
	if (resample_lap(pt, &sp, first, TRK_BOUNDARY_STEP_M, lp) < 0) {
		an_fail(err, AN_E_NO_DATA, "out of memory");
		return -1;
	}
	return 0;
}

static void loop_reverse(struct trk_loop *lp)
{
	/* keep sample 0: the order becomes 0, n-1, ..., 1 */
	for (size_t i = 1, j = lp->n - 1; i < j; i++, j--) {
		double t = lp->x[i];

		lp->x[i] = lp->x[j];
		lp->x[j] = t;
		t = lp->z[i];
		lp->z[i] = lp->z[j];
		lp->z[j] = t;
	}
	lp->nsect = 0; /* its sector steps now run backwards */
}

static void loop_tangent(const struct trk_loop *lp, size_t i, double *tx, double *tz)
{
	size_t a = (i + lp->n - 1) % lp->n, b = (i + 1) % lp->n;
	double dx = lp->x[b] - lp->x[a], dz = lp->z[b] - lp->z[a], l = hypot(dx, dz);

	*tx = l > 0.0 ? dx / l : 0.0;
	*tz = l > 0.0 ? dz / l : 0.0;
}

/* --- 5. pairing --- */

/* The loop's point at fractional sample u (any real, taken round). */
static void loop_at(const struct trk_loop *lp, double u, double *x, double *z)
{
	long k = (long)floor(u);
	size_t j = wrap_index(k, lp->n), j1 = wrap_index(k + 1, lp->n);
	double f = u - (double)k;

	*x = lp->x[j] + (lp->x[j1] - lp->x[j]) * f;
	*z = lp->z[j] + (lp->z[j1] - lp->z[j]) * f;
}

/* Nearest point of segment j of lp to (px, pz): parameter t and distance. */
static double seg_nearest(const struct trk_loop *lp, size_t j, double px, double pz, double *t)
{
	size_t j1 = (j + 1) % lp->n;
	double ax = lp->x[j], az = lp->z[j], dx = lp->x[j1] - ax, dz = lp->z[j1] - az;
	double l2 = dx * dx + dz * dz, u = l2 > 0.0 ? ((px - ax) * dx + (pz - az) * dz) / l2 : 0.0;

	u = fmin(fmax(u, 0.0), 1.0);
	*t = u;
	return hypot(ax + u * dx - px, az + u * dz - pz);
}

/* Segment of rt nearest to lt's sample 0 among those running parallel or
 * antiparallel; *dir = +1 / -1 accordingly, 0 if none within range. */
static size_t first_match(const struct trk_loop *lt, const struct trk_loop *rt, int *dir)
{
	double tx, tz, best = TRK_MAX_WIDTH_M, t;
	size_t bj = 0;

	*dir = 0;
	loop_tangent(lt, 0, &tx, &tz);
	for (size_t j = 0; j < rt->n; j++) {
		double ux, uz, d = seg_nearest(rt, j, lt->x[0], lt->z[0], &t), dot;

		if (d >= best)
			continue;
		loop_tangent(rt, j, &ux, &uz);
		dot = ux * tx + uz * tz;
		if (fabs(dot) < 0.7)
			continue;
		best = d;
		bj = j;
		*dir = dot > 0.0 ? 1 : -1;
	}
	return bj;
}

/*
 * Pair every left sample with its nearest right point (mx, mz), searching a
 * window that follows the match. Returns the right loop's progress in
 * samples over one left lap.
 */
static double pair_loops(const struct trk_loop *lt, const struct trk_loop *rt, size_t j0,
			 double *mx, double *mz)
{
	double u0 = 0.0, u = 0.0;

	for (size_t i = 0; i < lt->n; i++) {
		long base = i == 0 ? (long)j0 : (long)floor(u);
		long lo = i == 0 ? base : base - TRK_WINDOW_BACK;
		long hi = i == 0 ? base : base + TRK_WINDOW_AHEAD;
		double best = INFINITY, bu = u, t;

		for (long k = lo; k <= hi; k++) {
			double d = seg_nearest(rt, wrap_index(k, rt->n), lt->x[i], lt->z[i], &t);

			if (d < best) {
				best = d;
				bu = (double)k + t;
			}
		}
		u = bu;
		if (i == 0)
			u0 = u;
		loop_at(rt, u, &mx[i], &mz[i]);
	}
	/* plus the step from the last left sample back to sample 0 */
	return u - u0 + remainder(u0 - u, (double)rt->n);
}

/* --- 6. centre line --- */

static int model_alloc(struct trk_model *md, size_t n)
{
	double *b = calloc(9 * n, sizeof *b);

	if (!b)
		return -1;
	md->n = n;
	md->cx = b;
	md->cz = b + n;
	md->lx = b + 2 * n;
	md->lz = b + 3 * n;
	md->rx = b + 4 * n;
	md->rz = b + 5 * n;
	md->width = b + 6 * n;
	md->heading = b + 7 * n;
	md->curv = b + 8 * n;
	return 0;
}

static void model_free(struct trk_model *md)
{
	free(md->cx);
	free(md->corner);
}

/* Uniform centre samples from the pairs (left lt, match mx/mz). */
static int centre_line(const struct trk_loop *lt, const double *mx, const double *mz,
		       struct trk_model *md)
{
	size_t m = lt->n, n, k = 0;
	double len = 0.0, at = 0.0, h;

	for (size_t i = 0; i < m; i++) {
		size_t i1 = (i + 1) % m;

		len += 0.5 * dist(lt->x[i] + mx[i], lt->z[i] + mz[i], lt->x[i1] + mx[i1],
				  lt->z[i1] + mz[i1]);
	}
	n = (size_t)fmax(round(len / TRK_SPACING_M), TRK_MIN_SAMPLES);
	if (model_alloc(md, n) < 0)
		return -1;
	md->len_m = len;
	md->step_m = h = len / (double)n;
	for (size_t i = 0; i < m && k < n; i++) {
		size_t i1 = (i + 1) % m;
		double seg = 0.5 * dist(lt->x[i] + mx[i], lt->z[i] + mz[i], lt->x[i1] + mx[i1],
					lt->z[i1] + mz[i1]);

		while (k < n && k * h <= at + seg) {
			double t = seg > 0.0 ? (k * h - at) / seg : 0.0;

			md->lx[k] = lt->x[i] + (lt->x[i1] - lt->x[i]) * t;
			md->lz[k] = lt->z[i] + (lt->z[i1] - lt->z[i]) * t;
			md->rx[k] = mx[i] + (mx[i1] - mx[i]) * t;
			md->rz[k] = mz[i] + (mz[i1] - mz[i]) * t;
			k++;
		}
		at += seg;
	}
	for (; k < n; k++) {
		md->lx[k] = lt->x[0];
		md->lz[k] = lt->z[0];
		md->rx[k] = mx[0];
		md->rz[k] = mz[0];
	}
	for (k = 0; k < n; k++) {
		md->cx[k] = 0.5 * (md->lx[k] + md->rx[k]);
		md->cz[k] = 0.5 * (md->lz[k] + md->rz[k]);
		md->width[k] = dist(md->lx[k], md->lz[k], md->rx[k], md->rz[k]);
	}
	return 0;
}

/* --- heading, curvature (step 6) and corners (step 7): common/corners.h --- */

/* --- 8. sectors --- */

/* Distance along the centre line of the point nearest (x, z) heading (tx, tz). */
static double centre_dist(const struct trk_model *md, double x, double z, double tx, double tz)
{
	size_t n = md->n, best_i = 0;
	double best = INFINITY, ax, az, bx, bz, ux, uz, l2, t;

	for (size_t i = 0; i < n; i++) {
		double d = dist(md->cx[i], md->cz[i], x, z);

		if (d < best && sin(md->heading[i]) * tx + cos(md->heading[i]) * tz > 0.5) {
			best = d;
			best_i = i;
		}
	}
	/* refine on the segment towards the side of the point */
	ax = md->cx[best_i];
	az = md->cz[best_i];
	bx = md->cx[(best_i + 1) % n];
	bz = md->cz[(best_i + 1) % n];
	ux = bx - ax;
	uz = bz - az;
	l2 = ux * ux + uz * uz;
	t = l2 > 0.0 ? ((x - ax) * ux + (z - az) * uz) / l2 : 0.0;
	t = fmin(fmax(t, -1.0), 1.0);
	return fmod(((double)best_i + t) * md->step_m + md->len_m, md->len_m);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void find_sectors(struct trk_model *md, const struct trk_loop *lp)
{
	double d[TRK_MAX_SECTORS];
	int k = 0;

	for (int i = 0; i < lp->nsect; i++)
		d[i] = centre_dist(md, lp->sect_x[i], lp->sect_z[i], lp->sect_tx[i],
				   lp->sect_tz[i]);
	qsort(d, (size_t)lp->nsect, sizeof d[0], cmp_double);
	md->sect_start_m[k++] = 0.0;
	for (int i = 0; i < lp->nsect; i++)
		if (d[i] - md->sect_start_m[k - 1] >= TRK_SECTOR_MIN_M &&
		    md->len_m - d[i] >= TRK_SECTOR_MIN_M)
			md->sect_start_m[k++] = d[i];
	if (k == 1) {
		md->sect_start_m[k++] = md->len_m / 3.0;
		md->sect_start_m[k++] = 2.0 * md->len_m / 3.0;
	}
	md->nsect = k;
}

/* --- JSON --- */

static json_t *xz_pair(double x, double z)
{
	return json_pack("[ff]", x, z);
}

static json_t *xz_array(const double *x, const double *z, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, xz_pair(x[i], z[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *real_array(const double *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_real(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static double lap_dist(const struct trk_model *md, double idx)
{
	double d = fmod(idx * md->step_m, md->len_m);

	return d < 0.0 ? d + md->len_m : d;
}

static json_t *corner_json(const struct trk_model *md, size_t i)
{
	const struct corner_span *c = &md->corner[i];
	long a = (long)floor(c->apex_i);
	double f = c->apex_i - (double)a;
	size_t i0 = wrap_index(a, md->n), i1 = wrap_index(a + 1, md->n);
	double ax = md->cx[i0] + (md->cx[i1] - md->cx[i0]) * f;
	double az = md->cz[i0] + (md->cz[i1] - md->cz[i0]) * f;

	return json_pack("{sI ss sf sf sf sf sf so}", "index", (json_int_t)(i + 1), "direction",
			 c->dir > 0 ? "right" : "left", "entry_dist_m", lap_dist(md, c->entry_i),
			 "apex_dist_m", lap_dist(md, c->apex_i), "exit_dist_m",
			 lap_dist(md, c->exit_i), "angle_deg", fabs(c->angle_rad) * 180.0 / M_PI,
			 "min_radius_m", c->kmax > 0.0 ? 1.0 / c->kmax : 0.0, "apex",
			 xz_pair(ax, az));
}

static json_t *corners_json(const struct trk_model *md)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < md->ncorners; i++)
		if (json_array_append_new(a, corner_json(md, i)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *sectors_json(const struct trk_model *md)
{
	json_t *a = json_array();

	for (int i = 0; a && i < md->nsect; i++) {
		double end = i + 1 < md->nsect ? md->sect_start_m[i + 1] : md->len_m;

		if (json_array_append_new(a, json_pack("{sI sf sf}", "index", (json_int_t)(i + 1),
						       "start_dist_m", md->sect_start_m[i],
						       "end_dist_m", end)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static void utc_now(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *model_json(const struct trk_model *md, const char *game, const char *track)
{
	char now[32];

	utc_now(now, sizeof now);
	return json_pack(
		"{ss ss ss ss sf sf so so so so so so so so}", "game", game, "track_name", track,
		"source", "boundary_recording", "created_at", now, "length_m", md->len_m,
		"sample_spacing_m", md->step_m, "center_line", xz_array(md->cx, md->cz, md->n),
		"left_boundary", xz_array(md->lx, md->lz, md->n), "right_boundary",
		xz_array(md->rx, md->rz, md->n), "track_width", real_array(md->width, md->n),
		"heading", real_array(md->heading, md->n), "curvature", real_array(md->curv, md->n),
		"corners", corners_json(md), "sectors", sectors_json(md));
}

/* --- the build --- */

/* Check the pairing: once round the right loop, right of the left, apart. */
static int check_pairs(const struct trk_loop *lt, const struct trk_loop *rt, const double *mx,
		       const double *mz, double progress, int reversed, int hand,
		       struct an_err *err)
{
	size_t right_side = 0;
	double wsum = 0.0;

	if (fabs(progress / (double)rt->n - 1.0) > TRK_PROGRESS_TOL) {
		an_fail(err, AN_E_NOT_QUALIFIED,
			"the boundaries do not follow each other: along the left lap (%.0f m) the "
			"nearest right points cover %.0f%% of the right lap (%.0f m)",
			lt->len_m, 100.0 * progress / (double)rt->n, rt->len_m);
		return -1;
	}
	for (size_t i = 0; i < lt->n; i++) {
		double tx, tz, dx = mx[i] - lt->x[i], dz = mz[i] - lt->z[i];

		loop_tangent(lt, i, &tx, &tz);
		right_side += hand * (dx * tz - dz * tx) > 0.0; /* right = (tz, -tx) */
		wsum += hypot(dx, dz);
	}
	if (wsum / (double)lt->n < TRK_MIN_WIDTH_M) {
		an_fail(err, AN_E_NOT_QUALIFIED,
			"the runs labelled left and right are only %.2f m apart on average: they "
			"follow the same line",
			wsum / (double)lt->n);
		return -1;
	}
	if ((double)right_side < TRK_SIDE_FRAC * (double)lt->n) {
		an_fail(err, AN_E_NOT_QUALIFIED,
			"the run labelled right lies to the right of the run labelled left for only "
			"%.0f%% of the lap%s: labels swapped?",
			100.0 * (double)right_side / (double)lt->n,
			reversed ? " (the runs were driven in opposite directions; the left run "
				   "sets the direction)"
				 : "");
		return -1;
	}
	return 0;
}

/* Pair the loops and fill md; -1 with err set. */
static int build_model(struct trk_loop *lt, struct trk_loop *rt, struct trk_model *md,
		       struct an_err *err)
{
	double *mx = malloc(2 * lt->n * sizeof *mx), *mz, progress;
	int dir, reversed, rc = -1;
	size_t j0 = first_match(lt, rt, &dir);

	if (!mx) {
		an_fail(err, AN_E_NO_DATA, "out of memory");
		return -1;
	}
	mz = mx + lt->n;
	if (dir == 0) {
		an_fail(err, AN_E_NOT_QUALIFIED,
			"the run labelled right passes nowhere within %.0f m of the left lap's start "
			"line: are both runs on the same track?",
			TRK_MAX_WIDTH_M);
		goto out;
	}
	reversed = dir < 0;
	if (reversed) {
		loop_reverse(rt);
		j0 = first_match(lt, rt, &dir);
	}
	progress = pair_loops(lt, rt, j0, mx, mz);
	if (check_pairs(lt, rt, mx, mz, progress, reversed, md->hand, err) < 0)
		goto out;
	if (centre_line(lt, mx, mz, md) < 0) {
		an_fail(err, AN_E_NO_DATA, "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(mx);
	return rc;
}

static int analyse(struct trk_model *md, const struct trk_loop *lt, const struct trk_loop *rt,
		   struct an_err *err)
{
	double *tmp = malloc(3 * md->n * sizeof *tmp);

	md->corner = malloc((md->n + 1) * sizeof *md->corner);
	if (!tmp || !md->corner) {
		free(tmp);
		an_fail(err, AN_E_NO_DATA, "out of memory");
		return -1;
	}
	corners_curvature(md->cx, md->cz, md->n, md->step_m, md->hand, md->heading, md->curv, tmp);
	free(tmp);
	md->ncorners = corners_find(md->curv, md->n, md->step_m, md->corner);
	find_sectors(md, lt->nsect > 0 ? lt : rt);
	return 0;
}

static const char *name_or(const char *a, const char *b)
{
	return a ? a : b ? b : "";
}

json_t *an_track_build(const struct an_input *in, const char *game, const char *track_name,
		       struct an_err *err)
{
	const struct an_run *left, *right;
	struct trk_loop lt = { 0 }, rt = { 0 };
	struct trk_model md = { 0 };
	struct trk_pt *pt = NULL;
	json_t *out = NULL;

	if (!in || (in->nruns > 0 && !in->runs)) {
		an_fail(err, AN_E_BAD_INPUT, "no input");
		return NULL;
	}
	if (find_runs(in, &left, &right, err) < 0)
		return NULL;
	if ((left->n > 0 && !left->frames) || (right->n > 0 && !right->frames)) {
		an_fail(err, AN_E_BAD_INPUT, "a run has frames missing");
		return NULL;
	}
	pt = malloc((left->n > right->n ? left->n : right->n) * sizeof *pt + 1);
	if (!pt) {
		an_fail(err, AN_E_NO_DATA, "out of memory");
		return NULL;
	}
	if (boundary_loop(left, "left", pt, &lt, err) < 0 ||
	    boundary_loop(right, "right", pt, &rt, err) < 0)
		goto out;
	md.hand = lt.hand + rt.hand < 0.0 ? -1 : 1;
	if (build_model(&lt, &rt, &md, err) < 0 || analyse(&md, &lt, &rt, err) < 0)
		goto out;
	out = model_json(&md, name_or(game, in->game), name_or(track_name, in->track));
	if (!out)
		an_fail(err, AN_E_NO_DATA, "out of memory");
out:
	free(pt);
	free(lt.x);
	free(rt.x);
	model_free(&md);
	return out;
}
