/*
 * bench_analysis.c - every analysis of a one-hour 333 Hz session (1.2 M
 * frames of emulated laps) and a track build from two boundary laps: time per
 * analysis, the total (target < 500 ms), and peak memory beyond the frames
 * themselves (target < 2x the frames' size).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "analyze/analysis.h"
#include "capture/sim/car.h"
#include "capture/sim/driver.h"
#include "capture/sim/track.h"
#include "common/clock.h"

#define RATE_HZ 333
#define FRAMES 1200000
#define BOUNDARY 90000 /* 270 s at 333 Hz: two boundary laps of ~122 s */

int main(void);

static struct pw_frame *drive(enum driver_mode mode, size_t n)
{
	struct pw_frame *f = malloc(n * sizeof *f);
	struct track *t = track_new();
	struct driver *d = driver_new(mode, 7, car_default(), t);

	for (size_t i = 0; f && d && i < n; i++) {
		driver_run_to(d, llround((double)i * 1000.0 / RATE_HZ));
		driver_frame(d, &f[i]);
		f[i].seq = i;
	}
	driver_free(d);
	track_free(t);
	return f;
}

/* Peak resident memory of the process so far, bytes. */
static size_t peak_rss(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (size_t)ru.ru_maxrss * 1024;
}

/* Resident memory now, bytes. */
static size_t rss_now(void)
{
	long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	long size = 0;

	if (f && fscanf(f, "%ld %ld", &size, &pages) != 2)
		pages = 0;
	if (f)
		fclose(f);
	return (size_t)pages * 4096;
}

int main(void)
{
	static const char *const cases[] = { "shift_points", "car_grip", "general" };
	struct pw_frame *laps = drive(DRIVER_LAPS, FRAMES);
	struct pw_frame *left = drive(DRIVER_LEFT, BOUNDARY),
			*right = drive(DRIVER_RIGHT, BOUNDARY);
	struct an_run run = { "r1", "ksudp", "laps", laps, FRAMES };
	struct an_run lr[2] = { { "l", "ksudp", "left", left, BOUNDARY },
				{ "r", "ksudp", "right", right, BOUNDARY } };
	double total = 0, frames_mb = (double)FRAMES * sizeof(struct pw_frame) / 1e6;
	size_t base = rss_now(), peak_extra;
	int fails = 0;

	printf("analysis of a one-hour session: %d frames at %d Hz (%.0f MB of frames)\n", FRAMES,
	       RATE_HZ, frames_mb);
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		struct an_input in = { .session_id = "bench",
				       .use_case = cases[c],
				       .car_name = "pitwall_gt3",
				       .game = "assetto_corsa",
				       .track = "pitwall_ring",
				       .runs = &run,
				       .nruns = 1 };
		struct an_err err = { 0 };
		int64_t t0 = clock_mono_ns();
		json_t *r = an_run_use_case(&in, &err);
		double ms = (double)(clock_mono_ns() - t0) / 1e6;

		total += ms;
		printf("  %-13s %7.1f ms  %s\n", cases[c], ms, r ? "ok" : err.message);
		fails += !r;
		json_decref(r);
	}
	{
		struct an_input in = {
			.session_id = "bench", .use_case = "track_mapping", .runs = lr, .nruns = 2
		};
		struct an_err err = { 0 };
		int64_t t0 = clock_mono_ns();
		json_t *m = an_track_build(&in, "assetto_corsa", "pitwall_ring", &err);
		double ms = (double)(clock_mono_ns() - t0) / 1e6;
		printf("  track build from two boundary runs (%d frames each): %.1f ms, %zu corners  %s\n",
		       BOUNDARY, ms, m ? json_array_size(json_object_get(m, "corners")) : 0,
		       m && ms < 100 ? "ok" : "OVER TARGET");
		fails += !m;
		json_decref(m);
	}
	printf("analyses total: %.1f ms  %s\n", total, total < 500 ? "ok" : "OVER TARGET");
	peak_extra = peak_rss() > base ? peak_rss() - base : 0;
	printf("peak memory of the analyses beyond the frames (peak RSS - RSS before): %.1f MB = %.2fx the frames  %s\n",
	       (double)peak_extra / 1e6, (double)peak_extra / 1e6 / frames_mb,
	       (double)peak_extra / 1e6 < 2 * frames_mb ? "ok" : "OVER TARGET");
	free(laps);
	free(left);
	free(right);
	return fails ? 1 : 0;
}
