/*
 * pwctl.h - pwctl's private header: command groups live in their own files
 * (pwctl.c: feeds, tail, sessions, events, call; runs.c; recordings.c; laps.c).
 */
#ifndef PW_PWCTL_H
#define PW_PWCTL_H

#include <jansson.h>

#include "common/config.h"

/*
 * Send one store command (args stolen). With out, the result is handed over
 * (caller decrefs); without, it is printed as indented JSON. Returns the exit
 * code: 0 ok, 1 refused (code and message printed on stderr), 3 unreachable.
 */
int store_call(const struct config *cfg, const char *cmd, json_t *args, json_t **out);
/* The same without printing: msg_call's result (0 with *res, the caller's, or
 * -1 with code and message). */
int store_ask(const struct config *cfg, const char *cmd, json_t *args, json_t **res, char *code,
	      size_t code_cap, char *message, size_t msg_cap);

/* `pwctl recording ...` / `pwctl recordings` (recordings.c) */
int pwctl_recordings(const struct config *cfg, int argc, char **argv);
/* `pwctl run ...`, `pwctl laps ...` (runs.c) */
int pwctl_runs(const struct config *cfg, int argc, char **argv);
/* `pwctl export ...` (export.c) */
int pwctl_export(const struct config *cfg, int argc, char **argv);
/* `pwctl lap ...`, `pwctl compare ...` (laps.c) */
int pwctl_lap(const struct config *cfg, int argc, char **argv);
int pwctl_compare(const struct config *cfg, int argc, char **argv);
/* `pwctl manifests`, `pwctl manifest get|put|delete ...` (manifests.c); argv[0] is the
 * command's own name */
int pwctl_manifests(const struct config *cfg, int argc, char **argv);
/* `pwctl channels ...` (channels.c): the channel dictionary and the stored
 * manifests' channels (without a store: the frame's, with a warning) */
int pwctl_channels(const struct config *cfg, int argc, char **argv);

#endif
