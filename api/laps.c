/*
 * laps.c - lap data on distance and lap comparison (docs/api.md):
 *   GET /api/sessions/{session_id}/runs/{run_id}/laps/{number}?channels=&step_m=
 *   GET /api/compare?ref=SID/RID/N|best&lap=SID/RID/N[&lap=...]&step_m=&channels=
 * The answers are common/lapquery.h's; the store is asked on this worker
 * thread's DEALER (proxy.c), and the laps' frames are read from the runs'
 * frame files here, as the export does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "common/lapquery.h"
#include "common/msg.h"

static int call_store(void *ctx, const char *cmd, json_t *args, json_t **result, char *code,
		      size_t code_cap, char *message, size_t msg_cap)
{
	return proxy_call(ctx, cmd, args, result, code, code_cap, message, msg_cap);
}

/* 200 with the JSON text (taken), or the error mapped to its status. */
static int answer(struct api *api, struct mg_connection *c, int rc, char *json, size_t len,
		  const struct lapquery_err *err)
{
	if (rc < 0)
		return http_error(api, c, http_status_for(err->code), err->code, "%s",
				  err->message);
	rc = gzip_reply(api, c, 200, json, len);
	free(json);
	return rc;
}

int laps_lap(struct api *api, struct mg_connection *c, json_t *args)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	const char *num = json_string_value(json_object_get(args, "number"));
	struct lapquery_params p;
	struct lapquery_lapref lap;
	struct lapquery_err err;
	char ref[2 * ID_LEN + 32], *json = NULL;
	size_t len = 0;
	int rc;

	if (!num || strspn(num, "0123456789") != strlen(num) || strlen(num) > 9 || num[0] == '0')
		return http_error(
			api, c, 400, MSG_E_BAD_REQUEST,
			"the lap number in the path must be a whole number from 1, not \"%.20s\"",
			num ? num : "");
	snprintf(ref, sizeof ref, "%s/%s/%s",
		 json_string_value(json_object_get(args, "session_id")),
		 json_string_value(json_object_get(args, "run_id")), num);
	rc = lapquery_parse_lapref("the lap", ref, &lap, &err);
	if (rc == 0)
		rc = lapquery_parse_query(ri->query_string, 0, &p, &err);
	if (rc == 0)
		rc = lapquery_lap(call_store, api, &lap, &p, &json, &len, &err);
	return answer(api, c, rc, json, len, &err);
}

int laps_compare(struct api *api, struct mg_connection *c, json_t *args)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	struct lapquery_params p;
	struct lapquery_err err;
	char *json = NULL;
	size_t len = 0;
	int rc;

	(void)args;
	rc = lapquery_parse_query(ri->query_string, 1, &p, &err);
	if (rc == 0)
		rc = lapquery_compare(call_store, api, &p, &json, &len, &err);
	return answer(api, c, rc, json, len, &err);
}
