#!/usr/bin/env bash
# Integration: pw-sim on its own - command line, ground truth, determinism of
# the datagrams, frame counts for --duration/--laps, the AC (ksudp) and ACC
# server sides with scripted clients, and clean shutdown.
. "$(dirname "$0")/lib.sh"
SIM=$BIN/pw-sim

# --- command line ---------------------------------------------------------------
"$SIM" --help >"$TMP/help.txt"
check "--help exits 0 and starts with the usage" \
	test "$?" -eq 0 -a "$(head -n 3 "$TMP/help.txt")" = "pw-sim --feed NAME --port N [--host H] [--rate HZ] [--duration S | --laps N]
       [--mode laps|left|right|pulls|cornering] [--seed N] [--format F]
       [--fault NAME] [--password P] [--truth FILE] [--fast | --speed X] [--quiet]"

"$SIM" --feed f1 --host localhost --duration 1 >/dev/null 2>"$TMP/host.err"
rc=$?
check "a host name is refused with exit 2" test "$rc" -eq 2
check "and the message says IPv4 literal" grep -q "not an IPv4 literal" "$TMP/host.err"
"$SIM" --feed nope >/dev/null 2>&1
check "an unknown feed exits 2" test "$?" -eq 2
"$SIM" --feed forza --format nope >/dev/null 2>"$TMP/fmt.err"
check "an unknown format exits 2 and lists the formats" \
	test "$?" -eq 2 -a -n "$(grep fm2023 "$TMP/fmt.err")"
"$SIM" --feed f1 --duration 1 --laps 1 >/dev/null 2>&1
check "--duration with --laps exits 2" test "$?" -eq 2

# --- ground truth ------------------------------------------------------------------
port=$(free_udp_port)
"$SIM" --feed forza --port "$port" --duration 1 --fast --quiet --truth "$TMP/truth.json" \
	>"$TMP/truth.out" 2>"$TMP/truth.log"
check "truth: stdout is one line equal to --truth FILE" \
	test "$(wc -l <"$TMP/truth.out")" -eq 1 -a "$(cat "$TMP/truth.out")" = "$(cat "$TMP/truth.json")"
check "truth: shift points, track, corners, mode" python3 - "$TMP/truth.json" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
car, trk = t["car"], t["track"]
assert len(t["optimal_shift_rpm"]) == car["num_gears"] - 1 == 5
assert all(7000 < r <= car["max_rpm"] for r in t["optimal_shift_rpm"])
assert 3000 < trk["length_m"] < 4500 and trk["width_m"] == 12
assert trk["corner_count"] == len(trk["corners"]) == 10
assert {c["direction"] for c in trk["corners"]} == {"left", "right"}
assert len(trk["sectors"]) == 3 and trk["sectors"][0] == 0
pts = trk["center_line_sample"]
assert abs(len(pts) - trk["length_m"] / 10) < 1.5
assert t["mode"] == "laps" and t["feed"] == "forza" and t["format"] == "fm2023"
assert t["seed"] == 1 and t["rate_hz"] == 60 and 80000 < t["reference_lap_ms"] < 100000
EOF

# --- determinism: same seed -> same datagrams, other seed -> other noise ----------
recv_py='
import socket, sys, hashlib, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", 0))
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
s.settimeout(5)
h, n = hashlib.sha256(), 0
try:
    while True:
        d = s.recv(65535)
        h.update(len(d).to_bytes(2, "little") + d)
        n += 1
        s.settimeout(1)
except socket.timeout:
    pass
print(n, h.hexdigest())
'
stream_hash() { # name seed
	rm -f "$TMP/$1.port"
	python3 -c "$recv_py" "$TMP/$1.port" >"$TMP/$1.hash" &
	local rp=$!
	wait_for 5 test -s "$TMP/$1.port"
	"$SIM" --feed f1 --port "$(cat "$TMP/$1.port")" --seed "$2" --duration 3 --rate 60 --fast \
		--quiet >/dev/null 2>"$TMP/$1.log"
	wait "$rp"
}
stream_hash det-a 9
stream_hash det-b 9
stream_hash det-c 10
check "same seed: byte-identical datagram stream" \
	test "$(cat "$TMP/det-a.hash")" = "$(cat "$TMP/det-b.hash")" -a "$(cut -d' ' -f1 "$TMP/det-a.hash")" -gt 500
check "other seed: a different stream of the same length" \
	test "$(cut -d' ' -f2 "$TMP/det-a.hash")" != "$(cut -d' ' -f2 "$TMP/det-c.hash")" -a \
	"$(cut -d' ' -f1 "$TMP/det-a.hash")" = "$(cut -d' ' -f1 "$TMP/det-c.hash")"

# --- frame counts -------------------------------------------------------------------
port=$(free_udp_port)
"$SIM" --feed forza --port "$port" --duration 2 --rate 50 --fast --quiet \
	--dump "$TMP/dur.jsonl" >/dev/null 2>&1
check "--duration 2 --rate 50 sends exactly 100 frames" test "$(wc -l <"$TMP/dur.jsonl")" -eq 100
"$SIM" --feed pcars --port "$port" --mode pulls --laps 2 --fast --quiet \
	--dump "$TMP/pulls.jsonl" >/dev/null 2>&1
check "--laps 2 (pulls) stops at the frame showing lap 2, all gears at the limiter" \
	python3 - "$TMP/pulls.jsonl" <<'EOF'
import json, sys
fr = [json.loads(l) for l in open(sys.argv[1])]
assert fr[-1]["lap"] == 2 and all(f["lap"] < 2 for f in fr[:-1])
top = {f["gear"] for f in fr if f["rpm"] >= 7990}
assert top == {1, 2, 3, 4, 5, 6}, top
assert any(f.get("flags", {}).get("limiter") for f in fr)
EOF

# --- AC server: handshake, four subscribers, laps, dismiss --------------------------
port=$(free_udp_port)
start sim-ks "$SIM" --feed ksudp --port "$port" --rate 100 --quiet
check "ksudp: 4 clients handshake, stream RTCarInfo, dismiss" python3 - "$port" <<'EOF'
import socket, struct, sys, time
port = int(sys.argv[1])
hs = lambda op: struct.pack("<iii", 1, 1, op)
cs = []
for _ in range(4):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0)); s.settimeout(0.5); cs.append(s)
for s in cs:  # the server may still be starting: retry the handshake
    for _ in range(20):
        s.sendto(hs(0), ("127.0.0.1", port))
        try:
            d = s.recv(2048); break
        except socket.timeout:
            continue
    assert len(d) == 408, len(d)
    assert d[:22].decode("utf-16-le").split("%")[0] == "pitwall_gt3"
    assert d[208:232].decode("utf-16-le").split("%")[0] == "pitwall_ring"
    assert struct.unpack("<ii", d[200:208]) == (4242, 1)
for s in cs:
    s.sendto(hs(1), ("127.0.0.1", port))
for s in cs:
    s.settimeout(2)
    for _ in range(50):
        d = s.recv(2048)
        assert len(d) == 328 and d[0:1] == b"a", len(d)
cs[0].sendto(hs(3), ("127.0.0.1", port))
time.sleep(0.3)
cs[0].settimeout(0.3)
while True:  # drain what was in flight, then nothing more
    try:
        cs[0].recv(2048)
    except socket.timeout:
        break
try:
    cs[0].recv(2048); raise SystemExit("still streaming after dismiss")
except socket.timeout:
    pass
assert len(cs[1].recv(2048)) == 328
EOF
kill -TERM "$LAST_PID"
wait "$LAST_PID"
check "ksudp: SIGTERM exits 0" test "$?" -eq 0

port=$(free_udp_port)
start sim-spot "$SIM" --feed ksudp --port "$port" --mode cornering --laps 1 --fast --quiet
spot=$LAST_PID
check "ksudp: a lap subscriber (op 2) gets one RTLap per repetition" python3 - "$port" <<'EOF'
import socket, struct, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); s.settimeout(0.5)
for _ in range(20):
    s.sendto(struct.pack("<iii", 1, 1, 0), ("127.0.0.1", port))
    try:
        assert len(s.recv(2048)) == 408; break
    except socket.timeout:
        continue
s.sendto(struct.pack("<iii", 1, 1, 2), ("127.0.0.1", port))
s.settimeout(10)
d = s.recv(2048)
assert len(d) == 212, len(d)
car, lap, t = struct.unpack("<ii", d[:8]) + struct.unpack("<i", d[208:212])
assert lap == 1 and 20000 < t < 80000, (lap, t)
EOF
wait_for 10 bash -c "! kill -0 $spot 2>/dev/null"
wait "$spot"
check "ksudp: --laps 1 ends the server after the lap" test "$?" -eq 0

# --- ACC server: password, stream, entry list, track data, unregister -------------------
port=$(free_udp_port)
start sim-acc "$SIM" --feed acc --port "$port" --password s3cret --quiet
check "acc: registration, realtime updates, entry list, track data, unregister" \
	python3 - "$port" <<'EOF'
import socket, struct, sys, time
port = int(sys.argv[1])
st = lambda x: struct.pack("<H", len(x)) + x.encode()
reg = lambda pw, ms: b"\x01\x04" + st("smoke") + st(pw) + struct.pack("<i", ms) + st("")
def register(s, pw, ms):
    for _ in range(20):
        s.sendto(reg(pw, ms), ("127.0.0.1", port))
        try:
            d = s.recv(4096)
        except socket.timeout:
            continue
        cid, ok = struct.unpack("<iB", d[1:6])
        n = struct.unpack("<H", d[7:9])[0]
        return d[0], cid, ok, d[9:9 + n].decode()
    raise SystemExit("no registration result")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); s.settimeout(0.5)
typ, cid, ok, err = register(s, "asd", 20)
assert typ == 1 and not ok and err, (typ, ok, err)
typ, cid, ok, err = register(s, "s3cret", 20)
assert typ == 1 and ok and err == "", (ok, err)
s.settimeout(2)
s.sendto(b"\x0a" + struct.pack("<i", cid), ("127.0.0.1", port))
s.sendto(b"\x0b" + struct.pack("<i", cid), ("127.0.0.1", port))
kinds, t0 = {}, None
while kinds.get(3, 0) < 50 or 5 not in kinds or 6 not in kinds:
    d = s.recv(4096)
    kinds[d[0]] = kinds.get(d[0], 0) + 1
    if d[0] == 3 and t0 is None:
        t0 = time.time()
    if d[0] == 5:
        n = struct.unpack("<H", d[5:7])[0]
        assert d[7:7 + n] == b"pitwall_ring"
rate = (kinds[3] - 1) / (time.time() - t0)
assert 35 < rate < 65, rate          # msRealtimeUpdateInterval 20 -> 50 Hz
assert kinds[2] >= kinds[3] - 1 and kinds[4] == 1
s.sendto(b"\x09", ("127.0.0.1", port))
time.sleep(0.3); s.settimeout(0.3)
while True:
    try:
        s.recv(4096)
    except socket.timeout:
        break
try:
    s.recv(4096); raise SystemExit("still streaming after unregister")
except socket.timeout:
    pass
EOF
kill -INT "$LAST_PID"
wait "$LAST_PID"
check "acc: SIGINT exits 0" test "$?" -eq 0
finish
