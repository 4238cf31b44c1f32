/*
 * enc_acc.c - ACC broadcasting v4 from frames, and ACC's side of the
 * registration (the inverse of dec_acc.c; layouts in docs/protocols.md §5).
 *
 * Per tick: REALTIME_UPDATE (session from game_session, clock from
 * game_time_s, replay from FRAME_FLAG_PAUSED, car 0 focused) then the
 * REALTIME_CAR_UPDATE of car 0. Speed goes out as whole km/h (the wire type
 * is u16). Fields the frame lacks get resting values: phase "session",
 * 14:00 time of day, 22/27 degC air/track, dry, one camera set.
 *
 * The server helpers answer a client: registration result, an entry list
 * with the single simulated car (index 0) and its entry, and track data from
 * the metadata (track name, track_len_m).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/acc.h"
#include "capture/sim/encoder.h"

#define ACC_SIM_CAR 0
#define ACC_SIM_PHASE_SESSION 5
#define ACC_SIM_SESSION_END_MS 3600000.0f
#define ACC_SIM_TIME_OF_DAY_MS (14.0f * 3600.0f * 1000.0f)
#define ACC_SIM_AMBIENT_C 22
#define ACC_SIM_TRACK_C 27
#define ACC_SIM_TICK_MS 16.0
#define ACC_MSG_MAX 512

static int has(const struct pw_frame *f, uint64_t bit)
{
	return (f->present & bit) != 0;
}

static int32_t wire_time(const struct pw_frame *f, uint64_t bit, int32_t ms)
{
	return has(f, bit) && ms >= 0 ? ms : ACC_TIME_NONE;
}

static void put_lap(struct acc_wr *w, int32_t ms, const int32_t *splits, unsigned nsplit,
		    int invalid)
{
	acc_put_i32(w, ms);
	acc_put_u16(w, ACC_SIM_CAR);
	acc_put_u16(w, 0); /* driver index */
	acc_put_u8(w, (uint8_t)nsplit);
	for (unsigned i = 0; i < nsplit; i++)
		acc_put_i32(w, splits[i]);
	acc_put_u8(w, invalid ? 1 : 0);
	acc_put_u8(w, invalid ? 0 : 1); /* valid for best */
	acc_put_u8(w, 0);               /* out lap */
	acc_put_u8(w, 0);               /* in lap */
}

static float session_ms(const struct enc_state *es, const struct pw_frame *f)
{
	return (float)(has(f, FRAME_P_GAME_TIME) ? f->game_time_s * 1000.0
						 : (double)es->tick * ACC_SIM_TICK_MS);
}

static size_t realtime_update(const struct enc_state *es, const struct pw_frame *f,
			      const struct pw_meta *m, uint8_t *buf, size_t cap)
{
	struct acc_wr w = { buf, cap, 0, 0 };
	uint64_t key = f->game_session ? f->game_session - 1 : 0;
	int type = acc_session_type_id(m->session_type);
	int replay = (f->flags & FRAME_FLAG_PAUSED) != 0;
	float t = session_ms(es, f);

	acc_put_u8(&w, ACC_IN_REALTIME_UPDATE);
	acc_put_u16(&w, (uint16_t)(key >> 16));
	acc_put_u16(&w, (uint16_t)key);
	acc_put_u8(&w, (uint8_t)(type < 0 ? 0 : type));
	acc_put_u8(&w, ACC_SIM_PHASE_SESSION);
	acc_put_f32(&w, t);
	acc_put_f32(&w, ACC_SIM_SESSION_END_MS);
	acc_put_i32(&w, ACC_SIM_CAR);
	acc_put_str(&w, "Drivable");
	acc_put_str(&w, "Chase");
	acc_put_str(&w, "Basic HUD");
	acc_put_u8(&w, (uint8_t)replay);
	if (replay) {
		acc_put_f32(&w, t);
		acc_put_f32(&w, 0.0f);
	}
	acc_put_f32(&w, ACC_SIM_TIME_OF_DAY_MS);
	acc_put_u8(&w, ACC_SIM_AMBIENT_C);
	acc_put_u8(&w, ACC_SIM_TRACK_C);
	acc_put_u8(&w, 0); /* clouds */
	acc_put_u8(&w, 0); /* rain */
	acc_put_u8(&w, 0); /* wetness */
	put_lap(&w, wire_time(f, FRAME_P_BEST_LAP, f->best_lap_ms), NULL, 0, 0);
	return acc_wr_done(&w);
}

static float spline_of(const struct pw_frame *f)
{
	if (has(f, FRAME_P_SPLINE))
		return f->spline;
	if (has(f, FRAME_P_LAP_DIST) && has(f, FRAME_P_TRACK_LEN) && f->track_len_m > 0.0f)
		return f->lap_dist_m / f->track_len_m;
	return 0.0f;
}

static uint16_t clamp_u16(double v)
{
	v = round(v);
	return (uint16_t)(v < 0 ? 0 : v > UINT16_MAX ? UINT16_MAX : v);
}

static size_t car_update(const struct pw_frame *f, uint8_t *buf, size_t cap)
{
	struct acc_wr w = { buf, cap, 0, 0 };
	int32_t splits[3];
	unsigned nsplit = 0;
	uint16_t position = has(f, FRAME_P_POSITION) ? f->position : 0;

	while (has(f, FRAME_P_SECTOR_TIMES) && nsplit < 3 && f->sector_ms[nsplit] >= 0) {
		splits[nsplit] = f->sector_ms[nsplit];
		nsplit++;
	}
	acc_put_u8(&w, ACC_IN_REALTIME_CAR_UPDATE);
	acc_put_u16(&w, ACC_SIM_CAR);
	acc_put_u16(&w, 0); /* driver index */
	acc_put_u8(&w, 1);  /* driver count */
	acc_put_u8(&w, (uint8_t)((has(f, FRAME_P_GEAR) ? f->gear : 0) + 2));
	acc_put_f32(&w, f->pos_m[0]);
	acc_put_f32(&w, f->pos_m[2]);
	acc_put_f32(&w, f->yaw_rad);
	acc_put_u8(&w, (f->flags & FRAME_FLAG_IN_PIT) ? ACC_LOC_PITLANE : ACC_LOC_TRACK);
	acc_put_u16(&w, clamp_u16(f->speed_kmh));
	acc_put_u16(&w, position);
	acc_put_u16(&w, position); /* cup position */
	acc_put_u16(&w, position); /* track position */
	acc_put_f32(&w, spline_of(f));
	acc_put_u16(&w, f->lap);
	acc_put_i32(&w, 0); /* delta to the best session lap, ms */
	put_lap(&w, wire_time(f, FRAME_P_BEST_LAP, f->best_lap_ms), NULL, 0, 0);
	put_lap(&w, wire_time(f, FRAME_P_LAST_LAP, f->last_lap_ms), NULL, 0, 0);
	put_lap(&w, wire_time(f, FRAME_P_LAP_TIME, f->lap_time_ms), splits, nsplit,
		(f->flags & FRAME_FLAG_LAP_INVALID) != 0);
	return acc_wr_done(&w);
}

static void encode_acc(struct enc_state *es, const struct pw_frame *f, const struct pw_meta *m,
		       enc_emit_fn emit, void *ctx)
{
	uint8_t buf[ACC_MSG_MAX];
	size_t n;

	n = realtime_update(es, f, m, buf, sizeof buf);
	if (n)
		emit(ctx, buf, n);
	n = car_update(f, buf, sizeof buf);
	if (n)
		emit(ctx, buf, n);
	es->tick++;
}

const struct encoder enc_acc = { "acc", "broadcast", encode_acc, PW_GAME_ACC };

/* ---- server side ---- */

static void copy_str(char *dst, size_t cap, struct acc_str s)
{
	size_t n = s.n < cap - 1 ? s.n : cap - 1;

	if (n)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
}

static int parse_register(struct acc_rd *r, struct acc_client_req *req)
{
	struct acc_str name, pw;

	req->protocol_version = acc_get_u8(r);
	name = acc_get_str(r);
	pw = acc_get_str(r);
	req->update_interval_ms = acc_get_i32(r);
	acc_get_str(r); /* command password */
	if (!acc_rd_complete(r))
		return -1;
	copy_str(req->display_name, sizeof req->display_name, name);
	copy_str(req->password, sizeof req->password, pw);
	return ACC_CLIENT_REGISTER;
}

int acc_parse_client(const uint8_t *buf, size_t len, struct acc_client_req *req)
{
	struct acc_rd r = { buf, len, 1, 0 };
	int type = -1;

	memset(req, 0, sizeof *req);
	if (buf && len > 0) {
		switch (buf[0]) {
		case ACC_OUT_REGISTER:
			type = parse_register(&r, req);
			break;
		case ACC_OUT_UNREGISTER:
			/* the SDK sends the type alone, simdesk (and pitwall) add the id */
			if (len > 1)
				req->connection_id = acc_get_i32(&r);
			type = acc_rd_complete(&r) ? ACC_CLIENT_UNREGISTER : -1;
			break;
		case ACC_OUT_REQUEST_ENTRY_LIST:
		case ACC_OUT_REQUEST_TRACK_DATA:
			req->connection_id = acc_get_i32(&r);
			type = acc_rd_complete(&r) ? buf[0] : -1;
			break;
		default:
			break;
		}
	}
	req->type = type;
	return type;
}

size_t acc_encode_registration_result(int32_t connection_id, int success, const char *error,
				      uint8_t *buf, size_t cap)
{
	struct acc_wr w = { buf, cap, 0, 0 };

	acc_put_u8(&w, ACC_IN_REGISTRATION_RESULT);
	acc_put_i32(&w, connection_id);
	acc_put_u8(&w, success ? 1 : 0);
	acc_put_u8(&w, 1); /* the SDK reads isReadonly = (byte == 0): 1 = commands allowed */
	acc_put_str(&w, error ? error : "");
	return acc_wr_done(&w);
}

size_t acc_encode_entry_list(int32_t connection_id, uint8_t *buf, size_t cap)
{
	struct acc_wr w = { buf, cap, 0, 0 };

	acc_put_u8(&w, ACC_IN_ENTRY_LIST);
	acc_put_i32(&w, connection_id);
	acc_put_u16(&w, 1);
	acc_put_u16(&w, ACC_SIM_CAR);
	return acc_wr_done(&w);
}

/* The ACC model id for meta.car: a table name, or "car_model:N", else 0. */
static uint8_t model_of(const struct pw_meta *m)
{
	int id = acc_car_model_id(m->car);

	if (id < 0 && strncmp(m->car, "car_model:", 10) == 0) {
		const char *num = m->car + 10;
		char *end;
		long v = strtol(num, &end, 10);

		id = end != num && *end == 0 && v >= 0 && v <= 255 ? (int)v : -1;
	}
	return (uint8_t)(id < 0 || id > 255 ? 0 : id);
}

size_t acc_encode_entry_list_car(const struct pw_meta *m, uint8_t *buf, size_t cap)
{
	struct acc_wr w = { buf, cap, 0, 0 };
	char first[META_STR], shortname[4] = "";
	const char *last = "";
	char *space;

	snprintf(first, sizeof first, "%s", m->driver);
	space = strchr(first, ' ');
	if (space) {
		*space = '\0';
		last = space + 1;
	}
	for (int i = 0; i < 3 && last[i]; i++)
		shortname[i] = (char)(last[i] >= 'a' && last[i] <= 'z' ? last[i] - 32 : last[i]);

	acc_put_u8(&w, ACC_IN_ENTRY_LIST_CAR);
	acc_put_u16(&w, ACC_SIM_CAR);
	acc_put_u8(&w, model_of(m));
	acc_put_str(&w, "pitwall sim");
	acc_put_i32(&w, 1); /* race number */
	acc_put_u8(&w, 0);  /* cup category: overall */
	acc_put_u8(&w, 0);  /* current driver index */
	acc_put_u16(&w, 0); /* nationality: any */
	acc_put_u8(&w, 1);  /* drivers */
	acc_put_str(&w, first);
	acc_put_str(&w, last);
	acc_put_str(&w, shortname);
	acc_put_u8(&w, 0);  /* category: bronze */
	acc_put_u16(&w, 0); /* nationality */
	return acc_wr_done(&w);
}

size_t acc_encode_track_data(int32_t connection_id, const struct pw_meta *m, uint8_t *buf,
			     size_t cap)
{
	static const char *const cameras[] = { "Chase", "FarChase", "Cockpit" };
	static const char *const hud_pages[] = { "Blank", "Basic HUD" };
	struct acc_wr w = { buf, cap, 0, 0 };
	double meters = m->track_len_m > 0.0f ? round(m->track_len_m) : 0.0;

	acc_put_u8(&w, ACC_IN_TRACK_DATA);
	acc_put_i32(&w, connection_id);
	acc_put_str(&w, m->track);
	acc_put_i32(&w, 0); /* track id */
	acc_put_i32(&w, (int32_t)(meters < INT32_MAX ? meters : INT32_MAX));
	acc_put_u8(&w, 1);
	acc_put_str(&w, "Drivable");
	acc_put_u8(&w, 3);
	for (int i = 0; i < 3; i++)
		acc_put_str(&w, cameras[i]);
	acc_put_u8(&w, 2);
	for (int i = 0; i < 2; i++)
		acc_put_str(&w, hud_pages[i]);
	return acc_wr_done(&w);
}
