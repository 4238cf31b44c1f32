/*
 * bench_http.c - open-loop HTTP/1.1 load on pw-api: the latency of GET PATH at a
 * fixed request rate, free of coordinated omission (what wrk2 -R measures; wrk
 * alone only measures a closed loop at saturation).
 *
 *   bench_http --port P --path PATH [--rate R] [--connections C] [--seconds D]
 *              [--warmup W] [--threads T]
 *
 * R requests/s (default 20000) over C keep-alive connections (default 32) to
 * 127.0.0.1:P, sent by T threads (default 2, each with its share of the
 * connections and of the rate, one epoll loop each, non-blocking sockets). The
 * schedule is global and round-robin: request k of connection g (0..C-1) is due
 * at start + (k*C + g)/R. A connection has at most one request outstanding (no
 * pipelining): a request due while the previous one of its connection is still
 * unanswered waits, and goes out as soon as the answer is in. Every latency is
 * counted from the SCHEDULED time to the end of the full response (status line,
 * headers, Content-Length bytes of body), so a slow answer is charged to every
 * request it held back, not only to itself.
 *
 * W seconds (default 1) of warm-up are sent but not measured; then the requests
 * scheduled during D seconds (default 8) are measured. After the window nothing
 * new is scheduled, the requests already due are still sent and read for at most
 * DRAIN_S seconds; those unanswered by then count as `unfinished` and enter the
 * histogram with their latency at that moment (a lower bound: never omitted).
 * Latencies go to a histogram: 1 us buckets to 10 ms, 100 us to 1 s, 10 ms to
 * 10 s, one bucket beyond (the maximum is kept exactly); percentiles are bucket
 * upper edges.
 *
 * Prints one line of key=value figures:
 *   path, rate (asked), connections, seconds, threads
 *   achieved    responses completed inside the measured window / D
 *   p50_ms, p90_ms, p99_ms, p999_ms, max_ms   latency from the scheduled time
 *   errors      non-200 answers + socket and protocol errors (a request lost with
 *               its connection is not in the histogram; the connection is reopened)
 *   requests    latencies recorded (scheduled in the window)
 *   unfinished  of these, still unanswered at the end of the drain
 *   send_lag_p99_ms, send_lag_max_ms   the generator's own delay: from when a
 *               request could go out (scheduled time, or the previous answer of
 *               its connection if later) to its send(); it is part of the
 *               latencies above, and when it is not small against them the
 *               generator (or the CPU it shares) is measured, not the server
 * Details of errors go to stderr. Exit status: 0 when measured, 1 when a
 * connection could not be opened (or was lost for good), 2 on a usage error.
 * Only 127.0.0.1 is ever contacted. Every loop is bounded by a deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/tools/t_args.h"

int main(int argc, char **argv);

#define MAX_CONNS 1000
#define MAX_THREADS 8
#define HEAD_CAP 8192 /* largest response head accepted */
#define RECV_BUF (64 * 1024)
#define READS_PER_WAKE 16 /* recv() calls per readable connection per wake */
#define MAX_EVENTS 64
#define CONNECT_TIMEOUT_MS 2000
#define DRAIN_S 5         /* reading answers after the window, at most */
#define START_DELAY_MS 20 /* from the last connect to the first request */

/* histogram: 1 us to 10 ms, 100 us to 1 s, 10 ms to 10 s, then one overflow bucket */
#define H_FINE 10000
#define H_MID 9900
#define H_COARSE 900
#define H_N (H_FINE + H_MID + H_COARSE + 1)

struct conn {
	int fd;           /* -1: lost for good */
	int g;            /* global index 0..C-1 */
	uint64_t k;       /* index of the next request to schedule */
	int64_t next_ns;  /* its scheduled time */
	int64_t sched_ns; /* scheduled time of the outstanding request */
	int64_t done_ns;  /* when the previous answer was complete */
	bool busy;        /* a request is outstanding */
	size_t tx_off;    /* bytes of it sent (a partial send waits for EPOLLOUT) */
	bool want_out;
	/* response parser */
	char head[HEAD_CAP];
	size_t head_len;
	bool in_body;
	uint64_t body_left;
	int status;
	bool server_closes; /* "Connection: close" in the current answer */
};

struct worker {
	pthread_t th;
	int id, ep;
	struct conn *c;
	int n;
	uint64_t *hist, *lag_hist;
	int64_t max_ns, lag_max_ns;
	uint64_t sends;
	uint64_t recorded, done_in_window, errors, unfinished, reconnects;
	int lost; /* connections that could not be reopened */
	char *rx;
};

/* read-only once the workers run */
static int g_port, g_conns;
static double g_rate;
static char g_req[512];
static size_t g_req_len;
static int64_t g_start, g_warm_end, g_end, g_drain_end;

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Scheduled time of request k of connection g: start + (k*C + g) / R. */
static int64_t sched_of(int g, uint64_t k)
{
	return g_start + (int64_t)llround(((double)k * g_conns + g) * 1e9 / g_rate);
}

/* ---- histogram ---- */

static size_t bucket(int64_t ns)
{
	int64_t us = ns < 0 ? 0 : ns / 1000;

	if (us < 10000)
		return (size_t)us;
	if (us < 1000000)
		return H_FINE + (size_t)((us - 10000) / 100);
	if (us < 10000000)
		return H_FINE + H_MID + (size_t)((us - 1000000) / 10000);
	return H_N - 1;
}

/* upper edge of bucket i in ms (the overflow bucket: max_ms) */
static double bucket_top_ms(size_t i, double max_ms)
{
	if (i < H_FINE)
		return (double)(i + 1) / 1000;
	if (i < H_FINE + H_MID)
		return 10 + (double)(i - H_FINE + 1) / 10;
	if (i < H_N - 1)
		return 1000 + (double)(i - H_FINE - H_MID + 1) * 10;
	return max_ms;
}

static void record(struct worker *w, int64_t lat_ns)
{
	w->hist[bucket(lat_ns)]++;
	w->recorded++;
	if (lat_ns > w->max_ns)
		w->max_ns = lat_ns;
}

static double pct_ms(const uint64_t *h, uint64_t n, double q, double max_ms)
{
	uint64_t want, cum = 0;

	if (n == 0)
		return 0;
	want = (uint64_t)ceil(q * (double)n);
	if (want < 1)
		want = 1;
	for (size_t i = 0; i < H_N; i++) {
		cum += h[i];
		if (cum >= want) {
			double v = bucket_top_ms(i, max_ms);

			return v < max_ms ? v : max_ms;
		}
	}
	return max_ms;
}

/* ---- connections ---- */

static int tcp_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)g_port),
				  .sin_addr = { htonl(INADDR_LOOPBACK) } };
	struct timeval tv = { CONNECT_TIMEOUT_MS / 1000, (CONNECT_TIMEOUT_MS % 1000) * 1000 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* bounds connect() */
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void reset_parser(struct conn *c)
{
	c->head_len = 0;
	c->in_body = false;
	c->body_left = 0;
	c->status = 0;
	c->server_closes = false;
}

static int watch(struct worker *w, struct conn *c, int op)
{
	struct epoll_event ev = { .events = EPOLLIN | (c->want_out ? EPOLLOUT : 0), .data.ptr = c };

	return epoll_ctl(w->ep, op, c->fd, &ev);
}

/* Close c and open it again; the outstanding request (if any) is lost, the
 * schedule goes on. A connection that cannot be reopened is lost for good. */
static void reopen(struct worker *w, struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->busy = false;
	c->done_ns = mono_ns();
	c->want_out = false;
	c->tx_off = 0;
	reset_parser(c);
	w->reconnects++;
	if ((c->fd = tcp_connect()) < 0 || watch(w, c, EPOLL_CTL_ADD) < 0) {
		fprintf(stderr, "bench_http: connection %d: cannot reopen: %s\n", c->g,
			strerror(errno));
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		w->errors++;
		w->lost++;
	}
}

static void fail(struct worker *w, struct conn *c, const char *what)
{
	w->errors++;
	fprintf(stderr, "bench_http: connection %d: %s\n", c->g, what);
	reopen(w, c);
}

/* Push what is left of the request; false when the connection failed. */
static bool push(struct worker *w, struct conn *c)
{
	bool out;

	/* each pass sends > 0 bytes or leaves: bounded by the request's length */
	while (c->tx_off < g_req_len) {
		ssize_t n = send(c->fd, g_req + c->tx_off, g_req_len - c->tx_off, MSG_NOSIGNAL);

		if (n > 0) {
			c->tx_off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			break; /* retried on the next wake, with EPOLLOUT */
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			fail(w, c, n < 0 ? strerror(errno) : "send returned 0");
			return false;
		}
	}
	out = c->tx_off < g_req_len;
	if (out != c->want_out) {
		c->want_out = out;
		if (watch(w, c, EPOLL_CTL_MOD) < 0) {
			fail(w, c, "epoll_ctl");
			return false;
		}
	}
	return true;
}

/* Send the next scheduled request of an idle connection (now: the time). The
 * generator's own delay - from when the request could go out (its scheduled
 * time, or the previous answer if that came later) to now - is kept apart. */
static void send_next(struct worker *w, struct conn *c, int64_t now)
{
	int64_t ready = c->done_ns > c->next_ns ? c->done_ns : c->next_ns;

	if (c->next_ns >= g_warm_end && c->next_ns < g_end) {
		w->lag_hist[bucket(now - ready)]++;
		w->sends++;
		if (now - ready > w->lag_max_ns)
			w->lag_max_ns = now - ready;
	}
	c->sched_ns = c->next_ns;
	c->next_ns = sched_of(c->g, ++c->k);
	c->busy = true;
	c->tx_off = 0;
	push(w, c);
}

/* ---- responses ---- */

/* Status, Content-Length and Connection of a complete head (NUL-terminated,
 * ends with CRLF CRLF); -1 when it is not an HTTP/1.x answer with a length. */
static int parse_head(struct conn *c)
{
	char *line, *save = NULL;
	bool have_len = false;
	int n = 0;

	if (strncmp(c->head, "HTTP/1.", 7) != 0 || c->head[8] != ' ' ||
	    sscanf(c->head + 9, "%3d", &c->status) != 1)
		return -1;
	c->body_left = 0;
	c->server_closes = c->head[7] == '0'; /* HTTP/1.0: closes unless told otherwise */
	/* one pass per header line: bounded by HEAD_CAP */
	for (line = strtok_r(c->head, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char *v = strchr(line, ':');

		if (n++ == 0 || !v)
			continue; /* the status line */
		*v++ = 0;
		while (*v == ' ' || *v == '\t')
			v++;
		if (strcasecmp(line, "Content-Length") == 0) {
			char *end;
			unsigned long long cl = strtoull(v, &end, 10);

			if (end == v || (*end && *end != ' ' && *end != '\t'))
				return -1;
			c->body_left = cl;
			have_len = true;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
			return -1; /* chunked: not needed by these endpoints */
		} else if (strcasecmp(line, "Connection") == 0) {
			if (strcasestr(v, "close"))
				c->server_closes = true;
			else if (strcasestr(v, "keep-alive"))
				c->server_closes = false;
		}
	}
	if (!have_len && !(c->status == 204 || c->status == 304 || c->status / 100 == 1))
		return -1;
	return 0;
}

/* The full answer to c's request arrived at t. */
static void complete(struct worker *w, struct conn *c, int64_t t)
{
	if (c->status != 200) {
		w->errors++;
		if (w->errors <= 10)
			fprintf(stderr, "bench_http: connection %d: HTTP %d\n", c->g, c->status);
	}
	if (c->sched_ns >= g_warm_end && c->sched_ns < g_end)
		record(w, t - c->sched_ns);
	if (t >= g_warm_end && t < g_end)
		w->done_in_window++;
	c->busy = false;
	c->done_ns = t;
	if (c->server_closes)
		reopen(w, c); /* not an error: the server said so */
	else
		reset_parser(c);
}

/* Feed len received bytes (arrived at t) to c's parser; -1 on a protocol error.
 * Handles an answer split over reads and several answers in one read. */
static int feed(struct worker *w, struct conn *c, const char *p, size_t len, int64_t t)
{
	/* each pass consumes > 0 bytes or completes an answer (which needs a new
	 * request before the next bytes are accepted): bounded by len */
	while (len > 0) {
		if (!c->busy || c->tx_off < g_req_len)
			return -1; /* bytes nobody asked for */
		if (!c->in_body) {
			size_t room = HEAD_CAP - 1 - c->head_len, take = len < room ? len : room;
			size_t from = c->head_len >= 3 ? c->head_len - 3 : 0, hl;
			char *e;

			if (room == 0)
				return -1; /* head too large */
			memcpy(c->head + c->head_len, p, take);
			c->head_len += take;
			c->head[c->head_len] = 0;
			e = memmem(c->head + from, c->head_len - from, "\r\n\r\n", 4);
			if (!e) {
				p += take;
				len -= take;
				continue;
			}
			hl = (size_t)(e + 4 - c->head);
			p += hl - (c->head_len - take); /* the head's bytes from this read */
			len -= hl - (c->head_len - take);
			c->head[hl] = 0;
			if (parse_head(c) < 0)
				return -1;
			if (c->status / 100 == 1) { /* 1xx: the real answer follows */
				reset_parser(c);
				continue;
			}
			c->in_body = true;
		}
		{
			size_t take = (uint64_t)len < c->body_left ? len : (size_t)c->body_left;

			p += take;
			len -= take;
			c->body_left -= take;
		}
		if (c->body_left == 0) {
			bool closes = c->server_closes;

			complete(w, c, t);
			if (closes)
				return len ? -1 : 0; /* reopened: nothing may follow */
		}
	}
	return 0;
}

/* Read what is there (bounded) and handle every complete answer. */
static void pump(struct worker *w, struct conn *c)
{
	for (int reads = 0; reads < READS_PER_WAKE && c->fd >= 0; reads++) {
		ssize_t n = recv(c->fd, w->rx, RECV_BUF, 0);
		int64_t t = mono_ns();

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0) {
			fail(w, c, n < 0 ? strerror(errno) : "closed by the server");
			return;
		}
		if (feed(w, c, w->rx, (size_t)n, t) < 0) {
			char what[120];

			snprintf(what, sizeof what, "protocol error near: %.60s",
				 c->head_len ? c->head : "(body)");
			for (char *q = what; *q; q++)
				if (*q == '\r' || *q == '\n')
					*q = ' ';
			fail(w, c, what);
			return;
		}
		if ((size_t)n < RECV_BUF)
			return; /* most likely drained */
	}
}

/* ---- the loop ---- */

static int wait_events(int ep, struct epoll_event *ev, int64_t timeout_ns)
{
	static _Thread_local bool no_pwait2;
	struct timespec ts = { timeout_ns / 1000000000, timeout_ns % 1000000000 };
	int n;

	if (!no_pwait2) {
		n = epoll_pwait2(ep, ev, MAX_EVENTS, &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		no_pwait2 = true; /* old kernel: ms resolution */
	}
	return epoll_wait(ep, ev, MAX_EVENTS, (int)((timeout_ns + 999999) / 1000000));
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[MAX_EVENTS];

	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* wake up on time, not 50 us late */
	/* each pass waits at most until g_drain_end: bounded by that deadline */
	for (;;) {
		int64_t now = mono_ns(), wake = g_drain_end;
		bool pending = false;
		int n;

		if (now >= g_drain_end)
			break;
		for (int i = 0; i < w->n; i++) {
			struct conn *c = &w->c[i];

			if (c->fd < 0)
				continue;
			if (c->busy) {
				pending = true;
			} else if (c->next_ns < g_end) {
				pending = true;
				if (c->next_ns <= now)
					send_next(w, c, mono_ns());
				else if (c->next_ns < wake)
					wake = c->next_ns;
			}
		}
		if (!pending)
			break; /* window over, every answer in */
		now = mono_ns();
		n = wait_events(w->ep, ev, wake > now ? wake - now : 0);
		for (int k = 0; k < n; k++) {
			struct conn *c = ev[k].data.ptr;

			if (c->fd < 0)
				continue;
			if ((ev[k].events & EPOLLOUT) && c->busy && !push(w, c))
				continue;
			if (ev[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				pump(w, c);
		}
	}

	/* requests scheduled in the window and still unanswered: their latency so far */
	for (int i = 0; i < w->n; i++) {
		struct conn *c = &w->c[i];
		int64_t t = g_drain_end;

		if (c->fd < 0)
			continue;
		if (c->busy && c->sched_ns >= g_warm_end && c->sched_ns < g_end) {
			record(w, t - c->sched_ns);
			w->unfinished++;
		}
		/* bounded: at most R*D/C requests per connection */
		for (uint64_t k = c->k; c->next_ns < g_end; c->next_ns = sched_of(c->g, ++k)) {
			if (c->next_ns >= g_warm_end) {
				record(w, t - c->next_ns);
				w->unfinished++;
			}
		}
	}
	return NULL;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: bench_http --port P --path PATH [--rate R] [--connections C (1..%d)] "
		"[--seconds D] [--warmup W] [--threads T (1..%d)]\n",
		MAX_CONNS, MAX_THREADS);
	return 2;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	double seconds = 8, warmup = 1, max_ms;
	int threads = 2, n;
	struct worker *w;
	struct conn *conns;
	struct rlimit rl;
	uint64_t *hist, *lag_hist, sends = 0, recorded = 0, done = 0, errors = 0, unfinished = 0;
	uint64_t reconnects = 0;
	int64_t max_ns = 0, lag_max_ns = 0;
	int lost = 0, started = 0, status = 1;

	g_rate = 20000;
	g_conns = 32;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "--port") == 0)
			g_port = (int)t_arg_long(argv[++i], INT_MIN, INT_MAX, "--port");
		else if (strcmp(argv[i], "--path") == 0)
			path = argv[++i];
		else if (strcmp(argv[i], "--rate") == 0)
			g_rate = t_arg_double(argv[++i], -HUGE_VAL, HUGE_VAL, "--rate");
		else if (strcmp(argv[i], "--connections") == 0)
			g_conns = (int)t_arg_long(argv[++i], INT_MIN, INT_MAX, "--connections");
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = t_arg_double(argv[++i], -HUGE_VAL, HUGE_VAL, "--seconds");
		else if (strcmp(argv[i], "--warmup") == 0)
			warmup = t_arg_double(argv[++i], -HUGE_VAL, HUGE_VAL, "--warmup");
		else if (strcmp(argv[i], "--threads") == 0)
			threads = (int)t_arg_long(argv[++i], INT_MIN, INT_MAX, "--threads");
		else
			return usage();
	}
	if (g_port < 1 || g_port > 65535 || !path || path[0] != '/' || strlen(path) > 200 ||
	    strpbrk(path, " \r\n\t") || g_conns < 1 || g_conns > MAX_CONNS ||
	    !(g_rate >= 1 && g_rate <= 1e7) || !(seconds >= 0.1 && seconds <= 3600) ||
	    !(warmup >= 0 && warmup <= 600) || threads < 1 || threads > MAX_THREADS)
		return usage();
	if (threads > g_conns)
		threads = g_conns;
	n = snprintf(g_req, sizeof g_req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
	g_req_len = (size_t)n;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)g_conns + 32) {
		rl.rlim_cur =
			rl.rlim_max < (rlim_t)g_conns + 32 ? rl.rlim_max : (rlim_t)g_conns + 32;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	w = calloc((size_t)threads, sizeof *w);
	conns = calloc((size_t)g_conns, sizeof *conns);
	hist = calloc(H_N, sizeof *hist);
	lag_hist = calloc(H_N, sizeof *lag_hist);
	if (!w || !conns || !hist || !lag_hist)
		goto out;
	for (int i = 0; i < g_conns; i++)
		conns[i].fd = -1;
	for (int t = 0; t < threads; t++)
		w[t].ep = -1;
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	/* thread t gets connections [t*C/T, (t+1)*C/T): its rate is its share of R */
	for (int t = 0; t < threads; t++) {
		int lo = (int)((int64_t)t * g_conns / threads);
		int hi = (int)((int64_t)(t + 1) * g_conns / threads);

		w[t].id = t;
		w[t].c = conns + lo;
		w[t].n = hi - lo;
		w[t].hist = calloc(H_N, sizeof *w[t].hist);
		w[t].lag_hist = calloc(H_N, sizeof *w[t].lag_hist);
		w[t].rx = malloc(RECV_BUF);
		if ((w[t].ep = epoll_create1(EPOLL_CLOEXEC)) < 0 || !w[t].hist || !w[t].lag_hist ||
		    !w[t].rx)
			goto out;
	}
	for (int t = 0; t < threads; t++) {
		for (int i = 0; i < w[t].n; i++) {
			struct conn *c = &w[t].c[i];

			c->g = (int)(c - conns);
			if ((c->fd = tcp_connect()) < 0 || watch(&w[t], c, EPOLL_CTL_ADD) < 0) {
				fprintf(stderr, "bench_http: connection %d to 127.0.0.1:%d: %s\n",
					c->g, g_port, strerror(errno));
				goto out;
			}
		}
	}

	g_start = mono_ns() + (int64_t)START_DELAY_MS * 1000000;
	g_warm_end = g_start + (int64_t)(warmup * 1e9);
	g_end = g_warm_end + (int64_t)(seconds * 1e9);
	g_drain_end = g_end + (int64_t)DRAIN_S * 1000000000;
	for (int i = 0; i < g_conns; i++)
		conns[i].next_ns = sched_of(i, 0);
	for (started = 0; started < threads; started++)
		if (pthread_create(&w[started].th, NULL, run, &w[started]) != 0)
			break; /* those started end by the deadline */
	for (int t = 0; t < started; t++) {
		pthread_join(w[t].th, NULL);
		for (size_t i = 0; i < H_N; i++) {
			hist[i] += w[t].hist[i];
			lag_hist[i] += w[t].lag_hist[i];
		}
		sends += w[t].sends;
		if (w[t].lag_max_ns > lag_max_ns)
			lag_max_ns = w[t].lag_max_ns;
		recorded += w[t].recorded;
		done += w[t].done_in_window;
		errors += w[t].errors;
		unfinished += w[t].unfinished;
		reconnects += w[t].reconnects;
		lost += w[t].lost;
		if (w[t].max_ns > max_ns)
			max_ns = w[t].max_ns;
	}
	if (started < threads) {
		fprintf(stderr, "bench_http: cannot start thread %d\n", started);
		goto out;
	}
	max_ms = (double)max_ns / 1e6;
	printf("bench_http path=%s rate=%.0f achieved=%.0f connections=%d seconds=%g "
	       "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f errors=%llu "
	       "threads=%d requests=%llu unfinished=%llu send_lag_p99_ms=%.3f send_lag_max_ms=%.3f\n",
	       path, g_rate, (double)done / seconds, g_conns, seconds,
	       pct_ms(hist, recorded, 0.50, max_ms), pct_ms(hist, recorded, 0.90, max_ms),
	       pct_ms(hist, recorded, 0.99, max_ms), pct_ms(hist, recorded, 0.999, max_ms), max_ms,
	       (unsigned long long)errors, threads, (unsigned long long)recorded,
	       (unsigned long long)unfinished,
	       pct_ms(lag_hist, sends, 0.99, (double)lag_max_ns / 1e6), (double)lag_max_ns / 1e6);
	if (reconnects)
		fprintf(stderr, "bench_http: %llu reconnections, %d connections lost\n",
			(unsigned long long)reconnects, lost);
	status = lost ? 1 : 0;
out:
	for (int t = 0; w && t < threads; t++) {
		if (w[t].ep >= 0)
			close(w[t].ep);
		free(w[t].hist);
		free(w[t].lag_hist);
		free(w[t].rx);
	}
	for (int i = 0; conns && i < g_conns; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	free(conns);
	free(hist);
	free(lag_hist);
	free(w);
	return status;
}
