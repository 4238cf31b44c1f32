/*
 * seg.h - a feed's POSIX shared-memory segment (docs/architecture.md §3).
 *
 * Name: /pitwall.<instance>.<feed>. Created and written by exactly one
 * producer (pw-capture, enforced with flock), mapped read-only by any number
 * of readers. No locks: readers never slow the producer down.
 *
 * Layout (offsets in the header; every block 64-byte aligned):
 *
 *   struct seg_header    magic, layout version, sizes, producer pid/start,
 *                        generation, then producer-written hot words each on
 *                        its own cache line: heartbeat, write_seq, futex word,
 *                        raw-ring positions
 *   struct seg_stats     counters (enum seg_stat), one writer
 *   struct seg_meta      struct pw_meta under a sequence lock
 *   uint64_t tags[N]     per-slot sequence tags of the frame ring
 *   struct pw_frame[N]   frame ring, N a power of two
 *   uint8_t raw[R]       raw-packet ring, R a power of two; records of
 *                        struct seg_raw_rec + payload, 8-byte aligned, addressed
 *                        by 64-bit absolute offsets (offset & (R-1) in the ring)
 *
 * Frame ring protocol. Frame seq s lives in slot s & (N-1). The producer sets
 * tags[slot] = 2s+1 (writing), copies the frame, sets tags[slot] = 2s+2 (done)
 * and then write_seq = s+1. A reader that wants seq s reads the tag before and
 * after copying: 2s+2 both times means an intact frame; a tag beyond 2s+2
 * means the producer lapped the reader, which then skips to the oldest frame
 * still intact and adds exactly the skipped count to its cursor's `missed`.
 * Sequences are absolute and survive producer restarts (run markers).
 * The header's frame_version is the producer's; a segment of an older
 * producer (FRAME_VERSION_MIN..FRAME_VERSION) is attached and reused too,
 * and seg_read/seg_read_latest return every frame at FRAME_VERSION
 * (frame_upgrade).
 *
 * Raw ring protocol. Before writing bytes the producer advances raw_reserve
 * to the end of what it will write; after, raw_write. A reader that copied a
 * record at absolute offset o re-reads raw_reserve: if raw_reserve - R > o the
 * bytes may have been overwritten and the record is discarded. Records carry
 * a packet sequence so a lapped reader knows how many packets it lost.
 *
 * Readers wait with seg_wait() (a shared futex bumped by seg_notify()), or
 * on the notify words of several segments and their own at once
 * (common/wake.h, seg_notify_word); they never spin.
 *
 * The producer populates the rings' pages ahead of its writes, a chunk
 * (SEG_AHEAD_BYTES) at a time, until each ring went round once: publishing
 * does not take a page fault per new page (15-20 % of pw-capture's time at
 * 300 k packets/s while a new ring filled), and a ring still only takes the
 * memory it has been written to.
 */
#ifndef PW_SEG_H
#define PW_SEG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/frame.h"

#define SEG_MAGIC 0x004c4c4157544950ull /* "PITWALL\0" */
#define SEG_VERSION 1
#define SEG_MIN_SLOTS 64u
#define SEG_MIN_RAW (256u * 1024u)
#define SEG_RAW_MAX_PAYLOAD 65535u
#define SEG_AHEAD_BYTES (1u << 20) /* ring bytes the producer populates at a time */

#define SEG_UP_MS 2000   /* a packet within this -> "up" */
#define SEG_DOWN_MS 2000 /* heartbeat older than this -> "down" */

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "shared-memory atomics must be lock-free");

enum seg_stat {
	SEG_STAT_PACKETS = 0,  /* datagrams received */
	SEG_STAT_BYTES,        /* payload bytes received */
	SEG_STAT_DECODED,      /* datagrams the decoder accepted (DEC_FRAME or DEC_OK) */
	SEG_STAT_FRAMES,       /* frames published */
	SEG_STAT_WRONG_SIZE,   /* DEC_ESIZE */
	SEG_STAT_UNKNOWN,      /* DEC_EFORMAT */
	SEG_STAT_KERNEL_DROPS, /* SO_RXQ_OVFL: datagrams the kernel dropped */
	SEG_STAT_RECV_ERRORS,
	SEG_STAT_RELAYED, /* datagrams forwarded by --relay */
	SEG_STAT_RELAY_ERRORS,
	SEG_STAT_HANDSHAKES,      /* hello messages sent (client feeds) */
	SEG_STAT_LAST_PACKET_NS,  /* realtime ns of the last datagram */
	SEG_STAT_PACKET_RATE_MHZ, /* datagrams/s x 1000, over the last second */
	SEG_STAT_FRAME_RATE_MHZ,  /* frames/s x 1000, over the last second */
	SEG_STAT_RCVBUF,          /* receive buffer bytes the kernel granted */
	SEG_STAT_COUNT
};

struct seg_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint32_t frame_size;
	uint32_t frame_version;
	uint32_t meta_size;
	uint32_t feed_id;
	uint64_t frame_slots;
	uint64_t raw_bytes;
	uint64_t total_size;
	uint64_t stats_off, meta_off, tags_off, frames_off, raw_off;
	int64_t start_ns;    /* when the current producer attached, realtime */
	uint64_t generation; /* producer attaches so far (restarts + 1) */
	int32_t producer_pid;
	uint32_t reserved0;
	char feed[16];
	char instance[48];

	_Alignas(64) _Atomic int64_t heartbeat_ns; /* realtime, >= every 100 ms */
	_Alignas(64) _Atomic uint64_t write_seq;   /* frames published = next seq */
	_Alignas(64) _Atomic uint32_t notify;      /* futex word, bumped by seg_notify */
	_Alignas(64) _Atomic uint64_t raw_reserve;
	_Atomic uint64_t raw_write;
	_Atomic uint64_t raw_last; /* offset of the newest record */
	_Atomic uint64_t raw_seq;  /* packets published */
};

struct seg_stats {
	_Alignas(64) _Atomic uint64_t v[SEG_STAT_COUNT];
};

struct seg_meta {
	_Alignas(64) _Atomic uint32_t lock; /* sequence lock: odd while writing */
	uint32_t gen;                       /* bumped per metadata change */
	struct pw_meta m;
};

#define SEG_RAW_PAD 0xffffffffu
struct seg_raw_rec {
	int64_t t_ns;      /* receive time, realtime ns */
	uint64_t pkt_seq;  /* packet sequence, absolute */
	uint32_t len;      /* payload bytes, or SEG_RAW_PAD */
	uint32_t src_ip;   /* IPv4, host order */
	uint16_t src_port; /* host order */
	uint16_t dst_port; /* host order: the port we received on */
	uint32_t reserved;
};
_Static_assert(sizeof(struct seg_raw_rec) == 32, "raw record header is 32 bytes");

struct seg_config {
	uint64_t frame_slots; /* rounded up to a power of two, >= SEG_MIN_SLOTS */
	uint64_t raw_bytes;   /* rounded up to a power of two, >= SEG_MIN_RAW */
};

enum seg_status { SEG_DOWN = 0, SEG_STALE = 1, SEG_UP = 2 };

struct seg_cursor {
	uint64_t next;      /* next frame seq to read */
	uint64_t missed;    /* frames lost to lapping, exact */
	uint64_t lap_guard; /* lapped again before reaching this: read away from the writer */
};

struct seg_raw_cursor {
	uint64_t off;      /* absolute offset of the next record */
	uint64_t next_pkt; /* expected packet sequence */
	uint64_t missed;   /* packets lost to lapping, exact */
};

struct seg; /* process-local handle */

/* Lifecycle */
/*
 * Producer: create the segment, or re-open an existing one with the same
 * layout so the sequence continues (a layout change recreates it, still
 * continuing from the old write_seq). Fails with -EBUSY when another live
 * producer holds it. On success *out is owned by the caller (seg_close).
 */
int seg_create(struct seg **out, const char *instance, const char *feed, unsigned feed_id,
	       const struct seg_config *cfg);
/* Reader: map read-only and validate magic, version and sizes (-EPROTO on a
 * mismatch, -ENOENT when absent). */
int seg_attach(struct seg **out, const char *instance, const char *feed);
void seg_close(struct seg *s);
int seg_unlink(const char *instance, const char *feed);
/* "/pitwall.<instance>.<feed>"; -EINVAL for names that are not [A-Za-z0-9_-]{1,40}. */
int seg_name(char *buf, size_t cap, const char *instance, const char *feed);
/* Defaults: frames for 5 minutes at max_rate_hz, raw bytes for 5 minutes of
 * raw_bytes_per_s; PITWALL_RING_FRAMES / PITWALL_RING_RAW_MB override (a
 * malformed value is ignored here: config_load refuses it at start). */
struct seg_config seg_default_config(unsigned max_rate_hz, unsigned raw_bytes_per_s);

/* Producer operations */
/* Publish *f: sets f->seq and returns it. */
uint64_t seg_publish(struct seg *s, struct pw_frame *f);
/* Append one raw datagram (len <= SEG_RAW_MAX_PAYLOAD); returns its packet seq. */
uint64_t seg_raw_append(struct seg *s, int64_t t_ns, const void *buf, uint32_t len, uint32_t src_ip,
			uint16_t src_port, uint16_t dst_port);
/* Wake readers blocked in seg_wait (call once per batch). */
void seg_notify(struct seg *s);
void seg_meta_write(struct seg *s, const struct pw_meta *m);
void seg_heartbeat(struct seg *s, int64_t now_ns);
static inline void seg_stat_add(struct seg_stats *st, enum seg_stat i, uint64_t n)
{
	atomic_store_explicit(&st->v[i], atomic_load_explicit(&st->v[i], memory_order_relaxed) + n,
			      memory_order_relaxed);
}
static inline void seg_stat_set(struct seg_stats *st, enum seg_stat i, uint64_t n)
{
	atomic_store_explicit(&st->v[i], n, memory_order_relaxed);
}

/* Reader operations */
/*
 * Read the frame at c->next into *out. Returns 1 when a frame was read,
 * 0 when none is available yet. A lapped reader is moved to the oldest
 * intact frame first (c->missed += frames skipped). A reader lapped again
 * before it read a ring's worth since then does not keep up with the writer:
 * it is moved an eighth of the ring beyond the oldest frame, so that it reads
 * lines the writer is not writing instead of chasing the write position slot
 * by slot (which loses more frames, and slows the writer).
 */
int seg_read(struct seg *s, struct seg_cursor *c, struct pw_frame *out);
/* Read the newest published frame (c untouched); 1 if there is one. */
int seg_read_latest(struct seg *s, struct pw_frame *out);
/*
 * Read the next raw record into *rec and its payload into buf[cap]. Returns
 * 1 on success, 0 when nothing new, -EMSGSIZE when cap is too small (the
 * record is skipped). A lapped reader resyncs to the newest record.
 */
int seg_raw_read(struct seg *s, struct seg_raw_cursor *c, struct seg_raw_rec *rec, void *buf,
		 size_t cap);
/* Start a raw cursor at the newest position (only packets from now on). */
void seg_raw_cursor_now(struct seg *s, struct seg_raw_cursor *c);
/* Block until write_seq > seq or timeout_ms passes (or a signal). */
void seg_wait(struct seg *s, uint64_t seq, int timeout_ms);
/* The futex word seg_notify bumps (for wake_add, WAKE_SHARED) and its value
 * now: take the value before reading the ring, wait with it after. */
const _Atomic uint32_t *seg_notify_word(const struct seg *s);
uint32_t seg_notify_value(const struct seg *s);
/* Copy the metadata consistently; returns its generation. */
uint32_t seg_meta_read(struct seg *s, struct pw_meta *m);
void seg_stats_read(struct seg *s, uint64_t out[SEG_STAT_COUNT]);
enum seg_status seg_status(struct seg *s, int64_t now_ns);
const char *seg_status_name(enum seg_status st);
/* 1 when the name now refers to another segment than the one mapped
 * (recreated with a new layout): the reader should re-attach. */
int seg_replaced(struct seg *s);
/* Follow a feed's segment for a long-lived reader: attach it when *segp is
 * NULL or the name now refers to a re-created segment, looking at most once
 * per retry_ns (*next_try_ns keeps the time; a reader may call it every loop). A new segment replaces the old
 * one, which is closed; a failed attach keeps the old one. Returns
 * SEG_FOLLOW_SAME, SEG_FOLLOW_NEW (there was none), SEG_FOLLOW_REPLACED, or
 * the failed attach's negative errno (-ENOENT: no segment yet). */
enum { SEG_FOLLOW_SAME = 0, SEG_FOLLOW_NEW = 1, SEG_FOLLOW_REPLACED = 2 };
int seg_follow(struct seg **segp, int64_t *next_try_ns, const char *instance, const char *feed,
	       int64_t now_ns, int64_t retry_ns);
/* The same for any shared-memory object: 1 when name is gone or is no longer
 * the object with inode ino. */
int shm_replaced(const char *name, ino_t ino);

/* Accessors */
const struct seg_header *seg_header(const struct seg *s);
struct seg_stats *seg_stats(struct seg *s);
uint64_t seg_write_seq(const struct seg *s);
/* Oldest sequence a reader can still get intact. */
uint64_t seg_oldest(const struct seg *s);

#endif
