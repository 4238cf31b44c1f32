/*
 * ws_server - civetweb with only the WebSocket stream (api/ws.c), for tests
 * of the stream on its own.
 *
 *   ws_server            configuration from PITWALL_* (config.h): listens on
 *                        PITWALL_API_HOST:PITWALL_API_PORT, feeds, bus
 *
 * Besides /api/stream it serves GET /ws-stats: ws_stats() as JSON
 * {"clients","accepted","refused","sent":{type:n},"dropped":{type:{reason:n}}}.
 * WS_SERVER_THREADS sets civetweb's num_threads (default 64). SIGINT/SIGTERM
 * stop it through ws_stop() and mg_stop().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <civetweb.h>

#include "api/ws.h"
#include "common/config.h"
#include "common/daemon.h"
#include "common/log.h"

static size_t stats_json(const struct ws *ws, char *buf, size_t cap)
{
	struct ws_stats st;
	size_t n;

	ws_stats(ws, &st);
	n = (size_t)snprintf(buf, cap,
			     "{\"clients\":%llu,\"accepted\":%llu,\"refused\":%llu,\"sent\":{",
			     (unsigned long long)st.clients, (unsigned long long)st.accepted,
			     (unsigned long long)st.refused);
	for (unsigned t = 0; t < WS_T_COUNT && n < cap; t++)
		n += (size_t)snprintf(buf + n, cap - n, "%s\"%s\":%llu", t ? "," : "",
				      ws_type_name(t), (unsigned long long)st.sent[t]);
	n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "},\"dropped\":{");
	for (unsigned t = 0; t < WS_T_COUNT && n < cap; t++) {
		n += (size_t)snprintf(buf + n, cap - n, "%s\"%s\":{", t ? "," : "",
				      ws_type_name(t));
		for (unsigned r = 0; r < WS_DROP_COUNT && n < cap; r++)
			n += (size_t)snprintf(buf + n, cap - n, "%s\"%s\":%llu", r ? "," : "",
					      ws_drop_name(r),
					      (unsigned long long)st.dropped[t][r]);
		n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "}");
	}
	n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "},\"lag_count\":%llu}",
			      (unsigned long long)st.lag_count);
	return n;
}

static int stats_handler(struct mg_connection *conn, void *cbdata)
{
	static char body[16384];
	size_t n = stats_json(cbdata, body, sizeof body);

	mg_printf(conn,
		  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		  "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		  n, body);
	return 200;
}

int main(int argc, char **argv)
{
	struct mg_callbacks cb = { 0 };
	struct mg_context *ctx;
	struct config cfg;
	struct ws *ws;
	char err[256], listen[128];
	const char *threads = getenv("WS_SERVER_THREADS");
	const char *opts[] = {
		"listening_ports",
		listen,
		"num_threads",
		threads && *threads ? threads : "64",
		"tcp_nodelay",
		"1",
		"request_timeout_ms",
		"10000",
		NULL,
	};

	log_init("ws_server");
	if (argc > 1) {
		fprintf(stderr, "usage: %s (configuration from the PITWALL_* environment)\n",
			argv[0]);
		return 2;
	}
	if (config_load(&cfg, err, sizeof err) < 0) {
		log_error("msg=\"bad configuration\" error=\"%s\"", err);
		return 2;
	}
	config_log(&cfg);
	snprintf(listen, sizeof listen, "%s:%u", cfg.api_host, cfg.api_port);
	daemon_signals();
	mg_init_library(0);
	if (!(ctx = mg_start(&cb, NULL, opts))) {
		log_error("msg=\"cannot start civetweb\" listen=%s", listen);
		return 1;
	}
	if (!(ws = ws_start(ctx, &cfg))) {
		mg_stop(ctx);
		return 1;
	}
	mg_set_request_handler(ctx, "/ws-stats", stats_handler, ws);
	log_info("msg=started listen=%s", listen);
	while (!daemon_stopping())
		pause();
	mg_set_request_handler(ctx, "/ws-stats", NULL, NULL);
	ws_stop(ws);
	mg_stop(ctx);
	mg_exit_library();
	log_info("msg=stopped");
	return 0;
}
