/*
 * framecsv.h - frames back from CSV: the reader of what frame_csv_header /
 * frame_to_csv write (a run export, `pwctl export ... --format csv`), for
 * `pw-replay --csv`.
 *
 * The header line names the columns; they may come in any order and any
 * subset (an export that chose its channels), and columns this reader does
 * not know are ignored (an export's time_s, a manifest's derived channels, a
 * spreadsheet's own): the caller can list them. Known columns: seq, t_ns,
 * feed, game, game_session, every channel by its CSV name (speed_kmh,
 * tyre_temp_c_fl, ...), the flags (in_pit ...), derived, and time_s (an
 * export's run clock, handed back beside the frame for pacing). An array
 * channel's columns come all or none (tyre_temp_c_fl without _fr is refused:
 * a frame cannot hold half a channel).
 *
 * A row gives a frame: a channel is present when one of its cells has a
 * value (an array channel's cells all have one, except a "not known yet"
 * value of sector_ms, which is empty and reads back as -1, and a tread zone
 * temperature the game gave none of, empty and read back as 0); a flag is known
 * when its cell is 0 or 1; derived lists channels by name, separated by
 * spaces. Numbers read back exactly what frame_to_csv wrote (floats as the
 * float, integers within their type), so a frame exported and read again has
 * the same channel values. Fields may be in double quotes (RFC 4180), as a
 * spreadsheet saves them.
 *
 * Errors: 0 or a negative errno; -EINVAL with a message naming the line and
 * the column ("line 12, column tyre_temp_c_fl: \"abc\" is not a number").
 * Who may call: one thread per reader.
 */
#ifndef PW_FRAMECSV_H
#define PW_FRAMECSV_H

#include <stddef.h>
#include <stdint.h>

#include "common/frame.h"

#define FRAMECSV_COLS_MAX 512
#define FRAMECSV_ERR_MAX 256

struct framecsv; /* opaque: the column map of one file */

/* Lifecycle */
/*
 * Map the header line (len bytes, a trailing \r\n or \n allowed). 0 and
 * *out (framecsv_free), -EINVAL (err says why: no column of a frame at all,
 * a column twice, more than FRAMECSV_COLS_MAX), or -ENOMEM.
 */
int framecsv_open(struct framecsv **out, const char *header, size_t len, char *err, size_t errcap);
void framecsv_free(struct framecsv *m);

/* Operations */
/*
 * Read row line_no (for messages) of len bytes into *f: frame_init'ed, game
 * and feed from their columns (PW_GAME_UNKNOWN / PW_FEED_NONE when absent),
 * seq, t_ns and game_session 0 when absent; *time_s (may be NULL) the time_s
 * cell, NAN when there is none. 0, or -EINVAL with err.
 */
int framecsv_row(const struct framecsv *m, const char *line, size_t len, uint64_t line_no,
		 struct pw_frame *f, double *time_s, char *err, size_t errcap);

/* Accessors */
/* 1 when the file has a column of that name (a known one). */
int framecsv_has(const struct framecsv *m, const char *name);
/* The columns it ignores, comma-separated, into buf (snprintf semantics). */
size_t framecsv_ignored(const struct framecsv *m, char *buf, size_t cap);

#endif
