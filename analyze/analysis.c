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
 * What each analysis reads of the frames is common/job.c's job_needs (a job
 * carries only those columns); an analysis given frames with nothing else
 * gives the same result (tests/unit/test_analysis_needs.c checks every
 * analysis on the emulator's frames and the real captures).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analysis.h"
#include "analyze/engineer.h"

static json_t *track_mapping(const struct an_input *in, struct an_err *err)
{
	return an_track_build(in, in->game ? in->game : "", in->track ? in->track : "", err);
}

/*
 * The second pass of runs read in two: the engineer's channels. Read on a
 * thread of its own while the lap table is made from the first pass, over
 * every frame (the laps are not known yet); without that thread, after it,
 * over the frames the laps span (all of a run without a lap, which the
 * engineer reads whole).
 */
struct more_load {
	const struct an_input *in;
	size_t run; /* the one that failed */
	size_t lo, hi;
	int rc;
	pthread_t thread;
};

static int run_range(const struct an_run *run, const struct eng_lap *laps, size_t n, size_t r,
		     size_t *lo, size_t *hi)
{
	*lo = run->n;
	*hi = 0;
	for (size_t i = 0; laps && i < n; i++)
		if (laps[i].run == r) {
			*lo = laps[i].first < *lo ? laps[i].first : *lo;
			*hi = laps[i].last + 1 > *hi ? laps[i].last + 1 : *hi;
		}
	if (*lo >= *hi) {
		*lo = 0;
		*hi = run->n;
	}
	return run->more->load(run->more->ctx, *lo, *hi - *lo);
}

/* Load every run's second pass (laps NULL: over every frame); m->rc < 0 names
 * the run that failed. */
static void more_all(struct more_load *m, const struct eng_lap *laps, size_t n)
{
	m->rc = 0;
	for (m->run = 0; m->run < m->in->nruns; m->run++)
		if (m->in->runs[m->run].more &&
		    (m->rc = run_range(&m->in->runs[m->run], laps, n, m->run, &m->lo, &m->hi)) < 0)
			return;
}

static void *more_thread(void *arg)
{
	more_all(arg, NULL, 0);
	return NULL;
}

static bool more_needed(const struct an_input *in)
{
	for (size_t r = 0; r < in->nruns; r++)
		if (in->runs[r].more)
			return true;
	return false;
}

/* The second pass finished (m->rc) and moved in: 0, or -1 with err set. */
static int more_done(struct more_load *m, struct an_err *err)
{
	const struct an_run *run;

	if (m->rc < 0) {
		run = &m->in->runs[m->run];
		an_fail(err, m->rc == -ENOMEM ? AN_E_NO_MEMORY : AN_E_BAD_INPUT,
			"run %s: its frames %zu..%zu do not read: %s", run->run_id, m->lo,
			m->hi - 1, strerror(-m->rc));
		return -1;
	}
	for (size_t r = 0; r < m->in->nruns; r++)
		if (m->in->runs[r].more)
			m->in->runs[r].more->adopt(m->in->runs[r].more->ctx);
	return 0;
}

static json_t *general(const struct an_input *in, struct an_err *err)
{
	struct eng_lap *laps = NULL;
	size_t n = 0;
	struct more_load m = { .in = in };
	bool aside = more_needed(in) && pthread_create(&m.thread, NULL, more_thread, &m) == 0;
	json_t *res = an_general_laps(in, &laps, &n, err), *eng;

	if (aside)
		pthread_join(m.thread, NULL);
	else if (res && more_needed(in))
		more_all(&m, laps, n);
	if (!res || more_done(&m, err) < 0) {
		free(laps);
		json_decref(res);
		return NULL;
	}
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

int an_cursor_init(struct an_cursor *c, const struct an_run *r)
{
	*c = (struct an_cursor){
		.r = r, .step = 1, .channels = FRAME_P_ALL, .parts = FRAMECOLS_HEAD
	};
	if (!r->frames && r->cols && !(c->buf = calloc(AN_WINDOW, sizeof *c->buf)))
		return -ENOMEM;
	return 0;
}

const struct pw_frame *an_frame(struct an_cursor *c, size_t i)
{
	if (c->r->frames)
		return &c->r->frames[i];
	if (c->step != 1 || i < c->first || i >= c->first + c->n) {
		c->first = i;
		c->n = c->r->n - i < AN_WINDOW ? c->r->n - i : AN_WINDOW;
		c->step = 1;
		framecols_fill_only(c->r->cols, i, NULL, c->n, c->channels, c->parts, c->buf);
	}
	return &c->buf[i - c->first];
}

void an_cursor_only(struct an_cursor *c, uint64_t channels, unsigned parts)
{
	c->channels = channels;
	c->parts = parts;
	c->first = c->n = 0; /* the window holds no range made so */
}

const struct pw_frame *an_frames_at(struct an_cursor *c, const size_t *idx, size_t m)
{
	framecols_fill_only(c->r->cols, 0, idx, m, c->channels, c->parts, c->buf);
	c->first = c->n = 0; /* the window holds no range now */
	return c->buf;
}

const struct pw_frame *an_frame_every(struct an_cursor *c, size_t i, size_t step)
{
	if (c->r->frames)
		return &c->r->frames[i];
	if (c->step != step || i < c->first || (i - c->first) % step != 0 ||
	    (i - c->first) / step >= c->n) {
		size_t idx[AN_WINDOW], m = 0;

		for (size_t k = i; k < c->r->n && m < AN_WINDOW; k += step)
			idx[m++] = k;
		framecols_fill_only(c->r->cols, 0, idx, m, c->channels, c->parts, c->buf);
		c->first = i;
		c->n = m;
		c->step = step;
	}
	return &c->buf[(i - c->first) / step];
}

void an_cursor_fini(struct an_cursor *c)
{
	free(c->buf);
	c->buf = NULL;
}

/*
 * An analysis that reads whole frames, given runs as columns: whole frames
 * made from them for the call (zero where the columns say nothing, which
 * job_needs guarantees it does not read).
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
			return use_cases[i].run == general
				       ? general(in, err)
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
