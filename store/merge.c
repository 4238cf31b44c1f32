/*
 * merge.c - see merge.h.
 *
 * Per source a ring of queued frames in t_ns order with three cursors:
 * head (oldest kept), next (first not decided yet) and look (first frame
 * with t_ns > the time of the latest lookup). Undecided frames are taken in
 * (t_ns, source) order, so every lookup time is >= the previous one and each
 * cursor only moves forward: a frame costs O(sources) amortized.
 *
 * "Processed through P" means every frame with t_ns <= P is known and
 * decided. A decided frame y can go once y.t + w <= P: no later timeline frame
 * can be within w of it. Its time stays in evicted_t, the "prev" of later
 * lookups.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store/merge.h"

/* Bytes of each channel, indexed by presence bit number (generated from the channel table). */
#define X_CHAN(id, field, ...) \
	[FRAME_CH_##           \
		id] = { offsetof(struct pw_frame, field), sizeof(((struct pw_frame *)0)->field) },
static const struct {
	uint16_t off, len;
} chan[FRAME_P_COUNT] = { FRAME_CHANNELS(X_CHAN) };
#undef X_CHAN

_Static_assert((MERGE_QUEUE_MAX & (MERGE_QUEUE_MAX - 1)) == 0, "queue size is a power of two");
_Static_assert((MERGE_QUEUE_MIN & (MERGE_QUEUE_MIN - 1)) == 0, "queue size is a power of two");

enum slot_state {
	SLOT_TIMELINE = 1, /* became an output frame (counted when emitted) */
	SLOT_LENT = 2,     /* filled channels of an output frame */
};

enum verdict { BLOCKED, NOT_TIMELINE, TIMELINE };

struct source {
	struct pw_frame *frame; /* frame i at frame[i & (cap - 1)] */
	uint8_t *state;         /* enum slot_state bits, same indexing */
	uint64_t cap;
	uint64_t head, tail; /* queued: [head, tail) */
	uint64_t next;       /* first frame not decided yet */
	uint64_t look;       /* first frame with t_ns > the latest lookup time */
	int64_t last_t;      /* newest taken frame */
	uint64_t last_seq;
	int64_t evicted_t; /* newest frame dropped from the queue */
	bool has_last, has_evicted;
	struct merge_source_stats st;
};

struct merge {
	struct merge_params p;
	int64_t horizon; /* every frame with t_ns <= horizon is known */
	int64_t newest;  /* newest t_ns taken from any source */
	bool has_newest;
	uint64_t emitted, fused;
	struct source src[MERGE_SOURCES_MAX];
};

static int64_t sat_add(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static int64_t sat_sub(int64_t a, int64_t b)
{
	return a < INT64_MIN + b ? INT64_MIN : a - b;
}

static struct pw_frame *slot(const struct source *s, uint64_t i)
{
	return &s->frame[i & (s->cap - 1)];
}

static int64_t t_at(const struct source *s, uint64_t i)
{
	return slot(s, i)->t_ns;
}

void merge_params_default(struct merge_params *p, unsigned sources)
{
	p->sources = sources;
	p->window_ns = MERGE_WINDOW_NS_DEFAULT;
	p->gap_ns = MERGE_GAP_NS_DEFAULT;
	p->lag_ns = MERGE_LAG_NS_DEFAULT;
}

static bool time_ok(int64_t ns)
{
	return ns >= 0 && ns <= MERGE_TIME_MAX_NS;
}

struct merge *merge_new(const struct merge_params *p)
{
	struct merge *m;

	if (!p || p->sources < 1 || p->sources > MERGE_SOURCES_MAX || !time_ok(p->window_ns) ||
	    !time_ok(p->gap_ns) || !time_ok(p->lag_ns)) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->p = *p;
	m->horizon = INT64_MIN;
	return m;
}

void merge_free(struct merge *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < m->p.sources; i++) {
		free(m->src[i].frame);
		free(m->src[i].state);
	}
	free(m);
}

static void raise_horizon(struct merge *m, int64_t t)
{
	if (t > m->horizon)
		m->horizon = t;
}

/* Every source's next frame comes after its last one. */
static void follow_slowest(struct merge *m)
{
	int64_t slowest = INT64_MAX;

	for (unsigned i = 0; i < m->p.sources; i++) {
		if (!m->src[i].has_last)
			return;
		if (m->src[i].last_t < slowest)
			slowest = m->src[i].last_t;
	}
	raise_horizon(m, slowest);
}

/*
 * A full queue: first treat the source's own newest frame as the horizon
 * (frees everything older than about X + 2w before it); if that is not enough
 * (the whole queue spans less), make everything queued final.
 */
static void force_horizon(struct merge *m, const struct source *s)
{
	if (m->horizon < s->last_t)
		m->horizon = s->last_t;
	else
		raise_horizon(m, sat_add(s->last_t, m->p.gap_ns + 2 * m->p.window_ns + 1));
}

static int grow(struct source *s)
{
	uint64_t cap = s->cap ? s->cap * 2 : MERGE_QUEUE_MIN;
	struct pw_frame *frame = malloc(cap * sizeof *frame);
	uint8_t *state = malloc(cap);

	if (!frame || !state) {
		free(frame);
		free(state);
		return -ENOMEM;
	}
	for (uint64_t i = s->head; i < s->tail; i++) {
		frame[i & (cap - 1)] = *slot(s, i);
		state[i & (cap - 1)] = s->state[i & (s->cap - 1)];
	}
	free(s->frame);
	free(s->state);
	s->frame = frame;
	s->state = state;
	s->cap = cap;
	return 0;
}

static int check_order(const struct merge *m, struct source *s, const struct pw_frame *f)
{
	if (s->has_last && (f->t_ns == s->last_t || f->seq == s->last_seq)) {
		s->st.dup++;
		return MERGE_DUP;
	}
	if ((s->has_last && f->t_ns < s->last_t) || f->t_ns <= m->horizon) {
		s->st.late++;
		return MERGE_LATE;
	}
	return MERGE_OK;
}

int merge_push(struct merge *m, unsigned src, const struct pw_frame *f)
{
	struct source *s;
	int rc;

	if (!m || !f || src >= m->p.sources)
		return -EINVAL;
	s = &m->src[src];
	rc = check_order(m, s, f);
	if (rc != MERGE_OK)
		return rc;
	if (s->tail - s->head == s->cap) {
		if (s->cap == MERGE_QUEUE_MAX) {
			force_horizon(m, s);
			s->st.full++;
			return MERGE_FULL;
		}
		if (grow(s) < 0)
			return -ENOMEM;
	}
	*slot(s, s->tail) = *f;
	s->state[s->tail & (s->cap - 1)] = 0;
	s->tail++;
	s->last_t = f->t_ns;
	s->last_seq = f->seq;
	s->has_last = true;
	s->st.in++;
	if (s->tail - s->head > s->st.queued_peak)
		s->st.queued_peak = s->tail - s->head;

	if (!m->has_newest || f->t_ns > m->newest)
		m->newest = f->t_ns;
	m->has_newest = true;
	raise_horizon(m, sat_sub(m->newest, m->p.lag_ns));
	follow_slowest(m);
	return MERGE_OK;
}

void merge_advance(struct merge *m, int64_t now_ns)
{
	raise_horizon(m, sat_sub(now_ns, m->p.lag_ns));
}

void merge_flush(struct merge *m)
{
	m->horizon = INT64_MAX;
}

/* Move s->look past every frame with t_ns <= t. */
static void seek(struct source *s, int64_t t)
{
	while (s->look < s->tail && t_at(s, s->look) <= t)
		s->look++;
}

/* After seek(s, t): the newest frame of s at or before t, queued or evicted. */
static bool prev_time(const struct source *s, int64_t *t)
{
	if (s->look > s->head) {
		*t = t_at(s, s->look - 1);
		return true;
	}
	*t = s->evicted_t;
	return s->has_evicted;
}

/* Is source r absent around t (rule 2)? 1 yes, 0 no, -1 not known yet. */
static int absent_around(const struct merge *m, struct source *r, int64_t t)
{
	int64_t w = m->p.window_ns, x = m->p.gap_ns, prev, next;
	bool has_prev;

	seek(r, t);
	has_prev = prev_time(r, &prev);
	if (has_prev && t <= sat_add(prev, w))
		return 0;
	if (r->look < r->tail) {
		next = t_at(r, r->look);
		if (next <= sat_add(t, w) || (has_prev && next <= sat_add(prev, x)))
			return 0;
		return 1;
	}
	/* r's next frame, if any, comes after the horizon */
	if (m->horizon < sat_add(t, w) || (has_prev && m->horizon < sat_add(prev, x)))
		return -1;
	return 1;
}

/* Are all frames of q within +-w of t known? */
static bool window_known(const struct merge *m, struct source *q, int64_t t)
{
	seek(q, t);
	return q->look < q->tail || m->horizon >= sat_add(t, m->p.window_ns);
}

static enum verdict decide(struct merge *m, unsigned si, int64_t t)
{
	bool blocked = false;

	for (unsigned r = 0; r < si; r++) {
		int absent = absent_around(m, &m->src[r], t);

		if (absent == 0)
			return NOT_TIMELINE;
		if (absent < 0)
			blocked = true;
	}
	if (blocked)
		return BLOCKED;
	for (unsigned q = si + 1; q < m->p.sources; q++)
		if (!window_known(m, &m->src[q], t))
			return BLOCKED;
	return TIMELINE;
}

/* Index of q's frame nearest to t within +-w (ties: the earlier), or tail. */
static uint64_t nearest(const struct merge *m, struct source *q, int64_t t)
{
	int64_t w = m->p.window_ns;
	uint64_t best = q->tail;
	int64_t best_dt = 0;

	seek(q, t);
	if (q->look > q->head && t <= sat_add(t_at(q, q->look - 1), w)) {
		best = q->look - 1;
		best_dt = t - t_at(q, best);
	}
	if (q->look < q->tail && t_at(q, q->look) <= sat_add(t, w)) {
		int64_t dt = t_at(q, q->look) - t;

		if (best == q->tail || dt < best_dt)
			best = q->look;
	}
	return best;
}

/* Give out every channel and flag of c that it lacks (rule 3); a game's own
 * channel of c also replaces one that out only has derived (common/derive.h),
 * and a channel keeps its derived bit wherever it comes from. */
static bool fill(struct pw_frame *out, const struct pw_frame *c)
{
	uint64_t own = c->present & ~c->derived;
	uint64_t add =
		((c->present & ~out->present) | (own & out->present & out->derived)) & FRAME_P_ALL;
	uint16_t known = (uint16_t)(c->flags_known & ~out->flags_known);

	for (uint64_t b = add; b; b &= b - 1) {
		unsigned i = (unsigned)__builtin_ctzll(b);

		memcpy((char *)out + chan[i].off, (const char *)c + chan[i].off, chan[i].len);
	}
	out->present |= add;
	out->derived = (out->derived & ~add) | (c->derived & add);
	out->flags = (uint16_t)((out->flags & ~known) | (c->flags & known));
	out->flags_known |= known;
	return add || known;
}

static void fuse(struct merge *m, unsigned si, int64_t t, struct pw_frame *out)
{
	bool gained = false;

	*out = *slot(&m->src[si], m->src[si].next);
	for (unsigned q = si + 1; q < m->p.sources; q++) {
		struct source *c = &m->src[q];
		uint64_t i = nearest(m, c, t);

		if (i == c->tail)
			continue;
		c->state[i & (c->cap - 1)] |= SLOT_LENT;
		gained |= fill(out, slot(c, i));
	}
	if (gained)
		m->fused++;
}

/* Drop the decided frames of s that no frame after `through` can need. */
static void evict(struct merge *m, struct source *s, int64_t through)
{
	while (s->head < s->next) {
		int64_t t = t_at(s, s->head);
		uint8_t state = s->state[s->head & (s->cap - 1)];

		if (sat_add(t, m->p.window_ns) > through)
			break;
		if (state & SLOT_LENT)
			s->st.lent++;
		else if (!(state & SLOT_TIMELINE))
			s->st.unused++;
		s->evicted_t = t;
		s->has_evicted = true;
		s->head++;
	}
	if (s->look < s->head)
		s->look = s->head;
}

/* The undecided frame first in (t_ns, source) order; false if none. */
static bool pick(const struct merge *m, unsigned *si, int64_t *t)
{
	bool found = false;

	for (unsigned i = 0; i < m->p.sources; i++) {
		const struct source *s = &m->src[i];

		if (s->next < s->tail && (!found || t_at(s, s->next) < *t)) {
			*si = i;
			*t = t_at(s, s->next);
			found = true;
		}
	}
	return found;
}

int merge_pop(struct merge *m, struct pw_frame *out)
{
	for (;;) {
		unsigned si = 0;
		int64_t t = 0;
		bool found = pick(m, &si, &t);
		int64_t through = found && t <= m->horizon ? t - 1 : m->horizon;
		struct source *s = &m->src[si];

		for (unsigned i = 0; i < m->p.sources; i++)
			evict(m, &m->src[i], through);
		if (!found || t > m->horizon)
			return 0;
		switch (decide(m, si, t)) {
		case BLOCKED:
			return 0;
		case NOT_TIMELINE:
			s->next++;
			break;
		case TIMELINE:
			fuse(m, si, t, out);
			s->state[s->next & (s->cap - 1)] |= SLOT_TIMELINE;
			s->next++;
			s->st.timeline++;
			m->emitted++;
			return 1;
		}
	}
}

void merge_stats(const struct merge *m, struct merge_stats *st)
{
	memset(st, 0, sizeof *st);
	st->emitted = m->emitted;
	st->fused = m->fused;
	st->horizon_ns = m->horizon;
	for (unsigned i = 0; i < m->p.sources; i++) {
		st->src[i] = m->src[i].st;
		st->src[i].queued = m->src[i].tail - m->src[i].head;
	}
}

const struct merge_params *merge_params(const struct merge *m)
{
	return &m->p;
}
