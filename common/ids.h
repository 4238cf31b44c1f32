/*
 * ids.h - identifiers that may become paths: generation and validation.
 *
 * Ids are UUID v4 strings ("3f2b...-...", 36 characters, lower-case hex)
 * from the kernel's random source. Names that become paths (feed, game,
 * track) are checked with ids_name_valid: 1-64 of [A-Za-z0-9_.-], not
 * starting with '.', so nothing can climb out of the data directory.
 */
#ifndef PW_IDS_H
#define PW_IDS_H

#include <stddef.h>

#define ID_LEN 36

/* Write a fresh UUID v4 and its NUL into out[ID_LEN + 1]; 0 or -errno. */
int ids_new(char out[ID_LEN + 1]);
/* 1 for a well-formed UUID (any version, lower- or upper-case hex). */
int ids_valid(const char *s);
/* 1 for a safe path component: 1..64 of [A-Za-z0-9_.-], not "." or "..", no leading '.'. */
int ids_name_valid(const char *s);

#endif
