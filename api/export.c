/*
 * export.c - GET /api/sessions/{session_id}/runs/{run_id}/export: a run's
 * frames as CSV, JSON lines, a MoTeC .ld or .ldx, or Parquet, streamed with
 * chunked encoding through common/export.h (the same code and bytes as
 * `pwctl export`). Query parameters: format, channels, hz, lap, compression
 * (docs/api.md); anything else, or a bad value, is a 400 naming it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "common/export.h"
#include "common/framefile.h"
#include "common/msg.h"

#define QUERY_VALUE_MAX 2048

/* The response goes out when the export writes first: an export that fails
 * before that is answered with an error instead. */
struct reply {
	struct api *api;
	struct mg_connection *c;
	const struct export_opts *o;
	int started;
};

static int start(struct reply *rp)
{
	char head[512], stem[96];

	if (!rp->started) {
		export_file_stem(rp->o, stem, sizeof stem);
		snprintf(head, sizeof head,
			 "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Disposition: attachment; "
			 "filename=\"%s.%s\"\r\nTransfer-Encoding: chunked\r\n" API_VERSION_HEADER
			 "\r\n",
			 export_format_media_type(rp->o->format), stem,
			 export_format_ext(rp->o->format));
		if (mg_write(rp->c, head, strlen(head)) <= 0)
			return -EPIPE;
		rp->started = 1;
		http_count(rp->api, 200);
	}
	return 0;
}

static int send_part(void *ctx, const void *buf, size_t len)
{
	struct reply *rp = ctx;

	if (start(rp) < 0)
		return -EPIPE;
	if (!len)
		return 0;
	return mg_send_chunk(rp->c, buf, (unsigned)len) < 0 ? -EPIPE : 0;
}

/* Every name=value of the query string into o, manifest's value into
 * manifest[IDS_NAME_MAX + 2] ("" when not given); 400 sent on a bad one (-1). */
static int take_query(struct api *api, struct mg_connection *c, const char *q,
		      struct export_opts *o, char *manifest)
{
	char name[64], value[QUERY_VALUE_MAX], err[EXPORT_ERR_MAX];

	while (q && *q) {
		const char *amp = strchr(q, '&'), *eq;
		size_t len = amp ? (size_t)(amp - q) : strlen(q);

		eq = memchr(q, '=', len);
		if (len) {
			size_t nlen = eq ? (size_t)(eq - q) : len;
			size_t vlen = eq ? len - nlen - 1 : 0;

			if (mg_url_decode(q, (int)nlen, name, sizeof name, 1) < 0 ||
			    (eq && mg_url_decode(eq + 1, (int)vlen, value, sizeof value, 1) < 0)) {
				http_error(api, c, 400, MSG_E_BAD_REQUEST, "%.*s: too long",
					   (int)(nlen < 40 ? nlen : 40), q);
				return -1;
			}
			if (!eq)
				value[0] = 0;
			if (strcmp(name, "manifest") == 0) {
				/* api/manifests.c fetches it */
				if (manifest[0] || !value[0]) {
					http_error(api, c, 400, MSG_E_BAD_REQUEST, "manifest: %s",
						   value[0] ? "given twice" : "empty");
					return -1;
				}
				snprintf(manifest, IDS_NAME_MAX + 2, "%.65s", value);
			} else if (export_opts_set(o, name, value, err, sizeof err) < 0) {
				http_error(api, c, 400, MSG_E_BAD_REQUEST, "%s", err);
				return -1;
			}
		}
		q = amp ? amp + 1 : NULL;
	}
	return 0;
}

int route_export(struct api *api, struct mg_connection *c, json_t *args)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	char code[64], message[512], err[EXPORT_ERR_MAX];
	struct framefile_reader *r = NULL;
	struct export_lap *laps = NULL;
	struct export_opts o;
	struct reply rp = { .api = api, .c = c, .o = &o };
	json_t *run = NULL, *session = NULL;
	char mname[IDS_NAME_MAX + 2] = "";
	struct manifest *m = NULL;
	size_t nlaps = 0;
	int rc, status;

	export_opts_init(&o);
	if (take_query(api, c, ri->query_string, &o, mname) < 0)
		return 400;
	/* ?manifest=NAME: its derived channels after the frame's (docs/manifests.md) */
	if (mname[0] && manifest_fetch(api, mname, &m, &status, code, message, sizeof message) < 0)
		return http_error(api, c, status, code, "%s", message);
	o.manifest = m;
	if (proxy_call(api, "run.get", json_incref(args), &run, code, sizeof code, message,
		       sizeof message) < 0) {
		manifest_free(m);
		return http_error(api, c, http_status_for(code), code, "%s", message);
	}
	/* the session's label and car, for the MoTeC header and Parquet metadata */
	if (proxy_call(api, "session.get",
		       json_pack("{s:O}", "id", json_object_get(args, "session_id")), &session,
		       code, sizeof code, message, sizeof message) < 0)
		session = NULL;
	if (export_laps_from_json(json_object_get(run, "laps"), &laps, &nlaps) < 0) {
		rc = http_error(api, c, 500, MSG_E_INTERNAL, "out of memory");
		goto out;
	}
	o.run = (struct export_run){
		.session_id = json_string_value(json_object_get(args, "session_id")),
		.run_id = json_string_value(json_object_get(args, "run_id")),
		.session_label = json_string_value(json_object_get(session, "label")),
		.run_label = json_string_value(json_object_get(run, "label")),
		.game = json_string_value(json_object_get(run, "game")),
		.track = json_string_value(json_object_get(run, "track")),
		.car = json_string_value(json_object_get(session, "car_name")),
		.driver = json_string_value(json_object_get(run, "driver")),
		.laps = laps,
		.nlaps = nlaps,
	};
	o.tmp_dir = api->cfg.run_dir;
	if (export_opts_resolve(&o, err, sizeof err) < 0) {
		rc = http_error(api, c, 400, MSG_E_BAD_REQUEST, "%s", err);
		goto out;
	}
	if (framefile_reader_open(&r, json_string_value(json_object_get(run, "frames_path")),
				  NULL) < 0) {
		rc = http_error(api, c, 500, MSG_E_IO, "the run's frames cannot be read");
		goto out;
	}
	o.write = send_part;
	o.ctx = &rp;
	rc = export_frames(r, &o, NULL);
	if (!rp.started) {
		/* nothing went out yet: a proper answer */
		if (rc == -ENODATA)
			rc = http_error(api, c, 409, MSG_E_CONFLICT,
					"nothing to export: the run%s has no "
					"frames with these channels",
					o.lap ? "'s lap" : "");
		else if (rc < 0)
			rc = http_error(api, c, 500, MSG_E_IO, "export failed: %s", strerror(-rc));
		else
			start(&rp); /* an empty export (csv of no frames): the head alone */
	}
	/* the last chunk only after a whole export: a cut one must look cut */
	if (rp.started && rc >= 0)
		mg_send_chunk(c, "", 0);
	rc = 1;
out:
	framefile_reader_close(r);
	free(laps);
	json_decref(run);
	json_decref(session);
	manifest_free(m);
	return rc;
}
