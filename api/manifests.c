/*
 * manifests.c - derived-channel manifests over HTTP (docs/api.md,
 * docs/manifests.md): PUT /api/manifests/{name} (the other verbs are plain
 * store commands in routes.c), and the manifest a request names for the
 * endpoints that add derived channels (?manifest=NAME), fetched from the
 * store and compiled here.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "common/msg.h"

int manifest_put(struct api *api, struct mg_connection *c, json_t *args)
{
	char code[64], message[512];
	json_t *body = http_body_object(api, c), *res = NULL;
	int created;

	if (!body)
		return 400; /* answered */
	if (json_object_size(body) == 0) {
		json_decref(body);
		return http_error(api, c, 400, MSG_E_BAD_REQUEST,
				  "the body must be a manifest: {\"channels\": [...]}");
	}
	if (proxy_call(api, "manifest.put",
		       json_pack("{s:O, s:o}", "name", json_object_get(args, "name"), "manifest",
				 body),
		       &res, code, sizeof code, message, sizeof message) < 0)
		return http_error(api, c, http_status_for(code), code, "%s", message);
	created = json_is_true(json_object_get(res, "created"));
	http_json(api, c, created ? 201 : 200, json_incref(json_object_get(res, "manifest")));
	json_decref(res);
	return created ? 201 : 200;
}

int manifest_fetch(struct api *api, const char *name, struct manifest **out, int *status,
		   char *code, char *message, size_t cap)
{
	char why[MANIFEST_ERR_MAX];
	json_t *doc = NULL;
	int rc;

	*out = NULL;
	snprintf(code, MANIFEST_CODE_MAX, "%s", MSG_E_BAD_REQUEST);
	if (!ids_name_valid(name)) {
		*status = 400;
		snprintf(message, cap, "manifest: the name must be 1 to %d of A-Z a-z 0-9 _ . -",
			 IDS_NAME_MAX);
		return -1;
	}
	if (proxy_call(api, "manifest.get", json_pack("{s:s}", "name", name), &doc, code,
		       MANIFEST_CODE_MAX, message, cap) < 0) {
		*status = strcmp(code, MSG_E_NOT_FOUND) == 0 ? 400 : http_status_for(code);
		if (*status == 400) {
			snprintf(code, MANIFEST_CODE_MAX, "%s", MSG_E_BAD_REQUEST);
			snprintf(message, cap, "manifest: there is no manifest \"%s\"", name);
		}
		return -1;
	}
	rc = manifest_parse(doc, name, out, why, sizeof why);
	json_decref(doc);
	if (rc < 0) {
		*status = 500;
		snprintf(code, MANIFEST_CODE_MAX, "%s", MSG_E_INTERNAL);
		snprintf(message, cap, "manifest %s: %s", name, why);
		return -1;
	}
	return 0;
}
