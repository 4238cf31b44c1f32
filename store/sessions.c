/* sessions.c - sessions and runs: the model, its JSON and durable files (see store.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/atomicio.h"
#include "common/clock.h"
#include "common/log.h"
#include "store/store.h"

#define SESSION_FILE_MAX (16 << 20)

static const char *const uc_names[UC_COUNT] = {
	"shift_points",
	"car_grip",
	"track_mapping",
	"general",
};

/* What the driver is asked to do, per use case (the seed's guidance texts). */
static const char *const uc_guidance[UC_COUNT] = {
	"Do full-throttle pulls through every gear: from low speed in 1st, hold full throttle "
	"and let the engine reach the limiter before each upshift. Repeat 3 times on a long "
	"straight or a test track.",
	"Drive 3-5 laps at race pace. Brake hard, carry speed through corners and use the full "
	"width of the track: the harder you drive, the more complete the grip profile.",
	"Record exactly two runs: one lap driven along the left edge of the track (label the "
	"run \"left\") and one along the right edge (label it \"right\"), at a steady moderate "
	"speed, then complete the session and build the track.",
	"Drive normally; every lap is timed and analysed.",
};

const char *use_case_name(enum use_case uc)
{
	return (unsigned)uc < UC_COUNT ? uc_names[uc] : "unknown";
}

const char *use_case_guidance(enum use_case uc)
{
	return (unsigned)uc < UC_COUNT ? uc_guidance[uc] : "";
}

int use_case_parse(const char *name)
{
	for (int i = 0; name && i < UC_COUNT; i++)
		if (strcmp(uc_names[i], name) == 0)
			return i;
	return -1;
}

static json_t *iso_or_null(int64_t ns)
{
	char buf[40];

	return ns ? json_string(clock_iso8601(ns, buf, sizeof buf)) : json_null();
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

json_t *run_json(const struct run *r)
{
	json_t *o = json_pack(
		"{s:s, s:s, s:s, s:O, s:s, s:I, s:o, s:I, s:b, s:I, s:o, s:o}", "id", r->id,
		"label", r->label, "feed_name", r->feed, "merge_feeds", r->merge_feeds, "status",
		r->recording ? "recording" : "stopped", "start_marker", (json_int_t)r->start_marker,
		"end_marker", r->end_marker < 0 ? json_null() : json_integer(r->end_marker),
		"frame_count", (json_int_t)r->frame_count, "data_truncated", r->data_truncated,
		"frames_lost", (json_int_t)r->frames_lost, "started_at", iso_or_null(r->started_ns),
		"stopped_at", iso_or_null(r->stopped_ns));

	json_object_set_new(o, "stop_reason", str_or_null(r->stop_reason));
	json_object_set_new(o, "game", str_or_null(r->game));
	json_object_set_new(o, "track", str_or_null(r->track));
	json_object_set_new(o, "driver", str_or_null(r->driver));
	json_object_set_new(o, "lap_count",
			    json_integer(r->laps ? (json_int_t)json_array_size(r->laps)
						 : (json_int_t)r->lap_count));
	return o;
}

json_t *session_json(const struct session *s)
{
	json_t *runs = json_array();

	for (int i = 0; i < s->nruns; i++)
		json_array_append_new(runs, run_json(&s->runs[i]));
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:O, s:s, s:o, s:o}", "id", s->id,
			 "use_case", use_case_name(s->use_case), "label", s->label, "status",
			 s->completed ? "completed" : "active", "created_at",
			 iso_or_null(s->created_ns), "completed_at", iso_or_null(s->completed_ns),
			 "runs", runs, "analysis", s->analysis ? s->analysis : json_null(),
			 "guidance", use_case_guidance(s->use_case), "recording_id",
			 str_or_null(s->recording_id), "car_name", str_or_null(s->car_name));
}

/* The file keeps the nanosecond times, which the API shows as ISO 8601. */
static json_t *session_file_json(const struct session *s)
{
	json_t *o = session_json(s), *runs = json_object_get(o, "runs");

	json_object_set_new(o, "format", json_integer(1));
	json_object_set_new(o, "created_ns", json_integer(s->created_ns));
	json_object_set_new(o, "completed_ns", json_integer(s->completed_ns));
	for (int i = 0; i < s->nruns; i++) {
		json_t *r = json_array_get(runs, (size_t)i);
		json_object_set_new(r, "started_ns", json_integer(s->runs[i].started_ns));
		json_object_set_new(r, "stopped_ns", json_integer(s->runs[i].stopped_ns));
		json_object_set(r, "laps", s->runs[i].laps ? s->runs[i].laps : json_array());
	}
	return o;
}

static int copy_str(char *dst, size_t cap, json_t *v, int required)
{
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	size_t n = s ? strlen(s) : 0;

	if (!s) {
		dst[0] = 0;
		/* absent or null is fine for optional fields; another type is not */
		return required || (v && !json_is_null(v)) ? -1 : 0;
	}
	if (n >= cap)
		return -1;
	memcpy(dst, s, n + 1);
	return 0;
}

static int64_t get_i64(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static int run_from_json(struct run *r, json_t *o)
{
	json_t *mf = json_object_get(o, "merge_feeds"), *em = json_object_get(o, "end_marker");
	json_t *laps = json_object_get(o, "laps");

	memset(r, 0, sizeof *r);
	if (!json_is_object(o) || copy_str(r->id, sizeof r->id, json_object_get(o, "id"), 1) < 0 ||
	    !ids_valid(r->id) ||
	    copy_str(r->feed, sizeof r->feed, json_object_get(o, "feed_name"), 1) < 0 ||
	    !ids_name_valid(r->feed) ||
	    copy_str(r->label, sizeof r->label, json_object_get(o, "label"), 0) < 0)
		return -1;
	if (copy_str(r->stop_reason, sizeof r->stop_reason, json_object_get(o, "stop_reason"), 0) <
		    0 ||
	    copy_str(r->game, sizeof r->game, json_object_get(o, "game"), 0) < 0 ||
	    copy_str(r->track, sizeof r->track, json_object_get(o, "track"), 0) < 0 ||
	    copy_str(r->driver, sizeof r->driver, json_object_get(o, "driver"), 0) < 0)
		return -1;
	r->merge_feeds = json_is_array(mf) ? json_deep_copy(mf) : json_array();
	r->laps = json_is_array(laps) ? json_deep_copy(laps) : json_array();
	r->recording = json_is_string(json_object_get(o, "status")) &&
		       strcmp(json_string_value(json_object_get(o, "status")), "recording") == 0;
	r->start_marker = (uint64_t)get_i64(o, "start_marker");
	r->end_marker = json_is_integer(em) ? (int64_t)json_integer_value(em) : -1;
	r->frame_count = (uint64_t)get_i64(o, "frame_count");
	r->data_truncated = json_is_true(json_object_get(o, "data_truncated"));
	r->frames_lost = (uint64_t)get_i64(o, "frames_lost");
	r->started_ns = get_i64(o, "started_ns");
	r->stopped_ns = get_i64(o, "stopped_ns");
	run_laps_summary(r);
	return 0;
}

void run_laps_summary(struct run *r)
{
	size_t i;
	json_t *lap;

	if (!r->laps)
		return;
	r->lap_count = (uint32_t)json_array_size(r->laps);
	r->best_lap_ms = 0;
	json_array_foreach(r->laps, i, lap) {
		json_t *t = json_object_get(lap, "time_ms");

		if (json_is_true(json_object_get(lap, "valid")) && json_is_integer(t) &&
		    json_integer_value(t) > 0 && json_integer_value(t) <= INT32_MAX &&
		    (!r->best_lap_ms || json_integer_value(t) < r->best_lap_ms))
			r->best_lap_ms = (int32_t)json_integer_value(t);
	}
}

enum analysis_state analysis_state_of(const json_t *a)
{
	const char *status = json_string_value(json_object_get(a, "status"));

	if (!json_is_object(a))
		return AS_NONE;
	if (status && strcmp(status, "pending") == 0)
		return AS_PENDING;
	return status && strcmp(status, "failed") == 0 ? AS_FAILED : AS_RESULT;
}

void session_free(struct session *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nruns; i++) {
		json_decref(s->runs[i].merge_feeds);
		json_decref(s->runs[i].laps);
	}
	json_decref(s->analysis);
	free(s->runs);
	free(s);
}

struct run *session_run_slot(struct session *s)
{
	struct run *r;

	if (s->nruns >= STORE_MAX_RUNS)
		return NULL;
	if (s->nruns == s->cap_runs) {
		int cap = s->cap_runs ? 2 * s->cap_runs : 2;
		struct run *n = realloc(s->runs, (size_t)cap * sizeof *n);

		if (!n)
			return NULL;
		s->runs = n;
		s->cap_runs = cap;
	}
	r = &s->runs[s->nruns];
	memset(r, 0, sizeof *r);
	return r;
}

static struct session *session_from_json(json_t *o, char *why, size_t cap)
{
	struct session *s = calloc(1, sizeof *s);
	json_t *runs = json_object_get(o, "runs"), *an = json_object_get(o, "analysis");
	int uc = use_case_parse(json_string_value(json_object_get(o, "use_case")));
	size_t i;
	json_t *r;

	if (!s)
		return NULL;
	if (!json_is_object(o) || copy_str(s->id, sizeof s->id, json_object_get(o, "id"), 1) < 0 ||
	    !ids_valid(s->id)) {
		snprintf(why, cap, "missing or invalid id");
		goto fail;
	}
	if (uc < 0) {
		snprintf(why, cap, "unknown use_case");
		goto fail;
	}
	s->use_case = (enum use_case)uc;
	if (copy_str(s->label, sizeof s->label, json_object_get(o, "label"), 0) < 0 ||
	    copy_str(s->recording_id, sizeof s->recording_id, json_object_get(o, "recording_id"),
		     0) < 0 ||
	    copy_str(s->car_name, sizeof s->car_name, json_object_get(o, "car_name"), 0) < 0) {
		snprintf(why, cap, "a string field is too long or not a string");
		goto fail;
	}
	s->completed = json_is_string(json_object_get(o, "status")) &&
		       strcmp(json_string_value(json_object_get(o, "status")), "completed") == 0;
	s->created_ns = get_i64(o, "created_ns");
	s->completed_ns = get_i64(o, "completed_ns");
	s->analysis = an && !json_is_null(an) ? json_deep_copy(an) : NULL;
	if (runs && !json_is_array(runs)) {
		snprintf(why, cap, "runs is not an array");
		goto fail;
	}
	json_array_foreach(runs, i, r) {
		struct run *slot = session_run_slot(s);

		if (!slot || run_from_json(slot, r) < 0) {
			if (slot) {
				json_decref(slot->merge_feeds);
				json_decref(slot->laps);
			}
			snprintf(why, cap, "run %zu is invalid", i);
			goto fail;
		}
		s->nruns++;
	}
	s->details = 1;
	s->analysis_state = analysis_state_of(s->analysis);
	return s;
fail:
	session_free(s);
	return NULL;
}

int session_add(struct store *st, struct session *s)
{
	if (st->nsessions == st->cap_sessions) {
		int ncap = st->cap_sessions ? st->cap_sessions * 2 : 256;
		struct session **n = realloc(st->sessions, (size_t)ncap * sizeof *n);
		if (!n)
			return -ENOMEM;
		st->sessions = n;
		st->cap_sessions = ncap;
	}
	st->sessions[st->nsessions++] = s;
	return 0;
}

static void file_id_of(const struct stat *sb, struct file_id *f)
{
	f->ino = (uint64_t)sb->st_ino;
	f->size = (uint64_t)sb->st_size;
	f->mtime_ns = (int64_t)sb->st_mtim.tv_sec * NS_PER_S + sb->st_mtim.tv_nsec;
}

struct session *session_parse(const char *path, const char *want_id)
{
	char *buf = NULL, why[128] = "";
	size_t len;
	json_error_t jerr;
	json_t *o;
	struct session *s;
	struct stat sb;
	int rc;

	if ((rc = atomicio_read(path, SESSION_FILE_MAX, &buf, &len)) < 0) {
		log_error("msg=\"cannot read session, skipped\" file=%s error=\"%s\"", path,
			  strerror(-rc));
		return NULL;
	}
	o = json_loadb(buf, len, 0, &jerr);
	free(buf);
	s = o ? session_from_json(o, why, sizeof why) : NULL;
	json_decref(o);
	if (!s || strcmp(s->id, want_id) != 0) {
		log_error("msg=\"corrupt session file, skipped\" file=%s error=\"%s\"", path,
			  o ? (s ? "id does not match the file name" : why) : jerr.text);
		session_free(s);
		return NULL;
	}
	if (stat(path, &sb) == 0)
		file_id_of(&sb, &s->file);
	return s;
}

int sessions_load(struct store *st)
{
	return sindex_load(st);
}

int session_details(struct store *st, struct session *s)
{
	char path[IDS_PATH_MAX];
	struct session *f;
	struct run *keep;

	if (s->details)
		return 0;
	snprintf(path, sizeof path, "%s/%s.json", st->sessions_dir, s->id);
	if (!(f = session_parse(path, s->id)))
		return -EIO;
	/* the file is the truth: its runs (with their laps) and analysis replace the summary */
	for (int i = 0; i < s->nruns; i++)
		json_decref(s->runs[i].merge_feeds);
	keep = s->runs;
	s->runs = f->runs;
	s->nruns = f->nruns;
	s->cap_runs = f->cap_runs;
	s->analysis = f->analysis;
	s->analysis_state = f->analysis_state;
	s->file = f->file;
	s->details = 1;
	f->runs = keep;
	f->nruns = 0;
	f->analysis = NULL;
	session_free(f);
	return 0;
}

struct session *session_find(struct store *st, const char *id)
{
	for (int i = 0; id && i < st->nsessions; i++)
		if (strcmp(st->sessions[i]->id, id) == 0)
			return session_details(st, st->sessions[i]) == 0 ? st->sessions[i] : NULL;
	return NULL;
}

struct run *run_find(struct session *s, const char *id)
{
	for (int i = 0; id && i < s->nruns; i++)
		if (strcmp(s->runs[i].id, id) == 0)
			return &s->runs[i];
	return NULL;
}

struct session *session_new(struct store *st, enum use_case uc, const char *label)
{
	struct session *s = calloc(1, sizeof *s);

	if (!s || ids_new(s->id) < 0) {
		free(s);
		return NULL;
	}
	s->use_case = uc;
	snprintf(s->label, sizeof s->label, "%s", label ? label : "");
	s->created_ns = clock_now_ns();
	s->details = 1;
	if (session_add(st, s) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

int session_save(struct store *st, struct session *s)
{
	int rc = session_write(st, s);

	storestat_bump(st->stat); /* even on failure: the in-memory state changed */
	return rc;
}

int session_write(struct store *st, struct session *s)
{
	char path[IDS_PATH_MAX];
	json_t *o;
	char *text;
	struct stat sb;
	int rc;

	/* never write a session without what its file holds */
	if ((rc = session_details(st, s)) < 0)
		return rc;
	o = session_file_json(s);
	text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(o);
	if (!text)
		return -ENOMEM;
	snprintf(path, sizeof path, "%s/%s.json", st->sessions_dir, s->id);
	rc = atomicio_write(path, text, strlen(text));
	free(text);
	if (rc < 0)
		log_error("msg=\"cannot save session\" session=%s error=\"%s\"", s->id,
			  strerror(-rc));
	if (rc == 0 && stat(path, &sb) == 0)
		file_id_of(&sb, &s->file);
	sindex_touch(st, s, 0);
	return rc;
}

int session_delete(struct store *st, struct session *s)
{
	char path[IDS_PATH_MAX];
	int rc;

	snprintf(path, sizeof path, "%s/%s.json", st->sessions_dir, s->id);
	rc = atomicio_unlink(path);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	snprintf(path, sizeof path, "%s/%s", st->sessions_dir, s->id);
	rc = atomicio_rmtree(path);
	if (rc < 0 && rc != -ENOENT)
		log_warn("msg=\"session frames not fully removed\" session=%s error=\"%s\"", s->id,
			 strerror(-rc));
	for (int i = 0; i < st->nsessions; i++)
		if (st->sessions[i] == s) {
			memmove(&st->sessions[i], &st->sessions[i + 1],
				(size_t)(st->nsessions - i - 1) * sizeof *st->sessions);
			st->nsessions--;
			break;
		}
	sindex_touch(st, s, 1);
	session_free(s);
	storestat_bump(st->stat);
	return 0;
}
