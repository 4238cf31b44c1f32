/*
 * crc32c.h - CRC-32C (Castagnoli: reflected polynomial 0x82f63b78, initial
 * value and final xor ~0), the checksum of frame files' headers and blocks
 * (framefile.h). CRC-32C("123456789") = 0xe3069283.
 *
 * Uses the SSE4.2 crc32 instruction when the CPU has it, else slicing-by-8
 * tables built once on first use (pthread_once). Any thread may call it.
 */
#ifndef PW_CRC32C_H
#define PW_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of len bytes at buf, continuing from crc (0 to start): crc32c(crc32c(0, a, n), b, m)
 * is the CRC of a followed by b. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
