/*
 * framecols.h - a run's frames as columns: one array per channel and per
 * part of the frame's head, holding only what a reader asked for, so that
 * an hour of 333 Hz frames costs memory in proportion to the channels an
 * analysis reads (a speed trace is 4.8 MB) rather than 461 MB of whole
 * frames. framefile_load_cols fills one from a frame file; framecols_rows
 * gives whole frames back a window at a time for code written against
 * struct pw_frame.
 *
 * Layout: n values per array, in seq order. Channel b's array holds n times
 * frame_channels[b].size bytes (vel_ms: n float[3]), in the frame's own
 * types. The head arrays are typed below. An array is NULL when it was not
 * asked for. Frames come out as framefile_load's do: upgraded to
 * FRAME_VERSION (frame_upgrade).
 *
 * Memory: every array is malloc'd and owned by the struct; framecols_free
 * releases them. Plain data otherwise: one thread at a time.
 */
#ifndef PW_FRAMECOLS_H
#define PW_FRAMECOLS_H

#include <stddef.h>
#include <stdint.h>

#include "common/frame.h"

/* The head's parts a reader may ask for (BLOCKCODEC_PART_BIT of blockcodec.h). */
#define FRAMECOLS_SEQ (1u << 0)
#define FRAMECOLS_T_NS (1u << 1)
#define FRAMECOLS_PRESENT (1u << 2)
#define FRAMECOLS_SESSION (1u << 3) /* game_session */
#define FRAMECOLS_IDS (1u << 4)     /* version, game, feed */
#define FRAMECOLS_FLAGS (1u << 5)   /* flags, flags_known */
#define FRAMECOLS_DERIVED (1u << 6)
#define FRAMECOLS_HEAD 0x7fu /* every part above */

struct framecols {
	size_t n;          /* frames */
	uint64_t channels; /* FRAME_P_* held */
	unsigned parts;    /* FRAMECOLS_* held */
	uint64_t *seq;
	int64_t *t_ns;
	uint64_t *present;
	uint64_t *game_session;
	uint16_t *version;
	uint8_t *game, *feed;
	uint16_t *flags, *flags_known;
	uint64_t *derived;
	void *ch[FRAME_P_COUNT]; /* channel b: n * frame_channels[b].size bytes */
};

/* Lifecycle */
/* Arrays for n frames of the channels and parts asked for (contents
 * undefined). 0, or -ENOMEM with nothing allocated. */
int framecols_alloc(struct framecols *c, size_t n, uint64_t channels, unsigned parts);
/* Arrays for c's n frames of the channels and parts asked for that c does
 * not hold yet, reading as zero (a large array's pages are the kernel's
 * zero pages until written: what a load of some frames leaves untouched
 * costs no memory). 0, or -ENOMEM with c as it was. */
int framecols_add(struct framecols *c, uint64_t channels, unsigned parts);
/* An empty set of columns for c's frames, with a copy of c's seqs: what a
 * load of more of c's channels can fill while c is being read elsewhere
 * (framecols_take then moves them in). 0, or -ENOMEM with *aside zeroed. */
int framecols_aside(struct framecols *aside, const struct framecols *c);
/* Move the channel arrays from holds and c does not into c (the same
 * frames), then free the rest of from. */
void framecols_take(struct framecols *c, struct framecols *from);
/* Keep only the first n frames (n <= c->n), giving memory back. */
void framecols_shrink(struct framecols *c, size_t n);
/* Free every array and zero *c. A zeroed struct is fine. */
void framecols_free(struct framecols *c);

/* Operations */
/* Bring every frame of an older version to FRAME_VERSION, as frame_upgrade
 * does (needs FRAMECOLS_IDS; a version 1 frame loses the later channels and
 * its derived bits). */
void framecols_upgrade(struct framecols *c);

/* Accessors */
/* Frames first .. first + count - 1 as whole frames into out: what c holds
 * is copied, everything else is zero. first + count must not pass c->n. */
void framecols_rows(const struct framecols *c, size_t first, size_t count, struct pw_frame *out);
/* The same without zeroing: only the bytes of what c holds are written (a
 * window of frames reused for one framecols is zeroed once). */
void framecols_fill(const struct framecols *c, size_t first, size_t count, struct pw_frame *out);
/* framecols_fill of the channels (FRAME_P_*) and head parts (FRAMECOLS_*) asked
 * for only, the rest of out left as it was: a reader of a few channels over many
 * frames writes (and reads from memory) only those. idx NULL: frames first ..
 * first + count - 1; else the frames at idx[0 .. count - 1] (any indices below
 * c->n, first unused) into out[0 .. count - 1]: a window of the frames a reader
 * keeps, those between unmade. */
void framecols_fill_only(const struct framecols *c, size_t first, const size_t *idx, size_t count,
			 uint64_t channels, unsigned parts, struct pw_frame *out);
/* Where the frame bytes [off, off + width) of frame 0 are held in c, and in
 * *stride the step to the next frame's; NULL when c holds no array for them. */
uint8_t *framecols_column(struct framecols *c, unsigned off, unsigned width, size_t *stride);
/* Bytes of memory c's arrays hold. */
size_t framecols_bytes(const struct framecols *c);
/* The address of channel b's values of frame i (NULL when not held). */
static inline const void *framecols_at(const struct framecols *c, unsigned b, size_t i)
{
	return c->ch[b] ? (const uint8_t *)c->ch[b] + i * frame_channels[b].size : NULL;
}

#endif
