/*
 * clock.h - time helpers. All times are int64 nanoseconds.
 *
 * clock_now_ns(): CLOCK_REALTIME, for timestamps that leave the process
 * (frame t_ns, heartbeats compared across processes). clock_mono_ns():
 * CLOCK_MONOTONIC, for intervals and pacing inside a process.
 */
#ifndef PW_CLOCK_H
#define PW_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define NS_PER_MS 1000000ll
#define NS_PER_S 1000000000ll

int64_t clock_now_ns(void);
int64_t clock_mono_ns(void);
/* Sleep until the CLOCK_MONOTONIC deadline (absolute); returns early on a signal. */
void clock_sleep_until(int64_t mono_deadline_ns);
void clock_sleep_ns(int64_t ns);
/* ISO 8601 UTC with milliseconds, "2026-11-22T10:00:00.123Z"; returns buf. */
char *clock_iso8601(int64_t t_ns, char *buf, size_t cap);

#endif
