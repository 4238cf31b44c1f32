/*
 * fuzz_framefile.c - frame files from arbitrary bytes (common/framefile.h).
 *
 * Each input is read twice through the in-memory readers: as it is, which
 * mostly exercises the header and block walk (a random mutation rarely
 * keeps a CRC valid), and with every CRC repaired along the documented
 * layouts (format 1's block CRCs; format 2's header and layout CRCs, chunk
 * CRCs and block header CRCs), so that mutations reach the PACK and COLS
 * decoders. Invariants, abort() when broken: scan and load agree on the
 * header and never disagree on what is valid; valid + dropped bytes == the
 * input size; a load returns exactly info.frames frames with strictly
 * increasing seqs from first_seq to last_seq; a column load of a few
 * channels returns the frames its walk took, with seqs as strict, never
 * more than the block headers promise.
 *
 * Seeds (tests/fuzz/corpus/framefile/): small valid files written by the
 * writers (format 1: PACK of simulated, real-capture and random frames, RAW;
 * format 2: simulated and random frames, an extract), a header alone and a
 * torn file.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/crc32c.h"
#include "common/framefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static uint32_t get32(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return v;
}

/* Format 2: the layout's CRC, then every block's chunk CRCs and header CRC
 * that fit, by the chunk count the layout names. */
static void repair2(uint8_t *b, size_t len)
{
	size_t hlen = (size_t)(b[10] | b[11] << 8), at = hlen, bm, nchunks;
	uint32_t crc;

	if (hlen < FRAMEFILE_HEADER_SIZE + 8 || hlen > len)
		return;
	crc = crc32c(0, b + FRAMEFILE_HEADER_SIZE, hlen - FRAMEFILE_HEADER_SIZE - 4);
	memcpy(b + hlen - 4, &crc, 4);
	nchunks = (size_t)(b[162] | b[163] << 8);
	bm = (nchunks + 7) / 8;
	while (len - at >= FRAMEFILE_BLOCK2_HEADER_SIZE + bm) {
		uint32_t plen = get32(b + at + 4);
		size_t stored = 0, head, off;

		if (plen > len - at - FRAMEFILE_BLOCK2_HEADER_SIZE)
			break;
		for (size_t i = 0; i < bm; i++)
			stored += (size_t)__builtin_popcount(
				b[at + FRAMEFILE_BLOCK2_HEADER_SIZE + i]);
		head = FRAMEFILE_BLOCK2_HEADER_SIZE + bm + 8 * stored;
		if (head > FRAMEFILE_BLOCK2_HEADER_SIZE + plen)
			break;
		off = at + head;
		for (size_t i = 0; i < stored; i++) {
			uint8_t *dir = b + at + FRAMEFILE_BLOCK2_HEADER_SIZE + bm + 8 * i;
			uint32_t clen = get32(dir);

			if (clen > at + FRAMEFILE_BLOCK2_HEADER_SIZE + plen - off)
				break;
			crc = crc32c(0, b + off, clen);
			memcpy(dir + 4, &crc, 4);
			off += clen;
		}
		crc = crc32c(crc32c(0, b + at, 12), b + at + 16, head - 16);
		memcpy(b + at + 12, &crc, 4);
		at += FRAMEFILE_BLOCK2_HEADER_SIZE + plen;
	}
}

/* Recompute the header CRC and the CRC of every block that fits. */
static void repair(uint8_t *b, size_t len)
{
	size_t at = FRAMEFILE_HEADER_SIZE;
	uint32_t crc;

	if (len < FRAMEFILE_HEADER_SIZE)
		return;
	crc = crc32c(0, b, FRAMEFILE_HEADER_SIZE - 4);
	memcpy(b + FRAMEFILE_HEADER_SIZE - 4, &crc, 4);
	if (b[8] == 2) {
		repair2(b, len);
		return;
	}
	while (len - at >= FRAMEFILE_BLOCK_HEADER_SIZE) {
		uint32_t plen = get32(b + at + 4);

		if (plen > len - at - FRAMEFILE_BLOCK_HEADER_SIZE)
			break;
		crc = crc32c(0, b + at, 12);
		crc = crc32c(crc, b + at + 16, 16);
		crc = crc32c(crc, b + at + FRAMEFILE_BLOCK_HEADER_SIZE, plen);
		memcpy(b + at + 12, &crc, 4);
		at += FRAMEFILE_BLOCK_HEADER_SIZE + plen;
	}
}

static void check_info(const struct framefile_info *info, size_t size)
{
	check(info->file_bytes == size);
	check(info->valid_bytes >= info->hdr.header_size && info->valid_bytes <= size);
	check(info->valid_bytes + info->dropped_bytes == size);
	check((info->tail == FRAMEFILE_TAIL_CLEAN) == (info->dropped_bytes == 0));
	check(info->frames == 0 || info->first_seq + (info->frames - 1) <= info->last_seq);
	check((info->frames == 0) == (info->blocks == 0));
	check(info->hdr.feed[FRAMEFILE_FEED_MAX] == 0 &&
	      info->hdr.run_id[FRAMEFILE_RUN_ID_MAX] == 0);
}

/* A column load of a few channels: only their chunks are read and checked. */
static void read_cols(const uint8_t *b, size_t size, const struct framefile_info *scan)
{
	struct framefile_info info;
	struct framecols c;
	int rc = framefile_load_cols_buf(b, size, FRAME_P_SPEED | FRAME_P_VEL, FRAMECOLS_T_NS, &c,
					 &info);

	check(rc == 0 || rc == -EPROTO || rc == -ENOENT);
	if (rc < 0) {
		check(c.seq == NULL && c.n == 0);
		return;
	}
	check_info(&info, size);
	check(c.n == info.frames && c.seq && c.t_ns && c.ch[FRAME_CH_SPEED] && c.ch[FRAME_CH_VEL]);
	/* format 1 is decoded whole; format 2 skips the unread chunks' damage, but
	 * never walks past what the block headers promise */
	check(info.hdr.format_version == 2 || info.frames <= scan->frames);
	if (c.n) {
		check(c.seq[0] == info.first_seq && c.seq[c.n - 1] == info.last_seq);
		for (size_t i = 1; i < c.n; i++)
			check(c.seq[i] > c.seq[i - 1]);
	}
	framecols_free(&c);
}

static void read_both(const uint8_t *b, size_t size)
{
	struct framefile_info scan, load;
	struct pw_frame *f = NULL;
	size_t n = 0;
	int rs = framefile_scan_buf(b, size, &scan);
	int rl = framefile_load_buf(b, size, &f, &n, &load);

	check(rs == 0 || rs == -EPROTO);
	check(rl == 0 || rl == -EPROTO);
	if (rs == 0)
		check_info(&scan, size);
	if (rl < 0) {
		check(f == NULL && n == 0);
		return;
	}
	check(rs == 0 && memcmp(&scan.hdr, &load.hdr, sizeof scan.hdr) == 0);
	check_info(&load, size);
	check(n == load.frames && (n == 0) == (f == NULL));
	/* load decodes what scan only checks, so it may stop earlier, never later */
	check(load.frames <= scan.frames && load.valid_bytes <= scan.valid_bytes);
	check(load.frames < scan.frames || load.valid_bytes == scan.valid_bytes);
	if (n) {
		check(f[0].seq == load.first_seq && f[n - 1].seq == load.last_seq);
		for (size_t i = 1; i < n; i++)
			check(f[i].seq > f[i - 1].seq);
	}
	free(f);
	read_cols(b, size, &scan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	read_both(data, size);
	if (size < FRAMEFILE_HEADER_SIZE || !(copy = malloc(size)))
		return 0;
	memcpy(copy, data, size);
	repair(copy, size);
	read_both(copy, size);
	free(copy);
	return 0;
}
