/* out.c - see out.h */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/numfmt.h"
#include "common/out.h"

void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

void out_put(struct out *o, const char *s, size_t n)
{
	if (o->len < o->cap) {
		size_t k = o->cap - o->len - 1;

		if (n < k)
			k = n;
		memcpy(o->buf + o->len, s, k);
		o->buf[o->len + k] = 0;
	}
	o->len += n;
}

void out_number(struct out *o, double v, int is_double)
{
	char tmp[32];
	int n = 0;

	if (!is_double) { /* Ryu: the shortest, fast (numfmt.h) */
		char f[NUMFMT_MAX];

		out_put(o, f, numfmt_f32(f, (float)v));
		return;
	}
	/* %g drops trailing zeros, and a normal double's ulp is smaller than a
	 * unit of its 15th digit: the first precision from there that reads
	 * back is the shortest */
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	out_put(o, tmp, (size_t)n);
}
