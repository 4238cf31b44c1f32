/*
 * fuzz_merge.c - fuzz target for the feed merger (store/merge.c), checked
 * against a direct, offline implementation of the rules in merge.h.
 *
 * Input: byte 0 picks the number of sources, bytes 1..3 window, gap and lag
 * (small times in ns, so that frames collide often); then a program of
 * operations: push a frame (time step, presence mask, flags, seq repeat,
 * out-of-order step), repeat a frame, pop, advance, burst (dense frames until
 * the queue is full), extreme timestamps, early flush. At the end: flush and
 * pop everything.
 *
 * The oracle keeps every frame merge_push took and computes, from that set
 * alone, which frames are timeline frames and what each fused frame must be
 * byte for byte; the streamed output must equal it whatever the interleaving
 * of pushes and pops. Also checked: the horizon, modelled from rule 4, after
 * every call; every push result (DUP / LATE predicted from the source's
 * previous frame and the horizon),
 * strictly increasing output t_ns, the FULL protocol (pop until 0, push again:
 * taken within two rounds), queues never above MERGE_QUEUE_MAX and the final
 * counters. abort() on any mismatch.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_TAKEN 12000
#define BURST_FRAMES (MERGE_QUEUE_MAX + 200)

/* Bytes of each channel, from the channel table (test_frame checks the table itself). */
#define F(id, field, ...) \
	{ FRAME_P_##id, offsetof(struct pw_frame, field), sizeof(((struct pw_frame *)0)->field) },
static const struct {
	uint64_t bit;
	size_t off, len;
} chans[] = { FRAME_CHANNELS(F) };
#undef F

/* The 8 presence bits a mask byte selects: scalars, arrays, ints of each size. */
static const uint64_t mask_bits[8] = {
	FRAME_P_GAME_TIME, FRAME_P_THROTTLE,     FRAME_P_GEAR,     FRAME_P_VEL,
	FRAME_P_LAP,       FRAME_P_SECTOR_TIMES, FRAME_P_POSITION, FRAME_P_TYRE_TEMP,
};
#define UNKNOWN_BIT (1ull << 50)

struct taken {
	struct pw_frame f;
	bool timeline, lent;
};

struct run {
	const uint8_t *p;
	size_t n, i;
	struct merge *m;
	struct merge_params prm;
	struct taken *tk[MERGE_SOURCES_MAX];
	size_t ntk[MERGE_SOURCES_MAX], captk[MERGE_SOURCES_MAX];
	size_t total;
	int64_t cur[MERGE_SOURCES_MAX];
	uint64_t seq[MERGE_SOURCES_MAX];
	bool has_last[MERGE_SOURCES_MAX];
	struct pw_frame last[MERGE_SOURCES_MAX];
	struct pw_frame *out;
	size_t nout, capout;
	int64_t horizon; /* as reported, never decreasing */
	int64_t model_h; /* as merge.h says it must be */
	int64_t newest;
	bool has_newest;
	uint32_t id;
	bool burst_done;
};

/* Grow *v (n used, *cap slots of size each) so one more fits. */
static void *room(void *v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 64;
	v = realloc(v, *cap * size);
	if (!v)
		abort();
	return v;
}

static int64_t step_time(int64_t t, int64_t d)
{
	if (d > 0 && t > INT64_MAX - d)
		return INT64_MAX;
	if (d < 0 && t < INT64_MIN - d)
		return INT64_MIN;
	return t + d;
}

static unsigned byte(struct run *r)
{
	return r->i < r->n ? r->p[r->i++] : 0;
}

static int64_t horizon(struct merge *m)
{
	struct merge_stats st;

	merge_stats(m, &st);
	return st.horizon_ns;
}

static void check_stats(struct run *r)
{
	struct merge_stats st;
	int64_t h;

	merge_stats(r->m, &st);
	h = st.horizon_ns;
	if (h < r->horizon || h != r->model_h)
		abort();
	r->horizon = h;
	for (unsigned s = 0; s < r->prm.sources; s++)
		if (st.src[s].queued > MERGE_QUEUE_MAX || st.src[s].in != r->ntk[s])
			abort();
}

static void model_raise(struct run *r, int64_t t)
{
	if (t > r->model_h)
		r->model_h = t;
}

/* merge.h rule 4 after a taken frame. */
static void model_taken(struct run *r, const struct pw_frame *f)
{
	int64_t slowest = INT64_MAX;

	if (!r->has_newest || f->t_ns > r->newest)
		r->newest = f->t_ns;
	r->has_newest = true;
	model_raise(r, step_time(r->newest, -r->prm.lag_ns));
	for (unsigned s = 0; s < r->prm.sources; s++) {
		if (!r->has_last[s])
			return;
		if (r->last[s].t_ns < slowest)
			slowest = r->last[s].t_ns;
	}
	model_raise(r, slowest);
}

/* A full queue: the source's newest frame, else everything queued, is final. */
static void model_full(struct run *r, unsigned src)
{
	int64_t last = r->last[src].t_ns;

	if (r->model_h < last)
		r->model_h = last;
	else
		model_raise(r, step_time(last, r->prm.gap_ns + 2 * r->prm.window_ns + 1));
}

static void pop_all(struct run *r)
{
	struct pw_frame f;

	while (merge_pop(r->m, &f) == 1) {
		if (r->nout && f.t_ns <= r->out[r->nout - 1].t_ns)
			abort();
		r->out = room(r->out, r->nout, &r->capout, sizeof *r->out);
		r->out[r->nout++] = f;
	}
	check_stats(r);
}

static void make_frame(struct run *r, unsigned src, unsigned mask, unsigned fl, struct pw_frame *f)
{
	uint64_t x = 0x9e3779b97f4a7c15ull * ++r->id, w[sizeof *f / 8];

	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		w[i] = x * 0x2545F4914F6CDD1Dull;
	}
	memcpy(f, w, sizeof *f);
	f->present = 0;
	for (int i = 0; i < 8; i++)
		if (mask & (1u << i))
			f->present |= mask_bits[i];
	if ((mask & 0x81) == 0x81)
		f->present |= UNKNOWN_BIT;
	f->flags_known = (uint16_t)(fl & 0x3f);
	f->flags = (uint16_t)((fl >> 2) & 0x3f);
	f->feed = (uint8_t)(src + 1);
	f->t_ns = r->cur[src];
	f->seq = r->seq[src];
}

/* Push with the expected result worked out first; returns the result. */
static int push(struct run *r, unsigned src, const struct pw_frame *f)
{
	const struct pw_frame *l = &r->last[src];
	int want = MERGE_OK, rc;

	if (r->has_last[src] && (f->t_ns == l->t_ns || f->seq == l->seq))
		want = MERGE_DUP;
	else if ((r->has_last[src] && f->t_ns < l->t_ns) || f->t_ns <= horizon(r->m))
		want = MERGE_LATE;
	for (int round = 0;; round++) {
		rc = merge_push(r->m, src, f);
		if (rc != MERGE_FULL)
			break;
		if (want != MERGE_OK || round == 2)
			abort();
		model_full(r, src);
		pop_all(r);
		if (f->t_ns <= horizon(r->m))
			want = MERGE_LATE;
	}
	if (rc != want)
		abort();
	if (rc == MERGE_OK) {
		r->tk[src] = room(r->tk[src], r->ntk[src], &r->captk[src], sizeof *r->tk[src]);
		r->tk[src][r->ntk[src]++] = (struct taken){ .f = *f };
		r->total++;
		r->last[src] = *f;
		r->has_last[src] = true;
		model_taken(r, f);
	}
	check_stats(r);
	return rc;
}

static void op_push(struct run *r, unsigned src)
{
	unsigned step = byte(r), mask = byte(r), fl = byte(r);
	struct pw_frame f;

	if (step < 200)
		r->cur[src] = step_time(r->cur[src], step % 16);
	else
		r->cur[src] = step_time(r->cur[src], -(int64_t)(step - 200));
	if (step < 250)
		r->seq[src]++;
	make_frame(r, src, mask, fl, &f);
	push(r, src, &f);
}

/* Dense frames, one ns apart, until the queue has been full at least once. */
static void op_burst(struct run *r, unsigned src)
{
	struct pw_frame f;

	if (r->burst_done)
		return;
	r->burst_done = true;
	for (unsigned i = 0; i < BURST_FRAMES; i++) {
		r->cur[src] = step_time(r->cur[src], 1);
		r->seq[src]++;
		make_frame(r, src, i, i, &f);
		push(r, src, &f);
	}
}

static void op_special(struct run *r, unsigned src)
{
	unsigned arg = byte(r);

	switch (arg % 4) {
	case 0:
		if (arg == 0x40) /* rare: a burst costs BURST_FRAMES pushes */
			op_burst(r, src);
		break;
	case 1:
		r->cur[src] = INT64_MAX - (int64_t)(arg >> 2);
		break;
	case 2:
		r->cur[src] = INT64_MIN + (int64_t)(arg >> 2);
		break;
	default:
		if (arg > 240) {
			merge_flush(r->m);
			r->model_h = INT64_MAX;
		}
		break;
	}
}

static void run_program(struct run *r)
{
	while (r->i < r->n && r->total < MAX_TAKEN) {
		unsigned op = byte(r), src = (op >> 3) % r->prm.sources;

		switch (op & 7) {
		case 4:
			pop_all(r);
			break;
		case 5: {
			int64_t now = step_time(r->cur[src], (int64_t)(byte(r) % 64) - 32);
			merge_advance(r->m, now);
			model_raise(r, step_time(now, -r->prm.lag_ns));
			check_stats(r);
			break;
		}
		case 6:
			if (r->has_last[src])
				push(r, src, &r->last[src]);
			break;
		case 7:
			op_special(r, src);
			break;
		default:
			op_push(r, src);
			break;
		}
	}
	merge_flush(r->m);
	r->model_h = INT64_MAX;
	pop_all(r);
}

/* ---- the oracle: merge.h's rules applied to the whole taken set ---- */

/* First index of source q with t_ns > t. */
static size_t upper(const struct run *r, unsigned q, int64_t t)
{
	size_t lo = 0, hi = r->ntk[q];

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (r->tk[q][mid].f.t_ns <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool absent(const struct run *r, unsigned q, int64_t t)
{
	size_t k = upper(r, q, t);
	__int128 w = r->prm.window_ns, x = r->prm.gap_ns;
	bool hp = k > 0, hn = k < r->ntk[q];
	__int128 prev = hp ? r->tk[q][k - 1].f.t_ns : 0, next = hn ? r->tk[q][k].f.t_ns : 0;

	return (!hp || t - prev > w) && (!hn || next - t > w) && (!hp || !hn || next - prev > x);
}

static struct taken *nearest(struct run *r, unsigned q, int64_t t)
{
	size_t k = upper(r, q, t);
	__int128 w = r->prm.window_ns, dp = -1, dn = -1;

	if (k > 0 && (__int128)t - r->tk[q][k - 1].f.t_ns <= w)
		dp = (__int128)t - r->tk[q][k - 1].f.t_ns;
	if (k < r->ntk[q] && (__int128)r->tk[q][k].f.t_ns - t <= w)
		dn = (__int128)r->tk[q][k].f.t_ns - t;
	if (dp >= 0 && (dn < 0 || dp <= dn))
		return &r->tk[q][k - 1];
	return dn >= 0 ? &r->tk[q][k] : NULL;
}

static bool fill(struct pw_frame *o, const struct pw_frame *c)
{
	bool gained = false;

	for (size_t i = 0; i < sizeof chans / sizeof chans[0]; i++) {
		uint64_t bit = chans[i].bit;
		/* a channel T lacks, or has only derived where c has the game's own */
		bool lacks = !(o->present & bit) || ((o->derived & bit) && !(c->derived & bit));

		if ((c->present & bit) && lacks) {
			size_t off = chans[i].off;

			memcpy((char *)o + off, (const char *)c + off, chans[i].len);
			o->present |= bit;
			o->derived = (o->derived & ~bit) | (c->derived & bit);
			gained = true;
		}
	}
	for (unsigned b = 0; b < 16; b++) {
		uint16_t bit = (uint16_t)(1u << b);
		if ((c->flags_known & bit) && !(o->flags_known & bit)) {
			o->flags = (uint16_t)((o->flags & ~bit) | (c->flags & bit));
			o->flags_known |= bit;
			gained = true;
		}
	}
	return gained;
}

struct ref {
	int64_t t;
	unsigned src;
	size_t i;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return (int)x->src - (int)y->src;
}

static void check_against_oracle(struct run *r)
{
	struct ref *refs = malloc((r->total + 1) * sizeof *refs);
	size_t n = 0, fused = 0;
	struct merge_stats st;

	if (!refs)
		abort();
	for (unsigned s = 0; s < r->prm.sources; s++) {
		for (size_t i = 0; i < r->ntk[s]; i++) {
			bool tl = true;
			for (unsigned q = 0; q < s && tl; q++)
				tl = absent(r, q, r->tk[s][i].f.t_ns);
			r->tk[s][i].timeline = tl;
			if (tl)
				refs[n++] = (struct ref){ r->tk[s][i].f.t_ns, s, i };
		}
	}
	qsort(refs, n, sizeof *refs, ref_cmp);
	if (n != r->nout)
		abort();
	for (size_t k = 0; k < n; k++) {
		struct pw_frame want = r->tk[refs[k].src][refs[k].i].f;
		bool gained = false;

		for (unsigned q = refs[k].src + 1; q < r->prm.sources; q++) {
			struct taken *c = nearest(r, q, want.t_ns);
			if (c) {
				c->lent = true;
				gained |= fill(&want, &c->f);
			}
		}
		fused += gained;
		if (memcmp(&want, &r->out[k], sizeof want) != 0)
			abort();
	}
	merge_stats(r->m, &st);
	if (st.emitted != n || st.fused != fused || st.horizon_ns != INT64_MAX)
		abort();
	for (unsigned s = 0; s < r->prm.sources; s++) {
		uint64_t tl = 0, lent = 0, unused = 0;
		for (size_t i = 0; i < r->ntk[s]; i++) {
			const struct taken *t = &r->tk[s][i];
			tl += t->timeline;
			lent += !t->timeline && t->lent;
			unused += !t->timeline && !t->lent;
		}
		if (st.src[s].queued != 0 || st.src[s].timeline != tl || st.src[s].lent != lent ||
		    st.src[s].unused != unused || st.src[s].in != tl + lent + unused)
			abort();
	}
	free(refs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r = { .p = data, .n = size };
	unsigned b0 = byte(&r);

	r.prm.sources = b0 & 0x80 ? 1 + b0 % MERGE_SOURCES_MAX : 1 + b0 % 4;
	r.prm.window_ns = byte(&r) % 12;
	r.prm.gap_ns = byte(&r) % 40;
	r.prm.lag_ns = byte(&r) % 40;
	r.m = merge_new(&r.prm);
	if (!r.m)
		abort();
	r.horizon = INT64_MIN;
	r.model_h = INT64_MIN;
	for (unsigned s = 0; s < r.prm.sources; s++)
		r.cur[s] = 1000;
	run_program(&r);
	check_against_oracle(&r);

	for (unsigned s = 0; s < r.prm.sources; s++)
		free(r.tk[s]);
	free(r.out);
	merge_free(r.m);
	return 0;
}
