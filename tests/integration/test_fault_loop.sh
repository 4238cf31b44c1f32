#!/usr/bin/env bash
# pw-test: solo (see tests/run.sh)
# Fault loop: kill -9 the store FAULT_TRIALS times (100) at random moments
# while a 333 Hz run records (pw-sim -> pw-capture -> pw-store): in the
# middle of draining the ring, appending a block, syncing, saving the
# session file or the session index, starting up again. After every
# restart the run resumes with 0 frames lost and not truncated; after the
# final stop frame_count == end_marker - start_marker, and every frame from
# start_marker to end_marker - 1 reads back from the run's file, each once.
. "$(dirname "$0")/lib.sh"
private_bus
KS=$(free_udp_port)
export PITWALL_FEEDS=ksudp:$KS
TRIALS=${FAULT_TRIALS:-100}
PW=$BIN/pwctl
store_up() { "$PW" call use_cases.list >/dev/null 2>&1; }
start_store() {
	start "store$1" "$BIN/pw-store"
	STORE=$LAST_PID
	wait_for 10 store_up
}

start sim "$BIN/pw-sim" --feed ksudp --port "$KS" --rate 333 --quiet
wait_for 5 test -s "$TMP/sim.out"
start cap "$BIN/pw-capture" --feed ksudp --port "$KS" --game-host 127.0.0.1
wait_for 10 feed_at_least ksudp frames 100 || fail "the capture receives the emulator"
start_store 0 || fail "the store starts"
sid=$("$PW" session create general --label "fault loop" | jf 'd["id"]')
rid=$("$PW" run start "$sid" ksudp | jf 'd["id"]')

bad=0
resumed=0
t0=$(now_ms)
for trial in $(seq "$TRIALS"); do
	# a random moment: 0..600 ms after the store answers (a sync each second,
	# a session save every 5 s, blocks written as the ring drains)
	sleep "$(python3 -c 'import random; print(random.randrange(0, 600) / 1000)')"
	kill -9 "$STORE"
	wait "$STORE" 2>/dev/null
	if ! start_store "$trial"; then
		fail "trial $trial: the store does not come back"
		bad=$((bad + 1))
		break
	fi
	st=$("$PW" run get "$sid" "$rid" | jf '"%s %d %s" % (d["status"], d["frames_lost"], d["data_truncated"])')
	if [ "$st" != "recording 0 False" ]; then
		echo "  trial $trial: run is '$st'" >&2
		bad=$((bad + 1))
	fi
	grep -q 'msg="run resumed"' "$TMP/store$trial.log" && resumed=$((resumed + 1))
	rm -f "$TMP/store$((trial - 1)).log" "$TMP/store$((trial - 1)).out"
done
secs=$(( ($(now_ms) - t0) / 1000 ))
check "$TRIALS kill -9 of the store while a run records: resumed every time, 0 frames lost, not truncated ($resumed resumes in $secs s)" \
	test "$bad" -eq 0 -a "$resumed" -eq "$TRIALS"

out=$("$PW" run stop "$sid" "$rid")
fc=$(echo "$out" | jf 'd["frame_count"]')
start_marker=$(echo "$out" | jf 'd["start_marker"]')
end_marker=$(echo "$out" | jf 'd["end_marker"]')
check "after the last stop: frame_count $fc == end_marker - start_marker, frames_lost 0" \
	test "$fc" -eq $((end_marker - start_marker)) -a "$(echo "$out" | jf 'd["frames_lost"]')" = 0
"$PW" export "$sid" "$rid" --channels seq --out "$TMP/seq.csv" 2>"$TMP/export.err"
check "every frame of start_marker .. end_marker - 1 reads back from the run's file, once" \
	python3 - "$TMP/seq.csv" "$start_marker" "$end_marker" <<'PY'
import sys
rows = open(sys.argv[1]).read().split("\n")[1:]
seqs = [int(r.split(",")[1]) for r in rows if r]
want = list(range(int(sys.argv[2]), int(sys.argv[3])))
if seqs != want:
    print("  %d frames read, %d wanted; first difference at %s" % (len(seqs), len(want),
          next((i for i, (a, b) in enumerate(zip(seqs, want)) if a != b), min(len(seqs), len(want)))),
          file=sys.stderr)
    sys.exit(1)
PY
finish
