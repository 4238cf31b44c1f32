#!/usr/bin/env bash
# Integration: the bus topic table (common/topics.h, `pwctl topics`) against
# what pw-store really publishes and what pw-api's stream forwards. While a
# subscriber of everything listens, the store runs a session with a run, laps
# (a forza feed doing two laps), an analysis (pw-analyze), a reopen and the
# deletions, a recording, and a track model's deletion. Every message on the
# bus must be a topic of the table and carry the keys the table promises,
# and each of those topics must be seen. A WebSocket client subscribed to
# "track.*" gets track.deleted; hello lists track.built and track.deleted.
# Every message seen, on the bus and on the stream, is validated against the
# JSON Schema of its topic or type (docs/schemas, tests/integration/contract.py).
# (track.built, run.resumed and run.error are not provoked here: building a
# track is test_analysis.sh's and test_api.sh's, the other two need a store
# restart mid-run or a failing disk; test_ws_bus checks their forwarding.)
. "$(dirname "$0")/lib.sh"
private_bus
KS=$(free_udp_port)
FZ=$(free_udp_port)
AP=$(tcp_port)
export PITWALL_FEEDS=ksudp:$KS,forza:$FZ PITWALL_API_PORT=$AP
PW=$BIN/pwctl
WSC=${PW_TOOLS:-$ROOT/build/tools}/ws_client
jf() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
env1() { printf '{"type":"%s","schema_version":1,"t_ms":%s,"data":%s}' "$1" "$2" "${3:-{\}}"; }

"$PW" topics >"$TMP/topics.txt"
check "pwctl topics lists the table (a name, a publisher and keys a line)" \
	test "$(awk 'NF < 3' "$TMP/topics.txt" | wc -l)" = 0 -a "$(wc -l <"$TMP/topics.txt")" -ge 20

start sim-ks "$BIN/pw-sim" --feed ksudp --port "$KS" --rate 60 --quiet
start cap-ks "$BIN/pw-capture" --feed ksudp --port "$KS" --game-host 127.0.0.1
start cap-fz "$BIN/pw-capture" --feed forza --port "$FZ" --bind 127.0.0.1
start store "$BIN/pw-store"
start worker "$BIN/pw-analyze"
start api "$BIN/pw-api"
wait_for 10 "$PW" call use_cases.list >/dev/null 2>&1 || fail "store answers"
wait_for 10 feed_at_least ksudp frames 60 || fail "ksudp feed runs"
start events "$PW" events --timeout 120
wait_for 10 "$WSC" --port "$AP" 'wait 0' >/dev/null 2>&1 || fail "the stream accepts clients"
start ws "$WSC" --port "$AP" "send $(env1 subscribe 1 '{"events":["track.*"]}')" \
	'until "type":"track.deleted" 30000' 'wait 200'
wait_for 5 grep -q '"type":"hello"' "$TMP/ws.out"
sleep 0.5 # the subscriptions (bus and stream) settle

sid=$("$PW" session create general --label topics | jf 'd["id"]')
rid=$("$PW" run start "$sid" ksudp | jf 'd["id"]')
"$BIN/pw-sim" --feed forza --format fm7 --port "$FZ" --rate 60 --laps 2 --fast --quiet >/dev/null 2>&1
"$PW" run stop "$sid" "$rid" >/dev/null
"$PW" session complete "$sid" >/dev/null
wait_for 20 grep -qE '^analysis\.(completed|failed) ' "$TMP/events.out" || fail "the analysis ends"
"$PW" session reopen "$sid" >/dev/null
"$PW" run delete "$sid" "$rid" >/dev/null
"$PW" session delete "$sid" >/dev/null
rec=$("$PW" recording start --name topics | jf 'd["id"]')
"$PW" recording stop >/dev/null
"$PW" recording delete "$rec" >/dev/null
mkdir -p "$PITWALL_DATA_DIR/tracks/assetto_corsa"
echo '{"corners":[]}' >"$PITWALL_DATA_DIR/tracks/assetto_corsa/topics_test.json"
"$PW" call track.delete '{"game":"assetto_corsa","track_name":"topics_test"}' >/dev/null
wait_for 10 grep -q '^track\.deleted ' "$TMP/events.out"
wait_for 10 grep -q ' eof' "$TMP/ws.out"

python3 - "$TMP/topics.txt" "$TMP/events.out" >"$TMP/check.txt" 2>&1 <<'PY'
import json, sys
table = {}
for line in open(sys.argv[1]):
    name, publisher, *keys = line.split()
    table[name] = set(keys)
seen, bad = set(), []
for line in open(sys.argv[2], errors="replace"):
    topic, _, body = line.rstrip("\n").partition(" ")
    row = topic if topic in table else next(
        (n for n in table if n.endswith(".<feed>") and topic.startswith(n[:-6]) and len(topic) > len(n) - 6), None)
    if row is None:
        bad.append("not in the table: " + topic)
        continue
    try:
        payload = json.loads(body)
    except ValueError:
        bad.append("%s: payload is not JSON" % topic)
        continue
    missing = table[row] - set(payload) if isinstance(payload, dict) else table[row]
    if missing:
        bad.append("%s: payload lacks %s" % (topic, sorted(missing)))
    seen.add(row)
want = {"frame.<feed>", "lap.<feed>", "feed.<feed>", "session.created", "session.completed",
        "session.reopened", "session.deleted", "run.started", "run.stopped", "run.deleted",
        "recording.started", "recording.stopped", "recording.deleted", "analysis.pending",
        "track.deleted"}
if not seen & {"analysis.completed", "analysis.failed"}:
    bad.append("no analysis.completed or analysis.failed")
if want - seen:
    bad.append("not seen: %s" % sorted(want - seen))
print("\n".join(bad[:20]) if bad else "ok %d topics" % len(seen))
sys.exit(1 if bad else 0)
PY
rc=$?
check "every bus message is a topic of the table with the keys it lists ($(head -c 300 "$TMP/check.txt"))" \
	test "$rc" = 0
python3 "$ROOT/tests/integration/contract.py" bus "$TMP/events.out" >"$TMP/bus_schemas.txt" 2>&1
rc=$?
[ "$rc" = 0 ] || head -n 20 "$TMP/bus_schemas.txt" >&2
check "every bus message matches the JSON Schema of its topic ($(tail -n 1 "$TMP/bus_schemas.txt"))" test "$rc" = 0
n=$(python3 "$ROOT/tests/integration/ws_check.py" schemas "$TMP/ws.out" 2>"$TMP/ws_schemas.txt")
[ "$n" = 0 ] || cat "$TMP/ws_schemas.txt" >&2
check "every stream message the subscriber got matches its JSON Schema, in sequence" test "$n" = 0
check "the stream forwards track.deleted to a client subscribed to track.*" python3 -c '
import json, sys
env = [json.loads(l.split(" ", 2)[2]) for l in open(sys.argv[1]) if l.split(" ")[1] == "text"]
d = [e["data"] for e in env if e["type"] == "track.deleted"]
assert d and d[0] == {"game": "assetto_corsa", "track_name": "topics_test"}, env[-3:]' "$TMP/ws.out"
check "hello lists track.built and track.deleted among the events" python3 -c '
import json, sys
env = [json.loads(l.split(" ", 2)[2]) for l in open(sys.argv[1]) if l.split(" ")[1] == "text"]
ev = env[0]["data"]["events"]
assert env[0]["type"] == "hello" and "track.built" in ev and "track.deleted" in ev, ev' "$TMP/ws.out"
finish
