/* topics.c - the bus topic table (see topics.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/ids.h"
#include "common/topics.h"

static const struct topic_desc families[TOPIC_FAMILY_COUNT] = {
#define TOPIC_FAMILY_ROW(id, name, publisher, keys, payload, stream) \
	[TOPIC_##id] = { name, publisher, keys, payload, stream },
	TOPICS_PER_FEED(TOPIC_FAMILY_ROW)
#undef TOPIC_FAMILY_ROW
};

static const struct topic_desc events[TOPIC_EVENT_COUNT] = {
#define TOPIC_EVENT_ROW(id, name, publisher, keys, payload) \
	[TOPIC_##id] = { name, publisher, keys, payload, "`" name "`, the payload unchanged" },
	TOPICS_EVENTS(TOPIC_EVENT_ROW)
#undef TOPIC_EVENT_ROW
};

#define TOPIC_EVENT_FITS(id, name, publisher, keys, payload) \
	_Static_assert(sizeof name - 1 <= TOPIC_NAME_MAX, name " is longer than TOPIC_NAME_MAX");
TOPICS_EVENTS(TOPIC_EVENT_FITS)
#undef TOPIC_EVENT_FITS
#define TOPIC_FAMILY_FITS(id, name, publisher, keys, payload, stream) \
	_Static_assert(sizeof name - 1 + IDS_FEED_MAX <= TOPIC_NAME_MAX, name " is too long");
TOPICS_PER_FEED(TOPIC_FAMILY_FITS)
#undef TOPIC_FAMILY_FITS

const struct topic_desc *topic_event(enum topic_event t)
{
	return (unsigned)t < TOPIC_EVENT_COUNT ? &events[t] : NULL;
}

const struct topic_desc *topic_family(enum topic_family t)
{
	return (unsigned)t < TOPIC_FAMILY_COUNT ? &families[t] : NULL;
}

int topic_event_find(const char *name)
{
	for (int t = 0; name && t < TOPIC_EVENT_COUNT; t++)
		if (strcmp(events[t].name, name) == 0)
			return t;
	return -1;
}

int topic_feed_name(struct topic_name *out, enum topic_family t, const char *feed)
{
	if ((unsigned)t >= TOPIC_FAMILY_COUNT || !feed || strlen(feed) > IDS_FEED_MAX ||
	    !ids_name_valid(feed))
		return -EINVAL;
	snprintf(out->s, sizeof out->s, "%s%s", families[t].name, feed);
	return 0;
}

const char *topic_feed_of(enum topic_family t, const char *name)
{
	size_t n;

	if ((unsigned)t >= TOPIC_FAMILY_COUNT || !name)
		return NULL;
	n = strlen(families[t].name);
	return strncmp(name, families[t].name, n) == 0 ? name + n : NULL;
}

static void row(FILE *out, const char *topic, const char *suffix, const struct topic_desc *d)
{
	fprintf(out, "| `%s%s` | %s | %s | %s |\n", topic, suffix, d->payload, d->publisher,
		d->stream);
}

int topics_markdown(FILE *out)
{
	fprintf(out, "| topic | payload | published by | on `/api/stream` |\n"
		     "|---|---|---|---|\n");
	for (int t = 0; t < TOPIC_FAMILY_COUNT; t++)
		row(out, families[t].name, "<feed>", &families[t]);
	for (int t = 0; t < TOPIC_EVENT_COUNT; t++)
		row(out, events[t].name, "", &events[t]);
	return ferror(out) ? -EIO : 0;
}
