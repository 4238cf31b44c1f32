/* test_config.c - self-test of the environment configuration (common/config.h). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "tests/unit/t.h"

static const char *const all_vars[] = {
	"PITWALL_INSTANCE", "PITWALL_DATA_DIR", "PITWALL_RUN_DIR", "PITWALL_GAME_HOST",
	"RUSTY_TELEMETRY_GAME_HOST", "RUSTY_TELEMETRY_BIND", "PITWALL_LISTEN",
	"RUSTY_TELEMETRY_LISTEN", "PITWALL_API_HOST", "RUSTY_TELEMETRY_API_HOST",
	"PITWALL_API_PORT", "RUSTY_TELEMETRY_API_PORT", "PITWALL_API_TOKEN", "PITWALL_BUS",
	"PITWALL_BUS_IN",
	"PITWALL_CMD", "PITWALL_JOBS", "PITWALL_RESULTS", "PITWALL_FEEDS", "PITWALL_LOG_LEVEL",
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
		"acc:0", "acc:65536", "acc:abc", "acc:", "acc:12x", "acc:-1", "acc:1:2",
		"acc:99999999999999999999", ":9000", "a/b", "../x", "ks udp", "name!", "a.b",
		"ksudp,f1:0", "f\xc3\xa9", "ksudp,pcars:70000,acc",
	};

	memset(&c, 0, sizeof c);
	T_CHECKF(parse(&c, "ksudp:9996,pcars:5606,acc:9000,forza:5300,f1:20777", err, sizeof err) == 0,
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
		T_CHECKF(rc == -EINVAL && strstr(err, "PITWALL_FEEDS"), "'%s': rc %d err '%s'", bad[i],
			 rc, err);
	}
	parse(&c, "acc:65536", err, sizeof err);
	T_CHECKF(strstr(err, "65536") != NULL, "%s", err);
	parse(&c, "ks udp", err, sizeof err);
	T_CHECKF(strstr(err, "'ks udp'") != NULL, "%s", err);
	/* whitespace around entries, names and ports; empty entries skipped */
	T_CHECKF(parse(&c, " ksudp , \tpcars:5606\t,, acc : 9001 ,", err, sizeof err) == 0, "%s", err);
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
		snprintf(list + strlen(list), sizeof list - strlen(list), "%sfeed%d:%d", i ? "," : "",
			 i, 6000 + i);
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
		"../x", "a/b", "a b", "a.b", ".", "..", "x\n", "\xc3\xa9t\xc3\xa9",
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
	static const char *const bad[] = { "0", "65536", "abc", "-1", "8080abc", "80 80", "1e3",
					   "99999999999999999999" };
	struct config c;
	char err[256];

	clear_env();
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		setenv("PITWALL_API_PORT", bad[i], 1);
		T_CHECKF(load(&c, err, sizeof err) == -EINVAL && strstr(err, "PITWALL_API_PORT") &&
			 strstr(err, bad[i]), "'%s': %s", bad[i], err);
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
	T_CHECKF(strstr(line, "Z info cfgtest msg=config instance=default data_dir=./data "
			      "run_dir=/tmp/pitwall-default game_host=127.0.0.1 listen=0.0.0.0 "
			      "api=127.0.0.1:8080 api_token=unset bus=tcp://127.0.0.1:7700 ") != NULL,
		 "%s", line);
	T_CHECKF(strstr(line, " cmd=ipc:///tmp/pitwall-default/cmd.sock ") != NULL, "%s", line);
	T_CHECKF(strstr(line, " jobs=ipc:///tmp/pitwall-default/jobs.sock ") != NULL, "%s", line);
	T_CHECKF(strstr(line, " results=ipc:///tmp/pitwall-default/results.sock ") != NULL, "%s", line);
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
	return T_DONE();
}
