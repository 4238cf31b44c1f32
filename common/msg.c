/* msg.c - see msg.h */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/ids.h"
#include "common/msg.h"

/* Cut an incomplete UTF-8 sequence off the end of s (left there by a bounded
 * copy): jansson refuses invalid UTF-8, so the reply could not be built. */
static void utf8_trim(char *s)
{
	size_t n = strlen(s), lead = n, want;
	unsigned char c;

	while (lead > 0 && n - lead < 4 && ((unsigned char)s[lead - 1] & 0xc0) == 0x80)
		lead--;
	if (lead == 0)
		return;
	c = (unsigned char)s[--lead];
	want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	if (n - lead < want)
		s[lead] = 0;
}

int msg_parse_request(const char *buf, size_t len, struct msg_req *req, const char **code,
		      char *message, size_t cap)
{
	json_error_t jerr;
	json_t *v, *id, *cmd, *args;

	memset(req, 0, sizeof *req);
	*code = MSG_E_BAD_REQUEST;
	if (len > MSG_MAX_BYTES) {
		*code = MSG_E_TOO_LARGE;
		snprintf(message, cap, "request of %zu bytes exceeds %d", len, MSG_MAX_BYTES);
		return -1;
	}
	req->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req->root || !json_is_object(req->root)) {
		snprintf(message, cap, "not a JSON object: %s",
			 req->root ? "wrong type" : jerr.text);
		goto fail;
	}
	v = json_object_get(req->root, "v");
	id = json_object_get(req->root, "id");
	cmd = json_object_get(req->root, "cmd");
	args = json_object_get(req->root, "args");
	if (json_is_string(id)) {
		snprintf(req->id, sizeof req->id, "%s", json_string_value(id));
		utf8_trim(req->id);
	}
	if (!json_is_integer(v) || json_integer_value(v) != MSG_VERSION) {
		snprintf(message, cap, "envelope version must be %d", MSG_VERSION);
		goto fail;
	}
	if (id && !json_is_string(id)) {
		snprintf(message, cap, "\"id\" must be a string");
		goto fail;
	}
	if (!json_is_string(cmd) || json_string_length(cmd) == 0) {
		snprintf(message, cap, "\"cmd\" must be a non-empty string");
		goto fail;
	}
	if (args && !json_is_object(args)) {
		snprintf(message, cap, "\"args\" must be an object");
		goto fail;
	}
	if (!args) {
		args = json_object();
		json_object_set_new(req->root, "args", args);
	}
	req->cmd = json_string_value(cmd);
	req->args = args;
	return 0;
fail:
	json_decref(req->root);
	req->root = NULL;
	return -1;
}

void msg_req_free(struct msg_req *req)
{
	json_decref(req->root);
	req->root = NULL;
	req->args = NULL;
	req->cmd = NULL;
}

static char *dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s;
}

char *msg_reply_ok(const char *id, json_t *result)
{
	return dump(json_pack("{s:i, s:s, s:b, s:o}", "v", MSG_VERSION, "id", id ? id : "", "ok", 1,
			      "result", result ? result : json_null()));
}

char *msg_reply_error(const char *id, const char *code, const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	utf8_trim(message);
	return dump(json_pack("{s:i, s:s, s:b, s:{s:s, s:s}}", "v", MSG_VERSION, "id", id ? id : "",
			      "ok", 0, "error", "code", code, "message", message));
}

int msg_call(void *dealer, const char *cmd, json_t *args, int timeout_ms, json_t **result,
	     char *code, size_t code_cap, char *message, size_t msg_cap)
{
	char id[ID_LEN + 1];
	char *req;
	zmq_msg_t m;
	zmq_pollitem_t pi = { .socket = dealer, .events = ZMQ_POLLIN };
	json_t *rep = NULL;
	json_error_t jerr;
	int64_t deadline = clock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS;
	int rc = -1;

	*result = NULL;
	ids_new(id);
	req = dump(json_pack("{s:i, s:s, s:s, s:o}", "v", MSG_VERSION, "id", id, "cmd", cmd, "args",
			     args ? args : json_object()));
	if (!req || zmq_send(dealer, "", 0, ZMQ_SNDMORE) < 0 ||
	    zmq_send(dealer, req, strlen(req), ZMQ_DONTWAIT) < 0) {
		snprintf(code, code_cap, "%s", MSG_E_UNAVAILABLE);
		snprintf(message, msg_cap, "cannot send to the store: %s",
			 zmq_strerror(zmq_errno()));
		free(req);
		return -1;
	}
	free(req);
	for (;;) {
		/* one deadline for the call: stale replies must not extend it */
		int64_t left = (deadline - clock_mono_ns() + NS_PER_MS - 1) / NS_PER_MS;

		if (zmq_poll(&pi, 1, timeout_ms < 0 ? -1 : left > 0 ? (long)left : 0) <= 0) {
			snprintf(code, code_cap, "%s", MSG_E_UNAVAILABLE);
			snprintf(message, msg_cap, "the store did not answer within %d ms",
				 timeout_ms);
			return -1;
		}
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, dealer, 0) < 0) {
			zmq_msg_close(&m);
			continue;
		}
		if (zmq_msg_more(&m) && zmq_msg_size(&m) == 0) { /* the empty delimiter */
			zmq_msg_close(&m);
			continue;
		}
		rep = json_loadb(zmq_msg_data(&m), zmq_msg_size(&m), 0, &jerr);
		zmq_msg_close(&m);
		if (rep && json_is_string(json_object_get(rep, "id")) &&
		    strcmp(json_string_value(json_object_get(rep, "id")), id) == 0)
			break;
		json_decref(rep); /* a late reply to an earlier request: skip it */
		rep = NULL;
	}
	if (json_is_true(json_object_get(rep, "ok"))) {
		*result = json_incref(json_object_get(rep, "result"));
		rc = 0;
	} else {
		json_t *e = json_object_get(rep, "error");
		snprintf(code, code_cap, "%s",
			 json_is_string(json_object_get(e, "code"))
				 ? json_string_value(json_object_get(e, "code"))
				 : MSG_E_INTERNAL);
		snprintf(message, msg_cap, "%s",
			 json_is_string(json_object_get(e, "message"))
				 ? json_string_value(json_object_get(e, "message"))
				 : "");
	}
	json_decref(rep);
	return rc;
}
