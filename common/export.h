/*
 * export.h - a run's frames out of pitwall: the one export loop behind pw-api's
 * GET /api/sessions/{id}/runs/{run_id}/export and `pwctl export`.
 *
 * The frames come from a framefile_reader, a block at a time; an export holds
 * one block of frames and its output buffer, whatever the run's length
 * (MoTeC: plus 4096 rows of samples and 16 KB per channel; Parquet: plus one
 * row group). Output
 * goes to the caller's write callback in pieces of at most EXPORT_CHUNK bytes;
 * the caller decides where it goes (chunks of an HTTP response, a FILE) and
 * stops the export by returning an error from the callback. Nothing is
 * written before the export knows it can be made: an export that fails
 * before its first write can still be answered with an error.
 *
 * Formats (docs/export.md has the user's side):
 *   csv      text/csv: a header line, then one line per row
 *   json     JSON lines: one object per row, absent channels left out
 *   ld       a MoTeC i2 log (motec.h): integer channels at one rate on the
 *            run clock (hz, default EXPORT_LD_HZ). One pass over the run
 *            writes every sample row to an unnamed file in opts.tmp_dir (the
 *            count and the channels the run has are known only at its end);
 *            the log is then built channel by channel in a second unnamed
 *            file and handed on whole
 *   ldx      the log's XML sidecar: a lap beacon at each lap end
 *   parquet  Apache Parquet (parquet.h): one row per row, typed columns
 *
 * Plain and with options. Without options (no channels, hz or lap) csv and
 * json are exactly what they always were: frame_csv_header / frame_to_csv
 * and frame_to_json of every frame. With any option, every format:
 *   - starts each row with time_s, seconds on the run clock from the first
 *     exported frame, to the microsecond;
 *   - has the columns of channels, in the order given (default: every
 *     column of the plain CSV), arrays as one column per value in csv and
 *     parquet (pos_m_x ...) and as arrays in json; floats in the shortest
 *     form that reads back as the same float (numfmt.h); the derived column
 *     names the exported channels of the row that pitwall derived (csv and
 *     parquet: space-separated, json: an array left out when empty), the
 *     MoTeC log's event comment those of the whole log;
 *   - with hz, is resampled to hz rows a second on the run clock (below);
 *   - with lap, covers that lap's frames only (start_seq..end_seq).
 * ld, ldx and parquet always work with options (ld: hz 60 when not given).
 *
 * Derived channels by manifest (opts.manifest, common/manifest.h; csv and
 * json): computed over the exported frames in order (derivative and integral
 * across the whole export), written after the row's other columns (csv: a
 * column each, empty where a channel has no value; json: a key each, left
 * out where it has none), in the shortest form that reads back as the same
 * float; resampled to hz like a float channel.
 *
 * The run clock: 0 at the first exported frame; each frame advances it by the
 * game clock's step (game_time_s) when both frames have one and it advanced
 * by 0..EXPORT_CLOCK_GAP_S, else by the receive-time step (t_ns, never
 * backwards). It is monotonic, stands still while a game pauses its clock,
 * and steps over rewinds and restarts.
 *
 * Resampling to hz: row k is at T = k / hz for every T from 0 to the last
 * frame's time. Between the frames a (at ta <= T) and b (at tb > T) the row
 * is the nearer frame, with every float channel present in both interpolated
 * linearly, except across a jump (yaw, pitch, roll moving more than pi;
 * lap_dist_m or spline going down at the line) or a gap of more than
 * EXPORT_INTERP_GAP_S, where the nearer frame's value stays. Integer
 * channels, flags, seq and presence are the nearer frame's.
 *
 * Who may call: any thread; an export keeps no state outside the call.
 * Errors are 0 or a negative errno. Nothing here logs.
 */
#ifndef PW_EXPORT_H
#define PW_EXPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/framefile.h"
#include "common/manifest.h"

#define EXPORT_LINE_MAX 8192       /* bytes of one text row with its '\n' */
#define EXPORT_CHUNK 65536         /* bytes handed to write at most */
#define EXPORT_PROGRESS_EVERY 1024 /* frames between progress calls */
#define EXPORT_HZ_MAX 1000
#define EXPORT_LD_HZ 60         /* MoTeC's rate when hz is not given */
#define EXPORT_CLOCK_GAP_S 2.0  /* a larger game-clock step is not trusted */
#define EXPORT_INTERP_GAP_S 1.0 /* no interpolation across a larger gap */
#define EXPORT_COLS_MAX 256
#define EXPORT_ERR_MAX 200 /* bytes of an error message */

enum export_format {
	EXPORT_CSV = 0,
	EXPORT_JSON, /* JSON lines */
	EXPORT_LD,   /* MoTeC i2 log */
	EXPORT_LDX,  /* MoTeC i2 sidecar: lap beacons */
	EXPORT_PARQUET,
	EXPORT_FORMAT_COUNT
};

/* A column of the options' channel list. */
enum export_col_kind {
	EXPORT_COL_SEQ = 0,
	EXPORT_COL_T_NS,
	EXPORT_COL_FEED,
	EXPORT_COL_GAME,
	EXPORT_COL_GAME_SESSION,
	EXPORT_COL_CHANNEL, /* frame_channels[bit], value idx or the whole array */
	EXPORT_COL_FLAGS,   /* every flag */
	EXPORT_COL_FLAG,    /* flag number bit */
	EXPORT_COL_DERIVED, /* which of the exported channels pitwall derived */
};

struct export_col {
	uint8_t kind; /* enum export_col_kind */
	uint8_t bit;
	int8_t idx; /* -1: every value of an array channel */
};

/* A lap of the run, as the store keeps it (laps.h, run.get's "laps"). */
struct export_lap {
	uint32_t number;
	uint64_t start_seq, end_seq;
	int32_t time_ms; /* -1: unknown */
	uint8_t valid;
};

/* What the export says about the run (MoTeC header, Parquet metadata).
 * Strings borrowed, NULL or "" when unknown. */
struct export_run {
	const char *session_id, *run_id;
	const char *session_label, *run_label;
	const char *game; /* canonical name, "assetto_corsa" */
	const char *track, *car, *driver;
	const struct export_lap *laps; /* the run's laps, any order (borrowed) */
	size_t nlaps;
};

/* Hand len bytes (borrowed for the call) on. csv and json hand whole lines.
 * Returns 0 to go on, or a negative errno that stops the export. */
typedef int export_write_fn(void *ctx, const void *buf, size_t len);
/* Called after frame i (0-based, of the frames exported) for every i that is
 * a multiple of EXPORT_PROGRESS_EVERY. */
typedef void export_progress_fn(void *ctx, uint64_t i);

struct export_opts {
	enum export_format format;
	export_write_fn *write;       /* required */
	export_progress_fn *progress; /* NULL: no progress calls */
	void *ctx;                    /* passed to write and progress */
	const char *tmp_dir;          /* ld: where the log is built; NULL: "/tmp" */
	struct export_run run;
	/* options: set with export_opts_set, then export_opts_resolve */
	int with_options; /* channels, hz or lap given */
	size_t ncols;     /* 0: every column */
	struct export_col cols[EXPORT_COLS_MAX];
	unsigned hz;                     /* 0: every frame */
	uint32_t lap;                    /* 0: the whole run */
	uint64_t first_seq, last_seq;    /* the lap's frames (export_opts_resolve) */
	int zstd;                        /* parquet: compress pages (zstd level 1) */
	unsigned given;                  /* parameters set so far (export_opts_set) */
	const struct manifest *manifest; /* derived channels to add (borrowed); NULL: none */
};

/* What an export did. */
struct export_result {
	uint64_t frames; /* frames of the run exported (the last pass) */
	uint64_t rows;   /* rows / samples written */
	uint64_t bytes;  /* handed to write */
};

/* Lifecycle */
/* Zeroed options: csv, no options, parquet uncompressed. */
void export_opts_init(struct export_opts *o);

/* Operations */
/*
 * Take one parameter of a request: format (csv|json|ld|ldx|parquet),
 * channels (comma-separated names: frame channels such as speed_kmh or
 * tyre_temp_c, array values such as tyre_temp_c_fl, seq, t_ns, feed, game,
 * game_session, flags or a flag name, derived; time_s is always there), hz (a whole
 * number 1..EXPORT_HZ_MAX), lap (a lap number >= 1), compression (none|zstd,
 * parquet only). -EINVAL with a message naming the parameter in err
 * ("hz: must be a whole number from 1 to 1000") for a bad value, an unknown
 * parameter, or one given twice.
 */
int export_opts_set(struct export_opts *o, const char *name, const char *value, char *err,
		    size_t errcap);
/*
 * Check the options together, once all are set and o->run.laps is known:
 * find the lap's frames (-ENOENT: "lap: the run has no lap 7"), and refuse
 * what cannot be made (-EINVAL: compression for a format other than
 * parquet; channels with nothing MoTeC has a channel for, for ld; a manifest
 * for a format other than csv or json).
 */
int export_opts_resolve(struct export_opts *o, char *err, size_t errcap);
/*
 * Write the run r delivers (from where it stands) in o->format through
 * o->write. res (may be
 * NULL) reports what was done, also on error. Returns 0 at the end of r
 * (framefile_reader_info then says why it ended: a torn or corrupt tail is
 * not an error here), the write callback's error, a read error of r,
 * -ENODATA for an ld/ldx of no frames or none of the chosen channels, -EFBIG
 * for an ld over 4 GB, -EINVAL for bad options or a missing callback, or
 * the error of the temporary file. r stays owned by the caller; with
 * channels chosen (csv, json, parquet), it is set to decode only theirs
 * (framefile_reader_only).
 */
int export_frames(struct framefile_reader *r, const struct export_opts *o,
		  struct export_result *res);

/*
 * The run's laps from the JSON array of run.get ("laps": [{"number",
 * "start_seq", "end_seq", "time_ms", "valid"}, ...]); entries missing a
 * number or seqs are skipped. *laps is malloc'd (free(); NULL when *n == 0).
 * -ENOMEM; a non-array is no laps.
 */
int export_laps_from_json(json_t *laps, struct export_lap **out, size_t *n);

/* Accessors */
/* "csv" -> EXPORT_CSV ... "parquet"; -EINVAL for anything else. */
int export_format_parse(const char *name);
/* The media type of a format's output ("text/csv", "application/x-ndjson",
 * "application/octet-stream" ...), NULL when unknown. */
const char *export_format_media_type(enum export_format format);
/* The file name extension, without the dot: csv, jsonl, ld, ldx, parquet. */
const char *export_format_ext(enum export_format format);
/*
 * A file name for the export without its extension, from the run's track (or
 * game), the first 8 characters of its id and the lap: "monza_3f2a9c1b_lap3"
 * (an ld and its ldx must share it). Only [A-Za-z0-9_-]. snprintf semantics.
 */
size_t export_file_stem(const struct export_opts *o, char *buf, size_t cap);

#endif
