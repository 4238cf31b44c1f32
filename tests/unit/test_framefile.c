/*
 * test_framefile.c - frame files (common/framefile.h), both formats (every
 * test of the container runs on format 2 and again on format 1): byte-exact
 * round trips of realistic frames (pw-sim's physics and the real AC
 * capture), the documented layouts, block and sync bookkeeping, crash
 * recovery at every truncation point of the last two blocks, corruption in
 * the middle, forged blocks and chunks, bad headers, garbage input, and
 * running out of space (tmpfs when it can be mounted, RLIMIT_FSIZE always).
 * Format 2 alone: column loads and extracts (only the chunks asked for are
 * read: damage elsewhere goes unnoticed), a file's own layout kept by the
 * writer, and files written by the old format 1 writers (tests/data/frames/).
 * Temp files live under /tmp and are removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/decoder.h"
#include "capture/sim/driver.h"
#include "common/crc32c.h"
#include "common/framefile.h"
#include "common/pcap.h"
#include "t.h"
#include "t_frames.h"

#define RATE_HZ 333.0
#define V2 (fmt_v == 2)
#define SEQ0 5000
#define AC_CAPTURE "ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap"

static char tmpdir[64];
static unsigned fmt_v = 2; /* the format the writers create */

static const char *tmp_path(const char *name)
{
	static char buf[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
	return buf[k];
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* --- frames --- */

/* n frames of pw-sim's laps mode at 333 Hz, seq from seq0, t_ns with jitter. */
static struct pw_frame *sim_frames(size_t n, uint64_t seq0)
{
	struct track *t = track_new();
	struct driver *d = t ? driver_new(DRIVER_LAPS, 7, car_default(), t) : NULL;
	struct pw_frame *f = calloc(n, sizeof *f);
	uint64_t x = 88172645463325252ull;

	for (size_t k = 0; d && f && k < n; k++) {
		driver_run_to(d, (int64_t)((double)k * 1000.0 / RATE_HZ + 0.5));
		driver_frame(d, &f[k]);
		f[k].seq = seq0 + k;
		f[k].game = PW_GAME_AC;
		f[k].feed = PW_FEED_KSUDP;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		f[k].t_ns = 1750000000000000000ll + (int64_t)((double)k * 1e9 / RATE_HZ) +
			    (int64_t)(x % 100000);
	}
	driver_free(d);
	track_free(t);
	return f;
}

/* The real AC capture through dec_ksudp, seq 1.., recorded receive times. */
static struct pw_frame *real_frames(size_t *n)
{
	static struct dec_state st;
	struct pcap_reader *r;
	struct pcap_pkt p;
	struct pw_frame *f = calloc(16384, sizeof *f);

	*n = 0;
	if (!f || pcap_open(&r, t_data_path(AC_CAPTURE)) < 0) {
		free(f);
		return NULL;
	}
	dec_reset(&st);
	while (*n < 16384 && pcap_next(r, &p) == 1)
		if (dec_ksudp.decode(&st, p.data, p.len, &f[*n]) == DEC_FRAME) {
			f[*n].seq = 1 + *n;
			f[*n].t_ns = p.t_ns;
			(*n)++;
		}
	pcap_close(r);
	return f;
}

/* --- files --- */

static struct framefile_hdr make_hdr(unsigned codec)
{
	struct framefile_hdr h = { .format_version = fmt_v,
				   .codec = codec,
				   .created_ns = 1750000000123456789ll };

	snprintf(h.feed, sizeof h.feed, "ksudp");
	snprintf(h.run_id, sizeof h.run_id, "3f1c2a9e-run");
	return h;
}

/* Write f in appends of chunk frames, syncing every sync_every appends (0: at close). */
static int write_file(const char *path, const struct pw_frame *f, size_t n, size_t chunk,
		      int sync_every, unsigned codec)
{
	struct framefile_hdr h = make_hdr(codec);
	struct framefile_writer *w;
	int rc, rounds = 0;

	unlink(path);
	if ((rc = framefile_create(&w, path, &h)) < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i += chunk) {
		rc = framefile_append(w, f + i, n - i < chunk ? n - i : chunk);
		if (rc == 0 && sync_every && ++rounds % sync_every == 0)
			rc = framefile_sync(w);
	}
	if (rc < 0) {
		framefile_close(w);
		return rc;
	}
	return framefile_close(w);
}

static uint8_t *read_all(const char *path, size_t *len)
{
	return t_read_file(path, len);
}

static int write_all(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = len ? write(fd, buf, len) : 0;
	close(fd);
	return r == (ssize_t)len ? 0 : -EIO;
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static uint32_t get32(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return v;
}

/* The header's length (its bytes 10..11): 160, or 160 + layout + 4 in format 2. */
static size_t hdr_len(const uint8_t *b)
{
	return (size_t)(b[10] | b[11] << 8);
}

/* Format 2: bytes of a block's stored bits (the layout's chunk count at 162). */
static size_t bm_len(const uint8_t *b)
{
	return ((size_t)(b[162] | b[163] << 8) + 7) / 8;
}

/* Bytes of a block's fixed header; format 2: with its stored bits and directory. */
static size_t blk_head(const uint8_t *b, size_t at)
{
	size_t stored = 0;

	if (b[8] == 1)
		return FRAMEFILE_BLOCK_HEADER_SIZE;
	for (size_t i = 0; i < bm_len(b); i++)
		stored += (size_t)__builtin_popcount(b[at + FRAMEFILE_BLOCK2_HEADER_SIZE + i]);
	return FRAMEFILE_BLOCK2_HEADER_SIZE + bm_len(b) + 8 * stored;
}

/* Block boundaries by the documented layout: off[0] = the header's end,
 * off[k+1] = end of block k. */
static size_t block_offsets(const uint8_t *b, size_t len, size_t *off, size_t max)
{
	size_t n = 0, at = hdr_len(b),
	       fixed = b[8] == 1 ? FRAMEFILE_BLOCK_HEADER_SIZE : FRAMEFILE_BLOCK2_HEADER_SIZE;

	while (n < max && at + fixed <= len) {
		off[n++] = at;
		at += fixed + get32(b + at + 4);
	}
	if (n < max)
		off[n] = at;
	return n;
}

static uint32_t block_frames(const uint8_t *b, size_t at)
{
	uint32_t n;

	memcpy(&n, b + at + 8, 4);
	return n;
}

/* Recompute a block's CRC after the test forged it (format 2: its header's;
 * chunks' CRCs in the directory with reseal_chunks). */
static void reseal_block(uint8_t *b, size_t at)
{
	uint32_t len = get32(b + at + 4), crc;
	size_t head = blk_head(b, at);

	crc = crc32c(0, b + at, 12);
	if (b[8] == 1) {
		crc = crc32c(crc, b + at + 16, 16);
		crc = crc32c(crc, b + at + 32, len);
	} else {
		crc = crc32c(crc, b + at + 16, head - 16);
	}
	memcpy(b + at + 12, &crc, 4);
}

/* Format 2: the i-th stored chunk of the block at at: its offset and length. */
static size_t chunk_at(const uint8_t *b, size_t at, size_t i, size_t *len)
{
	const uint8_t *dir = b + at + FRAMEFILE_BLOCK2_HEADER_SIZE + bm_len(b);
	size_t off = at + blk_head(b, at);

	for (size_t k = 0; k < i; k++)
		off += get32(dir + 8 * k);
	*len = get32(dir + 8 * i);
	return off;
}

/* Format 2: recompute every chunk CRC of the block, then its header's. */
static void reseal_chunks(uint8_t *b, size_t at)
{
	size_t nstored = (blk_head(b, at) - FRAMEFILE_BLOCK2_HEADER_SIZE - bm_len(b)) / 8;
	uint8_t *dir = b + at + FRAMEFILE_BLOCK2_HEADER_SIZE + bm_len(b);

	for (size_t i = 0; i < nstored; i++) {
		size_t len, off = chunk_at(b, at, i, &len);
		uint32_t crc = crc32c(0, b + off, len);

		memcpy(dir + 8 * i + 4, &crc, 4);
	}
	reseal_block(b, at);
}

/* Forge the block at at (CRCs kept valid) so that it no longer decodes:
 * format 1 an invalid mode byte; format 2 the same in its first packed chunk
 * (a frame's seq chunk: enc byte 0, then the column's mode). */
static void forge_block(uint8_t *b, size_t at)
{
	size_t len, off;

	if (b[8] == 1) {
		b[at + 32] = 9;
		reseal_block(b, at);
		return;
	}
	for (size_t i = 0;; i++) {
		off = chunk_at(b, at, i, &len);
		if (b[off] == 0)
			break;
	}
	b[off + 1] = 9;
	reseal_chunks(b, at);
}

static void reseal_header(uint8_t *b)
{
	uint32_t crc = crc32c(0, b, 156);

	memcpy(b + 156, &crc, 4);
}

static size_t json_bytes(const struct pw_frame *f, size_t n)
{
	char buf[8192];
	size_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += frame_to_json(&f[i], buf, sizeof buf) + 1;
	return total;
}

/* Load path and compare with want[0..n) byte for byte. */
static int loads_as(const char *path, const struct pw_frame *want, size_t n,
		    struct framefile_info *info)
{
	struct pw_frame *got = NULL;
	size_t ng = 99;
	int rc = framefile_load(path, &got, &ng, info), ok;

	ok = rc == 0 && ng == n &&
	     (n == 0 ? got == NULL : memcmp(got, want, n * sizeof *want) == 0);
	if (!ok)
		fprintf(stderr, "  load %s: rc %d, %zu frames, want %zu\n", path, rc, ng, n);
	free(got);
	return ok;
}

static int reads_as(const char *path, const struct pw_frame *want, size_t n,
		    struct framefile_info *info, size_t *blocks);

/* --- tests --- */

static void test_crc32c(void)
{
	const char *v = "123456789";
	uint8_t big[1000];

	T_CHECK(crc32c(0, v, 9) == 0xe3069283u);
	T_CHECK(crc32c(0, v, 0) == 0);
	T_CHECK(crc32c(crc32c(0, v, 4), v + 4, 5) == 0xe3069283u);
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)t_rnd();
	for (size_t cut = 0; cut <= 17; cut++)
		T_CHECK(crc32c(crc32c(0, big, cut), big + cut, sizeof big - cut) ==
			crc32c(0, big, sizeof big));
}

/* Realistic frames come back byte for byte, >= 5x smaller than JSON lines. */
static void test_round_trip_sim(void)
{
	size_t n = 20000, len;
	struct pw_frame *f = sim_frames(n, SEQ0);
	const char *path = tmp_path("sim.frames");
	struct framefile_info info;
	uint8_t *img;
	double ratio;

	T_CHECK(f != NULL);
	if (!f)
		return;
	T_CHECK(write_file(path, f, n, 333, 0, BLOCKCODEC_PACK) == 0);
	T_CHECK(loads_as(path, f, n, &info));
	T_CHECK(info.frames == n && info.first_seq == SEQ0 && info.last_seq == SEQ0 + n - 1);
	T_CHECK(info.blocks == (n + FRAMEFILE_BLOCK_FRAMES - 1) / FRAMEFILE_BLOCK_FRAMES);
	T_CHECK(info.tail == FRAMEFILE_TAIL_CLEAN && info.dropped_bytes == 0);
	T_CHECK(info.valid_bytes == info.file_bytes && info.file_bytes == file_size(path));
	T_CHECK(info.hdr.format_version == fmt_v);
	T_CHECK(info.hdr.frame_size == FRAME_SIZE && info.hdr.frame_version == FRAME_VERSION);
	T_CHECK(info.hdr.codec == (V2 ? BLOCKCODEC_COLS : BLOCKCODEC_PACK));
	T_CHECK(info.hdr.created_ns == 1750000000123456789ll);
	T_CHECK(strcmp(info.hdr.feed, "ksudp") == 0 &&
		strcmp(info.hdr.run_id, "3f1c2a9e-run") == 0);
	ratio = (double)json_bytes(f, n) / (double)info.file_bytes;
	T_CHECKF(ratio >= 5.0, "JSON / disk = %.2f", ratio);
	fprintf(stderr,
		"  format %u, sim: %.1f bytes/frame on disk, %.1fx smaller than JSON lines\n",
		fmt_v, (double)info.file_bytes / (double)n, ratio);

	/* the same through the in-memory reader */
	img = read_all(path, &len);
	T_CHECK(img != NULL);
	if (img) {
		struct pw_frame *g = NULL;
		size_t ng = 0;

		T_CHECK(framefile_load_buf(img, len, &g, &ng, &info) == 0 && ng == n);
		T_CHECK(g && memcmp(g, f, n * sizeof *f) == 0);
		free(g);
	}
	free(img);

	/* format 1's RAW codec: the frames as they are */
	if (!V2)
		T_CHECK(write_file(path, f, 3000, 1000, 1, BLOCKCODEC_RAW) == 0);
	if (!V2) {
		T_CHECK(loads_as(path, f, 3000, &info) && info.hdr.codec == BLOCKCODEC_RAW);
		T_CHECK(info.file_bytes ==
			FRAMEFILE_HEADER_SIZE +
				3 * (FRAMEFILE_BLOCK_HEADER_SIZE + 1000 * FRAME_SIZE));
	}
	free(f);
}

static void test_round_trip_real(void)
{
	size_t n;
	struct pw_frame *f = real_frames(&n);
	const char *path = tmp_path("real.frames");
	struct framefile_info info;
	double ratio;

	T_CHECKF(f && n == 8641, "%zu frames from %s", n, AC_CAPTURE);
	if (!f || !n) {
		free(f);
		return;
	}
	T_CHECK(write_file(path, f, n, 58, 0, BLOCKCODEC_PACK) == 0);
	T_CHECK(loads_as(path, f, n, &info));
	ratio = (double)json_bytes(f, n) / (double)info.file_bytes;
	T_CHECKF(ratio >= 5.0, "JSON / disk = %.2f", ratio);
	fprintf(stderr,
		"  format %u, real AC capture: %.1f bytes/frame on disk, %.1fx smaller than "
		"JSON lines\n",
		fmt_v, (double)info.file_bytes / (double)n, ratio);
	free(f);
}

/* A load big enough (> 64 MB) to fault its array in from a helper thread. */
static void test_large_load(void)
{
	size_t base = 20000, n = 200000;
	struct pw_frame *f = sim_frames(base, SEQ0), *big = malloc(n * sizeof *big);
	const char *path = tmp_path("large.frames");
	struct framefile_info info;

	T_CHECK(f && big);
	if (!f || !big)
		goto out;
	for (size_t i = 0; i < n; i++) {
		big[i] = f[i % base];
		big[i].seq = SEQ0 + i;
	}
	T_CHECK(write_file(path, big, n, 4096, 0, BLOCKCODEC_PACK) == 0);
	T_CHECK(loads_as(path, big, n, &info) && info.blocks == (n + 1023) / 1024);
	unlink(path);
out:
	free(f);
	free(big);
}

/* Random bytes in every field (all bit widths, NaNs, sign flips) and odd block sizes. */
static void test_round_trip_extremes(void)
{
	static const size_t chunks[] = { 1, 2, 31, 32, 33, 34, 65, 1023, 1024, 1025, 4000 };
	size_t n = 6000;
	struct pw_frame *f = t_random_frames(n), *g = calloc(n, sizeof *g);
	const char *path = tmp_path("rand.frames");
	struct framefile_info info;

	T_CHECK(f && g);
	if (!f || !g)
		goto out;
	for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
		/* a sync per chunk makes blocks of that size; tiny blocks on fewer frames */
		size_t m = chunks[k] < 30 ? 60 * chunks[k] : n;

		T_CHECK(write_file(path, f, m, chunks[k], 1, BLOCKCODEC_PACK) == 0);
		T_CHECKF(loads_as(path, f, m, &info), "chunk %zu", chunks[k]);
	}
	/* smooth columns interleaved with constant and alternating ones */
	for (size_t i = 0; i < n; i++) {
		g[i].seq = 100 + 3 * i;
		g[i].t_ns = -(int64_t)i * 1000003;
		g[i].present = i & 1 ? ~0ull : 0;
		g[i].game_time_s = (double)i * 0.003;
		g[i].speed_kmh = i % 64 < 32 ? -0.0f : 0.0f;
		g[i].rpm = (float)(i % 7) - 3.0f;
		g[i].gear = (int8_t)(i % 9 - 1);
		g[i].lap_time_ms = (int32_t)(i * 3);
		for (int w = 0; w < 4; w++)
			g[i].tyre_temp_c[w] = 80.0f + (float)w * 0.5f + (float)i * 1e-3f;
	}
	T_CHECK(write_file(path, g, n, 333, 2, BLOCKCODEC_PACK) == 0);
	T_CHECK(loads_as(path, g, n, &info));
out:
	free(f);
	free(g);
}

/* The header and block bytes sit where framefile.h says: format 1. */
static void test_layout_v1(void)
{
	struct pw_frame *f = sim_frames(100, SEQ0);
	const char *path = tmp_path("layout.frames");
	size_t len, off[4];
	uint8_t *b;
	uint32_t u32, crc;
	uint64_t u64;

	fmt_v = 1;
	T_CHECK(f && write_file(path, f, 100, 100, 0, BLOCKCODEC_PACK) == 0);
	fmt_v = 2;
	b = read_all(path, &len);
	T_CHECK(b && len > FRAMEFILE_HEADER_SIZE + FRAMEFILE_BLOCK_HEADER_SIZE);
	if (!b || len <= FRAMEFILE_HEADER_SIZE + FRAMEFILE_BLOCK_HEADER_SIZE)
		goto out;
	T_CHECK(memcmp(b, "PWFRAMES", 8) == 0);
	T_CHECK(b[8] == 1 && b[9] == 0);
	T_CHECK(b[10] == 160 && b[11] == 0);
	T_CHECK(b[12] == (FRAME_SIZE & 0xff) && b[13] == FRAME_SIZE >> 8);
	T_CHECK(b[14] == FRAME_VERSION && b[15] == 0);
	memcpy(&u32, b + 16, 4);
	T_CHECK(u32 == BLOCKCODEC_PACK);
	memcpy(&u32, b + 20, 4);
	T_CHECK(u32 == FRAMEFILE_BLOCK_FRAMES);
	memcpy(&u64, b + 24, 8);
	T_CHECK(u64 == 1750000000123456789ull);
	T_CHECK(strcmp((char *)b + 32, "ksudp") == 0 &&
		strcmp((char *)b + 64, "3f1c2a9e-run") == 0);
	memcpy(&crc, b + 156, 4);
	T_CHECK(crc == crc32c(0, b, 156));

	T_CHECK(block_offsets(b, len, off, 4) == 1 && off[1] == len);
	T_CHECK(memcmp(b + 160, "PWFB", 4) == 0 && block_frames(b, 160) == 100);
	memcpy(&u64, b + 160 + 16, 8);
	T_CHECK(u64 == SEQ0);
	memcpy(&u64, b + 160 + 24, 8);
	T_CHECK(u64 == SEQ0 + 99);
	memcpy(&crc, b + 160 + 12, 4);
	reseal_block(b, 160);
	memcpy(&u32, b + 160 + 12, 4);
	T_CHECK(u32 == crc);
	/* PACK: 91 modes, then the first frame as it is */
	T_CHECK(memcmp(b + 160 + 32 + 91, &f[0], FRAME_SIZE) == 0);
	for (int c = 0; c < 91; c++)
		T_CHECK(b[160 + 32 + c] <= 5);
out:
	free(b);
	free(f);
}

/* Blocks fill at 1024, syncs write partial blocks, stats follow. */
static void test_blocks_and_sync(void)
{
	size_t n = 2600;
	struct pw_frame *f = sim_frames(n, SEQ0);
	const char *path = tmp_path("sync.frames");
	struct framefile_hdr h = make_hdr(BLOCKCODEC_PACK);
	struct framefile_writer *w = NULL;
	struct framefile_stats st;
	struct framefile_info info;
	struct pw_frame dup;

	T_CHECK(f != NULL);
	if (!f)
		return;
	unlink(path);
	T_CHECK(framefile_create(&w, path, &h) == 0);
	if (!w)
		goto out;
	framefile_stats(w, &st);
	T_CHECK(st.frames == 0 && st.blocks == 0 && st.bytes == file_size(path));
	T_CHECK(st.synced_bytes == st.bytes && st.bytes >= FRAMEFILE_HEADER_SIZE);
	T_CHECK(V2 || st.bytes == FRAMEFILE_HEADER_SIZE);
	T_CHECK(framefile_append(w, f, 0) == 0);
	T_CHECK(framefile_sync(w) == 0);

	T_CHECK(framefile_append(w, f, 1000) == 0);
	framefile_stats(w, &st);
	T_CHECK(st.frames == 1000 && st.frames_written == 0 && st.blocks == 0);
	T_CHECK(st.last_seq == SEQ0 + 999 && st.frames_synced == 0);
	T_CHECK(framefile_append(w, f + 1000, 100) == 0); /* fills the first block */
	framefile_stats(w, &st);
	T_CHECK(st.frames == 1100 && st.frames_written == 1024 && st.blocks == 1);
	T_CHECK(st.frames_synced == 0 && st.bytes == file_size(path));
	T_CHECK(framefile_sync(w) == 0); /* the 76 pending as a partial block */
	framefile_stats(w, &st);
	T_CHECK(st.frames == 1100 && st.frames_written == 1100 && st.frames_synced == 1100);
	T_CHECK(st.blocks == 2 && st.synced_last_seq == SEQ0 + 1099);
	T_CHECK(st.synced_bytes == st.bytes && st.bytes == file_size(path));

	/* seqs must increase: a repeat or a step back is refused, nothing taken */
	dup = f[1099];
	T_CHECK(framefile_append(w, &dup, 1) == -EINVAL);
	T_CHECK(framefile_append(w, f + 1100, 2) == 0);
	T_CHECK(framefile_append(w, f + 1101, 1) == -EINVAL);
	framefile_stats(w, &st);
	T_CHECK(st.frames == 1102 && st.last_seq == SEQ0 + 1101);
	T_CHECK(framefile_append(NULL, f, 1) == -EINVAL && framefile_sync(NULL) == -EINVAL);

	/* a whole block straight from the caller's array, then a tail */
	T_CHECK(framefile_append(w, f + 1102, n - 1102) == 0);
	framefile_stats(w, &st);
	T_CHECK(st.frames == n && st.frames_written == 1100 + 1024 && st.blocks == 3);
	T_CHECK(framefile_close(w) == 0);
	T_CHECK(framefile_close(NULL) == 0);
	T_CHECK(loads_as(path, f, n, &info));
	T_CHECK(info.blocks == 4 && info.tail == FRAMEFILE_TAIL_CLEAN);
	T_CHECK(framefile_scan(path, &info) == 0 && info.frames == n && info.blocks == 4);
	T_CHECK(info.first_seq == SEQ0 && info.last_seq == SEQ0 + n - 1);
out:
	free(f);
}

/* A file with only a header: zero frames, appendable. */
static void test_empty_run(void)
{
	struct pw_frame *f = sim_frames(10, SEQ0);
	const char *path = tmp_path("empty.frames");
	struct framefile_hdr h = make_hdr(BLOCKCODEC_PACK);
	struct framefile_writer *w = NULL;
	struct framefile_info info;

	unlink(path);
	T_CHECK(framefile_create(&w, path, &h) == 0 && framefile_close(w) == 0);
	T_CHECK(loads_as(path, NULL, 0, &info));
	T_CHECK(info.frames == 0 && info.first_seq == 0 && info.last_seq == 0);
	T_CHECK(info.tail == FRAMEFILE_TAIL_CLEAN && info.valid_bytes == info.hdr.header_size);
	T_CHECK(info.hdr.header_size == file_size(path));
	T_CHECK(framefile_scan(path, &info) == 0 && info.blocks == 0);
	T_CHECK(framefile_open_append(&w, path, &info) == 0 && info.frames == 0);
	T_CHECK(w && framefile_append(w, f, 10) == 0 && framefile_close(w) == 0);
	T_CHECK(loads_as(path, f, 10, &info));
	free(f);
}

/*
 * A crash can cut the file anywhere after the last durable block. At every
 * byte offset inside the last two blocks the readers keep exactly the
 * complete blocks; at a dense sample the file is recovered on disk with
 * open_append and appending afterwards works.
 */
static void test_truncate_everywhere(void)
{
	size_t n = 400, len, off[16], nb, frames_before[16], checked = 0, reopened = 0;
	struct pw_frame *f = sim_frames(n + 50, SEQ0);
	const char *path = tmp_path("crash.frames"), *cut = tmp_path("cut.frames");
	struct framefile_info info;
	uint8_t *img;

	/* blocks of 100, 100, 100, 60, 40 frames (syncs every 20 appends of 5) */
	T_CHECK(f && write_file(path, f, 300, 5, 20, BLOCKCODEC_PACK) == 0);
	if (!f)
		return;
	{
		struct framefile_writer *w;

		T_CHECK(framefile_open_append(&w, path, NULL) == 0);
		T_CHECK(framefile_append(w, f + 300, 60) == 0 && framefile_sync(w) == 0);
		T_CHECK(framefile_append(w, f + 360, 40) == 0 && framefile_close(w) == 0);
	}
	img = read_all(path, &len);
	nb = img ? block_offsets(img, len, off, 15) : 0;
	T_CHECKF(nb == 5 && off[5] == len, "%zu blocks", nb);
	if (nb != 5 || off[5] != len)
		goto out;
	frames_before[0] = 0;
	for (size_t k = 0; k < nb; k++)
		frames_before[k + 1] = frames_before[k] + block_frames(img, off[k]);
	T_CHECK(frames_before[5] == n);

	for (size_t at = off[3]; at <= len; at++) {
		size_t keep = at >= off[5] ? 5 : at >= off[4] ? 4 : 3, kept = frames_before[keep];
		enum framefile_tail tail =
			at == off[keep] ? FRAMEFILE_TAIL_CLEAN : FRAMEFILE_TAIL_TORN;
		struct pw_frame *g = NULL;
		size_t ng = 0;
		int ok;

		ok = framefile_scan_buf(img, at, &info) == 0 && info.frames == kept &&
		     info.valid_bytes == off[keep] && info.tail == tail &&
		     info.dropped_bytes == at - off[keep] && info.last_seq == SEQ0 + kept - 1;
		ok = ok && framefile_load_buf(img, at, &g, &ng, &info) == 0 && ng == kept &&
		     memcmp(g, f, kept * sizeof *f) == 0 && info.tail == tail;
		free(g);
		T_CHECKF(ok, "cut at %zu of %zu", at, len);
		checked++;
		if (!ok)
			break;
		/* on disk: every 151st offset, both sides of each boundary, the ends */
		if (at % 151 && at != off[3] + 1 && at != off[4] - 1 && at != off[4] &&
		    at != off[4] + 1 && at != len - 1 && at != len)
			continue;
		{
			struct framefile_writer *w = NULL;

			T_CHECK(write_all(cut, img, at) == 0);
			ok = framefile_open_append(&w, cut, &info) == 0 && info.frames == kept &&
			     info.last_seq == SEQ0 + kept - 1 && info.tail == tail &&
			     file_size(cut) == off[keep];
			/* resume: append what was lost plus 50 new frames */
			ok = ok && framefile_append(w, f + kept, n + 50 - kept) == 0;
			ok = framefile_close(w) == 0 && ok;
			ok = ok && loads_as(cut, f, n + 50, &info) &&
			     info.tail == FRAMEFILE_TAIL_CLEAN;
			T_CHECKF(ok, "recover and append after a cut at %zu", at);
			reopened++;
		}
	}
	fprintf(stderr, "  %zu truncation points read, %zu recovered on disk\n", checked, reopened);
	T_CHECK(checked == len - off[3] + 1 && reopened > 30);
out:
	free(img);
	free(f);
}

/* Damage in the middle block: everything before it loads, it and after are dropped. */
static void test_corrupt_middle(void)
{
	size_t n = 500, len, off[8], nb;
	struct pw_frame *f = sim_frames(n, SEQ0);
	const char *path = tmp_path("mid.frames"), *bad = tmp_path("mid-bad.frames");
	struct framefile_info info;
	uint8_t *img;
	int stopped = 0, flips = 0;

	T_CHECK(f && write_file(path, f, n, 100, 1, BLOCKCODEC_PACK) == 0);
	if (!f)
		return;
	img = read_all(path, &len);
	nb = img ? block_offsets(img, len, off, 7) : 0;
	T_CHECK(nb == 5);
	if (nb != 5)
		goto out;
	/* every byte of the middle block, one bit flipped at a time */
	for (size_t at = off[2]; at < off[3]; at += (at < off[2] + 64 ? 1 : 37)) {
		struct pw_frame *g = NULL;
		size_t ng = 0;

		img[at] ^= 0x10;
		stopped += framefile_load_buf(img, len, &g, &ng, &info) == 0 && ng == 200 &&
			   memcmp(g, f, 200 * sizeof *f) == 0 &&
			   info.tail == FRAMEFILE_TAIL_CORRUPT && info.valid_bytes == off[2] &&
			   info.dropped_bytes == len - off[2];
		img[at] ^= 0x10;
		free(g);
		flips++;
	}
	T_CHECKF(stopped == flips, "%d of %d flips stopped the load", stopped, flips);

	/* on disk: load and scan report it; open_append cuts there and goes on */
	img[(off[2] + off[3]) / 2] ^= 0xff;
	T_CHECK(write_all(bad, img, len) == 0);
	T_CHECK(loads_as(bad, f, 200, &info) && info.tail == FRAMEFILE_TAIL_CORRUPT);
	T_CHECK(info.dropped_bytes == len - off[2] && info.blocks == 2);
	T_CHECK(framefile_scan(bad, &info) == 0 && info.frames == 200);
	T_CHECK(info.tail == FRAMEFILE_TAIL_CORRUPT && info.last_seq == SEQ0 + 199);
	{
		struct framefile_writer *w = NULL;

		T_CHECK(framefile_open_append(&w, bad, &info) == 0 && info.frames == 200);
		T_CHECK(file_size(bad) == off[2]);
		T_CHECK(w && framefile_append(w, f + 200, n - 200) == 0 && framefile_close(w) == 0);
		T_CHECK(loads_as(bad, f, n, &info) && info.tail == FRAMEFILE_TAIL_CLEAN);
	}
out:
	free(img);
	free(f);
}

/* Blocks with a valid CRC but a malformed payload or lying seqs stop the load too. */
static void test_forged_blocks(void)
{
	size_t n = 300, len, off[8];
	struct pw_frame *f = sim_frames(n, SEQ0), *g = NULL;
	const char *path = tmp_path("forge.frames");
	struct framefile_info info;
	uint8_t *img, *copy;
	size_t ng;

	T_CHECK(f && write_file(path, f, n, 100, 1, BLOCKCODEC_PACK) == 0);
	img = read_all(path, &len);
	copy = img ? malloc(len) : NULL;
	T_CHECK(copy && block_offsets(img, len, off, 7) == 3);
	if (!copy || !f)
		goto out;

	/* an invalid mode byte */
	memcpy(copy, img, len);
	forge_block(copy, off[1]);
	T_CHECK(framefile_scan_buf(copy, len, &info) == 0 && info.frames == n); /* no decoding */
	T_CHECK(framefile_load_buf(copy, len, &g, &ng, &info) == 0 && ng == 100);
	T_CHECK(info.tail == FRAMEFILE_TAIL_CORRUPT && info.valid_bytes == off[1]);
	free(g);

	/* the header says seqs the frames do not carry (a plausible last_seq) */
	memcpy(copy, img, len);
	{
		uint64_t last = SEQ0 + 201;

		memcpy(copy + off[1] + 24, &last, 8);
	}
	reseal_block(copy, off[1]);
	T_CHECK(framefile_load_buf(copy, len, &g, &ng, &info) == 0 && ng == 100);
	T_CHECK(info.tail == FRAMEFILE_TAIL_CORRUPT);
	free(g);

	/* a block whose seqs do not follow the previous block's */
	memcpy(copy, img, len);
	memcpy(copy + off[2] + 16, copy + off[0] + 16, 16);
	reseal_block(copy, off[2]);
	T_CHECK(framefile_scan_buf(copy, len, &info) == 0 && info.frames == 200);
	T_CHECK(info.tail == FRAMEFILE_TAIL_CORRUPT && info.valid_bytes == off[2]);

	/* a frame count the payload cannot hold: format 1 refuses it by the
	 * payload's size (a decompression bomb); format 2's chunks decode to
	 * the count they hold, so the load stops there */
	memcpy(copy, img, len);
	{
		uint32_t count = FRAMEFILE_BLOCK_MAX_FRAMES;
		uint64_t last = SEQ0 + 100 + count;

		memcpy(copy + off[1] + 8, &count, 4);
		memcpy(copy + off[1] + 24, &last, 8);
	}
	reseal_block(copy, off[1]);
	if (V2) {
		memcpy(copy + off[2] + 16, &(uint64_t){ SEQ0 + 101 + FRAMEFILE_BLOCK_MAX_FRAMES },
		       8);
		memcpy(copy + off[2] + 24, &(uint64_t){ SEQ0 + 200 + FRAMEFILE_BLOCK_MAX_FRAMES },
		       8);
		reseal_block(copy, off[2]);
		T_CHECK(framefile_scan_buf(copy, len, &info) == 0 &&
			info.tail == FRAMEFILE_TAIL_CLEAN);
		T_CHECK(framefile_load_buf(copy, len, &g, &ng, &info) == 0 && ng == 100);
		free(g);
	} else {
		T_CHECK(framefile_scan_buf(copy, len, &info) == 0 && info.frames == 100);
	}
	T_CHECK(info.tail == FRAMEFILE_TAIL_CORRUPT);

	/* one byte short: the last block is torn */
	memcpy(copy, img, len);
	T_CHECK(framefile_load_buf(copy, len - 1, &g, &ng, &info) == 0 && ng == 200);
	T_CHECK(info.tail == FRAMEFILE_TAIL_TORN);
	free(g);
out:
	free(copy);
	free(img);
	free(f);
}

/* A bad header is -EPROTO everywhere and open_append leaves the file alone. */
static void test_bad_header(void)
{
	struct pw_frame *f = sim_frames(50, SEQ0), *g = (struct pw_frame *)1;
	const char *path = tmp_path("hdr.frames"), *bad = tmp_path("hdr-bad.frames");
	struct framefile_writer *w = (struct framefile_writer *)1;
	struct framefile_info info;
	size_t len, ng = 7;
	uint8_t *img;
	int eproto = 0;

	T_CHECK(f && write_file(path, f, 50, 50, 0, BLOCKCODEC_PACK) == 0);
	img = read_all(path, &len);
	if (!img || !f)
		goto out;
	for (size_t at = 0; at < hdr_len(img); at++) {
		img[at] ^= 0x04;
		eproto += framefile_load_buf(img, len, &g, &ng, &info) == -EPROTO && g == NULL &&
			  ng == 0 && framefile_scan_buf(img, len, &info) == -EPROTO;
		img[at] ^= 0x04;
	}
	T_CHECKF(eproto == (int)hdr_len(img), "%d of %zu", eproto, hdr_len(img));

	img[40] ^= 1;
	T_CHECK(write_all(bad, img, len) == 0);
	img[40] ^= 1;
	T_CHECK(framefile_load(bad, &g, &ng, &info) == -EPROTO && g == NULL && ng == 0);
	T_CHECK(framefile_scan(bad, &info) == -EPROTO);
	T_CHECK(framefile_open_append(&w, bad, &info) == -EPROTO && w == NULL);
	T_CHECK(file_size(bad) == len);

	/* empty and short files */
	T_CHECK(write_all(bad, img, 0) == 0);
	T_CHECK(framefile_load(bad, &g, &ng, &info) == -EPROTO &&
		framefile_scan(bad, &info) == -EPROTO);
	T_CHECK(framefile_open_append(&w, bad, &info) == -EPROTO);
	T_CHECK(framefile_load_buf(NULL, 0, &g, &ng, &info) == -EPROTO);
	T_CHECK(write_all(bad, img, FRAMEFILE_HEADER_SIZE - 1) == 0);
	T_CHECK(framefile_load(bad, &g, &ng, &info) == -EPROTO);
	T_CHECK(write_all(bad, img, hdr_len(img) - 1) == 0); /* format 2: inside the layout */
	T_CHECK(framefile_load(bad, &g, &ng, &info) == -EPROTO);
	T_CHECK(framefile_load(tmp_path("absent.frames"), &g, &ng, &info) == -ENOENT);
	T_CHECK(framefile_scan(tmpdir, &info) == -EINVAL); /* a directory */

	/* a well-formed header this build cannot decode: scan reads it, load refuses */
	img[14] = FRAME_VERSION + 1;
	reseal_header(img);
	T_CHECK(write_all(bad, img, len) == 0);
	T_CHECK(framefile_scan(bad, &info) == 0 && info.hdr.frame_version == FRAME_VERSION + 1);
	T_CHECK(info.frames == 50);
	T_CHECK(framefile_load(bad, &g, &ng, &info) == -EPROTO);
	T_CHECK(framefile_open_append(&w, bad, &info) == -EPROTO);
	img[14] = FRAME_VERSION;
	img[16] = BLOCKCODEC_COUNT;
	reseal_header(img);
	T_CHECK(framefile_load_buf(img, len, &g, &ng, &info) == -EPROTO);
	T_CHECK(framefile_scan_buf(img, len, &info) == 0 && info.hdr.codec == BLOCKCODEC_COUNT);
	img[16] = V2 ? BLOCKCODEC_PACK : BLOCKCODEC_COLS; /* the other format's codec */
	reseal_header(img);
	T_CHECK(framefile_load_buf(img, len, &g, &ng, &info) == -EPROTO);
	img[16] = V2 ? BLOCKCODEC_COLS : BLOCKCODEC_PACK;
	memset(img + 32, 'x', 32); /* feed without its NUL */
	reseal_header(img);
	T_CHECK(framefile_scan_buf(img, len, &info) == -EPROTO);
out:
	free(img);
	free(f);
}

/*
 * Files written before frame version 2 keep working: a version 1 file (its
 * header and frames say 1, junk where version 2 keeps its new fields) loads,
 * scans and reads block by block with every frame upgraded; the store can
 * reopen it after an upgrade and append version 2 frames behind the old ones.
 */
static void test_version1_files(void)
{
	size_t n = 300, ng = 0, nb;
	struct pw_frame *f = sim_frames(n, SEQ0), *more = sim_frames(100, SEQ0 + 300), *g = NULL;
	const struct pw_frame *b;
	const char *path = tmp_path("v1.frames");
	struct framefile_writer *w = NULL;
	struct framefile_reader *r = NULL;
	struct framefile_info info;
	uint8_t *img = NULL;
	size_t len, k = 0;
	int ok = 1;

	T_CHECK(f && more);
	if (!f || !more)
		goto out;
	for (size_t i = 0; i < n; i++) {
		f[i].version = 1;
		f[i].present &= FRAME_P_YAW_RATE - 1;
		memset(&f[i].yaw_rate_rads, 0x5a,
		       sizeof f[i] - offsetof(struct pw_frame, yaw_rate_rads));
	}
	T_CHECK(write_file(path, f, n, 100, 0, BLOCKCODEC_PACK) == 0);
	img = read_all(path, &len);
	T_CHECK(img != NULL);
	if (!img)
		goto out;
	img[14] = 1; /* the header a version 1 writer wrote */
	reseal_header(img);
	T_CHECK(write_all(path, img, len) == 0);
	T_CHECK(framefile_scan(path, &info) == 0 && info.hdr.frame_version == 1 &&
		info.frames == n);
	T_CHECK(framefile_load(path, &g, &ng, &info) == 0 && ng == n);
	for (size_t i = 0; g && i < ng; i++) {
		struct pw_frame want = f[i];

		T_CHECK(frame_upgrade(&want) == 0);
		ok &= memcmp(&g[i], &want, sizeof want) == 0 && g[i].version == FRAME_VERSION &&
		      g[i].derived == 0 && g[i].yaw_rate_rads == 0.f;
	}
	T_CHECK(ok);
	free(g);
	g = NULL;
	/* the block reader too */
	T_CHECK(framefile_reader_open(&r, path, &info) == 0);
	while (r && framefile_reader_next(r, &b, &nb) == 1)
		for (size_t i = 0; i < nb; i++, k++)
			ok &= b[i].version == FRAME_VERSION && b[i].seq == f[k].seq &&
			      b[i].derived == 0;
	T_CHECK(ok && k == n);
	framefile_reader_close(r);
	/* reopened by a version 2 writer: its frames follow the old ones */
	T_CHECK(framefile_open_append(&w, path, &info) == 0 && info.frames == n);
	T_CHECK(w && framefile_append(w, more, 100) == 0);
	T_CHECK(framefile_close(w) == 0);
	T_CHECK(framefile_load(path, &g, &ng, &info) == 0 && ng == n + 100 &&
		info.hdr.frame_version == 1);
	for (size_t i = 0; g && i < ng; i++)
		ok &= g[i].version == FRAME_VERSION &&
		      (i < n ? g[i].derived == 0 : memcmp(&g[i], &more[i - n], sizeof g[i]) == 0);
	T_CHECK(ok);
out:
	free(g);
	free(img);
	free(f);
	free(more);
}

static void test_create_rules(void)
{
	const char *path = tmp_path("rules.frames");
	struct framefile_hdr h = make_hdr(BLOCKCODEC_PACK);
	struct framefile_writer *w = NULL, *w2 = (struct framefile_writer *)1;
	char missing[300];

	unlink(path);
	T_CHECK(framefile_create(&w, path, &h) == 0 && w);
	T_CHECK(framefile_create(&w2, path, &h) == -EEXIST && w2 == NULL);
	T_CHECK(framefile_open_append(&w2, path, NULL) == -EBUSY && w2 == NULL); /* flock */
	T_CHECK(framefile_close(w) == 0);
	T_CHECK(framefile_open_append(&w, path, NULL) == 0 && framefile_close(w) == 0);

	unlink(path);
	h.feed[0] = 0;
	T_CHECK(framefile_create(&w, path, &h) == -EINVAL);
	h = make_hdr(BLOCKCODEC_PACK);
	memset(h.run_id, 'r', FRAMEFILE_RUN_ID_MAX);
	T_CHECK(framefile_create(&w, path, &h) == 0 && framefile_close(w) == 0);
	{
		struct framefile_info info;

		T_CHECK(framefile_scan(path, &info) == 0 && strlen(info.hdr.run_id) == 64);
	}
	unlink(path);
	memset(h.feed, 'f', sizeof h.feed); /* no NUL: too long */
	T_CHECK(framefile_create(&w, path, &h) == -EINVAL);
	h = make_hdr(BLOCKCODEC_COUNT);
	if (V2)
		h.format_version = 3; /* format 2 reads no codec; a format it does not write */
	T_CHECK(framefile_create(&w, path, &h) == -EINVAL);
	h = make_hdr(BLOCKCODEC_COLS); /* not a format 1 codec */
	h.format_version = 1;
	T_CHECK(framefile_create(&w, path, &h) == -EINVAL);
	T_CHECK(access(path, F_OK) != 0);
	snprintf(missing, sizeof missing, "%s/no/such/dir.frames", tmpdir);
	h = make_hdr(BLOCKCODEC_PACK);
	T_CHECK(framefile_create(&w, missing, &h) == -ENOENT);
	/* created_ns 0 means now */
	h.created_ns = 0;
	T_CHECK(framefile_create(&w, path, &h) == 0 && framefile_close(w) == 0);
	{
		struct framefile_info info;

		T_CHECK(framefile_scan(path, &info) == 0 &&
			info.hdr.created_ns > 1700000000000000000ll);
	}
}

/* Any bytes at all: the readers answer, never crash, and stay consistent. */
static void test_garbage(void)
{
	struct pw_frame *f = sim_frames(200, SEQ0), *g;
	const char *path = tmp_path("g.frames");
	size_t len, ng;
	uint8_t *img, buf[4096];
	struct framefile_info info;

	T_CHECK(f && write_file(path, f, 200, 50, 1, BLOCKCODEC_PACK) == 0);
	img = read_all(path, &len);
	if (!img)
		goto out;
	for (int round = 0; round < 3000; round++) {
		size_t n = t_rnd() % sizeof buf;
		int rc;

		if (round % 3 == 0) {
			for (size_t i = 0; i < n; i++)
				buf[i] = (uint8_t)t_rnd();
		} else {
			/* the real file's start with random damage after the header */
			n = n < len ? n : len;
			memcpy(buf, img, n);
			for (int k = 0; k < 4 && n > hdr_len(img); k++)
				buf[hdr_len(img) + t_rnd() % (n - hdr_len(img))] = (uint8_t)t_rnd();
		}
		g = NULL;
		rc = framefile_load_buf(buf, n, &g, &ng, &info);
		if (rc == 0)
			T_CHECK(ng == info.frames && info.valid_bytes + info.dropped_bytes == n &&
				(ng == 0) == (g == NULL));
		else
			T_CHECK(rc == -EPROTO && g == NULL);
		free(g);
	}
out:
	free(img);
	free(f);
}

/* --- format 2 alone --- */

/* The header, its layout and a block's header, directory and chunks sit
 * where framefile.h says. */
static void test_layout_v2(void)
{
	struct pw_frame *f = sim_frames(100, SEQ0);
	const char *path = tmp_path("layout2.frames");
	struct blockcodec_layout l, want;
	size_t len, off[4], head, at, llen;
	uint8_t *b;
	uint64_t u64, stored = 0;

	T_CHECK(f && write_file(path, f, 100, 100, 0, BLOCKCODEC_PACK) == 0);
	b = read_all(path, &len);
	T_CHECK(b && len > 200);
	if (!b || len <= 200)
		goto out;
	T_CHECK(memcmp(b, "PWFRAMES", 8) == 0 && b[8] == 2 && b[9] == 0);
	T_CHECK(get32(b + 16) == BLOCKCODEC_COLS && get32(b + 20) == FRAMEFILE_BLOCK_FRAMES);
	memcpy(&u64, b + 128, 8);
	T_CHECK(u64 == ~0ull && get32(b + 136) == BLOCKCODEC_PARTS_ALL);
	llen = (size_t)(b[140] | b[141] << 8);
	T_CHECK(hdr_len(b) == FRAMEFILE_HEADER_SIZE + llen + 4);
	T_CHECK(get32(b + 156) == crc32c(0, b, 156));
	T_CHECK(get32(b + 160 + llen) == crc32c(0, b + 160, llen));
	blockcodec_layout_default(&want);
	T_CHECK(blockcodec_layout_load(&l, b + 160, llen) == 0 && memcmp(&l, &want, sizeof l) == 0);

	T_CHECK(block_offsets(b, len, off, 4) == 1 && off[1] == len && off[0] == hdr_len(b));
	at = off[0];
	T_CHECK(memcmp(b + at, "PWFC", 4) == 0 && get32(b + at + 8) == 100);
	T_CHECK(get32(b + at + 4) == len - at - FRAMEFILE_BLOCK2_HEADER_SIZE);
	memcpy(&u64, b + at + 16, 8);
	T_CHECK(u64 == SEQ0);
	memcpy(&u64, b + at + 24, 8);
	T_CHECK(u64 == SEQ0 + 99);
	T_CHECK(b[at + 32] == 0 && b[at + 33] == 0 && b[at + 34] == 0 &&
		b[at + 35] == 0); /* lap 0 */
	for (int i = 36; i < 48; i++)
		T_CHECK(b[at + i] == 0);
	head = blk_head(b, at);
	T_CHECK(get32(b + at + 12) == crc32c(crc32c(0, b + at, 12), b + at + 16, head - 16));
	for (size_t i = 0; i < bm_len(b); i++)
		stored |= (uint64_t)b[at + 48 + i] << (8 * i);
	/* pw-sim sends every channel but handbrake and boost (always 0), and the rest is 0 */
	T_CHECK(stored >> blockcodec_layout_find(&l, FRAME_CH_SPEED) & 1);
	T_CHECK(!(stored >> blockcodec_layout_find(&l, FRAME_CH_HANDBRAKE) & 1));
	T_CHECK(!(stored >> blockcodec_layout_find(&l, BLOCKCODEC_REST) & 1));
	/* every chunk's CRC in the directory; the chunks fill the block */
	{
		size_t nstored = (size_t)__builtin_popcountll(stored), end = at + head;

		for (size_t i = 0; i < nstored; i++) {
			size_t clen, coff = chunk_at(b, at, i, &clen);
			uint32_t crc = crc32c(0, b + coff, clen);

			T_CHECK(coff == end && get32(b + at + 48 + bm_len(b) + 8 * i + 4) == crc);
			T_CHECK(b[coff] <= 1); /* packed or zstd */
			end += clen;
		}
		T_CHECK(end == len);
	}
out:
	free(b);
	free(f);
}

/* The bytes of channel mask and parts of f[i] equal what cols holds. */
static int cols_match(const struct framecols *c, const struct pw_frame *f, size_t n)
{
	int ok = c->n == n;

	for (size_t i = 0; ok && i < n; i++) {
		ok &= c->seq[i] == f[i].seq && c->version[i] == f[i].version &&
		      c->game[i] == f[i].game && c->feed[i] == f[i].feed;
		ok &= !c->t_ns || c->t_ns[i] == f[i].t_ns;
		ok &= !c->present || c->present[i] == f[i].present;
		ok &= !c->game_session || c->game_session[i] == f[i].game_session;
		ok &= !c->flags ||
		      (c->flags[i] == f[i].flags && c->flags_known[i] == f[i].flags_known);
		ok &= !c->derived || c->derived[i] == f[i].derived;
		for (unsigned b = 0; b < FRAME_P_COUNT; b++)
			ok &= !c->ch[b] || memcmp(framecols_at(c, b, i),
						  (const uint8_t *)&f[i] + frame_channels[b].off,
						  frame_channels[b].size) == 0;
	}
	return ok;
}

/* Columns: the channels asked for, in memory proportional to them; whole
 * frames back from them; format 1 files too. */
static void test_columns(void)
{
	size_t n = 5000;
	struct pw_frame *f = sim_frames(n, SEQ0), *rows = calloc(n, sizeof *rows);
	const char *path = tmp_path("cols.frames"), *p1 = tmp_path("cols1.frames");
	const uint64_t some = FRAME_P_SPEED | FRAME_P_POS | FRAME_P_LAP | FRAME_P_TYRE_TEMP;
	struct framecols c;
	struct framefile_info info;
	uint8_t *img = NULL;
	size_t len;
	int ok = 1;

	T_CHECK(f && rows);
	if (!f || !rows)
		goto out;
	T_CHECK(write_file(path, f, n, 333, 1, 0) == 0);
	T_CHECK(framefile_load_cols(path, some, FRAMECOLS_T_NS, &c, &info) == 0);
	T_CHECK(info.frames == n && info.tail == FRAMEFILE_TAIL_CLEAN && cols_match(&c, f, n));
	T_CHECK(c.channels == some && c.parts == (FRAMECOLS_T_NS | FRAMECOLS_SEQ | FRAMECOLS_IDS));
	T_CHECK(c.present == NULL && c.ch[FRAME_CH_RPM] == NULL && c.t_ns != NULL);
	/* 8 seq + 4 ids + 8 t_ns + 4 speed + 12 pos + 2 lap + 16 tyre temps per frame */
	T_CHECK(framecols_bytes(&c) == n * 54);
	/* whole frames from the columns: what they hold, zero elsewhere */
	framecols_rows(&c, 10, 100, rows);
	for (size_t i = 0; i < 100; i++) {
		struct pw_frame want = { 0 };
		const struct pw_frame *x = &f[10 + i];

		want.seq = x->seq;
		want.t_ns = x->t_ns;
		want.version = x->version;
		want.game = x->game;
		want.feed = x->feed;
		want.speed_kmh = x->speed_kmh;
		memcpy(want.pos_m, x->pos_m, sizeof want.pos_m);
		want.lap = x->lap;
		memcpy(want.tyre_temp_c, x->tyre_temp_c, sizeof want.tyre_temp_c);
		ok &= memcmp(&rows[i], &want, sizeof want) == 0;
	}
	T_CHECK(ok);
	framecols_free(&c);
	T_CHECK(c.seq == NULL && c.n == 0);
	/* everything: whole frames back byte for byte */
	T_CHECK(framefile_load_cols(path, FRAME_P_ALL, FRAMECOLS_HEAD, &c, &info) == 0);
	framecols_rows(&c, 0, n, rows);
	T_CHECK(memcmp(rows, f, n * sizeof *f) == 0);
	/* some frames picked out of order (framecols_fill_only at idx, everything): those,
	 * whole */
	{
		size_t idx[] = { n - 1, 0, 17, 17, 4000, 3 };
		size_t m = sizeof idx / sizeof *idx;

		memset(rows, 0, m * sizeof *rows);
		framecols_fill_only(&c, 0, idx, m, FRAME_P_ALL, FRAMECOLS_HEAD, rows);
		for (size_t k = 0; k < m; k++)
			ok &= memcmp(&rows[k], &f[idx[k]], sizeof *f) == 0;
		T_CHECK(ok);
		/* ... of some channels and parts only (framecols_fill_only): those
		 * written, the rest of each frame as it was */
		memset(rows, 0xa5, m * sizeof *rows);
		framecols_fill_only(&c, 0, idx, m, FRAME_P_SPEED | FRAME_P_TYRE_TEMP,
				    FRAMECOLS_T_NS | FRAMECOLS_PRESENT, rows);
		for (size_t k = 0; k < m; k++) {
			struct pw_frame want;

			memset(&want, 0xa5, sizeof want);
			want.t_ns = f[idx[k]].t_ns;
			want.present = f[idx[k]].present;
			want.speed_kmh = f[idx[k]].speed_kmh;
			memcpy(want.tyre_temp_c, f[idx[k]].tyre_temp_c, sizeof want.tyre_temp_c);
			ok &= memcmp(&rows[k], &want, sizeof want) == 0;
		}
		T_CHECK(ok);
		/* a range (idx NULL) from first on */
		memset(rows, 0, 3 * sizeof *rows);
		framecols_fill_only(&c, 40, NULL, 3, FRAME_P_LAP, FRAMECOLS_SEQ, rows);
		for (size_t k = 0; k < 3; k++)
			ok &= rows[k].seq == f[40 + k].seq && rows[k].lap == f[40 + k].lap &&
			      rows[k].t_ns == 0 && rows[k].speed_kmh == 0.0f;
		T_CHECK(ok);
	}
	framecols_free(&c);
	/* the in-memory reader, and a format 1 file */
	img = read_all(path, &len);
	T_CHECK(img && framefile_load_cols_buf(img, len, some, 0, &c, &info) == 0 &&
		cols_match(&c, f, n));
	framecols_free(&c);
	fmt_v = 1;
	T_CHECK(write_file(p1, f, n, 1000, 0, BLOCKCODEC_PACK) == 0);
	fmt_v = 2;
	T_CHECK(framefile_load_cols(p1, some, FRAMECOLS_HEAD, &c, &info) == 0 && info.frames == n);
	T_CHECK(cols_match(&c, f, n));
	framecols_free(&c);
	/* a torn tail: the complete blocks; a bad header; no file */
	T_CHECK(img && write_all(p1, img, len - 5) == 0);
	T_CHECK(framefile_load_cols(p1, some, 0, &c, &info) == 0 &&
		info.tail == FRAMEFILE_TAIL_TORN);
	T_CHECK(c.n == info.frames && info.frames < n && info.frames > n - 400 &&
		cols_match(&c, f, c.n));
	framecols_free(&c);
	if (img) {
		img[40] ^= 1;
		T_CHECK(write_all(p1, img, len) == 0);
	}
	T_CHECK(framefile_load_cols(p1, some, 0, &c, &info) == -EPROTO && c.seq == NULL);
	T_CHECK(framefile_load_cols(tmp_path("absent.frames"), some, 0, &c, &info) == -ENOENT);
	/* version 1 frames come out upgraded */
	for (size_t i = 0; i < n; i++) {
		f[i].version = 1;
		f[i].derived = ~0ull;
		f[i].yaw_rate_rads = 5.0f;
	}
	T_CHECK(write_file(path, f, n, 1000, 0, 0) == 0);
	T_CHECK(framefile_load_cols(path, FRAME_P_YAW_RATE | FRAME_P_SPEED, FRAMECOLS_HEAD, &c,
				    &info) == 0 &&
		c.n == n);
	for (size_t i = 0; c.n == n && i < n; i++)
		ok &= c.version[i] == FRAME_VERSION && c.derived[i] == 0 &&
		      *(const float *)framecols_at(&c, FRAME_CH_YAW_RATE, i) == 0.0f &&
		      !(c.present[i] & FRAME_P_YAW_RATE) &&
		      c.present[i] == (f[i].present & FRAME_P_V1);
	T_CHECK(ok);
	framecols_free(&c);
out:
	free(img);
	free(f);
	free(rows);
}

/* Channel b of frame i in c equals f's (1), or reads as zero (0). */
static int col_is(const struct framecols *c, unsigned b, size_t i, const struct pw_frame *f,
		  int equal)
{
	static const uint8_t zero[64];
	const void *want = equal ? (const uint8_t *)f + frame_channels[b].off : zero;

	return memcmp(framecols_at(c, b, i), want, frame_channels[b].size) == 0;
}

/* A second pass: more channels for some frames into the columns of a
 * first load, from the file or an image; the blocks that hold the frames
 * are decoded, the rest reads as zero; another file is refused. */
static void test_column_ranges(void)
{
	size_t n = 5000, first = 1200, count = 700, lo = 999, hi = 1997, len;
	struct pw_frame *f = sim_frames(n, SEQ0), *g = sim_frames(n - 1, SEQ0);
	const char *path = tmp_path("range.frames"), *other = tmp_path("range-other.frames"),
		   *p1 = tmp_path("range1.frames");
	const uint64_t some = FRAME_P_SPEED | FRAME_P_LAP, more = FRAME_P_RPM | FRAME_P_TYRE_TEMP;
	struct framecols c;
	struct framefile_info info;
	uint8_t *img = NULL;
	int ok = 1;

	T_CHECK(f && g && write_file(path, f, n, 333, 1, 0) == 0);
	if (!f || !g)
		goto out;
	/* blocks of 333: frames 1200..1899 lie in blocks 3..5, frames 999..1997 */
	T_CHECK(framefile_load_cols(path, some, FRAMECOLS_T_NS, &c, &info) == 0 && c.n == n);
	T_CHECK(framefile_load_cols_range(path, more | some, first, count, &c) == 0);
	T_CHECK(c.channels == (some | more) && c.ch[FRAME_CH_RPM] && c.ch[FRAME_CH_TYRE_TEMP]);
	for (size_t i = 0; i < n; i++) {
		int in = i >= lo && i <= hi;

		ok &= col_is(&c, FRAME_CH_RPM, i, &f[i], in) &&
		      col_is(&c, FRAME_CH_TYRE_TEMP, i, &f[i], in) &&
		      col_is(&c, FRAME_CH_SPEED, i, &f[i], 1) && c.seq[i] == f[i].seq;
	}
	T_CHECK(ok);
	framecols_free(&c);
	/* the whole run, from the file and an image: every frame */
	T_CHECK(framefile_load_cols(path, some, FRAMECOLS_T_NS, &c, &info) == 0);
	T_CHECK(framefile_load_cols_range(path, FRAME_P_GEAR, 0, n, &c) == 0 &&
		cols_match(&c, f, n));
	img = read_all(path, &len);
	T_CHECK(img && framefile_load_cols_range_buf(img, len, FRAME_P_BRAKE, 0, n, &c) == 0 &&
		cols_match(&c, f, n));
	/* nothing new, an empty range, a range past the end */
	T_CHECK(framefile_load_cols_range(path, some, 0, n, &c) == 0 && cols_match(&c, f, n));
	T_CHECK(framefile_load_cols_range(path, FRAME_P_THROTTLE, n, 0, &c) == 0 &&
		col_is(&c, FRAME_CH_THROTTLE, n - 1, &f[n - 1], 0));
	T_CHECK(framefile_load_cols_range(path, FRAME_P_STEER, n - 10, 11, &c) == -EINVAL &&
		!c.ch[FRAME_CH_STEER]);
	/* another file: fewer frames, or other seqs */
	T_CHECK(write_file(other, g, n - 1, 333, 1, 0) == 0);
	T_CHECK(framefile_load_cols_range(other, FRAME_P_STEER, 0, 10, &c) == -ESTALE);
	for (size_t i = 0; i < n - 1; i++)
		g[i].seq += 1;
	T_CHECK(write_file(other, g, n - 1, 333, 1, 0) == 0);
	framecols_free(&c);
	T_CHECK(framefile_load_cols(other, some, 0, &c, &info) == 0 && c.n == n - 1);
	T_CHECK(write_file(other, f, n - 1, 333, 1, 0) == 0);
	T_CHECK(framefile_load_cols_range(other, FRAME_P_STEER, 4000, 10, &c) == -ESTALE);
	framecols_free(&c);
	/* read aside (framecols_aside: the columns read untouched until framecols_take moves
	 * them in, as pw-analyze reads the second pass beside the first's reader) */
	T_CHECK(framefile_load_cols(path, some, FRAMECOLS_T_NS, &c, &info) == 0);
	{
		struct framecols aside;
		uint64_t *seq = c.seq;
		void *speed = c.ch[FRAME_CH_SPEED];

		T_CHECK(framecols_aside(&aside, &c) == 0 && aside.n == n && aside.seq != c.seq);
		T_CHECK(framefile_load_cols_range(path, more | some, 0, n, &aside) == 0);
		T_CHECK(c.channels == some && !c.ch[FRAME_CH_RPM] &&
			aside.channels == (more | some) && aside.ch[FRAME_CH_RPM]);
		framecols_take(&c, &aside); /* what c holds stays; the aside's copy goes */
		T_CHECK(c.channels == (some | more) && c.seq == seq &&
			c.ch[FRAME_CH_SPEED] == speed && cols_match(&c, f, n) && !aside.seq &&
			!aside.ch[FRAME_CH_RPM] && !aside.ch[FRAME_CH_SPEED]);
		framecols_free(&c);
		memset(&c, 0, sizeof c); /* no seqs: nothing to read aside of */
		T_CHECK(framecols_aside(&aside, &c) == -EINVAL && !aside.seq);
	}
	/* a format 1 file: read whole, the same columns */
	fmt_v = 1;
	T_CHECK(write_file(p1, f, n, 1000, 0, BLOCKCODEC_PACK) == 0);
	fmt_v = 2;
	T_CHECK(framefile_load_cols(p1, some, 0, &c, &info) == 0 &&
		framefile_load_cols_range(p1, more, first, count, &c) == 0 &&
		cols_match(&c, f, n) && c.channels == (some | more));
	framecols_free(&c);
	/* opened once (framefile_cols_open: the index walked once), loaded twice: the
	 * same columns and info as the loads by path, format 2 and 1 */
	for (int k = 0; k < 2; k++) {
		struct framefile_cols *fc = NULL;
		struct framefile_info by_path;

		T_CHECK(framefile_cols_open(&fc, k ? p1 : path) == 0 && fc);
		if (!fc)
			break;
		T_CHECK(framefile_load_cols(k ? p1 : path, some, FRAMECOLS_T_NS, &c, &by_path) ==
			0);
		framecols_free(&c);
		T_CHECK(framefile_cols_load(fc, some, FRAMECOLS_T_NS, &c, &info) == 0 && c.n == n &&
			info.frames == by_path.frames && info.blocks == by_path.blocks &&
			info.valid_bytes == by_path.valid_bytes && info.tail == by_path.tail);
		T_CHECK(framefile_cols_load_range(fc, more, first, count, &c) == 0);
		for (size_t i = 0; i < n && k == 0; i++) {
			int in = i >= lo && i <= hi;

			ok &= col_is(&c, FRAME_CH_RPM, i, &f[i], in) &&
			      col_is(&c, FRAME_CH_SPEED, i, &f[i], 1) && c.seq[i] == f[i].seq;
		}
		T_CHECK(ok && (k == 0 || cols_match(&c, f, n)));
		T_CHECK(framefile_cols_load_range(fc, FRAME_P_GEAR, n - 1, 2, &c) == -EINVAL);
		framecols_free(&c);
		/* another file's columns: not this one's frames */
		T_CHECK(framefile_load_cols(other, some, 0, &c, &info) == 0 &&
			framefile_cols_load_range(fc, FRAME_P_GEAR, 0, 10, &c) == -ESTALE);
		framecols_free(&c);
		framefile_cols_close(fc);
	}
	{
		struct framefile_cols *fc = (struct framefile_cols *)&c;

		T_CHECK(framefile_cols_open(&fc, tmp_path("no-such.frames")) == -ENOENT && !fc);
		T_CHECK(framefile_cols_open(&fc, "/") == -EINVAL && !fc);
		T_CHECK(write_all(other, "not a frame file, not at all: a text", 36) == 0 &&
			framefile_cols_open(&fc, other) == -EPROTO && !fc);
		framefile_cols_close(NULL);
	}
out:
	free(img);
	free(f);
	free(g);
}

/*
 * Only the chunks asked for are read: damage in another channel's chunk
 * goes unnoticed by a reader of some channels, and ends the read of one
 * that asks for it as a corrupt tail; framefile_scan finds it.
 */
static void test_selective_reads(void)
{
	size_t n = 1000, len, off[16], clen, k_speed = 0, nb;
	struct pw_frame *f = sim_frames(n, SEQ0);
	const char *path = tmp_path("sel.frames"), *bad = tmp_path("sel-bad.frames");
	struct blockcodec_layout l;
	struct framefile_reader *r = NULL;
	struct framefile_info info;
	struct framecols c;
	const struct pw_frame *b;
	uint8_t *img = NULL;
	uint64_t stored = 0;
	int ks;

	blockcodec_layout_default(&l);
	ks = blockcodec_layout_find(&l, FRAME_CH_SPEED);
	T_CHECK(f && ks >= 0 && write_file(path, f, n, 250, 1, 0) == 0);
	img = read_all(path, &len);
	T_CHECK(img && block_offsets(img, len, off, 15) == 4);
	if (!img || !f || ks < 0)
		goto out;
	/* the speed chunk of block 1: its index among the stored ones */
	for (size_t i = 0; i < bm_len(img); i++)
		stored |= (uint64_t)img[off[1] + 48 + i] << (8 * i);
	k_speed = (size_t)__builtin_popcountll(stored & ((1ull << ks) - 1));
	img[chunk_at(img, off[1], k_speed, &clen) + clen / 2] ^= 0x21;
	T_CHECK(write_all(bad, img, len) == 0);
	/* not asked for: unnoticed */
	T_CHECK(framefile_load_cols(bad, FRAME_P_RPM | FRAME_P_POS, FRAMECOLS_T_NS, &c, &info) ==
		0);
	T_CHECK(info.frames == n && info.tail == FRAMEFILE_TAIL_CLEAN && cols_match(&c, f, n));
	framecols_free(&c);
	T_CHECK(framefile_reader_open(&r, bad, &info) == 0 && info.frames == n);
	if (r) {
		size_t total = 0;

		framefile_reader_only(r, FRAME_P_RPM);
		while (framefile_reader_next(r, &b, &nb) == 1) {
			for (size_t i = 0; i < nb; i++)
				T_CHECK(b[i].rpm == f[total + i].rpm &&
					b[i].seq == f[total + i].seq);
			total += nb;
		}
		T_CHECK(total == n);
		framefile_reader_close(r);
	}
	/* asked for: the read ends before the damaged block */
	T_CHECK(framefile_load_cols(bad, FRAME_P_SPEED, 0, &c, &info) == 0 && info.frames == 250);
	T_CHECK(info.tail == FRAMEFILE_TAIL_CORRUPT && info.valid_bytes == off[1]);
	T_CHECK(cols_match(&c, f, 250));
	framecols_free(&c);
	T_CHECK(framefile_scan(bad, &info) == 0 && info.frames == 250);
	T_CHECK(info.tail == FRAMEFILE_TAIL_CORRUPT);
	/* an extract that names speed stops there too; one without it does not */
	{
		void *x = NULL;
		size_t xlen = 0;

		T_CHECK(framefile_extract(bad, FRAME_P_SPEED, 0, &x, &xlen, &info) == 0);
		T_CHECK(info.frames == 250 && info.tail == FRAMEFILE_TAIL_CORRUPT);
		free(x);
		T_CHECK(framefile_extract(bad, FRAME_P_RPM, 0, &x, &xlen, &info) == 0);
		T_CHECK(info.frames == n && info.tail == FRAMEFILE_TAIL_CLEAN);
		free(x);
	}
out:
	free(img);
	free(f);
}

/* Extracts: the chunks asked for, copied as stored; read back as columns;
 * smaller than the file; a format 1 file's become format 2. */
static void test_extract(void)
{
	size_t n = 3000, xlen = 0, flen;
	struct pw_frame *f = sim_frames(n, SEQ0);
	const char *path = tmp_path("x.frames"), *p1 = tmp_path("x1.frames");
	const uint64_t some = FRAME_P_SPEED | FRAME_P_LAP | FRAME_P_VEL;
	struct framefile_info info, xi;
	struct framecols c;
	void *x = NULL;
	uint8_t *file = NULL;

	T_CHECK(f && write_file(path, f, n, 333, 1, 0) == 0);
	if (!f)
		return;
	file = read_all(path, &flen);
	T_CHECK(file && framefile_extract(path, some, FRAMECOLS_T_NS, &x, &xlen, &info) == 0);
	T_CHECK(info.frames == n && info.tail == FRAMEFILE_TAIL_CLEAN && x && xlen < flen / 4);
	fprintf(stderr, "  extract of 3 channels and t_ns: %zu of %zu bytes\n", xlen, flen);
	T_CHECK(framefile_scan_buf(x, xlen, &xi) == 0 && xi.frames == n &&
		xi.blocks == info.blocks);
	T_CHECK(xi.hdr.channels == some && xi.hdr.format_version == 2);
	T_CHECK(xi.hdr.parts == (FRAMECOLS_T_NS | FRAMECOLS_SEQ | FRAMECOLS_IDS));
	T_CHECK(strcmp(xi.hdr.run_id, info.hdr.run_id) == 0 &&
		xi.hdr.created_ns == info.hdr.created_ns);
	T_CHECK(framefile_load_cols_buf(x, xlen, some, FRAMECOLS_T_NS, &c, &xi) == 0);
	T_CHECK(cols_match(&c, f, n) && c.t_ns);
	framecols_free(&c);
	T_CHECK(framefile_load_cols_buf(x, xlen, FRAME_P_SPEED, 0, &c, &xi) == 0 &&
		cols_match(&c, f, n));
	framecols_free(&c);
	/* what it does not carry */
	T_CHECK(framefile_load_cols_buf(x, xlen, FRAME_P_RPM, 0, &c, &xi) == -ENOENT);
	T_CHECK(framefile_load_cols_buf(x, xlen, FRAME_P_SPEED, FRAMECOLS_PRESENT, &c, &xi) ==
		-ENOENT);
	/* whole frames: the channels it holds, zero elsewhere */
	{
		struct pw_frame *g = NULL;
		size_t ng = 0;
		int ok = 1;

		T_CHECK(framefile_load_buf(x, xlen, &g, &ng, &xi) == 0 && ng == n);
		for (size_t i = 0; g && i < ng; i++)
			ok &= g[i].speed_kmh == f[i].speed_kmh && g[i].rpm == 0.0f &&
			      g[i].seq == f[i].seq;
		T_CHECK(ok);
		free(g);
	}
	/* an extract is not a run to append to */
	{
		struct framefile_writer *w = NULL;

		T_CHECK(write_all(p1, x, xlen) == 0);
		T_CHECK(framefile_open_append(&w, p1, &xi) == -EPROTO && w == NULL);
	}
	free(x);
	x = NULL;
	/* a format 1 file */
	fmt_v = 1;
	T_CHECK(write_file(p1, f, n, 1000, 0, BLOCKCODEC_PACK) == 0);
	fmt_v = 2;
	T_CHECK(framefile_extract(p1, some, 0, &x, &xlen, &info) == 0 && info.frames == n);
	T_CHECK(framefile_load_cols_buf(x, xlen, some, 0, &c, &xi) == 0 && cols_match(&c, f, n));
	T_CHECK(xi.hdr.format_version == 2 && xi.blocks == info.blocks);
	framecols_free(&c);
	free(x);
	T_CHECK(framefile_extract(tmp_path("absent.frames"), some, 0, &x, &xlen, &info) == -ENOENT);
	T_CHECK(x == NULL && xlen == 0);
	free(file);
	free(f);
}

/*
 * A file names its own layout, and the writer that reopens it keeps to it:
 * a file whose header carries a layout other than this build's (the
 * reserved bytes cut into 4-byte columns) is appended to and read back
 * byte for byte.
 */
static void test_own_layout(void)
{
	size_t n = 700, llen;
	struct pw_frame *f = sim_frames(n, SEQ0);
	const char *path = tmp_path("own.frames");
	struct blockcodec_layout l, m;
	struct framefile_writer *w = NULL;
	struct framefile_info info;
	uint8_t hdr[FRAMEFILE_HEADER_SIZE + BLOCKCODEC_LAYOUT_MAX + 4];
	uint32_t crc;
	int k;

	T_CHECK(f && write_file(path, f, 0, 1, 0, 0) == 0);
	if (!f)
		return;
	{
		size_t len;
		uint8_t *b = read_all(path, &len);

		T_CHECK(b && len == hdr_len(b));
		if (b)
			memcpy(hdr, b, FRAMEFILE_HEADER_SIZE);
		free(b);
	}
	/* the rest chunk: each column becomes columns of half its width (1-byte
	 * ones stay), so the file's layout has more columns than the default */
	blockcodec_layout_default(&l);
	m = l;
	k = blockcodec_layout_find(&l, BLOCKCODEC_REST);
	T_CHECK(k == (int)l.nchunks - 1);
	m.ncols = l.chunk[k].first;
	m.chunk[k].ncols = 0;
	for (unsigned j = 0; j < l.chunk[k].ncols; j++) {
		const struct blockcodec_col *c = &l.col[l.chunk[k].first + j];

		unsigned half = c->width > 1 ? c->width / 2u : 1u;

		for (unsigned o = 0; o < c->width; o += half) {
			m.col[m.ncols++] =
				(struct blockcodec_col){ (uint16_t)(c->off + o), (uint8_t)half, 0 };
			m.chunk[k].ncols++;
		}
	}
	T_CHECK(m.ncols > l.ncols);
	llen = blockcodec_layout_dump(&m, hdr + FRAMEFILE_HEADER_SIZE);
	T_CHECK(blockcodec_layout_load(&l, hdr + FRAMEFILE_HEADER_SIZE, llen) == 0);
	crc = crc32c(0, hdr + FRAMEFILE_HEADER_SIZE, llen);
	memcpy(hdr + FRAMEFILE_HEADER_SIZE + llen, &crc, 4);
	hdr[10] = (uint8_t)(FRAMEFILE_HEADER_SIZE + llen + 4);
	hdr[11] = (uint8_t)((FRAMEFILE_HEADER_SIZE + llen + 4) >> 8);
	hdr[140] = (uint8_t)llen;
	hdr[141] = (uint8_t)(llen >> 8);
	reseal_header(hdr);
	for (size_t i = 0; i < n; i++) /* bytes the new columns must carry */
		memset(f[i].reserved, (int)(i & 0xff), sizeof f[i].reserved);
	T_CHECK(write_all(path, hdr, FRAMEFILE_HEADER_SIZE + llen + 4) == 0);
	T_CHECK(framefile_open_append(&w, path, &info) == 0 && info.frames == 0);
	T_CHECK(w && framefile_append(w, f, n) == 0 && framefile_close(w) == 0);
	T_CHECK(loads_as(path, f, n, &info) &&
		info.hdr.header_size == FRAMEFILE_HEADER_SIZE + llen + 4);
	free(f);
}

/*
 * Files written by the old writers (tests/data/frames/, see its README):
 * format 1 with PACK and RAW blocks from the writer of frame version 2, a
 * PACK file of frame version 1 frames from the writer before it, and format
 * 2 from the writer before the sign-low float map (every column in order). Each
 * loads, reads block by block and as columns, its frames hashing to what
 * that old writer's own reader made of them; the store can append to it.
 */
static void test_old_writers(void)
{
	static const struct {
		const char *name;
		size_t frames, blocks;
		uint32_t crc; /* CRC-32C of the frames the old reader loaded, upgraded */
		unsigned frame_version, codec, format;
	} files[] = {
		{ "frames/v1_pack_fv2.frames", 700, 3, 0xde122136u, 2, BLOCKCODEC_PACK, 1 },
		{ "frames/v1_raw_fv2.frames", 100, 1, 0xa05c0e77u, 2, BLOCKCODEC_RAW, 1 },
		{ "frames/v1_pack_fv1.frames", 700, 3, 0x9135d710u, 1, BLOCKCODEC_PACK, 1 },
		{ "frames/v2_cols_fv2.frames", 700, 3, 0x8bc5e7f4u, 2, BLOCKCODEC_COLS, 2 },
	};

	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		const char *src = t_data_path(files[i].name), *path = tmp_path("old.frames");
		struct framefile_info info;
		struct framefile_writer *w = NULL;
		struct pw_frame *g = NULL, *more;
		struct framecols c;
		size_t len, ng = 0, blocks;
		uint8_t *img = read_all(src, &len);

		T_CHECKF(img != NULL, "%s", src);
		if (!img)
			continue;
		T_CHECK(framefile_load_buf(img, len, &g, &ng, &info) == 0 && ng == files[i].frames);
		T_CHECK(info.blocks == files[i].blocks && info.tail == FRAMEFILE_TAIL_CLEAN);
		T_CHECK(info.hdr.format_version == files[i].format &&
			info.hdr.codec == files[i].codec);
		T_CHECK(info.hdr.frame_version == files[i].frame_version);
		T_CHECKF(g && crc32c(0, g, ng * sizeof *g) == files[i].crc, "%s: crc %08x",
			 files[i].name, g ? crc32c(0, g, ng * sizeof *g) : 0);
		T_CHECK(write_all(path, img, len) == 0);
		T_CHECK(g && reads_as(path, g, ng, &info, &blocks) && blocks == files[i].blocks);
		T_CHECK(framefile_load_cols(path, FRAME_P_ALL, FRAMECOLS_HEAD, &c, &info) == 0);
		T_CHECK(g && cols_match(&c, g, ng));
		framecols_free(&c);
		/* appended to in its own format */
		more = g ? sim_frames(50, g[ng - 1].seq + 1) : NULL;
		T_CHECK(more && framefile_open_append(&w, path, &info) == 0);
		T_CHECK(w && framefile_append(w, more, 50) == 0 && framefile_close(w) == 0);
		free(img);
		img = read_all(path, &len);
		T_CHECK(img && img[8] == files[i].format && get32(img + 16) == files[i].codec);
		{
			struct pw_frame *h = NULL;
			size_t nh = 0;

			T_CHECK(framefile_load(path, &h, &nh, &info) == 0 && nh == ng + 50);
			T_CHECK(h && memcmp(h, g, ng * sizeof *g) == 0 &&
				memcmp(h + ng, more, 50 * sizeof *more) == 0);
			free(h);
		}
		free(more);
		free(img);
		free(g);
	}
}

/*
 * Run a writer into a full disk: sync every 50 frames until an append or a
 * sync fails. The file must then hold exactly the synced frames; after
 * space is freed, appending resumes from synced_last_seq + 1.
 */
static void fill_until_error(const char *path, const struct pw_frame *f, size_t n,
			     void (*make_room)(void), int want_err)
{
	struct framefile_hdr h = make_hdr(BLOCKCODEC_PACK);
	struct framefile_writer *w = NULL;
	struct framefile_stats st;
	struct framefile_info info;
	size_t i = 0;
	int rc = 0;

	rc = framefile_create(&w, path, &h);
	T_CHECKF(rc == 0, "create: %d", rc);
	if (rc < 0)
		return;
	while (rc == 0 && i < n) {
		rc = framefile_append(w, f + i, 50);
		i += 50;
		if (rc == 0)
			rc = framefile_sync(w);
	}
	framefile_stats(w, &st);
	T_CHECKF(rc == want_err, "got %d, want %d after %zu frames", rc, want_err, i);
	T_CHECK(st.frames == st.frames_synced && st.frames_written == st.frames_synced);
	T_CHECK(st.bytes == st.synced_bytes && file_size(path) == st.synced_bytes);
	T_CHECK(st.frames_synced > 0 && st.frames_synced < i);
	T_CHECK(st.synced_last_seq == SEQ0 + st.frames_synced - 1 &&
		st.last_seq == st.synced_last_seq);
	T_CHECK(loads_as(path, f, st.frames_synced, &info) && info.tail == FRAMEFILE_TAIL_CLEAN);
	fprintf(stderr, "  error %d after %llu synced frames, file %llu bytes, loads clean\n", rc,
		(unsigned long long)st.frames_synced, (unsigned long long)st.synced_bytes);

	/* still full: the next attempt fails the same way and changes nothing */
	rc = framefile_append(w, f + st.frames_synced, 2000);
	if (rc == 0)
		rc = framefile_sync(w);
	T_CHECK(rc == want_err && file_size(path) == st.synced_bytes);

	/* room again: resume after the last durable frame */
	make_room();
	T_CHECK(framefile_append(w, f + st.frames_synced, 300) == 0 && framefile_sync(w) == 0);
	T_CHECK(framefile_close(w) == 0);
	T_CHECK(loads_as(path, f, st.frames_synced + 300, &info));
}

static char filler[300];
static struct rlimit fsize_limit;

static void unlink_filler(void)
{
	unlink(filler);
}

static void restore_fsize(void)
{
	setrlimit(RLIMIT_FSIZE, &fsize_limit);
}

static void test_enospc_tmpfs(void)
{
	char mnt[200];
	const char *path;
	struct pw_frame *f;
	int fd;

	snprintf(mnt, sizeof mnt, "%s/tmpfs", tmpdir);
	T_CHECK(mkdir(mnt, 0755) == 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=256k") < 0) {
		printf("SKIP test_enospc_tmpfs: mount -t tmpfs: %s (needs root)\n",
		       strerror(errno));
		rmdir(mnt);
		return;
	}
	f = sim_frames(20000, SEQ0);
	path = tmp_path("tmpfs/run.frames");
	snprintf(filler, sizeof filler, "%s/filler", mnt);
	/* 64 KiB that can be freed later */
	fd = open(filler, O_WRONLY | O_CREAT, 0644);
	T_CHECK(fd >= 0);
	if (fd >= 0 && f) {
		static uint8_t zeros[65536];

		T_CHECK(write(fd, zeros, sizeof zeros) == (ssize_t)sizeof zeros);
		close(fd);
		fill_until_error(path, f, 20000, unlink_filler, -ENOSPC);
	}
	free(f);
	unlink(path);
	T_CHECK(umount(mnt) == 0);
	rmdir(mnt);
}

/* The same with the file size limit (SIGXFSZ ignored, so writes fail with EFBIG). */
static void test_efbig_rlimit(void)
{
	struct rlimit lim;
	struct pw_frame *f = sim_frames(20000, SEQ0);
	const char *path = tmp_path("fsize.frames");

	T_CHECK(f && getrlimit(RLIMIT_FSIZE, &fsize_limit) == 0);
	if (!f)
		return;
	unlink(path);
	signal(SIGXFSZ, SIG_IGN);
	lim = fsize_limit;
	lim.rlim_cur = 150000;
	T_CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	fill_until_error(path, f, 20000, restore_fsize, -EFBIG);
	restore_fsize();
	signal(SIGXFSZ, SIG_DFL);
	free(f);
}

/*
 * Read path block by block into one array; 1 when it equals want[0..n) and
 * the reader's final info agrees with framefile_load's. *blocks counts them.
 */
static int reads_as(const char *path, const struct pw_frame *want, size_t n,
		    struct framefile_info *info, size_t *blocks)
{
	struct framefile_reader *r = NULL;
	struct framefile_info opened, fin, loaded;
	const struct pw_frame *b;
	struct pw_frame *got = calloc(n + 1, sizeof *got), *lf = NULL;
	size_t nb, total = 0, nl = 0;
	int rc, ok = got != NULL;

	*blocks = 0;
	rc = framefile_reader_open(&r, path, &opened);
	ok = ok && rc == 0 && r;
	while (ok && (rc = framefile_reader_next(r, &b, &nb)) == 1) {
		ok = nb >= 1 && nb <= FRAMEFILE_BLOCK_MAX_FRAMES && total + nb <= n;
		if (ok)
			memcpy(got + total, b, nb * sizeof *b);
		total += nb;
		(*blocks)++;
	}
	ok = ok && rc == 0 && total == n && memcmp(got, want, n * sizeof *want) == 0;
	/* and stays at the end */
	ok = ok && framefile_reader_next(r, &b, &nb) == 0 && b == NULL && nb == 0;
	if (r)
		framefile_reader_info(r, &fin);
	ok = ok && framefile_load(path, &lf, &nl, &loaded) == 0 && nl == n;
	ok = ok && fin.frames == loaded.frames && fin.blocks == loaded.blocks &&
	     fin.first_seq == loaded.first_seq && fin.last_seq == loaded.last_seq &&
	     fin.valid_bytes == loaded.valid_bytes && fin.file_bytes == loaded.file_bytes &&
	     fin.dropped_bytes == loaded.dropped_bytes && fin.tail == loaded.tail &&
	     fin.blocks == *blocks && memcmp(&fin.hdr, &loaded.hdr, sizeof fin.hdr) == 0;
	if (!ok)
		fprintf(stderr, "  read %s: rc %d, %zu frames in %zu blocks, want %zu\n", path, rc,
			total, *blocks, n);
	framefile_reader_close(r);
	free(lf);
	free(got);
	*info = opened;
	return ok;
}

/* The block reader delivers what framefile_load does, a block at a time. */
static void test_reader(void)
{
	size_t n = 2500, len, off[16], nb, blocks;
	struct pw_frame *f = sim_frames(n, SEQ0);
	const char *path = tmp_path("reader.frames"), *bad = tmp_path("reader-bad.frames");
	struct framefile_reader *r = (struct framefile_reader *)1;
	struct framefile_writer *w = NULL;
	struct framefile_info info, scan;
	const struct pw_frame *b;
	uint8_t *img = NULL;

	T_CHECK(f && write_file(path, f, n, 333, 2, BLOCKCODEC_PACK) == 0);
	if (!f)
		return;
	T_CHECK(reads_as(path, f, n, &info, &blocks));
	T_CHECK(framefile_scan(path, &scan) == 0 && memcmp(&info, &scan, sizeof info) == 0);
	T_CHECK(info.frames == n && info.tail == FRAMEFILE_TAIL_CLEAN && blocks == info.blocks);
	T_CHECK(blocks > 3); /* partial blocks from the syncs, full ones between */
	if (!V2) {
		T_CHECK(write_file(path, f, n, 1000, 0, BLOCKCODEC_RAW) == 0);
		T_CHECK(reads_as(path, f, n, &info, &blocks) && info.hdr.codec == BLOCKCODEC_RAW);
	}
	T_CHECK(write_file(path, f, 1, 1, 0, BLOCKCODEC_PACK) == 0);
	T_CHECK(reads_as(path, f, 1, &info, &blocks) && blocks == 1);

	/* torn: the complete blocks, then the scan's tail */
	T_CHECK(write_file(path, f, 500, 100, 1, BLOCKCODEC_PACK) == 0);
	img = read_all(path, &len);
	T_CHECK(img && block_offsets(img, len, off, 15) == 5);
	if (!img)
		goto out;
	T_CHECK(write_all(bad, img, len - 37) == 0);
	T_CHECK(reads_as(bad, f, 400, &info, &blocks) && info.tail == FRAMEFILE_TAIL_TORN);
	T_CHECK(info.dropped_bytes == len - 37 - off[4]);

	/* forged block 1 (valid CRC, invalid mode byte): scan passes it, reading stops there */
	forge_block(img, off[1]);
	T_CHECK(write_all(bad, img, len) == 0);
	T_CHECK(reads_as(bad, f, 100, &info, &blocks) && info.frames == 500);
	T_CHECK(framefile_reader_open(&r, bad, NULL) == 0 && r);
	if (r) {
		T_CHECK(framefile_reader_next(r, &b, &nb) == 1 && nb == 100);
		T_CHECK(framefile_reader_next(r, &b, &nb) == 0 && b == NULL && nb == 0);
		framefile_reader_info(r, &info);
		T_CHECK(info.tail == FRAMEFILE_TAIL_CORRUPT && info.valid_bytes == off[1]);
		T_CHECK(info.frames == 100 && info.dropped_bytes == len - off[1]);
		framefile_reader_close(r);
	}

	/* a snapshot: frames appended after the open are not delivered */
	T_CHECK(write_file(path, f, 300, 300, 0, BLOCKCODEC_PACK) == 0);
	T_CHECK(framefile_reader_open(&r, path, &info) == 0 && info.frames == 300);
	T_CHECK(framefile_open_append(&w, path, NULL) == 0);
	T_CHECK(w && framefile_append(w, f + 300, 200) == 0 && framefile_close(w) == 0);
	if (r) {
		T_CHECK(framefile_reader_next(r, &b, &nb) == 1 && nb == 300);
		T_CHECK(memcmp(b, f, 300 * sizeof *f) == 0);
		T_CHECK(framefile_reader_next(r, &b, &nb) == 0);
		framefile_reader_info(r, &info);
		T_CHECK(info.frames == 300 && info.tail == FRAMEFILE_TAIL_CLEAN);
		T_CHECK(info.dropped_bytes == 0);
		framefile_reader_close(r);
	}

	/* an empty run, a bad header, frames this build cannot decode, no file */
	unlink(path);
	{
		struct framefile_hdr h = make_hdr(BLOCKCODEC_PACK);

		T_CHECK(framefile_create(&w, path, &h) == 0 && framefile_close(w) == 0);
	}
	T_CHECK(reads_as(path, f, 0, &info, &blocks) && blocks == 0 && info.frames == 0);
	free(img);
	T_CHECK(write_file(path, f, 50, 50, 0, BLOCKCODEC_PACK) == 0);
	img = read_all(path, &len);
	if (!img)
		goto out;
	img[40] ^= 1;
	T_CHECK(write_all(bad, img, len) == 0);
	r = (struct framefile_reader *)1;
	T_CHECK(framefile_reader_open(&r, bad, &info) == -EPROTO && r == NULL);
	img[40] ^= 1;
	img[14] = FRAME_VERSION + 1;
	reseal_header(img);
	T_CHECK(write_all(bad, img, len) == 0);
	T_CHECK(framefile_scan(bad, &info) == 0);
	T_CHECK(framefile_reader_open(&r, bad, &info) == -EPROTO && r == NULL);
	T_CHECK(framefile_reader_open(&r, tmp_path("absent.frames"), &info) == -ENOENT);
	T_CHECK(framefile_reader_open(&r, tmpdir, &info) == -EINVAL); /* a directory */
	framefile_reader_close(NULL);
out:
	free(img);
	free(f);
}

/* Read the frames of [lo, hi] with a ranged reader into got (room for cap). */
static int range_read(const char *path, uint64_t lo, uint64_t hi, struct pw_frame *got, size_t cap,
		      size_t *n, size_t *calls, struct framefile_info *info)
{
	struct framefile_reader *r = NULL;
	const struct pw_frame *b;
	size_t nb;
	int rc = framefile_reader_open_range(&r, path, lo, hi, NULL);

	*n = *calls = 0;
	if (rc < 0)
		return rc;
	while ((rc = framefile_reader_next(r, &b, &nb)) == 1) {
		if (nb == 0 || *n + nb > cap || b[0].seq < lo || b[nb - 1].seq > hi) {
			rc = -EBADMSG;
			break;
		}
		memcpy(got + *n, b, nb * sizeof *b);
		*n += nb;
		(*calls)++;
	}
	if (rc == 0 && (framefile_reader_next(r, &b, &nb) != 0 || b || nb))
		rc = -EBADMSG; /* the end stays the end */
	framefile_reader_info(r, info);
	framefile_reader_close(r);
	return rc;
}

/* A ranged reader delivers exactly the frames of its seq range and skips
 * the blocks before it without reading their payload. */
static void test_reader_range(void)
{
	size_t n = 1000, got_n, calls, len, off[16];
	struct pw_frame *f = sim_frames(n, SEQ0), *got = calloc(n, sizeof *got);
	const char *path = tmp_path("range.frames"), *bad = tmp_path("range-bad.frames");
	struct framefile_reader *r = (struct framefile_reader *)1;
	struct framefile_info info;
	uint8_t *img = NULL;

	T_CHECK(f && got);
	if (!f || !got)
		goto out;
	for (size_t k = 500; k < n; k++) /* a gap of 50 seqs from frame 500 on */
		f[k].seq += 50;
	/* ten blocks of 100 frames */
	T_CHECK(write_file(path, f, n, 100, 1, BLOCKCODEC_PACK) == 0);
	T_CHECK(range_read(path, f[150].seq, f[349].seq, got, n, &got_n, &calls, &info) == 0);
	T_CHECK(got_n == 200 && calls == 3 && memcmp(got, f + 150, 200 * sizeof *f) == 0);
	T_CHECK(info.blocks == 4 && info.tail == FRAMEFILE_TAIL_CLEAN); /* 0..3 walked, 4 seen */
	/* the whole file, one frame, the gap, before and after every frame */
	T_CHECK(range_read(path, 0, UINT64_MAX, got, n, &got_n, &calls, &info) == 0);
	T_CHECK(got_n == n && calls == 10 && memcmp(got, f, n * sizeof *f) == 0);
	T_CHECK(info.blocks == 10 && info.frames == n && info.tail == FRAMEFILE_TAIL_CLEAN);
	T_CHECK(range_read(path, f[777].seq, f[777].seq, got, n, &got_n, &calls, &info) == 0);
	T_CHECK(got_n == 1 && memcmp(got, f + 777, sizeof *f) == 0);
	T_CHECK(range_read(path, f[499].seq + 1, f[500].seq - 1, got, n, &got_n, &calls, &info) ==
		0);
	T_CHECK(got_n == 0 && calls == 0);
	T_CHECK(range_read(path, 0, SEQ0 - 1, got, n, &got_n, &calls, &info) == 0 && got_n == 0);
	T_CHECK(info.blocks == 0);
	T_CHECK(range_read(path, f[n - 1].seq + 1, UINT64_MAX, got, n, &got_n, &calls, &info) == 0);
	T_CHECK(got_n == 0 && info.blocks == 10 && info.tail == FRAMEFILE_TAIL_CLEAN);
	T_CHECK(framefile_reader_open_range(&r, path, 10, 9, NULL) == -EINVAL && r == NULL);

	/* a damaged payload in block 1: unnoticed when skipped, the end when in the range */
	img = read_all(path, &len);
	T_CHECK(img && block_offsets(img, len, off, 15) == 10);
	if (!img)
		goto out;
	img[off[1] + blk_head(img, off[1]) + 7] ^= 0x40;
	T_CHECK(write_all(bad, img, len) == 0);
	T_CHECK(range_read(bad, f[500].seq, f[599].seq, got, n, &got_n, &calls, &info) == 0);
	T_CHECK(got_n == 100 && memcmp(got, f + 500, 100 * sizeof *f) == 0);
	T_CHECK(range_read(bad, f[150].seq, f[599].seq, got, n, &got_n, &calls, &info) == 0);
	T_CHECK(got_n == 0 && info.tail == FRAMEFILE_TAIL_CORRUPT && info.valid_bytes == off[1]);
	/* a torn tail: the complete blocks of the range */
	T_CHECK(write_all(bad, img, off[9] + 50) == 0);
	T_CHECK(range_read(bad, f[850].seq, UINT64_MAX, got, n, &got_n, &calls, &info) == 0);
	T_CHECK(got_n == 50 && memcmp(got, f + 850, 50 * sizeof *f) == 0);
	T_CHECK(info.tail == FRAMEFILE_TAIL_TORN);
	/* a bad header, no file */
	img[40] ^= 1;
	T_CHECK(write_all(bad, img, len) == 0);
	T_CHECK(framefile_reader_open_range(&r, bad, 0, 1, &info) == -EPROTO && r == NULL);
	T_CHECK(framefile_reader_open_range(&r, tmp_path("absent.frames"), 0, 1, &info) == -ENOENT);
out:
	free(img);
	free(got);
	free(f);
}

/* The container's tests once more on format 1 files. */
#define ON_V1(fn)                 \
	static void fn##_v1(void) \
	{                         \
		fmt_v = 1;        \
		fn();             \
		fmt_v = 2;        \
	}
ON_V1(test_round_trip_sim)
ON_V1(test_round_trip_real)
ON_V1(test_round_trip_extremes)
ON_V1(test_blocks_and_sync)
ON_V1(test_empty_run)
ON_V1(test_truncate_everywhere)
ON_V1(test_corrupt_middle)
ON_V1(test_forged_blocks)
ON_V1(test_bad_header)
ON_V1(test_create_rules)
ON_V1(test_garbage)
ON_V1(test_efbig_rlimit)
ON_V1(test_reader)
ON_V1(test_version1_files)
ON_V1(test_reader_range)
#undef ON_V1

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/pw-test-framefile-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_crc32c);
	T_RUN(test_layout_v1);
	T_RUN(test_layout_v2);
	/* the container, format 2 */
	T_RUN(test_round_trip_sim);
	T_RUN(test_round_trip_real);
	T_RUN(test_large_load);
	T_RUN(test_round_trip_extremes);
	T_RUN(test_blocks_and_sync);
	T_RUN(test_empty_run);
	T_RUN(test_truncate_everywhere);
	T_RUN(test_corrupt_middle);
	T_RUN(test_forged_blocks);
	T_RUN(test_bad_header);
	T_RUN(test_create_rules);
	T_RUN(test_garbage);
	T_RUN(test_enospc_tmpfs);
	T_RUN(test_efbig_rlimit);
	T_RUN(test_reader);
	T_RUN(test_version1_files);
	T_RUN(test_reader_range);
	/* the same, format 1 */
	T_RUN(test_round_trip_sim_v1);
	T_RUN(test_round_trip_real_v1);
	T_RUN(test_round_trip_extremes_v1);
	T_RUN(test_blocks_and_sync_v1);
	T_RUN(test_empty_run_v1);
	T_RUN(test_truncate_everywhere_v1);
	T_RUN(test_corrupt_middle_v1);
	T_RUN(test_forged_blocks_v1);
	T_RUN(test_bad_header_v1);
	T_RUN(test_create_rules_v1);
	T_RUN(test_garbage_v1);
	T_RUN(test_efbig_rlimit_v1);
	T_RUN(test_reader_v1);
	T_RUN(test_version1_files_v1);
	T_RUN(test_reader_range_v1);
	/* format 2 alone */
	T_RUN(test_columns);
	T_RUN(test_column_ranges);
	T_RUN(test_selective_reads);
	T_RUN(test_extract);
	T_RUN(test_own_layout);
	T_RUN(test_old_writers);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return T_DONE();
}
