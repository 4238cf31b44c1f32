/*
 * ws_proto.h - the RFC 6455 pieces a WebSocket *client* needs, shared by the
 * test tools (tests/tools/ws_client.c) and benchmarks (tests/bench/bench_ws.c):
 * SHA-1 and base64 for the handshake's Sec-WebSocket-Accept, and encoding /
 * decoding frame headers. Header-only (static inline), no I/O, no allocation.
 */
#ifndef PW_TEST_WS_PROTO_H
#define PW_TEST_WS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define WS_PROTO_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_PROTO_KEY_LEN 25    /* base64 of 16 bytes, with its NUL */
#define WS_PROTO_ACCEPT_LEN 29 /* base64 of 20 bytes, with its NUL */
#define WS_PROTO_MAX_HDR 14    /* 2 + 8 (length) + 4 (mask) */

enum {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA,
};

/* ---- SHA-1 and base64 ---- */

static inline uint32_t ws_proto_rol(uint32_t v, int n)
{
	return (v << n) | (v >> (32 - n));
}

static inline void ws_proto_sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = ws_proto_rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k, t;

		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5a827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
		else
			f = b ^ c ^ d, k = 0xca62c1d6;
		t = ws_proto_rol(a, 5) + f + e + k + w[i];
		e = d, d = c, c = ws_proto_rol(b, 30), b = a, a = t;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

static inline void ws_sha1(const void *data, size_t len, unsigned char out[20])
{
	uint32_t h[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
	unsigned char block[64];
	const unsigned char *p = data;
	size_t i, rest;
	uint64_t bits = (uint64_t)len * 8;

	for (i = 0; i + 64 <= len; i += 64)
		ws_proto_sha1_block(h, p + i);
	rest = len - i;
	memset(block, 0, sizeof block);
	memcpy(block, p + i, rest);
	block[rest] = 0x80;
	if (rest >= 56) {
		ws_proto_sha1_block(h, block);
		memset(block, 0, sizeof block);
	}
	for (int j = 0; j < 8; j++)
		block[63 - j] = (unsigned char)(bits >> (8 * j));
	ws_proto_sha1_block(h, block);
	for (int j = 0; j < 20; j++)
		out[j] = (unsigned char)(h[j / 4] >> (24 - 8 * (j % 4)));
}

/* out needs 4 * ceil(n / 3) + 1 bytes. */
static inline void ws_base64(const unsigned char *in, size_t n, char *out)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		*out++ = tbl[in[i] >> 2];
		*out++ = tbl[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*out++ = tbl[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*out++ = tbl[in[i + 2] & 63];
	}
	if (i < n) {
		*out++ = tbl[in[i] >> 2];
		if (i + 1 < n) {
			*out++ = tbl[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			*out++ = tbl[(in[i + 1] & 15) << 2];
		} else {
			*out++ = tbl[(in[i] & 3) << 4];
			*out++ = '=';
		}
		*out++ = '=';
	}
	*out = 0;
}

/* Sec-WebSocket-Key from 16 random bytes. */
static inline void ws_make_key(const unsigned char raw[16], char key[WS_PROTO_KEY_LEN])
{
	ws_base64(raw, 16, key);
}

/* The Sec-WebSocket-Accept a server must answer to key. */
static inline void ws_accept_for(const char *key, char accept[WS_PROTO_ACCEPT_LEN])
{
	char src[128];
	unsigned char digest[20];
	int n = snprintf(src, sizeof src, "%s%s", key, WS_PROTO_GUID);

	ws_sha1(src, n > 0 && (size_t)n < sizeof src ? (size_t)n : 0, digest);
	ws_base64(digest, sizeof digest, accept);
}

/* ---- frames ---- */

/*
 * A masked (client) frame header for a payload of len bytes into hdr
 * (WS_PROTO_MAX_HDR bytes); returns its length. The payload must be XORed
 * with mask by the caller (ws_mask).
 */
static inline size_t ws_client_header(unsigned char *hdr, int opcode, bool fin, size_t len,
				      const unsigned char mask[4])
{
	size_t hl = 2;

	hdr[0] = (unsigned char)((fin ? 0x80 : 0) | (opcode & 0x0f));
	if (len < 126) {
		hdr[1] = (unsigned char)(0x80 | len);
	} else if (len <= 0xffff) {
		hdr[1] = 0x80 | 126;
		hdr[2] = (unsigned char)(len >> 8);
		hdr[3] = (unsigned char)len;
		hl = 4;
	} else {
		hdr[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			hdr[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
		hl = 10;
	}
	memcpy(hdr + hl, mask, 4);
	return hl + 4;
}

static inline void ws_mask(unsigned char *dst, const void *src, size_t len,
			   const unsigned char mask[4])
{
	for (size_t i = 0; i < len; i++)
		dst[i] = ((const unsigned char *)src)[i] ^ mask[i & 3];
}

struct ws_frame {
	bool fin;
	bool masked; /* a server must not mask; parsed anyway */
	int opcode;
	int rsv;        /* the three reserved bits, 0..7 */
	uint64_t len;   /* payload bytes */
	size_t hdr_len; /* header bytes, mask key included */
	unsigned char mask[4];
};

/*
 * Parse the frame header at p (avail bytes). Returns 1 with *f filled, 0 when
 * more bytes are needed for the header. The payload starts at p + f->hdr_len
 * and is complete when avail >= f->hdr_len + f->len.
 */
static inline int ws_parse_header(const unsigned char *p, size_t avail, struct ws_frame *f)
{
	size_t hl = 2;
	uint64_t len;

	if (avail < 2)
		return 0;
	f->fin = (p[0] & 0x80) != 0;
	f->rsv = (p[0] >> 4) & 7;
	f->opcode = p[0] & 0x0f;
	f->masked = (p[1] & 0x80) != 0;
	len = p[1] & 0x7f;
	if (len == 126) {
		if (avail < 4)
			return 0;
		len = (uint64_t)p[2] << 8 | p[3];
		hl = 4;
	} else if (len == 127) {
		if (avail < 10)
			return 0;
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | p[2 + i];
		hl = 10;
	}
	if (f->masked) {
		if (avail < hl + 4)
			return 0;
		memcpy(f->mask, p + hl, 4);
		hl += 4;
	}
	f->len = len;
	f->hdr_len = hl;
	return 1;
}

#endif
