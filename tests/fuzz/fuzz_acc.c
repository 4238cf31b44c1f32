/*
 * fuzz_acc.c - fuzz target for the ACC broadcasting decoder (dec_acc.c).
 *
 * The input is a sequence of datagrams, each a 2-byte little-endian length
 * followed by that many bytes (a short tail is taken as it is); the whole
 * input is also tried as one datagram. All go through one dec_state after a
 * hello(), so registration, entry list, focus and session state carry from
 * message to message. Replies the decoder leaves in st->out are checked and
 * consumed as pw-capture would. Any broken invariant aborts.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/acc.h"
#include "capture/decoder.h"
#include "tests/fuzz/frame_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frame(const struct pw_frame *f)
{
	uint16_t known = FRAME_FLAG_IN_PIT | FRAME_FLAG_LAP_INVALID | FRAME_FLAG_PAUSED;

	if (f->version != FRAME_VERSION || f->feed != PW_FEED_ACC || f->game != PW_GAME_ACC)
		abort();
	if (f->seq != 0 || f->t_ns != 0 || f->flags_known != known || (f->flags & ~known))
		abort();
	if (!(f->present & FRAME_P_GAME_TIME) || !isfinite(f->game_time_s) || f->game_session == 0)
		abort();
	check_floats(f);
	if ((f->present & FRAME_P_GEAR) ? (f->gear < -1 || f->gear > 15) : f->gear != 0)
		abort();
	if ((f->present & FRAME_P_POSITION) ? f->position == 0 : f->position != 0)
		abort();
	if (f->lap_time_ms < -1 || f->last_lap_ms < -1 || f->best_lap_ms < -1)
		abort();
	for (int i = 0; i < 3; i++)
		if (f->sector_ms[i] < -1)
			abort();
	if ((f->present & FRAME_P_TRACK_LEN) && !(f->track_len_m > 0.0f))
		abort();
}

static void check_state(const struct dec_state *st)
{
	const struct pw_meta *m = &st->meta;
	const char *err = dec_acc_error(st);

	if (!memchr(m->game, 0, sizeof m->game) || !memchr(m->car, 0, sizeof m->car) ||
	    !memchr(m->track, 0, sizeof m->track) || !memchr(m->driver, 0, sizeof m->driver) ||
	    !memchr(m->car_class, 0, sizeof m->car_class) ||
	    !memchr(m->session_type, 0, sizeof m->session_type))
		abort();
	if (err && !memchr(err, 0, META_STR))
		abort();
	if (err && dec_acc_registered(st))
		abort();
	/* the only replies: REQUEST_ENTRY_LIST / REQUEST_TRACK_DATA + connection id */
	if (st->out_len && (st->out_len != 5 || (st->out[0] != ACC_OUT_REQUEST_ENTRY_LIST &&
						 st->out[0] != ACC_OUT_REQUEST_TRACK_DATA)))
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
	r = dec_acc.decode(st, copy, len, &f);
	free(copy);
	if (r != DEC_FRAME && r != DEC_OK && r != DEC_ESIZE && r != DEC_EFORMAT)
		abort();
	if (r == DEC_FRAME)
		check_frame(&f);
	check_state(st);
	st->out_len = 0; /* sent */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dec_state st;
	uint8_t msg[DEC_OUT_MAX];
	size_t off = 0, n;

	dec_reset(&st);
	if (size && (data[0] & 1))
		dec_acc_set_password(&st, "fuzz");
	n = dec_acc.hello(&st, msg, sizeof msg);
	if (n < 20 || msg[0] != ACC_OUT_REGISTER || msg[1] != ACC_PROTOCOL_VERSION)
		abort();
	while (off + 2 <= size) {
		n = (size_t)data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (n > size - off)
			n = size - off;
		feed(&st, data + off, n);
		off += n;
	}
	feed(&st, data, size);
	n = dec_acc.bye(&st, msg, sizeof msg);
	if (n != 5 || msg[0] != ACC_OUT_UNREGISTER || dec_acc_registered(&st))
		abort();
	return 0;
}
