/*
 * bench_an_shift_points.c - cost of the shift_points analysis on one hour
 * at 333 Hz (1.2 M frames, the analysis issue's figure; target < 100 ms for
 * this analysis, < 500 ms for all of them together; peak extra memory
 * < 2x the frames' size).
 *
 * The frames are one simulated hour of the emulator's pulls mode (sensor
 * noise on), the worst case for this analysis: most frames are full
 * throttle and become curve samples. The best of five runs is printed, and
 * the growth of the peak resident size over the runs (the analysis's own
 * memory, the frames being resident before).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "analyze/analysis.h"
#include "capture/sim/driver.h"

#define RATE_HZ 333.0
#define FRAMES 1200000
#define REPS 5
#define TARGET_MS 100.0

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long max_rss_kb(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

static int simulate(struct pw_frame *f)
{
	struct track *t = track_new();
	struct driver *d = t ? driver_new(DRIVER_PULLS, 7, car_default(), t) : NULL;

	for (size_t n = 0; d && n < FRAMES; n++) {
		driver_run_to(d, llround((double)n * 1000.0 / RATE_HZ));
		driver_frame(d, &f[n]);
		f[n].t_ns = 1700000000000000000ll + llround((double)n * 1e9 / RATE_HZ);
	}
	driver_free(d);
	track_free(t);
	return d != NULL;
}

int main(void)
{
	struct pw_frame *f = malloc((size_t)FRAMES * sizeof *f);
	double best = 1e9, rec = 0.0;
	long used = 0, rss0;

	if (!f || !simulate(f)) {
		fprintf(stderr, "bench_an_shift_points: no frames\n");
		free(f);
		return 0;
	}
	rss0 = max_rss_kb();
	for (int r = 0; r < REPS; r++) {
		struct an_run run = { "bench", "ksudp", "", f, FRAMES };
		struct an_input in = { "bench", "shift_points", "", "", "", &run, 1, NULL };
		struct an_err err;
		json_t *res;
		double t0 = now_ms();

		res = an_shift_points(&in, &err);
		t0 = now_ms() - t0;
		if (res && t0 < best) {
			best = t0;
			used = (long)json_integer_value(
				json_object_get(res, "full_throttle_frames"));
			rec = json_number_value(json_object_get(res, "recommended_shift_rpm"));
		}
		json_decref(res);
	}
	printf("shift_points: %d frames (%ld full throttle, %.0f Hz) in %.1f ms, %.1f ns/frame, "
	       "peak extra memory %.1f MB (frames %.0f MB), recommended %.0f rpm "
	       "(truth %.0f)  %s\n",
	       FRAMES, used, RATE_HZ, best, best * 1e6 / FRAMES, (max_rss_kb() - rss0) / 1024.0,
	       (double)FRAMES * sizeof *f / 1048576.0, rec,
	       car_recommended_shift_rpm(car_default()), best < TARGET_MS ? "ok" : "OVER TARGET");
	free(f);
	return 0;
}
