#!/usr/bin/env python3
"""seed004_client.py - a client written from the seed-004 ADR's text alone
("Sidecar WebSocket API contract", schema_version 1), to check that pitwall's
/ws serves it unchanged. It knows nothing of pitwall: a tiny RFC 6455 client
(stdlib only), the envelope, the event types, the telemetry payload's fields
and types, the close codes, as the ADR states them.

    seed004_client.py check-envelopes PORT SECONDS [--feed F] [--protocol P]
        connect, set_rate 10, run; validate every message against the ADR; print
        one JSON summary line (counts, the last telemetry, session and lap events)
    seed004_client.py expect-close PORT CODE [--protocol P] [--send TEXT]
        connect (and send TEXT); print the close code and reason; exit 0 when
        it is CODE
Exit status 1 with "ADR violation: ..." on stderr when a message breaks the ADR.
"""
import base64
import hashlib
import json
import os
import re
import socket
import struct
import sys
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SERVER_TYPES = {"hello", "session_started", "session_ended", "telemetry", "lap_completed",
                "recommendation", "pong", "error"}
WHEELS = {"fl", "fr", "rl", "rr"}
# telemetry data: the ADR's example payload, field by field (None = object checked below)
TELEMETRY = {
    "is_race_on": bool, "session_t_ms": int, "speed_kph": float, "rpm": float,
    "rpm_max": float, "gear": int, "throttle": float, "brake": float, "clutch": float,
    "handbrake": float, "steer": float, "drivetrain": str, "lap": None,
    "tire_temp_c": WHEELS, "tire_slip_ratio": WHEELS, "tire_slip_angle_rad": WHEELS,
    "suspension_travel_norm": WHEELS, "fuel_frac": float, "boost_bar": float,
    "accel_g": {"x", "y", "z"}, "lap_status": str, "tire_wear_frac": WHEELS,
    "track_ordinal": int,
}
LAP = {"number": int, "current_s": float, "last_s": float, "best_s": float, "position": int,
       "distance_m": float}
LAP_STATUS = {"valid", "dirty", "pit", "reset", "out_lap"}
VALIDITY = {"valid", "dirty", "pit", "reset"}
ERROR_CODES = {"bad_request", "unknown_type", "schema_mismatch", "rate_limited", "internal"}
# a number literal outside strings; 15 or more significant digits is float noise
# (91.769000000000005, 187.39999389648438): no float, time in ms or ns needs them
NUMBER = re.compile(r'"(?:[^"\\]|\\.)*"|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)')


def noise(text):
    for m in NUMBER.finditer(text):
        lit = m.group(1)
        if lit:
            digits = re.sub(r"[eE].*", "", lit).replace("-", "").replace(".", "").lstrip("0")
            if len(digits.rstrip("0") if "." not in lit else digits) >= 15:
                return lit
    return None


def violation(msg):
    sys.stderr.write("ADR violation: %s\n" % msg)
    sys.exit(1)


class WS:
    def __init__(self, port, path="/ws", protocol=None):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
               % (path, port, key))
        if protocol:
            req += "Sec-WebSocket-Protocol: %s\r\n" % protocol
        self.s.sendall((req + "\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.s.recv(4096)
            if not chunk:
                raise OSError("handshake: connection closed")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip()
                        for l in lines[1:] if ":" in l}
        if self.status == 101:
            want = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
            if self.headers.get("sec-websocket-accept") != want:
                raise OSError("handshake: bad Sec-WebSocket-Accept")

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError()
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, text, opcode=1):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def envelope(self, type_, data, t_ms=None, version=1):
        self.send(json.dumps({"type": type_, "schema_version": version,
                              "t_ms": int(time.time() * 1000) if t_ms is None else t_ms,
                              "data": data}))

    def recv(self, timeout):
        """('text', str) | ('close', code, reason) | None on timeout; answers PINGs."""
        self.s.settimeout(timeout)
        try:
            while True:
                b0, b1 = self._read(2)
                n = b1 & 0x7f
                if n == 126:
                    n = struct.unpack(">H", self._read(2))[0]
                elif n == 127:
                    n = struct.unpack(">Q", self._read(8))[0]
                payload = self._read(n)
                op = b0 & 0x0f
                if op == 9:
                    self.send(payload.decode("latin-1"), opcode=10)
                elif op == 1:
                    return ("text", payload.decode("utf-8"))
                elif op == 8:
                    code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
                    return ("close", code, payload[2:].decode("utf-8", "replace"))
        except socket.timeout:
            return None


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_value(where, v, kind):
    if v is None:
        return  # the ADR: optional fields are null where not available
    if kind is float and not is_num(v):
        violation("%s: %r is not a number" % (where, v))
    if kind is int and not (isinstance(v, int) and not isinstance(v, bool)):
        violation("%s: %r is not an integer" % (where, v))
    if kind in (bool, str) and not isinstance(v, kind):
        violation("%s: %r is not a %s" % (where, v, kind.__name__))
    if isinstance(kind, set):
        if not isinstance(v, dict) or set(v) != kind:
            violation("%s: %r is not an object with %s" % (where, v, sorted(kind)))
        for k, x in v.items():
            if x is not None and not is_num(x):
                violation("%s.%s: %r is not a number" % (where, k, x))


def check_message(text, summary):
    if noise(text):
        violation("a number with float noise: %s" % noise(text))
    try:
        m = json.loads(text)
    except ValueError:
        violation("not JSON: %s" % text[:200])
    if not isinstance(m, dict):
        violation("not an object")
    for f, kind in (("type", str), ("schema_version", int), ("t_ms", int), ("data", dict)):
        if not isinstance(m.get(f), kind) or isinstance(m.get(f), bool):
            violation("envelope field %s missing or mistyped: %s" % (f, text[:200]))
    if m["schema_version"] != 1:
        violation("schema_version %r" % m["schema_version"])
    t, d = m["type"], m["data"]
    if t not in SERVER_TYPES:
        violation("unknown server event type %r" % t)
    if summary["messages"] == 0 and t != "hello":
        violation("the first frame is %s, not hello" % t)
    if t == "hello" and summary["messages"] > 0:
        violation("a second hello")
    summary["messages"] += 1
    summary["types"][t] = summary["types"].get(t, 0) + 1
    if t == "hello":
        if not isinstance(m.get("sidecar_version"), str):
            violation("hello without sidecar_version")
    elif t == "telemetry":
        if set(d) != set(TELEMETRY):
            violation("telemetry fields differ: extra %s, missing %s" % (
                sorted(set(d) - set(TELEMETRY)), sorted(set(TELEMETRY) - set(d))))
        for k, kind in TELEMETRY.items():
            if kind is not None:
                check_value("telemetry." + k, d[k], kind)
        if not isinstance(d["lap"], dict) or set(d["lap"]) != set(LAP):
            violation("telemetry.lap: %r" % d["lap"])
        for k, kind in LAP.items():
            check_value("telemetry.lap." + k, d["lap"][k], kind)
        if d["lap_status"] is not None and d["lap_status"] not in LAP_STATUS:
            violation("lap_status %r" % d["lap_status"])
        for k in ("throttle", "brake", "clutch", "handbrake", "fuel_frac"):
            if d[k] is not None and not 0 <= d[k] <= 1:
                violation("%s %r outside 0..1" % (k, d[k]))
        if d["steer"] is not None and not -1 <= d["steer"] <= 1:
            violation("steer %r outside -1..1" % d["steer"])
        summary["last_telemetry"] = d
        summary["telemetry_t"].append(time.monotonic())
    elif t == "session_started":
        for k in ("session_id", "car_ordinal", "car_class", "car_pi", "drivetrain"):
            if k not in d:
                violation("session_started without %s" % k)
        check_value("session_started.car_ordinal", d["car_ordinal"], int)
        check_value("session_started.car_pi", d["car_pi"], int)
        check_value("session_started.car_class", d["car_class"], str)
        summary["session_started"].append(d)
    elif t == "session_ended":
        for k in ("session_id", "duration_s", "lap_count"):
            if k not in d:
                violation("session_ended without %s" % k)
        check_value("session_ended.duration_s", d["duration_s"], float)
        summary["session_ended"].append(d)
    elif t == "lap_completed":
        for k in ("lap_number", "lap_time_s", "is_personal_best", "validity", "invalid_reasons"):
            if k not in d:
                violation("lap_completed without %s" % k)
        if d["validity"] not in VALIDITY or not isinstance(d["invalid_reasons"], list):
            violation("lap_completed: %r" % d)
        summary["laps"].append(d)
        summary["lap_texts"].append(text)
    elif t == "error":
        if d.get("code") not in ERROR_CODES or not isinstance(d.get("message"), str) or "ref" not in d:
            violation("error: %r" % d)
        summary["errors"].append(d)
    elif t == "pong":
        summary["pongs"].append(d.get("echo_t_ms"))
    return m


def new_summary():
    return {"messages": 0, "types": {}, "last_telemetry": None, "telemetry_t": [],
            "session_started": [], "session_ended": [], "laps": [], "lap_texts": [],
            "errors": [], "pongs": [], "close": None, "snapshot_ms": None}


def check_envelopes(port, seconds, feed=None, protocol=None, rate=10):
    ws = WS(port, "/ws" + ("?feed=" + feed if feed else ""), protocol)
    if ws.status != 101:
        violation("handshake answered %d" % ws.status)
    if protocol and ws.headers.get("sec-websocket-protocol") != protocol:
        violation("subprotocol %s not echoed" % protocol)
    s = new_summary()
    ws.envelope("set_rate", {"hz": rate})
    ws.envelope("ping", {}, t_ms=1738012345678)
    ws.envelope("set_rate", {"hz": 61}, t_ms=42)  # the ADR: out of range -> bad_request
    end = time.monotonic() + seconds
    snap_at = time.monotonic() + seconds / 2
    while time.monotonic() < end:
        if snap_at and time.monotonic() >= snap_at:
            n = s["types"].get("telemetry", 0)
            t0 = time.monotonic()
            ws.envelope("request_snapshot", {})
            while s["types"].get("telemetry", 0) == n and time.monotonic() - t0 < 1:
                r = ws.recv(0.05)
                if r and r[0] == "text":
                    check_message(r[1], s)
            s["snapshot_ms"] = (time.monotonic() - t0) * 1000
            snap_at = None
            continue
        r = ws.recv(min(0.2, max(0.01, end - time.monotonic())))
        if r is None:
            continue
        if r[0] == "close":
            s["close"] = [r[1], r[2]]
            break
        check_message(r[1], s)
    ts = s.pop("telemetry_t")
    if len(ts) > 2:
        s["telemetry_hz"] = (len(ts) - 1) / (ts[-1] - ts[0])
    return s


def expect_close(port, code, protocol=None, send=None, path="/ws"):
    ws = WS(port, path, protocol)
    if ws.status != 101:
        print(json.dumps({"status": ws.status}))
        return False
    s = new_summary()
    if send:
        ws.send(send)
    end = time.monotonic() + 5
    while time.monotonic() < end:
        r = ws.recv(0.5)
        if r and r[0] == "close":
            print(json.dumps({"close": r[1], "reason": r[2], "errors": s["errors"],
                              "types": s["types"]}))
            return r[1] == code
        if r:
            check_message(r[1], s)
    print(json.dumps({"close": None, "types": s["types"]}))
    return False


def main():
    a = sys.argv[1:]
    opt = {}
    while len(a) > 1 and a[-2].startswith("--"):
        opt[a[-2][2:]] = a[-1]
        a = a[:-2]
    if a[0] == "check-envelopes":
        s = check_envelopes(int(a[1]), float(a[2]), opt.get("feed"), opt.get("protocol"),
                            int(opt.get("rate", 10)))
        print(json.dumps(s))
    elif a[0] == "expect-close":
        sys.exit(0 if expect_close(int(a[1]), int(a[2]), opt.get("protocol"), opt.get("send"))
                 else 1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
