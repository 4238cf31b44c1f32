/*
 * storestat.h - the store's status page: one page of POSIX shared memory,
 * /pitwall-store.<instance>, written by pw-store only and read by anyone.
 *
 * It carries what readers need without a round trip through the store's
 * single command loop:
 *
 *   heartbeat_ns  written at every housekeeping of the store's loop (100 ms,
 *                 LOOP_HOUSEKEEPING_NS in store/store.h; 1 s while the store
 *                 is idle, LOOP_IDLE_HOUSEKEEPING_NS); a reader treats a page
 *                 whose heartbeat is older than its limit as "store not
 *                 answering" and asks the store itself (and so gets 503).
 *                 The limit is STORESTAT_FRESH_NS, or 2.5 beat periods when
 *                 the page says the store beats more slowly (idle) and its
 *                 pid is alive.
 *   beat_period_ms the store's heartbeat period now (0: 100 ms, as a store
 *                 before this field wrote it: the bytes were reserved zero).
 *                 Written before the store's first longer sleep, and back to
 *                 100 with a beat the moment anything wakes it.
 *   generation    the version of the store's state (sessions, runs, tracks,
 *                 recordings). It is bumped BEFORE the store replies to any
 *                 command that changed something, whenever a session file is
 *                 saved or deleted, and whenever a recording run's laps or
 *                 losses change. A reader that saw generation G, asked a read
 *                 command and got an answer may reuse that answer while the
 *                 generation is still G: nothing it shows has changed.
 *                 pw-api's answer cache (api/cache.c) is built on this.
 *   progress      bumped when only the progress of what is recording moves:
 *                 a run's durable frame count (once a second), a recording's
 *                 packet counts. Nobody caused it and it is out of date the
 *                 moment it is read, so a reader may keep serving the answer
 *                 it has while one request fetches the new one.
 *   counters      the store's own counters, for /metrics.
 *
 * The page survives store restarts (the store reopens it and bumps the
 * generation), so readers keep their mapping. Layout changes bump the version.
 */
#ifndef PW_STORESTAT_H
#define PW_STORESTAT_H

#include <stdatomic.h>
#include <stdint.h>

#define STORESTAT_MAGIC 0x5453545357544950ull /* "PITWSTST" */
#define STORESTAT_VERSION 2
#define STORESTAT_FRESH_NS (250 * 1000000ll) /* 2.5 store housekeepings */

enum storestat_counter {
	STORESTAT_COMMANDS,          /* commands answered */
	STORESTAT_COMMANDS_REFUSED,  /* of those, answered with an error */
	STORESTAT_SESSIONS,          /* gauge: sessions held */
	STORESTAT_RUNS_RECORDING,    /* gauge: runs recording now */
	STORESTAT_FRAMES_PERSISTED,  /* frames made durable in run files */
	STORESTAT_FRAMES_LOST,       /* frames runs lost (ring lapped the store) */
	STORESTAT_RECORDINGS_ACTIVE, /* gauge */
	STORESTAT_JOBS_SENT,         /* analysis jobs sent to workers (retries too) */
	STORESTAT_JOBS_DONE,         /* results received */
	STORESTAT_BUS_EVENTS,        /* events the store published on the bus */
	STORESTAT_COUNT
};

struct storestat_page {
	uint64_t magic;
	uint32_t version;
	uint32_t size;                  /* sizeof(struct storestat_page) */
	_Atomic int32_t pid;            /* 0 after a clean stop */
	_Atomic int32_t beat_period_ms; /* 0: STORESTAT_FRESH_NS applies */
	_Atomic int64_t started_ns;
	_Alignas(64) _Atomic int64_t heartbeat_ns;
	_Atomic uint64_t generation;
	_Atomic uint64_t progress;
	_Alignas(64) _Atomic uint64_t v[STORESTAT_COUNT];
};

struct storestat;

/* The store: create or reopen the page read-write, record pid and start,
 * bump the generation. 0 or -errno. */
int storestat_open(struct storestat **out, const char *instance);
/* A reader: attach read-only. 0, -ENOENT when there is no store page,
 * -EPROTO when its layout is not ours. */
int storestat_attach(struct storestat **out, const char *instance);
void storestat_close(struct storestat *s);
/* 1 when the page's file is no longer the one mapped (deleted, recreated). */
int storestat_replaced(struct storestat *s);
struct storestat_page *storestat_page(struct storestat *s);

/* Writer side (the store). NULL s is allowed and does nothing. */
void storestat_beat(struct storestat *s, int64_t now_ns);
void storestat_bump(struct storestat *s);
void storestat_progress(struct storestat *s);
void storestat_add(struct storestat *s, enum storestat_counter c, uint64_t n);
void storestat_set(struct storestat *s, enum storestat_counter c, uint64_t v);
/* The heartbeat period from now on (ms; 0 or 100: the usual, 1000: idle). */
void storestat_beat_period(struct storestat *s, int32_t period_ms);
/* At a clean stop: pid 0, so readers stop trusting the page at once. */
void storestat_stopped(struct storestat *s);

/* Reader side: the generation when the store is alive and beat within
 * STORESTAT_FRESH_NS of now_ns (2.5 of its beat periods when those are
 * longer and its pid is alive), else 0 (a page's first generation is its creation time in ns, so a recreated page never
 * repeats an earlier page's generations). */
uint64_t storestat_fresh_generation(struct storestat *s, int64_t now_ns);
/* The same, and the progress counter in *progress. */
uint64_t storestat_fresh(struct storestat *s, int64_t now_ns, uint64_t *progress);
/* 1 when the page's store is known to have exited: stopped cleanly (pid 0) or
 * its pid no longer exists; 0 while it may live (a stalled store included). */
int storestat_gone(struct storestat *s);
/* Prometheus description of a counter: its metric name, help text, and
 * whether it is a gauge (else a counter). */
struct storestat_desc {
	const char *metric, *help;
	int gauge;
};
const struct storestat_desc *storestat_describe(enum storestat_counter c);

#endif
