/*
 * ws_pacer.c - the pacer thread (ws_int.h). It owns the feed rings
 * (seg_attach read-only) and, every WS_POLL_NS (WS_IDLE_POLL_NS while no
 * client is connected and no feed is up), reads each feed's status and
 * newest frame, detects the game's sessions and checks every client's idle,
 * ping, slow-consumer and close deadlines.
 *
 * Telemetry follows the frames. A client's tick (every 1/rate s, on a fixed
 * grid) makes it due; a due client gets the newest frames as soon as one of
 * its feeds publishes a frame after the tick, so what it receives is as
 * fresh as the pipeline allows, not up to a frame period old; if none comes
 * within half a period (a feed slower than the client's rate) it gets the
 * newest frames then. While a client is due the pacer sleeps on the feed
 * rings' notify words (common/wake.h) as well as on its own word
 * (ws_pacer_wake), so it wakes at the publish. A telemetry message is built
 * once per distinct feed mask in a pass and shared by reference.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ws_int.h"
#include "common/log.h"
#include "common/wake.h"

void ws_session_id(const struct ws_feed *f, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s-%016llx", f->name, (unsigned long long)f->game_session);
}

static void feed_attach(struct ws *ws, struct ws_feed *f, int64_t now)
{
	int rc = seg_follow(&f->seg, &f->next_attach_ns, ws->instance, f->name, now,
			    WS_ATTACH_RETRY_NS);

	if (rc < 0) {
		if (rc != -ENOENT && !f->attach_warned)
			log_warn("msg=\"ws: cannot attach feed segment\" feed=%s error=\"%s\"",
				 f->name, strerror(-rc));
		f->attach_warned = rc != -ENOENT;
		return;
	}
	if (rc == SEG_FOLLOW_SAME)
		return;
	f->attach_warned = false;
	f->json_valid = false;
}

/* ---- game sessions (ws->lock held) ---- */

static void session_json_common(json_t *o, const struct ws_feed *f)
{
	char id[64], gs[24];

	ws_session_id(f, id, sizeof id);
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
	m = ws_msg_json(WS_T_SESSION_STARTED, o);
	if (m)
		ws_fanout(ws, m, idx);
	ws_msg_unref(m);
}

/* session_ended for the seed-004 clients that were told this session began. */
static void seed_session_end(struct ws *ws, struct ws_feed *f, int idx, double duration_s,
			     const char *reason)
{
	struct ws_msg *m = ws_seed_session_ended(
		f, duration_s,
		f->lap_known ? json_integer((json_int_t)(f->lap_last - f->lap_first)) : NULL,
		reason);

	for (struct ws_client *c = ws->clients; m && c; c = c->next) {
		if (!c->seed)
			continue;
		pthread_mutex_lock(&c->lock);
		if (c->seed_feed == idx && c->seed_told && c->seed_session == f->game_session) {
			c->seed_told = false;
			if (c->events & BIT(WS_T_SESSION_ENDED))
				ws_enqueue_event(c, m);
		}
		pthread_mutex_unlock(&c->lock);
	}
	ws_msg_unref(m);
}

static void session_end(struct ws *ws, struct ws_feed *f, int idx, const char *reason)
{
	json_t *o = json_object();
	struct ws_msg *m;
	double duration_s = (double)(clock_now_ns() - f->session_start_ns) / 1e9;

	seed_session_end(ws, f, idx, duration_s, reason);
	session_json_common(o, f);
	json_object_set_new(o, "duration_s", json_real(duration_s));
	json_object_set_new(o, "lap_count",
			    f->lap_known ? json_integer((json_int_t)(f->lap_last - f->lap_first))
					 : json_null());
	json_object_set_new(o, "reason", json_string(reason));
	log_info("msg=\"game session ended\" feed=%s game_session=%llu reason=%s", f->name,
		 (unsigned long long)f->game_session, reason);
	f->in_session = false;
	m = ws_msg_json(WS_T_SESSION_ENDED, o);
	if (m)
		ws_fanout(ws, m, idx);
	ws_msg_unref(m);
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
	if (f->have_latest)
		ws_seed_lap_track(&f->seed_lap, &f->latest);
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
				ws_client_close(c, 1011, "idle timeout", false);
			} else if (c->eq_len &&
				   now - c->eq[c->eq_head].enq_ns >= WS_SLOW_MS * NS_PER_MS) {
				ws_slow_consumer(c);
			} else if (now - c->last_ping_ns >= ws->ping_ns) {
				struct ws_msg *m = ws_msg_control(
					WS_T_CTL_PING, MG_WEBSOCKET_OPCODE_PING, "pitwall", 7);

				ws_enqueue_event(c, m);
				ws_msg_unref(m);
				c->last_ping_ns = now;
			}
		}
		if ((c->state == CS_CLOSING || c->state == CS_CLOSE_SENT) &&
		    now >= c->close_deadline_ns)
			ws_client_shutdown(c);
		pthread_mutex_unlock(&c->lock);
	}
}

/* ---- seed-004 clients (ws->lock held) ---- */

/* The first live feed, -1 when none is. */
static int first_live(const struct ws *ws)
{
	for (int i = 0; i < ws->nfeeds; i++)
		if (ws->feeds[i].live)
			return i;
	return -1;
}

/*
 * Each seed-004 client's feed and game session: a client without ?feed=
 * takes the first live feed, and the first live one again when its feed's
 * session has ended; a client whose feed is in a session it was not told
 * about gets its session_started (also right after connecting).
 */
static void seed_sync(struct ws *ws)
{
	int live = first_live(ws);

	for (struct ws_client *c = ws->clients; c; c = c->next) {
		const struct ws_feed *f;
		struct ws_msg *m;

		if (!c->seed)
			continue;
		pthread_mutex_lock(&c->lock);
		if (!c->seed_fixed && live >= 0 &&
		    (c->seed_feed < 0 || !ws->feeds[c->seed_feed].in_session) &&
		    c->seed_feed != live) {
			c->seed_feed = live;
			c->seed_told = false;
			c->feeds = 1u << live;
		}
		f = c->seed_feed >= 0 ? &ws->feeds[c->seed_feed] : NULL;
		if (f && f->in_session && !(c->seed_told && c->seed_session == f->game_session) &&
		    c->state == CS_OPEN) {
			c->seed_told = true;
			c->seed_session = f->game_session;
			if ((c->events & BIT(WS_T_SESSION_STARTED)) &&
			    (m = ws_seed_session_started(f))) {
				ws_enqueue_event(c, m);
				ws_msg_unref(m);
			}
		}
		pthread_mutex_unlock(&c->lock);
	}
}

/* ---- manifests (?manifest=) ---- */

static void slot_clear(struct ws_manifest *sl)
{
	for (int i = 0; i < CONFIG_MAX_FEEDS; i++)
		manifest_eval_free(sl->feed[i].ev);
	manifest_free(sl->m);
	free(sl->doc);
	memset(sl, 0, sizeof *sl);
}

int ws_manifest_acquire(struct ws *ws, struct manifest *m)
{
	json_t *j = manifest_json(m);
	char *doc = j ? json_dumps(j, JSON_COMPACT) : NULL;
	int free_slot = -1;

	json_decref(j);
	for (int i = 0; doc && i < WS_MANIFESTS_MAX; i++) {
		struct ws_manifest *sl = &ws->manifests[i];

		if (sl->m && strcmp(sl->doc, doc) == 0) {
			sl->clients++;
			manifest_free(m);
			free(doc);
			return i;
		}
		if (free_slot < 0 && (!sl->m || sl->clients == 0))
			free_slot = i;
	}
	if (doc && free_slot >= 0) {
		struct ws_manifest *sl = &ws->manifests[free_slot];

		slot_clear(sl);
		sl->m = m;
		sl->doc = doc;
		sl->clients = 1;
		for (int i = 0; i < ws->nfeeds; i++) {
			if (manifest_eval_new(m, &sl->feed[i].ev) < 0) {
				slot_clear(sl);
				return -1;
			}
		}
		return free_slot;
	}
	manifest_free(m);
	free(doc);
	return -1;
}

void ws_manifest_release(struct ws *ws, int i)
{
	if (i >= 0 && i < WS_MANIFESTS_MAX && ws->manifests[i].clients)
		ws->manifests[i].clients--;
}

void ws_manifests_free(struct ws *ws)
{
	for (int i = 0; i < WS_MANIFESTS_MAX; i++)
		slot_clear(&ws->manifests[i]);
}

/* Every frame of every feed since the last pass through each manifest in use,
 * in ring order (derivative and integral need them all), from the newest frame
 * when the manifest's first client connected or the feed's segment was
 * (re)created. */
static void manifests_advance(struct ws *ws)
{
	for (int k = 0; k < WS_MANIFESTS_MAX; k++) {
		struct ws_manifest *sl = &ws->manifests[k];

		if (!sl->m || !sl->clients)
			continue;
		for (int i = 0; i < ws->nfeeds; i++) {
			struct ws_manifest_feed *mf = &sl->feed[i];
			struct seg *seg = ws->feeds[i].seg;
			struct pw_frame f;

			if (!seg)
				continue;
			if (mf->seg != seg) {
				uint64_t w = seg_write_seq(seg);

				/* from the newest frame: a first client gets values at once */
				mf->seg = seg;
				mf->cur = (struct seg_cursor){ w ? w - 1 : 0, 0 };
				mf->have = false;
				manifest_eval_reset(mf->ev);
			}
			while (seg_read(seg, &mf->cur, &f) == 1) {
				manifest_apply(mf->ev, &f, mf->v);
				mf->last = f;
				mf->have = true;
			}
		}
	}
}

/* ---- telemetry ---- */

/* Read feed f's newest frame into f->latest; whether it has one. */
static bool feed_latest(struct ws_feed *f)
{
	if (f->seg && seg_read_latest(f->seg, &f->latest))
		f->have_latest = true;
	return f->have_latest;
}

/* The newest frame of feed f as JSON (cached by sequence); NULL when none. */
static const char *frame_json(struct ws_feed *f, size_t *len)
{
	if (!feed_latest(f))
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

/* Append n bytes of s at *p, which has room for them (sized by the caller). */
static void put(char **p, const char *s, size_t n)
{
	memcpy(*p, s, n);
	*p += n;
}

/* The newest frame the manifest of slot k read on feed i, with its derived
 * channels as members, into buf[cap]; its length, 0 when there is none. */
static size_t manifest_frame_json(struct ws *ws, int k, int i, char *buf, size_t cap)
{
	struct ws_manifest_feed *mf = &ws->manifests[k].feed[i];
	size_t n;

	if (!mf->have || (n = frame_to_json(&mf->last, buf, cap)) >= cap)
		return 0;
	n--; /* the members go inside the object */
	n += manifest_json_members(ws->manifests[k].m, mf->v, buf + n, cap - n - 1);
	if (n >= cap - 1)
		return 0;
	buf[n++] = '}';
	return n;
}

/* telemetry: data {"snapshot":bool,"frames":{"<feed>":<frame>,...}} for the feeds in mask;
 * with a manifest (slot >= 0), each frame with its derived channels. */
static struct ws_msg *telemetry_msg(struct ws *ws, uint32_t mask, bool snapshot, int slot)
{
	static const char head_true[] = "{\"snapshot\":true,\"frames\":{";
	static const char head_false[] = "{\"snapshot\":false,\"frames\":{";
	size_t cap = 64, n, scratch_cap = WS_FRAME_JSON_MAX + WS_MANIFEST_JSON_MAX;
	char *data, *p, *scratch = slot >= 0 ? malloc(scratch_cap) : NULL;
	struct ws_msg *m;

	for (int i = 0; i < ws->nfeeds; i++)
		if (mask & (1u << i))
			cap += WS_FRAME_JSON_MAX + WS_MANIFEST_JSON_MAX + sizeof ws->feeds[i].name +
			       8;
	if (!(data = malloc(cap))) {
		free(scratch);
		return NULL;
	}
	p = data;
	if (snapshot)
		put(&p, head_true, sizeof head_true - 1);
	else
		put(&p, head_false, sizeof head_false - 1);
	n = 0;
	for (int i = 0; i < ws->nfeeds; i++) {
		const char *js = NULL;
		size_t jl = 0;

		if (!(mask & (1u << i)))
			continue;
		if (scratch && (jl = manifest_frame_json(ws, slot, i, scratch, scratch_cap)))
			js = scratch;
		else if (!(js = frame_json(&ws->feeds[i], &jl)))
			continue;
		if (n++)
			put(&p, ",", 1);
		put(&p, "\"", 1);
		put(&p, ws->feeds[i].name, strlen(ws->feeds[i].name));
		put(&p, "\":", 2);
		put(&p, js, jl);
	}
	free(scratch);
	put(&p, "}}", 2);
	m = ws_msg_envelope(WS_T_TELEMETRY, data, (size_t)(p - data));
	free(data);
	return m;
}

#define WS_PASS_CACHE 8

/* One message per distinct feed mask in a pass, shared by the clients that want it. */
struct pass_cache {
	uint32_t mask[WS_PASS_CACHE]; /* seed: the feed's bit, 0 for none */
	bool snapshot[WS_PASS_CACHE];
	bool seed[WS_PASS_CACHE];
	int slot[WS_PASS_CACHE];
	struct ws_msg *msg[WS_PASS_CACHE];
	int n;
};

/* The seed-004 telemetry of feed idx (-1: none) from its newest frame; it
 * says is_race_on false when the feed is not live (a snapshot of a feed that
 * is down). */
static struct ws_msg *seed_telemetry_msg(struct ws *ws, int idx)
{
	struct ws_feed *f = idx >= 0 ? &ws->feeds[idx] : NULL;

	if (f)
		feed_latest(f);
	return ws_seed_telemetry_msg(f, f && f->live);
}

static struct ws_msg *cached_telemetry(struct ws *ws, struct pass_cache *pc, uint32_t mask,
				       bool snapshot, bool seed, int slot)
{
	struct ws_msg *m;

	for (int i = 0; i < pc->n; i++)
		if (pc->mask[i] == mask && pc->snapshot[i] == snapshot && pc->seed[i] == seed &&
		    pc->slot[i] == slot)
			return ws_msg_ref(pc->msg[i]);
	m = seed ? seed_telemetry_msg(ws, mask ? __builtin_ctz(mask) : -1)
		 : telemetry_msg(ws, mask, snapshot, slot);
	if (!m)
		return NULL;
	if (pc->n < WS_PASS_CACHE) {
		pc->mask[pc->n] = mask;
		pc->snapshot[pc->n] = snapshot;
		pc->seed[pc->n] = seed;
		pc->slot[pc->n] = slot;
		pc->msg[pc->n++] = ws_msg_ref(m);
	}
	return m;
}

/* A seed-004 client's snapshot: its feed, else the first feed with a frame. */
static uint32_t seed_snapshot_mask(const struct ws *ws, const struct ws_client *c, uint32_t have)
{
	if (c->seed_feed >= 0)
		return 1u << c->seed_feed;
	for (int i = 0; i < ws->nfeeds; i++)
		if (have & (1u << i))
			return 1u << i;
	return 0;
}

/* The write sequences of the feeds in mask, added up: it moves with every
 * frame any of them publishes. */
static uint64_t seq_sum(const uint64_t wseq[], int nfeeds, uint32_t mask)
{
	uint64_t sum = 0;

	for (int i = 0; i < nfeeds; i++)
		if (mask & (1u << i))
			sum += wseq[i];
	return sum;
}

/* The client's next tick on its grid (never in the past). */
static void next_tick(struct ws_client *c, int64_t now)
{
	c->next_tick_ns += c->period_ns;
	if (c->next_tick_ns <= now)
		c->next_tick_ns = now + c->period_ns;
}

/*
 * Telemetry for the clients that are due and snapshots asked for; *next = the
 * earliest tick or hold, *frames = some client waits for a frame.
 */
static void telemetry_pass(struct ws *ws, int64_t now, int64_t *next, bool *frames)
{
	struct pass_cache pc = { .n = 0 };
	uint32_t have = 0;
	uint64_t wseq[CONFIG_MAX_FEEDS];

	manifests_advance(ws);
	for (int i = 0; i < ws->nfeeds; i++) {
		if (ws->feeds[i].seg || ws->feeds[i].have_latest)
			have |= 1u << i;
		wseq[i] = ws->feeds[i].seg ? seg_write_seq(ws->feeds[i].seg) : 0;
	}
	for (struct ws_client *c = ws->clients; c; c = c->next) {
		struct ws_msg *m;

		pthread_mutex_lock(&c->lock);
		if (c->state != CS_OPEN) {
			pthread_mutex_unlock(&c->lock);
			continue;
		}
		if (c->snapshot_pending) {
			c->snapshot_pending = false;
			if (c->seed)
				m = cached_telemetry(ws, &pc, seed_snapshot_mask(ws, c, have), true,
						     true, -1);
			else
				m = cached_telemetry(ws, &pc, c->feeds & have, true, false,
						     c->manifest);
			ws_enqueue_event(c, m);
			ws_msg_unref(m);
		}
		if (c->events & BIT(WS_T_TELEMETRY)) {
			uint32_t live = c->feeds & ws->live_mask;

			/* half a millisecond early is on time: the wake-up is late by that much */
			if (!c->due && c->next_tick_ns - now <= NS_PER_MS / 2) {
				c->due = true;
				c->due_seq = seq_sum(wseq, ws->nfeeds, c->feeds);
				c->hold_ns = c->next_tick_ns + c->period_ns / 2;
			}
			if (c->due && !live) { /* no message while none of its feeds is up */
				c->due = false;
				next_tick(c, now);
			} else if (c->due && (seq_sum(wseq, ws->nfeeds, c->feeds) != c->due_seq ||
					      now >= c->hold_ns)) {
				c->due = false;
				next_tick(c, now);
				m = cached_telemetry(ws, &pc, live, false, c->seed, c->manifest);
				ws_enqueue_telemetry(c, m);
				ws_msg_unref(m);
			}
			if (c->due) {
				*frames = true;
				if (c->hold_ns < *next)
					*next = c->hold_ns;
			} else if (c->next_tick_ns < *next) {
				*next = c->next_tick_ns;
			}
		}
		pthread_mutex_unlock(&c->lock);
	}
	for (int i = 0; i < pc.n; i++)
		ws_msg_unref(pc.msg[i]);
}

void ws_pacer_wake(struct ws *ws)
{
	ws->wake = true;
	wake_bump(&ws->pacer_word);
}

/* Any feed up or in a game session, or any client: poll at WS_POLL_NS. */
static bool active(const struct ws *ws)
{
	if (ws->clients || ws->live_mask)
		return true;
	for (int i = 0; i < ws->nfeeds; i++)
		if (ws->feeds[i].in_session)
			return true;
	return false;
}

/*
 * Sleep (ws->lock held, released meanwhile) until next, ws_pacer_wake, or a
 * frame on a ring whose notify value was seen[i]: every ring when frames
 * (a client waits for one), the rings of feeds that are not up otherwise (so
 * the first frame after a silence starts the game session at once). Returns
 * true when a feed that was not up published.
 */
static bool pacer_sleep(struct ws *ws, const uint32_t seen[], uint32_t word, bool frames,
			int64_t next)
{
	struct wake_set wset;
	uint32_t quiet = 0;
	bool woke;

	wake_set_init(&wset);
	wake_add(&wset, &ws->pacer_word, word, WAKE_PRIVATE);
	for (int i = 0; i < ws->nfeeds; i++) {
		struct ws_feed *f = &ws->feeds[i];

		if (!f->seg || (!frames && f->live))
			continue;
		wake_add(&wset, seg_notify_word(f->seg), seen[i], WAKE_SHARED);
		if (!f->live)
			quiet |= 1u << i;
	}
	pthread_mutex_unlock(&ws->lock);
	woke = wake_wait(&wset, next);
	pthread_mutex_lock(&ws->lock);
	if (woke)
		for (int i = 0; i < ws->nfeeds; i++)
			if ((quiet & (1u << i)) && ws->feeds[i].seg &&
			    seg_notify_value(ws->feeds[i].seg) != seen[i])
				return true;
	return false;
}

void *ws_pacer_main(void *arg)
{
	struct ws *ws = arg;
	int64_t next_poll = 0;

	pthread_mutex_lock(&ws->lock);
	while (!ws->quit) {
		int64_t now = clock_mono_ns(), next;
		uint32_t seen[CONFIG_MAX_FEEDS], word = atomic_load(&ws->pacer_word);
		bool frames = false;

		ws->wake = false;
		if (now >= next_poll) {
			int64_t real = clock_now_ns();

			pthread_mutex_unlock(&ws->lock);
			for (int i = 0; i < ws->nfeeds; i++)
				feed_attach(ws, &ws->feeds[i], now);
			pthread_mutex_lock(&ws->lock);
			for (int i = 0; i < ws->nfeeds; i++)
				feed_poll(ws, &ws->feeds[i], i, now, real);
			seed_sync(ws);
			housekeeping(ws, now);
			next_poll = now + (active(ws) ? WS_POLL_NS : WS_IDLE_POLL_NS);
		}
		/* the rings' values before their frames are read: a frame after that ends the sleep */
		for (int i = 0; i < ws->nfeeds; i++)
			seen[i] = ws->feeds[i].seg ? seg_notify_value(ws->feeds[i].seg) : 0;
		next = next_poll;
		telemetry_pass(ws, now, &next, &frames);
		if (ws->wake || ws->quit)
			continue;
		if (pacer_sleep(ws, seen, word, frames, next))
			next_poll = 0;
	}
	pthread_mutex_unlock(&ws->lock);
	return NULL;
}
