/*
 * test_gzip.c - pw-api's compression of large answers (api/gzip.c): which
 * Accept-Encoding headers take gzip, the compressed bytes decoding to the
 * input (empty, small, large, incompressible) with the room before them left
 * alone, and the head of a gzipped answer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "api/api.h"
#include "tests/unit/t.h"

static void test_accepts(void)
{
	static const struct {
		const char *ae;
		bool gzip;
	} cases[] = {
		{ "gzip", true },
		{ "gzip, deflate, br, zstd", true }, /* chromium */
		{ "deflate, gzip;q=0.5", true },
		{ "GZip", true },
		{ "br,gzip", true },
		{ "gzip ;q=1.0", true },
		{ "gzip;q=0.001", true },
		{ "gzip;q=0", false },
		{ "gzip;q=0.0, deflate", false },
		{ "deflate, gzip; q=0", false },
		{ "br", false },
		{ "x-gzip", false },
		{ "gzipped", false },
		{ "deflate, br;q=0, gzipx", false },
		{ "", false },
		{ NULL, false },
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		T_CHECKF(gzip_accepts(cases[i].ae) == cases[i].gzip, "Accept-Encoding \"%s\"",
			 cases[i].ae ? cases[i].ae : "(none)");
}

/* out (n bytes, gzip) inflated: the bytes, *len; NULL when it does not decode. */
static char *gunzip(const char *in, size_t n, size_t cap, size_t *len)
{
	z_stream z = { 0 };
	char *out = malloc(cap + 1);
	int rc;

	if (!out || inflateInit2(&z, 15 + 16) != Z_OK) {
		free(out);
		return NULL;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap + 1;
	rc = inflate(&z, Z_FINISH);
	*len = z.total_out;
	inflateEnd(&z);
	if (rc != Z_STREAM_END || z.avail_in != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static void round_trip(const char *what, const char *in, size_t n, size_t room)
{
	char *z = NULL, *back;
	size_t zlen = 0, blen = 0;

	T_CHECKF(gzip_compress(in, n, room, &z, &zlen) == 0, "%s", what);
	if (!z)
		return;
	memset(z, 0x5a, room); /* the room is the caller's: writing it must not hurt */
	T_CHECKF((unsigned char)z[room] == 0x1f && (unsigned char)z[room + 1] == 0x8b,
		 "%s: a gzip member (magic 1f 8b)", what);
	back = gunzip(z + room, zlen, n, &blen);
	T_CHECKF(back && blen == n && (n == 0 || memcmp(back, in, n) == 0),
		 "%s: decodes to the input", what);
	free(back);
	free(z);
}

static void test_compress(void)
{
	size_t n = 4 << 20;
	char *json = malloc(n), *noise = malloc(n);
	uint32_t x = 2463534242u;
	size_t k = 0;

	T_CHECK(json && noise);
	if (!json || !noise)
		goto out;
	round_trip("empty", "", 0, 0);
	round_trip("one byte, room 256", "{", 1, 256);
	/* a lap comparison's shape: numbers with many digits */
	while (k + 32 < n)
		k += (size_t)snprintf(json + k, n - k, "%.6f,", (double)(k % 9973) * 0.0137);
	round_trip("4 MiB of JSON numbers", json, k, HTTP_HEAD_MAX);
	for (size_t i = 0; i < n; i++) { /* xorshift: nothing to find */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		noise[i] = (char)x;
	}
	round_trip("4 MiB of noise (stored, not shrunk)", noise, n, HTTP_HEAD_MAX);
out:
	free(json);
	free(noise);
}

static void test_compress_shrinks_json(void)
{
	char json[8192], *z = NULL;
	size_t k = 0, zlen = 0;

	while (k + 40 < sizeof json)
		k += (size_t)snprintf(json + k, sizeof json - k, "{\"speed_kmh\":%d.%03d},",
				      (int)k % 300, (int)(k * 7) % 1000);
	T_EQ(gzip_compress(json, k, 0, &z, &zlen), 0);
	T_LT(zlen * 2, k);
	free(z);
}

static void test_head(void)
{
	char head[HTTP_HEAD_MAX], tiny[40];
	size_t n = gzip_head(head, sizeof head, 200, 12345);

	T_GT(n, 0);
	T_EQ(strlen(head), n);
	T_CHECK(strncmp(head, "HTTP/1.1 200 OK\r\n", 17) == 0);
	T_CHECK(strstr(head, "\r\nContent-Length: 12345\r\n") != NULL);
	T_CHECK(strstr(head, "\r\nContent-Type: application/json\r\n") != NULL);
	T_CHECK(strstr(head, "\r\nContent-Encoding: gzip\r\nVary: Accept-Encoding\r\n") != NULL);
	T_CHECK(n > 4 && strcmp(head + n - 4, "\r\n\r\n") == 0);
	T_CHECK(strstr(head, "\r\n\r\n") == head + n - 4); /* one empty line, at the end */
	T_EQ(gzip_head(tiny, sizeof tiny, 200, 1), 0);
}

int main(void)
{
	T_RUN(test_accepts);
	T_RUN(test_compress);
	T_RUN(test_compress_shrinks_json);
	T_RUN(test_head);
	return T_DONE();
}
