/*
 * tracks.c - track models (data/tracks/<game>/<slug>.json), built from a
 * completed track_mapping session's "left" and "right" boundary runs.
 *
 * Track names are kept as the game gives them ("Paul Ricard",
 * "track_ordinal:860"): the model holds the real name ("track_name") and its
 * file is named by the name's slug (common/ids.h: the name itself for the
 * safe names stored before slugs existed). Every command that names a track
 * takes the real name or the slug; a second name whose slug is taken by
 * another real name is refused, never stored over it.
 *
 * track.build checks the request here, reads both runs' frames and hands a
 * track_build job to the analysis workers (jobs.c); the reply waits for the
 * result (cmd_defer). track_build_done then writes the model and answers
 * with it, or answers with the worker's error mapped to the command's codes.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/atomicio.h"
#include "common/clock.h"
#include "common/framefile.h"
#include "common/job.h"
#include "common/log.h"
#include "store/cmd.h"
#include "store/store.h"

#define TRACK_FILE_MAX (64 << 20)

int track_path(const struct store *st, const char *game, const char *track, char *buf, size_t cap)
{
	char slug[IDS_NAME_MAX + 1];

	if (!ids_name_valid(game) || ids_slug(track, slug) < 0)
		return -EINVAL;
	return (size_t)snprintf(buf, cap, "%s/tracks/%s/%s.json", st->data_dir, game, slug) < cap
		       ? 0
		       : -ENAMETOOLONG;
}

/* The model in the file at path (new reference), or NULL: -ENOENT, or a
 * file that is not a model (logged). */
static json_t *model_read(const char *path)
{
	char *buf;
	size_t len;
	json_error_t jerr;
	json_t *o;

	if (atomicio_read(path, TRACK_FILE_MAX, &buf, &len) < 0)
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

/* The real name a model was stored for: its "track_name", else (a file
 * written by hand) the file's own name. */
static const char *model_name(const json_t *m, const char *stem)
{
	const char *n = json_string_value(json_object_get(m, "track_name"));

	return n && *n ? n : stem;
}

/*
 * Find the stored model of game/track, track the real name or the slug:
 * first the file of the name's slug holding that real name, then a file
 * named track itself (a slug given as it is). 0 with the model (new
 * reference) and its path in path[IDS_PATH_MAX], -ENOENT, or -EINVAL when
 * game or track cannot name a track.
 */
static int track_find(const struct store *st, const char *game, const char *track, char *path,
		      json_t **model)
{
	char slug[IDS_NAME_MAX + 1];
	json_t *m;

	*model = NULL;
	if (!ids_name_valid(game) || ids_slug(track, slug) < 0)
		return -EINVAL;
	if (track_path(st, game, track, path, IDS_PATH_MAX) == 0 && (m = model_read(path))) {
		if (strcmp(model_name(m, slug), track) == 0) {
			*model = m;
			return 0;
		}
		json_decref(m);
	}
	if (ids_name_valid(track) &&
	    (size_t)snprintf(path, IDS_PATH_MAX, "%s/tracks/%s/%s.json", st->data_dir, game,
			     track) < IDS_PATH_MAX &&
	    (m = model_read(path))) {
		*model = m;
		return 0;
	}
	return -ENOENT;
}

json_t *track_load(const struct store *st, const char *game, const char *track)
{
	char path[IDS_PATH_MAX];
	json_t *m;

	return track_find(st, game, track, path, &m) == 0 ? m : NULL;
}

/* Lower-case copy of a label for the left/right test. */
static int label_is(const char *label, const char *want)
{
	return strcasecmp(label, want) == 0;
}

struct track_build {
	struct job job;             /* points into the fields below */
	struct job_run runs[2];     /* left, right */
	struct pw_frame *frames[2]; /* owned */
	char job_id[ID_LEN + 1], session_id[ID_LEN + 1], car_name[64];
	char game[65], track[65];
	char run_id[2][ID_LEN + 1], feed[2][32], label[2][STORE_LABEL_MAX];
	struct cmd_return client; /* who waits for the model */
	int64_t asked_ns;         /* monotonic: when the command came */
};

struct job *track_build_job(struct track_build *b)
{
	return &b->job;
}

void track_build_free(struct track_build *b)
{
	if (!b)
		return;
	free(b->frames[0]);
	free(b->frames[1]);
	free(b);
}

/* The job of a checked request: the runs' frames and names, copied. */
static struct track_build *build_new(const struct store *st, const struct session *s,
				     const struct run *const lr[2], const char *game,
				     const char *track, struct cmd_err *err)
{
	struct track_build *b = calloc(1, sizeof *b);
	char path[IDS_PATH_MAX];
	int rc;

	if (!b) {
		fail(err, MSG_E_INTERNAL, "out of memory");
		return NULL;
	}
	for (int k = 0; k < 2; k++) {
		struct framefile_info info;
		size_t n = 0;
		run_frames_path(st, s, lr[k], path, sizeof path);
		if ((rc = framefile_load(path, &b->frames[k], &n, &info)) < 0) {
			fail(err, MSG_E_IO, "cannot read the %s run's frames: %s",
			     k ? "right" : "left", strerror(-rc));
			goto fail;
		}
		snprintf(b->run_id[k], sizeof b->run_id[k], "%s", lr[k]->id);
		snprintf(b->feed[k], sizeof b->feed[k], "%s", lr[k]->feed);
		snprintf(b->label[k], sizeof b->label[k], "%s", lr[k]->label);
		b->runs[k] = (struct job_run){ .run_id = b->run_id[k],
					       .feed_name = b->feed[k],
					       .label = b->label[k],
					       .frames = b->frames[k],
					       .nframes = n };
	}
	ids_new(b->job_id);
	snprintf(b->session_id, sizeof b->session_id, "%s", s->id);
	snprintf(b->car_name, sizeof b->car_name, "%s", s->car_name);
	snprintf(b->game, sizeof b->game, "%s", game);
	snprintf(b->track, sizeof b->track, "%s", track);
	b->job = (struct job){ .kind = JOB_TRACK_BUILD,
			       .job_id = b->job_id,
			       .session_id = b->session_id,
			       .use_case = "track_mapping",
			       .car_name = b->car_name,
			       .game = b->game,
			       .track = b->track,
			       .runs = b->runs,
			       .nruns = 2 };
	b->asked_ns = clock_mono_ns();
	return b;
fail:
	track_build_free(b);
	return NULL;
}

static json_t *h_track_build(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "session_id", "game", "track_name", NULL };
	const char *game, *track;
	struct session *s;
	struct track_build *b;
	const struct run *lr[2] = { NULL, NULL };

	if (only_keys(args, keys, err) < 0 || !(s = need_session(st, args, "session_id", err)) ||
	    opt_str(args, "game", IDS_NAME_MAX, &game, err) < 0 ||
	    opt_str(args, "track_name", IDS_REAL_NAME_MAX, &track, err) < 0)
		return NULL;
	if (s->use_case != UC_TRACK_MAPPING)
		return fail(err, MSG_E_CONFLICT, "session %s is a %s session, not track_mapping",
			    s->id, use_case_name(s->use_case));
	if (!s->completed)
		return fail(err, MSG_E_CONFLICT, "session %s is not completed", s->id);
	for (int i = 0; i < s->nruns; i++) {
		int side = label_is(s->runs[i].label, "left")    ? 0
			   : label_is(s->runs[i].label, "right") ? 1
								 : -1;
		if (side >= 0 && lr[side])
			return fail(err, MSG_E_CONFLICT, "session %s has two runs labelled \"%s\"",
				    s->id, s->runs[i].label);
		if (side >= 0)
			lr[side] = &s->runs[i];
	}
	if (s->nruns != 2 || !lr[0] || !lr[1])
		return fail(err, MSG_E_CONFLICT,
			    "a track build needs exactly two runs labelled \"left\" and \"right\"; "
			    "session %s has %d run(s)",
			    s->id, s->nruns);
	if (!*game)
		game = lr[0]->game;
	if (!*track)
		track = lr[0]->track;
	if (!ids_name_valid(game) || !ids_real_name_valid(track))
		return fail(
			err, MSG_E_BAD_REQUEST,
			"game \"%s\" / track_name \"%s\": give both (a game name; a track name of "
			"1-%d characters, no control characters) when the runs' metadata has none",
			game, track, IDS_REAL_NAME_MAX);
	if (!(b = build_new(st, s, lr, game, track, err)))
		return NULL;
	cmd_defer(st, &b->client, err); /* answered by track_build_done */
	if (jobs_submit_build(st, b) < 0) {
		track_build_free(b);
		return fail(err, MSG_E_CONFLICT, "%d track builds are waiting for a worker already",
			    STORE_MAX_TRACK_BUILDS);
	}
	log_info("msg=\"track build queued\" job=%s session=%s game=%s track=%s frames=%zu+%zu",
		 b->job_id, b->session_id, b->game, b->track, b->runs[0].nframes,
		 b->runs[1].nframes);
	return NULL;
}

/* Write the model as tracks/<game>/<slug>.json; 0 or -errno, -EEXIST when
 * that file holds another real name's model (a slug collision). */
static int track_write(const struct store *st, const char *game, const char *track,
		       const json_t *model)
{
	char path[IDS_PATH_MAX], dir[IDS_PATH_MAX], slug[IDS_NAME_MAX + 1], *text;
	json_t *old;
	int rc;

	if ((rc = track_path(st, game, track, path, sizeof path)) < 0)
		return rc;
	ids_slug(track, slug);
	if ((old = model_read(path))) {
		rc = strcmp(model_name(old, slug), track) == 0 ? 0 : -EEXIST;
		json_decref(old);
		if (rc < 0)
			return rc;
	}
	snprintf(dir, sizeof dir, "%s/tracks/%s", st->data_dir, game);
	text = json_dumps(model, JSON_COMPACT | JSON_REAL_PRECISION(10));
	rc = !text ? -ENOMEM : atomicio_mkdirs(dir);
	if (rc == 0)
		rc = atomicio_write(path, text, strlen(text));
	free(text);
	return rc;
}

void track_build_done(struct store *st, struct track_build *b, const struct job_result *r)
{
	double ms = (double)(clock_mono_ns() - b->asked_ns) / 1e6;
	json_t *model;
	int rc;

	if (!r->ok) { /* the analysis refused the runs: as when it ran in the store */
		cmd_reply_error(st, &b->client,
				strcmp(r->code, JOB_E_NOT_QUALIFIED) == 0 ||
						strcmp(r->code, JOB_E_NO_DATA) == 0
					? MSG_E_CONFLICT
					: MSG_E_BAD_REQUEST,
				"%s", r->message);
		goto out;
	}
	model = json_incref((json_t *)r->analysis); /* it outlives the result's root */
	if ((rc = track_write(st, b->game, b->track, model)) < 0) {
		if (rc == -EEXIST)
			cmd_reply_error(st, &b->client, MSG_E_CONFLICT,
					"another track of %s is stored under the key of \"%s\"",
					b->game, b->track);
		else
			cmd_reply_error(st, &b->client, rc == -ENOSPC ? MSG_E_DISK_FULL : MSG_E_IO,
					"cannot store the track model: %s", strerror(-rc));
		json_decref(model);
		goto out;
	}
	bus_publish(st, TOPIC_TRACK_BUILT,
		    json_pack("{s:s, s:s, s:s, s:I}", "game", b->game, "track_name", b->track,
			      "session_id", b->session_id, "corner_count",
			      (json_int_t)json_array_size(json_object_get(model, "corners"))));
	log_info("msg=\"track built\" job=%s game=%s track=%s ms=%.1f", b->job_id, b->game,
		 b->track, ms);
	cmd_reply_ok(st, &b->client, model);
out:
	track_build_free(b);
}

static json_t *or_null(json_t *v)
{
	return v ? v : json_null();
}

static int name_args(json_t *args, const char **game, const char **track, struct cmd_err *err)
{
	static const char *const keys[] = { "game", "track_name", NULL };

	if (only_keys(args, keys, err) < 0 || opt_str(args, "game", IDS_NAME_MAX, game, err) < 0 ||
	    opt_str(args, "track_name", IDS_REAL_NAME_MAX, track, err) < 0)
		return -1;
	if (!ids_name_valid(*game)) {
		fail(err, MSG_E_BAD_REQUEST, "\"game\" must be 1-%d of A-Z a-z 0-9 _ . -",
		     IDS_NAME_MAX);
		return -1;
	}
	if (!ids_real_name_valid(*track)) {
		fail(err, MSG_E_BAD_REQUEST,
		     "\"track_name\" must be the track's name or its slug: 1-%d characters, no "
		     "control characters",
		     IDS_REAL_NAME_MAX);
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
	char path[IDS_PATH_MAX], name[IDS_REAL_NAME_MAX + 1];
	json_t *m;
	int rc;

	if (name_args(args, &game, &track, err) < 0)
		return NULL;
	if (track_find(st, game, track, path, &m) < 0)
		return fail(err, MSG_E_NOT_FOUND, "no track model %s/%s", game, track);
	snprintf(name, sizeof name, "%s", model_name(m, track));
	json_decref(m);
	if ((rc = atomicio_unlink(path)) == -ENOENT)
		return fail(err, MSG_E_NOT_FOUND, "no track model %s/%s", game, track);
	if (rc < 0)
		return fail(err, MSG_E_IO, "cannot delete %s/%s: %s", game, track, strerror(-rc));
	bus_publish(st, TOPIC_TRACK_DELETED,
		    json_pack("{s:s, s:s}", "game", game, "track_name", name));
	return json_null();
}

static json_t *h_track_list(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { NULL };
	char dir[IDS_PATH_MAX];
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
		char sub[IDS_PATH_MAX + NAME_MAX + 2], path[sizeof sub + NAME_MAX + 2];
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

			if (n < 6 || n - 5 >= sizeof name ||
			    strcmp(t->d_name + n - 5, ".json") != 0)
				continue;
			json_t *row;
			const char *real;

			memcpy(name, t->d_name, n - 5);
			name[n - 5] = 0;
			if (!ids_name_valid(name) ||
			    (size_t)snprintf(path, sizeof path, "%s/%s", sub, t->d_name) >=
				    sizeof path ||
			    !(m = model_read(path)))
				continue;
			real = model_name(m, name);
			row = json_pack("{s:s, s:s, s:O, s:O, s:I}", "game", g->d_name,
					"track_name", real, "source",
					or_null(json_object_get(m, "source")), "created_at",
					or_null(json_object_get(m, "created_at")), "corner_count",
					(json_int_t)json_array_size(json_object_get(m, "corners")));
			/* the key to address it by, where the name cannot be in a path */
			if (row && !ids_real_name_in_path(real))
				json_object_set_new(row, "slug", json_string(name));
			json_array_append_new(list, row);
			json_decref(m);
		}
		closedir(td);
	}
	closedir(gd);
	return list;
}

const struct cmd_entry track_commands[] = {
	{ "track.build", h_track_build },   { "track.list", h_track_list },
	{ "track.get", h_track_get },       { "track.corners", h_track_corners },
	{ "track.delete", h_track_delete }, { NULL, NULL },
};
