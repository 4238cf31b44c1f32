/*
 * enc_f1.c - F1 23 / F1 24 / F1 25 packets for pw-sim: the inverse of dec_f1.c.
 *
 * Per tick, in this order: Session (every 30 ticks) with the player's Session
 * History, Participants (every 300 ticks), then Motion, Lap Data, Car Status,
 * Car Damage and Car Telemetry last, because the decoder emits its frame on
 * Car Telemetry. Tick 0 sends all of them. The simulated car is car 0 and the
 * player; the other 21 records stay zero (inactive). Layouts and conventions
 * are those documented in dec_f1.c (docs/protocols.md section 7), exact sizes per
 * year. Quantization: speed km/h, rpm, max rpm, clutch %, temperatures degC
 * are integers; direction vectors are s16/32767, so vel_ms comes back to
 * about 1e-4 relative.
 *
 * Meta strings travel as game ids: meta.track must be one of the decoder's
 * track names (else trackId -1), meta.car one of the ten current team names
 * of that year (else F1 Generic), meta.session_type "practice", "qualifying",
 * "race" or "time_trial" (else unknown).
 */
#include <math.h>
#include <string.h>

#include "capture/bytes.h"
#include "capture/f1.h"
#include "capture/sim/encoder.h"

#define F1_MAX_PACKET 1460 /* the largest size in f1_layouts (History) */
#define F1_SESSION_EVERY 30
#define F1_PARTICIPANTS_EVERY 300
#define F1_FUEL_CAPACITY_KG 110.0f
#define F1_TEAM_GENERIC 41

struct f1_packet {
	uint8_t b[F1_MAX_PACKET];
	size_t len;
};

static int has(const struct pw_frame *f, uint64_t bit)
{
	return (f->present & bit) != 0;
}

static uint8_t f1_u8(float v)
{
	return v <= 0.0f || v != v ? 0 : v >= 255.0f ? 255 : (uint8_t)lrintf(v);
}

static uint16_t f1_u16(float v)
{
	return v <= 0.0f || v != v ? 0 : v >= 65535.0f ? 65535 : (uint16_t)lrintf(v);
}

static void f1_begin(struct f1_packet *p, const struct f1_layout *y, unsigned id, size_t len,
		     const struct enc_state *es, const struct pw_frame *f)
{
	memset(p->b, 0, len);
	p->len = len;
	wr_u16(p->b, len, F1_HDR_FORMAT, y->format);
	wr_u8(p->b, len, F1_HDR_GAME_YEAR, y->game_year);
	wr_u8(p->b, len, F1_HDR_MAJOR, 1);   /* game version 1.00 */
	wr_u8(p->b, len, F1_HDR_VERSION, 1); /* packet version */
	wr_u8(p->b, len, F1_HDR_PACKET_ID, (uint8_t)id);
	wr_u64(p->b, len, F1_HDR_SESSION_UID, f->game_session);
	wr_f32(p->b, len, F1_HDR_SESSION_TIME, (float)f->game_time_s);
	wr_u32(p->b, len, F1_HDR_FRAME, (uint32_t)es->tick);
	wr_u32(p->b, len, F1_HDR_OVERALL_FRAME, (uint32_t)es->tick);
	wr_u8(p->b, len, F1_HDR_PLAYER, 0);          /* player = car 0 */
	wr_u8(p->b, len, F1_HDR_SECOND_PLAYER, 255); /* no second player */
}

static void f1_send(const struct f1_packet *p, enc_emit_fn emit, void *ctx)
{
	emit(ctx, p->b, p->len);
}

/* meta fields may lack a NUL when filled by hand: compare within the field */
#define META_IS(field, s) (strncmp((field), (s), sizeof(field)) == 0)

static int f1_track_id(const struct pw_meta *m)
{
	for (size_t i = 0; i < F1_TRACK_IDS; i++)
		if (f1_tracks[i] && META_IS(m->track, f1_tracks[i]))
			return (int)i;
	return -1;
}

static unsigned f1_team_id(const struct f1_layout *y, const struct pw_meta *m)
{
	for (unsigned i = 0; i < 10; i++)
		if (y->teams[i] && META_IS(m->car, y->teams[i]))
			return i;
	return F1_TEAM_GENERIC;
}

static unsigned f1_session_type(const struct f1_layout *y, const struct pw_meta *m)
{
	if (META_IS(m->session_type, "practice"))
		return 1;
	if (META_IS(m->session_type, "qualifying"))
		return 5;
	if (META_IS(m->session_type, "race"))
		return y->race_first;
	if (META_IS(m->session_type, "time_trial"))
		return y->race_first + 3u;
	return 0;
}

static float f1_track_len(const struct pw_frame *f, const struct pw_meta *m)
{
	return has(f, FRAME_P_TRACK_LEN) ? f->track_len_m : m->track_len_m;
}

static void encode_session(struct f1_packet *p, const struct f1_layout *y,
			   const struct enc_state *es, const struct pw_frame *f,
			   const struct pw_meta *m)
{
	f1_begin(p, y, F1_SESSION, y->size[F1_SESSION], es, f);
	wr_u8(p->b, p->len, 30, 30); /* track degC */
	wr_u8(p->b, p->len, 31, 22); /* air degC */
	wr_u8(p->b, p->len, 32, 5);  /* total laps */
	wr_u16(p->b, p->len, 33, f1_u16(f1_track_len(f, m)));
	wr_u8(p->b, p->len, 35, (uint8_t)f1_session_type(y, m));
	wr_u8(p->b, p->len, 36, (uint8_t)(int8_t)f1_track_id(m));
	wr_u16(p->b, p->len, 38, 3600); /* time left, s */
	wr_u16(p->b, p->len, 40, 3600); /* duration, s */
	wr_u8(p->b, p->len, 42, 80);    /* pit speed limit, km/h */
	wr_u8(p->b, p->len, 43, (f->flags & FRAME_FLAG_PAUSED) ? 1 : 0);
	wr_u8(p->b, p->len, 45, 255); /* spectator car: none */
}

static void encode_history(struct f1_packet *p, const struct f1_layout *y,
			   const struct enc_state *es, const struct pw_frame *f)
{
	int best = has(f, FRAME_P_BEST_LAP) && f->best_lap_ms > 0;

	f1_begin(p, y, F1_HISTORY, y->size[F1_HISTORY], es, f);
	wr_u8(p->b, p->len, 29, 0); /* car index */
	wr_u8(p->b, p->len, 30, (uint8_t)(f->lap < 99 ? f->lap + 1 : 100));
	wr_u8(p->b, p->len, 31, 1); /* tyre stints */
	wr_u8(p->b, p->len, 32, best ? 1 : 0);
	if (best) {
		wr_u32(p->b, p->len, 36, (uint32_t)f->best_lap_ms);
		wr_u8(p->b, p->len, 36 + 13, 0x0f); /* lap and sectors valid */
	}
	wr_u8(p->b, p->len, 1436, 255); /* stint 0 ends: current tyres */
	wr_u8(p->b, p->len, 1437, 18);  /* C3 */
	wr_u8(p->b, p->len, 1438, 17);  /* medium */
}

static void encode_participants(struct f1_packet *p, const struct f1_layout *y,
				const struct enc_state *es, const struct pw_frame *f,
				const struct pw_meta *m)
{
	size_t o = F1_HDR + 1, name = strnlen(m->driver, sizeof m->driver);
	size_t after = o + 7 + y->name_len;

	if (name > y->name_len - 1u)
		name = y->name_len - 1u;
	f1_begin(p, y, F1_PARTICIPANTS, y->size[F1_PARTICIPANTS], es, f);
	wr_u8(p->b, p->len, F1_HDR, 1);  /* active cars */
	wr_u8(p->b, p->len, o + 1, 255); /* driver id: human */
	wr_u8(p->b, p->len, o + 3, (uint8_t)f1_team_id(y, m));
	wr_u8(p->b, p->len, o + 5, 1); /* race number */
	memcpy(p->b + o + 7, m->driver, name);
	wr_u8(p->b, p->len, after, 1);     /* telemetry public */
	wr_u8(p->b, p->len, after + 1, 1); /* show online names */
	if (y->format == 2023)
		wr_u8(p->b, p->len, after + 2, 255); /* platform unknown */
	else
		wr_u8(p->b, p->len, after + 4, 255); /* after u16 tech level */
}

static void encode_motion(struct f1_packet *p, const struct f1_layout *y,
			  const struct enc_state *es, const struct pw_frame *f)
{
	float cy = cosf(f->yaw_rad), sy = sinf(f->yaw_rad);
	float cp = cosf(f->pitch_rad), sp = sinf(f->pitch_rad);
	float cr = cosf(f->roll_rad), sr = sinf(f->roll_rad);
	/* the game's car frame: x left, y up, z forward; yaw, pitch, roll applied in that order */
	float fw[3] = { cp * sy, -sp, cp * cy };
	float rt[3] = { -(cr * cy + sr * sp * sy), -sr * cp, -(-cr * sy + sr * sp * cy) };
	float up[3] = { rt[1] * fw[2] - rt[2] * fw[1], rt[2] * fw[0] - rt[0] * fw[2],
			rt[0] * fw[1] - rt[1] * fw[0] };
	size_t o = F1_HDR;

	f1_begin(p, y, F1_MOTION, y->size[F1_MOTION], es, f);
	for (int i = 0; i < 3; i++) {
		float v = rt[i] * f->vel_ms[0] + up[i] * f->vel_ms[1] + fw[i] * f->vel_ms[2];
		wr_f32(p->b, p->len, o + 4 * (size_t)i, f->pos_m[i]);
		wr_f32(p->b, p->len, o + 12 + 4 * (size_t)i, v);
		wr_u16(p->b, p->len, o + 24 + 2 * (size_t)i,
		       (uint16_t)(int16_t)lrintf(fw[i] * 32767.0f));
		wr_u16(p->b, p->len, o + 30 + 2 * (size_t)i,
		       (uint16_t)(int16_t)lrintf(rt[i] * 32767.0f));
	}
	wr_f32(p->b, p->len, o + 36, -f->accel_lat_g);
	wr_f32(p->b, p->len, o + 40, f->accel_lon_g);
	wr_f32(p->b, p->len, o + 44, f->accel_vert_g);
	wr_f32(p->b, p->len, o + 48, f->yaw_rad);
	wr_f32(p->b, p->len, o + 52, f->pitch_rad);
	wr_f32(p->b, p->len, o + 56, f->roll_rad);
}

static void f1_put_split(struct f1_packet *p, size_t off, int32_t ms)
{
	if (ms < 0)
		return;
	wr_u16(p->b, p->len, off, (uint16_t)(ms % 60000));
	wr_u8(p->b, p->len, off + 2, (uint8_t)(ms / 60000));
}

static void encode_lap(struct f1_packet *p, const struct f1_layout *y, const struct enc_state *es,
		       const struct pw_frame *f, const struct pw_meta *m)
{
	size_t o = F1_HDR, d = o + y->lap_dist_off;
	uint8_t position = has(f, FRAME_P_POSITION) && f->position ? f->position : 1;

	f1_begin(p, y, F1_LAP, y->size[F1_LAP], es, f);
	wr_u32(p->b, p->len, o, f->last_lap_ms > 0 ? (uint32_t)f->last_lap_ms : 0);
	wr_u32(p->b, p->len, o + 4, f->lap_time_ms > 0 ? (uint32_t)f->lap_time_ms : 0);
	f1_put_split(p, o + 8, f->sector >= 1 ? f->sector_ms[0] : -1);
	f1_put_split(p, o + 11, f->sector >= 2 ? f->sector_ms[1] : -1);
	wr_f32(p->b, p->len, d, f->lap_dist_m);
	wr_f32(p->b, p->len, d + 4, f->lap_dist_m + (float)f->lap * f1_track_len(f, m));
	wr_u8(p->b, p->len, d + 12, position);
	wr_u8(p->b, p->len, d + 13, (uint8_t)(f->lap < 254 ? f->lap + 1 : 255));
	wr_u8(p->b, p->len, d + 14, (f->flags & FRAME_FLAG_IN_PIT) ? 1 : 0);
	wr_u8(p->b, p->len, d + 16, f->sector <= 2 ? f->sector : 2);
	wr_u8(p->b, p->len, d + 17, (f->flags & FRAME_FLAG_LAP_INVALID) ? 1 : 0);
	wr_u8(p->b, p->len, d + 23, position);                               /* grid position */
	wr_u8(p->b, p->len, d + 24, (f->flags & FRAME_FLAG_IN_PIT) ? 0 : 4); /* garage / on track */
	wr_u8(p->b, p->len, d + 25, 2);                                      /* result: active */
	if (y->format != 2023)
		wr_u8(p->b, p->len, o + 56, 255);                        /* speed trap lap: none */
	wr_u8(p->b, p->len, F1_HDR + (size_t)F1_CARS * y->lap_rec, 255); /* TT PB car */
	wr_u8(p->b, p->len, F1_HDR + (size_t)F1_CARS * y->lap_rec + 1, 255); /* TT rival car */
}

static void encode_status(struct f1_packet *p, const struct f1_layout *y,
			  const struct enc_state *es, const struct pw_frame *f)
{
	size_t o = F1_HDR;
	int fuel = has(f, FRAME_P_FUEL_FRAC);

	f1_begin(p, y, F1_STATUS, y->size[F1_STATUS], es, f);
	wr_u8(p->b, p->len, o + 2, 1);  /* fuel mix standard */
	wr_u8(p->b, p->len, o + 3, 56); /* front brake bias % */
	wr_u8(p->b, p->len, o + 4, (f->flags & FRAME_FLAG_LIMITER) ? 1 : 0);
	/* capacity 0 tells the decoder fuel is unknown */
	wr_f32(p->b, p->len, o + 5, fuel ? f->fuel_frac * F1_FUEL_CAPACITY_KG : 0.0f);
	wr_f32(p->b, p->len, o + 9, fuel ? F1_FUEL_CAPACITY_KG : 0.0f);
	wr_u16(p->b, p->len, o + 17, has(f, FRAME_P_MAX_RPM) ? f1_u16(f->max_rpm) : 0);
	wr_u16(p->b, p->len, o + 19, 3500); /* idle rpm */
	wr_u8(p->b, p->len, o + 21, has(f, FRAME_P_NUM_GEARS) ? (uint8_t)(f->num_gears + 1) : 0);
	wr_u8(p->b, p->len, o + 25, 18);          /* C3 */
	wr_u8(p->b, p->len, o + 26, 17);          /* medium */
	wr_f32(p->b, p->len, o + 29, f->power_w); /* all of it as ICE, MGU-K 0 */
	wr_f32(p->b, p->len, o + 37, 4e6f);       /* ERS store full, J */
	wr_u8(p->b, p->len, o + 41, 1);           /* ERS deploy medium */
}

static void encode_damage(struct f1_packet *p, const struct f1_layout *y,
			  const struct enc_state *es, const struct pw_frame *f)
{
	f1_begin(p, y, F1_DAMAGE, y->size[F1_DAMAGE], es, f);
	for (int w = 0; w < 4; w++) {
		float wear = has(f, FRAME_P_TYRE_WEAR) ? (1.0f - f->tyre_wear[w]) * 100.0f : 0.0f;
		wr_f32(p->b, p->len, F1_HDR + 4u * f1_wheel[w], wear);
	}
}

static void encode_telemetry(struct f1_packet *p, const struct enc_state *es,
			     const struct f1_layout *y, const struct pw_frame *f)
{
	size_t o = F1_HDR, tail = F1_HDR + (size_t)F1_CARS * F1_TELEMETRY_REC;
	float rev = f->max_rpm > 0.0f ? f->rpm / f->max_rpm * 100.0f : 0.0f;

	f1_begin(p, y, F1_TELEMETRY, y->size[F1_TELEMETRY], es, f);
	wr_u16(p->b, p->len, o, f1_u16(f->speed_kmh));
	wr_f32(p->b, p->len, o + 2, f->throttle);
	wr_f32(p->b, p->len, o + 6, f->steer);
	wr_f32(p->b, p->len, o + 10, f->brake);
	wr_u8(p->b, p->len, o + 14, f1_u8(f->clutch * 100.0f));
	wr_u8(p->b, p->len, o + 15, (uint8_t)f->gear);
	wr_u16(p->b, p->len, o + 16, f1_u16(f->rpm));
	wr_u8(p->b, p->len, o + 19, f1_u8(rev > 100.0f ? 100.0f : rev));
	for (int w = 0; w < 4; w++) {
		unsigned g = f1_wheel[w];
		wr_u16(p->b, p->len, o + 22 + 2 * g, f1_u16(f->brake_temp_c[w]));
		wr_u8(p->b, p->len, o + 30 + g, f1_u8(f->tyre_temp_c[w]));
		wr_u8(p->b, p->len, o + 34 + g, f1_u8(f->tyre_temp_c[w])); /* inner = surface */
		wr_f32(p->b, p->len, o + 40 + 4 * g, f->tyre_press_kpa[w] / F1_PSI_KPA);
	}
	wr_u16(p->b, p->len, o + 38, 90);   /* engine degC */
	wr_u8(p->b, p->len, tail, 255);     /* MFD closed */
	wr_u8(p->b, p->len, tail + 1, 255); /* second player's MFD closed */
}

static void f1_encode(const struct f1_layout *y, struct enc_state *es, const struct pw_frame *f,
		      const struct pw_meta *m, enc_emit_fn emit, void *ctx)
{
	static const struct pw_meta no_meta;
	struct f1_packet p;

	if (!m)
		m = &no_meta;
	if (es->tick % F1_SESSION_EVERY == 0) {
		encode_session(&p, y, es, f, m);
		f1_send(&p, emit, ctx);
		encode_history(&p, y, es, f);
		f1_send(&p, emit, ctx);
	}
	if (es->tick % F1_PARTICIPANTS_EVERY == 0) {
		encode_participants(&p, y, es, f, m);
		f1_send(&p, emit, ctx);
	}
	encode_motion(&p, y, es, f);
	f1_send(&p, emit, ctx);
	encode_lap(&p, y, es, f, m);
	f1_send(&p, emit, ctx);
	encode_status(&p, y, es, f);
	f1_send(&p, emit, ctx);
	encode_damage(&p, y, es, f);
	f1_send(&p, emit, ctx);
	encode_telemetry(&p, es, y, f);
	f1_send(&p, emit, ctx);
	es->tick++;
}

static void enc_2023(struct enc_state *es, const struct pw_frame *f, const struct pw_meta *m,
		     enc_emit_fn emit, void *ctx)
{
	f1_encode(f1_layout_of(2023), es, f, m, emit, ctx);
}

static void enc_2024(struct enc_state *es, const struct pw_frame *f, const struct pw_meta *m,
		     enc_emit_fn emit, void *ctx)
{
	f1_encode(f1_layout_of(2024), es, f, m, emit, ctx);
}

static void enc_2025(struct enc_state *es, const struct pw_frame *f, const struct pw_meta *m,
		     enc_emit_fn emit, void *ctx)
{
	f1_encode(f1_layout_of(2025), es, f, m, emit, ctx);
}

const struct encoder enc_f1_2023 = {
	.feed = "f1", .format = "2023", .encode = enc_2023, .game = PW_GAME_F1_23
};
const struct encoder enc_f1_2024 = {
	.feed = "f1", .format = "2024", .encode = enc_2024, .game = PW_GAME_F1_24
};
const struct encoder enc_f1_2025 = {
	.feed = "f1", .format = "2025", .encode = enc_2025, .game = PW_GAME_F1_25
};
