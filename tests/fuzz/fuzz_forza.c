/*
 * fuzz_forza.c - fuzz target for the Forza Data Out decoder (dec_forza.c).
 *
 * The input is a sequence of datagrams, each a 2-byte little-endian length
 * followed by that many bytes (a short tail is taken as it is); the whole
 * input is also tried as one datagram. All go through one dec_state, so
 * session, lap-distance and timestamp-wrap state is exercised. Any broken
 * invariant aborts: frame identity, finite present floats, absent channels
 * zero, inputs and fractions in range, sizes other than 232/311/324/331
 * rejected.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/decoder.h"
#include "tests/fuzz/frame_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frame(const struct pw_frame *f, size_t len)
{
	static const struct {
		size_t len;
		uint8_t game;
	} sizes[] = {
		{ 232, PW_GAME_FORZA_SLED },
		{ 311, PW_GAME_FM7 },
		{ 324, PW_GAME_FH },
		{ 331, PW_GAME_FM2023 },
	};
	int ok = 0;

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		ok |= sizes[i].len == len && sizes[i].game == f->game;
	if (!ok || f->version != FRAME_VERSION || f->feed != PW_FEED_FORZA)
		abort();
	if (f->seq != 0 || f->t_ns != 0 || (f->flags & ~f->flags_known))
		abort();
	if (f->flags_known != FRAME_FLAG_PAUSED || f->game_session == 0)
		abort();
	if (!(f->present & FRAME_P_GAME_TIME) || !isfinite(f->game_time_s))
		abort();
	check_floats(f);
	if ((f->present & FRAME_P_GEAR) ? (f->gear < -1 || f->gear > 10) : f->gear != 0)
		abort();
	if ((f->present & FRAME_P_POSITION) ? f->position == 0 : f->position != 0)
		abort();
	if ((f->present & FRAME_P_LAP_DIST) && f->lap_dist_m < 0.0f)
		abort();
	if ((f->present & FRAME_P_LAP_TIME) && f->lap_time_ms < -1)
		abort();
}

static void check_meta(const struct pw_meta *m)
{
	if (!memchr(m->game, 0, sizeof m->game) || !memchr(m->car, 0, sizeof m->car) ||
	    !memchr(m->track, 0, sizeof m->track) || !memchr(m->driver, 0, sizeof m->driver) ||
	    !memchr(m->car_class, 0, sizeof m->car_class) ||
	    !memchr(m->session_type, 0, sizeof m->session_type))
		abort();
}

static void feed(struct dec_state *st, const uint8_t *buf, size_t len)
{
	/* an exact-size copy, so reads past the datagram hit the sanitizer */
	uint8_t *copy = calloc(1, len ? len : 1);
	struct pw_frame f;
	int r;

	if (!copy)
		return;
	if (len)
		memcpy(copy, buf, len);
	r = dec_forza.decode(st, copy, len, &f);
	free(copy);
	if (r == DEC_FRAME)
		check_frame(&f, len);
	else if (r != DEC_ESIZE)
		abort(); /* every known size is a frame, every other one ESIZE */
	check_meta(&st->meta);
	if (st->out_len)
		abort(); /* a listen-only feed never answers */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dec_state st;
	size_t off = 0;

	dec_reset(&st);
	while (off + 2 <= size) {
		size_t n = (size_t)data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (n > size - off)
			n = size - off;
		feed(&st, data + off, n);
		off += n;
	}
	feed(&st, data, size);
	return 0;
}
