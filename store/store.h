/*
 * store.h - pw-store's private header: the hub process (DESIGN §1, §4, §5).
 *
 * store.c     main, options, the event loop
 * bus.c       the XSUB/XPUB bus proxy (a thread) and the store's own publisher
 * cmd.c       the ROUTER command channel: envelope, dispatch, handlers
 * sessions.c  sessions and runs: the model, its JSON, durable metadata files
 *
 * The store is the only writer of the data dir. Everything runs in the main
 * thread except the bus proxy, which only forwards messages.
 */
#ifndef PW_STORE_H
#define PW_STORE_H

#include <jansson.h>
#include <stdint.h>

#include "common/config.h"
#include "common/ids.h"

#define STORE_MAX_SESSIONS 100000
#define STORE_MAX_RUNS 256            /* per session */
#define STORE_LABEL_MAX 256

enum use_case { UC_SHIFT_POINTS = 0, UC_CAR_GRIP, UC_TRACK_MAPPING, UC_GENERAL, UC_COUNT };

struct run {
	char id[ID_LEN + 1];
	char label[STORE_LABEL_MAX];
	char feed[32];
	json_t *merge_feeds;           /* array of feed names (owned) */
	int recording;                 /* status: recording | stopped */
	uint64_t start_marker;
	int64_t end_marker;            /* -1 = null while recording */
	uint64_t frame_count;
	int data_truncated;
	uint64_t frames_lost;
	int64_t started_ns, stopped_ns;
};

struct session {
	char id[ID_LEN + 1];
	enum use_case use_case;
	char label[STORE_LABEL_MAX];
	int completed;
	int64_t created_ns, completed_ns;
	char recording_id[ID_LEN + 1]; /* "" = null */
	char car_name[64];             /* "" = null */
	json_t *analysis;              /* owned; NULL = null */
	int nruns;
	struct run runs[STORE_MAX_RUNS];
};

struct store {
	struct config cfg;
	void *zctx;
	void *router;                  /* commands */
	void *pub;                     /* our publisher into the bus */
	char sessions_dir[4096];
	struct session **sessions;     /* index by position; NULL holes compacted */
	int nsessions, cap_sessions;
	uint64_t cmds, cmd_errors;
};

/* bus.c */
/* Start the proxy thread: XSUB bound at in_ep (publishers connect), XPUB at
 * out_ep (subscribers connect); the store's own PUB connects inproc. */
int bus_start(struct store *st, const char *in_ep, const char *out_ep);
void bus_stop(struct store *st);
/* Publish topic + JSON payload (stolen). Never blocks (drops when full). */
void bus_publish(struct store *st, const char *topic, json_t *payload);

/* cmd.c */
/* Handle every request queued on the ROUTER socket; returns how many. */
int cmd_drain(struct store *st);

/* sessions.c */
const char *use_case_name(enum use_case uc);
const char *use_case_guidance(enum use_case uc);
int use_case_parse(const char *name);  /* -1 when unknown */
/* Load every sessions/<id>.json; corrupt ones are logged and skipped. */
int sessions_load(struct store *st);
struct session *session_find(struct store *st, const char *id);
struct session *session_new(struct store *st, enum use_case uc, const char *label);
/* Durably write the session's metadata file (atomic replace). */
int session_save(struct store *st, struct session *s);
/* Remove the session's files and drop it from memory. */
int session_delete(struct store *st, struct session *s);
json_t *session_json(const struct session *s);
json_t *run_json(const struct run *r);
struct run *run_find(struct session *s, const char *id);

#endif
