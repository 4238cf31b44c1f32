/*
 * store.h - pw-store's private header: the hub process (docs/architecture.md §1, §4, §5).
 *
 * store.c     main, options, the event loop
 * loop.c      what wakes the loop: frames published, commands and results, housekeeping
 * bus.c       the bus: the XPUB subscribers connect to, the XSUB of other publishers
 * cmd.c       the ROUTER command channel: envelope, dispatch, handlers
 * sessions.c  sessions and runs: the model, its JSON, durable metadata files
 * sindex.c    the session index: start-up without parsing every session file
 * feeds.c     attaches to every feed's segment; feed.* status, frame.* and lap.*
 * runs.c      run commands; drains recording runs into frame files, resumes them
 * recordings.c  raw-packet recordings into pcap files, their commands
 * jobs.c      analysis jobs out (PUSH) and results in (PULL): session analyses, track
 *             builds, per-lap jobs
 * engineer.c  recommendations: session.recommendations, per-lap jobs while recording
 * tracks.c    track models: track.build sends a job and answers with its result
 * cars.c      car characteristics, a query over the stored shift_points analyses
 * manifests.c derived-channel manifests (common/manifest.h): their commands and files
 *
 * The store is the only writer of the data dir. Everything runs in the main
 * thread except loop.c's socket watcher, which only polls descriptors.
 */
#ifndef PW_STORE_H
#define PW_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/ids.h"
#include "common/seg.h"
#include "common/storestat.h"
#include "common/topics.h"

#define STORE_MAX_SESSIONS 100000
#define STORE_MAX_RUNS 256 /* per session */
#define STORE_LABEL_MAX 256
#define STORE_MAX_TRACK_BUILDS 16 /* waiting for a worker, each holding two runs' frames */

enum use_case { UC_SHIFT_POINTS = 0, UC_CAR_GRIP, UC_TRACK_MAPPING, UC_GENERAL, UC_COUNT };

struct run {
	char id[ID_LEN + 1];
	char label[STORE_LABEL_MAX];
	char feed[IDS_FEED_MAX + 1];
	json_t *merge_feeds; /* array of feed names (owned) */
	int recording;       /* status: recording | stopped */
	uint64_t start_marker;
	int64_t end_marker; /* -1 = null while recording */
	uint64_t frame_count;
	int data_truncated;
	uint64_t frames_lost;
	int64_t started_ns, stopped_ns;
	char stop_reason
		[64]; /* "" | "stopped" | "disk_full" | "io_error" | "ring_lapped_while_down" */
	/* from the feed's metadata while recording ("" = unknown) */
	char game[IDS_GAME_MAX + 1], track[META_STR], driver[META_STR];
	json_t *laps; /* array of lap objects (owned); NULL until the details */
	/* from the session index while the details are not loaded (sindex.c) */
	uint32_t lap_count;
	int32_t best_lap_ms; /* the fastest valid lap's time_ms, 0 = none */
};

/* What a session's analysis is, kept in the session index. */
enum analysis_state { AS_NONE = 0, AS_PENDING, AS_FAILED, AS_RESULT };

/* A metadata file as stat(2) last saw it: the index trusts an entry only
 * while the file is still exactly this. */
struct file_id {
	uint64_t ino, size;
	int64_t mtime_ns;
};

struct session {
	char id[ID_LEN + 1];
	enum use_case use_case;
	char label[STORE_LABEL_MAX];
	int completed;
	int64_t created_ns, completed_ns;
	char recording_id[ID_LEN + 1]; /* "" = null; the recording that was active when the
	                                  session was created or first recorded a run */
	char car_name[META_STR];       /* "" = null */
	/*
	 * Details: the analysis and every run's laps. A session from the index
	 * starts without them (details 0: analysis NULL, laps NULL, its
	 * summary below exact) and gets them from its file on first use
	 * (session_details; session_find does it). Anything that reads or
	 * changes analysis or laps works on a session with its details.
	 */
	int details;
	json_t *analysis;                   /* owned; NULL = null */
	enum analysis_state analysis_state; /* while details is 0 */
	struct file_id file;                /* sessions/<id>.json when last read or written */
	int nruns, cap_runs;
	struct run *runs; /* nruns of cap_runs (owned) */
};

struct feed {
	char name[IDS_FEED_MAX + 1];
	struct seg *seg;       /* NULL until a pw-capture created it */
	struct seg_cursor cur; /* live position: frame.<feed> and lap.<feed> */
	int status;            /* enum seg_status last published, -1 = none yet */
	struct laps *laps;
	uint32_t meta_gen;
	struct pw_meta meta;
	int64_t next_attach_ns;
	uint64_t published;
	struct topic_name frame_topic; /* "frame.<feed>" ("" if the name makes no topic) */
	uint64_t subs_seen;            /* bus_subscriptions() when frames_wanted was asked */
	int frames_wanted;             /* frame.<feed> has a subscriber */
};

struct run_live;    /* runs.c: one per recording run */
struct cmd_return;  /* cmd.h: where a request's reply goes */
struct recordings;  /* recordings.c */
struct jobs;        /* jobs.c */
struct track_build; /* tracks.c: a track.build waiting for its result */
struct job;         /* common/job.h */
struct job_result;  /* common/job.h */
struct live_eng;    /* engineer.c: a recording run's laps in progress */
struct lap_job;     /* engineer.c: a per-lap job */
struct lap;         /* common/laps.h */

struct store {
	struct config cfg;
	char data_dir[IDS_DIR_MAX];
	void *zctx;
	void *router; /* commands */
	void *pub;    /* the bus's XPUB: subscribers connect, we publish */
	char sessions_dir[IDS_DIR_MAX];
	struct session **sessions; /* index by position; NULL holes compacted */
	int nsessions, cap_sessions;
	int index_dirty;        /* the session index is behind the files (sindex.c) */
	int64_t index_saved_ns; /* monotonic: when the index was last written */
	uint64_t cmds, cmd_errors;
	const struct cmd_return *cmd_from; /* the request being handled (cmd.c), else NULL */
	struct feed feeds[CONFIG_MAX_FEEDS];
	int nfeeds;
	struct run_live *live; /* list of recording runs */
	struct recordings *rec;
	struct jobs *jobs;
	int publish_frames;     /* frame.<feed> on the bus (PITWALL_BUS_FRAMES=0 turns off) */
	int frames_subscribed;  /* the last drain: some feed's frame.<feed> has a subscriber */
	struct loop *loop;      /* loop.c: what wakes the loop */
	struct storestat *stat; /* the status page: heartbeat, generation, counters (may be NULL) */
};

/* loop.c: the loop's wake-ups (loop.c's top comment). A turn of the loop:
 * housekeeping when due, loop_snapshot, the sockets when loop_sockets_due
 * (then loop_sockets_drained), the rings, loop_drained, loop_wait. */
#define LOOP_HOUSEKEEPING_NS (100 * NS_PER_MS) /* < STORESTAT_FRESH_NS / 2: the heartbeat */
/* Idle (no frame, socket message, recording or job for LOOP_IDLE_AFTER_NS)
 * the loop keeps house, beats and looks at the feeds once a second; the
 * status page says so (storestat_beat_period), and anything that wakes the
 * loop ends it at once. */
#define LOOP_IDLE_AFTER_NS (2 * NS_PER_S)
#define LOOP_IDLE_HOUSEKEEPING_NS NS_PER_S
int loop_open(struct store *st);
void loop_close(struct store *st);
/* Take the values of the words the next loop_wait sleeps on. */
void loop_snapshot(struct store *st);
/* 1 when the socket watcher saw the command or results socket readable. */
int loop_sockets_due(const struct store *st);
/* The sockets were read to the end: the watcher may poll again. */
void loop_sockets_drained(struct store *st);
/* After draining the rings: how many frames it read (it paces the loop). */
void loop_drained(struct store *st, int frames);
/* Sleep until a word of the snapshot moves or deadline_mono (CLOCK_MONOTONIC);
 * under a high frame rate, or while frames come and no bus subscriber wants
 * them, until the next paced drain instead of the rings. */
void loop_wait(struct store *st, int64_t deadline_mono);

/* bus.c */
/* Bind the XSUB at in_ep (other publishers connect) and the XPUB at out_ep
 * (subscribers connect; the store publishes into it: st->pub). */
int bus_start(struct store *st, const char *in_ep, const char *out_ep);
void bus_stop(struct store *st);
/* Forward what other publishers sent and the subscriptions (tracked on the
 * way); returns the messages moved. Main thread, never blocks. */
int bus_serve(struct store *st);
/* The ZMQ_FD of the XPUB and of the XSUB, for the socket watcher (loop.c). */
int bus_fds(struct store *st, int fds[2]);
/* Publish event t (common/topics.h) with its JSON payload (stolen). Never
 * blocks (drops when full). */
void bus_publish(struct store *st, enum topic_event t, json_t *payload);
/* Publish family t's topic of feed with its JSON payload (stolen). */
void bus_publish_feed(struct store *st, enum topic_family t, const char *feed, json_t *payload);
/* Publish an already serialized JSON payload (borrowed) on a per-feed topic
 * made by topic_feed_name. */
void bus_publish_raw(struct store *st, const struct topic_name *topic, const char *json_text);
/* 1 when a subscriber of the bus would receive topic (one of its prefixes
 * starts it). Ask again only when bus_subscriptions() moved, a number that
 * changes with every subscription. Main thread. */
int bus_wanted(const char *topic);
uint64_t bus_subscriptions(void);

/* cmd.c */
/* Handle every request queued on the ROUTER socket; returns how many. */
int cmd_drain(struct store *st);

/* sessions.c */
const char *use_case_name(enum use_case uc);
const char *use_case_guidance(enum use_case uc);
int use_case_parse(const char *name); /* -1 when unknown */
/* Load every sessions/<id>.json; corrupt ones are logged and skipped.
 * With a session index, only the sessions it does not describe exactly
 * are parsed (sindex_load); returns how many were skipped, or -errno. */
int sessions_load(struct store *st);
/* Parse one session file (path) into a new session with its details, its
 * file_id filled; NULL (logged) when it cannot be read or is corrupt, or
 * names another id than want_id. Owned by the caller (session_free). */
struct session *session_parse(const char *path, const char *want_id);
/* Add s (stolen) to the store's list. 0 or -ENOMEM (s then still the caller's). */
int session_add(struct store *st, struct session *s);
void session_free(struct session *s);
/* Load s's analysis and laps from its file when not loaded yet: 0, or
 * -errno (logged; s is left without them). */
int session_details(struct store *st, struct session *s);
/* The session with this id, with its details; NULL when there is none. */
struct session *session_find(struct store *st, const char *id);
struct session *session_new(struct store *st, enum use_case uc, const char *label);
/* A new zeroed run at the end of s's runs (nruns not yet counted: the
 * caller fills it and then increments nruns); NULL when out of memory or
 * STORE_MAX_RUNS are there. */
struct run *session_run_slot(struct session *s);
/* The run's lap summary (lap_count, best_lap_ms) from its laps. */
void run_laps_summary(struct run *r);
enum analysis_state analysis_state_of(const json_t *analysis);
/* Durably write the session's metadata file (atomic replace), and move the
 * state generation (common/storestat.h): what readers see changed. */
int session_save(struct store *st, struct session *s);
/* The same without moving the generation: for a periodic save of changes
 * already announced. */
int session_write(struct store *st, struct session *s);
/* Remove the session's files and drop it from memory. */
int session_delete(struct store *st, struct session *s);
json_t *session_json(const struct session *s);
json_t *run_json(const struct run *r);
struct run *run_find(struct session *s, const char *id);

/* feeds.c */
int feeds_init(struct store *st);
void feeds_fini(struct store *st);
/* Attach/re-attach, publish status changes (the loop's housekeeping). */
void feeds_tick(struct store *st, int64_t now_ns);
/* Read what the rings hold: laps, frame.<feed> while subscribed, "up" at the
 * first frame after a silence. Returns the frames read. */
int feeds_drain(struct store *st);
struct feed *feed_find(struct store *st, const char *name);
/* The feed's segment (attached on demand: it checks that the segment was not
 * re-created, an shm_open), or NULL when it does not exist. For commands. */
struct seg *feed_seg(struct store *st, const char *name);
/* The segment the store follows now (feeds_tick keeps it current), or NULL:
 * for reading the rings whenever the loop wakes. */
struct seg *feed_seg_live(struct store *st, const char *name);

/* runs.c */
/* At start-up: resume runs that were recording when the store stopped. */
int runs_resume(struct store *st);
/* Drain every recording run from its ring(s); make frames durable each second. */
void runs_tick(struct store *st, int64_t now_ns);
/* How many runs are recording. */
int runs_recording(const struct store *st);
/* Sync and close every writer; runs stay "recording" so a restart resumes them. */
void runs_fini(struct store *st);
int run_frames_path(const struct store *st, const struct session *s, const struct run *r, char *buf,
		    size_t cap);

/* sindex.c: the session index, data/sessions.idx */
/* Fill the session list from the index and the session files: an entry
 * whose file is unchanged (inode, size, mtime) stands for it without
 * parsing it; files the index does not describe exactly are parsed. Marks
 * the index dirty when it was missing, stale or unreadable. Returns how many
 * files were skipped as corrupt, or -errno. */
int sindex_load(struct store *st);
/* Write the index now (atomic replace). 0 or -errno (logged). */
int sindex_save(struct store *st);
/* Write the index when it is dirty and was last written SINDEX_EVERY_NS ago. */
void sindex_tick(struct store *st, int64_t now_mono);
/* The file of session s changed (written or removed): the index is behind. */
void sindex_touch(struct store *st, struct session *s, int removed);

/* jobs.c */
int jobs_init(struct store *st);
void jobs_fini(struct store *st);
/* Queue (or re-queue) the session's analysis; sets analysis to pending. */
int jobs_submit(struct store *st, struct session *s);
/* Queue a track build (tracks.c): sent like an analysis job, and again after
 * the deadline, until its result comes; then track_build_done gets it. Takes
 * b on success; -ENOSPC when STORE_MAX_TRACK_BUILDS builds (or the most jobs
 * the queue holds) are waiting already. */
int jobs_submit_build(struct store *st, struct track_build *b);
/* Queue a per-lap job (engineer.c); takes lj on success; -ENOSPC when the
 * queue is full. */
int jobs_submit_lap(struct store *st, struct lap_job *lj);
/* Send what is due, take the results in. */
void jobs_tick(struct store *st, int64_t now_mono);
/* Jobs queued or waiting for their results. */
int jobs_pending(const struct store *st);
/* The results socket's ZMQ_FD (readable: results may wait), for loop.c. */
int jobs_results_fd(struct store *st, int *fd);

/* engineer.c: recommendations */
/* The lap buffer of a run of s: NULL when s is not a general session (no
 * per-lap jobs) or out of memory. Owned by the run's live state (runs.c). */
struct live_eng *live_eng_new(const struct session *s);
void live_eng_free(struct live_eng *e);
/* Every stored frame of the run, in order. */
void live_eng_frame(struct live_eng *e, const struct pw_frame *f);
/* The game session changed: the buffered frames belong to no lap any more. */
void live_eng_reset(struct live_eng *e);
/* r's tracker completed lap: queue its per-lap job (when its frames are all
 * buffered) and forget the frames up to its end. */
void live_eng_lap(struct store *st, struct live_eng *e, const struct session *s,
		  const struct run *r, const struct lap *lap);
/* jobs.c's side: the message (borrowed from lj), whether it is too old to be
 * worth sending or answering, the result (publishes; frees lj), a drop (frees lj). */
struct job *lap_job_job(struct lap_job *lj);
/* job_send of a lap job, giving ZeroMQ its frames (sent once: they are not kept). */
int lap_job_send(void *sock, struct lap_job *lj);
bool lap_job_expired(const struct lap_job *lj, int64_t now_mono);
void lap_job_done(struct store *st, struct lap_job *lj, const struct job_result *r);
void lap_job_drop(struct lap_job *lj, const char *why);

/* tracks.c: track models */
/* data/tracks/<game>/<slug of track>.json (track a real name, common/ids.h), or -EINVAL
 * for a game that is not a safe path part or a track that is not a real name. */
int track_path(const struct store *st, const char *game, const char *track, char *buf, size_t cap);
/* The stored model for game/track, track the real name or the slug (new reference), or NULL. */
json_t *track_load(const struct store *st, const char *game, const char *track);
/* The job of a track build (borrowed from b: its strings and frames are b's). */
struct job *track_build_job(struct track_build *b);
/* The build's result came (r borrowed): write the model, publish track.built
 * and answer the waiting client, or answer with the mapped error; frees b. */
void track_build_done(struct store *st, struct track_build *b, const struct job_result *r);
/* Free b unanswered (the store stops: its client times out). NULL is a no-op. */
void track_build_free(struct track_build *b);

/* recordings.c */
int recordings_init(struct store *st);
void recordings_tick(struct store *st, int64_t now_ns);
void recordings_fini(struct store *st);
/* The id of the active recording (borrowed, valid until it stops), or NULL. */
const char *recordings_active_id(const struct store *st);

#endif
