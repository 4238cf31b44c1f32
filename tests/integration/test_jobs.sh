#!/usr/bin/env bash
# Integration: the store's analysis job channel with a scripted worker
# (tests/tools/fake_worker.c stands in for pw-analyze): a completed session's
# job carries its runs' frames; results are persisted and announced; a failed
# or garbage result never crashes the store; a job without a result by its
# deadline is sent again; pending jobs survive a store restart. The headers of
# the jobs the store sends match the JSON Schema job-header (docs/schemas).
. "$(dirname "$0")/lib.sh"
bp=$(free_tcp_port)
export PITWALL_BUS=tcp://127.0.0.1:$bp PITWALL_BUS_IN=tcp://127.0.0.1:$((bp + 1))
KS=$(free_udp_port)
export PITWALL_FEEDS=ksudp:$KS PITWALL_JOB_DEADLINE_MS=1500
JOBS=ipc://$PITWALL_RUN_DIR/jobs.sock
RESULTS=ipc://$PITWALL_RUN_DIR/results.sock
PW=$BIN/pwctl
WORKER=${PW_TOOLS:-$ROOT/build/tools}/fake_worker
STORE_BIN=${PW_STORE_BIN:-$BIN/pw-store}
store_up() { "$PW" call use_cases.list >/dev/null 2>&1; }
start_store() { start store "$STORE_BIN"; STORE=$LAST_PID; wait_for 10 store_up; }
analysis() { "$PW" session analysis "$1" 2>/dev/null | jf "$2"; }

start sim "$BIN/pw-sim" --feed ksudp --port "$KS" --rate 333 --quiet
wait_for 5 test -s "$TMP/sim.out"
start cap "$BIN/pw-capture" --feed ksudp --port "$KS" --game-host 127.0.0.1
wait_for 10 feed_at_least ksudp frames 100
start_store

# a session with two runs, completed with no worker running: pending
sid=$("$PW" session create shift_points | jf 'd["id"]')
for i in 1 2; do
	rid=$("$PW" run start "$sid" ksudp | jf 'd["id"]')
	sleep 1
	"$PW" run stop "$sid" "$rid" >/dev/null
done
frames=$("$PW" session get "$sid" | jf 'sum(r["frame_count"] for r in d["runs"])')
"$PW" session complete "$sid" >/dev/null
check "completed without a worker: analysis pending" test "$(analysis "$sid" 'd["status"]')" = pending

# pending survives a restart, then a worker takes the job
kill "$STORE"; wait "$STORE"
start_store
start worker "$WORKER" "$JOBS" "$RESULTS" ok 1 20 "$TMP/headers.jsonl"
WPID=$LAST_PID
done_() { [ "$(analysis "$sid" 'd["status"]')" = done ]; }
wait_for 20 done_ && pass "a worker's result is persisted as the session's analysis" ||
	fail "a worker's result is persisted" "$(cat "$TMP/worker.out")"
wait "$WPID"
check "the job carried both runs and every frame (checked by the worker)" \
	test "$(awk '{print $6 "/" $8}' "$TMP/worker.out")" = "2/$frames"
check "analysis holds the worker's figures" test "$(analysis "$sid" 'd["frames"]')" = "$frames"
python3 "$ROOT/tests/integration/contract.py" validate job-header "$TMP/headers.jsonl" >"$TMP/headers.check" 2>&1
rc=$?
[ "$rc" = 0 ] || head -n 20 "$TMP/headers.check" >&2
check "the job's header matches the JSON Schema job-header ($(tail -n 1 "$TMP/headers.check"))" test "$rc" = 0

# re-analyze; a silent worker: the job is sent again after the deadline
"$PW" call session.analyze "{\"id\":\"$sid\"}" >/dev/null
check "re-analyze: pending again" test "$(analysis "$sid" 'd["status"]')" = pending
start worker2 "$WORKER" "$JOBS" "$RESULTS" silent 2 20
wait "$LAST_PID"
check "a job without a result by its deadline is sent again" test "$(wc -l <"$TMP/worker2.out")" -eq 2
grep -q "timed out, sent again" "$TMP/store.log" && pass "and the store says so" || fail "and the store says so"

# garbage and a failed result: logged, never fatal; failure is recorded
start worker3 "$WORKER" "$JOBS" "$RESULTS" garbage 1 20
wait "$LAST_PID"
sleep 0.5
check "garbage results leave the store up" store_up
start worker4 "$WORKER" "$JOBS" "$RESULTS" fail 1 20
wait "$LAST_PID"
failed_() { [ "$(analysis "$sid" 'd["status"]')" = failed ]; }
wait_for 10 failed_ && pass "a failed analysis is recorded with its error" || fail "a failed analysis is recorded"

# reopen clears the analysis and drops the queued job
"$PW" session reopen "$sid" >/dev/null
check "reopen clears the analysis" test "$("$PW" session get "$sid" | jf 'd["analysis"]')" = None
finish
