/*
 * test_rawsplit.c - capture/rawsplit.c splits a raw capture (datagrams
 * concatenated without framing) back into the datagrams the emulator sent,
 * for every feed whose datagram lengths the protocol headers define.
 */
#include <stdint.h>
#include <string.h>

#include "capture/ksudp.h"
#include "capture/pcars.h"
#include "capture/rawsplit.h"
#include "capture/sim/encoder.h"
#include "tests/unit/t.h"

#define RAW_MAX (1 << 20)
#define DGRAMS_MAX 2048

struct raw {
	uint8_t *b;
	size_t len;
	size_t skip; /* datagrams of this length are left out */
	size_t dlen[DGRAMS_MAX];
	unsigned n;
};

static void append(void *ctx, const uint8_t *buf, size_t len)
{
	struct raw *r = ctx;

	if (r->n == DGRAMS_MAX || r->len + len > RAW_MAX || len == r->skip)
		return;
	memcpy(r->b + r->len, buf, len);
	r->len += len;
	r->dlen[r->n++] = len;
}

/* Split r as a raw file of feed; every datagram must come back at its length. */
static void check_split(const char *label, const char *feed, const struct raw *r)
{
	struct rawsplit rs;
	size_t off = 0;
	unsigned i = 0;

	T_CHECKF(rawsplit_init(&rs, feed, r->len) == 0, "%s: init", label);
	while (off < r->len && i < r->n) {
		size_t n = rawsplit_next(&rs, r->b + off, r->len - off);

		T_CHECKF(n == r->dlen[i], "%s: datagram %u: %zu bytes, sent %zu", label, i, n,
			 r->dlen[i]);
		if (n != r->dlen[i])
			return;
		off += n;
		i++;
	}
	T_CHECKF(i == r->n && off == r->len, "%s: %u of %u datagrams", label, i, r->n);
	/* a cut-off last datagram is not returned */
	T_CHECK(r->n == 0 ||
		rawsplit_next(&rs, r->b + r->len - r->dlen[r->n - 1], r->dlen[r->n - 1] - 1) == 0);
}

static void test_encoders(void)
{
	static uint8_t buf[RAW_MAX];
	static struct raw r;

	for (const struct encoder *const *e = enc_all(); *e; e++) {
		struct enc_state es;
		struct pw_frame f;
		struct pw_meta m;
		char label[64];

		if (strcmp((*e)->feed, "acc") == 0)
			continue; /* variable-length messages: not splittable, by design */
		memset(&r, 0, sizeof r);
		r.b = buf;
		/* PC2's class names share type 8 with the vehicle names and are split as
		 * those (a known limit of raw files: record pcars as pcap) */
		if (strcmp((*e)->feed, "pcars") == 0)
			r.skip = PCARS_V2_CLASS_NAMES_SIZE;
		memset(&es, 0, sizeof es);
		memset(&m, 0, sizeof m);
		snprintf(m.car, sizeof m.car, "car");
		snprintf(m.track, sizeof m.track, "track");
		snprintf(m.driver, sizeof m.driver, "driver");
		m.track_len_m = 5000;
		frame_init(&f, (enum pw_game)(*e)->game, PW_FEED_NONE);
		f.present = FRAME_P_ALL;
		for (int i = 0; i < 400; i++) {
			f.game_time_s = i / 60.0;
			f.lap = (uint16_t)(i / 100);
			(*e)->encode(&es, &f, &m, append, &r);
		}
		snprintf(label, sizeof label, "%s/%s", (*e)->feed, (*e)->format);
		T_CHECKF(r.n > 0, "%s: nothing sent", label);
		check_split(label, (*e)->feed, &r);
	}
}

/* AC's handshake response (408 B) between RTCarInfo datagrams (328 B). */
static void test_ksudp_response(void)
{
	static uint8_t buf[RAW_MAX];
	static struct raw r;
	uint8_t resp[KSUDP_RESPONSE_SIZE];
	struct pw_meta m;
	struct enc_state es;
	struct pw_frame f;

	memset(&r, 0, sizeof r);
	r.b = buf;
	memset(&m, 0, sizeof m);
	memset(&es, 0, sizeof es);
	frame_init(&f, PW_GAME_AC, PW_FEED_KSUDP);
	T_CHECK(ksudp_encode_response(&m, resp, sizeof resp) == KSUDP_RESPONSE_SIZE);
	append(&r, resp, sizeof resp);
	enc_ksudp.encode(&es, &f, &m, append, &r);
	append(&r, resp, sizeof resp);
	enc_ksudp.encode(&es, &f, &m, append, &r);
	T_CHECK(r.n == 4 && r.dlen[1] == KSUDP_CARINFO_SIZE);
	check_split("ksudp response", "ksudp", &r);
}

static void test_refused(void)
{
	struct rawsplit rs;

	T_CHECK(rawsplit_init(&rs, "acc", 1000) < 0);
	T_CHECK(rawsplit_init(&rs, "nope", 1000) < 0);
	T_CHECK(rawsplit_init(&rs, "forza", 1000) < 0); /* no Forza size divides it */
	T_CHECK(rawsplit_init(&rs, "forza", 0) < 0);
	T_CHECK(rawsplit_init(&rs, "forza", 331 * 324) == 0 && rs.fixed == 331);
}

int main(void)
{
	T_RUN(test_encoders);
	T_RUN(test_ksudp_response);
	T_RUN(test_refused);
	return T_DONE();
}
