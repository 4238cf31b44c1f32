/*
 * test_manifest.c - derived channels by manifest (common/manifest.c): the
 * issue's three examples, names of every kind of frame value, validation
 * with messages naming the field, the canonical document, the dictionary
 * entries, CSV and JSON text, and - against the emulator's ground truth -
 * derivative(speed_kmh) equal to the car's longitudinal acceleration and
 * integral(speed_kmh / 3.6) equal to the distance driven.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/manifest.h"
#include "tests/unit/t.h"
#include "tests/unit/t_frames.h"

#define ISSUE_DOC                                                                                   \
	"{\"name\": \"power\", \"version\": 1, \"description\": \"the issue's examples\","          \
	" \"channels\": ["                                                                          \
	"{\"name\": \"power_kw\", \"formula\": \"power_w / 1000\", \"unit\": \"kW\"},"              \
	"{\"name\": \"brake_balance\", \"formula\": \"brake_temp_c_fl / brake_temp_c_rl\"},"        \
	"{\"name\": \"speed_delta\", \"formula\": \"derivative(speed_kmh)\", \"unit\": \"km/h/s\"," \
	" \"description\": \"change of speed\"}]}"

static struct manifest *parse_text(const char *text, const char *name, char *err, size_t cap,
				   int *rc)
{
	json_error_t je;
	json_t *doc = json_loads(text, 0, &je);
	struct manifest *m = NULL;

	if (!doc) {
		fprintf(stderr, "  bad test JSON: %s\n", je.text);
		*rc = -1;
		return NULL;
	}
	*rc = manifest_parse(doc, name, &m, err, cap);
	json_decref(doc);
	return m;
}

static struct manifest *parse_ok(const char *text, const char *name)
{
	char err[MANIFEST_ERR_MAX] = "";
	int rc;
	struct manifest *m = parse_text(text, name, err, sizeof err, &rc);

	T_CHECKF(rc == 0 && m, "%s: %s", text, err);
	return m;
}

/* text must be refused with a message containing part. */
static void refused(const char *text, const char *part)
{
	char err[MANIFEST_ERR_MAX] = "";
	int rc;
	struct manifest *m = parse_text(text, "m", err, sizeof err, &rc);

	T_CHECKF(rc == -EINVAL && !m, "accepted: %s", text);
	T_CHECKF(strstr(err, part) != NULL, "%s: \"%s\" lacks \"%s\"", text, err, part);
	manifest_free(m);
}

static void test_issue_examples(void)
{
	struct manifest *m = parse_ok(ISSUE_DOC, "power");
	struct manifest_eval *ev = NULL;
	struct pw_frame f;
	double v[3];

	if (!m)
		return;
	T_EQ(m->nchannels, (size_t)3);
	T_STREQ(m->ch[0].unit, "kW");
	T_STREQ(m->ch[1].unit, "");
	T_STREQ(m->ch[2].description, "change of speed");
	T_EQ(m->ninputs, (size_t)4); /* power_w, brake_temp_c fl and rl, speed_kmh */
	T_EQ(m->nslots, (size_t)1);
	T_EQ(manifest_eval_new(m, &ev), 0);

	frame_init(&f, PW_GAME_AC, PW_FEED_KSUDP);
	f.present = FRAME_P_POWER | FRAME_P_BRAKE_TEMP | FRAME_P_SPEED | FRAME_P_GAME_TIME;
	f.power_w = 250000;
	f.brake_temp_c[0] = 600;
	f.brake_temp_c[2] = 400;
	f.speed_kmh = 100;
	f.game_time_s = 10;
	T_EQ(manifest_apply(ev, &f, v), (size_t)2);
	T_EQ(v[0], 250.0);
	T_EQ(v[1], 1.5);
	T_CHECK(isnan(v[2])); /* first frame: no derivative yet */
	f.speed_kmh = 110;
	f.game_time_s = 10.5;
	T_EQ(manifest_apply(ev, &f, v), (size_t)3);
	T_NEAR(v[2], 20.0, 1e-4);

	/* a game without power: power_kw absent, the others still computed */
	f.present &= ~(uint64_t)FRAME_P_POWER;
	f.speed_kmh = 120;
	f.game_time_s = 11;
	T_EQ(manifest_apply(ev, &f, v), (size_t)2);
	T_CHECK(isnan(v[0]));
	T_NEAR(v[2], 20.0, 1e-4);

	/* a new sequence forgets the last frame */
	manifest_eval_reset(ev);
	T_EQ(manifest_apply(ev, &f, v), (size_t)1);
	T_CHECK(isnan(v[2]));
	manifest_eval_free(ev);
	manifest_free(m);
}

/* Every kind of frame value by name; derived channels built on earlier ones. */
static void test_names(void)
{
	struct manifest *m =
		parse_ok("{\"channels\": ["
			 "{\"name\": \"vz\", \"formula\": \"vel_ms_z * 3.6\"},"
			 "{\"name\": \"diff\", \"formula\": \"vz - speed_kmh\"},"
			 "{\"name\": \"pit\", \"formula\": \"in_pit + 2 * lap_invalid\"},"
			 "{\"name\": \"s2\", \"formula\": \"sector_ms_2 / 1000\"},"
			 "{\"name\": \"wear_rr\", \"formula\": \"tyre_wear_rr\"},"
			 "{\"name\": \"gear_x\", \"formula\": \"gear * 10 + lap\"},"
			 "{\"name\": \"clock\", \"formula\": \"game_time_s\"},"
			 "{\"name\": \"twice\", \"formula\": \"diff * 2 + pit\"}]}",
			 "names");
	struct manifest_eval *ev = NULL;
	struct pw_frame f;
	double v[8];

	if (!m)
		return;
	T_EQ(manifest_eval_new(m, &ev), 0);
	frame_init(&f, PW_GAME_F1_24, PW_FEED_F1);
	f.present = FRAME_P_VEL | FRAME_P_SPEED | FRAME_P_SECTOR_TIMES | FRAME_P_TYRE_WEAR |
		    FRAME_P_GEAR | FRAME_P_LAP | FRAME_P_GAME_TIME;
	f.vel_ms[2] = 50;
	f.speed_kmh = 179.5f;
	f.flags_known = FRAME_FLAG_IN_PIT | FRAME_FLAG_LAP_INVALID;
	f.flags = FRAME_FLAG_LAP_INVALID;
	f.sector_ms[0] = 30000;
	f.sector_ms[1] = -1; /* not reached yet: no value */
	f.tyre_wear[3] = 0.75f;
	f.gear = -1;
	f.lap = 3;
	f.game_time_s = 1234.5;
	manifest_apply(ev, &f, v);
	T_NEAR(v[0], 180.0, 1e-9);
	T_NEAR(v[1], 0.5, 1e-4);
	T_EQ(v[2], 2.0);
	T_CHECK(isnan(v[3]));
	T_EQ(v[4], 0.75);
	T_EQ(v[5], -7.0);
	T_EQ(v[6], 1234.5);
	T_NEAR(v[7], 3.0, 1e-4);
	/* a flag the game does not report has no value */
	f.flags_known = 0;
	manifest_apply(ev, &f, v);
	T_CHECK(isnan(v[2]) && isnan(v[7]));
	manifest_eval_free(ev);
	manifest_free(m);
}

static void test_refused(void)
{
	refused("[]", "a manifest is a JSON object");
	refused("{}", "channels must be an array of 1 to 64");
	refused("{\"channels\": []}", "channels must be an array");
	refused("{\"channels\": [1]}", "channels[0] must be an object");
	refused("{\"channels\": [{\"formula\": \"1\"}]}", "channels[0].name is required");
	refused("{\"channels\": [{\"name\": \"a\"}]}", "channels[0].formula is required");
	refused("{\"channels\": [{\"name\": \"a\", \"formula\": 1}]}",
		"channels[0].formula must be a string");
	refused("{\"channels\": [{\"name\": \"a\", \"formula\": \"1\", \"colour\": \"red\"}]}",
		"channels[0].unknown field \"colour\"");
	refused("{\"channels\": [{\"name\": \"a\", \"formula\": \"1\"}], \"extra\": 1}",
		"unknown field \"extra\"");
	refused("{\"channels\": [{\"name\": \"Power\", \"formula\": \"1\"}]}",
		"channels[0].name \"Power\" must be 1 to 48 of a-z 0-9 _");
	refused("{\"channels\": [{\"name\": \"2x\", \"formula\": \"1\"}]}",
		"starting with a letter");
	refused("{\"channels\": [{\"name\": \"speed_kmh\", \"formula\": \"1\"}]}",
		"name \"speed_kmh\" is taken");
	refused("{\"channels\": [{\"name\": \"tyre_temp_c_fl\", \"formula\": \"1\"}]}", "is taken");
	refused("{\"channels\": [{\"name\": \"in_pit\", \"formula\": \"1\"}]}", "is taken");
	refused("{\"channels\": [{\"name\": \"seq\", \"formula\": \"1\"}]}", "is taken");
	refused("{\"channels\": [{\"name\": \"time_s\", \"formula\": \"1\"}]}", "is taken");
	refused("{\"channels\": [{\"name\": \"max\", \"formula\": \"1\"}]}", "is taken");
	refused("{\"channels\": [{\"name\": \"a\", \"formula\": \"1\"},"
		" {\"name\": \"a\", \"formula\": \"2\"}]}",
		"channels[1].name \"a\" is used by channels[0] too");
	refused("{\"channels\": [{\"name\": \"a\", \"formula\": \"speed_kmh +\"}]}",
		"channels[0].formula: column 12: expected a number");
	refused("{\"channels\": [{\"name\": \"a\", \"formula\": \"tyre_temp_c_xx\"}]}",
		"column 1: unknown channel 'tyre_temp_c_xx'");
	refused("{\"channels\": [{\"name\": \"a\", \"formula\": \"b + 1\"},"
		" {\"name\": \"b\", \"formula\": \"1\"}]}",
		"only the channels defined before it");
	refused("{\"channels\": [{\"name\": \"a\", \"formula\": \"a + 1\"}]}",
		"only the channels defined before it");
	refused("{\"name\": \"other\", \"channels\": [{\"name\": \"a\", \"formula\": \"1\"}]}",
		"name \"other\" is not the manifest's name \"m\"");
	refused("{\"version\": 2, \"channels\": [{\"name\": \"a\", \"formula\": \"1\"}]}",
		"version must be 1");
	refused("{\"channels\": [{\"name\": \"a\", \"formula\": \"1\", \"unit\": \"k\\nW\"}]}",
		"unit contains a control character");
	refused("{\"channels\": [{\"name\": \"a\", \"formula\": \"1\", \"unit\": "
		"\"0123456789012345678901234567890123\"}]}",
		"channels[0].unit is longer than 32 bytes");

	/* a name with a NUL inside (JSON text cannot carry one, a json_t can) */
	{
		char err[MANIFEST_ERR_MAX] = "";
		json_t *doc = json_pack("{s:[{s:o, s:s}]}", "channels", "name",
					json_stringn("a\0b", 3), "formula", "1");
		struct manifest *m = NULL;

		T_EQ(manifest_parse(doc, "m", &m, err, sizeof err), -EINVAL);
		T_CHECK(strstr(err, "contains a NUL character") != NULL);
		json_decref(doc);
	}
	/* bad manifest names */
	{
		char err[MANIFEST_ERR_MAX];
		json_t *doc = json_loads("{\"channels\": [{\"name\": \"a\", \"formula\": \"1\"}]}",
					 0, NULL);
		struct manifest *m = NULL;

		T_EQ(manifest_parse(doc, "../etc", &m, err, sizeof err), -EINVAL);
		T_CHECK(strstr(err, "name must be") != NULL);
		T_EQ(manifest_parse(doc, "", &m, err, sizeof err), -EINVAL);
		T_EQ(manifest_parse(doc, NULL, &m, err, sizeof err), -EINVAL);
		T_EQ(manifest_parse(doc, "ok.name-1", &m, err, sizeof err), 0);
		manifest_free(m);
		json_decref(doc);
	}
}

/* The most channels, and one more. */
static void test_limits(void)
{
	char text[16384];
	size_t n = 0;
	struct manifest *m;
	char err[MANIFEST_ERR_MAX];
	int rc;

	n += (size_t)snprintf(text + n, sizeof text - n, "{\"channels\": [");
	for (int i = 0; i < MANIFEST_CHANNELS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof text - n,
				      "%s{\"name\": \"c%d\", \"formula\": \"%s + 1\"}",
				      i ? "," : "", i, i ? "c0" : "speed_kmh");
	snprintf(text + n, sizeof text - n, "]}");
	m = parse_ok(text, "most");
	T_CHECK(m && m->nchannels == MANIFEST_CHANNELS_MAX);
	manifest_free(m);
	snprintf(text + n, sizeof text - n, ",{\"name\": \"x\", \"formula\": \"1\"}]}");
	m = parse_text(text, "more", err, sizeof err, &rc);
	T_EQ(rc, -EINVAL);
	T_CHECK(strstr(err, "at most 64") != NULL);
	manifest_free(m);
}

static void test_documents(void)
{
	struct manifest *m = parse_ok(ISSUE_DOC, "power"), *again = NULL;
	json_t *doc, *doc2, *dict;
	char err[MANIFEST_ERR_MAX];

	if (!m)
		return;
	doc = manifest_json(m);
	T_STREQ(json_string_value(json_object_get(doc, "name")), "power");
	T_EQ(json_integer_value(json_object_get(doc, "version")), 1);
	T_EQ(json_array_size(json_object_get(doc, "channels")), (size_t)3);
	T_STREQ(json_string_value(json_object_get(
			json_array_get(json_object_get(doc, "channels"), 1), "formula")),
		"brake_temp_c_fl / brake_temp_c_rl");
	/* the canonical document parses to the same document */
	T_EQ(manifest_parse(doc, "power", &again, err, sizeof err), 0);
	doc2 = again ? manifest_json(again) : NULL;
	T_CHECK(doc2 && json_equal(doc, doc2));

	dict = manifest_dictionary(m);
	T_EQ(json_array_size(dict), (size_t)3);
	T_CHECK(json_is_true(json_object_get(json_array_get(dict, 2), "derived")));
	T_STREQ(json_string_value(json_object_get(json_array_get(dict, 2), "formula")),
		"derivative(speed_kmh)");
	T_STREQ(json_string_value(json_object_get(json_array_get(dict, 2), "unit")), "km/h/s");
	T_STREQ(json_string_value(json_object_get(json_array_get(dict, 0), "manifest")), "power");
	/* the keys of a frame channel's dictionary entry, kind "manifest" */
	T_STREQ(json_string_value(json_object_get(json_array_get(dict, 0), "kind")), "manifest");
	T_STREQ(json_string_value(json_object_get(json_array_get(dict, 0), "type")), "float32");
	T_STREQ(json_string_value(
			json_array_get(json_object_get(json_array_get(dict, 1), "csv_columns"), 0)),
		"brake_balance");
	T_CHECK(json_is_null(json_object_get(json_array_get(dict, 1), "presence_bit")));
	T_EQ(json_array_size(json_object_get(json_array_get(dict, 1), "games")), (size_t)0);
	T_CHECK(json_is_true(json_object_get(json_array_get(dict, 1), "nullable")));
	/* a channel without a description gets the manifest's */
	T_STREQ(json_string_value(json_object_get(json_array_get(dict, 0), "description")),
		"the issue's examples");
	T_STREQ(json_string_value(json_object_get(json_array_get(dict, 2), "description")),
		"change of speed");
	json_decref(dict);

	/* the store's list appended to a dictionary: a document that does not
	 * compile (an unknown channel) is left out, the others keep their order */
	{
		json_t *d = json_pack("{s:[{s:s}]}", "channels", "name", "speed_kmh");
		json_t *docs = json_pack("[O, {s:s, s:[{s:s, s:s}]}, O]", doc, "name", "bad",
					 "channels", "name", "x", "formula", "nope_kmh", doc);

		T_EQ(manifest_dict_append(d, docs), 0);
		T_EQ(json_array_size(json_object_get(d, "channels")), (size_t)7);
		T_STREQ(json_string_value(json_object_get(
				json_array_get(json_object_get(d, "channels"), 4), "name")),
			"power_kw");
		T_EQ(manifest_dict_missing(d, "unavailable", "down"), 0);
		T_STREQ(json_string_value(
				json_object_get(json_object_get(d, "manifests_error"), "code")),
			"unavailable");
		json_decref(docs);
		json_decref(d);
	}
	json_decref(doc);
	json_decref(doc2);
	manifest_free(again);
	manifest_free(m);
}

static void test_text(void)
{
	struct manifest *m = parse_ok(ISSUE_DOC, "power");
	double v[3] = { 123.456703125, NAN, 0.1f };
	char buf[256];
	size_t n;

	if (!m)
		return;
	n = manifest_csv_header(m, buf, sizeof buf);
	T_STREQ(buf, ",power_kw,brake_balance,speed_delta");
	T_EQ(n, strlen(buf));
	/* float precision, no noise */
	manifest_csv_cells(m, v, buf, sizeof buf);
	T_STREQ(buf, ",123.4567,,0.1");
	manifest_json_members(m, v, buf, sizeof buf);
	T_STREQ(buf, ",\"power_kw\":123.4567,\"speed_delta\":0.1");
	/* snprintf semantics */
	n = manifest_json_members(m, v, buf, 8);
	T_EQ(n, strlen(",\"power_kw\":123.4567,\"speed_delta\":0.1"));
	T_EQ(strlen(buf), (size_t)7);
	manifest_free(m);
}

/* The emulator's car, 60 s of its laps at 333 Hz. derivative(speed_kmh) / 3.6 / g
 * is its longitudinal acceleration: frame by frame after smoothing the speed
 * (its noise is 0.05 km/h, a 3 ms difference quotient of it 0.7 g), and on
 * average over each second without (the quotients add up to the change of
 * speed). integral(speed_kmh / 3.6) is the distance driven. */
static void test_ground_truth(void)
{
	const size_t n = 333 * 60, w = 333;
	struct pw_frame *f = t_sim_frames(n, 7, 1);
	struct manifest *m = parse_ok(
		"{\"channels\": ["
		"{\"name\": \"lon_g\", \"formula\": \"derivative(speed_kmh) / 3.6 / 9.80665\"},"
		"{\"name\": \"dist_m\", \"formula\": \"integral(speed_kmh / 3.6)\"},"
		"{\"name\": \"lon_g_smooth\","
		" \"formula\": \"derivative(smooth(speed_kmh, 0.05)) / 3.6 / 9.80665\"}]}",
		"truth");
	struct manifest_eval *ev = NULL;
	double *out = malloc(n * 3 * sizeof *out), err_smooth = 0, err_window = 0, worst = 0;
	double truth_m, laps;
	size_t nsmooth = 0, nwin = 0;

	T_CHECK(f && m && out);
	if (!f || !m || !out || manifest_eval_new(m, &ev) < 0)
		goto out;
	manifest_apply_frames(ev, f, n, out);
	T_CHECK(isnan(out[0]) && out[1] == 0);
	for (size_t k = w; k < n; k++) {
		err_smooth += fabs(out[k * 3 + 2] - f[k].accel_lon_g);
		nsmooth++;
	}
	T_CHECKF(err_smooth / (double)nsmooth < 0.05, "mean |lon_g_smooth - accel_lon_g| = %g",
		 err_smooth / (double)nsmooth);
	for (size_t k0 = 1; k0 + w <= n; k0 += w) {
		double d = 0, a = 0;

		for (size_t k = k0; k < k0 + w; k++) {
			double dt = f[k].game_time_s - f[k - 1].game_time_s;

			d += out[k * 3] * dt;
			a += f[k].accel_lon_g * dt;
		}
		d /= f[k0 + w - 1].game_time_s - f[k0 - 1].game_time_s;
		a /= f[k0 + w - 1].game_time_s - f[k0 - 1].game_time_s;
		err_window += fabs(d - a);
		worst = fmax(worst, fabs(d - a));
		nwin++;
	}
	T_CHECKF(err_window / (double)nwin < 0.01 && worst < 0.03,
		 "per second: mean |lon_g - accel_lon_g| = %g, worst %g", err_window / (double)nwin,
		 worst);
	/* the distance along the track, laps and lap distance */
	laps = (double)f[n - 1].lap - f[0].lap;
	truth_m = laps * f[0].track_len_m + f[n - 1].lap_dist_m - f[0].lap_dist_m;
	T_CHECK(truth_m > 1000);
	T_NEAR(out[(n - 1) * 3 + 1], truth_m, truth_m * 0.002);
out:
	manifest_eval_free(ev);
	manifest_free(m);
	free(out);
	free(f);
}

int main(void)
{
	T_RUN(test_issue_examples);
	T_RUN(test_names);
	T_RUN(test_refused);
	T_RUN(test_limits);
	T_RUN(test_documents);
	T_RUN(test_text);
	T_RUN(test_ground_truth);
	return T_DONE();
}
