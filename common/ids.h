/*
 * ids.h - identifiers and names that may become paths: their limits,
 * generation and validation.
 *
 * Ids are UUID v4 strings ("3f2b...-...", 36 characters, lower-case hex)
 * from the kernel's random source. Names that become paths (feed, game,
 * track) are checked with ids_name_valid: 1-IDS_NAME_MAX of [A-Za-z0-9_.-],
 * not starting with '.', so nothing can climb out of the data directory.
 *
 * Every limit on an identifier is defined here, once, as a length without the
 * NUL (buffers are LIMIT + 1), except the two path sizes, which are buffer
 * sizes: a directory the store keeps (the data dir, its sessions and
 * recordings dirs) fits IDS_DIR_MAX, the kernel's limit; a file path under one
 * fits IDS_PATH_MAX, so that the compiler can prove "dir/id/name.ext" fits.
 */
#ifndef PW_IDS_H
#define PW_IDS_H

#include <limits.h>
#include <stddef.h>

#define ID_LEN 36            /* a UUID string: session, run, recording ids */
#define IDS_NAME_MAX 64      /* any name that becomes a path component */
#define IDS_FEED_MAX 31      /* a feed name ("ksudp"): config, segments, runs, files */
#define IDS_GAME_MAX 31      /* a game name ("assetto_corsa"), as pw_meta.game holds it */
#define IDS_INSTANCE_MAX 40  /* a stack's instance name (PITWALL_INSTANCE) */
#define IDS_DIR_MAX PATH_MAX /* bytes of a directory path buffer, NUL included */
#define IDS_PATH_MAX (IDS_DIR_MAX + 304) /* a directory plus '/', ids, names and a suffix */

_Static_assert(IDS_FEED_MAX <= IDS_NAME_MAX && IDS_GAME_MAX <= IDS_NAME_MAX,
	       "feed and game names are path components");

/* Write a fresh UUID v4 and its NUL into out[ID_LEN + 1]; 0 or -errno. */
int ids_new(char out[ID_LEN + 1]);
/* 1 for a well-formed UUID (any version, lower- or upper-case hex). */
int ids_valid(const char *s);
/* 1 for a safe path component: 1..IDS_NAME_MAX of [A-Za-z0-9_.-], not "." or "..", no
 * leading '.'. */
int ids_name_valid(const char *s);

/*
 * Real names and their slugs. A track or car name is kept as the game gives
 * it ("Paul Ricard", "Sakhir (Bahrain)", "track_ordinal:860", "A / B"): a
 * real name is 1..IDS_REAL_NAME_MAX bytes of text without control
 * characters, not all blanks. Where it becomes a file name (data/tracks/<game>/<slug>.json)
 * or a path segment it is replaced by its slug:
 *   - the name itself when it is already a safe path component
 *     (ids_name_valid) and does not end like a hashed slug, so every name
 *     stored before slugs existed keeps its file;
 *   - else the name lower-cased to [a-z0-9_-] (any other run of bytes one
 *     '_', at most IDS_SLUG_PREFIX_MAX of them, "_" when nothing is left),
 *     then "--" and the first 12 hex digits of the name's 64-bit FNV-1a hash.
 * Deterministic; two names share a slug only when they share the prefix and
 * the 48-bit hash (the store also refuses to put a second name under a
 * taken slug). A slug always passes ids_name_valid.
 */
#define IDS_REAL_NAME_MAX 63 /* as the feed metadata holds a name */
#define IDS_SLUG_HASH_HEX 12
#define IDS_SLUG_PREFIX_MAX (IDS_NAME_MAX - 2 - IDS_SLUG_HASH_HEX)

/* 1 for a real name (above). */
int ids_real_name_valid(const char *s);
/* Write the slug of real name name into out (IDS_NAME_MAX + 1 bytes);
 * 0, or -EINVAL when name is not a real name. */
int ids_slug(const char *name, char *out);
/* 1 when s has the shape of a hashed slug: ends in "--" and 12 lower-case hex digits. */
int ids_slug_hashed(const char *s);
/* 1 when real name s can travel as one URL path segment, URL-encoded: it has no
 * '/' (servers decode %2F before routing) and is not "." or "..". Where it
 * cannot, its slug is the way to address it; listings then show the slug. */
int ids_real_name_in_path(const char *s);

#endif
