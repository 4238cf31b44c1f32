/*
 * export.h - a run's frames as text: the one export loop behind pw-api's
 * GET /api/sessions/{id}/runs/{run_id}/export and `pwctl export`.
 *
 * The frames come from a framefile_reader, a block at a time, so an export
 * holds one block of frames and one line of text whatever the run's length.
 * Every line (the CSV header, then one per frame) is handed to the caller's
 * write callback as soon as it is made, with its '\n'; the caller decides
 * where it goes (chunks of an HTTP response, a FILE) and stops the export
 * by returning an error from the callback.
 *
 * Formats (the channel names and units are frame.h's):
 *   csv   a header line (frame_csv_header), then frame_to_csv of each frame
 *   json  JSON lines: frame_to_json of each frame, absent channels left out
 *
 * Who may call: any thread; an export keeps no state outside the call.
 * Errors are 0 or a negative errno. Nothing here logs.
 */
#ifndef PW_EXPORT_H
#define PW_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "common/framefile.h"

#define EXPORT_LINE_MAX 8192       /* bytes of one line with its '\n' */
#define EXPORT_PROGRESS_EVERY 1024 /* frames between progress calls */

enum export_format {
	EXPORT_CSV = 0,
	EXPORT_JSON,               /* JSON lines */
	EXPORT_FORMAT_COUNT
};

/* One line: len bytes at line (borrowed for the call), the last one '\n'.
 * Returns 0 to go on, or a negative errno that stops the export. */
typedef int export_write_fn(void *ctx, const char *line, size_t len);
/* Called after the line of frame index i (0-based) for every i that is a
 * multiple of EXPORT_PROGRESS_EVERY. */
typedef void export_progress_fn(void *ctx, uint64_t i);

struct export_opts {
	enum export_format format;
	export_write_fn *write;        /* required */
	export_progress_fn *progress;  /* NULL: no progress calls */
	void *ctx;                     /* passed to write and progress */
};

/* Operations */
/*
 * Write every frame r delivers (from where r stands to its end) in
 * o->format through o->write; the CSV header comes first. *frames (may be
 * NULL) counts the frames done, also on error. A frame line that would
 * not fit EXPORT_LINE_MAX is left out (none comes near it: a frame with
 * every channel at its widest value makes a JSON line of about 2 KB;
 * test_export checks that it fits). Returns 0 at
 * the end of r (framefile_reader_info then says why it ended: a torn or
 * corrupt tail is not an error here), the write callback's error, a read
 * error of r, or -EINVAL for an unknown format or a missing callback.
 * r stays owned by the caller.
 */
int export_frames(struct framefile_reader *r, const struct export_opts *o, uint64_t *frames);

/* Accessors */
/* "csv" -> EXPORT_CSV, "json" -> EXPORT_JSON; -EINVAL for anything else. */
int export_format_parse(const char *name);
/* The media type of a format's output ("text/csv", "application/x-ndjson"),
 * NULL when unknown. */
const char *export_format_media_type(enum export_format format);

#endif
