/*
 * test_export.c - the run export (common/export.h): plain CSV and JSON lines
 * byte for byte as the frame's own writers make them (the output pw-api and
 * pwctl have always given), whole lines in pieces of at most EXPORT_CHUNK,
 * progress calls, the writer stopping an export, torn files, empty runs, the
 * widest line fitting the line buffer; the options (channels, hz, lap,
 * time_s) byte for byte on hand-made frames, the run clock over pauses,
 * rewinds and missing game clocks, every bad parameter named in its error;
 * MoTeC .ld/.ldx read back field by field (counts x rate = duration, values
 * within their decimals, beacons at the lap ends) and the Parquet writer's
 * layout and errors. tests/integration/test_export.sh reads the files with
 * independent readers.
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <ftw.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/export.h"
#include "common/framefile.h"
#include "common/le.h"
#include "common/motec.h"
#include "common/parquet.h"
#include "t.h"
#include "t_frames.h"

#define SEQ0 100

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
	return buf;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* n frames of pw-sim's laps mode; every 7th has only a few channels, so JSON lines vary. */
static struct pw_frame *sim_frames(size_t n)
{
	struct pw_frame *f = t_sim_frames(n, 3, SEQ0);

	for (size_t k = 3; f && k < n; k += 7)
		f[k].present &= 0xff;
	return f;
}

static int write_run(const char *path, const struct pw_frame *f, size_t n)
{
	struct framefile_hdr h = { .codec = BLOCKCODEC_PACK };
	struct framefile_writer *w;
	int rc;

	snprintf(h.feed, sizeof h.feed, "ksudp");
	snprintf(h.run_id, sizeof h.run_id, "run-1");
	unlink(path);
	if ((rc = framefile_create(&w, path, &h)) < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i += 500)
		rc = framefile_append(w, f + i, n - i < 500 ? n - i : 500);
	if (rc == 0)
		rc = framefile_sync(w);
	return framefile_close(w) < 0 ? -EIO : rc;
}

/* The expected text: the frame's writers, one line each, as the export loops always wrote. */
static char *expected(enum export_format format, const struct pw_frame *f, size_t n, size_t *len)
{
	char line[EXPORT_LINE_MAX];
	size_t cap = (n + 1) * EXPORT_LINE_MAX, at = 0;
	char *text = malloc(cap);

	if (!text)
		return NULL;
	if (format == EXPORT_CSV) {
		frame_csv_header(line, sizeof line);
		at += (size_t)snprintf(text + at, cap - at, "%s\n", line);
	}
	for (size_t i = 0; i < n; i++) {
		if (format == EXPORT_CSV)
			frame_to_csv(&f[i], line, sizeof line);
		else
			frame_to_json(&f[i], line, sizeof line);
		at += (size_t)snprintf(text + at, cap - at, "%s\n", line);
	}
	*len = at;
	return text;
}

/* A writer into memory that checks each call is whole lines (text) of at most
 * EXPORT_CHUNK bytes. */
struct sink {
	char *buf;
	size_t len, cap;
	size_t calls;
	size_t fail_at; /* the call that fails with -ENOSPC; 0: none */
	int bad_line, binary;
	uint64_t progress[16];
	size_t nprogress;
};

static int sink_write(void *ctx, const void *p, size_t len)
{
	struct sink *s = ctx;
	const char *line = p;

	if (++s->calls == s->fail_at)
		return -ENOSPC;
	if (len == 0 || len > EXPORT_CHUNK || (!s->binary && line[len - 1] != '\n'))
		s->bad_line = 1;
	if (s->len + len > s->cap) {
		size_t cap = (s->len + len) * 2;
		char *nb = realloc(s->buf, cap);

		if (!nb)
			return -ENOMEM;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, line, len);
	s->len += len;
	return 0;
}

static void sink_progress(void *ctx, uint64_t i)
{
	struct sink *s = ctx;

	if (s->nprogress < sizeof s->progress / sizeof *s->progress)
		s->progress[s->nprogress] = i;
	s->nprogress++;
}

/* Export path as o says (format, options) into s; returns export_frames' result. */
static int run_opts(const char *path, struct export_opts *o, struct sink *s,
		    struct export_result *res, struct framefile_info *end)
{
	struct framefile_reader *r = NULL;
	int rc = framefile_reader_open(&r, path, NULL);

	if (rc < 0)
		return rc;
	o->write = sink_write;
	o->progress = sink_progress;
	o->ctx = s;
	o->tmp_dir = tmpdir;
	s->binary = o->format == EXPORT_LD || o->format == EXPORT_PARQUET;
	rc = export_frames(r, o, res);
	if (end)
		framefile_reader_info(r, end);
	framefile_reader_close(r);
	return rc;
}

/* The plain export of path in format into s. */
static int run_export(const char *path, enum export_format format, struct sink *s, uint64_t *frames,
		      struct framefile_info *end)
{
	struct export_opts o;
	struct export_result res;
	int rc;

	export_opts_init(&o);
	o.format = format;
	rc = run_opts(path, &o, s, &res, end);
	if (frames)
		*frames = res.frames;
	return rc;
}

/* --- tests --- */

static void test_csv_and_json(void)
{
	size_t n = 2500, want_len;
	struct pw_frame *f = sim_frames(n);
	const char *path = tmp_path("run.frames");
	struct framefile_info end;
	uint64_t frames = 0;

	T_CHECK(f && write_run(path, f, n) == 0);
	if (!f)
		return;
	for (int format = EXPORT_CSV; format <= EXPORT_JSON; format++) {
		struct sink s = { 0 };
		char *want = expected((enum export_format)format, f, n, &want_len);

		T_CHECK(run_export(path, (enum export_format)format, &s, &frames, &end) == 0);
		T_CHECK(frames == n && end.tail == FRAMEFILE_TAIL_CLEAN && end.frames == n);
		T_CHECK(want && s.len == want_len && memcmp(s.buf, want, want_len) == 0);
		/* whole lines, in as few pieces as EXPORT_CHUNK allows */
		T_CHECK(!s.bad_line && s.calls >= want_len / EXPORT_CHUNK + 1 &&
			s.calls <= want_len / (EXPORT_CHUNK - EXPORT_LINE_MAX) + 1);
		/* progress after frames 0, 1024 and 2048 */
		T_CHECK(s.nprogress == 3 && s.progress[0] == 0 && s.progress[1] == 1024 &&
			s.progress[2] == 2048);
		free(want);
		free(s.buf);
	}
	free(f);
}

/* The writer's error stops the export at once and is returned; what went out
 * before is a prefix of the whole export. */
static void test_writer_error(void)
{
	size_t n = 3000, want_len;
	struct pw_frame *f = sim_frames(n);
	const char *path = tmp_path("err.frames");
	char *want = expected(EXPORT_CSV, f, n, &want_len);
	struct export_opts o;
	struct export_result res;
	struct sink s = { .fail_at = 3 };
	uint64_t frames = 99;

	T_CHECK(f && want && write_run(path, f, n) == 0);
	export_opts_init(&o);
	T_CHECK(run_opts(path, &o, &s, &res, NULL) == -ENOSPC);
	T_CHECK(s.calls == 3 && res.bytes == s.len && s.len > 0 && memcmp(s.buf, want, s.len) == 0);
	T_CHECK(res.frames < n && res.rows < n && res.rows * 100 > s.len / 8);
	free(s.buf);
	memset(&s, 0, sizeof s);
	s.fail_at = 1;
	T_CHECK(run_export(path, EXPORT_CSV, &s, &frames, NULL) == -ENOSPC && s.len == 0);
	free(s.buf);
	for (int format = EXPORT_LD; format < EXPORT_FORMAT_COUNT; format++) {
		memset(&s, 0, sizeof s);
		s.fail_at = 1;
		export_opts_init(&o);
		o.format = (enum export_format)format;
		T_CHECKF(run_opts(path, &o, &s, &res, NULL) == -ENOSPC && s.len == 0, "format %d",
			 format);
		free(s.buf);
	}
	free(want);
	free(f);
}

/* A torn file exports its complete blocks; an empty run only the CSV header. */
static void test_torn_and_empty(void)
{
	size_t n = 1200, want_len;
	struct pw_frame *f = sim_frames(n);
	const char *path = tmp_path("torn.frames");
	struct framefile_info end;
	struct sink s = { 0 };
	uint64_t frames = 0;
	char *want = NULL;
	struct stat st;

	T_CHECK(f && write_run(path, f, n) == 0 && stat(path, &st) == 0);
	/* blocks of 1024 and 176 frames; tear the second */
	T_CHECK(truncate(path, st.st_size - 37) == 0);
	T_CHECK(run_export(path, EXPORT_JSON, &s, &frames, &end) == 0);
	T_CHECK(frames == 1024 && end.tail == FRAMEFILE_TAIL_TORN && end.dropped_bytes > 0);
	want = expected(EXPORT_JSON, f, 1024, &want_len);
	T_CHECK(want && s.len == want_len && memcmp(s.buf, want, want_len) == 0);
	free(want);
	free(s.buf);

	T_CHECK(write_run(path, f, 0) == 0);
	memset(&s, 0, sizeof s);
	T_CHECK(run_export(path, EXPORT_JSON, &s, &frames, NULL) == 0 && frames == 0 && s.len == 0);
	T_CHECK(run_export(path, EXPORT_CSV, &s, &frames, NULL) == 0 && frames == 0);
	want = expected(EXPORT_CSV, f, 0, &want_len);
	T_CHECK(want && s.calls == 1 && s.len == want_len && memcmp(s.buf, want, want_len) == 0);
	T_CHECK(s.nprogress == 0);
	free(want);
	free(s.buf);
	free(f);
}

static void test_arguments(void)
{
	const char *path = tmp_path("args.frames");
	struct pw_frame *f = sim_frames(10);
	struct framefile_reader *r = NULL;
	struct sink s = { 0 };
	struct export_opts o = { .format = EXPORT_FORMAT_COUNT, .write = sink_write, .ctx = &s };
	struct export_result res = { 7, 7, 7 };

	T_CHECK(f && write_run(path, f, 10) == 0);
	T_CHECK(framefile_reader_open(&r, path, NULL) == 0);
	T_CHECK(export_frames(r, &o, &res) == -EINVAL && res.frames == 0 && s.calls == 0);
	o.format = EXPORT_JSON;
	o.write = NULL;
	T_CHECK(export_frames(r, &o, NULL) == -EINVAL);
	T_CHECK(export_frames(r, NULL, NULL) == -EINVAL);
	o.write = sink_write;
	T_CHECK(export_frames(r, &o, &res) == 0 && res.frames == 10 && res.rows == 10 &&
		s.calls == 1 && res.bytes == s.len);
	T_CHECK(export_frames(r, &o, &res) == 0 && res.frames == 0); /* r is at its end */
	T_CHECK(framefile_reader_rewind(r) == 0);
	T_CHECK(export_frames(r, &o, &res) == 0 && res.frames == 10); /* and from the start again */
	framefile_reader_close(r);
	T_CHECK(export_format_parse("csv") == EXPORT_CSV);
	T_CHECK(export_format_parse("json") == EXPORT_JSON);
	T_CHECK(export_format_parse("ld") == EXPORT_LD && export_format_parse("ldx") == EXPORT_LDX);
	T_CHECK(export_format_parse("parquet") == EXPORT_PARQUET);
	T_CHECK(export_format_parse("xml") == -EINVAL && export_format_parse("") == -EINVAL);
	T_CHECK(export_format_parse("CSV") == -EINVAL && export_format_parse(NULL) == -EINVAL);
	T_CHECK(strcmp(export_format_media_type(EXPORT_CSV), "text/csv") == 0);
	T_CHECK(strcmp(export_format_media_type(EXPORT_JSON), "application/x-ndjson") == 0);
	T_CHECK(strcmp(export_format_media_type(EXPORT_PARQUET),
		       "application/vnd.apache.parquet") == 0);
	T_CHECK(export_format_media_type(EXPORT_FORMAT_COUNT) == NULL);
	T_CHECK(strcmp(export_format_ext(EXPORT_JSON), "jsonl") == 0 &&
		strcmp(export_format_ext(EXPORT_LDX), "ldx") == 0 &&
		export_format_ext(EXPORT_FORMAT_COUNT) == NULL);
	free(s.buf);
	free(f);
}

/* Every channel present at its widest value, every game and feed name: the
 * line fits EXPORT_LINE_MAX, so export_frames never leaves a frame out. */
static void test_widest_line_fits(void)
{
	static const uint32_t fills[] = { 0x80800000u /* -FLT_MIN */, 0xff7fffffu /* -FLT_MAX */,
					  0x80000001u /* the smallest negative denormal */,
					  0xfffffffeu, 0x7f7fffffu };
	char line[2 * EXPORT_LINE_MAX];
	size_t widest = 0;

	for (size_t p = 0; p < sizeof fills / sizeof *fills; p++) {
		for (unsigned g = 0; g < PW_GAME_COUNT; g++) {
			for (unsigned fd = 0; fd < PW_FEED_COUNT; fd++) {
				struct pw_frame f;
				size_t j, c;

				for (size_t o = 0; o < sizeof f; o += 4)
					memcpy((char *)&f + o, &fills[p], 4);
				f.seq = UINT64_MAX;
				f.t_ns = INT64_MIN;
				f.game_session = UINT64_MAX;
				f.game_time_s = -DBL_MIN;
				f.present = (1ull << FRAME_P_COUNT) - 1;
				f.version = FRAME_VERSION;
				f.game = (uint8_t)g;
				f.feed = (uint8_t)fd;
				f.flags = f.flags_known = 0xffff;
				j = frame_to_json(&f, line, sizeof line);
				c = frame_to_csv(&f, line, sizeof line);
				widest = j > widest ? j : widest;
				widest = c > widest ? c : widest;
			}
		}
	}
	T_CHECKF(widest > 1000 && widest < EXPORT_LINE_MAX - 1, "widest line %zu bytes", widest);
	T_CHECK(frame_csv_header(line, sizeof line) < EXPORT_LINE_MAX - 1);
}

/* --- options --- */

/* Five hand-made frames on exact binary times: game clock 64.0, 64.125,
 * 64.25, 64.25 (paused), then 10.0 (a rewind: the receive time's 125 ms
 * step counts). Tyre temperatures only in the first two; the lap distance
 * falls at the line in the third. */
static void hand_frames(struct pw_frame *f)
{
	static const float speed[] = { 10, 20, 40, 40, 0.5f };
	static const int8_t gear[] = { 2, 3, 3, 3, 4 };
	static const float dist[] = { 100, 102.5f, 5, 5, 5.5f };
	static const double game[] = { 64.0, 64.125, 64.25, 64.25, 10.0 };

	for (int k = 0; k < 5; k++) {
		frame_init(&f[k], PW_GAME_AC, PW_FEED_KSUDP);
		f[k].seq = 10 + (uint64_t)k;
		f[k].t_ns = 1700000000000000000ll + k * 125000000ll;
		f[k].present = FRAME_P_GAME_TIME | FRAME_P_SPEED | FRAME_P_GEAR | FRAME_P_LAP_DIST |
			       (k < 2 ? FRAME_P_TYRE_TEMP : 0);
		f[k].game_time_s = game[k];
		f[k].speed_kmh = speed[k];
		f[k].gear = gear[k];
		f[k].lap_dist_m = dist[k];
		for (int w = 0; w < 4; w++)
			f[k].tyre_temp_c[w] = 80 + (float)w + (k ? 0.5f : 0);
		f[k].flags_known = FRAME_FLAG_IN_PIT | FRAME_FLAG_ABS;
		f[k].flags = k == 0 ? FRAME_FLAG_IN_PIT : 0;
	}
	/* pitwall derived these, the game did not send them */
	f[1].derived = FRAME_P_SPEED | FRAME_P_TYRE_TEMP;
	f[4].derived = FRAME_P_LAP_DIST;
}

static const struct export_lap hand_laps[] = {
	{ .number = 1, .start_seq = 10, .end_seq = 11, .time_ms = 250, .valid = 0 },
	{ .number = 2, .start_seq = 12, .end_seq = 14, .time_ms = 375, .valid = 1 },
};

/* Export the hand frames with the parameters name=value, ... into a string. */
static char *hand_export(const char *const *params)
{
	static char text[8192];
	const char *path = tmp_path("hand.frames");
	struct pw_frame f[5];
	struct export_opts o;
	struct sink s = { 0 };
	char err[EXPORT_ERR_MAX];

	hand_frames(f);
	text[0] = 0;
	if (write_run(path, f, 5) < 0)
		return text;
	export_opts_init(&o);
	o.run.laps = hand_laps;
	o.run.nlaps = 2;
	for (size_t i = 0; params[i]; i += 2)
		if (export_opts_set(&o, params[i], params[i + 1], err, sizeof err) < 0) {
			snprintf(text, sizeof text, "set: %s", err);
			return text;
		}
	if (export_opts_resolve(&o, err, sizeof err) < 0) {
		snprintf(text, sizeof text, "resolve: %s", err);
		return text;
	}
	if (run_opts(path, &o, &s, NULL, NULL) == 0 && s.len < sizeof text) {
		memcpy(text, s.buf, s.len);
		text[s.len] = 0;
	}
	T_CHECK(!s.bad_line);
	free(s.buf);
	return text;
}

static void test_options_text(void)
{
	const char *cols = "speed_kmh, gear,tyre_temp_c_fl,lap_dist_m,in_pit";
	const char *const csv[] = { "channels", cols, NULL };
	const char *const csv_hz[] = { "channels", cols, "hz", "16", NULL };
	const char *const csv_lap[] = { "channels", cols, "lap", "2", NULL };
	const char *const json[] = { "format", "json", "channels", cols, NULL };
	const char *const json_whole[] = { "format",   "json",
					   "lap",      "1",
					   "channels", "tyre_temp_c,flags,seq,feed,game_time_s",
					   NULL };
	const char *const csv_derived[] = { "channels", "speed_kmh,lap_dist_m,derived", NULL };
	const char *const json_derived[] = {
		"format", "json", "channels", "speed_kmh,derived,lap_dist_m", "lap", "2", NULL
	};

	T_STREQ(hand_export(csv), "time_s,speed_kmh,gear,tyre_temp_c_fl,lap_dist_m,in_pit\n"
				  "0,10,2,80,100,1\n"
				  "0.125,20,3,80.5,102.5,0\n"
				  "0.25,40,3,,5,0\n"
				  "0.25,40,3,,5,0\n"       /* the game paused its clock */
				  "0.375,0.5,4,,5.5,0\n"); /* a rewind: the receive time's step */
	/* 16 Hz: the nearer frame's integers and flags, floats interpolated when both
	 * frames have them, the lap distance not across the line */
	T_STREQ(hand_export(csv_hz), "time_s,speed_kmh,gear,tyre_temp_c_fl,lap_dist_m,in_pit\n"
				     "0,10,2,80,100,1\n"
				     "0.0625,15,3,80.25,101.25,0\n"
				     "0.125,20,3,80.5,102.5,0\n"
				     "0.1875,30,3,,5,0\n"
				     "0.25,40,3,,5,0\n"
				     "0.3125,20.25,4,,5.25,0\n"
				     "0.375,0.5,4,,5.5,0\n");
	T_STREQ(hand_export(csv_lap), "time_s,speed_kmh,gear,tyre_temp_c_fl,lap_dist_m,in_pit\n"
				      "0,40,3,,5,0\n"
				      "0,40,3,,5,0\n"
				      "0.125,0.5,4,,5.5,0\n");
	T_STREQ(hand_export(json),
		"{\"time_s\":0,\"speed_kmh\":10,\"gear\":2,\"tyre_temp_c_fl\":80,\"lap_dist_m\":100,\"in_pit\":true}\n"
		"{\"time_s\":0.125,\"speed_kmh\":20,\"gear\":3,\"tyre_temp_c_fl\":80.5,\"lap_dist_m\":102.5,\"in_pit\":false}\n"
		"{\"time_s\":0.25,\"speed_kmh\":40,\"gear\":3,\"lap_dist_m\":5,\"in_pit\":false}\n"
		"{\"time_s\":0.25,\"speed_kmh\":40,\"gear\":3,\"lap_dist_m\":5,\"in_pit\":false}\n"
		"{\"time_s\":0.375,\"speed_kmh\":0.5,\"gear\":4,\"lap_dist_m\":5.5,\"in_pit\":false}\n");
	T_STREQ(hand_export(json_whole),
		"{\"time_s\":0,\"tyre_temp_c\":[80,81,82,83],\"flags\":{\"in_pit\":true,\"abs\":false},"
		"\"seq\":10,\"feed\":\"ksudp\",\"game_time_s\":64}\n"
		"{\"time_s\":0.125,\"tyre_temp_c\":[80.5,81.5,82.5,83.5],\"flags\":{\"in_pit\":false,"
		"\"abs\":false},\"seq\":11,\"feed\":\"ksudp\",\"game_time_s\":64.125}\n");
	/* derived: the exported channels of the row that pitwall derived (tyre
	 * temperatures are derived in frame 1 but not exported) */
	T_STREQ(hand_export(csv_derived), "time_s,speed_kmh,lap_dist_m,derived\n"
					  "0,10,100,\n"
					  "0.125,20,102.5,speed_kmh\n"
					  "0.25,40,5,\n"
					  "0.25,40,5,\n"
					  "0.375,0.5,5.5,lap_dist_m\n");
	T_STREQ(hand_export(json_derived),
		"{\"time_s\":0,\"speed_kmh\":40,\"lap_dist_m\":5}\n"
		"{\"time_s\":0,\"speed_kmh\":40,\"lap_dist_m\":5}\n"
		"{\"time_s\":0.125,\"speed_kmh\":0.5,\"derived\":[\"lap_dist_m\"],\"lap_dist_m\":5.5}\n");
}

/* Every bad parameter is refused with a message that starts with its name. */
static void test_options_errors(void)
{
	static const char *const bad[][2] = {
		{ "hz", "0" },
		{ "hz", "1001" },
		{ "hz", "1.5" },
		{ "hz", "" },
		{ "hz", "+5" },
		{ "hz", "99999999999999999999" },
		{ "lap", "0" },
		{ "lap", "x" },
		{ "lap", "-1" },
		{ "format", "xml" },
		{ "format", "" },
		{ "channels", "speed_kmh,nosuch" },
		{ "channels", "speed_kmh,,gear" },
		{ "channels", "" },
		{ "channels", "pos_m,pos_m_x" },
		{ "channels", "flags,abs" },
		{ "channels", "gear,gear" },
		{ "channels", "pos_m_w" },
		{ "compression", "lz4" },
	};
	char err[EXPORT_ERR_MAX];
	struct export_opts o;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		export_opts_init(&o);
		err[0] = 0;
		T_CHECKF(export_opts_set(&o, bad[i][0], bad[i][1], err, sizeof err) == -EINVAL &&
				 strncmp(err, bad[i][0], strlen(bad[i][0])) == 0 &&
				 err[strlen(bad[i][0])] == ':',
			 "%s=%s: %s", bad[i][0], bad[i][1], err);
	}
	export_opts_init(&o);
	T_CHECK(export_opts_set(&o, "speed", "1", err, sizeof err) == -EINVAL &&
		strncmp(err, "speed: unknown parameter", 24) == 0);
	T_CHECK(export_opts_set(&o, "hz", "10", err, sizeof err) == 0 && o.hz == 10);
	T_CHECK(export_opts_set(&o, "hz", "20", err, sizeof err) == -EINVAL &&
		strcmp(err, "hz: given twice") == 0);
	T_CHECK(export_opts_set(&o, "channels", "nosuch", err, sizeof err) == -EINVAL &&
		strstr(err, "\"nosuch\""));
	/* what only the whole request can tell */
	export_opts_init(&o);
	T_CHECK(export_opts_set(&o, "compression", "none", err, sizeof err) == 0);
	T_CHECK(export_opts_resolve(&o, err, sizeof err) == -EINVAL &&
		strncmp(err, "compression:", 12) == 0);
	export_opts_init(&o);
	o.run.laps = hand_laps;
	o.run.nlaps = 2;
	T_CHECK(export_opts_set(&o, "lap", "9", err, sizeof err) == 0);
	T_CHECK(export_opts_resolve(&o, err, sizeof err) == -ENOENT &&
		strcmp(err, "lap: the run has no lap 9 (its laps: 1 to 2)") == 0);
	o.run.nlaps = 0;
	T_CHECK(export_opts_resolve(&o, err, sizeof err) == -ENOENT &&
		strncmp(err, "lap:", 4) == 0);
	export_opts_init(&o);
	T_CHECK(export_opts_set(&o, "format", "ld", err, sizeof err) == 0 &&
		export_opts_set(&o, "channels", "seq,t_ns,feed", err, sizeof err) == 0);
	T_CHECK(export_opts_resolve(&o, err, sizeof err) == -EINVAL &&
		strncmp(err, "channels:", 9) == 0);
	export_opts_init(&o);
	T_CHECK(export_opts_set(&o, "format", "ld", err, sizeof err) == 0 &&
		export_opts_set(&o, "channels", "speed_kmh", err, sizeof err) == 0 &&
		export_opts_resolve(&o, err, sizeof err) == 0);
	/* the file name an export is offered under */
	export_opts_init(&o);
	o.run.track = "Paul Ricard / 1A";
	o.run.run_id = "3f2a9c1b-0000-4000-8000-000000000000";
	o.lap = 3;
	export_file_stem(&o, err, sizeof err);
	T_STREQ(err, "Paul_Ricard___1A_3f2a9c1b_lap3");
	o.run.track = NULL;
	o.run.game = "f1_24";
	o.lap = 0;
	export_file_stem(&o, err, sizeof err);
	T_STREQ(err, "f1_24_3f2a9c1b");
}

/* With every column at its widest, an options row fits EXPORT_LINE_MAX. */
static void test_options_widest(void)
{
	const char *path = tmp_path("wide.frames");
	struct pw_frame f[2];
	struct export_opts o;
	struct export_result res;
	struct sink s = { 0 };
	char err[EXPORT_ERR_MAX];

	for (int k = 0; k < 2; k++) {
		uint32_t fill = 0xff7fffffu; /* -FLT_MAX */

		for (size_t b = 0; b < sizeof f[k]; b += 4)
			memcpy((char *)&f[k] + b, &fill, 4);
		f[k].seq = UINT64_MAX - 1 + (uint64_t)k;
		f[k].t_ns = INT64_MIN;
		f[k].game_session = UINT64_MAX;
		f[k].game_time_s = -DBL_MIN;
		f[k].present = FRAME_P_ALL;
		f[k].version = FRAME_VERSION;
		f[k].game = PW_GAME_FM2023;
		f[k].feed = PW_FEED_FORZA;
		f[k].flags = f[k].flags_known = 0xffff;
	}
	T_CHECK(write_run(path, f, 2) == 0);
	for (int format = EXPORT_CSV; format <= EXPORT_JSON; format++) {
		export_opts_init(&o);
		o.format = (enum export_format)format;
		T_CHECK(export_opts_set(&o, "lap", "1", err, sizeof err) == 0);
		o.lap = 0; /* options on, every frame */
		memset(&s, 0, sizeof s);
		T_CHECK(run_opts(path, &o, &s, &res, NULL) == 0 && res.rows == 2);
		{
			size_t longest = 0, start = 0;

			for (size_t i = 0; i < s.len; i++)
				if (s.buf[i] == '\n') {
					longest = i + 1 - start > longest ? i + 1 - start : longest;
					start = i + 1;
				}
			/* every row is written into at least EXPORT_LINE_MAX free bytes */
			T_CHECKF(longest > 1000 && longest < EXPORT_LINE_MAX / 2,
				 "longest line %zu bytes", longest);
		}
		free(s.buf);
	}
}

/* --- MoTeC --- */

struct ld_chan_view {
	char name[33];
	uint32_t count, data;
	uint16_t rate, size, cls;
	int16_t dec;
};

/* The channels of an .ld image, walked through its list (max 128). */
static size_t ld_channels(const uint8_t *b, size_t len, struct ld_chan_view *out)
{
	size_t n = 0;

	for (uint32_t p = le_get32(b + 8); p && p + MOTEC_CHANNEL_SIZE <= len && n < 128;
	     p = le_get32(b + p + 4), n++) {
		memcpy(out[n].name, b + p + 32, 32);
		out[n].name[32] = 0;
		out[n].data = le_get32(b + p + 8);
		out[n].count = le_get32(b + p + 12);
		out[n].cls = le_get16(b + p + 18);
		out[n].size = le_get16(b + p + 20);
		out[n].rate = le_get16(b + p + 22);
		out[n].dec = (int16_t)le_get16(b + p + 30);
	}
	return n;
}

static double ld_value(const uint8_t *b, const struct ld_chan_view *c, size_t k)
{
	double raw = c->size == 2 ? (int16_t)le_get16(b + c->data + 2 * k)
				  : (int32_t)le_get32(b + c->data + 4 * k);

	return raw / pow(10, c->dec);
}

static const struct ld_chan_view *ld_find(const struct ld_chan_view *c, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].name, name) == 0)
			return &c[i];
	return NULL;
}

/* 60 s of pw-sim at 333 Hz with two laps marked: the log's layout, counts x
 * rate = duration, values equal to the frames interpolated at each sample
 * within the channel's decimals, the lap number, GPS, and beacons at the
 * lap ends. */
static void test_motec(void)
{
	size_t n = 20000;
	struct pw_frame *f = t_sim_frames(n, 5, SEQ0);
	const char *path = tmp_path("motec.frames");
	struct export_lap laps[2] = {
		{ .number = 4,
		  .start_seq = SEQ0,
		  .end_seq = SEQ0 + 6999,
		  .time_ms = 23000,
		  .valid = 1 },
		{ .number = 5,
		  .start_seq = SEQ0 + 7000,
		  .end_seq = SEQ0 + 13999,
		  .time_ms = 22000,
		  .valid = 1 },
	};
	struct ld_chan_view ch[128];
	const struct ld_chan_view *speed, *lapno, *lat, *lon;
	struct export_opts o;
	struct export_result res;
	struct sink s = { 0 }, x = { 0 };
	struct motec_gps gps;
	const uint8_t *b;
	size_t nch, expect;
	double t_last, worst = 0;

	for (size_t k = 0; f && k < n; k++)
		f[k].derived = FRAME_P_ACCEL_LAT | FRAME_P_ACCEL_LON;
	T_CHECK(f && write_run(path, f, n) == 0);
	if (!f)
		return;
	t_last = f[n - 1].game_time_s - f[0].game_time_s;
	expect = (size_t)floor(t_last * 60) + 1;
	export_opts_init(&o);
	o.format = EXPORT_LD;
	o.run = (struct export_run){ .session_id = "s",
				     .run_id = "r",
				     .run_label = "stint 2",
				     .game = "assetto_corsa",
				     .track = "ks_monza66",
				     .car = "pitwall_gt3",
				     .driver = "Sim Driver",
				     .laps = laps,
				     .nlaps = 2 };
	T_CHECK(run_opts(path, &o, &s, &res, NULL) == 0 && !s.bad_line);
	T_CHECK(res.frames == n && res.rows == expect && res.bytes == s.len);
	b = (const uint8_t *)s.buf;
	T_CHECK(s.len > 5000 && le_get32(b) == 0x40 && le_get32(b + 1502) == MOTEC_PRO_LOGGING);
	T_CHECK(memcmp(b + 74, "ADL", 4) == 0 && le_get16(b + 82) == 420);
	T_STREQ((const char *)b + 158, "Sim Driver");
	T_STREQ((const char *)b + 222, "pitwall_gt3");
	T_STREQ((const char *)b + 350, "ks_monza66");
	T_STREQ((const char *)b + 1508, "stint 2");
	/* i2 has no mark for a derived channel: the event comment names them */
	T_CHECK(strstr((const char *)b + MOTEC_HEADER_SIZE + 128,
		       "Derived by pitwall, not sent by the game: G Force Lat, G Force Long") !=
		NULL);
	nch = ld_channels(b, s.len, ch);
	T_CHECK(nch == le_get32(b + 86) && nch > 30);
	for (size_t i = 0; i < nch; i++) {
		T_CHECKF(ch[i].count == expect && ch[i].rate == 60, "%s: %u samples at %u Hz",
			 ch[i].name, ch[i].count, ch[i].rate);
		T_CHECK((ch[i].cls == 3 && ch[i].size == 2) || (ch[i].cls == 5 && ch[i].size == 4));
		T_CHECK(ch[i].data + (size_t)ch[i].count * ch[i].size <= s.len);
	}
	speed = ld_find(ch, nch, "Ground Speed");
	lapno = ld_find(ch, nch, "Lap Number");
	lat = ld_find(ch, nch, "GPS Latitude");
	lon = ld_find(ch, nch, "GPS Longitude");
	T_CHECK(speed && lapno && lat && lon && ld_find(ch, nch, "Tyre Temp FL") &&
		ld_find(ch, nch, "G Force Lat"));
	if (!speed || !lapno || !lat || !lon)
		goto out;
	motec_gps_init(&gps, PW_GAME_AC, "ks_monza66");
	T_NEAR(gps.lat0, 45.6156, 1e-9);
	for (size_t k = 0, i = 0; k < expect; k++) {
		double t = (double)k / 60, u, v, gx, gz;

		while (i + 1 < n && f[i + 1].game_time_s - f[0].game_time_s <= t)
			i++;
		u = i + 1 < n ? (t - (f[i].game_time_s - f[0].game_time_s)) /
					(f[i + 1].game_time_s - f[i].game_time_s)
			      : 0;
		v = i + 1 < n ? f[i].speed_kmh + u * (f[i + 1].speed_kmh - f[i].speed_kmh)
			      : f[i].speed_kmh;
		worst = fmax(worst, fabs(ld_value(b, speed, k) - v));
		gx = i + 1 < n ? f[i].pos_m[0] + u * (f[i + 1].pos_m[0] - f[i].pos_m[0])
			       : f[i].pos_m[0];
		gz = i + 1 < n ? f[i].pos_m[2] + u * (f[i + 1].pos_m[2] - f[i].pos_m[2])
			       : f[i].pos_m[2];
		T_CHECK(fabs(ld_value(b, lat, k) - (gps.lat0 - gz / gps.m_per_deg_lat)) < 1.01e-7);
		T_CHECK(fabs(ld_value(b, lon, k) - (gps.lon0 + gx / gps.m_per_deg_lon)) < 1.01e-7);
		T_CHECK(ld_value(b, lapno, k) == (i < 7000 ? 4 : i < 14000 ? 5 : 6));
	}
	T_CHECKF(worst <= 0.05 + 1e-4, "Ground Speed off by %.4f km/h", worst); /* 1 decimal */

	/* the .ldx: a beacon at each lap end, at the first frame of the next lap */
	o.format = EXPORT_LDX;
	T_CHECK(run_opts(path, &o, &x, &res, NULL) == 0 && res.rows == 2);
	if (x.buf) {
		char want[128];

		x.buf[x.len - 1] = 0;
		for (int l = 1; l <= 2; l++) {
			snprintf(want, sizeof want, "Name=\"Manual.%d\" Flags=\"77\" Time=\"%lld\"",
				 l, llround((f[7000 * l].game_time_s - f[0].game_time_s) * 1e6));
			T_CHECKF(strstr(x.buf, want), "%s", want);
		}
		T_CHECK(strstr(x.buf, "<String Id=\"Total Laps\" Value=\"3\"/>"));
		/* the fastest valid lap (22.000 s) ends at beacon 2: i2's lap 2 */
		T_CHECK(strstr(x.buf, "<String Id=\"Fastest Time\" Value=\"0:22.000\"/>") &&
			strstr(x.buf, "<String Id=\"Fastest Lap\" Value=\"2\"/>"));
	}
	/* one lap: its frames from 0, one beacon at its end */
	free(s.buf);
	memset(&s, 0, sizeof s);
	o.format = EXPORT_LD;
	o.lap = 5;
	T_CHECK(export_opts_resolve(&o, NULL, 0) == 0 && o.first_seq == SEQ0 + 7000);
	T_CHECK(run_opts(path, &o, &s, &res, NULL) == 0 && res.frames == 7000);
	nch = ld_channels((const uint8_t *)s.buf, s.len, ch);
	T_CHECK(nch > 30 &&
		ch[0].count ==
			(uint32_t)floor((f[13999].game_time_s - f[7000].game_time_s) * 60) + 1);
	if ((lapno = ld_find(ch, nch, "Lap Number")))
		T_CHECK(ld_value((const uint8_t *)s.buf, lapno, 0) == 5 &&
			ld_value((const uint8_t *)s.buf, lapno, ch[0].count - 1) == 5);
	/* only some channels; an empty selection of the run's channels */
	free(s.buf);
	memset(&s, 0, sizeof s);
	export_opts_init(&o);
	o.format = EXPORT_LD;
	T_CHECK(export_opts_set(&o, "channels", "speed_kmh,pos_m,lap", NULL, 0) == 0 &&
		export_opts_set(&o, "hz", "20", NULL, 0) == 0);
	o.run.laps = laps;
	o.run.nlaps = 2;
	T_CHECK(run_opts(path, &o, &s, &res, NULL) == 0);
	nch = ld_channels((const uint8_t *)s.buf, s.len, ch);
	/* pw-sim's world is flat (y = 0): no Altitude, no Position Y */
	T_CHECK(nch == 6 && ld_find(ch, nch, "Ground Speed") && ld_find(ch, nch, "Lap Number") &&
		ld_find(ch, nch, "GPS Latitude") && ld_find(ch, nch, "GPS Longitude") &&
		ld_find(ch, nch, "Position X") && ld_find(ch, nch, "Position Z"));
	T_CHECK(ch[0].rate == 20 && ch[0].count == (uint32_t)floor(t_last * 20) + 1);
	free(s.buf);
	memset(&s, 0, sizeof s);
	for (size_t k = 0; k < n; k++)
		f[k].present &= ~FRAME_P_BOOST;
	T_CHECK(write_run(path, f, n) == 0);
	export_opts_init(&o);
	o.format = EXPORT_LD;
	T_CHECK(export_opts_set(&o, "channels", "boost_bar", NULL, 0) == 0);
	T_CHECK(run_opts(path, &o, &s, &res, NULL) == -ENODATA && s.len == 0);
out:
	free(s.buf);
	free(x.buf);
	free(f);
}

static int fd_sink_fail(void)
{
	return -1;
}

static void test_motec_writer(void)
{
	struct motec_channel c[2] = { { "A", "A", "", 1, 2 }, { "B", "B", "m", 3, 4 } };
	struct motec_header h = { .start_ns = 0 };
	struct motec_ld *w;
	char path[128];
	uint8_t b[8192];
	int fd;

	snprintf(path, sizeof path, "%s/w.ld", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	T_CHECK(fd >= 0);
	T_CHECK(motec_ld_new(&w, fd, &h, c, 0, 10, 10) == -EINVAL);
	T_CHECK(motec_ld_new(&w, fd, &h, c, 2, 10, 0) == -EINVAL);
	T_CHECK(motec_ld_new(&w, fd_sink_fail(), &h, c, 2, 10, 10) == -EINVAL);
	c[1].size = 3;
	T_CHECK(motec_ld_new(&w, fd, &h, c, 2, 10, 10) == -EINVAL);
	c[1].size = 4;
	T_CHECK(motec_ld_new(&w, fd, &h, c, 2, UINT32_MAX / 4, 10) == -EFBIG);
	/* a channel short of samples: the log would not cover one duration */
	T_CHECK(motec_ld_new(&w, fd, &h, c, 2, 3, 10) == 0);
	for (int k = 0; k < 3; k++)
		motec_ld_put(w, 0, k);
	motec_ld_put(w, 1, 1);
	T_CHECK(motec_ld_finish(w) == -EPROTO);
	motec_ld_free(w);
	/* rounding to the decimals and clamping to the type; one sample too many */
	for (int extra = 1; extra >= 0; extra--) {
		static const double a[3] = { 12.34, -1e9, NAN }, bv[4] = { 1.0005, 1e12, -2.5, 7 };

		T_CHECK(motec_ld_new(&w, fd, &h, c, 2, 3, 10) == 0);
		for (int k = 0; k < 3; k++)
			motec_ld_put(w, 0, a[k]);
		for (int k = 0; k < 3 + extra; k++)
			motec_ld_put(w, 1, bv[k]);
		T_CHECK(motec_ld_finish(w) == (extra ? -EPROTO : 0));
		motec_ld_free(w);
	}
	T_CHECK(pread(fd, b, sizeof b, 0) > 0);
	{
		struct ld_chan_view v[2];

		T_CHECK(ld_channels(b, sizeof b, v) == 2 && v[0].count == 3 && v[1].rate == 10);
		T_CHECK((int16_t)le_get16(b + v[0].data) == 123 &&
			(int16_t)le_get16(b + v[0].data + 2) == INT16_MIN &&
			(int16_t)le_get16(b + v[0].data + 4) == 0);
		T_CHECK((int32_t)le_get32(b + v[1].data) == 1000 || /* 1000.5 to even */
			(int32_t)le_get32(b + v[1].data) == 1001);
		T_CHECK((int32_t)le_get32(b + v[1].data + 4) == INT32_MAX &&
			(int32_t)le_get32(b + v[1].data + 8) == -2500);
		T_STREQ((char *)b + 94, "01/01/1970");
	}
	close(fd);
	/* the ldx with no laps: an unsplit stint */
	{
		char x[1024];

		T_CHECK(motec_ldx(x, sizeof x, NULL, 0, 0, -1) < sizeof x);
		T_CHECK(strstr(x,
			       "<MarkerGroup Name=\"Beacons\" Index=\"0\">\n    </MarkerGroup>") &&
			strstr(x, "Value=\"1\"") && !strstr(x, "Fastest"));
		T_CHECK(motec_ldx(x, 10, NULL, 0, 0, -1) > 10 && strlen(x) == 9);
	}
}

/* --- Parquet --- */

struct mem {
	uint8_t *b;
	size_t len, cap;
	int fail_after; /* calls; 0: never */
	int calls;
};

static int mem_write(void *ctx, const void *p, size_t n)
{
	struct mem *m = ctx;

	if (m->fail_after && ++m->calls > m->fail_after)
		return -EIO;
	if (m->len + n > m->cap) {
		m->cap = (m->len + n) * 2;
		m->b = realloc(m->b, m->cap);
	}
	memcpy(m->b + m->len, p, n);
	m->len += n;
	return 0;
}

static void test_parquet_writer(void)
{
	const struct parquet_column cols[] = {
		{ "seq", PARQUET_INT64, PARQUET_L_UINT64, 0 },
		{ "speed", PARQUET_FLOAT, PARQUET_L_NONE, 1 },
		{ "game", PARQUET_BYTE_ARRAY, PARQUET_L_STRING, 0 },
		{ "pit", PARQUET_BOOLEAN, PARQUET_L_NONE, 1 },
	};
	const struct parquet_column wrong[] = { { "x", PARQUET_FLOAT, PARQUET_L_STRING, 0 } };
	struct mem m = { 0 };
	struct parquet_opts po = { .write = mem_write, .ctx = &m, .group_bytes = 200 };
	struct parquet_writer *w;
	uint32_t footer;

	T_CHECK(parquet_new(&w, cols, 0, &po) == -EINVAL);
	T_CHECK(parquet_new(&w, wrong, 1, &po) == -EINVAL);
	po.codec = 3;
	T_CHECK(parquet_new(&w, cols, 4, &po) == -EINVAL);
	po.codec = PARQUET_ZSTD;
	T_CHECK(parquet_new(&w, cols, 4, &po) == 0 && m.len == 4 && memcmp(m.b, "PAR1", 4) == 0);
	for (int i = 0; i < 100; i++) {
		parquet_put_i64(w, 0, i);
		if (i % 3)
			parquet_put_f32(w, 1, (float)i);
		else
			parquet_put_null(w, 1);
		parquet_put_bytes(w, 2, "ac", 2);
		parquet_put_bool(w, 3, i & 1);
		T_CHECK(parquet_end_row(w) == 0);
	}
	/* a row missing a column, one with a column twice, one of the wrong type */
	parquet_put_i64(w, 0, 1);
	T_CHECK(parquet_end_row(w) == -EINVAL);
	parquet_put_i64(w, 0, 1);
	parquet_put_i64(w, 0, 2);
	parquet_put_f32(w, 1, 1);
	parquet_put_bytes(w, 2, "x", 1);
	parquet_put_bool(w, 3, 1);
	T_CHECK(parquet_end_row(w) == -EINVAL);
	parquet_put_f32(w, 0, 1);
	parquet_put_f32(w, 1, 1);
	parquet_put_bytes(w, 2, "x", 1);
	parquet_put_null(w, 3);
	T_CHECK(parquet_end_row(w) == -EINVAL);
	parquet_put_null(w, 0); /* a REQUIRED column */
	parquet_put_f32(w, 1, 1);
	parquet_put_bytes(w, 2, "x", 1);
	parquet_put_null(w, 3);
	T_CHECK(parquet_end_row(w) == -EINVAL);
	T_CHECK(parquet_rows(w) == 100 && parquet_bytes(w) == m.len && m.len > 4);
	T_CHECK(parquet_close(w) == 0);
	T_CHECK(m.len > 12 && memcmp(m.b + m.len - 4, "PAR1", 4) == 0);
	footer = le_get32(m.b + m.len - 8);
	T_CHECK(footer > 100 && footer < m.len - 12);
	/* the footer holds the key/value pairs and every column's name */
	T_CHECK(memmem(m.b + m.len - 8 - footer, footer, "pitwall", 7) &&
		memmem(m.b + m.len - 8 - footer, footer, "speed", 5));
	free(m.b);
	/* a write error stops the writer and is returned */
	memset(&m, 0, sizeof m);
	m.fail_after = 1;
	po.codec = PARQUET_UNCOMPRESSED;
	T_CHECK(parquet_new(&w, cols, 4, &po) == 0);
	for (int i = 0; i < 100; i++) {
		int rc;

		parquet_put_i64(w, 0, i);
		parquet_put_null(w, 1);
		parquet_put_bytes(w, 2, "ac", 2);
		parquet_put_bool(w, 3, 0);
		if ((rc = parquet_end_row(w)) < 0) {
			T_CHECK(rc == -EIO);
			break;
		}
	}
	T_CHECK(parquet_close(w) == -EIO);
	free(m.b);
}

/* The Parquet export of a run: one row per frame, its columns, streamed. */
static void test_parquet_export(void)
{
	size_t n = 5000;
	struct pw_frame *f = sim_frames(n);
	const char *path = tmp_path("pq.frames");
	struct export_opts o;
	struct export_result res;
	struct sink s = { 0 };
	uint32_t footer;

	T_CHECK(f && write_run(path, f, n) == 0);
	export_opts_init(&o);
	o.format = EXPORT_PARQUET;
	T_CHECK(run_opts(path, &o, &s, &res, NULL) == 0 && !s.bad_line);
	T_CHECK(res.rows == n && res.frames == n && res.bytes == s.len && s.len > 1000);
	T_CHECK(memcmp(s.buf, "PAR1", 4) == 0 && memcmp(s.buf + s.len - 4, "PAR1", 4) == 0);
	footer = le_get32((const uint8_t *)s.buf + s.len - 8);
	T_CHECK(footer < s.len &&
		memmem(s.buf + s.len - 8 - footer, footer, "tyre_temp_c_rr", 14) &&
		memmem(s.buf + s.len - 8 - footer, footer, "time_s", 6));
	free(s.buf);
	free(f);
}

/* A manifest's derived channels follow the frame's, computed over the whole
 * run in order: plain csv and json (what manifest_apply gives, frame by
 * frame, across blocks), with options and resampled (interpolated like a
 * float channel: speed_ms stays speed_kmh / 3.6 at every row); refused for
 * the binary formats. */
static void test_manifest(void)
{
	size_t n = 2500;
	struct pw_frame *f = sim_frames(n);
	const char *path = tmp_path("manifest.frames");
	json_t *doc = json_loads("{\"channels\": [{\"name\": \"speed_ms\", \"formula\": "
				 "\"speed_kmh / 3.6\"}, {\"name\": \"speed_delta\", \"formula\": "
				 "\"derivative(speed_kmh)\"}, {\"name\": \"nothing\", "
				 "\"formula\": \"1 / 0\"}]}",
				 0, NULL);
	struct manifest *m = NULL;
	struct manifest_eval *ev = NULL;
	char err[EXPORT_ERR_MAX];
	double v[3];

	T_CHECK(f && write_run(path, f, n) == 0);
	T_EQ(manifest_parse(doc, "m", &m, err, sizeof err), 0);
	if (!f || !m || manifest_eval_new(m, &ev) < 0)
		goto out;
	for (int format = EXPORT_CSV; format <= EXPORT_JSON; format++) {
		struct sink s = { 0 };
		struct export_opts o;
		struct export_result res;
		char *line, *save = NULL, a[EXPORT_LINE_MAX], b[256], want[EXPORT_LINE_MAX + 512];
		size_t k = 0, bad = 0;

		export_opts_init(&o);
		o.format = (enum export_format)format;
		o.manifest = m;
		T_EQ(run_opts(path, &o, &s, &res, NULL), 0);
		T_CHECK(!s.bad_line && res.rows == n);
		manifest_eval_reset(ev);
		s.buf[s.len - 1] = 0;
		for (line = strtok_r(s.buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			if (format == EXPORT_CSV && k == 0) {
				frame_csv_header(a, sizeof a);
				snprintf(want, sizeof want, "%s,speed_ms,speed_delta,nothing", a);
				T_STREQ(line, want);
				k = 1;
				continue;
			}
			manifest_apply(ev, &f[k - (format == EXPORT_CSV)], v);
			if (format == EXPORT_CSV) {
				frame_to_csv(&f[k - 1], a, sizeof a);
				manifest_csv_cells(m, v, b, sizeof b);
				snprintf(want, sizeof want, "%s%s", a, b);
			} else {
				size_t al = frame_to_json(&f[k], a, sizeof a);

				manifest_json_members(m, v, b, sizeof b);
				snprintf(want, sizeof want, "%.*s%s}", (int)al - 1, a, b);
			}
			bad += strcmp(line, want) != 0;
			k++;
		}
		T_EQ(k, n + (format == EXPORT_CSV));
		T_EQ(bad, (size_t)0);
		free(s.buf);
	}
	/* with options, resampled to 100 Hz: the derived column interpolated */
	{
		static const char *const params[][2] = { { "format", "csv" },
							 { "channels", "speed_kmh" },
							 { "hz", "100" } };
		struct sink s = { 0 };
		struct export_opts o;
		struct export_result res;
		char *line, *save = NULL;
		size_t rows = 0, bad = 0;

		export_opts_init(&o);
		for (size_t i = 0; i < 3; i++)
			T_EQ(export_opts_set(&o, params[i][0], params[i][1], err, sizeof err), 0);
		o.manifest = m;
		T_EQ(export_opts_resolve(&o, err, sizeof err), 0);
		T_EQ(run_opts(path, &o, &s, &res, NULL), 0);
		s.buf[s.len - 1] = 0;
		line = strtok_r(s.buf, "\n", &save);
		T_STREQ(line, "time_s,speed_kmh,speed_ms,speed_delta,nothing");
		while ((line = strtok_r(NULL, "\n", &save))) {
			double t, kmh, ms;
			int got = sscanf(line, "%lf,%lf,%lf", &t, &kmh, &ms);

			/* a frame without speed (sim_frames makes some): no speed_ms either */
			if (got == 1 ? strncmp(strchr(line, ','), ",,,", 3) != 0
				     : got != 3 || fabs(ms - kmh / 3.6) > 1e-4 * (1 + ms))
				bad++;
			rows++;
		}
		T_CHECK(rows > 100 && res.rows == rows);
		T_EQ(bad, (size_t)0);
		free(s.buf);
	}
	/* the binary formats have no derived columns */
	{
		struct export_opts o;

		export_opts_init(&o);
		T_EQ(export_opts_set(&o, "format", "parquet", err, sizeof err), 0);
		o.manifest = m;
		T_EQ(export_opts_resolve(&o, err, sizeof err), -EINVAL);
		T_CHECK(strstr(err, "manifest: derived channels are exported as csv or json") !=
			NULL);
	}
out:
	manifest_eval_free(ev);
	manifest_free(m);
	json_decref(doc);
	free(f);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/pw-test-export-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_csv_and_json);
	T_RUN(test_writer_error);
	T_RUN(test_torn_and_empty);
	T_RUN(test_arguments);
	T_RUN(test_widest_line_fits);
	T_RUN(test_options_text);
	T_RUN(test_options_errors);
	T_RUN(test_options_widest);
	T_RUN(test_motec);
	T_RUN(test_motec_writer);
	T_RUN(test_parquet_writer);
	T_RUN(test_parquet_export);
	T_RUN(test_manifest);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return T_DONE();
}
