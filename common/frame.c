/* frame.c - frame names and the JSON/CSV encodings of DESIGN §2 (see frame.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/frame.h"
#include "common/out.h"

static const char *const game_names[PW_GAME_COUNT] = {
	"unknown",
	"assetto_corsa",
	"assetto_corsa_competizione",
	"project_cars_1",
	"project_cars_2",
	"forza_motorsport",
	"forza_motorsport_7",
	"forza_horizon",
	"forza_motorsport_2023",
	"f1_23",
	"f1_24",
	"f1_25",
};

static const char *const game_titles[PW_GAME_COUNT] = {
	"Unknown",
	"Assetto Corsa",
	"Assetto Corsa Competizione",
	"Project CARS 1",
	"Project CARS 2 / Automobilista 2",
	"Forza Motorsport (Sled)",
	"Forza Motorsport 7",
	"Forza Horizon 4/5",
	"Forza Motorsport (2023)",
	"F1 23",
	"F1 24",
	"F1 25",
};

static const char *const feed_names[PW_FEED_COUNT] = {
	"none", "ksudp", "pcars", "acc", "forza", "f1",
};

/* Indexed by presence bit; the JSON key and CSV column of the channel. */
static const char *const channel_names[FRAME_P_COUNT] = {
	"game_time_s", "throttle", "brake", "clutch", "handbrake", "steer", "steer_deg",
	"gear", "num_gears", "speed_kmh", "rpm", "max_rpm", "power_w", "torque_nm",
	"vel_ms", "accel_lat_g", "accel_lon_g", "accel_vert_g", "pos_m", "yaw_rad",
	"pitch_rad", "roll_rad", "lap", "lap_time_ms", "last_lap_ms", "best_lap_ms",
	"sector_ms", "lap_dist_m", "spline", "track_len_m", "sector", "position",
	"tyre_temp_c", "tyre_press_kpa", "brake_temp_c", "slip_ratio", "slip_angle_rad",
	"wheel_speed_rads", "susp_travel_m", "tyre_load_n", "tyre_wear", "fuel_l",
	"fuel_frac", "boost_bar",
};

static const char *const flag_names[FRAME_FLAG_COUNT] = {
	"in_pit", "lap_invalid", "abs", "tc", "limiter", "paused",
};

void frame_init(struct pw_frame *f, enum pw_game game, enum pw_feed feed)
{
	memset(f, 0, sizeof *f);
	f->version = FRAME_VERSION;
	f->game = (uint8_t)game;
	f->feed = (uint8_t)feed;
}

const char *frame_game_name(unsigned game)
{
	return game < PW_GAME_COUNT ? game_names[game] : "unknown";
}

const char *frame_game_title(unsigned game)
{
	return game < PW_GAME_COUNT ? game_titles[game] : "Unknown";
}

const char *frame_feed_name(unsigned feed)
{
	return feed < PW_FEED_COUNT ? feed_names[feed] : "unknown";
}

unsigned frame_game_id(const char *name)
{
	for (unsigned i = 1; name && i < PW_GAME_COUNT; i++)
		if (strcmp(game_names[i], name) == 0)
			return i;
	return PW_GAME_UNKNOWN;
}

unsigned frame_feed_id(const char *name)
{
	for (unsigned i = 1; name && i < PW_FEED_COUNT; i++)
		if (strcmp(feed_names[i], name) == 0)
			return i;
	return PW_FEED_NONE;
}

const char *frame_channel_name(unsigned bit)
{
	return bit < FRAME_P_COUNT ? channel_names[bit] : NULL;
}

const char *frame_flag_name(unsigned bit)
{
	return bit < FRAME_FLAG_COUNT ? flag_names[bit] : NULL;
}

void meta_strcpy(char *dst, size_t cap, const char *src, size_t n)
{
	size_t i, o = 0;

	if (cap == 0)
		return;
	for (i = 0; i < n && src[i] && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	memset(dst + o, 0, cap - o);
}


/* A decimal that reads back as exactly the same value: short when it can be
 * (0.1f prints "0.1"), else the 9 significant digits a float needs or the
 * 17 a double needs (a fixed %.7g lost float bits and rounded a large
 * game_time_s to whole seconds). At most two formats per number. */
static void put_num(struct out *o, double v, int is_double)
{
	char tmp[32];

	snprintf(tmp, sizeof tmp, "%.*g", is_double ? 15 : 6, v);
	if (is_double ? strtod(tmp, NULL) != v : strtof(tmp, NULL) != (float)v)
		snprintf(tmp, sizeof tmp, "%.*g", is_double ? 17 : 9, v);
	out_printf(o, "%s", tmp);
}

/* The value of channel bit b: n numbers in v[]; returns n (0: not a numeric channel). */
static int channel_values(const struct pw_frame *f, unsigned b, double v[4], int *is_int)
{
	const float *arr = NULL;

	*is_int = 0;
	switch (1ull << b) {
	case FRAME_P_GAME_TIME: v[0] = f->game_time_s; return 1;
	case FRAME_P_THROTTLE: v[0] = f->throttle; return 1;
	case FRAME_P_BRAKE: v[0] = f->brake; return 1;
	case FRAME_P_CLUTCH: v[0] = f->clutch; return 1;
	case FRAME_P_HANDBRAKE: v[0] = f->handbrake; return 1;
	case FRAME_P_STEER: v[0] = f->steer; return 1;
	case FRAME_P_STEER_DEG: v[0] = f->steer_deg; return 1;
	case FRAME_P_GEAR: v[0] = f->gear; *is_int = 1; return 1;
	case FRAME_P_NUM_GEARS: v[0] = f->num_gears; *is_int = 1; return 1;
	case FRAME_P_SPEED: v[0] = f->speed_kmh; return 1;
	case FRAME_P_RPM: v[0] = f->rpm; return 1;
	case FRAME_P_MAX_RPM: v[0] = f->max_rpm; return 1;
	case FRAME_P_POWER: v[0] = f->power_w; return 1;
	case FRAME_P_TORQUE: v[0] = f->torque_nm; return 1;
	case FRAME_P_VEL: v[0] = f->vel_ms[0]; v[1] = f->vel_ms[1]; v[2] = f->vel_ms[2]; return 3;
	case FRAME_P_ACCEL_LAT: v[0] = f->accel_lat_g; return 1;
	case FRAME_P_ACCEL_LON: v[0] = f->accel_lon_g; return 1;
	case FRAME_P_ACCEL_VERT: v[0] = f->accel_vert_g; return 1;
	case FRAME_P_POS: v[0] = f->pos_m[0]; v[1] = f->pos_m[1]; v[2] = f->pos_m[2]; return 3;
	case FRAME_P_YAW: v[0] = f->yaw_rad; return 1;
	case FRAME_P_PITCH: v[0] = f->pitch_rad; return 1;
	case FRAME_P_ROLL: v[0] = f->roll_rad; return 1;
	case FRAME_P_LAP: v[0] = f->lap; *is_int = 1; return 1;
	case FRAME_P_LAP_TIME: v[0] = f->lap_time_ms; *is_int = 1; return 1;
	case FRAME_P_LAST_LAP: v[0] = f->last_lap_ms; *is_int = 1; return 1;
	case FRAME_P_BEST_LAP: v[0] = f->best_lap_ms; *is_int = 1; return 1;
	case FRAME_P_SECTOR_TIMES:
		v[0] = f->sector_ms[0]; v[1] = f->sector_ms[1]; v[2] = f->sector_ms[2];
		*is_int = 1;
		return 3;
	case FRAME_P_LAP_DIST: v[0] = f->lap_dist_m; return 1;
	case FRAME_P_SPLINE: v[0] = f->spline; return 1;
	case FRAME_P_TRACK_LEN: v[0] = f->track_len_m; return 1;
	case FRAME_P_SECTOR: v[0] = f->sector; *is_int = 1; return 1;
	case FRAME_P_POSITION: v[0] = f->position; *is_int = 1; return 1;
	case FRAME_P_TYRE_TEMP: arr = f->tyre_temp_c; break;
	case FRAME_P_TYRE_PRESS: arr = f->tyre_press_kpa; break;
	case FRAME_P_BRAKE_TEMP: arr = f->brake_temp_c; break;
	case FRAME_P_SLIP_RATIO: arr = f->slip_ratio; break;
	case FRAME_P_SLIP_ANGLE: arr = f->slip_angle_rad; break;
	case FRAME_P_WHEEL_SPEED: arr = f->wheel_speed_rads; break;
	case FRAME_P_SUSP_TRAVEL: arr = f->susp_travel_m; break;
	case FRAME_P_TYRE_LOAD: arr = f->tyre_load_n; break;
	case FRAME_P_TYRE_WEAR: arr = f->tyre_wear; break;
	case FRAME_P_FUEL_L: v[0] = f->fuel_l; return 1;
	case FRAME_P_FUEL_FRAC: v[0] = f->fuel_frac; return 1;
	case FRAME_P_BOOST: v[0] = f->boost_bar; return 1;
	default: return 0;
	}
	for (int i = 0; i < 4; i++)
		v[i] = arr[i];
	return 4;
}

/* A value JSON and CSV can carry: finite, and for split times not -1 ("not reached"). */
static int has_value(unsigned b, double v)
{
	return isfinite(v) && !((1ull << b) == FRAME_P_SECTOR_TIMES && v < 0);
}

static void put_value(struct out *o, unsigned b, double v, int is_int)
{
	if (is_int)
		out_printf(o, "%lld", (long long)v);
	else
		put_num(o, v, (1ull << b) == FRAME_P_GAME_TIME);
}

static void put_json_value(struct out *o, unsigned b, double v, int is_int)
{
	if (has_value(b, v))
		put_value(o, b, v, is_int);
	else
		out_printf(o, "null");
}

size_t frame_to_json(const struct pw_frame *f, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };
	double v[4];
	int is_int;

	if (cap)
		buf[0] = 0;
	out_printf(&o, "{\"seq\":%llu,\"t_ns\":%lld,\"feed\":\"%s\",\"game\":\"%s\",\"game_session\":%llu",
	    (unsigned long long)f->seq, (long long)f->t_ns, frame_feed_name(f->feed),
	    frame_game_name(f->game), (unsigned long long)f->game_session);
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		int n;

		if (!(f->present & (1ull << b)))
			continue;
		n = channel_values(f, b, v, &is_int);
		out_printf(&o, ",\"%s\":", channel_names[b]);
		if (n == 1) {
			put_json_value(&o, b, v[0], is_int);
			continue;
		}
		out_printf(&o, "[");
		for (int i = 0; i < n; i++) {
			if (i)
				out_printf(&o, ",");
			put_json_value(&o, b, v[i], is_int);
		}
		out_printf(&o, "]");
	}
	if (f->flags_known) {
		int first = 1;

		out_printf(&o, ",\"flags\":{");
		for (unsigned b = 0; b < FRAME_FLAG_COUNT; b++) {
			if (!(f->flags_known & (1u << b)))
				continue;
			out_printf(&o, "%s\"%s\":%s", first ? "" : ",", flag_names[b],
			    (f->flags & (1u << b)) ? "true" : "false");
			first = 0;
		}
		out_printf(&o, "}");
	}
	out_printf(&o, "}");
	return o.len;
}

static const char *const wheel_suffix[4] = { "fl", "fr", "rl", "rr" };
static const char *const xyz_suffix[3] = { "x", "y", "z" };
static const char *const sector_suffix[3] = { "1", "2", "3" };

static const char *const *suffixes(unsigned b, int n)
{
	if ((1ull << b) == FRAME_P_SECTOR_TIMES)
		return sector_suffix;
	return n == 3 ? xyz_suffix : wheel_suffix;
}

size_t frame_csv_header(char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };
	struct pw_frame zero;
	double v[4];
	int is_int;

	frame_init(&zero, PW_GAME_UNKNOWN, PW_FEED_NONE);
	if (cap)
		buf[0] = 0;
	out_printf(&o, "seq,t_ns,feed,game,game_session");
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		int n = channel_values(&zero, b, v, &is_int);

		if (n == 1) {
			out_printf(&o, ",%s", channel_names[b]);
			continue;
		}
		for (int i = 0; i < n; i++)
			out_printf(&o, ",%s_%s", channel_names[b], suffixes(b, n)[i]);
	}
	for (unsigned b = 0; b < FRAME_FLAG_COUNT; b++)
		out_printf(&o, ",%s", flag_names[b]);
	return o.len;
}

size_t frame_to_csv(const struct pw_frame *f, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };
	double v[4];
	int is_int;

	if (cap)
		buf[0] = 0;
	out_printf(&o, "%llu,%lld,%s,%s,%llu", (unsigned long long)f->seq, (long long)f->t_ns,
	    frame_feed_name(f->feed), frame_game_name(f->game),
	    (unsigned long long)f->game_session);
	for (unsigned b = 0; b < FRAME_P_COUNT; b++) {
		int n = channel_values(f, b, v, &is_int);
		int on = (f->present & (1ull << b)) != 0;

		for (int i = 0; i < n; i++) {
			out_printf(&o, ",");
			if (on && has_value(b, v[i]))
				put_value(&o, b, v[i], is_int);
		}
	}
	for (unsigned b = 0; b < FRAME_FLAG_COUNT; b++) {
		out_printf(&o, ",");
		if (f->flags_known & (1u << b))
			out_printf(&o, "%d", (f->flags >> b) & 1);
	}
	return o.len;
}
