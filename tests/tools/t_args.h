/*
 * t_args.h - strict number parsing for the test tools, benchmarks and the
 * fuzz driver (atoi/atof are banned: they turn "12x", "" and overflow into a
 * silent number).
 *
 * t_parse_* read the whole string as one number in [lo, hi]: 0, or -EINVAL
 * (empty, trailing text, not a number) / -ERANGE (outside lo..hi or the type).
 * t_arg_* are for command-line values: on a bad one they print
 * "PROG: bad WHAT 'S' (expected LO..HI)" on stderr and exit(2), the tools'
 * usage-error status.
 */
#ifndef PW_T_ARGS_H
#define PW_T_ARGS_H

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static inline int t_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != 0)
		return -EINVAL;
	if (errno == ERANGE || v < lo || v > hi)
		return -ERANGE;
	*out = v;
	return 0;
}

static inline int t_parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != 0 || isnan(v))
		return -EINVAL;
	if (errno == ERANGE || v < lo || v > hi)
		return -ERANGE;
	*out = v;
	return 0;
}

static inline long t_arg_long(const char *s, long lo, long hi, const char *what)
{
	long v = 0;

	if (t_parse_long(s, lo, hi, &v) < 0) {
		fprintf(stderr, "%s: bad %s '%s' (expected %ld..%ld)\n",
			program_invocation_short_name, what, s, lo, hi);
		exit(2);
	}
	return v;
}

static inline double t_arg_double(const char *s, double lo, double hi, const char *what)
{
	double v = 0;

	if (t_parse_double(s, lo, hi, &v) < 0) {
		fprintf(stderr, "%s: bad %s '%s' (expected %g..%g)\n",
			program_invocation_short_name, what, s, lo, hi);
		exit(2);
	}
	return v;
}

#endif
