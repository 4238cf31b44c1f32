#!/usr/bin/env bash
# Integration: track and car names with spaces, parentheses, slashes and colons
# are valid keys (common/ids.h slugs), through the real processes and the REST
# API. pw-sim drives Forza Motorsport (2023), whose track ordinal the decoder
# names from the public list ("WeatherTech Raceway Laguna Seca (Full
# Circuit)") and whose unlisted car stays "car_ordinal:0":
# - a track_mapping build for that track: stored under its slug with the real
#   name inside, listed with its slug, found by the URL-encoded real name and
#   by the slug (model and corners), deleted by the real name;
# - a build under a name with a slash and a colon (given in the body): found by
#   its slug; a second name cannot take a slug another name holds on disk;
# - a model stored before slugs existed (Monza.json) still loads;
# - car characteristics of "car_ordinal:0" (from a real shift_points analysis)
#   and of a stored session's car with a slash, parentheses and a colon, by the
#   encoded name and by the slug;
# - bad names: a control character in track_name, a bad game -> 400 naming it.
. "$(dirname "$0")/lib.sh"
bp=$(free_tcp_port)
export PITWALL_BUS=tcp://127.0.0.1:$bp PITWALL_BUS_IN=tcp://127.0.0.1:$((bp + 1))
FZ=$(free_udp_port)
AP=$(free_tcp_port)
export PITWALL_FEEDS=forza:$FZ PITWALL_API_PORT=$AP
URL=http://127.0.0.1:$AP
PW=$BIN/pwctl
store_up() { "$PW" call use_cases.list >/dev/null 2>&1; }
api_up() { api_store_up "$URL"; }
analysed() { s=$("$PW" session analysis "$1" 2>/dev/null | jf 'd.get("status", "done")'); [ "$s" = done ]; }

# data from before: a track model under its plain name and a completed shift_points
# session of a car whose name has a slash, parentheses and a colon
mkdir -p "$PITWALL_DATA_DIR/tracks/forza_motorsport_2023" "$PITWALL_DATA_DIR/sessions"
python3 - "$PITWALL_DATA_DIR" <<'PY'
import json, sys, uuid
d = sys.argv[1]
json.dump({"game": "forza_motorsport_2023", "track_name": "Monza", "source": "boundary_recording",
           "created_at": "2024-01-01T00:00:00Z", "corners": [{"number": 1}]},
          open(d + "/tracks/forza_motorsport_2023/Monza.json", "w"))
gears = [{"gear": g, "min_rpm": 3000, "max_rpm": 7800, "min_speed_kmh": 20.0 * g,
          "max_speed_kmh": 40.0 * g} for g in range(1, 7)]
for car in ("Porsche 911 GT3 R (991) / Cup: 2", "Ferrari 488 GT3 (Evo): 2020"):
    sid = str(uuid.uuid4())
    s = {"format": 1, "id": sid, "use_case": "shift_points", "label": car, "status": "completed",
         "created_ns": 1700000000000000000, "completed_ns": 1700000000000000001, "runs": [],
         "analysis": {"gears": gears, "recommended_shift_rpm": 7500}, "recording_id": None,
         "car_name": car}
    json.dump(s, open("%s/sessions/%s.json" % (d, sid), "w"))
PY

start capfz "$BIN/pw-capture" --feed forza --port "$FZ" --bind 127.0.0.1
start store "$BIN/pw-store"
wait_for 10 store_up || fail "store up"
start worker "$BIN/pw-analyze"
start api "$BIN/pw-api"
wait_for 30 api_up || fail "pw-api up"

drive() { # sid label mode laps
	local rid frames0
	rid=$("$PW" run start "$1" forza --label "$2" | jf 'd["id"]')
	frames0=$(feed_field forza frames)
	"$BIN/pw-sim" --feed forza --port "$FZ" --mode "$3" --laps "$4" --rate 60 --fast --seed 3 \
		>"$TMP/truth-$2.json" 2>"$TMP/sim-$2.log"
	wait_for 10 feed_at_least forza frames $((frames0 + 100))
	sleep 1 # the last frames reach the run's file
	"$PW" run stop "$1" "$rid" >/dev/null
}

sid=$("$PW" session create track_mapping | jf 'd["id"]')
drive "$sid" left left 1
drive "$sid" right right 1
"$PW" session complete "$sid" >/dev/null
check "runs keep the game's names: track with spaces and parentheses, car with a colon" \
	test "$("$PW" session get "$sid" | jf '[d["car_name"], sorted({r.get("track") for r in d["runs"]})]')" = \
	"['car_ordinal:0', ['WeatherTech Raceway Laguna Seca (Full Circuit)']]"

python3 - "$URL" "$sid" "$PITWALL_DATA_DIR" <<'PY' || FAILED=1
import json, os, sys, urllib.error, urllib.parse, urllib.request
url, sid, data = sys.argv[1:4]
GAME = "forza_motorsport_2023"
REAL = "WeatherTech Raceway Laguna Seca (Full Circuit)"
SLASHED = "Circuit Paul Ricard (1A-V2) / Test: Mistral"
ok = True

def req(method, path, body=None):
    r = urllib.request.Request(url + path, method=method,
                               data=json.dumps(body).encode() if body is not None else None,
                               headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(r, timeout=60) as resp:
            t = resp.read().decode()
            return resp.status, json.loads(t) if t else None
    except urllib.error.HTTPError as e:
        t = e.read().decode()
        return e.code, json.loads(t) if t else None

def check(name, cond, detail=""):
    global ok
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else ": %s" % str(detail)[:400]))
    ok &= bool(cond)

def q(s):
    return urllib.parse.quote(s, safe="")

s, model = req("POST", "/api/tracks/build", {"session_id": sid})
check("build for the run's track: 201, the real name in the model",
      s == 201 and model["track_name"] == REAL and model["game"] == GAME and model["corners"], (s, model))
s, rows = req("GET", "/api/tracks")
row = [r for r in rows if r["track_name"] == REAL] if s == 200 else []
files = os.listdir(os.path.join(data, "tracks", GAME))
slug = ([f[:-5] for f in files if f.startswith("weathertech_raceway_laguna_seca_full_circuit--")] or [None])[0]
check("GET /api/tracks: the real name (no slug shown: the name travels URL-encoded)",
      len(row) == 1 and "slug" not in row[0], rows)
check("on disk: <slug>.json, safe characters only", slug and slug + ".json" in files and
      all(set(f) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") for f in files),
      files)
s, got = req("GET", "/api/tracks/%s/%s" % (GAME, q(REAL)))
check("GET by the URL-encoded real name: the model", s == 200 and got.get("track_name") == REAL
      and got.get("corners") == model.get("corners"), (s, str(got)[:200]))
s, got = req("GET", "/api/tracks/%s/%s" % (GAME, slug))
check("GET by the slug: the same model", s == 200 and got.get("track_name") == REAL, (s, str(got)[:200]))
s, c1 = req("GET", "/api/tracks/%s/%s/corners" % (GAME, q(REAL)))
s2, c2 = req("GET", "/api/tracks/%s/%s/corners" % (GAME, slug))
check("corners by real name and by slug", s == 200 and s2 == 200 and c1 == c2 == model["corners"], (s, s2))

s, m2 = req("POST", "/api/tracks/build", {"session_id": sid, "track_name": SLASHED})
check("build under a name with a slash and a colon: 201", s == 201 and m2.get("track_name") == SLASHED, (s, m2))
s, rows = req("GET", "/api/tracks")
row = [r for r in rows if r["track_name"] == SLASHED] if s == 200 else []
slug2 = row[0].get("slug", "") if row else ""
check("a name with a slash is listed with its slug", slug2.startswith("circuit_paul_ricard_1a-v2_test_mistral--"),
      rows)
s, got = req("GET", "/api/tracks/%s/%s" % (GAME, slug2))
check("a name with a slash is found by its slug", bool(slug2) and s == 200 and got.get("track_name") == SLASHED,
      (slug2, s))
s, got = req("GET", "/api/tracks/%s/%s" % (GAME, q("Circuit Paul Ricard (1A-V2)")))
check("a different name does not find it", s == 404, s)
# a slug taken on disk by another name (a hand-made collision) is refused, not overwritten
p = os.path.join(data, "tracks", GAME, slug2 + ".json")
held = json.load(open(p))
held["track_name"] = "Someone Else"
json.dump(held, open(p, "w"))
s, got = req("POST", "/api/tracks/build", {"session_id": sid, "track_name": SLASHED})
check("a slug held by another real name: 409, the file kept", s == 409 and
      json.load(open(p))["track_name"] == "Someone Else", (s, got))

s, got = req("GET", "/api/tracks/%s/Monza" % GAME)
check("a model stored before slugs (Monza.json) still loads", s == 200 and got.get("track_name") == "Monza", s)
s, rows = req("GET", "/api/tracks")
check("and is listed without a slug (its name is its key)",
      any(r["track_name"] == "Monza" and "slug" not in r for r in rows), rows)

s, got = req("DELETE", "/api/tracks/%s/%s" % (GAME, q(REAL)))
s2, _ = req("GET", "/api/tracks/%s/%s" % (GAME, slug))
check("DELETE by the real name: 204, then 404 by the slug", s == 204 and s2 == 404, (s, s2))

s, got = req("POST", "/api/tracks/build", {"session_id": sid, "track_name": "bad\u0001name"})
check("a control character in track_name: 400 naming it", s == 400 and "track_name" in json.dumps(got), (s, got))
s, got = req("GET", "/api/tracks/%s/%s" % ("forza%20motorsport", q(REAL)))
check("a game that is not a name: 400", s == 400, (s, got))

s, cars = req("GET", "/api/characteristics/cars")
by = {c["car_name"]: c for c in cars} if s == 200 else {}
SL = "Porsche 911 GT3 R (991) / Cup: 2"
PAR = "Ferrari 488 GT3 (Evo): 2020"
check("stored cars with slashes, parentheses, colons are listed; the slash one with its slug",
      SL in by and PAR in by and by[SL].get("car_slug", "").startswith("porsche_911_gt3_r_991_cup_2--")
      and "car_slug" not in by[PAR], cars)
s, d = req("GET", "/api/characteristics/cars/" + q(PAR))
check("characteristics by the URL-encoded name", s == 200 and d["car_name"] == PAR and len(d["gears"]) == 6, (s, d))
s, d = req("GET", "/api/characteristics/cars/" + by.get(SL, {}).get("car_slug", "x"))
check("characteristics of the car with a slash, by its slug", s == 200 and d["car_name"] == SL, (s, d))
s, d = req("GET", "/api/characteristics/cars/" + q("No Such Car (1): x"))
check("an unknown car: 404", s == 404, s)
sys.exit(0 if ok else 1)
PY

# a real analysis of the car the decoder names "car_ordinal:0"
sid=$("$PW" session create shift_points | jf 'd["id"]')
drive "$sid" pulls pulls 3
"$PW" session complete "$sid" >/dev/null
wait_for 30 analysed "$sid" || fail "shift points analysed"
check "characteristics of car_ordinal:0 by the URL-encoded name" \
	test "$(python3 -c 'import json,sys,urllib.request; d=json.load(urllib.request.urlopen(sys.argv[1] + "/api/characteristics/cars/car_ordinal%3A0")); print(d["car_name"], d["session_count"], len(d["gears"]) >= 5)' "$URL")" = "car_ordinal:0 1 True"
finish
