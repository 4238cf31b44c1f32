/* lapquery.c - see lapquery.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/lapquery.h"
#include "common/msg.h"

#define TIME_DECIMALS 4
#define DIST_DECIMALS 3
#define JB_MIN_CAP 4096

/* --- errors --- */

static int fail(struct lapquery_err *err, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct lapquery_err *err, const char *code, const char *fmt, ...)
{
	va_list ap;

	snprintf(err->code, sizeof err->code, "%s", code);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return -1;
}

/* --- a growing JSON text --- */

struct jb {
	char *p;
	size_t len, cap;
	int oom;
};

static int jb_room(struct jb *b, size_t n)
{
	size_t cap = b->cap ? b->cap : JB_MIN_CAP;
	char *np;

	if (b->oom)
		return 0;
	if (b->len + n + 1 <= b->cap)
		return 1;
	while (cap < b->len + n + 1)
		cap *= 2;
	if (!(np = realloc(b->p, cap))) {
		b->oom = 1;
		return 0;
	}
	b->p = np;
	b->cap = cap;
	return 1;
}

static void jb_put(struct jb *b, const char *s, size_t n)
{
	if (!jb_room(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void jb_lit(struct jb *b, const char *s)
{
	jb_put(b, s, strlen(s));
}

static void jb_str(struct jb *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	jb_lit(b, "\"");
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

		if (c == '"' || c == '\\') {
			e[1] = (char)c;
			jb_put(b, e, 2);
		} else if (c < 0x20) {
			jb_put(b, e, 6);
		} else {
			jb_put(b, (const char *)&c, 1);
		}
	}
	jb_lit(b, "\"");
}

static void jb_str_or_null(struct jb *b, const char *s)
{
	if (s)
		jb_str(b, s);
	else
		jb_lit(b, "null");
}

/* v with dec decimals, trailing zeros dropped; null when not finite. */
static void jb_num(struct jb *b, double v, int dec)
{
	static const double pow10[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6 };
	char tmp[48], *e = tmp + sizeof tmp, *p = e;
	unsigned long long x, ip, fp;
	int neg;

	if (!isfinite(v)) {
		jb_lit(b, "null");
		return;
	}
	if (dec < 0 || dec > 6 || fabs(v) * pow10[dec] >= 9e15) {
		int n = snprintf(tmp, sizeof tmp, "%.*g", 17, v);
		jb_put(b, tmp, (size_t)n);
		return;
	}
	neg = v < 0;
	x = (unsigned long long)llround(fabs(v) * pow10[dec]);
	ip = x / (unsigned long long)pow10[dec];
	fp = x % (unsigned long long)pow10[dec];
	if (fp) {
		int d = dec;
		while (fp % 10 == 0) {
			fp /= 10;
			d--;
		}
		while (d-- > 0) {
			*--p = (char)('0' + fp % 10);
			fp /= 10;
		}
		*--p = '.';
	}
	do {
		*--p = (char)('0' + ip % 10);
		ip /= 10;
	} while (ip);
	if (neg && x)
		*--p = '-';
	jb_put(b, p, (size_t)(e - p));
}

static void jb_key(struct jb *b, const char *key)
{
	jb_str(b, key);
	jb_lit(b, ":");
}

/* n values at v (stride doubles apart) as an array. */
static void jb_array(struct jb *b, const double *v, size_t n, int dec)
{
	jb_lit(b, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			jb_lit(b, ",");
		jb_num(b, v[i], dec);
	}
	jb_lit(b, "]");
}

/* n points of nv values each: flat when nv is 1, else [a,b,c] per point
 * (null for a point with no value at all). */
static void jb_points(struct jb *b, const double *v, size_t n, unsigned nv, int dec)
{
	if (nv == 1) {
		jb_array(b, v, n, dec);
		return;
	}
	jb_lit(b, "[");
	for (size_t i = 0; i < n; i++) {
		int any = 0;

		if (i)
			jb_lit(b, ",");
		for (unsigned k = 0; k < nv; k++)
			any |= isfinite(v[i * nv + k]);
		if (any)
			jb_array(b, v + i * nv, nv, dec);
		else
			jb_lit(b, "null");
	}
	jb_lit(b, "]");
}

static void jb_json(struct jb *b, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));

	if (!s) {
		b->oom = 1;
		return;
	}
	jb_lit(b, s);
	free(s);
}

/* --- parameters --- */

void lapquery_params_init(struct lapquery_params *p)
{
	memset(p, 0, sizeof *p);
	p->step_m = LAPDATA_STEP_DEFAULT_M;
	lapdata_channels_default(&p->cs);
}

int lapquery_parse_step(const char *name, const char *text, double *step_m,
			struct lapquery_err *err)
{
	char *end;
	double v;

	errno = 0;
	v = text && *text ? strtod(text, &end) : NAN;
	if (!text || !*text || errno || *end || !(v >= LAPDATA_STEP_MIN_M) ||
	    !(v <= LAPDATA_STEP_MAX_M))
		return fail(err, MSG_E_BAD_REQUEST,
			    "%s must be a number of metres from %g to %g, not \"%.40s\"", name,
			    LAPDATA_STEP_MIN_M, LAPDATA_STEP_MAX_M, text ? text : "");
	*step_m = v;
	return 0;
}

static int parse_channels(const char *name, const char *text, const struct manifest *m,
			  struct lapdata_channels *cs, struct lapquery_err *err)
{
	char bad[64];
	struct lapdata_channels tmp;

	if (lapdata_channels_parse_with(text, m, &tmp, bad, sizeof bad) == 0) {
		*cs = tmp;
		return 0;
	}
	if (!text || !*text || !bad[0])
		return fail(err, MSG_E_BAD_REQUEST,
			    "%s must be a comma-separated list of channel names (an empty name "
			    "is not one)",
			    name);
	for (unsigned i = 0; i < tmp.n; i++)
		if (strcmp(lapdata_channels_name(&tmp, i), bad) == 0)
			return fail(err, MSG_E_BAD_REQUEST, "%s names \"%s\" twice", name, bad);
	if (tmp.n == LAPDATA_MAX_CHANNELS)
		return fail(err, MSG_E_BAD_REQUEST, "%s names more than %d channels", name,
			    LAPDATA_MAX_CHANNELS);
	return fail(err, MSG_E_BAD_REQUEST,
		    "%s: unknown channel \"%s\" (the names are those of GET /api/channels and "
		    "docs/api.md, e.g. speed_kmh, throttle, brake, gear, pos_m, abs%s%s)",
		    name, bad, m ? ", and manifest " : "", m ? m->name : "");
}

int lapquery_parse_channels(const char *name, const char *text, struct lapdata_channels *cs,
			    struct lapquery_err *err)
{
	return parse_channels(name, text, NULL, cs, err);
}

int lapquery_parse_manifest(const char *name, const char *text, struct lapquery_params *p,
			    struct lapquery_err *err)
{
	if (!text || !ids_name_valid(text))
		return fail(err, MSG_E_BAD_REQUEST,
			    "%s must be a manifest's name: 1 to %d of A-Z a-z 0-9 _ . -", name,
			    IDS_NAME_MAX);
	memcpy(p->manifest, text, strlen(text) + 1); /* ids_name_valid: it fits */
	return 0;
}

int lapquery_params_done(struct lapquery_params *p, struct lapquery_err *err)
{
	if (p->manifest[0] || !p->channels[0])
		return 0;
	return parse_channels(p->channels_param[0] ? p->channels_param : "channels", p->channels,
			      NULL, &p->cs, err);
}

static int store_fail(struct lapquery_err *err, const char *code, const char *message);

/* The channels p asks for, with its manifest's (fetched and compiled into
 * *m, the caller's) when it names one. */
static int resolve_channels(lapquery_call_fn *call, void *ctx, const struct lapquery_params *p,
			    struct lapdata_channels *cs, struct manifest **m,
			    struct lapquery_err *err)
{
	char code[32], message[512], why[MANIFEST_ERR_MAX];
	json_t *doc = NULL;
	int rc;

	*m = NULL;
	*cs = p->cs;
	if (!p->manifest[0])
		return 0;
	if (call(ctx, "manifest.get", json_pack("{s:s}", "name", p->manifest), &doc, code,
		 sizeof code, message, sizeof message) < 0) {
		if (strcmp(code, MSG_E_NOT_FOUND) == 0)
			return fail(err, MSG_E_BAD_REQUEST, "manifest: there is no manifest \"%s\"",
				    p->manifest);
		return store_fail(err, code, message);
	}
	rc = manifest_parse(doc, p->manifest, m, why, sizeof why);
	json_decref(doc);
	if (rc < 0)
		return fail(err, MSG_E_INTERNAL, "manifest %s: %s", p->manifest, why);
	if (p->channels[0])
		return parse_channels(p->channels_param[0] ? p->channels_param : "channels",
				      p->channels, *m, cs, err);
	/* the default set and every channel of the manifest */
	if (cs->n + (*m)->nchannels > LAPDATA_MAX_CHANNELS)
		return fail(err, MSG_E_BAD_REQUEST,
			    "channels: manifest %s has %zu channels, more than the %d a request "
			    "takes with the default ones: name the channels",
			    p->manifest, (*m)->nchannels, LAPDATA_MAX_CHANNELS);
	for (size_t k = 0; k < (*m)->nchannels; k++)
		cs->id[cs->n++] = (uint8_t)(LAPDATA_MANIFEST_ID + k);
	cs->manifest = *m;
	return 0;
}

int lapquery_parse_lapref(const char *name, const char *text, struct lapquery_lapref *lap,
			  struct lapquery_err *err)
{
	const char *a = text ? strchr(text, '/') : NULL, *b = a ? strchr(a + 1, '/') : NULL;
	char *end;
	unsigned long n;

	if (!a || !b || a - text != ID_LEN || b - a - 1 != ID_LEN)
		goto bad;
	memcpy(lap->sid, text, ID_LEN);
	lap->sid[ID_LEN] = 0;
	memcpy(lap->rid, a + 1, ID_LEN);
	lap->rid[ID_LEN] = 0;
	if (!ids_valid(lap->sid) || !ids_valid(lap->rid) || b[1] < '0' || b[1] > '9')
		goto bad;
	errno = 0;
	n = strtoul(b + 1, &end, 10);
	if (errno || *end || n < 1 || n > UINT32_MAX)
		goto bad;
	lap->number = (uint32_t)n;
	return 0;
bad:
	return fail(err, MSG_E_BAD_REQUEST,
		    "%s must be SESSION_ID/RUN_ID/LAP_NUMBER (two UUIDs and a lap number from 1), "
		    "not \"%.100s\"",
		    name, text ? text : "");
}

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* URL-decode n bytes of s into out (cap); -1 for a bad escape or no room. */
static int url_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			int h = i + 2 < n ? hexval(s[i + 1]) : -1,
			    l = h >= 0 ? hexval(s[i + 2]) : -1;
			if (h < 0 || l < 0)
				return -1;
			c = (char)(h * 16 + l);
			i += 2;
			if (c == 0)
				return -1;
		} else if (c == '+') {
			c = ' ';
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	out[o] = 0;
	return 0;
}

int lapquery_parse_query(const char *query, int compare, struct lapquery_params *p,
			 struct lapquery_err *err)
{
	char key[64], val[LAPQUERY_QUERY_MAX];
	int have_step = 0, have_ch = 0, have_ref = 0;
	const char *q = query ? query : "";

	lapquery_params_init(p);
	if (strlen(q) >= LAPQUERY_QUERY_MAX)
		return fail(err, MSG_E_BAD_REQUEST, "the query string is longer than %d bytes",
			    LAPQUERY_QUERY_MAX - 1);
	while (*q) {
		size_t len = strcspn(q, "&"), klen = strcspn(q, "=&");
		const char *v = q + klen;
		size_t vlen = klen < len ? len - klen - 1 : 0;

		if (len == 0) {
			q++;
			continue;
		}
		if (url_decode(q, klen, key, sizeof key) < 0)
			return fail(err, MSG_E_BAD_REQUEST,
				    "a query parameter's name is malformed");
		if (url_decode(klen < len ? v + 1 : v, vlen, val, sizeof val) < 0)
			return fail(err, MSG_E_BAD_REQUEST,
				    "the value of %s is malformed (URL encoding)", key);
		if (strcmp(key, "step_m") == 0) {
			if (have_step++)
				return fail(err, MSG_E_BAD_REQUEST, "step_m is given twice");
			if (lapquery_parse_step("step_m", val, &p->step_m, err) < 0)
				return -1;
		} else if (strcmp(key, "channels") == 0) {
			if (have_ch++)
				return fail(err, MSG_E_BAD_REQUEST, "channels is given twice");
			if (!val[0])
				return lapquery_parse_channels("channels", val, &p->cs, err);
			snprintf(p->channels, sizeof p->channels, "%s", val);
		} else if (strcmp(key, "manifest") == 0) {
			if (p->manifest[0])
				return fail(err, MSG_E_BAD_REQUEST, "manifest is given twice");
			if (lapquery_parse_manifest("manifest", val, p, err) < 0)
				return -1;
		} else if (compare && strcmp(key, "ref") == 0) {
			if (have_ref++)
				return fail(err, MSG_E_BAD_REQUEST, "ref is given twice");
			if (strcmp(val, "best") == 0)
				p->best = 1;
			else if (lapquery_parse_lapref("ref", val, &p->ref, err) < 0)
				return -1;
		} else if (compare && strcmp(key, "lap") == 0) {
			if (p->nlaps == LAPDATA_MAX_LAPS)
				return fail(err, MSG_E_BAD_REQUEST,
					    "lap is given more than %d times", LAPDATA_MAX_LAPS);
			if (lapquery_parse_lapref("lap", val, &p->laps[p->nlaps], err) < 0)
				return -1;
			p->nlaps++;
		} else {
			return fail(
				err, MSG_E_BAD_REQUEST, "unknown query parameter \"%.60s\" (%s)",
				key,
				compare ? "compare takes ref, lap, step_m, channels and manifest"
					: "a lap takes step_m, channels and manifest");
		}
		q += len;
	}
	if (lapquery_params_done(p, err) < 0)
		return -1;
	if (compare && !have_ref)
		return fail(err, MSG_E_BAD_REQUEST,
			    "ref is required: SESSION_ID/RUN_ID/LAP_NUMBER or best");
	if (compare && !p->nlaps)
		return fail(
			err, MSG_E_BAD_REQUEST,
			"lap is required: one to %d laps to compare, each SESSION_ID/RUN_ID/LAP_NUMBER",
			LAPDATA_MAX_LAPS);
	return 0;
}

/* --- the laps --- */

/* One lap of a request: its run (the store's), record and samples. */
struct qlap {
	struct lapquery_lapref ref;
	char label[ID_LEN * 2 + 16]; /* SID/RID/N */
	json_t *run;                 /* owned */
	json_t *lap;                 /* borrowed from run */
	const char *game, *track, *path;
	struct lapdata_span span;
	struct lapdata_lap *data;
};

static void qlap_free(struct qlap *q)
{
	json_decref(q->run);
	lapdata_lap_free(q->data);
	memset(q, 0, sizeof *q);
}

static int store_fail(struct lapquery_err *err, const char *code, const char *message)
{
	return fail(err, code, "%s", message);
}

static int json_u64(json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* Find the lap of q->ref in the store. */
static int resolve(lapquery_call_fn *call, void *ctx, struct qlap *q, struct lapquery_err *err)
{
	char code[32], message[512];
	json_t *laps, *l, *tm;
	size_t i;

	snprintf(q->label, sizeof q->label, "%s/%s/%u", q->ref.sid, q->ref.rid, q->ref.number);
	if (call(ctx, "run.get",
		 json_pack("{s:s, s:s}", "session_id", q->ref.sid, "run_id", q->ref.rid), &q->run,
		 code, sizeof code, message, sizeof message) < 0)
		return store_fail(err, code, message);
	laps = json_object_get(q->run, "laps");
	json_array_foreach(laps, i, l) {
		json_t *num = json_object_get(l, "number");
		if (json_is_integer(num) && json_integer_value(num) == (json_int_t)q->ref.number) {
			q->lap = l;
			break;
		}
	}
	if (!q->lap)
		return fail(err, MSG_E_NOT_FOUND,
			    "run %s of session %s has no lap %u (it has %zu laps)", q->ref.rid,
			    q->ref.sid, q->ref.number, json_array_size(laps));
	q->game = json_string_value(json_object_get(q->run, "game"));
	q->track = json_string_value(json_object_get(q->run, "track"));
	q->path = json_string_value(json_object_get(q->run, "frames_path"));
	tm = json_object_get(q->lap, "time_ms");
	q->span.time_ms = json_is_integer(tm) && json_integer_value(tm) > 0 &&
					  json_integer_value(tm) < INT32_MAX
				  ? (int32_t)json_integer_value(tm)
				  : -1;
	if (!q->path || json_u64(q->lap, "start_seq", &q->span.start_seq) < 0 ||
	    json_u64(q->lap, "end_seq", &q->span.end_seq) < 0 ||
	    q->span.end_seq < q->span.start_seq)
		return fail(err, MSG_E_INTERNAL, "the store's record of lap %s is incomplete",
			    q->label);
	return 0;
}

static int load(struct qlap *q, const struct lapdata_channels *cs, struct lapquery_err *err)
{
	int rc = lapdata_load(q->path, &q->span, cs, &q->data);

	switch (rc) {
	case 0:
		return 0;
	case -EAGAIN:
		return fail(err, MSG_E_CONFLICT,
			    "the last frames of lap %s are not stored yet (its run is recording): "
			    "ask again in a second",
			    q->label);
	case -ENODATA:
		return fail(err, MSG_E_CONFLICT,
			    "the frame file of lap %s holds none of its frames", q->label);
	case -E2BIG:
		return fail(err, MSG_E_TOO_LARGE,
			    "lap %s has more than the %zu frames an answer takes with these "
			    "channels: ask fewer channels",
			    q->label, lapdata_max_frames(cs));
	case -ENOMEM:
		return fail(err, MSG_E_INTERNAL, "out of memory reading lap %s", q->label);
	default:
		return fail(err, MSG_E_IO, "the frames of lap %s cannot be read: %s", q->label,
			    strerror(-rc));
	}
}

struct load_job {
	struct qlap *q;
	const struct lapdata_channels *cs;
	int rc[1 + LAPDATA_MAX_LAPS];
	struct lapquery_err err[1 + LAPDATA_MAX_LAPS];
};

static void load_one(void *ctx, size_t k)
{
	struct load_job *j = ctx;

	j->rc[k] = load(&j->q[k], j->cs, &j->err[k]);
}

/* Read the laps in parallel; the first one that fails says why. */
static int load_all(struct qlap *q, size_t n, const struct lapdata_channels *cs,
		    struct lapquery_err *err)
{
	struct load_job *j = calloc(1, sizeof *j);
	int rc = 0;

	if (!j)
		return fail(err, MSG_E_INTERNAL, "out of memory");
	j->q = q;
	j->cs = cs;
	lapdata_parallel(n, load_one, j);
	for (size_t k = 0; k < n && rc == 0; k++)
		if ((rc = j->rc[k]) < 0)
			*err = j->err[k];
	free(j);
	return rc;
}

/* --- the track model --- */

struct qtrack {
	json_t *model; /* owned */
	double *xz;    /* owned: x then z */
	struct lapdata_corner corners[LAPDATA_MAX_CORNERS];
	struct lapdata_track tr;
	int have;
};

static void qtrack_free(struct qtrack *t)
{
	json_decref(t->model);
	free(t->xz);
}

static int number(json_t *v, double *out)
{
	if (!json_is_number(v))
		return -1;
	*out = json_number_value(v);
	return isfinite(*out) ? 0 : -1;
}

/* The model's centre line and corners; 0 leaves t->have 0 for a model it cannot use. */
static int parse_model(struct qtrack *t)
{
	json_t *cl = json_object_get(t->model, "center_line"), *corners, *c;
	size_t n = json_array_size(cl), i;
	double len;

	if (number(json_object_get(t->model, "length_m"), &len) < 0 || !(len > 0) || n < 3)
		return 0;
	if (!(t->xz = malloc(2 * n * sizeof *t->xz)))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		json_t *p = json_array_get(cl, i);
		if (json_array_size(p) != 2 || number(json_array_get(p, 0), &t->xz[i]) < 0 ||
		    number(json_array_get(p, 1), &t->xz[n + i]) < 0)
			return 0;
	}
	t->tr = (struct lapdata_track){
		.length_m = len, .n = n, .x = t->xz, .z = t->xz + n, .corners = t->corners
	};
	corners = json_object_get(t->model, "corners");
	json_array_foreach(corners, i, c) {
		struct lapdata_corner *o = &t->corners[t->tr.ncorners];
		const char *dir = json_string_value(json_object_get(c, "direction"));
		json_t *idx = json_object_get(c, "index");

		if (t->tr.ncorners == LAPDATA_MAX_CORNERS || !dir ||
		    number(json_object_get(c, "entry_dist_m"), &o->start_m) < 0 ||
		    number(json_object_get(c, "apex_dist_m"), &o->apex_m) < 0 ||
		    number(json_object_get(c, "exit_dist_m"), &o->end_m) < 0)
			continue;
		o->dir = strcmp(dir, "right") == 0 ? 1 : -1;
		o->number = json_is_integer(idx) ? (int)json_integer_value(idx)
						 : (int)t->tr.ncorners + 1;
		t->tr.ncorners++;
	}
	t->have = 1;
	return 0;
}

static int load_track(lapquery_call_fn *call, void *ctx, const char *game, const char *track,
		      struct qtrack *t, struct lapquery_err *err)
{
	char code[32], message[512];

	memset(t, 0, sizeof *t);
	if (!game || !track || !ids_name_valid(game) || !ids_real_name_valid(track))
		return 0;
	if (call(ctx, "track.get", json_pack("{s:s, s:s}", "game", game, "track_name", track),
		 &t->model, code, sizeof code, message, sizeof message) < 0) {
		if (strcmp(code, MSG_E_NOT_FOUND) == 0 || strcmp(code, MSG_E_BAD_REQUEST) == 0)
			return 0; /* no model: align otherwise */
		return store_fail(err, code, message);
	}
	if (parse_model(t) < 0)
		return fail(err, MSG_E_INTERNAL, "out of memory reading the track model");
	return 0;
}

/* --- computing --- */

static int compute(struct qlap *q, size_t n, const struct qtrack *t, double step_m,
		   struct lapdata_result **r, struct lapquery_err *err)
{
	struct lapdata_lap *laps[1 + LAPDATA_MAX_LAPS];
	char why[256] = "";
	int rc;

	for (size_t k = 0; k < n; k++)
		laps[k] = q[k].data;
	rc = lapdata_compute(laps, n, t->have ? &t->tr : NULL, step_m, r, why, sizeof why);
	if (rc == 0)
		return 0;
	if (rc == -E2BIG)
		return fail(
			err, MSG_E_BAD_REQUEST,
			"step_m %g gives more than %d points over this lap: use a larger step_m",
			step_m, LAPDATA_MAX_POINTS);
	if (rc == -ENODATA)
		return fail(err, MSG_E_CONFLICT, "the lap%s cannot be put on distance: %s%s",
			    n > 1 ? "s" : "", why,
			    n > 1 ? " (lap 0 is the reference, lap k the "
				    "k-th lap parameter)"
				  : "");
	return fail(err, MSG_E_INTERNAL, "lap data: %s", strerror(-rc));
}

/* "channels": {...}, "absent_channels": [...] of lap k. */
static void put_channels(struct jb *b, const struct lapdata_result *r, size_t k,
			 const struct lapdata_channels *cs)
{
	size_t np = lapdata_points(r);
	int first = 1;

	jb_lit(b, "\"channels\":{");
	for (unsigned c = 0; c < cs->n; c++) {
		const double *v = lapdata_values(r, k, c);
		if (!v)
			continue;
		if (!first)
			jb_lit(b, ",");
		first = 0;
		jb_key(b, lapdata_channels_name(cs, c));
		jb_points(b, v, np, lapdata_channel_values(cs->id[c]),
			  lapdata_channel_decimals(cs->id[c]));
	}
	jb_lit(b, "},\"absent_channels\":[");
	first = 1;
	for (unsigned c = 0; c < cs->n; c++) {
		if (lapdata_values(r, k, c))
			continue;
		if (!first)
			jb_lit(b, ",");
		first = 0;
		jb_str(b, lapdata_channels_name(cs, c));
	}
	jb_lit(b, "]");
}

static void put_head(struct jb *b, const struct lapdata_result *r, double step_m)
{
	jb_lit(b, "\"step_m\":");
	jb_num(b, step_m, 3);
	jb_lit(b, ",\"length_m\":");
	jb_num(b, lapdata_length(r), DIST_DECIMALS);
	jb_lit(b, ",\"alignment\":");
	jb_str(b, lapdata_align_name(lapdata_alignment(r)));
}

static void put_distance(struct jb *b, const struct lapdata_result *r)
{
	jb_lit(b, ",\"distance_m\":");
	jb_array(b, lapdata_distance(r), lapdata_points(r), DIST_DECIMALS);
}

static int finish(struct jb *b, char **json, size_t *len, struct lapquery_err *err)
{
	if (b->oom) {
		free(b->p);
		return fail(err, MSG_E_INTERNAL, "out of memory writing the answer");
	}
	*json = b->p;
	*len = b->len;
	return 0;
}

/* Values a point of the asked channels holds. */
static size_t entry_values(const struct lapdata_channels *cs)
{
	size_t v = 0;

	for (unsigned c = 0; c < cs->n; c++)
		v += lapdata_channel_values(cs->id[c]);
	return v;
}

int lapquery_lap(lapquery_call_fn *call, void *ctx, const struct lapquery_lapref *lap,
		 const struct lapquery_params *p, char **json, size_t *len,
		 struct lapquery_err *err)
{
	struct qlap q = { .ref = *lap };
	struct qtrack t = { 0 };
	struct lapdata_result *r = NULL;
	struct jb b = { 0 };
	json_t *rec = NULL;
	struct lapdata_channels cs;
	struct manifest *m = NULL;
	int rc = -1;

	*json = NULL;
	*len = 0;
	if (resolve_channels(call, ctx, p, &cs, &m, err) < 0 || resolve(call, ctx, &q, err) < 0 ||
	    load_track(call, ctx, q.game, q.track, &t, err) < 0 || load(&q, &cs, err) < 0 ||
	    compute(&q, 1, &t, p->step_m, &r, err) < 0)
		goto out;
	rec = json_copy(q.lap);
	json_object_set_new(rec, "session_id", json_string(q.ref.sid));
	json_object_set_new(rec, "run_id", json_string(q.ref.rid));
	json_object_set(rec, "game", q.game ? json_object_get(q.run, "game") : json_null());
	json_object_set(rec, "track", q.track ? json_object_get(q.run, "track") : json_null());
	jb_room(&b, 4096 + 16 * lapdata_points(r) * (1 + entry_values(&cs)));
	jb_lit(&b, "{\"lap\":");
	jb_json(&b, rec);
	jb_lit(&b, ",");
	put_head(&b, r, p->step_m);
	put_distance(&b, r);
	jb_lit(&b, ",\"time_s\":");
	jb_array(&b, lapdata_time(r, 0), lapdata_points(r), TIME_DECIMALS);
	jb_lit(&b, ",");
	put_channels(&b, r, 0, &cs);
	jb_lit(&b, "}");
	rc = finish(&b, json, len, err);
out:
	manifest_free(m);
	json_decref(rec);
	lapdata_result_free(r);
	qtrack_free(&t);
	qlap_free(&q);
	return rc;
}

/* --- compare --- */

static int same(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

/* The best valid lap of the first lap's game, track and car. */
static int find_best(lapquery_call_fn *call, void *ctx, const struct qlap *first,
		     struct lapquery_lapref *ref, struct lapquery_err *err)
{
	char code[32], message[512];
	json_t *s = NULL, *best = NULL, *args;
	const char *car, *sid, *rid;
	json_t *num;
	int rc = -1;

	if (!first->game || !first->track)
		return fail(
			err, MSG_E_CONFLICT,
			"ref=best needs the game and track of lap %s, and its run does not know them",
			first->label);
	if (call(ctx, "session.get", json_pack("{s:s}", "id", first->ref.sid), &s, code,
		 sizeof code, message, sizeof message) < 0)
		return store_fail(err, code, message);
	car = json_string_value(json_object_get(s, "car_name"));
	args = json_pack("{s:s, s:s}", "game", first->game, "track_name", first->track);
	if (car)
		json_object_set_new(args, "car_name", json_string(car));
	if (call(ctx, "lap.best", args, &best, code, sizeof code, message, sizeof message) < 0) {
		store_fail(err, code, message);
		goto out;
	}
	sid = json_string_value(json_object_get(best, "session_id"));
	rid = json_string_value(json_object_get(best, "run_id"));
	num = json_object_get(best, "number");
	if (!sid || !rid || !ids_valid(sid) || !ids_valid(rid) || !json_is_integer(num) ||
	    json_integer_value(num) < 1 || json_integer_value(num) > UINT32_MAX) {
		fail(err, MSG_E_INTERNAL, "the store's best lap is malformed");
		goto out;
	}
	snprintf(ref->sid, sizeof ref->sid, "%s", sid);
	snprintf(ref->rid, sizeof ref->rid, "%s", rid);
	ref->number = (uint32_t)json_integer_value(num);
	rc = 0;
out:
	json_decref(s);
	json_decref(best);
	return rc;
}

static void put_entry(struct jb *b, const struct qlap *q, const struct lapdata_result *r, size_t k,
		      const struct lapdata_channels *cs)
{
	static const char *const keys[] = { "number", "time_ms", "valid", "invalid_reason" };

	jb_lit(b, "{\"session_id\":");
	jb_str(b, q->ref.sid);
	jb_lit(b, ",\"run_id\":");
	jb_str(b, q->ref.rid);
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		json_t *v = json_object_get(q->lap, keys[i]);
		jb_lit(b, ",");
		jb_key(b, keys[i]);
		if (v)
			jb_json(b, v);
		else
			jb_lit(b, "null");
	}
	jb_lit(b, ",\"game\":");
	jb_str_or_null(b, q->game);
	jb_lit(b, ",\"track\":");
	jb_str_or_null(b, q->track);
	jb_lit(b, ",\"time_s\":");
	jb_array(b, lapdata_time(r, k), lapdata_points(r), TIME_DECIMALS);
	if (k > 0) {
		jb_lit(b, ",\"delta_s\":");
		jb_array(b, lapdata_delta(r, k), lapdata_points(r), TIME_DECIMALS);
	}
	jb_lit(b, ",");
	put_channels(b, r, k, cs);
	jb_lit(b, "}");
}

static void put_corners(struct jb *b, const struct lapdata_result *r, size_t nlaps)
{
	jb_lit(b, ",\"corners_source\":");
	jb_str(b, lapdata_corner_source_name(lapdata_corners_from(r)));
	jb_lit(b, ",\"corners\":[");
	for (size_t i = 0; i < lapdata_corner_count(r); i++) {
		const struct lapdata_corner_row *row = lapdata_corner_row(r, i);
		char num[16];

		if (i)
			jb_lit(b, ",");
		snprintf(num, sizeof num, "%d", row->corner.number);
		jb_lit(b, "{\"number\":");
		jb_lit(b, num);
		jb_lit(b, ",\"direction\":");
		jb_str(b, row->corner.dir > 0 ? "right" : "left");
		jb_lit(b, ",\"start_m\":");
		jb_num(b, row->corner.start_m, 1);
		jb_lit(b, ",\"apex_m\":");
		jb_num(b, row->corner.apex_m, 1);
		jb_lit(b, ",\"end_m\":");
		jb_num(b, row->corner.end_m, 1);
		jb_lit(b, ",\"ref_s\":");
		jb_num(b, row->time_s[0], TIME_DECIMALS);
		jb_lit(b, ",\"ref_min_speed_kmh\":");
		jb_num(b, row->min_speed_kmh[0], 2);
		jb_lit(b, ",\"ref_brake_point_m\":");
		jb_num(b, row->brake_m[0], 1);
		jb_lit(b, ",\"laps\":[");
		for (size_t k = 1; k < nlaps; k++) {
			if (k > 1)
				jb_lit(b, ",");
			jb_lit(b, "{\"time_s\":");
			jb_num(b, row->time_s[k], TIME_DECIMALS);
			jb_lit(b, ",\"delta_s\":");
			jb_num(b, row->time_s[k] - row->time_s[0], TIME_DECIMALS);
			jb_lit(b, ",\"min_speed_kmh\":");
			jb_num(b, row->min_speed_kmh[k], 2);
			jb_lit(b, ",\"brake_point_m\":");
			jb_num(b, row->brake_m[k], 1);
			jb_lit(b, ",\"brake_point_delta_m\":");
			jb_num(b, row->brake_m[k] - row->brake_m[0], 1);
			jb_lit(b, "}");
		}
		jb_lit(b, "]}");
	}
	jb_lit(b, "]");
}

struct entry_job {
	const struct qlap *q;
	const struct lapdata_result *r;
	const struct lapdata_channels *cs;
	struct jb part[1 + LAPDATA_MAX_LAPS];
};

static void entry_one(void *ctx, size_t k)
{
	struct entry_job *j = ctx;

	jb_room(&j->part[k], 4096 + 16 * lapdata_points(j->r) * (2 + entry_values(j->cs)));
	put_entry(&j->part[k], &j->q[k], j->r, k, j->cs);
}

int lapquery_compare(lapquery_call_fn *call, void *ctx, const struct lapquery_params *p,
		     char **json, size_t *len, struct lapquery_err *err)
{
	struct qlap q[1 + LAPDATA_MAX_LAPS];
	struct qtrack t = { 0 };
	struct lapdata_result *r = NULL;
	struct jb b = { 0 };
	struct entry_job ej;
	size_t n = 1 + p->nlaps;
	struct lapdata_channels cs;
	struct manifest *m = NULL;
	int rc = -1;

	*json = NULL;
	*len = 0;
	memset(q, 0, sizeof q);
	if (p->nlaps < 1 || p->nlaps > LAPDATA_MAX_LAPS)
		return fail(err, MSG_E_BAD_REQUEST, "lap is required one to %d times",
			    LAPDATA_MAX_LAPS);
	if (resolve_channels(call, ctx, p, &cs, &m, err) < 0)
		goto out;
	for (size_t k = 1; k < n; k++) {
		q[k].ref = p->laps[k - 1];
		if (resolve(call, ctx, &q[k], err) < 0)
			goto out;
	}
	if (p->best) {
		if (find_best(call, ctx, &q[1], &q[0].ref, err) < 0)
			goto out;
	} else {
		q[0].ref = p->ref;
	}
	if (resolve(call, ctx, &q[0], err) < 0)
		goto out;
	for (size_t k = 1; k < n; k++)
		if (!same(q[k].game, q[0].game) || !same(q[k].track, q[0].track)) {
			fail(err, MSG_E_CONFLICT,
			     "lap %s is on %s / %s, the reference %s on %s / %s: laps of different "
			     "games or tracks cannot be compared",
			     q[k].label, q[k].game ? q[k].game : "an unknown game",
			     q[k].track ? q[k].track : "an unknown track", q[0].label,
			     q[0].game ? q[0].game : "an unknown game",
			     q[0].track ? q[0].track : "an unknown track");
			goto out;
		}
	if (load_track(call, ctx, q[0].game, q[0].track, &t, err) < 0)
		goto out;
	if (load_all(q, n, &cs, err) < 0 || compute(q, n, &t, p->step_m, &r, err) < 0)
		goto out;
	/* each lap's part written in parallel, then joined */
	ej = (struct entry_job){ .q = q, .r = r, .cs = &cs };
	lapdata_parallel(n, entry_one, &ej);
	jb_room(&b, 4096 + 16 * lapdata_points(r));
	jb_lit(&b, "{");
	put_head(&b, r, p->step_m);
	put_corners(&b, r, n);
	put_distance(&b, r);
	jb_lit(&b, ",\"ref\":");
	jb_put(&b, ej.part[0].p, ej.part[0].len);
	jb_lit(&b, ",\"laps\":[");
	for (size_t k = 1; k < n; k++) {
		if (k > 1)
			jb_lit(&b, ",");
		jb_put(&b, ej.part[k].p, ej.part[k].len);
		b.oom |= ej.part[k].oom;
	}
	jb_lit(&b, "]}");
	b.oom |= ej.part[0].oom;
	for (size_t k = 0; k < n; k++)
		free(ej.part[k].p);
	rc = finish(&b, json, len, err);
out:
	lapdata_result_free(r);
	qtrack_free(&t);
	for (size_t k = 0; k < n; k++)
		qlap_free(&q[k]);
	manifest_free(m);
	return rc;
}
