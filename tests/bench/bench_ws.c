/*
 * bench_ws.c - many WebSocket clients on pw-api's /api/stream at once: does
 * every one of them get its telemetry rate?
 *
 *   bench_ws --port P [--clients N] [--hz H] [--seconds D] [--warmup MS] [--path PATH]
 *
 * One process, one poll() loop. Opens N (default 100) RFC 6455 connections to
 * 127.0.0.1:P PATH (default /api/stream) one after the other, each handshake
 * checked (101, Upgrade, Connection, Sec-WebSocket-Accept), and sends on each the
 * contract's (docs/stream.md, schema_version 1)
 *   {"type":"set_rate","schema_version":1,"t_ms":<now>,"data":{"hz":H}}
 * (H default 60), reading the connections already open between two
 * handshakes. Then it reads every connection for --warmup ms (default
 * 500; not measured, the new rate settles) and D seconds (default 10)
 * measured, answering PINGs with masked PONGs, and finally closes each with
 * 1000 and waits (at most 2 s) for the server's answers.
 *
 * Prints one line of key=value figures:
 *   clients     asked for          connected  handshakes that succeeded
 *   hello       first message was `hello` on that many connections
 *   telemetry   telemetry messages received in the measured window, all clients
 *   mean_hz     telemetry / D / connected     worst_hz  the lowest client's rate
 *   p50_gap_ms, p99_gap_ms, max_gap_ms  time between two telemetry messages of a client
 *   p99_lag_ms  arrival (wall clock) - the envelope's t_ms (ms resolution)
 *   connect_ms  time to open every connection
 *   other       non-telemetry messages     closes  close frames from the server
 *   errors      eof, socket errors, protocol errors before the end
 *   clean_close connections that answered our final close
 * Details of closes and errors go to stderr. Exit status: 0 when measured,
 * 1 when no connection succeeded, 2 on a usage error. Only 127.0.0.1 is ever
 * contacted. Run by tests/bench/run.sh (ws_bench) against the full stack.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/tools/t_args.h"
#include "tests/tools/ws_proto.h"

int main(int argc, char **argv);

#define MAX_CLIENTS 1000
#define RX_CAP (256 * 1024) /* largest server frame accepted (events <= ~61 KiB) */
#define HANDSHAKE_TIMEOUT_MS 3000
#define SEND_TRIES 20    /* x 100 ms waiting for room to send a small frame */
#define READS_PER_WAKE 8 /* recv() calls per readable connection per poll */
#define CLOSE_WAIT_MS 2000
#define MAX_SAMPLES (20u * 1000 * 1000)
#define TELEMETRY_PREFIX "{\"type\":\"telemetry\""

struct conn {
	int idx;
	int fd;         /* -1: not connected, or closed / eof */
	bool connected; /* the handshake succeeded */
	bool close_sent;
	bool got_first, first_hello; /* a message arrived; the first was `hello` */
	unsigned char *rx;
	size_t rx_len;
	bool in_msg;        /* inside a fragmented text message */
	bool msg_telemetry; /* ... that is telemetry */
	uint64_t telemetry; /* in the measured window */
	uint64_t other;
	int64_t last_telem_ns; /* arrival of the previous telemetry, 0 = none */
	int close_code;
	bool clean_close; /* the server answered our final close */
};

struct bench {
	struct conn *c;
	int n;
	int64_t win_start_ns, win_end_ns;
	double *gaps_ms, *lags_ms;
	size_t ngaps, nlags, cap;
	uint64_t closes, errors;
	bool ending; /* our final close is out: closes are expected */
	uint64_t rng;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64: masks and keys need not be secret in a benchmark */
static void random_bytes(struct bench *b, unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		b->rng ^= b->rng << 13;
		b->rng ^= b->rng >> 7;
		b->rng ^= b->rng << 17;
		p[i] = (unsigned char)b->rng;
	}
}

/* ---- sending (small frames only: set_rate, pongs, closes) ---- */

static int send_all(int fd, const unsigned char *p, size_t len)
{
	for (int tries = 0; len && tries < SEND_TRIES;) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			struct pollfd pfd = { fd, POLLOUT, 0 };

			poll(&pfd, 1, 100);
			tries++;
		} else {
			return -1;
		}
	}
	return len ? -1 : 0;
}

static int send_frame(struct bench *b, struct conn *c, int opcode, const void *data, size_t len)
{
	unsigned char buf[WS_PROTO_MAX_HDR + 256], mask[4];
	size_t hl;

	if (c->fd < 0 || len > 256)
		return -1;
	random_bytes(b, mask, 4);
	hl = ws_client_header(buf, opcode, true, len, mask);
	ws_mask(buf + hl, data, len, mask);
	return send_all(c->fd, buf, hl + len);
}

static void send_close(struct bench *b, struct conn *c, int code)
{
	unsigned char payload[2] = { (unsigned char)(code >> 8), (unsigned char)code };

	if (c->close_sent)
		return;
	c->close_sent = true;
	send_frame(b, c, WS_OP_CLOSE, payload, code ? 2 : 0);
}

static void drop(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static bool parse_frames(struct bench *b, struct conn *c, int64_t now);

/* ---- connecting ---- */

static int tcp_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr = { htonl(INADDR_LOOPBACK) } };
	struct timeval tv = { HANDSHAKE_TIMEOUT_MS / 1000, (HANDSHAKE_TIMEOUT_MS % 1000) * 1000 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A header line's value in the response head (case-insensitive name), or NULL. */
static const char *header_value(const char *head, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);

	for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2, *end = strstr(line, "\r\n");
		size_t vl;

		if (strncasecmp(line, name, nl) != 0 || line[nl] != ':')
			continue;
		line += nl + 1;
		while (*line == ' ' || *line == '\t')
			line++;
		vl = end ? (size_t)(end - line) : strlen(line);
		while (vl && (line[vl - 1] == ' ' || line[vl - 1] == '\t'))
			vl--;
		if (vl >= cap)
			vl = cap - 1;
		memcpy(out, line, vl);
		out[vl] = 0;
		return out;
	}
	return NULL;
}

/* Upgrade request, 101 checked; bytes after the head are kept in c->rx. */
static int handshake(struct bench *b, struct conn *c, int port, const char *path)
{
	unsigned char raw[16];
	char key[WS_PROTO_KEY_LEN], accept[WS_PROTO_ACCEPT_LEN], got_accept[64], upgrade[32];
	char connection[64];
	char req[512], resp[4096], *end = NULL;
	size_t got = 0;
	int n;

	random_bytes(b, raw, sizeof raw);
	ws_make_key(raw, key);
	n = snprintf(
		req, sizeof req,
		"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		path, port, key);
	if (n < 0 || (size_t)n >= sizeof req ||
	    send_all(c->fd, (unsigned char *)req, (size_t)n) < 0)
		return -1;
	resp[0] = 0;
	while (got < sizeof resp - 1 && !(end = strstr(resp, "\r\n\r\n"))) {
		ssize_t r = recv(c->fd, resp + got, sizeof resp - 1 - got,
				 0); /* SO_RCVTIMEO bounds it */

		if (r <= 0)
			return -1;
		got += (size_t)r;
		resp[got] = 0;
	}
	if (!end)
		return -1;
	end[2] = 0; /* keep the last header's CRLF for header_value */
	ws_accept_for(key, accept);
	if (strncmp(resp, "HTTP/1.1 101", 12) != 0 ||
	    !header_value(resp, "Upgrade", upgrade, sizeof upgrade) ||
	    strcasecmp(upgrade, "websocket") != 0 ||
	    !header_value(resp, "Connection", connection, sizeof connection) ||
	    !strcasestr(connection, "upgrade") ||
	    !header_value(resp, "Sec-WebSocket-Accept", got_accept, sizeof got_accept) ||
	    strcmp(got_accept, accept) != 0) {
		fprintf(stderr, "bench_ws: client %d: handshake refused or wrong: %.60s\n", c->idx,
			resp);
		return -1;
	}
	c->rx_len = got - (size_t)(end + 4 - resp);
	memcpy(c->rx, end + 4, c->rx_len);
	return 0;
}

static int open_client(struct bench *b, struct conn *c, int port, const char *path, int hz)
{
	char msg[160];
	int n;

	if ((c->fd = tcp_connect(port)) < 0) {
		fprintf(stderr, "bench_ws: client %d: connect to 127.0.0.1:%d: %s\n", c->idx, port,
			strerror(errno));
		return -1;
	}
	if (handshake(b, c, port, path) < 0) {
		drop(c);
		return -1;
	}
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	c->connected = true;
	n = snprintf(
		msg, sizeof msg,
		"{\"type\":\"set_rate\",\"schema_version\":1,\"t_ms\":%lld,\"data\":{\"hz\":%d}}",
		(long long)wall_ms(), hz);
	if (send_frame(b, c, WS_OP_TEXT, msg, (size_t)n) < 0) {
		fprintf(stderr, "bench_ws: client %d: cannot send set_rate\n", c->idx);
		drop(c);
		return -1;
	}
	parse_frames(b, c, mono_ns()); /* what came with the handshake's answer */
	return 0;
}

/* ---- receiving ---- */

static void sample(struct bench *b, double *arr, size_t *n, double v)
{
	if (*n < b->cap)
		arr[(*n)++] = v;
}

static void fail(struct bench *b, struct conn *c, const char *what)
{
	if (!b->ending) {
		b->errors++;
		fprintf(stderr, "bench_ws: client %d: %s\n", c->idx, what);
	}
	drop(c);
}

/* "t_ms":N of an envelope (looked for near its start); -1 when absent. */
static int64_t envelope_t_ms(const unsigned char *p, size_t len)
{
	const char *key = "\"t_ms\":";
	size_t kl = strlen(key), lim = len < 96 ? len : 96;

	for (size_t i = 0; i + kl < lim; i++) {
		if (memcmp(p + i, key, kl) == 0) {
			int64_t v = 0;

			for (i += kl; i < len && p[i] >= '0' && p[i] <= '9'; i++)
				v = v * 10 + (p[i] - '0');
			return v;
		}
	}
	return -1;
}

static void on_message(struct bench *b, struct conn *c, bool telemetry, int64_t t_ms, int64_t now)
{
	bool in_window = now >= b->win_start_ns && now < b->win_end_ns;

	if (!telemetry) {
		c->other++;
		return;
	}
	if (in_window) {
		c->telemetry++;
		if (c->last_telem_ns)
			sample(b, b->gaps_ms, &b->ngaps, (double)(now - c->last_telem_ns) / 1e6);
		if (t_ms > 0)
			sample(b, b->lags_ms, &b->nlags, (double)(wall_ms() - t_ms));
	}
	c->last_telem_ns = now;
}

/* One complete frame (header f, payload p); false when the connection ended. */
static bool on_frame(struct bench *b, struct conn *c, const struct ws_frame *f,
		     const unsigned char *p, int64_t now)
{
	size_t len = (size_t)f->len;

	if (f->masked || f->rsv) {
		fail(b, c, f->masked ? "masked frame from the server" : "reserved bits set");
		return false;
	}
	switch (f->opcode) {
	case WS_OP_PING:
		if (!c->close_sent && send_frame(b, c, WS_OP_PONG, p, len) < 0) {
			fail(b, c, "cannot answer a ping");
			return false;
		}
		return true;
	case WS_OP_PONG:
		return true;
	case WS_OP_CLOSE:
		c->close_code = len >= 2 ? (p[0] << 8 | p[1]) : 1005;
		if (b->ending) {
			c->clean_close = c->close_code == 1000;
		} else {
			b->closes++;
			fprintf(stderr, "bench_ws: client %d: server closed %d %.*s\n", c->idx,
				c->close_code, len > 2 ? (int)(len - 2) : 0, (const char *)p + 2);
		}
		send_close(b, c, c->close_code == 1005 ? 0 : c->close_code);
		drop(c);
		return false;
	case WS_OP_TEXT:
	case WS_OP_CONT: {
		bool first = f->opcode == WS_OP_TEXT;

		if (first == c->in_msg) {
			fail(b, c, "broken fragmentation");
			return false;
		}
		if (first) {
			c->msg_telemetry =
				len >= strlen(TELEMETRY_PREFIX) &&
				memcmp(p, TELEMETRY_PREFIX, strlen(TELEMETRY_PREFIX)) == 0;
			if (!c->got_first)
				c->first_hello =
					len >= 15 && memcmp(p, "{\"type\":\"hello\"", 15) == 0;
			c->got_first = true;
		}
		c->in_msg = !f->fin;
		if (f->fin)
			on_message(b, c, c->msg_telemetry, first ? envelope_t_ms(p, len) : -1, now);
		return true;
	}
	default:
		fail(b, c, "binary or unknown opcode");
		return false;
	}
}

/* Handle every complete frame in c->rx; false when the connection ended. */
static bool parse_frames(struct bench *b, struct conn *c, int64_t now)
{
	size_t off = 0;
	struct ws_frame f;

	/* each pass consumes a whole frame (>= 2 bytes): bounded by rx_len */
	while (ws_parse_header(c->rx + off, c->rx_len - off, &f)) {
		if (f.len > RX_CAP - WS_PROTO_MAX_HDR) {
			fail(b, c, "frame larger than the receive buffer");
			return false;
		}
		if (c->rx_len - off < f.hdr_len + f.len)
			break;
		if (!on_frame(b, c, &f, c->rx + off + f.hdr_len, now))
			return false;
		off += f.hdr_len + (size_t)f.len;
	}
	if (off) {
		memmove(c->rx, c->rx + off, c->rx_len - off);
		c->rx_len -= off;
	}
	return true;
}

/* Read what is there (bounded) and handle every complete frame. */
static void pump(struct bench *b, struct conn *c)
{
	for (int reads = 0; reads < READS_PER_WAKE && c->fd >= 0; reads++) {
		ssize_t n;

		if (c->rx_len == RX_CAP) {
			fail(b, c, "frame larger than the receive buffer");
			return;
		}
		n = recv(c->fd, c->rx + c->rx_len, RX_CAP - c->rx_len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0) {
			fail(b, c, n < 0 ? strerror(errno) : "eof without a close frame");
			return;
		}
		c->rx_len += (size_t)n;
		if (!parse_frames(b, c, mono_ns()) || (size_t)n < RX_CAP / 2)
			return; /* gone, or the socket is most likely drained */
	}
}

/* One poll() of every open connection (waiting up to timeout_ms); false when none is open. */
static bool poll_once(struct bench *b, struct pollfd *pfds, int timeout_ms)
{
	int np = 0, idx[MAX_CLIENTS];

	for (int i = 0; i < b->n; i++) {
		if (b->c[i].fd < 0)
			continue;
		pfds[np] = (struct pollfd){ b->c[i].fd, POLLIN, 0 };
		idx[np++] = i;
	}
	if (np == 0)
		return false;
	if (poll(pfds, (nfds_t)np, timeout_ms) > 0)
		for (int k = 0; k < np; k++)
			if (pfds[k].revents & (POLLIN | POLLHUP | POLLERR))
				pump(b, &b->c[idx[k]]);
	return true;
}

/* Read every open connection until deadline (monotonic ns). */
static void read_until(struct bench *b, struct pollfd *pfds, int64_t deadline)
{
	/* each pass waits at most 100 ms: bounded by the deadline */
	for (int64_t now = mono_ns(); now < deadline; now = mono_ns()) {
		int left_ms = (int)((deadline - now + 999999) / 1000000);

		if (!poll_once(b, pfds, left_ms < 100 ? left_ms : 100))
			return;
	}
}

/* ---- figures ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static int usage(void)
{
	fprintf(stderr,
		"usage: bench_ws --port P [--clients N (1..%d)] [--hz H (1..60)] "
		"[--seconds D] [--warmup MS] [--path PATH]\n",
		MAX_CLIENTS);
	return 2;
}

int main(int argc, char **argv)
{
	struct bench b = { .n = 100 };
	const char *path = "/api/stream";
	int port = 0, hz = 60, connected = 0, hello = 0, clean = 0;
	double seconds = 10, warmup_ms = 500, worst = -1, mean;
	struct pollfd *pfds;
	struct rlimit rl;
	int64_t t_conn;
	uint64_t telemetry = 0, other = 0;

	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "--port") == 0)
			port = (int)t_arg_long(argv[++i], INT_MIN, INT_MAX, "--port");
		else if (strcmp(argv[i], "--clients") == 0)
			b.n = (int)t_arg_long(argv[++i], INT_MIN, INT_MAX, "--clients");
		else if (strcmp(argv[i], "--hz") == 0)
			hz = (int)t_arg_long(argv[++i], INT_MIN, INT_MAX, "--hz");
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = t_arg_double(argv[++i], -HUGE_VAL, HUGE_VAL, "--seconds");
		else if (strcmp(argv[i], "--warmup") == 0)
			warmup_ms = t_arg_double(argv[++i], -HUGE_VAL, HUGE_VAL, "--warmup");
		else if (strcmp(argv[i], "--path") == 0)
			path = argv[++i];
		else
			return usage();
	}
	if (port < 1 || port > 65535 || b.n < 1 || b.n > MAX_CLIENTS || hz < 1 || hz > 60 ||
	    !(seconds >= 0.1 && seconds <= 3600) || !(warmup_ms >= 0 && warmup_ms <= 60000) ||
	    path[0] != '/' || strlen(path) > 200 || strpbrk(path, " \r\n"))
		return usage();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)b.n + 16) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)b.n + 16 ? rl.rlim_max : (rlim_t)b.n + 16;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	b.rng = (uint64_t)mono_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
	b.cap = (size_t)b.n * (size_t)((double)hz * (seconds + 1) * 2 + 64);
	if (b.cap > MAX_SAMPLES)
		b.cap = MAX_SAMPLES;
	b.c = calloc((size_t)b.n, sizeof *b.c);
	pfds = calloc((size_t)b.n, sizeof *pfds);
	b.gaps_ms = malloc(b.cap * sizeof *b.gaps_ms);
	b.lags_ms = malloc(b.cap * sizeof *b.lags_ms);
	if (!b.c || !pfds || !b.gaps_ms || !b.lags_ms)
		return 1;

	/* nothing is measured before the window: connecting clients only queue */
	b.win_start_ns = b.win_end_ns = INT64_MAX;
	t_conn = mono_ns();
	for (int i = 0; i < b.n; i++) {
		b.c[i].idx = i;
		b.c[i].fd = -1;
		if (!(b.c[i].rx = malloc(RX_CAP)))
			return 1;
	}
	for (int i = 0; i < b.n; i++) {
		if (open_client(&b, &b.c[i], port, path, hz) == 0)
			connected++;
		poll_once(&b, pfds, 0); /* keep reading the clients already connected */
	}
	t_conn = mono_ns() - t_conn;
	if (connected == 0) {
		fprintf(stderr, "bench_ws: no connection to 127.0.0.1:%d%s\n", port, path);
		return 1;
	}

	read_until(&b, pfds, mono_ns() + (int64_t)(warmup_ms * 1e6));
	b.win_start_ns = mono_ns();
	b.win_end_ns = b.win_start_ns + (int64_t)(seconds * 1e9);
	read_until(&b, pfds, b.win_end_ns);

	b.ending = true;
	for (int i = 0; i < b.n; i++)
		if (b.c[i].fd >= 0)
			send_close(&b, &b.c[i], 1000);
	read_until(&b, pfds, mono_ns() + (int64_t)CLOSE_WAIT_MS * 1000000);

	for (int i = 0; i < b.n; i++) {
		struct conn *c = &b.c[i];
		double r = (double)c->telemetry / seconds;

		if (c->connected && (worst < 0 || r < worst))
			worst = r;
		telemetry += c->telemetry;
		other += c->other;
		hello += c->first_hello;
		clean += c->clean_close;
		drop(c);
		free(c->rx);
	}
	qsort(b.gaps_ms, b.ngaps, sizeof *b.gaps_ms, cmp_double);
	qsort(b.lags_ms, b.nlags, sizeof *b.lags_ms, cmp_double);
	mean = (double)telemetry / seconds / connected;
	printf("bench_ws clients=%d connected=%d connect_ms=%.0f hello=%d hz=%d seconds=%.2f "
	       "telemetry=%llu mean_hz=%.2f worst_hz=%.2f p50_gap_ms=%.2f p99_gap_ms=%.2f "
	       "max_gap_ms=%.2f p99_lag_ms=%.0f other=%llu closes=%llu errors=%llu clean_close=%d\n",
	       b.n, connected, (double)t_conn / 1e6, hello, hz, seconds,
	       (unsigned long long)telemetry, mean, worst < 0 ? 0 : worst,
	       pct(b.gaps_ms, b.ngaps, 0.5), pct(b.gaps_ms, b.ngaps, 0.99),
	       b.ngaps ? b.gaps_ms[b.ngaps - 1] : 0, pct(b.lags_ms, b.nlags, 0.99),
	       (unsigned long long)other, (unsigned long long)b.closes,
	       (unsigned long long)b.errors, clean);
	free(b.c);
	free(pfds);
	free(b.gaps_ms);
	free(b.lags_ms);
	return 0;
}
