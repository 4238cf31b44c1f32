/* manifests.c - pwctl manifests|manifest: derived-channel manifests in the store. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pwctl/pwctl.h"
#include "common/atomicio.h"
#include "common/manifest.h"

static const char usage_text[] =
	"usage: pwctl manifests\n"
	"       pwctl manifest get|delete NAME\n"
	"       pwctl manifest put NAME FILE\n"
	"A manifest defines derived channels as formulas over a frame's channels\n"
	"(docs/manifests.md). put stores FILE (a JSON manifest, '-' for stdin) as NAME,\n"
	"validated: a formula's error names the channel and its column. The stored\n"
	"document is printed. Exports take --manifest NAME.\n";

static int usage(FILE *out)
{
	fputs(usage_text, out);
	return out == stdout ? 0 : 2;
}

/* FILE (or stdin for "-") as a JSON object; NULL with the reason printed. */
static json_t *read_doc(const char *path)
{
	json_error_t je;
	json_t *doc;

	if (strcmp(path, "-") == 0) {
		doc = json_loadf(stdin, JSON_REJECT_DUPLICATES, &je);
	} else {
		char *buf = NULL;
		size_t len;
		int rc = atomicio_read(path, MANIFEST_DOC_MAX, &buf, &len);

		if (rc < 0) {
			fprintf(stderr, "pwctl manifest: %s: %s\n", path,
				rc == -EFBIG ? "larger than 64 KiB" : strerror(-rc));
			return NULL;
		}
		doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
		free(buf);
	}
	if (!doc)
		fprintf(stderr, "pwctl manifest: %s: line %d: %s\n", path, je.line, je.text);
	else if (!json_is_object(doc))
		fprintf(stderr, "pwctl manifest: %s: a manifest is a JSON object\n", path);
	if (doc && !json_is_object(doc)) {
		json_decref(doc);
		doc = NULL;
	}
	return doc;
}

int pwctl_manifests(const struct config *cfg, int argc, char **argv)
{
	json_t *doc, *res = NULL;
	int rc;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return usage(stdout);
	if (strcmp(argv[0], "manifests") == 0)
		return argc == 1 ? store_call(cfg, "manifest.list", NULL, NULL) : usage(stderr);
	if (argc == 3 && (strcmp(argv[1], "get") == 0 || strcmp(argv[1], "delete") == 0))
		return store_call(cfg,
				  strcmp(argv[1], "get") == 0 ? "manifest.get" : "manifest.delete",
				  json_pack("{s:s}", "name", argv[2]), NULL);
	if (argc != 4 || strcmp(argv[1], "put") != 0)
		return usage(stderr);
	if (!(doc = read_doc(argv[3])))
		return 1;
	rc = store_call(cfg, "manifest.put",
			json_pack("{s:s, s:o}", "name", argv[2], "manifest", doc), &res);
	if (rc == 0) {
		char *text = json_dumps(json_object_get(res, "manifest"), JSON_INDENT(2));

		if (text)
			puts(text);
		free(text);
	}
	json_decref(res);
	return rc;
}
