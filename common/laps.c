/* laps.c - see laps.h */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/laps.h"
#include "common/out.h"

#define WRAP_HI 0.9 /* spline before the line ... */
#define WRAP_LO 0.1 /* ... and after it */
#define ARM_LO 0.25 /* the middle of the lap: a crossing counts after a visit */
#define ARM_HI 0.75
#define MAX_STEP_FRAC 0.05 /* spline progress per frame beyond this is a jump, not driving */
#define SHORT_FRAC 0.9
#define REWIND_LAP_MS 100
#define REWIND_GAME_S 0.05
#define UNDO_WINDOW_S 60.0 /* a rewind this far behind the line undid the lap (flashback) */
#define STUB_FRAMES 10     /* counter step this soon after the grid crossing = that crossing */
#define AGREE_MS 250.0     /* game lap time this close to the measurement is this lap's */
#define AGREE_FRAC 0.005
#define NOMINAL_DT_S (1.0 / 60.0)
#define QUEUE_LEN 16

enum mark {
	MARK_GAME_FLAG = 1u << 0,
	MARK_PIT_ENTERED = 1u << 1,
	MARK_PIT_AT_START = 1u << 2,
	MARK_LEFT_PIT = 1u << 3,
	MARK_OUT = 1u << 4,
	MARK_RESET = 1u << 5,
	MARK_INCOMPLETE = 1u << 6,
};

enum start_kind {
	START_MIDLAP, /* tracking began inside the lap */
	START_CLEAN,  /* first frame just after the line (lap clock small) */
	START_GRID,   /* behind the line before the start: not a lap yet */
	START_LINE,   /* at a line crossing we saw */
};

/* The lap in progress. */
struct cur {
	bool active;
	bool prestart;     /* on the grid, the line not crossed yet */
	bool grid_crossed; /* crossed from the grid; a counter step may still follow */
	bool late_ok;      /* began at a line we saw: flags early in it may be the last lap's */
	bool armed;        /* visited the middle of the lap since the last crossing */
	bool in_pit;
	bool have_start_clock;
	bool clock_ok;    /* the feed clock advanced on every step of the lap */
	bool cover_ok;    /* progress known on every frame */
	uint16_t counter; /* game lap counter during the lap */
	uint32_t number;
	uint32_t frames;
	uint32_t grid_cross_frame;
	unsigned marks;
	uint64_t start_seq;
	int64_t start_t_ns;
	double start_clock; /* crossing instant on the feed clock, s */
	double covered;     /* progress, laps */
	float min_kmh, max_kmh;
	int32_t sector_ms[3];
};

/* The latest completed lap: pending until its time settles, then reported. */
struct done {
	bool active;
	bool emitted;
	bool short_lap;
	bool before_known; /* the game's last_lap_ms on the lap's last frame */
	bool end_gt_ok;
	int32_t game_before;
	unsigned marks;
	double end_gt; /* game clock on the lap's last frame */
	struct lap lap;
};

/* What one active frame shows relative to the previous one. */
struct step {
	bool dt_ok, frac_ok, prev_frac_ok, cross, gap;
	double dt;              /* feed-clock advance, s */
	double frac, prev_frac; /* position in the lap 0..1 */
	double cross_clock;     /* forward line crossing instant */
	int32_t lt, prev_lt;    /* lap clock ms, -1 = none */
};

struct laps {
	struct lap_event queue[QUEUE_LEN];
	int qhead, qlen;

	bool have_rx, have_session, have_prev, paused_between, counter_mode;
	bool rx_in_prev;      /* the last frame received is prev (rx not copied) */
	struct pw_frame rx;   /* last frame received, any kind (see rx_of) */
	struct pw_frame prev; /* last active frame */
	bool prev_frac_ok, f_frac_ok;
	double prev_frac, f_frac; /* frac_of prev; of the frame becoming prev */
	uint64_t session;
	uint64_t frames;      /* active frames this session */
	uint64_t cross_frame; /* frame of the last forward crossing */
	double clock;         /* feed clock without pauses, s */
	double cross_clock;
	double typical_dt;
	int32_t typical_lt_step;
	uint16_t offset; /* counter value at the start of lap 1 */
	int32_t best_ms, prev_best_ms;

	struct cur cur;
	struct done last;
};

static const char *const reason_names[LAP_REASON_COUNT] = {
	"none", "game_flag", "pit", "reset", "out_lap", "incomplete", "cut_short",
};

/* ---- frame helpers ---- */

static bool has(const struct pw_frame *f, uint64_t bit)
{
	return (f->present & bit) != 0;
}

static bool flag_set(const struct pw_frame *f, unsigned flag)
{
	return (f->flags_known & flag) && (f->flags & flag);
}

static int32_t lap_clock(const struct pw_frame *f)
{
	return has(f, FRAME_P_LAP_TIME) && f->lap_time_ms >= 0 ? f->lap_time_ms : -1;
}

/* to - from in seconds; wraps instead of overflowing on absurd stamps */
static double ns_between(int64_t from, int64_t to)
{
	return (double)(int64_t)((uint64_t)to - (uint64_t)from) * 1e-9;
}

static bool has_clock(const struct pw_frame *f)
{
	return (has(f, FRAME_P_GAME_TIME) && isfinite(f->game_time_s)) || f->t_ns != 0;
}

static bool both_game_time(const struct pw_frame *a, const struct pw_frame *b)
{
	return has(a, FRAME_P_GAME_TIME) && has(b, FRAME_P_GAME_TIME) && isfinite(a->game_time_s) &&
	       isfinite(b->game_time_s);
}

static bool both_counted(const struct pw_frame *a, const struct pw_frame *b)
{
	return has(a, FRAME_P_LAP) && has(b, FRAME_P_LAP);
}

/* The last frame received: one copy a frame, not two, for the usual frame
 * that becomes prev. */
static const struct pw_frame *rx_of(const struct laps *l)
{
	return l->rx_in_prev ? &l->prev : &l->rx;
}

/* Position in the lap, 0..1: the spline, else lap distance over track length
 * (behind the line, lap_dist_m < 0, is the end of the lap). */
static bool frac_of(const struct pw_frame *f, double *out)
{
	double v;

	if (has(f, FRAME_P_SPLINE) && isfinite(f->spline)) {
		v = f->spline;
	} else if (has(f, FRAME_P_LAP_DIST) && has(f, FRAME_P_TRACK_LEN) &&
		   isfinite(f->lap_dist_m) && isfinite(f->track_len_m) && f->track_len_m > 1.0f) {
		v = (double)f->lap_dist_m / f->track_len_m;
	} else {
		return false;
	}
	v -= floor(v);
	*out = v < 1.0 ? v : 0.0;
	return true;
}

static bool behind_line(const struct pw_frame *f)
{
	return has(f, FRAME_P_LAP_DIST) && isfinite(f->lap_dist_m) && f->lap_dist_m < 0.0f;
}

static bool lap_channels(const struct pw_frame *f)
{
	double v;

	return has(f, FRAME_P_LAP) || frac_of(f, &v) || has(f, FRAME_P_LAP_DIST);
}

/* ---- events ---- */

static void push(struct laps *l, const struct lap_event *ev)
{
	if (l->qlen == QUEUE_LEN) { /* the caller never drains: keep the newest */
		l->qhead = (l->qhead + 1) % QUEUE_LEN;
		l->qlen--;
	}
	l->queue[(l->qhead + l->qlen) % QUEUE_LEN] = *ev;
	l->qlen++;
}

static void push_lap(struct laps *l, enum lap_event_kind kind, const struct lap *lap)
{
	struct lap_event ev;

	memset(&ev, 0, sizeof ev);
	ev.kind = kind;
	ev.lap = *lap;
	push(l, &ev);
}

static int drain(struct laps *l, struct lap_event *out, int max)
{
	int n = 0;

	while (out && n < max && l->qlen > 0) {
		out[n++] = l->queue[l->qhead];
		l->qhead = (l->qhead + 1) % QUEUE_LEN;
		l->qlen--;
	}
	return n;
}

/* ---- validity ---- */

static enum lap_reason reason_of(unsigned m, bool short_lap)
{
	if (m & MARK_RESET)
		return LAP_REASON_RESET;
	if (m & MARK_PIT_ENTERED)
		return LAP_REASON_PIT;
	if (m & MARK_PIT_AT_START)
		return (m & MARK_LEFT_PIT) ? LAP_REASON_OUT_LAP : LAP_REASON_PIT;
	if (m & MARK_OUT)
		return LAP_REASON_OUT_LAP;
	if (m & MARK_GAME_FLAG)
		return LAP_REASON_GAME_FLAG;
	if (m & MARK_INCOMPLETE)
		return LAP_REASON_INCOMPLETE;
	return short_lap ? LAP_REASON_CUT_SHORT : LAP_REASON_NONE;
}

static bool agrees(int32_t game_ms, int32_t measured_ms)
{
	double tol = fmax(AGREE_MS, AGREE_FRAC * game_ms);

	return measured_ms >= 0 && fabs((double)game_ms - measured_ms) <= tol;
}

/* Report the latest completed lap; game_ms > 0 is the game's time for it. */
static void emit_last(struct laps *l, int32_t game_ms)
{
	struct done *d = &l->last;
	struct lap *lap = &d->lap;
	int32_t *s = lap->sector_ms;
	enum lap_reason r = reason_of(d->marks, d->short_lap);

	lap->time_ms = game_ms > 0 ? game_ms : lap->measured_ms;
	if (s[0] >= 0 && s[1] >= 0 && s[2] < 0 && lap->time_ms > (int64_t)s[0] + s[1])
		s[2] = lap->time_ms - s[0] - s[1];
	lap->invalid_reason = (uint8_t)r;
	lap->valid = r == LAP_REASON_NONE;
	lap->personal_best = false;
	if (lap->valid && lap->time_ms > 0 && (l->best_ms < 0 || lap->time_ms < l->best_ms)) {
		l->prev_best_ms = l->best_ms;
		l->best_ms = lap->time_ms;
		lap->personal_best = true;
	}
	d->emitted = true;
	push_lap(l, LAP_COMPLETED, lap);
}

static void flush_last(struct laps *l)
{
	if (l->last.active && !l->last.emitted)
		emit_last(l, -1);
}

/* A reported lap turned out invalid: say so once. */
static void invalidate_last(struct laps *l, unsigned mark)
{
	struct done *d = &l->last;

	d->marks |= mark;
	if (!d->emitted || !d->lap.valid)
		return;
	d->lap.valid = false;
	d->lap.invalid_reason = (uint8_t)reason_of(d->marks, d->short_lap);
	if (d->lap.personal_best) {
		l->best_ms = l->prev_best_ms;
		d->lap.personal_best = false;
	}
	push_lap(l, LAP_INVALIDATED, &d->lap);
}

/* ---- the lap in progress ---- */

/* Laps completed by the tracker's numbering when the game's counter says counter. */
static uint32_t laps_done(const struct laps *l, uint16_t counter)
{
	return counter > l->offset ? (uint32_t)(counter - l->offset) : 0;
}

static void reset_stats(struct cur *c, const struct pw_frame *f)
{
	c->start_seq = f->seq;
	c->start_t_ns = f->t_ns;
	c->frames = 0;
	c->min_kmh = c->max_kmh = -1.0f;
}

static void start_lap(struct laps *l, const struct pw_frame *f, const struct step *s,
		      uint32_t number, enum start_kind kind, bool have_start, double start_clock)
{
	struct cur *c = &l->cur;
	bool in_pit = c->active && c->in_pit;
	/* left the pit lane in the lap that ends here, having entered it there
	 * (or on the grid): the lap that starts now is the out lap */
	bool out = c->active && (c->marks & MARK_LEFT_PIT) && !in_pit &&
		   ((c->marks & MARK_PIT_ENTERED) || c->prestart);

	memset(c, 0, sizeof *c);
	c->active = true;
	c->number = number;
	c->counter = has(f, FRAME_P_LAP) ? f->lap : 0;
	c->in_pit = in_pit;
	c->marks = (out ? MARK_OUT : 0) | (kind == START_MIDLAP ? MARK_INCOMPLETE : 0);
	c->prestart = kind == START_GRID;
	c->late_ok = kind == START_LINE || kind == START_CLEAN;
	c->armed = s->frac_ok && s->frac >= ARM_LO;
	c->have_start_clock = have_start;
	c->start_clock = start_clock;
	c->clock_ok = true;
	c->cover_ok = true;
	for (int i = 0; i < 3; i++)
		c->sector_ms[i] = -1;
	reset_stats(c, f);
}

/* On the grid: counter 0, lap clock not running, car behind the line. */
static bool at_grid(const struct pw_frame *f, const struct step *s)
{
	if (has(f, FRAME_P_LAP) && f->lap != 0)
		return false;
	if (s->lt > 0)
		return false;
	return behind_line(f) || (s->frac_ok && s->frac > WRAP_HI);
}

/* Just past the line: the lap clock has barely run and the car, where its
 * position is known, is near the line. */
static bool at_line(const struct step *s)
{
	bool near = !s->frac_ok || s->frac < WRAP_LO || s->frac > WRAP_HI;

	return s->lt >= 0 && s->lt <= LAPS_CLEAN_START_MS && near;
}

static void begin(struct laps *l, const struct pw_frame *f, const struct step *s)
{
	uint32_t number = has(f, FRAME_P_LAP) ? laps_done(l, f->lap) + 1 : 1;
	bool clock = has_clock(f);

	l->counter_mode = has(f, FRAME_P_LAP);
	if (at_grid(f, s))
		start_lap(l, f, s, 1, START_GRID, false, 0.0);
	else if (at_line(s))
		start_lap(l, f, s, number, START_CLEAN, clock, l->clock - s->lt / 1000.0);
	else
		start_lap(l, f, s, number, START_MIDLAP, clock && s->lt >= 0,
			  l->clock - s->lt / 1000.0);
}

/* When the lap that starts with this frame began on the feed clock. */
static double crossing_instant(const struct laps *l, const struct step *s)
{
	if (s->lt >= 0 && s->lt <= LAPS_CLEAN_START_MS)
		return l->clock - s->lt / 1000.0;
	if (s->cross)
		return s->cross_clock;
	if (l->cross_frame && l->frames - l->cross_frame <= STUB_FRAMES)
		return l->cross_clock;
	return l->clock;
}

/* The tracker's time for the lap ending at this frame, ms, or -1. */
static int32_t measure(const struct laps *l, const struct step *s)
{
	const struct cur *c = &l->cur;
	double m = -1.0;

	if (s->prev_lt >= 0 && s->lt >= 0 && s->lt < s->prev_lt) {
		/* the game's lap clock: time at the last frame, the step, minus
		 * what the new lap has already run */
		double step_ms = s->dt_ok ? s->dt * 1000.0 : l->typical_lt_step;

		m = s->prev_lt + step_ms - s->lt;
	} else if (c->have_start_clock && c->clock_ok && s->dt_ok) {
		m = (crossing_instant(l, s) - c->start_clock) * 1000.0;
	}
	return m > 0.0 && m < 2.0e9 ? (int32_t)lround(m) : -1;
}

static void complete(struct laps *l, const struct pw_frame *f, const struct step *s,
		     uint32_t number, bool missed)
{
	struct cur *c = &l->cur;
	struct done *d = &l->last;
	const struct pw_frame *p = &l->prev;
	uint32_t next =
		l->counter_mode && has(f, FRAME_P_LAP) ? laps_done(l, f->lap) + 1 : number + 1;

	flush_last(l);
	memset(d, 0, sizeof *d);
	d->active = true;
	d->marks = c->marks | (missed ? MARK_INCOMPLETE : 0);
	d->short_lap = !(d->marks & MARK_INCOMPLETE) && c->cover_ok && c->covered < SHORT_FRAC;
	d->before_known = has(p, FRAME_P_LAST_LAP);
	d->game_before = p->last_lap_ms;
	d->end_gt_ok = has(p, FRAME_P_GAME_TIME);
	d->end_gt = p->game_time_s;
	d->lap.number = number;
	d->lap.measured_ms = measure(l, s);
	d->lap.time_ms = -1;
	memcpy(d->lap.sector_ms, c->sector_ms, sizeof d->lap.sector_ms);
	d->lap.game_session = l->session;
	d->lap.start_seq = c->start_seq;
	d->lap.start_t_ns = c->start_t_ns;
	d->lap.end_seq = p->seq;
	d->lap.end_t_ns = p->t_ns;
	d->lap.min_speed_kmh = c->min_kmh;
	d->lap.max_speed_kmh = c->max_kmh;
	d->lap.frames = c->frames;
	start_lap(l, f, s, next, s->gap ? START_MIDLAP : START_LINE, has_clock(f),
		  crossing_instant(l, s));
}

/* The counter went up. */
static void counter_step(struct laps *l, const struct pw_frame *f, const struct step *s)
{
	struct cur *c = &l->cur;
	uint32_t done;

	if (c->prestart || (c->grid_crossed && c->frames - c->grid_cross_frame <= STUB_FRAMES)) {
		/* the game counted the run from the grid to the line as a lap */
		l->offset = f->lap;
		start_lap(l, f, s, 1, START_LINE, has_clock(f), crossing_instant(l, s));
		return;
	}
	done = laps_done(l, f->lap);
	complete(l, f, s, done ? done : 1, f->lap - c->counter > 1);
}

/* The first crossing from the grid starts lap 1. */
static void grid_crossing(struct laps *l, const struct pw_frame *f, const struct step *s)
{
	struct cur *c = &l->cur;

	if (!l->counter_mode) {
		start_lap(l, f, s, 1, START_LINE, has_clock(f), s->cross_clock);
		return;
	}
	/* counter games time lap 1 from the start signal, with the car behind
	 * the line (F1): the lap goes on; only a counter step right now would
	 * mean the game counted the crossing */
	c->prestart = false;
	c->grid_crossed = true;
	c->grid_cross_frame = c->frames;
}

static void advance(struct laps *l, const struct pw_frame *f, const struct step *s)
{
	struct cur *c = &l->cur;
	bool counted = has(f, FRAME_P_LAP);

	if (counted && !l->counter_mode) {
		l->counter_mode = true; /* the counter showed up: it rules from now on */
		c->counter = f->lap;
		c->number = laps_done(l, f->lap) + 1;
	}
	if (l->counter_mode) {
		if (counted && f->lap > c->counter) {
			counter_step(l, f, s);
			return;
		}
	} else if (s->cross && c->armed && !c->prestart) {
		complete(l, f, s, c->number, false);
		return;
	}
	if (s->cross && c->prestart)
		grid_crossing(l, f, s);
}

/* ---- rewinds ---- */

static bool rewound(const struct laps *l, const struct pw_frame *f, const struct step *s)
{
	const struct pw_frame *p = &l->prev;

	if (both_counted(f, p) && f->lap < p->lap)
		return true;
	if (both_game_time(f, p) && f->game_time_s < p->game_time_s - REWIND_GAME_S)
		return true;
	if (s->lt >= 0 && s->prev_lt >= 0 && s->prev_lt - s->lt > REWIND_LAP_MS) {
		if (both_counted(f, p) && f->lap > p->lap)
			return false; /* a new lap */
		if (!l->counter_mode && (s->cross || s->lt <= LAPS_CLEAN_START_MS))
			return false; /* the line, in a feed without a counter */
		return true;
	}
	return false;
}

/* Did the rewind go back to before the line that ended the latest lap? */
static bool undid_last(const struct laps *l, const struct pw_frame *f)
{
	const struct done *d = &l->last;

	if (!d->active)
		return false;
	if (l->counter_mode)
		return has(f, FRAME_P_LAP) &&
		       (int)f->lap - (int)l->offset == (int)d->lap.number - 1;
	return has(f, FRAME_P_GAME_TIME) && d->end_gt_ok && f->game_time_s < d->end_gt &&
	       f->game_time_s > d->end_gt - UNDO_WINDOW_S;
}

static void rewind_lap(struct laps *l, const struct pw_frame *f, const struct step *s)
{
	struct cur *c = &l->cur;

	if (undid_last(l, f)) {
		if (l->last.emitted) {
			invalidate_last(l, MARK_RESET);
		} else {
			l->last.marks |= MARK_RESET;
			emit_last(l, -1);
		}
		l->last.active = false;
		if (!l->counter_mode)
			c->number = l->last.lap.number;
	}
	c->marks |= MARK_RESET;
	c->late_ok = false;
	c->have_start_clock = false;
	c->prestart = false;
	c->armed = s->frac_ok && s->frac >= ARM_LO;
	if (has(f, FRAME_P_LAP)) {
		c->counter = f->lap;
		if (l->counter_mode)
			c->number = laps_done(l, f->lap) + 1;
	}
}

/* ---- one active frame ---- */

static void clock_step(struct laps *l, const struct pw_frame *f, struct step *s)
{
	const struct pw_frame *p = &l->prev;
	double dt;

	if (!l->have_prev)
		return;
	if (both_game_time(f, p))
		dt = f->game_time_s - p->game_time_s;
	else if (f->t_ns && p->t_ns)
		dt = ns_between(p->t_ns, f->t_ns);
	else
		return;
	if (!(dt > 0.0))
		dt = 0.0; /* clock going back: a rewind, handled on its own */
	if (l->paused_between)
		dt = fmin(dt, l->typical_dt); /* the pause is not lap time */
	else if (dt > 0.0 && dt < 1.0)
		l->typical_dt = dt;
	l->clock += dt;
	s->dt = dt;
	s->dt_ok = true;
}

/* A data gap: the game's clock ran on by more than LAPS_GAP_S between two
 * frames, or, without one, the receive time did. */
static bool gap_before(const struct laps *l, const struct pw_frame *f, const struct step *s)
{
	const struct pw_frame *p = &l->prev;
	bool same_lap = !has(f, FRAME_P_LAP) || (has(p, FRAME_P_LAP) && p->lap == f->lap);

	if (s->lt >= 0 && s->prev_lt >= 0 && s->lt >= s->prev_lt && same_lap)
		return s->lt - s->prev_lt > LAPS_GAP_S * 1000.0;
	if (!l->paused_between && both_game_time(f, p))
		return f->game_time_s - p->game_time_s > LAPS_GAP_S;
	return f->t_ns && rx_of(l)->t_ns && ns_between(rx_of(l)->t_ns, f->t_ns) > LAPS_GAP_S;
}

static void find_line(const struct laps *l, const struct pw_frame *f, struct step *s)
{
	const struct pw_frame *p = &l->prev;
	double a = 0.0, b = 0.0, w;

	s->frac_ok = frac_of(f, &s->frac);
	s->prev_frac_ok = l->have_prev && l->prev_frac_ok; /* frac_of(p), kept */
	if (s->prev_frac_ok)
		s->prev_frac = l->prev_frac;
	if (s->frac_ok && s->prev_frac_ok) {
		if (s->prev_frac > WRAP_HI && s->frac < WRAP_LO) {
			s->cross = true;
			a = 1.0 - s->prev_frac;
			b = s->frac;
		}
	} else if (l->have_prev && behind_line(p) && has(f, FRAME_P_LAP_DIST) &&
		   isfinite(f->lap_dist_m) && f->lap_dist_m >= 0.0f) {
		s->cross = true;
		a = -(double)p->lap_dist_m;
		b = f->lap_dist_m;
	}
	if (!s->cross)
		return;
	w = a + b > 0.0 ? a / (a + b) : 1.0;
	s->cross_clock = l->clock - (s->dt_ok ? s->dt * (1.0 - w) : 0.0);
}

static void absorb_pit(struct cur *c, const struct pw_frame *f)
{
	bool in_pit = flag_set(f, FRAME_FLAG_IN_PIT);

	if (!(f->flags_known & FRAME_FLAG_IN_PIT))
		return;
	if (c->frames == 1 && in_pit)
		c->marks |= MARK_PIT_AT_START;
	else if (c->frames == 1 && c->in_pit)
		c->marks |= MARK_OUT; /* left the pit lane right at the line */
	else if (in_pit && !c->in_pit)
		c->marks |= MARK_PIT_ENTERED;
	else if (!in_pit && c->in_pit)
		c->marks |= MARK_LEFT_PIT;
	c->in_pit = in_pit;
}

static void absorb_progress(struct cur *c, const struct step *s)
{
	double d;

	if (!s->frac_ok) {
		c->cover_ok = false;
		return;
	}
	if (s->frac >= ARM_LO && s->frac <= ARM_HI)
		c->armed = true;
	if (!s->prev_frac_ok)
		return;
	d = s->frac - s->prev_frac;
	if (d > 0.5)
		d -= 1.0;
	else if (d < -0.5)
		d += 1.0;
	if (fabs(d) <= MAX_STEP_FRAC)
		c->covered += d;
}

static void absorb(struct laps *l, const struct pw_frame *f, const struct step *s)
{
	struct cur *c = &l->cur;

	/* lap 1 from the grid begins when the lap clock starts (the start signal) */
	if (c->prestart && s->prev_lt == 0 && s->lt > 0) {
		reset_stats(c, f);
		c->have_start_clock = has_clock(f);
		c->start_clock = l->clock - s->lt / 1000.0;
	}
	c->frames++;
	if (!s->dt_ok && c->frames > 1)
		c->clock_ok = false;
	if (has(f, FRAME_P_SPEED) && isfinite(f->speed_kmh) && f->speed_kmh >= 0.0f) {
		if (c->min_kmh < 0.0f || f->speed_kmh < c->min_kmh)
			c->min_kmh = f->speed_kmh;
		if (f->speed_kmh > c->max_kmh)
			c->max_kmh = f->speed_kmh;
	}
	if (has(f, FRAME_P_SECTOR_TIMES))
		for (int i = 0; i < 3; i++)
			c->sector_ms[i] = f->sector_ms[i] >= 0 ? f->sector_ms[i] : -1;
	absorb_pit(c, f);
	absorb_progress(c, s);
}

/* Time since the lap in progress began, s; huge when unknown. */
static double since_start(const struct laps *l, const struct step *s)
{
	const struct cur *c = &l->cur;

	if (s->lt >= 0)
		return s->lt / 1000.0;
	if (c->have_start_clock && c->clock_ok)
		return l->clock - c->start_clock;
	if (c->late_ok)
		return c->frames * NOMINAL_DT_S;
	return HUGE_VAL;
}

/* Late invalid flags and the game's time for a lap that just ended. */
static void settle(struct laps *l, const struct pw_frame *f, const struct step *s)
{
	struct done *d = &l->last;
	double since = since_start(l, s);
	bool early = l->cur.late_ok && since <= LAPS_SETTLE_S;
	int32_t v = f->last_lap_ms;

	if (flag_set(f, FRAME_FLAG_LAP_INVALID)) {
		if (!early)
			l->cur.marks |= MARK_GAME_FLAG;
		else if (d->active)
			invalidate_last(l, MARK_GAME_FLAG);
	}
	if (!d->active || d->emitted)
		return;
	if (!has(f, FRAME_P_LAST_LAP))
		emit_last(l, -1);
	else if (v > 0 &&
		 (!d->before_known || v != d->game_before || agrees(v, d->lap.measured_ms)))
		emit_last(l, v);
	else if (!early)
		emit_last(l, d->lap.measured_ms < 0 && v > 0 ? v : -1);
}

static void active_frame(struct laps *l, const struct pw_frame *f)
{
	struct step s;

	memset(&s, 0, sizeof s);
	s.lt = lap_clock(f);
	s.prev_lt = l->have_prev ? lap_clock(&l->prev) : -1;
	clock_step(l, f, &s);
	find_line(l, f, &s);
	l->f_frac_ok = s.frac_ok; /* f becomes prev (laps_feed) */
	l->f_frac = s.frac;
	if (!l->cur.active) {
		if (!lap_channels(f))
			return;
		begin(l, f, &s);
	} else {
		s.gap = gap_before(l, f, &s);
		if (rewound(l, f, &s))
			rewind_lap(l, f, &s);
		if (s.gap)
			l->cur.marks |= MARK_INCOMPLETE;
		advance(l, f, &s);
	}
	absorb(l, f, &s);
	settle(l, f, &s);
	if (s.prev_lt >= 0 && s.lt > s.prev_lt)
		l->typical_lt_step = s.lt - s.prev_lt;
	l->frames++;
	if (s.cross) {
		l->cross_frame = l->frames;
		l->cross_clock = s.cross_clock;
	}
}

/* ---- sessions, duplicates, pauses ---- */

static bool duplicate(const struct laps *l, const struct pw_frame *f)
{
	const size_t skip = offsetof(struct pw_frame, present); /* seq and t_ns */

	if (!l->have_rx)
		return false;
	if (f->seq && f->seq == rx_of(l)->seq)
		return true;
	return memcmp((const char *)f + skip, (const char *)rx_of(l) + skip, sizeof *f - skip) == 0;
}

static void session_check(struct laps *l, const struct pw_frame *f)
{
	struct lap_event ev;

	if (l->have_session && f->game_session == l->session)
		return;
	if (l->have_session) {
		flush_last(l);
		memset(&ev, 0, sizeof ev);
		ev.kind = LAP_SESSION_CHANGED;
		ev.from_session = l->session;
		ev.to_session = f->game_session;
		push(l, &ev);
	}
	l->have_session = true;
	l->session = f->game_session;
	l->have_prev = l->paused_between = l->counter_mode = false;
	l->frames = l->cross_frame = 0;
	l->clock = l->cross_clock = 0.0;
	l->typical_dt = NOMINAL_DT_S;
	l->typical_lt_step = 0;
	l->offset = 0;
	l->best_ms = l->prev_best_ms = -1;
	memset(&l->cur, 0, sizeof l->cur);
	memset(&l->last, 0, sizeof l->last);
}

/* ---- public ---- */

struct laps *laps_new(void)
{
	struct laps *l = calloc(1, sizeof *l);

	if (l) {
		l->typical_dt = NOMINAL_DT_S;
		l->best_ms = l->prev_best_ms = -1;
	}
	return l;
}

void laps_free(struct laps *l)
{
	free(l);
}

int laps_feed(struct laps *l, const struct pw_frame *f, struct lap_event *out, int max)
{
	bool to_prev = false;

	if (!l)
		return 0;
	if (!f) {
		flush_last(l);
		return drain(l, out, max);
	}
	if (f->version != FRAME_VERSION)
		return drain(l, out, max);
	if (!duplicate(l, f)) {
		session_check(l, f);
		if (flag_set(f, FRAME_FLAG_PAUSED)) {
			l->paused_between = true;
		} else {
			active_frame(l, f);
			l->prev = *f;
			l->prev_frac_ok = l->f_frac_ok;
			l->prev_frac = l->f_frac;
			l->have_prev = true;
			l->paused_between = false;
			to_prev = true;
		}
	}
	if (!to_prev)
		l->rx = *f;
	l->rx_in_prev = to_prev;
	l->have_rx = true;
	return drain(l, out, max);
}

int laps_current(const struct laps *l, struct lap *out)
{
	const struct cur *c;
	double t;

	if (!l || !l->cur.active || l->cur.prestart)
		return 0;
	c = &l->cur;
	memset(out, 0, sizeof *out);
	out->number = c->number;
	t = lap_clock(&l->prev) >= 0             ? lap_clock(&l->prev) / 1000.0
	    : c->have_start_clock && c->clock_ok ? l->clock - c->start_clock
						 : -1.0;
	out->time_ms = t >= 0.0 && t < 2.0e6 ? (int32_t)lround(t * 1000.0) : -1;
	out->measured_ms = -1;
	memcpy(out->sector_ms, c->sector_ms, sizeof out->sector_ms);
	out->invalid_reason = (uint8_t)reason_of(c->marks, false);
	out->valid = out->invalid_reason == LAP_REASON_NONE;
	out->game_session = l->session;
	out->start_seq = c->start_seq;
	out->start_t_ns = c->start_t_ns;
	out->end_seq = l->prev.seq;
	out->end_t_ns = l->prev.t_ns;
	out->min_speed_kmh = c->min_kmh;
	out->max_speed_kmh = c->max_kmh;
	out->frames = c->frames;
	return 1;
}

const char *lap_reason_name(unsigned reason)
{
	return reason < LAP_REASON_COUNT ? reason_names[reason] : "unknown";
}

const char *lap_event_name(unsigned kind)
{
	switch (kind) {
	case LAP_COMPLETED:
		return "lap_completed";
	case LAP_INVALIDATED:
		return "lap_invalidated";
	case LAP_SESSION_CHANGED:
		return "session_changed";
	default:
		return "unknown";
	}
}

/* ---- JSON ---- */

static void put_ms(struct out *o, const char *sep, int32_t ms)
{
	if (ms >= 0)
		out_printf(o, "%s%ld", sep, (long)ms);
	else
		out_printf(o, "%snull", sep);
}

static void put_kmh(struct out *o, const char *name, float v)
{
	if (v >= 0.0f && isfinite(v))
		out_printf(o, ",\"%s\":%.2f", name, (double)v);
	else
		out_printf(o, ",\"%s\":null", name);
}

static void put_lap(struct out *o, const struct lap *lap)
{
	out_printf(o, "{\"number\":%lu", (unsigned long)lap->number);
	put_ms(o, ",\"time_ms\":", lap->time_ms);
	put_ms(o, ",\"measured_ms\":", lap->measured_ms);
	put_ms(o, ",\"sector_ms\":[", lap->sector_ms[0]);
	put_ms(o, ",", lap->sector_ms[1]);
	put_ms(o, ",", lap->sector_ms[2]);
	out_printf(o, "],\"valid\":%s,\"invalid_reason\":\"%s\",\"personal_best\":%s",
		   lap->valid ? "true" : "false", lap_reason_name(lap->invalid_reason),
		   lap->personal_best ? "true" : "false");
	out_printf(o, ",\"game_session\":%llu,\"start_seq\":%llu,\"end_seq\":%llu",
		   (unsigned long long)lap->game_session, (unsigned long long)lap->start_seq,
		   (unsigned long long)lap->end_seq);
	out_printf(o, ",\"start_t_ns\":%lld,\"end_t_ns\":%lld", (long long)lap->start_t_ns,
		   (long long)lap->end_t_ns);
	put_kmh(o, "min_speed_kmh", lap->min_speed_kmh);
	put_kmh(o, "max_speed_kmh", lap->max_speed_kmh);
	out_printf(o, ",\"frames\":%lu}", (unsigned long)lap->frames);
}

size_t lap_to_json(const struct lap *lap, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };

	if (cap)
		buf[0] = '\0';
	put_lap(&o, lap);
	return o.len;
}

size_t lap_event_to_json(const struct lap_event *ev, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };

	if (cap)
		buf[0] = '\0';
	out_printf(&o, "{\"event\":\"%s\"", lap_event_name(ev->kind));
	if (ev->kind == LAP_SESSION_CHANGED) {
		out_printf(&o, ",\"from_session\":%llu,\"to_session\":%llu}",
			   (unsigned long long)ev->from_session,
			   (unsigned long long)ev->to_session);
	} else {
		out_printf(&o, ",\"lap\":");
		put_lap(&o, &ev->lap);
		out_printf(&o, "}");
	}
	return o.len;
}
