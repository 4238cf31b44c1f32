/* config.c - see config.h */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"

const char *config_env(const char *const names[])
{
	for (; *names; names++) {
		const char *v = getenv(*names);
		if (v && *v)
			return v;
	}
	return NULL;
}

/* Bounded copy that always terminates (a too-long value is cut, not overflowed). */
static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

static void set(char *dst, size_t cap, const char *const names[], const char *def)
{
	const char *v = config_env(names);

	copy(dst, cap, v ? v : def);
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > IDS_INSTANCE_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-'))
			return 0;
	return 1;
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
			snprintf(err, errcap, "PITWALL_FEEDS: more than %d feeds", CONFIG_MAX_FEEDS);
			return -EINVAL;
		}
		f = &c->feeds[c->nfeeds];
		if ((colon = strchr(tok, ':'))) {
			char *end, *num = trim(colon + 1);
			*colon = 0;
			tok = trim(tok);
			port = strtol(num, &end, 10);
			if (end == num || *end || port < 1 || port > 65535) {
				snprintf(err, errcap, "PITWALL_FEEDS: bad port in '%s:%s'", tok, num);
				return -EINVAL;
			}
		}
		if (!valid_name(tok) || strlen(tok) >= sizeof f->name) {
			snprintf(err, errcap, "PITWALL_FEEDS: bad feed name '%s'", tok);
			return -EINVAL;
		}
		copy(f->name, sizeof f->name, tok);
		f->port = (uint16_t)port;
		c->nfeeds++;
	}
	return 0;
}

int config_load(struct config *c, char *err, size_t errcap)
{
	static const char *const inst[] = { "PITWALL_INSTANCE", NULL };
	static const char *const data[] = { "PITWALL_DATA_DIR", NULL };
	static const char *const run[] = { "PITWALL_RUN_DIR", NULL };
	static const char *const game[] = { "PITWALL_GAME_HOST", "RUSTY_TELEMETRY_GAME_HOST",
					    "RUSTY_TELEMETRY_BIND", NULL };
	static const char *const listen[] = { "PITWALL_LISTEN", "RUSTY_TELEMETRY_LISTEN",
					      "RUSTY_TELEMETRY_BIND", NULL };
	static const char *const ahost[] = { "PITWALL_API_HOST", "RUSTY_TELEMETRY_API_HOST", NULL };
	static const char *const aport[] = { "PITWALL_API_PORT", "RUSTY_TELEMETRY_API_PORT", NULL };
	static const char *const token[] = { "PITWALL_API_TOKEN", NULL };
	static const char *const bus[] = { "PITWALL_BUS", NULL };
	static const char *const bus_in[] = { "PITWALL_BUS_IN", NULL };
	static const char *const cmd[] = { "PITWALL_CMD", NULL };
	static const char *const jobs[] = { "PITWALL_JOBS", NULL };
	static const char *const results[] = { "PITWALL_RESULTS", NULL };
	static const char *const feeds[] = { "PITWALL_FEEDS", NULL };
	const char *v;
	char def[CONFIG_STR + 64];
	long port;

	memset(c, 0, sizeof *c);
	set(c->instance, sizeof c->instance, inst, "default");
	if (!valid_name(c->instance)) {
		snprintf(err, errcap, "PITWALL_INSTANCE must be 1-40 of [A-Za-z0-9_-], got '%s'",
			 c->instance);
		return -EINVAL;
	}
	set(c->data_dir, sizeof c->data_dir, data, "./data");
	snprintf(def, sizeof def, "/tmp/pitwall-%s", c->instance);
	set(c->run_dir, sizeof c->run_dir, run, def);
	set(c->game_host, sizeof c->game_host, game, "127.0.0.1");
	set(c->listen, sizeof c->listen, listen, "0.0.0.0");
	set(c->api_host, sizeof c->api_host, ahost, "127.0.0.1");
	v = config_env(aport);
	port = 8080;
	if (v) {
		char *end;
		port = strtol(v, &end, 10);
		if (end == v || *end) /* "8080x" is a typo, not port 8080 */
			port = 0;
	}
	if (port < 1 || port > 65535) {
		snprintf(err, errcap, "PITWALL_API_PORT must be 1..65535, got '%s'", v);
		return -EINVAL;
	}
	c->api_port = (uint16_t)port;
	set(c->api_token, sizeof c->api_token, token, "");
	set(c->bus, sizeof c->bus, bus, "tcp://127.0.0.1:7700");
	set(c->bus_in, sizeof c->bus_in, bus_in, "tcp://127.0.0.1:7701");
	snprintf(def, sizeof def, "ipc://%s/cmd.sock", c->run_dir);
	set(c->cmd, sizeof c->cmd, cmd, def);
	snprintf(def, sizeof def, "ipc://%s/jobs.sock", c->run_dir);
	set(c->jobs, sizeof c->jobs, jobs, def);
	snprintf(def, sizeof def, "ipc://%s/results.sock", c->run_dir);
	set(c->results, sizeof c->results, results, def);
	v = config_env(feeds);
	return config_parse_feeds(c, v ? v : "ksudp,pcars,acc,forza,f1", err, errcap);
}

void config_log(const struct config *c)
{
	char feeds[512] = "";
	size_t n = 0;

	for (int i = 0; i < c->nfeeds && n < sizeof feeds; i++)
		n += (size_t)snprintf(feeds + n, sizeof feeds - n, "%s%s%s%.0u", i ? "," : "",
				      c->feeds[i].name, c->feeds[i].port ? ":" : "",
				      (unsigned)c->feeds[i].port);
	log_info("msg=config instance=%s data_dir=%s run_dir=%s game_host=%s listen=%s "
		 "api=%s:%u api_token=%s bus=%s bus_in=%s cmd=%s jobs=%s results=%s feeds=%s",
		 c->instance, c->data_dir, c->run_dir, c->game_host, c->listen, c->api_host,
		 c->api_port, c->api_token[0] ? "set" : "unset", c->bus, c->bus_in, c->cmd, c->jobs,
		 c->results, feeds);
}
