/* frame.c - frame names and the JSON/CSV encodings of docs/architecture.md §2 (see frame.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/frame.h"
#include "common/numfmt.h"
#include "common/out.h"

#define X_NAME(id, name, ...) name,
static const char *const game_names[PW_GAME_COUNT] = { PW_GAMES(X_NAME) };
static const char *const feed_names[PW_FEED_COUNT] = { PW_FEEDS(X_NAME) };
static const char *const flag_names[FRAME_FLAG_COUNT] = { FRAME_FLAGS(X_NAME) };
#undef X_NAME

#define X_DESCRIPTION(id, name, description) description,
static const char *const flag_descriptions[FRAME_FLAG_COUNT] = { FRAME_FLAGS(X_DESCRIPTION) };
#undef X_DESCRIPTION

#define X_TITLE(id, name, title, feed) title,
static const char *const game_titles[PW_GAME_COUNT] = { PW_GAMES(X_TITLE) };
#undef X_TITLE

#define X_FEED(id, name, title, feed) PW_FEED_##feed,
static const uint8_t game_feeds[PW_GAME_COUNT] = { PW_GAMES(X_FEED) };
#undef X_FEED

/* The CSV column suffixes of arrays. */
static const char *const dim_suffix[][4] = {
	[FRAME_DIM_XYZ] = { "x", "y", "z" },
	[FRAME_DIM_WHEELS] = { "fl", "fr", "rl", "rr" },
	[FRAME_DIM_SECTORS] = { "1", "2", "3" },
};

#define T_SIZE_F32 4
#define T_SIZE_F64 8
#define T_SIZE_I8 1
#define T_SIZE_U8 1
#define T_SIZE_U16 2
#define T_SIZE_I32 4
#define DIM_N_SCALAR 1
#define DIM_N_XYZ 3
#define DIM_N_WHEELS 4
#define DIM_N_SECTORS 3

#define MEMBER(field) (((struct pw_frame *)0)->field)
/* The C type of a member's values (arrays decay to a pointer to their first value). */
#define TYPE_OF(field) \
	_Generic(MEMBER(field), float: FRAME_T_F32, float *: FRAME_T_F32, double: FRAME_T_F64, \
		 int8_t: FRAME_T_I8, uint8_t: FRAME_T_U8, uint8_t *: FRAME_T_U8,              \
		 uint16_t: FRAME_T_U16, int32_t: FRAME_T_I32, int32_t *: FRAME_T_I32, default: -1)

/* The table's type and dimension must describe the struct member exactly. */
#define X_CHECK(id, field, type, dim, ...)                                 \
	_Static_assert(TYPE_OF(field) == FRAME_T_##type, #field ": type"); \
	_Static_assert(sizeof MEMBER(field) == DIM_N_##dim * T_SIZE_##type, #field ": size");
FRAME_CHANNELS(X_CHECK)
#undef X_CHECK

#define X_CHANNEL(id, field, type, dim, unit, lo, hi, flags, description) \
	[FRAME_CH_##id] = { #field,                                       \
			    unit,                                         \
			    description,                                  \
			    lo,                                           \
			    hi,                                           \
			    FRAME_P_##id,                                 \
			    offsetof(struct pw_frame, field),             \
			    sizeof MEMBER(field),                         \
			    DIM_N_##dim,                                  \
			    sizeof #field - 1,                            \
			    FRAME_T_##type,                               \
			    FRAME_DIM_##dim,                              \
			    flags },
const struct frame_channel frame_channels[FRAME_P_COUNT] = { FRAME_CHANNELS(X_CHANNEL) };
#undef X_CHANNEL

void frame_init(struct pw_frame *f, enum pw_game game, enum pw_feed feed)
{
	memset(f, 0, sizeof *f);
	f->version = FRAME_VERSION;
	f->game = (uint8_t)game;
	f->feed = (uint8_t)feed;
}

int frame_upgrade(struct pw_frame *f)
{
	if (f->version == FRAME_VERSION)
		return 0;
	if (f->version < FRAME_VERSION_MIN || f->version > FRAME_VERSION)
		return -EPROTO;
	/* version 1 */
	memset(&f->yaw_rate_rads, 0, sizeof *f - offsetof(struct pw_frame, yaw_rate_rads));
	f->present &= FRAME_P_V1;
	f->version = FRAME_VERSION;
	return 0;
}

const char *frame_game_name(unsigned game)
{
	return game < PW_GAME_COUNT ? game_names[game] : "unknown";
}

const char *frame_game_title(unsigned game)
{
	return game < PW_GAME_COUNT ? game_titles[game] : "Unknown";
}

unsigned frame_game_feed(unsigned game)
{
	return game < PW_GAME_COUNT ? game_feeds[game] : PW_FEED_NONE;
}

const char *frame_feed_name(unsigned feed)
{
	return feed < PW_FEED_COUNT ? feed_names[feed] : "unknown";
}

unsigned frame_game_id(const char *name)
{
	for (unsigned i = 1; name && i < PW_GAME_COUNT; i++)
		if (strcmp(game_names[i], name) == 0)
			return i;
	return PW_GAME_UNKNOWN;
}

unsigned frame_feed_id(const char *name)
{
	for (unsigned i = 1; name && i < PW_FEED_COUNT; i++)
		if (strcmp(feed_names[i], name) == 0)
			return i;
	return PW_FEED_NONE;
}

const char *frame_channel_name(unsigned bit)
{
	return bit < FRAME_P_COUNT ? frame_channels[bit].name : NULL;
}

const char *frame_dim_suffix(unsigned dim, unsigned i)
{
	if (dim == FRAME_DIM_SCALAR || dim > FRAME_DIM_SECTORS || i >= 4)
		return NULL;
	return dim_suffix[dim][i];
}

const char *frame_flag_name(unsigned bit)
{
	return bit < FRAME_FLAG_COUNT ? flag_names[bit] : NULL;
}

const char *frame_flag_description(unsigned bit)
{
	return bit < FRAME_FLAG_COUNT ? flag_descriptions[bit] : NULL;
}

void meta_strcpy(char *dst, size_t cap, const char *src, size_t n)
{
	size_t i, o = 0;

	if (cap == 0)
		return;
	for (i = 0; i < n && src[i] && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	memset(dst + o, 0, cap - o);
}

/* A decimal that reads back as exactly the same value: short when it can be
 * (0.1f prints "0.1"), else the 9 significant digits a float needs or the
 * 17 a double needs (a fixed %.7g lost float bits and rounded a large
 * game_time_s to whole seconds): %.6g or %.9g, %.15g or %.17g, written by
 * numfmt without printf (an hour of frames as CSV is 100 million numbers). */
static void put_num(struct out *o, double v, int is_double)
{
	char tmp[NUMFMT_MAX];

	out_put(o, tmp, is_double ? numfmt_g64(tmp, v) : numfmt_g32(tmp, (float)v));
}

static void put_i64(struct out *o, int64_t v)
{
	char tmp[NUMFMT_MAX];

	out_put(o, tmp, numfmt_i64(tmp, v));
}

static void put_u64(struct out *o, uint64_t v)
{
	char tmp[NUMFMT_MAX];

	out_put(o, tmp, numfmt_u64(tmp, v));
}

static void put_str(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

/* Value i of channel c in f. */
static double value(const struct pw_frame *f, const struct frame_channel *c, unsigned i)
{
	const char *p = (const char *)f + c->off;

	switch (c->type) {
	case FRAME_T_F32:
		return ((const float *)p)[i];
	case FRAME_T_F64:
		return ((const double *)p)[i];
	case FRAME_T_I8:
		return ((const int8_t *)p)[i];
	case FRAME_T_U8:
		return ((const uint8_t *)p)[i];
	case FRAME_T_U16:
		return ((const uint16_t *)p)[i];
	case FRAME_T_I32:
		return ((const int32_t *)p)[i];
	}
	return NAN;
}

double frame_channel_value(const struct pw_frame *f, unsigned bit, unsigned i)
{
	if (bit >= FRAME_P_COUNT || i >= frame_channels[bit].n)
		return NAN;
	return value(f, &frame_channels[bit], i);
}

/* A value JSON and CSV can carry: finite, and not the channel's "none". */
static int has_value(const struct frame_channel *c, double v)
{
	return frame_value_known(c, v);
}

static void put_value(struct out *o, const struct frame_channel *c, double v)
{
	if (c->type == FRAME_T_F32 || c->type == FRAME_T_F64)
		put_num(o, v, c->type == FRAME_T_F64);
	else
		put_i64(o, (int64_t)v);
}

static void put_json_value(struct out *o, const struct frame_channel *c, double v)
{
	if (has_value(c, v))
		put_value(o, c, v);
	else
		out_put(o, "null", 4);
}

size_t frame_to_json(const struct pw_frame *f, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };

	if (cap)
		buf[0] = 0;
	out_put(&o, "{\"seq\":", 7);
	put_u64(&o, f->seq);
	out_put(&o, ",\"t_ns\":", 8);
	put_i64(&o, f->t_ns);
	out_put(&o, ",\"feed\":\"", 9);
	put_str(&o, frame_feed_name(f->feed));
	out_put(&o, "\",\"game\":\"", 10);
	put_str(&o, frame_game_name(f->game));
	out_put(&o, "\",\"game_session\":", 17);
	put_u64(&o, f->game_session);
	for (uint64_t bits = f->present & FRAME_P_ALL; bits; bits &= bits - 1) {
		const struct frame_channel *c = &frame_channels[__builtin_ctzll(bits)];

		out_put(&o, ",\"", 2);
		out_put(&o, c->name, c->name_len);
		out_put(&o, "\":", 2);
		if (c->n == 1) {
			put_json_value(&o, c, value(f, c, 0));
			continue;
		}
		out_put(&o, "[", 1);
		for (unsigned i = 0; i < c->n; i++) {
			if (i)
				out_put(&o, ",", 1);
			put_json_value(&o, c, value(f, c, i));
		}
		out_put(&o, "]", 1);
	}
	if (f->derived & f->present & FRAME_P_ALL) {
		const char *sep = "";

		out_put(&o, ",\"derived\":[", 12);
		for (uint64_t bits = f->derived & f->present & FRAME_P_ALL; bits;
		     bits &= bits - 1) {
			const struct frame_channel *c = &frame_channels[__builtin_ctzll(bits)];

			put_str(&o, sep);
			out_put(&o, "\"", 1);
			out_put(&o, c->name, c->name_len);
			out_put(&o, "\"", 1);
			sep = ",";
		}
		out_put(&o, "]", 1);
	}
	if (f->flags_known) {
		int first = 1;

		out_put(&o, ",\"flags\":{", 10);
		for (unsigned b = 0; b < FRAME_FLAG_COUNT; b++) {
			if (!(f->flags_known & (1u << b)))
				continue;
			if (!first)
				out_put(&o, ",", 1);
			out_put(&o, "\"", 1);
			put_str(&o, flag_names[b]);
			put_str(&o, (f->flags & (1u << b)) ? "\":true" : "\":false");
			first = 0;
		}
		out_put(&o, "}", 1);
	}
	out_put(&o, "}", 1);
	return o.len;
}

size_t frame_csv_header(char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };

	if (cap)
		buf[0] = 0;
	out_printf(&o, "seq,t_ns,feed,game,game_session");
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const struct frame_channel *c = &frame_channels[b];

		if (c->n == 1) {
			out_printf(&o, ",%s", c->name);
			continue;
		}
		for (unsigned i = 0; i < c->n; i++)
			out_printf(&o, ",%s_%s", c->name, dim_suffix[c->dim][i]);
	}
	for (unsigned b = 0; b < FRAME_FLAG_COUNT; b++)
		out_printf(&o, ",%s", flag_names[b]);
	out_printf(&o, ",derived");
	return o.len;
}

size_t frame_to_csv(const struct pw_frame *f, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };

	if (cap)
		buf[0] = 0;
	put_u64(&o, f->seq);
	out_put(&o, ",", 1);
	put_i64(&o, f->t_ns);
	out_put(&o, ",", 1);
	put_str(&o, frame_feed_name(f->feed));
	out_put(&o, ",", 1);
	put_str(&o, frame_game_name(f->game));
	out_put(&o, ",", 1);
	put_u64(&o, f->game_session);
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const struct frame_channel *c = &frame_channels[b];
		int on = (f->present & c->bit) != 0;

		for (unsigned i = 0; i < c->n; i++) {
			double v;

			out_put(&o, ",", 1);
			if (on && has_value(c, v = value(f, c, i)))
				put_value(&o, c, v);
		}
	}
	for (unsigned b = 0; b < FRAME_FLAG_COUNT; b++) {
		out_put(&o, ",", 1);
		if (f->flags_known & (1u << b))
			out_put(&o, (f->flags >> b) & 1 ? "1" : "0", 1);
	}
	out_put(&o, ",", 1);
	for (uint64_t bits = f->derived & f->present & FRAME_P_ALL; bits; bits &= bits - 1) {
		const struct frame_channel *c = &frame_channels[__builtin_ctzll(bits)];

		if (bits != (f->derived & f->present & FRAME_P_ALL))
			out_put(&o, " ", 1);
		out_put(&o, c->name, c->name_len);
	}
	return o.len;
}
