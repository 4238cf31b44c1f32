/* framecols.c - a run's frames as columns (framecols.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/framecols.h"

#define FRAMECOLS_HUGE_PAGE (2u << 20)
#define FRAMECOLS_HUGE_MIN (4u << 20)

/* The head's arrays: where each lives in the struct and in a frame. */
static const struct {
	unsigned part;
	size_t field;     /* offsetof(struct framecols, array) */
	size_t off, size; /* in struct pw_frame */
} head[] = {
	{ FRAMECOLS_SEQ, offsetof(struct framecols, seq), offsetof(struct pw_frame, seq), 8 },
	{ FRAMECOLS_T_NS, offsetof(struct framecols, t_ns), offsetof(struct pw_frame, t_ns), 8 },
	{ FRAMECOLS_PRESENT, offsetof(struct framecols, present),
	  offsetof(struct pw_frame, present), 8 },
	{ FRAMECOLS_SESSION, offsetof(struct framecols, game_session),
	  offsetof(struct pw_frame, game_session), 8 },
	{ FRAMECOLS_IDS, offsetof(struct framecols, version), offsetof(struct pw_frame, version),
	  2 },
	{ FRAMECOLS_IDS, offsetof(struct framecols, game), offsetof(struct pw_frame, game), 1 },
	{ FRAMECOLS_IDS, offsetof(struct framecols, feed), offsetof(struct pw_frame, feed), 1 },
	{ FRAMECOLS_FLAGS, offsetof(struct framecols, flags), offsetof(struct pw_frame, flags), 2 },
	{ FRAMECOLS_FLAGS, offsetof(struct framecols, flags_known),
	  offsetof(struct pw_frame, flags_known), 2 },
	{ FRAMECOLS_DERIVED, offsetof(struct framecols, derived),
	  offsetof(struct pw_frame, derived), 8 },
};
#define NHEAD (sizeof head / sizeof *head)

static void **head_array(struct framecols *c, size_t i)
{
	return (void **)((char *)c + head[i].field);
}

static const void *head_array_c(const struct framecols *c, size_t i)
{
	return *(void *const *)((const char *)c + head[i].field);
}

/*
 * An array of bytes: a large one on huge pages where the kernel offers them
 * (transparent huge pages in madvise mode): an hour's column of floats is
 * 4.8 MB, and faulting it in 4 KiB pages costs the kernel more than
 * decoding it.
 */
static void *array_new(size_t bytes)
{
	void *p;

	if (bytes < FRAMECOLS_HUGE_MIN)
		return malloc(bytes);
	if (posix_memalign(&p, FRAMECOLS_HUGE_PAGE, bytes) != 0)
		return NULL;
	madvise(p, bytes & ~(size_t)(FRAMECOLS_HUGE_PAGE - 1), MADV_HUGEPAGE);
	return p;
}

/* array_new's, zero-filled: calloc maps a large block fresh and leaves it
 * untouched (no page is faulted in until written). */
static void *array_zeroed(size_t bytes)
{
	uint8_t *p = calloc(1, bytes), *from, *to;

	if (p && bytes >= FRAMECOLS_HUGE_MIN) {
		from = (uint8_t *)(((uintptr_t)p + FRAMECOLS_HUGE_PAGE - 1) &
				   ~(uintptr_t)(FRAMECOLS_HUGE_PAGE - 1));
		to = (uint8_t *)((uintptr_t)(p + bytes) & ~(uintptr_t)(FRAMECOLS_HUGE_PAGE - 1));
		if (to > from)
			madvise(from, (size_t)(to - from), MADV_HUGEPAGE);
	}
	return p;
}

/* Arrays made by make for c's n frames of channels and parts (none of which
 * c holds), added to c. 0, or -ENOMEM with c as it was. */
static int add_arrays(struct framecols *c, uint64_t channels, unsigned parts, void *(*make)(size_t))
{
	size_t m = c->n ? c->n : 1;

	for (size_t i = 0; i < NHEAD; i++)
		if ((parts & head[i].part) && !(*head_array(c, i) = make(m * head[i].size)))
			goto fail;
	for (unsigned b = 0; b < FRAME_P_COUNT; b++)
		if ((channels >> b & 1) && !(c->ch[b] = make(m * frame_channels[b].size)))
			goto fail;
	c->channels |= channels;
	c->parts |= parts;
	return 0;
fail: /* free(NULL) for the arrays not made yet */
	for (size_t i = 0; i < NHEAD; i++)
		if (parts & head[i].part) {
			free(*head_array(c, i));
			*head_array(c, i) = NULL;
		}
	for (unsigned b = 0; b < FRAME_P_COUNT; b++)
		if (channels >> b & 1) {
			free(c->ch[b]);
			c->ch[b] = NULL;
		}
	return -ENOMEM;
}

int framecols_alloc(struct framecols *c, size_t n, uint64_t channels, unsigned parts)
{
	memset(c, 0, sizeof *c);
	c->n = n;
	if (add_arrays(c, channels & FRAME_P_ALL, parts & FRAMECOLS_HEAD, array_new) < 0) {
		framecols_free(c);
		return -ENOMEM;
	}
	return 0;
}

int framecols_add(struct framecols *c, uint64_t channels, unsigned parts)
{
	return add_arrays(c, channels & FRAME_P_ALL & ~c->channels,
			  parts & FRAMECOLS_HEAD & ~c->parts, array_zeroed);
}

int framecols_aside(struct framecols *aside, const struct framecols *c)
{
	memset(aside, 0, sizeof *aside);
	if (!c->seq)
		return -EINVAL;
	if (!(aside->seq = malloc((c->n ? c->n : 1) * sizeof *aside->seq)))
		return -ENOMEM;
	memcpy(aside->seq, c->seq, c->n * sizeof *aside->seq);
	aside->n = c->n;
	aside->parts = FRAMECOLS_SEQ;
	return 0;
}

void framecols_take(struct framecols *c, struct framecols *from)
{
	for (unsigned b = 0; b < FRAME_P_COUNT; b++)
		if (from->ch[b] && !c->ch[b]) {
			c->ch[b] = from->ch[b];
			from->ch[b] = NULL;
			c->channels |= 1ull << b;
		}
	framecols_free(from);
}

static void shrink_one(void **p, size_t bytes)
{
	void *q;

	if (*p && bytes && (q = realloc(*p, bytes)))
		*p = q;
}

void framecols_shrink(struct framecols *c, size_t n)
{
	if (n >= c->n)
		return;
	c->n = n;
	for (size_t i = 0; i < NHEAD; i++)
		shrink_one(head_array(c, i), n * head[i].size);
	for (unsigned b = 0; b < FRAME_P_COUNT; b++)
		shrink_one(&c->ch[b], n * frame_channels[b].size);
}

void framecols_free(struct framecols *c)
{
	for (size_t i = 0; i < NHEAD; i++)
		free(*head_array(c, i));
	for (unsigned b = 0; b < FRAME_P_COUNT; b++)
		free(c->ch[b]);
	memset(c, 0, sizeof *c);
}

/* frame_upgrade, a column at a time: a version 1 frame knows nothing at or
 * after yaw_rate_rads. */
void framecols_upgrade(struct framecols *c)
{
	const size_t v2_from = offsetof(struct pw_frame, yaw_rate_rads);

	if (!c->version)
		return;
	for (size_t i = 0; i < c->n; i++) {
		if (c->version[i] != 1)
			continue;
		c->version[i] = FRAME_VERSION;
		if (c->present)
			c->present[i] &= FRAME_P_V1;
		if (c->derived)
			c->derived[i] = 0;
		for (unsigned b = 0; b < FRAME_P_COUNT; b++)
			if (c->ch[b] && frame_channels[b].off >= v2_from)
				memset((uint8_t *)c->ch[b] + i * frame_channels[b].size, 0,
				       frame_channels[b].size);
	}
}

void framecols_rows(const struct framecols *c, size_t first, size_t count, struct pw_frame *out)
{
	memset(out, 0, count * sizeof *out);
	framecols_fill(c, first, count, out);
}

/* count values of size bytes from a (a[k], or a[idx[k]] when idx is given) into the
 * frames at out, at off in each: a constant size per loop, so each copy is a move or two. */
static void fill_one(uint8_t *out, size_t off, const uint8_t *a, size_t size, const size_t *idx,
		     size_t count)
{
	uint8_t *d = out + off;

#define FILL(N)                                                          \
	if (idx)                                                         \
		for (size_t k = 0; k < count; k++)                       \
			memcpy(d + k * FRAME_SIZE, a + idx[k] * (N), N); \
	else                                                             \
		for (size_t k = 0; k < count; k++)                       \
			memcpy(d + k * FRAME_SIZE, a + k * (N), N);      \
	break;
	switch (size) {
	case 1:
		FILL(1)
	case 2:
		FILL(2)
	case 4:
		FILL(4)
	case 8:
		FILL(8)
	case 12:
		FILL(12)
	case 16:
		FILL(16)
	default:
		FILL(size)
	}
#undef FILL
}

/* framecols_fill and framecols_fill_only (idx NULL: from first on, else the frames
 * at idx): what c holds of the channels and parts asked for. */
static void fill(const struct framecols *c, size_t first, const size_t *idx, size_t count,
		 uint64_t channels, unsigned parts, struct pw_frame *out)
{
	for (size_t i = 0; i < NHEAD; i++) {
		const uint8_t *a = head_array_c(c, i);

		if (a && (parts & head[i].part))
			fill_one((uint8_t *)out, head[i].off, a + first * head[i].size,
				 head[i].size, idx, count);
	}
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const uint8_t *a = c->ch[b];
		size_t sz = frame_channels[b].size;

		if (a && (channels >> b & 1))
			fill_one((uint8_t *)out, frame_channels[b].off, a + first * sz, sz, idx,
				 count);
	}
}

void framecols_fill(const struct framecols *c, size_t first, size_t count, struct pw_frame *out)
{
	fill(c, first, NULL, count, FRAME_P_ALL, FRAMECOLS_HEAD, out);
}

void framecols_fill_only(const struct framecols *c, size_t first, const size_t *idx, size_t count,
			 uint64_t channels, unsigned parts, struct pw_frame *out)
{
	fill(c, idx ? 0 : first, idx, count, channels, parts, out);
}

uint8_t *framecols_column(struct framecols *c, unsigned off, unsigned width, size_t *stride)
{
	for (size_t i = 0; i < NHEAD; i++)
		if (off >= head[i].off && off + width <= head[i].off + head[i].size &&
		    *head_array(c, i)) {
			*stride = head[i].size;
			return (uint8_t *)*head_array(c, i) + (off - head[i].off);
		}
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		const struct frame_channel *ch = &frame_channels[b];

		if (off >= ch->off && off + width <= ch->off + ch->size && c->ch[b]) {
			*stride = ch->size;
			return (uint8_t *)c->ch[b] + (off - ch->off);
		}
	}
	return NULL;
}

size_t framecols_bytes(const struct framecols *c)
{
	size_t per = 0;

	for (size_t i = 0; i < NHEAD; i++)
		per += head_array_c(c, i) ? head[i].size : 0;
	for (unsigned b = 0; b < FRAME_P_COUNT; b++)
		per += c->ch[b] ? frame_channels[b].size : 0;
	return per * c->n;
}
