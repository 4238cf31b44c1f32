/*
 * general.c - the general use case: the laps table, best / average /
 * consistency, and with a track model the per-corner figures of every lap
 * (entry, minimum and exit speed, time through the corner, time lost to the
 * best lap). Full description with the reasoning: docs/analysis-general.md.
 *
 * Output (keys always present unless marked; null where unknown):
 *
 *   {"laps":[{"run_id","number","time_ms","measured_ms","valid","invalid_reason",
 *             "sector_ms":[s1,s2,s3],"min_speed_kmh","max_speed_kmh",
 *             "start_seq","end_seq","frames"}, ...],
 *    "best_lap":{"run_id","number","time_ms","start_seq"} | null,
 *    "valid_lap_count", "average_lap_ms",
 *    "consistency":{"laps","stddev_ms","spread_ms","score"},
 *    "runs_analyzed", "total_frames_analyzed",
 *    only with in->track_model:
 *    "track_model":{"track_name","length_m","corner_count","distance_source",
 *                   "frames_located","frames_off_line"},
 *    "corners":[{"index","direction","entry_dist_m","apex_dist_m","exit_dist_m",
 *                "fastest":{"run_id","number","time_ms"} | null,
 *                "laps":[{"run_id","number","valid","entry_speed_kmh",
 *                         "min_speed_kmh","exit_speed_kmh","time_ms",
 *                         "time_lost_ms"}, ...]}, ...]}
 *
 * an_general_laps also hands out the laps table as the race engineer's laps
 * (engineer.h: each lap's run and frame range), for the use case's report
 * (analysis.c), which adds the recommendations.
 *
 * laps: every lap the store's lap tracker (common/laps.h) completes on each
 * run's frames, in run order then completion order; a lap the tracker
 * invalidates later (LAP_INVALIDATED) or completes again after a rewind
 * replaces its earlier record (same number, same game session). time_ms,
 * measured_ms, sector_ms, valid, invalid_reason, min/max speed and frames
 * are the tracker's; start_seq / end_seq are the seq of the lap's first and
 * last frame. The lap in progress when the run ends is not a lap.
 *
 * best_lap: the valid lap with the smallest time_ms (> 0) over all runs, the
 * earliest on a tie; null without a valid timed lap. average_lap_ms: mean of
 * the valid timed laps, ms rounded to 1 (null without one). consistency over
 * the same laps: laps = their count; stddev_ms the sample standard deviation
 * (n - 1), spread_ms = slowest - fastest, score = 100 - 1000 x stddev / mean
 * clamped to 0..100 (a point per 0.1 % of the lap time in standard
 * deviation: 0.3 s on a 100 s lap scores 97); null with fewer than 2 laps.
 * stddev and score are rounded to 0.1.
 *
 * Corners (in->track_model: the TrackModel of analysis.h; used: center_line,
 * sample_spacing_m, length_m (optional: taken as the polyline's length),
 * corners[].index / direction / entry_dist_m / apex_dist_m / exit_dist_m).
 * Each frame gets a distance along the centre line: its pos_m (x, z)
 * projected onto the closed polyline, point i at i x sample_spacing_m, the
 * closing segment ending at length_m. The projection follows the car: from
 * the previous frame's segment it climbs to the nearest segment (looking two
 * segments ahead past one that is not nearer, one behind), so a frame costs
 * a few segment tests and a car on one branch of a hairpin is never put on
 * the other. Within the segment the position is taken on a smooth line
 * through the vertices (tangents interpolated between vertices), not on the
 * chord, so a car off the line does not jump at every vertex. The
 * whole line is searched for the first frame, after a position jump of more
 * than 50 m, and every 64th frame while the car is more than 40 m from the
 * line (off the line: such frames get no distance). A run without pos_m uses
 * spline x length_m (else lap_dist_m / track_len_m x length_m).
 * A corner is passed when the distance runs forward through entry_dist_m and
 * then exit_dist_m (a corner may span the line: exit < entry). Crossing
 * instants and speeds are interpolated linearly between the two frames
 * around each boundary: entry_speed_kmh and exit_speed_kmh at the
 * boundaries, min_speed_kmh the lowest of those and of every frame in
 * between, time_ms = exit instant - entry instant (ms, rounded to 1).
 * Clock: game_time_s, else the lap clock while it runs, else t_ns; over the
 * lap clock's reset at the line the last step is repeated. Paused frames are
 * skipped. A passage is dropped when, before its exit, the clock fails
 * (missing, backwards or a step > 2 s), the car jumps > 50 m or leaves the
 * line, drives back more than 10 m (small backward jitter is ignored: a
 * boundary counts once, on the furthest progress), or the game session
 * changes. A passage belongs to the lap holding the frame after its entry
 * crossing (the last one when a lap holds two of the same corner).
 * Speed: speed_kmh, else |vel_ms| x 3.6, else null.
 * time_lost_ms = this lap's corner time - the best lap's time through the
 * same corner (ms, rounded to 1, may be negative; null when the best lap has
 * no passage of it or there is no best lap). fastest: the valid lap with the
 * shortest passage. Speeds are rounded to 0.01 km/h. Corners appear in the
 * model's order, each lap with a passage in lap-table order.
 *
 * total_frames_analyzed: frames of the current FRAME_VERSION that are not
 * paused; runs_analyzed: runs with at least one frame. frames_located:
 * frames given a distance; frames_off_line: frames with a position more
 * than 40 m from the centre line (a track model that does not fit shows
 * here).
 *
 * Errors: no frame at all, or no lap completed -> AN_E_NO_DATA; a malformed
 * track model -> AN_E_BAD_INPUT; out of memory -> AN_E_NO_MEMORY.
 *
 * Cost: one pass per run; per frame one lap-tracker step and O(1) amortised
 * projection; memory: the model's segments, the laps and corner passages.
 * Pure: no I/O, no globals.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analysis.h"
#include "analyze/engineer.h"
#include "common/laps.h"

#define GEN_E_NO_MEMORY AN_E_NO_MEMORY

#define GEN_LOST_M 40.0      /* farther from the centre line: off the track */
#define GEN_JUMP_M 50.0      /* a step this long between two frames is a teleport */
#define GEN_RELOCK_FRAMES 64 /* while off the line, search the whole line this often */
#define GEN_BACK_M 10.0      /* driving back this far is reversing, not noise */
#define GEN_GAP_S LAPS_GAP_S
#define GEN_CLIMB_LOOK 2  /* segments looked at ahead past one that is not nearer */
#define GEN_CLOSED_M 0.01 /* a last point this close to the first repeats it */
#define GEN_DEFAULT_DT_S (1.0 / 60.0)
#define GEN_SCORE_PER_CV 1000.0 /* consistency points per unit of stddev / mean */

/* ---- growable arrays (amortised, never per frame) ---- */

struct vec {
	void *p;
	size_t n, cap, size;
};

static void *vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 16;
		void *p = realloc(v->p, cap * v->size);

		if (!p)
			return NULL;
		v->p = p;
		v->cap = cap;
	}
	return (char *)v->p + v->size * v->n++;
}

/* ---- the track model ---- */

struct seg {
	double ax, az, dx, dz, inv_len2;
	double tx, tz;      /* unit tangent at the start: bisector of the two segments */
	double ex, ez;      /* tangent at the end - tangent at the start */
	double d_t, d_e;    /* D.T_A and D.E (smooth_t) */
	bool straight;      /* tangents equal: the chord is the line */
	double d0_m, len_m; /* along-track distance at the start, along-track length */
};

struct corner {
	json_int_t index;
	const char *direction; /* borrowed from the model, NULL when absent */
	double entry_m, apex_m, exit_m;
};

struct bound {
	double at_m;
	int corner;
	bool exit;
};

struct model {
	struct seg *seg;
	int nseg;
	double len_m;
	const char *track_name;
	struct corner *corner;
	int ncorners;
	struct bound *bound; /* entries and exits sorted by distance */
	int nbound;
};

static void model_free(struct model *m)
{
	free(m->seg);
	free(m->corner);
	free(m->bound);
}

static int bad_model(struct an_err *err, const char *what)
{
	err->code = AN_E_BAD_INPUT;
	snprintf(err->message, sizeof err->message, "track model: %s", what);
	return -1;
}

static int no_memory(struct an_err *err)
{
	err->code = GEN_E_NO_MEMORY;
	snprintf(err->message, sizeof err->message, "out of memory");
	return -1;
}

static bool get_num(const json_t *o, const char *key, double *v)
{
	const json_t *j = json_object_get(o, key);

	if (!json_is_number(j))
		return false;
	*v = json_number_value(j);
	return isfinite(*v);
}

static bool point_of(const json_t *p, double *x, double *z)
{
	if (!json_is_array(p) || json_array_size(p) < 2 || !json_is_number(json_array_get(p, 0)) ||
	    !json_is_number(json_array_get(p, 1)))
		return false;
	*x = json_number_value(json_array_get(p, 0));
	*z = json_number_value(json_array_get(p, 1));
	return isfinite(*x) && isfinite(*z);
}

static double wrap_m(double d, double len)
{
	d = fmod(d, len);
	return d < 0.0 ? d + len : d;
}

/* The tangent at each vertex: the mean of the unit directions of the two
 * segments meeting there (the segment's own direction when they cancel). */
static void vertex_tangents(struct model *m)
{
	for (int i = 0; i < m->nseg; i++) {
		struct seg *s = &m->seg[i], *p = &m->seg[i ? i - 1 : m->nseg - 1];
		double a = sqrt(p->inv_len2), b = sqrt(s->inv_len2);
		double tx = p->dx * a + s->dx * b, tz = p->dz * a + s->dz * b, l = hypot(tx, tz);

		if (l < 1e-9) {
			tx = s->dx * b;
			tz = s->dz * b;
			l = 1.0;
		}
		s->tx = tx / l;
		s->tz = tz / l;
	}
	for (int i = 0; i < m->nseg; i++) {
		struct seg *s = &m->seg[i], *nx = &m->seg[i + 1 < m->nseg ? i + 1 : 0];

		s->ex = nx->tx - s->tx;
		s->ez = nx->tz - s->tz;
		s->d_t = s->dx * s->tx + s->dz * s->tz;
		s->d_e = s->dx * s->ex + s->dz * s->ez;
		/* |E| < 1e-4 rad: the smooth line is off the chord by < 0.1 mm per m of offset */
		s->straight = s->ex * s->ex + s->ez * s->ez < 1e-8;
	}
}

static int model_line(struct model *m, const json_t *tm, struct an_err *err)
{
	const json_t *line = json_object_get(tm, "center_line");
	size_t n = json_array_size(line);
	double spacing, fx, fz, lx, lz, closing;

	if (!json_is_array(line) || n < 3)
		return bad_model(err, "center_line needs at least 3 points");
	if (!get_num(tm, "sample_spacing_m", &spacing) || spacing <= 0.0)
		return bad_model(err, "sample_spacing_m must be a number > 0");
	if (!point_of(json_array_get(line, 0), &fx, &fz) ||
	    !point_of(json_array_get(line, n - 1), &lx, &lz))
		return bad_model(err, "center_line points must be [x, z] numbers");
	if (hypot(lx - fx, lz - fz) < GEN_CLOSED_M)
		n--; /* the loop's first point repeated at the end */
	if (n < 3)
		return bad_model(err, "center_line needs at least 3 points");
	closing = hypot(lx - fx, lz - fz);
	if (!get_num(tm, "length_m", &m->len_m))
		m->len_m = (double)(n - 1) * spacing + closing;
	if (!(m->len_m > (double)(n - 1) * spacing))
		return bad_model(err, "length_m is not longer than the sampled centre line");
	m->seg = malloc(n * sizeof *m->seg);
	if (!m->seg)
		return no_memory(err);
	m->nseg = (int)n;
	for (size_t i = 0; i < n; i++) {
		struct seg *s = &m->seg[i];
		double bx, bz, l2;

		if (!point_of(json_array_get(line, i), &s->ax, &s->az) ||
		    !point_of(json_array_get(line, (i + 1) % n), &bx, &bz))
			return bad_model(err, "center_line points must be [x, z] numbers");
		s->dx = bx - s->ax;
		s->dz = bz - s->az;
		l2 = s->dx * s->dx + s->dz * s->dz;
		s->inv_len2 = l2 > 0.0 ? 1.0 / l2 : 0.0;
		s->d0_m = (double)i * spacing;
		s->len_m = i + 1 < n ? spacing : m->len_m - s->d0_m;
	}
	vertex_tangents(m);
	return 0;
}

static int cmp_bound(const void *a, const void *b)
{
	const struct bound *x = a, *y = b;

	if (x->at_m != y->at_m)
		return x->at_m < y->at_m ? -1 : 1;
	/* an exit and an entry at one distance: close the first corner, then open the next */
	return (int)y->exit - (int)x->exit;
}

static int model_corners(struct model *m, const json_t *tm, struct an_err *err)
{
	const json_t *cs = json_object_get(tm, "corners"), *c;
	size_t i;

	if (!cs)
		return 0;
	if (!json_is_array(cs))
		return bad_model(err, "corners must be an array");
	m->corner = calloc(json_array_size(cs) + 1, sizeof *m->corner);
	m->bound = calloc(2 * json_array_size(cs) + 1, sizeof *m->bound);
	if (!m->corner || !m->bound)
		return no_memory(err);
	json_array_foreach(cs, i, c) {
		struct corner *k = &m->corner[m->ncorners];
		const json_t *idx = json_object_get(c, "index"),
			     *dir = json_object_get(c, "direction");

		if (!json_is_object(c) || !get_num(c, "entry_dist_m", &k->entry_m) ||
		    !get_num(c, "exit_dist_m", &k->exit_m))
			return bad_model(err,
					 "a corner needs numbers entry_dist_m and exit_dist_m");
		if (!get_num(c, "apex_dist_m", &k->apex_m))
			k->apex_m = k->entry_m + 0.5 * wrap_m(k->exit_m - k->entry_m, m->len_m);
		k->entry_m = wrap_m(k->entry_m, m->len_m);
		k->exit_m = wrap_m(k->exit_m, m->len_m);
		k->apex_m = wrap_m(k->apex_m, m->len_m);
		if (k->exit_m == k->entry_m)
			return bad_model(err, "a corner's entry_dist_m equals its exit_dist_m");
		k->index = json_is_integer(idx) ? json_integer_value(idx) : (json_int_t)i + 1;
		k->direction = json_is_string(dir) ? json_string_value(dir) : NULL;
		m->bound[m->nbound++] = (struct bound){ k->entry_m, m->ncorners, false };
		m->bound[m->nbound++] = (struct bound){ k->exit_m, m->ncorners, true };
		m->ncorners++;
	}
	qsort(m->bound, (size_t)m->nbound, sizeof *m->bound, cmp_bound);
	return 0;
}

static int model_load(struct model *m, const json_t *tm, struct an_err *err)
{
	const json_t *name = json_object_get(tm, "track_name");

	memset(m, 0, sizeof *m);
	if (!json_is_object(tm))
		return bad_model(err, "not a JSON object");
	m->track_name = json_is_string(name) ? json_string_value(name) : NULL;
	if (model_line(m, tm, err) || model_corners(m, tm, err))
		return -1;
	return 0;
}

/* ---- projection onto the centre line ---- */

static double seg_d2(const struct seg *s, double x, double z, double *t)
{
	double px = x - s->ax, pz = z - s->az;
	double u = (px * s->dx + pz * s->dz) * s->inv_len2;

	u = u < 0.0 ? 0.0 : u > 1.0 ? 1.0 : u;
	px -= u * s->dx;
	pz -= u * s->dz;
	*t = u;
	return px * px + pz * pz;
}

static int seg_wrap(const struct model *m, int i)
{
	return i < 0 ? i + m->nseg : i >= m->nseg ? i - m->nseg : i;
}

static int nearest_all(const struct model *m, double x, double z)
{
	double best = HUGE_VAL, t;
	int at = 0;

	for (int i = 0; i < m->nseg; i++) {
		double d = seg_d2(&m->seg[i], x, z, &t);

		if (d < best) {
			best = d;
			at = i;
		}
	}
	return at;
}

/* From segment s, step to a nearer segment while there is one: ahead up to
 * GEN_CLIMB_LOOK segments (past a small kink of the line), behind one.
 * Strictly decreasing, so it ends; a few segment tests per frame. Returns
 * the segment, its squared distance in *d2 and the foot's parameter in *t. */
static int climb(const struct model *m, int s, double x, double z, double *d2, double *t)
{
	double best = seg_d2(&m->seg[s], x, z, t), d, u;

	for (int steps = 0; steps < m->nseg; steps++) {
		int j = -1;

		for (int k = 1; k <= GEN_CLIMB_LOOK && j < 0; k++) {
			d = seg_d2(&m->seg[seg_wrap(m, s + k)], x, z, &u);
			if (d < best)
				j = seg_wrap(m, s + k);
		}
		if (j < 0) {
			d = seg_d2(&m->seg[seg_wrap(m, s - 1)], x, z, &u);
			if (d < best)
				j = seg_wrap(m, s - 1);
		}
		if (j < 0)
			break;
		best = d;
		*t = u;
		s = j;
	}
	*d2 = best;
	return s;
}

/*
 * Where along segment i (0..1) the point (x, z) lies on a smooth line
 * through the vertices: the t where (P - A - t D) is normal to the tangent
 * interpolated between the vertices, (1 - t) T_A + t T_B. Projecting onto
 * the chords instead makes the distance of a car off the centre line jump at
 * every vertex of a corner (by about offset x half the vertex angle: 0.6 m
 * for a car 6 m off a radius-25 corner sampled every 5 m; 0.25 m this way).
 * The condition is the quadratic f(t) = W.T_A + (W.E - D.T_A) t - (D.E) t^2
 * = 0 (W = P - A, E = T_B - T_A), nearly linear: one Newton step from the
 * chord projection solves it to well under a millimetre for segments that
 * turn by less than ~30 degrees. Returns -1 / 2 when the point lies before /
 * beyond the segment, NAN when the step is undefined.
 */
static double smooth_t(const struct model *m, int i, double x, double z)
{
	const struct seg *s = &m->seg[i];
	double wx = x - s->ax, wz = z - s->az;
	double t = (wx * s->dx + wz * s->dz) * s->inv_len2;
	double c = wx * s->tx + wz * s->tz, b = wx * s->ex + wz * s->ez - s->d_t;
	double slope = b - 2.0 * s->d_e * t;

	if (slope == 0.0)
		return NAN;
	t -= (c + (b - s->d_e * t) * t) / slope;
	return !(t >= 0.0) ? (isnan(t) ? NAN : -1.0) : t > 1.0 ? 2.0 : t;
}

/* Distance along the line of a point whose nearest segment is i (foot
 * parameter t on the chord): the smooth-line position on i or, when the
 * point lies beyond i's end on the smooth line, on the neighbour. */
static double along_of(const struct model *m, int i, double t, double x, double z)
{
	double u = m->seg[i].straight ? t : smooth_t(m, i, x, z), along;

	if (u < 0.0 || u > 1.0) {
		int j = seg_wrap(m, u < 0.0 ? i - 1 : i + 1);
		double v = smooth_t(m, j, x, z);

		if (v >= 0.0 && v <= 1.0) {
			i = j;
			u = v;
		} else {
			u = u < 0.0 ? 0.0 : 1.0; /* between the two: the vertex itself */
		}
	} else if (isnan(u)) {
		u = t;
	}
	along = m->seg[i].d0_m + u * m->seg[i].len_m;
	return along >= m->len_m ? along - m->len_m : along;
}

enum source { SRC_NONE, SRC_POSITION, SRC_SPLINE };

/* Where one run's car is along the centre line, and the corners it is in. */
struct follow {
	enum source src;
	/* projection */
	bool placed, lost;
	int seg, since_full;
	double x, z;
	/* progress since the last restart */
	bool have;
	struct pw_frame prev; /* the last followed frame's clocks (see keep_prev) */
	double along_m;       /* last distance, [0, len) */
	double u_m, hw_m;     /* unwrapped distance, furthest reached */
	double clk_s, typical_dt_s;
	float v_kmh;     /* NAN = unknown */
	int next;        /* next boundary ahead of hw_m ... */
	double next_u_m; /* ... at this unwrapped distance */
};

static bool has(const struct pw_frame *f, uint64_t bit)
{
	return (f->present & bit) != 0;
}

static bool paused(const struct pw_frame *f)
{
	return (f->flags_known & FRAME_FLAG_PAUSED) && (f->flags & FRAME_FLAG_PAUSED);
}

static bool frac_of(const struct pw_frame *f, double *frac)
{
	double v;

	if (has(f, FRAME_P_SPLINE) && isfinite(f->spline))
		v = f->spline;
	else if (has(f, FRAME_P_LAP_DIST) && has(f, FRAME_P_TRACK_LEN) && isfinite(f->lap_dist_m) &&
		 isfinite(f->track_len_m) && f->track_len_m > 1.0f)
		v = (double)f->lap_dist_m / f->track_len_m;
	else
		return false;
	*frac = v - floor(v);
	return true;
}

static bool pos_ok(const struct pw_frame *f)
{
	return has(f, FRAME_P_POS) && isfinite(f->pos_m[0]) && isfinite(f->pos_m[2]);
}

static enum source source_of(const struct an_run *r, struct pw_frame *buf)
{
	enum source src = SRC_NONE;
	double v;

	memset(buf, 0, AN_WINDOW * sizeof *buf);
	for (size_t i0 = 0; i0 < r->n; i0 += AN_WINDOW) {
		size_t n = r->n - i0 < AN_WINDOW ? r->n - i0 : AN_WINDOW;
		const struct pw_frame *f = an_window(r, i0, n, buf);

		for (size_t i = 0; i < n; i++) {
			if (pos_ok(&f[i]))
				return SRC_POSITION;
			if (frac_of(&f[i], &v))
				src = SRC_SPLINE;
		}
	}
	return src;
}

struct gen {
	const struct an_input *in;
	struct model m;
	bool with_model, oom;
	struct vec laps;          /* struct lap_rec */
	struct vec pass;          /* struct passage */
	struct open_corner *open; /* per model corner */
	int *open_list, nopen;
	size_t frames, runs;
	size_t located, off_line;
	unsigned sources;     /* 1 << enum source of the runs */
	struct pw_frame *buf; /* AN_WINDOW frames: a run given as columns, made whole */
};

/* Distance of f along the centre line; false when unknown or off the line. */
static bool locate(struct gen *g, struct follow *w, const struct pw_frame *f, double *along)
{
	const struct model *m = &g->m;
	double x, z, t, d2, frac;
	bool jumped;

	if (w->src == SRC_SPLINE) {
		if (!frac_of(f, &frac))
			return false;
		*along = frac * m->len_m;
		return true;
	}
	if (!pos_ok(f))
		return false;
	x = f->pos_m[0];
	z = f->pos_m[2];
	jumped = w->placed &&
		 (x - w->x) * (x - w->x) + (z - w->z) * (z - w->z) > GEN_JUMP_M * GEN_JUMP_M;
	if (!w->placed || jumped || (w->lost && ++w->since_full >= GEN_RELOCK_FRAMES)) {
		w->seg = nearest_all(m, x, z);
		w->since_full = 0;
		d2 = seg_d2(&m->seg[w->seg], x, z, &t);
	} else {
		w->seg = climb(m, w->seg, x, z, &d2, &t);
	}
	w->placed = true;
	w->x = x;
	w->z = z;
	w->lost = d2 > GEN_LOST_M * GEN_LOST_M;
	if (w->lost) {
		g->off_line++;
		return false;
	}
	*along = along_of(m, w->seg, t, x, z);
	return true;
}

/* ---- corner passages ---- */

struct open_corner {
	bool open;
	size_t entry_idx; /* frame after the entry crossing */
	double t_entry_s;
	float v_entry, v_min;
};

struct passage {
	size_t entry_idx;
	int corner;
	double time_s;
	float v_entry, v_min, v_exit;
};

static float min_known(float a, float b)
{
	if (isnan(a))
		return b;
	if (isnan(b))
		return a;
	return a < b ? a : b;
}

static float lerp_known(float a, float b, double w)
{
	if (isnan(a))
		return b;
	if (isnan(b))
		return a;
	return (float)(a + (b - a) * w);
}

static float speed_of(const struct pw_frame *f)
{
	if (has(f, FRAME_P_SPEED) && isfinite(f->speed_kmh))
		return f->speed_kmh;
	if (has(f, FRAME_P_VEL) && isfinite(f->vel_ms[0]) && isfinite(f->vel_ms[1]) &&
	    isfinite(f->vel_ms[2]))
		return (float)(3.6 * sqrt((double)f->vel_ms[0] * f->vel_ms[0] +
					  (double)f->vel_ms[1] * f->vel_ms[1] +
					  (double)f->vel_ms[2] * f->vel_ms[2]));
	return NAN;
}

static void drop_open(struct gen *g)
{
	for (int k = 0; k < g->nopen; k++)
		g->open[g->open_list[k]].open = false;
	g->nopen = 0;
}

static void open_corner(struct gen *g, int c, size_t idx, double t, float v)
{
	struct open_corner *o = &g->open[c];

	if (!o->open)
		g->open_list[g->nopen++] = c;
	*o = (struct open_corner){ true, idx, t, v, v };
}

static void close_corner(struct gen *g, int c, double t, float v)
{
	struct open_corner *o = &g->open[c];
	struct passage *p;

	if (!o->open)
		return;
	o->open = false;
	for (int k = 0; k < g->nopen; k++)
		if (g->open_list[k] == c) {
			g->open_list[k] = g->open_list[--g->nopen];
			break;
		}
	p = vec_push(&g->pass);
	if (!p) {
		g->oom = true;
		return;
	}
	*p = (struct passage){ o->entry_idx,           c, t - o->t_entry_s, o->v_entry,
			       min_known(o->v_min, v), v };
}

/* Point next / next_u_m at the first boundary beyond unwrapped distance u. */
static void seek_next(const struct model *m, struct follow *w, double u)
{
	double base = floor(u / m->len_m) * m->len_m, at = u - base;
	int i = 0;

	if (m->nbound == 0) {
		w->next_u_m = HUGE_VAL;
		return;
	}
	while (i < m->nbound && m->bound[i].at_m <= at)
		i++;
	if (i == m->nbound) {
		i = 0;
		base += m->len_m;
	}
	w->next = i;
	w->next_u_m = base + m->bound[i].at_m;
}

/* Boundaries in (hw, u1]: the step from (u_m, clk_s, v_kmh) to (u1, +dt, v1). */
static void cross(struct gen *g, struct follow *w, size_t idx, double u1, double dt, float v1)
{
	const struct model *m = &g->m;

	while (w->next_u_m <= u1) {
		const struct bound *b = &m->bound[w->next];
		double a = (w->next_u_m - w->u_m) / (u1 - w->u_m);
		double t = w->clk_s + a * dt;
		float v = lerp_known(w->v_kmh, v1, a);

		if (b->exit)
			close_corner(g, b->corner, t, v);
		else
			open_corner(g, b->corner, idx, t, v);
		if (++w->next == m->nbound) {
			w->next = 0;
			w->next_u_m += m->len_m - b->at_m + m->bound[0].at_m;
		} else {
			w->next_u_m += m->bound[w->next].at_m - b->at_m;
		}
	}
}

/* What step_dt and follow_frame read of the previous followed frame, kept
 * by value: a run given as columns is read a window of frames at a time. */
static void keep_prev(struct follow *w, const struct pw_frame *f)
{
	w->prev.present = f->present;
	w->prev.game_session = f->game_session;
	w->prev.game_time_s = f->game_time_s;
	w->prev.t_ns = f->t_ns;
	w->prev.lap_time_ms = f->lap_time_ms;
	w->prev.lap = f->lap;
}

static bool lap_clock_runs(const struct pw_frame *p, const struct pw_frame *f)
{
	if (!has(p, FRAME_P_LAP_TIME) || !has(f, FRAME_P_LAP_TIME) || p->lap_time_ms < 0 ||
	    f->lap_time_ms < p->lap_time_ms)
		return false;
	return !has(p, FRAME_P_LAP) || !has(f, FRAME_P_LAP) || p->lap == f->lap;
}

/* Clock step from the previous frame to f, s; false when unknown or a gap. */
static bool step_dt(struct follow *w, const struct pw_frame *f, double *dt)
{
	const struct pw_frame *p = &w->prev;
	bool measured = true;
	double d;

	if (has(f, FRAME_P_GAME_TIME) && has(p, FRAME_P_GAME_TIME))
		d = f->game_time_s - p->game_time_s;
	else if (lap_clock_runs(p, f))
		d = (f->lap_time_ms - p->lap_time_ms) / 1000.0;
	else if (f->t_ns && p->t_ns)
		d = (double)(int64_t)((uint64_t)f->t_ns - (uint64_t)p->t_ns) * 1e-9;
	else if (has(p, FRAME_P_LAP_TIME) && has(f, FRAME_P_LAP_TIME))
		d = w->typical_dt_s, measured = false; /* the lap clock restarted at the line */
	else
		return false;
	if (!(d >= 0.0) || d > GEN_GAP_S)
		return false;
	if (measured && d > 0.0)
		w->typical_dt_s = d;
	*dt = d;
	return true;
}

static void restart(struct gen *g, struct follow *w, const struct pw_frame *f, double along,
		    float v)
{
	drop_open(g);
	w->have = true;
	keep_prev(w, f);
	w->along_m = w->u_m = w->hw_m = along;
	w->v_kmh = v;
	seek_next(&g->m, w, along);
}

static void follow_frame(struct gen *g, struct follow *w, const struct pw_frame *f, size_t idx)
{
	double along, dt, du, u1, half = 0.5 * g->m.len_m;
	float v1;

	if (w->src == SRC_NONE || f->version != FRAME_VERSION || paused(f))
		return;
	if (!locate(g, w, f, &along)) {
		drop_open(g);
		w->have = false;
		return;
	}
	g->located++;
	v1 = speed_of(f);
	if (!w->have || f->game_session != w->prev.game_session || !step_dt(w, f, &dt)) {
		restart(g, w, f, along, v1);
		return;
	}
	du = along - w->along_m;
	du = du > half ? du - g->m.len_m : du < -half ? du + g->m.len_m : du;
	if (fabs(du) > GEN_JUMP_M) {
		restart(g, w, f, along, v1);
		return;
	}
	u1 = w->u_m + du;
	if (u1 > w->hw_m) {
		cross(g, w, idx, u1, dt, v1);
		w->hw_m = u1;
	} else if (u1 < w->hw_m - GEN_BACK_M) {
		drop_open(g);
		w->hw_m = u1;
		seek_next(&g->m, w, u1);
	}
	for (int k = 0; k < g->nopen; k++) {
		struct open_corner *o = &g->open[g->open_list[k]];

		o->v_min = min_known(o->v_min, v1);
	}
	w->u_m = u1;
	w->clk_s += dt;
	w->along_m = along;
	w->v_kmh = v1;
	keep_prev(w, f);
}

/* ---- laps ---- */

struct lap_rec {
	struct lap lap; /* start_seq / end_seq hold frame index + 1 */
	size_t run;
	size_t plo, phi; /* its corner passages: pass[plo, phi) */
};

static void take_event(struct gen *g, size_t run, size_t first_rec, const struct lap_event *ev)
{
	struct lap_rec *recs = g->laps.p, *r;

	if (ev->kind != LAP_COMPLETED && ev->kind != LAP_INVALIDATED)
		return;
	for (size_t i = g->laps.n; i-- > first_rec;) {
		if (recs[i].lap.number == ev->lap.number &&
		    recs[i].lap.game_session == ev->lap.game_session) {
			recs[i].lap = ev->lap;
			return;
		}
	}
	r = vec_push(&g->laps);
	if (!r) {
		g->oom = true;
		return;
	}
	*r = (struct lap_rec){ .lap = ev->lap, .run = run };
}

static int cmp_pass(const void *a, const void *b)
{
	const struct passage *x = a, *y = b;

	return x->entry_idx < y->entry_idx ? -1 : x->entry_idx > y->entry_idx;
}

/* First passage in [lo, hi) with entry_idx >= idx. */
static size_t pass_bound(const struct passage *p, size_t lo, size_t hi, size_t idx)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p[mid].entry_idx < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Give each lap of the run its passages (those entered within its frames). */
static void attach_passages(struct gen *g, size_t first_rec, size_t first_pass)
{
	struct passage *p = g->pass.p;
	struct lap_rec *recs = g->laps.p;

	if (g->pass.n > first_pass)
		qsort(p + first_pass, g->pass.n - first_pass, sizeof *p, cmp_pass);
	for (size_t i = first_rec; i < g->laps.n; i++) {
		size_t first = recs[i].lap.start_seq - 1, last = recs[i].lap.end_seq - 1;

		recs[i].plo = pass_bound(p, first_pass, g->pass.n, first);
		recs[i].phi = pass_bound(p, recs[i].plo, g->pass.n, last + 1);
	}
}

static void feed_tracker(struct gen *g, struct laps *tr, const struct pw_frame *f, size_t run,
			 size_t first_rec)
{
	struct lap_event ev[LAPS_MAX_EVENTS];
	int n = laps_feed(tr, f, ev, LAPS_MAX_EVENTS);

	for (int i = 0; i < n; i++)
		take_event(g, run, first_rec, &ev[i]);
}

/* Index of the frame with this seq in the run (seqs strictly increasing), + 1;
 * 0 when there is none. */
static uint64_t index_of_seq(const struct an_run *r, uint64_t seq)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (an_seq(r, mid) < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->n && an_seq(r, lo) == seq ? lo + 1 : 0;
}

/*
 * One pass over a run: the lap tracker and the corner follower. Lap records
 * name their frames by index + 1. by_index feeds the tracker copies whose
 * seq is that; otherwise it reads the frames in place (no 384-byte copy per
 * frame) and seqs are mapped back to indices afterwards, which needs
 * strictly increasing seqs: false, with nothing kept, when they are not.
 */
static bool analyze_run(struct gen *g, size_t run, bool by_index)
{
	const struct an_run *r = &g->in->runs[run];
	struct lap_rec *recs;
	size_t first_rec = g->laps.n, first_pass = g->pass.n;
	struct follow w = { .src = g->with_model ? source_of(r, g->buf) : SRC_NONE,
			    .typical_dt_s = GEN_DEFAULT_DT_S };
	struct laps *tr = laps_new();
	size_t frames = 0;
	uint64_t last_seq = 0;

	if (!tr) {
		g->oom = true;
		return true;
	}
	drop_open(g);
	memset(g->buf, 0, AN_WINDOW * sizeof *g->buf); /* an_window writes what the run holds */
	for (size_t i0 = 0; i0 < r->n; i0 += AN_WINDOW) {
		size_t n = r->n - i0 < AN_WINDOW ? r->n - i0 : AN_WINDOW;
		const struct pw_frame *win = an_window(r, i0, n, g->buf);

		for (size_t k = 0; k < n; k++) {
			const struct pw_frame *f = &win[k];
			size_t i = i0 + k;

			if (by_index) {
				struct pw_frame c = *f;

				c.seq = i + 1;
				feed_tracker(g, tr, &c, run, first_rec);
			} else if (i > 0 && f->seq <= last_seq) {
				laps_free(tr);
				return false;
			} else {
				feed_tracker(g, tr, f, run, first_rec);
			}
			last_seq = f->seq;
			frames += f->version == FRAME_VERSION && !paused(f);
			follow_frame(g, &w, f, i);
		}
	}
	feed_tracker(g, tr, NULL, run, first_rec);
	laps_free(tr);
	drop_open(g);
	recs = g->laps.p;
	for (size_t i = first_rec; !by_index && i < g->laps.n; i++) {
		recs[i].lap.start_seq = index_of_seq(r, recs[i].lap.start_seq);
		recs[i].lap.end_seq = index_of_seq(r, recs[i].lap.end_seq);
	}
	attach_passages(g, first_rec, first_pass);
	g->sources |= 1u << w.src;
	g->frames += frames;
	return true;
}

/* ---- output ---- */

static void put(struct gen *g, json_t *o, const char *key, json_t *v)
{
	if (!v || json_object_set_new(o, key, v) != 0)
		g->oom = true;
}

static void push(struct gen *g, json_t *a, json_t *v)
{
	if (!v || json_array_append_new(a, v) != 0)
		g->oom = true;
}

static json_t *ms_or_null(int64_t ms)
{
	return ms >= 0 ? json_integer((json_int_t)ms) : json_null();
}

static json_t *round_to(double v, double unit)
{
	return isfinite(v) ? json_real(round(v / unit) * unit) : json_null();
}

static json_t *kmh_json(float v)
{
	return v >= 0.0f && isfinite(v) ? round_to(v, 0.01) : json_null();
}

static const char *run_id(const struct gen *g, size_t run)
{
	const char *id = g->in->runs[run].run_id;

	return id ? id : "";
}

static json_t *seq_json(const struct gen *g, size_t run, uint64_t idx1)
{
	const struct an_run *r = &g->in->runs[run];

	if (idx1 == 0 || idx1 > r->n)
		return json_null();
	return json_integer((json_int_t)an_seq(r, idx1 - 1));
}

static json_t *lap_json(struct gen *g, const struct lap_rec *r)
{
	const struct lap *l = &r->lap;
	json_t *o = json_object(), *s = json_array();

	if (!o || !s) {
		json_decref(o);
		json_decref(s);
		return NULL;
	}
	put(g, o, "run_id", json_string(run_id(g, r->run)));
	put(g, o, "number", json_integer(l->number));
	put(g, o, "time_ms", ms_or_null(l->time_ms));
	put(g, o, "measured_ms", ms_or_null(l->measured_ms));
	put(g, o, "valid", json_boolean(l->valid));
	put(g, o, "invalid_reason", json_string(lap_reason_name(l->invalid_reason)));
	for (int i = 0; i < 3; i++)
		push(g, s, ms_or_null(l->sector_ms[i]));
	put(g, o, "sector_ms", s);
	put(g, o, "min_speed_kmh", kmh_json(l->min_speed_kmh));
	put(g, o, "max_speed_kmh", kmh_json(l->max_speed_kmh));
	put(g, o, "start_seq", seq_json(g, r->run, l->start_seq));
	put(g, o, "end_seq", seq_json(g, r->run, l->end_seq));
	put(g, o, "frames", json_integer(l->frames));
	return o;
}

static bool timed_valid(const struct lap_rec *r)
{
	return r->lap.valid && r->lap.time_ms > 0;
}

static const struct lap_rec *best_lap(const struct gen *g)
{
	const struct lap_rec *recs = g->laps.p, *best = NULL;

	for (size_t i = 0; i < g->laps.n; i++)
		if (timed_valid(&recs[i]) && (!best || recs[i].lap.time_ms < best->lap.time_ms))
			best = &recs[i];
	return best;
}

static void put_stats(struct gen *g, json_t *root)
{
	const struct lap_rec *recs = g->laps.p;
	double sum = 0.0, sq = 0.0, lo = HUGE_VAL, hi = -HUGE_VAL, mean, sd;
	size_t n = 0;
	json_t *c = json_object();

	for (size_t i = 0; i < g->laps.n; i++) {
		double t = recs[i].lap.time_ms;

		if (!timed_valid(&recs[i]))
			continue;
		n++;
		sum += t;
		lo = fmin(lo, t);
		hi = fmax(hi, t);
	}
	mean = n ? sum / n : NAN;
	for (size_t i = 0; i < g->laps.n; i++)
		if (timed_valid(&recs[i]))
			sq += (recs[i].lap.time_ms - mean) * (recs[i].lap.time_ms - mean);
	sd = n >= 2 ? sqrt(sq / (double)(n - 1)) : NAN;
	put(g, root, "valid_lap_count", json_integer((json_int_t)n));
	put(g, root, "average_lap_ms", n ? json_integer((json_int_t)llround(mean)) : json_null());
	if (!c) {
		g->oom = true;
		return;
	}
	put(g, c, "laps", json_integer((json_int_t)n));
	put(g, c, "stddev_ms", round_to(sd, 0.1));
	put(g, c, "spread_ms", n >= 2 ? json_integer((json_int_t)llround(hi - lo)) : json_null());
	put(g, c, "score",
	    n >= 2 ? round_to(fmin(fmax(100.0 - GEN_SCORE_PER_CV * sd / mean, 0.0), 100.0), 0.1)
		   : json_null());
	put(g, root, "consistency", c);
}

static json_t *lap_ref_json(struct gen *g, const struct lap_rec *r, int64_t time_ms)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	put(g, o, "run_id", json_string(run_id(g, r->run)));
	put(g, o, "number", json_integer(r->lap.number));
	put(g, o, "time_ms", json_integer((json_int_t)time_ms));
	return o;
}

/* The lap's passage of corner c (the last when it has two), or NULL. */
static const struct passage *passage_of(const struct gen *g, const struct lap_rec *r, int c)
{
	const struct passage *p = g->pass.p;

	for (size_t i = r->phi; i-- > r->plo;)
		if (p[i].corner == c)
			return &p[i];
	return NULL;
}

static json_t *corner_lap_json(struct gen *g, const struct lap_rec *r, const struct passage *p,
			       const struct passage *ref)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	put(g, o, "run_id", json_string(run_id(g, r->run)));
	put(g, o, "number", json_integer(r->lap.number));
	put(g, o, "valid", json_boolean(r->lap.valid));
	put(g, o, "entry_speed_kmh", kmh_json(p->v_entry));
	put(g, o, "min_speed_kmh", kmh_json(p->v_min));
	put(g, o, "exit_speed_kmh", kmh_json(p->v_exit));
	put(g, o, "time_ms", json_integer((json_int_t)llround(p->time_s * 1000.0)));
	put(g, o, "time_lost_ms",
	    ref ? json_integer((json_int_t)llround((p->time_s - ref->time_s) * 1000.0))
		: json_null());
	return o;
}

static json_t *corner_json(struct gen *g, int c, const struct lap_rec *best)
{
	const struct corner *k = &g->m.corner[c];
	const struct lap_rec *recs = g->laps.p, *fast = NULL;
	const struct passage *ref = best ? passage_of(g, best, c) : NULL, *fp = NULL;
	json_t *o = json_object(), *laps = json_array();

	if (!o || !laps) {
		json_decref(o);
		json_decref(laps);
		return NULL;
	}
	put(g, o, "index", json_integer(k->index));
	put(g, o, "direction", k->direction ? json_string(k->direction) : json_null());
	put(g, o, "entry_dist_m", round_to(k->entry_m, 0.01));
	put(g, o, "apex_dist_m", round_to(k->apex_m, 0.01));
	put(g, o, "exit_dist_m", round_to(k->exit_m, 0.01));
	for (size_t i = 0; i < g->laps.n; i++) {
		const struct passage *p = passage_of(g, &recs[i], c);

		if (!p)
			continue;
		push(g, laps, corner_lap_json(g, &recs[i], p, ref));
		if (recs[i].lap.valid && (!fp || p->time_s < fp->time_s)) {
			fp = p;
			fast = &recs[i];
		}
	}
	put(g, o, "fastest",
	    fast ? lap_ref_json(g, fast, llround(fp->time_s * 1000.0)) : json_null());
	put(g, o, "laps", laps);
	return o;
}

static const char *source_name(unsigned sources)
{
	sources &= ~(1u << SRC_NONE);
	if (sources == (1u << SRC_POSITION))
		return "position";
	if (sources == (1u << SRC_SPLINE))
		return "spline";
	return sources ? "position+spline" : "none";
}

static void put_corners(struct gen *g, json_t *root, const struct lap_rec *best)
{
	json_t *tm = json_object(), *cs = json_array();

	if (!tm || !cs) {
		json_decref(tm);
		json_decref(cs);
		g->oom = true;
		return;
	}
	put(g, tm, "track_name", g->m.track_name ? json_string(g->m.track_name) : json_null());
	put(g, tm, "length_m", round_to(g->m.len_m, 0.01));
	put(g, tm, "corner_count", json_integer(g->m.ncorners));
	put(g, tm, "distance_source", json_string(source_name(g->sources)));
	put(g, tm, "frames_located", json_integer((json_int_t)g->located));
	put(g, tm, "frames_off_line", json_integer((json_int_t)g->off_line));
	put(g, root, "track_model", tm);
	for (int c = 0; c < g->m.ncorners; c++)
		push(g, cs, corner_json(g, c, best));
	put(g, root, "corners", cs);
}

static json_t *result(struct gen *g)
{
	const struct lap_rec *recs = g->laps.p, *best = best_lap(g);
	json_t *root = json_object(), *laps = json_array();

	if (!root || !laps) {
		json_decref(root);
		json_decref(laps);
		return NULL;
	}
	for (size_t i = 0; i < g->laps.n; i++)
		push(g, laps, lap_json(g, &recs[i]));
	put(g, root, "laps", laps);
	put(g, root, "best_lap", best ? lap_ref_json(g, best, best->lap.time_ms) : json_null());
	if (best && json_is_object(json_object_get(root, "best_lap")))
		put(g, json_object_get(root, "best_lap"), "start_seq",
		    seq_json(g, best->run, best->lap.start_seq));
	put_stats(g, root);
	put(g, root, "runs_analyzed", json_integer((json_int_t)g->runs));
	put(g, root, "total_frames_analyzed", json_integer((json_int_t)g->frames));
	if (g->with_model)
		put_corners(g, root, best);
	if (g->oom) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* ---- entry point ---- */

static int prepare(struct gen *g, const struct an_input *in, struct an_err *err)
{
	memset(g, 0, sizeof *g);
	g->in = in;
	g->laps.size = sizeof(struct lap_rec);
	g->pass.size = sizeof(struct passage);
	if (!(g->buf = calloc(AN_WINDOW, sizeof *g->buf)))
		return no_memory(err);
	if (!in->track_model)
		return 0;
	g->with_model = true;
	if (model_load(&g->m, in->track_model, err))
		return -1;
	g->open = calloc((size_t)g->m.ncorners + 1, sizeof *g->open);
	g->open_list = calloc((size_t)g->m.ncorners + 1, sizeof *g->open_list);
	if (!g->open || !g->open_list)
		return no_memory(err);
	return 0;
}

static void release(struct gen *g)
{
	model_free(&g->m);
	free(g->open);
	free(g->open_list);
	free(g->laps.p);
	free(g->pass.p);
	free(g->buf);
}

/* The laps table as the engineer's laps: malloc'd, NULL when out of memory. */
static struct eng_lap *eng_laps_of(const struct gen *g, size_t *n)
{
	const struct lap_rec *recs = g->laps.p;
	struct eng_lap *laps = calloc(g->laps.n + 1, sizeof *laps);

	*n = 0;
	for (size_t i = 0; laps && i < g->laps.n; i++)
		if (recs[i].lap.start_seq >= 1 && recs[i].lap.end_seq >= recs[i].lap.start_seq)
			laps[(*n)++] = (struct eng_lap){ .run = recs[i].run,
							 .first = recs[i].lap.start_seq - 1,
							 .last = recs[i].lap.end_seq - 1,
							 .number = recs[i].lap.number };
	return laps;
}

json_t *an_general(const struct an_input *in, struct an_err *err)
{
	return an_general_laps(in, NULL, NULL, err);
}

json_t *an_general_laps(const struct an_input *in, struct eng_lap **eng_laps, size_t *nlaps,
			struct an_err *err)
{
	struct gen g;
	json_t *res = NULL;
	size_t frames = 0;

	if (!in || (in->nruns && !in->runs)) {
		an_fail(err, AN_E_BAD_INPUT, "no input, or runs missing");
		return NULL;
	}
	for (size_t r = 0; r < in->nruns; r++)
		frames += in->runs[r].frames || in->runs[r].cols ? in->runs[r].n : 0;
	if (frames == 0) {
		an_fail(err, AN_E_NO_DATA, "no frames in the session's %zu runs", in->nruns);
		return NULL;
	}
	if (prepare(&g, in, err))
		goto out;
	for (size_t r = 0; r < in->nruns && !g.oom; r++) {
		size_t laps = g.laps.n, pass = g.pass.n, located = g.located, off = g.off_line;

		if ((!in->runs[r].frames && !in->runs[r].cols) || in->runs[r].n == 0)
			continue;
		g.runs++;
		if (analyze_run(&g, r, false))
			continue;
		/* seqs not increasing: again, telling the tracker the frame indices */
		g.laps.n = laps;
		g.pass.n = pass;
		g.located = located;
		g.off_line = off;
		analyze_run(&g, r, true);
	}
	if (g.oom) {
		no_memory(err);
	} else if (g.laps.n == 0) {
		an_fail(err, AN_E_NO_DATA,
			"no lap completed in %zu frames of %zu runs (laps need the lap counter, the "
			"spline or the lap distance, and a crossing of the line)",
			g.frames, g.runs);
	} else if (!(res = result(&g))) {
		no_memory(err);
	} else if (eng_laps && !(*eng_laps = eng_laps_of(&g, nlaps))) {
		json_decref(res);
		res = NULL;
		no_memory(err);
	}
out:
	release(&g);
	return res;
}
