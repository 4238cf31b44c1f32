/*
 * manifest.h - derived channels by manifest: a named JSON document that
 * defines channels as formulas (expr.h) over the frame's channels, and the
 * one function that applies them to a sequence of frames.
 *
 * The document (docs/manifests.md; the store keeps them in
 * <data>/manifests/<name>.json, GET/PUT /api/manifests/{name}):
 *
 *   {"name": "power",                    optional; when given, the manifest's name
 *    "version": 1,                       optional; the format, 1
 *    "description": "...",               optional, at most MANIFEST_TEXT_MAX bytes
 *    "channels": [                       1..MANIFEST_CHANNELS_MAX, in order
 *      {"name": "power_kw",              [a-z][a-z0-9_]*, at most MANIFEST_CHANNEL_MAX
 *       "formula": "power_w / 1000",     expr.h's language
 *       "unit": "kW",                    optional, at most MANIFEST_UNIT_MAX bytes
 *       "description": "..."}]}          optional
 *
 * A formula names the frame's channels as the CSV does: a scalar channel by
 * its name (speed_kmh, game_time_s), a value of an array by name and suffix
 * (tyre_temp_c_fl, vel_ms_z, sector_ms_2), a flag by its name (in_pit: 1 or
 * 0 where the game reports it) - and the channels of the same manifest
 * defined before it. A channel the frame lacks has no value there, and
 * neither has a formula that uses it (expr.h: NaN). derivative and integral
 * run on the game clock (game_time_s; the receive time t_ns where a game has
 * no clock).
 *
 * A derived channel's name is new: not a frame channel, an array value's
 * column, a flag, seq, t_ns, feed, game, game_session, flags, time_s or a
 * function's name, nor derived (the frame's own list of derived channels), and
 * not used twice in a manifest.
 *
 * Output: a derived channel is written like the frame's own channels (JSON
 * key / CSV column = its name, left out / an empty cell where it has no
 * value) with the precision of a frame channel: the shortest decimal that
 * reads back as the same 32-bit float.
 *
 * Lifecycle: manifest_parse validates and compiles a document into a
 * read-only struct manifest (shareable between threads); each sequence of
 * frames (a run, a lap, a live feed) gets its own struct manifest_eval,
 * used by one thread, fed the frames in order.
 *
 * Errors are 0 or a negative errno; messages name the field
 * ("channels[2].formula: column 5: unknown channel 'x'").
 */
#ifndef PW_MANIFEST_H
#define PW_MANIFEST_H

#include <jansson.h>
#include <stddef.h>

#include "common/expr.h"
#include "common/frame.h"
#include "common/ids.h"

#define MANIFEST_VERSION 1
#define MANIFEST_CHANNELS_MAX 64
#define MANIFEST_CHANNEL_MAX 48 /* bytes of a derived channel's name */
#define MANIFEST_UNIT_MAX 32
#define MANIFEST_TEXT_MAX 512        /* bytes of a description */
#define MANIFEST_INPUTS_MAX 128      /* distinct frame values the formulas read */
#define MANIFEST_DOC_MAX (64 * 1024) /* bytes of a manifest document */
#define MANIFEST_ERR_MAX 256
#define MANIFEST_VALUE_MAX 32 /* bytes of a formatted value */

struct manifest_channel {
	char name[MANIFEST_CHANNEL_MAX + 1];
	char unit[MANIFEST_UNIT_MAX + 1];
	char *description; /* owned, "" when none */
	char *formula;     /* owned */
	struct expr *prog; /* owned */
	size_t slot0;      /* its first derivative/integral slot */
};

/* A frame value a formula reads. */
struct manifest_input {
	unsigned char flag; /* 1: flag number bit; 0: channel bit, value idx */
	unsigned char bit, idx;
};

struct manifest {
	char name[IDS_NAME_MAX + 1];
	char *description; /* owned, "" when none */
	size_t nchannels;
	struct manifest_channel ch[MANIFEST_CHANNELS_MAX];
	size_t ninputs;
	struct manifest_input inputs[MANIFEST_INPUTS_MAX];
	size_t nslots; /* derivative/integral slots of all channels */
};

struct manifest_eval; /* opaque: the state of one sequence of frames */

/* Lifecycle */
/*
 * Validate and compile doc (borrowed) as the manifest called name (a safe
 * path component, ids_name_valid; doc's own "name", when present, must be
 * the same). Returns 0 and *out (the caller frees it with manifest_free),
 * -EINVAL with the reason in err[errcap], or -ENOMEM.
 */
int manifest_parse(json_t *doc, const char *name, struct manifest **out, char *err, size_t errcap);
void manifest_free(struct manifest *m);
/* A state for one sequence of frames of m (borrowed: m must outlive it):
 * 0 and *out (manifest_eval_free), or -ENOMEM. */
int manifest_eval_new(const struct manifest *m, struct manifest_eval **out);
void manifest_eval_free(struct manifest_eval *ev);

/* Operations */
/* Start a new sequence: derivative and integral forget the frames so far. */
void manifest_eval_reset(struct manifest_eval *ev);
/*
 * The next frame of the sequence: out[i] = the value of m's channel i, NaN
 * where it has none (out has m->nchannels entries). Returns how many have a
 * value. Frames must come in order; derivative and integral keep state.
 */
size_t manifest_apply(struct manifest_eval *ev, const struct pw_frame *f, double *out);
/* The same for n consecutive frames: out[k * m->nchannels + i]. */
void manifest_apply_frames(struct manifest_eval *ev, const struct pw_frame *frames, size_t n,
			   double *out);

/* The manifest as its canonical JSON document (new reference; NULL when
 * out of memory): name, version, description, channels with every field. */
json_t *manifest_json(const struct manifest *m);
/*
 * m's channels as entries of the channel dictionary (dict.h; docs/api.md
 * "Channel dictionary"), in order: a new reference, NULL when out of memory.
 * Each has the keys of a frame channel's entry - kind "manifest", json_key
 * and csv_columns [name] (as an export with ?manifest= writes it), type
 * "float32" (the precision it is written with), dimension "scalar", no
 * components, its unit, range {null, null}, nullable true (no value where an
 * input is missing), its description (else the manifest's), derived true,
 * presence_bit null, games [] - and "formula" and "manifest" (m's name).
 */
json_t *manifest_dictionary(const struct manifest *m);
/*
 * Append to dict's "channels" (dict_json's document, modified) the entries
 * of every manifest document in docs (the store's manifest.list answer,
 * borrowed), in docs' order. A document that does not compile against this
 * build's channel table is left out. 0, or -ENOMEM.
 */
int manifest_dict_append(json_t *dict, json_t *docs);
/* dict's "manifests_error": {code, message}: the manifests could not be
 * listed (the store's error), so only the frame's channels are in it. 0, or
 * -ENOMEM. */
int manifest_dict_missing(json_t *dict, const char *code, const char *message);

/* Text. Each writes into buf[cap] with snprintf semantics (the length
 * needed; NUL-terminated when cap > 0). */
/* ",power_kw,brake_balance": the CSV header columns, each after a comma. */
size_t manifest_csv_header(const struct manifest *m, char *buf, size_t cap);
/* ",123.4,,0.5": one CSV row's cells for values v (empty where NaN). */
size_t manifest_csv_cells(const struct manifest *m, const double *v, char *buf, size_t cap);
/* ",\"power_kw\":123.4": JSON object members for the values that exist. */
size_t manifest_json_members(const struct manifest *m, const double *v, char *buf, size_t cap);

/* Accessors */
/* The frame value a formula's name (len bytes) stands for: 1 and *in, or 0
 * when it is none (derived channels are not looked at). */
int manifest_input_find(const char *name, size_t len, struct manifest_input *in);
/* A value of one input in f: NaN when absent (or not known yet). */
double manifest_input_value(const struct pw_frame *f, const struct manifest_input *in);
/* The clock derivative and integral use for f, s: game_time_s, else t_ns. */
double manifest_clock(const struct pw_frame *f);

#endif
