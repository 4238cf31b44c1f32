/* export.c - see export.h. */
#include <errno.h>
#include <string.h>

#include "common/export.h"

/* The line of one frame into line[0..EXPORT_LINE_MAX) with its '\n';
 * 0 when it does not fit. */
static size_t frame_line(enum export_format format, const struct pw_frame *f, char *line)
{
	size_t len = format == EXPORT_CSV ? frame_to_csv(f, line, EXPORT_LINE_MAX - 1)
					  : frame_to_json(f, line, EXPORT_LINE_MAX - 1);

	if (len >= EXPORT_LINE_MAX - 1)
		return 0;
	line[len] = '\n';
	return len + 1;
}

int export_frames(struct framefile_reader *r, const struct export_opts *o, uint64_t *frames)
{
	char line[EXPORT_LINE_MAX];
	const struct pw_frame *block;
	uint64_t i = 0;
	size_t n, len;
	int rc = 0;

	if (!o || !o->write || (unsigned)o->format >= EXPORT_FORMAT_COUNT) {
		rc = -EINVAL;
		goto out;
	}
	if (o->format == EXPORT_CSV) {
		len = frame_csv_header(line, sizeof line - 1);
		if (len >= sizeof line - 1) {
			rc = -EMSGSIZE;
			goto out;
		}
		line[len] = '\n';
		if ((rc = o->write(o->ctx, line, len + 1)) < 0)
			goto out;
	}
	while ((rc = framefile_reader_next(r, &block, &n)) == 1) {
		for (size_t k = 0; k < n; k++, i++) {
			if ((len = frame_line(o->format, &block[k], line)) &&
			    (rc = o->write(o->ctx, line, len)) < 0)
				goto out;
			if (o->progress && i % EXPORT_PROGRESS_EVERY == 0)
				o->progress(o->ctx, i);
		}
	}
out:
	if (frames)
		*frames = i;
	return rc;
}

int export_format_parse(const char *name)
{
	if (name && strcmp(name, "csv") == 0)
		return EXPORT_CSV;
	if (name && strcmp(name, "json") == 0)
		return EXPORT_JSON;
	return -EINVAL;
}

const char *export_format_media_type(enum export_format format)
{
	switch (format) {
	case EXPORT_CSV:
		return "text/csv";
	case EXPORT_JSON:
		return "application/x-ndjson";
	default:
		return NULL;
	}
}
