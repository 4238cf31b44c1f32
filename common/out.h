/*
 * out.h - a bounded text buffer with snprintf semantics, for writers of JSON
 * and CSV lines into the caller's buffer (frame.c, laps.c): len counts
 * what was needed, so len >= cap after the last write means it did not fit,
 * and the buffer then holds a truncated, NUL-terminated prefix.
 */
#ifndef PW_OUT_H
#define PW_OUT_H

#include <stddef.h>

struct out {
	char *buf;
	size_t cap, len;
};

/* Append as printf would; never writes beyond cap. */
void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append the n bytes at s (no NUL needed), as out_printf("%.*s") would, without formatting. */
void out_put(struct out *o, const char *s, size_t n);

/*
 * Append v as the shortest decimal that reads back as exactly v (is_double)
 * or as the same 32-bit float (!is_double): "0.1" for 0.1f, "91.769" for
 * 91.769, never "91.769000000000005". A float in numfmt_f32's notation
 * (common/numfmt.h: Ryu), a double in printf's %g notation ("1e+20").
 * NaN and infinities as printf writes them (callers leave them out).
 */
void out_number(struct out *o, double v, int is_double);

#endif
