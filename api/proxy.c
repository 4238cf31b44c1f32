/*
 * proxy.c - store commands from civetweb's worker threads. ZeroMQ sockets are
 * not thread-safe, so each worker thread keeps its own DEALER; a call that
 * times out closes it (a late reply must not be read as the next one's).
 */
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "api/api.h"
#include "common/log.h"
#include "common/msg.h"

static __thread void *dealer;

static void *sock(void)
{
	int linger = 0;

	if (dealer)
		return dealer;
	dealer = zmq_socket(g_api.zctx, ZMQ_DEALER);
	if (!dealer)
		return NULL;
	zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_connect(dealer, g_api.cfg.cmd) < 0) {
		zmq_close(dealer);
		dealer = NULL;
	}
	return dealer;
}

int proxy_call(const char *cmd, json_t *args, json_t **result, char *code, size_t code_cap,
	       char *message, size_t msg_cap)
{
	void *d = sock();
	int rc;

	g_api.store_calls++;
	if (!d) {
		json_decref(args);
		snprintf(code, code_cap, "%s", MSG_E_UNAVAILABLE);
		snprintf(message, msg_cap, "cannot reach the store at %s", g_api.cfg.cmd);
		g_api.store_unavailable++;
		return -1;
	}
	rc = msg_call(d, cmd, args, g_api.store_timeout_ms, result, code, code_cap, message, msg_cap);
	if (rc < 0 && strcmp(code, MSG_E_UNAVAILABLE) == 0) {
		g_api.store_unavailable++;
		zmq_close(dealer);
		dealer = NULL;
	}
	return rc;
}

json_t *proxy_public(json_t *res)
{
	/* where a run's frames lie on the server's disk is for pwctl and the export */
	if (json_is_object(res))
		json_object_del(res, "frames_path");
	return res;
}

int proxy_reply(struct mg_connection *c, const char *cmd, json_t *args, int success_status)
{
	char code[64], message[512];
	json_t *res = NULL;

	if (proxy_call(cmd, args, &res, code, sizeof code, message, sizeof message) < 0)
		return http_error(c, http_status_for(code), code, "%s", message);
	proxy_public(res);
	if (success_status == 204) {
		json_decref(res);
		return http_json(c, 204, NULL);
	}
	return http_json(c, success_status, res);
}
