/* numfmt.c - see numfmt.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/numfmt.h"

/*
 * Ryu for binary32. A float is m2 * 2^e2; the interval of decimals that read
 * back as it is (mm, mp) around 4 * m2 (mv). Scaling by 10^-q with one 64-bit
 * multiplication (by 2^k / 5^q or 5^-q / 2^k, rounded) gives the interval's
 * ends as integers vm < vr < vp; digits are removed while the interval still
 * holds a shorter number, then vr is rounded with the last removed digit.
 */
#define MANTISSA_BITS 23
#define EXPONENT_BITS 8
#define BIAS 127
#define POW5_INV_BITCOUNT 59
#define POW5_BITCOUNT 61
#define POW5_INV_COUNT 31
#define POW5_COUNT 47

static uint64_t pow5_inv[POW5_INV_COUNT]; /* floor(2^(pow5bits(i) - 1 + 59) / 5^i) + 1 */
static uint64_t pow5[POW5_COUNT];         /* 5^i scaled to 61 significant bits */

/* ceil(log2(5^e)) for e >= 1, 1 for e == 0 */
static int32_t pow5bits(int32_t e)
{
	return (int32_t)(((uint32_t)e * 1217359) >> 19) + 1;
}

/* floor(e * log10(2)) and floor(e * log10(5)), e >= 0 */
static uint32_t log10_pow2(int32_t e)
{
	return ((uint32_t)e * 78913) >> 18;
}

static uint32_t log10_pow5(int32_t e)
{
	return ((uint32_t)e * 732923) >> 20;
}

/* Built before main (a constructor), so the hot path checks nothing. */
__attribute__((constructor)) static void tables_build(void)
{
	unsigned __int128 p = 1;

	for (int i = 0; i < POW5_COUNT; i++, p *= 5) {
		int bits = pow5bits(i);

		pow5[i] = bits > POW5_BITCOUNT ? (uint64_t)(p >> (bits - POW5_BITCOUNT))
					       : (uint64_t)(p << (POW5_BITCOUNT - bits));
		if (i >= POW5_INV_COUNT)
			continue;
		/* 2^128 does not fit: floor((2^128 - 1) / p) is the same, p being no power of 2 */
		if (bits - 1 + POW5_INV_BITCOUNT >= 128)
			pow5_inv[i] = (uint64_t)(~(unsigned __int128)0 / p) + 1;
		else
			pow5_inv[i] = (uint64_t)(((unsigned __int128)1
						  << (bits - 1 + POW5_INV_BITCOUNT)) /
						 p) +
				      1;
	}
}

static uint32_t mul_shift(uint32_t m, uint64_t factor, int32_t shift)
{
	return (uint32_t)(((unsigned __int128)m * factor) >> shift);
}

static uint32_t pow5_factor(uint32_t v)
{
	uint32_t n = 0;

	while (v % 5 == 0) {
		v /= 5;
		n++;
	}
	return n;
}

static int multiple_of_pow5(uint32_t v, uint32_t p)
{
	return pow5_factor(v) >= p;
}

static int multiple_of_pow2(uint32_t v, uint32_t p)
{
	return (v & ((1u << p) - 1)) == 0;
}

/* The shortest digits of a finite, non-zero float: *out * 10^return. */
static int32_t shortest(uint32_t ieee_m, uint32_t ieee_e, uint32_t *out)
{
	int32_t e2, e10, removed = 0;
	uint32_t m2, mv, mp, mm, vr, vp, vm, mm_shift;
	int vm_tz = 0, vr_tz = 0, accept;
	uint8_t last = 0;

	if (ieee_e == 0) {
		e2 = 1 - BIAS - MANTISSA_BITS - 2;
		m2 = ieee_m;
	} else {
		e2 = (int32_t)ieee_e - BIAS - MANTISSA_BITS - 2;
		m2 = (1u << MANTISSA_BITS) | ieee_m;
	}
	accept = (m2 & 1) == 0;
	mv = 4 * m2;
	mp = 4 * m2 + 2;
	mm_shift = ieee_m != 0 || ieee_e <= 1;
	mm = 4 * m2 - 1 - mm_shift;

	if (e2 >= 0) {
		uint32_t q = log10_pow2(e2);
		int32_t k = POW5_INV_BITCOUNT + pow5bits((int32_t)q) - 1;
		int32_t i = -e2 + (int32_t)q + k;

		e10 = (int32_t)q;
		vr = mul_shift(mv, pow5_inv[q], i);
		vp = mul_shift(mp, pow5_inv[q], i);
		vm = mul_shift(mm, pow5_inv[q], i);
		if (q != 0 && (vp - 1) / 10 <= vm / 10) {
			int32_t l = POW5_INV_BITCOUNT + pow5bits((int32_t)q - 1) - 1;

			last = (uint8_t)(mul_shift(mv, pow5_inv[q - 1], -e2 + (int32_t)q - 1 + l) %
					 10);
		}
		if (q <= 9) {
			if (mv % 5 == 0)
				vr_tz = multiple_of_pow5(mv, q);
			else if (accept)
				vm_tz = multiple_of_pow5(mm, q);
			else
				vp -= multiple_of_pow5(mp, q);
		}
	} else {
		uint32_t q = log10_pow5(-e2);
		int32_t i = -e2 - (int32_t)q;
		int32_t k = pow5bits(i) - POW5_BITCOUNT;
		int32_t j = (int32_t)q - k;

		e10 = (int32_t)q + e2;
		vr = mul_shift(mv, pow5[i], j);
		vp = mul_shift(mp, pow5[i], j);
		vm = mul_shift(mm, pow5[i], j);
		if (q != 0 && (vp - 1) / 10 <= vm / 10) {
			j = (int32_t)q - 1 - (pow5bits(i + 1) - POW5_BITCOUNT);
			last = (uint8_t)(mul_shift(mv, pow5[i + 1], j) % 10);
		}
		if (q <= 1) {
			vr_tz = 1;
			if (accept)
				vm_tz = mm_shift == 1;
			else
				vp--;
		} else if (q < 31) {
			vr_tz = multiple_of_pow2(mv, q - 1);
		}
	}

	if (vm_tz || vr_tz) {
		while (vp / 10 > vm / 10) {
			vm_tz &= vm % 10 == 0;
			vr_tz &= last == 0;
			last = (uint8_t)(vr % 10);
			vr /= 10;
			vp /= 10;
			vm /= 10;
			removed++;
		}
		if (vm_tz) {
			while (vm % 10 == 0) {
				vr_tz &= last == 0;
				last = (uint8_t)(vr % 10);
				vr /= 10;
				vp /= 10;
				vm /= 10;
				removed++;
			}
		}
		if (vr_tz && last == 5 && vr % 2 == 0)
			last = 4; /* exactly halfway: round to even */
		*out = vr + ((vr == vm && (!accept || !vm_tz)) || last >= 5);
	} else {
		while (vp / 10 > vm / 10) {
			last = (uint8_t)(vr % 10);
			vr /= 10;
			vp /= 10;
			vm /= 10;
			removed++;
		}
		*out = vr + (vr == vm || last >= 5);
	}
	return e10 + removed;
}

static const char pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* How many decimal digits v < 10^9 has. */
static int len9(uint32_t v)
{
	return v >= 100000000  ? 9
	       : v >= 10000000 ? 8
	       : v >= 1000000  ? 7
	       : v >= 100000   ? 6
	       : v >= 10000    ? 5
	       : v >= 1000     ? 4
	       : v >= 100      ? 3
	       : v >= 10       ? 2
			       : 1;
}

/* The n = len9(v) digits of v into d, two at a time from the end. */
static inline __attribute__((always_inline)) void digits_u32(char *d, uint32_t v, int n)
{
	while (v >= 100) {
		uint32_t q = v / 100, r = v - q * 100;

		n -= 2;
		memcpy(d + n, pairs + 2 * r, 2);
		v = q;
	}
	if (v >= 10)
		memcpy(d + n - 2, pairs + 2 * v, 2);
	else
		d[n - 1] = (char)('0' + v);
}

/* The decimal digits of v (no sign) into d; returns how many. */
static int digits_u64(char *d, uint64_t v)
{
	if (v < 1000000000) {
		int n = len9((uint32_t)v);

		digits_u32(d, (uint32_t)v, n);
		return n;
	}
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (int i = 0; i < n; i++)
		d[i] = tmp[n - 1 - i];
	return n;
}

/* Digits d[0..n) with the first one's decimal exponent x as d.ddde+XX (at
 * least two exponent digits, printf's way). Bytes written. */
static size_t exp_form(char *buf, const char *d, int n, int x)
{
	size_t o = 0;

	buf[o++] = d[0];
	if (n > 1) {
		buf[o++] = '.';
		memcpy(buf + o, d + 1, (size_t)n - 1);
		o += (size_t)n - 1;
	}
	buf[o++] = 'e';
	buf[o++] = x < 0 ? '-' : '+';
	if (x < 0)
		x = -x;
	if (x < 10)
		buf[o++] = '0';
	return o + (size_t)digits_u64(buf + o, (uint64_t)x);
}

size_t numfmt_u64(char *buf, uint64_t v)
{
	return (size_t)digits_u64(buf, v);
}

size_t numfmt_i64(char *buf, int64_t v)
{
	if (v >= 0)
		return (size_t)digits_u64(buf, (uint64_t)v);
	buf[0] = '-';
	return 1 + (size_t)digits_u64(buf + 1, -(uint64_t)v);
}

size_t numfmt_f32(char *buf, float v)
{
	uint32_t bits, ieee_m, ieee_e, out;
	char d[10];
	size_t o = 0;
	int n, e, big;

	memcpy(&bits, &v, sizeof bits);
	ieee_m = bits & ((1u << MANTISSA_BITS) - 1);
	ieee_e = (bits >> MANTISSA_BITS) & ((1u << EXPONENT_BITS) - 1);
	if (ieee_e == (1u << EXPONENT_BITS) - 1) {
		if (ieee_m) {
			memcpy(buf, "nan", 3);
			return 3;
		}
		memcpy(buf, "-inf" + !(bits >> 31), 4 - !(bits >> 31));
		return 4 - !(bits >> 31);
	}
	if (bits >> 31)
		buf[o++] = '-';
	if (ieee_m == 0 && ieee_e == 0) {
		buf[o++] = '0';
		return o;
	}
	/* whole numbers below 2^24 are their own shortest form */
	if (ieee_e >= BIAS && ieee_e < BIAS + MANTISSA_BITS + 1) {
		uint32_t sh = MANTISSA_BITS - (ieee_e - BIAS);
		uint32_t m = (1u << MANTISSA_BITS) | ieee_m;

		if ((m & ((1u << sh) - 1)) == 0) {
			m >>= sh;
			n = len9(m);
			digits_u32(buf + o, m, n);
			return o + (size_t)n;
		}
	}
	e = shortest(ieee_m, ieee_e, &out);
	n = len9(out);
	digits_u32(d, out, n);
	big = e + n - 1; /* decimal exponent of the first digit */
	if (big < -5 || big >= 16) {
		o += exp_form(buf + o, d, n, big);
	} else if (e >= 0) {
		memcpy(buf + o, d, (size_t)n);
		o += (size_t)n;
		memset(buf + o, '0', (size_t)e);
		o += (size_t)e;
	} else if (big >= 0) {
		memcpy(buf + o, d, (size_t)big + 1);
		o += (size_t)big + 1;
		buf[o++] = '.';
		memcpy(buf + o, d + big + 1, (size_t)(n - big - 1));
		o += (size_t)(n - big - 1);
	} else {
		buf[o++] = '0';
		buf[o++] = '.';
		memset(buf + o, '0', (size_t)(-big - 1));
		o += (size_t)(-big - 1);
		memcpy(buf + o, d, (size_t)n);
		o += (size_t)n;
	}
	return o;
}

size_t numfmt_fixed(char *buf, double v, int decimals)
{
	static const uint64_t scale[] = { 1,      10,      100,      1000,      10000,
					  100000, 1000000, 10000000, 100000000, 1000000000 };
	uint64_t r, ip, fp;
	size_t o = 0;
	char frac[10];
	int nf;

	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	if (!(fabs(v) * (double)scale[decimals] < 9e18)) /* also NaN: no integer holds it */
		return (size_t)snprintf(buf, NUMFMT_MAX, "%.*g", 17, v);
	r = (uint64_t)llround(fabs(v) * (double)scale[decimals]);
	if (r && v < 0)
		buf[o++] = '-';
	ip = r / scale[decimals];
	fp = r % scale[decimals];
	o += (size_t)digits_u64(buf + o, ip);
	if (!fp)
		return o;
	for (nf = decimals; nf > 0; nf--, fp /= 10)
		frac[nf - 1] = (char)('0' + fp % 10);
	for (nf = decimals; frac[nf - 1] == '0'; nf--)
		;
	buf[o++] = '.';
	memcpy(buf + o, frac, (size_t)nf);
	return o + (size_t)nf;
}

/* --- printf's %g, at the precision that reads back --- */

/*
 * Digits d[0..n) (no trailing zeros), the first one's decimal exponent x,
 * written as %.<prec>g writes that value: positional when -4 <= x < prec,
 * else d.ddde+XX; no trailing zeros, no point without a fraction.
 */
static size_t g_layout(char *buf, int neg, const char *d, int n, int x, int prec)
{
	size_t o = 0;

	if (neg)
		buf[o++] = '-';
	if (x < -4 || x >= prec)
		return o + exp_form(buf + o, d, n, x);
	if (x < 0) {
		buf[o++] = '0';
		buf[o++] = '.';
		memset(buf + o, '0', (size_t)(-x - 1));
		o += (size_t)(-x - 1);
		memcpy(buf + o, d, (size_t)n);
		return o + (size_t)n;
	}
	if (n <= x + 1) {
		memcpy(buf + o, d, (size_t)n);
		memset(buf + o + n, '0', (size_t)(x + 1 - n));
		return o + (size_t)x + 1;
	}
	memcpy(buf + o, d, (size_t)x + 1);
	o += (size_t)x + 1;
	buf[o++] = '.';
	memcpy(buf + o, d + x + 1, (size_t)(n - x - 1));
	return o + (size_t)(n - x - 1);
}

/* The digits of v into d without its trailing zeros; returns how many. */
static int g_digits(char *d, uint64_t v)
{
	while (v >= 10 && v % 10 == 0)
		v /= 10;
	return digits_u64(d, v);
}

/* 10^k for 0 <= k <= 27: exact in the x87 long double (5^27 < 2^64). */
static long double pow10_exact[28];

__attribute__((constructor)) static void pow10_build(void)
{
	long double p = 1;

	for (int i = 0; i < 28; i++, p *= 10)
		pow10_exact[i] = p;
}

static inline long double pow10l_exact(int k)
{
	return pow10_exact[k];
}

#define G_POW_MAX 27

/*
 * |v| rounded to prec significant digits: *digits (prec of them, trailing
 * zeros kept) and *x, the decimal exponent of the first. y, the scaled
 * value, is computed in long double with one rounding (the power of ten is
 * exact), so it is within 2^-63 of |v| * 10^(prec - 1 - x) relatively;
 * *y_out keeps it for the caller's own checks. 0 when the scale falls
 * outside the exact powers or the rounding is within margin of a tie.
 */
static int g_round(double v, int prec, long double margin, uint64_t *digits, int *x,
		   long double *y_out)
{
	long double a = (long double)fabs(v), lo = pow10l_exact(prec - 1), hi = lo * 10, y, f;
	uint64_t bits, ip;
	int k;

	memcpy(&bits, &v, sizeof bits);
	/* floor(log10 |v|) from the binary exponent, within one; corrected below */
	*x = (int)floor(((int)(bits >> 52 & 0x7ff) - 1023) * 0.30102999566398120);
	for (int tries = 0; tries < 3; tries++) {
		k = prec - 1 - *x;
		if (k > G_POW_MAX || k < -G_POW_MAX)
			return 0;
		y = k >= 0 ? a * pow10l_exact(k) : a / pow10l_exact(-k);
		if (y >= hi) {
			(*x)++;
			continue;
		}
		if (y < lo) {
			(*x)--;
			continue;
		}
		ip = (uint64_t)y;
		f = y - (long double)ip;
		if (f - 0.5L < margin && 0.5L - f < margin)
			return 0;
		*digits = ip + (f > 0.5L);
		if (*digits == (uint64_t)hi) { /* 9.9999 rounded up: one digit more */
			*digits /= 10;
			(*x)++;
		}
		*y_out = y;
		return 1;
	}
	return 0;
}

static size_t g_printf(char *buf, const char *fmt, int prec, double v)
{
	char tmp[40];
	int n = snprintf(tmp, sizeof tmp, fmt, prec, v);

	memcpy(buf, tmp, (size_t)n);
	return (size_t)n;
}

size_t numfmt_g32(char *buf, float v)
{
	uint32_t bits, ieee_m, ieee_e, out;
	uint64_t r9;
	long double y;
	char d[24];
	int e, n, x, neg;

	memcpy(&bits, &v, sizeof bits);
	neg = (int)(bits >> 31);
	ieee_m = bits & ((1u << MANTISSA_BITS) - 1);
	ieee_e = (bits >> MANTISSA_BITS) & ((1u << EXPONENT_BITS) - 1);
	if (ieee_e == (1u << EXPONENT_BITS) - 1)
		return g_printf(buf, "%.*g", 6, v);
	if (ieee_m == 0 && ieee_e == 0)
		return g_layout(buf, neg, "0", 1, 0, 6);
	if (ieee_e == 0) { /* subnormal: fewer bits than the argument below needs */
		char tmp[40];
		int len = snprintf(tmp, sizeof tmp, "%.*g", 6, v);

		if (strtof(tmp, NULL) != v)
			len = snprintf(tmp, sizeof tmp, "%.*g", 9, v);
		memcpy(buf, tmp, (size_t)len);
		return (size_t)len;
	}
	/*
	 * The shortest digits that read back (Ryu). Up to 6 of them are exactly
	 * what %.6g writes: the float lies within half an ulp (< 6e-8 of it) of
	 * them, much nearer than the next 6-digit decimal (> 5e-7 away). More
	 * than 6 mean no 6-digit decimal reads back, so printf wrote %.9g.
	 */
	e = shortest(ieee_m, ieee_e, &out);
	while (out % 10 == 0) {
		out /= 10;
		e++;
	}
	n = len9(out);
	if (n <= 6) {
		digits_u32(d, out, n);
		return g_layout(buf, neg, d, n, e + n - 1, 6);
	}
	if (!g_round(v, 9, 1e-6L, &r9, &x, &y))
		return g_printf(buf, "%.*g", 9, v);
	n = g_digits(d, r9);
	return g_layout(buf, neg, d, n, x, 9);
}

size_t numfmt_g64(char *buf, double v)
{
	uint64_t r, bits;
	long double y, scale, delta, half;
	double g;
	char d[24], tmp[40];
	int n, x, e2, len;

	if (!isfinite(v))
		return g_printf(buf, "%.*g", 15, v);
	if (v == 0)
		return g_layout(buf, signbit(v) != 0, "0", 1, 0, 15);
	/*
	 * %.15g reads back when its decimal lies within half the gap from |v|
	 * to the next double on its side (the gap toward zero is half as wide
	 * at a power of two). In units of the 15th digit: y = |v| * scale is
	 * within 2e-4 of exact, so anything nearer than 1e-3 to that edge
	 * (or to a rounding tie) is left to printf and strtod.
	 */
	if (!g_round(v, 15, 1e-3L, &r, &x, &y))
		goto slow;
	memcpy(&bits, &v, sizeof bits);
	e2 = (int)(bits >> 52 & 0x7ff);
	if (e2 < 2) /* subnormal or nearly: the gaps are not as below */
		goto slow;
	scale = y / (long double)fabs(v);
	delta = (long double)r - y;
	/* half the gap above |v|: 2^(e - 53) for |v| in [2^e, 2^(e + 1)), e = e2 - 1023 */
	memcpy(&g, &(uint64_t){ (uint64_t)(e2 - 53) << 52 }, sizeof g);
	half = (long double)g * scale;
	if (delta < 0 && !(bits & ((1ull << 52) - 1)))
		half /= 2;
	if (fabsl(fabsl(delta) - half) < 1e-3L)
		goto slow;
	if (fabsl(delta) < half) {
		n = g_digits(d, r);
		return g_layout(buf, v < 0, d, n, x, 15);
	}
	if (!g_round(v, 17, 2e-2L, &r, &x, &y))
		return g_printf(buf, "%.*g", 17, v);
	n = g_digits(d, r);
	return g_layout(buf, v < 0, d, n, x, 17);
slow:
	len = snprintf(tmp, sizeof tmp, "%.*g", 15, v);
	if (strtod(tmp, NULL) != v)
		len = snprintf(tmp, sizeof tmp, "%.*g", 17, v);
	memcpy(buf, tmp, (size_t)len);
	return (size_t)len;
}
