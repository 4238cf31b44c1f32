/* wake.c - futex_waitv over segment and process words (see wake.h). */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/wake.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449 /* the same number on every architecture */
#endif
#define WAITV_U32 2       /* FUTEX2_SIZE_U32 */
#define WAITV_PRIVATE 128 /* FUTEX2_PRIVATE */

_Static_assert(sizeof(struct wake_waiter) == 24, "struct futex_waitv is 24 bytes");

static atomic_int no_waitv;

void wake_set_init(struct wake_set *ws)
{
	ws->n = 0;
}

int wake_add(struct wake_set *ws, const _Atomic uint32_t *word, uint32_t seen,
	     enum wake_scope scope)
{
	if (ws->n == WAKE_MAX)
		return -ENOSPC;
	ws->w[ws->n++] = (struct wake_waiter){
		.val = seen,
		.uaddr = (uint64_t)(uintptr_t)word,
		.flags = WAITV_U32 | (scope == WAKE_PRIVATE ? WAITV_PRIVATE : 0),
	};
	return 0;
}

static struct timespec abs_ts(int64_t t)
{
	return (struct timespec){ .tv_sec = t / NS_PER_S, .tv_nsec = t % NS_PER_S };
}

/* One word: FUTEX_WAIT takes a relative timeout. */
static int wait_one(const struct wake_waiter *w, int64_t deadline_ns)
{
	int64_t left = deadline_ns - clock_mono_ns();
	struct timespec rel;
	int op = FUTEX_WAIT | ((w->flags & WAITV_PRIVATE) ? FUTEX_PRIVATE_FLAG : 0);

	if (left <= 0)
		return 0;
	rel = abs_ts(left);
	if (syscall(SYS_futex, (uint32_t *)(uintptr_t)w->uaddr, op, (uint32_t)w->val, &rel, NULL,
		    0) == 0)
		return 1;
	return errno == EAGAIN;
}

int wake_wait(const struct wake_set *ws, int64_t deadline_ns)
{
	struct timespec ts = abs_ts(deadline_ns);

	if (deadline_ns <= clock_mono_ns())
		return 0;
	if (ws->n == 0) {
		clock_sleep_until(deadline_ns);
		return 0;
	}
	if (!atomic_load_explicit(&no_waitv, memory_order_relaxed)) {
		long r = syscall(SYS_futex_waitv, ws->w, (unsigned)ws->n, 0u, &ts, CLOCK_MONOTONIC);

		if (r >= 0)
			return 1;
		if (errno == EAGAIN)
			return 1; /* a word had moved already */
		if (errno != ENOSYS)
			return 0; /* ETIMEDOUT, EINTR */
		atomic_store(&no_waitv, 1);
	}
	if (ws->n == 1)
		return wait_one(&ws->w[0], deadline_ns);
	for (int i = 0; i < ws->n; i++)
		if (*(const _Atomic uint32_t *)(uintptr_t)ws->w[i].uaddr != (uint32_t)ws->w[i].val)
			return 1;
	if (deadline_ns - clock_mono_ns() > WAKE_FALLBACK_NS)
		deadline_ns = clock_mono_ns() + WAKE_FALLBACK_NS;
	clock_sleep_until(deadline_ns);
	return 0;
}

void wake_bump(_Atomic uint32_t *word)
{
	atomic_fetch_add_explicit(word, 1, memory_order_release);
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

int wake_polling(void)
{
	/* no waiters is EINVAL where futex_waitv exists */
	if (syscall(SYS_futex_waitv, NULL, 0u, 0u, NULL, CLOCK_MONOTONIC) < 0 && errno == ENOSYS)
		atomic_store(&no_waitv, 1);
	return atomic_load(&no_waitv);
}
