#!/usr/bin/env python3
"""compare_frames.py RING.jsonl SIM.jsonl - every frame read from a ring must
match a frame the emulator sent: same gear, speed within 1 km/h (formats
carry whole km/h), rpm within 1, position within 0.6 m (PCARS quarter metres)
where the ring frame has them. Prints a summary; exit 1 on any mismatch."""
import json
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def matches(r, s):
    if "gear" in r and r["gear"] != s.get("gear"):
        return False
    if "speed_kmh" in r and abs(r["speed_kmh"] - s.get("speed_kmh", -1e9)) > 1.0:
        return False
    if "rpm" in r and abs(r["rpm"] - s.get("rpm", -1e9)) > 1.0:
        return False
    if "pos_m" in r and "pos_m" in s:
        if abs(r["pos_m"][0] - s["pos_m"][0]) > 0.6 or abs(r["pos_m"][2] - s["pos_m"][2]) > 0.6:
            return False
    return True


def main():
    ring, sim = load(sys.argv[1]), load(sys.argv[2])
    if not ring or not sim:
        print(f"empty input: ring={len(ring)} sim={len(sim)}")
        return 1
    missing = [c for c in ("speed_kmh",) if c not in ring[0]]
    if missing:
        print(f"ring frames lack {missing}")
        return 1
    bad = [r for r in ring if not any(matches(r, s) for s in sim)]
    print(f"ring={len(ring)} sim={len(sim)} unmatched={len(bad)}")
    if bad:
        print("first unmatched:", json.dumps(bad[0])[:400])
    return 1 if bad else 0


sys.exit(main())
