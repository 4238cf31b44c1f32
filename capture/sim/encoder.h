/*
 * encoder.h - game packet encoders for pw-sim: the inverse of the decoders.
 *
 * An encoder turns one simulated tick (a normalized frame plus metadata) into
 * the datagram(s) the real game would send for it, byte for byte in the
 * layouts of docs/protocols.md, so that decode(encode(frame)) gives back the frame
 * for every channel the game carries. One file per game (enc_<feed>.c).
 *
 * The two client-driven protocols also need the server side of their
 * handshakes; those helpers are declared here, next to the encoders.
 *
 * Who calls: pw-sim and tests. Pure functions; one enc_state per stream.
 */
#ifndef PW_ENCODER_H
#define PW_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "common/frame.h"

struct enc_state {
	uint64_t tick;      /* ticks encoded so far (packet counters derive from it) */
	uint64_t priv[512]; /* encoder-private state, zeroed by the caller */
};

/* Called once per datagram; buf is only valid during the call. */
typedef void (*enc_emit_fn)(void *ctx, const uint8_t *buf, size_t len);

struct encoder {
	const char *feed;   /* "ksudp", "pcars", "acc", "forza", "f1" */
	const char *format; /* variant: "rtcarinfo"; "v1", "v2"; "broadcast";
	                              "sled", "fm7", "fh", "fm2023"; "2023", "2024", "2025" */
	/* Encode one tick. Emits every packet the game would send for it (for F1:
	 * motion, lap data, car telemetry, car status; session and participants
	 * periodically). Fields absent from f are encoded as the game's "unset". */
	void (*encode)(struct enc_state *es, const struct pw_frame *f, const struct pw_meta *m,
		       enc_emit_fn emit, void *ctx);
	enum pw_game game; /* the game this variant emulates (its feed must be .feed) */
};

/* NULL-terminated table of every encoder (encoder.c); the first one listed
 * for a feed is its default format. */
const struct encoder *const *enc_all(void);
const struct encoder *enc_find(const char *feed, const char *format); /* format NULL = default */

extern const struct encoder enc_ksudp;
extern const struct encoder enc_pcars_v1, enc_pcars_v2;
extern const struct encoder enc_acc;
extern const struct encoder enc_forza_sled, enc_forza_fm7, enc_forza_fh, enc_forza_fm2023;
extern const struct encoder enc_f1_2023, enc_f1_2024, enc_f1_2025;

/* --- Assetto Corsa remote telemetry, server side (enc_ksudp.c) --- */
/* Parse a 12-byte client handshake; returns its operationId (0 handshake,
 * 1 subscribe update, 2 subscribe spot, 3 dismiss) or -1 if not a handshake. */
int ksudp_parse_handshake(const uint8_t *buf, size_t len);
/* The 408-byte handshake response for meta (car, driver, track, layout as
 * UTF-16LE ending in '%'). Returns 408, or 0 if cap is too small. */
size_t ksudp_encode_response(const struct pw_meta *m, uint8_t *buf, size_t cap);
/* One 212-byte RTLap for a completed lap (op 2 subscribers). */
size_t ksudp_encode_rtlap(const struct pw_meta *m, int car_id, int lap, int time_ms, uint8_t *buf,
			  size_t cap);

/* --- ACC broadcasting, server side (enc_acc.c) --- */
enum acc_client_msg {
	ACC_CLIENT_NONE = 0,
	ACC_CLIENT_REGISTER = 1,
	ACC_CLIENT_UNREGISTER = 9,
	ACC_CLIENT_REQUEST_ENTRY_LIST = 10,
	ACC_CLIENT_REQUEST_TRACK_DATA = 11,
};
struct acc_client_req {
	int type;               /* enum acc_client_msg, or -1 when malformed/unknown */
	int protocol_version;   /* REGISTER */
	int update_interval_ms; /* REGISTER: msRealtimeUpdateInterval */
	int32_t connection_id;  /* REQUEST_* */
	char display_name[64];
	char password[64];
};
/* Parse one client->ACC message. Returns req->type. */
int acc_parse_client(const uint8_t *buf, size_t len, struct acc_client_req *req);
size_t acc_encode_registration_result(int32_t connection_id, int success, const char *error,
				      uint8_t *buf, size_t cap);
/* ENTRY_LIST with the single simulated car (car index 0), then its ENTRY_LIST_CAR. */
size_t acc_encode_entry_list(int32_t connection_id, uint8_t *buf, size_t cap);
size_t acc_encode_entry_list_car(const struct pw_meta *m, uint8_t *buf, size_t cap);
size_t acc_encode_track_data(int32_t connection_id, const struct pw_meta *m, uint8_t *buf,
			     size_t cap);

#endif
