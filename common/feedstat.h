/*
 * feedstat.h - one feed's status as read from its segment, for the tools that
 * show feeds (pwctl feeds, the API's /api/feeds, /api/live and /metrics).
 * Readers only: attaches read-only (or uses the caller's attachment), copies.
 */
#ifndef PW_FEEDSTAT_H
#define PW_FEEDSTAT_H

#include "common/frame.h"
#include "common/ids.h"
#include "common/seg.h"

#define FEEDSTAT_NAME (IDS_FEED_MAX + 1)
#define FEEDSTAT_MAX 32

struct feedstat {
	char name[FEEDSTAT_NAME];
	int present; /* a segment exists */
	enum seg_status status;
	uint64_t v[SEG_STAT_COUNT];
	uint64_t write_seq;
	int pid;
	struct pw_meta meta;
	int has_frame; /* latest is valid */
	struct pw_frame latest;
};

/* Read feed's status (and its newest frame when want_frame). */
void feedstat_read(const char *instance, const char *feed, int want_frame, struct feedstat *out);
/* The same from a segment the caller keeps attached (NULL: the feed has none). */
void feedstat_from_seg(struct seg *s, const char *feed, int want_frame, struct feedstat *out);
/* Names of the feeds to show: every decoder's feed, then any other segment of
 * this instance in /dev/shm. Returns the count (<= max). */
int feedstat_names(const char *instance, char names[][FEEDSTAT_NAME], int max);

#endif
