/*
 * test_expr.c - the formula compiler and evaluator (common/expr.c): every
 * operator and function against C's own arithmetic, precedence, "no value"
 * propagation, derivative and integral over a clock (pauses, rewinds, gaps),
 * every bound, and error messages with the column of the offending
 * character.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/expr.h"
#include "tests/unit/t.h"

/* Inputs: a = slot 0, b = 1, c = 2, speed_kmh = 3, power_w = 4. */
static const char *const names[] = { "a", "b", "c", "speed_kmh", "power_w" };

static int resolve(void *ctx, const char *name, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return (int)i;
	return -1;
}

/* Compile and evaluate src once with a, b, c, speed_kmh, power_w = in[]. */
static double eval_with(const char *src, const double in[5])
{
	struct expr *e = NULL;
	struct expr_error err;
	struct expr_slot slots[EXPR_SLOTS_MAX] = { 0 };
	double v;

	if (expr_compile(src, resolve, NULL, &e, &err) != 0) {
		fprintf(stderr, "  compile \"%s\": %s\n", src, err.message);
		return -12345.678;
	}
	v = expr_eval(e, in, 0, slots);
	expr_free(e);
	return v;
}

static double ev(const char *src)
{
	static const double in[5] = { 2, 3, -4, 180, 250000 };

	return eval_with(src, in);
}

/* src must fail to compile with err.column == column and message containing part. */
static void compile_fails(const char *src, unsigned column, const char *part)
{
	struct expr *e = (struct expr *)1;
	struct expr_error err;
	int rc = expr_compile(src, resolve, NULL, &e, &err);

	T_CHECKF(rc == -EINVAL, "\"%s\" compiled (rc %d)", src, rc);
	T_CHECK(e == NULL);
	T_CHECKF(err.column == column, "\"%s\": column %u, expected %u (%s)", src, err.column,
		 column, err.message);
	T_CHECKF(strstr(err.message, part) != NULL, "\"%s\": \"%s\" lacks \"%s\"", src, err.message,
		 part);
	expr_free(rc == 0 ? e : NULL);
}

static void test_arithmetic(void)
{
	T_EQ(ev("1 + 2 * 3"), 7.0);
	T_EQ(ev("(1 + 2) * 3"), 9.0);
	T_EQ(ev("power_w / 1000"), 250.0);
	T_EQ(ev("a - b - c"), 2.0 - 3.0 + 4.0); /* left-associative */
	T_EQ(ev("a / b / 2"), 2.0 / 3.0 / 2.0);
	T_EQ(ev("7 % 4"), 3.0);
	T_EQ(ev("-7.5 % 2"), fmod(-7.5, 2));
	T_EQ(ev("2 ^ 3 ^ 2"), 512.0); /* right-associative */
	T_EQ(ev("-2 ^ 2"), -4.0);     /* the sign applies to the power */
	T_EQ(ev("2 ^ -1"), 0.5);
	T_EQ(ev("--a"), 2.0);
	T_EQ(ev("+a"), 2.0);
	T_EQ(ev("-c"), 4.0);
	T_EQ(ev("a*b+c"), 2.0);
	T_EQ(ev(".5 + 1. + 1e3 + 2.5E-2"), 1001.525);
	T_EQ(ev("speed_kmh/3.6"), 180 / 3.6);
	T_EQ(ev(" \t\n a \r\n"), 2.0);
}

static void test_comparisons_and_logic(void)
{
	T_EQ(ev("a < b"), 1.0);
	T_EQ(ev("a > b"), 0.0);
	T_EQ(ev("a <= 2"), 1.0);
	T_EQ(ev("a >= 2.5"), 0.0);
	T_EQ(ev("a == 2"), 1.0);
	T_EQ(ev("a != 2"), 0.0);
	T_EQ(ev("a + 1 == b"), 1.0); /* arithmetic binds tighter */
	T_EQ(ev("a < b && c < 0"), 1.0);
	T_EQ(ev("a > b && c < 0"), 0.0);
	T_EQ(ev("a > b || c < 0"), 1.0);
	T_EQ(ev("a > b || c > 0"), 0.0);
	T_EQ(ev("1 || 0 && 0"), 1.0); /* && binds tighter than || */
	T_EQ(ev("!a"), 0.0);
	T_EQ(ev("!(a > b)"), 1.0);
	T_EQ(ev("!0 + 1"), 2.0);
}

static void test_functions(void)
{
	T_EQ(ev("abs(c)"), 4.0);
	T_EQ(ev("sqrt(16)"), 4.0);
	T_EQ(ev("min(a, b)"), 2.0);
	T_EQ(ev("max(a, b, c, 10, -1, 0, 3, 9)"), 10.0);
	T_EQ(ev("min(a, b, c)"), -4.0);
	T_EQ(ev("clamp(speed_kmh, 0, 100)"), 100.0);
	T_EQ(ev("clamp(c, 0, 100)"), 0.0);
	T_EQ(ev("clamp(a, 0, 100)"), 2.0);
	T_EQ(ev("if(a > b, 1, 2)"), 2.0);
	T_EQ(ev("if(a < b, 1, 2)"), 1.0);
	T_EQ(ev("max(min(a, b), abs(c)) * 2"), 8.0);
	T_EQ(ev("sqrt ( 9 )"), 3.0);
}

/* No value in, no value out: every operation, comparisons and logic too. */
static void test_no_value(void)
{
	const double in[5] = { NAN, 3, -4, 180, 0 };
	static const char *const nan_results[] = {
		"a + 1",
		"a * 0",
		"a < b",
		"a == a",
		"a != 1",
		"!a",
		"a && 0",
		"0 || a",
		"min(a, b)",
		"max(b, a)",
		"abs(a)",
		"sqrt(a)",
		"clamp(a, 0, 1)",
		"clamp(b, a, 5)",
		"if(a, 1, 2)",
		"b / 0",
		"b % 0",
		"power_w / power_w",
		"sqrt(-1)",
		"10 ^ 400",
		"derivative(a)",
		"integral(a)",
		"-a",
	};

	for (size_t i = 0; i < sizeof nan_results / sizeof *nan_results; i++) {
		double v = eval_with(nan_results[i], in);

		T_CHECKF(isnan(v), "%s gave %g", nan_results[i], v);
	}
	/* the branch not taken may have no value */
	T_EQ(eval_with("if(b > 0, 5, a)", in), 5.0);
	T_CHECK(isnan(eval_with("if(b > 0, a, 5)", in)));
}

static void test_derivative(void)
{
	struct expr *e = NULL;
	struct expr_slot slots[EXPR_SLOTS_MAX];
	double in[5] = { 0 };
	double v;

	T_EQ(expr_compile("derivative(speed_kmh)", resolve, NULL, &e, NULL), 0);
	T_EQ(expr_nslots(e), (size_t)1);
	expr_slots_reset(slots, expr_nslots(e));
	in[3] = 100;
	T_CHECK(isnan(expr_eval(e, in, 10.0, slots))); /* first frame: no value */
	in[3] = 110;
	T_NEAR(expr_eval(e, in, 10.5, slots), 20.0, 1e-9);
	/* the clock stands (a repeated frame): the last value is kept */
	in[3] = 130;
	T_NEAR(expr_eval(e, in, 10.5, slots), 20.0, 1e-9);
	in[3] = 120;
	T_NEAR(expr_eval(e, in, 11.0, slots), 20.0, 1e-9);
	/* a frame without the input changes nothing */
	in[3] = NAN;
	T_CHECK(isnan(expr_eval(e, in, 11.5, slots)));
	in[3] = 130;
	T_NEAR(expr_eval(e, in, 12.0, slots), 10.0, 1e-9);
	/* no clock: no value, state unchanged */
	T_CHECK(isnan(expr_eval(e, in, NAN, slots)));
	/* the clock goes back (a rewind): start again */
	in[3] = 50;
	T_CHECK(isnan(expr_eval(e, in, 5.0, slots)));
	in[3] = 60;
	T_NEAR(expr_eval(e, in, 6.0, slots), 10.0, 1e-9);
	/* a gap longer than EXPR_GAP_S: start again */
	in[3] = 0;
	T_CHECK(isnan(expr_eval(e, in, 6.0 + EXPR_GAP_S + 0.1, slots)));
	in[3] = 1;
	v = expr_eval(e, in, 6.0 + EXPR_GAP_S + 0.2, slots);
	T_NEAR(v, 10.0, 1e-6);
	/* reset: a new sequence */
	expr_slots_reset(slots, expr_nslots(e));
	T_CHECK(isnan(expr_eval(e, in, 100.0, slots)));
	expr_free(e);
}

static void test_integral(void)
{
	struct expr *e = NULL;
	struct expr_slot slots[EXPR_SLOTS_MAX];
	double in[5] = { 0 };

	/* distance in m from speed in km/h */
	T_EQ(expr_compile("integral(speed_kmh / 3.6)", resolve, NULL, &e, NULL), 0);
	expr_slots_reset(slots, expr_nslots(e));
	in[3] = 36;
	T_EQ(expr_eval(e, in, 0.0, slots), 0.0);
	in[3] = 72;
	T_NEAR(expr_eval(e, in, 1.0, slots), 15.0, 1e-9); /* trapezoid (10 + 20) / 2 */
	T_NEAR(expr_eval(e, in, 1.0, slots), 15.0, 1e-9); /* clock stands: nothing added */
	T_NEAR(expr_eval(e, in, 2.0, slots), 35.0, 1e-9);
	/* over a gap the sum is kept, nothing is added for the gap */
	T_NEAR(expr_eval(e, in, 2.0 + EXPR_GAP_S + 1, slots), 35.0, 1e-9);
	T_NEAR(expr_eval(e, in, 3.0 + EXPR_GAP_S + 1, slots), 55.0, 1e-9);
	/* a rewind restarts at 0 */
	T_EQ(expr_eval(e, in, 1.0, slots), 0.0);
	T_NEAR(expr_eval(e, in, 1.5, slots), 10.0, 1e-9);
	expr_free(e);

	/* 1000 frames of a constant: the integral is the constant times the time */
	T_EQ(expr_compile("integral(2)", resolve, NULL, &e, NULL), 0);
	expr_slots_reset(slots, expr_nslots(e));
	for (int i = 0; i <= 1000; i++)
		expr_eval(e, in, i / 100.0, slots);
	T_NEAR(expr_eval(e, in, 10.0, slots), 20.0, 1e-9);
	expr_free(e);
}

static void test_smooth(void)
{
	struct expr *e = NULL;
	struct expr_slot slots[EXPR_SLOTS_MAX];
	double in[5] = { 0 }, v = 0;

	T_EQ(expr_compile("smooth(a, 0.5)", resolve, NULL, &e, NULL), 0);
	expr_slots_reset(slots, expr_nslots(e));
	in[0] = 10;
	T_EQ(expr_eval(e, in, 0.0, slots), 10.0); /* starts from the first value */
	/* a step to 20: after one time constant 1 - 1/e of the way */
	in[0] = 20;
	for (int i = 1; i <= 50; i++)
		v = expr_eval(e, in, i * 0.01, slots);
	T_NEAR(v, 20 - 10 * exp(-1), 1e-9);
	/* the clock stands: unchanged */
	T_NEAR(expr_eval(e, in, 0.5, slots), v, 1e-12);
	/* the result does not depend on the frame rate */
	expr_slots_reset(slots, expr_nslots(e));
	in[0] = 10;
	expr_eval(e, in, 0.0, slots);
	in[0] = 20;
	T_NEAR(expr_eval(e, in, 0.5, slots), 20 - 10 * exp(-1), 1e-9);
	/* no value in: no value out, nothing changes */
	in[0] = NAN;
	T_CHECK(isnan(expr_eval(e, in, 0.6, slots)));
	/* a rewind restarts from the value */
	in[0] = 5;
	T_EQ(expr_eval(e, in, 0.1, slots), 5.0);
	expr_free(e);
	/* tau <= 0 passes the value through */
	T_EQ(expr_compile("smooth(a, b)", resolve, NULL, &e, NULL), 0);
	expr_slots_reset(slots, expr_nslots(e));
	in[0] = 3;
	in[1] = 0;
	T_EQ(expr_eval(e, in, 0.0, slots), 3.0);
	in[0] = 4;
	T_EQ(expr_eval(e, in, 1.0, slots), 4.0);
	in[1] = NAN;
	T_CHECK(isnan(expr_eval(e, in, 2.0, slots)));
	expr_free(e);
}

/* Several stateful calls keep their own slots, in one formula. */
static void test_slots_per_call(void)
{
	struct expr *e = NULL;
	struct expr_slot slots[EXPR_SLOTS_MAX];
	double in[5] = { 0 };

	T_EQ(expr_compile("derivative(a) + derivative(derivative(b)) * 1000 + integral(a)", resolve,
			  NULL, &e, NULL),
	     0);
	T_EQ(expr_nslots(e), (size_t)4);
	expr_slots_reset(slots, 4);
	for (int i = 0; i < 4; i++) {
		double t = i, v;

		in[0] = 3 * t; /* da/dt = 3, integral 1.5 t^2 */
		in[1] = t * t; /* d2b/dt2 = 2 (from the third frame) */
		v = expr_eval(e, in, t, slots);
		if (i < 2)
			T_CHECK(isnan(v));
		else
			T_NEAR(v, 3 + 2 * 1000 + 1.5 * t * t, 1e-9);
	}
	expr_free(e);
}

static void test_errors(void)
{
	compile_fails("", 1, "empty");
	compile_fails("   ", 4, "empty");
	compile_fails("1 +", 4, "expected a number, a channel");
	compile_fails("(a + b", 7, "expected ')' to close the '(' of column 1");
	compile_fails("max(a, b", 9, "expected ',' or ')' in the arguments of max");
	compile_fails("a + nosuch * 2", 5, "unknown channel 'nosuch'");
	compile_fails("foo(1)", 1, "unknown function 'foo'");
	compile_fails("abs", 1, "abs is a function");
	compile_fails("abs(1, 2)", 8, "abs takes at most 1 argument");
	compile_fails("min(1)", 1, "min takes at least 2 arguments, not 1");
	compile_fails("if(1, 2)", 1, "if takes 3 arguments, not 2");
	compile_fails("derivative()", 1, "derivative takes 1 argument, not 0");
	compile_fails("smooth(a)", 1, "smooth takes 2 arguments, not 1");
	compile_fails("a = 1", 3, "'=' is not an operator");
	compile_fails("a & b", 3, "write '&&'");
	compile_fails("a | b", 3, "write '||'");
	compile_fails("1 < a < 3", 7, "comparisons do not chain");
	compile_fails("a b", 3, "unexpected 'b' after a complete formula");
	compile_fails("1.2.3", 4, "unexpected '.' in a number");
	compile_fails("2x", 2, "unexpected 'x' in a number");
	compile_fails("1e", 2, "exponent needs a digit");
	compile_fails(".", 1, "a number needs a digit");
	compile_fails("1e999", 1, "out of range");
	compile_fails("a $ b", 3, "unexpected '$'");
	compile_fails("a + \x01", 5, "byte 0x01");
	compile_fails("speed_kmh; rm -rf /", 10, "unexpected ';'");
}

static void test_bounds(void)
{
	char src[EXPR_SRC_MAX + 64];
	struct expr *e = NULL;
	struct expr_error err;
	size_t n = 0;

	/* too long */
	memset(src, ' ', EXPR_SRC_MAX);
	src[EXPR_SRC_MAX] = '1';
	src[EXPR_SRC_MAX + 1] = 0;
	T_EQ(expr_compile(src, resolve, NULL, &e, &err), -EINVAL);
	T_CHECK(strstr(err.message, "longer than") != NULL);
	/* exactly the longest: accepted */
	src[EXPR_SRC_MAX - 1] = '1';
	src[EXPR_SRC_MAX] = 0;
	T_EQ(expr_compile(src, resolve, NULL, &e, &err), 0);
	expr_free(e);

	/* nesting: EXPR_DEPTH_MAX - 1 parentheses pass, many more do not */
	n = 0;
	for (int i = 0; i < EXPR_DEPTH_MAX - 1; i++)
		src[n++] = '(';
	src[n++] = 'a';
	for (int i = 0; i < EXPR_DEPTH_MAX - 1; i++)
		src[n++] = ')';
	src[n] = 0;
	T_EQ(expr_compile(src, resolve, NULL, &e, &err), 0);
	T_EQ(expr_eval(e, (double[5]){ 7 }, 0, NULL), 7.0);
	expr_free(e);
	memset(src, '(', 200);
	src[200] = 0;
	T_EQ(expr_compile(src, resolve, NULL, &e, &err), -EINVAL);
	T_CHECK(strstr(err.message, "nested more than") != NULL);
	memset(src, '-', 200);
	src[200] = 'a';
	src[201] = 0;
	T_EQ(expr_compile(src, resolve, NULL, &e, &err), -EINVAL);
	T_CHECK(strstr(err.message, "nested more than") != NULL);
	n = 0;
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(src + n, sizeof src - n, "2^");
	snprintf(src + n, sizeof src - n, "1");
	T_EQ(expr_compile(src, resolve, NULL, &e, &err), -EINVAL);
	T_CHECK(strstr(err.message, "nested more than") != NULL);

	/* operations: a+a+...: 2 ops per term */
	n = 0;
	for (int i = 0; i < EXPR_OPS_MAX / 2 + 2; i++)
		n += (size_t)snprintf(src + n, sizeof src - n, "%sa", i ? "+" : "");
	T_EQ(expr_compile(src, resolve, NULL, &e, &err), -EINVAL);
	T_CHECK(strstr(err.message, "too long") != NULL);
	/* constants */
	n = 0;
	for (int i = 0; i <= EXPR_CONSTS_MAX; i++)
		n += (size_t)snprintf(src + n, sizeof src - n, "%s%d", i ? "+" : "", i + 1);
	T_EQ(expr_compile(src, resolve, NULL, &e, &err), -EINVAL);
	T_CHECK(strstr(err.message, "different numbers") != NULL);
	/* the same number many times is one constant */
	n = 0;
	for (int i = 0; i <= EXPR_CONSTS_MAX; i++)
		n += (size_t)snprintf(src + n, sizeof src - n, "%s1", i ? "+" : "");
	T_EQ(expr_compile(src, resolve, NULL, &e, &err), 0);
	T_EQ(expr_eval(e, (double[5]){ 0 }, 0, NULL), (double)(EXPR_CONSTS_MAX + 1));
	expr_free(e);
	/* stateful calls */
	n = 0;
	for (int i = 0; i <= EXPR_SLOTS_MAX; i++)
		n += (size_t)snprintf(src + n, sizeof src - n, "%sintegral(a)", i ? "+" : "");
	T_EQ(expr_compile(src, resolve, NULL, &e, &err), -EINVAL);
	T_CHECK(strstr(err.message, "derivative, integral and smooth calls") != NULL);
	/* the evaluation stack: a right-leaning sum keeps every term pending */
	n = 0;
	for (int i = 0; i < EXPR_STACK_MAX + 1; i++)
		n += (size_t)snprintf(src + n, sizeof src - n, "a*(");
	src[n++] = 'a';
	for (int i = 0; i < EXPR_STACK_MAX + 1; i++)
		src[n++] = ')';
	src[n] = 0;
	T_EQ(expr_compile(src, resolve, NULL, &e, &err), -EINVAL);
	T_CHECKF(strstr(err.message, "too deep") != NULL || strstr(err.message, "nested") != NULL,
		 "%s", err.message);
	/* max with more arguments than it takes */
	T_EQ(expr_compile("max(1,2,3,4,5,6,7,8,9)", resolve, NULL, &e, &err), -EINVAL);
	T_CHECK(strstr(err.message, "at most 8") != NULL);
	/* no resolver: every name is unknown */
	T_EQ(expr_compile("a", NULL, NULL, &e, &err), -EINVAL);
	T_EQ(expr_compile("1 + 1", NULL, NULL, &e, NULL), 0);
	T_EQ(expr_eval(e, NULL, 0, NULL), 2.0);
	T_EQ(expr_nops(e), (size_t)3);
	expr_free(e);
	T_EQ(expr_compile(NULL, NULL, NULL, &e, NULL), -EINVAL);
}

int main(void)
{
	T_RUN(test_arithmetic);
	T_RUN(test_comparisons_and_logic);
	T_RUN(test_functions);
	T_RUN(test_no_value);
	T_RUN(test_derivative);
	T_RUN(test_integral);
	T_RUN(test_smooth);
	T_RUN(test_slots_per_call);
	T_RUN(test_errors);
	T_RUN(test_bounds);
	return T_DONE();
}
