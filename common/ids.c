/* ids.c - see ids.h */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "common/ids.h"

int ids_new(char out[ID_LEN + 1])
{
	unsigned char b[16];

	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		return -errno;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, ID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return 0;
}

static int hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int ids_valid(const char *s)
{
	if (!s || strlen(s) != ID_LEN)
		return 0;
	for (int i = 0; i < ID_LEN; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !hex(s[i]))
			return 0;
	}
	return 1;
}

int ids_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > IDS_NAME_MAX || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

int ids_real_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	int blank = 1;

	if (n == 0 || n > IDS_REAL_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
		blank &= s[i] == ' ';
	}
	return !blank;
}

static int lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int ids_slug_hashed(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 2 + IDS_SLUG_HASH_HEX || s[n - IDS_SLUG_HASH_HEX - 1] != '-' ||
	    s[n - IDS_SLUG_HASH_HEX - 2] != '-')
		return 0;
	for (size_t i = n - IDS_SLUG_HASH_HEX; i < n; i++)
		if (!lower_hex(s[i]))
			return 0;
	return 1;
}

int ids_slug(const char *name, char *out)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, 64 bits */
	size_t o = 0;

	if (!ids_real_name_valid(name))
		return -EINVAL;
	if (ids_name_valid(name) && !ids_slug_hashed(name)) {
		snprintf(out, IDS_NAME_MAX + 1, "%s", name);
		return 0;
	}
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		char c = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		int keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';

		h = (h ^ *p) * 0x100000001b3ull;
		if (o == IDS_SLUG_PREFIX_MAX || (!keep && o && out[o - 1] == '_'))
			continue;
		out[o++] = keep ? c : '_';
	}
	while (o > 1 && out[o - 1] == '_')
		o--;
	if (o == 0)
		out[o++] = '_';
	snprintf(out + o, IDS_NAME_MAX + 1 - o, "--%012llx",
		 (unsigned long long)(h >> (64 - 4 * IDS_SLUG_HASH_HEX)));
	return 0;
}

int ids_real_name_in_path(const char *s)
{
	return ids_real_name_valid(s) && !strchr(s, '/') && strcmp(s, ".") != 0 &&
	       strcmp(s, "..") != 0;
}
