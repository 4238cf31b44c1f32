/*
 * test_analysis_needs.c - job_needs (common/job.h): every analysis
 * gives exactly the same result (or the same failure) on frames that hold
 * only what it says it reads as on whole frames. The frames it is given
 * come the way a job's do: written to a frame file and loaded as the
 * columns job_needs names (framefile_load_cols); each analysis then runs on
 * them as columns (struct an_run's cols: the general analysis reads them a
 * window at a time, the others get whole frames made of them) and on whole
 * frames made from them with everything else zero (framecols_rows), and,
 * as a worker that reads the run's file does, in two passes: the columns
 * job_needs_split reads over every frame, the rest added for the frames the
 * laps span (framefile_load_cols_range behind struct an_run's more).
 *
 * Inputs: pw-sim's modes at 333 Hz (laps, pulls, cornering, the left and
 * right boundaries) with every channel; the same laps through the F1,
 * Forza, ACC and PCARS encoders and pw-capture's decoders (each game's own
 * presence mask, derived channels); the real Assetto Corsa capture
 * (tests/data/ac_remote). Each use case runs on each input it reads, the
 * general analysis also with a track model built from the boundary runs.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/analysis.h"
#include "capture/decoder.h"
#include "capture/sim/driver.h"
#include "capture/sim/encoder.h"
#include "common/derive.h"
#include "common/framefile.h"
#include "common/pcap.h"
#include "tests/unit/t.h"

#define RATE_HZ 333.0
#define AC_PCAP "ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap"

static char tmpdir[64];

struct frames {
	struct pw_frame *f;
	size_t n;
};

static struct frames sim(enum driver_mode mode, double seconds, uint64_t seed)
{
	struct track *t = track_new();
	struct driver *d = t ? driver_new(mode, seed, car_default(), t) : NULL;
	struct frames r = { 0 };
	size_t n = (size_t)(seconds * RATE_HZ);

	r.f = d ? calloc(n, sizeof *r.f) : NULL;
	for (size_t k = 0; r.f && k < n; k++) {
		driver_run_to(d, (int64_t)((double)k * 1000.0 / RATE_HZ + 0.5));
		driver_frame(d, &r.f[k]);
		r.f[k].seq = 1 + k;
		r.f[k].t_ns = 1750000000000000000ll + (int64_t)((double)k * 1e9 / RATE_HZ);
		r.f[k].game = PW_GAME_AC;
		r.f[k].feed = PW_FEED_KSUDP;
	}
	r.n = r.f ? n : 0;
	driver_free(d);
	track_free(t);
	return r;
}

/* src through a game's encoder and pw-capture's decoder, derived channels added. */
static struct dec_state dec_st;
static struct frames fed;
static const struct decoder *fed_dec;
static struct derive *fed_derive;

static void fed_emit(void *ctx, const uint8_t *buf, size_t len)
{
	struct pw_frame f;

	(void)ctx;
	if (fed_dec->decode(&dec_st, buf, len, &f) != DEC_FRAME)
		return;
	f.seq = fed.n + 1;
	f.t_ns = 1750000000000000000ll + (int64_t)((double)fed.n * 1e9 / RATE_HZ);
	derive_frame(fed_derive, &f);
	fed.f[fed.n++] = f;
}

static struct frames through(const char *feed, const struct frames *src)
{
	const struct encoder *e = enc_find(feed, NULL);
	struct enc_state *es = calloc(1, sizeof *es);
	struct pw_meta m = { 0 };

	fed = (struct frames){ calloc(2 * src->n + 16, sizeof(struct pw_frame)), 0 };
	fed_dec = dec_find(feed);
	fed_derive = derive_new(0.5);
	dec_reset(&dec_st);
	snprintf(m.track, sizeof m.track, "emulated");
	for (size_t k = 0; e && es && fed.f && fed_dec && k < src->n; k++) {
		struct pw_frame x = src->f[k];

		x.game = e->game;
		x.feed = fed_dec->feed_id;
		e->encode(es, &x, &m, fed_emit, NULL);
	}
	derive_free(fed_derive);
	free(es);
	return fed;
}

static struct frames real_ac(void)
{
	struct pcap_reader *r;
	struct pcap_pkt p;
	struct frames out = { calloc(16384, sizeof(struct pw_frame)), 0 };

	dec_reset(&dec_st);
	if (!out.f || pcap_open(&r, t_data_path(AC_PCAP)) < 0)
		return out;
	while (out.n < 16384 && pcap_next(r, &p) == 1)
		if (dec_ksudp.decode(&dec_st, p.data, p.len, &out.f[out.n]) == DEC_FRAME) {
			out.f[out.n].seq = 1 + out.n;
			out.f[out.n].t_ns = p.t_ns;
			out.n++;
		}
	pcap_close(r);
	return out;
}

/* What a job's worker gets: written to path, loaded as the columns the use
 * case reads, or (split) as those it reads over every frame, the rest left
 * for the second pass (job_needs_split). 0, or -1 with c zeroed. */
static int as_job_cols(const struct frames *in, const char *use_case, const char *path, int split,
		       struct framecols *c)
{
	struct framefile_hdr h = { 0 };
	struct framefile_writer *w = NULL;
	struct framefile_info info;
	uint64_t channels, per_lap;
	unsigned parts;
	int ok;

	memset(c, 0, sizeof *c);
	snprintf(h.feed, sizeof h.feed, "ksudp");
	snprintf(h.run_id, sizeof h.run_id, "needs");
	unlink(path);
	if (job_needs_split(use_case, &channels, &parts, &per_lap) < 0 ||
	    framefile_create(&w, path, &h) < 0)
		return -1;
	if (!split)
		channels |= per_lap;
	if (framefile_append(w, in->f, in->n) < 0 || framefile_close(w) < 0)
		return -1;
	ok = framefile_load_cols(path, channels, parts, c, &info) == 0 && c->n == in->n;
	if (!ok)
		framecols_free(c);
	return ok ? 0 : -1;
}

/* The second pass of a split run, as pw-analyze's: its file's other channels. */
struct second {
	char path[128];
	uint64_t per_lap;
	struct framecols *c, aside;
	struct an_more more;
	size_t calls, frames, adopted;
};

static int second_load(void *ctx, size_t first, size_t count)
{
	struct second *s = ctx;
	int rc = framecols_aside(&s->aside, s->c);

	s->calls++;
	s->frames += count;
	return rc < 0 ? rc
		      : framefile_load_cols_range(s->path, s->per_lap, first, count, &s->aside);
}

static void second_adopt(void *ctx)
{
	struct second *s = ctx;

	s->adopted++;
	framecols_take(s->c, &s->aside);
}

/* One result as text (NULL: the error), for comparing and showing. */
static char *show(const json_t *res, const struct an_err *e)
{
	char *t = res ? json_dumps(res, JSON_COMPACT) : NULL;

	if (!t && (t = malloc(300)))
		snprintf(t, 300, "error %s: %s", e->code ? e->code : "?", e->message);
	return t;
}

/* Run the use case on runs (labels given) whole, as job columns, as whole
 * frames made from those, and as columns read in two passes (what a worker
 * that reads the runs' files does); 1 when all four are alike. */
static int same_result(const char *use_case, const struct frames *runs, const char *const *labels,
		       size_t nruns, const json_t *model, const char *what)
{
	struct an_run whole[4], cols[4], rows[4], two[4];
	struct framecols c[4], c2[4];
	struct second sec[4];
	struct pw_frame *made[4] = { 0 };
	struct an_input in = { .session_id = "s",
			       .use_case = use_case,
			       .car_name = "car",
			       .game = "assetto_corsa",
			       .track = "emulated",
			       .nruns = nruns,
			       .track_model = model };
	struct an_err e[4];
	json_t *res[4];
	char *txt[4], path[128];
	uint64_t channels, per_lap;
	unsigned parts;
	size_t calls = 0, frames = 0, total = 0;
	int ok = job_needs_split(use_case, &channels, &parts, &per_lap) == 0;

	memset(c, 0, sizeof c);
	memset(c2, 0, sizeof c2);
	memset(e, 0, sizeof e);
	for (size_t i = 0; i < nruns; i++) {
		whole[i] = (struct an_run){ "run", "ksudp", labels[i], runs[i].f, runs[i].n, NULL };
		snprintf(path, sizeof path, "%s/run.frames", tmpdir);
		ok &= as_job_cols(&runs[i], use_case, path, 0, &c[i]) == 0 &&
		      (made[i] = malloc((runs[i].n + 1) * sizeof *made[i])) != NULL;
		if (made[i] && c[i].seq)
			framecols_rows(&c[i], 0, c[i].n, made[i]);
		cols[i] = (struct an_run){ "run", "ksudp", labels[i], NULL, runs[i].n, &c[i] };
		rows[i] = (struct an_run){ "run", "ksudp", labels[i], made[i], runs[i].n, NULL };
		sec[i] = (struct second){ .per_lap = per_lap, .c = &c2[i] };
		sec[i].more = (struct an_more){ second_load, second_adopt, &sec[i] };
		snprintf(sec[i].path, sizeof sec[i].path, "%s/run%zu.frames", tmpdir, i);
		ok &= as_job_cols(&runs[i], use_case, sec[i].path, 1, &c2[i]) == 0;
		two[i] = (struct an_run){ "run",
					  "ksudp",
					  labels[i],
					  NULL,
					  runs[i].n,
					  &c2[i],
					  per_lap ? &sec[i].more : NULL };
		total += runs[i].n;
	}
	in.runs = whole;
	res[0] = an_run_use_case(&in, &e[0]);
	in.runs = cols;
	res[1] = ok ? an_run_use_case(&in, &e[1]) : NULL;
	in.runs = rows;
	res[2] = ok ? an_run_use_case(&in, &e[2]) : NULL;
	in.runs = two;
	res[3] = ok ? an_run_use_case(&in, &e[3]) : NULL;
	for (int k = 0; k < 4; k++) {
		if (res[k]) /* a track model says when it was made: the second may differ */
			json_object_del(res[k], "created_at");
		txt[k] = show(res[k], &e[k]);
	}
	ok = ok && txt[0] && txt[1] && txt[2] && txt[3] && strcmp(txt[0], txt[1]) == 0 &&
	     strcmp(txt[0], txt[2]) == 0 && strcmp(txt[0], txt[3]) == 0 &&
	     (!res[0] || (json_equal(res[0], res[1]) && json_equal(res[0], res[2]) &&
			  json_equal(res[0], res[3])));
	for (size_t i = 0; i < nruns; i++) {
		calls += sec[i].calls;
		frames += sec[i].frames;
		ok &= sec[i].adopted == sec[i].calls; /* everything read aside moved in */
	}
	if (!ok)
		fprintf(stderr,
			"  %s on %s: whole %.300s | columns %.300s | rows %.300s | two passes "
			"%.300s\n",
			use_case, what, txt[0] ? txt[0] : "?", txt[1] ? txt[1] : "?",
			txt[2] ? txt[2] : "?", txt[3] ? txt[3] : "?");
	else
		fprintf(stderr,
			"  %s on %s: the same %s (second pass: %zu loads, %zu of %zu frames)\n",
			use_case, what, res[0] ? "result" : "failure", calls, frames, total);
	/* general's second pass runs once a run, when it found laps */
	ok &= !per_lap || !res[0] || calls == nruns;
	for (int k = 0; k < 4; k++) {
		json_decref(res[k]);
		free(txt[k]);
	}
	for (size_t i = 0; i < nruns; i++) {
		free(made[i]);
		framecols_free(&c[i]);
		framecols_free(&c2[i]);
		framecols_free(&sec[i].aside);
		unlink(sec[i].path);
	}
	snprintf(path, sizeof path, "%s/run.frames", tmpdir);
	unlink(path);
	return ok;
}

static const char *const one[] = { "" };

static void test_emulator(void)
{
	static const char *const lr[] = { "left", "right" };
	struct frames laps = sim(DRIVER_LAPS, 200, 3), pulls = sim(DRIVER_PULLS, 60, 4);
	struct frames corner = sim(DRIVER_CORNERING, 90, 5);
	struct frames bounds[2] = { sim(DRIVER_LEFT, 150, 6), sim(DRIVER_RIGHT, 150, 7) };
	struct an_input tin = { .session_id = "t",
				.use_case = "track_mapping",
				.game = "assetto_corsa",
				.track = "emulated",
				.nruns = 2 };
	struct an_run tr[2] = { { "l", "ksudp", "left", bounds[0].f, bounds[0].n },
				{ "r", "ksudp", "right", bounds[1].f, bounds[1].n } };
	struct an_err err;
	json_t *model;

	T_CHECK(laps.n && pulls.n && corner.n && bounds[0].n && bounds[1].n);
	tin.runs = tr;
	model = an_track_build(&tin, "assetto_corsa", "emulated", &err);
	T_CHECKF(model != NULL, "track build: %s", err.message);
	T_CHECK(same_result("general", &laps, one, 1, NULL, "emulator laps"));
	T_CHECK(same_result("general", &laps, one, 1, model, "emulator laps with a track model"));
	T_CHECK(same_result("shift_points", &pulls, one, 1, NULL, "emulator pulls"));
	T_CHECK(same_result("car_grip", &corner, one, 1, NULL, "emulator cornering"));
	T_CHECK(same_result("car_grip", &laps, one, 1, NULL, "emulator laps"));
	T_CHECK(same_result("track_mapping", bounds, lr, 2, NULL, "emulator boundaries"));
	json_decref(model);
	free(laps.f);
	free(pulls.f);
	free(corner.f);
	free(bounds[0].f);
	free(bounds[1].f);
}

static void test_games(void)
{
	static const char *const feeds[] = { "f1", "forza", "acc", "pcars", "ksudp" };
	static const char *const cases[] = { "general", "shift_points", "car_grip" };
	struct frames laps = sim(DRIVER_LAPS, 200, 8), pulls = sim(DRIVER_PULLS, 60, 9);

	for (size_t i = 0; i < sizeof feeds / sizeof *feeds; i++) {
		struct frames g = through(feeds[i], &laps), p = through(feeds[i], &pulls);
		char what[64];

		T_CHECKF(g.n > laps.n / 2 && p.n > pulls.n / 2, "%s: %zu, %zu frames", feeds[i],
			 g.n, p.n);
		for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
			snprintf(what, sizeof what, "%s laps", feeds[i]);
			T_CHECK(same_result(cases[k], &g, one, 1, NULL, what));
		}
		snprintf(what, sizeof what, "%s pulls", feeds[i]);
		T_CHECK(same_result("shift_points", &p, one, 1, NULL, what));
		free(g.f);
		free(p.f);
	}
	free(laps.f);
	free(pulls.f);
}

static void test_real_capture(void)
{
	static const char *const cases[] = { "general", "shift_points", "car_grip" };
	struct frames ac = real_ac();

	T_CHECKF(ac.n == 8641, "%zu frames from %s", ac.n, AC_PCAP);
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
		T_CHECK(same_result(cases[k], &ac, one, 1, NULL, "the real AC capture"));
	free(ac.f);
}

static void test_unknown(void)
{
	uint64_t ch = 7;
	unsigned parts = 7;

	T_CHECK(job_needs("drifting", &ch, &parts) == -EINVAL && ch == 7 && parts == 7);
	T_CHECK(job_needs(NULL, &ch, &parts) == -EINVAL);
	T_CHECK(job_needs("general", &ch, &parts) == 0 && (parts & FRAMECOLS_SEQ) &&
		(parts & FRAMECOLS_IDS) && (ch & FRAME_P_LAP));
}

/* The split of general's columns: the lap table's over every frame, the
 * engineer's others per lap, together job_needs's; the others not split. */
static void test_split(void)
{
	static const char *const cases[] = { "shift_points", "car_grip", "track_mapping" };
	uint64_t ch, first, per_lap = 7;
	unsigned parts, parts1;

	T_CHECK(job_needs_split(NULL, &first, &parts1, &per_lap) == -EINVAL && per_lap == 0);
	T_CHECK(job_needs("general", &ch, &parts) == 0 &&
		job_needs_split("general", &first, &parts1, &per_lap) == 0);
	T_CHECK((first | per_lap) == ch && (first & per_lap) == 0 && parts1 == parts);
	T_CHECK((first & FRAME_P_LAP) && (first & FRAME_P_POS) && (per_lap & FRAME_P_WHEEL_SPEED));
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		T_CHECK(job_needs(cases[i], &ch, &parts) == 0 &&
			job_needs_split(cases[i], &first, &parts1, &per_lap) == 0 && first == ch &&
			per_lap == 0);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/pw-test-needs-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_emulator);
	T_RUN(test_games);
	T_RUN(test_real_capture);
	T_RUN(test_unknown);
	T_RUN(test_split);
	rmdir(tmpdir);
	return T_DONE();
}
