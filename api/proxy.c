/*
 * proxy.c - store commands from civetweb's worker threads. ZeroMQ sockets are
 * not thread-safe, so each worker thread keeps its own DEALER, held under
 * the thread-specific key api->dealer: it is made on the thread's first
 * call and closed when the thread ends (mg_stop). A call that times out
 * closes it (a late reply must not be read as the next one's).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "api/api.h"
#include "common/log.h"
#include "common/msg.h"

/* The key's destructor: runs on the thread that ends, with its socket. */
static void dealer_close(void *dealer)
{
	zmq_close(dealer);
}

int proxy_init(struct api *api)
{
	int rc = pthread_key_create(&api->dealer, dealer_close);

	if (rc != 0) {
		log_error("msg=\"cannot create the DEALERs' thread key\" error=\"%s\"",
			  strerror(rc));
		return -rc;
	}
	api->dealer_key = true;
	return 0;
}

void proxy_fini(struct api *api)
{
	if (api->dealer_key)
		pthread_key_delete(api->dealer);
	api->dealer_key = false;
}

static void *sock(struct api *api)
{
	void *dealer = pthread_getspecific(api->dealer);
	int linger = 0;

	if (dealer)
		return dealer;
	dealer = zmq_socket(api->zctx, ZMQ_DEALER);
	if (!dealer)
		return NULL;
	zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_connect(dealer, api->cfg.cmd) < 0 ||
	    pthread_setspecific(api->dealer, dealer) != 0) {
		zmq_close(dealer);
		return NULL;
	}
	return dealer;
}

int proxy_call(struct api *api, const char *cmd, json_t *args, json_t **result, char *code,
	       size_t code_cap, char *message, size_t msg_cap)
{
	void *d = sock(api);
	int rc;

	api->store_calls++;
	if (!d) {
		json_decref(args);
		snprintf(code, code_cap, "%s", MSG_E_UNAVAILABLE);
		snprintf(message, msg_cap, "cannot reach the store at %s", api->cfg.cmd);
		api->store_unavailable++;
		return -1;
	}
	rc = msg_call(d, cmd, args, api->store_timeout_ms, result, code, code_cap, message,
		      msg_cap);
	if (rc < 0 && strcmp(code, MSG_E_UNAVAILABLE) == 0) {
		api->store_unavailable++;
		pthread_setspecific(api->dealer, NULL);
		zmq_close(d);
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

int proxy_reply(struct api *api, struct mg_connection *c, const char *cmd, json_t *args,
		int success_status)
{
	char code[64], message[512];
	json_t *res = NULL;

	if (proxy_call(api, cmd, args, &res, code, sizeof code, message, sizeof message) < 0)
		return http_error(api, c, http_status_for(code), code, "%s", message);
	proxy_public(res);
	if (success_status == 204) {
		json_decref(res);
		return http_json(api, c, 204, NULL);
	}
	return http_json(api, c, success_status, res);
}
