/*
 * t.h - the unit-test harness: one PASS/FAIL line per test case on stdout.
 *
 * tests/run.sh counts the "PASS name" and "FAIL name" lines of every test
 * program; a program that exits non-zero without a FAIL line counts as one
 * failure. Usage:
 *
 *     static void test_wrap(void) { T_CHECK(x == 1); T_NEAR(v, 3.6, 1e-6); }
 *     int main(void) { T_RUN(test_wrap); return T_DONE(); }
 *
 * Fixtures: t_data_path("ac_remote/x.raw") resolves against $PW_TEST_DATA
 * (default tests/data, the runner runs from the repository root).
 */
#ifndef PW_T_H
#define PW_T_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_case_failed, t_pass, t_fail;

#define T_CHECK(c)                                                                        \
	do {                                                                              \
		if (!(c)) {                                                               \
			fprintf(stderr, "  check failed %s:%d: %s\n", __FILE__, __LINE__, #c); \
			t_case_failed = 1;                                                \
		}                                                                         \
	} while (0)

#define T_CHECKF(c, ...)                                                                  \
	do {                                                                              \
		if (!(c)) {                                                               \
			fprintf(stderr, "  check failed %s:%d: %s: ", __FILE__, __LINE__, #c);  \
			fprintf(stderr, __VA_ARGS__);                                     \
			fputc('\n', stderr);                                              \
			t_case_failed = 1;                                                \
		}                                                                         \
	} while (0)

#define T_NEAR(a, b, eps)                                                                 \
	do {                                                                              \
		double t_a_ = (double)(a), t_b_ = (double)(b);                           \
		if (!(fabs(t_a_ - t_b_) <= (double)(eps))) {                              \
			fprintf(stderr, "  check failed %s:%d: %s ~ %s: %.9g vs %.9g\n",  \
				__FILE__, __LINE__, #a, #b, t_a_, t_b_);                  \
			t_case_failed = 1;                                                \
		}                                                                         \
	} while (0)

#define T_RUN(fn)                                                                         \
	do {                                                                              \
		t_case_failed = 0;                                                        \
		fn();                                                                     \
		printf("%s %s\n", t_case_failed ? "FAIL" : "PASS", #fn);                  \
		fflush(stdout);                                                           \
		if (t_case_failed)                                                        \
			t_fail++;                                                         \
		else                                                                      \
			t_pass++;                                                         \
	} while (0)

#define T_DONE() (fprintf(stderr, "# %d passed, %d failed\n", t_pass, t_fail), t_fail ? 1 : 0)

static inline const char *t_data_path(const char *rel)
{
	static char buf[4096];
	const char *dir = getenv("PW_TEST_DATA");
	snprintf(buf, sizeof buf, "%s/%s", dir && *dir ? dir : "tests/data", rel);
	return buf;
}

/* Read a whole fixture; returns malloc'd bytes (caller frees) or NULL. */
static inline unsigned char *t_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b = NULL;
	long n;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		b = malloc((size_t)n + 1);
		if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
			free(b);
			b = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return b;
}

/* A document of the repository ("docs/api.md", "README.md": relative to its
 * root, found from $PW_TEST_DATA) as a NUL-terminated string the caller
 * frees, or NULL. */
static inline char *t_read_doc(const char *rel)
{
	char path[256];
	size_t len;
	char *text;

	snprintf(path, sizeof path, "../../%s", rel);
	text = (char *)t_read_file(t_data_path(path), &len);
	if (text)
		text[len] = 0; /* t_read_file leaves room for it */
	return text;
}

#endif
