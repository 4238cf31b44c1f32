#!/usr/bin/env bash
# Integration: pw-api contract tests (tests/integration/api_contract.py) with
# the real stack behind it (pw-sim -> pw-capture -> pw-store + two pw-analyze),
# then the analysis chain over HTTP only (api_contract.py --flow: the emulator
# drives pulls on forza and boundary laps on ksudp, as in test_analysis.sh),
# then the store stopped (503) and exited (503 at once), token security, and promtool on
# /metrics.
. "$(dirname "$0")/lib.sh"
bp=$(free_tcp_port)
export PITWALL_BUS=tcp://127.0.0.1:$bp PITWALL_BUS_IN=tcp://127.0.0.1:$((bp + 1))
KS=$(free_udp_port)
FZ=$(free_udp_port)
AP=$(free_tcp_port)
export PITWALL_FEEDS=ksudp:$KS,forza:$FZ PITWALL_API_PORT=$AP
API_BIN=${PW_API_BIN:-$BIN/pw-api}
URL=http://127.0.0.1:$AP
# up = the API answers and reaches the store (a degraded health is HTTP 200 too)
api_up() { api_store_up "$URL"; }
store_up() { "$BIN/pwctl" call use_cases.list >/dev/null 2>&1; }

start sim "$BIN/pw-sim" --feed ksudp --port "$KS" --rate 60 --quiet
SIM=$LAST_PID
wait_for 5 test -s "$TMP/sim.out"
start cap "$BIN/pw-capture" --feed ksudp --port "$KS" --game-host 127.0.0.1
start capfz "$BIN/pw-capture" --feed forza --port "$FZ" --bind 127.0.0.1
start store "$BIN/pw-store"
STORE=$LAST_PID
wait_for 30 store_up || fail "pw-store answers"
start worker1 "$BIN/pw-analyze"
start worker2 "$BIN/pw-analyze"
start api "$API_BIN"
API=$LAST_PID
wait_for 30 api_up || fail "pw-api answers and reaches the store"
wait_for 10 feed_at_least ksudp frames 60
python3 "$ROOT/tests/integration/api_contract.py" "$URL" || FAILED=1

# the flow over HTTP: the emulator is the AC server on the ksudp port, so the
# endless one stops first (the capture re-handshakes with each boundary run's)
kill "$SIM"
wait "$SIM" 2>/dev/null
python3 "$ROOT/tests/integration/api_contract.py" "$URL" --flow "$BIN/pw-sim" "$KS" "$FZ" || FAILED=1

if command -v promtool >/dev/null; then
	python3 -c 'import urllib.request,sys; sys.stdout.write(urllib.request.urlopen(sys.argv[1] + "/metrics").read().decode())' "$URL" |
		promtool check metrics >"$TMP/promtool.out" 2>&1 && pass "promtool check metrics" || fail "promtool check metrics" "$(cat "$TMP/promtool.out")"
else
	echo "SKIP promtool check metrics: promtool is not installed" >&2
fi

# GET /api/sessions: "STATUS ERROR_CODE MS" (the error object's code; "-" when it is 200)
sessions_answer() {
	python3 - "$URL" <<'PY'
import json, sys, time, urllib.request, urllib.error
t0 = time.monotonic()
try:
    urllib.request.urlopen(sys.argv[1] + "/api/sessions", timeout=10)
    code = "200 -"
except urllib.error.HTTPError as e:
    code = "%d %s" % (e.code, json.loads(e.read())["error"]["code"])
print(code, int((time.monotonic() - t0) * 1000))
PY
}

# the store stops answering: 503 with the error object, the API stays up
kill -STOP "$STORE"
sleep 0.3 # the API reuses answers while the store's heartbeat is < 100 ms old (docs/api.md)
read -r st what _ <<<"$(sessions_answer)"
check "a store that does not answer: 503 unavailable" test "$st $what" = "503 unavailable"
kill -CONT "$STORE"
wait_for 30 api_up && pass "the API recovers when the store answers again" || fail "the API recovers"

# the store exits (killed, reaped as supervisord would): refused at once, its status page
# says it is gone, not after the 3 s command timeout; a store started over is used again
kill -9 "$STORE"
wait "$STORE" 2>/dev/null
read -r st what ms <<<"$(sessions_answer)"
check "a store that exited: 503 unavailable in $ms ms (< 1000; the command timeout is 3000)" \
	test "$st $what" = "503 unavailable" -a "${ms:-9999}" -lt 1000
start store2 "$BIN/pw-store"
STORE=$LAST_PID
wait_for 30 api_up && pass "the API uses a store started over" || fail "the API uses a store started over"
kill "$API"
wait "$API"
check "SIGTERM: pw-api exits 0" test $? -eq 0

# beyond loopback without a token: refused; with a token every request needs it
PITWALL_API_HOST=0.0.0.0 timeout 30 "$API_BIN" >/dev/null 2>"$TMP/open.log"
rc=$?
if [ "$rc" -eq 2 ]; then
	pass "listening beyond loopback without PITWALL_API_TOKEN: refused (exit 2)"
else
	fail "listening beyond loopback without PITWALL_API_TOKEN: refused (exit 2)" "exit $rc: $(cat "$TMP/open.log")"
fi
grep -q "refusing to listen beyond loopback" "$TMP/open.log" && pass "and it says why" || fail "and it says why"
AP2=$(free_tcp_port)
PITWALL_API_PORT=$AP2 PITWALL_API_TOKEN=s3cret start api2 "$API_BIN"
wait_for 30 python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$AP2"
python3 - "$AP2" <<'PY' && pass "token: 401 without or with a wrong one, 200 with it" || fail "token checks"
import sys, urllib.request, urllib.error
base = "http://127.0.0.1:%s/api/health" % sys.argv[1]
def status(h):
    try:
        return urllib.request.urlopen(urllib.request.Request(base, headers=h), timeout=5).status
    except urllib.error.HTTPError as e:
        return e.code
assert status({}) == 401
assert status({"Authorization": "Bearer wrong"}) == 401
assert status({"Authorization": "Bearer s3cret"}) == 200
PY
finish
