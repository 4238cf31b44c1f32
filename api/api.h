/*
 * api.h - pw-api's private header: the REST front on civetweb (docs/architecture.md §6).
 *
 * api.c     main, options, security (loopback unless a token is set), server start
 * http.c    response and request helpers: one write per response, the typed
 *           error object {"api_version","error":{"code","message"}}, bounded
 *           bodies, the API-Version header
 * proxy.c   store commands from request threads (a DEALER per thread, timeout)
 * routes.c  the route table: every endpoint of the seed reference and ours
 * cache.c   answers of the store's read commands, kept while the store's state
 *           generation (common/storestat.h) says nothing changed
 * live.c    /api/live, /api/feeds, /api/health, /metrics: read the segments
 * laps.c    one lap on distance, lap comparison (common/lapquery.h)
 * www.c     the dashboard's static files at / (everything outside /api and
 *           /metrics; docs/dashboard.md)
 * gzip.c    answers of GZIP_MIN_BYTES and more gzipped for clients that take
 *           gzip (docs/api.md "Compression")
 * manifests.c  PUT /api/manifests/{name}; the manifest a request names
 *           (?manifest=), fetched from the store and compiled
 * contract.c  /api/channels, /api/schemas: the published contracts
 * ws*.c     /api/stream, the WebSocket contract (ws.h); ws_int.h maps its
 *           files: stream lifecycle, connections, message validation,
 *           queues and sender, pacer, bus events
 *
 * pw-api's state is one struct api, made in main and handed to civetweb's
 * handlers as their cbdata; every function that needs it takes it as its
 * first parameter. Nothing else is global.
 *
 * civetweb serves requests on its worker threads; everything here is
 * thread-safe: request state lives on the stack, counters are atomics, the
 * cache and the segments have their own locks (cache.c, live.c), and each
 * worker thread has its own DEALER to the store (proxy.c).
 */
#ifndef PW_API_H
#define PW_API_H

#include <civetweb.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/manifest.h"

#define API_BODY_MAX (64 * 1024) /* bigger request bodies: 413 */

/*
 * The API's version (docs/api.md "Versions"): every endpoint is served under
 * /api/v1/... and, with the same shapes, under /api/...; every response
 * carries the header, every error object the version.
 */
#define API_VERSION "v1"
#define API_VERSION_HEADER "API-Version: " API_VERSION "\r\n"

struct cache; /* cache.c */
struct live;  /* live.c */
struct ws;    /* ws.h */
struct www;   /* www.c */

#define API_DEALERS_MAX 32 /* idle DEALERs kept for the next store call (proxy.c) */

/* pw-api: made by main, lives until main returns. */
struct api {
	struct config cfg;
	void *zctx;                   /* the store's commands (proxy.c) */
	pthread_mutex_t dealers_lock; /* the idle DEALERs to the store (proxy.c) */
	void *dealers[API_DEALERS_MAX];
	int ndealers;
	bool dealers_made;       /* dealers_lock was initialised */
	int store_timeout_ms;    /* PITWALL_CMD_TIMEOUT_MS, then 503 */
	struct cache *cache;     /* the store's read answers (NULL: not made) */
	struct live *live;       /* the feeds' segments (NULL: not made) */
	struct www *www;         /* the dashboard's files (NULL: not made) */
	struct ws *ws;           /* the WebSocket stream, NULL if it did not start */
	char listen[128];        /* civetweb's listening_ports: host:port */
	struct mg_context *http; /* the server (NULL: not started) */
	_Atomic unsigned long long requests, errors_4xx, errors_5xx, store_calls, store_unavailable;
};

/* api.c: 1 when the request may proceed; otherwise 401 was sent (a token is
 * configured and the request lacks "Authorization: Bearer <token>"). */
int api_authorized(struct api *api, struct mg_connection *c);
/* 1 when no token is configured or the request presents it: the header, or
 * with query_too also ?token= (browsers cannot set WebSocket headers). */
int api_token_ok(struct api *api, const struct mg_connection *c, int query_too);

/* http.c */
#define HTTP_HEAD_MAX 256
/* Send status with a JSON body (stolen; NULL = no body) in one write,
 * counted in api's counters. */
int http_json(struct api *api, struct mg_connection *c, int status, json_t *body);
/* The whole response for status and body (stolen; NULL = none) as one
 * malloc'd buffer of *len bytes (NUL-terminated); NULL when out of memory. */
char *http_response(int status, json_t *body, size_t *len);
/* The response head for a JSON body of body_len bytes; its length. */
size_t http_head(char *buf, size_t cap, int status, size_t body_len);
/* Count a response of this status in the API's counters (/metrics). */
void http_count(struct api *api, int status);
/* The typed error object {"api_version", "error": {"code", "message"}} (a
 * new reference; NULL when out of memory). */
json_t *http_error_body(const char *code, const char *message);
/* Send the typed error object. */
int http_error(struct api *api, struct mg_connection *c, int status, const char *code,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/*
 * Refuse a WebSocket upgrade before its handshake (in a connect callback):
 * the complete HTTP response with the error object, then civetweb closes the
 * connection (it would otherwise drop it without a response). conn is not
 * const underneath. Returns 1, what the connect callback returns.
 */
int http_refuse_upgrade(const struct mg_connection *conn, int status, const char *code,
			const char *message);
/* civetweb's http_error callback: the errors civetweb answers itself (a
 * malformed request, headers over max_request_size, an unknown HTTP version)
 * get the error object and the API-Version header too. Returns 0 (handled). */
int http_civetweb_error(struct mg_connection *c, int status, const char *errmsg);
/* Read the request body (at most API_BODY_MAX) as a JSON object; NULL with the
 * error already sent (400 malformed / not an object, 413 too large). An empty
 * body gives an empty object. */
json_t *http_body_object(struct api *api, struct mg_connection *c);
/* Send len bytes of text (borrowed) as the body, of the given media type, in
 * one write. */
int http_text(struct api *api, struct mg_connection *c, int status, const char *type,
	      const char *text, size_t len);
/* HTTP status for a store error code (common/msg.h). */
int http_status_for(const char *code);
/* Send a file as the response (application/octet-stream or the given type). */
int http_file(struct api *api, struct mg_connection *c, const char *path, const char *type,
	      const char *filename);

/* gzip.c: an answer of GZIP_MIN_BYTES or more goes out gzipped when the
 * request takes gzip; smaller ones as they are (one network segment either way). */
#define GZIP_MIN_BYTES 1400
/* Whether an Accept-Encoding header (NULL: none) takes gzip: listed as a
 * token, not at q=0. */
bool gzip_accepts(const char *accept_encoding);
/* Whether an answer of body_len bytes to this request goes out gzipped. */
bool gzip_wanted(const struct mg_connection *c, size_t body_len);
/* len bytes of in, gzipped (zlib level 1), after room bytes left free for a
 * head: 0 with *out (room + *out_len bytes, malloc'd; the caller frees it),
 * -ENOMEM, -EFBIG (over 4 GiB) or -EIO. */
int gzip_compress(const void *in, size_t len, size_t room, char **out, size_t *out_len);
/* http_head's head for a gzipped JSON body of body_len bytes (with
 * Content-Encoding and Vary); its length, 0 when cap is too small. */
size_t gzip_head(char *buf, size_t cap, int status, size_t body_len);
/* Send status with body (len bytes of JSON, borrowed) in one write, gzipped
 * when gzip_wanted; counted in api's counters. Returns status, or -1 when the
 * connection failed. */
int gzip_reply(struct api *api, struct mg_connection *c, int status, const char *body, size_t len);

/* export.c: GET /api/sessions/{session_id}/runs/{run_id}/export (routes.c's table) */
int route_export(struct api *api, struct mg_connection *c, json_t *args);

/* proxy.c */
/* Make the pool of DEALERs to the store (empty); 0 or a negative errno. */
int proxy_init(struct api *api);
/* Close the idle DEALERs (after the worker threads ended, before the ZeroMQ
 * context goes). */
void proxy_fini(struct api *api);
/* Call the store on a DEALER of the pool (one is made when none is idle):
 * 0 with *result (caller decrefs) or -1 with code/message. args stolen. A store
 * whose status page says it exited is refused at once ("unavailable"), not
 * after api->store_timeout_ms (cache_store_gone). */
int proxy_call(struct api *api, const char *cmd, json_t *args, json_t **result, char *code,
	       size_t code_cap, char *message, size_t msg_cap);
/* What of a store answer HTTP clients see: drops server-internal fields
 * (frames_path). Returns res. */
json_t *proxy_public(json_t *res);
/* Call and answer the request: success_status with the result (204: no body),
 * or the mapped error status. */
int proxy_reply(struct api *api, struct mg_connection *c, const char *cmd, json_t *args,
		int success_status);

/* cache.c: answers of the store's read commands while its state is unchanged */
/* A cache of instance's store (its status page attached when first needed):
 * 0 and *out (the caller frees it with cache_free), or -ENOMEM. */
int cache_new(struct cache **out, const char *instance);
void cache_free(struct cache *cache);
/* Answer a read command (200 with its result) from api->cache, or ask the
 * store and keep the answer. args stolen. */
int cache_reply(struct api *api, struct mg_connection *c, const char *cmd, json_t *args);
/* A read command's result (*result, the caller's reference) from api->cache
 * while the store's state generation has not moved, else asked of the store
 * (proxy_call, args stolen) and kept. Only for results that no recording's
 * progress changes (manifest.list): they are served whatever the progress.
 * 0, or -1 with the store's error in code/message as proxy_call. */
int cache_call(struct api *api, const char *cmd, json_t *args, json_t **result, char *code,
	       size_t code_cap, char *message, size_t msg_cap);
/* The store's state generation when its status page is fresh, else 0. */
uint64_t cache_generation(struct cache *cache);
/* 1 when the store's status page says it has exited (storestat_gone) and no new
 * page replaced it: a command would wait its whole timeout for nobody. */
int cache_store_gone(struct cache *cache);
/* The store's counters from its status page: 1, or 0 when there is none. */
/* out has STORESTAT_COUNT entries (common/storestat.h). */
int cache_store_counters(struct cache *cache, uint64_t out[]);
/* Answers served from the cache, fetched from the store, and served while
 * behind on a recording's progress only (one request refreshing them). */
void cache_stats(struct cache *cache, unsigned long long *hits, unsigned long long *misses,
		 unsigned long long *behind);

/* routes.c */
/* The handler of every path (cbdata: the struct api): /metrics, and /api/...
 * dispatched on method and path. */
int routes_handle(struct mg_connection *c, void *cbdata);
/* civetweb's WebSocket connect callback for every path the stream does not
 * serve (cbdata: the struct api): 401 without the token when one is
 * configured, else 404; the error object either way, never a handshake. */
int routes_ws_unknown(const struct mg_connection *c, void *cbdata);

/* contract.c: the published contracts (special handlers of routes.c; args:
 * the path's captures, borrowed) */
/* GET /api/channels[?game=G]: the channel dictionary (common/dict.h). */
int contract_channels(struct api *api, struct mg_connection *c, json_t *args);
/* GET /api/channels/{channel}: one entry of it. */
int contract_channel(struct api *api, struct mg_connection *c, json_t *args);
/* GET /api/schemas: the index of the JSON Schemas. */
int contract_schemas(struct api *api, struct mg_connection *c, json_t *args);
/* GET /api/schemas/{schema}/{version}: one schema, byte for byte. */
int contract_schema(struct api *api, struct mg_connection *c, json_t *args);

/* One JSON Schema of docs/schemas, docs/schemas/<name>/<version>.json. */
struct schema_file {
	const char *name, *version;
	const char *text; /* the file's bytes, NUL-terminated */
	size_t len;
};
/* Every schema, ordered by name and version, then { NULL }: generated at
 * build time by scripts/embed_schemas.sh (build/gen/schemas.c). */
extern const struct schema_file schema_files[];

/* laps.c: GET .../runs/{run_id}/laps/{number} and GET /api/compare (route
 * handlers: args holds the path's captures); they answer and return the status. */
int laps_lap(struct api *api, struct mg_connection *c, json_t *args);
int laps_compare(struct api *api, struct mg_connection *c, json_t *args);
/* manifests.c */
/* PUT /api/manifests/{name} (args: name from the path): 201 created, 200
 * replaced, with the stored document; 400 naming the field otherwise. */
int manifest_put(struct api *api, struct mg_connection *c, json_t *args);
#define MANIFEST_CODE_MAX 64
/*
 * The stored manifest name, compiled: 0 and *out (manifest_free), or -1 with
 * the HTTP status for the request that named it (400: no such manifest or a
 * bad name; 503 the store did not answer), the error code (code has
 * MANIFEST_CODE_MAX bytes) and a message naming the "manifest" parameter.
 */
int manifest_fetch(struct api *api, const char *name, struct manifest **out, int *status,
		   char *code, char *message, size_t cap);

/* live.c */
/* The feeds' segments of instance, attached now (so that no request sees an
 * empty table): 0 and *out (the caller frees it with live_free, which
 * detaches them), or -ENOMEM. */
int live_new(struct live **out, const char *instance);
void live_free(struct live *live);
/* GET /api/live, /api/feeds, /api/health: 1 when answered, 0 when the path
 * (nseg segments after /api/) is none of them. */
int live_handle(struct api *api, struct mg_connection *c, const char *method, char **seg, int nseg);
/* GET /metrics (cbdata: the struct api). */
int metrics_handle(struct mg_connection *c, void *cbdata);

/* www.c */
/* The dashboard's files in dir, or when dir is empty beside the binary
 * (../www, else ../share/pitwall/www): 0 and *out (the caller frees it with
 * www_free), or -ENOMEM. A directory that is not there is logged, not an
 * error: every path then answers a 404 page saying so. */
int www_new(struct www **out, const char *dir);
void www_free(struct www *www);
/* Answer a request outside /api with a file of the dashboard (GET, HEAD),
 * 304 when the client's ETag matches, a 404 page when there is no such file,
 * 405 for other methods. Returns the status sent, or -1. */
int www_handle(struct api *api, struct mg_connection *c);

#endif
