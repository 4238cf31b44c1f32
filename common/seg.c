/* seg.c - shared-memory feed segment (see seg.h for the layout and protocols). */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/seg.h"

struct seg {
	struct seg_header *h;
	struct seg_stats *stats;
	struct seg_meta *meta;
	_Atomic uint64_t *tags;
	struct pw_frame *frames;
	uint8_t *raw;
	uint64_t mask;     /* frame_slots - 1 */
	uint64_t raw_mask; /* raw_bytes - 1 */
	size_t size;
	int fd;
	int writable;
	ino_t ino;
	char name[128];
	/* producer: populated ahead up to these absolute positions (seg.h) */
	uint64_t ahead_slots;               /* frame slots per chunk */
	uint64_t frames_from, frames_ready; /* sequences */
	uint64_t raw_from, raw_ready;       /* raw-ring offsets */
};

static uint64_t pow2_at_least(uint64_t v, uint64_t min)
{
	uint64_t p = min;

	while (p < v && p < (1ull << 40))
		p <<= 1;
	return p;
}

static uint64_t align64(uint64_t v)
{
	return (v + 63) & ~63ull;
}

static int valid_part(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int seg_name(char *buf, size_t cap, const char *instance, const char *feed)
{
	if (!valid_part(instance, IDS_INSTANCE_MAX) || !valid_part(feed, IDS_FEED_MAX))
		return -EINVAL;
	if ((size_t)snprintf(buf, cap, "/pitwall.%s.%s", instance, feed) >= cap)
		return -ENAMETOOLONG;
	return 0;
}

struct seg_config seg_default_config(unsigned max_rate_hz, unsigned raw_bytes_per_s)
{
	struct seg_config c = {
		.frame_slots = (uint64_t)max_rate_hz * 300,
		.raw_bytes = (uint64_t)raw_bytes_per_s * 300,
	};
	long long v;

	if (config_get_int("PITWALL_RING_FRAMES", &v) == 1)
		c.frame_slots = (uint64_t)v;
	if (config_get_int("PITWALL_RING_RAW_MB", &v) == 1)
		c.raw_bytes = (uint64_t)v << 20;
	c.frame_slots = pow2_at_least(c.frame_slots, SEG_MIN_SLOTS);
	c.raw_bytes = pow2_at_least(c.raw_bytes, SEG_MIN_RAW);
	return c;
}

static void layout(struct seg_header *h, const struct seg_config *cfg)
{
	uint64_t off = align64(sizeof *h);

	h->frame_slots = pow2_at_least(cfg->frame_slots, SEG_MIN_SLOTS);
	h->raw_bytes = pow2_at_least(cfg->raw_bytes, SEG_MIN_RAW);
	h->stats_off = off;
	off = align64(off + sizeof(struct seg_stats));
	h->meta_off = off;
	off = align64(off + sizeof(struct seg_meta));
	h->tags_off = off;
	off = align64(off + h->frame_slots * sizeof(uint64_t));
	h->frames_off = off;
	off = align64(off + h->frame_slots * sizeof(struct pw_frame));
	h->raw_off = off;
	off = align64(off + h->raw_bytes);
	h->total_size = off;
}

static void bind_blocks(struct seg *s)
{
	uint8_t *base = (uint8_t *)s->h;

	s->stats = (struct seg_stats *)(base + s->h->stats_off);
	s->meta = (struct seg_meta *)(base + s->h->meta_off);
	s->tags = (_Atomic uint64_t *)(base + s->h->tags_off);
	s->frames = (struct pw_frame *)(base + s->h->frames_off);
	s->raw = base + s->h->raw_off;
	s->mask = s->h->frame_slots - 1;
	s->raw_mask = s->h->raw_bytes - 1;
}

static int header_valid(const struct seg_header *h, size_t file_size)
{
	return h->magic == SEG_MAGIC && h->version == SEG_VERSION && h->header_size == sizeof *h &&
	       h->frame_size == sizeof(struct pw_frame) && h->frame_version >= FRAME_VERSION_MIN &&
	       h->frame_version <= FRAME_VERSION && h->meta_size == sizeof(struct pw_meta) &&
	       h->frame_slots >= SEG_MIN_SLOTS && (h->frame_slots & (h->frame_slots - 1)) == 0 &&
	       h->raw_bytes >= SEG_MIN_RAW && (h->raw_bytes & (h->raw_bytes - 1)) == 0 &&
	       h->total_size == file_size;
}

/* Map the existing segment on fd if its layout matches cfg; *old_seq gets the
 * write sequence of any valid segment so a recreated one can continue it. */
static int reuse_existing(struct seg *s, const struct seg_config *cfg, uint64_t *old_seq)
{
	struct stat st;
	struct seg_header want = { 0 };
	struct seg_header *h;

	*old_seq = 0;
	if (fstat(s->fd, &st) < 0 || (size_t)st.st_size < sizeof(struct seg_header))
		return 0;
	h = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (h == MAP_FAILED)
		return 0;
	if (!header_valid(h, (size_t)st.st_size)) {
		munmap(h, (size_t)st.st_size);
		return 0;
	}
	*old_seq = atomic_load(&h->write_seq);
	layout(&want, cfg);
	if (want.frame_slots != h->frame_slots || want.raw_bytes != h->raw_bytes) {
		munmap(h, (size_t)st.st_size);
		return 0;
	}
	s->h = h;
	s->size = (size_t)st.st_size;
	/* the ring keeps an older producer's frames (readers upgrade each one);
	 * what this producer writes from now on is of this version */
	h->frame_version = FRAME_VERSION;
	return 1;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Populate bytes [from, to) of a ring of size bytes at base (positions
 * absolute, the ring wraps). A kernel without MADV_POPULATE_WRITE (before
 * 5.14) says EINVAL: the pages then fault in one by one as they are written. */
static void populate(uint8_t *base, uint64_t size, uint64_t from, uint64_t to)
{
	long page = sysconf(_SC_PAGESIZE);

	while (from < to) {
		uint64_t off = from & (size - 1), n = to - from;
		uintptr_t a, b;

		if (n > size - off)
			n = size - off;
		a = (uintptr_t)(base + off) & ~(uintptr_t)(page - 1);
		b = ((uintptr_t)(base + off + n) + (uintptr_t)page - 1) & ~(uintptr_t)(page - 1);
		madvise((void *)a, b - a, MADV_POPULATE_WRITE);
		from += n;
	}
}

/* Keep a chunk populated beyond the frame about to be written; done once the
 * ring went round. */
static void frames_ahead(struct seg *s, uint64_t seq)
{
	uint64_t slots = s->h->frame_slots, to;

	if (seq + s->ahead_slots / 2 < s->frames_ready || s->frames_ready - s->frames_from > slots)
		return;
	to = s->frames_ready + s->ahead_slots;
	populate((uint8_t *)s->frames, slots * sizeof(struct pw_frame),
		 s->frames_ready * sizeof(struct pw_frame), to * sizeof(struct pw_frame));
	populate((uint8_t *)s->tags, slots * sizeof(uint64_t), s->frames_ready * sizeof(uint64_t),
		 to * sizeof(uint64_t));
	s->frames_ready = to;
}

static void raw_ahead(struct seg *s, uint64_t end)
{
	uint64_t size = s->h->raw_bytes;

	if (end + SEG_AHEAD_BYTES / 2 < s->raw_ready || s->raw_ready - s->raw_from > size)
		return;
	populate(s->raw, size, s->raw_ready, s->raw_ready + SEG_AHEAD_BYTES);
	s->raw_ready += SEG_AHEAD_BYTES;
}

static void ahead_init(struct seg *s)
{
	s->ahead_slots = SEG_AHEAD_BYTES / sizeof(struct pw_frame);
	s->frames_from = s->frames_ready = atomic_load(&s->h->write_seq);
	s->raw_from = s->raw_ready = atomic_load(&s->h->raw_write);
	frames_ahead(s, s->frames_ready);
	raw_ahead(s, s->raw_ready);
}

int seg_create(struct seg **out, const char *instance, const char *feed, unsigned feed_id,
	       const struct seg_config *cfg)
{
	struct seg *s = calloc(1, sizeof *s);
	uint64_t old_seq = 0;
	struct stat st;
	int err;

	if (!s)
		return -ENOMEM;
	s->fd = -1;
	if ((err = seg_name(s->name, sizeof s->name, instance, feed)) < 0)
		goto fail;
	s->fd = shm_open(s->name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->fd < 0) {
		err = -errno;
		goto fail;
	}
	if (flock(s->fd, LOCK_EX | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	if (!reuse_existing(s, cfg, &old_seq)) {
		struct seg_header tmp = { 0 };

		layout(&tmp, cfg);
		if (fstat(s->fd, &st) == 0 && st.st_size > 0) {
			/* An incompatible old segment: readers may still map it, so
			 * shrinking it in place would SIGBUS them. Give the name a
			 * new file instead; they notice through seg_replaced(). */
			shm_unlink(s->name);
			close(s->fd);
			s->fd = shm_open(s->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (s->fd < 0 || flock(s->fd, LOCK_EX | LOCK_NB) < 0) {
				err = errno == EWOULDBLOCK ? -EBUSY : -errno;
				goto fail;
			}
		}
		if (ftruncate(s->fd, (off_t)tmp.total_size) < 0) {
			err = -errno;
			goto fail;
		}
		s->size = tmp.total_size;
		s->h = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
		if (s->h == MAP_FAILED) {
			s->h = NULL;
			err = -errno;
			goto fail;
		}
		*s->h = tmp;
		s->h->magic = SEG_MAGIC;
		s->h->version = SEG_VERSION;
		s->h->header_size = sizeof *s->h;
		s->h->frame_size = sizeof(struct pw_frame);
		s->h->frame_version = FRAME_VERSION;
		s->h->meta_size = sizeof(struct pw_meta);
		atomic_store(&s->h->write_seq, old_seq);
	}
	bind_blocks(s);
	s->writable = 1;
	ahead_init(s);
	s->h->feed_id = feed_id;
	s->h->producer_pid = (int32_t)getpid();
	s->h->start_ns = clock_now_ns();
	s->h->generation++;
	snprintf(s->h->feed, sizeof s->h->feed, "%s", feed);
	snprintf(s->h->instance, sizeof s->h->instance, "%s", instance);
	atomic_store(&s->h->heartbeat_ns, clock_now_ns());
	if (fstat(s->fd, &st) == 0)
		s->ino = st.st_ino;
	*out = s;
	return 0;
fail:
	if (s->h)
		munmap(s->h, s->size);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return err;
}

int seg_attach(struct seg **out, const char *instance, const char *feed)
{
	struct seg *s = calloc(1, sizeof *s);
	struct stat st;
	int err;

	if (!s)
		return -ENOMEM;
	s->fd = -1;
	if ((err = seg_name(s->name, sizeof s->name, instance, feed)) < 0)
		goto fail;
	s->fd = shm_open(s->name, O_RDONLY | O_CLOEXEC, 0);
	if (s->fd < 0) {
		err = -errno;
		goto fail;
	}
	if (fstat(s->fd, &st) < 0) {
		err = -errno;
		goto fail;
	}
	if ((size_t)st.st_size < sizeof(struct seg_header)) {
		err = -EPROTO;
		goto fail;
	}
	s->size = (size_t)st.st_size;
	s->ino = st.st_ino;
	s->h = mmap(NULL, s->size, PROT_READ, MAP_SHARED, s->fd, 0);
	if (s->h == MAP_FAILED) {
		s->h = NULL;
		err = -errno;
		goto fail;
	}
	if (!header_valid(s->h, s->size)) {
		err = -EPROTO;
		goto fail;
	}
	bind_blocks(s);
	*out = s;
	return 0;
fail:
	if (s->h)
		munmap(s->h, s->size);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return err;
}

void seg_close(struct seg *s)
{
	if (!s)
		return;
	if (s->h)
		munmap(s->h, s->size);
	if (s->fd >= 0)
		close(s->fd); /* releases the producer's flock */
	free(s);
}

int seg_unlink(const char *instance, const char *feed)
{
	char name[128];
	int err = seg_name(name, sizeof name, instance, feed);

	if (err < 0)
		return err;
	return shm_unlink(name) < 0 ? -errno : 0;
}

int seg_replaced(struct seg *s)
{
	return shm_replaced(s->name, s->ino);
}

int seg_follow(struct seg **segp, int64_t *next_try_ns, const char *instance, const char *feed,
	       int64_t now_ns, int64_t retry_ns)
{
	struct seg *s = NULL;
	int err, had = *segp != NULL;

	if (now_ns < *next_try_ns) /* the check costs an shm_open: once per retry_ns */
		return SEG_FOLLOW_SAME;
	*next_try_ns = now_ns + retry_ns;
	if (had && !seg_replaced(*segp))
		return SEG_FOLLOW_SAME;
	if ((err = seg_attach(&s, instance, feed)) < 0)
		return err;
	seg_close(*segp);
	*segp = s;
	return had ? SEG_FOLLOW_REPLACED : SEG_FOLLOW_NEW;
}

int shm_replaced(const char *name, ino_t ino)
{
	struct stat st;
	int fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0);
	int replaced;

	if (fd < 0)
		return 1;
	replaced = fstat(fd, &st) < 0 || st.st_ino != ino;
	close(fd);
	return replaced;
}

/* --- producer --- */

uint64_t seg_publish(struct seg *s, struct pw_frame *f)
{
	uint64_t seq = atomic_load_explicit(&s->h->write_seq, memory_order_relaxed);
	uint64_t slot = seq & s->mask;

	if (seq + s->ahead_slots / 2 >= s->frames_ready)
		frames_ahead(s, seq);
	f->seq = seq;
	atomic_store_explicit(&s->tags[slot], 2 * seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(&s->frames[slot], f, sizeof *f);
	atomic_store_explicit(&s->tags[slot], 2 * seq + 2, memory_order_release);
	atomic_store_explicit(&s->h->write_seq, seq + 1, memory_order_release);
	return seq;
}

static void raw_copy_in(struct seg *s, uint64_t off, const void *src, size_t n)
{
	uint64_t i = off & s->raw_mask;

	/* records never straddle the end of the ring (see seg_raw_append) */
	memcpy(s->raw + i, src, n);
}

uint64_t seg_raw_append(struct seg *s, int64_t t_ns, const void *buf, uint32_t len, uint32_t src_ip,
			uint16_t src_port, uint16_t dst_port)
{
	struct seg_header *h = s->h;
	uint64_t pos = atomic_load_explicit(&h->raw_write, memory_order_relaxed);
	uint64_t pkt = atomic_load_explicit(&h->raw_seq, memory_order_relaxed);
	uint64_t rec_size = (sizeof(struct seg_raw_rec) + len + 7) & ~7ull;
	uint64_t room = h->raw_bytes - (pos & s->raw_mask);
	uint64_t pad = rec_size > room ? room : 0;
	struct seg_raw_rec rec = {
		.t_ns = t_ns,
		.pkt_seq = pkt,
		.len = len,
		.src_ip = src_ip,
		.src_port = src_port,
		.dst_port = dst_port,
	};

	if (len > SEG_RAW_MAX_PAYLOAD)
		return UINT64_MAX;
	if (pos + pad + rec_size + SEG_AHEAD_BYTES / 2 >= s->raw_ready)
		raw_ahead(s, pos + pad + rec_size);
	atomic_store_explicit(&h->raw_reserve, pos + pad + rec_size, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	if (pad >= sizeof rec) {
		struct seg_raw_rec p = { .len = SEG_RAW_PAD };
		raw_copy_in(s, pos, &p, sizeof p);
	}
	pos += pad;
	raw_copy_in(s, pos, &rec, sizeof rec);
	raw_copy_in(s, pos + sizeof rec, buf, len);
	atomic_store_explicit(&h->raw_last, pos, memory_order_release);
	atomic_store_explicit(&h->raw_seq, pkt + 1, memory_order_release);
	atomic_store_explicit(&h->raw_write, pos + rec_size, memory_order_release);
	return pkt;
}

static long futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, (uint32_t *)addr, op, val, ts, NULL, 0);
}

void seg_notify(struct seg *s)
{
	atomic_fetch_add_explicit(&s->h->notify, 1, memory_order_release);
	futex(&s->h->notify, FUTEX_WAKE, INT32_MAX, NULL);
}

void seg_meta_write(struct seg *s, const struct pw_meta *m)
{
	struct seg_meta *sm = s->meta;
	uint32_t l = atomic_load_explicit(&sm->lock, memory_order_relaxed);

	atomic_store_explicit(&sm->lock, l + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	sm->m = *m;
	sm->gen++;
	atomic_store_explicit(&sm->lock, l + 2, memory_order_release);
}

void seg_heartbeat(struct seg *s, int64_t now_ns)
{
	atomic_store_explicit(&s->h->heartbeat_ns, now_ns, memory_order_release);
}

/* --- reader --- */

uint64_t seg_write_seq(const struct seg *s)
{
	return atomic_load_explicit(&s->h->write_seq, memory_order_acquire);
}

uint64_t seg_oldest(const struct seg *s)
{
	uint64_t w = seg_write_seq(s);

	/* seq w - slots may be mid-overwrite; seg_read's tag check notices that */
	return w >= s->h->frame_slots ? w - s->h->frame_slots : 0;
}

/* 1 intact, 0 not yet written, -1 overwritten by a newer sequence */
static int read_slot(struct seg *s, uint64_t seq, struct pw_frame *out)
{
	uint64_t slot = seq & s->mask;
	uint64_t done = 2 * seq + 2;
	uint64_t t1 = atomic_load_explicit(&s->tags[slot], memory_order_acquire);

	if (t1 < done)
		return 0;
	if (t1 > done)
		return -1;
	memcpy(out, &s->frames[slot], sizeof *out);
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&s->tags[slot], memory_order_relaxed) != done)
		return -1;
	frame_upgrade(out); /* an older producer's frame; an unknown version stays as it is */
	return 1;
}

int seg_read(struct seg *s, struct seg_cursor *c, struct pw_frame *out)
{
	for (int tries = 0; tries < 8; tries++) {
		uint64_t w, oldest;
		/* Fast path: the slot's own tag says whether c->next is there, so a
		 * reader keeping up never touches write_seq, the cache line the
		 * producer writes for every frame. */
		int r = read_slot(s, c->next, out);

		if (r > 0) {
			c->next++;
			return 1;
		}
		if (r == 0)
			return 0; /* not written yet (or being written) */
		/* overwritten: lapped; skip to the oldest intact frame, or an
		 * eighth of the ring beyond it when lapped again (seg.h) */
		w = seg_write_seq(s);
		oldest = w >= s->h->frame_slots ? w - s->h->frame_slots : 0;
		if (c->next < oldest) {
			if (c->next < c->lap_guard)
				oldest += s->h->frame_slots / 8;
			c->missed += oldest - c->next;
			c->next = oldest;
			c->lap_guard = oldest + s->h->frame_slots;
		}
	}
	return 0;
}

int seg_read_latest(struct seg *s, struct pw_frame *out)
{
	for (int tries = 0; tries < 8; tries++) {
		uint64_t w = seg_write_seq(s);

		if (w == 0)
			return 0;
		if (read_slot(s, w - 1, out) > 0)
			return 1;
	}
	return 0;
}

void seg_raw_cursor_now(struct seg *s, struct seg_raw_cursor *c)
{
	c->off = atomic_load_explicit(&s->h->raw_write, memory_order_acquire);
	c->next_pkt = atomic_load_explicit(&s->h->raw_seq, memory_order_acquire);
	c->missed = 0;
}

static int raw_intact(struct seg *s, uint64_t off)
{
	uint64_t reserve;

	atomic_thread_fence(memory_order_acquire);
	reserve = atomic_load_explicit(&s->h->raw_reserve, memory_order_relaxed);
	return reserve <= off + s->h->raw_bytes;
}

int seg_raw_read(struct seg *s, struct seg_raw_cursor *c, struct seg_raw_rec *rec, void *buf,
		 size_t cap)
{
	const uint64_t R = s->h->raw_bytes;

	for (int tries = 0; tries < 16; tries++) {
		uint64_t w = atomic_load_explicit(&s->h->raw_write, memory_order_acquire);
		uint64_t off = c->off, idx, room, rec_size;

		if (off >= w)
			return 0;
		if (w - off > R) {
			c->off = atomic_load_explicit(&s->h->raw_last, memory_order_acquire);
			continue;
		}
		idx = off & s->raw_mask;
		room = R - idx;
		if (room < sizeof *rec) {
			c->off = off + room;
			continue;
		}
		memcpy(rec, s->raw + idx, sizeof *rec);
		if (!raw_intact(s, off)) {
			c->off = atomic_load_explicit(&s->h->raw_last, memory_order_acquire);
			continue;
		}
		if (rec->len == SEG_RAW_PAD) {
			c->off = off + room;
			continue;
		}
		rec_size = (sizeof *rec + rec->len + 7) & ~7ull;
		if (rec->len > SEG_RAW_MAX_PAYLOAD || rec_size > room) {
			c->off = atomic_load_explicit(&s->h->raw_last, memory_order_acquire);
			continue;
		}
		if (rec->len <= cap)
			memcpy(buf, s->raw + idx + sizeof *rec, rec->len);
		if (!raw_intact(s, off)) {
			c->off = atomic_load_explicit(&s->h->raw_last, memory_order_acquire);
			continue;
		}
		if (rec->pkt_seq > c->next_pkt)
			c->missed += rec->pkt_seq - c->next_pkt;
		c->next_pkt = rec->pkt_seq + 1;
		c->off = off + rec_size;
		return rec->len <= cap ? 1 : -EMSGSIZE;
	}
	return 0;
}

void seg_wait(struct seg *s, uint64_t seq, int timeout_ms)
{
	struct timespec ts = { .tv_sec = timeout_ms / 1000,
			       .tv_nsec = (timeout_ms % 1000) * 1000000L };
	uint32_t n = atomic_load_explicit(&s->h->notify, memory_order_acquire);

	if (seg_write_seq(s) > seq)
		return;
	futex(&s->h->notify, FUTEX_WAIT, n, &ts);
}

const _Atomic uint32_t *seg_notify_word(const struct seg *s)
{
	return &s->h->notify;
}

uint32_t seg_notify_value(const struct seg *s)
{
	return atomic_load_explicit(&s->h->notify, memory_order_acquire);
}

uint32_t seg_meta_read(struct seg *s, struct pw_meta *m)
{
	struct seg_meta *sm = s->meta;

	for (int tries = 0; tries < 1000; tries++) {
		uint32_t l1 = atomic_load_explicit(&sm->lock, memory_order_acquire), l2, gen;

		if (l1 & 1)
			continue;
		*m = sm->m;
		gen = sm->gen;
		atomic_thread_fence(memory_order_acquire);
		l2 = atomic_load_explicit(&sm->lock, memory_order_relaxed);
		if (l1 == l2)
			return gen;
	}
	memset(m, 0, sizeof *m); /* a producer died mid-write: report nothing rather than torn */
	return 0;
}

void seg_stats_read(struct seg *s, uint64_t out[SEG_STAT_COUNT])
{
	for (int i = 0; i < SEG_STAT_COUNT; i++)
		out[i] = atomic_load_explicit(&s->stats->v[i], memory_order_relaxed);
}

enum seg_status seg_status(struct seg *s, int64_t now_ns)
{
	int64_t hb = atomic_load_explicit(&s->h->heartbeat_ns, memory_order_acquire);
	int64_t last = (int64_t)atomic_load_explicit(&s->stats->v[SEG_STAT_LAST_PACKET_NS],
						     memory_order_relaxed);

	if (now_ns - hb > SEG_DOWN_MS * NS_PER_MS)
		return SEG_DOWN;
	if (s->h->producer_pid > 0 && kill(s->h->producer_pid, 0) < 0 && errno == ESRCH)
		return SEG_DOWN;
	if (last == 0 || now_ns - last > SEG_UP_MS * NS_PER_MS)
		return SEG_STALE;
	return SEG_UP;
}

const char *seg_status_name(enum seg_status st)
{
	return st == SEG_UP ? "up" : st == SEG_STALE ? "stale" : "down";
}

const struct seg_header *seg_header(const struct seg *s)
{
	return s->h;
}

struct seg_stats *seg_stats(struct seg *s)
{
	return s->stats;
}
