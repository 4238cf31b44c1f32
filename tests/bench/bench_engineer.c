/*
 * bench_engineer.c - the race engineer's rules over a one-hour 333 Hz session
 * (1.2 M emulator frames, laps mode with the wheelspin fault so the rules find
 * something, 40 laps from the frames' lap counter; the emulator's frames carry
 * every channel, the tread zones too, so all 16 rules run), with the track model's
 * corners naming where: time per an_engineer call, best of 5, and one lap as
 * a per-lap job would run it. Target (issue 12): < 100 ms for the session.
 * Prints figures, exits 0.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "analyze/engineer.h"
#include "capture/sim/car.h"
#include "capture/sim/driver.h"
#include "capture/sim/track.h"

#define RATE_HZ 333.0
#define FRAMES 1200000
#define REPEATS 5
#define MAX_LAPS 64

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static json_t *corners_of(const struct track *t)
{
	json_t *m = json_object(), *cs = json_array();

	for (int i = 0; i < track_corner_count(t); i++) {
		const struct track_corner *c = track_corner(t, i);

		json_array_append_new(cs,
				      json_pack("{s:i,s:f,s:f}", "index", c->index, "entry_dist_m",
						c->start_m, "exit_dist_m", c->end_m));
	}
	json_object_set_new(m, "corners", cs);
	return m;
}

static double best_ms(const struct an_input *in, const struct eng_lap *laps, size_t n,
		      const struct eng_opts *o, size_t *found)
{
	double best = HUGE_VAL;

	for (int k = 0; k < REPEATS; k++) {
		struct an_err err;
		double t0 = now_ms();
		json_t *res = an_engineer(in, laps, n, o, &err);

		best = fmin(best, now_ms() - t0);
		*found = res ? json_array_size(json_object_get(res, "recommendations")) : 0;
		json_decref(res);
	}
	return best;
}

int main(void)
{
	struct track *t = track_new();
	struct car_spec car;
	struct driver *d;
	struct pw_frame *f = malloc(FRAMES * sizeof *f);
	struct eng_lap laps[MAX_LAPS];
	struct eng_opts live = { .live = true };
	struct an_run run;
	struct an_input in;
	size_t nl = 0, first = 0, found = 0, found_lap = 0;
	double all, one;

	car_with_fault(car_default(), CAR_FAULT_WHEELSPIN, &car);
	d = t ? driver_new(DRIVER_LAPS, 1, &car, t) : NULL;
	if (!d || !f) {
		fprintf(stderr, "bench_engineer: out of memory\n");
		return 0;
	}
	for (size_t k = 0; k < FRAMES; k++) {
		driver_run_to(d, (int64_t)llround(k * 1000.0 / RATE_HZ));
		driver_frame(d, &f[k]);
		f[k].seq = k + 1;
		f[k].t_ns = driver_step(d) * 1000000ll;
		if (k > 0 && f[k].lap != f[k - 1].lap && nl < MAX_LAPS) {
			laps[nl++] = (struct eng_lap){ 0, first, k - 1, f[first].lap + 1u };
			first = k;
		}
	}
	run = (struct an_run){ "bench", "ksudp", "", f, FRAMES };
	in = (struct an_input){ .session_id = "bench",
				.use_case = "general",
				.runs = &run,
				.nruns = 1,
				.track_model = corners_of(t) };
	all = best_ms(&in, laps, nl, NULL, &found);
	one = best_ms(&in, &laps[1], 1, &live, &found_lap);
	printf("engineer rules: %d frames at %.0f Hz (%.0f min, %zu laps): %.1f ms for the session "
	       "(%zu recommendations), %.2f ms for one lap as a per-lap job (%zu)  %s\n",
	       FRAMES, RATE_HZ, FRAMES / RATE_HZ / 60.0, nl, all, found, one, found_lap,
	       all < 100.0 ? "ok" : "OVER TARGET");
	json_decref((json_t *)in.track_model);
	free(f);
	driver_free(d);
	track_free(t);
	return 0;
}
