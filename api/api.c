/*
 * api.c - pw-api: the REST API, the WebSocket stream and /metrics on civetweb.
 * Holds no durable state: commands go to the store, live data comes from the
 * segments, events from the bus. See --help and api.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "api/api.h"
#include "api/ws.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/msg.h"

struct api g_api;
struct ws *g_ws;
static const char usage_text[] =
	"usage: pw-api [--help]\n"
	"\n"
	"pitwall's REST API (/api/...), WebSocket stream (/api/stream) and Prometheus\n"
	"metrics (/metrics) at $PITWALL_API_HOST:$PITWALL_API_PORT (default\n"
	"127.0.0.1:8080). Binding beyond loopback requires $PITWALL_API_TOKEN; when a\n"
	"token is set every request needs \"Authorization: Bearer <token>\". Request\n"
	"bodies over 64 KiB are refused (413). The endpoints are in docs/api.md.\n";

static int loopback(const char *host)
{
	struct in_addr a;

	if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
		return 1;
	return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

int api_authorized(struct mg_connection *c)
{
	const char *h, *tok = g_api.cfg.api_token;
	size_t n = strlen(tok), diff;

	if (!tok[0])
		return 1;
	h = mg_get_header(c, "Authorization");
	if (h && strncmp(h, "Bearer ", 7) == 0 && strlen(h + 7) == n) {
		diff = 0; /* constant time: no early exit on the first differing byte */
		for (size_t i = 0; i < n; i++)
			diff |= (size_t)(h[7 + i] ^ tok[i]);
		if (diff == 0)
			return 1;
	}
	http_error(c, 401, "unauthorized", "this API needs \"Authorization: Bearer <token>\"");
	return 0;
}

/* --- setup steps (daemon.h) --- */

struct server {
	char listen[128];
	struct mg_context *ctx;
};

static int ctx_open(void *arg)
{
	(void)arg;
	if (!(g_api.zctx = zmq_ctx_new())) {
		log_error("msg=\"cannot create a ZeroMQ context\" error=\"%s\"",
			  zmq_strerror(zmq_errno()));
		return -ENOMEM;
	}
	return 0;
}

/* Shutdown, not term: request threads may still hold their DEALER sockets. */
static void ctx_close(void *arg)
{
	(void)arg;
	if (g_api.zctx)
		zmq_ctx_shutdown(g_api.zctx);
}

static int feeds_open(void *arg)
{
	(void)arg;
	live_init();
	return 0;
}

static int http_open(void *arg)
{
	struct server *sv = arg;
	const char *opts[] = {
		"listening_ports", sv->listen,
		/* each WebSocket client holds a worker for its lifetime (ws.h): room for ~120 */
		"num_threads", "160",
		"tcp_nodelay", "1",               /* DESIGN §6: a 40 ms stall per request otherwise */
		"enable_keep_alive", "yes",
		"request_timeout_ms", "10000",
		"max_request_size", "16384",       /* headers; bodies are bounded separately */
		NULL,
	};
	struct mg_callbacks cb = { 0 };

	mg_init_library(0);
	if (!(sv->ctx = mg_start(&cb, NULL, opts))) {
		log_error("msg=\"cannot start the HTTP server\" listen=%s", sv->listen);
		return -EADDRNOTAVAIL;
	}
	/* one handler for every path, so even unknown ones get the JSON error object */
	mg_set_request_handler(sv->ctx, "/", routes_handle, NULL);
	return 0;
}

static void http_close(void *arg)
{
	struct server *sv = arg;

	if (sv->ctx)
		mg_stop(sv->ctx);
	sv->ctx = NULL;
	mg_exit_library();
}

/* The REST API serves without the stream: its failure is a warning. */
static int stream_open(void *arg)
{
	struct server *sv = arg;

	if (!(g_ws = ws_start(sv->ctx, &g_api.cfg)))
		log_warn("msg=\"the WebSocket stream did not start\"");
	return 0;
}

static void stream_close(void *arg)
{
	(void)arg;
	if (g_ws)
		ws_stop(g_ws);
}

static const struct daemon_step steps[] = {
	{ "zmq context", ctx_open, ctx_close },
	{ "feeds", feeds_open, NULL },
	{ "http server", http_open, http_close },
	{ "websocket stream", stream_open, stream_close },
};

int main(int argc, char **argv)
{
	static struct server sv;
	struct daemon d = { .prog = "pw-api", .component = "api", .usage = usage_text,
			    .progs = CONFIG_API };
	int rc;

	if ((rc = daemon_start(&d, argc, argv, &g_api.cfg)) != DAEMON_RUN)
		return rc;
	if (!loopback(g_api.cfg.api_host) && !g_api.cfg.api_token[0]) {
		log_error("msg=\"refusing to listen beyond loopback without PITWALL_API_TOKEN\" host=%s",
			  g_api.cfg.api_host);
		return 2;
	}
	if (!loopback(g_api.cfg.api_host))
		log_warn("msg=\"the API listens beyond loopback; every request needs the bearer token\" "
			 "host=%s", g_api.cfg.api_host);
	g_api.store_timeout_ms = (int)g_api.cfg.cmd_timeout_ms;
	snprintf(sv.listen, sizeof sv.listen, "%s:%u", g_api.cfg.api_host, g_api.cfg.api_port);
	if (daemon_setup(&d, steps, sizeof steps / sizeof *steps, &sv) < 0)
		return 1;
	log_info("msg=started url=http://%s/api", sv.listen);
	while (!daemon_stopping())
		pause();
	log_info("msg=stopping requests=%llu", (unsigned long long)g_api.requests);
	daemon_teardown(&d);
	return 0;
}
