/*
 * api.c - pw-api: the REST API, the WebSocket stream and /metrics on civetweb.
 * Holds no durable state: commands go to the store, live data comes from the
 * segments, events from the bus. See --help and api.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "api/api.h"
#include "api/ws.h"
#include "common/config.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/msg.h"

static const char usage_text[] =
	"usage: pw-api [--help]\n"
	"\n"
	"pitwall's REST API (/api/...), WebSocket stream (/api/stream), Prometheus\n"
	"metrics (/metrics) and the dashboard (/, files from $PITWALL_WWW_DIR) at\n"
	"$PITWALL_API_HOST:$PITWALL_API_PORT (default 127.0.0.1:8080), and the stream for\n"
	"seed-004 clients at /ws, there and on $PITWALL_WS_PORT (default 38920). Binding\n"
	"beyond loopback requires $PITWALL_API_TOKEN; when a token is set every API request\n"
	"needs \"Authorization: Bearer <token>\" (the dashboard asks for it). Request\n"
	"bodies over 64 KiB are refused (413). The endpoints are in docs/api.md, the\n"
	"streams in docs/stream.md, the dashboard in docs/dashboard.md.\n";

static int loopback(const char *host)
{
	struct in_addr a;

	if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
		return 1;
	return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

/* Constant time: no early exit on the first differing byte (the length is not secret). */
static int token_equal(const char *given, const char *tok)
{
	size_t n = strlen(tok), diff = 0;

	if (strlen(given) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		diff |= (size_t)(given[i] ^ tok[i]);
	return diff == 0;
}

int api_token_ok(struct api *api, const struct mg_connection *c, int query_too)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	const char *h, *q, *tok = api->cfg.api_token;
	char given[CONFIG_STR];

	if (!tok[0])
		return 1;
	h = mg_get_header(c, "Authorization");
	if (h && strncmp(h, "Bearer ", 7) == 0 && token_equal(h + 7, tok))
		return 1;
	q = query_too && ri ? ri->query_string : NULL;
	return q && mg_get_var(q, strlen(q), "token", given, sizeof given) >= 0 &&
	       token_equal(given, tok);
}

int api_authorized(struct api *api, struct mg_connection *c)
{
	if (api_token_ok(api, c, 0))
		return 1;
	http_error(api, c, 401, "unauthorized", "this API needs \"Authorization: Bearer <token>\"");
	return 0;
}

/* --- setup steps (daemon.h); arg: the struct api --- */

static int ctx_open(void *arg)
{
	struct api *api = arg;

	if (!(api->zctx = zmq_ctx_new())) {
		log_error("msg=\"cannot create a ZeroMQ context\" error=\"%s\"",
			  zmq_strerror(zmq_errno()));
		return -ENOMEM;
	}
	return proxy_init(api);
}

/* After mg_stop: no call is running, the idle DEALERs are closed (proxy.c).
 * Shutdown, not term, all the same: term would wait for a socket left open. */
static void ctx_close(void *arg)
{
	struct api *api = arg;

	proxy_fini(api);
	if (api->zctx)
		zmq_ctx_shutdown(api->zctx);
}

static int feeds_open(void *arg)
{
	struct api *api = arg;
	int rc = live_new(&api->live, api->cfg.instance);

	if (rc == 0)
		rc = cache_new(&api->cache, api->cfg.instance);
	if (rc == 0)
		rc = www_new(&api->www, api->cfg.www_dir);
	if (rc < 0)
		log_error("msg=\"out of memory for the feeds, the cache and the dashboard\"");
	return rc;
}

static void feeds_close(void *arg)
{
	struct api *api = arg;

	www_free(api->www);
	cache_free(api->cache);
	live_free(api->live);
	api->www = NULL;
	api->cache = NULL;
	api->live = NULL;
}

static int http_open(void *arg)
{
	struct api *api = arg;
	char ports[sizeof api->listen + 80];
	const char *opts[] = {
		"listening_ports",
		ports,
		/* each WebSocket client holds a worker for its lifetime (ws.h): room for ~120 */
		"num_threads",
		"160",
		"tcp_nodelay",
		"1", /* docs/architecture.md §6: a 40 ms stall per request otherwise */
		"enable_keep_alive",
		"yes",
		"request_timeout_ms",
		"10000",
		"max_request_size",
		"16384", /* headers; bodies are bounded separately */
		NULL,
	};
	struct mg_callbacks cb = { .http_error = http_civetweb_error };

	mg_init_library(0);
	/* the API port, and the seed-004 stream's own port (ws.h) when it can have it */
	snprintf(ports, sizeof ports, "%s", api->listen);
	if (api->cfg.ws_port && api->cfg.ws_port != api->cfg.api_port)
		snprintf(ports, sizeof ports, "%s,%s:%u", api->listen, api->cfg.api_host,
			 api->cfg.ws_port);
	/* the server's user data and every handler's cbdata: the struct api */
	if (!(api->http = mg_start(&cb, api, opts)) && strcmp(ports, api->listen) != 0) {
		log_warn("msg=\"cannot listen on the stream port: /ws is served on the API port "
			 "only\" ws_port=%u",
			 api->cfg.ws_port);
		api->cfg.ws_port = 0;
		snprintf(ports, sizeof ports, "%s", api->listen);
		api->http = mg_start(&cb, api, opts);
	}
	if (!api->http) {
		log_error("msg=\"cannot start the HTTP server\" listen=%s", api->listen);
		return -EADDRNOTAVAIL;
	}
	/* one handler for every path, so even unknown ones get the JSON error object;
	 * the same for WebSocket upgrades (the stream registers its own paths) */
	mg_set_request_handler(api->http, "/", routes_handle, api);
	mg_set_websocket_handler(api->http, "/", routes_ws_unknown, NULL, NULL, NULL, api);
	return 0;
}

static void http_close(void *arg)
{
	struct api *api = arg;

	if (api->http)
		mg_stop(api->http);
	api->http = NULL;
	mg_exit_library();
}

/* The stream's clients name manifests (?manifest=) the store keeps. */
static int ws_fetch(void *ctx, const char *name, struct manifest **out, int *status, char *code,
		    char *message, size_t cap)
{
	return manifest_fetch(ctx, name, out, status, code, message, cap);
}

/* The REST API serves without the stream: its failure is a warning. */
static int stream_open(void *arg)
{
	struct api *api = arg;

	if (!(api->ws = ws_start(api->http, &api->cfg)))
		log_warn("msg=\"the WebSocket stream did not start\"");
	else
		ws_set_manifest_fetch(api->ws, ws_fetch, api);
	return 0;
}

static void stream_close(void *arg)
{
	struct api *api = arg;

	if (api->ws)
		ws_stop(api->ws);
	api->ws = NULL;
}

static const struct daemon_step steps[] = {
	{ "zmq context", ctx_open, ctx_close },
	{ "feeds", feeds_open, feeds_close },
	{ "http server", http_open, http_close },
	{ "websocket stream", stream_open, stream_close },
};

/*
 * glibc's per-thread caches (tcache) keep up to 7 freed blocks of each small
 * size in the thread that freed them, pinning their pages in the arenas.
 * civetweb hands requests to its 160 workers in turn, and a compare frees
 * thousands of small JSON blocks: worker after worker kept ~18 kB of them
 * (make soak's checks, alone: +744 kB over 40 compares on 40 workers, +316
 * kB over the next 40; +180 and -56 kB without the caches), a growth that
 * lasts until every worker has served every kind of large request. pw-api
 * runs without them. glibc reads the tunable only at start-up, so pw-api
 * executes itself again, once, with it added to GLIBC_TUNABLES (after any
 * the caller gave); a caller who sets tcache_count keeps it, and under
 * valgrind (its preload) nothing is done, as exec would leave valgrind.
 * REST requests/s under wrk: no difference (cached answers allocate little).
 */
static void without_thread_caches(char **argv)
{
	static const char name[] = "GLIBC_TUNABLES", knob[] = "glibc.malloc.tcache_count=";
	static const char *const tunables[] = { name, NULL };
	static const char *const preloads[] = { "LD_PRELOAD", NULL };
	const char *had = config_env(tunables), *preload = config_env(preloads);
	char *want;

	if ((had && strstr(had, knob)) || (preload && strstr(preload, "vgpreload")))
		return;
	if (asprintf(&want, "%s%s%s0", had ? had : "", had && *had ? ":" : "", knob) < 0)
		return;
	if (setenv(name, want, 1) == 0)
		execv("/proc/self/exe", argv); /* returns only when it fails: run with the caches */
	free(want);
}

int main(int argc, char **argv)
{
	struct api api = { 0 };
	struct daemon d = {
		.prog = "pw-api", .component = "api", .usage = usage_text, .progs = CONFIG_API
	};
	int rc;

	without_thread_caches(argv);
	if ((rc = daemon_start(&d, argc, argv, &api.cfg)) != DAEMON_RUN)
		return rc;
	if (!loopback(api.cfg.api_host) && !api.cfg.api_token[0]) {
		log_error(
			"msg=\"refusing to listen beyond loopback without PITWALL_API_TOKEN\" host=%s",
			api.cfg.api_host);
		return 2;
	}
	if (!loopback(api.cfg.api_host))
		log_warn(
			"msg=\"the API listens beyond loopback; every request needs the bearer token\" "
			"host=%s",
			api.cfg.api_host);
	/* An export reads blocks of up to FRAMEFILE_BLOCK_MAX_FRAMES frames (1.5 MB) into
	 * buffers allocated and freed per request. glibc raises its mmap threshold to the size
	 * of the first such block freed and then keeps every later one in the arena of the
	 * worker thread that asked (16 of them, shared with the WebSocket senders), where it
	 * stays (make soak). A fixed threshold maps every block over 128 KiB and unmaps it on
	 * free, as in pw-analyze; what is left in the arenas (small blocks) routes.c hands
	 * back after each large request (release). */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	/* glibc gives threads up to 8 arenas a core (16 here) and each keeps its own free and
	 * half-used pages: spread over 160 workers and the senders, the small blocks of JSON
	 * answers left pw-api growing by ~80 kB a minute in an hour of make soak. Two arenas:
	 * 240 s -> 600 s of the soak +1.6 MB instead of +2.4-2.8 (the rest the worker stacks
	 * warming, ~12 kB each), no more CPU (6.5 % against 6.7 %). */
	mallopt(M_ARENA_MAX, 2);
	api.store_timeout_ms = (int)api.cfg.cmd_timeout_ms;
	snprintf(api.listen, sizeof api.listen, "%s:%u", api.cfg.api_host, api.cfg.api_port);
	if (daemon_setup(&d, steps, sizeof steps / sizeof *steps, &api) < 0)
		return 1;
	log_info("msg=started url=http://%s/ ws_port=%u", api.listen, api.cfg.ws_port);
	while (!daemon_stopping())
		pause();
	log_info("msg=stopping requests=%llu", (unsigned long long)api.requests);
	daemon_teardown(&d);
	return 0;
}
