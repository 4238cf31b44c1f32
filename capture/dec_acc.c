/*
 * dec_acc.c - ACC broadcasting protocol v4 client (docs/protocols.md §5).
 *
 * Client-driven: hello() registers with ACC (REGISTER_COMMAND_APPLICATION,
 * display name "pitwall", the connection password - default "asd", ACC's
 * shipped broadcasting.json value - a 16 ms realtime interval, no command
 * password). ACC answers REGISTRATION_RESULT; on success the decoder leaves
 * REQUEST_ENTRY_LIST in st->out, and when the ENTRY_LIST arrives,
 * REQUEST_TRACK_DATA (one request per datagram, st->out holds one message).
 * A refusal is DEC_OK with the reason kept for dec_acc_error().
 *
 * Every message is variable-length and parsed with strict bounds: a field
 * that does not fit, a string or split count running past the end, or bytes
 * left over after the last field is DEC_ESIZE; an unknown type is DEC_EFORMAT.
 * Nothing is applied from a malformed message.
 *
 * Ticks: REALTIME_UPDATE (session, focused car, clock, replay) goes into
 * st->carry; the REALTIME_CAR_UPDATE of the focused car closes the tick and
 * is the frame. Other cars' updates, the entry list, track data and
 * broadcasting events are DEC_OK.
 *
 * Conventions (none verified on data: no real ACC capture exists):
 *  - gear = raw - 2 (R -1, N 0), per the Kunos SDK; raw 0 or above 17 ->
 *    gear absent.
 *  - pos_m = { WorldPosX, 0, WorldPosY } (frame.h's rule for 2-D maps),
 *    yaw_rad = Yaw. The simdesk port claims these three floats are really
 *    yaw/pitch/roll; unverified, the SDK's names are used.
 *  - lap = laps completed; lap_time_ms = current LapInfo, last/best from the
 *    car's lastLap/bestSessionLap; INT32_MAX ("no value") -> -1, present.
 *  - sector_ms = the current lap's splits as sent (-1 = not reached / none).
 *  - LAP_INVALID = current lap isInvalid; IN_PIT = car location pit lane,
 *    pit entry or pit exit; PAUSED = a replay is playing.
 *  - game_time_s = sessionTime / 1000; game_session = 1 + (eventIndex << 16 |
 *    sessionIndex), so it changes with ACC's session index.
 *  - track_len_m = TRACK_DATA trackMeters; lap_dist_m = spline * track length
 *    (both only once TRACK_DATA has arrived): the game's own values, as is
 *    lap_time_ms (the current LapInfo).
 *  - Broadcasting has no g, no velocity and no inputs: pw-capture derives
 *    accel_lat_g, accel_lon_g (from the speed and the yaw rate) and
 *    yaw_rate_rads downstream (common/derive.h), flagged derived; derive.h
 *    takes Yaw to grow turning right (Unreal's left-handed world), which no
 *    real capture has confirmed.
 * Metadata: game, format 4 (protocol version), session_type from the
 * session type, track from TRACK_DATA, car (model name from the ACC car model
 * id table, "car_model:N" when unknown), car_class and driver ("First Last"
 * of the current driver, else the team name) of the focused car.
 */
#include <stdio.h>
#include <string.h>

#include "capture/acc.h"
#include "capture/bytes.h"
#include "capture/decoder.h"

#define ACC_MAX_CARS 120 /* cars of an entry list remembered; the rest get no metadata */
#define ACC_DRIVER_LEN 48
#define ACC_MAX_GEAR 15 /* beyond any ACC gearbox: raw garbage, gear absent */

struct acc_car_entry {
	uint16_t index;
	uint8_t model;
	uint8_t known;  /* its ENTRY_LIST_CAR has arrived */
	uint8_t listed; /* in the ENTRY_LIST being applied */
	char driver[ACC_DRIVER_LEN];
};

struct acc_priv {
	int32_t connection_id;
	int32_t focused;
	int32_t track_m;
	uint8_t registered, refused, want_track_data, have_focus, password_set;
	char password[ACC_PASSWORD_MAX];
	char error[META_STR];
	uint16_t ncars;
	struct acc_car_entry cars[ACC_MAX_CARS];
};
_Static_assert(sizeof(struct acc_priv) <= sizeof(((struct dec_state *)0)->priv),
	       "acc_priv fits in dec_state.priv");

/* ---- tables ---- */

struct acc_model {
	uint8_t id;
	const char *cls;
	const char *name;
};

/* ACC carModelType ids (Kunos server admin handbook list, as reproduced by
 * several ACC tools). */
static const struct acc_model models[] = {
	{ 0, "GT3", "Porsche 991 GT3 R" },
	{ 1, "GT3", "Mercedes-AMG GT3" },
	{ 2, "GT3", "Ferrari 488 GT3" },
	{ 3, "GT3", "Audi R8 LMS" },
	{ 4, "GT3", "Lamborghini Huracan GT3" },
	{ 5, "GT3", "McLaren 650S GT3" },
	{ 6, "GT3", "Nissan GT-R Nismo GT3 2018" },
	{ 7, "GT3", "BMW M6 GT3" },
	{ 8, "GT3", "Bentley Continental GT3 2018" },
	{ 9, "CUP", "Porsche 991II GT3 Cup" },
	{ 10, "GT3", "Nissan GT-R Nismo GT3 2017" },
	{ 11, "GT3", "Bentley Continental GT3 2016" },
	{ 12, "GT3", "Aston Martin V12 Vantage GT3" },
	{ 13, "GT3", "Lamborghini Gallardo R-EX" },
	{ 14, "GT3", "Jaguar G3" },
	{ 15, "GT3", "Lexus RC F GT3" },
	{ 16, "GT3", "Lamborghini Huracan Evo (2019)" },
	{ 17, "GT3", "Honda NSX GT3" },
	{ 18, "ST", "Lamborghini Huracan SuperTrofeo" },
	{ 19, "GT3", "Audi R8 LMS Evo (2019)" },
	{ 20, "GT3", "AMR V8 Vantage (2019)" },
	{ 21, "GT3", "Honda NSX Evo (2019)" },
	{ 22, "GT3", "McLaren 720S GT3 (2019)" },
	{ 23, "GT3", "Porsche 911II GT3 R (2019)" },
	{ 24, "GT3", "Ferrari 488 GT3 Evo 2020" },
	{ 25, "GT3", "Mercedes-AMG GT3 2020" },
	{ 26, "CHL", "Ferrari 488 Challenge Evo" },
	{ 27, "TCX", "BMW M2 CS Racing" },
	{ 28, "CUP", "Porsche 911 GT3 Cup (Type 992)" },
	{ 29, "ST", "Lamborghini Huracan Super Trofeo EVO2" },
	{ 30, "GT3", "BMW M4 GT3" },
	{ 31, "GT3", "Audi R8 LMS GT3 evo II" },
	{ 32, "GT3", "Ferrari 296 GT3" },
	{ 33, "GT3", "Lamborghini Huracan Evo2" },
	{ 34, "GT3", "Porsche 992 GT3 R" },
	{ 35, "GT3", "McLaren 720S GT3 Evo 2023" },
	{ 36, "GT3", "Ford Mustang GT3" },
	{ 50, "GT4", "Alpine A110 GT4" },
	{ 51, "GT4", "AMR V8 Vantage GT4" },
	{ 52, "GT4", "Audi R8 LMS GT4" },
	{ 53, "GT4", "BMW M4 GT4" },
	{ 55, "GT4", "Chevrolet Camaro GT4" },
	{ 56, "GT4", "Ginetta G55 GT4" },
	{ 57, "GT4", "KTM X-Bow GT4" },
	{ 58, "GT4", "Maserati MC GT4" },
	{ 59, "GT4", "McLaren 570S GT4" },
	{ 60, "GT4", "Mercedes-AMG GT4" },
	{ 61, "GT4", "Porsche 718 Cayman GT4" },
	{ 80, "GT2", "Audi R8 LMS GT2" },
	{ 82, "GT2", "KTM XBOW GT2" },
	{ 83, "GT2", "Maserati MC20 GT2" },
	{ 84, "GT2", "Mercedes AMG GT2" },
	{ 85, "GT2", "Porsche 911 GT2 RS CS Evo" },
	{ 86, "GT2", "Porsche 935" },
};

static const char *const session_types[] = {
	[0] = "practice", [4] = "qualifying", [9] = "superpole",         [10] = "race",
	[11] = "hotlap",  [12] = "hotstint",  [13] = "hotlap_superpole", [14] = "replay",
};

static const struct acc_model *model_by_id(unsigned id)
{
	for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
		if (models[i].id == id)
			return &models[i];
	return NULL;
}

const char *acc_car_model_name(unsigned id)
{
	const struct acc_model *m = model_by_id(id);
	return m ? m->name : NULL;
}

const char *acc_car_model_class(unsigned id)
{
	const struct acc_model *m = model_by_id(id);
	return m ? m->cls : NULL;
}

int acc_car_model_id(const char *name)
{
	for (size_t i = 0; name && i < sizeof models / sizeof models[0]; i++)
		if (strcmp(models[i].name, name) == 0)
			return models[i].id;
	return -1;
}

const char *acc_session_type_name(unsigned type)
{
	return type < sizeof session_types / sizeof session_types[0] ? session_types[type] : NULL;
}

int acc_session_type_id(const char *name)
{
	for (unsigned i = 0; name && i < sizeof session_types / sizeof session_types[0]; i++)
		if (session_types[i] && strcmp(session_types[i], name) == 0)
			return (int)i;
	return -1;
}

/* ---- reading ---- */

struct acc_lap {
	int32_t time_ms;
	uint8_t nsplit, invalid;
	int32_t split[3];
};

static void get_lap(struct acc_rd *r, struct acc_lap *lap)
{
	unsigned n;

	lap->time_ms = acc_get_i32(r);
	acc_get_u16(r); /* carIndex */
	acc_get_u16(r); /* driverIndex */
	n = acc_get_u8(r);
	lap->nsplit = (uint8_t)n;
	for (unsigned i = 0; i < n && !r->bad; i++) {
		int32_t s = acc_get_i32(r);
		if (i < 3)
			lap->split[i] = s;
	}
	lap->invalid = acc_get_u8(r) > 0;
	acc_get_u8(r); /* isValidForBest */
	acc_get_u8(r); /* isOutlap */
	acc_get_u8(r); /* isInlap */
}

/* ---- strings: network UTF-8 into metadata ---- */

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid. */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* Copy whole valid sequences (invalid bytes become '?') while they fit; NUL-terminated. */
static size_t utf8_clean(char *dst, size_t cap, struct acc_str s)
{
	size_t o = 0, i = 0;

	if (cap == 0)
		return 0;
	while (i < s.n) {
		size_t k = utf8_seq(s.p + i, s.n - i);
		size_t w = k ? k : 1;
		if (o + w >= cap)
			break;
		if (k)
			memcpy(dst + o, s.p + i, k);
		else
			dst[o] = '?';
		o += w;
		i += w;
	}
	dst[o] = '\0';
	return o;
}

/* Most messages repeat the current value: an equal string is already what
 * dec_meta_set() would make of it (meta strings are only ever set through it),
 * so only a different one pays for the sanitizing copy. */
static void meta_str(struct dec_state *st, char *dst, size_t cap, const char *src)
{
	if (strcmp(dst, src) != 0)
		dec_meta_set(st, dst, cap, src, strlen(src));
}

static void meta_acc_str(struct dec_state *st, char *dst, size_t cap, struct acc_str s)
{
	char tmp[META_STR];

	utf8_clean(tmp, cap < sizeof tmp ? cap : sizeof tmp, s);
	meta_str(st, dst, cap, tmp);
}

static void set_common_meta(struct dec_state *st)
{
	meta_str(st, st->meta.game, sizeof st->meta.game, frame_game_name(PW_GAME_ACC));
	if (st->meta.format != ACC_PROTOCOL_VERSION) {
		st->meta.format = ACC_PROTOCOL_VERSION;
		st->meta_gen++;
	}
}

/* ---- state ---- */

static struct acc_priv *priv(struct dec_state *st)
{
	return (struct acc_priv *)st->priv;
}

static const struct acc_priv *cpriv(const struct dec_state *st)
{
	return (const struct acc_priv *)st->priv;
}

static struct acc_car_entry *car_entry(struct acc_priv *p, uint16_t index, int add)
{
	for (unsigned i = 0; i < p->ncars; i++)
		if (p->cars[i].index == index)
			return &p->cars[i];
	if (!add || p->ncars >= ACC_MAX_CARS)
		return NULL;
	memset(&p->cars[p->ncars], 0, sizeof p->cars[0]);
	p->cars[p->ncars].index = index;
	return &p->cars[p->ncars++];
}

/* Car, class and driver of the focused car; cleared while it is unknown. */
static void focus_meta(struct dec_state *st)
{
	struct acc_priv *p = priv(st);
	const struct acc_car_entry *e = NULL;
	char unknown[META_STR];
	const char *car = "", *cls = NULL, *driver = "";

	if (p->have_focus && p->focused >= 0 && p->focused <= UINT16_MAX)
		e = car_entry(p, (uint16_t)p->focused, 0);
	if (e && e->known) {
		car = acc_car_model_name(e->model);
		if (!car) {
			snprintf(unknown, sizeof unknown, "car_model:%u", e->model);
			car = unknown;
		}
		cls = acc_car_model_class(e->model);
		driver = e->driver;
	}
	meta_str(st, st->meta.car, sizeof st->meta.car, car);
	meta_str(st, st->meta.car_class, sizeof st->meta.car_class, cls ? cls : "");
	meta_str(st, st->meta.driver, sizeof st->meta.driver, driver);
}

static void set_request(struct dec_state *st, uint8_t type, int32_t connection_id)
{
	struct acc_wr w = { st->out, sizeof st->out, 0, 0 };

	acc_put_u8(&w, type);
	acc_put_i32(&w, connection_id);
	st->out_len = acc_wr_done(&w);
}

static void ensure_carry(struct dec_state *st)
{
	if (st->carry.version != FRAME_VERSION)
		frame_init(&st->carry, PW_GAME_ACC, PW_FEED_ACC);
}

/* ---- messages ---- */

static int on_registration(struct dec_state *st, struct acc_rd *r)
{
	struct acc_priv *p = priv(st);
	int32_t id = acc_get_i32(r);
	uint8_t success = acc_get_u8(r);
	struct acc_str err;

	acc_get_u8(r); /* readonly flag: only matters for commands, which we never send */
	err = acc_get_str(r);
	if (!acc_rd_complete(r))
		return DEC_ESIZE;
	set_common_meta(st);
	if (success) {
		p->connection_id = id;
		p->registered = 1;
		p->refused = 0;
		p->error[0] = '\0';
		p->want_track_data = 1;
		set_request(st, ACC_OUT_REQUEST_ENTRY_LIST, id);
	} else {
		p->registered = 0;
		p->refused = 1;
		p->want_track_data = 0;
		if (utf8_clean(p->error, sizeof p->error, err) == 0)
			snprintf(p->error, sizeof p->error, "registration refused");
	}
	return DEC_OK;
}

static int on_realtime(struct dec_state *st, struct acc_rd *r)
{
	struct acc_priv *p = priv(st);
	uint16_t event = acc_get_u16(r), session = acc_get_u16(r);
	uint8_t type = acc_get_u8(r), replay;
	float session_ms;
	int32_t focused;
	const char *type_name;
	struct acc_lap best;

	acc_get_u8(r); /* phase */
	session_ms = acc_get_f32(r);
	acc_get_f32(r); /* sessionEndTime */
	focused = acc_get_i32(r);
	acc_get_str(r); /* activeCameraSet */
	acc_get_str(r); /* activeCamera */
	acc_get_str(r); /* currentHudPage */
	replay = acc_get_u8(r);
	if (replay) {
		acc_get_f32(r); /* replaySessionTime */
		acc_get_f32(r); /* replayRemainingTime */
	}
	acc_get_f32(r); /* timeOfDay */
	for (int i = 0; i < 5; i++)
		acc_get_u8(r); /* ambient, track temp, clouds, rain, wetness */
	get_lap(r, &best);
	if (!acc_rd_complete(r))
		return DEC_ESIZE;

	set_common_meta(st);
	st->carry.game_session = 1 + ((uint64_t)event << 16 | session);
	if (st->meta.game_session != st->carry.game_session) {
		st->meta.game_session = st->carry.game_session;
		st->meta_gen++;
	}
	st->carry.game_time_s = session_ms / 1000.0;
	st->carry.present = FRAME_P_GAME_TIME;
	st->carry.flags_known = FRAME_FLAG_IN_PIT | FRAME_FLAG_LAP_INVALID | FRAME_FLAG_PAUSED;
	st->carry.flags = replay ? FRAME_FLAG_PAUSED : 0;
	type_name = acc_session_type_name(type);
	meta_str(st, st->meta.session_type, sizeof st->meta.session_type,
		 type_name ? type_name : "unknown");
	p->have_focus = 1;
	p->focused = focused;
	focus_meta(st);
	return DEC_OK;
}

static int32_t lap_time(int32_t ms)
{
	return ms == ACC_TIME_NONE || ms < 0 ? -1 : ms;
}

struct acc_car_update {
	uint16_t car;
	uint8_t gear_raw, location;
	float x, y, yaw, spline;
	uint16_t kmh, position, laps;
	struct acc_lap best, last, cur;
};

static void car_frame(const struct dec_state *st, const struct acc_car_update *u,
		      struct pw_frame *out)
{
	const struct acc_priv *p = cpriv(st);
	int gear = (int)u->gear_raw - 2;

	*out = st->carry;
	out->present |= FRAME_P_SPEED | FRAME_P_POS | FRAME_P_YAW | FRAME_P_SPLINE | FRAME_P_LAP |
			FRAME_P_LAP_TIME | FRAME_P_LAST_LAP | FRAME_P_BEST_LAP |
			FRAME_P_SECTOR_TIMES;
	if (gear >= -1 && gear <= ACC_MAX_GEAR) {
		out->gear = (int8_t)gear;
		out->present |= FRAME_P_GEAR;
	}
	out->speed_kmh = u->kmh;
	out->pos_m[0] = u->x;
	out->pos_m[2] = u->y;
	out->yaw_rad = u->yaw;
	if (u->position > 0) {
		out->position = (uint8_t)(u->position > 255 ? 255 : u->position);
		out->present |= FRAME_P_POSITION;
	}
	out->spline = u->spline;
	out->lap = u->laps;
	out->lap_time_ms = lap_time(u->cur.time_ms);
	out->last_lap_ms = lap_time(u->last.time_ms);
	out->best_lap_ms = lap_time(u->best.time_ms);
	for (int i = 0; i < 3; i++)
		out->sector_ms[i] = i < u->cur.nsplit ? lap_time(u->cur.split[i]) : -1;
	if (u->location >= ACC_LOC_PITLANE && u->location <= ACC_LOC_PIT_EXIT)
		out->flags |= FRAME_FLAG_IN_PIT;
	if (u->cur.invalid)
		out->flags |= FRAME_FLAG_LAP_INVALID;
	out->flags_known |= FRAME_FLAG_IN_PIT | FRAME_FLAG_LAP_INVALID | FRAME_FLAG_PAUSED;
	if (p->track_m > 0) {
		out->track_len_m = (float)p->track_m;
		out->lap_dist_m = fin(u->spline * (float)p->track_m);
		out->present |= FRAME_P_TRACK_LEN | FRAME_P_LAP_DIST;
	}
}

static int on_car_update(struct dec_state *st, struct acc_rd *r, struct pw_frame *out)
{
	const struct acc_priv *p = cpriv(st);
	struct acc_car_update u;

	memset(&u, 0, sizeof u);
	u.car = acc_get_u16(r);
	acc_get_u16(r); /* driverIndex */
	acc_get_u8(r);  /* driverCount */
	u.gear_raw = acc_get_u8(r);
	u.x = acc_get_f32(r);
	u.y = acc_get_f32(r);
	u.yaw = acc_get_f32(r);
	u.location = acc_get_u8(r);
	u.kmh = acc_get_u16(r);
	u.position = acc_get_u16(r);
	acc_get_u16(r); /* cupPosition */
	acc_get_u16(r); /* trackPosition */
	u.spline = acc_get_f32(r);
	u.laps = acc_get_u16(r);
	acc_get_i32(r); /* delta */
	get_lap(r, &u.best);
	get_lap(r, &u.last);
	get_lap(r, &u.cur);
	if (!acc_rd_complete(r))
		return DEC_ESIZE;
	set_common_meta(st);
	if (!p->have_focus || p->focused != u.car)
		return DEC_OK;
	car_frame(st, &u, out);
	return DEC_FRAME;
}

/* The cars of a new entry list; cars still listed keep what their ENTRY_LIST_CAR said. */
static void apply_entry_list(struct acc_priv *p, const uint8_t *index, unsigned count)
{
	size_t len = 2 * (size_t)count;
	unsigned kept = 0;

	for (unsigned i = 0; i < p->ncars; i++)
		p->cars[i].listed = 0;
	for (unsigned i = 0; i < count; i++) {
		struct acc_car_entry *e = car_entry(p, rd_u16(index, len, 2 * (size_t)i), 0);
		if (e)
			e->listed = 1;
	}
	for (unsigned i = 0; i < p->ncars; i++)
		if (p->cars[i].listed)
			p->cars[kept++] = p->cars[i];
	p->ncars = (uint16_t)kept;
	for (unsigned i = 0; i < count; i++)
		car_entry(p, rd_u16(index, len, 2 * (size_t)i), 1);
}

static int on_entry_list(struct dec_state *st, struct acc_rd *r)
{
	struct acc_priv *p = priv(st);
	size_t first;
	uint16_t count;

	acc_get_i32(r); /* connectionId */
	count = acc_get_u16(r);
	first = r->off;
	for (unsigned i = 0; i < count && !r->bad; i++)
		acc_get_u16(r);
	if (!acc_rd_complete(r))
		return DEC_ESIZE;
	set_common_meta(st);
	apply_entry_list(p, r->b + first, count);
	if (p->want_track_data) {
		p->want_track_data = 0;
		set_request(st, ACC_OUT_REQUEST_TRACK_DATA, p->connection_id);
	}
	focus_meta(st);
	return DEC_OK;
}

static int on_track_data(struct dec_state *st, struct acc_rd *r)
{
	struct acc_priv *p = priv(st);
	struct acc_str name;
	int32_t meters;
	unsigned sets, pages;

	acc_get_i32(r); /* connectionId */
	name = acc_get_str(r);
	acc_get_i32(r); /* trackId */
	meters = acc_get_i32(r);
	sets = acc_get_u8(r);
	for (unsigned s = 0; s < sets && !r->bad; s++) {
		unsigned cams;
		acc_get_str(r); /* camera set name */
		cams = acc_get_u8(r);
		for (unsigned c = 0; c < cams && !r->bad; c++)
			acc_get_str(r);
	}
	pages = acc_get_u8(r);
	for (unsigned i = 0; i < pages && !r->bad; i++)
		acc_get_str(r);
	if (!acc_rd_complete(r))
		return DEC_ESIZE;
	set_common_meta(st);
	meta_acc_str(st, st->meta.track, sizeof st->meta.track, name);
	p->track_m = meters > 0 ? meters : 0;
	if (st->meta.track_len_m != (float)p->track_m) {
		st->meta.track_len_m = (float)p->track_m;
		st->meta_gen++;
	}
	return DEC_OK;
}

/* "First Last" into dst (cap bytes), whole UTF-8 sequences only. */
static void driver_name(char *dst, size_t cap, struct acc_str first, struct acc_str last)
{
	size_t n = utf8_clean(dst, cap, first);

	if (n > 0 && last.n > 0 && n + 2 < cap)
		dst[n++] = ' ';
	utf8_clean(dst + n, cap - n, last);
}

static int on_entry_list_car(struct dec_state *st, struct acc_rd *r)
{
	struct acc_priv *p = priv(st);
	struct acc_car_entry *e;
	struct acc_str team, first = { NULL, 0 }, last = { NULL, 0 };
	uint16_t car;
	uint8_t model, current, drivers;
	char driver[ACC_DRIVER_LEN];

	car = acc_get_u16(r);
	model = acc_get_u8(r);
	team = acc_get_str(r);
	acc_get_i32(r); /* raceNumber */
	acc_get_u8(r);  /* cupCategory */
	current = acc_get_u8(r);
	acc_get_u16(r); /* nationality */
	drivers = acc_get_u8(r);
	for (unsigned d = 0; d < drivers && !r->bad; d++) {
		struct acc_str f = acc_get_str(r), l = acc_get_str(r);
		acc_get_str(r); /* shortName */
		acc_get_u8(r);  /* category */
		acc_get_u16(r); /* nationality */
		if (d == current) {
			first = f;
			last = l;
		}
	}
	if (!acc_rd_complete(r))
		return DEC_ESIZE;
	set_common_meta(st);
	driver_name(driver, sizeof driver, first, last);
	if (driver[0] == '\0')
		utf8_clean(driver, sizeof driver, team);
	e = car_entry(p, car, 1);
	if (e) {
		e->model = model;
		e->known = 1;
		memcpy(e->driver, driver, sizeof driver);
	}
	if (p->have_focus && p->focused == car)
		focus_meta(st);
	return DEC_OK;
}

static int on_broadcasting_event(struct dec_state *st, struct acc_rd *r)
{
	acc_get_u8(r);  /* type */
	acc_get_str(r); /* message */
	acc_get_i32(r); /* timeMs */
	acc_get_i32(r); /* carIndex */
	if (!acc_rd_complete(r))
		return DEC_ESIZE;
	set_common_meta(st);
	return DEC_OK;
}

static int acc_decode(struct dec_state *st, const uint8_t *buf, size_t len, struct pw_frame *out)
{
	struct acc_rd r = { buf, len, 1, 0 };

	if (!buf || len == 0)
		return DEC_ESIZE;
	ensure_carry(st);
	switch (buf[0]) {
	case ACC_IN_REGISTRATION_RESULT:
		return on_registration(st, &r);
	case ACC_IN_REALTIME_UPDATE:
		return on_realtime(st, &r);
	case ACC_IN_REALTIME_CAR_UPDATE:
		return on_car_update(st, &r, out);
	case ACC_IN_ENTRY_LIST:
		return on_entry_list(st, &r);
	case ACC_IN_TRACK_DATA:
		return on_track_data(st, &r);
	case ACC_IN_ENTRY_LIST_CAR:
		return on_entry_list_car(st, &r);
	case ACC_IN_BROADCASTING_EVENT:
		return on_broadcasting_event(st, &r);
	default:
		return DEC_EFORMAT;
	}
}

/* ---- talking to ACC ---- */

static size_t acc_hello(struct dec_state *st, uint8_t *buf, size_t cap)
{
	struct acc_priv *p = priv(st);
	struct acc_wr w = { buf, cap, 0, 0 };

	p->registered = 0;
	p->refused = 0;
	p->error[0] = '\0';
	p->want_track_data = 0;
	acc_put_u8(&w, ACC_OUT_REGISTER);
	acc_put_u8(&w, ACC_PROTOCOL_VERSION);
	acc_put_str(&w, ACC_DISPLAY_NAME);
	acc_put_str(&w, p->password_set ? p->password : ACC_DEFAULT_PASSWORD);
	acc_put_i32(&w, ACC_UPDATE_INTERVAL_MS);
	acc_put_str(&w, ""); /* command password: we send no commands */
	return acc_wr_done(&w);
}

/*
 * UNREGISTER: the Kunos SDK sends the type byte alone, the simdesk port
 * appends the connection id like every other post-registration request. We
 * send the id too: a reader of the SDK form stops after the type byte, and a
 * server that expects the id (as simdesk's model of it does) finds it.
 */
static size_t acc_bye(struct dec_state *st, uint8_t *buf, size_t cap)
{
	struct acc_priv *p = priv(st);
	struct acc_wr w = { buf, cap, 0, 0 };

	acc_put_u8(&w, ACC_OUT_UNREGISTER);
	acc_put_i32(&w, p->connection_id);
	p->registered = 0;
	return acc_wr_done(&w);
}

void dec_acc_set_password(struct dec_state *st, const char *pw)
{
	struct acc_priv *p = priv(st);

	p->password_set = pw != NULL;
	snprintf(p->password, sizeof p->password, "%s", pw ? pw : "");
}

int dec_acc_registered(const struct dec_state *st)
{
	return cpriv(st)->registered;
}

const char *dec_acc_error(const struct dec_state *st)
{
	const struct acc_priv *p = cpriv(st);
	return p->refused ? p->error : NULL;
}

const struct decoder dec_acc = {
	.feed = "acc",
	.feed_id = PW_FEED_ACC,
	.title = "Assetto Corsa Competizione broadcasting",
	.default_port = 9000,
	.mode = DEC_CLIENT,
	.max_rate_hz = 100,
	.raw_bytes_per_s = 100 * 400,
	.decode = acc_decode,
	.hello = acc_hello,
	.bye = acc_bye,
};
