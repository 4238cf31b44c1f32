/*
 * analysis.c - the use-case dispatch of analysis.h: a session's use case
 * names the analysis that reads its runs.
 *
 *   shift_points   an_shift_points
 *   car_grip       an_car_grip
 *   track_mapping  an_track_build with the input's game and track name
 *   general        an_general
 *
 * Anything else (or no input) is AN_E_BAD_INPUT. The result and err are the
 * analysis's own.
 */
#include <stdio.h>
#include <string.h>

#include <stdarg.h>
#include <stdio.h>

#include "analyze/analysis.h"

static json_t *track_mapping(const struct an_input *in, struct an_err *err)
{
	return an_track_build(in, in->game ? in->game : "", in->track ? in->track : "", err);
}

static const struct {
	const char *use_case;
	json_t *(*run)(const struct an_input *in, struct an_err *err);
} use_cases[] = {
	{ "shift_points", an_shift_points },
	{ "car_grip", an_car_grip },
	{ "track_mapping", track_mapping },
	{ "general", an_general },
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
