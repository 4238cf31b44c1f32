/* runs.c - pwctl run|laps|export: runs of a session and their frames. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pwctl/pwctl.h"
#include "common/clock.h"
#include "common/export.h"
#include "common/framefile.h"

static int usage_runs(FILE *out)
{
	fprintf(out,
		"usage: pwctl run start SESSION FEED [--label L] [--merge FEED[,FEED...]]\n"
		"       pwctl run stop|get|delete SESSION RUN\n"
		"       pwctl laps SESSION\n"
		"A run records FEED's frames into the session until it is stopped; --merge\n"
		"fills channels the feed lacks from other feeds at the same instant.\n");
	return out == stdout ? 0 : 2;
}

int pwctl_runs(const struct config *cfg, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "--help") == 0)
		return usage_runs(stdout);
	if (argc >= 3 && strcmp(argv[0], "start") == 0) {
		json_t *args = json_pack("{s:s, s:s}", "session_id", argv[1], "feed_name", argv[2]);
		for (int i = 3; i < argc; i++) {
			if (strcmp(argv[i], "--label") == 0 && i + 1 < argc) {
				json_object_set_new(args, "label", json_string(argv[++i]));
			} else if (strcmp(argv[i], "--merge") == 0 && i + 1 < argc) {
				json_t *a = json_array();
				char *list = strdup(argv[++i]), *save = NULL;
				for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
					json_array_append_new(a, json_string(t));
				free(list);
				json_object_set_new(args, "merge_feeds", a);
			} else {
				json_decref(args);
				return usage_runs(stderr);
			}
		}
		return store_call(cfg, "run.start", args, NULL);
	}
	if (argc == 3) {
		static const char *const verbs[][2] = {
			{ "stop", "run.stop" }, { "get", "run.get" }, { "delete", "run.delete" },
		};
		for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
			if (strcmp(argv[0], verbs[i][0]) == 0)
				return store_call(cfg, verbs[i][1],
						  json_pack("{s:s, s:s}", "session_id", argv[1], "run_id",
							    argv[2]), NULL);
	}
	return usage_runs(stderr);
}

static int usage_export(FILE *out)
{
	fprintf(out,
		"usage: pwctl export SESSION RUN [--format csv|json] [--out FILE]\n"
		"Writes the run's frames as CSV (a header line, then one row per frame) or\n"
		"JSON lines (one object per frame, absent channels left out) to FILE or\n"
		"stdout. Long exports show a progress line on stderr.\n");
	return out == stdout ? 0 : 2;
}

/* Where pwctl export writes and how it reports progress. */
struct export_dest {
	FILE *out;
	uint64_t total;            /* frames the file holds, for the progress line */
	int64_t next_report;       /* clock_mono_ns of the next progress line */
};

static int write_line(void *ctx, const char *line, size_t len)
{
	struct export_dest *d = ctx;

	return fwrite(line, 1, len, d->out) == len ? 0 : -(errno ? errno : EIO);
}

static void show_progress(void *ctx, uint64_t i)
{
	struct export_dest *d = ctx;

	if (clock_mono_ns() < d->next_report)
		return;
	fprintf(stderr, "\rpwctl export: %llu / %llu frames (%.0f%%)", (unsigned long long)i,
		(unsigned long long)d->total, 100.0 * (double)i / (double)d->total);
	d->next_report += NS_PER_S;
}

static void report_tail(const struct framefile_info *info, uint64_t frames)
{
	fprintf(stderr, "pwctl export: the frame file ends in a %s tail of %llu bytes; "
			"exporting the %llu complete frames\n",
		info->tail == FRAMEFILE_TAIL_TORN ? "torn" : "corrupt",
		(unsigned long long)info->dropped_bytes, (unsigned long long)frames);
}

int pwctl_export(const struct config *cfg, int argc, char **argv)
{
	const char *out_path = NULL;
	struct framefile_info info, end;
	struct framefile_reader *r = NULL;
	struct export_dest dest = { .out = stdout };
	struct export_opts opts = { .format = EXPORT_CSV, .write = write_line,
				    .progress = show_progress, .ctx = &dest };
	uint64_t n = 0;
	json_t *run = NULL;
	int rc, format;

	if (argc >= 1 && strcmp(argv[0], "--help") == 0)
		return usage_export(stdout);
	if (argc < 2)
		return usage_export(stderr);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
			if ((format = export_format_parse(argv[++i])) < 0)
				return usage_export(stderr);
			opts.format = (enum export_format)format;
		} else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
			out_path = argv[++i];
		} else {
			return usage_export(stderr);
		}
	}
	if ((rc = store_call(cfg, "run.get", json_pack("{s:s, s:s}", "session_id", argv[0], "run_id",
						       argv[1]), &run)) != 0)
		return rc;
	rc = framefile_reader_open(&r, json_string_value(json_object_get(run, "frames_path")),
				   &info);
	json_decref(run);
	if (rc < 0) {
		fprintf(stderr, "pwctl export: cannot read the run's frames: %s\n", strerror(-rc));
		return 1;
	}
	if (info.tail != FRAMEFILE_TAIL_CLEAN)
		report_tail(&info, info.frames);
	if (out_path && !(dest.out = fopen(out_path, "w"))) {
		perror("pwctl export");
		framefile_reader_close(r);
		return 1;
	}
	dest.total = info.frames;
	dest.next_report = clock_mono_ns() + NS_PER_S;
	rc = export_frames(r, &opts, &n);
	framefile_reader_info(r, &end);
	framefile_reader_close(r);
	if (rc == 0 && end.tail != info.tail) /* a block the scan passed did not decode */
		report_tail(&end, n);
	if (rc == 0 && fflush(dest.out) != 0)
		rc = -errno;
	if (dest.out != stdout && fclose(dest.out) != 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		fprintf(stderr, "pwctl export: %s\n", strerror(-rc));
		return 1;
	}
	fprintf(stderr, "%spwctl export: %llu frames written\n", n > 100000 ? "\r" : "",
		(unsigned long long)n);
	return 0;
}
