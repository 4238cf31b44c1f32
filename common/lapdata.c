/* lapdata.c - see lapdata.h. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/corners.h"
#include "common/framefile.h"
#include "common/lapdata.h"

#define G0 9.80665
#define MARGIN_SEQS 2           /* read this many seqs past each end of the lap */
#define USABLE_FRAC 0.9         /* of a lap's frames with a channel: the lap has it */
#define WIN_BACK_M 10.0         /* projection window behind the last match */
#define WIN_AHEAD_M 50.0        /* ... and ahead of it, at least */
#define WIN_AHEAD_MOVES 3.0     /* ... or this many times the distance moved */
#define PROJ_NEAR_M 30.0        /* a match farther off searches the whole window */
#define MIN_SPEED_MS 1.0        /* slower does not extrapolate time */
#define LAT_G_MIN_SPEED_MS 10.0 /* curvature from lateral g only above this */
#define LAT_G_SMOOTH 5          /* +- samples of the moving average */
#define EPS_M 1e-9

/* What one frame tells the alignment, and the clocks. NAN = not given.
 * Floats where the frame has floats: 64 bytes a frame. */
struct lap_sample {
	double gt;     /* game clock, s */
	double tns;    /* receive time, s */
	double lapclk; /* the game's lap clock, s */
	float x, z;    /* world position */
	float spline, dist, track_len, speed_ms;
	float brake, lat_g, steer;
	int8_t part; /* -1 before the lap, 0 in it, +1 after it */
};

enum { HAS_POS, HAS_SPLINE, HAS_DIST, HAS_SPEED, HAS_LAPCLK, HAS_LAT_G, HAS_STEER, HAS_COUNT };

_Static_assert(sizeof(struct lap_sample) == 64, "a sample is one cache line");

struct lapdata_lap {
	struct lapdata_channels cs;
	struct manifest_eval *ev;           /* cs.manifest's, over the lap's frames */
	double mv[MANIFEST_CHANNELS_MAX];   /* its values of the frame being taken */
	unsigned nvals;                     /* doubles per frame */
	unsigned off[LAPDATA_MAX_CHANNELS]; /* of each channel in a frame's values */
	uint64_t seen_present;              /* presence bits some frame had */
	uint16_t seen_flags;                /* flags some frame reported */
	uint64_t seen_manifest;             /* manifest channels some frame had a value of */
	struct lap_sample *smp;
	float *val; /* n x nvals */
	size_t n, cap;
	size_t lap_frames;
	size_t count[HAS_COUNT]; /* lap frames with each */
	int have_lead, have_trail;
	int32_t time_ms;
	/* alignment */
	double *p, *t; /* progress m and time s of every sample */
	double D;      /* progress of the line at the lap's end */
	size_t *kept, nkept;
	double *ks, *kt; /* stretched distance and time of kept samples */
};

struct lapdata_result {
	size_t nlaps, npoints;
	double L;
	enum lapdata_align align;
	double *dist;
	double *time[1 + LAPDATA_MAX_LAPS];
	double *delta[1 + LAPDATA_MAX_LAPS];
	double *vals[1 + LAPDATA_MAX_LAPS][LAPDATA_MAX_CHANNELS];
	struct lapdata_lap *laps[1 + LAPDATA_MAX_LAPS];
	struct lapdata_corner_row *rows;
	size_t nrows;
	enum lapdata_corner_source corners_from;
};

/* --- channels --- */

_Static_assert(FRAME_P_COUNT <= LAPDATA_FLAG_ID &&
		       LAPDATA_FLAG_ID + FRAME_FLAG_COUNT <= LAPDATA_MANIFEST_ID &&
		       LAPDATA_MANIFEST_ID + MANIFEST_CHANNELS_MAX <= 256,
	       "channel, flag and manifest ids share a byte");

static const uint8_t default_ids[] = {
	FRAME_CH_SPEED, FRAME_CH_THROTTLE,  FRAME_CH_BRAKE,     FRAME_CH_STEER, FRAME_CH_GEAR,
	FRAME_CH_RPM,   FRAME_CH_ACCEL_LAT, FRAME_CH_ACCEL_LON, FRAME_CH_POS,
};

void lapdata_channels_default(struct lapdata_channels *cs)
{
	cs->n = sizeof default_ids;
	memcpy(cs->id, default_ids, sizeof default_ids);
	cs->manifest = NULL;
}

const char *lapdata_channel_name(unsigned id)
{
	if (id >= LAPDATA_MANIFEST_ID)
		return NULL;
	if (id >= LAPDATA_FLAG_ID)
		return frame_flag_name(id - LAPDATA_FLAG_ID);
	return frame_channel_name(id);
}

const char *lapdata_channels_name(const struct lapdata_channels *cs, unsigned c)
{
	unsigned id = cs->id[c];

	if (id >= LAPDATA_MANIFEST_ID)
		return cs->manifest && id - LAPDATA_MANIFEST_ID < cs->manifest->nchannels
			       ? cs->manifest->ch[id - LAPDATA_MANIFEST_ID].name
			       : "?";
	return lapdata_channel_name(id);
}

unsigned lapdata_channel_values(unsigned id)
{
	return id < FRAME_P_COUNT ? frame_channels[id].n : 1;
}

int lapdata_channel_discrete(unsigned id)
{
	if (id >= LAPDATA_MANIFEST_ID)
		return 0;
	if (id >= LAPDATA_FLAG_ID)
		return 1;
	return frame_channels[id].type != FRAME_T_F32 && frame_channels[id].type != FRAME_T_F64 &&
	       frame_channels[id].unit[0] == 0;
}

/* Decimals that keep what the games send: by unit. */
int lapdata_channel_decimals(unsigned id)
{
	static const struct {
		const char *unit;
		int decimals;
	} by_unit[] = {
		{ "km/h", 2 }, { "1/min", 1 }, { "g", 4 },  { "m", 3 },   { "m/s", 3 },
		{ "rad", 4 },  { "deg", 2 },   { "ms", 0 }, { "s", 4 },   { "degC", 2 },
		{ "kPa", 2 },  { "rad/s", 3 }, { "N", 1 },  { "N*m", 1 }, { "W", 0 },
		{ "l", 3 },    { "bar", 4 },   { "", 4 },
	};
	const char *unit;

	if (id >= LAPDATA_MANIFEST_ID)
		return 4;
	if (id >= LAPDATA_FLAG_ID || lapdata_channel_discrete(id))
		return 0;
	unit = frame_channels[id].unit;
	for (size_t i = 0; i < sizeof by_unit / sizeof *by_unit; i++)
		if (strcmp(unit, by_unit[i].unit) == 0)
			return by_unit[i].decimals;
	return 4;
}

static int channel_id(const char *name, size_t len, const struct manifest *m)
{
	for (size_t k = 0; m && k < m->nchannels; k++)
		if (strlen(m->ch[k].name) == len && memcmp(m->ch[k].name, name, len) == 0)
			return (int)(LAPDATA_MANIFEST_ID + k);
	for (unsigned i = 0; i < FRAME_P_COUNT; i++)
		if (frame_channels[i].name_len == len &&
		    memcmp(frame_channels[i].name, name, len) == 0)
			return (int)i;
	for (unsigned i = 0; i < FRAME_FLAG_COUNT; i++)
		if (strlen(frame_flag_name(i)) == len && memcmp(frame_flag_name(i), name, len) == 0)
			return (int)(LAPDATA_FLAG_ID + i);
	return -1;
}

static int bad_name(char *bad, size_t cap, const char *name, size_t len)
{
	if (cap)
		snprintf(bad, cap, "%.*s", (int)(len < cap ? len : cap - 1), name);
	return -EINVAL;
}

int lapdata_channels_parse(const char *list, struct lapdata_channels *cs, char *bad, size_t bad_cap)
{
	return lapdata_channels_parse_with(list, NULL, cs, bad, bad_cap);
}

int lapdata_channels_parse_with(const char *list, const struct manifest *m,
				struct lapdata_channels *cs, char *bad, size_t bad_cap)
{
	const char *p = list;

	cs->n = 0;
	cs->manifest = m;
	if (bad_cap)
		bad[0] = 0;
	if (!list || !*list)
		return -EINVAL;
	for (;;) {
		size_t len = strcspn(p, ",");
		int id = channel_id(p, len, m);

		if (id < 0 || cs->n == LAPDATA_MAX_CHANNELS)
			return bad_name(bad, bad_cap, p, len);
		for (unsigned i = 0; i < cs->n; i++)
			if (cs->id[i] == id)
				return bad_name(bad, bad_cap, p, len);
		cs->id[cs->n++] = (uint8_t)id;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

/* --- samples --- */

static double present(uint64_t have, uint64_t bit, double v)
{
	return (have & bit) && isfinite(v) ? v : NAN;
}

/* The values of a channel the frame has into o: NAN for what cannot be shown. */
static void read_values(const struct pw_frame *f, const struct frame_channel *ch, float *o)
{
	const char *m = (const char *)f + ch->off;

	for (unsigned k = 0; k < ch->n; k++) {
		double x;

		switch (ch->type) {
		case FRAME_T_F32: {
			float v;
			memcpy(&v, m + 4 * k, 4);
			x = v;
			break;
		}
		case FRAME_T_F64: {
			double v;
			memcpy(&v, m + 8 * k, 8);
			x = v;
			break;
		}
		case FRAME_T_I8:
			x = ((const int8_t *)m)[k];
			break;
		case FRAME_T_U8:
			x = ((const uint8_t *)m)[k];
			break;
		case FRAME_T_U16: {
			uint16_t v;
			memcpy(&v, m + 2 * k, 2);
			x = v;
			break;
		}
		default: {
			int32_t v;
			memcpy(&v, m + 4 * k, 4);
			x = v;
			break;
		}
		}
		o[k] = frame_value_known(ch, x) ? (float)x : NAN;
	}
}

static void fill_sample(struct lapdata_lap *l, size_t i, const struct pw_frame *f, int part)
{
	struct lap_sample *s = &l->smp[i];
	float *v = l->val + i * l->nvals;
	uint64_t p = f->present;
	int at_origin = f->pos_m[0] == 0.0f && f->pos_m[1] == 0.0f && f->pos_m[2] == 0.0f;

	s->part = (int8_t)part;
	s->gt = present(p, FRAME_P_GAME_TIME, f->game_time_s);
	s->tns = f->t_ns > 0 ? (double)f->t_ns / 1e9 : NAN;
	s->lapclk =
		present(p, FRAME_P_LAP_TIME, f->lap_time_ms >= 0 ? f->lap_time_ms / 1000.0 : NAN);
	s->x = at_origin ? NAN : (float)present(p, FRAME_P_POS, f->pos_m[0]);
	s->z = at_origin ? NAN : (float)present(p, FRAME_P_POS, f->pos_m[2]);
	s->spline = (float)present(p, FRAME_P_SPLINE, f->spline);
	s->dist = (float)present(p, FRAME_P_LAP_DIST, f->lap_dist_m);
	s->track_len =
		(float)present(p, FRAME_P_TRACK_LEN, f->track_len_m > 0 ? f->track_len_m : NAN);
	s->speed_ms = (float)present(p, FRAME_P_SPEED, f->speed_kmh / 3.6);
	s->brake = (float)present(p, FRAME_P_BRAKE, f->brake);
	s->lat_g = (float)present(p, FRAME_P_ACCEL_LAT, f->accel_lat_g);
	s->steer = (float)present(p, FRAME_P_STEER, f->steer);
	l->seen_present |= p;
	l->seen_flags |= f->flags_known;
	for (unsigned c = 0; c < l->cs.n; c++) {
		unsigned id = l->cs.id[c];
		float *o = v + l->off[c];

		if (id >= LAPDATA_MANIFEST_ID) {
			double x = l->mv[id - LAPDATA_MANIFEST_ID];

			o[0] = isnan(x) ? NAN : (float)x;
			if (!isnan(x))
				l->seen_manifest |= 1ull << (id - LAPDATA_MANIFEST_ID);
		} else if (id >= LAPDATA_FLAG_ID) {
			unsigned bit = 1u << (id - LAPDATA_FLAG_ID);
			o[0] = (f->flags_known & bit) ? ((f->flags & bit) ? 1.0f : 0.0f) : NAN;
		} else if (!(p & frame_channels[id].bit)) {
			for (unsigned k = 0; k < frame_channels[id].n; k++)
				o[k] = NAN;
		} else {
			read_values(f, &frame_channels[id], o);
		}
	}
	if (part == 0) {
		l->count[HAS_POS] += !isnan(s->x) && !isnan(s->z);
		l->count[HAS_SPLINE] += !isnan(s->spline);
		l->count[HAS_DIST] += !isnan(s->dist);
		l->count[HAS_SPEED] += !isnan(s->speed_ms);
		l->count[HAS_LAPCLK] += !isnan(s->lapclk);
		l->count[HAS_LAT_G] += !isnan(s->lat_g);
		l->count[HAS_STEER] += !isnan(s->steer);
	}
}

static struct lapdata_lap *lap_new(const struct lapdata_channels *cs, size_t cap, int32_t time_ms)
{
	struct lapdata_lap *l = calloc(1, sizeof *l);

	if (!l)
		return NULL;
	l->cs = *cs;
	for (unsigned c = 0; c < cs->n; c++) {
		l->off[c] = l->nvals;
		l->nvals += lapdata_channel_values(cs->id[c]);
	}
	l->cap = cap;
	l->time_ms = time_ms;
	l->smp = malloc(cap * sizeof *l->smp);
	l->val = malloc(cap * (l->nvals ? l->nvals : 1) * sizeof *l->val);
	if (!l->smp || !l->val || (cs->manifest && manifest_eval_new(cs->manifest, &l->ev) < 0)) {
		lapdata_lap_free(l);
		return NULL;
	}
	return l;
}

void lapdata_lap_free(struct lapdata_lap *l)
{
	if (!l)
		return;
	manifest_eval_free(l->ev);
	free(l->smp);
	free(l->val);
	free(l->p);
	free(l->kept);
	free(l);
}

size_t lapdata_lap_frames(const struct lapdata_lap *l)
{
	return l->lap_frames;
}

static int paused(const struct pw_frame *f)
{
	return (f->flags_known & FRAME_FLAG_PAUSED) && (f->flags & FRAME_FLAG_PAUSED);
}

/* Take frames of the lap, the last frame before it (slot 0) and the first
 * after it. Frames come in seq order. */
static int take_frames(struct lapdata_lap *l, const struct lapdata_span *sp,
		       const struct pw_frame *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (paused(&f[i]))
			continue;
		/* every frame in order: a derivative needs the one before */
		if (l->ev)
			manifest_apply(l->ev, &f[i], l->mv);
		if (f[i].seq < sp->start_seq) {
			if (!l->have_lead) {
				if (l->n)
					return -EINVAL; /* not in seq order */
				l->n = 1;
				l->have_lead = 1;
			}
			fill_sample(l, 0, &f[i], -1);
		} else if (f[i].seq <= sp->end_seq) {
			if (l->have_trail)
				return -EINVAL;
			if (l->n == l->cap || l->lap_frames == l->cap - 2)
				return -E2BIG;
			fill_sample(l, l->n++, &f[i], 0);
			l->lap_frames++;
		} else if (!l->have_trail) {
			if (l->n == l->cap)
				return -E2BIG;
			fill_sample(l, l->n++, &f[i], 1);
			l->have_trail = 1;
		}
	}
	return 0;
}

static int span_ok(const struct lapdata_span *sp)
{
	return sp && sp->end_seq >= sp->start_seq;
}

/* Bytes a lap keeps per frame: its sample, its values, the alignment's arrays. */
static size_t frame_bytes(const struct lapdata_channels *cs)
{
	size_t nv = 0;

	for (unsigned c = 0; c < cs->n; c++)
		nv += lapdata_channel_values(cs->id[c]);
	return sizeof(struct lap_sample) + nv * sizeof(float) + 4 * sizeof(double) + sizeof(size_t);
}

size_t lapdata_max_frames(const struct lapdata_channels *cs)
{
	size_t by_bytes = LAPDATA_MAX_LAP_BYTES / frame_bytes(cs);

	return by_bytes < LAPDATA_MAX_FRAMES ? by_bytes : LAPDATA_MAX_FRAMES;
}

/* Room for every seq of the lap and the bracketing frames, within the limit. */
static size_t span_cap(const struct lapdata_span *sp, const struct lapdata_channels *cs)
{
	uint64_t seqs = sp->end_seq - sp->start_seq, max = lapdata_max_frames(cs);

	return seqs >= max ? (size_t)max + 2 : (size_t)seqs + 3;
}

int lapdata_from_frames(const struct pw_frame *f, size_t n, const struct lapdata_span *sp,
			const struct lapdata_channels *cs, struct lapdata_lap **out)
{
	struct lapdata_lap *l;
	size_t a = 0, b = n;
	int rc;

	*out = NULL;
	if (!span_ok(sp) || !cs || (!f && n))
		return -EINVAL;
	while (a < n && f[a].seq < sp->start_seq)
		a++;
	while (b > a && f[b - 1].seq > sp->end_seq)
		b--;
	if (a == b)
		return -ENODATA;
	if (!(l = lap_new(cs, span_cap(sp, cs), sp->time_ms)))
		return -ENOMEM;
	a -= a > 0;
	b += b < n;
	if ((rc = take_frames(l, sp, f + a, b - a)) < 0 ||
	    (rc = l->lap_frames ? 0 : -ENODATA) < 0) {
		lapdata_lap_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* The channels a lap's frames are read for: the alignment's and the asked ones. */
static uint64_t lap_channels(const struct lapdata_channels *cs)
{
	uint64_t m = FRAME_P_GAME_TIME | FRAME_P_LAP_TIME | FRAME_P_POS | FRAME_P_SPLINE |
		     FRAME_P_LAP_DIST | FRAME_P_TRACK_LEN | FRAME_P_SPEED | FRAME_P_BRAKE |
		     FRAME_P_ACCEL_LAT | FRAME_P_STEER;

	for (unsigned c = 0; c < cs->n; c++)
		if (cs->id[c] < FRAME_P_COUNT)
			m |= 1ull << cs->id[c];
	/* what a manifest's formulas read (flags come with every frame) */
	for (size_t i = 0; cs->manifest && i < cs->manifest->ninputs; i++)
		if (!cs->manifest->inputs[i].flag)
			m |= 1ull << cs->manifest->inputs[i].bit;
	return m;
}

int lapdata_load(const char *path, const struct lapdata_span *sp, const struct lapdata_channels *cs,
		 struct lapdata_lap **out)
{
	struct framefile_reader *r = NULL;
	struct lapdata_lap *l = NULL;
	const struct pw_frame *f;
	uint64_t lo, hi, last = 0;
	size_t n;
	int rc;

	*out = NULL;
	if (!span_ok(sp) || !cs)
		return -EINVAL;
	lo = sp->start_seq > MARGIN_SEQS ? sp->start_seq - MARGIN_SEQS : 0;
	hi = sp->end_seq < UINT64_MAX - MARGIN_SEQS ? sp->end_seq + MARGIN_SEQS : UINT64_MAX;
	if ((rc = framefile_reader_open_range(&r, path, lo, hi, NULL)) < 0)
		return rc;
	framefile_reader_only(r, lap_channels(cs));
	if (!(l = lap_new(cs, span_cap(sp, cs), sp->time_ms))) {
		rc = -ENOMEM;
		goto out;
	}
	while ((rc = framefile_reader_next(r, &f, &n)) == 1) {
		last = f[n - 1].seq;
		if ((rc = take_frames(l, sp, f, n)) < 0)
			goto out;
	}
	if (rc < 0)
		goto out;
	if (!l->lap_frames)
		rc = -ENODATA;
	else if (last < sp->end_seq)
		rc = -EAGAIN;
out:
	framefile_reader_close(r);
	if (rc < 0) {
		lapdata_lap_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* --- alignment --- */

static int lap_has(const struct lapdata_lap *l, int what)
{
	return l->lap_frames >= 2 && (double)l->count[what] >= USABLE_FRAC * (double)l->lap_frames;
}

/* Index of the first / last sample of the lap itself. */
static size_t first_in(const struct lapdata_lap *l)
{
	return (size_t)l->have_lead;
}

static size_t last_in(const struct lapdata_lap *l)
{
	return l->n - 1 - (size_t)l->have_trail;
}

/* A float field of a sample by its offset (FIELD). */
static double sfield(const struct lap_sample *s, size_t off)
{
	float v;

	memcpy(&v, (const char *)s + off, sizeof v);
	return v;
}

#define FIELD(name) offsetof(struct lap_sample, name)

/* The median of a float field over the lap's frames, NAN when none has it. */
static double lap_median(const struct lapdata_lap *l, size_t field_off)
{
	double *v = malloc(l->n * sizeof *v), m = NAN;
	size_t k = 0;

	if (!v)
		return NAN;
	for (size_t i = first_in(l); i <= last_in(l); i++) {
		double x = sfield(&l->smp[i], field_off);
		if (!isnan(x))
			v[k++] = x;
	}
	if (k) {
		/* a few distinct values at most (a track length): a partial selection is plenty */
		for (size_t i = 0; i <= k / 2; i++)
			for (size_t j = i + 1; j < k; j++)
				if (v[j] < v[i]) {
					double t = v[i];
					v[i] = v[j];
					v[j] = t;
				}
		m = v[k / 2];
	}
	free(v);
	return m;
}

static double median_track_len(const struct lapdata_lap *l)
{
	size_t i = first_in(l);
	double first = l->smp[i].track_len;
	int same = 1;

	/* games send one constant: skip the sort when it is */
	for (; i <= last_in(l) && same; i++)
		same = l->smp[i].track_len == first || (isnan(first) && isnan(l->smp[i].track_len));
	return same ? first : lap_median(l, FIELD(track_len));
}

/* The clock of sample i, s: game time when every sample has it, else receive time. */
static int clock_kind(const struct lapdata_lap *l)
{
	int gt = 1, tns = 1;
	size_t a = first_in(l), b = last_in(l);

	for (size_t i = 0; i < l->n; i++) {
		gt &= !isnan(l->smp[i].gt);
		tns &= !isnan(l->smp[i].tns);
	}
	while (a < b && isnan(l->smp[a].lapclk))
		a++;
	while (b > a && isnan(l->smp[b].lapclk))
		b--;
	if (l->smp[b].lapclk - l->smp[a].lapclk >= 1.0) {
		/* a clock that does not keep pace with the game's lap clock is no clock:
		 * receive times of frames sent faster than real time (a replay, an
		 * emulator at full speed), a game clock that stood still */
		double lap = l->smp[b].lapclk - l->smp[a].lapclk;
		double rg = (l->smp[b].gt - l->smp[a].gt) / lap,
		       rt = (l->smp[b].tns - l->smp[a].tns) / lap;

		gt &= rg > 0.5 && rg < 2;
		tns &= rt > 0.5 && rt < 2;
	}
	return gt ? 1 : tns ? 2 : 0;
}

static double clk(const struct lapdata_lap *l, int kind, size_t i)
{
	return kind == 1 ? l->smp[i].gt : kind == 2 ? l->smp[i].tns : NAN;
}

/* Mean speed of samples a and b, m/s; NAN when neither has one. */
static double speed2(const struct lapdata_lap *l, size_t a, size_t b)
{
	double va = l->smp[a].speed_ms, vb = l->smp[b].speed_ms;

	return isnan(va) ? vb : isnan(vb) ? va : 0.5 * (va + vb);
}

/*
 * Distance travelled from sample a to b by speed x time: within the lap on
 * the game's lap clock where it runs (receive times bunch up when frames
 * were sent faster than real time: a replay, an emulator at full speed),
 * else on clock kind.
 */
static double moved(const struct lapdata_lap *l, int kind, size_t a, size_t b)
{
	double dt = NAN;

	if (l->smp[a].part == 0 && l->smp[b].part == 0)
		dt = l->smp[b].lapclk - l->smp[a].lapclk;
	if (isnan(dt) || dt < 0)
		dt = clk(l, kind, b) - clk(l, kind, a);
	return speed2(l, a, b) * dt;
}

/* Nearest point of segment j of the centre line to (px, pz): squared distance, *t in [0, 1]. */
static double seg_nearest(const struct lapdata_track *tr, size_t j, double px, double pz, double *t)
{
	size_t j1 = j + 1 == tr->n ? 0 : j + 1;
	double ax = tr->x[j], az = tr->z[j], dx = tr->x[j1] - ax, dz = tr->z[j1] - az;
	double l2 = dx * dx + dz * dz, u = l2 > 0 ? ((px - ax) * dx + (pz - az) * dz) / l2 : 0;

	u = u < 0 ? 0 : u > 1 ? 1 : u;
	*t = u;
	dx = ax + u * dx - px;
	dz = az + u * dz - pz;
	return dx * dx + dz * dz;
}

/*
 * A stored lap ends at the line: shift the unwrapped progress by whole laps
 * so the lap's last frame lies in (D / 2, 3 D / 2], just short of D for a
 * lap that ends where it should (also one seen only from its middle).
 */
static void end_at_line(struct lapdata_lap *l)
{
	size_t e = last_in(l);
	double k;

	while (e > first_in(l) && isnan(l->p[e]))
		e--;
	if (isnan(l->p[e]))
		return;
	k = ceil((l->p[e] - 1.5 * l->D) / l->D);
	for (size_t i = 0; i < l->n && k != 0; i++)
		l->p[i] -= k * l->D;
}

/* Segment j (unwrapped) if it is nearer than *best: 1 and *best, *bj, *bt updated. */
static int nearest_in(const struct lapdata_track *tr, long j, double px, double pz, double *best,
		      long *bj, double *bt)
{
	long n = (long)tr->n;
	double t, d = seg_nearest(tr, (size_t)(((j % n) + n) % n), px, pz, &t);

	if (d >= *best)
		return 0;
	*best = d;
	*bj = j;
	*bt = t;
	return 1;
}

/* Unit normal of the centre line at point k (mean of the adjacent directions). */
static void vertex_normal(const struct lapdata_track *tr, long k, double *nx, double *nz)
{
	long n = (long)tr->n, a = (k + n - 1) % n, b = (k + 1) % n;
	double ux = tr->x[k] - tr->x[a], uz = tr->z[k] - tr->z[a];
	double vx = tr->x[b] - tr->x[k], vz = tr->z[b] - tr->z[k];
	double lu = sqrt(ux * ux + uz * uz), lv = sqrt(vx * vx + vz * vz), tx, tz, lt;

	tx = (lu > 0 ? ux / lu : 0) + (lv > 0 ? vx / lv : 0);
	tz = (lu > 0 ? uz / lu : 0) + (lv > 0 ? vz / lv : 0);
	lt = sqrt(tx * tx + tz * tz);
	*nx = lt > 0 ? -tz / lt : 0;
	*nz = lt > 0 ? tx / lt : 0;
}

/*
 * Where on segment j the line from (px, pz) along the normal interpolated
 * between the segment's end normals meets it (unclamped t). The nearest
 * point of a polyline sticks at a vertex while a point off the line sweeps
 * the wedge between two segments' normals (outside a 20 m hairpin sampled
 * every 2 m, 0.6 m of a line 6 m off); interpolated normals map an offset
 * line smoothly, exactly for an arc. NAN when there is no solution.
 */
static double normal_t(const struct lapdata_track *tr, const double *nrm, long j, double px,
		       double pz)
{
	long j1 = (j + 1) % (long)tr->n;
	double nax = nrm[2 * j], naz = nrm[2 * j + 1], nbx = nrm[2 * j1], nbz = nrm[2 * j1 + 1];
	double dx = tr->x[j1] - tr->x[j], dz = tr->z[j1] - tr->z[j];
	double qx = px - tr->x[j], qz = pz - tr->z[j], mx, mz, A, B, C, disc, r1, r2;

	mx = nbx - nax;
	mz = nbz - naz;
	/* cross(q - t d, na + t m) = 0 */
	A = -(dx * mz - dz * mx);
	B = (qx * mz - qz * mx) - (dx * naz - dz * nax);
	C = qx * naz - qz * nax;
	if (fabs(A) < 1e-12 * (fabs(B) + 1e-300))
		return B != 0 ? -C / B : NAN;
	disc = B * B - 4 * A * C;
	if (disc < 0)
		return NAN;
	r1 = (-B + sqrt(disc)) / (2 * A);
	r2 = (-B - sqrt(disc)) / (2 * A);
	return fabs(r1 - 0.5) < fabs(r2 - 0.5) ? r1 : r2;
}

/* The nearest segment j (unwrapped), refined by normal_t onto it or a neighbour. */
static double refine_u(const struct lapdata_track *tr, const double *nrm, long j, double t_near,
		       double px, double pz)
{
	long n = (long)tr->n, jw = ((j % n) + n) % n;
	double t = normal_t(tr, nrm, jw, px, pz), t2;

	if (isnan(t) || t < -1 || t > 2)
		return (double)j + t_near;
	if (t < 0 && !isnan(t2 = normal_t(tr, nrm, (jw + n - 1) % n, px, pz)) && t2 >= 0 && t2 <= 1)
		return (double)(j - 1) + t2;
	if (t > 1 && !isnan(t2 = normal_t(tr, nrm, (jw + 1) % n, px, pz)) && t2 >= 0 && t2 <= 1)
		return (double)(j + 1) + t2;
	return (double)j + (t < 0 ? 0 : t > 1 ? 1 : t);
}

/* The centre line's vertex normals, x and z interleaved: 2 n doubles, malloc'd. */
static double *track_normals(const struct lapdata_track *tr)
{
	double *nrm = malloc(2 * tr->n * sizeof *nrm);

	for (size_t k = 0; nrm && k < tr->n; k++)
		vertex_normal(tr, (long)k, &nrm[2 * k], &nrm[2 * k + 1]);
	return nrm;
}

static void progress_track(struct lapdata_lap *l, const struct lapdata_track *tr, const double *nrm)
{
	double h = tr->length_m / (double)tr->n, u_prev = NAN, px = 0, pz = 0;
	long n = (long)tr->n;

	for (size_t i = 0; i < l->n; i++) {
		const struct lap_sample *s = &l->smp[i];
		double best = INFINITY, bu = 0, t;
		long bj = 0;

		l->p[i] = NAN;
		if (isnan(s->x) || isnan(s->z))
			continue;
		if (isnan(u_prev)) {
			for (long j = 0; j < n; j++) {
				double d = seg_nearest(tr, (size_t)j, s->x, s->z, &t);
				if (d < best) {
					best = d;
					bj = j;
					bu = t;
				}
			}
		} else {
			double step = sqrt((s->x - px) * (s->x - px) + (s->z - pz) * (s->z - pz));
			long j0 = (long)floor(u_prev);
			long lo = j0 - (long)ceil(WIN_BACK_M / h);
			long hi = j0 + (long)ceil(fmax(WIN_AHEAD_M, WIN_AHEAD_MOVES * step) / h);
			/* first the few segments the car can have reached, then on while the
			 * match still improves; the whole window when it stays far off */
			long near_hi = j0 + 1 + (long)ceil(WIN_AHEAD_MOVES * step / h), j;

			for (j = j0; j <= near_hi; j++)
				nearest_in(tr, j, s->x, s->z, &best, &bj, &bu);
			if (bj == j0 && bu == 0) /* at or behind the segment's start */
				nearest_in(tr, j0 - 1, s->x, s->z, &best, &bj, &bu);
			for (j = near_hi + 1; bj == j - 1 && j <= hi; j++)
				nearest_in(tr, j, s->x, s->z, &best, &bj, &bu);
			if (best > PROJ_NEAR_M * PROJ_NEAR_M) {
				if (hi - lo >= n)
					hi = lo + n - 1;
				for (j = lo; j <= hi; j++)
					nearest_in(tr, j, s->x, s->z, &best, &bj, &bu);
			}
		}
		bu = refine_u(tr, nrm, bj, bu, s->x, s->z);
		if (!isnan(u_prev)) {
			if (bu < u_prev)
				bu = u_prev; /* monotone */
		}
		u_prev = bu;
		px = s->x;
		pz = s->z;
		l->p[i] = bu * h;
	}
	l->D = tr->length_m;
	end_at_line(l);
}

/* Laps of spline between the lap's first and last frame with one. */
static double spline_span(const struct lapdata_lap *l)
{
	size_t a = first_in(l), b = last_in(l);

	while (a < b && isnan(l->p[a]))
		a++;
	while (b > a && isnan(l->p[b]))
		b--;
	return l->p[b] - l->p[a];
}

/* Distance driven over the lap by speed, for spline laps without a track length. */
static double driven_length(const struct lapdata_lap *l, int kind)
{
	double len = 0;

	for (size_t i = first_in(l) + 1; i <= last_in(l); i++) {
		double d = moved(l, kind, i - 1, i);
		if (isfinite(d) && d > 0)
			len += d;
	}
	return len;
}

/* Progress in laps (len 1), unwrapped at the line; then, with a length, in m. */
static void progress_spline(struct lapdata_lap *l, double len)
{
	double u_prev = NAN, raw_prev = 0;

	for (size_t i = 0; i < l->n; i++) {
		double sp = l->smp[i].spline, u;

		l->p[i] = NAN;
		if (isnan(sp))
			continue;
		u = isnan(u_prev) ? sp : u_prev + (sp - raw_prev) - nearbyint(sp - raw_prev);
		u_prev = u;
		raw_prev = sp;
		l->p[i] = u;
	}
	l->D = 1.0;
	end_at_line(l);
	for (size_t i = 0; i < l->n; i++)
		l->p[i] *= len;
	l->D = len;
}

static void progress_dist(struct lapdata_lap *l, int kind)
{
	size_t a = first_in(l), b = last_in(l), lastp = b;
	double len = median_track_len(l);

	for (size_t i = a; i <= b; i++)
		l->p[i] = l->smp[i].dist;
	while (lastp > a && isnan(l->p[lastp]))
		lastp--;
	if (l->have_lead) {
		double lead = l->smp[0].dist;
		/* the previous lap's distance, unless it runs on into this one */
		l->p[0] =
			!isnan(lead) && !isnan(l->p[a]) && lead <= l->p[a] && l->p[a] - lead < 50.0
				? lead
				: l->p[a] - moved(l, kind, 0, a);
	}
	l->D = !isnan(len) ? len : l->p[lastp];
	if (l->have_trail) {
		size_t e = l->n - 1;
		double trail = l->smp[e].dist;

		if (!isnan(trail) && trail >= l->p[lastp]) {
			l->p[e] = trail; /* no reset at the line */
		} else {
			l->p[e] = l->p[lastp] + moved(l, kind, lastp, e);
			if (!isnan(trail) && isfinite(l->p[e]))
				l->D = l->p[e] - trail; /* where the game's distance restarted */
		}
	}
}

static void progress_speed(struct lapdata_lap *l, int kind)
{
	size_t a = first_in(l), b = last_in(l);
	double lc = l->smp[a].lapclk, v = l->smp[a].speed_ms;

	/* from the line: the lap clock says how long ago it was crossed */
	l->p[a] = !isnan(lc) && !isnan(v) ? v * lc : 0.0;
	for (size_t i = a + 1; i < l->n; i++) {
		double d = moved(l, kind, i - 1, i);
		l->p[i] = l->p[i - 1] + (isfinite(d) && d > 0 ? d : 0.0);
	}
	if (l->have_lead) {
		double d = moved(l, kind, 0, a);
		l->p[0] = l->p[a] - (isfinite(d) ? d : 0.0);
	}
	l->D = l->p[b];
	if (l->time_ms >= 0 && !isnan(l->smp[b].lapclk) && !isnan(l->smp[b].speed_ms))
		l->D += l->smp[b].speed_ms * fmax(0.0, l->time_ms / 1000.0 - l->smp[b].lapclk);
	else if (l->have_trail)
		l->D = 0.5 * (l->p[b] + l->p[l->n - 1]);
}

/* The lap clock is the lap's time when most frames have it and it only grows. */
static int lapclk_usable(const struct lapdata_lap *l)
{
	double prev = -INFINITY;

	if (!lap_has(l, HAS_LAPCLK))
		return 0;
	for (size_t i = first_in(l); i <= last_in(l); i++) {
		double c = l->smp[i].lapclk;
		if (isnan(c))
			continue;
		if (c < prev)
			return 0;
		prev = c;
	}
	return 1;
}

/* Time of every sample from the lap's start (see lapdata.h, 3). */
static int lap_times(struct lapdata_lap *l, int kind)
{
	size_t a = first_in(l), b = last_in(l), f = a, e = b;
	int lapclk = lapclk_usable(l);

	for (size_t i = 0; i < l->n; i++)
		l->t[i] = NAN;
	if (lapclk) {
		for (size_t i = a; i <= b; i++)
			l->t[i] = l->smp[i].lapclk;
	} else if (kind) {
		double c0;

		while (f < b && isnan(l->p[f]))
			f++;
		c0 = clk(l, kind, f);
		if (l->have_lead && !isnan(l->p[0]) && l->p[0] < 0 && l->p[f] >= 0 &&
		    l->p[f] > l->p[0])
			c0 = clk(l, kind, 0) + (clk(l, kind, f) - clk(l, kind, 0)) * (0 - l->p[0]) /
						       (l->p[f] - l->p[0]);
		else if (l->smp[f].speed_ms > MIN_SPEED_MS && !isnan(l->p[f]))
			c0 -= l->p[f] / l->smp[f].speed_ms;
		for (size_t i = a; i <= b; i++)
			l->t[i] = clk(l, kind, i) - c0;
	} else {
		return -ENODATA;
	}
	f = a;
	while (f < b && isnan(l->t[f]))
		f++;
	while (e > f && isnan(l->t[e]))
		e--;
	if (l->have_lead) {
		double dt = clk(l, kind, f) - clk(l, kind, 0);
		if (isnan(dt) && speed2(l, 0, f) > MIN_SPEED_MS)
			dt = (l->p[f] - l->p[0]) / speed2(l, 0, f);
		l->t[0] = l->t[f] - dt;
	}
	if (l->have_trail) {
		size_t z = l->n - 1;
		double dt = clk(l, kind, z) - clk(l, kind, e), next = l->smp[z].lapclk;

		if (isnan(dt) && speed2(l, e, z) > MIN_SPEED_MS)
			dt = (l->p[z] - l->p[e]) / speed2(l, e, z);
		l->t[z] = l->t[e] + dt;
		/* the game's lap clock runs on across the line: the next lap's clock
		 * plus this lap's time, when the game timed the lap */
		if (lapclk && l->time_ms > 0 && !isnan(next) && next < l->smp[e].lapclk)
			l->t[z] = l->time_ms / 1000.0 + next;
	}
	return 0;
}

/* Keep the samples where progress and time both grow; stretch progress by scale. */
static int lap_keep(struct lapdata_lap *l, double scale)
{
	l->nkept = 0;
	for (size_t i = 0; i < l->n; i++) {
		double s = l->p[i] * scale, t = l->t[i];

		if (!isfinite(s) || !isfinite(t))
			continue;
		if (l->nkept && (s <= l->ks[l->nkept - 1] + EPS_M || t <= l->kt[l->nkept - 1]))
			continue;
		l->kept[l->nkept] = i;
		l->ks[l->nkept] = s;
		l->kt[l->nkept] = t;
		l->nkept++;
	}
	return l->nkept >= 2 ? 0 : -ENODATA;
}

static int lap_alloc_align(struct lapdata_lap *l)
{
	if (l->p)
		return 0;
	l->p = malloc(4 * l->n * sizeof *l->p);
	l->kept = malloc(l->n * sizeof *l->kept);
	if (!l->p || !l->kept) {
		free(l->p);
		free(l->kept);
		l->p = NULL;
		l->kept = NULL;
		return -ENOMEM;
	}
	l->t = l->p + l->n;
	l->ks = l->p + 2 * l->n;
	l->kt = l->p + 3 * l->n;
	return 0;
}

static int why_set(char *why, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int why_set(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (cap) {
		va_start(ap, fmt);
		vsnprintf(why, cap, fmt, ap);
		va_end(ap);
	}
	return -ENODATA;
}

/* The first method every lap supports. */
static int pick_align(struct lapdata_lap *const *laps, size_t n, const struct lapdata_track *tr,
		      char *why, size_t cap)
{
	static const int need[] = { HAS_POS, HAS_SPLINE, HAS_DIST, HAS_SPEED };
	const char *missing = "a world position, spline, lap distance or speed";

	for (int m = 0; m < LAPDATA_ALIGN_COUNT; m++) {
		int all = m != LAPDATA_ALIGN_TRACK || (tr && tr->n >= 3 && tr->length_m > 0);

		for (size_t k = 0; k < n && all; k++)
			all = lap_has(laps[k], need[m]);
		if (all)
			return m;
	}
	for (size_t k = 0; k < n; k++)
		if (laps[k]->lap_frames < 2)
			return why_set(why, cap, "lap %zu has %zu frame(s): too few to resample", k,
				       laps[k]->lap_frames);
	for (size_t k = 0; k < n; k++)
		if (!lap_has(laps[k], HAS_SPLINE) && !lap_has(laps[k], HAS_DIST) &&
		    !lap_has(laps[k], HAS_SPEED))
			return why_set(why, cap, "lap %zu has no %s in %.0f%% of its frames", k,
				       missing, USABLE_FRAC * 100);
	return why_set(why, cap, "the laps have no distance channel in common (%s)", missing);
}

static int align_lap(struct lapdata_lap *l, int method, const struct lapdata_track *tr,
		     const double *nrm, double spline_len)
{
	int kind = clock_kind(l), rc;

	if ((rc = lap_alloc_align(l)) < 0)
		return rc;
	switch (method) {
	case LAPDATA_ALIGN_TRACK:
		progress_track(l, tr, nrm);
		break;
	case LAPDATA_ALIGN_SPLINE: {
		double len = median_track_len(l);
		if (isnan(len) && spline_len > 0)
			len = spline_len;
		if (isnan(len)) {
			/* the lap's own length: driven distance over the fraction of a lap driven */
			double span;
			progress_spline(l, 1.0);
			span = spline_span(l);
			len = driven_length(l, kind) / (span > 0.05 ? span : 1.0);
		}
		progress_spline(l, len);
		break;
	}
	case LAPDATA_ALIGN_LAP_DIST:
		progress_dist(l, kind);
		break;
	default:
		progress_speed(l, kind);
		break;
	}
	if (!(l->D > 0) || !isfinite(l->D))
		return -ENODATA;
	return lap_times(l, kind);
}

/* --- resampling --- */

/* Index k of the kept sample with ks[k] <= d < ks[k + 1], clamped to [0, nkept - 2]. */
static size_t kept_at(const struct lapdata_lap *l, double d)
{
	size_t lo = 0, hi = l->nkept - 1;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (l->ks[mid] <= d)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Speed at an end of the kept samples for extrapolating time, m/s. */
static double end_speed(const struct lapdata_lap *l, int last)
{
	size_t k = last ? l->nkept - 1 : 0, a = last ? l->nkept - 2 : 0;
	double v = l->smp[l->kept[k]].speed_ms;

	if (isnan(v) || v < MIN_SPEED_MS)
		v = (l->ks[a + 1] - l->ks[a]) / (l->kt[a + 1] - l->kt[a]);
	return v;
}

static double time_at(const struct lapdata_lap *l, double d)
{
	size_t k;

	if (d < l->ks[0] - LAPDATA_EXTRAPOLATE_M || d > l->ks[l->nkept - 1] + LAPDATA_EXTRAPOLATE_M)
		return NAN; /* not driven in this lap */
	if (d <= l->ks[0])
		return l->kt[0] - (l->ks[0] - d) / end_speed(l, 0);
	if (d >= l->ks[l->nkept - 1])
		return l->kt[l->nkept - 1] + (d - l->ks[l->nkept - 1]) / end_speed(l, 1);
	k = kept_at(l, d);
	return l->kt[k] + (l->kt[k + 1] - l->kt[k]) * (d - l->ks[k]) / (l->ks[k + 1] - l->ks[k]);
}

/* Value v of a frame's channel at offset off between samples ia and ib at fraction f. */
static double mix(const struct lapdata_lap *l, size_t ia, size_t ib, double f, unsigned off,
		  int discrete, int angle)
{
	double a = l->val[ia * l->nvals + off], b = l->val[ib * l->nvals + off];

	if (isnan(a) || isnan(b))
		return isnan(a) ? b : a;
	if (discrete)
		return f < 0.5 ? a : b;
	if (angle)
		return remainder(a + f * remainder(b - a, 2 * M_PI), 2 * M_PI);
	return a + f * (b - a);
}

/* Some frame of the lap has channel c. */
static int lap_seen(const struct lapdata_lap *l, unsigned c)
{
	unsigned id = l->cs.id[c];

	if (id >= LAPDATA_MANIFEST_ID)
		return (l->seen_manifest >> (id - LAPDATA_MANIFEST_ID)) & 1;
	if (id >= LAPDATA_FLAG_ID)
		return (l->seen_flags >> (id - LAPDATA_FLAG_ID)) & 1;
	return (l->seen_present & frame_channels[id].bit) != 0;
}

static int resample_lap(struct lapdata_result *r, size_t k)
{
	struct lapdata_lap *l = r->laps[k];
	size_t np = r->npoints, j = 0, q = 0;
	double *time = malloc(np * sizeof *time);
	unsigned nvals[LAPDATA_MAX_CHANNELS];
	int disc[LAPDATA_MAX_CHANNELS], ang[LAPDATA_MAX_CHANNELS];

	if (!time)
		return -ENOMEM;
	r->time[k] = time;
	for (unsigned c = 0; c < l->cs.n; c++) {
		nvals[c] = lapdata_channel_values(l->cs.id[c]);
		disc[c] = lapdata_channel_discrete(l->cs.id[c]);
		ang[c] = l->cs.id[c] == FRAME_CH_YAW;
	}
	for (unsigned c = 0; c < l->cs.n; c++) {
		unsigned nv = lapdata_channel_values(l->cs.id[c]);
		if (lap_seen(l, c) && !(r->vals[k][c] = malloc(np * nv * sizeof(double))))
			return -ENOMEM;
	}
	for (j = 0; j < np; j++) {
		double d = r->dist[j], f;
		size_t ia, ib;

		while (q + 2 < l->nkept && l->ks[q + 1] <= d)
			q++;
		if (d <= l->ks[0]) {
			ia = ib = l->kept[0];
			f = 0;
		} else if (d >= l->ks[l->nkept - 1]) {
			ia = ib = l->kept[l->nkept - 1];
			f = 0;
		} else {
			ia = l->kept[q];
			ib = l->kept[q + 1];
			f = (d - l->ks[q]) / (l->ks[q + 1] - l->ks[q]);
		}
		time[j] = ia != ib ? l->kt[q] + f * (l->kt[q + 1] - l->kt[q]) : time_at(l, d);
		if (isnan(time[j]))
			ia = SIZE_MAX; /* not driven: no values either */
		for (unsigned c = 0; c < l->cs.n; c++) {
			unsigned nv = nvals[c];
			double *o = r->vals[k][c];

			if (!o)
				continue;
			for (unsigned v = 0; v < nv; v++)
				o[j * nv + v] = ia == SIZE_MAX ? NAN
							       : mix(l, ia, ib, f, l->off[c] + v,
								     disc[c], ang[c]);
		}
	}
	return 0;
}

/* --- corners --- */

/* A field of the kept samples at distance d (nearest finite sample). */
static double field_at(const struct lapdata_lap *l, size_t field_off, double d)
{
	size_t k = d <= l->ks[0] ? 0 : kept_at(l, d), best = SIZE_MAX;
	double a, b, f;

	if (d > l->ks[k] && k + 1 < l->nkept) {
		a = sfield(&l->smp[l->kept[k]], field_off);
		b = sfield(&l->smp[l->kept[k + 1]], field_off);
		f = (d - l->ks[k]) / (l->ks[k + 1] - l->ks[k]);
		f = f < 0 ? 0 : f > 1 ? 1 : f;
		if (!isnan(a) && !isnan(b))
			return a + f * (b - a);
	}
	for (size_t w = 0; w < l->nkept && best == SIZE_MAX; w++) {
		size_t c[2] = { k >= w ? k - w : SIZE_MAX, k + w };
		for (int i = 0; i < 2; i++)
			if (c[i] < l->nkept && !isnan(sfield(&l->smp[l->kept[c[i]]], field_off))) {
				best = c[i];
				break;
			}
	}
	return best == SIZE_MAX ? NAN : sfield(&l->smp[l->kept[best]], field_off);
}

static void corners_from_spans(struct lapdata_result *r, const struct corner_span *c, size_t nc,
			       double h)
{
	for (size_t i = 0; i < nc && r->nrows < LAPDATA_MAX_CORNERS; i++) {
		struct lapdata_corner *o = &r->rows[r->nrows].corner;

		o->number = (int)r->nrows + 1;
		o->dir = c[i].dir;
		o->start_m = fmod(fmax(c[i].entry_i, 0.0) * h, r->L);
		o->apex_m = fmod(c[i].apex_i * h, r->L);
		o->end_m = fmod(c[i].exit_i * h, r->L);
		r->nrows++;
	}
}

/* Moving average of the circular array a (n) over +-w samples, into out. */
static void smooth_circular(const double *a, double *out, size_t n, int w)
{
	for (size_t i = 0; i < n; i++) {
		double s = 0;
		for (int k = -w; k <= w; k++)
			s += a[((long)i + k + (long)n * (w + 1)) % (long)n];
		out[i] = s / (2 * w + 1);
	}
}

/* Corners of the reference lap when the track has no model. */
static int find_corners(struct lapdata_result *r)
{
	const struct lapdata_lap *ref = r->laps[0];
	size_t n = (size_t)fmax(round(r->L / LAPDATA_CORNER_STEP_M), 2 * CORNERS_DIFF + 1), nc;
	double h = r->L / (double)n, *b = malloc(8 * n * sizeof *b), hand = 0;
	double *x = b, *z = b + n, *head = b + 2 * n, *curv = b + 3 * n, *tmp = b + 4 * n;
	struct corner_span *c = malloc((n + 1) * sizeof *c);
	int have_pos = lap_has(ref, HAS_POS), rc = 0;

	if (!b || !c) {
		rc = -ENOMEM;
		goto out;
	}
	if (have_pos) {
		for (size_t i = 0; i < n; i++) {
			x[i] = field_at(ref, FIELD(x), (double)i * h);
			z[i] = field_at(ref, FIELD(z), (double)i * h);
		}
		corners_curvature(x, z, n, h, 1, head, curv, tmp);
		/* which way the game's axes turn: the path's turn against the physical one
		 * (lateral g, else steering; + right in both) */
		for (size_t i = 0; i < n && (ref->count[HAS_LAT_G] || ref->count[HAS_STEER]); i++) {
			double right =
				field_at(ref, ref->count[HAS_LAT_G] ? FIELD(lat_g) : FIELD(steer),
					 (double)i * h);
			if (!isnan(right))
				hand += curv[i] * right;
		}
		if (hand < 0)
			for (size_t i = 0; i < n; i++)
				curv[i] = -curv[i];
		r->corners_from = LAPDATA_CORNERS_PATH;
	} else if (ref->count[HAS_LAT_G] && ref->count[HAS_SPEED]) {
		for (size_t i = 0; i < n; i++) {
			double g = field_at(ref, FIELD(lat_g), (double)i * h);
			double v = field_at(ref, FIELD(speed_ms), (double)i * h);
			x[i] = !isnan(g) && v > LAT_G_MIN_SPEED_MS ? g * G0 / (v * v) : 0.0;
		}
		smooth_circular(x, z, n, LAT_G_SMOOTH);
		smooth_circular(z, curv, n, LAT_G_SMOOTH);
		r->corners_from = LAPDATA_CORNERS_LATERAL_G;
	} else {
		goto out; /* nothing to find corners in */
	}
	nc = corners_find(curv, n, h, c);
	corners_from_spans(r, c, nc, h);
out:
	free(b);
	free(c);
	return rc;
}

/* Time of lap l through [a, b] (b < a: across the line). */
static double span_time(const struct lapdata_lap *l, double a, double b, double L)
{
	if (b >= a)
		return time_at(l, b) - time_at(l, a);
	return time_at(l, L) - time_at(l, a) + time_at(l, b) - time_at(l, 0);
}

/* Lowest speed of lap l over [a, b] (a <= b, within the lap), km/h; NAN without speed. */
static double min_speed_in(const struct lapdata_lap *l, double a, double b)
{
	double m = INFINITY, v;
	size_t k = a <= l->ks[0] ? 0 : kept_at(l, a) + 1;

	for (; k < l->nkept && l->ks[k] <= b; k++)
		if (!isnan(v = l->smp[l->kept[k]].speed_ms) && v < m)
			m = v;
	v = field_at(l, FIELD(speed_ms), a);
	m = !isnan(v) && v < m ? v : m;
	v = field_at(l, FIELD(speed_ms), b);
	m = !isnan(v) && v < m ? v : m;
	return isfinite(m) ? m * 3.6 : NAN;
}

static double span_min_speed(const struct lapdata_lap *l, double a, double b, double L)
{
	double x, y;

	if (b >= a)
		return min_speed_in(l, a, b);
	x = min_speed_in(l, a, L);
	y = min_speed_in(l, 0, b);
	return isnan(x) ? y : isnan(y) ? x : fmin(x, y);
}

/* Where the brake first rises through LAPDATA_BRAKE_ON in [lo, hi] after
 * being released there; NAN when it does not. */
static double brake_point(const struct lapdata_lap *l, double lo, double hi)
{
	size_t k = lo <= l->ks[0] ? 0 : kept_at(l, lo);
	double pb = NAN, ps = 0;
	int armed = 0;

	for (; k < l->nkept && l->ks[k] <= hi; k++) {
		double br = l->smp[l->kept[k]].brake;

		if (isnan(br) || l->ks[k] < lo)
			continue;
		if (br < LAPDATA_BRAKE_ON) {
			armed = 1;
		} else if (armed) {
			if (isnan(pb) || br == pb)
				return l->ks[k];
			return ps + (l->ks[k] - ps) * (LAPDATA_BRAKE_ON - pb) / (br - pb);
		}
		pb = br;
		ps = l->ks[k];
	}
	return NAN;
}

static int corner_table(struct lapdata_result *r, const struct lapdata_track *tr)
{
	int rc = 0;

	if (!(r->rows = calloc(LAPDATA_MAX_CORNERS, sizeof *r->rows)))
		return -ENOMEM;
	if (tr && tr->ncorners) {
		for (size_t i = 0; i < tr->ncorners && i < LAPDATA_MAX_CORNERS; i++) {
			struct lapdata_corner c = tr->corners[i];
			double s = r->L / tr->length_m; /* the model's distances on this grid */
			c.start_m *= s;
			c.apex_m *= s;
			c.end_m *= s;
			r->rows[r->nrows++].corner = c;
		}
		r->corners_from = LAPDATA_CORNERS_TRACK;
	} else if ((rc = find_corners(r)) < 0) {
		return rc;
	}
	for (size_t i = 0; i < r->nrows; i++) {
		struct lapdata_corner_row *row = &r->rows[i];
		const struct lapdata_corner *c = &row->corner;
		const struct lapdata_corner *prev = &r->rows[(i + r->nrows - 1) % r->nrows].corner;
		double apex = c->apex_m, lo = prev->end_m;

		/* the brake window in this lap's distances: after the previous corner, at
		 * most BRAKE_WINDOW_M before this one, up to its apex */
		if (c->end_m < c->start_m && apex < c->start_m)
			apex += r->L;
		if (!(apex >= c->start_m &&
		      apex <= (c->end_m < c->start_m ? c->end_m + r->L : c->end_m)))
			apex = c->end_m < c->start_m ? c->start_m : 0.5 * (c->start_m + c->end_m);
		if (r->nrows == 1 || lo > c->start_m)
			lo -= r->L;
		lo = fmax(lo, c->start_m - 500.0);
		for (size_t k = 0; k < r->nlaps; k++) {
			const struct lapdata_lap *l = r->laps[k];
			row->time_s[k] = span_time(l, c->start_m, c->end_m, r->L);
			row->min_speed_kmh[k] = span_min_speed(l, c->start_m, c->end_m, r->L);
			row->brake_m[k] = brake_point(l, lo, apex);
		}
		for (size_t k = r->nlaps; k <= LAPDATA_MAX_LAPS; k++)
			row->time_s[k] = row->min_speed_kmh[k] = row->brake_m[k] = NAN;
	}
	return 0;
}

/* --- results --- */

/* The per-lap steps of lapdata_compute, one lap per call of lapdata_parallel. */
struct lap_job {
	struct lapdata_result *r;
	const struct lapdata_track *tr;
	const double *nrm; /* the track's vertex normals */
	int method;
	double spline_len;
	int rc[1 + LAPDATA_MAX_LAPS];
};

static void align_job(void *ctx, size_t k)
{
	struct lap_job *j = ctx;

	j->rc[k] = align_lap(j->r->laps[k], j->method, j->tr, j->nrm, j->spline_len);
}

static void resample_job(void *ctx, size_t k)
{
	struct lap_job *j = ctx;

	j->rc[k] = resample_lap(j->r, k);
}

struct par {
	void (*fn)(void *, size_t);
	void *ctx;
	size_t n;
	atomic_size_t next;
};

static void *par_main(void *arg)
{
	struct par *p = arg;
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->n)
		p->fn(p->ctx, i);
	return NULL;
}

void lapdata_parallel(size_t n, void (*fn)(void *ctx, size_t i), void *ctx)
{
	struct par p = { .fn = fn, .ctx = ctx, .n = n };
	pthread_t th[LAPDATA_THREADS];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = n < LAPDATA_THREADS ? n : LAPDATA_THREADS, started = 0;

	if (cpus > 0 && want > (size_t)cpus)
		want = (size_t)cpus;
	atomic_init(&p.next, 0);
	/* the caller is one of the threads; a thread that cannot start leaves its
	 * share to the others */
	for (size_t t = 1; t < want; t++)
		if (pthread_create(&th[started], NULL, par_main, &p) == 0)
			started++;
	par_main(&p);
	for (size_t t = 0; t < started; t++)
		pthread_join(th[t], NULL);
}

int lapdata_compute(struct lapdata_lap *const *laps, size_t n, const struct lapdata_track *tr,
		    double step_m, struct lapdata_result **out, char *why, size_t why_cap)
{
	struct lapdata_result *r;
	struct lap_job job;
	double spline_len = NAN, L, *nrm = NULL;
	int method, rc = 0;
	size_t np;

	*out = NULL;
	if (why_cap)
		why[0] = 0;
	if (!laps || n < 1 || n > 1 + LAPDATA_MAX_LAPS || !(step_m >= LAPDATA_STEP_MIN_M) ||
	    !(step_m <= LAPDATA_STEP_MAX_M))
		return -EINVAL;
	if ((method = pick_align(laps, n, tr, why, why_cap)) < 0)
		return method;
	if (!(r = calloc(1, sizeof *r)))
		return -ENOMEM;
	r->nlaps = n;
	r->align = (enum lapdata_align)method;
	memcpy(r->laps, laps, n * sizeof *laps);
	if (method == LAPDATA_ALIGN_SPLINE && tr && tr->length_m > 0)
		spline_len = tr->length_m;
	if (method == LAPDATA_ALIGN_TRACK && !(nrm = track_normals(tr))) {
		rc = -ENOMEM;
		goto out;
	}
	job = (struct lap_job){
		.r = r, .tr = tr, .nrm = nrm, .method = method, .spline_len = spline_len
	};
	lapdata_parallel(n, align_job, &job);
	for (size_t k = 0; k < n; k++)
		if ((rc = job.rc[k]) < 0) {
			if (rc == -ENODATA)
				why_set(why, why_cap, "lap %zu has no clock or no usable %s", k,
					lapdata_align_name(r->align));
			goto out;
		}
	/* every lap stretched to one length: the model's, else the reference's own */
	L = method == LAPDATA_ALIGN_TRACK ? tr->length_m : laps[0]->D;
	for (size_t k = 0; k < n; k++)
		if ((rc = lap_keep(laps[k], L / laps[k]->D)) < 0) {
			why_set(why, why_cap, "lap %zu keeps fewer than two samples on %s", k,
				lapdata_align_name(r->align));
			goto out;
		}
	r->L = L;
	np = (size_t)floor(L / step_m + 1e-9) + 1;
	if ((double)(np - 1) * step_m < L - 1e-6)
		np++;
	if (np > LAPDATA_MAX_POINTS) {
		rc = -E2BIG;
		goto out;
	}
	r->npoints = np;
	if (!(r->dist = malloc(np * sizeof *r->dist))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t j = 0; j < np; j++)
		r->dist[j] = j + 1 == np ? L : (double)j * step_m;
	lapdata_parallel(n, resample_job, &job);
	for (size_t k = 0; k < n; k++)
		if ((rc = job.rc[k]) < 0)
			goto out;
	for (size_t k = 1; k < n; k++) {
		if (!(r->delta[k] = malloc(np * sizeof(double)))) {
			rc = -ENOMEM;
			goto out;
		}
		for (size_t j = 0; j < np; j++)
			r->delta[k][j] = r->time[k][j] - r->time[0][j];
	}
	if (n >= 2)
		rc = corner_table(r, tr);
out:
	free(nrm);
	if (rc < 0) {
		lapdata_result_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void lapdata_result_free(struct lapdata_result *r)
{
	if (!r)
		return;
	free(r->dist);
	for (size_t k = 0; k <= LAPDATA_MAX_LAPS; k++) {
		free(r->time[k]);
		free(r->delta[k]);
		for (unsigned c = 0; c < LAPDATA_MAX_CHANNELS; c++)
			free(r->vals[k][c]);
	}
	free(r->rows);
	free(r);
}

size_t lapdata_points(const struct lapdata_result *r)
{
	return r->npoints;
}

const double *lapdata_distance(const struct lapdata_result *r)
{
	return r->dist;
}

const double *lapdata_time(const struct lapdata_result *r, size_t k)
{
	return k < r->nlaps ? r->time[k] : NULL;
}

const double *lapdata_delta(const struct lapdata_result *r, size_t k)
{
	return k < r->nlaps ? r->delta[k] : NULL;
}

const double *lapdata_values(const struct lapdata_result *r, size_t k, unsigned c)
{
	return k < r->nlaps && c < LAPDATA_MAX_CHANNELS ? r->vals[k][c] : NULL;
}

double lapdata_length(const struct lapdata_result *r)
{
	return r->L;
}

enum lapdata_align lapdata_alignment(const struct lapdata_result *r)
{
	return r->align;
}

size_t lapdata_corner_count(const struct lapdata_result *r)
{
	return r->nrows;
}

const struct lapdata_corner_row *lapdata_corner_row(const struct lapdata_result *r, size_t i)
{
	return i < r->nrows ? &r->rows[i] : NULL;
}

enum lapdata_corner_source lapdata_corners_from(const struct lapdata_result *r)
{
	return r->corners_from;
}

double lapdata_time_at(const struct lapdata_result *r, size_t k, double d)
{
	return k < r->nlaps ? time_at(r->laps[k], d) : NAN;
}

const char *lapdata_align_name(enum lapdata_align a)
{
	static const char *const names[LAPDATA_ALIGN_COUNT] = { "track", "spline", "lap_distance",
								"speed" };

	return (unsigned)a < LAPDATA_ALIGN_COUNT ? names[a] : "unknown";
}

const char *lapdata_corner_source_name(enum lapdata_corner_source s)
{
	switch (s) {
	case LAPDATA_CORNERS_TRACK:
		return "track_model";
	case LAPDATA_CORNERS_PATH:
		return "reference_path";
	case LAPDATA_CORNERS_LATERAL_G:
		return "reference_lateral_g";
	default:
		return "none";
	}
}
