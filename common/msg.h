/*
 * msg.h - the store's command envelope (docs/architecture.md §4), version MSG_VERSION.
 *
 *   request  {"v":1,"id":"<request id>","cmd":"session.create","args":{...}}
 *   reply    {"v":1,"id":"<same id>","ok":true,"result":<any JSON>}
 *            {"v":1,"id":"<same id>","ok":false,"error":{"code":"...","message":"..."}}
 *
 * Error codes are stable strings (MSG_E_*); the REST API maps them to HTTP
 * statuses. Requests travel to the store's ROUTER as one frame (after the
 * routing envelope); msg_call() is the client side over a DEALER socket.
 * Ownership follows jansson: functions that take json_t * "steal" it.
 */
#ifndef PW_MSG_H
#define PW_MSG_H

#include <jansson.h>
#include <stddef.h>

#define MSG_VERSION 1
#define MSG_MAX_BYTES (1 << 20)

#define MSG_E_BAD_REQUEST "bad_request" /* malformed envelope or arguments */
#define MSG_E_UNKNOWN_CMD "unknown_command"
#define MSG_E_NOT_FOUND "not_found"
#define MSG_E_CONFLICT "conflict" /* wrong state: already active, not completed... */
#define MSG_E_TOO_LARGE "too_large"
#define MSG_E_UNAVAILABLE "unavailable" /* the store did not answer in time */
#define MSG_E_DISK_FULL "disk_full"
#define MSG_E_IO "io_error"
#define MSG_E_INTERNAL "internal"

struct msg_req {
	json_t *root; /* owns cmd and args */
	char id[128]; /* "" when the client sent none (kept on parse errors) */
	const char *cmd;
	json_t *args; /* an object (empty when absent) */
};

/* Parse and validate a request; 0, or -1 with code/message filled (the
 * caller replies with them). On success free with msg_req_free. */
int msg_parse_request(const char *buf, size_t len, struct msg_req *req, const char **code,
		      char *message, size_t cap);
void msg_req_free(struct msg_req *req);

/* Serialized replies (malloc'd, caller frees). result is stolen. */
char *msg_reply_ok(const char *id, json_t *result);
char *msg_reply_error(const char *id, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Client: send cmd with args (stolen) on a connected DEALER socket and wait up
 * to timeout_ms. Returns 0 with *result (caller decrefs), or -1 with code and
 * message filled (MSG_E_UNAVAILABLE on timeout; the socket should then be
 * recreated, since a late reply would otherwise be read as the next one). */
int msg_call(void *dealer, const char *cmd, json_t *args, int timeout_ms, json_t **result,
	     char *code, size_t code_cap, char *message, size_t msg_cap);

#endif
