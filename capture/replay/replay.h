/*
 * replay.h - pw-replay's private header.
 *
 * replay.c  main, options; a capture's datagrams sent to a UDP port
 * csv.c     --csv: a CSV of pitwall channels (an export) back into a live feed
 *           segment, written as pw-capture writes it
 */
#ifndef PW_REPLAY_H
#define PW_REPLAY_H

/* What --csv replays and how fast. */
struct replay_csv_opts {
	const char *file; /* the CSV */
	const char *feed; /* the feed whose segment it writes */
	double rate_hz;   /* > 0: this many rows a second; 0: the file's own times */
	double speed;     /* with the file's times: 2 = twice as fast */
	int loop;         /* start again at the end */
	int quiet;        /* no progress line */
};

/*
 * Replay o->file into the feed's segment of this stack (PITWALL_INSTANCE)
 * until its end (or, with loop, until SIGINT/SIGTERM). Returns the exit
 * status: 0, 1 (the file or a row is bad, the segment cannot be had: logged
 * with the reason), 2 (a usage error: logged).
 */
int replay_csv(const struct replay_csv_opts *o);

#endif
