/*
 * engineer.c - the race engineer's recommendations in the store.
 *
 * After a session: the general analysis carries them (analyze/engineer.h);
 * session.recommendations hands them out, filtered.
 *
 * While driving: every recording run of a general session keeps the frames
 * of its laps in progress (struct live_eng, fed by runs.c). When the run's
 * lap tracker completes a lap, that lap's frames (start_seq..end_seq) become
 * a per-lap job (common/job.h kind "lap") for the workers, naming the
 * categories still cooling down. The result's findings are published as
 * `recommendation.<feed>` on the bus, which pw-api turns into `recommendation`
 * messages. A lap job is sent once: live advice is worth nothing late, so a
 * job no worker took within LAP_JOB_TTL_NS, or whose result comes after it,
 * is dropped and counted in the log. Cooldown: PITWALL_LIVE_COOLDOWN_S per
 * category and run between published findings (default 20 s, REFERENCE-ux §5),
 * applied when the job is made and again when its result comes.
 *
 * The lap buffer holds at most LAPBUF_MAX frames (about 10 minutes at
 * 333 Hz); a lap longer than what it holds is not sent (its beginning is
 * gone), nor the first lap after a store restart resumed a run mid-lap.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/job.h"
#include "common/laps.h"
#include "common/log.h"
#include "store/cmd.h"
#include "store/store.h"

#define LAPBUF_MAX 200000
#define LAPBUF_START 8192
#define LAP_JOB_TTL_NS (5 * NS_PER_S)
#define COOL_RUNS 32 /* runs whose cooldowns are remembered */

struct live_eng {
	struct pw_frame *f; /* frames of the laps not sent yet, in seq order */
	size_t n, cap;
	uint64_t dropped; /* frames pushed out by LAPBUF_MAX */
	uint64_t laps_sent, laps_skipped;
};

struct lap_job {
	struct job job; /* points into the fields below */
	struct job_run run;
	struct pw_frame *block; /* owned until sent (the lap buffer it was; ZeroMQ frees it) */
	json_t *suppress;       /* owned */
	char job_id[ID_LEN + 1], session_id[ID_LEN + 1], run_id[ID_LEN + 1];
	char feed[IDS_FEED_MAX + 1], label[STORE_LABEL_MAX], car_name[META_STR];
	char game[IDS_GAME_MAX + 1], track[META_STR];
	int64_t lap_end_t_ns; /* receive time of the lap's last frame */
	int64_t made_mono;
};

/* Per run: when each category last had a finding published (realtime ns). */
static struct {
	char run_id[ID_LEN + 1];
	int64_t last_ns[JOB_REC_CATEGORIES];
} cool[COOL_RUNS];
static unsigned cool_next;

static int64_t *cooldown_of(const char *run_id, bool add)
{
	unsigned i;

	for (i = 0; i < COOL_RUNS; i++)
		if (strcmp(cool[i].run_id, run_id) == 0)
			return cool[i].last_ns;
	if (!add)
		return NULL;
	i = cool_next++ % COOL_RUNS; /* the oldest run's entry goes */
	memset(&cool[i], 0, sizeof cool[i]);
	snprintf(cool[i].run_id, sizeof cool[i].run_id, "%s", run_id);
	return cool[i].last_ns;
}

static bool cooling(const struct store *st, const int64_t *last, int cat, int64_t now)
{
	return last && cat >= 0 && last[cat] &&
	       now - last[cat] < (int64_t)st->cfg.live_cooldown_s * NS_PER_S;
}

/* ---- the lap buffer ---- */

struct live_eng *live_eng_new(const struct session *s)
{
	return s->use_case == UC_GENERAL ? calloc(1, sizeof(struct live_eng)) : NULL;
}

void live_eng_free(struct live_eng *e)
{
	if (!e)
		return;
	free(e->f);
	free(e);
}

void live_eng_frame(struct live_eng *e, const struct pw_frame *f)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : LAPBUF_START;
		struct pw_frame *p;

		if (e->n >= LAPBUF_MAX) { /* no lap ended for a long time: keep the newer half */
			memmove(e->f, e->f + e->n / 2, (e->n - e->n / 2) * sizeof *e->f);
			e->dropped += e->n / 2;
			e->n -= e->n / 2;
		} else if ((p = realloc(e->f, (cap > LAPBUF_MAX ? LAPBUF_MAX : cap) * sizeof *p))) {
			e->f = p;
			e->cap = cap > LAPBUF_MAX ? LAPBUF_MAX : cap;
		} else {
			e->n = 0; /* out of memory: start again; this lap is not sent */
		}
	}
	if (e->n < e->cap)
		e->f[e->n++] = *f;
}

void live_eng_reset(struct live_eng *e)
{
	e->n = 0;
}

/* Index of the first buffered frame with seq >= seq (n when none). */
static size_t lower_bound(const struct live_eng *e, uint64_t seq)
{
	size_t lo = 0, hi = e->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (e->f[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void lap_job_free(struct lap_job *lj)
{
	if (!lj)
		return;
	free(lj->block);
	json_decref(lj->suppress);
	free(lj);
}

/* The suppress list: the categories of the run still cooling down. */
static json_t *suppressed(const struct store *st, const char *run_id, int64_t now)
{
	const int64_t *last = cooldown_of(run_id, false);
	json_t *a = json_array();

	for (int c = 0; a && c < JOB_REC_CATEGORIES; c++)
		if (cooling(st, last, c, now))
			json_array_append_new(a, json_string(job_rec_category_names[c]));
	return a;
}

/* A lap job of the n frames at f, in the malloc'd block it takes (NULL:
 * out of memory, block not taken). */
static struct lap_job *lap_job_new(const struct store *st, const struct session *s,
				   const struct run *r, struct pw_frame *block,
				   const struct pw_frame *f, size_t n, const struct lap *lap)
{
	struct lap_job *lj = calloc(1, sizeof *lj);

	if (!lj || !(lj->suppress = suppressed(st, r->id, clock_now_ns()))) {
		lap_job_free(lj);
		return NULL;
	}
	lj->block = block;
	ids_new(lj->job_id);
	snprintf(lj->session_id, sizeof lj->session_id, "%s", s->id);
	snprintf(lj->run_id, sizeof lj->run_id, "%s", r->id);
	snprintf(lj->feed, sizeof lj->feed, "%s", r->feed);
	snprintf(lj->label, sizeof lj->label, "%s", r->label);
	snprintf(lj->car_name, sizeof lj->car_name, "%s", s->car_name);
	snprintf(lj->game, sizeof lj->game, "%s", r->game);
	snprintf(lj->track, sizeof lj->track, "%s", r->track);
	lj->lap_end_t_ns = lap->end_t_ns;
	lj->made_mono = clock_mono_ns();
	lj->run = (struct job_run){ .run_id = lj->run_id,
				    .feed_name = lj->feed,
				    .label = lj->label,
				    .frames = f,
				    .nframes = n };
	lj->job = (struct job){ .kind = JOB_LAP,
				.job_id = lj->job_id,
				.session_id = lj->session_id,
				.use_case = "general",
				.car_name = lj->car_name,
				.game = lj->game,
				.track = lj->track,
				.deadline_ms = LAP_JOB_TTL_NS / NS_PER_MS,
				.lap_number = lap->number,
				.suppress = lj->suppress,
				.runs = &lj->run,
				.nruns = 1 };
	return lj;
}

/*
 * The frames after the lap (the next lap's first few) move to a new buffer of
 * the same size, and the buffer holding the lap becomes the job's: its frames
 * go to the worker as they lie, not copied here nor by ZeroMQ (a 333 Hz lap
 * is ~10 MB). Without the memory for a new buffer the lap is not sent and the
 * buffer is kept.
 */
static struct lap_job *take_lap(struct store *st, struct live_eng *e, const struct session *s,
				const struct run *r, size_t first, size_t end,
				const struct lap *lap)
{
	struct pw_frame *next = malloc(e->cap * sizeof *next);
	struct lap_job *lj;

	if (!next)
		return NULL;
	if (!(lj = lap_job_new(st, s, r, e->f, e->f + first, end - first, lap))) {
		free(next);
		return NULL;
	}
	memcpy(next, e->f + end, (e->n - end) * sizeof *next);
	e->f = next;
	e->n -= end;
	return lj;
}

void live_eng_lap(struct store *st, struct live_eng *e, const struct session *s,
		  const struct run *r, const struct lap *lap)
{
	size_t first = lower_bound(e, lap->start_seq), end = lower_bound(e, lap->end_seq + 1);
	struct lap_job *lj = NULL;
	int rc = -ENODATA;

	/* the lap is whole in the buffer: its first frame is there */
	if (first < e->n && e->f[first].seq == lap->start_seq && end > first)
		rc = (lj = take_lap(st, e, s, r, first, end, lap)) ? jobs_submit_lap(st, lj)
								   : -ENOMEM;
	if (rc < 0) {
		e->laps_skipped++;
		log_info("msg=\"no per-lap job for this lap\" run=%s lap=%u reason=%s", r->id,
			 lap->number,
			 rc == -ENODATA  ? "its first frames are not buffered"
			 : rc == -ENOSPC ? "the job queue is full"
					 : "out of memory");
		lap_job_free(lj);
	} else {
		e->laps_sent++;
	}
	if (!lj) { /* the buffer was not taken: the frames up to the lap's end are done with */
		memmove(e->f, e->f + end, (e->n - end) * sizeof *e->f);
		e->n -= end;
	}
}

/* ---- jobs.c's side of a lap job ---- */

struct job *lap_job_job(struct lap_job *lj)
{
	return &lj->job;
}

int lap_job_send(void *sock, struct lap_job *lj)
{
	void *imgs[1] = { lj->block };
	int rc;

	if (!lj->block) /* given to a send that failed after the header: gone */
		return -EPIPE;
	rc = job_send_giving(sock, &lj->job, imgs);

	lj->block = imgs[0]; /* NULL once ZeroMQ has it: it frees it when sent */
	return rc;
}

bool lap_job_expired(const struct lap_job *lj, int64_t now_mono)
{
	return now_mono - lj->made_mono > LAP_JOB_TTL_NS;
}

void lap_job_drop(struct lap_job *lj, const char *why)
{
	log_warn("msg=\"per-lap job dropped: live advice is worth nothing late\" job=%s run=%s "
		 "lap=%" PRId64 " reason=\"%s\"",
		 lj->job_id, lj->run_id, lj->job.lap_number, why);
	lap_job_free(lj);
}

/* One finding of a lap job as the bus payload: the recommendation, and where it comes from. */
static json_t *finding_event(const struct lap_job *lj, const json_t *rec, int64_t now)
{
	json_t *o = json_deep_copy(rec);

	if (!o)
		return NULL;
	json_object_set_new(o, "session_id", json_string(lj->session_id));
	json_object_set_new(o, "run_id", json_string(lj->run_id));
	json_object_set_new(o, "feed", json_string(lj->feed));
	json_object_set_new(o, "lap_number", json_integer(lj->job.lap_number));
	json_object_set_new(o, "lap_end_t_ns", json_integer(lj->lap_end_t_ns));
	json_object_set_new(o, "published_t_ns", json_integer(now));
	return o;
}

void lap_job_done(struct store *st, struct lap_job *lj, const struct job_result *r)
{
	int64_t now = clock_now_ns(), *last;
	const json_t *recs, *rec;
	int sent = 0, cooled = 0;
	size_t i;

	if (lap_job_expired(lj, clock_mono_ns())) {
		lap_job_drop(lj, "the result came too late");
		return;
	}
	if (!r->ok) {
		log_warn("msg=\"per-lap job failed\" job=%s run=%s lap=%" PRId64
			 " code=%s error=\"%s\"",
			 lj->job_id, lj->run_id, lj->job.lap_number, r->code, r->message);
		lap_job_free(lj);
		return;
	}
	last = cooldown_of(lj->run_id, true);
	recs = json_object_get(r->analysis, "recommendations");
	json_array_foreach(recs, i, rec) {
		int cat = job_rec_category(json_string_value(json_object_get(rec, "category")));

		if (cat < 0 || !json_is_object(rec))
			continue;
		if (cooling(st, last, cat, now)) { /* another lap's finding came first */
			cooled++;
			continue;
		}
		last[cat] = now;
		bus_publish_feed(st, TOPIC_RECOMMENDATION, lj->feed, finding_event(lj, rec, now));
		sent++;
	}
	log_info("msg=\"per-lap recommendations\" run=%s lap=%" PRId64 " published=%d cooling=%d "
		 "ms_since_lap_end=%.1f",
		 lj->run_id, lj->job.lap_number, sent, cooled,
		 (double)(now - lj->lap_end_t_ns) / 1e6);
	lap_job_free(lj);
}

/* ---- session.recommendations ---- */

/* lap: an integer >= 1, or its decimal digits (a query parameter). -1 + err when bad. */
static int64_t lap_arg(json_t *args, struct cmd_err *err)
{
	json_t *v = json_object_get(args, "lap");
	const char *s = json_string_value(v);
	char *end;
	long long n;

	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= INT32_MAX)
		return json_integer_value(v);
	if (s && *s >= '0' && *s <= '9') {
		errno = 0;
		n = strtoll(s, &end, 10);
		if (!errno && !*end && n >= 1 && n <= INT32_MAX)
			return n;
	}
	fail(err, MSG_E_BAD_REQUEST, "\"lap\" must be a lap number (1..%d)", INT32_MAX);
	return -1;
}

static json_t *h_recommendations(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "id", "min_confidence", "category", "lap", NULL };
	const char *minc, *cat, *status, *c;
	struct session *s;
	int min_conf = 0;
	int64_t lap;
	json_t *an, *out, *list, *rec;
	size_t i;

	if (only_keys(args, keys, err) < 0 || !(s = need_session(st, args, "id", err)) ||
	    opt_str(args, "min_confidence", 16, &minc, err) < 0 ||
	    opt_str(args, "category", 32, &cat, err) < 0 || (lap = lap_arg(args, err)) < 0)
		return NULL;
	if (*minc && (min_conf = job_rec_confidence(minc)) < 0)
		return fail(err, MSG_E_BAD_REQUEST,
			    "\"min_confidence\" must be low, medium or high");
	if (*cat && job_rec_category(cat) < 0)
		return fail(
			err, MSG_E_BAD_REQUEST,
			"\"category\" must be one of tires, gearing, alignment, anti_roll, springs, "
			"damping, aero, brakes, differential");
	if (s->use_case != UC_GENERAL)
		return fail(
			err, MSG_E_CONFLICT,
			"session %s is a %s session: recommendations come with the general analysis",
			s->id, use_case_name(s->use_case));
	if (!s->completed)
		return fail(err, MSG_E_CONFLICT, "session %s is not completed", s->id);
	an = s->analysis;
	status = json_string_value(json_object_get(an, "status"));
	status = !json_is_object(an) ? "pending" : status ? status : "done";
	out = json_pack("{s:s, s:s}", "session_id", s->id, "status", status);
	list = json_array();
	json_array_foreach(json_object_get(an, "recommendations"), i, rec) {
		c = json_string_value(json_object_get(rec, "category"));
		if (job_rec_confidence(json_string_value(json_object_get(rec, "confidence"))) <
			    min_conf ||
		    (*cat && (!c || strcmp(c, cat) != 0)) ||
		    (lap && json_integer_value(json_object_get(rec, "lap_number")) != lap))
			continue;
		json_array_append(list, rec);
	}
	json_object_set_new(out, "recommendations", list);
	json_object_set_new(out, "not_evaluated",
			    json_is_array(json_object_get(an, "not_evaluated"))
				    ? json_incref(json_object_get(an, "not_evaluated"))
				    : json_array());
	json_object_set_new(out, "rules_evaluated",
			    json_is_array(json_object_get(an, "rules_evaluated"))
				    ? json_incref(json_object_get(an, "rules_evaluated"))
				    : json_array());
	if (json_object_get(an, "error"))
		json_object_set(out, "error", json_object_get(an, "error"));
	return out;
}

const struct cmd_entry engineer_commands[] = {
	{ "session.recommendations", h_recommendations },
	{ NULL, NULL },
};
