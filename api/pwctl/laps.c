/*
 * laps.c - pwctl lap|compare: one lap on distance and lap comparison, the
 * answers of pw-api's GET .../laps/{n} and GET /api/compare
 * (common/lapquery.h), made here from the store's records and the runs'
 * frame files, so they work without pw-api.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pwctl/pwctl.h"
#include "common/lapquery.h"
#include "common/msg.h"

static int usage_lap(FILE *out)
{
	fprintf(out,
		"usage: pwctl lap SESSION RUN N [--channels LIST] [--step M] [--manifest NAME]\n"
		"                [--out FILE]\n"
		"Lap N of the run resampled on a distance grid every M metres (0.1 .. 50,\n"
		"default 1), as the JSON of GET /api/sessions/{sid}/runs/{rid}/laps/{n}:\n"
		"distance_m, time_s and the channels (comma-separated canonical names;\n"
		"default speed_kmh, throttle, brake, steer, gear, rpm, accel_lat_g,\n"
		"accel_lon_g, pos_m; with --manifest, its derived channels may be named too,\n"
		"and the default adds them all). Written to FILE or stdout.\n");
	return out == stdout ? 0 : 2;
}

static int usage_compare(FILE *out)
{
	fprintf(out,
		"usage: pwctl compare --ref SESSION/RUN/N|best --lap SESSION/RUN/N [--lap ...]\n"
		"                     [--channels LIST] [--step M] [--manifest NAME] [--out FILE]\n"
		"Up to %d laps compared with the reference lap on distance, as the JSON of\n"
		"GET /api/compare: every lap's time, delta_s to the reference and channels,\n"
		"and the corner table. --ref best takes the best valid lap of the first\n"
		"lap's game, track and car across all sessions.\n",
		LAPDATA_MAX_LAPS);
	return out == stdout ? 0 : 2;
}

static int ask(void *ctx, const char *cmd, json_t *args, json_t **result, char *code,
	       size_t code_cap, char *message, size_t msg_cap)
{
	return store_ask(ctx, cmd, args, result, code, code_cap, message, msg_cap);
}

/* Exit code of a lapquery error: 2 bad arguments, 3 no store, 1 refused. */
static int failed(const char *what, const struct lapquery_err *err)
{
	fprintf(stderr, "pwctl %s: %s: %s\n", what, err->code, err->message);
	if (strcmp(err->code, MSG_E_BAD_REQUEST) == 0)
		return 2;
	return strcmp(err->code, MSG_E_UNAVAILABLE) == 0 ? 3 : 1;
}

static int write_out(const char *what, const char *path, const char *json, size_t len)
{
	FILE *f = path ? fopen(path, "w") : stdout;
	int ok;

	if (!f) {
		fprintf(stderr, "pwctl %s: cannot write %s: %s\n", what, path, strerror(errno));
		return 1;
	}
	ok = fwrite(json, 1, len, f) == len && fputc('\n', f) != EOF;
	if (path)
		ok = fclose(f) == 0 && ok;
	else
		ok = fflush(f) == 0 && ok;
	if (!ok) {
		fprintf(stderr, "pwctl %s: writing %s failed\n", what, path ? path : "stdout");
		return 1;
	}
	return 0;
}

/* --channels, --step, --manifest, --out of argv[i]; 1 taken (i moved past the
 * value), 0 not one of them, -1 bad (err filled). The channels are parsed
 * once every option is known (lapquery_params_done): they may be a manifest's. */
static int common_opt(int argc, char **argv, int *i, struct lapquery_params *p, const char **out,
		      struct lapquery_err *err)
{
	const char *opt = argv[*i];

	if (strcmp(opt, "--channels") != 0 && strcmp(opt, "--step") != 0 &&
	    strcmp(opt, "--out") != 0 && strcmp(opt, "--manifest") != 0)
		return 0;
	if (*i + 1 >= argc) {
		snprintf(err->code, sizeof err->code, "%s", MSG_E_BAD_REQUEST);
		snprintf(err->message, sizeof err->message, "%s needs a value", opt);
		return -1;
	}
	(*i)++;
	if (strcmp(opt, "--out") == 0) {
		*out = argv[*i];
		return 1;
	}
	if (strcmp(opt, "--step") == 0)
		return lapquery_parse_step("--step", argv[*i], &p->step_m, err) < 0 ? -1 : 1;
	if (strcmp(opt, "--manifest") == 0)
		return lapquery_parse_manifest("--manifest", argv[*i], p, err) < 0 ? -1 : 1;
	if (!argv[*i][0])
		return lapquery_parse_channels("--channels", argv[*i], &p->cs, err) < 0 ? -1 : 1;
	snprintf(p->channels, sizeof p->channels, "%s", argv[*i]);
	snprintf(p->channels_param, sizeof p->channels_param, "--channels");
	return 1;
}

int pwctl_lap(const struct config *cfg, int argc, char **argv)
{
	struct lapquery_params p;
	struct lapquery_lapref lap;
	struct lapquery_err err;
	const char *out = NULL;
	char ref[256], *json = NULL;
	size_t len = 0;
	int rc;

	if (argc >= 1 && strcmp(argv[0], "--help") == 0)
		return usage_lap(stdout);
	if (argc < 3)
		return usage_lap(stderr);
	lapquery_params_init(&p);
	snprintf(ref, sizeof ref, "%s/%s/%s", argv[0], argv[1], argv[2]);
	if (lapquery_parse_lapref("SESSION RUN N", ref, &lap, &err) < 0)
		return failed("lap", &err);
	for (int i = 3; i < argc; i++) {
		int t = common_opt(argc, argv, &i, &p, &out, &err);
		if (t < 0)
			return failed("lap", &err);
		if (t == 0)
			return usage_lap(stderr);
	}
	if (lapquery_params_done(&p, &err) < 0)
		return failed("lap", &err);
	if (lapquery_lap(ask, (void *)cfg, &lap, &p, &json, &len, &err) < 0)
		return failed("lap", &err);
	rc = write_out("lap", out, json, len);
	free(json);
	return rc;
}

int pwctl_compare(const struct config *cfg, int argc, char **argv)
{
	struct lapquery_params p;
	struct lapquery_err err;
	const char *out = NULL;
	char *json = NULL;
	size_t len = 0;
	int have_ref = 0, rc;

	if (argc >= 1 && strcmp(argv[0], "--help") == 0)
		return usage_compare(stdout);
	lapquery_params_init(&p);
	for (int i = 0; i < argc; i++) {
		int t = common_opt(argc, argv, &i, &p, &out, &err);

		if (t < 0)
			return failed("compare", &err);
		if (t == 1)
			continue;
		if (i + 1 >= argc)
			return usage_compare(stderr);
		if (strcmp(argv[i], "--ref") == 0 && !have_ref) {
			have_ref = 1;
			if (strcmp(argv[++i], "best") == 0)
				p.best = 1;
			else if (lapquery_parse_lapref("--ref", argv[i], &p.ref, &err) < 0)
				return failed("compare", &err);
		} else if (strcmp(argv[i], "--lap") == 0) {
			if (p.nlaps == LAPDATA_MAX_LAPS) {
				fprintf(stderr, "pwctl compare: at most %d --lap\n",
					LAPDATA_MAX_LAPS);
				return 2;
			}
			if (lapquery_parse_lapref("--lap", argv[++i], &p.laps[p.nlaps], &err) < 0)
				return failed("compare", &err);
			p.nlaps++;
		} else {
			return usage_compare(stderr);
		}
	}
	if (!have_ref || !p.nlaps)
		return usage_compare(stderr);
	if (lapquery_params_done(&p, &err) < 0)
		return failed("compare", &err);
	if (lapquery_compare(ask, (void *)cfg, &p, &json, &len, &err) < 0)
		return failed("compare", &err);
	rc = write_out("compare", out, json, len);
	free(json);
	return rc;
}
