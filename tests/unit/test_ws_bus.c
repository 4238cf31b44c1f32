/*
 * test_ws_bus.c - what the WebSocket stream makes of a bus message
 * (ws_bus_event, api/ws_bus.c): every event of the topic table
 * (common/topics.h) under its own type with its payload unchanged,
 * track.built and track.deleted among them; lap.<feed> as lap_completed /
 * lap_invalidated; feed.<feed> as feed_status; frame.<feed>, unknown topics
 * and payloads that are not JSON objects not at all; oversized payloads
 * summarized.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ws_int.h"
#include "common/topics.h"
#include "tests/unit/t.h"

static const char *jstr(const json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "";
}

/* The envelope of m, parsed; its type checked against want. NULL when none. */
static json_t *envelope(struct ws_msg *m, const char *want)
{
	json_error_t jerr;
	json_t *e;

	if (!m)
		return NULL;
	e = json_loadb(m->text, m->len, 0, &jerr);
	T_CHECKF(json_is_object(e), "%.*s: %s", (int)m->len, m->text, jerr.text);
	T_CHECKF(m->opcode == MG_WEBSOCKET_OPCODE_TEXT, "%s: opcode %d", want, m->opcode);
	T_CHECKF(json_is_object(e) && strcmp(jstr(json_object_get(e, "type")), want) == 0 &&
			 json_integer_value(json_object_get(e, "schema_version")) ==
				 WS_SCHEMA_VERSION &&
			 json_is_integer(json_object_get(e, "t_ms")) &&
			 json_is_object(json_object_get(e, "data")),
		 "%.*s: not a %s envelope", (int)m->len, m->text, want);
	return e;
}

static struct ws_msg *event(const char *topic, const char *body, enum ws_type *type,
			    const char **feed)
{
	return ws_bus_event(topic, body, strlen(body), type, feed);
}

/* Every event of the table is forwarded under its topic, its payload as is. */
static void test_every_event(void)
{
	const char *body = "{\"session_id\":\"s\",\"n\":[1,2.5,{\"x\":null}],\"ok\":true}";

	for (int t = 0; t < TOPIC_EVENT_COUNT; t++) {
		const char *name = topic_event((enum topic_event)t)->name;
		enum ws_type type;
		const char *feed = "x";
		struct ws_msg *m = event(name, body, &type, &feed);
		json_t *e = envelope(m, name), *want = json_loads(body, 0, NULL);

		T_CHECKF(m != NULL, "%s is not forwarded", name);
		T_CHECKF((int)type == WS_T_EVENT + t && strcmp(ws_type_name(type), name) == 0,
			 "%s: type %d (%s)", name, (int)type, ws_type_name(type));
		T_CHECKF(ws_types[WS_T_EVENT + t].subscribable, "%s: not subscribable", name);
		T_CHECKF(feed == NULL, "%s names no feed", name);
		T_CHECKF(json_equal(json_object_get(e, "data"), want),
			 "%s: data is not the payload", name);
		/* the payload's bytes, not a re-serialization */
		T_CHECKF(m && strstr(m->text, body) != NULL, "%s: %.*s", name, m ? (int)m->len : 0,
			 m ? m->text : "");
		json_decref(want);
		json_decref(e);
		ws_msg_unref(m);
	}
}

/* track.built and track.deleted, the payloads the store publishes. */
static void test_track_events(void)
{
	static const struct {
		const char *topic, *body;
	} cases[] = {
		{ "track.built",
		  "{\"game\":\"assetto_corsa\",\"track_name\":\"monza\","
		  "\"session_id\":\"7b0c9d2e-1f3a-4c5b-8d6e-9f0a1b2c3d4e\",\"corner_count\":11}" },
		{ "track.deleted", "{\"game\":\"assetto_corsa\",\"track_name\":\"monza\"}" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		enum ws_type type;
		const char *feed;
		struct ws_msg *m = event(cases[i].topic, cases[i].body, &type, &feed);
		json_t *e = envelope(m, cases[i].topic), *d = json_object_get(e, "data");

		T_CHECKF(m && strcmp(ws_type_name(type), cases[i].topic) == 0, "%s: type %s",
			 cases[i].topic, m ? ws_type_name(type) : "(not forwarded)");
		T_CHECKF(strcmp(jstr(json_object_get(d, "track_name")), "monza") == 0,
			 "%s: track_name", cases[i].topic);
		json_decref(e);
		ws_msg_unref(m);
	}
}

static void test_lap_events(void)
{
	enum ws_type type;
	const char *feed;
	struct ws_msg *m;
	json_t *e, *d;

	m = event("lap.forza",
		  "{\"event\":\"lap_completed\",\"feed\":\"forza\",\"lap\":{\"number\":3,"
		  "\"time_ms\":91234,\"valid\":true,\"personal_best\":true}}",
		  &type, &feed);
	e = envelope(m, "lap_completed");
	d = json_object_get(e, "data");
	T_CHECKF(type == WS_T_LAP_COMPLETED && feed && strcmp(feed, "forza") == 0,
		 "type %d feed %s", (int)type, feed ? feed : "-");
	T_CHECKF(json_integer_value(json_object_get(d, "lap_number")) == 3 &&
			 json_real_value(json_object_get(d, "lap_time_s")) == 91.234 &&
			 json_integer_value(json_object_get(d, "lap_time_ms")) == 91234 &&
			 json_is_true(json_object_get(d, "is_personal_best")) &&
			 strcmp(jstr(json_object_get(d, "validity")), "valid") == 0 &&
			 json_array_size(json_object_get(d, "invalid_reasons")) == 0 &&
			 json_is_object(json_object_get(d, "lap")) &&
			 strcmp(jstr(json_object_get(d, "feed")), "forza") == 0,
		 "lap_completed data: %.*s", m ? (int)m->len : 0, m ? m->text : "");
	json_decref(e);
	ws_msg_unref(m);

	m = event("lap.ksudp",
		  "{\"event\":\"lap_invalidated\",\"lap\":{\"number\":4,\"time_ms\":1,"
		  "\"valid\":false,\"invalid_reason\":\"pit\"}}",
		  &type, &feed);
	e = envelope(m, "lap_invalidated");
	d = json_object_get(e, "data");
	T_CHECKF(type == WS_T_LAP_INVALIDATED && feed && strcmp(feed, "ksudp") == 0, "type %d",
		 (int)type);
	T_CHECKF(strcmp(jstr(json_object_get(d, "validity")), "pit") == 0 &&
			 strcmp(jstr(json_array_get(json_object_get(d, "invalid_reasons"), 0)),
				"pit") == 0,
		 "lap_invalidated data");
	json_decref(e);
	ws_msg_unref(m);

	/* the tracker's other event, and lap payloads without a lap: not forwarded */
	m = event("lap.ksudp",
		  "{\"event\":\"session_changed\",\"from_session\":1,\"to_session\":2}", &type,
		  &feed);
	T_CHECKF(m == NULL, "session_changed is forwarded");
	ws_msg_unref(m);
	m = event("lap.ksudp", "{\"event\":\"lap_completed\"}", &type, &feed);
	T_CHECKF(m == NULL, "a lap event without its lap is forwarded");
	ws_msg_unref(m);
}

static void test_feed_status(void)
{
	const char *body = "{\"feed\":\"forza\",\"status\":\"stale\",\"game\":\"\",\"car\":\"\","
			   "\"track\":\"\",\"driver\":\"\",\"write_seq\":5}";
	enum ws_type type;
	const char *feed;
	struct ws_msg *m = event("feed.forza", body, &type, &feed);
	json_t *e = envelope(m, "feed_status"), *want = json_loads(body, 0, NULL);

	T_CHECKF(type == WS_T_FEED_STATUS && feed && strcmp(feed, "forza") == 0, "type %d",
		 (int)type);
	T_CHECKF(json_equal(json_object_get(e, "data"), want), "feed_status data is the payload");
	json_decref(want);
	json_decref(e);
	ws_msg_unref(m);
}

static void test_not_forwarded(void)
{
	static const struct {
		const char *topic, *body;
	} cases[] = {
		{ "frame.ksudp",
		  "{\"seq\":1,\"t_ns\":2,\"feed\":\"ksudp\",\"game\":\"assetto_corsa\"}" },
		{ "run.startedx", "{}" },
		{ "run", "{}" },
		{ "nonsense.topic", "{}" },
		{ "", "{}" },
		{ "run.started", "[1,2]" }, /* not an object */
		{ "run.started", "not json" },
		{ "feed.ksudp", "\"up\"" },
		{ "track.built", "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		enum ws_type type;
		const char *feed;
		struct ws_msg *m = event(cases[i].topic, cases[i].body, &type, &feed);

		T_CHECKF(m == NULL, "\"%s\" %s is forwarded as %s", cases[i].topic, cases[i].body,
			 ws_type_name(type));
		ws_msg_unref(m);
	}
}

/* Over WS_MAX_EVENT_DATA bytes: an event is summarized, anything else dropped. */
static void test_oversized(void)
{
	size_t len = WS_MAX_EVENT_DATA + 1;
	char *big = malloc(len + 1);
	enum ws_type type;
	const char *feed;
	struct ws_msg *m;
	json_t *e, *d;

	if (!big)
		return;
	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	big[len] = 0;
	m = ws_bus_event("track.built", big, len, &type, &feed);
	e = envelope(m, "track.built");
	d = json_object_get(e, "data");
	T_CHECKF(strcmp(jstr(json_object_get(d, "topic")), "track.built") == 0 &&
			 json_is_true(json_object_get(d, "truncated")) &&
			 json_integer_value(json_object_get(d, "bytes")) == (json_int_t)len,
		 "summary: %.*s", m ? (int)m->len : 0, m ? m->text : "");
	json_decref(e);
	ws_msg_unref(m);
	m = ws_bus_event("lap.ksudp", big, len, &type, &feed);
	T_CHECKF(m == NULL, "an oversized lap event is forwarded");
	ws_msg_unref(m);
	/* exactly the limit passes whole */
	big[WS_MAX_EVENT_DATA - 1] = '}';
	m = ws_bus_event("run.error", big, WS_MAX_EVENT_DATA, &type, &feed);
	T_CHECKF(m && m->len > WS_MAX_EVENT_DATA, "%d bytes: forwarded whole", WS_MAX_EVENT_DATA);
	ws_msg_unref(m);
	free(big);
}

int main(void)
{
	T_RUN(test_every_event);
	T_RUN(test_track_events);
	T_RUN(test_lap_events);
	T_RUN(test_feed_status);
	T_RUN(test_not_forwarded);
	T_RUN(test_oversized);
	return T_DONE();
}
