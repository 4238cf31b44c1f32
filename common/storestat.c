/* storestat.c - the store's status page (see storestat.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/seg.h"
#include "common/storestat.h"

struct storestat {
	struct storestat_page *p;
	int writable;
	ino_t ino;
	char name[96];
};

static const struct storestat_desc descs[STORESTAT_COUNT] = {
	[STORESTAT_COMMANDS] = { "pitwall_store_commands_total", "Commands the store answered.",
				 0 },
	[STORESTAT_COMMANDS_REFUSED] = { "pitwall_store_commands_refused_total",
					 "Commands the store answered with an error.", 0 },
	[STORESTAT_SESSIONS] = { "pitwall_store_sessions", "Sessions the store holds.", 1 },
	[STORESTAT_RUNS_RECORDING] = { "pitwall_store_runs_recording", "Runs recording now.", 1 },
	[STORESTAT_FRAMES_PERSISTED] = { "pitwall_store_frames_persisted_total",
					 "Frames made durable in run files.", 0 },
	[STORESTAT_FRAMES_LOST] = { "pitwall_store_frames_lost_total",
				    "Frames runs lost because the ring lapped the store.", 0 },
	[STORESTAT_RECORDINGS_ACTIVE] = { "pitwall_store_recordings_active",
					  "Recordings running now.", 1 },
	[STORESTAT_JOBS_SENT] = { "pitwall_store_jobs_sent_total",
				  "Analysis jobs sent to workers, retries included.", 0 },
	[STORESTAT_JOBS_DONE] = { "pitwall_store_jobs_done_total", "Analysis results received.",
				  0 },
	[STORESTAT_BUS_EVENTS] = { "pitwall_store_bus_events_total",
				   "Events the store published on the bus.", 0 },
};

const struct storestat_desc *storestat_describe(enum storestat_counter c)
{
	return (unsigned)c < STORESTAT_COUNT ? &descs[c] : NULL;
}

static int page_name(char *buf, size_t cap, const char *instance)
{
	size_t n = strlen(instance);

	if (n == 0 || n > 40 ||
	    strspn(instance, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			     "0123456789_-") != n)
		return -EINVAL;
	snprintf(buf, cap, "/pitwall-store.%s", instance);
	return 0;
}

static int map(struct storestat **out, const char *instance, int writable)
{
	struct storestat *s = calloc(1, sizeof *s);
	struct stat st;
	int fd = -1, err;

	if (!s)
		return -ENOMEM;
	s->writable = writable;
	if ((err = page_name(s->name, sizeof s->name, instance)) < 0)
		goto fail;
	fd = shm_open(s->name, writable ? O_RDWR | O_CREAT | O_CLOEXEC : O_RDONLY | O_CLOEXEC,
		      0644);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto fail;
	}
	if (writable && (size_t)st.st_size != sizeof *s->p) {
		/* new, or another layout: start over */
		if (ftruncate(fd, 0) < 0 || ftruncate(fd, sizeof *s->p) < 0) {
			err = -errno;
			goto fail;
		}
	} else if ((size_t)st.st_size != sizeof *s->p) {
		err = -EPROTO;
		goto fail;
	}
	s->ino = st.st_ino;
	s->p = mmap(NULL, sizeof *s->p, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED,
		    fd, 0);
	if (s->p == MAP_FAILED) {
		s->p = NULL;
		err = -errno;
		goto fail;
	}
	close(fd);
	if (writable && (s->p->magic != STORESTAT_MAGIC || s->p->version != STORESTAT_VERSION ||
			 s->p->size != sizeof *s->p)) {
		memset(s->p, 0, sizeof *s->p);
		s->p->version = STORESTAT_VERSION;
		s->p->size = sizeof *s->p;
		atomic_store(&s->p->generation, (uint64_t)clock_now_ns());
		atomic_thread_fence(memory_order_release);
		s->p->magic = STORESTAT_MAGIC;
	}
	if (!writable && (s->p->magic != STORESTAT_MAGIC || s->p->version != STORESTAT_VERSION ||
			  s->p->size != sizeof *s->p)) {
		err = -EPROTO;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->p)
		munmap(s->p, sizeof *s->p);
	if (fd >= 0)
		close(fd);
	free(s);
	return err;
}

int storestat_open(struct storestat **out, const char *instance)
{
	int rc = map(out, instance, 1);

	if (rc == 0) {
		struct storestat_page *p = (*out)->p;
		/* counters are per store process, like its log's totals */
		for (int i = 0; i < STORESTAT_COUNT; i++)
			atomic_store(&p->v[i], 0);
		atomic_store(&p->started_ns, clock_now_ns());
		atomic_store(&p->heartbeat_ns, clock_now_ns());
		atomic_store(&p->beat_period_ms, 0); /* a previous store's idle period */
		atomic_store(&p->pid, (int32_t)getpid());
		storestat_bump(*out);
	}
	return rc;
}

int storestat_attach(struct storestat **out, const char *instance)
{
	return map(out, instance, 0);
}

void storestat_close(struct storestat *s)
{
	if (!s)
		return;
	munmap(s->p, sizeof *s->p);
	free(s);
}

int storestat_replaced(struct storestat *s)
{
	return shm_replaced(s->name, s->ino);
}

struct storestat_page *storestat_page(struct storestat *s)
{
	return s ? s->p : NULL;
}

void storestat_beat(struct storestat *s, int64_t now_ns)
{
	if (s && s->writable)
		atomic_store(&s->p->heartbeat_ns, now_ns);
}

void storestat_beat_period(struct storestat *s, int32_t period_ms)
{
	if (s && s->writable)
		atomic_store(&s->p->beat_period_ms, period_ms);
}

void storestat_bump(struct storestat *s)
{
	if (s && s->writable)
		atomic_fetch_add(&s->p->generation, 1);
}

void storestat_progress(struct storestat *s)
{
	if (s && s->writable)
		atomic_fetch_add(&s->p->progress, 1);
}

void storestat_add(struct storestat *s, enum storestat_counter c, uint64_t n)
{
	if (s && s->writable && (unsigned)c < STORESTAT_COUNT)
		atomic_fetch_add_explicit(&s->p->v[c], n, memory_order_relaxed);
}

void storestat_set(struct storestat *s, enum storestat_counter c, uint64_t v)
{
	if (s && s->writable && (unsigned)c < STORESTAT_COUNT)
		atomic_store_explicit(&s->p->v[c], v, memory_order_relaxed);
}

void storestat_stopped(struct storestat *s)
{
	if (s && s->writable) {
		atomic_store(&s->p->pid, 0);
		storestat_bump(s);
	}
}

uint64_t storestat_fresh_generation(struct storestat *s, int64_t now_ns)
{
	uint64_t progress;

	return storestat_fresh(s, now_ns, &progress);
}

/* 1 unless pid is known to be gone (another user's process counts as alive). */
static int pid_alive(int32_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

int storestat_gone(struct storestat *s)
{
	return s && !pid_alive(atomic_load(&s->p->pid));
}

uint64_t storestat_fresh(struct storestat *s, int64_t now_ns, uint64_t *progress)
{
	uint64_t g;
	int64_t beat, limit;
	int32_t period;

	*progress = 0;
	if (!s || atomic_load(&s->p->pid) == 0)
		return 0;
	g = atomic_load(&s->p->generation);
	*progress = atomic_load(&s->p->progress);
	beat = atomic_load(&s->p->heartbeat_ns);
	if (now_ns - beat < STORESTAT_FRESH_NS && now_ns - beat > -STORESTAT_FRESH_NS)
		return g;
	/* an idle store beats seldom: trusted while its process lives */
	period = atomic_load(&s->p->beat_period_ms);
	limit = (int64_t)period * 1000000 * 5 / 2;
	if (now_ns - beat >= 0 && now_ns - beat < limit && pid_alive(atomic_load(&s->p->pid)))
		return g;
	return 0;
}
