#!/usr/bin/env bash
# Integration: track.build as an analysis job (docs/store.md, "Track builds").
# The store checks the request, sends the left and right runs' frames to a
# worker and answers the waiting client with the result. With scripted workers
# (tests/tools/fake_worker.c) and a real pw-analyze:
# - a worker's error maps to the command's codes (not_qualified/no_data ->
#   conflict, anything else -> bad_request), as when the store built in-process;
# - a job whose result does not come is sent again after the deadline and the
#   waiting client still gets the model (deadline < the client's timeout), also
#   when no worker runs until after the deadline;
# - a client that gave up: the model is still written, the late reply dropped;
# - at most STORE_MAX_TRACK_BUILDS (16) builds wait; one more is refused;
# - a build queued when the store stops is lost (its client times out);
# - the session deleted while its build waits: the build still completes.
. "$(dirname "$0")/lib.sh"
bp=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export PITWALL_BUS=tcp://127.0.0.1:$bp PITWALL_BUS_IN=tcp://127.0.0.1:$((bp + 1))
KS=$(free_udp_port)
export PITWALL_FEEDS=ksudp:$KS PITWALL_JOB_DEADLINE_MS=1500
JOBS=ipc://$PITWALL_RUN_DIR/jobs.sock
RESULTS=ipc://$PITWALL_RUN_DIR/results.sock
PW=$BIN/pwctl
WORKER=${PW_TOOLS:-$ROOT/build/tools}/fake_worker
jf() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
store_up() { "$PW" call use_cases.list >/dev/null 2>&1; }
start_store() { start store "$BIN/pw-store"; STORE=$LAST_PID; wait_for 10 store_up; }
queued() { grep -c "track build queued" "$TMP/store.log"; }
queued_at_least() { [ "$(queued)" -ge "$1" ]; }
# build OUT [TIMEOUT_MS]: track.build of $sid, result in $TMP/OUT.json, error in $TMP/OUT.err
build() {
	PITWALL_CMD_TIMEOUT_MS=${2:-10000} "$PW" call track.build "{\"session_id\":\"$sid\"}" \
		>"$TMP/$1.json" 2>"$TMP/$1.err"
}
fake() { # NAME MODE COUNT
	start "$1" "$WORKER" "$JOBS" "$RESULTS" "$2" "$3" 30
}
# build_waiting OUT [TIMEOUT_MS]: a build in the background ($C), returns once it is queued
build_waiting() {
	local n
	n=$(queued)
	build "$@" &
	C=$!
	wait_for 10 queued_at_least $((n + 1))
}
# answer MODE: a fake worker answers one job; the waiting client's exit status in $rc
answer() {
	fake "w-$1" "$1" 1
	local w=$LAST_PID
	wait "$C"
	rc=$?
	wait "$w"
}

start sim "$BIN/pw-sim" --feed ksudp --port "$KS" --rate 333 --quiet
wait_for 5 test -s "$TMP/sim.out"
start cap "$BIN/pw-capture" --feed ksudp --port "$KS" --game-host 127.0.0.1
wait_for 10 feed_at_least ksudp frames 100
start_store || fail "store up"

# a completed track_mapping session with a short left and right run each
sid=$("$PW" session create track_mapping | jf 'd["id"]')
for side in left right; do
	rid=$("$PW" run start "$sid" ksudp --label "$side" | jf 'd["id"]')
	sleep 1
	"$PW" run stop "$sid" "$rid" >/dev/null
done
frames=$("$PW" session get "$sid" | jf 'sum(r["frame_count"] for r in d["runs"])')
"$PW" session complete "$sid" >/dev/null
# the session's own analysis job first (answered, so it is not sent again)
fake w0 ok 1
wait "$LAST_PID"

# --- a worker's error maps to the command's codes ------------------------------------
for case in "fail bad_request" "fail=not_qualified conflict" "fail=no_data conflict" \
	"fail=no_memory bad_request"; do
	set -- $case
	fake "w-$1" "$1" 1
	W=$LAST_PID
	build "err-$1"
	rc=$?
	wait "$W"
	if [ "$rc" -eq 1 ] && grep -q "pwctl: $2: scripted failure" "$TMP/err-$1.err"; then
		pass "a worker's $1 answers the client with $2 and the worker's message"
	else
		fail "a worker's $1 answers the client with $2" "rc $rc: $(cat "$TMP/err-$1.err")"
	fi
done
check "the job was a track_build of both runs, game and track named" \
	grep -q "runs 2 frames $frames kind track_build game [a-z_]* track [a-z_]*" "$TMP/w-fail.out"
game=$(awk '{print $12}' "$TMP/w-fail.out")
track=$(awk '{print $14}' "$TMP/w-fail.out")
names="{\"game\":\"$game\",\"track_name\":\"$track\"}"

# the real worker on runs too short to map: the analysis's own refusal
start analyze "$BIN/pw-analyze"
AN=$LAST_PID
build real
rc=$?
kill "$AN"
wait "$AN"
if [ "$rc" -eq 1 ] && grep -q "pwctl: conflict: .*run labelled" "$TMP/real.err"; then
	pass "pw-analyze refuses runs too short to map: conflict with its message"
else
	fail "pw-analyze refuses runs too short to map: conflict" "rc $rc: $(cat "$TMP/real.err")"
fi

# --- no result by the deadline: sent again, the waiting client answered ---------------------
start events "$PW" events track.built --count 1 --timeout 30
EV=$LAST_PID
fake w-drop drop1 2
W=$LAST_PID
t0=$(now_ms)
build retry
rc=$?
t1=$(now_ms)
wait "$W"
check "the first job dropped: the client still gets the result (exit 0)" test "$rc" -eq 0
check "the result is the worker's answer over both runs' frames" \
	test "$(jf 'd["status"], d["frames"], d["runs"]' <"$TMP/retry.json")" = "('done', $frames, 2)"
check "the worker got the same job twice" \
	test "$(awk '{print $2}' "$TMP/w-drop.out" | uniq | wc -l)-$(wc -l <"$TMP/w-drop.out")" = "1-2"
check "it was sent again after the deadline (1.5 s), within the client's 10 s" \
	test $((t1 - t0)) -ge 1400 -a $((t1 - t0)) -lt 10000
grep -q "timed out, sent again.*kind=track_build" "$TMP/store.log" &&
	pass "the store says it sent the track build again" || fail "the store says it sent the track build again"
check "the model is stored" test "$("$PW" call track.get "$names" 2>/dev/null | jf 'd["frames"]')" = "$frames"
wait "$EV"
check "track.built is published with the session, names and corner count" \
	test "$(cut -d' ' -f2- "$TMP/events.out" | jf '(d["session_id"], d["game"], d["track_name"], d["corner_count"])')" = "('$sid', '$game', '$track', 0)"

# --- no worker until after the deadline --------------------------------------------------------
build_waiting late
sleep 2 # past the deadline with nobody to take the job
answer ok
check "a worker that comes after the deadline still answers the waiting client" \
	test "$rc-$(jf 'd["status"]' <"$TMP/late.json" 2>/dev/null)" = "0-done"

# --- a client that gave up --------------------------------------------------------------------------
"$PW" call track.delete "$names" >/dev/null
build gaveup 500
rc=$?
check "a client whose timeout passes first: unavailable (exit 3)" test "$rc" -eq 3
fake w-gaveup ok 1
W=$LAST_PID
model_back() { "$PW" call track.get "$names" >/dev/null 2>&1; }
wait_for 10 model_back && pass "the model is still built and stored" || fail "the model is still built and stored"
wait "$W"
check "the late reply is dropped: the store keeps answering" store_up

# --- at most 16 builds wait; one more is refused ------------------------------------------------------
n=$(queued)
for i in $(seq 16); do build "many-$i" 200; done
wait_for 10 queued_at_least $((n + 16))
build many-17 10000
rc=$?
if [ "$rc" -eq 1 ] && grep -q "pwctl: conflict: 16 track builds are waiting" "$TMP/many-17.err"; then
	pass "a 17th waiting build is refused: conflict"
else
	fail "a 17th waiting build is refused: conflict" "rc $rc: $(cat "$TMP/many-17.err")"
fi
fake w-many ok 16
wait "$LAST_PID"
check "a worker drains the 16 waiting builds" test "$(grep -c "kind track_build" "$TMP/w-many.out")" -eq 16

# --- the store stops with a build queued -------------------------------------------------------------
build_waiting lost 4000
kill "$STORE"
wait "$STORE"
start_store
wait "$C"
rc=$?
check "a build queued when the store stops is lost: its client times out (exit 3)" test "$rc" -eq 3

# --- the session deleted while its build waits ------------------------------------------------------
build_waiting deleted
"$PW" session delete "$sid" >/dev/null
answer ok
check "the session deleted while its build waits: the build completes (it holds the frames)" \
	test "$rc-$(jf 'd["frames"]' <"$TMP/deleted.json" 2>/dev/null)" = "0-$frames"
check "the store is up" store_up
finish
