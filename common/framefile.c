/*
 * framefile.c - frame files (framefile.h): file and block headers, the
 * writer with its rollback-to-durable error handling, and the readers. The
 * payload codecs are blockcodec.c's.
 *
 * Readers go through one walker (next_block) over a source that is either a
 * memory image or a file read with pread, so load, load_buf, scan, the block
 * reader and open_append apply exactly the same checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/crc32c.h"
#include "common/framefile.h"
#include "common/le.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "frame files and struct pw_frame are little-endian layouts"
#endif

#define FF_BLOCK_MAGIC 0x42465750u /* "PWFB" */
#define FF_POPULATE_MIN (64u << 20)   /* smaller outputs are not worth a thread */
#define FF_POPULATE_CHUNK (2u << 20)
#ifdef MADV_POPULATE_WRITE
#define FF_MADV_POPULATE_WRITE MADV_POPULATE_WRITE
#else
#define FF_MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels answer EINVAL */
#endif
#define FF_HDR_CRC_OFF (FRAMEFILE_HEADER_SIZE - 4)

/* --- blocks --- */

struct ff_block {
	uint32_t payload_len;
	uint32_t count;
	uint32_t crc;
	uint64_t first_seq;
	uint64_t last_seq;
};

static uint32_t block_crc(const uint8_t *hdr, const uint8_t *payload, size_t len)
{
	uint32_t crc = crc32c(0, hdr, 12);

	crc = crc32c(crc, hdr + 16, FRAMEFILE_BLOCK_HEADER_SIZE - 16);
	return crc32c(crc, payload, len);
}

/* Fill the 32-byte header in front of a payload already at hdr + 32. */
static void block_seal(uint8_t *hdr, uint32_t len, uint32_t count, uint64_t first, uint64_t last)
{
	le_put32(hdr, FF_BLOCK_MAGIC);
	le_put32(hdr + 4, len);
	le_put32(hdr + 8, count);
	le_put64(hdr + 16, first);
	le_put64(hdr + 24, last);
	le_put32(hdr + 12, block_crc(hdr, hdr + FRAMEFILE_BLOCK_HEADER_SIZE, len));
}

static void block_parse(const uint8_t *h, struct ff_block *b)
{
	b->payload_len = le_get32(h + 4);
	b->count = le_get32(h + 8);
	b->crc = le_get32(h + 12);
	b->first_seq = le_get64(h + 16);
	b->last_seq = le_get64(h + 24);
}

/* Header checks that need no payload: magic, sizes, seq order. */
static int block_plausible(const uint8_t *h, const struct ff_block *b, int have_prev,
			   uint64_t prev_last)
{
	if (le_get32(h) != FF_BLOCK_MAGIC || b->count < 1 || b->count > FRAMEFILE_BLOCK_MAX_FRAMES)
		return 0;
	if (!blockcodec_payload_plausible(b->payload_len, b->count))
		return 0;
	if (b->last_seq < b->first_seq || b->last_seq - b->first_seq < b->count - 1)
		return 0;
	return !have_prev || b->first_seq > prev_last;
}

/* --- file header --- */

static void hdr_encode(const struct framefile_hdr *h, uint8_t *b)
{
	memset(b, 0, FRAMEFILE_HEADER_SIZE);
	memcpy(b, FRAMEFILE_MAGIC, 8);
	le_put16(b + 8, FRAMEFILE_FORMAT_VERSION);
	le_put16(b + 10, FRAMEFILE_HEADER_SIZE);
	le_put16(b + 12, FRAME_SIZE);
	le_put16(b + 14, FRAME_VERSION);
	le_put32(b + 16, h->codec);
	le_put32(b + 20, FRAMEFILE_BLOCK_FRAMES);
	le_put64(b + 24, (uint64_t)h->created_ns);
	memcpy(b + 32, h->feed, strlen(h->feed));
	memcpy(b + 64, h->run_id, strlen(h->run_id));
	le_put32(b + FF_HDR_CRC_OFF, crc32c(0, b, FF_HDR_CRC_OFF));
}

static int hdr_decode(const uint8_t *b, struct framefile_hdr *h)
{
	memset(h, 0, sizeof *h);
	if (memcmp(b, FRAMEFILE_MAGIC, 8) != 0 ||
	    le_get32(b + FF_HDR_CRC_OFF) != crc32c(0, b, FF_HDR_CRC_OFF))
		return -EPROTO;
	if (le_get16(b + 8) != FRAMEFILE_FORMAT_VERSION ||
	    le_get16(b + 10) != FRAMEFILE_HEADER_SIZE)
		return -EPROTO;
	if (b[32 + FRAMEFILE_FEED_MAX] != 0)
		return -EPROTO;
	h->format_version = le_get16(b + 8);
	h->frame_size = le_get16(b + 12);
	h->frame_version = le_get16(b + 14);
	h->codec = le_get32(b + 16);
	h->created_ns = (int64_t)le_get64(b + 24);
	memcpy(h->feed, b + 32, FRAMEFILE_FEED_MAX);
	memcpy(h->run_id, b + 64, FRAMEFILE_RUN_ID_MAX);
	return 0;
}

/* This build can decode the frames: the layout and codec are its own. */
static int hdr_decodable(const struct framefile_hdr *h)
{
	return h->frame_size == FRAME_SIZE && h->frame_version >= FRAME_VERSION_MIN &&
	       h->frame_version <= FRAME_VERSION && h->codec < BLOCKCODEC_COUNT;
}

/* --- reading: a memory image or a file through pread --- */

struct ff_src {
	const uint8_t *mem;        /* the image, or NULL to read fd */
	int fd;
	uint64_t size;
	uint8_t *buf;              /* pread buffer */
	size_t cap;
};

/* Point *out at bytes [off, off + n). -ENODATA when the source ends first. */
static int src_read(struct ff_src *s, uint64_t off, size_t n, const uint8_t **out)
{
	size_t got = 0;

	if (off > s->size || n > s->size - off)
		return -ENODATA;
	if (s->mem) {
		*out = s->mem + off;
		return 0;
	}
	if (n > s->cap) {
		uint8_t *nb = realloc(s->buf, n);
		if (!nb)
			return -ENOMEM;
		s->buf = nb;
		s->cap = n;
	}
	while (got < n) {
		ssize_t r = pread(s->fd, s->buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ENODATA; /* shrank under us: the rest is a torn tail */
		got += (size_t)r;
	}
	*out = s->buf;
	return 0;
}

static int src_open_fd(struct ff_src *s, int fd)
{
	struct stat st;

	memset(s, 0, sizeof *s);
	s->fd = fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	s->size = (uint64_t)st.st_size;
	return 0;
}

static void src_mem(struct ff_src *s, const void *buf, size_t len)
{
	memset(s, 0, sizeof *s);
	s->mem = buf;
	s->fd = -1;
	s->size = len;
}

static int walk_start(struct ff_src *s, struct framefile_info *info)
{
	const uint8_t *b;
	int rc;

	memset(info, 0, sizeof *info);
	info->file_bytes = s->size;
	rc = src_read(s, 0, FRAMEFILE_HEADER_SIZE, &b);
	if (rc == -ENODATA)
		return -EPROTO;
	if (rc < 0)
		return rc;
	if ((rc = hdr_decode(b, &info->hdr)) < 0)
		return rc;
	info->valid_bytes = FRAMEFILE_HEADER_SIZE;
	return 0;
}

static int walk_stop(struct framefile_info *info, enum framefile_tail tail)
{
	info->tail = tail;
	info->dropped_bytes = info->file_bytes - info->valid_bytes;
	return 0;
}

/*
 * The block at info->valid_bytes: 1 with *b (and *payload when want_payload)
 * when it is complete and plausible and, with check_crc, its CRC matches; 0
 * at the end of the valid data (info->tail says why); -errno on read errors.
 */
static int next_block(struct ff_src *s, struct framefile_info *info, struct ff_block *b,
		      const uint8_t **payload, int want_payload, int check_crc)
{
	uint64_t off = info->valid_bytes;
	const uint8_t *h;
	uint8_t hcopy[FRAMEFILE_BLOCK_HEADER_SIZE];
	int rc;

	if (off == s->size)
		return walk_stop(info, FRAMEFILE_TAIL_CLEAN);
	rc = src_read(s, off, FRAMEFILE_BLOCK_HEADER_SIZE, &h);
	if (rc == -ENODATA)
		return walk_stop(info, FRAMEFILE_TAIL_TORN);
	if (rc < 0)
		return rc;
	memcpy(hcopy, h, sizeof hcopy); /* the payload read may reuse the buffer */
	block_parse(hcopy, b);
	if (!block_plausible(hcopy, b, info->frames > 0, info->last_seq))
		return walk_stop(info, FRAMEFILE_TAIL_CORRUPT);
	if (b->payload_len > s->size - off - FRAMEFILE_BLOCK_HEADER_SIZE)
		return walk_stop(info, FRAMEFILE_TAIL_TORN);
	if (!want_payload && !check_crc)
		return 1;
	rc = src_read(s, off + FRAMEFILE_BLOCK_HEADER_SIZE, b->payload_len, payload);
	if (rc == -ENODATA)
		return walk_stop(info, FRAMEFILE_TAIL_TORN);
	if (rc < 0)
		return rc;
	if (check_crc && block_crc(hcopy, *payload, b->payload_len) != b->crc)
		return walk_stop(info, FRAMEFILE_TAIL_CORRUPT);
	return 1;
}

static void walk_take(struct framefile_info *info, const struct ff_block *b)
{
	if (!info->frames)
		info->first_seq = b->first_seq;
	info->last_seq = b->last_seq;
	info->frames += b->count;
	info->blocks++;
	info->valid_bytes += FRAMEFILE_BLOCK_HEADER_SIZE + (uint64_t)b->payload_len;
}

static int scan_src(struct ff_src *s, struct framefile_info *info)
{
	struct ff_block b;
	const uint8_t *payload;
	int rc = walk_start(s, info);

	while (rc == 0 && (rc = next_block(s, info, &b, &payload, 0, 1)) == 1) {
		walk_take(info, &b);
		rc = 0;
	}
	return rc;
}

/* Frames the plausible block headers promise (an upper bound; no CRC). */
static int count_src(struct ff_src *s, uint64_t *frames)
{
	struct framefile_info info;
	struct ff_block b;
	const uint8_t *payload;
	int rc = walk_start(s, &info);

	while (rc == 0 && (rc = next_block(s, &info, &b, &payload, 0, 0)) == 1) {
		walk_take(&info, &b);
		rc = 0;
	}
	*frames = info.frames;
	return rc;
}

/*
 * Decode the block at info->valid_bytes into out (room for cap frames): 1
 * when it was taken, 0 at the end of the valid data (info->tail says why; a
 * block that does not decode or does not fit ends it as a corrupt tail),
 * -errno on read errors.
 */
static int decode_next(struct ff_src *s, struct framefile_info *info, struct blockcodec_dec *d,
		       struct pw_frame *out, uint64_t cap)
{
	struct ff_block b;
	const uint8_t *payload;
	int rc = next_block(s, info, &b, &payload, 1, 1);

	if (rc != 1)
		return rc;
	if (b.count > cap ||
	    blockcodec_decode(d, payload, b.payload_len, b.count, b.first_seq, b.last_seq, out) < 0)
		return walk_stop(info, FRAMEFILE_TAIL_CORRUPT);
	/* a file created by an older writer holds older frames (and newer ones
	 * when a newer writer appended to it): each frame says what it is. The
	 * file is a container: a version this build does not know is passed on
	 * as it is, for the frame's reader to refuse. */
	for (uint32_t i = 0; i < b.count; i++)
		frame_upgrade(&out[i]);
	walk_take(info, &b);
	return 1;
}

static int decode_src(struct ff_src *s, struct framefile_info *info, struct pw_frame *out,
		      uint64_t cap)
{
	struct blockcodec_dec *d = NULL;
	int rc = walk_start(s, info);

	if (rc == 0 && !(d = blockcodec_dec_new(info->hdr.codec)))
		rc = -ENOMEM;
	while (rc == 0 &&
	       (rc = decode_next(s, info, d, out + info->frames, cap - info->frames)) == 1)
		rc = 0;
	blockcodec_dec_free(d);
	return rc;
}

/*
 * Output arrays of a large run are faulted in by a helper thread while the
 * decoder fills them: on the KVM guest measured, faulting in the 460 MB of
 * a one-hour run took 175 ms of CPU, as much as decoding it. The helper only
 * asks the kernel to populate pages (MADV_POPULATE_WRITE, Linux 5.14+;
 * older kernels refuse and the decoder faults the pages in itself), so it
 * never touches frame data; the decoder tells it to stop when it is done.
 */
struct ff_populate {
	pthread_t thread;
	uint8_t *lo, *hi;          /* page-aligned range */
	atomic_int stop;
	int started;
};

static void *populate_run(void *arg)
{
	struct ff_populate *pp = arg;

	for (uint8_t *p = pp->lo; p < pp->hi && !atomic_load(&pp->stop); p += FF_POPULATE_CHUNK) {
		size_t len = (size_t)(pp->hi - p) < FF_POPULATE_CHUNK ? (size_t)(pp->hi - p)
								      : FF_POPULATE_CHUNK;
		if (madvise(p, len, FF_MADV_POPULATE_WRITE) < 0)
			break;
	}
	return NULL;
}

static void populate_start(struct ff_populate *pp, void *buf, size_t bytes)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

	pp->started = 0;
	atomic_init(&pp->stop, 0);
	if (bytes < FF_POPULATE_MIN)
		return;
	pp->lo = (uint8_t *)(((uintptr_t)buf + page - 1) & ~(page - 1));
	pp->hi = (uint8_t *)(((uintptr_t)buf + bytes) & ~(page - 1));
	pp->started = pp->hi > pp->lo && pthread_create(&pp->thread, NULL, populate_run, pp) == 0;
}

static void populate_stop(struct ff_populate *pp)
{
	atomic_store(&pp->stop, 1);
	if (pp->started)
		pthread_join(pp->thread, NULL);
}

static int load_src(struct ff_src *s, struct pw_frame **frames, size_t *n,
		    struct framefile_info *info)
{
	struct pw_frame *out = NULL;
	struct ff_populate pop;
	uint64_t cap = 0;
	int rc;

	*frames = NULL;
	*n = 0;
	if ((rc = walk_start(s, info)) < 0)
		return rc;
	if (!hdr_decodable(&info->hdr))
		return -EPROTO;
	if ((rc = count_src(s, &cap)) < 0)
		return rc;
	if (cap > SIZE_MAX / FRAME_SIZE)
		return -ENOMEM;
	if (cap && !(out = malloc((size_t)cap * FRAME_SIZE)))
		return -ENOMEM;
	populate_start(&pop, out, (size_t)cap * FRAME_SIZE);
	rc = decode_src(s, info, out, cap);
	populate_stop(&pop);
	if (rc < 0) {
		free(out);
		return rc;
	}
	if (!info->frames) {
		free(out);
		out = NULL;
	} else if (info->frames < cap) {
		struct pw_frame *shrunk = realloc(out, (size_t)info->frames * FRAME_SIZE);
		out = shrunk ? shrunk : out;
	}
	*frames = out;
	*n = (size_t)info->frames;
	return 0;
}

int framefile_load_buf(const void *buf, size_t len, struct pw_frame **frames, size_t *n,
		       struct framefile_info *info)
{
	struct framefile_info local;
	struct ff_src s;

	*frames = NULL;
	*n = 0;
	if (!buf && len)
		return -EINVAL;
	src_mem(&s, buf, len);
	return load_src(&s, frames, n, info ? info : &local);
}

int framefile_scan_buf(const void *buf, size_t len, struct framefile_info *info)
{
	struct framefile_info local;
	struct ff_src s;

	if (!buf && len)
		return -EINVAL;
	src_mem(&s, buf, len);
	return scan_src(&s, info ? info : &local);
}

int framefile_load(const char *path, struct pw_frame **frames, size_t *n,
		   struct framefile_info *info)
{
	struct framefile_info local;
	struct ff_src s;
	int fd, rc;

	*frames = NULL;
	*n = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	rc = src_open_fd(&s, fd);
	if (rc == 0)
		rc = load_src(&s, frames, n, info ? info : &local);
	free(s.buf);
	close(fd);
	return rc;
}

int framefile_scan(const char *path, struct framefile_info *info)
{
	struct framefile_info local;
	struct ff_src s;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	rc = src_open_fd(&s, fd);
	if (rc == 0)
		rc = scan_src(&s, info ? info : &local);
	free(s.buf);
	close(fd);
	return rc;
}

/* --- block reader --- */

struct framefile_reader {
	int fd;
	struct ff_src src;         /* ends where the open's scan found the valid data to end */
	struct framefile_info scan;
	struct framefile_info walk; /* what has been delivered */
	struct blockcodec_dec *dec;
	struct pw_frame *frames;   /* FRAMEFILE_BLOCK_MAX_FRAMES, the block last delivered */
	int done;
	int ranged;                /* framefile_reader_open_range: only seqs [lo, hi] */
	uint64_t lo, hi;
};

/*
 * A reader of path with its header checked: with scan, the whole file
 * validated first (r->scan holds the findings), else only its header (r->scan
 * holds that).
 */
static int reader_new(struct framefile_reader **out, const char *path, int scan)
{
	struct framefile_reader *r = calloc(1, sizeof *r);
	int rc;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = -errno;
		goto out;
	}
	if ((rc = src_open_fd(&r->src, r->fd)) < 0)
		goto out;
	if ((rc = scan ? scan_src(&r->src, &r->scan) : walk_start(&r->src, &r->scan)) < 0)
		goto out;
	if (!hdr_decodable(&r->scan.hdr)) {
		rc = -EPROTO;
		goto out;
	}
	r->dec = blockcodec_dec_new(r->scan.hdr.codec);
	r->frames = malloc((size_t)FRAMEFILE_BLOCK_MAX_FRAMES * FRAME_SIZE);
	if (!r->dec || !r->frames)
		rc = -ENOMEM;
out:
	if (rc < 0) {
		framefile_reader_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

int framefile_reader_open(struct framefile_reader **out, const char *path,
			  struct framefile_info *info)
{
	struct framefile_reader *r;
	int rc;

	*out = NULL;
	if ((rc = reader_new(&r, path, 1)) < 0)
		return rc;
	/* a snapshot: blocks appended after the scan are not delivered */
	r->src.size = r->scan.valid_bytes;
	if ((rc = walk_start(&r->src, &r->walk)) < 0) {
		framefile_reader_close(r);
		return rc;
	}
	r->walk.file_bytes = r->scan.file_bytes;
	if (info)
		*info = r->scan;
	*out = r;
	return 0;
}

/* The ranged walk: skip blocks before the range by their headers, trim the
 * blocks that overlap it, stop at the first block after it. */
static int next_in_range(struct framefile_reader *r, const struct pw_frame **frames, size_t *n)
{
	struct ff_block b;
	const uint8_t *payload;
	uint64_t before;
	size_t a, e;
	int rc;

	for (;;) {
		if ((rc = next_block(&r->src, &r->walk, &b, &payload, 0, 0)) != 1)
			break;
		if (b.first_seq > r->hi) {
			walk_stop(&r->walk, FRAMEFILE_TAIL_CLEAN);
			rc = 0;
			break;
		}
		if (b.last_seq < r->lo) {
			walk_take(&r->walk, &b);
			continue;
		}
		before = r->walk.frames;
		rc = decode_next(&r->src, &r->walk, r->dec, r->frames, FRAMEFILE_BLOCK_MAX_FRAMES);
		if (rc != 1)
			break;
		e = (size_t)(r->walk.frames - before);
		for (a = 0; a < e && r->frames[a].seq < r->lo; a++)
			;
		while (e > a && r->frames[e - 1].seq > r->hi)
			e--;
		if (e > a) {
			*frames = r->frames + a;
			*n = e - a;
			return 1;
		}
	}
	if (rc == 0)
		r->done = 1;
	return rc;
}

int framefile_reader_next(struct framefile_reader *r, const struct pw_frame **frames, size_t *n)
{
	uint64_t before = r->walk.frames;
	int rc;

	*frames = NULL;
	*n = 0;
	if (r->done)
		return 0;
	if (r->ranged)
		return next_in_range(r, frames, n);
	rc = decode_next(&r->src, &r->walk, r->dec, r->frames, FRAMEFILE_BLOCK_MAX_FRAMES);
	if (rc == 1) {
		*frames = r->frames;
		*n = (size_t)(r->walk.frames - before);
		return 1;
	}
	if (rc == 0) {
		/* the end of the snapshot is where the scan stopped, for the scan's reason */
		if (r->walk.tail == FRAMEFILE_TAIL_CLEAN)
			r->walk.tail = r->scan.tail;
		r->done = 1;
	}
	return rc;
}

int framefile_reader_open_range(struct framefile_reader **out, const char *path,
				uint64_t first_seq, uint64_t last_seq, struct framefile_info *info)
{
	struct framefile_reader *r;
	int rc;

	*out = NULL;
	if (first_seq > last_seq)
		return -EINVAL;
	if ((rc = reader_new(&r, path, 0)) < 0)
		return rc;
	r->ranged = 1;
	r->lo = first_seq;
	r->hi = last_seq;
	r->walk = r->scan;
	if (info)
		*info = r->walk;
	*out = r;
	return 0;
}

int framefile_reader_rewind(struct framefile_reader *r)
{
	int rc = walk_start(&r->src, &r->walk);

	r->walk.file_bytes = r->scan.file_bytes;
	r->done = 0;
	return rc;
}

void framefile_reader_info(const struct framefile_reader *r, struct framefile_info *info)
{
	*info = r->walk;
}

void framefile_reader_only(struct framefile_reader *r, uint64_t channels)
{
	blockcodec_dec_only(r->dec, channels);
}

void framefile_reader_close(struct framefile_reader *r)
{
	if (!r)
		return;
	blockcodec_dec_free(r->dec);
	free(r->frames);
	free(r->src.buf);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

/* --- writer --- */

struct framefile_writer {
	int fd;
	struct pw_frame *pending;  /* FRAMEFILE_BLOCK_FRAMES */
	size_t npending;
	uint8_t *block;            /* block header + payload being written */
	struct blockcodec_enc *enc;
	uint64_t last_seq;         /* of the last accepted frame */
	/* what has been handed to the kernel, and what of it is durable */
	uint64_t end, synced_end;
	uint64_t frames_written, frames_synced;
	uint64_t written_last_seq, synced_last_seq;
	uint64_t blocks, synced_blocks;
	int need_truncate;         /* a rollback's ftruncate failed: retry before writing */
	int need_fsync;            /* after a rollback the file size must be synced too */
};

static struct framefile_writer *writer_new(int fd, uint32_t codec)
{
	struct framefile_writer *w = calloc(1, sizeof *w);

	if (!w)
		return NULL;
	w->fd = fd;
	w->pending = malloc((size_t)FRAMEFILE_BLOCK_FRAMES * FRAME_SIZE);
	w->block = malloc(FRAMEFILE_BLOCK_HEADER_SIZE +
			  blockcodec_encode_cap(FRAMEFILE_BLOCK_FRAMES));
	w->enc = blockcodec_enc_new(codec);
	if (!w->pending || !w->block || !w->enc) {
		free(w->pending);
		free(w->block);
		blockcodec_enc_free(w->enc);
		free(w);
		return NULL;
	}
	return w;
}

static void writer_free(struct framefile_writer *w)
{
	free(w->pending);
	free(w->block);
	blockcodec_enc_free(w->enc);
	free(w);
}

static int pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t r = pwrite(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int lock_file(int fd)
{
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	return errno == EWOULDBLOCK ? -EBUSY : -errno;
}

/* Forget everything after the last durable point and cut the file there. */
static int rollback(struct framefile_writer *w, int err)
{
	w->npending = 0;
	w->end = w->synced_end;
	w->frames_written = w->frames_synced;
	w->written_last_seq = w->synced_last_seq;
	w->last_seq = w->synced_last_seq;
	w->blocks = w->synced_blocks;
	w->need_truncate = ftruncate(w->fd, (off_t)w->end) != 0;
	w->need_fsync = 1;
	return err;
}

static int retry_truncate(struct framefile_writer *w)
{
	if (!w->need_truncate)
		return 0;
	if (ftruncate(w->fd, (off_t)w->end) != 0)
		return -errno;
	w->need_truncate = 0;
	return 0;
}

/* Encode n frames into one block and write it at w->end. */
static int write_block(struct framefile_writer *w, const struct pw_frame *f, size_t n)
{
	uint8_t *payload = w->block + FRAMEFILE_BLOCK_HEADER_SIZE;
	size_t len;
	int rc;

	if ((rc = retry_truncate(w)) < 0)
		return rc;
	len = blockcodec_encode(w->enc, f, n, payload);
	block_seal(w->block, (uint32_t)len, (uint32_t)n, f[0].seq, f[n - 1].seq);
	rc = pwrite_all(w->fd, w->block, FRAMEFILE_BLOCK_HEADER_SIZE + len, w->end);
	if (rc < 0)
		return rc;
	w->end += FRAMEFILE_BLOCK_HEADER_SIZE + len;
	w->frames_written += n;
	w->written_last_seq = f[n - 1].seq;
	w->blocks++;
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc = 0;

	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else if ((size_t)(slash - path) < sizeof dir)
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	else
		return -ENAMETOOLONG;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int hdr_valid_for_create(const struct framefile_hdr *h)
{
	size_t feed = strnlen(h->feed, sizeof h->feed), run = strnlen(h->run_id, sizeof h->run_id);

	return feed >= 1 && feed <= FRAMEFILE_FEED_MAX && run >= 1 && run <= FRAMEFILE_RUN_ID_MAX &&
	       h->codec < BLOCKCODEC_COUNT;
}

int framefile_create(struct framefile_writer **out, const char *path,
		     const struct framefile_hdr *hdr)
{
	struct framefile_hdr h;
	uint8_t b[FRAMEFILE_HEADER_SIZE];
	int fd, rc;

	*out = NULL;
	if (!path || !hdr || !hdr_valid_for_create(hdr))
		return -EINVAL;
	h = *hdr;
	if (!h.created_ns)
		h.created_ns = clock_now_ns();
	hdr_encode(&h, b);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
		return -errno;
	rc = lock_file(fd);
	if (rc == 0)
		rc = pwrite_all(fd, b, sizeof b, 0);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (rc == 0)
		rc = fsync_dir_of(path);
	if (rc == 0 && !(*out = writer_new(fd, h.codec)))
		rc = -ENOMEM;
	if (rc < 0) {
		unlink(path);
		close(fd);
		return rc;
	}
	(*out)->end = (*out)->synced_end = FRAMEFILE_HEADER_SIZE;
	return 0;
}

/*
 * Cut a dropped tail off the file and fsync. The fsync also runs when
 * nothing was cut: blocks a crashed writer left in the page cache unsynced
 * are counted as durable from here on, so they must reach the disk first.
 */
static int cut_tail(int fd, const struct framefile_info *info)
{
	if (info->valid_bytes < info->file_bytes && ftruncate(fd, (off_t)info->valid_bytes) < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

int framefile_open_append(struct framefile_writer **out, const char *path,
			  struct framefile_info *info)
{
	struct framefile_info local, *in = info ? info : &local;
	struct framefile_writer *w = NULL;
	struct ff_src s = { 0 };
	int fd, rc;

	*out = NULL;
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return -errno;
	rc = lock_file(fd);
	if (rc == 0)
		rc = src_open_fd(&s, fd);
	if (rc == 0)
		rc = scan_src(&s, in);
	free(s.buf);
	if (rc == 0 && !hdr_decodable(&in->hdr))
		rc = -EPROTO;
	if (rc == 0)
		rc = cut_tail(fd, in);
	if (rc == 0 && !(w = writer_new(fd, in->hdr.codec)))
		rc = -ENOMEM;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	w->end = w->synced_end = in->valid_bytes;
	w->frames_written = w->frames_synced = in->frames;
	w->last_seq = w->written_last_seq = w->synced_last_seq = in->last_seq;
	w->blocks = w->synced_blocks = in->blocks;
	*out = w;
	return 0;
}

static int seqs_increase(const struct framefile_writer *w, const struct pw_frame *f, size_t n)
{
	int have = w->frames_written + w->npending > 0;
	uint64_t prev = w->last_seq;

	for (size_t i = 0; i < n; prev = f[i].seq, have = 1, i++)
		if (have && f[i].seq <= prev)
			return 0;
	return 1;
}

int framefile_append(struct framefile_writer *w, const struct pw_frame *frames, size_t n)
{
	int rc;

	if (!w || (!frames && n))
		return -EINVAL;
	if (!seqs_increase(w, frames, n))
		return -EINVAL;
	while (n) {
		size_t take = FRAMEFILE_BLOCK_FRAMES - w->npending;

		if (w->npending == 0 && n >= FRAMEFILE_BLOCK_FRAMES) {
			/* a whole block in the caller's memory: encode it in place */
			if ((rc = write_block(w, frames, FRAMEFILE_BLOCK_FRAMES)) < 0)
				return rollback(w, rc);
			w->last_seq = frames[FRAMEFILE_BLOCK_FRAMES - 1].seq;
			frames += FRAMEFILE_BLOCK_FRAMES;
			n -= FRAMEFILE_BLOCK_FRAMES;
			continue;
		}
		take = take < n ? take : n;
		memcpy(w->pending + w->npending, frames, take * FRAME_SIZE);
		w->npending += take;
		w->last_seq = frames[take - 1].seq;
		frames += take;
		n -= take;
		if (w->npending == FRAMEFILE_BLOCK_FRAMES) {
			if ((rc = write_block(w, w->pending, w->npending)) < 0)
				return rollback(w, rc);
			w->npending = 0;
		}
	}
	return 0;
}

int framefile_sync(struct framefile_writer *w)
{
	int rc;

	if (!w)
		return -EINVAL;
	if (w->npending) {
		if ((rc = write_block(w, w->pending, w->npending)) < 0)
			return rollback(w, rc);
		w->npending = 0;
	}
	if ((rc = retry_truncate(w)) < 0)
		return rollback(w, rc);
	if (w->end == w->synced_end && !w->need_fsync)
		return 0;
	if ((w->need_fsync ? fsync(w->fd) : fdatasync(w->fd)) < 0)
		return rollback(w, -errno);
	w->need_fsync = 0;
	w->synced_end = w->end;
	w->frames_synced = w->frames_written;
	w->synced_last_seq = w->written_last_seq;
	w->synced_blocks = w->blocks;
	return 0;
}

int framefile_close(struct framefile_writer *w)
{
	int rc;

	if (!w)
		return 0;
	rc = framefile_sync(w);
	if (close(w->fd) < 0 && rc == 0)
		rc = -errno;
	writer_free(w);
	return rc;
}

void framefile_stats(const struct framefile_writer *w, struct framefile_stats *st)
{
	memset(st, 0, sizeof *st);
	st->frames = w->frames_written + w->npending;
	st->frames_written = w->frames_written;
	st->frames_synced = w->frames_synced;
	st->last_seq = w->last_seq;
	st->synced_last_seq = w->synced_last_seq;
	st->blocks = w->blocks;
	st->bytes = w->end;
	st->synced_bytes = w->synced_end;
}
