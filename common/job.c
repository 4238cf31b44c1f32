/* job.c - the analysis job and result messages (see job.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/framefile.h"
#include "common/job.h"

#define JOB_ID_MAX 128     /* bytes of a job or session id on the wire */
#define JOB_FRAME_ALIGN 64 /* the frame copies start on a cache line */

static const char *const kind_names[JOB_KIND_COUNT] = {
	[JOB_ANALYSIS] = "analysis",
	[JOB_TRACK_BUILD] = "track_build",
	[JOB_LAP] = "lap",
};

const char *const job_rec_category_names[JOB_REC_CATEGORIES] = {
	"tires",   "gearing", "alignment", "anti_roll",    "springs",
	"damping", "aero",    "brakes",    "differential",
};
const char *const job_rec_confidence_names[JOB_REC_CONFIDENCES] = { "low", "medium", "high" };

static int index_of(const char *const *names, int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

int job_rec_category(const char *name)
{
	return index_of(job_rec_category_names, JOB_REC_CATEGORIES, name);
}

int job_rec_confidence(const char *name)
{
	return index_of(job_rec_confidence_names, JOB_REC_CONFIDENCES, name);
}

const char *job_kind_name(enum job_kind kind)
{
	return (unsigned)kind < JOB_KIND_COUNT ? kind_names[kind] : NULL;
}

static const char *const encoding_names[] = {
	[JOB_ENC_FRAMES] = "frames",
	[JOB_ENC_FRAMEFILE] = "framefile",
	[JOB_ENC_PATH] = "path",
};

/* The lap tracker's (common/laps.c) channels: the general analysis feeds it every frame. */
#define LAPS_CHANNELS                                                                             \
	(FRAME_P_LAP | FRAME_P_LAP_DIST | FRAME_P_SPEED | FRAME_P_GAME_TIME | FRAME_P_TRACK_LEN | \
	 FRAME_P_SPLINE | FRAME_P_SECTOR_TIMES | FRAME_P_LAP_TIME | FRAME_P_LAST_LAP)
/* The race engineer's (analyze/engineer.c, rules.c): general runs it on its laps. */
#define ENGINEER_CHANNELS                                                                          \
	(FRAME_P_THROTTLE | FRAME_P_BRAKE | FRAME_P_STEER | FRAME_P_RPM | FRAME_P_NUM_GEARS |      \
	 FRAME_P_MAX_RPM | FRAME_P_GEAR | FRAME_P_SLIP_ANGLE | FRAME_P_SLIP_RATIO |                \
	 FRAME_P_WHEEL_SPEED | FRAME_P_TYRE_TEMP | FRAME_P_SUSP_NORM | FRAME_P_ACCEL_LAT |         \
	 FRAME_P_YAW | FRAME_P_SPEED | FRAME_P_VEL | FRAME_P_GAME_TIME | FRAME_P_LAP_DIST |        \
	 FRAME_P_SPLINE | FRAME_P_TRACK_LEN | FRAME_P_TYRE_TEMP_INNER | FRAME_P_TYRE_TEMP_MIDDLE | \
	 FRAME_P_TYRE_TEMP_OUTER)

/* general's own pass (analyze/general.c, the lap tracker): every frame. */
#define GENERAL_FIRST_CHANNELS (LAPS_CHANNELS | FRAME_P_VEL | FRAME_P_POS)

/* What each analysis reads (analyze/): tests/unit/test_analysis_needs.c checks it. */
static const struct {
	const char *use_case;
	uint64_t channels; /* FRAME_P_* */
	unsigned parts;    /* FRAMECOLS_* */
} needs[] = {
	{ "shift_points",
	  FRAME_P_GEAR | FRAME_P_SPEED | FRAME_P_RPM | FRAME_P_MAX_RPM | FRAME_P_VEL |
		  FRAME_P_GAME_TIME | FRAME_P_ACCEL_LON | FRAME_P_ACCEL_LAT | FRAME_P_THROTTLE |
		  FRAME_P_BRAKE,
	  FRAMECOLS_T_NS | FRAMECOLS_PRESENT | FRAMECOLS_SESSION | FRAMECOLS_FLAGS },
	{ "car_grip",
	  FRAME_P_VEL | FRAME_P_STEER | FRAME_P_SPEED | FRAME_P_ACCEL_VERT | FRAME_P_ACCEL_LON |
		  FRAME_P_ACCEL_LAT | FRAME_P_GAME_TIME | FRAME_P_GEAR,
	  FRAMECOLS_T_NS | FRAMECOLS_PRESENT | FRAMECOLS_FLAGS },
	{ "track_mapping",
	  FRAME_P_POS | FRAME_P_LAP | FRAME_P_SECTOR | FRAME_P_SPLINE | FRAME_P_STEER_DEG |
		  FRAME_P_STEER | FRAME_P_ACCEL_LAT,
	  FRAMECOLS_PRESENT | FRAMECOLS_FLAGS },
	{ "general", GENERAL_FIRST_CHANNELS | ENGINEER_CHANNELS,
	  FRAMECOLS_T_NS | FRAMECOLS_PRESENT | FRAMECOLS_SESSION | FRAMECOLS_FLAGS },
};

_Static_assert(FRAME_P_COUNT <= 53, "a channel mask travels as a JSON integer");

int job_needs(const char *use_case, uint64_t *channels, unsigned *parts)
{
	for (size_t i = 0; use_case && i < sizeof needs / sizeof needs[0]; i++)
		if (strcmp(use_case, needs[i].use_case) == 0) {
			*channels = needs[i].channels;
			*parts = needs[i].parts | FRAMECOLS_SEQ | FRAMECOLS_IDS;
			return 0;
		}
	return -EINVAL;
}

int job_needs_split(const char *use_case, uint64_t *channels, unsigned *parts, uint64_t *per_lap)
{
	int rc = job_needs(use_case, channels, parts);

	*per_lap = 0;
	if (rc == 0 && strcmp(use_case, "general") == 0) {
		*per_lap = *channels & ~(uint64_t)GENERAL_FIRST_CHANNELS;
		*channels &= GENERAL_FIRST_CHANNELS;
	}
	return rc;
}

static int set_str(json_t *o, const char *key, const char *v)
{
	return json_object_set_new(o, key, json_string(v ? v : ""));
}

char *job_encode(const struct job *j)
{
	json_t *hdr = NULL, *runs;
	char *text = NULL;
	int bad = 0, v2 = 0;

	if (!j || !job_kind_name(j->kind) || !j->job_id || !*j->job_id || !j->session_id ||
	    !j->use_case || j->nruns > JOB_MAX_RUNS || (j->nruns && !j->runs) ||
	    (j->kind == JOB_LAP && (j->lap_number < 1 || j->lap_number > INT32_MAX)))
		return NULL;
	if (!(hdr = json_object()) || !(runs = json_array()) ||
	    json_object_set_new(hdr, "runs", runs) < 0)
		goto out;
	for (size_t i = 0; i < j->nruns; i++)
		v2 |= j->runs[i].encoding != JOB_ENC_FRAMES;
	bad |= json_object_set_new(hdr, "v", json_integer(v2 ? 2 : 1));
	bad |= set_str(hdr, "kind", job_kind_name(j->kind));
	bad |= set_str(hdr, "job_id", j->job_id);
	bad |= set_str(hdr, "session_id", j->session_id);
	bad |= set_str(hdr, "use_case", j->use_case);
	bad |= set_str(hdr, "car_name", j->car_name);
	bad |= json_object_set_new(hdr, "deadline_ms", json_integer(j->deadline_ms));
	bad |= json_object_set_new(hdr, "frame_size", json_integer((json_int_t)FRAME_SIZE));
	bad |= json_object_set_new(hdr, "frame_version", json_integer(FRAME_VERSION));
	if (j->game && *j->game)
		bad |= set_str(hdr, "game", j->game);
	if (j->track && *j->track)
		bad |= set_str(hdr, "track", j->track);
	if (j->track_model)
		bad |= json_object_set_new(hdr, "track_model", json_deep_copy(j->track_model));
	if (j->kind == JOB_LAP)
		bad |= json_object_set_new(hdr, "lap_number", json_integer(j->lap_number));
	if (j->kind == JOB_LAP && j->suppress)
		bad |= json_object_set_new(hdr, "suppress", json_deep_copy(j->suppress));
	for (size_t i = 0; i < j->nruns; i++) {
		const struct job_run *r = &j->runs[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "run_id", r->run_id ? r->run_id : "",
				      "feed_name", r->feed_name ? r->feed_name : "", "label",
				      r->label ? r->label : "", "frames", (json_int_t)r->nframes);

		if ((unsigned)r->encoding > JOB_ENC_PATH ||
		    (r->encoding == JOB_ENC_PATH && !r->path))
			bad = 1;
		else if (o && r->encoding != JOB_ENC_FRAMES) {
			bad |= set_str(o, "encoding", encoding_names[r->encoding]);
			bad |= json_object_set_new(
				o, "channels",
				json_integer((json_int_t)(r->channels & FRAME_P_ALL)));
			bad |= json_object_set_new(o, "parts",
						   json_integer(r->parts & FRAMECOLS_HEAD));
			if (r->encoding == JOB_ENC_PATH)
				bad |= set_str(o, "path", r->path);
		}
		bad |= json_array_append_new(runs, o);
	}
	if (!bad)
		text = json_dumps(hdr, JSON_COMPACT);
out:
	json_decref(hdr);
	return text;
}

static void free_given(void *data, void *block)
{
	(void)data;
	free(block);
}

/* Whether imgs[i] is the malloc'd block holding run i's bytes (data): a
 * "framefile" run's image itself, or the block a "frames" run's frames are in. */
static int given(const struct job_run *r, void *const *imgs, size_t i, const void *data)
{
	if (!imgs || !imgs[i])
		return 0;
	return r->encoding == JOB_ENC_FRAMEFILE ? imgs[i] == r->image
	       : r->encoding == JOB_ENC_FRAMES  ? (const char *)imgs[i] <= (const char *)data
						: 0;
}

/* Run i's part; the bytes of a block imgs gives (given) go to ZeroMQ as they
 * are, the block freed once sent, and imgs[i] becomes NULL. 0 or -errno. */
static int send_run(void *sock, const struct job *j, size_t i, void **imgs)
{
	const struct job_run *r = &j->runs[i];
	const void *data = r->encoding == JOB_ENC_FRAMES ? (const void *)r->frames : r->image;
	size_t len = r->encoding == JOB_ENC_FRAMES      ? r->nframes * sizeof(struct pw_frame)
		     : r->encoding == JOB_ENC_FRAMEFILE ? r->image_len
							: 0;
	int more = i + 1 < j->nruns ? ZMQ_SNDMORE : 0;
	zmq_msg_t m;

	if (!len || !given(r, imgs, i, data))
		return zmq_send(sock, data, len, more) < 0 ? -zmq_errno() : 0;
	/* ZeroMQ's const-less signature; it only reads the bytes and hands them to free_given */
	if (zmq_msg_init_data(&m, (void *)(uintptr_t)data, len, free_given, imgs[i]) < 0)
		return -zmq_errno();
	imgs[i] = NULL; /* ZeroMQ's now: freed when sent, or by the close below */
	if (zmq_msg_send(&m, sock, more) < 0) {
		int rc = -zmq_errno();

		zmq_msg_close(&m);
		return rc;
	}
	return 0;
}

static int send_job(void *sock, const struct job *j, void **imgs)
{
	char *text = job_encode(j);
	int rc = 1;

	if (!text)
		return -EINVAL;
	if (zmq_send(sock, text, strlen(text), ZMQ_DONTWAIT | (j->nruns ? ZMQ_SNDMORE : 0)) < 0)
		rc = zmq_errno() == EAGAIN ? 0 : -zmq_errno();
	/* once the first part is queued the others follow: a message is delivered whole */
	for (size_t i = 0; rc == 1 && i < j->nruns; i++) {
		int e = send_run(sock, j, i, imgs);

		if (e < 0)
			rc = e;
	}
	free(text);
	return rc;
}

int job_send(void *sock, const struct job *j)
{
	return send_job(sock, j, NULL);
}

int job_send_giving(void *sock, const struct job *j, void **imgs)
{
	return send_job(sock, j, imgs);
}

struct job_inbox {
	size_t n; /* parts received (more than kept: too many) */
	zmq_msg_t msg[JOB_MAX_RUNS + 1];
	struct job_part part[JOB_MAX_RUNS + 1];
};

int job_recv(void *sock, int flags, struct job_inbox **out)
{
	struct job_inbox *ib = calloc(1, sizeof *ib);
	int more = 1, rc = 0;

	*out = NULL;
	if (!ib)
		return -ENOMEM;
	while (more) {
		zmq_msg_t junk, *m = ib->n < JOB_MAX_RUNS + 1 ? &ib->msg[ib->n] : &junk;

		zmq_msg_init(m);
		if (zmq_msg_recv(m, sock, ib->n == 0 ? flags : 0) < 0) {
			rc = -zmq_errno();
			zmq_msg_close(m);
			break;
		}
		more = zmq_msg_more(m);
		if (m == &junk) {
			zmq_msg_close(m);
			ib->n = JOB_MAX_RUNS + 2; /* too many: job_decode refuses the job */
			continue;
		}
		ib->part[ib->n] = (struct job_part){ zmq_msg_data(m), zmq_msg_size(m) };
		ib->n++;
	}
	if (rc < 0 || ib->n == 0) {
		job_inbox_free(ib);
		return rc < 0 ? rc : -EPROTO;
	}
	*out = ib;
	return 0;
}

const struct job_part *job_inbox_parts(const struct job_inbox *ib, size_t *nparts)
{
	*nparts = ib ? ib->n : 0;
	return ib ? ib->part : NULL;
}

void job_inbox_free(struct job_inbox *ib)
{
	if (!ib)
		return;
	for (size_t i = 0; i < ib->n && i < JOB_MAX_RUNS + 1; i++)
		zmq_msg_close(&ib->msg[i]);
	free(ib);
}

static int bad(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	return -EPROTO;
}

/* An optional string member: absent or null -> "", else it must be a string
 * of at most max bytes. 0 or -1. */
static int opt_string(const json_t *o, const char *key, size_t max, const char **out)
{
	const json_t *v = json_object_get(o, key);

	*out = "";
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) > max)
		return -1;
	*out = json_string_value(v);
	return 0;
}

/* A required string member of 1..max bytes (0 bytes too when may_be_empty). */
static const char *need_string(const json_t *o, const char *key, size_t max, int may_be_empty)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) > max ||
	    (!may_be_empty && json_string_length(v) == 0))
		return NULL;
	return json_string_value(v);
}

static int decode_kind(const json_t *hdr, enum job_kind *kind)
{
	const json_t *v = json_object_get(hdr, "kind");

	*kind = JOB_ANALYSIS;
	if (!v)
		return 0;
	for (int k = 0; json_is_string(v) && k < JOB_KIND_COUNT; k++)
		if (strcmp(json_string_value(v), kind_names[k]) == 0) {
			*kind = (enum job_kind)k;
			return 0;
		}
	return -1;
}

/* A lap job's lap_number (1..INT32_MAX) and suppress (strings); neither in other kinds. */
static int decode_lap(struct job *j, char *err, size_t cap)
{
	const json_t *n = json_object_get(j->hdr, "lap_number");
	const json_t *s = json_object_get(j->hdr, "suppress"), *v;
	size_t i;

	if (j->kind != JOB_LAP) {
		if (n || s)
			return bad(err, cap, "\"lap_number\" and \"suppress\" belong to lap jobs");
		return 0;
	}
	if (!json_is_integer(n) || json_integer_value(n) < 1 || json_integer_value(n) > INT32_MAX)
		return bad(err, cap, "a lap job needs \"lap_number\" 1..%d", INT32_MAX);
	j->lap_number = json_integer_value(n);
	if (s && !json_is_null(s) && (!json_is_array(s) || json_array_size(s) > JOB_MAX_SUPPRESS))
		return bad(err, cap, "\"suppress\" must be an array of at most %d strings",
			   JOB_MAX_SUPPRESS);
	json_array_foreach(s, i, v)
		if (!json_is_string(v) || json_string_length(v) > 64)
			return bad(err, cap, "\"suppress\" must be an array of at most %d strings",
				   JOB_MAX_SUPPRESS);
	j->suppress = json_is_array(s) ? s : NULL;
	return 0;
}

/* The header's fields into j; the runs are checked by decode_runs. */
static int decode_header(struct job *j, size_t nparts, char *err, size_t cap)
{
	const json_t *hdr = j->hdr, *v;
	json_int_t fs, fv;

	v = json_object_get(hdr, "v");
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > JOB_VERSION)
		return bad(err, cap, "the header is not a version 1..%d job", JOB_VERSION);
	if (!j->job_id || !*j->job_id)
		return bad(err, cap, "\"job_id\" must be a string of 1-%d bytes", JOB_ID_MAX);
	if (!j->session_id)
		return bad(err, cap, "\"session_id\" must be a string of at most %d bytes",
			   JOB_ID_MAX);
	if (decode_kind(hdr, &j->kind) < 0)
		return bad(err, cap, "\"kind\" must be \"analysis\", \"track_build\" or \"lap\"");
	if (!(j->use_case = need_string(hdr, "use_case", 64, 1)))
		return bad(err, cap, "\"use_case\" must be a string");
	if (opt_string(hdr, "car_name", 1024, &j->car_name) < 0 ||
	    opt_string(hdr, "game", 1024, &j->game) < 0 ||
	    opt_string(hdr, "track", 1024, &j->track) < 0)
		return bad(err, cap, "\"car_name\", \"game\" and \"track\" must be strings");
	v = json_object_get(hdr, "track_model");
	if (v && !json_is_null(v) && !json_is_object(v))
		return bad(err, cap, "\"track_model\" must be an object");
	j->track_model = json_is_object(v) ? v : NULL;
	v = json_object_get(hdr, "deadline_ms");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 0))
		return bad(err, cap, "\"deadline_ms\" must be an integer >= 0");
	j->deadline_ms = v ? json_integer_value(v) : 0;
	if (j->kind == JOB_TRACK_BUILD &&
	    (strcmp(j->use_case, "track_mapping") != 0 || !*j->game || !*j->track))
		return bad(err, cap,
			   "a track_build job needs use_case track_mapping, a game and a track");
	if (decode_lap(j, err, cap) < 0)
		return -EPROTO;
	fs = json_integer_value(json_object_get(hdr, "frame_size"));
	fv = json_integer_value(json_object_get(hdr, "frame_version"));
	if (!json_is_integer(json_object_get(hdr, "frame_size")) ||
	    !json_is_integer(json_object_get(hdr, "frame_version")) ||
	    fs != (json_int_t)sizeof(struct pw_frame) || fv < FRAME_VERSION_MIN ||
	    fv > FRAME_VERSION)
		return bad(
			err, cap,
			"frames of size %lld version %lld; this reader reads size %zu version %d..%d",
			(long long)fs, (long long)fv, sizeof(struct pw_frame), FRAME_VERSION_MIN,
			FRAME_VERSION);
	v = json_object_get(hdr, "runs");
	if (!json_is_array(v) || json_array_size(v) > JOB_MAX_RUNS ||
	    json_array_size(v) != nparts - 1)
		return bad(err, cap, "%zu runs but %zu frame parts", json_array_size(v),
			   nparts - 1);
	return 0;
}

/* A run's encoding and, for the version 2 ones, what it carries. 0 or -EPROTO. */
static int decode_encoding(const json_t *r, int version, struct job_run *out, char *err, size_t cap,
			   size_t i)
{
	const json_t *e = json_object_get(r, "encoding"), *ch = json_object_get(r, "channels"),
		     *pa = json_object_get(r, "parts");
	const char *path;

	out->encoding = JOB_ENC_FRAMES;
	if (!e)
		return 0;
	if (version < 2)
		return bad(err, cap, "run %zu: \"encoding\" needs a version 2 job", i);
	for (int k = 0; k <= JOB_ENC_PATH; k++)
		if (json_is_string(e) && strcmp(json_string_value(e), encoding_names[k]) == 0)
			out->encoding = (enum job_encoding)k;
	if (!json_is_string(e) ||
	    (out->encoding == JOB_ENC_FRAMES && strcmp(json_string_value(e), "frames") != 0))
		return bad(err, cap, "run %zu: \"encoding\" must be frames, framefile or path", i);
	if (out->encoding == JOB_ENC_FRAMES)
		return 0;
	if (!json_is_integer(ch) || json_integer_value(ch) < 0 ||
	    (json_integer_value(ch) & ~(json_int_t)FRAME_P_ALL) || !json_is_integer(pa) ||
	    json_integer_value(pa) < 0 || (json_integer_value(pa) & ~(json_int_t)FRAMECOLS_HEAD))
		return bad(err, cap,
			   "run %zu: \"channels\" and \"parts\" must be masks of "
			   "channels (< 2^%d) and head parts (< 2^7)",
			   i, FRAME_P_COUNT);
	out->channels = (uint64_t)json_integer_value(ch);
	out->parts = (unsigned)json_integer_value(pa);
	if (out->encoding == JOB_ENC_PATH) {
		path = need_string(r, "path", 4095, 0);
		if (!path || path[0] != '/' || strlen(path) < 8 ||
		    strcmp(path + strlen(path) - 7, ".frames") != 0 || strstr(path, "/../") ||
		    memchr(path, '\0', json_string_length(json_object_get(r, "path"))))
			return bad(err, cap,
				   "run %zu: \"path\" must be an absolute path to a "
				   ".frames file",
				   i);
		out->path = path;
	}
	return 0;
}

/* A "framefile" run: its image loaded as the columns it names, to exactly
 * nframes frames. 0, -EPROTO or -ENOMEM. */
static int decode_image(struct job_run *r, const struct job_part *part, const char *split,
			char *err, size_t cap, size_t i)
{
	struct framefile_info info;
	uint64_t first, per_lap = 0;
	unsigned parts;
	int rc;

	if (split && job_needs_split(split, &first, &parts, &per_lap) == 0 &&
	    (r->channels & per_lap)) {
		r->per_lap = r->channels & per_lap;
		r->image = part->data;
		r->image_len = part->len;
	}
	rc = framefile_load_cols_buf(part->data, part->len, r->channels & ~r->per_lap, r->parts,
				     &r->cols, &info);

	if (rc == -ENOMEM)
		return rc;
	if (rc < 0)
		return bad(err, cap, "run %zu: the frame file image does not read (%s)", i,
			   strerror(-rc));
	if (r->cols.n != r->nframes || info.tail != FRAMEFILE_TAIL_CLEAN) {
		bad(err, cap, "run %zu: %zu frames announced, the image holds %zu%s", i, r->nframes,
		    r->cols.n, info.tail != FRAMEFILE_TAIL_CLEAN ? " before a damaged tail" : "");
		framecols_free(&r->cols);
		return -EPROTO;
	}
	return 0;
}

/* Each run's entry against its part; frames are copied into j->mem, images
 * loaded as columns. */
static int decode_runs(struct job *j, const struct job_part *parts, const char *split, char *err,
		       size_t cap)
{
	const json_t *runs = json_object_get(j->hdr, "runs"), *r;
	size_t n = json_array_size(runs), i, head, total = 0, at;
	int version = (int)json_integer_value(json_object_get(j->hdr, "v")), rc;
	struct job_run *jr, enc;
	char *mem;

	json_array_foreach(runs, i, r) {
		const json_t *fr = json_object_get(r, "frames");
		json_int_t nf = json_integer_value(fr);
		size_t bytes = parts[i + 1].len;

		if (!json_is_object(r) || !need_string(r, "run_id", JOB_ID_MAX, 1) ||
		    !need_string(r, "feed_name", 1024, 1) || !need_string(r, "label", 1024, 1))
			return bad(err, cap,
				   "run %zu: not an object with string run_id, feed_name, label",
				   i);
		if (decode_encoding(r, version, &enc, err, cap, i) < 0)
			return -EPROTO;
		if (!json_is_integer(fr) || nf < 0 || (uint64_t)nf > JOB_MAX_RUN_FRAMES ||
		    (enc.encoding == JOB_ENC_FRAMES &&
		     bytes != (size_t)nf * sizeof(struct pw_frame)) ||
		    (enc.encoding == JOB_ENC_PATH && bytes != 0))
			return bad(err, cap, "run %zu: %lld frames announced, %zu bytes sent", i,
				   (long long)nf, bytes);
		if (enc.encoding == JOB_ENC_FRAMES)
			total += bytes;
	}
	head = (n * sizeof *jr + JOB_FRAME_ALIGN - 1) / JOB_FRAME_ALIGN * JOB_FRAME_ALIGN;
	/* zmq gives no alignment guarantee: the frames are read from aligned copies */
	mem = aligned_alloc(JOB_FRAME_ALIGN,
			    head + (total / JOB_FRAME_ALIGN + 1) * JOB_FRAME_ALIGN);
	if (!mem)
		return -ENOMEM;
	memset(mem, 0, head);
	j->mem = mem;
	jr = (struct job_run *)mem;
	j->runs = jr;
	at = head;
	json_array_foreach(runs, i, r) {
		struct pw_frame *f = (struct pw_frame *)(mem + at);
		size_t nf = (size_t)json_integer_value(json_object_get(r, "frames"));

		decode_encoding(r, version, &jr[i], err, cap, i);
		jr[i].run_id = need_string(r, "run_id", JOB_ID_MAX, 1);
		jr[i].feed_name = need_string(r, "feed_name", 1024, 1);
		jr[i].label = need_string(r, "label", 1024, 1);
		jr[i].nframes = nf;
		j->nruns = i + 1; /* job_release frees what the runs so far hold */
		if (jr[i].encoding == JOB_ENC_FRAMEFILE) {
			if ((rc = decode_image(&jr[i], &parts[i + 1], split, err, cap, i)) < 0)
				return rc;
			continue;
		}
		if (jr[i].encoding == JOB_ENC_PATH)
			continue;
		if (nf)
			memcpy(f, parts[i + 1].data, parts[i + 1].len);
		for (size_t k = 0; k < nf; k++)
			if (frame_upgrade(&f[k]) < 0)
				return bad(err, cap,
					   "run %zu frame %zu: frame version %u, not %d..%d", i, k,
					   (unsigned)f[k].version, FRAME_VERSION_MIN,
					   FRAME_VERSION);
		jr[i].frames = nf ? f : NULL;
		at += parts[i + 1].len;
	}
	j->nruns = n;
	return 0;
}

static int decode(struct job *j, const struct job_part *parts, size_t nparts, int split, char *err,
		  size_t cap)
{
	json_error_t jerr;
	int rc;

	memset(j, 0, sizeof *j);
	if (nparts < 1 || !parts)
		return bad(err, cap, "an empty message");
	j->hdr = json_loadb(parts[0].data, parts[0].len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(j->hdr))
		return bad(err, cap, "the header is not a JSON object%s%s", j->hdr ? "" : ": ",
			   j->hdr ? "" : jerr.text);
	/* named first, so that even a malformed job can be answered */
	j->job_id = need_string(j->hdr, "job_id", JOB_ID_MAX, 0);
	j->session_id = need_string(j->hdr, "session_id", JOB_ID_MAX, 1);
	if (nparts > JOB_MAX_RUNS + 1)
		return bad(err, cap, "more than %d parts", JOB_MAX_RUNS + 1);
	if ((rc = decode_header(j, nparts, err, cap)) < 0 ||
	    (rc = decode_runs(j, parts, split ? j->use_case : NULL, err, cap)) < 0)
		return rc;
	return 0;
}

int job_decode(struct job *j, const struct job_part *parts, size_t nparts, char *err, size_t cap)
{
	return decode(j, parts, nparts, 0, err, cap);
}

int job_decode_split(struct job *j, const struct job_part *parts, size_t nparts, char *err,
		     size_t cap)
{
	return decode(j, parts, nparts, 1, err, cap);
}

void job_release(struct job *j)
{
	if (!j)
		return;
	for (size_t i = 0; j->mem && i < j->nruns; i++)
		framecols_free((struct framecols *)&j->runs[i].cols);
	json_decref(j->hdr);
	free(j->mem);
	j->hdr = NULL;
	j->mem = NULL;
	j->runs = NULL;
	j->nruns = 0;
}

char *job_result_encode(enum job_kind kind, const char *job_id, const char *session_id,
			const json_t *analysis, const char *code, const char *message)
{
	json_t *o;
	char *text;

	if (!job_id)
		return NULL;
	o = json_pack("{s:i, s:s, s:s, s:b}", "v", JOB_RESULT_VERSION, "job_id", job_id,
		      "session_id", session_id ? session_id : "", "ok", analysis != NULL);
	if (!o)
		return NULL;
	if (analysis)
		json_object_set_new(o, "analysis", json_deep_copy(analysis));
	else
		json_object_set_new(o, "error",
				    json_pack("{s:s, s:s}", "code",
					      code && *code ? code : JOB_E_BAD_INPUT, "message",
					      message ? message : ""));
	text = json_dumps(o,
			  JSON_COMPACT | (kind == JOB_TRACK_BUILD ? 0 : JSON_REAL_PRECISION(10)));
	json_decref(o);
	return text;
}

int job_result_decode(struct job_result *r, const void *buf, size_t len, char *err, size_t cap)
{
	json_error_t jerr;
	const json_t *ok, *e;

	memset(r, 0, sizeof *r);
	if (len > JOB_RESULT_MAX_BYTES) {
		snprintf(err, cap, "a result of %zu bytes (at most %d)", len, JOB_RESULT_MAX_BYTES);
		return -E2BIG;
	}
	r->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(r->root))
		return bad(err, cap, "the result is not a JSON object%s%s", r->root ? "" : ": ",
			   r->root ? "" : jerr.text);
	r->job_id = need_string(r->root, "job_id", JOB_ID_MAX, 0);
	r->session_id = need_string(r->root, "session_id", JOB_ID_MAX, 1);
	if (!json_is_integer(json_object_get(r->root, "v")) ||
	    json_integer_value(json_object_get(r->root, "v")) != JOB_RESULT_VERSION)
		return bad(err, cap, "the result is not a version %d result", JOB_RESULT_VERSION);
	if (!r->job_id || !r->session_id)
		return bad(err, cap, "\"job_id\" and \"session_id\" must be strings");
	ok = json_object_get(r->root, "ok");
	if (!json_is_boolean(ok))
		return bad(err, cap, "\"ok\" must be true or false");
	r->ok = json_is_true(ok);
	if (r->ok) {
		r->analysis = json_object_get(r->root, "analysis");
		if (!json_is_object(r->analysis))
			return bad(err, cap, "an ok result needs an \"analysis\" object");
		return 0;
	}
	e = json_object_get(r->root, "error");
	r->code = need_string(e, "code", 64, 0);
	r->message = need_string(e, "message", 4096, 1);
	if (!json_is_object(e) || !r->code || !r->message)
		return bad(err, cap,
			   "a failed result needs an \"error\" with string code and message");
	return 0;
}

void job_result_release(struct job_result *r)
{
	if (!r)
		return;
	json_decref(r->root);
	memset(r, 0, sizeof *r);
}
