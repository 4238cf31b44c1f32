/* test_config.c - self-test of the environment configuration (common/config.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <strings.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "tests/unit/t.h"

static const char *const all_vars[] = {
	"PITWALL_INSTANCE",
	"PITWALL_DATA_DIR",
	"PITWALL_RUN_DIR",
	"PITWALL_GAME_HOST",
	"RUSTY_TELEMETRY_GAME_HOST",
	"RUSTY_TELEMETRY_BIND",
	"PITWALL_LISTEN",
	"RUSTY_TELEMETRY_LISTEN",
	"PITWALL_API_HOST",
	"RUSTY_TELEMETRY_API_HOST",
	"PITWALL_API_PORT",
	"RUSTY_TELEMETRY_API_PORT",
	"PITWALL_API_TOKEN",
	"PITWALL_WWW_DIR",
	"PITWALL_BUS",
	"PITWALL_BUS_IN",
	"PITWALL_CMD",
	"PITWALL_JOBS",
	"PITWALL_RESULTS",
	"PITWALL_FEEDS",
	"PITWALL_LOG_LEVEL",
	"PITWALL_CMD_TIMEOUT_MS",
	"PITWALL_JOB_DEADLINE_MS",
	"PITWALL_LIVE_COOLDOWN_S",
	"PITWALL_BUS_FRAMES",
	"PITWALL_WS_IDLE_MS",
	"PITWALL_WS_MAX_CLIENTS",
	"PITWALL_WS_SESSION_GAP_MS",
	"PITWALL_WS_PORT",
	"PITWALL_RING_FRAMES",
	"PITWALL_RING_RAW_MB",
	"PITWALL_RCVBUF_MB",
	NULL,
};

static void clear_env(void)
{
	for (int i = 0; all_vars[i]; i++)
		unsetenv(all_vars[i]);
}

static int load(struct config *c, char *err, size_t cap)
{
	memset(c, 0x5a, sizeof *c); /* config_load must set every field */
	err[0] = 0;
	return config_load(c, err, cap);
}

static void check_feed(const struct config *c, int i, const char *name, unsigned port)
{
	T_CHECKF(i < c->nfeeds && strcmp(c->feeds[i].name, name) == 0 && c->feeds[i].port == port,
		 "feed %d: want %s:%u, have %s:%u (of %d)", i, name, port,
		 i < c->nfeeds ? c->feeds[i].name : "-", i < c->nfeeds ? c->feeds[i].port : 0,
		 c->nfeeds);
}

static void test_defaults(void)
{
	struct config c;
	char err[256];

	clear_env();
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	T_STREQ(c.instance, "default");
	T_STREQ(c.data_dir, "./data");
	T_STREQ(c.run_dir, "/tmp/pitwall-default");
	T_STREQ(c.game_host, "127.0.0.1");
	T_STREQ(c.listen, "0.0.0.0");
	T_STREQ(c.api_host, "127.0.0.1");
	T_EQ(c.api_port, 8080);
	T_EQ(c.api_token[0], 0);
	T_STREQ(c.bus, "tcp://127.0.0.1:7700");
	T_STREQ(c.bus_in, "tcp://127.0.0.1:7701");
	T_STREQ(c.cmd, "ipc:///tmp/pitwall-default/cmd.sock");
	T_STREQ(c.jobs, "ipc:///tmp/pitwall-default/jobs.sock");
	T_STREQ(c.results, "ipc:///tmp/pitwall-default/results.sock");
	T_EQ(c.nfeeds, 5);
	check_feed(&c, 0, "ksudp", 0);
	check_feed(&c, 1, "pcars", 0);
	check_feed(&c, 2, "acc", 0);
	check_feed(&c, 3, "forza", 0);
	check_feed(&c, 4, "f1", 0);
	/* empty variables count as unset */
	for (int i = 0; all_vars[i]; i++)
		setenv(all_vars[i], "", 1);
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	T_CHECK(strcmp(c.instance, "default") == 0 && c.api_port == 8080 && c.nfeeds == 5);
	T_CHECK(strcmp(c.game_host, "127.0.0.1") == 0 && strcmp(c.listen, "0.0.0.0") == 0);
	clear_env();
}

static void test_pitwall_overrides(void)
{
	struct config c;
	char err[256];

	clear_env();
	setenv("PITWALL_INSTANCE", "t-1_X", 1);
	setenv("PITWALL_DATA_DIR", "/srv/pw data", 1);
	setenv("PITWALL_GAME_HOST", "192.168.1.20", 1);
	setenv("PITWALL_LISTEN", "127.0.0.2", 1);
	setenv("PITWALL_API_HOST", "0.0.0.0", 1);
	setenv("PITWALL_API_PORT", "65535", 1);
	setenv("PITWALL_API_TOKEN", "s3cret", 1);
	setenv("PITWALL_BUS", "tcp://10.0.0.1:7800", 1);
	setenv("PITWALL_BUS_IN", "tcp://10.0.0.1:7801", 1);
	setenv("PITWALL_FEEDS", "f1:20778,ksudp", 1);
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	T_STREQ(c.instance, "t-1_X");
	T_STREQ(c.data_dir, "/srv/pw data");
	/* the run dir and the ipc endpoints follow the instance */
	T_STREQ(c.run_dir, "/tmp/pitwall-t-1_X");
	T_STREQ(c.cmd, "ipc:///tmp/pitwall-t-1_X/cmd.sock");
	T_STREQ(c.jobs, "ipc:///tmp/pitwall-t-1_X/jobs.sock");
	T_STREQ(c.results, "ipc:///tmp/pitwall-t-1_X/results.sock");
	T_STREQ(c.game_host, "192.168.1.20");
	T_STREQ(c.listen, "127.0.0.2");
	T_STREQ(c.api_host, "0.0.0.0");
	T_EQ(c.api_port, 65535);
	T_STREQ(c.api_token, "s3cret");
	T_STREQ(c.bus, "tcp://10.0.0.1:7800");
	T_STREQ(c.bus_in, "tcp://10.0.0.1:7801");
	T_EQ(c.nfeeds, 2);
	check_feed(&c, 0, "f1", 20778);
	check_feed(&c, 1, "ksudp", 0);
	/* the run dir moves the endpoints; explicit endpoints win */
	setenv("PITWALL_RUN_DIR", "/run/pw", 1);
	setenv("PITWALL_JOBS", "tcp://10.0.0.2:7701", 1);
	setenv("PITWALL_RESULTS", "tcp://10.0.0.2:7702", 1);
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	T_STREQ(c.run_dir, "/run/pw");
	T_STREQ(c.cmd, "ipc:///run/pw/cmd.sock");
	T_STREQ(c.jobs, "tcp://10.0.0.2:7701");
	T_STREQ(c.results, "tcp://10.0.0.2:7702");
	setenv("PITWALL_CMD", "ipc:///x/y.sock", 1);
	setenv("PITWALL_API_PORT", "1", 1);
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	T_STREQ(c.cmd, "ipc:///x/y.sock");
	T_EQ(c.api_port, 1);
	clear_env();
}

static void test_rusty_fallbacks(void)
{
	struct config c;
	char err[256];

	clear_env();
	/* the legacy BIND feeds both the game host and the listen address */
	setenv("RUSTY_TELEMETRY_BIND", "10.0.0.5", 1);
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	T_STREQ(c.game_host, "10.0.0.5");
	T_STREQ(c.listen, "10.0.0.5");
	/* the specific seed names beat BIND */
	setenv("RUSTY_TELEMETRY_GAME_HOST", "10.0.0.6", 1);
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	T_CHECK(strcmp(c.game_host, "10.0.0.6") == 0 && strcmp(c.listen, "10.0.0.5") == 0);
	setenv("RUSTY_TELEMETRY_LISTEN", "10.0.0.7", 1);
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	T_CHECK(strcmp(c.game_host, "10.0.0.6") == 0 && strcmp(c.listen, "10.0.0.7") == 0);
	/* PITWALL_* beats every fallback */
	setenv("PITWALL_GAME_HOST", "172.16.0.1", 1);
	setenv("PITWALL_LISTEN", "172.16.0.2", 1);
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	T_CHECK(strcmp(c.game_host, "172.16.0.1") == 0 && strcmp(c.listen, "172.16.0.2") == 0);
	/* only BIND and PITWALL_LISTEN: game host from BIND */
	clear_env();
	setenv("RUSTY_TELEMETRY_BIND", "10.0.0.5", 1);
	setenv("PITWALL_LISTEN", "172.16.0.2", 1);
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	T_CHECK(strcmp(c.game_host, "10.0.0.5") == 0 && strcmp(c.listen, "172.16.0.2") == 0);
	/* API host and port */
	clear_env();
	setenv("RUSTY_TELEMETRY_API_HOST", "0.0.0.0", 1);
	setenv("RUSTY_TELEMETRY_API_PORT", "9090", 1);
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	T_CHECK(strcmp(c.api_host, "0.0.0.0") == 0 && c.api_port == 9090);
	setenv("PITWALL_API_HOST", "127.0.0.9", 1);
	setenv("PITWALL_API_PORT", "9191", 1);
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	T_CHECK(strcmp(c.api_host, "127.0.0.9") == 0 && c.api_port == 9191);
	/* a bad fallback port is not looked at when PITWALL_API_PORT is set */
	setenv("RUSTY_TELEMETRY_API_PORT", "abc", 1);
	T_CHECKF(load(&c, err, sizeof err) == 0 && c.api_port == 9191, "%s", err);
	unsetenv("PITWALL_API_PORT");
	T_EQ(load(&c, err, sizeof err), -EINVAL);
	clear_env();
}

static int parse(struct config *c, const char *list, char *err, size_t cap)
{
	err[0] = 0;
	return config_parse_feeds(c, list, err, cap);
}

static void test_parse_feeds(void)
{
	struct config c;
	char err[256], list[2048], name[64];
	static const char *const bad[] = {
		"acc:0",
		"acc:65536",
		"acc:abc",
		"acc:",
		"acc:12x",
		"acc:-1",
		"acc:1:2",
		"acc:99999999999999999999",
		":9000",
		"a/b",
		"../x",
		"ks udp",
		"name!",
		"a.b",
		"ksudp,f1:0",
		"f\xc3\xa9",
		"ksudp,pcars:70000,acc",
	};

	memset(&c, 0, sizeof c);
	T_CHECKF(parse(&c, "ksudp:9996,pcars:5606,acc:9000,forza:5300,f1:20777", err, sizeof err) ==
			 0,
		 "%s", err);
	T_EQ(c.nfeeds, 5);
	check_feed(&c, 0, "ksudp", 9996);
	check_feed(&c, 1, "pcars", 5606);
	check_feed(&c, 2, "acc", 9000);
	check_feed(&c, 3, "forza", 5300);
	check_feed(&c, 4, "f1", 20777);
	/* port boundaries */
	T_EQ(parse(&c, "acc:1,f1:65535", err, sizeof err), 0);
	check_feed(&c, 0, "acc", 1);
	check_feed(&c, 1, "f1", 65535);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = parse(&c, bad[i], err, sizeof err);
		T_CHECKF(rc == -EINVAL && strstr(err, "PITWALL_FEEDS"), "'%s': rc %d err '%s'",
			 bad[i], rc, err);
	}
	parse(&c, "acc:65536", err, sizeof err);
	T_CHECKF(strstr(err, "65536") != NULL, "%s", err);
	parse(&c, "ks udp", err, sizeof err);
	T_CHECKF(strstr(err, "'ks udp'") != NULL, "%s", err);
	/* whitespace around entries, names and ports; empty entries skipped */
	T_CHECKF(parse(&c, " ksudp , \tpcars:5606\t,, acc : 9001 ,", err, sizeof err) == 0, "%s",
		 err);
	T_EQ(c.nfeeds, 3);
	check_feed(&c, 0, "ksudp", 0);
	check_feed(&c, 1, "pcars", 5606);
	check_feed(&c, 2, "acc", 9001);
	T_CHECK(parse(&c, "", err, sizeof err) == 0 && c.nfeeds == 0);
	T_CHECK(parse(&c, ",, ,", err, sizeof err) == 0 && c.nfeeds == 0);
	/* name length: 31 characters fit feeds[].name[32], 32 do not */
	memset(name, 'n', 31);
	name[31] = 0;
	T_CHECK(parse(&c, name, err, sizeof err) == 0 && c.nfeeds == 1 &&
		strcmp(c.feeds[0].name, name) == 0);
	T_STRCAT(name, "n");
	T_EQ(parse(&c, name, err, sizeof err), -EINVAL);
	/* exactly CONFIG_MAX_FEEDS, then one more */
	list[0] = 0;
	for (int i = 0; i < CONFIG_MAX_FEEDS; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%sfeed%d:%d",
			 i ? "," : "", i, 6000 + i);
	T_CHECKF(parse(&c, list, err, sizeof err) == 0, "%s", err);
	T_EQ(c.nfeeds, CONFIG_MAX_FEEDS);
	check_feed(&c, 15, "feed15", 6015);
	T_STRCAT(list, ",one_more");
	T_EQ(parse(&c, list, err, sizeof err), -EINVAL);
	T_CHECKF(strstr(err, "more than 16") != NULL, "%s", err);
	/* a list too long to hold is refused, not silently cut */
	memset(list, ' ', 1500);
	memcpy(list + 1500, ",ksudp", sizeof ",ksudp");
	T_EQ(parse(&c, list, err, sizeof err), -EINVAL);
	/* a small error buffer is cut, never overrun */
	{
		char small[8];
		memset(small, 'X', sizeof small);
		T_EQ(config_parse_feeds(&c, "bad name", small, 4), -EINVAL);
		T_CHECK(small[3] == 0 && small[4] == 'X');
	}
	/* through config_load */
	clear_env();
	setenv("PITWALL_FEEDS", "forza:5301", 1);
	T_CHECK(load(&c, err, sizeof err) == 0 && c.nfeeds == 1);
	check_feed(&c, 0, "forza", 5301);
	setenv("PITWALL_FEEDS", "forza:5301,bad/name", 1);
	T_CHECK(load(&c, err, sizeof err) == -EINVAL && strstr(err, "bad/name"));
	clear_env();
}

static void test_bad_instance(void)
{
	static const char *const bad[] = {
		"../x",
		"a/b",
		"a b",
		"a.b",
		".",
		"..",
		"x\n",
		"\xc3\xa9t\xc3\xa9",
		"01234567890123456789012345678901234567890", /* 41 */
	};
	struct config c;
	char err[256];

	clear_env();
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		setenv("PITWALL_INSTANCE", bad[i], 1);
		T_CHECKF(load(&c, err, sizeof err) == -EINVAL && strstr(err, "PITWALL_INSTANCE"),
			 "'%s': %s", bad[i], err);
	}
	setenv("PITWALL_INSTANCE", "0123456789012345678901234567890123456789", 1); /* 40 */
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	T_EQ(strlen(c.instance), 40);
	T_STREQ(c.run_dir, "/tmp/pitwall-0123456789012345678901234567890123456789");
	setenv("PITWALL_INSTANCE", "A", 1);
	T_CHECK(load(&c, err, sizeof err) == 0 && strcmp(c.instance, "A") == 0);
	clear_env();
}

static void test_bad_api_port(void)
{
	static const char *const bad[] = { "0",       "65536", "abc", "-1",
					   "8080abc", "80 80", "1e3", "99999999999999999999" };
	struct config c;
	char err[256];

	clear_env();
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		setenv("PITWALL_API_PORT", bad[i], 1);
		T_CHECKF(load(&c, err, sizeof err) == -EINVAL && strstr(err, "PITWALL_API_PORT") &&
				 strstr(err, bad[i]),
			 "'%s': %s", bad[i], err);
	}
	setenv("PITWALL_API_PORT", "8443", 1);
	T_CHECK(load(&c, err, sizeof err) == 0 && c.api_port == 8443);
	clear_env();
}

static void test_long_values_cut(void)
{
	struct config c;
	char err[256], big[600];

	clear_env();
	memset(big, 'h', sizeof big - 1);
	big[sizeof big - 1] = 0;
	setenv("PITWALL_GAME_HOST", big, 1);
	setenv("PITWALL_DATA_DIR", big, 1);
	setenv("PITWALL_API_TOKEN", big, 1);
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	T_EQ(strlen(c.game_host), sizeof c.game_host - 1);
	T_EQ(strlen(c.data_dir), CONFIG_STR - 1);
	T_EQ(strlen(c.api_token), CONFIG_STR - 1);
	T_EQ(strncmp(c.data_dir, big, CONFIG_STR - 1), 0);
	clear_env();
}

static void test_config_env(void)
{
	static const char *const names[] = { "PW_TEST_A", "PW_TEST_B", "PW_TEST_C", NULL };
	static const char *const none[] = { NULL };

	unsetenv("PW_TEST_A");
	unsetenv("PW_TEST_B");
	unsetenv("PW_TEST_C");
	T_CHECK(config_env(names) == NULL);
	T_CHECK(config_env(none) == NULL);
	setenv("PW_TEST_C", "c", 1);
	T_CHECK(config_env(names) && strcmp(config_env(names), "c") == 0);
	setenv("PW_TEST_B", "", 1); /* set but empty: skipped */
	T_STREQ(config_env(names), "c");
	setenv("PW_TEST_B", "b", 1);
	T_STREQ(config_env(names), "b");
	setenv("PW_TEST_A", "a", 1);
	T_STREQ(config_env(names), "a");
	T_STREQ(config_env(names + 1), "b");
	unsetenv("PW_TEST_A");
	unsetenv("PW_TEST_B");
	unsetenv("PW_TEST_C");
}

/* Run fn with stderr redirected into a pipe; returns what it wrote. */
static void capture_stderr(void (*fn)(const struct config *), const struct config *c, char *out,
			   size_t cap)
{
	int p[2], saved;
	ssize_t n;

	out[0] = 0;
	fflush(stderr);
	if (pipe(p) < 0 || (saved = dup(2)) < 0)
		return;
	dup2(p[1], 2);
	close(p[1]);
	fn(c);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	n = read(p[0], out, cap - 1);
	out[n > 0 ? n : 0] = 0;
	close(p[0]);
}

static void test_config_log(void)
{
	struct config c;
	char err[256], line[4096];

	clear_env();
	log_init("cfgtest");
	setenv("PITWALL_FEEDS", "ksudp:9996,f1", 1);
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	capture_stderr(config_log, &c, line, sizeof line);
	T_CHECKF(strstr(line,
			"Z info cfgtest msg=config instance=default data_dir=./data "
			"run_dir=/tmp/pitwall-default game_host=127.0.0.1 listen=0.0.0.0 "
			"api=127.0.0.1:8080 api_token=unset www_dir= bus=tcp://127.0.0.1:7700 ") !=
			 NULL,
		 "%s", line);
	T_CHECKF(strstr(line, " cmd=ipc:///tmp/pitwall-default/cmd.sock ") != NULL, "%s", line);
	T_CHECKF(strstr(line, " jobs=ipc:///tmp/pitwall-default/jobs.sock ") != NULL, "%s", line);
	T_CHECKF(strstr(line, " results=ipc:///tmp/pitwall-default/results.sock ") != NULL, "%s",
		 line);
	T_CHECKF(strstr(line, " feeds=ksudp:9996,f1\n") != NULL, "%s", line);
	T_EQ(strchr(line, '\n'), line + strlen(line) - 1); /* one line */
	/* the token is never printed */
	setenv("PITWALL_API_TOKEN", "s3cret-token", 1);
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	capture_stderr(config_log, &c, line, sizeof line);
	T_CHECKF(strstr(line, "api_token=set ") && !strstr(line, "s3cret"), "%s", line);
	/* many long feeds: the line is cut, not overrun */
	{
		char list[1024] = "";
		for (int i = 0; i < CONFIG_MAX_FEEDS; i++)
			snprintf(list + strlen(list), sizeof list - strlen(list),
				 "%sfeed_with_a_long_name_%02d:%d", i ? "," : "", i, 60000 + i);
		setenv("PITWALL_FEEDS", list, 1);
		T_CHECKF(load(&c, err, sizeof err) == 0 && c.nfeeds == 16, "%s", err);
		capture_stderr(config_log, &c, line, sizeof line);
		T_CHECKF(strstr(line, "feeds=feed_with_a_long_name_00:60000,") != NULL, "%s", line);
	}
	clear_env();
}

/* ---- the table ---- */

static int in_all_vars(const char *name)
{
	for (int i = 0; all_vars[i]; i++)
		if (strcmp(all_vars[i], name) == 0)
			return 1;
	return 0;
}

static void test_table(void)
{
	const struct config_var *vars = config_vars(), *v;
	size_t n = 0;

	for (v = vars; v->names[0]; v++, n++) {
		const char *name = v->names[0];

		T_CHECKF(strncmp(name, "PITWALL_", 8) == 0, "%s", name);
		T_CHECKF(config_var_find(name) == v, "%s: not found, or twice", name);
		T_CHECKF(in_all_vars(name), "%s: missing from this test's all_vars", name);
		for (int i = 1; v->names[i]; i++)
			T_CHECKF(strncmp(v->names[i], "RUSTY_TELEMETRY_", 16) == 0 &&
					 in_all_vars(v->names[i]),
				 "%s: fallback %s", name, v->names[i]);
		T_CHECKF(v->meaning && *v->meaning && !strchr(v->meaning, '|'), "%s: meaning",
			 name);
		T_CHECKF(v->progs != 0, "%s: nobody reads it", name);
		T_CHECKF(v->def || v->def_doc, "%s: no default in the docs", name);
		T_CHECKF(v->off + v->size <= sizeof(struct config), "%s: field", name);
		T_CHECKF(v->key || v > vars, "%s: the first variable needs a key", name);
		switch (v->type) {
		case CONFIG_INT:
			T_CHECKF(v->size == 2 || v->size == 4 || v->size == 8, "%s: size %zu", name,
				 v->size);
			T_CHECKF(v->min <= v->max && (v->size != 2 || v->max <= 65535) &&
					 (v->size != 4 || v->max <= INT32_MAX),
				 "%s: range", name);
			break;
		case CONFIG_ENUM:
			T_CHECKF(v->choices && v->size == 4, "%s", name);
			break;
		case CONFIG_NAME:
			T_CHECKF(v->max >= v->min && (size_t)v->max < v->size, "%s: length", name);
			break;
		default:
			T_CHECKF(v->type == CONFIG_FEEDS || v->size > 1, "%s", name);
		}
		for (const struct config_var *w = vars; w < v; w++)
			T_CHECKF(!v->key || !w->key || strcmp(v->key, w->key) != 0,
				 "%s: key %s twice", name, v->key);
	}
	T_CHECKF(n == 27, "%zu variables", n);
	T_CHECK(config_var_find("PATH") == NULL && config_var_find(NULL) == NULL);
	T_CHECK(config_var_find("RUSTY_TELEMETRY_BIND") == NULL); /* a fallback, not a variable */
	T_CHECK(strcmp(config_prog_name(CONFIG_STORE), "pw-store") == 0);
	T_CHECK(strcmp(config_prog_name(CONFIG_REPLAY), "pw-replay") == 0);
	T_CHECK(strcmp(config_prog_name(CONFIG_STORE | CONFIG_API), "?") == 0);
}

static void test_defaults_of_settings(void)
{
	struct config c;
	char err[256];

	clear_env();
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	T_CHECK(c.cmd_timeout_ms == 3000);
	T_CHECK(c.job_deadline_ms == 60000);
	T_CHECK(c.bus_frames == 1);
	T_CHECK(c.ws_idle_ms == 60000 && c.ws_max_clients == 256 && c.ws_session_gap_ms == 30000);
	T_CHECK(c.log_level == LOG_INFO);
	T_CHECK(c.ring_frames == 0 && c.ring_raw_mb == 0); /* the capture sizes the ring itself */
	T_CHECK(c.rcvbuf_mb == 32);
}

/* Every INT variable: both ends of its range load, one beyond each end and
 * malformed numbers are refused with its name, its range and the value. */
static void test_int_ranges(void)
{
	struct config c;
	char err[256], val[64], range[64];

	for (const struct config_var *v = config_vars(); v->names[0]; v++) {
		const char *name = v->names[0];
		long long ends[2] = { v->min, v->max };

		if (v->type != CONFIG_INT)
			continue;
		clear_env();
		snprintf(range, sizeof range, "%s must be %lld..%lld, got '", name, v->min, v->max);
		for (int e = 0; e < 2; e++) {
			struct config ref;
			const struct config_var *r;
			char shown[64];

			snprintf(val, sizeof val, "%lld", ends[e]);
			setenv(name, val, 1);
			T_CHECKF(load(&c, err, sizeof err) == 0, "%s=%s: %s", name, val, err);
			T_CHECKF(config_value(&c, v, shown, sizeof shown) > 0 &&
					 (strcmp(shown, val) == 0 || (ends[e] == 0 && !v->def)),
				 "%s=%s shows '%s'", name, val, shown);
			/* stored in its own field, nowhere else */
			unsetenv(name);
			T_CHECK(load(&ref, err, sizeof err) == 0);
			for (r = config_vars(); r->names[0]; r++) {
				char a[256], b[256];
				config_value(&c, r, a, sizeof a);
				config_value(&ref, r, b, sizeof b);
				T_CHECKF(r == v || strcmp(a, b) == 0, "%s=%s changed %s", name, val,
					 r->names[0]);
			}
			snprintf(val, sizeof val, "%lld", e ? v->max + 1 : v->min - 1);
			setenv(name, val, 1);
			T_CHECKF(load(&c, err, sizeof err) == -EINVAL && strstr(err, range) &&
					 strstr(err, val),
				 "%s=%s: %s", name, val, err);
		}
		static const char *const malformed[] = { "12x", "x",    "1.5",
							 "1e3", "0x10", "99999999999999999999",
							 NULL };
		for (const char *const *bad = malformed; *bad; bad++) {
			setenv(name, *bad, 1);
			T_CHECKF(load(&c, err, sizeof err) == -EINVAL && strstr(err, range) &&
					 strstr(err, *bad),
				 "%s=%s: %s", name, *bad, err);
		}
		unsetenv(name);
	}
	clear_env();
}

static void test_settings(void)
{
	static const struct {
		const char *name, *value;
		size_t off;
		long long want;
	} cases[] = {
		{ "PITWALL_CMD_TIMEOUT_MS", "1500", offsetof(struct config, cmd_timeout_ms), 1500 },
		{ "PITWALL_JOB_DEADLINE_MS", "1", offsetof(struct config, job_deadline_ms), 1 },
		{ "PITWALL_LIVE_COOLDOWN_S", "0", offsetof(struct config, live_cooldown_s), 0 },
		{ "PITWALL_BUS_FRAMES", "0", offsetof(struct config, bus_frames), 0 },
		{ "PITWALL_WS_IDLE_MS", "3000", offsetof(struct config, ws_idle_ms), 3000 },
		{ "PITWALL_WS_MAX_CLIENTS", "2", offsetof(struct config, ws_max_clients), 2 },
		{ "PITWALL_WS_SESSION_GAP_MS", "0", offsetof(struct config, ws_session_gap_ms), 0 },
		{ "PITWALL_RING_FRAMES", "256", offsetof(struct config, ring_frames), 256 },
		{ "PITWALL_RING_RAW_MB", "8", offsetof(struct config, ring_raw_mb), 8 },
		{ "PITWALL_RCVBUF_MB", "64", offsetof(struct config, rcvbuf_mb), 64 },
	};
	struct config c;
	char err[256];

	clear_env();
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const struct config_var *v = config_var_find(cases[i].name);
		char shown[64], want[64];

		setenv(cases[i].name, cases[i].value, 1);
		T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
		T_CHECKF(v && v->off == cases[i].off, "%s: field", cases[i].name);
		snprintf(want, sizeof want, "%lld", cases[i].want);
		T_CHECKF(v && config_value(&c, v, shown, sizeof shown) > 0 &&
				 strcmp(shown, want) == 0,
			 "%s=%s shows %s", cases[i].name, cases[i].value, shown);
	}
	T_CHECK(c.cmd_timeout_ms == 1500 && c.job_deadline_ms == 1 && c.bus_frames == 0);
	T_CHECK(c.ws_idle_ms == 3000 && c.ws_max_clients == 2 && c.ws_session_gap_ms == 0);
	T_CHECK(c.ring_frames == 256 && c.ring_raw_mb == 8);
	clear_env();
}

static void test_log_level(void)
{
	static const struct {
		const char *value;
		int level;
	} ok[] = { { "debug", LOG_DEBUG },
		   { "info", LOG_INFO },
		   { "WARN", LOG_WARN },
		   { "Error", LOG_ERROR } };
	static const char *const bad[] = { "loud", "warning", "inf", "info ", "0", "debug|info" };
	const struct config_var *v = config_var_find("PITWALL_LOG_LEVEL");
	struct config c;
	char err[256], shown[16];

	clear_env();
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		setenv("PITWALL_LOG_LEVEL", ok[i].value, 1);
		T_CHECKF(load(&c, err, sizeof err) == 0 && c.log_level == ok[i].level, "%s: %s",
			 ok[i].value, err);
		config_value(&c, v, shown, sizeof shown);
		T_CHECKF(strcasecmp(shown, ok[i].value) == 0 && islower((unsigned char)shown[0]),
			 "%s shows %s", ok[i].value, shown);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		setenv("PITWALL_LOG_LEVEL", bad[i], 1);
		T_CHECKF(load(&c, err, sizeof err) == -EINVAL &&
				 strstr(err,
					"PITWALL_LOG_LEVEL must be one of debug|info|warn|error, "
					"got '") &&
				 strstr(err, bad[i]),
			 "'%s': %s", bad[i], err);
	}
	clear_env();
}

static void test_fallback_errors(void)
{
	struct config c;
	char err[256];

	clear_env();
	setenv("RUSTY_TELEMETRY_API_PORT", "abc", 1);
	T_CHECK(load(&c, err, sizeof err) == -EINVAL);
	T_CHECKF(strcmp(err, "RUSTY_TELEMETRY_API_PORT (read for PITWALL_API_PORT) must be "
			     "1..65535, got 'abc'") == 0,
		 "%s", err);
	setenv("PITWALL_API_PORT", "", 1); /* empty: unset, the fallback still counts */
	T_CHECK(load(&c, err, sizeof err) == -EINVAL && strstr(err, "RUSTY_TELEMETRY_API_PORT ("));
	setenv("PITWALL_API_PORT", "x", 1);
	T_CHECK(load(&c, err, sizeof err) == -EINVAL);
	T_CHECKF(strcmp(err, "PITWALL_API_PORT must be 1..65535, got 'x'") == 0, "%s", err);
	clear_env();
}

static void test_config_get(void)
{
	long long v = -7;

	clear_env();
	T_CHECK(config_get("PITWALL_LOG_LEVEL") == NULL);
	setenv("PITWALL_LOG_LEVEL", "warn", 1);
	T_CHECK(config_get("PITWALL_LOG_LEVEL") &&
		strcmp(config_get("PITWALL_LOG_LEVEL"), "warn") == 0);
	/* through the fallbacks, as config_load */
	setenv("RUSTY_TELEMETRY_BIND", "10.1.1.1", 1);
	T_CHECK(config_get("PITWALL_GAME_HOST") &&
		strcmp(config_get("PITWALL_GAME_HOST"), "10.1.1.1") == 0);
	/* only the table's variables */
	setenv("PW_TEST_NOT_IN_TABLE", "x", 1);
	T_CHECK(config_get("PW_TEST_NOT_IN_TABLE") == NULL);
	T_CHECK(config_get("RUSTY_TELEMETRY_BIND") == NULL);
	T_CHECK(config_get(NULL) == NULL);
	unsetenv("PW_TEST_NOT_IN_TABLE");
	/* integers: set and valid, unset, malformed or out of range, not an integer variable */
	setenv("PITWALL_RING_FRAMES", "100", 1);
	T_CHECK(config_get_int("PITWALL_RING_FRAMES", &v) == 1 && v == 100);
	v = -7;
	unsetenv("PITWALL_RING_FRAMES");
	T_CHECK(config_get_int("PITWALL_RING_FRAMES", &v) == 0 && v == -7);
	setenv("PITWALL_RING_FRAMES", "0", 1);
	T_CHECK(config_get_int("PITWALL_RING_FRAMES", &v) == -EINVAL && v == -7);
	setenv("PITWALL_RING_FRAMES", "100k", 1);
	T_CHECK(config_get_int("PITWALL_RING_FRAMES", &v) == -EINVAL && v == -7);
	setenv("PITWALL_DATA_DIR", "/x", 1);
	T_CHECK(config_get_int("PITWALL_DATA_DIR", &v) == 0 && v == -7);
	T_CHECK(config_get_int("PW_TEST_NOT_IN_TABLE", &v) == 0);
	clear_env();
}

static void test_values_shown(void)
{
	struct config c;
	char err[256], buf[64];
	const struct config_var *v;

	clear_env();
	setenv("PITWALL_FEEDS", "ksudp:9996, f1", 1);
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	v = config_var_find("PITWALL_FEEDS");
	T_CHECK(config_value(&c, v, buf, sizeof buf) == 13 && strcmp(buf, "ksudp:9996,f1") == 0);
	/* cut like snprintf, returning the length it needed */
	T_CHECK(config_value(&c, v, buf, 6) == 13 && strcmp(buf, "ksudp") == 0);
	T_CHECK(config_value(&c, config_var_find("PITWALL_RING_FRAMES"), buf, sizeof buf) == 4 &&
		strcmp(buf, "auto") == 0);
	T_CHECK(config_value(&c, config_var_find("PITWALL_API_TOKEN"), buf, sizeof buf) > 0 &&
		strcmp(buf, "unset") == 0);
	T_CHECK(config_value(&c, config_var_find("PITWALL_API_PORT"), buf, sizeof buf) == 4 &&
		strcmp(buf, "8080") == 0);
	T_CHECK(config_value(&c, config_var_find("PITWALL_LOG_LEVEL"), buf, sizeof buf) == 4 &&
		strcmp(buf, "info") == 0);
	setenv("PITWALL_API_TOKEN", "hunter2", 1);
	T_CHECK(load(&c, err, sizeof err) == 0);
	T_CHECK(config_value(&c, config_var_find("PITWALL_API_TOKEN"), buf, sizeof buf) > 0 &&
		strcmp(buf, "set") == 0);
	clear_env();
}

/* The new settings are in the config line, in the table's order, feeds last. */
static void test_config_log_settings(void)
{
	struct config c;
	char err[256], line[4096];
	const char *p = line;

	clear_env();
	log_init("cfgtest");
	setenv("PITWALL_WS_IDLE_MS", "3000", 1);
	T_CHECKF(load(&c, err, sizeof err) == 0, "%s", err);
	capture_stderr(config_log, &c, line, sizeof line);
	for (const struct config_var *v = config_vars(); v->names[0]; v++) {
		char want[256], value[128];

		if (!v->key)
			continue;
		config_value(&c, v, value, sizeof value);
		snprintf(want, sizeof want, " %s=%s", v->key, value);
		T_CHECKF((p = strstr(p, want)) != NULL, "%s missing or out of order: %s", want,
			 line);
		if (!p)
			break;
	}
	T_CHECKF(strstr(line, " ws_idle_ms=3000 ") && strstr(line, " cmd_timeout_ms=3000 ") &&
			 strstr(line,
				" log_level=info ring_frames=auto ring_raw_mb=auto rcvbuf_mb=32 "
				"feeds="),
		 "%s", line);
	clear_env();
}

static void test_markdown(void)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0, rows = 0;
	FILE *f = open_memstream(&text, &len);
	const struct config_var *v = config_vars();

	T_CHECK(f && config_markdown(f) == 0);
	fclose(f);
	line = strtok_r(text, "\n", &save);
	T_CHECK(line && strcmp(line, "| variable | meaning | accepted | default | read by |") == 0);
	line = strtok_r(NULL, "\n", &save);
	T_CHECK(line && strcmp(line, "|---|---|---|---|---|") == 0);
	while ((line = strtok_r(NULL, "\n", &save))) {
		char want[128];
		int bars = 0;

		for (const char *s = line; *s; s++)
			bars += *s == '|';
		T_CHECKF(bars == 6, "%d cells: %s", bars - 1, line);
		T_CHECKF(v->names[0] != NULL, "a row too many: %s", line);
		if (!v->names[0])
			break;
		snprintf(want, sizeof want, "| `%s`", v->names[0]);
		T_CHECKF(strncmp(line, want, strlen(want)) == 0, "%s: %s", want, line);
		T_CHECKF(strstr(line, v->meaning) != NULL, "%s", line);
		v++;
		rows++;
	}
	T_CHECKF(!v->names[0] && rows == 27, "%zu rows", rows);
	free(text);
	/* rows that say what is accepted and by whom */
	f = open_memstream(&text, &len);
	config_markdown(f);
	fclose(f);
	T_CHECKF(strstr(text, "| `PITWALL_GAME_HOST` (`RUSTY_TELEMETRY_GAME_HOST`, "
			      "`RUSTY_TELEMETRY_BIND`) | ") != NULL,
		 "%s", text);
	T_CHECKF(strstr(text, " | 1..65535 | `8080` | pw-api |\n") != NULL, "%s", text);
	T_CHECKF(strstr(text, " | `debug`, `info`, `warn`, `error` | `info` | every program |\n"),
		 "%s", text);
	T_CHECKF(strstr(text, " | `ipc://$PITWALL_RUN_DIR/cmd.sock` | pw-store, pw-api, pwctl |\n"),
		 "%s", text);
	T_CHECKF(strstr(text, " | 5 minutes at the feed's top rate | pw-capture, pw-replay |\n"),
		 "%s", text);
	free(text);
}

static void test_usage(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	size_t longest = 0;

	config_usage(f, CONFIG_CAPTURE);
	fclose(f);
	T_CHECKF(strstr(text, "\"Configuration\" table of README.md") != NULL, "%s", text);
	for (const struct config_var *v = config_vars(); v->names[0]; v++) {
		char word[64];
		snprintf(word, sizeof word, " %s", v->names[0]);
		/* " PITWALL_BUS" is also the start of " PITWALL_BUS_IN": match whole words */
		for (const char *p = text; (p = strstr(p, word)); p++)
			if (p[strlen(word)] == ' ' || p[strlen(word)] == '\n') {
				T_CHECKF(v->progs & CONFIG_CAPTURE, "%s is not read by pw-capture",
					 v->names[0]);
				goto next;
			}
		T_CHECKF(!(v->progs & CONFIG_CAPTURE), "%s missing: %s", v->names[0], text);
next:;
	}
	for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1)
		longest = (size_t)(nl - line) > longest ? (size_t)(nl - line) : longest;
	T_CHECKF(longest <= 80, "a line of %zu columns", longest);
	free(text);
}

int main(void)
{
	T_RUN(test_defaults);
	T_RUN(test_pitwall_overrides);
	T_RUN(test_rusty_fallbacks);
	T_RUN(test_parse_feeds);
	T_RUN(test_bad_instance);
	T_RUN(test_bad_api_port);
	T_RUN(test_long_values_cut);
	T_RUN(test_config_env);
	T_RUN(test_config_log);
	T_RUN(test_table);
	T_RUN(test_defaults_of_settings);
	T_RUN(test_int_ranges);
	T_RUN(test_settings);
	T_RUN(test_log_level);
	T_RUN(test_fallback_errors);
	T_RUN(test_config_get);
	T_RUN(test_values_shown);
	T_RUN(test_config_log_settings);
	T_RUN(test_markdown);
	T_RUN(test_usage);
	return T_DONE();
}
