/*
 * cmd.h - pw-store's command handlers: the table type and the argument
 * helpers every module's handlers share. A module exports a NULL-terminated
 * struct cmd_entry table and adds one line to the tables in cmd.c.
 *
 * A handler returns its result (stolen into the reply) or NULL with err set
 * to a stable code (MSG_E_* in common/msg.h) and a message for people.
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

typedef json_t *(*cmd_fn)(struct store *st, json_t *args, struct cmd_err *err);

struct cmd_entry {
	const char *name;          /* "run.start" */
	cmd_fn fn;
};

extern const struct cmd_entry run_commands[];        /* runs.c */
extern const struct cmd_entry recording_commands[];  /* recordings.c */
extern const struct cmd_entry job_commands[];        /* jobs.c */
extern const struct cmd_entry track_commands[];      /* tracks.c */
extern const struct cmd_entry car_commands[];        /* cars.c */

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

#endif
