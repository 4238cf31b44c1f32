/*
 * cars.c - a car's profile aggregated over its shift_points analyses (see
 * cars.h; the output is the seed's Car Characteristics Detail and List
 * shapes), and the characteristics.* commands that serve it from the
 * sessions the store holds.
 *
 * Detail: {"car_name", "gears":[{"gear","min_rpm","max_rpm","min_speed_kmh",
 *          "max_speed_kmh"}...], "recommended_shift_rpm", "session_count"}
 * - an analysis contributes when it is an object whose "gears" array holds
 *   at least one valid gear entry, or whose "recommended_shift_rpm" is a
 *   number > 0. A gear entry is valid when "gear" is an integer 1..16 and
 *   min_rpm, max_rpm, min_speed_kmh, max_speed_kmh are finite numbers with
 *   0 <= min <= max; anything else (a failed or pending analysis, a broken
 *   entry) is skipped without failing the rest.
 * - gears: one entry per gear number seen, ascending; min_rpm = min of the
 *   sessions' min_rpm, max_rpm = max of their max_rpm (integers, 1/min),
 *   speeds likewise (0.1 km/h). The widest range the car was seen using.
 * - recommended_shift_rpm: the plain mean of the contributing sessions'
 *   recommended_shift_rpm, rounded to 10 rpm (every session's advice counts
 *   the same, whatever its length: a long session does not outvote a second
 *   driver's); null when no session has one.
 * - session_count: the contributing analyses (= n when all are well formed).
 * n = 0 (or nothing contributes) gives gears [], recommended null, count 0.
 *
 * List entry (cars_characteristics_summary): {"car_name","session_count",
 * "recommended_shift_rpm"} copied from a detail; characteristics.list adds
 * "car_slug" where the name cannot be a path segment (a '/' in it,
 * ids_real_name_in_path): the key that addresses it in a path instead.
 *
 * characteristics.get takes the car's real name or its slug.
 */
#include <math.h>
#include <string.h>

#include "store/cars.h"
#include "store/cmd.h"
#include "store/store.h"

#define CH_MAX_GEAR 16
#define CH_ROUND_RPM 10.0

struct ch_gear {
	int seen;
	double min_rpm, max_rpm, min_kmh, max_kmh;
};

struct ch_acc {
	struct ch_gear gear[CH_MAX_GEAR + 1];
	double rec_sum;
	int rec_n, sessions;
};

static int number(const json_t *o, const char *key, double *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		return 0;
	*out = json_number_value(v);
	return isfinite(*out);
}

/* One valid gear entry into the aggregate; 0 when the entry is not valid. */
static int add_gear(struct ch_acc *acc, const json_t *e)
{
	const json_t *jg = json_object_get(e, "gear");
	double r0, r1, v0, v1;
	struct ch_gear *g;
	json_int_t gi;

	if (!json_is_integer(jg))
		return 0;
	gi = json_integer_value(jg);
	if (gi < 1 || gi > CH_MAX_GEAR || !number(e, "min_rpm", &r0) ||
	    !number(e, "max_rpm", &r1) || !number(e, "min_speed_kmh", &v0) ||
	    !number(e, "max_speed_kmh", &v1))
		return 0;
	if (r0 < 0.0 || r0 > r1 || v0 < 0.0 || v0 > v1)
		return 0;
	g = &acc->gear[gi];
	if (!g->seen++) {
		g->min_rpm = r0, g->max_rpm = r1, g->min_kmh = v0, g->max_kmh = v1;
		return 1;
	}
	g->min_rpm = fmin(g->min_rpm, r0);
	g->max_rpm = fmax(g->max_rpm, r1);
	g->min_kmh = fmin(g->min_kmh, v0);
	g->max_kmh = fmax(g->max_kmh, v1);
	return 1;
}

static void add_analysis(struct ch_acc *acc, const json_t *a)
{
	const json_t *gears = json_object_get(a, "gears"), *e;
	int used = 0;
	double rec;
	size_t i;

	if (!json_is_object(a))
		return;
	json_array_foreach(gears, i, e)
		used += add_gear(acc, e);
	if (number(a, "recommended_shift_rpm", &rec) && rec > 0.0) {
		acc->rec_sum += rec;
		acc->rec_n++;
		used++;
	}
	acc->sessions += used > 0;
}

static json_t *gears_json(const struct ch_acc *acc)
{
	json_t *arr = json_array();

	for (int g = 1; arr && g <= CH_MAX_GEAR; g++) {
		const struct ch_gear *x = &acc->gear[g];
		if (!x->seen)
			continue;
		if (json_array_append_new(
			    arr, json_pack("{s:i,s:I,s:I,s:f,s:f}", "gear", g, "min_rpm",
					   (json_int_t)llround(x->min_rpm), "max_rpm",
					   (json_int_t)llround(x->max_rpm), "min_speed_kmh",
					   round(x->min_kmh * 10.0) / 10.0, "max_speed_kmh",
					   round(x->max_kmh * 10.0) / 10.0)) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

json_t *cars_characteristics(const char *car_name, json_t *const *analyses, size_t n)
{
	struct ch_acc acc;
	json_t *rec;

	memset(&acc, 0, sizeof acc);
	for (size_t i = 0; analyses && i < n; i++)
		add_analysis(&acc, analyses[i]);
	rec = acc.rec_n ? json_real(round(acc.rec_sum / acc.rec_n / CH_ROUND_RPM) * CH_ROUND_RPM)
			: json_null();
	return json_pack("{s:s,s:o,s:o,s:i}", "car_name", car_name ? car_name : "", "gears",
			 gears_json(&acc), "recommended_shift_rpm", rec, "session_count",
			 acc.sessions);
}

json_t *cars_characteristics_summary(const json_t *detail)
{
	const json_t *name, *count, *rec;

	if (!json_is_object(detail))
		return NULL;
	name = json_object_get(detail, "car_name");
	count = json_object_get(detail, "session_count");
	rec = json_object_get(detail, "recommended_shift_rpm");
	return json_pack(
		"{s:s,s:I,s:O}", "car_name", json_is_string(name) ? json_string_value(name) : "",
		"session_count", json_is_integer(count) ? json_integer_value(count) : 0,
		"recommended_shift_rpm", json_is_number(rec) ? (json_t *)rec : json_null());
}

/* --- the commands --- */

/* Completed shift_points sessions of one car (or of every car when car is NULL)
 * whose analysis is a result, not pending or failed. */
static int usable(const struct session *s, const char *car)
{
	const char *status = json_string_value(json_object_get(s->analysis, "status"));

	return s->completed && s->use_case == UC_SHIFT_POINTS && s->car_name[0] &&
	       json_is_object(s->analysis) &&
	       !(status && (strcmp(status, "pending") == 0 || strcmp(status, "failed") == 0)) &&
	       (!car || strcmp(s->car_name, car) == 0);
}

/* The analyses of the shift_points sessions (of car, or of every car when
 * car is NULL) in memory: a session from the index gets them from its file. */
static void load_analyses(struct store *st, const char *car)
{
	for (int i = 0; i < st->nsessions; i++) {
		struct session *s = st->sessions[i];

		if (s->completed && s->use_case == UC_SHIFT_POINTS && s->car_name[0] &&
		    (!car || strcmp(s->car_name, car) == 0))
			session_details(st, s);
	}
}

static json_t *car_detail(struct store *st, const char *car)
{
	json_t **an = calloc((size_t)st->nsessions + 1, sizeof *an);
	size_t n = 0;
	json_t *d;

	if (!an)
		return NULL;
	for (int i = 0; i < st->nsessions; i++)
		if (usable(st->sessions[i], car))
			an[n++] = st->sessions[i]->analysis;
	d = n ? cars_characteristics(car, an, n) : NULL;
	free(an);
	return d;
}

static json_t *h_cars_list(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { NULL };
	json_t *list, *seen;

	if (only_keys(args, keys, err) < 0)
		return NULL;
	load_analyses(st, NULL);
	list = json_array();
	seen = json_object();
	for (int i = 0; i < st->nsessions; i++) {
		const char *car = st->sessions[i]->car_name;
		json_t *d;
		if (!usable(st->sessions[i], NULL) || json_object_get(seen, car))
			continue;
		json_object_set_new(seen, car, json_true());
		if ((d = car_detail(st, car))) {
			json_t *row = cars_characteristics_summary(d);
			char slug[IDS_NAME_MAX + 1];

			if (row && !ids_real_name_in_path(car) && ids_slug(car, slug) == 0)
				json_object_set_new(row, "car_slug", json_string(slug));
			json_array_append_new(list, row);
			json_decref(d);
		}
	}
	json_decref(seen);
	return list;
}

/* The real name of the car that car (a real name or a slug) names: car itself
 * when a session has that name, else the name of a usable session whose slug
 * it is, else car (borrowed from st or from the caller). */
static const char *real_car_name(const struct store *st, const char *car)
{
	char slug[IDS_NAME_MAX + 1];

	for (int i = 0; i < st->nsessions; i++)
		if (usable(st->sessions[i], car))
			return car;
	for (int i = 0; i < st->nsessions; i++)
		if (usable(st->sessions[i], NULL) &&
		    ids_slug(st->sessions[i]->car_name, slug) == 0 && strcmp(slug, car) == 0)
			return st->sessions[i]->car_name;
	return car;
}

static json_t *h_cars_get(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "car", NULL };
	const char *car;
	json_t *d;

	if (only_keys(args, keys, err) < 0 ||
	    opt_str(args, "car", IDS_REAL_NAME_MAX, &car, err) < 0)
		return NULL;
	if (!*car)
		return fail(err, MSG_E_BAD_REQUEST, "\"car\" is required");
	load_analyses(st, NULL);
	car = real_car_name(st, car);
	if (!(d = car_detail(st, car)))
		return fail(err, MSG_E_NOT_FOUND, "no analysed shift_points session for car \"%s\"",
			    car);
	return d;
}

const struct cmd_entry car_commands[] = {
	{ "characteristics.list", h_cars_list },
	{ "characteristics.get", h_cars_get },
	{ NULL, NULL },
};
