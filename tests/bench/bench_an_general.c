/*
 * bench_an_general.c - the general analysis on a one-hour 333 Hz session
 * (1.2 M emulator frames, laps mode, sensor noise): time per run of
 * an_general without and with a track model (every 2 m), best of 5.
 * Target (analysis brief): < 100 ms per 1.2 M frames for this analysis.
 * For scale it also times the store's lap tracker alone on the same frames
 * (laps_feed per frame, which the analysis runs as its first part).
 * Prints figures, exits 0.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/analysis.h"
#include "capture/sim/car.h"
#include "capture/sim/driver.h"
#include "capture/sim/track.h"
#include "common/laps.h"

#define RATE_HZ 333.0
#define FRAMES 1200000
#define SPACING_M 2.0
#define REPEATS 5

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static json_t *model_of(const struct track *t, double spacing)
{
	json_t *m = json_object(), *line = json_array(), *cs = json_array();

	for (int i = 0; i * spacing < track_length_m(t); i++) {
		struct track_point p;

		track_sample(t, i * spacing, &p);
		json_array_append_new(line, json_pack("[f,f]", p.x_m, p.z_m));
	}
	for (int i = 0; i < track_corner_count(t); i++) {
		const struct track_corner *c = track_corner(t, i);

		json_array_append_new(cs, json_pack("{s:i,s:f,s:f,s:f}", "index", c->index,
						    "entry_dist_m", c->start_m, "apex_dist_m",
						    c->apex_m, "exit_dist_m", c->end_m));
	}
	json_object_set_new(m, "length_m", json_real(track_length_m(t)));
	json_object_set_new(m, "sample_spacing_m", json_real(spacing));
	json_object_set_new(m, "center_line", line);
	json_object_set_new(m, "corners", cs);
	return m;
}

static double best_ms(const struct an_input *in, size_t *laps)
{
	double best = HUGE_VAL;

	for (int k = 0; k < REPEATS; k++) {
		struct an_err err;
		double t0 = now_ms();
		json_t *res = an_general(in, &err);

		best = fmin(best, now_ms() - t0);
		*laps = res ? json_array_size(json_object_get(res, "laps")) : 0;
		json_decref(res);
	}
	return best;
}

static double tracker_ms(const struct pw_frame *f, size_t n)
{
	double best = HUGE_VAL;

	for (int k = 0; k < REPEATS; k++) {
		struct laps *l = laps_new();
		struct lap_event ev[LAPS_MAX_EVENTS];
		double t0 = now_ms();

		for (size_t i = 0; i < n; i++)
			laps_feed(l, &f[i], ev, LAPS_MAX_EVENTS);
		laps_feed(l, NULL, ev, LAPS_MAX_EVENTS);
		best = fmin(best, now_ms() - t0);
		laps_free(l);
	}
	return best;
}

int main(void)
{
	struct track *t = track_new();
	struct driver *d = t ? driver_new(DRIVER_LAPS, 1, car_default(), t) : NULL;
	struct pw_frame *f = malloc(FRAMES * sizeof *f);
	struct an_run run;
	struct an_input in;
	json_t *model;
	size_t laps = 0;
	double plain, with, tracker;

	if (!d || !f) {
		fprintf(stderr, "bench_an_general: out of memory\n");
		return 0;
	}
	for (size_t k = 0; k < FRAMES; k++) {
		driver_run_to(d, (int64_t)llround(k * 1000.0 / RATE_HZ));
		driver_frame(d, &f[k]);
		f[k].seq = k + 1;
		f[k].t_ns = driver_step(d) * 1000000ll;
	}
	model = model_of(t, SPACING_M);
	run = (struct an_run){ "bench", "ksudp", "", f, FRAMES };
	in = (struct an_input){ .session_id = "bench",
				.use_case = "general",
				.car_name = "",
				.game = "",
				.track = "",
				.runs = &run,
				.nruns = 1 };
	tracker = tracker_ms(f, FRAMES);
	plain = best_ms(&in, &laps);
	in.track_model = model;
	with = best_ms(&in, &laps);
	printf("analysis general: %d frames at %.0f Hz (%.0f min, %zu laps): %.1f ms laps only, "
	       "%.1f ms with a %d-corner track model every %.0f m (of which the store's lap "
	       "tracker alone: %.1f ms)  %s\n",
	       FRAMES, RATE_HZ, FRAMES / RATE_HZ / 60.0, laps, plain, with, track_corner_count(t),
	       SPACING_M, tracker, with < 100.0 ? "ok" : "OVER TARGET");
	json_decref(model);
	free(f);
	driver_free(d);
	track_free(t);
	return 0;
}
