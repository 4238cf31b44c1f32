/*
 * ws_seed.c - the seed-004 dialect of the stream (ws_int.h; docs/stream.md,
 * "Seed-004 clients at /ws"): what a client written to that contract receives
 * at WS_SEED_PATH instead of pitwall's own payloads. Same envelope, same
 * client messages, same close codes; these messages differ:
 *
 *   hello            {type, schema_version, t_ms, sidecar_version, data:
 *                    {sidecar_version, server, feed, feeds}}
 *   telemetry        data = the contract's curated payload of the client's
 *                    one feed, built from the frame (ws_seed_telemetry)
 *   session_started  {session_id, car_ordinal, car_class, car_pi, drivetrain,
 *                    feed, game}
 *   session_ended    {session_id, duration_s, lap_count, feed, reason}
 *   lap_completed    {lap_number, lap_time_s, is_personal_best, validity,
 *                    invalid_reasons}
 *
 * Numbers are written as the shortest decimal that reads back (out_number):
 * a float channel as the float it is ("187.4"), a time in s from integer ms
 * as 91.769, never 91.769000000000005.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ws_int.h"
#include "common/out.h"

/* The frame channel holding normalised suspension travel (0..1), if this
 * build's channel table has one: -1 when not. */
static int norm_bit = -1;
static pthread_once_t norm_once = PTHREAD_ONCE_INIT;

static void find_norm_bit(void)
{
	for (unsigned b = 0; b < FRAME_P_COUNT; b++)
		if (strcmp(frame_channels[b].name, "susp_travel_norm") == 0 &&
		    frame_channels[b].n == 4)
			norm_bit = (int)b;
}

/* "FWD", "RWD", "AWD" where the game says (Forza), else NULL. */
static const char *drivetrain(const struct pw_meta *m)
{
	static const char *const names[] = { "FWD", "RWD", "AWD" };

	return (m->numbers & META_N_DRIVETRAIN) && m->drivetrain >= 0 && m->drivetrain <= 2
		       ? names[m->drivetrain]
		       : NULL;
}

/* ---- the lap status ---- */

void ws_seed_lap_track(struct ws_seed_lap *s, const struct pw_frame *f)
{
	bool has_lap = (f->present & FRAME_P_LAP) != 0;
	bool has_time = (f->present & FRAME_P_LAP_TIME) && f->lap_time_ms >= 0;
	bool in_pit = (f->flags_known & FRAME_FLAG_IN_PIT) && (f->flags & FRAME_FLAG_IN_PIT);

	if (s->have && s->game_session != f->game_session)
		s->have = false;
	if (!s->have) {
		*s = (struct ws_seed_lap){ .have = true,
					   .lap = f->lap,
					   .out_lap = in_pit,
					   .game_session = f->game_session,
					   .lap_time_ms = has_time ? f->lap_time_ms : -1 };
		return;
	}
	if (has_lap && f->lap != s->lap) {
		/* back: a rewind or a restart; forward: a new lap, out of the pits or not */
		s->reset = f->lap < s->lap;
		s->out_lap = !s->reset && in_pit;
		s->lap = f->lap;
	} else if (has_time && s->lap_time_ms > f->lap_time_ms + 100 && f->lap_time_ms > 0) {
		s->reset = true; /* the lap clock went back within the lap */
	}
	s->lap_time_ms = has_time ? f->lap_time_ms : -1;
}

static const char *lap_status(const struct ws_seed_lap *s, const struct pw_frame *f)
{
	unsigned known = f->flags_known & (FRAME_FLAG_IN_PIT | FRAME_FLAG_LAP_INVALID);

	if ((known & FRAME_FLAG_IN_PIT) && (f->flags & FRAME_FLAG_IN_PIT))
		return "pit";
	if (s && s->have && s->reset)
		return "reset";
	if (s && s->have && s->out_lap)
		return "out_lap";
	if ((known & FRAME_FLAG_LAP_INVALID) && (f->flags & FRAME_FLAG_LAP_INVALID))
		return "dirty";
	return known ? "valid" : NULL;
}

/* ---- telemetry ---- */

static void key(struct out *o, const char *k, bool first)
{
	out_printf(o, "%s\"%s\":", first ? "" : ",", k);
}

static void null_or_f32(struct out *o, bool have, float v)
{
	if (have && isfinite(v))
		out_number(o, v, 0);
	else
		out_put(o, "null", 4);
}

/* A time in integer ms as s; null when absent, or negative (not known) or
 * zero (no time yet) where zero_ok is false. */
static void null_or_s(struct out *o, bool have, int32_t ms, bool zero_ok)
{
	if (have && (ms > 0 || (zero_ok && ms == 0)))
		out_number(o, ms / 1000.0, 1);
	else
		out_put(o, "null", 4);
}

static void wheels(struct out *o, const char *k, const struct pw_frame *f, int bit)
{
	static const char *const names[4] = { "fl", "fr", "rl", "rr" };

	key(o, k, false);
	if (!f || bit < 0 || !(f->present & (1ull << bit))) {
		out_put(o, "null", 4);
		return;
	}
	out_put(o, "{", 1);
	for (unsigned i = 0; i < 4; i++) {
		key(o, names[i], i == 0);
		null_or_f32(o, true, (float)frame_channel_value(f, (unsigned)bit, i));
	}
	out_put(o, "}", 1);
}

/* An integer after "prefix" in s ("car_ordinal:861" -> 861): 1 and *v, else 0. */
static int meta_int(const char *s, const char *prefix, long *v)
{
	const char *p = strstr(s, prefix);
	char *end;

	if (!p)
		return 0;
	p += strlen(prefix);
	*v = strtol(p, &end, 10);
	return end != p && (*end == 0 || *end == ' ');
}

/* A number of the game's (pw_meta.numbers bit), else the one a metadata
 * string spells out (older segments): 1 and *v, or 0. */
static int meta_number(const struct pw_meta *m, unsigned bit, long *v)
{
	switch (bit) {
	case META_N_CAR_ORDINAL:
		*v = m->car_ordinal;
		return (m->numbers & bit) || meta_int(m->car, "car_ordinal:", v);
	case META_N_TRACK_ORDINAL:
		*v = m->track_ordinal;
		return (m->numbers & bit) || meta_int(m->track, "track_ordinal:", v);
	case META_N_CAR_CLASS:
		*v = m->car_class_num;
		return (m->numbers & bit) || meta_int(m->car_class, "class:", v);
	case META_N_CAR_PI:
		*v = m->car_pi;
		return (m->numbers & bit) || meta_int(m->car_class, "pi:", v);
	default:
		return 0;
	}
}

size_t ws_seed_telemetry(const struct pw_frame *f, const struct pw_meta *meta,
			 const struct ws_seed_lap *lap, bool live, int64_t session_t_ms, char *buf,
			 size_t cap)
{
	struct out o = { buf, cap, 0 };
	uint64_t p = f ? f->present : 0;
	const char *status = f ? lap_status(lap, f) : NULL;
	bool paused = f && (f->flags_known & FRAME_FLAG_PAUSED) && (f->flags & FRAME_FLAG_PAUSED);
	long track;

	pthread_once(&norm_once, find_norm_bit);
	if (cap)
		buf[0] = 0;
	out_printf(&o, "{\"is_race_on\":%s", f && live && !paused ? "true" : "false");
	key(&o, "session_t_ms", false);
	if (session_t_ms >= 0)
		out_printf(&o, "%lld", (long long)session_t_ms);
	else
		out_put(&o, "null", 4);
	key(&o, "speed_kph", false);
	null_or_f32(&o, p & FRAME_P_SPEED, f ? f->speed_kmh : 0);
	key(&o, "rpm", false);
	null_or_f32(&o, p & FRAME_P_RPM, f ? f->rpm : 0);
	key(&o, "rpm_max", false);
	null_or_f32(&o, p & FRAME_P_MAX_RPM, f ? f->max_rpm : 0);
	key(&o, "gear", false);
	if (p & FRAME_P_GEAR)
		out_printf(&o, "%d", f->gear);
	else
		out_put(&o, "null", 4);
	key(&o, "throttle", false);
	null_or_f32(&o, p & FRAME_P_THROTTLE, f ? f->throttle : 0);
	key(&o, "brake", false);
	null_or_f32(&o, p & FRAME_P_BRAKE, f ? f->brake : 0);
	key(&o, "clutch", false);
	null_or_f32(&o, p & FRAME_P_CLUTCH, f ? f->clutch : 0);
	key(&o, "handbrake", false);
	null_or_f32(&o, p & FRAME_P_HANDBRAKE, f ? f->handbrake : 0);
	key(&o, "steer", false);
	null_or_f32(&o, p & FRAME_P_STEER, f ? f->steer : 0);
	key(&o, "drivetrain", false);
	if (meta && drivetrain(meta))
		out_printf(&o, "\"%s\"", drivetrain(meta));
	else
		out_put(&o, "null", 4);

	key(&o, "lap", false);
	out_put(&o, "{", 1);
	key(&o, "number", true);
	if (p & FRAME_P_LAP) /* the lap being driven: laps completed + 1 */
		out_printf(&o, "%u", f->lap + 1u);
	else
		out_put(&o, "null", 4);
	key(&o, "current_s", false);
	null_or_s(&o, p & FRAME_P_LAP_TIME, f ? f->lap_time_ms : 0, true);
	key(&o, "last_s", false);
	null_or_s(&o, p & FRAME_P_LAST_LAP, f ? f->last_lap_ms : 0, false);
	key(&o, "best_s", false);
	null_or_s(&o, p & FRAME_P_BEST_LAP, f ? f->best_lap_ms : 0, false);
	key(&o, "position", false);
	if (p & FRAME_P_POSITION)
		out_printf(&o, "%u", f->position);
	else
		out_put(&o, "null", 4);
	key(&o, "distance_m", false);
	null_or_f32(&o, p & FRAME_P_LAP_DIST, f ? f->lap_dist_m : 0);
	out_put(&o, "}", 1);

	wheels(&o, "tire_temp_c", f, FRAME_CH_TYRE_TEMP);
	wheels(&o, "tire_slip_ratio", f, FRAME_CH_SLIP_RATIO);
	wheels(&o, "tire_slip_angle_rad", f, FRAME_CH_SLIP_ANGLE);
	wheels(&o, "suspension_travel_norm", f, norm_bit);
	key(&o, "fuel_frac", false);
	null_or_f32(&o, p & FRAME_P_FUEL_FRAC, f ? f->fuel_frac : 0);
	key(&o, "boost_bar", false);
	null_or_f32(&o, p & FRAME_P_BOOST, f ? f->boost_bar : 0);
	/* the car frame of vel_ms: x right, y up, z forward */
	key(&o, "accel_g", false);
	if (p & (FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_VERT | FRAME_P_ACCEL_LON)) {
		out_put(&o, "{\"x\":", 5);
		null_or_f32(&o, p & FRAME_P_ACCEL_LAT, f->accel_lat_g);
		out_put(&o, ",\"y\":", 5);
		null_or_f32(&o, p & FRAME_P_ACCEL_VERT, f->accel_vert_g);
		out_put(&o, ",\"z\":", 5);
		null_or_f32(&o, p & FRAME_P_ACCEL_LON, f->accel_lon_g);
		out_put(&o, "}", 1);
	} else {
		out_put(&o, "null", 4);
	}
	key(&o, "lap_status", false);
	if (status)
		out_printf(&o, "\"%s\"", status);
	else
		out_put(&o, "null", 4);
	wheels(&o, "tire_wear_frac", f, FRAME_CH_TYRE_WEAR);
	key(&o, "track_ordinal", false);
	if (meta && meta_number(meta, META_N_TRACK_ORDINAL, &track))
		out_printf(&o, "%ld", track);
	else
		out_put(&o, "null", 4);
	out_put(&o, "}", 1);
	return o.len;
}

struct ws_msg *ws_seed_telemetry_msg(const struct ws_feed *f, bool live)
{
	char *data = malloc(WS_SEED_TELEMETRY_MAX);
	int64_t session_t_ms = -1;
	struct ws_msg *m = NULL;
	size_t n;

	if (!data)
		return NULL;
	if (f && f->have_latest && f->in_session && f->latest.t_ns >= f->session_start_ns)
		session_t_ms = (f->latest.t_ns - f->session_start_ns) / NS_PER_MS;
	n = ws_seed_telemetry(f && f->have_latest ? &f->latest : NULL, f ? &f->meta : NULL,
			      f ? &f->seed_lap : NULL, live, session_t_ms, data,
			      WS_SEED_TELEMETRY_MAX);
	if (n < WS_SEED_TELEMETRY_MAX)
		m = ws_msg_envelope(WS_T_TELEMETRY, data, n);
	free(data);
	return m;
}

/* ---- events ---- */

/* The feed's session_id, feed and game (pitwall's additions the contract lets
 * a client ignore). */
static void session_common(json_t *o, const struct ws_feed *f)
{
	char id[64];

	ws_session_id(f, id, sizeof id);
	json_object_set_new(o, "session_id", json_string(id));
	json_object_set_new(o, "feed", json_string(f->name));
	json_object_set_new(o, "game", json_string(frame_game_name(f->latest.game)));
}

static json_t *meta_number_json(const struct pw_meta *m, unsigned bit)
{
	long v;

	return meta_number(m, bit, &v) ? json_integer(v) : json_null();
}

struct ws_msg *ws_seed_session_started(const struct ws_feed *f)
{
	json_t *o = json_object();
	long cls;

	session_common(o, f);
	json_object_set_new(o, "car_ordinal", meta_number_json(&f->meta, META_N_CAR_ORDINAL));
	/* Forza's class is a number whose letters differ per game: kept as the number */
	if (meta_number(&f->meta, META_N_CAR_CLASS, &cls)) {
		char s[24];

		snprintf(s, sizeof s, "%ld", cls);
		json_object_set_new(o, "car_class", json_string(s));
	} else {
		json_object_set_new(o, "car_class",
				    f->meta.car_class[0] ? json_string(f->meta.car_class)
							 : json_null());
	}
	json_object_set_new(o, "car_pi", meta_number_json(&f->meta, META_N_CAR_PI));
	json_object_set_new(o, "drivetrain",
			    drivetrain(&f->meta) ? json_string(drivetrain(&f->meta)) : json_null());
	return ws_msg_json(WS_T_SESSION_STARTED, o);
}

struct ws_msg *ws_seed_session_ended(const struct ws_feed *f, double duration_s, json_t *lap_count,
				     const char *reason)
{
	json_t *o = json_object();

	session_common(o, f);
	json_object_set_new(o, "duration_s", json_real(duration_s));
	json_object_set_new(o, "lap_count", lap_count ? lap_count : json_null());
	json_object_set_new(o, "reason", json_string(reason));
	return ws_msg_json(WS_T_SESSION_ENDED, o);
}

/* The store's reason a lap is invalid (common/laps.h) as the contract's tag. */
static const char *reason_tag(const char *why)
{
	static const char *const map[][2] = {
		{ "game_flag", "off_track" },   { "pit", "pit_in" },
		{ "reset", "rewind" },          { "out_lap", "out_lap" },
		{ "incomplete", "incomplete" }, { "cut_short", "cut_short" },
	};

	for (size_t i = 0; i < sizeof map / sizeof *map; i++)
		if (strcmp(map[i][0], why) == 0)
			return map[i][1];
	return why;
}

struct ws_msg *ws_seed_lap(json_t *payload)
{
	const char *ev = json_string_value(json_object_get(payload, "event"));
	json_t *lap = json_object_get(payload, "lap"), *time_ms = json_object_get(lap, "time_ms");
	const char *why = json_string_value(json_object_get(lap, "invalid_reason"));
	bool valid = json_is_true(json_object_get(lap, "valid"));
	json_t *reasons = json_array();
	const char *validity = "valid";

	if (!ev || strcmp(ev, "lap_completed") != 0 || !json_is_object(lap)) {
		json_decref(reasons);
		return NULL;
	}
	if (!valid) {
		validity = !why                                                     ? "dirty"
			   : strcmp(why, "reset") == 0                              ? "reset"
			   : strcmp(why, "pit") == 0 || strcmp(why, "out_lap") == 0 ? "pit"
										    : "dirty";
		if (why && strcmp(why, "none") != 0)
			json_array_append_new(reasons, json_string(reason_tag(why)));
	}
	return ws_msg_json(
		WS_T_LAP_COMPLETED,
		json_pack("{s:O, s:o, s:b, s:s, s:o}", "lap_number",
			  json_object_get(lap, "number") ? json_object_get(lap, "number")
							 : json_null(),
			  "lap_time_s",
			  json_is_integer(time_ms) && json_integer_value(time_ms) >= 0
				  ? json_real((double)json_integer_value(time_ms) / 1000.0)
				  : json_null(),
			  "is_personal_best", json_is_true(json_object_get(lap, "personal_best")),
			  "validity", validity, "invalid_reasons", reasons));
}

struct ws_msg *ws_seed_hello(const struct ws *ws, const struct ws_client *c)
{
	json_t *feeds = json_array(), *data;
	char *text = NULL, head[160];
	struct ws_msg *m = NULL;
	int hn;

	for (int i = 0; i < ws->nfeeds; i++)
		json_array_append_new(feeds, json_string(ws->feeds[i].name));
	data = json_pack(
		"{s:s, s:s, s:i, s:I, s:o, s:o}", "sidecar_version", PW_VERSION, "server",
		"pitwall", "schema_version", WS_SCHEMA_VERSION, "client_id", (json_int_t)c->id,
		"feed", c->seed_feed >= 0 ? json_string(ws->feeds[c->seed_feed].name) : json_null(),
		"feeds", feeds);
	/* the contract's example has sidecar_version beside the envelope's fields */
	hn = snprintf(head, sizeof head,
		      "{\"type\":\"hello\",\"schema_version\":%d,\"t_ms\":%lld,"
		      "\"sidecar_version\":\"%s\",\"data\":",
		      WS_SCHEMA_VERSION, (long long)(clock_now_ns() / NS_PER_MS), PW_VERSION);
	if (data && (text = json_dumps(data, JSON_COMPACT)) && hn > 0 && (size_t)hn < sizeof head) {
		size_t tn = strlen(text);
		char *all = malloc((size_t)hn + tn + 2);

		if (all) {
			memcpy(all, head, (size_t)hn);
			memcpy(all + hn, text, tn);
			all[(size_t)hn + tn] = '}';
			m = ws_msg_control(WS_T_HELLO, MG_WEBSOCKET_OPCODE_TEXT, all,
					   (size_t)hn + tn + 1);
			free(all);
		}
	}
	free(text);
	json_decref(data);
	return m;
}
