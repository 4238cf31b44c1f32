/*
 * csv.c - pw-replay --csv (replay.h): a CSV of pitwall channels, such as a
 * run export, back into a live feed segment, so a stored lap drives the
 * dashboard, the stream, the store and the analyses like a game would.
 *
 * It creates the feed's segment as pw-capture does (seg_create: one producer
 * per feed, the sequence continuing from the last producer's) and writes the
 * file's frames into its ring, paced by the file's own clock (t_ns, else
 * time_s, else game_time_s; --speed X) or at --rate HZ, with the heartbeat,
 * the metadata (the rows' game and game session) and the frame counters a
 * reader expects, so the feed is "up" while it plays. The rows' channel
 * values, flags and derived marks are published as they are; seq and t_ns
 * are the ring's and the replay's, as for any live frame. There are no raw
 * packets: a recording of this feed stays empty.
 *
 * The file is read a line at a time (a one-hour run is not held in memory);
 * the first bad row stops the replay with an error naming its line.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/decoder.h"
#include "capture/replay/replay.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/daemon.h"
#include "common/framecsv.h"
#include "common/log.h"
#include "common/seg.h"

#define HEARTBEAT_NS (100 * NS_PER_MS)
#define LINE_MAX_BYTES (64 * 1024)

enum clock_col { CLK_RATE, CLK_T_NS, CLK_TIME_S, CLK_GAME_TIME };

struct player {
	const struct replay_csv_opts *o;
	struct seg *seg;
	struct seg_stats *stats;
	struct framecsv *map;
	FILE *f;
	char *line;
	size_t cap;
	uint64_t line_no, rows, published;
	enum clock_col clock;
	struct pw_meta meta;
	int meta_set, feed_warned;
	enum pw_feed feed;
	int64_t start_mono, next_beat, rate_mono;
	uint64_t rate_frames;
	double t0; /* the file's clock at the loop's first row, s */
};

/* The row's time on the file's clock, s; NAN when the row has none. */
static double row_time(const struct player *p, const struct pw_frame *f, double time_s)
{
	switch (p->clock) {
	case CLK_T_NS:
		return f->t_ns ? (double)f->t_ns / 1e9 : NAN;
	case CLK_TIME_S:
		return time_s;
	case CLK_GAME_TIME:
		return (f->present & FRAME_P_GAME_TIME) ? f->game_time_s : NAN;
	default:
		return NAN;
	}
}

/* Heartbeat and the frame rate, as pw-capture keeps them. */
static void beat(struct player *p, int64_t mono)
{
	if (mono < p->next_beat)
		return;
	seg_heartbeat(p->seg, clock_now_ns());
	p->next_beat = mono + HEARTBEAT_NS;
	if (mono - p->rate_mono >= NS_PER_S) {
		double dt = (double)(mono - p->rate_mono) / NS_PER_S;

		seg_stat_set(p->stats, SEG_STAT_FRAME_RATE_MHZ,
			     (uint64_t)((double)(p->published - p->rate_frames) * 1000 / dt));
		p->rate_frames = p->published;
		p->rate_mono = mono;
	}
}

/* Sleep until the monotonic deadline, beating the heart on the way. */
static void wait_until(struct player *p, int64_t due)
{
	int64_t now;

	while ((now = clock_mono_ns()) < due && !daemon_stopping()) {
		beat(p, now);
		clock_sleep_until(due - now > HEARTBEAT_NS ? now + HEARTBEAT_NS : due);
	}
	beat(p, clock_mono_ns());
}

static void publish(struct player *p, struct pw_frame *f)
{
	int64_t now = clock_now_ns();

	if (f->feed && f->feed != p->feed && !p->feed_warned) {
		log_warn("msg=\"the file's frames are of another feed; replayed as this one\" "
			 "file_feed=%s feed=%s",
			 frame_feed_name(f->feed), frame_feed_name(p->feed));
		p->feed_warned = 1;
	}
	f->feed = (uint8_t)p->feed;
	f->t_ns = now;
	if (!p->meta_set || strcmp(p->meta.game, frame_game_name(f->game)) != 0 ||
	    p->meta.game_session != f->game_session) {
		snprintf(p->meta.game, sizeof p->meta.game, "%s", frame_game_name(f->game));
		p->meta.game_session = f->game_session;
		seg_meta_write(p->seg, &p->meta);
		p->meta_set = 1;
	}
	seg_publish(p->seg, f);
	seg_stat_add(p->stats, SEG_STAT_FRAMES, 1);
	seg_stat_set(p->stats, SEG_STAT_LAST_PACKET_NS, (uint64_t)now);
	seg_notify(p->seg);
	p->published++;
}

/* The next line of the file into p->line; its length, 0 at the end, -1 when
 * a line is longer than LINE_MAX_BYTES. */
static ssize_t next_line(struct player *p)
{
	ssize_t n = getline(&p->line, &p->cap, p->f);

	if (n < 0)
		return 0;
	p->line_no++;
	return n > LINE_MAX_BYTES ? -1 : n;
}

/* The header: the column map and the clock to pace by. 0 or the exit status. */
static int read_header(struct player *p)
{
	char err[FRAMECSV_ERR_MAX], ignored[512];
	ssize_t n = next_line(p);

	if (n <= 0) {
		log_error("msg=\"%s\" file=%s",
			  n < 0 ? "the header line is too long" : "the file is empty", p->o->file);
		return 1;
	}
	if (framecsv_open(&p->map, p->line, (size_t)n, err, sizeof err) < 0) {
		log_error("msg=\"not a CSV of pitwall channels\" file=%s error=\"%s\"", p->o->file,
			  err);
		return 1;
	}
	framecsv_ignored(p->map, ignored, sizeof ignored);
	if (ignored[0])
		log_info("msg=\"columns that are not frame channels, ignored\" columns=%s",
			 ignored);
	if (p->o->rate_hz > 0)
		p->clock = CLK_RATE;
	else if (framecsv_has(p->map, "t_ns"))
		p->clock = CLK_T_NS;
	else if (framecsv_has(p->map, "time_s"))
		p->clock = CLK_TIME_S;
	else if (framecsv_has(p->map, "game_time_s"))
		p->clock = CLK_GAME_TIME;
	else {
		log_error("msg=\"the file has no t_ns, time_s or game_time_s column to time the "
			  "frames by: give --rate HZ\" file=%s",
			  p->o->file);
		return 2;
	}
	return 0;
}

/* One pass over the rows after the header. 0, or the exit status. */
static int play(struct player *p)
{
	char err[FRAMECSV_ERR_MAX];
	uint64_t k = 0;
	ssize_t n;

	p->start_mono = clock_mono_ns();
	while (!daemon_stopping() && (n = next_line(p)) != 0) {
		struct pw_frame f;
		double time_s, t;
		int64_t due;

		if (n < 0) {
			log_error("msg=\"a line is too long\" file=%s line=%llu", p->o->file,
				  (unsigned long long)p->line_no);
			return 1;
		}
		if (n == 1 || (n == 2 && p->line[0] == '\r'))
			continue; /* an empty line */
		if (framecsv_row(p->map, p->line, (size_t)n, p->line_no, &f, &time_s, err,
				 sizeof err) < 0) {
			log_error("msg=\"a bad row stops the replay\" file=%s error=\"%s\"",
				  p->o->file, err);
			return 1;
		}
		if (p->clock == CLK_RATE) {
			due = p->start_mono + (int64_t)((double)k * 1e9 / p->o->rate_hz);
		} else {
			if (isnan(t = row_time(p, &f, time_s))) {
				log_error(
					"msg=\"a row without its time stops the replay: give --rate "
					"HZ\" file=%s line=%llu",
					p->o->file, (unsigned long long)p->line_no);
				return 1;
			}
			if (k == 0)
				p->t0 = t;
			/* a clock that goes back (a rewind in the file) sends the row at once */
			due = p->start_mono + (int64_t)(fmax(t - p->t0, 0) * 1e9 / p->o->speed);
		}
		wait_until(p, due);
		if (daemon_stopping())
			break;
		publish(p, &f);
		k++;
		p->rows++;
	}
	if (k == 0 && !daemon_stopping()) {
		log_error("msg=\"the file has no rows\" file=%s", p->o->file);
		return 1;
	}
	return 0;
}

int replay_csv(const struct replay_csv_opts *o)
{
	struct player p = { .o = o };
	const struct decoder *dec = o->feed ? dec_find(o->feed) : NULL;
	struct config cfg;
	struct seg_config sc;
	char err[256];
	int rc = 1, r;

	if (!dec) {
		log_error("msg=\"--feed must be one of ksudp, pcars, acc, forza, f1\" feed=%s",
			  o->feed ? o->feed : "(none)");
		return 2;
	}
	if (config_load(&cfg, err, sizeof err) < 0) {
		log_error("msg=\"%s\"", err);
		return 2;
	}
	if (!(p.f = fopen(o->file, "r"))) {
		log_error("msg=\"cannot open\" file=%s error=\"%s\"", o->file, strerror(errno));
		return 1;
	}
	if ((rc = read_header(&p)) != 0)
		goto out;
	sc = seg_default_config(dec->max_rate_hz, dec->raw_bytes_per_s);
	if ((r = seg_create(&p.seg, cfg.instance, dec->feed, dec->feed_id, &sc)) < 0) {
		log_error("msg=\"cannot create the feed's segment%s\" feed=%s instance=%s "
			  "error=\"%s\"",
			  r == -EBUSY ? ": a pw-capture (or another replay) produces this feed"
				      : "",
			  dec->feed, cfg.instance, strerror(-r));
		rc = 1;
		goto out;
	}
	p.feed = dec->feed_id;
	p.stats = seg_stats(p.seg);
	snprintf(p.meta.source, sizeof p.meta.source, "csv:%s",
		 strrchr(o->file, '/') ? strrchr(o->file, '/') + 1 : o->file);
	p.rate_mono = clock_mono_ns();
	log_info("msg=\"replaying a CSV into a live feed\" file=%s feed=%s instance=%s paced_by=%s "
		 "speed=%g rate_hz=%g loop=%d write_seq=%llu",
		 o->file, dec->feed, cfg.instance,
		 p.clock == CLK_RATE     ? "rate"
		 : p.clock == CLK_T_NS   ? "t_ns"
		 : p.clock == CLK_TIME_S ? "time_s"
					 : "game_time_s",
		 o->speed, o->rate_hz, o->loop, (unsigned long long)seg_write_seq(p.seg));
	do {
		if ((rc = play(&p)) != 0)
			break;
		if (o->loop && !daemon_stopping()) {
			rewind(p.f);
			p.line_no = 0;
			next_line(&p); /* the header again */
		}
		if (!o->quiet)
			fprintf(stderr, "pw-replay: %llu frames published\n",
				(unsigned long long)p.published);
	} while (o->loop && !daemon_stopping());
	/* a zero heartbeat tells readers at once that the feed is down, as pw-capture does */
	seg_heartbeat(p.seg, 0);
	log_info("msg=\"replay done\" feed=%s frames=%llu", dec->feed,
		 (unsigned long long)p.published);
out:
	seg_close(p.seg);
	framecsv_free(p.map);
	free(p.line);
	fclose(p.f);
	return rc;
}
