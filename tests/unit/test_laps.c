/*
 * test_laps.c - the per-feed lap tracker (common/laps.c).
 *
 * Real data, decoded by the real decoders:
 *   AC Monza (tests/data/ac_remote): 8641 RTCarInfo. The car sits in the pit
 *     box (isInPit for the first 320 packets, lap clock already at 212240 ms),
 *     drives out and crosses the line once: lap 1 = 344684 ms by the game
 *     (lapCount 0 -> 1, lastLap 344684). It began in the pit lane, so it is
 *     the out lap: not valid, reason out_lap. The last 479 packets repeat one
 *     frozen packet (the game stopped), duplicates to the tracker.
 *   PCARS1 Spa (tests/data/pcars1): 1860 telemetry frames from lap distance
 *     1699 m to 2907 m of 6998 m, lap counter 0 throughout: no lap completes.
 *     The game flags the lap invalid on every frame.
 *   Forza FM7 Laguna Seca CSV (tests/data/forza): 687 rows starting 0.297 s
 *     into lap 0 (a lap seen whole), LapNumber 0 -> 1 with LastLapTime
 *     75.256 s: one valid lap of 75256 ms. TimestampMS jumps 20.3 s between
 *     the first two rows while the lap clock moves 0.133 s: a pause, not a gap.
 * The emulator (libpwsim, laps mode, 60 Hz) gives laps of a known reference
 * time; synthetic frame sequences exercise every rule of laps.h.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/bytes.h"
#include "capture/decoder.h"
#include "capture/sim/car.h"
#include "capture/sim/driver.h"
#include "capture/sim/track.h"
#include "common/laps.h"
#include "common/pcap.h"
#include "tests/unit/t.h"
#include "tests/unit/t_csv.h"

#define AC_RAW "ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.raw"
#define AC_PCAP "ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap"
#define AC_NPKT 8641
#define AC_PKT 328
#define AC_LAP_MS 344684
#define PCARS_RAW "pcars1/vthinsel_pcars_v1_session2.raw"
#define FORZA_CSV "forza/austinbaccus_forza-telemetry/laguna-seca.csv"
#define MAX_EV 256

/* ---- collecting events ---- */

struct evlog {
	int n;
	struct lap_event ev[MAX_EV];
	uint64_t at_seq[MAX_EV]; /* seq of the frame whose feed returned the event */
};

static int feed(struct laps *l, const struct pw_frame *f, struct evlog *log)
{
	struct lap_event ev[LAPS_MAX_EVENTS];
	int n = laps_feed(l, f, ev, LAPS_MAX_EVENTS);

	for (int i = 0; i < n && log->n < MAX_EV; i++) {
		log->at_seq[log->n] = f ? f->seq : 0;
		log->ev[log->n++] = ev[i];
	}
	return n;
}

static int count_kind(const struct evlog *log, enum lap_event_kind kind)
{
	int n = 0;

	for (int i = 0; i < log->n; i++)
		n += log->ev[i].kind == kind;
	return n;
}

/* The k-th event of a kind (0-based), or NULL. */
static const struct lap_event *nth(const struct evlog *log, enum lap_event_kind kind, int k)
{
	for (int i = 0; i < log->n; i++)
		if (log->ev[i].kind == kind && k-- == 0)
			return &log->ev[i];
	return NULL;
}

static const struct lap *completed(const struct evlog *log, int k)
{
	const struct lap_event *e = nth(log, LAP_COMPLETED, k);

	return e ? &e->lap : NULL;
}

static void dump(const struct evlog *log)
{
	char buf[1024];

	for (int i = 0; i < log->n; i++) {
		lap_event_to_json(&log->ev[i], buf, sizeof buf);
		fprintf(stderr, "  [seq %llu] %s\n", (unsigned long long)log->at_seq[i], buf);
	}
}

/* ---- real data: Assetto Corsa, Monza ---- */

struct ac_run {
	struct evlog log;
	struct lap cur;
	int have_cur, frames, first_in_pit;
};

static void ac_feed_all(struct laps *l, struct ac_run *r, const struct pw_frame *f, int skip)
{
	if (r->frames++ < skip)
		return;
	if (r->frames == skip + 1)
		r->first_in_pit = (f->flags & FRAME_FLAG_IN_PIT) != 0;
	feed(l, f, &r->log);
}

/* The raw capture (no receive times; seq = packet number). */
static int ac_run_raw(struct ac_run *r, int skip)
{
	static struct dec_state st;
	size_t len;
	unsigned char *raw = t_read_file(t_data_path(AC_RAW), &len);
	struct laps *l = laps_new();
	struct pw_frame f;

	memset(r, 0, sizeof *r);
	if (!raw || !l || len != (size_t)AC_NPKT * AC_PKT) {
		free(raw);
		laps_free(l);
		return -1;
	}
	dec_reset(&st);
	for (size_t i = 0; i < AC_NPKT; i++) {
		if (dec_ksudp.decode(&st, raw + AC_PKT * i, AC_PKT, &f) != DEC_FRAME)
			continue;
		f.seq = i + 1;
		ac_feed_all(l, r, &f, skip);
	}
	r->have_cur = laps_current(l, &r->cur);
	feed(l, NULL, &r->log);
	laps_free(l);
	free(raw);
	return r->frames;
}

/* The pcap of the same packets, with the recorder's receive times. */
static int ac_run_pcap(struct ac_run *r)
{
	static struct dec_state st;
	struct pcap_reader *pr;
	struct pcap_pkt p;
	struct laps *l = laps_new();
	struct pw_frame f;
	uint64_t seq = 0;

	memset(r, 0, sizeof *r);
	if (!l || pcap_open(&pr, t_data_path(AC_PCAP)) != 0) {
		laps_free(l);
		return -1;
	}
	dec_reset(&st);
	while (pcap_next(pr, &p) == 1) {
		if (dec_ksudp.decode(&st, p.data, p.len, &f) != DEC_FRAME)
			continue;
		f.seq = ++seq;
		f.t_ns = p.t_ns;
		ac_feed_all(l, r, &f, 0);
	}
	r->have_cur = laps_current(l, &r->cur);
	pcap_close(pr);
	laps_free(l);
	return r->frames;
}

static void check_ac_lap(const struct ac_run *r)
{
	const struct lap *lap = completed(&r->log, 0);

	T_CHECK(r->first_in_pit);
	T_CHECK(r->log.n == 1);
	T_CHECK(count_kind(&r->log, LAP_COMPLETED) == 1);
	if (!lap) {
		dump(&r->log);
		return;
	}
	T_CHECK(lap->number == 1);
	T_CHECK(lap->time_ms == AC_LAP_MS);
	/* the game's lap clock: 344672 ms on the last frame before the line, 8 ms
	 * on the first after it, one ~16 ms physics step between */
	T_CHECKF(abs(lap->measured_ms - AC_LAP_MS) <= 10, "measured %d", (int)lap->measured_ms);
	T_CHECK(!lap->valid);
	T_CHECK(lap->invalid_reason == LAP_REASON_OUT_LAP);
	T_CHECK(!lap->personal_best);
	T_CHECK(lap->start_seq == 1);
	T_CHECK(lap->end_seq == 7899); /* packet 7899 (1-based) is the last with lapCount 0 */
	T_CHECK(lap->frames == 7899);
	T_NEAR(lap->min_speed_kmh, 0.0, 0.01);
	T_NEAR(lap->max_speed_kmh, 252.17, 0.01);
	for (int i = 0; i < 3; i++)
		T_CHECK(lap->sector_ms[i] == -1); /* AC sends no splits */
}

static void test_ac_monza_raw(void)
{
	static struct ac_run r;

	T_CHECK(ac_run_raw(&r, 0) == AC_NPKT);
	check_ac_lap(&r);
	/* lap 2 runs for 263 frames, then the game freezes: 479 identical packets */
	T_CHECK(r.have_cur);
	T_CHECK(r.cur.number == 2);
	T_CHECK(r.cur.frames == 263);
	T_CHECK(r.cur.frames + 7899 + 479 == AC_NPKT);
	T_CHECK(r.cur.valid && r.cur.invalid_reason == LAP_REASON_NONE);
	T_CHECK(r.cur.time_ms == 4380);
}

static void test_ac_monza_pcap(void)
{
	static struct ac_run r;
	const struct lap *lap;

	T_CHECK(ac_run_pcap(&r) == AC_NPKT);
	check_ac_lap(&r);
	lap = completed(&r.log, 0);
	/* 4.6 s pass between two of the frozen packets: duplicates, no gap */
	T_CHECK(r.have_cur && r.cur.valid);
	if (lap)
		T_NEAR((lap->end_t_ns - lap->start_t_ns) / 1e9, 132.44, 0.01);
}

/* Tracking from packet 1000 (out of the pit lane, 228.9 s on the lap clock):
 * the same lap is seen only in part. */
static void test_ac_monza_joined_late(void)
{
	static struct ac_run r;
	const struct lap *lap;

	T_CHECK(ac_run_raw(&r, 1000) == AC_NPKT);
	T_CHECK(!r.first_in_pit);
	lap = completed(&r.log, 0);
	T_CHECK(r.log.n == 1);
	if (!lap)
		return;
	T_CHECK(lap->number == 1 && lap->time_ms == AC_LAP_MS);
	T_CHECK(!lap->valid && lap->invalid_reason == LAP_REASON_INCOMPLETE);
	T_CHECK(lap->start_seq == 1001 && lap->frames == 6899);
}

/* ---- real data: Project CARS 1, Spa ---- */

static void test_pcars1_spa(void)
{
	static const size_t sizes[4] = { 1367, 1347, 1028, 0 };
	static struct dec_state st;
	static struct evlog log;
	size_t len, o = 0;
	unsigned char *raw = t_read_file(t_data_path(PCARS_RAW), &len);
	struct laps *l = laps_new();
	struct pw_frame f;
	struct lap cur;
	int frames = 0, invalid = 0, repeats = 0;
	struct pw_frame last;
	float dmin = 1e9f, dmax = -1e9f;

	T_CHECK(raw && l);
	if (!raw || !l)
		goto out;
	dec_reset(&st);
	while (o + 3 <= len) {
		size_t n = sizes[raw[o + 2] & 3];
		if (n == 0 || n > len - o)
			break;
		if (dec_pcars.decode(&st, raw + o, n, &f) == DEC_FRAME) {
			f.seq = (uint64_t)++frames;
			repeats += frames > 1 &&
				   memcmp(&f.present, &last.present,
					  sizeof f - offsetof(struct pw_frame, present)) == 0;
			last = f;
			invalid += (f.flags & FRAME_FLAG_LAP_INVALID) != 0;
			dmin = fminf(dmin, f.lap_dist_m);
			dmax = fmaxf(dmax, f.lap_dist_m);
			feed(l, &f, &log);
		}
		o += n;
	}
	T_CHECK(o == len);
	T_CHECK(frames == 1860);
	T_CHECK(invalid == 1860);
	T_NEAR(dmin, 1699.0, 0.5);
	T_NEAR(dmax, 2923.0, 0.5);
	/* 1.2 km of Spa's 7 km: no line, no lap */
	T_CHECK(log.n == 0);
	T_CHECK(laps_current(l, &cur) == 1);
	T_CHECK(cur.number == 1);
	T_CHECK(repeats == 49); /* packets equal but for the sequence byte */
	T_CHECK(cur.frames == 1860 - 49);
	T_CHECK(!cur.valid && cur.invalid_reason == LAP_REASON_GAME_FLAG);
	T_CHECK(cur.time_ms == -1); /* the game sends no lap clock (-1) */
	T_NEAR(cur.min_speed_kmh, 46.0, 0.5);
	T_NEAR(cur.max_speed_kmh, 224.0, 0.5);
	T_CHECK(feed(l, NULL, &log) == 0);
out:
	laps_free(l);
	free(raw);
}

/* ---- real data: Forza CSV (rows rebuilt into 311-byte FM7 Dash packets) ---- */

static struct t_csv csv;

/* The fields the tracker reads, at their Turn 10 offsets (dash block at 232). */
static void forza_packet(int r, uint8_t *b, size_t len)
{
	static const char *const vel[] = { "VelocityX", "VelocityY", "VelocityZ" };
	static const char *const pos[] = { "PositionX", "PositionY", "PositionZ" };

	memset(b, 0, len);
	wr_u32(b, len, 0, (uint32_t)t_csv_cell(&csv, r, "IsRaceOn"));
	wr_u32(b, len, 4, (uint32_t)t_csv_cell(&csv, r, "TimestampMS"));
	wr_f32(b, len, 8, (float)t_csv_cell(&csv, r, "EngineMaxRpm"));
	wr_f32(b, len, 16, (float)t_csv_cell(&csv, r, "CurrentEngineRpm"));
	for (int i = 0; i < 3; i++) {
		wr_f32(b, len, 32 + 4 * (size_t)i, (float)t_csv_cell(&csv, r, vel[i]));
		wr_f32(b, len, 232 + 4 * (size_t)i, (float)t_csv_cell(&csv, r, pos[i]));
	}
	wr_u32(b, len, 212, (uint32_t)t_csv_cell(&csv, r, "CarOrdinal"));
	wr_f32(b, len, 232 + 12, (float)t_csv_cell(&csv, r, "Speed"));
	wr_f32(b, len, 232 + 48, (float)t_csv_cell(&csv, r, "Distance"));
	wr_f32(b, len, 232 + 52, (float)t_csv_cell(&csv, r, "BestLapTime"));
	wr_f32(b, len, 232 + 56, (float)t_csv_cell(&csv, r, "LastLapTime"));
	wr_f32(b, len, 232 + 60, (float)t_csv_cell(&csv, r, "CurrentLapTime"));
	wr_f32(b, len, 232 + 64, (float)t_csv_cell(&csv, r, "CurrentRaceTime"));
	wr_u16(b, len, 232 + 68, (uint16_t)t_csv_cell(&csv, r, "Lap"));
	wr_u8(b, len, 232 + 70, (uint8_t)t_csv_cell(&csv, r, "RacePosition"));
	wr_u8(b, len, 232 + 75, (uint8_t)t_csv_cell(&csv, r, "Gear"));
}

static void test_forza_laguna_seca(void)
{
	static struct dec_state st;
	static struct evlog log;
	struct laps *l = laps_new();
	uint8_t pkt[311];
	struct pw_frame f;
	const struct lap *lap;
	struct lap cur;
	int rows = t_csv_load(&csv, FORZA_CSV), frames = 0;

	T_CHECK(rows == 687 && l);
	if (rows != 687 || !l)
		goto out;
	T_NEAR(t_csv_cell(&csv, 1, "TimestampMS") - t_csv_cell(&csv, 0, "TimestampMS"), 20297, 0.5);
	dec_reset(&st);
	for (int r = 0; r < rows; r++) {
		forza_packet(r, pkt, sizeof pkt);
		if (dec_forza.decode(&st, pkt, sizeof pkt, &f) != DEC_FRAME)
			continue;
		f.seq = (uint64_t)++frames;
		f.t_ns = (int64_t)t_csv_cell(&csv, r, "TimestampMS") *
			 1000000; /* receive time ~ game tick */
		feed(l, &f, &log);
	}
	T_CHECK(frames == 687);
	T_CHECK(log.n == 1);
	lap = completed(&log, 0);
	if (!lap) {
		dump(&log);
		goto out;
	}
	T_CHECK(lap->number == 1);
	T_CHECK(lap->time_ms == 75256);
	/* lap clock 75.19x s at row 683 + the 109 ms step - 0.059 s at row 684 */
	T_CHECKF(abs(lap->measured_ms - 75256) <= 5, "measured %d", (int)lap->measured_ms);
	T_CHECK(lap->valid && lap->invalid_reason == LAP_REASON_NONE);
	T_CHECK(lap->personal_best);
	T_CHECK(lap->start_seq == 1 && lap->end_seq == 684 && lap->frames == 684);
	T_NEAR(lap->min_speed_kmh, 57.74, 0.01);
	T_NEAR(lap->max_speed_kmh, 299.69, 0.01);
	T_CHECK(laps_current(l, &cur) == 1 && cur.number == 2 && cur.frames == 3 && cur.valid);
out:
	laps_free(l);
}

/* ---- the emulator ---- */

struct emu_opts {
	int64_t start_ms; /* first frame fed */
	uint64_t strip;   /* presence bits removed from every frame */
	int laps;         /* run until the driver completed this many */
};

struct emu_run {
	struct evlog log;
	int32_t ref_ms;
	int32_t lap_ms[16]; /* driver's own lap times, 1-based */
	int nlaps;
};

static int emu_run(const struct emu_opts *o, struct emu_run *r)
{
	struct track *t = track_new();
	struct driver *d = t ? driver_new(DRIVER_LAPS, 11, car_default(), t) : NULL;
	struct laps *l = laps_new();
	struct pw_frame f;

	memset(r, 0, sizeof *r);
	if (!d || !l) {
		laps_free(l);
		driver_free(d);
		track_free(t);
		return -1;
	}
	r->ref_ms = driver_reference_lap_ms(d);
	for (int64_t k = 0, done_step = -1; done_step < 0 || driver_step(d) < done_step + 3000;
	     k++) {
		int64_t step = (k * 1000 + 30) / 60; /* 60 Hz */
		if (step < o->start_ms)
			continue;
		driver_run_to(d, step);
		if (driver_laps(d) > r->nlaps && r->nlaps < 15)
			r->lap_ms[++r->nlaps] = driver_last_lap_ms(d);
		if (r->nlaps >= o->laps && done_step < 0)
			done_step = step;
		driver_frame(d, &f);
		f.game = PW_GAME_AC;
		f.feed = PW_FEED_KSUDP;
		f.seq = (uint64_t)k + 1;
		f.t_ns = 1700000000000000000LL + step * 1000000LL;
		f.present &= ~o->strip;
		feed(l, &f, &r->log);
		if (step > 3600 * 1000)
			break;
	}
	laps_free(l);
	driver_free(d);
	track_free(t);
	return 0;
}

/* From the line at the start, with every channel: lap 1 is the standing
 * (60 km/h rolling) start, timed by the game; then flying laps. */
static void test_emulator_laps(void)
{
	static struct emu_run r;
	struct emu_opts o = { .laps = 4 };

	T_CHECK(emu_run(&o, &r) == 0);
	T_CHECK(r.ref_ms > 30000 && r.nlaps >= 4);
	T_CHECK(count_kind(&r.log, LAP_COMPLETED) == r.nlaps);
	T_CHECK(count_kind(&r.log, LAP_INVALIDATED) == 0);
	T_CHECK(r.lap_ms[1] > r.ref_ms + 1000); /* the start lap is slower */
	for (int i = 0, best = -1; i < r.nlaps; i++) {
		const struct lap *lap = completed(&r.log, i);
		int32_t want = r.lap_ms[i + 1];
		if (!lap)
			break;
		T_CHECK(lap->number == (uint32_t)i + 1);
		T_CHECKF(lap->time_ms == want, "lap %d: %d vs %d", i + 1, (int)lap->time_ms,
			 (int)want);
		/* flying laps: the reference to the emulator's 1 ms step */
		T_CHECKF(i == 0 || abs(lap->time_ms - r.ref_ms) <= 1, "lap %d: %d vs ref %d", i + 1,
			 (int)lap->time_ms, (int)r.ref_ms);
		T_CHECK(lap->measured_ms == lap->time_ms);
		T_CHECK(lap->valid && lap->invalid_reason == LAP_REASON_NONE);
		T_CHECK(lap->sector_ms[0] > 0 && lap->sector_ms[1] > 0 && lap->sector_ms[2] > 0);
		T_CHECK(lap->sector_ms[0] + lap->sector_ms[1] + lap->sector_ms[2] == lap->time_ms);
		T_CHECK(lap->personal_best == (best < 0 || want < best));
		if (best < 0 || want < best)
			best = want;
		/* first and last frame of the lap lie within one 16.7 ms frame of the line */
		T_CHECK(lap->end_t_ns - lap->start_t_ns <= (int64_t)lap->time_ms * 1000000);
		T_CHECK(lap->end_t_ns - lap->start_t_ns > ((int64_t)lap->time_ms - 34) * 1000000);
	}
	T_CHECK(r.nlaps < 2 ||
		completed(&r.log, 1)->sector_ms[0] < completed(&r.log, 0)->sector_ms[0]);
}

/* Joining 20 s into lap 1: that lap is incomplete (time still the game's). */
static void test_emulator_joined_mid_lap(void)
{
	static struct emu_run r;
	struct emu_opts o = { .start_ms = 20000, .laps = 3 };
	const struct lap *lap;

	T_CHECK(emu_run(&o, &r) == 0);
	T_CHECK(count_kind(&r.log, LAP_COMPLETED) == r.nlaps);
	lap = completed(&r.log, 0);
	if (!lap)
		return;
	T_CHECK(lap->number == 1 && lap->time_ms == r.lap_ms[1]);
	T_CHECK(!lap->valid && lap->invalid_reason == LAP_REASON_INCOMPLETE);
	T_CHECK(lap->sector_ms[0] > 0); /* the game's split, whenever we joined */
	for (int i = 1; i < r.nlaps; i++) {
		lap = completed(&r.log, i);
		T_CHECK(lap && lap->valid && lap->time_ms == r.lap_ms[i + 1]);
		T_CHECK(lap && abs(lap->time_ms - r.ref_ms) <= 1);
	}
}

/* Spline only (no counter, lap clock, lap times, splits or game clock): laps
 * are found by the spline wrapping and timed on t_ns, interpolated. */
static void test_emulator_spline_only(void)
{
	static struct emu_run r;
	struct emu_opts o = {
		.laps = 4,
		.strip = FRAME_P_LAP | FRAME_P_LAP_TIME | FRAME_P_LAST_LAP | FRAME_P_BEST_LAP |
			 FRAME_P_SECTOR_TIMES | FRAME_P_GAME_TIME,
	};

	T_CHECK(emu_run(&o, &r) == 0);
	T_CHECK(count_kind(&r.log, LAP_COMPLETED) == r.nlaps);
	for (int i = 0; i < r.nlaps; i++) {
		const struct lap *lap = completed(&r.log, i);
		if (!lap)
			break;
		T_CHECK(lap->number == (uint32_t)i + 1);
		T_CHECK(lap->sector_ms[0] == -1 && lap->sector_ms[2] == -1);
		if (i == 0) {
			/* no lap clock: a start at spline 0 cannot be told from mid-lap */
			T_CHECK(lap->invalid_reason == LAP_REASON_INCOMPLETE);
			continue;
		}
		T_CHECK(lap->valid);
		T_CHECK(lap->time_ms == lap->measured_ms);
		T_CHECKF(abs(lap->time_ms - r.lap_ms[i + 1]) <= 1, "lap %d: %d vs %d", i + 1,
			 (int)lap->time_ms, (int)r.lap_ms[i + 1]);
	}
}

/* ---- synthetic sequences ---- */

/*
 * A scripted game: laps of lap_ms[counter] ms at hz frames per second, on a
 * track of track_m metres. Every frame carries the channels in present; the
 * test changes the state between steps (flags, clocks, counter) to play a
 * rewind, a pit stop, a pause and so on.
 */
struct syn {
	struct laps *l;
	struct evlog log;
	uint64_t present;
	uint16_t flags_known, flags;
	uint64_t session;
	int hz;
	int32_t lap_ms[8]; /* by lap counter, the last repeats */
	double pos_ms;     /* into the current lap */
	double gt_s;       /* game clock */
	int64_t t_ns;      /* receive clock */
	uint16_t counter;
	int32_t last_ms; /* what the game reports as last lap */
	int last_lag;    /* frames the game's last_lap_ms lags the counter */
	int lag_left;
	int32_t pending_last;
	double dist_offset_m; /* lap 0 from the grid: starts this far behind the line (< 0) */
	bool grid_counted;    /* the game counts the grid-to-line run as lap 1 */
	uint64_t seq;
	struct pw_frame f; /* the last frame sent */
};

#define SYN_ALL                                                                               \
	(FRAME_P_LAP | FRAME_P_LAP_TIME | FRAME_P_LAST_LAP | FRAME_P_SPLINE | FRAME_P_SPEED | \
	 FRAME_P_GAME_TIME | FRAME_P_SECTOR_TIMES)
#define SYN_TRACK_M 3000.0
#define SYN_T0 1600000000000000000LL

static void syn_init(struct syn *s, uint64_t present, int32_t lap_ms)
{
	memset(s, 0, sizeof *s);
	s->l = laps_new();
	s->present = present;
	s->flags_known = FRAME_FLAG_IN_PIT | FRAME_FLAG_LAP_INVALID | FRAME_FLAG_PAUSED;
	s->session = 7;
	s->hz = 20;
	for (int i = 0; i < 8; i++)
		s->lap_ms[i] = lap_ms;
	s->t_ns = SYN_T0;
	s->gt_s = 100.0;
	s->last_ms = -1;
}

static void syn_fini(struct syn *s)
{
	laps_free(s->l);
}

static double syn_lap_len(const struct syn *s)
{
	return s->lap_ms[s->counter < 8 ? s->counter : 7];
}

static void syn_build(struct syn *s, struct pw_frame *f)
{
	double len = syn_lap_len(s), frac = s->pos_ms / len;
	double span = s->dist_offset_m < 0 && s->grid_counted ? -s->dist_offset_m
							      : SYN_TRACK_M - s->dist_offset_m;
	double dist = s->dist_offset_m + frac * span;

	frame_init(f, PW_GAME_F1_24, PW_FEED_F1);
	f->seq = ++s->seq;
	f->t_ns = s->t_ns;
	f->present = s->present;
	f->game_session = s->session;
	f->game_time_s = s->gt_s;
	f->flags = s->flags;
	f->flags_known = s->flags_known;
	f->lap = s->counter;
	f->lap_time_ms = (int32_t)lround(s->pos_ms);
	f->last_lap_ms = s->last_ms;
	f->best_lap_ms = -1;
	f->spline = (float)(dist < 0 ? 1.0 + dist / SYN_TRACK_M : dist / SYN_TRACK_M);
	f->lap_dist_m = (float)dist;
	f->track_len_m = (float)SYN_TRACK_M;
	f->speed_kmh = (float)(150.0 + 100.0 * sin(frac * 6.283185307));
	for (int i = 0; i < 3; i++)
		f->sector_ms[i] = -1;
	if (frac >= 1.0 / 3)
		f->sector_ms[0] = (int32_t)lround(len / 3);
	if (frac >= 2.0 / 3)
		f->sector_ms[1] = (int32_t)lround(len / 3);
}

static void syn_send(struct syn *s)
{
	syn_build(s, &s->f);
	feed(s->l, &s->f, &s->log);
}

/* Advance one frame (dt ms) and send it. */
static void syn_step_ms(struct syn *s, double dt)
{
	s->pos_ms += dt;
	s->gt_s += dt / 1000.0;
	s->t_ns += (int64_t)lround(dt * 1e6);
	if (s->pos_ms >= syn_lap_len(s)) {
		s->pos_ms -= syn_lap_len(s);
		s->pending_last = (int32_t)syn_lap_len(s);
		s->counter++;
		s->lag_left = s->last_lag;
		s->dist_offset_m = 0;
	}
	if (s->pending_last && s->lag_left-- <= 0) {
		s->last_ms = s->pending_last;
		s->pending_last = 0;
	}
	syn_send(s);
}

static void syn_step(struct syn *s)
{
	syn_step_ms(s, 1000.0 / s->hz);
}

/* Step until the counter reaches lap and the position frac of that lap. */
static void syn_to(struct syn *s, int lap, double frac)
{
	while (s->counter < lap || (s->counter == lap && s->pos_ms < frac * syn_lap_len(s)))
		syn_step(s);
}

static const struct lap *syn_lap(const struct syn *s, int k)
{
	return completed(&s->log, k);
}

static void test_counter_laps(void)
{
	struct syn s;
	const struct lap *lap;
	char buf[600];

	syn_init(&s, SYN_ALL, 60000);
	s.lap_ms[1] = 59000;
	s.lap_ms[2] = 61234;
	syn_send(&s);
	syn_to(&s, 3, 0.5);
	T_CHECK(s.log.n == 3);
	for (int i = 0; i < 3; i++) {
		int32_t want = s.lap_ms[i];
		lap = syn_lap(&s, i);
		if (!lap)
			break;
		T_CHECK(lap->number == (uint32_t)i + 1);
		T_CHECK(lap->time_ms == want && lap->measured_ms == want);
		T_CHECK(lap->valid);
		T_CHECK(lap->sector_ms[0] == lround(want / 3.0) &&
			lap->sector_ms[1] == lround(want / 3.0));
		T_CHECK(lap->sector_ms[0] + lap->sector_ms[1] + lap->sector_ms[2] == want);
		T_CHECK(lap->frames == (uint32_t)lround(want / 50.0));
		T_CHECK(lap->personal_best == (i < 2));
		T_NEAR(lap->min_speed_kmh, 50.0, 0.5);
		T_NEAR(lap->max_speed_kmh, 250.0, 0.5);
		T_CHECK(lap->game_session == 7);
	}
	/* consecutive laps share the boundary: end of one + 1 = start of the next */
	T_CHECK(syn_lap(&s, 0)->end_seq + 1 == syn_lap(&s, 1)->start_seq);
	lap_to_json(syn_lap(&s, 1), buf, sizeof buf);
	T_CHECK(strstr(buf, "\"number\":2,\"time_ms\":59000,\"measured_ms\":59000") == buf + 1);
	syn_fini(&s);
}

/* The game reports the lap invalid only in the first frames after the line. */
static void test_late_invalidation(void)
{
	struct syn s;
	const struct lap_event *e;

	syn_init(&s, SYN_ALL, 60000);
	syn_send(&s);
	syn_to(&s, 1, 0.0); /* lap 1 reported valid at the line */
	T_CHECK(s.log.n == 1 && syn_lap(&s, 0)->valid);
	syn_step(&s);
	s.flags |= FRAME_FLAG_LAP_INVALID; /* 100 ms into lap 2 */
	syn_step(&s);
	syn_step(&s);
	s.flags &= (uint16_t)~FRAME_FLAG_LAP_INVALID;
	syn_to(&s, 2, 0.1);
	T_CHECK(count_kind(&s.log, LAP_INVALIDATED) == 1);
	e = nth(&s.log, LAP_INVALIDATED, 0);
	if (e) {
		T_CHECK(e->lap.number == 1 && !e->lap.valid);
		T_CHECK(e->lap.invalid_reason == LAP_REASON_GAME_FLAG);
		T_CHECK(e->lap.time_ms == 60000 && !e->lap.personal_best);
	}
	/* lap 2 itself is clean; being the only valid lap it is the best now */
	T_CHECK(syn_lap(&s, 1) && syn_lap(&s, 1)->valid && syn_lap(&s, 1)->personal_best);

	/* flag on the very frame after the line: lap 2 reported invalid at once */
	syn_to(&s, 2, 0.999);
	s.flags |= FRAME_FLAG_LAP_INVALID;
	syn_step(&s);
	s.flags &= (uint16_t)~FRAME_FLAG_LAP_INVALID;
	syn_to(&s, 3, 0.5);
	T_CHECK(count_kind(&s.log, LAP_INVALIDATED) == 1);
	T_CHECK(syn_lap(&s, 2) && !syn_lap(&s, 2)->valid &&
		syn_lap(&s, 2)->invalid_reason == LAP_REASON_GAME_FLAG);

	/* flag 3 s into lap 5 (after the window): lap 5 invalid, lap 4 untouched */
	syn_to(&s, 4, 0.05);
	s.flags |= FRAME_FLAG_LAP_INVALID;
	syn_step(&s);
	s.flags &= (uint16_t)~FRAME_FLAG_LAP_INVALID;
	syn_to(&s, 5, 0.5);
	T_CHECK(count_kind(&s.log, LAP_INVALIDATED) == 1);
	T_CHECK(syn_lap(&s, 3) && syn_lap(&s, 3)->number == 4 && syn_lap(&s, 3)->valid);
	T_CHECK(syn_lap(&s, 4) && syn_lap(&s, 4)->number == 5 &&
		syn_lap(&s, 4)->invalid_reason == LAP_REASON_GAME_FLAG);

	/* flag set on the last frame of lap 7 and held 12 s into lap 8: both */
	syn_to(&s, 6, 0.999);
	s.flags |= FRAME_FLAG_LAP_INVALID;
	syn_to(&s, 7, 0.2);
	s.flags &= (uint16_t)~FRAME_FLAG_LAP_INVALID;
	syn_to(&s, 9, 0.5);
	T_CHECK(count_kind(&s.log, LAP_INVALIDATED) == 1);
	T_CHECK(syn_lap(&s, 5) && syn_lap(&s, 5)->number == 6 && syn_lap(&s, 5)->valid);
	T_CHECK(syn_lap(&s, 6) && syn_lap(&s, 6)->number == 7 && !syn_lap(&s, 6)->valid);
	T_CHECK(syn_lap(&s, 7) && syn_lap(&s, 7)->number == 8 && !syn_lap(&s, 7)->valid);
	T_CHECK(syn_lap(&s, 8) && syn_lap(&s, 8)->number == 9 && syn_lap(&s, 8)->valid);
	if (t_case_failed)
		dump(&s.log);
	syn_fini(&s);
}

/* The game updates last_lap_ms 5 frames after the counter: the tracker waits. */
static void test_late_last_lap(void)
{
	struct syn s;
	const struct lap *lap;

	syn_init(&s, SYN_ALL, 60000);
	s.lap_ms[1] = 60000; /* same time twice: "unchanged" is no evidence */
	s.lap_ms[2] = 58500;
	s.last_lag = 5;
	syn_send(&s);
	syn_to(&s, 3, 0.5);
	T_CHECK(s.log.n == 3);
	for (int i = 0; i < 3; i++) {
		lap = syn_lap(&s, i);
		T_CHECK(lap && lap->time_ms == s.lap_ms[i] && lap->measured_ms == s.lap_ms[i]);
	}
	/* lap 1 (game's value -1 -> 60000, 5 frames late) and lap 3 (60000 ->
	 * 58500) wait for the game; lap 2 agrees with the measurement at once */
	T_CHECK(s.log.at_seq[0] == syn_lap(&s, 0)->end_seq + 6);
	T_CHECK(s.log.at_seq[1] == syn_lap(&s, 1)->end_seq + 1);
	T_CHECK(s.log.at_seq[2] == syn_lap(&s, 2)->end_seq + 6);

	/* a game whose value is 300 ms off the lap clock, and late: its value wins */
	syn_fini(&s);
	syn_init(&s, SYN_ALL, 60000);
	s.last_lag = 3;
	syn_send(&s);
	syn_to(&s, 0, 0.99);
	s.lap_ms[0] = 60000;
	syn_to(&s, 1, 0.0);
	syn_step(&s);
	T_CHECK(s.log.n == 0); /* still waiting: -1 on the game side */
	s.pending_last = 0;
	s.last_ms = 60300;
	syn_step(&s);
	T_CHECK(s.log.n == 1 && syn_lap(&s, 0)->time_ms == 60300 &&
		syn_lap(&s, 0)->measured_ms == 60000);

	/* a game that never sends a last lap time (-1): measured after the window */
	syn_fini(&s);
	syn_init(&s, SYN_ALL, 60000);
	s.last_lag = 1000000;
	syn_send(&s);
	syn_to(&s, 1, 0.0);
	T_CHECK(s.log.n == 0);
	syn_to(&s, 1, 2100.0 / 60000);
	T_CHECK(s.log.n == 1 && syn_lap(&s, 0)->time_ms == 60000);
	T_CHECK(s.log.at_seq[0] == syn_lap(&s, 0)->end_seq + 1 + 41); /* lap clock 2.05 s */
	/* the feed ends while a lap waits: reported with what is known */
	syn_to(&s, 2, 0.0);
	T_CHECK(s.log.n == 1);
	T_CHECK(feed(s.l, NULL, &s.log) == 1 && syn_lap(&s, 1)->time_ms == 60000);
	syn_fini(&s);
}

/* Flashback inside a lap: lap clock and game clock go back 3 s. */
static void test_rewind_in_lap(void)
{
	struct syn s;

	syn_init(&s, SYN_ALL, 60000);
	syn_send(&s);
	syn_to(&s, 1, 0.5);
	s.pos_ms -= 3000;
	s.gt_s -= 3.0;
	syn_to(&s, 3, 0.5);
	T_CHECK(s.log.n == 3);
	T_CHECK(syn_lap(&s, 0)->valid);
	T_CHECK(syn_lap(&s, 1)->number == 2 && !syn_lap(&s, 1)->valid &&
		syn_lap(&s, 1)->invalid_reason == LAP_REASON_RESET);
	T_CHECK(syn_lap(&s, 1)->time_ms == 60000); /* the game's lap time after the flashback */
	T_CHECK(syn_lap(&s, 2)->valid);
	syn_fini(&s);

	/* lap clock back alone (no game clock): also a rewind */
	syn_init(&s, SYN_ALL & ~FRAME_P_GAME_TIME, 60000);
	syn_send(&s);
	syn_to(&s, 0, 0.5);
	s.pos_ms -= 1000;
	syn_to(&s, 1, 0.5);
	T_CHECK(s.log.n == 1 && syn_lap(&s, 0)->invalid_reason == LAP_REASON_RESET);
	syn_fini(&s);

	/* game clock back alone (lap clock absent) */
	syn_init(&s, SYN_ALL & ~FRAME_P_LAP_TIME, 60000);
	syn_send(&s);
	syn_to(&s, 0, 0.5);
	s.gt_s -= 2.0;
	syn_to(&s, 1, 0.5);
	T_CHECK(s.log.n == 1 && syn_lap(&s, 0)->invalid_reason == LAP_REASON_RESET);
	syn_fini(&s);
}

/* Flashback across the line: lap 2 was reported valid, then undone. */
static void test_rewind_across_line(void)
{
	struct syn s;
	const struct lap_event *e;

	syn_init(&s, SYN_ALL, 60000);
	s.lap_ms[1] = 59000;
	s.lap_ms[2] = 59500;
	syn_send(&s);
	syn_to(&s, 2, 0.02); /* lap 2 done and reported, 1.2 s into lap 3 */
	T_CHECK(s.log.n == 2 && syn_lap(&s, 1)->valid && syn_lap(&s, 1)->personal_best);
	s.counter = 1; /* back to 2 s before the line */
	s.pos_ms = 58000;
	s.gt_s -= 3.2;
	s.last_ms = 60000;
	syn_send(&s);
	T_CHECK(count_kind(&s.log, LAP_INVALIDATED) == 1);
	e = nth(&s.log, LAP_INVALIDATED, 0);
	T_CHECK(e && e->lap.number == 2 && e->lap.invalid_reason == LAP_REASON_RESET);
	syn_to(&s, 3, 0.5);
	/* lap 2 comes again, marked reset; lap 3 is clean */
	T_CHECK(count_kind(&s.log, LAP_COMPLETED) == 4);
	T_CHECK(syn_lap(&s, 2)->number == 2 && syn_lap(&s, 2)->invalid_reason == LAP_REASON_RESET);
	T_CHECK(syn_lap(&s, 2)->time_ms == 59000);
	T_CHECK(syn_lap(&s, 3)->number == 3 && syn_lap(&s, 3)->valid);
	T_CHECK(syn_lap(&s, 3)->time_ms == 59500 && syn_lap(&s, 3)->personal_best);
	syn_fini(&s);

	/* the same without a counter: the game clock tells the lap was undone */
	syn_init(&s, FRAME_P_SPLINE | FRAME_P_GAME_TIME | FRAME_P_SPEED, 60000);
	syn_send(&s);
	syn_to(&s, 2, 0.02);
	T_CHECK(s.log.n == 2 && syn_lap(&s, 1)->number == 2 && syn_lap(&s, 1)->valid);
	s.counter = 1;
	s.pos_ms = 58000;
	s.gt_s -= 3.2;
	syn_send(&s);
	T_CHECK(count_kind(&s.log, LAP_INVALIDATED) == 1);
	syn_to(&s, 3, 0.5);
	T_CHECK(count_kind(&s.log, LAP_COMPLETED) == 4);
	T_CHECK(syn_lap(&s, 2)->number == 2 && syn_lap(&s, 2)->invalid_reason == LAP_REASON_RESET);
	T_CHECK(syn_lap(&s, 3)->number == 3 && syn_lap(&s, 3)->valid);
	T_CHECKF(abs(syn_lap(&s, 3)->time_ms - 60000) <= 1, "%d", (int)syn_lap(&s, 3)->time_ms);
	syn_fini(&s);
}

/* Restart: counter and lap clock back to 0 in the same session. */
static void test_restart(void)
{
	struct syn s;

	syn_init(&s, SYN_ALL, 60000);
	syn_send(&s);
	syn_to(&s, 3, 0.4);
	s.counter = 0;
	s.pos_ms = 0;
	s.last_ms = -1;
	syn_send(&s);
	syn_to(&s, 2, 0.5);
	T_CHECK(count_kind(&s.log, LAP_INVALIDATED) == 0); /* laps 1-3 were driven */
	T_CHECK(count_kind(&s.log, LAP_COMPLETED) == 5);
	T_CHECK(syn_lap(&s, 3)->number == 1 && syn_lap(&s, 3)->invalid_reason == LAP_REASON_RESET);
	T_CHECK(syn_lap(&s, 4)->number == 2 && syn_lap(&s, 4)->valid);
	syn_fini(&s);
}

/* Pit stop with the timing line in the pit lane; then a drive-through with
 * the whole pit lane before the line. */
static void test_pit(void)
{
	struct syn s;
	const struct lap *lap;

	syn_init(&s, SYN_ALL, 60000);
	syn_send(&s);
	syn_to(&s, 1, 0.9);
	s.flags |= FRAME_FLAG_IN_PIT; /* pit entry in lap 2 */
	syn_to(&s, 2, 0.1);
	s.flags &= (uint16_t)~FRAME_FLAG_IN_PIT; /* pit exit in lap 3 */
	syn_to(&s, 4, 0.5);
	T_CHECK(s.log.n == 4);
	T_CHECK(syn_lap(&s, 0)->valid);
	T_CHECK(syn_lap(&s, 1)->invalid_reason == LAP_REASON_PIT);
	T_CHECK(syn_lap(&s, 2)->invalid_reason == LAP_REASON_OUT_LAP);
	T_CHECK(syn_lap(&s, 3)->valid);

	syn_to(&s, 4, 0.8);
	s.flags |= FRAME_FLAG_IN_PIT;
	syn_to(&s, 4, 0.9);
	s.flags &= (uint16_t)~FRAME_FLAG_IN_PIT;
	syn_to(&s, 7, 0.5);
	T_CHECK(s.log.n == 7);
	T_CHECK(syn_lap(&s, 4)->number == 5 && syn_lap(&s, 4)->invalid_reason == LAP_REASON_PIT);
	T_CHECK(syn_lap(&s, 5)->invalid_reason == LAP_REASON_OUT_LAP);
	T_CHECK(syn_lap(&s, 6)->valid);
	syn_fini(&s);

	/* tracking starts in the pit box (lap clock long running, like the AC
	 * capture); the whole next lap is spent in the pit lane too */
	syn_init(&s, SYN_ALL, 60000);
	s.pos_ms = 30000;
	s.flags = FRAME_FLAG_IN_PIT;
	syn_send(&s);
	syn_to(&s, 1, 0.5);
	s.flags = 0;
	syn_to(&s, 3, 0.5);
	lap = syn_lap(&s, 0);
	T_CHECK(lap && lap->invalid_reason == LAP_REASON_PIT); /* never left */
	T_CHECK(syn_lap(&s, 1) && syn_lap(&s, 1)->invalid_reason == LAP_REASON_OUT_LAP);
	T_CHECK(syn_lap(&s, 2) && syn_lap(&s, 2)->valid);
	syn_fini(&s);
}

/* 2 s standing on the grid: lap clock 0, clocks running. */
static void syn_grid_wait(struct syn *s)
{
	for (int i = 0; i < 40; i++) {
		s->gt_s += 0.05;
		s->t_ns += 50000000;
		syn_send(s);
	}
}

/* F1 race start: lap 0, lap distance negative, lap clock 0 until the start. */
static void test_grid_start(void)
{
	struct syn s;
	struct lap cur;

	syn_init(&s, SYN_ALL | FRAME_P_LAP_DIST | FRAME_P_TRACK_LEN, 60000);
	s.present &= ~FRAME_P_SPLINE; /* F1: distance and length, no spline */
	s.dist_offset_m = -150.0;     /* lap 1: 150 m more, 3 s at 50 m/s */
	s.lap_ms[0] = 63000;
	syn_grid_wait(&s);
	T_CHECK(laps_current(s.l, &cur) == 0); /* waiting on the grid */
	syn_to(&s, 0, 0.5);                    /* lights out, across the line, on */
	T_CHECK(s.log.n == 0);
	T_CHECK(laps_current(s.l, &cur) == 1 && cur.number == 1 && cur.valid);
	syn_to(&s, 2, 0.5);
	T_CHECK(s.log.n == 2);
	T_CHECK(syn_lap(&s, 0)->number == 1 && syn_lap(&s, 0)->valid);
	/* lap 1 timed by the game from the start signal, 150 m behind the line;
	 * its frames begin there too (seq 41: the 40 grid frames come first) */
	T_CHECK(syn_lap(&s, 0)->time_ms == 63000 && syn_lap(&s, 0)->measured_ms == 63000);
	T_CHECK(syn_lap(&s, 0)->start_seq == 41 && syn_lap(&s, 0)->frames == 1259);
	T_CHECK(syn_lap(&s, 1)->number == 2 && syn_lap(&s, 1)->time_ms == 60000);
	syn_fini(&s);

	/* a game that counts the run from the grid to the line (0 -> 1 there) */
	syn_init(&s, SYN_ALL, 60000);
	s.dist_offset_m = -100.0; /* spline 0.967 */
	s.grid_counted = true;
	s.lap_ms[0] = 2000;
	syn_grid_wait(&s);
	syn_to(&s, 3, 0.5); /* counter 1 at the line = lap 1 starts */
	T_CHECK(s.log.n == 2);
	T_CHECK(syn_lap(&s, 0) && syn_lap(&s, 0)->number == 1 && syn_lap(&s, 0)->valid);
	T_CHECK(syn_lap(&s, 1) && syn_lap(&s, 1)->number == 2);
	syn_fini(&s);

	/* no counter at all: the first wrap starts lap 1 */
	syn_init(&s, FRAME_P_SPLINE | FRAME_P_GAME_TIME, 60000);
	s.pos_ms = 59000;
	syn_send(&s);
	syn_to(&s, 2, 0.5);
	T_CHECK(s.log.n == 1 && syn_lap(&s, 0)->number == 1 && syn_lap(&s, 0)->valid);
	syn_fini(&s);
}

/* Spline only, jitter at the line: 0.999 0.0005 0.9995 0.001 ... is one crossing. */
static void test_spline_jitter(void)
{
	struct syn s;
	static const double jitter[] = { 0.9990, 0.0005, 0.9995, 0.0010, 0.9998, 0.0020, 0.0030 };

	syn_init(&s, FRAME_P_SPLINE | FRAME_P_SPEED | FRAME_P_GAME_TIME, 60000);
	s.pos_ms = 30000; /* join mid-lap */
	syn_send(&s);
	for (int lap = 0; lap < 4; lap++) {
		syn_to(&s, lap, 0.99);
		for (size_t j = 0; j < sizeof jitter / sizeof jitter[0]; j++) {
			s.pos_ms = jitter[j] * 60000;
			s.gt_s += 0.01;
			syn_send(&s);
		}
		s.counter++;
		/* reversing back over the line and forward again is no lap either */
		syn_to(&s, lap + 1, 0.05);
		s.pos_ms = 0.995 * 60000;
		syn_step(&s);
		s.pos_ms = 0.04 * 60000;
		syn_step(&s);
	}
	syn_to(&s, 4, 0.5);
	T_CHECK(s.log.n == 4);
	T_CHECK(syn_lap(&s, 0)->number == 1 &&
		syn_lap(&s, 0)->invalid_reason == LAP_REASON_INCOMPLETE);
	for (int i = 1; i < 4; i++) {
		T_CHECK(syn_lap(&s, i) && syn_lap(&s, i)->number == (uint32_t)i + 1);
		T_CHECK(syn_lap(&s, i) && syn_lap(&s, i)->valid);
	}
	if (t_case_failed)
		dump(&s.log);
	syn_fini(&s);

	/* lap distance over track length, no spline */
	syn_init(&s, FRAME_P_LAP_DIST | FRAME_P_TRACK_LEN | FRAME_P_GAME_TIME, 45000);
	s.pos_ms = 1000;
	syn_send(&s);
	syn_to(&s, 3, 0.5);
	T_CHECK(s.log.n == 3);
	T_CHECK(syn_lap(&s, 0)->invalid_reason == LAP_REASON_INCOMPLETE);
	T_CHECK(syn_lap(&s, 1)->valid && abs(syn_lap(&s, 1)->time_ms - 45000) <= 1);
	T_CHECK(syn_lap(&s, 2)->valid && abs(syn_lap(&s, 2)->time_ms - 45000) <= 1);
	syn_fini(&s);
}

/* A spline jump (teleport to 60 % of the lap) leaves the lap short. */
static void test_cut_short(void)
{
	struct syn s;

	syn_init(&s, FRAME_P_SPLINE | FRAME_P_GAME_TIME, 60000);
	s.pos_ms = 59000;
	syn_send(&s);
	syn_to(&s, 1, 0.3);
	s.pos_ms = 0.6 * 60000;
	syn_to(&s, 3, 0.5);
	T_CHECK(s.log.n == 2);
	T_CHECK(syn_lap(&s, 0)->number == 1 &&
		syn_lap(&s, 0)->invalid_reason == LAP_REASON_CUT_SHORT);
	T_CHECK(syn_lap(&s, 1)->valid);
	syn_fini(&s);
}

static void test_session_change(void)
{
	struct syn s;
	const struct lap_event *e;

	syn_init(&s, SYN_ALL, 60000);
	syn_send(&s);
	syn_to(&s, 2, 0.5);
	s.session = 8; /* new session: counter and clock restart */
	s.counter = 0;
	s.pos_ms = 0;
	s.last_ms = -1;
	syn_send(&s);
	T_CHECK(count_kind(&s.log, LAP_SESSION_CHANGED) == 1);
	e = nth(&s.log, LAP_SESSION_CHANGED, 0);
	T_CHECK(e && e->from_session == 7 && e->to_session == 8);
	syn_to(&s, 2, 0.5);
	T_CHECK(count_kind(&s.log, LAP_COMPLETED) == 4);
	T_CHECK(count_kind(&s.log, LAP_INVALIDATED) == 0);
	T_CHECK(syn_lap(&s, 2)->number == 1 && syn_lap(&s, 2)->valid &&
		syn_lap(&s, 2)->game_session == 8);
	T_CHECK(syn_lap(&s, 2)->personal_best); /* bests are per session */
	T_CHECK(syn_lap(&s, 3)->number == 2 && syn_lap(&s, 3)->valid);

	/* a lap waiting for its time is reported before the session change */
	s.last_lag = 100;
	s.lap_ms[2] = 61000;
	syn_to(&s, 3, 0.0);
	s.session = 9;
	syn_send(&s);
	T_CHECK(s.log.n == 7);
	T_CHECK(s.log.ev[5].kind == LAP_COMPLETED && s.log.ev[5].lap.number == 3 &&
		s.log.ev[5].lap.game_session == 8);
	T_CHECK(s.log.ev[6].kind == LAP_SESSION_CHANGED);
	syn_fini(&s);
}

/* Paused frames: no lap time, no gap, even when the clocks run on. */
static void test_pause(void)
{
	struct syn s;

	/* spline and game clock only: timing from the crossings on the game clock,
	 * which (like Forza's) keeps running while paused */
	syn_init(&s, FRAME_P_SPLINE | FRAME_P_GAME_TIME | FRAME_P_SPEED, 60000);
	s.pos_ms = 59000;
	syn_send(&s);
	syn_to(&s, 1, 0.3);
	s.flags |= FRAME_FLAG_PAUSED;
	for (int i = 0; i < 300; i++) { /* 30 s of paused frames */
		s.gt_s += 0.1;
		s.t_ns += 100000000;
		syn_send(&s);
	}
	s.flags &= (uint16_t)~FRAME_FLAG_PAUSED;
	syn_to(&s, 3, 0.5);
	T_CHECK(s.log.n == 2);
	T_CHECK(syn_lap(&s, 0)->number == 1 && syn_lap(&s, 0)->valid);
	T_CHECKF(abs(syn_lap(&s, 0)->time_ms - 60000) <= 1, "%d", (int)syn_lap(&s, 0)->time_ms);
	T_CHECK(syn_lap(&s, 0)->frames == 1200); /* paused frames not counted */
	syn_fini(&s);

	/* a game that stops sending while paused and stops its lap clock: a 10 s
	 * receive gap that is not a data gap */
	syn_init(&s, SYN_ALL & ~FRAME_P_GAME_TIME, 60000);
	syn_send(&s);
	syn_to(&s, 0, 0.5);
	s.t_ns += 10000000000LL;
	syn_to(&s, 1, 0.5);
	T_CHECK(s.log.n == 1 && syn_lap(&s, 0)->valid && syn_lap(&s, 0)->time_ms == 60000);
	syn_fini(&s);
}

/* Data gaps: frames missing for more than 2 s make the lap incomplete. */
static void test_gap(void)
{
	struct syn s;

	syn_init(&s, SYN_ALL, 60000);
	syn_send(&s);
	syn_to(&s, 1, 0.4);
	syn_step_ms(&s, 3000); /* 3 s of frames lost */
	syn_to(&s, 2, 0.98);
	syn_step_ms(&s, 2500); /* lost across the line */
	syn_to(&s, 4, 0.5);
	T_CHECK(s.log.n == 4);
	T_CHECK(syn_lap(&s, 0)->valid);
	T_CHECK(syn_lap(&s, 1)->invalid_reason == LAP_REASON_INCOMPLETE);
	T_CHECK(syn_lap(&s, 1)->time_ms == 60000);
	T_CHECK(syn_lap(&s, 2)->invalid_reason == LAP_REASON_INCOMPLETE);
	T_CHECK(syn_lap(&s, 3)->invalid_reason == LAP_REASON_INCOMPLETE); /* began in the gap */
	T_CHECK(count_kind(&s.log, LAP_COMPLETED) == 4);
	syn_fini(&s);

	/* a 1.5 s hole is not a gap; receive time only (no game clocks) */
	syn_init(&s, FRAME_P_LAP | FRAME_P_SPLINE, 60000);
	syn_send(&s);
	syn_to(&s, 0, 0.99);
	s.lap_ms[0] = 60000;
	syn_to(&s, 1, 0.4);
	syn_step_ms(&s, 1500);
	syn_to(&s, 2, 0.4);
	syn_step_ms(&s, 2500);
	syn_to(&s, 3, 0.5);
	T_CHECK(s.log.n == 3);
	T_CHECK(syn_lap(&s, 1)->valid);
	T_CHECK(syn_lap(&s, 2)->invalid_reason == LAP_REASON_INCOMPLETE);
	/* counter jumping by two: laps were missed */
	s.counter += 2;
	syn_send(&s);
	T_CHECK(s.log.n == 4 && syn_lap(&s, 3)->number == 5 &&
		syn_lap(&s, 3)->invalid_reason == LAP_REASON_INCOMPLETE);
	syn_fini(&s);
}

/* Every frame twice (same seq), and repeats of the content under new seqs. */
static void test_duplicates(void)
{
	struct syn s;
	struct pw_frame copy;

	syn_init(&s, SYN_ALL, 60000);
	syn_send(&s);
	while (s.counter < 2) {
		syn_step(&s);
		feed(s.l, &s.f, &s.log);
		copy = s.f;
		copy.seq = ++s.seq;
		copy.t_ns += 1000000;
		feed(s.l, &copy, &s.log);
	}
	syn_to(&s, 2, 0.5);
	T_CHECK(s.log.n == 2);
	T_CHECK(syn_lap(&s, 0)->valid && syn_lap(&s, 1)->valid);
	T_CHECK(syn_lap(&s, 0)->frames == 1200 && syn_lap(&s, 1)->frames == 1200);
	T_CHECK(syn_lap(&s, 0)->time_ms == 60000 && syn_lap(&s, 1)->measured_ms == 60000);
	syn_fini(&s);
}

static void test_midlap_start(void)
{
	struct syn s;
	struct lap cur;

	syn_init(&s, SYN_ALL, 60000);
	s.pos_ms = 30000;
	syn_send(&s);
	T_CHECK(laps_current(s.l, &cur) == 1 && cur.invalid_reason == LAP_REASON_INCOMPLETE);
	T_CHECK(cur.time_ms == 30000 && cur.number == 1);
	syn_to(&s, 2, 0.5);
	T_CHECK(s.log.n == 2);
	T_CHECK(syn_lap(&s, 0)->number == 1 && syn_lap(&s, 0)->time_ms == 60000);
	T_CHECK(syn_lap(&s, 0)->measured_ms == 60000); /* the game's lap clock covers it */
	T_CHECK(syn_lap(&s, 0)->invalid_reason == LAP_REASON_INCOMPLETE);
	/* S1 ended before we joined; the game's splits still say it */
	T_CHECK(syn_lap(&s, 0)->sector_ms[0] == 20000 && syn_lap(&s, 0)->sector_ms[2] == 20000);
	T_CHECK(syn_lap(&s, 1)->valid);
	syn_fini(&s);

	/* 0.8 s into the lap at the first frame: seen whole */
	syn_init(&s, SYN_ALL, 60000);
	s.pos_ms = 800;
	syn_send(&s);
	syn_to(&s, 1, 0.5);
	T_CHECK(s.log.n == 1 && syn_lap(&s, 0)->valid);
	syn_fini(&s);

	/* lap clock 0 with the car at 40 % of the lap: the clock is not running,
	 * the lap was not seen from the line */
	syn_init(&s, SYN_ALL, 60000);
	s.pos_ms = 24000;
	syn_build(&s, &s.f);
	s.f.lap_time_ms = 0;
	feed(s.l, &s.f, &s.log);
	T_CHECK(laps_current(s.l, &cur) == 1 && cur.invalid_reason == LAP_REASON_INCOMPLETE);
	syn_fini(&s);

	/* joining at lap counter 11 */
	syn_init(&s, SYN_ALL, 60000);
	s.counter = 11;
	s.pos_ms = 10000;
	syn_send(&s);
	syn_to(&s, 13, 0.5);
	T_CHECK(s.log.n == 2 && syn_lap(&s, 0)->number == 12 && syn_lap(&s, 1)->number == 13);
	syn_fini(&s);
}

static void test_no_lap_channels(void)
{
	struct laps *l = laps_new();
	struct evlog log = { 0 };
	struct pw_frame f;
	struct lap cur;

	for (int i = 0; i < 100; i++) {
		frame_init(&f, PW_GAME_FORZA_SLED, PW_FEED_FORZA);
		f.seq = (uint64_t)i + 1;
		f.present = FRAME_P_SPEED | FRAME_P_GAME_TIME;
		f.game_time_s = i * 0.016;
		f.speed_kmh = (float)i;
		feed(l, &f, &log);
	}
	T_CHECK(log.n == 0 && laps_current(l, &cur) == 0);
	/* frames of another layout version are ignored */
	frame_init(&f, PW_GAME_AC, PW_FEED_KSUDP);
	f.version = FRAME_VERSION + 1;
	f.present = FRAME_P_LAP;
	T_CHECK(feed(l, &f, &log) == 0 && laps_current(l, &cur) == 0);
	laps_free(l);
	laps_free(NULL);
	T_CHECK(laps_feed(NULL, &f, NULL, 0) == 0);
}

/* Events that do not fit in max stay queued for the next call. */
static void test_queue(void)
{
	struct syn s;
	struct lap_event ev[2];
	int n;

	syn_init(&s, SYN_ALL, 60000);
	s.last_lag = 100;
	s.lap_ms[0] = 61000;
	syn_send(&s);
	syn_to(&s, 1, 0.0); /* lap 1 waits for the game's time */
	T_CHECK(s.log.n == 0);
	s.session = 99; /* two events on one frame: lap 1, the change */
	syn_build(&s, &s.f);
	n = laps_feed(s.l, &s.f, ev, 0);
	T_CHECK(n == 0);
	n = laps_feed(s.l, NULL, ev, 1);
	T_CHECK(n == 1 && ev[0].kind == LAP_COMPLETED && ev[0].lap.number == 1);
	n = laps_feed(s.l, NULL, ev, 2);
	T_CHECK(n == 1 && ev[0].kind == LAP_SESSION_CHANGED && ev[0].to_session == 99);
	T_CHECK(laps_feed(s.l, NULL, ev, 2) == 0);
	syn_fini(&s);
}

static void test_json(void)
{
	struct lap lap;
	struct lap_event ev;
	char buf[1024], small[16];
	size_t n, m;
	const char *want =
		"{\"number\":3,\"time_ms\":93456,\"measured_ms\":93455,"
		"\"sector_ms\":[31002,30011,32443],\"valid\":true,\"invalid_reason\":\"none\","
		"\"personal_best\":true,\"game_session\":42,\"start_seq\":1200,\"end_seq\":6807,"
		"\"start_t_ns\":1700000000000000000,\"end_t_ns\":1700000093456000000,"
		"\"min_speed_kmh\":61.20,\"max_speed_kmh\":281.90,\"frames\":5608}";

	memset(&lap, 0, sizeof lap);
	lap.number = 3;
	lap.time_ms = 93456;
	lap.measured_ms = 93455;
	lap.sector_ms[0] = 31002;
	lap.sector_ms[1] = 30011;
	lap.sector_ms[2] = 32443;
	lap.valid = true;
	lap.personal_best = true;
	lap.game_session = 42;
	lap.start_seq = 1200;
	lap.end_seq = 6807;
	lap.start_t_ns = 1700000000000000000LL;
	lap.end_t_ns = 1700000093456000000LL;
	lap.min_speed_kmh = 61.2f;
	lap.max_speed_kmh = 281.9f;
	lap.frames = 5608;
	n = lap_to_json(&lap, buf, sizeof buf);
	T_CHECKF(strcmp(buf, want) == 0, "%s", buf);
	T_CHECK(n == strlen(want));
	/* snprintf semantics */
	m = lap_to_json(&lap, small, sizeof small);
	T_CHECK(m == n && strlen(small) == sizeof small - 1 && memcmp(small, want, 15) == 0);
	T_CHECK(lap_to_json(&lap, NULL, 0) == n);

	lap.time_ms = lap.measured_ms = -1;
	lap.sector_ms[1] = lap.sector_ms[2] = -1;
	lap.valid = false;
	lap.invalid_reason = LAP_REASON_OUT_LAP;
	lap.min_speed_kmh = lap.max_speed_kmh = -1.0f;
	lap_to_json(&lap, buf, sizeof buf);
	T_CHECK(strstr(buf,
		       "\"time_ms\":null,\"measured_ms\":null,\"sector_ms\":[31002,null,null]"));
	T_CHECK(strstr(buf, "\"valid\":false,\"invalid_reason\":\"out_lap\""));
	T_CHECK(strstr(buf, "\"min_speed_kmh\":null,\"max_speed_kmh\":null"));

	memset(&ev, 0, sizeof ev);
	ev.kind = LAP_SESSION_CHANGED;
	ev.from_session = 1;
	ev.to_session = 18446744073709551615ull;
	n = lap_event_to_json(&ev, buf, sizeof buf);
	T_CHECK(strcmp(buf, "{\"event\":\"session_changed\",\"from_session\":1,"
			    "\"to_session\":18446744073709551615}") == 0);
	T_CHECK(n == strlen(buf));
	ev.kind = LAP_INVALIDATED;
	ev.lap = lap;
	n = lap_event_to_json(&ev, buf, sizeof buf);
	T_CHECK(strncmp(buf, "{\"event\":\"lap_invalidated\",\"lap\":{\"number\":3,", 45) == 0);
	T_CHECK(buf[n - 1] == '}' && buf[n - 2] == '}');
	T_CHECK(lap_event_to_json(&ev, NULL, 0) == n);

	T_CHECK(strcmp(lap_reason_name(LAP_REASON_CUT_SHORT), "cut_short") == 0);
	T_CHECK(strcmp(lap_reason_name(LAP_REASON_GAME_FLAG), "game_flag") == 0);
	T_CHECK(strcmp(lap_reason_name(99), "unknown") == 0);
	T_CHECK(strcmp(lap_event_name(LAP_COMPLETED), "lap_completed") == 0);
	T_CHECK(strcmp(lap_event_name(0), "unknown") == 0);
}

int main(void)
{
	T_RUN(test_ac_monza_raw);
	T_RUN(test_ac_monza_pcap);
	T_RUN(test_ac_monza_joined_late);
	T_RUN(test_pcars1_spa);
	T_RUN(test_forza_laguna_seca);
	T_RUN(test_emulator_laps);
	T_RUN(test_emulator_joined_mid_lap);
	T_RUN(test_emulator_spline_only);
	T_RUN(test_counter_laps);
	T_RUN(test_late_invalidation);
	T_RUN(test_late_last_lap);
	T_RUN(test_rewind_in_lap);
	T_RUN(test_rewind_across_line);
	T_RUN(test_restart);
	T_RUN(test_pit);
	T_RUN(test_grid_start);
	T_RUN(test_spline_jitter);
	T_RUN(test_cut_short);
	T_RUN(test_session_change);
	T_RUN(test_pause);
	T_RUN(test_gap);
	T_RUN(test_duplicates);
	T_RUN(test_midlap_start);
	T_RUN(test_no_lap_channels);
	T_RUN(test_queue);
	T_RUN(test_json);
	free(csv.text);
	return T_DONE();
}
