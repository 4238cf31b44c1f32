/*
 * capture.c - pw-capture: receive one game feed, decode it, publish frames and
 * raw packets into the feed's shared-memory segment. No file I/O, never
 * blocks on a reader. Every frame gets its derived channels (common/derive.h)
 * between the decoder and the ring. See --help.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/acc.h"
#include "capture/capture.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/daemon.h"
#include "common/derive.h"
#include "common/log.h"
#include "common/seg.h"

#define HANDSHAKE_SILENCE_MS 2000 /* re-handshake when a client feed stays silent this long */
#define TICK_MS NET_WAIT_MS       /* heartbeat period (receives wait at most NET_WAIT_MS) */
#define RATE_WINDOW_NS (100 * NS_PER_MS) /* the receive rate is judged over this */
#define BUSY_PPS 2000 /* above this, wake-ups are coalesced (no game sends this fast) */
#define COALESCE_MAX_NS (8 * NS_PER_MS) /* ... a wake-up every this long, */
#define FLOOD_PPS 100000                /* ... and above this rate */
#define COALESCE_PKTS 64                /* ... every this many datagrams */
#define NOTIFY_BATCHES 8                /* readers are woken at least every this many batches */

struct cap {
	const struct cap_opts *o;
	const struct decoder *dec;
	struct dec_state *st;
	struct derive *derive; /* derived channels of this feed's frames */
	struct seg *seg;
	struct seg_stats *stats;
	struct cap_rx rx;
	int fd;        /* -1 = not open */
	uint16_t port; /* listen port, or the game's for client feeds */
	int rcvbuf;    /* receive buffer the kernel granted, bytes */
	int client;    /* we handshake with the game */
	struct sockaddr_in game;
	uint32_t meta_gen;
	struct sockaddr_in last_src;
	int64_t last_rx_mono, last_hello_mono, rate_mono;
	uint64_t rate_pkts, rate_frames;
	int64_t window_mono; /* start of the receive-rate window */
	uint64_t window_pkts;
	int64_t coalesce_ns; /* > 0: the last window was above BUSY_PPS; sleep this after a wake-up */
	int silent_logged;
	uint64_t handshakes;
};

static const char usage_text[] =
	"usage: pw-capture --feed NAME [--port N] [--bind ADDR] [--relay HOST:PORT]...\n"
	"                  [--instance NAME] [--game-host IP] [--passive] [--password P]\n"
	"                  [--second-player] [--ring-frames N] [--ring-raw-mb N] [--rcvbuf-mb N]\n"
	"       pw-capture --feed NAME --decode FILE [--second-player]\n"
	"\n"
	"Receives one game's UDP telemetry, decodes it into pitwall's normalized frame and\n"
	"publishes frames and raw packets in the shared-memory segment\n"
	"/pitwall.<instance>.<feed>. With --decode it reads a pcap/pcapng (or raw) capture\n"
	"instead and prints one JSON object per frame on stdout. Either way every frame gets\n"
	"the channels the game lacks derived from its own (lap distance, time in lap, g, yaw\n"
	"rate) and listed under \"derived\" (README, \"Derived channels\").\n"
	"\n"
	"feeds (default port):\n"
	"  ksudp 9996  Assetto Corsa remote telemetry (we handshake with the game at --game-host)\n"
	"  pcars 5606  Project CARS 1/2, Automobilista 2 (we listen)\n"
	"  acc   9000  ACC broadcasting (we register with the game at --game-host)\n"
	"  forza 5300  Forza Motorsport / Horizon Data Out (we listen)\n"
	"  f1    20777 F1 23 / 24 / 25 (we listen)\n"
	"\n"
	"options:\n"
	"  --port N          listen port; for ksudp/acc the game's port\n"
	"  --bind ADDR       listen address (default $PITWALL_LISTEN or 0.0.0.0)\n"
	"  --game-host IP    the sim machine for ksudp/acc (default $PITWALL_GAME_HOST or 127.0.0.1)\n"
	"  --passive         ksudp/acc: listen on --port without handshaking (replays, relays)\n"
	"  --relay HOST:PORT forward every raw packet unchanged (repeatable, up to 8)\n"
	"  --password P      acc: broadcasting connection password (default asd)\n"
	"  --second-player   f1: follow the split-screen second player\n"
	"  --instance NAME   segment instance (default $PITWALL_INSTANCE or default)\n"
	"  --ring-frames N   frame ring slots (default: 5 minutes at the feed's top rate)\n"
	"  --ring-raw-mb N   raw-packet ring size in MiB (default: 5 minutes of traffic)\n"
	"  --rcvbuf-mb N     UDP receive buffer in MiB, 1..2048 (default $PITWALL_RCVBUF_MB or 32)\n"
	"  --decode FILE     offline: decode FILE, print JSON lines, summary on stderr\n"
	"\n"
	"Logs are key=value lines on stderr. Stop with SIGTERM or SIGINT.\n";

static struct daemon capture_daemon = {
	.prog = "pw-capture", .component = "capture", .usage = usage_text, .progs = CONFIG_CAPTURE
};

/* A whole decimal number in lo..hi, or -1 with the flag's range said on stderr. */
static int opt_range(const char *flag, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "pw-capture: --%s must be %ld..%ld\n", flag, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct cap_opts *o, const struct config *cfg)
{
	static const struct option longs[] = {
		{ "feed", required_argument, 0, 'f' },
		{ "port", required_argument, 0, 'p' },
		{ "bind", required_argument, 0, 'b' },
		{ "relay", required_argument, 0, 'r' },
		{ "instance", required_argument, 0, 'i' },
		{ "game-host", required_argument, 0, 'g' },
		{ "passive", no_argument, 0, 'P' },
		{ "password", required_argument, 0, 'w' },
		{ "second-player", no_argument, 0, 's' },
		{ "ring-frames", required_argument, 0, 'F' },
		{ "ring-raw-mb", required_argument, 0, 'R' },
		{ "decode", required_argument, 0, 'd' },
		{ "rcvbuf-mb", required_argument, 0, 'B' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	int c;
	long v;

	memset(o, 0, sizeof *o);
	o->instance = cfg->instance;
	o->bind = cfg->listen;
	o->game_host = cfg->game_host;
	o->rcvbuf_mb = (int)cfg->rcvbuf_mb;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->feed = optarg;
			break;
		case 'p':
			if (opt_range("port", optarg, 1, 65535, &v) < 0)
				return -1;
			o->port = (uint16_t)v;
			break;
		case 'b':
			o->bind = optarg;
			break;
		case 'r':
			if (o->nrelays == CAP_MAX_RELAYS ||
			    net_parse_addr(optarg, &o->relays[o->nrelays]) < 0) {
				fprintf(stderr,
					"pw-capture: --relay wants IPv4:PORT (at most %d)\n",
					CAP_MAX_RELAYS);
				return -1;
			}
			o->nrelays++;
			break;
		case 'i':
			o->instance = optarg;
			break;
		case 'g':
			o->game_host = optarg;
			break;
		case 'P':
			o->passive = 1;
			break;
		case 'w':
			o->password = optarg;
			break;
		case 's':
			o->second_player = 1;
			break;
		case 'F':
			o->ring_frames = strtoull(optarg, NULL, 10);
			break;
		case 'R':
			o->ring_raw_mb = strtoull(optarg, NULL, 10);
			break;
		case 'd':
			o->decode_file = optarg;
			break;
		case 'B':
			if (opt_range("rcvbuf-mb", optarg, 1, 2048, &v) < 0)
				return -1;
			o->rcvbuf_mb = (int)v;
			break;
		case 'h':
			daemon_usage(&capture_daemon, stdout);
			exit(0);
		default:
			daemon_usage(&capture_daemon, stderr);
			return -1;
		}
	}
	if (optind < argc || !o->feed) {
		daemon_usage(&capture_daemon, stderr);
		return -1;
	}
	return 0;
}

static void send_to_game(struct cap *c, const uint8_t *buf, size_t len)
{
	if (len &&
	    sendto(c->fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&c->game, sizeof c->game) < 0)
		log_warn("msg=\"send to game failed\" feed=%s error=\"%s\"", c->dec->feed,
			 strerror(errno));
}

static void hello(struct cap *c, int64_t now_mono)
{
	uint8_t buf[DEC_OUT_MAX];
	size_t n = c->dec->hello(c->st, buf, sizeof buf);

	send_to_game(c, buf, n);
	c->last_hello_mono = now_mono;
	c->handshakes++;
	seg_stat_add(c->stats, SEG_STAT_HANDSHAKES, 1);
}

static void publish_meta(struct cap *c)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &c->last_src.sin_addr, ip, sizeof ip);
	snprintf(c->st->meta.source, sizeof c->st->meta.source, "%s:%u", ip,
		 ntohs(c->last_src.sin_port));
	seg_meta_write(c->seg, &c->st->meta);
	c->meta_gen = c->st->meta_gen;
	log_info("msg=metadata feed=%s game=%s car=\"%s\" track=\"%s\" layout=\"%s\" driver=\"%s\" "
		 "source=%s",
		 c->dec->feed, c->st->meta.game, c->st->meta.car, c->st->meta.track,
		 c->st->meta.layout, c->st->meta.driver, c->st->meta.source);
}

static void handle_packet(struct cap *c, struct cap_pkt *k, uint16_t port)
{
	struct pw_frame f;
	int r;

	seg_stat_add(c->stats, SEG_STAT_PACKETS, 1);
	seg_stat_add(c->stats, SEG_STAT_BYTES, k->len);
	seg_raw_append(c->seg, k->t_ns, k->data, k->len, ntohl(k->from.sin_addr.s_addr),
		       ntohs(k->from.sin_port), port);
	if (k->truncated) {
		seg_stat_add(c->stats, SEG_STAT_WRONG_SIZE, 1);
		return;
	}
	if (k->from.sin_addr.s_addr != c->last_src.sin_addr.s_addr ||
	    k->from.sin_port != c->last_src.sin_port) {
		c->last_src = k->from;
		c->st->meta_gen++; /* the source is metadata too */
	}
	r = c->dec->decode(c->st, k->data, k->len, &f);
	if (r == DEC_ESIZE) {
		seg_stat_add(c->stats, SEG_STAT_WRONG_SIZE, 1);
	} else if (r == DEC_EFORMAT) {
		seg_stat_add(c->stats, SEG_STAT_UNKNOWN, 1);
	} else {
		seg_stat_add(c->stats, SEG_STAT_DECODED, 1);
		if (r == DEC_FRAME) {
			f.t_ns = k->t_ns;
			derive_frame(c->derive, &f);
			seg_publish(c->seg, &f);
			seg_stat_add(c->stats, SEG_STAT_FRAMES, 1);
		}
	}
	if (c->st->out_len) {
		if (c->client && !c->o->passive)
			send_to_game(c, c->st->out, c->st->out_len);
		c->st->out_len = 0;
	}
	if (c->st->meta_gen != c->meta_gen)
		publish_meta(c);
}

static void tick(struct cap *c, int64_t now_mono)
{
	int64_t now = clock_now_ns();
	uint64_t v[SEG_STAT_COUNT];

	seg_heartbeat(c->seg, now);
	if (now_mono - c->rate_mono >= NS_PER_S) {
		double dt = (double)(now_mono - c->rate_mono) / NS_PER_S;
		seg_stats_read(c->seg, v);
		seg_stat_set(c->stats, SEG_STAT_PACKET_RATE_MHZ,
			     (uint64_t)((double)(v[SEG_STAT_PACKETS] - c->rate_pkts) * 1000 / dt));
		seg_stat_set(c->stats, SEG_STAT_FRAME_RATE_MHZ,
			     (uint64_t)((double)(v[SEG_STAT_FRAMES] - c->rate_frames) * 1000 / dt));
		c->rate_pkts = v[SEG_STAT_PACKETS];
		c->rate_frames = v[SEG_STAT_FRAMES];
		c->rate_mono = now_mono;
	}
	if (c->client && !c->o->passive &&
	    now_mono - c->last_rx_mono >= HANDSHAKE_SILENCE_MS * NS_PER_MS &&
	    now_mono - c->last_hello_mono >= HANDSHAKE_SILENCE_MS * NS_PER_MS) {
		if (!c->silent_logged)
			log_warn(
				"msg=\"no data from the game, handshaking again every %d ms\" feed=%s "
				"game=%s:%u",
				HANDSHAKE_SILENCE_MS, c->dec->feed, c->o->game_host,
				ntohs(c->game.sin_port));
		c->silent_logged = 1;
		hello(c, now_mono);
	}
}

static void handle_batch(struct cap *c, int n, uint16_t port)
{
	for (int i = 0; i < n; i++)
		handle_packet(c, &c->rx.pkt[i], port);
	if (c->rx.have_drops)
		seg_stat_set(c->stats, SEG_STAT_KERNEL_DROPS, c->rx.kernel_drops);
	if (c->o->nrelays) {
		uint64_t sent = 0;
		int fails = net_relay(c->fd, c->o->relays, c->o->nrelays, c->rx.pkt, n, &sent);
		seg_stat_add(c->stats, SEG_STAT_RELAYED, sent);
		seg_stat_add(c->stats, SEG_STAT_RELAY_ERRORS, (uint64_t)fails);
	}
	seg_stat_set(c->stats, SEG_STAT_LAST_PACKET_NS, (uint64_t)c->rx.pkt[n - 1].t_ns);
	if (c->silent_logged) {
		log_info("msg=\"game is sending again\" feed=%s", c->dec->feed);
		c->silent_logged = 0;
	}
}

/* The receive rate over the last window decides whether and how long
 * wake-ups coalesce: COALESCE_MAX_NS, or above FLOOD_PPS the time
 * COALESCE_PKTS datagrams take. */
static void judge_rate(struct cap *c, int64_t now_mono, uint64_t pkts)
{
	double pps;

	c->window_pkts += pkts;
	if (now_mono - c->window_mono < RATE_WINDOW_NS)
		return;
	pps = (double)c->window_pkts * NS_PER_S / (double)(now_mono - c->window_mono);
	c->coalesce_ns = pps <= BUSY_PPS   ? 0
			 : pps < FLOOD_PPS ? COALESCE_MAX_NS
					   : (int64_t)(COALESCE_PKTS * NS_PER_S / pps);
	c->window_pkts = 0;
	c->window_mono = now_mono;
}

/*
 * One blocking receive per wake-up (it returns within NET_WAIT_MS when idle,
 * which paces the heartbeat); a full batch means more is queued, so drain
 * without blocking, and wake the readers once the queue is empty (and every
 * NOTIFY_BATCHES batches of a long drain). At game rates that is one wake-up
 * per datagram: recvmmsg, decode, publish, FUTEX_WAKE. Above BUSY_PPS (a
 * replay, a benchmark, a flood) the loop sleeps after each wake-up, so the
 * kernel queues a batch meanwhile: COALESCE_MAX_NS, and above FLOOD_PPS the
 * time COALESCE_PKTS datagrams take (640 us at 100 k/s, 107 us at 600 k/s). A
 * datagram waits at most COALESCE_MAX_NS more. Wake-ups are dear on a VM: at
 * 10 k/s pw-capture took 1.63-1.85 us a packet waking every 4 ms, 1.49-1.59
 * every 6.4 ms (2026-12-07, A/B in the same minutes). The receive buffer
 * (--rcvbuf-mb) holds what comes while pw-capture sleeps or is not
 * scheduled; what it cannot hold the kernel drops and counts (kernel_drops).
 */
static int run(struct cap *c)
{
	int64_t now_mono = clock_mono_ns(), next_tick = now_mono;

	c->rate_mono = now_mono;
	c->window_mono = now_mono;
	c->last_rx_mono = now_mono;
	if (c->client && !c->o->passive)
		hello(c, now_mono);
	while (!daemon_stopping()) {
		int n = net_rx_batch(c->fd, &c->rx, 1);
		int64_t woke = clock_mono_ns();
		uint64_t pkts = 0;

		for (int rounds = 0; n > 0; rounds++) {
			handle_batch(c, n, c->port);
			pkts += (uint64_t)n;
			if (n < CAP_BATCH || rounds == 1024)
				break;
			if (rounds % NOTIFY_BATCHES == NOTIFY_BATCHES - 1)
				seg_notify(c->seg);
			n = net_rx_batch(c->fd, &c->rx, 0);
		}
		if (pkts) {
			seg_notify(c->seg);
			c->last_rx_mono = woke;
		}
		if (n < 0)
			seg_stat_add(c->stats, SEG_STAT_RECV_ERRORS, 1);
		now_mono = clock_mono_ns();
		judge_rate(c, now_mono, pkts);
		if (now_mono >= next_tick) {
			tick(c, now_mono);
			next_tick = now_mono + TICK_MS * NS_PER_MS;
		}
		if (c->coalesce_ns && pkts && n < CAP_BATCH)
			clock_sleep_until(woke + c->coalesce_ns);
	}
	return 0;
}

/* --- setup steps (daemon.h) --- */

static int state_new(void *arg)
{
	struct cap *c = arg;

	if (!(c->st = calloc(1, sizeof *c->st)) || !(c->derive = derive_new(DERIVE_WINDOW_S)))
		return -ENOMEM;
	if (c->o->second_player)
		c->st->opt_flags |= DEC_OPT_F1_SECOND_PLAYER;
	if (c->o->password && c->dec->feed_id == PW_FEED_ACC)
		dec_acc_set_password(c->st, c->o->password);
	return 0;
}

static void state_free(void *arg)
{
	struct cap *c = arg;

	free(c->st);
	c->st = NULL;
	derive_free(c->derive);
	c->derive = NULL;
}

static int socket_open(void *arg)
{
	struct cap *c = arg;
	const struct cap_opts *o = c->o;
	int granted = 0;
	uint16_t bind_port;

	c->port = o->port ? o->port : c->dec->default_port;
	bind_port = c->port;
	c->client = c->dec->mode == DEC_CLIENT;
	if (c->client && !o->passive) {
		c->game = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(c->port) };
		if (net_parse_ip(o->game_host, &c->game.sin_addr) < 0) {
			log_error("msg=\"--game-host must be an IPv4 address\" value=%s",
				  o->game_host);
			return -EINVAL;
		}
		bind_port = 0; /* the game answers to whatever port we send from */
	}
	c->fd = net_udp_socket(o->bind, bind_port, o->rcvbuf_mb << 20, &granted);
	if (c->fd < 0) {
		log_error("msg=\"cannot bind\" feed=%s addr=%s:%u error=\"%s\"", c->dec->feed,
			  o->bind, bind_port, strerror(-c->fd));
		return c->fd;
	}
	if (granted < o->rcvbuf_mb << 20)
		log_warn(
			"msg=\"receive buffer smaller than asked; raise net.core.rmem_max or run as "
			"root\" wanted=%d granted=%d",
			o->rcvbuf_mb << 20, granted);
	c->rcvbuf = granted;
	return 0;
}

/* A client feed says goodbye before the socket goes. */
static void socket_close(void *arg)
{
	struct cap *c = arg;

	if (c->fd < 0)
		return;
	if (c->client && !c->o->passive && c->dec->bye) {
		uint8_t buf[DEC_OUT_MAX];
		send_to_game(c, buf, c->dec->bye(c->st, buf, sizeof buf));
	}
	close(c->fd);
	c->fd = -1;
}

static int segment_open(void *arg)
{
	struct cap *c = arg;
	const struct cap_opts *o = c->o;
	struct seg_config sc = seg_default_config(c->dec->max_rate_hz, c->dec->raw_bytes_per_s);
	int err;

	if (o->ring_frames)
		sc.frame_slots = o->ring_frames;
	if (o->ring_raw_mb)
		sc.raw_bytes = o->ring_raw_mb << 20;
	err = seg_create(&c->seg, o->instance, c->dec->feed, c->dec->feed_id, &sc);
	if (err == -EBUSY) {
		log_error("msg=\"feed is already captured by another live pw-capture\" feed=%s "
			  "instance=%s",
			  c->dec->feed, o->instance);
		return err;
	}
	if (err < 0) {
		log_error("msg=\"cannot create segment\" feed=%s error=\"%s\"", c->dec->feed,
			  strerror(-err));
		return err;
	}
	c->stats = seg_stats(c->seg);
	seg_stat_set(c->stats, SEG_STAT_RCVBUF, (uint64_t)c->rcvbuf);
	return 0;
}

/* A zero heartbeat tells readers at once that the feed is down. */
static void segment_close(void *arg)
{
	struct cap *c = arg;
	uint64_t v[SEG_STAT_COUNT];

	if (!c->seg)
		return;
	seg_stats_read(c->seg, v);
	seg_heartbeat(c->seg, 0);
	log_info("msg=stopped feed=%s packets=%llu frames=%llu wrong_size=%llu unknown=%llu "
		 "kernel_drops=%llu handshakes=%llu",
		 c->dec->feed, (unsigned long long)v[SEG_STAT_PACKETS],
		 (unsigned long long)v[SEG_STAT_FRAMES], (unsigned long long)v[SEG_STAT_WRONG_SIZE],
		 (unsigned long long)v[SEG_STAT_UNKNOWN],
		 (unsigned long long)v[SEG_STAT_KERNEL_DROPS], (unsigned long long)c->handshakes);
	seg_close(c->seg);
	c->seg = NULL;
}

static int rx_open(void *arg)
{
	struct cap *c = arg;

	return net_rx_init(&c->rx) < 0 ? -ENOMEM : 0;
}

static void rx_close(void *arg)
{
	struct cap *c = arg;

	net_rx_fini(&c->rx);
}

static int announce(void *arg)
{
	struct cap *c = arg;
	const struct cap_opts *o = c->o;

	seg_meta_write(c->seg, &c->st->meta);
	log_info("msg=started feed=%s mode=%s addr=%s:%u game=%s:%u rcvbuf=%d ring_frames=%llu "
		 "ring_raw_bytes=%llu segment=/pitwall.%s.%s seq=%llu generation=%llu relays=%d",
		 c->dec->feed, c->client ? (o->passive ? "passive" : "client") : "listen", o->bind,
		 c->client && !o->passive ? 0 : c->port, c->client ? o->game_host : "-",
		 c->client ? c->port : 0, c->rcvbuf,
		 (unsigned long long)seg_header(c->seg)->frame_slots,
		 (unsigned long long)seg_header(c->seg)->raw_bytes, o->instance, c->dec->feed,
		 (unsigned long long)seg_write_seq(c->seg),
		 (unsigned long long)seg_header(c->seg)->generation, o->nrelays);
	return 0;
}

static const struct daemon_step steps[] = {
	{ "decoder state", state_new, state_free },
	{ "socket", socket_open, socket_close },
	{ "segment", segment_open, segment_close },
	{ "receive buffers", rx_open, rx_close },
	{ "metadata", announce, NULL },
};

int main(int argc, char **argv)
{
	struct config cfg;
	struct cap_opts o;
	struct cap c = { .o = &o, .fd = -1 };
	int rc;

	daemon_init(&capture_daemon);
	if (daemon_config(&cfg) < 0)
		return 2;
	if (parse_opts(argc, argv, &o, &cfg) < 0)
		return 2;
	c.dec = dec_find(o.feed);
	if (!c.dec) {
		fprintf(stderr, "pw-capture: unknown feed '%s' (ksudp, pcars, acc, forza, f1)\n",
			o.feed);
		return 2;
	}
	if (o.decode_file)
		return offline_decode(&o, c.dec) < 0 ? 1 : 0;
	config_log(&cfg);
	if (daemon_setup(&capture_daemon, steps, sizeof steps / sizeof *steps, &c) < 0)
		return 1;
	rc = run(&c) < 0 ? 1 : 0;
	daemon_teardown(&capture_daemon);
	return rc;
}
