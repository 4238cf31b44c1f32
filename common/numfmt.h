/*
 * numfmt.h - numbers as text, fast, for the exports (export.h) where printf
 * is the bottleneck: a one-hour run is millions of values.
 *
 *   numfmt_f32    the shortest decimal that reads back (strtof) as exactly
 *                 the same float: Ryu's algorithm (Ulf Adams, "Ryu: fast
 *                 float-to-string conversion", PLDI 2018), written here from
 *                 the paper; its two tables of 64-bit multipliers are computed
 *                 at the first call, not copied. Ties go to the even digit.
 *   numfmt_fixed  a double rounded to a fixed number of decimals (0..9),
 *                 trailing zeros (and a trailing point) dropped: "12.5" for
 *                 12.5 with 6 decimals. Exact for |v| * 10^decimals < 2^53.
 *   numfmt_i64 / numfmt_u64  decimal integers.
 *   numfmt_g32 / numfmt_g64  printf's %g at the precision that reads back
 *                 (below), for the frame's own JSON and CSV.
 *
 * Notation of numfmt_f32: positional when the first digit's decimal exponent
 * E is -5 <= E < 16 ("0.000123", "1234.5", "-0", "16777216"), else d.ddde+XX
 * / d.ddde-XX with at least two exponent digits, as printf's %g writes it
 * ("1.5e-07", "3.4028235e+38"). NaN and infinities print as "nan", "inf",
 * "-inf" (exports leave them out before they get here).
 *
 * Every function writes into buf, which must have room for NUMFMT_MAX bytes,
 * writes no NUL, and returns the number of bytes written. No allocation,
 * no locale, thread-safe (the tables are built once, before main).
 */
#ifndef PW_NUMFMT_H
#define PW_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

#define NUMFMT_MAX 32

size_t numfmt_f32(char *buf, float v);
size_t numfmt_fixed(char *buf, double v, int decimals);
/*
 * The text of printf("%.6g") when it reads back (strtof) as the same float,
 * else of printf("%.9g"): what frame_to_json and frame_to_csv have always
 * written for a float channel, byte for byte, at a fraction of printf's
 * cost. numfmt_g64 does the same for a double with %.15g, else %.17g
 * (strtod). Both pass NaN and infinities to printf; a value within
 * rounding error of a tie falls back to printf too.
 */
size_t numfmt_g32(char *buf, float v);
size_t numfmt_g64(char *buf, double v);
size_t numfmt_i64(char *buf, int64_t v);
size_t numfmt_u64(char *buf, uint64_t v);

#endif
