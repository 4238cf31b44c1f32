/*
 * test_games.c - the one list of games and feeds (PW_GAMES / PW_FEEDS in
 * common/frame.h) and the tables that build on it: every feed has exactly one
 * decoder (capture/decoder.c) named as the table names it, every game comes on
 * a feed that has a decoder, and every game has exactly one emulator encoder
 * (capture/sim/encoder.c) on that same feed, whose datagrams decode as that game.
 * The game list of docs/api.md and the feed table of README.md are checked
 * against the tables too.
 */
#include <stdio.h>
#include <string.h>

#include "capture/decoder.h"
#include "capture/sim/encoder.h"
#include "common/frame.h"
#include "tests/unit/t.h"

static void test_game_feeds(void)
{
	T_CHECK(frame_game_feed(PW_GAME_UNKNOWN) == PW_FEED_NONE);
	T_CHECK(frame_game_feed(PW_GAME_COUNT) == PW_FEED_NONE);
	T_CHECK(frame_game_feed(~0u) == PW_FEED_NONE);
	T_CHECK(frame_game_feed(PW_GAME_AC) == PW_FEED_KSUDP);
	T_CHECK(frame_game_feed(PW_GAME_ACC) == PW_FEED_ACC);
	T_CHECK(frame_game_feed(PW_GAME_PCARS1) == PW_FEED_PCARS);
	T_CHECK(frame_game_feed(PW_GAME_PCARS2) == PW_FEED_PCARS);
	T_CHECK(frame_game_feed(PW_GAME_FORZA_SLED) == PW_FEED_FORZA);
	T_CHECK(frame_game_feed(PW_GAME_FM7) == PW_FEED_FORZA);
	T_CHECK(frame_game_feed(PW_GAME_FH) == PW_FEED_FORZA);
	T_CHECK(frame_game_feed(PW_GAME_FM2023) == PW_FEED_FORZA);
	T_CHECK(frame_game_feed(PW_GAME_F1_23) == PW_FEED_F1);
	T_CHECK(frame_game_feed(PW_GAME_F1_24) == PW_FEED_F1);
	T_CHECK(frame_game_feed(PW_GAME_F1_25) == PW_FEED_F1);
	for (unsigned g = 1; g < PW_GAME_COUNT; g++) {
		unsigned feed = frame_game_feed(g);

		T_CHECKF(feed > PW_FEED_NONE && feed < PW_FEED_COUNT, "%s: feed %u",
			 frame_game_name(g), feed);
		T_CHECKF(dec_by_id((enum pw_feed)feed) != NULL, "%s: no decoder for its feed",
			 frame_game_name(g));
	}
}

/* One decoder per feed, in feed-id order, named as the common table names the feed. */
static void test_decoder_table(void)
{
	const struct decoder *const *d = dec_all();
	unsigned n = 0;

	for (; d[n]; n++) {
		T_CHECKF(d[n]->feed_id == n + 1, "decoder %u (%s) has feed id %u", n, d[n]->feed,
			 d[n]->feed_id);
		T_CHECKF(strcmp(d[n]->feed, frame_feed_name(d[n]->feed_id)) == 0,
			 "decoder %s, table %s", d[n]->feed, frame_feed_name(d[n]->feed_id));
		T_CHECK(dec_find(frame_feed_name(d[n]->feed_id)) == d[n]);
		T_CHECK(dec_by_id(d[n]->feed_id) == d[n]);
		T_CHECK(d[n]->default_port != 0 && d[n]->decode != NULL);
	}
	T_CHECKF(n == PW_FEED_COUNT - 1, "%u decoders for %d feeds", n, PW_FEED_COUNT - 1);
	T_CHECK(dec_by_id(PW_FEED_NONE) == NULL);
	T_CHECK(dec_find("none") == NULL);
}

/* Every game has exactly one encoder, on the game's feed. */
static void test_encoder_games(void)
{
	unsigned count[PW_GAME_COUNT] = { 0 };

	for (const struct encoder *const *e = enc_all(); *e; e++) {
		unsigned g = (*e)->game;

		T_CHECKF(g > PW_GAME_UNKNOWN && g < PW_GAME_COUNT, "%s/%s: game %u", (*e)->feed,
			 (*e)->format, g);
		if (g >= PW_GAME_COUNT)
			continue;
		count[g]++;
		T_CHECKF(frame_feed_id((*e)->feed) == frame_game_feed(g), "%s/%s emulates %s (%s)",
			 (*e)->feed, (*e)->format, frame_game_name(g),
			 frame_feed_name(frame_game_feed(g)));
	}
	for (unsigned g = 1; g < PW_GAME_COUNT; g++)
		T_CHECKF(count[g] == 1, "%s: %u encoders", frame_game_name(g), count[g]);
}

struct sink {
	const struct decoder *dec;
	struct dec_state *st;
	unsigned frames, bad;
	struct pw_frame last;
};

static void decode_datagram(void *ctx, const uint8_t *buf, size_t len)
{
	struct sink *k = ctx;
	struct pw_frame out;
	int rc = k->dec->decode(k->st, buf, len, &out);

	if (rc == DEC_FRAME) {
		k->frames++;
		k->last = out;
	} else if (rc < 0) {
		k->bad++;
	}
}

/* What the emulator sends for a game decodes as that game, on the game's feed. */
static void test_roundtrip_game(void)
{
	static struct dec_state st;

	for (const struct encoder *const *e = enc_all(); *e; e++) {
		struct sink k = { .dec = dec_find((*e)->feed), .st = &st };
		struct enc_state es;
		struct pw_frame f;
		struct pw_meta m;

		T_CHECKF(k.dec != NULL, "%s: no decoder", (*e)->feed);
		if (!k.dec)
			continue;
		dec_reset(&st);
		memset(&es, 0, sizeof es);
		memset(&m, 0, sizeof m);
		snprintf(m.game, sizeof m.game, "%s", frame_game_name((*e)->game));
		snprintf(m.car, sizeof m.car, "car");
		snprintf(m.track, sizeof m.track, "track");
		m.game_session = 7;
		m.track_len_m = 5000;
		frame_init(&f, (enum pw_game)(*e)->game, (enum pw_feed)frame_game_feed((*e)->game));
		f.present = FRAME_P_SPEED | FRAME_P_RPM | FRAME_P_GEAR | FRAME_P_THROTTLE;
		f.game_session = 7;
		f.speed_kmh = 100;
		f.rpm = 5000;
		f.gear = 3;
		f.throttle = 0.5f;
		for (int i = 0; i < 5; i++) {
			f.game_time_s = 1.0 + i / 60.0;
			(*e)->encode(&es, &f, &m, decode_datagram, &k);
		}
		T_CHECKF(k.frames > 0 && k.bad == 0, "%s/%s: %u frames, %u rejected", (*e)->feed,
			 (*e)->format, k.frames, k.bad);
		T_CHECKF(k.last.game == (*e)->game, "%s/%s: decoded as %s, want %s", (*e)->feed,
			 (*e)->format, frame_game_name(k.last.game), frame_game_name((*e)->game));
		T_CHECK(k.last.feed == frame_game_feed((*e)->game));
		T_CHECKF(strcmp(st.meta.game, frame_game_name((*e)->game)) == 0, "%s/%s: meta %s",
			 (*e)->feed, (*e)->format, st.meta.game);
	}
}

/* The documents that list the games and feeds name every one of the tables. */
static void test_docs(void)
{
	char *api = t_read_doc("docs/api.md"), *readme = t_read_doc("README.md");
	const char *prev = api ? strstr(api, "`/api/games`") : NULL;

	T_CHECK(api && readme && prev);
	if (!api || !readme || !prev)
		goto out;
	/* docs/api.md names every game of /api/games, in the table's order */
	for (unsigned g = 1; g < PW_GAME_COUNT; g++) {
		char want[80];
		const char *at;

		snprintf(want, sizeof want, "`%s`", frame_game_name(g));
		at = strstr(prev, want);
		T_CHECKF(at != NULL, "docs/api.md does not list %s after the previous game", want);
		if (at)
			prev = at;
	}
	/* README's "Feeds and ports" table: one row per decoder, with its default port */
	for (const struct decoder *const *d = dec_all(); *d; d++) {
		char row[80], port[16];
		const char *at, *eol;

		snprintf(row, sizeof row, "\n| `%s` |", (*d)->feed);
		snprintf(port, sizeof port, "%u", (*d)->default_port);
		at = strstr(readme, row);
		eol = at ? strchr(at + 1, '\n') : NULL;
		T_CHECKF(at && eol, "README.md has no row for feed %s", (*d)->feed);
		if (!at || !eol)
			continue;
		at = strstr(at, port);
		T_CHECKF(at && at < eol, "README.md: feed %s without port %s", (*d)->feed, port);
	}
out:
	free(api);
	free(readme);
}

int main(void)
{
	T_RUN(test_game_feeds);
	T_RUN(test_decoder_table);
	T_RUN(test_encoder_games);
	T_RUN(test_roundtrip_game);
	T_RUN(test_docs);
	return T_DONE();
}
