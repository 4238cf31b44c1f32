/* manifest.c - see manifest.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/manifest.h"
#include "common/out.h"

/* Input slots of the formulas: frame values first, derived channel k at
 * DERIVED_SLOT + k (expr.h: the resolver numbers them). */
#define DERIVED_SLOT MANIFEST_INPUTS_MAX
#define NIN (MANIFEST_INPUTS_MAX + MANIFEST_CHANNELS_MAX)

struct manifest_eval {
	const struct manifest *m;
	double in[NIN];
	struct expr_slot slots[]; /* m->nslots */
};

static int fail(char *err, size_t errcap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errcap, const char *fmt, ...)
{
	va_list ap;

	if (err && errcap) {
		va_start(ap, fmt);
		vsnprintf(err, errcap, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---- names ---- */

static int same(const char *a, const char *name, size_t len)
{
	return strlen(a) == len && memcmp(a, name, len) == 0;
}

int manifest_input_find(const char *name, size_t len, struct manifest_input *in)
{
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const struct frame_channel *c = &frame_channels[b];

		if (len < c->name_len || memcmp(c->name, name, c->name_len) != 0)
			continue;
		if (c->n == 1 && len == c->name_len) {
			*in = (struct manifest_input){ 0, (unsigned char)b, 0 };
			return 1;
		}
		if (c->n == 1 || len == c->name_len || name[c->name_len] != '_')
			continue;
		for (unsigned i = 0; i < c->n; i++) {
			const char *sfx = frame_dim_suffix(c->dim, i);

			if (sfx && same(sfx, name + c->name_len + 1, len - c->name_len - 1)) {
				*in = (struct manifest_input){ 0, (unsigned char)b,
							       (unsigned char)i };
				return 1;
			}
		}
	}
	for (unsigned b = 0; b < FRAME_FLAG_COUNT; b++) {
		if (same(frame_flag_name(b), name, len)) {
			*in = (struct manifest_input){ 1, (unsigned char)b, 0 };
			return 1;
		}
	}
	return 0;
}

/* Names a derived channel may not take: everything a frame's JSON or CSV, an
 * export or a formula already gives a meaning. */
static int reserved(const char *name)
{
	static const char *const words[] = { "seq",   "t_ns",    "feed",   "game", "game_session",
					     "flags", "derived", "time_s", NULL };
	struct manifest_input in;
	size_t len = strlen(name);

	for (int i = 0; words[i]; i++)
		if (strcmp(words[i], name) == 0)
			return 1;
	for (unsigned b = 0; b < FRAME_P_COUNT; b++)
		if (strcmp(frame_channels[b].name, name) == 0)
			return 1;
	return manifest_input_find(name, len, &in) || expr_is_function(name, len);
}

static int channel_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MANIFEST_CHANNEL_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* ---- values ---- */

double manifest_input_value(const struct pw_frame *f, const struct manifest_input *in)
{
	const struct frame_channel *c;
	double v;

	if (in->flag)
		return (f->flags_known >> in->bit) & 1 ? (double)((f->flags >> in->bit) & 1) : NAN;
	c = &frame_channels[in->bit];
	if (!(f->present & c->bit))
		return NAN;
	v = frame_channel_value(f, in->bit, in->idx);
	return frame_value_known(c, v) ? v : NAN;
}

double manifest_clock(const struct pw_frame *f)
{
	if ((f->present & FRAME_P_GAME_TIME) && isfinite(f->game_time_s))
		return f->game_time_s;
	return (double)f->t_ns / 1e9;
}

/* ---- parsing ---- */

/* The resolver's context: the manifest being built and the channel compiled. */
struct resolving {
	struct manifest *m;
	json_t *chans;  /* the document's channels, for names defined later */
	size_t channel; /* the channel whose formula is compiled */
	int later;      /* a name was one of the channels not defined yet */
};

static int resolve(void *ctx, const char *name, size_t len)
{
	struct resolving *r = ctx;
	struct manifest *m = r->m;
	struct manifest_input in;

	for (size_t k = 0; k < r->channel; k++)
		if (same(m->ch[k].name, name, len))
			return DERIVED_SLOT + (int)k;
	for (size_t k = r->channel; k < json_array_size(r->chans); k++) {
		const char *later =
			json_string_value(json_object_get(json_array_get(r->chans, k), "name"));

		if (later && same(later, name, len)) {
			r->later = 1;
			return -1;
		}
	}
	if (!manifest_input_find(name, len, &in))
		return -1;
	for (size_t i = 0; i < m->ninputs; i++)
		if (!memcmp(&m->inputs[i], &in, sizeof in))
			return (int)i;
	if (m->ninputs >= MANIFEST_INPUTS_MAX)
		return -1;
	m->inputs[m->ninputs] = in;
	return (int)m->ninputs++;
}

/* Optional string member key of o (a JSON object) into *out: "" when absent
 * or null; -EINVAL (err names where) when not a string or longer than max. */
static int opt_string(json_t *o, const char *key, size_t max, const char *where, const char **out,
		      char *err, size_t errcap)
{
	json_t *v = json_object_get(o, key);

	*out = "";
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return fail(err, errcap, "%s%s must be a string", where, key);
	if (json_string_length(v) > max)
		return fail(err, errcap, "%s%s is longer than %zu bytes", where, key, max);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return fail(err, errcap, "%s%s contains a NUL character", where, key);
	*out = json_string_value(v);
	return 0;
}

/* Every key of o must be one of keys (NULL-terminated). */
static int only_keys(json_t *o, const char *const keys[], const char *where, char *err,
		     size_t errcap)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		int ok = 0;

		for (int i = 0; keys[i]; i++)
			ok |= strcmp(keys[i], key) == 0;
		if (!ok)
			return fail(err, errcap, "%sunknown field \"%s\"", where, key);
	}
	return 0;
}

static int parse_channel(struct manifest *m, json_t *chans, size_t i, char *err, size_t errcap)
{
	json_t *c = json_array_get(chans, i);
	static const char *const keys[] = { "name", "formula", "unit", "description", NULL };
	struct manifest_channel *ch = &m->ch[i];
	struct resolving r = { m, chans, i, 0 };
	struct expr_error xe;
	const char *name, *formula, *unit, *desc;
	char where[32];
	int rc;

	snprintf(where, sizeof where, "channels[%zu].", i);
	if (!json_is_object(c))
		return fail(err, errcap, "channels[%zu] must be an object", i);
	if ((rc = only_keys(c, keys, where, err, errcap)) < 0 ||
	    (rc = opt_string(c, "name", MANIFEST_CHANNEL_MAX, where, &name, err, errcap)) < 0 ||
	    (rc = opt_string(c, "formula", EXPR_SRC_MAX, where, &formula, err, errcap)) < 0 ||
	    (rc = opt_string(c, "unit", MANIFEST_UNIT_MAX, where, &unit, err, errcap)) < 0 ||
	    (rc = opt_string(c, "description", MANIFEST_TEXT_MAX, where, &desc, err, errcap)) < 0)
		return rc;
	if (!*name)
		return fail(err, errcap, "%sname is required", where);
	if (!channel_name_ok(name))
		return fail(err, errcap,
			    "%sname \"%s\" must be 1 to %d of a-z 0-9 _, starting "
			    "with a letter",
			    where, name, MANIFEST_CHANNEL_MAX);
	if (reserved(name))
		return fail(err, errcap,
			    "%sname \"%s\" is taken: a frame channel, column, flag "
			    "or function has that name",
			    where, name);
	for (size_t k = 0; k < i; k++)
		if (strcmp(m->ch[k].name, name) == 0)
			return fail(err, errcap, "%sname \"%s\" is used by channels[%zu] too",
				    where, name, k);
	if (!*formula)
		return fail(err, errcap, "%sformula is required", where);
	for (const char *p = unit; *p; p++)
		if ((unsigned char)*p < 0x20)
			return fail(err, errcap, "%sunit contains a control character", where);
	snprintf(ch->name, sizeof ch->name, "%s", name);
	snprintf(ch->unit, sizeof ch->unit, "%s", unit);
	m->nchannels = i + 1;
	if (!(ch->formula = strdup(formula)) || !(ch->description = strdup(desc)))
		return -ENOMEM;
	rc = expr_compile(formula, resolve, &r, &ch->prog, &xe);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0 && m->ninputs >= MANIFEST_INPUTS_MAX)
		return fail(err, errcap, "%sformula: the formulas read more than %d frame values",
			    where, MANIFEST_INPUTS_MAX);
	if (rc < 0)
		return fail(err, errcap, "%sformula: %s%s", where, xe.message,
			    r.later ? " (a formula can use only the channels defined before it)"
				    : "");
	ch->slot0 = m->nslots;
	m->nslots += expr_nslots(ch->prog);
	return 0;
}

int manifest_parse(json_t *doc, const char *name, struct manifest **out, char *err, size_t errcap)
{
	static const char *const keys[] = { "name", "version", "description", "channels", NULL };
	struct manifest *m = NULL;
	const char *doc_name, *desc;
	json_t *chans, *version;
	size_t i;
	int rc;

	*out = NULL;
	if (!name || !ids_name_valid(name))
		return fail(err, errcap, "the manifest's name must be 1 to %d of A-Z a-z 0-9 _ . -",
			    IDS_NAME_MAX);
	if (!json_is_object(doc))
		return fail(err, errcap, "a manifest is a JSON object");
	if ((rc = only_keys(doc, keys, "", err, errcap)) < 0 ||
	    (rc = opt_string(doc, "name", IDS_NAME_MAX, "", &doc_name, err, errcap)) < 0 ||
	    (rc = opt_string(doc, "description", MANIFEST_TEXT_MAX, "", &desc, err, errcap)) < 0)
		return rc;
	if (*doc_name && strcmp(doc_name, name) != 0)
		return fail(err, errcap, "name \"%s\" is not the manifest's name \"%s\"", doc_name,
			    name);
	version = json_object_get(doc, "version");
	if (version && !json_is_null(version) &&
	    !(json_is_integer(version) && json_integer_value(version) == MANIFEST_VERSION))
		return fail(err, errcap, "version must be %d", MANIFEST_VERSION);
	chans = json_object_get(doc, "channels");
	if (!json_is_array(chans) || json_array_size(chans) == 0)
		return fail(err, errcap, "channels must be an array of 1 to %d channels",
			    MANIFEST_CHANNELS_MAX);
	if (json_array_size(chans) > MANIFEST_CHANNELS_MAX)
		return fail(err, errcap, "channels has %zu channels, at most %d are allowed",
			    json_array_size(chans), MANIFEST_CHANNELS_MAX);
	if (!(m = calloc(1, sizeof *m)))
		return -ENOMEM;
	snprintf(m->name, sizeof m->name, "%s", name);
	if (!(m->description = strdup(desc))) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < json_array_size(chans); i++)
		if ((rc = parse_channel(m, chans, i, err, errcap)) < 0)
			goto out;
	*out = m;
	return 0;
out:
	if (rc == -ENOMEM)
		fail(err, errcap, "out of memory");
	manifest_free(m);
	return rc;
}

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < MANIFEST_CHANNELS_MAX; i++) {
		free(m->ch[i].description);
		free(m->ch[i].formula);
		expr_free(m->ch[i].prog);
	}
	free(m->description);
	free(m);
}

/* ---- evaluation ---- */

int manifest_eval_new(const struct manifest *m, struct manifest_eval **out)
{
	struct manifest_eval *ev = calloc(1, sizeof *ev + m->nslots * sizeof(struct expr_slot));

	*out = ev;
	if (!ev)
		return -ENOMEM;
	ev->m = m;
	return 0;
}

void manifest_eval_free(struct manifest_eval *ev)
{
	free(ev);
}

void manifest_eval_reset(struct manifest_eval *ev)
{
	expr_slots_reset(ev->slots, ev->m->nslots);
}

size_t manifest_apply(struct manifest_eval *ev, const struct pw_frame *f, double *out)
{
	const struct manifest *m = ev->m;
	double t = manifest_clock(f);
	size_t have = 0;

	for (size_t i = 0; i < m->ninputs; i++)
		ev->in[i] = manifest_input_value(f, &m->inputs[i]);
	for (size_t k = 0; k < m->nchannels; k++) {
		double v = expr_eval(m->ch[k].prog, ev->in, t, ev->slots + m->ch[k].slot0);

		ev->in[DERIVED_SLOT + k] = v;
		out[k] = v;
		have += !isnan(v);
	}
	return have;
}

void manifest_apply_frames(struct manifest_eval *ev, const struct pw_frame *frames, size_t n,
			   double *out)
{
	for (size_t i = 0; i < n; i++)
		manifest_apply(ev, &frames[i], out + i * ev->m->nchannels);
}

/* ---- documents and text ---- */

json_t *manifest_json(const struct manifest *m)
{
	json_t *chans = json_array();

	for (size_t i = 0; chans && i < m->nchannels; i++)
		json_array_append_new(chans,
				      json_pack("{s:s, s:s, s:s, s:s}", "name", m->ch[i].name,
						"formula", m->ch[i].formula, "unit", m->ch[i].unit,
						"description", m->ch[i].description));
	return json_pack("{s:s, s:i, s:s, s:o}", "name", m->name, "version", MANIFEST_VERSION,
			 "description", m->description, "channels", chans);
}

json_t *manifest_dictionary(const struct manifest *m)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < m->nchannels; i++) {
		const struct manifest_channel *ch = &m->ch[i];
		json_t *e = json_pack(
			"{s:s, s:s, s:s, s:[s], s:s, s:s, s:[], s:s, s:{s:n, s:n}, s:b, s:s, s:b, "
			"s:n, s:[], s:s, s:s}",
			"name", ch->name, "kind", "manifest", "json_key", ch->name, "csv_columns",
			ch->name, "type", "float32", "dimension", "scalar", "components", "unit",
			ch->unit, "range", "min", "max", "nullable", 1, "description",
			*ch->description ? ch->description : m->description, "derived", 1,
			"presence_bit", "games", "formula", ch->formula, "manifest", m->name);

		if (!e || json_array_append_new(a, e) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int manifest_dict_append(json_t *dict, json_t *docs)
{
	json_t *chans = json_object_get(dict, "channels"), *doc;
	char why[MANIFEST_ERR_MAX];
	size_t i;

	json_array_foreach(docs, i, doc) {
		const char *name = json_string_value(json_object_get(doc, "name"));
		struct manifest *m = NULL;
		json_t *entries;
		int rc = name ? manifest_parse(doc, name, &m, why, sizeof why) : -EINVAL;

		if (rc == -ENOMEM)
			return -ENOMEM;
		if (rc < 0) /* the store lists only what validates; a newer table may not */
			continue;
		entries = manifest_dictionary(m);
		manifest_free(m);
		if (!entries || json_array_extend(chans, entries) < 0) {
			json_decref(entries);
			return -ENOMEM;
		}
		json_decref(entries);
	}
	return 0;
}

int manifest_dict_missing(json_t *dict, const char *code, const char *message)
{
	return json_object_set_new(dict, "manifests_error",
				   json_pack("{s:s, s:s}", "code", code, "message", message)) < 0
		       ? -ENOMEM
		       : 0;
}

size_t manifest_csv_header(const struct manifest *m, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };

	if (cap)
		buf[0] = 0;
	for (size_t i = 0; i < m->nchannels; i++) {
		out_put(&o, ",", 1);
		out_put(&o, m->ch[i].name, strlen(m->ch[i].name));
	}
	return o.len;
}

size_t manifest_csv_cells(const struct manifest *m, const double *v, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };

	if (cap)
		buf[0] = 0;
	for (size_t i = 0; i < m->nchannels; i++) {
		out_put(&o, ",", 1);
		if (!isnan(v[i]))
			out_number(&o, v[i], 0);
	}
	return o.len;
}

size_t manifest_json_members(const struct manifest *m, const double *v, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };

	if (cap)
		buf[0] = 0;
	for (size_t i = 0; i < m->nchannels; i++) {
		if (isnan(v[i]))
			continue;
		out_put(&o, ",\"", 2);
		out_put(&o, m->ch[i].name, strlen(m->ch[i].name));
		out_put(&o, "\":", 2);
		out_number(&o, v[i], 0);
	}
	return o.len;
}
