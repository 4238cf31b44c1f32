#!/usr/bin/env python3
"""Reads the output of tests/tools/ws_client ("<ms> <kind> <rest>" lines) for test_ws.sh.

  ws_check.py first FILE                   type of the first text message
  ws_check.py types FILE                   every text message's type, one line
  ws_check.py rate FILE FROM_MS [TO_MS]    telemetry messages per second in the window
                                           (non-snapshot ones, by receive time)
  ws_check.py count FILE TYPE [FROM_MS]    text messages of TYPE (received after FROM_MS)
  ws_check.py get FILE TYPE EXPR           EXPR (Python, `d` = data, `e` = envelope) of the
                                           first message of TYPE; exit 1 when there is none
  ws_check.py all FILE TYPE EXPR           EXPR of every message of TYPE, one per line
  ws_check.py close FILE                   "<code> <reason>" of the server's close frame
  ws_check.py latency FILE SENT_SUB REPLY_EXPR
                                           max ms between each "sent" line containing SENT_SUB
                                           and the next message for which REPLY_EXPR is true
  ws_check.py kinds FILE KIND              how many lines of KIND (ping, pong, eof, ...)
  ws_check.py envelopes FILE               check every text line is a valid envelope
  ws_check.py schemas FILE...              validate every text message against its JSON Schema
                                           (ws-message: docs/schemas) and check its "sequence"
                                           is 1, 2, 3, ... per connection; prints the number of
                                           problems (details on stderr)
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def lines(path):
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            parts = raw.rstrip("\n").split(" ", 2)
            if len(parts) < 2:
                continue
            t, kind = float(parts[0]), parts[1]
            rest = parts[2] if len(parts) > 2 else ""
            env = None
            if kind == "text":
                try:
                    env = json.loads(rest)
                except ValueError:
                    env = {"type": "<invalid json>"}
            out.append((t, kind, rest, env))
    return out


def texts(path):
    return [(t, e) for t, k, _, e in lines(path) if k == "text"]


def is_telemetry(e):
    return e.get("type") == "telemetry" and not e.get("data", {}).get("snapshot")


def main(argv):
    cmd, path = argv[1], argv[2]
    if cmd == "first":
        tx = texts(path)
        print(tx[0][1].get("type") if tx else "")
    elif cmd == "types":
        for _, e in texts(path):
            print(e.get("type"))
    elif cmd == "rate":
        lo = float(argv[3])
        hi = float(argv[4]) if len(argv) > 4 else float("inf")
        ts = [t for t, e in texts(path) if is_telemetry(e) and lo <= t <= hi]
        if len(ts) < 2:
            print(0)
        else:
            print("%.2f" % ((len(ts) - 1) / ((ts[-1] - ts[0]) / 1000.0)))
    elif cmd == "count":
        lo = float(argv[4]) if len(argv) > 4 else -1
        n = sum(1 for t, e in texts(path) if e.get("type") == argv[3] and t >= lo
                and (argv[3] != "telemetry" or is_telemetry(e)))
        print(n)
    elif cmd in ("get", "all"):
        found = False
        for _, e in texts(path):
            if e.get("type") == argv[3]:
                found = True
                print(eval(argv[4], {}, {"d": e.get("data"), "e": e}))
                if cmd == "get":
                    break
        return 0 if found else 1
    elif cmd == "close":
        for _, k, rest, _ in lines(path):
            if k == "close":
                print(rest)
                return 0
        print("none")
    elif cmd == "latency":
        ls = lines(path)
        worst, n = -1.0, 0
        for i, (t, k, rest, _) in enumerate(ls):
            if k == "sent" and argv[3] in rest:
                for t2, k2, _, e in ls[i + 1:]:
                    if k2 == "text" and eval(argv[4], {}, {"d": e.get("data"), "e": e}):
                        worst = max(worst, t2 - t)
                        n += 1
                        break
                else:
                    print("missing")
                    return 0
        print("%.1f %d" % (worst, n))
    elif cmd == "kinds":
        print(sum(1 for _, k, _, _ in lines(path) if k == argv[3]))
    elif cmd == "schemas":
        from contract import Contract
        c, bad, n = Contract(), [], 0
        for f in argv[2:]:
            want = 1
            for t, e in texts(f):
                n += 1
                bad += ["%s at %.1f ms (%s): %s" % (f, t, e.get("type"), x) for x in c.errors("ws-message", e, 3)]
                if e.get("sequence") != want:
                    bad.append("%s at %.1f ms: sequence %s, want %d" % (f, t, e.get("sequence"), want))
                want += 1
        for b in bad[:20]:
            print(b, file=sys.stderr)
        print(len(bad) if n else "no messages")
    elif cmd == "envelopes":
        bad = [e for _, e in texts(path)
               if not (isinstance(e.get("type"), str) and e.get("schema_version") == 1
                       and isinstance(e.get("t_ms"), int) and isinstance(e.get("data"), dict))]
        print(len(bad))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
