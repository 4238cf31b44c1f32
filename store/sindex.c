/*
 * sindex.c - the session index, data/sessions.idx: what the store needs of
 * every session at start-up (its fields, its runs, whether an analysis is
 * pending, each run's lap count and best valid lap) in one binary file, so
 * that a store with 10,000 sessions starts without parsing 10,000 JSON
 * files. The session files stay the truth: an entry stands for its file only
 * while the file is exactly what it was when the entry was made (inode,
 * size and mtime, which every atomic replace changes); every other file is
 * parsed as before, and an index that is missing, damaged or of another
 * version is rebuilt from the files. A session from the index gets its
 * analysis and laps from its file when something first needs them
 * (session_details).
 *
 * The index is written after start-up when it was behind, then at most
 * every SINDEX_EVERY_NS while sessions change, and when the store stops. It
 * is replaced atomically but not synced first: after a crash it may be
 * older than the files, which the per-entry check finds.
 *
 * Layout (integers little-endian; str = u16 length + bytes):
 *   char magic[8] "PWSIDX01", u32 sessions, u32 reserved (0)
 *   per session: u32 entry bytes, then
 *     char id[36], u64 ino, u64 size, i64 mtime_ns (its file),
 *     u8 use_case, u8 completed, u8 analysis_state, u8 reserved,
 *     i64 created_ns, i64 completed_ns, str label, str recording_id, str car_name,
 *     u16 runs, per run: str id, str label, str feed, u8 merge feeds + str each,
 *       u8 recording, u8 data_truncated, u64 start_marker, i64 end_marker,
 *       u64 frame_count, u64 frames_lost, i64 started_ns, i64 stopped_ns,
 *       str stop_reason, str game, str track, str driver, u32 lap_count,
 *       i32 best_lap_ms
 *   u32 crc32c of everything before it
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomicio.h"
#include "common/clock.h"
#include "common/crc32c.h"
#include "common/le.h"
#include "common/log.h"
#include "store/store.h"

#define SINDEX_MAGIC "PWSIDX01"
#define SINDEX_NAME "sessions.idx"
#define SINDEX_MAX (256u << 20) /* a larger file is not an index of ours */
#define SINDEX_EVERY_NS (10 * NS_PER_S)

/* --- writing --- */

struct bw {
	uint8_t *p;
	size_t len, cap;
	int oom;
};

static uint8_t *bw_room(struct bw *b, size_t n)
{
	if (b->oom)
		return NULL;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 1 << 16;
		uint8_t *p;

		while (cap - b->len < n)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->oom = 1;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	b->len += n;
	return b->p + b->len - n;
}

static void put8(struct bw *b, unsigned v)
{
	uint8_t *o = bw_room(b, 1);

	if (o)
		*o = (uint8_t)v;
}

static void put16(struct bw *b, unsigned v)
{
	uint8_t *o = bw_room(b, 2);

	if (o)
		le_put16(o, (uint16_t)v);
}

static void put32(struct bw *b, uint32_t v)
{
	uint8_t *o = bw_room(b, 4);

	if (o)
		le_put32(o, v);
}

static void put64(struct bw *b, uint64_t v)
{
	uint8_t *o = bw_room(b, 8);

	if (o)
		le_put64(o, v);
}

static void put_str(struct bw *b, const char *s)
{
	size_t n = strlen(s);
	uint8_t *o;

	put16(b, (unsigned)n);
	if ((o = bw_room(b, n)))
		memcpy(o, s, n);
}

static void put_run(struct bw *b, struct run *r)
{
	size_t i;
	json_t *v;

	run_laps_summary(r);
	put_str(b, r->id);
	put_str(b, r->label);
	put_str(b, r->feed);
	put8(b, (unsigned)json_array_size(r->merge_feeds));
	json_array_foreach(r->merge_feeds, i, v)
		put_str(b, json_string_value(v) ? json_string_value(v) : "");
	put8(b, (unsigned)r->recording);
	put8(b, (unsigned)r->data_truncated);
	put64(b, r->start_marker);
	put64(b, (uint64_t)r->end_marker);
	put64(b, r->frame_count);
	put64(b, r->frames_lost);
	put64(b, (uint64_t)r->started_ns);
	put64(b, (uint64_t)r->stopped_ns);
	put_str(b, r->stop_reason);
	put_str(b, r->game);
	put_str(b, r->track);
	put_str(b, r->driver);
	put32(b, r->lap_count);
	put32(b, (uint32_t)r->best_lap_ms);
}

static void put_session(struct bw *b, struct session *s)
{
	size_t at = b->len;
	uint8_t *o;

	put32(b, 0); /* the entry's length, filled below */
	if ((o = bw_room(b, ID_LEN)))
		memcpy(o, s->id, ID_LEN);
	put64(b, s->file.ino);
	put64(b, s->file.size);
	put64(b, (uint64_t)s->file.mtime_ns);
	put8(b, s->use_case);
	put8(b, (unsigned)s->completed);
	put8(b, s->details ? analysis_state_of(s->analysis) : s->analysis_state);
	put8(b, 0);
	put64(b, (uint64_t)s->created_ns);
	put64(b, (uint64_t)s->completed_ns);
	put_str(b, s->label);
	put_str(b, s->recording_id);
	put_str(b, s->car_name);
	put16(b, (unsigned)s->nruns);
	for (int i = 0; i < s->nruns; i++)
		put_run(b, &s->runs[i]);
	if (!b->oom)
		le_put32(b->p + at, (uint32_t)(b->len - at - 4));
}

static void index_path(const struct store *st, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", st->data_dir, SINDEX_NAME);
}

int sindex_save(struct store *st)
{
	struct bw b = { 0 };
	char path[IDS_PATH_MAX];
	uint8_t *o;
	int rc;

	if ((o = bw_room(&b, 16))) {
		memcpy(o, SINDEX_MAGIC, 8);
		le_put32(o + 8, (uint32_t)st->nsessions);
		le_put32(o + 12, 0);
	}
	for (int i = 0; i < st->nsessions; i++)
		put_session(&b, st->sessions[i]);
	put32(&b, b.oom ? 0 : crc32c(0, b.p, b.len));
	index_path(st, path, sizeof path);
	rc = b.oom ? -ENOMEM : atomicio_write(path, b.p, b.len);
	free(b.p);
	st->index_saved_ns = clock_mono_ns();
	if (rc < 0) {
		log_warn(
			"msg=\"cannot write the session index; start-up parses the session files\" "
			"file=%s error=\"%s\"",
			path, strerror(-rc));
		return rc;
	}
	st->index_dirty = 0;
	return 0;
}

void sindex_touch(struct store *st, struct session *s, int removed)
{
	(void)s;
	(void)removed;
	st->index_dirty = 1;
}

void sindex_tick(struct store *st, int64_t now_mono)
{
	if (st->index_dirty && now_mono - st->index_saved_ns >= SINDEX_EVERY_NS)
		sindex_save(st);
}

/* --- reading: nothing in the file is trusted --- */

struct br {
	const uint8_t *p, *end;
	int bad;
};

static const uint8_t *take(struct br *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return NULL;
	}
	r->p += n;
	return p;
}

static unsigned get8(struct br *r)
{
	const uint8_t *p = take(r, 1);

	return p ? *p : 0;
}

static unsigned get16(struct br *r)
{
	const uint8_t *p = take(r, 2);

	return p ? le_get16(p) : 0;
}

static uint32_t get32(struct br *r)
{
	const uint8_t *p = take(r, 4);

	return p ? le_get32(p) : 0;
}

static uint64_t get64(struct br *r)
{
	const uint8_t *p = take(r, 8);

	return p ? le_get64(p) : 0;
}

/* A string into dst[cap]: too long or holding a NUL is a bad entry. */
static void get_str(struct br *r, char *dst, size_t cap)
{
	size_t n = get16(r);
	const uint8_t *p = take(r, n);

	if (!p || n >= cap || memchr(p, 0, n)) {
		r->bad = 1;
		dst[0] = 0;
		return;
	}
	memcpy(dst, p, n);
	dst[n] = 0;
}

static void get_run(struct br *r, struct run *x)
{
	char name[IDS_FEED_MAX + 1];
	unsigned nmerge;

	get_str(r, x->id, sizeof x->id);
	get_str(r, x->label, sizeof x->label);
	get_str(r, x->feed, sizeof x->feed);
	x->merge_feeds = json_array();
	nmerge = get8(r);
	for (unsigned i = 0; i < nmerge && !r->bad; i++) {
		get_str(r, name, sizeof name);
		json_array_append_new(x->merge_feeds, json_string(name));
	}
	x->recording = get8(r) != 0;
	x->data_truncated = get8(r) != 0;
	x->start_marker = get64(r);
	x->end_marker = (int64_t)get64(r);
	x->frame_count = get64(r);
	x->frames_lost = get64(r);
	x->started_ns = (int64_t)get64(r);
	x->stopped_ns = (int64_t)get64(r);
	get_str(r, x->stop_reason, sizeof x->stop_reason);
	get_str(r, x->game, sizeof x->game);
	get_str(r, x->track, sizeof x->track);
	get_str(r, x->driver, sizeof x->driver);
	x->lap_count = get32(r);
	x->best_lap_ms = (int32_t)get32(r);
	if (!ids_valid(x->id) || !ids_name_valid(x->feed))
		r->bad = 1;
}

/* One entry: a session without its details, or NULL when the entry is bad. */
static struct session *get_session(struct br *r)
{
	struct session *s = calloc(1, sizeof *s);
	const uint8_t *id;
	unsigned nruns, uc, as;

	if (!s)
		return NULL;
	if ((id = take(r, ID_LEN)))
		memcpy(s->id, id, ID_LEN);
	s->file.ino = get64(r);
	s->file.size = get64(r);
	s->file.mtime_ns = (int64_t)get64(r);
	uc = get8(r);
	s->completed = get8(r) != 0;
	as = get8(r);
	get8(r);
	s->created_ns = (int64_t)get64(r);
	s->completed_ns = (int64_t)get64(r);
	get_str(r, s->label, sizeof s->label);
	get_str(r, s->recording_id, sizeof s->recording_id);
	get_str(r, s->car_name, sizeof s->car_name);
	nruns = get16(r);
	if (uc >= UC_COUNT || as > AS_RESULT || nruns > STORE_MAX_RUNS || !ids_valid(s->id))
		r->bad = 1;
	s->use_case = (enum use_case)uc;
	s->analysis_state = (enum analysis_state)as;
	for (unsigned i = 0; i < nruns && !r->bad; i++) {
		struct run *x = session_run_slot(s);

		if (!x) {
			r->bad = 1;
			break;
		}
		get_run(r, x);
		s->nruns++;
	}
	if (r->bad) {
		session_free(s);
		return NULL;
	}
	return s;
}

static int by_id(const void *a, const void *b)
{
	return memcmp((*(struct session *const *)a)->id, (*(struct session *const *)b)->id, ID_LEN);
}

static int by_created(const void *a, const void *b)
{
	const struct session *x = *(struct session *const *)a, *y = *(struct session *const *)b;

	return x->created_ns < y->created_ns ? -1 : x->created_ns > y->created_ns;
}

/* The index's sessions, sorted by id: 0 with *out (possibly none), -EPROTO
 * when the file is damaged or not ours (nothing returned), -errno. */
static int index_read(struct store *st, struct session ***out, size_t *n)
{
	char path[IDS_PATH_MAX], *buf = NULL;
	size_t len, count;
	struct br r;
	struct session **v = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	index_path(st, path, sizeof path);
	if ((rc = atomicio_read(path, SINDEX_MAX, &buf, &len)) < 0)
		return rc;
	r = (struct br){ (const uint8_t *)buf, (const uint8_t *)buf + len, 0 };
	if (len < 20 || memcmp(buf, SINDEX_MAGIC, 8) != 0 ||
	    le_get32((const uint8_t *)buf + len - 4) != crc32c(0, buf, len - 4)) {
		free(buf);
		return -EPROTO;
	}
	r.end -= 4;
	take(&r, 8);
	count = get32(&r);
	get32(&r);
	if (count > STORE_MAX_SESSIONS || !(v = calloc(count + 1, sizeof *v)))
		rc = count > STORE_MAX_SESSIONS ? -EPROTO : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < count; i++) {
		uint32_t elen = get32(&r);
		struct br e = { r.p, r.p + elen, 0 };

		if (!take(&r, elen) || !(v[i] = get_session(&e)) || e.p != e.end)
			rc = -EPROTO;
		else
			(*n)++;
	}
	if (rc == 0 && r.p != r.end)
		rc = -EPROTO;
	free(buf);
	if (rc < 0) {
		for (size_t i = 0; v && i < count; i++)
			session_free(v[i]);
		free(v);
		*n = 0;
		return rc;
	}
	if (*n > 1)
		qsort(v, *n, sizeof *v, by_id);
	*out = v;
	return 0;
}

static struct session *index_find(struct session **v, size_t n, const char *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(v[mid]->id, id, ID_LEN);

		if (c == 0)
			return v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int sindex_load(struct store *st)
{
	struct session **ix = NULL, *s;
	size_t nix = 0, from_index = 0, parsed = 0;
	int skipped = 0, dfd, rc;
	DIR *d;
	struct dirent *e;

	rc = index_read(st, &ix, &nix);
	if (rc < 0 && rc != -ENOENT)
		log_warn("msg=\"session index unreadable, rebuilt from the session files\" "
			 "error=\"%s\"",
			 strerror(-rc));
	st->index_dirty = rc < 0;
	if (!(d = opendir(st->sessions_dir))) {
		rc = errno == ENOENT ? 0 : -errno;
		goto out;
	}
	dfd = dirfd(d);
	while ((e = readdir(d))) {
		char path[IDS_PATH_MAX], id[ID_LEN + 1];
		size_t n = strlen(e->d_name);
		struct stat sb;
		struct file_id f;

		/* only "<uuid>.json": temp files of an interrupted write are ignored */
		if (n != ID_LEN + 5 || strcmp(e->d_name + ID_LEN, ".json") != 0)
			continue;
		memcpy(id, e->d_name, ID_LEN);
		id[ID_LEN] = 0;
		if (!ids_valid(id))
			continue;
		s = index_find(ix, nix, id);
		if (s && fstatat(dfd, e->d_name, &sb, 0) == 0) {
			f = (struct file_id){ (uint64_t)sb.st_ino, (uint64_t)sb.st_size,
					      (int64_t)sb.st_mtim.tv_sec * NS_PER_S +
						      sb.st_mtim.tv_nsec };
			if (memcmp(&f, &s->file, sizeof f) == 0 && !s->details) {
				s->details = -1; /* taken: marked until the list is built */
				from_index++;
				continue;
			}
		}
		st->index_dirty = 1;
		snprintf(path, sizeof path, "%s/%s", st->sessions_dir, e->d_name);
		if (!(s = session_parse(path, id))) {
			skipped++;
			continue;
		}
		if (session_add(st, s) < 0) {
			session_free(s);
			rc = -ENOMEM;
			break;
		}
		parsed++;
	}
	closedir(d);
	if (rc == -ENOMEM)
		goto out;
	rc = 0;
	/* the index's sessions whose files are still theirs; the others are gone */
	for (size_t i = 0; i < nix; i++) {
		if (ix[i]->details != -1) {
			st->index_dirty = 1;
			continue;
		}
		ix[i]->details = 0;
		if (session_add(st, ix[i]) < 0) {
			rc = -ENOMEM;
			break;
		}
		ix[i] = NULL;
	}
	if (st->nsessions > 1) /* qsort's pointer must not be NULL, even for 0 items */
		qsort(st->sessions, (size_t)st->nsessions, sizeof *st->sessions, by_created);
	log_info("msg=\"sessions loaded\" loaded=%d skipped=%d from_index=%zu parsed=%zu",
		 st->nsessions, skipped, from_index, parsed);
	if (rc == 0 && st->index_dirty)
		sindex_save(st);
out:
	for (size_t i = 0; i < nix; i++)
		session_free(ix[i]);
	free(ix);
	return rc < 0 ? rc : skipped;
}
