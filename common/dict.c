/* dict.c - the channel dictionary (see dict.h). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/derive.h"
#include "common/dict.h"
#include "common/frame.h"

#define P(ch) FRAME_P_##ch
#define F(flag) FRAME_FLAG_##flag

/*
 * What each game's decoder may set (capture/dec_<feed>.c, where the top
 * comment of each says where every channel comes from).
 */

/* Assetto Corsa remote telemetry: RTCarInfo (dec_ksudp.c). */
#define AC_CHANNELS                                                                               \
	(P(THROTTLE) | P(BRAKE) | P(CLUTCH) | P(STEER) | P(STEER_DEG) | P(GEAR) | P(SPEED) |      \
	 P(RPM) | P(ACCEL_LAT) | P(ACCEL_LON) | P(ACCEL_VERT) | P(POS) | P(LAP) | P(LAP_TIME) |   \
	 P(LAST_LAP) | P(BEST_LAP) | P(SPLINE) | P(SLIP_RATIO) | P(SLIP_ANGLE) | P(WHEEL_SPEED) | \
	 P(SUSP_TRAVEL) | P(TYRE_LOAD))
#define AC_FLAGS (F(IN_PIT) | F(ABS) | F(TC) | F(LIMITER))

/* Project CARS: telemetry, participant timings and time stats (dec_pcars.c).
 * Sector times only in the v1 format; the handbrake and the tread's three
 * zone temperatures only in v2. */
#define PCARS_CHANNELS                                                                       \
	(P(THROTTLE) | P(BRAKE) | P(CLUTCH) | P(STEER) | P(GEAR) | P(NUM_GEARS) | P(SPEED) | \
	 P(RPM) | P(MAX_RPM) | P(POWER) | P(TORQUE) | P(VEL) | P(ACCEL_LAT) | P(ACCEL_LON) | \
	 P(ACCEL_VERT) | P(POS) | P(YAW) | P(PITCH) | P(ROLL) | P(LAP) | P(LAP_TIME) |       \
	 P(LAST_LAP) | P(BEST_LAP) | P(LAP_DIST) | P(TRACK_LEN) | P(SECTOR) | P(POSITION) |  \
	 P(TYRE_TEMP) | P(TYRE_PRESS) | P(BRAKE_TEMP) | P(WHEEL_SPEED) | P(SUSP_TRAVEL) |    \
	 P(TYRE_WEAR) | P(FUEL_L) | P(FUEL_FRAC))
#define PCARS_FLAGS (F(IN_PIT) | F(LAP_INVALID) | F(ABS) | F(LIMITER) | F(PAUSED))

/* ACC broadcasting: realtime update, car update, track data (dec_acc.c). */
#define ACC_CHANNELS                                                                           \
	(P(GAME_TIME) | P(GEAR) | P(SPEED) | P(POS) | P(YAW) | P(LAP) | P(LAP_TIME) |          \
	 P(LAST_LAP) | P(BEST_LAP) | P(SECTOR_TIMES) | P(SPLINE) | P(POSITION) | P(LAP_DIST) | \
	 P(TRACK_LEN))
#define ACC_FLAGS (F(IN_PIT) | F(LAP_INVALID) | F(PAUSED))

/* Forza Data Out (dec_forza.c): the Sled datagram, the Dash one adds the
 * car's controls, laps and engine, FM2023's adds tyre wear. */
#define FORZA_SLED_CHANNELS                                                                     \
	(P(GAME_TIME) | P(SPEED) | P(RPM) | P(MAX_RPM) | P(VEL) | P(ACCEL_LAT) | P(ACCEL_LON) | \
	 P(ACCEL_VERT) | P(YAW) | P(PITCH) | P(ROLL) | P(WHEEL_SPEED) | P(SUSP_TRAVEL) |        \
	 P(SUSP_NORM))
#define FORZA_DASH_CHANNELS                                                                   \
	(FORZA_SLED_CHANNELS | P(THROTTLE) | P(BRAKE) | P(CLUTCH) | P(HANDBRAKE) | P(STEER) | \
	 P(GEAR) | P(POWER) | P(TORQUE) | P(POS) | P(LAP) | P(LAP_TIME) | P(LAST_LAP) |       \
	 P(BEST_LAP) | P(LAP_DIST) | P(POSITION) | P(TYRE_TEMP) | P(FUEL_FRAC) | P(BOOST))
#define FORZA_FLAGS F(PAUSED)

/* F1 23/24/25: motion, lap data, car telemetry, car status, session (dec_f1.c). */
#define F1_CHANNELS                                                                              \
	(P(GAME_TIME) | P(THROTTLE) | P(BRAKE) | P(CLUTCH) | P(STEER) | P(GEAR) | P(NUM_GEARS) | \
	 P(SPEED) | P(RPM) | P(MAX_RPM) | P(POWER) | P(VEL) | P(ACCEL_LAT) | P(ACCEL_LON) |      \
	 P(ACCEL_VERT) | P(POS) | P(YAW) | P(PITCH) | P(ROLL) | P(LAP) | P(LAP_TIME) |           \
	 P(LAST_LAP) | P(BEST_LAP) | P(SECTOR_TIMES) | P(LAP_DIST) | P(TRACK_LEN) | P(SECTOR) |  \
	 P(POSITION) | P(TYRE_TEMP) | P(TYRE_PRESS) | P(BRAKE_TEMP) | P(TYRE_WEAR) | P(FUEL_FRAC))
#define F1_FLAGS (F(IN_PIT) | F(LAP_INVALID) | F(LIMITER) | F(PAUSED))

static const struct {
	uint64_t channels;
	unsigned flags;
} game_sets[PW_GAME_COUNT] = {
	[PW_GAME_AC] = { AC_CHANNELS, AC_FLAGS },
	[PW_GAME_ACC] = { ACC_CHANNELS, ACC_FLAGS },
	[PW_GAME_PCARS1] = { PCARS_CHANNELS | P(SECTOR_TIMES), PCARS_FLAGS },
	[PW_GAME_PCARS2] = { PCARS_CHANNELS | P(HANDBRAKE) | P(TYRE_TEMP_INNER) |
				     P(TYRE_TEMP_MIDDLE) | P(TYRE_TEMP_OUTER),
			     PCARS_FLAGS },
	[PW_GAME_FORZA_SLED] = { FORZA_SLED_CHANNELS, FORZA_FLAGS },
	[PW_GAME_FM7] = { FORZA_DASH_CHANNELS, FORZA_FLAGS },
	[PW_GAME_FH] = { FORZA_DASH_CHANNELS, FORZA_FLAGS },
	[PW_GAME_FM2023] = { FORZA_DASH_CHANNELS | P(TYRE_WEAR), FORZA_FLAGS },
	[PW_GAME_F1_23] = { F1_CHANNELS, F1_FLAGS },
	[PW_GAME_F1_24] = { F1_CHANNELS, F1_FLAGS },
	[PW_GAME_F1_25] = { F1_CHANNELS, F1_FLAGS },
};

static const char *const type_names[] = {
	[FRAME_T_F32] = "float32", [FRAME_T_F64] = "float64", [FRAME_T_I8] = "int8",
	[FRAME_T_U8] = "uint8",    [FRAME_T_U16] = "uint16",  [FRAME_T_I32] = "int32",
};

static const char *const dim_names[] = {
	[FRAME_DIM_SCALAR] = "scalar",
	[FRAME_DIM_XYZ] = "xyz",
	[FRAME_DIM_WHEELS] = "wheels",
	[FRAME_DIM_SECTORS] = "sectors",
};

#define DERIVED_DESCRIPTION                                                                  \
	"the frame's channels that pitwall derived rather than took from the game "          \
	"(common/derive.h): JSON an array of their names, only when there are any; CSV the " \
	"names separated by spaces"

/* The keys every frame has before its channels (frame_to_json). */
static const struct {
	const char *name, *type, *unit, *description;
} identity[] = {
	{ "seq", "uint64", "", "ring sequence: absolute, continues across capture restarts" },
	{ "t_ns", "int64", "ns", "receive time since the Unix epoch (realtime clock)" },
	{ "feed", "string", "", "the feed the frame came on (GET /api/feeds)" },
	{ "game", "string", "", "the game, as GET /api/games names it" },
	{ "game_session", "uint64", "",
	  "the game's session: changes when the game starts another one" },
};

uint64_t dict_game_channels(unsigned game)
{
	return game < PW_GAME_COUNT ? game_sets[game].channels : 0;
}

unsigned dict_game_flags(unsigned game)
{
	return game < PW_GAME_COUNT ? game_sets[game].flags : 0;
}

uint64_t dict_game_derived(unsigned game)
{
	return game > PW_GAME_UNKNOWN && game < PW_GAME_COUNT
		       ? derive_channels(game_sets[game].channels, game)
		       : 0;
}

const char *dict_type_name(unsigned t)
{
	return t < sizeof type_names / sizeof *type_names ? type_names[t] : NULL;
}

const char *dict_dim_name(unsigned dim)
{
	return dim < sizeof dim_names / sizeof *dim_names ? dim_names[dim] : NULL;
}

static json_t *bound(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

enum which { OWN, DERIVED, FLAGS };

/* The games whose own channels, derived channels or flags have bit. */
static json_t *games_of(uint64_t bit, enum which which)
{
	json_t *a = json_array();

	for (unsigned g = 1; a && g < PW_GAME_COUNT; g++) {
		uint64_t set = which == OWN       ? dict_game_channels(g)
			       : which == DERIVED ? dict_game_derived(g)
						  : dict_game_flags(g);

		if (set & bit)
			json_array_append_new(a, json_string(frame_game_name(g)));
	}
	return a;
}

static json_t *all_games(void)
{
	json_t *a = json_array();

	for (unsigned g = 1; a && g < PW_GAME_COUNT; g++)
		json_array_append_new(a, json_string(frame_game_name(g)));
	return a;
}

static json_t *entry(const char *name, const char *kind, const char *json_key, json_t *csv,
		     const char *type, const char *unit, const char *description)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:[], s:s, s:{s:n, s:n}, s:b, s:s, s:b, "
			 "s:n}",
			 "name", name, "kind", kind, "json_key", json_key, "csv_columns", csv,
			 "type", type, "dimension", "scalar", "components", "unit", unit, "range",
			 "min", "max", "nullable", 0, "description", description, "derived", 0,
			 "presence_bit");
}

static json_t *channel_entry(const struct frame_channel *c, unsigned bit)
{
	json_t *csv = json_array(), *components = json_array(), *e;

	if (c->n == 1)
		json_array_append_new(csv, json_string(c->name));
	for (unsigned i = 0; c->n > 1 && i < c->n; i++) {
		const char *sfx = frame_dim_suffix(c->dim, i);

		json_array_append_new(components, json_string(sfx));
		json_array_append_new(csv, json_sprintf("%s_%s", c->name, sfx));
	}
	e = entry(c->name, "channel", c->name, csv, dict_type_name(c->type), c->unit,
		  c->description);
	if (!e) {
		json_decref(components);
		return NULL;
	}
	json_object_set_new(e, "dimension", json_string(dict_dim_name(c->dim)));
	json_object_set_new(e, "components", components);
	json_object_set_new(e, "range",
			    json_pack("{s:o, s:o}", "min", bound(c->lo), "max", bound(c->hi)));
	json_object_set_new(e, "nullable",
			    json_boolean(c->flags & (FRAME_CF_NEG_NULL | FRAME_CF_ZERO_NULL)));
	json_object_set_new(e, "derived", json_boolean(c->flags & FRAME_CF_DERIVED));
	json_object_set_new(e, "presence_bit", json_integer(bit));
	json_object_set_new(e, "games", games_of(c->bit, OWN));
	json_object_set_new(e, "derived_for", games_of(c->bit, DERIVED));
	return e;
}

static json_t *flag_entry(unsigned b)
{
	const char *name = frame_flag_name(b);
	json_t *e = entry(name, "flag", "", json_pack("[s]", name), "bool", "",
			  frame_flag_description(b));

	if (e) {
		json_object_set_new(e, "json_key", json_sprintf("flags.%s", name));
		json_object_set_new(e, "games", games_of(1u << b, FLAGS));
	}
	return e;
}

/* The frame's "derived" key: which of its channels pitwall derived. */
static json_t *derived_entry(void)
{
	json_t *e = entry("derived", "annotation", "derived", json_pack("[s]", "derived"), "string",
			  "", DERIVED_DESCRIPTION);
	json_t *games = json_array();

	for (unsigned g = 1; games && g < PW_GAME_COUNT; g++)
		if (dict_game_derived(g))
			json_array_append_new(games, json_string(frame_game_name(g)));
	if (e) {
		json_object_set_new(e, "dimension", json_string("list"));
		json_object_set_new(e, "games", games);
	} else {
		json_decref(games);
	}
	return e;
}

static json_t *names_of(uint64_t bits, unsigned count, const char *(*name)(unsigned))
{
	json_t *a = json_array();

	for (unsigned b = 0; a && b < count; b++)
		if (bits & (1ull << b))
			json_array_append_new(a, json_string(name(b)));
	return a;
}

static json_t *game_entry(unsigned g)
{
	return json_pack(
		"{s:s, s:s, s:s, s:o, s:o, s:o}", "name", frame_game_name(g), "title",
		frame_game_title(g), "feed", frame_feed_name(frame_game_feed(g)), "channels",
		names_of(game_sets[g].channels, FRAME_P_COUNT, frame_channel_name), "derived",
		names_of(dict_game_derived(g), FRAME_P_COUNT, frame_channel_name), "flags",
		names_of(game_sets[g].flags, FRAME_FLAG_COUNT, frame_flag_name));
}

/* Append e (stolen) to a; -1 when e is NULL (out of memory). */
static int append(json_t *a, json_t *e)
{
	return e && json_array_append_new(a, e) == 0 ? 0 : -1;
}

json_t *dict_json(unsigned game)
{
	json_t *channels = json_array(), *games = json_array(), *d;
	int rc = channels && games ? 0 : -1;

	for (size_t i = 0; rc == 0 && i < sizeof identity / sizeof *identity; i++) {
		json_t *e = entry(identity[i].name, "identity", identity[i].name,
				  json_pack("[s]", identity[i].name), identity[i].type,
				  identity[i].unit, identity[i].description);

		if (e)
			json_object_set_new(e, "games", all_games());
		rc = append(channels, e);
	}
	for (unsigned b = 0; rc == 0 && b < FRAME_P_COUNT; b++)
		if (!game || ((dict_game_channels(game) | dict_game_derived(game)) & (1ull << b)))
			rc = append(channels, channel_entry(&frame_channels[b], b));
	for (unsigned b = 0; rc == 0 && b < FRAME_FLAG_COUNT; b++)
		if (!game || (dict_game_flags(game) & (1u << b)))
			rc = append(channels, flag_entry(b));
	if (rc == 0 && (!game || dict_game_derived(game)))
		rc = append(channels, derived_entry());
	for (unsigned g = 1; rc == 0 && g < PW_GAME_COUNT; g++)
		if (!game || g == game)
			rc = append(games, game_entry(g));
	if (rc < 0) {
		json_decref(channels);
		json_decref(games);
		return NULL;
	}
	d = json_pack("{s:i, s:o, s:o}", "frame_version", FRAME_VERSION, "channels", channels,
		      "games", games);
	return d;
}

/* --- the frame's JSON Schema --- */

/* The schema of one value of channel c: its JSON type, its C type's limits,
 * its promised range; null too where a negative value (NEG_NULL) or a 0
 * (ZERO_NULL) is written as null. */
static json_t *value_schema(const struct frame_channel *c)
{
	static const struct {
		double lo, hi;
	} limits[] = {
		[FRAME_T_I8] = { INT8_MIN, INT8_MAX },
		[FRAME_T_U8] = { 0, UINT8_MAX },
		[FRAME_T_U16] = { 0, UINT16_MAX },
		[FRAME_T_I32] = { INT32_MIN, INT32_MAX },
	};
	int real = c->type == FRAME_T_F32 || c->type == FRAME_T_F64;
	const char *t = real ? "number" : "integer";
	int null = (c->flags & (FRAME_CF_NEG_NULL | FRAME_CF_ZERO_NULL)) != 0;
	json_t *v = null ? json_pack("{s:[ss]}", "type", t, "null") : json_pack("{s:s}", "type", t);
	double lo = real ? c->lo : fmax(c->lo, limits[c->type].lo);
	double hi = real ? c->hi : fmin(c->hi, limits[c->type].hi);

	if ((c->flags & FRAME_CF_NEG_NULL) && lo < 0)
		lo = 0; /* a negative value is written as null */
	if ((c->flags & FRAME_CF_ZERO_NULL) && lo <= 0)
		lo = real ? 0 : 1; /* so is a 0 */
	if (v && isfinite(lo))
		json_object_set_new(v, "minimum",
				    real ? json_real(lo) : json_integer((json_int_t)lo));
	if (v && isfinite(hi))
		json_object_set_new(v, "maximum",
				    real ? json_real(hi) : json_integer((json_int_t)hi));
	return v;
}

static json_t *described(json_t *v, const char *description, const char *unit)
{
	if (v)
		json_object_set_new(v, "description",
				    *unit ? json_sprintf("%s, %s", description, unit)
					  : json_string(description));
	return v;
}

static json_t *channel_schema(const struct frame_channel *c)
{
	json_t *v = value_schema(c);

	if (c->n > 1 && v)
		v = json_pack("{s:s, s:o, s:i, s:i}", "type", "array", "items", v, "minItems", c->n,
			      "maxItems", c->n);
	return described(v, c->description, c->unit);
}

/*
 * A row of an export with options (docs/export.md): time_s first, then any of
 * the frame's keys, an array's values as their own columns (pos_m_x), a flag
 * as its own key (abs) or every flag under "flags", and derived.
 */
/*
 * What a frame or an export row may carry beyond the keys it knows: nothing;
 * or, where a consumer applied a manifest (docs/manifests.md: ?manifest=),
 * its channels, numbers under names of a-z 0-9 _ that start with a letter.
 */
static void set_extra(json_t *schema, int manifest)
{
	if (!manifest) {
		json_object_set_new(schema, "additionalProperties", json_false());
		return;
	}
	json_object_set_new(schema, "additionalProperties", json_pack("{s:s}", "type", "number"));
	json_object_set_new(schema, "propertyNames",
			    json_pack("{s:s}", "pattern", "^[a-z][a-z0-9_]{0,47}$"));
}

/*
 * A row of an export with options (docs/export.md): time_s first, then any of
 * the frame's keys, an array's values as their own columns (pos_m_x), a flag
 * as its own key (abs) or every flag under "flags", and derived.
 */
static json_t *export_row_schema(const json_t *frame_props, int manifest)
{
	json_t *props = json_deep_copy(frame_props), *row;
	char name[64];

	if (!props)
		return NULL;
	json_object_set_new(props, "time_s",
			    json_pack("{s:s, s:f, s:s}", "type", "number", "minimum", 0.0,
				      "description",
				      "seconds on the run clock from the first exported frame"));
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const struct frame_channel *c = &frame_channels[b];

		for (unsigned i = 0; c->n > 1 && i < c->n; i++) {
			snprintf(name, sizeof name, "%s_%s", c->name, frame_dim_suffix(c->dim, i));
			json_object_set_new(props, name,
					    described(value_schema(c), c->description, c->unit));
		}
	}
	for (unsigned b = 0; b < FRAME_FLAG_COUNT; b++)
		json_object_set_new(props, frame_flag_name(b),
				    json_pack("{s:s, s:s}", "type", "boolean", "description",
					      frame_flag_description(b)));
	row = json_pack("{s:s, s:s, s:[s], s:o}", "type", "object", "description",
			manifest ? "a row of an export with options and a manifest's channels"
				 : "a row of an export with options (channels, hz or lap): "
				   "time_s, then the asked columns",
			"required", "time_s", "properties", props);
	if (row)
		set_extra(row, manifest);
	return row;
}

/* A frame with a manifest's channels beside its own (the stream, plain exports). */
static json_t *manifest_frame_schema(const json_t *frame_props)
{
	json_t *f =
		json_pack("{s:s, s:s, s:[sssss], s:O}", "type", "object", "description",
			  "a frame with a manifest's channels beside its own", "required", "seq",
			  "t_ns", "feed", "game", "game_session", "properties", frame_props);

	if (f)
		set_extra(f, 1);
	return f;
}

json_t *dict_frame_schema(void)
{
	json_t *props = json_object(), *flags = json_object(), *s;

	for (size_t i = 0; props && i < sizeof identity / sizeof *identity; i++) {
		const char *t = identity[i].type;
		json_t *v = strcmp(t, "string") == 0 ? json_pack("{s:s}", "type", "string")
			    : strcmp(t, "uint64") == 0
				    ? json_pack("{s:s, s:i}", "type", "integer", "minimum", 0)
				    : json_pack("{s:s}", "type", "integer");

		json_object_set_new(props, identity[i].name,
				    described(v, identity[i].description, identity[i].unit));
	}
	for (unsigned b = 0; props && b < FRAME_P_COUNT; b++)
		json_object_set_new(props, frame_channels[b].name,
				    channel_schema(&frame_channels[b]));
	for (unsigned b = 0; flags && b < FRAME_FLAG_COUNT; b++)
		json_object_set_new(flags, frame_flag_name(b),
				    json_pack("{s:s, s:s}", "type", "boolean", "description",
					      frame_flag_description(b)));
	json_object_set_new(
		props, "derived",
		json_pack("{s:s, s:{s:o}, s:i, s:b, s:s}", "type", "array", "items", "enum",
			  names_of(FRAME_P_ALL, FRAME_P_COUNT, frame_channel_name), "minItems", 1,
			  "uniqueItems", 1, "description", DERIVED_DESCRIPTION));
	json_object_set_new(props, "flags",
			    json_pack("{s:s, s:s, s:b, s:o}", "type", "object", "description",
				      "the flags the game reports: only those appear",
				      "additionalProperties", 0, "properties", flags));
	s = json_pack("{s:s, s:s, s:s, s:s, s:[sss], s:s, s:[sssss], s:b, s:o, s:{s:o}}", "$schema",
		      "https://json-schema.org/draft/2020-12/schema", "$id",
		      "/api/schemas/frame/v1", "title", "frame", "description",
		      "The normalized frame as JSON (common/frame.h): identity, then only the "
		      "channels the game supplies or pitwall derives (a channel a frame lacks is "
		      "absent, never 0), the flags the game reports, and which channels were "
		      "derived. $defs: export_row, a row of an export with options; "
		      "manifest_frame and manifest_export_row, the same with a manifest's "
		      "channels. Generated from the channel table by `pwctl channels "
		      "--frame-schema`.",
		      "x-pitwall-describes", "bus frame.<feed>", "output pw-capture --decode",
		      "output pwctl tail", "type", "object", "required", "seq", "t_ns", "feed",
		      "game", "game_session", "additionalProperties", 0, "properties", props,
		      "$defs", "export_row", export_row_schema(props, 0));
	if (s) {
		json_t *defs = json_object_get(s, "$defs");

		json_object_set_new(defs, "manifest_frame", manifest_frame_schema(props));
		json_object_set_new(defs, "manifest_export_row", export_row_schema(props, 1));
	}
	return s;
}
