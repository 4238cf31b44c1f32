/*
 * test_blockcodec.c - the block codecs (common/blockcodec.h) on their own:
 * RAW and PACK round trips at the group boundaries (1, 2, 32, 33, 34 frames)
 * and up to the largest block, the payload sizes the header promises, the
 * seq rule, malformed payloads, and the plausibility bounds readers apply
 * before decoding. The container around the payloads is test_framefile.c's.
 */
#include <errno.h>
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
	static const size_t sizes[] = { 1, 2, 32, 33, 34, 65, 1000, FRAMEFILE_BLOCK_FRAMES,
					FRAMEFILE_BLOCK_MAX_FRAMES };
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
	T_CHECK(round_trip(BLOCKCODEC_PACK, sim, 64, &len) && len == PACK_HEAD + 2 * PACK_GROUP_MIN);
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
		FRAME_P_SPEED | FRAME_P_POS, FRAME_P_TYRE_TEMP, FRAME_P_TYRE_WEAR | FRAME_P_GEAR,
		FRAME_P_SUSP_TRAVEL | FRAME_P_LAP_TIME | FRAME_P_SPLINE, FRAME_P_BRAKE_TEMP,
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
			T_CHECK(blockcodec_decode(d, buf, len, n, f[0].seq, f[n - 1].seq, back) == 0);
			for (size_t k = 0; k < n; k++) {
				same &= memcmp(&back[k], &f[k], BLOCKCODEC_HEAD_BYTES) == 0;
				for (unsigned b = 0; b < FRAME_P_COUNT; b++)
					if (masks[m] >> b & 1)
						same &= memcmp((const char *)&back[k] + frame_channels[b].off,
							       (const char *)&f[k] + frame_channels[b].off,
							       frame_channels[b].size) == 0;
			}
			T_CHECKF(same, "%s frames, mask %zu", s ? "random" : "sim", m);
			/* a payload cut short is refused as ever */
			T_CHECK(blockcodec_decode(d, buf, len - 1, n, f[0].seq, f[n - 1].seq, back) ==
				-EBADMSG);
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
	for (unsigned codec = 0; codec < BLOCKCODEC_COUNT; codec++) {
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
			buf[i] = (uint8_t)(t_rnd() % 4); /* valid modes, so the groups are reached */
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

int main(void)
{
	T_RUN(test_round_trips);
	T_RUN(test_only);
	T_RUN(test_decode_rules);
	T_RUN(test_garbage);
	T_RUN(test_sizes_and_states);
	return T_DONE();
}
