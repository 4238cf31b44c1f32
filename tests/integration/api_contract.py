#!/usr/bin/env python3
"""api_contract.py BASE_URL - contract tests of pw-api against the seed's REST
reference: status codes and response shapes of every endpoint, the full flow
of a session, and bad input of every kind. Prints PASS/FAIL lines; exit 1 on
any failure. Run by tests/integration/test_api.sh with the stack up."""
import json
import sys
import time
import urllib.error
import urllib.request

BASE = sys.argv[1].rstrip("/")
FAILS = 0


def req(method, path, body=None, raw=None, headers=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    r = urllib.request.Request(BASE + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            text = resp.read()
            return resp.status, resp.headers, text
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


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
    ok = isinstance(o, dict) and set(o) == {"error"} and set(o["error"]) >= {"code", "message"}
    return ok and (code is None or o["error"]["code"] == code)


SESSION_KEYS = {"id", "use_case", "label", "status", "created_at", "completed_at", "runs",
                "analysis", "guidance", "recording_id", "car_name"}
RUN_KEYS = {"id", "label", "feed_name", "status", "start_marker", "end_marker", "frame_count",
            "data_truncated"}

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
check("GET /api/use-cases: the four use cases",
      s == 200 and sorted(u["name"] for u in js(t)) == ["car_grip", "general", "shift_points", "track_mapping"], t)
s, _, t = req("GET", "/api/games")
names = [g["name"] for g in js(t)]
check("GET /api/games: every decoded game, the seed's four included",
      s == 200 and {"assetto_corsa", "assetto_corsa_competizione", "project_cars_1", "project_cars_2"} <= set(names)
      and len(names) >= 11, t)

# --- sessions and runs: the full flow -------------------------------------------------
s, h, t = req("POST", "/api/sessions", {"use_case": "shift_points", "label": "contract"})
sess = js(t)
check("POST /api/sessions 201 with the seed's session shape", s == 201 and SESSION_KEYS <= set(sess), t)
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

# --- metrics ------------------------------------------------------------------------------------
s, h, t = req("GET", "/metrics")
text = t.decode()
check("GET /metrics: Prometheus text with per-feed and API counters",
      s == 200 and "pitwall_feed_packets_total{feed=\"ksudp\"}" in text and "pitwall_api_requests_total" in text
      and all(l.startswith("#") or len(l.split(" ")) == 2 for l in text.splitlines() if l), text[:200])
sys.exit(1 if FAILS else 0)
