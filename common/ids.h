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

#define ID_LEN 36                  /* a UUID string: session, run, recording ids */
#define IDS_NAME_MAX 64            /* any name that becomes a path component */
#define IDS_FEED_MAX 31            /* a feed name ("ksudp"): config, segments, runs, files */
#define IDS_GAME_MAX 31            /* a game name ("assetto_corsa"), as pw_meta.game holds it */
#define IDS_INSTANCE_MAX 40        /* a stack's instance name (PITWALL_INSTANCE) */
#define IDS_DIR_MAX PATH_MAX       /* bytes of a directory path buffer, NUL included */
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

#endif
