#!/usr/bin/env bash
# Integration: the channel dictionary (common/dict.h; GET /api/channels,
# `pwctl channels`) against what the games' frames really carry. For every
# format the emulator speaks (every game), pw-sim drives a lap into a
# pw-capture of its feed and every frame is read back from the ring
# (`pwctl tail --from-start`); tests/integration/channels_check.py then checks
# that every key of every frame is in the dictionary with the unit its name
# says, that the values agree with what the emulator sent (so the unit is the
# dictionary's, not the game's own), that each frame matches the frame schema,
# and that the channels and flags the game's frames carry are exactly the set
# the dictionary declares for it. Also: pwctl channels --json is what
# GET /api/channels answers (every game's view too, with a manifest stored), bad options and query
# parameters, and docs/schemas/frame/v1.json is what the channel table gives.
. "$(dirname "$0")/lib.sh"
private_bus
PW=$BIN/pwctl
CHK="python3 $ROOT/tests/integration/channels_check.py"
# the dictionary ends with the stored manifests' channels (docs/manifests.md): a store with one
start store "$BIN/pw-store"
wait_for 10 "$PW" call use_cases.list >/dev/null 2>&1 || fail "pw-store answers"
printf '{"channels": [{"name": "power_kw", "formula": "power_w / 1000", "unit": "kW"}]}' >"$TMP/kw.json"
"$PW" manifest put kw "$TMP/kw.json" >/dev/null || fail "pwctl manifest put kw"

"$PW" channels --frame-schema >"$TMP/frame.json"
check "docs/schemas/frame/v1.json is the channel table's (pwctl channels --frame-schema)" \
	cmp -s "$TMP/frame.json" "$ROOT/docs/schemas/frame/v1.json"
"$PW" channels --json >"$TMP/dict.json"
check "pwctl channels --json: the dictionary" python3 -c '
import json, sys; d = json.load(open(sys.argv[1])); assert d["channels"] and d["games"]' "$TMP/dict.json"
check "pwctl channels (a table): one line per entry and a header" test \
	"$("$PW" channels | wc -l)" = "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["channels"]) + 1)' "$TMP/dict.json")"
"$PW" channels --game nope >/dev/null 2>"$TMP/bad.err"
rc=$?
check "pwctl channels --game nope: exit 2 naming --game" bash -c "[ $rc = 2 ] && grep -q -- --game '$TMP/bad.err'"
"$PW" channels --nope >/dev/null 2>&1
rc=$?
check "pwctl channels --nope: exit 2" test "$rc" = 2

# the API serves the same dictionary, the manifest's channel included
AP=$(tcp_port)
PITWALL_API_PORT=$AP start api "$BIN/pw-api"
wait_for 10 python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$AP"
check "GET /api/channels is pwctl channels --json; so is each game's view" python3 - "$AP" "$PW" <<'PY'
import json, subprocess, sys, urllib.request
base = "http://127.0.0.1:%s" % sys.argv[1]
get = lambda p: json.load(urllib.request.urlopen(base + p, timeout=5))
cli = lambda *a: json.loads(subprocess.run([sys.argv[2], "channels", "--json", *a], capture_output=True,
                                          check=True).stdout)
assert get("/api/channels") == cli() == get("/api/v1/channels")
assert [e["name"] for e in cli()["channels"] if e["kind"] == "manifest"] == ["power_kw"]
for g in [x["name"] for x in cli()["games"]]:
    assert get("/api/channels?game=" + g) == cli("--game", g), g
PY

# every format of every game: a lap through pw-capture, read back from the ring
formats="ksudp:rtcarinfo pcars:v1 pcars:v2 acc:broadcast forza:sled forza:fm7 forza:fh forza:fm2023 f1:2023 f1:2024 f1:2025"
for ff in $formats; do
	feed=${ff%%:*} fmt=${ff#*:}
	port=$(free_udp_port)
	case $feed in
	ksudp | acc) start "cap-$fmt" "$BIN/pw-capture" --feed "$feed" --port "$port" --game-host 127.0.0.1 ;;
	*) start "cap-$fmt" "$BIN/pw-capture" --feed "$feed" --port "$port" --bind 127.0.0.1 ;;
	esac
	CAP=$LAST_PID
	wait_for 10 test -e "/dev/shm/pitwall.$INST.$feed" || fail "$feed: the capture made its segment"
	"$BIN/pw-sim" --feed "$feed" --format "$fmt" --port "$port" --laps 1 --rate 60 --fast --quiet \
		--dump "$TMP/sent-$fmt.jsonl" >/dev/null 2>"$TMP/sim-$fmt.log" ||
		fail "$feed/$fmt: pw-sim exits 0" "$(tail -n 3 "$TMP/sim-$fmt.log")"
	sent=$(wc -l <"$TMP/sent-$fmt.jsonl")
	wait_for 10 feed_at_least "$feed" frames "$sent" || true # a frame lost on loopback shows below
	"$PW" tail "$feed" --from-start --count "$sent" --timeout 5 >"$TMP/ring-$fmt.jsonl"
	kill "$CAP"
	wait "$CAP" 2>/dev/null
	rm -f "/dev/shm/pitwall.$INST.$feed"
	$CHK "$TMP/dict.json" "$TMP/ring-$fmt.jsonl" "$TMP/sent-$fmt.jsonl" >"$TMP/check-$fmt.txt" 2>&1
	rc=$?
	[ "$rc" = 0 ] || cat "$TMP/check-$fmt.txt" >&2
	check "$feed/$fmt: $(head -n 1 "$TMP/check-$fmt.txt")" test "$rc" = 0
done
check "every game of the dictionary was emulated" python3 - "$TMP/dict.json" "$TMP" <<'PY'
import glob, json, sys
games = {g["name"] for g in json.load(open(sys.argv[1]))["games"]}
seen = set()
for f in glob.glob(sys.argv[2] + "/ring-*.jsonl"):
    for line in open(f):
        seen.add(json.loads(line)["game"])
        break
assert games == seen, (games - seen, seen - games)
PY
finish
