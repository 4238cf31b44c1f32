/*
 * daemon.h - the skeleton every pitwall program's main() follows (STYLE.md,
 * "Processes"): parse flags, init logging, load and print the configuration,
 * install the signal flags, acquire resources step by step, loop, tear down.
 *
 *     static const struct daemon_step steps[] = {
 *             { "command endpoint", router_open, router_close },
 *             { "bus", bus_up, bus_down },
 *     };
 *     struct daemon d = { .prog = "pw-store", .component = "store",
 *                         .usage = usage_text, .progs = CONFIG_STORE };
 *
 *     if ((rc = daemon_start(&d, argc, argv, &cfg)) != DAEMON_RUN)
 *             return rc;                       (0 after --help, 2: bad usage/config)
 *     if (daemon_setup(&d, steps, N, &st) < 0)
 *             return 1;                        (what was set up is undone)
 *     while (!daemon_stopping())
 *             ...;
 *     daemon_teardown(&d);                     (every fini, in reverse order)
 *
 * Setup is a table of init/fini pairs: when a step fails, the steps before it
 * are undone in reverse order and the process can exit at once (pw-store used
 * to hang in zmq_ctx_term on sockets a failed setup left open). A step's fini
 * also runs when its own init failed, so fini must accept whatever a failed
 * init left behind (closing NULL or never-opened things is a no-op).
 *
 * The signal handlers only set a flag: SIGINT and SIGTERM request a stop,
 * SIGPIPE is ignored. Handlers are installed without SA_RESTART, so a blocking
 * call returns EINTR and the loop sees the flag. One daemon per process; the
 * stop flag is process-wide.
 */
#ifndef PW_DAEMON_H
#define PW_DAEMON_H

#include <stddef.h>
#include <stdio.h>

#include "common/config.h"

#define DAEMON_RUN (-1) /* daemon_start: go on (any other value is an exit status) */

/* One setup step. init (may be NULL) returns 0, or after logging what went
 * wrong a negative value (a negative errno where it has one); fini (may be
 * NULL) undoes it and accepts a failed init's leftovers. */
struct daemon_step {
	const char *what; /* names the step in the setup error line */
	int (*init)(void *arg);
	void (*fini)(void *arg);
};

struct daemon {
	const char *prog;      /* "pw-store": --help and error lines */
	const char *component; /* the log component: "store" */
	const char *usage;     /* the --help text */
	unsigned progs;        /* its enum config_prog bit: which variables --help lists */
	/* set by daemon_setup */
	const struct daemon_step *steps;
	size_t done; /* steps whose fini is still owed */
	void *arg;
};

/* Start a program whose only option is --help: log_init(component), --help
 * (usage on stdout), any other argument (usage on stderr), then the
 * configuration loaded into *cfg and logged. Returns DAEMON_RUN, or the exit
 * status: 0 after --help, 2 for a bad argument or a bad configuration (the
 * error names the variable and what it accepts). */
int daemon_start(struct daemon *d, int argc, char **argv, struct config *cfg);
/* For programs with their own flags: log_init(component) only. */
void daemon_init(struct daemon *d);
/* Load the configuration into *cfg (not logged: config_log does that);
 * 0, or -EINVAL after logging the error (the caller exits 2). */
int daemon_config(struct config *cfg);
/* The usage text, then where the configuration is documented and which
 * variables this program reads. */
void daemon_usage(const struct daemon *d, FILE *out);

/* Install the signal flags, then run the steps' init in order with arg.
 * When one fails: log it, undo it and the steps before it (fini in reverse
 * order) and return its error. steps (borrowed) must outlive the daemon. */
int daemon_setup(struct daemon *d, const struct daemon_step *steps, size_t n, void *arg);
/* Run the fini of every step set up, in reverse order; then nothing is owed. */
void daemon_teardown(struct daemon *d);

/* SIGINT/SIGTERM set the stop flag, SIGPIPE is ignored (daemon_setup does it;
 * programs without setup steps call it themselves). */
void daemon_signals(void);
/* 1 once a stop was requested. */
int daemon_stopping(void);
/* Request a stop, as a signal would. */
void daemon_request_stop(void);

#endif
