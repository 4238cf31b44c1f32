/*
 * channels.c - `pwctl channels [--json] [--game NAME]`: the channel dictionary
 * (common/dict.h) with the derived channels of every manifest in the store
 * (common/manifest.h), the same JSON as GET /api/channels, or a table of it.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pwctl/pwctl.h"
#include "common/dict.h"
#include "common/frame.h"
#include "common/manifest.h"

static const char usage_text[] =
	"usage: pwctl channels [--json] [--game NAME] | --frame-schema\n"
	"Every key of a frame: its identity, its channels and its flags, with unit, type,\n"
	"dimension, valid range, whether pitwall derives it (always: no game sends it;\n"
	"yes/some: derived for that game/for some games) and how many games send it.\n"
	"--json prints what GET /api/channels answers; --game keeps the keys that game's\n"
	"frames can carry (a name of GET /api/games, e.g. assetto_corsa).\n"
	"After the frame's keys come the derived channels of every manifest in the store\n"
	"(KIND manifest; pwctl manifests); when the store cannot list them, a warning\n"
	"says so and --json carries \"manifests_error\".\n"
	"--frame-schema prints the JSON Schema of a frame, generated from the channel\n"
	"table: docs/schemas/frame/v1.json is exactly this.\n";

/* "0..1", "-1..", "..5"; "-" for a range with no bound. */
static void range_text(json_t *range, char *buf, size_t cap)
{
	json_t *lo = json_object_get(range, "min"), *hi = json_object_get(range, "max");

	if (json_is_null(lo) && json_is_null(hi))
		snprintf(buf, cap, "-");
	else if (json_is_null(lo))
		snprintf(buf, cap, "..%.6g", json_number_value(hi));
	else if (json_is_null(hi))
		snprintf(buf, cap, "%.6g..", json_number_value(lo));
	else
		snprintf(buf, cap, "%.6g..%.6g", json_number_value(lo), json_number_value(hi));
}

/* "formula" (a manifest's channel), "always" (no game sends it), "yes" (game, or with no game some game, gets
 * it derived), "no". */
static const char *derived_text(json_t *e, unsigned game)
{
	json_t *v, *derived_for = json_object_get(e, "derived_for");
	size_t i;

	if (json_object_get(e, "formula"))
		return "formula";
	if (json_is_true(json_object_get(e, "derived")))
		return "always";
	if (game == PW_GAME_UNKNOWN)
		return json_array_size(derived_for) ? "some" : "no";
	json_array_foreach(derived_for, i, v)
		if (strcmp(json_string_value(v), frame_game_name(game)) == 0)
			return "yes";
	return "no";
}

/* One line per entry; GAMES: how many games send it as their own. */
static void print_table(json_t *d, unsigned game)
{
	json_t *e;
	size_t i;

	printf("%-17s %-10s %-7s %-7s %-6s %-6s %-7s %-5s %s\n", "NAME", "KIND", "TYPE", "DIM",
	       "UNIT", "RANGE", "DERIVED", "GAMES", "DESCRIPTION");
	json_array_foreach(json_object_get(d, "channels"), i, e) {
		const char *unit = json_string_value(json_object_get(e, "unit"));
		char range[48];

		range_text(json_object_get(e, "range"), range, sizeof range);
		printf("%-17s %-10s %-7s %-7s %-6s %-6s %-7s %5zu %s\n",
		       json_string_value(json_object_get(e, "name")),
		       json_string_value(json_object_get(e, "kind")),
		       json_string_value(json_object_get(e, "type")),
		       json_string_value(json_object_get(e, "dimension")), *unit ? unit : "-",
		       range, derived_text(e, game), json_array_size(json_object_get(e, "games")),
		       json_string_value(json_object_get(e, "description")));
	}
}

/* The stored manifests' channels appended to d (or "manifests_error", with a
 * warning on stderr). 0, or -ENOMEM. */
static int add_manifests(const struct config *cfg, json_t *d)
{
	char code[64], message[512];
	json_t *docs = NULL;
	int rc;

	if (store_ask(cfg, "manifest.list", NULL, &docs, code, sizeof code, message,
		      sizeof message) < 0) {
		fprintf(stderr, "pwctl channels: no manifest channels listed: %s: %s\n", code,
			message);
		return manifest_dict_missing(d, code, message);
	}
	rc = manifest_dict_append(d, docs);
	json_decref(docs);
	return rc;
}

int pwctl_channels(const struct config *cfg, int argc, char **argv)
{
	unsigned game = PW_GAME_UNKNOWN;
	int as_json = 0, frame_schema = 0, rc = 0;
	json_t *d;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			as_json = 1;
		} else if (strcmp(argv[i], "--frame-schema") == 0) {
			frame_schema = as_json = 1;
		} else if (strcmp(argv[i], "--game") == 0 && i + 1 < argc) {
			if ((game = frame_game_id(argv[++i])) == PW_GAME_UNKNOWN) {
				fprintf(stderr,
					"pwctl channels: --game must be a game of "
					"GET /api/games, got '%s'\n",
					argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else {
			fprintf(stderr, "pwctl channels: unknown option '%s'\n%s", argv[i],
				usage_text);
			return 2;
		}
	}
	if (!(d = frame_schema ? dict_frame_schema() : dict_json(game)) ||
	    (!frame_schema && add_manifests(cfg, d) < 0)) {
		json_decref(d);
		fprintf(stderr, "pwctl channels: out of memory\n");
		return 1;
	}
	if (as_json) {
		char *text = json_dumps(d, JSON_INDENT(2));

		rc = text && puts(text) >= 0 ? 0 : 1;
		free(text);
	} else {
		print_table(d, game);
	}
	json_decref(d);
	return rc;
}
