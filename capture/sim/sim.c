/*
 * sim.c - pw-sim, pitwall's deterministic game emulator.
 *
 * Drives the simulated car (driver.c) and speaks a game's telemetry protocol
 * through that game's encoder (enc_<feed>.c):
 *   pcars, forza, f1  the sim sends datagrams to host:port at --rate Hz.
 *   ksudp             the sim is Assetto Corsa's remote-telemetry server: it
 *                     binds host:port, answers the 12-byte handshake (op 0)
 *                     with the 408-byte response, streams RTCarInfo after
 *                     op 1 and RTLap after op 2, stops a client on op 3.
 *   acc               the sim is ACC's broadcasting server: REGISTER (protocol
 *                     4, --password) -> REGISTRATION_RESULT, then
 *                     REALTIME_UPDATE + REALTIME_CAR_UPDATE at the client's
 *                     interval; entry list and track data on request;
 *                     UNREGISTER stops the client.
 *
 * Clock: the physics runs in fixed 1 ms steps and each receiver gets a frame
 * whenever its schedule (start step + k * period) comes due, so the same
 * seed, mode and rate give byte-identical datagrams. The servers start the
 * clock with the first subscriber and hold it while nobody is subscribed.
 * Without --fast, steps are paced to the monotonic clock, --speed X times as
 * fast as real time.
 *
 * --fault NAME drives a car with one setup error (capture/sim/car.h); the
 * ground truth names it and the recommendation that fixes it.
 *
 * The ground truth (truth.c) is printed as one JSON line on stdout at start.
 * Logs and the once-a-second status line go to stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture/acc.h"
#include "capture/decoder.h"
#include "capture/forza.h"
#include "capture/ksudp.h"
#include "capture/sim/driver.h"
#include "capture/sim/encoder.h"
#include "capture/sim/truth.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/daemon.h"
#include "common/frame.h"
#include "common/log.h"

#define SIM_MAX_CLIENTS 16
#define SIM_DGRAM_MAX 2048
#define SIM_DEFAULT_RATE_HZ 60.0
#define SIM_MAX_RATE_HZ 1000.0 /* one frame per physics step */
#define SIM_SNDBUF_BYTES (4 << 20)
#define SIM_LATE_REBASE_NS NS_PER_S /* this far behind real time: stop catching up */
#define SIM_SERVE_BATCH 64          /* datagrams handled per wake-up: a flood cannot stall frames */
#define ACC_INTERVAL_MIN_MS 1
#define ACC_INTERVAL_MAX_MS 1000

enum sim_role { ROLE_SENDER, ROLE_KSUDP, ROLE_ACC };

struct options {
	const char *feed, *format, *host, *password, *truth_path, *dump_path;
	int port;
	double rate_hz;    /* <= 0: not given */
	double duration_s; /* <= 0: not given */
	double speed;      /* pacing: simulated seconds per real second */
	int laps;          /* 0: not given */
	enum driver_mode mode;
	enum car_fault fault;
	uint64_t seed;
	int fast, quiet;
};

/* One receiver: the fixed destination of a sending feed, or a ksudp/acc
 * client. A scheduled client is due at steps start_step + llround(k *
 * period_ms); streaming ones get a frame then, lap-only (ksudp op 2) ones
 * just keep the clock running. */
struct client {
	int used;
	struct sockaddr_in addr;
	int scheduled;
	int streaming;
	int spot;              /* ksudp op 2: RTLap at each lap completion */
	int32_t connection_id; /* acc */
	double period_ms;
	int64_t start_step, ticks;
	uint64_t packets;
	struct enc_state es;
};

struct sim {
	struct options o;
	enum sim_role role;
	const struct encoder *enc;
	struct pw_meta meta;
	unsigned game, feed_id;
	const struct car_spec *car;
	struct car_spec car_driven; /* the default car with o.fault */
	struct track *track;
	struct driver *drv;
	int fd;
	FILE *dump;
	struct client client[SIM_MAX_CLIENTS];
	struct client *emitting;
	int64_t end_step; /* -1: no duration */
	int64_t base_mono, base_step;
	int laps_seen;
	int32_t next_connection_id;
	uint64_t frames, packets, bytes, send_errors, bad_datagrams, refused_clients;
	int64_t next_status_mono;
};

static const char usage_text[] =
	"pw-sim --feed NAME --port N [--host H] [--rate HZ] [--duration S | --laps N]\n"
	"       [--mode laps|left|right|pulls|cornering] [--seed N] [--format F]\n"
	"       [--fault NAME] [--password P] [--truth FILE] [--fast | --speed X] [--quiet]\n";

static void usage(FILE *out)
{
	fputs(usage_text, out);
	fputs("\n"
	      "Deterministic game emulator: drives a simulated GT car and speaks a game's\n"
	      "UDP telemetry protocol. Prints the ground truth as one JSON line on stdout.\n"
	      "\n"
	      "  --feed NAME     ksudp | pcars | acc | forza | f1\n"
	      "  --port N        pcars/forza/f1: destination port; ksudp/acc: port the\n"
	      "                  emulated game listens on (default: the game's port,\n"
	      "                  ksudp 9996, pcars 5606, acc 9000, forza 5300, f1 20777)\n"
	      "  --host H        IPv4 literal (names are never resolved): destination, or\n"
	      "                  the bind address of ksudp/acc (default 127.0.0.1)\n"
	      "  --rate HZ       frames per second (default 60; acc: the client's\n"
	      "                  msRealtimeUpdateInterval unless --rate is given), <= 1000\n"
	      "  --duration S    stop after S simulated seconds\n"
	      "  --laps N        stop after N completed laps (pulls/cornering: repetitions)\n"
	      "                  default: run until SIGINT/SIGTERM\n"
	      "  --mode M        laps (default), left / right (track boundaries), pulls\n"
	      "                  (full-throttle gear pulls), cornering (80 m skid pad)\n"
	      "  --fault NAME    drive a car with one setup error, named in the ground\n"
	      "                  truth: bottoming, front_lockup, rear_lockup, wheelspin,\n"
	      "                  understeer, oversteer, long_gearing, short_gearing,\n"
	      "                  hot_tyres, over_inflated, too_much_camber (default\n"
	      "                  none: the clean car)\n"
	      "  --seed N        sensor-noise seed (default 1); same seed, mode and rate\n"
	      "                  give byte-identical datagrams\n"
	      "  --format F      encoder variant: pcars v2|v1, forza fm2023|fm7|fh|sled,\n"
	      "                  f1 2025|2024|2023 (default: the first)\n"
	      "  --password P    acc connection password (default \"asd\")\n"
	      "  --truth FILE    also write the ground-truth JSON line to FILE\n"
	      "  --dump FILE     write every frame sent as a JSON line to FILE (tests\n"
	      "                  compare them with what a capture decoded)\n"
	      "  --fast          do not pace in real time (tests, benchmarks)\n"
	      "  --speed X       pace at X times real time, 0 < X <= 1000 (default 1;\n"
	      "                  the frames' game clock still runs at the simulated time)\n"
	      "  --quiet         no once-a-second status line\n",
	      out);
	config_usage(out, CONFIG_SIM);
}

/* --- option parsing --- */

static void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "pw-sim: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage_text);
	exit(2);
}

static double parse_double(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v))
		die_usage("%s is not a number", what);
	return v;
}

static long long parse_int(const char *s, const char *what, long long lo, long long hi)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		die_usage("%s is out of range", what);
	return v;
}

static uint64_t parse_seed(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		die_usage("--seed %s is not an unsigned integer", s);
	return (uint64_t)v;
}

/* The game's port: the one its decoder listens on or talks to (decoder.c). */
static int default_port(const char *feed)
{
	const struct decoder *d = dec_find(feed);

	return d ? d->default_port : 0;
}

static void list_formats(const char *feed)
{
	fprintf(stderr, "pw-sim: formats of %s:", feed);
	for (const struct encoder *const *e = enc_all(); *e; e++)
		if (strcmp((*e)->feed, feed) == 0)
			fprintf(stderr, " %s", (*e)->format);
	fputc('\n', stderr);
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "feed", required_argument, NULL, 'F' },
		{ "port", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' },
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "laps", required_argument, NULL, 'l' },
		{ "mode", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 's' },
		{ "fault", required_argument, NULL, 'X' },
		{ "format", required_argument, NULL, 'f' },
		{ "password", required_argument, NULL, 'P' },
		{ "truth", required_argument, NULL, 't' },
		{ "dump", required_argument, NULL, 'D' },
		{ "fast", no_argument, NULL, 'x' },
		{ "speed", required_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, mode, fault;

	*o = (struct options){
		.host = "127.0.0.1", .password = ACC_DEFAULT_PASSWORD, .seed = 1, .speed = 1.0
	};
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			o->feed = optarg;
			break;
		case 'p':
			o->port = (int)parse_int(optarg, "--port", 1, 65535);
			break;
		case 'H':
			o->host = optarg;
			break;
		case 'r':
			o->rate_hz = parse_double(optarg, "--rate");
			if (!(o->rate_hz > 0.0 && o->rate_hz <= SIM_MAX_RATE_HZ))
				die_usage("--rate %s must be in (0, 1000]", optarg);
			break;
		case 'd':
			o->duration_s = parse_double(optarg, "--duration");
			if (!(o->duration_s > 0.0))
				die_usage("--duration %s must be positive", optarg);
			break;
		case 'l':
			o->laps = (int)parse_int(optarg, "--laps", 1, 65535);
			break;
		case 's':
			o->seed = parse_seed(optarg);
			break;
		case 'f':
			o->format = optarg;
			break;
		case 'P':
			o->password = optarg;
			break;
		case 't':
			o->truth_path = optarg;
			break;
		case 'D':
			o->dump_path = optarg;
			break;
		case 'x':
			o->fast = 1;
			break;
		case 'S':
			o->speed = parse_double(optarg, "--speed");
			if (!(o->speed > 0.0 && o->speed <= 1000.0))
				die_usage("--speed %s must be in (0, 1000]", optarg);
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'X':
			fault = car_fault_parse(optarg);
			if (fault < 0)
				die_usage("unknown --fault %s (see --help)", optarg);
			o->fault = (enum car_fault)fault;
			break;
		case 'm':
			mode = driver_mode_parse(optarg);
			if (mode < 0)
				die_usage("unknown --mode %s", optarg);
			o->mode = (enum driver_mode)mode;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			fputs(usage_text, stderr);
			exit(2);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument %s", argv[optind]);
	if (!o->feed)
		die_usage("%s", "--feed is required");
	if (!default_port(o->feed))
		die_usage("unknown feed %s (ksudp, pcars, acc, forza, f1)", o->feed);
	if (!o->port)
		o->port = default_port(o->feed);
	if (o->duration_s > 0.0 && o->laps > 0)
		die_usage("%s", "--duration and --laps exclude each other");
}

/* --- setup --- */

/* meta.format: the F1 year, the PCARS version, the Forza datagram size. */
static uint32_t format_number(const char *format)
{
	static const struct {
		const char *name;
		uint32_t n;
	} sizes[] = {
		{ "v1", 1 },           { "v2", 2 },         { "sled", FZ_SLED_LEN },
		{ "fm7", FZ_FM7_LEN }, { "fh", FZ_FH_LEN }, { "fm2023", FZ_FM2023_LEN },
	};

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		if (strcmp(sizes[i].name, format) == 0)
			return sizes[i].n;
	return (uint32_t)strtoul(format, NULL, 10);
}

static void fill_meta(struct sim *s)
{
	struct pw_meta *m = &s->meta;
	int on_track =
		s->o.mode == DRIVER_LAPS || s->o.mode == DRIVER_LEFT || s->o.mode == DRIVER_RIGHT;

	memset(m, 0, sizeof *m);
	snprintf(m->game, sizeof m->game, "%s", frame_game_name(s->game));
	snprintf(m->car, sizeof m->car, "%s", s->car->name);
	snprintf(m->car_class, sizeof m->car_class, "GT3");
	snprintf(m->track, sizeof m->track, "%s", driver_course_name(s->drv));
	snprintf(m->layout, sizeof m->layout, "%s", on_track ? track_layout(s->track) : "default");
	snprintf(m->driver, sizeof m->driver, "Sim Driver");
	snprintf(m->session_type, sizeof m->session_type, "practice");
	m->game_session = driver_session(s->drv);
	m->track_len_m = (float)driver_course_length_m(s->drv);
	m->format = format_number(s->enc->format);
}

static int print_truth(struct sim *s)
{
	struct truth_run run = {
		.mode = driver_mode_name(s->o.mode),
		.feed = s->o.feed,
		.format = s->enc->format,
		.seed = s->o.seed,
		.rate_hz = s->role == ROLE_ACC && s->o.rate_hz <= 0.0 ? 0.0
			   : s->o.rate_hz > 0.0                       ? s->o.rate_hz
								      : SIM_DEFAULT_RATE_HZ,
		.course_name = driver_course_name(s->drv),
		.course_length_m = driver_course_length_m(s->drv),
		.reference_lap_ms = driver_reference_lap_ms(s->drv),
	};
	char *json = truth_json(s->car, s->track, &run);
	FILE *f;
	int rc = 0;

	if (!json) {
		log_error("msg=\"out of memory building the ground truth\"");
		return -ENOMEM;
	}
	printf("%s\n", json);
	fflush(stdout);
	if (s->o.truth_path) {
		f = fopen(s->o.truth_path, "w");
		if (!f || fprintf(f, "%s\n", json) < 0 || fclose(f) != 0) {
			log_error("path=%s msg=\"cannot write the ground truth: %s\"",
				  s->o.truth_path, strerror(errno));
			rc = -EIO;
		}
	}
	free(json);
	return rc;
}

static int open_socket(struct sim *s, struct sockaddr_in *addr)
{
	int sndbuf = SIM_SNDBUF_BYTES;

	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		log_error("msg=\"socket: %s\"", strerror(errno));
		return -errno;
	}
	setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	if (s->role == ROLE_SENDER)
		return 0;
	if (bind(s->fd, (struct sockaddr *)addr, sizeof *addr) < 0) {
		log_error("host=%s port=%d msg=\"bind: %s\"", s->o.host, s->o.port,
			  strerror(errno));
		return -errno;
	}
	return 0;
}

/* --- receivers --- */

static int same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

static const char *addr_str(const struct sockaddr_in *a, char *buf, size_t cap)
{
	char ip[INET_ADDRSTRLEN] = "?";

	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
	snprintf(buf, cap, "%s:%u", ip, ntohs(a->sin_port));
	return buf;
}

static struct client *find_client(struct sim *s, const struct sockaddr_in *addr)
{
	for (int i = 0; i < SIM_MAX_CLIENTS; i++)
		if (s->client[i].used && same_addr(&s->client[i].addr, addr))
			return &s->client[i];
	return NULL;
}

/* The client for addr, created when new; NULL when the table is full. */
static struct client *get_client(struct sim *s, const struct sockaddr_in *addr)
{
	struct client *c = find_client(s, addr);
	char a[64];

	if (c)
		return c;
	for (int i = 0; i < SIM_MAX_CLIENTS; i++)
		if (!s->client[i].used) {
			c = &s->client[i];
			memset(c, 0, sizeof *c);
			c->used = 1;
			c->addr = *addr;
			return c;
		}
	if (s->refused_clients++ == 0)
		log_warn("client=%s msg=\"client table full (%d), ignored (further ones only "
			 "counted)\"",
			 addr_str(addr, a, sizeof a), SIM_MAX_CLIENTS);
	return NULL;
}

static int any_scheduled(const struct sim *s)
{
	for (int i = 0; i < SIM_MAX_CLIENTS; i++)
		if (s->client[i].used && s->client[i].scheduled)
			return 1;
	return 0;
}

/* (Re)start the real-time pacing base at the current step. */
static void rebase(struct sim *s)
{
	s->base_mono = clock_mono_ns();
	s->base_step = driver_step(s->drv);
}

/* Put c on the clock from the current step on; the first subscriber
 * restarts the pacing (the clock holds while nobody is subscribed). */
static void schedule(struct sim *s, struct client *c, double period_ms)
{
	if (!any_scheduled(s))
		rebase(s);
	c->scheduled = 1;
	c->period_ms = period_ms;
	c->start_step = driver_step(s->drv);
	c->ticks = 0;
}

static void start_stream(struct sim *s, struct client *c, double period_ms)
{
	schedule(s, c, period_ms);
	c->streaming = 1;
	memset(&c->es, 0, sizeof c->es);
}

static void drop_client(struct client *c, const char *why)
{
	char a[64];

	log_info("client=%s packets=%" PRIu64 " msg=\"%s\"", addr_str(&c->addr, a, sizeof a),
		 c->packets, why);
	memset(c, 0, sizeof *c);
}

static int64_t due_step(const struct client *c)
{
	return c->start_step + (int64_t)llround((double)c->ticks * c->period_ms);
}

static double stream_period_ms(const struct sim *s)
{
	return 1000.0 / (s->o.rate_hz > 0.0 ? s->o.rate_hz : SIM_DEFAULT_RATE_HZ);
}

/* --- sending --- */

static void send_to(struct sim *s, const struct sockaddr_in *to, const uint8_t *buf, size_t len)
{
	if (sendto(s->fd, buf, len, 0, (const struct sockaddr *)to, sizeof *to) < 0) {
		if (s->send_errors++ == 0)
			log_warn("msg=\"sendto: %s (further errors only counted)\"",
				 strerror(errno));
		return;
	}
	s->packets++;
	s->bytes += len;
}

static void emit_datagram(void *ctx, const uint8_t *buf, size_t len)
{
	struct sim *s = ctx;

	send_to(s, &s->emitting->addr, buf, len);
	s->emitting->packets++;
}

/* --- incoming datagrams (servers) --- */

static void bad_datagram(struct sim *s, const struct sockaddr_in *from, size_t len)
{
	char a[64];

	if (s->bad_datagrams++ == 0)
		log_warn("client=%s len=%zu msg=\"not a %s client message (further ones only "
			 "counted)\"",
			 addr_str(from, a, sizeof a), len, s->o.feed);
}

static void ksudp_message(struct sim *s, const struct sockaddr_in *from, const uint8_t *buf,
			  size_t len)
{
	uint8_t out[SIM_DGRAM_MAX];
	int op = ksudp_parse_handshake(buf, len);
	struct client *c;
	char a[64];
	size_t n;

	switch (op) {
	case 0:
		/* a client takes a slot only when it subscribes */
		n = ksudp_encode_response(&s->meta, out, sizeof out);
		send_to(s, from, out, n);
		log_info("client=%s msg=\"handshake\"", addr_str(from, a, sizeof a));
		break;
	case 1:
		c = get_client(s, from);
		if (c && !c->streaming) {
			start_stream(s, c, stream_period_ms(s));
			log_info("client=%s msg=\"subscribed to updates\"",
				 addr_str(from, a, sizeof a));
		}
		break;
	case 2:
		c = get_client(s, from);
		if (c && !c->spot) {
			if (!c->scheduled)
				schedule(s, c, stream_period_ms(s));
			c->spot = 1;
			log_info("client=%s msg=\"subscribed to laps\"",
				 addr_str(from, a, sizeof a));
		}
		break;
	case 3:
		c = find_client(s, from);
		if (c)
			drop_client(c, "dismissed");
		break;
	default:
		bad_datagram(s, from, len);
		break;
	}
}

static void acc_register(struct sim *s, const struct sockaddr_in *from,
			 const struct acc_client_req *req)
{
	uint8_t out[SIM_DGRAM_MAX];
	const char *error = NULL;
	struct client *c = NULL;
	int32_t id = -1;
	double period;
	char a[64];
	size_t n;

	if (req->protocol_version != ACC_PROTOCOL_VERSION)
		error = "Protocol version mismatch: this server speaks broadcasting protocol 4";
	else if (strcmp(req->password, s->o.password) != 0)
		error = "Password is incorrect";
	else if (!(c = get_client(s, from)))
		error = "Too many broadcasting clients";
	if (c) {
		id = s->next_connection_id++;
		c->connection_id = id;
	}
	n = acc_encode_registration_result(id, c != NULL, error, out, sizeof out);
	send_to(s, from, out, n);
	if (!c) {
		log_warn("client=%s msg=\"registration refused: %s\"", addr_str(from, a, sizeof a),
			 error);
		return;
	}
	period = s->o.rate_hz > 0.0                              ? stream_period_ms(s)
		 : req->update_interval_ms < ACC_INTERVAL_MIN_MS ? ACC_INTERVAL_MIN_MS
		 : req->update_interval_ms > ACC_INTERVAL_MAX_MS ? ACC_INTERVAL_MAX_MS
								 : req->update_interval_ms;
	start_stream(s, c, period);
	log_info("client=%s connection_id=%d name=\"%s\" interval_ms=%g msg=\"registered\"",
		 addr_str(from, a, sizeof a), id, req->display_name, period);
}

static void acc_message(struct sim *s, const struct sockaddr_in *from, const uint8_t *buf,
			size_t len)
{
	struct acc_client_req req;
	uint8_t out[SIM_DGRAM_MAX];
	struct client *c;
	size_t n;

	switch (acc_parse_client(buf, len, &req)) {
	case ACC_CLIENT_REGISTER:
		acc_register(s, from, &req);
		return;
	case ACC_CLIENT_UNREGISTER:
		c = find_client(s, from);
		if (c)
			drop_client(c, "unregistered");
		return;
	case ACC_CLIENT_REQUEST_ENTRY_LIST:
		c = find_client(s, from);
		if (!c)
			break;
		n = acc_encode_entry_list(c->connection_id, out, sizeof out);
		send_to(s, from, out, n);
		n = acc_encode_entry_list_car(&s->meta, out, sizeof out);
		send_to(s, from, out, n);
		return;
	case ACC_CLIENT_REQUEST_TRACK_DATA:
		c = find_client(s, from);
		if (!c)
			break;
		n = acc_encode_track_data(c->connection_id, &s->meta, out, sizeof out);
		send_to(s, from, out, n);
		return;
	default:
		break;
	}
	bad_datagram(s, from, len);
}

/* Read the pending datagrams (at most SIM_SERVE_BATCH); wait at most
 * timeout_ms for the first. */
static void serve(struct sim *s, int timeout_ms)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	uint8_t buf[SIM_DGRAM_MAX];

	if (s->role == ROLE_SENDER) {
		if (timeout_ms > 0)
			clock_sleep_ns(timeout_ms * NS_PER_MS);
		return;
	}
	if (poll(&p, 1, timeout_ms) <= 0)
		return;
	for (int i = 0; i < SIM_SERVE_BATCH; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(s->fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from,
				     &fl);

		if (n < 0)
			return;
		if (fl != sizeof from || from.sin_family != AF_INET)
			continue;
		if (s->role == ROLE_KSUDP)
			ksudp_message(s, &from, buf, (size_t)n);
		else
			acc_message(s, &from, buf, (size_t)n);
	}
}

/* --- the loop --- */

/* The earliest step a scheduled receiver is due, or -1 if none is. */
static int64_t next_due(const struct sim *s)
{
	int64_t next = -1;

	for (int i = 0; i < SIM_MAX_CLIENTS; i++) {
		const struct client *c = &s->client[i];

		if (c->used && c->scheduled && (next < 0 || due_step(c) < next))
			next = due_step(c);
	}
	return next;
}

static void send_laps(struct sim *s)
{
	uint8_t out[SIM_DGRAM_MAX];
	int laps = driver_laps(s->drv);
	size_t n;

	if (laps == s->laps_seen)
		return;
	s->laps_seen = laps;
	if (s->role != ROLE_KSUDP)
		return;
	n = ksudp_encode_rtlap(&s->meta, 0, laps, driver_last_lap_ms(s->drv), out, sizeof out);
	for (int i = 0; i < SIM_MAX_CLIENTS; i++)
		if (s->client[i].used && s->client[i].spot)
			send_to(s, &s->client[i].addr, out, n);
}

static void status_line(struct sim *s, const struct pw_frame *f)
{
	int64_t now = clock_mono_ns();
	int clients = 0;

	if (s->o.quiet || now < s->next_status_mono)
		return;
	s->next_status_mono = now + NS_PER_S;
	for (int i = 0; i < SIM_MAX_CLIENTS; i++)
		clients += s->client[i].used && s->client[i].streaming;
	log_info("t=%.1f lap=%u speed_kmh=%.1f gear=%d rpm=%.0f packets=%" PRIu64 " clients=%d",
		 f->game_time_s, f->lap, f->speed_kmh, f->gear, f->rpm, s->packets, clients);
}

/* One JSON line per frame, flushed at once: readers compare it with what a
 * capture decoded while the sim still runs. */
static void dump_frame(struct sim *s, const struct pw_frame *f)
{
	char line[8192];
	size_t n;

	if (!s->dump)
		return;
	n = frame_to_json(f, line, sizeof line);
	if (n < sizeof line && fprintf(s->dump, "%s\n", line) > 0 && fflush(s->dump) == 0)
		return;
	log_error("path=%s msg=\"cannot write the frame dump, dump stopped: %s\"", s->o.dump_path,
		  n < sizeof line ? strerror(errno) : "frame too long");
	fclose(s->dump);
	s->dump = NULL;
}

/* Produce and send the frame of step for every receiver due then. */
static void tick(struct sim *s, int64_t step)
{
	struct pw_frame f;
	int sent = 0;

	driver_run_to(s->drv, step);
	send_laps(s);
	driver_frame(s->drv, &f);
	f.seq = s->frames++;
	f.game = (uint8_t)s->game;
	f.feed = (uint8_t)s->feed_id;
	for (int i = 0; i < SIM_MAX_CLIENTS && !sent; i++) {
		const struct client *c = &s->client[i];

		sent = c->used && c->streaming && due_step(c) <= step;
	}
	if (sent)
		dump_frame(s, &f);
	for (int i = 0; i < SIM_MAX_CLIENTS; i++) {
		struct client *c = &s->client[i];

		if (!c->used || !c->scheduled || due_step(c) > step)
			continue;
		if (c->streaming) {
			s->emitting = c;
			s->enc->encode(&c->es, &f, &s->meta, emit_datagram, s);
		}
		while (due_step(c) <= step)
			c->ticks++;
	}
	status_line(s, &f);
}

/* Wait (serving clients) until step is due in real time. Returns 0 when it is
 * due, 1 when the receivers changed meanwhile (the caller recomputes). */
static int wait_until_due(struct sim *s, int64_t step)
{
	int64_t deadline = s->base_mono +
			   (int64_t)((double)((step - s->base_step) * DRIVER_STEP_MS * NS_PER_MS) /
				     s->o.speed);
	int64_t now = clock_mono_ns();

	if (now - deadline > SIM_LATE_REBASE_NS) {
		rebase(s);
		return 0;
	}
	if (now >= deadline)
		return 0;
	if (s->role == ROLE_SENDER) {
		clock_sleep_until(deadline);
		return daemon_stopping();
	}
	serve(s, (int)((deadline - now + NS_PER_MS - 1) / NS_PER_MS));
	return clock_mono_ns() < deadline || next_due(s) != step;
}

static int finished(const struct sim *s, int64_t next)
{
	if (s->o.laps > 0 && driver_laps(s->drv) >= s->o.laps)
		return 1;
	return s->end_step >= 0 && next >= s->end_step;
}

static void run(struct sim *s)
{
	while (!daemon_stopping()) {
		int64_t next;

		if (s->role != ROLE_SENDER)
			serve(s, 0);
		next = next_due(s);
		if (next < 0) {
			/* nobody subscribed: the clock holds */
			serve(s, 1000);
			continue;
		}
		if (finished(s, next))
			return;
		if (!s->o.fast && wait_until_due(s, next))
			continue;
		tick(s, next);
	}
}

static int setup(struct sim *s, struct sockaddr_in *addr)
{
	s->role = strcmp(s->o.feed, "ksudp") == 0 ? ROLE_KSUDP
		  : strcmp(s->o.feed, "acc") == 0 ? ROLE_ACC
						  : ROLE_SENDER;
	s->enc = enc_find(s->o.feed, s->o.format);
	if (!s->enc) {
		fprintf(stderr, "pw-sim: unknown --format %s for feed %s\n", s->o.format,
			s->o.feed);
		list_formats(s->o.feed);
		return 2;
	}
	s->game = s->enc->game;
	s->feed_id = frame_feed_id(s->o.feed);
	car_with_fault(car_default(), s->o.fault, &s->car_driven);
	s->car = &s->car_driven;
	s->track = track_new();
	s->drv = s->track ? driver_new(s->o.mode, s->o.seed, s->car, s->track) : NULL;
	if (!s->drv) {
		log_error("msg=\"out of memory\"");
		return 1;
	}
	fill_meta(s);
	s->end_step = s->o.duration_s > 0.0 ? (int64_t)llround(s->o.duration_s * 1000.0) : -1;
	s->next_connection_id = 1;
	s->laps_seen = 0;
	if (s->o.dump_path && !(s->dump = fopen(s->o.dump_path, "w"))) {
		log_error("path=%s msg=\"cannot open the frame dump: %s\"", s->o.dump_path,
			  strerror(errno));
		return 1;
	}
	if (open_socket(s, addr) < 0)
		return 1;
	if (s->role == ROLE_SENDER) {
		struct client *c = &s->client[0];

		c->used = 1;
		c->addr = *addr;
		start_stream(s, c, stream_period_ms(s));
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct sim s;
	struct sockaddr_in addr = { .sin_family = AF_INET };
	char rate[32];
	int rc;

	parse_options(argc, argv, &s.o);
	if (inet_pton(AF_INET, s.o.host, &addr.sin_addr) != 1) {
		fprintf(stderr,
			"pw-sim: --host %s is not an IPv4 literal (names are never resolved)\n",
			s.o.host);
		return 2;
	}
	addr.sin_port = htons((uint16_t)s.o.port);
	log_init("sim");
	s.fd = -1;
	rc = setup(&s, &addr);
	if (rc)
		goto out;
	if (s.role == ROLE_ACC && s.o.rate_hz <= 0.0)
		snprintf(rate, sizeof rate, "client");
	else
		snprintf(rate, sizeof rate, "%g",
			 s.o.rate_hz > 0.0 ? s.o.rate_hz : SIM_DEFAULT_RATE_HZ);
	log_info("feed=%s format=%s game=%s host=%s port=%d role=%s rate_hz=%s mode=%s fault=%s"
		 " seed=%" PRIu64 " duration_s=%g laps=%d fast=%d course=%s course_len_m=%.1f",
		 s.o.feed, s.enc->format, frame_game_name(s.game), s.o.host, s.o.port,
		 s.role == ROLE_SENDER ? "sender" : "server", rate, driver_mode_name(s.o.mode),
		 car_fault_info(s.o.fault)->name, s.o.seed, s.o.duration_s, s.o.laps, s.o.fast,
		 driver_course_name(s.drv), driver_course_length_m(s.drv));
	if (print_truth(&s) < 0) {
		rc = 1;
		goto out;
	}
	daemon_signals();
	run(&s);
	log_info("frames=%" PRIu64 " packets=%" PRIu64 " bytes=%" PRIu64 " send_errors=%" PRIu64
		 " bad_datagrams=%" PRIu64 " refused_clients=%" PRIu64 " sim_time_s=%.3f laps=%d"
		 " msg=\"%s\"",
		 s.frames, s.packets, s.bytes, s.send_errors, s.bad_datagrams, s.refused_clients,
		 driver_time_s(s.drv), driver_laps(s.drv),
		 daemon_stopping() ? "stopped by signal" : "done");
out:
	if (s.fd >= 0)
		close(s.fd);
	if (s.dump)
		fclose(s.dump);
	driver_free(s.drv);
	track_free(s.track);
	return rc;
}
