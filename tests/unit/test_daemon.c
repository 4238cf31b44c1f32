/* test_daemon.c - self-test of the process skeleton (common/daemon.h). */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/log.h"
#include "tests/unit/t.h"

/* ---- a fake process: steps that record what ran ---- */

struct fake {
	char trace[256];     /* "+a +b -b -a": inits and finis, in order */
	const char *fail_at; /* the step whose init fails */
	int fail_rc;
};

static void note(struct fake *f, char sign, const char *step)
{
	size_t n = strlen(f->trace);

	snprintf(f->trace + n, sizeof f->trace - n, "%s%c%s", n ? " " : "", sign, step);
}

static int init_step(struct fake *f, const char *name)
{
	note(f, '+', name);
	return f->fail_at && strcmp(f->fail_at, name) == 0 ? f->fail_rc : 0;
}

static int init_a(void *arg)
{
	return init_step(arg, "a");
}

static int init_b(void *arg)
{
	return init_step(arg, "b");
}

static int init_c(void *arg)
{
	return init_step(arg, "c");
}

static int init_d(void *arg)
{
	return init_step(arg, "d");
}

static void fini_a(void *arg)
{
	note(arg, '-', "a");
}

static void fini_b(void *arg)
{
	note(arg, '-', "b");
}

static void fini_d(void *arg)
{
	note(arg, '-', "d");
}

/* c has nothing to undo, the unnamed one nothing to set up */
static const struct daemon_step steps[] = {
	{ "a", init_a, fini_a },     { "b", init_b, fini_b }, { "c", init_c, NULL },
	{ "no init", NULL, fini_d }, { "d", init_d, fini_d },
};
#define NSTEPS (sizeof steps / sizeof *steps)

/* Run fn with the file descriptor fd (1 or 2) going to a file; returns what
 * was written (malloc'd, caller frees). */
static char *capture_fd(int fd, int (*fn)(void *), void *arg, int *rc)
{
	FILE *tmp = tmpfile();
	int saved = dup(fd);
	off_t n;
	char *text = NULL;

	fflush(stdout);
	fflush(stderr);
	dup2(fileno(tmp), fd);
	*rc = fn(arg);
	fflush(stdout);
	fflush(stderr);
	dup2(saved, fd);
	close(saved);
	n = lseek(fileno(tmp), 0, SEEK_END);
	if (n >= 0 && (text = calloc(1, (size_t)n + 1)) &&
	    pread(fileno(tmp), text, (size_t)n, 0) != (ssize_t)n)
		text[0] = 0;
	fclose(tmp);
	return text;
}

static void test_setup_and_teardown(void)
{
	struct fake f = { .fail_at = NULL };
	struct daemon d = { .prog = "pw-test", .component = "daemontest" };

	T_CHECK(daemon_setup(&d, steps, NSTEPS, &f) == 0);
	T_CHECKF(strcmp(f.trace, "+a +b +c +d") == 0, "%s", f.trace);
	T_CHECK(d.done == NSTEPS);
	f.trace[0] = 0;
	daemon_teardown(&d);
	T_CHECKF(strcmp(f.trace, "-d -d -b -a") == 0, "%s", f.trace);
	T_CHECK(d.done == 0);
	/* nothing is owed any more: a second teardown does nothing */
	f.trace[0] = 0;
	daemon_teardown(&d);
	T_CHECK(f.trace[0] == 0);
	/* no steps at all */
	T_CHECK(daemon_setup(&d, steps, 0, &f) == 0 && d.done == 0);
	daemon_teardown(&d);
	T_CHECK(f.trace[0] == 0);
}

static int setup_failing(void *arg)
{
	static struct daemon d = { .prog = "pw-test", .component = "daemontest" };

	return daemon_setup(&d, steps, NSTEPS, arg);
}

static void test_failed_step_unwinds(void)
{
	static const struct {
		const char *fail_at, *trace;
	} cases[] = {
		/* the failing step's own fini runs too: it accepts a failed init's leftovers */
		{ "a", "+a -a" },
		{ "b", "+a +b -b -a" },
		{ "c", "+a +b +c -b -a" },
		{ "d", "+a +b +c +d -d -d -b -a" },
	};

	log_init("daemontest");
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct fake f = { .fail_at = cases[i].fail_at, .fail_rc = -EADDRINUSE };
		char *log, want[128];
		int rc;

		log = capture_fd(2, setup_failing, &f, &rc);
		T_CHECKF(rc == -EADDRINUSE, "fail at %s: rc %d", cases[i].fail_at, rc);
		T_CHECKF(strcmp(f.trace, cases[i].trace) == 0, "fail at %s: %s", cases[i].fail_at,
			 f.trace);
		snprintf(want, sizeof want,
			 " error daemontest msg=\"setup failed, undoing what was set up\" "
			 "step=\"%s\"\n",
			 cases[i].fail_at);
		T_CHECKF(log && strstr(log, want), "fail at %s: log '%s'", cases[i].fail_at,
			 log ? log : "");
		free(log);
	}
}

/* ---- daemon_start: --help, bad arguments, configuration ---- */

struct start_args {
	int argc;
	char **argv;
	struct config cfg;
};

static int start(void *arg)
{
	struct start_args *a = arg;
	struct daemon d = { .prog = "pw-test",
			    .component = "daemontest",
			    .usage = "usage: pw-test [--help]\n",
			    .progs = CONFIG_ANALYZE };

	return daemon_start(&d, a->argc, a->argv, &a->cfg);
}

static void test_start(void)
{
	char *help[] = { "pw-test", "--help", NULL }, *bogus[] = { "pw-test", "--bogus", NULL };
	char *none[] = { "pw-test", NULL };
	struct start_args a = { 2, help };
	char *out;
	int rc;

	unsetenv("PITWALL_LOG_LEVEL");
	unsetenv("PITWALL_JOBS");
	/* --help: usage and where the configuration is documented, on stdout, exit 0 */
	out = capture_fd(1, start, &a, &rc);
	T_CHECKF(rc == 0, "rc %d", rc);
	T_CHECKF(out && strncmp(out, "usage: pw-test [--help]\n\nConfiguration: ",
				strlen("usage: pw-test [--help]\n\nConfiguration: ")) == 0,
		 "%s", out ? out : "");
	T_CHECKF(out && strstr(out, "\"Configuration\" table of README.md"), "%s", out ? out : "");
	/* the variables pw-analyze reads (the data dir: it reads runs' files there), and only
	 * those */
	T_CHECKF(out && strstr(out, " PITWALL_JOBS") && strstr(out, " PITWALL_RESULTS") &&
			 strstr(out, " PITWALL_LOG_LEVEL") && strstr(out, " PITWALL_DATA_DIR") &&
			 !strstr(out, "PITWALL_API_PORT") && !strstr(out, "PITWALL_BUS_IN"),
		 "%s", out ? out : "");
	free(out);
	/* anything else: usage on stderr, exit 2 */
	a = (struct start_args){ 2, bogus };
	out = capture_fd(2, start, &a, &rc);
	T_CHECKF(rc == 2 && out && strncmp(out, "usage: pw-test", 14) == 0, "rc %d: %s", rc,
		 out ? out : "");
	free(out);
	/* a malformed variable: exit 2, the error names it */
	setenv("PITWALL_JOBS", "", 1);
	setenv("PITWALL_LOG_LEVEL", "chatty", 1);
	a = (struct start_args){ 1, none };
	out = capture_fd(2, start, &a, &rc);
	T_CHECKF(rc == 2, "rc %d", rc);
	T_CHECKF(out && strstr(out, " error daemontest msg=\"bad configuration\" "
				    "error=\"PITWALL_LOG_LEVEL must be one of "
				    "debug|info|warn|error, got 'chatty'\"\n"),
		 "%s", out ? out : "");
	free(out);
	/* a good one: loaded, logged, go on */
	setenv("PITWALL_LOG_LEVEL", "info", 1);
	setenv("PITWALL_JOBS", "tcp://127.0.0.1:9", 1);
	out = capture_fd(2, start, &a, &rc);
	T_CHECKF(rc == DAEMON_RUN, "rc %d", rc);
	T_CHECK(strcmp(a.cfg.jobs, "tcp://127.0.0.1:9") == 0);
	T_CHECKF(out && strstr(out, " info daemontest msg=config instance=") &&
			 strstr(out, " jobs=tcp://127.0.0.1:9 "),
		 "%s", out ? out : "");
	free(out);
	unsetenv("PITWALL_LOG_LEVEL");
	unsetenv("PITWALL_JOBS");
}

static int usage_to_stdout(void *arg)
{
	daemon_usage(arg, stdout);
	return 0;
}

static void test_usage_without_configuration(void)
{
	struct daemon d = { .prog = "pw-tool", .usage = "usage: pw-tool\n" };
	char *out;
	int rc;

	out = capture_fd(1, usage_to_stdout, &d, &rc);
	T_CHECKF(out && strcmp(out, "usage: pw-tool\n") == 0, "%s", out ? out : "");
	free(out);
}

static int config_only(void *arg)
{
	return daemon_config(arg);
}

static void test_config(void)
{
	struct config c;
	char *out;
	int rc;

	setenv("PITWALL_API_PORT", "0", 1);
	out = capture_fd(2, config_only, &c, &rc);
	T_CHECK(rc == -EINVAL);
	T_CHECKF(out && strstr(out, "PITWALL_API_PORT must be 1..65535, got '0'"), "%s",
		 out ? out : "");
	free(out);
	unsetenv("PITWALL_API_PORT");
	out = capture_fd(2, config_only, &c, &rc);
	T_CHECK(rc == 0 && c.api_port == 8080);
	T_CHECKF(out && out[0] == 0, "daemon_config logs nothing when it loads: %s",
		 out ? out : "");
	free(out);
}

/* ---- signal flags: last, the stop flag cannot be taken back ---- */

static void test_signals(void)
{
	struct fake f = { .fail_at = NULL };
	struct daemon d = { .prog = "pw-test", .component = "daemontest" };

	T_CHECK(daemon_stopping() == 0);
	T_CHECK(daemon_setup(&d, steps, 1, &f) == 0); /* installs the handlers */
	raise(SIGPIPE);                               /* ignored */
	T_CHECK(daemon_stopping() == 0);
	raise(SIGTERM); /* sets the flag, does not kill */
	T_CHECK(daemon_stopping() == 1);
	daemon_teardown(&d);
	T_CHECKF(strcmp(f.trace, "+a -a") == 0, "%s", f.trace);
	raise(SIGINT);
	T_CHECK(daemon_stopping() == 1);
	daemon_request_stop();
	T_CHECK(daemon_stopping() == 1);
}

int main(void)
{
	T_RUN(test_setup_and_teardown);
	T_RUN(test_failed_step_unwinds);
	T_RUN(test_start);
	T_RUN(test_usage_without_configuration);
	T_RUN(test_config);
	T_RUN(test_signals);
	return T_DONE();
}
