/*
 * test_numfmt.c - common/numfmt.h: numfmt_f32 against the C library on a
 * million bit patterns spread over every float (each reads back exactly,
 * and has as few digits as the shortest %.{1..9}g that reads back, with the
 * same value), hand-picked values and notations, numfmt_fixed rounding,
 * the integers at their limits, and numfmt_g32 / numfmt_g64 byte for byte
 * against the printf rule they replace (%.6g or %.9g, %.15g or %.17g) on
 * bit patterns spread over every float and double, telemetry-like values,
 * every float around each power of ten and the notation boundaries.
 */
#include <float.h>
#include <stdint.h>

#include "common/numfmt.h"
#include "t.h"

static float from_bits(uint32_t b)
{
	float f;

	memcpy(&f, &b, sizeof f);
	return f;
}

static const char *f32(float v)
{
	static char buf[NUMFMT_MAX + 1];

	buf[numfmt_f32(buf, v)] = 0;
	return buf;
}

static const char *fixed(double v, int dec)
{
	static char buf[NUMFMT_MAX + 1];

	buf[numfmt_fixed(buf, v, dec)] = 0;
	return buf;
}

/* The fewest significant digits %.{p}g needs to read back as v, and that text. */
static int libc_shortest(float v, char *text, size_t cap)
{
	for (int p = 1; p <= 9; p++) {
		snprintf(text, cap, "%.*g", p, (double)v);
		if (strtof(text, NULL) == v)
			return p;
	}
	return 0;
}

static int digit_count(const char *s)
{
	int n = 0, lead = 1;
	const char *e = strchr(s, 'e');

	for (; *s && s != e; s++) {
		if (*s < '0' || *s > '9')
			continue;
		if (lead && *s == '0')
			continue;
		lead = 0;
		n++;
	}
	/* trailing zeros of an integer written positionally are not significant */
	if (!strchr(s - n, '.') && !e)
		for (const char *p = s - 1; n > 1 && *p == '0'; p--)
			n--;
	return n ? n : 1;
}

static void test_f32_sweep(void)
{
	char ref[64];
	unsigned long checked = 0, bad = 0;

	for (uint64_t b = 0; b < (1ull << 32); b += 4099) {
		float v = from_bits((uint32_t)b);
		const char *s;
		int p;

		if (!isfinite(v) || v == 0)
			continue;
		s = f32(v);
		p = libc_shortest(v, ref, sizeof ref);
		checked++;
		if (strtof(s, NULL) != v || digit_count(s) != p ||
		    strtod(s, NULL) != strtod(ref, NULL)) {
			if (bad++ < 5)
				fprintf(stderr, "  bits 0x%08x: numfmt %s, libc %s (%d digits)\n",
					(unsigned)b, s, ref, p);
		}
	}
	T_EQ(bad, 0);
	T_GT(checked, 1000000);
}

static void test_f32_values(void)
{
	T_STREQ(f32(0.0f), "0");
	T_STREQ(f32(-0.0f), "-0");
	T_STREQ(f32(1.0f), "1");
	T_STREQ(f32(-1.0f), "-1");
	T_STREQ(f32(0.1f), "0.1");
	T_STREQ(f32(0.3f), "0.3");
	T_STREQ(f32(123.456f), "123.456");
	T_STREQ(f32(1e-5f), "0.00001");
	T_STREQ(f32(1.5e-5f), "0.000015");
	T_STREQ(f32(1.5e-6f), "1.5e-06");
	T_STREQ(f32(1.5e-7f), "1.5e-07");
	T_STREQ(f32(16777216.0f), "16777216");
	T_STREQ(f32(1e15f), "1000000000000000");
	T_STREQ(f32(1e16f), "1e+16");
	T_STREQ(f32(FLT_MAX), "3.4028235e+38");
	T_STREQ(f32(FLT_MIN), "1.1754944e-38");
	T_STREQ(f32(from_bits(1)), "1e-45"); /* the smallest subnormal */
	T_STREQ(f32(7959.0f), "7959");
	T_STREQ(f32(252.2f), "252.2");
	T_STREQ(f32(-0.000171910564f), "-0.00017191056");
	T_STREQ(f32(from_bits(0x7f800000)), "inf");
	T_STREQ(f32(from_bits(0xff800000)), "-inf");
	T_STREQ(f32(from_bits(0x7fc00000)), "nan");
	/* powers of ten and of two round-trip with their short form */
	for (int e = -30; e <= 30; e++) {
		float v = powf(10.0f, (float)e);
		T_CHECKF(strtof(f32(v), NULL) == v, "10^%d -> %s", e, f32(v));
	}
	/* whole numbers (a fast path) print as integers */
	for (int32_t i = -16777216; i <= 16777216; i += 997) {
		char want[16];

		snprintf(want, sizeof want, "%d", i);
		T_CHECKF(strcmp(f32((float)i), want) == 0 || 0, "%d -> %s", i, f32((float)i));
	}
	T_STREQ(f32(16777216.0f), "16777216");
	T_STREQ(f32(33554432.0f), "33554432");
	for (int e = -149; e <= 127; e++) {
		float v = ldexpf(1.0f, e);
		T_CHECKF(strtof(f32(v), NULL) == v, "2^%d -> %s", e, f32(v));
	}
}

static void test_fixed(void)
{
	T_STREQ(fixed(0.0, 6), "0");
	T_STREQ(fixed(-0.0, 6), "0");
	T_STREQ(fixed(1.5, 6), "1.5");
	T_STREQ(fixed(-1.5, 6), "-1.5");
	T_STREQ(fixed(1.0 / 60.0, 6), "0.016667");
	T_STREQ(fixed(2.0 / 3.0, 3), "0.667");
	T_STREQ(fixed(12.0, 6), "12");
	T_STREQ(fixed(3599.9999996, 6), "3600");
	T_STREQ(fixed(0.0000004, 6), "0");
	T_STREQ(fixed(-0.0000004, 6), "0"); /* no "-0" for a value that rounds to 0 */
	T_STREQ(fixed(0.0000005, 6), "0.000001");
	T_STREQ(fixed(123.456789, 0), "123");
	T_STREQ(fixed(7.25, 1), "7.3");                  /* half away from zero */
	T_STREQ(fixed(1.23456789, 12), "1.23456789");    /* decimals capped at 9 */
	T_CHECK(strtod(fixed(1e300, 6), NULL) == 1e300); /* too big for the integer path */
}

/* frame.c's rule before numfmt_g32 / numfmt_g64: what they must write. */
static const char *g_libc(double v, int is_double)
{
	static char buf[64];

	snprintf(buf, sizeof buf, "%.*g", is_double ? 15 : 6, v);
	if (is_double ? strtod(buf, NULL) != v : strtof(buf, NULL) != (float)v)
		snprintf(buf, sizeof buf, "%.*g", is_double ? 17 : 9, v);
	return buf;
}

static int g_same32(float v, int *shown)
{
	char got[NUMFMT_MAX + 1];
	const char *want = g_libc(v, 0);

	got[numfmt_g32(got, v)] = 0;
	if (strcmp(got, want) == 0)
		return 1;
	if ((*shown)++ < 10)
		fprintf(stderr, "  float %a: numfmt_g32 %s, printf %s\n", (double)v, got, want);
	return 0;
}

static int g_same64(double v, int *shown)
{
	char got[NUMFMT_MAX + 1];
	const char *want = g_libc(v, 1);

	got[numfmt_g64(got, v)] = 0;
	if (strcmp(got, want) == 0)
		return 1;
	if ((*shown)++ < 10)
		fprintf(stderr, "  double %a: numfmt_g64 %s, printf %s\n", v, got, want);
	return 0;
}

static void test_g(void)
{
	static const float f_special[] = {
		0.0f,      -0.0f,    1.0f,        -1.0f,  0.1f,      1e6f,       999999.94f,
		999999.5f, 1e-4f,    9.99999e-5f, 1e-5f,  123456.7f, 1234567.0f, 16777216.0f,
		FLT_MAX,   -FLT_MAX, FLT_MIN,     1e-45f, 3.4e38f,   1e10f,      0.5f
	};
	static const double d_special[] = { 0.0,
					    -0.0,
					    1.0,
					    0.1,
					    1e15,
					    1e16,
					    123456789012345.0,
					    1e-4,
					    1e-5,
					    2.0 / 3,
					    DBL_MAX,
					    DBL_MIN,
					    5e-324,
					    1e300,
					    0.30000000000000004,
					    1750000000.123456 };
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int shown = 0, bad = 0;

	for (size_t i = 0; i < sizeof f_special / sizeof *f_special; i++)
		bad += !g_same32(f_special[i], &shown) + !g_same32(-f_special[i], &shown);
	for (size_t i = 0; i < sizeof d_special / sizeof *d_special; i++)
		bad += !g_same64(d_special[i], &shown) + !g_same64(-d_special[i], &shown);
	/* every float within 64 ulps of each power of ten and of 10^k - 0.5 ulp */
	for (int k = -44; k <= 38; k++) {
		float p;
		char t[16];

		snprintf(t, sizeof t, "1e%d", k);
		p = strtof(t, NULL);
		for (int d = -64; d <= 64; d++) {
			uint32_t b;

			memcpy(&b, &p, 4);
			b += (uint32_t)d;
			bad += !g_same32(from_bits(b), &shown);
		}
	}
	/* bit patterns over every float and double, and values like a frame's */
	for (int i = 0; i < 400000; i++) {
		uint64_t r;
		float f;
		double d;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		r = x;
		f = from_bits((uint32_t)r);
		memcpy(&d, &r, 8);
		if (isfinite(f))
			bad += !g_same32(f, &shown);
		if (isfinite(d))
			bad += !g_same64(d, &shown);
		bad += !g_same32((float)((int64_t)(r >> 20) % 2000000) / 1000.0f, &shown);
		bad += !g_same32((float)(r % 300000) / 7.0f - 100.0f, &shown);
		bad += !g_same64((double)i * 0.003003 + (double)(r % 1000), &shown);
		bad += !g_same64(1.75e9 + (double)(r % 1000000000) * 1e-6, &shown);
	}
	T_CHECKF(bad == 0, "%d values differ from printf", bad);
}

static void test_integers(void)
{
	char b[NUMFMT_MAX + 1];

	b[numfmt_i64(b, 0)] = 0;
	T_STREQ(b, "0");
	b[numfmt_i64(b, -42)] = 0;
	T_STREQ(b, "-42");
	b[numfmt_i64(b, INT64_MIN)] = 0;
	T_STREQ(b, "-9223372036854775808");
	b[numfmt_i64(b, INT64_MAX)] = 0;
	T_STREQ(b, "9223372036854775807");
	b[numfmt_u64(b, UINT64_MAX)] = 0;
	T_STREQ(b, "18446744073709551615");
}

int main(void)
{
	T_RUN(test_f32_sweep);
	T_RUN(test_f32_values);
	T_RUN(test_fixed);
	T_RUN(test_integers);
	T_RUN(test_g);
	return T_DONE();
}
