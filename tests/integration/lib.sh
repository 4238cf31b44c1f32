# tests/integration/lib.sh - helpers for integration tests; source it.
# Each test runs the real programs on loopback under its own instance name,
# polls with deadlines (never fixed sleeps for correctness) and prints
# PASS/FAIL lines. Everything it started is stopped on exit.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${PW_BIN:-$ROOT/build/bin}
INST=it$$x$RANDOM
TMP=$(mktemp -d /tmp/pitwall-it.XXXXXX)
PIDS=()
FAILED=0
export PITWALL_INSTANCE=$INST PITWALL_RING_FRAMES=65536 PITWALL_RING_RAW_MB=8
export PITWALL_RUN_DIR=$TMP/run PITWALL_DATA_DIR=$TMP/data
# pw-api's seed-004 stream port: none, unless a test asks (the default 38920 is one per machine)
export PITWALL_WS_PORT=0

pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1${2:+: $2}"
	FAILED=1
	for l in "$TMP"/*.log; do
		[ -f "$l" ] && { echo "--- $l" >&2; tail -n 15 "$l" >&2; }
	done
}
check() { # name command...
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

# start NAME command... : run in the background, logs in $TMP/NAME.log; pid in LAST_PID
start() {
	local name=$1
	shift
	"$@" >"$TMP/$name.out" 2>"$TMP/$name.log" </dev/null &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	# this test's instance and every one it named after it ($INST's own stacks: ${INST}b,
	# ${INST}oversteer, ...); another test's instance never starts with it (it<pid>x...)
	rm -f /dev/shm/pitwall."$INST"*.* /dev/shm/pitwall-store."$INST"*
	[ -n "${PW_KEEP_TMP:-}" ] && echo "kept $TMP" >&2 || rm -rf "$TMP"
}
trap cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Background work whose exit status is wanted minutes later: `bg_run NAME command...` runs it
# in a subshell of its own (an `exit` in it ends only that; BG_PID its pid, stopped at exit)
# and writes its status to $TMP/NAME.rc; `bg_status NAME SECONDS` waits for that file and
# returns the status (124 when it did not come). Not `wait PID`: bash forgets a finished
# job's status when the kernel hands its pid to a new child, and with pid_max 32768 and
# thousands of processes a test starts, `wait` then says "not a child of this shell".
bg_run() {
	local name=$1
	shift
	rm -f "$TMP/$name.rc"
	(
		("$@")
		echo "$?" >"$TMP/$name.rc"
	) &
	BG_PID=$!
	PIDS+=("$BG_PID")
}
bg_status() { # NAME SECONDS
	wait_for "$2" test -s "$TMP/$1.rc" || return 124
	return "$(cat "$TMP/$1.rc")"
}

# wait_for SECONDS command... : poll every 100 ms until it succeeds
wait_for() {
	local deadline=$(( $(now_ms) + $1 * 1000 ))
	shift
	until "$@"; do
		[ "$(now_ms)" -gt "$deadline" ] && return 1
		sleep 0.1
	done
}

tcp_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# private_bus: PITWALL_BUS and PITWALL_BUS_IN on free loopback ports, for a test's own store
private_bus() {
	local p
	p=$(tcp_port)
	export PITWALL_BUS=tcp://127.0.0.1:$p PITWALL_BUS_IN=tcp://127.0.0.1:$((p + 1))
}

free_udp_port() {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

free_tcp_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# jf EXPR : read one JSON document on stdin as d, print the Python expression EXPR
# of it (the integration tests' one JSON reader), e.g.
#   id=$("$BIN/pwctl" session create general | jf 'd["id"]')
#   test "$(jf '[d["status"], len(d["runs"])]' <session.json)" = "['active', 0]"
jf() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# api_store_up URL : pw-api at URL answers /api/health and reaches the store
# (a degraded health is HTTP 200 too)
api_store_up() {
	python3 -c 'import json,urllib.request,sys; sys.exit(json.load(urllib.request.urlopen(sys.argv[1] + "/api/health", timeout=5))["store"] != "up")' "$1" 2>/dev/null
}

# feed_field FEED FIELD [INSTANCE] : one field of `pwctl feeds --json`
feed_field() {
	"$BIN/pwctl" --instance "${3:-$INST}" feeds --json |
		python3 -c 'import json,sys; r=[f for f in json.load(sys.stdin) if f["feed"]==sys.argv[1]]; print(r[0][sys.argv[2]] if r else "")' "$1" "$2"
}

# feed_at_least FEED FIELD N [INSTANCE]
feed_at_least() { local v; v=$(feed_field "$1" "$2" "${4:-$INST}"); [ -n "$v" ] && [ "${v%.*}" -ge "$3" ]; }
feed_is() { [ "$(feed_field "$1" "$2" "${4:-$INST}")" = "$3" ]; }

# fresh_gets URL N : GET URL N times, one after the other, each on a fresh connection (civetweb
# hands each to the next idle one of pw-api's workers); fails unless every answer is 200
fresh_gets() {
	python3 - "$1" "$2" <<'PY'
import sys, urllib.request
bad = [r.status for r in (urllib.request.urlopen(sys.argv[1], timeout=30)
                          for _ in range(int(sys.argv[2]))) if r.status != 200]
sys.exit(1 if bad else 0)
PY
}

# own_kb PID : the process's private memory without the rings (tests/soak/soak_check.py rss)
own_kb() { python3 "$ROOT/tests/soak/soak_check.py" rss "$1" | awk '{ print $3 }'; }

# check_api_memory WHAT BEFORE_KB AFTER_KB LIMIT_KB : pw-api's private memory grew by at most
# LIMIT_KB over WHAT; printed, not bounded, for an ASan build (it keeps memory per thread of its
# own: allocator caches, shadow)
check_api_memory() {
	if ldd "$BIN/pw-api" | grep -q libasan; then
		echo "pw-api built with ASan: private memory $2 -> $3 kB, not bounded (the release build is)"
	else
		check "$1: pw-api's private memory $2 -> $3 kB (at most +$4)" test "$3" -le $(($2 + $4))
	fi
}

finish() { exit "$FAILED"; }
