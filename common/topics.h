/*
 * topics.h - every bus topic (docs/architecture.md §4): its name, who publishes it, the
 * keys every payload has, what the payload is and what the WebSocket stream
 * makes of it. One table, read by the publishers (pw-store's bus_publish
 * takes a topic of this table, not a string, so a topic that is not here
 * cannot be published), by pw-api's stream (api/ws_bus.c forwards the events
 * of this table; enum ws_type in api/ws.h has one type per event), and by
 * the docs: docs/store.md's "Bus" table is `pwctl topics --markdown`
 * (test_topics checks it, and that docs/stream.md names every event).
 *
 * A message on the bus is two frames: the topic, then the JSON payload.
 * Two kinds of topic:
 *
 *   per feed   "<family><feed>": "lap.ksudp", "feed.forza". The family
 *              (TOPICS_PER_FEED) names the prefix, dot included, so a
 *              subscriber takes every feed's with one ZMQ_SUBSCRIBE.
 *   events     one fixed name each (TOPICS_EVENTS): "run.started". Every
 *              event is forwarded on /api/stream under its name with its
 *              payload unchanged.
 *
 * Table columns (string literals; payload and stream are markdown):
 *   X(ID, name, publisher, keys, payload, stream)   per feed
 *   X(ID, name, publisher, keys, payload)           events
 * keys: the space-separated keys every payload of the topic has (checked
 * against what the store really publishes by tests/integration/test_topics.sh).
 * No event name may start with a family's prefix.
 *
 * Thread-safe: the tables are constant; nothing here allocates.
 */
#ifndef PW_TOPICS_H
#define PW_TOPICS_H

#include <stddef.h>
#include <stdio.h>

#include "common/ids.h"

#define TOPICS_PER_FEED(X)                                                                     \
	X(FRAME, "frame.", "pw-store", "seq t_ns feed game game_session",                      \
	  "every frame of the feed, the JSON of `pw-capture --decode` (turn off with "         \
	  "`PITWALL_BUS_FRAMES=0`)",                                                           \
	  "not forwarded: `telemetry` reads the rings")                                        \
	X(LAP, "lap.", "pw-store", "event feed",                                               \
	  "`{\"event\":\"lap_completed\",\"lap\":{number, time_ms, sector_ms, valid, "         \
	  "invalid_reason, ...},\"feed\"}`, also `lap_invalidated`; "                          \
	  "`{\"event\":\"session_changed\",\"from_session\",\"to_session\",\"feed\"}`",        \
	  "`lap_completed`, `lap_invalidated` (not `session_changed`)")                        \
	X(FEED, "feed.", "pw-store", "feed status game car track driver write_seq",            \
	  "`{\"feed\",\"status\":\"up\\|stale\\|down\",\"game\",\"car\",\"track\",\"driver\"," \
	  "\"write_seq\"}` on every change",                                                   \
	  "`feed_status`")                                                                     \
	X(RECOMMENDATION, "recommendation.", "pw-store",                                       \
	  "id session_id run_id feed lap_number category title confidence adjustment",         \
	  "a finding of the race engineer on a lap just completed (a per-lap job): seed "      \
	  "004's `recommendation` fields plus `id`, `session_id`, `run_id`, `feed`, "          \
	  "`lap_number`, `rule`, `kind`, `evidence`, `lap_end_t_ns`, `published_t_ns` "        \
	  "(docs/analysis-recommendations.md)",                                                \
	  "`recommendation` (never dropped for a slow consumer)")

#define TOPICS_EVENTS(X)                                                                         \
	X(SESSION_CREATED, "session.created", "pw-store", "session_id use_case status",          \
	  "`{\"session_id\",\"use_case\",\"status\"}`")                                          \
	X(SESSION_COMPLETED, "session.completed", "pw-store", "session_id use_case status",      \
	  "`{\"session_id\",\"use_case\",\"status\"}`")                                          \
	X(SESSION_REOPENED, "session.reopened", "pw-store", "session_id use_case status",        \
	  "`{\"session_id\",\"use_case\",\"status\"}`")                                          \
	X(SESSION_DELETED, "session.deleted", "pw-store", "session_id", "`{\"session_id\"}`")    \
	X(RUN_STARTED, "run.started", "pw-store", "session_id id feed_name status start_marker", \
	  "the run's JSON (`run.get` without `laps` and `frames_path`) plus `session_id`")       \
	X(RUN_STOPPED, "run.stopped", "pw-store",                                                \
	  "session_id id feed_name status start_marker end_marker frame_count",                  \
	  "the run's JSON plus `session_id`")                                                    \
	X(RUN_RESUMED, "run.resumed", "pw-store", "session_id id feed_name status start_marker", \
	  "the run's JSON plus `session_id` (a run the store resumed after a restart)")          \
	X(RUN_DELETED, "run.deleted", "pw-store", "session_id run_id",                           \
	  "`{\"session_id\",\"run_id\"}`")                                                       \
	X(RUN_ERROR, "run.error", "pw-store", "session_id run_id code message",                  \
	  "`{\"session_id\",\"run_id\",\"code\":\"disk_full\\|io_error\",\"message\"}`")         \
	X(RECORDING_STARTED, "recording.started", "pw-store", "recording_id name status",        \
	  "`{\"recording_id\",\"name\",\"status\":\"active\"}`")                                 \
	X(RECORDING_STOPPED, "recording.stopped", "pw-store", "recording_id name status reason", \
	  "`{\"recording_id\",\"name\",\"status\":\"stopped\",\"reason\"}`")                     \
	X(RECORDING_DELETED, "recording.deleted", "pw-store", "recording_id name status",        \
	  "`{\"recording_id\",\"name\",\"status\":\"deleted\"}`")                                \
	X(ANALYSIS_PENDING, "analysis.pending", "pw-store", "session_id",                        \
	  "`{\"session_id\"}`: an analysis job was queued")                                      \
	X(ANALYSIS_COMPLETED, "analysis.completed", "pw-store", "session_id job_id",             \
	  "`{\"session_id\",\"job_id\"}`: the result is in `session.analysis`")                  \
	X(ANALYSIS_FAILED, "analysis.failed", "pw-store", "session_id job_id",                   \
	  "`{\"session_id\",\"job_id\"}`: the error is in `session.analysis`")                   \
	X(TRACK_BUILT, "track.built", "pw-store", "game track_name session_id corner_count",     \
	  "`{\"game\",\"track_name\",\"session_id\",\"corner_count\"}`: a track model was "      \
	  "built (`track.build`) and stored")                                                    \
	X(TRACK_DELETED, "track.deleted", "pw-store", "game track_name",                         \
	  "`{\"game\",\"track_name\"}`")

enum topic_family {
#define TOPIC_FAMILY_ID(id, name, publisher, keys, payload, stream) TOPIC_##id,
	TOPICS_PER_FEED(TOPIC_FAMILY_ID)
#undef TOPIC_FAMILY_ID
		TOPIC_FAMILY_COUNT
};

enum topic_event {
#define TOPIC_EVENT_ID(id, name, publisher, keys, payload) TOPIC_##id,
	TOPICS_EVENTS(TOPIC_EVENT_ID)
#undef TOPIC_EVENT_ID
		TOPIC_EVENT_COUNT
};

/* Longest topic: a family's prefix and the longest feed name. */
#define TOPIC_NAME_MAX (16 + IDS_FEED_MAX)

/* One row of the table. */
struct topic_desc {
	const char *name;      /* an event's name; a family's prefix ("lap.") */
	const char *publisher; /* the program that publishes it */
	const char *keys;      /* space-separated keys every payload has */
	const char *payload;   /* markdown */
	const char *stream;    /* markdown: what /api/stream sends for it */
};

/*
 * A per-feed topic's name on the wire. Only topic_feed_name makes one, so a
 * publisher that takes a struct topic_name (not a string) publishes nothing
 * outside the table; events are published by their enum topic_event.
 */
struct topic_name {
	char s[TOPIC_NAME_MAX + 1];
};

/* Accessors: the row of an event or a family; NULL when out of range. */
const struct topic_desc *topic_event(enum topic_event t);
const struct topic_desc *topic_family(enum topic_family t);

/* The event called name; -1 when it is none (a per-feed topic is not an event). */
int topic_event_find(const char *name);
/* Family t's topic of feed (an identifier, common/ids.h) in *out: 0, -EINVAL
 * for t out of range or an invalid feed name. */
int topic_feed_name(struct topic_name *out, enum topic_family t, const char *feed);
/* The feed that name (a topic) is family t's topic of: a pointer into name,
 * NULL when name is not one of t's topics. */
const char *topic_feed_of(enum topic_family t, const char *name);

/* docs/store.md's table: one row per topic, families first ("`lap.<feed>`").
 * 0, or -EIO when out could not be written. */
int topics_markdown(FILE *out);

#endif
