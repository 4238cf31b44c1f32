/*
 * fuzz_f1.c - fuzz target for the F1 23/24/25 decoder (dec_f1.c).
 *
 * The input is a sequence of datagrams, each a 2-byte little-endian length
 * followed by that many bytes (a short tail is taken as it is); the whole
 * input is also tried as one datagram. All of them go through one dec_state,
 * with and without the second-player option, so multi-packet ticks and
 * session changes are exercised. Any broken invariant aborts.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/decoder.h"
#include "tests/fuzz/frame_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frame(const struct pw_frame *f)
{
	uint64_t p = f->present;

	if (f->version != FRAME_VERSION || f->feed != PW_FEED_F1)
		abort();
	if (f->game != PW_GAME_F1_23 && f->game != PW_GAME_F1_24 && f->game != PW_GAME_F1_25)
		abort();
	if (f->seq != 0 || f->t_ns != 0 || (f->flags & ~f->flags_known))
		abort();
	if ((p & FRAME_P_GAME_TIME) && !isfinite(f->game_time_s))
		abort();
	check_floats(f); /* tyre wear in 0..1 among them */
	if ((p & FRAME_P_SECTOR) && f->sector > 2)
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
	uint8_t *copy = malloc(len ? len : 1);
	struct pw_frame f;
	int r;

	if (!copy)
		return;
	if (len)
		memcpy(copy, buf, len);
	r = dec_f1.decode(st, copy, len, &f);
	free(copy);
	if (r != DEC_FRAME && r != DEC_OK && r != DEC_ESIZE && r != DEC_EFORMAT)
		abort();
	if (r == DEC_FRAME)
		check_frame(&f);
	check_meta(&st->meta);
	if (st->out_len)
		abort(); /* a listen-only feed never answers */
}

static void run(struct dec_state *st, const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off + 2 <= size) {
		size_t n = (size_t)data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (n > size - off)
			n = size - off;
		feed(st, data + off, n);
		off += n;
	}
	feed(st, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dec_state st;

	dec_reset(&st);
	run(&st, data, size);
	dec_reset(&st);
	st.opt_flags = DEC_OPT_F1_SECOND_PLAYER;
	run(&st, data, size);
	return 0;
}
