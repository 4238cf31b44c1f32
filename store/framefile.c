/*
 * framefile.c - frame files (framefile.h): the PACK codec, the writer with
 * its rollback-to-durable error handling, and the readers.
 *
 * Readers go through one walker (next_block) over a source that is either a
 * memory image or a file read with pread, so load, load_buf, scan and
 * open_append apply exactly the same checks.
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
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/clock.h"
#include "store/framefile.h"

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

enum ff_mode {
	FF_RAW = 0,
	FF_XOR,
	FF_DELTA,
	FF_DELTA2,
	FF_LEFT,
	FF_LEFT_DELTA,
	FF_MODES
};

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

/* --- little-endian fields --- */

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *b, uint32_t v)
{
	memcpy(b, &v, 4);
}

static void put64(uint8_t *b, uint64_t v)
{
	memcpy(b, &v, 8);
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t get32(const uint8_t *b)
{
	uint32_t v;
	memcpy(&v, b, 4);
	return v;
}

static uint64_t get64(const uint8_t *b)
{
	uint64_t v;
	memcpy(&v, b, 8);
	return v;
}

/* --- CRC-32C: SSE4.2 instruction when the CPU has it, else slicing-by-8 --- */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static int crc_hw;

static void crc_init(void)
{
	for (unsigned i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[0][i] = c;
	}
	for (unsigned i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	__builtin_cpu_init();
	crc_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t crc_sw(uint32_t c, const uint8_t *p, size_t n)
{
	for (; n >= 8; n -= 8, p += 8) {
		uint32_t lo = get32(p) ^ c, hi = get32(p + 4);
		c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		    crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		    crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		    crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
	}
	while (n--)
		c = (c >> 8) ^ crc_table[0][(c ^ *p++) & 0xff];
	return c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2"))) static uint32_t crc_x86(uint32_t c, const uint8_t *p, size_t n)
{
	uint64_t c64 = c;

	for (; n >= 8; n -= 8, p += 8)
		c64 = __builtin_ia32_crc32di(c64, get64(p));
	c = (uint32_t)c64;
	while (n--)
		c = __builtin_ia32_crc32qi(c, *p++);
	return c;
}
#else
static uint32_t crc_x86(uint32_t c, const uint8_t *p, size_t n)
{
	return crc_sw(c, p, n);
}
#endif

uint32_t framefile_crc32c(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	crc = crc_hw ? crc_x86(crc, buf, len) : crc_sw(crc, buf, len);
	return ~crc;
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
	uint64_t win[2][FF_WIN];   /* this column's window and the left one's */
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
		win[0] = get64(p + r0 * FRAME_SIZE);
		for (size_t i = 0; i <= cnt; i++)
			win[1 + i] = get64(p + (s - 1 + i) * FRAME_SIZE);
	} else {
		win[0] = get32(p + r0 * FRAME_SIZE);
		for (size_t i = 0; i <= cnt; i++)
			win[1 + i] = get32(p + (s - 1 + i) * FRAME_SIZE);
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
	unsigned nbits;            /* < 8 between calls */
};

static void bits_put(struct bitw *b, uint64_t x, unsigned w)
{
	b->acc |= x << b->nbits;
	b->nbits += w;
	put64(b->o, b->acc);
	b->o += b->nbits / 8;
	b->acc = b->nbits >= 64 ? 0 : b->acc >> (b->nbits & ~7u);
	b->nbits &= 7;
}

static uint8_t *pack_values(uint8_t *o, const uint64_t *code, size_t cnt, uint64_t base, unsigned w)
{
	struct bitw b = { o, 0, 0 };

	if (w == 0)
		return o;
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

/* Encode n (1..FRAMEFILE_BLOCK_FRAMES) frames into out[pack_bound(n) + 8]. */
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
	return (get64(p + bit / 8) >> (bit & 7)) & mask;
}

static uint32_t unzz32(uint32_t x)
{
	return (x >> 1) ^ (0u - (x & 1));
}

/* A full group of width W <= 32: every 8 values fill W bytes exactly, so
 * with W constant all shifts and offsets are constants. */
#define FF_UNPACK32_CASE(W)                                                               \
	case W:                                                                           \
		for (int k = 0; k < FF_GROUP / 8; k++, p += W) {                          \
			_Pragma("GCC unroll 8") for (int j = 0; j < 8; j++) out[8 * k + j] =    \
				base + (uint32_t)bits_at(p, (size_t)(j * W), (1ull << W) - 1); \
		}                                                                         \
		break;

/* cnt values of w (1..32) bits from p (readable 8 bytes past them). */
static void unpack32(const uint8_t *p, unsigned w, size_t cnt, uint32_t base, uint32_t *out)
{
	if (cnt == FF_GROUP) {
		switch (w) {
		FF_UNPACK32_CASE(1) FF_UNPACK32_CASE(2) FF_UNPACK32_CASE(3) FF_UNPACK32_CASE(4)
		FF_UNPACK32_CASE(5) FF_UNPACK32_CASE(6) FF_UNPACK32_CASE(7) FF_UNPACK32_CASE(8)
		FF_UNPACK32_CASE(9) FF_UNPACK32_CASE(10) FF_UNPACK32_CASE(11) FF_UNPACK32_CASE(12)
		FF_UNPACK32_CASE(13) FF_UNPACK32_CASE(14) FF_UNPACK32_CASE(15) FF_UNPACK32_CASE(16)
		FF_UNPACK32_CASE(17) FF_UNPACK32_CASE(18) FF_UNPACK32_CASE(19) FF_UNPACK32_CASE(20)
		FF_UNPACK32_CASE(21) FF_UNPACK32_CASE(22) FF_UNPACK32_CASE(23) FF_UNPACK32_CASE(24)
		FF_UNPACK32_CASE(25) FF_UNPACK32_CASE(26) FF_UNPACK32_CASE(27) FF_UNPACK32_CASE(28)
		FF_UNPACK32_CASE(29) FF_UNPACK32_CASE(30) FF_UNPACK32_CASE(31) FF_UNPACK32_CASE(32)
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
		out[i] = base + (bits_at(p, bit, 0xffffffffu) | bits_at(p, bit + 32, mask >> 32) << 32);
}

/*
 * Values from codes, stored into the window (v, l point 2 into windows) and
 * into the frames at dst, one frame apart. EXPR is the inverse of the mode
 * in terms of p1, p2 (the two previous values, kept in registers: reading
 * them back from v[] would chain every row through store forwarding).
 */
#define FF_UNDO(T, PUT, EXPR)                                  \
	for (i = 0; i < n; i++) {                              \
		T x = (T)(EXPR);                               \
		v[i] = x;                                      \
		PUT(dst + (size_t)i * FRAME_SIZE, x);          \
		p2 = p1;                                       \
		p1 = x;                                        \
	}                                                      \
	break;

static void undo32(unsigned mode, const uint32_t *code, const uint32_t *l, uint32_t *v, size_t cnt,
		   uint8_t *dst)
{
	uint32_t p1 = v[-1], p2 = v[-2];
	long i, n = (long)cnt;

	switch (mode) {
	case FF_RAW: FF_UNDO(uint32_t, put32, code[i])
	case FF_XOR: FF_UNDO(uint32_t, put32, p1 ^ code[i])
	case FF_DELTA: FF_UNDO(uint32_t, put32, p1 + unzz32(code[i]))
	case FF_DELTA2: FF_UNDO(uint32_t, put32, 2 * p1 - p2 + unzz32(code[i]))
	case FF_LEFT: FF_UNDO(uint32_t, put32, l[i] + unzz32(code[i]))
	default: FF_UNDO(uint32_t, put32, p1 + l[i] - l[i - 1] + unzz32(code[i]))
	}
}

static void undo64(unsigned mode, const uint64_t *code, const uint64_t *l, uint64_t *v, size_t cnt,
		   uint8_t *dst)
{
	uint64_t p1 = v[-1], p2 = v[-2];
	long i, n = (long)cnt;

	switch (mode) {
	case FF_RAW: FF_UNDO(uint64_t, put64, code[i])
	case FF_XOR: FF_UNDO(uint64_t, put64, p1 ^ code[i])
	case FF_DELTA: FF_UNDO(uint64_t, put64, p1 + unzz(code[i]))
	case FF_DELTA2: FF_UNDO(uint64_t, put64, 2 * p1 - p2 + unzz(code[i]))
	case FF_LEFT: FF_UNDO(uint64_t, put64, l[i] + unzz(code[i]))
	default: FF_UNDO(uint64_t, put64, p1 + l[i] - l[i - 1] + unzz(code[i]))
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
				put64(p + i * FRAME_SIZE, x);
		else
			for (size_t i = 0; i < cnt; i++)
				put32(p + i * FRAME_SIZE, (uint32_t)x);
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
		uint64_t seq = get64(f);

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

	if (len < FF_COLUMNS + FRAME_SIZE || get64(p + FF_COLUMNS) != first)
		return -EBADMSG;
	for (unsigned c = 0; c < FF_COLUMNS; c++) {
		d->mode[c] = p[c];
		if (p[c] >= FF_MODES || (p[c] >= FF_LEFT && !col_has_left(c)))
			return -EBADMSG;
	}
	p += FF_COLUMNS;
	copy_out(out, p, FRAME_SIZE);
	for (unsigned c = 0; c < FF_COLUMNS; c++) {
		d->p1[c] = d->p2[c] = col_size(c) == 8 ? get64(p + col_off(c)) : get32(p + col_off(c));
		d->base[c] = 0;
	}
	p += FRAME_SIZE;
	memset(d->stage_const, 0, sizeof d->stage_const);
	for (size_t s = 1; s < n; s += FF_GROUP) {
		size_t cnt = n - s < FF_GROUP ? n - s : FF_GROUP;
		size_t used = unpack_group(d, p, end, cnt);

		if (!used || !seqs_follow((const uint8_t *)d->stage, cnt, &seq))
			return -EBADMSG;
		copy_out(out + s, d->stage, cnt * FRAME_SIZE);
		p += used;
	}
	return p == end && seq == last ? 0 : -EBADMSG;
}

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
	uint32_t crc = framefile_crc32c(0, hdr, 12);

	crc = framefile_crc32c(crc, hdr + 16, FRAMEFILE_BLOCK_HEADER_SIZE - 16);
	return framefile_crc32c(crc, payload, len);
}

/* Fill the 32-byte header in front of a payload already at hdr + 32. */
static void block_seal(uint8_t *hdr, uint32_t len, uint32_t count, uint64_t first, uint64_t last)
{
	put32(hdr, FF_BLOCK_MAGIC);
	put32(hdr + 4, len);
	put32(hdr + 8, count);
	put64(hdr + 16, first);
	put64(hdr + 24, last);
	put32(hdr + 12, block_crc(hdr, hdr + FRAMEFILE_BLOCK_HEADER_SIZE, len));
}

static void block_parse(const uint8_t *h, struct ff_block *b)
{
	b->payload_len = get32(h + 4);
	b->count = get32(h + 8);
	b->crc = get32(h + 12);
	b->first_seq = get64(h + 16);
	b->last_seq = get64(h + 24);
}

/* Header checks that need no payload: magic, sizes, seq order. */
static int block_plausible(const uint8_t *h, const struct ff_block *b, int have_prev,
			   uint64_t prev_last)
{
	if (get32(h) != FF_BLOCK_MAGIC || b->count < 1 || b->count > FRAMEFILE_BLOCK_MAX_FRAMES)
		return 0;
	if (b->payload_len < pack_min(b->count) && b->payload_len != b->count * FRAME_SIZE)
		return 0;
	if (b->payload_len > pack_bound(b->count) && b->payload_len != b->count * FRAME_SIZE)
		return 0;
	if (b->last_seq < b->first_seq || b->last_seq - b->first_seq < b->count - 1)
		return 0;
	return !have_prev || b->first_seq > prev_last;
}

/* Decode a block's payload into out; -EBADMSG when it is malformed or its
 * frames do not carry the seqs the block header promises. */
static int decode_payload(uint32_t codec, struct ff_dec *d, const uint8_t *p,
			  const struct ff_block *b, struct pw_frame *out)
{
	uint64_t seq;

	if (codec == FRAMEFILE_CODEC_PACK)
		return pack_decode(d, p, b->payload_len, b->count, b->first_seq, b->last_seq, out);
	seq = b->first_seq;
	if (b->payload_len != (size_t)b->count * FRAME_SIZE || get64(p) != b->first_seq ||
	    !seqs_follow(p + FRAME_SIZE, b->count - 1, &seq) || seq != b->last_seq)
		return -EBADMSG;
	copy_out(out, p, b->payload_len);
	return 0;
}

/* --- file header --- */

static void hdr_encode(const struct framefile_hdr *h, uint8_t *b)
{
	memset(b, 0, FRAMEFILE_HEADER_SIZE);
	memcpy(b, FRAMEFILE_MAGIC, 8);
	put16(b + 8, FRAMEFILE_FORMAT_VERSION);
	put16(b + 10, FRAMEFILE_HEADER_SIZE);
	put16(b + 12, FRAME_SIZE);
	put16(b + 14, FRAME_VERSION);
	put32(b + 16, h->codec);
	put32(b + 20, FRAMEFILE_BLOCK_FRAMES);
	put64(b + 24, (uint64_t)h->created_ns);
	memcpy(b + 32, h->feed, strlen(h->feed));
	memcpy(b + 64, h->run_id, strlen(h->run_id));
	put32(b + FF_HDR_CRC_OFF, framefile_crc32c(0, b, FF_HDR_CRC_OFF));
}

static int hdr_decode(const uint8_t *b, struct framefile_hdr *h)
{
	memset(h, 0, sizeof *h);
	if (memcmp(b, FRAMEFILE_MAGIC, 8) != 0 ||
	    get32(b + FF_HDR_CRC_OFF) != framefile_crc32c(0, b, FF_HDR_CRC_OFF))
		return -EPROTO;
	if (get16(b + 8) != FRAMEFILE_FORMAT_VERSION || get16(b + 10) != FRAMEFILE_HEADER_SIZE)
		return -EPROTO;
	if (b[32 + FRAMEFILE_FEED_MAX] != 0)
		return -EPROTO;
	h->format_version = get16(b + 8);
	h->frame_size = get16(b + 12);
	h->frame_version = get16(b + 14);
	h->codec = get32(b + 16);
	h->created_ns = (int64_t)get64(b + 24);
	memcpy(h->feed, b + 32, FRAMEFILE_FEED_MAX);
	memcpy(h->run_id, b + 64, FRAMEFILE_RUN_ID_MAX);
	return 0;
}

/* This build can decode the frames: the layout and codec are its own. */
static int hdr_decodable(const struct framefile_hdr *h)
{
	return h->frame_size == FRAME_SIZE && h->frame_version == FRAME_VERSION &&
	       h->codec < FRAMEFILE_CODEC_COUNT;
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

static int decode_src(struct ff_src *s, struct framefile_info *info, struct pw_frame *out,
		      uint64_t cap)
{
	struct ff_dec *d = NULL;
	struct ff_block b;
	const uint8_t *payload;
	int rc = walk_start(s, info);

	if (rc == 0 && info->hdr.codec == FRAMEFILE_CODEC_PACK && !(d = malloc(sizeof *d)))
		rc = -ENOMEM;
	while (rc == 0 && (rc = next_block(s, info, &b, &payload, 1, 1)) == 1) {
		struct pw_frame *f = out + info->frames;

		rc = 0;
		if (info->frames + b.count > cap || decode_payload(info->hdr.codec, d, payload, &b, f)) {
			walk_stop(info, FRAMEFILE_TAIL_CORRUPT);
			break;
		}
		walk_take(info, &b);
	}
	copy_out_done();
	free(d);
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

/* --- writer --- */

struct framefile_writer {
	int fd;
	uint32_t codec;
	struct pw_frame *pending;  /* FRAMEFILE_BLOCK_FRAMES */
	size_t npending;
	uint8_t *block;            /* block header + payload being written */
	struct ff_enc *enc;
	uint64_t last_seq;         /* of the last accepted frame */
	/* what has been handed to the kernel, and what of it is durable */
	uint64_t end, synced_end;
	uint64_t frames_written, frames_synced;
	uint64_t written_last_seq, synced_last_seq;
	uint64_t blocks, synced_blocks;
	int need_truncate;         /* a rollback's ftruncate failed: retry before writing */
	int need_fsync;            /* after a rollback the file size must be synced too */
};

static size_t block_capacity(void)
{
	size_t raw = (size_t)FRAMEFILE_BLOCK_FRAMES * FRAME_SIZE, pack = pack_bound(FRAMEFILE_BLOCK_FRAMES);

	return FRAMEFILE_BLOCK_HEADER_SIZE + (pack > raw ? pack : raw) + 8; /* bit writer slack */
}

static struct framefile_writer *writer_new(int fd, uint32_t codec)
{
	struct framefile_writer *w = calloc(1, sizeof *w);

	if (!w)
		return NULL;
	w->fd = fd;
	w->codec = codec;
	w->pending = malloc((size_t)FRAMEFILE_BLOCK_FRAMES * FRAME_SIZE);
	w->block = malloc(block_capacity());
	w->enc = codec == FRAMEFILE_CODEC_PACK ? malloc(sizeof *w->enc) : NULL;
	if (!w->pending || !w->block || (codec == FRAMEFILE_CODEC_PACK && !w->enc)) {
		free(w->pending);
		free(w->block);
		free(w->enc);
		free(w);
		return NULL;
	}
	return w;
}

static void writer_free(struct framefile_writer *w)
{
	free(w->pending);
	free(w->block);
	free(w->enc);
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
	if (w->codec == FRAMEFILE_CODEC_PACK) {
		len = pack_encode(w->enc, f, n, payload);
	} else {
		len = n * FRAME_SIZE;
		memcpy(payload, f, len);
	}
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
	       h->codec < FRAMEFILE_CODEC_COUNT;
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
