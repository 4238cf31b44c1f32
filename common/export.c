/* export.c - see export.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/atomicio.h"
#include "common/export.h"
#include "common/motec.h"
#include "common/numfmt.h"
#include "common/parquet.h"

static const char *const format_names[EXPORT_FORMAT_COUNT] = { "csv", "json", "ld", "ldx",
							       "parquet" };
static const char *const format_exts[EXPORT_FORMAT_COUNT] = { "csv", "jsonl", "ld", "ldx",
							      "parquet" };
static const char *const format_media[EXPORT_FORMAT_COUNT] = {
	"text/csv",        "application/x-ndjson",           "application/octet-stream",
	"application/xml", "application/vnd.apache.parquet",
};
static const char *const ident_names[] = {
	[EXPORT_COL_SEQ] = "seq",
	[EXPORT_COL_T_NS] = "t_ns",
	[EXPORT_COL_FEED] = "feed",
	[EXPORT_COL_GAME] = "game",
	[EXPORT_COL_GAME_SESSION] = "game_session",
};

enum param { P_FORMAT, P_CHANNELS, P_HZ, P_LAP, P_COMPRESSION, P_COUNT };
static const char *const param_names[P_COUNT] = { "format", "channels", "hz", "lap",
						  "compression" };

/* --- options --- */

static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && cap) {
		va_start(ap, fmt);
		vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return rc;
}

void export_opts_init(struct export_opts *o)
{
	memset(o, 0, sizeof *o);
	o->format = EXPORT_CSV;
}

/* A whole decimal number lo..hi, nothing else ("", "+1", "1.0", " 1" are not). */
static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	unsigned long v = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > hi)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* One name of the channel list as a column; -1 when it names nothing. */
static int col_parse(const char *name, struct export_col *c)
{
	for (unsigned k = 0; k < sizeof ident_names / sizeof *ident_names; k++)
		if (strcmp(name, ident_names[k]) == 0) {
			*c = (struct export_col){ (uint8_t)k, 0, -1 };
			return 0;
		}
	if (strcmp(name, "flags") == 0) {
		*c = (struct export_col){ EXPORT_COL_FLAGS, 0, -1 };
		return 0;
	}
	if (strcmp(name, "derived") == 0) {
		*c = (struct export_col){ EXPORT_COL_DERIVED, 0, -1 };
		return 0;
	}
	for (unsigned b = 0; b < FRAME_FLAG_COUNT; b++)
		if (strcmp(name, frame_flag_name(b)) == 0) {
			*c = (struct export_col){ EXPORT_COL_FLAG, (uint8_t)b, -1 };
			return 0;
		}
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const struct frame_channel *ch = &frame_channels[b];
		size_t n = ch->name_len;

		if (strcmp(name, ch->name) == 0) {
			*c = (struct export_col){ EXPORT_COL_CHANNEL, (uint8_t)b, -1 };
			return 0;
		}
		if (ch->n == 1 || strncmp(name, ch->name, n) != 0 || name[n] != '_')
			continue;
		for (unsigned i = 0; i < ch->n; i++)
			if (strcmp(name + n + 1, frame_dim_suffix(ch->dim, i)) == 0) {
				*c = (struct export_col){ EXPORT_COL_CHANNEL, (uint8_t)b,
							  (int8_t)i };
				return 0;
			}
	}
	return -1;
}

/* Whether two columns share a value (pos_m and pos_m_x do). */
static int col_overlap(const struct export_col *a, const struct export_col *b)
{
	if (a->kind == EXPORT_COL_FLAGS || b->kind == EXPORT_COL_FLAGS)
		return (a->kind == EXPORT_COL_FLAGS || a->kind == EXPORT_COL_FLAG) &&
		       (b->kind == EXPORT_COL_FLAGS || b->kind == EXPORT_COL_FLAG);
	if (a->kind != b->kind || a->bit != b->bit)
		return 0;
	return a->kind != EXPORT_COL_CHANNEL || a->idx < 0 || b->idx < 0 || a->idx == b->idx;
}

static int parse_channels(struct export_opts *o, const char *list, char *err, size_t cap)
{
	char name[64];
	const char *p = list;

	o->ncols = 0;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		struct export_col c;

		while (n && isspace((unsigned char)*p)) {
			p++;
			n--;
		}
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		if (n == 0)
			return fail(err, cap, -EINVAL, "channels: an empty name in the list");
		if (n >= sizeof name)
			return fail(err, cap, -EINVAL, "channels: unknown channel \"%.40s...\"", p);
		memcpy(name, p, n);
		name[n] = 0;
		if (strcmp(name, "time_s") != 0) { /* always the first column */
			if (col_parse(name, &c) < 0)
				return fail(err, cap, -EINVAL, "channels: unknown channel \"%s\"",
					    name);
			for (size_t i = 0; i < o->ncols; i++)
				if (col_overlap(&o->cols[i], &c))
					return fail(err, cap, -EINVAL,
						    "channels: \"%s\" is in the list twice", name);
			if (o->ncols == EXPORT_COLS_MAX)
				return fail(err, cap, -EINVAL, "channels: too many");
			o->cols[o->ncols++] = c;
		}
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

int export_opts_set(struct export_opts *o, const char *name, const char *value, char *err,
		    size_t errcap)
{
	unsigned long v;
	int p, f;

	for (p = 0; p < P_COUNT; p++)
		if (name && strcmp(name, param_names[p]) == 0)
			break;
	if (p == P_COUNT)
		return fail(err, errcap, -EINVAL,
			    "%.40s: unknown parameter (format, channels, hz, lap, compression)",
			    name ? name : "");
	if (o->given & (1u << p))
		return fail(err, errcap, -EINVAL, "%s: given twice", name);
	o->given |= 1u << p;
	if (!value)
		value = "";
	switch (p) {
	case P_FORMAT:
		if ((f = export_format_parse(value)) < 0)
			return fail(err, errcap, -EINVAL,
				    "format: must be csv, json, ld, ldx or parquet");
		o->format = (enum export_format)f;
		return 0;
	case P_CHANNELS:
		o->with_options = 1;
		return parse_channels(o, value, err, errcap);
	case P_HZ:
		if (parse_uint(value, 1, EXPORT_HZ_MAX, &v) < 0)
			return fail(err, errcap, -EINVAL, "hz: must be a whole number from 1 to %d",
				    EXPORT_HZ_MAX);
		o->hz = (unsigned)v;
		o->with_options = 1;
		return 0;
	case P_LAP:
		if (parse_uint(value, 1, UINT32_MAX, &v) < 0)
			return fail(err, errcap, -EINVAL, "lap: must be a lap number (1, 2, ...)");
		o->lap = (uint32_t)v;
		o->with_options = 1;
		return 0;
	default:
		if (strcmp(value, "zstd") == 0)
			o->zstd = 1;
		else if (strcmp(value, "none") == 0)
			o->zstd = 0;
		else
			return fail(err, errcap, -EINVAL, "compression: must be zstd or none");
		return 0;
	}
}

/* The columns in effect: the options' list, or every column of the plain CSV. */
static size_t effective_cols(const struct export_opts *o, struct export_col *out)
{
	size_t n = 0;

	if (o->ncols) {
		memcpy(out, o->cols, o->ncols * sizeof *out);
		return o->ncols;
	}
	for (unsigned k = 0; k < sizeof ident_names / sizeof *ident_names; k++)
		out[n++] = (struct export_col){ (uint8_t)k, 0, -1 };
	for (unsigned b = 0; b < FRAME_P_COUNT; b++)
		out[n++] = (struct export_col){ EXPORT_COL_CHANNEL, (uint8_t)b, -1 };
	out[n++] = (struct export_col){ EXPORT_COL_FLAGS, 0, -1 };
	out[n++] = (struct export_col){ EXPORT_COL_DERIVED, 0, -1 };
	return n;
}

/* The frame channels (FRAME_P_* bits) and flags the columns ask for. */
static void cols_bits(const struct export_col *c, size_t n, uint64_t *channels, unsigned *flags)
{
	*channels = 0;
	*flags = 0;
	for (size_t i = 0; i < n; i++) {
		if (c[i].kind == EXPORT_COL_CHANNEL)
			*channels |= 1ull << c[i].bit;
		else if (c[i].kind == EXPORT_COL_FLAGS)
			*flags |= (1u << FRAME_FLAG_COUNT) - 1;
		else if (c[i].kind == EXPORT_COL_FLAG)
			*flags |= 1u << c[i].bit;
	}
}

int export_opts_resolve(struct export_opts *o, char *err, size_t errcap)
{
	if ((o->given & (1u << P_COMPRESSION)) && o->format != EXPORT_PARQUET)
		return fail(err, errcap, -EINVAL, "compression: only for format=parquet");
	if (o->manifest && o->format != EXPORT_CSV && o->format != EXPORT_JSON)
		return fail(err, errcap, -EINVAL,
			    "manifest: derived channels are exported as csv or json");
	if (o->format == EXPORT_LD && o->ncols) {
		struct motec_map m[MOTEC_CHANNELS_MAX];
		uint64_t channels;
		unsigned flags;

		cols_bits(o->cols, o->ncols, &channels, &flags);
		if (!motec_map_select(channels, flags, (channels & FRAME_P_LAP) != 0, 1, m,
				      MOTEC_CHANNELS_MAX))
			return fail(err, errcap, -EINVAL,
				    "channels: MoTeC has a channel for none of these");
	}
	o->first_seq = 0;
	o->last_seq = 0;
	if (o->lap) {
		const struct export_lap *found = NULL;
		uint32_t lo = UINT32_MAX, hi = 0;

		for (size_t i = 0; i < o->run.nlaps; i++) {
			const struct export_lap *l = &o->run.laps[i];

			lo = l->number < lo ? l->number : lo;
			hi = l->number > hi ? l->number : hi;
			if (l->number == o->lap && !found)
				found = l;
		}
		if (!found && o->run.nlaps)
			return fail(err, errcap, -ENOENT,
				    "lap: the run has no lap %u (its laps: %u to %u)", o->lap, lo,
				    hi);
		if (!found)
			return fail(err, errcap, -ENOENT, "lap: the run has no completed laps");
		o->first_seq = found->start_seq;
		o->last_seq = found->end_seq;
	}
	return 0;
}

int export_laps_from_json(json_t *laps, struct export_lap **out, size_t *n)
{
	struct export_lap *l;
	size_t i, k = 0;
	json_t *v;

	*out = NULL;
	*n = 0;
	if (!json_is_array(laps) || json_array_size(laps) == 0)
		return 0;
	if (!(l = calloc(json_array_size(laps), sizeof *l)))
		return -ENOMEM;
	json_array_foreach(laps, i, v) {
		json_t *num = json_object_get(v, "number"), *s = json_object_get(v, "start_seq"),
		       *e = json_object_get(v, "end_seq"), *t = json_object_get(v, "time_ms");

		if (!json_is_integer(num) || !json_is_integer(s) || !json_is_integer(e) ||
		    json_integer_value(num) < 1 || json_integer_value(num) > UINT32_MAX ||
		    json_integer_value(s) < 0 || json_integer_value(e) < json_integer_value(s))
			continue;
		l[k].number = (uint32_t)json_integer_value(num);
		l[k].start_seq = (uint64_t)json_integer_value(s);
		l[k].end_seq = (uint64_t)json_integer_value(e);
		l[k].time_ms = json_is_integer(t) && json_integer_value(t) >= 0 &&
					       json_integer_value(t) <= INT32_MAX
				       ? (int32_t)json_integer_value(t)
				       : -1;
		l[k].valid = json_is_true(json_object_get(v, "valid"));
		k++;
	}
	if (k == 0) {
		free(l);
		return 0;
	}
	*out = l;
	*n = k;
	return 0;
}

int export_format_parse(const char *name)
{
	for (int f = 0; name && f < EXPORT_FORMAT_COUNT; f++)
		if (strcmp(name, format_names[f]) == 0)
			return f;
	return -EINVAL;
}

const char *export_format_media_type(enum export_format format)
{
	return (unsigned)format < EXPORT_FORMAT_COUNT ? format_media[format] : NULL;
}

const char *export_format_ext(enum export_format format)
{
	return (unsigned)format < EXPORT_FORMAT_COUNT ? format_exts[format] : NULL;
}

/* Append s to buf[at..cap) keeping [A-Za-z0-9_-] and turning the rest into '_'. */
static size_t stem_put(char *buf, size_t cap, size_t at, const char *s, size_t max)
{
	for (size_t i = 0; s && s[i] && i < max; i++, at++) {
		char ch = s[i];

		if (!isalnum((unsigned char)ch) && ch != '-' && ch != '_')
			ch = '_';
		if (at + 1 < cap)
			buf[at] = ch;
	}
	if (cap)
		buf[at < cap ? at : cap - 1] = 0;
	return at;
}

size_t export_file_stem(const struct export_opts *o, char *buf, size_t cap)
{
	const char *place = o->run.track && *o->run.track ? o->run.track : o->run.game;
	char lap[24];
	size_t at = 0;

	if (cap)
		buf[0] = 0;
	at = stem_put(buf, cap, at, place && *place ? place : "run", 48);
	at = stem_put(buf, cap, at, "_", 1);
	at = stem_put(buf, cap, at, o->run.run_id && *o->run.run_id ? o->run.run_id : "export", 8);
	if (o->lap) {
		snprintf(lap, sizeof lap, "_lap%u", o->lap);
		at = stem_put(buf, cap, at, lap, sizeof lap);
	}
	return at;
}

/* --- output --- */

struct sink {
	const struct export_opts *o;
	char *buf; /* EXPORT_CHUNK */
	size_t len;
	uint64_t bytes;
	int err;
};

static int sink_flush(struct sink *s)
{
	int rc;

	if (s->err || !s->len)
		return s->err;
	if ((rc = s->o->write(s->o->ctx, s->buf, s->len)) < 0)
		return s->err = rc;
	s->bytes += s->len;
	s->len = 0;
	return 0;
}

/* Bytes straight through, in pieces of at most EXPORT_CHUNK (after what is buffered). */
static int sink_write(void *ctx, const void *p, size_t n)
{
	struct sink *s = ctx;
	const char *b = p;
	int rc;

	if (sink_flush(s) < 0)
		return s->err;
	while (n) {
		size_t k = n < EXPORT_CHUNK ? n : EXPORT_CHUNK;

		if ((rc = s->o->write(s->o->ctx, b, k)) < 0)
			return s->err = rc;
		s->bytes += k;
		b += k;
		n -= k;
	}
	return 0;
}

/* Room for one more text row: flush when less than a row's worth is left. */
static char *sink_row(struct sink *s)
{
	if (EXPORT_CHUNK - s->len < EXPORT_LINE_MAX && sink_flush(s) < 0)
		return NULL;
	return s->buf + s->len;
}

/* --- the frames of the export, on the run clock --- */

struct walk {
	struct framefile_reader *r;
	const struct export_opts *o;
	const struct pw_frame *blk;
	size_t n, k;
	int started, done;
	double t; /* run clock of the last frame delivered */
	double prev_game;
	int prev_has_game;
	int64_t prev_ns, t0_ns;
	uint64_t frames;
	const struct pw_frame **pin; /* a frame the caller holds across a block change */
	struct pw_frame keep;
	/* what the frames hold (MoTeC's channels) */
	uint64_t present, derived;
	unsigned flags_known;
	int has_height;
	/* lap ends (sorted) and the run clock of the first frame after each */
	const uint64_t *ends;
	double *beacons;
	size_t nends, nbeacons;
	/* opts.manifest's channels over every frame delivered: mv of the last */
	struct manifest_eval *ev;
	double mv[MANIFEST_CHANNELS_MAX];
};

static void walk_init(struct walk *w, struct framefile_reader *r, const struct export_opts *o)
{
	memset(w, 0, sizeof *w);
	w->r = r;
	w->o = o;
}

static void walk_clock(struct walk *w, const struct pw_frame *x)
{
	int has_game = (x->present & FRAME_P_GAME_TIME) && isfinite(x->game_time_s);

	if (!w->started) {
		w->started = 1;
		w->t = 0;
		w->t0_ns = x->t_ns;
	} else {
		double dt = -1;

		if (has_game && w->prev_has_game) {
			dt = x->game_time_s - w->prev_game;
			if (!(dt >= 0 && dt <= EXPORT_CLOCK_GAP_S))
				dt = -1;
		}
		if (dt < 0) {
			dt = (double)(x->t_ns - w->prev_ns) / 1e9;
			if (!(dt > 0))
				dt = 0;
		}
		w->t += dt;
	}
	w->prev_has_game = has_game;
	w->prev_game = x->game_time_s;
	w->prev_ns = x->t_ns;
}

/* The next frame of the export and its run clock: 1, 0 at the end, or a read error. */
static int walk_next(struct walk *w, const struct pw_frame **f, double *t)
{
	const struct pw_frame *x;
	int rc;

	for (;;) {
		if (w->done)
			return 0;
		if (w->k == w->n) {
			if (w->pin && *w->pin >= w->blk && *w->pin < w->blk + w->n) {
				w->keep = **w->pin;
				*w->pin = &w->keep;
			}
			if ((rc = framefile_reader_next(w->r, &w->blk, &w->n)) <= 0) {
				w->done = rc == 0;
				w->n = w->k = 0;
				return rc;
			}
			w->k = 0;
		}
		x = &w->blk[w->k++];
		if (x->seq < w->o->first_seq)
			continue;
		if (w->o->last_seq && x->seq > w->o->last_seq) {
			w->done = 1;
			return 0;
		}
		walk_clock(w, x);
		w->present |= x->present;
		w->derived |= x->derived & x->present;
		w->flags_known |= x->flags_known;
		if ((x->present & FRAME_P_POS) && x->pos_m[1] != 0)
			w->has_height = 1;
		while (w->nbeacons < w->nends && x->seq > w->ends[w->nbeacons])
			w->beacons[w->nbeacons++] = w->t;
		if (w->o->progress && w->frames % EXPORT_PROGRESS_EVERY == 0)
			w->o->progress(w->o->ctx, w->frames);
		w->frames++;
		if (w->ev)
			manifest_apply(w->ev, x, w->mv);
		*f = x;
		*t = w->t;
		return 1;
	}
}

/* The float channels resampling interpolates. */
struct lerp_ch {
	uint64_t bit;
	uint16_t off;
	uint8_t n, is_double, jump; /* jump: 1 angle, 2 falls at the line */
};

struct resample {
	struct walk *w;
	unsigned hz;
	uint64_t k; /* the next row */
	const struct pw_frame *a, *b;
	double ta, tb;
	int have_a, have_b, ended;
	struct pw_frame out;
	struct lerp_ch lerp[FRAME_P_COUNT];
	size_t nlerp;
	/* the manifest's values of a and b, and of the row (nmv of them) */
	double va[MANIFEST_CHANNELS_MAX], vb[MANIFEST_CHANNELS_MAX], vout[MANIFEST_CHANNELS_MAX];
	size_t nmv;
};

static void resample_init(struct resample *s, struct walk *w, unsigned hz)
{
	memset(s, 0, sizeof *s);
	s->w = w;
	s->hz = hz;
	s->nmv = w->ev ? w->o->manifest->nchannels : 0;
	w->pin = &s->a;
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const struct frame_channel *c = &frame_channels[b];
		struct lerp_ch *l;

		if (c->type != FRAME_T_F32 && c->type != FRAME_T_F64)
			continue;
		l = &s->lerp[s->nlerp++];
		l->bit = c->bit;
		l->off = c->off;
		l->n = c->n;
		l->is_double = c->type == FRAME_T_F64;
		l->jump = (b == FRAME_CH_YAW || b == FRAME_CH_PITCH || b == FRAME_CH_ROLL) ? 1
			  : (b == FRAME_CH_LAP_DIST || b == FRAME_CH_SPLINE)               ? 2
											   : 0;
	}
}

static double lerp_get(const struct pw_frame *f, const struct lerp_ch *l, unsigned i)
{
	const char *p = (const char *)f + l->off;

	return l->is_double ? ((const double *)p)[i] : ((const float *)p)[i];
}

/* s->out at t, between a and b. */
static void interpolate(struct resample *s, double t)
{
	const struct pw_frame *a = s->a, *b = s->b;
	double u = (t - s->ta) / (s->tb - s->ta);
	uint64_t both = a->present & b->present;

	s->out = u < 0.5 ? *a : *b;
	for (size_t k = 0; k < s->nmv; k++) {
		double va = s->va[k], vb = s->vb[k];

		/* like a float channel: linear when both frames have a value */
		s->vout[k] = s->tb - s->ta <= EXPORT_INTERP_GAP_S && !isnan(va) && !isnan(vb)
				     ? va + u * (vb - va)
				     : (u < 0.5 ? va : vb);
	}
	if (s->tb - s->ta > EXPORT_INTERP_GAP_S)
		return;
	s->out.t_ns = a->t_ns + (int64_t)llround(u * (double)(b->t_ns - a->t_ns));
	for (size_t j = 0; j < s->nlerp; j++) {
		const struct lerp_ch *l = &s->lerp[j];
		char *p = (char *)&s->out + l->off;

		if (!(both & l->bit))
			continue;
		for (unsigned i = 0; i < l->n; i++) {
			double va = lerp_get(a, l, i), vb = lerp_get(b, l, i), v;

			if ((l->jump == 1 && fabs(vb - va) > M_PI) || (l->jump == 2 && vb < va))
				continue;
			v = va + u * (vb - va);
			if (l->is_double)
				((double *)p)[i] = v;
			else
				((float *)p)[i] = (float)v;
		}
	}
}

static int resample_next(struct resample *s, const struct pw_frame **f, double *t)
{
	int rc;

	for (;;) {
		double at = (double)s->k / s->hz;

		if (!s->have_a) {
			if ((rc = walk_next(s->w, &s->a, &s->ta)) <= 0)
				return rc;
			memcpy(s->va, s->w->mv, s->nmv * sizeof *s->va);
			s->have_a = 1;
		}
		if (s->have_b) {
			if (at < s->tb) {
				interpolate(s, at);
				break;
			}
			s->a = s->b;
			s->ta = s->tb;
			memcpy(s->va, s->vb, s->nmv * sizeof *s->va);
			s->have_b = 0;
		}
		if (s->ended) {
			if (at > s->ta)
				return 0;
			s->out = *s->a; /* a row exactly at the last frame */
			memcpy(s->vout, s->va, s->nmv * sizeof *s->va);
			break;
		}
		if ((rc = walk_next(s->w, &s->b, &s->tb)) < 0)
			return rc;
		if (rc == 0) {
			s->ended = 1;
		} else {
			memcpy(s->vb, s->w->mv, s->nmv * sizeof *s->vb);
			s->have_b = 1;
		}
	}
	*f = &s->out;
	*t = (double)s->k++ / s->hz;
	return 1;
}

/* The rows of the export: every frame, or resampled. */
struct rows {
	struct walk w;
	struct resample rs;
	unsigned hz;
};

static void rows_init(struct rows *r, struct framefile_reader *fr, const struct export_opts *o,
		      unsigned hz, struct manifest_eval *ev)
{
	walk_init(&r->w, fr, o);
	r->w.ev = ev;
	r->hz = hz;
	if (hz)
		resample_init(&r->rs, &r->w, hz);
}

static int rows_next(struct rows *r, const struct pw_frame **f, double *t)
{
	return r->hz ? resample_next(&r->rs, f, t) : walk_next(&r->w, f, t);
}

/* The manifest's values of the row rows_next gave last. */
static const double *rows_values(const struct rows *r)
{
	return r->hz ? r->rs.vout : r->w.mv;
}

/* --- text --- */

/* Value i of channel c, if it is one to write. */
static int channel_value(const struct pw_frame *f, const struct frame_channel *c, unsigned i,
			 double *v)
{
	if (!(f->present & c->bit))
		return 0;
	*v = frame_channel_value(f, (unsigned)(c - frame_channels), i);
	return frame_value_known(c, *v);
}

static char *put_s(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static char *put_value(char *p, const struct frame_channel *c, double v)
{
	char tmp[40];
	int n;

	switch (c->type) {
	case FRAME_T_F32:
		return p + numfmt_f32(p, (float)v);
	case FRAME_T_F64:
		/* as frame.c writes doubles: 15 digits when they read back, else 17 */
		n = snprintf(tmp, sizeof tmp, "%.15g", v);
		if (strtod(tmp, NULL) != v)
			n = snprintf(tmp, sizeof tmp, "%.17g", v);
		return put_s(p, tmp, (size_t)n);
	default:
		return p + numfmt_i64(p, (int64_t)v);
	}
}

static char *put_ident(char *p, const struct pw_frame *f, unsigned kind, int json)
{
	const char *s;

	switch (kind) {
	case EXPORT_COL_SEQ:
		return p + numfmt_u64(p, f->seq);
	case EXPORT_COL_T_NS:
		return p + numfmt_i64(p, f->t_ns);
	case EXPORT_COL_GAME_SESSION:
		return p + numfmt_u64(p, f->game_session);
	default:
		s = kind == EXPORT_COL_FEED ? frame_feed_name(f->feed) : frame_game_name(f->game);
		if (json)
			*p++ = '"';
		p = put_s(p, s, strlen(s));
		if (json)
			*p++ = '"';
		return p;
	}
}

/* The names of the channels of f in mask that pitwall derived: space-separated,
 * or a JSON array's items. */
static char *put_derived(char *p, const struct pw_frame *f, uint64_t mask, int json)
{
	for (uint64_t bits = f->derived & f->present & mask; bits; bits &= bits - 1) {
		const struct frame_channel *ch = &frame_channels[__builtin_ctzll(bits)];

		if (bits != (f->derived & f->present & mask))
			*p++ = json ? ',' : ' ';
		if (json)
			*p++ = '"';
		p = put_s(p, ch->name, ch->name_len);
		if (json)
			*p++ = '"';
	}
	return p;
}

/* One CSV row of the options (time_s first) at p; returns its end. mask: the
 * exported channels (FRAME_P_*). */
static char *csv_row(char *p, const struct export_col *cols, size_t n, uint64_t mask,
		     const struct pw_frame *f, double t)
{
	p += numfmt_fixed(p, t, 6);
	for (size_t k = 0; k < n; k++) {
		const struct export_col *c = &cols[k];
		const struct frame_channel *ch;
		double v;

		switch (c->kind) {
		case EXPORT_COL_CHANNEL:
			ch = &frame_channels[c->bit];
			for (unsigned i = c->idx < 0 ? 0 : (unsigned)c->idx;
			     i < (c->idx < 0 ? ch->n : (unsigned)c->idx + 1); i++) {
				*p++ = ',';
				if (ch->type ==
				    FRAME_T_F32) { /* most channels: straight to the digits */
					float fv;

					memcpy(&fv, (const char *)f + ch->off + i * sizeof fv,
					       sizeof fv);
					if ((f->present & ch->bit) && isfinite(fv))
						p += numfmt_f32(p, fv);
				} else if (channel_value(f, ch, i, &v)) {
					p = put_value(p, ch, v);
				}
			}
			break;
		case EXPORT_COL_FLAGS:
		case EXPORT_COL_FLAG:
			for (unsigned b = c->kind == EXPORT_COL_FLAG ? c->bit : 0;
			     b < (c->kind == EXPORT_COL_FLAG ? c->bit + 1u : FRAME_FLAG_COUNT);
			     b++) {
				*p++ = ',';
				if (f->flags_known & (1u << b))
					*p++ = (char)('0' + ((f->flags >> b) & 1));
			}
			break;
		case EXPORT_COL_DERIVED:
			*p++ = ',';
			p = put_derived(p, f, mask, 0);
			break;
		default:
			*p++ = ',';
			p = put_ident(p, f, c->kind, 0);
		}
	}
	*p++ = '\n';
	return p;
}

static char *json_key(char *p, const char *name, size_t n)
{
	*p++ = ',';
	*p++ = '"';
	p = put_s(p, name, n);
	*p++ = '"';
	*p++ = ':';
	return p;
}

/* One JSON line of the options at p; returns its end. */
static char *json_row(char *p, const struct export_col *cols, size_t n, uint64_t mask,
		      const struct pw_frame *f, double t)
{
	char name[64];

	p = put_s(p, "{\"time_s\":", 10);
	p += numfmt_fixed(p, t, 6);
	for (size_t k = 0; k < n; k++) {
		const struct export_col *c = &cols[k];
		const struct frame_channel *ch;
		double v;
		int first = 1;

		switch (c->kind) {
		case EXPORT_COL_CHANNEL:
			ch = &frame_channels[c->bit];
			if (!(f->present & ch->bit))
				break;
			if (c->idx >= 0 || ch->n == 1) {
				unsigned i = c->idx < 0 ? 0 : (unsigned)c->idx;

				if (c->idx >= 0) {
					int len = snprintf(name, sizeof name, "%s_%s", ch->name,
							   frame_dim_suffix(ch->dim, i));
					p = json_key(p, name, (size_t)len);
				} else {
					p = json_key(p, ch->name, ch->name_len);
				}
				if (channel_value(f, ch, i, &v))
					p = put_value(p, ch, v);
				else
					p = put_s(p, "null", 4);
				break;
			}
			p = json_key(p, ch->name, ch->name_len);
			*p++ = '[';
			for (unsigned i = 0; i < ch->n; i++) {
				if (i)
					*p++ = ',';
				if (channel_value(f, ch, i, &v))
					p = put_value(p, ch, v);
				else
					p = put_s(p, "null", 4);
			}
			*p++ = ']';
			break;
		case EXPORT_COL_FLAGS:
			if (!f->flags_known)
				break;
			p = json_key(p, "flags", 5);
			*p++ = '{';
			for (unsigned b = 0; b < FRAME_FLAG_COUNT; b++) {
				const char *fl = frame_flag_name(b);

				if (!(f->flags_known & (1u << b)))
					continue;
				if (!first)
					*p++ = ',';
				first = 0;
				*p++ = '"';
				p = put_s(p, fl, strlen(fl));
				p = put_s(p, "\":", 2);
				p = (f->flags >> b) & 1 ? put_s(p, "true", 4)
							: put_s(p, "false", 5);
			}
			*p++ = '}';
			break;
		case EXPORT_COL_FLAG:
			if (!(f->flags_known & (1u << c->bit)))
				break;
			p = json_key(p, frame_flag_name(c->bit), strlen(frame_flag_name(c->bit)));
			p = (f->flags >> c->bit) & 1 ? put_s(p, "true", 4) : put_s(p, "false", 5);
			break;
		case EXPORT_COL_DERIVED:
			if (!(f->derived & f->present & mask))
				break;
			p = json_key(p, "derived", 7);
			*p++ = '[';
			p = put_derived(p, f, mask, 1);
			*p++ = ']';
			break;
		default:
			p = json_key(p, ident_names[c->kind], strlen(ident_names[c->kind]));
			p = put_ident(p, f, c->kind, 1);
		}
	}
	p = put_s(p, "}\n", 2);
	return p;
}

/* How many CSV / Parquet columns column c spreads over. */
static unsigned col_width(const struct export_col *c)
{
	if (c->kind == EXPORT_COL_CHANNEL)
		return c->idx < 0 ? frame_channels[c->bit].n : 1;
	return c->kind == EXPORT_COL_FLAGS ? FRAME_FLAG_COUNT : 1;
}

/* The name of the j-th of those columns ("speed_kmh", "pos_m_x", "in_pit"). */
static void col_name(const struct export_col *c, unsigned j, char *buf, size_t cap)
{
	const struct frame_channel *ch = &frame_channels[c->bit];

	switch (c->kind) {
	case EXPORT_COL_CHANNEL:
		if (ch->n == 1)
			snprintf(buf, cap, "%s", ch->name);
		else
			snprintf(buf, cap, "%s_%s", ch->name,
				 frame_dim_suffix(ch->dim, c->idx < 0 ? j : (unsigned)c->idx));
		break;
	case EXPORT_COL_FLAGS:
		snprintf(buf, cap, "%s", frame_flag_name(j));
		break;
	case EXPORT_COL_FLAG:
		snprintf(buf, cap, "%s", frame_flag_name(c->bit));
		break;
	case EXPORT_COL_DERIVED:
		snprintf(buf, cap, "derived");
		break;
	default:
		snprintf(buf, cap, "%s", ident_names[c->kind]);
	}
}

/* The CSV header of the options into p (room for EXPORT_LINE_MAX); its end. */
static char *csv_header(char *p, const struct export_col *cols, size_t n)
{
	char name[64];

	p = put_s(p, "time_s", 6);
	for (size_t k = 0; k < n; k++)
		for (unsigned j = 0; j < col_width(&cols[k]); j++) {
			col_name(&cols[k], j, name, sizeof name);
			*p++ = ',';
			p = put_s(p, name, strlen(name));
		}
	*p++ = '\n';
	return p;
}

/*
 * The manifest's values v after the row of len bytes at p (the line buffer,
 * EXPORT_LINE_MAX bytes, no '\n' yet): csv cells after it, json members
 * inside its closing '}'. The new length; EXPORT_LINE_MAX - 1 or more when
 * it does not fit.
 */
static size_t add_derived(enum export_format format, const struct manifest *m, const double *v,
			  char *p, size_t len)
{
	if (format == EXPORT_CSV)
		return len + manifest_csv_cells(m, v, p + len, EXPORT_LINE_MAX - 1 - len);
	len--; /* inside the object */
	len += manifest_json_members(m, v, p + len, EXPORT_LINE_MAX - 2 - len);
	if (len >= EXPORT_LINE_MAX - 2)
		return EXPORT_LINE_MAX;
	p[len++] = '}';
	return len;
}

/* The plain export: frame_csv_header / frame_to_csv / frame_to_json of every frame. */
static int text_plain(struct rows *rw, struct sink *s, struct export_result *res)
{
	const struct manifest *m = s->o->manifest;
	const struct pw_frame *f;
	double t;
	size_t len;
	char *p;
	int rc;

	if (s->o->format == EXPORT_CSV) {
		p = sink_row(s);
		len = p ? frame_csv_header(p, EXPORT_LINE_MAX - 1) : 0;
		if (!p)
			return s->err;
		if (m && len < EXPORT_LINE_MAX - 1)
			len += manifest_csv_header(m, p + len, EXPORT_LINE_MAX - 1 - len);
		if (len >= EXPORT_LINE_MAX - 1)
			return -EMSGSIZE;
		p[len] = '\n';
		s->len += len + 1;
	}
	while ((rc = rows_next(rw, &f, &t)) == 1) {
		if (!(p = sink_row(s)))
			return s->err;
		len = s->o->format == EXPORT_CSV ? frame_to_csv(f, p, EXPORT_LINE_MAX - 1)
						 : frame_to_json(f, p, EXPORT_LINE_MAX - 1);
		if (m && len < EXPORT_LINE_MAX - 1)
			len = add_derived(s->o->format, m, rows_values(rw), p, len);
		if (len >= EXPORT_LINE_MAX - 1)
			continue; /* cannot happen: test_export checks the widest frame */
		p[len] = '\n';
		s->len += len + 1;
		res->rows++;
	}
	return rc < 0 ? rc : sink_flush(s);
}

/* csv / json with options. */
static int text_options(struct rows *rw, struct sink *s, const struct export_col *cols, size_t n,
			struct export_result *res)
{
	const struct manifest *m = s->o->manifest;
	const struct pw_frame *f;
	uint64_t mask;
	unsigned flags;
	double t;
	char *p;
	int rc;

	cols_bits(cols, n, &mask, &flags);
	if (s->o->format == EXPORT_CSV) {
		char *head;

		if (!(head = p = sink_row(s)))
			return s->err;
		p = csv_header(p, cols, n);
		if (m) {
			size_t used = (size_t)(--p - head); /* the derived names before the '\n' */

			if (used + manifest_csv_header(m, p, EXPORT_LINE_MAX - 1 - used) >=
			    EXPORT_LINE_MAX - 1)
				return -EMSGSIZE;
			p += strlen(p);
			*p++ = '\n';
		}
		s->len = (size_t)(p - s->buf);
	}
	while ((rc = rows_next(rw, &f, &t)) == 1) {
		char *row;
		size_t len;

		if (!(row = p = sink_row(s)))
			return s->err;
		p = s->o->format == EXPORT_CSV ? csv_row(p, cols, n, mask, f, t)
					       : json_row(p, cols, n, mask, f, t);
		if (m) {
			len = add_derived(s->o->format, m, rows_values(rw), row,
					  (size_t)(p - row) - 1);
			if (len >= EXPORT_LINE_MAX - 1)
				continue;
			row[len] = '\n';
			p = row + len + 1;
		}
		s->len = (size_t)(p - s->buf);
		res->rows++;
	}
	return rc < 0 ? rc : sink_flush(s);
}

/* --- Parquet --- */

struct pq_map {
	uint8_t kind, bit, idx, type;
};

static int pq_write(void *ctx, const void *buf, size_t len)
{
	return sink_write(ctx, buf, len);
}

/* Rows a Parquet batch gathers before handing each column over at once. */
#define PQ_BATCH 256

static enum parquet_src pq_src(uint8_t type)
{
	switch (type) {
	case FRAME_T_F32:
		return PARQUET_SRC_F32;
	case FRAME_T_F64:
		return PARQUET_SRC_F64;
	case FRAME_T_I8:
		return PARQUET_SRC_I8;
	case FRAME_T_U8:
		return PARQUET_SRC_U8;
	case FRAME_T_U16:
		return PARQUET_SRC_U16;
	default:
		return PARQUET_SRC_I32;
	}
}

/* Every column's values of the nb rows in b, each column at once. */
static void pq_batch(struct parquet_writer *w, const struct pq_map *pm, size_t ncols, uint64_t mask,
		     const struct pw_frame *b, const double *times, size_t nb)
{
	const size_t st = sizeof *b;
	uint8_t valid[PQ_BATCH], bits[PQ_BATCH];
	char names[EXPORT_LINE_MAX];

	parquet_put_many(w, 0, PARQUET_SRC_F64, times, sizeof *times, NULL, nb);
	for (size_t k = 1; k < ncols; k++) {
		const struct pq_map *m = &pm[k];
		const struct frame_channel *ch = &frame_channels[m->bit];
		const char *str;

		switch (m->kind) {
		case EXPORT_COL_SEQ:
			parquet_put_many(w, k, PARQUET_SRC_U64, &b->seq, st, NULL, nb);
			break;
		case EXPORT_COL_T_NS:
			parquet_put_many(w, k, PARQUET_SRC_I64, &b->t_ns, st, NULL, nb);
			break;
		case EXPORT_COL_GAME_SESSION:
			parquet_put_many(w, k, PARQUET_SRC_U64, &b->game_session, st, NULL, nb);
			break;
		case EXPORT_COL_FEED:
		case EXPORT_COL_GAME:
			for (size_t r = 0; r < nb; r++) {
				str = m->kind == EXPORT_COL_FEED ? frame_feed_name(b[r].feed)
								 : frame_game_name(b[r].game);
				parquet_put_bytes(w, k, str, strlen(str));
			}
			break;
		case EXPORT_COL_DERIVED:
			for (size_t r = 0; r < nb; r++)
				parquet_put_bytes(
					w, k, names,
					(size_t)(put_derived(names, &b[r], mask, 0) - names));
			break;
		case EXPORT_COL_FLAGS:
		case EXPORT_COL_FLAG:
			for (size_t r = 0; r < nb; r++) {
				valid[r] = (b[r].flags_known >> m->bit) & 1;
				bits[r] = (b[r].flags >> m->bit) & 1;
			}
			parquet_put_many(w, k, PARQUET_SRC_BOOL8, bits, 1, valid, nb);
			break;
		default:
			if (ch->type == FRAME_T_F32) { /* most columns: no call per value */
				size_t off = ch->off + (size_t)m->idx * sizeof(float);

				for (size_t r = 0; r < nb; r++) {
					float v;

					memcpy(&v, (const char *)&b[r] + off, sizeof v);
					valid[r] = (b[r].present & ch->bit) && isfinite(v);
				}
			} else {
				for (size_t r = 0; r < nb; r++) {
					double v;

					valid[r] = (uint8_t)channel_value(&b[r], ch, m->idx, &v);
				}
			}
			parquet_put_many(w, k, pq_src(ch->type),
					 (const char *)b + ch->off +
						 (size_t)m->idx * (ch->size / ch->n),
					 st, valid, nb);
		}
	}
}

static int parquet_out(struct rows *rw, struct sink *s, const struct export_col *cols, size_t n,
		       struct export_result *res)
{
	const struct export_opts *o = s->o;
	size_t ncols = 1, k = 0;
	struct parquet_column *pc = NULL;
	struct pq_map *pm = NULL;
	char(*names)[64] = NULL;
	struct parquet_writer *w = NULL;
	struct pw_frame *batch = NULL;
	double times[PQ_BATCH];
	const struct pw_frame *f;
	char hz[16] = "", lap[16] = "";
	uint64_t mask;
	unsigned flags;
	double t;
	int rc;
	const char *kv[] = {
		"pitwall.session_id",
		o->run.session_id ? o->run.session_id : "",
		"pitwall.run_id",
		o->run.run_id ? o->run.run_id : "",
		"game",
		o->run.game ? o->run.game : "",
		"track",
		o->run.track ? o->run.track : "",
		"car",
		o->run.car ? o->run.car : "",
		"driver",
		o->run.driver ? o->run.driver : "",
		"pitwall.hz",
		hz,
		"pitwall.lap",
		lap,
		"pitwall.time_s",
		"seconds on the run clock from the first row (docs/export.md)",
		NULL,
		NULL,
	};

	cols_bits(cols, n, &mask, &flags);
	if (o->hz)
		snprintf(hz, sizeof hz, "%u", o->hz);
	if (o->lap)
		snprintf(lap, sizeof lap, "%u", o->lap);
	for (size_t i = 0; i < n; i++)
		ncols += col_width(&cols[i]);
	pc = calloc(ncols, sizeof *pc);
	pm = calloc(ncols, sizeof *pm);
	names = calloc(ncols, sizeof *names);
	if (!pc || !pm || !names) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(names[0], sizeof names[0], "time_s");
	pc[k++] = (struct parquet_column){ names[0], PARQUET_DOUBLE, PARQUET_L_NONE, 0 };
	for (size_t i = 0; i < n; i++)
		for (unsigned j = 0; j < col_width(&cols[i]); j++, k++) {
			const struct export_col *c = &cols[i];
			const struct frame_channel *ch = &frame_channels[c->bit];
			struct parquet_column *p = &pc[k];

			col_name(c, j, names[k], sizeof names[k]);
			p->name = names[k];
			pm[k].kind = c->kind;
			pm[k].bit = c->kind == EXPORT_COL_FLAGS ? (uint8_t)j : c->bit;
			pm[k].idx = (uint8_t)(c->idx < 0 ? j : (unsigned)c->idx);
			switch (c->kind) {
			case EXPORT_COL_SEQ:
			case EXPORT_COL_GAME_SESSION:
				*p = (struct parquet_column){ names[k], PARQUET_INT64,
							      PARQUET_L_UINT64, 0 };
				break;
			case EXPORT_COL_T_NS:
				*p = (struct parquet_column){ names[k], PARQUET_INT64,
							      PARQUET_L_TIMESTAMP_NS, 0 };
				break;
			case EXPORT_COL_FEED:
			case EXPORT_COL_GAME:
			case EXPORT_COL_DERIVED:
				*p = (struct parquet_column){ names[k], PARQUET_BYTE_ARRAY,
							      PARQUET_L_STRING, 0 };
				break;
			case EXPORT_COL_FLAGS:
			case EXPORT_COL_FLAG:
				*p = (struct parquet_column){ names[k], PARQUET_BOOLEAN,
							      PARQUET_L_NONE, 1 };
				break;
			default:
				p->optional = 1;
				pm[k].type = ch->type;
				switch (ch->type) {
				case FRAME_T_F32:
					p->type = PARQUET_FLOAT;
					break;
				case FRAME_T_F64:
					p->type = PARQUET_DOUBLE;
					break;
				case FRAME_T_I8:
					p->type = PARQUET_INT32;
					p->logical = PARQUET_L_INT8;
					break;
				case FRAME_T_U8:
					p->type = PARQUET_INT32;
					p->logical = PARQUET_L_UINT8;
					break;
				case FRAME_T_U16:
					p->type = PARQUET_INT32;
					p->logical = PARQUET_L_UINT16;
					break;
				default:
					p->type = PARQUET_INT32;
					break;
				}
			}
		}
	{
		struct parquet_opts po = { .write = pq_write,
					   .ctx = s,
					   .kv = kv,
					   .codec = o->zstd ? PARQUET_ZSTD : PARQUET_UNCOMPRESSED,
					   .zstd_level = 1 };

		if ((rc = parquet_new(&w, pc, ncols, &po)) < 0)
			goto out;
	}
	if (!(batch = malloc(PQ_BATCH * sizeof *batch))) {
		rc = -ENOMEM;
		goto out;
	}
	do {
		size_t nb = 0, room = parquet_room(w);

		while (nb < PQ_BATCH && nb < room && (rc = rows_next(rw, &f, &t)) == 1) {
			batch[nb] = *f;
			times[nb++] = t;
		}
		if (rc < 0 || nb == 0)
			break;
		pq_batch(w, pm, ncols, mask, batch, times, nb);
		if ((rc = parquet_end_rows(w, nb)) < 0)
			goto out;
		res->rows += nb;
		rc = 1;
	} while (1);
	if (rc == 0) {
		rc = parquet_close(w);
		w = NULL;
	}
out:
	parquet_abort(w);
	free(batch);
	free(pc);
	free(pm);
	free(names);
	return rc < 0 ? rc : sink_flush(s);
}

/* --- MoTeC --- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_lap_start(const void *a, const void *b)
{
	const struct export_lap *x = a, *y = b;

	return x->start_seq < y->start_seq ? -1 : x->start_seq > y->start_seq;
}

/* The lap beacons of an export: the run clock at each lap end. */
struct beacons {
	uint64_t frames;
	uint64_t *ends; /* lap ends, sorted */
	double *t;      /* the run clock of the first frame after each */
	size_t nends, n;
};

/* Walk the export's frames once for its beacons. A lap export has one, at
 * its last frame: the lap's log ends at its line. */
static int beacons_find(struct framefile_reader *r, const struct export_opts *o, struct beacons *bc)
{
	struct walk w;
	const struct pw_frame *f;
	double t = 0;
	int rc;

	memset(bc, 0, sizeof *bc);
	if (!(bc->t = malloc((o->run.nlaps ? o->run.nlaps : 1) * sizeof *bc->t)))
		return -ENOMEM;
	if (o->run.nlaps && !o->lap) {
		if (!(bc->ends = malloc(o->run.nlaps * sizeof *bc->ends)))
			return -ENOMEM;
		for (size_t i = 0; i < o->run.nlaps; i++)
			bc->ends[i] = o->run.laps[i].end_seq;
		qsort(bc->ends, o->run.nlaps, sizeof *bc->ends, cmp_u64);
		bc->nends = o->run.nlaps;
	}
	walk_init(&w, r, o);
	w.ends = bc->ends;
	w.beacons = bc->t;
	w.nends = bc->nends;
	while ((rc = walk_next(&w, &f, &t)) == 1)
		;
	if (rc < 0)
		return rc;
	bc->frames = w.frames;
	bc->n = w.nbeacons;
	if (o->lap && w.frames) {
		bc->t[0] = w.t;
		bc->n = 1;
	}
	return 0;
}

static void beacons_free(struct beacons *bc)
{
	free(bc->ends);
	free(bc->t);
}

/* The i2 lap number (fastest lap details) of the lap ending at beacon k is k + 1. */
static void fastest(const struct export_opts *o, const struct beacons *bc, unsigned *lap,
		    int32_t *ms)
{
	*lap = 0;
	*ms = -1;
	for (size_t i = 0; i < o->run.nlaps; i++) {
		const struct export_lap *l = &o->run.laps[i];
		size_t k;

		if (!l->valid || l->time_ms < 0 || (*ms >= 0 && l->time_ms >= *ms))
			continue;
		if (o->lap) {
			if (l->number != o->lap || l->start_seq != o->first_seq)
				continue;
			k = 0;
		} else {
			for (k = 0; k < bc->n && bc->ends[k] != l->end_seq; k++)
				;
			if (k == bc->n)
				continue;
		}
		*lap = (unsigned)k + 1;
		*ms = l->time_ms;
	}
}

static int ldx_out(struct framefile_reader *r, struct sink *s, struct export_result *res)
{
	struct beacons bc;
	unsigned lap;
	int32_t ms;
	size_t need;
	char *x = NULL;
	int rc;

	if ((rc = beacons_find(r, s->o, &bc)) < 0)
		goto out;
	res->frames = bc.frames;
	if (!bc.frames) {
		rc = -ENODATA;
		goto out;
	}
	fastest(s->o, &bc, &lap, &ms);
	need = motec_ldx(NULL, 0, bc.t, bc.n, lap, ms) + 1;
	if (!(x = malloc(need))) {
		rc = -ENOMEM;
		goto out;
	}
	motec_ldx(x, need, bc.t, bc.n, lap, ms);
	res->rows = bc.n;
	rc = sink_write(s, x, need - 1);
out:
	free(x);
	beacons_free(&bc);
	return rc;
}

/* An unnamed file in dir for the log (O_TMPFILE, else a name unlinked at once). */
static int tmp_open(const char *dir)
{
	char path[4096];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0)
		return fd;
	if ((size_t)snprintf(path, sizeof path, "%s/pitwall-export-XXXXXX", dir) >= sizeof path)
		return -ENAMETOOLONG;
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0)
		return -errno;
	unlink(path);
	return fd;
}

static void str_in(char *dst, size_t cap, const char *s)
{
	snprintf(dst, cap, "%s", s ? s : "");
}

static void ld_header(const struct export_opts *o, int64_t t0_ns, const char *derived,
		      struct motec_header *h)
{
	unsigned game = frame_game_id(o->run.game);

	memset(h, 0, sizeof *h);
	str_in(h->driver, sizeof h->driver, o->run.driver);
	str_in(h->vehicle, sizeof h->vehicle, o->run.car);
	str_in(h->venue, sizeof h->venue, o->run.track);
	str_in(h->event, sizeof h->event,
	       o->run.session_label && *o->run.session_label ? o->run.session_label : "pitwall");
	str_in(h->session, sizeof h->session,
	       o->run.run_label && *o->run.run_label ? o->run.run_label : o->run.run_id);
	if (o->lap)
		snprintf(h->short_comment, sizeof h->short_comment, "lap %u", o->lap);
	else
		str_in(h->short_comment, sizeof h->short_comment, frame_game_title(game));
	/* i2 has no mark for a computed channel: the comment names them */
	snprintf(h->comment, sizeof h->comment, "pitwall session %s run %s, %s%s%s",
		 o->run.session_id ? o->run.session_id : "?", o->run.run_id ? o->run.run_id : "?",
		 frame_game_title(game),
		 derived[0] ? ". Derived by pitwall, not sent by the game: " : "", derived);
	h->start_ns = t0_ns;
}

/* The number of the lap the frame seq is in, from the laps sorted by start. */
static unsigned lap_of(const struct export_lap *laps, size_t n, size_t *at, uint64_t seq)
{
	while (*at < n && seq > laps[*at].end_seq)
		(*at)++;
	if (*at == n)
		return laps[n - 1].number + 1; /* the lap in progress after the last */
	if (seq >= laps[*at].start_seq)
		return laps[*at].number;
	return *at ? laps[*at - 1].number + 1 : (laps[0].number ? laps[0].number - 1 : 0);
}

/* Whether the run had what map entry m is made from. */
static int ld_has(const struct motec_map *m, const struct walk *w, size_t nlaps)
{
	switch (m->source) {
	case MOTEC_SRC_LAP_NUMBER:
		return nlaps || (w->present & FRAME_P_LAP);
	case MOTEC_SRC_FLAG:
		return (w->flags_known >> m->bit) & 1;
	default:
		if (m->source == MOTEC_SRC_CHANNEL && m->bit == FRAME_CH_POS && m->idx == 1)
			return w->has_height;
		return (w->present >> m->bit) & 1;
	}
}

/*
 * The .ld in one pass over the run: every sample's values of every channel
 * the run may have go to a spool file row by row (the count and the channels
 * the run really has are known only at its end), then into the log channel by
 * channel, a chunk of rows at a time. Memory: LD_SPOOL_ROWS rows and the
 * log's channel buffers.
 */
#define LD_SPOOL_ROWS 4096

static int ld_out(struct framefile_reader *r, struct sink *s, const struct export_col *cols,
		  size_t n, struct export_result *res)
{
	const struct export_opts *o = s->o;
	const char *dir = o->tmp_dir ? o->tmp_dir : "/tmp";
	unsigned hz = o->hz ? o->hz : EXPORT_LD_HZ;
	struct motec_map map[MOTEC_CHANNELS_MAX];
	struct motec_channel ch[MOTEC_CHANNELS_MAX];
	size_t keep[MOTEC_CHANNELS_MAX];
	int32_t last[MOTEC_CHANNELS_MAX] = { 0 };
	struct export_lap *laps = NULL;
	struct motec_ld *w = NULL;
	struct motec_header h;
	struct motec_gps gps;
	struct rows rw;
	const struct pw_frame *f;
	char derived[800] = "";
	int32_t *rows = NULL;
	uint64_t chosen, samples = 0;
	unsigned flags;
	size_t ncand, nkeep = 0, nrow = 0, at = 0;
	double t;
	int spool = -1, fd = -1, rc;

	cols_bits(cols, n, &chosen, &flags);
	ncand = motec_map_select(chosen, flags, (chosen & FRAME_P_LAP) != 0, 1, map,
				 MOTEC_CHANNELS_MAX);
	if (!ncand)
		return -ENODATA;
	if (o->run.nlaps) {
		if (!(laps = malloc(o->run.nlaps * sizeof *laps)))
			return -ENOMEM;
		memcpy(laps, o->run.laps, o->run.nlaps * sizeof *laps);
		qsort(laps, o->run.nlaps, sizeof *laps, cmp_lap_start);
	}
	motec_gps_init(&gps, frame_game_id(o->run.game), o->run.track);
	if (!(rows = malloc(LD_SPOOL_ROWS * ncand * sizeof *rows))) {
		rc = -ENOMEM;
		goto out;
	}
	if ((spool = tmp_open(dir)) < 0) {
		rc = spool;
		goto out;
	}
	rows_init(&rw, r, o, hz, NULL);
	while ((rc = rows_next(&rw, &f, &t)) == 1) {
		unsigned lap = laps ? lap_of(laps, o->run.nlaps, &at, f->seq) : f->lap + 1u;
		int32_t *row = rows + nrow * ncand;

		for (size_t i = 0; i < ncand; i++) {
			const struct motec_map *m = &map[i];
			int have = m->source == MOTEC_SRC_LAP_NUMBER ||
				   (m->source == MOTEC_SRC_FLAG ? (f->flags_known >> m->bit) & 1
								: (f->present >> m->bit) & 1);

			double v = have ? motec_map_value(m, f, &gps, lap) : NAN;

			if (!isnan(v)) /* else the last value holds */
				last[i] = motec_raw(&m->ch, v);
			row[i] = last[i];
		}
		samples++;
		if (++nrow == LD_SPOOL_ROWS) {
			if ((rc = atomicio_pwrite(
				     spool, rows, nrow * ncand * sizeof *rows,
				     (off_t)((samples - nrow) * ncand * sizeof *rows))) < 0)
				goto out;
			nrow = 0;
		}
	}
	if (rc < 0 ||
	    (nrow && (rc = atomicio_pwrite(spool, rows, nrow * ncand * sizeof *rows,
					   (off_t)((samples - nrow) * ncand * sizeof *rows))) < 0))
		goto out;
	res->frames = rw.w.frames;
	if (samples > UINT32_MAX) {
		rc = -EFBIG;
		goto out;
	}
	for (size_t i = 0; i < ncand; i++) {
		const struct motec_map *m = &map[i];

		if (!ld_has(m, &rw.w, o->run.nlaps))
			continue;
		keep[nkeep] = i;
		ch[nkeep++] = m->ch;
		if ((m->source == MOTEC_SRC_CHANNEL || m->source == MOTEC_SRC_GPS_LAT ||
		     m->source == MOTEC_SRC_GPS_LON) &&
		    ((rw.w.derived >> m->bit) & 1)) {
			size_t dl = strlen(derived), nl = strnlen(m->ch.name, sizeof m->ch.name);

			if (dl + 2 + nl < sizeof derived) {
				if (dl) {
					memcpy(derived + dl, ", ", 2);
					dl += 2;
				}
				memcpy(derived + dl, m->ch.name, nl);
				derived[dl + nl] = 0;
			}
		}
	}
	if (!samples || !nkeep) {
		rc = -ENODATA;
		goto out;
	}
	ld_header(o, rw.w.t0_ns, derived, &h);
	if ((fd = tmp_open(dir)) < 0) {
		rc = fd;
		goto out;
	}
	if ((rc = motec_ld_new(&w, fd, &h, ch, nkeep, (uint32_t)samples, (uint16_t)hz)) < 0)
		goto out;
	for (uint64_t row0 = 0; row0 < samples; row0 += LD_SPOOL_ROWS) {
		size_t nr =
			samples - row0 < LD_SPOOL_ROWS ? (size_t)(samples - row0) : LD_SPOOL_ROWS;

		if ((rc = atomicio_pread(spool, rows, nr * ncand * sizeof *rows,
					 (off_t)(row0 * ncand * sizeof *rows))) < 0)
			goto out;
		for (size_t j = 0; j < nkeep; j++)
			for (size_t k = 0; k < nr; k++)
				motec_ld_put_raw(w, j, rows[k * ncand + keep[j]]);
	}
	res->rows = samples;
	if ((rc = motec_ld_finish(w)) < 0)
		goto out;
	/* the log is whole: hand it on */
	{
		off_t size = lseek(fd, 0, SEEK_END), off = 0;

		if ((rc = sink_flush(s)) < 0)
			goto out;
		while (off < size) {
			size_t k = size - off < EXPORT_CHUNK ? (size_t)(size - off) : EXPORT_CHUNK;

			if ((rc = atomicio_pread(fd, s->buf, k, off)) < 0)
				goto out;
			s->len = k;
			if ((rc = sink_flush(s)) < 0)
				goto out;
			off += (off_t)k;
		}
	}
out:
	motec_ld_free(w);
	if (fd >= 0)
		close(fd);
	if (spool >= 0)
		close(spool);
	free(rows);
	free(laps);
	return rc;
}

int export_frames(struct framefile_reader *r, const struct export_opts *o,
		  struct export_result *res)
{
	struct export_col *cols = NULL;
	struct export_result mine;
	struct sink s = { 0 };
	struct rows rw;
	struct manifest_eval *ev = NULL;
	size_t n = 0;
	int rc = 0;

	if (!res)
		res = &mine;
	memset(res, 0, sizeof *res);
	if (!o || !o->write || (unsigned)o->format >= EXPORT_FORMAT_COUNT)
		return -EINVAL;
	s.o = o;
	if (!(s.buf = malloc(EXPORT_CHUNK)) || !(cols = malloc(EXPORT_COLS_MAX * sizeof *cols))) {
		rc = -ENOMEM;
		goto out;
	}
	n = effective_cols(o, cols);
	if (o->ncols && o->format != EXPORT_LD && o->format != EXPORT_LDX) {
		/* only the chunks of the columns asked for are read (frame file format 2) */
		uint64_t channels;
		unsigned flags;

		cols_bits(cols, n, &channels, &flags);
		framefile_reader_only(r, channels | FRAME_P_GAME_TIME);
	}
	switch (o->format) {
	case EXPORT_LD:
		rc = ld_out(r, &s, cols, n, res);
		break;
	case EXPORT_LDX:
		rc = ldx_out(r, &s, res);
		break;
	default:
		if (o->manifest && (o->format == EXPORT_CSV || o->format == EXPORT_JSON) &&
		    (rc = manifest_eval_new(o->manifest, &ev)) < 0)
			goto out;
		rows_init(&rw, r, o, o->hz, ev);
		if (o->format == EXPORT_PARQUET)
			rc = parquet_out(&rw, &s, cols, n, res);
		else if (o->with_options)
			rc = text_options(&rw, &s, cols, n, res);
		else
			rc = text_plain(&rw, &s, res);
		res->frames = rw.w.frames;
	}
out:
	manifest_eval_free(ev);
	res->bytes = s.bytes;
	free(s.buf);
	free(cols);
	return rc;
}
