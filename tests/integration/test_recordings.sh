#!/usr/bin/env bash
# Integration: raw-packet recordings. The real AC capture is replayed into a
# passive pw-capture while pw-store records; the recorded pcap must give back
# every datagram byte for byte (and open in tshark). Commands and their typed
# errors, events, a lapped ring's exact loss count, kill -9 and SIGTERM
# restarts that resume exactly (torn tail cut), a full disk and a file-size
# limit that stop the recording with everything synced still valid.
. "$(dirname "$0")/lib.sh"
AC=$ROOT/tests/data/ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap
bp=$(free_tcp_port)
export PITWALL_BUS=tcp://127.0.0.1:$bp PITWALL_BUS_IN=tcp://127.0.0.1:$((bp + 1))
port=$(free_udp_port)
port2=$(free_udp_port)
export PITWALL_FEEDS="ksudp:$port,pcars:$port2"
PW=$BIN/pwctl
RECS=$PITWALL_DATA_DIR/recordings

store_up() { "$PW" call use_cases.list >/dev/null 2>&1; }
start_store() { # [wrapper...]: the store, optionally run through a wrapper command
	start store "$@" "$BIN/pw-store"
	STORE=$LAST_PID
	wait_for 10 store_up
}
stop_store() { kill "$STORE"; wait "$STORE"; }
rec() { "$PW" recording get "$1" | jf "d$2"; }
recx() { "$PW" recording get "$1" | jf "$2"; }
rec_is() { [ "$(rec "$1" "$2" 2>/dev/null)" = "$3" ]; }
# refused CODE command... : exit 1 with the typed error code on stderr
refused() {
	local code=$1
	shift
	"$@" >/dev/null 2>"$TMP/err"
	[ $? -eq 1 ] && grep -q "$code" "$TMP/err"
}

# pcap helper: "check FILE" prints the record count (exit 1 on a torn or
# foreign file); "same REC ORIG a:b..." compares REC's payloads with the
# concatenated slices of ORIG's and checks addresses and ports.
cat >"$TMP/pc.py" <<'PY'
import struct, sys

def records(path):
    d = open(path, 'rb').read()
    magic, = struct.unpack('<I', d[:4])
    assert magic in (0xa1b2c3d4, 0xa1b23c4d), hex(magic)
    assert struct.unpack('<I', d[20:24])[0] == 101, 'LINKTYPE_RAW'
    out, pos = [], 24
    while pos < len(d):
        assert len(d) - pos >= 16, 'torn record header at %d' % pos
        sec, frac, incl, orig = struct.unpack('<IIII', d[pos:pos + 16])
        assert incl == orig and len(d) - pos - 16 >= incl, 'torn record at %d' % pos
        ip = d[pos + 16:pos + 16 + incl]
        hl = (ip[0] & 15) * 4
        assert ip[0] >> 4 == 4 and ip[9] == 17 and struct.unpack('>H', ip[2:4])[0] == incl
        sport, dport, ulen = struct.unpack('>HHH', ip[hl:hl + 6])
        assert ulen == incl - hl
        out.append((sec * 10**9 + frac * (1 if magic == 0xa1b23c4d else 1000),
                    ip[12:16], sport, dport, ip[hl + 8:]))
        pos += 16 + incl
    return out

if sys.argv[1] == 'check':
    print(len(records(sys.argv[2])))
else:
    rec, orig = records(sys.argv[2]), records(sys.argv[3])
    want = []
    for s in sys.argv[4:]:
        a, b = map(int, s.split(':'))
        want += [r[4] for r in orig[a:b]]
    got = [r[4] for r in rec]
    assert len(got) == len(want), (len(got), len(want))
    assert got == want, 'payloads differ at %d' % next(i for i in range(len(got)) if got[i] != want[i])
    assert all(r[1] == bytes([127, 0, 0, 1]) for r in rec), 'source address'
    assert len({r[3] for r in rec}) == 1, 'one destination port'
    assert all(rec[i][0] <= rec[i + 1][0] for i in range(len(rec) - 1)), 'times in order'
PY
pcheck() { python3 "$TMP/pc.py" check "$@"; }
torn() { ! pcheck "$1" >/dev/null 2>&1; }
psame() { python3 "$TMP/pc.py" same "$@"; }

start_store && pass "store answers commands" || fail "store answers commands"
start cap "$BIN/pw-capture" --feed ksudp --passive --port "$port" --bind 127.0.0.1
CAP=$LAST_PID
wait_for 5 feed_is ksudp status stale
start events "$PW" events recording. --count 4 --timeout 60
wait_for 5 test -e "$TMP/events.out"
sleep 0.5 # a SUB socket needs a moment before publishers' messages reach it

# --- record the real capture, replayed at full speed ----------------------------
out=$("$PW" recording start --name "monza replay" --use-case car_grip --notes "AC A8 LMS")
id=$(echo "$out" | jf 'd["id"]')
check "start: an active recording with the given fields" \
	test "$(echo "$out" | jf '[d["status"], d["name"], d["use_case"], d["notes"], d["feeds"], d["stopped_at"]]')" = \
	"['active', 'monza replay', 'car_grip', 'AC A8 LMS', [], None]"
check "a second start: conflict" refused conflict "$PW" recording start --name again
"$BIN/pw-replay" "$AC" --port "$port" --max --quiet 2>"$TMP/replay.log"
check "pw-replay --max exits 0" test $? -eq 0
wait_for 10 feed_is ksudp received 8641 || fail "capture received 8641" "received=$(feed_field ksudp received)"
if wait_for 10 rec_is "$id" '["feeds"][0]["packets"]' 8641; then
	pass "the recording holds 8641 packets"
else
	fail "the recording holds 8641 packets" "$(rec "$id" '["feeds"]')"
fi
out=$("$PW" recording stop)
check "stop: stopped, reason stopped, game filled from the feed's metadata" \
	test "$(echo "$out" | jf '[d["status"], d["stop_reason"], d["game"], d["stopped_at"] is not None]')" = \
	"['stopped', 'stopped', 'assetto_corsa', True]"
f=$RECS/$id/ksudp.pcap
check "the recorded pcap equals the original packet for packet" psame "$f" "$AC" 0:8641
if command -v tshark >/dev/null; then
	tshark -r "$f" -T fields -e ip.src -e udp.dstport -e udp.length 2>/dev/null | sort | uniq -c >"$TMP/tshark.txt"
	check "tshark decodes it: 8641 UDP datagrams 127.0.0.1 -> port $port, 336 bytes" \
		test "$(awk '{print $1, $2, $3, $4}' "$TMP/tshark.txt")" = "8641 127.0.0.1 $port 336"
else
	echo "SKIP tshark not installed"
fi
check "manifest.json on disk: stopped, 8641 packets, bytes = file size, none lost" \
	test "$(jf '[d["status"], d["feeds"][0]["packets"], d["feeds"][0]["bytes"], d["feeds"][0]["packets_lost"], "resume" in d]' <"$RECS/$id/manifest.json")" = \
	"['stopped', 8641, $(stat -c %s "$f"), 0, False]"
check "pwctl recording data prints the file's absolute path" \
	test "$("$PW" recording data "$id" ksudp 2>/dev/null)" = "$(realpath "$f")"
check "data of a feed without packets: not_found" refused not_found "$PW" recording data "$id" pcars
check "data of an unknown feed: not_found" refused not_found "$PW" recording data "$id" forza
check "pwctl recordings lists it with its packet count" \
	grep -q "^$id  stopped  monza replay .* 8641  " <("$PW" recordings)
check "recording.list: JSON array with it" test "$("$PW" recordings --json | jf '[r["id"] for r in d]')" = "['$id']"

# --- typed errors ---------------------------------------------------------------
check "stop with nothing active: conflict" refused conflict "$PW" recording stop
check "stop of a stopped recording: conflict" refused conflict "$PW" recording stop "$id"
check "get of a malformed id: bad_request" refused bad_request "$PW" recording get not-an-id
check "get of an unknown id: not_found" refused not_found "$PW" recording get 00000000-0000-4000-8000-000000000000
check "path traversal in the id: bad_request" refused bad_request "$PW" recording delete ../../sessions
check "path traversal in the feed: bad_request" refused bad_request "$PW" recording data "$id" ../manifest
check "a feed name with a slash: bad_request" refused bad_request "$PW" call recording.data "{\"id\":\"$id\",\"feed\":\"a/b\"}"
for bad in '{"game":"no_such_game"}' '{"use_case":"drifting"}' '{"colour":"red"}' '{"name":7}' \
	"{\"name\":\"$(head -c 300 /dev/zero | tr '\0' x)\"}" "{\"notes\":\"$(head -c 5000 /dev/zero | tr '\0' x)\"}"; do
	refused bad_request "$PW" call recording.start "$bad" || fail "recording.start $bad -> bad_request"
done
pass "malformed recording.start arguments -> bad_request"
check "the refused starts left no recording behind" test "$("$PW" recordings --json | jf 'len(d)')" = 1
check "the data dir holds only the one recording" test "$(ls "$RECS")" = "$id"

# --- a ring that laps the store: exact loss count ------------------------------
start cap2 "$BIN/pw-capture" --feed pcars --port "$port2" --bind 127.0.0.1 --ring-raw-mb 1
CAP2=$LAST_PID
wait_for 5 feed_is pcars status stale
id2=$("$PW" recording start --name lapped --game assetto_corsa | jf 'd["id"]')
kill -STOP "$STORE"
"$BIN/pw-replay" "$AC" --port "$port2" --max --quiet 2>/dev/null
wait_for 10 feed_is pcars received 8641
kill -CONT "$STORE"
pcars_is() { [ "$(recx "$id2" "[f$1 for f in d['feeds'] if f['feed'] == 'pcars']")" = "$2" ]; }
wait_for 10 pcars_is '["packets"] + f["packets_lost"]' "[8641]"
lost=$(recx "$id2" '[f["packets_lost"] for f in d["feeds"] if f["feed"] == "pcars"][0]')
n=$(recx "$id2" '[f["packets"] for f in d["feeds"] if f["feed"] == "pcars"][0]')
check "lapped: packets + packets_lost = 8641 exactly, and some were lost ($n + $lost)" \
	test "$((n + lost))" -eq 8641 -a "$lost" -gt 0
"$PW" recording stop "$id2" >/dev/null
check "lapped: the packets kept are the original's last $n" psame "$RECS/$id2/pcars.pcap" "$AC" "$((8641 - n)):8641"
check "a given game is kept" test "$(rec "$id2" '["game"]')" = assetto_corsa
kill "$CAP2"
wait "$CAP2" 2>/dev/null

# --- kill -9 mid-recording: resumed exactly, torn tail cut ------------------------
start cap2b "$BIN/pw-capture" --feed pcars --port "$port2" --bind 127.0.0.1 --ring-raw-mb 1
wait_for 5 feed_is pcars pid "$LAST_PID"
id3=$("$PW" recording start --name crash | jf 'd["id"]')
f3=$RECS/$id3/ksudp.pcap
on_disk3() { [ "$(jf "$1" <"$RECS/$id3/manifest.json" 2>/dev/null)" = "$2" ]; }
"$BIN/pw-replay" "$AC" --port "$port" --max --count 3000 --quiet 2>/dev/null
wait_for 10 on_disk3 '[f["packets"] for f in d["feeds"]]' '[3000]' || fail "3000 packets synced before the crash"
"$BIN/pw-replay" "$AC" --port "$port" --max --count 500 --quiet 2>/dev/null
wait_for 10 rec_is "$id3" '["feeds"][0]["packets"]' 3500 || fail "3500 packets before the crash"
kill -9 "$STORE"
wait "$STORE" 2>/dev/null
# while the store is down: 2000 more packets for ksudp, the whole capture for
# pcars (its 1 MiB ring laps the resume point), a torn last record, corrupt manifests
"$BIN/pw-replay" "$AC" --port "$port" --max --count 2000 --quiet 2>/dev/null
before=$(feed_field pcars received)
"$BIN/pw-replay" "$AC" --port "$port2" --max --quiet 2>/dev/null
wait_for 10 feed_is ksudp received $((8641 + 5500))
wait_for 10 feed_is pcars received $((before + 8641))
python3 -c 'import struct,sys; open(sys.argv[1],"ab").write(struct.pack("<IIII",1,2,372,372)+b"x"*100)' "$f3"
check "the file has a torn tail before the restart" torn "$f3"
mkdir -p "$RECS/11111111-1111-4111-8111-111111111111" "$RECS/22222222-2222-4222-8222-222222222222"
echo '{not json' >"$RECS/11111111-1111-4111-8111-111111111111/manifest.json"
echo '{"id":"22222222-2222-4222-8222-222222222222","status":"paused","feeds":[]}' \
	>"$RECS/22222222-2222-4222-8222-222222222222/manifest.json"
start_store && pass "the store restarts after kill -9" || fail "the store restarts after kill -9"
check "corrupt manifests are reported and skipped, the others load" \
	grep -q 'recordings loaded" loaded=3 skipped=2' "$TMP/store.log"
check "the torn tail was cut" grep -q "torn tail cut.*recording=$id3" "$TMP/store.log"
check "the crashed recording is active again" rec_is "$id3" '["status"]' active
wait_for 10 rec_is "$id3" '["feeds"][0]["packets"]' 5500 &&
	pass "resumed exactly: the unsynced 500 read again, the 2000 sent while down recorded" ||
	fail "resumed exactly" "$(rec "$id3" '["feeds"]')"
check "ksudp resumed at the last durable position" \
	grep -q "resumed at its last durable position.*recording=$id3 feed=ksudp" "$TMP/store.log"
check "pcars: the ring lapped the resume point, all 8641 counted lost, no file" \
	test "$(recx "$id3" '[[f["file"], f["packets"], f["packets_lost"]] for f in d["feeds"] if f["feed"] == "pcars"]')" = "[[None, 0, 8641]]"

# --- SIGTERM: the recording stays active and resumes ------------------------------
stop_store
check "SIGTERM with an active recording: exit 0" test $? -eq 0
check "the manifest still says active, with resume points" \
	on_disk3 '[d["status"], [r["feed"] for r in d["resume"]]]' "['active', ['ksudp', 'pcars']]"
"$BIN/pw-replay" "$AC" --port "$port" --max --count 1000 --quiet 2>/dev/null
wait_for 10 feed_is ksudp received $((8641 + 6500))
start_store
wait_for 10 rec_is "$id3" '["feeds"][0]["packets"]' 6500 &&
	pass "after a clean restart the packets sent meanwhile are recorded too" ||
	fail "after a clean restart the packets sent meanwhile are recorded too" "$(rec "$id3" '["feeds"]')"
out=$("$PW" recording stop "$id3")
check "crash recording: ksudp 6500 packets none lost, pcars 8641 lost" \
	test "$(echo "$out" | jf '[[f["feed"], f["packets"], f["packets_lost"]] for f in d["feeds"]]')" = "[['ksudp', 6500, 0], ['pcars', 0, 8641]]"
check "crash recording: a valid pcap equal to what was sent, exactly once" \
	psame "$f3" "$AC" 0:3000 0:500 0:2000 0:1000

# --- delete ------------------------------------------------------------------------
start events2 "$PW" events recording. --count 4 --timeout 60
wait_for 5 test -e "$TMP/events2.out"
sleep 0.5
id4=$("$PW" recording start --name "to delete" | jf 'd["id"]')
"$BIN/pw-replay" "$AC" --port "$port" --max --count 100 --quiet 2>/dev/null
wait_for 10 rec_is "$id4" '["feeds"][0]["packets"]' 100
"$PW" recording delete "$id4" >/dev/null
check "delete of an active recording stops it and removes its directory" \
	test ! -e "$RECS/$id4" -a -z "$("$PW" recordings --json | grep "$id4")"
"$PW" recording delete "$id" >/dev/null
check "delete removes a stopped recording's directory" test ! -e "$RECS/$id"
check "deleted: get -> not_found" refused not_found "$PW" recording get "$id"
lines_ge() { [ "$(wc -l <"$1")" -ge "$2" ]; }
events() {
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    t, p = l.split(" ", 1)
    p = json.loads(p)
    print(t, p["name"], p.get("reason", "-"))' "$1" | tr '\n' ,
}
wait_for 10 lines_ge "$TMP/events.out" 4
check "bus: recording.started / recording.stopped with reason" \
	test "$(events "$TMP/events.out")" = \
	"recording.started monza replay -,recording.stopped monza replay stopped,recording.started lapped -,recording.stopped lapped stopped,"
wait_for 10 lines_ge "$TMP/events2.out" 4
check "bus: recording.deleted (an active one is stopped first, reason deleted)" \
	test "$(events "$TMP/events2.out")" = \
	"recording.started to delete -,recording.stopped to delete deleted,recording.deleted to delete -,recording.deleted monza replay -,"
stop_store

# --- a full disk: stopped with disk_full, the synced part stays valid -------------
if unshare -rm true 2>/dev/null; then
	full=$TMP/full
	mkdir -p "$full"
	start_store env PITWALL_DATA_DIR="$full" unshare -rm sh -c \
		'mount -t tmpfs -o size=1m tmpfs "$PITWALL_DATA_DIR" && exec "$0"'
	root=/proc/$STORE/root$full/recordings
	id5=$("$PW" recording start --name full | jf 'd["id"]')
	# 8641 x 372 bytes do not fit in 1 MiB; slow enough that a sync happens first
	"$BIN/pw-replay" "$AC" --port "$port" --pps 1000 --quiet 2>/dev/null &
	rp=$!
	wait_for 15 rec_is "$id5" '["status"]' stopped
	kill "$rp" 2>/dev/null
	wait "$rp" 2>/dev/null
	out=$("$PW" recording get "$id5")
	n=$(echo "$out" | jf 'd["feeds"][0]["packets"]')
	check "disk full: stopped with stop_reason disk_full, $n packets kept" \
		test "$(echo "$out" | jf '[d["status"], d["stop_reason"]]')" = "['stopped', 'disk_full']" -a "$n" -gt 0
	on_disk() {
		test "$(jf '[d["status"], d["stop_reason"], d["feeds"][0]["packets"], d["feeds"][0]["bytes"]]' <"$root/$id5/manifest.json")" = \
			"['stopped', 'disk_full', $n, $(stat -c %s "$root/$id5/ksudp.pcap")]"
	}
	wait_for 5 on_disk && pass "disk full: the manifest on disk says so too (bytes = file size)" ||
		fail "disk full: the manifest on disk says so too" "$(cat "$root/$id5/manifest.json")"
	check "disk full: the kept pcap is valid and holds the first $n datagrams" \
		psame "$root/$id5/ksudp.pcap" "$AC" "0:$n"
	stop_store
else
	echo "SKIP disk full (no user and mount namespaces)"
fi

# --- a file-size limit: EFBIG stops it with io_error --------------------------------
start_store bash -c 'ulimit -f 512; exec "$0"'
id6=$("$PW" recording start --name limited | jf 'd["id"]')
"$BIN/pw-replay" "$AC" --port "$port" --pps 1000 --quiet 2>/dev/null &
rp=$!
wait_for 15 rec_is "$id6" '["status"]' stopped
kill "$rp" 2>/dev/null
wait "$rp" 2>/dev/null
out=$("$PW" recording get "$id6")
n=$(echo "$out" | jf 'd["feeds"][0]["packets"]')
check "file-size limit: stopped with stop_reason io_error, $n packets kept" \
	test "$(echo "$out" | jf '[d["status"], d["stop_reason"]]')" = "['stopped', 'io_error']" -a "$n" -gt 0
check "file-size limit: the kept pcap is valid and holds the first $n datagrams" \
	psame "$RECS/$id6/ksudp.pcap" "$AC" "0:$n"
stop_store
finish
