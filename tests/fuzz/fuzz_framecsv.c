/*
 * fuzz_framecsv.c - fuzz target for frames read back from CSV
 * (common/framecsv.h), the file pw-replay --csv reads.
 *
 * Input: a CSV text; its first line is the header, the rest rows. abort()
 * on a broken invariant: framecsv_open gives 0 with a map or -EINVAL with
 * none and a message; each row gives 0 or -EINVAL with a message; a row read
 * gives a frame of FRAME_VERSION whose derived marks are among its present
 * channels, whose CSV (frame_to_csv) reads back under the full header to a
 * frame with the same CSV again.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/framecsv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static struct framecsv *full_map(void)
{
	static char header[8192];
	struct framecsv *m = NULL;
	size_t n = frame_csv_header(header, sizeof header);

	check(framecsv_open(&m, header, n, NULL, 0) == 0);
	return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char a[8192], b[8192];
	const char *p = (const char *)data, *end = p + size, *nl;
	struct framecsv *m = NULL, *full = full_map();
	char err[FRAMECSV_ERR_MAX] = "";
	uint64_t line = 1;
	int rc;

	nl = memchr(p, '\n', size);
	rc = framecsv_open(&m, p, nl ? (size_t)(nl - p) + 1 : size, err, sizeof err);
	check(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
	check(rc == 0 ? m != NULL : m == NULL && err[0]);
	for (p = nl ? nl + 1 : end; m && p < end; p = nl ? nl + 1 : end) {
		struct pw_frame f, g;
		double t;
		size_t len;

		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		err[0] = 0;
		rc = framecsv_row(m, p, len, ++line, &f, &t, err, sizeof err);
		check(rc == 0 || (rc == -EINVAL && err[0]));
		if (rc < 0)
			continue;
		check(f.version == FRAME_VERSION && (f.derived & ~f.present) == 0);
		len = frame_to_csv(&f, a, sizeof a);
		check(len < sizeof a);
		check(framecsv_row(full, a, len, line, &g, NULL, err, sizeof err) == 0);
		check(frame_to_csv(&g, b, sizeof b) == len && memcmp(a, b, len) == 0);
	}
	framecsv_free(m);
	framecsv_free(full);
	return 0;
}
