#!/usr/bin/env bash
# Integration + faults: runs recorded by pw-store from live rings.
# pw-sim -> pw-capture -> pw-store; lifecycle and errors through pwctl; laps of
# emulated laps; kill -9 of the store mid-run (zero frames lost when the ring
# still holds the next frame); kill -9 of the capture mid-run; a store down
# longer than the ring holds; a full disk; a torn frame file.
. "$(dirname "$0")/lib.sh"
bp=$(free_tcp_port)
export PITWALL_BUS=tcp://127.0.0.1:$bp PITWALL_BUS_IN=tcp://127.0.0.1:$((bp + 1))
KS=$(free_udp_port)
FZ=$(free_udp_port)
export PITWALL_FEEDS=ksudp:$KS,forza:$FZ,f1:$(free_udp_port)
PW=$BIN/pwctl
STORE_BIN=${PW_STORE_BIN:-$BIN/pw-store}
store_up() { "$PW" call use_cases.list >/dev/null 2>&1; }
start_store() {
	start store "$STORE_BIN"
	STORE=$LAST_PID
	wait_for 10 store_up
}
run_field() { "$PW" run get "$1" "$2" | jf "d['$3']"; }

start sim-ks "$BIN/pw-sim" --feed ksudp --port "$KS" --rate 333 --quiet
wait_for 5 test -s "$TMP/sim-ks.out"
start cap-ks "$BIN/pw-capture" --feed ksudp --port "$KS" --game-host 127.0.0.1
CAPKS=$LAST_PID
start cap-fz "$BIN/pw-capture" --feed forza --port "$FZ" --bind 127.0.0.1
wait_for 10 feed_at_least ksudp frames 100
start_store || fail "store starts"

# --- lifecycle and errors --------------------------------------------------------
sid=$("$PW" session create general --label runs | jf 'd["id"]')
out=$("$PW" run start "$sid" ksudp --label first)
rid=$(echo "$out" | jf 'd["id"]')
check "run start: recording, start_marker = the ring's position" \
	test "$(echo "$out" | jf 'd["status"]')/$(echo "$out" | jf 'd["end_marker"]')" = "recording/None"
"$PW" run start "$sid" ksudp 2>"$TMP/err" >/dev/null
check "a second run in the session while one records: conflict" grep -q conflict "$TMP/err"
"$PW" run start "$sid" nosuchfeed 2>"$TMP/err" >/dev/null
check "unknown feed: bad_request" grep -q bad_request "$TMP/err"
sid2=$("$PW" session create general | jf 'd["id"]')
"$PW" run start "$sid2" f1 2>"$TMP/err" >/dev/null
check "a configured feed without a capture: conflict" grep -q conflict "$TMP/err"
"$PW" call run.start "{\"session_id\":\"$sid2\",\"feed_name\":\"ksudp\",\"merge_feeds\":[\"ksudp\"]}" 2>"$TMP/err" >/dev/null
check "merge_feeds repeating the primary: bad_request" grep -q bad_request "$TMP/err"
"$PW" call run.start "{\"session_id\":\"$sid2\",\"feed_name\":\"ksudp\",\"merge_feeds\":\"forza\"}" 2>"$TMP/err" >/dev/null
check "merge_feeds not an array: bad_request" grep -q bad_request "$TMP/err"
"$PW" session complete "$sid" 2>"$TMP/err" >/dev/null
check "complete while a run records: conflict" grep -q conflict "$TMP/err"
"$PW" session delete "$sid" 2>"$TMP/err" >/dev/null
check "delete while a run records: conflict" grep -q conflict "$TMP/err"
frames_at_least() { [ "$(run_field "$sid" "$rid" frame_count)" -ge "$1" ]; }
wait_for 10 frames_at_least 300 &&
	pass "frames become durable while the run records (frame_count grows each second)" ||
	fail "frames become durable while the run records"

# --- kill -9 the store mid-run: resumes with zero loss -------------------------------
kill -9 "$STORE"
wait "$STORE" 2>/dev/null
sleep 1
start_store
grep -q "run resumed" "$TMP/store.log" && pass "restarted store resumes the recording run" ||
	fail "restarted store resumes the recording run"

# --- kill -9 the capture mid-run: the run continues when it comes back ---------------
seq_before=$(feed_field ksudp write_seq)
kill -9 "$CAPKS"
wait "$CAPKS" 2>/dev/null
sleep 0.5
start cap-ks2 "$BIN/pw-capture" --feed ksudp --port "$KS" --game-host 127.0.0.1
CAPKS=$LAST_PID
wait_for 10 feed_at_least ksudp write_seq $((seq_before + 500)) || fail "capture back"
out=$("$PW" run stop "$sid" "$rid")
fc=$(echo "$out" | jf 'd["frame_count"]')
span=$(echo "$out" | jf 'd["end_marker"] - d["start_marker"]')
check "stopped run: frame_count == end_marker - start_marker (zero lost across both kills)" \
	test "$fc" = "$span" -a "$fc" -gt 1000
check "no truncation" test "$(echo "$out" | jf 'd["data_truncated"]')/$(echo "$out" | jf 'd["frames_lost"]')" = "False/0"
"$PW" export "$sid" "$rid" --format csv --out "$TMP/run.csv" 2>/dev/null
check "export CSV: header + frame_count rows" test "$(wc -l <"$TMP/run.csv")" -eq $((fc + 1))
"$PW" export "$sid" "$rid" --format json 2>/dev/null | python3 -c '
import json, sys
seqs = [json.loads(l)["seq"] for l in sys.stdin]
assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "gap in sequence"
assert all(s >= int(sys.argv[1]) for s in seqs)
' "$(echo "$out" | jf 'd["start_marker"]')" && pass "export JSON: every sequence from start to end, in order" ||
	fail "export JSON: every sequence from start to end, in order"
check "the session caches the car name from the feed" \
	test "$("$PW" session get "$sid" | jf 'd["car_name"]')" = pitwall_gt3

# --- laps: two emulated Forza laps at full speed -----------------------------------
sid3=$("$PW" session create general --label laps | jf 'd["id"]')
rid3=$("$PW" run start "$sid3" forza | jf 'd["id"]')
"$BIN/pw-sim" --feed forza --format fm7 --port "$FZ" --rate 60 --laps 2 --fast --quiet >"$TMP/truth.json" 2>/dev/null
ref=$(head -1 "$TMP/truth.json" | jf 'd["reference_lap_ms"]')
wait_for 10 feed_at_least forza frames 10000
sleep 1.5 # the merge/lap settle window
"$PW" run stop "$sid3" "$rid3" >/dev/null
"$PW" laps "$sid3" >"$TMP/laps.json"
python3 - "$ref" "$TMP/laps.json" <<'PY' && pass "laps of the run: out lap + a flying lap of the emulator's reference time" || fail "laps of the run" "$(cat "$TMP/laps.json" | head -c 600)"
import json, sys
ref = int(sys.argv[1])
laps = json.load(open(sys.argv[2]))
assert len(laps) == 2, laps
assert not laps[0]["valid"] and laps[0]["invalid_reason"] in ("out_lap", "incomplete"), laps[0]
assert laps[1]["valid"] and abs(laps[1]["time_ms"] - ref) <= 2, (laps[1], ref)
PY

# --- a store down longer than the ring holds --------------------------------------------
export PITWALL_RING_FRAMES=256
FZ2=$(free_udp_port)
kill "$(feed_field forza pid)" 2>/dev/null
sleep 0.5
rm -f /dev/shm/pitwall."$INST".forza
start cap-fz2 "$BIN/pw-capture" --feed forza --port "$FZ" --bind 127.0.0.1
wait_for 5 feed_is forza status stale
unset PITWALL_RING_FRAMES
start sim-fz "$BIN/pw-sim" --feed forza --port "$FZ" --rate 333 --quiet
SIMFZ=$LAST_PID
wait_for 5 feed_at_least forza frames 50
sid4=$("$PW" session create general | jf 'd["id"]')
rid4=$("$PW" run start "$sid4" forza | jf 'd["id"]')
sleep 1.5
kill -9 "$STORE"
wait "$STORE" 2>/dev/null
sleep 2 # 666 frames at 333 Hz > 256 slots
start_store
out=$("$PW" run get "$sid4" "$rid4")
check "store down longer than the ring: run stopped, data_truncated, frames_lost counted" \
	test "$(echo "$out" | jf 'd["status"], d["data_truncated"], d["frames_lost"] > 0, d["stop_reason"]')" = \
	"('stopped', True, True, 'ring_lapped_while_down')"
kill "$SIMFZ"

# --- a torn frame file is cut at the last complete block, never a crash --------------
frames=$(ls "$PITWALL_DATA_DIR/sessions/$sid"/*.frames)
kill "$STORE"
wait "$STORE"
size=$(stat -c %s "$frames")
truncate -s $((size - 37)) "$frames"
start_store
"$PW" export "$sid" "$rid" --format json >"$TMP/torn.jsonl" 2>"$TMP/torn.err"
check "export of a torn frame file: complete blocks exported, the tail reported" \
	test "$(wc -l <"$TMP/torn.jsonl")" -gt 0 -a -n "$(grep -i 'torn' "$TMP/torn.err")"
check "the store survived it" store_up

# --- disk full: a 96 KiB data disk ----------------------------------------------------------
kill "$STORE"
wait "$STORE"
SMALL=$TMP/small
mkdir -p "$SMALL"
if mount -t tmpfs -o size=96k tmpfs "$SMALL" 2>/dev/null; then
	export PITWALL_DATA_DIR=$SMALL
	start_store
	keep=$("$PW" session create general --label keep | jf 'd["id"]')
	sid5=$("$PW" session create general --label full | jf 'd["id"]')
	rid5=$("$PW" run start "$sid5" ksudp | jf 'd["id"]')
	stopped() { [ "$(run_field "$sid5" "$rid5" status)" = stopped ]; }
	if wait_for 60 stopped; then
		out=$("$PW" run get "$sid5" "$rid5")
		check "disk full: the run stops with stop_reason disk_full" \
			test "$(echo "$out" | jf 'd["stop_reason"]')" = disk_full
		grep -q 'run stopped by a write error' "$TMP/store.log" && pass "and the store logs a clear error" ||
			fail "and the store logs a clear error"
		n=$("$PW" export "$sid5" "$rid5" --format json 2>/dev/null | wc -l)
		check "every frame made durable before the disk filled is readable" test "$n" -gt 0
		check "an earlier session is intact" test "$("$PW" session get "$keep" | jf 'd["label"]')" = keep
		dd if=/dev/zero of="$SMALL/filler" bs=1k 2>/dev/null # every byte left
		"$PW" session create general 2>"$TMP/err" >/dev/null
		check "a command that must write on a full disk: disk_full, nothing half-written" \
			test -n "$(grep disk_full "$TMP/err")" -a "$(ls "$SMALL/sessions" | grep -c tmp)" -eq 0
		rm -f "$SMALL/filler"
		"$PW" run delete "$sid5" "$rid5" >/dev/null
		check "after deleting the run to free space, the same command succeeds" \
			test -n "$("$PW" session create general | jf 'd["id"]')"
	else
		fail "disk full: the run stops"
	fi
	kill "$STORE"
	wait "$STORE"
	umount "$SMALL"
else
	echo "SKIP disk full: cannot mount a tmpfs here (needs root)" >&2
fi
finish
