/*
 * blockcodec.c - the block codecs (blockcodec.h): PACK's column transform and
 * bit packing, encoder and decoder, and RAW.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/blockcodec.h"
#include "common/le.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "PACK reads struct pw_frame, a little-endian layout, as columns"
#endif

/* --- columns: 5 of 8 bytes, then 4-byte ones to the end of the frame --- */

#define FF_WIDE_COLUMNS 5
#define FF_WIDE_END (FF_WIDE_COLUMNS * 8)
#define FF_COLUMNS (FF_WIDE_COLUMNS + (FRAME_SIZE - FF_WIDE_END) / 4)
#define FF_GROUP 32
#define FF_SAMPLE_GROUPS 4
#define FF_VARINT_MAX 10
#define FF_GROUP_MAX_BYTES (1 + FF_VARINT_MAX + FF_GROUP * 8)

_Static_assert(offsetof(struct pw_frame, version) == FF_WIDE_END, "8-byte fields end at 40");
_Static_assert((FRAME_SIZE - FF_WIDE_END) % 4 == 0, "4-byte columns fill the frame");
_Static_assert(FF_COLUMNS == 91, "column count is part of the PACK format");
_Static_assert(BLOCKCODEC_HEAD_BYTES == offsetof(struct pw_frame, throttle), "the frame's head");

enum ff_mode { FF_RAW = 0, FF_XOR, FF_DELTA, FF_DELTA2, FF_LEFT, FF_LEFT_DELTA, FF_MODES };

static size_t col_off(unsigned c)
{
	return c < FF_WIDE_COLUMNS ? c * 8 : FF_WIDE_END + (c - FF_WIDE_COLUMNS) * 4;
}

static unsigned col_size(unsigned c)
{
	return c < FF_WIDE_COLUMNS ? 8 : 4;
}

static int col_has_left(unsigned c)
{
	return c > 0 && col_size(c - 1) == col_size(c);
}

/* --- integer coding helpers --- */

static unsigned bit_width(uint64_t v)
{
	return v ? 64u - (unsigned)__builtin_clzll(v) : 0u;
}

/* Zigzag of the difference d taken at the column's width: sh = 64 - bits. */
static uint64_t zz(uint64_t d, unsigned sh)
{
	int64_t s = (int64_t)(d << sh) >> sh;
	return ((uint64_t)s << 1) ^ (uint64_t)(s >> 63);
}

static uint64_t unzz(uint64_t x)
{
	return (x >> 1) ^ (0 - (x & 1));
}

static size_t varint_len(uint64_t v)
{
	return bit_width(v) <= 7 ? 1 : (bit_width(v) + 6) / 7;
}

static uint8_t *varint_put(uint8_t *o, uint64_t v)
{
	while (v >= 0x80) {
		*o++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*o++ = (uint8_t)v;
	return o;
}

/* Returns bytes read, 0 when malformed or running past end. */
static size_t varint_get(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < FF_VARINT_MAX && p + i < end; i++) {
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

/* --- PACK codec: layout shared by encoder and decoder --- */

/*
 * Payload: the 91 mode bytes, the first frame as it is, then the rows
 * 1..n-1 in groups of FF_GROUP, each group holding every column in order.
 * Working a group at a time keeps the 32 frames being read or written
 * (12 KiB) in L1, for both the encoder and the decoder.
 *
 * A column's values for one group sit in a window w[0..cnt+2): w[0] and
 * w[1] are the two rows before the group (the first row stands in for a
 * missing one), w[2 + i] is row i of the group.
 */
#define FF_WIN (FF_GROUP + 2)

static size_t pack_groups(size_t n)
{
	return (n - 1 + FF_GROUP - 1) / FF_GROUP;
}

/* Bytes of the largest PACK payload for n frames (every group at full width). */
static size_t pack_bound(size_t n)
{
	return FF_COLUMNS + FRAME_SIZE + pack_groups(n) * FF_COLUMNS * FF_GROUP_MAX_BYTES;
}

/* Bytes of the smallest PACK payload for n frames (every group zero width). */
static size_t pack_min(size_t n)
{
	return FF_COLUMNS + FRAME_SIZE + pack_groups(n) * FF_COLUMNS * 2;
}

/* Codes of the cnt values of a window in mode m; v and l point 2 into windows. */
static void make_codes(unsigned m, const uint64_t *v, const uint64_t *l, size_t cnt, unsigned sh,
		       uint64_t *code)
{
	long i, n = (long)cnt;

	switch (m) {
	case FF_RAW:
		for (i = 0; i < n; i++)
			code[i] = v[i];
		break;
	case FF_XOR:
		for (i = 0; i < n; i++)
			code[i] = v[i] ^ v[i - 1];
		break;
	case FF_DELTA:
		for (i = 0; i < n; i++)
			code[i] = zz(v[i] - v[i - 1], sh);
		break;
	case FF_DELTA2:
		for (i = 0; i < n; i++)
			code[i] = zz(v[i] - 2 * v[i - 1] + v[i - 2], sh);
		break;
	case FF_LEFT:
		for (i = 0; i < n; i++)
			code[i] = zz(v[i] - l[i], sh);
		break;
	default: /* FF_LEFT_DELTA */
		for (i = 0; i < n; i++)
			code[i] = zz(v[i] - v[i - 1] - l[i] + l[i - 1], sh);
		break;
	}
}

/* --- PACK codec: encoder --- */

struct ff_enc {
	uint64_t win[2][FF_WIN]; /* this column's window and the left one's */
	uint64_t code[FF_GROUP];
	uint64_t base[FF_COLUMNS]; /* previous group's base per column */
	uint8_t mode[FF_COLUMNS];
};

/* Window of column c for rows s..s+cnt-1 (s >= 1) of f. */
static void gather(const struct pw_frame *f, unsigned c, size_t s, size_t cnt, uint64_t *win)
{
	const uint8_t *p = (const uint8_t *)f + col_off(c);
	size_t r0 = s >= 2 ? s - 2 : 0;

	if (col_size(c) == 8) {
		win[0] = le_get64(p + r0 * FRAME_SIZE);
		for (size_t i = 0; i <= cnt; i++)
			win[1 + i] = le_get64(p + (s - 1 + i) * FRAME_SIZE);
	} else {
		win[0] = le_get32(p + r0 * FRAME_SIZE);
		for (size_t i = 0; i <= cnt; i++)
			win[1 + i] = le_get32(p + (s - 1 + i) * FRAME_SIZE);
	}
}

/* Bytes of one group of codes; *base is the previous group's base, then this one's. */
static size_t group_cost(const uint64_t *code, size_t cnt, uint64_t *base)
{
	uint64_t lo = code[0], hi = code[0], prev = *base;

	for (size_t i = 1; i < cnt; i++) {
		lo = code[i] < lo ? code[i] : lo;
		hi = code[i] > hi ? code[i] : hi;
	}
	*base = lo;
	return 1 + varint_len(zz(lo - prev, 0)) + (cnt * bit_width(hi - lo) + 7) / 8;
}

/*
 * Pick each column's mode by its cost on a sample of FF_SAMPLE_GROUPS groups
 * spread over the block. Measured on simulated frames: costing every group
 * (six modes of every row) triples the encoder's time for 0.9 % fewer bytes;
 * 4 groups cost 0.7 % more bytes than all of them, 2 groups 2.7 %.
 */
static void choose_modes(struct ff_enc *e, const struct pw_frame *f, size_t n)
{
	size_t groups = pack_groups(n), stride = (groups + FF_SAMPLE_GROUPS - 1) / FF_SAMPLE_GROUPS;

	for (unsigned c = 0; c < FF_COLUMNS; c++) {
		unsigned modes = col_has_left(c) ? FF_MODES : FF_LEFT, sh = 64 - 8 * col_size(c);
		size_t cost[FF_MODES] = { 0 };
		uint64_t prev[FF_MODES] = { 0 };

		for (size_t g = 0; g < groups; g += stride) {
			size_t s = 1 + g * FF_GROUP, cnt = n - s < FF_GROUP ? n - s : FF_GROUP;

			gather(f, c, s, cnt, e->win[0]);
			if (modes == FF_MODES)
				gather(f, c - 1, s, cnt, e->win[1]);
			for (unsigned m = 0; m < modes; m++) {
				make_codes(m, e->win[0] + 2, e->win[1] + 2, cnt, sh, e->code);
				cost[m] += group_cost(e->code, cnt, &prev[m]);
			}
		}
		e->mode[c] = FF_RAW;
		for (unsigned m = 1; m < modes; m++)
			if (cost[m] < cost[e->mode[c]])
				e->mode[c] = (uint8_t)m;
	}
}

/* Bit writer over an output with >= 8 bytes of slack past the data. */
struct bitw {
	uint8_t *o;
	uint64_t acc;
	unsigned nbits; /* < 8 between calls */
};

static void bits_put(struct bitw *b, uint64_t x, unsigned w)
{
	b->acc |= x << b->nbits;
	b->nbits += w;
	le_put64(b->o, b->acc);
	b->o += b->nbits / 8;
	b->acc = b->nbits >= 64 ? 0 : b->acc >> (b->nbits & ~7u);
	b->nbits &= 7;
}

static uint8_t *pack_values(uint8_t *o, const uint64_t *code, size_t cnt, uint64_t base, unsigned w)
{
	struct bitw b = { o, 0, 0 };

	if (w == 0)
		return o;
	if (w <= 32) { /* the same bits, 4 bytes at a time */
		uint64_t acc = 0;
		unsigned nbits = 0;

		for (size_t i = 0; i < cnt; i++) {
			acc |= (code[i] - base) << nbits;
			nbits += w;
			if (nbits >= 32) {
				le_put32(o, (uint32_t)acc);
				o += 4;
				acc >>= 32;
				nbits -= 32;
			}
		}
		for (; nbits > 0; nbits = nbits > 8 ? nbits - 8 : 0, acc >>= 8)
			*o++ = (uint8_t)acc;
		return o;
	}
	for (size_t i = 0; i < cnt; i++) {
		uint64_t x = code[i] - base;

		if (w <= 56) {
			bits_put(&b, x, w);
		} else {
			bits_put(&b, x & 0xffffffffu, 32);
			bits_put(&b, x >> 32, w - 32);
		}
	}
	if (b.nbits)
		*b.o++ = (uint8_t)b.acc;
	return b.o;
}

static uint8_t *pack_group(struct ff_enc *e, const struct pw_frame *f, size_t s, size_t cnt,
			   uint8_t *o)
{
	for (unsigned c = 0; c < FF_COLUMNS; c++) {
		uint64_t *v = e->win[c & 1] + 2, *l = e->win[!(c & 1)] + 2, lo, hi;
		unsigned sh = 64 - 8 * col_size(c), mode = e->mode[c], w;

		gather(f, c, s, cnt, v - 2);
		make_codes(mode, v, l, cnt, sh, e->code);
		lo = hi = e->code[0];
		for (size_t i = 1; i < cnt; i++) {
			lo = e->code[i] < lo ? e->code[i] : lo;
			hi = e->code[i] > hi ? e->code[i] : hi;
		}
		w = bit_width(hi - lo);
		*o++ = (uint8_t)w;
		o = varint_put(o, zz(lo - e->base[c], 0));
		o = pack_values(o, e->code, cnt, lo, w);
		e->base[c] = lo;
	}
	return o;
}

/* Encode n (>= 1) frames into out[pack_bound(n) + 8]. */
static size_t pack_encode(struct ff_enc *e, const struct pw_frame *f, size_t n, uint8_t *out)
{
	uint8_t *o = out;

	choose_modes(e, f, n);
	memcpy(o, e->mode, FF_COLUMNS);
	o += FF_COLUMNS;
	memcpy(o, f, FRAME_SIZE);
	o += FRAME_SIZE;
	memset(e->base, 0, sizeof e->base);
	for (size_t s = 1; s < n; s += FF_GROUP)
		o = pack_group(e, f, s, n - s < FF_GROUP ? n - s : FF_GROUP, o);
	return (size_t)(o - out);
}

/* --- PACK codec: decoder --- */

struct ff_dec {
	uint64_t win64[2][FF_WIN]; /* windows of 8-byte columns: this one, the left one */
	uint32_t win32[2][FF_WIN]; /* the same for 4-byte columns */
	uint64_t code64[FF_GROUP];
	uint32_t code32[FF_GROUP];
	uint64_t p1[FF_COLUMNS], p2[FF_COLUMNS]; /* the two rows before the group */
	uint64_t base[FF_COLUMNS];
	uint8_t mode[FF_COLUMNS];
	/* Groups are decoded into stage, in L1, then streamed to the caller's
	 * array. stage_const[c]: every stage row holds stage_val[c] in column c. */
	struct pw_frame stage[FF_GROUP];
	uint8_t stage_const[FF_COLUMNS];
	uint64_t stage_val[FF_COLUMNS];
	/* blockcodec_dec_only: the columns asked for, and per block those and the
	 * ones they code against (left modes) */
	uint8_t want[FF_COLUMNS];
	uint8_t need[FF_COLUMNS];
	int selective;   /* not every column wanted */
	size_t need_end; /* bytes of a row up to the last needed column; 0 = all */
};

#if defined(__SSE2__)
/*
 * Copy decoded frames to the output with streaming stores: the output is a
 * fresh array of up to hundreds of MB, and ordinary stores would first read
 * every destination line from memory.
 */
static void copy_out(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	for (; n && ((uintptr_t)d & 15); n--)
		*d++ = *s++;
	for (; n >= 16; n -= 16, d += 16, s += 16)
		_mm_stream_si128((__m128i *)d, _mm_loadu_si128((const __m128i *)s));
	memcpy(d, s, n);
}

static void copy_out_done(void)
{
	_mm_sfence();
}
#else
static void copy_out(void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
}

static void copy_out_done(void)
{
}
#endif

static uint64_t bits_at(const uint8_t *p, size_t bit, uint64_t mask)
{
	return (le_get64(p + bit / 8) >> (bit & 7)) & mask;
}

static uint32_t unzz32(uint32_t x)
{
	return (x >> 1) ^ (0u - (x & 1));
}

/* A full group of width W <= 32: every 8 values fill W bytes exactly, so
 * with W constant all shifts and offsets are constants. */
#define FF_UNPACK32_CASE(W)                                                                    \
	case W:                                                                                \
		for (int k = 0; k < FF_GROUP / 8; k++, p += W) {                               \
			_Pragma("GCC unroll 8") for (int j = 0; j < 8; j++) out[8 * k + j] =   \
				base + (uint32_t)bits_at(p, (size_t)(j * W), (1ull << W) - 1); \
		}                                                                              \
		break;

/* cnt values of w (1..32) bits from p (readable 8 bytes past them). */
static void unpack32(const uint8_t *p, unsigned w, size_t cnt, uint32_t base, uint32_t *out)
{
	if (cnt == FF_GROUP) {
		switch (w) {
			FF_UNPACK32_CASE(1)
			FF_UNPACK32_CASE(2)
			FF_UNPACK32_CASE(3)
			FF_UNPACK32_CASE(4)
			FF_UNPACK32_CASE(5)
			FF_UNPACK32_CASE(6)
			FF_UNPACK32_CASE(7)
			FF_UNPACK32_CASE(8)
			FF_UNPACK32_CASE(9)
			FF_UNPACK32_CASE(10)
			FF_UNPACK32_CASE(11)
			FF_UNPACK32_CASE(12)
			FF_UNPACK32_CASE(13)
			FF_UNPACK32_CASE(14)
			FF_UNPACK32_CASE(15)
			FF_UNPACK32_CASE(16)
			FF_UNPACK32_CASE(17)
			FF_UNPACK32_CASE(18)
			FF_UNPACK32_CASE(19)
			FF_UNPACK32_CASE(20)
			FF_UNPACK32_CASE(21)
			FF_UNPACK32_CASE(22)
			FF_UNPACK32_CASE(23)
			FF_UNPACK32_CASE(24)
			FF_UNPACK32_CASE(25)
			FF_UNPACK32_CASE(26)
			FF_UNPACK32_CASE(27)
			FF_UNPACK32_CASE(28)
			FF_UNPACK32_CASE(29)
			FF_UNPACK32_CASE(30)
			FF_UNPACK32_CASE(31)
			FF_UNPACK32_CASE(32)
		}
		return;
	}
	for (size_t i = 0; i < cnt; i++)
		out[i] = base + (uint32_t)bits_at(p, i * w, (1ull << w) - 1);
}

/* cnt values of w (1..64) bits from p (readable 8 bytes past them). */
static void unpack64(const uint8_t *p, unsigned w, size_t cnt, uint64_t base, uint64_t *out)
{
	uint64_t mask = w >= 64 ? ~0ull : (1ull << w) - 1;

	if (w <= 56) {
		for (size_t i = 0; i < cnt; i++)
			out[i] = base + bits_at(p, i * w, mask);
		return;
	}
	for (size_t i = 0, bit = 0; i < cnt; i++, bit += w)
		out[i] = base +
			 (bits_at(p, bit, 0xffffffffu) | bits_at(p, bit + 32, mask >> 32) << 32);
}

/*
 * Values from codes, stored into the window (v, l point 2 into windows) and
 * into the frames at dst, one frame apart. EXPR is the inverse of the mode
 * in terms of p1, p2 (the two previous values, kept in registers: reading
 * them back from v[] would chain every row through store forwarding).
 */
#define FF_UNDO(T, PUT, EXPR)                         \
	for (i = 0; i < n; i++) {                     \
		T x = (T)(EXPR);                      \
		v[i] = x;                             \
		PUT(dst + (size_t)i * FRAME_SIZE, x); \
		p2 = p1;                              \
		p1 = x;                               \
	}                                             \
	break;

static void undo32(unsigned mode, const uint32_t *code, const uint32_t *l, uint32_t *v, size_t cnt,
		   uint8_t *dst)
{
	uint32_t p1 = v[-1], p2 = v[-2];
	long i, n = (long)cnt;

	switch (mode) {
	case FF_RAW:
		FF_UNDO(uint32_t, le_put32, code[i])
	case FF_XOR:
		FF_UNDO(uint32_t, le_put32, p1 ^ code[i])
	case FF_DELTA:
		FF_UNDO(uint32_t, le_put32, p1 + unzz32(code[i]))
	case FF_DELTA2:
		FF_UNDO(uint32_t, le_put32, 2 * p1 - p2 + unzz32(code[i]))
	case FF_LEFT:
		FF_UNDO(uint32_t, le_put32, l[i] + unzz32(code[i]))
	default:
		FF_UNDO(uint32_t, le_put32, p1 + l[i] - l[i - 1] + unzz32(code[i]))
	}
}

static void undo64(unsigned mode, const uint64_t *code, const uint64_t *l, uint64_t *v, size_t cnt,
		   uint8_t *dst)
{
	uint64_t p1 = v[-1], p2 = v[-2];
	long i, n = (long)cnt;

	switch (mode) {
	case FF_RAW:
		FF_UNDO(uint64_t, le_put64, code[i])
	case FF_XOR:
		FF_UNDO(uint64_t, le_put64, p1 ^ code[i])
	case FF_DELTA:
		FF_UNDO(uint64_t, le_put64, p1 + unzz(code[i]))
	case FF_DELTA2:
		FF_UNDO(uint64_t, le_put64, 2 * p1 - p2 + unzz(code[i]))
	case FF_LEFT:
		FF_UNDO(uint64_t, le_put64, l[i] + unzz(code[i]))
	default:
		FF_UNDO(uint64_t, le_put64, p1 + l[i] - l[i - 1] + unzz(code[i]))
	}
}

/*
 * A zero-width group whose mode makes every value the same: *x. Constant
 * columns (ids, presence bits, reserved bytes, slow channels) are common
 * enough that skipping their unpack and undo halves the decode time.
 */
static int group_constant(unsigned mode, unsigned w, uint64_t base, uint64_t p1, uint64_t p2,
			  uint64_t *x)
{
	if (w != 0)
		return 0;
	switch (mode) {
	case FF_RAW:
		*x = base;
		return 1;
	case FF_XOR:
	case FF_DELTA:
		*x = p1;
		return base == 0;
	case FF_DELTA2:
		*x = p1;
		return base == 0 && p1 == p2;
	default:
		return 0;
	}
}

/*
 * Store a constant column into the staged group, unless the stage already
 * holds exactly that in every row (the same constant in the previous group).
 */
static void stage_constant(struct ff_dec *d, unsigned c, size_t cnt, uint64_t x)
{
	uint8_t *p = (uint8_t *)d->stage + col_off(c);

	if (!(d->stage_const[c] && d->stage_val[c] == x)) {
		if (col_size(c) == 8)
			for (size_t i = 0; i < cnt; i++)
				le_put64(p + i * FRAME_SIZE, x);
		else
			for (size_t i = 0; i < cnt; i++)
				le_put32(p + i * FRAME_SIZE, (uint32_t)x);
	}
	d->stage_const[c] = cnt == FF_GROUP;
	d->stage_val[c] = x;
	d->p1[c] = d->p2[c] = x;
}

/* The next column codes against this one, so it needs this one's window. */
static int left_needed(const struct ff_dec *d, unsigned c)
{
	return c + 1 < FF_COLUMNS && d->mode[c + 1] >= FF_LEFT;
}

static void decode_col32(struct ff_dec *d, unsigned c, const uint8_t *p, unsigned w, size_t cnt)
{
	uint32_t *v = d->win32[c & 1] + 2, *l = d->win32[!(c & 1)] + 2;
	uint32_t base = (uint32_t)d->base[c];
	uint64_t x;

	v[-2] = (uint32_t)d->p2[c];
	v[-1] = (uint32_t)d->p1[c];
	if (group_constant(d->mode[c], w, base, v[-1], v[-2], &x)) {
		if (left_needed(d, c))
			for (size_t i = 0; i < cnt; i++)
				v[i] = (uint32_t)x;
		stage_constant(d, c, cnt, x);
		return;
	}
	d->stage_const[c] = 0;
	if (w == 0)
		for (size_t i = 0; i < cnt; i++)
			d->code32[i] = base;
	else
		unpack32(p, w, cnt, base, d->code32);
	undo32(d->mode[c], d->code32, l, v, cnt, (uint8_t *)d->stage + col_off(c));
	d->p2[c] = v[(long)cnt - 2];
	d->p1[c] = v[cnt - 1];
}

static void decode_col64(struct ff_dec *d, unsigned c, const uint8_t *p, unsigned w, size_t cnt)
{
	uint64_t *v = d->win64[c & 1] + 2, *l = d->win64[!(c & 1)] + 2;
	uint64_t x;

	v[-2] = d->p2[c];
	v[-1] = d->p1[c];
	if (group_constant(d->mode[c], w, d->base[c], v[-1], v[-2], &x)) {
		if (left_needed(d, c))
			for (size_t i = 0; i < cnt; i++)
				v[i] = x;
		stage_constant(d, c, cnt, x);
		return;
	}
	d->stage_const[c] = 0;
	if (w == 0)
		for (size_t i = 0; i < cnt; i++)
			d->code64[i] = d->base[c];
	else
		unpack64(p, w, cnt, d->base[c], d->code64);
	undo64(d->mode[c], d->code64, l, v, cnt, (uint8_t *)d->stage + col_off(c));
	d->p2[c] = v[(long)cnt - 2];
	d->p1[c] = v[cnt - 1];
}

/* Decode one group of every column into d->stage[0..cnt); returns bytes used or 0. */
static size_t unpack_group(struct ff_dec *d, const uint8_t *p, const uint8_t *end, size_t cnt)
{
	const uint8_t *start = p;
	uint8_t pad[FF_GROUP * 8 + 8];

	for (unsigned c = 0; c < FF_COLUMNS; c++) {
		const uint8_t *bits;
		unsigned size = col_size(c), w;
		uint64_t delta;
		size_t used, nbytes;

		if (p >= end || (w = *p++) > 8 * size || !(used = varint_get(p, end, &delta)))
			return 0;
		p += used;
		d->base[c] += unzz(delta);
		nbytes = (cnt * w + 7) / 8;
		if ((size_t)(end - p) < nbytes)
			return 0;
		if (!d->need[c]) {
			p += nbytes; /* nobody reads this column: its bits are skipped */
			continue;
		}
		bits = p;
		if ((size_t)(end - p) < nbytes + 8) {
			/* the unpackers read 8 bytes at a time */
			memcpy(pad, p, nbytes);
			memset(pad + nbytes, 0, 8);
			bits = pad;
		}
		if (size == 8)
			decode_col64(d, c, bits, w, cnt);
		else
			decode_col32(d, c, bits, w, cnt);
		p += nbytes;
	}
	return (size_t)(p - start);
}

/* n frames (at f, FRAME_SIZE apart) whose seqs increase strictly after *last. */
static int seqs_follow(const uint8_t *f, size_t n, uint64_t *last)
{
	for (size_t i = 0; i < n; i++, f += FRAME_SIZE) {
		uint64_t seq = le_get64(f);

		if (seq <= *last)
			return 0;
		*last = seq;
	}
	return 1;
}

/*
 * Decode n frames into out. The frames' seqs are checked against first and
 * last here, while they are still in cache, rather than read back later.
 */
static int pack_decode(struct ff_dec *d, const uint8_t *p, size_t len, size_t n, uint64_t first,
		       uint64_t last, struct pw_frame *out)
{
	const uint8_t *end = p + len;
	uint64_t seq = first;

	if (len < FF_COLUMNS + FRAME_SIZE || le_get64(p + FF_COLUMNS) != first)
		return -EBADMSG;
	for (unsigned c = 0; c < FF_COLUMNS; c++) {
		d->mode[c] = p[c];
		if (p[c] >= FF_MODES || (p[c] >= FF_LEFT && !col_has_left(c)))
			return -EBADMSG;
	}
	memcpy(d->need, d->want, sizeof d->need);
	for (unsigned c = FF_COLUMNS - 1; c > 0; c--)
		if (d->need[c] && d->mode[c] >= FF_LEFT)
			d->need[c - 1] = 1;
	d->need_end = 0;
	for (unsigned c = 0; c < FF_COLUMNS && d->selective; c++)
		if (d->need[c])
			d->need_end = col_off(c) + col_size(c);
	p += FF_COLUMNS;
	copy_out(out, p, FRAME_SIZE);
	for (unsigned c = 0; c < FF_COLUMNS; c++) {
		d->p1[c] = d->p2[c] =
			col_size(c) == 8 ? le_get64(p + col_off(c)) : le_get32(p + col_off(c));
		d->base[c] = 0;
	}
	p += FRAME_SIZE;
	memset(d->stage_const, 0, sizeof d->stage_const);
	for (size_t s = 1; s < n; s += FF_GROUP) {
		size_t cnt = n - s < FF_GROUP ? n - s : FF_GROUP;
		size_t used = unpack_group(d, p, end, cnt);

		if (!used || !seqs_follow((const uint8_t *)d->stage, cnt, &seq))
			return -EBADMSG;
		if (d->need_end) /* a reader of a few channels reads them right away: keep them cached */
			for (size_t i = 0; i < cnt; i++)
				memcpy(out + s + i, d->stage + i, d->need_end);
		else
			copy_out(out + s, d->stage, cnt * FRAME_SIZE);
		p += used;
	}
	return p == end && seq == last ? 0 : -EBADMSG;
}

/* --- COLS codec (format 2): layouts --- */

/* The head's parts: id, then its columns (offset, width). */
static const struct {
	uint8_t id, ncols;
	uint8_t off[3], width[3];
} head_parts[] = {
	{ BLOCKCODEC_SEQ, 1, { 0 }, { 8 } },
	{ BLOCKCODEC_T_NS, 1, { 8 }, { 8 } },
	{ BLOCKCODEC_PRESENT, 1, { 16 }, { 8 } },
	{ BLOCKCODEC_SESSION, 1, { 24 }, { 8 } },
	{ BLOCKCODEC_IDS, 3, { 40, 42, 43 }, { 2, 1, 1 } },
	{ BLOCKCODEC_FLAGS, 2, { 44, 46 }, { 2, 2 } },
};

_Static_assert(offsetof(struct pw_frame, version) == 40 && offsetof(struct pw_frame, game) == 42 &&
		       offsetof(struct pw_frame, feed) == 43 &&
		       offsetof(struct pw_frame, flags) == 44 &&
		       offsetof(struct pw_frame, flags_known) == 46,
	       "the head parts' columns");
_Static_assert((int)FRAME_P_COUNT < (int)BLOCKCODEC_SEQ, "channel ids are below the parts'");

static void layout_add(struct blockcodec_layout *l, unsigned off, unsigned width, unsigned flags)
{
	l->col[l->ncols++] =
		(struct blockcodec_col){ (uint16_t)off, (uint8_t)width, (uint8_t)flags };
	l->chunk[l->nchunks - 1].ncols++;
}

static void layout_chunk(struct blockcodec_layout *l, unsigned id)
{
	l->chunk[l->nchunks++] = (struct blockcodec_chunk){ (uint8_t)id, (uint8_t)l->ncols, 0 };
}

void blockcodec_layout_default(struct blockcodec_layout *l)
{
	uint8_t used[FRAME_SIZE] = { 0 };

	memset(l, 0, sizeof *l);
	for (size_t i = 0; i < sizeof head_parts / sizeof *head_parts; i++) {
		layout_chunk(l, head_parts[i].id);
		for (unsigned j = 0; j < head_parts[i].ncols; j++)
			layout_add(l, head_parts[i].off[j], head_parts[i].width[j], 0);
	}
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const struct frame_channel *c = &frame_channels[b];
		unsigned w = c->size / c->n, fl = c->type == FRAME_T_F32 || c->type == FRAME_T_F64;

		layout_chunk(l, b);
		for (unsigned j = 0; j < c->n; j++)
			layout_add(l, c->off + j * w, w, fl ? BLOCKCODEC_COL_FLOAT : 0);
	}
	layout_chunk(l, BLOCKCODEC_DERIVED);
	layout_add(l, offsetof(struct pw_frame, derived), 8, 0);
	for (unsigned i = 0; i < l->ncols; i++)
		memset(used + l->col[i].off, 1, l->col[i].width);
	/* what no field claims, in the widest aligned columns that fit */
	layout_chunk(l, BLOCKCODEC_REST);
	for (unsigned off = 0; off < FRAME_SIZE;) {
		unsigned w = 8;

		if (used[off]) {
			off++;
			continue;
		}
		while (w > 1 && (off % w || off + w > FRAME_SIZE || memchr(used + off, 1, w)))
			w /= 2;
		layout_add(l, off, w, 0);
		off += w;
	}
}

size_t blockcodec_layout_dump(const struct blockcodec_layout *l, uint8_t *out)
{
	uint8_t *o = out;

	le_put16(o, (uint16_t)l->ncols);
	le_put16(o + 2, (uint16_t)l->nchunks);
	o += 4;
	for (unsigned k = 0; k < l->nchunks; k++) {
		*o++ = l->chunk[k].id;
		*o++ = l->chunk[k].ncols;
	}
	for (unsigned i = 0; i < l->ncols; i++, o += 4) {
		le_put16(o, l->col[i].off);
		o[2] = l->col[i].width;
		o[3] = l->col[i].flags;
	}
	return (size_t)(o - out);
}

int blockcodec_layout_load(struct blockcodec_layout *l, const uint8_t *p, size_t len)
{
	uint8_t used[FRAME_SIZE] = { 0 }, seen[256] = { 0 };
	unsigned ncols, nchunks, at = 0;

	memset(l, 0, sizeof *l);
	if (len < 4)
		return -EPROTO;
	ncols = le_get16(p);
	nchunks = le_get16(p + 2);
	if (ncols < 1 || ncols > BLOCKCODEC_MAX_COLS || nchunks < 1 ||
	    nchunks > BLOCKCODEC_MAX_CHUNKS || len != 4 + nchunks * 2 + ncols * 4)
		return -EPROTO;
	for (unsigned k = 0; k < nchunks; k++) {
		unsigned id = p[4 + 2 * k], n = p[5 + 2 * k];

		if (n < 1 || at + n > ncols || seen[id] ||
		    (id >= FRAME_P_COUNT && (id < BLOCKCODEC_SEQ || id >= BLOCKCODEC_PART_END)))
			return -EPROTO;
		seen[id] = 1;
		l->chunk[k] = (struct blockcodec_chunk){ (uint8_t)id, (uint8_t)at, (uint8_t)n };
		at += n;
	}
	if (at != ncols)
		return -EPROTO;
	p += 4 + nchunks * 2;
	for (unsigned i = 0; i < ncols; i++, p += 4) {
		unsigned off = le_get16(p), w = p[2], fl = p[3];

		if ((w != 1 && w != 2 && w != 4 && w != 8) || off + w > FRAME_SIZE ||
		    fl & ~BLOCKCODEC_COL_FLOAT || (fl && w < 4) || memchr(used + off, 1, w))
			return -EPROTO;
		memset(used + off, 1, w);
		l->col[i] = (struct blockcodec_col){ (uint16_t)off, (uint8_t)w, (uint8_t)fl };
	}
	if (memchr(used, 0, sizeof used))
		return -EPROTO;
	l->ncols = ncols;
	l->nchunks = nchunks;
	return 0;
}

int blockcodec_layout_find(const struct blockcodec_layout *l, unsigned id)
{
	for (unsigned k = 0; k < l->nchunks; k++)
		if (l->chunk[k].id == id)
			return (int)k;
	return -1;
}

/* --- COLS codec: values, codes and the column coding --- */

#define FC_CONST 0x80
#define FC_SIGN_LOW 0x20 /* a float column's values in the sign-low map, not in order */
#define FC_GROUP_SHIFT 3 /* mode bits 3..4: groups of 32 << g codes */
#define FC_GROUP_MAX_SHIFT 2
#define FC_ZSTD_LEVEL 1
#define FC_ZSTD_MIN 48 /* smaller chunks are not worth a zstd frame */
/*
 * Packed bytes whose byte histogram holds more than this many bits a byte
 * are not given to zstd. Measured over bench_framefile's chunks (the hour
 * and every emulator run, 201,171 tries): 94,219 are above 7.55, 77 % of
 * the bytes zstd was given; it kept 5 of them, 0.015 % of what it saved.
 */
#define FC_ZSTD_H0_MAX 7.55
/*
 * A chunk whose zstd form was not kept waits 2^misses - 1 blocks before it
 * is tried again (misses in a row, at most this many: 1, 3, 7 blocks); a
 * kept form ends the wait. A run's chunk is alike from block to block: the
 * receive clock (t_ns) was tried in 80 % of a Forza run's blocks and never
 * kept, while most chunks tried are kept in over 95 % of them.
 */
#define FC_ZSTD_MISS_MAX 3

/* Floats as integers in their order, keeping trailing zero bits (an integer
 * value sent as a float keeps them in its mantissa): a negative float is
 * its negated magnitude, -0 the smallest integer. bits = 32 or 64. */
static uint64_t to_order(uint64_t u, unsigned bits)
{
	uint64_t sign = 1ull << (bits - 1), mask = bits == 64 ? ~0ull : (1ull << bits) - 1;

	if (u == sign || !(u & sign))
		return u;
	return (0 - (u & ~sign)) & mask;
}

static uint64_t from_order(uint64_t v, unsigned bits)
{
	uint64_t sign = 1ull << (bits - 1), mask = bits == 64 ? ~0ull : (1ull << bits) - 1;

	if (v == sign || !(v & sign))
		return v;
	return sign | ((0 - v) & mask);
}

/*
 * The ordered image u of a float as its bits rotated left by one, the sign
 * becoming the lowest bit: a float that hovers around zero (noise on a
 * lateral g, a roll angle) spans in order every integer of the exponents
 * below it, ~32 bits a value; sign-low, only its own exponents' (~27).
 */
static uint64_t order_to_sign_low(uint64_t v, unsigned bits)
{
	uint64_t u = from_order(v, bits), mask = bits == 64 ? ~0ull : (1ull << bits) - 1;

	return ((u << 1) | (u >> (bits - 1))) & mask;
}

static uint64_t sign_low_to_float(uint64_t v, unsigned bits)
{
	return (v >> 1) | ((v & 1) << (bits - 1));
}

/* from_order for 32 bits without a branch (-0's image maps back by the same rule). */
static inline uint32_t from_order32(uint32_t v)
{
	uint32_t neg = (uint32_t)((int32_t)v >> 31);

	return v ^ (neg & (v ^ (0x80000000u | (0u - v))));
}

static uint64_t load_w(const uint8_t *p, unsigned w)
{
	switch (w) {
	case 1:
		return p[0];
	case 2:
		return le_get16(p);
	case 4:
		return le_get32(p);
	default:
		return le_get64(p);
	}
}

static void store_w(uint8_t *p, unsigned w, uint64_t v)
{
	switch (w) {
	case 1:
		p[0] = (uint8_t)v;
		break;
	case 2:
		le_put16(p, (uint16_t)v);
		break;
	case 4:
		le_put32(p, (uint32_t)v);
		break;
	default:
		le_put64(p, v);
		break;
	}
}

/*
 * The W-bit residuals of rows s .. s + cnt - 1 (s >= 1) in mode m into out;
 * v and l are whole columns, mask keeps W bits. Returns their OR. One loop
 * per mode, so that each vectorizes.
 */
static uint64_t residuals(unsigned m, const uint64_t *v, const uint64_t *l, size_t s, size_t cnt,
			  uint64_t mask, uint64_t *out)
{
	uint64_t all = 0;
	size_t i = 0;

	if (m == FF_DELTA2 && s == 1 && cnt) { /* the first row stands in for row -1 */
		all |= out[0] = (v[1] - v[0]) & mask;
		i = 1;
	}
	switch (m) {
	case FF_RAW:
		for (; i < cnt; i++)
			all |= out[i] = v[s + i] & mask;
		break;
	case FF_XOR:
		for (; i < cnt; i++)
			all |= out[i] = (v[s + i] ^ v[s + i - 1]) & mask;
		break;
	case FF_DELTA:
		for (; i < cnt; i++)
			all |= out[i] = (v[s + i] - v[s + i - 1]) & mask;
		break;
	case FF_DELTA2:
		for (; i < cnt; i++)
			all |= out[i] = (v[s + i] - 2 * v[s + i - 1] + v[s + i - 2]) & mask;
		break;
	case FF_LEFT:
		for (; i < cnt; i++)
			all |= out[i] = (v[s + i] - l[s + i]) & mask;
		break;
	default:
		for (; i < cnt; i++)
			all |= out[i] = (v[s + i] - v[s + i - 1] - l[s + i] + l[s + i - 1]) & mask;
		break;
	}
	return all;
}

/*
 * Residuals r (W bits, low t bits zero) as codes in place; sh = 64 - W. A
 * difference x (r as a signed W-bit number) becomes zigzag(x >> t), made
 * with logical shifts only, so that the loop vectorizes (SSE2 has no 64-bit
 * arithmetic shift): with s the sign bit, x >> t is (r >> t) when s = 0, and
 * -1 - (~r >> t) when s = 1 (its low t bits are zero), whose zigzag is
 * 2 (~r >> t) + 1 (~r within the W bits).
 */
static void codes_of(unsigned m, uint64_t *r, size_t cnt, unsigned t, unsigned sh)
{
	uint64_t mask = ~0ull >> sh;

	if (m == FF_RAW || m == FF_XOR) {
		for (size_t i = 0; i < cnt; i++)
			r[i] >>= t;
		return;
	}
	for (size_t i = 0; i < cnt; i++) {
		uint64_t s = r[i] >> (63 - sh) & 1;

		r[i] = (((r[i] ^ (0 - s)) & mask) >> t) << 1 | s;
	}
}

struct fc_enc {
	uint64_t v[2][BLOCKCODEC_MAX_ROWS]; /* this column's values, the previous one's */
	uint64_t code[BLOCKCODEC_MAX_ROWS];
	uint64_t lo[BLOCKCODEC_MAX_ROWS / FF_GROUP + 1], hi[BLOCKCODEC_MAX_ROWS / FF_GROUP + 1];
	uint8_t *packed; /* a chunk's packed form before zstd */
	size_t packed_cap;
	ZSTD_CCtx *zc;
	/* per chunk: its last blocks in a row whose zstd form was not kept (or
	 * not tried, hopeless), and the blocks to pass before trying it again */
	uint8_t zmiss[BLOCKCODEC_MAX_CHUNKS], zwait[BLOCKCODEC_MAX_CHUNKS];
};

/* Bytes of groups of cnt codes in mode m at shift t over sampled rows. */
static size_t sample_cost(const uint64_t *v, const uint64_t *l, size_t n, unsigned m, unsigned sh,
			  uint64_t *code)
{
	size_t groups = pack_groups(n), stride = (groups + FF_SAMPLE_GROUPS - 1) / FF_SAMPLE_GROUPS;
	size_t cost = 0, k = 0;
	uint64_t all = 0, prev = 0, mask = sh ? (1ull << (64 - sh)) - 1 : ~0ull;
	unsigned t;

	for (size_t g = 0; g < groups; g += stride) {
		size_t s = 1 + g * FF_GROUP, cnt = n - s < FF_GROUP ? n - s : FF_GROUP;

		all |= residuals(m, v, l, s, cnt, mask, code + k);
		k += cnt;
	}
	t = all ? (unsigned)__builtin_ctzll(all) : 0;
	codes_of(m, code, k, t, sh);
	for (size_t i = 0; i < k; i += FF_GROUP)
		cost += group_cost(code + i, k - i < FF_GROUP ? k - i : FF_GROUP, &prev);
	return cost;
}

/*
 * The group size, 32 << g, that packs the n codes smallest, from the
 * lowest and highest code of each run of 32 (lo, hi: ng of them): noisy
 * columns, whose range hardly changes from group to group, save a header
 * (2 bytes or more) per 32 codes in larger groups; smooth ones keep each
 * group's range narrow in small ones. Leaves each group of the chosen size's
 * lowest and highest code in lo[j], hi[j].
 */
static unsigned group_choice(uint64_t *lo, uint64_t *hi, size_t ng, size_t n)
{
	size_t best = SIZE_MAX;
	unsigned g_best = 0;

	for (unsigned g = 0; g <= FC_GROUP_MAX_SHIFT; g++) {
		size_t per = (size_t)1 << g, cost = 0;
		uint64_t prev = 0;

		for (size_t j = 0; j < ng; j += per) {
			uint64_t a = lo[j], b = hi[j];
			size_t cnt = n - j * FF_GROUP < per * FF_GROUP ? n - j * FF_GROUP
								       : per * FF_GROUP;

			for (size_t q = j + 1; q < j + per && q < ng; q++) {
				a = lo[q] < a ? lo[q] : a;
				b = hi[q] > b ? hi[q] : b;
			}
			cost += 1 + varint_len(zz(a - prev, 0)) + (cnt * bit_width(b - a) + 7) / 8;
			prev = a;
		}
		if (cost < best) {
			best = cost;
			g_best = g;
		}
	}
	if (g_best)
		for (size_t j = 0, per = (size_t)1 << g_best; j < ng; j += per) {
			uint64_t a = lo[j], b = hi[j];

			for (size_t q = j + 1; q < j + per && q < ng; q++) {
				a = lo[q] < a ? lo[q] : a;
				b = hi[q] > b ? hi[q] : b;
			}
			lo[j >> g_best] = a;
			hi[j >> g_best] = b;
		}
	return g_best;
}

/* The mode of the n values v that costs least on a sample, and its cost. */
static unsigned best_mode(struct fc_enc *e, const uint64_t *v, const uint64_t *l, size_t n,
			  unsigned sh, size_t *cost)
{
	unsigned best = FF_RAW;

	*cost = SIZE_MAX;
	for (unsigned m = 0; m < (l ? FF_MODES : FF_LEFT); m++) {
		size_t c = sample_cost(v, l, n, m, sh, e->code);

		if (c < *cost) {
			*cost = c;
			best = m;
		}
	}
	return best;
}

/*
 * Code one column of n rows (values v, left column l or NULL) into o. A
 * float column (flt) whose block holds both signs is also tried in the
 * sign-low map; when that wins, v is left in it (the next column's left).
 */
static uint8_t *col_encode(struct fc_enc *e, uint64_t *v, const uint64_t *l, size_t n,
			   unsigned width, int flt, uint8_t *o)
{
	unsigned sh = 64 - 8 * width, bits = 8 * width, best, t, g;
	uint64_t all, mask = sh ? (1ull << (64 - sh)) - 1 : ~0ull, prev = 0, diff = 0;
	uint64_t neg = 0, pos = 0;
	size_t best_cost, i, ng, gs;
	unsigned map = 0;

	for (i = 0; i < n; i++) {
		diff |= v[i] ^ v[0];
		neg |= v[i];
		pos |= ~v[i];
	}
	if (!diff) {
		*o++ = FC_CONST;
		store_w(o, width, v[0]);
		return o + width;
	}
	best = best_mode(e, v, l, n, sh, &best_cost);
	if (flt && (neg & pos) >> (bits - 1) & 1) {
		size_t c;
		unsigned m;

		for (i = 0; i < n; i++)
			v[i] = order_to_sign_low(v[i], bits);
		m = best_mode(e, v, l, n, sh, &c);
		if (c < best_cost) {
			best = m;
			map = FC_SIGN_LOW;
		} else {
			for (i = 0; i < n; i++)
				v[i] = to_order(sign_low_to_float(v[i], bits), bits);
		}
	}
	all = residuals(best, v, l, 1, n - 1, mask, e->code);
	t = all ? (unsigned)__builtin_ctzll(all) : 0;
	codes_of(best, e->code, n - 1, t, sh);
	ng = (n - 1 + FF_GROUP - 1) / FF_GROUP;
	for (size_t j = 0; j < ng; j++) {
		const uint64_t *c = e->code + j * FF_GROUP;
		size_t cnt = n - 1 - j * FF_GROUP < FF_GROUP ? n - 1 - j * FF_GROUP : FF_GROUP;
		uint64_t a = c[0], b = c[0];

		for (i = 1; i < cnt; i++) {
			a = c[i] < a ? c[i] : a;
			b = c[i] > b ? c[i] : b;
		}
		e->lo[j] = a;
		e->hi[j] = b;
	}
	g = group_choice(e->lo, e->hi, ng, n - 1);
	*o++ = (uint8_t)(best | map | g << FC_GROUP_SHIFT);
	*o++ = (uint8_t)t;
	store_w(o, width, v[0]);
	o += width;
	gs = (size_t)FF_GROUP << g;
	for (size_t s = 0, j = 0; s + 1 < n; s += gs, j++) {
		size_t cnt = n - 1 - s < gs ? n - 1 - s : gs;
		unsigned w = bit_width(e->hi[j] - e->lo[j]);

		*o++ = (uint8_t)w;
		o = varint_put(o, zz(e->lo[j] - prev, 0));
		o = pack_values(o, e->code + s, cnt, e->lo[j], w);
		prev = e->lo[j];
	}
	return o;
}

static size_t col_cap(unsigned width, size_t n)
{
	return 2 + width + pack_groups(n) * FF_GROUP_MAX_BYTES;
}

size_t blockcodec_chunk_cap(const struct blockcodec_layout *l, unsigned k, size_t n)
{
	size_t cap = 1 + FF_VARINT_MAX;

	for (unsigned j = 0; j < l->chunk[k].ncols; j++)
		cap += col_cap(l->col[l->chunk[k].first + j].width, n);
	return cap;
}

/* Column c of the n frames at f, as the codec's values. */
static int col_gather(const struct blockcodec_col *c, const struct pw_frame *f, size_t n,
		      uint64_t *v)
{
	const uint8_t *p = (const uint8_t *)f + c->off;
	uint64_t any = 0;

	switch (c->width) {
	case 1:
		for (size_t i = 0; i < n; i++, p += FRAME_SIZE)
			any |= v[i] = p[0];
		break;
	case 2:
		for (size_t i = 0; i < n; i++, p += FRAME_SIZE)
			any |= v[i] = le_get16(p);
		break;
	case 4:
		if (c->flags & BLOCKCODEC_COL_FLOAT) {
			for (size_t i = 0; i < n; i++, p += FRAME_SIZE) {
				uint32_t u = le_get32(p), mag = u & 0x7fffffffu;

				any |= u;
				v[i] = (u >> 31) && mag ? (0u - mag) : u; /* to_order(u, 32) */
			}
			return any != 0;
		}
		for (size_t i = 0; i < n; i++, p += FRAME_SIZE)
			any |= v[i] = le_get32(p);
		break;
	default:
		for (size_t i = 0; i < n; i++, p += FRAME_SIZE)
			any |= v[i] = le_get64(p);
		break;
	}
	if (c->flags & BLOCKCODEC_COL_FLOAT)
		for (size_t i = 0; i < n; i++)
			v[i] = to_order(v[i], 8 * c->width);
	return any != 0;
}

static int fc_packed_room(struct fc_enc *e, size_t need)
{
	uint8_t *p;

	if (need <= e->packed_cap)
		return 0;
	if (!(p = realloc(e->packed, need)))
		return -ENOMEM;
	e->packed = p;
	e->packed_cap = need;
	return 0;
}

/* 1 when the order-0 entropy of the len bytes at p is above FC_ZSTD_H0_MAX. */
static int zstd_hopeless(const uint8_t *p, size_t len)
{
	uint32_t h[4][256] = { { 0 } };
	double sum = 0;
	size_t i;

	/* four histograms: consecutive equal bytes do not wait on one counter */
	for (i = 0; i + 4 <= len; i += 4) {
		h[0][p[i]]++;
		h[1][p[i + 1]]++;
		h[2][p[i + 2]]++;
		h[3][p[i + 3]]++;
	}
	for (; i < len; i++)
		h[0][p[i]]++;
	for (unsigned b = 0; b < 256; b++) {
		uint32_t c = h[0][b] + h[1][b] + h[2][b] + h[3][b];

		if (c)
			sum += (double)c * log2((double)c);
	}
	/* H0 = log2(len) - sum / len */
	return log2((double)len) - sum / (double)len > FC_ZSTD_H0_MAX;
}

static size_t cols_encode(struct fc_enc *e, const struct blockcodec_layout *l, unsigned k,
			  const struct pw_frame *f, size_t n, uint8_t *out)
{
	const struct blockcodec_chunk *ch = &l->chunk[k];
	uint8_t *o = out + 1;
	int any = 0, cur = 0;

	for (unsigned j = 0; j < ch->ncols; j++) {
		const struct blockcodec_col *c = &l->col[ch->first + j];
		int left = j > 0 && l->col[ch->first + j - 1].width == c->width;

		any |= col_gather(c, f, n, e->v[cur]);
		o = col_encode(e, e->v[cur], left ? e->v[!cur] : NULL, n, c->width,
			       c->flags & BLOCKCODEC_COL_FLOAT, o);
		cur = !cur;
	}
	if (!any)
		return 0;
	out[0] = 0;
	if ((size_t)(o - out - 1) < FC_ZSTD_MIN || !e->zc)
		return (size_t)(o - out);
	if (e->zwait[k]) { /* its last tries did not pay: not this block */
		e->zwait[k]--;
		return (size_t)(o - out);
	}
	/* the zstd form, when it pays: it goes into e->packed, then over the packed bytes */
	if (!zstd_hopeless(out + 1, (size_t)(o - out - 1)) &&
	    fc_packed_room(e, FF_VARINT_MAX + ZSTD_compressBound((size_t)(o - out - 1))) == 0) {
		size_t plen = (size_t)(o - out - 1);
		uint8_t *z = varint_put(e->packed, plen);
		size_t zn = ZSTD_compressCCtx(e->zc, z, e->packed_cap - (size_t)(z - e->packed),
					      out + 1, plen, FC_ZSTD_LEVEL);

		if (!ZSTD_isError(zn) && (size_t)(z - e->packed) + zn + 8 <= plen - plen / 16) {
			out[0] = 1;
			e->zmiss[k] = 0;
			memcpy(out + 1, e->packed, (size_t)(z - e->packed) + zn);
			return 1 + (size_t)(z - e->packed) + zn;
		}
	}
	/* not kept: the chunk waits 1, 3, then 7 blocks before the next try */
	e->zmiss[k] = e->zmiss[k] < FC_ZSTD_MISS_MAX ? e->zmiss[k] + 1 : FC_ZSTD_MISS_MAX;
	e->zwait[k] = (uint8_t)((1u << e->zmiss[k]) - 1);
	return (size_t)(o - out);
}

/* --- COLS codec: decoding --- */

struct fc_dec {
	uint64_t v[2][BLOCKCODEC_MAX_ROWS];
	uint8_t *unz; /* a zstd chunk's packed bytes */
	size_t unz_cap;
	ZSTD_DCtx *zd;
};

/* cnt codes of w bits (1..64) from p, each + base; reads 8 bytes past them. */
static void unpack_codes(const uint8_t *p, unsigned w, size_t cnt, uint64_t base, uint64_t *out)
{
	if (w <= 32 && cnt == FF_GROUP) {
		uint32_t tmp[FF_GROUP];

		unpack32(p, w, cnt, 0, tmp);
		for (size_t i = 0; i < cnt; i++)
			out[i] = base + tmp[i];
		return;
	}
	unpack64(p, w, cnt, base, out);
}

/* Values v[s .. s + cnt) from their codes (the inverse of residual and
 * code_of); 0 when a raw or xor code does not fit the column. */
static int col_undo(unsigned mode, unsigned t, uint64_t mask, const uint64_t *code, size_t cnt,
		    const uint64_t *l, uint64_t *v, size_t s)
{
	uint64_t p1 = v[s - 1], p2 = v[s >= 2 ? s - 2 : 0], x, bad = 0;
	size_t i;

	switch (mode) {
	case FF_RAW:
	case FF_XOR:
		for (i = 0; t && i < cnt; i++)
			bad |= code[i] >> (64 - t);
		for (i = 0; i < cnt; i++) {
			x = code[i] << t;
			v[s + i] = x = mode == FF_RAW ? x : p1 ^ x;
			bad |= x & ~mask;
			p1 = x;
		}
		return !bad;
	case FF_DELTA:
		for (i = 0; i < cnt; i++)
			v[s + i] = p1 = (p1 + (unzz(code[i]) << t)) & mask;
		break;
	case FF_DELTA2:
		for (i = 0; i < cnt; i++) {
			x = (2 * p1 - p2 + (unzz(code[i]) << t)) & mask;
			p2 = p1;
			v[s + i] = p1 = x;
		}
		break;
	case FF_LEFT:
		for (i = 0; i < cnt; i++)
			v[s + i] = (l[s + i] + (unzz(code[i]) << t)) & mask;
		break;
	default:
		for (i = 0; i < cnt; i++)
			v[s + i] = p1 =
				(p1 + l[s + i] - l[s + i - 1] + (unzz(code[i]) << t)) & mask;
		break;
	}
	return 1;
}

/* A run of FF_GROUP values made narrow in a buffer first (a fixed count the
 * compiler vectorises), then stored stride bytes apart: 1 when it was one. */
#define STORE_RUN(T, CONV)                                                       \
	do {                                                                     \
		T out_[FF_GROUP];                                                \
		for (size_t i_ = 0; i_ < FF_GROUP; i_++)                         \
			out_[i_] = (T)(CONV(v[i_]));                             \
		if (stride == sizeof(T))                                         \
			memcpy(dst, out_, sizeof out_);                          \
		else                                                             \
			for (size_t i_ = 0; i_ < FF_GROUP; i_++)                 \
				memcpy(dst + i_ * stride, &out_[i_], sizeof(T)); \
	} while (0)
#define AS_IS(x) (x)
#define FROM_ORDER32(x) from_order32((uint32_t)(x))

/* Values v (in the sign-low map with map set) as the column's bytes at dst. */
static void col_store(const struct blockcodec_col *c, unsigned map, const uint64_t *v, size_t n,
		      uint8_t *dst, size_t stride)
{
	unsigned w = c->width;
	int is_float = (c->flags & BLOCKCODEC_COL_FLOAT) != 0;

	if (map == FC_SIGN_LOW && w == 4) {
		for (size_t i = 0; i < n; i++, dst += stride)
			le_put32(dst, (uint32_t)sign_low_to_float(v[i], 32));
		return;
	}
	if (map == FC_SIGN_LOW) {
		for (size_t i = 0; i < n; i++, dst += stride)
			le_put64(dst, sign_low_to_float(v[i], 64));
		return;
	}
	if (n == FF_GROUP && (w != 8 || !is_float)) {
		if (w == 4 && is_float)
			STORE_RUN(uint32_t, FROM_ORDER32);
		else if (w == 4)
			STORE_RUN(uint32_t, AS_IS);
		else if (w == 2)
			STORE_RUN(uint16_t, AS_IS);
		else if (w == 1)
			STORE_RUN(uint8_t, AS_IS);
		else
			STORE_RUN(uint64_t, AS_IS);
		return;
	}
	if (is_float && w == 4) {
		for (size_t i = 0; i < n; i++, dst += stride)
			le_put32(dst, from_order32((uint32_t)v[i]));
		return;
	}
	if (is_float) {
		for (size_t i = 0; i < n; i++, dst += stride)
			le_put64(dst, from_order(v[i], 64));
		return;
	}
	switch (w) {
	case 1:
		for (size_t i = 0; i < n; i++, dst += stride)
			*dst = (uint8_t)v[i];
		break;
	case 2:
		for (size_t i = 0; i < n; i++, dst += stride)
			le_put16(dst, (uint16_t)v[i]);
		break;
	case 4:
		for (size_t i = 0; i < n; i++, dst += stride)
			le_put32(dst, (uint32_t)v[i]);
		break;
	default:
		for (size_t i = 0; i < n; i++, dst += stride)
			le_put64(dst, v[i]);
		break;
	}
}

/* n copies of the width bytes at one, stride bytes apart. */
static void store_same(const uint8_t *one, unsigned width, size_t n, uint8_t *dst, size_t stride)
{
#define SAME(N)                                       \
	for (size_t i = 0; i < n; i++, dst += stride) \
		memcpy(dst, one, N);                  \
	break;
	switch (width) {
	case 1:
		SAME(1)
	case 2:
		SAME(2)
	case 4:
		SAME(4)
	default:
		SAME(8)
	}
#undef SAME
}

/*
 * The values of column c from its codes into v, and (dst not NULL) stored
 * at dst, stride bytes apart, a run of 32 at a time while they are in
 * cache. Returns bytes used or 0 when malformed.
 */
static size_t col_decode(const uint8_t *p, const uint8_t *end, size_t n,
			 const struct blockcodec_col *c, const uint64_t *l, uint64_t *v, int keep,
			 uint8_t *dst, size_t stride)
{
	const uint8_t *start = p;
	unsigned width = c->width, bits = 8 * width, sh = 64 - bits, mode, t, g, map;
	uint64_t mask = sh ? (1ull << bits) - 1 : ~0ull, base = 0, code[FF_GROUP];
	uint8_t pad[(FF_GROUP << FC_GROUP_MAX_SHIFT) * 8 + 8];

	if (p >= end)
		return 0;
	mode = *p++;
	if (mode == FC_CONST) {
		if ((size_t)(end - p) < width)
			return 0;
		v[0] = load_w(p, width);
		for (size_t i = 1; keep && i < n; i++)
			v[i] = v[0];
		if (dst) {
			uint8_t one[8];

			col_store(c, 0, v, 1, one, width);
			store_same(one, width, n, dst, stride);
		}
		return (size_t)(p + width - start);
	}
	map = mode & FC_SIGN_LOW;
	g = (mode & ~FC_SIGN_LOW) >> FC_GROUP_SHIFT;
	mode &= (1u << FC_GROUP_SHIFT) - 1;
	if (mode >= FF_MODES || g > FC_GROUP_MAX_SHIFT || (mode >= FF_LEFT && !l) ||
	    (map && !(c->flags & BLOCKCODEC_COL_FLOAT)) || (size_t)(end - p) < 1u + width)
		return 0;
	if ((t = *p++) >= bits)
		return 0;
	v[0] = load_w(p, width);
	p += width;
	if (dst)
		col_store(c, map, v, 1, dst, stride);
	for (size_t s = 1, gs = (size_t)FF_GROUP << g; s < n; s += gs) {
		size_t cnt = n - s < gs ? n - s : gs, nbytes, used;
		unsigned w;
		uint64_t delta;
		const uint8_t *bitsp;

		if (p >= end || (w = *p++) > 64 || !(used = varint_get(p, end, &delta)))
			return 0;
		p += used;
		base += unzz(delta);
		nbytes = (cnt * w + 7) / 8;
		if ((size_t)(end - p) < nbytes)
			return 0;
		bitsp = p;
		if (w && (size_t)(end - p) < nbytes + 8) {
			/* the unpackers read 8 bytes at a time */
			memcpy(pad, p, nbytes);
			memset(pad + nbytes, 0, 8);
			bitsp = pad;
		}
		/* a group's codes in runs of 32: each run starts on a byte (32 w bits) */
		for (size_t r = 0; r < cnt; r += FF_GROUP) {
			size_t rc = cnt - r < FF_GROUP ? cnt - r : FF_GROUP;

			if (w == 0)
				for (size_t i = 0; i < rc; i++)
					code[i] = base;
			else
				unpack_codes(bitsp + r / 8 * w, w, rc, base, code);
			if (!col_undo(mode, t, mask, code, rc, l, v, s + r))
				return 0;
			if (dst)
				col_store(c, map, v + s + r, rc, dst + (s + r) * stride, stride);
		}
		p += nbytes;
	}
	return (size_t)(p - start);
}

static int cols_decode(struct fc_dec *d, const struct blockcodec_layout *l, unsigned k,
		       const uint8_t *p, size_t len, size_t n, uint8_t *const *dst,
		       const size_t *stride)
{
	const struct blockcodec_chunk *ch = &l->chunk[k];
	const uint8_t *end = p + len;
	int cur = 0;

	if (len < 1 || p[0] > 1 || n < 1 || n > BLOCKCODEC_MAX_ROWS)
		return -EBADMSG;
	if (p[0] == 1) {
		uint64_t plen;
		size_t used = varint_get(p + 1, end, &plen), got;

		if (!used || plen > blockcodec_chunk_cap(l, k, n))
			return -EBADMSG;
		if (plen > d->unz_cap) {
			uint8_t *b = realloc(d->unz, (size_t)plen);
			if (!b)
				return -ENOMEM;
			d->unz = b;
			d->unz_cap = (size_t)plen;
		}
		if (!d->zd && !(d->zd = ZSTD_createDCtx()))
			return -ENOMEM;
		got = ZSTD_decompressDCtx(d->zd, d->unz, (size_t)plen, p + 1 + used,
					  (size_t)(end - p - 1 - (ptrdiff_t)used));
		if (ZSTD_isError(got) || got != plen)
			return -EBADMSG;
		p = d->unz;
		end = d->unz + plen;
	} else {
		p++;
	}
	for (unsigned j = 0; j < ch->ncols; j++) {
		const struct blockcodec_col *c = &l->col[ch->first + j];
		int left = j > 0 && l->col[ch->first + j - 1].width == c->width;
		/* the next column is coded against this one's values when as wide */
		int keep = j + 1 < ch->ncols && l->col[ch->first + j + 1].width == c->width;
		size_t used = col_decode(p, end, n, c, left ? d->v[!cur] : NULL, d->v[cur], keep,
					 dst[j], stride[j]);

		if (!used)
			return -EBADMSG;
		p += used;
		cur = !cur;
	}
	return p == end ? 0 : -EBADMSG;
}

/* --- the codecs --- */

struct blockcodec_enc {
	unsigned codec;
	struct ff_enc pack;
	struct fc_enc *cols;
};

struct blockcodec_dec {
	unsigned codec;
	struct ff_dec pack;
	struct fc_dec *cols;
};

struct blockcodec_enc *blockcodec_enc_new(unsigned codec)
{
	struct blockcodec_enc *e;

	if (codec >= BLOCKCODEC_COUNT || !(e = calloc(1, sizeof *e)))
		return NULL;
	e->codec = codec;
	if (codec == BLOCKCODEC_COLS &&
	    (!(e->cols = calloc(1, sizeof *e->cols)) || !(e->cols->zc = ZSTD_createCCtx()))) {
		blockcodec_enc_free(e);
		return NULL;
	}
	return e;
}

void blockcodec_enc_free(struct blockcodec_enc *e)
{
	if (!e)
		return;
	if (e->cols) {
		ZSTD_freeCCtx(e->cols->zc);
		free(e->cols->packed);
		free(e->cols);
	}
	free(e);
}

struct blockcodec_dec *blockcodec_dec_new(unsigned codec)
{
	struct blockcodec_dec *d;

	if (codec >= BLOCKCODEC_COUNT || !(d = calloc(1, sizeof *d)))
		return NULL;
	d->codec = codec;
	if (codec == BLOCKCODEC_COLS && !(d->cols = calloc(1, sizeof *d->cols))) {
		free(d);
		return NULL;
	}
	blockcodec_dec_only(d, 0);
	return d;
}

void blockcodec_dec_only(struct blockcodec_dec *d, uint64_t channels)
{
	memset(d->pack.want, !channels, sizeof d->pack.want);
	d->pack.selective = channels != 0;
	for (unsigned c = 0; channels && c < FF_COLUMNS; c++) {
		size_t lo = col_off(c), hi = lo + col_size(c);
		int want = lo < BLOCKCODEC_HEAD_BYTES;

		for (unsigned b = 0; b < FRAME_P_COUNT && !want; b++)
			want = (channels >> b & 1) && frame_channels[b].off < hi &&
			       frame_channels[b].off + frame_channels[b].size > lo;
		d->pack.want[c] = (uint8_t)want;
	}
}

void blockcodec_dec_free(struct blockcodec_dec *d)
{
	if (!d)
		return;
	if (d->cols) {
		ZSTD_freeDCtx(d->cols->zd);
		free(d->cols->unz);
		free(d->cols);
	}
	free(d);
}

size_t blockcodec_chunk_encode(struct blockcodec_enc *e, const struct blockcodec_layout *l,
			       unsigned k, const struct pw_frame *f, size_t n, uint8_t *out)
{
	return e->cols ? cols_encode(e->cols, l, k, f, n, out) : 0;
}

int blockcodec_chunk_decode(struct blockcodec_dec *d, const struct blockcodec_layout *l, unsigned k,
			    const uint8_t *p, size_t len, size_t n, uint8_t *const *dst,
			    const size_t *stride)
{
	return d->cols ? cols_decode(d->cols, l, k, p, len, n, dst, stride) : -EBADMSG;
}

size_t blockcodec_encode(struct blockcodec_enc *e, const struct pw_frame *f, size_t n, uint8_t *out)
{
	if (e->codec == BLOCKCODEC_COLS)
		return 0;
	if (e->codec == BLOCKCODEC_PACK)
		return pack_encode(&e->pack, f, n, out);
	memcpy(out, f, n * FRAME_SIZE);
	return n * FRAME_SIZE;
}

/* The payload's frames must carry the seqs first..last, strictly increasing. */
static int raw_decode(const uint8_t *p, size_t len, size_t n, uint64_t first, uint64_t last,
		      struct pw_frame *out)
{
	uint64_t seq = first;

	if (len != n * FRAME_SIZE || le_get64(p) != first ||
	    !seqs_follow(p + FRAME_SIZE, n - 1, &seq) || seq != last)
		return -EBADMSG;
	copy_out(out, p, len);
	return 0;
}

int blockcodec_decode(struct blockcodec_dec *d, const uint8_t *payload, size_t len, size_t n,
		      uint64_t first_seq, uint64_t last_seq, struct pw_frame *out)
{
	int rc;

	if (n == 0 || d->codec == BLOCKCODEC_COLS)
		return -EBADMSG;
	if (d->codec == BLOCKCODEC_PACK)
		rc = pack_decode(&d->pack, payload, len, n, first_seq, last_seq, out);
	else
		rc = raw_decode(payload, len, n, first_seq, last_seq, out);
	copy_out_done();
	return rc;
}

size_t blockcodec_encode_cap(size_t n)
{
	size_t raw = n * FRAME_SIZE, pack = pack_bound(n);

	return (pack > raw ? pack : raw) + 8; /* bit writer slack */
}

int blockcodec_payload_plausible(size_t len, size_t n)
{
	return len == n * FRAME_SIZE || (len >= pack_min(n) && len <= pack_bound(n));
}
