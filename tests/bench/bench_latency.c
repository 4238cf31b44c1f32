/*
 * bench_latency.c - end-to-end latency: a UDP packet sent to pw-capture until
 * its frame arrives as frame.<feed> on the store's bus (p50/p99/max).
 *
 *   bench_latency PORT BUS_ENDPOINT COUNT RATE_HZ
 *
 * Sends COUNT AC RTCarInfo packets (pw-capture --feed ksudp --passive listening
 * on PORT), each marked with its index in the lap-time field, at RATE_HZ, and
 * matches the frames on the bus by that marker, once a warm-up packet came
 * back (the subscription reached the store). Run by tests/bench/run.sh with
 * a capture and a store already up.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "tests/bench/bench_mark.h"
#include "tests/tools/t_args.h"

int main(int argc, char **argv);

/*
 * Until the subscription has reached the store (which makes frame.<feed> only
 * while someone subscribes), packets marked beyond count, one every 10 ms:
 * 0 once one of them came back, -1 after 10 s without.
 */
static int warm_up(struct mark_sender *snd, void *sub, int count)
{
	for (int j = 0; j < 1000; j++) {
		zmq_pollitem_t pi = { .socket = sub, .events = ZMQ_POLLIN };
		char topic[64], body[8192];

		mark_send(snd, count + j);
		if (zmq_poll(&pi, 1, 10) <= 0)
			continue;
		if (zmq_recv(sub, topic, sizeof topic, 0) >= 0 &&
		    zmq_recv(sub, body, sizeof body, 0) >= 0) {
			usleep(100000); /* the rest of the warm-up frames come and are ignored */
			return 0;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct mark_sender snd;
	void *ctx, *sub;
	int count, rate, got = 0;
	int64_t *sent_at, *lat, t0;

	if (argc != 5) {
		fprintf(stderr, "usage: bench_latency PORT BUS COUNT RATE_HZ\n");
		return 2;
	}
	count = (int)t_arg_long(argv[3], 1, 100000000, "COUNT");
	rate = (int)t_arg_long(argv[4], 1, 10000000, "RATE_HZ");
	sent_at = calloc((size_t)count, sizeof *sent_at);
	lat = calloc((size_t)count, sizeof *lat);
	if (mark_open(&snd, (uint16_t)t_arg_long(argv[1], 1, 65535, "PORT")) < 0 || !sent_at ||
	    !lat)
		return 1;
	ctx = zmq_ctx_new();
	sub = zmq_socket(ctx, ZMQ_SUB);
	zmq_connect(sub, argv[2]);
	zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "frame.ksudp", 11);
	if (warm_up(&snd, sub, count) < 0) {
		fprintf(stderr, "bench_latency: no frame.ksudp on the bus within 10 s\n");
		return 1;
	}
	t0 = clock_mono_ns();
	for (int i = 0;
	     i < count || clock_mono_ns() < t0 + (int64_t)count * NS_PER_S / rate + NS_PER_S;) {
		zmq_pollitem_t pi = { .socket = sub, .events = ZMQ_POLLIN };
		int64_t due = t0 + (int64_t)i * NS_PER_S / rate, now = clock_mono_ns();

		if (i < count && now >= due) {
			sent_at[i] = clock_mono_ns();
			mark_send(&snd, i++);
			continue;
		}
		if (zmq_poll(&pi, 1, 1) > 0) {
			char topic[64], body[8192];
			int tn = zmq_recv(sub, topic, sizeof topic, 0),
			    bn = zmq_recv(sub, body, sizeof body - 1, 0);
			long k;
			if (tn < 0 || bn < 0)
				continue;
			if (bn >=
			    (int)sizeof body) /* zmq_recv says how long it was, not what it kept */
				bn = sizeof body - 1;
			if ((k = mark_find(body, (size_t)bn)) >= 1 && k <= count &&
			    sent_at[k - 1] && !lat[k - 1]) {
				lat[k - 1] = clock_mono_ns() - sent_at[k - 1];
				got++;
			}
		}
		if (i >= count && got == count)
			break;
	}
	close(snd.fd);
	qsort(lat, (size_t)count, sizeof *lat, mark_cmp_ns);
	{
		int64_t *ok = lat + (count - got); /* unanswered ones sorted first as 0 */
		printf("latency UDP -> frame.ksudp on the bus at %d Hz: p50 %.2f ms, p99 %.2f ms, "
		       "max %.2f ms (%d of %d frames seen)\n",
		       rate, got ? ok[got / 2] / 1e6 : 0, got ? ok[(int)(got * 0.99)] / 1e6 : 0,
		       got ? ok[got - 1] / 1e6 : 0, got, count);
	}
	zmq_close(sub);
	zmq_ctx_term(ctx);
	return got == count ? 0 : 1;
}
