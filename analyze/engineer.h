/*
 * engineer.h - the race engineer: setup recommendations from the driver's own
 * laps (docs/analysis-recommendations.md has every rule with its numbers and
 * their sources).
 *
 * A rules pass over the frames of the laps it is given. Each rule (rules.c,
 * the numbered rules of REFERENCE-ux §5) declares the channels it needs,
 * finds its symptom in sustained windows of driving frames (speed >= 5 m/s,
 * not in the pit, not paused), latched once per episode, and sums it up per
 * lap; the engineer turns the laps a rule fired on into one recommendation
 * (seed 004's shape) with the evidence, the preferred adjustment within the
 * caps and its fallbacks, and a confidence from how strong and how repeated
 * the symptom is. A rule whose channels the game does not send is listed in
 * not_evaluated with the missing channels, never guessed.
 *
 * Two callers:
 *   - the general analysis (general.c) after a session: every completed lap
 *     of every run, all confidences, at most ENG_MAX_SESSION findings;
 *   - a per-lap job (analyze.c) at each lap end while recording, opts.live:
 *     one lap, at most ENG_MAX_LIVE findings, high and medium only, none of
 *     a category in opts.suppress (the store's cooldown).
 *
 * Result (a new reference, the caller owns it):
 *   {"recommendations":[{seed 004's recommendation fields, "id", "session_id",
 *      "lap_number", "rule", "rule_number", "kind", "evidence"}...],
 *    "not_evaluated":[{"rule","rule_number","title","missing":[channel...]}...],
 *    "evaluated":[rule...], "laps_analyzed":N}
 *
 * Pure: no I/O, no globals, no allocation per frame. One call does one pass
 * over the laps' frames (plus a sampled pass for the per-run calibrations).
 */
#ifndef PW_ENGINEER_H
#define PW_ENGINEER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/analysis.h"

#define ENG_MAX_SESSION 6 /* findings of a session report */
#define ENG_MAX_LIVE 2    /* findings of one lap while driving (deferred findings) */
#define ENG_COOLDOWN_S 20 /* per category between live findings (the store applies it) */

/* seed 004's categories, in its order (common/job.h names them) */
enum eng_category {
	ENG_TIRES = 0,
	ENG_GEARING,
	ENG_ALIGNMENT,
	ENG_ANTI_ROLL,
	ENG_SPRINGS,
	ENG_DAMPING,
	ENG_AERO,
	ENG_BRAKES,
	ENG_DIFFERENTIAL,
	ENG_CATEGORY_COUNT
};

enum eng_confidence { ENG_LOW = 0, ENG_MEDIUM, ENG_HIGH };

/* A lap to analyse: frames first..last (inclusive) of run `run` of the input. */
struct eng_lap {
	size_t run;
	size_t first, last;
	uint32_t number; /* the lap number the findings name (1-based) */
};

struct eng_opts {
	bool live;         /* a per-lap job: see the top comment */
	uint32_t suppress; /* live: categories (1u << ENG_*) still cooling down */
	unsigned threads;  /* laps walked on this many threads, 1 or 2 (0: two when the
			    * laps hold ENG_PARALLEL_MIN_FRAMES or more); the same result */
};

#define ENG_PARALLEL_MIN_FRAMES 100000 /* fewer are not worth a thread */

/* The recommendations for laps (nlaps, borrowed) of in->runs. opts may be
 * NULL (a session report). NULL with err set (AN_E_BAD_INPUT for a lap out of
 * its run, AN_E_NO_MEMORY) on failure; no laps is a result with none. */
json_t *an_engineer(const struct an_input *in, const struct eng_lap *laps, size_t nlaps,
		    const struct eng_opts *opts, struct an_err *err);

/* "tires", "gearing", ...; NULL out of range. */
const char *eng_category_name(unsigned cat);
/* The category named name, or -1. */
int eng_category_parse(const char *name);
/* "low", "medium", "high"; the confidence named name, or -1. */
const char *eng_confidence_name(unsigned conf);
int eng_confidence_parse(const char *name);

#endif
