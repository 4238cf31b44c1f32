/*
 * enc_ksudp.c - Assetto Corsa remote telemetry for pw-sim: RTCarInfo from a
 * frame, plus the server side of the 9996 handshake (response, RTLap).
 *
 * The exact inverse of capture/dec_ksudp.c (see its header for the axes: the
 * g floats at 28/32/36 are lateral (+ left), vertical, longitudinal; steer is
 * wheel degrees, + right). Fields the frame does not carry are written as AC's
 * neutral values: ABS/TC "enabled" 0, cgHeight, tyre radii, dirt, camber,
 * Dy/Mz, carSlope 0; slipAngle_ContactPatch repeats slipAngle. Names are
 * written as UTF-16LE terminated by '%' like AC does.
 */
#include <math.h>
#include <string.h>

#include "capture/bytes.h"
#include "capture/ksudp.h"
#include "capture/sim/encoder.h"

#define KMH_PER_MPH 1.609344f

/* Next code point of a NUL-terminated UTF-8 string; anything outside the
 * BMP or malformed becomes '?' (its continuation bytes are skipped). */
static unsigned utf8_next(const char *s, size_t *i)
{
	const unsigned char *u = (const unsigned char *)s + *i;
	unsigned c = u[0];

	if (c < 0x80) {
		*i += 1;
		return c;
	}
	if ((c & 0xe0) == 0xc0 && (u[1] & 0xc0) == 0x80) {
		*i += 2;
		return (c & 0x1f) << 6 | (u[1] & 0x3f);
	}
	if ((c & 0xf0) == 0xe0 && (u[1] & 0xc0) == 0x80 && (u[2] & 0xc0) == 0x80) {
		*i += 3;
		return (c & 0x0f) << 12 | (u[1] & 0x3fu) << 6 | (u[2] & 0x3f);
	}
	do
		*i += 1;
	while ((((const unsigned char *)s)[*i] & 0xc0) == 0x80);
	return '?';
}

/* name (UTF-8, may be NULL) as KSUDP_NAME_UNITS UTF-16LE units ending in '%'. */
static void ksudp_put_name(uint8_t *buf, size_t cap, size_t off, const char *name)
{
	size_t i = 0;
	unsigned n = 0;

	while (name && name[i] && n < KSUDP_NAME_UNITS - 1)
		wr_u16(buf, cap, off + 2 * n++, (uint16_t)utf8_next(name, &i));
	wr_u16(buf, cap, off + 2 * n, '%');
}

int ksudp_parse_handshake(const uint8_t *buf, size_t len)
{
	int32_t op;

	if (len != KSUDP_HANDSHAKE_SIZE)
		return -1;
	op = rd_s32(buf, len, KSUDP_HANDSHAKE_OP_OFF);
	return op >= KSUDP_OP_HANDSHAKE && op <= KSUDP_OP_DISMISS ? op : -1;
}

size_t ksudp_encode_response(const struct pw_meta *m, uint8_t *buf, size_t cap)
{
	if (cap < KSUDP_RESPONSE_SIZE)
		return 0;
	memset(buf, 0, KSUDP_RESPONSE_SIZE);
	ksudp_put_name(buf, cap, 0, m ? m->car : NULL);
	ksudp_put_name(buf, cap, 100, m ? m->driver : NULL);
	wr_u32(buf, cap, KSUDP_RESPONSE_IDENTIFIER_OFF, KSUDP_RESPONSE_IDENTIFIER);
	wr_u32(buf, cap, KSUDP_RESPONSE_VERSION_OFF, KSUDP_VERSION);
	ksudp_put_name(buf, cap, 208, m ? m->track : NULL);
	ksudp_put_name(buf, cap, 308, m ? m->layout : NULL);
	return KSUDP_RESPONSE_SIZE;
}

size_t ksudp_encode_rtlap(const struct pw_meta *m, int car_id, int lap, int time_ms, uint8_t *buf,
			  size_t cap)
{
	if (cap < KSUDP_RTLAP_SIZE)
		return 0;
	memset(buf, 0, KSUDP_RTLAP_SIZE);
	wr_u32(buf, cap, 0, (uint32_t)car_id);
	wr_u32(buf, cap, 4, (uint32_t)lap);
	ksudp_put_name(buf, cap, 8, m ? m->driver : NULL);
	ksudp_put_name(buf, cap, 108, m ? m->car : NULL);
	wr_u32(buf, cap, 208, (uint32_t)time_ms);
	return KSUDP_RTLAP_SIZE;
}

static int has(const struct pw_frame *f, uint64_t bit)
{
	return (f->present & bit) != 0;
}

static void put_wheels(uint8_t *b, size_t off, const float v[4], float scale, int present)
{
	for (int i = 0; i < 4; i++)
		wr_f32(b, KSUDP_CARINFO_SIZE, off + 4 * (size_t)i, present ? v[i] * scale : 0.0f);
}

static int32_t lap_ms(const struct pw_frame *f, uint64_t bit, int32_t ms)
{
	return has(f, bit) && ms > 0 ? ms : 0; /* AC: 0 = no lap yet */
}

static void put_flag(uint8_t *b, size_t off, const struct pw_frame *f, uint16_t flag)
{
	b[off] = (f->flags & flag) ? 1 : 0;
}

static void ksudp_encode(struct enc_state *es, const struct pw_frame *f, const struct pw_meta *m,
			 enc_emit_fn emit, void *ctx)
{
	uint8_t b[KSUDP_CARINFO_SIZE] = { 0 };
	const size_t n = sizeof b;
	float kmh = has(f, FRAME_P_SPEED) ? f->speed_kmh : 0.0f;
	float steer_deg = has(f, FRAME_P_STEER_DEG) ? f->steer_deg
			  : has(f, FRAME_P_STEER)   ? f->steer * KSUDP_STEER_LOCK_DEG
						    : 0.0f;

	(void)m;
	b[0] = KSUDP_CARINFO_TAG;
	wr_u32(b, n, KSUDP_CARINFO_SIZE_OFF, KSUDP_CARINFO_SIZE);
	wr_f32(b, n, 8, kmh);
	wr_f32(b, n, 12, kmh / KMH_PER_MPH);
	wr_f32(b, n, 16, kmh / 3.6f);
	put_flag(b, 21, f, FRAME_FLAG_ABS);
	put_flag(b, 22, f, FRAME_FLAG_TC);
	put_flag(b, 24, f, FRAME_FLAG_IN_PIT);
	put_flag(b, 25, f, FRAME_FLAG_LIMITER);
	wr_f32(b, n, 28, has(f, FRAME_P_ACCEL_LAT) ? -f->accel_lat_g : 0.0f);
	wr_f32(b, n, 32, has(f, FRAME_P_ACCEL_VERT) ? f->accel_vert_g : 0.0f);
	wr_f32(b, n, 36, has(f, FRAME_P_ACCEL_LON) ? f->accel_lon_g : 0.0f);
	wr_u32(b, n, 40, (uint32_t)lap_ms(f, FRAME_P_LAP_TIME, f->lap_time_ms));
	wr_u32(b, n, 44, (uint32_t)lap_ms(f, FRAME_P_LAST_LAP, f->last_lap_ms));
	wr_u32(b, n, 48, (uint32_t)lap_ms(f, FRAME_P_BEST_LAP, f->best_lap_ms));
	wr_u32(b, n, 52, has(f, FRAME_P_LAP) ? f->lap : 0);
	wr_f32(b, n, 56, has(f, FRAME_P_THROTTLE) ? f->throttle : 0.0f);
	wr_f32(b, n, 60, has(f, FRAME_P_BRAKE) ? f->brake : 0.0f);
	wr_f32(b, n, 64, has(f, FRAME_P_CLUTCH) ? 1.0f - f->clutch : 1.0f); /* engagement */
	wr_f32(b, n, 68, has(f, FRAME_P_RPM) ? f->rpm : 0.0f);
	wr_f32(b, n, 72, steer_deg);
	wr_u32(b, n, 76, (uint32_t)(has(f, FRAME_P_GEAR) ? f->gear + 1 : 1));
	put_wheels(b, 84, f->wheel_speed_rads, 1.0f, has(f, FRAME_P_WHEEL_SPEED));
	put_wheels(b, 100, f->slip_angle_rad, (float)(180.0 / M_PI), has(f, FRAME_P_SLIP_ANGLE));
	put_wheels(b, 116, f->slip_angle_rad, (float)(180.0 / M_PI), has(f, FRAME_P_SLIP_ANGLE));
	put_wheels(b, 132, f->slip_ratio, 1.0f, has(f, FRAME_P_SLIP_RATIO));
	put_wheels(b, 180, f->tyre_load_n, 1.0f, has(f, FRAME_P_TYRE_LOAD));
	put_wheels(b, 292, f->susp_travel_m, 1.0f, has(f, FRAME_P_SUSP_TRAVEL));
	wr_f32(b, n, 308, has(f, FRAME_P_SPLINE) ? f->spline : 0.0f);
	for (int i = 0; i < 3; i++)
		wr_f32(b, n, 316 + 4 * (size_t)i, has(f, FRAME_P_POS) ? f->pos_m[i] : 0.0f);
	es->tick++;
	emit(ctx, b, n);
}

const struct encoder enc_ksudp = {
	.feed = "ksudp",
	.format = "rtcarinfo",
	.encode = ksudp_encode,
	.game = PW_GAME_AC,
};
