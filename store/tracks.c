/*
 * tracks.c - track models (data/tracks/<game>/<track>.json), built from a
 * completed track_mapping session's "left" and "right" boundary runs, and car
 * characteristics aggregated over completed shift_points sessions.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analysis.h"
#include "analyze/characteristics.h"
#include "common/atomicio.h"
#include "common/log.h"
#include "store/cmd.h"
#include "common/framefile.h"
#include "store/store.h"

#define TRACK_FILE_MAX (64 << 20)

int track_path(const struct store *st, const char *game, const char *track, char *buf, size_t cap)
{
	if (!ids_name_valid(game) || !ids_name_valid(track))
		return -EINVAL;
	return (size_t)snprintf(buf, cap, "%s/tracks/%s/%s.json", st->data_dir, game, track) < cap
		       ? 0 : -ENAMETOOLONG;
}

json_t *track_load(const struct store *st, const char *game, const char *track)
{
	char path[4400], *buf;
	size_t len;
	json_error_t jerr;
	json_t *o;

	if (track_path(st, game, track, path, sizeof path) < 0 ||
	    atomicio_read(path, TRACK_FILE_MAX, &buf, &len) < 0)
		return NULL;
	o = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (!json_is_object(o)) {
		log_error("msg=\"corrupt track model, ignored\" file=%s", path);
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Lower-case copy of a label for the left/right test. */
static int label_is(const char *label, const char *want)
{
	return strcasecmp(label, want) == 0;
}

static json_t *h_track_build(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "session_id", "game", "track_name", NULL };
	const char *game, *track;
	struct session *s;
	struct an_run runs[2];
	struct pw_frame *frames[2] = { NULL, NULL };
	struct an_input in = { 0 };
	struct an_err aerr = { AN_E_BAD_INPUT, "" };
	const struct run *lr[2] = { NULL, NULL };
	char path[4400], dir[4400];
	json_t *model = NULL;
	char *text;
	int rc;

	if (only_keys(args, keys, err) < 0 || !(s = need_session(st, args, "session_id", err)) ||
	    opt_str(args, "game", 64, &game, err) < 0 || opt_str(args, "track_name", 64, &track, err) < 0)
		return NULL;
	if (s->use_case != UC_TRACK_MAPPING)
		return fail(err, MSG_E_CONFLICT, "session %s is a %s session, not track_mapping", s->id,
			    use_case_name(s->use_case));
	if (!s->completed)
		return fail(err, MSG_E_CONFLICT, "session %s is not completed", s->id);
	for (int i = 0; i < s->nruns; i++) {
		int side = label_is(s->runs[i].label, "left") ? 0 : label_is(s->runs[i].label, "right") ? 1 : -1;
		if (side >= 0 && lr[side])
			return fail(err, MSG_E_CONFLICT, "session %s has two runs labelled \"%s\"", s->id,
				    s->runs[i].label);
		if (side >= 0)
			lr[side] = &s->runs[i];
	}
	if (s->nruns != 2 || !lr[0] || !lr[1])
		return fail(err, MSG_E_CONFLICT,
			    "a track build needs exactly two runs labelled \"left\" and \"right\"; "
			    "session %s has %d run(s)", s->id, s->nruns);
	if (!*game)
		game = lr[0]->game;
	if (!*track)
		track = lr[0]->track;
	if (!ids_name_valid(game) || !ids_name_valid(track))
		return fail(err, MSG_E_BAD_REQUEST,
			    "game \"%s\" / track_name \"%s\": give both (1-64 of A-Z a-z 0-9 _ . -) when "
			    "the runs' metadata has none", game, track);
	for (int k = 0; k < 2; k++) {
		struct framefile_info info;
		size_t n = 0;
		run_frames_path(st, s, lr[k], path, sizeof path);
		if ((rc = framefile_load(path, &frames[k], &n, &info)) < 0) {
			fail(err, MSG_E_IO, "cannot read the %s run's frames: %s", k ? "right" : "left",
			     strerror(-rc));
			goto out;
		}
		runs[k] = (struct an_run){ .run_id = lr[k]->id, .feed = lr[k]->feed,
					   .label = lr[k]->label, .frames = frames[k], .n = n };
	}
	in = (struct an_input){ .session_id = s->id, .use_case = "track_mapping",
				.car_name = s->car_name, .game = game, .track = track, .runs = runs,
				.nruns = 2 };
	if (!(model = an_track_build(&in, game, track, &aerr))) {
		fail(err, strcmp(aerr.code, AN_E_NOT_QUALIFIED) == 0 || strcmp(aerr.code, AN_E_NO_DATA) == 0
				  ? MSG_E_CONFLICT : MSG_E_BAD_REQUEST, "%s", aerr.message);
		goto out;
	}
	track_path(st, game, track, path, sizeof path);
	snprintf(dir, sizeof dir, "%s/tracks/%s", st->data_dir, game);
	text = json_dumps(model, JSON_COMPACT | JSON_REAL_PRECISION(10));
	rc = !text ? -ENOMEM : atomicio_mkdirs(dir);
	if (rc == 0)
		rc = atomicio_write(path, text, strlen(text));
	free(text);
	if (rc < 0) {
		fail(err, rc == -ENOSPC ? MSG_E_DISK_FULL : MSG_E_IO, "cannot store the track model: %s",
		     strerror(-rc));
		json_decref(model);
		model = NULL;
		goto out;
	}
	bus_publish(st, TOPIC_TRACK_BUILT, json_pack("{s:s, s:s, s:s, s:I}", "game", game, "track_name",
						 track, "session_id", s->id, "corner_count",
						 (json_int_t)json_array_size(json_object_get(model, "corners"))));
out:
	free(frames[0]);
	free(frames[1]);
	return model;
}

static json_t *or_null(json_t *v)
{
	return v ? v : json_null();
}

static int name_args(json_t *args, const char **game, const char **track, struct cmd_err *err)
{
	static const char *const keys[] = { "game", "track_name", NULL };

	if (only_keys(args, keys, err) < 0 || opt_str(args, "game", 64, game, err) < 0 ||
	    opt_str(args, "track_name", 64, track, err) < 0)
		return -1;
	if (!ids_name_valid(*game) || !ids_name_valid(*track)) {
		fail(err, MSG_E_BAD_REQUEST, "\"game\" and \"track_name\" must be 1-64 of A-Z a-z 0-9 _ . -");
		return -1;
	}
	return 0;
}

static json_t *h_track_get(struct store *st, json_t *args, struct cmd_err *err)
{
	const char *game, *track;
	json_t *m;

	if (name_args(args, &game, &track, err) < 0)
		return NULL;
	if (!(m = track_load(st, game, track)))
		return fail(err, MSG_E_NOT_FOUND, "no track model %s/%s", game, track);
	return m;
}

static json_t *h_track_corners(struct store *st, json_t *args, struct cmd_err *err)
{
	json_t *m = h_track_get(st, args, err), *c;

	if (!m)
		return NULL;
	c = json_incref(json_object_get(m, "corners"));
	json_decref(m);
	return c ? c : json_array();
}

static json_t *h_track_delete(struct store *st, json_t *args, struct cmd_err *err)
{
	const char *game, *track;
	char path[4400];
	int rc;

	if (name_args(args, &game, &track, err) < 0)
		return NULL;
	track_path(st, game, track, path, sizeof path);
	if ((rc = atomicio_unlink(path)) == -ENOENT)
		return fail(err, MSG_E_NOT_FOUND, "no track model %s/%s", game, track);
	if (rc < 0)
		return fail(err, MSG_E_IO, "cannot delete %s/%s: %s", game, track, strerror(-rc));
	bus_publish(st, TOPIC_TRACK_DELETED, json_pack("{s:s, s:s}", "game", game, "track_name", track));
	return json_null();
}

static json_t *h_track_list(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { NULL };
	char dir[4400];
	DIR *gd;
	struct dirent *g;
	json_t *list;

	if (only_keys(args, keys, err) < 0)
		return NULL;
	list = json_array();
	snprintf(dir, sizeof dir, "%s/tracks", st->data_dir);
	if (!(gd = opendir(dir)))
		return list;
	while ((g = readdir(gd))) {
		char sub[4700];
		DIR *td;
		struct dirent *t;

		if (!ids_name_valid(g->d_name))
			continue;
		snprintf(sub, sizeof sub, "%s/%s", dir, g->d_name);
		if (!(td = opendir(sub)))
			continue;
		while ((t = readdir(td))) {
			size_t n = strlen(t->d_name);
			char name[128];
			json_t *m;

			if (n < 6 || n - 5 >= sizeof name || strcmp(t->d_name + n - 5, ".json") != 0)
				continue;
			memcpy(name, t->d_name, n - 5);
			name[n - 5] = 0;
			if (!(m = track_load(st, g->d_name, name)))
				continue;
			json_array_append_new(list, json_pack("{s:s, s:s, s:O, s:O, s:I}", "game", g->d_name,
							      "track_name", name, "source",
							      or_null(json_object_get(m, "source")),
							      "created_at",
							      or_null(json_object_get(m, "created_at")),
							      "corner_count",
							      (json_int_t)json_array_size(json_object_get(m, "corners"))));
			json_decref(m);
		}
		closedir(td);
	}
	closedir(gd);
	return list;
}

/* Completed shift_points sessions of one car (or of every car when car is NULL)
 * whose analysis is a result, not pending or failed. */
static int usable(const struct session *s, const char *car)
{
	const char *status = json_string_value(json_object_get(s->analysis, "status"));

	return s->completed && s->use_case == UC_SHIFT_POINTS && s->car_name[0] &&
	       json_is_object(s->analysis) && !(status && (strcmp(status, "pending") == 0 ||
							    strcmp(status, "failed") == 0)) &&
	       (!car || strcmp(s->car_name, car) == 0);
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
	d = n ? an_characteristics(car, an, n) : NULL;
	free(an);
	return d;
}

static json_t *h_cars_list(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { NULL };
	json_t *list, *seen;

	if (only_keys(args, keys, err) < 0)
		return NULL;
	list = json_array();
	seen = json_object();
	for (int i = 0; i < st->nsessions; i++) {
		const char *car = st->sessions[i]->car_name;
		json_t *d;
		if (!usable(st->sessions[i], NULL) || json_object_get(seen, car))
			continue;
		json_object_set_new(seen, car, json_true());
		if ((d = car_detail(st, car))) {
			json_array_append_new(list, an_characteristics_summary(d));
			json_decref(d);
		}
	}
	json_decref(seen);
	return list;
}

static json_t *h_cars_get(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "car", NULL };
	const char *car;
	json_t *d;

	if (only_keys(args, keys, err) < 0 || opt_str(args, "car", 63, &car, err) < 0)
		return NULL;
	if (!*car)
		return fail(err, MSG_E_BAD_REQUEST, "\"car\" is required");
	if (!(d = car_detail(st, car)))
		return fail(err, MSG_E_NOT_FOUND, "no analysed shift_points session for car \"%s\"", car);
	return d;
}

const struct cmd_entry track_commands[] = {
	{ "track.build", h_track_build },
	{ "track.list", h_track_list },
	{ "track.get", h_track_get },
	{ "track.corners", h_track_corners },
	{ "track.delete", h_track_delete },
	{ "characteristics.list", h_cars_list },
	{ "characteristics.get", h_cars_get },
	{ NULL, NULL },
};
