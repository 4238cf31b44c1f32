/*
 * ws_client - a minimal RFC 6455 client for the integration tests.
 *
 *   ws_client [--host H] [--port P] [--path /api/stream] [--rcvbuf BYTES]
 *             [--no-pong] [--protocol NAME] [--] COMMAND...
 *
 * Connects (handshake checked, Sec-WebSocket-Accept verified), then runs the
 * COMMANDs in order while printing every frame received, one per line,
 * prefixed by the milliseconds since the connection opened:
 *
 *   12.345 text {"type":"hello",...}     a text message (payload verbatim)
 *   12.345 binary 10                      a binary message and its length
 *   12.345 ping 7 / pong 7                control frames and payload length
 *   12.345 close 1008 slow consumer       the server's close code and reason
 *   12.345 eof                            the TCP connection ended
 *   12.345 timeout SUBSTR                 an `until` that did not match
 *   12.345 sent send {"type":"ping",...   a command that sent a frame (60 chars)
 *
 * Commands (one argument each):
 *   send TEXT           a masked text frame
 *   sendfrag N TEXT     TEXT as N fragments (text + continuations)
 *   big N               a text frame of N bytes ('x' repeated)
 *   binary N            a binary frame of N bytes
 *   ping [PAYLOAD]      a WebSocket PING control frame
 *   close [CODE [WHY]]  a close frame, then read until the server's close / eof
 *   wait MS             read for MS milliseconds
 *   until SUBSTR MS     read until a printed line contains SUBSTR (or MS pass)
 *   stall MS            read nothing for MS milliseconds (a slow consumer)
 *   drop                close the socket without a close frame and exit
 * When the commands end and the connection is open, the client sends close
 * 1000 and waits up to 2 s for the answer. PINGs are answered automatically
 * unless --no-pong. Exit status: 0, 1 on a usage error, 2 when the
 * connection or handshake fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/tools/t_args.h"
#include "tests/tools/ws_proto.h"

#define RX_MAX (8u << 20) /* largest message accepted from the server */

struct client {
	int fd;
	double t0;
	bool auto_pong;
	bool open; /* no close received and no eof */
	bool close_sent;
	unsigned char *rx;
	size_t rx_len;
	char *msg; /* message being reassembled */
	size_t msg_len;
	int msg_opcode;
	const char *want; /* `until` substring */
	bool matched;
};

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void emit(struct client *c, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void emit(struct client *c, const char *kind, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	printf("%.3f %s %s\n", mono_ms() - c->t0, kind, line);
	if (c->want && (strstr(line, c->want) || strstr(kind, c->want)))
		c->matched = true;
}

/* ---- connection ---- */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { fd, POLLOUT, 0 };

			poll(&pfd, 1, 1000);
			continue;
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int tcp_connect(const char *host, int port, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void random_bytes(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(rand() & 0xff);
}

/* Send the upgrade request and check the 101 answer; leftover bytes go to c->rx. */
static int handshake(struct client *c, const char *host, int port, const char *path,
		     const char *protocol)
{
	unsigned char key_raw[16];
	char key[WS_PROTO_KEY_LEN], accept[WS_PROTO_ACCEPT_LEN], req[1024], resp[4096], *end;
	size_t got = 0;
	int n;

	resp[0] = 0;
	random_bytes(key_raw, sizeof key_raw);
	ws_make_key(key_raw, key);
	n = snprintf(
		req, sizeof req,
		"GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s%s%s\r\n",
		path, host, port, key, protocol ? "Sec-WebSocket-Protocol: " : "",
		protocol ? protocol : "", protocol ? "\r\n" : "");
	if (write_all(c->fd, req, (size_t)n) < 0)
		return -1;
	while (!(end = strstr(resp, "\r\n\r\n"))) {
		ssize_t r;

		if (got >= sizeof resp - 1)
			return -1;
		r = recv(c->fd, resp + got, sizeof resp - 1 - got, 0);
		if (r <= 0)
			return -1;
		got += (size_t)r;
		resp[got] = 0;
	}
	*end = 0;
	if (strncmp(resp, "HTTP/1.1 101", 12) != 0) {
		fprintf(stderr, "ws_client: handshake refused: %.80s\n", resp);
		return -1;
	}
	ws_accept_for(key, accept);
	if (!strcasestr(resp, "Sec-WebSocket-Accept:") || !strstr(resp, accept)) {
		fprintf(stderr, "ws_client: bad Sec-WebSocket-Accept (want %s)\n", accept);
		return -1;
	}
	c->rx_len = got - (size_t)(end + 4 - resp);
	memcpy(c->rx, end + 4, c->rx_len);
	return 0;
}

static int send_frame(struct client *c, int opcode, bool fin, const void *data, size_t len)
{
	unsigned char mask[4], *buf;
	size_t hl;
	int r;

	random_bytes(mask, 4);
	if (!(buf = malloc(WS_PROTO_MAX_HDR + len)))
		return -1;
	hl = ws_client_header(buf, opcode, fin, len, mask);
	ws_mask(buf + hl, data, len, mask);
	r = write_all(c->fd, buf, hl + len);
	free(buf);
	return r;
}

static void send_close(struct client *c, int code, const char *why)
{
	char payload[125];
	size_t n = 0;

	if (c->close_sent)
		return;
	if (code) {
		payload[0] = (char)(code >> 8);
		payload[1] = (char)code;
		n = 2 + strnlen(why ? why : "", sizeof payload - 2);
		memcpy(payload + 2, why ? why : "", n - 2);
	}
	send_frame(c, 0x8, true, payload, n);
	c->close_sent = true;
}

/* One complete frame from the server at c->rx: handle it; 0 when incomplete. */
static size_t handle_frame(struct client *c)
{
	unsigned char *p = c->rx;
	struct ws_frame f;
	size_t hl, len;
	int opcode;
	bool fin;

	if (!ws_parse_header(p, c->rx_len, &f))
		return 0;
	fin = f.fin;
	opcode = f.opcode;
	hl = f.hdr_len; /* a server must not mask, but skip the key if it does */
	if (f.len > RX_MAX) {
		emit(c, "error", "frame of %llu bytes", (unsigned long long)f.len);
		c->open = false;
		return c->rx_len;
	}
	len = (size_t)f.len;
	if (c->rx_len < hl + len)
		return 0;
	p += hl;
	switch (opcode) {
	case 0x9:
		emit(c, "ping", "%zu", len);
		if (c->auto_pong && !c->close_sent)
			send_frame(c, 0xA, true, p, len);
		break;
	case 0xA:
		emit(c, "pong", "%zu", len);
		break;
	case 0x8: {
		int code = len >= 2 ? (p[0] << 8 | p[1]) : 1005;

		emit(c, "close", "%d %.*s", code, len > 2 ? (int)(len - 2) : 0,
		     (const char *)p + 2);
		send_close(c, code == 1005 ? 0 : code, NULL);
		c->open = false;
		break;
	}
	case 0x1:
	case 0x2:
	case 0x0:
		if (opcode != 0)
			c->msg_opcode = opcode, c->msg_len = 0;
		if (!(c->msg = realloc(c->msg, c->msg_len + len + 1)))
			exit(2);
		memcpy(c->msg + c->msg_len, p, len);
		c->msg_len += len;
		if (!fin)
			break;
		c->msg[c->msg_len] = 0;
		if (c->msg_opcode == 0x1) {
			printf("%.3f text %s\n", mono_ms() - c->t0, c->msg);
			if (c->want && strstr(c->msg, c->want))
				c->matched = true;
		} else {
			emit(c, "binary", "%zu", c->msg_len);
		}
		c->msg_len = 0;
		break;
	default:
		emit(c, "error", "opcode %d", opcode);
	}
	return hl + len;
}

/* Read and handle frames for up to ms; stops early when `until` matched or the connection ended. */
static void pump(struct client *c, double ms)
{
	double deadline = mono_ms() + ms;

	while (c->fd >= 0 && !c->matched) {
		double left = deadline - mono_ms();
		struct pollfd pfd = { c->fd, POLLIN, 0 };
		ssize_t n;

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)left + 1) <= 0)
			continue;
		if (c->rx_len == RX_MAX + 16) {
			emit(c, "error", "receive buffer full");
			break;
		}
		n = recv(c->fd, c->rx + c->rx_len, RX_MAX + 16 - c->rx_len, 0);
		if (n <= 0) {
			emit(c, "eof", "%s", n < 0 ? strerror(errno) : "");
			close(c->fd);
			c->fd = -1;
			c->open = false;
			break;
		}
		c->rx_len += (size_t)n;
		for (size_t used; (used = handle_frame(c)) > 0;) {
			memmove(c->rx, c->rx + used, c->rx_len - used);
			c->rx_len -= used;
		}
	}
}

/* The integer that starts a command argument ("4 TEXT", "1000 WHY"), or -1. */
static long lead_long(const char *arg, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (end == arg || (*end != 0 && *end != ' ') || errno == ERANGE || v < lo || v > hi)
		return -1;
	return v;
}

static int run(struct client *c, const char *cmd)
{
	char word[16];
	int n = 0;
	double ms;
	const char *arg;

	if (sscanf(cmd, "%15s%n", word, &n) != 1)
		return -1;
	arg = cmd + n + (cmd[n] == ' ');
	if (strcmp(word, "send") == 0 || strcmp(word, "sendfrag") == 0 ||
	    strcmp(word, "big") == 0 || strcmp(word, "binary") == 0 || strcmp(word, "ping") == 0 ||
	    strcmp(word, "close") == 0)
		emit(c, "sent", "%s %.60s", word, arg);
	if (strcmp(word, "send") == 0)
		return send_frame(c, 0x1, true, arg, strlen(arg));
	if (strcmp(word, "sendfrag") == 0) {
		long parts = lead_long(arg, 1, 1 << 20);
		const char *text = strchr(arg, ' ');
		size_t len, step, off = 0;

		if (parts < 1 || !text)
			return -1;
		len = strlen(++text);
		step = (len + (size_t)parts - 1) / (size_t)parts;
		for (int i = 0; i < parts; i++) {
			size_t k = off + step > len ? len - off : step;

			if (send_frame(c, i == 0 ? 0x1 : 0x0, i == parts - 1, text + off, k) < 0)
				return -1;
			off += k;
		}
		return 0;
	}
	if (strcmp(word, "big") == 0 || strcmp(word, "binary") == 0) {
		size_t len = strtoul(arg, NULL, 10);
		char *buf = malloc(len + 1);
		int r;

		if (!buf)
			return -1;
		memset(buf, 'x', len);
		r = send_frame(c, strcmp(word, "binary") == 0 ? 0x2 : 0x1, true, buf, len);
		free(buf);
		return r;
	}
	if (strcmp(word, "ping") == 0)
		return send_frame(c, 0x9, true, arg, strlen(arg));
	if (strcmp(word, "close") == 0) {
		long code = *arg ? lead_long(arg, 0, 65535) : 1000;
		const char *why = strchr(arg, ' ');

		if (code < 0)
			return -1;
		send_close(c, (int)code, why ? why + 1 : "");
		pump(c, 3000);
		return 0;
	}
	if (strcmp(word, "wait") == 0) {
		if (t_parse_double(arg, 0, 1e9, &ms) < 0)
			return -1;
		pump(c, ms);
		return 0;
	}
	if (strcmp(word, "until") == 0) {
		char want[512];
		const char *sp = strrchr(arg, ' ');

		if (!sp || (size_t)(sp - arg) >= sizeof want ||
		    t_parse_double(sp + 1, 0, 1e9, &ms) < 0)
			return -1;
		memcpy(want, arg, (size_t)(sp - arg));
		want[sp - arg] = 0;
		c->want = want;
		c->matched = false;
		pump(c, ms);
		if (!c->matched)
			emit(c, "timeout", "%s", want);
		c->want = NULL;
		c->matched = false;
		return 0;
	}
	if (strcmp(word, "stall") == 0) {
		if (t_parse_double(arg, 0, 1e6, &ms) < 0)
			return -1;
		usleep((useconds_t)(ms * 1000));
		return 0;
	}
	if (strcmp(word, "drop") == 0) {
		close(c->fd);
		c->fd = -1;
		c->open = false;
		return 0;
	}
	return -1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: ws_client [--host H] [--port P] [--path P] [--rcvbuf N] [--no-pong] "
		"[--protocol NAME] COMMAND...\n(see the comment at the top of "
		"tests/tools/ws_client.c)\n");
	return 1;
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *path = "/api/stream", *protocol = NULL;
	int port = 8080, rcvbuf = 0, i;
	long v;
	struct client c = { .fd = -1, .auto_pong = true };

	setvbuf(stdout, NULL, _IOLBF, 0);
	srand((unsigned)(time(NULL) ^ getpid()));
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--no-pong") == 0)
			c.auto_pong = false;
		else if (i + 1 >= argc)
			return usage();
		else if (strcmp(argv[i], "--host") == 0)
			host = argv[++i];
		else if (strcmp(argv[i], "--port") == 0) {
			if (t_parse_long(argv[++i], 1, 65535, &v) < 0)
				return usage();
			port = (int)v;
		} else if (strcmp(argv[i], "--path") == 0)
			path = argv[++i];
		else if (strcmp(argv[i], "--rcvbuf") == 0) {
			if (t_parse_long(argv[++i], 0, INT_MAX, &v) < 0)
				return usage();
			rcvbuf = (int)v;
		} else if (strcmp(argv[i], "--protocol") == 0)
			protocol = argv[++i];
		else
			return usage();
	}
	if (!(c.rx = malloc(RX_MAX + 16)))
		return 2;
	if ((c.fd = tcp_connect(host, port, rcvbuf)) < 0) {
		fprintf(stderr, "ws_client: cannot connect to %s:%d: %s\n", host, port,
			strerror(errno));
		return 2;
	}
	if (handshake(&c, host, port, path, protocol) < 0)
		return 2;
	c.t0 = mono_ms();
	c.open = true;
	for (size_t used; (used = handle_frame(&c)) > 0;) {
		memmove(c.rx, c.rx + used, c.rx_len - used);
		c.rx_len -= used;
	}
	for (; i < argc && c.fd >= 0; i++) {
		if (run(&c, argv[i]) < 0) {
			if (c.fd >= 0 && !c.open)
				break; /* the server closed: later commands have nothing to talk to */
			fprintf(stderr, "ws_client: command failed: %s\n", argv[i]);
			break;
		}
	}
	if (c.fd >= 0) {
		if (c.open)
			send_close(&c, 1000, "");
		pump(&c, 2000);
	}
	if (c.fd >= 0)
		close(c.fd);
	free(c.rx);
	free(c.msg);
	return 0;
}
