/*
 * config.h - the stack's configuration: one table of environment variables
 * (docs/architecture.md §7), the only place any pitwall program reads the environment.
 *
 * The table in config.c lists every variable once: its name and the seed's
 * fallback names, the default, the accepted values, what it means and which
 * programs read it. From it:
 *   config_load()      fills struct config; a malformed value is refused with
 *                      an error naming the variable and what it accepts;
 *   config_log()       prints the effective configuration (every process at start);
 *   config_markdown()  prints the README's configuration table (`pwctl config
 *                      --markdown`; tests/integration/test_config.sh checks that
 *                      the README holds exactly that table);
 *   config_get*()      one variable, for library defaults that have no struct
 *                      config at hand (the log level, the ring sizes).
 *
 * PITWALL_* names win; the seed's RUSTY_TELEMETRY_* names are honoured as
 * fallbacks (RUSTY_TELEMETRY_BIND for both the game host and the listen
 * address). A variable set to the empty string counts as unset. Text values
 * longer than their field are cut, never overflowed. Plain data, no
 * allocation; the table is constant, everything here is thread-safe as long
 * as nobody changes the environment meanwhile.
 */
#ifndef PW_CONFIG_H
#define PW_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/ids.h"

#define CONFIG_MAX_FEEDS 16
#define CONFIG_STR 256
#define CONFIG_MAX_NAMES 4 /* a variable's name and its fallbacks */

struct config_feed {
	char name[IDS_FEED_MAX + 1];
	uint16_t port; /* 0 = the feed's default port */
};

struct config {
	char instance[48];
	char data_dir[CONFIG_STR];
	char run_dir[CONFIG_STR]; /* ipc sockets */
	char game_host[64];
	char listen[64];
	char api_host[64];
	uint16_t api_port;
	char api_token[CONFIG_STR];
	char www_dir[CONFIG_STR]; /* the dashboard's files; "" = beside the binary */
	char bus[CONFIG_STR];     /* subscribers connect here (the proxy's XPUB) */
	char bus_in[CONFIG_STR];  /* publishers connect here (the proxy's XSUB) */
	char cmd[CONFIG_STR];
	int64_t cmd_timeout_ms; /* pw-api and pwctl waiting for the store */
	char jobs[CONFIG_STR];
	char results[CONFIG_STR];
	int64_t job_deadline_ms; /* a job without a result by then is sent again */
	int32_t live_cooldown_s; /* per-lap recommendations: per category and run */
	int32_t bus_frames;      /* 1: the store publishes frame.<feed> */
	int64_t ws_idle_ms;
	int32_t ws_max_clients;
	int64_t ws_session_gap_ms;
	uint16_t ws_port;    /* the seed-004 stream's own port, 0 = none */
	int32_t log_level;   /* enum log_level (common/log.h) */
	int64_t ring_frames; /* 0 = 5 minutes at the feed's top rate */
	int64_t ring_raw_mb; /* 0 = 5 minutes of the feed's traffic */
	int64_t rcvbuf_mb;   /* pw-capture's UDP receive buffer, MiB */
	int nfeeds;
	struct config_feed feeds[CONFIG_MAX_FEEDS];
};

/* The programs, for "who reads this variable". */
enum config_prog {
	CONFIG_CAPTURE = 1u << 0,
	CONFIG_STORE = 1u << 1,
	CONFIG_ANALYZE = 1u << 2,
	CONFIG_API = 1u << 3,
	CONFIG_PWCTL = 1u << 4,
	CONFIG_SIM = 1u << 5,
	CONFIG_REPLAY = 1u << 6,
	CONFIG_PROG_COUNT = 7
};

enum config_type {
	CONFIG_TEXT,   /* any text, cut to the field */
	CONFIG_SECRET, /* text that is never printed (logged as set/unset) */
	CONFIG_NAME,   /* min..max characters of [A-Za-z0-9_-] */
	CONFIG_INT,    /* a decimal integer in min..max */
	CONFIG_ENUM,   /* one of choices (any case), stored as its index */
	CONFIG_FEEDS,  /* "name[:port],..." into feeds[] */
};

/* One variable of the table. */
struct config_var {
	/* PITWALL_* first, then the fallbacks; NULL-terminated */
	const char *names[CONFIG_MAX_NAMES + 1];
	enum config_type type;
	const char *def;     /* default as text; "$PITWALL_RUN_DIR" expands an earlier
				      variable's value; NULL: unset (INT: 0, "auto") */
	const char *def_doc; /* the docs' words for a NULL default */
	long long min, max;  /* INT: the range; NAME: the length */
	const char *choices; /* ENUM: "a|b|c" */
	const char *values;  /* TEXT, SECRET, FEEDS: what is accepted, for the docs */
	const char *key;     /* config_log key; NULL: joined to the previous one by ':' */
	size_t off, size;    /* the field in struct config */
	unsigned progs;      /* enum config_prog bits: who reads it */
	const char *meaning;
};

/* Fill *c from the environment; 0, or -EINVAL with a message in err naming the
 * variable and the values it accepts (the caller exits 2). */
int config_load(struct config *c, char *err, size_t errcap);
/* Log the effective configuration as one key=value line (the token masked). */
void config_log(const struct config *c);
/* Parse "name[:port],name[:port]" into c->feeds; -EINVAL on a bad entry. */
int config_parse_feeds(struct config *c, const char *list, char *err, size_t errcap);

/* The table, terminated by an entry whose names[0] is NULL. */
const struct config_var *config_vars(void);
/* The table entry of a PITWALL_* name, or NULL. */
const struct config_var *config_var_find(const char *name);
/* v's effective value in c as text (what config_log prints, a secret as
 * set/unset); returns the length it needed, as snprintf. */
int config_value(const struct config *c, const struct config_var *v, char *buf, size_t cap);
/* "pw-store" for CONFIG_STORE. */
const char *config_prog_name(enum config_prog p);
/* Print the README's configuration table (markdown) to out; 0 or -EIO. */
int config_markdown(FILE *out);
/* The end of a --help text: where the configuration is documented, and the
 * variables the programs in progs (enum config_prog bits) read. */
void config_usage(FILE *out, unsigned progs);

/* One table variable straight from the environment: its first name that is
 * set and non-empty, or NULL (also for a name not in the table). */
const char *config_get(const char *name);
/* An INT variable: 1 with *out when set and valid, 0 when unset, -EINVAL when
 * malformed or out of its range. */
int config_get_int(const char *name, long long *out);
/* The first variable of names[] (NULL-terminated) that is set and non-empty. */
const char *config_env(const char *const names[]);

#endif
