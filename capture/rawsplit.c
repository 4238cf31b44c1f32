/* rawsplit.c - see rawsplit.h; the sizes come from ksudp.h, pcars.h, f1.h and forza.h
 * (docs/protocols.md 1, 3, 4, 6, 7.2). */
#include <errno.h>
#include <string.h>

#include "capture/bytes.h"
#include "capture/f1.h"
#include "capture/forza.h"
#include "capture/ksudp.h"
#include "capture/pcars.h"
#include "capture/rawsplit.h"

int rawsplit_init(struct rawsplit *rs, const char *feed, size_t total)
{
	rs->feed = feed;
	rs->fixed = 0;
	if (strcmp(feed, "forza") == 0) {
		for (size_t i = FZ_FORMATS; i-- > 0;) /* the longest size that divides the file */
			if (total && total % forza_formats[i].len == 0) {
				rs->fixed = forza_formats[i].len;
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
	if (rd_u32(b, n, KSUDP_CARINFO_SIZE_OFF) == KSUDP_CARINFO_SIZE)
		return KSUDP_CARINFO_SIZE;
	if (rd_s32(b, n, KSUDP_RESPONSE_IDENTIFIER_OFF) == KSUDP_RESPONSE_IDENTIFIER &&
	    rd_s32(b, n, KSUDP_RESPONSE_VERSION_OFF) == KSUDP_VERSION)
		return KSUDP_RESPONSE_SIZE;
	return 0;
}

static size_t pcars_len(const uint8_t *b, size_t n)
{
	static const size_t v2[PCARS_V2_TYPES] = {
		[PCARS_V2_TELEMETRY] = PCARS_V2_TELEMETRY_SIZE,
		[PCARS_V2_RACE] = PCARS_V2_RACE_SIZE,
		[PCARS_V2_PARTICIPANTS] = PCARS_V2_PARTICIPANTS_SIZE,
		[PCARS_V2_TIMINGS] = PCARS_V2_TIMINGS_SIZE,
		[PCARS_V2_GAME_STATE] = PCARS_V2_GAME_STATE_SIZE,
		[PCARS_V2_TIME_STATS] = PCARS_V2_TIME_STATS_SIZE,
		[PCARS_V2_VEHICLE_NAMES] = PCARS_V2_VEHICLE_NAMES_SIZE,
	};
	static const size_t v1[3] = {
		PCARS_V1_TELEMETRY_SIZE,
		PCARS_V1_STRINGS_SIZE,
		PCARS_V1_STRINGS_MORE_SIZE,
	};
	uint8_t type = rd_u8(b, n, PCARS_V2_HDR_TYPE), part = rd_u8(b, n, PCARS_V2_HDR_PART);
	uint8_t parts = rd_u8(b, n, PCARS_V2_HDR_PARTS);
	uint8_t version = rd_u8(b, n, PCARS_V2_HDR_VERSION);

	/* v2 carries a 1-based partial index <= count and a handler version 1..3 */
	if (n >= PCARS_V2_HDR && type < PCARS_V2_TYPES && v2[type] && part >= 1 && part <= parts &&
	    version >= 1 && version <= 3)
		return v2[type];
	if (n > PCARS_V1_TYPE_OFF && (b[PCARS_V1_TYPE_OFF] & 3) < 3)
		return v1[b[PCARS_V1_TYPE_OFF] & 3];
	return 0;
}

static size_t f1_len(const uint8_t *b, size_t n)
{
	const struct f1_layout *ly = f1_layout_of(rd_u16(b, n, F1_HDR_FORMAT));
	uint8_t id = rd_u8(b, n, F1_HDR_PACKET_ID);

	if (n <= F1_HDR_PACKET_ID || !ly || id >= F1_PACKET_IDS)
		return 0;
	return ly->size[id];
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
