/*
 * motec.h - MoTeC i2 logs: the .ld binary log and its .ldx sidecar, and the map
 * from pitwall's frame channels to i2's conventional channel names. export.h
 * drives it; docs/export.md ("MoTeC") is the user's side of it.
 *
 * .ld layout written (all integers little-endian, strings NUL-padded; the
 * layout is the one the public readers and writers of .ld files agree on,
 * docs/export.md "MoTeC"):
 *      0  header, 1762 bytes: marker 0x40, pointers to the first channel
 *         block, the first data and the event block, device "ADL" 420
 *         serial 12007, channel count, date "DD/MM/YYYY", time "HH:MM:SS",
 *         driver, vehicle, venue, the "pro logging" marker 0x00D20822,
 *         session, short comment
 *   1762  event, 1154 bytes: name, session, comment, u16 venue pointer
 *   2916  venue, 1100 bytes: name, u16 vehicle pointer at 1098
 *   4016  vehicle, 260 bytes: id, weight, type, comment
 *   4276  channel blocks, 124 bytes each, a doubly linked list (prev, next,
 *         data pointer, sample count, type class 3 = i16 / 5 = i32 and size,
 *         rate Hz, shift 0, mul 1, scale 1, decimal places, name, short name,
 *         unit)
 *   then  each channel's samples, contiguous, channel after channel
 * Every channel has the same rate and sample count (i2 expects constant
 * rates; count / rate is the log's duration). A value v is stored as the
 * integer round(v * 10^dec), clamped to the type's range, so i2 shows it with
 * dec decimal places.
 *
 * The writer is given a seekable fd: samples are buffered per channel
 * (MOTEC_BUF bytes each) and written at their channel's place with pwrite;
 * the header and channel blocks are written last. Memory: the channels'
 * buffers, whatever the log's length.
 *
 * .ldx: XML with one lap beacon marker per lap end, Time in microseconds from
 * the log's start, and the details i2 shows (total laps, fastest lap).
 *
 * Who may call: any thread; a writer is used by one thread. Errors are 0 or
 * a negative errno. Nothing here logs.
 */
#ifndef PW_MOTEC_H
#define PW_MOTEC_H

#include <stddef.h>
#include <stdint.h>

#include "common/frame.h"

#define MOTEC_HEADER_SIZE 1762
#define MOTEC_EVENT_SIZE 1154
#define MOTEC_VENUE_SIZE 1100
#define MOTEC_VEHICLE_SIZE 260
#define MOTEC_CHANNEL_SIZE 124
#define MOTEC_CHANNELS_MAX 128
#define MOTEC_BUF 16384 /* bytes buffered per channel */
#define MOTEC_PRO_LOGGING 0x00D20822u

/* One channel of a log, as i2 shows it. */
struct motec_channel {
	char name[32];
	char short_name[8];
	char unit[12];
	int16_t dec;  /* decimal places */
	uint8_t size; /* 2: i16, 4: i32 */
};

/* The text fields of a log. Longer strings are cut to their field. */
struct motec_header {
	char driver[64];
	char vehicle[64];
	char venue[64]; /* i2 picks a track map by it */
	char event[64];
	char session[64];
	char short_comment[64];
	char comment[1024];
	int64_t start_ns; /* realtime ns: the date and time (local time) */
};

struct motec_ld;

/* Lifecycle */
/*
 * A writer of a log of n channels (1..MOTEC_CHANNELS_MAX), each with exactly
 * samples values at rate_hz (1..65535), into fd (seekable, from offset 0;
 * borrowed). ch and h are copied. -EINVAL for bad arguments, -EFBIG when the
 * file would pass 4 GB (its pointers are 32-bit), -ENOMEM. On success *out
 * is owned by the caller: motec_ld_finish, then motec_ld_free.
 */
int motec_ld_new(struct motec_ld **out, int fd, const struct motec_header *h,
		 const struct motec_channel *ch, size_t n, uint32_t samples, uint16_t rate_hz);
/* Free w (NULL is a no-op); the fd stays the caller's. */
void motec_ld_free(struct motec_ld *w);

/* Operations */
/* The next sample of channel ch, in the channel's unit. Errors stick and are
 * returned by motec_ld_finish (also more samples than announced). */
void motec_ld_put(struct motec_ld *w, size_t ch, double value);
/* The same with the stored integer (motec_raw), for a caller that keeps them. */
void motec_ld_put_raw(struct motec_ld *w, size_t ch, int32_t raw);
/* The integer a channel stores for value: round(value * 10^dec), clamped to
 * the channel's type; 0 for NaN and infinities. */
int32_t motec_raw(const struct motec_channel *c, double value);
/*
 * Write the buffered samples, the header, event, venue, vehicle and channel
 * blocks. -EPROTO when a channel did not get exactly its samples (the log
 * would not cover the same duration in every channel), else the first write
 * error. The fd then holds the whole file.
 */
int motec_ld_finish(struct motec_ld *w);

/*
 * The .ldx for a log with n beacons at beacon_s[] seconds from its start
 * (increasing), into buf (snprintf semantics: returns the length needed).
 * fastest_lap: the i2 lap number of the fastest valid lap (the lap ending
 * at beacon k is i2 lap k, the stretch before the first beacon being lap 1),
 * 0 for none; fastest_ms its time.
 */
size_t motec_ldx(char *buf, size_t cap, const double *beacon_s, size_t n, unsigned fastest_lap,
		 int32_t fastest_ms);

/* The channel map (frame channels -> i2 channels) */
enum motec_source {
	MOTEC_SRC_CHANNEL = 0, /* value idx of frame channel bit, times mul */
	MOTEC_SRC_FLAG,        /* frame flag number bit: 0 or 1 */
	MOTEC_SRC_GPS_LAT,     /* from pos_m, see motec_gps */
	MOTEC_SRC_GPS_LON,
	MOTEC_SRC_LAP_NUMBER, /* given by the exporter (the run's laps) */
};

struct motec_map {
	struct motec_channel ch;
	uint8_t source; /* enum motec_source */
	uint8_t bit;    /* FRAME_CH_* (FLAG: FRAME_FLAG_NO_*) */
	uint8_t idx;    /* value of an array channel */
	float mul;
};

/* Where a game's world lies on the globe: east = x, north = north_sign * z
 * (the game's handedness, see motec.c), around lat0/lon0 (degrees). */
struct motec_gps {
	double lat0, lon0;
	double m_per_deg_lat, m_per_deg_lon;
	int north_sign;
};

/*
 * The i2 channels for a log: every entry of the map whose frame channel is
 * in channels (FRAME_P_* bits that the run has and the user chose), whose
 * flag is in flags (FRAME_FLAG_* bits), plus the lap number when lap_number
 * is set. Altitude / Position Y only when has_height. Writes up to cap
 * entries to out, returns how many.
 */
size_t motec_map_select(uint64_t channels, unsigned flags, int lap_number, int has_height,
			struct motec_map *out, size_t cap);
/* The value of map entry m for frame f (lap: the lap number, for LAP_NUMBER);
 * NAN for a channel value that is the channel's "none" (frame_value_known). */
double motec_map_value(const struct motec_map *m, const struct pw_frame *f,
		       const struct motec_gps *gps, unsigned lap);
/*
 * The GPS mapping of a game (enum pw_game) and track name: the track's origin
 * from a small table of real circuits (matched by name), else a place derived
 * from the game and track name (so two tracks never share a map).
 */
void motec_gps_init(struct motec_gps *g, unsigned game, const char *track);
/* north_sign of a game: +1 or -1 (see motec.c for how each was settled). */
int motec_gps_north_sign(unsigned game);

#endif
