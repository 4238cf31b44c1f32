/* config.c - see config.h */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/config.h"
#include "common/log.h"

#define FIELD(f) .off = offsetof(struct config, f), .size = sizeof(((struct config *)0)->f)
#define ALL_PROGS (CONFIG_CAPTURE | CONFIG_STORE | CONFIG_ANALYZE | CONFIG_API | CONFIG_PWCTL)
#define DAY_MS (24LL * 3600 * 1000)

/*
 * The one list of variables. Order matters twice: a default may expand only
 * variables above it ($PITWALL_INSTANCE in the run dir, the run dir in the
 * ipc endpoints), and config_log prints them in this order (feeds last, the
 * longest value).
 */
static const struct config_var vars[] = {
	{ .names = { "PITWALL_INSTANCE" },
	  .type = CONFIG_NAME,
	  .def = "default",
	  .min = 1,
	  .max = IDS_INSTANCE_MAX,
	  .key = "instance",
	  FIELD(instance),
	  .progs = ALL_PROGS | CONFIG_REPLAY,
	  .meaning = "names the shared-memory segments, the store's status page and the default "
		     "run dir of one stack, so several stacks run side by side (tests do)" },
	{ .names = { "PITWALL_DATA_DIR" },
	  .type = CONFIG_TEXT,
	  .def = "./data",
	  .values = "a directory",
	  .key = "data_dir",
	  FIELD(data_dir),
	  .progs = CONFIG_STORE | CONFIG_ANALYZE,
	  .meaning = "the store's data dir: sessions, runs, recordings, track models; an analysis "
		     "worker on the store's host reads runs' files there itself" },
	{ .names = { "PITWALL_RUN_DIR" },
	  .type = CONFIG_TEXT,
	  .def = "/tmp/pitwall-$PITWALL_INSTANCE",
	  .values = "a directory",
	  .key = "run_dir",
	  FIELD(run_dir),
	  .progs = CONFIG_STORE | CONFIG_ANALYZE | CONFIG_API | CONFIG_PWCTL,
	  .meaning = "runtime files: the default ipc sockets, the supervisor's configuration and "
		     "logs" },
	{ .names = { "PITWALL_GAME_HOST", "RUSTY_TELEMETRY_GAME_HOST", "RUSTY_TELEMETRY_BIND" },
	  .type = CONFIG_TEXT,
	  .def = "127.0.0.1",
	  .values = "an IPv4 address",
	  .key = "game_host",
	  FIELD(game_host),
	  .progs = CONFIG_CAPTURE,
	  .meaning = "the sim PC, for the feeds that handshake with the game (ksudp 9996, "
		     "acc 9000)" },
	{ .names = { "PITWALL_LISTEN", "RUSTY_TELEMETRY_LISTEN", "RUSTY_TELEMETRY_BIND" },
	  .type = CONFIG_TEXT,
	  .def = "0.0.0.0",
	  .values = "an IPv4 address",
	  .key = "listen",
	  FIELD(listen),
	  .progs = CONFIG_CAPTURE | CONFIG_STORE,
	  .meaning = "bind address of the UDP feeds (recordings name it as their packets' "
		     "destination)" },
	{ .names = { "PITWALL_API_HOST", "RUSTY_TELEMETRY_API_HOST" },
	  .type = CONFIG_TEXT,
	  .def = "127.0.0.1",
	  .values = "an address",
	  .key = "api",
	  FIELD(api_host),
	  .progs = CONFIG_API,
	  .meaning = "where pw-api listens (REST, WebSocket, /metrics); beyond loopback it needs "
		     "`PITWALL_API_TOKEN`" },
	{ .names = { "PITWALL_API_PORT", "RUSTY_TELEMETRY_API_PORT" },
	  .type = CONFIG_INT,
	  .def = "8080",
	  .min = 1,
	  .max = 65535,
	  FIELD(api_port),
	  .progs = CONFIG_API,
	  .meaning = "pw-api's TCP port" },
	{ .names = { "PITWALL_API_TOKEN" },
	  .type = CONFIG_SECRET,
	  .values = "text",
	  .def_doc = "unset",
	  .key = "api_token",
	  FIELD(api_token),
	  .progs = CONFIG_API,
	  .meaning = "bearer token every request must carry when set; required to listen beyond "
		     "loopback" },
	{ .names = { "PITWALL_WWW_DIR" },
	  .type = CONFIG_TEXT,
	  .values = "a directory",
	  .def_doc = "`../www` beside pw-api's binary (`build/www`), else `../share/pitwall/www` "
		     "(`make install`)",
	  .key = "www_dir",
	  FIELD(www_dir),
	  .progs = CONFIG_API,
	  .meaning = "the dashboard's files (built by `make`), served at `/`" },
	{ .names = { "PITWALL_BUS" },
	  .type = CONFIG_TEXT,
	  .def = "tcp://127.0.0.1:7700",
	  .values = "a ZeroMQ endpoint",
	  .key = "bus",
	  FIELD(bus),
	  .progs = CONFIG_STORE | CONFIG_API | CONFIG_PWCTL,
	  .meaning = "the bus: subscribers connect here (the store binds it)" },
	{ .names = { "PITWALL_BUS_IN" },
	  .type = CONFIG_TEXT,
	  .def = "tcp://127.0.0.1:7701",
	  .values = "a ZeroMQ endpoint",
	  .key = "bus_in",
	  FIELD(bus_in),
	  .progs = CONFIG_STORE,
	  .meaning = "the bus: publishers connect here (the store binds it)" },
	{ .names = { "PITWALL_CMD" },
	  .type = CONFIG_TEXT,
	  .def = "ipc://$PITWALL_RUN_DIR/cmd.sock",
	  .values = "a ZeroMQ endpoint",
	  .key = "cmd",
	  FIELD(cmd),
	  .progs = CONFIG_STORE | CONFIG_API | CONFIG_PWCTL,
	  .meaning = "the store's command endpoint" },
	{ .names = { "PITWALL_CMD_TIMEOUT_MS" },
	  .type = CONFIG_INT,
	  .def = "3000",
	  .min = 1,
	  .max = DAY_MS,
	  .key = "cmd_timeout_ms",
	  FIELD(cmd_timeout_ms),
	  .progs = CONFIG_API | CONFIG_PWCTL,
	  .meaning = "how long pw-api and pwctl wait for the store's answer, ms (then 503 / "
		     "exit 3)" },
	{ .names = { "PITWALL_JOBS" },
	  .type = CONFIG_TEXT,
	  .def = "ipc://$PITWALL_RUN_DIR/jobs.sock",
	  .values = "a ZeroMQ endpoint",
	  .key = "jobs",
	  FIELD(jobs),
	  .progs = CONFIG_STORE | CONFIG_ANALYZE,
	  .meaning = "analysis jobs: the store binds, workers connect" },
	{ .names = { "PITWALL_RESULTS" },
	  .type = CONFIG_TEXT,
	  .def = "ipc://$PITWALL_RUN_DIR/results.sock",
	  .values = "a ZeroMQ endpoint",
	  .key = "results",
	  FIELD(results),
	  .progs = CONFIG_STORE | CONFIG_ANALYZE,
	  .meaning = "analysis results: the store binds, workers connect" },
	{ .names = { "PITWALL_JOB_DEADLINE_MS" },
	  .type = CONFIG_INT,
	  .def = "60000",
	  .min = 1,
	  .max = DAY_MS,
	  .key = "job_deadline_ms",
	  FIELD(job_deadline_ms),
	  .progs = CONFIG_STORE,
	  .meaning = "an analysis job without a result this long is sent again, ms" },
	{ .names = { "PITWALL_LIVE_COOLDOWN_S" },
	  .type = CONFIG_INT,
	  .def = "20",
	  .min = 0,
	  .max = 3600,
	  .key = "live_cooldown_s",
	  FIELD(live_cooldown_s),
	  .progs = CONFIG_STORE,
	  .meaning = "per-lap recommendations while driving: at least this long between two "
		     "findings of one category on one run, s (0: every lap's)" },
	{ .names = { "PITWALL_BUS_FRAMES" },
	  .type = CONFIG_INT,
	  .def = "1",
	  .min = 0,
	  .max = 1,
	  .key = "bus_frames",
	  FIELD(bus_frames),
	  .progs = CONFIG_STORE,
	  .meaning = "1: the store publishes every frame as `frame.<feed>` on the bus; 0: it does "
		     "not" },
	{ .names = { "PITWALL_WS_IDLE_MS" },
	  .type = CONFIG_INT,
	  .def = "60000",
	  .min = 100,
	  .max = DAY_MS,
	  .key = "ws_idle_ms",
	  FIELD(ws_idle_ms),
	  .progs = CONFIG_API,
	  .meaning = "a WebSocket client silent this long is closed (1011), ms; PINGs every "
		     "min(30 s, idle/2)" },
	{ .names = { "PITWALL_WS_MAX_CLIENTS" },
	  .type = CONFIG_INT,
	  .def = "256",
	  .min = 0,
	  .max = 100000,
	  .key = "ws_max_clients",
	  FIELD(ws_max_clients),
	  .progs = CONFIG_API,
	  .meaning = "WebSocket client limit (lowered to fit civetweb's worker threads)" },
	{ .names = { "PITWALL_WS_SESSION_GAP_MS" },
	  .type = CONFIG_INT,
	  .def = "30000",
	  .min = 0,
	  .max = DAY_MS,
	  .key = "ws_session_gap_ms",
	  FIELD(ws_session_gap_ms),
	  .progs = CONFIG_API,
	  .meaning = "a feed not up this long ends its game session on the WebSocket stream, ms" },
	{ .names = { "PITWALL_WS_PORT" },
	  .type = CONFIG_INT,
	  .def = "38920",
	  .min = 0,
	  .max = 65535,
	  .key = "ws_port",
	  FIELD(ws_port),
	  .progs = CONFIG_API,
	  .meaning = "a second port of pw-api, on `PITWALL_API_HOST`, serving only the seed-004 "
		     "stream `/ws` (also on the API port); 0: none. Taken by another program: a "
		     "warning, and `/ws` on the API port only" },
	{ .names = { "PITWALL_LOG_LEVEL" },
	  .type = CONFIG_ENUM,
	  .def = "info",
	  .choices = "debug|info|warn|error",
	  .key = "log_level",
	  FIELD(log_level),
	  .progs = ALL_PROGS | CONFIG_SIM | CONFIG_REPLAY,
	  .meaning = "the least severe log lines printed" },
	{ .names = { "PITWALL_RING_FRAMES" },
	  .type = CONFIG_INT,
	  .min = 1,
	  .max = 1LL << 28,
	  .def_doc = "5 minutes at the feed's top rate",
	  .key = "ring_frames",
	  FIELD(ring_frames),
	  .progs = CONFIG_CAPTURE | CONFIG_REPLAY,
	  .meaning = "frame ring slots of a feed's segment (rounded up to a power of two; "
		     "`--ring-frames` wins)" },
	{ .names = { "PITWALL_RING_RAW_MB" },
	  .type = CONFIG_INT,
	  .min = 1,
	  .max = 1 << 16,
	  .def_doc = "5 minutes of the feed's traffic",
	  .key = "ring_raw_mb",
	  FIELD(ring_raw_mb),
	  .progs = CONFIG_CAPTURE | CONFIG_REPLAY,
	  .meaning = "raw-packet ring of a feed's segment, MiB (rounded up to a power of two; "
		     "`--ring-raw-mb` wins)" },
	{ .names = { "PITWALL_RCVBUF_MB" },
	  .type = CONFIG_INT,
	  .def = "32",
	  .min = 1,
	  .max = 2048,
	  .key = "rcvbuf_mb",
	  FIELD(rcvbuf_mb),
	  .progs = CONFIG_CAPTURE,
	  .meaning = "pw-capture's UDP receive buffer, MiB: what the kernel holds while pw-capture "
		     "is not scheduled (32 MiB hold about 50,000 datagrams of 300 bytes); beyond "
		     "`net.core.rmem_max` it needs root (`--rcvbuf-mb` wins)" },
	{ .names = { "PITWALL_FEEDS" },
	  .type = CONFIG_FEEDS,
	  .def = "ksudp,pcars,acc,forza,f1",
	  .values = "`name[:port]`, comma-separated, at most 16",
	  .key = "feeds",
	  FIELD(feeds),
	  .progs = CONFIG_STORE | CONFIG_API,
	  .meaning = "the feeds of the stack (`scripts/run.sh` starts a pw-capture for each)" },
	{ .names = { NULL } },
};

static const char *const prog_names[CONFIG_PROG_COUNT] = {
	"pw-capture", "pw-store", "pw-analyze", "pw-api", "pwctl", "pw-sim", "pw-replay",
};

const struct config_var *config_vars(void)
{
	return vars;
}

const struct config_var *config_var_find(const char *name)
{
	for (const struct config_var *v = vars; name && v->names[0]; v++)
		if (strcmp(v->names[0], name) == 0)
			return v;
	return NULL;
}

const char *config_prog_name(enum config_prog p)
{
	for (int i = 0; i < CONFIG_PROG_COUNT; i++)
		if (p == 1u << i)
			return prog_names[i];
	return "?";
}

const char *config_env(const char *const names[])
{
	for (; *names; names++) {
		const char *v = getenv(*names);
		if (v && *v)
			return v;
	}
	return NULL;
}

const char *config_get(const char *name)
{
	const struct config_var *v = config_var_find(name);

	return v ? config_env(v->names) : NULL;
}

/* Bounded copy that always terminates (a too-long value is cut, not overflowed). */
static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

static int valid_name(const char *s, long long min, long long max)
{
	long long n = (long long)strlen(s);

	if (n < min || n > max)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* "8080x" is a typo, not port 8080: the whole text must be the number. */
static int parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || end == s || *end || n < min || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

/* The index of s in "a|b|c" (any case), or -1. */
static int choice_index(const char *choices, const char *s)
{
	size_t n = strlen(s);
	int i = 0;

	for (const char *c = choices; *c; i++) {
		size_t len = strcspn(c, "|");
		if (len == n && strncasecmp(c, s, n) == 0)
			return i;
		c += len + (c[len] == '|');
	}
	return -1;
}

int config_get_int(const char *name, long long *out)
{
	const struct config_var *v = config_var_find(name);
	const char *s = v && v->type == CONFIG_INT ? config_env(v->names) : NULL;

	if (!s)
		return 0;
	return parse_int(s, v->min, v->max, out) < 0 ? -EINVAL : 1;
}

/* Strip blanks on both sides, in place. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = 0;
	return s;
}

int config_parse_feeds(struct config *c, const char *list, char *err, size_t errcap)
{
	char buf[1024], *save = NULL, *tok;

	c->nfeeds = 0;
	if ((size_t)snprintf(buf, sizeof buf, "%s", list) >= sizeof buf) {
		snprintf(err, errcap, "PITWALL_FEEDS: longer than %zu bytes", sizeof buf - 1);
		return -EINVAL;
	}
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct config_feed *f;
		char *colon;
		long port = 0;

		tok = trim(tok);
		if (!*tok)
			continue;
		if (c->nfeeds == CONFIG_MAX_FEEDS) {
			snprintf(err, errcap, "PITWALL_FEEDS: more than %d feeds",
				 CONFIG_MAX_FEEDS);
			return -EINVAL;
		}
		f = &c->feeds[c->nfeeds];
		if ((colon = strchr(tok, ':'))) {
			char *end, *num = trim(colon + 1);
			*colon = 0;
			tok = trim(tok);
			port = strtol(num, &end, 10);
			if (end == num || *end || port < 1 || port > 65535) {
				snprintf(err, errcap, "PITWALL_FEEDS: bad port in '%s:%s'", tok,
					 num);
				return -EINVAL;
			}
		}
		if (!valid_name(tok, 1, IDS_FEED_MAX) || strlen(tok) >= sizeof f->name) {
			snprintf(err, errcap, "PITWALL_FEEDS: bad feed name '%s'", tok);
			return -EINVAL;
		}
		copy(f->name, sizeof f->name, tok);
		f->port = (uint16_t)port;
		c->nfeeds++;
	}
	return 0;
}

static void *field(struct config *c, const struct config_var *v)
{
	return (char *)c + v->off;
}

static const void *cfield(const struct config *c, const struct config_var *v)
{
	return (const char *)c + v->off;
}

/* Integer fields are uint16 (the port), int32 or int64: told apart by size. */
static void store_int(struct config *c, const struct config_var *v, long long n)
{
	void *p = field(c, v);
	uint16_t x16 = (uint16_t)n;
	int32_t x32 = (int32_t)n;
	int64_t x64 = n;

	if (v->size == sizeof x16)
		memcpy(p, &x16, sizeof x16);
	else if (v->size == sizeof x32)
		memcpy(p, &x32, sizeof x32);
	else
		memcpy(p, &x64, sizeof x64);
}

static long long load_int(const struct config *c, const struct config_var *v)
{
	const void *p = cfield(c, v);
	uint16_t x16;
	int32_t x32;
	int64_t x64;

	if (v->size == sizeof x16)
		return memcpy(&x16, p, sizeof x16), x16;
	if (v->size == sizeof x32)
		return memcpy(&x32, p, sizeof x32), x32;
	return memcpy(&x64, p, sizeof x64), x64;
}

/* What v accepts, in the words of an error message. */
static void accepted(const struct config_var *v, char *buf, size_t cap)
{
	switch (v->type) {
	case CONFIG_INT:
		snprintf(buf, cap, "%lld..%lld", v->min, v->max);
		break;
	case CONFIG_NAME:
		snprintf(buf, cap, "%lld-%lld of [A-Za-z0-9_-]", v->min, v->max);
		break;
	case CONFIG_ENUM:
		snprintf(buf, cap, "one of %s", v->choices);
		break;
	default:
		snprintf(buf, cap, "%s", v->values ? v->values : "text");
	}
}

/* Expand the "$VARIABLE"s of a default with the values already loaded above. */
static void expand(const struct config *c, const char *def, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = 0;
	while (*def && n + 1 < cap) {
		if (*def == '$') {
			char name[64];
			size_t len = strspn(def + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
			const struct config_var *v;

			snprintf(name, sizeof name, "%.*s", (int)len, def + 1);
			if ((v = config_var_find(name))) {
				int k = config_value(c, v, out + n, cap - n);
				n = k < 0 ? n : (size_t)k >= cap - n ? cap - 1 : n + (size_t)k;
				def += 1 + len;
				continue;
			}
		}
		out[n++] = *def++;
		out[n] = 0;
	}
}

static int load_var(struct config *c, const struct config_var *v, char *err, size_t errcap)
{
	const char *s = config_env(v->names), *from = NULL;
	char def[CONFIG_STR + 64], range[128];
	long long n = 0;
	int i;

	for (i = 0; s && v->names[i]; i++)
		if (getenv(v->names[i]) == s)
			from = v->names[i];
	if (!s && v->def) {
		expand(c, v->def, def, sizeof def);
		s = def;
	}
	switch (v->type) {
	case CONFIG_TEXT:
	case CONFIG_SECRET:
		copy(field(c, v), v->size, s ? s : "");
		return 0;
	case CONFIG_NAME:
		if (s && valid_name(s, v->min, v->max)) {
			copy(field(c, v), v->size, s);
			return 0;
		}
		break;
	case CONFIG_INT:
		if (!s || parse_int(s, v->min, v->max, &n) == 0) {
			store_int(c, v, n);
			return 0;
		}
		break;
	case CONFIG_ENUM:
		if (s && (i = choice_index(v->choices, s)) >= 0) {
			store_int(c, v, i);
			return 0;
		}
		break;
	case CONFIG_FEEDS:
		return config_parse_feeds(c, s ? s : "", err, errcap);
	}
	accepted(v, range, sizeof range);
	if (from && strcmp(from, v->names[0]) != 0)
		snprintf(err, errcap, "%s (read for %s) must be %s, got '%s'", from, v->names[0],
			 range, s ? s : "");
	else
		snprintf(err, errcap, "%s must be %s, got '%s'", v->names[0], range, s ? s : "");
	return -EINVAL;
}

int config_load(struct config *c, char *err, size_t errcap)
{
	int rc;

	memset(c, 0, sizeof *c);
	for (const struct config_var *v = vars; v->names[0]; v++)
		if ((rc = load_var(c, v, err, errcap)) < 0)
			return rc;
	return 0;
}

int config_value(const struct config *c, const struct config_var *v, char *buf, size_t cap)
{
	size_t n = 0;
	long long x;

	switch (v->type) {
	case CONFIG_TEXT:
	case CONFIG_NAME:
		return snprintf(buf, cap, "%s", (const char *)cfield(c, v));
	case CONFIG_SECRET:
		return snprintf(buf, cap, "%s", *(const char *)cfield(c, v) ? "set" : "unset");
	case CONFIG_INT:
		x = load_int(c, v);
		if (x == 0 && !v->def)
			return snprintf(buf, cap, "auto");
		return snprintf(buf, cap, "%lld", x);
	case CONFIG_ENUM: {
		const char *ch = v->choices;
		x = load_int(c, v);
		for (long long i = 0; i < x && *ch; i++)
			ch += strcspn(ch, "|") + (ch[strcspn(ch, "|")] == '|');
		return snprintf(buf, cap, "%.*s", (int)strcspn(ch, "|"), ch);
	}
	case CONFIG_FEEDS:
		if (cap)
			buf[0] = 0;
		for (int i = 0; i < c->nfeeds; i++) {
			const struct config_feed *f = &c->feeds[i];
			char one[48]; /* ",", a name of at most 31, ":65535" */
			int k = snprintf(one, sizeof one, "%s%s", i ? "," : "", f->name);

			if (f->port)
				k += snprintf(one + k, sizeof one - (size_t)k, ":%u",
					      (unsigned)f->port);
			if (n < cap)
				snprintf(buf + n, cap - n, "%s", one);
			n += (size_t)k;
		}
		return (int)n;
	}
	return snprintf(buf, cap, "?");
}

/* Append to a bounded line; a line that does not fit is cut. */
static void append(char *line, size_t cap, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char *line, size_t cap, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*n >= cap)
		return;
	va_start(ap, fmt);
	k = vsnprintf(line + *n, cap - *n, fmt, ap);
	va_end(ap);
	*n = k < 0 ? *n : *n + (size_t)k >= cap ? cap : *n + (size_t)k;
}

void config_log(const struct config *c)
{
	char line[2048] = "", value[1024];
	size_t n = 0;

	for (const struct config_var *v = vars; v->names[0]; v++) {
		config_value(c, v, value, sizeof value);
		if (v->key)
			append(line, sizeof line, &n, "%s%s=%s", n ? " " : "", v->key, value);
		else
			append(line, sizeof line, &n, ":%s", value);
	}
	log_info("msg=config %s", line);
}

int config_markdown(FILE *out)
{
	fprintf(out, "| variable | meaning | accepted | default | read by |\n"
		     "|---|---|---|---|---|\n");
	for (const struct config_var *v = vars; v->names[0]; v++) {
		char range[128], def[CONFIG_STR + 64];
		unsigned all = ALL_PROGS | CONFIG_SIM | CONFIG_REPLAY;
		int first = 1;

		fprintf(out, "| `%s`", v->names[0]);
		for (int i = 1; v->names[i]; i++)
			fprintf(out, "%s`%s`%s", i == 1 ? " (" : ", ", v->names[i],
				v->names[i + 1] ? "" : ")");
		if (v->type == CONFIG_ENUM) {
			range[0] = 0;
			for (const char *ch = v->choices; *ch;) {
				size_t len = strcspn(ch, "|");
				size_t at = strlen(range);
				snprintf(range + at, sizeof range - at, "%s`%.*s`", at ? ", " : "",
					 (int)len, ch);
				ch += len + (ch[len] == '|');
			}
		} else if (v->type == CONFIG_INT) {
			snprintf(range, sizeof range, "%lld..%lld", v->min, v->max);
		} else if (v->type == CONFIG_NAME) {
			snprintf(range, sizeof range, "%lld to %lld of `A-Z a-z 0-9 _ -`", v->min,
				 v->max);
		} else {
			snprintf(range, sizeof range, "%s", v->values ? v->values : "text");
		}
		if (v->def)
			snprintf(def, sizeof def, "`%s`", v->def);
		else
			snprintf(def, sizeof def, "%s", v->def_doc ? v->def_doc : "unset");
		fprintf(out, " | %s | %s | %s | ", v->meaning, range, def);
		if ((v->progs & all) == all) {
			fputs("every program", out);
		} else {
			for (int i = 0; i < CONFIG_PROG_COUNT; i++)
				if (v->progs & (1u << i)) {
					fprintf(out, "%s%s", first ? "" : ", ", prog_names[i]);
					first = 0;
				}
		}
		fputs(" |\n", out);
	}
	return ferror(out) ? -EIO : 0;
}

void config_usage(FILE *out, unsigned progs)
{
	size_t col = 2;

	fputs("\nConfiguration: environment variables, documented (default, accepted values,\n"
	      "meaning) in the \"Configuration\" table of README.md, which `pwctl config\n"
	      "--markdown` prints; `pwctl config` shows the effective values. Read here:\n ",
	      out);
	for (const struct config_var *v = vars; v->names[0]; v++) {
		size_t len = strlen(v->names[0]) + 1;

		if (!(v->progs & progs))
			continue;
		if (col + len > 80) {
			fputs("\n ", out);
			col = 2;
		}
		fprintf(out, " %s", v->names[0]);
		col += len;
	}
	fputc('\n', out);
}
