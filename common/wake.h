/*
 * wake.h - sleep until any of several futex words moves, or a deadline.
 *
 * A reader of the feed rings sleeps on each segment's notify word (common/seg.h:
 * pw-capture bumps it and FUTEX_WAKEs once per receive batch) and on words of
 * its own process (another thread bumps one with wake_bump), all at once, with
 * Linux's futex_waitv (5.16+). The words of a segment are shared (the mapping
 * is another process's, read-only here); a process's own words are private.
 *
 * Use: take each word's value, do the work that value stands for, then wait
 * with the values taken before the work. A word that moved after its value was
 * taken ends the wait at once, so no wake-up is lost between work and sleep.
 *
 *	struct wake_set ws;
 *	wake_set_init(&ws);
 *	wake_add(&ws, seg_notify_word(seg), seg_notify_value(seg), WAKE_SHARED);
 *	wake_add(&ws, &my_word, atomic_load(&my_word), WAKE_PRIVATE);
 *	... drain the ring ...
 *	wake_wait(&ws, deadline_ns);
 *
 * Without futex_waitv (an older kernel, ENOSYS) a set of one word waits with
 * FUTEX_WAIT and a larger set sleeps WAKE_FALLBACK_NS at most: readers poll
 * then, as they did before, and say so once in the log (wake_polling()).
 * A struct wake_set lives on the caller's stack; nothing is allocated.
 */
#ifndef PW_WAKE_H
#define PW_WAKE_H

#include <stdatomic.h>
#include <stdint.h>

#define WAKE_MAX 32                    /* words in one set (futex_waitv takes 128) */
#define WAKE_FALLBACK_NS (1000 * 1000) /* poll period without futex_waitv */

enum wake_scope { WAKE_PRIVATE = 0, WAKE_SHARED = 1 };

/* The kernel's struct futex_waitv, spelled out so no header of a newer kernel
 * is needed to build. */
struct wake_waiter {
	uint64_t val;
	uint64_t uaddr;
	uint32_t flags;
	uint32_t reserved;
};

struct wake_set {
	int n;
	struct wake_waiter w[WAKE_MAX];
};

void wake_set_init(struct wake_set *ws);
/* Wait while *word == seen. -ENOSPC when the set holds WAKE_MAX words already
 * (the word is not added: the caller's deadline still bounds its wait). */
int wake_add(struct wake_set *ws, const _Atomic uint32_t *word, uint32_t seen,
	     enum wake_scope scope);
/*
 * Sleep until a word of ws differs from its seen value, it is woken, the
 * CLOCK_MONOTONIC deadline_ns passes (<= now: do not sleep) or a signal
 * comes. Returns 1 when a word moved or was woken, 0 at the deadline or on a
 * signal. An empty set sleeps until the deadline.
 */
int wake_wait(const struct wake_set *ws, int64_t deadline_ns);
/* Move a private word and wake every thread waiting on it. */
void wake_bump(_Atomic uint32_t *word);
/* 1 when this kernel has no futex_waitv and sets of several words poll. */
int wake_polling(void);

#endif
