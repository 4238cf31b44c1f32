/*
 * ws_bus.c - the bus thread (ws_int.h): a ZMQ_SUB on cfg->bus turns the bus
 * messages the stream forwards into event envelopes, serialized once and
 * fanned out by reference to the subscribed clients. What is forwarded is
 * the topic table's (common/topics.h): every event under its own name and
 * payload, lap.<feed> as lap_completed / lap_invalidated, feed.<feed> as
 * feed_status, recommendation.<feed> as recommendation (its payload is the
 * message's data).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "api/ws_int.h"
#include "common/log.h"

/* The stream type of a pitwall event's topic; WS_T_COUNT when it is none. */
static enum ws_type bus_type(const char *topic)
{
	int t = topic_event_find(topic);

	return t < 0 ? WS_T_COUNT : (enum ws_type)(WS_T_EVENT + t);
}

/* lap.<feed> -> lap_completed / lap_invalidated, the seed's fields first and the
 * store's lap object under "lap". NULL for other lap events. */
static struct ws_msg *lap_msg(json_t *payload, const char *feed, enum ws_type *type)
{
	const char *ev = json_string_value(json_object_get(payload, "event"));
	json_t *lap = json_object_get(payload, "lap"), *o, *reasons;
	const char *why = json_string_value(json_object_get(lap, "invalid_reason"));
	json_t *time_ms = json_object_get(lap, "time_ms");
	bool valid = json_is_true(json_object_get(lap, "valid"));
	const char *validity;

	if (!ev || !json_is_object(lap))
		return NULL;
	if (strcmp(ev, "lap_completed") == 0)
		*type = WS_T_LAP_COMPLETED;
	else if (strcmp(ev, "lap_invalidated") == 0)
		*type = WS_T_LAP_INVALIDATED;
	else
		return NULL;
	validity = valid                       ? "valid"
		   : !why                      ? "dirty"
		   : strcmp(why, "pit") == 0   ? "pit"
		   : strcmp(why, "reset") == 0 ? "reset"
					       : "dirty";
	reasons = json_array();
	if (!valid && why)
		json_array_append_new(reasons, json_string(why));
	o = json_pack("{s:s, s:O, s:o, s:O, s:b, s:s, s:o, s:O}", "feed", feed, "lap_number",
		      json_object_get(lap, "number") ? json_object_get(lap, "number") : json_null(),
		      "lap_time_s",
		      json_is_integer(time_ms)
			      ? json_real((double)json_integer_value(time_ms) / 1000.0)
			      : json_null(),
		      "lap_time_ms", time_ms ? time_ms : json_null(), "is_personal_best",
		      json_is_true(json_object_get(lap, "personal_best")), "validity", validity,
		      "invalid_reasons", reasons, "lap", lap);
	return ws_msg_json(*type, o);
}

struct ws_msg *ws_bus_event(const char *topic, const char *body, size_t len, enum ws_type *type,
			    const char **feed)
{
	struct ws_msg *m = NULL;
	json_t *payload;
	json_error_t jerr;

	*type = WS_T_COUNT;
	*feed = NULL;
	if (len > WS_MAX_EVENT_DATA) {
		if ((*type = bus_type(topic)) == WS_T_COUNT)
			return NULL;
		return ws_msg_json(*type, json_pack("{s:s, s:b, s:I}", "topic", topic, "truncated",
						    1, "bytes", (json_int_t)len));
	}
	payload = json_loadb(body, len, 0, &jerr);
	if (!json_is_object(payload)) {
		json_decref(payload);
		log_debug("msg=\"ws: bus payload is not a JSON object\" topic=%s", topic);
		return NULL;
	}
	if ((*feed = topic_feed_of(TOPIC_LAP, topic))) {
		m = lap_msg(payload, *feed, type);
	} else if ((*feed = topic_feed_of(TOPIC_FEED, topic))) {
		*type = WS_T_FEED_STATUS;
		m = ws_msg_envelope(*type, body, len);
	} else if ((*feed = topic_feed_of(TOPIC_RECOMMENDATION, topic))) {
		*type = WS_T_RECOMMENDATION;
		m = ws_msg_envelope(*type, body, len);
	} else if ((*type = bus_type(topic)) != WS_T_COUNT) {
		m = ws_msg_envelope(*type, body, len);
	}
	json_decref(payload);
	return m;
}

static void bus_handle(struct ws *ws, const char *topic, const char *body, size_t len)
{
	enum ws_type type;
	const char *feed;
	struct ws_msg *m, *seed = NULL;
	json_t *payload = NULL;
	int idx;

	ws_stat_add(&ws->bus_messages, 1);
	if (!(m = ws_bus_event(topic, body, len, &type, &feed))) {
		ws_stat_add(&ws->bus_ignored, 1);
		return;
	}
	idx = ws_name_index(ws->feed_names, ws->nfeeds, feed);
	/* seed-004 clients get a completed lap in that contract's shape */
	if (type == WS_T_LAP_COMPLETED && (payload = json_loadb(body, len, 0, NULL)))
		seed = ws_seed_lap(payload);
	pthread_mutex_lock(&ws->lock);
	ws_fanout(ws, m, idx);
	if (seed)
		ws_fanout_seed(ws, seed, idx);
	pthread_mutex_unlock(&ws->lock);
	json_decref(payload);
	ws_msg_unref(seed);
	ws_msg_unref(m);
}

/* What the stream forwards (common/topics.h): the lap, feed and recommendation
 * topics of every feed and each event; frame.<feed> is not (telemetry reads
 * the rings). */
static void subscribe(void *sub)
{
	static const enum topic_family families[] = { TOPIC_LAP, TOPIC_FEED, TOPIC_RECOMMENDATION };

	for (size_t i = 0; i < sizeof families / sizeof *families; i++) {
		const char *prefix = topic_family(families[i])->name;

		zmq_setsockopt(sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
	}
	for (int t = 0; t < TOPIC_EVENT_COUNT; t++) {
		const char *name = topic_event((enum topic_event)t)->name;

		zmq_setsockopt(sub, ZMQ_SUBSCRIBE, name, strlen(name));
	}
}

/* Receive one message (topic, body, any further parts dropped) and forward it. */
static void bus_receive(struct ws *ws, void *sub)
{
	char topic[256];
	zmq_msg_t body;
	int more = 0, n;
	size_t ml = sizeof more;

	n = zmq_recv(sub, topic, sizeof topic - 1, ZMQ_DONTWAIT);
	if (n < 0)
		return;
	topic[n < (int)sizeof topic ? n : (int)sizeof topic - 1] = 0;
	zmq_getsockopt(sub, ZMQ_RCVMORE, &more, &ml);
	if (!more)
		return;
	zmq_msg_init(&body);
	if (zmq_msg_recv(&body, sub, 0) >= 0)
		bus_handle(ws, topic, zmq_msg_data(&body), zmq_msg_size(&body));
	zmq_msg_close(&body);
	/* drop any further parts of a malformed message */
	while (zmq_getsockopt(sub, ZMQ_RCVMORE, &more, &ml) == 0 && more) {
		zmq_msg_init(&body);
		zmq_msg_recv(&body, sub, 0);
		zmq_msg_close(&body);
	}
}

/* Sleeps until a message or the stop (ws->bus_quit_fd): no wake-up while the bus is quiet. */
void *ws_bus_main(void *arg)
{
	struct ws *ws = arg;
	void *sub = zmq_socket(ws->zctx, ZMQ_SUB);
	int linger = 0;

	if (!sub || zmq_connect(sub, ws->bus) < 0) {
		log_error("msg=\"ws: cannot connect to the bus\" bus=%s error=\"%s\"", ws->bus,
			  zmq_strerror(zmq_errno()));
		if (sub)
			zmq_close(sub);
		return NULL;
	}
	zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
	subscribe(sub);
	while (!atomic_load(&ws->bus_quit)) {
		zmq_pollitem_t pi[2] = { { sub, 0, ZMQ_POLLIN, 0 },
					 { NULL, ws->bus_quit_fd, ZMQ_POLLIN, 0 } };

		if (zmq_poll(pi, 2, -1) < 0) {
			if (zmq_errno() == EINTR)
				continue;
			log_error("msg=\"ws: bus poll failed, no more bus events\" error=\"%s\"",
				  zmq_strerror(zmq_errno()));
			break;
		}
		if (pi[1].revents & ZMQ_POLLIN)
			continue; /* the stop: bus_quit is set */
		if (pi[0].revents & ZMQ_POLLIN)
			bus_receive(ws, sub);
	}
	zmq_close(sub);
	return NULL;
}
