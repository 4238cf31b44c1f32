/* bus.c - the bus (docs/architecture.md §4): an XSUB/XPUB proxy thread and the store's publisher. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/log.h"
#include "store/store.h"

#define BUS_INPROC "inproc://pitwall-bus-in"
#define BUS_CONTROL "inproc://pitwall-bus-control"
#define BUS_HWM 100000

static pthread_t proxy_thread;
static void *xsub, *xpub, *control_pair;
static int running;

static void *proxy_main(void *arg)
{
	void *ctl = zmq_socket(arg, ZMQ_PAIR);

	zmq_connect(ctl, BUS_CONTROL);
	zmq_proxy_steerable(xsub, xpub, NULL, ctl);
	zmq_close(ctl);
	return NULL;
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
