/*
 * test_dec_acc.c - ACC broadcasting decoder, encoder and server helpers.
 *
 * No real ACC capture exists (docs/protocols.md sections 5 and 8), so
 * every inbound message here is assembled byte by byte from the tables in
 * docs/protocols.md §5 with this file's own writer - never with enc_acc - and the
 * decoded values are checked against what was written.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/acc.h"
#include "capture/decoder.h"
#include "capture/sim/encoder.h"
#include "tests/unit/t.h"

/* ---- a message builder that knows nothing of dec_acc/enc_acc ---- */

struct msg {
	uint8_t b[1024];
	size_t n;
};

static void u8(struct msg *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)v;
}

static void u16(struct msg *m, unsigned v)
{
	u8(m, v & 0xff);
	u8(m, (v >> 8) & 0xff);
}

static void i32(struct msg *m, int32_t v)
{
	uint32_t u = (uint32_t)v;
	for (int i = 0; i < 4; i++)
		u8(m, (u >> (8 * i)) & 0xff);
}

static void f32(struct msg *m, float v)
{
	uint32_t u;
	memcpy(&u, &v, 4);
	i32(m, (int32_t)u);
}

static void str(struct msg *m, const char *s)
{
	size_t n = strlen(s);
	u16(m, (unsigned)n);
	memcpy(m->b + m->n, s, n);
	m->n += n;
}

/* LapInfo: i32 time, u16 car, u16 driver, u8 count, i32 splits, 4 flag bytes */
static void lap(struct msg *m, int32_t ms, unsigned car, int nsplit, const int32_t *splits,
		int invalid)
{
	i32(m, ms);
	u16(m, car);
	u16(m, 0);
	u8(m, (unsigned)nsplit);
	for (int i = 0; i < nsplit; i++)
		i32(m, splits[i]);
	u8(m, (unsigned)invalid);
	u8(m, !invalid);
	u8(m, 0);
	u8(m, 0);
}

static struct msg registration_result(int32_t id, int success, const char *err)
{
	struct msg m = { .n = 0 };
	u8(&m, 1);
	i32(&m, id);
	u8(&m, (unsigned)success);
	u8(&m, 1);
	str(&m, err);
	return m;
}

static struct msg realtime(unsigned event, unsigned session, unsigned type, float time_ms,
			   int32_t focused, int replay)
{
	static const int32_t best_splits[3] = { 30000, 40000, 31234 };
	struct msg m = { .n = 0 };

	u8(&m, 2);
	u16(&m, event);
	u16(&m, session);
	u8(&m, type);
	u8(&m, 5); /* phase: session */
	f32(&m, time_ms);
	f32(&m, 1800000.0f); /* end time */
	i32(&m, focused);
	str(&m, "Drivable");
	str(&m, "Cockpit");
	str(&m, "Broadcasting");
	u8(&m, (unsigned)replay);
	if (replay) {
		f32(&m, 5000.0f);
		f32(&m, 25000.0f);
	}
	f32(&m, 50400000.0f); /* 14:00 */
	u8(&m, 21);
	u8(&m, 30);
	u8(&m, 2);
	u8(&m, 0);
	u8(&m, 0);
	lap(&m, 101234, 5, 3, best_splits, 0);
	return m;
}

static struct msg car_update(unsigned car, int nsplit, const int32_t *splits, int invalid,
			     unsigned location)
{
	struct msg m = { .n = 0 };

	u8(&m, 3);
	u16(&m, car);
	u16(&m, 0); /* driver index */
	u8(&m, 1);  /* driver count */
	u8(&m, 5);  /* gear raw: 3rd */
	f32(&m, -512.5f);
	f32(&m, 1024.25f);
	f32(&m, 1.5f);
	u8(&m, location);
	u16(&m, 187);
	u16(&m, 4);
	u16(&m, 2);
	u16(&m, 9);
	f32(&m, 0.25f);
	u16(&m, 6);
	i32(&m, -350);
	lap(&m, 101234, car, 0, NULL, 0);    /* best session lap */
	lap(&m, INT32_MAX, car, 0, NULL, 0); /* last lap: none */
	lap(&m, 45678, car, nsplit, splits, invalid);
	return m;
}

static struct msg entry_list(int32_t id, int count, const uint16_t *cars)
{
	struct msg m = { .n = 0 };
	u8(&m, 4);
	i32(&m, id);
	u16(&m, (unsigned)count);
	for (int i = 0; i < count; i++)
		u16(&m, cars[i]);
	return m;
}

static struct msg track_data(int32_t id, const char *name, int32_t meters)
{
	struct msg m = { .n = 0 };
	u8(&m, 5);
	i32(&m, id);
	str(&m, name);
	i32(&m, 3);
	i32(&m, meters);
	u8(&m, 2); /* camera sets */
	str(&m, "set1");
	u8(&m, 2);
	str(&m, "CameraPit1");
	str(&m, "CameraPit2");
	str(&m, "Drivable");
	u8(&m, 1);
	str(&m, "Chase");
	u8(&m, 2); /* hud pages */
	str(&m, "Blank");
	str(&m, "Basic HUD");
	return m;
}

static struct msg entry_list_car(unsigned car, unsigned model, const char *team, int ndrivers,
				 unsigned current)
{
	static const char *const names[][3] = {
		{ "Max", "Mustermann", "MUS" },
		{ "Ana", "G\xc3\xb3mez", "GOM" },
	};
	struct msg m = { .n = 0 };

	u8(&m, 6);
	u16(&m, car);
	u8(&m, model);
	str(&m, team);
	i32(&m, 992);
	u8(&m, 1);
	u8(&m, current);
	u16(&m, 2);
	u8(&m, (unsigned)ndrivers);
	for (int d = 0; d < ndrivers; d++) {
		str(&m, names[d % 2][0]);
		str(&m, names[d % 2][1]);
		str(&m, names[d % 2][2]);
		u8(&m, 2);
		u16(&m, 17);
	}
	return m;
}

static struct msg broadcasting_event(void)
{
	struct msg m = { .n = 0 };
	u8(&m, 7);
	u8(&m, 5);
	str(&m, "Lap completed");
	i32(&m, 123456);
	i32(&m, 5);
	return m;
}

/* ---- helpers ---- */

static int dec(struct dec_state *st, const struct msg *m, struct pw_frame *f)
{
	return dec_acc.decode(st, m->b, m->n, f);
}

static int all_finite(const struct pw_frame *f)
{
	const float *p = &f->throttle;
	const float *end = (const float *)(const void *)&f->gear;

	for (; p < end; p++)
		if (!isfinite(*p))
			return 0;
	for (p = &f->lap_dist_m; p < (const float *)(const void *)f->reserved; p++)
		if (!isfinite(*p))
			return 0;
	return isfinite(f->game_time_s);
}

/* Registered, entry list (cars 0 and 5), Spa 7004 m, focus on car 5. */
static void setup(struct dec_state *st)
{
	static const uint16_t cars[] = { 0, 5 };
	struct msg m;
	struct pw_frame f;

	dec_reset(st);
	m = registration_result(42, 1, "");
	dec(st, &m, &f);
	m = entry_list(42, 2, cars);
	dec(st, &m, &f);
	m = track_data(42, "Spa", 7004);
	dec(st, &m, &f);
	m = realtime(1, 2, 10, 123456.0f, 5, 0);
	dec(st, &m, &f);
	st->out_len = 0;
}

/* ---- tests ---- */

static void test_decoder_entry(void)
{
	T_CHECK(strcmp(dec_acc.feed, "acc") == 0 && dec_acc.feed_id == PW_FEED_ACC);
	T_CHECK(dec_acc.default_port == 9000 && dec_acc.mode == DEC_CLIENT);
	T_CHECK(dec_acc.max_rate_hz == 100 && dec_acc.raw_bytes_per_s == 40000);
	T_CHECK(dec_acc.hello && dec_acc.bye);
	T_CHECK(strcmp(dec_acc.title, "Assetto Corsa Competizione broadcasting") == 0);
}

static void test_hello_and_bye(void)
{
	static const uint8_t want[] = {
		1, 4, 7,   0,   'p', 'i', 't', 'w', 'a', 'l', 'l',
		3, 0, 'a', 's', 'd', 16,  0,   0,   0,   0,   0,
	};
	static const uint8_t want_pw[] = {
		1,   4,   7,   0,   'p', 'i', 't', 'w', 'a', 'l', 'l', 6, 0,
		's', 'e', 'c', 'r', 'e', 't', 16,  0,   0,   0,   0,   0,
	};
	static struct dec_state st;
	uint8_t buf[64];
	struct msg m;
	struct pw_frame f;
	size_t n;

	dec_reset(&st);
	n = dec_acc.hello(&st, buf, sizeof buf);
	T_CHECK(n == sizeof want && memcmp(buf, want, n) == 0);
	T_CHECK(dec_acc.hello(&st, buf, sizeof want - 1) == 0);

	dec_acc_set_password(&st, "secret");
	n = dec_acc.hello(&st, buf, sizeof buf);
	T_CHECK(n == sizeof want_pw && memcmp(buf, want_pw, n) == 0);
	dec_acc_set_password(&st, "");
	n = dec_acc.hello(&st, buf, sizeof buf);
	T_CHECK(n == 19 && buf[11] == 0 && buf[12] == 0);
	dec_acc_set_password(&st, NULL);
	n = dec_acc.hello(&st, buf, sizeof buf);
	T_CHECK(n == sizeof want && memcmp(buf, want, n) == 0);

	m = registration_result(0x01020304, 1, "");
	dec(&st, &m, &f);
	n = dec_acc.bye(&st, buf, sizeof buf);
	T_CHECK(n == 5 && buf[0] == 9 && buf[1] == 4 && buf[2] == 3 && buf[3] == 2 && buf[4] == 1);
	T_CHECK(dec_acc.bye(&st, buf, 4) == 0);
}

static void test_registration_flow(void)
{
	static const uint16_t cars[] = { 0, 5, 7 };
	static struct dec_state st;
	uint8_t buf[64];
	struct msg m;
	struct pw_frame f;
	uint32_t gen;

	dec_reset(&st);
	T_CHECK(dec_acc.hello(&st, buf, sizeof buf) > 0);
	T_CHECK(!dec_acc_registered(&st) && dec_acc_error(&st) == NULL);

	m = registration_result(42, 1, "");
	T_CHECK(dec(&st, &m, &f) == DEC_OK);
	T_CHECK(dec_acc_registered(&st) && dec_acc_error(&st) == NULL);
	T_CHECK(st.out_len == 5 && st.out[0] == 10 && st.out[1] == 42 && st.out[2] == 0 &&
		st.out[3] == 0 && st.out[4] == 0);
	T_CHECK(strcmp(st.meta.game, "assetto_corsa_competizione") == 0 && st.meta.format == 4);
	st.out_len = 0;

	m = entry_list(42, 3, cars);
	T_CHECK(dec(&st, &m, &f) == DEC_OK);
	T_CHECK(st.out_len == 5 && st.out[0] == 11 && st.out[1] == 42);
	st.out_len = 0;

	gen = st.meta_gen;
	m = track_data(42, "Circuit de Spa-Francorchamps", 7004);
	T_CHECK(dec(&st, &m, &f) == DEC_OK);
	T_CHECK(strcmp(st.meta.track, "Circuit de Spa-Francorchamps") == 0);
	T_NEAR(st.meta.track_len_m, 7004, 0);
	T_CHECK(st.meta_gen != gen && st.out_len == 0);

	/* a later entry list (a car joined) asks for nothing more */
	m = entry_list(42, 2, cars);
	T_CHECK(dec(&st, &m, &f) == DEC_OK && st.out_len == 0);
	/* re-registering starts over */
	dec_acc.hello(&st, buf, sizeof buf);
	T_CHECK(!dec_acc_registered(&st));
	m = registration_result(43, 1, "");
	dec(&st, &m, &f);
	T_CHECK(st.out_len == 5 && st.out[0] == 10 && st.out[1] == 43);
}

static void test_registration_refused(void)
{
	static struct dec_state st;
	struct msg m;
	struct pw_frame f;

	dec_reset(&st);
	m = registration_result(-1, 0, "Wrong password");
	T_CHECK(dec(&st, &m, &f) == DEC_OK);
	T_CHECK(st.out_len == 0 && !dec_acc_registered(&st));
	T_CHECK(dec_acc_error(&st) && strcmp(dec_acc_error(&st), "Wrong password") == 0);

	m = registration_result(-1, 0, "");
	dec(&st, &m, &f);
	T_CHECK(dec_acc_error(&st) && strcmp(dec_acc_error(&st), "registration refused") == 0);

	/* an accepted registration clears the error */
	m = registration_result(3, 1, "");
	dec(&st, &m, &f);
	T_CHECK(dec_acc_error(&st) == NULL && dec_acc_registered(&st));
}

static void test_focused_car_frame(void)
{
	static const int32_t splits[2] = { 30123, 15000 };
	static struct dec_state st;
	struct msg m;
	struct pw_frame f;

	setup(&st);
	T_CHECK(strcmp(st.meta.session_type, "race") == 0);
	T_CHECK(st.meta.game_session == 1 + (1u << 16 | 2));

	/* another car: consumed, no frame */
	memset(&f, 0x5a, sizeof f);
	m = car_update(0, 0, NULL, 0, 1);
	T_CHECK(dec(&st, &m, &f) == DEC_OK);

	m = car_update(5, 2, splits, 1, 1);
	T_CHECK(dec(&st, &m, &f) == DEC_FRAME);
	T_CHECK(f.version == FRAME_VERSION && f.game == PW_GAME_ACC && f.feed == PW_FEED_ACC);
	T_CHECK(f.seq == 0 && f.t_ns == 0);
	T_CHECK(f.gear == 3 && (f.present & FRAME_P_GEAR));
	T_NEAR(f.speed_kmh, 187, 0);
	T_NEAR(f.pos_m[0], -512.5, 0);
	T_NEAR(f.pos_m[1], 0, 0);
	T_NEAR(f.pos_m[2], 1024.25, 0);
	T_NEAR(f.yaw_rad, 1.5, 0);
	T_CHECK(f.position == 4 && (f.present & FRAME_P_POSITION));
	T_NEAR(f.spline, 0.25, 0);
	T_CHECK(f.lap == 6);
	T_CHECK(f.lap_time_ms == 45678 && f.last_lap_ms == -1 && f.best_lap_ms == 101234);
	T_CHECK(f.sector_ms[0] == 30123 && f.sector_ms[1] == 15000 && f.sector_ms[2] == -1);
	T_CHECK((f.flags & FRAME_FLAG_LAP_INVALID) && !(f.flags & FRAME_FLAG_IN_PIT));
	T_CHECK(!(f.flags & FRAME_FLAG_PAUSED));
	T_CHECK(f.flags_known == (FRAME_FLAG_IN_PIT | FRAME_FLAG_LAP_INVALID | FRAME_FLAG_PAUSED));
	T_NEAR(f.track_len_m, 7004, 0);
	T_NEAR(f.lap_dist_m, 1751, 1e-3);
	T_NEAR(f.game_time_s, 123.456, 1e-6);
	T_CHECK(f.game_session == 1 + (1u << 16 | 2));
	T_CHECK(f.present == (FRAME_P_GAME_TIME | FRAME_P_GEAR | FRAME_P_SPEED | FRAME_P_POS |
			      FRAME_P_YAW | FRAME_P_POSITION | FRAME_P_SPLINE | FRAME_P_LAP |
			      FRAME_P_LAP_TIME | FRAME_P_LAST_LAP | FRAME_P_BEST_LAP |
			      FRAME_P_SECTOR_TIMES | FRAME_P_TRACK_LEN | FRAME_P_LAP_DIST));
	T_CHECK(f.throttle == 0 && f.rpm == 0 && f.tyre_temp_c[0] == 0);

	/* pit lane, pit entry, pit exit are "in pit"; a valid lap clears the flag */
	for (unsigned loc = 0; loc <= 4; loc++) {
		m = car_update(5, 0, NULL, 0, loc);
		T_CHECK(dec(&st, &m, &f) == DEC_FRAME);
		T_CHECK(!!(f.flags & FRAME_FLAG_IN_PIT) == (loc >= 2));
		T_CHECK(!(f.flags & FRAME_FLAG_LAP_INVALID));
		T_CHECK(f.sector_ms[0] == -1 && f.sector_ms[1] == -1 && f.sector_ms[2] == -1);
	}

	/* focus moves to car 0 */
	m = realtime(1, 2, 10, 124000.0f, 0, 0);
	dec(&st, &m, &f);
	m = car_update(5, 0, NULL, 0, 1);
	T_CHECK(dec(&st, &m, &f) == DEC_OK);
	m = car_update(0, 0, NULL, 0, 1);
	T_CHECK(dec(&st, &m, &f) == DEC_FRAME);
}

static void test_no_frame_before_focus_and_track(void)
{
	static struct dec_state st;
	struct msg m;
	struct pw_frame f;

	dec_reset(&st);
	m = car_update(0, 0, NULL, 0, 1);
	T_CHECK(dec(&st, &m, &f) == DEC_OK);
	m = realtime(0, 0, 0, 1000.0f, 0, 0);
	T_CHECK(dec(&st, &m, &f) == DEC_OK);
	T_CHECK(strcmp(st.meta.session_type, "practice") == 0);
	m = car_update(0, 0, NULL, 0, 1);
	T_CHECK(dec(&st, &m, &f) == DEC_FRAME);
	T_CHECK(!(f.present & (FRAME_P_TRACK_LEN | FRAME_P_LAP_DIST)));

	/* gear bytes: 0 is no gear, 1 reverse, 2 neutral */
	m = car_update(0, 0, NULL, 0, 1);
	m.b[6] = 0;
	dec(&st, &m, &f);
	T_CHECK(!(f.present & FRAME_P_GEAR));
	m.b[6] = 1;
	dec(&st, &m, &f);
	T_CHECK(f.gear == -1 && (f.present & FRAME_P_GEAR));
	m.b[6] = 2;
	dec(&st, &m, &f);
	T_CHECK(f.gear == 0);
	m.b[6] = 200;
	dec(&st, &m, &f);
	T_CHECK(!(f.present & FRAME_P_GEAR));
}

static void test_replay_and_sessions(void)
{
	static struct dec_state st;
	struct msg m;
	struct pw_frame f;
	uint64_t s1;

	setup(&st);
	m = car_update(5, 0, NULL, 0, 1);
	dec(&st, &m, &f);
	s1 = f.game_session;

	m = realtime(1, 2, 14, 130000.0f, 5, 1);
	T_CHECK(dec(&st, &m, &f) == DEC_OK);
	T_CHECK(strcmp(st.meta.session_type, "replay") == 0);
	m = car_update(5, 0, NULL, 0, 1);
	T_CHECK(dec(&st, &m, &f) == DEC_FRAME);
	T_CHECK((f.flags & FRAME_FLAG_PAUSED) && f.game_session == s1);
	T_NEAR(f.game_time_s, 130.0, 1e-9);

	/* the replay flag without its two floats is short */
	m = realtime(1, 2, 10, 130000.0f, 5, 0);
	m.b[m.n - 25 - 5 - 4 - 1] = 1; /* best lap: 13 + 3 splits */
	T_CHECK(dec(&st, &m, &f) == DEC_ESIZE);

	/* next session */
	m = realtime(1, 3, 4, 0.0f, 5, 0);
	dec(&st, &m, &f);
	m = car_update(5, 0, NULL, 0, 1);
	dec(&st, &m, &f);
	T_CHECK(f.game_session == 1 + (1u << 16 | 3) && f.game_session != s1);
	T_CHECK(!(f.flags & FRAME_FLAG_PAUSED));
	T_CHECK(st.meta.game_session == f.game_session);
	T_CHECK(strcmp(st.meta.session_type, "qualifying") == 0);
	/* unknown session type */
	m = realtime(1, 3, 99, 0.0f, 5, 0);
	dec(&st, &m, &f);
	T_CHECK(strcmp(st.meta.session_type, "unknown") == 0);
}

static void test_entry_list_car_meta(void)
{
	static struct dec_state st;
	struct msg m;
	struct pw_frame f;

	setup(&st);
	T_CHECK(st.meta.car[0] == '\0' && st.meta.driver[0] == '\0');
	m = entry_list_car(5, 34, "Manthey Racing", 2, 1);
	T_CHECK(dec(&st, &m, &f) == DEC_OK);
	T_CHECK(strcmp(st.meta.car, "Porsche 992 GT3 R") == 0);
	T_CHECK(strcmp(st.meta.car_class, "GT3") == 0);
	T_CHECK(strcmp(st.meta.driver, "Ana G\xc3\xb3mez") == 0);

	/* another car's entry does not touch the focused car's metadata */
	m = entry_list_car(0, 200, "Privateer", 0, 0);
	T_CHECK(dec(&st, &m, &f) == DEC_OK);
	T_CHECK(strcmp(st.meta.car, "Porsche 992 GT3 R") == 0);

	/* focus on car 0: unknown model id, no drivers -> team name */
	m = realtime(1, 2, 10, 0.0f, 0, 0);
	dec(&st, &m, &f);
	T_CHECK(strcmp(st.meta.car, "car_model:200") == 0);
	T_CHECK(st.meta.car_class[0] == '\0');
	T_CHECK(strcmp(st.meta.driver, "Privateer") == 0);

	/* focus on a car without an entry: cleared, not stale */
	m = realtime(1, 2, 10, 0.0f, 9, 0);
	dec(&st, &m, &f);
	T_CHECK(st.meta.car[0] == '\0' && st.meta.driver[0] == '\0');

	/* GT4 and a single driver */
	m = entry_list_car(9, 61, "Team GT4", 1, 0);
	dec(&st, &m, &f);
	T_CHECK(strcmp(st.meta.car, "Porsche 718 Cayman GT4") == 0);
	T_CHECK(strcmp(st.meta.car_class, "GT4") == 0);
	T_CHECK(strcmp(st.meta.driver, "Max Mustermann") == 0);

	/* a new entry list keeps known cars that are still listed, drops the rest */
	{
		static const uint16_t still[] = { 9, 12 }, gone[] = { 12 };
		m = entry_list(42, 2, still);
		T_CHECK(dec(&st, &m, &f) == DEC_OK);
		T_CHECK(strcmp(st.meta.car, "Porsche 718 Cayman GT4") == 0);
		m = entry_list(42, 1, gone);
		T_CHECK(dec(&st, &m, &f) == DEC_OK);
		T_CHECK(st.meta.car[0] == '\0' && st.meta.driver[0] == '\0');
	}

	/* a full grid: every car of a 120-car list is remembered */
	{
		uint16_t grid[120];
		for (int i = 0; i < 120; i++)
			grid[i] = (uint16_t)(1000 + i);
		m = entry_list(42, 120, grid);
		T_CHECK(dec(&st, &m, &f) == DEC_OK);
		for (int i = 0; i < 120; i++) {
			m = entry_list_car(grid[i], (unsigned)(i % 37), "Team", 1, 0);
			dec(&st, &m, &f);
		}
		m = realtime(1, 2, 10, 0.0f, 1119, 0);
		dec(&st, &m, &f);
		T_CHECK(strcmp(st.meta.car, acc_car_model_name(119 % 37)) == 0);
		T_CHECK(strcmp(st.meta.driver, "Max Mustermann") == 0);
	}

	/* broadcasting events are consumed */
	m = broadcasting_event();
	T_CHECK(dec(&st, &m, &f) == DEC_OK);
}

static void test_bad_strings(void)
{
	static struct dec_state st;
	struct msg m;
	struct pw_frame f;

	setup(&st);
	/* track name length runs past the end */
	m = track_data(42, "Monza", 5793);
	m.b[5] = 0xff;
	m.b[6] = 0xff;
	T_CHECK(dec(&st, &m, &f) == DEC_ESIZE);
	m.b[5] = (uint8_t)(m.n - 7 + 1);
	m.b[6] = 0;
	T_CHECK(dec(&st, &m, &f) == DEC_ESIZE);
	T_CHECK(strcmp(st.meta.track, "Spa") == 0);

	/* a camera name length in REALTIME_UPDATE one byte too long */
	m = realtime(1, 2, 10, 0.0f, 5, 0);
	m.b[21 + 8] = 8; /* "Cockpit" is 7 */
	T_CHECK(dec(&st, &m, &f) == DEC_ESIZE);

	/* invalid UTF-8 becomes '?', valid multi-byte survives */
	m = track_data(42,
		       "ab\xff"
		       "c\xc0\x80"
		       "d\xe2\x82"
		       "e\xe2\x82\xac",
		       5000);
	T_CHECK(dec(&st, &m, &f) == DEC_OK);
	T_CHECKF(strcmp(st.meta.track, "ab?c??d??e\xe2\x82\xac") == 0, "%s", st.meta.track);

	/* an over-long name is cut on a character boundary */
	{
		char name[200] = "";
		for (int i = 0; i < 40; i++)
			T_STRCAT(name, "\xc3\xa9");
		m = track_data(42, name, 5000);
		T_CHECK(dec(&st, &m, &f) == DEC_OK);
		T_CHECK(strlen(st.meta.track) == 62);
	}
}

static void test_lapinfo_split_count(void)
{
	static const int32_t five[5] = { 1000, 2000, 3000, 4000, 5000 };
	static const int32_t none[3] = { INT32_MAX, 20000, INT32_MAX };
	static struct dec_state st;
	struct msg m;
	struct pw_frame f;

	setup(&st);
	/* five splits, well formed: the first three are sector times */
	m = car_update(5, 5, five, 0, 1);
	T_CHECK(dec(&st, &m, &f) == DEC_FRAME);
	T_CHECK(f.sector_ms[0] == 1000 && f.sector_ms[1] == 2000 && f.sector_ms[2] == 3000);
	/* INT32_MAX splits are "none" */
	m = car_update(5, 3, none, 0, 1);
	T_CHECK(dec(&st, &m, &f) == DEC_FRAME);
	T_CHECK(f.sector_ms[0] == -1 && f.sector_ms[1] == 20000 && f.sector_ms[2] == -1);
	/* split count 255 with no splits behind it */
	m = car_update(5, 0, NULL, 0, 1);
	m.b[m.n - 5] = 255;
	T_CHECK(dec(&st, &m, &f) == DEC_ESIZE);
	/* split count one more than present */
	m = car_update(5, 2, five, 0, 1);
	m.b[m.n - 4 - 8 - 1] = 3;
	T_CHECK(dec(&st, &m, &f) == DEC_ESIZE);
	/* split count one less: bytes left over */
	m = car_update(5, 2, five, 0, 1);
	m.b[m.n - 4 - 8 - 1] = 1;
	T_CHECK(dec(&st, &m, &f) == DEC_ESIZE);
	/* best-lap LapInfo in REALTIME_UPDATE with a huge count */
	m = realtime(1, 2, 10, 0.0f, 5, 0);
	m.b[m.n - 4 - 12 - 1] = 200;
	T_CHECK(dec(&st, &m, &f) == DEC_ESIZE);
}

static void test_truncations(void)
{
	static const int32_t splits[3] = { 1, 2, 3 };
	static const uint16_t cars[] = { 1, 2, 3 };
	static struct dec_state st;
	struct msg kinds[9];
	struct pw_frame f;
	int nk = 0;

	kinds[nk++] = registration_result(42, 1, "ok");
	kinds[nk++] = realtime(1, 2, 10, 1.0f, 5, 0);
	kinds[nk++] = realtime(1, 2, 10, 1.0f, 5, 1);
	kinds[nk++] = car_update(5, 3, splits, 1, 2);
	kinds[nk++] = entry_list(42, 3, cars);
	kinds[nk++] = track_data(42, "Spa", 7004);
	kinds[nk++] = entry_list_car(5, 34, "Team", 2, 0);
	kinds[nk++] = broadcasting_event();
	kinds[nk++] = registration_result(42, 0, "refused");
	for (int k = 0; k < nk; k++) {
		struct msg *m = &kinds[k];

		setup(&st);
		for (size_t len = 0; len < m->n; len++) {
			uint8_t *h = malloc(len ? len : 1);
			memcpy(h, m->b, len);
			int rc = dec_acc.decode(&st, h, len, &f);
			T_CHECKF(rc == DEC_ESIZE, "kind %d len %zu/%zu rc %d", m->b[0], len, m->n,
				 rc);
			free(h);
		}
		/* nothing was applied from the truncated copies */
		T_CHECK(st.out_len == 0 && dec_acc_error(&st) == NULL);
		T_CHECK(strcmp(st.meta.track, "Spa") == 0 && st.meta.car[0] == '\0');
		/* one byte too many */
		m->b[m->n] = 0;
		T_CHECK(dec_acc.decode(&st, m->b, m->n + 1, &f) == DEC_ESIZE);
		/* the full message is fine */
		T_CHECK(dec(&st, m, &f) >= DEC_OK);
	}
	T_CHECK(dec_acc.decode(&st, NULL, 0, &f) == DEC_ESIZE);
}

static void test_unknown_types(void)
{
	static struct dec_state st;
	struct pw_frame f;
	uint8_t b[64];

	dec_reset(&st);
	memset(b, 0, sizeof b);
	for (unsigned t = 0; t < 256; t++) {
		int rc;
		b[0] = (uint8_t)t;
		rc = dec_acc.decode(&st, b, sizeof b, &f);
		if (t >= 1 && t <= 7)
			T_CHECK(rc == DEC_ESIZE || rc == DEC_OK);
		else
			T_CHECK(rc == DEC_EFORMAT);
	}
}

static void test_garbage(void)
{
	static struct dec_state st;
	uint32_t x = 777;
	uint8_t b[600];
	struct pw_frame f;
	int frames = 0;

	setup(&st);
	for (int i = 0; i < 20000; i++) {
		size_t len;
		int rc;
		x = x * 1664525u + 1013904223u;
		len = (x >> 8) % sizeof b;
		for (size_t j = 0; j < len; j++) {
			x = x * 1664525u + 1013904223u;
			b[j] = (uint8_t)(x >> 24);
		}
		if (len) {
			b[0] = (uint8_t)(1 + i % 7);
			if (b[0] == 3 && len > 2)
				b[1] = 5, b[2] = 0; /* the focused car */
		}
		rc = dec_acc.decode(&st, b, len, &f);
		T_CHECK(rc >= DEC_EFORMAT && rc <= DEC_FRAME);
		if (rc == DEC_FRAME) {
			frames++;
			T_CHECK(all_finite(&f) && f.version == FRAME_VERSION);
		}
	}
	/* mutations of a valid car update mostly still parse: exercise the frame path */
	for (int i = 0; i < 5000; i++) {
		struct msg m = car_update(5, 0, NULL, 0, 1);
		x = x * 1664525u + 1013904223u;
		m.b[7 + (x >> 8) % 31] = (uint8_t)(x >> 24);
		if (dec(&st, &m, &f) == DEC_FRAME) {
			frames++;
			T_CHECK(all_finite(&f));
		}
	}
	T_CHECK(frames > 1000);
}

/* ---- encoder and server helpers ---- */

struct sink {
	struct msg m[4];
	int n;
};

static void collect(void *ctx, const uint8_t *buf, size_t len)
{
	struct sink *s = ctx;

	if (s->n < 4 && len < sizeof s->m[0].b) {
		memcpy(s->m[s->n].b, buf, len);
		s->m[s->n++].n = len;
	}
}

static void test_server_helpers(void)
{
	static struct dec_state st;
	struct acc_client_req req;
	struct pw_meta meta;
	struct pw_frame f;
	struct msg m;
	uint8_t buf[512];
	size_t n;

	memset(&meta, 0, sizeof meta);
	snprintf(meta.car, sizeof meta.car, "Ferrari 296 GT3");
	snprintf(meta.driver, sizeof meta.driver, "Jean Eric Vergne");
	snprintf(meta.track, sizeof meta.track, "Monza");
	meta.track_len_m = 5793.4f;

	dec_reset(&st);
	dec_acc_set_password(&st, "letmein");
	n = dec_acc.hello(&st, buf, sizeof buf);
	T_CHECK(acc_parse_client(buf, n, &req) == ACC_CLIENT_REGISTER && req.type == 1);
	T_CHECK(req.protocol_version == 4 && req.update_interval_ms == 16);
	T_CHECK(strcmp(req.display_name, "pitwall") == 0 && strcmp(req.password, "letmein") == 0);
	T_CHECK(acc_parse_client(buf, n - 1, &req) == -1 && req.type == -1);

	n = acc_encode_registration_result(77, 1, NULL, buf, sizeof buf);
	T_CHECK(n == 9 && dec_acc.decode(&st, buf, n, &f) == DEC_OK);
	T_CHECK(acc_parse_client(st.out, st.out_len, &req) == ACC_CLIENT_REQUEST_ENTRY_LIST);
	T_CHECK(req.connection_id == 77);
	T_CHECK(acc_encode_registration_result(77, 1, NULL, buf, 8) == 0);

	n = acc_encode_entry_list(77, buf, sizeof buf);
	T_CHECK(n == 9 && dec_acc.decode(&st, buf, n, &f) == DEC_OK);
	T_CHECK(acc_parse_client(st.out, st.out_len, &req) == ACC_CLIENT_REQUEST_TRACK_DATA);
	T_CHECK(req.connection_id == 77);

	n = acc_encode_track_data(77, &meta, buf, sizeof buf);
	T_CHECK(n > 0 && dec_acc.decode(&st, buf, n, &f) == DEC_OK);
	T_CHECK(strcmp(st.meta.track, "Monza") == 0);
	T_NEAR(st.meta.track_len_m, 5793, 0);

	m = realtime(0, 0, 10, 0.0f, 0, 0);
	dec(&st, &m, &f);
	n = acc_encode_entry_list_car(&meta, buf, sizeof buf);
	T_CHECK(n > 0 && dec_acc.decode(&st, buf, n, &f) == DEC_OK);
	T_CHECK(strcmp(st.meta.car, "Ferrari 296 GT3") == 0);
	T_CHECK(strcmp(st.meta.driver, "Jean Eric Vergne") == 0);
	snprintf(meta.car, sizeof meta.car, "car_model:99");
	n = acc_encode_entry_list_car(&meta, buf, sizeof buf);
	dec_acc.decode(&st, buf, n, &f);
	T_CHECK(strcmp(st.meta.car, "car_model:99") == 0);

	n = dec_acc.bye(&st, buf, sizeof buf);
	T_CHECK(acc_parse_client(buf, n, &req) == ACC_CLIENT_UNREGISTER && req.connection_id == 77);
	T_CHECK(acc_parse_client(buf, 1, &req) == ACC_CLIENT_UNREGISTER && req.connection_id == 0);
	T_CHECK(acc_parse_client(buf, 3, &req) == -1);
	buf[0] = 50;
	T_CHECK(acc_parse_client(buf, 5, &req) == -1);
	T_CHECK(acc_parse_client(buf, 0, &req) == -1);
}

static void distinctive(struct pw_frame *f, struct pw_meta *m)
{
	frame_init(f, PW_GAME_ACC, PW_FEED_ACC);
	memset(m, 0, sizeof *m);
	snprintf(m->session_type, sizeof m->session_type, "qualifying");
	snprintf(m->track, sizeof m->track, "Brands Hatch");
	m->track_len_m = 3908;
	f->game_session = 1 + (3u << 16 | 7);
	f->game_time_s = 1234.5;
	f->gear = 4;
	f->speed_kmh = 213;
	f->pos_m[0] = 321.5f;
	f->pos_m[2] = -77.25f;
	f->yaw_rad = -2.75f;
	f->position = 11;
	f->spline = 0.625f;
	f->lap = 17;
	f->lap_time_ms = 61234;
	f->last_lap_ms = 84567;
	f->best_lap_ms = 83999;
	f->sector_ms[0] = 29876;
	f->sector_ms[1] = 31358;
	f->sector_ms[2] = -1;
	f->flags = FRAME_FLAG_LAP_INVALID | FRAME_FLAG_IN_PIT;
	f->flags_known = FRAME_FLAG_IN_PIT | FRAME_FLAG_LAP_INVALID | FRAME_FLAG_PAUSED;
	f->present = FRAME_P_GAME_TIME | FRAME_P_GEAR | FRAME_P_SPEED | FRAME_P_POS | FRAME_P_YAW |
		     FRAME_P_POSITION | FRAME_P_SPLINE | FRAME_P_LAP | FRAME_P_LAP_TIME |
		     FRAME_P_LAST_LAP | FRAME_P_BEST_LAP | FRAME_P_SECTOR_TIMES;
}

static void test_encoder_roundtrip(void)
{
	static struct dec_state st;
	struct enc_state es;
	struct pw_frame f, out;
	struct pw_meta m;
	struct sink sink;
	uint8_t buf[512];
	size_t n;

	T_CHECK(strcmp(enc_acc.feed, "acc") == 0 && strcmp(enc_acc.format, "broadcast") == 0);
	distinctive(&f, &m);
	for (int pass = 0; pass < 3; pass++) {
		dec_reset(&st);
		if (pass > 0) {
			n = acc_encode_track_data(1, &m, buf, sizeof buf);
			dec_acc.decode(&st, buf, n, &out);
		}
		if (pass == 2) {
			f.flags = FRAME_FLAG_PAUSED;
			f.gear = -1;
			f.sector_ms[0] = f.sector_ms[1] = -1;
			f.last_lap_ms = -1;
			f.present &= ~FRAME_P_POSITION;
			f.position = 0;
		}
		memset(&es, 0, sizeof es);
		memset(&sink, 0, sizeof sink);
		enc_acc.encode(&es, &f, &m, collect, &sink);
		T_CHECK(sink.n == 2 && es.tick == 1);
		T_CHECK(sink.m[0].b[0] == 2 && sink.m[1].b[0] == 3);
		T_CHECK(dec(&st, &sink.m[0], &out) == DEC_OK);
		T_CHECK(strcmp(st.meta.session_type, "qualifying") == 0);
		T_CHECK(dec(&st, &sink.m[1], &out) == DEC_FRAME);

		T_CHECK(out.game_session == f.game_session);
		T_NEAR(out.game_time_s, f.game_time_s, 1e-9);
		T_CHECK(out.gear == f.gear && out.lap == f.lap && out.position == f.position);
		T_NEAR(out.speed_kmh, f.speed_kmh, 0);
		T_NEAR(out.pos_m[0], f.pos_m[0], 0);
		T_NEAR(out.pos_m[2], f.pos_m[2], 0);
		T_NEAR(out.yaw_rad, f.yaw_rad, 0);
		T_NEAR(out.spline, f.spline, 0);
		T_CHECK(out.lap_time_ms == f.lap_time_ms && out.last_lap_ms == f.last_lap_ms &&
			out.best_lap_ms == f.best_lap_ms);
		for (int i = 0; i < 3; i++)
			T_CHECK(out.sector_ms[i] == f.sector_ms[i]);
		T_CHECK(out.flags == f.flags && out.flags_known == f.flags_known);
		if (pass == 0) {
			T_CHECK(out.present == f.present);
		} else {
			T_CHECK(out.present == (f.present | FRAME_P_TRACK_LEN | FRAME_P_LAP_DIST));
			T_NEAR(out.track_len_m, 3908, 0);
			T_NEAR(out.lap_dist_m, 0.625 * 3908, 1e-3);
		}
	}
	/* speed is whole km/h on the wire */
	f.speed_kmh = 99.6f;
	memset(&sink, 0, sizeof sink);
	enc_acc.encode(&es, &f, &m, collect, &sink);
	dec(&st, &sink.m[0], &out);
	dec(&st, &sink.m[1], &out);
	T_NEAR(out.speed_kmh, 100, 0);
}

int main(void)
{
	T_RUN(test_decoder_entry);
	T_RUN(test_hello_and_bye);
	T_RUN(test_registration_flow);
	T_RUN(test_registration_refused);
	T_RUN(test_focused_car_frame);
	T_RUN(test_no_frame_before_focus_and_track);
	T_RUN(test_replay_and_sessions);
	T_RUN(test_entry_list_car_meta);
	T_RUN(test_bad_strings);
	T_RUN(test_lapinfo_split_count);
	T_RUN(test_truncations);
	T_RUN(test_unknown_types);
	T_RUN(test_garbage);
	T_RUN(test_server_helpers);
	T_RUN(test_encoder_roundtrip);
	return T_DONE();
}
