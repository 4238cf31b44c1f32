/* runs.c - pwctl run|laps: runs of a session (pwctl export: export.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pwctl/pwctl.h"

static int usage_runs(FILE *out)
{
	fprintf(out, "usage: pwctl run start SESSION FEED [--label L] [--merge FEED[,FEED...]]\n"
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
				for (char *t = strtok_r(list, ",", &save); t;
				     t = strtok_r(NULL, ",", &save))
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
			{ "stop", "run.stop" },
			{ "get", "run.get" },
			{ "delete", "run.delete" },
		};
		for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
			if (strcmp(argv[0], verbs[i][0]) == 0)
				return store_call(cfg, verbs[i][1],
						  json_pack("{s:s, s:s}", "session_id", argv[1],
							    "run_id", argv[2]),
						  NULL);
	}
	return usage_runs(stderr);
}
