/*
 * routes.c - the REST endpoints: the 28 of the rusty-telemetry REST reference
 * and pitwall's additions (docs/api.md lists them all), mapped onto store
 * commands (docs/store.md). Path parameters are validated before anything
 * reaches the store: ids must be UUIDs, names safe path parts. Every path is
 * served under /api/ and /api/v1/ alike.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "api/api.h"
#include "common/clock.h"
#include "common/frame.h"
#include "common/ids.h"
#include "common/msg.h"

#define MAX_SEG 8

enum param { P_NONE, P_ID, P_NAME, P_TEXT };

enum {
	R_BODY = 1,  /* merge the JSON body into the arguments */
	R_CACHE = 2, /* a read: answered from api/cache.c while nothing changed */
	R_TRIM = 4,  /* MBs allocated and freed per request: handed back afterwards (release) */
};

struct route {
	const char *method;
	const char *pattern; /* segments after /api/, "{key}" captures */
	const char *cmd;     /* store command; NULL = special handler */
	int status;          /* on success */
	int flags;           /* R_BODY, R_CACHE, R_TRIM */
	int (*special)(struct api *api, struct mg_connection *c, json_t *args);
};

static int recording_data(struct api *api, struct mg_connection *c, json_t *args);
static int recommendations(struct api *api, struct mg_connection *c, json_t *args);

static const struct route routes[] = {
	/* recordings */
	{ "GET", "recordings", "recording.list", 200, R_CACHE, NULL },
	{ "POST", "recordings", "recording.start", 201, R_BODY, NULL },
	{ "POST", "recordings/stop", "recording.stop", 200, 0, NULL },
	{ "GET", "recordings/{id}", "recording.get", 200, R_CACHE, NULL },
	{ "POST", "recordings/{id}/stop", "recording.stop", 200, 0, NULL },
	{ "DELETE", "recordings/{id}", "recording.delete", 204, 0, NULL },
	{ "GET", "recordings/{id}/data/{feed}", NULL, 200, R_TRIM, recording_data },
	/* tracks */
	{ "GET", "tracks", "track.list", 200, R_CACHE, NULL },
	{ "POST", "tracks/build", "track.build", 201, R_BODY, NULL },
	{ "GET", "tracks/{game}/{track_name}", "track.get", 200, R_CACHE, NULL },
	{ "DELETE", "tracks/{game}/{track_name}", "track.delete", 204, 0, NULL },
	{ "GET", "tracks/{game}/{track_name}/corners", "track.corners", 200, R_CACHE, NULL },
	/* car characteristics */
	{ "GET", "characteristics/cars", "characteristics.list", 200, R_CACHE, NULL },
	{ "GET", "characteristics/cars/{car}", "characteristics.get", 200, R_CACHE, NULL },
	/* metadata */
	{ "GET", "use-cases", "use_cases.list", 200, R_CACHE, NULL },
	{ "GET", "games", "games.list", 200, R_CACHE, NULL },
	/* sessions */
	{ "GET", "sessions", "session.list", 200, R_CACHE, NULL },
	{ "POST", "sessions", "session.create", 201, R_BODY, NULL },
	{ "GET", "sessions/{id}", "session.get", 200, R_CACHE, NULL },
	{ "DELETE", "sessions/{id}", "session.delete", 204, 0, NULL },
	{ "POST", "sessions/{id}/complete", "session.complete", 200, 0, NULL },
	{ "GET", "sessions/{id}/analysis", "session.analysis", 200, R_TRIM, NULL },
	{ "GET", "sessions/{id}/recommendations", NULL, 200, R_TRIM, recommendations },
	{ "POST", "sessions/{id}/analyze", "session.analyze", 200, 0, NULL },
	{ "POST", "sessions/{id}/reopen", "session.reopen", 200, 0, NULL },
	{ "GET", "sessions/{session_id}/laps", "session.laps", 200, R_CACHE, NULL },
	/* runs */
	{ "POST", "sessions/{session_id}/runs", "run.start", 201, R_BODY, NULL },
	{ "POST", "sessions/{session_id}/runs/{run_id}/stop", "run.stop", 200, 0, NULL },
	{ "DELETE", "sessions/{session_id}/runs/{run_id}", "run.delete", 204, 0, NULL },
	{ "GET", "sessions/{session_id}/runs/{run_id}", "run.get", 200, R_CACHE, NULL },
	{ "GET", "sessions/{session_id}/runs/{run_id}/export", NULL, 200, R_TRIM, route_export },
	/* laps on distance */
	{ "GET", "sessions/{session_id}/runs/{run_id}/laps/{number}", NULL, 200, R_TRIM, laps_lap },
	{ "GET", "compare", NULL, 200, R_TRIM, laps_compare },
	/* derived-channel manifests (api/manifests.c) */
	{ "GET", "manifests", "manifest.list", 200, R_CACHE, NULL },
	{ "GET", "manifests/{name}", "manifest.get", 200, R_CACHE, NULL },
	{ "PUT", "manifests/{name}", NULL, 200, 0, manifest_put },
	{ "DELETE", "manifests/{name}", "manifest.delete", 204, 0, NULL },
	/* the published contracts (contract.c) */
	{ "GET", "channels", NULL, 200, 0, contract_channels },
	{ "GET", "channels/{channel}", NULL, 200, 0, contract_channel },
	{ "GET", "schemas", NULL, 200, 0, contract_schemas },
	{ "GET", "schemas/{schema}/{version}", NULL, 200, 0, contract_schema },
};

static enum param kind_of(const char *key)
{
	if (strcmp(key, "id") == 0 || strcmp(key, "session_id") == 0 || strcmp(key, "run_id") == 0)
		return P_ID;
	if (strcmp(key, "car") == 0 || strcmp(key, "track_name") == 0)
		return P_TEXT; /* a real name or its slug (common/ids.h); the store resolves it */
	return P_NAME;
}

static int text_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= META_STR) /* a car name, as the feed's metadata holds it */
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == '/')
			return 0;
	return 1;
}

/* Whether the path has the pattern's shape: its segment count and literal
 * segments. Allocates nothing: most routes are ruled out here. */
static int shape_matches(const char *pattern, char **seg, int nseg)
{
	int i = 0;

	for (const char *p = pattern; *p; i++) {
		size_t n = strcspn(p, "/");
		if (i >= nseg ||
		    (p[0] != '{' && (strlen(seg[i]) != n || memcmp(p, seg[i], n) != 0)))
			return 0;
		p += n + (p[n] == '/');
	}
	return i == nseg;
}

/* Match pattern against seg; captures go into args. 1 match, 0 no, -1 bad param (sent). */
static int match(struct api *api, struct mg_connection *c, const char *pattern, char **seg,
		 int nseg, json_t *args)
{
	char pat[128], *save = NULL, *p;
	int i = 0;

	if (!shape_matches(pattern, seg, nseg))
		return 0;
	snprintf(pat, sizeof pat, "%s", pattern);
	for (p = strtok_r(pat, "/", &save); p; p = strtok_r(NULL, "/", &save), i++) {
		if (i >= nseg)
			return 0;
		if (p[0] != '{') {
			if (strcmp(p, seg[i]) != 0)
				return 0;
			continue;
		}
		p[strlen(p) - 1] = 0;
		json_object_set_new(args, p + 1, json_string(seg[i]));
	}
	if (i != nseg)
		return 0;
	/* the shape matched: now the values must be valid */
	{
		const char *key;
		json_t *v;
		json_object_foreach(args, key, v) {
			const char *s = json_string_value(v);
			enum param k = kind_of(key);
			int ok = k == P_ID     ? ids_valid(s)
				 : k == P_NAME ? ids_name_valid(s)
					       : text_ok(s);
			if (!ok) {
				http_error(api, c, 400, MSG_E_BAD_REQUEST, "invalid %s in the path",
					   key);
				return -1;
			}
		}
	}
	return 1;
}

static int merge_body(struct api *api, struct mg_connection *c, json_t *args)
{
	json_t *body = http_body_object(api, c), *v;
	const char *key;

	if (!body)
		return -1;
	json_object_foreach(body, key, v) {
		if (json_object_get(args, key)) {
			/* key belongs to body: answer before letting it go */
			http_error(api, c, 400, MSG_E_BAD_REQUEST,
				   "\"%s\" comes from the path, not the body", key);
			json_decref(body);
			return -1;
		}
	}
	json_object_update(args, body);
	json_decref(body);
	return 0;
}

/* civetweb: a handler returns > 0 once it has answered (the status, for its log). */
static int handled(int rc)
{
	return rc > 0 ? rc : 1;
}

/*
 * After a request that allocated and freed MBs (R_TRIM: an export's block
 * buffers, a compare's or an analysis's JSON tree of thousands of objects),
 * hand back to the kernel the free memory of every malloc arena
 * (malloc_trim). The worker threads and the WebSocket senders share the
 * arenas (api.c: two), which keep what is freed in them, fragmented between
 * live blocks; malloc_trim also returns the free pages in the middle of an
 * arena, which the automatic trim (a heap's top only) does not. In make soak
 * (a compare and an export every 30 s) pw-api's private memory grew by 2.8 MB
 * a minute without this, the fixed mmap threshold (api.c) and the DEALER pool
 * (proxy.c). malloc_trim takes 80 us (135 us at most) there, holding one
 * arena's lock at a time.
 */
static void release_heap(void)
{
	malloc_trim(0);
}

/* Pages of a worker's stack looked at per mincore call (civetweb's stacks: 25) */
#define STACK_PAGES_PER_LOOK 64

/* The lowest usable address of this thread's stack (above its guard), page
 * aligned; UINTPTR_MAX when it cannot be known. */
static uintptr_t stack_low_of_thread(uintptr_t page)
{
	pthread_attr_t a;
	size_t size;
	void *lo;
	uintptr_t low = UINTPTR_MAX;

	if (pthread_getattr_np(pthread_self(), &a) != 0)
		return low;
	if (pthread_attr_getstack(&a, &lo, &size) == 0)
		low = ((uintptr_t)lo + page - 1) & ~(page - 1);
	pthread_attr_destroy(&a);
	return low;
}

/*
 * After a request: the pages of this worker's stack deeper than STACK_USUAL
 * below the handler's frame, when the request touched any. REST requests go
 * 4 kB below it (civetweb's own frames take the 24 kB above), which stays:
 * touching it again would cost page faults on every request. An export, a
 * compare, a pcap download or a dashboard file go deeper, and those pages
 * nothing needs (zero-filled when touched again). civetweb hands each
 * connection to the next idle one of its 160 workers, so without this every
 * stack keeps the deepest request it ever served, and the workers' memory
 * wanders by MBs with which worker last served what (make soak: +16-20 kB
 * on 66 of the 161 stacks in 5 minutes; 160 workers at 28 kB each after
 * /api/sessions, at 40 kB after the dashboard's page, 28 kB with this).
 * One mincore call (madvise only when there are pages to give back), at
 * most once per STACK_LOOK_NS per worker: under wrk's 100 k requests/s the
 * call on every request cost 5-10 % of them; a worker that skips a look
 * makes it after its next request.
 */
#define STACK_USUAL (8 * 1024)
#define STACK_LOOK_NS 10000000LL

static __attribute__((noinline)) void release_stack(void)
{
	static const size_t look = STACK_PAGES_PER_LOOK;
	static _Thread_local int64_t looked_ns;
	static _Thread_local uintptr_t stack_low; /* 0 until known */
	unsigned char vec[STACK_PAGES_PER_LOOK];
	int64_t now = clock_mono_ns();
	uintptr_t page, to, from;
	char here;

	if (now - looked_ns < STACK_LOOK_NS)
		return;
	looked_ns = now;
	page = (uintptr_t)sysconf(_SC_PAGESIZE);
	if (!stack_low)
		stack_low = stack_low_of_thread(page);
	to = ((uintptr_t)&here - STACK_USUAL) & ~(page - 1);
	if (stack_low == UINTPTR_MAX || to <= stack_low)
		return;
	for (from = stack_low; from < to; from += look * page) {
		size_t len = to - from < look * page ? to - from : look * page;
		size_t n = len / page, i = 0;

		if (mincore((void *)from, len, vec) < 0)
			return;
		while (i < n && !(vec[i] & 1))
			i++;
		if (i < n) {
			madvise((void *)from, to - from, MADV_DONTNEED);
			return;
		}
	}
}

static int route(struct api *api, struct mg_connection *c);

int routes_handle(struct mg_connection *c, void *cbdata)
{
	int rc = route(cbdata, c);

	release_stack();
	return rc;
}

static int route(struct api *api, struct mg_connection *c)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	char path[1024], *seg[MAX_SEG], *save = NULL, *p;
	int nseg = 0, path_known = 0;

	if (api->cfg.ws_port && ri->server_port == api->cfg.ws_port)
		return handled(http_error(api, c, 404, MSG_E_NOT_FOUND,
					  "this port serves only the stream at /ws"));
	/* the decoded but not normalized path: "a/../b" must not become "b" */
	const char *uri = ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri;

	if (strcmp(ri->local_uri, "/metrics") == 0)
		return metrics_handle(c, api);
	/* the dashboard: no token, the page has to load to ask for it (its files hold no data) */
	if (strncmp(uri, "/api", 4) != 0 || (uri[4] != 0 && uri[4] != '/'))
		return handled(www_handle(api, c));
	if (!api_authorized(api, c))
		return 401;
	if (strlen(uri) >= sizeof path)
		return handled(http_error(api, c, 404, MSG_E_NOT_FOUND, "no endpoint %s", uri));
	snprintf(path, sizeof path, "%s", uri + strlen("/api"));
	for (p = strtok_r(path, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (nseg == MAX_SEG || strcmp(p, "..") == 0 || strcmp(p, ".") == 0)
			return http_error(api, c, 400, MSG_E_BAD_REQUEST, "invalid path");
		seg[nseg++] = p;
	}
	/* /api/v1/... is /api/...: the same endpoints, the same shapes (docs/api.md) */
	if (nseg > 0 && strcmp(seg[0], API_VERSION) == 0)
		memmove(seg, seg + 1, (size_t)--nseg * sizeof *seg);
	if (live_handle(api, c, ri->request_method, seg, nseg))
		return 200;
	for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
		const struct route *r = &routes[i];
		json_t *args;
		int m, rc;

		if (!shape_matches(r->pattern, seg, nseg))
			continue;
		args = json_object();
		m = match(api, c, r->pattern, seg, nseg, args);

		if (m < 0) {
			json_decref(args);
			return 400;
		}
		if (m == 0) {
			json_decref(args);
			continue;
		}
		path_known = 1;
		if (strcmp(r->method, ri->request_method) != 0) {
			json_decref(args);
			continue;
		}
		if ((r->flags & R_BODY) && merge_body(api, c, args) < 0) {
			json_decref(args);
			return 400;
		}
		if (r->special) {
			rc = r->special(api, c, args);
			json_decref(args);
		} else if (r->flags & R_CACHE) {
			rc = cache_reply(api, c, r->cmd, args);
		} else {
			rc = proxy_reply(api, c, r->cmd, args, r->status);
		}
		if (r->flags & R_TRIM)
			release_heap();
		return handled(rc);
	}
	if (path_known)
		return handled(http_error(api, c, 405, "method_not_allowed",
					  "%s is not allowed on %s", ri->request_method,
					  ri->local_uri));
	return handled(http_error(api, c, 404, MSG_E_NOT_FOUND, "no endpoint %s %s",
				  ri->request_method, ri->local_uri));
}

int routes_ws_unknown(const struct mg_connection *c, void *cbdata)
{
	struct api *api = cbdata;
	const struct mg_request_info *ri = mg_get_request_info(c);
	char message[320];

	if (!api_token_ok(api, c, 1)) {
		http_count(api, 401);
		return http_refuse_upgrade(c, 401, "unauthorized",
					   "this API needs \"Authorization: Bearer <token>\"");
	}
	http_count(api, 404);
	snprintf(message, sizeof message,
		 "no WebSocket endpoint %.200s (the stream is /api/stream, also /api/v1/stream)",
		 ri && ri->local_uri ? ri->local_uri : "?");
	return http_refuse_upgrade(c, 404, MSG_E_NOT_FOUND, message);
}

static int recording_data(struct api *api, struct mg_connection *c, json_t *args)
{
	char code[64], message[512], name[128];
	json_t *res = NULL;

	if (proxy_call(api, "recording.data", json_incref(args), &res, code, sizeof code, message,
		       sizeof message) < 0)
		return http_error(api, c, http_status_for(code), code, "%s", message);
	snprintf(name, sizeof name, "%s.pcap", json_string_value(json_object_get(args, "feed")));
	http_file(api, c, json_string_value(json_object_get(res, "path")),
		  "application/vnd.tcpdump.pcap", name);
	json_decref(res);
	return 1;
}

/* GET sessions/{id}/recommendations[?min_confidence=&category=&lap=]: the
 * query parameters become the command's arguments, which the store checks;
 * any other parameter is refused by name. */
static int recommendations(struct api *api, struct mg_connection *c, json_t *args)
{
	static const char *const keys[] = { "min_confidence", "category", "lap" };
	const char *q = mg_get_request_info(c)->query_string;
	char val[64], name[64];

	for (const char *p = q; p && *p; p += strcspn(p, "&"), p += *p == '&') {
		size_t n = strcspn(p, "=&");
		bool known = false;

		snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1),
			 p);
		for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
			known |= strcmp(name, keys[i]) == 0;
		if (n && !known)
			return http_error(
				api, c, 400, MSG_E_BAD_REQUEST,
				"unknown query parameter \"%s\" (min_confidence, category, lap)",
				name);
	}
	for (size_t i = 0; q && i < sizeof keys / sizeof *keys; i++) {
		int n = mg_get_var(q, strlen(q), keys[i], val, sizeof val);

		if (n == -2)
			return http_error(api, c, 400, MSG_E_BAD_REQUEST, "\"%s\" is too long",
					  keys[i]);
		if (n >= 0)
			json_object_set_new(args, keys[i], json_string(val));
	}
	return proxy_reply(api, c, "session.recommendations", json_incref(args), 200);
}
