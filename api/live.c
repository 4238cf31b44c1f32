/*
 * live.c - the endpoints that read the feeds' segments directly rather than
 * asking the store: GET /api/live, /api/feeds, /api/health and /metrics.
 * The attached segments and the newest frames' JSON are one struct live,
 * made by main (live_new) and reached through the struct api.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/ws.h"
#include "common/clock.h"
#include "common/feedstat.h"
#include "common/msg.h"
#include "common/out.h"
#include "common/storestat.h"

static json_t *counters(const struct feedstat *f)
{
	return json_pack("{s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "packets_per_s",
			 f->v[SEG_STAT_PACKET_RATE_MHZ] / 1000.0, "frames_per_s",
			 f->v[SEG_STAT_FRAME_RATE_MHZ] / 1000.0, "received",
			 (json_int_t)f->v[SEG_STAT_PACKETS], "decoded",
			 (json_int_t)f->v[SEG_STAT_DECODED], "frames",
			 (json_int_t)f->v[SEG_STAT_FRAMES], "wrong_size",
			 (json_int_t)f->v[SEG_STAT_WRONG_SIZE], "unknown_format",
			 (json_int_t)f->v[SEG_STAT_UNKNOWN], "kernel_drops",
			 (json_int_t)f->v[SEG_STAT_KERNEL_DROPS], "relayed",
			 (json_int_t)f->v[SEG_STAT_RELAYED], "write_seq", (json_int_t)f->write_seq);
}

static json_t *meta_json(const struct feedstat *f)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "game", f->meta.game, "car", f->meta.car,
			 "track", f->meta.track, "driver", f->meta.driver, "source",
			 f->meta.source);
}

/* json_object_update that consumes what it merges. */
static void merge_new(json_t *into, json_t *from)
{
	json_object_update(into, from);
	json_decref(from);
}

/*
 * The feeds' segments stay attached between requests: attaching is an
 * shm_open, an fstat and an mmap per feed, most of a request's cost. Once a
 * second one thread looks again for new feeds and for segments that were
 * replaced (a feed's capture recreated it); readers hold the read lock while
 * they use the attachments.
 */
#define RESCAN_NS (1000 * NS_PER_MS)

struct attached {
	char name[FEEDSTAT_NAME];
	struct seg *seg; /* NULL: no segment (yet) */
};

/*
 * A feed's newest frame as JSON, kept until the feed publishes the next one:
 * a 333 Hz feed changes every 3 ms, while clients may ask far more often,
 * and formatting some sixty numbers is most of a /api/live request.
 */
struct frame_text {
	pthread_rwlock_t lock; /* readers copy under the read lock; one writer renders */
	char name[FEEDSTAT_NAME];
	uint64_t seq;
	int64_t t_ns;
	size_t len; /* 0: nothing kept */
	char text[8192];
};

struct live {
	char instance[IDS_INSTANCE_MAX + 1];
	pthread_rwlock_t segs_lock;
	struct attached segs[FEEDSTAT_MAX];
	int nsegs;
	_Atomic int64_t next_scan_ns;
	struct frame_text frame_texts[FEEDSTAT_MAX];
};

static struct seg *find_attached(const struct attached *v, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return v[i].seg;
	return NULL;
}

static void rescan(struct live *l)
{
	int64_t now = clock_now_ns(), due = atomic_load(&l->next_scan_ns);
	char names[FEEDSTAT_MAX][FEEDSTAT_NAME];
	struct attached fresh[FEEDSTAT_MAX], old[FEEDSTAT_MAX];
	int n, nold = 0;

	if (now < due || !atomic_compare_exchange_strong(&l->next_scan_ns, &due, now + RESCAN_NS))
		return;
	n = feedstat_names(l->instance, names, FEEDSTAT_MAX);
	pthread_rwlock_rdlock(&l->segs_lock); /* only this thread changes segs */
	for (int i = 0; i < n; i++) {
		struct seg *s = find_attached(l->segs, l->nsegs, names[i]);
		memcpy(fresh[i].name, names[i], sizeof fresh[i].name);
		fresh[i].seg = s && !seg_replaced(s) ? s : NULL;
	}
	pthread_rwlock_unlock(&l->segs_lock);
	for (int i = 0; i < n; i++)
		if (!fresh[i].seg)
			seg_attach(&fresh[i].seg, l->instance, names[i]);
	pthread_rwlock_wrlock(&l->segs_lock);
	for (int i = 0; i < l->nsegs; i++) { /* what the new table no longer uses */
		int kept = 0;
		for (int j = 0; j < n; j++)
			kept |= fresh[j].seg == l->segs[i].seg;
		if (l->segs[i].seg && !kept)
			old[nold++] = l->segs[i];
	}
	memcpy(l->segs, fresh, (size_t)n * sizeof *fresh);
	l->nsegs = n;
	for (int i = 0; i < nold; i++)
		seg_close(old[i].seg);
	pthread_rwlock_unlock(&l->segs_lock);
}

int live_new(struct live **out, const char *instance)
{
	struct live *l = calloc(1, sizeof *l);

	*out = NULL;
	if (!l)
		return -ENOMEM;
	snprintf(l->instance, sizeof l->instance, "%s", instance);
	pthread_rwlock_init(&l->segs_lock, NULL);
	for (int i = 0; i < FEEDSTAT_MAX; i++)
		pthread_rwlock_init(&l->frame_texts[i].lock, NULL);
	rescan(l); /* before the first request: no request sees an empty table */
	*out = l;
	return 0;
}

void live_free(struct live *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->nsegs; i++)
		seg_close(l->segs[i].seg);
	for (int i = 0; i < FEEDSTAT_MAX; i++)
		pthread_rwlock_destroy(&l->frame_texts[i].lock);
	pthread_rwlock_destroy(&l->segs_lock);
	free(l);
}

/* Read every feed into rows; returns the count. Holds the read lock. */
static int read_all(struct live *l, struct feedstat *rows, int want_frame)
{
	int n;

	rescan(l);
	pthread_rwlock_rdlock(&l->segs_lock);
	n = l->nsegs;
	for (int i = 0; i < n; i++)
		feedstat_from_seg(l->segs[i].seg, l->segs[i].name, want_frame, &rows[i]);
	pthread_rwlock_unlock(&l->segs_lock);
	return n;
}

/* A growing text buffer for responses written without a JSON tree. */
struct text {
	char *p;
	size_t len, cap;
	int oom;
};

static char *text_room(struct text *t, size_t need)
{
	if (t->oom)
		return NULL;
	if (t->len + need + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		char *p;
		while (cap < t->len + need + 1)
			cap *= 2;
		if (!(p = realloc(t->p, cap))) {
			t->oom = 1;
			return NULL;
		}
		t->p = p;
		t->cap = cap;
	}
	return t->p + t->len;
}

static void text_add(struct text *t, const char *s, size_t n)
{
	char *d = text_room(t, n);

	if (d) {
		memcpy(d, s, n);
		t->len += n;
	}
}

static void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_printf(struct text *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)
		text_add(t, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* A JSON string: quotes, escapes, and U+FFFD for bytes that are not UTF-8
 * (a game's metadata is whatever it sent). */
static void text_string(struct text *t, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	text_add(t, "\"", 1);
	while (i < max && u[i]) {
		unsigned c = u[i];
		size_t len = c < 0x80             ? 1
			     : (c & 0xe0) == 0xc0 ? 2
			     : (c & 0xf0) == 0xe0 ? 3
			     : (c & 0xf8) == 0xf0 ? 4
						  : 0;
		int ok = len > 0 && i + len <= max && !(len == 2 && c < 0xc2);
		for (size_t k = 1; ok && k < len; k++)
			ok = (u[i + k] & 0xc0) == 0x80;
		if (!ok) {
			text_add(t, "\\ufffd", 6);
			i++;
		} else if (len > 1) {
			text_add(t, s + i, len);
			i += len;
		} else if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			text_add(t, e, 2);
			i++;
		} else if (c < 0x20) {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			text_add(t, e, 6);
			i++;
		} else {
			text_add(t, s + i, 1);
			i++;
		}
	}
	text_add(t, "\"", 1);
}

static void text_field(struct text *t, const char *key, const char *value, size_t max)
{
	text_printf(t, ",\"%s\":", key);
	text_string(t, value, max);
}

static int frame_text_current(const struct frame_text *ft, const char *feed,
			      const struct pw_frame *f)
{
	return ft->len && ft->seq == f->seq && ft->t_ns == f->t_ns && strcmp(ft->name, feed) == 0;
}

/* Append feed i's frame f as JSON; 0 when it does not fit. */
static int add_frame(struct live *l, struct text *t, int i, const char *feed,
		     const struct pw_frame *f)
{
	struct frame_text *ft = &l->frame_texts[i];
	size_t n;

	pthread_rwlock_rdlock(&ft->lock);
	if (!frame_text_current(ft, feed, f)) {
		pthread_rwlock_unlock(&ft->lock);
		pthread_rwlock_wrlock(&ft->lock);
		if (!frame_text_current(ft, feed, f)) { /* nobody rendered it meanwhile */
			n = frame_to_json(f, ft->text, sizeof ft->text);
			ft->len = n < sizeof ft->text ? n : 0;
			ft->seq = f->seq;
			ft->t_ns = f->t_ns;
			snprintf(ft->name, sizeof ft->name, "%s", feed);
		}
	}
	/* under the read or the write lock, the text is f's */
	if ((n = ft->len)) {
		text_add(t, ",\"frame\":", 9); /* every channel the game supplies */
		text_add(t, ft->text, n);
	}
	pthread_rwlock_unlock(&ft->lock);
	return n > 0;
}

/* Per feed: health, frequency, speed, rpm, gear, inputs, lap time (the seed's
 * /api/live). Written as text straight from the segments: no JSON tree. */
static int live(struct api *api, struct mg_connection *c)
{
	struct feedstat *rows = malloc(FEEDSTAT_MAX * sizeof *rows);
	struct text t = { 0 };
	char head[HTTP_HEAD_MAX];
	int n = rows ? read_all(api->live, rows, 1) : 0, rc;
	size_t hlen;

	if (!rows)
		return http_error(api, c, 500, MSG_E_INTERNAL, "out of memory");
	text_room(&t, HTTP_HEAD_MAX); /* the head goes in front once the length is known */
	t.len = HTTP_HEAD_MAX;
	text_printf(&t, "{\"t_ms\":%lld,\"feeds\":{", (long long)(clock_now_ns() / NS_PER_MS));
	for (int i = 0; i < n; i++) {
		const struct feedstat *f = &rows[i];

		text_add(&t, i ? ",\"" : "\"", i ? 2 : 1);
		text_add(&t, f->name, strlen(f->name)); /* feed names are [A-Za-z0-9_-] */
		text_printf(&t, "\":{\"status\":\"%s\",\"frequency_hz\":%.3f",
			    seg_status_name(f->status), f->v[SEG_STAT_FRAME_RATE_MHZ] / 1000.0);
		text_field(&t, "game", f->meta.game, sizeof f->meta.game);
		text_field(&t, "car", f->meta.car, sizeof f->meta.car);
		text_field(&t, "track", f->meta.track, sizeof f->meta.track);
		text_field(&t, "driver", f->meta.driver, sizeof f->meta.driver);
		text_field(&t, "source", f->meta.source, sizeof f->meta.source);
		if (f->has_frame)
			add_frame(api->live, &t, i, f->name, &f->latest);
		text_add(&t, "}", 1);
	}
	text_add(&t, "}}", 2);
	free(rows);
	if (t.oom) {
		free(t.p);
		return http_error(api, c, 500, MSG_E_INTERNAL, "out of memory");
	}
	/* the head right before the body, then one write */
	hlen = http_head(head, sizeof head, 200, t.len - HTTP_HEAD_MAX);
	memcpy(t.p + HTTP_HEAD_MAX - hlen, head, hlen);
	http_count(api, 200);
	rc = mg_write(c, t.p + HTTP_HEAD_MAX - hlen, t.len - HTTP_HEAD_MAX + hlen);
	free(t.p);
	return rc > 0 ? 200 : -1;
}

static json_t *feeds_list(struct live *l)
{
	struct feedstat *rows = calloc(FEEDSTAT_MAX, sizeof *rows);
	json_t *a = json_array();
	int n = rows ? read_all(l, rows, 0) : 0;

	for (int i = 0; i < n; i++) {
		json_t *o = json_pack("{s:s, s:s, s:i}", "feed", rows[i].name, "status",
				      seg_status_name(rows[i].status), "pid",
				      rows[i].present ? rows[i].pid : 0);
		merge_new(o, counters(&rows[i]));
		merge_new(o, meta_json(&rows[i]));
		json_array_append_new(a, o);
	}
	free(rows);
	return a;
}

static json_t *health(struct api *api)
{
	char code[64], message[256];
	json_t *res = NULL;
	int store = proxy_call(api, "use_cases.list", NULL, &res, code, sizeof code, message,
			       sizeof message) == 0;

	json_decref(res);
	return json_pack("{s:s, s:s, s:s}", "status", store ? "ok" : "degraded", "store",
			 store ? "up" : "unavailable", "instance", api->cfg.instance);
}

int live_handle(struct api *api, struct mg_connection *c, const char *method, char **seg, int nseg)
{
	if (nseg != 1 || strcmp(method, "GET") != 0)
		return 0;
	if (strcmp(seg[0], "live") == 0)
		return live(api, c), 1;
	if (strcmp(seg[0], "feeds") == 0)
		return http_json(api, c, 200, feeds_list(api->live)), 1;
	if (strcmp(seg[0], "health") == 0)
		return http_json(api, c, 200, health(api)), 1;
	return 0;
}

/* The store's counters from its status page, and our cache's. */
static void store_metrics(struct cache *cache, struct out *o)
{
	uint64_t v[STORESTAT_COUNT];
	unsigned long long hits, misses, behind;

	cache_stats(cache, &hits, &misses, &behind);
	out_printf(
		o,
		"# HELP pitwall_api_cache_hits_total Store reads answered from the API's cache.\n"
		"# TYPE pitwall_api_cache_hits_total counter\npitwall_api_cache_hits_total %llu\n",
		hits);
	out_printf(
		o,
		"# HELP pitwall_api_cache_misses_total Store reads the cache passed to the store.\n"
		"# TYPE pitwall_api_cache_misses_total counter\npitwall_api_cache_misses_total %llu\n",
		misses);
	out_printf(
		o,
		"# HELP pitwall_api_cache_behind_total Cached answers served behind on a recording's progress while one request refreshed them.\n"
		"# TYPE pitwall_api_cache_behind_total counter\npitwall_api_cache_behind_total %llu\n",
		behind);
	out_printf(
		o,
		"# HELP pitwall_store_up 1 when the store's status page beat in the last %lld ms "
		"(2.5 beat periods while the store is idle and its process lives).\n"
		"# TYPE pitwall_store_up gauge\npitwall_store_up %d\n",
		STORESTAT_FRESH_NS / NS_PER_MS, cache_generation(cache) != 0);
	if (cache_store_counters(cache, v))
		for (int i = 0; i < STORESTAT_COUNT; i++) {
			const struct storestat_desc *d =
				storestat_describe((enum storestat_counter)i);
			out_printf(o, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", d->metric, d->help,
				   d->metric, d->gauge ? "gauge" : "counter", d->metric,
				   (unsigned long long)v[i]);
		}
}

#define METRICS_MAX 262144

/* Prometheus text exposition format 0.0.4. */
/* ws_send_lag_seconds, the seed's histogram of queue-to-socket lag, and its
 * p50/p95 per connected client. */
static void ws_lag_metrics(const struct ws *ws, const struct ws_stats *w, struct out *o)
{
	struct ws_client_lag lags[64];
	size_t n = ws_client_lags(ws, lags, sizeof lags / sizeof *lags);

	out_printf(o,
		   "# HELP ws_send_lag_seconds WebSocket messages, from queued to written to the "
		   "socket.\n# TYPE ws_send_lag_seconds histogram\n");
	for (int i = 0; i < WS_LAG_BUCKETS; i++)
		out_printf(o, "ws_send_lag_seconds_bucket{le=\"%g\"} %llu\n",
			   ws_lag_bucket_ms[i] / 1000.0, (unsigned long long)w->lag_bucket[i]);
	out_printf(o,
		   "ws_send_lag_seconds_bucket{le=\"+Inf\"} %llu\nws_send_lag_seconds_sum %.6f\n"
		   "ws_send_lag_seconds_count %llu\n",
		   (unsigned long long)w->lag_count, w->lag_sum_s,
		   (unsigned long long)w->lag_count);
	out_printf(o,
		   "# HELP ws_client_send_lag_seconds The same per connected client (at most 64): "
		   "p50 and p95 as the upper bound of their ws_send_lag_seconds bucket.\n"
		   "# TYPE ws_client_send_lag_seconds summary\n");
	for (size_t i = 0; i < n; i++) {
		unsigned long long id = (unsigned long long)lags[i].client_id;

		out_printf(o,
			   "ws_client_send_lag_seconds{client_id=\"%llu\",quantile=\"0.5\"} %g\n"
			   "ws_client_send_lag_seconds{client_id=\"%llu\",quantile=\"0.95\"} %g\n"
			   "ws_client_send_lag_seconds_sum{client_id=\"%llu\"} %.6f\n"
			   "ws_client_send_lag_seconds_count{client_id=\"%llu\"} %llu\n",
			   id, lags[i].p50_s, id, lags[i].p95_s, id, lags[i].sum_s, id,
			   (unsigned long long)lags[i].count);
	}
}

int metrics_handle(struct mg_connection *c, void *cbdata)
{
	static const struct {
		enum seg_stat stat;
		const char *name, *help;
	} ctr[] = {
		{ SEG_STAT_PACKETS, "pitwall_feed_packets_total", "Datagrams received." },
		{ SEG_STAT_BYTES, "pitwall_feed_bytes_total", "Payload bytes received." },
		{ SEG_STAT_FRAMES, "pitwall_feed_frames_total", "Frames published." },
		{ SEG_STAT_WRONG_SIZE, "pitwall_feed_wrong_size_total",
		  "Datagrams of a known kind with the wrong size." },
		{ SEG_STAT_UNKNOWN, "pitwall_feed_unknown_format_total",
		  "Datagrams of an unknown kind or format." },
		{ SEG_STAT_KERNEL_DROPS, "pitwall_feed_kernel_drops_total",
		  "Datagrams the kernel dropped." },
		{ SEG_STAT_RELAYED, "pitwall_feed_relayed_total", "Datagrams relayed." },
	};
	struct api *api = cbdata;
	struct feedstat *rows = calloc(FEEDSTAT_MAX, sizeof *rows);
	int n = rows ? read_all(api->live, rows, 0) : 0;
	char *buf = malloc(METRICS_MAX), head[160];
	struct out out = { buf, buf ? METRICS_MAX : 0, 0 }, *o = &out; /* no buffer: nothing fits */

	if (!api_authorized(api, c)) {
		free(rows);
		free(buf);
		return 401;
	}
	for (size_t k = 0; k < sizeof ctr / sizeof *ctr; k++) {
		out_printf(o, "# HELP %s %s\n# TYPE %s counter\n", ctr[k].name, ctr[k].help,
			   ctr[k].name);
		for (int i = 0; i < n; i++)
			out_printf(o, "%s{feed=\"%s\"} %llu\n", ctr[k].name, rows[i].name,
				   (unsigned long long)rows[i].v[ctr[k].stat]);
	}
	out_printf(o, "# HELP pitwall_feed_up 1 when the feed received a packet in the last 2 s.\n"
		      "# TYPE pitwall_feed_up gauge\n");
	for (int i = 0; i < n; i++)
		out_printf(o, "pitwall_feed_up{feed=\"%s\"} %d\n", rows[i].name,
			   rows[i].status == SEG_UP);
	out_printf(
		o,
		"# HELP pitwall_feed_rcvbuf_bytes UDP receive buffer the kernel granted pw-capture.\n"
		"# TYPE pitwall_feed_rcvbuf_bytes gauge\n");
	for (int i = 0; i < n; i++)
		out_printf(o, "pitwall_feed_rcvbuf_bytes{feed=\"%s\"} %llu\n", rows[i].name,
			   (unsigned long long)rows[i].v[SEG_STAT_RCVBUF]);
	out_printf(o,
		   "# HELP pitwall_feed_frames_per_second Frames per second over the last second.\n"
		   "# TYPE pitwall_feed_frames_per_second gauge\n");
	for (int i = 0; i < n; i++)
		out_printf(o, "pitwall_feed_frames_per_second{feed=\"%s\"} %.3f\n", rows[i].name,
			   rows[i].v[SEG_STAT_FRAME_RATE_MHZ] / 1000.0);
	out_printf(
		o,
		"# HELP pitwall_api_requests_total HTTP requests answered.\n# TYPE pitwall_api_requests_total counter\n"
		"pitwall_api_requests_total %llu\n",
		(unsigned long long)api->requests);
	out_printf(
		o,
		"# HELP pitwall_api_errors_total HTTP error responses by class.\n# TYPE pitwall_api_errors_total counter\n"
		"pitwall_api_errors_total{class=\"4xx\"} %llu\npitwall_api_errors_total{class=\"5xx\"} %llu\n",
		(unsigned long long)api->errors_4xx, (unsigned long long)api->errors_5xx);
	out_printf(
		o,
		"# HELP pitwall_api_store_calls_total Commands sent to the store.\n# TYPE pitwall_api_store_calls_total counter\n"
		"pitwall_api_store_calls_total %llu\n",
		(unsigned long long)api->store_calls);
	out_printf(
		o,
		"# HELP pitwall_api_store_unavailable_total Store commands that got no answer in time.\n"
		"# TYPE pitwall_api_store_unavailable_total counter\npitwall_api_store_unavailable_total %llu\n",
		(unsigned long long)api->store_unavailable);
	store_metrics(api->cache, o);
	if (api->ws) {
		struct ws_stats w; /* per request: handlers run on many threads */
		ws_stats(api->ws, &w);
		out_printf(
			o,
			"# HELP ws_clients_connected WebSocket clients connected.\n# TYPE ws_clients_connected gauge\n"
			"ws_clients_connected %llu\n",
			(unsigned long long)w.clients);
		out_printf(
			o,
			"# HELP ws_frames_sent_total WebSocket messages sent, by type.\n# TYPE ws_frames_sent_total counter\n");
		for (unsigned t = 0; t < WS_T_COUNT; t++)
			if (w.sent[t])
				out_printf(o, "ws_frames_sent_total{type=\"%s\"} %llu\n",
					   ws_type_name(t), (unsigned long long)w.sent[t]);
		out_printf(
			o,
			"# HELP ws_frames_dropped_total WebSocket messages dropped, by type and reason.\n"
			"# TYPE ws_frames_dropped_total counter\n");
		for (unsigned t = 0; t < WS_T_COUNT; t++)
			for (unsigned r = 0; r < WS_DROP_COUNT; r++)
				if (w.dropped[t][r] || (t == 0 && r == 0))
					out_printf(
						o,
						"ws_frames_dropped_total{type=\"%s\",reason=\"%s\"} %llu\n",
						ws_type_name(t), ws_drop_name(r),
						(unsigned long long)w.dropped[t][r]);
		ws_lag_metrics(api->ws, &w, o);
	}
	if (out.len >= out.cap) {
		free(rows);
		free(buf);
		return http_error(api, c, 500, MSG_E_INTERNAL, "metrics did not fit");
	}
	http_count(api, 200);
	snprintf(head, sizeof head,
		 "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
		 "Content-Length: %zu\r\n" API_VERSION_HEADER "\r\n",
		 out.len);
	mg_write(c, head, strlen(head));
	mg_write(c, buf, out.len);
	free(rows);
	free(buf);
	return 200;
}
