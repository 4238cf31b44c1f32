/*
 * fake_worker.c - a scripted stand-in for pw-analyze, to test the store's job
 * channel before the analysis workers exist (tests/integration/test_jobs.sh).
 *
 *   fake_worker JOBS_EP RESULTS_EP MODE COUNT TIMEOUT_S
 *
 * Receives COUNT jobs (or gives up after TIMEOUT_S) and, per MODE:
 *   ok       checks the job (header fields, one frame part per run of
 *            frames x frame_size bytes, frames with FRAME_VERSION) and answers
 *            {"ok":true,"analysis":{"status":"done","frames":N,"runs":R}}
 *   fail     answers {"ok":false,"error":{"code":"bad_data","message":...}}
 *   garbage  answers with bytes that are not JSON, then a result for an unknown job
 *   silent   never answers (the store must send the job again after its deadline)
 * Prints one line per job: "job <job_id> session <session_id> runs R frames N".
 * Exit 0 when COUNT jobs arrived and were well-formed, 1 otherwise.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/frame.h"
#include "tests/tools/t_args.h"

int main(int argc, char **argv);

static int check_frames(const void *buf, size_t len, json_int_t expect)
{
	const struct pw_frame *f = buf;

	if (len != (size_t)expect * sizeof *f)
		return -1;
	for (json_int_t i = 0; i < expect; i++)
		if (f[i].version != FRAME_VERSION)
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	void *ctx, *pull, *push;
	int count, timeout_ms, got = 0, bad = 0, linger = 0;
	const char *mode;

	if (argc != 6) {
		fprintf(stderr, "usage: fake_worker JOBS_EP RESULTS_EP ok|fail|garbage|silent COUNT TIMEOUT_S\n");
		return 2;
	}
	mode = argv[3];
	count = (int)t_arg_long(argv[4], 0, 1000000, "COUNT");
	timeout_ms = (int)t_arg_long(argv[5], 0, 86400, "TIMEOUT_S") * 1000;
	ctx = zmq_ctx_new();
	pull = zmq_socket(ctx, ZMQ_PULL);
	push = zmq_socket(ctx, ZMQ_PUSH);
	zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
	zmq_connect(pull, argv[1]);
	zmq_connect(push, argv[2]);
	while (got < count) {
		zmq_pollitem_t pi = { .socket = pull, .events = ZMQ_POLLIN };
		zmq_msg_t m;
		json_t *hdr, *runs, *r;
		json_error_t jerr;
		json_int_t frames = 0;
		size_t i;
		char *reply = NULL;

		if (zmq_poll(&pi, 1, timeout_ms) <= 0)
			break;
		zmq_msg_init(&m);
		zmq_msg_recv(&m, pull, 0);
		hdr = json_loadb(zmq_msg_data(&m), zmq_msg_size(&m), 0, &jerr);
		zmq_msg_close(&m);
		runs = json_object_get(hdr, "runs");
		if (!hdr || !json_is_array(runs) ||
		    json_integer_value(json_object_get(hdr, "frame_size")) != (json_int_t)sizeof(struct pw_frame) ||
		    !json_is_string(json_object_get(hdr, "job_id")))
			bad++;
		json_array_foreach(runs, i, r) {
			json_int_t n = json_integer_value(json_object_get(r, "frames"));
			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, pull, 0) < 0 || check_frames(zmq_msg_data(&m), zmq_msg_size(&m), n) < 0)
				bad++;
			zmq_msg_close(&m);
			frames += n;
		}
		got++;
		printf("job %s session %s runs %zu frames %lld\n",
		       json_string_value(json_object_get(hdr, "job_id")),
		       json_string_value(json_object_get(hdr, "session_id")), json_array_size(runs),
		       (long long)frames);
		fflush(stdout);
		if (strcmp(mode, "ok") == 0)
			reply = json_dumps(json_pack("{s:i, s:O, s:O, s:b, s:{s:s, s:I, s:I}}", "v", 1,
						     "job_id", json_object_get(hdr, "job_id"), "session_id",
						     json_object_get(hdr, "session_id"), "ok", 1, "analysis",
						     "status", "done", "frames", frames, "runs",
						     (json_int_t)json_array_size(runs)), JSON_COMPACT);
		else if (strcmp(mode, "fail") == 0)
			reply = json_dumps(json_pack("{s:i, s:O, s:O, s:b, s:{s:s, s:s}}", "v", 1, "job_id",
						     json_object_get(hdr, "job_id"), "session_id",
						     json_object_get(hdr, "session_id"), "ok", 0, "error",
						     "code", "bad_data", "message", "scripted failure"),
					   JSON_COMPACT);
		else if (strcmp(mode, "garbage") == 0) {
			zmq_send(push, "\x01\x02not json", 10, 0);
			reply = strdup("{\"v\":1,\"job_id\":\"00000000-0000-4000-8000-000000000000\",\"ok\":true}");
		}
		if (reply)
			zmq_send(push, reply, strlen(reply), 0);
		free(reply);
		json_decref(hdr);
	}
	zmq_close(pull);
	zmq_close(push);
	zmq_ctx_term(ctx);
	return got == count && !bad ? 0 : 1;
}
