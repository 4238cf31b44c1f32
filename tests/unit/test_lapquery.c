/*
 * test_lapquery.c - the lap and compare answers (common/lapquery.h) with a
 * store played by the test: every query parameter's checks and the
 * parameter each error names, the answers' JSON shapes, the lap record and
 * run errors passed on, laps of different tracks refused, ref=best asking
 * the store with the first lap's game, track and car, and a lap compared
 * with itself giving zero delta in the JSON. The laps are the emulator's
 * (libpwsim), written to a real frame file.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/sim/driver.h"
#include "common/framefile.h"
#include "common/lapquery.h"
#include "common/laps.h"
#include "common/msg.h"
#include "t.h"

#define SID "0b5a4f0e-8a63-4c1e-9d7e-2f8f3f1d9a11"
#define RID "7c2d9e44-1f0b-4b8e-a7a5-5b3e2c9d1f20"
#define RID2 "9d4e2a11-3c5b-4f6a-8e7d-1a2b3c4d5e6f"
#define LAP(n) SID "/" RID "/" #n

static char dir[] = "/tmp/pw-test-lapquery-XXXXXX", path[128];
static json_t *g_laps;                     /* lap records of the run */
static char g_track2[64] = "pitwall_ring"; /* the track of run RID2 */
static char g_unavailable[32];             /* a command the store does not answer */
static json_t *g_best_args;                /* what lap.best was asked */
static char g_track_asked[80];             /* the track_name track.get was asked for */

static int store(void *ctx, const char *cmd, json_t *args, json_t **result, char *code,
		 size_t code_cap, char *message, size_t msg_cap)
{
	(void)ctx;
	if (strcmp(cmd, g_unavailable) == 0) {
		json_decref(args);
		snprintf(code, code_cap, "%s", MSG_E_UNAVAILABLE);
		snprintf(message, msg_cap, "the store did not answer");
		return -1;
	}
	if (strcmp(cmd, "run.get") == 0) {
		const char *rid = json_string_value(json_object_get(args, "run_id"));
		if (strcmp(rid, RID) != 0 && strcmp(rid, RID2) != 0) {
			snprintf(code, code_cap, "%s", MSG_E_NOT_FOUND);
			snprintf(message, msg_cap, "no run %s", rid);
			json_decref(args);
			return -1;
		}
		*result = json_pack("{s:s, s:s, s:s, s:O}", "frames_path", path, "game",
				    "assetto_corsa", "track",
				    strcmp(rid, RID) ? g_track2 : "pitwall_ring", "laps", g_laps);
		json_decref(args);
		return 0;
	}
	if (strcmp(cmd, "session.get") == 0) {
		*result = json_pack("{s:s, s:s}", "id", SID, "car_name", "pitwall_gt3");
		json_decref(args);
		return 0;
	}
	if (strcmp(cmd, "lap.best") == 0) {
		json_decref(g_best_args);
		g_best_args = args;
		*result = json_pack("{s:s, s:s, s:i, s:i, s:b}", "session_id", SID, "run_id", RID,
				    "number", 3, "time_ms", 89208, "valid", 1);
		return 0;
	}
	if (strcmp(cmd, "manifest.get") == 0 &&
	    strcmp(json_string_value(json_object_get(args, "name")), "power") == 0) {
		*result = json_loads("{\"channels\": [{\"name\": \"speed_ms\", \"formula\": "
				     "\"speed_kmh / 3.6\"}, {\"name\": \"kw\", \"formula\": "
				     "\"power_w / 1000\"}]}",
				     0, NULL);
		json_decref(args);
		return 0;
	}
	if (strcmp(cmd, "track.get") == 0)
		snprintf(g_track_asked, sizeof g_track_asked, "%s",
			 json_string_value(json_object_get(args, "track_name")));
	json_decref(args);
	snprintf(code, code_cap, "%s", MSG_E_NOT_FOUND);
	snprintf(message, msg_cap, "no %s", cmd);
	return -1;
}

static int make_run(void)
{
	struct track *t = track_new();
	struct driver *d = t ? driver_new(DRIVER_LAPS, 5, car_default(), t) : NULL;
	struct laps *lt = laps_new();
	struct framefile_hdr h = { .codec = BLOCKCODEC_PACK };
	struct framefile_writer *w = NULL;
	struct lap_event ev[LAPS_MAX_EVENTS];
	char buf[2048];
	int rc = -1;

	g_laps = json_array();
	snprintf(h.feed, sizeof h.feed, "ksudp");
	snprintf(h.run_id, sizeof h.run_id, RID);
	if (!d || !lt || framefile_create(&w, path, &h) < 0)
		goto out;
	for (size_t k = 0; k < 60 * 290; k++) {
		struct pw_frame f;
		driver_run_to(d, (int64_t)((double)k * 1000.0 / 60.0 + 0.5));
		driver_frame(d, &f);
		f.seq = 100 + k;
		f.t_ns = 1750000000000000000ll + (int64_t)((double)k * 1e9 / 60.0);
		f.game = PW_GAME_AC;
		f.feed = PW_FEED_KSUDP;
		for (int e = laps_feed(lt, &f, ev, LAPS_MAX_EVENTS), j = 0; j < e; j++)
			if (ev[j].kind == LAP_COMPLETED) {
				lap_to_json(&ev[j].lap, buf, sizeof buf);
				json_array_append_new(g_laps, json_loads(buf, 0, NULL));
			}
		if (framefile_append(w, &f, 1) < 0)
			goto out;
	}
	rc = framefile_close(w);
	w = NULL;
out:
	framefile_close(w);
	laps_free(lt);
	driver_free(d);
	track_free(t);
	return rc;
}

/* The query is refused as bad_request, the message naming want. */
static int refused(const char *query, int compare, const char *want)
{
	struct lapquery_params p;
	struct lapquery_err err = { "", "" };
	int rc = lapquery_parse_query(query, compare, &p, &err);

	if (rc == 0 || strcmp(err.code, MSG_E_BAD_REQUEST) != 0 || !strstr(err.message, want)) {
		fprintf(stderr, "  query \"%s\": rc %d, %s: %s (want \"%s\" named)\n", query, rc,
			err.code, err.message, want);
		return 0;
	}
	return 1;
}

static void test_parameters(void)
{
	struct lapquery_params p;
	struct lapquery_err err;

	T_CHECK(lapquery_parse_query(NULL, 0, &p, &err) == 0);
	T_CHECK(p.step_m == 1.0 && p.cs.n == 9 && p.nlaps == 0 && !p.best);
	T_CHECK(lapquery_parse_query("step_m=0.1&channels=speed_kmh%2Cgear,abs", 0, &p, &err) == 0);
	T_CHECK(p.step_m == 0.1 && p.cs.n == 3);
	T_CHECK(lapquery_parse_query("step_m=50", 0, &p, &err) == 0 && p.step_m == 50);
	T_CHECK(refused("step_m=0.05", 0, "step_m"));
	T_CHECK(refused("step_m=50.5", 0, "step_m"));
	T_CHECK(refused("step_m=abc", 0, "step_m"));
	T_CHECK(refused("step_m=", 0, "step_m"));
	T_CHECK(refused("step_m=1m", 0, "step_m"));
	T_CHECK(refused("step_m=nan", 0, "step_m"));
	T_CHECK(refused("step_m=inf", 0, "step_m"));
	T_CHECK(refused("step_m=1&step_m=2", 0, "step_m"));
	T_CHECK(refused("channels=speed_kmh,warp_factor", 0, "warp_factor"));
	T_CHECK(refused("channels=speed_kmh,,gear", 0, "channels"));
	T_CHECK(refused("channels=", 0, "channels"));
	T_CHECK(refused("channels=gear,gear", 0, "gear"));
	T_CHECK(refused("channels=a%2", 0, "channels"));
	T_CHECK(refused("colour=red", 0, "colour"));
	T_CHECK(refused("ref=best", 0, "ref")); /* a lap takes no ref */
	T_CHECK(refused("lap=" LAP(2), 0, "lap"));
	/* compare */
	T_CHECK(lapquery_parse_query("ref=" LAP(2) "&lap=" LAP(1) "&lap=" LAP(3), 1, &p, &err) ==
		0);
	T_CHECK(p.nlaps == 2 && p.ref.number == 2 && p.laps[1].number == 3 && !p.best);
	T_STREQ(p.laps[0].rid, RID);
	T_CHECK(lapquery_parse_query("ref=best&lap=" LAP(1), 1, &p, &err) == 0 && p.best);
	T_CHECK(refused("lap=" LAP(1), 1, "ref is required"));
	T_CHECK(refused("ref=" LAP(1), 1, "lap is required"));
	T_CHECK(refused("ref=" LAP(1) "&ref=" LAP(2) "&lap=" LAP(1), 1, "ref"));
	T_CHECK(refused("ref=" LAP(0) "&lap=" LAP(1), 1, "ref"));
	T_CHECK(refused("ref=" SID "/" RID "&lap=" LAP(1), 1, "ref"));
	T_CHECK(refused("ref=" LAP(1) "&lap=" SID "/not-a-run/1", 1, "lap"));
	T_CHECK(refused("ref=" LAP(1) "&lap=" LAP(x), 1, "lap"));
	T_CHECK(refused("ref=" LAP(1) "&lap=" LAP(1) "&lap=" LAP(1) "&lap=" LAP(1) "&lap=" LAP(
				1) "&lap=" LAP(1) "&lap=" LAP(1) "&lap=" LAP(1),
			1, "more than 6"));
	T_CHECK(refused("ref=" LAP(1) "&lap=" LAP(2) "&step_m=0", 1, "step_m"));
	T_CHECK(refused("ref=" LAP(1) "&lap=" LAP(2) "&format=csv", 1, "format"));
}

static json_t *lap_answer(const char *lap, const char *query, struct lapquery_err *err)
{
	struct lapquery_params p;
	struct lapquery_lapref ref;
	char *json = NULL;
	size_t len;
	json_t *o = NULL;

	if (lapquery_parse_query(query, 0, &p, err) == 0 &&
	    lapquery_parse_lapref("lap", lap, &ref, err) == 0 &&
	    lapquery_lap(store, NULL, &ref, &p, &json, &len, err) == 0) {
		o = json_loadb(json, len, 0, NULL);
		T_CHECK(o != NULL && strlen(json) == len);
	}
	free(json);
	return o;
}

static void test_lap(void)
{
	struct lapquery_err err;
	json_t *o =
		lap_answer(LAP(2), "channels=speed_kmh,gear,pos_m,boost_bar,abs&step_m=2", &err);
	json_t *d, *t, *ch;
	size_t n;

	T_CHECKF(o != NULL, "%s: %s", err.code, err.message);
	if (!o)
		return;
	d = json_object_get(o, "distance_m");
	t = json_object_get(o, "time_s");
	ch = json_object_get(o, "channels");
	n = json_array_size(d);
	T_CHECK(n > 2000 && json_array_size(t) == n);
	T_CHECK(json_number_value(json_array_get(d, 0)) == 0);
	T_NEAR(json_number_value(json_array_get(d, 1)), 2.0, 1e-9);
	T_NEAR(json_number_value(json_array_get(d, n - 1)),
	       json_number_value(json_object_get(o, "length_m")), 1e-3);
	T_NEAR(json_number_value(json_array_get(t, n - 1)),
	       json_integer_value(json_object_get(json_object_get(o, "lap"), "time_ms")) / 1000.0,
	       0.002);
	T_STREQ(json_string_value(json_object_get(o, "alignment")), "spline");
	T_CHECK(json_number_value(json_object_get(o, "step_m")) == 2);
	T_CHECK(json_integer_value(json_object_get(json_object_get(o, "lap"), "number")) == 2);
	T_STREQ(json_string_value(json_object_get(json_object_get(o, "lap"), "run_id")), RID);
	T_STREQ(json_string_value(json_object_get(json_object_get(o, "lap"), "track")),
		"pitwall_ring");
	T_CHECK(json_array_size(json_object_get(ch, "speed_kmh")) == n);
	T_CHECK(json_array_size(json_array_get(json_object_get(ch, "pos_m"), 10)) == 3);
	T_CHECK(json_is_integer(json_array_get(json_object_get(ch, "gear"), 100)));
	/* the emulator sends every channel, boost and the ABS flag too */
	T_CHECK(json_array_size(json_object_get(ch, "boost_bar")) == n);
	T_CHECK(json_array_size(json_object_get(ch, "abs")) == n);
	T_CHECK(json_array_size(json_object_get(o, "absent_channels")) == 0);
	json_decref(o);
	/* a lap the run does not have, a run the store does not know, the store away */
	T_CHECK(lap_answer(LAP(9), NULL, &err) == NULL && strcmp(err.code, MSG_E_NOT_FOUND) == 0);
	T_CHECKF(strstr(err.message, "no lap 9") != NULL, "%s", err.message);
	T_CHECK(lap_answer(SID "/1c2d9e44-1f0b-4b8e-a7a5-5b3e2c9d1f20/1", NULL, &err) == NULL &&
		strcmp(err.code, MSG_E_NOT_FOUND) == 0);
	snprintf(g_unavailable, sizeof g_unavailable, "run.get");
	T_CHECK(lap_answer(LAP(1), NULL, &err) == NULL && strcmp(err.code, MSG_E_UNAVAILABLE) == 0);
	g_unavailable[0] = 0;
	/* a lap whose last frames the file does not hold yet */
	{
		json_t *lap = json_array_get(g_laps, json_array_size(g_laps) - 1);
		json_int_t end = json_integer_value(json_object_get(lap, "end_seq"));
		char ref[128];

		json_object_set_new(lap, "end_seq", json_integer(end + 100000));
		snprintf(ref, sizeof ref, "%s/%s/%lld", SID, RID,
			 (long long)json_integer_value(json_object_get(lap, "number")));
		T_CHECK(lap_answer(ref, NULL, &err) == NULL &&
			strcmp(err.code, MSG_E_CONFLICT) == 0);
		T_CHECKF(strstr(err.message, "not stored yet") != NULL, "%s", err.message);
		json_object_set_new(lap, "end_seq", json_integer(end));
	}
}

/* A lap with a manifest's channels: named, or all of them by default; an
 * unknown manifest or channel refused naming the parameter. */
static void test_lap_manifest(void)
{
	struct lapquery_err err;
	json_t *o = lap_answer(LAP(2), "manifest=power&channels=speed_kmh,speed_ms&step_m=5", &err);
	json_t *ch, *v, *ms;
	size_t bad = 0;

	T_CHECKF(o != NULL, "%s: %s", err.code, err.message);
	if (!o)
		return;
	ch = json_object_get(o, "channels");
	v = json_object_get(ch, "speed_kmh");
	ms = json_object_get(ch, "speed_ms");
	T_CHECK(json_array_size(v) > 100 && json_array_size(ms) == json_array_size(v));
	for (size_t i = 0; i < json_array_size(v); i++)
		bad += fabs(json_number_value(json_array_get(ms, i)) -
			    json_number_value(json_array_get(v, i)) / 3.6) > 0.01;
	T_EQ(bad, (size_t)0);
	json_decref(o);
	/* channels before manifest in the query: the same */
	o = lap_answer(LAP(2), "channels=kw&manifest=power", &err);
	T_CHECKF(o && json_array_size(json_object_get(json_object_get(o, "channels"), "kw")) > 100,
		 "%s", err.message);
	json_decref(o);
	/* no channels: the default set and the manifest's */
	o = lap_answer(LAP(2), "manifest=power&step_m=10", &err);
	ch = o ? json_object_get(o, "channels") : NULL;
	T_CHECK(ch && json_object_get(ch, "speed_ms") && json_object_get(ch, "kw") &&
		json_object_get(ch, "gear") && json_object_get(ch, "pos_m"));
	json_decref(o);
	T_CHECK(lap_answer(LAP(2), "manifest=nosuch", &err) == NULL &&
		strcmp(err.code, MSG_E_BAD_REQUEST) == 0 &&
		strstr(err.message, "manifest: there is no manifest \"nosuch\""));
	T_CHECK(lap_answer(LAP(2), "manifest=power&channels=speed_kmh,watts", &err) == NULL &&
		strcmp(err.code, MSG_E_BAD_REQUEST) == 0 && strstr(err.message, "\"watts\"") &&
		strstr(err.message, "manifest power"));
	/* a manifest's channel without the manifest is an unknown channel */
	T_CHECK(refused("channels=speed_ms", 0, "unknown channel \"speed_ms\""));
	T_CHECK(refused("manifest=a/b", 0, "manifest must be a manifest's name"));
	T_CHECK(refused("manifest=power&manifest=power", 0, "manifest is given twice"));
}

static json_t *compare_answer(const char *query, struct lapquery_err *err)
{
	struct lapquery_params p;
	char *json = NULL;
	size_t len;
	json_t *o = NULL;

	if (lapquery_parse_query(query, 1, &p, err) == 0 &&
	    lapquery_compare(store, NULL, &p, &json, &len, err) == 0)
		o = json_loadb(json, len, 0, NULL);
	free(json);
	return o;
}

static void test_compare(void)
{
	struct lapquery_err err;
	json_t *o = compare_answer("ref=" LAP(2) "&lap=" LAP(1) "&lap=" LAP(2) "&step_m=5", &err);
	json_t *laps, *corners, *d;
	size_t n;

	T_CHECKF(o != NULL, "%s: %s", err.code, err.message);
	if (!o)
		return;
	d = json_object_get(o, "distance_m");
	n = json_array_size(d);
	laps = json_object_get(o, "laps");
	corners = json_object_get(o, "corners");
	T_CHECK(json_array_size(laps) == 2);
	T_CHECK(json_integer_value(json_object_get(json_object_get(o, "ref"), "number")) == 2);
	T_CHECK(json_object_get(json_object_get(o, "ref"), "delta_s") == NULL);
	for (size_t k = 0; k < 2; k++) {
		json_t *l = json_array_get(laps, k), *dl = json_object_get(l, "delta_s");
		double lap_diff = (json_integer_value(json_object_get(l, "time_ms")) -
				   json_integer_value(
					   json_object_get(json_object_get(o, "ref"), "time_ms"))) /
				  1000.0;
		T_CHECK(json_array_size(dl) == n);
		T_NEAR(json_number_value(json_array_get(dl, n - 1)), lap_diff, 0.010);
		if (k == 1) { /* the reference itself */
			int zero = 1;
			for (size_t j = 0; j < n; j++)
				zero &= json_number_value(json_array_get(dl, j)) == 0;
			T_CHECK(zero);
		}
	}
	T_STREQ(json_string_value(json_object_get(o, "corners_source")), "reference_path");
	T_CHECK(json_array_size(corners) == 10);
	for (size_t i = 0; i < json_array_size(corners); i++) {
		json_t *c = json_array_get(corners, i), *cl = json_object_get(c, "laps");
		T_CHECK(json_array_size(cl) == 2);
		T_NEAR(json_number_value(json_object_get(json_array_get(cl, 1), "delta_s")), 0,
		       1e-9);
		T_CHECK(json_number_value(json_object_get(c, "ref_s")) > 0);
		T_CHECK(json_is_string(json_object_get(c, "direction")));
	}
	json_decref(o);

	/* another track: refused, both named */
	snprintf(g_track2, sizeof g_track2, "monza");
	o = compare_answer("ref=" LAP(2) "&lap=" SID "/" RID2 "/1", &err);
	T_CHECK(o == NULL && strcmp(err.code, MSG_E_CONFLICT) == 0);
	T_CHECKF(strstr(err.message, "monza") && strstr(err.message, "pitwall_ring"), "%s",
		 err.message);
	snprintf(g_track2, sizeof g_track2, "pitwall_ring");
	/* a track with a real name (spaces, parentheses): its model is asked for by that name */
	snprintf(g_track2, sizeof g_track2, "Circuit Paul Ricard (1A)");
	o = compare_answer("ref=" SID "/" RID2 "/2&lap=" SID "/" RID2 "/1", &err);
	T_CHECKF(o != NULL, "%s", err.message);
	T_STREQ(g_track_asked, "Circuit Paul Ricard (1A)");
	T_STREQ(json_string_value(json_object_get(json_object_get(o, "ref"), "track")),
		"Circuit Paul Ricard (1A)");
	json_decref(o);
	snprintf(g_track2, sizeof g_track2, "pitwall_ring");
	/* ref=best: the store asked with the first lap's game, track and car */
	o = compare_answer("ref=best&lap=" LAP(1), &err);
	T_CHECKF(o != NULL, "%s", err.message);
	T_CHECK(json_integer_value(json_object_get(json_object_get(o, "ref"), "number")) == 3);
	T_STREQ(json_string_value(json_object_get(g_best_args, "game")), "assetto_corsa");
	T_STREQ(json_string_value(json_object_get(g_best_args, "track_name")), "pitwall_ring");
	T_STREQ(json_string_value(json_object_get(g_best_args, "car_name")), "pitwall_gt3");
	json_decref(o);
	/* a lap that is not there, the store away during the track lookup */
	T_CHECK(compare_answer("ref=" LAP(2) "&lap=" LAP(7), &err) == NULL &&
		strcmp(err.code, MSG_E_NOT_FOUND) == 0);
	snprintf(g_unavailable, sizeof g_unavailable, "track.get");
	T_CHECK(compare_answer("ref=" LAP(2) "&lap=" LAP(1), &err) == NULL &&
		strcmp(err.code, MSG_E_UNAVAILABLE) == 0);
	g_unavailable[0] = 0;
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/run.frames", dir);
	if (make_run() < 0 || json_array_size(g_laps) < 3) {
		fprintf(stderr, "cannot make the run\n");
		unlink(path);
		rmdir(dir);
		return 1;
	}
	T_RUN(test_parameters);
	T_RUN(test_lap);
	T_RUN(test_lap_manifest);
	T_RUN(test_compare);
	json_decref(g_laps);
	json_decref(g_best_args);
	unlink(path);
	rmdir(dir);
	return T_DONE();
}
