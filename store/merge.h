/*
 * merge.h - merge the frames of several feeds into one run stream
 * (the run's `merge_feeds`).
 *
 * A run records a primary feed; `merge_feeds` adds more feeds for the same car
 * at the same time (e.g. AC's remote telemetry plus another tool's feed). The
 * run must hold ONE time-ordered stream in which every frame carries every
 * channel any feed supplied for that instant. This module does that, streaming:
 * the store pushes frames as it drains each ring and pops fused frames as soon
 * as they are final, for runs of any length, in bounded memory.
 *
 * Sources. Source 0 is the primary feed, sources 1..n-1 the extra feeds in
 * priority order (the order of merge_feeds). Each source is pushed in its own
 * receive order (t_ns ascending, the ring's seq ascending); sources may
 * interleave arbitrarily and lag each other by up to lag_ns. The merger never
 * looks at f->feed: frames keep their own feed/game fields.
 *
 * The rules (w = window_ns, X = gap_ns; all comparisons on t_ns):
 *
 * 1. Acceptance, per source, against the last frame accepted from it:
 *    same t_ns or same seq -> MERGE_DUP (dropped); older t_ns -> MERGE_LATE
 *    (dropped). A frame at or before the horizon (below) -> MERGE_LATE.
 *
 * 2. Timeline. Every primary frame is a timeline frame: the output has exactly
 *    one frame per primary frame, with the primary's t_ns, seq, feed, game,
 *    game_session and version. A frame x of extra source s becomes a timeline
 *    frame of its own only where every higher-priority source r < s is absent:
 *    with prev/next the frames of r just at-or-before / after x,
 *        x.t - prev.t > w  and  next.t - x.t > w  and  next.t - prev.t > X
 *    (a missing prev or next counts as infinitely far). So extra frames keep
 *    the run going while the primary has a gap longer than X, has not started
 *    yet or has stopped; an extra frame that is near no primary frame while
 *    the primary is running (gap <= X) is dropped. Reason: analysis wants one
 *    steady timeline with a stable channel set; interleaving extra-only frames
 *    between primary frames would make channels flicker present/absent,
 *    while a short primary hiccup is better left as a hole to interpolate.
 *
 * 3. Fusion. A timeline frame T of source s takes, from each lower-priority
 *    source q > s in order, the q-frame nearest to T.t with |dt| <= w
 *    (exactly +-w still counts; a tie picks the earlier frame). From it T gets
 *    every channel T does not have yet (presence-mask OR; a channel present
 *    in both keeps T's value, i.e. the higher-priority feed wins), copied with
 *    its presence bit; flags likewise per flags_known bit. A channel T only
 *    has derived (pw_frame.derived) counts as missing where q has the game's
 *    own; a copied channel brings its derived bit along. One extra frame may
 *    fill several timeline frames (a 20 Hz feed fills every frame of a 60 Hz
 *    primary when w >= half its period plus jitter). Identity fields are
 *    never taken from a contributor. Consequence: (feed, seq) of an output
 *    frame always names the ring frame that gave it its identity and t_ns.
 *
 * 4. Order. Output frames come in (t_ns, source) order, t_ns never decreasing.
 *    A frame is popped only when final: every frame that could change it is
 *    known. Frames with t_ns <= horizon are known, where
 *        horizon = max(min over sources of their last t_ns,
 *                      newest t_ns pushed - lag_ns, merge_advance() - lag_ns)
 *    and merge_flush() makes it +infinity. A primary frame is final once
 *    every extra source has a frame after it (or w later at most); an extra
 *    frame in a primary gap X after the last primary frame; a source that
 *    stops (or never starts) holds the output back by at most lag_ns + w.
 *    Output t_ns is strictly increasing: two timeline frames never share a
 *    t_ns (the lower-priority one would be within w of the other).
 *
 * The result depends only on the accepted frames, never on how pushes and
 * pops interleave (tests/fuzz/fuzz_merge.c checks this against a direct
 * implementation of the rules).
 *
 * Memory. Each source queues at most MERGE_QUEUE_MAX frames (grown on demand
 * from MERGE_QUEUE_MIN): at most sources x MERGE_QUEUE_MAX x 385 B, 1.5 MiB per
 * source. In steady state a queue holds at most about (lag + X + 2w) x the
 * feed's rate: ~540 frames for a 333 Hz feed with the defaults (measured:
 * 402 for a 333 Hz primary next to a stalled source). A push into a full
 * queue returns MERGE_FULL without taking the frame and pulls the horizon
 * forward so that the next merge_pop calls free that queue: pop until
 * merge_pop returns 0, then push the same frame again; at most two rounds
 * (the first frees all but the last ~X + 2w of the queue, the second, only
 * needed when the whole queue spans less than that, frees all of it; the
 * frame is then taken or MERGE_LATE). Pulling the horizon
 * forward can make not-yet-pushed frames of other sources MERGE_LATE, so push
 * the sources in slices of at most a few seconds each, not one whole backlog
 * after another.
 *
 * Time: t_ns is the capture host's realtime receive time; all sources must
 * come from one host clock. A backwards step of that clock makes the frames
 * MERGE_LATE until the clock has caught up again.
 *
 * Threads: a merger is plain process-local state; one thread at a time.
 */
#ifndef PW_MERGE_H
#define PW_MERGE_H

#include <stdint.h>

#include "common/frame.h"

#define MERGE_SOURCES_MAX 8
#define MERGE_QUEUE_MIN 64u
#define MERGE_QUEUE_MAX 4096u               /* frames per source, a power of two */
#define MERGE_WINDOW_NS_DEFAULT 100000000ll /* 100 ms: fills from feeds down to 5 Hz */
#define MERGE_GAP_NS_DEFAULT 500000000ll    /* primary silent > 0.5 s -> extras take over */
#define MERGE_LAG_NS_DEFAULT 1000000000ll   /* sources may trail each other by 1 s */
#define MERGE_TIME_MAX_NS 3600000000000ll   /* upper limit of each of the three */

/* merge_push results (>= 0; errors are negative errno values). */
enum merge_result {
	MERGE_OK = 0, /* taken */
	MERGE_DUP,    /* dropped: same t_ns or seq as the source's previous frame */
	MERGE_LATE,   /* dropped: older than the source's previous frame or the horizon */
	MERGE_FULL,   /* NOT taken: the source's queue is full; pop, then push it again */
};

struct merge_params {
	unsigned sources;  /* 1..MERGE_SOURCES_MAX; source 0 is the primary */
	int64_t window_ns; /* w: fuse frames within +-w of a timeline frame */
	int64_t gap_ns;    /* X: a primary gap longer than this lets extra frames through */
	int64_t lag_ns;    /* how far one source may trail the newest frame pushed */
};

struct merge_source_stats {
	uint64_t in;       /* merge_push calls that returned MERGE_OK */
	uint64_t dup;      /* MERGE_DUP */
	uint64_t late;     /* MERGE_LATE */
	uint64_t full;     /* MERGE_FULL (not taken, so not in `in`) */
	uint64_t timeline; /* taken frames that became an output frame */
	uint64_t lent;     /* taken frames that filled channels of >= 1 output frame */
	uint64_t unused;   /* taken frames that did neither (near no timeline frame) */
	uint64_t queued;   /* frames held now (some already counted as timeline) */
	uint64_t queued_peak;
};

struct merge_stats {
	uint64_t emitted;   /* frames returned by merge_pop */
	uint64_t fused;     /* emitted frames that got a channel or flag from another source */
	int64_t horizon_ns; /* every frame with t_ns <= this is known (INT64_MAX after flush) */
	struct merge_source_stats src[MERGE_SOURCES_MAX];
};
/* Per source, in == timeline + lent + unused + (frames not resolved yet); after
 * merge_flush() and popping until 0 every taken frame is resolved. */

/* Lifecycle */
/* The defaults above for n sources. w should be at least half the period of
 * the slowest extra feed plus receive jitter, or some frames miss its channels. */
void merge_params_default(struct merge_params *p, unsigned sources);
/* NULL with errno EINVAL (sources out of range, a time < 0 or > MERGE_TIME_MAX_NS)
 * or ENOMEM. The caller owns the merger; free with merge_free(). */
struct merge *merge_new(const struct merge_params *p);
void merge_free(struct merge *m);

/* Operations */
/* Offer frame f (copied) of source src. Returns enum merge_result, or -EINVAL
 * (bad source, NULL) or -ENOMEM (the frame is not taken then). */
int merge_push(struct merge *m, unsigned src, const struct pw_frame *f);
/* Declare that every frame with t_ns <= now_ns - lag_ns has been pushed, so a
 * quiet stack (every feed stopped) still gets its frames out. now_ns is the
 * same realtime clock as t_ns. */
void merge_advance(struct merge *m, int64_t now_ns);
/* End of input: everything pushed so far becomes final; later pushes are
 * MERGE_LATE. Pop until 0 afterwards to get the rest. */
void merge_flush(struct merge *m);
/* Next fused frame into *out: 1 = a frame, 0 = none final yet (push more,
 * advance or flush). Never fails. */
int merge_pop(struct merge *m, struct pw_frame *out);

/* Accessors */
void merge_stats(const struct merge *m, struct merge_stats *st);
const struct merge_params *merge_params(const struct merge *m);

#endif
