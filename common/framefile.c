/*
 * framefile.c - frame files (framefile.h): file and block headers of both
 * formats, the writer with its rollback-to-durable error handling, and the
 * readers. The payload codecs are blockcodec.c's.
 *
 * Readers go through one walker (next_block) over a source that is either a
 * memory image or a file read with pread, so load, load_buf, scan, the block
 * reader, the column loader and open_append apply exactly the same checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
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

#define FF_BLOCK_MAGIC 0x42465750u  /* "PWFB" */
#define FF_BLOCK2_MAGIC 0x43465750u /* "PWFC" */
#define FF_POPULATE_MIN (64u << 20) /* smaller outputs are not worth a thread */
#define FF_POPULATE_CHUNK (2u << 20)
#ifdef MADV_POPULATE_WRITE
#define FF_MADV_POPULATE_WRITE MADV_POPULATE_WRITE
#else
#define FF_MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels answer EINVAL */
#endif
#define FF_HDR_CRC_OFF (FRAMEFILE_HEADER_SIZE - 4)
#define FF_READ_GAP 16384     /* chunks this close are read in one pread */
#define FF_FRAMES_PER_BYTE 16 /* format 2: a block of n frames holds >= n / 16 bytes */
#define FF_LAP_NONE 0xffff    /* lap_min of a block without laps */

_Static_assert(FRAMEFILE_BLOCK_MAX_FRAMES == BLOCKCODEC_MAX_ROWS, "one block limit");
_Static_assert(FRAMECOLS_SEQ == BLOCKCODEC_PART_BIT(BLOCKCODEC_SEQ) &&
		       FRAMECOLS_IDS == BLOCKCODEC_PART_BIT(BLOCKCODEC_IDS) &&
		       FRAMECOLS_DERIVED == BLOCKCODEC_PART_BIT(BLOCKCODEC_DERIVED) &&
		       FRAMECOLS_HEAD == BLOCKCODEC_PART_BIT(BLOCKCODEC_REST) - 1,
	       "the head's parts are numbered alike");

/* --- formats: what the file header says about the blocks --- */

struct ff_fmt {
	unsigned version;                /* 1 or 2 */
	struct blockcodec_layout layout; /* 2 */
	unsigned bm_len;                 /* 2: bytes of a block's stored bits */
	unsigned head_max;               /* 2: the largest block header with its directory */
	uint64_t all;                    /* 2: every chunk of the layout (bit k: chunk k) */
	uint64_t want;                   /* 2: the chunks a decode reads; 0 = all */
};

/* --- blocks --- */

struct ff_block {
	uint32_t payload_len; /* 1: the payload; 2: the bytes after the 48-byte header */
	uint32_t count;
	uint32_t crc;
	uint64_t first_seq;
	uint64_t last_seq;
	uint64_t total; /* the whole block's bytes */
	/* format 2 */
	uint16_t lap_min, lap_max;
	uint32_t head_len; /* header, stored bits and directory */
	uint64_t stored;
	uint32_t off[BLOCKCODEC_MAX_CHUNKS]; /* chunk k's bytes at off[k] from the block's start */
	uint32_t len[BLOCKCODEC_MAX_CHUNKS];
	uint32_t ccrc[BLOCKCODEC_MAX_CHUNKS];
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

/* A format 2 block's header CRC: bytes 0..11, then 16 to the end of the directory. */
static uint32_t block2_crc(const uint8_t *h, size_t head_len)
{
	return crc32c(crc32c(0, h, 12), h + 16, head_len - 16);
}

static void block_parse(const uint8_t *h, struct ff_block *b)
{
	b->payload_len = le_get32(h + 4);
	b->count = le_get32(h + 8);
	b->crc = le_get32(h + 12);
	b->first_seq = le_get64(h + 16);
	b->last_seq = le_get64(h + 24);
	b->total = FRAMEFILE_BLOCK_HEADER_SIZE + (uint64_t)b->payload_len;
}

/* The seqs a header promises: count frames in [first, last], after the previous block's. */
static int seqs_plausible(const struct ff_block *b, int have_prev, uint64_t prev_last)
{
	if (b->count < 1 || b->count > FRAMEFILE_BLOCK_MAX_FRAMES)
		return 0;
	if (b->last_seq < b->first_seq || b->last_seq - b->first_seq < b->count - 1)
		return 0;
	return !have_prev || b->first_seq > prev_last;
}

/* Header checks that need no payload: magic, sizes, seq order. */
static int block_plausible(const uint8_t *h, const struct ff_block *b, int have_prev,
			   uint64_t prev_last)
{
	if (le_get32(h) != FF_BLOCK_MAGIC || !seqs_plausible(b, have_prev, prev_last))
		return 0;
	return blockcodec_payload_plausible(b->payload_len, b->count);
}

/* --- file header --- */

static void hdr_encode(const struct framefile_hdr *h, const struct ff_fmt *fmt, uint8_t *b)
{
	size_t llen = 0;

	memset(b, 0, FRAMEFILE_HEADER_SIZE);
	memcpy(b, FRAMEFILE_MAGIC, 8);
	le_put16(b + 8, (uint16_t)fmt->version);
	le_put16(b + 12, FRAME_SIZE);
	le_put16(b + 14, FRAME_VERSION);
	le_put32(b + 16, fmt->version == 1 ? h->codec : BLOCKCODEC_COLS);
	le_put32(b + 20, FRAMEFILE_BLOCK_FRAMES);
	le_put64(b + 24, (uint64_t)h->created_ns);
	memcpy(b + 32, h->feed, strlen(h->feed));
	memcpy(b + 64, h->run_id, strlen(h->run_id));
	if (fmt->version == 2) {
		llen = blockcodec_layout_dump(&fmt->layout, b + FRAMEFILE_HEADER_SIZE);
		le_put64(b + 128, h->channels);
		le_put32(b + 136, h->parts);
		le_put16(b + 140, (uint16_t)llen);
		le_put32(b + FRAMEFILE_HEADER_SIZE + llen,
			 crc32c(0, b + FRAMEFILE_HEADER_SIZE, llen));
		llen += 4;
	}
	le_put16(b + 10, (uint16_t)(FRAMEFILE_HEADER_SIZE + llen));
	le_put32(b + FF_HDR_CRC_OFF, crc32c(0, b, FF_HDR_CRC_OFF));
}

/* The fixed 160 bytes; a format 2 header's layout is checked by walk_start. */
static int hdr_decode(const uint8_t *b, struct framefile_hdr *h)
{
	unsigned fv, size;

	memset(h, 0, sizeof *h);
	if (memcmp(b, FRAMEFILE_MAGIC, 8) != 0 ||
	    le_get32(b + FF_HDR_CRC_OFF) != crc32c(0, b, FF_HDR_CRC_OFF))
		return -EPROTO;
	fv = le_get16(b + 8);
	size = le_get16(b + 10);
	if (fv == 1 ? size != FRAMEFILE_HEADER_SIZE
		    : fv != 2 || size != FRAMEFILE_HEADER_SIZE + le_get16(b + 140) + 4u)
		return -EPROTO;
	if (b[32 + FRAMEFILE_FEED_MAX] != 0)
		return -EPROTO;
	h->format_version = fv;
	h->header_size = size;
	h->frame_size = le_get16(b + 12);
	h->frame_version = le_get16(b + 14);
	h->codec = le_get32(b + 16);
	h->created_ns = (int64_t)le_get64(b + 24);
	h->channels = fv == 2 ? le_get64(b + 128) : ~0ull;
	h->parts = fv == 2 ? le_get32(b + 136) : BLOCKCODEC_PARTS_ALL;
	memcpy(h->feed, b + 32, FRAMEFILE_FEED_MAX);
	memcpy(h->run_id, b + 64, FRAMEFILE_RUN_ID_MAX);
	return 0;
}

/* This build can decode the frames: the layout and codec are its own. */
static int hdr_decodable(const struct framefile_hdr *h)
{
	if (h->frame_size != FRAME_SIZE || h->frame_version < FRAME_VERSION_MIN ||
	    h->frame_version > FRAME_VERSION)
		return 0;
	return h->format_version == 1 ? h->codec < BLOCKCODEC_COLS : h->codec == BLOCKCODEC_COLS;
}

static void fmt_layout(struct ff_fmt *fmt)
{
	fmt->bm_len = (fmt->layout.nchunks + 7) / 8;
	fmt->head_max = FRAMEFILE_BLOCK2_HEADER_SIZE + fmt->bm_len + 8 * fmt->layout.nchunks;
	fmt->all = fmt->layout.nchunks == 64 ? ~0ull : (1ull << fmt->layout.nchunks) - 1;
}

/* The largest format 2 block of n frames after its 48-byte header. */
static uint64_t block2_bound(const struct ff_fmt *fmt, size_t n)
{
	uint64_t b = fmt->head_max - FRAMEFILE_BLOCK2_HEADER_SIZE;

	for (unsigned k = 0; k < fmt->layout.nchunks; k++)
		b += blockcodec_chunk_cap(&fmt->layout, k, n);
	return b;
}

/* The chunks that hold channels (FRAME_P_*) and parts (BLOCKCODEC_PART_BIT). */
static uint64_t chunks_of(const struct blockcodec_layout *l, uint64_t channels, unsigned parts)
{
	uint64_t m = 0;

	for (unsigned k = 0; k < l->nchunks; k++) {
		unsigned id = l->chunk[k].id;

		if (id < FRAME_P_COUNT ? (channels >> id & 1) : (parts & BLOCKCODEC_PART_BIT(id)))
			m |= 1ull << k;
	}
	return m;
}

/* --- reading: a memory image or a file through pread --- */

struct ff_src {
	const uint8_t *mem; /* the image, or NULL to read fd */
	int fd;
	uint64_t size;
	uint8_t *buf; /* pread buffer */
	size_t cap;
	struct ff_fmt fmt; /* from the header (walk_start) */
};

static int src_room(struct ff_src *s, size_t n)
{
	uint8_t *nb;

	if (n <= s->cap)
		return 0;
	if (!(nb = realloc(s->buf, n)))
		return -ENOMEM;
	s->buf = nb;
	s->cap = n;
	return 0;
}

/* Read bytes [off, off + n) into dst. -ENODATA when the file ends first. */
static int pread_full(int fd, uint8_t *dst, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, dst + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ENODATA; /* shrank under us: the rest is a torn tail */
		got += (size_t)r;
	}
	return 0;
}

/* Point *out at bytes [off, off + n). -ENODATA when the source ends first. */
static int src_read(struct ff_src *s, uint64_t off, size_t n, const uint8_t **out)
{
	int rc;

	if (off > s->size || n > s->size - off)
		return -ENODATA;
	if (s->mem) {
		*out = s->mem + off;
		return 0;
	}
	if ((rc = src_room(s, n)) < 0 || (rc = pread_full(s->fd, s->buf, n, off)) < 0)
		return rc;
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

/* Parse the header (format 2: with its layout) into info and s->fmt. */
static int walk_start(struct ff_src *s, struct framefile_info *info)
{
	const uint8_t *b;
	uint32_t llen;
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
	s->fmt.version = info->hdr.format_version;
	if (s->fmt.version == 2) {
		llen = info->hdr.header_size - FRAMEFILE_HEADER_SIZE - 4;
		rc = src_read(s, FRAMEFILE_HEADER_SIZE, llen + 4, &b);
		if (rc == -ENODATA)
			return -EPROTO;
		if (rc < 0)
			return rc;
		if (le_get32(b + llen) != crc32c(0, b, llen) ||
		    blockcodec_layout_load(&s->fmt.layout, b, llen) < 0)
			return -EPROTO;
		fmt_layout(&s->fmt);
	}
	info->valid_bytes = info->hdr.header_size;
	return 0;
}

static int walk_stop(struct framefile_info *info, enum framefile_tail tail)
{
	info->tail = tail;
	info->dropped_bytes = info->file_bytes - info->valid_bytes;
	return 0;
}

/* Read and check a format 2 block's chunks in mask (stored ones) into the
 * source: *base points at the block's first byte. 0, -ENODATA (a torn
 * tail), -EBADMSG (a chunk's CRC) or -errno. */
static int block2_chunks(struct ff_src *s, uint64_t off, const struct ff_block *b, uint64_t mask,
			 const uint8_t **base)
{
	uint64_t todo = mask & b->stored;
	int rc;

	if (s->mem) {
		if (b->total > s->size - off)
			return -ENODATA;
		*base = s->mem + off;
	} else {
		if ((rc = src_room(s, (size_t)b->total)) < 0)
			return rc;
		/* runs of wanted chunks, gaps under FF_READ_GAP read through */
		while (todo) {
			unsigned k = (unsigned)__builtin_ctzll(todo), last = k;
			uint64_t from = b->off[k], to = b->off[k] + b->len[k];

			todo &= todo - 1;
			while (todo && b->off[__builtin_ctzll(todo)] - to <= FF_READ_GAP) {
				last = (unsigned)__builtin_ctzll(todo);
				to = b->off[last] + b->len[last];
				todo &= todo - 1;
			}
			if ((rc = pread_full(s->fd, s->buf + from, (size_t)(to - from),
					     off + from)) < 0)
				return rc;
		}
		*base = s->buf;
	}
	for (todo = mask & b->stored; todo; todo &= todo - 1) {
		unsigned k = (unsigned)__builtin_ctzll(todo);

		if (crc32c(0, *base + b->off[k], b->len[k]) != b->ccrc[k])
			return -EBADMSG;
	}
	return 0;
}

/*
 * The format 2 block at info->valid_bytes, its header and directory checked:
 * 1 with *b, 0 at the end of the valid data (info->tail says why), -errno on
 * read errors. check_crc also reads and checks every chunk.
 */
static int next_block2(struct ff_src *s, struct framefile_info *info, struct ff_block *b,
		       int check_crc)
{
	const struct ff_fmt *fmt = &s->fmt;
	uint64_t off = info->valid_bytes, avail = s->size - off, sum = 0;
	const uint8_t *h, *dir, *base;
	unsigned nstored;
	size_t n = avail < fmt->head_max ? (size_t)avail : fmt->head_max;
	uint32_t at;
	int rc;

	if (off == s->size)
		return walk_stop(info, FRAMEFILE_TAIL_CLEAN);
	if (n < FRAMEFILE_BLOCK2_HEADER_SIZE + fmt->bm_len)
		return walk_stop(info, FRAMEFILE_TAIL_TORN);
	if ((rc = src_read(s, off, n, &h)) < 0)
		return rc == -ENODATA ? walk_stop(info, FRAMEFILE_TAIL_TORN) : rc;
	memset(b, 0, offsetof(struct ff_block, off));
	b->payload_len = le_get32(h + 4);
	b->count = le_get32(h + 8);
	b->crc = le_get32(h + 12);
	b->first_seq = le_get64(h + 16);
	b->last_seq = le_get64(h + 24);
	b->lap_min = le_get16(h + 32);
	b->lap_max = le_get16(h + 34);
	b->total = FRAMEFILE_BLOCK2_HEADER_SIZE + (uint64_t)b->payload_len;
	for (unsigned i = 0; i < fmt->bm_len; i++)
		b->stored |= (uint64_t)h[FRAMEFILE_BLOCK2_HEADER_SIZE + i] << (8 * i);
	nstored = (unsigned)__builtin_popcountll(b->stored);
	b->head_len = FRAMEFILE_BLOCK2_HEADER_SIZE + fmt->bm_len + 8 * nstored;
	if (le_get32(h) != FF_BLOCK2_MAGIC ||
	    !seqs_plausible(b, info->frames > 0, info->last_seq) || b->stored & ~fmt->all ||
	    b->payload_len < b->head_len - FRAMEFILE_BLOCK2_HEADER_SIZE ||
	    b->count > 1 + (uint64_t)FF_FRAMES_PER_BYTE * b->payload_len ||
	    b->payload_len > block2_bound(fmt, b->count))
		return walk_stop(info, FRAMEFILE_TAIL_CORRUPT);
	if (b->head_len > n)
		return walk_stop(info, FRAMEFILE_TAIL_TORN);
	if (block2_crc(h, b->head_len) != b->crc)
		return walk_stop(info, FRAMEFILE_TAIL_CORRUPT);
	dir = h + FRAMEFILE_BLOCK2_HEADER_SIZE + fmt->bm_len;
	at = b->head_len;
	for (uint64_t m = b->stored; m; m &= m - 1, dir += 8) {
		unsigned k = (unsigned)__builtin_ctzll(m);

		b->off[k] = at;
		b->len[k] = le_get32(dir);
		b->ccrc[k] = le_get32(dir + 4);
		if (b->len[k] < 1 || b->len[k] > blockcodec_chunk_cap(&fmt->layout, k, b->count))
			return walk_stop(info, FRAMEFILE_TAIL_CORRUPT);
		sum += b->len[k];
		at += b->len[k];
	}
	if (b->head_len + sum != b->total)
		return walk_stop(info, FRAMEFILE_TAIL_CORRUPT);
	if (b->total > avail)
		return walk_stop(info, FRAMEFILE_TAIL_TORN);
	if (check_crc && (rc = block2_chunks(s, off, b, ~0ull, &base)) < 0) {
		if (rc == -ENODATA)
			return walk_stop(info, FRAMEFILE_TAIL_TORN);
		return rc == -EBADMSG ? walk_stop(info, FRAMEFILE_TAIL_CORRUPT) : rc;
	}
	return 1;
}

/*
 * The block at info->valid_bytes: 1 with *b (and, format 1, *payload when
 * want_payload) when it is complete and plausible and, with check_crc, its
 * CRCs match; 0 at the end of the valid data (info->tail says why); -errno
 * on read errors.
 */
static int next_block(struct ff_src *s, struct framefile_info *info, struct ff_block *b,
		      const uint8_t **payload, int want_payload, int check_crc)
{
	uint64_t off = info->valid_bytes;
	const uint8_t *h;
	uint8_t hcopy[FRAMEFILE_BLOCK_HEADER_SIZE];
	int rc;

	if (s->fmt.version == 2)
		return next_block2(s, info, b, check_crc);
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
	info->valid_bytes += b->total;
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

/* Walk the block headers only (format 2: with their directories' CRCs):
 * the frames they promise and where the walk ends. */
static int walk_headers(struct ff_src *s, struct framefile_info *info)
{
	struct ff_block b;
	const uint8_t *payload;
	int rc = walk_start(s, info);

	while (rc == 0 && (rc = next_block(s, info, &b, &payload, 0, 0)) == 1) {
		walk_take(info, &b);
		rc = 0;
	}
	return rc;
}

/* The block index: every block's header and directory, from one walk. */
struct ff_index {
	struct ff_block *b;
	uint64_t *off; /* where block i starts in the file */
	size_t n, cap;
};

/* A file opened for column loads: the block index walked once for all of them. */
struct framefile_cols {
	struct ff_src src;
	struct ff_index ix;         /* format 2 */
	struct framefile_info info; /* the walk's */
};

static void index_free(struct ff_index *ix)
{
	free(ix->b);
	free(ix->off);
	memset(ix, 0, sizeof *ix);
}

/* walk_headers, keeping what it found of each block in ix. */
static int index_walk(struct ff_src *s, struct framefile_info *info, struct ff_index *ix)
{
	struct ff_block b;
	const uint8_t *payload;
	int rc = walk_start(s, info);

	memset(ix, 0, sizeof *ix);
	while (rc == 0 && (rc = next_block(s, info, &b, &payload, 0, 0)) == 1) {
		if (ix->n == ix->cap) {
			size_t cap = ix->cap ? 2 * ix->cap : 256;
			struct ff_block *nb = realloc(ix->b, cap * sizeof *nb);
			uint64_t *no = nb ? realloc(ix->off, cap * sizeof *no) : NULL;

			if (nb)
				ix->b = nb;
			if (!nb || !no) {
				index_free(ix);
				return -ENOMEM;
			}
			ix->off = no;
			ix->cap = cap;
		}
		ix->b[ix->n] = b;
		ix->off[ix->n++] = info->valid_bytes;
		walk_take(info, &b);
		rc = 0;
	}
	if (rc < 0)
		index_free(ix);
	return rc;
}

/* Frames the plausible block headers promise (an upper bound; no CRC). */
static int count_src(struct ff_src *s, uint64_t *frames)
{
	struct framefile_info info;
	int rc = walk_headers(s, &info);

	*frames = info.frames;
	return rc;
}

/* n frames (at f, step bytes apart) carry seqs first .. last, strictly increasing. */
static int seqs_follow(const uint8_t *f, size_t step, size_t n, uint64_t first, uint64_t last)
{
	uint64_t prev = le_get64(f);

	if (prev != first)
		return 0;
	for (size_t i = 1; i < n; i++) {
		uint64_t seq = le_get64(f + i * step);

		if (seq <= prev)
			return 0;
		prev = seq;
	}
	return prev == last;
}

/*
 * Decode the chunks s->fmt.want names of a format 2 block into columns: chunk
 * k's column j goes to dst(column) + i * stride for row i, the columns of a
 * chunk the block does not store are zeroed. 0, -EBADMSG (malformed or a
 * chunk's CRC), -ENODATA, or -errno.
 */
typedef uint8_t *(*ff_dst_fn)(void *ctx, unsigned off, unsigned width, size_t *stride);

/* Where a row decode puts a column: into the frames at ctx. */
static uint8_t *rows_dst(void *ctx, unsigned off, unsigned width, size_t *stride)
{
	(void)width;
	*stride = FRAME_SIZE;
	return (uint8_t *)ctx + off;
}

static int block2_decode(struct ff_src *s, uint64_t off, const struct ff_block *b,
			 struct blockcodec_dec *d, ff_dst_fn dst_of, void *ctx)
{
	const struct blockcodec_layout *l = &s->fmt.layout;
	uint64_t want = s->fmt.want ? s->fmt.want : s->fmt.all;
	const uint8_t *base;
	int rc = block2_chunks(s, off, b, want, &base), zeroed = 0;

	/* whole frames with several chunks not stored (channels the game does
	 * not send): zero the frames once rather than those columns row by row */
	if (rc == 0 && dst_of == rows_dst && __builtin_popcountll(want & ~b->stored) > 2) {
		memset(ctx, 0, (size_t)b->count * FRAME_SIZE);
		zeroed = 1;
	}
	for (uint64_t m = want; rc == 0 && m; m &= m - 1) {
		unsigned k = (unsigned)__builtin_ctzll(m);
		const struct blockcodec_chunk *ch = &l->chunk[k];
		uint8_t *dst[BLOCKCODEC_MAX_COLS];
		size_t stride[BLOCKCODEC_MAX_COLS];

		for (unsigned j = 0; j < ch->ncols; j++) {
			const struct blockcodec_col *c = &l->col[ch->first + j];

			dst[j] = dst_of(ctx, c->off, c->width, &stride[j]);
			if (!(b->stored >> k & 1) && dst[j] && !zeroed)
				for (size_t i = 0; i < b->count; i++)
					memset(dst[j] + i * stride[j], 0, c->width);
		}
		if (b->stored >> k & 1)
			rc = blockcodec_chunk_decode(d, l, k, base + b->off[k], b->len[k], b->count,
						     dst, stride);
	}
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
	int rc = next_block(s, info, &b, &payload, 1, s->fmt.version == 1);

	if (rc != 1)
		return rc;
	if (b.count > cap)
		return walk_stop(info, FRAMEFILE_TAIL_CORRUPT);
	if (s->fmt.version == 2) {
		rc = block2_decode(s, info->valid_bytes, &b, d, rows_dst, out);
		if (rc == -ENODATA)
			return walk_stop(info, FRAMEFILE_TAIL_TORN);
		if (rc == -EBADMSG || (rc == 0 && !seqs_follow((const uint8_t *)out, FRAME_SIZE,
							       b.count, b.first_seq, b.last_seq)))
			return walk_stop(info, FRAMEFILE_TAIL_CORRUPT);
		if (rc < 0)
			return rc;
	} else if (blockcodec_decode(d, payload, b.payload_len, b.count, b.first_seq, b.last_seq,
				     out) < 0) {
		return walk_stop(info, FRAMEFILE_TAIL_CORRUPT);
	}
	/* a file created by an older writer holds older frames (and newer ones
	 * when a newer writer appended to it): each frame says what it is. The
	 * file is a container: a version this build does not know is passed on
	 * as it is, for the frame's reader to refuse. */
	for (uint32_t i = 0; i < b.count; i++)
		frame_upgrade(&out[i]);
	walk_take(info, &b);
	return 1;
}

static struct blockcodec_dec *dec_for(const struct framefile_info *info)
{
	return blockcodec_dec_new(info->hdr.format_version == 2 ? BLOCKCODEC_COLS
								: info->hdr.codec);
}

static int decode_src(struct ff_src *s, struct framefile_info *info, struct pw_frame *out,
		      uint64_t cap)
{
	struct blockcodec_dec *d = NULL;
	int rc = walk_start(s, info);

	if (rc == 0 && !(d = dec_for(info)))
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
	uint8_t *lo, *hi; /* page-aligned range */
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

/* path opened read-only as a source (src_close releases it). 0, or -errno with
 * nothing left open. */
static int src_open_path(struct ff_src *s, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	if ((rc = src_open_fd(s, fd)) < 0)
		close(fd);
	return rc;
}

static void src_close(struct ff_src *s)
{
	free(s->buf);
	close(s->fd);
}

/* Open path and run fn on it as a source; the source is released after. */
static int with_file(const char *path, int (*fn)(struct ff_src *, void *), void *arg)
{
	struct ff_src s;
	int rc = src_open_path(&s, path);

	if (rc < 0)
		return rc;
	rc = fn(&s, arg);
	src_close(&s);
	return rc;
}

struct load_args {
	struct pw_frame **frames;
	size_t *n;
	struct framefile_info *info;
};

static int load_fn(struct ff_src *s, void *arg)
{
	struct load_args *a = arg;

	return load_src(s, a->frames, a->n, a->info);
}

static int scan_fn(struct ff_src *s, void *arg)
{
	return scan_src(s, arg);
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
	struct load_args a = { frames, n, info ? info : &local };

	*frames = NULL;
	*n = 0;
	return with_file(path, load_fn, &a);
}

int framefile_scan(const char *path, struct framefile_info *info)
{
	struct framefile_info local;

	return with_file(path, scan_fn, info ? info : &local);
}

/* --- columns --- */

/* Where a column load puts a column: into the framecols at ctx. */
static uint8_t *cols_dst(void *ctx, unsigned off, unsigned width, size_t *stride)
{
	return framecols_column(ctx, off, width, stride);
}

/* Where each column of a layout lies in a framecols, by its offset in the
 * frame: found once for a load rather than for every block. */
struct cols_map {
	uint8_t *base[FRAME_SIZE]; /* NULL: not held */
	size_t stride[FRAME_SIZE];
};

static void cols_map_make(struct cols_map *m, struct framecols *c,
			  const struct blockcodec_layout *l)
{
	memset(m, 0, sizeof *m);
	for (unsigned i = 0; i < l->ncols; i++)
		if (l->col[i].off < FRAME_SIZE)
			m->base[l->col[i].off] = framecols_column(c, l->col[i].off, l->col[i].width,
								  &m->stride[l->col[i].off]);
}

/* A framecols view of frames[at..]: where block decodes go. */
struct cols_at {
	struct framecols *c;
	size_t at;
	const struct cols_map *map; /* NULL: looked up */
};

static uint8_t *cols_at_dst(void *ctx, unsigned off, unsigned width, size_t *stride)
{
	struct cols_at *ca = ctx;
	uint8_t *p;

	if (ca->map && off < FRAME_SIZE) {
		p = ca->map->base[off];
		*stride = ca->map->stride[off];
	} else {
		p = cols_dst(ca->c, off, width, stride);
	}
	return p ? p + ca->at * *stride : NULL;
}

/* Copy the columns c holds out of n whole frames into c's frames from at. */
static void rows_to_cols(const struct pw_frame *f, size_t n, struct framecols *c, size_t at)
{
	struct blockcodec_layout l;
	struct cols_at ca = { c, at, NULL };

	blockcodec_layout_default(&l);
	for (unsigned i = 0; i < l.ncols; i++) {
		size_t stride;
		uint8_t *dst = cols_at_dst(&ca, l.col[i].off, l.col[i].width, &stride);
		const uint8_t *src = (const uint8_t *)f + l.col[i].off;

		for (size_t k = 0; dst && k < n; k++, dst += stride, src += FRAME_SIZE)
			memcpy(dst, src, l.col[i].width);
	}
}

struct cols_args {
	uint64_t channels;
	unsigned parts;
	struct framecols *cols;
	struct framefile_info *info;
	bool add;            /* framefile_load_cols_range: into the columns cols holds */
	size_t first, count; /* ... for these frames (and the rest of their blocks) */
	const struct framefile_cols *walked; /* its index, instead of a walk (format 2) */
};

/* Format 1: whole blocks decoded (only the channels asked for), then copied out. */
static int cols1_src(struct ff_src *s, struct cols_args *a, struct blockcodec_dec *d)
{
	struct pw_frame *blk = malloc((size_t)FRAMEFILE_BLOCK_MAX_FRAMES * FRAME_SIZE);
	uint64_t before;
	int rc = blk ? walk_start(s, a->info) : -ENOMEM;

	/* PACK always decodes the first 48 bytes; derived lies past them (0 = all) */
	blockcodec_dec_only(d, a->parts & FRAMECOLS_DERIVED ? 0 : a->channels | FRAME_P_GAME_TIME);
	while (rc == 0) {
		before = a->info->frames;
		if ((rc = decode_next(s, a->info, d, blk, FRAMEFILE_BLOCK_MAX_FRAMES)) != 1)
			break;
		rows_to_cols(blk, (size_t)(a->info->frames - before), a->cols, (size_t)before);
		rc = 0;
	}
	free(blk);
	return rc;
}

/*
 * Format 2: the chunks asked for, straight into the columns, block by block
 * along the index (whose walk found where the valid data ends). A large
 * load is shared by two threads, each with its own reads and decoder, over
 * the two halves of the blocks (disjoint parts of the columns); the load
 * then ends at the first block either found damaged, as one thread's would.
 */
#define FF_COLS_PARALLEL_MIN 100000 /* frames: fewer are not worth a thread */

struct cols_part {
	struct ff_src src; /* a copy with its own read buffer */
	struct blockcodec_dec *dec;
	struct framecols *cols;
	const struct ff_index *ix;
	const struct cols_map *map;
	const size_t *at; /* frame offset of each block */
	size_t from, to;  /* blocks */
	size_t bad;       /* the first block that failed, or to */
	int rc;           /* its error: -ENODATA torn, -EBADMSG corrupt, -errno */
	int seq_rc;       /* a block's seqs not those of the columns: -EBADMSG, or -ESTALE
			   * when the columns came from a first load */
	pthread_t thread;
};

static void *cols_part_run(void *arg)
{
	struct cols_part *p = arg;

	p->bad = p->to;
	for (size_t i = p->from; i < p->to; i++) {
		const struct ff_block *b = &p->ix->b[i];
		struct cols_at ca = { p->cols, p->at[i], p->map };
		int rc = block2_decode(&p->src, p->ix->off[i], b, p->dec, cols_at_dst, &ca);

		if (rc == 0 && !seqs_follow((const uint8_t *)(p->cols->seq + ca.at), 8, b->count,
					    b->first_seq, b->last_seq))
			rc = p->seq_rc;
		if (rc < 0) {
			p->bad = i;
			p->rc = rc;
			break;
		}
	}
	return NULL;
}

/* The blocks [*from, *to) that hold frames [first, first + count) (at: each
 * block's first frame, at[n] the total). */
static void blocks_of(const size_t *at, size_t n, size_t first, size_t count, size_t *from,
		      size_t *to)
{
	size_t lo = 0, hi = n;

	while (lo < hi) { /* the first block that ends after first */
		size_t mid = lo + (hi - lo) / 2;

		if (at[mid + 1] <= first)
			lo = mid + 1;
		else
			hi = mid;
	}
	*from = *to = lo;
	while (*to < n && at[*to] < first + count)
		(*to)++;
}

static int cols2_src(struct ff_src *s, struct cols_args *a, struct blockcodec_dec *d,
		     const struct ff_index *ix)
{
	struct framefile_info *info = a->info, walked = *info;
	struct cols_part part[2];
	struct cols_map *map = malloc(sizeof *map);
	size_t *at = malloc((ix->n + 1) * sizeof *at), nparts = 1, bad = ix->n, from = 0,
	       to = ix->n;
	int rc = at && map ? walk_start(s, info) : -ENOMEM;

	if (rc < 0) {
		free(at);
		free(map);
		return rc;
	}
	cols_map_make(map, a->cols, &s->fmt.layout);
	s->fmt.want = chunks_of(&s->fmt.layout, a->channels, a->parts);
	at[0] = 0;
	for (size_t i = 0; i < ix->n; i++)
		at[i + 1] = at[i] + ix->b[i].count;
	if (a->add)
		blocks_of(at, ix->n, a->first, a->count, &from, &to);
	memset(part, 0, sizeof part);
	part[0] = (struct cols_part){ .src = *s,
				      .dec = d,
				      .cols = a->cols,
				      .map = map,
				      .ix = ix,
				      .at = at,
				      .from = from,
				      .to = to,
				      .seq_rc = a->add ? -ESTALE : -EBADMSG };
	part[0].src.buf = NULL;
	part[0].src.cap = 0;
	if (at[to] - at[from] >= FF_COLS_PARALLEL_MIN && to - from >= 2) {
		part[1] = part[0];
		part[1].dec = blockcodec_dec_new(BLOCKCODEC_COLS);
		part[0].to = part[1].from = from + (to - from) / 2;
		if (part[1].dec &&
		    pthread_create(&part[1].thread, NULL, cols_part_run, &part[1]) == 0)
			nparts = 2;
		else
			part[0].to = to;
	}
	cols_part_run(&part[0]);
	if (nparts == 2)
		pthread_join(part[1].thread, NULL);
	rc = 0;
	for (size_t k = 0; k < nparts && rc == 0; k++)
		if (part[k].bad < part[k].to) {
			bad = part[k].bad;
			rc = part[k].rc;
		}
	if (a->add) { /* the blocks were the walk's: their damage is the caller's error */
		*info = walked;
	} else {
		for (size_t i = 0; i < bad; i++)
			walk_take(info, &ix->b[i]);
		if (rc == 0) /* every block taken: the end is the walk's, for its reason */
			walk_stop(info, walked.tail);
		else if (rc == -ENODATA || rc == -EBADMSG)
			rc = walk_stop(info, rc == -ENODATA ? FRAMEFILE_TAIL_TORN
							    : FRAMEFILE_TAIL_CORRUPT);
	}
	for (size_t k = 0; k < 2; k++)
		free(part[k].src.buf);
	if (part[1].dec)
		blockcodec_dec_free(part[1].dec);
	free(at);
	free(map);
	return rc;
}

/* Format 1 into columns held: the whole file decoded aside, then its arrays
 * moved in when it holds the same frames. */
static int cols1_add(struct ff_src *s, struct cols_args *a, struct blockcodec_dec *d)
{
	struct framecols *c = a->cols, more;
	uint64_t cap;
	struct cols_args aside = {
		a->channels, a->parts | FRAMECOLS_SEQ, &more, a->info, false, 0, 0
	};
	int rc = count_src(s, &cap);

	if (rc < 0)
		return rc;
	if (cap > SIZE_MAX / FRAME_SIZE ||
	    framecols_alloc(&more, (size_t)cap, aside.channels, aside.parts) < 0)
		return -ENOMEM;
	if ((rc = cols1_src(s, &aside, d)) == 0 &&
	    (a->info->frames != c->n ||
	     memcmp(more.seq, c->seq, (size_t)a->info->frames * sizeof *c->seq) != 0))
		rc = -ESTALE;
	if (rc < 0) {
		framecols_free(&more);
		return rc;
	}
	framecols_shrink(&more, c->n);
	framecols_take(c, &more); /* head parts come with the first load */
	return 0;
}

static int cols_src(struct ff_src *s, void *arg)
{
	struct cols_args *a = arg;
	struct blockcodec_dec *d = NULL;
	struct ff_index ix = { 0 };
	uint64_t cap = 0;
	int rc;

	if (a->add) {
		a->channels &= FRAME_P_ALL & ~a->cols->channels;
		a->parts = 0;
	} else {
		a->parts |= FRAMECOLS_SEQ | FRAMECOLS_IDS;
		a->channels &= FRAME_P_ALL;
		a->parts &= FRAMECOLS_HEAD;
	}
	if ((rc = walk_start(s, a->info)) < 0)
		return rc;
	if (!hdr_decodable(&a->info->hdr))
		return -EPROTO;
	if ((a->channels & ~a->info->hdr.channels) || (a->parts & ~a->info->hdr.parts))
		return -ENOENT;
	if (a->add && !a->channels)
		return 0;
	if (a->add && a->info->hdr.format_version == 1) {
		if (!(d = dec_for(a->info)))
			return -ENOMEM;
		rc = cols1_add(s, a, d);
		blockcodec_dec_free(d);
		return rc;
	}
	if (a->info->hdr.format_version == 2 && a->walked) {
		*a->info = a->walked->info;
		ix = a->walked->ix; /* borrowed: not freed here */
		cap = a->info->frames;
	} else if (a->info->hdr.format_version == 2) {
		rc = index_walk(s, a->info, &ix);
		cap = a->info->frames;
	} else {
		rc = count_src(s, &cap);
	}
	if (rc < 0)
		return rc;
	if (a->add)
		rc = cap != a->cols->n ? -ESTALE : framecols_add(a->cols, a->channels, 0);
	else if (cap > SIZE_MAX / FRAME_SIZE)
		rc = -ENOMEM;
	else
		rc = framecols_alloc(a->cols, (size_t)cap, a->channels, a->parts);
	if (rc < 0) {
		if (!a->walked)
			index_free(&ix);
		return rc;
	}
	if (!(d = dec_for(a->info)))
		rc = -ENOMEM;
	else if (a->info->hdr.format_version == 2)
		rc = cols2_src(s, a, d, &ix);
	else
		rc = cols1_src(s, a, d);
	blockcodec_dec_free(d);
	if (!a->walked)
		index_free(&ix);
	if (a->add)
		return rc; /* a failed load leaves arrays of zeros and partial values */
	if (rc < 0) {
		framecols_free(a->cols);
		return rc;
	}
	framecols_shrink(a->cols, (size_t)a->info->frames);
	framecols_upgrade(a->cols);
	return 0;
}

int framefile_load_cols(const char *path, uint64_t channels, unsigned parts, struct framecols *cols,
			struct framefile_info *info)
{
	struct framefile_info local;
	struct cols_args a = { channels, parts, cols, info ? info : &local, false, 0, 0 };

	memset(cols, 0, sizeof *cols);
	return with_file(path, cols_src, &a);
}

int framefile_load_cols_buf(const void *buf, size_t len, uint64_t channels, unsigned parts,
			    struct framecols *cols, struct framefile_info *info)
{
	struct framefile_info local;
	struct cols_args a = { channels, parts, cols, info ? info : &local, false, 0, 0 };
	struct ff_src s;

	memset(cols, 0, sizeof *cols);
	if (!buf && len)
		return -EINVAL;
	src_mem(&s, buf, len);
	return cols_src(&s, &a);
}

/* The range's checks shared by both sources. */
static int range_ok(const struct framecols *cols, size_t first, size_t count)
{
	if (!cols->seq || first > cols->n || count > cols->n - first)
		return -EINVAL;
	return 0;
}

int framefile_load_cols_range(const char *path, uint64_t channels, size_t first, size_t count,
			      struct framecols *cols)
{
	struct framefile_info info;
	struct cols_args a = { channels, 0, cols, &info, true, first, count };
	int rc = range_ok(cols, first, count);

	return rc < 0 ? rc : with_file(path, cols_src, &a);
}

int framefile_load_cols_range_buf(const void *buf, size_t len, uint64_t channels, size_t first,
				  size_t count, struct framecols *cols)
{
	struct framefile_info info;
	struct cols_args a = { channels, 0, cols, &info, true, first, count };
	struct ff_src s;
	int rc = range_ok(cols, first, count);

	if (rc < 0 || (!buf && len))
		return rc < 0 ? rc : -EINVAL;
	src_mem(&s, buf, len);
	return cols_src(&s, &a);
}

int framefile_cols_open(struct framefile_cols **out, const char *path)
{
	struct framefile_cols *f = calloc(1, sizeof *f);
	int rc;

	*out = NULL;
	if (!f)
		return -ENOMEM;
	if ((rc = src_open_path(&f->src, path)) < 0) {
		free(f);
		return rc;
	}
	if ((rc = walk_start(&f->src, &f->info)) == 0 && f->info.hdr.format_version == 2)
		rc = index_walk(&f->src, &f->info, &f->ix);
	if (rc < 0) {
		src_close(&f->src);
		free(f);
		return rc;
	}
	*out = f;
	return 0;
}

int framefile_cols_load(struct framefile_cols *f, uint64_t channels, unsigned parts,
			struct framecols *cols, struct framefile_info *info)
{
	struct framefile_info local;
	struct cols_args a = { channels, parts, cols, info ? info : &local, false, 0, 0, f };

	memset(cols, 0, sizeof *cols);
	return cols_src(&f->src, &a);
}

int framefile_cols_load_range(struct framefile_cols *f, uint64_t channels, size_t first,
			      size_t count, struct framecols *cols)
{
	struct framefile_info info;
	struct cols_args a = { channels, 0, cols, &info, true, first, count, f };
	int rc = range_ok(cols, first, count);

	return rc < 0 ? rc : cols_src(&f->src, &a);
}

void framefile_cols_close(struct framefile_cols *f)
{
	if (!f)
		return;
	index_free(&f->ix);
	src_close(&f->src);
	free(f);
}

/* --- extracts: some chunks of every block, as an image in memory --- */

struct image {
	uint8_t *p;
	size_t len, cap;
};

static uint8_t *image_room(struct image *im, size_t n)
{
	if (im->cap - im->len < n) {
		size_t cap = im->cap ? im->cap : 1 << 16;
		uint8_t *p;

		while (cap - im->len < n)
			cap *= 2;
		if (!(p = realloc(im->p, cap)))
			return NULL;
		im->p = p;
		im->cap = cap;
	}
	return im->p + im->len;
}

/* Append a format 2 block of the chunks in mask: their bytes at base + off[k]. */
static int image_block(struct image *im, const struct ff_fmt *fmt, const struct ff_block *b,
		       uint64_t mask, const uint8_t *base)
{
	uint64_t keep = mask & b->stored;
	unsigned nkeep = (unsigned)__builtin_popcountll(keep);
	size_t head = FRAMEFILE_BLOCK2_HEADER_SIZE + fmt->bm_len + 8 * (size_t)nkeep, body = 0;
	uint8_t *o, *dir, *data;

	for (uint64_t m = keep; m; m &= m - 1)
		body += b->len[__builtin_ctzll(m)];
	if (!(o = image_room(im, head + body)))
		return -ENOMEM;
	memset(o, 0, head);
	le_put32(o, FF_BLOCK2_MAGIC);
	le_put32(o + 4, (uint32_t)(head + body - FRAMEFILE_BLOCK2_HEADER_SIZE));
	le_put32(o + 8, b->count);
	le_put64(o + 16, b->first_seq);
	le_put64(o + 24, b->last_seq);
	le_put16(o + 32, b->lap_min);
	le_put16(o + 34, b->lap_max);
	for (unsigned i = 0; i < fmt->bm_len; i++)
		o[FRAMEFILE_BLOCK2_HEADER_SIZE + i] = (uint8_t)(keep >> (8 * i));
	dir = o + FRAMEFILE_BLOCK2_HEADER_SIZE + fmt->bm_len;
	data = o + head;
	for (uint64_t m = keep; m; m &= m - 1, dir += 8) {
		unsigned k = (unsigned)__builtin_ctzll(m);

		le_put32(dir, b->len[k]);
		le_put32(dir + 4, b->ccrc[k]);
		memcpy(data, base + b->off[k], b->len[k]);
		data += b->len[k];
	}
	le_put32(o + 12, block2_crc(o, head));
	im->len += head + body;
	return 0;
}

static size_t hdr_bytes(const struct ff_fmt *fmt)
{
	return fmt->version == 1 ? FRAMEFILE_HEADER_SIZE
				 : FRAMEFILE_HEADER_SIZE + 4 + BLOCKCODEC_LAYOUT_MAX;
}

/* Format 1 blocks become format 2 ones: decoded, then encoded chunk by chunk. */
static int image_block1(struct image *im, const struct ff_fmt *fmt, struct blockcodec_enc *e,
			const struct pw_frame *f, size_t n, uint64_t mask)
{
	struct ff_block b = { .count = (uint32_t)n,
			      .first_seq = f[0].seq,
			      .last_seq = f[n - 1].seq,
			      .lap_min = FF_LAP_NONE };
	uint8_t *data;
	size_t cap = 0, at = 0;
	int rc;

	for (unsigned k = 0; k < fmt->layout.nchunks; k++)
		cap += blockcodec_chunk_cap(&fmt->layout, k, n) + 8;
	if (!(data = malloc(cap)))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (f[i].present & FRAME_P_LAP) {
			b.lap_min = f[i].lap < b.lap_min ? f[i].lap : b.lap_min;
			b.lap_max = f[i].lap > b.lap_max ? f[i].lap : b.lap_max;
		}
	for (uint64_t m = mask; m; m &= m - 1) {
		unsigned k = (unsigned)__builtin_ctzll(m);
		size_t len = blockcodec_chunk_encode(e, &fmt->layout, k, f, n, data + at);

		if (!len)
			continue;
		b.stored |= 1ull << k;
		b.off[k] = (uint32_t)at;
		b.len[k] = (uint32_t)len;
		b.ccrc[k] = crc32c(0, data + at, len);
		at += len;
	}
	rc = image_block(im, fmt, &b, mask, data);
	free(data);
	return rc;
}

static int extract_src(struct ff_src *s, struct cols_args *a, struct image *im)
{
	struct framefile_info *info = a->info;
	struct framefile_hdr h;
	struct ff_fmt out = { .version = 2 };
	struct blockcodec_dec *d = NULL;
	struct blockcodec_enc *e = NULL;
	struct pw_frame *blk = NULL;
	struct ff_block b;
	const uint8_t *payload, *base;
	uint64_t mask, before;
	int rc = walk_start(s, info);

	if (rc < 0)
		return rc;
	if (!hdr_decodable(&info->hdr))
		return -EPROTO;
	if ((a->channels & ~info->hdr.channels) || (a->parts & ~info->hdr.parts))
		return -ENOENT;
	if (s->fmt.version == 2) {
		out.layout = s->fmt.layout;
	} else {
		blockcodec_layout_default(&out.layout);
		d = dec_for(info);
		e = blockcodec_enc_new(BLOCKCODEC_COLS);
		blk = malloc((size_t)FRAMEFILE_BLOCK_MAX_FRAMES * FRAME_SIZE);
		if (!d || !e || !blk) {
			rc = -ENOMEM;
			goto out;
		}
	}
	fmt_layout(&out);
	mask = chunks_of(&out.layout, a->channels, a->parts);
	h = info->hdr;
	h.channels = a->channels;
	h.parts = a->parts;
	if (!image_room(im, hdr_bytes(&out))) {
		rc = -ENOMEM;
		goto out;
	}
	hdr_encode(&h, &out, im->p);
	im->len = le_get16(im->p + 10);
	while (rc == 0) {
		before = info->frames;
		if (s->fmt.version == 1) {
			if ((rc = decode_next(s, info, d, blk, FRAMEFILE_BLOCK_MAX_FRAMES)) != 1)
				break;
			rc = image_block1(im, &out, e, blk, (size_t)(info->frames - before), mask);
			continue;
		}
		if ((rc = next_block(s, info, &b, &payload, 0, 0)) != 1)
			break;
		rc = block2_chunks(s, info->valid_bytes, &b, mask, &base);
		if (rc == -ENODATA || rc == -EBADMSG) {
			rc = walk_stop(info, rc == -ENODATA ? FRAMEFILE_TAIL_TORN
							    : FRAMEFILE_TAIL_CORRUPT);
			break;
		}
		if (rc == 0 && (rc = image_block(im, &out, &b, mask, base)) == 0)
			walk_take(info, &b);
	}
out:
	blockcodec_dec_free(d);
	blockcodec_enc_free(e);
	free(blk);
	return rc;
}

struct extract_args {
	struct cols_args a;
	struct image im;
};

static int extract_fn(struct ff_src *s, void *arg)
{
	struct extract_args *x = arg;

	return extract_src(s, &x->a, &x->im);
}

int framefile_extract(const char *path, uint64_t channels, unsigned parts, void **img, size_t *len,
		      struct framefile_info *info)
{
	struct framefile_info local;
	struct extract_args x = { { channels & FRAME_P_ALL,
				    (parts | FRAMECOLS_SEQ | FRAMECOLS_IDS) & FRAMECOLS_HEAD, NULL,
				    info ? info : &local },
				  { NULL, 0, 0 } };
	int rc = with_file(path, extract_fn, &x);

	*img = NULL;
	*len = 0;
	if (rc < 0) {
		free(x.im.p);
		return rc;
	}
	*img = x.im.p;
	*len = x.im.len;
	return 0;
}

/* --- block reader --- */

struct framefile_reader {
	int fd;
	struct ff_src src; /* ends where the open's walk found the valid data to end */
	struct framefile_info scan;
	struct framefile_info walk; /* what has been delivered */
	struct blockcodec_dec *dec;
	struct pw_frame *frames; /* FRAMEFILE_BLOCK_MAX_FRAMES, the block last delivered */
	int done;
	int ranged; /* framefile_reader_open_range: only seqs [lo, hi] */
	uint64_t lo, hi;
};

/*
 * A reader of path with its header checked: with scan, the blocks walked
 * first (format 1: every CRC; format 2: headers and directories; r->scan
 * holds the findings), else only its header (r->scan holds that).
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
	rc = walk_start(&r->src, &r->scan);
	if (rc == 0 && scan)
		rc = r->src.fmt.version == 2 ? walk_headers(&r->src, &r->scan)
					     : scan_src(&r->src, &r->scan);
	if (rc < 0)
		goto out;
	if (!hdr_decodable(&r->scan.hdr)) {
		rc = -EPROTO;
		goto out;
	}
	r->dec = dec_for(&r->scan);
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
	/* a snapshot: blocks appended after the walk are not delivered */
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
		/* the end of the snapshot is where the walk stopped, for the walk's reason */
		if (r->walk.tail == FRAMEFILE_TAIL_CLEAN)
			r->walk.tail = r->scan.tail;
		r->done = 1;
	}
	return rc;
}

int framefile_reader_open_range(struct framefile_reader **out, const char *path, uint64_t first_seq,
				uint64_t last_seq, struct framefile_info *info)
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
	const unsigned head = BLOCKCODEC_PARTS_ALL & ~BLOCKCODEC_PART_BIT(BLOCKCODEC_REST);

	if (r->src.fmt.version == 2) {
		r->src.fmt.want =
			channels ? chunks_of(&r->src.fmt.layout,
					     (channels & FRAME_P_ALL) | FRAME_P_GAME_TIME, head)
				 : 0;
		return;
	}
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
	struct pw_frame *pending; /* FRAMEFILE_BLOCK_FRAMES */
	size_t npending;
	uint8_t *block;  /* block header + payload being written */
	uint8_t *chunks; /* format 2: the chunks of the block being written */
	struct blockcodec_enc *enc;
	struct ff_fmt fmt;
	uint64_t last_seq; /* of the last accepted frame */
	/* what has been handed to the kernel, and what of it is durable */
	uint64_t end, synced_end;
	uint64_t frames_written, frames_synced;
	uint64_t written_last_seq, synced_last_seq;
	uint64_t blocks, synced_blocks;
	int need_truncate; /* a rollback's ftruncate failed: retry before writing */
	int need_fsync;    /* after a rollback the file size must be synced too */
};

static void writer_free(struct framefile_writer *w)
{
	free(w->pending);
	free(w->block);
	free(w->chunks);
	blockcodec_enc_free(w->enc);
	free(w);
}

static struct framefile_writer *writer_new(int fd, const struct ff_fmt *fmt, uint32_t codec)
{
	struct framefile_writer *w = calloc(1, sizeof *w);
	size_t cap;

	if (!w)
		return NULL;
	w->fd = fd;
	w->fmt = *fmt;
	w->pending = malloc((size_t)FRAMEFILE_BLOCK_FRAMES * FRAME_SIZE);
	if (fmt->version == 2) {
		cap = (size_t)block2_bound(fmt, FRAMEFILE_BLOCK_FRAMES) + 8;
		w->block = malloc(FRAMEFILE_BLOCK2_HEADER_SIZE + cap);
		w->chunks = malloc(cap);
		w->enc = blockcodec_enc_new(BLOCKCODEC_COLS);
	} else {
		w->block = malloc(FRAMEFILE_BLOCK_HEADER_SIZE +
				  blockcodec_encode_cap(FRAMEFILE_BLOCK_FRAMES));
		w->enc = blockcodec_enc_new(codec);
	}
	if (!w->pending || !w->block || (fmt->version == 2 && !w->chunks) || !w->enc) {
		writer_free(w);
		return NULL;
	}
	return w;
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

/* A format 2 block of n frames into w->block; returns its length. */
static size_t encode_block2(struct framefile_writer *w, const struct pw_frame *f, size_t n)
{
	const struct ff_fmt *fmt = &w->fmt;
	uint32_t len[BLOCKCODEC_MAX_CHUNKS], crc[BLOCKCODEC_MAX_CHUNKS];
	uint64_t stored = 0;
	uint16_t lap_min = FF_LAP_NONE, lap_max = 0;
	size_t at = 0, head;
	uint8_t *o = w->block, *dir;

	for (unsigned k = 0; k < fmt->layout.nchunks; k++) {
		len[k] = (uint32_t)blockcodec_chunk_encode(w->enc, &fmt->layout, k, f, n,
							   w->chunks + at);
		if (!len[k])
			continue;
		crc[k] = crc32c(0, w->chunks + at, len[k]);
		stored |= 1ull << k;
		at += len[k];
	}
	for (size_t i = 0; i < n; i++)
		if (f[i].present & FRAME_P_LAP) {
			lap_min = f[i].lap < lap_min ? f[i].lap : lap_min;
			lap_max = f[i].lap > lap_max ? f[i].lap : lap_max;
		}
	head = FRAMEFILE_BLOCK2_HEADER_SIZE + fmt->bm_len +
	       8 * (size_t)__builtin_popcountll(stored);
	memset(o, 0, head);
	le_put32(o, FF_BLOCK2_MAGIC);
	le_put32(o + 4, (uint32_t)(head + at - FRAMEFILE_BLOCK2_HEADER_SIZE));
	le_put32(o + 8, (uint32_t)n);
	le_put64(o + 16, f[0].seq);
	le_put64(o + 24, f[n - 1].seq);
	le_put16(o + 32, lap_min);
	le_put16(o + 34, lap_max);
	for (unsigned i = 0; i < fmt->bm_len; i++)
		o[FRAMEFILE_BLOCK2_HEADER_SIZE + i] = (uint8_t)(stored >> (8 * i));
	dir = o + FRAMEFILE_BLOCK2_HEADER_SIZE + fmt->bm_len;
	for (uint64_t m = stored; m; m &= m - 1, dir += 8) {
		unsigned k = (unsigned)__builtin_ctzll(m);

		le_put32(dir, len[k]);
		le_put32(dir + 4, crc[k]);
	}
	le_put32(o + 12, block2_crc(o, head));
	memcpy(o + head, w->chunks, at);
	return head + at;
}

/* Encode n frames into one block and write it at w->end. */
static int write_block(struct framefile_writer *w, const struct pw_frame *f, size_t n)
{
	size_t total;
	int rc;

	if ((rc = retry_truncate(w)) < 0)
		return rc;
	if (w->fmt.version == 2) {
		total = encode_block2(w, f, n);
	} else {
		size_t len =
			blockcodec_encode(w->enc, f, n, w->block + FRAMEFILE_BLOCK_HEADER_SIZE);

		block_seal(w->block, (uint32_t)len, (uint32_t)n, f[0].seq, f[n - 1].seq);
		total = FRAMEFILE_BLOCK_HEADER_SIZE + len;
	}
	rc = pwrite_all(w->fd, w->block, total, w->end);
	if (rc < 0)
		return rc;
	w->end += total;
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

	if (h->format_version == 1 ? h->codec >= BLOCKCODEC_COLS
				   : h->format_version != 0 && h->format_version != 2)
		return 0;
	return feed >= 1 && feed <= FRAMEFILE_FEED_MAX && run >= 1 && run <= FRAMEFILE_RUN_ID_MAX;
}

int framefile_create(struct framefile_writer **out, const char *path,
		     const struct framefile_hdr *hdr)
{
	struct framefile_hdr h;
	struct ff_fmt fmt = { .version = 2 };
	uint8_t b[FRAMEFILE_HEADER_SIZE + 4 + BLOCKCODEC_LAYOUT_MAX];
	int fd, rc;

	*out = NULL;
	if (!path || !hdr || !hdr_valid_for_create(hdr))
		return -EINVAL;
	h = *hdr;
	if (!h.created_ns)
		h.created_ns = clock_now_ns();
	if (h.format_version == 1) {
		fmt.version = 1;
	} else {
		blockcodec_layout_default(&fmt.layout);
		fmt_layout(&fmt);
		h.channels = ~0ull;
		h.parts = BLOCKCODEC_PARTS_ALL;
	}
	hdr_encode(&h, &fmt, b);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
		return -errno;
	rc = lock_file(fd);
	if (rc == 0)
		rc = pwrite_all(fd, b, le_get16(b + 10), 0);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (rc == 0)
		rc = fsync_dir_of(path);
	if (rc == 0 && !(*out = writer_new(fd, &fmt, h.codec)))
		rc = -ENOMEM;
	if (rc < 0) {
		unlink(path);
		close(fd);
		return rc;
	}
	(*out)->end = (*out)->synced_end = le_get16(b + 10);
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
	if (rc == 0 && (!hdr_decodable(&in->hdr) || in->hdr.channels != ~0ull ||
			in->hdr.parts != BLOCKCODEC_PARTS_ALL))
		rc = -EPROTO; /* an extract is not a run's file to append to */
	if (rc == 0)
		rc = cut_tail(fd, in);
	if (rc == 0) {
		fmt_layout(&s.fmt);
		if (!(w = writer_new(fd, &s.fmt, in->hdr.codec)))
			rc = -ENOMEM;
	}
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
