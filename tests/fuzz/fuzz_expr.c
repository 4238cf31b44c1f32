/*
 * fuzz_expr.c - fuzz target for the formula compiler and evaluator
 * (common/expr.h).
 *
 * Input: the formula's bytes (a NUL ends it early). The channels a, b, c, d,
 * e, speed_kmh, power_w, brake_temp_c_fl and brake_temp_c_rl are known (the
 * corpus uses them), every other name is not. abort() on a broken
 * invariant: compile gives 0 with a program or -EINVAL with no program and
 * an error naming a column inside the formula (or just past its end);
 * a program stays within the bounds; evaluating it over 16 frames (inputs
 * and clock from the input's bytes, some without a value, the clock
 * standing, going back and jumping) gives NaN or a finite number each time;
 * the formula in parentheses compiles (unless that nests it too deep or
 * makes it too long) and gives the same values.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FRAMES 16
#define NIN 9

static const char *const names[NIN] = {
	"a", "b", "c", "d", "e", "speed_kmh", "power_w", "brake_temp_c_fl", "brake_temp_c_rl"
};

static void check(int ok)
{
	if (!ok)
		abort();
}

static int resolve(void *ctx, const char *name, size_t len)
{
	(void)ctx;
	for (int i = 0; i < NIN; i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return i;
	return -1;
}

/* Inputs and clocks for FRAMES frames, derived from the input's bytes. */
static void make_frames(const uint8_t *data, size_t size, double in[FRAMES][NIN], double t[FRAMES])
{
	static const double specials[] = { 0, -0.0, 1, -1, 0.5, 1e300, -1e300, 1e-300, 3.6, NAN };
	double clock = 100;

	for (int f = 0; f < FRAMES; f++) {
		uint8_t k = size ? data[(size_t)f * 7 % size] : 0;

		for (int i = 0; i < NIN; i++) {
			uint8_t b = size ? data[((size_t)f * NIN + (size_t)i) % size] : 0;

			in[f][i] = (b & 0x80) ? specials[b % (sizeof specials / sizeof *specials)]
					      : (double)b - 40.0;
		}
		switch (k % 6) {
		case 0:
			break; /* the clock stands */
		case 1:
			clock -= 3;
			break; /* a rewind */
		case 2:
			clock += 10;
			break; /* a gap */
		case 3:
			t[f] = NAN;
			continue; /* no clock */
		default:
			clock += 1.0 / 60;
			break;
		}
		t[f] = clock;
	}
}

static void run(const struct expr *e, double in[FRAMES][NIN], const double t[FRAMES],
		double out[FRAMES])
{
	struct expr_slot slots[EXPR_SLOTS_MAX];

	check(expr_nslots(e) <= EXPR_SLOTS_MAX);
	expr_slots_reset(slots, expr_nslots(e));
	for (int f = 0; f < FRAMES; f++) {
		out[f] = expr_eval(e, in[f], t[f], slots);
		check(isnan(out[f]) || isfinite(out[f]));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *src = malloc(size + 3), *wrapped;
	struct expr *e = (struct expr *)&src, *w = NULL;
	struct expr_error err;
	double in[FRAMES][NIN], t[FRAMES], a[FRAMES], b[FRAMES];
	size_t len;
	int rc;

	if (!src)
		return 0;
	memcpy(src + 1, data, size);
	src[size + 1] = 0;
	len = strlen(src + 1);
	rc = expr_compile(src + 1, resolve, NULL, &e, &err);
	check(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
	if (rc != 0) {
		check(e == NULL);
		check(rc == -ENOMEM ||
		      (err.column >= 1 && err.column <= len + 1 && err.column <= EXPR_SRC_MAX + 1));
		check(strncmp(err.message, "column ", 7) == 0 || rc == -ENOMEM);
		free(src);
		return 0;
	}
	check(e != NULL && expr_nops(e) >= 1 && expr_nops(e) <= EXPR_OPS_MAX &&
	      len <= EXPR_SRC_MAX);
	make_frames(data, size, in, t);
	run(e, in, t, a);

	wrapped = src;
	wrapped[0] = '(';
	wrapped[len + 1] = ')';
	wrapped[len + 2] = 0;
	rc = expr_compile(wrapped, resolve, NULL, &w, &err);
	if (rc == 0) {
		run(w, in, t, b);
		for (int f = 0; f < FRAMES; f++)
			check(memcmp(&a[f], &b[f], sizeof a[f]) == 0 ||
			      (isnan(a[f]) && isnan(b[f])));
	} else {
		check(rc == -EINVAL &&
		      (strstr(err.message, "nested") || strstr(err.message, "deep") ||
		       strstr(err.message, "longer")));
	}
	expr_free(w);
	expr_free(e);
	free(src);
	return 0;
}
