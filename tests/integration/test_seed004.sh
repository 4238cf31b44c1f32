#!/usr/bin/env bash
# Integration: a client written to seed 004 works unchanged (docs/stream.md,
# "Seed-004 clients at /ws"). tests/integration/seed004_client.py is written
# from that ADR's text alone and checks every message it gets against it
# (envelope, hello first, the telemetry payload's exact fields and types,
# events, errors, no float noise). The real stack: pw-sim (AC on ksudp, Forza
# FM2023 on forza) -> pw-capture -> pw-store, and pw-api with its stream port.
# Checked: /ws on the stream port and the API port, ?feed= and the first live
# feed by default, the subprotocol tuning-coach.v1 (another one: 4002),
# schema_version mismatch (4001), set_rate bounds, ping, request_snapshot
# within 100 ms, the emulator's truth in the payload, session_ended when a
# feed stops and the client following the next live feed, lap_completed of
# laps driven by the emulator with the time of /api/stream's lap event, the
# stream port refusing everything else, ws_send_lag_seconds in /metrics, and
# a stream port already taken.
. "$(dirname "$0")/lib.sh"
private_bus
KS=$(free_udp_port)
FZ=$(free_udp_port)
AP=$(free_tcp_port)
WP=$(free_tcp_port)
export PITWALL_FEEDS=ksudp:$KS,forza:$FZ PITWALL_API_PORT=$AP PITWALL_WS_PORT=$WP
export PITWALL_WS_SESSION_GAP_MS=1000
C="python3 $ROOT/tests/integration/seed004_client.py"
URL=http://127.0.0.1:$AP
store_up() { "$BIN/pwctl" call use_cases.list >/dev/null 2>&1; }
ws_up() { "$ROOT/build/tools/ws_client" --port "$1" --path /ws 'wait 0' >/dev/null 2>&1; }
# j FILE EXPR : EXPR of the JSON summary in FILE, as d
j() { jf "$2" <"$1"; }

start sim-ks "$BIN/pw-sim" --feed ksudp --port "$KS" --rate 60 --quiet
start cap-ks "$BIN/pw-capture" --feed ksudp --port "$KS" --game-host 127.0.0.1
start sim-fz "$BIN/pw-sim" --feed forza --port "$FZ" --rate 60 --quiet --format fm2023
SIMFZ=$LAST_PID
start cap-fz "$BIN/pw-capture" --feed forza --port "$FZ" --bind 127.0.0.1
start store "$BIN/pw-store"
wait_for 10 store_up || fail "pw-store answers"
start api "$BIN/pw-api"
wait_for 10 ws_up "$WP" || fail "pw-api serves /ws on the stream port"
wait_for 10 feed_at_least ksudp frames 60 || fail "ksudp feed runs"
wait_for 10 feed_at_least forza frames 60 || fail "forza feed runs"
MAXRPM=$(head -1 "$TMP/sim-fz.out" | jf 'd["car"]["max_rpm"]')

# the default feed (the first live one: ksudp), on the stream port, no subprotocol
$C check-envelopes "$WP" 4 >"$TMP/ks.json" 2>"$TMP/ks.err" || fail "seed-004 client on the stream port" "$(cat "$TMP/ks.err")"
check "hello first, then session_started, telemetry, pong" \
	test "$(j "$TMP/ks.json" '[d["types"].get(t, 0) > 0 for t in ("hello", "session_started", "telemetry", "pong")]')" = "[True, True, True, True]"
check "session_started of the first live feed (ksudp), with the ADR's fields" \
	test "$(j "$TMP/ks.json" 'd["session_started"][0]["session_id"].split("-")[0]')" = ksudp
check "pong echoes the ping's t_ms" test "$(j "$TMP/ks.json" 'd["pongs"]')" = "[1738012345678]"
check "set_rate 61: error bad_request with ref = its t_ms" \
	test "$(j "$TMP/ks.json" '[(e["code"], e["ref"]) for e in d["errors"]]')" = "[('bad_request', 42)]"
check "telemetry at the client's rate (10 Hz)" \
	python3 -c 'import sys; sys.exit(not 9 <= float(sys.argv[1]) <= 11)' "$(j "$TMP/ks.json" 'd["telemetry_hz"]')"
check "request_snapshot answered within 100 ms" \
	python3 -c 'import sys; sys.exit(not float(sys.argv[1]) < 100)' "$(j "$TMP/ks.json" 'd["snapshot_ms"]')"
check "telemetry: the race is on, speed, rpm, gear, pedals, slip (AC remote telemetry)" \
	test "$(j "$TMP/ks.json" '[d["last_telemetry"]["is_race_on"]] + [d["last_telemetry"][k] is not None for k in ("speed_kph", "rpm", "gear", "throttle", "brake", "steer", "tire_slip_ratio", "accel_g")]')" = "[True, True, True, True, True, True, True, True, True]"
check "telemetry: what AC remote telemetry lacks is null (rpm_max, tyre temperatures, wear, track)" \
	test "$(j "$TMP/ks.json" '[d["last_telemetry"][k] for k in ("rpm_max", "tire_temp_c", "tire_wear_frac", "track_ordinal")]')" = "[None, None, None, None]"

# ?feed=forza on the API port, with the ADR's subprotocol
$C check-envelopes "$AP" 3 --feed forza --protocol tuning-coach.v1 >"$TMP/fz.json" 2>"$TMP/fz.err" ||
	fail "seed-004 client with ?feed=forza and tuning-coach.v1 on the API port" "$(cat "$TMP/fz.err")"
check "?feed=forza: its session (game forza_motorsport_2023)" \
	test "$(j "$TMP/fz.json" '[d["session_started"][0]["feed"], d["session_started"][0]["game"]]')" = "['forza', 'forza_motorsport_2023']"
check "FM2023: tire_wear_frac and track_ordinal are there, 0..1 and an integer" \
	test "$(j "$TMP/fz.json" '[all(0 <= v <= 1 for v in d["last_telemetry"]["tire_wear_frac"].values()), isinstance(d["last_telemetry"]["track_ordinal"], int)]')" = "[True, True]"
check "FM2023: rpm_max is the emulator's max rpm ($MAXRPM), tyre temperatures are there" \
	test "$(j "$TMP/fz.json" '[d["last_telemetry"]["rpm_max"], sorted(d["last_telemetry"]["tire_temp_c"])]')" = "[$MAXRPM, ['fl', 'fr', 'rl', 'rr']]"
check "FM2023: the emulator's rear-wheel drive in session_started and telemetry" \
	test "$(j "$TMP/fz.json" '[d["session_started"][0]["drivetrain"], d["last_telemetry"]["drivetrain"]]')" = "['RWD', 'RWD']"
check "FM2023: car ordinal and PI as integers" \
	test "$(j "$TMP/fz.json" '[type(d["session_started"][0][k]).__name__ for k in ("car_ordinal", "car_pi")]')" = "['int', 'int']"

# refusals
$C expect-close "$WP" 4002 --protocol bogus.v9 >"$TMP/4002.json" 2>&1 &&
	pass "an unsupported subprotocol: close 4002" || fail "an unsupported subprotocol: close 4002" "$(cat "$TMP/4002.json")"
$C expect-close "$WP" 4001 --send '{"type":"ping","schema_version":2,"t_ms":7,"data":{}}' >"$TMP/4001.json" 2>&1 &&
	pass "schema_version 2: close 4001" || fail "schema_version 2: close 4001" "$(cat "$TMP/4001.json")"
check "4001's reason names both versions" grep -q 'schema_version mismatch: server=1 client=2' "$TMP/4001.json"
code=$(python3 -c 'import sys,urllib.request,urllib.error
try: urllib.request.urlopen("http://127.0.0.1:%s/api/live" % sys.argv[1], timeout=5); print(200)
except urllib.error.HTTPError as e: print(e.code, e.read().decode())' "$WP")
check "the stream port serves nothing but /ws (404 with the error object)" test "${code%% *}" = 404
code=$(curl -s -o "$TMP/badfeed.json" -w '%{http_code}' "http://127.0.0.1:$WP/ws?feed=nosuch" \
	-H 'Upgrade: websocket' -H 'Connection: Upgrade' -H 'Sec-WebSocket-Version: 13' \
	-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==')
check "?feed= naming no feed: 400 before the handshake" test "$code" = 400
check "... with the error object naming feed" grep -q '"message":"feed: ' "$TMP/badfeed.json"

# /metrics while a client is connected
"$ROOT/build/tools/ws_client" --port "$WP" --path /ws 'wait 1500' >"$TMP/lagclient.out" 2>&1 &
LC=$!
sleep 1
curl -s "$URL/metrics" >"$TMP/metrics.txt"
wait "$LC"
check "/metrics: ws_send_lag_seconds histogram" grep -q '^ws_send_lag_seconds_bucket{le="+Inf"} [1-9]' "$TMP/metrics.txt"
check "/metrics: ws_send_lag_seconds_count" grep -q '^ws_send_lag_seconds_count [1-9]' "$TMP/metrics.txt"
check "/metrics: p50 and p95 per connected client" grep -q '^ws_client_send_lag_seconds{client_id="[0-9]*",quantile="0.95"}' "$TMP/metrics.txt"

# the forza feed stops: its clients get session_ended; a following client moves to the next live feed
$C check-envelopes "$WP" 5 --feed forza >"$TMP/fzend.json" 2>"$TMP/fzend.err" &
FZC=$!
sleep 1
kill "$SIMFZ" "$(pgrep -f "pw-capture --feed forza --port $FZ")" 2>/dev/null
wait "$FZC" || fail "seed-004 client across the end of a session" "$(cat "$TMP/fzend.err")"
check "session_ended with duration_s and lap_count when the feed stops" \
	test "$(j "$TMP/fzend.json" '[len(d["session_ended"]), d["session_ended"][0]["duration_s"] > 1, "lap_count" in d["session_ended"][0]]')" = "[1, True, True]"

# laps: the emulator drives two laps of Forza as fast as it can; the seed client
# and an /api/stream client see the same completed laps
start cap-fz2 "$BIN/pw-capture" --feed forza --port "$FZ" --bind 127.0.0.1
$C check-envelopes "$WP" 25 --feed forza >"$TMP/laps.json" 2>"$TMP/laps.err" &
LAPC=$!
"$ROOT/build/tools/ws_client" --port "$AP" 'send {"type":"subscribe","schema_version":1,"t_ms":0,"data":{"events":["lap_completed"],"feeds":["forza"]}}' 'until "lap_number":2 24000' >"$TMP/stream-laps.out" 2>&1 &
STC=$!
sleep 1.5
"$BIN/pw-sim" --feed forza --port "$FZ" --rate 60 --laps 2 --fast --quiet --format fm2023 >"$TMP/simfast.out" 2>/dev/null
wait "$LAPC" || fail "seed-004 client during laps" "$(cat "$TMP/laps.err")"
wait "$STC"
REF=$(head -1 "$TMP/simfast.out" | jf 'd["reference_lap_ms"]')
# lap 1: the second emulator starts its clock at 0 in what the decoder sees as
# the same game session (same car, track and start time), so its first lap
# had the game clock go back: reset, the ADR's tag "rewind"
check "lap_completed for laps 1 (reset: rewind) and 2 (valid), with the ADR's fields" \
	test "$(j "$TMP/laps.json" '[(l["lap_number"], l["validity"], l["invalid_reasons"]) for l in d["laps"]]')" = "[(1, 'reset', ['rewind']), (2, 'valid', [])]"
check "lap 2's lap_time_s is the emulator's reference lap ($REF ms) within 0.5 %" \
	python3 -c 'import sys; t, ref = float(sys.argv[1]), float(sys.argv[2]) / 1000; sys.exit(not abs(t - ref) <= ref * 0.005)' \
	"$(j "$TMP/laps.json" 'd["laps"][1]["lap_time_s"]')" "$REF"
check "the same lap times as /api/stream's lap_completed (lap_time_ms / 1000)" \
	test "$(j "$TMP/laps.json" '[l["lap_time_s"] for l in d["laps"]]')" = \
	"$(grep -o '{"type":"lap_completed".*' "$TMP/stream-laps.out" | python3 -c 'import json,sys; print([json.loads(l)["data"]["lap_time_ms"] / 1000 for l in sys.stdin])')"
check "lap times written without float noise (3 decimals at most)" \
	python3 -c 'import json,re,sys; ts=[re.search(r"\"lap_time_s\":([0-9.]+)", t).group(1) for t in json.load(sys.stdin)["lap_texts"]]; sys.exit(not ts or any(len(x.split(".")[-1]) > 3 for x in ts))' <"$TMP/laps.json"

# another pw-api while the stream port is taken: it starts, warns, and serves /ws on its API port
AP2=$(free_tcp_port)
PITWALL_API_PORT=$AP2 start api2 "$BIN/pw-api"
wait_for 10 ws_up "$AP2" || fail "a second pw-api with the stream port taken serves /ws on its API port"
check "... and says why" grep -q 'cannot listen on the stream port' "$TMP/api2.log"
finish
