/* rawsplit.c - see rawsplit.h; the sizes are docs/protocols.md's (3, 4, 7.2). */
#include <errno.h>
#include <string.h>

#include "capture/bytes.h"
#include "capture/rawsplit.h"

int rawsplit_init(struct rawsplit *rs, const char *feed, size_t total)
{
	static const size_t forza_sizes[] = { 331, 324, 311, 232 };

	rs->feed = feed;
	rs->fixed = 0;
	if (strcmp(feed, "forza") == 0) {
		for (size_t i = 0; i < sizeof forza_sizes / sizeof *forza_sizes; i++)
			if (total && total % forza_sizes[i] == 0) {
				rs->fixed = forza_sizes[i];
				return 0;
			}
		return -EINVAL;
	}
	if (strcmp(feed, "ksudp") == 0 || strcmp(feed, "pcars") == 0 || strcmp(feed, "f1") == 0)
		return 0;
	return -EINVAL;
}

static size_t ksudp_len(const uint8_t *b, size_t n)
{
	if (rd_u32(b, n, 4) == 328)
		return 328;
	if (rd_s32(b, n, 200) == 4242 && rd_s32(b, n, 204) == 1)
		return 408;
	return 0;
}

static size_t pcars_len(const uint8_t *b, size_t n)
{
	static const size_t v2[9] = { 559, 308, 1136, 1063, 24, 0, 0, 1040, 1164 };
	static const size_t v1[3] = { 1367, 1347, 1028 };
	uint8_t type = rd_u8(b, n, 10), part = rd_u8(b, n, 8), parts = rd_u8(b, n, 9);

	/* v2 carries a 1-based partial index <= count and a handler version 1..3 */
	if (n >= 12 && type <= 8 && v2[type] && part >= 1 && part <= parts &&
	    rd_u8(b, n, 11) >= 1 && rd_u8(b, n, 11) <= 3)
		return v2[type];
	if (n >= 3 && (b[2] & 3) < 3)
		return v1[b[2] & 3];
	return 0;
}

static size_t f1_len(const uint8_t *b, size_t n)
{
	static const size_t y23[14] = { 1349, 644, 1131, 45, 1306, 1107, 1352, 1239, 1020, 1218,
					953, 1460, 231, 217 };
	static const size_t y24[15] = { 1349, 753, 1285, 45, 1350, 1133, 1352, 1239, 1020, 1306,
					953, 1460, 231, 237, 101 };
	static const size_t y25[16] = { 1349, 753, 1285, 45, 1284, 1133, 1352, 1239, 1042, 954,
					1041, 1460, 231, 273, 101, 1131 };
	uint16_t fmt = rd_u16(b, n, 0);
	uint8_t id = rd_u8(b, n, 6);

	if (n < 7)
		return 0;
	if (fmt == 2023 && id < 14)
		return y23[id];
	if (fmt == 2024 && id < 15)
		return y24[id];
	if (fmt == 2025 && id < 16)
		return y25[id];
	return 0;
}

size_t rawsplit_next(const struct rawsplit *rs, const uint8_t *buf, size_t avail)
{
	size_t n = 0;

	if (rs->fixed)
		n = rs->fixed;
	else if (strcmp(rs->feed, "ksudp") == 0)
		n = ksudp_len(buf, avail);
	else if (strcmp(rs->feed, "pcars") == 0)
		n = pcars_len(buf, avail);
	else if (strcmp(rs->feed, "f1") == 0)
		n = f1_len(buf, avail);
	return n <= avail ? n : 0;
}
