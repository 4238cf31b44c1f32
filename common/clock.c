/* clock.c - see clock.h */
#include <stdio.h>
#include <time.h>

#include "common/clock.h"

static int64_t ns_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

int64_t clock_now_ns(void)
{
	return ns_of(CLOCK_REALTIME);
}

int64_t clock_mono_ns(void)
{
	return ns_of(CLOCK_MONOTONIC);
}

void clock_sleep_until(int64_t deadline)
{
	struct timespec ts = { .tv_sec = deadline / NS_PER_S, .tv_nsec = deadline % NS_PER_S };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

void clock_sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / NS_PER_S, .tv_nsec = ns % NS_PER_S };

	if (ns > 0)
		nanosleep(&ts, NULL);
}

char *clock_iso8601(int64_t t_ns, char *buf, size_t cap)
{
	int64_t sec = t_ns / NS_PER_S, ns = t_ns % NS_PER_S;
	time_t s;
	struct tm tm;

	if (ns < 0) { /* before 1970: floor, so the fraction stays 0..999 ms */
		sec--;
		ns += NS_PER_S;
	}
	s = (time_t)sec;
	gmtime_r(&s, &tm);
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ns / NS_PER_MS));
	return buf;
}
