/*
 * ws_send.c - serialized messages, the per-client queues, fan-out and the
 * sender thread (ws_int.h).
 *
 * civetweb 1.15 cannot write without blocking, so the ready handler bounds
 * the connection's send buffer (ws_conn.c) and the sender checks the room
 * left in it (SIOCOUTQ) before each write: a sender never blocks in
 * mg_websocket_write on a client that stopped reading, and the close frame
 * always gets through.
 */
#include <jansson.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "api/ws_int.h"
#include "common/log.h"

/* ---- messages ---- */

static struct ws_msg *msg_alloc(enum ws_type type, int opcode, size_t len)
{
	struct ws_msg *m = malloc(sizeof *m + len + 1);

	if (!m)
		return NULL;
	atomic_init(&m->refs, 1);
	m->type = (uint8_t)type;
	m->opcode = (uint8_t)opcode;
	m->seq_at = 0;
	m->len = len;
	m->text[len] = 0;
	return m;
}

struct ws_msg *ws_msg_ref(struct ws_msg *m)
{
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	return m;
}

void ws_msg_unref(struct ws_msg *m)
{
	if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
		free(m);
}

struct ws_msg *ws_msg_envelope(enum ws_type type, const char *data, size_t len)
{
	char head[128];
	int hn = snprintf(
		head, sizeof head, "{\"type\":\"%s\",\"schema_version\":%d,\"t_ms\":%lld,\"data\":",
		ws_types[type].name, WS_SCHEMA_VERSION, (long long)(clock_now_ns() / NS_PER_MS));
	struct ws_msg *m = msg_alloc(type, MG_WEBSOCKET_OPCODE_TEXT, (size_t)hn + len + 1);

	if (!m)
		return NULL;
	memcpy(m->text, head, (size_t)hn);
	memcpy(m->text + hn, data, len);
	m->text[(size_t)hn + len] = '}';
	m->seq_at = (uint16_t)(hn - (int)strlen("\"data\":"));
	return m;
}

struct ws_msg *ws_msg_json(enum ws_type type, json_t *data)
{
	char *s;
	struct ws_msg *m = NULL;

	if (!data)
		return NULL;
	/* 15 digits: a time of integer ms in s is 91.769, not 91.769000000000005 */
	s = json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(data);
	if (s) {
		m = ws_msg_envelope(type, s, strlen(s));
		free(s);
	}
	return m;
}

struct ws_msg *ws_msg_error(const char *code, const char *message, json_int_t ref, bool has_ref)
{
	return ws_msg_json(WS_T_ERROR,
			   json_pack("{s:s, s:s, s:o}", "code", code, "message", message, "ref",
				     has_ref ? json_integer(ref) : json_null()));
}

struct ws_msg *ws_msg_control(enum ws_type type, int opcode, const void *payload, size_t len)
{
	struct ws_msg *m = msg_alloc(type, opcode, len);

	if (m && len)
		memcpy(m->text, payload, len);
	return m;
}

struct ws_msg *ws_msg_close(int code, const char *reason)
{
	char payload[2 + WS_REASON_MAX];
	size_t n = strnlen(reason, WS_REASON_MAX);

	payload[0] = (char)((code >> 8) & 0xff);
	payload[1] = (char)(code & 0xff);
	memcpy(payload + 2, reason, n);
	return ws_msg_control(WS_T_CTL_CLOSE, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, payload,
			      code ? 2 + n : 0);
}

/* ---- client queues (called with c->lock held) ---- */

static void wake_sender(struct ws_client *c)
{
	pthread_cond_broadcast(&c->cond);
}

static void drop_counted(struct ws_client *c, struct ws_item *it, enum ws_drop why)
{
	ws_stat_add(&c->ws->dropped[it->m->type][why], 1);
	ws_msg_unref(it->m);
	it->m = NULL;
}

void ws_purge_telemetry(struct ws_client *c, enum ws_drop why)
{
	while (c->tq_len) {
		drop_counted(c, &c->tq[c->tq_head], why);
		c->tq_head = (c->tq_head + 1) % WS_TELEM_QUEUE;
		c->tq_len--;
	}
}

void ws_purge_events(struct ws_client *c, enum ws_drop why)
{
	while (c->eq_len) {
		drop_counted(c, &c->eq[c->eq_head], why);
		c->eq_head = (c->eq_head + 1) % WS_EVENT_QUEUE;
		c->eq_len--;
	}
}

void ws_client_close(struct ws_client *c, int code, const char *reason, bool purge)
{
	if (c->state != CS_OPEN)
		return;
	c->state = CS_CLOSING;
	c->close_code = code;
	snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
	ws_purge_telemetry(c, purge ? WS_DROP_SLOW_CONSUMER : WS_DROP_CLOSED);
	if (purge)
		ws_purge_events(c, WS_DROP_SLOW_CONSUMER);
	c->close_msg = ws_msg_close(code, reason);
	c->close_deadline_ns = clock_mono_ns() + WS_CLOSE_GRACE_NS;
	wake_sender(c);
}

void ws_slow_consumer(struct ws_client *c)
{
	log_warn("msg=\"ws slow consumer\" client_id=%llu peer=%s queued_events=%u",
		 (unsigned long long)c->id, c->peer, c->eq_len);
	ws_client_close(c, 1008, "slow consumer", true);
}

void ws_enqueue_event(struct ws_client *c, struct ws_msg *m)
{
	if (c->state != CS_OPEN || !m)
		return;
	if (c->eq_len == WS_EVENT_QUEUE) {
		ws_slow_consumer(c);
		return;
	}
	c->eq[(c->eq_head + c->eq_len) % WS_EVENT_QUEUE] =
		(struct ws_item){ ws_msg_ref(m), clock_mono_ns() };
	c->eq_len++;
	wake_sender(c);
}

void ws_enqueue_telemetry(struct ws_client *c, struct ws_msg *m)
{
	if (c->state != CS_OPEN || !m)
		return;
	if (c->tq_len == WS_TELEM_QUEUE) {
		drop_counted(c, &c->tq[c->tq_head], WS_DROP_QUEUE_FULL);
		c->tq_head = (c->tq_head + 1) % WS_TELEM_QUEUE;
		c->tq_len--;
	}
	c->tq[(c->tq_head + c->tq_len) % WS_TELEM_QUEUE] =
		(struct ws_item){ ws_msg_ref(m), clock_mono_ns() };
	c->tq_len++;
	wake_sender(c);
}

void ws_reply(struct ws_client *c, struct ws_msg *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&c->lock);
	ws_enqueue_event(c, m);
	pthread_mutex_unlock(&c->lock);
	ws_msg_unref(m);
}

void ws_client_shutdown(struct ws_client *c)
{
	if (c->fd >= 0 && !c->shut && c->state != CS_DEAD) {
		shutdown(c->fd, SHUT_RDWR);
		c->shut = true;
	}
}

/* ---- fan-out (ws->lock held) ---- */

void ws_fanout(struct ws *ws, struct ws_msg *m, int feed)
{
	for (struct ws_client *c = ws->clients; c; c = c->next) {
		if (c->seed && ws_seed_own(m->type))
			continue;
		pthread_mutex_lock(&c->lock);
		if ((c->events & BIT(m->type)) && (feed < 0 || (c->feeds & (1u << feed))))
			ws_enqueue_event(c, m);
		pthread_mutex_unlock(&c->lock);
	}
}

void ws_fanout_seed(struct ws *ws, struct ws_msg *m, int feed)
{
	for (struct ws_client *c = ws->clients; c; c = c->next) {
		if (!c->seed)
			continue;
		pthread_mutex_lock(&c->lock);
		if ((c->events & BIT(m->type)) && feed >= 0 && c->seed_feed == feed)
			ws_enqueue_event(c, m);
		pthread_mutex_unlock(&c->lock);
	}
}

/* ---- the sender ---- */

/*
 * The bytes to write for m: an envelope gets the client's next "sequence"
 * (1 for hello, then +1 per envelope written to this client, so a client sees
 * them strictly increasing) in c->stamped; anything else, and everything for
 * a client of the seed-004 dialect (WS_SEED_PATH), is written as it is.
 * The shared message itself never changes. NULL when out of memory.
 */
static const char *stamp(struct ws_client *c, const struct ws_msg *m, size_t *len)
{
	char seq[WS_SEQUENCE_MAX];
	int n;

	if (!m->seq_at || c->seed) { /* the seed-004 dialect's envelopes stay the ADR's */
		*len = m->len;
		return m->text;
	}
	if (c->stamped_cap < m->len + sizeof seq) {
		char *p = realloc(c->stamped, m->len + sizeof seq);

		if (!p)
			return NULL;
		c->stamped = p;
		c->stamped_cap = m->len + sizeof seq;
	}
	n = snprintf(seq, sizeof seq, "\"sequence\":%llu,", (unsigned long long)++c->sequence);
	memcpy(c->stamped, m->text, m->seq_at);
	memcpy(c->stamped + m->seq_at, seq, (size_t)n);
	memcpy(c->stamped + m->seq_at + n, m->text + m->seq_at, m->len - m->seq_at);
	*len = m->len + (size_t)n;
	return c->stamped;
}

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

static void account_sent(struct ws_client *c, const struct ws_msg *m, int64_t enq_ns,
			 int64_t done_ns)
{
	struct ws *ws = c->ws;
	double lag_ms = (double)(done_ns - enq_ns) / 1e6;
	uint64_t lag_us = (uint64_t)((done_ns - enq_ns) / 1000);

	ws_stat_add(&ws->sent[m->type], 1);
	ws_stat_add(&ws->lag_count, 1);
	ws_stat_add(&ws->lag_sum_us, lag_us);
	ws_stat_add(&c->lag_count, 1);
	ws_stat_add(&c->lag_sum_us, lag_us);
	for (int i = 0; i < WS_LAG_BUCKETS; i++) {
		if (lag_ms <= ws_lag_bucket_ms[i]) {
			ws_stat_add(&ws->lag_bucket[i], 1);
			ws_stat_add(&c->lag_bucket[i], 1);
		}
	}
}

void *ws_sender_main(void *arg)
{
	struct ws_client *c = arg;

	pthread_mutex_lock(&c->lock);
	while (c->state == CS_OPEN || c->state == CS_CLOSING) {
		struct ws_item it, *next;
		bool is_event, is_close;
		const char *text;
		size_t need, len;
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
		need = it.m->len + WS_SEQUENCE_MAX + WS_FRAME_HDR +
		       (is_close ? 0 : WS_CLOSE_RESERVE);
		if (!room_for(c, need)) {
			struct timespec ts;

			ws_deadline_ts(&ts, clock_mono_ns() + WS_ROOM_WAIT_NS);
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

		text = stamp(c, it.m, &len);
		r = text ? mg_websocket_write(c->conn, it.m->opcode, text, len) : -1;
		if (r > 0)
			account_sent(c, it.m, it.enq_ns, clock_mono_ns());

		pthread_mutex_lock(&c->lock);
		c->writing = false;
		ws_msg_unref(it.m);
		if (r <= 0) {
			ws_client_shutdown(c);
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
