/*
 * bench_derive.c - cost of the derived channels per frame (common/derive.h),
 * which pw-capture adds to every decoded frame. Target < 1 us/frame: at the
 * fastest feed (333 Hz) that is 0.03 % of a core, so capture stays well within
 * its 1 % budget (decode < 200 ns/packet on top). The window is kept as
 * running sums, so the cost does not grow with the frames in it.
 *
 * Frames from the emulator's car, as games give them: ACC at 60 Hz (speed
 * and heading only: g and yaw rate derived), Project CARS at 333 Hz with a
 * velocity (yaw rate derived; a 50-frame window), the same without g (no
 * real game: the most work a frame can take) and Assetto Corsa at 333 Hz
 * (lap distance on the lap clock, no heading); and Project CARS's frames on
 * a 10 kHz receive clock, as pw-capture sees a 333 Hz recording replayed at
 * 10 k packets/s (the window's 0.15 s would hold 1,500 frames: 256 are kept).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/sim/car.h"
#include "capture/sim/driver.h"
#include "capture/sim/track.h"
#include "common/clock.h"
#include "common/derive.h"

#define TARGET_NS 1000.0
#define SECONDS 90

static int failures;

static void run(const char *label, unsigned game, double hz, double clock_hz, uint64_t keep)
{
	struct track *t = track_new();
	struct driver *d = t ? driver_new(DRIVER_LAPS, 5, car_default(), t) : NULL;
	size_t n = (size_t)(SECONDS * hz), total = 0;
	struct pw_frame *in = d ? malloc(n * sizeof *in) : NULL,
			*f = in ? malloc(n * sizeof *f) : NULL;
	struct derive *dv = derive_new(0);
	int64_t t0, spent = 0;
	double ns;

	if (!f || !dv) {
		printf("derive %s: out of memory\n", label);
		failures++;
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		driver_run_to(d, (int64_t)((double)k * 1000.0 / hz + 0.5));
		driver_frame(d, &in[k]);
		in[k].game = (uint8_t)game;
		in[k].present &= keep;
		in[k].t_ns = 1700000000000000000LL + (int64_t)((double)k * 1e9 / clock_hz);
	}
	for (int rep = 0; rep < 5; rep++) {
		memcpy(f, in, n * sizeof *f);
		derive_reset(dv);
		t0 = clock_mono_ns();
		for (size_t k = 0; k < n; k++)
			derive_frame(dv, &f[k]);
		spent += clock_mono_ns() - t0;
		total += n;
	}
	ns = (double)spent / (double)total;
	printf("derive %-40s %6.1f ns/frame  (%zu frames)  %s\n", label, ns, total,
	       ns < TARGET_NS ? "ok" : "OVER TARGET");
	failures += ns >= TARGET_NS;
out:
	free(in);
	free(f);
	derive_free(dv);
	driver_free(d);
	track_free(t);
}

int main(void)
{
	uint64_t lap = FRAME_P_LAP | FRAME_P_LAP_TIME | FRAME_P_LAST_LAP | FRAME_P_SPLINE;

	run("acc 60 Hz (g, yaw rate)", PW_GAME_ACC, 60, 60,
	    FRAME_P_GAME_TIME | FRAME_P_SPEED | FRAME_P_YAW | lap | FRAME_P_TRACK_LEN |
		    FRAME_P_LAP_DIST);
	run("pcars 333 Hz with velocity (yaw rate)", PW_GAME_PCARS1, 333, 333,
	    FRAME_P_SPEED | FRAME_P_YAW | FRAME_P_VEL | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON |
		    lap | FRAME_P_LAP_DIST);
	run("pcars replayed at 10 k/s (256 held)", PW_GAME_PCARS1, 333, 10000,
	    FRAME_P_SPEED | FRAME_P_YAW | FRAME_P_VEL | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON |
		    lap | FRAME_P_LAP_DIST);
	run("pcars 333 Hz without g (g, yaw rate)", PW_GAME_PCARS1, 333, 333,
	    FRAME_P_SPEED | FRAME_P_YAW | FRAME_P_VEL | lap);
	run("assetto_corsa 333 Hz (lap distance)", PW_GAME_AC, 333, 333,
	    FRAME_P_SPEED | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON | lap);
	return failures ? 1 : 0;
}
