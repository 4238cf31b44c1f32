/*
 * decoder.h - game packet decoders: bytes in, normalized frame + metadata out.
 *
 * One file per game (dec_<feed>.c) and one entry per feed in the table in
 * decoder.c. A decoder is a pure function of its state and the datagram: it
 * does no I/O, allocates nothing, never reads outside [buf, buf+len), and
 * accepts any length. Games that spread one tick over several packets (F1,
 * PCARS2, ACC) accumulate fields in st->carry and emit a frame on the packet
 * that closes a tick; the emitted frame carries every field known so far.
 *
 * Client-driven feeds (AC's 9996 handshake, ACC's broadcasting registration)
 * talk back to the game: dec->hello() builds the first message, and decode()
 * may leave a reply in st->out (the capture process sends it to the game and
 * clears out_len). dec->bye() builds the goodbye sent on exit.
 *
 * Who calls: pw-capture (live), pw-capture --decode (offline), tests, fuzzers.
 * One dec_state per feed, single-threaded.
 */
#ifndef PW_DECODER_H
#define PW_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "common/frame.h"

/* decode() results. Failures are distinct from "consumed, no frame". */
enum dec_result {
	DEC_FRAME = 1,    /* *out holds a new frame */
	DEC_OK = 0,       /* valid packet, state/metadata updated, no frame */
	DEC_ESIZE = -1,   /* a known packet kind with the wrong length, or too short to tell */
	DEC_EFORMAT = -2, /* unknown packet kind / protocol version / format year */
};

#define DEC_OUT_MAX 512
#define DEC_PRIV_WORDS 1024

struct dec_state {
	struct pw_meta meta; /* current metadata; decoders keep it complete */
	uint32_t meta_gen;   /* bumped whenever meta changes */
	uint32_t opt_flags;  /* DEC_OPT_* set by the caller before decoding */
	size_t out_len;      /* bytes in out to send to the game (client feeds) */
	uint8_t out[DEC_OUT_MAX];
	struct pw_frame carry;         /* fields accumulated between emitted frames */
	uint64_t priv[DEC_PRIV_WORDS]; /* decoder-private state (8 KiB), zeroed by dec_reset */
};

/* Options a caller may set in opt_flags. */
#define DEC_OPT_F1_SECOND_PLAYER 1u /* F1: follow m_secondaryPlayerCarIndex */

enum dec_mode {
	DEC_LISTEN = 0, /* the game sends to our bound port */
	DEC_CLIENT = 1, /* we contact the game at host:port and it answers us */
};

struct decoder {
	const char *feed; /* feed name as the REST API uses it: "ksudp" */
	enum pw_feed feed_id;
	const char *title; /* "Assetto Corsa remote telemetry" */
	uint16_t default_port;
	enum dec_mode mode;
	unsigned max_rate_hz;     /* highest real frame rate: sizes the ring */
	unsigned raw_bytes_per_s; /* typical raw traffic at that rate: sizes the raw ring */
	int (*decode)(struct dec_state *st, const uint8_t *buf, size_t len, struct pw_frame *out);
	/* client feeds only (NULL otherwise): write the message into buf, return its length */
	size_t (*hello)(struct dec_state *st, uint8_t *buf, size_t cap);
	size_t (*bye)(struct dec_state *st, uint8_t *buf, size_t cap);
};

/* Lifecycle */
/* Zero st entirely (metadata, carry, private state). */
void dec_reset(struct dec_state *st);

/* Accessors */
const struct decoder *dec_find(const char *feed);
const struct decoder *dec_by_id(enum pw_feed feed);
/* NULL-terminated table of every decoder, in feed-id order. */
const struct decoder *const *dec_all(void);

/* Operations */
/* Set meta field dst from src (bounded, see meta_strcpy); bump meta_gen if it changed. */
void dec_meta_set(struct dec_state *st, char *dst, size_t cap, const char *src, size_t n);

/* The per-game entry points (dec_<feed>.c). */
extern const struct decoder dec_ksudp;
extern const struct decoder dec_pcars;
extern const struct decoder dec_acc;
extern const struct decoder dec_forza;
extern const struct decoder dec_f1;

#endif
