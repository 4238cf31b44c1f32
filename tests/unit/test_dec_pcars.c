/*
 * test_dec_pcars.c - Project CARS v1 / v2 decoder and the pw-sim encoders.
 *
 * Real data: tests/data/pcars1/ (vthinsel/Python_UDP_Receiver udp.bin, CC0):
 * a raw concatenation of 1864 Project CARS 1 datagrams (build 1200), split
 * here by the type in byte 2 and the v1 sizes. It is a solo practice at Spa
 * (track length 6997.8 m) in an Audi R8 LMS Ultra (class GT3), driver
 * "vinceps-34", lap distance 1699..2923 m. No real v2 capture exists; v2 is
 * checked through the encoder and hand-built original-size packets.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/bytes.h"
#include "capture/decoder.h"
#include "capture/sim/encoder.h"
#include "tests/unit/t.h"

#define RAW_PATH "pcars1/vthinsel_pcars_v1_session2.raw"
#define NPKT 1864
#define NTEL 1860
#define TEL 1367
#define STR 1347
#define MORE 1028

static unsigned char *raw;
static size_t raw_len;
static const unsigned char *pkt[NPKT];
static size_t pkt_len[NPKT];
static int npkt;

/* Split the concatenation: byte 2 bits 0-1 give each datagram's type, the type its size. */
static int split(void)
{
	static const size_t sizes[4] = { TEL, STR, MORE, 0 };
	size_t o = 0;

	if (npkt)
		return npkt;
	raw = t_read_file(t_data_path(RAW_PATH), &raw_len);
	if (!raw)
		return -1;
	while (o + 3 <= raw_len && npkt < NPKT) {
		size_t n = sizes[raw[o + 2] & 3];
		if (n == 0 || n > raw_len - o)
			return -1;
		pkt[npkt] = raw + o;
		pkt_len[npkt++] = n;
		o += n;
	}
	return o == raw_len ? npkt : -1;
}

static struct dec_state st;
static struct pw_frame frames[NTEL];
static int nframes, nok;

static int decode_capture(void)
{
	static int done;

	if (done)
		return nframes;
	if (split() != NPKT)
		return -1;
	dec_reset(&st);
	for (int i = 0; i < npkt; i++) {
		struct pw_frame f;
		int r = dec_pcars.decode(&st, pkt[i], pkt_len[i], &f);
		if (r == DEC_FRAME && nframes < NTEL)
			frames[nframes++] = f;
		else if (r == DEC_OK)
			nok++;
	}
	done = 1;
	return nframes;
}

static const uint64_t v1_present =
	FRAME_P_THROTTLE | FRAME_P_BRAKE | FRAME_P_CLUTCH | FRAME_P_STEER | FRAME_P_SPEED |
	FRAME_P_RPM | FRAME_P_MAX_RPM | FRAME_P_GEAR | FRAME_P_NUM_GEARS | FRAME_P_PITCH |
	FRAME_P_YAW | FRAME_P_ROLL | FRAME_P_VEL | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_VERT |
	FRAME_P_ACCEL_LON | FRAME_P_WHEEL_SPEED | FRAME_P_TYRE_TEMP | FRAME_P_TYRE_WEAR |
	FRAME_P_BRAKE_TEMP | FRAME_P_SUSP_TRAVEL | FRAME_P_TYRE_PRESS | FRAME_P_TORQUE |
	FRAME_P_POWER | FRAME_P_FUEL_FRAC | FRAME_P_FUEL_L | FRAME_P_BEST_LAP | FRAME_P_LAST_LAP |
	FRAME_P_LAP_TIME | FRAME_P_SECTOR_TIMES | FRAME_P_POS | FRAME_P_LAP_DIST | FRAME_P_LAP |
	FRAME_P_POSITION | FRAME_P_SECTOR | FRAME_P_TRACK_LEN;

static const uint16_t all_flags = FRAME_FLAG_IN_PIT | FRAME_FLAG_LAP_INVALID | FRAME_FLAG_ABS |
				  FRAME_FLAG_LIMITER | FRAME_FLAG_PAUSED;

static double corr(const double *a, const double *b, size_t n)
{
	double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;

	for (size_t i = 0; i < n; i++) {
		ma += a[i];
		mb += b[i];
	}
	ma /= (double)n;
	mb /= (double)n;
	for (size_t i = 0; i < n; i++) {
		sab += (a[i] - ma) * (b[i] - mb);
		saa += (a[i] - ma) * (a[i] - ma);
		sbb += (b[i] - mb) * (b[i] - mb);
	}
	return sab / sqrt(saa * sbb);
}

/* Every present float channel of a frame is finite. */
static int frame_finite(const struct pw_frame *f)
{
	for (size_t o = offsetof(struct pw_frame, throttle); o < offsetof(struct pw_frame, gear);
	     o += 4) {
		float v;
		memcpy(&v, (const char *)f + o, 4);
		if (!isfinite(v))
			return 0;
	}
	for (size_t o = offsetof(struct pw_frame, lap_dist_m);
	     o < offsetof(struct pw_frame, reserved); o += 4) {
		float v;
		memcpy(&v, (const char *)f + o, 4);
		if (!isfinite(v))
			return 0;
	}
	return isfinite(f->game_time_s);
}

/* ---- the real v1 capture ---- */

static void test_v1_split(void)
{
	int tel = 0, str = 0, more = 0;

	T_CHECK(split() == NPKT);
	for (int i = 0; i < npkt; i++) {
		tel += pkt_len[i] == TEL;
		str += pkt_len[i] == STR;
		more += pkt_len[i] == MORE;
		T_CHECK(rd_u16(pkt[i], pkt_len[i], 0) == 1200);
	}
	T_CHECK(tel == NTEL && str == 4 && more == 0);
	T_CHECK(pkt_len[95] == STR && pkt_len[596] == STR && pkt_len[1097] == STR &&
		pkt_len[1598] == STR);
	for (int i = 1, prev = 0; i < npkt; i++) { /* 6-bit sequence of the telemetry */
		if (pkt_len[i] != TEL)
			continue;
		T_CHECK((pkt[i][2] >> 2) == (((pkt[prev][2] >> 2) + 1) & 63));
		prev = i;
	}
}

static void test_v1_meta(void)
{
	T_CHECK(decode_capture() == NTEL);
	T_CHECK(nok == 4);
	T_CHECK(strcmp(st.meta.game, "project_cars_1") == 0 && st.meta.format == 1);
	T_CHECK(strcmp(st.meta.car, "Audi R8 LMS Ultra") == 0);
	T_CHECK(strcmp(st.meta.car_class, "GT3") == 0);
	T_CHECK(strcmp(st.meta.track, "Circuit de Spa-Francorchamps") == 0);
	T_CHECK(st.meta.layout[0] == '\0');
	T_CHECK(strcmp(st.meta.driver, "vinceps-34") == 0);
	T_CHECK(strcmp(st.meta.session_type, "practice") == 0);
	T_NEAR(st.meta.track_len_m, 6997.816, 1e-3);
	T_CHECK(st.meta.game_session == 1);
}

static void test_v1_frames(void)
{
	float vmin = 1e9f, vmax = 0, fmin = 1e9f, fmax = 0, dmin = 1e9f, dmax = 0;
	int gears[16] = { 0 }, abs_n = 0, bad = 0;
	double radius[4] = { 0 };

	T_CHECK(decode_capture() == NTEL);
	for (int i = 0; i < nframes; i++) {
		const struct pw_frame *f = &frames[i];
		bad += f->version != FRAME_VERSION || f->game != PW_GAME_PCARS1;
		bad += f->feed != PW_FEED_PCARS;
		bad += f->present != v1_present || f->flags_known != all_flags;
		bad += f->game_session != 1 || !frame_finite(f);
		vmin = fminf(vmin, f->speed_kmh);
		vmax = fmaxf(vmax, f->speed_kmh);
		fmin = fminf(fmin, f->fuel_l);
		fmax = fmaxf(fmax, f->fuel_l);
		dmin = fminf(dmin, f->lap_dist_m);
		dmax = fmaxf(dmax, f->lap_dist_m);
		if (f->gear >= 0 && f->gear < 16)
			gears[f->gear]++;
		abs_n += !!(f->flags & FRAME_FLAG_ABS);
		/* practice out lap: no times yet, lap flagged invalid, alone, in sector 2 */
		bad += f->best_lap_ms != -1 || f->last_lap_ms != -1 || f->lap_time_ms != -1;
		bad += f->sector_ms[0] != -1 || f->sector_ms[1] != -1 || f->sector_ms[2] != -1;
		bad += !(f->flags & FRAME_FLAG_LAP_INVALID) || (f->flags & FRAME_FLAG_PAUSED);
		bad += (f->flags & (FRAME_FLAG_IN_PIT | FRAME_FLAG_LIMITER)) != 0;
		bad += f->lap != 0 || f->position != 1 || f->sector != 1;
		bad += f->num_gears != 6 || f->max_rpm != 8550 || f->rpm < 1569 || f->rpm > 7635;
		bad += fabsf(f->track_len_m - 6997.816f) > 1e-3f;
		bad += f->fuel_frac < 0.49f || f->fuel_frac > 0.5f ||
		       fabsf(f->fuel_l - f->fuel_frac * 120.0f) > 1e-3f;
		for (int w = 0; w < 4; w++) {
			bad += f->tyre_wear[w] != 1.0f; /* fresh tyres: wear byte 0 */
			bad += f->tyre_temp_c[w] < 54 || f->tyre_temp_c[w] > 67;
			bad += f->brake_temp_c[w] < 81 || f->brake_temp_c[w] > 239;
			bad += f->tyre_press_kpa[w] < 198 || f->tyre_press_kpa[w] > 201;
			bad += f->susp_travel_m[w] <= 0 || f->susp_travel_m[w] > 0.1f;
			radius[w] += f->speed_kmh / 3.6 / f->wheel_speed_rads[w];
		}
		bad += f->pos_m[1] < -110 || f->pos_m[1] > -43;
		bad += f->steer < -1 || f->steer > 1;
	}
	T_CHECKF(bad == 0, "%d", bad);
	T_NEAR(vmin, 46.135, 0.01); /* README: speed 46..224 km/h */
	T_NEAR(vmax, 223.775, 0.01);
	T_NEAR(fmin, 59.240, 0.01);
	T_NEAR(fmax, 59.877, 0.01);
	T_CHECK(dmin == 1699 && dmax == 2923);
	T_CHECK(gears[0] == 17 && gears[1] == 2 && gears[2] == 2 && gears[3] == 885 &&
		gears[4] == 384 && gears[5] == 508 && gears[6] == 62);
	T_CHECK(abs_n == 142);
	/* rolling forward gives positive rad/s; speed / wheel speed = tyre radius */
	for (int w = 0; w < 4; w++)
		T_CHECKF(radius[w] / nframes > 0.31 && radius[w] / nframes < 0.37, "%f",
			 radius[w] / nframes);
	/* telemetry packet 500: 4423 rpm, engine 466.0 rad/s, 499.6 N*m, sSteering 7 */
	T_CHECK(frames[500].rpm == 4423);
	T_NEAR(frames[500].steer, 7 / 127.0, 1e-6);
	T_NEAR(frames[500].torque_nm, 499.5689697265625, 1e-4);
	T_NEAR(frames[500].power_w, 499.5689697265625 * 466.0006408691406, 0.1);
}

/* Quarter-metre fractions: the path with them follows the lap distance, the
 * integer-only and the swapped-bits paths are longer. */
static void test_v1_position_fractions(void)
{
	double with = 0, ints = 0, lapdist;
	int quarter = 0, bad = 0;

	T_CHECK(decode_capture() == NTEL);
	for (int i = 1; i < nframes; i++) {
		const float *a = frames[i - 1].pos_m, *b = frames[i].pos_m;
		with += hypot(b[0] - a[0], b[2] - a[2]);
		ints += hypot(floorf(b[0]) - floorf(a[0]), floorf(b[2]) - floorf(a[2]));
	}
	for (int i = 0; i < nframes; i++) {
		float fx = frames[i].pos_m[0] - floorf(frames[i].pos_m[0]);
		quarter += fx != 0;
		bad += fmodf(fx * 4, 1) != 0 || frames[i].pos_m[1] != floorf(frames[i].pos_m[1]);
	}
	lapdist = frames[nframes - 1].lap_dist_m - frames[0].lap_dist_m;
	T_CHECK(bad == 0 && quarter > 1000);
	T_NEAR(with, 1238.81, 0.05);
	T_NEAR(ints, 1399.34, 0.05);
	T_CHECKF(fabs(with - lapdist) < 0.02 * lapdist, "%f vs %f", with, lapdist);
}

/*
 * Axes, re-derived: the car's forward vector is (-sin yaw, -cos yaw); the
 * ~180 deg hairpin at 2.14-2.33 km (Spa's hairpins are both right-handers)
 * turns the path by about -187 deg in atan2(dz, dx), so decreasing atan2 =
 * turning right, and right turns must show steer > 0 and accel_lat_g > 0.
 */
static void test_v1_axes(void)
{
	static double lat_path[NTEL], lat[NTEL], steer[NTEL], dv[NTEL], lon[NTEL];
	double cos_sum = 0, turn = 0, hairpin_steer = 0, hairpin_lat = 0;
	double sx = 0, sz = 0, shd = 0;
	int ncos = 0, n = 0, m = 0, nh = 0, nseg = 0;
	const int K = 6;

	T_CHECK(decode_capture() == NTEL);
	for (int i = K; i + K < nframes; i++) {
		const struct pw_frame *a = &frames[i - K], *b = &frames[i], *c = &frames[i + K];
		double dx = c->pos_m[0] - a->pos_m[0], dz = c->pos_m[2] - a->pos_m[2];
		double ds = hypot(dx, dz), v = b->speed_kmh / 3.6, dyaw;
		if (ds < 5)
			continue;
		cos_sum += (-sin(b->yaw_rad) * dx - cos(b->yaw_rad) * dz) / ds;
		ncos++;
		dyaw = remainder((double)c->yaw_rad - a->yaw_rad, 2 * M_PI);
		lat_path[n] = dyaw / ds * v * v / 9.80665; /* + = yaw increasing = right */
		lat[n] = b->accel_lat_g;
		steer[n] = b->steer;
		n++;
	}
	T_CHECKF(cos_sum / ncos > 0.99, "%f", cos_sum / ncos);
	T_CHECKF(corr(lat_path, lat, (size_t)n) > 0.9, "lat %f", corr(lat_path, lat, (size_t)n));
	T_CHECKF(corr(lat_path, steer, (size_t)n) > 0.8, "steer %f",
		 corr(lat_path, steer, (size_t)n));

	for (int i = 0; i < nframes; i++) { /* heading over >= 4 m steps */
		const struct pw_frame *b = &frames[i];
		double hd;
		if (b->lap_dist_m < 2140 || b->lap_dist_m > 2330)
			continue;
		hairpin_steer += b->steer;
		hairpin_lat += b->accel_lat_g;
		nh++;
		if (nseg && hypot(b->pos_m[0] - sx, b->pos_m[2] - sz) < 4)
			continue;
		if (nseg) {
			hd = atan2(b->pos_m[2] - sz, b->pos_m[0] - sx);
			if (nseg > 1)
				turn += remainder(hd - shd, 2 * M_PI);
			shd = hd;
		}
		sx = b->pos_m[0];
		sz = b->pos_m[2];
		nseg++;
	}
	T_CHECKF(turn * 180 / M_PI < -150, "%f deg", turn * 180 / M_PI);
	T_CHECK(hairpin_steer / nh > 0.2 && hairpin_lat / nh > 0.5);

	for (int i = 1; i + 1 < nframes; i++) { /* packets are evenly spaced */
		dv[m] = frames[i + 1].speed_kmh - frames[i - 1].speed_kmh;
		lon[m] = frames[i].accel_lon_g;
		m++;
	}
	T_CHECKF(corr(dv, lon, (size_t)m) > 0.9, "lon %f", corr(dv, lon, (size_t)m));
}

static void test_v1_truncations(void)
{
	static struct dec_state s;
	struct pw_frame f;
	int bad = 0;

	T_CHECK(split() == NPKT);
	dec_reset(&s);
	for (int k = 0; k < 4; k++) {
		const unsigned char *p = pkt[k == 3 ? 95 : 400 * k];
		size_t len = k == 3 ? STR : TEL;
		for (size_t n = 0; n < len; n++) {
			int r = dec_pcars.decode(&s, p, n, &f);
			bad += r != DEC_ESIZE && r != DEC_EFORMAT;
		}
	}
	T_CHECKF(bad == 0, "%d", bad);
	T_CHECK(s.meta.game[0] == '\0' && s.meta_gen == 0);
}

static void test_v1_wrong_kinds_and_garbage(void)
{
	static struct dec_state s;
	static uint8_t buf[2048];
	uint64_t x = 0x243f6a8885a308d3ull;
	struct pw_frame f;
	int bad = 0;

	T_CHECK(split() == NPKT);
	dec_reset(&s);
	memcpy(buf, pkt[0], TEL);
	buf[2] = (uint8_t)((buf[2] & ~3) | 3);
	T_CHECK(dec_pcars.decode(&s, buf, TEL, &f) == DEC_EFORMAT); /* type 3 */
	buf[2] = (uint8_t)((buf[2] & ~3) | 1);
	T_CHECK(dec_pcars.decode(&s, buf, TEL, &f) == DEC_ESIZE); /* strings, telemetry size */
	buf[2] = (uint8_t)(buf[2] & ~3);
	T_CHECK(dec_pcars.decode(&s, buf, STR, &f) == DEC_ESIZE); /* telemetry, strings size */

	for (int round = 0; round < 3000; round++) {
		size_t n = (size_t)(round * 7 % 1600);
		int r;
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)x;
		}
		if (n >= 11 && round % 2)
			buf[10] = (uint8_t)(round % 12); /* reach every v2 type */
		r = dec_pcars.decode(&s, buf, n, &f);
		if (r == DEC_FRAME)
			bad += !frame_finite(&f) || f.version != FRAME_VERSION;
		if (n != TEL && n != STR && n != MORE && n < 12)
			bad += r != DEC_ESIZE;
	}
	T_CHECKF(bad == 0, "%d", bad);
	T_CHECK(strlen(s.meta.car) < META_STR && strlen(s.meta.driver) < META_STR);

	/* NaN / Inf floats from the game never reach a frame */
	memcpy(buf, pkt[0], TEL);
	for (size_t o = 12; o < 464; o += 4)
		wr_u32(buf, TEL, o, (o / 4) & 1 ? 0x7fc00000u : 0xff800000u);
	wr_u32(buf, TEL, 1360, 0x7fc00000u);
	T_CHECK(dec_pcars.decode(&s, buf, TEL, &f) == DEC_FRAME);
	T_CHECK(frame_finite(&f) && f.track_len_m == 0 && f.best_lap_ms == -1);
}

/* The capture's strings with a stale tail: "Dubai Autodrome" written over the
 * Spa name leaves "rancorchamps" behind the NUL (as the game does), and is a
 * new track = session. */
static void test_v1_strings_and_sessions(void)
{
	static struct dec_state s;
	static uint8_t buf[TEL];
	struct pw_frame f;

	T_CHECK(split() == NPKT);
	dec_reset(&s);
	T_CHECK(dec_pcars.decode(&s, pkt[95], STR, &f) == DEC_OK);
	T_CHECK(dec_pcars.decode(&s, pkt[96], TEL, &f) == DEC_FRAME && f.game_session == 1);
	memcpy(buf, pkt[95], STR);
	memcpy(buf + 131, "Dubai Autodrome", 16);
	T_CHECK(memcmp(buf + 147, "rancorchamps", 12) == 0);
	memcpy(buf + 195, "International\0", 14);
	memcpy(buf + 259, "Other Driver\0", 13);
	T_CHECK(dec_pcars.decode(&s, buf, STR, &f) == DEC_OK);
	T_CHECK(strcmp(s.meta.track, "Dubai Autodrome") == 0);
	T_CHECK(strcmp(s.meta.layout, "International") == 0);
	T_CHECK(strcmp(s.meta.driver, "Other Driver") == 0);
	T_CHECK(s.meta.game_session == 2);
	T_CHECK(dec_pcars.decode(&s, pkt[97], TEL, &f) == DEC_FRAME && f.game_session == 2);

	/* practice -> race (byte 3 >> 4 = 5), then paused (game state 3) */
	memcpy(buf, pkt[98], TEL);
	buf[3] = 0x52;
	T_CHECK(dec_pcars.decode(&s, buf, TEL, &f) == DEC_FRAME && f.game_session == 3);
	T_CHECK(strcmp(s.meta.session_type, "race") == 0 && !(f.flags & FRAME_FLAG_PAUSED));
	buf[3] = 0x53;
	T_CHECK(dec_pcars.decode(&s, buf, TEL, &f) == DEC_FRAME && f.game_session == 3);
	T_CHECK(f.flags & FRAME_FLAG_PAUSED);

	/* viewed participant 20: name from the additional strings, block 16..31 */
	buf[4] = 20;
	buf[3] = 0x52;
	T_CHECK(dec_pcars.decode(&s, buf, TEL, &f) == DEC_FRAME);
	T_CHECK(!(f.present & FRAME_P_POS)); /* participant 20 is not active */
	memset(buf, 0, MORE);
	wr_u16(buf, MORE, 0, 1200);
	buf[2] = 2;
	buf[3] = 16;
	memcpy(buf + 4 + 64 * 4, "Driver Twenty", 13);
	T_CHECK(dec_pcars.decode(&s, buf, MORE, &f) == DEC_OK);
	T_CHECK(strcmp(s.meta.driver, "Driver Twenty") == 0);
}

/* ---- encoders and round trips ---- */

#define MAXP 16
static uint8_t out_buf[MAXP][1600];
static size_t out_len[MAXP];
static int out_n;

static void collect(void *ctx, const uint8_t *buf, size_t len)
{
	(void)ctx;
	if (out_n < MAXP && len <= sizeof out_buf[0]) {
		memcpy(out_buf[out_n], buf, len);
		out_len[out_n] = len;
	}
	out_n++;
}

static void full_frame(struct pw_frame *f)
{
	frame_init(f, PW_GAME_PCARS2, PW_FEED_PCARS);
	f->throttle = 0.8f;
	f->brake = 0.2f;
	f->clutch = 0.4f;
	f->handbrake = 0.6f;
	f->steer = -0.5f;
	f->gear = 5;
	f->num_gears = 7;
	f->speed_kmh = 201.5f;
	f->rpm = 7123;
	f->max_rpm = 8550;
	f->torque_nm = 456.5f;
	f->power_w = 456.5f * 700.0f;
	f->vel_ms[0] = 1.25f;
	f->vel_ms[1] = -0.5f;
	f->vel_ms[2] = 55.75f;
	f->accel_lat_g = 1.75f;
	f->accel_lon_g = -1.25f;
	f->accel_vert_g = 0.125f;
	f->pos_m[0] = -1234.25f;
	f->pos_m[1] = 56.0f;
	f->pos_m[2] = 987.75f;
	f->pitch_rad = 0.05f;
	f->yaw_rad = -2.5f;
	f->roll_rad = 0.01f;
	f->lap = 4;
	f->lap_time_ms = 61234;
	f->last_lap_ms = 138456;
	f->best_lap_ms = 137002;
	f->sector_ms[0] = 41234;
	f->sector_ms[1] = 52345;
	f->sector_ms[2] = -1;
	f->lap_dist_m = 2345;
	f->track_len_m = 6997.75f;
	f->sector = 1;
	f->position = 3;
	f->fuel_l = 60.0f;
	f->fuel_frac = 0.5f;
	for (int w = 0; w < 4; w++) {
		f->tyre_temp_c[w] = 80.0f + (float)w;
		f->tyre_press_kpa[w] = 180.0f + (float)w;
		f->brake_temp_c[w] = 400.0f + 10.0f * (float)w;
		f->wheel_speed_rads[w] = 160.5f + (float)w;
		f->susp_travel_m[w] = 0.04f + 0.001f * (float)w;
		f->tyre_wear[w] = 1.0f - (float)(10 * w) / 255.0f;
	}
	f->flags = FRAME_FLAG_LAP_INVALID | FRAME_FLAG_ABS;
	f->flags_known = all_flags;
	f->present = v1_present | FRAME_P_HANDBRAKE;
}

static void full_meta(struct pw_meta *m)
{
	memset(m, 0, sizeof *m);
	T_STRSET(m->car, "Ginetta G55 GT4");
	T_STRSET(m->car_class, "GT4");
	T_STRSET(m->track, "Brands Hatch");
	T_STRSET(m->layout, "Indy");
	T_STRSET(m->driver, "Test Driver");
	T_STRSET(m->session_type, "qualifying");
}

/* Every channel both formats carry, within the wire's quantization. */
static void check_common(const struct pw_frame *in, const struct pw_frame *o)
{
	T_NEAR(o->throttle, in->throttle, 0.5 / 255);
	T_NEAR(o->brake, in->brake, 0.5 / 255);
	T_NEAR(o->clutch, in->clutch, 0.5 / 255);
	T_NEAR(o->steer, in->steer, 0.5 / 127);
	T_CHECK(o->gear == in->gear && o->num_gears == in->num_gears);
	T_NEAR(o->speed_kmh, in->speed_kmh, 1e-3);
	T_CHECK(o->rpm == in->rpm && o->max_rpm == in->max_rpm);
	T_CHECK(o->torque_nm == in->torque_nm);
	T_NEAR(o->power_w, in->power_w, 1.0);
	for (int i = 0; i < 3; i++) {
		T_NEAR(o->vel_ms[i], in->vel_ms[i], 1e-5);
		T_NEAR(o->pos_m[i], in->pos_m[i], 1e-3);
	}
	T_NEAR(o->accel_lat_g, in->accel_lat_g, 1e-6);
	T_NEAR(o->accel_lon_g, in->accel_lon_g, 1e-6);
	T_NEAR(o->accel_vert_g, in->accel_vert_g, 1e-6);
	T_CHECK(o->pitch_rad == in->pitch_rad && o->yaw_rad == in->yaw_rad &&
		o->roll_rad == in->roll_rad);
	T_CHECK(o->lap == in->lap && o->lap_time_ms == in->lap_time_ms);
	T_CHECK(o->last_lap_ms == in->last_lap_ms && o->best_lap_ms == in->best_lap_ms);
	T_CHECK(o->lap_dist_m == in->lap_dist_m && o->sector == in->sector &&
		o->position == in->position);
	T_NEAR(o->fuel_frac, in->fuel_frac, 1e-7);
	T_NEAR(o->fuel_l, in->fuel_l, 1e-4);
	for (int w = 0; w < 4; w++) {
		T_CHECK(o->tyre_temp_c[w] == in->tyre_temp_c[w]);
		T_CHECK(o->tyre_press_kpa[w] == in->tyre_press_kpa[w]);
		T_CHECK(o->brake_temp_c[w] == in->brake_temp_c[w]);
		T_CHECK(o->wheel_speed_rads[w] == in->wheel_speed_rads[w]);
		T_CHECK(o->susp_travel_m[w] == in->susp_travel_m[w]);
		T_NEAR(o->tyre_wear[w], in->tyre_wear[w], 1e-6);
	}
	T_CHECK(o->flags == in->flags && o->flags_known == in->flags_known);
}

static void check_meta(const struct dec_state *s, const struct pw_meta *m, const char *game,
		       unsigned format)
{
	T_CHECK(strcmp(s->meta.game, game) == 0 && s->meta.format == format);
	T_CHECK(strcmp(s->meta.car, m->car) == 0);
	T_CHECK(strcmp(s->meta.track, m->track) == 0 && strcmp(s->meta.layout, m->layout) == 0);
	T_CHECK(strcmp(s->meta.driver, m->driver) == 0);
	T_CHECK(strcmp(s->meta.session_type, m->session_type) == 0);
}

static void test_v1_round_trip(void)
{
	static struct dec_state s;
	struct enc_state es = { 0 };
	struct pw_frame in, o;
	struct pw_meta m;
	int frames_n = 0;

	full_frame(&in);
	in.present &= ~FRAME_P_HANDBRAKE; /* not in v1 */
	in.handbrake = 0;
	full_meta(&m);
	dec_reset(&s);
	T_CHECK(strcmp(enc_pcars_v1.feed, "pcars") == 0 && strcmp(enc_pcars_v1.format, "v1") == 0);
	for (int tick = 0; tick < 61; tick++) {
		out_n = 0;
		enc_pcars_v1.encode(&es, &in, &m, collect, NULL);
		T_CHECK(out_n == (tick % 60 == 0 ? 2 : 1));
		T_CHECK(out_len[out_n - 1] == TEL);
		if (tick % 60 == 0)
			T_CHECK(out_len[0] == STR && (out_buf[0][2] & 3) == 1);
		for (int i = 0; i < out_n && i < MAXP; i++)
			if (dec_pcars.decode(&s, out_buf[i], out_len[i], &o) == DEC_FRAME)
				frames_n++;
	}
	T_CHECK(frames_n == 61 && es.tick == 61);
	T_CHECK(o.game == PW_GAME_PCARS1 && o.game_session == 1);
	T_CHECK(o.present == v1_present);
	check_common(&in, &o);
	T_CHECK(memcmp(o.sector_ms, in.sector_ms, sizeof in.sector_ms) == 0);
	T_CHECK(o.track_len_m == in.track_len_m);
	check_meta(&s, &m, "project_cars_1", 1);
	T_CHECK(strcmp(s.meta.car_class, "GT4") == 0);

	/* reverse, pit, limiter, paused, no times */
	in.gear = -1;
	in.flags = FRAME_FLAG_IN_PIT | FRAME_FLAG_LIMITER | FRAME_FLAG_PAUSED;
	in.last_lap_ms = in.best_lap_ms = -1;
	in.lap_time_ms = 0;
	out_n = 0;
	enc_pcars_v1.encode(&es, &in, &m, collect, NULL);
	T_CHECK(dec_pcars.decode(&s, out_buf[0], out_len[0], &o) == DEC_FRAME);
	T_CHECK(o.gear == -1 && o.flags == in.flags);
	T_CHECK(o.last_lap_ms == -1 && o.best_lap_ms == -1 && o.lap_time_ms == 0);
	T_CHECK(o.game_session == 1);
}

static int v2_feed(struct dec_state *s, struct pw_frame *o, int *nframes_out)
{
	int n = 0, bad = 0;

	for (int i = 0; i < out_n && i < MAXP; i++) {
		int r = dec_pcars.decode(s, out_buf[i], out_len[i], o);
		if (r == DEC_FRAME)
			n++;
		bad += r < 0;
		bad += (r == DEC_FRAME) != (i == out_n - 1); /* the frame comes last */
	}
	*nframes_out = n;
	return bad;
}

static void test_v2_round_trip(void)
{
	static struct dec_state s;
	struct enc_state es = { 0 };
	struct pw_frame in, o;
	struct pw_meta m;
	int n, types[16] = { 0 };

	full_frame(&in);
	in.present &= ~FRAME_P_SECTOR_TIMES; /* not in v2 */
	memset(in.sector_ms, 0, sizeof in.sector_ms);
	full_meta(&m);
	dec_reset(&s);
	T_CHECK(strcmp(enc_pcars_v2.feed, "pcars") == 0 && strcmp(enc_pcars_v2.format, "v2") == 0);

	out_n = 0;
	enc_pcars_v2.encode(&es, &in, &m, collect, NULL);
	T_CHECK(out_n == 8);
	for (int i = 0; i < out_n; i++)
		types[out_buf[i][10] & 15]++;
	T_CHECK(types[0] == 1 && types[1] == 1 && types[2] == 1 && types[3] == 1 && types[4] == 1 &&
		types[7] == 1 && types[8] == 2);
	/* timings, then telemetry, close the tick */
	T_CHECK(out_buf[out_n - 2][10] == 3 && out_buf[out_n - 1][10] == 0);
	T_CHECK(out_len[out_n - 1] == 559 && out_len[out_n - 2] == 1063);
	T_CHECK(v2_feed(&s, &o, &n) == 0 && n == 1);
	T_CHECK(o.game == PW_GAME_PCARS2 && o.feed == PW_FEED_PCARS && o.game_session == 1);
	T_CHECKF(o.present == in.present, "%llx vs %llx", (unsigned long long)o.present,
		 (unsigned long long)in.present);
	check_common(&in, &o);
	T_NEAR(o.handbrake, in.handbrake, 0.5 / 255);
	T_CHECK(o.track_len_m == in.track_len_m);
	check_meta(&s, &m, "project_cars_2", 2);
	T_CHECK(strcmp(s.meta.car_class, "GT4") == 0);
	T_NEAR(s.meta.track_len_m, 6997.75, 1e-3);

	/* next tick: only timings + telemetry; a lap completes: time stats too */
	out_n = 0;
	enc_pcars_v2.encode(&es, &in, &m, collect, NULL);
	T_CHECK(out_n == 2 && v2_feed(&s, &o, &n) == 0 && n == 1);
	in.lap = 5;
	in.last_lap_ms = 136999;
	in.best_lap_ms = 136999;
	in.lap_time_ms = 12;
	out_n = 0;
	enc_pcars_v2.encode(&es, &in, &m, collect, NULL);
	T_CHECK(out_n == 3 && out_buf[0][10] == 7);
	T_CHECK(v2_feed(&s, &o, &n) == 0 && n == 1);
	T_CHECK(o.lap == 5 && o.last_lap_ms == 136999 && o.best_lap_ms == 136999);
	T_CHECK(o.lap_time_ms == 12);

	/* paused: a game-state packet; pit and reverse */
	in.flags = FRAME_FLAG_PAUSED | FRAME_FLAG_IN_PIT | FRAME_FLAG_LIMITER;
	in.gear = -1;
	out_n = 0;
	enc_pcars_v2.encode(&es, &in, &m, collect, NULL);
	T_CHECK(out_n == 3 && out_buf[0][10] == 4);
	T_CHECK(v2_feed(&s, &o, &n) == 0 && n == 1);
	T_CHECK(o.flags == in.flags && o.gear == -1 && o.game_session == 1);

	/* a new session type and a new track: new game sessions */
	T_STRSET(m.session_type, "race");
	out_n = 0;
	enc_pcars_v2.encode(&es, &in, &m, collect, NULL);
	T_CHECK(v2_feed(&s, &o, &n) == 0 && n == 1 && o.game_session == 2);
	T_CHECK(strcmp(s.meta.session_type, "race") == 0);
	T_STRSET(m.track, "Silverstone");
	T_STRSET(m.layout, "GP");
	out_n = 0;
	enc_pcars_v2.encode(&es, &in, &m, collect, NULL);
	T_CHECK(out_buf[0][10] == 1);
	T_CHECK(v2_feed(&s, &o, &n) == 0 && n == 1 && o.game_session == 3);
	T_CHECK(strcmp(s.meta.track, "Silverstone") == 0);
	/* the new session has not seen time stats yet: last/best absent */
	T_CHECK(!(o.present & (FRAME_P_LAST_LAP | FRAME_P_BEST_LAP)) && o.last_lap_ms == 0);
	T_CHECK(o.present & FRAME_P_TRACK_LEN);
}

/* The tread's zones: sTyreTempLeft/Center/Right (256/264/272, u16 per wheel,
 * the tyre's left/right from the driver's seat) -> inner/middle/outer. */
static void test_v2_tread(void)
{
	static struct dec_state s;
	struct enc_state es = { 0 };
	struct pw_frame in, o;
	struct pw_meta m;
	const uint64_t tread =
		FRAME_P_TYRE_TEMP_INNER | FRAME_P_TYRE_TEMP_MIDDLE | FRAME_P_TYRE_TEMP_OUTER;
	uint8_t *t;
	int n;

	full_frame(&in);
	in.present = (in.present & ~FRAME_P_SECTOR_TIMES) | tread;
	for (int w = 0; w < 4; w++) {
		in.tyre_temp_inner_c[w] = (uint8_t)(100 + w);
		in.tyre_temp_middle_c[w] = (uint8_t)(90 + w);
		in.tyre_temp_outer_c[w] = (uint8_t)(80 + w);
	}
	full_meta(&m);
	dec_reset(&s);
	out_n = 0;
	enc_pcars_v2.encode(&es, &in, &m, collect, NULL);
	t = out_buf[out_n - 1];
	T_CHECK(t[10] == 0);
	/* the left wheels' inner edge is their right one, the right wheels' their left */
	T_EQ(rd_u16(t, 559, 256 + 0), 80);  /* FL left = outer */
	T_EQ(rd_u16(t, 559, 272 + 0), 100); /* FL right = inner */
	T_EQ(rd_u16(t, 559, 256 + 2), 101); /* FR left = inner */
	T_EQ(rd_u16(t, 559, 272 + 2), 81);  /* FR right = outer */
	T_EQ(rd_u16(t, 559, 264 + 6), 93);  /* RR centre */
	T_CHECK(v2_feed(&s, &o, &n) == 0 && n == 1);
	T_EQ(o.present & tread, tread);
	T_CHECK(memcmp(o.tyre_temp_inner_c, in.tyre_temp_inner_c, 4) == 0);
	T_CHECK(memcmp(o.tyre_temp_middle_c, in.tyre_temp_middle_c, 4) == 0);
	T_CHECK(memcmp(o.tyre_temp_outer_c, in.tyre_temp_outer_c, 4) == 0);
	/* Kelvin (233 and up): 363 K = 90 degC; one wheel unset: 0, its "none" */
	wr_u16(t, 559, 264 + 0, 363);
	wr_u16(t, 559, 256 + 4, 0);
	T_EQ(dec_pcars.decode(&s, t, 559, &o), DEC_FRAME);
	T_EQ(o.tyre_temp_middle_c[0], 90);
	T_EQ(o.tyre_temp_outer_c[2], 0);
	T_EQ(o.tyre_temp_inner_c[2], 102);
	/* all unset: absent */
	memset(t + 256, 0, 24);
	T_EQ(dec_pcars.decode(&s, t, 559, &o), DEC_FRAME);
	T_EQ(o.present & tread, 0);
	/* v1 has no such fields: never present */
	T_EQ(v1_present & tread, 0);
}

/* Original PC2 sizes: telemetry 538 (no full position), timings 993 with
 * 30-byte records, time stats 784 with 24-byte records, participants 1040. */
static void test_v2_original_sizes(void)
{
	static struct dec_state s;
	static uint8_t b[1600];
	struct enc_state es = { 0 };
	struct pw_frame in, o;
	struct pw_meta m;
	int n = 0;

	full_frame(&in);
	in.pos_m[0] = -1234.75f; /* quarter metres survive the s16 + fraction encoding */
	in.pos_m[1] = 56.0f;
	full_meta(&m);
	out_n = 0;
	enc_pcars_v2.encode(&es, &in, &m, collect, NULL);
	dec_reset(&s);
	for (int i = 0; i < out_n; i++) {
		const uint8_t *p = out_buf[i];
		size_t len = out_len[i];
		int r;
		switch (p[10]) {
		case 0:
			len = 538;
			break;
		case 2:
			len = 1040;
			break;
		case 3: /* repack 32-byte records to 30 */
			memcpy(b, p, 33);
			for (int k = 0; k < 32; k++)
				memcpy(b + 33 + 30 * k, p + 33 + 32 * k, 30);
			p = b;
			len = 993;
			break;
		case 7:
			memcpy(b, p, 16);
			for (int k = 0; k < 32; k++)
				memcpy(b + 16 + 24 * k, p + 16 + 32 * k, 24);
			p = b;
			len = 784;
			break;
		}
		r = dec_pcars.decode(&s, p, len, &o);
		T_CHECK(r == (i == out_n - 1 ? DEC_FRAME : DEC_OK));
		n += r == DEC_FRAME;
	}
	T_CHECK(n == 1);
	T_CHECK(o.pos_m[0] == -1234.75f && o.pos_m[1] == 56.0f && o.pos_m[2] == 987.75f);
	T_CHECK(o.lap == in.lap && o.lap_time_ms == in.lap_time_ms && o.position == 3);
	T_CHECK(o.last_lap_ms == in.last_lap_ms && o.best_lap_ms == in.best_lap_ms);
	T_CHECK(strcmp(s.meta.driver, "Test Driver") == 0);
}

static void test_v2_discrimination(void)
{
	static struct dec_state s;
	static uint8_t b[1600];
	struct pw_frame o;

	dec_reset(&s);
	memset(b, 0, sizeof b);
	b[8] = 1;
	/* 1040: participants (type 2) or time stats (type 7), by byte 10 */
	b[10] = 2;
	memcpy(b + 16, "Name At Slot 0", 15);
	T_CHECK(dec_pcars.decode(&s, b, 1040, &o) == DEC_OK);
	T_CHECK(strcmp(s.meta.driver, "Name At Slot 0") == 0);
	T_CHECK(strcmp(s.meta.game, "project_cars_2") == 0 && s.meta.game_session == 1);
	memset(b + 12, 0, 1100);
	b[10] = 7;
	wr_f32(b, 1040, 16, 90.5f);  /* fastest */
	wr_f32(b, 1040, 20, 91.25f); /* last */
	T_CHECK(dec_pcars.decode(&s, b, 1040, &o) == DEC_OK);
	T_CHECK(strcmp(s.meta.driver, "Name At Slot 0") == 0);
	memset(b + 12, 0, 1100);
	b[10] = 0;
	T_CHECK(dec_pcars.decode(&s, b, 559, &o) == DEC_FRAME);
	T_CHECK(o.best_lap_ms == 90500 && o.last_lap_ms == 91250);
	T_CHECK(!(o.present & FRAME_P_LAP)); /* no timings seen */
	T_CHECK(o.gear == 0 && o.tyre_wear[0] == 1.0f && o.steer == 0);
	/* lengths that belong to other types, unknown types, short packets */
	b[10] = 3;
	T_CHECK(dec_pcars.decode(&s, b, 1040, &o) == DEC_ESIZE);
	b[10] = 0;
	T_CHECK(dec_pcars.decode(&s, b, 1063, &o) == DEC_ESIZE);
	for (int t = 5; t < 256; t++) {
		if (t == 7 || t == 8)
			continue;
		b[10] = (uint8_t)t;
		T_CHECK(dec_pcars.decode(&s, b, 1040, &o) == DEC_EFORMAT);
	}
	for (size_t n = 0; n < 12; n++)
		T_CHECK(dec_pcars.decode(&s, b, n, &o) == DEC_ESIZE);
	T_CHECK(s.meta.game_session == 1);

	/* switching formats is a new session */
	T_CHECK(split() == NPKT);
	T_CHECK(dec_pcars.decode(&s, pkt[0], TEL, &o) == DEC_FRAME);
	T_CHECK(o.game == PW_GAME_PCARS1 && o.game_session == 2 && s.meta.format == 1);
	T_CHECK(strcmp(s.meta.game, "project_cars_1") == 0);
	b[10] = 0;
	T_CHECK(dec_pcars.decode(&s, b, 538, &o) == DEC_FRAME);
	T_CHECK(o.game == PW_GAME_PCARS2 && o.game_session == 3 && s.meta.format == 2);
}

/* Every cut of every v2 kind is an error, except where the cut is itself a
 * valid length: the original PC2 sizes of the same type, and the v1 sizes. */
static void test_v2_truncations(void)
{
	static struct dec_state s;
	struct enc_state es = { 0 };
	struct pw_frame in, o;
	struct pw_meta m;
	int bad = 0, alt = 0;

	full_frame(&in);
	full_meta(&m);
	out_n = 0;
	enc_pcars_v2.encode(&es, &in, &m, collect, NULL);
	T_CHECK(out_n == 8);
	dec_reset(&s);
	for (int i = 0; i < out_n; i++) {
		for (size_t n = 0; n < out_len[i]; n++) {
			int r = dec_pcars.decode(&s, out_buf[i], n, &o);
			unsigned t = out_buf[i][10];
			int same_type_alt = (t == 0 && n == 538) || (t == 2 && n == 1040) ||
					    (t == 3 && n == 993) || (t == 7 && n == 784) ||
					    (t == 8 && n == 1164);
			if (same_type_alt) {
				alt++;
				bad += r != (t == 0 ? DEC_FRAME : DEC_OK);
			} else if (n != TEL && n != STR && n != MORE) {
				bad += r != DEC_ESIZE && r != DEC_EFORMAT;
			}
			if (r == DEC_FRAME)
				bad += !frame_finite(&o);
		}
	}
	T_CHECKF(bad == 0, "%d", bad);
	T_CHECK(alt == 5);
}

int main(void)
{
	T_RUN(test_v1_split);
	T_RUN(test_v1_meta);
	T_RUN(test_v1_frames);
	T_RUN(test_v1_position_fractions);
	T_RUN(test_v1_axes);
	T_RUN(test_v1_truncations);
	T_RUN(test_v1_wrong_kinds_and_garbage);
	T_RUN(test_v1_strings_and_sessions);
	T_RUN(test_v1_round_trip);
	T_RUN(test_v2_round_trip);
	T_RUN(test_v2_original_sizes);
	T_RUN(test_v2_tread);
	T_RUN(test_v2_discrimination);
	T_RUN(test_v2_truncations);
	free(raw);
	return T_DONE();
}
