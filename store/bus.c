/*
 * bus.c - the bus (docs/architecture.md §4): the store's XPUB, where
 * subscribers connect, and an XSUB, where other publishers connect.
 *
 * Everything runs in the store's main thread: the store publishes straight
 * into the XPUB (no proxy thread between its events and the subscribers: one
 * thread wake-up less per frame.<feed> message), and bus_serve forwards what
 * other publishers send (XSUB -> XPUB) and the subscriptions (XPUB -> XSUB)
 * whenever the loop's socket watcher sees either socket readable
 * (store/loop.c).
 *
 * On the way it keeps the set of topic prefixes somebody subscribes to. The
 * XPUB is not verbose: it hands up a prefix when its first subscriber
 * subscribes and takes it back (an unsubscription) when its last one
 * unsubscribes or disconnects, so what it hands up is exactly the set of
 * prefixes with a subscriber. With that the store formats a frame's JSON for
 * frame.<feed> only while someone would receive it (bus_wanted): about 14 us
 * per frame that nobody read before.
 */
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/log.h"
#include "store/store.h"

#define BUS_HWM 100000
#define BUS_PREFIXES 256 /* distinct prefixes tracked; more count as "everything" */
#define BUS_PREFIX_MAX 255
#define BUS_BURST 1024 /* messages forwarded per direction per bus_serve */

static void *xsub;

/* The subscribed prefixes. */
static struct {
	size_t len;
	unsigned count;
	char s[BUS_PREFIX_MAX + 1];
} subs[BUS_PREFIXES];
static int nsubs;
static int subs_overflow; /* a prefix did not fit: everything counts as wanted */
static uint64_t subs_gen = 1;

/* A subscription message from the XPUB: byte 1 subscribe / 0 unsubscribe, then the prefix. */
static void track(const unsigned char *m, size_t len)
{
	int sub, i;

	if (len < 1 || m[0] > 1)
		return;
	sub = m[0] == 1;
	len--;
	m++;
	for (i = 0; i < nsubs; i++)
		if (subs[i].len == len && memcmp(subs[i].s, m, len) == 0)
			break;
	if (sub) {
		if (i < nsubs) {
			subs[i].count++;
		} else if (nsubs < BUS_PREFIXES && len <= BUS_PREFIX_MAX) {
			subs[nsubs].len = len;
			memcpy(subs[nsubs].s, m, len);
			subs[nsubs].s[len] = 0;
			subs[nsubs++].count = 1;
		} else {
			subs_overflow = 1;
		}
	} else if (i < nsubs && --subs[i].count == 0) {
		subs[i] = subs[--nsubs];
	}
	subs_gen++;
}

/* Forward up to BUS_BURST whole messages from one socket to the other; a
 * message from the XPUB is a subscription, tracked on its way. Returns how
 * many. */
static int forward(void *from, void *to, int subscriptions)
{
	int k;

	for (k = 0; k < BUS_BURST; k++) {
		int more;

		do {
			zmq_msg_t m;

			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, from, ZMQ_DONTWAIT) < 0) {
				zmq_msg_close(&m);
				return k;
			}
			more = zmq_msg_more(&m);
			if (subscriptions)
				track(zmq_msg_data(&m), zmq_msg_size(&m));
			if (zmq_msg_send(&m, to, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0)
				zmq_msg_close(&m); /* a full queue drops, as a PUB does */
		} while (more);
	}
	return k;
}

int bus_serve(struct store *st)
{
	if (!st->pub)
		return 0;
	return forward(st->pub, xsub, 1) + forward(xsub, st->pub, 0);
}

int bus_fds(struct store *st, int fds[2])
{
	size_t len = sizeof fds[0];

	if (zmq_getsockopt(st->pub, ZMQ_FD, &fds[0], &len) < 0)
		return -zmq_errno();
	len = sizeof fds[1];
	return zmq_getsockopt(xsub, ZMQ_FD, &fds[1], &len) < 0 ? -zmq_errno() : 0;
}

uint64_t bus_subscriptions(void)
{
	return subs_gen;
}

int bus_wanted(const char *topic)
{
	size_t n = strlen(topic);
	int wanted = subs_overflow;

	for (int i = 0; i < nsubs && !wanted; i++)
		wanted = subs[i].len <= n && memcmp(subs[i].s, topic, subs[i].len) == 0;
	return wanted;
}

int bus_start(struct store *st, const char *in_ep, const char *out_ep)
{
	int hwm = BUS_HWM, linger = 0;

	xsub = zmq_socket(st->zctx, ZMQ_XSUB);
	st->pub = zmq_socket(st->zctx, ZMQ_XPUB);
	if (!xsub || !st->pub) {
		log_error("msg=\"cannot create the bus sockets\" error=\"%s\"",
			  zmq_strerror(zmq_errno()));
		return -1;
	}
	zmq_setsockopt(st->pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_setsockopt(xsub, ZMQ_RCVHWM, &hwm, sizeof hwm);
	zmq_setsockopt(st->pub, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(xsub, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_bind(st->pub, out_ep) < 0 || zmq_bind(xsub, in_ep) < 0) {
		log_error("msg=\"cannot bind the bus\" out=%s in=%s error=\"%s\"", out_ep, in_ep,
			  zmq_strerror(zmq_errno()));
		return -1;
	}
	log_info("msg=\"bus up\" subscribers=%s publishers=%s", out_ep, in_ep);
	return 0;
}

void bus_stop(struct store *st)
{
	if (st->pub)
		zmq_close(st->pub);
	if (xsub)
		zmq_close(xsub);
	st->pub = NULL;
	xsub = NULL;
}

static void publish(struct store *st, const char *topic, const char *json_text)
{
	if (!st->pub)
		return;
	if (zmq_send(st->pub, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0 &&
	    zmq_send(st->pub, json_text, strlen(json_text), ZMQ_DONTWAIT) >= 0)
		storestat_add(st->stat, STORESTAT_BUS_EVENTS, 1);
}

static void publish_json(struct store *st, const char *topic, json_t *payload)
{
	/* 15 significant digits: a double as it was written (0.487, not 0.48699999999999999) */
	char *text = payload ? json_dumps(payload, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;

	json_decref(payload);
	if (text)
		publish(st, topic, text);
	free(text);
}

void bus_publish_raw(struct store *st, const struct topic_name *topic, const char *json_text)
{
	publish(st, topic->s, json_text);
}

void bus_publish(struct store *st, enum topic_event t, json_t *payload)
{
	const struct topic_desc *d = topic_event(t);

	if (!d) {
		log_error("msg=\"bus: not a topic of the table\" topic=%d", (int)t);
		json_decref(payload);
		return;
	}
	publish_json(st, d->name, payload);
}

void bus_publish_feed(struct store *st, enum topic_family t, const char *feed, json_t *payload)
{
	struct topic_name topic;

	if (topic_feed_name(&topic, t, feed) < 0) {
		log_error("msg=\"bus: not a topic of the table\" family=%d feed=%s", (int)t,
			  feed ? feed : "-");
		json_decref(payload);
		return;
	}
	publish_json(st, topic.s, payload);
}
