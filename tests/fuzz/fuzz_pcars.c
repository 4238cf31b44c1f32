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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Float channels: presence bit, offset, count. */
static const struct {
	uint64_t bit;
	size_t off, n;
} chans[] = {
	{ FRAME_P_THROTTLE, offsetof(struct pw_frame, throttle), 1 },
	{ FRAME_P_BRAKE, offsetof(struct pw_frame, brake), 1 },
	{ FRAME_P_CLUTCH, offsetof(struct pw_frame, clutch), 1 },
	{ FRAME_P_HANDBRAKE, offsetof(struct pw_frame, handbrake), 1 },
	{ FRAME_P_STEER, offsetof(struct pw_frame, steer), 1 },
	{ FRAME_P_STEER_DEG, offsetof(struct pw_frame, steer_deg), 1 },
	{ FRAME_P_SPEED, offsetof(struct pw_frame, speed_kmh), 1 },
	{ FRAME_P_RPM, offsetof(struct pw_frame, rpm), 1 },
	{ FRAME_P_MAX_RPM, offsetof(struct pw_frame, max_rpm), 1 },
	{ FRAME_P_POWER, offsetof(struct pw_frame, power_w), 1 },
	{ FRAME_P_TORQUE, offsetof(struct pw_frame, torque_nm), 1 },
	{ FRAME_P_VEL, offsetof(struct pw_frame, vel_ms), 3 },
	{ FRAME_P_ACCEL_LAT, offsetof(struct pw_frame, accel_lat_g), 1 },
	{ FRAME_P_ACCEL_LON, offsetof(struct pw_frame, accel_lon_g), 1 },
	{ FRAME_P_ACCEL_VERT, offsetof(struct pw_frame, accel_vert_g), 1 },
	{ FRAME_P_POS, offsetof(struct pw_frame, pos_m), 3 },
	{ FRAME_P_YAW, offsetof(struct pw_frame, yaw_rad), 1 },
	{ FRAME_P_PITCH, offsetof(struct pw_frame, pitch_rad), 1 },
	{ FRAME_P_ROLL, offsetof(struct pw_frame, roll_rad), 1 },
	{ FRAME_P_LAP_DIST, offsetof(struct pw_frame, lap_dist_m), 1 },
	{ FRAME_P_SPLINE, offsetof(struct pw_frame, spline), 1 },
	{ FRAME_P_TRACK_LEN, offsetof(struct pw_frame, track_len_m), 1 },
	{ FRAME_P_FUEL_L, offsetof(struct pw_frame, fuel_l), 1 },
	{ FRAME_P_FUEL_FRAC, offsetof(struct pw_frame, fuel_frac), 1 },
	{ FRAME_P_BOOST, offsetof(struct pw_frame, boost_bar), 1 },
	{ FRAME_P_TYRE_TEMP, offsetof(struct pw_frame, tyre_temp_c), 4 },
	{ FRAME_P_TYRE_PRESS, offsetof(struct pw_frame, tyre_press_kpa), 4 },
	{ FRAME_P_BRAKE_TEMP, offsetof(struct pw_frame, brake_temp_c), 4 },
	{ FRAME_P_SLIP_RATIO, offsetof(struct pw_frame, slip_ratio), 4 },
	{ FRAME_P_SLIP_ANGLE, offsetof(struct pw_frame, slip_angle_rad), 4 },
	{ FRAME_P_WHEEL_SPEED, offsetof(struct pw_frame, wheel_speed_rads), 4 },
	{ FRAME_P_SUSP_TRAVEL, offsetof(struct pw_frame, susp_travel_m), 4 },
	{ FRAME_P_TYRE_LOAD, offsetof(struct pw_frame, tyre_load_n), 4 },
	{ FRAME_P_TYRE_WEAR, offsetof(struct pw_frame, tyre_wear), 4 },
};

static void check_frame(const struct pw_frame *f)
{
	if (f->version != FRAME_VERSION || f->feed != PW_FEED_PCARS ||
	    (f->game != PW_GAME_PCARS1 && f->game != PW_GAME_PCARS2))
		abort();
	if (f->seq || f->t_ns || (f->flags & ~f->flags_known))
		abort();
	for (size_t i = 0; i < sizeof chans / sizeof chans[0]; i++)
		for (size_t k = 0; k < chans[i].n; k++) {
			float v;
			memcpy(&v, (const char *)f + chans[i].off + 4 * k, 4);
			if ((f->present & chans[i].bit) ? !isfinite(v) : v != 0.0f)
				abort();
		}
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
