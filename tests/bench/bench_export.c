/*
 * bench_export.c - the run exports (common/export.h) of a stored one-hour 333 Hz
 * run (1.2 M frames, every channel; tests/bench/bench_framefile --write makes
 * it): `bench_export RUN.frames [TMPDIR]`.
 *
 * Targets (issue 10): CSV of the whole run with 10 channels >= 2 M rows/s;
 * MoTeC (.ld, 60 Hz) of the whole run < 1 s; Parquet < 1 s; peak memory
 * (RSS) of any export < 64 MB. Each export runs in its own child process
 * (forked before anything big is allocated here), so its peak RSS is its
 * own; the output goes to a counting sink, so the figures are the export's
 * and not the disk's. Printed beside the targets, not asserted: the exit
 * status is non-zero only when an export fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/export.h"
#include "common/framefile.h"

#define CSV_CHANNELS \
	"speed_kmh,rpm,throttle,brake,steer,gear,lap_dist_m,accel_lat_g,accel_lon_g,fuel_l"

struct bench {
	const char *name;
	const char *format;
	const char *channels; /* NULL: every column */
	const char *hz;
	const char *compression;
	double target_s;      /* the whole export within (0: none) */
	double target_rows_s; /* rows a second at least (0: none) */
};

static const struct bench benches[] = {
	{ "csv, 10 channels", "csv", CSV_CHANNELS, NULL, NULL, 0, 2e6 },
	{ "csv, plain (every column)", "csv", NULL, NULL, NULL, 0, 0 },
	{ "json, 10 channels", "json", CSV_CHANNELS, NULL, NULL, 0, 0 },
	{ "MoTeC .ld, 60 Hz, every channel", "ld", NULL, NULL, NULL, 1.0, 0 },
	{ "MoTeC .ldx", "ldx", NULL, NULL, NULL, 0, 0 },
	{ "parquet, every column (default: uncompressed)", "parquet", NULL, NULL, NULL, 1.0, 0 },
	{ "parquet, every column, zstd (informational)", "parquet", NULL, NULL, "zstd", 0, 0 },
	{ "parquet, 10 channels, zstd", "parquet", CSV_CHANNELS, NULL, "zstd", 1.0, 0 },
};

static int count_out(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return 0;
}

/* The child: one export; prints "rows bytes ns" on fd 1 of the pipe. */
static int child(const char *path, const char *tmp, const struct bench *b, int out)
{
	struct framefile_reader *r = NULL;
	struct export_result res;
	struct export_opts o;
	char err[EXPORT_ERR_MAX], line[128];
	int64_t t0;
	int rc, n;

	export_opts_init(&o);
	if (export_opts_set(&o, "format", b->format, err, sizeof err) < 0 ||
	    (b->channels && export_opts_set(&o, "channels", b->channels, err, sizeof err) < 0) ||
	    (b->hz && export_opts_set(&o, "hz", b->hz, err, sizeof err) < 0) ||
	    (b->compression &&
	     export_opts_set(&o, "compression", b->compression, err, sizeof err) < 0) ||
	    export_opts_resolve(&o, err, sizeof err) < 0) {
		fprintf(stderr, "bench_export: %s\n", err);
		return 1;
	}
	o.write = count_out;
	o.tmp_dir = tmp;
	o.run.game = "assetto_corsa";
	o.run.track = "pitwall_ring";
	t0 = clock_mono_ns();
	if ((rc = framefile_reader_open(&r, path, NULL)) < 0 ||
	    (rc = export_frames(r, &o, &res)) < 0) {
		fprintf(stderr, "bench_export: %s: %s\n", b->name, strerror(-rc));
		framefile_reader_close(r);
		return 1;
	}
	framefile_reader_close(r);
	n = snprintf(line, sizeof line, "%llu %llu %lld\n", (unsigned long long)res.rows,
		     (unsigned long long)res.bytes, (long long)(clock_mono_ns() - t0));
	return write(out, line, (size_t)n) == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *tmp = argc > 2 ? argv[2] : "/tmp";
	int failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_export RUN.frames [TMPDIR]\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof benches / sizeof *benches; i++) {
		const struct bench *b = &benches[i];
		unsigned long long rows = 0, bytes = 0;
		long long ns = 0;
		struct rusage ru;
		char line[128] = "";
		int fd[2], status = 1;
		double s, cpu, rss_mb;
		ssize_t k;
		pid_t pid;

		if (pipe(fd) < 0 || (pid = fork()) < 0) {
			perror("bench_export");
			return 1;
		}
		if (pid == 0) {
			close(fd[0]);
			_exit(child(argv[1], tmp, b, fd[1]));
		}
		close(fd[1]);
		k = read(fd[0], line, sizeof line - 1);
		close(fd[0]);
		while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
			;
		if (k <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
		    sscanf(line, "%llu %llu %lld", &rows, &bytes, &ns) != 3) {
			printf("export %-46s: FAILED\n", b->name);
			failed = 1;
			continue;
		}
		s = (double)ns / 1e9;
		cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
		rss_mb = (double)ru.ru_maxrss / 1024.0;
		printf("export %-46s: %8llu rows in %6.3f s wall (%5.2f M rows/s), %6.3f s CPU "
		       "(%5.2f M rows/s), %7.1f MB out, peak RSS %5.1f MB",
		       b->name, rows, s, (double)rows / s / 1e6, cpu, (double)rows / cpu / 1e6,
		       (double)bytes / 1e6, rss_mb);
		if (b->target_rows_s)
			printf("  (target >= %.0f M rows/s: wall %s, CPU %s)",
			       b->target_rows_s / 1e6,
			       (double)rows / s >= b->target_rows_s ? "ok" : "MISSED TARGET",
			       (double)rows / cpu >= b->target_rows_s ? "ok" : "MISSED TARGET");
		if (b->target_s)
			printf("  (target < %.0f s: wall %s, CPU %s)", b->target_s,
			       s < b->target_s ? "ok" : "MISSED TARGET",
			       cpu < b->target_s ? "ok" : "MISSED TARGET");
		printf("  (RSS target < 64 MB: %s)\n", rss_mb < 64 ? "ok" : "OVER TARGET");
	}
	return failed;
}
