/* http.c - response and request helpers (see api.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "common/msg.h"

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 500:
		return "Internal Server Error";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	case 507:
		return "Insufficient Storage";
	default:
		return "Status";
	}
}

size_t http_head(char *buf, size_t cap, int status, size_t body_len)
{
	int n = snprintf(
		buf, cap,
		"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		"Cache-Control: no-store\r\n" API_VERSION_HEADER "\r\n",
		status, reason(status), body_len);

	return n < 0 ? 0 : (size_t)n;
}

void http_count(struct api *api, int status)
{
	api->requests++;
	if (status >= 500)
		api->errors_5xx++;
	else if (status >= 400)
		api->errors_4xx++;
}

/* body as compact JSON text (malloc'd), NULL for none or out of memory. */
static char *json_text(const json_t *body)
{
	return body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10))
		    : NULL;
}

char *http_response(int status, json_t *body, size_t *len)
{
	char *text = json_text(body);
	size_t blen = text ? strlen(text) : 0, hlen;
	char head[HTTP_HEAD_MAX], *all;

	json_decref(body);
	if (body && !text)
		return NULL;
	hlen = http_head(head, sizeof head, status, blen);
	if ((all = malloc(hlen + blen + 1))) {
		memcpy(all, head, hlen);
		if (blen)
			memcpy(all + hlen, text, blen);
		all[hlen + blen] = 0;
		*len = hlen + blen;
	}
	free(text);
	return all;
}

int http_json(struct api *api, struct mg_connection *c, int status, json_t *body)
{
	char *text = json_text(body);
	int rc;

	json_decref(body);
	if (body && !text) { /* out of memory: the status line at least */
		char head[HTTP_HEAD_MAX];
		size_t hlen = http_head(head, sizeof head, 500, 0);
		http_count(api, 500);
		return mg_write(c, head, hlen) > 0 ? 500 : -1;
	}
	rc = gzip_reply(api, c, status, text ? text : "", text ? strlen(text) : 0);
	free(text);
	return rc;
}

int http_text(struct api *api, struct mg_connection *c, int status, const char *type,
	      const char *text, size_t len)
{
	char head[HTTP_HEAD_MAX];
	char *all;
	int n = snprintf(head, sizeof head,
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Cache-Control: no-store\r\n" API_VERSION_HEADER "\r\n",
			 status, reason(status), type, len);
	int rc;

	if (n < 0 || (size_t)n >= sizeof head || !(all = malloc((size_t)n + len)))
		return http_error(api, c, 500, MSG_E_INTERNAL, "out of memory");
	memcpy(all, head, (size_t)n);
	memcpy(all + n, text, len);
	http_count(api, status);
	rc = mg_write(c, all, (size_t)n + len);
	free(all);
	return rc > 0 ? status : -1;
}

int http_error(struct api *api, struct mg_connection *c, int status, const char *code,
	       const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	return http_json(api, c, status, http_error_body(code, message));
}

json_t *http_error_body(const char *code, const char *message)
{
	return json_pack("{s:s, s:{s:s, s:s}}", "api_version", API_VERSION, "error", "code", code,
			 "message", message);
}

/* The whole response for status with the error object, then the connection
 * closes (civetweb closes it after a refused upgrade or its own error). */
static void error_close(const struct mg_connection *conn, int status, const char *code,
			const char *message)
{
	json_t *o = http_error_body(code, message);
	char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	mg_printf((struct mg_connection *)conn,
		  "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		  "Cache-Control: no-store\r\n" API_VERSION_HEADER "Connection: close\r\n\r\n%s",
		  status, reason(status), body ? strlen(body) : 0, body ? body : "");
	free(body);
}

int http_refuse_upgrade(const struct mg_connection *conn, int status, const char *code,
			const char *message)
{
	error_close(conn, status, code, message);
	return 1;
}

int http_civetweb_error(struct mg_connection *c, int status, const char *errmsg)
{
	struct api *api = mg_get_user_data(mg_get_context(c));
	const char *code = status == 404                    ? MSG_E_NOT_FOUND
			   : status == 405                  ? "method_not_allowed"
			   : status == 413                  ? MSG_E_TOO_LARGE
			   : status == 503                  ? MSG_E_UNAVAILABLE
			   : status >= 500 && status != 505 ? MSG_E_INTERNAL
							    : MSG_E_BAD_REQUEST;
	char message[256];

	if (api)
		http_count(api, status);
	snprintf(message, sizeof message, "%s%s%s", reason(status), errmsg && *errmsg ? ": " : "",
		 errmsg ? errmsg : "");
	error_close(c, status, code, message);
	return 0;
}

json_t *http_body_object(struct api *api, struct mg_connection *c)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	char *buf;
	size_t len = 0;
	json_error_t jerr;
	json_t *o;

	if (ri->content_length > API_BODY_MAX) {
		http_error(api, c, 413, MSG_E_TOO_LARGE, "request body of %lld bytes exceeds %d",
			   (long long)ri->content_length, API_BODY_MAX);
		return NULL;
	}
	if (!(buf = malloc(API_BODY_MAX + 1))) {
		http_error(api, c, 500, MSG_E_INTERNAL, "out of memory");
		return NULL;
	}
	for (;;) {
		int n = mg_read(c, buf + len, API_BODY_MAX + 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > API_BODY_MAX) { /* chunked or lying Content-Length */
			free(buf);
			http_error(api, c, 413, MSG_E_TOO_LARGE, "request body exceeds %d bytes",
				   API_BODY_MAX);
			return NULL;
		}
	}
	if (len == 0) {
		free(buf);
		return json_object();
	}
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!json_is_object(o)) {
		http_error(api, c, 400, MSG_E_BAD_REQUEST, "the body must be a JSON object%s%s",
			   o ? "" : ": ", o ? "" : jerr.text);
		json_decref(o);
		return NULL;
	}
	return o;
}

int http_status_for(const char *code)
{
	static const struct {
		const char *code;
		int status;
	} map[] = {
		{ MSG_E_BAD_REQUEST, 400 }, { MSG_E_NOT_FOUND, 404 },   { MSG_E_CONFLICT, 409 },
		{ MSG_E_TOO_LARGE, 413 },   { MSG_E_UNAVAILABLE, 503 }, { MSG_E_DISK_FULL, 507 },
		{ MSG_E_UNKNOWN_CMD, 500 }, { MSG_E_IO, 500 },          { MSG_E_INTERNAL, 500 },
	};

	for (size_t i = 0; i < sizeof map / sizeof *map; i++)
		if (strcmp(map[i].code, code) == 0)
			return map[i].status;
	return 500;
}

int http_file(struct api *api, struct mg_connection *c, const char *path, const char *type,
	      const char *filename)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char head[512], buf[65536];
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return http_error(api, c, 404, MSG_E_NOT_FOUND, "no data file");
	}
	api->requests++;
	snprintf(head, sizeof head,
		 "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %lld\r\n"
		 "Content-Disposition: attachment; filename=\"%s\"\r\n" API_VERSION_HEADER "\r\n",
		 type, (long long)st.st_size, filename);
	mg_write(c, head, strlen(head));
	while ((n = read(fd, buf, sizeof buf)) > 0)
		if (mg_write(c, buf, (size_t)n) <= 0)
			break;
	close(fd);
	return 200;
}
