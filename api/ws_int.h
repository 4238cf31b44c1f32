/*
 * ws_int.h - the WebSocket stream's private declarations (ws.h is the
 * contract; the design is at the top of ws.h). One file per job:
 *
 * ws.c        the stream: ws_start / ws_stop (threads, handler, client
 *             limit), ws_stats, the names of types and drop reasons
 * ws_conn.c   a connection's lifecycle: civetweb's callbacks (refusals before
 *             the handshake, the token, hello, the client limit, data frames,
 *             fragments, the peer's close, close), the socket behind it, the
 *             offences that end it
 * ws_parse.c  client message validation: a text message in, what it asks for
 *             or the error and close code it earns out. Pure: no locks, no I/O
 * ws_send.c   serialized messages, the per-client queues, fan-out and the
 *             sender thread
 * ws_pacer.c  the pacer thread: feed rings, game sessions, telemetry at each
 *             client's rate, snapshots, pings, idle, slow-consumer and close
 *             deadlines
 * ws_bus.c    the bus thread: bus messages (common/topics.h) -> event envelopes
 * ws_seed.c   the seed-004 dialect at WS_SEED_PATH: hello, telemetry, game
 *             session and lap events in that contract's shapes
 *
 * Ownership of a connection: civetweb's worker thread runs ready -> data* ->
 * close for it; the client's sender thread is the only one that writes after
 * the handshake; the pacer and bus threads only queue messages and, past a
 * close deadline, shutdown() the socket. A client is reachable by other
 * threads only through ws->clients (under ws->lock); the close handler
 * unlinks it, stops its sender and frees it before civetweb closes the
 * socket, so the socket descriptor is valid wherever a listed client is
 * used.
 *
 * Lock order: ws->lock, then a client's lock. Nothing blocks while holding
 * either (queueing, ioctl(SIOCOUTQ) and shutdown() only).
 */
#ifndef PW_WS_INT_H
#define PW_WS_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <civetweb.h>

#include "api/ws.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/frame.h"
#include "common/ids.h"
#include "common/manifest.h"
#include "common/seg.h"

#ifndef PW_VERSION
#define PW_VERSION "0.1.0"
#endif

#define WS_POLL_NS (100 * NS_PER_MS)       /* feeds, sessions, deadlines */
#define WS_IDLE_POLL_NS (1000 * NS_PER_MS) /* the same with no client and no feed up */
#define WS_ATTACH_RETRY_NS (1000 * NS_PER_MS)
#define WS_CLOSE_GRACE_NS (2000 * NS_PER_MS) /* close queued -> socket cut */
#define WS_CLOSE_WAIT_NS (1000 * NS_PER_MS)  /* data handler waits for its close frame */
#define WS_ROOM_WAIT_NS (5 * NS_PER_MS)      /* sender re-checks the send buffer */
#define WS_STOP_WAIT_NS (5000 * NS_PER_MS)
#define WS_FRAME_HDR 14               /* max server frame header bytes */
#define WS_CLOSE_RESERVE 192          /* send-buffer room kept for a close frame */
#define WS_MAX_EVENT_DATA (60 * 1024) /* bigger bus payloads are summarized */
#define WS_FRAME_JSON_MAX 8192
#define WS_SENDER_STACK (256 * 1024)
#define WS_REASON_MAX 123          /* RFC 6455: control payload 125 bytes */
#define WS_MAX_DEPTH 32            /* JSON nesting of a client message */
#define WS_ERROR_MAX 256           /* an error envelope's message */
#define WS_SEED_TELEMETRY_MAX 4096 /* a seed-004 telemetry payload */
#define WS_MANIFESTS_MAX 4         /* distinct manifests streamed at once */
#define WS_MANIFEST_JSON_MAX \
	(MANIFEST_CHANNELS_MAX * (MANIFEST_CHANNEL_MAX + MANIFEST_VALUE_MAX + 4))
#define WS_SEQUENCE_MAX 32 /* "\"sequence\":<uint64>," */

#define BIT(t) (1ull << (t))

/* ---- types (ws_parse.c) ---- */

struct ws_type_info {
	const char *name; /* the envelope's type; a bus event's is its topic */
	bool subscribable;
};
/* Indexed by enum ws_type; the entries of pitwall's events are the topic
 * table's (common/topics.h). */
extern const struct ws_type_info ws_types[WS_T_COUNT];
_Static_assert(WS_T_COUNT <= 64, "subscriptions are a 64-bit mask");

/* ---- client messages (ws_parse.c) ---- */

/* What a complete text message from a client asks for, or why it is refused. */
enum ws_verdict {
	WS_V_PING = 0,  /* answer pong {"echo_t_ms": t_ms} */
	WS_V_SUBSCRIBE, /* events, feeds */
	WS_V_SET_RATE,  /* hz */
	WS_V_SNAPSHOT,  /* request_snapshot */
	WS_V_ERROR,     /* answer error {code, message, ref}; the connection stays */
	WS_V_CLOSE,     /* error {code, message, ref}, then close close_code "reason" */
};

struct ws_request {
	enum ws_verdict verdict;
	bool has_t_ms; /* t_ms is an integer: an error's ref, else null */
	int64_t t_ms;
	uint64_t events;                /* WS_V_SUBSCRIBE: BIT(enum ws_type) */
	uint32_t feeds;                 /* WS_V_SUBSCRIBE: bit i = feeds[i] (all: none named) */
	unsigned hz;                    /* WS_V_SET_RATE: WS_RATE_MIN_HZ..WS_RATE_MAX_HZ */
	int close_code;                 /* WS_V_CLOSE */
	const char *code;               /* WS_V_ERROR, WS_V_CLOSE: "bad_request", "unknown_type",
	                              "schema_mismatch" (static) */
	char reason[WS_REASON_MAX + 1]; /* WS_V_CLOSE: the close frame's reason */
	char message[WS_ERROR_MAX];     /* WS_V_ERROR, WS_V_CLOSE */
};

/*
 * Judge one complete text message of len bytes (not NUL-terminated) from a
 * client that may name the nfeeds feeds of feeds[] (borrowed) in subscribe.
 * Fills *req; never fails: a message that asks for nothing valid gets an
 * error or close verdict. Checks, in order: UTF-8 (1007), nesting within
 * WS_MAX_DEPTH (1008), a JSON object (1008), schema_version (4001 when it is
 * another integer), the envelope's fields (1008), then the type and its data
 * (error bad_request or unknown_type, the connection stays).
 */
void ws_parse(const char *buf, size_t len, const char *const feeds[], int nfeeds,
	      struct ws_request *req);
/*
 * The peer's close frame payload (len bytes): the code the server answers
 * with (the peer's, 0 for none, 1002 for a one-byte payload or a code RFC 6455
 * does not allow on the wire) and, in *peer_code, what the peer sent (1005
 * when it sent no code).
 */
int ws_close_reply_code(const char *data, size_t len, int *peer_code);
/* The index of name (NULL: none) among the n names of names[], or -1. */
int ws_name_index(const char *const names[], int n, const char *name);

/* ---- serialized messages and client queues (ws_send.c) ---- */

/*
 * One serialized message, shared by every client it is queued for. text is
 * the envelope JSON (or a control frame's payload) and never changes.
 */
struct ws_msg {
	atomic_int refs;
	uint8_t type;    /* enum ws_type */
	uint8_t opcode;  /* MG_WEBSOCKET_OPCODE_* */
	uint16_t seq_at; /* an envelope: where the sender writes the client's
	                              "sequence" (before "data"); 0: not an envelope */
	size_t len;
	char text[];
};

struct ws_item {
	struct ws_msg *m;
	int64_t enq_ns; /* monotonic */
};

enum client_state {
	CS_OPEN = 0,
	CS_CLOSING,    /* close frame queued behind the events */
	CS_CLOSE_SENT, /* waiting for the peer's close or the deadline */
	CS_DEAD,       /* civetweb's close handler runs */
};

/* The lap a feed is on, for the seed-004 lap_status (ws_seed.c). */
struct ws_seed_lap {
	bool have;
	bool out_lap;        /* the lap began in the pit lane */
	bool reset;          /* the lap went back (a rewind, a restart) */
	unsigned lap;        /* laps completed */
	int32_t lap_time_ms; /* last seen, -1 = none */
	uint64_t game_session;
};

struct ws_client {
	struct ws *ws;
	struct ws_client *next;
	struct mg_connection *conn;
	uint64_t id;
	int fd;        /* the connection's socket, -1 when not found */
	size_t sndbuf; /* usable send-buffer bytes, 0 = unknown */
	char peer[64];
	bool refused;    /* over the client limit: 1013, no sender */
	bool seed;       /* at WS_SEED_PATH: the seed-004 dialect (ws_seed.c) */
	bool seed_fixed; /* its feed was named with ?feed= */

	pthread_t sender;
	bool sender_started, sender_done;
	uint64_t sequence; /* sender only: envelopes written to this client */
	char *stamped;     /* sender only: an envelope with its sequence */
	size_t stamped_cap;

	/* under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond; /* sender: work; data handler: close frame written */
	struct ws_item eq[WS_EVENT_QUEUE];
	unsigned eq_head, eq_len;
	struct ws_item tq[WS_TELEM_QUEUE];
	unsigned tq_head, tq_len;
	struct ws_msg *close_msg; /* CS_CLOSING: written once eq is empty */
	enum client_state state;
	bool writing;   /* sender inside mg_websocket_write */
	bool shut;      /* shutdown() done */
	int close_code; /* what we sent, 0 = none */
	int peer_code;  /* what the peer sent, 0 = none */
	char close_reason[WS_REASON_MAX + 1];
	int64_t close_deadline_ns;
	uint64_t events;       /* subscription: BIT(enum ws_type) */
	uint32_t feeds;        /* subscription: bit i = ws->feeds[i]; seed: its feed */
	int seed_feed;         /* seed: its feed's index, -1 = none yet */
	int manifest;          /* ws->manifests slot of its ?manifest=, -1 = none */
	bool seed_told;        /* seed: session_started of seed_session was sent */
	uint64_t seed_session; /* seed: the game session it was told about */
	unsigned rate_hz;
	int64_t period_ns, next_tick_ns;
	bool due;         /* its tick came: telemetry at the next frame, or at hold */
	uint64_t due_seq; /* its feeds' write sequences added up when it became due */
	int64_t hold_ns;  /* due: the newest frame goes at this time at the latest */
	bool snapshot_pending;
	int64_t last_rx_ns, last_ping_ns;

	/* the send lag (written by the sender, read for /metrics) */
	_Atomic uint64_t lag_bucket[WS_LAG_BUCKETS], lag_count, lag_sum_us;

	/* civetweb worker thread only: fragmented text message */
	char *frag;
	size_t frag_len;
	bool in_frag;
};

/* A feed ring as the pacer sees it. seg and the frame cache are pacer-only;
 * the rest is written under ws->lock. */
struct ws_feed {
	char name[IDS_FEED_MAX + 1];
	struct seg *seg;
	int64_t next_attach_ns;
	bool attach_warned;
	enum seg_status status;
	bool have_latest, live;
	struct pw_frame latest;
	struct pw_meta meta;
	char *json; /* frame_to_json of json_seq, WS_FRAME_JSON_MAX bytes */
	size_t json_len;
	uint64_t json_seq;
	bool json_valid;

	/* the game session seen on this feed */
	bool in_session;
	uint64_t game_session;
	int64_t session_start_ns; /* realtime */
	int64_t last_up_ns;       /* monotonic */
	bool lap_known;
	unsigned lap_first, lap_last;
	struct ws_seed_lap seed_lap;
};

/* A manifest streamed to clients (?manifest=): its derived channels computed
 * over every frame of every feed, in order (pacer-only but for clients and
 * the slot's install, under ws->lock). */
struct ws_manifest_feed {
	struct manifest_eval *ev;
	struct seg *seg; /* the segment the cursor reads; a new one starts over */
	struct seg_cursor cur;
	bool have;                       /* last and v hold a frame */
	struct pw_frame last;            /* the newest frame read */
	double v[MANIFEST_CHANNELS_MAX]; /* its derived values */
};

struct ws_manifest {
	struct manifest *m; /* NULL: a free slot */
	char *doc;          /* its canonical JSON: a changed manifest is another one */
	unsigned clients;
	struct ws_manifest_feed feed[CONFIG_MAX_FEEDS];
};

struct ws {
	struct mg_context *ctx;
	char instance[48];
	char bus[CONFIG_STR];
	char token[CONFIG_STR];
	int64_t idle_ns, ping_ns, session_gap_ns;
	unsigned max_clients;
	struct mg_websocket_subprotocols subprotocols, seed_subprotocols;
	const char *subprotocol_names[1], *seed_subprotocol_names[1];
	unsigned seed_port; /* cfg->ws_port: WS_SEED_PATH only; 0 = none */

	pthread_mutex_t lock;
	_Atomic uint32_t pacer_word; /* bumped by ws_pacer_wake (common/wake.h) */
	pthread_cond_t gone;         /* a client left the list */
	struct ws_client *clients;
	unsigned nclients; /* accepted and listed */
	unsigned nlisted;
	uint64_t next_id;
	bool stopping, quit, wake;

	int nfeeds;
	struct ws_feed feeds[CONFIG_MAX_FEEDS];
	const char *feed_names[CONFIG_MAX_FEEDS]; /* feeds[i].name, for ws_parse */
	uint32_t live_mask;
	struct ws_manifest manifests[WS_MANIFESTS_MAX];
	ws_manifest_fetch_fn *fetch;
	void *fetch_ctx;

	pthread_t pacer, bus_thread;
	bool pacer_started, bus_started;
	void *zctx;
	atomic_bool bus_quit;
	int bus_quit_fd; /* eventfd: the bus thread stops */

	_Atomic uint64_t accepted, refused, bus_messages, bus_ignored;
	_Atomic uint64_t sent[WS_T_COUNT];
	_Atomic uint64_t dropped[WS_T_COUNT][WS_DROP_COUNT];
	_Atomic uint64_t lag_bucket[WS_LAG_BUCKETS];
	_Atomic uint64_t lag_count, lag_sum_us;
};

static inline void ws_stat_add(_Atomic uint64_t *v, uint64_t n)
{
	atomic_fetch_add_explicit(v, n, memory_order_relaxed);
}

static inline void ws_deadline_ts(struct timespec *ts, int64_t mono_ns)
{
	ts->tv_sec = (time_t)(mono_ns / NS_PER_S);
	ts->tv_nsec = (long)(mono_ns % NS_PER_S);
}

/* ws.c: a condition variable that times out on CLOCK_MONOTONIC. */
void ws_cond_init_mono(pthread_cond_t *c);
/* Every one of nfeeds feeds as a subscription mask. */
static inline uint32_t ws_all_feeds(int nfeeds)
{
	return nfeeds >= 32 ? ~0u : (1u << nfeeds) - 1;
}

/* Messages: the result holds one reference (NULL when out of memory);
 * ws_msg_ref adds one, ws_msg_unref drops one (NULL is a no-op). */
struct ws_msg *ws_msg_ref(struct ws_msg *m);
void ws_msg_unref(struct ws_msg *m);
/* The envelope of type around data, a JSON object text of len bytes (copied). */
struct ws_msg *ws_msg_envelope(enum ws_type type, const char *data, size_t len);
/* The envelope of type around a jansson object (stolen; NULL gives NULL). */
struct ws_msg *ws_msg_json(enum ws_type type, json_t *data);
/* An error envelope {code, message, ref}: ref null unless has_ref. */
struct ws_msg *ws_msg_error(const char *code, const char *message, json_int_t ref, bool has_ref);
/* A control frame of type (WS_T_CTL_*) with opcode and len bytes of payload (copied). */
struct ws_msg *ws_msg_control(enum ws_type type, int opcode, const void *payload, size_t len);
/* A close frame: code and reason (cut at WS_REASON_MAX); code 0: no payload. */
struct ws_msg *ws_msg_close(int code, const char *reason);

/* Client queues: called with c->lock held. The queues take their own
 * reference to m (NULL is ignored); nothing is queued unless the client is
 * CS_OPEN. */
/* A message that must not be lost (events, replies, control frames): the
 * event queue full closes the client as a slow consumer. */
void ws_enqueue_event(struct ws_client *c, struct ws_msg *m);
/* Telemetry: the queue full drops its oldest entry (counted). */
void ws_enqueue_telemetry(struct ws_client *c, struct ws_msg *m);
/* Start the close handshake from the server side: nothing new is queued,
 * telemetry is dropped, the events already queued go first unless purge
 * (the client is cut for not reading them). */
void ws_client_close(struct ws_client *c, int code, const char *reason, bool purge);
/* Close c with 1008 "slow consumer", its queued messages purged and counted. */
void ws_slow_consumer(struct ws_client *c);
/* Drop every queued message of one lane, counted under why. */
void ws_purge_events(struct ws_client *c, enum ws_drop why);
void ws_purge_telemetry(struct ws_client *c, enum ws_drop why);
/* Cut the connection: a blocked write, if any, and civetweb's read fail. */
void ws_client_shutdown(struct ws_client *c);
/* Queue m for the client itself (a reply), taking c->lock; takes over the
 * caller's reference. */
void ws_reply(struct ws_client *c, struct ws_msg *m);
/* Queue the event m (borrowed) for every client subscribed to its type and,
 * when feed >= 0, to that feed; not for seed-004 clients when the type is
 * one they get in their own shape (ws_seed_own). ws->lock held. */
void ws_fanout(struct ws *ws, struct ws_msg *m, int feed);
/* Queue m (borrowed, a seed-004 shape) for the seed-004 clients on feed
 * that subscribe to its type. ws->lock held. */
void ws_fanout_seed(struct ws *ws, struct ws_msg *m, int feed);
/* The types seed-004 clients get in the contract's own shape. */
static inline bool ws_seed_own(unsigned type)
{
	return type == WS_T_TELEMETRY || type == WS_T_SESSION_STARTED ||
	       type == WS_T_SESSION_ENDED || type == WS_T_LAP_COMPLETED;
}
/* The client's sender thread (arg: the client). */
void *ws_sender_main(void *arg);

/* ws_conn.c: civetweb's WebSocket callbacks (cbdata: the struct ws). */
int ws_on_connect(const struct mg_connection *conn, void *cbdata);
void ws_on_ready(struct mg_connection *conn, void *cbdata);
int ws_on_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cbdata);
void ws_on_close(const struct mg_connection *conn, void *cbdata);

/* ws_pacer.c */
/* The slot of manifest m (stolen) for a new client, ws->lock held: the slot
 * of the same document, else a free one; -1 when all are in use. */
int ws_manifest_acquire(struct ws *ws, struct manifest *m);
/* A client of slot i left (ws->lock held). */
void ws_manifest_release(struct ws *ws, int i);
/* Free every slot (the stream stops). */
void ws_manifests_free(struct ws *ws);
/* "<feed>-<game_session as 16 hex digits>": unique per feed and game session. */
void ws_session_id(const struct ws_feed *f, char *buf, size_t cap);
/* The pacer thread (arg: the struct ws). */
void *ws_pacer_main(void *arg);
/* Wake the pacer now (ws->lock held): a client, a rate, a snapshot, the stop. */
void ws_pacer_wake(struct ws *ws);

/* ws_seed.c */
/* Follow f, a feed's newest frame, for the lap status. */
void ws_seed_lap_track(struct ws_seed_lap *s, const struct pw_frame *f);
/*
 * The contract's telemetry payload (a JSON object, snprintf semantics) for
 * the frame f (NULL: every field null) with its feed's metadata and lap
 * state (either may be NULL), live (the feed is up), and session_t_ms (ms
 * into the game session, -1 = null).
 */
size_t ws_seed_telemetry(const struct pw_frame *f, const struct pw_meta *meta,
			 const struct ws_seed_lap *lap, bool live, int64_t session_t_ms, char *buf,
			 size_t cap);
/* Messages (one reference, the caller's; NULL when out of memory). */
struct ws_msg *ws_seed_telemetry_msg(const struct ws_feed *f, bool live);
struct ws_msg *ws_seed_session_started(const struct ws_feed *f);
/* lap_count stolen (NULL: null). */
struct ws_msg *ws_seed_session_ended(const struct ws_feed *f, double duration_s, json_t *lap_count,
				     const char *reason);
/* From a lap.<feed> bus payload (borrowed): NULL unless a completed lap. */
struct ws_msg *ws_seed_lap(json_t *payload);
struct ws_msg *ws_seed_hello(const struct ws *ws, const struct ws_client *c);

/* ws_bus.c */
/*
 * The stream's event for a bus message (topic, len bytes of payload): its
 * envelope (one reference, the caller's), its type and in *feed the feed
 * the topic names (a pointer into topic; NULL for pitwall's own events).
 * NULL when the stream does not forward it (not a forwarded topic, not a
 * JSON object, a lap event other than a completed or invalidated lap).
 */
struct ws_msg *ws_bus_event(const char *topic, const char *body, size_t len, enum ws_type *type,
			    const char **feed);
/* The bus thread (arg: the struct ws). */
void *ws_bus_main(void *arg);

#endif
