#!/usr/bin/env bash
# Integration: the race engineer through the real processes (pw-sim / pw-replay
# -> pw-capture -> pw-store -> pw-analyze -> pw-api), against ground truth.
#  - every emulator setup fault (pw-sim --fault) gives a recommendation of the
#    category and a parameter its ground-truth line names, high or medium
#    (GET /api/sessions/{id}/recommendations); forza carries the suspension,
#    short gearing, tyre and wheel-speed faults, F1 the long gearing (it sends
#    the number of gears: too long a final drive leaves the top gears unused),
#    Assetto Corsa (ksudp, slip angles) the balance ones, in real time on
#    stacks of their own (AC has no game clock: its times are the receive times),
#    Project CARS 2 (pcars v2, the tread's inner/middle/outer temperatures) the
#    tread ones (over_inflated, too_much_camber), paced at 4x (no game clock either);
#  - a clean emulator session of 3 laps has no high-confidence finding, nor the
#    clean car on Project CARS 2, which evaluates the tread rules 13 and 14 and
#    finds no tread pattern (Forza lists them as not evaluated);
#  - the real captures (AC Monza, the Forza Laguna Seca lap) replayed: no crash,
#    and every finding's evidence recomputed from the run's exported frames;
#  - every game feed runs the rules and lists what it could not evaluate, and
#    the channels it says are missing are absent from its frames;
#  - live: a per-lap recommendation reaches a WebSocket client subscribed to
#    "recommendation" within 1 s of the lap end, and `pwctl events` shows it;
#  - bad query parameters and the wrong sessions get their errors.
. "$(dirname "$0")/lib.sh"
private_bus
FZ=$(free_udp_port)
KS=$(free_udp_port)
PC=$(free_udp_port)
F1=$(free_udp_port)
AC=$(free_udp_port)
AP=$(tcp_port)
export PITWALL_FEEDS=forza:$FZ,ksudp:$KS,pcars:$PC,f1:$F1,acc:$AC PITWALL_API_PORT=$AP
PW=$BIN/pwctl
WSC=${PW_TOOLS:-$ROOT/build/tools}/ws_client
CHK="python3 $ROOT/tests/integration/recs_check.py"
API=http://127.0.0.1:$AP
store_up() { "$PW" "$@" call use_cases.list >/dev/null 2>&1; }
analysed() { [ "$("$PW" "${@:2}" session analysis "$1" 2>/dev/null | jf 'd.get("status", "done")')" = done ]; }
get() { python3 -c 'import sys,urllib.request
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=10); print(r.status); sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code); sys.stdout.write(e.read().decode())' "$1"; }
recs() { get "$API/api/sessions/$1/recommendations${2:-}" | tail -n +2; }

# --- Assetto Corsa stacks for the balance faults: one lap in real time each ---------------
# own instance, data dir, bus and feed port; started first, checked last
ac_stack() { # NAME FAULT, run by bg_run ac-NAME: its own subshell, so the exports, the
	# trap and an exit end with it
	local d=$TMP/$1 port bp
	port=$(free_udp_port)
	bp=$(tcp_port)
	mkdir -p "$d"
	export PITWALL_INSTANCE=$INST$1 PITWALL_DATA_DIR=$d/data PITWALL_RUN_DIR=$d/run
	export PITWALL_BUS=tcp://127.0.0.1:$bp PITWALL_BUS_IN=tcp://127.0.0.1:$((bp + 1))
	export PITWALL_FEEDS=ksudp:$port
	"$BIN/pw-store" 2>"$d/store.log" &
	"$BIN/pw-analyze" 2>"$d/worker.log" &
	"$BIN/pw-sim" --feed ksudp --port "$port" --rate 60 --laps 1 --fault "$2" --seed 4 \
		--quiet >"$d/truth.json" 2>"$d/sim.log" &
	sim=$!
	"$BIN/pw-capture" --feed ksudp --port "$port" --game-host 127.0.0.1 2>"$d/cap.log" &
	trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT
	step() { echo "$1" >"$d/step"; } # where the stack got to, for a failure's message
	step "the store answering"
	wait_for 10 store_up || exit 1
	step "the session and its run"
	sid=$("$PW" session create general | jf 'd["id"]')
	rid=$("$PW" run start "$sid" ksudp | jf 'd["id"]')
	step "the lap driven"
	wait "$sim"
	sleep 1 # the last frames reach the run's file
	step "run stop, export, complete"
	"$PW" run stop "$sid" "$rid" >/dev/null
	"$PW" export "$sid" "$rid" --format json --out "$d/frames.jsonl"
	"$PW" session complete "$sid" >/dev/null
	step "the analysis"
	wait_for 30 analysed "$sid" || exit 1
	step "session.recommendations"
	"$PW" call session.recommendations "{\"id\":\"$sid\"}" >"$d/recs.json" || exit 1
	step "done"
}
bg_run ac-understeer ac_stack understeer understeer
bg_run ac-oversteer ac_stack oversteer oversteer

# --- the main stack ----------------------------------------------------------------------
start store "$BIN/pw-store"
wait_for 10 store_up || fail "store up"
start worker1 "$BIN/pw-analyze"
start worker2 "$BIN/pw-analyze"
start api "$BIN/pw-api"
start cap-fz "$BIN/pw-capture" --feed forza --port "$FZ" --bind 127.0.0.1
start cap-ks "$BIN/pw-capture" --feed ksudp --port "$KS" --bind 127.0.0.1 --passive
start cap-pc "$BIN/pw-capture" --feed pcars --port "$PC" --bind 127.0.0.1
start cap-f1 "$BIN/pw-capture" --feed f1 --port "$F1" --bind 127.0.0.1
start cap-ac "$BIN/pw-capture" --feed acc --port "$AC" --game-host 127.0.0.1
wait_for 10 api_store_up "$API" || fail "pw-api up"
for f in forza ksudp pcars f1 acc; do
	wait_for 10 feed_at_least "$f" frames 0 || fail "the $f capture runs"
done

# drive NAME FEED LAPS [pw-sim options]: a general session of one run of the emulator
# (--fast: the feeds with a game clock; unless the options pace it with --speed),
# completed and analysed; $TMP/NAME.{sid,rid,truth.json}
drive() {
	local name=$1 feed=$2 laps=$3 port sid rid frames0 pace=--fast
	shift 3
	case " $* " in *" --speed "*) pace= ;; esac
	case $feed in forza) port=$FZ ;; pcars) port=$PC ;; f1) port=$F1 ;; acc) port=$AC ;; esac
	sid=$("$PW" session create general --label "$name" | jf 'd["id"]')
	rid=$("$PW" run start "$sid" "$feed" | jf 'd["id"]')
	frames0=$(feed_field "$feed" frames)
	"$BIN/pw-sim" --feed "$feed" --port "$port" --rate 60 --laps "$laps" $pace --quiet "$@" \
		>"$TMP/$name.truth.json" 2>"$TMP/sim-$name.log"
	wait_for 10 feed_at_least "$feed" frames $((frames0 + 100))
	sleep 1
	"$PW" run stop "$sid" "$rid" >/dev/null
	"$PW" session complete "$sid" >/dev/null
	echo "$sid" >"$TMP/$name.sid"
	echo "$rid" >"$TMP/$name.rid"
	wait_for 30 analysed "$sid" || fail "$name: analysed" "$(tail -2 "$TMP/worker1.log")"
}

# real_start NAME FEED PORT PCAP: a general session recording FEED, for a replay
real_start() {
	local sid
	sid=$("$PW" session create general --label "$1" | jf 'd["id"]')
	echo "$sid" >"$TMP/$1.sid"
	"$PW" run start "$sid" "$2" | jf 'd["id"]' >"$TMP/$1.rid"
	feed_field "$2" frames >"$TMP/$1.frames0"
}

# --- the real Monza capture, in real time (AC has no game clock), checked at the end ------
real_start monza ksudp "$KS"
bg_run monza "$BIN/pw-replay" "$ROOT/tests/data/ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap" \
	--port "$KS" --quiet 2>"$TMP/replay-monza.log"

# feed_check FEED [pw-sim options]: two clean laps on FEED, the rules' evaluated / not
# evaluated lists against the channels really present in the run's frames
feed_check() {
	local feed=$1 sid
	shift
	drive "feed-$feed" "$feed" 2 --seed 6 "$@"
	sid=$(cat "$TMP/feed-$feed.sid")
	"$PW" export "$sid" "$(cat "$TMP/feed-$feed.rid")" --format json --out "$TMP/feed-$feed.jsonl"
	recs "$sid" >"$TMP/feed-$feed.recs.json"
	check "$($CHK feed "$feed" "$TMP/feed-$feed.jsonl" "$TMP/feed-$feed.recs.json" | cut -c1-160)" \
		$CHK feed "$feed" "$TMP/feed-$feed.jsonl" "$TMP/feed-$feed.recs.json"
}

# --- the tread's zones: Project CARS 2, paced at 4x (receive times are its clock: the
# tread windows need it), so the slowest part; on its own feed beside the others, its
# PASS/FAIL lines printed when it is waited for ----------------------------------------------
pcars_drives() {
	for f in over_inflated too_much_camber; do
		drive "$f" pcars 2 --fault "$f" --seed 5 --speed 4
		recs "$(cat "$TMP/$f.sid")" >"$TMP/$f.recs.json"
		check "fault $f (pcars v2): $($CHK fault "$TMP/$f.truth.json" "$TMP/$f.recs.json")" \
			$CHK fault "$TMP/$f.truth.json" "$TMP/$f.recs.json"
	done
	feed_check pcars --speed 4
}
bg_run pcars pcars_drives >"$TMP/pcars.out"

# --- suspension, wheel speeds (a derived slip), gearing, tyres: forza, and F1 ------------
for f in bottoming front_lockup rear_lockup wheelspin long_gearing short_gearing hot_tyres; do
	feed=forza
	[ "$f" = long_gearing ] && feed=f1
	drive "$f" "$feed" 3 --fault "$f" --seed 5
	recs "$(cat "$TMP/$f.sid")" >"$TMP/$f.recs.json"
	check "fault $f: $($CHK fault "$TMP/$f.truth.json" "$TMP/$f.recs.json")" \
		$CHK fault "$TMP/$f.truth.json" "$TMP/$f.recs.json"
done


# --- the clean car, 3 laps --------------------------------------------------------------
drive clean forza 3 --seed 5
recs "$(cat "$TMP/clean.sid")" >"$TMP/clean.recs.json"
check "$($CHK clean "$TMP/clean.recs.json")" $CHK clean "$TMP/clean.recs.json"

# --- every feed: the rules run, what could not be evaluated is said, and is really absent --
for feed in forza f1 acc; do
	feed_check "$feed"
done
bg_status pcars 600 || fail "the Project CARS 2 drives: exit $?"
cat "$TMP/pcars.out"
grep -q '^FAIL ' "$TMP/pcars.out" && FAILED=1
check "forza evaluates the bottoming rule (normalised travel), not the slip angles" \
	test "$(jf '["bottoming" in d["rules_evaluated"], [x["missing"] for x in d["not_evaluated"] if x["rule"] == "understeer"]]' \
		<"$TMP/feed-forza.recs.json")" = "[True, [['slip_angle_rad']]]"
check "the clean car on Project CARS 2: $($CHK clean "$TMP/feed-pcars.recs.json")" \
	$CHK clean "$TMP/feed-pcars.recs.json"
check "Project CARS 2 evaluates the tread rules and finds no tread pattern on the clean car" \
	test "$(jf '[r in d["rules_evaluated"] for r in ("tyre_pressure_spread", "tyre_camber_spread")] + [r["rule"] for r in d["recommendations"] if r["rule"].startswith("tyre_") and r["rule"].endswith("_spread")]' \
		<"$TMP/feed-pcars.recs.json")" = "[True, True]"
check "Forza lists the tread rules as not evaluated, the three zones missing" \
	test "$(jf '[x["missing"] for x in d["not_evaluated"] if x["rule"] == "tyre_camber_spread"]' \
		<"$TMP/feed-forza.recs.json")" = "[['tyre_temp_inner_c', 'tyre_temp_middle_c', 'tyre_temp_outer_c']]"
check "ACC broadcasting evaluates no wheel or engine rule" \
	test "$(jf 'sorted(d["rules_evaluated"])' <"$TMP/feed-acc.recs.json")" = "[]"

# --- live: a per-lap recommendation on the WebSocket, within 1 s of the lap end ------------
start events "$PW" events recommendation. --timeout 60 --count 1
start ws "$WSC" --port "$AP" \
	"send {\"type\":\"subscribe\",\"schema_version\":1,\"t_ms\":0,\"data\":{\"events\":[\"recommendation\"]}}" \
	'until "type":"recommendation" 60000' 'wait 200'
wait_for 5 grep -q '"type":"hello"' "$TMP/ws.out" || fail "the stream accepts the client"
sleep 0.5 # the subscriptions settle
# paced (10x real time, 600 frames/s): a burst of --fast would measure the store's catching up
drive live forza 2 --fault front_lockup --seed 7 --speed 10
wait_for 10 grep -q '"type":"recommendation"' "$TMP/ws.out"
check "live: $($CHK ws "$TMP/ws.out" 1000)" $CHK ws "$TMP/ws.out" 1000
wait_for 10 grep -q '^recommendation\.forza ' "$TMP/events.out"
check "pwctl events shows recommendation.forza with its category and lap" python3 -c '
import json, sys
t, b = open(sys.argv[1]).readline().split(" ", 1)
d = json.loads(b)
assert t == "recommendation.forza" and d["feed"] == "forza" and d["lap_number"] >= 1 and d["category"], d' \
	"$TMP/events.out"

# --- real captures: replayed, analysed, every finding's evidence recomputed ----------------
real() { # NAME FEED PORT PCAP [pw-replay options]
	real_start "$@"
	"$BIN/pw-replay" "$4" --port "$3" "${@:5}" --quiet 2>"$TMP/replay-$1.log"
	real_end "$1" "$2"
}
real_end() { # NAME FEED: the run stopped, exported, analysed
	local name=$1 sid rid
	sid=$(cat "$TMP/$name.sid")
	rid=$(cat "$TMP/$name.rid")
	wait_for 10 feed_at_least "$2" frames $(($(cat "$TMP/$name.frames0") + 100))
	sleep 1
	"$PW" run stop "$sid" "$rid" >/dev/null
	"$PW" export "$sid" "$rid" --format json --out "$TMP/$name.jsonl"
	"$PW" laps "$sid" >"$TMP/$name.laps.json"
	"$PW" session complete "$sid" >/dev/null
	wait_for 30 analysed "$sid" || fail "$name: analysed"
	recs "$sid" >"$TMP/$name.recs.json"
}
bg_status monza 600 || fail "the Monza replay: exit $?"
real_end monza ksudp
check "real AC Monza: $($CHK evidence "$TMP/monza.jsonl" "$TMP/monza.laps.json" "$TMP/monza.recs.json")" \
	$CHK evidence "$TMP/monza.jsonl" "$TMP/monza.laps.json" "$TMP/monza.recs.json"
$CHK csv2pcap "$ROOT/tests/data/forza/austinbaccus_forza-telemetry/laguna-seca.csv" \
	"$TMP/laguna.pcap" "$FZ" >/dev/null
# Forza carries its game clock (TimestampMS): the lap's 87 s replayed at 10x
real laguna forza "$FZ" "$TMP/laguna.pcap" --speed 10
check "real Forza Laguna Seca: $($CHK evidence "$TMP/laguna.jsonl" "$TMP/laguna.laps.json" "$TMP/laguna.recs.json")" \
	$CHK evidence "$TMP/laguna.jsonl" "$TMP/laguna.laps.json" "$TMP/laguna.recs.json"

# --- the contract: every answer, stream message and bus message against its JSON Schema ----
CONTRACT="python3 $ROOT/tests/integration/contract.py"
for f in "$TMP"/*.recs.json; do
	check "schema recommendations: $(basename "$f"): $($CONTRACT validate recommendations "$f" | tail -1)" \
		$CONTRACT validate recommendations "$f"
done
sed -n 's/^[0-9.]* text //p' "$TMP/ws.out" >"$TMP/ws.jsonl"
check "schema ws-message: the stream's messages: $($CONTRACT validate ws-message "$TMP/ws.jsonl" | tail -1)" \
	$CONTRACT validate ws-message "$TMP/ws.jsonl"
check "schema bus-recommendation: pwctl events: $($CONTRACT bus "$TMP/events.out" | tail -1)" \
	$CONTRACT bus "$TMP/events.out"
check "the answer carries API-Version: v1" \
	sh -c "curl -s -D - -o /dev/null '$API/api/v1/sessions/$(cat "$TMP/clean.sid")/recommendations' | grep -qi '^API-Version: v1'"

# --- bad input: a 400 naming the parameter, 404, 409 ---------------------------------------
sid=$(cat "$TMP/clean.sid")
bad() { # QUERY STATUS WORD
	local out
	out=$(get "$API/api/sessions/$sid/recommendations$1")
	[ "$(echo "$out" | head -1)" = "$2" ] && echo "$out" | tail -n +2 | grep -q "$3"
}
check "min_confidence=sure: 400 naming min_confidence" bad '?min_confidence=sure' 400 min_confidence
check "category=suspension: 400 naming category" bad '?category=suspension' 400 category
check "lap=0: 400 naming lap" bad '?lap=0' 400 '"lap'
check "lap=two: 400 naming lap" bad '?lap=two' 400 '"lap'
check "an unknown parameter: 400 naming it" bad '?confidence=high' 400 confidence
check "a filter: min_confidence=high leaves the high ones only" test "$(recs "$sid" '?min_confidence=high' | \
	jf '[r["confidence"] for r in d["recommendations"]]')" = "[]"
check "a filter: category=gearing and lap=1" test "$(recs "$sid" '?category=gearing&lap=1' | \
	jf 'all(r["category"] == "gearing" and r["lap_number"] == 1 for r in d["recommendations"])')" = True
check "an unknown session: 404" test "$(get "$API/api/sessions/00000000-0000-4000-8000-000000000000/recommendations" | head -1)" = 404
check "not a session id: 400" test "$(get "$API/api/sessions/nope/recommendations" | head -1)" = 400
other=$("$PW" session create shift_points | jf 'd["id"]')
check "a shift_points session: 409" test "$(get "$API/api/sessions/$other/recommendations" | head -1)" = 409
active=$("$PW" session create general | jf 'd["id"]')
check "a session not completed: 409" test "$(get "$API/api/sessions/$active/recommendations" | head -1)" = 409

# --- bad flags and configuration ------------------------------------------------------------
"$BIN/pw-sim" --feed forza --port "$FZ" --fault tyres >/dev/null 2>"$TMP/err"
check "pw-sim --fault tyres: usage error naming the fault" test "$?" = 2 -a -n "$(grep -l 'unknown --fault tyres' "$TMP/err")"
"$BIN/pw-sim" --feed forza --port "$FZ" --speed 0 >/dev/null 2>"$TMP/err"
check "pw-sim --speed 0: usage error" test "$?" = 2 -a -n "$(grep -l 'speed 0 must be in' "$TMP/err")"
"$BIN/pw-sim" --feed forza --port "$FZ" --speed fast >/dev/null 2>"$TMP/err"
check "pw-sim --speed fast: usage error" test "$?" = 2
PITWALL_LIVE_COOLDOWN_S=-1 PITWALL_INSTANCE=${INST}bad "$BIN/pw-store" >/dev/null 2>"$TMP/err"
check "PITWALL_LIVE_COOLDOWN_S=-1: pw-store refuses to start, naming it" \
	test "$?" != 0 -a -n "$(grep -l PITWALL_LIVE_COOLDOWN_S "$TMP/err")"

# --- the Assetto Corsa stacks -------------------------------------------------------------
for s in understeer oversteer; do
	bg_status "ac-$s" 600 ||
		fail "AC $s stack: exit $? at $(cat "$TMP/$s/step" 2>/dev/null)" "$(tail -3 "$TMP/$s/store.log")"
	check "fault $s (AC, real time): $($CHK fault "$TMP/$s/truth.json" "$TMP/$s/recs.json")" \
		$CHK fault "$TMP/$s/truth.json" "$TMP/$s/recs.json"
done
check "$($CHK feed ksudp "$TMP/understeer/frames.jsonl" "$TMP/understeer/recs.json" | cut -c1-160)" \
	$CHK feed ksudp "$TMP/understeer/frames.jsonl" "$TMP/understeer/recs.json"
finish
