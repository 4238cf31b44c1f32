/*
 * fake_worker.c - a scripted stand-in for pw-analyze, to test the store's job
 * channel (tests/integration/test_jobs.sh, test_track_build.sh).
 *
 *   fake_worker JOBS_EP RESULTS_EP MODE COUNT TIMEOUT_S [HEADERS_FILE]
 *
 * Receives COUNT jobs (or gives up after TIMEOUT_S), decodes each with
 * common/job.h's job_decode (which checks the header, one frame part per run
 * of frames x frame_size bytes, every frame of FRAME_VERSION; or a version 2
 * run's frame file image, loaded to exactly its frames), reads a "path" run's
 * file as its columns and counts the frames it holds (a run whose file does
 * not read, or holds other than the announced frames, makes the job bad) and,
 * per MODE:
 *   ok         answers {"ok":true,"analysis":{"status":"done","frames":N,"runs":R}}
 *   fail       answers {"ok":false,"error":{"code":"bad_data","message":...}}
 *   fail=CODE  the same with error code CODE (e.g. fail=not_qualified)
 *   garbage    answers with bytes that are not JSON, then a result for an unknown job
 *   silent     never answers (the store must send the job again after its deadline)
 *   drop1      ignores the first job, answers the others as ok
 * Prints one line per job:
 *   "job <job_id> session <session_id> runs R frames N kind K game G track T".
 * With HEADERS_FILE, each job's header (part 0) is appended to it as one line,
 * for the tests to check against the JSON Schema job-header (docs/schemas).
 * Exit 0 when COUNT jobs arrived and were well-formed, 1 otherwise.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/framefile.h"
#include "common/job.h"
#include "tests/tools/t_args.h"

int main(int argc, char **argv);

/* The reply MODE gives to the got-th job (1-based), or NULL for none. */
static char *answer(const char *mode, int got, const struct job *j, size_t frames)
{
	char *reply = NULL;
	json_t *an;

	if (strcmp(mode, "ok") == 0 || (strcmp(mode, "drop1") == 0 && got > 1)) {
		an = json_pack("{s:s, s:I, s:I}", "status", "done", "frames", (json_int_t)frames,
			       "runs", (json_int_t)j->nruns);
		reply = job_result_encode(j->kind, j->job_id, j->session_id, an, NULL, NULL);
		json_decref(an);
	} else if (strcmp(mode, "fail") == 0) {
		reply = job_result_encode(j->kind, j->job_id, j->session_id, NULL, "bad_data",
					  "scripted failure");
	} else if (strncmp(mode, "fail=", 5) == 0) {
		reply = job_result_encode(j->kind, j->job_id, j->session_id, NULL, mode + 5,
					  "scripted failure");
	}
	return reply;
}

int main(int argc, char **argv)
{
	void *ctx, *pull, *push;
	int count, timeout_ms, got = 0, bad = 0, linger = 0;
	const char *mode;
	FILE *headers = NULL;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: fake_worker JOBS_EP RESULTS_EP "
				"ok|fail|fail=CODE|garbage|silent|drop1 COUNT TIMEOUT_S "
				"[HEADERS_FILE]\n");
		return 2;
	}
	if (argc == 7 && !(headers = fopen(argv[6], "a"))) {
		perror(argv[6]);
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
		struct job_inbox *ib;
		const struct job_part *parts;
		struct job j;
		size_t nparts, frames = 0;
		char err[256], *reply;

		if (zmq_poll(&pi, 1, timeout_ms) <= 0)
			break;
		if (job_recv(pull, 0, &ib) < 0)
			continue;
		parts = job_inbox_parts(ib, &nparts);
		if (headers && nparts > 0) {
			fwrite(parts[0].data, 1, parts[0].len, headers);
			fputc('\n', headers);
			fflush(headers);
		}
		if (job_decode(&j, parts, nparts, err, sizeof err) < 0) {
			fprintf(stderr, "malformed job: %s\n", err);
			bad++;
		}
		job_inbox_free(ib);
		for (size_t i = 0; i < j.nruns; i++) {
			struct framecols c;
			struct framefile_info info;

			frames += j.runs[i].nframes;
			if (j.runs[i].encoding != JOB_ENC_PATH)
				continue;
			if (framefile_load_cols(j.runs[i].path, j.runs[i].channels, j.runs[i].parts,
						&c, &info) < 0)
				c.n = (size_t)-1;
			if (c.n != j.runs[i].nframes) {
				fprintf(stderr,
					"run %s: its file %s does not hold its %zu frames\n",
					j.runs[i].run_id, j.runs[i].path, j.runs[i].nframes);
				bad++;
			}
			if (c.n != (size_t)-1)
				framecols_free(&c);
		}
		got++;
		printf("job %s session %s runs %zu frames %zu kind %s game %s track %s\n",
		       j.job_id ? j.job_id : "?", j.session_id ? j.session_id : "?", j.nruns,
		       frames, job_kind_name(j.kind), j.game && *j.game ? j.game : "-",
		       j.track && *j.track ? j.track : "-");
		fflush(stdout);
		if (j.job_id && strcmp(mode, "garbage") == 0) {
			zmq_send(push, "\x01\x02not json", 10, 0);
			reply = strdup(
				"{\"v\":1,\"job_id\":\"00000000-0000-4000-8000-000000000000\",\"ok\":true}");
		} else {
			reply = j.job_id ? answer(mode, got, &j, frames) : NULL;
		}
		if (reply)
			zmq_send(push, reply, strlen(reply), 0);
		free(reply);
		job_release(&j);
	}
	zmq_close(pull);
	zmq_close(push);
	zmq_ctx_term(ctx);
	if (headers)
		fclose(headers);
	return got == count && !bad ? 0 : 1;
}
