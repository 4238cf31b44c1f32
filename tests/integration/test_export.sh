#!/usr/bin/env bash
# Integration: run exports through the real processes. Runs of every game
# (pw-sim on each feed and format -> pw-capture -> pw-store) and of the real
# AC Monza and Project CARS 1 Spa captures (pw-replay -> pw-capture ->
# pw-store) are exported with pwctl and pw-api as MoTeC .ld/.ldx, Parquet and
# CSV with options, and read back independently: tests/tools/motec_read.py,
# hyparquet (tests/js, npm) and DuckDB, tests/integration/export_check.py
# (header, channel list, counts x rate = duration, every value against the
# frames within its decimals, GPS not mirrored, beacons at the lap ends, every
# Parquet value). Then bad parameters: 400 naming the parameter, exit 2.
. "$(dirname "$0")/lib.sh"
bp=$(free_tcp_port)
export PITWALL_BUS=tcp://127.0.0.1:$bp PITWALL_BUS_IN=tcp://127.0.0.1:$((bp + 1))
KS=$(free_udp_port)
PC=$(free_udp_port)
AC=$(free_udp_port)
FZ=$(free_udp_port)
F1=$(free_udp_port)
AP=$(free_tcp_port)
export PITWALL_FEEDS=ksudp:$KS,pcars:$PC,acc:$AC,forza:$FZ,f1:$F1 PITWALL_API_PORT=$AP
export PITWALL_RING_FRAMES=262144
PW=$BIN/pwctl
URL=http://127.0.0.1:$AP
JS=$ROOT/tests/js
CHECK=$ROOT/tests/integration/export_check.py
OPT_CHANNELS=speed_kmh,gear,rpm,throttle,tyre_temp_c_fl,pos_m,lap_dist_m,lap
store_up() { "$PW" call use_cases.list >/dev/null 2>&1; }

if [ ! -d "$JS/node_modules/hyparquet" ]; then
	fail "the Parquet readers are installed" "run scripts/install-deps.sh (npm ci in tests/js)"
	finish
fi

start store "$BIN/pw-store"
wait_for 10 store_up || fail "pw-store answers"
start api "$BIN/pw-api"
wait_for 20 api_store_up "$URL" || fail "pw-api answers"
start cap-pc "$BIN/pw-capture" --feed pcars --port "$PC" --bind 127.0.0.1
start cap-fz "$BIN/pw-capture" --feed forza --port "$FZ" --bind 127.0.0.1
start cap-f1 "$BIN/pw-capture" --feed f1 --port "$F1" --bind 127.0.0.1

# record FEED LABEL COMMAND... : a run of FEED around COMMAND (the game); its
# session id and run id go to $TMP/LABEL.ids
record() {
	local feed=$1 name=$2 sid rid f0
	shift 2
	sid=$("$PW" session create general --label "$name" | jf 'd["id"]')
	rid=$("$PW" run start "$sid" "$feed" --label "$name" | jf 'd["id"]')
	f0=$(feed_field "$feed" frames)
	"$@" >"$TMP/$name.sim" 2>"$TMP/$name.simlog"
	wait_for 10 feed_at_least "$feed" frames $((f0 + 100))
	sleep 2.5 # the last frames reach the file; the lap tracker settles
	"$PW" run stop "$sid" "$rid" >/dev/null
	echo "$sid $rid" >"$TMP/$name.ids"
}
sim() { "$BIN/pw-sim" --host 127.0.0.1 --quiet --seed 7 "$@"; }
# paced at 40x real time (2,400 frames/s): an unpaced burst can overflow the receive
# buffer of a capture starved of CPU by the parallel recordings, and this test is about
# exports, not ingest under load (make bench measures that)
twolaps() { sim --rate 60 --laps 2 --speed 40 "$@"; }

# games with a game clock run as fast as they can, two laps each
(
	for fmt in fm2023 fm7 fh sled; do record forza "forza_$fmt" twolaps --feed forza --format "$fmt" --port "$FZ"; done
	for fmt in 2025 2024 2023; do record f1 "f1_$fmt" twolaps --feed f1 --format "$fmt" --port "$F1"; done
) &
fast_jobs=$!
# ACC and AC: the capture connects to the emulated game; AC and PCARS have no game
# clock, so their emulators run in real time (20 s) and the receive time is the clock
start cap-ac "$BIN/pw-capture" --feed acc --port "$AC" --game-host 127.0.0.1
(
	record acc acc twolaps --feed acc --port "$AC"
) &
acc_job=$!
(
	start_ks() { "$BIN/pw-capture" --feed ksudp --port "$KS" --game-host 127.0.0.1 >/dev/null 2>"$TMP/cap-ks.log" & echo $! >"$TMP/cap-ks.pid"; }
	start_ks
	record ksudp ac sim --feed ksudp --port "$KS" --rate 60 --duration 20
	kill "$(cat "$TMP/cap-ks.pid")"
	wait "$(cat "$TMP/cap-ks.pid")"
	# the real Monza capture, replayed 4x faster (its receive times are the clock)
	"$BIN/pw-capture" --feed ksudp --port "$KS" --passive --bind 127.0.0.1 >/dev/null 2>"$TMP/cap-ks2.log" &
	echo $! >"$TMP/cap-ks.pid"
	sleep 0.5
	record ksudp monza "$BIN/pw-replay" "$ROOT/tests/data/ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap" \
		--port "$KS" --speed 4 --quiet
	kill "$(cat "$TMP/cap-ks.pid")"
	wait "$(cat "$TMP/cap-ks.pid")"
) &
ks_job=$!
(
	record pcars pcars1 sim --feed pcars --format v1 --port "$PC" --rate 60 --duration 20
	record pcars pcars2 sim --feed pcars --format v2 --port "$PC" --rate 60 --duration 20
	record pcars spa "$BIN/pw-replay" "$ROOT/tests/data/pcars1/vthinsel_pcars_v1_session2.raw" \
		--feed pcars --port "$PC" --rate 120 --quiet
) &
pc_job=$!
wait "$fast_jobs" "$acc_job" "$ks_job" "$pc_job"

# export NAME [export_check options...]: every export of the run, then the checks
export_run() {
	local name=$1 d=$TMP/x-$1 sid rid
	shift
	if [ ! -s "$TMP/$name.ids" ]; then
		fail "$name: recorded" "$(tail -3 "$TMP/$name.simlog" 2>/dev/null)"
		return
	fi
	read -r sid rid <"$TMP/$name.ids"
	mkdir -p "$d"
	"$PW" run get "$sid" "$rid" >"$d/run.json"
	"$PW" session get "$sid" >"$d/session.json"
	"$PW" export "$sid" "$rid" --format json --out "$d/frames.jsonl" 2>>"$d/pwctl.log"
	"$PW" export "$sid" "$rid" --format ld --out "$d/log.ld" 2>>"$d/pwctl.log"
	"$PW" export "$sid" "$rid" --format parquet --out "$d/log.parquet" 2>>"$d/pwctl.log"
	"$PW" export "$sid" "$rid" --format csv --channels "$OPT_CHANNELS" --hz 20 --out "$d/opt.csv" 2>>"$d/pwctl.log"
	node "$JS/parquet_dump.mjs" "$d/log.parquet" >"$d/pq.json" 2>>"$d/node.log"
	if [ ! -s "$d/log.ld" ] || [ ! -s "$d/log.ldx" ] || [ ! -s "$d/pq.json" ]; then
		fail "$name: exports written" "$(cat "$d/pwctl.log" "$d/node.log" | tail -5)"
		return
	fi
	python3 "$CHECK" "$d" "$name" "$@" || FAILED=1
	# pw-api gives the same bytes as pwctl, as two downloads named alike
	curl -s -D "$d/h.ld" -o "$d/api.ld" "$URL/api/sessions/$sid/runs/$rid/export?format=ld"
	curl -s -D "$d/h.ldx" -o "$d/api.ldx" "$URL/api/sessions/$sid/runs/$rid/export?format=ldx"
	local stem
	stem=$(sed -n 's/.*filename="\(.*\)\.ld".*/\1/p' "$d/h.ld" | tr -d '\r')
	check "$name: GET ...export?format=ld and ldx: pwctl's bytes, downloads named $stem.ld and .ldx" \
		test -n "$stem" -a "$(grep -c "filename=\"$stem.ldx\"" "$d/h.ldx")" = 1 \
		-a "$(cmp -s "$d/api.ld" "$d/log.ld" && cmp -s "$d/api.ldx" "$d/log.ldx" && echo same)" = same
}

export_run forza_fm2023 --laps 2 --sense plain
export_run forza_fm7 --laps 2 --sense plain
export_run forza_fh --laps 2 --sense plain
export_run forza_sled --laps 2 --sense plain
export_run f1_2025 --laps 2 --sense mirrored
export_run f1_2024 --laps 2 --sense mirrored
export_run f1_2023 --laps 2 --sense mirrored
export_run acc --laps 2 --sense mirrored
export_run ac --sense mirrored
export_run pcars1 --sense plain
export_run pcars2 --sense plain
export_run monza --sense plain --geo monza
export_run spa --sense plain --geo spa

# --- one lap; compressed Parquet through the API, read by hyparquet and DuckDB ----------
read -r sid rid <"$TMP/forza_fm7.ids"
lap2=$("$PW" run get "$sid" "$rid" | jf '[l for l in d["laps"] if l["number"] == 2][0]')
"$PW" export "$sid" "$rid" --format ld --lap 2 --out "$TMP" 2>"$TMP/lap.log"
lapld=$(ls "$TMP"/*_lap2.ld 2>/dev/null | head -1)
python3 - "$lapld" "${lapld%.ld}.ldx" "$lap2" "$TMP/x-forza_fm7/frames.jsonl" <<'PY' && pass "ld --lap 2 (--out DIR): the lap's frames from 0, one beacon at its end, Lap Number 2" || fail "ld --lap 2" "$(cat "$TMP/lap.log")"
import json, sys
sys.path.insert(0, "tests/tools")
from motec_read import read_ld, read_ldx
hdr, ch = read_ld(sys.argv[1])
ldx = read_ldx(sys.argv[2])
lap = eval(sys.argv[3])
fr = [json.loads(l) for l in open(sys.argv[4])]
fr = [f for f in fr if lap["start_seq"] <= f["seq"] <= lap["end_seq"]]
dur = fr[-1]["game_time_s"] - fr[0]["game_time_s"]
c = {x["name"]: x for x in ch}
n = c["Ground Speed"]["count"]
assert abs(n / 60 - dur) <= 1 / 60 + 1e-9, (n, dur)
assert set(c["Lap Number"]["values"]) == {2.0}, set(c["Lap Number"]["values"])
assert abs(c["Ground Speed"]["values"][0] - fr[0]["speed_kmh"]) <= 0.05
assert len(ldx["beacons_us"]) == 1 and abs(ldx["beacons_us"][0] - dur * 1e6) <= 1, (ldx, dur)
assert abs(dur * 1000 - lap["time_ms"]) < 40, (dur, lap["time_ms"])
assert hdr["short_comment"] == "lap 2"
PY
curl -s -o "$TMP/api.parquet" "$URL/api/sessions/$sid/runs/$rid/export?format=parquet&compression=zstd&lap=2&hz=50&channels=speed_kmh,gear,pos_m,flags"
node "$JS/parquet_dump.mjs" "$TMP/api.parquet" >"$TMP/api-pq.json" 2>"$TMP/node.log"
node "$JS/parquet_dump.mjs" "$TMP/api.parquet" --reader duckdb >"$TMP/duck-pq.json" 2>>"$TMP/node.log"
python3 - "$TMP/api-pq.json" "$TMP/duck-pq.json" "$lap2" <<'PY' && pass "parquet over HTTP, zstd, one lap at 50 Hz: hyparquet and DuckDB read the same rows" || fail "parquet over HTTP, zstd, lap, hz" "$(head -c 600 "$TMP/node.log")"
import json, sys
h, d = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
lap = eval(sys.argv[3])
cols = ["time_s", "speed_kmh", "gear", "pos_m_x", "pos_m_y", "pos_m_z", "in_pit", "lap_invalid",
        "abs", "tc", "limiter", "paused"]
assert [c["name"] for c in h["columns"]] == cols, h["columns"]
assert [c["name"] for c in d["columns"]] == cols, d["columns"]
n = h["num_rows"]
assert n == d["num_rows"] and abs(n - (lap["time_ms"] / 1000 * 50 + 1)) <= 3, (n, lap["time_ms"])
assert h["data"]["time_s"][:3] == [0, 0.02, 0.04] and h["data"]["time_s"] == d["data"]["time_s"]
for c in cols[1:]:
    assert h["data"][c] == d["data"][c], c
assert set(h["data"]["gear"]) <= set(range(-1, 9)) and min(h["data"]["speed_kmh"]) > 20
PY

# --- bad parameters: 400 naming the parameter; pwctl exit 2 with the reason ---------------
E=$URL/api/sessions/$sid/runs/$rid/export
for q in "format=xml:format" "hz=0:hz" "hz=1001:hz" "hz=2.5:hz" "lap=0:lap" "lap=99:lap" \
	"channels=speed_kmh,nosuch:channels" "channels=:channels" "channels=pos_m,pos_m_x:channels" \
	"compression=lz4:compression" "format=csv&compression=zstd:compression" "speed=1:speed" \
	"hz=10&hz=20:hz" "format=ld&channels=seq:channels"; do
	code=$(curl -s -o "$TMP/bad.json" -w '%{http_code}' "$E?${q%:*}")
	if [ "$code" = 400 ] && python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; sys.exit(not (e["code"] == "bad_request" and e["message"].startswith(sys.argv[2] + ":")))' "$TMP/bad.json" "${q##*:}"; then
		pass "GET export?${q%:*}: 400 naming ${q##*:}"
	else
		fail "GET export?${q%:*}: 400 naming ${q##*:}" "$code $(cat "$TMP/bad.json")"
	fi
done
for a in "--hz 0:hz" "--lap 99:lap" "--channels nosuch:channels" "--format ld:--format ld" \
	"--format parquet --compression lz4:compression"; do
	"$PW" export "$sid" "$rid" ${a%:*} >/dev/null 2>"$TMP/bad.err"
	rc=$?
	check "pwctl export ${a%:*}: exit 2, the reason names ${a##*:}" \
		test "$rc" = 2 -a "$(grep -c -- "${a##*:}" "$TMP/bad.err")" -ge 1
done
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/sessions/$sid/runs/00000000-0000-4000-8000-000000000000/export?format=ld")
check "an unknown run: 404" test "$code" = 404
finish
