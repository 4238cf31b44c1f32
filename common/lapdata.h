/*
 * lapdata.h - laps on distance: one lap of a run resampled on a distance
 * grid, and laps compared with a reference lap metre by metre and corner
 * by corner. The numbers behind GET /api/sessions/{sid}/runs/{rid}/laps/{n}
 * and GET /api/compare (common/lapquery.h makes the answers).
 *
 * 1. Samples (lapdata_load). A lap is the frames start_seq..end_seq of its
 *    run's frame file (the store's lap record), read with a ranged block
 *    reader, so blocks outside the lap are skipped by their headers and
 *    never decoded. The frame just before and the one just after the lap
 *    are read too: they bracket the line at both ends. Paused frames are
 *    left out. Of each frame only what the alignment needs and the asked
 *    channels are kept.
 *
 * 2. Alignment: every lap gets a progress p along the lap (m from the
 *    line), by the first method that every lap of the set supports:
 *      track       projection of the world x/z onto a track model's centre
 *                  line: a nearest-segment search over the whole line for
 *                  the first frame, then in a window of -10 m .. +max(50 m,
 *                  3 x the distance moved) around the previous match, kept
 *                  monotone, unwrapped at the line. The same place on track
 *                  gets the same distance whatever line the car takes.
 *      spline      the game's normalized position x the track length (the
 *                  frames' track_len_m, else the model's, else the lap's
 *                  own length integrated from speed), unwrapped at the line.
 *      lap_distance  the game's lap distance; the bracketing frames are
 *                  placed by speed x time from the lap's first and last frame.
 *      speed       distance integrated from speed (no distance channel).
 *    Each lap is then stretched to the track length L (the model's length,
 *    else the reference lap's own), so every lap ends exactly at L and the
 *    end of the lap shows no bogus delta.
 *
 * 3. Time: the game's lap clock (lap_time_ms) where the game has one, so
 *    time_s runs from the lap's start as the game timed it; else the game
 *    clock (game_time_s, else the receive time) from the instant the line
 *    was crossed (interpolated between the bracketing frames). The frames
 *    outside the lap continue the lap's time on the game clock. Samples are
 *    kept where the progress and the time both increase (a car standing
 *    still, duplicate frames and a coarse lap distance add nothing).
 *
 * 4. Resampling onto the grid 0, step, 2 step, ... and L itself as the last
 *    point: time and analogue channels linear in distance, discrete channels
 *    (integer channels without a unit: gear, lap, sector, position; frame
 *    flags) from the nearest sample. Up to LAPDATA_EXTRAPOLATE_M before the
 *    first sample and after the last (a lap without its bracketing frames)
 *    time goes on at the first or last speed and channels hold their value;
 *    farther out (a lap seen only in part) the lap was not driven: time,
 *    delta and values are NAN there. A value a frame does not have is NAN.
 *
 * 5. Comparison: delta_s(d) = t_lap(d) - t_ref(d), not zeroed at the line (a
 *    standing start shows as an offset). Corners come from the track model,
 *    else are found in the reference lap's path (common/corners.h on its
 *    positions every 2 m; the handedness from lateral g, else steering),
 *    else in its lateral g / speed^2; a corner table row holds each lap's
 *    time through the corner (t(end) - t(start), full resolution, so its
 *    delta equals delta_s(end) - delta_s(start)), its minimum speed and its
 *    brake point (where the brake first rises through 10 % between the
 *    previous corner's end, at most 500 m before the corner, and the apex).
 *
 * Memory: a lap keeps 104 bytes plus 4 per asked channel value per frame
 * (a 90 s lap at 333 Hz with the default channels: 4.4 MB), and at most
 * LAPDATA_MAX_LAP_BYTES: a longer lap is refused (lapdata_max_frames).
 * Who may call: any thread; objects are used by one thread at a time.
 * Errors are 0 or a negative errno. Nothing here logs.
 */
#ifndef PW_LAPDATA_H
#define PW_LAPDATA_H

#include <stddef.h>
#include <stdint.h>

#include "common/frame.h"
#include "common/manifest.h"

#define LAPDATA_STEP_MIN_M 0.1
#define LAPDATA_STEP_MAX_M 50.0
#define LAPDATA_STEP_DEFAULT_M 1.0
#define LAPDATA_MAX_LAPS 6                 /* laps compared with one reference */
#define LAPDATA_MAX_CHANNELS 32            /* asked in one request */
#define LAPDATA_MAX_POINTS 250000          /* grid points of one answer */
#define LAPDATA_MAX_FRAMES (1u << 21)      /* frames of one lap */
#define LAPDATA_MAX_LAP_BYTES (128u << 20) /* memory of one lap's samples */
#define LAPDATA_MAX_CORNERS 128
#define LAPDATA_FLAG_ID 64         /* channel ids from here on are frame flags */
#define LAPDATA_MANIFEST_ID 128    /* and from here on a manifest's channels (cs->manifest) */
#define LAPDATA_BRAKE_ON 0.1       /* brake pedal fraction of a brake point */
#define LAPDATA_CORNER_STEP_M 2.0  /* path resampling for corner detection */
#define LAPDATA_EXTRAPOLATE_M 50.0 /* beyond a lap's samples, at most this far */
#define LAPDATA_THREADS 4          /* lapdata_parallel's threads at most */

/* Channels asked for: FRAME_CH_* ids, LAPDATA_FLAG_ID + FRAME_FLAG_NO_*, or
 * LAPDATA_MANIFEST_ID + the index of a derived channel of manifest
 * (common/manifest.h: computed over each lap's frames in order, from the
 * frame before the lap; resampled linearly, written with 4 decimals). */
struct lapdata_channels {
	unsigned n;
	uint8_t id[LAPDATA_MAX_CHANNELS];
	const struct manifest *manifest; /* borrowed; NULL: no manifest ids */
};

/* One lap of a run, as the store records it (common/laps.h). */
struct lapdata_span {
	uint64_t start_seq, end_seq; /* first and last frame of the lap */
	int32_t time_ms;             /* -1 = unknown */
};

/* A corner, distances along the lap from the line (end < start: it spans
 * the line). */
struct lapdata_corner {
	int number; /* 1-based */
	int dir;    /* +1 right, -1 left */
	double start_m, apex_m, end_m;
};

/* A track model (the store's, docs/analysis-track_mapping.md); the arrays
 * are borrowed. */
struct lapdata_track {
	double length_m;
	size_t n; /* centre line points, point i at i * length_m / n */
	const double *x, *z;
	size_t ncorners;
	const struct lapdata_corner *corners;
};

enum lapdata_align {
	LAPDATA_ALIGN_TRACK = 0,
	LAPDATA_ALIGN_SPLINE,
	LAPDATA_ALIGN_LAP_DIST,
	LAPDATA_ALIGN_SPEED,
	LAPDATA_ALIGN_COUNT
};

enum lapdata_corner_source {
	LAPDATA_CORNERS_NONE = 0,
	LAPDATA_CORNERS_TRACK,     /* the track model's */
	LAPDATA_CORNERS_PATH,      /* found in the reference's positions */
	LAPDATA_CORNERS_LATERAL_G, /* found in the reference's lateral g / speed^2 */
};

/* A row of the corner table; index 0 is the reference, k the k-th lap. A
 * value that cannot be had (no speed, no brake application) is NAN. */
struct lapdata_corner_row {
	struct lapdata_corner corner;
	double time_s[1 + LAPDATA_MAX_LAPS];
	double min_speed_kmh[1 + LAPDATA_MAX_LAPS];
	double brake_m[1 + LAPDATA_MAX_LAPS]; /* brake point, m along the lap */
};

struct lapdata_lap;    /* one lap's samples: opaque */
struct lapdata_result; /* laps on one grid: opaque */

/* Channels */
/* The default set: speed_kmh, throttle, brake, steer, gear, rpm,
 * accel_lat_g, accel_lon_g, pos_m. */
void lapdata_channels_default(struct lapdata_channels *cs);
/*
 * Parse a comma-separated list of channel names (frame.h's canonical
 * names, or a frame flag's name: in_pit, lap_invalid, abs, tc, limiter,
 * paused) into cs. -EINVAL with the offending name (or "" for an empty
 * list or an empty name) copied into bad: an unknown name, a name given
 * twice, more than LAPDATA_MAX_CHANNELS names.
 */
int lapdata_channels_parse(const char *list, struct lapdata_channels *cs, char *bad,
			   size_t bad_cap);
/* The same where the names may also be manifest m's channels (m borrowed,
 * kept in cs; NULL: none). */
int lapdata_channels_parse_with(const char *list, const struct manifest *m,
				struct lapdata_channels *cs, char *bad, size_t bad_cap);
/* cs's channel c by name, a manifest's channels too. */
const char *lapdata_channels_name(const struct lapdata_channels *cs, unsigned c);
/* Name (NULL for a manifest's: lapdata_channels_name), number of values (1, 3
 * or 4), decimals worth printing, and whether the channel is resampled from
 * the nearest sample, of a channel id. */
const char *lapdata_channel_name(unsigned id);
unsigned lapdata_channel_values(unsigned id);
int lapdata_channel_decimals(unsigned id);
int lapdata_channel_discrete(unsigned id);

/* Laps */
/*
 * Read the lap span of the frame file at path with the channels cs (copied).
 * On success *out is the caller's (lapdata_lap_free). -ENODATA when the
 * file holds no frame of the lap, -EAGAIN when it ends before end_seq (a
 * recording run has not stored the lap's last frames yet), -E2BIG when the
 * lap has more than lapdata_max_frames(cs) frames, -EINVAL for a bad span, or
 * the frame file's errors (framefile_reader_open_range).
 */
int lapdata_load(const char *path, const struct lapdata_span *span,
		 const struct lapdata_channels *cs, struct lapdata_lap **out);
/* The same from frames in memory (borrowed, seqs increasing): the lap and
 * its neighbours are picked out by seq. */
int lapdata_from_frames(const struct pw_frame *f, size_t n, const struct lapdata_span *span,
			const struct lapdata_channels *cs, struct lapdata_lap **out);
/* NULL is a no-op. */
void lapdata_lap_free(struct lapdata_lap *lap);
/* The most frames a lap may have with the channels cs: LAPDATA_MAX_FRAMES,
 * fewer when its samples would take more than LAPDATA_MAX_LAP_BYTES. */
size_t lapdata_max_frames(const struct lapdata_channels *cs);
/* Frames of the lap itself (bracketing frames not counted). */
size_t lapdata_lap_frames(const struct lapdata_lap *lap);

/* Results */
/*
 * Put laps[0] (the reference, or the one lap) and laps[1..n-1] (n <= 1 +
 * LAPDATA_MAX_LAPS) on one grid of step_m (LAPDATA_STEP_MIN_M ..
 * LAPDATA_STEP_MAX_M), aligned as above with the track model tr (NULL: none).
 * The laps are borrowed and keep their alignment (a lap belongs to one
 * result at a time). On success *out is the caller's (lapdata_result_free).
 * -EINVAL for a bad step or n; -ENODATA when no alignment method suits every
 * lap (no positions with a model, no spline, no lap distance, no speed) or a
 * lap keeps fewer than two samples: why then says which lap lacks what;
 * -E2BIG when the grid would exceed LAPDATA_MAX_POINTS.
 */
int lapdata_compute(struct lapdata_lap *const *laps, size_t n, const struct lapdata_track *tr,
		    double step_m, struct lapdata_result **out, char *why, size_t why_cap);
void lapdata_result_free(struct lapdata_result *r);

/* Accessors of a result; k is a lap index (0 = the reference). */
size_t lapdata_points(const struct lapdata_result *r);
const double *lapdata_distance(const struct lapdata_result *r);       /* m */
const double *lapdata_time(const struct lapdata_result *r, size_t k); /* s */
/* t_k - t_0 at every point; NULL for k == 0. */
const double *lapdata_delta(const struct lapdata_result *r, size_t k);
/* Channel cs->id[c] of lap k: points x lapdata_channel_values() doubles,
 * point-major; NULL when lap k has no frame with the channel. */
const double *lapdata_values(const struct lapdata_result *r, size_t k, unsigned c);
double lapdata_length(const struct lapdata_result *r);
enum lapdata_align lapdata_alignment(const struct lapdata_result *r);
/* Corner table (computed when the result holds two laps or more). */
size_t lapdata_corner_count(const struct lapdata_result *r);
const struct lapdata_corner_row *lapdata_corner_row(const struct lapdata_result *r, size_t i);
enum lapdata_corner_source lapdata_corners_from(const struct lapdata_result *r);
/* Time of lap k at distance d (0..L) at full resolution, s. */
double lapdata_time_at(const struct lapdata_result *r, size_t k, double d);

/*
 * Run fn(ctx, i) for every i in [0, n), on up to LAPDATA_THREADS threads (no
 * more than the machine's cores; the caller's is one of them), and return
 * when all are done. fn must be safe to run in parallel for different i.
 * lapdata_compute aligns and resamples its laps this way; lapquery reads
 * them this way.
 */
void lapdata_parallel(size_t n, void (*fn)(void *ctx, size_t i), void *ctx);

const char *lapdata_align_name(enum lapdata_align a); /* "track", "spline", ... */
const char *lapdata_corner_source_name(enum lapdata_corner_source s);

#endif
