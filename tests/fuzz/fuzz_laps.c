/*
 * fuzz_laps.c - fuzz target for the lap tracker (common/laps.c).
 *
 * The input is a sequence of 32-byte records, one frame each (a short tail
 * is zero-padded), all fed to one tracker:
 *    0 u8  ops: 1 paused, 2 in pit, 4 lap invalid, 8 the previous frame's
 *          content again under a new seq, 16 next game session, 32 feed
 *          NULL (end of feed) after it, 64 drain with max 1 (if the call
 *          before drained with LAPS_MAX_EVENTS), 128 wrong frame version
 *    1 u8  channels: 1 lap, 2 lap clock, 4 last lap, 8 spline, 16 lap distance
 *          and track length, 32 game clock, 64 splits, 128 speed
 *    2 u16 lap counter      4 s32 lap_time_ms      8 s32 last_lap_ms
 *   12 f32 spline          16 f32 lap_dist_m      20 u16 receive step, ms
 *   22 s16 game clock step, ms (negative: rewinds)
 *   24 s16 S1 / 10 ms      26 s16 S2 / 10 ms      28 f32 speed_kmh
 * abort() on a broken invariant: event counts within max; known kinds and
 * reasons; valid exactly when the reason is none; a best lap is valid; lap
 * numbers >= 1; times and splits >= -1; first frame <= last frame; speeds
 * unknown together or ordered; an invalidation names the latest lap
 * completed in the session, which was reported valid, and only once; a
 * session change changes the session; JSON lengths with snprintf semantics.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/bytes.h"
#include "common/laps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REC 32

enum op {
	OP_PAUSED = 1,
	OP_IN_PIT = 2,
	OP_INVALID = 4,
	OP_REPEAT = 8,
	OP_SESSION = 16,
	OP_END = 32,
	OP_DRAIN_ONE = 64,
	OP_VERSION = 128,
};

struct check {
	uint64_t session;
	bool started;
	bool have_latest, latest_open; /* latest completed lap, still valid */
	uint32_t latest;
};

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void check_json(const struct lap_event *ev)
{
	char buf[2048], small[7];
	size_t n = lap_event_to_json(ev, buf, sizeof buf);

	check(n < sizeof buf && n == strlen(buf) && buf[0] == '{' && buf[n - 1] == '}');
	check(lap_event_to_json(ev, small, sizeof small) == n && strlen(small) == sizeof small - 1);
	if (ev->kind != LAP_SESSION_CHANGED)
		check(lap_to_json(&ev->lap, NULL, 0) == lap_to_json(&ev->lap, buf, sizeof buf));
}

static void check_lap(const struct lap *lap)
{
	check(lap->number >= 1);
	check(lap->invalid_reason < LAP_REASON_COUNT);
	check(lap->valid == (lap->invalid_reason == LAP_REASON_NONE));
	check(!lap->personal_best || (lap->valid && lap->time_ms > 0));
	check(lap->time_ms >= -1 && lap->measured_ms >= -1);
	for (int i = 0; i < 3; i++)
		check(lap->sector_ms[i] >= -1);
	check(lap->start_seq <= lap->end_seq && lap->start_t_ns <= lap->end_t_ns);
	check(lap->frames >= 1);
	check((lap->min_speed_kmh == -1.0f) == (lap->max_speed_kmh == -1.0f));
	check(lap->min_speed_kmh == -1.0f ||
	      (lap->min_speed_kmh >= 0.0f && lap->min_speed_kmh <= lap->max_speed_kmh));
}

static void check_events(struct check *c, const struct lap_event *ev, int n, int max)
{
	check(n >= 0 && n <= max);
	for (int i = 0; i < n; i++) {
		const struct lap_event *e = &ev[i];
		check_json(e);
		switch (e->kind) {
		case LAP_COMPLETED:
			check_lap(&e->lap);
			c->have_latest = true;
			c->latest = e->lap.number;
			c->latest_open = e->lap.valid;
			break;
		case LAP_INVALIDATED:
			check_lap(&e->lap);
			check(!e->lap.valid && c->have_latest && c->latest_open);
			check(e->lap.number == c->latest);
			c->latest_open = false;
			break;
		case LAP_SESSION_CHANGED:
			check(e->from_session != e->to_session && e->from_session == c->session);
			c->session = e->to_session;
			c->have_latest = false;
			break;
		default:
			abort();
		}
	}
}

static void build(struct pw_frame *f, const uint8_t *r, uint64_t seq, int64_t t_ns, double gt,
		  uint64_t session)
{
	static const uint64_t bits[8] = {
		FRAME_P_LAP,
		FRAME_P_LAP_TIME,
		FRAME_P_LAST_LAP,
		FRAME_P_SPLINE,
		FRAME_P_LAP_DIST | FRAME_P_TRACK_LEN,
		FRAME_P_GAME_TIME,
		FRAME_P_SECTOR_TIMES,
		FRAME_P_SPEED,
	};
	uint8_t ops = rd_u8(r, REC, 0), ch = rd_u8(r, REC, 1);

	frame_init(f, PW_GAME_F1_24, PW_FEED_F1);
	for (int i = 0; i < 8; i++)
		if (ch & (1u << i))
			f->present |= bits[i];
	f->seq = seq;
	f->t_ns = t_ns;
	f->game_time_s = gt;
	f->game_session = session;
	f->flags_known = FRAME_FLAG_PAUSED | FRAME_FLAG_IN_PIT | FRAME_FLAG_LAP_INVALID;
	f->flags = (ops & OP_PAUSED ? FRAME_FLAG_PAUSED : 0) |
		   (ops & OP_IN_PIT ? FRAME_FLAG_IN_PIT : 0) |
		   (ops & OP_INVALID ? FRAME_FLAG_LAP_INVALID : 0);
	f->lap = rd_u16(r, REC, 2);
	f->lap_time_ms = rd_s32(r, REC, 4);
	f->last_lap_ms = rd_s32(r, REC, 8);
	f->spline = rd_f32(r, REC, 12);
	f->lap_dist_m = rd_f32(r, REC, 16);
	f->track_len_m = 5000.0f;
	f->sector_ms[0] = rd_s16(r, REC, 24) * 10;
	f->sector_ms[1] = rd_s16(r, REC, 26) * 10;
	f->sector_ms[2] = -1;
	f->speed_kmh = rd_f32(r, REC, 28);
	if (ops & OP_VERSION)
		f->version = FRAME_VERSION + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct laps *l = laps_new();
	struct lap_event ev[LAPS_MAX_EVENTS];
	struct check c = { 0 };
	struct pw_frame f, prev;
	struct lap cur;
	uint64_t seq = 0, session = 1;
	int n;
	int64_t t_ns = 1700000000000000000LL;
	double gt = 1000.0;
	bool have_prev = false, short_drain = false;

	if (!l)
		return 0;
	for (size_t o = 0; o < size; o += REC) {
		uint8_t r[REC] = { 0 };
		uint8_t ops;
		int max;

		memcpy(r, data + o, size - o < REC ? size - o : REC);
		ops = r[0];
		if (ops & OP_SESSION)
			session++;
		t_ns += rd_u16(r, REC, 20) * 1000000LL;
		gt += rd_s16(r, REC, 22) / 1000.0;
		if ((ops & OP_REPEAT) && have_prev) {
			f = prev; /* the same content under a new seq */
			f.seq = ++seq;
			f.t_ns = t_ns;
		} else {
			build(&f, r, ++seq, t_ns, gt, session);
			if (!(ops & OP_VERSION)) {
				prev = f;
				have_prev = true;
			}
		}
		/* max 1 only right after a full drain: the queue is bounded and a
		 * caller that never drains loses events by design */
		max = (ops & OP_DRAIN_ONE) && !short_drain ? 1 : LAPS_MAX_EVENTS;
		short_drain = max == 1;
		if (!c.started && f.version == FRAME_VERSION) {
			c.started = true; /* the tracker's first session: no event */
			c.session = f.game_session;
		}
		check_events(&c, ev, laps_feed(l, &f, ev, max), max);
		if (ops & OP_END)
			check_events(&c, ev, laps_feed(l, NULL, ev, LAPS_MAX_EVENTS),
				     LAPS_MAX_EVENTS);
		if (laps_current(l, &cur)) {
			check(cur.number >= 1 && cur.frames >= 1 &&
			      cur.invalid_reason < LAP_REASON_COUNT);
			check(cur.valid == (cur.invalid_reason == LAP_REASON_NONE));
		}
	}
	while ((n = laps_feed(l, NULL, ev, LAPS_MAX_EVENTS)) > 0)
		check_events(&c, ev, n, LAPS_MAX_EVENTS);
	laps_free(l);
	return 0;
}
