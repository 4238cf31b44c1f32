#!/usr/bin/env bash
# Integration: the README's run command. scripts/run.sh brings the supervised
# stack up with emulators on every feed, supervisor restarts a killed
# capture (its ring sequence continues), and stopping leaves nothing running.
. "$(dirname "$0")/lib.sh"
export PITWALL_RUN_DIR=$TMP/stack
bp=$(free_tcp_port)
export PITWALL_BUS=tcp://127.0.0.1:$bp PITWALL_BUS_IN=tcp://127.0.0.1:$((bp + 1))
export PITWALL_API_PORT=$(free_tcp_port)
feeds=""
for f in ksudp pcars acc forza f1; do feeds="$feeds${feeds:+,}$f:$(free_udp_port)"; done
export PITWALL_FEEDS=$feeds

start stack "$ROOT/scripts/run.sh"
stack=$LAST_PID
all_up() {
	"$BIN/pwctl" feeds --json | python3 -c '
import json, sys
f = [x for x in json.load(sys.stdin) if x["pid"]]
sys.exit(0 if len(f) == 5 and all(x["status"] == "up" and x["frames"] > 0 for x in f) else 1)'
}
if wait_for 60 all_up; then pass "run.sh: all five feeds up with emulated games"; else
	fail "run.sh: all five feeds up with emulated games" "$("$BIN/pwctl" feeds)"; fi
wait_for 20 grep -q "pitwall is running" "$TMP/stack.out" && pass "run.sh prints the feeds and how to use them" ||
	fail "run.sh prints the feeds and how to use them"
n=$("$ROOT/scripts/run.sh" status 2>/dev/null | grep -c RUNNING)
check "supervisor runs 14 processes (5 captures, 5 emulators, the store, 2 analysis workers, the API)" test "$n" -eq 14
api_up() { python3 -c 'import urllib.request,sys; urllib.request.urlopen("http://127.0.0.1:%s/api/health" % sys.argv[1], timeout=2)' "$PITWALL_API_PORT" 2>/dev/null; }
wait_for 10 api_up && pass "the API answers in the stack" || fail "the API answers in the stack"
store_up() { "$BIN/pwctl" call use_cases.list >/dev/null 2>&1; }
wait_for 10 store_up && pass "the store answers in the stack" || fail "the store answers in the stack"

pid=$(feed_field forza pid)
seq=$(feed_field forza write_seq)
kill -9 "$pid"
restarted() { p=$(feed_field forza pid); [ -n "$p" ] && [ "$p" != "$pid" ] && [ "$p" != 0 ] && feed_is forza status up; }
wait_for 20 restarted && pass "supervisor restarts a killed capture" || fail "supervisor restarts a killed capture"
wait_for 10 feed_at_least forza write_seq $((seq + 10)) && pass "the restarted capture continues the sequence" ||
	fail "the restarted capture continues the sequence"

"$ROOT/scripts/run.sh" stop >/dev/null 2>&1
wait_for 20 bash -c "! kill -0 $stack 2>/dev/null" && pass "run.sh stop ends the stack" || fail "run.sh stop ends the stack"
left=$(pgrep -f "PITWALL_RUN_DIR=$TMP/stack|$TMP/stack/supervisord.conf" | wc -l)
check "no supervisor left running" test "$left" -eq 0
down() { "$BIN/pwctl" feeds --json | grep -q '"status":"up"' && return 1 || return 0; }
wait_for 10 down && pass "every feed reads down after stop" || fail "every feed reads down after stop"
finish
