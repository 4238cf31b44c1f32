/*
 * feeds.c - the store's view of every feed: attaches to each configured
 * feed's segment (and to segments that appear or are re-created later),
 * publishes feed.<feed> status changes, every frame as frame.<feed> (while
 * the bus has a subscriber for it) and completed laps as lap.<feed>.
 * feeds_drain runs whenever the loop wakes (a capture published), feeds_tick
 * on the loop's housekeeping period.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/laps.h"
#include "common/log.h"
#include "store/store.h"

#define ATTACH_RETRY_NS (500 * NS_PER_MS)
#define FRAMES_PER_TICK 20000 /* bounded work per feed per loop turn */
#define FRAME_JSON_MAX 8192

int feeds_init(struct store *st)
{
	st->publish_frames = st->cfg.bus_frames;
	for (int i = 0; i < st->cfg.nfeeds && i < CONFIG_MAX_FEEDS; i++) {
		struct feed *f = &st->feeds[st->nfeeds++];

		memset(f, 0, sizeof *f);
		memcpy(f->name, st->cfg.feeds[i].name, sizeof f->name);
		f->name[sizeof f->name - 1] = 0;
		f->status = -1;
		if (topic_feed_name(&f->frame_topic, TOPIC_FRAME, f->name) < 0)
			f->frame_topic.s[0] = 0; /* not a valid topic: never published */
		if (!(f->laps = laps_new()))
			return -ENOMEM;
	}
	return 0;
}

void feeds_fini(struct store *st)
{
	for (int i = 0; i < st->nfeeds; i++) {
		seg_close(st->feeds[i].seg);
		laps_free(st->feeds[i].laps);
	}
	st->nfeeds = 0;
}

struct feed *feed_find(struct store *st, const char *name)
{
	for (int i = 0; name && i < st->nfeeds; i++)
		if (strcmp(st->feeds[i].name, name) == 0)
			return &st->feeds[i];
	return NULL;
}

/* (Re)attach when absent or re-created; the live cursor starts at "now" on the
 * first attach and keeps its place across a capture restart. */
static void attach(struct store *st, struct feed *f, int64_t now)
{
	int rc = seg_follow(&f->seg, &f->next_attach_ns, st->cfg.instance, f->name, now,
			    ATTACH_RETRY_NS);

	if (rc < 0) {
		if (rc != -ENOENT)
			log_warn("msg=\"cannot attach feed segment\" feed=%s error=\"%s\"", f->name,
				 strerror(-rc));
	} else if (rc == SEG_FOLLOW_REPLACED) {
		log_info("msg=\"feed segment re-created, re-attached\" feed=%s", f->name);
		if (f->cur.next > seg_write_seq(f->seg))
			f->cur.next = seg_write_seq(f->seg);
		f->cur.lap_guard = 0; /* a new segment: a lap of it is its first (seg.h) */
	} else if (rc == SEG_FOLLOW_NEW) {
		f->cur.next = seg_write_seq(f->seg);
		f->cur.lap_guard = 0;
		log_info("msg=\"feed attached\" feed=%s seq=%llu", f->name,
			 (unsigned long long)f->cur.next);
	}
}

struct seg *feed_seg_live(struct store *st, const char *name)
{
	struct feed *f = feed_find(st, name);

	return f ? f->seg : NULL;
}

struct seg *feed_seg(struct store *st, const char *name)
{
	struct feed *f = feed_find(st, name);

	if (!f)
		return NULL;
	f->next_attach_ns = 0;
	attach(st, f, clock_mono_ns());
	return f->seg;
}

static void publish_status(struct store *st, struct feed *f, int64_t now_ns)
{
	int status = f->seg ? (int)seg_status(f->seg, now_ns) : SEG_DOWN;
	struct pw_meta m = { 0 };

	if (status == f->status)
		return;
	f->status = status;
	if (f->seg)
		seg_meta_read(f->seg, &m);
	bus_publish_feed(st, TOPIC_FEED, f->name,
			 json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "feed", f->name, "status",
				   seg_status_name((enum seg_status)status), "game", m.game, "car",
				   m.car, "track", m.track, "driver", m.driver, "write_seq",
				   (json_int_t)(f->seg ? seg_write_seq(f->seg) : 0)));
	log_info("msg=\"feed status\" feed=%s status=%s", f->name,
		 seg_status_name((enum seg_status)status));
}

static void publish_laps(struct store *st, struct feed *f, const struct lap_event *ev, int n)
{
	char buf[2048];

	for (int i = 0; i < n; i++) {
		json_t *o;
		json_error_t jerr;

		lap_event_to_json(&ev[i], buf, sizeof buf);
		if ((o = json_loads(buf, 0, &jerr))) {
			json_object_set_new(o, "feed", json_string(f->name));
			bus_publish_feed(st, TOPIC_LAP, f->name, o);
		}
	}
}

/* frame.<feed> is formatted only while a subscriber would receive it. */
static int frames_wanted(struct store *st, struct feed *f)
{
	uint64_t gen = bus_subscriptions();

	if (!st->publish_frames || !f->frame_topic.s[0])
		return 0;
	if (gen != f->subs_seen) {
		f->subs_seen = gen;
		f->frames_wanted = bus_wanted(f->frame_topic.s);
	}
	return f->frames_wanted;
}

/* Returns the frames read. */
static int drain(struct store *st, struct feed *f)
{
	struct pw_frame fr;
	struct lap_event ev[LAPS_MAX_EVENTS];
	char line[FRAME_JSON_MAX];
	int publish = frames_wanted(st, f), i;

	for (i = 0; i < FRAMES_PER_TICK && seg_read(f->seg, &f->cur, &fr) == 1; i++) {
		int n = laps_feed(f->laps, &fr, ev, LAPS_MAX_EVENTS);

		if (n > 0)
			publish_laps(st, f, ev, n);
		if (publish && frame_to_json(&fr, line, sizeof line) < sizeof line) {
			bus_publish_raw(st, &f->frame_topic, line);
			f->published++;
		}
	}
	return i;
}

int feeds_drain(struct store *st)
{
	int total = 0, subscribed = 0;

	for (int i = 0; i < st->nfeeds; i++) {
		struct feed *f = &st->feeds[i];
		int n;

		if (!f->seg)
			continue;
		n = drain(st, f);
		total += n;
		subscribed |= frames_wanted(st, f);
		if (n && f->status != SEG_UP) /* the first frame after a silence: up at once */
			publish_status(st, f, clock_now_ns());
	}
	st->frames_subscribed = subscribed;
	return total;
}

void feeds_tick(struct store *st, int64_t now_ns)
{
	int64_t mono = clock_mono_ns();

	for (int i = 0; i < st->nfeeds; i++) {
		struct feed *f = &st->feeds[i];

		attach(st, f, mono);
		publish_status(st, f, now_ns);
	}
}
