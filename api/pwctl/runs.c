/* runs.c - pwctl run|laps|export: runs of a session and their frames. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pwctl/pwctl.h"
#include "common/clock.h"
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

int pwctl_export(const struct config *cfg, int argc, char **argv)
{
	const char *format = "csv", *out_path = NULL;
	struct framefile_info info;
	struct pw_frame *frames = NULL;
	size_t n = 0;
	json_t *run = NULL;
	FILE *out = stdout;
	static char line[8192];
	int64_t next_report;
	int rc;

	if (argc >= 1 && strcmp(argv[0], "--help") == 0)
		return usage_export(stdout);
	if (argc < 2)
		return usage_export(stderr);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			format = argv[++i];
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out_path = argv[++i];
		else
			return usage_export(stderr);
	}
	if (strcmp(format, "csv") != 0 && strcmp(format, "json") != 0)
		return usage_export(stderr);
	if ((rc = store_call(cfg, "run.get", json_pack("{s:s, s:s}", "session_id", argv[0], "run_id",
						       argv[1]), &run)) != 0)
		return rc;
	rc = framefile_load(json_string_value(json_object_get(run, "frames_path")), &frames, &n, &info);
	json_decref(run);
	if (rc < 0) {
		fprintf(stderr, "pwctl export: cannot read the run's frames: %s\n", strerror(-rc));
		return 1;
	}
	if (info.tail != FRAMEFILE_TAIL_CLEAN)
		fprintf(stderr, "pwctl export: the frame file ends in a %s tail of %llu bytes; "
				"exporting the %zu complete frames\n",
			info.tail == FRAMEFILE_TAIL_TORN ? "torn" : "corrupt",
			(unsigned long long)info.dropped_bytes, n);
	if (out_path && !(out = fopen(out_path, "w"))) {
		perror("pwctl export");
		free(frames);
		return 1;
	}
	if (strcmp(format, "csv") == 0) {
		frame_csv_header(line, sizeof line);
		fprintf(out, "%s\n", line);
	}
	next_report = clock_mono_ns() + NS_PER_S;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(format, "csv") == 0)
			frame_to_csv(&frames[i], line, sizeof line);
		else
			frame_to_json(&frames[i], line, sizeof line);
		fputs(line, out);
		fputc('\n', out);
		if ((i & 1023) == 0 && clock_mono_ns() >= next_report) {
			fprintf(stderr, "\rpwctl export: %zu / %zu frames (%.0f%%)", i, n, 100.0 * (double)i / (double)n);
			next_report += NS_PER_S;
		}
	}
	if (fflush(out) != 0 || (out != stdout && fclose(out) != 0)) {
		perror("pwctl export");
		free(frames);
		return 1;
	}
	fprintf(stderr, "%spwctl export: %zu frames written\n", n > 100000 ? "\r" : "", n);
	free(frames);
	return 0;
}
