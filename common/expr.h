/*
 * expr.h - the formulas of derived channels (manifest.h): a small, safe
 * expression language, compiled once into a compact program and evaluated
 * once per frame.
 *
 * Language (docs/manifests.md has the user's side):
 *   numbers     12, 0.5, .5, 1e3, 2.5E-2 (decimal, finite)
 *   names       [A-Za-z_][A-Za-z0-9_]*: a channel, resolved by the caller at
 *               compile time to an input slot (an unknown name is an error)
 *   operators   by precedence, loosest first (all left-associative except ^):
 *                 ||   &&   == != < <= > >= (not chained)   + -   * / %
 *                 unary - + !   ^ (power, right-associative: -2^2 = -4)
 *               comparisons and logic give 1 or 0
 *   functions   abs(x) sqrt(x) min(a, b, ...) max(a, b, ...) (2..8 arguments)
 *               clamp(x, lo, hi) if(c, a, b)
 *               derivative(x)  dx/dt over the clock the caller passes (s)
 *               integral(x)    the integral of x dt (trapezoids) since the first
 *                              frame
 *               smooth(x, tau) x through a first-order low-pass filter with the
 *                              time constant tau (s): derivative(smooth(x, 0.05))
 *                              for a derivative of noisy data
 *   whitespace  space, tab, newline; nothing else is accepted
 *
 * Values are doubles; NaN means "no value" (an absent channel). Every
 * operation with a NaN operand gives NaN - comparisons and logic too - and a
 * result that is not finite (x / 0, sqrt(-1), an overflow) is NaN, so a
 * derived channel is absent in a frame where it cannot be computed instead of
 * showing a made-up number. Every argument is evaluated (no short circuit),
 * so derivative, integral and smooth see every frame wherever they stand.
 *
 * derivative, integral and smooth keep state per call site (struct expr_slot): the
 * caller gives each program its own expr_nslots(e) slots and passes them to
 * every evaluation, in frame order. The clock t (s) is the game clock: when
 * it does not advance the last derivative is kept and nothing is added; when
 * it goes back (a rewind, a new session) or jumps by more than EXPR_GAP_S,
 * the function starts again from that frame (derivative: no value in that
 * frame; integral: its sum is kept across a gap, restarts at 0 on a rewind;
 * smooth: starts from x; a tau <= 0 passes x through).
 * A frame where x or t has no value gives no value and changes nothing.
 *
 * Bounds, so that a formula from a request cannot take a process down: at
 * most EXPR_SRC_MAX bytes of source, EXPR_DEPTH_MAX levels of nesting,
 * EXPR_OPS_MAX operations, EXPR_STACK_MAX values on the evaluation stack,
 * EXPR_CONSTS_MAX constants and EXPR_SLOTS_MAX derivative/integral/smooth
 * calls.
 * Evaluation does no allocation, no I/O and no recursion; its cost is linear
 * in the program.
 *
 * Errors name the 1-based column of the offending character (the byte
 * offset + 1): "column 12: expected ')' to close the arguments of max".
 *
 * Thread use: a compiled program is read-only and may be shared; slots are
 * the caller's, one set per sequence of frames.
 */
#ifndef PW_EXPR_H
#define PW_EXPR_H

#include <stddef.h>
#include <stdint.h>

#define EXPR_SRC_MAX 1024
#define EXPR_DEPTH_MAX 32
#define EXPR_OPS_MAX 256
#define EXPR_STACK_MAX 32
#define EXPR_CONSTS_MAX 64
#define EXPR_SLOTS_MAX 16
#define EXPR_ARGS_MAX 8       /* min / max arguments */
#define EXPR_INPUTS_MAX 65535 /* input slot numbers 0..EXPR_INPUTS_MAX-1 */
#define EXPR_GAP_S 2.0        /* a larger clock step restarts derivative/integral */
#define EXPR_ERR_MAX 160

struct expr; /* opaque, one allocation */

/* The state of one derivative or integral call site. */
struct expr_slot {
	double x, t;  /* last sample */
	double value; /* derivative: last value; integral: the sum */
	int have;     /* a sample is held */
};

struct expr_error {
	unsigned column;            /* 1-based; 0 when the error has no place */
	char message[EXPR_ERR_MAX]; /* "column 3: ..." */
};

/*
 * An input name of len bytes (not NUL-terminated) -> its slot number
 * (0..EXPR_INPUTS_MAX-1), or a negative number when the name is unknown.
 */
typedef int expr_resolve_fn(void *ctx, const char *name, size_t len);

/* Lifecycle */
/*
 * Compile the NUL-terminated src. On success returns 0 and *out (the caller
 * frees it with expr_free). Otherwise -EINVAL (syntax, an unknown name, a
 * bound exceeded) or -ENOMEM, *out NULL and err (may be NULL) says what and
 * where.
 */
int expr_compile(const char *src, expr_resolve_fn *resolve, void *ctx, struct expr **out,
		 struct expr_error *err);
void expr_free(struct expr *e);

/* Operations */
/* Forget every slot's history (a new sequence of frames). */
void expr_slots_reset(struct expr_slot *slots, size_t n);
/*
 * Evaluate e with the input values in[] (indexed by the slot numbers the
 * resolver gave; NaN = no value), the clock t_s (NaN = none) and e's slots
 * (expr_nslots of them; may be NULL when there are none). Returns the value,
 * or NaN when there is none.
 */
double expr_eval(const struct expr *e, const double *in, double t_s, struct expr_slot *slots);

/* Accessors */
/* How many derivative/integral slots e needs. */
size_t expr_nslots(const struct expr *e);
/* Operations in the compiled program (for tests and the benchmark). */
size_t expr_nops(const struct expr *e);
/* 1 when name (len bytes) is one of the language's functions ("abs"). */
int expr_is_function(const char *name, size_t len);

#endif
