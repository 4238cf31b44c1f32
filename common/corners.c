/* corners.c - see corners.h. */
#include <math.h>
#include <stdlib.h>

#include "common/corners.h"

static size_t wrap_index(long i, size_t n)
{
	long m = (long)n, r = i % m;

	return (size_t)(r < 0 ? r + m : r);
}

/* [1 4 6 4 1]/16 of the circular array a into out */
static void smooth5(const double *a, double *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		long k = (long)i;

		out[i] = (a[wrap_index(k - 2, n)] + 4.0 * a[wrap_index(k - 1, n)] + 6.0 * a[i] +
			  4.0 * a[wrap_index(k + 1, n)] + a[wrap_index(k + 2, n)]) /
			 16.0;
	}
}

/* Unwrapped heading psi at a possibly out-of-range index: one loop adds total. */
static double psi_at(const double *psi, size_t n, long i, double total)
{
	long m = (long)n, q = i >= 0 ? i / m : -((-i + m - 1) / m);

	return psi[i - q * m] + (double)q * total;
}

void corners_curvature(const double *x, const double *z, size_t n, double step_m, int hand,
		       double *heading, double *curv, double *tmp)
{
	double *sx = tmp, *sz = tmp + n, *psi = tmp + 2 * n, total;

	smooth5(x, sx, n);
	smooth5(z, sz, n);
	for (size_t i = 0; i < n; i++) {
		size_t a = wrap_index((long)i - CORNERS_DIFF, n),
		       b = wrap_index((long)i + CORNERS_DIFF, n);

		heading[i] = atan2(sx[b] - sx[a], sz[b] - sz[a]);
	}
	psi[0] = heading[0];
	for (size_t i = 1; i < n; i++)
		psi[i] = psi[i - 1] + remainder(heading[i] - heading[i - 1], 2.0 * M_PI);
	/* one loop's turn: 2 pi either way for a plain circuit, 0 for a figure of eight */
	total = psi[n - 1] + remainder(heading[0] - heading[n - 1], 2.0 * M_PI) - psi[0];
	for (size_t i = 0; i < n; i++)
		curv[i] = hand *
			  (psi_at(psi, n, (long)i + CORNERS_DIFF, total) -
			   psi_at(psi, n, (long)i - CORNERS_DIFF, total)) /
			  (2.0 * CORNERS_DIFF * step_m);
}

static int bend(double k, double level)
{
	return k >= level ? 1 : k <= -level ? -1 : 0;
}

static double curv_at(const double *curv, size_t n, long i)
{
	return curv[wrap_index(i, n)];
}

static int cmp_entry(const void *a, const void *b)
{
	double x = ((const struct corner_span *)a)->entry_i;
	double y = ((const struct corner_span *)b)->entry_i;

	return (x > y) - (x < y);
}

/* Apex: middle of the stretch around the peak with |k| >= CORNERS_APEX_FRAC of it. */
static void corner_apex(const double *curv, size_t n, struct corner_span *c, long lo, long hi)
{
	long peak = lo, a, b;

	c->kmax = 0.0;
	for (long i = lo; i <= hi; i++)
		if (fabs(curv_at(curv, n, i)) > c->kmax) {
			c->kmax = fabs(curv_at(curv, n, i));
			peak = i;
		}
	for (a = peak; a > lo && fabs(curv_at(curv, n, a - 1)) >= CORNERS_APEX_FRAC * c->kmax; a--)
		;
	for (b = peak; b < hi && fabs(curv_at(curv, n, b + 1)) >= CORNERS_APEX_FRAC * c->kmax; b++)
		;
	c->apex_i = 0.5 * (double)(a + b);
}

size_t corners_find(const double *curv, size_t n, double step_m, struct corner_span *c)
{
	long m = (long)n, s0 = 0, i, merge = (long)ceil(CORNERS_MERGE_M / step_m);
	size_t k = 0, found = 0;

	while (s0 < m && bend(curv[s0], CORNERS_OFF_1PM) != 0)
		s0++;
	if (s0 == m)
		s0 = 0;
	for (i = s0; i < s0 + m; i++) {
		int dir = bend(curv_at(curv, n, i), CORNERS_ON_1PM);
		long lo = i, hi = i;

		if (dir == 0)
			continue;
		while (lo > s0 && bend(curv_at(curv, n, lo - 1), CORNERS_OFF_1PM) == dir &&
		       (k == 0 || lo - 1 > (long)c[k - 1].exit_i))
			lo--;
		while (hi + 1 < s0 + m && bend(curv_at(curv, n, hi + 1), CORNERS_OFF_1PM) == dir)
			hi++;
		if (k > 0 && c[k - 1].dir == dir && lo - (long)c[k - 1].exit_i <= merge) {
			c[k - 1].exit_i = (double)hi;
		} else {
			c[k] = (struct corner_span){ .entry_i = (double)lo,
						     .exit_i = (double)hi,
						     .dir = dir };
			k++;
		}
		i = hi;
	}
	for (size_t j = 0; j < k; j++) {
		long lo = (long)c[j].entry_i, hi = (long)c[j].exit_i;
		double turn = 0.0;

		for (long t = lo; t <= hi; t++)
			turn += curv_at(curv, n, t) * step_m;
		if (fabs(turn) * 180.0 / M_PI < CORNERS_MIN_DEG)
			continue;
		c[j].angle_rad = turn;
		corner_apex(curv, n, &c[j], lo, hi);
		/* the corner spans from half a sample before lo to half after hi */
		c[j].entry_i -= 0.5;
		c[j].exit_i += 0.5;
		if (c[j].entry_i >= (double)n) { /* found past the line: back into the lap */
			c[j].entry_i -= (double)n;
			c[j].apex_i -= (double)n;
			c[j].exit_i -= (double)n;
		}
		c[found++] = c[j];
	}
	qsort(c, found, sizeof *c, cmp_entry);
	return found;
}
