/* framecsv.c - see framecsv.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/framecsv.h"
#include "common/out.h"

#define FIELD_MAX 1024 /* bytes of one cell (derived lists every channel name at most) */

enum col_kind {
	COL_IGNORED = 0,
	COL_SEQ,
	COL_T_NS,
	COL_FEED,
	COL_GAME,
	COL_GAME_SESSION,
	COL_CHANNEL, /* bit, idx */
	COL_FLAG,    /* bit */
	COL_DERIVED,
	COL_TIME_S,
};

struct col {
	uint8_t kind; /* enum col_kind */
	uint8_t bit, idx;
};

struct framecsv {
	size_t ncols;
	char *ignored; /* the ignored columns' names, comma-separated */
	struct col cols[];
};

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (err && cap) {
		va_start(ap, fmt);
		vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/*
 * The next field of [*p, end) unquoted into buf[FIELD_MAX] (NUL-terminated),
 * *p moved past it and its comma. 1 when there was one, 0 at the end of the
 * line, -1 for a field too long or a quote not closed.
 */
static int next_field(const char **p, const char *end, int *more, char *buf)
{
	const char *s = *p;
	size_t n = 0;

	if (!*more)
		return 0;
	if (s < end && *s == '"') {
		for (s++;; s++) {
			if (s >= end)
				return -1;
			if (*s == '"' && (s + 1 >= end || s[1] != '"'))
				break;
			if (*s == '"')
				s++;
			if (n + 1 >= FIELD_MAX)
				return -1;
			buf[n++] = *s;
		}
		s++;
		if (s < end && *s != ',')
			return -1;
	} else {
		for (; s < end && *s != ','; s++) {
			if (n + 1 >= FIELD_MAX)
				return -1;
			buf[n++] = *s;
		}
	}
	buf[n] = 0;
	*more = s < end; /* a comma follows */
	*p = s < end ? s + 1 : s;
	return 1;
}

static size_t trim_eol(const char *line, size_t len)
{
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	return len;
}

/* The column called name. */
static struct col column(const char *name)
{
	static const struct {
		const char *name;
		enum col_kind kind;
	} ids[] = {
		{ "seq", COL_SEQ },
		{ "t_ns", COL_T_NS },
		{ "feed", COL_FEED },
		{ "game", COL_GAME },
		{ "game_session", COL_GAME_SESSION },
		{ "derived", COL_DERIVED },
		{ "time_s", COL_TIME_S },
	};
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
		if (strcmp(ids[i].name, name) == 0)
			return (struct col){ (uint8_t)ids[i].kind, 0, 0 };
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const struct frame_channel *c = &frame_channels[b];

		if (len < c->name_len || memcmp(name, c->name, c->name_len) != 0)
			continue;
		if (c->n == 1 && len == c->name_len)
			return (struct col){ COL_CHANNEL, (uint8_t)b, 0 };
		if (c->n > 1 && len > c->name_len && name[c->name_len] == '_')
			for (unsigned i = 0; i < c->n; i++)
				if (strcmp(name + c->name_len + 1, frame_dim_suffix(c->dim, i)) ==
				    0)
					return (struct col){ COL_CHANNEL, (uint8_t)b, (uint8_t)i };
	}
	for (unsigned b = 0; b < FRAME_FLAG_COUNT; b++)
		if (strcmp(frame_flag_name(b), name) == 0)
			return (struct col){ COL_FLAG, (uint8_t)b, 0 };
	return (struct col){ COL_IGNORED, 0, 0 };
}

int framecsv_open(struct framecsv **out, const char *header, size_t len, char *err, size_t errcap)
{
	struct framecsv *m = NULL;
	char name[FIELD_MAX];
	const char *p = header, *end = header + trim_eol(header, len);
	uint8_t seen[FRAME_P_COUNT] = { 0 }; /* bit i: value i of channel b has a column */
	struct out ign = { NULL, 0, 0 };
	int more = 1, rc = -EINVAL, frame_cols = 0;

	*out = NULL;
	if (!(m = calloc(1, sizeof *m + FRAMECSV_COLS_MAX * sizeof(struct col))) ||
	    !(ign.buf = malloc(ign.cap = 4096))) {
		rc = -ENOMEM;
		goto out;
	}
	ign.buf[0] = 0;
	while ((rc = next_field(&p, end, &more, name)) == 1) {
		struct col c = column(name);

		if (m->ncols == FRAMECSV_COLS_MAX) {
			rc = fail(err, errcap, "the header has more than %d columns",
				  FRAMECSV_COLS_MAX);
			goto out;
		}
		for (size_t i = 0; i < m->ncols && c.kind != COL_IGNORED; i++) {
			if (!memcmp(&m->cols[i], &c, sizeof c)) {
				rc = fail(err, errcap, "the header has the column %s twice", name);
				goto out;
			}
		}
		if (c.kind == COL_CHANNEL)
			seen[c.bit] |= (uint8_t)(1u << c.idx);
		if (c.kind == COL_IGNORED)
			out_printf(&ign, "%s%s", ign.len ? "," : "", name);
		frame_cols += c.kind == COL_CHANNEL || c.kind == COL_FLAG;
		m->cols[m->ncols++] = c;
	}
	if (rc < 0) {
		rc = fail(err, errcap, "the header has a quoted name that does not end");
		goto out;
	}
	if (!frame_cols) {
		rc = fail(err, errcap,
			  "the header names no channel of a pitwall frame (speed_kmh, "
			  "rpm, ...): not a pitwall CSV");
		goto out;
	}
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const struct frame_channel *c = &frame_channels[b];

		unsigned i = 0;

		if (!seen[b] || seen[b] == (1u << c->n) - 1)
			continue;
		while (seen[b] & (1u << i))
			i++;
		rc = fail(err, errcap,
			  "the header has %s columns but not %s_%s: an array "
			  "channel's values come all or none",
			  c->name, c->name, frame_dim_suffix(c->dim, i));
		goto out;
	}
	m->ignored = ign.buf;
	ign.buf = NULL;
	*out = m;
	m = NULL;
	rc = 0;
out:
	if (rc == -ENOMEM)
		fail(err, errcap, "out of memory");
	free(ign.buf);
	framecsv_free(m);
	return rc;
}

void framecsv_free(struct framecsv *m)
{
	if (m)
		free(m->ignored);
	free(m);
}

/* ---- rows ---- */

static int whole_number(const char *s, int is_signed, long long *sv, unsigned long long *uv)
{
	char *end;

	if (!*s || (*s == '-' && !is_signed) || *s == '+' || *s == ' ')
		return 0;
	errno = 0;
	if (is_signed)
		*sv = strtoll(s, &end, 10);
	else
		*uv = strtoull(s, &end, 10);
	return errno == 0 && *end == 0;
}

/* Value cell s of channel c into f. 0, or -EINVAL (err). */
static int set_value(struct pw_frame *f, const struct frame_channel *c, unsigned i, const char *s,
		     char *err, size_t errcap, const char *where)
{
	char *p = (char *)f + c->off, *end;
	long long v;
	double d;
	float x;

	switch (c->type) {
	case FRAME_T_F32:
		errno = 0;
		x = strtof(s, &end);
		if (*end || end == s || !isfinite(x))
			return fail(err, errcap, "%s: \"%s\" is not a number", where, s);
		((float *)p)[i] = x;
		return 0;
	case FRAME_T_F64:
		d = strtod(s, &end);
		if (*end || end == s || !isfinite(d))
			return fail(err, errcap, "%s: \"%s\" is not a number", where, s);
		((double *)p)[i] = d;
		return 0;
	default:
		break;
	}
	if (!whole_number(s, 1, &v, NULL))
		return fail(err, errcap, "%s: \"%s\" is not a whole number", where, s);
	switch (c->type) {
	case FRAME_T_I8:
		if (v < INT8_MIN || v > INT8_MAX)
			break;
		((int8_t *)p)[i] = (int8_t)v;
		return 0;
	case FRAME_T_U8:
		if (v < 0 || v > UINT8_MAX)
			break;
		((uint8_t *)p)[i] = (uint8_t)v;
		return 0;
	case FRAME_T_U16:
		if (v < 0 || v > UINT16_MAX)
			break;
		((uint16_t *)p)[i] = (uint16_t)v;
		return 0;
	case FRAME_T_I32:
		if (v < INT32_MIN || v > INT32_MAX)
			break;
		((int32_t *)p)[i] = (int32_t)v;
		return 0;
	default:
		break;
	}
	return fail(err, errcap, "%s: %s is out of the channel's range", where, s);
}

static int set_derived(struct pw_frame *f, char *s, char *err, size_t errcap, const char *where)
{
	char *save = NULL;

	for (char *w = strtok_r(s, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		unsigned b;

		for (b = 0; b < FRAME_P_COUNT; b++)
			if (strcmp(frame_channels[b].name, w) == 0)
				break;
		if (b == FRAME_P_COUNT)
			return fail(err, errcap, "%s: \"%s\" is not a channel", where, w);
		f->derived |= 1ull << b;
	}
	return 0;
}

/* One cell of column c (its name for messages: the header's, or its kind's). */
static int cell(struct pw_frame *f, const struct col *c, char *s, uint8_t got[], double *time_s,
		char *err, size_t errcap, const char *where)
{
	unsigned long long u;
	long long v;
	double d;
	char *end;

	if (!*s && c->kind != COL_CHANNEL)
		return 0; /* an empty identity, flag or derived cell: not known */
	switch ((enum col_kind)c->kind) {
	case COL_IGNORED:
		return 0;
	case COL_SEQ:
	case COL_GAME_SESSION:
		if (!whole_number(s, 0, NULL, &u))
			return fail(err, errcap, "%s: \"%s\" is not a whole number", where, s);
		*(c->kind == COL_SEQ ? &f->seq : &f->game_session) = u;
		return 0;
	case COL_T_NS:
		if (!whole_number(s, 1, &v, NULL))
			return fail(err, errcap, "%s: \"%s\" is not a whole number", where, s);
		f->t_ns = v;
		return 0;
	case COL_FEED:
		if (!(f->feed = (uint8_t)frame_feed_id(s)) && strcmp(s, frame_feed_name(0)) != 0)
			return fail(err, errcap, "%s: \"%s\" is not a feed", where, s);
		return 0;
	case COL_GAME:
		if (!(f->game = (uint8_t)frame_game_id(s)) && strcmp(s, frame_game_name(0)) != 0)
			return fail(err, errcap, "%s: \"%s\" is not a game", where, s);
		return 0;
	case COL_FLAG:
		if (strcmp(s, "0") != 0 && strcmp(s, "1") != 0)
			return fail(err, errcap, "%s: \"%s\" is not 0 or 1", where, s);
		f->flags_known |= (uint16_t)(1u << c->bit);
		if (*s == '1')
			f->flags |= (uint16_t)(1u << c->bit);
		return 0;
	case COL_DERIVED:
		return set_derived(f, s, err, errcap, where);
	case COL_TIME_S:
		d = strtod(s, &end);
		if (*end || !isfinite(d))
			return fail(err, errcap, "%s: \"%s\" is not a number", where, s);
		if (time_s)
			*time_s = d;
		return 0;
	case COL_CHANNEL:
		if (!*s)
			return 0;
		got[c->bit] |= (uint8_t)(1u << c->idx);
		return set_value(f, &frame_channels[c->bit], c->idx, s, err, errcap, where);
	}
	return 0;
}

int framecsv_row(const struct framecsv *m, const char *line, size_t len, uint64_t line_no,
		 struct pw_frame *f, double *time_s, char *err, size_t errcap)
{
	const char *p = line, *end = line + trim_eol(line, len);
	char *s = malloc(FIELD_MAX), where[96];
	uint8_t got[FRAME_P_COUNT] = { 0 };
	size_t i = 0;
	int more = 1, rc = 0, r;

	frame_init(f, PW_GAME_UNKNOWN, PW_FEED_NONE);
	if (time_s)
		*time_s = NAN;
	if (!s)
		return fail(err, errcap, "out of memory");
	while ((r = next_field(&p, end, &more, s)) == 1) {
		if (i == m->ncols) {
			rc = fail(err, errcap, "line %llu has more than the header's %zu fields",
				  (unsigned long long)line_no, m->ncols);
			goto out;
		}
		snprintf(where, sizeof where, "line %llu, field %zu", (unsigned long long)line_no,
			 i + 1);
		if ((rc = cell(f, &m->cols[i], s, got, time_s, err, errcap, where)) < 0)
			goto out;
		i++;
	}
	if (r < 0 || i != m->ncols) {
		rc = fail(err, errcap, "line %llu: %s", (unsigned long long)line_no,
			  r < 0 ? "a field too long or a quote not closed"
				: "fewer fields than the header has");
		goto out;
	}
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const struct frame_channel *c = &frame_channels[b];
		unsigned all = (1u << c->n) - 1;

		if (!got[b])
			continue;
		/* a "not known yet" value is written as an empty cell */
		for (unsigned k = 0; k < c->n && (c->flags & FRAME_CF_NEG_NULL); k++)
			if (!(got[b] & (1u << k)) && c->type == FRAME_T_I32)
				((int32_t *)((char *)f + c->off))[k] = -1;
		/* an empty cell of a ZERO_NULL channel stays 0: its "none" */
		if (got[b] != all && !(c->flags & (FRAME_CF_NEG_NULL | FRAME_CF_ZERO_NULL))) {
			rc = fail(err, errcap,
				  "line %llu: %s has a value in some of its columns, not "
				  "all",
				  (unsigned long long)line_no, c->name);
			goto out;
		}
		f->present |= c->bit;
	}
	f->derived &= f->present;
out:
	free(s);
	return rc;
}

int framecsv_has(const struct framecsv *m, const char *name)
{
	struct col c = column(name);

	for (size_t i = 0; c.kind != COL_IGNORED && i < m->ncols; i++)
		if (!memcmp(&m->cols[i], &c, sizeof c))
			return 1;
	return 0;
}

size_t framecsv_ignored(const struct framecsv *m, char *buf, size_t cap)
{
	return (size_t)snprintf(buf, cap, "%s", m->ignored ? m->ignored : "");
}
