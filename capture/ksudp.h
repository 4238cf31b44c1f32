/*
 * ksudp.h - Assetto Corsa remote telemetry (UDP 9996): the wire constants
 * shared by the decoder (capture/dec_ksudp.c) and the game emulator's encoder
 * (capture/sim/enc_ksudp.c), and the raw splitter (capture/rawsplit.c).
 * Layouts: docs/protocols.md section 1.
 *
 * Every datagram kind has its own fixed length, which is how the decoder tells
 * them apart. Names in the handshake response and in RTLap are UTF-16LE,
 * KSUDP_NAME_UNITS code units each, terminated by '%' (bytes after it are not
 * reliably zero).
 */
#ifndef PW_KSUDP_H
#define PW_KSUDP_H

enum ksudp_size {
	KSUDP_HANDSHAKE_SIZE = 12, /* client -> AC: identifier, version, operationId */
	KSUDP_RESPONSE_SIZE = 408, /* AC -> client after op 0 */
	KSUDP_CARINFO_SIZE = 328,  /* RTCarInfo, after op 1 */
	KSUDP_RTLAP_SIZE = 212,    /* RTLap, after op 2 */
};

enum ksudp_op {
	KSUDP_OP_HANDSHAKE = 0,
	KSUDP_OP_SUBSCRIBE_UPDATE = 1,
	KSUDP_OP_SUBSCRIBE_SPOT = 2,
	KSUDP_OP_DISMISS = 3,
};

/* Fields the sides check to tell datagrams apart (all i32, little-endian). */
enum ksudp_off {
	KSUDP_HANDSHAKE_VERSION_OFF = 4,     /* handshake: version, KSUDP_VERSION */
	KSUDP_HANDSHAKE_OP_OFF = 8,          /* handshake: operationId, enum ksudp_op */
	KSUDP_CARINFO_SIZE_OFF = 4,          /* RTCarInfo: its own size, KSUDP_CARINFO_SIZE */
	KSUDP_RESPONSE_IDENTIFIER_OFF = 200, /* response: KSUDP_RESPONSE_IDENTIFIER */
	KSUDP_RESPONSE_VERSION_OFF = 204,    /* response: KSUDP_VERSION */
};

#define KSUDP_VERSION 1
#define KSUDP_NAME_UNITS 50 /* UTF-16 code units per name field */
#define KSUDP_RESPONSE_IDENTIFIER 4242
#define KSUDP_CARINFO_TAG 'a' /* byte 0 of every RTCarInfo */

/*
 * Steering lock used to normalize RTCarInfo.steer (steering-wheel degrees) to
 * -1..1. The car's own lock is not on the wire; 450 deg is half of the 900 deg
 * wheel rotation AC defaults to, and covers the largest angle of the real
 * Monza capture (298 deg).
 */
#define KSUDP_STEER_LOCK_DEG 450.0f

#endif
