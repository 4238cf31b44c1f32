/*
 * fuzz_ksudp.c - fuzz target for the Assetto Corsa remote-telemetry decoder.
 *
 * The input is a sequence of datagrams, each prefixed by its u16 little-endian
 * length (a prefix longer than what is left takes the rest); it is also fed
 * whole as one datagram. Everything goes through one dec_state, with the
 * client side (hello/bye) exercised too. abort() on a broken invariant:
 * a known result code; a frame with version, game, feed set, every present
 * float channel finite and every absent channel zero; metadata strings
 * terminated; a reply in st->out only ever the 12-byte subscribe.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/bytes.h"
#include "capture/decoder.h"
#include "capture/ksudp.h"
#include "tests/fuzz/frame_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frame(const struct pw_frame *f)
{
	if (f->version != FRAME_VERSION || f->game != PW_GAME_AC || f->feed != PW_FEED_KSUDP)
		abort();
	if (f->seq || f->t_ns || (f->flags & ~f->flags_known))
		abort();
	check_floats(f);
	if (f->steer < -1.0f || f->steer > 1.0f)
		abort();
}

static void check_meta(const struct dec_state *st)
{
	const struct pw_meta *m = &st->meta;

	if (!memchr(m->game, 0, sizeof m->game) || !memchr(m->car, 0, sizeof m->car) ||
	    !memchr(m->driver, 0, sizeof m->driver) || !memchr(m->track, 0, sizeof m->track) ||
	    !memchr(m->layout, 0, sizeof m->layout))
		abort();
	if (st->out_len != 0 && (st->out_len != KSUDP_HANDSHAKE_SIZE ||
				 rd_u32(st->out, st->out_len, 8) != KSUDP_OP_SUBSCRIBE_UPDATE))
		abort();
}

static void feed(struct dec_state *st, const uint8_t *b, size_t len)
{
	struct pw_frame f;
	int r = dec_ksudp.decode(st, b, len, &f);

	if (r != DEC_FRAME && r != DEC_OK && r != DEC_ESIZE && r != DEC_EFORMAT)
		abort();
	if (r == DEC_FRAME)
		check_frame(&f);
	check_meta(st);
	st->out_len = 0; /* as the capture process does after sending */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dec_state st;
	uint8_t msg[DEC_OUT_MAX];
	size_t o = 0;

	dec_reset(&st);
	if (dec_ksudp.hello(&st, msg, sizeof msg) != KSUDP_HANDSHAKE_SIZE)
		abort();
	feed(&st, data, size);
	while (o + 2 <= size) {
		size_t n = rd_u16(data, size, o);
		o += 2;
		if (n > size - o)
			n = size - o;
		feed(&st, data + o, n);
		o += n;
	}
	if (dec_ksudp.bye(&st, msg, sizeof msg) != KSUDP_HANDSHAKE_SIZE ||
	    rd_u32(msg, sizeof msg, 8) != KSUDP_OP_DISMISS)
		abort();
	return 0;
}
