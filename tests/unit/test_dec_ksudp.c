/*
 * test_dec_ksudp.c - Assetto Corsa remote telemetry decoder and encoder.
 *
 * Real data: tests/data/ac_remote/ (vthinsel/Python_UDP_Receiver, CC0): 8641
 * RTCarInfo datagrams of an Audi R8 LMS at Monza, as a raw concatenation and
 * as a pcap with receive times. The handshake, response and RTLap are not in
 * any real capture; they are checked against docs/protocols.md section 1.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/bytes.h"
#include "capture/decoder.h"
#include "capture/ksudp.h"
#include "capture/sim/encoder.h"
#include "tests/unit/t.h"

#define RAW_PATH "ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.raw"
#define PCAP_PATH "ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap"
#define NPKT 8641
#define PKT 328
#define LAP_MS 344684
#define G0 9.80665

static unsigned char *raw;
static size_t raw_len;

static const unsigned char *packet(size_t i)
{
	return raw + PKT * i;
}

static int load_raw(void)
{
	if (!raw)
		raw = t_read_file(t_data_path(RAW_PATH), &raw_len);
	return raw && raw_len == (size_t)NPKT * PKT;
}

static const uint64_t ac_present =
	FRAME_P_SPEED | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_VERT | FRAME_P_ACCEL_LON |
	FRAME_P_LAP_TIME | FRAME_P_LAST_LAP | FRAME_P_BEST_LAP | FRAME_P_LAP | FRAME_P_THROTTLE |
	FRAME_P_BRAKE | FRAME_P_CLUTCH | FRAME_P_RPM | FRAME_P_STEER | FRAME_P_STEER_DEG |
	FRAME_P_GEAR | FRAME_P_WHEEL_SPEED | FRAME_P_SLIP_ANGLE | FRAME_P_SLIP_RATIO |
	FRAME_P_TYRE_LOAD | FRAME_P_SUSP_TRAVEL | FRAME_P_SPLINE | FRAME_P_POS;

static const uint16_t ac_flags =
	FRAME_FLAG_IN_PIT | FRAME_FLAG_ABS | FRAME_FLAG_TC | FRAME_FLAG_LIMITER;

static struct dec_state st;
static struct pw_frame frames[NPKT];

/* Decode the whole capture once into frames[]; returns the DEC_FRAME count. */
static int decode_all(void)
{
	static int done = -1;
	int n = 0;

	if (done >= 0)
		return done;
	if (!load_raw())
		return -1;
	dec_reset(&st);
	for (size_t i = 0; i < NPKT; i++)
		if (dec_ksudp.decode(&st, packet(i), PKT, &frames[i]) == DEC_FRAME)
			n++;
	return done = n;
}

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

static void test_monza_every_packet_is_a_frame(void)
{
	T_CHECK(load_raw());
	T_CHECKF(decode_all() == NPKT, "%d frames", decode_all());
	T_CHECK(strcmp(st.meta.game, "assetto_corsa") == 0);
	T_CHECK(st.meta.format == 1);
	for (size_t i = 0; i < NPKT; i++) {
		const struct pw_frame *f = &frames[i];
		T_CHECK(f->version == FRAME_VERSION && f->game == PW_GAME_AC &&
			f->feed == PW_FEED_KSUDP);
		T_CHECKF(f->present == ac_present, "packet %zu present %llx", i,
			 (unsigned long long)f->present);
		T_CHECK(f->flags_known == ac_flags);
		T_CHECK(f->game_session == 0 && f->seq == 0 && f->t_ns == 0);
		if (t_case_failed)
			break;
	}
}

static void test_monza_speed_and_gear(void)
{
	int gmin = 99, gmax = -99, bad_speed = 0, bad_gear = 0;
	float vmax = 0;

	T_CHECK(decode_all() == NPKT);
	for (size_t i = 0; i < NPKT; i++) {
		const struct pw_frame *f = &frames[i];
		float ms = rd_f32(packet(i), PKT, 16);
		int32_t raw_gear = rd_s32(packet(i), PKT, 76);

		if (fabsf(f->speed_kmh - ms * 3.6f) > 1e-5f * fmaxf(1.0f, f->speed_kmh))
			bad_speed++;
		if (f->gear != raw_gear - 1 || raw_gear < 1 || raw_gear > 6)
			bad_gear++;
		gmin = f->gear < gmin ? f->gear : gmin;
		gmax = f->gear > gmax ? f->gear : gmax;
		vmax = fmaxf(vmax, f->speed_kmh);
		if (f->rpm < 1700.0f || f->rpm > 7960.0f || f->throttle < 0 || f->throttle > 1 ||
		    f->brake < 0 || f->brake > 1 || f->clutch < 0 || f->clutch > 1)
			bad_speed++;
	}
	T_CHECKF(bad_speed == 0, "%d", bad_speed);
	T_CHECKF(bad_gear == 0, "%d", bad_gear);
	T_CHECK(gmin == 0 && gmax == 5); /* raw 1..6: neutral .. 5th */
	T_NEAR(vmax, 252.17, 0.01);
}

static void test_monza_laps(void)
{
	int crossings = 0;

	T_CHECK(decode_all() == NPKT);
	T_CHECK(frames[0].lap == 0 && frames[0].last_lap_ms == -1 && frames[0].best_lap_ms == -1);
	T_CHECK(frames[0].lap_time_ms == 212240);
	for (size_t i = 1; i < NPKT; i++) {
		const struct pw_frame *a = &frames[i - 1], *b = &frames[i];
		if (a->lap != b->lap) {
			crossings++;
			T_CHECK(a->lap == 0 && b->lap == 1);
			T_CHECK(a->lap_time_ms == 344672 && b->lap_time_ms == 8);
			T_CHECK(a->last_lap_ms == -1 && a->best_lap_ms == -1);
			T_CHECK(i == 7899);
		}
		if (b->lap == 1)
			T_CHECK(b->last_lap_ms == LAP_MS && b->best_lap_ms == LAP_MS);
		else
			T_CHECK(b->last_lap_ms == -1 && b->best_lap_ms == -1);
	}
	T_CHECK(crossings == 1);
	T_CHECK(frames[NPKT - 1].lap == 1);
}

static void test_monza_position_and_spline(void)
{
	float lo[3] = { 1e9f, 1e9f, 1e9f }, hi[3] = { -1e9f, -1e9f, -1e9f };
	float smin = 2, smax = -1;

	T_CHECK(decode_all() == NPKT);
	for (size_t i = 0; i < NPKT; i++) {
		for (int k = 0; k < 3; k++) {
			lo[k] = fminf(lo[k], frames[i].pos_m[k]);
			hi[k] = fmaxf(hi[k], frames[i].pos_m[k]);
		}
		smin = fminf(smin, frames[i].spline);
		smax = fmaxf(smax, frames[i].spline);
	}
	/* README: x -207..1046, z -1277..886 (Monza) */
	T_NEAR(lo[0], -207.50, 0.01);
	T_NEAR(hi[0], 1046.35, 0.01);
	T_NEAR(lo[2], -1277.15, 0.01);
	T_NEAR(hi[2], 886.01, 0.01);
	T_CHECK(lo[1] > -12 && hi[1] < 2);
	T_CHECK(smin >= 0 && smin < 0.001f && smax <= 1 && smax > 0.999f);
}

/*
 * The sign conventions, re-derived from the path: the lateral acceleration
 * implied by the curvature of the driven x/z path must match accel_lat_g
 * (+ right; Monza runs clockwise, so the total turning in atan2(dz, dx)
 * over the capture is about +360 deg and positive turning is to the right).
 */
static void test_monza_axes_from_path(void)
{
	static double path_lat[NPKT], lat[NPKT], steer[NPKT], dv[NPKT], lon[NPKT];
	static double yacc[NPKT], vert[NPKT];
	size_t n = 0, m = 0, q = 0;
	double turn = 0, px = 0, pz = 0, phd = 0;
	int have_p = 0, have_h = 0;
	const int K = 4;

	T_CHECK(decode_all() == NPKT);
	for (size_t i = 0; i < NPKT; i++) { /* total turning, 5 m steps */
		double x = frames[i].pos_m[0], z = frames[i].pos_m[2], hd;
		if (have_p && hypot(x - px, z - pz) < 5)
			continue;
		if (have_p) {
			hd = atan2(z - pz, x - px);
			if (have_h)
				turn += remainder(hd - phd, 2 * M_PI);
			phd = hd;
			have_h = 1;
		}
		px = x;
		pz = z;
		have_p = 1;
	}
	T_CHECKF(turn * 180 / M_PI > 340 && turn * 180 / M_PI < 400, "turn %f", turn * 180 / M_PI);

	for (size_t i = K; i + K < NPKT; i++) {
		const struct pw_frame *a = &frames[i - K], *b = &frames[i], *c = &frames[i + K];
		double h1, h2, ds, v = b->speed_kmh / 3.6;
		if (b->speed_kmh < 50 || a->lap_time_ms >= b->lap_time_ms ||
		    b->lap_time_ms >= c->lap_time_ms)
			continue;
		h1 = atan2(b->pos_m[2] - a->pos_m[2], b->pos_m[0] - a->pos_m[0]);
		h2 = atan2(c->pos_m[2] - b->pos_m[2], c->pos_m[0] - b->pos_m[0]);
		ds = (hypot(b->pos_m[0] - a->pos_m[0], b->pos_m[2] - a->pos_m[2]) +
		      hypot(c->pos_m[0] - b->pos_m[0], c->pos_m[2] - b->pos_m[2])) /
		     2;
		if (ds < 1)
			continue;
		path_lat[n] = remainder(h2 - h1, 2 * M_PI) / ds * v * v / G0;
		lat[n] = b->accel_lat_g;
		steer[n] = b->steer;
		n++;
	}
	T_CHECK(n > 7000);
	T_CHECKF(corr(path_lat, lat, n) > 0.99, "lat corr %f", corr(path_lat, lat, n));
	T_CHECKF(corr(path_lat, steer, n) > 0.5, "steer corr %f", corr(path_lat, steer, n));

	for (size_t i = 1; i + 1 < NPKT; i++) {
		const struct pw_frame *a = &frames[i - 1], *c = &frames[i + 1];
		double dt = (c->lap_time_ms - a->lap_time_ms) / 1000.0;
		if (dt <= 0 || dt > 0.1)
			continue;
		dv[m] = (c->speed_kmh - a->speed_kmh) / 3.6 / dt / G0;
		lon[m] = frames[i].accel_lon_g;
		m++;
	}
	T_CHECKF(corr(dv, lon, m) > 0.99, "lon corr %f", corr(dv, lon, m));

	for (size_t i = 3; i + 3 < NPKT; i++) {
		const struct pw_frame *a = &frames[i - 3], *b = &frames[i], *c = &frames[i + 3];
		double t1 = (b->lap_time_ms - a->lap_time_ms) / 1000.0;
		double t2 = (c->lap_time_ms - b->lap_time_ms) / 1000.0;
		if (!(t1 > 0 && t1 < 0.2 && t2 > 0 && t2 < 0.2) || b->speed_kmh < 30)
			continue;
		yacc[q] = ((c->pos_m[1] - b->pos_m[1]) / t2 - (b->pos_m[1] - a->pos_m[1]) / t1) /
			  ((t1 + t2) / 2) / G0;
		vert[q] = b->accel_vert_g;
		q++;
	}
	T_CHECKF(corr(yacc, vert, q) > 0.85, "vert corr %f", corr(yacc, vert, q));
}

static void test_monza_wheels_and_flags(void)
{
	int abs_n = 0, tc_n = 0, pit_n = 0, lim_n = 0;
	float wmax = 0, samax = 0, steer_max = 0, deg_max = 0;
	double abs_brake = 0, tc_gas = 0;

	T_CHECK(decode_all() == NPKT);
	for (size_t i = 0; i < NPKT; i++) {
		const struct pw_frame *f = &frames[i];
		abs_n += !!(f->flags & FRAME_FLAG_ABS);
		tc_n += !!(f->flags & FRAME_FLAG_TC);
		pit_n += !!(f->flags & FRAME_FLAG_IN_PIT);
		lim_n += !!(f->flags & FRAME_FLAG_LIMITER);
		if (f->flags & FRAME_FLAG_ABS)
			abs_brake += f->brake;
		if (f->flags & FRAME_FLAG_TC)
			tc_gas += f->throttle;
		for (int w = 0; w < 4; w++) {
			wmax = fmaxf(wmax, f->wheel_speed_rads[w]);
			samax = fmaxf(samax, fabsf(f->slip_angle_rad[w]));
			T_CHECK(f->susp_travel_m[w] > 0 && f->susp_travel_m[w] < 0.08f);
			T_CHECK(f->tyre_load_n[w] >= 0 && f->tyre_load_n[w] < 25000);
		}
		steer_max = fmaxf(steer_max, fabsf(f->steer));
		deg_max = fmaxf(deg_max, fabsf(f->steer_deg));
		if (i < 320)
			T_CHECK(f->flags & FRAME_FLAG_IN_PIT);
	}
	T_CHECK(abs_n == 299 && tc_n == 112 && pit_n == 320 && lim_n == 0);
	T_CHECK(abs_brake / abs_n > 0.9 && tc_gas / tc_n > 0.8);
	T_NEAR(wmax * 0.34, 70.05, 0.5);           /* rad/s x 0.34 m front radius ~ top speed m/s */
	T_NEAR(samax, 27.7786 * M_PI / 180, 1e-4); /* degrees on the wire */
	T_NEAR(deg_max, 297.91, 0.01);
	T_NEAR(steer_max, 297.91 / 450, 1e-4);
}

/* ---- the pcap with the same packets, read by a small local reader ---- */

static uint32_t be16(const unsigned char *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

/* Classic little-endian pcap, LINKTYPE_RAW, IPv4/UDP: calls back per payload. */
static int pcap_payloads(const unsigned char *b, size_t len,
			 int (*cb)(void *, const unsigned char *, size_t, double), void *ctx)
{
	size_t o = 24;
	int n = 0;

	if (len < 24 || rd_u32(b, len, 0) != 0xa1b2c3d4u || rd_u32(b, len, 20) != 101)
		return -1;
	while (o + 16 <= len) {
		uint32_t incl = rd_u32(b, len, o + 8);
		const unsigned char *ip = b + o + 16;
		double t = rd_u32(b, len, o) + rd_u32(b, len, o + 4) / 1e6;
		size_t ihl;

		if (incl > len - o - 16 || incl < 28)
			return -1;
		ihl = (size_t)(ip[0] & 15) * 4;
		if ((ip[0] >> 4) != 4 || ip[9] != 17 || ihl + 8 > incl || be16(ip + 2) != incl)
			return -1;
		if (be16(ip + ihl + 4) != incl - ihl)
			return -1;
		if (cb(ctx, ip + ihl + 8, incl - ihl - 8, t))
			return -1;
		n++;
		o += 16 + incl;
	}
	return o == len ? n : -1;
}

struct pcap_cmp {
	size_t i, mismatches;
	double t0, t1;
};

static int pcap_cmp_cb(void *ctx, const unsigned char *p, size_t len, double t)
{
	struct pcap_cmp *c = ctx;

	if (c->i == 0)
		c->t0 = t;
	if (t < c->t1)
		c->mismatches++; /* receive times must not go backwards */
	c->t1 = t;
	if (c->i >= NPKT || len != PKT || memcmp(p, packet(c->i), PKT) != 0)
		c->mismatches++;
	c->i++;
	return 0;
}

static void test_monza_pcap_matches_raw(void)
{
	size_t len;
	unsigned char *pc = t_read_file(t_data_path(PCAP_PATH), &len);
	struct pcap_cmp c = { 0 };

	T_CHECK(load_raw());
	T_CHECK(pc != NULL);
	if (!pc || !raw)
		return;
	T_CHECK(pcap_payloads(pc, len, pcap_cmp_cb, &c) == NPKT);
	T_CHECK(c.i == NPKT && c.mismatches == 0);
	T_CHECKF(c.t1 - c.t0 > 147 && c.t1 - c.t0 < 149, "%f s", c.t1 - c.t0);
	free(pc);
}

/* ---- handshake flow ---- */

static void put_name16(uint8_t *b, size_t off, const char *ascii, const char *tail)
{
	size_t i = 0;
	for (; *ascii; ascii++, i++)
		wr_u16(b, 408, off + 2 * i, (uint8_t)*ascii);
	for (; *tail; tail++, i++)
		wr_u16(b, 408, off + 2 * i, (uint8_t)*tail);
}

static void test_handshake_flow(void)
{
	static struct dec_state s;
	uint8_t buf[64], resp[KSUDP_RESPONSE_SIZE];
	struct pw_meta m = { 0 };
	struct pw_frame f;
	uint32_t gen;

	dec_reset(&s);
	T_CHECK(dec_ksudp.mode == DEC_CLIENT && dec_ksudp.default_port == 9996);
	T_CHECK(dec_ksudp.hello(&s, buf, 11) == 0);
	T_CHECK(dec_ksudp.hello(&s, buf, sizeof buf) == 12);
	T_CHECK(rd_u32(buf, 12, 0) == 1 && rd_u32(buf, 12, 4) == 1 && rd_u32(buf, 12, 8) == 0);
	T_CHECK(ksudp_parse_handshake(buf, 12) == KSUDP_OP_HANDSHAKE);
	T_CHECK(dec_ksudp.decode(&s, buf, 12, &f) == DEC_OK); /* our own request, on the wire */

	T_STRSET(m.car, "ks_audi_r8_lms");
	T_STRSET(m.driver, "Jörg Müller");
	T_STRSET(m.track, "monza");
	T_STRSET(m.layout, "junior");
	T_CHECK(ksudp_encode_response(&m, resp, sizeof resp - 1) == 0);
	T_CHECK(ksudp_encode_response(&m, resp, sizeof resp) == KSUDP_RESPONSE_SIZE);
	T_CHECK(rd_u32(resp, 408, 200) == 4242 && rd_u32(resp, 408, 204) == 1);
	T_CHECK(rd_u16(resp, 408, 2 * 14) == '%');
	gen = s.meta_gen;
	T_CHECK(dec_ksudp.decode(&s, resp, sizeof resp, &f) == DEC_OK);
	T_CHECK(s.meta_gen != gen);
	T_CHECK(strcmp(s.meta.car, "ks_audi_r8_lms") == 0);
	T_CHECK(strcmp(s.meta.driver, "Jörg Müller") == 0);
	T_CHECK(strcmp(s.meta.track, "monza") == 0 && strcmp(s.meta.layout, "junior") == 0);
	T_CHECK(strcmp(s.meta.game, "assetto_corsa") == 0 && s.meta.game_session == 1);
	T_CHECK(s.out_len == 12 && ksudp_parse_handshake(s.out, s.out_len) == 1);
	T_CHECK(rd_u32(s.out, 12, 0) == 1 && rd_u32(s.out, 12, 4) == 1);
	s.out_len = 0; /* the capture process sent it */

	T_CHECK(load_raw());
	T_CHECK(dec_ksudp.decode(&s, packet(5000), PKT, &f) == DEC_FRAME);
	T_CHECK(f.game_session == 1 && s.out_len == 0);

	/* AC restarted (or we re-handshook): a new session; stale text after '%' is cut */
	memset(resp, 0, sizeof resp);
	put_name16(resp, 0, "ks_ferrari_488_gt3", "%garbage");
	put_name16(resp, 100, "Driver", "%xx");
	put_name16(resp, 208, "spa", ""); /* NUL-terminated only */
	put_name16(resp, 308, "", "%old");
	T_CHECK(dec_ksudp.decode(&s, resp, sizeof resp, &f) == DEC_OK);
	T_CHECK(strcmp(s.meta.car, "ks_ferrari_488_gt3") == 0);
	T_CHECK(strcmp(s.meta.driver, "Driver") == 0 && strcmp(s.meta.track, "spa") == 0);
	T_CHECK(s.meta.layout[0] == '\0');
	T_CHECK(s.meta.game_session == 2 && s.out_len == 12);
	T_CHECK(dec_ksudp.decode(&s, packet(5000), PKT, &f) == DEC_FRAME && f.game_session == 2);

	T_CHECK(dec_ksudp.bye(&s, buf, 4) == 0);
	T_CHECK(dec_ksudp.bye(&s, buf, sizeof buf) == 12);
	T_CHECK(ksudp_parse_handshake(buf, 12) == KSUDP_OP_DISMISS);
	T_CHECK(ksudp_parse_handshake(buf, 11) == -1);
	wr_u32(buf, 12, 8, 9);
	T_CHECK(ksudp_parse_handshake(buf, 12) == -1);
	T_CHECK(dec_ksudp.decode(&s, buf, 12, &f) == DEC_EFORMAT);
}

static void test_long_names_are_cut_whole(void)
{
	static struct dec_state s;
	uint8_t resp[KSUDP_RESPONSE_SIZE];
	struct pw_meta m = { 0 };
	struct pw_frame f;

	/* 40 x U+00E9 on the wire = 80 UTF-8 bytes: the 64-byte meta field keeps
	 * 31 whole characters (62 bytes), never half of one */
	dec_reset(&s);
	memset(resp, 0, sizeof resp);
	for (int i = 0; i < 40; i++)
		wr_u16(resp, sizeof resp, 2 * (size_t)i, 0xe9);
	wr_u16(resp, sizeof resp, 80, '%');
	T_CHECK(dec_ksudp.decode(&s, resp, sizeof resp, &f) == DEC_OK);
	T_CHECK(strlen(s.meta.car) == 62);
	for (int i = 0; i < 31; i++)
		T_CHECK(memcmp(s.meta.car + 2 * i, "\xc3\xa9", 2) == 0);

	/* 60 ASCII characters: 49 fit the 50 UTF-16 units with the '%' */
	memset(m.car, 'x', 60);
	m.car[60] = '\0';
	T_CHECK(ksudp_encode_response(&m, resp, sizeof resp) == KSUDP_RESPONSE_SIZE);
	T_CHECK(rd_u16(resp, 408, 98) == '%');
	T_CHECK(dec_ksudp.decode(&s, resp, sizeof resp, &f) == DEC_OK);
	T_CHECK(strlen(s.meta.car) == 49);
}

static void test_rtlap(void)
{
	static struct dec_state s;
	uint8_t lap[KSUDP_RTLAP_SIZE];
	struct pw_meta m = { 0 };
	struct pw_frame f;

	T_STRSET(m.driver, "Driver");
	T_STRSET(m.car, "ks_audi_r8_lms");
	dec_reset(&s);
	T_CHECK(ksudp_encode_rtlap(&m, 3, 7, 105123, lap, sizeof lap - 1) == 0);
	T_CHECK(ksudp_encode_rtlap(&m, 3, 7, 105123, lap, sizeof lap) == KSUDP_RTLAP_SIZE);
	T_CHECK(rd_u32(lap, 212, 0) == 3 && rd_u32(lap, 212, 4) == 7);
	T_CHECK(rd_u32(lap, 212, 208) == 105123 && rd_u16(lap, 212, 8) == 'D');
	T_CHECK(rd_u16(lap, 212, 108) == 'k');
	memset(&f, 0x5a, sizeof f);
	T_CHECK(dec_ksudp.decode(&s, lap, sizeof lap, &f) == DEC_OK);
	T_CHECK(((const unsigned char *)&f)[0] == 0x5a); /* no frame written */
	wr_u32(lap, 212, 4, (uint32_t)-1);
	T_CHECK(dec_ksudp.decode(&s, lap, sizeof lap, &f) == DEC_EFORMAT);
}

/* ---- robustness ---- */

static void test_truncations(void)
{
	static struct dec_state s;
	uint8_t resp[KSUDP_RESPONSE_SIZE], lap[KSUDP_RTLAP_SIZE], hs[12];
	struct pw_meta m = { 0 };
	struct pw_frame f;
	int bad = 0;

	T_STRSET(m.car, "ks_audi_r8_lms");
	T_STRSET(m.driver, "Driver");
	T_STRSET(m.track, "monza");
	ksudp_encode_response(&m, resp, sizeof resp);
	ksudp_encode_rtlap(&m, 1, 2, 90000, lap, sizeof lap);
	dec_ksudp.hello(&s, hs, sizeof hs);
	T_CHECK(load_raw());
	dec_reset(&s);
	for (size_t i = 0; i < NPKT; i += 97) /* a spread of real packets, every cut */
		for (size_t n = 0; n < PKT; n++) {
			int r = dec_ksudp.decode(&s, packet(i), n, &f);
			bad += r != DEC_ESIZE && r != DEC_EFORMAT;
		}
	for (size_t n = 0; n < sizeof resp; n++) {
		int r = dec_ksudp.decode(&s, resp, n, &f);
		bad += r != DEC_ESIZE && r != DEC_EFORMAT;
	}
	for (size_t n = 0; n < sizeof lap; n++) {
		int r = dec_ksudp.decode(&s, lap, n, &f);
		bad += r != DEC_ESIZE && r != DEC_EFORMAT;
	}
	for (size_t n = 0; n < sizeof hs; n++)
		bad += dec_ksudp.decode(&s, hs, n, &f) != DEC_ESIZE;
	T_CHECKF(bad == 0, "%d", bad);
	T_CHECK(s.meta.game_session == 0 && s.out_len == 0); /* nothing was taken as a response */
}

static void test_garbage(void)
{
	static struct dec_state s;
	static uint8_t buf[2048];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct pw_frame f;
	int bad = 0;

	dec_reset(&s);
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(round % 700);
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)x;
		}
		int r = dec_ksudp.decode(&s, buf, n, &f);
		if (n != 12 && n != 212 && n != 328 && n != 408)
			bad += r != DEC_ESIZE;
		if (n == 328 && rd_s32(buf, n, 4) != 328)
			bad += r != DEC_EFORMAT;
		if (r == DEC_FRAME)
			bad++;
	}
	T_CHECKF(bad == 0, "%d", bad);
	/* a garbage "response" still leaves clean, terminated strings */
	T_CHECK(strlen(s.meta.car) < META_STR && strlen(s.meta.track) < META_STR);

	/* NaN/Inf from the game never reach a frame */
	T_CHECK(load_raw());
	memcpy(buf, packet(100), PKT);
	for (size_t o = 8; o < PKT; o += 4)
		if (o != 40 && o != 44 && o != 48 && o != 52 && o != 76)
			wr_u32(buf, PKT, o, (o / 4) & 1 ? 0x7fc00000u : 0x7f800000u);
	T_CHECK(dec_ksudp.decode(&s, buf, PKT, &f) == DEC_FRAME);
	for (size_t o = offsetof(struct pw_frame, throttle); o < offsetof(struct pw_frame, gear);
	     o += 4) {
		float v;
		memcpy(&v, (const char *)&f + o, 4);
		bad += !isfinite(v);
	}
	T_CHECK(bad == 0 && f.speed_kmh == 0 && f.steer == 0);
}

/* ---- round trip through the pw-sim encoder ---- */

static uint8_t emitted[4][512];
static size_t emitted_len[4];
static int emitted_n;

static void capture_emit(void *ctx, const uint8_t *buf, size_t len)
{
	(void)ctx;
	if (emitted_n < 4 && len <= sizeof emitted[0]) {
		memcpy(emitted[emitted_n], buf, len);
		emitted_len[emitted_n] = len;
	}
	emitted_n++;
}

static void test_round_trip(void)
{
	static struct dec_state s;
	struct enc_state es = { 0 };
	struct pw_meta m = { 0 };
	struct pw_frame in, out;

	frame_init(&in, PW_GAME_AC, PW_FEED_KSUDP);
	in.present = ac_present;
	in.flags_known = ac_flags;
	in.flags = FRAME_FLAG_ABS | FRAME_FLAG_LIMITER;
	in.speed_kmh = 187.25f;
	in.throttle = 0.75f;
	in.brake = 0.125f;
	in.clutch = 0.5f;
	in.rpm = 6543.5f;
	in.steer_deg = -90.0f;
	in.steer = -0.2f;
	in.gear = 4;
	in.accel_lat_g = 1.5f;
	in.accel_lon_g = -0.75f;
	in.accel_vert_g = 0.25f;
	in.lap = 3;
	in.lap_time_ms = 65432;
	in.last_lap_ms = 101234;
	in.best_lap_ms = 99876;
	in.spline = 0.4375f;
	for (int i = 0; i < 3; i++)
		in.pos_m[i] = -123.5f + 100.0f * (float)i;
	for (int w = 0; w < 4; w++) {
		in.wheel_speed_rads[w] = 150.0f + (float)w;
		in.slip_angle_rad[w] = 0.01f * (float)(w + 1);
		in.slip_ratio[w] = -0.05f * (float)w;
		in.tyre_load_n[w] = 4000.0f + 100.0f * (float)w;
		in.susp_travel_m[w] = 0.01f * (float)(w + 1);
	}
	emitted_n = 0;
	enc_ksudp.encode(&es, &in, &m, capture_emit, NULL);
	T_CHECK(emitted_n == 1 && emitted_len[0] == KSUDP_CARINFO_SIZE && es.tick == 1);
	T_CHECK(strcmp(enc_ksudp.feed, "ksudp") == 0 && strcmp(enc_ksudp.format, "rtcarinfo") == 0);
	T_NEAR(rd_f32(emitted[0], PKT, 16) * 3.6f, 187.25, 1e-3);
	T_NEAR(rd_f32(emitted[0], PKT, 12), 187.25 / 1.609344, 1e-3);
	dec_reset(&s);
	T_CHECK(dec_ksudp.decode(&s, emitted[0], emitted_len[0], &out) == DEC_FRAME);
	T_CHECK(out.present == in.present && out.flags == in.flags);
	T_CHECK(out.flags_known == in.flags_known);
	T_CHECK(out.speed_kmh == in.speed_kmh && out.throttle == in.throttle);
	T_CHECK(out.brake == in.brake && out.clutch == in.clutch && out.rpm == in.rpm);
	T_CHECK(out.steer_deg == in.steer_deg && out.steer == in.steer && out.gear == in.gear);
	T_CHECK(out.accel_lat_g == in.accel_lat_g && out.accel_lon_g == in.accel_lon_g);
	T_CHECK(out.accel_vert_g == in.accel_vert_g && out.lap == in.lap);
	T_CHECK(out.lap_time_ms == in.lap_time_ms && out.last_lap_ms == in.last_lap_ms);
	T_CHECK(out.best_lap_ms == in.best_lap_ms && out.spline == in.spline);
	T_CHECK(memcmp(out.pos_m, in.pos_m, sizeof in.pos_m) == 0);
	for (int w = 0; w < 4; w++) {
		T_CHECK(out.wheel_speed_rads[w] == in.wheel_speed_rads[w]);
		T_NEAR(out.slip_angle_rad[w], in.slip_angle_rad[w], 1e-7);
		T_CHECK(out.slip_ratio[w] == in.slip_ratio[w]);
		T_CHECK(out.tyre_load_n[w] == in.tyre_load_n[w]);
		T_CHECK(out.susp_travel_m[w] == in.susp_travel_m[w]);
	}

	/* no last/best lap yet: AC's 0, decoded as -1; steer without an angle */
	in.present &= ~(FRAME_P_LAST_LAP | FRAME_P_BEST_LAP | FRAME_P_STEER_DEG);
	in.gear = -1;
	in.flags = FRAME_FLAG_IN_PIT | FRAME_FLAG_TC;
	emitted_n = 0;
	enc_ksudp.encode(&es, &in, &m, capture_emit, NULL);
	T_CHECK(rd_u32(emitted[0], PKT, 76) == 0 && rd_u32(emitted[0], PKT, 44) == 0);
	T_CHECK(dec_ksudp.decode(&s, emitted[0], emitted_len[0], &out) == DEC_FRAME);
	T_CHECK(out.last_lap_ms == -1 && out.best_lap_ms == -1 && out.gear == -1);
	T_NEAR(out.steer, -0.2, 1e-6);
	T_NEAR(out.steer_deg, -90.0, 1e-4);
	T_CHECK(out.flags == (FRAME_FLAG_IN_PIT | FRAME_FLAG_TC));
}

/* The real packet re-encoded from its frame gives back the same frame. */
static void test_real_round_trip(void)
{
	static struct dec_state s;
	struct enc_state es = { 0 };
	struct pw_meta m = { 0 };
	struct pw_frame out;
	int bad = 0;

	T_CHECK(decode_all() == NPKT);
	dec_reset(&s);
	for (size_t i = 0; i < NPKT; i += 7) {
		emitted_n = 0;
		enc_ksudp.encode(&es, &frames[i], &m, capture_emit, NULL);
		if (emitted_n != 1 || dec_ksudp.decode(&s, emitted[0], PKT, &out) != DEC_FRAME) {
			bad++;
			continue;
		}
		bad += memcmp(&out, &frames[i], offsetof(struct pw_frame, slip_angle_rad)) != 0;
		bad += memcmp(out.wheel_speed_rads, frames[i].wheel_speed_rads,
			      offsetof(struct pw_frame, tyre_wear) -
				      offsetof(struct pw_frame, wheel_speed_rads)) != 0;
		for (int w = 0; w < 4; w++)
			bad += fabsf(out.slip_angle_rad[w] - frames[i].slip_angle_rad[w]) > 1e-6f;
	}
	T_CHECKF(bad == 0, "%d", bad);
}

int main(void)
{
	T_RUN(test_monza_every_packet_is_a_frame);
	T_RUN(test_monza_speed_and_gear);
	T_RUN(test_monza_laps);
	T_RUN(test_monza_position_and_spline);
	T_RUN(test_monza_axes_from_path);
	T_RUN(test_monza_wheels_and_flags);
	T_RUN(test_monza_pcap_matches_raw);
	T_RUN(test_handshake_flow);
	T_RUN(test_long_names_are_cut_whole);
	T_RUN(test_rtlap);
	T_RUN(test_truncations);
	T_RUN(test_garbage);
	T_RUN(test_round_trip);
	T_RUN(test_real_round_trip);
	free(raw);
	return T_DONE();
}
