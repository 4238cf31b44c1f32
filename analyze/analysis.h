/*
 * analysis.h - pitwall's analyses: pure functions from a session's run
 * frames to a JSON result (the seed's response shapes), one file each.
 *
 * pw-analyze (analyze.c) receives a job from the store (common/job.h: JSON
 * header + packed struct pw_frame per run), builds a struct an_input and
 * calls the analysis of the session's use case, or an_track_build for a
 * track build job; tests call them directly on
 * emulator and real-capture frames. No I/O, no globals; results are new
 * jansson references owned by the caller. On failure an analysis returns NULL
 * with a stable code (AN_E_*) and a message for people in err.
 *
 * Units and axes are the frame's (common/frame.h): speed km/h, g with lateral
 * + right, longitudinal + forward; positions world x/z in metres.
 */
#ifndef PW_ANALYSIS_H
#define PW_ANALYSIS_H

#include <jansson.h>
#include <stddef.h>

#include "common/frame.h"
#include "common/framecols.h"
#include "common/job.h"

/* The codes travel in failed job results: common/job.h defines them. */
#define AN_E_NO_DATA JOB_E_NO_DATA             /* not enough usable frames for this analysis */
#define AN_E_NOT_QUALIFIED JOB_E_NOT_QUALIFIED /* e.g. track build without left/right runs */
#define AN_E_BAD_INPUT JOB_E_BAD_INPUT
#define AN_E_NO_MEMORY JOB_E_NO_MEMORY

struct an_err {
	const char *code;
	char message[256];
};

/* Set err (may be NULL) to code and a printf-formatted message. */
void an_fail(struct an_err *err, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A run read in two passes (general): its cols hold what the analysis reads
 * over every frame (job_needs_split); load reads the channels read over the
 * laps, for frames first .. first + count - 1 (the others read as zero),
 * aside: it may run on another thread while cols are being read. adopt then
 * moves them into cols, on the thread that reads them, before they are read.
 * The worker's I/O, behind functions: load gives 0 or -errno.
 */
struct an_more {
	int (*load)(void *ctx, size_t first, size_t count);
	void (*adopt)(void *ctx);
	void *ctx;
};

struct an_run {
	const char *run_id;
	const char *feed;
	const char *label;             /* "left" / "right" matter to track_mapping */
	const struct pw_frame *frames; /* in seq order; or NULL with cols: */
	size_t n;
	const struct framecols *cols; /* the run as the columns job_needs names (general reads
					* them a window at a time; an_run_use_case gives the
					* other analyses whole frames made from them) */
	const struct an_more *more;   /* NULL: cols holds everything */
};

/* Frames a window holds (an_window). */
#define AN_WINDOW 128

/* Frames i .. i + n - 1 (n <= AN_WINDOW) of r as whole frames: r's own, or
 * made from its columns in buf (AN_WINDOW frames, zeroed once by the caller
 * for all its calls on r: only what the columns hold is written), valid
 * until the next call. */
const struct pw_frame *an_window(const struct an_run *r, size_t i, size_t n, struct pw_frame *buf);
/* The seq of frame i of r. */
uint64_t an_seq(const struct an_run *r, size_t i);

/*
 * Frames of a run one at a time, in any order (forward is what it is fast
 * at): r's own, or made from its columns a window of AN_WINDOW at a time.
 * an_frame's pointer is valid until the next an_frame call on the cursor
 * (a copy outlives it). an_cursor_init allocates the window only for a run
 * given as columns: 0 or -ENOMEM; an_cursor_fini frees it.
 */
struct an_cursor {
	const struct an_run *r;
	struct pw_frame *buf;
	size_t first, n, step; /* the window holds frames first, first + step, ... (n) */
	uint64_t channels;     /* what the window's frames are made of (FRAME_P_*) */
	unsigned parts;        /* ... and of their head (FRAMECOLS_*) */
};
int an_cursor_init(struct an_cursor *c, const struct an_run *r);
/* The cursor's frames made of these channels and head parts only, the rest of
 * a frame made from columns reading zero (present still says what the run
 * has): for a reader of a few channels over many frames, which then reads
 * only those from memory. Whole frames of a run given as frames are as they are. */
void an_cursor_only(struct an_cursor *c, uint64_t channels, unsigned parts);
const struct pw_frame *an_frame(struct an_cursor *c, size_t i);
/* Frames idx[0 .. m - 1] (m <= AN_WINDOW) of a run given as columns, made in the
 * cursor's window in that order (a reader that leaves frames out makes only those
 * it reads); valid until the next call on the cursor. */
const struct pw_frame *an_frames_at(struct an_cursor *c, const size_t *idx, size_t m);
/* an_frame for a read of every step-th frame (i, i + step, ...): the window holds
 * those frames only, the ones between are not made. */
const struct pw_frame *an_frame_every(struct an_cursor *c, size_t i, size_t step);
void an_cursor_fini(struct an_cursor *c);
/* r holds frames, whole or as columns. */
static inline int an_run_has_frames(const struct an_run *r)
{
	return r->frames != NULL || r->cols != NULL;
}

struct an_input {
	const char *session_id;
	const char *use_case; /* shift_points | car_grip | track_mapping | general */
	const char *car_name; /* may be "" */
	const char *game;     /* game name of the frames, may be "" */
	const char *track;    /* track name from the feed metadata, may be "" */
	const struct an_run *runs;
	size_t nruns;
	const json_t
		*track_model; /* general: a stored TrackModel for per-corner figures, or NULL */
};

/* shift_points.c: per gear rpm/speed ranges, full-throttle acceleration vs
 * speed, optimal upshift per gear (where the next gear accelerates harder at
 * the same speed), recommended_shift_rpm. */
json_t *an_shift_points(const struct an_input *in, struct an_err *err);

/* car_grip.c: exactly the seed's v0.7.1 car_grip response. */
json_t *an_car_grip(const struct an_input *in, struct an_err *err);

/* track.c: the seed's TrackModel from exactly two runs labelled "left" and
 * "right"; game and track_name go into the model. Shape (arrays sampled
 * along the centre line every sample_spacing_m, index i at distance
 * i * sample_spacing_m from the start/finish line, in driving direction):
 *   {"game","track_name","source":"boundary_recording","created_at",
 *    "length_m","sample_spacing_m",
 *    "center_line":[[x,z],...], "left_boundary":[[x,z],...], "right_boundary":[[x,z],...],
 *    "track_width":[m,...], "heading":[rad,...], "curvature":[1/m,...],
 *    "corners":[{"index":1,"direction":"left"|"right","entry_dist_m","apex_dist_m",
 *                "exit_dist_m","angle_deg","min_radius_m","apex":[x,z]}...],
 *    "sectors":[{"index":1,"start_dist_m","end_dist_m"}...]}
 * heading: atan2(dx, dz) of the centre line (0 = +z, + clockwise seen from
 * above, the emulator's convention); curvature + = right-hand bend. */
json_t *an_track_build(const struct an_input *in, const char *game, const char *track_name,
		       struct an_err *err);

/* general.c: laps table, best/average/consistency; per-corner entry/min/exit
 * speed and time lost to the best lap when in->track_model is given. */
json_t *an_general(const struct an_input *in, struct an_err *err);
/* The same, and when laps is not NULL the laps table as the race engineer's
 * laps (engineer.h): *laps malloc'd (the caller frees it), *nlaps of them;
 * set only when the result is. */
struct eng_lap;
json_t *an_general_laps(const struct an_input *in, struct eng_lap **laps, size_t *nlaps,
			struct an_err *err);

/* Dispatch on in->use_case (track_mapping runs an_track_build with the input's
 * game/track; general is an_general plus the race engineer's report over its
 * laps: "recommendations", "not_evaluated", "rules_evaluated", engineer.h). */
json_t *an_run_use_case(const struct an_input *in, struct an_err *err);

/* What the analysis of a use case reads of the frames: common/job.h's job_needs. */

#endif
