/*
 * ws.c - the WebSocket stream at /api/stream (ws.h is the contract and the
 * design; ws_int.h maps the files). This file starts and stops it: the
 * pacer and bus threads, the handler registration, the client limit; and
 * answers the accessors.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include "api/ws_int.h"
#include "common/log.h"

const double ws_lag_bucket_ms[WS_LAG_BUCKETS] = { 1, 5, 10, 25, 50, 100, 250, 1000, 5000 };

static const char *const drop_names[WS_DROP_COUNT] = { "queue_full", "slow_consumer", "closed" };

/* Where the stream is served. */
static const char *const paths[] = { WS_PATH, WS_PATH_V1 };

void ws_cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

static void ws_free(struct ws *ws)
{
	ws_manifests_free(ws);
	for (int i = 0; i < ws->nfeeds; i++) {
		seg_close(ws->feeds[i].seg);
		free(ws->feeds[i].json);
	}
	if (ws->zctx)
		zmq_ctx_term(ws->zctx);
	pthread_cond_destroy(&ws->gone);
	pthread_mutex_destroy(&ws->lock);
	if (ws->bus_quit_fd >= 0)
		close(ws->bus_quit_fd);
	free(ws);
}

static void stop_threads(struct ws *ws)
{
	uint64_t one = 1;

	pthread_mutex_lock(&ws->lock);
	ws->quit = true;
	ws_pacer_wake(ws);
	pthread_mutex_unlock(&ws->lock);
	atomic_store(&ws->bus_quit, true);
	if (write(ws->bus_quit_fd, &one, sizeof one) < 0)
		log_warn("msg=\"ws: cannot stop the bus thread\" error=\"%s\"", strerror(errno));
	if (ws->pacer_started)
		pthread_join(ws->pacer, NULL);
	if (ws->bus_started)
		pthread_join(ws->bus_thread, NULL);
}

/*
 * Each WebSocket holds a civetweb worker thread while it is open: keep a
 * quarter of num_threads (at least 4) for REST requests.
 */
static unsigned max_clients(const struct mg_context *ctx, long limit)
{
	const char *nt = mg_get_option(ctx, "num_threads");
	long threads = nt && *nt ? strtol(nt, NULL, 10) : 0;
	long spare = threads / 4 > 4 ? threads / 4 : 4;
	if (threads > 0 && limit > threads - spare) {
		long clamped = threads - spare > 0 ? threads - spare : 0;

		log_warn("msg=\"ws: client limit lowered to fit civetweb's worker threads\" "
			 "max_clients=%ld wanted=%ld num_threads=%ld",
			 clamped, limit, threads);
		limit = clamped;
	}
	return (unsigned)limit;
}

struct ws *ws_start(struct mg_context *ctx, const struct config *cfg)
{
	struct ws *ws = calloc(1, sizeof *ws);
	long idle_ms;

	if (!ws || !ctx || !cfg) {
		free(ws);
		return NULL;
	}
	ws->ctx = ctx;
	snprintf(ws->instance, sizeof ws->instance, "%s", cfg->instance);
	snprintf(ws->bus, sizeof ws->bus, "%s", cfg->bus);
	snprintf(ws->token, sizeof ws->token, "%s", cfg->api_token);
	idle_ms = (long)cfg->ws_idle_ms;
	ws->idle_ns = idle_ms * NS_PER_MS;
	ws->ping_ns = (idle_ms / 2 < WS_PING_MS ? idle_ms / 2 : WS_PING_MS) * NS_PER_MS;
	ws->session_gap_ns = cfg->ws_session_gap_ms * NS_PER_MS;
	ws->max_clients = max_clients(ctx, cfg->ws_max_clients);
	ws->subprotocol_names[0] = WS_SUBPROTOCOL;
	ws->subprotocols.nb_subprotocols = 1;
	ws->subprotocols.subprotocols = ws->subprotocol_names;
	ws->seed_subprotocol_names[0] = WS_SEED_SUBPROTOCOL;
	ws->seed_subprotocols.nb_subprotocols = 1;
	ws->seed_subprotocols.subprotocols = ws->seed_subprotocol_names;
	ws->seed_port = cfg->ws_port;
	pthread_mutex_init(&ws->lock, NULL);
	ws_cond_init_mono(&ws->gone);
	if ((ws->bus_quit_fd = eventfd(0, EFD_CLOEXEC)) < 0) {
		log_error("msg=\"ws: cannot create an eventfd\" error=\"%s\"", strerror(errno));
		goto fail;
	}
	for (int i = 0; i < cfg->nfeeds && i < CONFIG_MAX_FEEDS; i++) {
		struct ws_feed *f = &ws->feeds[ws->nfeeds];

		snprintf(f->name, sizeof f->name, "%s", cfg->feeds[i].name);
		f->status = SEG_DOWN;
		ws->feed_names[ws->nfeeds++] = f->name;
	}
	if (!(ws->zctx = zmq_ctx_new())) {
		log_error("msg=\"ws: cannot create a ZeroMQ context\"");
		goto fail;
	}
	ws->pacer_started = pthread_create(&ws->pacer, NULL, ws_pacer_main, ws) == 0;
	ws->bus_started = pthread_create(&ws->bus_thread, NULL, ws_bus_main, ws) == 0;
	if (!ws->pacer_started || !ws->bus_started) {
		log_error("msg=\"ws: cannot start threads\"");
		stop_threads(ws);
		goto fail;
	}
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
		mg_set_websocket_handler_with_subprotocols(ctx, paths[i], &ws->subprotocols,
							   ws_on_connect, ws_on_ready, ws_on_data,
							   ws_on_close, ws);
	mg_set_websocket_handler_with_subprotocols(ctx, WS_SEED_PATH, &ws->seed_subprotocols,
						   ws_on_connect, ws_on_ready, ws_on_data,
						   ws_on_close, ws);
	log_info("msg=\"ws stream ready\" path=%s,%s seed_path=%s bus=%s feeds=%d idle_ms=%ld "
		 "ping_ms=%lld max_clients=%u session_gap_ms=%lld",
		 WS_PATH, WS_PATH_V1, WS_SEED_PATH, ws->bus, ws->nfeeds, idle_ms,
		 (long long)(ws->ping_ns / NS_PER_MS), ws->max_clients,
		 (long long)(ws->session_gap_ns / NS_PER_MS));
	return ws;
fail:
	ws_free(ws);
	return NULL;
}

void ws_stop(struct ws *ws)
{
	struct timespec ts;
	bool drained;

	if (!ws)
		return;
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
		mg_set_websocket_handler(ws->ctx, paths[i], NULL, NULL, NULL, NULL, NULL);
	mg_set_websocket_handler(ws->ctx, WS_SEED_PATH, NULL, NULL, NULL, NULL, NULL);
	pthread_mutex_lock(&ws->lock);
	ws->stopping = true;
	for (struct ws_client *c = ws->clients; c; c = c->next) {
		pthread_mutex_lock(&c->lock);
		ws_client_close(c, 1001, "server shutting down", false);
		pthread_mutex_unlock(&c->lock);
	}
	/* The pacer keeps running: it cuts the clients that do not answer in time. */
	ws_deadline_ts(&ts, clock_mono_ns() + WS_STOP_WAIT_NS);
	while (ws->clients)
		if (pthread_cond_timedwait(&ws->gone, &ws->lock, &ts) == ETIMEDOUT)
			break;
	drained = ws->clients == NULL;
	pthread_mutex_unlock(&ws->lock);
	stop_threads(ws);
	if (!drained) {
		/* civetweb still runs a close handler that will use ws: leave it allocated */
		log_error("msg=\"ws: clients still connected at stop; stream state not freed\"");
		return;
	}
	ws_free(ws);
	log_info("msg=\"ws stream stopped\"");
}

void ws_set_manifest_fetch(struct ws *ws, ws_manifest_fetch_fn *fetch, void *ctx)
{
	if (!ws)
		return;
	pthread_mutex_lock(&ws->lock);
	ws->fetch = fetch;
	ws->fetch_ctx = ctx;
	pthread_mutex_unlock(&ws->lock);
}

void ws_stats(const struct ws *ws, struct ws_stats *out)
{
	struct ws *w = (struct ws *)ws;

	memset(out, 0, sizeof *out);
	if (!ws)
		return;
	pthread_mutex_lock(&w->lock);
	out->clients = w->nclients;
	pthread_mutex_unlock(&w->lock);
	out->accepted = atomic_load(&w->accepted);
	out->refused = atomic_load(&w->refused);
	out->bus_messages = atomic_load(&w->bus_messages);
	out->bus_ignored = atomic_load(&w->bus_ignored);
	for (int t = 0; t < WS_T_COUNT; t++) {
		out->sent[t] = atomic_load(&w->sent[t]);
		for (int r = 0; r < WS_DROP_COUNT; r++)
			out->dropped[t][r] = atomic_load(&w->dropped[t][r]);
	}
	for (int i = 0; i < WS_LAG_BUCKETS; i++)
		out->lag_bucket[i] = atomic_load(&w->lag_bucket[i]);
	out->lag_count = atomic_load(&w->lag_count);
	out->lag_sum_s = (double)atomic_load(&w->lag_sum_us) / 1e6;
}

/* The upper bound (s) of the bucket holding quantile q of a client's lags. */
static double lag_quantile(const struct ws_client *c, uint64_t count, double q)
{
	for (int i = 0; i < WS_LAG_BUCKETS; i++)
		if ((double)atomic_load(&c->lag_bucket[i]) >= q * (double)count)
			return ws_lag_bucket_ms[i] / 1000.0;
	return INFINITY;
}

size_t ws_client_lags(const struct ws *ws, struct ws_client_lag *out, size_t max)
{
	struct ws *w = (struct ws *)ws;
	size_t n = 0;

	if (!ws)
		return 0;
	pthread_mutex_lock(&w->lock);
	for (const struct ws_client *c = w->clients; c && n < max; c = c->next) {
		uint64_t count = atomic_load(&c->lag_count);

		if (c->refused)
			continue;
		out[n++] = (struct ws_client_lag){
			.client_id = c->id,
			.count = count,
			.sum_s = (double)atomic_load(&c->lag_sum_us) / 1e6,
			.p50_s = count ? lag_quantile(c, count, 0.5) : 0,
			.p95_s = count ? lag_quantile(c, count, 0.95) : 0,
		};
	}
	pthread_mutex_unlock(&w->lock);
	return n;
}

const char *ws_type_name(unsigned type)
{
	return type < WS_T_COUNT ? ws_types[type].name : "unknown";
}

const char *ws_drop_name(unsigned reason)
{
	return reason < WS_DROP_COUNT ? drop_names[reason] : "unknown";
}
