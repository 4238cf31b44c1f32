/*
 * bench_car_grip.c - cost of the car_grip analysis on one hour at 333 Hz
 * (1.2 M frames, the analysis issue's figure; target < 100 ms for this
 * analysis, < 500 ms for all of them together).
 *
 * The frames are two emulator laps (laps mode, with sensor noise) repeated
 * with a continuous clock; the best of five runs is printed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Two laps of the emulator, frame by frame. Returns the count or 0. */
static size_t simulate(struct pw_frame *f, size_t cap)
{
	struct track *t = track_new();
	struct driver *d = t ? driver_new(DRIVER_LAPS, 7, car_default(), t) : NULL;
	size_t n = 0;

	if (d) {
		size_t want = (size_t)(2.0 * driver_reference_lap_ms(d) / 1000.0 * RATE_HZ);

		for (n = 0; n < want && n < cap; n++) {
			driver_run_to(d, llround((double)n * 1000.0 / RATE_HZ));
			driver_frame(d, &f[n]);
		}
	}
	driver_free(d);
	track_free(t);
	return n;
}

int main(void)
{
	struct pw_frame *f = malloc((size_t)FRAMES * sizeof *f);
	size_t base;
	double best = 1e9, t0;
	int analysed = 0;

	if (!f || !(base = simulate(f, FRAMES))) {
		fprintf(stderr, "bench_car_grip: no frames\n");
		free(f);
		return 0;
	}
	for (size_t i = base; i < FRAMES; i++) {
		f[i] = f[i % base];
		f[i].game_time_s += (double)(i / base) * (double)base / RATE_HZ;
	}
	for (int r = 0; r < REPS; r++) {
		struct an_run run = { "bench", "ksudp", "", f, FRAMES };
		struct an_input in = { "bench", "car_grip", "", "", "", &run, 1, NULL };
		struct an_err err;
		json_t *res;

		t0 = now_ms();
		res = an_car_grip(&in, &err);
		t0 = now_ms() - t0;
		if (res && t0 < best) {
			best = t0;
			json_t *total = json_object_get(res, "total_frames_analyzed");

			analysed = (int)json_integer_value(total);
		}
		json_decref(res);
	}
	printf("car_grip: %d frames (%d analysed, %.0f Hz) in %.1f ms, %.1f ns/frame  %s\n", FRAMES,
	       analysed, RATE_HZ, best, best * 1e6 / FRAMES,
	       best < TARGET_MS ? "ok" : "OVER TARGET");
	free(f);
	return 0;
}
