/*
 * fuzz_manifest.c - fuzz target for manifest documents (common/manifest.h),
 * the body of PUT /api/manifests/{name}.
 *
 * Input: a JSON text; a text jansson refuses becomes the formula of the
 * first of two channels (the second uses it). abort() on a broken
 * invariant: manifest_parse gives 0 with a manifest or -EINVAL with no
 * manifest and a message; a manifest has 1..MANIFEST_CHANNELS_MAX channels,
 * each with a program, at most MANIFEST_INPUTS_MAX inputs; its canonical
 * document parses again to a manifest with the same document; applying it
 * to 8 frames made from the input's bytes (any channel present or not)
 * gives NaN or finite values, and the same values from a second state; the
 * CSV and JSON text of the values fits the length it reports.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FRAMES 8

static void check(int ok)
{
	if (!ok)
		abort();
}

static void make_frame(const uint8_t *data, size_t size, int k, struct pw_frame *f)
{
	uint8_t *b = (uint8_t *)f;

	for (size_t i = 0; i < sizeof *f; i++)
		b[i] = size ? data[(i * 31 + (size_t)k * 7) % size] : 0;
	f->game_time_s = 10 + k / 60.0;
	f->version = FRAME_VERSION;
}

static void check_text(const struct manifest *m, const double *v)
{
	static char buf[MANIFEST_CHANNELS_MAX * (MANIFEST_CHANNEL_MAX + MANIFEST_VALUE_MAX + 8)];
	size_t n;

	n = manifest_csv_header(m, buf, sizeof buf);
	check(n < sizeof buf && strlen(buf) == n);
	n = manifest_csv_cells(m, v, buf, sizeof buf);
	check(n < sizeof buf && strlen(buf) == n);
	n = manifest_json_members(m, v, buf, sizeof buf);
	check(n < sizeof buf && strlen(buf) == n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, 0, NULL), *canon = NULL, *canon2 = NULL;
	struct manifest *m = (struct manifest *)&doc, *again = NULL;
	struct manifest_eval *ev = NULL, *ev2 = NULL;
	char err[MANIFEST_ERR_MAX] = "";
	double a[MANIFEST_CHANNELS_MAX], b[MANIFEST_CHANNELS_MAX];
	int rc;

	if (!doc)
		doc = json_pack("{s:[{s:s, s:s%}, {s:s, s:s}]}", "channels", "name", "x", "formula",
				(const char *)data, size, "name", "y", "formula", "x + speed_kmh");
	if (!doc)
		return 0; /* not UTF-8 */
	rc = manifest_parse(doc, "m", &m, err, sizeof err);
	check(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
	if (rc != 0) {
		check(m == NULL && err[0]);
		json_decref(doc);
		return 0;
	}
	check(m && m->nchannels >= 1 && m->nchannels <= MANIFEST_CHANNELS_MAX);
	check(m->ninputs <= MANIFEST_INPUTS_MAX);
	for (size_t i = 0; i < m->nchannels; i++)
		check(m->ch[i].prog && m->ch[i].name[0] && m->ch[i].formula);
	canon = manifest_json(m);
	check(canon && manifest_parse(canon, "m", &again, err, sizeof err) == 0);
	canon2 = manifest_json(again);
	check(canon2 && json_equal(canon, canon2));
	check(manifest_eval_new(m, &ev) == 0 && manifest_eval_new(again, &ev2) == 0);
	for (int k = 0; k < FRAMES; k++) {
		struct pw_frame f;
		size_t have;

		make_frame(data, size, k, &f);
		have = manifest_apply(ev, &f, a);
		check(have <= m->nchannels);
		manifest_apply(ev2, &f, b);
		for (size_t i = 0; i < m->nchannels; i++) {
			check(isnan(a[i]) || isfinite(a[i]));
			check(memcmp(&a[i], &b[i], sizeof a[i]) == 0 ||
			      (isnan(a[i]) && isnan(b[i])));
		}
		check_text(m, a);
	}
	manifest_eval_free(ev);
	manifest_eval_free(ev2);
	json_decref(canon);
	json_decref(canon2);
	manifest_free(again);
	manifest_free(m);
	json_decref(doc);
	return 0;
}
