/*
 * proxy.c - store commands from civetweb's worker threads. ZeroMQ sockets are
 * not thread-safe, so a call takes a DEALER of its own from a pool of idle
 * ones (under a mutex, whose barrier lets a socket move between threads, as
 * ZeroMQ allows) and puts it back after the reply, so the pool holds as many
 * as calls ran at once, at most API_DEALERS_MAX idle (more are closed). A
 * socket per worker thread instead grew with every one of civetweb's 160
 * threads that ever asked the store: about 60 KB each (its queues, its TCP
 * connection), +1 MB a minute in make soak, where the 30 s checks reach new
 * threads each time. A call that times out closes its socket (a late reply
 * must not be read as the next one's).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "api/api.h"
#include "common/log.h"
#include "common/msg.h"

int proxy_init(struct api *api)
{
	int rc = pthread_mutex_init(&api->dealers_lock, NULL);

	if (rc != 0) {
		log_error("msg=\"cannot create the DEALERs' lock\" error=\"%s\"", strerror(rc));
		return -rc;
	}
	api->ndealers = 0;
	api->dealers_made = true;
	return 0;
}

void proxy_fini(struct api *api)
{
	if (!api->dealers_made)
		return;
	while (api->ndealers > 0)
		zmq_close(api->dealers[--api->ndealers]);
	pthread_mutex_destroy(&api->dealers_lock);
	api->dealers_made = false;
}

/* An idle DEALER (the one put back last), or a new one; NULL when none can be made. */
static void *dealer_take(struct api *api)
{
	void *dealer = NULL;
	int linger = 0;

	pthread_mutex_lock(&api->dealers_lock);
	if (api->ndealers > 0)
		dealer = api->dealers[--api->ndealers];
	pthread_mutex_unlock(&api->dealers_lock);
	if (dealer)
		return dealer;
	dealer = zmq_socket(api->zctx, ZMQ_DEALER);
	if (!dealer)
		return NULL;
	zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_connect(dealer, api->cfg.cmd) < 0) {
		zmq_close(dealer);
		return NULL;
	}
	return dealer;
}

/* Back to the pool after a call that got its reply; closed when the pool is full. */
static void dealer_give(struct api *api, void *dealer)
{
	pthread_mutex_lock(&api->dealers_lock);
	if (api->ndealers < API_DEALERS_MAX) {
		api->dealers[api->ndealers++] = dealer;
		dealer = NULL;
	}
	pthread_mutex_unlock(&api->dealers_lock);
	if (dealer)
		zmq_close(dealer);
}

int proxy_call(struct api *api, const char *cmd, json_t *args, json_t **result, char *code,
	       size_t code_cap, char *message, size_t msg_cap)
{
	void *d = NULL;
	int rc, gone;

	api->store_calls++;
	/* a store that exited is refused now, not after the timeout */
	if ((gone = cache_store_gone(api->cache)) || !(d = dealer_take(api))) {
		json_decref(args);
		snprintf(code, code_cap, "%s", MSG_E_UNAVAILABLE);
		if (gone)
			snprintf(message, msg_cap, "the store (instance %s) is not running",
				 api->cfg.instance);
		else
			snprintf(message, msg_cap, "cannot reach the store at %s", api->cfg.cmd);
		api->store_unavailable++;
		return -1;
	}
	rc = msg_call(d, cmd, args, api->store_timeout_ms, result, code, code_cap, message,
		      msg_cap);
	if (rc < 0 && strcmp(code, MSG_E_UNAVAILABLE) == 0) {
		api->store_unavailable++;
		zmq_close(d);
	} else {
		dealer_give(api, d);
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
