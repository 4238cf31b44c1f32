/* out.c - see out.h */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
