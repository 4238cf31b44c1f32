/*
 * test_blockcodec.c - the block codecs (common/blockcodec.h) on their own:
 * RAW and PACK round trips at the group boundaries (1, 2, 32, 33, 34 frames)
 * and up to the largest block, the payload sizes the header promises, the
 * seq rule, malformed payloads, and the plausibility bounds readers apply
 * before decoding; format 2's layouts and column chunks (COLS): every chunk
 * of simulated, random and edge-case frames back byte for byte at every
 * group boundary, constant and zero chunks, the float order map across
 * zero, the sign-low map of floats hovering around zero, zstd chunks,
 * layouts refused, and garbage chunks. The container
 * around the payloads is test_framefile.c's.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "common/blockcodec.h"
#include "common/framefile.h"
#include "t.h"
#include "t_frames.h"

#define SEQ0 7000
#define PACK_HEAD (91 + FRAME_SIZE) /* mode bytes + first frame */
#define PACK_GROUP_MIN (91 * 2)     /* every column: width 0, base delta 0 */
#define PACK_GROUP_MAX (91 * (1 + 10 + 32 * 8))

static size_t groups(size_t n)
{
	return (n - 1 + 31) / 32;
}

/* Encode f[0..n) with codec and decode it back; 1 when every byte returns. */
static int round_trip(unsigned codec, const struct pw_frame *f, size_t n, size_t *len_out)
{
	struct blockcodec_enc *e = blockcodec_enc_new(codec);
	struct blockcodec_dec *d = blockcodec_dec_new(codec);
	uint8_t *buf = malloc(blockcodec_encode_cap(n));
	struct pw_frame *back = malloc(n * sizeof *back);
	size_t len = 0;
	int ok = e && d && buf && back;

	if (ok) {
		len = blockcodec_encode(e, f, n, buf);
		ok = len <= blockcodec_encode_cap(n) - 8 && blockcodec_payload_plausible(len, n) &&
		     blockcodec_decode(d, buf, len, n, f[0].seq, f[n - 1].seq, back) == 0 &&
		     memcmp(back, f, n * sizeof *f) == 0;
	}
	if (!ok)
		fprintf(stderr, "  codec %u, %zu frames: payload %zu bytes does not round-trip\n",
			codec, n, len);
	*len_out = len;
	blockcodec_enc_free(e);
	blockcodec_dec_free(d);
	free(buf);
	free(back);
	return ok;
}

/* --- tests --- */

static void test_round_trips(void)
{
	static const size_t sizes[] = {
		1, 2, 32, 33, 34, 65, 1000, FRAMEFILE_BLOCK_FRAMES, FRAMEFILE_BLOCK_MAX_FRAMES
	};
	size_t nmax = FRAMEFILE_BLOCK_MAX_FRAMES, len;
	struct pw_frame *sim = t_sim_frames(nmax, 11, SEQ0), *rand = t_random_frames(nmax);

	T_CHECK(sim && rand);
	if (!sim || !rand)
		goto out;
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		size_t n = sizes[i];

		T_CHECK(round_trip(BLOCKCODEC_RAW, sim, n, &len) && len == n * FRAME_SIZE);
		T_CHECK(round_trip(BLOCKCODEC_RAW, rand, n, &len) && len == n * FRAME_SIZE);
		T_CHECK(round_trip(BLOCKCODEC_PACK, sim, n, &len));
		T_CHECKF(n < 1000 || len < n * FRAME_SIZE / 3, "sim %zu frames: %zu bytes", n, len);
		T_CHECK(round_trip(BLOCKCODEC_PACK, rand, n, &len));
		T_CHECK(len <= PACK_HEAD + groups(n) * PACK_GROUP_MAX);
	}
	/* one frame is the mode bytes and the frame as it is */
	T_CHECK(round_trip(BLOCKCODEC_PACK, sim, 1, &len) && len == PACK_HEAD);
	/* frames that differ only in seq, by steps of 1: the smallest payload, every
	 * column of every group 2 bytes */
	for (size_t k = 1; k < 64; k++) {
		sim[k] = sim[0];
		sim[k].seq = sim[0].seq + k;
	}
	T_CHECK(round_trip(BLOCKCODEC_PACK, sim, 64, &len) &&
		len == PACK_HEAD + 2 * PACK_GROUP_MIN);
out:
	free(sim);
	free(rand);
}

/* Only some channels: the frame heads and those channels' bytes come back
 * exactly (wheel arrays code against their left neighbour column, which is
 * then decoded too); everything again after dec_only(0). */
static void test_only(void)
{
	static const uint64_t masks[] = {
		FRAME_P_SPEED | FRAME_P_POS,
		FRAME_P_TYRE_TEMP,
		FRAME_P_TYRE_WEAR | FRAME_P_GEAR,
		FRAME_P_SUSP_TRAVEL | FRAME_P_LAP_TIME | FRAME_P_SPLINE,
		FRAME_P_BRAKE_TEMP,
	};
	size_t n = 1000, len;
	struct pw_frame *sets[2] = { t_sim_frames(n, 12, SEQ0), t_random_frames(n) };
	struct pw_frame *back = malloc(n * sizeof *back);
	struct blockcodec_enc *e = blockcodec_enc_new(BLOCKCODEC_PACK);
	struct blockcodec_dec *d = blockcodec_dec_new(BLOCKCODEC_PACK);
	uint8_t *buf = malloc(blockcodec_encode_cap(n));

	T_CHECK(sets[0] && sets[1] && back && e && d && buf);
	if (!sets[0] || !sets[1] || !back || !e || !d || !buf)
		goto out;
	for (int s = 0; s < 2; s++) {
		const struct pw_frame *f = sets[s];

		len = blockcodec_encode(e, f, n, buf);
		for (size_t m = 0; m < sizeof masks / sizeof *masks; m++) {
			int same = 1;

			blockcodec_dec_only(d, masks[m]);
			T_CHECK(blockcodec_decode(d, buf, len, n, f[0].seq, f[n - 1].seq, back) ==
				0);
			for (size_t k = 0; k < n; k++) {
				same &= memcmp(&back[k], &f[k], BLOCKCODEC_HEAD_BYTES) == 0;
				for (unsigned b = 0; b < FRAME_P_COUNT; b++)
					if (masks[m] >> b & 1)
						same &= memcmp((const char *)&back[k] +
								       frame_channels[b].off,
							       (const char *)&f[k] +
								       frame_channels[b].off,
							       frame_channels[b].size) == 0;
			}
			T_CHECKF(same, "%s frames, mask %zu", s ? "random" : "sim", m);
			/* a payload cut short is refused as ever */
			T_CHECK(blockcodec_decode(d, buf, len - 1, n, f[0].seq, f[n - 1].seq,
						  back) == -EBADMSG);
		}
		blockcodec_dec_only(d, 0);
		T_CHECK(blockcodec_decode(d, buf, len, n, f[0].seq, f[n - 1].seq, back) == 0 &&
			memcmp(back, f, n * sizeof *f) == 0);
	}
out:
	blockcodec_enc_free(e);
	blockcodec_dec_free(d);
	free(buf);
	free(back);
	free(sets[0]);
	free(sets[1]);
}

/* A payload decodes only to the seqs and the frame count the header promises. */
static void test_decode_rules(void)
{
	size_t n = 100;
	struct pw_frame *f = t_sim_frames(n, 11, SEQ0), *back = malloc(n * sizeof *back);
	uint8_t *buf = malloc(blockcodec_encode_cap(n));
	uint64_t first = SEQ0, last = SEQ0 + n - 1;

	T_CHECK(f && back && buf);
	if (!f || !back || !buf)
		goto out;
	for (unsigned codec = 0; codec < BLOCKCODEC_COLS; codec++) {
		struct blockcodec_enc *e = blockcodec_enc_new(codec);
		struct blockcodec_dec *d = blockcodec_dec_new(codec);
		size_t len = e ? blockcodec_encode(e, f, n, buf) : 0;

		T_CHECK(e && d);
		if (!e || !d) {
			blockcodec_enc_free(e);
			blockcodec_dec_free(d);
			continue;
		}
		T_CHECK(blockcodec_decode(d, buf, len, n, first, last, back) == 0);
		T_CHECK(blockcodec_decode(d, buf, len, n, first + 1, last, back) == -EBADMSG);
		T_CHECK(blockcodec_decode(d, buf, len, n, first, last + 1, back) == -EBADMSG);
		T_CHECK(blockcodec_decode(d, buf, len, n, first, last - 1, back) == -EBADMSG);
		T_CHECK(blockcodec_decode(d, buf, len - 1, n, first, last, back) == -EBADMSG);
		T_CHECK(blockcodec_decode(d, buf, len, n - 1, first, last, back) == -EBADMSG);
		T_CHECK(blockcodec_decode(d, buf, len, 0, first, last, back) == -EBADMSG);
		/* frames whose seqs do not increase */
		f[50].seq = f[49].seq;
		len = blockcodec_encode(e, f, n, buf);
		T_CHECK(blockcodec_decode(d, buf, len, n, first, last, back) == -EBADMSG);
		f[50].seq = SEQ0 + 50;
		/* the state is reusable after an error */
		len = blockcodec_encode(e, f, n, buf);
		T_CHECK(blockcodec_decode(d, buf, len, n, first, last, back) == 0);
		T_CHECK(memcmp(back, f, n * sizeof *f) == 0);
		if (codec == BLOCKCODEC_PACK) {
			buf[0] = 6; /* no such mode */
			T_CHECK(blockcodec_decode(d, buf, len, n, first, last, back) == -EBADMSG);
			buf[0] = 4; /* column 0 has no left neighbour */
			T_CHECK(blockcodec_decode(d, buf, len, n, first, last, back) == -EBADMSG);
		}
		blockcodec_enc_free(e);
		blockcodec_dec_free(d);
	}
out:
	free(f);
	free(back);
	free(buf);
}

/* Any bytes are safe to decode (a forged block carries a valid CRC). */
static void test_garbage(void)
{
	size_t n = 70, len = PACK_HEAD + groups(n) * PACK_GROUP_MAX;
	struct blockcodec_dec *d = blockcodec_dec_new(BLOCKCODEC_PACK);
	uint8_t *buf = malloc(len);
	struct pw_frame *back = malloc(n * sizeof *back);
	uint64_t first;
	int ok = 0;

	T_CHECK(d && buf && back);
	for (int round = 0; d && buf && back && round < 2000; round++) {
		size_t l = t_rnd() % len, cnt;

		for (size_t i = 0; i < l; i++)
			buf[i] = (uint8_t)t_rnd();
		for (size_t i = 0; i < 91 && i < l; i++)
			buf[i] =
				(uint8_t)(t_rnd() % 4); /* valid modes, so the groups are reached */
		if (l >= PACK_HEAD)
			memcpy(&first, buf + 91, 8); /* the first frame's seq: on to the groups */
		else
			first = t_rnd();
		cnt = 1 + t_rnd() % n;
		ok += blockcodec_decode(d, buf, l, cnt, first, t_rnd(), back) == -EBADMSG;
	}
	T_CHECKF(ok == 2000, "%d of 2000 garbage payloads refused", ok);
	blockcodec_dec_free(d);
	free(buf);
	free(back);
}

static void test_sizes_and_states(void)
{
	for (size_t n = 1; n <= FRAMEFILE_BLOCK_MAX_FRAMES; n += 1 + n / 3) {
		size_t min = PACK_HEAD + groups(n) * PACK_GROUP_MIN;
		size_t max = PACK_HEAD + groups(n) * PACK_GROUP_MAX, raw = n * FRAME_SIZE;

		T_CHECK(blockcodec_encode_cap(n) == (max > raw ? max : raw) + 8);
		T_CHECK(blockcodec_payload_plausible(raw, n));
		T_CHECK(blockcodec_payload_plausible(min, n));
		T_CHECK(blockcodec_payload_plausible(max, n));
		T_CHECK(min - 1 == raw || !blockcodec_payload_plausible(min - 1, n));
		T_CHECK(max + 1 == raw || !blockcodec_payload_plausible(max + 1, n));
	}
	T_CHECK(!blockcodec_payload_plausible(0, 1));
	T_CHECK(blockcodec_enc_new(BLOCKCODEC_COUNT) == NULL);
	T_CHECK(blockcodec_dec_new(BLOCKCODEC_COUNT) == NULL);
	blockcodec_enc_free(NULL);
	blockcodec_dec_free(NULL);
}

/* --- COLS --- */

/* Encode every chunk of f[0..n) and decode it into zeroed frames; 1 when
 * every byte returns. *bytes gets the stored total, *stored the chunks kept. */
static int cols_round_trip(const struct blockcodec_layout *l, const struct pw_frame *f, size_t n,
			   size_t *bytes, unsigned *stored)
{
	struct blockcodec_enc *e = blockcodec_enc_new(BLOCKCODEC_COLS);
	struct blockcodec_dec *d = blockcodec_dec_new(BLOCKCODEC_COLS);
	struct pw_frame *back = calloc(n, sizeof *back);
	uint8_t *buf = malloc(1 << 20);
	int ok = e && d && back && buf;

	*bytes = 0;
	*stored = 0;
	for (unsigned k = 0; ok && k < l->nchunks; k++) {
		const struct blockcodec_chunk *ch = &l->chunk[k];
		uint8_t *dst[BLOCKCODEC_MAX_COLS];
		size_t stride[BLOCKCODEC_MAX_COLS], len;

		len = blockcodec_chunk_encode(e, l, k, f, n, buf);
		ok = len <= blockcodec_chunk_cap(l, k, n);
		if (!len)
			continue; /* zero in every frame: back stays zero */
		*bytes += len;
		(*stored)++;
		for (unsigned j = 0; j < ch->ncols; j++) {
			dst[j] = (uint8_t *)back + l->col[ch->first + j].off;
			stride[j] = FRAME_SIZE;
		}
		ok = ok && blockcodec_chunk_decode(d, l, k, buf, len, n, dst, stride) == 0;
		/* one byte short is refused (a constant chunk holds any number of rows) */
		ok = ok &&
		     blockcodec_chunk_decode(d, l, k, buf, len - 1, n, dst, stride) == -EBADMSG;
		if (ok)
			blockcodec_chunk_decode(d, l, k, buf, len, n, dst, stride);
	}
	ok = ok && memcmp(back, f, n * sizeof *f) == 0;
	blockcodec_enc_free(e);
	blockcodec_dec_free(d);
	free(back);
	free(buf);
	return ok;
}

static void test_layouts(void)
{
	struct blockcodec_layout l, m;
	uint8_t buf[BLOCKCODEC_LAYOUT_MAX], bad[BLOCKCODEC_LAYOUT_MAX];
	uint8_t covered[FRAME_SIZE] = { 0 };
	size_t len;

	blockcodec_layout_default(&l);
	T_CHECK(l.nchunks <= BLOCKCODEC_MAX_CHUNKS && l.ncols <= BLOCKCODEC_MAX_COLS);
	/* every byte of the frame in exactly one column */
	for (unsigned i = 0; i < l.ncols; i++)
		for (unsigned b = 0; b < l.col[i].width; b++)
			covered[l.col[i].off + b]++;
	for (unsigned b = 0; b < FRAME_SIZE; b++)
		T_CHECKF(covered[b] == 1, "byte %u in %u columns", b, covered[b]);
	/* a chunk per channel, its columns the channel's values */
	for (unsigned c = 0; c < FRAME_P_COUNT; c++) {
		int k = blockcodec_layout_find(&l, c);

		T_CHECK(k >= 0);
		if (k < 0)
			continue;
		T_CHECK(l.chunk[k].ncols == frame_channels[c].n);
		T_CHECK(l.col[l.chunk[k].first].off == frame_channels[c].off);
	}
	T_CHECK(blockcodec_layout_find(&l, BLOCKCODEC_SEQ) == 0);
	T_CHECK(blockcodec_layout_find(&l, BLOCKCODEC_REST) == (int)l.nchunks - 1);
	T_CHECK(blockcodec_layout_find(&l, 0x7f) == -1);
	len = blockcodec_layout_dump(&l, buf);
	T_CHECK(len == 4 + 2 * l.nchunks + 4 * l.ncols && len <= sizeof buf);
	T_CHECK(blockcodec_layout_load(&m, buf, len) == 0 && memcmp(&l, &m, sizeof l) == 0);
	/* refused: short, a column twice, a byte left out, a bad width, a float
	 * byte, two chunks with one id, a channel id past the table */
	T_CHECK(blockcodec_layout_load(&m, buf, len - 1) == -EPROTO);
	T_CHECK(blockcodec_layout_load(&m, buf, 3) == -EPROTO);
	memcpy(bad, buf, len);
	memcpy(bad + len - 4, bad + len - 8, 4);
	T_CHECK(blockcodec_layout_load(&m, bad, len) == -EPROTO);
	memcpy(bad, buf, len);
	bad[len - 2] = 3;
	T_CHECK(blockcodec_layout_load(&m, bad, len) == -EPROTO);
	memcpy(bad, buf, len);
	bad[4 + 2 * l.nchunks + 4 * 6 + 3] = BLOCKCODEC_COL_FLOAT; /* game: 1 byte */
	T_CHECK(blockcodec_layout_load(&m, bad, len) == -EPROTO);
	memcpy(bad, buf, len);
	bad[4 + 2] = bad[4];
	T_CHECK(blockcodec_layout_load(&m, bad, len) == -EPROTO);
	memcpy(bad, buf, len);
	bad[4 + 2 * 7] = 0x7e;
	T_CHECK(blockcodec_layout_load(&m, bad, len) == -EPROTO);
	memcpy(bad, buf, len);
	bad[5] = (uint8_t)(bad[5] + 1); /* the chunks claim one column more than there are */
	T_CHECK(blockcodec_layout_load(&m, bad, len) == -EPROTO);
}

static void test_cols_round_trips(void)
{
	static const size_t sizes[] = { 1, 2, 3, 32, 33, 34, 65, 333, 1024, BLOCKCODEC_MAX_ROWS };
	size_t nmax = BLOCKCODEC_MAX_ROWS, bytes;
	struct pw_frame *sim = t_sim_frames(nmax, 11, SEQ0), *rand = t_random_frames(nmax);
	struct pw_frame *edge = calloc(nmax, sizeof *edge);
	struct blockcodec_layout l;
	unsigned stored;

	blockcodec_layout_default(&l);
	T_CHECK(sim && rand && edge);
	if (!sim || !rand || !edge)
		goto out;
	for (size_t i = 0; i < nmax; i++) {
		/* floats around and across zero, -0, NaN bits, integers as floats,
		 * steps at 2^k, a wrapping counter, a signed byte */
		edge[i].seq = SEQ0 + i;
		edge[i].t_ns = INT64_MAX - (int64_t)(nmax - i) * 3;
		edge[i].speed_kmh = (float)((int)(i % 301) - 150);
		edge[i].rpm = i % 64 < 32 ? -0.0f : 0.0f;
		memcpy(&edge[i].steer, &(uint32_t){ 0x7fc00000u + (uint32_t)(i & 7) }, 4);
		edge[i].accel_lat_g = (float)sin((double)i * 0.01) * 1e-3f;
		edge[i].game_time_s = -1e6 + (double)i * 0.003;
		edge[i].lap = (uint16_t)(65530 + i);
		edge[i].gear = (int8_t)(i % 9) - 1;
		edge[i].lap_time_ms = (int32_t)(i << 20);
		for (int w = 0; w < 4; w++)
			edge[i].tyre_temp_c[w] = (float)(80 + (i >> 5) + w);
	}
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		size_t n = sizes[i];

		T_CHECKF(cols_round_trip(&l, sim, n, &bytes, &stored), "sim %zu", n);
		T_CHECKF(n < 333 || bytes < n * 100, "sim %zu frames: %zu bytes", n, bytes);
		T_CHECKF(cols_round_trip(&l, rand, n, &bytes, &stored), "random %zu", n);
		T_CHECK(stored == l.nchunks); /* random bytes everywhere */
		T_CHECKF(cols_round_trip(&l, edge, n, &bytes, &stored), "edge %zu", n);
	}
	/* only seq differs: every other chunk constant, absent channels not stored */
	memset(edge, 0, nmax * sizeof *edge);
	for (size_t i = 0; i < 1000; i++) {
		edge[i].seq = 1 + i;
		edge[i].speed_kmh = 100.0f;
	}
	T_CHECK(cols_round_trip(&l, edge, 1000, &bytes, &stored) && stored == 2);
	T_CHECKF(bytes < 200, "%zu bytes", bytes);
	/* a frame of zeros stores nothing at all */
	T_CHECK(cols_round_trip(&l, edge + 2000, 1, &bytes, &stored) && stored == 0 && bytes == 0);
out:
	free(sim);
	free(rand);
	free(edge);
}

/*
 * One encoder through many blocks: a chunk whose zstd form was not kept (or
 * that was hopeless) waits 1, 3, then 7 blocks before it is tried again, and
 * a kept form ends the wait. t_ns here: random (hopeless) for 3 blocks, then
 * 4 values in turn (zstd keeps it: a fresh encoder's first try does); every
 * block comes back bit for bit.
 */
static void test_cols_zstd_wait(void)
{
	enum { N = 512 };
	struct pw_frame *f = calloc(N, sizeof *f), *back = calloc(N, sizeof *back);
	struct blockcodec_enc *e = blockcodec_enc_new(BLOCKCODEC_COLS),
			      *fresh = blockcodec_enc_new(BLOCKCODEC_COLS);
	struct blockcodec_dec *d = blockcodec_dec_new(BLOCKCODEC_COLS);
	uint8_t *buf = malloc(1 << 20);
	struct blockcodec_layout l;
	int k, zstd[16];
	uint64_t x = 99;
	uint8_t *dst[1];
	size_t stride[1] = { FRAME_SIZE }, len;

	blockcodec_layout_default(&l);
	k = blockcodec_layout_find(&l, BLOCKCODEC_T_NS);
	T_CHECK(f && back && e && fresh && d && buf && k >= 0);
	if (!f || !back || !e || !fresh || !d || !buf || k < 0)
		goto out;
	dst[0] = (uint8_t *)back + offsetof(struct pw_frame, t_ns);
	for (int b = 0; b < 16; b++) {
		for (size_t i = 0; i < N; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			f[i].t_ns = b < 3 ? (int64_t)(x >> 1)
					  : (int64_t)(0x0123456789abcdefull * (i % 4 + 1) >> 3);
		}
		len = blockcodec_chunk_encode(e, &l, (unsigned)k, f, N, buf);
		T_CHECK(len > 0 &&
			blockcodec_chunk_decode(d, &l, (unsigned)k, buf, len, N, dst, stride) == 0);
		for (size_t i = 0; i < N; i++)
			T_CHECK(back[i].t_ns == f[i].t_ns);
		zstd[b] = len > 0 && buf[0] == 1;
	}
	/* block 0 tried (hopeless: waits 1), 1 waits, 2 tried (hopeless: waits 3),
	 * 3..5 wait although zstd would keep them, 6 tried and kept, and from then on */
	T_CHECK(!zstd[0] && !zstd[1] && !zstd[2]);
	T_CHECK(!zstd[3] && !zstd[4] && !zstd[5]);
	T_CHECK(zstd[6] && zstd[7] && zstd[15]);
	len = blockcodec_chunk_encode(fresh, &l, (unsigned)k, f, N, buf);
	T_CHECK(len > 0 && buf[0] == 1); /* a fresh encoder keeps block 3's form at once */
out:
	blockcodec_enc_free(e);
	blockcodec_enc_free(fresh);
	blockcodec_dec_free(d);
	free(buf);
	free(f);
	free(back);
}

/*
 * Floats hovering around zero are coded in the sign-low map (mode bit 0x20):
 * noise across zero with -0, denormals, infinities and signed NaNs comes
 * back bit for bit, costs well under the 32 bits a value the order map
 * needs, and the map bit is refused on a column that is not a float.
 */
static void test_cols_sign_low(void)
{
	size_t n = 333, len, bytes;
	struct pw_frame *f = calloc(n, sizeof *f), *back = calloc(n, sizeof *back);
	struct blockcodec_layout l;
	struct blockcodec_enc *e = blockcodec_enc_new(BLOCKCODEC_COLS);
	struct blockcodec_dec *d = blockcodec_dec_new(BLOCKCODEC_COLS);
	uint8_t *buf = malloc(1 << 16);
	unsigned stored;
	int k, ki;

	blockcodec_layout_default(&l);
	k = blockcodec_layout_find(&l, FRAME_CH_ACCEL_LAT);
	ki = blockcodec_layout_find(&l, FRAME_CH_LAP_TIME);
	T_CHECK(f && back && e && d && buf && k >= 0 && ki >= 0);
	if (!f || !back || !e || !d || !buf || k < 0 || ki < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		f[i].seq = SEQ0 + i;
		f[i].accel_lat_g = (float)((double)(t_rnd() % 2000001) / 1e8 - 0.01);
		f[i].game_time_s = (double)(t_rnd() % 2000001) / 1e12 - 1e-6;
		f[i].lap_time_ms = (int32_t)(t_rnd() % 1000);
		f[i].vel_ms[0] = (float)sin((double)i * 0.1) * 1e-3f;
	}
	f[10].accel_lat_g = -0.0f;
	f[11].accel_lat_g = 0.0f;
	f[12].accel_lat_g = 1e-42f; /* denormal */
	f[13].accel_lat_g = -1e-42f;
	f[14].accel_lat_g = INFINITY;
	f[15].accel_lat_g = -INFINITY;
	memcpy(&f[16].accel_lat_g, &(uint32_t){ 0xffc00001u }, 4); /* a negative NaN */
	memcpy(&f[17].accel_lat_g, &(uint32_t){ 0x7fc00003u }, 4);
	f[20].game_time_s = -0.0;
	f[21].game_time_s = -INFINITY;
	T_CHECK(cols_round_trip(&l, f, n, &bytes, &stored));
	len = blockcodec_chunk_encode(e, &l, (unsigned)k, f, n, buf);
	/* packed (noise gains nothing from zstd), one column in the sign-low map */
	T_CHECKF(len > 2 && buf[0] == 0 && (buf[1] & 0x20), "len %zu enc %u mode %#x", len, buf[0],
		 buf[1]);
	T_CHECKF(len < n * 29 / 8, "%zu bytes for %zu values", len, n);
	{
		uint8_t *dst[1] = { (uint8_t *)back + l.col[l.chunk[k].first].off };
		size_t stride[1] = { FRAME_SIZE };
		int same = 1;

		T_CHECK(blockcodec_chunk_decode(d, &l, (unsigned)k, buf, len, n, dst, stride) == 0);
		for (size_t i = 0; i < n; i++)
			same &= memcmp(&back[i].accel_lat_g, &f[i].accel_lat_g, 4) == 0;
		T_CHECK(same);
		/* the same column coded in order (no map bit) decodes to other values */
		buf[1] &= (uint8_t)~0x20;
		T_CHECK(blockcodec_chunk_decode(d, &l, (unsigned)k, buf, len, n, dst, stride) !=
				0 ||
			memcmp(&back[100].accel_lat_g, &f[100].accel_lat_g, 4) != 0);
	}
	/* an integer column with the map bit is malformed */
	len = blockcodec_chunk_encode(e, &l, (unsigned)ki, f, n, buf);
	T_CHECK(len > 2 && buf[0] == 0 && !(buf[1] & 0x20) && buf[1] != 0x80);
	{
		uint8_t *dst[1] = { (uint8_t *)back + l.col[l.chunk[ki].first].off };
		size_t stride[1] = { FRAME_SIZE };

		T_CHECK(blockcodec_chunk_decode(d, &l, (unsigned)ki, buf, len, n, dst, stride) ==
			0);
		buf[1] |= 0x20;
		T_CHECK(blockcodec_chunk_decode(d, &l, (unsigned)ki, buf, len, n, dst, stride) ==
			-EBADMSG);
	}
out:
	blockcodec_enc_free(e);
	blockcodec_dec_free(d);
	free(buf);
	free(f);
	free(back);
}

/* Decoding into a selection: a NULL destination is skipped, the others land
 * where their strides say (a column array). */
static void test_cols_strides(void)
{
	size_t n = 500, len;
	struct pw_frame *f = t_sim_frames(n, 3, SEQ0);
	struct blockcodec_layout l;
	struct blockcodec_enc *e = blockcodec_enc_new(BLOCKCODEC_COLS);
	struct blockcodec_dec *d = blockcodec_dec_new(BLOCKCODEC_COLS);
	uint8_t *buf = malloc(1 << 20);
	float *wheels = calloc(n * 4, sizeof *wheels);
	int k, ok = 1;

	blockcodec_layout_default(&l);
	k = blockcodec_layout_find(&l, FRAME_CH_TYRE_TEMP);
	T_CHECK(f && e && d && buf && wheels && k >= 0);
	if (!f || !e || !d || !buf || !wheels || k < 0)
		goto out;
	len = blockcodec_chunk_encode(e, &l, (unsigned)k, f, n, buf);
	{
		uint8_t *dst[4] = { (uint8_t *)wheels, NULL, (uint8_t *)(wheels + 2), NULL };
		size_t stride[4] = { 16, 0, 16, 0 };

		T_CHECK(blockcodec_chunk_decode(d, &l, (unsigned)k, buf, len, n, dst, stride) == 0);
	}
	for (size_t i = 0; i < n; i++)
		ok &= wheels[4 * i] == f[i].tyre_temp_c[0] && wheels[4 * i + 1] == 0.0f &&
		      wheels[4 * i + 2] == f[i].tyre_temp_c[2] && wheels[4 * i + 3] == 0.0f;
	T_CHECK(ok);
	/* a PACK state has no chunks; a COLS state no whole blocks */
	{
		struct blockcodec_dec *p = blockcodec_dec_new(BLOCKCODEC_PACK);
		uint8_t *dst[4] = { 0 };
		size_t stride[4] = { 0 };

		T_CHECK(p && blockcodec_chunk_decode(p, &l, (unsigned)k, buf, len, n, dst,
						     stride) == -EBADMSG);
		T_CHECK(blockcodec_decode(d, buf, len, n, f[0].seq, f[n - 1].seq, f) == -EBADMSG);
		T_CHECK(blockcodec_encode(e, f, n, buf) == 0);
		blockcodec_dec_free(p);
	}
out:
	blockcodec_enc_free(e);
	blockcodec_dec_free(d);
	free(buf);
	free(wheels);
	free(f);
}

/* Any bytes are safe to decode as any chunk (a forged chunk carries valid CRCs). */
static void test_cols_garbage(void)
{
	size_t n = 70, cap = 1 << 16;
	struct blockcodec_layout l;
	struct blockcodec_dec *d = blockcodec_dec_new(BLOCKCODEC_COLS);
	struct blockcodec_enc *e = blockcodec_enc_new(BLOCKCODEC_COLS);
	struct pw_frame *f = t_sim_frames(n, 5, SEQ0), *back = calloc(n, sizeof *back);
	uint8_t *buf = malloc(cap), *good = malloc(cap);
	int refused = 0, rounds = 0;

	blockcodec_layout_default(&l);
	T_CHECK(d && e && f && back && buf && good);
	for (int round = 0; d && e && f && back && buf && good && round < 4000; round++) {
		unsigned k = (unsigned)(t_rnd() % l.nchunks);
		const struct blockcodec_chunk *ch = &l.chunk[k];
		uint8_t *dst[BLOCKCODEC_MAX_COLS];
		size_t stride[BLOCKCODEC_MAX_COLS], len;
		int rc;

		for (unsigned j = 0; j < ch->ncols; j++) {
			dst[j] = (uint8_t *)back + l.col[ch->first + j].off;
			stride[j] = FRAME_SIZE;
		}
		if (round % 2) { /* random bytes */
			len = t_rnd() % 600;
			for (size_t i = 0; i < len; i++)
				buf[i] = (uint8_t)t_rnd();
		} else { /* a real chunk, a few bytes damaged */
			len = blockcodec_chunk_encode(e, &l, k, f, n, good);
			if (!len)
				continue;
			memcpy(buf, good, len);
			for (int x = 0; x < 3; x++)
				buf[t_rnd() % len] ^= (uint8_t)(1 + t_rnd() % 255);
		}
		rc = blockcodec_chunk_decode(d, &l, k, buf, len, n, dst, stride);
		T_CHECK(rc == 0 || rc == -EBADMSG);
		refused += rc == -EBADMSG;
		rounds++;
	}
	T_CHECKF(refused > rounds / 2, "%d of %d refused", refused, rounds);
	blockcodec_dec_free(d);
	blockcodec_enc_free(e);
	free(f);
	free(back);
	free(buf);
	free(good);
}

int main(void)
{
	T_RUN(test_round_trips);
	T_RUN(test_only);
	T_RUN(test_decode_rules);
	T_RUN(test_garbage);
	T_RUN(test_sizes_and_states);
	T_RUN(test_layouts);
	T_RUN(test_cols_round_trips);
	T_RUN(test_cols_zstd_wait);
	T_RUN(test_cols_sign_low);
	T_RUN(test_cols_strides);
	T_RUN(test_cols_garbage);
	return T_DONE();
}
