/*
 * live.c - the endpoints that read the feeds' segments directly rather than
 * asking the store: GET /api/live, /api/feeds, /api/health and /metrics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/ws.h"
#include "common/clock.h"
#include "common/feedstat.h"
#include "common/msg.h"

static json_t *counters(const struct feedstat *f)
{
	return json_pack("{s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "packets_per_s",
			 f->v[SEG_STAT_PACKET_RATE_MHZ] / 1000.0, "frames_per_s",
			 f->v[SEG_STAT_FRAME_RATE_MHZ] / 1000.0, "received",
			 (json_int_t)f->v[SEG_STAT_PACKETS], "decoded", (json_int_t)f->v[SEG_STAT_DECODED],
			 "frames", (json_int_t)f->v[SEG_STAT_FRAMES], "wrong_size",
			 (json_int_t)f->v[SEG_STAT_WRONG_SIZE], "unknown_format",
			 (json_int_t)f->v[SEG_STAT_UNKNOWN], "kernel_drops",
			 (json_int_t)f->v[SEG_STAT_KERNEL_DROPS], "relayed",
			 (json_int_t)f->v[SEG_STAT_RELAYED], "write_seq", (json_int_t)f->write_seq);
}

static json_t *meta_json(const struct feedstat *f)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "game", f->meta.game, "car", f->meta.car, "track",
			 f->meta.track, "driver", f->meta.driver, "source", f->meta.source);
}

/* json_object_update that consumes what it merges. */
static void merge_new(json_t *into, json_t *from)
{
	json_object_update(into, from);
	json_decref(from);
}

static int read_all(struct feedstat *rows, int want_frame)
{
	char names[FEEDSTAT_MAX][FEEDSTAT_NAME];
	int n = feedstat_names(g_api.cfg.instance, names, FEEDSTAT_MAX);

	for (int i = 0; i < n; i++)
		feedstat_read(g_api.cfg.instance, names[i], want_frame, &rows[i]);
	return n;
}

/* Per feed: health, frequency, speed, rpm, gear, inputs, lap time (the seed's /api/live). */
static json_t *live(void)
{
	struct feedstat *rows = calloc(FEEDSTAT_MAX, sizeof *rows);
	json_t *feeds = json_object();
	int n = rows ? read_all(rows, 1) : 0;

	for (int i = 0; i < n; i++) {
		const struct feedstat *f = &rows[i];
		json_t *o = json_pack("{s:s, s:f}", "status", seg_status_name(f->status), "frequency_hz",
				      f->v[SEG_STAT_FRAME_RATE_MHZ] / 1000.0);
		char buf[8192];
		json_error_t jerr;
		json_t *frame;

		merge_new(o, meta_json(f));
		if (f->has_frame && frame_to_json(&f->latest, buf, sizeof buf) < sizeof buf &&
		    (frame = json_loads(buf, 0, &jerr)))
			json_object_set_new(o, "frame", frame); /* every channel the game supplies */
		json_object_set_new(feeds, f->name, o);
	}
	free(rows);
	return json_pack("{s:I, s:o}", "t_ms", (json_int_t)(clock_now_ns() / NS_PER_MS), "feeds", feeds);
}

static json_t *feeds_list(void)
{
	struct feedstat *rows = calloc(FEEDSTAT_MAX, sizeof *rows);
	json_t *a = json_array();
	int n = rows ? read_all(rows, 0) : 0;

	for (int i = 0; i < n; i++) {
		json_t *o = json_pack("{s:s, s:s, s:i}", "feed", rows[i].name, "status",
				      seg_status_name(rows[i].status), "pid", rows[i].present ? rows[i].pid : 0);
		merge_new(o, counters(&rows[i]));
		merge_new(o, meta_json(&rows[i]));
		json_array_append_new(a, o);
	}
	free(rows);
	return a;
}

static json_t *health(void)
{
	char code[64], message[256];
	json_t *res = NULL;
	int store = proxy_call("use_cases.list", NULL, &res, code, sizeof code, message, sizeof message) == 0;

	json_decref(res);
	return json_pack("{s:s, s:s, s:s}", "status", store ? "ok" : "degraded", "store",
			 store ? "up" : "unavailable", "instance", g_api.cfg.instance);
}

int live_handle(struct mg_connection *c, const char *method, char **seg, int nseg)
{
	if (nseg != 1 || strcmp(method, "GET") != 0)
		return 0;
	if (strcmp(seg[0], "live") == 0)
		return http_json(c, 200, live()), 1;
	if (strcmp(seg[0], "feeds") == 0)
		return http_json(c, 200, feeds_list()), 1;
	if (strcmp(seg[0], "health") == 0)
		return http_json(c, 200, health()), 1;
	return 0;
}

/* Prometheus text exposition format 0.0.4. */
int metrics_handle(struct mg_connection *c, void *cbdata)
{
	static const struct {
		enum seg_stat stat;
		const char *name, *help;
	} ctr[] = {
		{ SEG_STAT_PACKETS, "pitwall_feed_packets_total", "Datagrams received." },
		{ SEG_STAT_BYTES, "pitwall_feed_bytes_total", "Payload bytes received." },
		{ SEG_STAT_FRAMES, "pitwall_feed_frames_total", "Frames published." },
		{ SEG_STAT_WRONG_SIZE, "pitwall_feed_wrong_size_total", "Datagrams of a known kind with the wrong size." },
		{ SEG_STAT_UNKNOWN, "pitwall_feed_unknown_format_total", "Datagrams of an unknown kind or format." },
		{ SEG_STAT_KERNEL_DROPS, "pitwall_feed_kernel_drops_total", "Datagrams the kernel dropped." },
		{ SEG_STAT_RELAYED, "pitwall_feed_relayed_total", "Datagrams relayed." },
	};
	struct feedstat *rows = calloc(FEEDSTAT_MAX, sizeof *rows);
	int n = rows ? read_all(rows, 0) : 0;
	size_t cap = 262144, len = 0;
	char *out = malloc(cap), head[160];

	(void)cbdata;
	if (!api_authorized(c)) {
		free(rows);
		free(out);
		return 401;
	}
#define EMIT(...) (len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, __VA_ARGS__))
	for (size_t k = 0; out && k < sizeof ctr / sizeof *ctr; k++) {
		EMIT("# HELP %s %s\n# TYPE %s counter\n", ctr[k].name, ctr[k].help, ctr[k].name);
		for (int i = 0; i < n; i++)
			EMIT("%s{feed=\"%s\"} %llu\n", ctr[k].name, rows[i].name,
			     (unsigned long long)rows[i].v[ctr[k].stat]);
	}
	if (out) {
		EMIT("# HELP pitwall_feed_up 1 when the feed received a packet in the last 2 s.\n"
		     "# TYPE pitwall_feed_up gauge\n");
		for (int i = 0; i < n; i++)
			EMIT("pitwall_feed_up{feed=\"%s\"} %d\n", rows[i].name, rows[i].status == SEG_UP);
		EMIT("# HELP pitwall_feed_frames_per_second Frames per second over the last second.\n"
		     "# TYPE pitwall_feed_frames_per_second gauge\n");
		for (int i = 0; i < n; i++)
			EMIT("pitwall_feed_frames_per_second{feed=\"%s\"} %.3f\n", rows[i].name,
			     rows[i].v[SEG_STAT_FRAME_RATE_MHZ] / 1000.0);
		EMIT("# HELP pitwall_api_requests_total HTTP requests answered.\n# TYPE pitwall_api_requests_total counter\n"
		     "pitwall_api_requests_total %llu\n", (unsigned long long)g_api.requests);
		EMIT("# HELP pitwall_api_errors_total HTTP error responses by class.\n# TYPE pitwall_api_errors_total counter\n"
		     "pitwall_api_errors_total{class=\"4xx\"} %llu\npitwall_api_errors_total{class=\"5xx\"} %llu\n",
		     (unsigned long long)g_api.errors_4xx, (unsigned long long)g_api.errors_5xx);
		EMIT("# HELP pitwall_api_store_calls_total Commands sent to the store.\n# TYPE pitwall_api_store_calls_total counter\n"
		     "pitwall_api_store_calls_total %llu\n", (unsigned long long)g_api.store_calls);
		EMIT("# HELP pitwall_api_store_unavailable_total Store commands that got no answer in time.\n"
		     "# TYPE pitwall_api_store_unavailable_total counter\npitwall_api_store_unavailable_total %llu\n",
		     (unsigned long long)g_api.store_unavailable);
		if (g_ws) {
			static struct ws_stats w;
			ws_stats(g_ws, &w);
			EMIT("# HELP ws_clients_connected WebSocket clients connected.\n# TYPE ws_clients_connected gauge\n"
			     "ws_clients_connected %llu\n", (unsigned long long)w.clients);
			EMIT("# HELP ws_frames_sent_total WebSocket messages sent, by type.\n# TYPE ws_frames_sent_total counter\n");
			for (unsigned t = 0; t < WS_T_COUNT; t++)
				if (w.sent[t])
					EMIT("ws_frames_sent_total{type=\"%s\"} %llu\n", ws_type_name(t),
					     (unsigned long long)w.sent[t]);
			EMIT("# HELP ws_frames_dropped_total WebSocket messages dropped, by type and reason.\n"
			     "# TYPE ws_frames_dropped_total counter\n");
			for (unsigned t = 0; t < WS_T_COUNT; t++)
				for (unsigned r = 0; r < WS_DROP_COUNT; r++)
					if (w.dropped[t][r] || (t == 0 && r == 0))
						EMIT("ws_frames_dropped_total{type=\"%s\",reason=\"%s\"} %llu\n",
						     ws_type_name(t), ws_drop_name(r),
						     (unsigned long long)w.dropped[t][r]);
		}
	}
#undef EMIT
	if (!out || len >= cap) {
		free(rows);
		free(out);
		return http_error(c, 500, MSG_E_INTERNAL, "metrics did not fit");
	}
	g_api.requests++;
	snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
		 "Content-Length: %zu\r\n\r\n", len);
	mg_write(c, head, strlen(head));
	mg_write(c, out, len);
	free(rows);
	free(out);
	return 200;
}
