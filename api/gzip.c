/*
 * gzip.c - API answers compressed for the clients that take them (api.h,
 * docs/api.md "Compression").
 *
 * civetweb compresses static files at most, never what a callback writes, so
 * pw-api does it: an answer of GZIP_MIN_BYTES or more goes out gzipped
 * (Content-Encoding: gzip, Vary: Accept-Encoding) when the request's
 * Accept-Encoding lists gzip at a q above 0; anything else is sent as it is.
 * zlib at level 1: JSON of numbers shrinks nearly as far as at level 6
 * (a track model to 46 % against 43 %) three to five times faster, and the
 * big answers (a lap comparison of 4.8 MB) are the ones that cost the time.
 * Head and body still leave in one write (docs/architecture.md §6).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "api/api.h"

#define GZIP_LEVEL 1
#define GZIP_WINDOW_BITS (15 + 16) /* 32 KiB window, with the gzip header and trailer */
#define GZIP_MEM_LEVEL 8
#define GZIP_HEADERS "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n"

bool gzip_accepts(const char *accept_encoding)
{
	const char *ae = accept_encoding, *p = ae;

	while (p && (p = strcasestr(p, "gzip"))) {
		const char *q = p + 4;
		bool token = (p == ae || p[-1] == ' ' || p[-1] == ',') &&
			     (*q == 0 || *q == ',' || *q == ';' || *q == ' ');
		if (token) {
			q += strspn(q, " ");
			if (*q == ';') {
				const char *qv = strstr(q, "q=");
				const char *end = strchr(q, ',');
				if (qv && (!end || qv < end) && strtod(qv + 2, NULL) <= 0.0)
					return false;
			}
			return true;
		}
		p = q;
	}
	return false;
}

int gzip_compress(const void *in, size_t len, size_t room, char **out, size_t *out_len)
{
	z_stream z = { 0 };
	uLong bound;
	char *buf = NULL;
	int rc = -ENOMEM;

	*out = NULL;
	*out_len = 0;
	if ((uLong)len != len || (uInt)len != len) /* one call to deflate takes it all */
		return -EFBIG;
	if (deflateInit2(&z, GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW_BITS, GZIP_MEM_LEVEL,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	bound = deflateBound(&z, (uLong)len);
	if (!(buf = malloc(room + bound)))
		goto out;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)buf + room;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) { /* cannot happen within deflateBound */
		rc = -EIO;
		goto out;
	}
	*out = buf;
	*out_len = z.total_out;
	buf = NULL;
	rc = 0;
out:
	deflateEnd(&z);
	free(buf);
	return rc;
}

size_t gzip_head(char *buf, size_t cap, int status, size_t body_len)
{
	size_t n = http_head(buf, cap, status, body_len);

	/* the extra headers go before the empty line that ends http_head's */
	if (n < 4 || n - 2 + sizeof GZIP_HEADERS + 2 > cap)
		return 0;
	memcpy(buf + n - 2, GZIP_HEADERS "\r\n", sizeof GZIP_HEADERS + 2);
	return n - 2 + sizeof GZIP_HEADERS + 1;
}

bool gzip_wanted(const struct mg_connection *c, size_t body_len)
{
	return body_len >= GZIP_MIN_BYTES && gzip_accepts(mg_get_header(c, "Accept-Encoding"));
}

int gzip_reply(struct api *api, struct mg_connection *c, int status, const char *body, size_t len)
{
	char head[HTTP_HEAD_MAX], *all = NULL;
	size_t hlen, zlen;
	int rc;

	if (gzip_wanted(c, len) && gzip_compress(body, len, HTTP_HEAD_MAX, &all, &zlen) == 0 &&
	    (hlen = gzip_head(head, sizeof head, status, zlen))) {
		/* the head right before the compressed body, then one write */
		memcpy(all + HTTP_HEAD_MAX - hlen, head, hlen);
		http_count(api, status);
		rc = mg_write(c, all + HTTP_HEAD_MAX - hlen, hlen + zlen);
		free(all);
		return rc > 0 ? status : -1;
	}
	free(all); /* not wanted, or it failed: the answer as it is */
	hlen = http_head(head, sizeof head, status, len);
	if (!(all = malloc(hlen + len))) { /* out of memory: the status line at least */
		hlen = http_head(head, sizeof head, 500, 0);
		http_count(api, 500);
		return mg_write(c, head, hlen) > 0 ? 500 : -1;
	}
	memcpy(all, head, hlen);
	memcpy(all + hlen, body, len);
	http_count(api, status);
	/* one write: headers and body apart would wait on Nagle (docs/architecture.md §6) */
	rc = mg_write(c, all, hlen + len);
	free(all);
	return rc > 0 ? status : -1;
}
