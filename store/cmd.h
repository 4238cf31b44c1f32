/*
 * cmd.h - pw-store's command handlers: the table type and the argument
 * helpers every module's handlers share. A module exports a NULL-terminated
 * struct cmd_entry table and adds one line to the tables in cmd.c.
 *
 * A handler returns its result (stolen into the reply) or NULL with err set
 * to a stable code (MSG_E_* in common/msg.h) and a message for people.
 *
 * A handler that can only answer later (track.build waits for a worker)
 * returns cmd_defer(): the command loop then sends nothing, and whoever holds
 * the struct cmd_return answers exactly once with cmd_reply_ok or
 * cmd_reply_error, from the same thread. A client that gave up meanwhile has
 * closed its socket: the ROUTER drops the late reply. A deferred request
 * the store never answers (it stopped first) ends in the client's timeout.
 */
#ifndef PW_STORE_CMD_H
#define PW_STORE_CMD_H

#include <jansson.h>
#include <stddef.h>

#include "common/msg.h"

struct store;
struct session;

struct cmd_err {
	const char *code;
	char message[400];
};

#define CMD_ROUTING_ID_MAX 255 /* ZeroMQ's limit */

/* Where the reply to a request goes: its ROUTER routing id, whether the
 * client framed it REQ-style (an empty delimiter first), its request id. */
struct cmd_return {
	unsigned char routing_id[CMD_ROUTING_ID_MAX];
	size_t routing_len;
	int delimiter;
	char request_id[128];
	char cmd[64]; /* for logs */
};

typedef json_t *(*cmd_fn)(struct store *st, json_t *args, struct cmd_err *err);

struct cmd_entry {
	const char *name; /* "run.start" */
	cmd_fn fn;
};

extern const struct cmd_entry run_commands[];       /* runs.c */
extern const struct cmd_entry recording_commands[]; /* recordings.c */
extern const struct cmd_entry job_commands[];       /* jobs.c */
extern const struct cmd_entry track_commands[];     /* tracks.c */
extern const struct cmd_entry car_commands[];       /* cars.c */
extern const struct cmd_entry manifest_commands[];  /* manifests.c */
extern const struct cmd_entry engineer_commands[];  /* engineer.c */

/* Set err and return NULL. */
json_t *fail(struct cmd_err *err, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* 0 when every key of args is in allowed (NULL-terminated), else -1 + err. */
int only_keys(json_t *args, const char *const allowed[], struct cmd_err *err);
/* Optional string of at most max bytes: *out = "" when absent or null. */
int opt_str(json_t *args, const char *key, size_t max, const char **out, struct cmd_err *err);
/* The session named by args[key] (a UUID), or NULL + err (bad_request / not_found). */
struct session *need_session(struct store *st, json_t *args, const char *key, struct cmd_err *err);
/* Durably save s and return its JSON, or NULL + err (disk_full / io_error). */
json_t *saved(struct store *st, struct session *s, struct cmd_err *err);

/* From a handler: answer the request being handled later. Copies its return
 * address into *ret and returns NULL with err marked deferred. */
json_t *cmd_defer(struct store *st, struct cmd_return *ret, struct cmd_err *err);
/* The deferred reply: a result (stolen), or an error. Each moves the state
 * generation first, as a reply to a command that changes state does. */
void cmd_reply_ok(struct store *st, const struct cmd_return *ret, json_t *result);
void cmd_reply_error(struct store *st, const struct cmd_return *ret, const char *code,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
