/*
 * api.h - pw-api's private header: the REST front on civetweb (DESIGN §6).
 *
 * api.c     main, options, security (loopback unless a token is set), server start
 * http.c    response and request helpers: one write per response, the typed
 *           error object {"error":{"code","message"}}, bounded bodies
 * proxy.c   store commands from request threads (a DEALER per thread, timeout)
 * routes.c  the route table: every endpoint of the seed reference and ours
 * cache.c   answers of the store's read commands, kept while the store's state
 *           generation (common/storestat.h) says nothing changed
 * live.c    /api/live, /api/feeds, /api/health, /metrics: read the segments
 * ws*.c     /api/stream, the WebSocket contract (ws.h); ws_int.h maps its
 *           files: stream lifecycle, connections, message validation,
 *           queues and sender, pacer, bus events
 *
 * civetweb serves requests on its worker threads; everything here is
 * thread-safe: request state lives on the stack, counters are atomics.
 */
#ifndef PW_API_H
#define PW_API_H

#include <civetweb.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

#define API_BODY_MAX (64 * 1024)       /* bigger request bodies: 413 */

struct api {
	struct config cfg;
	void *zctx;
	int store_timeout_ms;          /* PITWALL_CMD_TIMEOUT_MS, then 503 */
	_Atomic unsigned long long requests, errors_4xx, errors_5xx, store_calls, store_unavailable;
};

extern struct api g_api;
extern struct ws *g_ws;        /* the WebSocket stream, for /metrics (NULL if it did not start) */

/* api.c: 1 when the request may proceed; otherwise 401 was sent (a token is
 * configured and the request lacks "Authorization: Bearer <token>"). */
int api_authorized(struct mg_connection *c);

/* http.c */
#define HTTP_HEAD_MAX 256
/* Send status with a JSON body (stolen; NULL = no body) in one write. */
int http_json(struct mg_connection *c, int status, json_t *body);
/* The whole response for status and body (stolen; NULL = none) as one
 * malloc'd buffer of *len bytes (NUL-terminated); NULL when out of memory. */
char *http_response(int status, json_t *body, size_t *len);
/* The response head for a JSON body of body_len bytes; its length. */
size_t http_head(char *buf, size_t cap, int status, size_t body_len);
/* Count a response of this status in the API's counters (/metrics). */
void http_count(int status);
/* Send the typed error object. */
int http_error(struct mg_connection *c, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Read the request body (at most API_BODY_MAX) as a JSON object; NULL with the
 * error already sent (400 malformed / not an object, 413 too large). An empty
 * body gives an empty object. */
json_t *http_body_object(struct mg_connection *c);
/* HTTP status for a store error code (common/msg.h). */
int http_status_for(const char *code);
/* Send a file as the response (application/octet-stream or the given type). */
int http_file(struct mg_connection *c, const char *path, const char *type, const char *filename);

/* proxy.c */
/* Call the store: 0 with *result (caller decrefs) or -1 with code/message. args stolen. */
int proxy_call(const char *cmd, json_t *args, json_t **result, char *code, size_t code_cap,
	       char *message, size_t msg_cap);
/* What of a store answer HTTP clients see: drops server-internal fields
 * (frames_path). Returns res. */
json_t *proxy_public(json_t *res);
/* Call and answer the request: success_status with the result (204: no body),
 * or the mapped error status. */
int proxy_reply(struct mg_connection *c, const char *cmd, json_t *args, int success_status);

/* cache.c: answers of the store's read commands while its state is unchanged */
/* Answer a read command (200 with its result) from the cache, or ask the
 * store and keep the answer. args stolen. */
int cache_reply(struct mg_connection *c, const char *cmd, json_t *args);
/* The store's state generation when its status page is fresh, else 0. */
uint64_t cache_generation(void);
/* The store's counters from its status page: 1, or 0 when there is none. */
/* out has STORESTAT_COUNT entries (common/storestat.h). */
int cache_store_counters(uint64_t out[]);
/* Answers served from the cache, fetched from the store, and served while
 * behind on a recording's progress only (one request refreshing them). */
void cache_stats(unsigned long long *hits, unsigned long long *misses, unsigned long long *behind);

/* routes.c */
/* The /api handler: dispatches on method and path. */
int routes_handle(struct mg_connection *c, void *cbdata);

/* live.c */
/* Attach the feeds' segments (before serving). */
void live_init(void);
int live_handle(struct mg_connection *c, const char *method, char **seg, int nseg);
int metrics_handle(struct mg_connection *c, void *cbdata);

#endif
