/*
 * blockcodec.h - the codecs of a frame file's blocks (framefile.h): how the
 * frame_count frames of one block become its payload and back. A frame
 * file's header names one codec for all its blocks; the values of enum
 * blockcodec_id are written there and are part of the on-disk format.
 *
 * Codec BLOCKCODEC_RAW stores the frames as they are: payload = n * 384 bytes.
 *
 * Codec BLOCKCODEC_PACK (the default; chosen by measurement against
 * byte-plane shuffling + zstd, see tests/bench/bench_framefile.c). The frame
 * is read as 91 little-endian columns: 5 of 8 bytes (offsets 0..39: seq,
 * t_ns, present, game_session, game_time_s) and 86 of 4 bytes (offsets
 * 40..383: floats and small integers, bit patterns taken as integers).
 *   payload = u8 mode[91], the block's first frame as it is (384 bytes),
 *             then rows 1..n-1 in groups of 32 rows (the last may be short),
 *             each group holding every column in order as
 *               u8 w                bits per value, 0..8 * column width
 *               varint              LEB128 (7 bits a byte, low first, at
 *                                   most 10 bytes) of zigzag(base - the
 *                                   column's base in the previous group,
 *                                   0 before the first)
 *               ceil(count * w / 8) bytes: code - base of each row, w bits
 *                                   each, packed LSB-first
 * The mode turns a column's codes back into values (arithmetic modulo the
 * column width; zz = zigzag of a difference; p1, p2 = the column's two
 * previous rows, the first row standing in for a missing one; l, l1 = the
 * column to its left, which must have the same width, in this row and the
 * previous one):
 *     0 raw    code = v               1 xor    code = v ^ p1
 *     2 delta  code = zz(v - p1)      3 delta2 code = zz(v - 2 p1 + p2)
 *     4 left   code = zz(v - l)       5 left-delta code = zz(v - p1 - l + l1)
 * The writer picks each column's mode per block by its cost on a sample of
 * groups. Smooth channels become a few bits, constant ones zero bits,
 * wheel arrays code against their neighbour wheel, and sensor noise costs
 * about its entropy in bits instead of ~10 characters of JSON. Blocks decode
 * independently.
 * Measured (tests/bench/bench_framefile.c, 2-core KVM guest): simulated
 * 333 Hz frames with every channel 95 bytes/frame, 15x smaller than compact
 * JSON lines (XOR + byte planes + zstd -1: 106; zstd -1 alone: 195); the
 * real AC capture 90 bytes/frame, 9x; ~2 M frames/s persisted on one core;
 * a one-hour run (1.2 M frames) loads in ~200 ms and scans in ~30 ms.
 *
 * Codec BLOCKCODEC_COLS (frame file format 2, framefile.h) stores a block as
 * chunks that decode independently, so a reader reads and decodes only the
 * chunks of the channels it needs. A layout (struct blockcodec_layout, kept
 * in the file header) cuts the 384-byte frame into columns of 1, 2, 4 or 8
 * bytes (every byte in exactly one column) and groups the columns into
 * chunks: one per channel (its values: vel_ms is 3 columns of 4 bytes) and
 * one per part of the frame's head (seq, t_ns, present, game_session, the
 * ids version/game/feed, flags/flags_known, derived) and one for the
 * reserved bytes. A chunk of n frames:
 *   u8 enc                  0 packed, 1 zstd of the packed bytes
 *   [varint packed_len]     enc 1: the packed bytes' length, then the zstd frame
 *   packed: every column of the chunk in layout order, all n rows:
 *     u8 mode               bits 0-2 as PACK's (0 raw .. 5 left-delta, the left
 *                           column being the previous one of the chunk, of the
 *                           same width); bits 3-4 g: groups of 32 << g rows;
 *                           0x20 sign-low (float columns only, below);
 *                           0x80 const: every row holds the first value
 *     [u8 shift]            not const: trailing zero bits every code had (dropped)
 *     first value           width bytes (as a value: in the column's map, below)
 *     [groups]              not const: rows 1..n-1 in groups of 32 << g as PACK's
 *                           (u8 w, varint zigzag base delta, w bits per code)
 * A column's values are its bytes as an unsigned integer, except that float
 * columns (F32 and F64 channels) are first mapped to integers in the
 * floats' order (negative: the negated magnitude; -0 to the smallest
 * integer), so that a value crossing zero is a small difference. A float
 * column with mode bit 0x20 (sign-low, written since format 2's second
 * writer; older readers refuse the chunk as malformed) holds instead the
 * float's bits rotated left by one, the sign becoming bit 0: noise hovering
 * around zero then spans only its own exponents (~27 bits a value) instead
 * of every integer below them in order (~32). The writer tries it for a
 * float column whose block holds both signs and keeps the cheaper map;
 * the left modes use the left column's values in its own map. The modes
 * work modulo the width; delta codes are zigzag(difference >> shift).
 * The writer keeps a chunk's zstd form (level 1) when it is at most 15/16 of
 * the packed bytes; integers sent as floats (F1's speeds, temperatures),
 * game clocks and slow channels gain most. It does not try bytes whose
 * histogram says zstd cannot gain, and a chunk whose zstd form was not kept
 * waits 1, 3, then 7 blocks before the next try (the zstd form is the
 * writer's choice: any chunk may carry either). A chunk whose bytes are zero in
 * every frame is not stored at all (a channel the game does not send).
 * Measured (tests/bench/bench_framefile.c): see docs/store.md.
 *
 * Who may call: an encoder or decoder state is used by one thread at a time;
 * any number of them may run in parallel. No I/O, no logging. A payload
 * from disk is checked completely while it is decoded: any bytes are safe
 * to pass, and a malformed payload is an error, never a crash.
 */
#ifndef PW_BLOCKCODEC_H
#define PW_BLOCKCODEC_H

#include <stddef.h>
#include <stdint.h>

#include "common/frame.h"

enum blockcodec_id {
	BLOCKCODEC_RAW = 0,  /* frames as they are */
	BLOCKCODEC_PACK = 1, /* column transform + bit packing (above) */
	BLOCKCODEC_COLS = 2, /* format 2: a block is chunks of columns (below) */
	BLOCKCODEC_COUNT
};

#define BLOCKCODEC_HEAD_BYTES 48 /* always decoded: the frame up to throttle */
#define BLOCKCODEC_MAX_ROWS 4096 /* frames of one block (FRAMEFILE_BLOCK_MAX_FRAMES) */

struct blockcodec_enc; /* process-local, opaque: a codec's working state */
struct blockcodec_dec;

/* Lifecycle */
/* State for encoding (decoding) blocks with codec (enum blockcodec_id); NULL
 * for an unknown codec or out of memory. Owned by the caller, released with
 * the matching _free (NULL is fine). */
struct blockcodec_enc *blockcodec_enc_new(unsigned codec);
void blockcodec_enc_free(struct blockcodec_enc *e);
struct blockcodec_dec *blockcodec_dec_new(unsigned codec);
void blockcodec_dec_free(struct blockcodec_dec *d);

/* Operations */
/*
 * RAW and PACK: encode the n (>= 1) frames at f (borrowed) into out, which must hold
 * blockcodec_encode_cap(n) bytes. Returns the payload's length, at most
 * blockcodec_encode_cap(n) - 8. Cannot fail.
 */
size_t blockcodec_encode(struct blockcodec_enc *e, const struct pw_frame *f, size_t n,
			 uint8_t *out);
/*
 * Decode the len-byte payload of n frames into out[0..n) (the caller's
 * array). The frames must carry the seqs the block header promises:
 * first_seq, then strictly increasing, the last one last_seq. -EBADMSG when
 * the payload is malformed, does not decode to exactly n frames or breaks
 * that seq rule (out then holds garbage), or n is 0. out is written with
 * streaming stores that bypass the cache (a fresh array of hundreds of MB
 * would otherwise be read from memory first) and fenced before returning.
 */
int blockcodec_decode(struct blockcodec_dec *d, const uint8_t *payload, size_t len, size_t n,
		      uint64_t first_seq, uint64_t last_seq, struct pw_frame *out);

/*
 * Decode only what a reader of these channels needs (0, the default: all):
 * the frame's first BLOCKCODEC_HEAD_BYTES (seq, t_ns, present, game_session,
 * game_time_s, version, game, feed, flags, flags_known) and the members of
 * the channels in mask (FRAME_P_* bits). The other bytes of the frames
 * blockcodec_decode writes are then undefined. PACK skips the other
 * columns' bits without unpacking them (a column that an asked one codes
 * against is decoded too) and checks the payload as completely as ever;
 * RAW copies whole frames. A lap read for lap data needs about a quarter
 * of the columns.
 */
void blockcodec_dec_only(struct blockcodec_dec *d, uint64_t channels);

/*
 * Format 2 (BLOCKCODEC_COLS): layouts and chunks. blockcodec_encode and
 * blockcodec_decode are RAW's and PACK's; a COLS state (from _new with
 * BLOCKCODEC_COLS) works chunks with the functions below.
 */
#define BLOCKCODEC_MAX_COLS 192
#define BLOCKCODEC_MAX_CHUNKS 64
#define BLOCKCODEC_LAYOUT_MAX (4 + BLOCKCODEC_MAX_CHUNKS * 2 + BLOCKCODEC_MAX_COLS * 4)

/* A chunk's id: a channel's number (FRAME_CH_*, < 0x80) or a part of the head. */
enum blockcodec_part {
	BLOCKCODEC_SEQ = 0x80,
	BLOCKCODEC_T_NS,
	BLOCKCODEC_PRESENT,
	BLOCKCODEC_SESSION, /* game_session */
	BLOCKCODEC_IDS,     /* version, game, feed */
	BLOCKCODEC_FLAGS,   /* flags, flags_known */
	BLOCKCODEC_DERIVED,
	BLOCKCODEC_REST, /* the reserved bytes */
	BLOCKCODEC_PART_END
};
/* A part's bit in a parts mask (framefile_load_cols). */
#define BLOCKCODEC_PART_BIT(id) (1u << ((id)-BLOCKCODEC_SEQ))
#define BLOCKCODEC_PARTS_ALL ((1u << (BLOCKCODEC_PART_END - BLOCKCODEC_SEQ)) - 1)
#define BLOCKCODEC_COL_FLOAT 1u /* struct blockcodec_col.flags: float bits, order-mapped */

struct blockcodec_col {
	uint16_t off;  /* bytes into struct pw_frame */
	uint8_t width; /* 1, 2, 4 or 8 */
	uint8_t flags; /* BLOCKCODEC_COL_* */
};

struct blockcodec_chunk {
	uint8_t id;           /* FRAME_CH_* or enum blockcodec_part */
	uint8_t first, ncols; /* its columns: col[first .. first + ncols) */
};

struct blockcodec_layout {
	unsigned ncols, nchunks;
	struct blockcodec_col col[BLOCKCODEC_MAX_COLS];
	struct blockcodec_chunk chunk[BLOCKCODEC_MAX_CHUNKS];
};

/* The layout of this build's frame (FRAME_CHANNELS): the head parts, then a
 * chunk per channel in channel order, derived, and the rest. */
void blockcodec_layout_default(struct blockcodec_layout *l);
/* l as bytes into out (room for BLOCKCODEC_LAYOUT_MAX): u16 ncols, u16
 * nchunks, per chunk u8 id and u8 ncols, per column u16 off, u8 width, u8
 * flags. Returns the length. */
size_t blockcodec_layout_dump(const struct blockcodec_layout *l, uint8_t *out);
/* Parse and check len bytes (from a file): every byte of the frame in
 * exactly one column, widths 1/2/4/8 (floats 4/8), ids unique, a chunk a
 * run of columns. 0, or -EPROTO. */
int blockcodec_layout_load(struct blockcodec_layout *l, const uint8_t *p, size_t len);
/* The index of the chunk with this id, or -1. */
int blockcodec_layout_find(const struct blockcodec_layout *l, unsigned id);

/* Largest chunk k of n frames (before zstd, which only keeps smaller forms). */
size_t blockcodec_chunk_cap(const struct blockcodec_layout *l, unsigned k, size_t n);
/*
 * Encode chunk k of the n (1..FRAMEFILE_BLOCK_MAX_FRAMES) frames at f into
 * out (room for blockcodec_chunk_cap + 8). Returns its length, or 0 when
 * the chunk's bytes are zero in every frame (nothing to store).
 */
size_t blockcodec_chunk_encode(struct blockcodec_enc *e, const struct blockcodec_layout *l,
			       unsigned k, const struct pw_frame *f, size_t n, uint8_t *out);
/*
 * Decode the len bytes of chunk k of n frames. Column j of the chunk goes
 * to dst[j] + i * stride[j] for row i (width bytes, the frame's byte
 * order); dst[j] NULL decodes it without storing (a column the next one
 * codes against). -EBADMSG when the bytes are malformed or do not hold
 * exactly n rows (dst then holds garbage); -ENOMEM.
 */
int blockcodec_chunk_decode(struct blockcodec_dec *d, const struct blockcodec_layout *l, unsigned k,
			    const uint8_t *p, size_t len, size_t n, uint8_t *const *dst,
			    const size_t *stride);

/* Accessors */
/* Bytes of output blockcodec_encode needs for n frames in any codec: the
 * largest payload plus 8 bytes of slack for the bit writer. */
size_t blockcodec_encode_cap(size_t n);
/* 1 when len bytes can be the payload of n (>= 1) frames in some codec
 * (RAW's exact size, or within PACK's smallest and largest), else 0. */
int blockcodec_payload_plausible(size_t len, size_t n);

#endif
