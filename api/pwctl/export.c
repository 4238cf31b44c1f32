/*
 * export.c - pwctl export: a run's frames as CSV, JSON lines, a MoTeC i2 log
 * (.ld + .ldx) or Parquet, through common/export.h (the same code and bytes as
 * pw-api's GET .../export). The frame file is read straight from the store's
 * disk (run.get's frames_path), so pwctl runs where the store does.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/pwctl/pwctl.h"
#include "common/clock.h"
#include "common/export.h"
#include "common/framefile.h"
#include "common/manifest.h"

static int usage(FILE *out)
{
	fprintf(out,
		"usage: pwctl export SESSION RUN [--format csv|json|ld|ldx|parquet]\n"
		"                    [--channels LIST] [--hz N] [--lap N]\n"
		"                    [--compression zstd|none] [--manifest NAME] [--out FILE|DIR]\n"
		"Writes the run's frames to FILE, into DIR (named after the track, the run\n"
		"and the lap), or to stdout:\n"
		"  csv      a header line, then one row per frame (the default)\n"
		"  json     JSON lines, one object per frame, absent channels left out\n"
		"  ld       a MoTeC i2 log: writes FILE.ld and FILE.ldx (lap beacons) side\n"
		"           by side, so --out is required\n"
		"  ldx      the .ldx alone\n"
		"  parquet  Apache Parquet, one typed column per value (pages compressed\n"
		"           with zstd when --compression zstd)\n"
		"--channels speed_kmh,throttle,tyre_temp_c (the frame's channel names, array\n"
		"values such as tyre_temp_c_fl, seq, t_ns, flags) chooses the columns;\n"
		"--hz N (1..1000) resamples to N rows a second on the game clock; --lap N\n"
		"exports one lap. With any of them every row starts with time_s, seconds\n"
		"from the first exported frame. --manifest NAME (csv and json) adds the\n"
		"derived channels of a stored manifest (docs/manifests.md) after the\n"
		"others. Long exports show progress on stderr.\n"
		"Exit status: 0 done, 1 failed, 2 bad arguments, 3 store unreachable.\n");
	return out == stdout ? 0 : 2;
}

/* Where the export writes and how it reports progress. */
struct dest {
	FILE *out;
	uint64_t total;      /* frames the file holds, for the progress line */
	int64_t next_report; /* clock_mono_ns of the next progress line */
};

static int write_out(void *ctx, const void *buf, size_t len)
{
	struct dest *d = ctx;

	return fwrite(buf, 1, len, d->out) == len ? 0 : -(errno ? errno : EIO);
}

static void show_progress(void *ctx, uint64_t i)
{
	struct dest *d = ctx;

	if (clock_mono_ns() < d->next_report)
		return;
	fprintf(stderr, "\rpwctl export: %llu / %llu frames (%.0f%%)", (unsigned long long)i,
		(unsigned long long)d->total, 100.0 * (double)i / (double)d->total);
	d->next_report += NS_PER_S;
}

static void report_tail(const struct framefile_info *info, uint64_t frames)
{
	fprintf(stderr,
		"pwctl export: the frame file ends in a %s tail of %llu bytes; "
		"exporting the %llu complete frames\n",
		info->tail == FRAMEFILE_TAIL_TORN ? "torn" : "corrupt",
		(unsigned long long)info->dropped_bytes, (unsigned long long)frames);
}

static const char *str_field(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Export r as o says into path (NULL: stdout). A file that fails is removed. */
static int export_to(struct framefile_reader *r, struct export_opts *o, const char *path,
		     uint64_t total, struct export_result *res)
{
	struct dest d = { .out = stdout, .total = total };
	int rc;

	if (path && !(d.out = fopen(path, "w"))) {
		fprintf(stderr, "pwctl export: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	d.next_report = clock_mono_ns() + NS_PER_S;
	o->write = write_out;
	o->progress = show_progress;
	o->ctx = &d;
	if ((rc = framefile_reader_rewind(r)) == 0)
		rc = export_frames(r, o, res);
	if (rc == 0 && fflush(d.out) != 0)
		rc = -errno;
	if (path && fclose(d.out) != 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		fprintf(stderr, "%spwctl export: %s%s\n", total > 100000 ? "\n" : "",
			rc == -ENODATA ? "nothing to export: " : "",
			rc == -ENODATA ? "the run (or lap) has no frames with these channels"
				       : strerror(-rc));
		if (path)
			unlink(path);
	}
	return rc;
}

/* The output paths: --out FILE or DIR, for the format (ld: and its .ldx). */
static int out_paths(const struct export_opts *o, const char *out, char *path, char *ldx,
		     size_t cap)
{
	struct stat st;
	char stem[128];

	ldx[0] = 0;
	if (!out) {
		path[0] = 0;
		return 0;
	}
	export_file_stem(o, stem, sizeof stem);
	if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
		if ((size_t)snprintf(path, cap, "%s/%s.%s", out, stem,
				     export_format_ext(o->format)) >= cap ||
		    (size_t)snprintf(ldx, cap, "%s/%s.ldx", out, stem) >= cap)
			return -ENAMETOOLONG;
	} else {
		size_t n = strlen(out);

		if ((size_t)snprintf(path, cap, "%s", out) >= cap)
			return -ENAMETOOLONG;
		if (n > 3 && strcmp(out + n - 3, ".ld") == 0)
			n -= 3;
		if ((size_t)snprintf(ldx, cap, "%.*s.ldx", (int)n, out) >= cap)
			return -ENAMETOOLONG;
	}
	return 0;
}

int pwctl_export(const struct config *cfg, int argc, char **argv)
{
	static const char *const flags[] = { "--format", "--channels",    "--hz",
					     "--lap",    "--compression", NULL };
	char err[EXPORT_ERR_MAX], path[4096], ldx[4096], dir[4096];
	struct export_lap *laps = NULL;
	struct export_result res = { 0 }, res2 = { 0 };
	struct framefile_info info, end;
	struct framefile_reader *r = NULL;
	struct export_opts o;
	const char *out = NULL, *manifest_name = NULL;
	json_t *run = NULL, *session = NULL, *doc = NULL;
	struct manifest *m = NULL;
	char why[MANIFEST_ERR_MAX];
	size_t nlaps = 0;
	int rc;

	export_opts_init(&o);
	if (argc >= 1 && strcmp(argv[0], "--help") == 0)
		return usage(stdout);
	if (argc < 2)
		return usage(stderr);
	for (int i = 2; i < argc; i++) {
		int f;

		for (f = 0; flags[f] && strcmp(argv[i], flags[f]) != 0; f++)
			;
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
			out = argv[++i];
			continue;
		}
		if (strcmp(argv[i], "--manifest") == 0 && i + 1 < argc) {
			manifest_name = argv[++i];
			continue;
		}
		if (!flags[f] || i + 1 >= argc)
			return usage(stderr);
		if (export_opts_set(&o, flags[f] + 2, argv[++i], err, sizeof err) < 0) {
			fprintf(stderr, "pwctl export: %s\n", err);
			return 2;
		}
	}
	if (o.format == EXPORT_LD && !out) {
		fprintf(stderr, "pwctl export: --format ld writes a .ld and a .ldx file: "
				"give --out FILE.ld or --out DIR\n");
		return 2;
	}
	if (manifest_name) {
		if ((rc = store_call(cfg, "manifest.get", json_pack("{s:s}", "name", manifest_name),
				     &doc)) != 0)
			return rc;
		rc = manifest_parse(doc, manifest_name, &m, why, sizeof why);
		json_decref(doc);
		if (rc < 0) {
			fprintf(stderr, "pwctl export: manifest %s: %s\n", manifest_name, why);
			return 1;
		}
		o.manifest = m;
	}
	if ((rc = store_call(cfg, "run.get",
			     json_pack("{s:s, s:s}", "session_id", argv[0], "run_id", argv[1]),
			     &run)) != 0) {
		manifest_free(m);
		return rc;
	}
	store_call(cfg, "session.get", json_pack("{s:s}", "id", argv[0]), &session);
	if (export_laps_from_json(json_object_get(run, "laps"), &laps, &nlaps) < 0) {
		rc = 1;
		goto out;
	}
	o.run = (struct export_run){
		.session_id = argv[0],
		.run_id = argv[1],
		.session_label = str_field(session, "label"),
		.run_label = str_field(run, "label"),
		.game = str_field(run, "game"),
		.track = str_field(run, "track"),
		.car = str_field(session, "car_name"),
		.driver = str_field(run, "driver"),
		.laps = laps,
		.nlaps = nlaps,
	};
	if (export_opts_resolve(&o, err, sizeof err) < 0) {
		fprintf(stderr, "pwctl export: %s\n", err);
		rc = 2;
		goto out;
	}
	if (out_paths(&o, out, path, ldx, sizeof path) < 0) {
		fprintf(stderr, "pwctl export: --out: the path is too long\n");
		rc = 2;
		goto out;
	}
	/* the MoTeC log is built next to where it goes */
	snprintf(dir, sizeof dir, "%s", path[0] ? path : ".");
	o.tmp_dir = dirname(dir);
	rc = framefile_reader_open(&r, str_field(run, "frames_path"), &info);
	if (rc < 0) {
		fprintf(stderr, "pwctl export: cannot read the run's frames: %s\n", strerror(-rc));
		rc = 1;
		goto out;
	}
	if (info.tail != FRAMEFILE_TAIL_CLEAN)
		report_tail(&info, info.frames);
	if ((rc = export_to(r, &o, path[0] ? path : NULL, info.frames, &res)) == 0 &&
	    o.format == EXPORT_LD) {
		o.format = EXPORT_LDX;
		if ((rc = export_to(r, &o, ldx, info.frames, &res2)) < 0)
			unlink(path);
		o.format = EXPORT_LD;
	}
	framefile_reader_info(r, &end);
	if (rc == 0 && end.tail != info.tail) /* a block the scan passed did not decode */
		report_tail(&end, res.frames);
	if (rc < 0) {
		rc = 1;
		goto out;
	}
	fprintf(stderr, "%spwctl export: %llu frames, %llu %s written%s%s%s%s\n",
		info.frames > 100000 ? "\r" : "", (unsigned long long)res.frames,
		(unsigned long long)res.rows,
		o.format == EXPORT_LD    ? "samples per channel"
		: o.format == EXPORT_LDX ? "beacons"
					 : "rows",
		path[0] ? " to " : "", path[0] ? path : "", o.format == EXPORT_LD ? " and " : "",
		o.format == EXPORT_LD ? ldx : "");
	rc = 0;
out:
	framefile_reader_close(r);
	free(laps);
	json_decref(run);
	json_decref(session);
	manifest_free(m);
	return rc;
}
