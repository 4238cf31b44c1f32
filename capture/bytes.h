/*
 * bytes.h - bounds-checked little-endian readers and writers for packet layouts.
 *
 * Decoders read fields with rd_*(buf, len, off): a read that would fall
 * outside [0, len) returns 0 instead of touching memory, so a decoder that
 * has checked the length once can read fields without further checks and a
 * decoder that has not can still never overrun. Encoders write with wr_*
 * under the same rule. Header-only, no state.
 */
#ifndef PW_BYTES_H
#define PW_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline int rd_ok(size_t len, size_t off, size_t n)
{
	return off <= len && n <= len - off;
}

static inline uint8_t rd_u8(const uint8_t *b, size_t len, size_t off)
{
	return rd_ok(len, off, 1) ? b[off] : 0;
}

static inline int8_t rd_s8(const uint8_t *b, size_t len, size_t off)
{
	return (int8_t)rd_u8(b, len, off);
}

static inline uint16_t rd_u16(const uint8_t *b, size_t len, size_t off)
{
	if (!rd_ok(len, off, 2))
		return 0;
	return (uint16_t)(b[off] | (uint16_t)b[off + 1] << 8);
}

static inline int16_t rd_s16(const uint8_t *b, size_t len, size_t off)
{
	return (int16_t)rd_u16(b, len, off);
}

static inline uint32_t rd_u32(const uint8_t *b, size_t len, size_t off)
{
	if (!rd_ok(len, off, 4))
		return 0;
	return (uint32_t)b[off] | (uint32_t)b[off + 1] << 8 | (uint32_t)b[off + 2] << 16 |
	       (uint32_t)b[off + 3] << 24;
}

static inline int32_t rd_s32(const uint8_t *b, size_t len, size_t off)
{
	return (int32_t)rd_u32(b, len, off);
}

static inline uint64_t rd_u64(const uint8_t *b, size_t len, size_t off)
{
	if (!rd_ok(len, off, 8))
		return 0;
	return (uint64_t)rd_u32(b, len, off) | (uint64_t)rd_u32(b, len, off + 4) << 32;
}

static inline float rd_f32(const uint8_t *b, size_t len, size_t off)
{
	uint32_t u = rd_u32(b, len, off);
	float f;
	memcpy(&f, &u, 4);
	return f;
}

static inline void wr_u8(uint8_t *b, size_t len, size_t off, uint8_t v)
{
	if (rd_ok(len, off, 1))
		b[off] = v;
}

static inline void wr_u16(uint8_t *b, size_t len, size_t off, uint16_t v)
{
	if (rd_ok(len, off, 2)) {
		b[off] = (uint8_t)v;
		b[off + 1] = (uint8_t)(v >> 8);
	}
}

static inline void wr_u32(uint8_t *b, size_t len, size_t off, uint32_t v)
{
	if (rd_ok(len, off, 4)) {
		b[off] = (uint8_t)v;
		b[off + 1] = (uint8_t)(v >> 8);
		b[off + 2] = (uint8_t)(v >> 16);
		b[off + 3] = (uint8_t)(v >> 24);
	}
}

static inline void wr_u64(uint8_t *b, size_t len, size_t off, uint64_t v)
{
	wr_u32(b, len, off, (uint32_t)v);
	wr_u32(b, len, off + 4, (uint32_t)(v >> 32));
}

static inline void wr_f32(uint8_t *b, size_t len, size_t off, float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	wr_u32(b, len, off, u);
}

/* finite or 0: game floats can be NaN/Inf in menus; frames never carry them */
static inline float fin(float f)
{
	return (f == f && f - f == 0.0f) ? f : 0.0f;
}

/* v within [lo, hi] (NaN -> lo): for channels with a documented range (pedals
 * and fractions 0..1, steer -1..1, common/frame.h) that a malformed packet must
 * not break, and for encoders fitting values into their wire types */
static inline float clampf(float v, float lo, float hi)
{
	return v != v ? lo : v < lo ? lo : v > hi ? hi : v;
}

#endif
