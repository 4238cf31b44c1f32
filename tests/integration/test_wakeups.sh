#!/usr/bin/env bash
# pw-test: solo (see tests/run.sh)
# Integration: the capture / store / stream path wakes for work, not on timers
# (issue 14). The idle stack sleeps: pw-store, pw-api and pw-capture wake a
# bounded number of times in 3 s without traffic (a 5 ms loop would be 600);
# after 2 s without work the store beats once a second, says so on its status
# page, stays up for the API, and a command ends that at once.
# frame.<feed> is formatted and published only while a bus subscriber wants
# it: without one the store's bus-event counter does not follow the frames;
# with `pwctl events frame.ksudp` listening every frame comes, in order; after
# it left, the counter stops again. With no frame subscriber pw-store drains a
# 333 Hz feed every 20 ms, not at every packet, and a run recording it loses
# nothing; with one it follows the feed frame by frame (its wake-ups follow
# the packets).
# pw-capture's --rcvbuf-mb: bad values refused with their name, a good one
# granted and shown in pwctl feeds --json and /metrics.
. "$(dirname "$0")/lib.sh"
private_bus
KS=$(free_udp_port)
AP=$(tcp_port)
export PITWALL_FEEDS=ksudp:$KS PITWALL_API_PORT=$AP
PW=$BIN/pwctl
PCAP=$ROOT/tests/data/ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap
jf() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
metric() { # NAME: its value in /metrics (the first series)
	python3 -c 'import sys, urllib.request
m = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode()
print(next(l.split()[-1] for l in m.splitlines() if l.startswith(sys.argv[2] + " ") or l.startswith(sys.argv[2] + "{")))' "$AP" "$1"
}
switches() { # PID: voluntary + involuntary context switches of all its threads
	cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(voluntary|nonvoluntary)_ctxt_switches/ { s += $2 } END { print s + 0 }'
}
bus_events() { metric pitwall_store_bus_events_total; }

# --rcvbuf-mb: bad values are refused before anything starts
for bad in 0 2049 12x ""; do
	out=$("$BIN/pw-capture" --feed ksudp --passive --port "$KS" --rcvbuf-mb "$bad" 2>&1)
	rc=$?
	check "pw-capture --rcvbuf-mb '$bad': exit 2 naming the flag" \
		test "$rc" = 2 -a -n "$(grep -e '--rcvbuf-mb must be 1..2048' <<<"$out")"
done
out=$(PITWALL_RCVBUF_MB=0 "$BIN/pw-capture" --feed ksudp --passive --port "$KS" 2>&1)
check "PITWALL_RCVBUF_MB=0 refused with the variable's name and range" \
	test -n "$(grep -e 'PITWALL_RCVBUF_MB must be 1..2048' <<<"$out")"

start cap "$BIN/pw-capture" --feed ksudp --passive --bind 127.0.0.1 --port "$KS" --rcvbuf-mb 48
CAP=$LAST_PID
start store "$BIN/pw-store"
STORE=$LAST_PID
start api "$BIN/pw-api"
API=$LAST_PID
wait_for 10 "$PW" call use_cases.list >/dev/null 2>&1 || fail "store answers"
wait_for 10 metric pitwall_store_up >/dev/null 2>&1 || fail "api answers"
wait_for 5 grep -q "msg=started" "$TMP/cap.log"
granted=$(sed -n 's/.*msg=started.* rcvbuf=\([0-9]*\).*/\1/p' "$TMP/cap.log")
if [ "$(id -u)" = 0 ]; then
	check "--rcvbuf-mb 48 granted (root): rcvbuf=$granted" test "$granted" = $((48 << 20))
fi
rcvbuf_metric_is() { [ "$(metric pitwall_feed_rcvbuf_bytes 2>/dev/null)" = "$1" ]; }
check "the granted buffer in pwctl feeds --json (rcvbuf_bytes)" \
	test "$(feed_field ksudp rcvbuf_bytes)" = "$granted"
check "the granted buffer in /metrics (pitwall_feed_rcvbuf_bytes)" \
	wait_for 5 rcvbuf_metric_is "$granted"

# idle: nothing wakes on a short timer
sleep 1
s0=$(switches "$STORE")
a0=$(switches "$API")
c0=$(switches "$CAP")
sleep 3
s=$(($(switches "$STORE") - s0))
a=$(($(switches "$API") - a0))
c=$(($(switches "$CAP") - c0))
check "idle pw-store wakes at its housekeeping only: $s switches in 3 s (< 60)" test "$s" -lt 60
check "idle pw-api sleeps: $a switches in 3 s (< 30)" test "$a" -lt 30
check "idle pw-capture wakes for its heartbeat only: $c switches in 3 s (< 20)" test "$c" -lt 20

# idle for 2 s: the store beats once a second and its status page says so; the API still
# counts it up; a command ends the idle period at once
beat_period() { python3 -c 'import struct, sys
print(struct.unpack_from("<i", open("/dev/shm/pitwall-store." + sys.argv[1], "rb").read(), 20)[0])' "$INST"; }
wait_for 5 test "$(beat_period)" = 1000 || fail "the idle store says it beats once a second"
s0=$(switches "$STORE")
sleep 3
s=$(($(switches "$STORE") - s0))
check "idle pw-store wakes once a second: $s switches in 3 s (< 12)" test "$s" -lt 12
check "an idle store is up in /metrics (pitwall_store_up 1)" test "$(metric pitwall_store_up)" = 1
"$PW" call use_cases.list >/dev/null
check "a command ends the idle period: beat_period_ms 0" test "$(beat_period)" = 0

# no subscriber: the frames are not published (only feed status and lap events are)
e0=$(bus_events)
"$BIN/pw-replay" "$PCAP" --port "$KS" --pps 2000 --count 2000 --quiet 2>/dev/null
wait_for 10 feed_at_least ksudp frames 2000 || fail "2000 frames captured"
sleep 0.5
e1=$(bus_events)
check "no subscriber: 2000 frames, $((e1 - e0)) bus events (< 100: no frame.ksudp)" \
	test $((e1 - e0)) -lt 100

# `pwctl events frame.ksudp` (EV its pid, its lines in $TMP/events.out), returning once its
# subscription reached the store: a few packets at a time until the first frame comes
subscribe_frames() { # COUNT TIMEOUT_S
	start events "$PW" events frame.ksudp --count "$1" --timeout "$2"
	EV=$LAST_PID
	for _ in $(seq 50); do
		"$BIN/pw-replay" "$PCAP" --port "$KS" --pps 1000 --count 20 --quiet 2>/dev/null
		[ -s "$TMP/events.out" ] && break
	done
}

# a subscriber: every frame comes, in order, while it listens
subscribe_frames 3000 30
n0=$(wc -l <"$TMP/events.out")
"$BIN/pw-replay" "$PCAP" --port "$KS" --pps 2000 --count 2000 --quiet 2>/dev/null
wait_for 10 test "$(wc -l <"$TMP/events.out")" -ge $((n0 + 2000))
python3 - "$TMP/events.out" "$n0" >"$TMP/seq.txt" 2>&1 <<'PY'
import json, sys
seqs = [json.loads(l.split(" ", 1)[1])["seq"] for l in open(sys.argv[1]) if l.startswith("frame.ksudp ")]
tail = seqs[int(sys.argv[2]):]
gaps = sum(1 for a, b in zip(tail, tail[1:]) if b != a + 1)
print("frames %d after the subscription, gaps %d" % (len(tail), gaps))
sys.exit(0 if len(tail) >= 2000 and gaps == 0 else 1)
PY
check "a subscriber gets every frame in order ($(cat "$TMP/seq.txt"))" test $? = 0
kill "$EV" 2>/dev/null
wait "$EV" 2>/dev/null
sleep 1 # the unsubscription reaches the store
e0=$(bus_events)
"$BIN/pw-replay" "$PCAP" --port "$KS" --pps 2000 --count 2000 --quiet 2>/dev/null
sleep 1
e1=$(bus_events)
check "the subscriber left: 2000 frames, $((e1 - e0)) bus events (< 100)" test $((e1 - e0)) -lt 100

# a 333 Hz feed and no frame subscriber: the store drains on its quiet pace (every 20 ms,
# LOOP_QUIET_NS in store/loop.c), not at every packet; a run records it whole
sid=$("$PW" session create general | jf 'd["id"]')
rid=$("$PW" run start "$sid" ksudp | jf 'd["id"]')
s0=$(switches "$STORE")
"$BIN/pw-replay" "$PCAP" --port "$KS" --count 999 --speed 5.7 --quiet 2>/dev/null # 58 Hz x 5.7: 333 Hz
s=$(($(switches "$STORE") - s0))
check "no frame subscriber: pw-store drains every 20 ms at 333 Hz, $s switches for 999 packets in 3 s (< 300; frame by frame > 999)" \
	test "$s" -lt 300
"$PW" run stop "$sid" "$rid" >"$TMP/run.json"
check "the run recorded every frame (999 = end - start, 0 lost)" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r["frame_count"] == 999 == r["end_marker"] - r["start_marker"] and r["frames_lost"] == 0 else 1)' "$TMP/run.json"

# with a frame.ksudp subscriber the store follows the packets: a frame is on the bus as it comes
subscribe_frames 100000 60
s0=$(switches "$STORE")
"$BIN/pw-replay" "$PCAP" --port "$KS" --count 999 --speed 5.7 --quiet 2>/dev/null
s=$(($(switches "$STORE") - s0))
check "a frame subscriber: pw-store wakes with the packets at 333 Hz, $s switches for 999 packets in 3 s (> 500)" \
	test "$s" -gt 500
kill "$EV" 2>/dev/null
wait "$EV" 2>/dev/null
finish
