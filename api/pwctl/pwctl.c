/*
 * pwctl.c - pitwall's command-line client. `pwctl feeds` reads every feed's
 * status straight from the shared-memory segments. See --help.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "api/pwctl/pwctl.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/feedstat.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/seg.h"
#include "common/topics.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pwctl [--instance NAME] COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  feeds [--json] [--watch]   status of every feed, read from the shared-memory\n"
		"                             segments: up/stale/down, packets/s, frames/s,\n"
		"                             received, decoded, wrong size, unknown format,\n"
		"                             kernel drops, game, car, track, driver\n"
		"  tail FEED [--count N] [--from-start] [--timeout S]\n"
		"                             print frames from the feed's ring as JSON lines\n"
		"                             (new ones; --from-start: the oldest still held)\n"
		"  sessions                   list sessions (table; --json for JSON)\n"
		"  session create USE_CASE [--label L]\n"
		"  session get|delete|complete|reopen|analysis ID\n"
		"  use-cases                  the valid use cases (the driver's guidance is in\n"
		"                             each session: session create|get)\n"
		"  events [PREFIX] [--count N] [--timeout S]\n"
		"                             print bus messages (topic and JSON) as they come\n"
		"  channels [--json] [--game G]\n"
		"                             the channel dictionary: every key of a frame with\n"
		"                             unit, type, dimension, range, games, then the stored\n"
		"                             manifests' channels with formulas (/api/channels)\n"
		"  topics [--markdown]        every bus topic: name, publisher, payload keys\n"
		"                             (--markdown: the table of docs/store.md)\n"
		"  run start SESSION FEED [--label L] [--merge FEEDS]\n"
		"  run stop|get|delete SESSION RUN\n"
		"  laps SESSION               the laps of every run of the session\n"
		"  export SESSION RUN [--format csv|json|ld|ldx|parquet] [--channels LIST]\n"
		"         [--hz N] [--lap N] [--compression zstd|none] [--manifest NAME]\n"
		"         [--out FILE|DIR]\n"
		"  lap SESSION RUN N [--channels LIST] [--step M] [--manifest NAME] [--out FILE]\n"
		"                             one lap resampled on distance, as JSON\n"
		"  compare --ref SESSION/RUN/N|best --lap SESSION/RUN/N [--lap ...]\n"
		"          [--channels LIST] [--step M] [--manifest NAME] [--out FILE]\n"
		"                             laps compared with a reference on distance\n"
		"  manifests                  derived-channel manifests (docs/manifests.md)\n"
		"  manifest get|delete NAME | manifest put NAME FILE\n"
		"  recordings                 list recordings (see pwctl recording --help)\n"
		"  recording start|stop|get|delete|data ...\n"
		"  call CMD [JSON-ARGS]       send any store command, print the reply's result\n"
		"  config [--markdown]        the effective configuration, one NAME=value a line\n"
		"                             (--markdown: the table of every variable)\n"
		"  help                       this text\n"
		"\n"
		"A feed is 'up' when a packet arrived in the last 2 s, 'stale' when its\n"
		"pw-capture runs but the game is silent, 'down' when no pw-capture runs.\n"
		"The instance defaults to $PITWALL_INSTANCE or 'default'. Store commands\n"
		"go to $PITWALL_CMD and wait at most $PITWALL_CMD_TIMEOUT_MS (default 3000);\n"
		"a refused command prints its error code and message and exits 1, an\n"
		"unreachable store exits 3.\n");
	config_usage(out, CONFIG_PWCTL);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_json(const struct feedstat *rows, int n)
{
	printf("[");
	for (int i = 0; i < n; i++) {
		const struct feedstat *r = &rows[i];
		printf("%s{\"feed\":", i ? "," : "");
		json_str(r->name);
		printf(",\"status\":\"%s\",\"packets_per_s\":%.1f,\"frames_per_s\":%.1f,"
		       "\"received\":%llu,\"decoded\":%llu,\"frames\":%llu,\"wrong_size\":%llu,"
		       "\"unknown_format\":%llu,\"kernel_drops\":%llu,\"rcvbuf_bytes\":%llu,"
		       "\"relayed\":%llu,\"handshakes\":%llu,\"write_seq\":%llu,\"pid\":%d,"
		       "\"game\":",
		       seg_status_name(r->status), r->v[SEG_STAT_PACKET_RATE_MHZ] / 1000.0,
		       r->v[SEG_STAT_FRAME_RATE_MHZ] / 1000.0,
		       (unsigned long long)r->v[SEG_STAT_PACKETS],
		       (unsigned long long)r->v[SEG_STAT_DECODED],
		       (unsigned long long)r->v[SEG_STAT_FRAMES],
		       (unsigned long long)r->v[SEG_STAT_WRONG_SIZE],
		       (unsigned long long)r->v[SEG_STAT_UNKNOWN],
		       (unsigned long long)r->v[SEG_STAT_KERNEL_DROPS],
		       (unsigned long long)r->v[SEG_STAT_RCVBUF],
		       (unsigned long long)r->v[SEG_STAT_RELAYED],
		       (unsigned long long)r->v[SEG_STAT_HANDSHAKES],
		       (unsigned long long)r->write_seq, r->present ? r->pid : 0);
		json_str(r->meta.game);
		printf(",\"car\":");
		json_str(r->meta.car);
		printf(",\"track\":");
		json_str(r->meta.track);
		printf(",\"driver\":");
		json_str(r->meta.driver);
		printf(",\"source\":");
		json_str(r->meta.source);
		printf("}");
	}
	printf("]\n");
}

static void print_table(const struct feedstat *rows, int n)
{
	printf("%-7s %-6s %8s %8s %10s %10s %8s %8s %7s  %-26s %-20s %-18s %s\n", "FEED", "STATUS",
	       "PKT/S", "FRM/S", "RECEIVED", "DECODED", "WRONGSZ", "UNKNOWN", "DROPS", "GAME",
	       "CAR", "TRACK", "DRIVER");
	for (int i = 0; i < n; i++) {
		const struct feedstat *r = &rows[i];
		printf("%-7s %-6s %8.1f %8.1f %10llu %10llu %8llu %8llu %7llu  %-26s %-20s %-18s %s\n",
		       r->name, seg_status_name(r->status), r->v[SEG_STAT_PACKET_RATE_MHZ] / 1000.0,
		       r->v[SEG_STAT_FRAME_RATE_MHZ] / 1000.0,
		       (unsigned long long)r->v[SEG_STAT_PACKETS],
		       (unsigned long long)r->v[SEG_STAT_DECODED],
		       (unsigned long long)r->v[SEG_STAT_WRONG_SIZE],
		       (unsigned long long)r->v[SEG_STAT_UNKNOWN],
		       (unsigned long long)r->v[SEG_STAT_KERNEL_DROPS],
		       r->meta.game[0] ? r->meta.game : "-", r->meta.car[0] ? r->meta.car : "-",
		       r->meta.track[0] ? r->meta.track : "-",
		       r->meta.driver[0] ? r->meta.driver : "-");
	}
}

static int cmd_feeds(const char *instance, int argc, char **argv)
{
	char names[FEEDSTAT_MAX][FEEDSTAT_NAME];
	static struct feedstat rows[FEEDSTAT_MAX];
	int json = 0, watch = 0, n;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--watch") == 0)
			watch = 1;
		else if (strcmp(argv[i], "--help") == 0) {
			printf("usage: pwctl feeds [--json] [--watch]\n"
			       "Status and counters of every feed, from the shared-memory segments.\n"
			       "--json prints one JSON array; --watch refreshes every second.\n");
			return 0;
		} else {
			fprintf(stderr, "pwctl feeds: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	do {
		n = feedstat_names(instance, names, FEEDSTAT_MAX);
		for (int i = 0; i < n; i++)
			feedstat_read(instance, names[i], 0, &rows[i]);
		if (watch && !json)
			printf("\033[H\033[2J");
		if (json)
			print_json(rows, n);
		else
			print_table(rows, n);
		fflush(stdout);
		if (watch)
			sleep(1);
	} while (watch);
	return 0;
}

/* --count N and --timeout S: the whole argument must be the number (as the
 * configuration's integers); 0 with *out set, or -1 after printing why. */
static int arg_count(const char *cmd, const char *s, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < 0) {
		fprintf(stderr, "pwctl %s: --count must be a whole number >= 0, got '%s'\n", cmd,
			s);
		return -1;
	}
	*out = v;
	return 0;
}

static int arg_seconds(const char *cmd, const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0 && v <= 86400 * 365.0)) {
		fprintf(stderr, "pwctl %s: --timeout must be seconds >= 0, got '%s'\n", cmd, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int cmd_tail(const char *instance, int argc, char **argv)
{
	struct seg *s = NULL;
	struct seg_cursor c = { 0 };
	struct pw_frame f;
	static char line[8192];
	long count = -1, printed = 0;
	double timeout_s = 0;
	int from_start = 0, err;
	int64_t deadline;

	if (argc < 1 || strcmp(argv[0], "--help") == 0) {
		printf("usage: pwctl tail FEED [--count N] [--from-start] [--timeout S]\n"
		       "Prints frames of FEED's ring as JSON lines until N frames (default: until\n"
		       "interrupted) or S seconds without the count reached (exit 1 then).\n");
		return argc < 1 ? 2 : 0;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			if (arg_count("tail", argv[++i], &count) < 0)
				return 2;
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			if (arg_seconds("tail", argv[++i], &timeout_s) < 0)
				return 2;
		} else if (strcmp(argv[i], "--from-start") == 0)
			from_start = 1;
		else {
			fprintf(stderr, "pwctl tail: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if ((err = seg_attach(&s, instance, argv[0])) < 0) {
		fprintf(stderr, "pwctl tail: feed '%s' has no segment in instance '%s' (%s)\n",
			argv[0], instance, strerror(-err));
		return 1;
	}
	c.next = from_start ? seg_oldest(s) : seg_write_seq(s);
	deadline = timeout_s > 0 ? clock_mono_ns() + (int64_t)(timeout_s * 1e9) : INT64_MAX;
	while (count < 0 || printed < count) {
		if (seg_read(s, &c, &f) == 1) {
			frame_to_json(&f, line, sizeof line);
			puts(line);
			printed++;
			continue;
		}
		fflush(stdout);
		if (clock_mono_ns() > deadline)
			break;
		seg_wait(s, c.next, 100);
	}
	fflush(stdout);
	if (c.missed)
		fprintf(stderr, "pwctl tail: %llu frames were overwritten before they were read\n",
			(unsigned long long)c.missed);
	seg_close(s);
	return count < 0 || printed >= count ? 0 : 1;
}

int store_ask(const struct config *cfg, const char *cmd, json_t *args, json_t **res, char *code,
	      size_t code_cap, char *message, size_t msg_cap)
{
	void *ctx = zmq_ctx_new(), *d = zmq_socket(ctx, ZMQ_DEALER);
	int linger = 0, timeout = (int)cfg->cmd_timeout_ms, rc;

	zmq_setsockopt(d, ZMQ_LINGER, &linger, sizeof linger);
	zmq_connect(d, cfg->cmd);
	rc = msg_call(d, cmd, args, timeout, res, code, code_cap, message, msg_cap);
	zmq_close(d);
	zmq_ctx_term(ctx);
	return rc;
}

/* One store command; prints the result (pretty JSON) unless quiet. Exit codes:
 * 0 ok, 1 refused (error printed), 3 store unreachable. */
int store_call(const struct config *cfg, const char *cmd, json_t *args, json_t **out)
{
	char code[64], message[512];
	json_t *res = NULL;
	int rc = store_ask(cfg, cmd, args, &res, code, sizeof code, message, sizeof message);

	if (rc < 0) {
		fprintf(stderr, "pwctl: %s: %s\n", code, message);
		return strcmp(code, MSG_E_UNAVAILABLE) == 0 ? 3 : 1;
	}
	if (out)
		*out = res;
	else {
		char *text = json_dumps(res, JSON_INDENT(2) | JSON_ENCODE_ANY);
		if (text)
			puts(text);
		free(text);
		json_decref(res);
	}
	return 0;
}

static int cmd_call(const struct config *cfg, int argc, char **argv)
{
	json_error_t jerr;
	json_t *args = NULL;

	if (argc < 1 || argc > 2) {
		fprintf(stderr, "usage: pwctl call CMD [JSON-ARGS]\n");
		return 2;
	}
	if (argc == 2 && !(args = json_loads(argv[1], 0, &jerr))) {
		fprintf(stderr, "pwctl call: arguments are not JSON: %s\n", jerr.text);
		return 2;
	}
	return store_call(cfg, argv[0], args, NULL);
}

static int cmd_sessions(const struct config *cfg, int argc, char **argv)
{
	json_t *list = NULL, *s;
	size_t i;
	int rc;

	if (argc == 1 && strcmp(argv[0], "--json") == 0)
		return store_call(cfg, "session.list", NULL, NULL);
	if (argc) {
		fprintf(stderr, "usage: pwctl sessions [--json]\n");
		return 2;
	}
	if ((rc = store_call(cfg, "session.list", NULL, &list)) != 0)
		return rc;
	printf("%-36s  %-13s  %-9s  %4s  %-24s  %s\n", "ID", "USE CASE", "STATUS", "RUNS",
	       "CREATED", "LABEL");
	json_array_foreach(list, i, s)
		printf("%-36s  %-13s  %-9s  %4zu  %-24s  %s\n",
		       json_string_value(json_object_get(s, "id")),
		       json_string_value(json_object_get(s, "use_case")),
		       json_string_value(json_object_get(s, "status")),
		       json_array_size(json_object_get(s, "runs")),
		       json_string_value(json_object_get(s, "created_at")),
		       json_string_value(json_object_get(s, "label")));
	json_decref(list);
	return 0;
}

static int cmd_session(const struct config *cfg, int argc, char **argv)
{
	static const char *const verbs[][2] = {
		{ "get", "session.get" },           { "delete", "session.delete" },
		{ "complete", "session.complete" }, { "reopen", "session.reopen" },
		{ "analysis", "session.analysis" },
	};

	if (argc >= 2 && strcmp(argv[0], "create") == 0) {
		json_t *args = json_pack("{s:s}", "use_case", argv[1]);
		if (argc == 4 && strcmp(argv[2], "--label") == 0)
			json_object_set_new(args, "label", json_string(argv[3]));
		else if (argc != 2) {
			json_decref(args);
			fprintf(stderr, "usage: pwctl session create USE_CASE [--label L]\n");
			return 2;
		}
		return store_call(cfg, "session.create", args, NULL);
	}
	for (size_t i = 0; argc == 2 && i < sizeof verbs / sizeof *verbs; i++)
		if (strcmp(argv[0], verbs[i][0]) == 0)
			return store_call(cfg, verbs[i][1], json_pack("{s:s}", "id", argv[1]),
					  NULL);
	fprintf(stderr, "usage: pwctl session create USE_CASE [--label L]\n"
			"       pwctl session get|delete|complete|reopen|analysis ID\n");
	return 2;
}

static int cmd_events(const struct config *cfg, int argc, char **argv)
{
	const char *prefix = "";
	long count = -1, seen = 0;
	double timeout_s = 0;
	void *ctx, *sub;
	int64_t deadline;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			if (arg_count("events", argv[++i], &count) < 0)
				return 2;
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			if (arg_seconds("events", argv[++i], &timeout_s) < 0)
				return 2;
		} else if (argv[i][0] != '-')
			prefix = argv[i];
		else {
			fprintf(stderr, "usage: pwctl events [PREFIX] [--count N] [--timeout S]\n");
			return 2;
		}
	}
	ctx = zmq_ctx_new();
	sub = zmq_socket(ctx, ZMQ_SUB);
	zmq_connect(sub, cfg->bus);
	zmq_setsockopt(sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
	deadline = timeout_s > 0 ? clock_mono_ns() + (int64_t)(timeout_s * 1e9) : INT64_MAX;
	while ((count < 0 || seen < count) && clock_mono_ns() < deadline) {
		zmq_pollitem_t pi = { .socket = sub, .events = ZMQ_POLLIN };
		char topic[256], body[65536];
		int tn, bn;

		if (zmq_poll(&pi, 1, 100) <= 0)
			continue;
		tn = zmq_recv(sub, topic, sizeof topic - 1, 0);
		bn = zmq_recv(sub, body, sizeof body - 1, 0);
		if (tn < 0 || bn < 0)
			continue;
		topic[tn < (int)sizeof topic ? tn : (int)sizeof topic - 1] = 0;
		body[bn < (int)sizeof body ? bn : (int)sizeof body - 1] = 0;
		printf("%s %s\n", topic, body);
		fflush(stdout);
		seen++;
	}
	zmq_close(sub);
	zmq_ctx_term(ctx);
	return count < 0 || seen >= count ? 0 : 1;
}

/* `pwctl topics`: every topic of common/topics.h as "name publisher keys..."
 * (a per-feed topic as "lap.<feed>"); --markdown: docs/store.md's table. */
static int cmd_topics(int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "--markdown") == 0)
		return topics_markdown(stdout) < 0 ? 1 : 0;
	if (argc) {
		fprintf(stderr, "usage: pwctl topics [--markdown]\n");
		return 2;
	}
	for (int t = 0; t < TOPIC_FAMILY_COUNT; t++) {
		const struct topic_desc *d = topic_family((enum topic_family)t);

		printf("%s<feed> %s %s\n", d->name, d->publisher, d->keys);
	}
	for (int t = 0; t < TOPIC_EVENT_COUNT; t++) {
		const struct topic_desc *d = topic_event((enum topic_event)t);

		printf("%s %s %s\n", d->name, d->publisher, d->keys);
	}
	return 0;
}

/* `pwctl config`: every variable of the table with its effective value (a
 * secret as set/unset); --markdown: the README's table. */
static int cmd_config(const struct config *cfg, int argc, char **argv)
{
	char value[1024];

	if (argc == 1 && strcmp(argv[0], "--markdown") == 0)
		return config_markdown(stdout) < 0 ? 1 : 0;
	if (argc) {
		fprintf(stderr, "usage: pwctl config [--markdown]\n");
		return 2;
	}
	for (const struct config_var *v = config_vars(); v->names[0]; v++) {
		config_value(cfg, v, value, sizeof value);
		printf("%s=%s\n", v->names[0], value);
	}
	return 0;
}

/* --help of the commands that take no options of their own; 1 if printed. */
static int sub_help(const char *cmd)
{
	static const char *const texts[][2] = {
		{ "sessions",
		  "usage: pwctl sessions [--json]\nEvery session: id, use case, status, runs, "
		  "creation time, label.\n" },
		{ "session",
		  "usage: pwctl session create USE_CASE [--label L]\n"
		  "       pwctl session get|delete|complete|reopen|analysis ID\n"
		  "complete queues the session's analysis; reopen makes it active again and "
		  "clears the analysis; delete removes its files.\n" },
		{ "laps",
		  "usage: pwctl laps SESSION\nEvery lap of every run of the session, as JSON: "
		  "number, time_ms, sector_ms, valid, invalid_reason, speeds, run_id.\n" },
		{ "events",
		  "usage: pwctl events [PREFIX] [--count N] [--timeout S]\nPrints bus messages "
		  "whose topic starts with PREFIX (all when absent) as \"topic json\" lines; "
		  "topics are listed in docs/store.md and by pwctl topics.\n" },
		{ "topics",
		  "usage: pwctl topics [--markdown]\nEvery bus topic, one a line: its name "
		  "(lap.<feed> for a feed's), the program that publishes it and the keys "
		  "every payload has. --markdown prints the table of docs/store.md's "
		  "\"Bus\" section.\n" },
		{ "use-cases",
		  "usage: pwctl use-cases\nThe valid use cases, a JSON array of names. The "
		  "guidance the driver gets is in each session (pwctl session create|get).\n" },
		{ "call",
		  "usage: pwctl call CMD [JSON-ARGS]\nSends any store command (docs/store.md) "
		  "and prints its result; errors go to stderr with their code.\n" },
		{ "config", "usage: pwctl config [--markdown]\nThe effective configuration: "
			    "every PITWALL_* variable as NAME=value (the token as set/unset). "
			    "--markdown prints the table of every variable (default, accepted "
			    "values, meaning, who reads it) that README.md's \"Configuration\" "
			    "section holds.\n" },
	};

	for (size_t k = 0; k < sizeof texts / sizeof *texts; k++)
		if (strcmp(texts[k][0], cmd) == 0) {
			fputs(texts[k][1], stdout);
			return 1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg;
	char err[256];
	const char *instance;
	int i = 1;

	log_init("pwctl");
	if (config_load(&cfg, err, sizeof err) < 0) {
		fprintf(stderr, "pwctl: %s\n", err);
		return 2;
	}
	instance = cfg.instance;
	if (i + 1 < argc && strcmp(argv[i], "--instance") == 0) {
		instance = argv[i + 1];
		i += 2;
	}
	if (i >= argc || strcmp(argv[i], "help") == 0 || strcmp(argv[i], "--help") == 0) {
		usage(i >= argc ? stderr : stdout);
		return i >= argc ? 2 : 0;
	}
	if (i + 1 < argc && strcmp(argv[i + 1], "--help") == 0 && sub_help(argv[i]))
		return 0;
	if (strcmp(argv[i], "feeds") == 0)
		return cmd_feeds(instance, argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "tail") == 0)
		return cmd_tail(instance, argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "call") == 0)
		return cmd_call(&cfg, argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "config") == 0)
		return cmd_config(&cfg, argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "topics") == 0)
		return cmd_topics(argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "channels") == 0)
		return pwctl_channels(&cfg, argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "sessions") == 0)
		return cmd_sessions(&cfg, argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "session") == 0)
		return cmd_session(&cfg, argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "use-cases") == 0)
		return store_call(&cfg, "use_cases.list", NULL, NULL);
	if (strcmp(argv[i], "events") == 0)
		return cmd_events(&cfg, argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "run") == 0)
		return pwctl_runs(&cfg, argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "laps") == 0 && argc - i == 2)
		return store_call(&cfg, "session.laps",
				  json_pack("{s:s}", "session_id", argv[i + 1]), NULL);
	if (strcmp(argv[i], "export") == 0)
		return pwctl_export(&cfg, argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "lap") == 0)
		return pwctl_lap(&cfg, argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "compare") == 0)
		return pwctl_compare(&cfg, argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "recording") == 0 || strcmp(argv[i], "recordings") == 0)
		return pwctl_recordings(&cfg, argc - i, argv + i);
	if (strcmp(argv[i], "manifest") == 0 || strcmp(argv[i], "manifests") == 0)
		return pwctl_manifests(&cfg, argc - i, argv + i);
	fprintf(stderr, "pwctl: unknown command '%s' (see pwctl --help)\n", argv[i]);
	return 2;
}
