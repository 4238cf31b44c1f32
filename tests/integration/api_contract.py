#!/usr/bin/env python3
"""api_contract.py BASE_URL - contract tests of pw-api against the seed's REST
reference: status codes and response shapes of every endpoint, the full flow
of a session, and bad input of every kind.

api_contract.py BASE_URL --flow PW_SIM KSUDP_PORT FORZA_PORT - the analysis
chain over HTTP only, driven by the emulator: a shift_points session of
full-throttle pulls (forza) analysed by the workers, the car's characteristics,
a track_mapping session of left/right boundary laps (ksudp) built into a track
model, the track endpoints, and deletes. Needs pw-analyze workers, captures of
both feeds and nothing else sending on the ksudp port (the emulator is the AC
server there).

Every response either run receives is validated against its JSON Schema
(docs/schemas, tests/integration/contract.py) and must carry the header
API-Version: v1; every request body that succeeds must match its request
schema. A violation is a FAIL line naming the schema and the path.

Prints PASS/FAIL lines; exit 1 on any failure. Run by
tests/integration/test_api.sh with the stack up."""
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from contract import Contract  # noqa: E402

BASE = sys.argv[1].rstrip("/")
FAILS = 0
CONTRACT = Contract()
SEEN = {"responses": 0, "schemas": set(), "requests": 0}


def validate(method, path, status, headers, text, sent):
    """The response's schema and header; a request body that succeeded, its schema."""
    SEEN["responses"] += 1
    if headers.get("API-Version") != "v1":
        check("header API-Version: v1 on %s %s" % (method, path), False, headers.get("API-Version"))
    name, errs = CONTRACT.http_errors(method, path, status, text, headers.get("Content-Type"))
    if name:
        SEEN["schemas"].add(name)
    for e in errs:
        check("schema %s: %s %s -> %d" % (name, method, path, status), False, e)
    if status < 400 and isinstance(sent, dict):
        rname = CONTRACT.endpoint_schema("request", method, path)
        SEEN["requests"] += 1
        if not rname:
            check("a request schema for %s %s" % (method, path), False, sent)
        for e in CONTRACT.errors(rname, sent) if rname else []:
            check("request schema %s accepts what %s %s accepted" % (rname, method, path), False, e)


def req(method, path, body=None, raw=None, headers=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    r = urllib.request.Request(BASE + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            s, h, text = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        s, h, text = e.code, e.headers, e.read()
    validate(method, path, s, h, text, body if raw is None else None)
    return s, h, text


def schemas_summary():
    check("every response (%d) had API-Version: v1 and matched its schema (%d schemas used), "
          "every accepted request body (%d) its request schema"
          % (SEEN["responses"], len(SEEN["schemas"]), SEEN["requests"]),
          SEEN["responses"] > 0 and FAILS == 0, FAILS)


def js(text):
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def check(name, cond, detail=""):
    global FAILS
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else ": " + str(detail)[:300]))
    FAILS += 0 if cond else 1


def error_object(text, code=None):
    o = js(text)
    ok = isinstance(o, dict) and set(o) == {"api_version", "error"} and o["api_version"] == "v1" \
        and set(o["error"]) >= {"code", "message"}
    return ok and (code is None or o["error"]["code"] == code)


SESSION_KEYS = {"id", "use_case", "label", "status", "created_at", "completed_at", "runs",
                "analysis", "guidance", "recording_id", "car_name"}
RUN_KEYS = {"id", "label", "feed_name", "status", "start_marker", "end_marker", "frame_count",
            "data_truncated"}

TRACK_KEYS = {"game", "track_name", "center_line", "left_boundary", "right_boundary", "track_width",
              "heading", "curvature", "corners", "sectors", "source", "created_at"}
GEAR_KEYS = {"gear", "min_rpm", "max_rpm", "min_speed_kmh", "max_speed_kmh"}


def feed_frames(feed):
    s, _, t = req("GET", "/api/feeds")
    rows = [f for f in (js(t) or []) if f.get("feed") == feed] if s == 200 else []
    return rows[0].get("frames", 0) if rows else 0


def drive(sim, port, sid, label, mode, laps, feed):
    """One run over HTTP: start it, let the emulator send MODE for LAPS laps as
    fast as it can (test_analysis.sh's invocation), wait until the capture has
    decoded every frame it sent, stop it. Returns (stopped run, truth, frames sent)."""
    s, _, t = req("POST", "/api/sessions/%s/runs" % sid, {"feed_name": feed, "label": label})
    run = js(t)
    check("flow: POST .../runs 201, recording (%s on %s)" % (label, feed),
          s == 201 and RUN_KEYS <= set(run) and run["status"] == "recording" and run["label"] == label, t)
    if s != 201:
        return None, None, 0
    f0 = feed_frames(feed)
    # ksudp: the capture handshakes with the emulator within 2 s; it ends after its laps
    p = subprocess.run([sim, "--feed", feed, "--port", str(port), "--mode", mode, "--laps", str(laps),
                        "--rate", "60", "--fast", "--seed", "3"], capture_output=True, timeout=60)
    truth = json.loads(p.stdout.decode().splitlines()[0])
    sent = [int(n) for n in re.findall(r"\bframes=(\d+)", p.stderr.decode())]
    sent = sent[-1] if sent else 0
    # every frame sent is in the ring (or the count stopped growing: lost frames then
    # show in frame_count below)
    deadline, last, since = time.monotonic() + 15, -1, time.monotonic()
    while time.monotonic() < deadline:
        n = feed_frames(feed) - f0
        if n >= sent > 0:
            break
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since > 1.5 and n > 0:
            break
        time.sleep(0.05)
    s, _, t = req("POST", "/api/sessions/%s/runs/%s/stop" % (sid, run["id"]))
    stopped = js(t)
    check("flow: POST .../runs/{run_id}/stop 200: the %s run holds all %d frames the emulator sent"
          % (label, sent),
          p.returncode == 0 and s == 200 and RUN_KEYS <= set(stopped) and stopped["status"] == "stopped"
          and stopped["frame_count"] == sent > 0 and stopped["data_truncated"] is False
          and stopped["end_marker"] - stopped["start_marker"] >= sent,
          (p.returncode, s, t, sent))
    return stopped, truth, sent


def analysis_of(sid, seconds=30):
    """GET .../analysis until it is no longer pending (a bounded loop)."""
    deadline = time.monotonic() + seconds
    while True:
        s, _, t = req("GET", "/api/sessions/%s/analysis" % sid)
        a = js(t)
        if s != 200 or not (isinstance(a, dict) and a.get("status") == "pending") or \
                time.monotonic() > deadline:
            return s, a, t
        time.sleep(0.1)


def flow(sim, ksudp_port, forza_port):
    # --- shift points: pulls on forza (it has the game's clock) -> analysis -> characteristics
    s, _, t = req("POST", "/api/sessions", {"use_case": "shift_points", "label": "flow pulls"})
    sess = js(t)
    check("flow: POST /api/sessions 201, active, no runs, the use case's guidance",
          s == 201 and SESSION_KEYS <= set(sess) and sess["status"] == "active" and sess["runs"] == []
          and isinstance(sess["guidance"], str) and sess["guidance"] != "", t)
    sid = sess["id"]
    run, truth, sent = drive(sim, forza_port, sid, "pulls", "pulls", 3, "forza")
    s, _, t = req("GET", "/api/sessions/" + sid)
    got = js(t)
    car = got.get("car_name") if s == 200 else None
    check("flow: GET /api/sessions/{id}: the stopped run and the car's name",
          s == 200 and [r["id"] for r in got["runs"]] == [run["id"]] and got["runs"][0]["status"] == "stopped"
          and isinstance(car, str) and car != "", t)
    s, _, t = req("POST", "/api/sessions/%s/complete" % sid)
    done = js(t)
    check("flow: POST .../complete 200: completed, analysis pending with a job id",
          s == 200 and done["status"] == "completed" and done["analysis"]["status"] == "pending"
          and done["analysis"]["job_id"], t)
    s, a, t = analysis_of(sid)
    check("flow: GET .../analysis 200 within 30 s: the shift points of every gear",
          s == 200 and isinstance(a, dict) and "status" not in a
          and {"gears", "recommended_shift_rpm", "runs_analyzed", "total_frames_analyzed"} <= set(a)
          and a["runs_analyzed"] == 1 and a["total_frames_analyzed"] == run["frame_count"]
          and [g["gear"] for g in a["gears"]][:5] == [1, 2, 3, 4, 5]
          and all(GEAR_KEYS | {"optimal_upshift_rpm"} <= set(g) for g in a["gears"]), t)
    rec = truth["recommended_shift_rpm"]
    check("flow: the analysis' recommended shift rpm within 3 % of the emulator's truth",
          isinstance(a, dict) and abs(a.get("recommended_shift_rpm", 0) - rec) / rec < 0.03,
          (a.get("recommended_shift_rpm") if isinstance(a, dict) else a, rec))
    s, _, t = req("GET", "/api/sessions/" + sid)
    check("flow: the session holds the same analysis", s == 200 and js(t)["analysis"] == a, t)

    s, _, t = req("GET", "/api/characteristics/cars")
    cars = js(t)
    mine = [c for c in cars if c.get("car_name") == car] if s == 200 and isinstance(cars, list) else []
    check("flow: GET /api/characteristics/cars 200: the car, one session, its recommended shift rpm",
          len(mine) == 1 and set(mine[0]) == {"car_name", "session_count", "recommended_shift_rpm"}
          and mine[0]["session_count"] == 1
          and abs(mine[0]["recommended_shift_rpm"] - a["recommended_shift_rpm"]) < 1, t)
    car_path = "/api/characteristics/cars/" + urllib.parse.quote(car or "x", safe="")
    s, _, t = req("GET", car_path)
    d = js(t)
    check("flow: GET /api/characteristics/cars/{car} 200: per-gear rpm and speed ranges",
          s == 200 and {"car_name", "gears", "recommended_shift_rpm", "session_count"} <= set(d)
          and d["car_name"] == car and d["session_count"] == 1 and len(d["gears"]) >= 5
          and all(GEAR_KEYS <= set(g) and g["min_rpm"] <= g["max_rpm"] for g in d["gears"]), t)

    # --- track mapping: left and right boundary laps on ksudp -> build -> tracks ------------
    s, _, t = req("POST", "/api/sessions", {"use_case": "track_mapping"})
    tsid = js(t)["id"] if s == 201 else "00000000-0000-4000-8000-000000000000"
    check("flow: POST /api/sessions 201 (track_mapping)", s == 201 and js(t)["use_case"] == "track_mapping", t)
    _, truth_left, _ = drive(sim, ksudp_port, tsid, "left", "left", 1, "ksudp")
    drive(sim, ksudp_port, tsid, "right", "right", 1, "ksudp")
    s, _, t = req("POST", "/api/tracks/build", {"session_id": tsid})
    check("flow: POST /api/tracks/build before complete: 409", s == 409 and error_object(t, "conflict"), t)
    s, _, t = req("POST", "/api/sessions/%s/complete" % tsid)
    check("flow: POST .../complete 200 (track_mapping)", s == 200 and js(t)["status"] == "completed", t)
    s, _, t = req("POST", "/api/tracks/build", {"session_id": tsid})
    model = js(t)
    tt = truth_left["track"] if truth_left else {"name": "?", "corner_count": -1, "corners": []}
    ok = s == 201 and isinstance(model, dict) and TRACK_KEYS <= set(model)
    n = len(model["center_line"]) if ok else 0
    check("flow: POST /api/tracks/build 201: the seed's TrackModel from the left/right runs",
          ok and model["source"] == "boundary_recording" and model["game"] == "assetto_corsa"
          and model["track_name"] == tt["name"] and n > 100
          and all(len(model[k]) == n for k in ("left_boundary", "right_boundary", "track_width", "heading",
                                               "curvature"))
          and all(len(pt) == 2 for pt in model["center_line"]) and model["sectors"], str(t)[:300])
    check("flow: the track model's corners are the emulator's track's (count and directions)",
          ok and [c["direction"] for c in model["corners"]] == [c["direction"] for c in tt["corners"]]
          and len(model["corners"]) == tt["corner_count"] > 0,
          ([c.get("direction") for c in model.get("corners", [])] if ok else t, tt["corner_count"]))
    game, track = (model["game"], model["track_name"]) if ok else ("assetto_corsa", "pitwall_ring")
    tpath = "/api/tracks/%s/%s" % (game, track)
    s, _, t = req("GET", "/api/tracks")
    rows = [r for r in (js(t) or []) if r.get("game") == game and r.get("track_name") == track]
    check("flow: GET /api/tracks 200: the track's summary with its corner count",
          s == 200 and len(rows) == 1
          and set(rows[0]) == {"game", "track_name", "source", "created_at", "corner_count"}
          and rows[0]["corner_count"] == tt["corner_count"] and rows[0]["source"] == "boundary_recording", t)
    s, _, t = req("GET", tpath)
    got = js(t)
    check("flow: GET /api/tracks/{game}/{track_name} 200: the model that was built",
          s == 200 and ok and TRACK_KEYS <= set(got)
          and all(got[k] == model[k] for k in TRACK_KEYS - {"created_at"}), str(t)[:300])
    s, _, t = req("GET", tpath + "/corners")
    corners = js(t)
    check("flow: GET /api/tracks/{game}/{track_name}/corners 200: the model's corners",
          s == 200 and ok and corners == model["corners"]
          and all({"index", "direction", "apex_dist_m", "angle_deg", "min_radius_m"} <= set(c) for c in corners),
          str(t)[:300])
    s, a, t = analysis_of(tsid)
    check("flow: GET .../analysis of the track_mapping session 200 (the other worker's result)",
          s == 200 and isinstance(a, dict) and a.get("status") not in ("pending", "failed"), str(t)[:300])

    # --- deletes: 204, then gone ----------------------------------------------------------
    s, _, t = req("DELETE", tpath)
    check("flow: DELETE /api/tracks/{game}/{track_name} 204, no body", s == 204 and not t, t)
    s, _, t = req("GET", tpath)
    check("flow: the deleted track: 404", s == 404 and error_object(t, "not_found"), t)
    s, _, t = req("GET", "/api/tracks")
    check("flow: GET /api/tracks no longer lists it",
          s == 200 and not any(r.get("game") == game and r.get("track_name") == track for r in js(t)), t)
    for x, uc in ((tsid, "track_mapping"), (sid, "shift_points")):
        s, _, t = req("DELETE", "/api/sessions/" + x)
        check("flow: DELETE /api/sessions/{id} 204, no body (%s)" % uc, s == 204 and not t, t)
        s, _, t = req("GET", "/api/sessions/" + x)
        check("flow: the deleted %s session: 404" % uc, s == 404 and error_object(t, "not_found"), t)
    s, _, t = req("GET", car_path)
    check("flow: the car's only session deleted: its characteristics 404", s == 404 and error_object(t, "not_found"), t)


if len(sys.argv) > 2:
    if sys.argv[2:3] != ["--flow"] or len(sys.argv) != 6:
        sys.exit(__doc__)
    try:
        flow(sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    except Exception as e:  # a broken step must show as a FAIL line, not only a traceback
        check("flow: completes without an unexpected error", False, "%s: %s" % (type(e).__name__, e))
        raise
    schemas_summary()
    sys.exit(1 if FAILS else 0)

# --- the schemas themselves ----------------------------------------------------------
import contract  # noqa: E402
bad = contract.check(CONTRACT)
check("docs/schemas: %d valid draft 2020-12 schemas, ids as paths, every $ref resolves" % len(CONTRACT.files),
      not bad, bad[:5])
bad = contract.coverage(CONTRACT)
check("every endpoint of docs/api.md has its response and request schemas", not bad, bad[:10])

# --- metadata and live -------------------------------------------------------------
s, _, t = req("GET", "/api/health")
check("GET /api/health 200 with status", s == 200 and js(t)["status"] == "ok", t)
s, _, t = req("GET", "/api/live")
live = js(t)
check("GET /api/live: per feed health, frequency and the latest frame",
      s == 200 and live["feeds"]["ksudp"]["status"] == "up" and live["feeds"]["ksudp"]["frequency_hz"] > 0
      and {"speed_kmh", "rpm", "gear", "throttle", "brake", "lap_time_ms"} <= set(live["feeds"]["ksudp"]["frame"]), t)
s, _, t = req("GET", "/api/feeds")
check("GET /api/feeds: counters of every feed",
      s == 200 and {"feed", "status", "received", "decoded", "wrong_size", "unknown_format", "kernel_drops"}
      <= set(js(t)[0]), t)
s, _, t = req("GET", "/api/use-cases")
check("GET /api/use-cases: the four use case names as strings (the seed's UseCase::all())",
      s == 200 and js(t) == ["shift_points", "car_grip", "track_mapping", "general"], t)
s, _, t = req("GET", "/api/games")
names = js(t)
check("GET /api/games: every decoded game as a name string, the seed's four included",
      s == 200 and isinstance(names, list) and all(isinstance(g, str) for g in names)
      and {"assetto_corsa", "assetto_corsa_competizione", "project_cars_1", "project_cars_2"} <= set(names)
      and len(names) >= 11 and len(set(names)) == len(names), t)

# --- sessions and runs: the full flow -------------------------------------------------
s, h, t = req("POST", "/api/sessions", {"use_case": "shift_points", "label": "contract"})
sess = js(t)
check("POST /api/sessions 201 with the seed's session shape, the use case's guidance in it",
      s == 201 and SESSION_KEYS <= set(sess) and isinstance(sess["guidance"], str) and sess["guidance"], t)
sid = sess["id"]
s, _, t = req("GET", "/api/sessions")
check("GET /api/sessions lists it", s == 200 and any(x["id"] == sid for x in js(t)), t)
s, _, t = req("GET", "/api/sessions/" + sid)
check("GET /api/sessions/{id} 200", s == 200 and js(t)["id"] == sid and js(t)["status"] == "active", t)
s, _, t = req("POST", "/api/sessions/%s/runs" % sid, {"feed_name": "ksudp", "label": "pulls"})
run = js(t)
check("POST /api/sessions/{id}/runs 201 with the seed's run shape",
      s == 201 and RUN_KEYS <= set(run) and run["status"] == "recording" and run["end_marker"] is None, t)
time.sleep(1.5)
s, _, t = req("POST", "/api/sessions/%s/runs/%s/stop" % (sid, run["id"]))
stopped = js(t)
check("POST .../runs/{run_id}/stop 200: stopped, end_marker, frames",
      s == 200 and stopped["status"] == "stopped" and stopped["frame_count"] > 0
      and stopped["frame_count"] == stopped["end_marker"] - stopped["start_marker"], t)
s, h, t = req("GET", "/api/sessions/%s/runs/%s/export?format=csv" % (sid, run["id"]))
lines = t.decode().splitlines()
check("GET .../export?format=csv: header + one row per frame",
      s == 200 and h["Content-Type"].startswith("text/csv") and len(lines) == stopped["frame_count"] + 1, len(lines))
s, h, t = req("GET", "/api/sessions/%s/runs/%s/export?format=json" % (sid, run["id"]))
rows = [json.loads(l) for l in t.decode().splitlines()]
check("GET .../export?format=json: JSON lines in sequence",
      s == 200 and len(rows) == stopped["frame_count"] and rows[0]["seq"] == stopped["start_marker"], len(rows))
s, h, t = req("GET", "/api/sessions/%s/runs/%s/export?format=json&hz=10&channels=speed_kmh,pos_m_x,abs,derived"
             % (sid, run["id"]))
rows = [json.loads(l) for l in t.decode().splitlines()]
check("GET .../export?format=json with options: rows of time_s and the asked columns (schema export-line)",
      s == 200 and rows and all(set(r) <= {"time_s", "speed_kmh", "pos_m_x", "abs", "derived"} and "time_s" in r
                                for r in rows), t[:200])
s, _, t = req("GET", "/api/sessions/%s/runs/%s/export?format=xml" % (sid, run["id"]))
check("export in an unknown format: 400", s == 400 and error_object(t, "bad_request"), t)
s, _, t = req("GET", "/api/sessions/%s/laps" % sid)
check("GET /api/sessions/{id}/laps 200 (a list)", s == 200 and isinstance(js(t), list), t)
s, _, t = req("GET", "/api/sessions/%s/analysis" % sid)
check("GET .../analysis of an active session: 409", s == 409 and error_object(t, "conflict"), t)
s, _, t = req("POST", "/api/sessions/%s/complete" % sid)
check("POST .../complete 200: completed, analysis queued",
      s == 200 and js(t)["status"] == "completed" and js(t)["completed_at"], t)
s, _, t = req("POST", "/api/sessions/%s/complete" % sid)
check("complete twice: 409", s == 409 and error_object(t, "conflict"), t)
s, _, t = req("GET", "/api/sessions/%s/analysis" % sid)
check("GET .../analysis 200", s == 200, t)
s, _, t = req("POST", "/api/sessions/%s/analyze" % sid)
check("POST .../analyze 200 (re-analysis queued)", s == 200 and js(t)["status"] == "completed", t)
s, _, t = req("POST", "/api/sessions/%s/reopen" % sid)
check("POST .../reopen 200: active, analysis cleared",
      s == 200 and js(t)["status"] == "active" and js(t)["analysis"] is None, t)
s, _, t = req("DELETE", "/api/sessions/%s/runs/%s" % (sid, run["id"]))
check("DELETE .../runs/{run_id} 204, no body", s == 204 and not t, t)
s, _, t = req("DELETE", "/api/sessions/%s/runs/%s" % (sid, run["id"]))
check("DELETE an unknown run: 404", s == 404 and error_object(t, "not_found"), t)

# --- recordings ----------------------------------------------------------------------
s, _, t = req("POST", "/api/recordings", {"name": "contract", "notes": "api test"})
rec = js(t)
check("POST /api/recordings 201", s == 201 and rec["id"] and rec["status"] == "active", t)
s, _, t = req("POST", "/api/recordings", {})
check("a second active recording: 409", s == 409 and error_object(t, "conflict"), t)
time.sleep(1.2)
s, _, t = req("POST", "/api/recordings/stop")
check("POST /api/recordings/stop 200", s == 200 and js(t)["status"] == "stopped", t)
s, _, t = req("GET", "/api/recordings")
check("GET /api/recordings lists it", s == 200 and any(r["id"] == rec["id"] for r in js(t)), t)
s, _, t = req("GET", "/api/recordings/" + rec["id"])
check("GET /api/recordings/{id} 200", s == 200 and js(t)["name"] == "contract", t)
s, h, t = req("GET", "/api/recordings/%s/data/ksudp" % rec["id"])
check("GET .../data/{feed_name}: a pcap file", s == 200 and t[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"), t[:8])
s, _, t = req("POST", "/api/recordings/%s/stop" % rec["id"])
check("POST /api/recordings/{id}/stop of a stopped one: 409", s == 409, t)
s, _, t = req("DELETE", "/api/recordings/" + rec["id"])
check("DELETE /api/recordings/{id} 204", s == 204, t)
s, _, t = req("GET", "/api/recordings/" + rec["id"])
check("deleted recording: 404", s == 404 and error_object(t, "not_found"), t)

# --- tracks and characteristics ------------------------------------------------------------
s, _, t = req("GET", "/api/tracks")
check("GET /api/tracks 200 (a list)", s == 200 and isinstance(js(t), list), t)
s, _, t = req("GET", "/api/tracks/assetto_corsa/nowhere")
check("GET an unknown track: 404", s == 404 and error_object(t, "not_found"), t)
s, _, t = req("GET", "/api/tracks/assetto_corsa/nowhere/corners")
check("GET corners of an unknown track: 404", s == 404, t)
s, _, t = req("DELETE", "/api/tracks/assetto_corsa/nowhere")
check("DELETE an unknown track: 404", s == 404, t)
s, _, t = req("POST", "/api/tracks/build", {"session_id": sid})
check("POST /api/tracks/build from a non-track session: 409", s == 409 and error_object(t, "conflict"), t)
s, _, t = req("GET", "/api/characteristics/cars")
check("GET /api/characteristics/cars 200 (a list)", s == 200 and isinstance(js(t), list), t)
s, _, t = req("GET", "/api/characteristics/cars/No%20Such%20Car")
check("GET an unknown car: 404", s == 404 and error_object(t, "not_found"), t)

# --- bad input: nothing stored changes, the server stays up --------------------------------------
before = len(js(req("GET", "/api/sessions")[2]))
bad = [
    ("malformed JSON", "POST", "/api/sessions", None, b"{\"use_case\":", 400),
    ("a JSON array body", "POST", "/api/sessions", None, b"[1,2]", 400),
    ("a wrong type", "POST", "/api/sessions", {"use_case": 7}, None, 400),
    ("an unknown field", "POST", "/api/sessions", {"use_case": "general", "evil": True}, None, 400),
    ("an unknown use case", "POST", "/api/sessions", {"use_case": "drift"}, None, 400),
    ("a huge body", "POST", "/api/sessions", None, b"{\"label\":\"" + b"x" * 70000 + b"\"}", 413),
    ("a path parameter in the body", "POST", "/api/sessions/%s/runs" % sid, {"feed_name": "ksudp", "session_id": sid}, None, 400),
    ("an unknown feed", "POST", "/api/sessions/%s/runs" % sid, {"feed_name": "nope"}, None, 400),
    ("duplicate keys", "POST", "/api/sessions", None, b"{\"use_case\":\"general\",\"use_case\":\"car_grip\"}", 400),
]
for name, m, p, body, raw, want in bad:
    s, _, t = req(m, p, body, raw)
    check("bad input, %s: %d with the error object" % (name, want), s == want and error_object(t), (s, t))
    rname = CONTRACT.endpoint_schema("request", m, p)
    if isinstance(body, dict) and name != "an unknown feed":  # which feeds exist, no schema can say
        check("bad input, %s: the request schema %s refuses it too" % (name, rname),
              rname is not None and CONTRACT.errors(rname, body) != [], (rname, body))
for p in ["/api/sessions/..%2f..%2fetc%2fpasswd", "/api/sessions/%2e%2e", "/api/recordings/..%2fx",
          "/api/recordings/%s/data/..%%2f..%%2fetc" % rec["id"], "/api/tracks/..%2f/x",
          "/api/tracks/assetto_corsa/..%2f..%2fsessions", "/api/sessions/%s/runs/..%%2fx/stop" % sid,
          "/api/characteristics/cars/a%2fb"]:
    s, _, t = req("GET" if "stop" not in p else "POST", p)
    check("path traversal in %s: refused (400/404)" % p, s in (400, 404) and error_object(t), (s, t))
for p in ["/api/sessions/00000000-0000-4000-8000-000000000000", "/api/recordings/00000000-0000-4000-8000-000000000000"]:
    s, _, t = req("GET", p)
    check("unknown id %s: 404" % p, s == 404 and error_object(t, "not_found"), t)
s, _, t = req("PUT", "/api/sessions")
check("a method an endpoint does not have: 405", s == 405 and error_object(t), t)
s, _, t = req("GET", "/api/nope")
check("an unknown endpoint: 404", s == 404 and error_object(t, "not_found"), t)
after = len(js(req("GET", "/api/sessions")[2]))
check("bad input stored nothing", before == after, (before, after))
s, _, t = req("GET", "/api/health")
check("the server is still up", s == 200, t)

# --- versions: /api/v1/... is /api/...; errors carry api_version --------------------------------
for p in ["/api/health", "/api/games", "/api/use-cases", "/api/sessions", "/api/sessions/" + sid, "/api/recordings",
          "/api/tracks", "/api/characteristics/cars", "/api/channels", "/api/channels/rpm", "/api/schemas",
          "/api/sessions/%s/laps" % sid, "/api/nope", "/api/sessions/00000000-0000-4000-8000-000000000000"]:
    s1, _, t1 = req("GET", p)
    s2, h2, t2 = req("GET", "/api/v1" + p[len("/api"):])
    same = js(t1) == js(t2) if s1 < 400 else js(t1)["error"]["code"] == js(t2)["error"]["code"]
    check("GET /api/v1%s is GET %s (%d, the same %s)" % (p[len("/api"):], p, s1, "body" if s1 < 400 else "error"),
          s1 == s2 and same and h2.get("API-Version") == "v1", (s1, s2, t2[:200]))
s, _, t = req("POST", "/api/v1/sessions", {"use_case": "car_grip", "label": "v1"})
v1s = js(t) if s == 201 else {"id": "00000000-0000-4000-8000-000000000000"}
check("POST /api/v1/sessions 201: a session", s == 201 and v1s["use_case"] == "car_grip", t)
s, _, t = req("GET", "/api/sessions/" + v1s["id"])
check("the session made under /api/v1 is the one /api/ shows", s == 200 and js(t)["label"] == "v1", t)
s, _, t = req("DELETE", "/api/v1/sessions/" + v1s["id"])
check("DELETE /api/v1/sessions/{id} 204", s == 204 and not t, t)
for m, p, want in [("PUT", "/api/v1/sessions", 405), ("GET", "/api/v1", 404), ("GET", "/api/v2/sessions", 404),
                   ("GET", "/api/v1/v1/sessions", 404)]:
    s, h, t = req(m, p)
    check("%s %s: %d with {\"api_version\":\"v1\",\"error\"} and the header" % (m, p, want),
          s == want and error_object(t) and h.get("API-Version") == "v1", (s, t))


def raw_http(data):
    """Send data as it is; the answer's (status line, headers, body)."""
    import socket
    u = urllib.parse.urlsplit(BASE)
    sock = socket.create_connection((u.hostname, u.port), 5)
    sock.sendall(data)
    sock.settimeout(5)
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = dict(l.split(": ", 1) for l in lines[1:] if ": " in l)
    want = int(hdrs.get("Content-Length", "0"))
    while len(body) < want:
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    sock.close()
    return lines[0], hdrs, body[:want] if want else body


def upgrade(path):
    """A WebSocket upgrade request on path: (status line, headers, body) of the answer."""
    return raw_http(("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                     % path).encode())


for name, data, want in [("a malformed request line", b"GARBAGE\r\n\r\n", 400),
                         ("headers over 16 KiB", b"GET /api/games HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000
                          + b"\r\n\r\n", 400),
                         ("an unknown HTTP version", b"GET /api/games HTTP/9.9\r\n\r\n", 505)]:
    line, hdrs, body = raw_http(data)
    check("%s (civetweb's own error): %d with the error object and API-Version" % (name, want),
          line.split(" ")[1:2] == [str(want)] and error_object(body, "bad_request")
          and hdrs.get("API-Version") == "v1", (line, body[:200]))


for p in ["/api/nope", "/api/v2/stream", "/"]:
    line, hdrs, body = upgrade(p)
    check("a WebSocket upgrade on %s: HTTP 404 with the error object and API-Version" % p,
          line.startswith("HTTP/1.1 404") and error_object(body, "not_found") and hdrs.get("API-Version") == "v1"
          and hdrs.get("Content-Type") == "application/json", (line, body))
line, _, _ = upgrade("/api/v1/stream")
check("a WebSocket upgrade on /api/v1/stream: 101", line.startswith("HTTP/1.1 101"), line)

# --- the channel dictionary -------------------------------------------------------------------
s, _, t = req("GET", "/api/channels")
d = js(t)
keys = {e["json_key"] for e in d["channels"]} if s == 200 else set()
frame = (js(req("GET", "/api/live")[2]) or {}).get("feeds", {}).get("ksudp", {}).get("frame", {})
flat = {k for k in frame if k != "flags"} | {"flags." + k for k in frame.get("flags", {})}
check("GET /api/channels: every key of the live ksudp frame is a dictionary entry (%d keys)" % len(flat),
      s == 200 and len(flat) > 20 and flat <= keys, sorted(flat - keys))
check("the dictionary: identity, channels, flags and the derived annotation, each entry's games among /api/games",
      s == 200 and {e["kind"] for e in d["channels"]} == {"identity", "channel", "flag", "annotation"}
      and all(set(e["games"]) <= set(js(req("GET", "/api/games")[2])) for e in d["channels"])
      and {g["name"] for g in d["games"]} == set(js(req("GET", "/api/games")[2])), t[:300])
s, _, t = req("GET", "/api/channels?game=assetto_corsa")
ac = js(t)
check("GET /api/channels?game=assetto_corsa: only what AC's frames carry (its own, lap_dist_m derived), "
      "its game entry alone",
      s == 200 and [g["name"] for g in ac["games"]] == ["assetto_corsa"]
      and all("assetto_corsa" in e["games"] + e.get("derived_for", []) for e in ac["channels"])
      and {e["name"] for e in ac["channels"] if e["kind"] == "channel"}
      == set(ac["games"][0]["channels"]) | set(ac["games"][0]["derived"])
      and ac["games"][0]["derived"] == ["lap_dist_m"]
      and "tyre_temp_c" not in {e["name"] for e in ac["channels"]}, t[:300])
s, _, t = req("GET", "/api/channels/tyre_temp_c")
e = js(t)
check("GET /api/channels/tyre_temp_c: degC, float32, [FL,FR,RL,RR], not derived",
      s == 200 and e["unit"] == "degC" and e["type"] == "float32" and e["dimension"] == "wheels"
      and e["components"] == ["fl", "fr", "rl", "rr"] and e["derived"] is False, t)
for p, want, names in [("/api/channels?game=nope", 400, "game"), ("/api/channels?gmae=f1_24", 400, "gmae"),
                       ("/api/channels?game=", 400, "game"), ("/api/channels/rpm?x=1", 400, "x"),
                       ("/api/channels/nope", 404, "nope"), ("/api/channels/..%2fx", 400, None)]:
    s, _, t = req("GET", p)
    check("GET %s: %d naming %s" % (p, want, names), s == want and error_object(t)
          and (names is None or names in js(t)["error"]["message"]), (s, t))

# --- the schemas --------------------------------------------------------------------------------
s, _, t = req("GET", "/api/schemas")
index = js(t) if s == 200 else {"schemas": []}
listed = {(x["name"], x["version"]) for x in index["schemas"]}
check("GET /api/schemas lists every schema of docs/schemas (%d)" % len(CONTRACT.files),
      s == 200 and listed == set(CONTRACT.files), sorted(listed ^ set(CONTRACT.files))[:5])
same = []
for x in index["schemas"]:
    s, h, t = req("GET", x["url"])
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "schemas", x["name"],
                           x["version"] + ".json"), "rb") as f:
        same.append(s == 200 and t == f.read() and h.get("Content-Type") == "application/schema+json")
check("each /api/schemas/{schema}/{version} is its file byte for byte (application/schema+json)",
      same and all(same), same.count(False))
for p, want in [("/api/schemas/session/v9", 404), ("/api/schemas/nope/v1", 404), ("/api/schemas/session", 404),
                ("/api/schemas/..%2fx/v1", 400), ("/api/schemas?x=1", 400)]:
    s, _, t = req("GET", p)
    check("GET %s: %d" % (p, want), s == want and error_object(t), (s, t))

# --- recording_id: sessions created or recorded during a recording --------------------------------
s, _, t = req("POST", "/api/sessions", {"use_case": "general", "label": "before"})
before_rec = js(t)
s, _, t = req("POST", "/api/recordings", {"name": "rec-id"})
rec2 = js(t)
s, _, t = req("POST", "/api/sessions", {"use_case": "general", "label": "during"})
during = js(t)
check("a session created while a recording is active carries its recording_id",
      s == 201 and during["recording_id"] == rec2["id"], t)
s, _, t = req("GET", "/api/sessions/" + before_rec["id"])
check("one created before it has none yet", js(t)["recording_id"] is None, t)
s, _, t = req("POST", "/api/sessions/%s/runs" % before_rec["id"], {"feed_name": "ksudp"})
brun = js(t)
s, _, t = req("GET", "/api/sessions/" + before_rec["id"])
check("a session that starts a run while the recording is active carries its recording_id",
      js(t)["recording_id"] == rec2["id"], t)
req("POST", "/api/sessions/%s/runs/%s/stop" % (before_rec["id"], brun["id"]))
req("POST", "/api/recordings/stop")
s, _, t = req("POST", "/api/sessions", {"use_case": "general", "label": "after"})
after_rec = js(t)
check("a session created after the recording stopped has none; the others keep theirs",
      after_rec["recording_id"] is None and js(req("GET", "/api/sessions/" + during["id"])[2])["recording_id"] == rec2["id"],
      t)
for x in (before_rec, during, after_rec):
    req("DELETE", "/api/sessions/" + x["id"])
req("DELETE", "/api/recordings/" + rec2["id"])

# --- metrics ------------------------------------------------------------------------------------
s, h, t = req("GET", "/metrics")
text = t.decode()
check("GET /metrics: Prometheus text with per-feed and API counters",
      s == 200 and "pitwall_feed_packets_total{feed=\"ksudp\"}" in text and "pitwall_api_requests_total" in text
      and all(l.startswith("#") or len(l.split(" ")) == 2 for l in text.splitlines() if l), text[:200])
schemas_summary()
sys.exit(1 if FAILS else 0)
