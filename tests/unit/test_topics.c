/*
 * test_topics.c - the bus topic table (common/topics.h): its rows are well
 * formed and distinct, the per-feed names are built and recognized, and
 * the docs agree with it: docs/store.md's "Bus" table is exactly
 * topics_markdown() (regenerate with build/bin/pwctl topics --markdown),
 * docs/stream.md names every event the stream forwards.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/topics.h"
#include "tests/unit/t.h"

#define STORE_MARKER \
	"<!-- generated from the table in common/topics.h by pwctl topics --markdown -->\n"

/* "lap." or "run.started": lower-case words joined by dots (and '_'). */
static int name_ok(const char *s, int family)
{
	size_t n = strlen(s);

	if (n < 3 || !islower((unsigned char)s[0]) || !strchr(s, '.'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && s[i] != '.' && s[i] != '_')
			return 0;
	return family ? s[n - 1] == '.' && strchr(s, '.') == s + n - 1 : s[n - 1] != '.';
}

static int keys_ok(const char *keys)
{
	if (!*keys || *keys == ' ')
		return 0;
	for (const char *k = keys; *k; k++)
		if (!(islower((unsigned char)*k) || *k == '_' ||
		      (*k == ' ' && k[1] && k[1] != ' ')))
			return 0;
	return 1;
}

static void test_rows(void)
{
	T_CHECKF(topic_event(TOPIC_EVENT_COUNT) == NULL &&
			 topic_event((enum topic_event) - 1) == NULL,
		 "an event out of range has no row");
	T_CHECKF(topic_family(TOPIC_FAMILY_COUNT) == NULL, "a family out of range has no row");
	for (int f = 0; f < TOPIC_FAMILY_COUNT; f++) {
		const struct topic_desc *d = topic_family((enum topic_family)f);

		T_CHECKF(d && name_ok(d->name, 1), "family %d: \"%s\"", f, d ? d->name : "");
		T_CHECKF(d && *d->publisher && *d->payload && *d->stream && keys_ok(d->keys),
			 "family %s: publisher, payload, stream, keys \"%s\"", d->name, d->keys);
		for (int g = 0; g < f; g++)
			T_CHECKF(strcmp(topic_family((enum topic_family)g)->name, d->name) != 0,
				 "family %s twice", d->name);
	}
	for (int t = 0; t < TOPIC_EVENT_COUNT; t++) {
		const struct topic_desc *d = topic_event((enum topic_event)t);

		T_CHECKF(d && name_ok(d->name, 0), "event %d: \"%s\"", t, d ? d->name : "");
		T_CHECKF(d && *d->publisher && *d->payload && *d->stream && keys_ok(d->keys),
			 "event %s: publisher, payload, stream, keys \"%s\"", d->name, d->keys);
		T_CHECKF(strlen(d->name) <= TOPIC_NAME_MAX, "%s is too long", d->name);
		for (int u = 0; u < t; u++)
			T_CHECKF(strcmp(topic_event((enum topic_event)u)->name, d->name) != 0,
				 "event %s twice", d->name);
		/* an event named like a feed's topic would be taken for one */
		for (int f = 0; f < TOPIC_FAMILY_COUNT; f++)
			T_CHECKF(topic_feed_of((enum topic_family)f, d->name) == NULL,
				 "event %s is in family %s", d->name,
				 topic_family((enum topic_family)f)->name);
	}
	/* the topics the store published before the table, and the two it added to the docs */
	for (const char *const *n =
		     (const char *const[]){
			     "session.created", "session.completed", "session.reopened",
			     "session.deleted", "run.started", "run.stopped", "run.resumed",
			     "run.deleted", "run.error", "recording.started", "recording.stopped",
			     "recording.deleted", "analysis.pending", "analysis.completed",
			     "analysis.failed", "track.built", "track.deleted", NULL };
	     *n; n++)
		T_CHECKF(topic_event_find(*n) >= 0, "%s is not an event of the table", *n);
	T_CHECK(TOPIC_EVENT_COUNT == 17);
	T_CHECK(strcmp(topic_family(TOPIC_FRAME)->name, "frame.") == 0);
	T_CHECK(strcmp(topic_family(TOPIC_LAP)->name, "lap.") == 0);
	T_CHECK(strcmp(topic_family(TOPIC_FEED)->name, "feed.") == 0);
}

static void test_find(void)
{
	for (int t = 0; t < TOPIC_EVENT_COUNT; t++) {
		const char *name = topic_event((enum topic_event)t)->name;

		T_CHECKF(topic_event_find(name) == t, "%s: %d", name, topic_event_find(name));
	}
	for (const char *const *n = (const char *const[]){ "", "run", "run.", "run.started.x",
							   "Run.started", "lap.ksudp", "lap.",
							   "frame.forza", "run.startedx", NULL };
	     *n; n++)
		T_CHECKF(topic_event_find(*n) == -1, "\"%s\" found", *n);
	T_CHECK(topic_event_find(NULL) == -1);
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

static void test_feed_names(void)
{
	struct topic_name n;
	char longest[IDS_FEED_MAX + 2];

	T_CHECK(topic_feed_name(&n, TOPIC_LAP, "ksudp") == 0 && strcmp(n.s, "lap.ksudp") == 0);
	T_CHECK(topic_feed_name(&n, TOPIC_FRAME, "forza") == 0 && strcmp(n.s, "frame.forza") == 0);
	T_CHECK(topic_feed_name(&n, TOPIC_FEED, "f1_25-b.2") == 0 &&
		strcmp(n.s, "feed.f1_25-b.2") == 0);
	memset(longest, 'a', IDS_FEED_MAX);
	longest[IDS_FEED_MAX] = 0;
	T_CHECKF(topic_feed_name(&n, TOPIC_FRAME, longest) == 0 && strlen(n.s) == 6 + IDS_FEED_MAX,
		 "a feed name of IDS_FEED_MAX characters: \"%s\"", n.s);
	longest[IDS_FEED_MAX] = 'a';
	longest[IDS_FEED_MAX + 1] = 0;
	T_CHECK(topic_feed_name(&n, TOPIC_FRAME, longest) == -EINVAL);
	T_CHECK(topic_feed_name(&n, TOPIC_LAP, "") == -EINVAL);
	T_CHECK(topic_feed_name(&n, TOPIC_LAP, NULL) == -EINVAL);
	T_CHECK(topic_feed_name(&n, TOPIC_LAP, "a/b") == -EINVAL);
	T_CHECK(topic_feed_name(&n, TOPIC_LAP, "a b") == -EINVAL);
	T_CHECK(topic_feed_name(&n, TOPIC_FAMILY_COUNT, "ksudp") == -EINVAL);

	T_CHECK(strcmp(nz(topic_feed_of(TOPIC_LAP, "lap.ksudp")), "ksudp") == 0);
	T_CHECK(strcmp(nz(topic_feed_of(TOPIC_FEED, "feed.forza")), "forza") == 0);
	T_CHECK(topic_feed_of(TOPIC_LAP, "frame.ksudp") == NULL);
	T_CHECK(topic_feed_of(TOPIC_LAP, "lapksudp") == NULL);
	T_CHECK(topic_feed_of(TOPIC_LAP, "la") == NULL);
	T_CHECK(topic_feed_of(TOPIC_LAP, NULL) == NULL);
	T_CHECK(topic_feed_of(TOPIC_FAMILY_COUNT, "lap.ksudp") == NULL);
	/* what topic_feed_name makes, topic_feed_of takes apart */
	for (int f = 0; f < TOPIC_FAMILY_COUNT; f++) {
		const char *feed;

		T_CHECK(topic_feed_name(&n, (enum topic_family)f, "pcars") == 0);
		feed = topic_feed_of((enum topic_family)f, n.s);
		T_CHECKF(feed && strcmp(feed, "pcars") == 0, "%s", n.s);
	}
}

/* docs/store.md holds exactly the generated table after its marker. */
static void test_store_doc(void)
{
	char *doc = t_read_doc("docs/store.md"), *gen = NULL, *at, *end;
	size_t glen = 0;
	FILE *f = open_memstream(&gen, &glen);

	T_CHECK(doc && f);
	if (!doc || !f)
		goto out;
	T_CHECK(topics_markdown(f) == 0);
	fclose(f);
	f = NULL;
	at = strstr(doc, STORE_MARKER);
	T_CHECKF(at != NULL, "docs/store.md has no \"%.40s...\" line", STORE_MARKER);
	if (!at)
		goto out;
	at += strlen(STORE_MARKER);
	for (end = at; *end == '|'; end = strchr(end, '\n') + 1)
		if (!strchr(end, '\n'))
			break;
	T_CHECKF((size_t)(end - at) == glen && memcmp(at, gen, glen) == 0,
		 "docs/store.md's bus table is not the generated one; regenerate it with "
		 "build/bin/pwctl topics --markdown:\n%s",
		 gen);
out:
	if (f)
		fclose(f);
	free(gen);
	free(doc);
}

/* docs/stream.md names every event the stream forwards, and the types the
 * per-feed topics become. */
static void test_stream_doc(void)
{
	char *doc = t_read_doc("docs/stream.md"), want[80];
	const char *table = doc ? strstr(doc, "## Server -> client") : NULL;
	const char *table_end = table ? strstr(table, "\n## ") : NULL;

	T_CHECK(doc && table && table_end);
	if (!table || !table_end)
		goto out;
	for (int t = 0; t < TOPIC_EVENT_COUNT; t++) {
		const char *at;

		snprintf(want, sizeof want, "`%s`", topic_event((enum topic_event)t)->name);
		at = strstr(table, want);
		T_CHECKF(at && at < table_end, "docs/stream.md's server -> client table lacks %s",
			 want);
	}
	for (const char *const *n = (const char *const[]){ "`lap_completed`", "`lap_invalidated`",
							   "`feed_status`", NULL };
	     *n; n++) {
		const char *at = strstr(table, *n);

		T_CHECKF(at && at < table_end, "docs/stream.md lacks %s", *n);
	}
out:
	free(doc);
}

int main(void)
{
	T_RUN(test_rows);
	T_RUN(test_find);
	T_RUN(test_feed_names);
	T_RUN(test_store_doc);
	T_RUN(test_stream_doc);
	return T_DONE();
}
