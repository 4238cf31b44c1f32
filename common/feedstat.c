/* feedstat.c - see feedstat.h */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/feedstat.h"

void feedstat_read(const char *instance, const char *feed, int want_frame, struct feedstat *out)
{
	struct seg *s = NULL;

	if (seg_attach(&s, instance, feed) < 0) {
		feedstat_from_seg(NULL, feed, want_frame, out);
		return;
	}
	feedstat_from_seg(s, feed, want_frame, out);
	seg_close(s);
}

void feedstat_from_seg(struct seg *s, const char *feed, int want_frame, struct feedstat *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "%s", feed);
	if (!s)
		return;
	out->present = 1;
	out->status = seg_status(s, clock_now_ns());
	seg_stats_read(s, out->v);
	seg_meta_read(s, &out->meta);
	out->write_seq = seg_write_seq(s);
	out->pid = seg_header(s)->producer_pid;
	if (want_frame)
		out->has_frame = seg_read_latest(s, &out->latest);
}

int feedstat_names(const char *instance, char names[][FEEDSTAT_NAME], int max)
{
	char prefix[80];
	int n = 0;
	DIR *d;
	struct dirent *e;

	for (unsigned feed = PW_FEED_NONE + 1; feed < PW_FEED_COUNT && n < max; feed++)
		snprintf(names[n++], FEEDSTAT_NAME, "%s", frame_feed_name(feed));
	snprintf(prefix, sizeof prefix, "pitwall.%s.", instance);
	if (!(d = opendir("/dev/shm")))
		return n;
	while ((e = readdir(d)) && n < max) {
		const char *feed = e->d_name + strlen(prefix);
		int dup = 0;

		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 ||
		    strlen(feed) >= FEEDSTAT_NAME)
			continue;
		for (int i = 0; i < n; i++)
			dup |= strcmp(names[i], feed) == 0;
		if (!dup)
			snprintf(names[n++], FEEDSTAT_NAME, "%s", feed);
	}
	closedir(d);
	return n;
}
