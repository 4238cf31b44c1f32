#!/usr/bin/env bash
# Integration: the whole analysis flow through the real processes, checked
# against the emulator's printed ground truth. pw-sim (AC server) -> pw-capture
# -> pw-store -> two pw-analyze workers: shift points from full-throttle pulls
# (within 3 % of the optimal shift rpm from the torque curve and ratios), car
# grip from the skid pad (within 5 % of the grip limit), the same on ACC, whose
# broadcasting sends no g (pw-capture derives them: common/derive.h), a track model from
# left/right boundary laps (exact corner count, centre line within 0.5 m),
# the laps table with per-corner figures, and car characteristics. Each result
# matches its JSON Schema (docs/schemas: analysis, track).
. "$(dirname "$0")/lib.sh"
bp=$(free_tcp_port)
export PITWALL_BUS=tcp://127.0.0.1:$bp PITWALL_BUS_IN=tcp://127.0.0.1:$((bp + 1))
KS=$(free_udp_port)
FZ=$(free_udp_port)
AC=$(free_udp_port)
export PITWALL_FEEDS=ksudp:$KS,forza:$FZ,acc:$AC
PW=$BIN/pwctl
store_up() { "$PW" call use_cases.list >/dev/null 2>&1; }

start store "$BIN/pw-store"
wait_for 10 store_up || fail "store up"
start worker1 "$BIN/pw-analyze"
start worker2 "$BIN/pw-analyze"
start cap "$BIN/pw-capture" --feed ksudp --port "$KS" --game-host 127.0.0.1
start capfz "$BIN/pw-capture" --feed forza --port "$FZ" --bind 127.0.0.1
start capacc "$BIN/pw-capture" --feed acc --port "$AC" --game-host 127.0.0.1

# Record one run of the emulator in MODE for N laps/repetitions into session
# SID, as fast as it can send (--fast). Analyses that time things need the
# game's own clock then (receive times are all the same instant): Forza has
# one, AC does not, so timing-sensitive analyses drive the forza feed.
drive() { # sid label mode laps feed
	local rid frames0 port=$KS
	[ "$5" = forza ] && port=$FZ
	[ "$5" = acc ] && port=$AC
	rid=$("$PW" run start "$1" "$5" --label "$2" | jf 'd["id"]')
	RID=$rid
	frames0=$(feed_field "$5" frames)
	"$BIN/pw-sim" --feed "$5" --port "$port" --mode "$3" --laps "$4" --rate 60 --fast --seed 3 \
		>"$TMP/truth-$2.json" 2>"$TMP/sim-$2.log" &
	local sim=$!
	# ksudp, acc: the capture handshakes (again) within 2 s; the emulator ends after its laps
	wait_for 60 bash -c "! kill -0 $sim 2>/dev/null"
	wait_for 10 feed_at_least "$5" frames $((frames0 + 100))
	sleep 1 # the last frames reach the run's file
	"$PW" run stop "$1" "$rid" >/dev/null
}
analysed() { s=$("$PW" session analysis "$1" 2>/dev/null | jf 'd.get("status", "done")'); [ "$s" = done ]; }

# --- shift points --------------------------------------------------------------
sid=$("$PW" session create shift_points | jf 'd["id"]')
drive "$sid" pulls pulls 3 forza
"$PW" session complete "$sid" >/dev/null
if wait_for 30 analysed "$sid"; then
	"$PW" session analysis "$sid" >"$TMP/shift.json"
	python3 - "$TMP/truth-pulls.json" "$TMP/shift.json" <<'PY' && pass "shift points: every optimal upshift within 3 % of the torque-curve truth" || fail "shift points vs truth" "$(head -c 400 "$TMP/shift.json")"
import json, sys
truth = json.loads(open(sys.argv[1]).readline())
a = json.load(open(sys.argv[2]))
opt = truth["optimal_shift_rpm"]
gears = {g["gear"]: g for g in a["gears"]}
for i, rpm in enumerate(opt):
    got = gears[i + 1]["optimal_upshift_rpm"]
    assert abs(got - rpm) / rpm < 0.03, (i + 1, got, rpm)
assert abs(a["recommended_shift_rpm"] - truth["recommended_shift_rpm"]) / truth["recommended_shift_rpm"] < 0.03
PY
else
	fail "shift points analysed" "$(tail -3 "$TMP/worker1.log")"
fi
check "characteristics: the car is listed with its recommended shift rpm" \
	test "$("$PW" call characteristics.list | jf 'len(d), d[0]["session_count"], d[0]["recommended_shift_rpm"] > 0')" = "(1, 1, True)"
check "characteristics: per-gear detail" \
	test "$("$PW" call characteristics.get "{\"car\":\"$("$PW" call characteristics.list | jf 'd[0]["car_name"]')\"}" | jf 'len(d["gears"]) >= 5')" = True

# --- car grip ----------------------------------------------------------------------
sid=$("$PW" session create car_grip | jf 'd["id"]')
drive "$sid" skidpad cornering 1 forza
"$PW" session complete "$sid" >/dev/null
if wait_for 30 analysed "$sid"; then
	"$PW" session analysis "$sid" >"$TMP/grip.json"
	python3 - "$TMP/truth-skidpad.json" "$TMP/grip.json" <<'PY' && pass "car grip: peak lateral g within 5 % of the grip limit, the seed's shape" || fail "car grip vs truth" "$(head -c 400 "$TMP/grip.json")"
import json, sys
truth = json.loads(open(sys.argv[1]).readline())
a = json.load(open(sys.argv[2]))
limit = truth["car"]["grip_limit_g"]
assert abs(a["summary"]["max_lateral_g"] - limit) / limit < 0.05, (a["summary"], limit)
assert set(a) >= {"summary", "grip_envelope", "grip_circle", "steering_response", "runs_analyzed", "total_frames_analyzed"}
assert 0 < len(a["grip_circle"]) <= 1000 and a["runs_analyzed"] == 1
PY
else
	fail "car grip analysed"
fi

# --- car grip on ACC: no g on the wire, derived from speed and heading -----------------
sid=$("$PW" session create car_grip | jf 'd["id"]')
drive "$sid" skidpad-acc cornering 1 acc
acc_rid=$RID
"$PW" session complete "$sid" >/dev/null
if wait_for 30 analysed "$sid"; then
	"$PW" session analysis "$sid" >"$TMP/grip-acc.json"
	python3 - "$TMP/truth-skidpad-acc.json" "$TMP/grip-acc.json" <<'PY' && pass "car grip on ACC (derived g): peak lateral g within 5 % of the grip limit" || fail "car grip on ACC vs truth" "$(head -c 400 "$TMP/grip-acc.json")"
import json, sys
truth = json.loads(open(sys.argv[1]).readline())
a = json.load(open(sys.argv[2]))
limit = truth["car"]["grip_limit_g"]
assert abs(a["summary"]["max_lateral_g"] - limit) / limit < 0.05, (a["summary"], limit)
assert a["runs_analyzed"] == 1 and a["total_frames_analyzed"] > 1000, a["total_frames_analyzed"]
PY
else
	fail "car grip on ACC analysed" "$("$PW" session analysis "$sid" 2>&1 | head -c 300)"
fi
"$PW" export "$sid" "$acc_rid" --format json --out "$TMP/acc.jsonl" 2>/dev/null
python3 - "$TMP/acc.jsonl" <<'PY' && pass "ACC run: g and yaw rate stored as derived, never as the game's" || fail "ACC run derived channels" "$(head -c 600 "$TMP/acc.jsonl")"
import json, sys
fr = [json.loads(l) for l in open(sys.argv[1])]
g = [f for f in fr if "accel_lat_g" in f]
assert len(fr) > 1000 and len(g) > 0.95 * len(fr), (len(fr), len(g))
for f in g:
    assert {"accel_lat_g", "accel_lon_g", "yaw_rate_rads"} <= set(f["derived"]), f
    assert "accel_vert_g" not in f
    assert "speed_kmh" not in f["derived"] and "yaw_rad" not in f["derived"]
PY

# --- track mapping + build ------------------------------------------------------------
sid=$("$PW" session create track_mapping | jf 'd["id"]')
drive "$sid" left left 1 ksudp
drive "$sid" right right 1 ksudp
"$PW" call track.build "{\"session_id\":\"$sid\"}" 2>"$TMP/err" >/dev/null
check "track build before complete: conflict" grep -q conflict "$TMP/err"
"$PW" session complete "$sid" >/dev/null
"$PW" call track.build "{\"session_id\":\"$sid\"}" >"$TMP/track.json" 2>"$TMP/err" || fail "track build" "$(cat "$TMP/err")"
python3 - "$TMP/truth-left.json" "$TMP/track.json" <<'PY' && pass "track model: exact corner count, centre line within 0.5 m of the truth" || fail "track model vs truth" "$(head -c 300 "$TMP/track.json")"
import json, math, sys
truth = json.loads(open(sys.argv[1]).readline())["track"]
m = json.load(open(sys.argv[2]))
assert len(m["corners"]) == truth["corner_count"], (len(m["corners"]), truth["corner_count"])
assert [c["direction"] for c in m["corners"]] == [c["direction"] for c in truth["corners"]]
line = m["center_line"]
def dist(p):
    best = 1e18
    for (ax, az), (bx, bz) in zip(line, line[1:] + line[:1]):
        dx, dz = bx - ax, bz - az
        t = max(0.0, min(1.0, ((p[0] - ax) * dx + (p[1] - az) * dz) / (dx * dx + dz * dz or 1)))
        best = min(best, math.hypot(ax + t * dx - p[0], az + t * dz - p[1]))
    return best
worst = max(dist(p) for p in truth["center_line_sample"])
assert worst < 0.5, worst
PY
check "tracks list shows it with its corner count" \
	test "$("$PW" call track.list | jf '[t["corner_count"] for t in d if t["track_name"] == "pitwall_ring"]')" = "[10]"
check "track corners endpoint" \
	test "$("$PW" call track.corners '{"game":"assetto_corsa","track_name":"pitwall_ring"}' | jf 'len(d)')" = 10
"$PW" call track.get '{"game":"../etc","track_name":"passwd"}' 2>"$TMP/err" >/dev/null
check "path traversal in a track name: bad_request" grep -q bad_request "$TMP/err"

# --- general: laps, with the stored track model per corner ------------------------------------
sid=$("$PW" session create general | jf 'd["id"]')
drive "$sid" racing laps 3 ksudp
ks_rid=$RID
"$PW" session complete "$sid" >/dev/null
if wait_for 30 analysed "$sid"; then
	"$PW" session analysis "$sid" >"$TMP/general.json"
	python3 - "$TMP/truth-racing.json" "$TMP/general.json" <<'PY' && pass "general: flying laps at the reference time, best lap, per-corner figures from the track model" || fail "general vs truth" "$(head -c 600 "$TMP/general.json")"
import json, sys
truth = json.loads(open(sys.argv[1]).readline())
a = json.load(open(sys.argv[2]))
ref = truth["reference_lap_ms"]
valid = [l for l in a["laps"] if l["valid"]]
assert len(a["laps"]) >= 3 and valid, a["laps"]
assert all(abs(l["time_ms"] - ref) <= 2 for l in valid[1:]), (valid, ref)
assert a["best_lap"] and abs(a["best_lap"]["time_ms"] - ref) <= 2
assert len(a["corners"]) == 10 and all(c["laps"] for c in a["corners"])
PY
else
	fail "general analysed"
fi
# AC sends no lap distance: pw-capture integrates the speed on AC's lap clock from the line
"$PW" export "$sid" "$ks_rid" --format json --out "$TMP/ks.jsonl" 2>/dev/null
python3 - "$TMP/truth-racing.json" "$TMP/ks.jsonl" <<'PY' && pass "AC run: derived lap distance from the line, each lap within 1 % of the course length" || fail "AC derived lap distance" "$(tail -c 400 "$TMP/ks.jsonl")"
import json, sys
length = json.loads(open(sys.argv[1]).readline())["track"]["length_m"]
fr = [json.loads(l) for l in open(sys.argv[2])]
ends = {}
for f in fr:
    if "lap_dist_m" in f:
        assert "lap_dist_m" in f["derived"] and "lap_time_ms" not in f.get("derived", []), f
        ends[f["lap"]] = max(ends.get(f["lap"], 0), f["lap_dist_m"])
full = [d for lap, d in ends.items() if lap + 1 in ends]
assert len(full) >= 2, ends
assert all(abs(d - length) / length < 0.01 for d in full), (full, length)
PY

# --- every result against its JSON Schema -------------------------------------------------
for r in shift.json:analysis grip.json:analysis grip-acc.json:analysis general.json:analysis \
	track.json:track acc.jsonl:frame ks.jsonl:frame; do
	f=$TMP/${r%%:*}
	[ -s "$f" ] || continue # its own check failed above
	python3 "$ROOT/tests/integration/contract.py" validate "${r#*:}" "$f" >"$TMP/${r%%:*}.schema" 2>&1
	rc=$?
	[ "$rc" = 0 ] || head -n 10 "$TMP/${r%%:*}.schema" >&2
	check "$(basename "$f") matches the JSON Schema ${r#*:}/v1 ($(tail -n 1 "$TMP/${r%%:*}.schema"))" test "$rc" = 0
done
finish
