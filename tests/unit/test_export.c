/*
 * test_export.c - the run export (common/export.h): CSV and JSON lines
 * byte for byte as the frame's own writers make them (the output pw-api
 * and pwctl have always given), lines handed over one at a time, progress
 * calls, the writer stopping an export, torn files, empty runs, and the
 * widest frame line fitting the line buffer.
 */
#include <errno.h>
#include <float.h>
#include <ftw.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/export.h"
#include "common/framefile.h"
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

/* A writer into memory that checks each call is one whole line. */
struct sink {
	char *buf;
	size_t len, cap;
	size_t calls;
	size_t fail_at;            /* the call that fails with -ENOSPC; 0: none */
	int bad_line;
	uint64_t progress[16];
	size_t nprogress;
};

static int sink_write(void *ctx, const char *line, size_t len)
{
	struct sink *s = ctx;

	if (++s->calls == s->fail_at)
		return -ENOSPC;
	if (len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
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

/* Export path in format into s; returns export_frames' result. */
static int run_export(const char *path, enum export_format format, struct sink *s,
		      uint64_t *frames, struct framefile_info *end)
{
	struct framefile_reader *r = NULL;
	struct export_opts o = { .format = format, .write = sink_write, .progress = sink_progress,
				 .ctx = s };
	int rc = framefile_reader_open(&r, path, NULL);

	if (rc < 0)
		return rc;
	rc = export_frames(r, &o, frames);
	if (end)
		framefile_reader_info(r, end);
	framefile_reader_close(r);
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
	for (int format = 0; format < EXPORT_FORMAT_COUNT; format++) {
		struct sink s = { 0 };
		char *want = expected((enum export_format)format, f, n, &want_len);

		T_CHECK(run_export(path, (enum export_format)format, &s, &frames, &end) == 0);
		T_CHECK(frames == n && end.tail == FRAMEFILE_TAIL_CLEAN && end.frames == n);
		T_CHECK(want && s.len == want_len && memcmp(s.buf, want, want_len) == 0);
		T_CHECK(!s.bad_line && s.calls == n + (format == EXPORT_CSV));
		/* progress after frames 0, 1024 and 2048 */
		T_CHECK(s.nprogress == 3 && s.progress[0] == 0 && s.progress[1] == 1024 &&
			s.progress[2] == 2048);
		free(want);
		free(s.buf);
	}
	free(f);
}

/* The writer's error stops the export at once and is returned. */
static void test_writer_error(void)
{
	size_t n = 300;
	struct pw_frame *f = sim_frames(n);
	const char *path = tmp_path("err.frames");
	struct sink s = { .fail_at = 11 };
	uint64_t frames = 99;

	T_CHECK(f && write_run(path, f, n) == 0);
	T_CHECK(run_export(path, EXPORT_CSV, &s, &frames, NULL) == -ENOSPC);
	T_CHECK(s.calls == 11 && frames == 9); /* the header and 9 frames went out */
	free(s.buf);
	memset(&s, 0, sizeof s);
	s.fail_at = 1;
	T_CHECK(run_export(path, EXPORT_CSV, &s, &frames, NULL) == -ENOSPC && frames == 0);
	free(s.buf);
	memset(&s, 0, sizeof s);
	s.fail_at = 300;
	T_CHECK(run_export(path, EXPORT_JSON, &s, &frames, NULL) == -ENOSPC && frames == 299);
	free(s.buf);
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
	uint64_t frames = 7;

	T_CHECK(f && write_run(path, f, 10) == 0);
	T_CHECK(framefile_reader_open(&r, path, NULL) == 0);
	T_CHECK(export_frames(r, &o, &frames) == -EINVAL && frames == 0 && s.calls == 0);
	o.format = EXPORT_JSON;
	o.write = NULL;
	T_CHECK(export_frames(r, &o, NULL) == -EINVAL);
	T_CHECK(export_frames(r, NULL, NULL) == -EINVAL);
	o.write = sink_write;
	T_CHECK(export_frames(r, &o, &frames) == 0 && frames == 10 && s.calls == 10);
	T_CHECK(export_frames(r, &o, &frames) == 0 && frames == 0); /* r is at its end */
	framefile_reader_close(r);
	T_CHECK(export_format_parse("csv") == EXPORT_CSV);
	T_CHECK(export_format_parse("json") == EXPORT_JSON);
	T_CHECK(export_format_parse("xml") == -EINVAL && export_format_parse("") == -EINVAL);
	T_CHECK(export_format_parse("CSV") == -EINVAL && export_format_parse(NULL) == -EINVAL);
	T_CHECK(strcmp(export_format_media_type(EXPORT_CSV), "text/csv") == 0);
	T_CHECK(strcmp(export_format_media_type(EXPORT_JSON), "application/x-ndjson") == 0);
	T_CHECK(export_format_media_type(EXPORT_FORMAT_COUNT) == NULL);
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
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return T_DONE();
}
