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

python3 - "$URL" <<'PY' || FAILED=1
import json, sys, urllib.request, urllib.error

URL = sys.argv[1]
failed = False

def call(method, path, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(URL + path, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read()
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        text = e.read()
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
sys.exit(1 if failed else 0)
PY

check "the manifest is a file in the data dir" test -s "$PITWALL_DATA_DIR/manifests/power.json"
kill "$STORE"
wait "$STORE" 2>/dev/null
start store2 "$BIN/pw-store"
wait_for 10 store_up || fail "pw-store answers after a restart"
got=$(python3 -c 'import json,sys,urllib.request; d=json.load(urllib.request.urlopen(sys.argv[1] + "/api/manifests/power", timeout=5)); print([c["formula"] for c in d["channels"]])' "$URL" 2>&1)
check "the manifest survives a store restart" test "$got" = "['power_w / 1000', 'brake_temp_c_fl / brake_temp_c_rl', 'derivative(speed_kmh)']"
finish
