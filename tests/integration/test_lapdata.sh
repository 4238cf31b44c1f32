#!/usr/bin/env bash
# Integration: one lap on distance and lap comparison through the real
# processes. pw-sim drives laps (AC server) -> pw-capture -> pw-store, pw-api
# answers GET .../laps/{n} and GET /api/compare, pwctl lap|compare give the
# same bytes. Checked against the emulator: the final delta equals the
# lap-time difference (within 10 ms), a lap compared with itself is 0
# everywhere, the corner table agrees with the delta curve, the corners
# are the track's (found in the reference's path, then the track model's
# after a track build, aligned on its centre line). ref=best, laps of another
# game refused with 409, bad parameters with 400 naming them. The real AC
# Monza capture (replayed) gives its lap's data; the real PCARS1 capture
# (1.2 km of Spa, no line crossed) has no lap to give. Large answers are gzipped
# for clients that take gzip (tests/integration/api_gzip_check.py).
. "$(dirname "$0")/lib.sh"
private_bus
KS=$(free_udp_port)
FZ=$(free_udp_port)
RP=$(free_udp_port)
PC=$(free_udp_port)
AP=$(free_tcp_port)
export PITWALL_FEEDS=ksudp:$KS,forza:$FZ,pcars:$PC PITWALL_API_PORT=$AP
URL=http://127.0.0.1:$AP
PW=$BIN/pwctl
DATA=$ROOT/tests/data
store_up() { "$PW" call use_cases.list >/dev/null 2>&1; }
api_up() { api_store_up "$URL"; }

start store "$BIN/pw-store"
wait_for 20 store_up || fail "store up"
start worker "$BIN/pw-analyze"
start api "$BIN/pw-api"
API_PID=$LAST_PID
wait_for 20 api_up || fail "pw-api up"
start cap "$BIN/pw-capture" --feed ksudp --port "$KS" --game-host 127.0.0.1
CAP=$LAST_PID
start capfz "$BIN/pw-capture" --feed forza --port "$FZ" --bind 127.0.0.1
start cappc "$BIN/pw-capture" --feed pcars --port "$PC" --bind 127.0.0.1

# drive SID LABEL MODE LAPS FEED [PORT]: one run of the emulator, as fast as it sends
drive() {
	local rid frames0 port=${6:-$KS}
	rid=$("$PW" run start "$1" "$5" --label "$2" | jf 'd["id"]')
	frames0=$(feed_field "$5" frames)
	"$BIN/pw-sim" --feed "$5" --port "$port" --mode "$3" --laps "$4" --rate 60 --fast --seed 3 \
		>"$TMP/truth-$2.json" 2>"$TMP/sim-$2.log" &
	local sim=$!
	wait_for 120 bash -c "! kill -0 $sim 2>/dev/null"
	wait_for 10 feed_at_least "$5" frames $((frames0 + 100))
	sleep 1 # the last frames reach the run's file
	"$PW" run stop "$1" "$rid" >/dev/null
	echo "$rid"
}

# get PATH [FILE]: the HTTP status of GET $URL$PATH; the body in FILE. Every
# answer is checked against its JSON Schema (docs/schemas, contract.py): what
# does not match goes to $TMP/schemas.txt, checked at the end.
get() {
	python3 - "$URL" "$1" "${2:-/dev/null}" "$TMP/schemas.txt" "$ROOT" <<'PY'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1] + sys.argv[2], timeout=60)
    code, body, headers = r.status, r.read(), r.headers
except urllib.error.HTTPError as e:
    code, body, headers = e.code, e.read(), e.headers
open(sys.argv[3], "wb").write(body)
sys.path.insert(0, sys.argv[5] + "/tests/integration")
from contract import Contract
name, errs = Contract().http_errors("GET", sys.argv[2], code, body, headers.get("Content-Type"))
with open(sys.argv[4], "a") as f:
    f.write("".join("%s %s -> %d: %s\n" % (name, sys.argv[2], code, e) for e in errs))
    f.write("checked\n")
print(code)
PY
}

# refused PATH STATUS WORD: GET answers STATUS with the typed error naming WORD
refused() {
	local code
	code=$(get "$1" "$TMP/err.json")
	[ "$code" = "$2" ] && python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert sys.argv[2] in e["message"], e' "$TMP/err.json" "$3" 2>/dev/null
}

# --- laps of the emulator --------------------------------------------------------
SID=$("$PW" session create general | jf 'd["id"]')
RID=$(drive "$SID" laps laps 3 ksudp)
"$PW" run get "$SID" "$RID" >"$TMP/run.json"
check "the run holds the emulator's 3 laps" test "$(jf 'len(d["laps"])' <"$TMP/run.json")" = 3
L=$SID/$RID

code=$(get "/api/sessions/$SID/runs/$RID/laps/2?channels=speed_kmh,throttle,brake,gear,pos_m&step_m=1" "$TMP/lap2.json")
check "GET lap 2: 200" test "$code" = 200
python3 - "$TMP/lap2.json" "$TMP/truth-laps.json" <<'PY' && pass "lap 2 on a 1 m grid: 0 .. track length, time at the line = the lap time within 10 ms, the channels asked" || fail "lap 2 on distance" "$(head -c 300 "$TMP/lap2.json")"
import json, sys
a = json.load(open(sys.argv[1]))
truth = json.loads(open(sys.argv[2]).readline())
d, t, ch = a["distance_m"], a["time_s"], a["channels"]
assert d[0] == 0 and abs(d[1] - 1) < 1e-9 and abs(d[-1] - a["length_m"]) < 1e-3, (d[:2], d[-1])
assert abs(a["length_m"] - truth["track"]["length_m"]) < 1, a["length_m"]
assert len(t) == len(d) and abs(t[-1] - a["lap"]["time_ms"] / 1000) < 0.010, (t[-1], a["lap"]["time_ms"])
assert all(t[i] < t[i + 1] for i in range(len(t) - 1))
assert sorted(ch) == ["brake", "gear", "pos_m", "speed_kmh", "throttle"], sorted(ch)
assert all(len(v) == len(d) for v in ch.values())
assert all(len(p) == 3 for p in ch["pos_m"]) and set(ch["gear"]) <= set(range(0, 9))
assert a["lap"]["number"] == 2 and a["lap"]["session_id"] and a["alignment"] == "spline"
PY
"$PW" lap "$SID" "$RID" 2 --channels speed_kmh,throttle,brake,gear,pos_m --step 1 --out "$TMP/lap2-pwctl.json"
check "pwctl lap gives the API's bytes" cmp -s <(tr -d '\n' <"$TMP/lap2-pwctl.json") "$TMP/lap2.json"

# compare: lap 2 the reference; lap 1 (from 60 km/h on the line) and lap 3
code=$(get "/api/compare?ref=$L/2&lap=$L/1&lap=$L/3&lap=$L/2&step_m=1" "$TMP/cmp.json")
check "GET compare: 200" test "$code" = 200
python3 - "$TMP/cmp.json" "$TMP/truth-laps.json" <<'PY' && pass "compare: final delta = lap-time difference within 10 ms; self 0 everywhere; 10 corners, each corner's delta = the curve's" || fail "compare vs truth" "$(head -c 400 "$TMP/cmp.json")"
import json, sys, bisect
a = json.load(open(sys.argv[1]))
truth = json.loads(open(sys.argv[2]).readline())
d, ref = a["distance_m"], a["ref"]
def at(v, x):  # the curve linear between grid points
    i = min(max(bisect.bisect_right(d, x) - 1, 0), len(d) - 2)
    return v[i] + (v[i + 1] - v[i]) * (x - d[i]) / (d[i + 1] - d[i])
for lap in a["laps"]:
    dl = lap["delta_s"]
    want = (lap["time_ms"] - ref["time_ms"]) / 1000
    assert abs(dl[-1] - want) < 0.010, (lap["number"], dl[-1], want)
assert a["laps"][0]["number"] == 1 and a["laps"][0]["delta_s"][-1] > 1   # the standing lap
assert all(x == 0 for x in a["laps"][2]["delta_s"])                      # lap 2 against itself
assert a["corners_source"] == "reference_path", a["corners_source"]
want_dirs = [c["direction"] for c in truth["track"]["corners"]]
assert [c["direction"] for c in a["corners"]] == want_dirs, [c["direction"] for c in a["corners"]]
for c in a["corners"]:
    for lap, cl in zip(a["laps"], c["laps"]):
        curve = at(lap["delta_s"], c["end_m"]) - at(lap["delta_s"], c["start_m"])
        assert abs(cl["delta_s"] - curve) < 0.003, (c["number"], cl["delta_s"], curve)
        assert cl["min_speed_kmh"] > 30 and abs(cl["min_speed_kmh"] - c["ref_min_speed_kmh"]) < 30
    assert c["laps"][2]["delta_s"] == 0 and c["laps"][2]["brake_point_delta_m"] in (0, None)
PY
"$PW" compare --ref "$L/2" --lap "$L/1" --lap "$L/3" --lap "$L/2" --step 1 >"$TMP/cmp-pwctl.json"
check "pwctl compare gives the API's bytes" cmp -s <(tr -d '\n' <"$TMP/cmp-pwctl.json") "$TMP/cmp.json"

# pw-api's memory after compares on as many of its workers (api/api.c: no per-thread malloc
# caches; they kept ~18 kB of each compare's freed JSON blocks in every worker that served
# one: +1 MB over 80 workers). First every worker serves a small request (each keeps ~16 kB
# of stack after its first: api/routes.c) and one compare runs (what a first compare sets up).
CMP="$URL/api/compare?ref=$L/2&lap=$L/1&lap=$L/3&step_m=1"
fresh_gets "$URL/api/sessions" 320 && fresh_gets "$CMP" 1 ||
	fail "320 requests and a compare to warm pw-api's workers"
m0=$(own_kb "$API_PID")
check "80 compares one after the other, each on a fresh connection: all answered" fresh_gets "$CMP" 80
m1=$(own_kb "$API_PID")
check_api_memory "80 compares on as many workers" "$m0" "$m1" 512

# ref=best: the fastest valid lap of assetto_corsa / pitwall_ring / the car
code=$(get "/api/compare?ref=best&lap=$L/1&step_m=10" "$TMP/best.json")
python3 - "$TMP/best.json" "$TMP/run.json" <<'PY' && pass "ref=best is the fastest valid lap of the game, track and car" || fail "ref=best" "$code $(head -c 300 "$TMP/best.json")"
import json, sys
a, run = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
best = min((l for l in run["laps"] if l["valid"]), key=lambda l: l["time_ms"])
assert a["ref"]["number"] == best["number"] and a["ref"]["time_ms"] == best["time_ms"], (a["ref"]["number"], best)
assert a["step_m"] == 10
PY

# the store command behind it, and its bad input
"$PW" call lap.best '{"game":"assetto_corsa","track_name":"pitwall_ring"}' >"$TMP/best-store.json"
check "lap.best: the fastest valid lap, with its session and run" \
	test "$(jf '[d["session_id"], d["run_id"], d["valid"]]' <"$TMP/best-store.json")" = "['$SID', '$RID', True]"
"$PW" call lap.best '{"game":"assetto_corsa"}' 2>"$TMP/err" >/dev/null
check "lap.best without track_name: bad_request naming it" grep -q 'bad_request.*track_name' "$TMP/err"
"$PW" call lap.best '{"game":"assetto_corsa","track_name":"pitwall_ring","colour":1}' 2>"$TMP/err" >/dev/null
check "lap.best with an unknown field: bad_request" grep -q 'bad_request.*colour' "$TMP/err"
"$PW" call lap.best '{"game":"assetto_corsa","track_name":"pitwall_ring","car_name":"no such car"}' 2>"$TMP/err" >/dev/null
check "lap.best of a car without laps: not_found" grep -q not_found "$TMP/err"

# another game: a Forza run of the same emulated track
FRID=$(drive "$SID" forza laps 1 forza "$FZ")
check "a lap of another game: 409 naming both" refused "/api/compare?ref=$L/2&lap=$SID/$FRID/1" 409 forza
"$PW" compare --ref "$L/2" --lap "$SID/$FRID/1" >/dev/null 2>"$TMP/err"
check "pwctl compare of another game: exit 1, conflict" test $? -eq 1 -a -n "$(grep conflict "$TMP/err")"

# bad parameters: 400 naming what is wrong; unknown laps 404
check "step_m 0.05: 400 naming step_m" refused "/api/sessions/$SID/runs/$RID/laps/2?step_m=0.05" 400 step_m
check "step_m 51: 400" refused "/api/sessions/$SID/runs/$RID/laps/2?step_m=51" 400 step_m
check "step_m abc: 400" refused "/api/compare?ref=$L/2&lap=$L/1&step_m=abc" 400 step_m
check "an unknown channel: 400 naming it" refused "/api/sessions/$SID/runs/$RID/laps/2?channels=speed_kmh,warp_factor" 400 warp_factor
check "an unknown parameter: 400 naming it" refused "/api/sessions/$SID/runs/$RID/laps/2?colour=red" 400 colour
check "lap number x: 400" refused "/api/sessions/$SID/runs/$RID/laps/x" 400 "lap number"
check "lap number 0: 400" refused "/api/sessions/$SID/runs/$RID/laps/0" 400 "lap number"
check "lap 9 of a 3-lap run: 404" refused "/api/sessions/$SID/runs/$RID/laps/9" 404 "no lap 9"
check "compare without ref: 400" refused "/api/compare?lap=$L/1" 400 ref
check "compare without a lap: 400" refused "/api/compare?ref=$L/1" 400 lap
check "compare with 7 laps: 400" refused "/api/compare?ref=$L/1$(for _ in 1 2 3 4 5 6 7; do printf '&lap=%s/1' "$L"; done)" 400 "more than 6"
check "compare with a malformed lap: 400" refused "/api/compare?ref=$L/1&lap=$SID/1" 400 lap
check "compare of a lap that is not there: 404" refused "/api/compare?ref=$L/1&lap=$L/5" 404 "no lap 5"
"$PW" lap "$SID" "$RID" 2 --step 0 >/dev/null 2>"$TMP/err"
check "pwctl lap --step 0: exit 2 naming --step" test $? -eq 2 -a -n "$(grep -- --step "$TMP/err")"
"$PW" compare --ref "$L/2" --lap "$L/1" --channels nope >/dev/null 2>"$TMP/err"
check "pwctl compare --channels nope: exit 2 naming it" test $? -eq 2 -a -n "$(grep nope "$TMP/err")"

# --- the track model: corners and alignment from it ----------------------------
TSID=$("$PW" session create track_mapping | jf 'd["id"]')
drive "$TSID" left left 1 ksudp >/dev/null
drive "$TSID" right right 1 ksudp >/dev/null
"$PW" session complete "$TSID" >/dev/null
"$PW" call track.build "{\"session_id\":\"$TSID\"}" >/dev/null 2>"$TMP/err" || fail "track build" "$(cat "$TMP/err")"
code=$(get "/api/compare?ref=$L/2&lap=$L/1&lap=$L/3&step_m=2" "$TMP/cmp-model.json")
python3 - "$TMP/cmp-model.json" "$TMP/truth-laps.json" <<'PY' && pass "with a track model: aligned on its centre line, its 10 corners, final delta within 10 ms" || fail "compare on the track model" "$code $(head -c 300 "$TMP/cmp-model.json")"
import json, sys
a = json.load(open(sys.argv[1]))
truth = json.loads(open(sys.argv[2]).readline())
assert a["alignment"] == "track" and a["corners_source"] == "track_model", (a["alignment"], a["corners_source"])
assert len(a["corners"]) == truth["track"]["corner_count"]
for c, t in zip(a["corners"], truth["track"]["corners"]):
    assert c["direction"] == t["direction"] and abs(c["start_m"] - t["start_m"]) < 15, (c, t)
for lap in a["laps"]:
    assert abs(lap["delta_s"][-1] - (lap["time_ms"] - a["ref"]["time_ms"]) / 1000) < 0.010
PY
# the left boundary lap on its own line, compared on the model with the racing line
LRID=$("$PW" session get "$TSID" | jf '[r["id"] for r in d["runs"] if r["label"] == "left"][0]')
code=$(get "/api/compare?ref=$L/2&lap=$TSID/$LRID/1&step_m=5" "$TMP/cmp-left.json")
python3 - "$TMP/cmp-left.json" <<'PY' && pass "a lap on another line (the left boundary) compares on the model: final delta = lap-time difference" || fail "left boundary vs racing line" "$code $(head -c 300 "$TMP/cmp-left.json")"
import json, sys
a = json.load(open(sys.argv[1]))
lap = a["laps"][0]
want = (lap["time_ms"] - a["ref"]["time_ms"]) / 1000
assert a["alignment"] == "track" and want > 10 and abs(lap["delta_s"][-1] - want) < 0.010, (lap["delta_s"][-1], want)
PY

# --- compressed answers (docs/api.md "Compression") --------------------------------
# each kind of large answer gzipped for a client that takes gzip and decoding to the plain one:
# a comparison and a lap (laps.c), the track model (a cached read), the track_mapping session's
# analysis (a store answer passed on); a small one as it is; nothing without Accept-Encoding
TRK=$("$PW" call track.list '{}' | jf '"%s/%s" % (d[0]["game"], d[0]["track_name"])')
python3 "$ROOT/tests/integration/api_gzip_check.py" "$URL" 1400 \
	"/api/compare?ref=$L/2&lap=$L/1&lap=$L/3&step_m=1" \
	"/api/sessions/$SID/runs/$RID/laps/2?channels=speed_kmh,pos_m&step_m=1" \
	"/api/tracks/$TRK" "/api/sessions/$TSID/analysis" /api/health || FAILED=1

# --- real captures ----------------------------------------------------------------
# AC Monza, replayed into a passive capture of the ksudp feed: its one lap (an
# out lap from the pit box, 344.684 s by the game)
kill "$CAP"
wait "$CAP" 2>/dev/null
start caprp "$BIN/pw-capture" --feed ksudp --passive --port "$RP" --bind 127.0.0.1
wait_for 10 feed_is ksudp status stale
RSID=$("$PW" session create general | jf 'd["id"]')
RRID=$("$PW" run start "$RSID" ksudp --label monza | jf 'd["id"]')
frames0=$(feed_field ksudp frames)
"$BIN/pw-replay" "$DATA/ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap" --port "$RP" --max --quiet 2>"$TMP/replay.log"
wait_for 20 feed_at_least ksudp frames $((frames0 + 8641))
sleep 1
"$PW" run stop "$RSID" "$RRID" >/dev/null
code=$(get "/api/sessions/$RSID/runs/$RRID/laps/1" "$TMP/monza.json")
python3 - "$TMP/monza.json" <<'PY' && pass "real AC Monza: lap 1 on distance, 5.7 km on the spline, the game's 344.684 s at the line (within 25 ms)" || fail "real AC Monza lap" "$code $(head -c 300 "$TMP/monza.json")"
import json, sys
a = json.load(open(sys.argv[1]))
t = [x for x in a["time_s"] if x is not None]
assert a["lap"]["time_ms"] == 344684 and a["alignment"] == "spline", (a["lap"]["time_ms"], a["alignment"])
assert 5600 < a["length_m"] < 5900, a["length_m"]
assert abs(t[-1] - 344.684) < 0.025, t[-1]
v = [x for x in a["channels"]["speed_kmh"] if x is not None]
assert 200 < max(v) < 300 and len(v) > 5000
PY
# PCARS1 Spa: 1.2 km of lap, no line crossed: the run has no lap
PRID=$("$PW" run start "$RSID" pcars --label spa | jf 'd["id"]')
frames0=$(feed_field pcars frames)
"$BIN/pw-replay" "$DATA/pcars1/vthinsel_pcars_v1_session2.raw" --feed pcars --port "$PC" --max --quiet 2>/dev/null
wait_for 20 feed_at_least pcars frames $((frames0 + 1860))
sleep 1
"$PW" run stop "$RSID" "$PRID" >/dev/null
check "real PCARS1 Spa: the run has no complete lap, lap 1 is 404 saying so" \
	refused "/api/sessions/$RSID/runs/$PRID/laps/1" 404 "it has 0 laps"
n=$(grep -c '^checked$' "$TMP/schemas.txt")
bad=$(grep -v '^checked$' "$TMP/schemas.txt" | head -n 5)
check "every answer ($n) matches its JSON Schema (lap-distance, compare, error)${bad:+: $bad}" test -z "$bad" -a "$n" -gt 0
finish
