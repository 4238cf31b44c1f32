/*
 * bus.c - the bus (docs/architecture.md §4): an XSUB/XPUB proxy thread and
 * the store's publisher.
 *
 * The proxy is a loop of our own rather than zmq_proxy: besides forwarding
 * messages XSUB -> XPUB and subscriptions XPUB -> XSUB, it keeps the set of
 * topic prefixes somebody subscribes to. The XPUB is not verbose: it hands
 * up a prefix when its first subscriber subscribes and takes it back (an
 * unsubscription) when its last one unsubscribes or disconnects, so what it
 * hands up is exactly the set of prefixes with a subscriber. With that the
 * store formats a frame's JSON for frame.<feed> only while someone would
 * receive it (bus_wanted): about 14 us per frame that nobody read before.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/log.h"
#include "store/store.h"

#define BUS_INPROC "inproc://pitwall-bus-in"
#define BUS_CONTROL "inproc://pitwall-bus-control"
#define BUS_HWM 100000
#define BUS_PREFIXES 256           /* distinct prefixes tracked; more count as "everything" */
#define BUS_PREFIX_MAX 255
#define BUS_BURST 1024             /* messages forwarded per direction per poll */

static pthread_t proxy_thread;
static void *xsub, *xpub, *control_pair;
static int running;

/* The subscribed prefixes (proxy thread writes, the main thread reads). */
static pthread_mutex_t subs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	size_t len;
	unsigned count;
	char s[BUS_PREFIX_MAX + 1];
} subs[BUS_PREFIXES];
static int nsubs;
static int subs_overflow;          /* a prefix did not fit: everything counts as wanted */
static _Atomic uint64_t subs_gen = 1;

/* A subscription message from the XPUB: byte 1 subscribe / 0 unsubscribe, then the prefix. */
static void track(const unsigned char *m, size_t len)
{
	int i;

	if (len < 1 || m[0] > 1)
		return;
	len--;
	m++;
	pthread_mutex_lock(&subs_lock);
	for (i = 0; i < nsubs; i++)
		if (subs[i].len == len && memcmp(subs[i].s, m, len) == 0)
			break;
	if (m[-1] == 1) {
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
	pthread_mutex_unlock(&subs_lock);
	atomic_fetch_add(&subs_gen, 1);
}

/* Forward up to BUS_BURST whole messages from one socket to the other; a
 * message from the XPUB is a subscription, tracked on its way. */
static void forward(void *from, void *to, int subscriptions)
{
	for (int k = 0; k < BUS_BURST; k++) {
		int more;

		do {
			zmq_msg_t m;

			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, from, ZMQ_DONTWAIT) < 0) {
				zmq_msg_close(&m);
				return;
			}
			more = zmq_msg_more(&m);
			if (subscriptions)
				track(zmq_msg_data(&m), zmq_msg_size(&m));
			if (zmq_msg_send(&m, to, more ? ZMQ_SNDMORE : 0) < 0)
				zmq_msg_close(&m); /* a full subscriber queue drops, as zmq_proxy did */
		} while (more);
	}
}

static void *proxy_main(void *arg)
{
	void *ctl = zmq_socket(arg, ZMQ_PAIR);

	zmq_connect(ctl, BUS_CONTROL);
	for (;;) {
		zmq_pollitem_t pi[] = { { xsub, 0, ZMQ_POLLIN, 0 }, { xpub, 0, ZMQ_POLLIN, 0 },
					{ ctl, 0, ZMQ_POLLIN, 0 } };

		if (zmq_poll(pi, 3, -1) < 0) {
			if (zmq_errno() == EINTR)
				continue;
			break;
		}
		if (pi[2].revents & ZMQ_POLLIN)
			break; /* TERMINATE */
		if (pi[1].revents & ZMQ_POLLIN)
			forward(xpub, xsub, 1);
		if (pi[0].revents & ZMQ_POLLIN)
			forward(xsub, xpub, 0);
	}
	zmq_close(ctl);
	return NULL;
}

uint64_t bus_subscriptions(void)
{
	return atomic_load(&subs_gen);
}

int bus_wanted(const char *topic)
{
	size_t n = strlen(topic);
	int wanted;

	pthread_mutex_lock(&subs_lock);
	wanted = subs_overflow;
	for (int i = 0; i < nsubs && !wanted; i++)
		wanted = subs[i].len <= n && memcmp(subs[i].s, topic, subs[i].len) == 0;
	pthread_mutex_unlock(&subs_lock);
	return wanted;
}

int bus_start(struct store *st, const char *in_ep, const char *out_ep)
{
	int hwm = BUS_HWM, linger = 0;

	xsub = zmq_socket(st->zctx, ZMQ_XSUB);
	xpub = zmq_socket(st->zctx, ZMQ_XPUB);
	control_pair = zmq_socket(st->zctx, ZMQ_PAIR);
	zmq_setsockopt(xpub, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_setsockopt(xsub, ZMQ_RCVHWM, &hwm, sizeof hwm);
	zmq_setsockopt(xpub, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(xsub, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_bind(xpub, out_ep) < 0 || zmq_bind(xsub, in_ep) < 0 || zmq_bind(xsub, BUS_INPROC) < 0 ||
	    zmq_bind(control_pair, BUS_CONTROL) < 0) {
		log_error("msg=\"cannot bind the bus\" out=%s in=%s error=\"%s\"", out_ep, in_ep,
			  zmq_strerror(zmq_errno()));
		return -1;
	}
	st->pub = zmq_socket(st->zctx, ZMQ_PUB);
	zmq_setsockopt(st->pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_setsockopt(st->pub, ZMQ_LINGER, &linger, sizeof linger);
	zmq_connect(st->pub, BUS_INPROC);
	if (pthread_create(&proxy_thread, NULL, proxy_main, st->zctx) != 0)
		return -1;
	running = 1;
	log_info("msg=\"bus up\" subscribers=%s publishers=%s", out_ep, in_ep);
	return 0;
}

void bus_stop(struct store *st)
{
	if (running) {
		zmq_send(control_pair, "TERMINATE", 9, 0);
		pthread_join(proxy_thread, NULL);
		running = 0;
	}
	zmq_close(st->pub);
	zmq_close(control_pair);
	zmq_close(xsub);
	zmq_close(xpub);
	st->pub = NULL;
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
	char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;

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
