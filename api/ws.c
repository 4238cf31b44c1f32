/*
 * ws.c - the WebSocket stream at /api/stream (see ws.h for the design).
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
 *
 * civetweb 1.15 has no call to abort a WebSocket from another thread, nor
 * to write without blocking. The ready handler therefore finds the
 * connection's socket by its address 4-tuple (getsockname/getpeername over
 * /proc/self/fd, unique among live TCP sockets) to bound its send buffer,
 * check the room left in it (SIOCOUTQ) before each write and shutdown() it
 * when a client must be cut.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <linux/sockios.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "api/ws.h"
#include "common/clock.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/seg.h"

#ifndef PW_VERSION
#define PW_VERSION "0.1.0"
#endif

#define WS_POLL_NS (100 * NS_PER_MS)       /* feeds, sessions, deadlines */
#define WS_ATTACH_RETRY_NS (1000 * NS_PER_MS)
#define WS_CLOSE_GRACE_NS (2000 * NS_PER_MS) /* close queued -> socket cut */
#define WS_CLOSE_WAIT_NS (1000 * NS_PER_MS)  /* data handler waits for its close frame */
#define WS_ROOM_WAIT_NS (5 * NS_PER_MS)      /* sender re-checks the send buffer */
#define WS_STOP_WAIT_NS (5000 * NS_PER_MS)
#define WS_FRAME_HDR 14                      /* max server frame header bytes */
#define WS_CLOSE_RESERVE 192                 /* send-buffer room kept for a close frame */
#define WS_MAX_EVENT_DATA (60 * 1024)        /* bigger bus payloads are summarized */
#define WS_FRAME_JSON_MAX 8192
#define WS_SENDER_STACK (256 * 1024)
#define WS_REASON_MAX 123                    /* RFC 6455: control payload 125 bytes */
#define WS_MAX_DEPTH 32                      /* JSON nesting of a client message */

#define BIT(t) (1ull << (t))

const double ws_lag_bucket_ms[WS_LAG_BUCKETS] = { 1, 5, 10, 25, 50, 100, 250, 1000, 5000 };

/* ---- types ---- */

static const struct {
	const char *name;
	bool subscribable;
	bool feed_scoped;          /* data names a feed: honours subscribe.feeds */
} types[WS_T_COUNT] = {
	[WS_T_HELLO] = { "hello", false, false },
	[WS_T_TELEMETRY] = { "telemetry", true, true },
	[WS_T_PONG] = { "pong", false, false },
	[WS_T_ERROR] = { "error", false, false },
	[WS_T_LAP_COMPLETED] = { "lap_completed", true, true },
	[WS_T_LAP_INVALIDATED] = { "lap_invalidated", true, true },
	[WS_T_SESSION_STARTED] = { "session_started", true, true },
	[WS_T_SESSION_ENDED] = { "session_ended", true, true },
	[WS_T_FEED_STATUS] = { "feed_status", true, true },
	[WS_T_PW_SESSION_CREATED] = { "session.created", true, false },
	[WS_T_PW_SESSION_COMPLETED] = { "session.completed", true, false },
	[WS_T_PW_SESSION_REOPENED] = { "session.reopened", true, false },
	[WS_T_PW_SESSION_DELETED] = { "session.deleted", true, false },
	[WS_T_RUN_STARTED] = { "run.started", true, false },
	[WS_T_RUN_STOPPED] = { "run.stopped", true, false },
	[WS_T_RUN_RESUMED] = { "run.resumed", true, false },
	[WS_T_RUN_DELETED] = { "run.deleted", true, false },
	[WS_T_RUN_ERROR] = { "run.error", true, false },
	[WS_T_RECORDING_STARTED] = { "recording.started", true, false },
	[WS_T_RECORDING_STOPPED] = { "recording.stopped", true, false },
	[WS_T_RECORDING_DELETED] = { "recording.deleted", true, false },
	[WS_T_ANALYSIS_PENDING] = { "analysis.pending", true, false },
	[WS_T_ANALYSIS_COMPLETED] = { "analysis.completed", true, false },
	[WS_T_ANALYSIS_FAILED] = { "analysis.failed", true, false },
	[WS_T_CTL_PING] = { "control_ping", false, false },
	[WS_T_CTL_PONG] = { "control_pong", false, false },
	[WS_T_CTL_CLOSE] = { "control_close", false, false },
};
_Static_assert(WS_T_COUNT <= 64, "subscriptions are a 64-bit mask");

static const char *const drop_names[WS_DROP_COUNT] = { "queue_full", "slow_consumer", "closed" };

/* Bus topic prefixes the stream forwards (frame.* is not: telemetry comes from the rings). */
static const char *const bus_prefixes[] = { "lap.", "feed.", "session.", "run.", "recording.",
					    "analysis." };

/*
 * One serialized message, shared by every client it is queued for. text is
 * the envelope JSON (or a control frame's payload) and never changes.
 */
struct ws_msg {
	atomic_int refs;
	uint8_t type;              /* enum ws_type */
	uint8_t opcode;            /* MG_WEBSOCKET_OPCODE_* */
	size_t len;
	char text[];
};

struct ws_item {
	struct ws_msg *m;
	int64_t enq_ns;            /* monotonic */
};

enum client_state {
	CS_OPEN = 0,
	CS_CLOSING,                /* close frame queued behind the events */
	CS_CLOSE_SENT,             /* waiting for the peer's close or the deadline */
	CS_DEAD,                   /* civetweb's close handler runs */
};

struct ws_client {
	struct ws *ws;
	struct ws_client *next;
	struct mg_connection *conn;
	uint64_t id;
	int fd;                    /* the connection's socket, -1 when not found */
	size_t sndbuf;             /* usable send-buffer bytes, 0 = unknown */
	char peer[64];
	bool refused;              /* over the client limit: 1013, no sender */

	pthread_t sender;
	bool sender_started, sender_done;

	/* under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;       /* sender: work; data handler: close frame written */
	struct ws_item eq[WS_EVENT_QUEUE];
	unsigned eq_head, eq_len;
	struct ws_item tq[WS_TELEM_QUEUE];
	unsigned tq_head, tq_len;
	struct ws_msg *close_msg;  /* CS_CLOSING: written once eq is empty */
	enum client_state state;
	bool writing;              /* sender inside mg_websocket_write */
	bool shut;                 /* shutdown() done */
	int close_code;            /* what we sent, 0 = none */
	int peer_code;             /* what the peer sent, 0 = none */
	char close_reason[WS_REASON_MAX + 1];
	int64_t close_deadline_ns;
	uint64_t events;           /* subscription: BIT(enum ws_type) */
	uint32_t feeds;            /* subscription: bit i = ws->feeds[i] */
	unsigned rate_hz;
	int64_t period_ns, next_tick_ns;
	bool snapshot_pending;
	int64_t last_rx_ns, last_ping_ns;

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
	char *json;                /* frame_to_json of json_seq, WS_FRAME_JSON_MAX bytes */
	size_t json_len;
	uint64_t json_seq;
	bool json_valid;

	/* the game session seen on this feed */
	bool in_session;
	uint64_t game_session;
	int64_t session_start_ns;  /* realtime */
	int64_t last_up_ns;        /* monotonic */
	bool lap_known;
	unsigned lap_first, lap_last;
};

struct ws {
	struct mg_context *ctx;
	char instance[48];
	char bus[CONFIG_STR];
	char token[CONFIG_STR];
	int64_t idle_ns, ping_ns, session_gap_ns;
	unsigned max_clients;

	pthread_mutex_t lock;
	pthread_cond_t cond;       /* pacer wake-ups */
	pthread_cond_t gone;       /* a client left the list */
	struct ws_client *clients;
	unsigned nclients;         /* accepted and listed */
	unsigned nlisted;
	uint64_t next_id;
	bool stopping, quit, wake;

	int nfeeds;
	struct ws_feed feeds[CONFIG_MAX_FEEDS];
	uint32_t live_mask;

	pthread_t pacer, bus_thread;
	bool pacer_started, bus_started;
	void *zctx;
	atomic_bool bus_quit;

	_Atomic uint64_t accepted, refused, bus_messages, bus_ignored;
	_Atomic uint64_t sent[WS_T_COUNT];
	_Atomic uint64_t dropped[WS_T_COUNT][WS_DROP_COUNT];
	_Atomic uint64_t lag_bucket[WS_LAG_BUCKETS];
	_Atomic uint64_t lag_count, lag_sum_us;
};

static void stat_add(_Atomic uint64_t *v, uint64_t n)
{
	atomic_fetch_add_explicit(v, n, memory_order_relaxed);
}

static int64_t now_ms(void)
{
	return clock_now_ns() / NS_PER_MS;
}

static void deadline_ts(struct timespec *ts, int64_t mono_ns)
{
	ts->tv_sec = (time_t)(mono_ns / NS_PER_S);
	ts->tv_nsec = (long)(mono_ns % NS_PER_S);
}

static void cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

/* ---- messages ---- */

static struct ws_msg *msg_alloc(enum ws_type type, int opcode, size_t len)
{
	struct ws_msg *m = malloc(sizeof *m + len + 1);

	if (!m)
		return NULL;
	atomic_init(&m->refs, 1);
	m->type = (uint8_t)type;
	m->opcode = (uint8_t)opcode;
	m->len = len;
	m->text[len] = 0;
	return m;
}

static struct ws_msg *msg_ref(struct ws_msg *m)
{
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	return m;
}

static void msg_unref(struct ws_msg *m)
{
	if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
		free(m);
}

/* Envelope around data, a JSON object text of len bytes. */
static struct ws_msg *msg_envelope(enum ws_type type, const char *data, size_t len)
{
	char head[128];
	int hn = snprintf(head, sizeof head,
			  "{\"type\":\"%s\",\"schema_version\":%d,\"t_ms\":%lld,\"data\":",
			  types[type].name, WS_SCHEMA_VERSION, (long long)now_ms());
	struct ws_msg *m = msg_alloc(type, MG_WEBSOCKET_OPCODE_TEXT, (size_t)hn + len + 1);

	if (!m)
		return NULL;
	memcpy(m->text, head, (size_t)hn);
	memcpy(m->text + hn, data, len);
	m->text[(size_t)hn + len] = '}';
	return m;
}

/* Envelope around a jansson object (stolen). */
static struct ws_msg *msg_json(enum ws_type type, json_t *data)
{
	char *s;
	struct ws_msg *m = NULL;

	if (!data)
		return NULL;
	s = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	if (s) {
		m = msg_envelope(type, s, strlen(s));
		free(s);
	}
	return m;
}

static struct ws_msg *msg_error(const char *code, const char *message, json_int_t ref, bool has_ref)
{
	return msg_json(WS_T_ERROR, json_pack("{s:s, s:s, s:o}", "code", code, "message", message,
					      "ref", has_ref ? json_integer(ref) : json_null()));
}

static struct ws_msg *msg_control(enum ws_type type, int opcode, const void *payload, size_t len)
{
	struct ws_msg *m = msg_alloc(type, opcode, len);

	if (m && len)
		memcpy(m->text, payload, len);
	return m;
}

static struct ws_msg *msg_close(int code, const char *reason)
{
	char payload[2 + WS_REASON_MAX];
	size_t n = strnlen(reason, WS_REASON_MAX);

	payload[0] = (char)((code >> 8) & 0xff);
	payload[1] = (char)(code & 0xff);
	memcpy(payload + 2, reason, n);
	return msg_control(WS_T_CTL_CLOSE, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, payload,
			   code ? 2 + n : 0);
}

/* ---- client queues (called with c->lock held) ---- */

static void wake_sender(struct ws_client *c)
{
	pthread_cond_broadcast(&c->cond);
}

static void drop_counted(struct ws_client *c, struct ws_item *it, enum ws_drop why)
{
	stat_add(&c->ws->dropped[it->m->type][why], 1);
	msg_unref(it->m);
	it->m = NULL;
}

static void purge_telemetry(struct ws_client *c, enum ws_drop why)
{
	while (c->tq_len) {
		drop_counted(c, &c->tq[c->tq_head], why);
		c->tq_head = (c->tq_head + 1) % WS_TELEM_QUEUE;
		c->tq_len--;
	}
}

static void purge_events(struct ws_client *c, enum ws_drop why)
{
	while (c->eq_len) {
		drop_counted(c, &c->eq[c->eq_head], why);
		c->eq_head = (c->eq_head + 1) % WS_EVENT_QUEUE;
		c->eq_len--;
	}
}

/*
 * Start the close handshake from the server side: nothing new is queued,
 * telemetry is dropped, the events already queued go first unless the
 * client is being cut for not reading them (purge_events).
 */
static void client_close(struct ws_client *c, int code, const char *reason, bool purge)
{
	if (c->state != CS_OPEN)
		return;
	c->state = CS_CLOSING;
	c->close_code = code;
	snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
	purge_telemetry(c, purge ? WS_DROP_SLOW_CONSUMER : WS_DROP_CLOSED);
	if (purge)
		purge_events(c, WS_DROP_SLOW_CONSUMER);
	c->close_msg = msg_close(code, reason);
	c->close_deadline_ns = clock_mono_ns() + WS_CLOSE_GRACE_NS;
	wake_sender(c);
}

static void slow_consumer(struct ws_client *c)
{
	log_warn("msg=\"ws slow consumer\" client_id=%llu peer=%s queued_events=%u",
		 (unsigned long long)c->id, c->peer, c->eq_len);
	client_close(c, 1008, "slow consumer", true);
}

/* Queue a message that must not be lost (events, replies, control frames). */
static void enqueue_event(struct ws_client *c, struct ws_msg *m)
{
	if (c->state != CS_OPEN || !m)
		return;
	if (c->eq_len == WS_EVENT_QUEUE) {
		slow_consumer(c);
		return;
	}
	c->eq[(c->eq_head + c->eq_len) % WS_EVENT_QUEUE] =
		(struct ws_item){ msg_ref(m), clock_mono_ns() };
	c->eq_len++;
	wake_sender(c);
}

static void enqueue_telemetry(struct ws_client *c, struct ws_msg *m)
{
	if (c->state != CS_OPEN || !m)
		return;
	if (c->tq_len == WS_TELEM_QUEUE) {
		drop_counted(c, &c->tq[c->tq_head], WS_DROP_QUEUE_FULL);
		c->tq_head = (c->tq_head + 1) % WS_TELEM_QUEUE;
		c->tq_len--;
	}
	c->tq[(c->tq_head + c->tq_len) % WS_TELEM_QUEUE] =
		(struct ws_item){ msg_ref(m), clock_mono_ns() };
	c->tq_len++;
	wake_sender(c);
}

/* Queue for the client itself (a reply); takes over the caller's reference. */
static void reply(struct ws_client *c, struct ws_msg *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&c->lock);
	enqueue_event(c, m);
	pthread_mutex_unlock(&c->lock);
	msg_unref(m);
}

/* ---- the sender ---- */

/* Room in the socket's send buffer for bytes more (a write of them will not block). */
static bool room_for(const struct ws_client *c, size_t bytes)
{
	int queued;

	if (c->fd < 0 || c->sndbuf == 0 || ioctl(c->fd, SIOCOUTQ, &queued) < 0)
		return true;
	if (bytes > c->sndbuf)
		return queued == 0;
	return (size_t)queued + bytes <= c->sndbuf;
}

/* Cut the connection: the blocked write, if any, and civetweb's read fail. */
static void client_shutdown(struct ws_client *c)
{
	if (c->fd >= 0 && !c->shut && c->state != CS_DEAD) {
		shutdown(c->fd, SHUT_RDWR);
		c->shut = true;
	}
}

/* The next message: events, then the close frame (closing) or telemetry (open). */
static struct ws_item *next_item(struct ws_client *c, bool *is_event)
{
	*is_event = true;
	if (c->eq_len)
		return &c->eq[c->eq_head];
	*is_event = false;
	if (c->state == CS_OPEN && c->tq_len)
		return &c->tq[c->tq_head];
	return NULL;
}

static void account_sent(struct ws *ws, const struct ws_msg *m, int64_t enq_ns, int64_t done_ns)
{
	double lag_ms = (double)(done_ns - enq_ns) / 1e6;

	stat_add(&ws->sent[m->type], 1);
	stat_add(&ws->lag_count, 1);
	stat_add(&ws->lag_sum_us, (uint64_t)((done_ns - enq_ns) / 1000));
	for (int i = 0; i < WS_LAG_BUCKETS; i++)
		if (lag_ms <= ws_lag_bucket_ms[i])
			stat_add(&ws->lag_bucket[i], 1);
}

static void *sender_main(void *arg)
{
	struct ws_client *c = arg;

	pthread_mutex_lock(&c->lock);
	while (c->state == CS_OPEN || c->state == CS_CLOSING) {
		struct ws_item it, *next;
		bool is_event, is_close;
		size_t need;
		int r;

		next = next_item(c, &is_event);
		if (next) {
			it = *next;
		} else if (c->state == CS_CLOSING && c->close_msg) {
			it = (struct ws_item){ c->close_msg, clock_mono_ns() };
		} else {
			pthread_cond_wait(&c->cond, &c->lock);
			continue;
		}
		is_close = it.m->type == WS_T_CTL_CLOSE;
		need = it.m->len + WS_FRAME_HDR + (is_close ? 0 : WS_CLOSE_RESERVE);
		if (!room_for(c, need)) {
			struct timespec ts;

			deadline_ts(&ts, clock_mono_ns() + WS_ROOM_WAIT_NS);
			pthread_cond_timedwait(&c->cond, &c->lock, &ts);
			continue;
		}
		if (is_close) {
			c->close_msg = NULL;
		} else if (is_event) {
			c->eq_head = (c->eq_head + 1) % WS_EVENT_QUEUE;
			c->eq_len--;
		} else {
			c->tq_head = (c->tq_head + 1) % WS_TELEM_QUEUE;
			c->tq_len--;
		}
		c->writing = true;
		pthread_mutex_unlock(&c->lock);

		r = mg_websocket_write(c->conn, it.m->opcode, it.m->text, it.m->len);
		if (r > 0)
			account_sent(c->ws, it.m, it.enq_ns, clock_mono_ns());

		pthread_mutex_lock(&c->lock);
		c->writing = false;
		msg_unref(it.m);
		if (r <= 0) {
			client_shutdown(c);
			break;
		}
		if (is_close) {
			c->state = CS_CLOSE_SENT;
			c->close_deadline_ns = clock_mono_ns() + WS_CLOSE_GRACE_NS;
			break;
		}
	}
	c->sender_done = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* ---- the connection's socket ---- */

static void addr_string(const struct sockaddr_storage *sa, char *buf, size_t cap, int *port)
{
	buf[0] = 0;
	*port = -1;
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t)cap);
		*port = ntohs(in->sin_port);
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, buf, (socklen_t)cap);
		*port = ntohs(in6->sin6_port);
	}
}

static bool fd_is_conn(int fd, const struct mg_request_info *ri)
{
	struct sockaddr_storage peer, local;
	socklen_t pl = sizeof peer, ll = sizeof local;
	char addr[INET6_ADDRSTRLEN];
	int pport, lport;
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	if (getpeername(fd, (struct sockaddr *)&peer, &pl) < 0 ||
	    getsockname(fd, (struct sockaddr *)&local, &ll) < 0)
		return false;
	addr_string(&local, addr, sizeof addr, &lport);
	if (lport != ri->server_port)
		return false;
	addr_string(&peer, addr, sizeof addr, &pport);
	return pport == ri->remote_port && strcmp(addr, ri->remote_addr) == 0;
}

/* The descriptor of conn's socket, or -1 (none or ambiguous). */
static int conn_fd(const struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	DIR *d;
	struct dirent *e;
	int found = -1, matches = 0;

	if (!ri || !(d = opendir("/proc/self/fd")))
		return -1;
	while ((e = readdir(d))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);

		if (*end || end == e->d_name || fd == dirfd(d))
			continue;
		if (fd_is_conn((int)fd, ri)) {
			found = (int)fd;
			matches++;
		}
	}
	closedir(d);
	return matches == 1 ? found : -1;
}

static void socket_setup(struct ws_client *c)
{
	int one = 1, size = WS_SNDBUF;
	socklen_t sl = sizeof size;

	c->fd = conn_fd(c->conn);
	if (c->fd < 0) {
		log_warn("msg=\"ws: socket not found; slow clients can block their sender\" "
			 "client_id=%llu peer=%s", (unsigned long long)c->id, c->peer);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	/* Linux reports twice the granted size (bookkeeping overhead included). */
	if (getsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &size, &sl) == 0 && size > 0)
		c->sndbuf = (size_t)size / 2;
}

/* ---- clients ---- */

static struct ws_client *client_new(struct ws *ws, struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct ws_client *c = calloc(1, sizeof *c);
	int64_t now = clock_mono_ns();

	if (!c)
		return NULL;
	c->ws = ws;
	c->conn = conn;
	c->fd = -1;
	if (ri)
		snprintf(c->peer, sizeof c->peer, "%s:%d", ri->remote_addr, ri->remote_port);
	pthread_mutex_init(&c->lock, NULL);
	cond_init_mono(&c->cond);
	for (int t = 0; t < WS_T_COUNT; t++)
		if (types[t].subscribable)
			c->events |= BIT(t);
	c->feeds = ws->nfeeds >= 32 ? ~0u : (1u << ws->nfeeds) - 1;
	c->rate_hz = WS_RATE_DEFAULT_HZ;
	c->period_ns = NS_PER_S / WS_RATE_DEFAULT_HZ;
	c->next_tick_ns = now;
	c->last_rx_ns = now;
	c->last_ping_ns = now;
	return c;
}

static void client_free(struct ws_client *c)
{
	purge_events(c, WS_DROP_CLOSED);
	purge_telemetry(c, WS_DROP_CLOSED);
	msg_unref(c->close_msg);
	free(c->frag);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* "<feed>-<game_session as 16 hex digits>": unique per feed and game session. */
static void session_id(const struct ws_feed *f, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s-%016llx", f->name, (unsigned long long)f->game_session);
}

/* hello: versions, feeds, the event types a client may subscribe to, limits. */
static struct ws_msg *hello_msg(struct ws *ws, const struct ws_client *c)
{
	json_t *feeds = json_array(), *events = json_array();

	for (int i = 0; i < ws->nfeeds; i++) {
		const struct ws_feed *f = &ws->feeds[i];
		char id[64];

		session_id(f, id, sizeof id);
		json_array_append_new(feeds, json_pack("{s:s, s:s, s:s, s:o}", "name", f->name, "status",
						       seg_status_name(f->status), "game",
						       f->have_latest ? frame_game_name(f->latest.game) : "",
						       "session_id", f->in_session ? json_string(id) : json_null()));
	}
	for (int t = 0; t < WS_T_COUNT; t++)
		if (types[t].subscribable)
			json_array_append_new(events, json_string(types[t].name));
	return msg_json(WS_T_HELLO,
		json_pack("{s:s, s:s, s:i, s:I, s:o, s:o, s:{s:i, s:i, s:i, s:i, s:I, s:I, s:i, s:i, s:i, s:i}}",
			  "server", "pitwall", "server_version", PW_VERSION,
			  "schema_version", WS_SCHEMA_VERSION, "client_id", (json_int_t)c->id,
			  "feeds", feeds, "events", events, "limits",
			  "max_message_bytes", WS_MAX_MESSAGE, "rate_hz_min", WS_RATE_MIN_HZ,
			  "rate_hz_max", WS_RATE_MAX_HZ, "rate_hz_default", WS_RATE_DEFAULT_HZ,
			  "idle_timeout_ms", (json_int_t)(ws->idle_ns / NS_PER_MS),
			  "ping_interval_ms", (json_int_t)(ws->ping_ns / NS_PER_MS),
			  "slow_consumer_ms", WS_SLOW_MS, "event_queue", WS_EVENT_QUEUE,
			  "telemetry_queue", WS_TELEM_QUEUE, "max_clients", (int)ws->max_clients));
}

/* ---- civetweb handlers ---- */

/* Constant-time comparison of a presented token with ours (length is not secret). */
static bool token_equal(const char *given, size_t len, const char *token)
{
	size_t n = strlen(token), diff = 0;

	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		diff |= (size_t)(given[i] ^ token[i]);
	return diff == 0;
}

/* With a token configured: "Authorization: Bearer <token>", or ?token=<token>
 * since browsers cannot set headers on a WebSocket. */
static bool authorized(const struct ws *ws, const struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *h = mg_get_header(conn, "Authorization"), *q;
	char given[CONFIG_STR];

	if (!ws->token[0])
		return true;
	if (h && strncmp(h, "Bearer ", 7) == 0 && token_equal(h + 7, strlen(h + 7), ws->token))
		return true;
	q = ri ? ri->query_string : NULL;
	if (q && mg_get_var(q, strlen(q), "token", given, sizeof given) >= 0)
		return token_equal(given, strlen(given), ws->token);
	return false;
}

/*
 * A refusal before the handshake, as a complete HTTP response: civetweb would
 * otherwise drop the connection without one (and mg_send_http_error writes
 * only the body at this point). conn is not const underneath.
 */
static int refuse_http(const struct mg_connection *conn, int status, const char *text,
		       const char *code, const char *message)
{
	mg_printf((struct mg_connection *)conn,
		  "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		  "Connection: close\r\n\r\n{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
		  status, text, strlen(code) + strlen(message) + 34, code, message);
	return 1;
}

/* Before the handshake: refused while stopping, or without the token when one is set. */
static int on_connect(const struct mg_connection *conn, void *cbdata)
{
	struct ws *ws = cbdata;
	bool stopping;

	pthread_mutex_lock(&ws->lock);
	stopping = ws->stopping;
	pthread_mutex_unlock(&ws->lock);
	if (stopping)
		return refuse_http(conn, 503, "Service Unavailable", "unavailable",
				   "server shutting down");
	if (!authorized(ws, conn))
		return refuse_http(conn, 401, "Unauthorized", "unauthorized",
				   "this stream needs Authorization: Bearer <token> or ?token=<token>");
	return 0;
}

/* Over the limit (or stopping): handshake done, then straight to 1013 (1001)
 * written here, this thread owns the fresh socket. The pacer cuts it if the
 * peer never answers. */
static void refuse(struct ws_client *c, bool stopping)
{
	const char *reason = stopping ? "server shutting down" : "too many clients";
	int code = stopping ? 1001 : 1013;
	struct ws_msg *m = msg_close(code, reason);

	stat_add(&c->ws->refused, 1);
	log_warn("msg=\"ws client refused\" peer=%s reason=\"%s\" max=%u", c->peer, reason,
		 c->ws->max_clients);
	if (m && mg_websocket_write(c->conn, m->opcode, m->text, m->len) > 0)
		stat_add(&c->ws->sent[WS_T_CTL_CLOSE], 1);
	msg_unref(m);
	pthread_mutex_lock(&c->lock);
	c->close_code = code;
	snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
	c->state = CS_CLOSE_SENT;
	c->close_deadline_ns = clock_mono_ns() + WS_CLOSE_GRACE_NS;
	c->sender_done = true;
	pthread_mutex_unlock(&c->lock);
}

static void on_ready(struct mg_connection *conn, void *cbdata)
{
	struct ws *ws = cbdata;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct ws_client *c = client_new(ws, conn);
	pthread_attr_t attr;
	struct ws_msg *hello;
	bool stopping;

	if (!c) {
		log_error("msg=\"ws: out of memory for a client\"");
		return;
	}
	mg_set_user_connection_data(conn, c);
	socket_setup(c);

	pthread_mutex_lock(&ws->lock);
	c->id = ++ws->next_id;
	stopping = ws->stopping;
	c->refused = stopping || ws->nclients >= ws->max_clients;
	if (!c->refused) {
		ws->nclients++;
		hello = hello_msg(ws, c);
		pthread_mutex_lock(&c->lock);
		enqueue_event(c, hello);       /* first: nothing can be queued before it is listed */
		pthread_mutex_unlock(&c->lock);
		msg_unref(hello);
	}
	c->next = ws->clients;
	ws->clients = c;
	ws->nlisted++;
	ws->wake = true;               /* first telemetry now, then every period from here */
	pthread_cond_signal(&ws->cond);
	pthread_mutex_unlock(&ws->lock);

	if (c->refused) {
		refuse(c, stopping);
		return;
	}
	stat_add(&ws->accepted, 1);
	log_info("msg=\"ws client connected\" client_id=%llu peer=%s subprotocol=%s",
		 (unsigned long long)c->id, c->peer,
		 ri && ri->acceptedWebSocketSubprotocol ? ri->acceptedWebSocketSubprotocol : "-");

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WS_SENDER_STACK);
	c->sender_started = pthread_create(&c->sender, &attr, sender_main, c) == 0;
	pthread_attr_destroy(&attr);
	if (!c->sender_started) {
		struct ws_msg *m = msg_close(1011, "internal error");

		log_error("msg=\"ws: cannot start a sender thread\" client_id=%llu",
			  (unsigned long long)c->id);
		if (m)
			mg_websocket_write(conn, m->opcode, m->text, m->len);
		msg_unref(m);
		pthread_mutex_lock(&c->lock);
		c->state = CS_CLOSE_SENT;
		c->close_code = 1011;
		c->close_deadline_ns = clock_mono_ns() + WS_CLOSE_GRACE_NS;
		c->sender_done = true;
		pthread_mutex_unlock(&c->lock);
	}
}

/* Wait (bounded) until the sender wrote the close frame or gave up. */
static void wait_close_written(struct ws_client *c)
{
	struct timespec ts;

	deadline_ts(&ts, clock_mono_ns() + WS_CLOSE_WAIT_NS);
	pthread_mutex_lock(&c->lock);
	while (c->state == CS_CLOSING && !c->sender_done)
		if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&c->lock);
}

/*
 * A client offence that ends the connection: an error envelope says why,
 * then the close frame. Returns the data handler's result (0: close).
 */
static int fail(struct ws_client *c, int close_code, const char *reason, const char *err_code,
		const char *message, json_t *ref)
{
	struct ws_msg *err = msg_error(err_code, message, json_is_integer(ref) ?
				       json_integer_value(ref) : 0, json_is_integer(ref));

	log_info("msg=\"ws client offence\" client_id=%llu peer=%s close_code=%d error=\"%s\"",
		 (unsigned long long)c->id, c->peer, close_code, message);
	pthread_mutex_lock(&c->lock);
	enqueue_event(c, err);
	client_close(c, close_code, reason, false);
	pthread_mutex_unlock(&c->lock);
	msg_unref(err);
	wait_close_written(c);
	return 0;
}

static void send_error(struct ws_client *c, const char *code, json_t *ref, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void send_error(struct ws_client *c, const char *code, json_t *ref, const char *fmt, ...)
{
	char message[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	reply(c, msg_error(code, message, json_is_integer(ref) ? json_integer_value(ref) : 0,
			   json_is_integer(ref)));
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned b = s[i];
		size_t k;
		uint32_t cp, min;

		if (b < 0x80) {
			i++;
			continue;
		}
		if ((b & 0xe0) == 0xc0) {
			k = 1, cp = b & 0x1f, min = 0x80;
		} else if ((b & 0xf0) == 0xe0) {
			k = 2, cp = b & 0x0f, min = 0x800;
		} else if ((b & 0xf8) == 0xf0) {
			k = 3, cp = b & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

/*
 * Nesting of [ and { outside strings stays within max. Checked before
 * parsing: jansson recurses per level (up to 2048), which is more stack
 * than a civetweb worker can be trusted to have; an envelope needs 3.
 */
static bool nesting_ok(const char *s, size_t n, int max)
{
	bool in_str = false, esc = false;
	int depth = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				in_str = false;
		} else if (ch == '"') {
			in_str = true;
		} else if (ch == '{' || ch == '[') {
			if (++depth > max)
				return false;
		} else if (ch == '}' || ch == ']') {
			depth--;
		}
	}
	return true;
}

static int feed_index(const struct ws *ws, const char *name)
{
	for (int i = 0; name && i < ws->nfeeds; i++)
		if (strcmp(ws->feeds[i].name, name) == 0)
			return i;
	return -1;
}

/* Event names of a subscribe list: exact types, "prefix.*", "*"; 0 bits for
 * "recommendation" (a contract type pitwall never sends). -1 when unknown. */
static int subscription_bits(const char *name, uint64_t *bits)
{
	size_t n = strlen(name);
	bool wild = n >= 2 && strcmp(name + n - 2, ".*") == 0;
	int hits = 0;

	if (strcmp(name, "recommendation") == 0)
		return 0;
	for (int t = 0; t < WS_T_COUNT; t++) {
		if (!types[t].subscribable)
			continue;
		if (strcmp(name, "*") == 0 || strcmp(name, types[t].name) == 0 ||
		    (wild && strncmp(name, types[t].name, n - 1) == 0)) {
			*bits |= BIT(t);
			hits++;
		}
	}
	return hits ? 0 : -1;
}

static void on_subscribe(struct ws_client *c, json_t *data, json_t *ref)
{
	struct ws *ws = c->ws;
	json_t *events = json_object_get(data, "events"), *feeds = json_object_get(data, "feeds"), *v;
	uint64_t bits = 0;
	uint32_t fmask = 0;
	size_t i;

	if (!json_is_array(events)) {
		send_error(c, "bad_request", ref, "subscribe: data.events must be an array of event types");
		return;
	}
	json_array_foreach(events, i, v) {
		if (!json_is_string(v) || subscription_bits(json_string_value(v), &bits) < 0) {
			send_error(c, "bad_request", ref, "subscribe: unknown event type \"%.64s\"",
				   json_is_string(v) ? json_string_value(v) : "(not a string)");
			return;
		}
	}
	if (feeds && !json_is_array(feeds)) {
		send_error(c, "bad_request", ref, "subscribe: data.feeds must be an array of feed names");
		return;
	}
	json_array_foreach(feeds, i, v) {
		int f = json_is_string(v) ? feed_index(ws, json_string_value(v)) : -1;

		if (f < 0) {
			send_error(c, "bad_request", ref, "subscribe: unknown feed \"%.40s\"",
				   json_is_string(v) ? json_string_value(v) : "(not a string)");
			return;
		}
		fmask |= 1u << f;
	}
	if (!fmask)
		fmask = ws->nfeeds >= 32 ? ~0u : (1u << ws->nfeeds) - 1;
	pthread_mutex_lock(&c->lock);
	c->events = bits;
	c->feeds = fmask;
	pthread_mutex_unlock(&c->lock);
}

static void on_set_rate(struct ws_client *c, json_t *data, json_t *ref)
{
	json_t *hz = json_object_get(data, "hz");
	json_int_t v = json_is_integer(hz) ? json_integer_value(hz) : 0;
	int64_t now = clock_mono_ns();

	if (v < WS_RATE_MIN_HZ || v > WS_RATE_MAX_HZ) {
		send_error(c, "bad_request", ref, "set_rate: hz must be an integer in [%d, %d]",
			   WS_RATE_MIN_HZ, WS_RATE_MAX_HZ);
		return;
	}
	pthread_mutex_lock(&c->lock);
	c->rate_hz = (unsigned)v;
	c->period_ns = NS_PER_S / v;
	if (c->next_tick_ns > now + c->period_ns)
		c->next_tick_ns = now + c->period_ns;
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_lock(&c->ws->lock);
	c->ws->wake = true;
	pthread_cond_signal(&c->ws->cond);
	pthread_mutex_unlock(&c->ws->lock);
}

static void on_snapshot(struct ws_client *c)
{
	struct ws *ws = c->ws;

	pthread_mutex_lock(&c->lock);
	c->snapshot_pending = true;
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_lock(&ws->lock);
	ws->wake = true;
	pthread_cond_signal(&ws->cond);
	pthread_mutex_unlock(&ws->lock);
}

/* One complete text message from the client. Returns the data handler's result. */
static int on_message(struct ws_client *c, const char *buf, size_t len)
{
	char msg[192];
	json_error_t jerr;
	json_t *root, *ver, *type, *ts, *data;
	const char *t;
	int ret = 1;

	if (!utf8_valid((const unsigned char *)buf, len))
		return fail(c, 1007, "invalid UTF-8", "bad_request", "message is not valid UTF-8",
			    NULL);
	if (!nesting_ok(buf, len, WS_MAX_DEPTH)) {
		snprintf(msg, sizeof msg, "invalid envelope: nested deeper than %d levels", WS_MAX_DEPTH);
		return fail(c, 1008, "invalid envelope", "bad_request", msg, NULL);
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		snprintf(msg, sizeof msg, "invalid envelope: %s", root ? "not a JSON object" : jerr.text);
		json_decref(root);
		return fail(c, 1008, "invalid envelope", "bad_request", msg, NULL);
	}
	ver = json_object_get(root, "schema_version");
	type = json_object_get(root, "type");
	ts = json_object_get(root, "t_ms");
	data = json_object_get(root, "data");
	if (json_is_integer(ver) && json_integer_value(ver) != WS_SCHEMA_VERSION) {
		char reason[WS_REASON_MAX + 1];

		snprintf(reason, sizeof reason, "schema_version mismatch: server=%d client=%lld",
			 WS_SCHEMA_VERSION, (long long)json_integer_value(ver));
		ret = fail(c, 4001, reason, "schema_mismatch", reason, ts);
		goto out;
	}
	if (!json_is_integer(ver) || !json_is_string(type) || !json_is_integer(ts) ||
	    !json_is_object(data)) {
		snprintf(msg, sizeof msg, "invalid envelope: %s",
			 !json_is_integer(ver) ? "schema_version must be an integer" :
			 !json_is_string(type) ? "type must be a string" :
			 !json_is_integer(ts) ? "t_ms must be an integer (Unix ms)" :
			 "data must be an object");
		ret = fail(c, 1008, "invalid envelope", "bad_request", msg, ts);
		goto out;
	}
	t = json_string_value(type);
	if (strcmp(t, "ping") == 0)
		reply(c, msg_json(WS_T_PONG, json_pack("{s:O}", "echo_t_ms", ts)));
	else if (strcmp(t, "subscribe") == 0)
		on_subscribe(c, data, ts);
	else if (strcmp(t, "set_rate") == 0)
		on_set_rate(c, data, ts);
	else if (strcmp(t, "request_snapshot") == 0)
		on_snapshot(c);
	else
		send_error(c, "unknown_type", ts, "unknown type \"%.64s\"", t);
out:
	json_decref(root);
	return ret;
}

static bool close_code_valid(int code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
	       (code >= 3000 && code <= 4999);
}

/* The peer's close: answer with its code (unless ours crossed it), then civetweb closes. */
static int on_peer_close(struct ws_client *c, const char *data, size_t len)
{
	int code = len >= 2 ? ((unsigned char)data[0] << 8) | (unsigned char)data[1] : 0;

	pthread_mutex_lock(&c->lock);
	c->peer_code = code ? code : 1005;
	if (len == 1 || (code && !close_code_valid(code)))
		code = 1002;
	if (c->state == CS_OPEN) {
		client_close(c, code, "", false);
		purge_events(c, WS_DROP_CLOSED);
	}
	pthread_mutex_unlock(&c->lock);
	wait_close_written(c);
	return 0;
}

static int on_text_frame(struct ws_client *c, int opcode, bool fin, const char *data, size_t len)
{
	if (opcode == MG_WEBSOCKET_OPCODE_TEXT && c->in_frag)
		return fail(c, 1002, "protocol error", "bad_request",
			    "new message before the fragmented one ended", NULL);
	if (opcode == MG_WEBSOCKET_OPCODE_CONTINUATION && !c->in_frag)
		return fail(c, 1002, "protocol error", "bad_request", "continuation without a message",
			    NULL);
	if ((c->in_frag ? c->frag_len : 0) + len > WS_MAX_MESSAGE) {
		char msg[128];

		snprintf(msg, sizeof msg, "message of more than %d bytes", WS_MAX_MESSAGE);
		return fail(c, 1009, "message too big", "bad_request", msg, NULL);
	}
	if (fin && !c->in_frag)
		return on_message(c, data, len);
	if (!c->frag && !(c->frag = malloc(WS_MAX_MESSAGE)))
		return fail(c, 1011, "internal error", "internal", "out of memory", NULL);
	if (!c->in_frag) {
		c->in_frag = true;
		c->frag_len = 0;
	}
	memcpy(c->frag + c->frag_len, data, len);
	c->frag_len += len;
	if (!fin)
		return 1;
	c->in_frag = false;
	return on_message(c, c->frag, c->frag_len);
}

static int on_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cbdata)
{
	struct ws_client *c = mg_get_user_connection_data(conn);
	int opcode = bits & 0x0f;
	bool fin = (bits & 0x80) != 0;
	enum client_state st;

	(void)cbdata;
	if (!c)
		return 0;
	pthread_mutex_lock(&c->lock);
	c->last_rx_ns = clock_mono_ns();
	st = c->state;
	pthread_mutex_unlock(&c->lock);

	if (opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
		return on_peer_close(c, data, len);
	if (st != CS_OPEN)
		return 1;              /* closing: the rest is discarded (RFC 6455 §5.5.1) */
	if (bits & 0x70)
		return fail(c, 1002, "protocol error", "bad_request", "reserved bits set", NULL);
	switch (opcode) {
	case MG_WEBSOCKET_OPCODE_PING:
		reply(c, msg_control(WS_T_CTL_PONG, MG_WEBSOCKET_OPCODE_PONG, data,
				     len > 125 ? 125 : len));
		return 1;
	case MG_WEBSOCKET_OPCODE_PONG:
		return 1;
	case MG_WEBSOCKET_OPCODE_BINARY:
		return fail(c, 1003, "binary frames are not accepted", "bad_request",
			    "binary frames are not accepted: send JSON text", NULL);
	case MG_WEBSOCKET_OPCODE_TEXT:
	case MG_WEBSOCKET_OPCODE_CONTINUATION:
		return on_text_frame(c, opcode, fin, data, len);
	default:
		return fail(c, 1002, "protocol error", "bad_request", "unknown opcode", NULL);
	}
}

static void on_close(const struct mg_connection *conn, void *cbdata)
{
	struct ws *ws = cbdata;
	struct ws_client *c = mg_get_user_connection_data(conn), **p;

	if (!c)
		return;
	pthread_mutex_lock(&ws->lock);
	for (p = &ws->clients; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			ws->nlisted--;
			if (!c->refused)
				ws->nclients--;
			break;
		}
	}
	pthread_cond_broadcast(&ws->gone);
	pthread_mutex_unlock(&ws->lock);

	pthread_mutex_lock(&c->lock);
	if (c->writing)
		client_shutdown(c);    /* unblock a write stuck on a full socket */
	c->state = CS_DEAD;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	if (c->sender_started)
		pthread_join(c->sender, NULL);

	if (!c->refused)
		log_info("msg=\"ws client closed\" client_id=%llu peer=%s close_code=%d reason=\"%s\" "
			 "peer_close_code=%d", (unsigned long long)c->id, c->peer, c->close_code,
			 c->close_reason, c->peer_code);
	mg_set_user_connection_data(conn, NULL);
	client_free(c);
}

/* ---- fan-out (ws->lock held) ---- */

static void fanout(struct ws *ws, struct ws_msg *m, int feed)
{
	for (struct ws_client *c = ws->clients; c; c = c->next) {
		pthread_mutex_lock(&c->lock);
		if ((c->events & BIT(m->type)) && (feed < 0 || (c->feeds & (1u << feed))))
			enqueue_event(c, m);
		pthread_mutex_unlock(&c->lock);
	}
}

/* ---- the pacer: feeds, game sessions, telemetry, deadlines ---- */

static void feed_attach(struct ws *ws, struct ws_feed *f, int64_t now)
{
	int rc = seg_follow(&f->seg, &f->next_attach_ns, ws->instance, f->name, now, WS_ATTACH_RETRY_NS);

	if (rc < 0) {
		if (rc != -ENOENT && !f->attach_warned)
			log_warn("msg=\"ws: cannot attach feed segment\" feed=%s error=\"%s\"", f->name,
				 strerror(-rc));
		f->attach_warned = rc != -ENOENT;
		return;
	}
	if (rc == SEG_FOLLOW_SAME)
		return;
	f->attach_warned = false;
	f->json_valid = false;
}

static void session_json_common(json_t *o, const struct ws_feed *f)
{
	char id[64], gs[24];

	session_id(f, id, sizeof id);
	snprintf(gs, sizeof gs, "%llu", (unsigned long long)f->game_session);
	json_object_set_new(o, "feed", json_string(f->name));
	json_object_set_new(o, "game", json_string(frame_game_name(f->latest.game)));
	json_object_set_new(o, "session_id", json_string(id));
	json_object_set_new(o, "game_session", json_string(gs));
}

static void session_start(struct ws *ws, struct ws_feed *f, int idx)
{
	json_t *o = json_object();
	struct ws_msg *m;

	f->in_session = true;
	f->game_session = f->latest.game_session;
	f->session_start_ns = clock_now_ns();
	f->lap_known = false;
	session_json_common(o, f);
	json_object_set_new(o, "car", json_string(f->meta.car));
	json_object_set_new(o, "car_class", json_string(f->meta.car_class));
	json_object_set_new(o, "track", json_string(f->meta.track));
	json_object_set_new(o, "layout", json_string(f->meta.layout));
	json_object_set_new(o, "driver", json_string(f->meta.driver));
	json_object_set_new(o, "session_type", json_string(f->meta.session_type));
	json_object_set_new(o, "started_at_ms", json_integer(f->session_start_ns / NS_PER_MS));
	log_info("msg=\"game session started\" feed=%s game_session=%llu", f->name,
		 (unsigned long long)f->game_session);
	m = msg_json(WS_T_SESSION_STARTED, o);
	if (m)
		fanout(ws, m, idx);
	msg_unref(m);
}

static void session_end(struct ws *ws, struct ws_feed *f, int idx, const char *reason)
{
	json_t *o = json_object();
	struct ws_msg *m;

	session_json_common(o, f);
	json_object_set_new(o, "duration_s",
			    json_real((double)(clock_now_ns() - f->session_start_ns) / 1e9));
	json_object_set_new(o, "lap_count", f->lap_known ?
			    json_integer((json_int_t)(f->lap_last - f->lap_first)) : json_null());
	json_object_set_new(o, "reason", json_string(reason));
	log_info("msg=\"game session ended\" feed=%s game_session=%llu reason=%s", f->name,
		 (unsigned long long)f->game_session, reason);
	f->in_session = false;
	m = msg_json(WS_T_SESSION_ENDED, o);
	if (m)
		fanout(ws, m, idx);
	msg_unref(m);
}

/*
 * The game's session on a feed: it starts when the feed is up (a packet in
 * the last SEG_UP_MS) with frames, changes when a frame's game_session does
 * (ended "session_changed", then a new one starts) and ends when the feed has
 * not been up for session_gap (reason "feed_stale" or "feed_down").
 */
static void feed_poll(struct ws *ws, struct ws_feed *f, int idx, int64_t now, int64_t real_ns)
{
	f->status = f->seg ? seg_status(f->seg, real_ns) : SEG_DOWN;
	if (f->seg) {
		if (seg_read_latest(f->seg, &f->latest))
			f->have_latest = true;
		seg_meta_read(f->seg, &f->meta);
	}
	f->live = f->status == SEG_UP && f->have_latest;
	if (f->live) {
		ws->live_mask |= 1u << idx;
		if (f->in_session && f->latest.game_session != f->game_session)
			session_end(ws, f, idx, "session_changed");
		if (!f->in_session)
			session_start(ws, f, idx);
		f->last_up_ns = now;
		if (f->latest.present & FRAME_P_LAP) {
			if (!f->lap_known)
				f->lap_first = f->latest.lap;
			f->lap_known = true;
			f->lap_last = f->latest.lap;
		}
	} else {
		ws->live_mask &= ~(1u << idx);
		if (f->in_session && now - f->last_up_ns >= ws->session_gap_ns)
			session_end(ws, f, idx, f->status == SEG_DOWN ? "feed_down" : "feed_stale");
	}
}

/* Idle, ping, slow-consumer and close deadlines of every client. */
static void housekeeping(struct ws *ws, int64_t now)
{
	for (struct ws_client *c = ws->clients; c; c = c->next) {
		pthread_mutex_lock(&c->lock);
		if (c->state == CS_OPEN) {
			if (ws->idle_ns && now - c->last_rx_ns >= ws->idle_ns) {
				log_info("msg=\"ws idle timeout\" client_id=%llu peer=%s",
					 (unsigned long long)c->id, c->peer);
				client_close(c, 1011, "idle timeout", false);
			} else if (c->eq_len && now - c->eq[c->eq_head].enq_ns >= WS_SLOW_MS * NS_PER_MS) {
				slow_consumer(c);
			} else if (now - c->last_ping_ns >= ws->ping_ns) {
				struct ws_msg *m = msg_control(WS_T_CTL_PING, MG_WEBSOCKET_OPCODE_PING,
							       "pitwall", 7);

				enqueue_event(c, m);
				msg_unref(m);
				c->last_ping_ns = now;
			}
		}
		if ((c->state == CS_CLOSING || c->state == CS_CLOSE_SENT) &&
		    now >= c->close_deadline_ns)
			client_shutdown(c);
		pthread_mutex_unlock(&c->lock);
	}
}

/* The newest frame of feed f as JSON (cached by sequence); NULL when none. */
static const char *frame_json(struct ws_feed *f, size_t *len)
{
	if (f->seg && seg_read_latest(f->seg, &f->latest))
		f->have_latest = true;
	if (!f->have_latest)
		return NULL;
	if (!f->json_valid || f->json_seq != f->latest.seq) {
		size_t n;

		if (!f->json && !(f->json = malloc(WS_FRAME_JSON_MAX)))
			return NULL;
		n = frame_to_json(&f->latest, f->json, WS_FRAME_JSON_MAX);
		if (n >= WS_FRAME_JSON_MAX)
			return NULL;
		f->json_len = n;
		f->json_seq = f->latest.seq;
		f->json_valid = true;
	}
	*len = f->json_len;
	return f->json;
}

/* telemetry: data {"snapshot":bool,"frames":{"<feed>":<frame>,...}} for the feeds in mask. */
static struct ws_msg *telemetry_msg(struct ws *ws, uint32_t mask, bool snapshot)
{
	size_t cap = 64, n;
	char *data, *p;
	struct ws_msg *m;

	for (int i = 0; i < ws->nfeeds; i++)
		if (mask & (1u << i))
			cap += WS_FRAME_JSON_MAX + sizeof ws->feeds[i].name + 8;
	if (!(data = malloc(cap)))
		return NULL;
	p = data + sprintf(data, "{\"snapshot\":%s,\"frames\":{", snapshot ? "true" : "false");
	n = 0;
	for (int i = 0; i < ws->nfeeds; i++) {
		const char *js;
		size_t jl;

		if (!(mask & (1u << i)) || !(js = frame_json(&ws->feeds[i], &jl)))
			continue;
		p += sprintf(p, "%s\"%s\":", n++ ? "," : "", ws->feeds[i].name);
		memcpy(p, js, jl);
		p += jl;
	}
	p += sprintf(p, "}}");
	m = msg_envelope(WS_T_TELEMETRY, data, (size_t)(p - data));
	free(data);
	return m;
}

#define WS_PASS_CACHE 8

/* One message per distinct feed mask in a pass, shared by the clients that want it. */
struct pass_cache {
	uint32_t mask[WS_PASS_CACHE];
	bool snapshot[WS_PASS_CACHE];
	struct ws_msg *msg[WS_PASS_CACHE];
	int n;
};

static struct ws_msg *cached_telemetry(struct ws *ws, struct pass_cache *pc, uint32_t mask,
				       bool snapshot)
{
	struct ws_msg *m;

	for (int i = 0; i < pc->n; i++)
		if (pc->mask[i] == mask && pc->snapshot[i] == snapshot)
			return msg_ref(pc->msg[i]);
	if (!(m = telemetry_msg(ws, mask, snapshot)))
		return NULL;
	if (pc->n < WS_PASS_CACHE) {
		pc->mask[pc->n] = mask;
		pc->snapshot[pc->n] = snapshot;
		pc->msg[pc->n++] = msg_ref(m);
	}
	return m;
}

/* Telemetry for the clients that are due and snapshots asked for; *next = earliest tick. */
static void telemetry_pass(struct ws *ws, int64_t now, int64_t *next)
{
	struct pass_cache pc = { .n = 0 };
	uint32_t have = 0;

	for (int i = 0; i < ws->nfeeds; i++)
		if (ws->feeds[i].seg || ws->feeds[i].have_latest)
			have |= 1u << i;
	for (struct ws_client *c = ws->clients; c; c = c->next) {
		struct ws_msg *m;

		pthread_mutex_lock(&c->lock);
		if (c->state != CS_OPEN) {
			pthread_mutex_unlock(&c->lock);
			continue;
		}
		if (c->snapshot_pending) {
			c->snapshot_pending = false;
			m = cached_telemetry(ws, &pc, c->feeds & have, true);
			enqueue_event(c, m);
			msg_unref(m);
		}
		if (c->events & BIT(WS_T_TELEMETRY)) {
			/* half a millisecond early is on time: the wake-up itself is late by that much */
			if (c->next_tick_ns - now <= NS_PER_MS / 2) {
				uint32_t live = c->feeds & ws->live_mask;

				c->next_tick_ns += c->period_ns;
				if (c->next_tick_ns <= now)
					c->next_tick_ns = now + c->period_ns;
				if (live) {
					m = cached_telemetry(ws, &pc, live, false);
					enqueue_telemetry(c, m);
					msg_unref(m);
				}
			}
			if (c->next_tick_ns < *next)
				*next = c->next_tick_ns;
		}
		pthread_mutex_unlock(&c->lock);
	}
	for (int i = 0; i < pc.n; i++)
		msg_unref(pc.msg[i]);
}

static void *pacer_main(void *arg)
{
	struct ws *ws = arg;
	int64_t next_poll = 0;

	pthread_mutex_lock(&ws->lock);
	while (!ws->quit) {
		int64_t now = clock_mono_ns(), next;
		struct timespec ts;

		ws->wake = false;
		if (now >= next_poll) {
			int64_t real = clock_now_ns();

			pthread_mutex_unlock(&ws->lock);
			for (int i = 0; i < ws->nfeeds; i++)
				feed_attach(ws, &ws->feeds[i], now);
			pthread_mutex_lock(&ws->lock);
			for (int i = 0; i < ws->nfeeds; i++)
				feed_poll(ws, &ws->feeds[i], i, now, real);
			housekeeping(ws, now);
			next_poll = now + WS_POLL_NS;
		}
		next = next_poll;
		telemetry_pass(ws, now, &next);
		if (ws->wake || ws->quit)
			continue;
		deadline_ts(&ts, next);
		pthread_cond_timedwait(&ws->cond, &ws->lock, &ts);
	}
	pthread_mutex_unlock(&ws->lock);
	return NULL;
}

/* ---- the bus ---- */

static enum ws_type bus_type(const char *topic)
{
	for (int t = 0; t < WS_T_COUNT; t++)
		if (strchr(types[t].name, '.') && strcmp(types[t].name, topic) == 0)
			return (enum ws_type)t;
	return WS_T_COUNT;
}

/* lap.<feed> -> lap_completed / lap_invalidated, the seed's fields first and the
 * store's lap object under "lap". NULL for other lap events. */
static struct ws_msg *lap_msg(json_t *payload, const char *feed, enum ws_type *type)
{
	const char *ev = json_string_value(json_object_get(payload, "event"));
	json_t *lap = json_object_get(payload, "lap"), *o, *reasons;
	const char *why = json_string_value(json_object_get(lap, "invalid_reason"));
	json_t *time_ms = json_object_get(lap, "time_ms");
	bool valid = json_is_true(json_object_get(lap, "valid"));
	const char *validity;

	if (!ev || !json_is_object(lap))
		return NULL;
	if (strcmp(ev, "lap_completed") == 0)
		*type = WS_T_LAP_COMPLETED;
	else if (strcmp(ev, "lap_invalidated") == 0)
		*type = WS_T_LAP_INVALIDATED;
	else
		return NULL;
	validity = valid ? "valid" : !why ? "dirty" : strcmp(why, "pit") == 0 ? "pit" :
		   strcmp(why, "reset") == 0 ? "reset" : "dirty";
	reasons = json_array();
	if (!valid && why)
		json_array_append_new(reasons, json_string(why));
	o = json_pack("{s:s, s:O, s:o, s:O, s:b, s:s, s:o, s:O}", "feed", feed, "lap_number",
		      json_object_get(lap, "number") ? json_object_get(lap, "number") : json_null(),
		      "lap_time_s", json_is_integer(time_ms) ?
		      json_real((double)json_integer_value(time_ms) / 1000.0) : json_null(),
		      "lap_time_ms", time_ms ? time_ms : json_null(),
		      "is_personal_best", json_is_true(json_object_get(lap, "personal_best")),
		      "validity", validity, "invalid_reasons", reasons, "lap", lap);
	return msg_json(*type, o);
}

static void bus_handle(struct ws *ws, const char *topic, const char *body, size_t len)
{
	enum ws_type type = WS_T_COUNT;
	struct ws_msg *m = NULL;
	int feed = -1;
	json_t *payload;
	json_error_t jerr;

	stat_add(&ws->bus_messages, 1);
	if (len > WS_MAX_EVENT_DATA) {
		if ((type = bus_type(topic)) == WS_T_COUNT)
			goto ignored;
		m = msg_json(type, json_pack("{s:s, s:b, s:I}", "topic", topic, "truncated", 1,
					     "bytes", (json_int_t)len));
		goto send;
	}
	payload = json_loadb(body, len, 0, &jerr);
	if (!json_is_object(payload)) {
		json_decref(payload);
		log_debug("msg=\"ws: bus payload is not a JSON object\" topic=%s", topic);
		goto ignored;
	}
	if (strncmp(topic, "lap.", 4) == 0) {
		feed = feed_index(ws, topic + 4);
		m = lap_msg(payload, topic + 4, &type);
	} else if (strncmp(topic, "feed.", 5) == 0) {
		type = WS_T_FEED_STATUS;
		feed = feed_index(ws, topic + 5);
		m = msg_envelope(type, body, len);
	} else if ((type = bus_type(topic)) != WS_T_COUNT) {
		m = msg_envelope(type, body, len);
	}
	json_decref(payload);
	if (!m)
		goto ignored;
send:
	pthread_mutex_lock(&ws->lock);
	fanout(ws, m, feed);
	pthread_mutex_unlock(&ws->lock);
	msg_unref(m);
	return;
ignored:
	stat_add(&ws->bus_ignored, 1);
}

static void *bus_main(void *arg)
{
	struct ws *ws = arg;
	void *sub = zmq_socket(ws->zctx, ZMQ_SUB);
	int timeout_ms = 100, linger = 0;
	char topic[256];

	if (!sub || zmq_connect(sub, ws->bus) < 0) {
		log_error("msg=\"ws: cannot connect to the bus\" bus=%s error=\"%s\"", ws->bus,
			  zmq_strerror(zmq_errno()));
		if (sub)
			zmq_close(sub);
		return NULL;
	}
	zmq_setsockopt(sub, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
	zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
	for (size_t i = 0; i < sizeof bus_prefixes / sizeof bus_prefixes[0]; i++)
		zmq_setsockopt(sub, ZMQ_SUBSCRIBE, bus_prefixes[i], strlen(bus_prefixes[i]));
	while (!atomic_load(&ws->bus_quit)) {
		zmq_msg_t body;
		int more = 0, n;
		size_t ml = sizeof more;

		n = zmq_recv(sub, topic, sizeof topic - 1, 0);
		if (n < 0)
			continue;      /* timeout or interrupted: check bus_quit */
		topic[n < (int)sizeof topic ? n : (int)sizeof topic - 1] = 0;
		zmq_getsockopt(sub, ZMQ_RCVMORE, &more, &ml);
		if (!more)
			continue;
		zmq_msg_init(&body);
		if (zmq_msg_recv(&body, sub, 0) >= 0)
			bus_handle(ws, topic, zmq_msg_data(&body), zmq_msg_size(&body));
		zmq_msg_close(&body);
		/* drop any further parts of a malformed message */
		while (zmq_getsockopt(sub, ZMQ_RCVMORE, &more, &ml) == 0 && more) {
			zmq_msg_init(&body);
			zmq_msg_recv(&body, sub, 0);
			zmq_msg_close(&body);
		}
	}
	zmq_close(sub);
	return NULL;
}

/* ---- lifecycle ---- */

static struct mg_websocket_subprotocols subprotocols = {
	1, (const char *[]){ WS_SUBPROTOCOL },
};

static void ws_free(struct ws *ws)
{
	for (int i = 0; i < ws->nfeeds; i++) {
		seg_close(ws->feeds[i].seg);
		free(ws->feeds[i].json);
	}
	if (ws->zctx)
		zmq_ctx_term(ws->zctx);
	pthread_cond_destroy(&ws->gone);
	pthread_cond_destroy(&ws->cond);
	pthread_mutex_destroy(&ws->lock);
	free(ws);
}

static void stop_threads(struct ws *ws)
{
	pthread_mutex_lock(&ws->lock);
	ws->quit = true;
	pthread_cond_broadcast(&ws->cond);
	pthread_mutex_unlock(&ws->lock);
	atomic_store(&ws->bus_quit, true);
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
	long threads = nt && *nt ? atol(nt) : 0, spare = threads / 4 > 4 ? threads / 4 : 4;

	if (threads > 0 && limit > threads - spare) {
		long clamped = threads - spare > 0 ? threads - spare : 0;

		log_warn("msg=\"ws: client limit lowered to fit civetweb's worker threads\" "
			 "max_clients=%ld wanted=%ld num_threads=%ld", clamped, limit, threads);
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
	pthread_mutex_init(&ws->lock, NULL);
	cond_init_mono(&ws->cond);
	cond_init_mono(&ws->gone);
	for (int i = 0; i < cfg->nfeeds && i < CONFIG_MAX_FEEDS; i++) {
		struct ws_feed *f = &ws->feeds[ws->nfeeds++];

		snprintf(f->name, sizeof f->name, "%s", cfg->feeds[i].name);
		f->status = SEG_DOWN;
	}
	if (!(ws->zctx = zmq_ctx_new())) {
		log_error("msg=\"ws: cannot create a ZeroMQ context\"");
		goto fail;
	}
	ws->pacer_started = pthread_create(&ws->pacer, NULL, pacer_main, ws) == 0;
	ws->bus_started = pthread_create(&ws->bus_thread, NULL, bus_main, ws) == 0;
	if (!ws->pacer_started || !ws->bus_started) {
		log_error("msg=\"ws: cannot start threads\"");
		stop_threads(ws);
		goto fail;
	}
	mg_set_websocket_handler_with_subprotocols(ctx, WS_PATH, &subprotocols, on_connect, on_ready,
						   on_data, on_close, ws);
	log_info("msg=\"ws stream ready\" path=%s bus=%s feeds=%d idle_ms=%ld ping_ms=%lld "
		 "max_clients=%u session_gap_ms=%lld", WS_PATH, ws->bus, ws->nfeeds, idle_ms,
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
	mg_set_websocket_handler(ws->ctx, WS_PATH, NULL, NULL, NULL, NULL, NULL);
	pthread_mutex_lock(&ws->lock);
	ws->stopping = true;
	for (struct ws_client *c = ws->clients; c; c = c->next) {
		pthread_mutex_lock(&c->lock);
		client_close(c, 1001, "server shutting down", false);
		pthread_mutex_unlock(&c->lock);
	}
	/* The pacer keeps running: it cuts the clients that do not answer in time. */
	deadline_ts(&ts, clock_mono_ns() + WS_STOP_WAIT_NS);
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

const char *ws_type_name(unsigned type)
{
	return type < WS_T_COUNT ? types[type].name : "unknown";
}

const char *ws_drop_name(unsigned reason)
{
	return reason < WS_DROP_COUNT ? drop_names[reason] : "unknown";
}
