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

#endif
