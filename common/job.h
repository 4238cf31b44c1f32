/*
 * job.h - the analysis job and result messages between pw-store and the
 * analysis workers (docs/architecture.md §4), version JOB_VERSION. The store encodes jobs
 * and decodes results, pw-analyze decodes jobs and encodes results, the test
 * tools do either; nothing else writes or parses these messages.
 *
 * A job is one multipart ZeroMQ message (store PUSH -> worker PULL):
 *   part 0  JSON header
 *           {"v":1|2,"kind":"analysis"|"track_build"|"lap","job_id","session_id",
 *            "use_case","car_name","deadline_ms","frame_size":384,
 *            "frame_version":1,"game"?,"track"?,"track_model"?,
 *            "lap_number"?,"suppress"?,
 *            "runs":[{"run_id","feed_name","label","frames",
 *                     "encoding"?,"channels"?,"parts"?,"path"?}...]}
 *   part 1+ one part per entry of "runs", in that order, by its "encoding":
 *           "frames" (version 1's only one, and the default): the run's frames
 *           as packed struct pw_frame (common/frame.h), frames x frame_size
 *           bytes;
 *           "framefile" (version 2): a frame file image (framefile_extract,
 *           format 2) carrying only the columns the analysis reads: "channels"
 *           (FRAME_P_* bits) and "parts" (FRAMECOLS_* bits, job_needs), as
 *           stored in the run's file: an hour of a game's frames is a few MB
 *           instead of 460;
 *           "path" (version 2): nothing (0 bytes); "path" is the run's frame
 *           file on the store's host, for a worker there to read those
 *           columns itself (the store sends it when its job endpoint is
 *           ipc:// or inproc://, which only reach workers on its host).
 *
 * kind "analysis" (also when "kind" is absent: the jobs of stores that knew
 * no other kind) runs the analysis of the session's use case; the result is
 * stored as the session's analysis. kind "track_build" builds the track model
 * named "game"/"track" from the runs labelled left and right; its use_case
 * is "track_mapping", so a worker that ignores "kind" computes the same model.
 * The result of a track build is the model, which the store writes to
 * tracks/<game>/<track>.json. kind "lap" is a per-lap job while a run records
 * (store/engineer.c): one run holding one completed lap's frames, its
 * "lap_number" (1..2^31-1, required) and "suppress", the recommendation
 * categories still cooling down (an array of at most JOB_MAX_SUPPRESS
 * strings, optional); its result is the race engineer's findings for that lap
 * (analyze/engineer.h), which the store publishes and does not keep.
 *
 * A result is one JSON part (worker PUSH -> store PULL), JOB_RESULT_VERSION:
 *   {"v":1,"job_id","session_id","ok":true,"analysis":{...}}
 *   {"v":1,"job_id","session_id","ok":false,"error":{"code","message"}}
 * error.code is one of JOB_E_* (the analyses' own codes, analyze/analysis.h).
 *
 * The decoders trust nothing: every field they read is checked for its type
 * and range, and each run's frame part against its announced frame count
 * (frames x frame_size bytes, each frame of FRAME_VERSION_MIN..FRAME_VERSION;
 * older frames, as an older store sends them, come out upgraded to
 * FRAME_VERSION, see frame_upgrade; a "framefile" image must load, every
 * CRC checked, to exactly that many frames). A "path" is only checked for
 * its form (an absolute path to a .frames file): the worker decides whether
 * it may read it (pw-analyze: only inside its own data dir). A failure is
 * -EPROTO with a message for people naming what was wrong.
 *
 * Memory: a job the caller fills for job_encode/job_send only borrows (its
 * strings, frames and images stay the caller's). job_decode fills a job whose
 * strings point into its own copy of the header and whose frames are its
 * own aligned copies (a "framefile" run: its own columns); job_release frees
 * them. The same for results.
 */
#ifndef PW_JOB_H
#define PW_JOB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/frame.h"
#include "common/framecols.h"

#define JOB_VERSION 2 /* a job of only "frames" runs is sent as 1 */
#define JOB_RESULT_VERSION 1
#define JOB_MAX_RUNS 256                /* runs of one job (a session's at most) */
#define JOB_MAX_RUN_FRAMES (64u << 20)  /* 24 GiB of frames: refused long before */
#define JOB_RESULT_MAX_BYTES (64 << 20) /* a larger result is refused */
#define JOB_MAX_SUPPRESS 16             /* categories a lap job names */

/* Error codes of a failed result: the analyses' (analyze/analysis.h). */
#define JOB_E_NO_DATA "no_data"             /* not enough usable frames for this analysis */
#define JOB_E_NOT_QUALIFIED "not_qualified" /* e.g. track build without left/right runs */
#define JOB_E_BAD_INPUT "bad_input"         /* a malformed job, or input no analysis reads */
#define JOB_E_NO_MEMORY "no_memory"

enum job_kind { JOB_ANALYSIS = 0, JOB_TRACK_BUILD, JOB_LAP, JOB_KIND_COUNT };

/* How a run's frames travel (the header's "encoding"). */
enum job_encoding { JOB_ENC_FRAMES = 0, JOB_ENC_FRAMEFILE, JOB_ENC_PATH };

struct job_run {
	const char *run_id;
	const char *feed_name;
	const char *label;             /* "left" / "right" matter to track builds */
	const struct pw_frame *frames; /* JOB_ENC_FRAMES: nframes, in seq order; NULL when 0 */
	size_t nframes;                /* every encoding: the run's frames */
	enum job_encoding encoding;
	/* JOB_ENC_FRAMEFILE and JOB_ENC_PATH: the columns the analysis reads */
	uint64_t channels; /* FRAME_P_* */
	unsigned parts;    /* FRAMECOLS_* */
	const void *image; /* JOB_ENC_FRAMEFILE: the extract, image_len bytes */
	size_t image_len;
	const char *path; /* JOB_ENC_PATH: the run's frame file */
	/* job_decode_split of a JOB_ENC_FRAMEFILE run: channels not loaded yet (0: none) */
	uint64_t per_lap;
	/* job_decode of a JOB_ENC_FRAMEFILE run: the image loaded as columns (its own) */
	struct framecols cols;
};

struct job {
	enum job_kind kind;
	const char *job_id;        /* required, non-empty */
	const char *session_id;    /* required */
	const char *use_case;      /* required: shift_points | car_grip | track_mapping | general */
	const char *car_name;      /* "" when none (NULL is written as "") */
	const char *game, *track;  /* "" / NULL: none (left out of the header) */
	const json_t *track_model; /* NULL: none */
	int64_t deadline_ms;       /* informative: when the store sends it again */
	int64_t lap_number;        /* JOB_LAP: the lap's number (>= 1); 0 otherwise */
	const json_t *suppress;    /* JOB_LAP: array of category strings, or NULL */
	const struct job_run *runs;
	size_t nruns;
	/* job_decode's storage, freed by job_release; NULL in a job the caller filled */
	json_t *hdr;
	void *mem;
};

/* One received message part (borrowed). */
struct job_part {
	const void *data;
	size_t len;
};

struct job_result {
	const char *job_id;
	const char *session_id;
	int ok;
	const json_t *analysis;     /* ok: the result, an object (for a track build, the model) */
	const char *code, *message; /* !ok: the error */
	json_t *root;               /* job_result_decode's storage, freed by job_result_release */
};

/*
 * The race engineer's recommendations (seed 004's `recommendation`), which
 * the analysis results carry and the store filters and publishes: their
 * categories in the seed's order, and their confidences from the lowest.
 */
#define JOB_REC_CATEGORIES 9
#define JOB_REC_CONFIDENCES 3
extern const char *const job_rec_category_names[JOB_REC_CATEGORIES];
extern const char *const job_rec_confidence_names[JOB_REC_CONFIDENCES];
/* The index of a category / confidence name, or -1 (NULL included). */
int job_rec_category(const char *name);
int job_rec_confidence(const char *name);

/* "analysis" / "track_build" / "lap"; NULL for a kind out of range. */
const char *job_kind_name(enum job_kind kind);

/*
 * What the analysis of a use case reads of its runs' frames: the channels
 * (FRAME_P_*) and head parts (FRAMECOLS_*; seq and ids always), the columns a
 * "framefile" or "path" run carries. The store and the workers agree on it
 * here; analyze/analysis.c's tests check that every analysis reads nothing
 * else. 0, or -EINVAL for an unknown use case.
 */
int job_needs(const char *use_case, uint64_t *channels, unsigned *parts);
/*
 * The part of job_needs an analysis reads over every frame of a run, and
 * the channels it reads only over the frames its laps span (*per_lap; 0
 * when it reads everything everywhere): general's lap table needs 11
 * channels over the whole run, its race engineer the others over the laps.
 * A worker that reads a run's file itself loads the first, then the rest
 * for the laps (framefile_load_cols_range). 0, or -EINVAL.
 */
int job_needs_split(const char *use_case, uint64_t *channels, unsigned *parts, uint64_t *per_lap);

/* The header (part 0) of j as compact JSON text: malloc'd, the caller frees;
 * NULL when j lacks a required field, has more than JOB_MAX_RUNS runs, or
 * memory runs out. */
char *job_encode(const struct job *j);
/* Send j on a PUSH socket: the header, then one part per run (the runs'
 * frames, borrowed). Returns 1 when sent, 0 when no peer can take it now
 * (try later: nothing was sent), or -errno. */
int job_send(void *sock, const struct job *j);
/* job_send, giving ZeroMQ the runs' bytes rather than a copy of each:
 * imgs[i], when it is the malloc'd block run i's bytes are in (a "framefile"
 * run's image, or the block a "frames" run's frames start in or after), is
 * freed once sent and set to NULL (the caller frees what is left in imgs, as
 * before). 0: nothing sent, nothing given; an error after the header may
 * have given some (ZeroMQ frees them). */
int job_send_giving(void *sock, const struct job *j, void **imgs);
/* One received multipart message, its parts as ZeroMQ holds them. */
struct job_inbox;

/* Receive one whole message from sock (flags: 0 or ZMQ_DONTWAIT for the first
 * part). Up to JOB_MAX_RUNS + 1 parts are kept; further ones are drained and
 * only counted, so that job_decode refuses the job without reading them.
 * 0 with *out (free with job_inbox_free), -EAGAIN, or -errno. */
int job_recv(void *sock, int flags, struct job_inbox **out);
/* The parts of a received message (borrowed from ib) and their count, which
 * is JOB_MAX_RUNS + 2 when more parts than a job has came. */
const struct job_part *job_inbox_parts(const struct job_inbox *ib, size_t *nparts);
void job_inbox_free(struct job_inbox *ib);

/* Decode and validate a received job from its nparts parts (borrowed: the
 * frames are copied into memory aligned for struct pw_frame). 0 with *j
 * filled, or -EPROTO (malformed; err says what) / -ENOMEM. On failure
 * j->job_id and j->session_id still point at the header's strings when it
 * named them (so a worker can answer the job), else they are NULL. Call
 * job_release(j) after either. */
int job_decode(struct job *j, const struct job_part *parts, size_t nparts, char *err, size_t cap);
/* job_decode, but a "framefile" run of a use case job_needs_split splits
 * (general) is loaded in part: the columns read over every frame; the
 * others, named in its per_lap, stay in its image, which then points into
 * parts (borrowed: keep them until the run's second pass,
 * framefile_load_cols_range_buf, is done). */
int job_decode_split(struct job *j, const struct job_part *parts, size_t nparts, char *err,
		     size_t cap);
/* Free what job_decode allocated; a zeroed or caller-filled job is left alone. */
void job_release(struct job *j);

/* A result as compact JSON text (malloc'd, the caller frees; NULL when out
 * of memory or job_id is NULL). analysis (borrowed) non-NULL: an ok result;
 * else a failed one with code and message. A session analysis's numbers are
 * written with 10 significant digits (what the store keeps), a track
 * model's (kind JOB_TRACK_BUILD) in full, as the store replies with it. */
char *job_result_encode(enum job_kind kind, const char *job_id, const char *session_id,
			const json_t *analysis, const char *code, const char *message);
/* Decode and validate a result of len bytes (borrowed). 0 with *r filled,
 * or -EPROTO (err says why) / -E2BIG (over JOB_RESULT_MAX_BYTES). Call
 * job_result_release(r) after either. */
int job_result_decode(struct job_result *r, const void *buf, size_t len, char *err, size_t cap);
void job_result_release(struct job_result *r);

#endif
