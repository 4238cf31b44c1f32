/*
 * t_csv.h - a CSV fixture held in memory for unit tests (the Forza capture in
 * tests/data is a CSV of the game's telemetry fields). Header-only, like t.h.
 *
 *     static struct t_csv csv;                          (large: keep it static)
 *     t_csv_load(&csv, "forza/.../laguna-seca.csv")     rows, or -1
 *     t_csv_cell(&csv, row, "Speed")                    the number; True/False as 1/0;
 *                                                       NAN for an unknown column
 * Loading twice returns the rows already loaded; free(csv.text) at the end.
 * Cells are split on commas (no quoting: the fixtures have none), CR and a
 * UTF-8 BOM are dropped, rows with another cell count than the header skipped.
 */
#ifndef PW_T_CSV_H
#define PW_T_CSV_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/t.h"

#define T_CSV_MAX_COLS 128
#define T_CSV_MAX_ROWS 1024

struct t_csv {
	unsigned char *text;
	int ncols, nrows;
	const char *name[T_CSV_MAX_COLS];
	const char *cell[T_CSV_MAX_ROWS][T_CSV_MAX_COLS];
};

static inline char *t_csv_split(char *p, const char **cells, int max, int *n)
{
	*n = 0;
	cells[(*n)++] = p;
	for (; *p && *p != '\n'; p++) {
		if (*p == '\r') {
			*p = '\0';
		} else if (*p == ',') {
			*p = '\0';
			if (*n < max)
				cells[(*n)++] = p + 1;
		}
	}
	if (*p == '\n')
		*p++ = '\0';
	return p;
}

static inline int t_csv_load(struct t_csv *c, const char *rel_path)
{
	size_t len;
	char *p;
	int n;

	if (c->text)
		return c->nrows;
	c->text = t_read_file(t_data_path(rel_path), &len);
	if (!c->text)
		return -1;
	c->text[len] = '\0';
	p = (char *)c->text;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	p = t_csv_split(p, c->name, T_CSV_MAX_COLS, &c->ncols);
	while (*p && c->nrows < T_CSV_MAX_ROWS) {
		p = t_csv_split(p, c->cell[c->nrows], T_CSV_MAX_COLS, &n);
		if (n == c->ncols)
			c->nrows++;
	}
	return c->nrows;
}

static inline int t_csv_col(const struct t_csv *c, const char *name)
{
	for (int i = 0; i < c->ncols; i++)
		if (strcmp(c->name[i], name) == 0)
			return i;
	return -1;
}

static inline double t_csv_cell(const struct t_csv *c, int row, const char *name)
{
	int k = t_csv_col(c, name);
	const char *s = k >= 0 ? c->cell[row][k] : NULL;

	if (!s)
		return NAN;
	if (strcmp(s, "True") == 0)
		return 1;
	if (strcmp(s, "False") == 0)
		return 0;
	return strtod(s, NULL);
}

#endif
