#!/usr/bin/env python3
"""soak_check.py - the soak's checks of pw-api's answers (tests/soak/soak.sh). 127.0.0.1 only.

  soak_check.py laps API SID                 the completed laps of the session's runs, one a line:
                                             "RUN_ID NUMBER TIME_MS FRAMES START_SEQ END_SEQ"
                                             (a lap the run saw in part, or whose last frames
                                             are not durable yet, is left out)
  soak_check.py compare API SID RID REF LAP  GET /api/compare?ref=SID/RID/REF&lap=...REF&lap=...LAP
                                             and check it against what is known without it: the
                                             reference compared with itself is 0 everywhere, the
                                             last delta of LAP is the laps' time difference
                                             (within 20 ms), distances rise from 0 to length_m
  soak_check.py export API SID RID [LAP FRAMES START_SEQ]
                                             GET .../export?format=csv (of lap LAP), check the
                                             header, every row's column count, and the `seq`
                                             column: consecutive (no frame missing), from
                                             START_SEQ with FRAMES rows for a lap
  soak_check.py metrics API                  /metrics as "NAME{LABELS} VALUE" lines (no comments)
  soak_check.py rss PID                      "VmRSS_kB Private_kB Own_kB CPU_s": /proc/PID/status,
                                             /proc/PID/smaps_rollup's Private_Clean + Private_Dirty,
                                             the same without /dev/shm mappings (the rings), and
                                             the CPU time used (user + system, /proc/PID/stat)

Each check prints one line "ok ..." (exit 0) or "bad ..." (exit 1) saying what it saw.
"""
import csv
import io
import json
import os
import sys
import urllib.error
import urllib.request

TIMEOUT = 60


def get(api, path):
    """(status, body bytes) of GET http://127.0.0.1:API/path."""
    url = "http://127.0.0.1:%s%s" % (api, path)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def done(ok, msg):
    print(("ok " if ok else "bad ") + msg)
    return 0 if ok else 1


def cmd_laps(api, sid):
    st, body = get(api, "/api/sessions/%s/laps" % sid)
    if st != 200:
        print("bad laps: HTTP %d" % st, file=sys.stderr)
        return 1
    stored = {}  # run id -> the first sequence not yet durable in its frame file
    for lap in json.loads(body):
        if lap.get("invalid_reason") == "incomplete" or lap.get("time_ms") is None:
            continue
        rid = lap["run_id"]
        if rid not in stored:
            st, rb = get(api, "/api/sessions/%s/runs/%s" % (sid, rid))
            if st != 200:
                print("bad run %s: HTTP %d" % (rid, st), file=sys.stderr)
                return 1
            run = json.loads(rb)
            stored[rid] = run["start_marker"] + run["frame_count"]
        # a lap whose last frames are not durable yet (frame_count is synced once a second)
        # is answered 409 by the lap endpoints: it is not completed for them yet
        if lap["end_seq"] >= stored[rid]:
            continue
        print(lap["run_id"], lap["number"], lap["time_ms"], lap["frames"], lap["start_seq"],
              lap["end_seq"])
    return 0


def cmd_compare(api, sid, rid, ref, lap):
    r = "%s/%s/%s" % (sid, rid, ref)
    q = "/api/compare?ref=%s&lap=%s&lap=%s/%s/%s" % (r, r, sid, rid, lap)
    st, body = get(api, q)
    if st != 200:
        return done(False, "compare %s: HTTP %d %s" % (q, st, body[:200]))
    try:
        d = json.loads(body)
        dist = d["distance_m"]
        self_d = [v for v in d["laps"][0]["delta_s"] if v is not None]
        other = d["laps"][1]
        last = [v for v in other["delta_s"] if v is not None][-1]
        want = (other["time_ms"] - d["ref"]["time_ms"]) / 1000.0
    except (ValueError, KeyError, IndexError, TypeError) as e:
        return done(False, "compare %s: malformed answer (%s)" % (q, e))
    problems = []
    if len(dist) < 100 or dist[0] != 0 or abs(dist[-1] - d["length_m"]) > 1e-6:
        problems.append("distance grid %d points 0..%s, length %s" % (len(dist), dist[-1],
                                                                         d["length_m"]))
    if any(b <= a for a, b in zip(dist, dist[1:])):
        problems.append("distance not rising")
    if not self_d or max(abs(v) for v in self_d) > 1e-9:
        problems.append("the reference against itself is not 0 everywhere")
    if abs(last - want) > 0.02:
        problems.append("last delta %.3f s, laps differ by %.3f s" % (last, want))
    return done(not problems, "compare lap %s with %s (%d points, last delta %.3f s, want %.3f)%s"
                % (lap, ref, len(dist), last, want, ": " + "; ".join(problems) if problems else ""))


def cmd_export(api, sid, rid, lap=None, frames=None, start_seq=None):
    q = "/api/sessions/%s/runs/%s/export?format=csv%s" % (sid, rid, "&lap=" + lap if lap else "")
    st, body = get(api, q)
    what = "lap %s" % lap if lap else "the run so far"
    if st != 200:
        return done(False, "export %s: HTTP %d %s" % (what, st, body[:200]))
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    if len(rows) < 2 or "seq" not in rows[0] or "t_ns" not in rows[0]:
        return done(False, "export %s: %d lines, header %s" % (what, len(rows), rows[:1]))
    width = len(rows[0])
    col = rows[0].index("seq")
    problems = []
    bad_width = sum(1 for r in rows[1:] if len(r) != width)
    if bad_width:
        problems.append("%d rows without %d columns" % (bad_width, width))
    seqs = [int(r[col]) for r in rows[1:] if len(r) == width]
    holes = sum(1 for a, b in zip(seqs, seqs[1:]) if b != a + 1)
    if holes:
        problems.append("seq not consecutive at %d places" % holes)
    if lap:
        if seqs[0] != int(start_seq) or len(seqs) != int(frames):
            problems.append("rows %d from seq %d, the lap has %s frames from %s"
                            % (len(seqs), seqs[0], frames, start_seq))
    return done(not problems, "export %s: %d rows, seq %d..%d, %d columns, %d bytes%s"
                % (what, len(seqs), seqs[0], seqs[-1], width, len(body),
                   ": " + "; ".join(problems) if problems else ""))


def cmd_metrics(api):
    st, body = get(api, "/metrics")
    if st != 200:
        print("bad metrics: HTTP %d" % st, file=sys.stderr)
        return 1
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            print(line)
    return 0


def cmd_rss(pid):
    rss = 0
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    priv = 0
    with open("/proc/%s/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                priv += int(line.split()[1])
    # the same without the shared-memory segments (the rings: a page of a shared mapping
    # that only this process touched counts as private)
    own = 0
    shm = False
    with open("/proc/%s/smaps" % pid) as f:
        for line in f:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                fields = line.split()
                shm = len(fields) >= 6 and fields[5].startswith("/dev/shm/")
            elif not shm and first in ("Private_Clean:", "Private_Dirty:"):
                own += int(line.split()[1])
    with open("/proc/%s/stat" % pid) as f:
        stat = f.read().rsplit(")", 1)[1].split()
    cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    print(rss, priv, own, "%.2f" % cpu)
    return 0


def main(argv):
    cmds = {"laps": (cmd_laps, 2, 2), "compare": (cmd_compare, 5, 5),
            "export": (cmd_export, 3, 6), "metrics": (cmd_metrics, 1, 1), "rss": (cmd_rss, 1, 1)}
    if len(argv) < 2 or argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    fn, lo, hi = cmds[argv[1]]
    args = argv[2:]
    if not lo <= len(args) <= hi:
        print(__doc__, file=sys.stderr)
        return 2
    return fn(*args)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
