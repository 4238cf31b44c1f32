/*
 * api.c - pw-api: the REST API, the WebSocket stream and /metrics on civetweb.
 * Holds no durable state: commands go to the store, live data comes from the
 * segments, events from the bus. See --help and api.h.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "api/api.h"
#include "api/ws.h"
#include "common/log.h"
#include "common/msg.h"

struct api g_api;
struct ws *g_ws;
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pw-api [--help]\n"
		"\n"
		"pitwall's REST API (/api/...), WebSocket stream (/api/stream) and Prometheus\n"
		"metrics (/metrics) at $PITWALL_API_HOST:$PITWALL_API_PORT (default\n"
		"127.0.0.1:8080). Binding beyond loopback requires $PITWALL_API_TOKEN; when a\n"
		"token is set every request needs \"Authorization: Bearer <token>\". Request\n"
		"bodies over 64 KiB are refused (413). Configuration is the PITWALL_*\n"
		"environment (README); the endpoints are in docs/api.md.\n");
}

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

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct mg_callbacks cb = { 0 };
	struct mg_context *ctx;
	struct ws *ws;
	char err[256], listen[128], port[16];
	const char *t;
	const char *opts[] = {
		"listening_ports", listen,
		/* each WebSocket client holds a worker for its lifetime (ws.h): room for ~120 */
		"num_threads", "160",
		"tcp_nodelay", "1",               /* DESIGN §6: a 40 ms stall per request otherwise */
		"enable_keep_alive", "yes",
		"request_timeout_ms", "10000",
		"max_request_size", "16384",       /* headers; bodies are bounded separately */
		NULL,
	};

	log_init("api");
	if (argc > 1) {
		int help = strcmp(argv[1], "--help") == 0;
		usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	if (config_load(&g_api.cfg, err, sizeof err) < 0) {
		log_error("msg=\"bad configuration\" error=\"%s\"", err);
		return 2;
	}
	config_log(&g_api.cfg);
	if (!loopback(g_api.cfg.api_host) && !g_api.cfg.api_token[0]) {
		log_error("msg=\"refusing to listen beyond loopback without PITWALL_API_TOKEN\" host=%s",
			  g_api.cfg.api_host);
		return 2;
	}
	if (!loopback(g_api.cfg.api_host))
		log_warn("msg=\"the API listens beyond loopback; every request needs the bearer token\" "
			 "host=%s", g_api.cfg.api_host);
	g_api.store_timeout_ms = (t = getenv("PITWALL_CMD_TIMEOUT_MS")) && atoi(t) > 0 ? atoi(t)
										     : API_STORE_TIMEOUT_MS;
	snprintf(port, sizeof port, "%u", g_api.cfg.api_port);
	snprintf(listen, sizeof listen, "%s:%s", g_api.cfg.api_host, port);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	g_api.zctx = zmq_ctx_new();
	live_init();
	mg_init_library(0);
	if (!(ctx = mg_start(&cb, NULL, opts))) {
		log_error("msg=\"cannot start the HTTP server\" listen=%s", listen);
		return 1;
	}
	/* one handler for every path, so even unknown ones get the JSON error object */
	mg_set_request_handler(ctx, "/", routes_handle, NULL);
	if (!(g_ws = ws = ws_start(ctx, &g_api.cfg)))
		log_warn("msg=\"the WebSocket stream did not start\"");
	log_info("msg=started url=http://%s/api", listen);
	while (!stop_requested)
		pause();
	log_info("msg=stopping requests=%llu", (unsigned long long)g_api.requests);
	if (ws)
		ws_stop(ws);
	mg_stop(ctx);
	mg_exit_library();
	zmq_ctx_shutdown(g_api.zctx);
	return 0;
}
