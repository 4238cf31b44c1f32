/*
 * t_frames.h - frames for the unit tests of frame files, block codecs and
 * exports. Header-only, like t.h.
 *
 *     t_rnd()                       xorshift64, one fixed sequence per test program
 *     t_random_frames(n)            frames of random bytes (every bit width of every
 *                                   column), seqs increasing by random steps
 *     t_sim_frames(n, seed, seq0)   pw-sim's laps mode at 333 Hz: seq from seq0, t_ns
 *                                   a 3.003 ms step, AC on the ksudp feed
 * The arrays are malloc'd (NULL when out of memory); the caller frees them.
 */
#ifndef PW_T_FRAMES_H
#define PW_T_FRAMES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/sim/driver.h"
#include "common/frame.h"

static uint64_t t_rng = 0x2545f4914f6cdd1dull;

static inline uint64_t t_rnd(void)
{
	t_rng ^= t_rng << 13;
	t_rng ^= t_rng >> 7;
	t_rng ^= t_rng << 17;
	return t_rng;
}

static inline struct pw_frame *t_random_frames(size_t n)
{
	struct pw_frame *f = malloc(n * sizeof *f);
	uint64_t seq = t_rnd() >> 8;

	for (size_t i = 0; f && i < n; i++) {
		uint8_t *b = (uint8_t *)&f[i];

		for (size_t k = 0; k < sizeof *f; k += 8) {
			uint64_t v = t_rnd();
			memcpy(b + k, &v, 8);
		}
		seq += 1 + (t_rnd() >> 40);
		f[i].seq = seq;
	}
	return f;
}

static inline struct pw_frame *t_sim_frames(size_t n, uint64_t seed, uint64_t seq0)
{
	struct track *t = track_new();
	struct driver *d = t ? driver_new(DRIVER_LAPS, seed, car_default(), t) : NULL;
	struct pw_frame *f = d ? calloc(n, sizeof *f) : NULL;

	for (size_t k = 0; f && k < n; k++) {
		driver_run_to(d, (int64_t)((double)k * 1000.0 / 333.0 + 0.5));
		driver_frame(d, &f[k]);
		f[k].seq = seq0 + k;
		f[k].t_ns = 1750000000000000000ll + (int64_t)k * 3003003;
		f[k].game = PW_GAME_AC;
		f[k].feed = PW_FEED_KSUDP;
	}
	driver_free(d);
	track_free(t);
	return f;
}

#endif
