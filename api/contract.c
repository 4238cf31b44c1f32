/*
 * contract.c - the published contracts (docs/api.md): the channel dictionary
 * (GET /api/channels, /api/channels/{channel}, from common/dict.h, then the
 * derived channels of every stored manifest, common/manifest.h) and the
 * JSON Schemas of every body and message (GET /api/schemas,
 * /api/schemas/{schema}/{version}). The schemas are docs/schemas/<name>/
 * <version>.json, compiled into pw-api (scripts/embed_schemas.sh makes
 * schema_files[] from them) and served byte for byte.
 */
#include <errno.h>
#include <string.h>

#include "api/api.h"
#include "common/dict.h"
#include "common/frame.h"
#include "common/manifest.h"
#include "common/msg.h"

#define SCHEMA_MEDIA_TYPE "application/schema+json"

/*
 * The first parameter of query (NULL: none) that is not one of allowed
 * (NULL-terminated), copied into name; 0 when every one is allowed.
 */
static int unknown_param(const char *query, const char *const allowed[], char *name, size_t cap)
{
	for (const char *p = query; p && *p;) {
		size_t n = strcspn(p, "=&"), end = strcspn(p, "&");
		int ok = 0;

		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strlen(allowed[i]) == n && memcmp(allowed[i], p, n) == 0;
		if (!ok && n > 0) {
			snprintf(name, cap, "%.*s", (int)(n < 64 ? n : 64), p);
			return 1;
		}
		p += end + (p[end] == '&');
	}
	return 0;
}

/* ?game=NAME: 0 with *game (PW_GAME_UNKNOWN when absent), or -1 with 400 sent. */
static int game_param(struct api *api, struct mg_connection *c, unsigned *game)
{
	static const char *const allowed[] = { "game", NULL };
	const char *q = mg_get_request_info(c)->query_string;
	char name[IDS_GAME_MAX + 2], bad[80];
	int n;

	*game = PW_GAME_UNKNOWN;
	if (unknown_param(q, allowed, bad, sizeof bad)) {
		http_error(api, c, 400, MSG_E_BAD_REQUEST,
			   "unknown query parameter \"%s\" (this endpoint takes game)", bad);
		return -1;
	}
	if (!q || (n = mg_get_var(q, strlen(q), "game", name, sizeof name)) == -1)
		return 0;
	if (n < 0 || (*game = frame_game_id(name)) == PW_GAME_UNKNOWN) {
		http_error(api, c, 400, MSG_E_BAD_REQUEST,
			   "query parameter \"game\" must be a game of GET /api/games");
		return -1;
	}
	return 0;
}

/* No query parameters at all: 0, or -1 with 400 sent. */
static int no_params(struct api *api, struct mg_connection *c)
{
	static const char *const none[] = { NULL };
	char bad[80];

	if (!unknown_param(mg_get_request_info(c)->query_string, none, bad, sizeof bad))
		return 0;
	http_error(api, c, 400, MSG_E_BAD_REQUEST,
		   "unknown query parameter \"%s\" (this endpoint takes none)", bad);
	return -1;
}

/*
 * The derived channels of every stored manifest (manifest.list, from the
 * cache while the store's state is unchanged: api/cache.c) appended to
 * dict; where the store cannot list them, dict says so in "manifests_error"
 * and code/message (cap bytes) hold the store's error. 0, -1 for that, or
 * -ENOMEM.
 */
static int add_manifests(struct api *api, json_t *dict, char *code, char *message, size_t cap)
{
	json_t *docs = NULL;
	int rc;

	if (cache_call(api, "manifest.list", NULL, &docs, code, 64, message, cap) < 0)
		return manifest_dict_missing(dict, code, message) < 0 ? -ENOMEM : -1;
	rc = manifest_dict_append(dict, docs);
	json_decref(docs);
	return rc;
}

int contract_channels(struct api *api, struct mg_connection *c, json_t *args)
{
	char code[64], message[512];
	unsigned game;
	json_t *d;

	(void)args;
	if (game_param(api, c, &game) < 0)
		return 400;
	if (!(d = dict_json(game)) ||
	    add_manifests(api, d, code, message, sizeof message) == -ENOMEM) {
		json_decref(d);
		return http_error(api, c, 500, MSG_E_INTERNAL, "out of memory");
	}
	return http_json(api, c, 200, d);
}

/* The entry called name in d's channels (borrowed), NULL when none: the
 * first, so a frame channel before a manifest's, a manifest before the ones
 * after it in name order. */
static json_t *entry_named(json_t *d, const char *name)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(d, "channels"), i, e)
		if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0)
			return e;
	return NULL;
}

int contract_channel(struct api *api, struct mg_connection *c, json_t *args)
{
	const char *name = json_string_value(json_object_get(args, "channel"));
	char code[64], message[512];
	json_t *d, *found;
	int rc = 0;

	if (no_params(api, c) < 0)
		return 400;
	if (!(d = dict_json(PW_GAME_UNKNOWN)))
		return http_error(api, c, 500, MSG_E_INTERNAL, "out of memory");
	if (!(found = entry_named(d, name)) &&
	    (rc = add_manifests(api, d, code, message, sizeof message)) == 0)
		found = entry_named(d, name);
	json_incref(found);
	json_decref(d);
	if (found)
		return http_json(api, c, 200, found);
	if (rc == -ENOMEM)
		return http_error(api, c, 500, MSG_E_INTERNAL, "out of memory");
	if (rc < 0)
		return http_error(api, c, http_status_for(code), code,
				  "%s is no frame channel, and the manifests' channels cannot be "
				  "listed: %s",
				  name, message);
	return http_error(api, c, 404, MSG_E_NOT_FOUND,
			  "no channel %s (GET /api/channels lists them)", name);
}

/* The index entry of a schema: where it is, its title, what it describes. */
static json_t *index_entry(const struct schema_file *f)
{
	json_t *doc = json_loadb(f->text, f->len, 0, NULL);
	json_t *describes = json_object_get(doc, "x-pitwall-describes");
	json_t *e =
		json_pack("{s:s, s:s, s:o, s:s?, s:o}", "name", f->name, "version", f->version,
			  "url", json_sprintf("/api/schemas/%s/%s", f->name, f->version), "title",
			  json_string_value(json_object_get(doc, "title")), "describes",
			  json_is_array(describes) ? json_incref(describes) : json_array());

	json_decref(doc);
	return e;
}

int contract_schemas(struct api *api, struct mg_connection *c, json_t *args)
{
	json_t *list = json_array();

	(void)args;
	if (no_params(api, c) < 0) {
		json_decref(list);
		return 400;
	}
	for (const struct schema_file *f = schema_files; list && f->name; f++) {
		json_t *e = index_entry(f);

		if (!e || json_array_append_new(list, e) < 0) {
			json_decref(list);
			list = NULL;
		}
	}
	if (!list)
		return http_error(api, c, 500, MSG_E_INTERNAL, "out of memory");
	return http_json(api, c, 200,
			 json_pack("{s:s, s:o}", "dialect",
				   "https://json-schema.org/draft/2020-12/schema", "schemas",
				   list));
}

int contract_schema(struct api *api, struct mg_connection *c, json_t *args)
{
	const char *name = json_string_value(json_object_get(args, "schema"));
	const char *version = json_string_value(json_object_get(args, "version"));
	int known = 0;

	if (no_params(api, c) < 0)
		return 400;
	for (const struct schema_file *f = schema_files; f->name; f++) {
		if (strcmp(f->name, name) != 0)
			continue;
		if (strcmp(f->version, version) == 0)
			return http_text(api, c, 200, SCHEMA_MEDIA_TYPE, f->text, f->len);
		known = 1;
	}
	if (known)
		return http_error(api, c, 404, MSG_E_NOT_FOUND,
				  "schema %s has no version %s (GET /api/schemas lists them)", name,
				  version);
	return http_error(api, c, 404, MSG_E_NOT_FOUND,
			  "no schema %s (GET /api/schemas lists them)", name);
}
