/*
 * ws_parse.c - client message validation (ws_int.h): a complete text message
 * in, what it asks for or the error and close code it earns out. Also the
 * table of envelope types, pitwall's events among them from the bus topic
 * table (common/topics.h). Pure: no locks, no I/O, no connection state.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/ws_int.h"

const struct ws_type_info ws_types[WS_T_COUNT] = {
	[WS_T_HELLO] = { "hello", false },
	[WS_T_TELEMETRY] = { "telemetry", true },
	[WS_T_PONG] = { "pong", false },
	[WS_T_ERROR] = { "error", false },
	[WS_T_LAP_COMPLETED] = { "lap_completed", true },
	[WS_T_LAP_INVALIDATED] = { "lap_invalidated", true },
	[WS_T_SESSION_STARTED] = { "session_started", true },
	[WS_T_SESSION_ENDED] = { "session_ended", true },
	[WS_T_FEED_STATUS] = { "feed_status", true },
	[WS_T_RECOMMENDATION] = { "recommendation", true },
#define WS_EVENT_TYPE(id, name, publisher, keys, payload) \
	[WS_T_EVENT + TOPIC_##id] = { name, true },
	TOPICS_EVENTS(WS_EVENT_TYPE)
#undef WS_EVENT_TYPE
		[WS_T_CTL_PING] = { "control_ping", false },
	[WS_T_CTL_PONG] = { "control_pong", false },
	[WS_T_CTL_CLOSE] = { "control_close", false },
};

static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned b = s[i];
		size_t k;
		uint32_t cp, min;

		if (b < 0x80) {
			i++;
			continue;
		}
		if ((b & 0xe0) == 0xc0) {
			k = 1, cp = b & 0x1f, min = 0x80;
		} else if ((b & 0xf0) == 0xe0) {
			k = 2, cp = b & 0x0f, min = 0x800;
		} else if ((b & 0xf8) == 0xf0) {
			k = 3, cp = b & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

/*
 * Nesting of [ and { outside strings stays within max. Checked before
 * parsing: jansson recurses per level (up to 2048), which is more stack
 * than a civetweb worker can be trusted to have; an envelope needs 3.
 */
static bool nesting_ok(const char *s, size_t n, int max)
{
	bool in_str = false, esc = false;
	int depth = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				in_str = false;
		} else if (ch == '"') {
			in_str = true;
		} else if (ch == '{' || ch == '[') {
			if (++depth > max)
				return false;
		} else if (ch == '}' || ch == ']') {
			depth--;
		}
	}
	return true;
}

/* An offence that ends the connection: an error envelope, then the close. */
static void closing(struct ws_request *req, int close_code, const char *reason, const char *code,
		    const char *message)
{
	req->verdict = WS_V_CLOSE;
	req->close_code = close_code;
	req->code = code;
	snprintf(req->reason, sizeof req->reason, "%s", reason);
	snprintf(req->message, sizeof req->message, "%s", message);
}

static void refused(struct ws_request *req, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void refused(struct ws_request *req, const char *code, const char *fmt, ...)
{
	va_list ap;

	req->verdict = WS_V_ERROR;
	req->code = code;
	va_start(ap, fmt);
	vsnprintf(req->message, sizeof req->message, fmt, ap);
	va_end(ap);
}

/* Event names of a subscribe list: exact types, "prefix.*", "*". -1 when unknown. */
static int subscription_bits(const char *name, uint64_t *bits)
{
	size_t n = strlen(name);
	bool wild = n >= 2 && strcmp(name + n - 2, ".*") == 0;
	int hits = 0;

	for (int t = 0; t < WS_T_COUNT; t++) {
		if (!ws_types[t].subscribable)
			continue;
		if (strcmp(name, "*") == 0 || strcmp(name, ws_types[t].name) == 0 ||
		    (wild && strncmp(name, ws_types[t].name, n - 1) == 0)) {
			*bits |= BIT(t);
			hits++;
		}
	}
	return hits ? 0 : -1;
}

int ws_name_index(const char *const names[], int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

static void subscribe(struct ws_request *req, json_t *data, const char *const feeds[], int nfeeds)
{
	json_t *events = json_object_get(data, "events"), *names = json_object_get(data, "feeds");
	json_t *v;
	uint64_t bits = 0;
	uint32_t fmask = 0;
	size_t i;

	if (!json_is_array(events)) {
		refused(req, "bad_request",
			"subscribe: data.events must be an array of event types");
		return;
	}
	json_array_foreach(events, i, v) {
		if (!json_is_string(v) || subscription_bits(json_string_value(v), &bits) < 0) {
			refused(req, "bad_request", "subscribe: unknown event type \"%.64s\"",
				json_is_string(v) ? json_string_value(v) : "(not a string)");
			return;
		}
	}
	if (names && !json_is_array(names)) {
		refused(req, "bad_request", "subscribe: data.feeds must be an array of feed names");
		return;
	}
	json_array_foreach(names, i, v) {
		int f = json_is_string(v) ? ws_name_index(feeds, nfeeds, json_string_value(v)) : -1;

		if (f < 0) {
			refused(req, "bad_request", "subscribe: unknown feed \"%.40s\"",
				json_is_string(v) ? json_string_value(v) : "(not a string)");
			return;
		}
		fmask |= 1u << f;
	}
	if (!fmask)
		fmask = ws_all_feeds(nfeeds);
	req->verdict = WS_V_SUBSCRIBE;
	req->events = bits;
	req->feeds = fmask;
}

static void set_rate(struct ws_request *req, json_t *data)
{
	json_t *hz = json_object_get(data, "hz");
	json_int_t v = json_is_integer(hz) ? json_integer_value(hz) : 0;

	if (v < WS_RATE_MIN_HZ || v > WS_RATE_MAX_HZ) {
		refused(req, "bad_request", "set_rate: hz must be an integer in [%d, %d]",
			WS_RATE_MIN_HZ, WS_RATE_MAX_HZ);
		return;
	}
	req->verdict = WS_V_SET_RATE;
	req->hz = (unsigned)v;
}

void ws_parse(const char *buf, size_t len, const char *const feeds[], int nfeeds,
	      struct ws_request *req)
{
	char msg[192];
	json_error_t jerr;
	json_t *root, *ver, *type, *ts, *data;
	const char *t;

	memset(req, 0, sizeof *req);
	if (!utf8_valid((const unsigned char *)buf, len)) {
		closing(req, 1007, "invalid UTF-8", "bad_request", "message is not valid UTF-8");
		return;
	}
	if (!nesting_ok(buf, len, WS_MAX_DEPTH)) {
		snprintf(msg, sizeof msg, "invalid envelope: nested deeper than %d levels",
			 WS_MAX_DEPTH);
		closing(req, 1008, "invalid envelope", "bad_request", msg);
		return;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		snprintf(msg, sizeof msg, "invalid envelope: %s",
			 root ? "not a JSON object" : jerr.text);
		json_decref(root);
		closing(req, 1008, "invalid envelope", "bad_request", msg);
		return;
	}
	ver = json_object_get(root, "schema_version");
	type = json_object_get(root, "type");
	ts = json_object_get(root, "t_ms");
	data = json_object_get(root, "data");
	req->has_t_ms = json_is_integer(ts);
	req->t_ms = req->has_t_ms ? json_integer_value(ts) : 0;
	if (json_is_integer(ver) && json_integer_value(ver) != WS_SCHEMA_VERSION) {
		char reason[WS_REASON_MAX + 1];

		snprintf(reason, sizeof reason, "schema_version mismatch: server=%d client=%lld",
			 WS_SCHEMA_VERSION, (long long)json_integer_value(ver));
		closing(req, 4001, reason, "schema_mismatch", reason);
		goto out;
	}
	if (!json_is_integer(ver) || !json_is_string(type) || !json_is_integer(ts) ||
	    !json_is_object(data)) {
		snprintf(msg, sizeof msg, "invalid envelope: %s",
			 !json_is_integer(ver)   ? "schema_version must be an integer"
			 : !json_is_string(type) ? "type must be a string"
			 : !json_is_integer(ts)  ? "t_ms must be an integer (Unix ms)"
						 : "data must be an object");
		closing(req, 1008, "invalid envelope", "bad_request", msg);
		goto out;
	}
	t = json_string_value(type);
	if (strcmp(t, "ping") == 0)
		req->verdict = WS_V_PING;
	else if (strcmp(t, "subscribe") == 0)
		subscribe(req, data, feeds, nfeeds);
	else if (strcmp(t, "set_rate") == 0)
		set_rate(req, data);
	else if (strcmp(t, "request_snapshot") == 0)
		req->verdict = WS_V_SNAPSHOT;
	else
		refused(req, "unknown_type", "unknown type \"%.64s\"", t);
out:
	json_decref(root);
}

static bool close_code_valid(int code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
	       (code >= 3000 && code <= 4999);
}

int ws_close_reply_code(const char *data, size_t len, int *peer_code)
{
	int code = len >= 2 ? ((unsigned char)data[0] << 8) | (unsigned char)data[1] : 0;

	*peer_code = code ? code : 1005;
	if (len == 1 || (code && !close_code_valid(code)))
		code = 1002;
	return code;
}
