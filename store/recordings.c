/*
 * recordings.c - raw-packet recordings (docs/architecture.md §5): while a recording is
 * active, every configured feed's datagrams are copied from its segment's
 * raw-packet ring into data/recordings/<id>/<feed>.pcap (IPv4/UDP records
 * with the real source address and ports, so Wireshark and tshark open it),
 * next to data/recordings/<id>/manifest.json. At most one is active.
 *
 * Durability. Records are appended with pwrite at the file's known length;
 * at least once a second (and at stop) every file written to is fdatasync'd,
 * then the manifest is replaced atomically with the synced counts and, per
 * feed, the raw cursor that matches them (the resume point). A failed write
 * or sync truncates the files back to their last synced length and stops the
 * recording with stop_reason disk_full or io_error: what the manifest lists
 * is always on disk.
 *
 * Restart. A recording that was active when the store stopped (cleanly or
 * not) is resumed: a torn last record is cut off at load; when a feed's
 * segment is seen again and its ring still holds the resume point, the file
 * goes back to the synced length and reading continues there, so packets that
 * arrived while the store was down are recorded. Otherwise reading restarts
 * at the ring's newest position and packets_lost counts what was missed.
 *
 * packets_lost is the raw cursor's exact "missed" count (a reader lapped by
 * the ring), plus such restart losses.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomicio.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/pcap.h"
#include "store/cmd.h"
#include "store/store.h"

#define REC_MAX 10000    /* recordings kept */
#define REC_MAX_FEEDS 32 /* feeds per recording */
#define REC_NAME_MAX 256
#define REC_NOTES_MAX 2048
#define REC_REASON_MAX 32
#define REC_PACKETS_PER_TICK 10000 /* per feed and loop turn: commands stay responsive */
#define REC_SYNC_NS NS_PER_S
#define REC_WBUF (1u << 20)
#define REC_MANIFEST_MAX (1 << 20)
#define PCAP_MAX_UDP 65507 /* largest UDP payload over IPv4 */

struct rec_feed {
	char name[IDS_FEED_MAX + 1];
	int fd;                  /* -1 when closed */
	int has_file;            /* <feed>.pcap exists and is listed */
	int new_file;            /* its directory entry is not durable yet */
	uint64_t packets, bytes; /* in the file; bytes include the pcap header */
	uint64_t synced_packets, synced_bytes;
	uint64_t resume_packets, resume_bytes; /* the manifest's counts for synced_cur */
	int attached;                          /* cur belongs to the segment seen last */
	int resume;                            /* synced_cur is a resume point from the manifest */
	uint64_t seg_generation;               /* producer identity of the segment cur belongs to */
	int64_t seg_start_ns;
	int64_t min_t_ns;                 /* older records are skipped (ring read from its start) */
	struct seg_raw_cursor cur;        /* cur.missed: packets_lost */
	struct seg_raw_cursor synced_cur; /* the position matching synced_bytes */
	uint64_t oversize;                /* datagrams too large for an IPv4 record */
};

struct recording {
	char id[ID_LEN + 1];
	char name[REC_NAME_MAX], game[IDS_GAME_MAX + 1], track[META_STR], car[META_STR];
	char notes[REC_NOTES_MAX];
	int use_case; /* -1: not given */
	int active;
	int64_t started_ns, stopped_ns;
	char stop_reason[REC_REASON_MAX];
	int dirty; /* the manifest on disk is behind */
	int nfeeds;
	struct rec_feed *feeds;
};

struct recordings {
	char root[IDS_DIR_MAX]; /* absolute data/recordings */
	struct recording **v;   /* oldest first */
	int n;
	struct recording *active;
	uint32_t dst_ip;   /* host order: the address the captures listen on */
	int64_t next_sync; /* monotonic */
	uint8_t *wbuf;     /* REC_WBUF */
	uint8_t payload[SEG_RAW_MAX_PAYLOAD];
};

/* --- paths and small helpers --- */

static int rec_path(const struct recordings *rs, const struct recording *r, const char *file,
		    char *buf, size_t cap)
{
	int n = file ? snprintf(buf, cap, "%s/%s/%s", rs->root, r->id, file)
		     : snprintf(buf, cap, "%s/%s", rs->root, r->id);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int pcap_path(const struct recordings *rs, const struct recording *r, const char *feed,
		     char *buf, size_t cap)
{
	char file[IDS_FEED_MAX + sizeof ".pcap"];

	snprintf(file, sizeof file, "%s.pcap", feed);
	return rec_path(rs, r, file, buf, cap);
}

static const char *reason_of(int rc)
{
	return rc == -ENOSPC || rc == -EDQUOT ? "disk_full" : "io_error";
}

static json_t *str_or_null(const char *s)
{
	return *s ? json_string(s) : json_null();
}

static json_t *iso_or_null(int64_t ns)
{
	char buf[40];

	return ns ? json_string(clock_iso8601(ns, buf, sizeof buf)) : json_null();
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
}

static struct rec_feed *rec_feed_find(struct recording *r, const char *name)
{
	for (int i = 0; i < r->nfeeds; i++)
		if (strcmp(r->feeds[i].name, name) == 0)
			return &r->feeds[i];
	return NULL;
}

/* The feed's slot, added when missing; NULL when full or out of memory. */
static struct rec_feed *rec_feed_get(struct recording *r, const char *name)
{
	struct rec_feed *rf = rec_feed_find(r, name), *n;

	if (rf || r->nfeeds == REC_MAX_FEEDS || strlen(name) >= sizeof rf->name)
		return rf;
	if (!(n = realloc(r->feeds, (size_t)(r->nfeeds + 1) * sizeof *n)))
		return NULL;
	r->feeds = n;
	rf = &r->feeds[r->nfeeds++];
	memset(rf, 0, sizeof *rf);
	rf->fd = -1;
	rf->min_t_ns = r->started_ns;
	copy(rf->name, sizeof rf->name, name);
	return rf;
}

static void rec_free(struct recording *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->nfeeds; i++)
		if (r->feeds[i].fd >= 0)
			close(r->feeds[i].fd);
	free(r->feeds);
	free(r);
}

static struct recording *rec_find(struct recordings *rs, const char *id)
{
	for (int i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i]->id, id) == 0)
			return rs->v[i];
	return NULL;
}

static int rec_add(struct recordings *rs, struct recording *r)
{
	struct recording **n = realloc(rs->v, (size_t)(rs->n + 1) * sizeof *n);

	if (!n)
		return -ENOMEM;
	rs->v = n;
	rs->v[rs->n++] = r;
	return 0;
}

static void rec_remove(struct recordings *rs, struct recording *r)
{
	for (int i = 0; i < rs->n; i++)
		if (rs->v[i] == r) {
			memmove(&rs->v[i], &rs->v[i + 1], (size_t)(rs->n - i - 1) * sizeof *rs->v);
			rs->n--;
			break;
		}
	if (rs->active == r)
		rs->active = NULL;
	rec_free(r);
}

/* --- the manifest --- */

static uint64_t feed_lost(const struct rec_feed *rf, int on_disk)
{
	return on_disk ? rf->synced_cur.missed : rf->cur.missed;
}

/* A feed is listed once it has a file or lost packets (file null then). On
 * disk it states its synced counts, or while a resume point from the last
 * manifest is still pending, that point's counts again. */
static json_t *feed_json(const struct rec_feed *rf, int on_disk)
{
	uint64_t packets = rf->packets, bytes = rf->bytes;
	char file[IDS_FEED_MAX + sizeof ".pcap"];

	if (on_disk) {
		packets = rf->resume ? rf->resume_packets : rf->synced_packets;
		bytes = rf->resume ? rf->resume_bytes : rf->synced_bytes;
	}
	snprintf(file, sizeof file, "%s.pcap", rf->name);
	return json_pack("{s:s, s:o, s:I, s:I, s:I}", "feed", rf->name, "file",
			 rf->has_file ? json_string(file) : json_null(), "packets",
			 (json_int_t)packets, "bytes", (json_int_t)bytes, "packets_lost",
			 (json_int_t)feed_lost(rf, on_disk));
}

/* What commands return; on_disk adds what only the file keeps (nanosecond
 * times, resume points) and uses the synced counts. */
static json_t *manifest_json(const struct recording *r, int on_disk)
{
	json_t *feeds = json_array(), *o;

	for (int i = 0; i < r->nfeeds; i++)
		if (r->feeds[i].has_file || feed_lost(&r->feeds[i], on_disk))
			json_array_append_new(feeds, feed_json(&r->feeds[i], on_disk));
	o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o}", "id", r->id,
		      "name", str_or_null(r->name), "game", str_or_null(r->game), "track",
		      str_or_null(r->track), "car", str_or_null(r->car), "use_case",
		      r->use_case < 0 ? json_null() : json_string(use_case_name(r->use_case)),
		      "notes", str_or_null(r->notes), "status", r->active ? "active" : "stopped",
		      "started_at", iso_or_null(r->started_ns), "stopped_at",
		      iso_or_null(r->stopped_ns), "stop_reason", str_or_null(r->stop_reason),
		      "feeds", feeds);
	if (!o || !on_disk)
		return o;
	json_object_set_new(o, "format", json_integer(1));
	json_object_set_new(o, "started_ns", json_integer(r->started_ns));
	json_object_set_new(o, "stopped_ns", json_integer(r->stopped_ns));
	if (r->active) {
		json_t *res = json_array();
		for (int i = 0; i < r->nfeeds; i++) {
			const struct rec_feed *rf = &r->feeds[i];
			if (!rf->attached && !rf->resume)
				continue;
			json_array_append_new(
				res, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "feed", rf->name,
					       "raw_off", (json_int_t)rf->synced_cur.off,
					       "next_pkt", (json_int_t)rf->synced_cur.next_pkt,
					       "missed", (json_int_t)rf->synced_cur.missed,
					       "seg_generation", (json_int_t)rf->seg_generation,
					       "seg_start_ns", (json_int_t)rf->seg_start_ns));
		}
		json_object_set_new(o, "resume", res);
	}
	return o;
}

/* Atomically replace the manifest; r->dirty stays set until it worked. */
static int manifest_save(struct recordings *rs, struct recording *r)
{
	char path[IDS_PATH_MAX], *text;
	json_t *o = manifest_json(r, 1);
	int rc;

	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return -ENOMEM;
	rc = rec_path(rs, r, "manifest.json", path, sizeof path);
	if (rc == 0)
		rc = atomicio_write(path, text, strlen(text));
	free(text);
	if (rc < 0)
		log_error("msg=\"cannot save recording manifest\" recording=%s error=\"%s\"", r->id,
			  strerror(-rc));
	r->dirty = rc < 0;
	return rc;
}

static int load_str(char *dst, size_t cap, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	dst[0] = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= cap)
		return -1;
	copy(dst, cap, json_string_value(v));
	return 0;
}

/* A non-negative integer field, or -1 when absent or of another type. */
static int load_u64(json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int feed_from_json(struct recording *r, json_t *o)
{
	const char *name = json_string_value(json_object_get(o, "feed"));
	json_t *file = json_object_get(o, "file");
	char want[IDS_FEED_MAX + sizeof ".pcap"];
	struct rec_feed *rf;

	if (!name || !ids_name_valid(name) || rec_feed_find(r, name))
		return -1;
	snprintf(want, sizeof want, "%s.pcap", name);
	if (!json_is_null(file) && (!json_is_string(file) || strcmp(json_string_value(file), want)))
		return -1;
	if (!(rf = rec_feed_get(r, name)))
		return -1;
	rf->has_file = json_is_string(file);
	if (load_u64(o, "packets", &rf->packets) < 0 || load_u64(o, "bytes", &rf->bytes) < 0 ||
	    load_u64(o, "packets_lost", &rf->cur.missed) < 0 ||
	    (!rf->has_file && (rf->packets || rf->bytes)))
		return -1;
	rf->synced_packets = rf->resume_packets = rf->packets;
	rf->synced_bytes = rf->resume_bytes = rf->bytes;
	rf->synced_cur.missed = rf->cur.missed;
	return 0;
}

static int resume_from_json(struct recording *r, json_t *o)
{
	const char *name = json_string_value(json_object_get(o, "feed"));
	struct rec_feed *rf;
	uint64_t start;

	if (!name || !ids_name_valid(name) || !(rf = rec_feed_get(r, name)) ||
	    load_u64(o, "raw_off", &rf->synced_cur.off) < 0 ||
	    load_u64(o, "next_pkt", &rf->synced_cur.next_pkt) < 0 ||
	    load_u64(o, "missed", &rf->synced_cur.missed) < 0 ||
	    load_u64(o, "seg_generation", &rf->seg_generation) < 0 ||
	    load_u64(o, "seg_start_ns", &start) < 0)
		return -1;
	rf->seg_start_ns = (int64_t)start;
	rf->cur.missed = rf->synced_cur.missed;
	rf->resume = 1;
	return 0;
}

static struct recording *rec_from_json(json_t *o, char *why, size_t cap)
{
	struct recording *r = calloc(1, sizeof *r);
	json_t *feeds = json_object_get(o, "feeds"), *res = json_object_get(o, "resume"), *v;
	const char *status = json_string_value(json_object_get(o, "status"));
	char uc[32];
	uint64_t t0 = 0, t1 = 0;
	size_t i;

	if (!r)
		return NULL;
	r->use_case = -1;
	if (load_str(r->id, sizeof r->id, o, "id") < 0 || !ids_valid(r->id)) {
		snprintf(why, cap, "missing or invalid id");
		goto fail;
	}
	if (load_str(r->name, sizeof r->name, o, "name") < 0 ||
	    load_str(r->game, sizeof r->game, o, "game") < 0 ||
	    load_str(r->track, sizeof r->track, o, "track") < 0 ||
	    load_str(r->car, sizeof r->car, o, "car") < 0 ||
	    load_str(r->notes, sizeof r->notes, o, "notes") < 0 ||
	    load_str(r->stop_reason, sizeof r->stop_reason, o, "stop_reason") < 0 ||
	    load_str(uc, sizeof uc, o, "use_case") < 0) {
		snprintf(why, cap, "a string field is too long or not a string");
		goto fail;
	}
	if (*uc && (r->use_case = use_case_parse(uc)) < 0) {
		snprintf(why, cap, "unknown use_case");
		goto fail;
	}
	if (!status || (strcmp(status, "active") != 0 && strcmp(status, "stopped") != 0)) {
		snprintf(why, cap, "status is neither active nor stopped");
		goto fail;
	}
	r->active = strcmp(status, "active") == 0;
	if (load_u64(o, "started_ns", &t0) < 0 || load_u64(o, "stopped_ns", &t1) < 0) {
		snprintf(why, cap, "missing started_ns / stopped_ns");
		goto fail;
	}
	r->started_ns = (int64_t)t0;
	r->stopped_ns = (int64_t)t1;
	if (!json_is_array(feeds) || (res && !json_is_array(res))) {
		snprintf(why, cap, "feeds or resume is not an array");
		goto fail;
	}
	json_array_foreach(feeds, i, v) {
		if (!json_is_object(v) || feed_from_json(r, v) < 0) {
			snprintf(why, cap, "feed entry %zu is invalid", i);
			goto fail;
		}
	}
	json_array_foreach(res, i, v) {
		if (!json_is_object(v) || resume_from_json(r, v) < 0) {
			snprintf(why, cap, "resume entry %zu is invalid", i);
			goto fail;
		}
	}
	return r;
fail:
	rec_free(r);
	return NULL;
}

/* --- pcap files --- */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Walk our own pcap format (nanosecond header, LINKTYPE_RAW): the length of
 * the prefix made of the header and complete records, their count and the
 * last record's time. A file whose header is not ours has no valid prefix.
 */
static int pcap_scan(int fd, uint64_t *size_out, uint64_t *valid, uint64_t *packets,
		     int64_t *last_t_ns)
{
	uint8_t hdr[PCAP_FILE_HEADER_LEN];
	struct stat sb;
	const uint8_t *m;
	uint64_t pos = PCAP_FILE_HEADER_LEN, size;

	*valid = *packets = 0;
	*last_t_ns = 0;
	if (fstat(fd, &sb) < 0)
		return -errno;
	if (!S_ISREG(sb.st_mode))
		return -EINVAL;
	*size_out = size = (uint64_t)sb.st_size;
	pcap_file_header(hdr);
	if (size < PCAP_FILE_HEADER_LEN)
		return 0;
	m = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	if (memcmp(m, hdr, sizeof hdr) == 0) {
		while (size - pos >= 16) {
			uint32_t incl = le32(m + pos + 8);
			if (incl > 65535 || incl != le32(m + pos + 12) || size - pos - 16 < incl)
				break;
			*last_t_ns = (int64_t)le32(m + pos) * NS_PER_S + le32(m + pos + 4);
			pos += 16 + (uint64_t)incl;
			++*packets;
		}
		*valid = pos;
	}
	munmap((void *)m, (size_t)size);
	return 0;
}

static int write_all_at(int fd, const uint8_t *buf, size_t len, uint64_t at)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, buf + done, len - done, (off_t)(at + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* Cut the file to len and make that durable. */
static int truncate_durably(int fd, uint64_t len)
{
	if (ftruncate(fd, (off_t)len) < 0 || fdatasync(fd) < 0)
		return -errno;
	return 0;
}

/* Open a resumed recording's file and cut a torn tail (or a broken header). */
static int reopen_file(struct recordings *rs, struct recording *r, struct rec_feed *rf)
{
	char path[IDS_PATH_MAX];
	uint8_t hdr[PCAP_FILE_HEADER_LEN];
	uint64_t size, valid, n;
	int64_t last_t;
	int rc;

	if ((rc = pcap_path(rs, r, rf->name, path, sizeof path)) < 0)
		return rc;
	if ((rf->fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -errno;
	if ((rc = pcap_scan(rf->fd, &size, &valid, &n, &last_t)) < 0)
		return rc;
	if (valid < PCAP_FILE_HEADER_LEN) {
		pcap_file_header(hdr);
		if ((rc = truncate_durably(rf->fd, 0)) < 0 ||
		    (rc = write_all_at(rf->fd, hdr, sizeof hdr, 0)) < 0 || fdatasync(rf->fd) < 0)
			return rc < 0 ? rc : -errno;
		valid = PCAP_FILE_HEADER_LEN;
		log_warn(
			"msg=\"recording file had no valid header, restarted\" recording=%s feed=%s",
			r->id, rf->name);
	} else if (valid < size) {
		if ((rc = truncate_durably(rf->fd, valid)) < 0)
			return rc;
		log_warn(
			"msg=\"torn tail cut\" recording=%s feed=%s bytes=%llu kept=%llu packets=%llu",
			r->id, rf->name, (unsigned long long)(size - valid),
			(unsigned long long)valid, (unsigned long long)n);
	}
	/* what the scan found is durable now; the resume point may cut it back */
	rf->bytes = rf->synced_bytes = valid;
	rf->packets = rf->synced_packets = n;
	if (last_t >= rf->min_t_ns)
		rf->min_t_ns = last_t + 1;
	return 0;
}

static int file_create(struct recordings *rs, struct recording *r, struct rec_feed *rf)
{
	char path[IDS_PATH_MAX];
	uint8_t hdr[PCAP_FILE_HEADER_LEN];
	int rc;

	if ((rc = pcap_path(rs, r, rf->name, path, sizeof path)) < 0)
		return rc;
	/* a file the manifest does not list holds nothing durable: start it over */
	rf->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (rf->fd < 0)
		return -errno;
	pcap_file_header(hdr);
	rf->has_file = 1;
	rf->new_file = 1;
	rf->packets = rf->bytes = rf->synced_packets = rf->synced_bytes = 0;
	if ((rc = write_all_at(rf->fd, hdr, sizeof hdr, 0)) < 0)
		return rc;
	rf->bytes = sizeof hdr;
	return 0;
}

/* Back to the last durable state after a failed write or sync. */
static void rollback(struct recordings *rs, struct recording *r, struct rec_feed *rf)
{
	char path[IDS_PATH_MAX];

	if (rf->fd < 0 || (rf->bytes == rf->synced_bytes && !rf->new_file))
		return;
	if (rf->new_file) {
		/* never synced: the file is not listed anywhere, drop it */
		close(rf->fd);
		rf->fd = -1;
		rf->has_file = rf->new_file = 0;
		if (pcap_path(rs, r, rf->name, path, sizeof path) == 0)
			unlink(path);
	} else if (truncate_durably(rf->fd, rf->synced_bytes) < 0) {
		log_error(
			"msg=\"cannot truncate recording file to its durable length\" recording=%s "
			"feed=%s error=\"%s\"",
			r->id, rf->name, strerror(errno));
	}
	rf->bytes = rf->synced_bytes;
	rf->packets = rf->synced_packets;
}

static void rollback_all(struct recordings *rs, struct recording *r)
{
	for (int i = 0; i < r->nfeeds; i++)
		rollback(rs, r, &r->feeds[i]);
}

/* fdatasync every file written since the last sync; then the synced state
 * (counts and resume points) moves up to the current one. */
static int sync_files(struct recordings *rs, struct recording *r)
{
	char dir[IDS_PATH_MAX];
	int new_entries = 0, rc;

	for (int i = 0; i < r->nfeeds; i++) {
		struct rec_feed *rf = &r->feeds[i];
		if (rf->fd < 0 || (rf->bytes == rf->synced_bytes && !rf->new_file))
			continue;
		if (fdatasync(rf->fd) < 0)
			return -errno;
		new_entries |= rf->new_file;
	}
	if (new_entries && ((rc = rec_path(rs, r, NULL, dir, sizeof dir)) < 0 ||
			    (rc = atomicio_fsync_dir(dir)) < 0))
		return rc;
	for (int i = 0; i < r->nfeeds; i++) {
		struct rec_feed *rf = &r->feeds[i];
		rf->synced_bytes = rf->bytes;
		rf->synced_packets = rf->packets;
		rf->new_file = 0;
		if (rf->attached)
			rf->synced_cur = rf->cur;
	}
	return 0;
}

/* Files durable, then the manifest that counts them. */
static int checkpoint(struct recordings *rs, struct recording *r)
{
	int rc = sync_files(rs, r);

	if (rc < 0) {
		rollback_all(rs, r);
		return rc;
	}
	return manifest_save(rs, r);
}

static void close_files(struct recording *r)
{
	for (int i = 0; i < r->nfeeds; i++)
		if (r->feeds[i].fd >= 0) {
			close(r->feeds[i].fd);
			r->feeds[i].fd = -1;
		}
}

/* --- stopping --- */

static json_t *event_json(const struct recording *r)
{
	return json_pack("{s:s, s:o, s:s}", "recording_id", r->id, "name", str_or_null(r->name),
			 "status", r->active ? "active" : "stopped");
}

/* Game, track and car not given at start come from the first feed that has
 * packets and whose segment is there. */
static void fill_meta(struct store *st, struct recording *r)
{
	struct pw_meta m;
	struct seg *seg;

	if (*r->game && *r->track && *r->car)
		return;
	for (int i = 0; i < r->nfeeds; i++) {
		if (!r->feeds[i].packets || !(seg = feed_seg(st, r->feeds[i].name)))
			continue;
		seg_meta_read(seg, &m);
		if (!*r->game && frame_game_id(m.game))
			copy(r->game, sizeof r->game, m.game);
		if (!*r->track)
			copy(r->track, sizeof r->track, m.track);
		if (!*r->car)
			copy(r->car, sizeof r->car, m.car);
		return;
	}
}

/*
 * Make everything durable and stop. When the final sync fails the files go
 * back to their last durable length and the reason becomes disk_full or
 * io_error. Returns 0, or the first error (the recording is stopped anyway;
 * a manifest that could not be written is retried every second).
 */
static int rec_stop(struct store *st, struct recording *r, const char *reason)
{
	struct recordings *rs = st->rec;
	int rc = sync_files(rs, r), mrc;

	if (rc < 0) {
		rollback_all(rs, r);
		if (strcmp(reason, "stopped") == 0)
			reason = reason_of(rc);
	}
	fill_meta(st, r);
	close_files(r);
	for (int i = 0; i < r->nfeeds; i++)
		r->feeds[i].resume = 0;
	r->active = 0;
	r->stopped_ns = clock_now_ns();
	copy(r->stop_reason, sizeof r->stop_reason, reason);
	if (rs->active == r)
		rs->active = NULL;
	mrc = manifest_save(rs, r);
	{
		json_t *ev = event_json(r);
		json_object_set_new(ev, "reason", json_string(reason));
		bus_publish(st, TOPIC_RECORDING_STOPPED, ev);
	}
	log_info("msg=\"recording stopped\" recording=%s reason=%s", r->id, reason);
	return rc < 0 ? rc : mrc;
}

/* --- draining the rings --- */

static uint64_t ld(const _Atomic uint64_t *p)
{
	return atomic_load_explicit((_Atomic uint64_t *)p, memory_order_acquire);
}

/* Whether c can be a position of this segment's raw ring (a re-created
 * segment starts its ring again at 0). */
static int cursor_fits(const struct seg_header *h, const struct seg_raw_cursor *c)
{
	uint64_t w = ld(&h->raw_write), seq = ld(&h->raw_seq);

	return c->off <= w && c->next_pkt <= seq &&
	       seq - c->next_pkt <= (w - c->off) / sizeof(struct seg_raw_rec);
}

/* Whether the ring still holds c's record intact (with a margin for one
 * record being written while we look). */
static int cursor_held(const struct seg_header *h, const struct seg_raw_cursor *c)
{
	uint64_t w = ld(&h->raw_write);

	return cursor_fits(h, c) && w - c->off + SEG_RAW_MAX_PAYLOAD + 64 <= h->raw_bytes;
}

static int same_producer_line(const struct seg_header *h, const struct rec_feed *rf)
{
	return h->generation > rf->seg_generation ||
	       (h->generation == rf->seg_generation && h->start_ns == rf->seg_start_ns);
}

/* Start reading a ring from its beginning (every record newer than min_t_ns),
 * or from now when it has wrapped since. */
static void cursor_from_start(struct seg *seg, struct rec_feed *rf)
{
	const struct seg_header *h = seg_header(seg);
	uint64_t missed = rf->cur.missed;

	if (ld(&h->raw_write) + SEG_RAW_MAX_PAYLOAD + 64 <= h->raw_bytes)
		rf->cur = (struct seg_raw_cursor){ 0 };
	else
		seg_raw_cursor_now(seg, &rf->cur);
	rf->cur.missed = missed;
}

/* First sight of the segment after a store restart. */
static int resume_cursor(struct recording *r, struct rec_feed *rf, struct seg *seg)
{
	const struct seg_header *h = seg_header(seg);
	uint64_t seq = ld(&h->raw_seq), extra, lost;
	int rc;

	rf->resume = 0;
	if (same_producer_line(h, rf) && cursor_held(h, &rf->synced_cur) &&
	    (!rf->has_file || (rf->fd >= 0 && rf->resume_bytes <= rf->bytes &&
			       rf->resume_bytes >= PCAP_FILE_HEADER_LEN))) {
		/* records after the resume point are read again from the ring */
		if (rf->has_file && rf->bytes != rf->resume_bytes &&
		    (rc = truncate_durably(rf->fd, rf->resume_bytes)) < 0)
			return rc;
		if (rf->has_file) {
			rf->bytes = rf->synced_bytes = rf->resume_bytes;
			rf->packets = rf->synced_packets = rf->resume_packets;
		}
		rf->cur = rf->synced_cur;
		rf->min_t_ns = 0;
		log_info(
			"msg=\"recording resumed at its last durable position\" recording=%s feed=%s "
			"next_pkt=%llu",
			r->id, rf->name, (unsigned long long)rf->cur.next_pkt);
		return 0;
	}
	seg_raw_cursor_now(seg, &rf->cur);
	rf->cur.missed = rf->synced_cur.missed;
	lost = 0;
	if (same_producer_line(h, rf) && seq >= rf->synced_cur.next_pkt) {
		/* records the file holds beyond the resume point were read from the ring */
		extra = rf->packets > rf->resume_packets ? rf->packets - rf->resume_packets : 0;
		lost = seq - rf->synced_cur.next_pkt > extra ? seq - rf->synced_cur.next_pkt - extra
							     : 0;
		rf->cur.missed += lost;
	}
	log_warn("msg=\"recording resumed at the ring's newest packet\" recording=%s feed=%s "
		 "packets_lost=%llu",
		 r->id, rf->name, (unsigned long long)lost);
	return 0;
}

/* The feed's segment with rf's cursor valid for it, or NULL when absent. */
static struct seg *feed_ready(struct store *st, struct recording *r, struct rec_feed *rf, int *err)
{
	struct seg *seg = feed_seg_live(st, rf->name);
	const struct seg_header *h;

	*err = 0;
	if (!seg)
		return NULL;
	h = seg_header(seg);
	if (rf->attached && h->generation == rf->seg_generation && h->start_ns == rf->seg_start_ns)
		return seg;
	if (rf->resume) {
		if ((*err = resume_cursor(r, rf, seg)) < 0)
			return NULL;
	} else if (!rf->attached) {
		/* the segment appeared after the start: all of it is new */
		cursor_from_start(seg, rf);
		log_info("msg=\"recording follows a new feed\" recording=%s feed=%s", r->id,
			 rf->name);
	} else if (!same_producer_line(h, rf) || !cursor_fits(h, &rf->cur)) {
		cursor_from_start(seg, rf);
		rf->min_t_ns = r->started_ns;
		log_warn(
			"msg=\"feed segment re-created, recording reads its new ring\" recording=%s "
			"feed=%s",
			r->id, rf->name);
	}
	rf->attached = 1;
	rf->seg_generation = h->generation;
	rf->seg_start_ns = h->start_ns;
	return seg;
}

static int flush(struct rec_feed *rf, const uint8_t *buf, size_t len, uint64_t npk)
{
	int rc = write_all_at(rf->fd, buf, len, rf->bytes);

	if (rc < 0)
		return rc;
	rf->bytes += len;
	rf->packets += npk;
	return 0;
}

/* Copy at most REC_PACKETS_PER_TICK datagrams from the ring into the file. */
static int drain(struct recordings *rs, struct recording *r, struct rec_feed *rf, struct seg *seg)
{
	struct seg_raw_rec rec;
	size_t used = 0;
	uint64_t npk = 0;
	int rc;

	for (int i = 0; i < REC_PACKETS_PER_TICK; i++) {
		int got = seg_raw_read(seg, &rf->cur, &rec, rs->payload, sizeof rs->payload);

		if (got == 0)
			break;
		r->dirty = 1;
		if (got < 0 || rec.t_ns < rf->min_t_ns)
			continue;
		if (rec.len > PCAP_MAX_UDP) {
			if (rf->oversize++ == 0)
				log_warn(
					"msg=\"datagram too large for a pcap IPv4 record, skipped\" "
					"recording=%s feed=%s len=%u",
					r->id, rf->name, rec.len);
			continue;
		}
		if (rf->fd < 0 && rf->has_file)
			return -EIO; /* a listed file that could not be reopened */
		if (rf->fd < 0 && (rc = file_create(rs, r, rf)) < 0)
			return rc;
		if (REC_WBUF - used < rec.len + PCAP_UDP_OVERHEAD) {
			if ((rc = flush(rf, rs->wbuf, used, npk)) < 0)
				return rc;
			used = 0;
			npk = 0;
		}
		/* src_ip is stored in host order by pw-capture, as the writer wants it */
		used += pcap_udp_record(rs->wbuf + used, REC_WBUF - used, rec.t_ns, rec.src_ip,
					rec.src_port, rs->dst_ip, rec.dst_port, rs->payload,
					rec.len);
		npk++;
	}
	return used ? flush(rf, rs->wbuf, used, npk) : 0;
}

static void record_tick(struct store *st, struct recording *r)
{
	struct recordings *rs = st->rec;

	for (int i = 0; i < st->nfeeds && r->active; i++) {
		struct rec_feed *rf = rec_feed_get(r, st->feeds[i].name);
		struct seg *seg;
		int rc;

		if (!rf)
			continue;
		seg = feed_ready(st, r, rf, &rc);
		if (seg && (rc = drain(rs, r, rf, seg)) == 0)
			continue;
		if (rc < 0) {
			log_error(
				"msg=\"recording write failed\" recording=%s feed=%s error=\"%s\"",
				r->id, rf->name, strerror(-rc));
			rollback(rs, r, rf);
			rec_stop(st, r, reason_of(rc));
		}
	}
}

/* --- lifecycle --- */

/* A recording that was active when the store stopped: reopen its files. */
static void resume_files(struct recordings *rs, struct recording *r)
{
	char dir[IDS_PATH_MAX];
	struct dirent *e;
	DIR *d;

	if (rec_path(rs, r, NULL, dir, sizeof dir) == 0 && (d = opendir(dir))) {
		/* a file created after the last manifest write is not listed: adopt it */
		while ((e = readdir(d))) {
			size_t n = strlen(e->d_name);
			char feed[IDS_FEED_MAX + 1];
			struct rec_feed *rf;

			if (n <= 5 || n - 5 >= sizeof feed ||
			    strcmp(e->d_name + n - 5, ".pcap") != 0)
				continue;
			memcpy(feed, e->d_name, n - 5);
			feed[n - 5] = 0;
			if (!ids_name_valid(feed) || !(rf = rec_feed_get(r, feed)) || rf->has_file)
				continue;
			rf->has_file = 1;
			rf->resume_bytes = PCAP_FILE_HEADER_LEN;
		}
		closedir(d);
	}
	for (int i = 0; i < r->nfeeds; i++) {
		struct rec_feed *rf = &r->feeds[i];
		int rc;

		rf->min_t_ns = r->started_ns;
		if (!rf->has_file || (rc = reopen_file(rs, r, rf)) == 0)
			continue;
		log_error("msg=\"cannot reopen recording file\" recording=%s feed=%s error=\"%s\"",
			  r->id, rf->name, strerror(-rc));
		if (rf->fd >= 0)
			close(rf->fd);
		rf->fd = -1;
		if (rc == -ENOENT) {
			rf->has_file = 0;
			rf->bytes = rf->packets = rf->synced_bytes = rf->synced_packets = 0;
		} else {
			/* keep the listed counts: the file is what it is */
			rf->bytes = rf->synced_bytes;
			rf->packets = rf->synced_packets;
		}
	}
	r->dirty = 1;
}

static struct recording *load_one(struct recordings *rs, const char *id)
{
	char path[IDS_PATH_MAX], why[256] = "", *buf = NULL;
	struct recording *r = NULL;
	json_error_t jerr;
	json_t *o;
	size_t len;
	int rc;

	if ((size_t)snprintf(path, sizeof path, "%s/%s/manifest.json", rs->root, id) >= sizeof path)
		return NULL;
	if ((rc = atomicio_read(path, REC_MANIFEST_MAX, &buf, &len)) < 0) {
		log_error("msg=\"cannot read recording manifest, skipped\" file=%s error=\"%s\"",
			  path, strerror(-rc));
		return NULL;
	}
	o = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (o && json_is_object(o))
		r = rec_from_json(o, why, sizeof why);
	else if (o)
		snprintf(why, sizeof why, "not a JSON object");
	else
		snprintf(why, sizeof why, "%s", jerr.text);
	json_decref(o);
	if (r && strcmp(r->id, id) != 0) {
		snprintf(why, sizeof why, "id does not match the directory name");
		rec_free(r);
		r = NULL;
	}
	if (!r)
		log_error("msg=\"corrupt recording manifest, skipped\" file=%s error=\"%s\"", path,
			  why);
	return r;
}

static int by_start(const void *a, const void *b)
{
	const struct recording *x = *(struct recording *const *)a,
			       *y = *(struct recording *const *)b;

	return x->started_ns < y->started_ns ? -1 : x->started_ns > y->started_ns;
}

static int load_all(struct recordings *rs)
{
	DIR *d = opendir(rs->root);
	struct dirent *e;
	int loaded = 0, skipped = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)) && rs->n < REC_MAX) {
		struct recording *r;

		if (!ids_valid(e->d_name))
			continue;
		if (!(r = load_one(rs, e->d_name))) {
			skipped++;
			continue;
		}
		if (rec_add(rs, r) < 0) {
			rec_free(r);
			break;
		}
		loaded++;
	}
	closedir(d);
	if (rs->n > 1)
		qsort(rs->v, (size_t)rs->n, sizeof *rs->v, by_start);
	log_info("msg=\"recordings loaded\" loaded=%d skipped=%d", loaded, skipped);
	return 0;
}

/* Resume the newest active recording; any older one (there should be none)
 * is stopped with what its files hold. */
static void resume_active(struct recordings *rs)
{
	for (int i = rs->n - 1; i >= 0; i--) {
		struct recording *r = rs->v[i];

		if (!r->active)
			continue;
		resume_files(rs, r);
		if (!rs->active) {
			rs->active = r;
			log_info("msg=\"recording resumed\" recording=%s", r->id);
			continue;
		}
		for (int k = 0; k < r->nfeeds; k++)
			r->feeds[k].resume = 0;
		close_files(r);
		r->active = 0;
		r->stopped_ns = clock_now_ns();
		copy(r->stop_reason, sizeof r->stop_reason, "interrupted");
		manifest_save(rs, r);
	}
}

static uint32_t listen_ip(const struct store *st)
{
	struct in_addr a;

	/* a capture bound to one address received there; with a wildcard we do
	 * not know which address the game used, loopback reads naturally */
	if (inet_pton(AF_INET, st->cfg.listen, &a) == 1 && a.s_addr != htonl(INADDR_ANY))
		return ntohl(a.s_addr);
	return INADDR_LOOPBACK;
}

int recordings_init(struct store *st)
{
	struct recordings *rs = calloc(1, sizeof *rs);
	char dir[IDS_PATH_MAX];
	int rc;

	if (!rs || !(rs->wbuf = malloc(REC_WBUF))) {
		free(rs);
		return -ENOMEM;
	}
	st->rec = rs;
	rs->dst_ip = listen_ip(st);
	if ((size_t)snprintf(dir, sizeof dir, "%s/recordings", st->cfg.data_dir) >= sizeof dir)
		return -ENAMETOOLONG;
	if ((rc = atomicio_mkdirs(dir)) < 0 || !realpath(dir, rs->root)) {
		rc = rc < 0 ? rc : -errno;
		log_error("msg=\"cannot create the recordings dir\" dir=%s error=\"%s\"", dir,
			  strerror(-rc));
		return rc;
	}
	if ((rc = load_all(rs)) < 0) {
		log_error("msg=\"cannot list recordings\" dir=%s error=\"%s\"", rs->root,
			  strerror(-rc));
		return rc;
	}
	resume_active(rs);
	return 0;
}

const char *recordings_active_id(const struct store *st)
{
	return st->rec && st->rec->active ? st->rec->active->id : NULL;
}

void recordings_tick(struct store *st, int64_t now_ns)
{
	struct recordings *rs = st->rec;
	struct recording *r = rs->active;
	int64_t mono = clock_mono_ns();
	int rc;

	(void)now_ns;
	storestat_set(st->stat, STORESTAT_RECORDINGS_ACTIVE, r != NULL);
	if (r) {
		record_tick(st, r);
		storestat_progress(st->stat); /* its packet counts and sizes move */
	}
	if (mono < rs->next_sync)
		return;
	rs->next_sync = mono + REC_SYNC_NS;
	if ((r = rs->active) && r->dirty && (rc = checkpoint(rs, r)) < 0) {
		log_error("msg=\"recording sync failed\" recording=%s error=\"%s\"", r->id,
			  strerror(-rc));
		rec_stop(st, r, reason_of(rc));
	}
	for (int i = 0; i < rs->n; i++)
		if (!rs->v[i]->active && rs->v[i]->dirty) {
			manifest_save(rs, rs->v[i]);
			storestat_bump(st->stat);
		}
}

/* The active recording stays active on disk: the next start resumes it. */
void recordings_fini(struct store *st)
{
	struct recordings *rs = st->rec;

	if (!rs)
		return;
	if (rs->active && checkpoint(rs, rs->active) < 0)
		log_error("msg=\"recording not synced at shutdown\" recording=%s", rs->active->id);
	for (int i = 0; i < rs->n; i++)
		rec_free(rs->v[i]);
	free(rs->v);
	free(rs->wbuf);
	free(rs);
	st->rec = NULL;
}

/* --- commands --- */

static json_t *durability_error(struct cmd_err *err, int rc, const char *what)
{
	if (rc == -ENOSPC || rc == -EDQUOT)
		return fail(err, MSG_E_DISK_FULL, "the data disk is full: %s", what);
	return fail(err, MSG_E_IO, "%s: %s", what, strerror(-rc));
}

static struct recording *need_recording(struct store *st, json_t *args, struct cmd_err *err)
{
	const char *id;
	struct recording *r;

	if (opt_str(args, "id", ID_LEN, &id, err) < 0)
		return NULL;
	if (!*id || !ids_valid(id)) {
		fail(err, MSG_E_BAD_REQUEST, "\"id\" must be a recording id (UUID)");
		return NULL;
	}
	if (!(r = rec_find(st->rec, id)))
		fail(err, MSG_E_NOT_FOUND, "no recording %s", id);
	return r;
}

struct start_args {
	const char *name, *game, *track, *car, *use_case, *notes;
};

static int start_args(json_t *args, struct start_args *a, struct cmd_err *err)
{
	static const char *const keys[] = { "name",     "game",  "track", "car",
					    "use_case", "notes", NULL };

	if (only_keys(args, keys, err) < 0 ||
	    opt_str(args, "name", REC_NAME_MAX - 1, &a->name, err) < 0 ||
	    opt_str(args, "game", IDS_GAME_MAX, &a->game, err) < 0 ||
	    opt_str(args, "track", META_STR - 1, &a->track, err) < 0 ||
	    opt_str(args, "car", META_STR - 1, &a->car, err) < 0 ||
	    opt_str(args, "use_case", 31, &a->use_case, err) < 0 ||
	    opt_str(args, "notes", REC_NOTES_MAX - 1, &a->notes, err) < 0)
		return -1;
	if (*a->game && !frame_game_id(a->game)) {
		fail(err, MSG_E_BAD_REQUEST, "unknown game \"%s\" (see games.list)", a->game);
		return -1;
	}
	if (*a->use_case && use_case_parse(a->use_case) < 0) {
		fail(err, MSG_E_BAD_REQUEST,
		     "\"use_case\" must be one of shift_points, car_grip, track_mapping, general");
		return -1;
	}
	return 0;
}

static struct recording *rec_new(const struct start_args *a)
{
	struct recording *r = calloc(1, sizeof *r);

	if (!r || ids_new(r->id) < 0) {
		free(r);
		return NULL;
	}
	copy(r->name, sizeof r->name, a->name);
	if (*a->game)
		copy(r->game, sizeof r->game, frame_game_name(frame_game_id(a->game)));
	copy(r->track, sizeof r->track, a->track);
	copy(r->car, sizeof r->car, a->car);
	copy(r->notes, sizeof r->notes, a->notes);
	r->use_case = *a->use_case ? use_case_parse(a->use_case) : -1;
	r->active = 1;
	r->started_ns = clock_now_ns();
	return r;
}

/* Every configured feed from "now"; a feed without a segment yet is read
 * from its ring's start once it appears. */
static int attach_feeds(struct store *st, struct recording *r)
{
	for (int i = 0; i < st->nfeeds; i++) {
		struct rec_feed *rf = rec_feed_get(r, st->feeds[i].name);
		struct seg *seg;

		if (!rf)
			return -ENOMEM;
		rf->min_t_ns = r->started_ns;
		if (!(seg = feed_seg(st, rf->name)))
			continue;
		seg_raw_cursor_now(seg, &rf->cur);
		rf->synced_cur = rf->cur;
		rf->min_t_ns = 0; /* a receive time may precede started_ns by a hair */
		rf->attached = 1;
		rf->seg_generation = seg_header(seg)->generation;
		rf->seg_start_ns = seg_header(seg)->start_ns;
	}
	return 0;
}

static json_t *h_start(struct store *st, json_t *args, struct cmd_err *err)
{
	struct recordings *rs = st->rec;
	struct start_args a;
	struct recording *r;
	char dir[IDS_PATH_MAX] = "";
	int rc;

	if (start_args(args, &a, err) < 0)
		return NULL;
	if (rs->active)
		return fail(err, MSG_E_CONFLICT, "recording %s is active: stop it first",
			    rs->active->id);
	if (rs->n >= REC_MAX)
		return fail(err, MSG_E_CONFLICT, "too many recordings (%d): delete some", REC_MAX);
	if (!(r = rec_new(&a)) || attach_feeds(st, r) < 0) {
		rec_free(r);
		return fail(err, MSG_E_INTERNAL, "out of memory");
	}
	if ((rc = rec_path(rs, r, NULL, dir, sizeof dir)) < 0 || (rc = atomicio_mkdirs(dir)) < 0 ||
	    (rc = manifest_save(rs, r)) < 0 || (rc = rec_add(rs, r)) < 0) {
		if (*dir)
			atomicio_rmtree(dir); /* nothing durable: no phantom */
		rec_free(r);
		return durability_error(err, rc, "cannot create the recording");
	}
	rs->active = r;
	rs->next_sync = clock_mono_ns() + REC_SYNC_NS;
	bus_publish(st, TOPIC_RECORDING_STARTED, event_json(r));
	log_info("msg=\"recording started\" recording=%s name=\"%s\"", r->id, r->name);
	return manifest_json(r, 0);
}

static json_t *h_stop(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "id", NULL };
	struct recording *r;
	const char *id;
	char what[128];
	int rc;

	if (only_keys(args, keys, err) < 0 || opt_str(args, "id", ID_LEN, &id, err) < 0)
		return NULL;
	if (!*id) {
		if (!(r = st->rec->active))
			return fail(err, MSG_E_CONFLICT, "no recording is active");
	} else if (!(r = need_recording(st, args, err))) {
		return NULL;
	} else if (!r->active) {
		return fail(err, MSG_E_CONFLICT, "recording %s is not active", r->id);
	}
	if ((rc = rec_stop(st, r, "stopped")) < 0) {
		snprintf(what, sizeof what, "recording %s stopped, its last second not saved",
			 r->id);
		return durability_error(err, rc, what);
	}
	return manifest_json(r, 0);
}

static json_t *h_list(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { NULL };
	json_t *a;

	if (only_keys(args, keys, err) < 0)
		return NULL;
	a = json_array();
	for (int i = 0; i < st->rec->n; i++)
		json_array_append_new(a, manifest_json(st->rec->v[i], 0));
	return a;
}

static json_t *h_get(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "id", NULL };
	struct recording *r;

	if (only_keys(args, keys, err) < 0 || !(r = need_recording(st, args, err)))
		return NULL;
	return manifest_json(r, 0);
}

static json_t *h_delete(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "id", NULL };
	struct recording *r;
	char dir[IDS_PATH_MAX];
	json_t *ev;
	int rc;

	if (only_keys(args, keys, err) < 0 || !(r = need_recording(st, args, err)))
		return NULL;
	if (r->active)
		rec_stop(st, r, "deleted");
	if ((rc = rec_path(st->rec, r, NULL, dir, sizeof dir)) < 0 ||
	    ((rc = atomicio_rmtree(dir)) < 0 && rc != -ENOENT))
		return fail(err, MSG_E_IO, "cannot delete recording %s: %s", r->id, strerror(-rc));
	ev = event_json(r);
	json_object_set_new(ev, "status", json_string("deleted"));
	log_info("msg=\"recording deleted\" recording=%s", r->id);
	rec_remove(st->rec, r);
	bus_publish(st, TOPIC_RECORDING_DELETED, ev);
	return json_null();
}

static json_t *h_data(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "id", "feed", NULL };
	struct recording *r;
	struct rec_feed *rf;
	const char *feed;
	char path[IDS_PATH_MAX];

	if (only_keys(args, keys, err) < 0 || !(r = need_recording(st, args, err)) ||
	    opt_str(args, "feed", IDS_NAME_MAX, &feed, err) < 0)
		return NULL;
	if (!ids_name_valid(feed))
		return fail(err, MSG_E_BAD_REQUEST, "\"feed\" must be a feed name");
	if (!(rf = rec_feed_find(r, feed)) || !rf->has_file || !rf->packets)
		return fail(err, MSG_E_NOT_FOUND, "recording %s has no data for feed %s", r->id,
			    feed);
	if (pcap_path(st->rec, r, feed, path, sizeof path) < 0)
		return fail(err, MSG_E_INTERNAL, "path too long");
	return json_pack("{s:s, s:I, s:I}", "path", path, "bytes", (json_int_t)rf->bytes, "packets",
			 (json_int_t)rf->packets);
}

const struct cmd_entry recording_commands[] = {
	{ "recording.start", h_start },
	{ "recording.stop", h_stop },
	{ "recording.list", h_list },
	{ "recording.get", h_get },
	{ "recording.delete", h_delete },
	{ "recording.data", h_data },
	{ NULL, NULL },
};
