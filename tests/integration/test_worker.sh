#!/usr/bin/env bash
# Integration: pw-analyze against malformed jobs (tests/tools/job_sender.c plays
# the store): each gets an error result, none crashes the worker, and a valid
# job is still analysed afterwards; SIGTERM stops the worker cleanly. Every
# result the worker sent matches the JSON Schema job-result (docs/schemas).
. "$(dirname "$0")/lib.sh"
mkdir -p "$PITWALL_RUN_DIR"
export PITWALL_JOBS=ipc://$PITWALL_RUN_DIR/jobs.sock PITWALL_RESULTS=ipc://$PITWALL_RUN_DIR/results.sock
start worker "$BIN/pw-analyze"
WK=$LAST_PID
"${PW_TOOLS:-$ROOT/build/tools}/job_sender" "$PITWALL_JOBS" "$PITWALL_RESULTS" "$TMP/results.jsonl"
python3 "$ROOT/tests/integration/contract.py" validate job-result "$TMP/results.jsonl" >"$TMP/results.check" 2>&1
rc=$?
[ "$rc" = 0 ] || head -n 20 "$TMP/results.check" >&2
check "every result of the worker matches the JSON Schema job-result ($(tail -n 1 "$TMP/results.check"))" test "$rc" = 0
check "the worker is still running" kill -0 "$WK"
kill "$WK"
wait "$WK"
check "SIGTERM: the worker exits 0" test $? -eq 0
finish
