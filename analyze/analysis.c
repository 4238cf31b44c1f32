/*
 * analysis.c - the use-case dispatch of analysis.h: a session's use case
 * names the analysis that reads its runs.
 *
 *   shift_points   an_shift_points
 *   car_grip       an_car_grip
 *   track_mapping  an_track_build with the input's game and track name
 *   general        an_general, then an_engineer over the laps it found: its
 *                  recommendations, not_evaluated and evaluated (as
 *                  rules_evaluated) join the result
 *
 * Anything else (or no input) is AN_E_BAD_INPUT. The result and err are the
 * analysis's own.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analysis.h"
#include "analyze/engineer.h"

static json_t *track_mapping(const struct an_input *in, struct an_err *err)
{
	return an_track_build(in, in->game ? in->game : "", in->track ? in->track : "", err);
}

static json_t *general(const struct an_input *in, struct an_err *err)
{
	struct eng_lap *laps = NULL;
	size_t n = 0;
	json_t *res = an_general_laps(in, &laps, &n, err), *eng;

	if (!res)
		return NULL;
	eng = an_engineer(in, laps, n, NULL, err);
	free(laps);
	if (!eng) {
		json_decref(res);
		return NULL;
	}
	if (json_object_set(res, "recommendations", json_object_get(eng, "recommendations")) ||
	    json_object_set(res, "not_evaluated", json_object_get(eng, "not_evaluated")) ||
	    json_object_set(res, "rules_evaluated", json_object_get(eng, "evaluated"))) {
		json_decref(res);
		res = NULL;
		an_fail(err, AN_E_NO_MEMORY, "out of memory for the recommendations");
	}
	json_decref(eng);
	return res;
}

static const struct {
	const char *use_case;
	json_t *(*run)(const struct an_input *in, struct an_err *err);
} use_cases[] = {
	{ "shift_points", an_shift_points },
	{ "car_grip", an_car_grip },
	{ "track_mapping", track_mapping },
	{ "general", general },
};

json_t *an_run_use_case(const struct an_input *in, struct an_err *err)
{
	if (!in || !in->use_case) {
		err->code = AN_E_BAD_INPUT;
		snprintf(err->message, sizeof err->message, "no use case given");
		return NULL;
	}
	for (size_t i = 0; i < sizeof use_cases / sizeof use_cases[0]; i++)
		if (strcmp(in->use_case, use_cases[i].use_case) == 0)
			return use_cases[i].run(in, err);
	err->code = AN_E_BAD_INPUT;
	snprintf(err->message, sizeof err->message,
		 "unknown use case \"%.64s\" (shift_points, car_grip, track_mapping, general)",
		 in->use_case);
	return NULL;
}

void an_fail(struct an_err *err, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
}
