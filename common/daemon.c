/* daemon.c - see daemon.h */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "common/daemon.h"
#include "common/log.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void daemon_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int daemon_stopping(void)
{
	return stop_requested != 0;
}

void daemon_request_stop(void)
{
	stop_requested = 1;
}

void daemon_init(struct daemon *d)
{
	log_init(d->component);
}

void daemon_usage(const struct daemon *d, FILE *out)
{
	fputs(d->usage, out);
	if (d->progs)
		config_usage(out, d->progs);
}

int daemon_config(struct config *cfg)
{
	char err[256];

	if (config_load(cfg, err, sizeof err) < 0) {
		log_error("msg=\"bad configuration\" error=\"%s\"", err);
		return -EINVAL;
	}
	return 0;
}

int daemon_start(struct daemon *d, int argc, char **argv, struct config *cfg)
{
	daemon_init(d);
	if (argc > 1) {
		int help = strcmp(argv[1], "--help") == 0;

		daemon_usage(d, help ? stdout : stderr);
		return help ? 0 : 2;
	}
	if (daemon_config(cfg) < 0)
		return 2;
	config_log(cfg);
	return DAEMON_RUN;
}

int daemon_setup(struct daemon *d, const struct daemon_step *steps, size_t n, void *arg)
{
	daemon_signals();
	d->steps = steps;
	d->arg = arg;
	d->done = 0;
	for (size_t i = 0; i < n; i++) {
		int rc = steps[i].init ? steps[i].init(arg) : 0;

		d->done = i + 1; /* a failed init's leftovers are undone too */
		if (rc < 0) {
			log_error("msg=\"setup failed, undoing what was set up\" step=\"%s\"",
				  steps[i].what);
			daemon_teardown(d);
			return rc;
		}
	}
	return 0;
}

void daemon_teardown(struct daemon *d)
{
	while (d->done > 0) {
		const struct daemon_step *s = &d->steps[--d->done];

		if (s->fini)
			s->fini(d->arg);
	}
}
