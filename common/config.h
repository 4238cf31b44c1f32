/*
 * config.h - the stack's configuration, from environment variables (DESIGN §7).
 *
 * Every process calls config_load() once at start and config_log() to print
 * the effective values. PITWALL_* names win; the seed's RUSTY_TELEMETRY_*
 * names are honoured as fallbacks (RUSTY_TELEMETRY_BIND for both the game
 * host and the listen address). Plain data, no allocation.
 */
#ifndef PW_CONFIG_H
#define PW_CONFIG_H

#include <stdint.h>

#include "common/ids.h"

#define CONFIG_MAX_FEEDS 16
#define CONFIG_STR 256

struct config_feed {
	char name[IDS_FEED_MAX + 1];
	uint16_t port;             /* 0 = the feed's default port */
};

struct config {
	char instance[48];
	char data_dir[CONFIG_STR];
	char run_dir[CONFIG_STR];  /* ipc sockets: PITWALL_RUN_DIR, default /tmp/pitwall-<instance> */
	char game_host[64];
	char listen[64];
	char api_host[64];
	uint16_t api_port;
	char api_token[CONFIG_STR];
	char bus[CONFIG_STR];      /* subscribers connect here (the proxy's XPUB) */
	char bus_in[CONFIG_STR];   /* publishers connect here (the proxy's XSUB) */
	char cmd[CONFIG_STR];
	char jobs[CONFIG_STR];
	char results[CONFIG_STR];
	int nfeeds;
	struct config_feed feeds[CONFIG_MAX_FEEDS];
};

/* Fill *c from the environment; returns 0, or -EINVAL with a message in err
 * (e.g. a malformed PITWALL_FEEDS or an invalid instance name). */
int config_load(struct config *c, char *err, size_t errcap);
/* Log the effective configuration as one key=value line (token masked). */
void config_log(const struct config *c);
/* Parse "name[:port],name[:port]" into c->feeds; -EINVAL on a bad entry. */
int config_parse_feeds(struct config *c, const char *list, char *err, size_t errcap);
/* The first variable of names[] (NULL-terminated) that is set and non-empty. */
const char *config_env(const char *const names[]);

#endif
