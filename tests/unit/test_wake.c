/* test_wake.c - self-test of common/wake.h: sleeping on several futex words at once. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/ids.h"
#include "common/seg.h"
#include "common/wake.h"
#include "tests/unit/t.h"

static char inst[32];

static void test_add(void)
{
	static _Atomic uint32_t words[WAKE_MAX + 1];
	struct wake_set ws;

	wake_set_init(&ws);
	T_EQ(ws.n, 0);
	for (int i = 0; i < WAKE_MAX; i++)
		T_EQ(wake_add(&ws, &words[i], 0, WAKE_PRIVATE), 0);
	T_EQ(ws.n, WAKE_MAX);
	T_EQ(wake_add(&ws, &words[WAKE_MAX], 0, WAKE_PRIVATE), -ENOSPC); /* exactly full */
	T_EQ(ws.n, WAKE_MAX);
	wake_set_init(&ws);
	T_EQ(ws.n, 0);
}

/* The deadline: nothing moves, the wait lasts until then and says 0. */
static void test_deadline(void)
{
	_Atomic uint32_t a = 5, b = 7;
	struct wake_set ws;
	int64_t t0 = clock_mono_ns(), dt;

	wake_set_init(&ws);
	wake_add(&ws, &a, 5, WAKE_PRIVATE);
	wake_add(&ws, &b, 7, WAKE_PRIVATE);
	T_EQ(wake_wait(&ws, t0 + 30 * NS_PER_MS), 0);
	dt = clock_mono_ns() - t0;
	T_CHECKF(dt >= 30 * NS_PER_MS && dt < 2 * NS_PER_S, "waited %lld ns", (long long)dt);
	/* a deadline already past does not sleep */
	t0 = clock_mono_ns();
	T_EQ(wake_wait(&ws, t0 - 1), 0);
	T_LT(clock_mono_ns() - t0, 10 * NS_PER_MS);
	/* an empty set sleeps until its deadline */
	wake_set_init(&ws);
	t0 = clock_mono_ns();
	T_EQ(wake_wait(&ws, t0 + 20 * NS_PER_MS), 0);
	T_GE(clock_mono_ns() - t0, 20 * NS_PER_MS);
}

/* A word that moved after its value was taken ends the wait at once: no lost wake-up. */
static void test_moved_before(void)
{
	_Atomic uint32_t a = 1, b = 2;
	struct wake_set ws;
	int64_t t0;

	wake_set_init(&ws);
	wake_add(&ws, &a, 1, WAKE_PRIVATE);
	wake_add(&ws, &b, 2, WAKE_PRIVATE);
	wake_bump(&b); /* nobody waits yet */
	T_EQ(b, 3u);
	t0 = clock_mono_ns();
	T_EQ(wake_wait(&ws, t0 + 5 * NS_PER_S), 1);
	T_LT(clock_mono_ns() - t0, NS_PER_S);
}

struct bumper {
	_Atomic uint32_t *word;
	int64_t delay_ns;
};

static void *bump_later(void *arg)
{
	struct bumper *b = arg;

	clock_sleep_ns(b->delay_ns);
	wake_bump(b->word);
	return NULL;
}

/* Another thread's wake_bump of any word of the set wakes the sleeper. */
static void test_woken_by_thread(void)
{
	static _Atomic uint32_t words[4];
	struct wake_set ws;

	for (int which = 0; which < 4; which++) {
		struct bumper b = { &words[which], 50 * NS_PER_MS };
		pthread_t t;
		int64_t t0, dt;

		wake_set_init(&ws);
		for (int i = 0; i < 4; i++)
			wake_add(&ws, &words[i], atomic_load(&words[i]), WAKE_PRIVATE);
		t0 = clock_mono_ns();
		T_EQ(pthread_create(&t, NULL, bump_later, &b), 0);
		T_EQ(wake_wait(&ws, t0 + 10 * NS_PER_S), 1);
		dt = clock_mono_ns() - t0;
		T_CHECKF(dt >= 40 * NS_PER_MS && dt < 5 * NS_PER_S, "word %d: woke after %lld ns",
			 which, (long long)dt);
		pthread_join(t, NULL);
	}
}

/* A segment's notify word, mapped read-only here, wakes a reader when another
 * process publishes (seg_notify), among words of its own. */
static void test_segment_notify(void)
{
	struct seg_config cfg = { 64, 0 };
	struct seg *s = NULL, *r = NULL;
	_Atomic uint32_t own = 0;
	struct wake_set ws;
	struct pw_frame f;
	uint32_t seen;
	int64_t t0, dt;
	pid_t kid;
	int status;

	T_EQ(seg_create(&s, inst, "wake", PW_FEED_KSUDP, &cfg), 0);
	T_EQ(seg_attach(&r, inst, "wake"), 0);
	seen = seg_notify_value(r);
	T_EQ(seg_notify_word(r), seg_notify_word(r));
	wake_set_init(&ws);
	wake_add(&ws, &own, 0, WAKE_PRIVATE);
	wake_add(&ws, seg_notify_word(r), seen, WAKE_SHARED);
	t0 = clock_mono_ns();
	kid = fork();
	if (kid == 0) {
		clock_sleep_ns(50 * NS_PER_MS);
		frame_init(&f, PW_GAME_AC, PW_FEED_KSUDP);
		seg_publish(s, &f);
		seg_notify(s);
		_exit(0);
	}
	T_EQ(wake_wait(&ws, t0 + 10 * NS_PER_S), 1);
	dt = clock_mono_ns() - t0;
	T_CHECKF(dt >= 40 * NS_PER_MS && dt < 5 * NS_PER_S, "woke after %lld ns", (long long)dt);
	T_EQ(seg_write_seq(r), 1u);
	T_NE(seg_notify_value(r), seen);
	T_EQ(waitpid(kid, &status, 0), kid);
	/* with the new value taken, the next wait sleeps again until its deadline */
	wake_set_init(&ws);
	wake_add(&ws, seg_notify_word(r), seg_notify_value(r), WAKE_SHARED);
	T_EQ(wake_wait(&ws, clock_mono_ns() + 20 * NS_PER_MS), 0);
	seg_close(r);
	seg_close(s);
	seg_unlink(inst, "wake");
}

/* This kernel (>= 5.16) has futex_waitv: nothing polls. */
static void test_not_polling(void)
{
	T_EQ(wake_polling(), 0);
}

int main(void)
{
	snprintf(inst, sizeof inst, "w%d", (int)getpid());
	T_RUN(test_add);
	T_RUN(test_deadline);
	T_RUN(test_moved_before);
	T_RUN(test_woken_by_thread);
	T_RUN(test_segment_notify);
	T_RUN(test_not_polling);
	return T_DONE();
}
