/*
 * pwctl.c - pitwall's command-line client. `pwctl feeds` reads every feed's
 * status straight from the shared-memory segments. See --help.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/decoder.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "common/seg.h"

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
		"  help                       this text\n"
		"\n"
		"A feed is 'up' when a packet arrived in the last 2 s, 'stale' when its\n"
		"pw-capture runs but the game is silent, 'down' when no pw-capture runs.\n"
		"The instance defaults to $PITWALL_INSTANCE or 'default'.\n");
}

struct feed_row {
	char name[48];
	int present;               /* a segment exists */
	enum seg_status status;
	uint64_t v[SEG_STAT_COUNT];
	uint64_t seq;
	int pid;
	struct pw_meta meta;
};

static void read_feed(const char *instance, const char *name, struct feed_row *row)
{
	struct seg *s = NULL;

	memset(row, 0, sizeof *row);
	snprintf(row->name, sizeof row->name, "%.47s", name);
	if (seg_attach(&s, instance, name) < 0)
		return;
	row->present = 1;
	row->status = seg_status(s, clock_now_ns());
	seg_stats_read(s, row->v);
	seg_meta_read(s, &row->meta);
	row->seq = seg_write_seq(s);
	row->pid = seg_header(s)->producer_pid;
	seg_close(s);
}

/* Feeds: the decoders' names, then any other segment of this instance in /dev/shm. */
static int list_feeds(const char *instance, char names[][48], int max)
{
	char prefix[80];
	int n = 0;
	DIR *d;
	struct dirent *e;

	for (const struct decoder *const *dec = dec_all(); *dec && n < max; dec++)
		snprintf(names[n++], 48, "%s", (*dec)->feed);
	snprintf(prefix, sizeof prefix, "pitwall.%s.", instance);
	if (!(d = opendir("/dev/shm")))
		return n;
	while ((e = readdir(d)) && n < max) {
		const char *feed = e->d_name + strlen(prefix);
		int known = 0;

		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || strlen(feed) >= 48)
			continue;
		for (int i = 0; i < n; i++)
			known |= strcmp(names[i], feed) == 0;
		if (!known)
			snprintf(names[n++], 48, "%.47s", feed);
	}
	closedir(d);
	return n;
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

static void print_json(const struct feed_row *rows, int n)
{
	printf("[");
	for (int i = 0; i < n; i++) {
		const struct feed_row *r = &rows[i];
		printf("%s{\"feed\":", i ? "," : "");
		json_str(r->name);
		printf(",\"status\":\"%s\",\"packets_per_s\":%.1f,\"frames_per_s\":%.1f,"
		       "\"received\":%llu,\"decoded\":%llu,\"frames\":%llu,\"wrong_size\":%llu,"
		       "\"unknown_format\":%llu,\"kernel_drops\":%llu,\"relayed\":%llu,"
		       "\"handshakes\":%llu,\"write_seq\":%llu,\"pid\":%d,\"game\":",
		       seg_status_name(r->status), r->v[SEG_STAT_PACKET_RATE_MHZ] / 1000.0,
		       r->v[SEG_STAT_FRAME_RATE_MHZ] / 1000.0, (unsigned long long)r->v[SEG_STAT_PACKETS],
		       (unsigned long long)r->v[SEG_STAT_DECODED], (unsigned long long)r->v[SEG_STAT_FRAMES],
		       (unsigned long long)r->v[SEG_STAT_WRONG_SIZE],
		       (unsigned long long)r->v[SEG_STAT_UNKNOWN],
		       (unsigned long long)r->v[SEG_STAT_KERNEL_DROPS],
		       (unsigned long long)r->v[SEG_STAT_RELAYED],
		       (unsigned long long)r->v[SEG_STAT_HANDSHAKES], (unsigned long long)r->seq,
		       r->present ? r->pid : 0);
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

static void print_table(const struct feed_row *rows, int n)
{
	printf("%-7s %-6s %8s %8s %10s %10s %8s %8s %7s  %-26s %-20s %-18s %s\n", "FEED", "STATUS",
	       "PKT/S", "FRM/S", "RECEIVED", "DECODED", "WRONGSZ", "UNKNOWN", "DROPS", "GAME", "CAR",
	       "TRACK", "DRIVER");
	for (int i = 0; i < n; i++) {
		const struct feed_row *r = &rows[i];
		printf("%-7s %-6s %8.1f %8.1f %10llu %10llu %8llu %8llu %7llu  %-26s %-20s %-18s %s\n",
		       r->name, seg_status_name(r->status), r->v[SEG_STAT_PACKET_RATE_MHZ] / 1000.0,
		       r->v[SEG_STAT_FRAME_RATE_MHZ] / 1000.0, (unsigned long long)r->v[SEG_STAT_PACKETS],
		       (unsigned long long)r->v[SEG_STAT_DECODED],
		       (unsigned long long)r->v[SEG_STAT_WRONG_SIZE],
		       (unsigned long long)r->v[SEG_STAT_UNKNOWN],
		       (unsigned long long)r->v[SEG_STAT_KERNEL_DROPS], r->meta.game[0] ? r->meta.game : "-",
		       r->meta.car[0] ? r->meta.car : "-", r->meta.track[0] ? r->meta.track : "-",
		       r->meta.driver[0] ? r->meta.driver : "-");
	}
}

static int cmd_feeds(const char *instance, int argc, char **argv)
{
	char names[32][48];
	struct feed_row rows[32];
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
		n = list_feeds(instance, names, 32);
		for (int i = 0; i < n; i++)
			read_feed(instance, names[i], &rows[i]);
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
		if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
			count = atol(argv[++i]);
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			timeout_s = atof(argv[++i]);
		else if (strcmp(argv[i], "--from-start") == 0)
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
	if (strcmp(argv[i], "feeds") == 0)
		return cmd_feeds(instance, argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "tail") == 0)
		return cmd_tail(instance, argc - i - 1, argv + i + 1);
	fprintf(stderr, "pwctl: unknown command '%s' (see pwctl --help)\n", argv[i]);
	return 2;
}
