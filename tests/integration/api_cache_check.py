#!/usr/bin/env python3
"""api_cache_check.py BASE_URL MODE [ARGS] - checks of pw-api's answer cache
and segment attachments, run by tests/integration/test_api_cache.sh.

Modes:
  live-feed PID           the ksudp feed is in /api/live with a frame and in
                          /api/feeds with this capture's pid (within 3 s)
  consistency PWCTL FEED  changes made through the store directly (pwctl) show
                          in the API's very next read while other clients keep
                          reading the same endpoints; store counters in /metrics
  warm                    read /api/sessions until the cache serves it
  paused                  the store does not answer: reads get 503 unavailable,
                          /metrics says pitwall_store_up 0
  snapshot                print {"sessions": [...]} of GET /api/sessions
  after-restart FILE PWCTL  the sessions equal the snapshot, a new one shows

Prints PASS/FAIL lines; exits 1 on any failure."""
import http.client
import json
import subprocess
import sys
import threading
import time
import urllib.parse

BASE = sys.argv[1].rstrip("/")
HOST = urllib.parse.urlparse(BASE)
FAILS = 0


def check(name, ok, detail=""):
    global FAILS
    print(("PASS " if ok else "FAIL ") + name + ("" if ok or not detail else ": " + str(detail)[:300]))
    sys.stdout.flush()
    if not ok:
        FAILS += 1
    return ok


class Client:
    """One keep-alive connection, as a dashboard holds."""

    def __init__(self):
        self.c = http.client.HTTPConnection(HOST.hostname, HOST.port, timeout=10)

    def get(self, path):
        try:
            self.c.request("GET", path)
            r = self.c.getresponse()
            body = r.read()
        except (OSError, http.client.HTTPException):
            self.c.close()
            self.c = http.client.HTTPConnection(HOST.hostname, HOST.port, timeout=10)
            self.c.request("GET", path)
            r = self.c.getresponse()
            body = r.read()
        return r.status, body

    def json(self, path):
        status, body = self.get(path)
        return status, json.loads(body) if body else None


def pwctl(*args):
    out = subprocess.run([PWCTL] + list(args), capture_output=True, text=True, timeout=20)
    if out.returncode != 0:
        raise RuntimeError("pwctl %s: %s %s" % (" ".join(args), out.stdout, out.stderr))
    return json.loads(out.stdout) if out.stdout.strip() else None


def metrics(cl):
    status, body = cl.get("/metrics")
    m = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            m[k] = float(v)
    return m


def live_feed(pid):
    cl = Client()
    deadline = time.time() + 3
    live = feeds = None
    while time.time() < deadline:
        _, live = cl.json("/api/live")
        _, feeds = cl.json("/api/feeds")
        f = [x for x in feeds if x["feed"] == "ksudp"]
        if "frame" in live["feeds"].get("ksudp", {}) and f and f[0]["pid"] == pid:
            break
        time.sleep(0.1)
    k = live["feeds"].get("ksudp", {})
    check("live-feed: ksudp is up in /api/live with a frame", k.get("status") == "up" and "frame" in k, k)
    f = [x for x in feeds if x["feed"] == "ksudp"]
    check("live-feed: /api/feeds shows the capture now running (pid %d)" % pid, f and f[0]["pid"] == pid, f)
    # the frame follows the feed: two reads 100 ms apart show different frames
    seq1 = k.get("frame", {}).get("seq")
    time.sleep(0.1)
    _, live = cl.json("/api/live")
    seq2 = live["feeds"]["ksudp"].get("frame", {}).get("seq")
    check("live-feed: the frame is the newest, not a kept one", seq1 is not None and seq2 is not None and seq2 > seq1,
          (seq1, seq2))


def hammer(paths, stop, counts):
    """Read paths round-robin until stop is set (bounded: 20,000 reads)."""
    cl = Client()
    for i in range(20000):
        if stop.is_set():
            break
        cl.get(paths[i % len(paths)])
        counts[0] += 1


def consistency(feed):
    cl = Client()
    stop = threading.Event()
    counts = [0]
    m0 = metrics(cl)
    threads = [threading.Thread(target=hammer, args=(["/api/sessions"], stop, counts)) for _ in range(3)]
    for t in threads:
        t.start()
    stale = []
    ids = []
    try:
        for i in range(15):
            s = pwctl("session", "create", "general", "--label", "cache %d" % i)
            ids.append(s["id"])
            _, lst = cl.json("/api/sessions")
            if s["id"] not in [x["id"] for x in lst]:
                stale.append(("created, not listed", i))
            st, one = cl.json("/api/sessions/" + s["id"])
            if st != 200 or one["label"] != "cache %d" % i:
                stale.append(("created, get", st))
        check("a session created behind the API's back is in its next read (15 times, %d reads beside)" % counts[0],
              not stale, stale)
        stale = []
        for sid in ids[:5]:
            pwctl("session", "delete", sid)
            st, _ = cl.json("/api/sessions/" + sid)
            _, lst = cl.json("/api/sessions")
            if st != 404 or sid in [x["id"] for x in lst]:
                stale.append(("deleted, still shown", sid, st))
        check("a deleted session is gone from the next read", not stale, stale)
        # a label changed by completing: the status moves at once
        pwctl("session", "complete", ids[5])
        _, one = cl.json("/api/sessions/" + ids[5])
        check("a completed session reads completed at once", one["status"] == "completed", one["status"])

        # a recording run: frame_count moves while it records, and the stop shows at once
        sid = pwctl("session", "create", "general")["id"]
        run = pwctl("run", "start", sid, feed)
        path = "/api/sessions/%s/runs/%s" % (sid, run["id"])
        hot = threading.Thread(target=hammer, args=([path], stop, counts))
        hot.start()
        threads.append(hot)
        counts_seen = []
        deadline = time.time() + 6
        while time.time() < deadline and len(set(counts_seen)) < 3:
            _, r = cl.json(path)
            counts_seen.append(r["frame_count"])
            time.sleep(0.2)
        check("a recording run's frame_count moves in reads through the cache", len(set(counts_seen)) >= 3,
              counts_seen)
        m = metrics(cl)
        check("/metrics: pitwall_store_runs_recording 1 while the run records",
              m.get("pitwall_store_runs_recording") == 1, m.get("pitwall_store_runs_recording"))
        stopped = pwctl("run", "stop", sid, run["id"])
        _, r = cl.json(path)
        shown = {k: r.get(k) for k in stopped}  # run.get adds laps
        check("GET run does not show where its frames lie on the server", "frames_path" not in r, sorted(r))
        check("a stopped run reads stopped at once, as the store answered",
              shown == stopped, {"api": shown, "store": stopped})
        check("its frame_count is end - start", r["frame_count"] == r["end_marker"] - r["start_marker"], r)
    finally:
        stop.set()
        for t in threads:
            t.join()
    m = metrics(cl)
    _, lst = cl.json("/api/sessions")
    check("/metrics: the cache answered reads (%d hits, %d misses)" % (
        m["pitwall_api_cache_hits_total"] - m0["pitwall_api_cache_hits_total"],
        m["pitwall_api_cache_misses_total"] - m0["pitwall_api_cache_misses_total"]),
        m["pitwall_api_cache_hits_total"] > m0["pitwall_api_cache_hits_total"] + 100 and
        m["pitwall_api_cache_misses_total"] > m0["pitwall_api_cache_misses_total"])
    check("/metrics: pitwall_store_up 1", m.get("pitwall_store_up") == 1, m.get("pitwall_store_up"))
    check("/metrics: pitwall_store_sessions is the number listed",
          m.get("pitwall_store_sessions") == len(lst), (m.get("pitwall_store_sessions"), len(lst)))
    check("/metrics: pitwall_store_commands_total counts the commands (>= 28 here)",
          m.get("pitwall_store_commands_total", 0) - m0.get("pitwall_store_commands_total", 0) >= 28,
          m.get("pitwall_store_commands_total"))
    check("/metrics: pitwall_store_frames_persisted_total covers the run",
          m.get("pitwall_store_frames_persisted_total", 0) >= r["frame_count"] > 0,
          (m.get("pitwall_store_frames_persisted_total"), r["frame_count"]))
    deadline = time.time() + 2
    while time.time() < deadline and m.get("pitwall_store_runs_recording") != 0:
        time.sleep(0.05)
        m = metrics(cl)
    check("/metrics: pitwall_store_runs_recording 0 after the stop", m.get("pitwall_store_runs_recording") == 0)


def warm():
    cl = Client()
    m0 = metrics(cl)
    for _ in range(20):
        cl.get("/api/sessions")
    m = metrics(cl)
    check("warm: repeated reads are cache hits",
          m["pitwall_api_cache_hits_total"] - m0["pitwall_api_cache_hits_total"] >= 15)


def paused(limit_s=8.0, why="took the command timeout, no more"):
    cl = Client()
    t0 = time.time()
    for path in ("/api/sessions", "/api/use-cases"):
        st, body = cl.get(path)
        err = json.loads(body).get("error", {}) if body else {}
        check("store not answering: GET %s is 503 unavailable, not a kept answer" % path,
              st == 503 and err.get("code") == "unavailable", (st, body[:200]))
    m = metrics(cl)
    check("store not answering: /metrics says pitwall_store_up 0", m.get("pitwall_store_up") == 0,
          m.get("pitwall_store_up"))
    check("store not answering: the 503s %s (%.1f s)" % (why, time.time() - t0),
          time.time() - t0 < limit_s)


def snapshot():
    st, lst = Client().json("/api/sessions")
    if st != 200:
        sys.exit("snapshot: GET /api/sessions: %d" % st)
    print(json.dumps({"sessions": lst}))


def after_restart(path):
    before = json.load(open(path))["sessions"]
    cl = Client()
    deadline = time.time() + 10
    st, lst = cl.json("/api/sessions")
    while st != 200 and time.time() < deadline:
        time.sleep(0.1)
        st, lst = cl.json("/api/sessions")
    check("after a store restart: the same sessions are served",
          st == 200 and sorted(x["id"] for x in lst) == sorted(x["id"] for x in before),
          (st, len(lst or []), len(before)))
    s = pwctl("session", "create", "general", "--label", "after restart")
    _, lst = cl.json("/api/sessions")
    check("after a store restart: a new session shows at once", s["id"] in [x["id"] for x in lst])


MODE = sys.argv[2]
if MODE == "live-feed":
    live_feed(int(sys.argv[3]))
elif MODE == "consistency":
    PWCTL = sys.argv[3]
    consistency(sys.argv[4])
elif MODE == "warm":
    warm()
elif MODE == "paused":
    paused()
elif MODE == "exited":  # its status page says so: refused at once, not after the timeout
    paused(1.0, "came at once, the store's page saying it exited")
elif MODE == "snapshot":
    snapshot()
elif MODE == "after-restart":
    PWCTL = sys.argv[4]
    after_restart(sys.argv[3])
else:
    sys.exit("unknown mode " + MODE)
sys.exit(1 if FAILS else 0)
