/* test_storestat.c - self-test of the store's status page (common/storestat.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/storestat.h"
#include "tests/unit/t.h"

static char inst[32], name[64];

static void test_writer_and_reader(void)
{
	struct storestat *w = NULL, *r = NULL;
	int64_t now = clock_now_ns();
	uint64_t g0, g1;

	T_EQ(storestat_attach(&r, inst), -ENOENT); /* no store yet */
	T_EQ(storestat_open(&w, inst), 0);
	T_EQ(storestat_attach(&r, inst), 0);
	if (!w || !r)
		return;
	T_EQ(storestat_page(r)->pid, getpid());
	g0 = storestat_fresh_generation(r, now);
	T_CHECKF(g0 != 0, "a page that just beat is fresh");
	/* a page's first generation is its creation time: never a small number */
	T_GT(g0, (uint64_t)(now - 60 * NS_PER_S));
	storestat_bump(w);
	g1 = storestat_fresh_generation(r, now);
	T_CHECKF(g1 == g0 + 1, "%llu then %llu", (unsigned long long)g0, (unsigned long long)g1);
	storestat_add(w, STORESTAT_COMMANDS, 3);
	storestat_add(w, STORESTAT_COMMANDS, 4);
	storestat_set(w, STORESTAT_SESSIONS, 42);
	T_EQ(storestat_page(r)->v[STORESTAT_COMMANDS], 7);
	T_EQ(storestat_page(r)->v[STORESTAT_SESSIONS], 42);
	/* a reader cannot write: its calls do nothing */
	storestat_bump(r);
	storestat_add(r, STORESTAT_COMMANDS, 1);
	T_EQ(storestat_fresh_generation(r, now), g1);
	T_EQ(storestat_page(r)->v[STORESTAT_COMMANDS], 7);
	/* NULL is a valid "no page" for the writer calls */
	storestat_bump(NULL);
	storestat_add(NULL, STORESTAT_COMMANDS, 1);
	T_EQ(storestat_fresh_generation(NULL, now), 0);
	storestat_close(r);
	storestat_close(w);
}

static void test_heartbeat_decides_freshness(void)
{
	struct storestat *w = NULL, *r = NULL;
	int64_t now = clock_now_ns();

	T_EQ(storestat_open(&w, inst), 0);
	T_EQ(storestat_attach(&r, inst), 0);
	if (!w || !r)
		return;
	storestat_beat(w, now);
	T_NE(storestat_fresh_generation(r, now + STORESTAT_FRESH_NS - 1), 0);
	T_EQ(storestat_fresh_generation(r, now + STORESTAT_FRESH_NS), 0); /* a paused store */
	T_EQ(storestat_fresh_generation(r, now - STORESTAT_FRESH_NS), 0); /* a clock jump */
	storestat_stopped(w);
	T_CHECKF(storestat_fresh_generation(r, now) == 0, "a cleanly stopped store is not fresh");
	T_CHECKF(storestat_gone(r) == 1, "a cleanly stopped store is gone");
	T_EQ(storestat_gone(NULL), 0); /* no page: nothing known */
	storestat_close(r);
	storestat_close(w);
}

/* An idle store beats once a second and says so: readers trust its page for
 * 2.5 periods while its pid lives; a dead pid or a reopened page ends that. */
static void test_idle_beat_period(void)
{
	struct storestat *w = NULL, *r = NULL;
	int64_t now = clock_now_ns(), idle = 1000 * NS_PER_MS;
	pid_t child;

	T_EQ(storestat_open(&w, inst), 0);
	T_EQ(storestat_attach(&r, inst), 0);
	if (!w || !r)
		return;
	storestat_beat(w, now);
	T_EQ(storestat_fresh_generation(r, now + idle), 0); /* the usual period: stale */
	storestat_beat_period(w, 1000);
	T_EQ(storestat_page(r)->beat_period_ms, 1000);
	T_NE(storestat_fresh_generation(r, now + STORESTAT_FRESH_NS), 0);
	T_NE(storestat_fresh_generation(r, now + idle * 5 / 2 - 1), 0);
	T_EQ(storestat_fresh_generation(r, now + idle * 5 / 2), 0);       /* 2.5 periods */
	T_EQ(storestat_fresh_generation(r, now - STORESTAT_FRESH_NS), 0); /* a clock jump */
	storestat_beat_period(r, 100); /* a reader cannot write */
	T_EQ(storestat_page(r)->beat_period_ms, 1000);
	/* a killed store (its pid gone) is not trusted past STORESTAT_FRESH_NS */
	if ((child = fork()) == 0)
		_exit(0);
	T_CHECK(child > 0 && waitpid(child, NULL, 0) == child);
	T_EQ(storestat_gone(r), 0); /* this process: alive */
	atomic_store(&storestat_page(w)->pid, (int32_t)child);
	T_NE(storestat_fresh_generation(r, now + STORESTAT_FRESH_NS - 1), 0);
	T_EQ(storestat_fresh_generation(r, now + STORESTAT_FRESH_NS), 0);
	T_EQ(storestat_gone(r), 1); /* ... and gone at once, whatever the beat says */
	storestat_close(w);
	/* a store started again says the usual period until it is idle itself */
	T_EQ(storestat_open(&w, inst), 0);
	T_EQ(storestat_gone(r), 0); /* the reopened page's pid, seen through the old map */
	T_EQ(storestat_page(r)->beat_period_ms, 0);
	T_EQ(storestat_fresh_generation(r, clock_now_ns() + idle), 0);
	storestat_close(r);
	storestat_close(w);
}

static void test_restart_keeps_generations_rising(void)
{
	struct storestat *w = NULL, *r = NULL;
	uint64_t before, after;

	T_EQ(storestat_open(&w, inst), 0);
	T_EQ(storestat_attach(&r, inst), 0);
	if (!w || !r)
		return;
	storestat_add(w, STORESTAT_FRAMES_PERSISTED, 5);
	before = storestat_page(r)->generation;
	storestat_close(w);
	T_EQ(storestat_open(&w, inst), 0); /* the store restarts on the same page */
	after = storestat_page(r)->generation;
	T_CHECKF(after > before, "%llu then %llu", (unsigned long long)before,
		 (unsigned long long)after);
	T_EQ(storestat_page(r)->v[STORESTAT_FRAMES_PERSISTED], 0); /* counters are per process */
	T_CHECK(!storestat_replaced(r));
	storestat_close(w);
	/* deleted and made again: the reader can tell, and the new page's
	 * generations do not repeat the old one's */
	T_EQ(shm_unlink(name), 0);
	T_CHECK(storestat_replaced(r));
	T_EQ(storestat_open(&w, inst), 0);
	T_CHECK(storestat_replaced(r));
	if (w)
		T_GT(storestat_page(w)->generation, after);
	storestat_close(r);
	storestat_close(w);
}

static void test_bad_pages(void)
{
	struct storestat *r = NULL, *w = NULL;
	int fd;

	/* a page of another size or magic is not read */
	shm_unlink(name);
	fd = shm_open(name, O_RDWR | O_CREAT, 0644);
	T_CHECK(fd >= 0 && ftruncate(fd, 100) == 0);
	T_EQ(storestat_attach(&r, inst), -EPROTO);
	T_EQ(ftruncate(fd, sizeof(struct storestat_page)), 0);
	T_EQ(storestat_attach(&r, inst), -EPROTO); /* zeros: no magic */
	close(fd);
	/* the store starts over on such a page */
	T_EQ(storestat_open(&w, inst), 0);
	T_EQ(storestat_attach(&r, inst), 0);
	storestat_close(r);
	storestat_close(w);
	T_EQ(storestat_open(&w, "bad/instance"), -EINVAL);
	T_EQ(storestat_attach(&r, ""), -EINVAL);
	T_CHECK(storestat_describe(STORESTAT_COMMANDS) &&
		storestat_describe(STORESTAT_COUNT) == NULL);
	for (int i = 0; i < STORESTAT_COUNT; i++)
		T_CHECKF(storestat_describe((enum storestat_counter)i)->metric,
			 "counter %d has a name", i);
}

int main(void)
{
	snprintf(inst, sizeof inst, "t%d", (int)getpid());
	snprintf(name, sizeof name, "/pitwall-store.%s", inst);
	shm_unlink(name);
	T_RUN(test_writer_and_reader);
	T_RUN(test_heartbeat_decides_freshness);
	T_RUN(test_idle_beat_period);
	T_RUN(test_restart_keeps_generations_rising);
	T_RUN(test_bad_pages);
	shm_unlink(name);
	return T_DONE();
}
