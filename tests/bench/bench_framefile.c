/*
 * bench_framefile.c - frame files (common/framefile.h): persist rate, bytes
 * per stored frame of emulator runs of every feed, load times of a one-hour
 * run (whole frames, and the columns an analysis reads), scan time, the
 * cost of syncing once a second, and the codecs format 1 was chosen against.
 *
 * Targets (issue 14): <= 60 bytes per stored frame of an emulator run (each
 * feed: pw-sim's laps through the game's encoder and pw-capture's decoder,
 * with the derived channels, in the store's pattern of one block a second
 * at 333 Hz); a one-hour 333 Hz run (1.2 M frames) loaded in < 150 ms for
 * the channels the general analysis reads, in memory proportional to them;
 * >= 1,000,000 frames/s persisted (append + compress + write, one core). The
 * figures are printed, not asserted: the exit status is non-zero only when
 * something breaks (an API error or frames that do not come back byte for
 * byte).
 *
 * Frames:
 *   sim    pw-sim's driver (laps mode, 333 Hz, every channel with sensor
 *          noise); 6 simulated minutes, tiled to an hour with seq, t_ns and
 *          game time carried on (blocks are coded independently, so the
 *          repetition gains nothing). t_ns is the nominal receive time plus
 *          0..100 us of jitter, as a capture process would stamp it.
 *   ksudp  the same frames through enc_ksudp and dec_ksudp: what pw-capture
 *          stores from pw-sim's AC feed (only the channels AC sends).
 *   real   the real Assetto Corsa capture in tests/data/ac_remote decoded
 *          by dec_ksudp, with its recorded receive times (58 Hz).
 *
 * `bench_framefile --write PATH` only writes a one-hour sim run to PATH (the whole hour simulated: about 40 laps)
 * in the store's pattern (333 frames appended and synced at a time: one
 * block a second) and exits; `bench_framefile PATH` then measures its loads
 * (the export benchmarks, tests/bench/bench_export.c, read it too). Without
 * a PATH the run is written to a temporary directory first; `bench_framefile
 * --loads PATH` measures only the loads of the hour at PATH.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "capture/decoder.h"
#include "capture/sim/driver.h"
#include "capture/sim/encoder.h"
#include "common/clock.h"
#include "common/derive.h"
#include "common/framefile.h"
#include "common/job.h"
#include "common/pcap.h"

#define RATE_HZ 333.0
#define BASE_FRAMES 120000  /* 6 simulated minutes */
#define HOUR_FRAMES 1200000 /* one hour at 333 Hz */
#define CHUNK 333           /* frames per append: what the store drains per second */
#define SYNC_ROUNDS 60      /* one simulated minute of once-a-second syncs */
#define ALT_FRAMES 240000
#define REAL_CAPTURE "tests/data/ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap"

static char dir[64];
static int failed;

static double ms(int64_t ns)
{
	return (double)ns / 1e6;
}

/* CPU time, so figures taken on a busy machine can be told apart from the
 * code's own cost: this thread's, or the whole process's (load's helper). */
static int64_t cpu_ns(clockid_t which)
{
	struct timespec ts;

	clock_gettime(which, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void fail(const char *what, int rc)
{
	printf("framefile: %s failed: %s\n", what, strerror(rc < 0 ? -rc : rc));
	failed = 1;
}

/* Simulate f[0..n); returns -1 when the simulator cannot be built. */
static int sim_frames(struct pw_frame *f, size_t n)
{
	struct track *t = track_new();
	struct driver *d = t ? driver_new(DRIVER_LAPS, 42, car_default(), t) : NULL;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int64_t t0 = 1750000000000000000ll;

	if (!d) {
		track_free(t);
		return -1;
	}
	for (size_t k = 0; k < n; k++) {
		driver_run_to(d, (int64_t)((double)k * 1000.0 / RATE_HZ + 0.5));
		driver_frame(d, &f[k]);
		f[k].seq = 1000 + k;
		f[k].game = PW_GAME_AC;
		f[k].feed = PW_FEED_KSUDP;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		f[k].t_ns = t0 + (int64_t)((double)k * 1e9 / RATE_HZ) + (int64_t)(x % 100000);
	}
	driver_free(d);
	track_free(t);
	return 0;
}

/* Repeat the first base frames up to n, carrying seq and the clocks on. */
static void tile(struct pw_frame *f, size_t base, size_t n)
{
	for (size_t k = base; k < n; k++) {
		size_t rep = k / base;

		f[k] = f[k % base];
		f[k].seq += rep * base;
		f[k].t_ns += (int64_t)((double)(rep * base) * 1e9 / RATE_HZ);
		f[k].game_time_s += (double)(rep * base) / RATE_HZ;
	}
}

static struct dec_state dec_st;
static struct pw_frame decoded;
static int decoded_ok;

static void decode_emitted(void *ctx, const uint8_t *buf, size_t len)
{
	(void)ctx;
	decoded_ok = dec_ksudp.decode(&dec_st, buf, len, &decoded) == DEC_FRAME;
}

static size_t ksudp_frames(const struct pw_frame *in, size_t n, struct pw_frame *out)
{
	struct enc_state *es = calloc(1, sizeof *es);
	struct pw_meta m = { 0 };
	size_t k = 0;

	if (!es)
		return 0;
	dec_reset(&dec_st);
	for (size_t i = 0; i < n; i++) {
		decoded_ok = 0;
		enc_ksudp.encode(es, &in[i], &m, decode_emitted, NULL);
		if (!decoded_ok)
			continue;
		out[k] = decoded;
		out[k].seq = in[i].seq;
		out[k].t_ns = in[i].t_ns;
		k++;
	}
	free(es);
	return k;
}

static struct pw_frame *real_frames(size_t *n)
{
	struct pcap_reader *r;
	struct pcap_pkt p;
	struct pw_frame *f = NULL, *nf;
	size_t cap = 0;

	*n = 0;
	if (pcap_open(&r, REAL_CAPTURE) < 0)
		return NULL;
	dec_reset(&dec_st);
	while (pcap_next(r, &p) == 1) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 4096;
			if (!(nf = realloc(f, cap * sizeof *f)))
				break;
			f = nf;
		}
		if (dec_ksudp.decode(&dec_st, p.data, p.len, &f[*n]) != DEC_FRAME)
			continue;
		f[*n].seq = *n;
		f[*n].t_ns = p.t_ns;
		(*n)++;
	}
	pcap_close(r);
	return f;
}

static double json_bytes_per_frame(const struct pw_frame *f, size_t n)
{
	char buf[8192];
	size_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += frame_to_json(&f[i], buf, sizeof buf) + 1;
	return (double)total / (double)n;
}

static void path_for(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s.frames", dir, name);
}

/* Write n frames in appends of chunk, syncing every sync_every appends (0 =
 * once at the end). Times the appends and the syncs apart. */
static int64_t append_cpu_ns;

static int write_run(const char *path, const struct pw_frame *f, size_t n, size_t chunk,
		     int sync_every, int64_t *append_ns, int64_t *sync_ns, int64_t *sync_max_ns)
{
	struct framefile_hdr h = { .codec = BLOCKCODEC_PACK };
	struct framefile_writer *w;
	int64_t t0;
	int rc, rounds = 0;

	snprintf(h.feed, sizeof h.feed, "ksudp");
	snprintf(h.run_id, sizeof h.run_id, "bench");
	unlink(path);
	if ((rc = framefile_create(&w, path, &h)) < 0)
		return rc;
	*append_ns = *sync_ns = *sync_max_ns = append_cpu_ns = 0;
	for (size_t i = 0; i < n && rc == 0; i += chunk) {
		int64_t dt, c0 = cpu_ns(CLOCK_THREAD_CPUTIME_ID);

		t0 = clock_mono_ns();
		rc = framefile_append(w, f + i, n - i < chunk ? n - i : chunk);
		*append_ns += clock_mono_ns() - t0;
		append_cpu_ns += cpu_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		if (rc || !sync_every || ++rounds % sync_every)
			continue;
		t0 = clock_mono_ns();
		rc = framefile_sync(w);
		dt = clock_mono_ns() - t0;
		*sync_ns += dt;
		*sync_max_ns = dt > *sync_max_ns ? dt : *sync_max_ns;
	}
	t0 = clock_mono_ns();
	if (rc == 0)
		rc = framefile_sync(w);
	*sync_ns += clock_mono_ns() - t0;
	framefile_close(w);
	return rc;
}

static double file_bytes(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (double)st.st_size : 0.0;
}

/* Bytes per frame on disk against compact JSON lines for one set of frames. */
static void ratio(const char *name, const struct pw_frame *f, size_t n)
{
	char path[128];
	int64_t a, s, m;
	double disk, json;
	int rc;

	path_for(path, sizeof path, name);
	if ((rc = write_run(path, f, n, CHUNK, 0, &a, &s, &m)) < 0) {
		fail("write", rc);
		return;
	}
	disk = file_bytes(path) / (double)n;
	json = json_bytes_per_frame(f, n);
	printf("framefile size %-5s (%7zu frames): %6.1f bytes/frame on disk, JSON lines %6.1f "
	       "bytes/frame, %.1fx smaller  %s\n",
	       name, n, disk, json, json / disk, json / disk >= 5.0 ? "ok" : "MISSED TARGET");
	unlink(path);
}

/* Persisting: append + compress + write of the hour, one core, no syncs. */
static void persist(const struct pw_frame *f, size_t n)
{
	char path[128];
	int64_t a, s, m;
	double rate;
	int rc;

	path_for(path, sizeof path, "persist");
	if ((rc = write_run(path, f, n, CHUNK, 0, &a, &s, &m)) < 0) {
		fail("persist", rc);
		return;
	}
	rate = (double)n / ((double)a / 1e9);
	printf("framefile persist: %zu frames in %.0f ms = %.2f M frames/s (%.0f ns/frame) "
	       "append+compress+write, one core; CPU %.0f ms = %.2f M frames/s per CPU second  %s\n",
	       n, ms(a), rate / 1e6, (double)a / (double)n, ms(append_cpu_ns),
	       (double)n / ((double)append_cpu_ns / 1e9) / 1e6,
	       rate >= 1e6 ? "ok" : "UNDER TARGET");
	printf("framefile persist incl. the final fdatasync (%.0f ms): %.2f M frames/s; "
	       "%.1f MB file\n",
	       ms(s), (double)n / ((double)(a + s) / 1e9) / 1e6, file_bytes(path) / 1e6);
	unlink(path);
}

/* Evict a synced file's pages from the page cache. */
static int drop_cache(const char *path)
{
	int fd = open(path, O_RDONLY), rc;

	if (fd < 0)
		return -errno;
	rc = -posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	return rc;
}

/* One column load of path: wall and CPU time, memory; the best of 3 warm runs. */
static void cols_load(const char *path, const char *what, uint64_t channels, unsigned parts,
		      double target_ms, size_t want)
{
	struct framefile_info info;
	struct framecols c;
	int64_t best = INT64_MAX, best_cpu = 0;
	size_t bytes = 0, n = 0;

	for (int k = 0; k < 3; k++) {
		int64_t t0 = clock_mono_ns(), c0 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID), dt;
		int rc = framefile_load_cols(path, channels, parts, &c, &info);

		dt = clock_mono_ns() - t0;
		if (rc < 0 || c.n != want) {
			fail("column load", rc < 0 ? rc : -EIO);
			framecols_free(&c);
			return;
		}
		if (dt < best) {
			best = dt;
			best_cpu = cpu_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
		}
		bytes = framecols_bytes(&c);
		n = c.n;
		framecols_free(&c);
	}
	printf("framefile load of the hour, %s: %zu frames in %.0f ms (CPU %.0f ms), %.0f MB in "
	       "memory (%.0f bytes/frame)  %s\n",
	       what, n, ms(best), ms(best_cpu), (double)bytes / 1e6, (double)bytes / (double)n,
	       target_ms == 0         ? "(informational)"
	       : ms(best) < target_ms ? "ok"
				      : "OVER TARGET");
}

/*
 * The loads of the one-hour run at path (n frames, the store's pattern):
 * the columns the general analysis reads (the target), one channel, whole
 * frames, the same columns with the file's pages dropped first, and a scan.
 */
static void hour_loads(const char *path, size_t n)
{
	struct framefile_info info;
	struct pw_frame *back = NULL;
	uint64_t channels;
	unsigned parts;
	size_t nb = 0;
	int64_t t0, dt, c0;
	int rc;

	char what[128];

	job_needs("general", &channels, &parts);
	snprintf(what, sizeof what,
		 "the general analysis's %d channels and %d head parts "
		 "(target < 150 ms)",
		 __builtin_popcountll(channels), __builtin_popcount(parts));
	cols_load(path, what, channels, parts, 150.0, n);
	{ /* what a worker reading the file loads over every frame (the rest per lap) */
		uint64_t first, per_lap;

		job_needs_split("general", &first, &parts, &per_lap);
		snprintf(what, sizeof what,
			 "the general analysis's first pass (%d channels over every frame; its "
			 "other %d over the laps only)",
			 __builtin_popcountll(first), __builtin_popcountll(per_lap));
		cols_load(path, what, first, parts, 0, n);
	}
	cols_load(path, "speed_kmh alone", FRAME_P_SPEED, 0, 0, n);
	if (drop_cache(path) == 0) {
		struct framecols c;

		t0 = clock_mono_ns();
		rc = framefile_load_cols(path, channels, parts, &c, &info);
		dt = clock_mono_ns() - t0;
		if (rc < 0)
			fail("cold column load", rc);
		else
			printf("framefile load of the hour, the general analysis's columns, from disk "
			       "(page cache dropped): %.0f ms\n",
			       ms(dt));
		framecols_free(&c);
	}

	c0 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
	t0 = clock_mono_ns();
	rc = framefile_load(path, &back, &nb, &info);
	dt = clock_mono_ns() - t0;
	c0 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
	if (rc < 0 || nb != n)
		fail("load", rc < 0 ? rc : -EIO);
	else
		printf("framefile load of the hour, whole frames: %zu frames (%.0f MB in memory) in "
		       "%.0f ms (CPU %.0f ms over both threads)  (informational)\n",
		       nb, (double)nb * FRAME_SIZE / 1e6, ms(dt), ms(c0));
	free(back);

	t0 = clock_mono_ns();
	rc = framefile_scan(path, &info);
	dt = clock_mono_ns() - t0;
	if (rc < 0 || info.frames != n)
		fail("scan", rc);
	else
		printf("framefile scan of the hour: %llu frames, %llu blocks, every CRC checked, in %.1f "
		       "ms; %.1f bytes/frame\n",
		       (unsigned long long)info.frames, (unsigned long long)info.blocks, ms(dt),
		       (double)info.file_bytes / (double)n);
}

/* --- bytes per stored frame of emulator runs --- */

static struct dec_state em_st;
static const struct decoder *em_dec;
static struct derive *em_derive;
static struct pw_frame *em_out;
static size_t em_n;
static uint64_t em_rng = 0x9e3779b97f4a7c15ull;

static void em_emit(void *ctx, const uint8_t *buf, size_t len)
{
	struct pw_frame f;

	(void)ctx;
	if (em_dec->decode(&em_st, buf, len, &f) != DEC_FRAME)
		return;
	em_rng ^= em_rng << 13;
	em_rng ^= em_rng >> 7;
	em_rng ^= em_rng << 17;
	f.seq = 1000 + em_n;
	/* the receive time pw-capture stamps: nominal plus 0..100 us */
	f.t_ns = 1750000000000000000ll + (int64_t)((double)em_n * 1e9 / RATE_HZ) +
		 (int64_t)(em_rng % 100000);
	derive_frame(em_derive, &f);
	em_out[em_n++] = f;
}

/* Bytes per frame of f[0..n) written as the store writes a 333 Hz run:
 * 333 frames appended and synced at a time, in format fmt. */
static double store_bytes(const char *name, const struct pw_frame *f, size_t n, unsigned fmt)
{
	struct framefile_hdr h = { .format_version = fmt, .codec = BLOCKCODEC_PACK };
	struct framefile_writer *w;
	char path[128];
	double b;
	int rc;

	path_for(path, sizeof path, name);
	snprintf(h.feed, sizeof h.feed, "ksudp");
	snprintf(h.run_id, sizeof h.run_id, "bench");
	unlink(path);
	if ((rc = framefile_create(&w, path, &h)) < 0) {
		fail("create", rc);
		return 0;
	}
	for (size_t i = 0; i < n && rc == 0; i += CHUNK) {
		rc = framefile_append(w, f + i, n - i < CHUNK ? n - i : CHUNK);
		if (rc == 0)
			rc = framefile_sync(w);
	}
	rc = framefile_close(w) < 0 && rc == 0 ? -EIO : rc;
	if (rc < 0)
		fail("write", rc);
	b = file_bytes(path) / (double)n;
	unlink(path);
	return b;
}

/*
 * Every encoder's emulator run: pw-sim's laps (2 minutes at 333 Hz) through
 * the game's encoder and pw-capture's decoder, derived channels as the
 * capture adds them, stored as the store stores a run.
 */
static void emulator_sizes(const struct pw_frame *sim, size_t n)
{
	double worst = 0;

	em_out = malloc(2 * n * sizeof *em_out);
	for (const struct encoder *const *e = enc_all(); em_out && *e; e++) {
		struct enc_state *es = calloc(1, sizeof *es);
		struct pw_meta m = { 0 };
		double v2, v1;

		em_dec = dec_find((*e)->feed);
		em_derive = derive_new(0.5);
		em_n = 0;
		dec_reset(&em_st);
		snprintf(m.track, sizeof m.track, "emulated");
		for (size_t k = 0; es && em_dec && k < n; k++) {
			struct pw_frame x = sim[k];

			x.game = (*e)->game;
			x.feed = em_dec->feed_id;
			(*e)->encode(es, &x, &m, em_emit, NULL);
		}
		derive_free(em_derive);
		free(es);
		if (em_n < n / 2) {
			printf("framefile emulator run %s %s: only %zu frames decoded  FAILED\n",
			       (*e)->feed, (*e)->format, em_n);
			failed = 1;
			continue;
		}
		v2 = store_bytes("em2", em_out, em_n, 2);
		v1 = store_bytes("em1", em_out, em_n, 1);
		worst = v2 > worst ? v2 : worst;
		printf("framefile bytes per stored frame, emulator run %-5s %-10s: %5.1f (format 1: "
		       "%5.1f)  %s\n",
		       (*e)->feed, (*e)->format, v2, v1, v2 <= 60 ? "ok" : "OVER TARGET");
	}
	printf("framefile bytes per stored frame, emulator runs of every game: at most %.1f  %s\n",
	       worst, worst <= 60 ? "ok" : "OVER TARGET");
	free(em_out);
}

/*
 * pw-sim's own frames carry every channel with uniform sensor noise; the
 * noise alone is this many bits a frame that no lossless coder can drop:
 * log2 of the noise's width in units of the float's last place, summed.
 */
static double noise_floor_bytes(const struct pw_frame *f, size_t n)
{
	static const struct {
		size_t off;
		unsigned count;
		double amp;
	} noisy[] = {
		{ offsetof(struct pw_frame, steer_deg), 1, 0.05 },
		{ offsetof(struct pw_frame, speed_kmh), 1, 0.05 },
		{ offsetof(struct pw_frame, vel_ms), 3, 0.01 },
		{ offsetof(struct pw_frame, accel_lat_g), 3, 0.003 },
		{ offsetof(struct pw_frame, pos_m), 1, 0.01 },
		{ offsetof(struct pw_frame, pos_m) + 8, 1, 0.01 },
		{ offsetof(struct pw_frame, yaw_rad), 1, 0.001 },
		{ offsetof(struct pw_frame, pitch_rad), 2, 0.0005 },
		{ offsetof(struct pw_frame, rpm), 1, 3.0 },
		{ offsetof(struct pw_frame, tyre_temp_c), 4, 0.05 },
		{ offsetof(struct pw_frame, tyre_press_kpa), 4, 0.05 },
		{ offsetof(struct pw_frame, brake_temp_c), 4, 0.2 },
		{ offsetof(struct pw_frame, tyre_load_n), 4, 5.0 },
	};
	double bits = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof noisy / sizeof *noisy; k++)
			for (unsigned j = 0; j < noisy[k].count; j++) {
				float v;
				double ulp, b;

				memcpy(&v, (const uint8_t *)&f[i] + noisy[k].off + 4 * j, 4);
				ulp = (double)nextafterf(fabsf(v), INFINITY) - fabsf(v);
				b = log2(2 * noisy[k].amp / ulp);
				bits += b > 0 ? b : 0;
			}
	return bits / 8 / (double)n;
}

/* The store's pattern: 333 frames appended and synced once a second. */
static void sync_each_second(const struct pw_frame *f)
{
	size_t n = CHUNK * SYNC_ROUNDS;
	char path[128];
	int64_t a, s, m;
	int rc;

	path_for(path, sizeof path, "synced");
	if ((rc = write_run(path, f, n, CHUNK, 1, &a, &s, &m)) < 0) {
		fail("synced write", rc);
		return;
	}
	printf("framefile sync once a second (%d x %d frames): %.1f bytes/frame on disk, "
	       "fdatasync mean %.2f ms, max %.2f ms\n",
	       SYNC_ROUNDS, CHUNK, file_bytes(path) / (double)n, ms(s) / (SYNC_ROUNDS + 1), ms(m));
	unlink(path);
}

/* --- the alternatives: zstd level 1 on raw frames and on XOR'd byte planes --- */

struct alt {
	const char *name;
	size_t bytes;
	int64_t enc_ns, dec_ns;
};

static void planes_encode(const uint8_t *in, size_t n, uint8_t *planes)
{
	for (size_t j = 0; j < FRAME_SIZE; j++) {
		uint8_t prev = 0;

		for (size_t i = 0; i < n; i++) {
			uint8_t b = in[i * FRAME_SIZE + j];

			planes[j * n + i] = b ^ prev;
			prev = b;
		}
	}
}

static void planes_decode(const uint8_t *planes, size_t n, uint8_t *out)
{
	for (size_t j = 0; j < FRAME_SIZE; j++) {
		uint8_t prev = 0;

		for (size_t i = 0; i < n; i++) {
			prev ^= planes[j * n + i];
			out[i * FRAME_SIZE + j] = prev;
		}
	}
}

static int alt_block(struct alt *a, int shuffle, const uint8_t *in, size_t n, uint8_t *tmp,
		     uint8_t *z, size_t zcap, uint8_t *back)
{
	size_t raw = n * FRAME_SIZE, zn, dn;
	int64_t t0 = clock_mono_ns();
	const uint8_t *src = in;

	if (shuffle) {
		planes_encode(in, n, tmp);
		src = tmp;
	}
	zn = ZSTD_compress(z, zcap, src, raw, 1);
	a->enc_ns += clock_mono_ns() - t0;
	if (ZSTD_isError(zn))
		return -1;
	a->bytes += zn;
	t0 = clock_mono_ns();
	dn = ZSTD_decompress(shuffle ? tmp : back, raw, z, zn);
	if (shuffle && !ZSTD_isError(dn))
		planes_decode(tmp, n, back);
	a->dec_ns += clock_mono_ns() - t0;
	return ZSTD_isError(dn) || dn != raw || memcmp(back, in, raw) ? -1 : 0;
}

static void alternatives(const struct pw_frame *f, size_t n)
{
	struct alt alts[2] = { { "zstd -1 on raw frames", 0, 0, 0 },
			       { "XOR + byte planes + zstd -1", 0, 0, 0 } };
	size_t raw = FRAMEFILE_BLOCK_FRAMES * FRAME_SIZE, zcap = ZSTD_compressBound(raw);
	uint8_t *tmp = malloc(raw), *z = malloc(zcap), *back = malloc(raw);

	for (size_t i = 0; tmp && z && back && i + FRAMEFILE_BLOCK_FRAMES <= n;
	     i += FRAMEFILE_BLOCK_FRAMES)
		for (int k = 0; k < 2; k++)
			if (alt_block(&alts[k], k, (const uint8_t *)(f + i), FRAMEFILE_BLOCK_FRAMES,
				      tmp, z, zcap, back) < 0) {
				fail("alternative codec round trip", -EIO);
				goto out;
			}
	n = n / FRAMEFILE_BLOCK_FRAMES * FRAMEFILE_BLOCK_FRAMES;
	for (int k = 0; k < 2; k++)
		printf("framefile alternative %-28s: %6.1f bytes/frame, compress %4.0f ns/frame, "
		       "decompress %4.0f ns/frame (1024-frame blocks, sim frames)\n",
		       alts[k].name, (double)alts[k].bytes / (double)n,
		       (double)alts[k].enc_ns / (double)n, (double)alts[k].dec_ns / (double)n);
out:
	free(tmp);
	free(z);
	free(back);
}

/* The one-hour run into path, for other benchmarks (the exports, the general analysis end
 * to end): the whole hour simulated, about 40 laps a driver drove one after the other, not
 * the tiled minutes, whose repeated lap numbers leave the lap tracker 4 laps at the end. */
static int write_hour(const char *path)
{
	struct pw_frame *hour = calloc(HOUR_FRAMES, sizeof *hour);
	int64_t a, s, m;
	int rc;

	if (!hour || sim_frames(hour, HOUR_FRAMES) < 0) {
		fprintf(stderr, "bench_framefile: out of memory\n");
		free(hour);
		return 1;
	}
	rc = write_run(path, hour, HOUR_FRAMES, CHUNK, 1, &a, &s, &m); /* a block a second */
	free(hour);
	if (rc < 0) {
		fprintf(stderr, "bench_framefile: %s: %s\n", path, strerror(-rc));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct pw_frame *hour, *ks, *real;
	size_t nks, nreal;
	char hour_path[256];
	int64_t t0 = clock_mono_ns();

	if (argc == 3 && strcmp(argv[1], "--write") == 0)
		return write_hour(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--loads") == 0) { /* the hour's loads alone */
		hour_loads(argv[2], HOUR_FRAMES);
		return failed;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: bench_framefile [PATH] | --write PATH | --loads PATH\n"
				"(see the top of tests/bench/bench_framefile.c)\n");
		return 2;
	}

	snprintf(dir, sizeof dir, "/tmp/pw-bench-framefile-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	hour = calloc(HOUR_FRAMES, sizeof *hour);
	ks = malloc(BASE_FRAMES * sizeof *ks);
	if (!hour || !ks || sim_frames(hour, BASE_FRAMES) < 0) {
		fprintf(stderr, "bench_framefile: out of memory\n");
		return 1;
	}
	tile(hour, BASE_FRAMES, HOUR_FRAMES);
	printf("framefile frames: %d simulated (%.1f s to generate), tiled to %d = 1 h at 333 Hz\n",
	       BASE_FRAMES, ms(clock_mono_ns() - t0) / 1e3, HOUR_FRAMES);

	persist(hour, HOUR_FRAMES);
	emulator_sizes(hour, 40000);
	ratio("sim", hour, BASE_FRAMES);
	printf("framefile sim frames (every channel with uniform sensor noise): the noise alone is "
	       "%.1f bytes/frame of entropy, a floor below any lossless coder  (informational)\n",
	       noise_floor_bytes(hour, BASE_FRAMES));
	nks = ksudp_frames(hour, BASE_FRAMES, ks);
	if (nks)
		ratio("ksudp", ks, nks);
	if ((real = real_frames(&nreal)) && nreal)
		ratio("real", real, nreal);
	else
		printf("framefile size real: %s not readable, skipped\n", REAL_CAPTURE);
	sync_each_second(hour);
	alternatives(hour, ALT_FRAMES);
	free(ks);
	free(real);

	/* the hour as the store writes it: the given file, or one written here */
	if (argc == 2) {
		snprintf(hour_path, sizeof hour_path, "%s", argv[1]);
	} else {
		int64_t a, s, m;

		path_for(hour_path, sizeof hour_path, "hour");
		if (write_run(hour_path, hour, HOUR_FRAMES, CHUNK, 1, &a, &s, &m) < 0)
			fail("write the hour", -EIO);
	}
	free(hour);
	hour_loads(hour_path, HOUR_FRAMES);
	if (argc != 2)
		unlink(hour_path);
	rmdir(dir);
	return failed;
}
