/*
 * test_merge.c - the feed merger (store/merge.c): channel fusion, priority,
 * ordering under interleaved and lagging sources, window edges, duplicates,
 * primary gaps, bounded memory, the full-queue protocol, advance/flush, a
 * realistic two-feed run from the emulator, and throughput.
 *
 * Expected counts below are worked out by hand from the rules in merge.h
 * (the comments show the arithmetic), not from the implementation.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "capture/sim/driver.h"
#include "store/merge.h"
#include "t.h"

#define MS 1000000ll
#define BASE_NS 1700000000000000000ll /* some realtime instant, 2023 */

/* Bytes of each channel, from the channel table (test_frame checks the table itself). */
#define F(id, field, ...) \
	{ FRAME_P_##id, offsetof(struct pw_frame, field), sizeof(((struct pw_frame *)0)->field) },
static const struct {
	uint64_t bit;
	size_t off, len;
} chans[] = { FRAME_CHANNELS(F) };
#undef F
#define NCHANS (sizeof chans / sizeof chans[0])
#define ALL_BITS ((1ull << FRAME_P_COUNT) - 1)

/* ---- helpers ---- */

static struct pw_frame mk(int64_t t_ms, uint64_t seq, uint8_t feed, uint64_t present)
{
	struct pw_frame f;

	memset(&f, 0, sizeof f);
	f.version = FRAME_VERSION;
	f.game = PW_GAME_AC;
	f.feed = feed;
	f.t_ns = BASE_NS + t_ms * MS;
	f.seq = seq;
	f.present = present;
	return f;
}

/* Keep only the channels and flags in keep / keep_flags; the rest zero. */
static void mask_frame(struct pw_frame *f, uint64_t keep, uint16_t keep_flags)
{
	for (size_t i = 0; i < NCHANS; i++)
		if (!(keep & chans[i].bit))
			memset((char *)f + chans[i].off, 0, chans[i].len);
	f->present &= keep;
	f->flags &= keep_flags;
	f->flags_known &= keep_flags;
}

static bool chan_eq(const struct pw_frame *a, const struct pw_frame *b, uint64_t bits)
{
	for (size_t i = 0; i < NCHANS; i++)
		if ((bits & chans[i].bit) && memcmp((const char *)a + chans[i].off,
						    (const char *)b + chans[i].off, chans[i].len))
			return false;
	return true;
}

static struct merge *mk_merge(unsigned n, int64_t w_ms, int64_t gap_ms, int64_t lag_ms)
{
	struct merge_params p = {
		.sources = n, .window_ns = w_ms * MS, .gap_ns = gap_ms * MS, .lag_ns = lag_ms * MS
	};

	return merge_new(&p);
}

/* Pop everything final into out[] (may be NULL to count only). */
static size_t drain(struct merge *m, struct pw_frame *out, size_t *n, size_t cap)
{
	struct pw_frame f;
	size_t got = 0;

	while (merge_pop(m, &f) == 1) {
		if (out && *n < cap)
			out[*n] = f;
		(*n)++;
		got++;
	}
	return got;
}

static struct merge_stats stats(const struct merge *m)
{
	struct merge_stats st;

	merge_stats(m, &st);
	return st;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- tests ---- */

/* The test's channel table covers every channel byte exactly once. */
static void test_channel_table(void)
{
	unsigned char cover[sizeof(struct pw_frame)] = { 0 };
	uint64_t bits = 0;

	T_CHECK(NCHANS == FRAME_P_COUNT);
	for (size_t i = 0; i < NCHANS; i++) {
		T_CHECK(!(bits & chans[i].bit));
		bits |= chans[i].bit;
		for (size_t k = 0; k < chans[i].len; k++)
			cover[chans[i].off + k]++;
	}
	T_CHECK(bits == ALL_BITS);
	for (size_t o = 0; o < sizeof cover; o++) {
		bool chan_byte = (o >= offsetof(struct pw_frame, game_time_s) &&
				  o < offsetof(struct pw_frame, game_time_s) + 8) ||
				 (o >= offsetof(struct pw_frame, throttle) &&
				  o < offsetof(struct pw_frame, reserved) &&
				  (o < offsetof(struct pw_frame, reserved0) ||
				   o >= offsetof(struct pw_frame, reserved0) + 2) &&
				  (o < offsetof(struct pw_frame, derived) ||
				   o >= offsetof(struct pw_frame, derived) + 8));
		T_CHECKF(cover[o] == (chan_byte ? 1 : 0), "byte %zu covered %d times", o, cover[o]);
	}
}

static void test_params(void)
{
	struct merge_params p;
	struct merge *m;
	struct pw_frame f = mk(0, 1, PW_FEED_KSUDP, 0);

	merge_params_default(&p, 2);
	T_CHECK(p.sources == 2 && p.window_ns == MERGE_WINDOW_NS_DEFAULT &&
		p.gap_ns == MERGE_GAP_NS_DEFAULT && p.lag_ns == MERGE_LAG_NS_DEFAULT);
	m = merge_new(&p);
	T_CHECK(m != NULL);
	T_CHECK(merge_params(m)->window_ns == MERGE_WINDOW_NS_DEFAULT);
	T_CHECK(merge_push(m, 2, &f) == -EINVAL);
	T_CHECK(merge_push(m, 0, NULL) == -EINVAL);
	T_CHECK(merge_push(m, 1, &f) == MERGE_OK);
	merge_free(m);
	merge_free(NULL);

	p.sources = 0;
	errno = 0;
	T_CHECK(merge_new(&p) == NULL && errno == EINVAL);
	p.sources = MERGE_SOURCES_MAX + 1;
	T_CHECK(merge_new(&p) == NULL);
	p.sources = MERGE_SOURCES_MAX;
	p.window_ns = -1;
	T_CHECK(merge_new(&p) == NULL);
	p.window_ns = 0;
	p.gap_ns = MERGE_TIME_MAX_NS + 1;
	T_CHECK(merge_new(&p) == NULL);
	p.gap_ns = MERGE_TIME_MAX_NS;
	p.lag_ns = 0;
	m = merge_new(&p);
	T_CHECK(m != NULL);
	merge_free(m);
	T_CHECK(merge_new(NULL) == NULL);
}

/*
 * Every channel: the primary has the even presence bits, the extra all 44,
 * each channel filled with a byte naming its source. Output: even channels
 * from the primary, odd ones from the extra; flags per known bit.
 */
static void test_fuse_all_channels(void)
{
	struct merge *m = mk_merge(2, 10, 500, 1000);
	struct pw_frame p = mk(1000, 77, PW_FEED_KSUDP, 0), e = mk(1004, 5, PW_FEED_ACC, 0), out;
	uint64_t even = 0;

	for (size_t i = 0; i < NCHANS; i++) {
		memset((char *)&p + chans[i].off, 0x10 + (int)i, chans[i].len);
		memset((char *)&e + chans[i].off, 0x80 + (int)i, chans[i].len);
		if (i % 2 == 0)
			even |= chans[i].bit;
	}
	p.present = even;
	e.present = ALL_BITS;
	p.game_session = 42;
	p.flags_known = FRAME_FLAG_ABS | FRAME_FLAG_TC;
	p.flags = FRAME_FLAG_ABS;
	e.flags_known = FRAME_FLAG_ABS | FRAME_FLAG_IN_PIT | FRAME_FLAG_LIMITER;
	e.flags = FRAME_FLAG_IN_PIT | FRAME_FLAG_TC; /* TC not known by e: ignored */

	T_CHECK(merge_push(m, 0, &p) == MERGE_OK);
	T_CHECK(merge_push(m, 1, &e) == MERGE_OK);
	/* final at once: both sources are past 1000 ms, and e (after p) is
	 * nearer than any later extra frame can be */
	T_CHECK(merge_pop(m, &out) == 1);
	T_CHECK(out.present == ALL_BITS);
	T_CHECK(chan_eq(&out, &p, even));
	T_CHECK(chan_eq(&out, &e, ALL_BITS & ~even));
	T_CHECK(out.seq == 77 && out.t_ns == p.t_ns && out.feed == PW_FEED_KSUDP &&
		out.game_session == 42 && out.version == FRAME_VERSION);
	T_CHECK(out.flags_known ==
		(FRAME_FLAG_ABS | FRAME_FLAG_TC | FRAME_FLAG_IN_PIT | FRAME_FLAG_LIMITER));
	T_CHECK(out.flags == (FRAME_FLAG_ABS | FRAME_FLAG_IN_PIT));
	T_CHECK(merge_pop(m, &out) == 0);
	merge_flush(m);
	T_CHECK(merge_pop(m, &out) == 0);
	T_CHECK(stats(m).emitted == 1 && stats(m).fused == 1);
	T_CHECK(stats(m).src[1].lent == 1 && stats(m).src[0].timeline == 1);
	merge_free(m);
}

/* Complementary masks of one frame give the whole frame back. */
static void test_fuse_complement(void)
{
	struct merge *m = mk_merge(2, 20, 500, 1000);
	struct pw_frame whole = mk(0, 1, PW_FEED_KSUDP, ALL_BITS), p, e, out;
	uint64_t mask = 0x0000a5a5c3c35a5aull & ALL_BITS;

	for (size_t i = 0; i < sizeof whole.reserved; i++)
		whole.reserved[i] = 0;
	for (size_t i = 0; i < NCHANS; i++)
		for (size_t k = 0; k < chans[i].len; k++)
			((unsigned char *)&whole)[chans[i].off + k] =
				(unsigned char)(7 * i + 3 * k + 1);
	whole.flags_known = 0x3f;
	whole.flags = 0x15;
	p = whole;
	mask_frame(&p, mask, 0x07);
	e = whole;
	mask_frame(&e, ~mask, 0x38);
	e.t_ns -= 20 * MS; /* exactly -w */
	e.feed = PW_FEED_F1;
	e.seq = 9;
	T_CHECK(merge_push(m, 1, &e) == MERGE_OK);
	T_CHECK(merge_push(m, 0, &p) == MERGE_OK);
	merge_flush(m);
	T_CHECK(merge_pop(m, &out) == 1);
	T_CHECK(memcmp(&out, &whole, sizeof out) == 0);
	T_CHECK(merge_pop(m, &out) == 0);
	/* the extra frame near a primary frame is not emitted on its own */
	T_CHECK(stats(m).emitted == 1 && stats(m).src[1].timeline == 0 &&
		stats(m).src[1].lent == 1);
	merge_free(m);
}

/* Derived channels (common/derive.h): a game's own channel of a lower-priority
 * feed replaces one the primary only has derived; a derived one never replaces
 * a game's own; whatever is copied keeps its derived bit. */
static void test_fuse_derived(void)
{
	struct merge *m = mk_merge(2, 20, 500, 1000);
	uint64_t bits = FRAME_P_SPEED | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON | FRAME_P_YAW_RATE;
	struct pw_frame p = mk(0, 1, PW_FEED_ACC, bits), e = mk(5, 1, PW_FEED_F1, 0), out;

	p.speed_kmh = 100.f;
	p.accel_lat_g = 1.0f;    /* derived */
	p.accel_lon_g = -0.5f;   /* derived */
	p.yaw_rate_rads = 0.25f; /* derived */
	p.derived = FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON | FRAME_P_YAW_RATE;
	e.present = FRAME_P_SPEED | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON | FRAME_P_LAP_DIST;
	e.speed_kmh = 120.f;   /* own, but the primary has its own too */
	e.accel_lat_g = 1.5f;  /* own: replaces the derived one */
	e.accel_lon_g = -0.7f; /* derived as well: the primary's stays */
	e.lap_dist_m = 42.f;   /* derived, missing in the primary: copied, still derived */
	e.derived = FRAME_P_ACCEL_LON | FRAME_P_LAP_DIST;
	T_CHECK(merge_push(m, 1, &e) == MERGE_OK);
	T_CHECK(merge_push(m, 0, &p) == MERGE_OK);
	merge_flush(m);
	T_CHECK(merge_pop(m, &out) == 1);
	T_EQ(out.present, bits | FRAME_P_LAP_DIST);
	T_EQ(out.speed_kmh, 100.f);
	T_EQ(out.accel_lat_g, 1.5f);
	T_EQ(out.accel_lon_g, -0.5f);
	T_EQ(out.yaw_rate_rads, 0.25f);
	T_EQ(out.lap_dist_m, 42.f);
	T_EQ(out.derived, FRAME_P_ACCEL_LON | FRAME_P_YAW_RATE | FRAME_P_LAP_DIST);
	T_CHECK(stats(m).fused == 1);
	merge_free(m);
}

/* Three sources: each fills only what the higher-priority ones lack. */
static void test_priority_three_sources(void)
{
	struct merge *m = mk_merge(3, 10, 200, 1000);
	struct pw_frame a = mk(100, 1, PW_FEED_KSUDP, FRAME_P_THROTTLE);
	struct pw_frame b = mk(103, 1, PW_FEED_ACC, FRAME_P_THROTTLE | FRAME_P_SPEED);
	struct pw_frame c = mk(97, 1, PW_FEED_F1, FRAME_P_THROTTLE | FRAME_P_SPEED | FRAME_P_RPM);
	struct pw_frame out;

	a.throttle = 0.1f;
	b.throttle = 0.2f;
	b.speed_kmh = 200.0f;
	c.throttle = 0.3f;
	c.speed_kmh = 300.0f;
	c.rpm = 3000.0f;
	T_CHECK(merge_push(m, 2, &c) == MERGE_OK);
	T_CHECK(merge_push(m, 1, &b) == MERGE_OK);
	T_CHECK(merge_push(m, 0, &a) == MERGE_OK);
	merge_flush(m);
	T_CHECK(merge_pop(m, &out) == 1);
	T_CHECK(out.present == (FRAME_P_THROTTLE | FRAME_P_SPEED | FRAME_P_RPM));
	T_CHECK(out.throttle == 0.1f && out.speed_kmh == 200.0f && out.rpm == 3000.0f);
	T_CHECK(out.feed == PW_FEED_KSUDP);
	T_CHECK(merge_pop(m, &out) == 0);
	merge_free(m);

	/*
	 * Primary silent 0..2000 ms except frames at 0 and 2000: in between
	 * source 1 (every 50 ms) is the timeline and source 2 (every 50 ms,
	 * 5 ms later) fills it. Source 1 frames within 10 ms of a primary frame
	 * (0 and 2000) lend to it instead: 50..1950 = 39 timeline frames.
	 */
	m = mk_merge(3, 10, 200, 1000);
	for (int k = 0; k <= 40; k++) {
		struct pw_frame s1 = mk(50 * k, (uint64_t)k + 1, PW_FEED_ACC, FRAME_P_SPEED);
		struct pw_frame s2 =
			mk(50 * k + 5, (uint64_t)k + 1, PW_FEED_F1, FRAME_P_RPM | FRAME_P_SPEED);

		if (k == 0 || k == 40) {
			struct pw_frame p =
				mk(50 * k, (uint64_t)k + 1, PW_FEED_KSUDP, FRAME_P_THROTTLE);
			T_CHECK(merge_push(m, 0, &p) == MERGE_OK);
		}
		s1.speed_kmh = (float)k;
		s2.speed_kmh = -1.0f;
		s2.rpm = (float)(1000 + k);
		T_CHECK(merge_push(m, 1, &s1) == MERGE_OK);
		T_CHECK(merge_push(m, 2, &s2) == MERGE_OK);
	}
	merge_flush(m);
	{
		struct pw_frame o[64];
		size_t n = 0;

		drain(m, o, &n, 64);
		T_CHECK(n == 41);
		for (size_t i = 0; i < n && n == 41; i++) {
			int64_t t_ms = (o[i].t_ns - BASE_NS) / MS;
			T_CHECK(t_ms == 50 * (int64_t)i);
			T_CHECK(o[i].feed == (i == 0 || i == 40 ? PW_FEED_KSUDP : PW_FEED_ACC));
			T_CHECK(o[i].speed_kmh == (float)i); /* source 1 wins over source 2 */
			T_CHECK(o[i].rpm == (float)(1000 + i) && (o[i].present & FRAME_P_RPM));
		}
		T_CHECK(stats(m).src[1].timeline == 39 && stats(m).src[1].lent == 2);
		T_CHECK(stats(m).src[2].lent == 41 && stats(m).src[2].timeline == 0);
	}
	merge_free(m);
}

/* ---- ordering with interleaved and lagging sources ---- */

#define ORD_SECONDS 30
struct ord_frame {
	struct pw_frame f;
	unsigned src;
	int64_t avail_ns; /* when the store sees it */
};

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1Dull;
}

static int64_t jitter_ms(int64_t amp)
{
	return (int64_t)(rnd() % (uint64_t)(2 * amp + 1)) - amp;
}

static int by_avail(const void *a, const void *b)
{
	const struct ord_frame *x = a, *y = b;

	if (x->avail_ns != y->avail_ns)
		return x->avail_ns < y->avail_ns ? -1 : 1;
	if (x->src != y->src)
		return (int)x->src - (int)y->src;
	return x->f.t_ns < y->f.t_ns ? -1 : x->f.t_ns > y->f.t_ns;
}

static int by_time(const void *a, const void *b)
{
	const struct ord_frame *x = a, *y = b;

	if (x->f.t_ns != y->f.t_ns)
		return x->f.t_ns < y->f.t_ns ? -1 : 1;
	return (int)x->src - (int)y->src;
}

/*
 * 100 Hz primary for 30 s, 60 Hz and 20 Hz extras up to 30.001 s (so that
 * the last primary frames have both and no extra frame outlives the primary
 * by more than w), +-2 ms jitter. Source 1 reaches
 * the store in 300 ms batches, source 2 with random delays up to 800 ms (in
 * order). The streamed result must equal the result of pushing everything in
 * time order, every frame must carry all three channel sets, and nothing may
 * be late.
 */
static void test_order_interleaved_lagging(void)
{
	static const int hz[3] = { 100, 60, 20 };
	static const int count[3] = { ORD_SECONDS * 100, ORD_SECONDS * 60 + 1,
				      ORD_SECONDS * 20 + 1 };
	static const uint64_t bits[3] = { FRAME_P_THROTTLE, FRAME_P_SPEED, FRAME_P_TYRE_TEMP };
	size_t cap = ORD_SECONDS * (100 + 60 + 20) + 16, n = 0, na = 0, nb = 0;
	struct ord_frame *fr = calloc(cap, sizeof *fr);
	struct pw_frame *a = calloc(cap, sizeof *a), *b = calloc(cap, sizeof *b);
	struct merge *ma = mk_merge(3, 30, 500, 1000), *mb = mk_merge(3, 30, 500, 1000);
	int64_t src2_avail = 0;
	size_t popped_while_streaming = 0;
	struct merge_stats st;

	for (unsigned s = 0; s < 3; s++) {
		for (int k = 0; k < count[s]; k++) {
			int64_t t = (int64_t)k * 1000 / hz[s] + 1 + jitter_ms(2);
			struct ord_frame *o = &fr[n++];

			o->src = s;
			o->f = mk(t, (uint64_t)k + 100, (uint8_t)(s + 1), bits[s]);
			o->f.throttle = (float)k;
			o->f.speed_kmh = (float)k;
			o->f.tyre_temp_c[0] = (float)k;
			if (s == 0)
				o->avail_ns = o->f.t_ns + 2 * MS;
			else if (s == 1)
				o->avail_ns = BASE_NS + (t / 300 + 1) * 300 * MS;
			else {
				int64_t late = o->f.t_ns + (int64_t)(rnd() % 800) * MS;
				src2_avail = o->avail_ns = late > src2_avail ? late : src2_avail;
			}
		}
	}
	qsort(fr, n, sizeof *fr, by_avail);
	for (size_t i = 0; i < n; i++) {
		T_CHECK(merge_push(ma, fr[i].src, &fr[i].f) == MERGE_OK);
		if (i % 7 == 0)
			popped_while_streaming += drain(ma, a, &na, cap);
	}
	merge_flush(ma);
	drain(ma, a, &na, cap);

	qsort(fr, n, sizeof *fr, by_time);
	for (size_t i = 0; i < n; i++)
		T_CHECK(merge_push(mb, fr[i].src, &fr[i].f) == MERGE_OK);
	merge_flush(mb);
	drain(mb, b, &nb, cap);

	T_CHECKF(na == (size_t)ORD_SECONDS * 100, "%zu frames", na);
	T_CHECK(na == nb && memcmp(a, b, na * sizeof *a) == 0);
	T_CHECKF(popped_while_streaming > na * 9 / 10, "only %zu before the flush",
		 popped_while_streaming);
	for (size_t i = 0; i < na; i++) {
		T_CHECK(a[i].present == (bits[0] | bits[1] | bits[2]));
		T_CHECK(a[i].feed == 1 && a[i].seq == i + 100 && a[i].throttle == (float)i);
		T_CHECK(i == 0 || a[i].t_ns > a[i - 1].t_ns);
		/* the nearest 60 Hz and 20 Hz frames: index ~ t * hz */
		T_NEAR(a[i].speed_kmh, (double)((a[i].t_ns - BASE_NS) / MS) * 60 / 1000, 1.0);
		T_NEAR(a[i].tyre_temp_c[0], (double)((a[i].t_ns - BASE_NS) / MS) * 20 / 1000, 1.0);
	}
	st = stats(ma);
	for (unsigned s = 0; s < 3; s++)
		T_CHECK(st.src[s].late == 0 && st.src[s].dup == 0 && st.src[s].queued == 0 &&
			st.src[s].in == (uint64_t)count[s] &&
			st.src[s].timeline == (s == 0 ? 3000u : 0u));
	T_CHECK(st.src[1].lent + st.src[1].unused == st.src[1].in);
	/* each 20 Hz frame is the nearest of ~5 primary frames */
	T_CHECK(st.src[2].lent == st.src[2].in);
	T_CHECK(st.emitted == na && st.fused == na);
	merge_free(ma);
	merge_free(mb);
	free(fr);
	free(a);
	free(b);
}

/*
 * w = 10 ms. Primary every 100 ms. Extra frames at exactly -w and +w lend;
 * at w + 1 ms they do not (and are dropped: the primary has no gap). A tie
 * (5 ms either side) goes to the earlier frame; an extra at the very same
 * time wins over one 2 ms off.
 */
static void test_window_edges(void)
{
	struct merge *m = mk_merge(2, 10, 1000, 1000);
	static const int64_t ex[] = { 90, 210, 311, 389, 495, 505, 700, 702 };
	struct pw_frame o[8];
	size_t n = 0;

	for (int k = 1; k <= 7; k++) {
		struct pw_frame p = mk(100 * k, (uint64_t)k, PW_FEED_KSUDP, FRAME_P_THROTTLE);
		T_CHECK(merge_push(m, 0, &p) == MERGE_OK);
	}
	for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
		struct pw_frame e = mk(ex[i], i + 1, PW_FEED_ACC, FRAME_P_FUEL_L);
		e.fuel_l = (float)ex[i];
		T_CHECK(merge_push(m, 1, &e) == MERGE_OK);
	}
	merge_flush(m);
	drain(m, o, &n, 8);
	T_CHECK(n == 7);
	if (n == 7) {
		static const float want[7] = { 90, 210, 0, 0, 495, 0, 700 };
		for (int k = 0; k < 7; k++) {
			T_CHECKF(o[k].fuel_l == want[k], "frame %d fuel %g", k, o[k].fuel_l);
			T_CHECK(!!(o[k].present & FRAME_P_FUEL_L) == (want[k] != 0));
		}
	}
	T_CHECK(stats(m).src[1].lent == 4 && stats(m).src[1].unused == 4);
	T_CHECK(stats(m).fused == 4 && stats(m).src[1].timeline == 0);
	merge_free(m);

	/*
	 * The same edges for extra frames of their own (w = 10, X = 50): at
	 * exactly w from a primary frame an extra frame lends, at w + 1 in a gap
	 * longer than X it is emitted; a gap of exactly X is not long enough.
	 *   primary 100, 300 (gap 200): extras 110 lent, 111 own, 289 own, 290 lent
	 *   primary 400, 450 (gap 50 = X): extra 425 dropped
	 *   primary 600, 651 (gap 51 > X): extra 625 own
	 */
	m = mk_merge(2, 10, 50, 1000);
	{
		static const int64_t pt[] = { 100, 300, 400, 450, 600, 651 };
		static const int64_t et[] = { 110, 111, 289, 290, 425, 625 };
		static const int64_t want_t[] = { 100, 111, 289, 300, 400, 450, 600, 625, 651 };
		size_t ip = 0, ie = 0;

		while (ip < 6 || ie < 6) {
			if (ip < 6 && (ie == 6 || pt[ip] <= et[ie])) {
				struct pw_frame p =
					mk(pt[ip], ip + 1, PW_FEED_KSUDP, FRAME_P_THROTTLE);
				merge_push(m, 0, &p);
				ip++;
			} else {
				struct pw_frame e = mk(et[ie], ie + 1, PW_FEED_ACC, FRAME_P_FUEL_L);
				merge_push(m, 1, &e);
				ie++;
			}
		}
		merge_flush(m);
		n = 0;
		{
			struct pw_frame o9[9];
			drain(m, o9, &n, 9);
			T_CHECKF(n == 9, "%zu", n);
			for (size_t i = 0; i < n && n == 9; i++)
				T_CHECKF(o9[i].t_ns == BASE_NS + want_t[i] * MS,
					 "frame %zu at %lld", i,
					 (long long)((o9[i].t_ns - BASE_NS) / MS));
		}
		T_CHECK(stats(m).src[1].timeline == 3 && stats(m).src[1].lent == 2 &&
			stats(m).src[1].unused == 1);
	}
	merge_free(m);

	/* w = 0: only the very same t_ns fuses */
	m = mk_merge(2, 0, 1000, 1000);
	{
		struct pw_frame p = mk(100, 1, PW_FEED_KSUDP, FRAME_P_THROTTLE);
		struct pw_frame e1 = mk(100, 1, PW_FEED_ACC, FRAME_P_GEAR);
		struct pw_frame e2 = mk(200, 2, PW_FEED_ACC, FRAME_P_GEAR);
		struct pw_frame q = mk(200, 2, PW_FEED_KSUDP, FRAME_P_THROTTLE);

		q.t_ns += 1; /* 1 ns off */
		merge_push(m, 0, &p);
		merge_push(m, 1, &e1);
		merge_push(m, 1, &e2);
		merge_push(m, 0, &q);
		merge_flush(m);
		n = 0;
		drain(m, o, &n, 8);
		T_CHECK(n == 2 && (o[0].present & FRAME_P_GEAR) && !(o[1].present & FRAME_P_GEAR));
	}
	merge_free(m);
}

/* Same t_ns or same seq as the source's previous frame: DUP; older: LATE. */
static void test_duplicates(void)
{
	struct merge *m = mk_merge(2, 10, 500, 1000);
	struct pw_frame p = mk(100, 10, PW_FEED_KSUDP, FRAME_P_THROTTLE), q, o[8];
	struct pw_frame e = mk(100, 3, PW_FEED_ACC, FRAME_P_THROTTLE | FRAME_P_RPM);
	size_t n = 0;
	struct merge_stats st;

	p.throttle = 0.5f;
	e.throttle = 0.9f;
	e.rpm = 5000.0f;
	T_CHECK(merge_push(m, 0, &p) == MERGE_OK);
	T_CHECK(merge_push(m, 0, &p) == MERGE_DUP); /* the same frame again */
	q = p;
	q.seq = 11;
	T_CHECK(merge_push(m, 0, &q) == MERGE_DUP); /* same t_ns */
	q = mk(110, 10, PW_FEED_KSUDP, FRAME_P_THROTTLE);
	T_CHECK(merge_push(m, 0, &q) == MERGE_DUP); /* same seq */
	q = mk(90, 12, PW_FEED_KSUDP, FRAME_P_THROTTLE);
	T_CHECK(merge_push(m, 0, &q) == MERGE_LATE); /* older */
	T_CHECK(merge_push(m, 1, &e) == MERGE_OK);   /* same time, other source: fused */
	T_CHECK(merge_push(m, 1, &e) == MERGE_DUP);
	q = mk(120, 11, PW_FEED_KSUDP, FRAME_P_THROTTLE);
	T_CHECK(merge_push(m, 0, &q) == MERGE_OK);
	merge_flush(m);
	drain(m, o, &n, 8);
	T_CHECK(n == 2);
	T_CHECK(o[0].throttle == 0.5f && o[0].rpm == 5000.0f && o[0].seq == 10);
	T_CHECK(o[1].seq == 11 && !(o[1].present & FRAME_P_RPM)); /* 20 ms away from e */
	st = stats(m);
	T_CHECK(st.src[0].in == 2 && st.src[0].dup == 3 && st.src[0].late == 1);
	T_CHECK(st.src[1].in == 1 && st.src[1].dup == 1 && st.src[1].lent == 1);
	T_CHECK(merge_push(m, 0, &q) == MERGE_DUP);
	q.t_ns += MS;
	q.seq++;
	T_CHECK(merge_push(m, 0, &q) == MERGE_LATE); /* after the flush */
	merge_free(m);
}

/*
 * w = 20 ms, X = 500 ms, lag 1 s. Primary every 10 ms at k = 0..199,
 * 230..399, 650..799 (520 frames); extra every 20 ms at j = -50..599 (650).
 * Primary k picks extra floor(k/2) (k even: same time; k odd: 10 ms either
 * side, the earlier wins), so the extras that lend are
 *   j = 0..99, 115..199, 325..399                               260 frames
 * Dropped (unused): orphans in the 1990 -> 2300 ms gap (310 <= X),
 * j = 101..113, and frames within w of a primary frame but nobody's
 * nearest: j = -1, 100, 114, 200, 324, 400                      19 frames
 * Extra-only frames (timeline):
 *   before the primary starts   j = -50..-2                     49
 *   the 3990 -> 6500 ms gap     j = 201..323 (4020..6460 ms)    123
 *   after the primary stops     j = 401..599 (8020..11980 ms)   199
 * Before the flush the horizon is 11980 - 1000 = 10980 ms and an extra
 * frame at t is final once t + 20 ms <= 10980: j <= 548 -> 148 of the last
 * 199 are out already (the extras keep the run going).
 */
static void test_primary_gap(void)
{
	struct merge *m = mk_merge(2, 20, 500, 1000);
	struct pw_frame *o = calloc(1200, sizeof *o);
	size_t n = 0, before_flush, tail_live = 0;
	int k = 0, j = -50;
	struct merge_stats st;

	while (k < 800 || j < 600) {
		bool prim = k < 800 && (j >= 600 || 10 * k <= 20 * j);

		if (prim) {
			if (k < 200 || (k >= 230 && k < 400) || k >= 650) {
				struct pw_frame p =
					mk(10 * k, (uint64_t)k, PW_FEED_KSUDP, FRAME_P_THROTTLE);
				T_CHECK(merge_push(m, 0, &p) == MERGE_OK);
			}
			k++;
		} else {
			struct pw_frame e =
				mk(20 * j, (uint64_t)(j + 100), PW_FEED_ACC, FRAME_P_TYRE_TEMP);
			T_CHECK(merge_push(m, 1, &e) == MERGE_OK);
			j++;
		}
		drain(m, o, &n, 1200);
	}
	before_flush = n;
	for (size_t i = 0; i < n; i++)
		tail_live += o[i].t_ns >= BASE_NS + 8020 * MS;
	merge_flush(m);
	drain(m, o, &n, 1200);

	T_CHECKF(n == 520 + 49 + 123 + 199, "%zu frames", n);
	T_CHECKF(before_flush == 520 + 49 + 123 + 148, "%zu before the flush", before_flush);
	T_CHECK(tail_live == 148);
	st = stats(m);
	T_CHECKF(st.src[1].timeline == 371 && st.src[1].lent == 260 && st.src[1].unused == 19,
		 "timeline %llu lent %llu unused %llu", (unsigned long long)st.src[1].timeline,
		 (unsigned long long)st.src[1].lent, (unsigned long long)st.src[1].unused);
	T_CHECK(st.src[0].timeline == 520 && st.emitted == n);
	for (size_t i = 0; i < n && i < 1200; i++) {
		int64_t t = (o[i].t_ns - BASE_NS) / MS;
		bool extra_only = t < -20 || (t > 4000 && t < 6480) || t > 8000;

		T_CHECK(i == 0 || o[i].t_ns > o[i - 1].t_ns);
		if (extra_only)
			T_CHECK(o[i].feed == PW_FEED_ACC && o[i].present == FRAME_P_TYRE_TEMP);
		else
			T_CHECK(o[i].feed == PW_FEED_KSUDP && (o[i].present & FRAME_P_THROTTLE));
		/* no extra-only frame inside the short gap */
		T_CHECK(!(t > 1990 && t < 2300));
	}
	free(o);
	merge_free(m);
}

/*
 * 333 Hz primary for 1 M frames (~55 min) while source 1 sent one frame and
 * then stalled, and source 2 keeps repeating its one old frame. Defaults:
 * w = 100 ms, lag 1 s. The primary frame at t = 3k ms is final once
 * t + 100 <= newest - 1000, so after frame N-1: k <= N - 1 - 366.67, i.e.
 * N - 367 frames out; the queue never holds more than ~(lag + 2w) x 333 Hz.
 */
static void test_bounded_memory_stalled_source(void)
{
	struct merge_params p;
	struct merge *m;
	struct pw_frame f = mk(0, 0, PW_FEED_KSUDP, FRAME_P_THROTTLE), o;
	struct pw_frame s1 = mk(0, 1, PW_FEED_ACC, FRAME_P_RPM);
	struct pw_frame s2 = mk(1, 1, PW_FEED_F1, FRAME_P_GEAR);
	const uint64_t n = 1000000;
	uint64_t got = 0;
	struct merge_stats st;

	merge_params_default(&p, 3);
	m = merge_new(&p);
	T_CHECK(merge_push(m, 1, &s1) == MERGE_OK);
	T_CHECK(merge_push(m, 2, &s2) == MERGE_OK);
	for (uint64_t k = 0; k < n; k++) {
		f.t_ns = BASE_NS + (int64_t)k * 3 * MS;
		f.seq = k;
		f.throttle = (float)(k & 1023);
		T_CHECK(merge_push(m, 0, &f) == MERGE_OK);
		if (k % 100 == 99)
			T_CHECK(merge_push(m, 2, &s2) == MERGE_DUP);
		while (merge_pop(m, &o) == 1) {
			if (o.seq != got || o.throttle != (float)(got & 1023))
				T_CHECKF(0, "frame %llu: seq %llu", (unsigned long long)got,
					 (unsigned long long)o.seq);
			got++;
		}
	}
	st = stats(m);
	T_CHECKF(got == n - 367, "%llu out", (unsigned long long)got);
	T_CHECKF(st.src[0].queued_peak <= (1000 + 2 * 100) / 3 + 5, "peak %llu",
		 (unsigned long long)st.src[0].queued_peak);
	T_CHECK(st.src[2].dup == n / 100 && st.src[1].queued <= 1 && st.src[2].queued <= 1);
	merge_flush(m);
	while (merge_pop(m, &o) == 1)
		got++;
	T_CHECK(got == n);
	merge_free(m);
}

/*
 * The full-queue protocol. (1) 5000 frames at 333 Hz pushed without popping
 * while source 1 is silent and the lag bound is long: MERGE_FULL at the
 * 4097th; pop until 0, push again: taken, nothing lost. (2) 5000 frames 1 ns
 * apart: FULL, the pops give nothing (4096 frames span less than w), FULL
 * again, now the pops release all 4096, and the frame is then too late.
 */
static void test_full_queue(void)
{
	struct merge *m = mk_merge(2, 100, 500, 60000);
	struct pw_frame f = mk(0, 0, PW_FEED_KSUDP, FRAME_P_THROTTLE);
	size_t n = 0, rounds_max = 0;
	struct merge_stats st;

	for (int k = 0; k < 5000; k++) {
		size_t rounds = 0;
		int rc;

		f.t_ns = BASE_NS + (int64_t)k * 3 * MS;
		f.seq = (uint64_t)k;
		while ((rc = merge_push(m, 0, &f)) == MERGE_FULL) {
			if (k != (int)MERGE_QUEUE_MAX && rounds == 0)
				T_CHECKF(0, "first FULL at %d", k);
			drain(m, NULL, &n, 0);
			if (++rounds > 2)
				break;
		}
		T_CHECK(rc == MERGE_OK);
		if (rounds > rounds_max)
			rounds_max = rounds;
		if (k == (int)MERGE_QUEUE_MAX)
			T_CHECKF(stats(m).src[0].queued < MERGE_QUEUE_MAX / 2, "queued %llu",
				 (unsigned long long)stats(m).src[0].queued);
	}
	T_CHECK(rounds_max == 1);
	merge_flush(m);
	drain(m, NULL, &n, 0);
	st = stats(m);
	T_CHECK(n == 5000 && st.src[0].in == 5000 && st.src[0].late == 0 && st.src[0].full >= 1);
	T_CHECK(st.src[0].queued_peak == MERGE_QUEUE_MAX);
	merge_free(m);

	m = mk_merge(2, 100, 500, 60000);
	n = 0;
	for (int k = 0; k < (int)MERGE_QUEUE_MAX; k++) {
		f.t_ns = BASE_NS + k;
		f.seq = (uint64_t)k;
		T_CHECK(merge_push(m, 0, &f) == MERGE_OK);
	}
	f.t_ns = BASE_NS + MERGE_QUEUE_MAX;
	f.seq = MERGE_QUEUE_MAX;
	T_CHECK(merge_push(m, 0, &f) == MERGE_FULL);
	T_CHECK(drain(m, NULL, &n, 0) == 0);
	T_CHECK(merge_push(m, 0, &f) == MERGE_FULL);
	T_CHECK(drain(m, NULL, &n, 0) == MERGE_QUEUE_MAX);
	T_CHECK(stats(m).src[0].queued == 0);
	T_CHECK(merge_push(m, 0, &f) == MERGE_LATE);
	merge_free(m);
}

/* Every feed stops: merge_advance() releases the last frames without a flush. */
static void test_advance(void)
{
	struct merge *m = mk_merge(2, 20, 500, 1000);
	size_t n = 0;
	struct pw_frame f;

	for (int k = 0; k < 1000; k++) {
		struct pw_frame p = mk(10 * k, (uint64_t)k, PW_FEED_KSUDP, FRAME_P_THROTTLE);
		T_CHECK(merge_push(m, 0, &p) == MERGE_OK);
		if (k % 2 == 0) {
			struct pw_frame e = mk(10 * k + 3, (uint64_t)k, PW_FEED_ACC, FRAME_P_RPM);
			T_CHECK(merge_push(m, 1, &e) == MERGE_OK);
		}
		drain(m, NULL, &n, 0);
	}
	/* horizon = min(last primary 9990, last extra 9983) = 9983 ms; a
	 * primary frame is final once an extra frame after it is known (k <= 998)
	 * or t + 20 <= horizon: the one at 9990 waits */
	T_CHECKF(n == 999, "%zu", n);
	T_CHECK(stats(m).horizon_ns == BASE_NS + 9983 * MS);
	merge_advance(m, BASE_NS + 10500 * MS); /* horizon 9500: nothing new */
	T_CHECK(merge_pop(m, &f) == 0);
	merge_advance(m, BASE_NS + 11010 * MS); /* horizon 10010 >= 9990 + 20 */
	drain(m, NULL, &n, 0);
	T_CHECK(n == 1000);
	T_CHECK(stats(m).horizon_ns == BASE_NS + 10010 * MS);
	f = mk(10005, 5000, PW_FEED_ACC, FRAME_P_RPM);
	T_CHECK(merge_push(m, 1, &f) == MERGE_LATE);
	T_CHECK(stats(m).src[1].lent + stats(m).src[1].unused == 500);
	merge_free(m);
}

/* ---- realistic: the emulator's car, split into two feeds ---- */

#define SIM_SECONDS 120
#define PRIMARY_BITS                                                                             \
	(FRAME_P_GAME_TIME | FRAME_P_THROTTLE | FRAME_P_BRAKE | FRAME_P_CLUTCH | FRAME_P_STEER | \
	 FRAME_P_GEAR | FRAME_P_SPEED | FRAME_P_RPM | FRAME_P_POS | FRAME_P_LAP |                \
	 FRAME_P_LAP_TIME | FRAME_P_SPLINE)
#define EXTRA_BITS                                                                      \
	(FRAME_P_TYRE_TEMP | FRAME_P_TYRE_PRESS | FRAME_P_BRAKE_TEMP | FRAME_P_FUEL_L | \
	 FRAME_P_SPEED)
#define PRIMARY_FLAGS (FRAME_FLAG_ABS | FRAME_FLAG_TC | FRAME_FLAG_LIMITER)
#define EXTRA_FLAGS \
	(FRAME_FLAG_IN_PIT | FRAME_FLAG_LAP_INVALID | FRAME_FLAG_PAUSED | FRAME_FLAG_ABS)

struct sim_run {
	struct pw_frame *pri, *pri_truth, *ext;
	size_t npri, next;
};

/*
 * One driver, 1 ms physics: a 60 Hz primary (inputs, engine, lap) and a
 * 20 Hz extra (tyres, brakes, fuel, and its own speed) offset by 7 ms, both
 * with +-3 ms receive jitter.
 */
static bool sim_feeds(struct sim_run *r)
{
	struct track *t = track_new();
	struct driver *d = t ? driver_new(DRIVER_LAPS, 11, car_default(), t) : NULL;
	size_t cap_p = SIM_SECONDS * 60 + 2, cap_e = SIM_SECONDS * 20 + 2;

	r->pri = calloc(cap_p, sizeof *r->pri);
	r->pri_truth = calloc(cap_p, sizeof *r->pri_truth);
	r->ext = calloc(cap_e, sizeof *r->ext);
	r->npri = r->next = 0;
	if (!d || !r->pri || !r->pri_truth || !r->ext) {
		driver_free(d);
		track_free(t);
		return false;
	}
	for (int64_t step = 0; step < SIM_SECONDS * 1000; step++) {
		bool p_due = step == llround((double)r->npri * 1000.0 / 60.0);
		bool e_due = step == 7 + 50 * (int64_t)r->next;
		struct pw_frame f;

		if (!p_due && !e_due)
			continue;
		driver_run_to(d, step);
		if (p_due) {
			driver_frame(d, &f);
			f.game = PW_GAME_AC;
			f.feed = PW_FEED_KSUDP;
			f.seq = 1000 + r->npri;
			f.t_ns = BASE_NS + step * MS + jitter_ms(3) * MS;
			r->pri_truth[r->npri] = f;
			mask_frame(&f, PRIMARY_BITS, PRIMARY_FLAGS);
			r->pri[r->npri++] = f;
		}
		if (e_due) {
			driver_frame(d, &f);
			f.game = PW_GAME_AC;
			f.feed = PW_FEED_PCARS;
			f.seq = 50 + r->next;
			f.t_ns = BASE_NS + step * MS + jitter_ms(3) * MS;
			f.speed_kmh = -1.0f; /* the primary's speed must win */
			mask_frame(&f, EXTRA_BITS, EXTRA_FLAGS);
			r->ext[r->next++] = f;
		}
	}
	driver_free(d);
	track_free(t);
	return true;
}

/* Brute force: index of the extra frame nearest to t within w, ties earlier. */
static long nearest_extra(const struct sim_run *r, int64_t t, int64_t w)
{
	long best = -1;
	int64_t best_d = 0;

	for (size_t i = 0; i < r->next; i++) {
		int64_t d = llabs(r->ext[i].t_ns - t);
		if (d <= w && (best < 0 || d < best_d)) {
			best = (long)i;
			best_d = d;
		}
	}
	return best;
}

static void test_realistic_sim_two_feeds(void)
{
	struct sim_run r;
	struct merge *m = mk_merge(2, 35, 500, 1000);
	struct pw_frame *o;
	size_t n = 0, ip = 0, ie = 0, bad_values = 0, bad_truth = 0, bad_flags = 0;
	double max_temp_err = 0.0;
	struct merge_stats st;

	T_CHECK(sim_feeds(&r));
	T_CHECK(r.npri == SIM_SECONDS * 60 && r.next == SIM_SECONDS * 20);
	o = calloc(r.npri + 16, sizeof *o);
	/* the store sees primary frames 2 ms after receipt, extra frames in
	 * 250 ms batches; it pops after every push */
	while (ip < r.npri || ie < r.next) {
		int64_t avail_p = ip < r.npri ? r.pri[ip].t_ns + 2 * MS : INT64_MAX;
		int64_t batch = 250 * MS;
		int64_t avail_e = INT64_MAX;

		if (ie < r.next)
			avail_e = ((r.ext[ie].t_ns - BASE_NS) / batch + 1) * batch + BASE_NS;

		if (avail_p <= avail_e)
			T_CHECK(merge_push(m, 0, &r.pri[ip++]) == MERGE_OK);
		else
			T_CHECK(merge_push(m, 1, &r.ext[ie++]) == MERGE_OK);
		drain(m, o, &n, r.npri + 16);
	}
	merge_flush(m);
	drain(m, o, &n, r.npri + 16);

	T_CHECKF(n == r.npri, "%zu of %zu", n, r.npri);
	for (size_t k = 0; k < n && k < r.npri; k++) {
		const struct pw_frame *p = &r.pri[k], *truth = &r.pri_truth[k];
		long e = nearest_extra(&r, p->t_ns, 35 * MS);

		T_CHECK(e >= 0);
		if (e < 0)
			continue;
		if (o[k].seq != p->seq || o[k].t_ns != p->t_ns || o[k].feed != PW_FEED_KSUDP ||
		    o[k].present != (PRIMARY_BITS | EXTRA_BITS) ||
		    !chan_eq(&o[k], p, PRIMARY_BITS) ||
		    !chan_eq(&o[k], &r.ext[e], EXTRA_BITS & ~PRIMARY_BITS))
			bad_values++;
		if (o[k].flags_known != (PRIMARY_FLAGS | EXTRA_FLAGS) ||
		    (o[k].flags & PRIMARY_FLAGS) != (truth->flags & PRIMARY_FLAGS) ||
		    (o[k].flags & ~PRIMARY_FLAGS) != (r.ext[e].flags & ~PRIMARY_FLAGS))
			bad_flags++;
		/* the filled tyre temperatures are those of the car at that instant */
		for (int w = 0; w < 4; w++) {
			double err = fabs(o[k].tyre_temp_c[w] - truth->tyre_temp_c[w]);
			max_temp_err = fmax(max_temp_err, err);
			bad_truth += err > 0.5;
		}
		bad_truth += fabs(o[k].fuel_l - truth->fuel_l) > 0.05;
	}
	T_CHECKF(bad_values == 0, "%zu frames with wrong channels", bad_values);
	T_CHECKF(bad_flags == 0, "%zu frames with wrong flags", bad_flags);
	T_CHECKF(bad_truth == 0, "%zu values off the car's state (max tyre err %.3f C)", bad_truth,
		 max_temp_err);
	st = stats(m);
	T_CHECK(st.fused == n && st.src[1].lent == r.next && st.src[1].unused == 0);
	T_CHECK(st.src[0].late + st.src[1].late == 0);
	printf("# sim 120 s: %zu primary + %zu extra frames -> %zu fused, "
	       "max tyre temp error %.3f C\n",
	       r.npri, r.next, n, max_temp_err);
	free(o);
	free(r.pri);
	free(r.pri_truth);
	free(r.ext);
	merge_free(m);
}

/* Frames merged per second: 333 Hz primary + 333 Hz extra (jittered). */
static void test_throughput(void)
{
	struct merge_params p;
	struct merge *m;
	struct pw_frame a = mk(0, 0, PW_FEED_KSUDP, PRIMARY_BITS);
	struct pw_frame b = mk(0, 0, PW_FEED_ACC, EXTRA_BITS), o;
	const int64_t n = 2000000;
	uint64_t out = 0;
	double t0, dt, rate;

	merge_params_default(&p, 2);
	m = merge_new(&p);
	t0 = now_s();
	for (int64_t k = 0; k < n; k++) {
		a.t_ns = BASE_NS + k * 3 * MS;
		a.seq = (uint64_t)k;
		b.t_ns = a.t_ns + 1 * MS + (int64_t)(k % 3) * 100000;
		b.seq = (uint64_t)k;
		merge_push(m, 0, &a);
		merge_push(m, 1, &b);
		while (merge_pop(m, &o) == 1)
			out++;
	}
	merge_flush(m);
	while (merge_pop(m, &o) == 1)
		out++;
	dt = now_s() - t0;
	rate = 2.0 * (double)n / dt;
	printf("# merge throughput: %.2f M frames/s (%.0f x a 333 Hz primary + 333 Hz extra), "
	       "%llu out\n",
	       rate / 1e6, rate / 666.0, (unsigned long long)out);
	T_CHECK(out == (uint64_t)n && stats(m).fused == (uint64_t)n);
	T_CHECKF(rate > 100000.0, "%.0f frames/s", rate);
	merge_free(m);
}

int main(void)
{
	T_RUN(test_channel_table);
	T_RUN(test_params);
	T_RUN(test_fuse_all_channels);
	T_RUN(test_fuse_complement);
	T_RUN(test_fuse_derived);
	T_RUN(test_priority_three_sources);
	T_RUN(test_order_interleaved_lagging);
	T_RUN(test_window_edges);
	T_RUN(test_duplicates);
	T_RUN(test_primary_gap);
	T_RUN(test_bounded_memory_stalled_source);
	T_RUN(test_full_queue);
	T_RUN(test_advance);
	T_RUN(test_realistic_sim_two_feeds);
	T_RUN(test_throughput);
	return T_DONE();
}
