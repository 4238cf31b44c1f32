/*
 * t.h - the unit-test harness: one PASS/FAIL line per test case on stdout.
 *
 * tests/run.sh counts the "PASS name" and "FAIL name" lines of every test
 * program; a program that exits non-zero without a FAIL line counts as one
 * failure. Usage:
 *
 *     static void test_wrap(void) { T_EQ(x, 1); T_NEAR(v, 3.6, 1e-6); }
 *     int main(void) { T_RUN(test_wrap); return T_DONE(); }
 *
 * Assertions (a failed one marks the case failed, prints file:line, the
 * expression and, except T_CHECK, both sides on stderr, and carries on):
 *   T_CHECK(c)           c is true (anything: a predicate, && of several)
 *   T_CHECKF(c, fmt...)  c is true, else also print fmt...
 *   T_EQ(a, b) T_NE T_LT T_LE T_GT T_GE
 *                        a == b (!=, <, <=, >, >=) exactly as C compares them
 *                        (the usual arithmetic conversions); integers, floats,
 *                        enums, pointers. Each side is evaluated once.
 *   T_NEAR(a, b, eps)    |a - b| <= eps, compared as doubles
 *   T_STREQ(a, b)        two NUL-terminated strings are equal (NULL fails)
 *   T_MEMEQ(a, b, n)     n bytes at a and b are equal; prints the first
 *                        difference
 *
 * Fixtures: t_data_path("ac_remote/x.raw") resolves against $PW_TEST_DATA
 * (default tests/data, the runner runs from the repository root).
 * T_STRSET(dst, s) / T_STRCAT(dst, s) copy / append to a char array and fail
 * the case when s does not fit (a cut fixture would test something else).
 */
#ifndef PW_T_H
#define PW_T_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_case_failed, t_pass, t_fail;

#define T_CHECK(c)                                                                             \
	do {                                                                                   \
		if (!(c)) {                                                                    \
			fprintf(stderr, "  check failed %s:%d: %s\n", __FILE__, __LINE__, #c); \
			t_case_failed = 1;                                                     \
		}                                                                              \
	} while (0)

#define T_CHECKF(c, ...)                                                                       \
	do {                                                                                   \
		if (!(c)) {                                                                    \
			fprintf(stderr, "  check failed %s:%d: %s: ", __FILE__, __LINE__, #c); \
			fprintf(stderr, __VA_ARGS__);                                          \
			fputc('\n', stderr);                                                   \
			t_case_failed = 1;                                                     \
		}                                                                              \
	} while (0)

#define T_NEAR(a, b, eps)                                                                          \
	do {                                                                                       \
		double t_a_ = (double)(a), t_b_ = (double)(b);                                     \
		if (!(fabs(t_a_ - t_b_) <= (double)(eps))) {                                       \
			fprintf(stderr, "  check failed %s:%d: %s ~ %s: %.9g vs %.9g\n", __FILE__, \
				__LINE__, #a, #b, t_a_, t_b_);                                     \
			t_case_failed = 1;                                                         \
		}                                                                                  \
	} while (0)

/*
 * T_EQ and friends keep C's own comparison: each side is copied once into a
 * variable of its promoted type (__typeof__((x) + 0): arrays decay, chars and
 * bit-fields promote) and compared with the operator as written. The
 * sign-compare warning is silenced inside the macro only because the copies
 * turn a constant such as 0 into a variable of type int; the conversion C
 * applies is the same as in `a == b`.
 */
struct t_val_ {
	char s[64];
};

static inline struct t_val_ t_fmt_ll_(long long v)
{
	struct t_val_ r;
	snprintf(r.s, sizeof r.s, "%lld", v);
	return r;
}

static inline struct t_val_ t_fmt_ull_(unsigned long long v)
{
	struct t_val_ r;
	if (v > 0xffff)
		snprintf(r.s, sizeof r.s, "%llu (0x%llx)", v, v);
	else
		snprintf(r.s, sizeof r.s, "%llu", v);
	return r;
}

static inline struct t_val_ t_fmt_dbl_(double v)
{
	struct t_val_ r;
	snprintf(r.s, sizeof r.s, "%.17g", v);
	return r;
}

static inline struct t_val_ t_fmt_flt_(float v)
{
	struct t_val_ r;
	snprintf(r.s, sizeof r.s, "%.9g", (double)v);
	return r;
}

static inline struct t_val_ t_fmt_ldbl_(long double v)
{
	struct t_val_ r;
	snprintf(r.s, sizeof r.s, "%.21Lg", v);
	return r;
}

static inline struct t_val_ t_fmt_ptr_(const volatile void *v)
{
	struct t_val_ r;
	snprintf(r.s, sizeof r.s, "%p", (const void *)v);
	return r;
}

#define T_FMT_(v)                                 \
	_Generic((v), int                         \
		 : t_fmt_ll_, long                \
		 : t_fmt_ll_, long long           \
		 : t_fmt_ll_, unsigned int        \
		 : t_fmt_ull_, unsigned long      \
		 : t_fmt_ull_, unsigned long long \
		 : t_fmt_ull_, float              \
		 : t_fmt_flt_, double             \
		 : t_fmt_dbl_, long double        \
		 : t_fmt_ldbl_, default           \
		 : t_fmt_ptr_)(v)

#define T_CMP_(a, op, b)                                                                        \
	do {                                                                                    \
		_Pragma("GCC diagnostic push") _Pragma(                                         \
			"GCC diagnostic ignored \"-Wsign-compare\"") __typeof__((a) + 0) t_a_ = \
			(a);                                                                    \
		__typeof__((b) + 0) t_b_ = (b);                                                 \
		if (!(t_a_ op t_b_)) {                                                          \
			fprintf(stderr, "  check failed %s:%d: %s %s %s: %s vs %s\n", __FILE__, \
				__LINE__, #a, #op, #b, T_FMT_(t_a_).s, T_FMT_(t_b_).s);         \
			t_case_failed = 1;                                                      \
		}                                                                               \
		_Pragma("GCC diagnostic pop")                                                   \
	} while (0)

#define T_EQ(a, b) T_CMP_(a, ==, b)
#define T_NE(a, b) T_CMP_(a, !=, b)
#define T_LT(a, b) T_CMP_(a, <, b)
#define T_LE(a, b) T_CMP_(a, <=, b)
#define T_GT(a, b) T_CMP_(a, >, b)
#define T_GE(a, b) T_CMP_(a, >=, b)

#define T_STREQ(a, b)                                                                         \
	do {                                                                                  \
		const char *t_sa_ = (a), *t_sb_ = (b);                                        \
		if (!t_sa_ || !t_sb_ || strcmp(t_sa_, t_sb_) != 0) {                          \
			fprintf(stderr, "  check failed %s:%d: %s == %s: \"%s\" vs \"%s\"\n", \
				__FILE__, __LINE__, #a, #b, t_sa_ ? t_sa_ : "(null)",         \
				t_sb_ ? t_sb_ : "(null)");                                    \
			t_case_failed = 1;                                                    \
		}                                                                             \
	} while (0)

/* Print where n bytes at a and b first differ, with up to 8 bytes from there. */
static inline void t_memdiff_(const char *file, int line, const char *ea, const char *eb,
			      const void *a, const void *b, size_t n)
{
	const unsigned char *pa = a, *pb = b;
	size_t i = 0;

	while (i < n && pa[i] == pb[i])
		i++;
	fprintf(stderr, "  check failed %s:%d: %s == %s (%zu bytes): differ at byte %zu:", file,
		line, ea, eb, n, i);
	for (size_t k = i; k < n && k < i + 8; k++)
		fprintf(stderr, " %02x", pa[k]);
	fprintf(stderr, " vs");
	for (size_t k = i; k < n && k < i + 8; k++)
		fprintf(stderr, " %02x", pb[k]);
	fputc('\n', stderr);
}

#define T_MEMEQ(a, b, n)                                                             \
	do {                                                                         \
		const void *t_ma_ = (a), *t_mb_ = (b);                               \
		size_t t_mn_ = (n);                                                  \
		if (memcmp(t_ma_, t_mb_, t_mn_) != 0) {                              \
			t_memdiff_(__FILE__, __LINE__, #a, #b, t_ma_, t_mb_, t_mn_); \
			t_case_failed = 1;                                           \
		}                                                                    \
	} while (0)

/* Copy (at = 0) or append (at = strlen(dst)) s to dst[cap]; fails the case when it
 * does not fit, leaving dst unchanged. */
static inline void t_strput_(char *dst, size_t cap, size_t at, const char *s, const char *file,
			     int line)
{
	size_t n = strlen(s);

	if (at >= cap || n >= cap - at) {
		fprintf(stderr, "  check failed %s:%d: \"%s\" does not fit %zu bytes\n", file, line,
			s, cap - (at < cap ? at : cap));
		t_case_failed = 1;
		return;
	}
	memcpy(dst + at, s, n + 1);
}

#define T_STRSET(dst, s) t_strput_((dst), sizeof(dst), 0, (s), __FILE__, __LINE__)
#define T_STRCAT(dst, s) t_strput_((dst), sizeof(dst), strlen(dst), (s), __FILE__, __LINE__)

#define T_RUN(fn)                                                        \
	do {                                                             \
		t_case_failed = 0;                                       \
		fn();                                                    \
		printf("%s %s\n", t_case_failed ? "FAIL" : "PASS", #fn); \
		fflush(stdout);                                          \
		if (t_case_failed)                                       \
			t_fail++;                                        \
		else                                                     \
			t_pass++;                                        \
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
