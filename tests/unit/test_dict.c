/*
 * test_dict.c - the channel dictionary (common/dict.h) against the frame's
 * own encodings: its entries are exactly the keys frame_to_json writes for a
 * frame with every channel and flag, its CSV columns are frame_csv_header's
 * in order, each channel entry says what frame_channels[] says, and the
 * per-game view holds exactly the game's declared channels and flags.
 * (Whether the declared sets are what each game's frames really carry is
 * tests/integration/test_channels.sh's, with the emulator and pw-capture.)
 */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "common/derive.h"
#include "common/dict.h"
#include "common/frame.h"
#include "tests/unit/t.h"

static json_t *find(json_t *channels, const char *name)
{
	size_t i;
	json_t *e;

	json_array_foreach(channels, i, e)
		if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0)
			return e;
	return NULL;
}

static int has_string(json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

static void test_accessors(void)
{
	T_EQ(dict_game_channels(PW_GAME_UNKNOWN), 0);
	T_EQ(dict_game_channels(PW_GAME_COUNT), 0);
	T_EQ(dict_game_channels(~0u), 0);
	T_EQ(dict_game_flags(PW_GAME_UNKNOWN), 0);
	T_EQ(dict_game_flags(PW_GAME_COUNT), 0);
	for (unsigned g = 1; g < PW_GAME_COUNT; g++) {
		T_CHECKF(dict_game_channels(g) != 0, "%s declares no channel", frame_game_name(g));
		T_CHECKF((dict_game_channels(g) & ~FRAME_P_ALL) == 0, "%s: bits beyond the table",
			 frame_game_name(g));
		T_CHECKF(dict_game_flags(g) != 0 && (dict_game_flags(g) >> FRAME_FLAG_COUNT) == 0,
			 "%s: flags %#x", frame_game_name(g), dict_game_flags(g));
	}
	/* the formats of one game family differ where the protocols do */
	T_CHECK(!(dict_game_channels(PW_GAME_PCARS1) & FRAME_P_HANDBRAKE));
	T_CHECK(dict_game_channels(PW_GAME_PCARS2) & FRAME_P_HANDBRAKE);
	T_CHECK(dict_game_channels(PW_GAME_FM2023) & FRAME_P_TYRE_WEAR);
	T_CHECK(!(dict_game_channels(PW_GAME_FM7) & FRAME_P_TYRE_WEAR));
	T_CHECK(!(dict_game_channels(PW_GAME_FORZA_SLED) & FRAME_P_THROTTLE));
	T_STREQ(dict_type_name(FRAME_T_F32), "float32");
	T_STREQ(dict_type_name(FRAME_T_I32), "int32");
	T_CHECK(dict_type_name(FRAME_T_I32 + 1) == NULL);
	T_STREQ(dict_dim_name(FRAME_DIM_WHEELS), "wheels");
	T_CHECK(dict_dim_name(FRAME_DIM_SECTORS + 1) == NULL);
	T_STREQ(frame_dim_suffix(FRAME_DIM_WHEELS, 3), "rr");
	T_CHECK(frame_dim_suffix(FRAME_DIM_SCALAR, 0) == NULL);
	T_CHECK(frame_dim_suffix(FRAME_DIM_XYZ, 4) == NULL);
	T_CHECK(frame_flag_description(FRAME_FLAG_COUNT) == NULL);
	T_CHECK(frame_flag_description(FRAME_FLAG_NO_ABS) != NULL);
}

/* A frame of game g with every channel present and every flag known. */
static void full_frame(struct pw_frame *f)
{
	frame_init(f, PW_GAME_AC, PW_FEED_KSUDP);
	f->present = FRAME_P_ALL;
	f->flags_known = (1u << FRAME_FLAG_COUNT) - 1;
	f->flags = FRAME_FLAG_ABS;
	f->derived = FRAME_P_YAW_RATE | FRAME_P_LAP_DIST;
	f->sector_ms[0] = 30000;
}

/* Every key frame_to_json writes is an entry (with the flags under "flags."),
 * and every entry is such a key. */
static void test_json_keys(void)
{
	static char buf[8192];
	json_t *d = dict_json(0), *frame, *channels, *v;
	struct pw_frame f;
	const char *key;
	size_t n = 0;

	full_frame(&f);
	frame_to_json(&f, buf, sizeof buf);
	frame = json_loads(buf, 0, NULL);
	channels = json_object_get(d, "channels");
	T_CHECK(d && frame && json_is_array(channels));
	if (!d || !frame)
		goto out;
	T_EQ(json_integer_value(json_object_get(d, "frame_version")), FRAME_VERSION);
	json_object_foreach(frame, key, v) {
		json_t *e, *fv;
		const char *fk;

		if (strcmp(key, "flags") != 0) {
			e = find(channels, key);
			T_CHECKF(e != NULL, "frame key %s is not in the dictionary", key);
			T_CHECKF(e && strcmp(json_string_value(json_object_get(e, "json_key")),
					     key) == 0,
				 "%s: json_key", key);
			n++;
			continue;
		}
		json_object_foreach(v, fk, fv) {
			e = find(channels, fk);
			T_CHECKF(e && strcmp(json_string_value(json_object_get(e, "kind")),
					     "flag") == 0,
				 "flag %s is not in the dictionary", fk);
			n++;
		}
	}
	T_EQ(n, json_array_size(channels));
	T_EQ(json_array_size(channels), 5 + FRAME_P_COUNT + FRAME_FLAG_COUNT + 1);
out:
	json_decref(frame);
	json_decref(d);
}

/* The entries' CSV columns, in order, are frame_csv_header's. */
static void test_csv_columns(void)
{
	static char head[8192], cols[8192];
	json_t *d = dict_json(0), *e, *c;
	size_t i, j, len = 0;

	frame_csv_header(head, sizeof head);
	json_array_foreach(json_object_get(d, "channels"), i, e)
		json_array_foreach(json_object_get(e, "csv_columns"), j, c)
			len += (size_t)snprintf(cols + len, sizeof cols - len, "%s%s",
						len ? "," : "", json_string_value(c));
	T_CHECK(len < sizeof cols);
	T_STREQ(cols, head);
	json_decref(d);
}

/* Each channel entry is its frame_channels[] line. */
static void test_channel_entries(void)
{
	json_t *d = dict_json(0), *channels = json_object_get(d, "channels");

	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const struct frame_channel *c = &frame_channels[b];
		json_t *e = find(channels, c->name), *range = json_object_get(e, "range");
		json_t *lo = json_object_get(range, "min"), *hi = json_object_get(range, "max");

		T_CHECKF(e != NULL, "%s missing", c->name);
		if (!e)
			continue;
		T_STREQ(json_string_value(json_object_get(e, "kind")), "channel");
		T_STREQ(json_string_value(json_object_get(e, "unit")), c->unit);
		T_STREQ(json_string_value(json_object_get(e, "description")), c->description);
		T_STREQ(json_string_value(json_object_get(e, "type")), dict_type_name(c->type));
		T_STREQ(json_string_value(json_object_get(e, "dimension")), dict_dim_name(c->dim));
		T_EQ(json_array_size(json_object_get(e, "components")), c->n > 1 ? c->n : 0);
		T_EQ(json_integer_value(json_object_get(e, "presence_bit")), b);
		T_CHECK(json_is_boolean(json_object_get(e, "derived")));
		T_CHECK(json_is_true(json_object_get(e, "nullable")) ==
			((c->flags & (FRAME_CF_NEG_NULL | FRAME_CF_ZERO_NULL)) != 0));
		T_CHECKF(isfinite(c->lo) ? json_real_value(lo) == c->lo : json_is_null(lo),
			 "%s min", c->name);
		T_CHECKF(isfinite(c->hi) ? json_real_value(hi) == c->hi : json_is_null(hi),
			 "%s max", c->name);
		for (unsigned g = 1; g < PW_GAME_COUNT; g++)
			T_CHECKF(has_string(json_object_get(e, "games"), frame_game_name(g)) ==
					 ((dict_game_channels(g) & c->bit) != 0),
				 "%s / %s", c->name, frame_game_name(g));
	}
	T_STREQ(json_string_value(json_object_get(find(channels, "t_ns"), "unit")), "ns");
	T_STREQ(json_string_value(json_object_get(find(channels, "in_pit"), "json_key")),
		"flags.in_pit");
	T_CHECK(has_string(json_object_get(find(channels, "tc"), "games"), "assetto_corsa"));
	T_CHECK(!has_string(json_object_get(find(channels, "tc"), "games"), "f1_24"));
	json_decref(d);
}

/* What pitwall derives for each game: what its own channels lack and allow. */
static void test_derived(void)
{
	json_t *d = dict_json(0), *channels = json_object_get(d, "channels");
	json_t *yaw = find(channels, "yaw_rate_rads"), *dist = find(channels, "lap_dist_m");

	T_EQ(dict_game_derived(PW_GAME_UNKNOWN), 0);
	T_EQ(dict_game_derived(PW_GAME_COUNT), 0);
	/* AC: no heading, no lap distance: the distance from the speed since the line */
	T_EQ(dict_game_derived(PW_GAME_AC), FRAME_P_LAP_DIST);
	/* ACC broadcasting: heading and speed, no g */
	T_EQ(dict_game_derived(PW_GAME_ACC),
	     FRAME_P_YAW_RATE | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON);
	T_EQ(dict_game_derived(PW_GAME_PCARS2), FRAME_P_YAW_RATE);
	T_EQ(dict_game_derived(PW_GAME_FORZA_SLED), FRAME_P_YAW_RATE);
	T_EQ(dict_game_derived(PW_GAME_F1_24), FRAME_P_YAW_RATE);
	for (unsigned g = 1; g < PW_GAME_COUNT; g++)
		T_CHECKF(!(dict_game_derived(g) & dict_game_channels(g)),
			 "%s: derives a channel it sends", frame_game_name(g));
	/* the rules on masks */
	T_EQ(derive_channels(FRAME_P_SPEED, PW_GAME_AC), FRAME_P_ACCEL_LON);
	T_EQ(derive_channels(FRAME_P_SPEED | FRAME_P_LAP, PW_GAME_AC),
	     FRAME_P_ACCEL_LON | FRAME_P_LAP_DIST | FRAME_P_LAP_TIME);
	T_EQ(derive_channels(FRAME_P_SPLINE | FRAME_P_TRACK_LEN, PW_GAME_AC),
	     FRAME_P_LAP_DIST | FRAME_P_LAP_TIME);
	T_EQ(derive_channels(FRAME_P_YAW, PW_GAME_AC), 0); /* AC's heading sense is unknown */
	T_EQ(derive_channels(FRAME_P_YAW | FRAME_P_VEL, PW_GAME_F1_24),
	     FRAME_P_YAW_RATE | FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON);
	T_EQ(derive_channels(FRAME_P_ALL, PW_GAME_F1_24), 0);
	/* the entries */
	T_CHECK(json_is_true(json_object_get(yaw, "derived")));
	T_EQ(json_array_size(json_object_get(yaw, "games")), 0);
	T_CHECK(has_string(json_object_get(yaw, "derived_for"), "assetto_corsa_competizione"));
	T_CHECK(!has_string(json_object_get(yaw, "derived_for"), "assetto_corsa"));
	T_CHECK(json_is_false(json_object_get(dist, "derived")));
	T_CHECK(has_string(json_object_get(dist, "derived_for"), "assetto_corsa"));
	T_CHECK(has_string(json_object_get(dist, "games"), "f1_24"));
	T_STREQ(json_string_value(json_object_get(find(channels, "derived"), "kind")),
		"annotation");
	json_decref(d);
}

/* One game's view: identity, its channels and flags, its own game entry. */
static void test_per_game(void)
{
	for (unsigned g = 1; g < PW_GAME_COUNT; g++) {
		json_t *d = dict_json(g), *channels = json_object_get(d, "channels");
		json_t *games = json_object_get(d, "games"), *ge = json_array_get(games, 0);
		uint64_t bits = dict_game_channels(g) | dict_game_derived(g);
		unsigned flags = dict_game_flags(g);

		T_EQ(json_array_size(channels), 5 + (size_t)__builtin_popcountll(bits) +
							(size_t)__builtin_popcount(flags) +
							(dict_game_derived(g) != 0));
		T_EQ(json_array_size(json_object_get(ge, "derived")),
		     (size_t)__builtin_popcountll(dict_game_derived(g)));
		T_EQ(json_array_size(games), 1);
		T_STREQ(json_string_value(json_object_get(ge, "name")), frame_game_name(g));
		T_STREQ(json_string_value(json_object_get(ge, "feed")),
			frame_feed_name(frame_game_feed(g)));
		T_EQ(json_array_size(json_object_get(ge, "channels")),
		     (size_t)__builtin_popcountll(dict_game_channels(g)));
		for (unsigned b = 0; b < FRAME_P_COUNT; b++)
			T_CHECK((find(channels, frame_channel_name(b)) != NULL) ==
				(int)((bits >> b) & 1));
		for (unsigned b = 0; b < FRAME_FLAG_COUNT; b++)
			T_CHECK(has_string(json_object_get(ge, "flags"), frame_flag_name(b)) ==
				(int)((flags >> b) & 1));
		json_decref(d);
	}
	/* every game in the whole dictionary, none unknown */
	json_t *d = dict_json(0);
	T_EQ(json_array_size(json_object_get(d, "games")), PW_GAME_COUNT - 1);
	json_decref(d);
	d = dict_json(PW_GAME_COUNT);
	T_EQ(json_array_size(json_object_get(d, "channels")), 5);
	T_EQ(json_array_size(json_object_get(d, "games")), 0);
	json_decref(d);
}

/* The frame schema has a property for every top-level key of the dictionary,
 * each channel's array length and JSON type, and the flags under "flags". */
static void test_frame_schema(void)
{
	json_t *s = dict_frame_schema(), *d = dict_json(0),
	       *props = json_object_get(s, "properties");
	json_t *flags = json_object_get(json_object_get(props, "flags"), "properties"), *e;
	size_t i, n = 0, columns = 0;

	T_CHECK(s && json_is_object(props) && json_is_object(flags));
	T_STREQ(json_string_value(json_object_get(s, "$id")), "/api/schemas/frame/v1");
	T_CHECK(json_is_false(json_object_get(s, "additionalProperties")));
	T_EQ(json_array_size(json_object_get(s, "required")), 5);
	json_array_foreach(json_object_get(d, "channels"), i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *kind = json_string_value(json_object_get(e, "kind"));
		json_t *p = json_object_get(strcmp(kind, "flag") == 0 ? flags : props, name);

		T_CHECKF(p != NULL, "%s has no property", name);
		n++;
	}
	T_EQ(json_object_size(props) - 1 + json_object_size(flags), n); /* "flags" itself */
	T_CHECK(json_is_array(json_object_get(
		json_object_get(json_object_get(props, "derived"), "items"), "enum")));
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const struct frame_channel *c = &frame_channels[b];
		json_t *p = json_object_get(props, c->name);

		if (c->n > 1) {
			T_EQ(json_integer_value(json_object_get(p, "minItems")), c->n);
			p = json_object_get(p, "items");
		}
		T_CHECKF(json_object_get(p, "type") != NULL, "%s: no type", c->name);
	}
	T_EQ(json_number_value(json_object_get(json_object_get(props, "throttle"), "maximum")), 1);
	/* an export row: time_s, every key of a frame, array values and flags on their own */
	json_t *row = json_object_get(json_object_get(json_object_get(s, "$defs"), "export_row"),
				      "properties");
	for (unsigned b = 0; b < FRAME_P_COUNT; b++)
		columns += frame_channels[b].n > 1 ? frame_channels[b].n : 0;
	T_EQ(json_object_size(row), json_object_size(props) + 1 + FRAME_FLAG_COUNT + columns);
	T_CHECK(json_object_get(row, "time_s") && json_object_get(row, "pos_m_x") &&
		json_object_get(row, "tyre_temp_c_rr") && json_object_get(row, "abs"));
	T_EQ(json_integer_value(json_object_get(json_object_get(props, "gear"), "minimum")), -128);
	T_CHECK(json_is_array(json_object_get(
		json_object_get(json_object_get(props, "sector_ms"), "items"), "type")));
	json_decref(s);
	json_decref(d);
}

int main(void)
{
	T_RUN(test_accessors);
	T_RUN(test_json_keys);
	T_RUN(test_csv_columns);
	T_RUN(test_channel_entries);
	T_RUN(test_derived);
	T_RUN(test_per_game);
	T_RUN(test_frame_schema);
	return T_DONE();
}
