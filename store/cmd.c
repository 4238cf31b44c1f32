/* cmd.c - the ROUTER command channel (see store.h and common/msg.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/msg.h"
#include "store/cmd.h"
#include "store/store.h"

/* --- argument helpers (cmd.h) --- */

json_t *fail(struct cmd_err *err, const char *code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return NULL;
}

/* Every key of args must be in allowed (NULL-terminated). */
int only_keys(json_t *args, const char *const allowed[], struct cmd_err *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(args, key, v) {
		int ok = 0;
		for (const char *const *a = allowed; *a; a++)
			ok |= strcmp(*a, key) == 0;
		if (!ok) {
			fail(err, MSG_E_BAD_REQUEST, "unknown field \"%s\"", key);
			return -1;
		}
	}
	return 0;
}

/* Optional string field of at most max bytes; "" when absent or null. */
int opt_str(json_t *args, const char *key, size_t max, const char **out, struct cmd_err *err)
{
	json_t *v = json_object_get(args, key);

	*out = "";
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		fail(err, MSG_E_BAD_REQUEST, "\"%s\" must be a string", key);
		return -1;
	}
	if (json_string_length(v) > max) {
		fail(err, MSG_E_BAD_REQUEST, "\"%s\" is longer than %zu bytes", key, max);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

struct session *need_session(struct store *st, json_t *args, const char *key, struct cmd_err *err)
{
	const char *id;
	struct session *s;

	if (opt_str(args, key, ID_LEN, &id, err) < 0)
		return NULL;
	if (!*id || !ids_valid(id)) {
		fail(err, MSG_E_BAD_REQUEST, "\"%s\" must be a session id (UUID)", key);
		return NULL;
	}
	if (!(s = session_find(st, id)))
		fail(err, MSG_E_NOT_FOUND, "no session %s", id);
	return s;
}

json_t *saved(struct store *st, struct session *s, struct cmd_err *err)
{
	int rc = session_save(st, s);

	if (rc == -ENOSPC || rc == -EDQUOT)
		return fail(err, MSG_E_DISK_FULL, "the data disk is full: session %s not saved",
			    s->id);
	if (rc < 0)
		return fail(err, MSG_E_IO, "cannot save session %s: %s", s->id, strerror(-rc));
	return session_json(s);
}

static json_t *event_session(const struct session *s)
{
	return json_pack("{s:s, s:s, s:s}", "session_id", s->id, "use_case",
			 use_case_name(s->use_case), "status",
			 s->completed ? "completed" : "active");
}

static json_t *h_use_cases(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { NULL };
	json_t *a = json_array();

	(void)st;
	if (only_keys(args, keys, err) < 0) {
		json_decref(a);
		return NULL;
	}
	/* identifiers only, as the seed's UseCase::all(); the driver's guidance is in
	 * each session (session.create / session.get) */
	for (int i = 0; i < UC_COUNT; i++)
		json_array_append_new(a, json_string(use_case_name(i)));
	return a;
}

static json_t *h_session_create(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "use_case", "label", NULL };
	const char *uc_name, *label, *rec;
	struct session *s;
	int uc;
	json_t *res;

	if (only_keys(args, keys, err) < 0 || opt_str(args, "use_case", 64, &uc_name, err) < 0 ||
	    opt_str(args, "label", STORE_LABEL_MAX - 1, &label, err) < 0)
		return NULL;
	if ((uc = use_case_parse(uc_name)) < 0)
		return fail(
			err, MSG_E_BAD_REQUEST,
			"\"use_case\" must be one of shift_points, car_grip, track_mapping, general");
	if (st->nsessions >= STORE_MAX_SESSIONS)
		return fail(err, MSG_E_CONFLICT, "too many sessions (%d)", STORE_MAX_SESSIONS);
	if (!(s = session_new(st, (enum use_case)uc, label)))
		return fail(err, MSG_E_INTERNAL, "out of memory");
	if ((rec = recordings_active_id(st))) /* created while a recording is active */
		snprintf(s->recording_id, sizeof s->recording_id, "%s", rec);
	res = saved(st, s, err);
	if (!res) {
		session_delete(st, s); /* nothing durable: do not keep a phantom */
		return NULL;
	}
	bus_publish(st, TOPIC_SESSION_CREATED, event_session(s));
	return res;
}

static json_t *h_session_list(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { NULL };
	json_t *a;

	if (only_keys(args, keys, err) < 0)
		return NULL;
	a = json_array();
	for (int i = 0; i < st->nsessions; i++) {
		session_details(st, st->sessions[i]); /* the analyses are in the list */
		json_array_append_new(a, session_json(st->sessions[i]));
	}
	return a;
}

static json_t *h_session_get(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "id", NULL };
	struct session *s;

	if (only_keys(args, keys, err) < 0 || !(s = need_session(st, args, "id", err)))
		return NULL;
	return session_json(s);
}

static int any_recording(const struct session *s)
{
	for (int i = 0; i < s->nruns; i++)
		if (s->runs[i].recording)
			return 1;
	return 0;
}

static json_t *h_session_delete(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "id", NULL };
	struct session *s;
	char id[ID_LEN + 1];
	int rc;

	if (only_keys(args, keys, err) < 0 || !(s = need_session(st, args, "id", err)))
		return NULL;
	if (any_recording(s))
		return fail(err, MSG_E_CONFLICT, "session %s has a recording run: stop it first",
			    s->id);
	snprintf(id, sizeof id, "%s", s->id);
	if ((rc = session_delete(st, s)) < 0)
		return fail(err, MSG_E_IO, "cannot delete session %s: %s", id, strerror(-rc));
	bus_publish(st, TOPIC_SESSION_DELETED, json_pack("{s:s}", "session_id", id));
	return json_null();
}

static json_t *h_session_complete(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "id", NULL };
	struct session *s;
	json_t *res;

	if (only_keys(args, keys, err) < 0 || !(s = need_session(st, args, "id", err)))
		return NULL;
	if (s->completed)
		return fail(err, MSG_E_CONFLICT, "session %s is already completed", s->id);
	if (any_recording(s))
		return fail(err, MSG_E_CONFLICT, "session %s has a recording run: stop it first",
			    s->id);
	s->completed = 1;
	s->completed_ns = clock_now_ns();
	/* queued for the workers (jobs.c); pending until a result comes back */
	jobs_submit(st, s);
	if (!(res = saved(st, s, err))) {
		s->completed = 0;
		s->completed_ns = 0;
		json_decref(s->analysis);
		s->analysis = NULL;
		return NULL;
	}
	bus_publish(st, TOPIC_SESSION_COMPLETED, event_session(s));
	bus_publish(st, TOPIC_ANALYSIS_PENDING, json_pack("{s:s}", "session_id", s->id));
	return res;
}

static json_t *h_session_reopen(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "id", NULL };
	struct session *s;
	json_t *res, *old;

	if (only_keys(args, keys, err) < 0 || !(s = need_session(st, args, "id", err)))
		return NULL;
	if (!s->completed)
		return fail(err, MSG_E_CONFLICT, "session %s is active, not completed", s->id);
	old = s->analysis;
	s->completed = 0;
	s->completed_ns = 0;
	s->analysis = NULL;
	if (!(res = saved(st, s, err))) {
		s->completed = 1;
		s->analysis = old;
		return NULL;
	}
	json_decref(old);
	bus_publish(st, TOPIC_SESSION_REOPENED, event_session(s));
	return res;
}

static json_t *h_session_analysis(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "id", NULL };
	struct session *s;

	if (only_keys(args, keys, err) < 0 || !(s = need_session(st, args, "id", err)))
		return NULL;
	if (!s->completed)
		return fail(err, MSG_E_CONFLICT, "session %s is not completed", s->id);
	return json_incref(s->analysis ? s->analysis : json_null());
}

static json_t *h_games(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { NULL };
	json_t *a;

	(void)st;
	if (only_keys(args, keys, err) < 0)
		return NULL;
	/* every game pitwall decodes, as identifiers (the seed's Game enum serialized) */
	a = json_array();
	for (unsigned g = 1; g < PW_GAME_COUNT; g++)
		json_array_append_new(a, json_string(frame_game_name(g)));
	return a;
}

static const struct cmd_entry session_commands[] = {
	{ "use_cases.list", h_use_cases },          { "games.list", h_games },
	{ "session.create", h_session_create },     { "session.list", h_session_list },
	{ "session.get", h_session_get },           { "session.delete", h_session_delete },
	{ "session.complete", h_session_complete }, { "session.reopen", h_session_reopen },
	{ "session.analysis", h_session_analysis }, { NULL, NULL },
};

/* Every module's table; a module adds its commands with one line here. */
static const struct cmd_entry *const tables[] = {
	session_commands, run_commands, recording_commands, job_commands,
	track_commands,   car_commands, manifest_commands,  engineer_commands,
};

/* Commands that change nothing; every other one bumps the state generation. */
static int read_only(const char *cmd)
{
	static const char *const reads[] = { "session.analysis",
					     "session.laps",
					     "recording.data",
					     "track.corners",
					     "lap.best",
					     "session.recommendations",
					     NULL };
	size_t n = strlen(cmd);

	if ((n > 5 && strcmp(cmd + n - 5, ".list") == 0) ||
	    (n > 4 && strcmp(cmd + n - 4, ".get") == 0))
		return 1;
	for (int i = 0; reads[i]; i++)
		if (strcmp(cmd, reads[i]) == 0)
			return 1;
	return 0;
}

/* cmd_defer's mark in err->code: the handler answers later. */
static const char deferred[] = "deferred";

json_t *cmd_defer(struct store *st, struct cmd_return *ret, struct cmd_err *err)
{
	if (!st->cmd_from)
		return fail(err, MSG_E_INTERNAL, "no request to defer");
	*ret = *st->cmd_from;
	err->code = deferred;
	err->message[0] = 0;
	return NULL;
}

static void send_reply(struct store *st, const struct cmd_return *to, const char *reply)
{
	zmq_send(st->router, to->routing_id, to->routing_len, ZMQ_SNDMORE);
	if (to->delimiter)
		zmq_send(st->router, "", 0, ZMQ_SNDMORE);
	zmq_send(st->router, reply, strlen(reply), 0);
}

void cmd_reply_ok(struct store *st, const struct cmd_return *ret, json_t *result)
{
	char *reply = msg_reply_ok(ret->request_id, result);

	storestat_bump(st->stat); /* before the reply: see common/storestat.h */
	if (reply)
		send_reply(st, ret, reply);
	free(reply);
}

static void refused(struct store *st, const char *cmd, const char *code, const char *message)
{
	st->cmd_errors++;
	log_info("msg=\"command refused\" cmd=%s code=%s error=\"%s\"", cmd, code, message);
}

void cmd_reply_error(struct store *st, const struct cmd_return *ret, const char *code,
		     const char *fmt, ...)
{
	char message[400], *reply;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	refused(st, ret->cmd, code, message);
	reply = msg_reply_error(ret->request_id, code, "%s", message);
	storestat_bump(st->stat);
	if (reply)
		send_reply(st, ret, reply);
	free(reply);
}

/* The reply to one request (malloc'd), or NULL when its handler deferred it. */
static char *dispatch(struct store *st, const char *buf, size_t len, struct cmd_return *from)
{
	struct msg_req req;
	struct cmd_err err = { MSG_E_INTERNAL, "" };
	const char *code;
	char message[400];
	json_t *res;
	char *reply;

	if (msg_parse_request(buf, len, &req, &code, message, sizeof message) < 0)
		return msg_reply_error(req.id, code, "%s", message);
	snprintf(from->request_id, sizeof from->request_id, "%s", req.id);
	snprintf(from->cmd, sizeof from->cmd, "%s", req.cmd);
	for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
		for (const struct cmd_entry *c = tables[t]; c->name; c++) {
			if (strcmp(c->name, req.cmd) != 0)
				continue;
			st->cmd_from = from;
			res = c->fn(st, req.args, &err);
			st->cmd_from = NULL;
			if (!res && err.code == deferred) {
				msg_req_free(&req);
				return NULL;
			}
			if (!read_only(req.cmd))
				storestat_bump(
					st->stat); /* before the reply: see common/storestat.h */
			reply = res ? msg_reply_ok(req.id, res)
				    : msg_reply_error(req.id, err.code, "%s", err.message);
			if (!res)
				refused(st, req.cmd, err.code, err.message);
			msg_req_free(&req);
			return reply;
		}
	reply = msg_reply_error(req.id, MSG_E_UNKNOWN_CMD, "unknown command \"%s\"", req.cmd);
	msg_req_free(&req);
	return reply;
}

/* ROUTER frames: identity, [empty delimiter], request. Anything else is dropped. */
int cmd_drain(struct store *st)
{
	int handled = 0;

	for (; handled < 256; handled++) {
		zmq_msg_t parts[4];
		int n = 0, more = 1, dropped = 0;
		char *reply;

		while (more && n < 4) {
			zmq_msg_init(&parts[n]);
			if (zmq_msg_recv(&parts[n], st->router, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
				zmq_msg_close(&parts[n]);
				return handled;
			}
			more = zmq_msg_more(&parts[n]);
			n++;
		}
		while (more) { /* too many frames: drain and drop */
			zmq_msg_t junk;
			zmq_msg_init(&junk);
			zmq_msg_recv(&junk, st->router, 0);
			more = zmq_msg_more(&junk);
			zmq_msg_close(&junk);
			dropped = 1;
		}
		if (n >= 2 && !dropped && zmq_msg_size(&parts[0]) <= CMD_ROUTING_ID_MAX) {
			zmq_msg_t *body = &parts[n - 1];
			struct cmd_return from = { .routing_len = zmq_msg_size(&parts[0]),
						   .delimiter = n == 3 };

			memcpy(from.routing_id, zmq_msg_data(&parts[0]), from.routing_len);
			st->cmds++;
			reply = dispatch(st, zmq_msg_data(body), zmq_msg_size(body), &from);
			if (reply)
				send_reply(st, &from, reply);
			free(reply);
		}
		for (int i = 0; i < n; i++)
			zmq_msg_close(&parts[i]);
	}
	return handled;
}
