/*
 * test_ws_parse.c - the WebSocket stream's client message validation
 * (api/ws_parse.c, declared in api/ws_int.h): every kind of valid envelope
 * and what it asks for, every invalid one and the error code, close code,
 * close reason, message and ref it maps to (docs/stream.md, "Errors and
 * close codes"), and the answer to the peer's close codes.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/ws_int.h"
#include "tests/unit/t.h"

static const char *const feeds[] = { "ksudp", "forza" };

static struct ws_request judge_n(const char *in, size_t len)
{
	struct ws_request r;

	memset(&r, 0x5a, sizeof r); /* ws_parse fills every field it reports */
	ws_parse(in, len, feeds, 2, &r);
	return r;
}

static struct ws_request judge(const char *in)
{
	return judge_n(in, strlen(in));
}

static const char *verdict_name(enum ws_verdict v)
{
	static const char *const names[] = { "ping",     "subscribe", "set_rate",
					     "snapshot", "error",     "close" };

	return (unsigned)v < sizeof names / sizeof *names ? names[v] : "?";
}

/* "{"type":TYPE,"schema_version":1,"t_ms":T,"data":DATA}" into buf */
static const char *env(char *buf, size_t cap, const char *type, long long t_ms, const char *data)
{
	snprintf(buf, cap, "{\"type\":\"%s\",\"schema_version\":1,\"t_ms\":%lld,\"data\":%s}", type,
		 t_ms, data);
	return buf;
}

/* An offence that closes: code, close code, reason, message (exact, or a prefix
 * when it ends in '*'), ref. */
static void want_close_n(const char *in, size_t len, int close_code, const char *reason,
			 const char *code, const char *message, int has_ref, int64_t ref)
{
	struct ws_request r = judge_n(in, len);
	size_t ml = strlen(message);
	int prefix = ml && message[ml - 1] == '*';

	T_CHECKF(r.verdict == WS_V_CLOSE, "%.80s: verdict %s, want close", in,
		 verdict_name(r.verdict));
	if (r.verdict != WS_V_CLOSE)
		return;
	T_CHECKF(r.close_code == close_code, "%.80s: close %d, want %d", in, r.close_code,
		 close_code);
	T_CHECKF(strcmp(r.reason, reason) == 0, "%.80s: reason \"%s\", want \"%s\"", in, r.reason,
		 reason);
	T_CHECKF(strcmp(r.code, code) == 0, "%.80s: code %s, want %s", in, r.code, code);
	T_CHECKF(prefix ? strncmp(r.message, message, ml - 1) == 0
			: strcmp(r.message, message) == 0,
		 "%.80s: message \"%s\", want \"%s\"", in, r.message, message);
	T_CHECKF(r.has_t_ms == has_ref && (!has_ref || r.t_ms == ref),
		 "%.80s: ref %s%lld, want %s%lld", in, r.has_t_ms ? "" : "null ", (long long)r.t_ms,
		 has_ref ? "" : "null ", (long long)ref);
}

static void want_close(const char *in, int close_code, const char *reason, const char *code,
		       const char *message, int has_ref, int64_t ref)
{
	want_close_n(in, strlen(in), close_code, reason, code, message, has_ref, ref);
}

/* A refusal that keeps the connection: error code, message, ref. */
static void want_error(const char *in, const char *code, const char *message, int64_t ref)
{
	struct ws_request r = judge(in);

	T_CHECKF(r.verdict == WS_V_ERROR, "%.80s: verdict %s, want error", in,
		 verdict_name(r.verdict));
	if (r.verdict != WS_V_ERROR)
		return;
	T_CHECKF(strcmp(r.code, code) == 0, "%.80s: code %s, want %s", in, r.code, code);
	T_CHECKF(strcmp(r.message, message) == 0, "%.80s: message \"%s\", want \"%s\"", in,
		 r.message, message);
	T_CHECKF(r.has_t_ms && r.t_ms == ref, "%.80s: ref %lld, want %lld", in, (long long)r.t_ms,
		 (long long)ref);
}

static int type_of(const char *name)
{
	for (unsigned t = 0; t < WS_T_COUNT; t++)
		if (strcmp(ws_type_name(t), name) == 0)
			return (int)t;
	return -1;
}

/* ---- valid envelopes ---- */

static void test_ping(void)
{
	char b[256];
	struct ws_request r = judge(env(b, sizeof b, "ping", 1738012345678LL, "{}"));

	T_CHECKF(r.verdict == WS_V_PING, "verdict %s", verdict_name(r.verdict));
	T_CHECKF(r.has_t_ms && r.t_ms == 1738012345678LL, "t_ms %lld", (long long)r.t_ms);
	/* any order, unknown fields ignored, negative and zero t_ms are integers too */
	r = judge("{\"data\":{\"x\":[1,2]},\"extra\":null,\"t_ms\":-5,\"schema_version\":1,"
		  "\"type\":\"ping\"}");
	T_CHECKF(r.verdict == WS_V_PING && r.t_ms == -5, "verdict %s t_ms %lld",
		 verdict_name(r.verdict), (long long)r.t_ms);
	r = judge(env(b, sizeof b, "ping", 0, "{}"));
	T_CHECKF(r.verdict == WS_V_PING && r.has_t_ms && r.t_ms == 0, "verdict %s",
		 verdict_name(r.verdict));
	/* whitespace around the envelope; UTF-8 of 2, 3 and 4 bytes in strings */
	r = judge(" \n{\"type\":\"ping\",\"schema_version\":1,\"t_ms\":7,"
		  "\"data\":{\"s\":\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}}\t");
	T_CHECKF(r.verdict == WS_V_PING && r.t_ms == 7, "verdict %s", verdict_name(r.verdict));
}

static void test_request_snapshot(void)
{
	char b[256];
	struct ws_request r = judge(env(b, sizeof b, "request_snapshot", 100, "{}"));

	T_CHECKF(r.verdict == WS_V_SNAPSHOT && r.t_ms == 100, "verdict %s",
		 verdict_name(r.verdict));
	/* its data is not looked at */
	r = judge(env(b, sizeof b, "request_snapshot", 1, "{\"junk\":[1,{\"a\":null}]}"));
	T_CHECKF(r.verdict == WS_V_SNAPSHOT, "verdict %s", verdict_name(r.verdict));
}

static void test_set_rate(void)
{
	char b[256];
	struct ws_request r;

	for (int hz = WS_RATE_MIN_HZ; hz <= WS_RATE_MAX_HZ; hz++) {
		char data[32];

		snprintf(data, sizeof data, "{\"hz\":%d}", hz);
		r = judge(env(b, sizeof b, "set_rate", 3, data));
		T_CHECKF(r.verdict == WS_V_SET_RATE && r.hz == (unsigned)hz,
			 "hz %d: verdict %s hz %u", hz, verdict_name(r.verdict), r.hz);
	}
}

static void test_subscribe(void)
{
	char b[512];
	uint64_t all = 0, runs = 0;
	int n_runs = 0;
	struct ws_request r;

	for (unsigned t = 0; t < WS_T_COUNT; t++) {
		if (ws_types[t].subscribable)
			all |= BIT(t);
		if (strncmp(ws_type_name(t), "run.", 4) == 0) {
			runs |= BIT(t);
			n_runs++;
		}
	}
	/* what may be subscribed: telemetry and every event, never replies or control frames */
	for (const char *const *n =
		     (const char *const[]){ "telemetry", "lap_completed", "lap_invalidated",
					    "session_started", "session_ended", "feed_status",
					    "session.created", "run.started", "recording.stopped",
					    "analysis.completed", NULL };
	     *n; n++)
		T_CHECKF(type_of(*n) >= 0 && (all & BIT(type_of(*n))), "%s is subscribable", *n);
	for (const char *const *n = (const char *const[]){ "hello", "pong", "error", "control_ping",
							   "control_pong", "control_close", NULL };
	     *n; n++)
		T_CHECKF(type_of(*n) >= 0 && !(all & BIT(type_of(*n))), "%s is not subscribable",
			 *n);
	T_CHECKF(n_runs == 5, "run.started, .stopped, .resumed, .deleted, .error: %d", n_runs);

	r = judge(env(b, sizeof b, "subscribe", 1, "{\"events\":[]}"));
	T_CHECKF(r.verdict == WS_V_SUBSCRIBE && r.events == 0 && r.feeds == 3,
		 "[]: verdict %s events %llx feeds %x", verdict_name(r.verdict),
		 (unsigned long long)r.events, r.feeds);
	r = judge(env(b, sizeof b, "subscribe", 1, "{\"events\":[\"*\"]}"));
	T_CHECKF(r.verdict == WS_V_SUBSCRIBE && r.events == all, "*: events %llx want %llx",
		 (unsigned long long)r.events, (unsigned long long)all);
	r = judge(env(b, sizeof b, "subscribe", 1, "{\"events\":[\"run.*\"]}"));
	T_CHECKF(r.verdict == WS_V_SUBSCRIBE && r.events == runs, "run.*: events %llx want %llx",
		 (unsigned long long)r.events, (unsigned long long)runs);
	/* the race engineer's findings (recommendation.<feed> on the bus) */
	r = judge(env(b, sizeof b, "subscribe", 1, "{\"events\":[\"recommendation\"]}"));
	T_CHECKF(r.verdict == WS_V_SUBSCRIBE && r.events == BIT(WS_T_RECOMMENDATION),
		 "recommendation: verdict %s events %llx", verdict_name(r.verdict),
		 (unsigned long long)r.events);
	r = judge(env(
		b, sizeof b, "subscribe", 1,
		"{\"events\":[\"telemetry\",\"lap_completed\",\"telemetry\"],\"feeds\":[\"forza\"]}"));
	T_CHECKF(r.verdict == WS_V_SUBSCRIBE &&
			 r.events == (BIT(WS_T_TELEMETRY) | BIT(WS_T_LAP_COMPLETED)) &&
			 r.feeds == 2,
		 "telemetry+lap_completed on forza: events %llx feeds %x",
		 (unsigned long long)r.events, r.feeds);
	r = judge(env(b, sizeof b, "subscribe", 1,
		      "{\"events\":[\"run.started\"],\"feeds\":[\"ksudp\",\"forza\"]}"));
	T_CHECKF(r.verdict == WS_V_SUBSCRIBE && r.events == BIT(type_of("run.started")) &&
			 r.feeds == 3,
		 "run.started on both: events %llx feeds %x", (unsigned long long)r.events,
		 r.feeds);
	r = judge(env(b, sizeof b, "subscribe", 1, "{\"events\":[\"feed_status\"],\"feeds\":[]}"));
	T_CHECKF(r.verdict == WS_V_SUBSCRIBE && r.feeds == 3, "feeds []: every feed, %x", r.feeds);
}

/* Nesting: exactly WS_MAX_DEPTH levels pass; brackets inside strings do not count. */
static void test_nesting_limit(void)
{
	char in[1024], data[512];
	size_t n = 0;
	struct ws_request r;

	/* the envelope is one level: data with 31 more makes 32 */
	for (int i = 0; i < WS_MAX_DEPTH - 1; i++)
		n += (size_t)snprintf(data + n, sizeof data - n, "{\"a\":");
	n += (size_t)snprintf(data + n, sizeof data - n, "1");
	for (int i = 0; i < WS_MAX_DEPTH - 1; i++)
		n += (size_t)snprintf(data + n, sizeof data - n, "}");
	r = judge(env(in, sizeof in, "ping", 1, data));
	T_CHECKF(r.verdict == WS_V_PING, "32 levels: verdict %s", verdict_name(r.verdict));
	r = judge(env(
		in, sizeof in, "ping", 1,
		"{\"s\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\"}"));
	T_CHECKF(r.verdict == WS_V_PING, "brackets in a string: verdict %s",
		 verdict_name(r.verdict));

	/* one more level: 1008 */
	n = 0;
	for (int i = 0; i < WS_MAX_DEPTH; i++)
		n += (size_t)snprintf(data + n, sizeof data - n, "{\"a\":");
	n += (size_t)snprintf(data + n, sizeof data - n, "1");
	for (int i = 0; i < WS_MAX_DEPTH; i++)
		n += (size_t)snprintf(data + n, sizeof data - n, "}");
	want_close(env(in, sizeof in, "ping", 1, data), 1008, "invalid envelope", "bad_request",
		   "invalid envelope: nested deeper than 32 levels", 0, 0);
	/* arrays count as levels too */
	want_close("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 1008, "invalid envelope", "bad_request",
		   "invalid envelope: nested deeper than 32 levels", 0, 0);
}

/* ---- invalid envelopes: closed ---- */

static void test_invalid_utf8(void)
{
	static const char *const bad[] = {
		"\xff\xfe",             /* never valid bytes */
		"\xc0\xaf",             /* overlong '/' */
		"\xe0\x80\xaf",         /* overlong, 3 bytes */
		"\xed\xa0\x80",         /* a UTF-16 surrogate */
		"\xf4\x90\x80\x80",     /* beyond U+10FFFF */
		"{\"a\":\"\xf8\"}",     /* a 5-byte lead */
		"{\"a\":\"\xe2\x82\"}", /* a sequence cut short */
		"{\"a\":\"x\xe2\x82",   /* cut short at the end */
		"{\"a\":\"\x80\"}",     /* a lone continuation byte */
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		want_close(bad[i], 1007, "invalid UTF-8", "bad_request",
			   "message is not valid UTF-8", 0, 0);
	/* checked before anything else: even in an otherwise valid ping, with a t_ms */
	want_close(
		"{\"type\":\"ping\",\"schema_version\":1,\"t_ms\":3,\"data\":{\"s\":\"\xc1\xbf\"}}",
		1007, "invalid UTF-8", "bad_request", "message is not valid UTF-8", 0, 0);
}

static void test_not_an_object(void)
{
	static const char
		*const bad[] = { "{",
				 "hello there",
				 "null",
				 "   ",
				 "",
				 "\"str\"",
				 "1",
				 "{\"a\":1,\"a\":2}" /* duplicate keys */,
				 "{\"type\":\"ping\",\"schema_version\":99999999999999999999,"
				 "\"t_ms\":1,\"data\":{}}" /* out of range */,
				 "{\"type\":\"ping\",\"schema_version\":1,\"t_ms\":1,"
				 "\"data\":{\"\\u0000\":\"\\u0000\"}}" /* NUL */ };

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		want_close(bad[i], 1008, "invalid envelope", "bad_request", "invalid envelope: *",
			   0, 0);
	want_close("[]", 1008, "invalid envelope", "bad_request",
		   "invalid envelope: not a JSON object", 0, 0);
	want_close("[{\"type\":\"ping\"}]", 1008, "invalid envelope", "bad_request",
		   "invalid envelope: not a JSON object", 0, 0);
	/* the jansson text names what is wrong: not one of the field messages */
	struct ws_request r = judge("{");
	T_CHECKF(strlen(r.message) > strlen("invalid envelope: ") && !strstr(r.message, "must be"),
		 "\"%s\"", r.message);
	/* an embedded NUL byte ends nothing: len counts */
	want_close_n("{\"type\":\"ping\"\0}", 16, 1008, "invalid envelope", "bad_request",
		     "invalid envelope: *", 0, 0);
}

static void test_schema_version(void)
{
	want_close("{\"type\":\"ping\",\"schema_version\":2,\"t_ms\":20,\"data\":{}}", 4001,
		   "schema_version mismatch: server=1 client=2", "schema_mismatch",
		   "schema_version mismatch: server=1 client=2", 1, 20);
	want_close("{\"type\":\"ping\",\"schema_version\":0,\"t_ms\":1,\"data\":{}}", 4001,
		   "schema_version mismatch: server=1 client=0", "schema_mismatch",
		   "schema_version mismatch: server=1 client=0", 1, 1);
	want_close("{\"type\":\"ping\",\"schema_version\":-1,\"t_ms\":1,\"data\":{}}", 4001,
		   "schema_version mismatch: server=1 client=-1", "schema_mismatch",
		   "schema_version mismatch: server=1 client=-1", 1, 1);
	/* checked before the other fields: a wrong version wins over a broken envelope */
	want_close("{\"schema_version\":9223372036854775807}", 4001,
		   "schema_version mismatch: server=1 client=9223372036854775807",
		   "schema_mismatch",
		   "schema_version mismatch: server=1 client=9223372036854775807", 0, 0);
	want_close("{\"type\":3,\"schema_version\":7,\"t_ms\":\"x\",\"data\":[]}", 4001,
		   "schema_version mismatch: server=1 client=7", "schema_mismatch",
		   "schema_version mismatch: server=1 client=7", 0, 0);
}

static void test_envelope_fields(void)
{
	static const struct {
		const char *in, *message;
		int has_ref;
	} bad[] = {
		{ "{\"type\":\"ping\",\"schema_version\":\"1\",\"t_ms\":4,\"data\":{}}",
		  "invalid envelope: schema_version must be an integer", 1 },
		{ "{\"type\":\"ping\",\"schema_version\":1.0,\"t_ms\":4,\"data\":{}}",
		  "invalid envelope: schema_version must be an integer", 1 },
		{ "{\"type\":\"ping\",\"t_ms\":4,\"data\":{}}",
		  "invalid envelope: schema_version must be an integer", 1 },
		{ "{\"type\":1,\"schema_version\":1,\"t_ms\":4,\"data\":{}}",
		  "invalid envelope: type must be a string", 1 },
		{ "{\"schema_version\":1,\"t_ms\":4,\"data\":{}}",
		  "invalid envelope: type must be a string", 1 },
		{ "{\"type\":null,\"schema_version\":1,\"t_ms\":4,\"data\":{}}",
		  "invalid envelope: type must be a string", 1 },
		{ "{\"type\":\"ping\",\"schema_version\":1,\"t_ms\":1.5,\"data\":{}}",
		  "invalid envelope: t_ms must be an integer (Unix ms)", 0 },
		{ "{\"type\":\"ping\",\"schema_version\":1,\"t_ms\":\"now\",\"data\":{}}",
		  "invalid envelope: t_ms must be an integer (Unix ms)", 0 },
		{ "{\"type\":\"ping\",\"schema_version\":1,\"data\":{}}",
		  "invalid envelope: t_ms must be an integer (Unix ms)", 0 },
		{ "{\"type\":\"ping\",\"schema_version\":1,\"t_ms\":4,\"data\":[]}",
		  "invalid envelope: data must be an object", 1 },
		{ "{\"type\":\"ping\",\"schema_version\":1,\"t_ms\":4,\"data\":null}",
		  "invalid envelope: data must be an object", 1 },
		{ "{\"type\":\"ping\",\"schema_version\":1,\"t_ms\":4}",
		  "invalid envelope: data must be an object", 1 },
		{ "{}", "invalid envelope: schema_version must be an integer", 0 },
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		want_close(bad[i].in, 1008, "invalid envelope", "bad_request", bad[i].message,
			   bad[i].has_ref, 4);
}

/* ---- refused requests: an error, the connection stays ---- */

static void test_unknown_type(void)
{
	char b[6000], type[5001], want[128];

	want_error(env(b, sizeof b, "no_such_type", 11, "{}"), "unknown_type",
		   "unknown type \"no_such_type\"", 11);
	want_error(env(b, sizeof b, "", 12, "{}"), "unknown_type", "unknown type \"\"", 12);
	/* the client's types are case-sensitive, and server-only types are not requests */
	want_error(env(b, sizeof b, "PING", 13, "{}"), "unknown_type", "unknown type \"PING\"", 13);
	want_error(env(b, sizeof b, "pong", 14, "{}"), "unknown_type", "unknown type \"pong\"", 14);
	want_error(env(b, sizeof b, "hello", 15, "{}"), "unknown_type", "unknown type \"hello\"",
		   15);
	/* a long type is cut at 64 characters in the message */
	memset(type, 'x', 5000);
	type[5000] = 0;
	snprintf(want, sizeof want, "unknown type \"%.64s\"", type);
	want_error(env(b, sizeof b, type, 16, "{}"), "unknown_type", want, 16);
}

static void test_set_rate_refused(void)
{
	static const char *const bad[] = {
		"{\"hz\":0}",        "{\"hz\":61}",  "{\"hz\":-5}",
		"{\"hz\":\"fast\"}", "{\"hz\":1e3}", "{\"hz\":10.0}",
		"{\"hz\":null}",     "{}",           "{\"hz\":9223372036854775807}",
		"{\"rate\":10}"
	};
	char b[256];

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		want_error(env(b, sizeof b, "set_rate", 18, bad[i]), "bad_request",
			   "set_rate: hz must be an integer in [1, 60]", 18);
}

static void test_subscribe_refused(void)
{
	static const struct {
		const char *data, *message;
	} bad[] = {
		{ "{\"events\":\"all\"}",
		  "subscribe: data.events must be an array of event types" },
		{ "{}", "subscribe: data.events must be an array of event types" },
		{ "{\"feeds\":[\"ksudp\"]}",
		  "subscribe: data.events must be an array of event types" },
		{ "{\"events\":[1,2]}", "subscribe: unknown event type \"(not a string)\"" },
		{ "{\"events\":[\"nonsense\"]}", "subscribe: unknown event type \"nonsense\"" },
		{ "{\"events\":[\"telemetry\",\"nonsense\"]}",
		  "subscribe: unknown event type \"nonsense\"" },
		{ "{\"events\":[\"hello\"]}", "subscribe: unknown event type \"hello\"" },
		{ "{\"events\":[\"control_ping\"]}",
		  "subscribe: unknown event type \"control_ping\"" },
		{ "{\"events\":[\"run.\"]}", "subscribe: unknown event type \"run.\"" },
		{ "{\"events\":[\"nonsense.*\"]}", "subscribe: unknown event type \"nonsense.*\"" },
		{ "{\"events\":[],\"feeds\":\"ksudp\"}",
		  "subscribe: data.feeds must be an array of feed names" },
		{ "{\"events\":[],\"feeds\":null}",
		  "subscribe: data.feeds must be an array of feed names" },
		{ "{\"events\":[],\"feeds\":[\"../../etc\"]}",
		  "subscribe: unknown feed \"../../etc\"" },
		{ "{\"events\":[],\"feeds\":[\"ksudp\",3]}",
		  "subscribe: unknown feed \"(not a string)\"" },
		{ "{\"events\":[],\"feeds\":[\"KSUDP\"]}", "subscribe: unknown feed \"KSUDP\"" },
		{ "{\"events\":[],\"feeds\":"
		  "[\"a123456789b123456789c123456789d123456789e123456789\"]}",
		  "subscribe: unknown feed \"a123456789b123456789c123456789d123456789\"" },
	};
	char b[512];

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		want_error(env(b, sizeof b, "subscribe", 17, bad[i].data), "bad_request",
			   bad[i].message, 17);
}

/* ---- the peer's close ---- */

static void test_close_codes(void)
{
	static const int echoed[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009,
				      1010, 1011, 3000, 3999, 4000, 4001, 4999 };
	static const int refused_codes[] = { 1,    999,  1004, 1005, 1006, 1012,
					     1013, 1015, 2000, 2999, 5000, 65535 };
	char p[4] = { 0 };
	int peer, code;

	code = ws_close_reply_code(p, 0, &peer);
	T_CHECKF(code == 0 && peer == 1005, "no payload: answer %d peer %d", code, peer);
	code = ws_close_reply_code("\x03", 1, &peer);
	T_CHECKF(code == 1002 && peer == 1005, "one byte: answer %d peer %d", code, peer);
	for (size_t i = 0; i < sizeof echoed / sizeof *echoed; i++) {
		p[0] = (char)(echoed[i] >> 8);
		p[1] = (char)(echoed[i] & 0xff);
		code = ws_close_reply_code(p, 2, &peer);
		T_CHECKF(code == echoed[i] && peer == echoed[i], "%d: answer %d peer %d", echoed[i],
			 code, peer);
	}
	code = ws_close_reply_code("\x03\xe8"
				   "bye",
				   5, &peer); /* 1000 with a reason */
	T_CHECKF(code == 1000 && peer == 1000, "1000 \"bye\": answer %d peer %d", code, peer);
	for (size_t i = 0; i < sizeof refused_codes / sizeof *refused_codes; i++) {
		p[0] = (char)(refused_codes[i] >> 8);
		p[1] = (char)(refused_codes[i] & 0xff);
		code = ws_close_reply_code(p, 2, &peer);
		T_CHECKF(code == 1002 && peer == refused_codes[i], "%d: answer %d peer %d",
			 refused_codes[i], code, peer);
	}
}

int main(void)
{
	T_RUN(test_ping);
	T_RUN(test_request_snapshot);
	T_RUN(test_set_rate);
	T_RUN(test_subscribe);
	T_RUN(test_nesting_limit);
	T_RUN(test_invalid_utf8);
	T_RUN(test_not_an_object);
	T_RUN(test_schema_version);
	T_RUN(test_envelope_fields);
	T_RUN(test_unknown_type);
	T_RUN(test_set_rate_refused);
	T_RUN(test_subscribe_refused);
	T_RUN(test_close_codes);
	return T_DONE();
}
