/*
 * www.c - the dashboard's static files at / (api.h, docs/dashboard.md).
 *
 * Files come from one directory (PITWALL_WWW_DIR, else found beside the
 * binary: build/www for build/bin/pw-api, share/pitwall/www for an installed
 * one). Only GET and HEAD; a path is served when every segment is
 * [A-Za-z0-9_.-] not starting with '.', so nothing outside the directory (and
 * no dot file) can be named. "/" and "dir/" serve index.html.
 *
 * Each response is one write: head and body (files are small; at most
 * WWW_FILE_MAX). The ETag is the file's size and modification time; a
 * matching If-None-Match gets 304. Browsers revalidate every time
 * (Cache-Control: no-cache), so a new build is seen on the next load. When
 * the client accepts gzip and "<file>.gz" exists (make writes one beside each
 * text file) and is not older, that is sent with Content-Encoding: gzip.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "common/log.h"

#define WWW_FILE_MAX (16 * 1024 * 1024)
#define WWW_HEAD_MAX 1024
#define WWW_DEPTH_MAX 8

struct www {
	char root[PATH_MAX];
	bool found; /* root is a directory */
};

/* The types of the files the dashboard is made of; anything else is a download. */
static const struct {
	const char *ext, *type;
} types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "json", "application/json" },
	{ "map", "application/json" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "ico", "image/x-icon" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "woff2", "font/woff2" },
};

/* Same origin only: the page may load nothing from anywhere else (DESIGN §6:
 * nothing from the internet). uPlot sets inline styles, hence 'unsafe-inline'
 * for styles only. */
#define WWW_CSP                                                                              \
	"default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; " \
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

static const char *type_of(const char *path)
{
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof types / sizeof *types; i++)
		if (strcmp(dot + 1, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int www_new(struct www **out, const char *dir)
{
	struct www *w = calloc(1, sizeof *w);
	char exe[PATH_MAX - 64], *slash;
	ssize_t n;

	if (!w)
		return -ENOMEM;
	if (dir && dir[0]) {
		snprintf(w->root, sizeof w->root, "%s", dir);
	} else if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0) {
		exe[n] = 0;
		if ((slash = strrchr(exe, '/')))
			*slash = 0;
		/* build/bin/pw-api -> build/www; PREFIX/bin/pw-api -> PREFIX/share/pitwall/www */
		snprintf(w->root, sizeof w->root, "%s/../www", exe);
		if (!is_dir(w->root))
			snprintf(w->root, sizeof w->root, "%s/../share/pitwall/www", exe);
	}
	w->found = w->root[0] && is_dir(w->root);
	if (w->found)
		log_info("msg=\"dashboard files\" dir=%s", w->root);
	else
		log_warn(
			"msg=\"the dashboard's files are not there: / answers 404 (run make, or set "
			"PITWALL_WWW_DIR)\" dir=%s",
			w->root);
	*out = w;
	return 0;
}

void www_free(struct www *w)
{
	free(w);
}

/* The path below the root for uri ("/" -> "index.html"), or -1 when a segment
 * is not a plain name. */
static int file_path(const char *uri, char *out, size_t cap)
{
	size_t n = 0;
	int depth = 0;

	out[0] = 0;
	while (*uri == '/')
		uri++;
	while (*uri) {
		size_t len = strcspn(uri, "/");

		if (len == 0 || uri[0] == '.' || ++depth > WWW_DEPTH_MAX)
			return -1;
		for (size_t i = 0; i < len; i++) {
			char ch = uri[i];
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
				return -1;
		}
		if (n + len + 2 >= cap)
			return -1;
		memcpy(out + n, uri, len);
		n += len;
		uri += len;
		if (*uri == '/') {
			out[n++] = '/';
			uri++;
		}
		out[n] = 0;
	}
	if (n == 0 || out[n - 1] == '/') {
		if (n + sizeof "index.html" > cap)
			return -1;
		memcpy(out + n, "index.html", sizeof "index.html");
	}
	return 0;
}

/* Whether If-None-Match lists etag (or is "*"). */
static bool not_modified(const char *inm, const char *etag)
{
	return inm && (strstr(inm, etag) || strcmp(inm, "*") == 0);
}

static size_t escape_html(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	for (; *s && n + 7 < cap; s++) {
		const char *e = *s == '<'   ? "&lt;"
				: *s == '>' ? "&gt;"
				: *s == '&' ? "&amp;"
				: *s == '"' ? "&quot;"
					    : NULL;
		if (e) {
			n += (size_t)snprintf(out + n, cap - n, "%s", e);
		} else {
			out[n++] = *s;
		}
	}
	out[n] = 0;
	return n;
}

/* A small HTML page (404, 405) in the dashboard's colours. */
static int page(struct api *api, struct mg_connection *c, int status, const char *title,
		const char *text, bool head_only)
{
	char body[2048], head[WWW_HEAD_MAX], *all;
	int blen, hlen, rc;

	blen = snprintf(body, sizeof body,
			"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
			"<title>pitwall - %s</title><style>body{background:#101317;color:#d7dde4;"
			"font:16px system-ui,sans-serif;margin:3em}a{color:#5fb3ff}</style></head>"
			"<body><h1>%s</h1><p>%s</p><p><a href=\"/\">The dashboard</a> &middot; "
			"the API is under /api (docs/api.md).</p></body></html>\n",
			title, title, text);
	if (blen < 0 || (size_t)blen >= sizeof body)
		blen = (int)strlen(body);
	hlen = snprintf(head, sizeof head,
			"HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
			"Content-Length: %d\r\nCache-Control: no-store\r\n"
			"X-Content-Type-Options: nosniff\r\n" API_VERSION_HEADER "%s\r\n",
			status, title, blen, status == 405 ? "Allow: GET, HEAD\r\n" : "");
	http_count(api, status);
	if (!(all = malloc((size_t)hlen + (size_t)blen)))
		return -1;
	memcpy(all, head, (size_t)hlen);
	memcpy(all + hlen, body, (size_t)blen);
	rc = mg_write(c, all, (size_t)hlen + (head_only ? 0 : (size_t)blen));
	free(all);
	return rc > 0 ? status : -1;
}

static int not_found(struct api *api, struct mg_connection *c, const char *uri, bool head_only)
{
	char text[1024], esc[600];

	escape_html(esc, sizeof esc, uri);
	if (!api->www->found)
		snprintf(text, sizeof text,
			 "The dashboard's files are not installed: build them with make, or point "
			 "PITWALL_WWW_DIR at them (pw-api's log names the directory it read).");
	else
		snprintf(text, sizeof text, "There is no file %s here.", esc);
	return page(api, c, 404, "Not Found", text, head_only);
}

/* Open root/rel (a regular file, no symlink); fd or -1. */
static int open_file(const struct www *w, const char *rel, struct stat *st)
{
	char full[PATH_MAX + 32];
	int fd;

	if (snprintf(full, sizeof full, "%s/%s", w->root, rel) >= (int)sizeof full)
		return -1;
	if ((fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -1;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || st->st_size > WWW_FILE_MAX) {
		close(fd);
		return -1;
	}
	return fd;
}

static long long mtime_ns(const struct stat *st)
{
	return (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

int www_handle(struct api *api, struct mg_connection *c)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	bool head_only = strcmp(ri->request_method, "HEAD") == 0;
	char rel[PATH_MAX], gz[PATH_MAX + 4], head[WWW_HEAD_MAX], etag[64], *all = NULL;
	struct stat st, gst;
	bool gzipped = false;
	int fd = -1, gfd, hlen, rc = -1;
	size_t total;

	if (!head_only && strcmp(ri->request_method, "GET") != 0)
		return page(api, c, 405, "Method Not Allowed",
			    "The dashboard's files can only be read (GET).", false);
	/* decoded, not normalized: file_path refuses "." and ".." segments itself */
	const char *uri = ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri;

	if (!api->www->found || file_path(uri, rel, sizeof rel) < 0 ||
	    (fd = open_file(api->www, rel, &st)) < 0)
		return not_found(api, c, uri, head_only);
	if (gzip_accepts(mg_get_header(c, "Accept-Encoding")) &&
	    snprintf(gz, sizeof gz, "%s.gz", rel) < (int)sizeof gz &&
	    (gfd = open_file(api->www, gz, &gst)) >= 0) {
		if (mtime_ns(&gst) >= mtime_ns(&st)) {
			close(fd);
			fd = gfd;
			st = gst;
			gzipped = true;
		} else {
			close(gfd);
		}
	}
	snprintf(etag, sizeof etag, "\"%llx-%llx%s\"", (long long)st.st_size, mtime_ns(&st),
		 gzipped ? "-gz" : "");
	if (not_modified(mg_get_header(c, "If-None-Match"), etag)) {
		hlen = snprintf(
			head, sizeof head,
			"HTTP/1.1 304 Not Modified\r\nETag: %s\r\nCache-Control: no-cache\r\n"
			"Vary: Accept-Encoding\r\n" API_VERSION_HEADER "\r\n",
			etag);
		http_count(api, 304);
		rc = mg_write(c, head, (size_t)hlen) > 0 ? 304 : -1;
		goto out;
	}
	hlen = snprintf(head, sizeof head,
			"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %lld\r\n%s"
			"ETag: %s\r\nCache-Control: no-cache\r\nVary: Accept-Encoding\r\n"
			"X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
			"Content-Security-Policy: " WWW_CSP "\r\n" API_VERSION_HEADER "\r\n",
			type_of(rel), (long long)st.st_size,
			gzipped ? "Content-Encoding: gzip\r\n" : "", etag);
	total = (size_t)hlen + (head_only ? 0 : (size_t)st.st_size);
	if (!(all = malloc(total))) {
		rc = page(api, c, 500, "Internal Server Error", "Out of memory.", head_only);
		goto out;
	}
	memcpy(all, head, (size_t)hlen);
	for (size_t got = (size_t)hlen; got < total;) {
		ssize_t n = read(fd, all + got, total - got);
		if (n <= 0) {
			rc = page(api, c, 500, "Internal Server Error", "The file cannot be read.",
				  head_only);
			goto out;
		}
		got += (size_t)n;
	}
	http_count(api, 200);
	/* one write: head and body separately stall ~40 ms with Nagle (DESIGN §6) */
	rc = mg_write(c, all, total) > 0 ? 200 : -1;
out:
	free(all);
	if (fd >= 0)
		close(fd);
	return rc;
}
