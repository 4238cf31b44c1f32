/*
 * acc.h - ACC broadcasting protocol (v4, docs/protocols.md §5): what the decoder
 * (dec_acc.c) and the simulator's server side (sim/enc_acc.c) share.
 *
 * Message type numbers, the enumerations both sides translate, a strict
 * bounded reader and a bounded writer for the little-endian messages, and the decoder's caller-facing knobs: the
 * connection password (ACC's broadcasting.json; its shipped default is "asd")
 * and the registration outcome for the capture process to log.
 *
 * Who calls: dec_acc.c, enc_acc.c, pw-capture (password, registration state).
 */
#ifndef PW_ACC_H
#define PW_ACC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "capture/bytes.h"
#include "capture/decoder.h"

#define ACC_PROTOCOL_VERSION 4
#define ACC_DEFAULT_PASSWORD "asd"
#define ACC_DISPLAY_NAME "pitwall"
#define ACC_UPDATE_INTERVAL_MS 16
#define ACC_TIME_NONE INT32_MAX /* lap time or split "no value" */
#define ACC_PASSWORD_MAX 64

/* client -> ACC (the values of enum acc_client_msg in sim/encoder.h) */
enum acc_out_msg {
	ACC_OUT_REGISTER = 1,
	ACC_OUT_UNREGISTER = 9,
	ACC_OUT_REQUEST_ENTRY_LIST = 10,
	ACC_OUT_REQUEST_TRACK_DATA = 11,
};

/* ACC -> client */
enum acc_in_msg {
	ACC_IN_REGISTRATION_RESULT = 1,
	ACC_IN_REALTIME_UPDATE = 2,
	ACC_IN_REALTIME_CAR_UPDATE = 3,
	ACC_IN_ENTRY_LIST = 4,
	ACC_IN_TRACK_DATA = 5,
	ACC_IN_ENTRY_LIST_CAR = 6,
	ACC_IN_BROADCASTING_EVENT = 7,
};

enum acc_car_location {
	ACC_LOC_NONE = 0,
	ACC_LOC_TRACK = 1,
	ACC_LOC_PITLANE = 2,
	ACC_LOC_PIT_ENTRY = 3,
	ACC_LOC_PIT_EXIT = 4,
};

/* Fixed part of REALTIME_CAR_UPDATE: the first LapInfo starts here. */
#define ACC_CAR_UPDATE_FIXED 38
/* LapInfo without splits: i32 time, u16 car, u16 driver, u8 count, 4 x u8 flags */
#define ACC_LAPINFO_MIN 13

/* Lifecycle */
/* Connection password sent by dec_acc.hello() (truncated to 63 bytes);
 * NULL restores ACC's default "asd". */
void dec_acc_set_password(struct dec_state *st, const char *pw);

/* Accessors */
/* 1 once ACC accepted the registration, 0 before and after a refusal. */
int dec_acc_registered(const struct dec_state *st);
/* ACC's error message after a refused registration, else NULL. */
const char *dec_acc_error(const struct dec_state *st);
/* Car model name for an ACC carModelType id, or NULL when unknown. */
const char *acc_car_model_name(unsigned id);
/* Class of a car model ("GT3", "GT4", "GT2", "CUP", "ST", "CHL", "TCX"), or NULL. */
const char *acc_car_model_class(unsigned id);
/* Id of a car model name (exact match), or -1. */
int acc_car_model_id(const char *name);
/* "practice", "qualifying", "race", ... for a session type byte, or NULL. */
const char *acc_session_type_name(unsigned type);
/* Session type byte for a name from acc_session_type_name(), or -1. */
int acc_session_type_id(const char *name);

/*
 * Operations: a strict reader. Every get claims its bytes or sets bad (and
 * returns 0); once bad, nothing more is read. A message is well formed when
 * it was read without going bad and to its last byte (acc_rd_complete).
 */
struct acc_rd {
	const uint8_t *b;
	size_t len, off;
	int bad;
};

/* A string field: bytes inside the message, not NUL-terminated. */
struct acc_str {
	const uint8_t *p;
	size_t n;
};

static inline int acc_take(struct acc_rd *r, size_t n, size_t *at)
{
	if (r->bad || !rd_ok(r->len, r->off, n)) {
		r->bad = 1;
		return 0;
	}
	*at = r->off;
	r->off += n;
	return 1;
}

static inline uint8_t acc_get_u8(struct acc_rd *r)
{
	size_t at;
	return acc_take(r, 1, &at) ? rd_u8(r->b, r->len, at) : 0;
}

static inline uint16_t acc_get_u16(struct acc_rd *r)
{
	size_t at;
	return acc_take(r, 2, &at) ? rd_u16(r->b, r->len, at) : 0;
}

static inline int32_t acc_get_i32(struct acc_rd *r)
{
	size_t at;
	return acc_take(r, 4, &at) ? rd_s32(r->b, r->len, at) : 0;
}

/* NaN/Inf read as 0 */
static inline float acc_get_f32(struct acc_rd *r)
{
	size_t at;
	return acc_take(r, 4, &at) ? fin(rd_f32(r->b, r->len, at)) : 0.0f;
}

static inline struct acc_str acc_get_str(struct acc_rd *r)
{
	struct acc_str s = { NULL, 0 };
	size_t n = acc_get_u16(r), at;

	if (acc_take(r, n, &at)) {
		s.p = r->b + at;
		s.n = n;
	}
	return s;
}

static inline int acc_rd_complete(const struct acc_rd *r)
{
	return !r->bad && r->off == r->len;
}

/* Operations: a bounded writer; any write past cap sets bad and writes nothing more. */
struct acc_wr {
	uint8_t *b;
	size_t cap, off;
	int bad;
};

static inline void acc_put(struct acc_wr *w, const void *src, size_t n)
{
	if (w->bad || !rd_ok(w->cap, w->off, n)) {
		w->bad = 1;
		return;
	}
	if (n)
		memcpy(w->b + w->off, src, n);
	w->off += n;
}

static inline void acc_put_u8(struct acc_wr *w, uint8_t v)
{
	acc_put(w, &v, 1);
}

static inline void acc_put_u16(struct acc_wr *w, uint16_t v)
{
	uint8_t b[2];
	wr_u16(b, 2, 0, v);
	acc_put(w, b, 2);
}

static inline void acc_put_i32(struct acc_wr *w, int32_t v)
{
	uint8_t b[4];
	wr_u32(b, 4, 0, (uint32_t)v);
	acc_put(w, b, 4);
}

static inline void acc_put_f32(struct acc_wr *w, float v)
{
	uint8_t b[4];
	wr_f32(b, 4, 0, v);
	acc_put(w, b, 4);
}

/* u16 byte length + UTF-8 bytes, no terminator */
static inline void acc_put_str(struct acc_wr *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > UINT16_MAX) {
		w->bad = 1;
		return;
	}
	acc_put_u16(w, (uint16_t)n);
	acc_put(w, s, n);
}

/* Bytes written, or 0 when the message did not fit. */
static inline size_t acc_wr_done(const struct acc_wr *w)
{
	return w->bad ? 0 : w->off;
}

#endif
