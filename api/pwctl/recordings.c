/* recordings.c - pwctl recordings|recording: raw-packet recordings in the store. */
#include <stdio.h>
#include <string.h>

#include "api/pwctl/pwctl.h"

static const char usage_text[] =
	"usage: pwctl recordings [--json]\n"
	"       pwctl recording start [--name N] [--game G] [--track T] [--car C]\n"
	"                             [--use-case U] [--notes X]\n"
	"       pwctl recording stop [ID]\n"
	"       pwctl recording get|delete ID\n"
	"       pwctl recording data ID FEED\n"
	"A recording copies every feed's raw packets into one pcap file per feed\n"
	"(<data dir>/recordings/<id>/<feed>.pcap, opens in Wireshark) until stopped.\n"
	"At most one recording is active. Each subcommand has its own --help.\n";

static int usage(FILE *out)
{
	fputs(usage_text, out);
	return out == stdout ? 0 : 2;
}

static int wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : "-";
}

static json_int_t total_packets(json_t *rec)
{
	json_int_t n = 0;
	size_t i;
	json_t *f;

	json_array_foreach(json_object_get(rec, "feeds"), i, f)
		n += json_integer_value(json_object_get(f, "packets"));
	return n;
}

static int cmd_list(const struct config *cfg, int argc, char **argv)
{
	json_t *list = NULL, *r;
	size_t i;
	int rc;

	if (wants_help(argc, argv)) {
		printf("usage: pwctl recordings [--json]\n"
		       "Every recording, oldest first: ID, STATUS (active/stopped), NAME, GAME,\n"
		       "PACKETS (all feeds) and STARTED; --json prints the manifests.\n");
		return 0;
	}
	if (argc == 1 && strcmp(argv[0], "--json") == 0)
		return store_call(cfg, "recording.list", NULL, NULL);
	if (argc)
		return usage(stderr);
	if ((rc = store_call(cfg, "recording.list", NULL, &list)) != 0)
		return rc;
	printf("%-36s  %-7s  %-24s  %-26s  %10s  %s\n", "ID", "STATUS", "NAME", "GAME", "PACKETS",
	       "STARTED");
	json_array_foreach(list, i, r)
		printf("%-36s  %-7s  %-24s  %-26s  %10lld  %s\n", str(r, "id"), str(r, "status"),
		       str(r, "name"), str(r, "game"), (long long)total_packets(r),
		       str(r, "started_at"));
	json_decref(list);
	return 0;
}

static int cmd_start(const struct config *cfg, int argc, char **argv)
{
	static const char *const opts[][2] = {
		{ "--name", "name" }, { "--game", "game" },         { "--track", "track" },
		{ "--car", "car" },   { "--use-case", "use_case" }, { "--notes", "notes" },
	};
	json_t *args;

	if (wants_help(argc, argv)) {
		printf("usage: pwctl recording start [--name N] [--game G] [--track T] [--car C]\n"
		       "                             [--use-case U] [--notes X]\n"
		       "Starts recording every feed's raw packets; prints the manifest. All\n"
		       "fields are optional: G is a game name (pwctl call games.list), U one of\n"
		       "shift_points, car_grip, track_mapping, general. Game, track and car not\n"
		       "given are taken from the feeds' metadata when the recording stops.\n"
		       "Refused (conflict) while another recording is active.\n");
		return 0;
	}
	args = json_object();
	for (int i = 0; i < argc; i++) {
		size_t k = 0;

		while (k < sizeof opts / sizeof *opts && strcmp(argv[i], opts[k][0]) != 0)
			k++;
		if (k == sizeof opts / sizeof *opts || i + 1 >= argc) {
			json_decref(args);
			fprintf(stderr, "pwctl recording start: bad option '%s'\n", argv[i]);
			return 2;
		}
		json_object_set_new(args, opts[k][1], json_string(argv[++i]));
	}
	return store_call(cfg, "recording.start", args, NULL);
}

static int cmd_stop(const struct config *cfg, int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		printf("usage: pwctl recording stop [ID]\n"
		       "Stops the active recording (or recording ID) once its files are durable;\n"
		       "prints the manifest. Nothing active, or ID not active: conflict.\n");
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "usage: pwctl recording stop [ID]\n");
		return 2;
	}
	return store_call(cfg, "recording.stop", argc ? json_pack("{s:s}", "id", argv[0]) : NULL,
			  NULL);
}

static int cmd_by_id(const struct config *cfg, const char *verb, int argc, char **argv)
{
	char cmd[32];

	if (wants_help(argc, argv)) {
		if (strcmp(verb, "get") == 0)
			printf("usage: pwctl recording get ID\n"
			       "Prints the recording's manifest: fields, status, times and per feed\n"
			       "the file, packets, bytes and packets lost.\n");
		else
			printf("usage: pwctl recording delete ID\n"
			       "Removes the recording and its files (an active one is stopped first).\n");
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: pwctl recording %s ID\n", verb);
		return 2;
	}
	snprintf(cmd, sizeof cmd, "recording.%s", verb);
	return store_call(cfg, cmd, json_pack("{s:s}", "id", argv[0]), NULL);
}

static int cmd_data(const struct config *cfg, int argc, char **argv)
{
	json_t *res = NULL;
	int rc;

	if (wants_help(argc, argv)) {
		printf("usage: pwctl recording data ID FEED\n"
		       "Prints the absolute path of the recording's pcap file for FEED (e.g.\n"
		       "tshark -r \"$(pwctl recording data ID ksudp)\"); its size and packet\n"
		       "count go to stderr. No data for FEED: not_found.\n");
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: pwctl recording data ID FEED\n");
		return 2;
	}
	rc = store_call(cfg, "recording.data",
			json_pack("{s:s, s:s}", "id", argv[0], "feed", argv[1]), &res);
	if (rc != 0)
		return rc;
	printf("%s\n", json_string_value(json_object_get(res, "path")));
	fprintf(stderr, "%lld bytes, %lld packets\n",
		(long long)json_integer_value(json_object_get(res, "bytes")),
		(long long)json_integer_value(json_object_get(res, "packets")));
	json_decref(res);
	return 0;
}

/* argv[0] is the command word: "recordings" or "recording". */
int pwctl_recordings(const struct config *cfg, int argc, char **argv)
{
	const char *verb;

	if (argc < 1)
		return usage(stderr);
	if (strcmp(argv[0], "recordings") == 0)
		return cmd_list(cfg, argc - 1, argv + 1);
	if (argc < 2)
		return usage(stderr);
	verb = argv[1];
	argc -= 2;
	argv += 2;
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "help") == 0)
		return usage(stdout);
	if (strcmp(verb, "start") == 0)
		return cmd_start(cfg, argc, argv);
	if (strcmp(verb, "stop") == 0)
		return cmd_stop(cfg, argc, argv);
	if (strcmp(verb, "get") == 0 || strcmp(verb, "delete") == 0)
		return cmd_by_id(cfg, verb, argc, argv);
	if (strcmp(verb, "data") == 0)
		return cmd_data(cfg, argc, argv);
	if (strcmp(verb, "list") == 0)
		return cmd_list(cfg, argc, argv);
	fprintf(stderr, "pwctl recording: unknown subcommand '%s'\n", verb);
	return usage(stderr);
}
