/*
 * bench_manifest.c - derived channels: the cost per frame of applying a
 * 10-formula manifest (target < 1 us per frame), and of its CSV cells.
 *
 * The frames are the emulator's laps at 333 Hz (every channel present); the
 * formulas mix what manifests do: unit conversions, ratios of wheel values,
 * a derivative of a smoothed channel, an integral, conditions, min/max,
 * flags and a channel built on another.
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/manifest.h"
#include "tests/unit/t_frames.h"

#define NFRAMES (333 * 120)
#define TARGET_NS 1000.0

static const char manifest_doc[] =
	"{\"channels\": ["
	"{\"name\": \"power_kw\", \"formula\": \"power_w / 1000\"},"
	"{\"name\": \"brake_balance\", \"formula\": \"brake_temp_c_fl / brake_temp_c_rl\"},"
	"{\"name\": \"speed_delta\", \"formula\": \"derivative(smooth(speed_kmh, 0.05))\"},"
	"{\"name\": \"dist_m\", \"formula\": \"integral(speed_kmh / 3.6)\"},"
	"{\"name\": \"g_total\", \"formula\": \"sqrt(accel_lat_g ^ 2 + accel_lon_g ^ 2)\"},"
	"{\"name\": \"front_temp\", \"formula\": \"(tyre_temp_c_fl + tyre_temp_c_fr) / 2\"},"
	"{\"name\": \"hot_tyre\", \"formula\": \"max(tyre_temp_c_fl, tyre_temp_c_fr, "
	"tyre_temp_c_rl, tyre_temp_c_rr) > 100\"},"
	"{\"name\": \"coasting\", \"formula\": \"throttle < 0.05 && brake < 0.05\"},"
	"{\"name\": \"rpm_frac\", \"formula\": \"clamp(rpm / max_rpm, 0, 1)\"},"
	"{\"name\": \"tc_power\", \"formula\": \"if(tc, power_kw, 0)\"}]}";

int main(void)
{
	struct pw_frame *f = t_sim_frames(NFRAMES, 3, 1);
	json_t *doc = json_loads(manifest_doc, 0, NULL);
	struct manifest *m = NULL;
	struct manifest_eval *ev = NULL;
	char err[MANIFEST_ERR_MAX], line[2048];
	double v[MANIFEST_CHANNELS_MAX], sink = 0, ns, csv_ns;
	int reps = 5, rc = 1;
	int64_t t0;
	size_t have = 0, bytes = 0, ops = 0;

	if (!f || !doc || manifest_parse(doc, "bench", &m, err, sizeof err) < 0 ||
	    manifest_eval_new(m, &ev) < 0) {
		fprintf(stderr, "bench_manifest: setup failed: %s\n", m ? "" : err);
		goto out;
	}
	for (size_t i = 0; i < m->nchannels; i++)
		ops += expr_nops(m->ch[i].prog);
	for (size_t i = 0; i < 1000; i++) /* warm up */
		manifest_apply(ev, &f[i], v);
	t0 = clock_mono_ns();
	for (int r = 0; r < reps; r++) {
		manifest_eval_reset(ev);
		for (size_t i = 0; i < NFRAMES; i++) {
			have += manifest_apply(ev, &f[i], v);
			sink += v[3];
		}
	}
	ns = (double)(clock_mono_ns() - t0) / ((double)NFRAMES * reps);
	t0 = clock_mono_ns();
	for (size_t i = 0; i < NFRAMES; i++) {
		manifest_apply(ev, &f[i], v);
		bytes += manifest_csv_cells(m, v, line, sizeof line);
	}
	csv_ns = (double)(clock_mono_ns() - t0) / NFRAMES - ns;
	printf("manifest of %zu formulas (%zu inputs, %zu ops): %.0f ns per frame applied, "
	       "%.1f of %zu values per frame; their CSV cells %.0f ns more (%.0f bytes)  %s\n",
	       m->nchannels, m->ninputs, ops, ns, (double)have / ((double)NFRAMES * reps),
	       m->nchannels, csv_ns, (double)bytes / NFRAMES,
	       ns < TARGET_NS ? "ok" : "OVER TARGET");
	rc = sink == 12345.678; /* keeps the loop; never true */
out:
	manifest_eval_free(ev);
	manifest_free(m);
	json_decref(doc);
	free(f);
	return rc;
}
