#!/usr/bin/env python3
"""tests/data/make_cases.py - (re)build the golden decoder cases' captures.

Every capture a case decodes is cut or built here, deterministically, from the
source captures in this folder (see each folder's README.txt), so a case can be
checked back to its source. The golden .jsonl files are not written here: they
are `pw-capture --feed FEED --decode CASE` output that was checked by hand
against the source (tests/data/README.md says how).

    python3 tests/data/make_cases.py          AC, PCARS1, F1 and Forza cases
    python3 tests/data/make_cases.py acc BIN [DUMP]
                                              the ACC case: runs BIN/pw-sim (the
                                              emulator) and records it; DUMP gets
                                              the frames the emulator sent
                                              (pw-sim --dump), to check against

Python 3 standard library only.
"""
import csv
import os
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BASE_NS = 1704067200 * 10**9          # 2024-01-01T00:00:00Z, for built captures
LOCALHOST = 0x7F000001


# ---- pcap: classic, nanosecond timestamps, LINKTYPE_RAW, IPv4 + UDP ----

def pcap_header():
    return struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 101)


def ip_checksum(hdr):
    s = sum(struct.unpack("!10H", hdr))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def pcap_record(t_ns, payload, sport, dport):
    ip = struct.pack("!BBHHHBBHII", 0x45, 0, 28 + len(payload), 0, 0, 64, 17, 0,
                     LOCALHOST, LOCALHOST)
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    pkt = ip + udp + payload
    sec, ns = divmod(t_ns, 10**9)
    return struct.pack("<IIII", sec, ns, len(pkt), len(pkt)) + pkt


def write_pcap(path, packets, sport, dport):
    """packets: (t_ns, payload) pairs"""
    with open(path, "wb") as f:
        f.write(pcap_header())
        for t_ns, payload in packets:
            f.write(pcap_record(t_ns, payload, sport, dport))
    print("wrote %s (%d datagrams)" % (os.path.relpath(path, HERE), len(packets)))


def pcap_records(path):
    """(header, [record bytes]) of a classic pcap, records kept verbatim"""
    data = open(path, "rb").read()
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        raise SystemExit("%s: not a little-endian classic pcap" % path)
    recs, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        recs.append(data[off:off + 16 + incl])
        off += 16 + incl
    return data[:24], recs


# ---- Assetto Corsa: slices of the real Monza pcap (receive times kept) ----

AC_PCAP = "ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap"
AC_CASES = {                          # case: first and last datagram index (inclusive)
    "monza_in_pit": (0, 4),           # standing in the box: in_pit, no last/best lap yet
    "monza_pit_exit": (316, 323),     # in_pit ends at datagram 320
    "monza_tc_shift": (470, 487),     # TC acting at 472 and 484-486, shifts at 478 and 484
    "monza_abs": (1424, 1438),        # ABS from 1426, shifts at 1427 and 1436
    "monza_lap_line": (7895, 7903),   # lap 0 -> 1 at 7899, last = best = 344684 ms
}


def make_ac():
    hdr, recs = pcap_records(os.path.join(HERE, AC_PCAP))
    for case, (a, b) in AC_CASES.items():
        path = os.path.join(HERE, "ac_remote", case + ".pcap")
        with open(path, "wb") as f:
            f.write(hdr)
            for r in recs[a:b + 1]:
                f.write(r)
        print("wrote %s (%d datagrams)" % (os.path.relpath(path, HERE), b - a + 1))


# ---- Project CARS 1: slices of the real raw session (no receive times) ----

PCARS_RAW = "pcars1/vthinsel_pcars_v1_session2.raw"
PCARS_SIZES = {0: 1367, 1: 1347, 2: 1028}    # by the type bits of byte 2
PCARS_CASES = {
    "spa_strings": (93, 97),          # participant strings at datagram 95
    "spa_telemetry_500": (499, 503),  # datagram 501 = telemetry frame 500 of the session
}


def pcars_datagrams():
    data = open(os.path.join(HERE, PCARS_RAW), "rb").read()
    out, off = [], 0
    while off < len(data):
        n = PCARS_SIZES[data[off + 2] & 3]
        out.append(data[off:off + n])
        off += n
    return out


def make_pcars():
    dgrams = pcars_datagrams()
    for case, (a, b) in PCARS_CASES.items():
        path = os.path.join(HERE, "pcars1", case + ".raw")
        with open(path, "wb") as f:
            f.write(b"".join(dgrams[a:b + 1]))
        print("wrote %s (%d datagrams)" % (os.path.relpath(path, HERE), b - a + 1))


# ---- F1: the single real packets, in game order, as one pcap ----

F1_DIR = "f1/maciejpedzich_f1-game-packet-parser"
F1_CASES = {
    # every packet kind of one F1 24 session before its car telemetry (the order of
    # test_dec_f1.c's multi-packet tick), then the telemetry twice
    "f1_24_tick": ["2024-01", "2024-04", "2024-00", "2024-02", "2024-07", "2024-10",
                   "2024-11", "2024-03-SSTA", "2024-05", "2024-13", "2024-06", "2024-06"],
    # the same for F1 23 (one session: ids 0-2 and 4-7)
    "f1_23_tick": ["2023-01", "2023-04", "2023-00", "2023-02", "2023-07", "2023-05",
                   "2023-06", "2023-06"],
    # F1 22 (24-byte header) is not decoded: no frame at all
    "f1_22_refused": ["2022-00", "2022-01", "2022-02", "2022-06", "2022-07"],
}


def make_f1():
    for case, names in F1_CASES.items():
        pkts = [(BASE_NS + i * 10**6, open(os.path.join(HERE, F1_DIR, n + ".bin"), "rb").read())
                for i, n in enumerate(names)]
        write_pcap(os.path.join(HERE, "f1", case + ".pcap"), pkts, 20777, 20777)


# ---- Forza: rows of the real CSV rebuilt into the datagrams the game sent ----

FORZA_CSV = "forza/austinbaccus_forza-telemetry/laguna-seca.csv"
WHEELS = ("FrontLeft", "FrontRight", "RearLeft", "RearRight")


def forza_fields():
    """(CSV column, offset, struct type, in the dash block) - the Turn 10 layout"""
    f = [("IsRaceOn", 0, "i", 0), ("TimestampMS", 4, "I", 0), ("EngineMaxRpm", 8, "f", 0),
         ("EngineIdleRpm", 12, "f", 0), ("CurrentEngineRpm", 16, "f", 0)]
    for name, off in (("Acceleration", 20), ("Velocity", 32), ("AngularVelocity", 44)):
        f += [(name + ax, off + 4 * i, "f", 0) for i, ax in enumerate("XYZ")]
    f += [("Yaw", 56, "f", 0), ("Pitch", 60, "f", 0), ("Roll", 64, "f", 0)]
    groups = ("NormalizedSuspensionTravel", "TireSlipRatio", "WheelRotationSpeed",
              "WheelOnRumbleStrip", "WheelInPuddleDepth", "SurfaceRumble", "TireSlipAngle",
              "TireCombinedSlip", "SuspensionTravelMeters")
    for g, name in enumerate(groups):
        f += [(name + w, 68 + 16 * g + 4 * i, "i" if g == 3 else "f", 0)
              for i, w in enumerate(WHEELS)]
    f += [(n, 212 + 4 * i, "i", 0) for i, n in enumerate(
        ("CarOrdinal", "CarClass", "CarPerformanceIndex", "DrivetrainType", "NumCylinders"))]
    f += [("Position" + ax, 4 * i, "f", 1) for i, ax in enumerate("XYZ")]
    f += [("Speed", 12, "f", 1), ("Power", 16, "f", 1), ("Torque", 20, "f", 1)]
    f += [(n, 24 + 4 * i, "f", 1) for i, n in enumerate(
        ("TireTempFl", "TireTempFr", "TireTempRl", "TireTempRr"))]
    f += [(n, 40 + 4 * i, "f", 1) for i, n in enumerate(
        ("Boost", "Fuel", "Distance", "BestLapTime", "LastLapTime", "CurrentLapTime",
         "CurrentRaceTime"))]
    f += [("Lap", 68, "H", 1)]
    f += [(n, 70 + i, "B", 1) for i, n in enumerate(
        ("RacePosition", "Accelerator", "Brake", "Clutch", "Handbrake", "Gear"))]
    f += [("Steer", 76, "b", 1), ("NormalDrivingLine", 77, "b", 1),
          ("NormalAiBrakeDifference", 78, "b", 1)]
    return f


def forza_packet(row, size):
    """The datagram of one CSV row: 232 Sled, 311 FM7 Dash, 324 FH, 331 FM2023."""
    buf = bytearray(size)
    dash = 244 if size == 324 else 232
    for name, off, typ, in_dash in forza_fields():
        if in_dash and size == 232:
            continue
        cell = row[name]
        v = {"True": 1.0, "False": 0.0}.get(cell, None)
        v = float(cell) if v is None else v
        o = (dash if in_dash else 0) + off
        if typ in "iI" and v != int(v):
            # the recorder printed the s32 rumble-strip flags as floats of the same
            # bits (1 shows as 1e-45): write those bits back
            struct.pack_into("<f", buf, o, v)
        elif typ == "f":
            struct.pack_into("<f", buf, o, v)
        elif typ in "bB":
            struct.pack_into("<B", buf, o, int(v) & 0xFF)
        else:
            struct.pack_into("<" + typ, buf, o, int(v))
    return bytes(buf)


FORZA_CASES = {                       # case: datagram size, first and last CSV row
    "laguna_fm7_lap_line": (311, 680, 686),   # lap 0 -> 1 at row 684, LastLap 75.256 s
    "laguna_fm7_start": (311, 0, 4),
    "laguna_sled_start": (232, 0, 4),
    "laguna_fh_start": (324, 0, 4),
}


def make_forza():
    with open(os.path.join(HERE, FORZA_CSV), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    for case, (size, a, b) in FORZA_CASES.items():
        t0 = int(float(rows[a]["TimestampMS"]))
        pkts = [(BASE_NS + (int(float(r["TimestampMS"])) - t0) * 10**6, forza_packet(r, size))
                for r in rows[a:b + 1]]
        write_pcap(os.path.join(HERE, "forza", case + ".pcap"), pkts, 5300, 5300)


# ---- ACC: the emulator (pw-sim) recorded by a minimal broadcasting client ----

def acc_string(s):
    b = s.encode()
    return struct.pack("<H", len(b)) + b


def make_acc(bindir, dump=None, ticks=12):
    """Register with pw-sim --feed acc as pw-capture does (protocol 4, password
    "asd", 100 ms interval), ask for the entry list and the track data, and keep
    every datagram the emulator sends until `ticks` realtime updates came."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    sim = subprocess.Popen([os.path.join(bindir, "pw-sim"), "--feed", "acc", "--port", str(port),
                            "--rate", "10", "--seed", "1", "--quiet"] +
                           (["--dump", dump] if dump else []),
                           stdout=subprocess.DEVNULL)
    pkts, updates = [], 0
    try:
        time.sleep(0.5)
        s.settimeout(5)
        reg = (bytes([1, 4]) + acc_string("pitwall") + acc_string("asd") +
               struct.pack("<i", 100) + acc_string(""))
        s.sendto(reg, ("127.0.0.1", port))
        while updates < ticks:
            data, _ = s.recvfrom(65536)
            pkts.append((time.time_ns(), data))
            if data[0] == 1:                                    # REGISTRATION_RESULT
                conn = struct.unpack_from("<i", data, 1)[0]
                s.sendto(bytes([10]) + struct.pack("<i", conn), ("127.0.0.1", port))
            elif data[0] == 4:                                  # ENTRY_LIST
                s.sendto(bytes([11]) + struct.pack("<i", conn), ("127.0.0.1", port))
            elif data[0] == 2:                                  # REALTIME_UPDATE
                updates += 1
        s.sendto(bytes([9]), ("127.0.0.1", port))               # UNREGISTER
    finally:
        sim.terminate()
        sim.wait()
    os.makedirs(os.path.join(HERE, "acc"), exist_ok=True)
    with open(os.path.join(HERE, "acc", "emulator_ticks.pcap"), "wb") as f:
        f.write(pcap_header())
        for t_ns, payload in pkts:
            f.write(pcap_record(t_ns, payload, port, s.getsockname()[1]))
    print("wrote acc/emulator_ticks.pcap (%d datagrams)" % len(pkts))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "acc":
        make_acc(sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "../../build/bin"),
                 sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        make_ac()
        make_pcars()
        make_f1()
        make_forza()
