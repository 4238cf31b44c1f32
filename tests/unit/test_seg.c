/* test_seg.c - self-test of the shared-memory segment (common/seg.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/feedstat.h"
#include "common/ids.h"
#include "common/seg.h"
#include "tests/unit/t.h"

static char inst[32];

static struct seg *make(uint64_t slots, uint64_t raw)
{
	struct seg_config cfg = { slots, raw };
	struct seg *s = NULL;
	int err = seg_create(&s, inst, "test", PW_FEED_KSUDP, &cfg);

	T_CHECKF(err == 0, "seg_create: %d", err);
	return s;
}

/* A frame whose every byte depends on seq, so a torn copy is detectable. */
static void fill(struct pw_frame *f, uint64_t seq)
{
	uint8_t *b = (uint8_t *)f;

	for (size_t i = 8; i < sizeof *f; i++)
		b[i] = (uint8_t)(seq * 31 + i);
}

static int intact(const struct pw_frame *f)
{
	const uint8_t *b = (const uint8_t *)f;

	for (size_t i = 8; i < sizeof *f; i++)
		if (b[i] != (uint8_t)(f->seq * 31 + i))
			return 0;
	return 1;
}

/* publish seqs [from, to) */
static void publish_range(struct seg *s, uint64_t from, uint64_t to)
{
	struct pw_frame f;

	for (uint64_t i = from; i < to; i++) {
		fill(&f, i);
		seg_publish(s, &f);
	}
}

static void test_names(void)
{
	char buf[128];

	T_EQ(seg_name(buf, sizeof buf, "default", "ksudp"), 0);
	T_STREQ(buf, "/pitwall.default.ksudp");
	T_EQ(seg_name(buf, sizeof buf, "../x", "ksudp"), -EINVAL);
	T_EQ(seg_name(buf, sizeof buf, "default", ""), -EINVAL);
	T_EQ(seg_name(buf, sizeof buf, "a/b", "f"), -EINVAL);
}

/* Segment names take the feed and instance names their limits in common/ids.h allow. */
static void test_name_limits(void)
{
	char buf[128], feed[IDS_FEED_MAX + 2], instance[IDS_INSTANCE_MAX + 2];

	memset(feed, 'f', sizeof feed - 1);
	feed[sizeof feed - 1] = 0;
	memset(instance, 'i', sizeof instance - 1);
	instance[sizeof instance - 1] = 0;
	T_CHECK(seg_name(buf, sizeof buf, "default", feed) == -EINVAL);
	T_CHECK(seg_name(buf, sizeof buf, instance, "ksudp") == -EINVAL);
	feed[IDS_FEED_MAX] = 0;
	instance[IDS_INSTANCE_MAX] = 0;
	T_CHECK(seg_name(buf, sizeof buf, instance, feed) == 0);
	T_CHECK(strlen(buf) == strlen("/pitwall..") + IDS_INSTANCE_MAX + IDS_FEED_MAX);
	/* the buffers that hold those names */
	T_CHECK(sizeof(((struct config_feed *)0)->name) == IDS_FEED_MAX + 1);
	T_CHECK(sizeof(((struct pw_meta *)0)->game) == IDS_GAME_MAX + 1);
	T_CHECK(FEEDSTAT_NAME == IDS_FEED_MAX + 1);
}

static void test_default_config(void)
{
	struct seg_config c;

	unsetenv("PITWALL_RING_FRAMES");
	unsetenv("PITWALL_RING_RAW_MB");
	c = seg_default_config(333, 333 * 360);
	T_GE(c.frame_slots, 333 * 300);
	T_EQ((c.frame_slots & (c.frame_slots - 1)), 0);
	T_GE(c.raw_bytes, 333ull * 360 * 300);
	setenv("PITWALL_RING_FRAMES", "100", 1);
	c = seg_default_config(333, 100);
	T_EQ(c.frame_slots, 128);
	T_EQ(c.raw_bytes, SEG_MIN_RAW);
	unsetenv("PITWALL_RING_FRAMES");
}

/* The ring variables come through common/config's table: a malformed value
 * (config_load refuses it at start) leaves the default here. */
static void test_default_config_through_table(void)
{
	struct seg_config def, c;

	unsetenv("PITWALL_RING_FRAMES");
	unsetenv("PITWALL_RING_RAW_MB");
	def = seg_default_config(333, 333 * 360);
	T_CHECK(def.frame_slots == 131072);
	for (const char *const *bad = (const char *const[]){ "100x", "0", "-5", "", "1e3", NULL };
	     *bad; bad++) {
		setenv("PITWALL_RING_FRAMES", *bad, 1);
		setenv("PITWALL_RING_RAW_MB", *bad, 1);
		c = seg_default_config(333, 333 * 360);
		T_CHECKF(c.frame_slots == def.frame_slots && c.raw_bytes == def.raw_bytes, "'%s'",
			 *bad);
	}
	setenv("PITWALL_RING_FRAMES", "65536", 1);
	setenv("PITWALL_RING_RAW_MB", "1", 1);
	c = seg_default_config(333, 333 * 360);
	T_CHECK(c.frame_slots == 65536 && c.raw_bytes == 1u << 20);
	unsetenv("PITWALL_RING_FRAMES");
	unsetenv("PITWALL_RING_RAW_MB");
}

static void test_empty_and_wrap(void)
{
	struct seg *s = make(64, 0), *r = NULL;
	struct seg_cursor c = { 0 };
	struct pw_frame f, g;

	T_EQ(seg_attach(&r, inst, "test"), 0);
	T_EQ(seg_read(r, &c, &g), 0);
	T_EQ(seg_read_latest(r, &g), 0);
	/* 1000 frames through 64 slots, read as they come: no loss, in order */
	for (uint64_t i = 0; i < 1000; i++) {
		fill(&f, i);
		T_EQ(seg_publish(s, &f), i);
		T_EQ(seg_read(r, &c, &g), 1);
		T_CHECK(g.seq == i && intact(&g));
	}
	T_CHECK(c.missed == 0 && c.next == 1000);
	T_EQ(seg_read(r, &c, &g), 0);
	T_CHECK(seg_read_latest(r, &g) == 1 && g.seq == 999);
	seg_close(r);
	seg_close(s);
	seg_unlink(inst, "test");
}

static void test_exactly_full_and_lapped(void)
{
	struct seg *s = make(64, 0), *r = NULL;
	struct seg_cursor c = { 0 };
	struct pw_frame f, g;
	uint64_t i;

	T_EQ(seg_attach(&r, inst, "test"), 0);
	/* exactly full: 64 frames in 64 slots, every one intact and readable */
	publish_range(s, 0, 64);
	T_EQ(seg_oldest(r), 0);
	for (i = 0; i < 64; i++)
		T_CHECK(seg_read(r, &c, &g) == 1 && g.seq == i && intact(&g));
	T_CHECK(c.missed == 0 && seg_read(r, &c, &g) == 0);
	/* lapped by one: seq 0's slot now holds 64 -> exactly one missed */
	c.next = 0;
	fill(&f, 64);
	seg_publish(s, &f);
	T_EQ(seg_oldest(r), 1);
	T_EQ(seg_read(r, &c, &g), 1);
	T_CHECK(g.seq == 1 && intact(&g));
	T_EQ(c.missed, 1);
	/* far behind: 10 x the ring */
	c = (struct seg_cursor){ .next = 70 };
	publish_range(s, 65, 65 + 640);
	T_EQ(seg_read(r, &c, &g), 1);
	T_CHECK(g.seq == 705 - 64 && c.missed == (705 - 64) - 70);
	seg_close(r);
	seg_close(s);
	seg_unlink(inst, "test");
}

static void test_lapped_again(void)
{
	struct seg *s = make(64, 0), *r = NULL;
	struct seg_cursor c = { 0 };
	struct pw_frame g;

	T_EQ(seg_attach(&r, inst, "test"), 0);
	/* lapped once: to the oldest intact frame, nothing more lost */
	publish_range(s, 0, 74);
	T_CHECK(seg_read(r, &c, &g) == 1 && g.seq == 10 && intact(&g));
	T_EQ(c.missed, 10);
	for (int k = 0; k < 4; k++)
		T_EQ(seg_read(r, &c, &g), 1);
	T_EQ(c.next, 15);
	/* lapped again before it read a ring's worth: an eighth of the ring
	 * (8 slots) beyond the oldest frame (74), every skipped frame counted */
	publish_range(s, 74, 138);
	T_CHECK(seg_read(r, &c, &g) == 1 && g.seq == 82 && intact(&g));
	T_EQ(c.missed, 10 + (82 - 15));
	/* it keeps up for more than a ring, then is lapped: the oldest again */
	while (seg_read(r, &c, &g) == 1)
		;
	T_EQ(c.next, 138);
	publish_range(s, 138, 160);
	while (seg_read(r, &c, &g) == 1)
		;
	T_EQ(c.next, 160);
	publish_range(s, 160, 260);
	T_CHECK(seg_read(r, &c, &g) == 1 && g.seq == 196 && intact(&g));
	T_EQ(c.missed, 10 + (82 - 15) + (196 - 160));
	seg_close(r);
	seg_close(s);
	seg_unlink(inst, "test");
}

static void test_meta(void)
{
	struct seg *s = make(64, 0), *r = NULL;
	struct pw_meta m = { 0 }, got;
	uint32_t g1, g2;

	T_EQ(seg_attach(&r, inst, "test"), 0);
	g1 = seg_meta_read(r, &got);
	T_EQ(got.car[0], 0);
	T_STRSET(m.car, "ks_audi_r8_lms");
	T_STRSET(m.track, "monza");
	m.track_len_m = 5758.f;
	seg_meta_write(s, &m);
	g2 = seg_meta_read(r, &got);
	T_EQ(g2, g1 + 1);
	T_CHECK(strcmp(got.car, "ks_audi_r8_lms") == 0 && strcmp(got.track, "monza") == 0);
	T_NEAR(got.track_len_m, 5758.f, 0);
	T_STRSET(m.track, "spa");
	seg_meta_write(s, &m);
	T_CHECK(seg_meta_read(r, &got) == g2 + 1 && strcmp(got.track, "spa") == 0);
	seg_close(r);
	seg_close(s);
	seg_unlink(inst, "test");
}

static void test_raw_ring(void)
{
	struct seg *s = make(64, SEG_MIN_RAW), *r = NULL;
	struct seg_raw_cursor c = { 0 };
	struct seg_raw_rec rec;
	uint8_t pkt[1500], got[SEG_RAW_MAX_PAYLOAD];
	uint64_t n = 0;

	T_EQ(seg_attach(&r, inst, "test"), 0);
	T_EQ(seg_raw_read(r, &c, &rec, got, sizeof got), 0);
	/* varied sizes so records end at every alignment and the ring wraps many times */
	for (int round = 0; round < 3000; round++) {
		uint32_t len = (uint32_t)(round * 37 % 1500);
		for (uint32_t i = 0; i < len; i++)
			pkt[i] = (uint8_t)(round + i);
		T_EQ(seg_raw_append(s, round, pkt, len, 0x0100007f, 50000, 9996), (uint64_t)round);
		T_EQ(seg_raw_read(r, &c, &rec, got, sizeof got), 1);
		T_CHECK(rec.len == len && rec.pkt_seq == (uint64_t)round && rec.t_ns == round);
		T_CHECK(rec.src_port == 50000 && rec.dst_port == 9996);
		T_MEMEQ(got, pkt, len);
		n++;
	}
	T_CHECK(c.missed == 0 && n == 3000);
	/* a lapped raw reader resyncs and counts the packets it lost exactly */
	for (int round = 0; round < 1000; round++)
		seg_raw_append(s, round, pkt, 1000, 0, 1, 2);
	T_EQ(seg_raw_read(r, &c, &rec, got, sizeof got), 1);
	T_CHECK(rec.pkt_seq == 3999 && c.missed == 999);
	/* too small a buffer: reported, record skipped */
	seg_raw_append(s, 1, pkt, 100, 0, 1, 2);
	T_EQ(seg_raw_read(r, &c, &rec, got, 10), -EMSGSIZE);
	T_EQ(seg_raw_read(r, &c, &rec, got, sizeof got), 0);
	seg_close(r);
	seg_close(s);
	seg_unlink(inst, "test");
}

static void test_restart_continues_sequence(void)
{
	struct seg *s = make(64, 0), *s2 = NULL, *r = NULL;
	struct seg_config big = { 256, 0 };
	struct pw_frame f;

	publish_range(s, 0, 100);
	/* a second producer on the same feed is refused while the first lives */
	T_EQ(seg_create(&s2, inst, "test", PW_FEED_KSUDP, &(struct seg_config){ 64, 0 }), -EBUSY);
	seg_close(s);
	/* restart with the same layout: the sequence continues, the generation counts */
	s = make(64, 0);
	T_CHECK(seg_write_seq(s) == 100 && seg_header(s)->generation == 2);
	fill(&f, 100);
	T_EQ(seg_publish(s, &f), 100);
	T_EQ(seg_attach(&r, inst, "test"), 0);
	seg_close(s);
	/* layout change: a new file, still continuing the sequence; old readers notice */
	T_EQ(seg_create(&s, inst, "test", PW_FEED_KSUDP, &big), 0);
	T_CHECK(seg_write_seq(s) == 101 && seg_header(s)->frame_slots == 256);
	T_EQ(seg_replaced(r), 1);
	seg_close(r);
	T_CHECK(seg_attach(&r, inst, "test") == 0 && seg_replaced(r) == 0);
	seg_close(r);
	seg_close(s);
	seg_unlink(inst, "test");
}

/* A ring written by a version 1 producer (before the upgrade) stays readable:
 * attached, every frame read at FRAME_VERSION; a new producer reuses it. */
static void test_version1_ring(void)
{
	struct seg *s = make(64, 0), *r = NULL;
	struct seg_cursor c = { 0 };
	struct pw_frame f, got;

	if (!s)
		return;
	((struct seg_header *)seg_header(s))->frame_version = 1;
	for (int i = 0; i < 10; i++) {
		frame_init(&f, PW_GAME_AC, PW_FEED_KSUDP);
		f.version = 1;
		f.present = FRAME_P_SPEED;
		f.speed_kmh = (float)i;
		memset(&f.yaw_rate_rads, 0xa5, sizeof f - offsetof(struct pw_frame, yaw_rate_rads));
		seg_publish(s, &f);
	}
	T_EQ(seg_attach(&r, inst, "test"), 0);
	for (int i = 0; r && i < 10; i++) {
		T_EQ(seg_read(r, &c, &got), 1);
		T_CHECK(got.version == FRAME_VERSION && got.derived == 0 &&
			got.speed_kmh == (float)i);
		T_CHECK(got.present == FRAME_P_SPEED && got.yaw_rate_rads == 0.f &&
			got.reserved[0] == 0);
	}
	T_CHECK(r && seg_read_latest(r, &got) == 1 && got.version == FRAME_VERSION &&
		got.derived == 0);
	seg_close(r);
	seg_close(s);
	/* the new producer keeps the ring (and its old frames), now of its version */
	s = make(64, 0);
	T_CHECK(s && seg_write_seq(s) == 10 && seg_header(s)->frame_version == FRAME_VERSION);
	T_EQ(seg_attach(&r, inst, "test"), 0);
	c = (struct seg_cursor){ 0 };
	T_CHECK(r && seg_read(r, &c, &got) == 1 && got.version == FRAME_VERSION &&
		got.derived == 0);
	seg_close(r);
	seg_close(s);
	seg_unlink(inst, "test");
}

static void test_attach_validation(void)
{
	struct seg *r = NULL;
	char name[128];
	int fd;

	T_EQ(seg_attach(&r, inst, "absent"), -ENOENT);
	/* a garbage file under a segment name is refused, not trusted */
	seg_name(name, sizeof name, inst, "junk");
	fd = shm_open(name, O_RDWR | O_CREAT, 0644);
	T_GE(fd, 0);
	T_EQ(ftruncate(fd, 1 << 20), 0);
	T_EQ(write(fd, "garbage", 7), 7);
	close(fd);
	T_EQ(seg_attach(&r, inst, "junk"), -EPROTO);
	seg_unlink(inst, "junk");
}

/* A long-lived reader follows a feed's segment across its re-creation. */
static void test_follow(void)
{
	struct seg *r = NULL, *w, *first;
	int64_t next = 0, retry = 1000;

	seg_unlink(inst, "test");
	T_CHECK(seg_follow(&r, &next, inst, "test", 0, retry) == -ENOENT && r == NULL);
	T_EQ(next, retry);
	if (!(w = make(1024, 0)))
		return;
	T_CHECK(seg_follow(&r, &next, inst, "test", retry - 1, retry) == SEG_FOLLOW_SAME &&
		!r); /* not due */
	T_CHECK(seg_follow(&r, &next, inst, "test", retry, retry) == SEG_FOLLOW_NEW && r);
	first = r;
	T_CHECK(seg_follow(&r, &next, inst, "test", 10 * retry, retry) == SEG_FOLLOW_SAME &&
		r == first);
	/* the capture re-creates the segment */
	seg_close(w);
	seg_unlink(inst, "test");
	T_CHECK(seg_follow(&r, &next, inst, "test", 20 * retry, retry) == -ENOENT &&
		r == first); /* kept */
	T_EQ(seg_follow(&r, &next, inst, "test", 20 * retry + 1, retry),
	     SEG_FOLLOW_SAME); /* not due */
	if (!(w = make(1024, 0)))
		return;
	T_EQ(seg_follow(&r, &next, inst, "test", 21 * retry, retry), SEG_FOLLOW_REPLACED);
	T_CHECK(r && !seg_replaced(r));
	seg_close(r);
	seg_close(w);
	seg_unlink(inst, "test");
}

static void test_status_and_wait(void)
{
	struct seg *s = make(64, 0), *r = NULL;
	struct pw_frame f;
	int64_t now = clock_now_ns(), t0;

	T_EQ(seg_attach(&r, inst, "test"), 0);
	seg_heartbeat(s, now);
	T_EQ(seg_status(r, now), SEG_STALE); /* alive, no packet yet */
	seg_stat_set(seg_stats(s), SEG_STAT_LAST_PACKET_NS, (uint64_t)now);
	T_EQ(seg_status(r, now), SEG_UP);
	T_EQ(seg_status(r, now + 3 * NS_PER_S), SEG_DOWN);
	T_STREQ(seg_status_name(SEG_STALE), "stale");
	/* wait returns at once when data is there, and times out when not */
	fill(&f, 0);
	seg_publish(s, &f);
	t0 = clock_mono_ns();
	seg_wait(r, 0, 1000);
	T_LT(clock_mono_ns() - t0, 100 * NS_PER_MS);
	t0 = clock_mono_ns();
	seg_wait(r, 1, 50);
	T_GE(clock_mono_ns() - t0, 40 * NS_PER_MS);
	seg_close(r);
	seg_close(s);
	seg_unlink(inst, "test");
}

/* Stress: one producer, two reader processes, millions of frames through a
 * small ring. Readers check every frame is intact and in order and that the
 * frames they read plus the frames they were told they missed add up to
 * exactly what was published. */
#define STRESS_FRAMES 3000000ull

static int stress_reader(void)
{
	struct seg *r = NULL;
	struct seg_cursor c = { 0 };
	struct pw_frame g;
	uint64_t read = 0, torn = 0, disorder = 0, prev = UINT64_MAX, gap_missed = 0;
	uint64_t missed_at_prev = 0; /* c.missed at the previous frame read */
	int64_t deadline = clock_mono_ns() + 60 * NS_PER_S;

	if (seg_attach(&r, inst, "stress") != 0)
		return 10;
	while (c.next < STRESS_FRAMES && clock_mono_ns() < deadline) {
		if (seg_read(r, &c, &g) != 1) {
			seg_wait(r, c.next, 10);
			continue;
		}
		read++;
		if (!intact(&g))
			torn++;
		if (prev != UINT64_MAX) {
			if (g.seq <= prev)
				disorder++;
			else if (g.seq - prev - 1 != c.missed - missed_at_prev)
				gap_missed++;
		}
		prev = g.seq;
		missed_at_prev = c.missed;
	}
	seg_close(r);
	fprintf(stderr,
		"  reader %d: read %llu missed %llu torn %llu disorder %llu gaps-miscounted %llu\n",
		getpid(), (unsigned long long)read, (unsigned long long)c.missed,
		(unsigned long long)torn, (unsigned long long)disorder,
		(unsigned long long)gap_missed);
	if (torn || disorder || gap_missed)
		return 1;
	return read + c.missed == STRESS_FRAMES ? 0 : 2;
}

static void test_multiprocess_stress(void)
{
	struct seg_config cfg = { 1024, 0 };
	struct seg *s = NULL;
	struct pw_frame f;
	pid_t kids[2];
	int status;

	T_EQ(seg_create(&s, inst, "stress", PW_FEED_KSUDP, &cfg), 0);
	if (!s)
		return;
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		if (kids[k] == 0)
			_exit(stress_reader());
	}
	usleep(20000);
	for (uint64_t i = 0; i < STRESS_FRAMES; i++) {
		fill(&f, i);
		seg_publish(s, &f);
		if ((i & 255) == 255)
			seg_notify(s);
	}
	seg_notify(s);
	for (int k = 0; k < 2; k++) {
		T_EQ(waitpid(kids[k], &status, 0), kids[k]);
		T_CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "reader status %d", status);
	}
	seg_close(s);
	seg_unlink(inst, "stress");
}

/* Resident pages of [p, p + len) of a mapping, in bytes (for shared memory:
 * the pages that exist in the segment, whoever mapped them). */
static size_t resident(const void *p, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(page - 1);
	size_t n = ((uintptr_t)p + len - a + (size_t)page - 1) / (size_t)page, r = 0;
	unsigned char *v = calloc(n, 1);

	if (!v || mincore((void *)a, n * (size_t)page, v) < 0) {
		free(v);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		r += v[i] & 1;
	free(v);
	return r * (size_t)page;
}

/* The producer populates the rings a chunk ahead of its writes: a new ring
 * takes only what was written plus about a chunk, pages ahead of the writer
 * exist before it gets there, and once round the whole ring is there. */
static void test_populated_ahead(void)
{
	const uint64_t slots = 65536, raw = 8u << 20;
	struct seg *s = make(slots, raw), *r = NULL;
	const struct seg_header *h;
	const uint8_t *base;
	struct seg_cursor c = { 0 };
	struct pw_frame f, g;
	uint8_t pkt[1000] = { 0 };
	size_t frames_bytes = slots * sizeof f, got;
	uint64_t ok = 0;

	T_EQ(seg_attach(&r, inst, "test"), 0);
	h = seg_header(r);
	base = (const uint8_t *)h;
	got = resident(base + h->frames_off, frames_bytes);
	T_CHECKF(got >= SEG_AHEAD_BYTES && got <= 2 * SEG_AHEAD_BYTES, "new ring: %zu bytes", got);
	for (uint64_t i = 0; i < 10000; i++) {
		fill(&f, i);
		seg_publish(s, &f);
		if (i < 5000) /* 5 MB of the 8 MB raw ring */
			seg_raw_append(s, (int64_t)i, pkt, sizeof pkt, 0, 1, 2);
	}
	got = resident(base + h->frames_off, frames_bytes);
	T_CHECKF(got >= 10000 * sizeof f + SEG_AHEAD_BYTES / 2 &&
			 got <= 10000 * sizeof f + 2 * SEG_AHEAD_BYTES + 4096,
		 "after 10000 frames: %zu", got);
	got = resident(base + h->raw_off, raw);
	T_CHECKF(got >= 5000 * 1032 && got <= 5000 * 1032 + 2 * SEG_AHEAD_BYTES + 4096,
		 "raw after 5000 packets: %zu", got);
	/* round the ring: every page there, every frame intact */
	publish_range(s, 10000, slots + 1000);
	/* (a block need not start on a page: its first and last page count whole) */
	T_GE(resident(base + h->frames_off, frames_bytes), frames_bytes);
	T_GE(resident(base + h->tags_off, slots * sizeof(uint64_t)), slots * sizeof(uint64_t));
	c.next = seg_oldest(r);
	while (seg_read(r, &c, &g) == 1)
		ok += intact(&g);
	T_CHECK(ok == slots && c.missed == 0);
	seg_close(r);
	seg_close(s);
	seg_unlink(inst, "test");
}

int main(void)
{
	snprintf(inst, sizeof inst, "t%d", (int)getpid());
	T_RUN(test_names);
	T_RUN(test_name_limits);
	T_RUN(test_default_config);
	T_RUN(test_default_config_through_table);
	T_RUN(test_empty_and_wrap);
	T_RUN(test_exactly_full_and_lapped);
	T_RUN(test_lapped_again);
	T_RUN(test_meta);
	T_RUN(test_raw_ring);
	T_RUN(test_restart_continues_sequence);
	T_RUN(test_attach_validation);
	T_RUN(test_version1_ring);
	T_RUN(test_follow);
	T_RUN(test_status_and_wait);
	T_RUN(test_multiprocess_stress);
	T_RUN(test_populated_ahead);
	return T_DONE();
}
