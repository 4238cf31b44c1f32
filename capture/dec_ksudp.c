/*
 * dec_ksudp.c - Assetto Corsa (original) remote telemetry, UDP 9996.
 *
 * Layouts: docs/protocols.md section 1 (1.1 handshake, 1.2 response, 1.3
 * RTCarInfo, 1.4 RTLap, 1.5 the g axes); constants in capture/ksudp.h. The feed is client
 * driven: hello() builds the 12-byte handshake (op 0); the 408-byte response
 * fills the metadata, starts a new game session and leaves the op-1 subscribe
 * in st->out; AC then streams one 328-byte RTCarInfo per physics update, each
 * of which is a frame. bye() builds the op-3 dismiss. Datagrams are told apart
 * by length alone: 12 handshake (seen when a capture also holds our own
 * requests; DEC_OK if operationId is 0..3, else DEC_EFORMAT), 212 RTLap (DEC_OK
 * and remembered when car 0..255, lap 0..65535 and time >= 0, else
 * DEC_EFORMAT), 328 RTCarInfo (must carry size 328 at offset 4, else
 * DEC_EFORMAT), 408 response (identifier/version are not checked: no real
 * response was ever recorded, and refusing AC's answer would kill the feed);
 * anything else is DEC_ESIZE. A 12- or 212-byte datagram that starts like an
 * RTCarInfo ('a', size 328) is a truncated RTCarInfo, DEC_ESIZE.
 *
 * Conventions, checked on the real Monza capture (tests/data/ac_remote/, 8641
 * RTCarInfo) unless noted:
 * - g forces. The three floats at 28/32/36 are named accG_vertical /
 *   accG_horizontal / accG_frontal by every source, but the data says they are
 *   AC's accG[] in car axes x (lateral), y (vertical), z (longitudinal):
 *   the lateral acceleration computed from the driven path (curvature of
 *   carCoordinates x/z times speed^2) matches -float@28 with correlation
 *   -0.997 and slope -1.01, and float@32 follows the second derivative of the
 *   world height y (corr 0.92; high-passed wheel load, 0.87). Monza is run
 *   clockwise and the path turns +370 deg in atan2(dz, dx) over the capture,
 *   which fixes which way is right. So accel_lat_g = -float@28 (+ = right),
 *   accel_vert_g = float@32 (+ = up; gravity is not included, mean -0.28 g),
 *   accel_lon_g = float@36 (+ = forward: corr 0.994 with d(speed)/dt, slope
 *   0.99).
 * - steer is the steering-wheel angle in degrees, + = right (corr +0.59 with
 *   the path curvature; range -281..298 deg). steer_deg carries it as is;
 *   steer = steer_deg / KSUDP_STEER_LOCK_DEG (450, see ksudp.h) clamped to
 *   -1..1, because the car's lock is not on the wire.
 * - gear: AC 0 = R, 1 = N, 2 = 1st -> frame gear = AC gear - 1 (data: 1..6).
 * - speed_kmh = speed_Kmh (speed_Ms * 3.6 in every packet).
 * - laps: lapCount = laps completed; lapTime/lastLap/bestLap are ms. AC sends
 *   0 for "no last/best lap yet": those become -1 (present, "no time"), like
 *   every feed. Data: 0 -> 1 at the line, last = best = 344684 ms after it.
 * - spline = carPositionNormalized; pos_m = carCoordinates (AC world, y up:
 *   d2y/dt2 follows float@32 as said above). Data: x -207..1046, z -1277..886.
 * - wheel arrays are FL FR RL RR. wheelAngularSpeed is rad/s (205 rad/s x
 *   0.34 m tyre radius = the 70 m/s top speed). slipAngle is in degrees
 *   (|mean| 1.6 above 100 km/h) -> rad. slipRatio as is. load is N.
 * - suspensionHeight is suspension travel (compression, m): it rises with the
 *   wheel load (corr 0.78..0.81 per wheel), range 0.0003..0.071 m.
 * - flags: isInPit, isAbsInAction, isTcInAction, isEngineLimiterOn. Data: ABS
 *   acts only with the brake pressed (mean brake 0.93), TC only on throttle
 *   (mean 0.81), in-pit for the first 320 packets (standing in the box).
 * - Not mapped: cgHeight, tyreSlip, ndSlip, Dy, Mz, dirt, camber, radii,
 *   carSlope, ABS/TC enabled (settings, not activity). No game clock.
 * - game_session counts handshake responses (0 before the first one); meta
 *   and its game_session change with each response. RTLap (op 2 subscribers
 *   only) gives no frame; the last one is kept in the private state.
 * Lap distance and time in lap: lap_time_ms is the game's lap clock; AC sends
 * the spline but no lap distance and no track length, so pw-capture derives
 * lap_dist_m downstream (common/derive.h: speed integrated on this lap clock
 * from the line, flagged derived). No heading, so no yaw rate is derived.
 */
#include <math.h>
#include <string.h>

#include "capture/bytes.h"
#include "capture/decoder.h"
#include "capture/ksudp.h"

struct ksudp_priv {
	uint64_t session;  /* handshake responses seen */
	int32_t rtlap_car; /* last RTLap: car, lap, time (ms) */
	int32_t rtlap_lap;
	int32_t rtlap_ms;
};
_Static_assert(sizeof(struct ksudp_priv) <= sizeof(((struct dec_state *)0)->priv), "priv fits");

#define KSUDP_FORMAT 1 /* meta.format: the only RTCarInfo layout */

static struct ksudp_priv *ksudp_priv(struct dec_state *st)
{
	return (struct ksudp_priv *)st->priv;
}

static size_t ksudp_put_handshake(uint8_t *buf, size_t cap, int op)
{
	if (cap < KSUDP_HANDSHAKE_SIZE)
		return 0;
	wr_u32(buf, cap, 0, 1); /* identifier: ignored by AC, clients send 1 */
	wr_u32(buf, cap, KSUDP_HANDSHAKE_VERSION_OFF, KSUDP_VERSION);
	wr_u32(buf, cap, KSUDP_HANDSHAKE_OP_OFF, (uint32_t)op);
	return KSUDP_HANDSHAKE_SIZE;
}

static size_t ksudp_hello(struct dec_state *st, uint8_t *buf, size_t cap)
{
	(void)st;
	return ksudp_put_handshake(buf, cap, KSUDP_OP_HANDSHAKE);
}

static size_t ksudp_bye(struct dec_state *st, uint8_t *buf, size_t cap)
{
	(void)st;
	return ksudp_put_handshake(buf, cap, KSUDP_OP_DISMISS);
}

static size_t utf8_put(char *out, size_t cap, size_t o, unsigned c)
{
	char tmp[3];
	size_t n;

	if (c >= 0xd800 && c <= 0xdfff)
		c = '?'; /* surrogates: names outside the BMP are not worth pairing */
	if (c < 0x80) {
		tmp[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		tmp[0] = (char)(0xc0 | c >> 6);
		tmp[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else {
		tmp[0] = (char)(0xe0 | c >> 12);
		tmp[1] = (char)(0x80 | (c >> 6 & 0x3f));
		tmp[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	}
	if (o + n >= cap)
		return 0;
	memcpy(out + o, tmp, n);
	return n;
}

/* UTF-16LE name at off (KSUDP_NAME_UNITS units, ends at '%' or NUL) -> UTF-8
 * whole characters into out[cap], NUL-terminated; returns the byte length. */
static size_t ksudp_name(const uint8_t *b, size_t len, size_t off, char *out, size_t cap)
{
	size_t o = 0;

	for (unsigned i = 0; i < KSUDP_NAME_UNITS; i++) {
		unsigned c = rd_u16(b, len, off + 2 * i);
		size_t n;

		if (c == 0 || c == '%')
			break;
		n = utf8_put(out, cap, o, c);
		if (n == 0)
			break;
		o += n;
	}
	out[o] = '\0';
	return o;
}

static void ksudp_meta_name(struct dec_state *st, char *dst, size_t cap, const uint8_t *b,
			    size_t len, size_t off)
{
	char s[META_STR];
	size_t n = ksudp_name(b, len, off, s, cap < sizeof s ? cap : sizeof s);

	dec_meta_set(st, dst, cap, s, n);
}

static void ksudp_meta_game(struct dec_state *st)
{
	const char *g = frame_game_name(PW_GAME_AC);

	if (strcmp(st->meta.game, g) != 0)
		dec_meta_set(st, st->meta.game, sizeof st->meta.game, g, strlen(g));
	if (st->meta.format != KSUDP_FORMAT) {
		st->meta.format = KSUDP_FORMAT;
		st->meta_gen++;
	}
}

static int ksudp_response(struct dec_state *st, const uint8_t *b, size_t len)
{
	struct ksudp_priv *p = ksudp_priv(st);

	ksudp_meta_game(st);
	ksudp_meta_name(st, st->meta.car, sizeof st->meta.car, b, len, 0);
	ksudp_meta_name(st, st->meta.driver, sizeof st->meta.driver, b, len, 100);
	ksudp_meta_name(st, st->meta.track, sizeof st->meta.track, b, len, 208);
	ksudp_meta_name(st, st->meta.layout, sizeof st->meta.layout, b, len, 308);
	p->session++;
	st->meta.game_session = p->session;
	st->meta_gen++;
	st->out_len = ksudp_put_handshake(st->out, sizeof st->out, KSUDP_OP_SUBSCRIBE_UPDATE);
	return DEC_OK;
}

/* Bytes 0..7 of every RTCarInfo: 'a', 3 pad bytes, s32 size 328. */
static int ksudp_carinfo_head(const uint8_t *b, size_t len)
{
	return rd_u8(b, len, 0) == KSUDP_CARINFO_TAG &&
	       rd_s32(b, len, KSUDP_CARINFO_SIZE_OFF) == KSUDP_CARINFO_SIZE;
}

static int32_t ksudp_lap_ms(int32_t ms)
{
	return ms > 0 ? ms : -1; /* AC: 0 = no lap yet */
}

/* AC 0 = R, 1 = N, 2 = 1st ...; nonsense values clamp into int8 */
static int8_t ksudp_gear(int32_t ac)
{
	return (int8_t)(ac < 0 ? -1 : ac > 128 ? 127 : ac - 1);
}

/* fin(rd_f32()) tested on the bits (NaN and Inf have every exponent bit set).
 * Inline, so that with a constant len and offset the bounds check folds away. */
static inline float ksudp_f32(const uint8_t *b, size_t len, size_t off)
{
	uint32_t u = rd_u32(b, len, off);
	float v;

	if ((u & 0x7f800000u) == 0x7f800000u)
		return 0.0f;
	memcpy(&v, &u, sizeof v);
	return v;
}

static inline void ksudp_wheels(float dst[4], const uint8_t *b, size_t len, size_t off, float scale)
{
#pragma GCC unroll 4
	for (int i = 0; i < 4; i++)
		dst[i] = ksudp_f32(b, len, off + 4 * (size_t)i) * scale;
}

static void ksudp_flag(struct pw_frame *f, const uint8_t *b, size_t len, size_t off, uint16_t flag)
{
	f->flags_known |= flag;
	if (rd_u8(b, len, off))
		f->flags |= flag;
}

static int ksudp_carinfo(struct dec_state *st, const uint8_t *b, size_t len, struct pw_frame *f)
{
	float steer_deg;

	if (rd_s32(b, len, KSUDP_CARINFO_SIZE_OFF) != KSUDP_CARINFO_SIZE)
		return DEC_EFORMAT;
	ksudp_meta_game(st);
	frame_init(f, PW_GAME_AC, PW_FEED_KSUDP);
	f->game_session = ksudp_priv(st)->session;

	f->speed_kmh = ksudp_f32(b, len, 8);
	ksudp_flag(f, b, len, 21, FRAME_FLAG_ABS);
	ksudp_flag(f, b, len, 22, FRAME_FLAG_TC);
	ksudp_flag(f, b, len, 24, FRAME_FLAG_IN_PIT);
	ksudp_flag(f, b, len, 25, FRAME_FLAG_LIMITER);
	f->accel_lat_g = -ksudp_f32(b, len, 28) + 0.0f;
	f->accel_vert_g = ksudp_f32(b, len, 32);
	f->accel_lon_g = ksudp_f32(b, len, 36);
	f->lap_time_ms = rd_s32(b, len, 40);
	f->last_lap_ms = ksudp_lap_ms(rd_s32(b, len, 44));
	f->best_lap_ms = ksudp_lap_ms(rd_s32(b, len, 48));
	f->lap = (uint16_t)(rd_s32(b, len, 52) < 0 ? 0 : rd_s32(b, len, 52));
	f->throttle = clampf(ksudp_f32(b, len, 56), 0.0f, 1.0f);
	f->brake = clampf(ksudp_f32(b, len, 60), 0.0f, 1.0f);
	/* AC reports clutch engagement (1 = engaged: 0 standing in the box, 0.5-0.66
	 * slipping at launch, 1.00 driving in the Monza capture); the frame carries
	 * the pedal (1 = pressed), as every other game does. */
	f->clutch = 1.0f - clampf(ksudp_f32(b, len, 64), 0.0f, 1.0f);
	f->rpm = ksudp_f32(b, len, 68);
	steer_deg = ksudp_f32(b, len, 72);
	f->steer_deg = steer_deg;
	f->steer = clampf(steer_deg / KSUDP_STEER_LOCK_DEG, -1.0f, 1.0f);
	f->gear = ksudp_gear(rd_s32(b, len, 76));
	ksudp_wheels(f->wheel_speed_rads, b, len, 84, 1.0f);
	ksudp_wheels(f->slip_angle_rad, b, len, 100, (float)(M_PI / 180.0));
	ksudp_wheels(f->slip_ratio, b, len, 132, 1.0f);
	ksudp_wheels(f->tyre_load_n, b, len, 180, 1.0f);
	ksudp_wheels(f->susp_travel_m, b, len, 292, 1.0f);
	f->spline = ksudp_f32(b, len, 308);
#pragma GCC unroll 4
	for (int i = 0; i < 3; i++)
		f->pos_m[i] = ksudp_f32(b, len, 316 + 4 * (size_t)i);

	f->present = FRAME_P_SPEED | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_VERT | FRAME_P_ACCEL_LON |
		     FRAME_P_LAP_TIME | FRAME_P_LAST_LAP | FRAME_P_BEST_LAP | FRAME_P_LAP |
		     FRAME_P_THROTTLE | FRAME_P_BRAKE | FRAME_P_CLUTCH | FRAME_P_RPM |
		     FRAME_P_STEER | FRAME_P_STEER_DEG | FRAME_P_GEAR | FRAME_P_WHEEL_SPEED |
		     FRAME_P_SLIP_ANGLE | FRAME_P_SLIP_RATIO | FRAME_P_TYRE_LOAD |
		     FRAME_P_SUSP_TRAVEL | FRAME_P_SPLINE | FRAME_P_POS;
	return DEC_FRAME;
}

static int ksudp_rtlap(struct dec_state *st, const uint8_t *b, size_t len)
{
	struct ksudp_priv *p = ksudp_priv(st);
	int32_t car = rd_s32(b, len, 0), lap = rd_s32(b, len, 4), ms = rd_s32(b, len, 208);

	if (ksudp_carinfo_head(b, len))
		return DEC_ESIZE;
	if (car < 0 || car > 255 || lap < 0 || lap > 65535 || ms < 0)
		return DEC_EFORMAT;
	p->rtlap_car = car;
	p->rtlap_lap = lap;
	p->rtlap_ms = ms;
	return DEC_OK;
}

static int ksudp_handshake(const uint8_t *b, size_t len)
{
	int32_t op = rd_s32(b, len, KSUDP_HANDSHAKE_OP_OFF);

	if (ksudp_carinfo_head(b, len))
		return DEC_ESIZE;
	return op >= KSUDP_OP_HANDSHAKE && op <= KSUDP_OP_DISMISS ? DEC_OK : DEC_EFORMAT;
}

static int ksudp_decode(struct dec_state *st, const uint8_t *buf, size_t len, struct pw_frame *out)
{
	switch (len) {
	case KSUDP_CARINFO_SIZE: /* a constant len: the reads check at compile time */
		return ksudp_carinfo(st, buf, KSUDP_CARINFO_SIZE, out);
	case KSUDP_RESPONSE_SIZE:
		return ksudp_response(st, buf, len);
	case KSUDP_RTLAP_SIZE:
		return ksudp_rtlap(st, buf, len);
	case KSUDP_HANDSHAKE_SIZE:
		return ksudp_handshake(buf, len);
	default:
		return DEC_ESIZE;
	}
}

const struct decoder dec_ksudp = {
	.feed = "ksudp",
	.feed_id = PW_FEED_KSUDP,
	.title = "Assetto Corsa remote telemetry",
	.default_port = 9996,
	.mode = DEC_CLIENT,
	.max_rate_hz = 333,
	.raw_bytes_per_s = 333 * 360,
	.decode = ksudp_decode,
	.hello = ksudp_hello,
	.bye = ksudp_bye,
};
