/*
 * bench_decode.c - decode cost per packet for every format (target < 200 ns).
 *
 * Packets come from the encoders (one simulated lap's worth of varied
 * frames) and from the real captures in tests/data; each set is decoded
 * repeatedly through one decoder state, the way pw-capture does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/decoder.h"
#include "capture/rawsplit.h"
#include "capture/sim/encoder.h"
#include "common/clock.h"

#define MAX_PKTS 4096
#define TARGET_NS 200.0

struct pktset {
	uint8_t *buf;
	size_t used, cap;
	size_t off[MAX_PKTS], len[MAX_PKTS];
	int n;
};

static void collect(void *ctx, const uint8_t *b, size_t len)
{
	struct pktset *ps = ctx;

	if (ps->n == MAX_PKTS)
		return;
	if (ps->used + len > ps->cap) {
		ps->cap = (ps->used + len) * 2;
		ps->buf = realloc(ps->buf, ps->cap);
	}
	memcpy(ps->buf + ps->used, b, len);
	ps->off[ps->n] = ps->used;
	ps->len[ps->n++] = len;
	ps->used += len;
}

static int failures;

static double run(const char *label, const struct decoder *dec, struct pktset *ps)
{
	struct dec_state *st = calloc(1, sizeof *st);
	struct pw_frame f;
	long reps = 2000000 / (ps->n ? ps->n : 1) + 1, frames = 0, total = 0;
	int64_t t0;
	double ns;

	for (int i = 0; i < ps->n; i++) /* warm up: metadata, carry */
		dec->decode(st, ps->buf + ps->off[i], ps->len[i], &f);
	t0 = clock_mono_ns();
	for (long r = 0; r < reps; r++)
		for (int i = 0; i < ps->n; i++) {
			frames +=
				dec->decode(st, ps->buf + ps->off[i], ps->len[i], &f) == DEC_FRAME;
			st->out_len = 0;
			total++;
		}
	ns = (double)(clock_mono_ns() - t0) / (double)total;
	printf("decode %-22s %8.1f ns/packet  (%ld packets, %ld frames)  %s\n", label, ns, total,
	       frames, ns < TARGET_NS ? "ok" : "OVER TARGET");
	failures += ns >= TARGET_NS;
	free(st);
	return ns;
}

static void from_encoder(const struct encoder *e)
{
	struct pktset ps = { 0 };
	struct enc_state *es = calloc(1, sizeof *es);
	struct pw_meta m = { 0 };
	char label[64];

	snprintf(m.car, sizeof m.car, "%s", "bench_car");
	snprintf(m.track, sizeof m.track, "%s", "bench_ring");
	snprintf(m.driver, sizeof m.driver, "%s", "Bench");
	m.track_len_m = 4000;
	for (int t = 0; t < 600 && ps.n < MAX_PKTS - 16; t++) {
		struct pw_frame f;
		frame_init(&f, PW_GAME_UNKNOWN, PW_FEED_NONE);
		f.present = ~0ull >> (64 - FRAME_P_COUNT);
		f.speed_kmh = 80 + t % 150;
		f.rpm = 3000 + (t * 37) % 5000;
		f.gear = (int8_t)(1 + t % 6);
		f.throttle = (float)(t % 10) / 10;
		f.lap = (uint16_t)(t / 300);
		f.lap_time_ms = t * 16;
		f.spline = (float)(t % 300) / 300;
		f.pos_m[0] = (float)t;
		f.pos_m[2] = (float)-t;
		f.num_gears = 6;
		f.max_rpm = 8000;
		f.track_len_m = 4000;
		f.game_time_s = t / 60.0;
		e->encode(es, &f, &m, collect, &ps);
		es->tick++;
	}
	snprintf(label, sizeof label, "%s/%s", e->feed, e->format);
	run(label, dec_find(e->feed), &ps);
	free(ps.buf);
	free(es);
}

static void from_raw(const char *feed, const char *path)
{
	struct pktset ps = { 0 };
	struct rawsplit rs;
	FILE *f = fopen(path, "rb");
	uint8_t *all;
	long size;
	size_t off = 0;
	char label[64];

	if (!f) {
		printf("decode %s: %s missing, skipped\n", feed, path);
		return;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	all = malloc((size_t)size);
	if (fread(all, 1, (size_t)size, f) != (size_t)size)
		size = 0;
	fclose(f);
	rawsplit_init(&rs, feed, (size_t)size);
	while (off < (size_t)size && ps.n < MAX_PKTS) {
		size_t n = rawsplit_next(&rs, all + off, (size_t)size - off);
		if (!n)
			break;
		collect(&ps, all + off, n);
		off += n;
	}
	snprintf(label, sizeof label, "%s (real capture)", feed);
	run(label, dec_find(feed), &ps);
	free(ps.buf);
	free(all);
}

int main(void)
{
	for (const struct encoder *const *e = enc_all(); *e; e++)
		from_encoder(*e);
	from_raw("ksudp", "tests/data/ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.raw");
	from_raw("pcars", "tests/data/pcars1/vthinsel_pcars_v1_session2.raw");
	return failures ? 1 : 0;
}
