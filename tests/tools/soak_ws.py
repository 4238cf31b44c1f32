#!/usr/bin/env python3
"""soak_ws.py - N WebSocket clients on pw-api's /api/stream for the soak (tests/soak/soak.sh).

  soak_ws.py --port P [--host 127.0.0.1] [--path /api/stream] [--clients 20]
             [--hz 60] --seconds S --out FILE

Opens --clients connections (RFC 6455 handshake, Sec-WebSocket-Accept checked), asks each for
--hz telemetry (`set_rate`), and reads every connection in one select loop for at most S
seconds (or until SIGTERM/SIGINT), answering the server's PING control frames with PONG and
sending an application `ping` every 10 s. For each connection it counts messages per type and
checks the envelope's `sequence`: 1 for `hello`, then +1 for every message, no gap, no repeat.
At the end it sends close 1000, waits up to 2 s for the server's close, and writes a JSON
summary to FILE:

  {"clients": N, "seconds": S, "connected": N, "messages": total, "telemetry": total,
   "gaps": total, "repeats": total, "bad": total, "closed_early": total, "errors": [...],
   "per_client": [{"id", "messages", "telemetry", "types", "first_seq", "last_seq", "gaps",
                   "repeats", "bad", "closed_early", "close", "rate_hz"}]}

`gaps`: missing sequence numbers; `bad`: messages that were not a JSON envelope (or a
fragmented / binary frame, which the stream never sends); `closed_early`: the server closed
(or the TCP connection ended) before the end. Exit status 0 when every client connected and
the summary was written, 1 otherwise (the caller checks the figures).
"""
import argparse
import base64
import hashlib
import json
import os
import select
import signal
import socket
import struct
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_MSG = 8 << 20


def frame(opcode, payload):
    """A masked client frame."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    body = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
    return head + mask + body


def envelope(kind, data):
    return json.dumps({"type": kind, "schema_version": 1, "t_ms": int(time.time() * 1000),
                       "data": data}).encode()


class Client:
    def __init__(self, idx, host, port, path, timeout):
        self.idx = idx
        self.buf = b""
        self.msgs = 0
        self.types = {}
        self.first_seq = None
        self.last_seq = None
        self.gaps = 0
        self.repeats = 0
        self.bad = 0
        self.closed = None  # (code, reason) or "eof"
        self.t_first_tel = None
        self.t_last_tel = None
        self.tel = 0
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16))
        req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (path, host, port, key.decode()))
        self.sock.sendall(req.encode())
        resp = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in resp:
            if time.monotonic() > deadline:
                raise OSError("handshake timed out")
            chunk = self.sock.recv(4096)
            if not chunk:
                raise OSError("connection closed during the handshake")
            resp += chunk
        head, self.buf = resp.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if " 101 " not in lines[0] + " ":
            raise OSError("handshake answered: " + lines[0])
        want = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        accept = [l.split(":", 1)[1].strip() for l in lines[1:]
                  if l.lower().startswith("sec-websocket-accept:")]
        if accept != [want]:
            raise OSError("bad Sec-WebSocket-Accept")
        self.sock.setblocking(False)

    def send(self, opcode, payload):
        data = frame(opcode, payload)
        self.sock.setblocking(True)
        self.sock.settimeout(2)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.setblocking(False)

    def on_text(self, payload, now):
        try:
            env = json.loads(payload)
            kind = env["type"]
            seq = env["sequence"]
        except (ValueError, KeyError, TypeError):
            self.bad += 1
            return
        self.msgs += 1
        self.types[kind] = self.types.get(kind, 0) + 1
        if kind == "telemetry" and not env.get("data", {}).get("snapshot"):
            self.tel += 1
            if self.t_first_tel is None:
                self.t_first_tel = now
            self.t_last_tel = now
        if not isinstance(seq, int):
            self.bad += 1
            return
        if self.last_seq is None:
            self.first_seq = seq
            if seq != 1 or kind != "hello":
                self.bad += 1
        elif seq <= self.last_seq:
            self.repeats += 1
        elif seq != self.last_seq + 1:
            self.gaps += seq - self.last_seq - 1
        self.last_seq = seq if self.last_seq is None else max(seq, self.last_seq)

    def parse(self, now):
        """Consume the complete frames in the buffer; False when the connection is over."""
        while True:
            b = self.buf
            if len(b) < 2:
                return True
            fin, opcode, masked, n = b[0] & 0x80, b[0] & 0x0F, b[1] & 0x80, b[1] & 0x7F
            off = 2
            if n == 126:
                if len(b) < 4:
                    return True
                n = struct.unpack("!H", b[2:4])[0]
                off = 4
            elif n == 127:
                if len(b) < 10:
                    return True
                n = struct.unpack("!Q", b[2:10])[0]
                off = 10
            if masked or n > MAX_MSG:
                self.bad += 1
                self.closed = "protocol"
                return False
            if len(b) < off + n:
                return True
            payload = b[off:off + n]
            self.buf = b[off + n:]
            if opcode == 1 and fin:
                self.on_text(payload, now)
            elif opcode == 9:
                self.send(0xA, payload)
            elif opcode == 0xA:
                pass
            elif opcode == 8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                self.closed = (code, payload[2:].decode("utf-8", "replace"))
                return False
            else:
                self.bad += 1

    def summary(self, early):
        span = (self.t_last_tel or 0) - (self.t_first_tel or 0)
        return {"id": self.idx, "messages": self.msgs, "telemetry": self.tel,
                "types": self.types, "first_seq": self.first_seq, "last_seq": self.last_seq,
                "gaps": self.gaps, "repeats": self.repeats, "bad": self.bad,
                "closed_early": early, "close": self.closed,
                "rate_hz": round((self.tel - 1) / span, 2) if span > 0 else 0.0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/api/stream")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--hz", type=int, default=60)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.host != "127.0.0.1":
        ap.error("--host: 127.0.0.1 only")

    stop = [False]

    def on_signal(_sig, _frm):
        stop[0] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    errors = []
    clients = []
    for i in range(a.clients):
        try:
            c = Client(i, a.host, a.port, a.path, 5.0)
            c.send(1, envelope("set_rate", {"hz": a.hz}))
            clients.append(c)
        except OSError as e:
            errors.append("client %d: %s" % (i, e))
    t0 = time.monotonic()
    deadline = t0 + a.seconds
    next_ping = t0 + 10
    live = {c.sock: c for c in clients}
    early = set()
    while live and not stop[0]:
        now = time.monotonic()
        if now >= deadline:
            break
        if now >= next_ping:
            for c in list(live.values()):
                try:
                    c.send(1, envelope("ping", {}))
                except OSError as e:
                    errors.append("client %d: ping: %s" % (c.idx, e))
            next_ping = now + 10
        try:
            ready, _, _ = select.select(list(live), [], [], min(1.0, max(0.0, deadline - now)))
        except InterruptedError:
            continue
        now = time.monotonic()
        for s in ready:
            c = live[s]
            try:
                chunk = s.recv(1 << 16)
            except BlockingIOError:
                continue
            except OSError as e:
                chunk = b""
                errors.append("client %d: %s" % (c.idx, e))
            if not chunk:
                c.closed = c.closed or "eof"
            else:
                c.buf += chunk
                try:
                    if c.parse(now):
                        continue
                except OSError as e:
                    errors.append("client %d: %s" % (c.idx, e))
            early.add(c.idx)
            del live[s]
            s.close()
    # the end: close 1000 and read until the server's close (2 s at most)
    for c in list(live.values()):
        try:
            c.send(8, struct.pack("!H", 1000) + b"soak over")
        except OSError:
            del live[c.sock]
    end = time.monotonic() + 2
    while live and time.monotonic() < end:
        ready, _, _ = select.select(list(live), [], [], 0.2)
        for s in ready:
            c = live[s]
            try:
                chunk = s.recv(1 << 16)
            except OSError:
                chunk = b""
            c.buf += chunk
            if not chunk or not c.parse(time.monotonic()):
                del live[s]
    for c in clients:
        c.sock.close()
    per = [c.summary(c.idx in early) for c in clients]
    out = {"clients": a.clients, "seconds": round(time.monotonic() - t0, 1),
           "connected": len(clients),
           "messages": sum(p["messages"] for p in per),
           "telemetry": sum(p["telemetry"] for p in per),
           "gaps": sum(p["gaps"] for p in per), "repeats": sum(p["repeats"] for p in per),
           "bad": sum(p["bad"] for p in per),
           "closed_early": sum(1 for p in per if p["closed_early"]),
           "errors": errors, "per_client": per}
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(out, f)
    return 0 if len(clients) == a.clients else 1


if __name__ == "__main__":
    raise SystemExit(main())
