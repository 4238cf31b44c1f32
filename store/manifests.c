/*
 * manifests.c - derived-channel manifests (common/manifest.h), one file each:
 * data/manifests/<name>.json, the canonical document, replaced atomically.
 *
 *   manifest.list    {}                         every stored manifest's document
 *   manifest.get     {name}                     its document
 *   manifest.put     {name, manifest}           validated, compiled, written:
 *                                               {created, manifest}
 *   manifest.delete  {name}                     null
 *
 * A document that does not validate is refused whole (bad_request with
 * manifest_parse's message, which names the field and the formula's
 * column); nothing stored changes. Files are read on every command: a
 * manifest is small, the commands are rare, and nothing here can go stale.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/atomicio.h"
#include "common/log.h"
#include "common/manifest.h"
#include "store/cmd.h"
#include "store/store.h"

#define MANIFESTS_MAX 256 /* stored manifests */

static int manifest_path(const struct store *st, const char *name, char *buf, size_t cap)
{
	if (!ids_name_valid(name))
		return -EINVAL;
	return (size_t)snprintf(buf, cap, "%s/manifests/%s.json", st->data_dir, name) < cap
		       ? 0
		       : -ENAMETOOLONG;
}

/* The stored document of name (new reference), or NULL + err (not_found, io_error). */
static json_t *load(const struct store *st, const char *name, struct cmd_err *err)
{
	char path[IDS_PATH_MAX], *buf = NULL, why[MANIFEST_ERR_MAX];
	struct manifest *m = NULL;
	json_t *doc = NULL, *canon = NULL;
	size_t len;
	int rc;

	if (manifest_path(st, name, path, sizeof path) < 0) {
		fail(err, MSG_E_BAD_REQUEST, "\"name\" must be 1 to %d of A-Z a-z 0-9 _ . -",
		     IDS_NAME_MAX);
		return NULL;
	}
	if ((rc = atomicio_read(path, MANIFEST_DOC_MAX, &buf, &len)) == -ENOENT) {
		fail(err, MSG_E_NOT_FOUND, "no manifest %s", name);
		return NULL;
	}
	if (rc < 0) {
		fail(err, MSG_E_IO, "cannot read manifest %s: %s", name, strerror(-rc));
		return NULL;
	}
	/* what was valid when it was stored is checked again: the channel table may
	 * have changed since */
	if (!(doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL)) ||
	    manifest_parse(doc, name, &m, why, sizeof why) < 0) {
		log_error("msg=\"stored manifest does not validate\" file=%s error=\"%s\"", path,
			  doc ? why : "not JSON");
		fail(err, MSG_E_IO, "the stored manifest %s does not validate: %s", name,
		     doc ? why : "not JSON");
	} else if (!(canon = manifest_json(m))) {
		fail(err, MSG_E_INTERNAL, "out of memory");
	}
	manifest_free(m);
	json_decref(doc);
	free(buf);
	return canon;
}

static int name_arg(json_t *args, const char **name, struct cmd_err *err)
{
	if (opt_str(args, "name", IDS_NAME_MAX, name, err) < 0)
		return -1;
	if (!**name || !ids_name_valid(*name)) {
		fail(err, MSG_E_BAD_REQUEST, "\"name\" must be 1 to %d of A-Z a-z 0-9 _ . -",
		     IDS_NAME_MAX);
		return -1;
	}
	return 0;
}

static json_t *h_manifest_get(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "name", NULL };
	const char *name;

	if (only_keys(args, keys, err) < 0 || name_arg(args, &name, err) < 0)
		return NULL;
	return load(st, name, err);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Names of the stored manifests, sorted; *n of them (at most MANIFESTS_MAX). */
static int stored_names(const struct store *st, char (*names)[IDS_NAME_MAX + 1], size_t *n)
{
	char dir[IDS_PATH_MAX];
	struct dirent *e;
	DIR *d;

	*n = 0;
	snprintf(dir, sizeof dir, "%s/manifests", st->data_dir);
	if (!(d = opendir(dir)))
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)) && *n < MANIFESTS_MAX) {
		size_t len = strlen(e->d_name);

		if (len < 6 || len - 5 > IDS_NAME_MAX || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		memcpy(names[*n], e->d_name, len - 5);
		names[*n][len - 5] = 0;
		if (ids_name_valid(names[*n]))
			(*n)++;
	}
	closedir(d);
	qsort(names, *n, sizeof *names, name_cmp);
	return 0;
}

static json_t *h_manifest_list(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { NULL };
	char(*names)[IDS_NAME_MAX + 1] = NULL;
	json_t *list = NULL;
	size_t n;
	int rc;

	if (only_keys(args, keys, err) < 0)
		return NULL;
	if (!(names = calloc(MANIFESTS_MAX, sizeof *names)))
		return fail(err, MSG_E_INTERNAL, "out of memory");
	if ((rc = stored_names(st, names, &n)) < 0) {
		fail(err, MSG_E_IO, "cannot list the manifests: %s", strerror(-rc));
		goto out;
	}
	list = json_array();
	for (size_t i = 0; i < n; i++) {
		struct cmd_err skip = { MSG_E_INTERNAL, "" };
		json_t *doc = load(st, names[i], &skip);

		if (doc) /* a broken file is logged by load and left out of the list */
			json_array_append_new(list, doc);
	}
out:
	free(names);
	return list;
}

static json_t *h_manifest_put(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "name", "manifest", NULL };
	char path[IDS_PATH_MAX], dir[IDS_PATH_MAX], why[MANIFEST_ERR_MAX],
		(*names)[IDS_NAME_MAX + 1];
	struct manifest *m = NULL;
	json_t *canon = NULL, *res = NULL;
	const char *name;
	char *text = NULL;
	size_t n = 0;
	int rc, created;

	if (only_keys(args, keys, err) < 0 || name_arg(args, &name, err) < 0)
		return NULL;
	if (!json_is_object(json_object_get(args, "manifest")))
		return fail(err, MSG_E_BAD_REQUEST, "\"manifest\" must be a JSON object");
	if ((rc = manifest_parse(json_object_get(args, "manifest"), name, &m, why, sizeof why)) < 0)
		return fail(err, rc == -ENOMEM ? MSG_E_INTERNAL : MSG_E_BAD_REQUEST, "%s", why);
	manifest_path(st, name, path, sizeof path);
	created = access(path, F_OK) != 0;
	if (created && (names = calloc(MANIFESTS_MAX, sizeof *names))) {
		stored_names(st, names, &n);
		free(names);
	}
	if (created && n >= MANIFESTS_MAX) {
		fail(err, MSG_E_CONFLICT, "%d manifests are stored already: delete one first",
		     MANIFESTS_MAX);
		goto out;
	}
	if (!(canon = manifest_json(m)) || !(text = json_dumps(canon, JSON_INDENT(2)))) {
		fail(err, MSG_E_INTERNAL, "out of memory");
		goto out;
	}
	snprintf(dir, sizeof dir, "%s/manifests", st->data_dir);
	if ((rc = atomicio_mkdirs(dir)) == 0)
		rc = atomicio_write(path, text, strlen(text));
	if (rc == -ENOSPC || rc == -EDQUOT) {
		fail(err, MSG_E_DISK_FULL, "the data disk is full: manifest %s not saved", name);
		goto out;
	}
	if (rc < 0) {
		fail(err, MSG_E_IO, "cannot save manifest %s: %s", name, strerror(-rc));
		goto out;
	}
	log_info("msg=\"manifest saved\" name=%s channels=%zu created=%d", name, m->nchannels,
		 created);
	res = json_pack("{s:b, s:O}", "created", created, "manifest", canon);
out:
	free(text);
	json_decref(canon);
	manifest_free(m);
	return res;
}

static json_t *h_manifest_delete(struct store *st, json_t *args, struct cmd_err *err)
{
	static const char *const keys[] = { "name", NULL };
	char path[IDS_PATH_MAX];
	const char *name;
	int rc;

	if (only_keys(args, keys, err) < 0 || name_arg(args, &name, err) < 0)
		return NULL;
	manifest_path(st, name, path, sizeof path);
	if ((rc = atomicio_unlink(path)) == -ENOENT)
		return fail(err, MSG_E_NOT_FOUND, "no manifest %s", name);
	if (rc < 0)
		return fail(err, MSG_E_IO, "cannot delete manifest %s: %s", name, strerror(-rc));
	log_info("msg=\"manifest deleted\" name=%s", name);
	return json_null();
}

const struct cmd_entry manifest_commands[] = {
	{ "manifest.list", h_manifest_list },
	{ "manifest.get", h_manifest_get },
	{ "manifest.put", h_manifest_put },
	{ "manifest.delete", h_manifest_delete },
	{ NULL, NULL },
};
