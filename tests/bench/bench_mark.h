/*
 * bench_mark.h - marked packets for the latency benchmarks (bench_latency,
 * bench_wslat): packet i is an AC RTCarInfo datagram carrying i + 1 in its
 * lap-time field, so the frame that comes out at the other end (frame.ksudp
 * on the bus, telemetry on a WebSocket) tells which packet it was.
 * Header-only; mark_open's socket is the caller's to close.
 */
#ifndef PW_BENCH_MARK_H
#define PW_BENCH_MARK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "capture/sim/encoder.h"

#define MARK_KEY "\"lap_time_ms\":"

struct mark_sender {
	int fd;
	struct sockaddr_in to;
	struct enc_state es;
	struct pw_meta meta;
};

static inline void mark_emit(void *ctx, const uint8_t *buf, size_t len)
{
	struct mark_sender *m = ctx;

	sendto(m->fd, buf, len, 0, (struct sockaddr *)&m->to, sizeof m->to);
}

/* A UDP socket towards 127.0.0.1:port; -1 when none can be had. */
static inline int mark_open(struct mark_sender *m, uint16_t port)
{
	memset(m, 0, sizeof *m);
	m->to.sin_family = AF_INET;
	m->to.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.1", &m->to.sin_addr);
	return m->fd = socket(AF_INET, SOCK_DGRAM, 0);
}

/* Send packet i (0-based): marker i + 1. */
static inline void mark_send(struct mark_sender *m, int i)
{
	struct pw_frame f;

	frame_init(&f, PW_GAME_AC, PW_FEED_KSUDP);
	f.present = FRAME_P_LAP_TIME | FRAME_P_SPEED;
	f.lap_time_ms = i + 1;
	f.speed_kmh = 100;
	enc_ksudp.encode(&m->es, &f, &m->meta, mark_emit, m);
}

/* The marker of the first frame in len bytes of JSON, 0 when there is none. */
static inline long mark_find(const void *json, size_t len)
{
	const char *p = memmem(json, len, MARK_KEY, strlen(MARK_KEY)),
		   *end = (const char *)json + len;
	long k = 0;

	if (!p)
		return 0;
	for (p += strlen(MARK_KEY); p < end && *p >= '0' && *p <= '9'; p++)
		k = k * 10 + (*p - '0');
	return k;
}

static inline int mark_cmp_ns(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

#endif
