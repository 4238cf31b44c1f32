#!/usr/bin/env python3
"""tests/data/check_cases.py - the golden files of the shipped decoder cases are
right, not merely what the decoder printed once.

Each case's .jsonl is compared with an independent reading of its source: the
datagrams' bytes at the offsets of docs/protocols.md (AC, PCARS1, F1), the CSV
row the datagram was built from (Forza), or the frames the emulator sent
(ACC, acc/emulator_ticks.sent = pw-sim --dump), with the unit conversions the
decoders document, plus the values tests/unit/test_dec_*.c assert on the same
datagrams. One "PASS/FAIL golden-source <case>" line per case; exit 1 on any
mismatch. Python 3 standard library only.

The channels pitwall derives (common/derive.h; each frame lists them under
"derived") are not the game's: load() takes them out, so every check of a
game's channel sees exactly what the game sent, and check_derived() checks
them on their own against the documented rules.
"""
import csv
import json
import math
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
G0 = 9.80665
PSI_KPA = 6.894757293168361



def session_id(uid):
    """common/frame.h frame_session_id: a 64-bit id folded into 53 bits."""
    mask = (1 << 53) - 1
    return uid if uid <= mask else ((uid & mask) ^ (uid >> 53)) | 1 << 52

def f32(x):
    """x rounded to the nearest float32 (the frame's floats)"""
    return struct.unpack("<f", struct.pack("<f", x))[0]


DERIVED_CHANNELS = {"yaw_rate_rads", "accel_lat_g", "accel_lon_g", "lap_dist_m", "lap_time_ms"}


def load_all(rel):
    with open(os.path.join(HERE, rel)) as f:
        return [json.loads(line) for line in f if line.strip()]


def load(rel):
    """the frames of a golden file as the game gave them: derived channels left out"""
    out = []
    for f in load_all(rel):
        for k in f.pop("derived", []):
            f.pop(k, None)
        out.append(f)
    return out


def derived(rel):
    """per frame, {channel: value} of what pitwall derived"""
    return [{k: f[k] for k in f.get("derived", []) if k in f} for f in load_all(rel)]


def pcap_payloads(rel):
    """(t_ns, UDP payload) of a classic little-endian pcap of IPv4 datagrams"""
    d = open(os.path.join(HERE, rel), "rb").read()
    nano = struct.unpack_from("<I", d, 0)[0] == 0xA1B23C4D
    out, off = [], 24
    while off + 16 <= len(d):
        sec, frac, incl = struct.unpack_from("<III", d, off)
        pkt = d[off + 16:off + 16 + incl]
        ihl = (pkt[0] & 15) * 4
        out.append((sec * 10**9 + (frac if nano else frac * 1000), pkt[ihl + 8:]))
        off += 16 + incl
    return out


def same(got, want, tol):
    if isinstance(want, (list, tuple)):
        return (isinstance(got, (list, tuple)) and len(got) == len(want) and
                all(same(g, w, tol) for g, w in zip(got, want)))
    if tol:
        return isinstance(got, (int, float)) and abs(got - want) <= tol
    if isinstance(want, float) and isinstance(got, (int, float)):
        return f32(got) == f32(want)
    return got == want


class Case:
    def __init__(self, name):
        self.name, self.n, self.bad = name, 0, 0

    def eq(self, what, got, want, tol=0.0):
        """got (from the golden file) == want, element by element for lists and
        tuples; floats compared as float32, or within tol when tol is given"""
        self.n += 1
        if not same(got, want, tol):
            self.bad += 1
            if self.bad <= 5:
                print("  %s: %s: golden %r, expected %r" % (self.name, what, got, want),
                      file=sys.stderr)

    def done(self):
        print("%s golden-source %s (%d values)" % ("FAIL" if self.bad else "PASS", self.name,
                                                  self.n))
        return self.bad == 0


# ---- Assetto Corsa RTCarInfo (docs/protocols.md section 1.3) ----

AC_KEYS = sorted(["seq", "t_ns", "feed", "game", "game_session", "throttle", "brake", "clutch",
                  "steer", "steer_deg", "gear", "speed_kmh", "rpm", "accel_lat_g", "accel_lon_g",
                  "accel_vert_g", "pos_m", "lap", "lap_time_ms", "last_lap_ms", "best_lap_ms",
                  "spline", "slip_ratio", "slip_angle_rad", "wheel_speed_rads", "susp_travel_m",
                  "tyre_load_n", "flags"])


def check_ac(case):
    c = Case("ac_remote/" + case)
    pk = pcap_payloads("ac_remote/%s.pcap" % case)
    fr = load("ac_remote/%s.jsonl" % case)
    c.eq("frames", len(fr), len(pk))
    for i, ((t, p), f) in enumerate(zip(pk, fr)):
        def F(o):
            return struct.unpack_from("<f", p, o)[0]

        def I(o):
            return struct.unpack_from("<i", p, o)[0]
        c.eq("channels", sorted(f), AC_KEYS)
        c.eq("seq", f["seq"], i)
        c.eq("t_ns", f["t_ns"], t)
        c.eq("game", (f["feed"], f["game"], f["game_session"]), ("ksudp", "assetto_corsa", 0))
        c.eq("speed", f["speed_kmh"], F(8))
        c.eq("gear (AC 0 R, 1 N)", f["gear"], I(76) - 1)
        c.eq("throttle", f["throttle"], F(56))
        c.eq("brake", f["brake"], F(60))
        c.eq("clutch pedal = 1 - engagement", f["clutch"], f32(1 - min(1.0, max(0.0, F(64)))))
        c.eq("rpm", f["rpm"], F(68))
        c.eq("steer_deg", f["steer_deg"], F(72))
        c.eq("steer = deg / 450", f["steer"], max(-1.0, min(1.0, f32(F(72) / 450))), 2e-7)
        c.eq("lateral = -float@28", f["accel_lat_g"], -F(28))
        c.eq("vertical = float@32", f["accel_vert_g"], F(32))
        c.eq("longitudinal = float@36", f["accel_lon_g"], F(36))
        c.eq("lap", f["lap"], I(52))
        c.eq("lap_time", f["lap_time_ms"], I(40))
        c.eq("last (0 -> -1)", f["last_lap_ms"], I(44) or -1)
        c.eq("best (0 -> -1)", f["best_lap_ms"], I(48) or -1)
        c.eq("spline", f["spline"], F(308))
        for k in range(3):
            c.eq("pos", f["pos_m"][k], F(316 + 4 * k))
        for w in range(4):
            c.eq("wheel speed", f["wheel_speed_rads"][w], F(84 + 4 * w))
            c.eq("slip angle deg -> rad", f["slip_angle_rad"][w],
                 f32(F(100 + 4 * w) * math.pi / 180), 1e-7)
            c.eq("slip ratio", f["slip_ratio"][w], F(132 + 4 * w))
            c.eq("load", f["tyre_load_n"][w], F(180 + 4 * w))
            c.eq("suspension", f["susp_travel_m"][w], F(292 + 4 * w))
        c.eq("flags", f["flags"], {"in_pit": bool(p[24]), "abs": bool(p[21]), "tc": bool(p[22]),
                                   "limiter": bool(p[25])})
    # what tests/unit/test_dec_ksudp.c asserts on the same datagrams
    if case == "monza_in_pit":
        c.eq("datagram 0 (test)", (fr[0]["lap"], fr[0]["lap_time_ms"], fr[0]["last_lap_ms"],
                                  fr[0]["best_lap_ms"]), (0, 212240, -1, -1))
    if case == "monza_pit_exit":
        c.eq("in pit for datagrams 0..319 (test)", [f["flags"]["in_pit"] for f in fr],
             [True] * 4 + [False] * 4)
    if case == "monza_lap_line":
        a, b = fr[3], fr[4]
        c.eq("line at datagram 7899 (test)", (a["lap"], a["lap_time_ms"], b["lap"],
                                              b["lap_time_ms"]), (0, 344672, 1, 8))
        c.eq("last = best = 344684 after it (test)", (a["last_lap_ms"], b["last_lap_ms"],
                                                      b["best_lap_ms"]), (-1, 344684, 344684))
    # derive.h: no lap distance from AC, so it is integrated from the speed on the lap
    # clock, from the line (speed x the lap time at the first frame after it)
    dist, prev = None, None
    for (t, p), d in zip(pk, derived("ac_remote/%s.jsonl" % case)):
        v, lap, lt = struct.unpack_from("<f", p, 8)[0] / 3.6, struct.unpack_from("<i", p, 52)[0], \
            struct.unpack_from("<i", p, 40)[0]
        if prev and lap == prev[1] + 1:
            dist = v * lt / 1000
        elif dist is not None:
            dist += 0.5 * (prev[0] + v) * (lt - prev[2]) / 1000
        c.eq("derived: only the lap distance", sorted(d), [] if dist is None else ["lap_dist_m"])
        if dist is not None:
            c.eq("derived lap distance = speed integrated on the lap clock", d["lap_dist_m"],
                 dist, 1e-3)
        prev = (v, lap, lt)
    return c.done()


# ---- Project CARS 1 telemetry (docs/protocols.md section 3) ----

def check_pcars(case):
    c = Case("pcars1/" + case)
    d = open(os.path.join(HERE, "pcars1/%s.raw" % case), "rb").read()
    dgrams, off = [], 0
    while off < len(d):
        n = {0: 1367, 1: 1347, 2: 1028}[d[off + 2] & 3]
        dgrams.append(d[off:off + n])
        off += n
    tel = [p for p in dgrams if len(p) == 1367]
    fr = load("pcars1/%s.jsonl" % case)
    c.eq("a frame per telemetry datagram", len(fr), len(tel))
    for p, f in zip(tel, fr):
        def F(o):
            return struct.unpack_from("<f", p, o)[0]

        def U16(o):
            return struct.unpack_from("<H", p, o)[0]

        def S16(o):
            return struct.unpack_from("<h", p, o)[0]
        c.eq("raw: no receive time", (f["t_ns"], f["game"]), (0, "project_cars_1"))
        c.eq("speed m/s -> km/h", f["speed_kmh"], f32(F(120) * 3.6), 1e-4)
        c.eq("rpm", (f["rpm"], f["max_rpm"]), (U16(124), U16(126)))
        c.eq("gear nibble", (f["gear"], f["num_gears"]), (p[128] & 15, p[128] >> 4))
        c.eq("throttle", f["throttle"], f32(p[113] / 255), 1e-7)
        c.eq("brake", f["brake"], f32(p[112] / 255), 1e-7)
        c.eq("steer", f["steer"], f32(struct.unpack_from("<b", p, 115)[0] / 127), 1e-7)
        c.eq("fuel", f["fuel_frac"], F(116))
        c.eq("fuel l = level x capacity", f["fuel_l"], f32(F(116) * p[111]), 1e-4)
        c.eq("track length", f["track_len_m"], F(1360))
        c.eq("torque", f["torque_nm"], F(452))
        c.eq("power = torque x engine speed", f["power_w"], f32(F(452) * F(448)), 0.05)
        for w in range(4):
            c.eq("tyre temp", f["tyre_temp_c"][w], p[276 + w])
            c.eq("brake temp", f["brake_temp_c"][w], S16(328 + 2 * w))
            c.eq("pressure", f["tyre_press_kpa"][w], U16(440 + 2 * w))
            c.eq("wheel speed = -sTyreRPS", f["wheel_speed_rads"][w], -F(244 + 4 * w))
            c.eq("suspension", f["susp_travel_m"][w], F(408 + 4 * w))
            c.eq("wear", f["tyre_wear"][w], f32(1 - p[316 + w] / 255))
        c.eq("lateral = -x", f["accel_lat_g"], f32(-F(184) / G0), 1e-6)
        c.eq("vertical = y", f["accel_vert_g"], f32(F(188) / G0), 1e-6)
        c.eq("longitudinal = -z", f["accel_lon_g"], f32(-F(192) / G0), 1e-6)
        for k, want in enumerate((-F(148), F(152), -F(156))):
            c.eq("velocity", f["vel_ms"][k], want)
        c.eq("yaw = orientation[1]", f["yaw_rad"], F(140))
        r = 464 + 16 * p[4]              # the viewed participant's record
        sec = p[r + 11]
        c.eq("position + quarter metres", f["pos_m"],
             [S16(r) + ((sec >> 6) & 3) / 4, S16(r + 2), S16(r + 4) + ((sec >> 4) & 3) / 4])
        c.eq("lap distance", f["lap_dist_m"], U16(r + 6))
        c.eq("race position, laps", (f["position"], f["lap"]), (p[r + 8] & 0x7F, p[r + 9] & 0x7F))
        c.eq("sector 1..3 -> 0..2", f["sector"], (sec & 7) - 1)
        c.eq("unset times", (f["lap_time_ms"], f["last_lap_ms"], f["best_lap_ms"]), (-1, -1, -1))
        c.eq("race flags", (f["flags"]["lap_invalid"], f["flags"]["abs"]),
             (bool(p[10] & 8), bool(p[10] & 16)))
        c.eq("constants (test)", (f["max_rpm"], f["num_gears"], round(f["track_len_m"], 3),
                                  f["game_session"]), (8550, 6, 6997.816, 1))
    if case == "spa_telemetry_500":
        f = fr[2]
        c.eq("frame 500 (test)", (f["rpm"], round(f["steer"] * 127)), (4423, 7))
        c.eq("frame 500 torque (test)", f["torque_nm"], 499.5689697265625, 1e-4)
        c.eq("frame 500 power (test)", f["power_w"], 499.5689697265625 * 466.0006408691406, 0.1)
    return c.done()


# ---- F1 23 / 24 (docs/protocols.md section 7) ----

F1_WHEEL = (2, 3, 0, 1)    # frame wheel FL FR RL RR -> F1 array index (RL RR FL FR)


def check_f1(case, year):
    c = Case("f1/" + case)
    fr = load("f1/%s.jsonl" % case)
    if year == 2022:
        c.eq("F1 22 gives no frame", fr, [])
        return c.done()
    last, tel = {}, []
    for t, p in pcap_payloads("f1/%s.pcap" % case):
        if p[6] == 6:
            tel.append((t, p, dict(last)))
        else:
            last[p[6]] = p
    c.eq("a frame per car telemetry", len(fr), len(tel))
    for (t, p, pk), f in zip(tel, fr):
        def F(b, o):
            return struct.unpack_from("<f", b, o)[0]
        car = p[27]
        T = 29 + 60 * car
        c.eq("t_ns", f["t_ns"], t)
        c.eq("game", f["game"], "f1_%d" % (year - 2000))
        c.eq("session uid", f["game_session"], session_id(struct.unpack_from("<Q", p, 7)[0]))
        c.eq("session time", f["game_time_s"], F(p, 15))
        c.eq("speed", f["speed_kmh"], struct.unpack_from("<H", p, T)[0])
        c.eq("pedals, steer", (f["throttle"], f["steer"], f["brake"]),
             (F(p, T + 2), F(p, T + 6), F(p, T + 10)))
        c.eq("clutch 0..100 -> 0..1", f["clutch"], f32(p[T + 14] / 100), 1e-7)
        c.eq("gear, rpm", (f["gear"], f["rpm"]),
             (struct.unpack_from("<b", p, T + 15)[0], struct.unpack_from("<H", p, T + 16)[0]))
        for w, k in enumerate(F1_WHEEL):
            c.eq("brake temp", f["brake_temp_c"][w], struct.unpack_from("<H", p, T + 22 + 2 * k)[0])
            c.eq("tyre temp", f["tyre_temp_c"][w], p[T + 30 + k])
            c.eq("pressure psi -> kPa", f["tyre_press_kpa"][w], f32(F(p, T + 40 + 4 * k) * PSI_KPA),
                 1e-3)
        m, M = pk[0], 29 + 60 * car
        for k in range(3):
            c.eq("position", f["pos_m"][k], F(m, M + 4 * k))
        c.eq("lateral = -m_gForceLateral", f["accel_lat_g"], -F(m, M + 36))
        c.eq("longitudinal, vertical", (f["accel_lon_g"], f["accel_vert_g"]),
             (F(m, M + 40), F(m, M + 44)))
        c.eq("yaw, pitch, roll", (f["yaw_rad"], f["pitch_rad"], f["roll_rad"]),
             (F(m, M + 48), F(m, M + 52), F(m, M + 56)))
        lap, L = pk[2], 29 + (50 if year == 2023 else 57) * car
        o = L + (18 if year == 2023 else 20)
        c.eq("lap distance", f["lap_dist_m"], F(lap, o))
        c.eq("race position, lap = current - 1, sector", (f["position"], f["lap"], f["sector"]),
             (lap[o + 12], lap[o + 13] - 1, lap[o + 16]))
        c.eq("track length", f["track_len_m"], struct.unpack_from("<H", pk[1], 33)[0])
        s, S = pk[7], 29 + 55 * car
        c.eq("max rpm, gears = maxGears - 1", (f["max_rpm"], f["num_gears"]),
             (struct.unpack_from("<H", s, S + 17)[0], s[S + 21] - 1))
        c.eq("fuel = in tank / capacity", f["fuel_frac"], f32(F(s, S + 5) / F(s, S + 9)), 1e-7)
        c.eq("power = ICE + MGU-K", f["power_w"], f32(F(s, S + 29) + F(s, S + 33)), 0.5)
    f = fr[0]
    if year == 2024:       # test_real_multi_packet_tick, test_real_telemetry_2024
        c.eq("test values", (f["track_len_m"], f["position"], f["max_rpm"], f["tyre_wear"][3],
                             f["rpm"], f["game_session"]),
             (5408, 1, 13999, 1, 3535, session_id(0x2FBBC3BBCB0B8C58)))
        c.eq("test pos x", f["pos_m"][0], -381.32012939453125, 1e-3)
        c.eq("test lap distance", f["lap_dist_m"], 243.9490203857422, 1e-4)
        c.eq("test flags", f["flags"], {"in_pit": False, "lap_invalid": False, "limiter": False,
                                        "paused": False})
    else:                  # test_real_telemetry_2023, test_real_motion, test_real_lap_data
        c.eq("test values", (f["rpm"], f["gear"], f["brake_temp_c"], f["tyre_temp_c"],
                             f["position"], f["lap"], f["sector"], f["game_session"]),
             (3429, 0, [38] * 4, [97] * 4, 10, 0, 2, session_id(0x68F65200BF7D356D)))
        for k, want in enumerate((22.7, 22.7, 20.3, 20.3)):
            c.eq("test pressure", f["tyre_press_kpa"][k], want * PSI_KPA, 1e-3)
        c.eq("test yaw", f["yaw_rad"], -2.344689130783081, 1e-6)
        c.eq("test lateral g", f["accel_lat_g"], 0.0048140874132514, 1e-8)
        c.eq("test lap distance", f["lap_dist_m"], -74.8251953125, 1e-5)
    c.eq("the next telemetry keeps the fields (test)", sorted(fr[1]), sorted(fr[0]))
    return c.done()


# ---- Forza, from the CSV rows the datagrams were built from (section 6) ----

WHEELS = ("FrontLeft", "FrontRight", "RearLeft", "RearRight")


def check_forza(case, size, first, n):
    c = Case("forza/" + case)
    with open(os.path.join(HERE, "forza/austinbaccus_forza-telemetry/laguna-seca.csv"),
              encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    fr = load("forza/%s.jsonl" % case)
    c.eq("a frame per row", len(fr), n)
    for k, f in enumerate(fr):
        r = {key: {"True": 1.0, "False": 0.0}.get(v, None) for key, v in rows[first + k].items()}
        r = {key: float(rows[first + k][key]) if v is None else v for key, v in r.items()}
        c.eq("game", f["game"], {311: "forza_motorsport_7", 232: "forza_motorsport",
                                 324: "forza_horizon"}[size])
        c.eq("game time", f["game_time_s"], r["TimestampMS"] / 1000, 1e-6)
        c.eq("rpm", (f["rpm"], f["max_rpm"]), (f32(r["CurrentEngineRpm"]), f32(r["EngineMaxRpm"])))
        for i, ax in enumerate("XYZ"):
            c.eq("velocity", f["vel_ms"][i], r["Velocity" + ax])
        c.eq("lateral = X", f["accel_lat_g"], f32(r["AccelerationX"] / G0), 1e-6)
        c.eq("vertical = Y", f["accel_vert_g"], f32(r["AccelerationY"] / G0), 1e-6)
        c.eq("longitudinal = Z", f["accel_lon_g"], f32(r["AccelerationZ"] / G0), 1e-6)
        c.eq("yaw, pitch, roll", (f["yaw_rad"], f["pitch_rad"], f["roll_rad"]),
             (f32(r["Yaw"]), f32(r["Pitch"]), f32(r["Roll"])))
        for i, w in enumerate(WHEELS):
            c.eq("wheel speed", f["wheel_speed_rads"][i], r["WheelRotationSpeed" + w])
            c.eq("suspension", f["susp_travel_m"][i], r["SuspensionTravelMeters" + w])
            c.eq("normalised suspension (0..1)", f["susp_travel_norm"][i],
                 min(max(r["NormalizedSuspensionTravel" + w], 0.0), 1.0))
        c.eq("paused = not IsRaceOn", f["flags"], {"paused": r["IsRaceOn"] == 0})
        if size == 232:
            v = math.sqrt(sum(r["Velocity" + ax] ** 2 for ax in "XYZ"))
            c.eq("sled speed = |velocity|", f["speed_kmh"], f32(v * 3.6), 1e-3)
            c.eq("sled: no dash channels", [x for x in ("lap", "pos_m", "throttle") if x in f], [])
            continue
        c.eq("speed", f["speed_kmh"], f32(r["Speed"] * 3.6), 1e-4)
        c.eq("power, torque", (f["power_w"], f["torque_nm"]), (f32(r["Power"]), f32(r["Torque"])))
        for i, ax in enumerate("XYZ"):
            c.eq("position", f["pos_m"][i], r["Position" + ax])
        for key, col in (("throttle", "Accelerator"), ("brake", "Brake"), ("clutch", "Clutch"),
                         ("handbrake", "Handbrake")):
            c.eq(key + " /255", f[key], f32(r[col] / 255), 1e-7)
        c.eq("steer /127", f["steer"], f32(r["Steer"] / 127), 1e-7)
        g = int(r["Gear"])
        c.eq("gear 0 R, 11 N", f["gear"], -1 if g == 0 else 0 if g == 11 else g)
        for i, col in enumerate(("TireTempFl", "TireTempFr", "TireTempRl", "TireTempRr")):
            c.eq("tyre temp degF -> degC", f["tyre_temp_c"][i], f32((r[col] - 32) * 5 / 9), 1e-4)
        c.eq("boost psi -> bar", f["boost_bar"], f32(r["Boost"] * 0.0689475729), 1e-5)
        c.eq("fuel", f["fuel_frac"], r["Fuel"])
        c.eq("lap, position", (f["lap"], f["position"]), (r["Lap"], r["RacePosition"]))
        c.eq("lap time", f["lap_time_ms"], round(r["CurrentLapTime"] * 1000), 1)
        c.eq("last lap (0 -> -1)", f["last_lap_ms"],
             round(r["LastLapTime"] * 1000) if r["LastLapTime"] else -1, 1)
        c.eq("best lap (0 -> -1)", f["best_lap_ms"],
             round(r["BestLapTime"] * 1000) if r["BestLapTime"] else -1, 1)
        if r["Lap"] == 0 and r["CurrentLapTime"] > 0:
            c.eq("lap 0: distance from the start", f["lap_dist_m"], r["Distance"])
    if first == 680:       # test_real_lap_change
        c.eq("lap 0 -> 1 at row 684 (test)", [f["lap"] for f in fr], [0, 0, 0, 0, 1, 1, 1])
        c.eq("last lap 75.256 s (test)", fr[4]["last_lap_ms"], 75256)
        c.eq("lap start = 3602 m (test)", float(rows[684]["Distance"]) - fr[4]["lap_dist_m"],
             3602, 5)
    return c.done()


# ---- ACC, against the frames the emulator sent (section 5) ----

def check_acc(case):
    c = Case("acc/" + case)
    sent = {round(f["game_time_s"], 3): f for f in load("acc/%s.sent" % case)}
    fr = load("acc/%s.jsonl" % case)
    c.eq("frames decoded, sent", (len(fr), len(sent)), (11, 12))
    for f in fr:
        t = sent.get(round(f["game_time_s"], 3))
        if t is None:
            c.eq("an emulator frame at this time", f["game_time_s"], None)
            continue
        c.eq("gear, lap, lap time, position", (f["gear"], f["lap"], f["lap_time_ms"],
                                               f["position"]),
             (t["gear"], t["lap"], t["lap_time_ms"], t["position"]))
        c.eq("speed (whole km/h on the wire)", f["speed_kmh"], t["speed_kmh"], 1.0)
        c.eq("pos = (WorldPosX, 0, WorldPosY)", f["pos_m"], [f32(t["pos_m"][0]), 0,
                                                            f32(t["pos_m"][2])])
        c.eq("yaw", f["yaw_rad"], t["yaw_rad"])
        c.eq("spline", f["spline"], t["spline"])
        c.eq("flags", f["flags"], {"in_pit": t["flags"]["in_pit"],
                                   "lap_invalid": t["flags"]["lap_invalid"], "paused": False})
        if f["seq"] == 0:
            c.eq("before TRACK_DATA: no track length", [x for x in ("track_len_m", "lap_dist_m")
                                                        if x in f], [])
            c.eq("derived at the line (lap time 0): lap distance 0", derived(
                "acc/%s.jsonl" % case)[0], {"lap_dist_m": 0})
        else:
            c.eq("track length (whole metres)", f["track_len_m"], round(t["track_len_m"]), 0.5)
            c.eq("lap distance = spline x length", f["lap_dist_m"],
                 f32(f["spline"] * f["track_len_m"]), 1e-3)
    return c.done()


def check_derived(folder):
    """every golden file: what "derived" lists is there, and only derivable channels"""
    c = Case(folder + "/* derived")
    for name in sorted(os.listdir(os.path.join(HERE, folder))):
        if not name.endswith(".jsonl"):
            continue
        for f in load_all(os.path.join(folder, name)):
            names = f.get("derived", [])
            c.eq("%s: derived channels are derivable and present" % name,
                 [k for k in names if k not in DERIVED_CHANNELS or k not in f], [])
            c.eq("%s: listed once" % name, len(set(names)), len(names))
    return c.done()


def main():
    ok = True
    for folder in ("ac_remote", "pcars1", "f1", "forza", "acc"):
        ok &= check_derived(folder)
    for case in ("monza_in_pit", "monza_pit_exit", "monza_tc_shift", "monza_abs",
                 "monza_lap_line"):
        ok &= check_ac(case)
    for case in ("spa_strings", "spa_telemetry_500"):
        ok &= check_pcars(case)
    for case, year in (("f1_22_refused", 2022), ("f1_23_tick", 2023), ("f1_24_tick", 2024)):
        ok &= check_f1(case, year)
    for case, size, first, n in (("laguna_fm7_lap_line", 311, 680, 7),
                                 ("laguna_fm7_start", 311, 0, 5),
                                 ("laguna_sled_start", 232, 0, 5),
                                 ("laguna_fh_start", 324, 0, 5)):
        ok &= check_forza(case, size, first, n)
    ok &= check_acc("emulator_ticks")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
