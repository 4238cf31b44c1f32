/* track.c - see track.h */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "capture/sim/track.h"

#define TRACK_WIDTH_M 12.0
#define TRACK_SECTORS 3
#define NODE_SPACING_M 1.0
#define SUBSTEP_M 0.05
#define CORNER_MIN_DEG 15.0
#define MAX_PIECES 64
#define MAX_CORNERS 16

/* Designed layout: straights (radius 0) and corners (radius, signed angle,
 * + right). Straight lengths are nominal; closure adjusts them slightly. */
struct layout_elem {
	double length_m;
	double radius_m;
	double angle_deg;
};

static const struct layout_elem layout[] = {
	{ 420, 0, 0 },                   /* start/finish, first half of the main straight */
	{ 0, 25, 100 },                  /* T1 */
	{ 250, 0, 0 },  { 0, 150, -35 }, /* T2 */
	{ 150, 0, 0 },  { 0, 60, 80 },   /* T3 */
	{ 300, 0, 0 },  { 0, 250, 35 },  /* T4 */
	{ 500, 0, 0 },                   /* back straight */
	{ 0, 40, -70 },                  /* T5 */
	{ 100, 0, 0 },  { 0, 90, 95 },   /* T6 */
	{ 200, 0, 0 },  { 0, 20, 125 },  /* T7 hairpin */
	{ 250, 0, 0 },  { 0, 200, -40 }, /* T8 */
	{ 250, 0, 0 },  { 0, 110, 45 },  /* T9 */
	{ 150, 0, 0 },  { 0, 70, 25 },   /* T10 */
	{ 420, 0, 0 },                   /* main straight, second half */
};
#define LAYOUT_LEN (sizeof layout / sizeof layout[0])

/* A piece has curvature linear in distance: k0 at its start, k1 at its end. */
struct piece {
	double s0, len, k0, k1;
	double psi0, x0, z0;
	int node0, nodes; /* table nodes [node0, node0 + nodes) */
};

struct node {
	double x, z;
};

struct track {
	struct piece piece[MAX_PIECES];
	int pieces;
	struct node *node;
	int nodes;
	double length_m;
	struct track_corner corner[MAX_CORNERS];
	int corners;
	double sector_start_m[TRACK_SECTORS];
};

static double transition_len(double radius_m, double angle_rad)
{
	double len = fmin(fmax(0.5 * radius_m, 8.0), 40.0);

	return fmin(len, 0.4 * angle_rad * radius_m);
}

static int add_piece(struct track *t, double len, double k0, double k1)
{
	if (t->pieces == MAX_PIECES)
		return -1;
	t->piece[t->pieces++] = (struct piece){ .len = len, .k0 = k0, .k1 = k1 };
	return 0;
}

static int expand_layout(struct track *t)
{
	for (size_t i = 0; i < LAYOUT_LEN; i++) {
		const struct layout_elem *e = &layout[i];
		double ang = fabs(e->angle_deg) * M_PI / 180.0, k, lt;

		if (e->radius_m == 0.0) {
			if (add_piece(t, e->length_m, 0.0, 0.0))
				return -1;
			continue;
		}
		k = (e->angle_deg > 0 ? 1.0 : -1.0) / e->radius_m;
		lt = transition_len(e->radius_m, ang);
		if (add_piece(t, lt, 0.0, k) || add_piece(t, ang * e->radius_m - lt, k, k) ||
		    add_piece(t, lt, k, 0.0))
			return -1;
	}
	return 0;
}

static double piece_heading(const struct piece *p, double u)
{
	return p->psi0 + p->k0 * u + (p->k1 - p->k0) * u * u / (2.0 * p->len);
}

/* Advance (x, z) along piece p from u0 to u1 in substeps: each substep is the
 * chord of an arc with the substep's heading change (exact for arcs). */
static void piece_advance(const struct piece *p, double u0, double u1, double *x, double *z)
{
	int n = (int)ceil((u1 - u0) / SUBSTEP_M);

	for (int i = 0; i < n; i++) {
		double a = u0 + (u1 - u0) * i / n, b = u0 + (u1 - u0) * (i + 1) / n;
		double pa = piece_heading(p, a), pb = piece_heading(p, b);
		double half = 0.5 * (pb - pa), mid = piece_heading(p, 0.5 * (a + b));
		double chord = (b - a) * (fabs(half) > 1e-12 ? sin(half) / half : 1.0);

		*x += chord * sin(mid);
		*z += chord * cos(mid);
	}
}

/* Lay the pieces end to end from the origin; returns the end point. */
static void chain_pieces(struct track *t, double *x_end, double *z_end)
{
	double s = 0.0, psi = 0.0, x = 0.0, z = 0.0;

	for (int i = 0; i < t->pieces; i++) {
		struct piece *p = &t->piece[i];

		p->s0 = s;
		p->psi0 = psi;
		p->x0 = x;
		p->z0 = z;
		piece_advance(p, 0.0, p->len, &x, &z);
		psi = piece_heading(p, p->len);
		s += p->len;
	}
	t->length_m = s;
	*x_end = x;
	*z_end = z;
}

/*
 * Close the loop: change every straight's length by w_k * (a_k . l), the
 * least-norm correction weighted by w_k = length, where a_k is the straight's
 * direction and l solves (sum w_k a_k a_k^T) l = -end.
 */
static void close_loop(struct track *t)
{
	double ex, ez, m00 = 0, m01 = 0, m11 = 0, det, l0, l1;

	chain_pieces(t, &ex, &ez);
	for (int i = 0; i < t->pieces; i++) {
		const struct piece *p = &t->piece[i];
		double sx = sin(p->psi0), cz = cos(p->psi0);

		if (p->k0 != 0.0 || p->k1 != 0.0)
			continue;
		m00 += p->len * sx * sx;
		m01 += p->len * sx * cz;
		m11 += p->len * cz * cz;
	}
	det = m00 * m11 - m01 * m01;
	l0 = (-ex * m11 + ez * m01) / det;
	l1 = (-ez * m00 + ex * m01) / det;
	for (int i = 0; i < t->pieces; i++) {
		struct piece *p = &t->piece[i];

		if (p->k0 == 0.0 && p->k1 == 0.0)
			p->len += p->len * (sin(p->psi0) * l0 + cos(p->psi0) * l1);
	}
	chain_pieces(t, &ex, &ez);
}

static int build_nodes(struct track *t)
{
	int total = 0;

	for (int i = 0; i < t->pieces; i++) {
		t->piece[i].node0 = total;
		t->piece[i].nodes = (int)ceil(t->piece[i].len / NODE_SPACING_M);
		total += t->piece[i].nodes;
	}
	t->node = calloc((size_t)total, sizeof *t->node);
	if (!t->node)
		return -1;
	t->nodes = total;
	for (int i = 0; i < t->pieces; i++) {
		const struct piece *p = &t->piece[i];
		double x = p->x0, z = p->z0, h = p->len / p->nodes;

		for (int j = 0; j < p->nodes; j++) {
			t->node[p->node0 + j] = (struct node){ x, z };
			piece_advance(p, j * h, (j + 1) * h, &x, &z);
		}
	}
	return 0;
}

static int curved(const struct piece *p)
{
	return p->k0 != 0.0 || p->k1 != 0.0;
}

static int bend_sign(const struct piece *p)
{
	return p->k0 + p->k1 > 0.0 ? 1 : -1;
}

/* Group contiguous curved pieces bending the same way into corners. */
static void find_corners(struct track *t)
{
	int i = 0;

	while (i < t->pieces) {
		int j = i, dir;
		double angle = 0.0, kmax = 0.0, apex_a = 0.0, apex_b = 0.0;

		if (!curved(&t->piece[i])) {
			i++;
			continue;
		}
		dir = bend_sign(&t->piece[i]);
		for (; j < t->pieces && curved(&t->piece[j]); j++) {
			const struct piece *p = &t->piece[j];
			double k = fmax(fabs(p->k0), fabs(p->k1));

			if (bend_sign(p) != dir)
				break;
			angle += 0.5 * (p->k0 + p->k1) * p->len;
			if (k > kmax + 1e-12) {
				kmax = k;
				apex_a = p->s0;
				apex_b = p->s0 + p->len;
			} else if (k > kmax - 1e-12 && fabs(p->k0 - p->k1) < 1e-12) {
				apex_b = p->s0 + p->len;
			}
		}
		if (fabs(angle) * 180.0 / M_PI >= CORNER_MIN_DEG && t->corners < MAX_CORNERS) {
			struct track_corner *c = &t->corner[t->corners++];

			c->index = t->corners;
			c->direction = dir;
			c->start_m = t->piece[i].s0;
			c->end_m = t->piece[j - 1].s0 + t->piece[j - 1].len;
			c->apex_m = 0.5 * (apex_a + apex_b);
			c->angle_deg = fabs(angle) * 180.0 / M_PI;
			c->min_radius_m = 1.0 / kmax;
		}
		i = j;
	}
}

struct track *track_new(void)
{
	struct track *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	if (expand_layout(t) < 0)
		goto fail;
	close_loop(t);
	if (build_nodes(t) < 0)
		goto fail;
	find_corners(t);
	for (int i = 0; i < TRACK_SECTORS; i++)
		t->sector_start_m[i] = round(t->length_m * i / TRACK_SECTORS);
	return t;
fail:
	track_free(t);
	return NULL;
}

void track_free(struct track *t)
{
	if (!t)
		return;
	free(t->node);
	free(t);
}

const char *track_name(const struct track *t)
{
	(void)t;
	return "pitwall_ring";
}

const char *track_layout(const struct track *t)
{
	(void)t;
	return "gp";
}

double track_length_m(const struct track *t)
{
	return t->length_m;
}

double track_width_m(const struct track *t)
{
	(void)t;
	return TRACK_WIDTH_M;
}

int track_corner_count(const struct track *t)
{
	return t->corners;
}

const struct track_corner *track_corner(const struct track *t, int i)
{
	return i >= 0 && i < t->corners ? &t->corner[i] : NULL;
}

int track_sector_count(const struct track *t)
{
	(void)t;
	return TRACK_SECTORS;
}

double track_sector_start_m(const struct track *t, int i)
{
	return i >= 0 && i < TRACK_SECTORS ? t->sector_start_m[i] : 0.0;
}

int track_sector_at(const struct track *t, double s_m)
{
	int k = 0;

	s_m = track_wrap(t, s_m);
	for (int i = 1; i < TRACK_SECTORS; i++)
		if (s_m >= t->sector_start_m[i])
			k = i;
	return k;
}

double track_wrap(const struct track *t, double s_m)
{
	double s = fmod(s_m, t->length_m);

	if (s < 0.0)
		s += t->length_m;
	return s >= t->length_m ? 0.0 : s;
}

static const struct piece *piece_at(const struct track *t, double s)
{
	int lo = 0, hi = t->pieces - 1;

	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;

		if (t->piece[mid].s0 <= s)
			lo = mid;
		else
			hi = mid - 1;
	}
	return &t->piece[lo];
}

double track_curvature(const struct track *t, double s_m)
{
	double s = track_wrap(t, s_m);
	const struct piece *p = piece_at(t, s);
	double u = fmin(fmax(s - p->s0, 0.0), p->len);

	return p->k0 + (p->k1 - p->k0) * u / p->len;
}

void track_sample(const struct track *t, double s_m, struct track_point *pt)
{
	double s = track_wrap(t, s_m);
	const struct piece *p = piece_at(t, s);
	double u = fmin(fmax(s - p->s0, 0.0), p->len), h = p->len / p->nodes;
	int j = (int)(u / h);
	double x, z;

	if (j >= p->nodes)
		j = p->nodes - 1;
	x = t->node[p->node0 + j].x;
	z = t->node[p->node0 + j].z;
	piece_advance(p, j * h, u, &x, &z);
	pt->x_m = x;
	pt->z_m = z;
	pt->heading_rad = piece_heading(p, u);
	pt->curvature_1pm = p->k0 + (p->k1 - p->k0) * u / p->len;
}

void track_offset_point(const struct track *t, double s_m, double offset_m, double *x_m,
			double *z_m)
{
	struct track_point p;

	track_sample(t, s_m, &p);
	*x_m = p.x_m + offset_m * cos(p.heading_rad);
	*z_m = p.z_m - offset_m * sin(p.heading_rad);
}
