/*
 * bench_wslat.c - end-to-end latency to a WebSocket client: a UDP packet sent
 * to pw-capture until its frame arrives in a `telemetry` message on pw-api's
 * /api/stream (p50/p99/max).
 *
 *   bench_wslat UDP_PORT API_PORT COUNT RATE_HZ CLIENT_HZ
 *
 * Sends COUNT AC RTCarInfo packets (pw-capture --feed ksudp --passive on
 * UDP_PORT), each marked with its index in the lap-time field, at RATE_HZ,
 * while one WebSocket client at 127.0.0.1:API_PORT asks for CLIENT_HZ
 * telemetry. A telemetry message carries the newest frame when it was sent:
 * its marker says which packet that was, and the latency is from that
 * packet's send to the message's arrival. The client gets a frame at its rate
 * boundary (every 1/CLIENT_HZ s), so it sees about CLIENT_HZ / RATE_HZ of the
 * packets; each is measured once. Prints one line; exit status 0 when at
 * least 90 % of the expected messages came, 1 otherwise, 2 on a usage error.
 * Run by tests/bench/run.sh (ws_latency) with pw-capture, pw-store and pw-api up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "tests/bench/bench_mark.h"
#include "tests/tools/t_args.h"
#include "tests/tools/ws_proto.h"

int main(int argc, char **argv);

#define RX_CAP (1 << 20)

static int send_all(int fd, const void *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		p = (const char *)p + n;
		len -= (size_t)n;
	}
	return 0;
}

/* A masked client frame (the mask need not be secret here). */
static int send_frame(int fd, int opcode, const void *data, size_t len)
{
	static const unsigned char mask[4] = { 0x12, 0x34, 0x56, 0x78 };
	unsigned char buf[WS_PROTO_MAX_HDR + 512];
	size_t hl;

	if (len > 512)
		return -1;
	hl = ws_client_header(buf, opcode, true, len, mask);
	ws_mask(buf + hl, data, len, mask);
	return send_all(fd, buf, hl + len);
}

/* Connect, upgrade (101 and the accept key checked) and ask for hz telemetry. */
static int ws_open(int port, int hz, unsigned char *rx, size_t *rx_len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr = { htonl(INADDR_LOOPBACK) } };
	struct timeval tv = { 3, 0 };
	unsigned char raw[16];
	char key[WS_PROTO_KEY_LEN], accept[WS_PROTO_ACCEPT_LEN], req[512], resp[4096], msg[160];
	char *end = NULL;
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, n;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		goto fail;
	for (int i = 0; i < 16; i++)
		raw[i] = (unsigned char)(i * 37 + 11);
	ws_make_key(raw, key);
	n = snprintf(
		req, sizeof req,
		"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		port, key);
	if (send_all(fd, req, (size_t)n) < 0)
		goto fail;
	resp[0] = 0;
	while (got < sizeof resp - 1 && !(end = strstr(resp, "\r\n\r\n"))) {
		ssize_t r = recv(fd, resp + got, sizeof resp - 1 - got, 0);

		if (r <= 0)
			goto fail;
		got += (size_t)r;
		resp[got] = 0;
	}
	ws_accept_for(key, accept);
	if (!end || strncmp(resp, "HTTP/1.1 101", 12) != 0 || !strstr(resp, accept)) {
		fprintf(stderr, "bench_wslat: handshake refused: %.60s\n", resp);
		goto fail;
	}
	*rx_len = got - (size_t)(end + 4 - resp);
	memcpy(rx, end + 4, *rx_len);
	n = snprintf(msg, sizeof msg,
		     "{\"type\":\"set_rate\",\"schema_version\":1,\"t_ms\":0,\"data\":{\"hz\":%d}}",
		     hz);
	if (send_frame(fd, WS_OP_TEXT, msg, (size_t)n) < 0)
		goto fail;
	return fd;
fail:
	fprintf(stderr, "bench_wslat: cannot open a WebSocket on 127.0.0.1:%d: %s\n", port,
		strerror(errno));
	close(fd);
	return -1;
}

struct bench {
	int count;
	int64_t *sent_at, *lat;
	int got, messages, repeats, last;
};

/* A complete telemetry message: the marker of its frame. */
static void on_text(struct bench *b, const unsigned char *p, size_t len, int64_t now)
{
	long k;

	if (len < 20 || memcmp(p, "{\"type\":\"telemetry\"", 19) != 0)
		return;
	b->messages++;
	k = mark_find(p, len);
	if (k < 1 || k > b->count || !b->sent_at[k - 1])
		return;
	if (k <= b->last) { /* the same newest frame again: no newer one came */
		b->repeats++;
		return;
	}
	b->last = (int)k;
	b->lat[b->got++] = now - b->sent_at[k - 1];
}

/* Every complete frame in rx; the rest stays. Returns -1 when the server closed. */
static int parse(struct bench *b, int fd, unsigned char *rx, size_t *rx_len, int64_t now)
{
	size_t off = 0;
	struct ws_frame f;
	int rc = 0;

	while (ws_parse_header(rx + off, *rx_len - off, &f) && *rx_len - off >= f.hdr_len + f.len) {
		const unsigned char *p = rx + off + f.hdr_len;

		if (f.opcode == WS_OP_TEXT && f.fin)
			on_text(b, p, (size_t)f.len, now);
		else if (f.opcode == WS_OP_PING)
			send_frame(fd, WS_OP_PONG, p, (size_t)f.len);
		else if (f.opcode == WS_OP_CLOSE)
			rc = -1;
		off += f.hdr_len + (size_t)f.len;
	}
	memmove(rx, rx + off, *rx_len - off);
	*rx_len -= off;
	return rc;
}

int main(int argc, char **argv)
{
	struct mark_sender snd;
	struct bench b = { 0 };
	unsigned char *rx = malloc(RX_CAP);
	size_t rx_len = 0;
	int rate, hz, fd, expected;
	int64_t t0, end_ns;

	if (argc != 6) {
		fprintf(stderr, "usage: bench_wslat UDP_PORT API_PORT COUNT RATE_HZ CLIENT_HZ\n");
		return 2;
	}
	b.count = (int)t_arg_long(argv[3], 1, 10000000, "COUNT");
	rate = (int)t_arg_long(argv[4], 1, 100000, "RATE_HZ");
	hz = (int)t_arg_long(argv[5], 1, 60, "CLIENT_HZ");
	b.sent_at = calloc((size_t)b.count, sizeof *b.sent_at);
	b.lat = calloc((size_t)b.count, sizeof *b.lat);
	if (mark_open(&snd, (uint16_t)t_arg_long(argv[1], 1, 65535, "UDP_PORT")) < 0 || !rx ||
	    !b.sent_at || !b.lat ||
	    (fd = ws_open((int)t_arg_long(argv[2], 1, 65535, "API_PORT"), hz, rx, &rx_len)) < 0)
		return 1;
	t0 = clock_mono_ns();
	end_ns = t0 + (int64_t)b.count * NS_PER_S / rate + NS_PER_S / 2;
	for (int i = 0;;) {
		int64_t now = clock_mono_ns(), due = t0 + (int64_t)i * NS_PER_S / rate;
		struct pollfd pfd = { fd, POLLIN, 0 };
		int wait_ms;

		if (i < b.count && now >= due) {
			b.sent_at[i] = clock_mono_ns();
			mark_send(&snd, i++);
			continue;
		}
		if (i >= b.count && now >= end_ns)
			break;
		wait_ms = (int)(((i < b.count ? due : end_ns) - now + NS_PER_MS - 1) / NS_PER_MS);
		if (poll(&pfd, 1, wait_ms > 0 ? wait_ms : 0) > 0) {
			ssize_t r = recv(fd, rx + rx_len, RX_CAP - rx_len, MSG_DONTWAIT);

			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
				fprintf(stderr, "bench_wslat: the server closed the connection\n");
				break;
			}
			if (r > 0) {
				rx_len += (size_t)r;
				if (parse(&b, fd, rx, &rx_len, clock_mono_ns()) < 0)
					break;
			}
		}
	}
	send_frame(fd, WS_OP_CLOSE, "\x03\xe8", 2);
	close(fd);
	close(snd.fd);
	qsort(b.lat, (size_t)b.got, sizeof *b.lat, mark_cmp_ns);
	expected = (int)((int64_t)b.count * hz / rate);
	printf("latency UDP -> WebSocket client (feed at %d Hz, client at %d Hz, a message at each "
	       "rate boundary): p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d messages with a new frame "
	       "of %d expected, %d repeated the last)\n",
	       rate, hz, b.got ? b.lat[b.got / 2] / 1e6 : 0,
	       b.got ? b.lat[(int)(b.got * 0.99)] / 1e6 : 0, b.got ? b.lat[b.got - 1] / 1e6 : 0,
	       b.got, expected, b.repeats);
	free(rx);
	free(b.sent_at);
	free(b.lat);
	return b.got >= expected * 9 / 10 ? 0 : 1;
}
