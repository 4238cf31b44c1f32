#!/usr/bin/env python3
"""export_check.py DIR LABEL [--sense plain|mirrored] [--geo monza|spa] [--laps N]

Checks the exports of one recorded run (tests/integration/test_export.sh puts
them in DIR) against the run's own frames, read independently:

  frames.jsonl  the plain JSON-lines export: every stored frame as it is
  run.json      pwctl run get (laps, game, track, driver); session.json
  log.ld/.ldx   the MoTeC export (read by tests/tools/motec_read.py)
  pq.json       the Parquet export as hyparquet read it (tests/js/parquet_dump.mjs)
  opt.csv       the CSV export with channels and hz=20

Everything the exports promise is recomputed here from docs/export.md, not
from pitwall's code: the run clock, the resampling (nearest frame, floats
interpolated, no interpolation across a jump or gap), the MoTeC channel map
(names, units, decimals, scale), GPS from world position with the game's axis
sense, the lap beacons. Prints one PASS/FAIL line per check.
"""
import bisect
import csv
import json
import math
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from motec_read import read_ld, read_ldx  # noqa: E402

CLOCK_GAP_S = 2.0
INTERP_GAP_S = 1.0
RAD_DEG = 57.29577951308232
INT_CHANNELS = {"gear", "num_gears", "lap", "lap_time_ms", "last_lap_ms", "best_lap_ms",
                "sector_ms", "sector", "position"}
F64_CHANNELS = {"game_time_s"}
IDENT = {"seq", "t_ns", "feed", "game", "game_session", "flags", "derived"}
FLAGS = ["in_pit", "lap_invalid", "abs", "tc", "limiter", "paused"]
WHEELS = ["FL", "FR", "RL", "RR"]

# docs/export.md's channel map: i2 name -> (frame channel, value, multiplier, unit, decimals)
MAP = [
    ("Ground Speed", "speed_kmh", 0, 1, "km/h", 1), ("Engine RPM", "rpm", 0, 1, "rpm", 0),
    ("Throttle Pos", "throttle", 0, 100, "%", 1), ("Brake Pos", "brake", 0, 100, "%", 1),
    ("Clutch Pos", "clutch", 0, 100, "%", 1), ("Handbrake Pos", "handbrake", 0, 100, "%", 1),
    ("Steered Angle", "steer_deg", 0, 1, "deg", 1), ("Steering Pos", "steer", 0, 100, "%", 1),
    ("Gear", "gear", 0, 1, "", 0), ("G Force Lat", "accel_lat_g", 0, -1, "G", 3),
    ("G Force Long", "accel_lon_g", 0, 1, "G", 3), ("G Force Vert", "accel_vert_g", 0, 1, "G", 3),
    ("Lap Number", "@lap", 0, 1, "", 0), ("Lap Time", "lap_time_ms", 0, 0.001, "s", 3),
    ("Lap Distance", "lap_dist_m", 0, 1, "m", 1), ("GPS Latitude", "@lat", 0, 1, "deg", 7),
    ("GPS Longitude", "@lon", 0, 1, "deg", 7), ("Altitude", "pos_m", 1, 1, "m", 1),
    ("Yaw Angle", "yaw_rad", 0, RAD_DEG, "deg", 2), ("Yaw Rate", "yaw_rate_rads", 0, RAD_DEG, "deg/s", 2),
    ("Pitch Angle", "pitch_rad", 0, RAD_DEG, "deg", 2),
    ("Roll Angle", "roll_rad", 0, RAD_DEG, "deg", 2),
    ("Position X", "pos_m", 0, 1, "m", 2), ("Position Y", "pos_m", 1, 1, "m", 2),
    ("Position Z", "pos_m", 2, 1, "m", 2), ("Velocity X", "vel_ms", 0, 1, "m/s", 3),
    ("Velocity Y", "vel_ms", 1, 1, "m/s", 3), ("Velocity Z", "vel_ms", 2, 1, "m/s", 3),
] + [("Tyre Temp " + w, "tyre_temp_c", i, 1, "C", 1) for i, w in enumerate(WHEELS)] + [
    # the tread's zones, per wheel (Project CARS 2 / AMS2)
    ("Tyre Temp %s %s" % (w, zone), key, i, 1, "C", 0) for i, w in enumerate(WHEELS)
    for zone, key in (("Inner", "tyre_temp_inner_c"), ("Centre", "tyre_temp_middle_c"),
                      ("Outer", "tyre_temp_outer_c"))
] + [(name + " " + w, key, i, mul, unit, dec) for name, key, mul, unit, dec in (
    ("Tyre Pressure", "tyre_press_kpa", 1, "kPa", 1),
    ("Brake Temp", "brake_temp_c", 1, "C", 1), ("Wheel Speed", "wheel_speed_rads", 1, "rad/s", 2),
    ("Susp Pos", "susp_travel_m", 1000, "mm", 1), ("Tyre Load", "tyre_load_n", 1, "N", 0),
    ("Wheel Slip", "slip_ratio", 1, "", 3), ("Tyre Slip Angle", "slip_angle_rad", RAD_DEG, "deg", 2),
    ("Tyre Wear", "tyre_wear", 100, "%", 1)) for i, w in enumerate(WHEELS)] + [
    ("Fuel Level", "fuel_l", 0, 1, "l", 2), ("Boost Pressure", "boost_bar", 0, 1, "bar", 3),
    ("Engine Torque", "torque_nm", 0, 1, "Nm", 1), ("Engine Power", "power_w", 0, 0.001, "kW", 2),
    ("Race Position", "position", 0, 1, "", 0), ("Sector", "sector", 0, 1, "", 0),
    ("Pit Lane", "!in_pit", 0, 1, "", 0), ("ABS Active", "!abs", 0, 1, "", 0),
    ("TC Active", "!tc", 0, 1, "", 0),
]
NORTH_SIGN = {"assetto_corsa": -1, "assetto_corsa_competizione": -1, "f1_23": -1, "f1_24": -1,
              "f1_25": -1}

failed = False
label = ""


def check(name, ok, detail=""):
    global failed
    if ok:
        print("PASS %s: %s" % (label, name))
    else:
        failed = True
        print("FAIL %s: %s%s" % (label, name, (": " + str(detail)[:400]) if detail else ""))


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def run_clock(frames):
    """docs/export.md: the game clock's step when both frames have it and it is
    0..2 s, else the receive time's step (never backwards)."""
    t, cur, prev = [], 0.0, None
    for f in frames:
        if prev is not None:
            dt = -1.0
            g1, g2 = prev.get("game_time_s"), f.get("game_time_s")
            if g1 is not None and g2 is not None:
                dt = g2 - g1
                if not (0 <= dt <= CLOCK_GAP_S):
                    dt = -1.0
            if dt < 0:
                dt = (f["t_ns"] - prev["t_ns"]) / 1e9
                if not dt > 0:
                    dt = 0.0
            cur += dt
        t.append(cur)
        prev = f
    return t


def as_f32(key, v):
    if v is None or key in INT_CHANNELS or key in F64_CHANNELS or key in IDENT:
        return v
    if isinstance(v, list):
        return [None if x is None else f32(x) for x in v]
    return f32(v)


def grid(t_last, hz):
    k = 0
    while k / hz <= t_last:
        yield k, k / hz
        k += 1


def jump(key, va, vb):
    if key in ("yaw_rad", "pitch_rad", "roll_rad"):
        return abs(vb - va) > math.pi
    if key in ("lap_dist_m", "spline"):
        return vb < va
    return False


def sample(frames, t, T):
    """The row at T: the nearer of the frames around it, floats of both interpolated."""
    j = bisect.bisect_right(t, T)
    if j == len(frames):
        return dict(frames[-1])
    a, b, ta, tb = frames[j - 1], frames[j], t[j - 1], t[j]
    u = (T - ta) / (tb - ta)
    out = dict(a if u < 0.5 else b)
    if tb - ta > INTERP_GAP_S:
        return out
    for key, va in a.items():
        vb = b.get(key)
        if key in INT_CHANNELS or key in IDENT or vb is None or va is None:
            continue
        if isinstance(va, list):
            vals = list(out[key])
            for i, (x, y) in enumerate(zip(va, vb)):
                if x is not None and y is not None and not jump(key, x, y):
                    vals[i] = f32(x + u * (y - x))
            out[key] = vals
        elif not jump(key, va, vb):
            out[key] = va + u * (vb - va) if key in F64_CHANNELS else f32(va + u * (vb - va))
    return out


def lap_of(laps, seq):
    laps = sorted(laps, key=lambda l: l["start_seq"])
    for i, l in enumerate(laps):
        if seq < l["start_seq"]:
            return laps[i - 1]["number"] + 1 if i else max(l["number"] - 1, 0)
        if seq <= l["end_seq"]:
            return l["number"]
    return laps[-1]["number"] + 1


def m_per_deg(lat0):
    phi = math.radians(lat0)
    return (111132.92 - 559.82 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
            - 0.0023 * math.cos(6 * phi),
            111412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi) + 0.118 * math.cos(5 * phi))


def turning(pts, spacing=5.0):
    """Signed heading change (deg, + anticlockwise) along a path of (east, north)
    points, taken between points at least spacing metres apart (so that noise in
    short steps does not count)."""
    sel = pts[:1]
    for p in pts[1:]:
        if math.hypot(p[0] - sel[-1][0], p[1] - sel[-1][1]) >= spacing:
            sel.append(p)
    tot, prev = 0.0, None
    for (x0, y0), (x1, y1) in zip(sel, sel[1:]):
        h = math.atan2(y1 - y0, x1 - x0)
        if prev is not None:
            tot += (h - prev + math.pi) % (2 * math.pi) - math.pi
        prev = h
    return math.degrees(tot)


def main():
    global label
    args = sys.argv[1:]
    d, label = args[0], args[1]
    opt = {args[i]: args[i + 1] for i in range(2, len(args) - 1, 2)}
    frames = [json.loads(l) for l in open(os.path.join(d, "frames.jsonl"))]
    frames = [{k: as_f32(k, v) for k, v in f.items()} for f in frames]
    run = json.load(open(os.path.join(d, "run.json")))
    session = json.load(open(os.path.join(d, "session.json")))
    laps = run.get("laps") or []
    t = run_clock(frames)
    game = run.get("game") or frames[0]["game"]
    check("the run has frames (%d) and the plain export all of them" % len(frames),
          len(frames) > 100 and len(frames) == run["frame_count"], (len(frames), run["frame_count"]))
    if len(frames) < 2:
        return 1

    # --- MoTeC .ld --------------------------------------------------------------------
    hdr, chans = read_ld(os.path.join(d, "log.ld"))
    t0 = time.localtime(frames[0]["t_ns"] // 1000000000)
    check("ld header: marker, ADL device, pro logging, date and time of the first frame",
          hdr["device"] == "ADL" and hdr["pro_logging"] == 0x00D20822 and hdr["event_ptr"] and
          hdr["date"] == time.strftime("%d/%m/%Y", t0) and hdr["time"] == time.strftime("%H:%M:%S", t0),
          {k: hdr[k] for k in ("device", "pro_logging", "date", "time")})
    check("ld header: driver, vehicle, venue from the run",
          hdr["driver"] == (run.get("driver") or "") and hdr["vehicle"] == (session.get("car_name") or "")
          and hdr["venue"] == (run.get("track") or "") and hdr["event"]["venue"] == hdr["venue"],
          (hdr["driver"], hdr["vehicle"], hdr["venue"], run.get("driver"), session.get("car_name"),
           run.get("track")))
    hz = 60
    rows = list(grid(t[-1], hz))
    n = len(rows)
    check("ld: every channel %d samples at %d Hz: count / rate = the run's %.3f s (within 1/rate)"
          % (n, hz, t[-1]),
          all(c["count"] == n and c["rate"] == hz for c in chans) and
          abs(n / hz - t[-1]) <= 1 / hz + 1e-9,
          [(c["name"], c["count"], c["rate"]) for c in chans if c["count"] != n or c["rate"] != hz][:5])

    present = set()
    for f in frames:
        present.update(k for k, v in f.items() if v is not None)
    known_flags = set()
    for f in frames:
        known_flags.update((f.get("flags") or {}).keys())
    height = any(f.get("pos_m") and f["pos_m"][1] != 0 for f in frames)
    want = []
    for name, key, idx, mul, unit, dec in MAP:
        if key == "@lap":
            on = bool(laps) or "lap" in present
        elif key in ("@lat", "@lon"):
            on = "pos_m" in present
        elif key.startswith("!"):
            on = key[1:] in known_flags
        else:
            on = key in present and not (key == "pos_m" and idx == 1 and not height)
        if on:
            want.append(name)
    got = [c["name"] for c in chans]
    check("ld: the channels are i2's names for every channel the game gave (%d)" % len(want),
          got == want, {"missing": sorted(set(want) - set(got)), "extra": sorted(set(got) - set(want))})
    derived = set()
    for f in frames:
        derived.update(f.get("derived") or [])
    want_d = [name for name, key, idx, mul, unit, dec in MAP if name in got and key in derived]
    comment = hdr["event"]["comment"]
    check("ld: the event comment names the channels pitwall derived (%s)" % (", ".join(want_d) or "none"),
          comment.endswith("Derived by pitwall, not sent by the game: " + ", ".join(want_d)) if want_d
          else "Derived" not in comment, comment)
    units = {name: (unit, dec) for name, key, idx, mul, unit, dec in MAP}
    check("ld: units and decimal places as documented, integer channels, shift 0 mul 1 scale 1",
          all((c["unit"], c["dec"]) == units[c["name"]] and c["class"] in (3, 5) and
              (c["shift"], c["mul"], c["scale"]) == (0, 1, 1) for c in chans),
          [(c["name"], c["unit"], c["dec"]) for c in chans if (c["unit"], c["dec"]) != units.get(c["name"])])

    # values: every sample of every channel against the frames resampled here
    north = NORTH_SIGN.get(game, 1)
    by_name = {c["name"]: c for c in chans}
    samples = [sample(frames, t, T) for _, T in rows]
    worst, where = 0.0, None
    last = {}
    lat = by_name.get("GPS Latitude")
    for name, key, idx, mul, unit, dec in MAP:
        c = by_name.get(name)
        if not c or key in ("@lat", "@lon"):
            continue
        hold = 0.0
        for k, s in enumerate(samples):
            if key == "@lap":
                v = lap_of(laps, s["seq"]) if laps else s["lap"] + 1
            elif key.startswith("!"):
                fl = s.get("flags") or {}
                v = (1.0 if fl[key[1:]] else 0.0) if key[1:] in fl else None
            else:
                x = s.get(key)
                v = (x[idx] if isinstance(x, list) else x) if x is not None else None
                v = v * f32(mul) if v is not None else None
            if v is None:
                v = hold
            hold = v
            err = abs(c["values"][k] - v)
            lim = 0.5 * 10 ** -dec + 1e-9 * max(1.0, abs(v))
            if err > lim and (abs(v) * 10 ** dec) < (32767 if c["size"] == 2 else 2 ** 31 - 1):
                if err / lim > worst:
                    worst, where = err / lim, (name, k, c["values"][k], v)
        last[name] = hold
    check("ld: every sample of every channel equals the frames at its time within its decimals",
          worst == 0.0, where)

    # GPS: east = x, north = sense * z around an origin, metres per degree of WGS-84
    if lat and "GPS Longitude" in by_name:
        lon = by_name["GPS Longitude"]
        z0 = samples[0]["pos_m"][2]
        x0 = samples[0]["pos_m"][0]
        lat0 = lat["values"][0] - north * z0 / m_per_deg(lat["values"][0])[0]
        mlat, mlon = m_per_deg(lat0)
        lon0 = lon["values"][0] - x0 / mlon
        bad = [k for k, s in enumerate(samples) if s.get("pos_m") and (
            abs(lat["values"][k] - (lat0 + north * s["pos_m"][2] / mlat)) > 3e-7 or
            abs(lon["values"][k] - (lon0 + s["pos_m"][0] / mlon)) > 3e-7)]
        check("ld: GPS is the world position (east = x, north = %+d z) around one origin" % north,
              not bad, bad[:3])
        pts = [((lo - lon0) * mlon, (la - lat0) * mlat) for la, lo in zip(lat["values"], lon["values"])]
        sense = opt.get("--sense")
        if sense and "G Force Lat" in by_name:
            # i2's lateral g is + in a left-hand corner: counterclockwise on a map that is not mirrored
            g = by_name["G Force Lat"]["values"]
            agree = disagree = 0
            step = max(1, hz // 4)
            for k in range(step, n - step, step):
                (xa, ya), (xb, yb), (xc, yc) = pts[k - step], pts[k], pts[k + step]
                cross = (xb - xa) * (yc - yb) - (yb - ya) * (xc - xb)
                if abs(g[k]) < 0.3 or math.hypot(xb - xa, yb - ya) < 1 or abs(cross) < 1e-3:
                    continue
                if (cross > 0) == (g[k] > 0):
                    agree += 1
                else:
                    disagree += 1
            mirrored = disagree > agree
            check("GPS map vs G Force Lat in %d corner samples: %s, as %s" % (
                agree + disagree, "mirrored" if mirrored else "not mirrored",
                "expected of pw-sim's one world with this game's axis sense" if sense == "mirrored"
                else "expected"),
                  agree + disagree >= 20 and mirrored == (sense == "mirrored") and
                  min(agree, disagree) <= 0.1 * (agree + disagree), (agree, disagree))
        if opt.get("--laps"):
            # the emulator's track is driven clockwise: whole laps turn -360 deg each
            nl = int(opt["--laps"])
            lapped = [l for l in laps if l["number"] >= 1][:nl]
            if lapped:
                a = bisect.bisect_left([s["seq"] for s in samples], lapped[0]["start_seq"])
                b = bisect.bisect_right([s["seq"] for s in samples], lapped[-1]["end_seq"])
                turn = turning(pts[a:b])
                expect = -360.0 * len(lapped) * (-1 if opt.get("--sense") == "mirrored" else 1)
                check("GPS map of %d emulated lap(s) turns %.0f deg (clockwise track, %s)" % (
                    len(lapped), turn, opt.get("--sense", "plain")), abs(turn - expect) < 25, turn)
        geo = opt.get("--geo")
        if geo == "monza":
            # Monza is driven clockwise; the Parabolica, a right-hander of about 170 deg,
            # lies 5..15 s before the line on the game's lap clock (AC has no other clock)
            lap1 = [l for l in laps if l["number"] == 1][0]
            line_ms = [f for f in frames if f["seq"] <= lap1["end_seq"]][-1]["lap_time_ms"]
            near = [f["seq"] for f in frames if f["seq"] <= lap1["end_seq"] and
                    line_ms - 16000 <= f["lap_time_ms"] <= line_ms - 4000]
            seqs = [s["seq"] for s in samples]
            a, b = bisect.bisect_left(seqs, near[0]), bisect.bisect_right(seqs, near[-1])
            turn, whole = turning(pts[a:b]), turning(pts)
            check("Monza: the Parabolica turns right (%.0f deg) and the lap clockwise (%.0f deg)"
                  % (turn, whole), -200 < turn < -140 and -390 < whole < -340, (turn, whole))
        elif geo == "spa":
            # Spa is driven clockwise; Les Combes to Rivage (1.7 .. 2.9 km) turns right overall
            turn = turning(pts)
            check("Spa: Les Combes .. Rivage turns right (%.0f deg)" % turn, -220 < turn < -150, turn)
            check("Spa: the log sits at Spa-Francorchamps (50.44 N, 5.97 E, from the track name %r)"
                  % run.get("track"), abs(lat0 - 50.4372) < 0.05 and abs(lon0 - 5.9714) < 0.05,
                  (lat0, lon0))

    # --- .ldx: a beacon at each lap end, the run clock of the next lap's first frame ------
    ldx = read_ldx(os.path.join(d, "log.ldx"))
    seqs = [f["seq"] for f in frames]
    want_b = []
    for l in sorted(laps, key=lambda l: l["end_seq"]):
        j = bisect.bisect_right(seqs, l["end_seq"])
        if j < len(frames):
            want_b.append(round(t[j] * 1e6))
    check("ldx: %d beacons, one at each lap end (us from the log's start)" % len(want_b),
          len(ldx["beacons_us"]) == len(want_b) and
          all(abs(a - b) <= 1 for a, b in zip(ldx["beacons_us"], want_b)) and
          ldx["details"].get("Total Laps") == str(len(want_b) + 1), (ldx, want_b))
    valid = [(l["time_ms"], i + 1) for i, l in enumerate(sorted(laps, key=lambda l: l["end_seq"]))
             if l.get("valid") and l.get("time_ms") is not None and i < len(want_b)]
    if valid:
        ms, lapno = min(valid)
        check("ldx: the fastest valid lap %s in %d ms" % (lapno, ms),
              ldx["details"].get("Fastest Lap") == str(lapno) and
              ldx["details"].get("Fastest Time") == "%d:%02d.%03d" % (ms // 60000, ms // 1000 % 60, ms % 1000),
              ldx["details"])

    # --- Parquet, read by hyparquet ---------------------------------------------------
    pq = json.load(open(os.path.join(d, "pq.json")))
    cols = [c["name"] for c in pq["columns"]]
    check("parquet: one row per frame (%d), time_s then the plain CSV's columns" % len(frames),
          pq["num_rows"] == len(frames) and cols[0] == "time_s" and cols[1:6] ==
          ["seq", "t_ns", "feed", "game", "game_session"] and cols[-7:-1] == FLAGS and
          cols[-1] == "derived",
          (pq["num_rows"], cols[:8]))
    bad = []
    data = pq["data"]
    for i, f in enumerate(frames):
        if abs(data["time_s"][i] - t[i]) > 1e-9 or int(data["seq"][i]) != f["seq"] or \
           int(data["t_ns"][i]) != f["t_ns"] or data["game"][i] != f["game"]:
            bad.append(("ident", i))
        if data["derived"][i] != " ".join(f.get("derived") or []):
            bad.append(("derived", i, data["derived"][i], f.get("derived")))
        for c in cols[6:-7]:
            key, idx = c, None
            if c not in f and "_" in c:
                base, suf = c.rsplit("_", 1)
                if base in f and isinstance(f[base], list):
                    key, idx = base, {"x": 0, "y": 1, "z": 2, "fl": 0, "fr": 1, "rl": 2, "rr": 3,
                                      "1": 0, "2": 1, "3": 2}[suf]
            v = f.get(key)
            if idx is not None and v is not None:
                v = v[idx]
            if key == "sector_ms" and v is not None and v < 0:
                v = None
            got = data[c][i]
            if v is None:
                if got is not None:
                    bad.append((c, i, got, v))
            elif got is None or (f32(got) != v if key not in INT_CHANNELS | F64_CHANNELS else got != v):
                bad.append((c, i, got, v))
        fl = f.get("flags") or {}
        for name in FLAGS:
            if data[name][i] != fl.get(name):
                bad.append((name, i, data[name][i], fl.get(name)))
        if len(bad) > 5:
            break
    check("parquet: every value of every row equals the frame (nulls where absent)", not bad, bad[:5])

    # --- CSV with channels and hz -------------------------------------------------------
    with open(os.path.join(d, "opt.csv")) as fh:
        r = list(csv.reader(fh))
    head, body = r[0], r[1:]
    rows20 = list(grid(t[-1], 20))
    check("csv hz=20: time_s first, a row every 50 ms over the run (%d)" % len(rows20),
          head[0] == "time_s" and len(body) == len(rows20) and
          all(abs(float(b[0]) - T) <= 5e-7 for b, (_, T) in zip(body, rows20)), (head, len(body)))
    bad = []
    for b, (_, T) in zip(body, rows20):
        s = sample(frames, t, T)
        for name, cell in zip(head[1:], b[1:]):
            key, idx = name, None
            if name not in s and "_" in name and name.rsplit("_", 1)[0] in ("tyre_temp_c", "pos_m"):
                key, idx = name.rsplit("_", 1)[0], {"x": 0, "y": 1, "z": 2, "fl": 0, "fr": 1,
                                                      "rl": 2, "rr": 3}[name.rsplit("_", 1)[1]]
            v = s.get(key)
            if idx is not None and v is not None:
                v = v[idx]
            if v is None:
                if cell != "":
                    bad.append((name, T, cell))
            elif cell == "" or (f32(float(cell)) != f32(v) if key not in INT_CHANNELS else int(cell) != v):
                bad.append((name, T, cell, v))
        if len(bad) > 5:
            break
    check("csv hz=20: every value equals the frames resampled at its time", not bad, bad[:5])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
