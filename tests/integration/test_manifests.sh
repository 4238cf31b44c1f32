#!/usr/bin/env bash
# Integration: derived-channel manifests through the real processes
# (docs/manifests.md): GET/PUT/DELETE /api/manifests/{name} on pw-api and
# pw-store - created 201, replaced 200, the canonical document back, bad
# input of every kind refused with 400 (413 for a body too large) naming
# the field, without touching what is stored; durable across a store
# restart. Then the derived channels in a run export (?manifest=) from the
# emulator's frames, checked against the frames' own channels.
. "$(dirname "$0")/lib.sh"
private_bus
KS=$(free_udp_port)
AP=$(free_tcp_port)
export PITWALL_FEEDS=ksudp:$KS PITWALL_API_PORT=$AP
URL=http://127.0.0.1:$AP
store_up() { "$BIN/pwctl" call use_cases.list >/dev/null 2>&1; }

start store "$BIN/pw-store"
STORE=$LAST_PID
wait_for 10 store_up || fail "pw-store answers"
start api "$BIN/pw-api"
wait_for 10 api_store_up "$URL" || fail "pw-api answers and reaches the store"

python3 - "$URL" "$ROOT" "$BIN" <<'PY' || FAILED=1
import json, sys, urllib.request, urllib.error

URL = sys.argv[1]
failed = False
sys.path.insert(0, sys.argv[2] + "/tests/integration")
from contract import Contract
CONTRACT, schema_bad, schema_seen = Contract(), [], [0]

def validate(method, path, status, ctype, text, body):
    """Every answer against its JSON Schema, every accepted body against the request's."""
    name, errs = CONTRACT.http_errors(method, path, status, text, ctype)
    schema_seen[0] += 1
    schema_bad.extend("%s %s -> %d (%s): %s" % (method, path, status, name, e) for e in errs)
    if status < 400 and isinstance(body, dict):
        rname = CONTRACT.endpoint_schema("request", method, path)
        schema_bad.extend("request %s %s (%s): %s" % (method, path, rname, e)
                          for e in (CONTRACT.errors(rname, body) if rname else ["no request schema"]))

def call(method, path, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(URL + path, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read()
            validate(method, path, r.status, r.headers.get("Content-Type"), text, body if raw is None else None)
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        text = e.read()
        validate(method, path, e.code, e.headers.get("Content-Type"), text, None)
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text

def check(name, ok, detail=""):
    global failed
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)))
    failed |= not ok

issue = {"description": "the issue's examples", "channels": [
    {"name": "power_kw", "formula": "power_w / 1000", "unit": "kW"},
    {"name": "brake_balance", "formula": "brake_temp_c_fl / brake_temp_c_rl"},
    {"name": "speed_delta", "formula": "derivative(speed_kmh)", "unit": "km/h/s"}]}

st, doc = call("PUT", "/api/manifests/power", issue)
check("PUT a new manifest: 201", st == 201, (st, doc))
check("PUT answers the canonical document",
      isinstance(doc, dict) and doc.get("name") == "power" and doc.get("version") == 1 and
      [c["name"] for c in doc["channels"]] == ["power_kw", "brake_balance", "speed_delta"] and
      doc["channels"][1]["unit"] == "" and doc["channels"][0]["description"] == "", doc)
stored = doc
st, doc = call("PUT", "/api/manifests/power", dict(issue, name="power"))
check("PUT the same name again: 200, replaced", st == 200 and doc == stored, (st, doc))
st, doc = call("GET", "/api/manifests/power")
check("GET the manifest", st == 200 and doc == stored, (st, doc))
st, doc = call("GET", "/api/manifests")
check("GET the list", st == 200 and isinstance(doc, list) and stored in doc, (st, doc))

# the channel dictionary (docs/api.md "Channel dictionary"): the stored manifests' channels
# after the frame's keys, with formula and unit; every answer is checked against its schema
st, d = call("GET", "/api/channels")
mine = [e for e in d["channels"] if e.get("manifest") == "power"] if st == 200 else []
check("GET /api/channels lists the manifest's channels last: derived, with formula and unit",
      [(e["name"], e["kind"], e["derived"], e["formula"], e["unit"], e["description"])
       for e in mine] == [
          ("power_kw", "manifest", True, "power_w / 1000", "kW", "the issue's examples"),
          ("brake_balance", "manifest", True, "brake_temp_c_fl / brake_temp_c_rl", "",
           "the issue's examples"),
          ("speed_delta", "manifest", True, "derivative(speed_kmh)", "km/h/s",
           "the issue's examples")]
      and d["channels"][-3:] == mine and "manifests_error" not in d, (st, mine))
st1, d1 = call("GET", "/api/v1/channels")
st2, d2 = call("GET", "/api/channels?game=assetto_corsa")
check("/api/v1/channels is the same; ?game= keeps the manifest's channels",
      st1 == 200 and d1 == d and st2 == 200 and d2["channels"][-3:] == mine, (st1, st2))
def metrics():
    with urllib.request.urlopen(URL + "/metrics", timeout=10) as r:
        return {l.split()[0]: float(l.split()[1]) for l in r.read().decode().splitlines()
                if l and not l.startswith("#")}
# the manifests' list comes from pw-api's cache while the store's state is unchanged
# (api/cache.c): the dictionary asks the store nothing, however often it is read
m0 = metrics()
again = [call("GET", p) for _ in range(5)
         for p in ("/api/channels", "/api/channels?game=assetto_corsa",
                   "/api/channels/speed_delta", "/api/channels/nosuch_kw")]
m1 = metrics()
check("GET /api/channels (x10) and /api/channels/{channel} (x10) from memory: no store "
      "command, 20 cache hits, the same answers",
      m1["pitwall_api_store_calls_total"] == m0["pitwall_api_store_calls_total"] and
      m1["pitwall_api_cache_hits_total"] - m0["pitwall_api_cache_hits_total"] >= 20 and
      again[-4:] == again[:4] and again[0] == (200, d) and again[1] == (200, d2) and
      again[2][0] == 200 and again[3][0] == 404,
      (m0.get("pitwall_api_store_calls_total"), m1.get("pitwall_api_store_calls_total"),
       m1.get("pitwall_api_cache_hits_total", 0) - m0.get("pitwall_api_cache_hits_total", 0)))
st, e = call("GET", "/api/channels/speed_delta")
check("GET /api/channels/speed_delta: the manifest's entry", st == 200 and e == mine[2], (st, e))
other = {"channels": [{"name": "power_kw", "formula": "power_w / 1e3", "unit": "kW"},
                      {"name": "rev_hz", "formula": "rpm / 60", "unit": "Hz",
                       "description": "engine revolutions per second"}]}
st, _ = call("PUT", "/api/manifests/power2", other)
st, d = call("GET", "/api/channels")
both = [e["manifest"] for e in d["channels"] if e["name"] == "power_kw"]
st1, e1 = call("GET", "/api/channels/power_kw")
st2, e2 = call("GET", "/api/channels/rev_hz")
check("a manifest PUT appears in the dictionary at once (the cached list is not served "
      "after a change), a name in two manifests: listed twice (manifest name order), "
      "/api/channels/{channel} answers the first manifest's",
      both == ["power", "power2"] and st1 == 200 and e1["manifest"] == "power" and
      e1["formula"] == "power_w / 1000", (both, st1, e1))
check("GET /api/channels/rev_hz: unit, formula and the channel's own description",
      st2 == 200 and (e2["unit"], e2["formula"], e2["description"], e2["manifest"]) ==
      ("Hz", "rpm / 60", "engine revolutions per second", "power2"), (st2, e2))
import subprocess
cli = subprocess.run([sys.argv[3] + "/pwctl", "channels", "--json"], capture_output=True)
check("pwctl channels --json is GET /api/channels with manifests stored",
      cli.returncode == 0 and json.loads(cli.stdout) == d, cli.stderr)
table = subprocess.run([sys.argv[3] + "/pwctl", "channels"], capture_output=True, text=True).stdout
check("pwctl channels (a table): a line per manifest channel, marked formula",
      len(table.splitlines()) == len(d["channels"]) + 1 and
      any(l.split()[:2] == ["rev_hz", "manifest"] and " formula " in l
          for l in table.splitlines()), table[-300:])
st, _ = call("DELETE", "/api/manifests/power2")
st, d = call("GET", "/api/channels")
st1, e1 = call("GET", "/api/channels/rev_hz")
check("after DELETE the manifest's channels are gone from the dictionary",
      st == 200 and not [e for e in d["channels"] if e.get("manifest") == "power2"] and
      [e["name"] for e in d["channels"]].count("power_kw") == 1 and st1 == 404, (st1, e1))
cli = subprocess.run([sys.argv[3] + "/pwctl", "channels", "--json"], capture_output=True)
check("pwctl channels --json is GET /api/channels after the DELETE",
      cli.returncode == 0 and json.loads(cli.stdout) == d, cli.stderr)
st, e = call("GET", "/api/channels/nosuch_kw")
check("GET /api/channels/nosuch_kw: 404", st == 404 and e["error"]["code"] == "not_found", (st, e))
st, e = call("GET", "/api/channels/power_kw?manifest=power")
check("GET /api/channels/power_kw?manifest=power: 400 naming the parameter",
      st == 400 and "manifest" in e["error"]["message"], (st, e))

bad = [
    ("not JSON", None, b"{\"channels\": [", 400, "must be a JSON object"),
    ("a JSON array", None, b"[]", 400, "object"),
    ("an empty body", None, b"", 400, "manifest"),
    ("no channels", {"description": "x"}, None, 400, "channels must be an array"),
    ("a syntax error", {"channels": [{"name": "a", "formula": "speed_kmh +"}]}, None, 400,
     "channels[0].formula: column 12"),
    ("an unknown channel", {"channels": [{"name": "a", "formula": "1"},
                                         {"name": "b", "formula": "tyre_temp_c_xx * 2"}]}, None,
     400, "channels[1].formula: column 1: unknown channel 'tyre_temp_c_xx'"),
    ("a taken name", {"channels": [{"name": "speed_kmh", "formula": "1"}]}, None, 400,
     "is taken"),
    ("an unknown field", {"channels": [{"name": "a", "formula": "1", "colour": 2}]}, None, 400,
     "unknown field \"colour\""),
    ("a wrong type", {"channels": [{"name": "a", "formula": 5}]}, None, 400,
     "formula must be a string"),
    ("another name inside", dict(issue, name="other"), None, 400, "is not the manifest's name"),
    ("a duplicate key", None, b'{"channels": [], "channels": []}', 400, "duplicate"),
    ("a body over 64 KiB", None, b'{"description": "' + b"x" * 70000 + b'"}', 413, "exceeds"),
]
for name, body, raw, want, part in bad:
    st, doc = call("PUT", "/api/manifests/power", body, raw)
    msg = doc.get("error", {}).get("message", "") if isinstance(doc, dict) else str(doc)
    check("PUT %s: %d naming it" % (name, want), st == want and part in msg, (st, doc))
st, doc = call("GET", "/api/manifests/power")
check("the refused PUTs changed nothing", st == 200 and doc == stored, (st, doc))

st, doc = call("PUT", "/api/manifests/bad%20name", issue)
check("PUT a bad name: 400", st == 400 and doc["error"]["code"] == "bad_request", (st, doc))
st, doc = call("GET", "/api/manifests/..")
check("GET ..: 400", st == 400, (st, doc))
st, doc = call("GET", "/api/manifests/nosuch")
check("GET an unknown manifest: 404", st == 404 and doc["error"]["code"] == "not_found", (st, doc))
st, doc = call("POST", "/api/manifests/power", issue)
check("POST: 405", st == 405, (st, doc))

st, doc = call("PUT", "/api/manifests/gone", issue)
st, doc = call("DELETE", "/api/manifests/gone")
check("DELETE: 204", st == 204, (st, doc))
st, doc = call("DELETE", "/api/manifests/gone")
check("DELETE again: 404", st == 404, (st, doc))
st, doc = call("GET", "/api/manifests/gone")
check("GET a deleted manifest: 404", st == 404, (st, doc))
check("every answer (%d) matches its JSON Schema (manifest, manifests, channels, channel, "
      "error), every accepted "
      "body its request schema (manifest-put)" % schema_seen[0], not schema_bad, schema_bad[:5])
sys.exit(1 if failed else 0)
PY

check "the manifest is a file in the data dir" test -s "$PITWALL_DATA_DIR/manifests/power.json"
kill "$STORE"
wait "$STORE" 2>/dev/null
# without a store the dictionary still answers the frame's keys and says the manifests are missing
python3 - "$URL" "$ROOT" <<'PY' || FAILED=1
import json, sys, urllib.request, urllib.error
sys.path.insert(0, sys.argv[2] + "/tests/integration")
from contract import Contract
C = Contract()
def get(path):
    try:
        with urllib.request.urlopen(sys.argv[1] + path, timeout=20) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()
bad = []
st, ct, text = get("/api/channels")
d = json.loads(text)
bad += C.http_errors("GET", "/api/channels", st, text, ct)[1]
if st != 200 or d.get("manifests_error", {}).get("code") != "unavailable" or \
        any(e["kind"] == "manifest" for e in d["channels"]) or not d["channels"]:
    bad.append(("no store: GET /api/channels", st, d.get("manifests_error")))
st, ct, text = get("/api/channels/power_kw")
bad += C.http_errors("GET", "/api/channels/power_kw", st, text, ct)[1]
if st != 503:
    bad.append(("no store: GET /api/channels/power_kw", st, text[:200]))
st, ct, text = get("/api/channels/speed_kmh")
if st != 200:
    bad.append(("no store: GET /api/channels/speed_kmh", st))
print(("PASS " if not bad else "FAIL ") + "without a store: /api/channels answers the frame's keys "
      "with manifests_error (schema-valid), a manifest channel 503, a frame channel 200" +
      ("" if not bad else ": " + str(bad)))
sys.exit(1 if bad else 0)
PY
"$BIN/pwctl" channels --json >"$TMP/nostore.json" 2>"$TMP/nostore.err"
rc=$?
check "without a store: pwctl channels --json exits 0 with manifests_error and a warning" \
	bash -c "[ $rc = 0 ] && grep -q manifests_error '$TMP/nostore.json' && grep -q 'no manifest channels' '$TMP/nostore.err'"
start store2 "$BIN/pw-store"
wait_for 10 store_up || fail "pw-store answers after a restart"
got=$(python3 -c 'import json,sys,urllib.request; d=json.load(urllib.request.urlopen(sys.argv[1] + "/api/manifests/power", timeout=5)); print([c["formula"] for c in d["channels"]])' "$URL" 2>&1)
check "the manifest survives a store restart" test "$got" = "['power_w / 1000', 'brake_temp_c_fl / brake_temp_c_rl', 'derivative(speed_kmh)']"

# pwctl: the same through the store's commands
printf '{"channels": [{"name": "kw", "formula": "power_w / 1000", "unit": "kW"}]}' >"$TMP/kw.json"
"$BIN/pwctl" manifest put kw "$TMP/kw.json" >"$TMP/put.out" 2>&1
check "pwctl manifest put: stored, the canonical document printed" grep -q '"formula": "power_w / 1000"' "$TMP/put.out"
check "pwctl manifest get" sh -c "'$BIN/pwctl' manifest get kw | grep -q '\"name\": \"kw\"'"
check "pwctl manifests lists it" sh -c "'$BIN/pwctl' manifests | grep -q '\"kw\"'"
printf '{"channels": [{"name": "kw", "formula": "power_w /"}]}' >"$TMP/bad.json"
"$BIN/pwctl" manifest put kw "$TMP/bad.json" >/dev/null 2>"$TMP/bad.err"
rc=$?
check "pwctl manifest put of a bad formula: exit 1, the column named" sh -c "test $rc -eq 1 && grep -q 'channels\[0\].formula: column 10' '$TMP/bad.err'"
printf '{"channels": [' >"$TMP/notjson.json"
"$BIN/pwctl" manifest put kw "$TMP/notjson.json" >/dev/null 2>"$TMP/nj.err"
check "pwctl manifest put of a file that is not JSON: exit 1" test $? -eq 1
"$BIN/pwctl" manifest delete kw >/dev/null 2>&1
check "pwctl manifest delete" sh -c "! '$BIN/pwctl' manifest get kw >/dev/null 2>&1"

# derived channels in a run's export and the stream: the emulator's AC frames, a manifest over them
start sim "$BIN/pw-sim" --feed ksudp --port "$KS" --rate 60 --quiet
SIM=$LAST_PID
start cap "$BIN/pw-capture" --feed ksudp --port "$KS" --game-host 127.0.0.1
wait_for 10 feed_at_least ksudp frames 60 || fail "ksudp feed runs"
sid=$("$BIN/pwctl" session create general | jf 'd["id"]')
rid=$("$BIN/pwctl" run start "$sid" ksudp | jf 'd["id"]')
sleep 3
"$BIN/pwctl" run stop "$sid" "$rid" >/dev/null
python3 - "$URL" "$sid" "$rid" "$ROOT" <<'PY' || FAILED=1
import csv, io, json, math, sys, urllib.request, urllib.error

URL, sid, rid = sys.argv[1:4]
failed = False

def check(name, ok, detail=""):
    global failed
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)))
    failed |= not ok

doc = {"channels": [
    {"name": "speed_ms", "formula": "speed_kmh / 3.6", "unit": "m/s"},
    {"name": "speed_delta", "formula": "derivative(speed_kmh)", "unit": "km/h/s"},
    {"name": "dist_m", "formula": "integral(speed_ms)", "unit": "m"},
    {"name": "boost_kpa", "formula": "boost_bar * 100", "unit": "kPa"}]}
req = urllib.request.Request(URL + "/api/manifests/run", data=json.dumps(doc).encode(), method="PUT")
urllib.request.urlopen(req, timeout=10).read()
base = "%s/api/sessions/%s/runs/%s/export" % (URL, sid, rid)
plain = list(csv.DictReader(io.StringIO(urllib.request.urlopen(base + "?format=csv").read().decode())))
text = urllib.request.urlopen(base + "?format=csv&manifest=run").read().decode()
rows = list(csv.DictReader(io.StringIO(text)))
head = text.split("\n", 1)[0].split(",")
check("export ?manifest=: the manifest's columns after the frame's",
      head[-4:] == ["speed_ms", "speed_delta", "dist_m", "boost_kpa"] and
      head[:-4] == list(plain[0].keys()), head[-6:])
check("... and the frame's columns unchanged", len(rows) == len(plain) and all(
    {k: r[k] for k in plain[0]} == p for r, p in zip(rows, plain)), len(rows))
ok = all(abs(float(r["speed_ms"]) - float(r["speed_kmh"]) / 3.6) <= 1e-5 * max(1, float(r["speed_ms"]))
         if r["speed_kmh"] else r["speed_ms"] == "" for r in rows)
check("speed_ms = speed_kmh / 3.6 in every row (empty where the frame has no speed)",
      ok and sum(1 for r in rows if r["speed_ms"]) > 100)
check("a channel the game lacks (AC has no boost) is an empty cell",
      all(r["boost_kpa"] == "" for r in rows) and all(r["boost_bar"] == "" for r in rows))
# the derivative and the integral again from the rows with a speed, on the game
# clock or, for a game without one (AC), the receive time (manifest.h); a frame
# without the input changes nothing (expr.h)
def clock(r):
    return float(r["game_time_s"]) if r["game_time_s"] else int(r["t_ns"]) / 1e9
timed = [r for r in rows if r["speed_kmh"]]
bad = dist = 0
last = None
for a, b in zip(timed, timed[1:]):
    dt = clock(b) - clock(a)
    va, vb = float(a["speed_kmh"]), float(b["speed_kmh"])
    if 0 < dt <= 2:
        last = (vb - va) / dt
        dist += (vb + va) / 3.6 / 2 * dt
    got = b["speed_delta"]
    if last is not None and (got == "" or abs(float(got) - last) > 1e-3 * max(1, abs(last))):
        bad += 1
check("speed_delta is the derivative of the rows' speed on the frames' clock",
      len(timed) > 100 and timed[0]["speed_delta"] == "" and bad == 0, (len(timed), bad))
check("dist_m is the integral of the speed", abs(float(timed[-1]["dist_m"]) - dist) <= 1e-3 * dist + 0.01,
      (timed[-1]["dist_m"], dist))
lines = urllib.request.urlopen(base + "?format=json&manifest=run").read().decode().splitlines()
objs = [json.loads(l) for l in lines]
check("JSON lines: the derived channels as keys, left out where they have no value",
      len(objs) == len(rows) and all("speed_ms" in o and "boost_kpa" not in o for o in objs) and
      "speed_delta" not in objs[0] and "speed_delta" in objs[-1])
text = urllib.request.urlopen(base + "?format=csv&channels=speed_kmh&hz=20&manifest=run").read().decode()
res = list(csv.DictReader(io.StringIO(text)))
check("export with options (channels, hz=20) and ?manifest=: time_s, the channel, the derived ones resampled",
      text.split("\n", 1)[0] == "time_s,speed_kmh,speed_ms,speed_delta,dist_m,boost_kpa" and len(res) > 40 and
      all(abs(float(r["speed_ms"]) - float(r["speed_kmh"]) / 3.6) <= 1e-4 * (1 + float(r["speed_ms"]))
          for r in res if r["speed_kmh"]), text[:200])
for q, want in (("?manifest=nosuch", "there is no manifest"), ("?manifest=..", "the name must be"),
                ("?format=parquet&manifest=run", "exported as csv or json"),
                ("?manifest=run&manifest=run", "given twice")):
    try:
        urllib.request.urlopen(base + q, timeout=10)
        check("export %s: 400" % q, False)
    except urllib.error.HTTPError as e:
        body = json.loads(e.read())
        check("export %s: 400 naming manifest" % q, e.code == 400 and want in body["error"]["message"]
              and body["error"]["message"].startswith("manifest"), body)
sys.path.insert(0, sys.argv[4] + "/tests/integration")
from contract import Contract
contract, bad = Contract(), []
for q in ("?format=json&manifest=run", "?format=json&channels=speed_kmh&hz=20&manifest=run"):
    with urllib.request.urlopen(base + q, timeout=10) as r:
        bad += contract.http_errors("GET", base[len(URL):] + q, r.status, r.read(),
                                    r.headers.get("Content-Type"))[1]
check("JSON exports with a manifest's channels, plain and with options, match the JSON Schema export-line",
      not bad, bad[:5])
sys.exit(1 if failed else 0)
PY
# the stream: /api/stream?manifest=run carries the derived channels in each frame
"$ROOT/build/tools/ws_client" --port "$AP" --path "/api/stream?manifest=run" \
	'send {"type":"set_rate","schema_version":1,"t_ms":0,"data":{"hz":20}}' 'wait 1500' >"$TMP/stream.out" 2>&1
python3 - "$TMP/stream.out" <<'PY' && pass "/api/stream?manifest=: hello names the manifest, every frame carries its channels (speed_ms = speed_kmh / 3.6, a derivative)" || fail "/api/stream?manifest=" "$(head -c 400 "$TMP/stream.out")"
import json, sys
msgs = [json.loads(l.split(" text ", 1)[1]) for l in open(sys.argv[1]) if " text " in l]
hello = msgs[0]["data"]
assert [c["name"] for c in hello["manifest"]["channels"]] == ["speed_ms", "speed_delta", "dist_m", "boost_kpa"], hello
frames = [m["data"]["frames"]["ksudp"] for m in msgs if m["type"] == "telemetry"]
assert len(frames) >= 15, len(frames)
for f in frames:
    assert abs(f["speed_ms"] - f["speed_kmh"] / 3.6) <= 1e-5 * max(1, f["speed_ms"]), f
    assert "boost_kpa" not in f
assert sum("speed_delta" in f for f in frames) >= len(frames) - 1
seqs = [f["seq"] for f in frames]
assert seqs == sorted(seqs)
PY
n=$(python3 "$ROOT/tests/integration/ws_check.py" schemas "$TMP/stream.out" 2>"$TMP/stream.schemas")
[ "$n" = 0 ] || cat "$TMP/stream.schemas" >&2
check "/api/stream?manifest=: every message matches its JSON Schema (frames with a manifest's channels)" test "$n" = 0
code=$(curl -s -o "$TMP/wsbad.json" -w '%{http_code}' "http://127.0.0.1:$AP/api/stream?manifest=nosuch" \
	-H 'Upgrade: websocket' -H 'Connection: Upgrade' -H 'Sec-WebSocket-Version: 13' \
	-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==')
check "/api/stream?manifest=nosuch: 400 before the handshake, naming manifest" \
	sh -c "test $code = 400 && grep -q 'manifest: there is no manifest' '$TMP/wsbad.json'"
"$BIN/pwctl" export "$sid" "$rid" --format csv --manifest run --out "$TMP/pwctl.csv" 2>/dev/null
curl -s "$URL/api/sessions/$sid/runs/$rid/export?format=csv&manifest=run" >"$TMP/api.csv"
check "pwctl export --manifest writes what the API does" cmp -s "$TMP/pwctl.csv" "$TMP/api.csv"
"$BIN/pwctl" export "$sid" "$rid" --manifest nosuch >/dev/null 2>"$TMP/pwctl.err"
rc=$?
check "pwctl export --manifest naming no manifest: exit 1, not_found" sh -c "test $rc -eq 1 && grep -q 'not_found' '$TMP/pwctl.err'"
# laps on distance and their comparison: two laps the emulator drives as fast as it sends
kill "$SIM"
wait "$SIM" 2>/dev/null
rid2=$("$BIN/pwctl" run start "$sid" ksudp | jf 'd["id"]')
f0=$(feed_field ksudp frames)
"$BIN/pw-sim" --feed ksudp --port "$KS" --mode laps --laps 2 --rate 60 --fast --seed 3 >/dev/null 2>&1
wait_for 10 feed_at_least ksudp frames $((f0 + 100))
sleep 1
"$BIN/pwctl" run stop "$sid" "$rid2" >/dev/null
python3 - "$URL" "$sid" "$rid2" <<'PY' || FAILED=1
import json, sys, urllib.request, urllib.error

URL, sid, rid = sys.argv[1:]
failed = False

def check(name, ok, detail=""):
    global failed
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)[:300]))
    failed |= not ok

def get(path):
    try:
        r = urllib.request.urlopen(URL + path, timeout=60)
        return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())

st, lap = get("/api/sessions/%s/runs/%s/laps/2?manifest=run&channels=speed_kmh,speed_ms,dist_m&step_m=5" % (sid, rid))
ch = lap.get("channels", {}) if st == 200 else {}
check("a lap on distance with ?manifest=: its channels resampled (speed_ms = speed_kmh / 3.6)",
      st == 200 and len(ch.get("speed_ms", [])) == len(lap["distance_m"]) and
      all(abs(a / 3.6 - b) <= 0.01 for a, b in zip(ch["speed_kmh"], ch["speed_ms"])), (st, lap))
# (AC has no game clock and the emulator sent as fast as it could: the receive
# times bunch up, so the integral's size says nothing here; its shape does)
check("... the integral over the lap's frames never goes down along the lap",
      st == 200 and all(b >= a - 1e-3 for a, b in zip(ch["dist_m"], ch["dist_m"][1:])) and
      ch["dist_m"][-1] > ch["dist_m"][0], ch.get("dist_m", [])[:5])
st, cmp = get("/api/compare?ref=%s/%s/1&lap=%s/%s/2&manifest=run&channels=speed_ms&step_m=10" % (sid, rid, sid, rid))
check("compare with ?manifest=: the reference's and the lap's derived channel",
      st == 200 and "speed_ms" in cmp["ref"]["channels"] and "speed_ms" in cmp["laps"][0]["channels"], (st, cmp))
st, e = get("/api/sessions/%s/runs/%s/laps/2?manifest=nosuch" % (sid, rid))
check("a lap with ?manifest=nosuch: 400 naming manifest", st == 400 and e["error"]["message"].startswith("manifest"), e)
st, e = get("/api/sessions/%s/runs/%s/laps/2?channels=speed_ms" % (sid, rid))
check("a manifest's channel without ?manifest=: 400, unknown channel", st == 400 and "speed_ms" in e["error"]["message"], e)
sys.exit(1 if failed else 0)
PY
curl -s "$URL/api/sessions/$sid/runs/$rid2/laps/2?manifest=run&channels=speed_ms&step_m=5" >"$TMP/lap-api.json"
"$BIN/pwctl" lap "$sid" "$rid2" 2 --channels speed_ms --manifest run --step 5 --out "$TMP/lap-pwctl.json" 2>/dev/null
check "pwctl lap --manifest answers what the API does" python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' "$TMP/lap-api.json" "$TMP/lap-pwctl.json"
finish
