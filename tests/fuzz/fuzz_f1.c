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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_float(uint64_t present, uint64_t bit, const float *v, size_t n)
{
	if (!(present & bit))
		return;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			abort();
}

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
	check_float(p, FRAME_P_THROTTLE, &f->throttle, 1);
	check_float(p, FRAME_P_BRAKE, &f->brake, 1);
	check_float(p, FRAME_P_CLUTCH, &f->clutch, 1);
	check_float(p, FRAME_P_HANDBRAKE, &f->handbrake, 1);
	check_float(p, FRAME_P_STEER, &f->steer, 1);
	check_float(p, FRAME_P_STEER_DEG, &f->steer_deg, 1);
	check_float(p, FRAME_P_SPEED, &f->speed_kmh, 1);
	check_float(p, FRAME_P_RPM, &f->rpm, 1);
	check_float(p, FRAME_P_MAX_RPM, &f->max_rpm, 1);
	check_float(p, FRAME_P_POWER, &f->power_w, 1);
	check_float(p, FRAME_P_TORQUE, &f->torque_nm, 1);
	check_float(p, FRAME_P_VEL, f->vel_ms, 3);
	check_float(p, FRAME_P_ACCEL_LAT, &f->accel_lat_g, 1);
	check_float(p, FRAME_P_ACCEL_LON, &f->accel_lon_g, 1);
	check_float(p, FRAME_P_ACCEL_VERT, &f->accel_vert_g, 1);
	check_float(p, FRAME_P_POS, f->pos_m, 3);
	check_float(p, FRAME_P_YAW, &f->yaw_rad, 1);
	check_float(p, FRAME_P_PITCH, &f->pitch_rad, 1);
	check_float(p, FRAME_P_ROLL, &f->roll_rad, 1);
	check_float(p, FRAME_P_LAP_DIST, &f->lap_dist_m, 1);
	check_float(p, FRAME_P_SPLINE, &f->spline, 1);
	check_float(p, FRAME_P_TRACK_LEN, &f->track_len_m, 1);
	check_float(p, FRAME_P_TYRE_TEMP, f->tyre_temp_c, 4);
	check_float(p, FRAME_P_TYRE_PRESS, f->tyre_press_kpa, 4);
	check_float(p, FRAME_P_BRAKE_TEMP, f->brake_temp_c, 4);
	check_float(p, FRAME_P_SLIP_RATIO, f->slip_ratio, 4);
	check_float(p, FRAME_P_SLIP_ANGLE, f->slip_angle_rad, 4);
	check_float(p, FRAME_P_WHEEL_SPEED, f->wheel_speed_rads, 4);
	check_float(p, FRAME_P_SUSP_TRAVEL, f->susp_travel_m, 4);
	check_float(p, FRAME_P_TYRE_LOAD, f->tyre_load_n, 4);
	check_float(p, FRAME_P_TYRE_WEAR, f->tyre_wear, 4);
	check_float(p, FRAME_P_FUEL_L, &f->fuel_l, 1);
	check_float(p, FRAME_P_FUEL_FRAC, &f->fuel_frac, 1);
	check_float(p, FRAME_P_BOOST, &f->boost_bar, 1);
	for (int w = 0; w < 4; w++)
		if ((p & FRAME_P_TYRE_WEAR) && !(f->tyre_wear[w] >= 0.0f && f->tyre_wear[w] <= 1.0f))
			abort();
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
		abort();            /* a listen-only feed never answers */
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
