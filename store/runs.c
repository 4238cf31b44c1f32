/*
 * runs.c - runs: their commands, draining recording runs from the rings into
 * frame files while they record, durability, and resuming after a restart.
 *
 * A recording run has a cursor on its feed's ring starting at start_marker
 * (the ring's write sequence when the run started). Every loop turn the new
 * frames are appended to sessions/<session>/<run>.frames (common/framefile.h);
 * at least once a second they are made durable and frame_count follows.
 * A run's stored timeline is its primary feed: with merge_feeds, the extra
 * feeds' frames within the merge window fill channels the primary lacks
 * (store/merge.h); extra frames near no primary frame are counted, not
 * stored, so a stored frame's seq is always the primary ring's sequence and
 * a run can resume exactly after a store restart.
 *
 * data_truncated is set only when frames were really lost: the cursor was
 * lapped by the ring (the store fell behind a full ring), or the store was
 * down longer than the ring holds; frames_lost is the exact count.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/atomicio.h"
#include "common/clock.h"
#include "common/framefile.h"
#include "common/laps.h"
#include "common/log.h"
#include "store/cmd.h"
#include "store/merge.h"
#include "store/store.h"

#define SYNC_NS (1000 * NS_PER_MS) /* durability: at least once a second */
#define SAVE_NS (5000 * NS_PER_MS) /* metadata (frame_count, laps) refresh */
#define DRAIN_MAX 20000            /* frames per run per loop turn */
#define BATCH 1024

struct run_live {
	struct run_live *next;
	struct session *s;
	char run_id[ID_LEN + 1];
	struct framefile_writer *w;
	int nsrc; /* 1 + merge feeds */
	char src[MERGE_SOURCES_MAX][IDS_FEED_MAX + 1];
	struct seg_cursor cur[MERGE_SOURCES_MAX];
	struct merge *mg;
	struct laps *laps;
	struct live_eng *eng; /* per-lap jobs (general sessions), or NULL */
	uint64_t last_seq;    /* of the last appended frame */
	uint64_t appended;
	uint64_t extra_only;          /* merged frames not stored (primary gaps) */
	int64_t last_sync, last_save; /* monotonic */
	int dirty;                    /* the session file needs saving */
	uint64_t changes;             /* bumped with dirty: what readers see changed */
	uint64_t progress;            /* only the durable frame count moved */
	struct pw_frame batch[BATCH];
	int nbatch;
};

int run_frames_path(const struct store *st, const struct session *s, const struct run *r, char *buf,
		    size_t cap)
{
	return (size_t)snprintf(buf, cap, "%s/%s/%s.frames", st->sessions_dir, s->id, r->id) < cap
		       ? 0
		       : -ENAMETOOLONG;
}

static struct run *live_run(struct run_live *l)
{
	return run_find(l->s, l->run_id);
}

static json_t *run_event(const struct session *s, const struct run *r)
{
	json_t *o = run_json(r);

	json_object_set_new(o, "session_id", json_string(s->id));
	return o;
}

/* The session's car_name and the run's game/track/driver, from the feed's metadata. */
static void cache_meta(struct store *st, struct session *s, struct run *r)
{
	struct seg *seg = feed_seg(st, r->feed);
	struct pw_meta m;

	if (!seg || !seg_meta_read(seg, &m))
		return;
	if (m.car[0])
		snprintf(s->car_name, sizeof s->car_name, "%.*s", (int)sizeof s->car_name - 1,
			 m.car);
	if (m.game[0])
		snprintf(r->game, sizeof r->game, "%.*s", (int)sizeof r->game - 1, m.game);
	if (m.track[0])
		snprintf(r->track, sizeof r->track, "%.*s", (int)sizeof r->track - 1, m.track);
	if (m.driver[0])
		snprintf(r->driver, sizeof r->driver, "%.*s", (int)sizeof r->driver - 1, m.driver);
}

/* The run's visible state changed (frame count, laps, losses): its session
 * file needs saving, and readers of the status page a new generation. */
static void mark_changed(struct run_live *l)
{
	l->dirty = 1;
	l->changes++;
}

static void live_free(struct run_live *l)
{
	merge_free(l->mg);
	laps_free(l->laps);
	live_eng_free(l->eng);
	free(l);
}

static void unlink_live(struct store *st, struct run_live *l)
{
	for (struct run_live **p = &st->live; *p; p = &(*p)->next)
		if (*p == l) {
			*p = l->next;
			return;
		}
}

static struct run_live *find_live(struct store *st, const char *run_id)
{
	for (struct run_live *l = st->live; l; l = l->next)
		if (strcmp(l->run_id, run_id) == 0)
			return l;
	return NULL;
}

/* Laps of the run's own stream, stored with the run as lap objects; a late
 * invalidation replaces the lap it names. A completed lap of a general
 * session also becomes a per-lap job (engineer.c). */
static void track_laps(struct store *st, struct run_live *l, struct run *r,
		       const struct pw_frame *f)
{
	struct lap_event ev[LAPS_MAX_EVENTS];
	char buf[2048];
	int n = laps_feed(l->laps, f, ev, LAPS_MAX_EVENTS);

	for (int i = 0; i < n; i++) {
		json_t *o, *old;
		json_error_t jerr;
		size_t j;

		if (ev[i].kind == LAP_SESSION_CHANGED) {
			if (l->eng)
				live_eng_reset(l->eng);
			continue;
		}
		if (ev[i].kind == LAP_COMPLETED && l->eng)
			live_eng_lap(st, l->eng, l->s, r, &ev[i].lap);
		lap_to_json(&ev[i].lap, buf, sizeof buf);
		if (!(o = json_loads(buf, 0, &jerr)))
			continue;
		mark_changed(l);
		if (ev[i].kind == LAP_INVALIDATED)
			json_array_foreach(r->laps, j, old)
				if (json_equal(json_object_get(old, "number"),
					       json_object_get(o, "number")) &&
				    json_equal(json_object_get(old, "game_session"),
					       json_object_get(o, "game_session"))) {
					json_array_set_new(r->laps, j, o);
					o = NULL;
					break;
				}
		if (o)
			json_array_append_new(r->laps, o);
	}
}

/* Append the batch; on an I/O error the writer has rolled back to its last
 * durable state and the error is returned. */
static int flush_batch(struct run_live *l)
{
	int rc = 0;

	if (l->nbatch)
		rc = framefile_append(l->w, l->batch, (size_t)l->nbatch);
	l->nbatch = 0;
	return rc;
}

static int store_frame(struct store *st, struct run_live *l, struct run *r,
		       const struct pw_frame *f)
{
	if (f->seq <= l->last_seq && l->appended) {
		l->extra_only++; /* not the primary's timeline (see the top comment) */
		return 0;
	}
	l->batch[l->nbatch++] = *f;
	l->last_seq = f->seq;
	l->appended++;
	if (l->eng)
		live_eng_frame(l->eng, f);
	track_laps(st, l, r, f);
	return l->nbatch == BATCH ? flush_batch(l) : 0;
}

static int is_primary(const struct run_live *l, const struct pw_frame *f)
{
	return f->feed == frame_feed_id(l->src[0]) || frame_feed_id(l->src[0]) == PW_FEED_NONE;
}

static int pop_merged(struct store *st, struct run_live *l, struct run *r)
{
	struct pw_frame out;
	int rc = 0;

	while (rc == 0 && merge_pop(l->mg, &out) == 1) {
		if (is_primary(l, &out))
			rc = store_frame(st, l, r, &out);
		else
			l->extra_only++;
	}
	return rc;
}

static int push_merged(struct store *st, struct run_live *l, struct run *r, int k,
		       const struct pw_frame *f)
{
	/* A full queue takes the frame after a pop round; the merger guarantees
	 * two rounds suffice (store/merge.h). */
	for (int round = 0; round < 3; round++) {
		int rc;
		if (merge_push(l->mg, (unsigned)k, f) != MERGE_FULL)
			return 0;
		if ((rc = pop_merged(st, l, r)) < 0)
			return rc;
	}
	return 0;
}

/* Read what the rings hold for this run, the sources in interleaved slices
 * (SLICE frames each per round) so a backlog of one never runs ahead of the
 * others in the merger. Returns 0 or a negative errno from the writer. */
#define SLICE 256
static int drain_run(struct store *st, struct run_live *l, struct run *r, int64_t now_ns)
{
	struct pw_frame f;
	int rc = 0, total = 0, progress = 1;

	while (rc == 0 && progress && total < DRAIN_MAX) {
		progress = 0;
		for (int k = 0; k < l->nsrc && rc == 0; k++) {
			struct seg *seg = feed_seg_live(st, l->src[k]);
			uint64_t before;
			int i;

			if (!seg)
				continue;
			before = l->cur[k].missed;
			for (i = 0; i < SLICE && rc == 0 && seg_read(seg, &l->cur[k], &f) == 1; i++)
				rc = l->mg ? push_merged(st, l, r, k, &f)
					   : store_frame(st, l, r, &f);
			progress |= i > 0;
			total += i;
			if (k == 0 && l->cur[0].missed != before) {
				r->frames_lost += l->cur[0].missed - before;
				storestat_add(st->stat, STORESTAT_FRAMES_LOST,
					      l->cur[0].missed - before);
				r->data_truncated = 1;
				mark_changed(l);
				log_warn(
					"msg=\"run lost frames: the ring lapped the store\" run=%s lost=%llu",
					r->id, (unsigned long long)(l->cur[0].missed - before));
			}
		}
	}
	if (l->mg && rc == 0) {
		merge_advance(l->mg, now_ns);
		rc = pop_merged(st, l, r);
	}
	return rc ? rc : flush_batch(l);
}

static int sync_run(struct store *st, struct run_live *l, struct run *r)
{
	struct framefile_stats fs;
	int rc = framefile_sync(l->w);

	framefile_stats(l->w, &fs);
	if (r->frame_count != fs.frames_synced) {
		l->dirty = 1;
		l->progress++;
	}
	if (fs.frames_synced > r->frame_count)
		storestat_add(st->stat, STORESTAT_FRAMES_PERSISTED,
			      fs.frames_synced - r->frame_count);
	r->frame_count = fs.frames_synced;
	return rc;
}

static int disk_full(int rc)
{
	return rc == -ENOSPC || rc == -EDQUOT || rc == -EFBIG;
}

static const char *io_reason(int rc)
{
	return disk_full(rc) ? "disk_full" : "io_error";
}

/* Finish a run: flush, sync, close, mark stopped. reason: why it stopped. */
static int finish_run(struct store *st, struct run_live *l, struct run *r, const char *reason,
		      int64_t now_ns)
{
	struct framefile_stats fs;
	int rc = 0;

	if (l->mg) {
		merge_flush(l->mg);
		if ((rc = pop_merged(st, l, r)) == 0)
			rc = flush_batch(l);
	}
	framefile_stats(l->w, &fs);
	if (rc == 0)
		rc = framefile_close(l->w);
	else
		framefile_close(l->w);
	l->w = NULL;
	if (rc == 0 && fs.frames > r->frame_count) /* the close made the rest durable */
		storestat_add(st->stat, STORESTAT_FRAMES_PERSISTED, fs.frames - r->frame_count);
	r->frame_count = rc == 0 ? fs.frames : fs.frames_synced;
	r->recording = 0;
	r->end_marker = (int64_t)l->cur[0].next;
	r->stopped_ns = now_ns;
	snprintf(r->stop_reason, sizeof r->stop_reason, "%s", rc ? io_reason(rc) : reason);
	cache_meta(st, l->s, r);
	unlink_live(st, l);
	session_save(st, l->s);
	bus_publish(st, TOPIC_RUN_STOPPED, run_event(l->s, r));
	log_info("msg=\"run stopped\" run=%s reason=%s frames=%llu lost=%llu extra_only=%llu",
		 r->id, r->stop_reason, (unsigned long long)r->frame_count,
		 (unsigned long long)r->frames_lost, (unsigned long long)l->extra_only);
	live_free(l);
	return rc;
}

static void fail_run(struct store *st, struct run_live *l, struct run *r, int rc)
{
	log_error("msg=\"run stopped by a write error; frames synced before it are intact\" "
		  "run=%s error=\"%s\"",
		  r->id, strerror(-rc));
	bus_publish(st, TOPIC_RUN_ERROR,
		    json_pack("{s:s, s:s, s:s, s:s}", "session_id", l->s->id, "run_id", r->id,
			      "code", io_reason(rc), "message", strerror(-rc)));
	finish_run(st, l, r, io_reason(rc), clock_now_ns());
}

void runs_tick(struct store *st, int64_t now_ns)
{
	int64_t mono = clock_mono_ns();
	struct run_live *next;

	for (struct run_live *l = st->live; l; l = next) {
		struct run *r = live_run(l);
		uint64_t changes = l->changes, progress = l->progress;
		int rc;

		next = l->next;
		if (!r)
			continue;
		rc = drain_run(st, l, r, now_ns);
		if (rc == 0 && mono - l->last_sync >= SYNC_NS) {
			rc = sync_run(st, l, r);
			l->last_sync = mono;
		}
		if (l->changes != changes)
			storestat_bump(st->stat);
		else if (l->progress != progress)
			storestat_progress(st->stat);
		if (rc < 0) {
			fail_run(st, l, r, rc);
			continue;
		}
		if (l->dirty && mono - l->last_save >= SAVE_NS) {
			if (session_write(st, l->s) ==
			    0) /* its changes were announced as they came */
				l->dirty = 0;
			l->last_save = mono;
		}
	}
}

int runs_recording(const struct store *st)
{
	int n = 0;

	for (const struct run_live *l = st->live; l; l = l->next)
		n++;
	return n;
}

void runs_fini(struct store *st)
{
	while (st->live) {
		struct run_live *l = st->live;
		struct run *r = live_run(l);

		st->live = l->next;
		if (r) {
			drain_run(st, l, r, clock_now_ns());
			if (l->mg) { /* what the merger still holds is final at shutdown */
				merge_flush(l->mg);
				pop_merged(st, l, r);
				flush_batch(l);
			}
			sync_run(st, l, r);
			session_save(st, l->s);
		}
		framefile_close(l->w);
		live_free(l);
	}
}

static struct run_live *live_new(struct session *s, const struct run *r)
{
	struct run_live *l = calloc(1, sizeof *l);
	size_t i;
	json_t *v;

	if (!l)
		return NULL;
	l->s = s;
	snprintf(l->run_id, sizeof l->run_id, "%s", r->id);
	snprintf(l->src[0], sizeof l->src[0], "%s", r->feed);
	l->nsrc = 1;
	json_array_foreach(r->merge_feeds, i, v)
		if (l->nsrc < MERGE_SOURCES_MAX)
			snprintf(l->src[l->nsrc++], sizeof l->src[0], "%s", json_string_value(v));
	if (l->nsrc > 1) {
		struct merge_params p;
		merge_params_default(&p, (unsigned)l->nsrc);
		l->mg = merge_new(&p);
	}
	l->laps = laps_new();
	l->eng = live_eng_new(s); /* NULL: no per-lap jobs (not a general session, or no memory) */
	if ((l->nsrc > 1 && !l->mg) || !l->laps) {
		live_free(l);
		return NULL;
	}
	l->last_sync = l->last_save = clock_mono_ns();
	return l;
}

/* --- resume at start-up --- */

static void stop_on_load(struct store *st, struct session *s, struct run *r, const char *reason,
			 uint64_t next, uint64_t lost)
{
	r->recording = 0;
	r->end_marker = (int64_t)next;
	r->stopped_ns = clock_now_ns();
	if (lost || strcmp(reason, "capture_gone") == 0)
		r->data_truncated = 1;
	r->frames_lost += lost;
	storestat_add(st->stat, STORESTAT_FRAMES_LOST, lost);
	snprintf(r->stop_reason, sizeof r->stop_reason, "%s", reason);
	session_save(st, s);
	bus_publish(st, TOPIC_RUN_STOPPED, run_event(s, r));
	log_warn("msg=\"run could not resume, stopped\" run=%s reason=%s lost=%llu", r->id, reason,
		 (unsigned long long)lost);
}

static void resume_one(struct store *st, struct session *s, struct run *r)
{
	char path[IDS_PATH_MAX];
	struct framefile_info info;
	struct framefile_writer *w = NULL;
	struct run_live *l;
	struct seg *seg;
	uint64_t next, oldest, wseq;
	int rc;

	run_frames_path(st, s, r, path, sizeof path);
	rc = framefile_open_append(&w, path, &info);
	if (rc == -ENOENT) {
		struct framefile_hdr h = { .codec = BLOCKCODEC_PACK };
		snprintf(h.feed, sizeof h.feed, "%s", r->feed);
		snprintf(h.run_id, sizeof h.run_id, "%s", r->id);
		memset(&info, 0, sizeof info);
		rc = framefile_create(&w, path, &h);
	}
	if (rc < 0) {
		log_error("msg=\"cannot reopen run frames\" run=%s file=%s error=\"%s\"", r->id,
			  path, strerror(-rc));
		stop_on_load(st, s, r, io_reason(rc), r->start_marker, 0);
		return;
	}
	if (info.tail != FRAMEFILE_TAIL_CLEAN)
		log_warn(
			"msg=\"run frames had a torn tail after the crash, cut\" run=%s bytes=%llu",
			r->id, (unsigned long long)info.dropped_bytes);
	next = info.frames ? info.last_seq + 1 : r->start_marker;
	r->frame_count = info.frames;
	seg = feed_seg(st, r->feed);
	if (!seg) {
		framefile_close(w);
		stop_on_load(st, s, r, "capture_gone", next, 0);
		return;
	}
	oldest = seg_oldest(seg);
	wseq = seg_write_seq(seg);
	if (next > wseq) { /* the ring was created anew (a reboot): its sequences are others */
		framefile_close(w);
		stop_on_load(st, s, r, "ring_reset", next, 0);
		return;
	}
	if (next < oldest) {
		framefile_close(w);
		stop_on_load(st, s, r, "ring_lapped_while_down", next, oldest - next);
		return;
	}
	if (!(l = live_new(s, r))) {
		framefile_close(w);
		return;
	}
	l->w = w;
	l->cur[0].next = next;
	l->last_seq = info.frames ? info.last_seq : 0;
	l->appended = info.frames;
	for (int k = 1; k < l->nsrc; k++) {
		struct seg *x = feed_seg(st, l->src[k]);
		l->cur[k].next = x ? seg_write_seq(x) : 0;
	}
	l->next = st->live;
	st->live = l;
	log_info("msg=\"run resumed\" run=%s next=%llu frames=%llu", r->id,
		 (unsigned long long)next, (unsigned long long)info.frames);
	bus_publish(st, TOPIC_RUN_RESUMED, run_event(s, r));
}

int runs_resume(struct store *st)
{
	int n = 0;

	for (int i = 0; i < st->nsessions; i++) {
		struct session *s = st->sessions[i];
		int recording = 0;

		for (int j = 0; j < s->nruns; j++)
			recording |= s->runs[j].recording;
		/* its runs' laps go on from what its file holds */
		if (!recording || session_details(st, s) < 0)
			continue;
		for (int j = 0; j < s->nruns; j++)
			if (s->runs[j].recording) {
				resume_one(st, s, &s->runs[j]);
				n++;
			}
	}
	return n;
}

/* --- commands --- */

static struct run *need_run(struct session *s, json_t *args, struct cmd_err *err)
{
	const char *id;
	struct run *r;

	if (opt_str(args, "run_id", ID_LEN, &id, err) < 0)
		return NULL;
	if (!*id || !ids_valid(id))
		return fail(err, MSG_E_BAD_REQUEST, "\"run_id\" must be a run id (UUID)"), NULL;
	if (!(r = run_find(s, id)))
		fail(err, MSG_E_NOT_FOUND, "no run %s in session %s", id, s->id);
	return r;
}

static int parse_merge(struct store *st, json_t *args, const char *feed, json_t **out,
		       struct cmd_err *err)
{
	json_t *mf = json_object_get(args, "merge_feeds"), *v;
	size_t i, j;

	*out = json_array();
	if (!mf || json_is_null(mf))
		return 0;
	if (!json_is_array(mf) || json_array_size(mf) > MERGE_SOURCES_MAX - 1) {
		fail(err, MSG_E_BAD_REQUEST,
		     "\"merge_feeds\" must be an array of at most %d feed names",
		     MERGE_SOURCES_MAX - 1);
		return -1;
	}
	json_array_foreach(mf, i, v) {
		const char *name = json_string_value(v);
		if (!name || !feed_find(st, name)) {
			fail(err, MSG_E_BAD_REQUEST, "merge_feeds[%zu] is not a configured feed",
			     i);
			return -1;
		}
		if (strcmp(name, feed) == 0) {
			fail(err, MSG_E_BAD_REQUEST, "merge_feeds repeats the primary feed \"%s\"",
			     feed);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (strcmp(json_string_value(json_array_get(mf, j)), name) == 0) {
				fail(err, MSG_E_BAD_REQUEST, "merge_feeds lists \"%s\" twice",
				     name);
				return -1;
			}
		json_array_append(*out, v);
	}
	return 0;
}

static json_t *h_run_start(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "session_id", "feed_name", "label", "merge_feeds",
					    NULL };
	const char *feed, *label;
	struct session *s;
	struct run *r;
	struct run_live *l;
	struct seg *seg;
	json_t *merge = NULL, *res;
	char path[IDS_PATH_MAX], dir[IDS_PATH_MAX], rec_before[ID_LEN + 1];
	struct framefile_hdr h = { .codec = BLOCKCODEC_PACK };
	const char *rec;
	int rc;

	if (only_keys(args, keys, err) < 0 || !(s = need_session(st, args, "session_id", err)) ||
	    opt_str(args, "feed_name", IDS_FEED_MAX, &feed, err) < 0 ||
	    opt_str(args, "label", STORE_LABEL_MAX - 1, &label, err) < 0)
		return NULL;
	if (!*feed || !feed_find(st, feed))
		return fail(err, MSG_E_BAD_REQUEST, "\"feed_name\" must be a configured feed");
	if (parse_merge(st, args, feed, &merge, err) < 0)
		goto out;
	if (s->completed) {
		fail(err, MSG_E_CONFLICT, "session %s is completed: reopen it to record more",
		     s->id);
		goto out;
	}
	for (int i = 0; i < s->nruns; i++)
		if (s->runs[i].recording) {
			fail(err, MSG_E_CONFLICT, "session %s already records run %s", s->id,
			     s->runs[i].id);
			goto out;
		}
	if (s->nruns == STORE_MAX_RUNS) {
		fail(err, MSG_E_CONFLICT, "session %s has %d runs, the most it can hold", s->id,
		     STORE_MAX_RUNS);
		goto out;
	}
	if (!(seg = feed_seg(st, feed))) {
		fail(err, MSG_E_CONFLICT,
		     "feed \"%s\" is not being captured (no pw-capture has run)", feed);
		goto out;
	}
	if (!(r = session_run_slot(s))) {
		fail(err, MSG_E_INTERNAL, "out of memory");
		goto out;
	}
	ids_new(r->id);
	snprintf(r->label, sizeof r->label, "%s", label);
	snprintf(r->feed, sizeof r->feed, "%s", feed);
	r->merge_feeds = merge;
	merge = NULL;
	r->laps = json_array();
	r->recording = 1;
	r->start_marker = seg_write_seq(seg);
	r->end_marker = -1;
	r->started_ns = clock_now_ns();
	s->nruns++;
	snprintf(dir, sizeof dir, "%s/%s", st->sessions_dir, s->id);
	run_frames_path(st, s, r, path, sizeof path);
	snprintf(h.feed, sizeof h.feed, "%s", feed);
	snprintf(h.run_id, sizeof h.run_id, "%s", r->id);
	if (!(l = live_new(s, r))) {
		rc = -ENOMEM;
	} else if ((rc = atomicio_mkdirs(dir)) == 0 &&
		   (rc = framefile_create(&l->w, path, &h)) == 0) {
		l->cur[0].next = r->start_marker;
		for (int k = 1; k < l->nsrc; k++) {
			struct seg *x = feed_seg(st, l->src[k]);
			l->cur[k].next = x ? seg_write_seq(x) : 0;
		}
		cache_meta(st, s, r);
		/* recorded while a recording is active: the session is part of it */
		snprintf(rec_before, sizeof rec_before, "%s", s->recording_id);
		if (!s->recording_id[0] && (rec = recordings_active_id(st)))
			snprintf(s->recording_id, sizeof s->recording_id, "%s", rec);
		if ((res = saved(st, s, err))) {
			json_decref(res); /* the answer is the run, not the session */
			l->next = st->live;
			st->live = l;
			bus_publish(st, TOPIC_RUN_STARTED, run_event(s, r));
			return run_json(r);
		}
		snprintf(s->recording_id, sizeof s->recording_id, "%s", rec_before);
		framefile_close(l->w);
		unlink(path);
		rc = 0;
	}
	if (l)
		live_free(l);
	json_decref(r->merge_feeds);
	json_decref(r->laps);
	s->nruns--;
	if (rc < 0)
		fail(err, disk_full(rc) ? MSG_E_DISK_FULL : MSG_E_IO,
		     "cannot create the run's frame file: %s", strerror(-rc));
	return NULL;
out:
	json_decref(merge);
	return NULL;
}

static json_t *h_run_stop(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "session_id", "run_id", NULL };
	struct session *s;
	struct run *r;
	struct run_live *l;
	int rc;

	if (only_keys(args, keys, err) < 0 || !(s = need_session(st, args, "session_id", err)) ||
	    !(r = need_run(s, args, err)))
		return NULL;
	if (!r->recording || !(l = find_live(st, r->id)))
		return fail(err, MSG_E_CONFLICT, "run %s is not recording", r->id);
	rc = drain_run(st, l, r, clock_now_ns()); /* everything the ring holds up to now */
	if ((rc = finish_run(st, l, r, rc ? io_reason(rc) : "stopped", clock_now_ns())) < 0)
		return fail(err, disk_full(rc) ? MSG_E_DISK_FULL : MSG_E_IO,
			    "run %s stopped, but its last frames could not be written: %s "
			    "(the %llu frames made durable before are intact)",
			    r->id, strerror(-rc), (unsigned long long)r->frame_count);
	return run_json(r);
}

static json_t *h_run_delete(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "session_id", "run_id", NULL };
	struct session *s;
	struct run *r;
	char path[IDS_PATH_MAX], id[ID_LEN + 1];
	json_t *res;
	int idx, rc;

	if (only_keys(args, keys, err) < 0 || !(s = need_session(st, args, "session_id", err)) ||
	    !(r = need_run(s, args, err)))
		return NULL;
	if (r->recording)
		return fail(err, MSG_E_CONFLICT, "run %s is recording: stop it first", r->id);
	run_frames_path(st, s, r, path, sizeof path);
	rc = atomicio_unlink(path);
	if (rc < 0 && rc != -ENOENT)
		return fail(err, MSG_E_IO, "cannot delete the run's frames: %s", strerror(-rc));
	snprintf(id, sizeof id, "%s", r->id);
	idx = (int)(r - s->runs);
	json_decref(r->merge_feeds);
	json_decref(r->laps);
	memmove(&s->runs[idx], &s->runs[idx + 1], (size_t)(s->nruns - idx - 1) * sizeof *r);
	s->nruns--;
	if (!(res = saved(st, s, err)))
		return NULL;
	json_decref(res);
	bus_publish(st, TOPIC_RUN_DELETED,
		    json_pack("{s:s, s:s}", "session_id", s->id, "run_id", id));
	return json_null();
}

static json_t *h_run_get(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "session_id", "run_id", NULL };
	struct session *s;
	struct run *r;
	char path[IDS_PATH_MAX];
	json_t *o;

	if (only_keys(args, keys, err) < 0 || !(s = need_session(st, args, "session_id", err)) ||
	    !(r = need_run(s, args, err)))
		return NULL;
	o = run_json(r);
	run_frames_path(st, s, r, path, sizeof path);
	json_object_set_new(o, "frames_path", json_string(path));
	json_object_set(o, "laps", r->laps ? r->laps : json_array());
	return o;
}

static json_t *h_laps(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "session_id", NULL };
	struct session *s;
	json_t *a;

	if (only_keys(args, keys, err) < 0 || !(s = need_session(st, args, "session_id", err)))
		return NULL;
	a = json_array();
	for (int i = 0; i < s->nruns; i++) {
		size_t j;
		json_t *lap;
		json_array_foreach(s->runs[i].laps, j, lap) {
			json_t *c = json_deep_copy(lap);
			json_object_set_new(c, "run_id", json_string(s->runs[i].id));
			json_array_append_new(a, c);
		}
	}
	return a;
}

/* A game, track or car name as the runs and sessions hold it (1 .. META_STR - 1 bytes). */
static int name_arg(json_t *args, const char *key, int required, const char **out,
		    struct cmd_err *err)
{
	if (opt_str(args, key, META_STR - 1, out, err) < 0)
		return -1;
	if (required && !**out) {
		fail(err, MSG_E_BAD_REQUEST, "\"%s\" is required", key);
		return -1;
	}
	return 0;
}

/*
 * lap.best: the fastest valid lap of a game and track (and car: the session's
 * car_name) across every session: the lap record with session_id, run_id,
 * game, track and car_name. Ties go to the lap recorded first.
 */
/* The run's fastest valid lap time (ms) and, with its laps in memory, the
 * first lap of that time; 0 when it has none. */
static int32_t run_best(const struct run *r, json_t **lap_out)
{
	int32_t best = 0;
	size_t k;
	json_t *lap;

	*lap_out = NULL;
	if (!r->laps) /* a session from the index: its summary says */
		return r->best_lap_ms;
	json_array_foreach(r->laps, k, lap) {
		json_t *t = json_object_get(lap, "time_ms");

		if (!json_is_true(json_object_get(lap, "valid")) || !json_is_integer(t) ||
		    json_integer_value(t) <= 0 || json_integer_value(t) > INT32_MAX ||
		    (best && json_integer_value(t) >= best))
			continue;
		best = (int32_t)json_integer_value(t);
		*lap_out = lap;
	}
	return best;
}

static json_t *h_lap_best(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "game", "track_name", "car_name", NULL };
	const char *game, *track, *car;
	struct session *bs = NULL;
	const struct run *br = NULL;
	char run_id[ID_LEN + 1];
	json_t *best = NULL, *lap, *o;
	int32_t best_ms = 0, ms;

	if (only_keys(args, keys, err) < 0 || name_arg(args, "game", 1, &game, err) < 0 ||
	    name_arg(args, "track_name", 1, &track, err) < 0 ||
	    name_arg(args, "car_name", 0, &car, err) < 0)
		return NULL;
	for (int i = 0; i < st->nsessions; i++) {
		struct session *s = st->sessions[i];

		if (*car && strcmp(s->car_name, car) != 0)
			continue;
		for (int j = 0; j < s->nruns; j++) {
			const struct run *r = &s->runs[j];

			if (strcmp(r->game, game) != 0 || strcmp(r->track, track) != 0)
				continue;
			if ((ms = run_best(r, &lap)) > 0 && (!best_ms || ms < best_ms)) {
				best_ms = ms;
				best = lap;
				bs = s;
				br = r;
			}
		}
	}
	if (best_ms && !best) { /* from the index: the lap itself is in the session's file */
		snprintf(run_id, sizeof run_id, "%s", br->id);
		if (session_details(st, bs) == 0 && (br = run_find(bs, run_id)) &&
		    run_best(br, &best) != best_ms)
			best = NULL;
		if (!best)
			return fail(err, MSG_E_IO, "the session file of %s cannot be read", bs->id);
	}
	if (!best)
		return fail(err, MSG_E_NOT_FOUND, "no valid lap of %s on %s%s%s in any session",
			    game, track, *car ? " with " : "", car);
	o = json_deep_copy(best);
	json_object_set_new(o, "session_id", json_string(bs->id));
	json_object_set_new(o, "run_id", json_string(br->id));
	json_object_set_new(o, "game", json_string(br->game));
	json_object_set_new(o, "track", json_string(br->track));
	json_object_set_new(o, "car_name",
			    bs->car_name[0] ? json_string(bs->car_name) : json_null());
	return o;
}

const struct cmd_entry run_commands[] = {
	{ "run.start", h_run_start },
	{ "run.stop", h_run_stop },
	{ "run.delete", h_run_delete },
	{ "run.get", h_run_get },
	{ "session.laps", h_laps },
	{ "lap.best", h_lap_best },
	{ NULL, NULL },
};
