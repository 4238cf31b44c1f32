/*
 * pwctl.h - pwctl's private header: command groups live in their own files
 * (pwctl.c: feeds, tail, sessions, events, call; runs.c; recordings.c).
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

/* `pwctl recording ...` / `pwctl recordings` (recordings.c) */
int pwctl_recordings(const struct config *cfg, int argc, char **argv);
/* `pwctl run ...`, `pwctl laps ...` (runs.c) */
int pwctl_runs(const struct config *cfg, int argc, char **argv);
/* `pwctl export ...` (export.c) */
int pwctl_export(const struct config *cfg, int argc, char **argv);

#endif
