/*
 * ws_conn.c - a WebSocket connection's lifecycle (ws_int.h): civetweb's
 * callbacks from the upgrade request to the close, on the connection's
 * worker thread.
 *
 *   connect  before the handshake: refused (a complete HTTP response) while
 *            stopping or without the token when one is configured
 *   ready    the client is created and listed, its socket found and bounded,
 *            hello queued and its sender started; over the client limit it
 *            gets the handshake and then close 1013
 *   data     frames: control frames, fragments reassembled up to
 *            WS_MAX_MESSAGE, each complete message judged by ws_parse and
 *            acted on; an offence queues an error envelope, then the close
 *   close    unlisted, its sender stopped and joined, freed
 *
 * civetweb 1.15 has no call to abort a WebSocket from another thread, nor
 * to write without blocking. The ready handler therefore finds the
 * connection's socket by its address 4-tuple (getsockname/getpeername over
 * /proc/self/fd, unique among live TCP sockets) to bound its send buffer,
 * so that the sender can check the room left in it before each write and
 * the pacer can shutdown() it when a client must be cut.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "api/api.h"
#include "api/ws_int.h"
#include "common/log.h"

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
			 "client_id=%llu peer=%s",
			 (unsigned long long)c->id, c->peer);
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
	ws_cond_init_mono(&c->cond);
	for (int t = 0; t < WS_T_COUNT; t++)
		if (ws_types[t].subscribable)
			c->events |= BIT(t);
	c->feeds = ws_all_feeds(ws->nfeeds);
	c->seed_feed = -1;
	c->manifest = -1;
	c->rate_hz = WS_RATE_DEFAULT_HZ;
	c->period_ns = NS_PER_S / WS_RATE_DEFAULT_HZ;
	c->next_tick_ns = now;
	c->last_rx_ns = now;
	c->last_ping_ns = now;
	return c;
}

static void client_free(struct ws_client *c)
{
	ws_purge_events(c, WS_DROP_CLOSED);
	ws_purge_telemetry(c, WS_DROP_CLOSED);
	ws_msg_unref(c->close_msg);
	free(c->frag);
	free(c->stamped);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* hello: versions, feeds, the event types a client may subscribe to, limits. */
static struct ws_msg *hello_msg(struct ws *ws, const struct ws_client *c)
{
	json_t *feeds = json_array(), *events = json_array(), *data;

	for (int i = 0; i < ws->nfeeds; i++) {
		const struct ws_feed *f = &ws->feeds[i];
		char id[64];

		ws_session_id(f, id, sizeof id);
		json_array_append_new(
			feeds,
			json_pack("{s:s, s:s, s:s, s:o}", "name", f->name, "status",
				  seg_status_name(f->status), "game",
				  f->have_latest ? frame_game_name(f->latest.game) : "",
				  "session_id", f->in_session ? json_string(id) : json_null()));
	}
	for (int t = 0; t < WS_T_COUNT; t++)
		if (ws_types[t].subscribable)
			json_array_append_new(events, json_string(ws_types[t].name));
	data = json_pack("{s:s, s:s, s:s, s:i, s:I, s:o, s:o, "
			 "s:{s:i, s:i, s:i, s:i, s:I, s:I, s:i, s:i, s:i, s:i}}",
			 "server", "pitwall", "server_version", PW_VERSION, "api_version",
			 API_VERSION, "schema_version", WS_SCHEMA_VERSION, "client_id",
			 (json_int_t)c->id, "feeds", feeds, "events", events, "limits",
			 "max_message_bytes", WS_MAX_MESSAGE, "rate_hz_min", WS_RATE_MIN_HZ,
			 "rate_hz_max", WS_RATE_MAX_HZ, "rate_hz_default", WS_RATE_DEFAULT_HZ,
			 "idle_timeout_ms", (json_int_t)(ws->idle_ns / NS_PER_MS),
			 "ping_interval_ms", (json_int_t)(ws->ping_ns / NS_PER_MS),
			 "slow_consumer_ms", WS_SLOW_MS, "event_queue", WS_EVENT_QUEUE,
			 "telemetry_queue", WS_TELEM_QUEUE, "max_clients", (int)ws->max_clients);
	/* a client with ?manifest=: the derived channels each telemetry frame carries */
	if (data && c->manifest >= 0)
		json_object_set_new(data, "manifest", manifest_json(ws->manifests[c->manifest].m));
	return ws_msg_json(WS_T_HELLO, data);
}

/* ---- before the handshake ---- */

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

/* A client at WS_SEED_PATH? */
static bool seed_path(const struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);

	return ri && ri->local_uri && strcmp(ri->local_uri, WS_SEED_PATH) == 0;
}

/* The feed a seed-004 client names with ?feed=: its index, -1 when it names
 * none, -2 when it names one this stack does not have. */
static int seed_feed_param(const struct ws *ws, const struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *q = ri ? ri->query_string : NULL;
	char name[64];
	int i;

	if (!q || mg_get_var(q, strlen(q), "feed", name, sizeof name) < 0)
		return -1;
	i = ws_name_index(ws->feed_names, ws->nfeeds, name);
	return i >= 0 ? i : -2;
}

/* The ?manifest= a client of WS_PATH names into name[cap]: 1, or 0 when none. */
static int manifest_param(const struct mg_connection *conn, char *name, size_t cap)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *q = ri ? ri->query_string : NULL;

	return q && mg_get_var(q, strlen(q), "manifest", name, cap) != -1;
}

/* The manifest name names, compiled (the caller frees it): NULL with the
 * refusal's status, code and message. */
static struct manifest *fetch_manifest(struct ws *ws, const char *name, int *status, char *code,
				       char *message, size_t cap)
{
	ws_manifest_fetch_fn *fetch;
	struct manifest *m = NULL;
	void *ctx;

	pthread_mutex_lock(&ws->lock);
	fetch = ws->fetch;
	ctx = ws->fetch_ctx;
	pthread_mutex_unlock(&ws->lock);
	if (!fetch) {
		*status = 400;
		snprintf(code, 64, "bad_request");
		snprintf(message, cap, "manifest: this stream has no manifests");
		return NULL;
	}
	if (fetch(ctx, name, &m, status, code, message, cap) < 0)
		return NULL;
	return m;
}

int ws_on_connect(const struct mg_connection *conn, void *cbdata)
{
	struct ws *ws = cbdata;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	bool stopping;

	pthread_mutex_lock(&ws->lock);
	stopping = ws->stopping;
	pthread_mutex_unlock(&ws->lock);
	if (stopping)
		return http_refuse_upgrade(conn, 503, "unavailable", "server shutting down");
	if (!authorized(ws, conn))
		return http_refuse_upgrade(conn, 401, "unauthorized",
					   "this stream needs "
					   "Authorization: Bearer <token> or ?token=<token>");
	if (ws->seed_port && ri && ri->server_port == (int)ws->seed_port && !seed_path(conn))
		return http_refuse_upgrade(conn, 404, "not_found",
					   "this port serves only the stream at " WS_SEED_PATH);
	if (seed_path(conn) && seed_feed_param(ws, conn) == -2)
		return http_refuse_upgrade(conn, 400, "bad_request",
					   "feed: this stack has no such feed (see /api/feeds)");
	if (!seed_path(conn)) {
		char name[IDS_NAME_MAX + 2] = "", code[64], message[WS_ERROR_MAX];
		struct manifest *m;
		int status;

		if (!manifest_param(conn, name, sizeof name))
			return 0;
		if (!(m = fetch_manifest(ws, name, &status, code, message, sizeof message)))
			return http_refuse_upgrade(conn, status, code, message);
		manifest_free(m); /* known good: the ready handler fetches it again */
	}
	return 0;
}

/* ---- after the handshake ---- */

static void check_subprotocol(struct ws_client *c, const struct mg_connection *conn);

/* Over the limit (or stopping): handshake done, then straight to 1013 (1001)
 * written here, this thread owns the fresh socket. The pacer cuts it if the
 * peer never answers. */
static void refuse(struct ws_client *c, bool stopping)
{
	const char *reason = stopping ? "server shutting down" : "too many clients";
	int code = stopping ? 1001 : 1013;
	struct ws_msg *m = ws_msg_close(code, reason);

	ws_stat_add(&c->ws->refused, 1);
	log_warn("msg=\"ws client refused\" peer=%s reason=\"%s\" max=%u", c->peer, reason,
		 c->ws->max_clients);
	if (m && mg_websocket_write(c->conn, m->opcode, m->text, m->len) > 0)
		ws_stat_add(&c->ws->sent[WS_T_CTL_CLOSE], 1);
	ws_msg_unref(m);
	pthread_mutex_lock(&c->lock);
	c->close_code = code;
	snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
	c->state = CS_CLOSE_SENT;
	c->close_deadline_ns = clock_mono_ns() + WS_CLOSE_GRACE_NS;
	c->sender_done = true;
	pthread_mutex_unlock(&c->lock);
}

void ws_on_ready(struct mg_connection *conn, void *cbdata)
{
	struct ws *ws = cbdata;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct ws_client *c = client_new(ws, conn);
	char mname[IDS_NAME_MAX + 2] = "", mcode[64], mmessage[WS_ERROR_MAX] = "";
	struct manifest *man = NULL;
	int mstatus = 0;
	bool manifest_lost = false;
	pthread_attr_t attr;
	struct ws_msg *hello;
	bool stopping;

	if (!c) {
		log_error("msg=\"ws: out of memory for a client\"");
		return;
	}
	mg_set_user_connection_data(conn, c);
	socket_setup(c);
	if (!seed_path(conn) && manifest_param(conn, mname, sizeof mname))
		man = fetch_manifest(ws, mname, &mstatus, mcode, mmessage, sizeof mmessage);
	if ((c->seed = seed_path(conn))) {
		c->seed_feed = seed_feed_param(ws, conn);
		c->seed_fixed = c->seed_feed >= 0;
		c->seed_feed = c->seed_fixed ? c->seed_feed : -1;
		c->feeds = c->seed_fixed ? 1u << c->seed_feed : 0;
		c->events = BIT(WS_T_TELEMETRY) | BIT(WS_T_LAP_COMPLETED) |
			    BIT(WS_T_SESSION_STARTED) | BIT(WS_T_SESSION_ENDED);
	}

	pthread_mutex_lock(&ws->lock);
	c->id = ++ws->next_id;
	stopping = ws->stopping;
	c->refused = stopping || ws->nclients >= ws->max_clients;
	if (!c->refused && man) {
		c->manifest = ws_manifest_acquire(ws, man); /* takes man */
		manifest_lost = c->manifest < 0;
	} else if (!c->refused && mname[0]) {
		manifest_lost = true; /* deleted since the handshake began */
	} else {
		manifest_free(man);
	}
	if (!c->refused) {
		ws->nclients++;
		hello = c->seed ? ws_seed_hello(ws, c) : hello_msg(ws, c);
		pthread_mutex_lock(&c->lock);
		/* first: nothing can be queued before it is listed */
		ws_enqueue_event(c, hello);
		pthread_mutex_unlock(&c->lock);
		ws_msg_unref(hello);
	}
	c->next = ws->clients;
	ws->clients = c;
	ws->nlisted++;
	ws_pacer_wake(ws); /* first telemetry now, then every period from here */
	pthread_mutex_unlock(&ws->lock);

	if (c->refused) {
		refuse(c, stopping);
		return;
	}
	ws_stat_add(&ws->accepted, 1);
	log_info("msg=\"ws client connected\" client_id=%llu peer=%s subprotocol=%s",
		 (unsigned long long)c->id, c->peer,
		 ri && ri->acceptedWebSocketSubprotocol ? ri->acceptedWebSocketSubprotocol : "-");

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WS_SENDER_STACK);
	c->sender_started = pthread_create(&c->sender, &attr, ws_sender_main, c) == 0;
	pthread_attr_destroy(&attr);
	if (c->sender_started && c->seed)
		check_subprotocol(c, conn);
	if (c->sender_started && manifest_lost) {
		/* between the handshake and now the manifest went, or every slot is taken */
		struct ws_msg *err = ws_msg_error(
			mmessage[0] ? mcode : "bad_request",
			mmessage[0]
				? mmessage
				: "manifest: at most 4 different manifests are streamed at once",
			0, false);

		pthread_mutex_lock(&c->lock);
		ws_enqueue_event(c, err);
		ws_client_close(c, 1008, "manifest unavailable", false);
		pthread_mutex_unlock(&c->lock);
		ws_msg_unref(err);
	}
	if (!c->sender_started) {
		struct ws_msg *m = ws_msg_close(1011, "internal error");

		log_error("msg=\"ws: cannot start a sender thread\" client_id=%llu",
			  (unsigned long long)c->id);
		if (m)
			mg_websocket_write(conn, m->opcode, m->text, m->len);
		ws_msg_unref(m);
		pthread_mutex_lock(&c->lock);
		c->state = CS_CLOSE_SENT;
		c->close_code = 1011;
		c->close_deadline_ns = clock_mono_ns() + WS_CLOSE_GRACE_NS;
		c->sender_done = true;
		pthread_mutex_unlock(&c->lock);
	}
}

/*
 * A seed-004 client that offered subprotocols, none of them WS_SEED_SUBPROTOCOL
 * (civetweb then completes the handshake without one): an error says why,
 * then close 4002, as the contract has it.
 */
static void check_subprotocol(struct ws_client *c, const struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *offered = mg_get_header(conn, "Sec-WebSocket-Protocol");
	char message[WS_ERROR_MAX];
	struct ws_msg *err;

	if (!offered || (ri && ri->acceptedWebSocketSubprotocol))
		return;
	snprintf(message, sizeof message,
		 "unsupported subprotocol \"%.120s\": this endpoint speaks " WS_SEED_SUBPROTOCOL
		 " (or none)",
		 offered);
	log_info("msg=\"ws client offence\" client_id=%llu peer=%s close_code=4002 error=\"%s\"",
		 (unsigned long long)c->id, c->peer, message);
	err = ws_msg_error("bad_request", message, 0, false);
	pthread_mutex_lock(&c->lock);
	ws_enqueue_event(c, err);
	ws_client_close(c, 4002, "unsupported subprotocol", false);
	pthread_mutex_unlock(&c->lock);
	ws_msg_unref(err);
}

/* Wait (bounded) until the sender wrote the close frame or gave up. */
static void wait_close_written(struct ws_client *c)
{
	struct timespec ts;

	ws_deadline_ts(&ts, clock_mono_ns() + WS_CLOSE_WAIT_NS);
	pthread_mutex_lock(&c->lock);
	while (c->state == CS_CLOSING && !c->sender_done)
		if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&c->lock);
}

/*
 * A client offence that ends the connection: an error envelope says why
 * (ref: the offending message's t_ms when has_ref), then the close frame.
 * Returns the data handler's result (0: close).
 */
static int fail(struct ws_client *c, int close_code, const char *reason, const char *err_code,
		const char *message, int64_t ref, bool has_ref)
{
	struct ws_msg *err = ws_msg_error(err_code, message, ref, has_ref);

	log_info("msg=\"ws client offence\" client_id=%llu peer=%s close_code=%d error=\"%s\"",
		 (unsigned long long)c->id, c->peer, close_code, message);
	pthread_mutex_lock(&c->lock);
	ws_enqueue_event(c, err);
	ws_client_close(c, close_code, reason, false);
	pthread_mutex_unlock(&c->lock);
	ws_msg_unref(err);
	wait_close_written(c);
	return 0;
}

/* Wake the pacer: a rate or a snapshot request is due now. */
static void wake_pacer(struct ws *ws)
{
	pthread_mutex_lock(&ws->lock);
	ws_pacer_wake(ws);
	pthread_mutex_unlock(&ws->lock);
}

static void set_rate(struct ws_client *c, unsigned hz)
{
	int64_t now = clock_mono_ns();

	pthread_mutex_lock(&c->lock);
	c->rate_hz = hz;
	c->period_ns = NS_PER_S / hz;
	if (c->next_tick_ns > now + c->period_ns)
		c->next_tick_ns = now + c->period_ns;
	pthread_mutex_unlock(&c->lock);
	wake_pacer(c->ws);
}

/* One complete text message from the client. Returns the data handler's result. */
static int on_message(struct ws_client *c, const char *buf, size_t len)
{
	struct ws *ws = c->ws;
	struct ws_request req;

	ws_parse(buf, len, ws->feed_names, ws->nfeeds, &req);
	switch (req.verdict) {
	case WS_V_PING:
		ws_reply(c, ws_msg_json(WS_T_PONG,
					json_pack("{s:I}", "echo_t_ms", (json_int_t)req.t_ms)));
		break;
	case WS_V_SUBSCRIBE:
		pthread_mutex_lock(&c->lock);
		c->events = req.events;
		if (!c->seed) /* a seed-004 client's feed is its ?feed= or the one it follows */
			c->feeds = req.feeds;
		pthread_mutex_unlock(&c->lock);
		break;
	case WS_V_SET_RATE:
		set_rate(c, req.hz);
		break;
	case WS_V_SNAPSHOT:
		pthread_mutex_lock(&c->lock);
		c->snapshot_pending = true;
		pthread_mutex_unlock(&c->lock);
		wake_pacer(ws);
		break;
	case WS_V_ERROR:
		ws_reply(c, ws_msg_error(req.code, req.message, req.t_ms, req.has_t_ms));
		break;
	case WS_V_CLOSE:
		return fail(c, req.close_code, req.reason, req.code, req.message, req.t_ms,
			    req.has_t_ms);
	}
	return 1;
}

/* The peer's close: answer with its code (unless ours crossed it), then civetweb closes. */
static int on_peer_close(struct ws_client *c, const char *data, size_t len)
{
	int peer_code, code = ws_close_reply_code(data, len, &peer_code);

	pthread_mutex_lock(&c->lock);
	c->peer_code = peer_code;
	if (c->state == CS_OPEN) {
		ws_client_close(c, code, "", false);
		ws_purge_events(c, WS_DROP_CLOSED);
	}
	pthread_mutex_unlock(&c->lock);
	wait_close_written(c);
	return 0;
}

static int on_text_frame(struct ws_client *c, int opcode, bool fin, const char *data, size_t len)
{
	if (opcode == MG_WEBSOCKET_OPCODE_TEXT && c->in_frag)
		return fail(c, 1002, "protocol error", "bad_request",
			    "new message before the fragmented one ended", 0, false);
	if (opcode == MG_WEBSOCKET_OPCODE_CONTINUATION && !c->in_frag)
		return fail(c, 1002, "protocol error", "bad_request",
			    "continuation without a message", 0, false);
	if ((c->in_frag ? c->frag_len : 0) + len > WS_MAX_MESSAGE) {
		char msg[128];

		snprintf(msg, sizeof msg, "message of more than %d bytes", WS_MAX_MESSAGE);
		return fail(c, 1009, "message too big", "bad_request", msg, 0, false);
	}
	if (fin && !c->in_frag)
		return on_message(c, data, len);
	if (!c->frag && !(c->frag = malloc(WS_MAX_MESSAGE)))
		return fail(c, 1011, "internal error", "internal", "out of memory", 0, false);
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

int ws_on_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cbdata)
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
		return 1; /* closing: the rest is discarded (RFC 6455 §5.5.1) */
	if (bits & 0x70)
		return fail(c, 1002, "protocol error", "bad_request", "reserved bits set", 0,
			    false);
	switch (opcode) {
	case MG_WEBSOCKET_OPCODE_PING:
		ws_reply(c, ws_msg_control(WS_T_CTL_PONG, MG_WEBSOCKET_OPCODE_PONG, data,
					   len > 125 ? 125 : len));
		return 1;
	case MG_WEBSOCKET_OPCODE_PONG:
		return 1;
	case MG_WEBSOCKET_OPCODE_BINARY:
		return fail(c, 1003, "binary frames are not accepted", "bad_request",
			    "binary frames are not accepted: send JSON text", 0, false);
	case MG_WEBSOCKET_OPCODE_TEXT:
	case MG_WEBSOCKET_OPCODE_CONTINUATION:
		return on_text_frame(c, opcode, fin, data, len);
	default:
		return fail(c, 1002, "protocol error", "bad_request", "unknown opcode", 0, false);
	}
}

void ws_on_close(const struct mg_connection *conn, void *cbdata)
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
			ws_manifest_release(ws, c->manifest);
			break;
		}
	}
	pthread_cond_broadcast(&ws->gone);
	pthread_mutex_unlock(&ws->lock);

	pthread_mutex_lock(&c->lock);
	if (c->writing)
		ws_client_shutdown(c); /* unblock a write stuck on a full socket */
	c->state = CS_DEAD;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	if (c->sender_started)
		pthread_join(c->sender, NULL);

	if (!c->refused)
		log_info("msg=\"ws client closed\" client_id=%llu peer=%s close_code=%d "
			 "reason=\"%s\" peer_close_code=%d",
			 (unsigned long long)c->id, c->peer, c->close_code, c->close_reason,
			 c->peer_code);
	mg_set_user_connection_data(conn, NULL);
	client_free(c);
}
