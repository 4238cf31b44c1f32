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
 *
 * Each analysis names the channels and head parts it reads (an_needs): a
 * job carries only those, and an analysis given frames with nothing else
 * gives the same result (tests/unit/test_analysis_needs.c checks every
 * analysis on the emulator's frames and the real captures).
 */
#include <errno.h>
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

/* The race engineer's (engineer.c, rules.c) channels: general runs it on its laps. */
#define ENGINEER_CHANNELS                                                                     \
	(FRAME_P_THROTTLE | FRAME_P_BRAKE | FRAME_P_STEER | FRAME_P_RPM | FRAME_P_NUM_GEARS |     \
	 FRAME_P_MAX_RPM | FRAME_P_GEAR | FRAME_P_SLIP_ANGLE | FRAME_P_SLIP_RATIO |              \
	 FRAME_P_WHEEL_SPEED | FRAME_P_TYRE_TEMP | FRAME_P_SUSP_NORM | FRAME_P_ACCEL_LAT |       \
	 FRAME_P_YAW | FRAME_P_SPEED | FRAME_P_VEL | FRAME_P_GAME_TIME | FRAME_P_LAP_DIST |      \
	 FRAME_P_SPLINE | FRAME_P_TRACK_LEN)

/* The lap tracker's (common/laps.c) channels: general feeds it every frame. */
#define LAPS_CHANNELS                                                                        \
	(FRAME_P_LAP | FRAME_P_LAP_DIST | FRAME_P_SPEED | FRAME_P_GAME_TIME | FRAME_P_TRACK_LEN | \
	 FRAME_P_SPLINE | FRAME_P_SECTOR_TIMES | FRAME_P_LAP_TIME | FRAME_P_LAST_LAP)

static const struct {
	const char *use_case;
	json_t *(*run)(const struct an_input *in, struct an_err *err);
	uint64_t channels;         /* FRAME_P_* it reads */
	unsigned parts;            /* FRAMECOLS_* it reads */
} use_cases[] = {
	{ "shift_points", an_shift_points,
	  FRAME_P_GEAR | FRAME_P_SPEED | FRAME_P_RPM | FRAME_P_MAX_RPM | FRAME_P_VEL |
		  FRAME_P_GAME_TIME | FRAME_P_ACCEL_LON | FRAME_P_ACCEL_LAT | FRAME_P_THROTTLE |
		  FRAME_P_BRAKE,
	  FRAMECOLS_T_NS | FRAMECOLS_PRESENT | FRAMECOLS_SESSION | FRAMECOLS_FLAGS },
	{ "car_grip", an_car_grip,
	  FRAME_P_VEL | FRAME_P_STEER | FRAME_P_SPEED | FRAME_P_ACCEL_VERT | FRAME_P_ACCEL_LON |
		  FRAME_P_ACCEL_LAT | FRAME_P_GAME_TIME | FRAME_P_GEAR,
	  FRAMECOLS_T_NS | FRAMECOLS_PRESENT | FRAMECOLS_FLAGS },
	{ "track_mapping", track_mapping,
	  FRAME_P_POS | FRAME_P_LAP | FRAME_P_SECTOR | FRAME_P_SPLINE | FRAME_P_STEER_DEG |
		  FRAME_P_STEER | FRAME_P_ACCEL_LAT,
	  FRAMECOLS_PRESENT | FRAMECOLS_FLAGS },
	{ "general", general, LAPS_CHANNELS | FRAME_P_VEL | FRAME_P_POS | ENGINEER_CHANNELS,
	  FRAMECOLS_T_NS | FRAMECOLS_PRESENT | FRAMECOLS_SESSION | FRAMECOLS_FLAGS },
};

int an_needs(const char *use_case, uint64_t *channels, unsigned *parts)
{
	for (size_t i = 0; use_case && i < sizeof use_cases / sizeof use_cases[0]; i++)
		if (strcmp(use_case, use_cases[i].use_case) == 0) {
			*channels = use_cases[i].channels;
			*parts = use_cases[i].parts | FRAMECOLS_SEQ | FRAMECOLS_IDS;
			return 0;
		}
	return -EINVAL;
}

const struct pw_frame *an_window(const struct an_run *r, size_t i, size_t n, struct pw_frame *buf)
{
	if (r->frames)
		return r->frames + i;
	framecols_fill(r->cols, i, n, buf);
	return buf;
}

uint64_t an_seq(const struct an_run *r, size_t i)
{
	return r->frames ? r->frames[i].seq : r->cols->seq[i];
}

/*
 * An analysis that reads whole frames, given runs as columns: whole frames
 * made from them for the call (zero where the columns say nothing, which
 * an_needs guarantees it does not read).
 */
static json_t *run_on_frames(const struct an_input *in,
			     json_t *(*run)(const struct an_input *, struct an_err *),
			     struct an_err *err)
{
	struct an_input copy = *in;
	struct an_run *runs = calloc(in->nruns + 1, sizeof *runs);
	struct pw_frame **made = calloc(in->nruns + 1, sizeof *made);
	json_t *res = NULL;
	size_t i;

	if (!runs || !made)
		goto oom;
	for (i = 0; i < in->nruns; i++) {
		runs[i] = in->runs[i];
		if (runs[i].frames || !runs[i].cols)
			continue;
		if (!(made[i] = malloc((runs[i].n + 1) * sizeof *made[i])))
			goto oom;
		framecols_rows(runs[i].cols, 0, runs[i].n, made[i]);
		runs[i].frames = made[i];
	}
	copy.runs = runs;
	res = run(&copy, err);
	goto out;
oom:
	an_fail(err, AN_E_NO_MEMORY, "out of memory for the frames of %zu runs", in->nruns);
out:
	for (i = 0; made && i < in->nruns; i++)
		free(made[i]);
	free(made);
	free(runs);
	return res;
}

json_t *an_run_use_case(const struct an_input *in, struct an_err *err)
{
	if (!in || !in->use_case) {
		err->code = AN_E_BAD_INPUT;
		snprintf(err->message, sizeof err->message, "no use case given");
		return NULL;
	}
	for (size_t i = 0; i < sizeof use_cases / sizeof use_cases[0]; i++)
		if (strcmp(in->use_case, use_cases[i].use_case) == 0)
			return use_cases[i].run == general ? general(in, err)
							      : run_on_frames(in, use_cases[i].run, err);
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
