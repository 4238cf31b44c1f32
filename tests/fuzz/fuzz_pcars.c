/*
 * fuzz_pcars.c - fuzz target for the Project CARS v1/v2 decoder.
 *
 * The input is a sequence of datagrams, each prefixed by its u16 little-endian
 * length (a prefix longer than what is left takes the rest); it is also fed
 * whole as one datagram. Everything goes through one dec_state, so v2 packets
 * build on each other's carry. abort() on a broken invariant: a known result
 * code; a frame with version, feed and a PCARS game set, every present float
 * channel finite and every absent channel zero; metadata strings terminated;
 * the listen-mode feed never asks to send anything.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/bytes.h"
#include "capture/decoder.h"
#include "tests/fuzz/frame_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frame(const struct pw_frame *f)
{
	if (f->version != FRAME_VERSION || f->feed != PW_FEED_PCARS ||
	    (f->game != PW_GAME_PCARS1 && f->game != PW_GAME_PCARS2))
		abort();
	if (f->seq || f->t_ns || (f->flags & ~f->flags_known))
		abort();
	check_floats(f);
	if (f->steer < -1.0f || f->steer > 1.0f || f->game_session == 0)
		abort();
}

static void check_meta(const struct dec_state *st)
{
	const struct pw_meta *m = &st->meta;

	if (!memchr(m->game, 0, sizeof m->game) || !memchr(m->car, 0, sizeof m->car) ||
	    !memchr(m->driver, 0, sizeof m->driver) || !memchr(m->track, 0, sizeof m->track) ||
	    !memchr(m->layout, 0, sizeof m->layout))
		abort();
	if (!memchr(m->car_class, 0, sizeof m->car_class) ||
	    !memchr(m->session_type, 0, sizeof m->session_type) || st->out_len != 0)
		abort();
	if (m->game[0] && m->game_session == 0)
		abort();
}

static void feed(struct dec_state *st, const uint8_t *b, size_t len)
{
	struct pw_frame f;
	int r = dec_pcars.decode(st, b, len, &f);

	if (r != DEC_FRAME && r != DEC_OK && r != DEC_ESIZE && r != DEC_EFORMAT)
		abort();
	if (r == DEC_FRAME)
		check_frame(&f);
	check_meta(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dec_state st;
	size_t o = 0;

	if (dec_pcars.hello || dec_pcars.bye)
		abort();
	dec_reset(&st);
	feed(&st, data, size);
	while (o + 2 <= size) {
		size_t n = rd_u16(data, size, o);
		o += 2;
		if (n > size - o)
			n = size - o;
		feed(&st, data + o, n);
		o += n;
	}
	return 0;
}
