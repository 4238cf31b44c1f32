/*
 * expr.c - see expr.h. A recursive-descent parser emits a postfix program
 * (one op per operator, constant or input) for a stack machine; the
 * evaluator is one loop over it. The parser tracks the stack depth each op
 * leaves, so the evaluator needs no bounds checks of its own.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/expr.h"

enum op_code {
	OP_CONST = 0, /* push consts[arg] */
	OP_IN,        /* push in[arg] */
	OP_NEG,
	OP_NOT,
	OP_ADD,
	OP_SUB,
	OP_MUL,
	OP_DIV,
	OP_MOD,
	OP_POW,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_EQ,
	OP_NE,
	OP_AND,
	OP_OR,
	OP_ABS,
	OP_SQRT,
	OP_MIN, /* n arguments */
	OP_MAX, /* n arguments */
	OP_CLAMP,
	OP_IF,
	OP_DERIV,  /* slots[arg] */
	OP_INTEG,  /* slots[arg] */
	OP_SMOOTH, /* slots[arg] */
};

struct op {
	uint8_t code; /* enum op_code */
	uint8_t n;    /* OP_MIN, OP_MAX: arguments */
	uint16_t arg; /* constant, input or slot number */
};

struct expr {
	uint16_t nops, nconsts, nslots, stack;
	struct op *ops; /* into the same allocation, after consts */
	double consts[];
};

/* The functions, with their argument counts and ops. */
static const struct func {
	const char *name;
	uint8_t min_args, max_args;
	uint8_t code;
} funcs[] = {
	{ "abs", 1, 1, OP_ABS },
	{ "sqrt", 1, 1, OP_SQRT },
	{ "min", 2, EXPR_ARGS_MAX, OP_MIN },
	{ "max", 2, EXPR_ARGS_MAX, OP_MAX },
	{ "clamp", 3, 3, OP_CLAMP },
	{ "if", 3, 3, OP_IF },
	{ "derivative", 1, 1, OP_DERIV },
	{ "integral", 1, 1, OP_INTEG },
	{ "smooth", 2, 2, OP_SMOOTH },
};

/* ---- the compiler ---- */

struct parser {
	const char *src;
	size_t pos;
	int depth;
	expr_resolve_fn *resolve;
	void *ctx;
	struct expr_error *err;
	int failed;
	struct op ops[EXPR_OPS_MAX];
	double consts[EXPR_CONSTS_MAX];
	unsigned nops, nconsts, nslots;
	int sp, max_sp; /* stack depth after the ops so far, and its peak */
};

static int error_at(struct parser *p, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int error_at(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return -1;
	p->failed = 1;
	if (p->err) {
		p->err->column = (unsigned)pos + 1;
		n = snprintf(p->err->message, sizeof p->err->message, "column %zu: ", pos + 1);
		va_start(ap, fmt);
		if (n > 0 && (size_t)n < sizeof p->err->message)
			vsnprintf(p->err->message + n, sizeof p->err->message - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void skip_space(struct parser *p)
{
	while (p->src[p->pos] == ' ' || p->src[p->pos] == '\t' || p->src[p->pos] == '\n' ||
	       p->src[p->pos] == '\r')
		p->pos++;
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* What stands at pos, for messages: "'x'" or "the end". */
static const char *what_at(const struct parser *p, char *buf, size_t cap)
{
	unsigned char c = (unsigned char)p->src[p->pos];

	if (!c)
		return "the end of the formula";
	if (c < 0x20 || c >= 0x7f)
		snprintf(buf, cap, "byte 0x%02x", c);
	else
		snprintf(buf, cap, "'%c'", c);
	return buf;
}

/* Emit op with its effect on the stack depth (delta). */
static int emit(struct parser *p, enum op_code code, unsigned n, unsigned arg, int delta)
{
	if (p->nops >= EXPR_OPS_MAX)
		return error_at(p, p->pos, "the formula is too long (more than %d operations)",
				EXPR_OPS_MAX);
	p->ops[p->nops++] = (struct op){ (uint8_t)code, (uint8_t)n, (uint16_t)arg };
	p->sp += delta;
	if (p->sp > p->max_sp) {
		if (p->sp > EXPR_STACK_MAX)
			return error_at(p, p->pos,
					"the formula is too deep (more than %d values "
					"pending)",
					EXPR_STACK_MAX);
		p->max_sp = p->sp;
	}
	return 0;
}

static int expr_or(struct parser *p);

static int number(struct parser *p)
{
	size_t start = p->pos, i = p->pos;
	char lexeme[64];
	double v;

	while (is_digit(p->src[i]))
		i++;
	if (p->src[i] == '.') {
		i++;
		while (is_digit(p->src[i]))
			i++;
	}
	if (i == start + 1 && p->src[start] == '.')
		return error_at(p, start, "a number needs a digit");
	if (p->src[i] == 'e' || p->src[i] == 'E') {
		size_t e = i++;

		if (p->src[i] == '+' || p->src[i] == '-')
			i++;
		if (!is_digit(p->src[i]))
			return error_at(p, e, "a number's exponent needs a digit");
		while (is_digit(p->src[i]))
			i++;
	}
	if (is_alpha(p->src[i]) || p->src[i] == '.')
		return error_at(p, i, "unexpected '%c' in a number", p->src[i]);
	if (i - start >= sizeof lexeme)
		return error_at(p, start, "a number of more than %zu characters",
				sizeof lexeme - 1);
	memcpy(lexeme, p->src + start, i - start);
	lexeme[i - start] = 0;
	v = strtod(lexeme, NULL);
	if (!isfinite(v))
		return error_at(p, start, "the number %s is out of range", lexeme);
	p->pos = i;
	for (unsigned k = 0; k < p->nconsts; k++)
		if (p->consts[k] == v && signbit(p->consts[k]) == signbit(v))
			return emit(p, OP_CONST, 0, k, 1);
	if (p->nconsts >= EXPR_CONSTS_MAX)
		return error_at(p, start, "more than %d different numbers", EXPR_CONSTS_MAX);
	p->consts[p->nconsts] = v;
	return emit(p, OP_CONST, 0, p->nconsts++, 1);
}

static const struct func *func_find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof funcs / sizeof *funcs; i++)
		if (strlen(funcs[i].name) == len && memcmp(funcs[i].name, name, len) == 0)
			return &funcs[i];
	return NULL;
}

static int call(struct parser *p, const struct func *f, size_t at)
{
	unsigned nargs = 0;
	char buf[16];

	p->pos++; /* '(' */
	skip_space(p);
	if (p->src[p->pos] != ')') {
		for (;;) {
			skip_space(p);
			if (nargs == f->max_args)
				return error_at(p, p->pos, "%s takes at most %u argument%s",
						f->name, f->max_args, f->max_args == 1 ? "" : "s");
			if (expr_or(p) < 0)
				return -1;
			nargs++;
			skip_space(p);
			if (p->src[p->pos] != ',')
				break;
			p->pos++;
		}
	}
	if (p->src[p->pos] != ')')
		return error_at(p, p->pos, "expected ',' or ')' in the arguments of %s, found %s",
				f->name, what_at(p, buf, sizeof buf));
	if (nargs < f->min_args)
		return error_at(p, at, "%s takes %s%u argument%s, not %u", f->name,
				f->min_args == f->max_args ? "" : "at least ", f->min_args,
				f->min_args == 1 ? "" : "s", nargs);
	p->pos++;
	if (f->code == OP_DERIV || f->code == OP_INTEG || f->code == OP_SMOOTH) {
		if (p->nslots >= EXPR_SLOTS_MAX)
			return error_at(p, at, "more than %d derivative, integral and smooth calls",
					EXPR_SLOTS_MAX);
		return emit(p, (enum op_code)f->code, 0, p->nslots++, 1 - (int)nargs);
	}
	return emit(p, (enum op_code)f->code, nargs, 0, 1 - (int)nargs);
}

static int primary(struct parser *p)
{
	size_t start;
	char buf[16];
	char c;

	skip_space(p);
	start = p->pos;
	c = p->src[p->pos];
	if (is_digit(c) || c == '.')
		return number(p);
	if (c == '(') {
		p->pos++;
		if (expr_or(p) < 0)
			return -1;
		skip_space(p);
		if (p->src[p->pos] != ')')
			return error_at(p, p->pos,
					"expected ')' to close the '(' of column %zu, "
					"found %s",
					start + 1, what_at(p, buf, sizeof buf));
		p->pos++;
		return 0;
	}
	if (is_alpha(c)) {
		const struct func *f;
		size_t len;
		int slot;

		while (is_alpha(p->src[p->pos]) || is_digit(p->src[p->pos]))
			p->pos++;
		len = p->pos - start;
		f = func_find(p->src + start, len);
		skip_space(p);
		if (p->src[p->pos] == '(') {
			if (!f)
				return error_at(p, start, "unknown function '%.*s'", (int)len,
						p->src + start);
			return call(p, f, start);
		}
		if (f)
			return error_at(p, start, "%s is a function: write %s(...)", f->name,
					f->name);
		if (len > 64)
			return error_at(p, start, "a name of more than 64 characters");
		slot = p->resolve ? p->resolve(p->ctx, p->src + start, len) : -1;
		if (slot < 0 || slot >= EXPR_INPUTS_MAX)
			return error_at(p, start, "unknown channel '%.*s'", (int)len,
					p->src + start);
		return emit(p, OP_IN, 0, (unsigned)slot, 1);
	}
	return error_at(p, p->pos, "expected a number, a channel, a function or '(', found %s",
			what_at(p, buf, sizeof buf));
}

static int unary(struct parser *p);

/* power := primary ('^' unary)? - right-associative, binds tighter than a sign
 * on its left (-2^2 = -4) but takes one on its right (2^-1 = 0.5). */
static int power(struct parser *p)
{
	int rc;

	if (primary(p) < 0)
		return -1;
	skip_space(p);
	if (p->src[p->pos] != '^')
		return 0;
	p->pos++;
	if (++p->depth > EXPR_DEPTH_MAX)
		return error_at(p, p->pos, "nested more than %d deep", EXPR_DEPTH_MAX);
	rc = unary(p);
	p->depth--;
	return rc < 0 ? -1 : emit(p, OP_POW, 0, 0, -1);
}

static int unary(struct parser *p)
{
	char c;
	int rc;

	skip_space(p);
	c = p->src[p->pos];
	if (c != '-' && c != '+' && !(c == '!' && p->src[p->pos + 1] != '='))
		return power(p);
	if (++p->depth > EXPR_DEPTH_MAX)
		return error_at(p, p->pos, "nested more than %d deep", EXPR_DEPTH_MAX);
	p->pos++;
	rc = unary(p);
	p->depth--;
	if (rc < 0 || c == '+')
		return rc;
	return emit(p, c == '-' ? OP_NEG : OP_NOT, 0, 0, 0);
}

static int term(struct parser *p)
{
	if (unary(p) < 0)
		return -1;
	for (;;) {
		char c;
		enum op_code code;

		skip_space(p);
		c = p->src[p->pos];
		if (c == '*')
			code = OP_MUL;
		else if (c == '/')
			code = OP_DIV;
		else if (c == '%')
			code = OP_MOD;
		else
			return 0;
		p->pos++;
		if (unary(p) < 0 || emit(p, code, 0, 0, -1) < 0)
			return -1;
	}
}

static int sum(struct parser *p)
{
	if (term(p) < 0)
		return -1;
	for (;;) {
		char c;

		skip_space(p);
		c = p->src[p->pos];
		if (c != '+' && c != '-')
			return 0;
		p->pos++;
		if (term(p) < 0 || emit(p, c == '+' ? OP_ADD : OP_SUB, 0, 0, -1) < 0)
			return -1;
	}
}

/* A comparison operator at pos: its op and length, or 0. */
static size_t comparison_at(const char *s, enum op_code *code)
{
	if (s[0] == '<' && s[1] == '=')
		return *code = OP_LE, 2;
	if (s[0] == '>' && s[1] == '=')
		return *code = OP_GE, 2;
	if (s[0] == '=' && s[1] == '=')
		return *code = OP_EQ, 2;
	if (s[0] == '!' && s[1] == '=')
		return *code = OP_NE, 2;
	if (s[0] == '<')
		return *code = OP_LT, 1;
	if (s[0] == '>')
		return *code = OP_GT, 1;
	return 0;
}

static int comparison(struct parser *p)
{
	enum op_code code;
	size_t n;

	if (sum(p) < 0)
		return -1;
	skip_space(p);
	if (p->src[p->pos] == '=' && p->src[p->pos + 1] != '=')
		return error_at(p, p->pos, "'=' is not an operator: compare with '=='");
	if (!(n = comparison_at(p->src + p->pos, &code)))
		return 0;
	p->pos += n;
	if (sum(p) < 0 || emit(p, code, 0, 0, -1) < 0)
		return -1;
	skip_space(p);
	if (comparison_at(p->src + p->pos, &code))
		return error_at(p, p->pos, "comparisons do not chain: write (a < b) && (b < c)");
	return 0;
}

static int conjunction(struct parser *p)
{
	if (comparison(p) < 0)
		return -1;
	for (;;) {
		skip_space(p);
		if (p->src[p->pos] != '&')
			return 0;
		if (p->src[p->pos + 1] != '&')
			return error_at(p, p->pos, "'&' is not an operator: write '&&'");
		p->pos += 2;
		if (comparison(p) < 0 || emit(p, OP_AND, 0, 0, -1) < 0)
			return -1;
	}
}

static int expr_or(struct parser *p)
{
	int rc = -1;

	if (++p->depth > EXPR_DEPTH_MAX)
		return error_at(p, p->pos, "nested more than %d deep", EXPR_DEPTH_MAX);
	if (conjunction(p) < 0)
		goto out;
	for (;;) {
		skip_space(p);
		if (p->src[p->pos] != '|')
			break;
		if (p->src[p->pos + 1] != '|') {
			error_at(p, p->pos, "'|' is not an operator: write '||'");
			goto out;
		}
		p->pos += 2;
		if (conjunction(p) < 0 || emit(p, OP_OR, 0, 0, -1) < 0)
			goto out;
	}
	rc = 0;
out:
	p->depth--;
	return rc;
}

int expr_compile(const char *src, expr_resolve_fn *resolve, void *ctx, struct expr **out,
		 struct expr_error *err)
{
	struct parser *p;
	struct expr *e = NULL;
	size_t len, head;
	char buf[16];
	int rc = -EINVAL;

	*out = NULL;
	if (err) {
		err->column = 0;
		err->message[0] = 0;
	}
	if (!(p = calloc(1, sizeof *p))) {
		if (err)
			snprintf(err->message, sizeof err->message, "out of memory");
		return -ENOMEM;
	}
	p->src = src ? src : "";
	p->resolve = resolve;
	p->ctx = ctx;
	p->err = err;
	len = strlen(p->src);
	if (len > EXPR_SRC_MAX) {
		error_at(p, EXPR_SRC_MAX, "the formula is longer than %d bytes", EXPR_SRC_MAX);
		goto out;
	}
	skip_space(p);
	if (!p->src[p->pos]) {
		error_at(p, p->pos, "the formula is empty");
		goto out;
	}
	if (expr_or(p) < 0)
		goto out;
	skip_space(p);
	if (p->src[p->pos]) {
		error_at(p, p->pos, "unexpected %s after a complete formula",
			 what_at(p, buf, sizeof buf));
		goto out;
	}
	head = sizeof *e + p->nconsts * sizeof(double);
	if (!(e = malloc(head + p->nops * sizeof(struct op)))) {
		rc = -ENOMEM;
		if (err)
			snprintf(err->message, sizeof err->message, "out of memory");
		goto out;
	}
	e->nops = (uint16_t)p->nops;
	e->nconsts = (uint16_t)p->nconsts;
	e->nslots = (uint16_t)p->nslots;
	e->stack = (uint16_t)p->max_sp;
	e->ops = (struct op *)((char *)e + head);
	memcpy(e->consts, p->consts, p->nconsts * sizeof(double));
	memcpy(e->ops, p->ops, p->nops * sizeof(struct op));
	*out = e;
	rc = 0;
out:
	free(p);
	return rc;
}

void expr_free(struct expr *e)
{
	free(e);
}

/* ---- evaluation ---- */

void expr_slots_reset(struct expr_slot *slots, size_t n)
{
	if (slots)
		memset(slots, 0, n * sizeof *slots);
}

static double derivative(struct expr_slot *s, double x, double t)
{
	double dt;

	if (isnan(x) || isnan(t))
		return NAN;
	dt = t - s->t;
	if (s->have && dt == 0)
		return s->value;
	if (!s->have || dt < 0 || dt > EXPR_GAP_S) {
		*s = (struct expr_slot){ x, t, NAN, 1 };
		return NAN;
	}
	s->value = (x - s->x) / dt;
	s->x = x;
	s->t = t;
	return s->value;
}

static double integral(struct expr_slot *s, double x, double t)
{
	double dt;

	if (isnan(x) || isnan(t))
		return NAN;
	dt = t - s->t;
	if (!s->have || dt < 0) {
		*s = (struct expr_slot){ x, t, 0, 1 };
		return 0;
	}
	if (dt <= EXPR_GAP_S)
		s->value += (x + s->x) * 0.5 * dt;
	s->x = x;
	s->t = t;
	return s->value;
}

/* A first-order low-pass of x with time constant tau (s) on the clock t. */
static double smooth(struct expr_slot *s, double x, double tau, double t)
{
	double dt;

	if (isnan(x) || isnan(t) || isnan(tau))
		return NAN;
	if (tau <= 0)
		return x;
	dt = t - s->t;
	if (!s->have || dt < 0 || dt > EXPR_GAP_S) {
		*s = (struct expr_slot){ x, t, x, 1 };
		return x;
	}
	s->value += (x - s->value) * -expm1(-dt / tau);
	s->x = x;
	s->t = t;
	return s->value;
}

/* NaN when either is NaN, else the comparison as 1 or 0. */
#define CMP(a, b, op) (isnan(a) || isnan(b) ? NAN : (double)((a)op(b)))

double expr_eval(const struct expr *e, const double *in, double t_s, struct expr_slot *slots)
{
	double st[EXPR_STACK_MAX + 1];
	int sp = -1; /* index of the top value */

	for (unsigned i = 0; i < e->nops; i++) {
		const struct op *o = &e->ops[i];
		double a, b;

		switch ((enum op_code)o->code) {
		case OP_CONST:
			st[++sp] = e->consts[o->arg];
			continue;
		case OP_IN:
			st[++sp] = in[o->arg];
			continue;
		case OP_NEG:
			st[sp] = -st[sp];
			continue;
		case OP_NOT:
			st[sp] = isnan(st[sp]) ? NAN : (double)(st[sp] == 0);
			continue;
		case OP_ABS:
			st[sp] = fabs(st[sp]);
			continue;
		case OP_SQRT:
			st[sp] = st[sp] < 0 ? NAN : sqrt(st[sp]);
			continue;
		case OP_DERIV:
			st[sp] = derivative(&slots[o->arg], st[sp], t_s);
			continue;
		case OP_INTEG:
			st[sp] = integral(&slots[o->arg], st[sp], t_s);
			continue;
		case OP_SMOOTH:
			sp--;
			st[sp] = smooth(&slots[o->arg], st[sp], st[sp + 1], t_s);
			continue;
		case OP_MIN:
		case OP_MAX:
			sp -= o->n - 1;
			a = st[sp];
			for (unsigned k = 1; k < o->n; k++) {
				b = st[sp + (int)k];
				if (isnan(a) || isnan(b))
					a = NAN;
				else if (o->code == OP_MIN ? b < a : b > a)
					a = b;
			}
			st[sp] = a;
			continue;
		case OP_IF:
			sp -= 2;
			a = st[sp];
			st[sp] = isnan(a) ? NAN : a != 0 ? st[sp + 1] : st[sp + 2];
			continue;
		case OP_CLAMP:
			sp -= 2;
			a = st[sp];
			if (isnan(a) || isnan(st[sp + 1]) || isnan(st[sp + 2]))
				a = NAN;
			else if (a < st[sp + 1])
				a = st[sp + 1];
			else if (a > st[sp + 2])
				a = st[sp + 2];
			st[sp] = a;
			continue;
		default:
			break;
		}
		/* binary operators */
		b = st[sp--];
		a = st[sp];
		switch ((enum op_code)o->code) {
		case OP_ADD:
			a = a + b;
			break;
		case OP_SUB:
			a = a - b;
			break;
		case OP_MUL:
			a = a * b;
			break;
		case OP_DIV:
			a = b == 0 ? NAN : a / b;
			break;
		case OP_MOD:
			a = b == 0 ? NAN : fmod(a, b);
			break;
		case OP_POW:
			a = pow(a, b);
			break;
		case OP_LT:
			a = CMP(a, b, <);
			break;
		case OP_LE:
			a = CMP(a, b, <=);
			break;
		case OP_GT:
			a = CMP(a, b, >);
			break;
		case OP_GE:
			a = CMP(a, b, >=);
			break;
		case OP_EQ:
			a = CMP(a, b, ==);
			break;
		case OP_NE:
			a = CMP(a, b, !=);
			break;
		case OP_AND:
			a = isnan(a) || isnan(b) ? NAN : (double)(a != 0 && b != 0);
			break;
		case OP_OR:
			a = isnan(a) || isnan(b) ? NAN : (double)(a != 0 || b != 0);
			break;
		default:
			a = NAN;
			break;
		}
		st[sp] = a;
	}
	return sp == 0 && isfinite(st[0]) ? st[0] : NAN;
}

size_t expr_nslots(const struct expr *e)
{
	return e ? e->nslots : 0;
}

size_t expr_nops(const struct expr *e)
{
	return e ? e->nops : 0;
}

int expr_is_function(const char *name, size_t len)
{
	return func_find(name, len) != NULL;
}
