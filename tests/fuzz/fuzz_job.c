/*
 * fuzz_job.c - fuzz target for the job and result decoders (common/job.h).
 *
 * Input: u8 what (bit 0: a result, else a job), then for a job u8 nparts
 * (1..4, more is taken mod 4 + 1) and nparts parts, each a u32 length
 * (little-endian; cut to what is left) and its bytes; for a result the rest
 * of the input is the result. abort() on a broken invariant: a decoded job
 * has one run per part: frames (nframes x frame size bytes of frames of
 * FRAME_VERSION), a frame file image loaded to exactly nframes frames with
 * increasing seqs, or an absolute .frames path with no bytes; non-NULL
 * strings, a kind that has a name, and encodes again into a header that
 * decodes to the same fields; a decoded result is ok with an object or
 * failed with a code, and encodes again to the same; a refusal says why.
 * Seeds: jobs of every kind and encoding, results.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PARTS 4

static void check(int ok)
{
	if (!ok)
		abort();
}

static int same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static void check_job(const struct job *j, const struct job_part *parts, size_t nparts)
{
	struct job again;
	struct job_part p[MAX_PARTS];
	char err[256], *hdr;

	check(j->nruns == nparts - 1 && job_kind_name(j->kind) != NULL);
	check(j->job_id && *j->job_id && j->session_id && j->use_case && j->car_name && j->game &&
	      j->track);
	for (size_t i = 0; i < j->nruns; i++) {
		const struct job_run *r = &j->runs[i];
		check(r->run_id && r->feed_name && r->label);
		check(!(r->channels & ~FRAME_P_ALL) && !(r->parts & ~FRAMECOLS_HEAD));
		if (r->encoding == JOB_ENC_FRAMEFILE) {
			check(!r->frames && r->cols.n == r->nframes && r->cols.seq);
			for (size_t k = 1; k < r->cols.n; k++)
				check(r->cols.seq[k] > r->cols.seq[k - 1]);
			continue;
		}
		if (r->encoding == JOB_ENC_PATH) {
			check(!r->frames && parts[i + 1].len == 0 && r->path && r->path[0] == '/' &&
			      strlen(r->path) >= 8 &&
			      !strcmp(r->path + strlen(r->path) - 7, ".frames"));
			continue;
		}
		check(r->encoding == JOB_ENC_FRAMES);
		check(r->nframes * sizeof(struct pw_frame) == parts[i + 1].len);
		for (size_t k = 0; k < r->nframes; k++) {
			struct pw_frame in;

			/* the part's frame, brought to this version (version 1 frames are upgraded) */
			memcpy(&in, (const char *)parts[i + 1].data + k * sizeof in, sizeof in);
			check(frame_upgrade(&in) == 0 &&
			      memcmp(&in, &r->frames[k], sizeof in) == 0);
			check(r->frames[k].version == FRAME_VERSION);
		}
	}
	if (j->kind == JOB_TRACK_BUILD)
		check(same(j->use_case, "track_mapping") && *j->game && *j->track);
	check(j->kind == JOB_LAP ? j->lap_number >= 1 && j->lap_number <= INT32_MAX
				 : j->lap_number == 0 && !j->suppress);
	check(!j->suppress || json_array_size(j->suppress) <= JOB_MAX_SUPPRESS);
	hdr = job_encode(j);
	check(hdr != NULL);
	p[0] = (struct job_part){ hdr, strlen(hdr) };
	for (size_t i = 1; i < nparts; i++)
		p[i] = parts[i];
	check(job_decode(&again, p, nparts, err, sizeof err) == 0);
	check(again.kind == j->kind && same(again.job_id, j->job_id) &&
	      same(again.session_id, j->session_id) && same(again.use_case, j->use_case) &&
	      same(again.car_name, j->car_name) && same(again.game, j->game) &&
	      same(again.track, j->track) && again.deadline_ms == j->deadline_ms &&
	      again.nruns == j->nruns && !again.track_model == !j->track_model &&
	      again.lap_number == j->lap_number &&
	      (!again.suppress ? !j->suppress
			       : json_equal((json_t *)again.suppress, (json_t *)j->suppress)));
	for (size_t i = 0; i < j->nruns; i++)
		check(same(again.runs[i].run_id, j->runs[i].run_id) &&
		      same(again.runs[i].label, j->runs[i].label) &&
		      again.runs[i].nframes == j->runs[i].nframes &&
		      again.runs[i].encoding == j->runs[i].encoding &&
		      (j->runs[i].encoding == JOB_ENC_FRAMES ||
		       (again.runs[i].channels == j->runs[i].channels &&
			again.runs[i].parts == j->runs[i].parts)) &&
		      (j->runs[i].encoding != JOB_ENC_PATH ||
		       same(again.runs[i].path, j->runs[i].path)));
	job_release(&again);
	free(hdr);
}

static void fuzz_job(const uint8_t *data, size_t size)
{
	struct job_part parts[MAX_PARTS];
	struct job j;
	size_t nparts, at = 1;
	char err[256] = "";
	int rc;

	if (size < 1)
		return;
	nparts = (size_t)data[0] % MAX_PARTS + 1;
	for (size_t i = 0; i < nparts; i++) {
		uint32_t len = 0;
		if (at + 4 <= size)
			len = (uint32_t)data[at] | (uint32_t)data[at + 1] << 8 |
			      (uint32_t)data[at + 2] << 16 | (uint32_t)data[at + 3] << 24;
		at = at + 4 <= size ? at + 4 : size;
		if (len > size - at)
			len = (uint32_t)(size - at);
		parts[i] = (struct job_part){ data + at, len };
		at += len;
	}
	rc = job_decode(&j, parts, nparts, err, sizeof err);
	if (rc == 0)
		check_job(&j, parts, nparts);
	else
		check((rc == -EPROTO || rc == -ENOMEM) && (rc == -ENOMEM || err[0]));
	job_release(&j);
}

static void fuzz_result(const uint8_t *data, size_t size)
{
	struct job_result r, again;
	char err[256] = "", *text;
	int rc = job_result_decode(&r, data, size, err, sizeof err);

	if (rc < 0) {
		check(rc == -EPROTO && err[0]);
		job_result_release(&r);
		return;
	}
	check(r.job_id && *r.job_id && r.session_id);
	check(r.ok ? json_is_object(r.analysis) : r.code && *r.code && r.message != NULL);
	text = job_result_encode(JOB_TRACK_BUILD, r.job_id, r.session_id, r.ok ? r.analysis : NULL,
				 r.code, r.message);
	check(text && job_result_decode(&again, text, strlen(text), err, sizeof err) == 0);
	check(again.ok == r.ok && same(again.job_id, r.job_id) &&
	      same(again.session_id, r.session_id));
	check(r.ok ? json_equal((json_t *)again.analysis, (json_t *)r.analysis)
		   : same(again.code, r.code) && same(again.message, r.message));
	job_result_release(&again);
	job_result_release(&r);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_result(data + 1, size - 1);
	else
		fuzz_job(data + 1, size - 1);
	return 0;
}
