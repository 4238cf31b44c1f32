/*
 * lapquery.h - the answers of GET /api/sessions/{sid}/runs/{rid}/laps/{n}
 * and GET /api/compare, made once for pw-api and pwctl (`pwctl lap`,
 * `pwctl compare`): parameters checked, the laps and the track model looked
 * up through the store's commands, the laps read from their runs' frame
 * files (common/lapdata.h), the answer written as JSON. docs/api.md has the
 * shapes.
 *
 * The store is reached through the caller's function (pw-api's proxy, a
 * DEALER of pwctl's), with the store commands run.get (the run, its laps and
 * frames_path), session.get (the car, for ref=best), lap.best and track.get.
 *
 * Errors are 0 or -1 with err filled: err->code is a store error code
 * (common/msg.h), which pw-api maps to its HTTP status: bad_request 400
 * (the parameter named), not_found 404, conflict 409 (laps of different
 * games or tracks, a lap that cannot be put on distance, a lap whose frames
 * are not stored yet), too_large 413, io_error / internal 500, unavailable
 * 503 (the store did not answer).
 *
 * Who may call: any thread. Nothing here logs.
 */
#ifndef PW_LAPQUERY_H
#define PW_LAPQUERY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ids.h"
#include "common/lapdata.h"
#include "common/manifest.h"

#define LAPQUERY_QUERY_MAX 4096 /* bytes of a query string */

/* Call store command cmd with args (stolen): 0 with *result (the caller's),
 * or -1 with code and message filled; proxy_call's contract (api/api.h). */
typedef int lapquery_call_fn(void *ctx, const char *cmd, json_t *args, json_t **result, char *code,
			     size_t code_cap, char *message, size_t msg_cap);

struct lapquery_err {
	char code[32]; /* MSG_E_* */
	char message[512];
};

/* A lap: SID/RID/N. */
struct lapquery_lapref {
	char sid[ID_LEN + 1], rid[ID_LEN + 1];
	uint32_t number;
};

/* What a request asks for. */
struct lapquery_params {
	double step_m;              /* LAPDATA_STEP_DEFAULT_M when not given */
	struct lapdata_channels cs; /* the default set when not given */
	/* manifest: a stored manifest (docs/manifests.md) whose derived channels
	 * may be asked for by name; its channels are known once it is loaded, so
	 * channels (the text as given, "" = not given: then the default set and
	 * every channel of the manifest) is parsed then, under channels_param */
	char manifest[IDS_NAME_MAX + 1];
	char channels[LAPQUERY_QUERY_MAX];
	char channels_param[16];
	int best;                   /* compare: ref=best */
	struct lapquery_lapref ref; /* compare: the reference (unless best) */
	struct lapquery_lapref laps[LAPDATA_MAX_LAPS];
	size_t nlaps;
};

/* Parameters */
/* Defaults: step 1 m, the default channels, no laps. */
void lapquery_params_init(struct lapquery_params *p);
/*
 * Parse a URL query string (NULL or "" = no parameters) into p (initialized
 * here). The lap endpoint takes channels, step_m and manifest; compare (compare != 0)
 * also ref (required: SID/RID/N or best) and lap (1..LAPDATA_MAX_LAPS times,
 * SID/RID/N). Values are URL-decoded. An unknown, repeated, empty or invalid
 * parameter, a missing one, too many laps: -1 with bad_request naming it.
 */
int lapquery_parse_query(const char *query, int compare, struct lapquery_params *p,
			 struct lapquery_err *err);
/*
 * With p->manifest and p->channels set (pwctl's --manifest and --channels),
 * parse the channels now when there is no manifest (-1 with bad_request
 * naming the parameter); lapquery_parse_query does it itself.
 */
int lapquery_params_done(struct lapquery_params *p, struct lapquery_err *err);
/* One parameter's value, as the query parser checks it: name is the
 * parameter's name for the message ("step_m", "channels", "ref", "lap",
 * "manifest"). */
int lapquery_parse_step(const char *name, const char *text, double *step_m,
			struct lapquery_err *err);
int lapquery_parse_channels(const char *name, const char *text, struct lapdata_channels *cs,
			    struct lapquery_err *err);
int lapquery_parse_lapref(const char *name, const char *text, struct lapquery_lapref *lap,
			  struct lapquery_err *err);
int lapquery_parse_manifest(const char *name, const char *text, struct lapquery_params *p,
			    struct lapquery_err *err);

/* Answers */
/*
 * One lap on distance: {"lap": {the store's lap record, session_id, run_id,
 * game, track}, "step_m", "length_m", "alignment", "distance_m": [...],
 * "time_s": [...], "channels": {name: [...]}, "absent_channels": [...]}; a
 * manifest's channels among the channels under their own names.
 * On success *json (len bytes, NUL-terminated) is malloc'd, the caller's.
 */
int lapquery_lap(lapquery_call_fn *call, void *ctx, const struct lapquery_lapref *lap,
		 const struct lapquery_params *p, char **json, size_t *len,
		 struct lapquery_err *err);
/* The comparison of p->laps with p->ref (docs/api.md has the shape). */
int lapquery_compare(lapquery_call_fn *call, void *ctx, const struct lapquery_params *p,
		     char **json, size_t *len, struct lapquery_err *err);

#endif
