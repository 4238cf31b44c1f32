/*
 * replay.c - pw-replay: send a recorded capture to a UDP port, with its
 * original timing, faster, or as fast as possible; or (--csv, csv.c) put a
 * CSV of pitwall channels back into a live feed. See --help and replay.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture/rawsplit.h"
#include "capture/replay/replay.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/pcap.h"

#define BATCH 256

struct replay_opts {
	const char *file, *host, *feed, *csv;
	int speed_given, rate_given;
	uint16_t port;
	double speed; /* 1 = original timing */
	int max, loop, quiet;
	double raw_rate_hz; /* raw files carry no times */
	long long count;    /* stop after this many datagrams (0 = all) */
	double pps;         /* pace at this many datagrams/s instead of the recorded times */
};

struct pkt {
	int64_t t_ns;
	uint32_t off, len;
};

/* Every datagram of the file as (time, offset, length) into one buffer. */
struct capture {
	uint8_t *data;
	struct pkt *pkts;
	size_t n, cap;
	uint64_t bytes;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pw-replay FILE --port N [--host IP] [--speed X | --max] [--loop]\n"
		"                 [--feed NAME] [--rate HZ] [--pps N] [--count N] [--quiet]\n"
		"       pw-replay --csv FILE --feed NAME [--rate HZ | --speed X] [--loop] [--quiet]\n"
		"\n"
		"Sends every UDP payload of FILE (pcap, pcapng, or a raw capture) to HOST:PORT,\n"
		"keeping the recorded timing (--speed 2 = twice as fast) or as fast as possible\n"
		"(--max). A progress line goes to stderr once a second.\n"
		"\n"
		"--csv: a CSV of pitwall channels (`pwctl export ... --format csv`, any subset\n"
		"of its columns) becomes the live feed NAME of this stack ($PITWALL_INSTANCE):\n"
		"pw-replay creates the feed's segment as pw-capture would (none may run for it)\n"
		"and writes the rows as frames, at the file's own pace (its t_ns, else time_s,\n"
		"else game_time_s; --speed X) or at --rate HZ rows a second, until the end\n"
		"(--loop: again and again). Columns that are not frame channels are ignored.\n"
		"\n"
		"  --host IP    destination, an IPv4 literal (default 127.0.0.1)\n"
		"  --feed NAME  how to split a raw capture (ksudp, pcars, forza, f1)\n"
		"  --rate HZ    pacing for raw captures, which carry no times (default 60);\n"
		"               --csv: rows a second instead of the file's times\n"
		"  --pps N      send at N datagrams/s (batched) instead of the recorded timing\n"
		"  --count N    stop after N datagrams (with --loop: across loops)\n"
		"  --loop       start again at the end until interrupted or --count is reached\n");
	config_usage(out, CONFIG_REPLAY);
}

static int add(struct capture *c, int64_t t_ns, uint32_t off, uint32_t len)
{
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 4096;
		struct pkt *p = realloc(c->pkts, ncap * sizeof *p);
		if (!p)
			return -ENOMEM;
		c->pkts = p;
		c->cap = ncap;
	}
	c->pkts[c->n++] = (struct pkt){ t_ns, off, len };
	c->bytes += len;
	return 0;
}

static int load_pcap(struct capture *c, struct pcap_reader *r)
{
	struct pcap_pkt p;
	size_t used = 0, cap = 1 << 20;
	int rc = 0;

	c->data = malloc(cap);
	while (c->data && (rc = pcap_next(r, &p)) == 1) {
		if (used + p.len > cap) {
			uint8_t *d;
			while (used + p.len > cap)
				cap *= 2;
			if (!(d = realloc(c->data, cap)))
				return -ENOMEM;
			c->data = d;
		}
		memcpy(c->data + used, p.data, p.len);
		if (add(c, p.t_ns, (uint32_t)used, p.len) < 0)
			return -ENOMEM;
		used += p.len;
	}
	return c->data ? (rc < 0 ? rc : 0) : -ENOMEM;
}

static int load_raw(struct capture *c, const struct replay_opts *o)
{
	struct rawsplit rs;
	FILE *f = fopen(o->file, "rb");
	long size;
	size_t off = 0;
	int64_t step = (int64_t)(1e9 / o->raw_rate_hz);

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
	    !(c->data = malloc((size_t)size + 1)) ||
	    fread(c->data, 1, (size_t)size, f) != (size_t)size) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	if (!o->feed || rawsplit_init(&rs, o->feed, (size_t)size) < 0) {
		log_error(
			"msg=\"not a pcap/pcapng file; a raw capture needs --feed ksudp|pcars|forza|f1\" "
			"file=%s",
			o->file);
		return -EINVAL;
	}
	while (off < (size_t)size) {
		size_t n = rawsplit_next(&rs, c->data + off, (size_t)size - off);
		if (n == 0) {
			log_error("msg=\"raw capture: unrecognised datagram\" offset=%zu", off);
			return -EPROTO;
		}
		if (add(c, (int64_t)c->n * step, (uint32_t)off, (uint32_t)n) < 0)
			return -ENOMEM;
		off += n;
	}
	return 0;
}

static int parse(int argc, char **argv, struct replay_opts *o)
{
	static const struct option longs[] = {
		{ "port", required_argument, 0, 'p' },
		{ "host", required_argument, 0, 'H' },
		{ "speed", required_argument, 0, 's' },
		{ "max", no_argument, 0, 'm' },
		{ "loop", no_argument, 0, 'l' },
		{ "feed", required_argument, 0, 'f' },
		{ "rate", required_argument, 0, 'r' },
		{ "count", required_argument, 0, 'c' },
		{ "quiet", no_argument, 0, 'q' },
		{ "help", no_argument, 0, 'h' },
		{ "pps", required_argument, 0, 'S' },
		{ "csv", required_argument, 0, 'C' },
		{ 0, 0, 0, 0 },
	};
	int ch;
	long port = 0;

	*o = (struct replay_opts){ .host = "127.0.0.1", .speed = 1.0, .raw_rate_hz = 60 };
	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (ch) {
		case 'p':
			port = strtol(optarg, NULL, 10);
			break;
		case 'H':
			o->host = optarg;
			break;
		case 's':
			o->speed = strtod(optarg, NULL);
			o->speed_given = 1;
			break;
		case 'm':
			o->max = 1;
			break;
		case 'l':
			o->loop = 1;
			break;
		case 'f':
			o->feed = optarg;
			break;
		case 'r':
			o->raw_rate_hz = strtod(optarg, NULL);
			o->rate_given = 1;
			break;
		case 'c':
			o->count = strtoll(optarg, NULL, 10);
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'S':
			o->pps = strtod(optarg, NULL);
			break;
		case 'C':
			o->csv = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (o->csv) {
		if (optind != argc || !o->feed || !(o->speed > 0) || !(o->raw_rate_hz > 0) ||
		    (o->speed_given && o->rate_given) || port || o->max || o->pps > 0 || o->count) {
			fprintf(stderr, "pw-replay: --csv FILE takes --feed NAME and --rate HZ or "
					"--speed X (not both), --loop, --quiet; nothing else\n");
			usage(stderr);
			return -1;
		}
		return 0;
	}
	if (optind != argc - 1 || port < 1 || port > 65535 || !(o->speed > 0) ||
	    !(o->raw_rate_hz > 0)) {
		usage(stderr);
		return -1;
	}
	o->file = argv[optind];
	o->port = (uint16_t)port;
	return 0;
}

static void progress(const struct replay_opts *o, const struct capture *c, uint64_t sent,
		     uint64_t failed, int64_t t0, int final)
{
	double el = (double)(clock_mono_ns() - t0) / 1e9;

	if (o->quiet && !final)
		return;
	fprintf(stderr, "\rpw-replay: %llu sent (%.1f%% of %zu), %llu failed, %.1f s, %.0f pkt/s%s",
		(unsigned long long)sent,
		c->n ? 100.0 * (double)(sent % (c->n + !c->n)) / (double)c->n : 0, c->n,
		(unsigned long long)failed, el, el > 0 ? (double)sent / el : 0, final ? "\n" : "");
}

int main(int argc, char **argv)
{
	struct replay_opts o;
	struct capture c = { 0 };
	struct pcap_reader *r = NULL;
	struct sockaddr_in dst = { .sin_family = AF_INET };
	uint64_t sent = 0, failed = 0;
	int64_t t0, next_report;
	int fd, rc, sndbuf = 4 << 20;

	log_init("replay");
	if (parse(argc, argv, &o) < 0)
		return 2;
	if (o.csv) {
		struct replay_csv_opts co = { .file = o.csv,
					      .feed = o.feed,
					      .speed = o.speed,
					      .rate_hz = o.rate_given ? o.raw_rate_hz : 0,
					      .loop = o.loop,
					      .quiet = o.quiet };

		daemon_signals();
		return replay_csv(&co);
	}
	if (inet_pton(AF_INET, o.host, &dst.sin_addr) != 1) {
		fprintf(stderr, "pw-replay: --host must be an IPv4 address\n");
		return 2;
	}
	dst.sin_port = htons(o.port);
	rc = pcap_open(&r, o.file);
	if (rc == 0) {
		rc = load_pcap(&c, r);
		pcap_close(r);
	} else if (rc == -EPROTO) {
		rc = load_raw(&c, &o);
	}
	if (rc < 0 || c.n == 0) {
		log_error("msg=\"cannot replay\" file=%s error=\"%s\"", o.file,
			  rc < 0 ? strerror(-rc) : "no UDP datagrams");
		return 1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	/* connected: the kernel routes once instead of per datagram */
	if (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) {
		log_error("msg=\"cannot reach destination\" error=\"%s\"", strerror(errno));
		return 1;
	}
	daemon_signals();
	t0 = clock_mono_ns();
	next_report = t0 + NS_PER_S;
	do {
		int64_t base = c.pkts[0].t_ns, start = clock_mono_ns();
		size_t i = 0;

		while (i < c.n && !daemon_stopping() && !(o.count && (long long)sent >= o.count)) {
			struct mmsghdr msgs[BATCH];
			struct iovec iov[BATCH];
			int m = 0;

			if (o.pps > 0) {
				clock_sleep_until(t0 + (int64_t)((double)sent * 1e9 / o.pps));
			} else if (!o.max) {
				int64_t due = start +
					      (int64_t)((double)(c.pkts[i].t_ns - base) / o.speed);
				clock_sleep_until(due);
			}
			/* --max and --pps send in batches; the recorded timing one datagram at a time */
			do {
				iov[m] = (struct iovec){ c.data + c.pkts[i].off, c.pkts[i].len };
				memset(&msgs[m], 0, sizeof msgs[m]);
				msgs[m].msg_hdr =
					(struct msghdr){ .msg_iov = &iov[m], .msg_iovlen = 1 };
				m++;
				i++;
			} while ((o.max || o.pps > 0) && m < BATCH && i < c.n &&
				 !(o.count && (long long)(sent + (uint64_t)m) >= o.count));
			int k = sendmmsg(fd, msgs, (unsigned)m, 0);
			if (k < 0) {
				failed += (uint64_t)m;
				if (errno != EINTR && errno != ENOBUFS && errno != ECONNREFUSED)
					break;
			} else {
				sent += (uint64_t)k;
				failed += (uint64_t)(m - k);
			}
			if (clock_mono_ns() >= next_report) {
				progress(&o, &c, sent, failed, t0, 0);
				next_report += NS_PER_S;
			}
		}
	} while (o.loop && !daemon_stopping() && !(o.count && (long long)sent >= o.count));
	progress(&o, &c, sent, failed, t0, 1);
	close(fd);
	free(c.data);
	free(c.pkts);
	return failed ? 1 : 0;
}
