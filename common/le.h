/*
 * le.h - unchecked little-endian loads and stores of 16, 32 and 64 bits at
 * any alignment, for on-disk layouts (frame files: crc32c.c, blockcodec.c,
 * framefile.c). The caller has checked that the bytes are there; packet
 * decoders, which must not trust a length, use capture/bytes.h instead.
 * Header-only, no state; the loads and stores compile to single moves.
 */
#ifndef PW_LE_H
#define PW_LE_H

#include <stdint.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "le.h stores host integers as they are: a little-endian host is required"
#endif

static inline void le_put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static inline void le_put32(uint8_t *b, uint32_t v)
{
	memcpy(b, &v, 4);
}

static inline void le_put64(uint8_t *b, uint64_t v)
{
	memcpy(b, &v, 8);
}

static inline uint16_t le_get16(const uint8_t *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t le_get32(const uint8_t *b)
{
	uint32_t v;
	memcpy(&v, b, 4);
	return v;
}

static inline uint64_t le_get64(const uint8_t *b)
{
	uint64_t v;
	memcpy(&v, b, 8);
	return v;
}

#endif
