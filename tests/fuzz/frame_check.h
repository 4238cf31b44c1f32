/*
 * frame_check.h - invariants every decoded frame must hold, shared by the
 * decoder fuzz targets: a present channel's floats are finite, an absent
 * one's are zero, every channel the table gives a range (inputs,
 * fractions) stays in it, and the frame carries no channel or flag outside
 * what the channel dictionary declares for its game (common/dict.h).
 * A broken invariant aborts (the fuzzer reports it).
 */
#ifndef PW_FRAME_CHECK_H
#define PW_FRAME_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/dict.h"
#include "common/frame.h"

/* A present channel's floats are finite; an absent one's are all zero. */
static inline void check_float(uint64_t present, uint64_t bit, const float *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((present & bit) && !isfinite(v[i]))
			abort();
		if (!(present & bit) && v[i] != 0.0f)
			abort();
	}
}

/* A present channel's values are within the range the channel table promises. */
static inline void check_range(const struct pw_frame *f, unsigned bit)
{
	const struct frame_channel *c = &frame_channels[bit];

	for (unsigned i = 0; (f->present & c->bit) && i < c->n; i++) {
		double v = frame_channel_value(f, bit, i);

		if (!(v >= c->lo && v <= c->hi))
			abort();
	}
}

/* Every float channel (frame_channels[], generated from FRAME_CHANNELS), and
 * the channels and flags the frame's game declares. */
static inline void check_floats(const struct pw_frame *f)
{
	if ((f->present & ~dict_game_channels(f->game)) ||
	    (f->flags_known & ~dict_game_flags(f->game)))
		abort();
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const struct frame_channel *c = &frame_channels[b];
		const float *v = (const float *)((const char *)f + c->off);

		if (c->type == FRAME_T_F32)
			check_float(f->present, c->bit, v, c->n);
	}
	for (unsigned b = 0; b < FRAME_P_COUNT; b++)
		if (isfinite(frame_channels[b].lo) || isfinite(frame_channels[b].hi))
			check_range(f, b);
}

#endif
