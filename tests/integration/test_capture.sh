#!/usr/bin/env bash
# Integration: pw-sim -> pw-capture -> segment -> pwctl, for every feed and
# format; offline decode and replay of the real captures; relay; restart;
# garbage; re-handshake; clean shutdown.
. "$(dirname "$0")/lib.sh"
DATA=$ROOT/tests/data

# --- every feed, every format: emulator values arrive in the ring -----------
sim_feed() { # feed format
	local feed=$1 fmt=$2 port name=$1-$2
	port=$(free_udp_port)
	local sim cap
	local simcmd=("$BIN/pw-sim" --feed "$feed" --format "$fmt" --port "$port" --rate 100
		--mode laps --seed 7 --quiet --dump "$TMP/sim-$name.jsonl")
	case $feed in
	ksudp | acc) # the emulator is the game server; the capture handshakes with it
		start "sim-$name" "${simcmd[@]}"
		sim=$LAST_PID
		wait_for 5 test -s "$TMP/sim-$name.out" # ground truth printed: it listens
		start "cap-$name" "$BIN/pw-capture" --feed "$feed" --port "$port" --game-host 127.0.0.1
		cap=$LAST_PID
		;;
	*) # the game sends to the capture's port
		start "cap-$name" "$BIN/pw-capture" --feed "$feed" --port "$port" --bind 127.0.0.1
		cap=$LAST_PID
		wait_for 5 feed_is "$feed" status stale
		start "sim-$name" "${simcmd[@]}"
		sim=$LAST_PID
		;;
	esac
	if wait_for 10 feed_at_least "$feed" frames 200 && feed_is "$feed" status up; then
		pass "$name: frames arrive, status up"
	else
		fail "$name: frames arrive, status up" "frames=$(feed_field "$feed" frames)"
	fi
	"$BIN/pwctl" tail "$feed" --count 100 --timeout 5 >"$TMP/ring-$name.jsonl"
	check "$name: ring frames carry the emulator's values" \
		python3 "$ROOT/tests/integration/compare_frames.py" "$TMP/ring-$name.jsonl" "$TMP/sim-$name.jsonl"
	check "$name: no wrong-size or unknown packets" \
		test "$(feed_field "$feed" wrong_size)$(feed_field "$feed" unknown_format)" = "00"
	check "$name: pwctl feeds shows the game" test -n "$(feed_field "$feed" game)"
	kill "$sim" "$cap" 2>/dev/null
	wait "$cap" 2>/dev/null
	local rc=$?
	check "$name: SIGTERM exits cleanly and the feed reads down" \
		test "$rc" -eq 0 -a "$(feed_field "$feed" status)" = down
	rm -f /dev/shm/pitwall."$INST"."$feed"
}

for ff in ksudp:rtcarinfo pcars:v1 pcars:v2 acc:broadcast forza:sled forza:fm7 forza:fh \
	forza:fm2023 f1:2023 f1:2024 f1:2025; do
	sim_feed "${ff%%:*}" "${ff#*:}"
done

# metadata travels: AC's handshake response names car, driver and track
port=$(free_udp_port)
start sim-meta "$BIN/pw-sim" --feed ksudp --port "$port" --rate 60 --quiet
start cap-meta "$BIN/pw-capture" --feed ksudp --port "$port" --game-host 127.0.0.1
if wait_for 10 feed_at_least ksudp frames 10; then
	car=$(feed_field ksudp car)
	track=$(feed_field ksudp track)
	check "ksudp: car and track from the handshake response in pwctl feeds" \
		test -n "$car" -a -n "$track"
	"$BIN/pwctl" feeds | grep -q "^ksudp *up" && pass "pwctl feeds table shows ksudp up" ||
		fail "pwctl feeds table shows ksudp up"
else
	fail "ksudp: metadata run got frames"
fi
kill "${PIDS[-1]}" "${PIDS[-2]}" 2>/dev/null
wait "${PIDS[-1]}" 2>/dev/null
rm -f /dev/shm/pitwall."$INST".ksudp

# --- offline decode of the real captures ------------------------------------
n=$("$BIN/pw-capture" --feed ksudp --decode "$DATA/ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap" 2>/dev/null | wc -l)
check "decode AC Monza pcap: 8641 frames" test "$n" -eq 8641
n=$("$BIN/pw-capture" --feed ksudp --decode "$DATA/ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.raw" 2>/dev/null | wc -l)
check "decode AC Monza raw: 8641 frames" test "$n" -eq 8641
"$BIN/pw-capture" --feed ksudp --decode "$DATA/ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap" 2>/dev/null |
	python3 -c '
import json, sys
fr = [json.loads(l) for l in sys.stdin]
laps = sorted({f["lap"] for f in fr})
last = [f["last_lap_ms"] for f in fr if f.get("lap") == 1]
assert laps == [0, 1], laps
assert last and last[-1] == 344684, last[-1:]
assert all(0 <= f["gear"] <= 5 for f in fr)
assert fr[0]["t_ns"] > 1487894400 * 10**9   # pcap receive times kept
' && pass "decode AC Monza: laps 0->1, 344.684 s lap, gears N..5th, times kept" ||
	fail "decode AC Monza: laps 0->1, 344.684 s lap, gears N..5th, times kept"
n=$("$BIN/pw-capture" --feed pcars --decode "$DATA/pcars1/vthinsel_pcars_v1_session2.raw" 2>/dev/null | wc -l)
check "decode PCARS1 session: 1860 frames" test "$n" -eq 1860
"$BIN/pw-capture" --feed ksudp --decode /nonexistent 2>/dev/null
check "decode of a missing file fails cleanly" test $? -eq 1
head -c 5000 "$DATA/ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap" >"$TMP/trunc.pcap"
n=$("$BIN/pw-capture" --feed ksudp --decode "$TMP/trunc.pcap" 2>/dev/null | wc -l)
check "decode of a truncated pcap keeps the complete packets" test "$n" -ge 10

# --- replay the real AC capture at full speed into a passive capture --------
port=$(free_udp_port)
start cap-replay "$BIN/pw-capture" --feed ksudp --passive --port "$port" --bind 127.0.0.1
cap=$LAST_PID
wait_for 5 feed_is ksudp status stale
"$BIN/pw-replay" "$DATA/ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap" --port "$port" --max --quiet 2>"$TMP/replay.log"
check "pw-replay --max exits 0" test $? -eq 0
if wait_for 10 feed_at_least ksudp frames 8641; then
	check "replayed Monza: exactly 8641 frames, 0 kernel drops" \
		test "$(feed_field ksudp frames)/$(feed_field ksudp kernel_drops)" = "8641/0"
else
	fail "replayed Monza: exactly 8641 frames" "frames=$(feed_field ksudp frames)"
fi
"$BIN/pwctl" tail ksudp --from-start --count 8641 --timeout 5 | python3 -c '
import json, sys
fr = [json.loads(l) for l in sys.stdin]
assert len(fr) == 8641 and [f["seq"] for f in fr] == list(range(fr[0]["seq"], fr[0]["seq"] + 8641))
' && pass "ring holds the 8641 replayed frames in sequence" || fail "ring holds the 8641 replayed frames in sequence"

# --- restart: kill -9, the sequence continues ---------------------------------
seq_before=$(feed_field ksudp write_seq)
kill -9 "$cap"
wait "$cap" 2>/dev/null
wait_for 5 feed_is ksudp status down && pass "killed capture reads down" || fail "killed capture reads down"
start cap-replay2 "$BIN/pw-capture" --feed ksudp --passive --port "$port" --bind 127.0.0.1
cap=$LAST_PID
wait_for 5 feed_is ksudp status stale
"$BIN/pw-replay" "$DATA/ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.raw" --feed ksudp --port "$port" --max --count 100 --quiet 2>/dev/null
wait_for 5 feed_at_least ksudp write_seq $((seq_before + 100)) &&
	pass "restarted capture continues the ring sequence" || fail "restarted capture continues the ring sequence"

# --- garbage of every size is counted, never fatal ----------------------------
python3 - "$port" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for n in list(range(0, 1500, 7)) + [328] * 20 + [4096, 9000]:
    s.sendto(os.urandom(n), ("127.0.0.1", int(sys.argv[1])))
PY
wait_for 5 feed_at_least ksudp wrong_size 200 && kill -0 "$cap" &&
	pass "garbage datagrams are counted as wrong size and the capture lives" ||
	fail "garbage datagrams are counted as wrong size and the capture lives" "wrong_size=$(feed_field ksudp wrong_size)"
kill "$cap"
wait "$cap" 2>/dev/null
rm -f /dev/shm/pitwall."$INST".ksudp

# --- relay: every raw packet forwarded unchanged to a second capture ----------
p1=$(free_udp_port)
p2=$(free_udp_port)
start cap-relay-b "$BIN/pw-capture" --feed forza --instance "${INST}b" --port "$p2" --bind 127.0.0.1
start cap-relay-a "$BIN/pw-capture" --feed forza --port "$p1" --bind 127.0.0.1 --relay "127.0.0.1:$p2"
wait_for 5 feed_is forza status stale
wait_for 5 feed_is forza status stale "${INST}b"
"$BIN/pw-sim" --feed forza --format fm7 --port "$p1" --rate 500 --duration 2 --fast --quiet >/dev/null 2>&1
sent=$(python3 -c 'print(2*500)')
wait_for 5 feed_at_least forza frames "$sent" "${INST}b"
check "relay: both captures got every packet" \
	test "$(feed_field forza received)/$(feed_field forza relayed)" = "$(feed_field forza received "${INST}b")/$(feed_field forza received "${INST}b")"
kill "${PIDS[-1]}" "${PIDS[-2]}" 2>/dev/null
wait "${PIDS[-1]}" "${PIDS[-2]}" 2>/dev/null
rm -f /dev/shm/pitwall."$INST".forza /dev/shm/pitwall."$INST"b.forza

# --- a client feed keeps handshaking until the game appears -------------------
port=$(free_udp_port)
start cap-early "$BIN/pw-capture" --feed ksudp --port "$port" --game-host 127.0.0.1
wait_for 10 feed_at_least ksudp handshakes 2 && pass "ksudp re-handshakes while the game is silent" ||
	fail "ksudp re-handshakes while the game is silent"
start sim-late "$BIN/pw-sim" --feed ksudp --port "$port" --rate 60 --quiet
wait_for 10 feed_at_least ksudp frames 20 && pass "ksudp connects once the game starts" ||
	fail "ksudp connects once the game starts"

# --- a second capture on the same feed is refused --------------------------------
"$BIN/pw-capture" --feed ksudp --port "$(free_udp_port)" --game-host 127.0.0.1 >/dev/null 2>"$TMP/dup.log" &
dup=$!
wait_for 5 bash -c "! kill -0 $dup 2>/dev/null"
wait "$dup"
rc=$?
check "a second capture of the same feed exits with an error" test "$rc" -ne 0
grep -q "already captured" "$TMP/dup.log" && pass "and says why" || fail "and says why"
finish
