/*
 * ws.h - the WebSocket stream at /api/stream (docs/architecture.md §6; the
 * contract, written down in docs/stream.md, is the tuning-coach sidecar's
 * stream: envelope {type, schema_version, t_ms, data}, schema_version 1).
 *
 * Served at WS_PATH and WS_PATH_V1 alike. Every envelope a client receives
 * carries "sequence": 1 for its hello, then +1 per envelope written to it
 * (stamped by its sender, so each client sees strictly increasing numbers).
 *
 * Server -> client: `hello` (first, exactly once), `telemetry` (per client
 * rate, default 10 Hz, 1..60), `pong`, `error`, `lap_completed`,
 * `lap_invalidated`, `session_started` / `session_ended` (the game's session),
 * `feed_status`, and pitwall's bus events under their bus topic: every event
 * of common/topics.h (`run.started`, `session.completed`, `track.built`,
 * ...). Client -> server: `ping`, `subscribe`,
 * `set_rate`, `request_snapshot`. docs/stream.md has every payload.
 *
 * Threads and bounds (the producer never blocks on a client):
 *   - bus thread: ZMQ_SUB on cfg->bus; turns bus messages into event
 *     envelopes, serialized once and fanned out by reference.
 *   - pacer thread: owns the feed rings (seg_attach read-only), detects game
 *     sessions, builds telemetry for the clients that are due and answers
 *     request_snapshot; also pings, idle and slow-consumer checks and the
 *     deadline that forces a half-closed connection down.
 *   - one sender thread per client: the only writer of its connection after
 *     the handshake. It drains two bounded lanes, events first:
 *       events    WS_EVENT_QUEUE entries (events, replies, control frames);
 *                 never dropped. Full, or its oldest entry undelivered for
 *                 WS_SLOW_MS, closes the client with 1008 "slow consumer".
 *       telemetry WS_TELEM_QUEUE entries; full -> the oldest is dropped and
 *                 counted (ws_stats dropped[telemetry][queue_full]).
 *     A frame is written only when the socket's send buffer (SO_SNDBUF set
 *     to WS_SNDBUF) has room for it plus a reserve for a close frame, so a
 *     sender never blocks in mg_websocket_write on a client that stopped
 *     reading and the close frame always gets through.
 *   - civetweb's worker thread of the connection runs the data handler:
 *     parses client envelopes, queues replies, never writes.
 *   Each WebSocket holds one civetweb worker for its lifetime, so the client
 *   limit (cfg->ws_max_clients, PITWALL_WS_MAX_CLIENTS) is lowered to
 *   num_threads minus a quarter (at least 4 stay for REST). Clients beyond
 *   it get the handshake and then close 1013.
 *
 * Close codes: 1000 normal, 1001 server stopping, 1002 protocol error,
 * 1003 binary frame, 1007 invalid UTF-8, 1008 invalid envelope or slow
 * consumer, 1009 message over WS_MAX_MESSAGE bytes, 1011 idle timeout,
 * 1013 too many clients, 4001 schema_version mismatch, 4002 unsupported
 * subprotocol (WS_SEED_PATH).
 *
 * Seed-004 clients: the same stream at WS_SEED_PATH speaks the contract's own
 * payloads (ws_seed.c) for one feed, ?feed=NAME or by default the first live
 * one (followed to another when its session ends), with the subprotocol
 * WS_SEED_SUBPROTOCOL optional. cfg->ws_port, when pw-api could listen on
 * it, serves WS_SEED_PATH only. With a token
 * configured (cfg->api_token) the upgrade needs "Authorization: Bearer" or
 * ?token=, else 401.
 *
 * Configuration (struct config, from common/config.c's table): ws_idle_ms
 * (PITWALL_WS_IDLE_MS: close 1011 after this long without any client frame;
 * WebSocket PINGs every min(WS_PING_MS, idle/2)), ws_max_clients
 * (PITWALL_WS_MAX_CLIENTS), ws_session_gap_ms (PITWALL_WS_SESSION_GAP_MS: a
 * feed not up this long ends its game session).
 *
 * civetweb requirements: enable_websocket_ping_pong must stay "no" (ws
 * answers PINGs itself and counts PONGs as activity); tcp_nodelay=1 is set
 * per socket by ws anyway. Call order: ws_start after mg_start, ws_stop
 * before mg_stop.
 */
#ifndef PW_WS_H
#define PW_WS_H

#include <stddef.h>
#include <stdint.h>

#include <civetweb.h>

#include "common/config.h"
#include "common/topics.h"

#define WS_PATH "/api/stream"
#define WS_PATH_V1 "/api/v1/stream"           /* the same stream under the versioned API */
#define WS_SUBPROTOCOL "pitwall.v1"           /* accepted when offered, not required */
#define WS_SEED_PATH "/ws"                    /* the seed-004 dialect (ws_seed.c) */
#define WS_SEED_SUBPROTOCOL "tuning-coach.v1" /* at WS_SEED_PATH; another one: close 4002 */
#define WS_SCHEMA_VERSION 1
#define WS_MAX_MESSAGE 65536 /* client message bytes (after reassembly) */
#define WS_RATE_MIN_HZ 1
#define WS_RATE_MAX_HZ 60
#define WS_RATE_DEFAULT_HZ 10
#define WS_EVENT_QUEUE 256
#define WS_TELEM_QUEUE 8
#define WS_SLOW_MS 5000 /* events undelivered this long -> 1008 */
#define WS_PING_MS 30000
#define WS_SNDBUF (64 * 1024) /* requested per-socket kernel send buffer */

/* Message types, for /metrics: the envelope types plus control frames. */
enum ws_type {
	WS_T_HELLO = 0,
	WS_T_TELEMETRY, /* also request_snapshot answers */
	WS_T_PONG,
	WS_T_ERROR,
	WS_T_LAP_COMPLETED,
	WS_T_LAP_INVALIDATED,
	WS_T_SESSION_STARTED,
	WS_T_SESSION_ENDED,
	WS_T_FEED_STATUS,
	WS_T_RECOMMENDATION, /* recommendation.<feed>: the race engineer's findings */
	WS_T_EVENT,          /* pitwall's events: WS_T_EVENT + enum topic_event
	                                  (common/topics.h), type = the bus topic */
	WS_T_CTL_PING = WS_T_EVENT + TOPIC_EVENT_COUNT, /* WebSocket control frames */
	WS_T_CTL_PONG,
	WS_T_CTL_CLOSE,
	WS_T_COUNT
};

enum ws_drop {
	WS_DROP_QUEUE_FULL = 0, /* telemetry lane full: oldest dropped */
	WS_DROP_SLOW_CONSUMER,  /* purged when a slow consumer was closed */
	WS_DROP_CLOSED,         /* still queued when the client went away */
	WS_DROP_COUNT
};

/* Cumulative buckets of the enqueue-to-written lag, upper bounds in ms. */
#define WS_LAG_BUCKETS 9
extern const double ws_lag_bucket_ms[WS_LAG_BUCKETS];

struct ws_stats {
	uint64_t clients;  /* connected now (gauge) */
	uint64_t accepted; /* connections that got a hello */
	uint64_t refused;  /* closed 1013 */
	uint64_t sent[WS_T_COUNT];
	uint64_t dropped[WS_T_COUNT][WS_DROP_COUNT];
	uint64_t bus_messages;               /* received from the bus */
	uint64_t bus_ignored;                /* topics/payloads that are not stream events */
	uint64_t lag_bucket[WS_LAG_BUCKETS]; /* cumulative: lag <= bound */
	uint64_t lag_count;
	double lag_sum_s;
};

/* One connected client's send lag (ws_client_lags). */
struct ws_client_lag {
	uint64_t client_id;
	uint64_t count; /* messages written */
	double sum_s;
	double p50_s, p95_s; /* upper bounds of the buckets (INFINITY beyond the last) */
};

struct ws; /* opaque */
struct manifest;

/*
 * Where the stream gets the manifest a client names with ?manifest=NAME
 * (docs/manifests.md): 0 and *out (the stream frees it), or -1 with the HTTP
 * status, error code (64 bytes) and message to refuse the upgrade with.
 */
typedef int ws_manifest_fetch_fn(void *ctx, const char *name, struct manifest **out, int *status,
				 char *code, char *message, size_t cap);

/* Lifecycle */
/*
 * Register WS_PATH and WS_PATH_V1 on ctx and start the bus and pacer threads. cfg is copied
 * (instance, feeds, bus). Returns NULL on error (logged). The caller owns the
 * result and releases it with ws_stop.
 */
struct ws *ws_start(struct mg_context *ctx, const struct config *cfg);
/*
 * Deregister the handler, close every client with 1001 and wait for them
 * (a client that does not answer is cut after the close grace), join the
 * threads and free ws. ctx must still be running.
 */
void ws_stop(struct ws *ws);

/* Let clients of WS_PATH name a manifest (?manifest=NAME): its derived
 * channels join each telemetry frame. Without a fetcher, ?manifest= is refused.
 * Call before clients connect; ctx is borrowed. */
void ws_set_manifest_fetch(struct ws *ws, ws_manifest_fetch_fn *fetch, void *ctx);

/* Accessors */
void ws_stats(const struct ws *ws, struct ws_stats *out);
/* The send lag of up to max connected clients into out; how many. */
size_t ws_client_lags(const struct ws *ws, struct ws_client_lag *out, size_t max);
/* "telemetry", "run.started", "control_ping", ...; "unknown" when out of range. */
const char *ws_type_name(unsigned type);
/* "queue_full", "slow_consumer", "closed". */
const char *ws_drop_name(unsigned reason);

#endif
