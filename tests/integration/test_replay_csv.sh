#!/usr/bin/env bash
# Integration: pw-replay --csv through the real processes (README "Tools").
# A run recorded from the emulator (pw-sim -> pw-capture -> pw-store) is
# exported as CSV; with the capture stopped, pw-replay --csv puts the export
# back into the same feed's segment, a second run records it, and its export
# has the same values (every column but seq and t_ns, the ring's and the
# receive time's). While a replay plays the feed is up for every reader
# (pwctl feeds, tail). Bad input of every kind: a clear error and exit 1 or 2.
. "$(dirname "$0")/lib.sh"
private_bus
KS=$(free_udp_port)
export PITWALL_FEEDS=ksudp:$KS
PW=$BIN/pwctl
store_up() { "$PW" call use_cases.list >/dev/null 2>&1; }
frames_of() { "$PW" session get "$1" 2>/dev/null | jf "[r for r in d['runs'] if r['id'] == '$2'][0]['frame_count']"; }
at_least_frames() { [ "$(frames_of "$1" "$2")" -ge "$3" ] 2>/dev/null; }

start sim "$BIN/pw-sim" --feed ksudp --port "$KS" --rate 60 --quiet
SIM=$LAST_PID
start cap "$BIN/pw-capture" --feed ksudp --port "$KS" --game-host 127.0.0.1
CAP=$LAST_PID
start store "$BIN/pw-store"
wait_for 10 store_up || fail "pw-store answers"
wait_for 10 feed_at_least ksudp frames 60 || fail "ksudp feed runs"

sid=$("$PW" session create general | jf 'd["id"]')
rid=$("$PW" run start "$sid" ksudp | jf 'd["id"]')
wait_for 20 at_least_frames "$sid" "$rid" 300 || fail "the first run records 300 frames"
"$PW" run stop "$sid" "$rid" >/dev/null
"$PW" export "$sid" "$rid" --format csv --out "$TMP/a.csv" 2>/dev/null
rows=$(($(wc -l <"$TMP/a.csv") - 1))
check "the first export has the run's frames ($rows)" test "$rows" -ge 300

# with the capture still there, the feed has a producer: refused
"$BIN/pw-replay" --csv "$TMP/a.csv" --feed ksudp --quiet 2>"$TMP/busy.err"
rc=$?
check "a feed with a running pw-capture: exit 1, saying so" \
	sh -c "test $rc -eq 1 && grep -q 'a pw-capture (or another replay) produces this feed' '$TMP/busy.err'"
kill "$SIM" "$CAP"
wait "$SIM" "$CAP" 2>/dev/null
wait_for 10 feed_is ksudp status down || fail "ksudp down without its capture"

# the segment stays; a second run starts at its sequence and records the replay
rid2=$("$PW" run start "$sid" ksudp | jf 'd["id"]')
"$BIN/pw-replay" --csv "$TMP/a.csv" --feed ksudp --speed 4 --quiet 2>"$TMP/replay.err"
check "pw-replay --csv plays the export to its end (exit 0)" test $? -eq 0
wait_for 10 at_least_frames "$sid" "$rid2" "$rows" || fail "the second run records every replayed frame"
"$PW" run stop "$sid" "$rid2" >/dev/null
"$PW" export "$sid" "$rid2" --format csv --out "$TMP/b.csv" 2>/dev/null
python3 - "$TMP/a.csv" "$TMP/b.csv" <<'PY' && pass "replayed and exported again: the same values (every column but seq and t_ns)" || fail "replayed and exported again: the same values"
import csv, sys
a = list(csv.DictReader(open(sys.argv[1])))
b = list(csv.DictReader(open(sys.argv[2])))
if len(a) != len(b):
    sys.exit("rows: %d vs %d" % (len(a), len(b)))
cols = [c for c in a[0] if c not in ("seq", "t_ns")]
bad = [(i, c, x[c], y[c]) for i, (x, y) in enumerate(zip(a, b)) for c in cols if x[c] != y[c]]
if bad:
    sys.exit("%d cells differ, first %s" % (len(bad), bad[:3]))
# and the channels were really there: speed, rpm, derived marks
if not any(x["speed_kmh"] for x in a) or not any(x["derived"] for x in a):
    sys.exit("the export has no speed or no derived channels")
PY
check "the replayed frames' receive times are the replay's (increasing, new)" python3 - "$TMP/a.csv" "$TMP/b.csv" <<'PY'
import csv, sys
a = [int(r["t_ns"]) for r in csv.DictReader(open(sys.argv[1]))]
b = [int(r["t_ns"]) for r in csv.DictReader(open(sys.argv[2]))]
sys.exit(not (b[0] > a[-1] and all(y >= x for x, y in zip(b, b[1:]))))
PY
check "--speed 4: the replay took about a quarter of the recording" python3 - "$TMP/a.csv" "$TMP/b.csv" <<'PY'
import csv, sys
a = [int(r["t_ns"]) for r in csv.DictReader(open(sys.argv[1]))]
b = [int(r["t_ns"]) for r in csv.DictReader(open(sys.argv[2]))]
ra, rb = (a[-1] - a[0]) / 1e9, (b[-1] - b[0]) / 1e9
sys.exit(not abs(rb - ra / 4) <= 0.15 * ra / 4 + 0.05)
PY

# an export of some channels (time_s first, the run clock) the same way
"$PW" export "$sid" "$rid" --format csv --channels speed_kmh,rpm,gear,steer,lap_time_ms,in_pit \
	--out "$TMP/c.csv" 2>/dev/null
rid3=$("$PW" run start "$sid" ksudp | jf 'd["id"]')
"$BIN/pw-replay" --csv "$TMP/c.csv" --feed ksudp --speed 4 --quiet 2>"$TMP/replay3.err"
check "pw-replay --csv plays an export with options (time_s for its pace)" test $? -eq 0
wait_for 10 at_least_frames "$sid" "$rid3" "$rows" || fail "the third run records every replayed frame"
"$PW" run stop "$sid" "$rid3" >/dev/null
"$PW" export "$sid" "$rid3" --format csv --channels speed_kmh,rpm,gear,steer,lap_time_ms,in_pit \
	--out "$TMP/d.csv" 2>/dev/null
check "... exported again with the same options: the same channel values" python3 - "$TMP/c.csv" "$TMP/d.csv" <<'PY'
import csv, sys
a = list(csv.DictReader(open(sys.argv[1])))
b = list(csv.DictReader(open(sys.argv[2])))
cols = [c for c in a[0] if c != "time_s"]
sys.exit(not (len(a) == len(b) and len(a) > 100 and
              all(x[c] == y[c] for x, y in zip(a, b) for c in cols) and any(x["speed_kmh"] for x in a)))
PY

# a live feed while it plays: up, frames moving, the file's game; --loop until stopped
start loop "$BIN/pw-replay" --csv "$TMP/a.csv" --feed ksudp --rate 100 --loop --quiet
LOOP=$LAST_PID
wait_for 5 feed_is ksudp status up || fail "the feed is up while the replay plays"
check "pwctl feeds: the file's game" test "$(feed_field ksudp game)" = assetto_corsa
f0=$(feed_field ksudp frames)
sleep 1
check "pwctl feeds: about 100 frames a second" python3 -c 'import sys; sys.exit(not 60 <= int(sys.argv[2]) - int(sys.argv[1]) <= 140)' "$f0" "$(feed_field ksudp frames)"
"$PW" tail ksudp --count 1 >"$TMP/tail.out" 2>&1
check "pwctl tail: a replayed frame" grep -q '"game":"assetto_corsa"' "$TMP/tail.out"
kill "$LOOP"
wait "$LOOP"
check "--loop stops on SIGTERM with exit 0" test $? -eq 0
wait_for 5 feed_is ksudp status down || fail "the feed is down once the replay ended"

# bad input
replay_fails() { # name status stderr-part args...
	local name=$1 want=$2 part=$3 rc
	shift 3
	"$BIN/pw-replay" "$@" >/dev/null 2>"$TMP/bad.err"
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -q -- "$part" "$TMP/bad.err"; then
		pass "$name"
	else
		fail "$name" "exit $rc: $(head -c 300 "$TMP/bad.err")"
	fi
}
head -3 "$TMP/a.csv" >"$TMP/short.csv"
printf 'a,b,c\n1,2,3\n' >"$TMP/other.csv"
{ head -2 "$TMP/a.csv"; head -3 "$TMP/a.csv" | tail -1 | sed 's/,assetto_corsa,/,assetto_corsa_xx,/'; } >"$TMP/badrow.csv"
printf 'speed_kmh,rpm\n100,5000\n' >"$TMP/notime.csv"
: >"$TMP/empty.csv"
replay_fails "--csv without --feed: exit 2" 2 "takes --feed NAME" --csv "$TMP/short.csv"
replay_fails "--csv with --rate and --speed: exit 2" 2 "not both" --csv "$TMP/short.csv" --feed ksudp --rate 10 --speed 2
replay_fails "--csv with --port: exit 2" 2 "nothing else" --csv "$TMP/short.csv" --feed ksudp --port 9
replay_fails "--feed naming no feed: exit 2" 2 "--feed must be one of" --csv "$TMP/short.csv" --feed nosuch
replay_fails "a file that is not there: exit 1" 1 "cannot open" --csv "$TMP/nosuch.csv" --feed ksudp
replay_fails "an empty file: exit 1" 1 "the file is empty" --csv "$TMP/empty.csv" --feed ksudp
replay_fails "a CSV of something else: exit 1" 1 "not a CSV of pitwall channels" --csv "$TMP/other.csv" --feed ksudp
replay_fails "a bad row: exit 1 naming its line" 1 'line 3, field 4: "assetto_corsa_xx" is not a game' --csv "$TMP/badrow.csv" --feed ksudp --rate 1000
replay_fails "no time column and no --rate: exit 2" 2 "give --rate HZ" --csv "$TMP/notime.csv" --feed ksudp
"$BIN/pw-replay" --csv "$TMP/notime.csv" --feed ksudp --rate 50 --quiet 2>/dev/null
check "... with --rate it plays" test $? -eq 0
finish
