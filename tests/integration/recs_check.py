#!/usr/bin/env python3
"""recs_check.py - checks of test_recommendations.sh on what the real processes answered.

  recs_check.py fault TRUTH RECS        the emulator's fault (its ground-truth line) has a
                                        recommendation of its category and one of its
                                        parameters, at high or medium confidence
  recs_check.py clean RECS              no recommendation at high confidence
  recs_check.py evidence FRAMES LAPS RECS
                                        every finding's evidence holds on the frames it
                                        names (FRAMES: a run's JSON-lines export, LAPS:
                                        `pwctl laps`), recomputed here independently
  recs_check.py feed FEED FRAMES RECS   every rule is evaluated or listed as not evaluated,
                                        and each channel it says is missing is absent from
                                        every frame of the run
  recs_check.py ws WSOUT MAX_MS         a `recommendation` message arrived, seed 004's
                                        fields, within MAX_MS of the lap end
  recs_check.py csv2pcap CSV OUT PORT   the Forza CSV's rows as FM7 Dash datagrams in a pcap
                                        (tests/data/make_cases.py's packet builder)
Exit 0 and one line saying what was checked, or 1 and why not.
"""
import json
import math
import os
import sys

RULES = ["bottoming", "near_bump_stop", "rear_squat", "front_lockup", "rear_lockup",
         "wheelspin", "understeer", "oversteer", "entry_understeer", "gearing_long",
         "gearing_short", "exit_bog", "tyre_pressure_spread", "tyre_camber_spread",
         "tyre_overheat", "axle_temp_balance"]
WHEELS = ["front-left", "front-right", "rear-left", "rear-right"]
SEED_FIELDS = ["category", "title", "detected", "cause", "adjustment", "expected_outcome",
               "confidence", "caveats", "alternatives", "driving_style_assumed", "id",
               "session_id", "lap_number"]


def load(path):
    with open(path) as f:
        return json.load(f)


def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip().startswith("{")]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def param(rec):
    return (rec.get("adjustment") or {}).get("parameter")


def fault(truth_path, recs_path):
    truth = json.loads(open(truth_path).readline())["fault"]
    recs = load(recs_path)["recommendations"]
    for r in recs:
        missing = [k for k in SEED_FIELDS if k not in r]
        if missing:
            fail("%s lacks %s" % (r.get("rule"), missing))
    ok = [r for r in recs if r["category"] == truth["category"] and param(r) in truth["parameters"]
          and r["confidence"] in ("high", "medium")]
    if not ok:
        fail("%s: no %s recommendation on %s among %s" % (
            truth["name"], truth["category"], truth["parameters"],
            [(r["rule"], param(r), r["confidence"]) for r in recs]))
    print("%s -> %s on %s (%s)" % (truth["name"], ok[0]["rule"], param(ok[0]), ok[0]["confidence"]))


def clean(recs_path):
    recs = load(recs_path)["recommendations"]
    high = [r["rule"] for r in recs if r["confidence"] == "high"]
    if high:
        fail("the clean car got high-confidence findings: %s" % high)
    print("clean car: %d findings, none high (%s)" % (
        len(recs), ", ".join("%s:%s" % (r["rule"], r["confidence"]) for r in recs) or "none"))


def present(f, ch):
    return ch in f


def frame_t(f, f0):
    if "game_time_s" in f and "game_time_s" in f0:
        return f["game_time_s"] - f0["game_time_s"]
    return (f["t_ns"] - f0["t_ns"]) * 1e-9


def lap_frames(frames, laps, rec):
    """The frames of the finding's worst lap (its run's, by seq)."""
    n = rec["evidence"]["worst_lap"]
    lap = [l for l in laps if l["number"] == n]
    if not lap:
        fail("%s: its lap %s is not in the laps" % (rec["rule"], n))
    lo, hi = lap[0]["start_seq"], lap[0]["end_seq"]
    return [f for f in frames if lo <= f["seq"] <= hi]


def weights(fr):
    """Each frame's share of time: its step, the last good one when the clock stood still or
    jumped (the engineer's rule)."""
    out, last = [], 1.0 / 60.0
    for i, f in enumerate(fr):
        dt = frame_t(f, fr[i - 1]) if i else 0.0
        if 0 < dt <= 0.5:
            last = dt
        out.append(last)
    return out


def driving(f):
    v = f.get("speed_kmh", 0) / 3.6
    fl = f.get("flags", {})
    return v >= 5 and not fl.get("in_pit") and not fl.get("paused")


def episode_holds(rec, fr, cond, min_s):
    """Every frame of each episode's window meets cond on one of its wheels, but for gaps of
    at most 0.1 s; the window lasts min_s at least."""
    eps = rec["evidence"]["episode_list"]
    if not eps:
        fail("%s: no episode in its evidence" % rec["rule"])
    f0 = fr[0]
    for ep in eps:
        ws = [i for i, w in enumerate(WHEELS) if w in ep["where"]]
        if ep["duration_s"] < min_s - 1e-3:
            fail("%s: an episode of %.3f s, shorter than %.3f" % (rec["rule"], ep["duration_s"], min_s))
        gap, held = 0.0, 0.0
        # t_s is its first frame's time; the duration sums its frames' steps (each from
        # the frame before), the first one's included: its last frame is at
        # t_s + duration - that first step
        first = [i for i, f in enumerate(fr) if abs(frame_t(f, f0) - ep["t_s"]) <= 5e-3]
        if not first:
            fail("%s: no frame at the episode's start %.2f s" % (rec["rule"], ep["t_s"]))
        step = frame_t(fr[first[0]], fr[first[0] - 1]) if first[0] else 0.0
        end = ep["t_s"] + ep["duration_s"] - step
        win = [f for f in fr if ep["t_s"] - 5e-3 <= frame_t(f, f0) <= end + 5e-3]
        for i, f in enumerate(win):
            dt = frame_t(f, win[i - 1]) if i else 0.0
            if cond(f, ws) and driving(f):
                held += gap + dt
                gap = 0.0
            else:
                gap += dt
                if gap > 0.1 + 2e-3:
                    fail("%s at %.2f s: the condition is off for %.3f s" % (rec["rule"], frame_t(f, f0), gap))
        if not win:
            fail("%s: no frame in the episode at %.2f s" % (rec["rule"], ep["t_s"]))


def slip_of(frames):
    """The slip ratio of a frame's wheel: the game's, else from the wheel speeds with a
    rolling radius (the engineer's calibration, analyze/engineer.c: per wheel the median of
    speed / wheel speed rolling straight off the brakes short of full throttle, else one
    radius from the two slowest wheels of the straight unbraked samples; a small tolerance
    covers its sampling)."""
    if any("slip_ratio" in f for f in frames):
        fn = lambda f, i: f["slip_ratio"][i]
        fn.tol = 0.0
        return fn
    straight = [f for f in frames if driving(f) and f["speed_kmh"] >= 36 and
                f.get("brake", 0) < 0.02 and abs(f.get("accel_lat_g", 0)) < 0.2 and
                "wheel_speed_rads" in f]
    rolling = [f for f in straight if f.get("throttle", 0) < 0.9]
    if len(rolling) >= 30:
        rad = []
        for i in range(4):
            r = sorted(f["speed_kmh"] / 3.6 / abs(f["wheel_speed_rads"][i]) if f["wheel_speed_rads"][i] else 0
                       for f in rolling)
            rad.append(r[len(r) // 2])
    else:
        r = sorted(f["speed_kmh"] / 3.6 / (sum(sorted(abs(w) for w in f["wheel_speed_rads"])[:2]) / 2)
                   for f in straight if sum(sorted(abs(w) for w in f["wheel_speed_rads"])[:2]) > 0)
        if len(r) < 30:
            fail("a derived slip ratio without the samples to calibrate it")
        rad = [r[len(r) // 2]] * 4
    fn = lambda f, i: abs(f["wheel_speed_rads"][i]) * rad[i] / (f["speed_kmh"] / 3.6) - 1
    fn.tol = 0.02
    return fn


def check_value(rec, got, tol):
    want = rec["evidence"]["value"]
    if want is None or abs(got - want) > tol:
        fail("%s: the evidence says %s, the frames %.5f" % (rec["rule"], want, got))


def evidence(frames_path, laps_path, recs_path):
    frames = lines(frames_path)
    laps = load(laps_path)
    recs = load(recs_path)["recommendations"]
    done = []
    for rec in recs:
        rule = rec["rule"]
        fr = lap_frames(frames, laps, rec)
        w = weights(fr)
        if rule in ("front_lockup", "rear_lockup", "wheelspin"):
            sr = slip_of(frames)
            if rule == "wheelspin":
                episode_holds(rec, fr, lambda f, ws: f.get("throttle", 0) >= 0.7 and
                              any(sr(f, i) >= 0.30 - sr.tol for i in ws), 0.2)
            else:
                episode_holds(rec, fr, lambda f, ws: f.get("brake", 0) >= 0.4 and
                              f["speed_kmh"] >= 28.8 and
                              any(sr(f, i) <= -0.25 + sr.tol for i in ws), 10 / 60)
        elif rule == "bottoming":
            episode_holds(rec, fr, lambda f, ws: any(f["susp_travel_norm"][i] >= 0.98 for i in ws), 0.25)
        elif rule == "near_bump_stop":
            axle = 0 if rec["evidence"]["second_value"] == 4 else 1
            tot = sum(wi for f, wi in zip(fr, w) if driving(f) and "susp_travel_norm" in f)
            near = sum(wi for f, wi in zip(fr, w) if driving(f) and "susp_travel_norm" in f and
                       max(f["susp_travel_norm"][2 * axle:2 * axle + 2]) >= 0.92)
            check_value(rec, near / tot, 2e-3)
        elif rule in ("understeer", "oversteer") and rec["evidence"]["value"] is not None:
            s = n = 0.0
            for f, wi in zip(fr, w):
                if not driving(f) or "slip_angle_rad" not in f or abs(f["accel_lat_g"]) < 0.6 or \
                        f["speed_kmh"] < 43.2:
                    continue
                a = f["slip_angle_rad"]
                s += wi * ((abs(a[0]) + abs(a[1])) / 2 - (abs(a[2]) + abs(a[3])) / 2)
                n += wi
            check_value(rec, s / n, 2e-3)
            if abs(s / n) < 0.020:
                fail("%s: a mean slip-angle difference of %.4f rad is under the threshold" % (rule, s / n))
        elif rule == "entry_understeer":
            s_ = n = 0.0
            for f, wi in zip(fr, w):
                if not driving(f) or "slip_angle_rad" not in f or f.get("brake", 0) <= 0.1 or \
                        abs(f.get("steer", 0)) < 0.05 or abs(f["accel_lat_g"]) < 0.3 or \
                        f["speed_kmh"] < 43.2:
                    continue
                a = f["slip_angle_rad"]
                s_ += wi * ((abs(a[0]) + abs(a[1])) / 2 - (abs(a[2]) + abs(a[3])) / 2)
                n += wi
            check_value(rec, s_ / n, 2e-3)
            if s_ / n < 0.020 or n < 20 / 60:
                fail("entry_understeer: %.4f rad over %.2f s is under the threshold" % (s_ / n, n))
        elif rule == "gearing_long":
            h = int(rec["evidence"]["second_value"])
            top = max((f["rpm"] / f["max_rpm"] for f in fr if driving(f) and f.get("gear") == h and
                       f.get("throttle", 0) >= 0.9 and f.get("max_rpm", 0) > 0), default=0)
            check_value(rec, top, 1e-3)
        elif rule == "gearing_short":
            episode_holds(rec, fr, lambda f, ws: f.get("throttle", 0) >= 0.9 and
                          f["rpm"] >= f["max_rpm"] - 50, 10 / 60)
        elif rule == "tyre_overheat":
            check_value(rec, max(f["tyre_temp_c"][i] for f in fr if driving(f) and "tyre_temp_c" in f
                                 for i in range(4)), 0.05)
        elif rule == "axle_temp_balance":
            tot = sum(wi for f, wi in zip(fr, w) if driving(f) and "tyre_temp_c" in f)
            d = sum(wi * ((f["tyre_temp_c"][0] + f["tyre_temp_c"][1]) / 2 -
                          (f["tyre_temp_c"][2] + f["tyre_temp_c"][3]) / 2)
                    for f, wi in zip(fr, w) if driving(f) and "tyre_temp_c" in f)
            check_value(rec, d / tot, 0.01)
        else:
            fail("no independent check for rule %s: add one" % rule)
        done.append(rule)
    print("%d findings, evidence recomputed from %d frames: %s" % (len(recs), len(frames),
                                                                  ", ".join(done) or "none"))


def feed(name, frames_path, recs_path):
    frames = lines(frames_path)
    d = load(recs_path)
    ev, ne = d["rules_evaluated"], d["not_evaluated"]
    names = ev + [x["rule"] for x in ne]
    if sorted(names) != sorted(RULES) or len(set(names)) != len(names):
        fail("%s: evaluated %s and not evaluated %s are not every rule once" % (name, ev, ne))
    channels = set(k for f in frames for k in f)
    for x in ne:
        if not x["missing"]:
            fail("%s: %s not evaluated without a missing channel" % (name, x["rule"]))
        there = [c for c in x["missing"] if c in channels]
        if there and not x.get("reason"):
            fail("%s: %s says %s are missing, the frames have them" % (name, x["rule"], there))
    print("%s: %d rules evaluated, %d not (%s)" % (name, len(ev), len(ne), "; ".join(
        "%s: %s" % (x["rule"], "+".join(x["missing"])) for x in ne)))


def ws(path, max_ms):
    msgs = []
    for l in open(path, errors="replace"):
        parts = l.rstrip("\n").split(" ", 2)
        if len(parts) == 3 and parts[1] == "text":
            msgs.append(json.loads(parts[2]))
    recs = [m for m in msgs if m["type"] == "recommendation"]
    if not recs:
        fail("no recommendation message among %s" % [m["type"] for m in msgs])
    for m in recs:
        d = m["data"]
        missing = [k for k in SEED_FIELDS if k not in d]
        if missing or m["schema_version"] != 1:
            fail("a recommendation lacks %s" % missing)
        lat = m["t_ms"] - d["lap_end_t_ns"] / 1e6
        if not 0 <= lat <= float(max_ms):
            fail("lap %s: sent %.1f ms after the lap end" % (d["lap_number"], lat))
    print("%d recommendation messages, %s ms after the lap end" % (
        len(recs), ", ".join("%.1f" % (m["t_ms"] - m["data"]["lap_end_t_ns"] / 1e6) for m in recs)))


def csv2pcap(csv_path, out, port):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../data"))
    import csv
    import make_cases
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    t0 = int(float(rows[0]["TimestampMS"]))
    pkts = [(1700000000000000000 + (int(float(r["TimestampMS"])) - t0) * 10 ** 6,
             make_cases.forza_packet(r, 311)) for r in rows]
    make_cases.write_pcap(out, pkts, int(port), int(port))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"fault": fault, "clean": clean, "evidence": evidence, "feed": feed, "ws": ws,
     "csv2pcap": csv2pcap}[cmd](*args)
