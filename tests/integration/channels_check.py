#!/usr/bin/env python3
"""channels_check.py DICT.json RING.jsonl SENT.jsonl - one game's frames against
the channel dictionary (tests/integration/test_channels.sh).

DICT is `pwctl channels --json`; RING the frames read back from the capture's
ring (`pwctl tail --from-start`), all of one game; SENT what the emulator sent
for them (`pw-sim --dump`), frame for frame. Checks:
  - the frames match the frame schema (docs/schemas/frame/v1.json): every
    tenth, and each with a set of keys not seen before;
  - every key of every frame (flags as flags.NAME) is a dictionary entry;
  - each channel's unit is the one its name says (DESIGN §2: the unit is in
    the name: _kmh km/h, _ms ms, _c degC, _kpa kPa, _rads rad/s, ...), and
    its values are the emulator's within the precision the game's format
    keeps: a game that sent another unit (degF, psi, m/s for km/h) or a
    decoder that converted twice would be off by a factor;
  - the channels and flags the frames carry as the game's own are exactly
    those the dictionary declares for the game (no more: undeclared; no fewer:
    declared but never sent), and the channels pitwall derived (the frame's
    "derived" list) are the ones the dictionary says it derives for the game,
    or fill a gap of one of the game's own channels (common/derive.h).
Prints a one-line summary first, then the problems; exit 1 on any."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from contract import Contract  # noqa: E402

# the unit a channel's name says; names without a unit suffix are plain numbers
NAMED_UNITS = {"vel_ms": "m/s", "rpm": "1/min", "max_rpm": "1/min"}
SUFFIX_UNITS = [("_rads", "rad/s"), ("_rad", "rad"), ("_deg", "deg"), ("_kmh", "km/h"), ("_kpa", "kPa"),
                ("_bar", "bar"), ("_nm", "N*m"), ("_ns", "ns"), ("_ms", "ms"), ("_n", "N"), ("_w", "W"),
                ("_c", "degC"), ("_g", "g"), ("_l", "l"), ("_m", "m"), ("_s", "s")]
# what two values of a unit may differ by: the coarsest format's step (whole km/h and
# metres in some games, quarter metres in PCARS, whole degC in F1, 1 ms)
ABS_TOL = {"km/h": 1.0, "m": 0.6, "1/min": 1.0, "ms": 1.0, "s": 0.002, "degC": 0.6, "kPa": 0.5, "g": 0.02,
           "rad": 0.01, "rad/s": 0.2, "N": 2.0, "W": 100.0, "N*m": 0.5, "l": 0.05, "bar": 0.01, "deg": 0.1,
           "m/s": 0.3, "": 0.01}
REL_TOL = 0.01
AGREE = 0.99          # share of a channel's values that must agree
MIN_VALUES = 100      # fewer to compare (a value sent at the end only): not judged
# where the game itself does not carry the emulator's value
EXCEPTIONS = {
    ("assetto_corsa", "steer"): "AC sends the wheel angle only; steer assumes a 450 deg lock (capture/ksudp.h)",
}
IDENTITY = {"seq", "t_ns", "feed", "game", "game_session", "derived"}


def unit_of(name):
    if name in NAMED_UNITS:
        return NAMED_UNITS[name]
    for suffix, unit in SUFFIX_UNITS:
        if name.endswith(suffix):
            return unit
    return ""


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv):
    d = json.load(open(argv[1]))
    ring, sent = load(argv[2]), load(argv[3])
    entries = {e["json_key"]: e for e in d["channels"]}
    bad = []
    if not ring:
        print("no frames in the ring")
        return 1
    game = ring[0]["game"]
    declared = next((g for g in d["games"] if g["name"] == game), None)
    if declared is None:
        print("%s: not a game of the dictionary" % game)
        return 1
    if len(ring) != len(sent):
        bad.append("%d frames in the ring, %d sent: frames were lost" % (len(ring), len(sent)))
    contract = Contract()
    schema_bad = 0
    seen_channels, seen_flags, seen_derived, keysets = set(), set(), set(), set()
    agree, total = {}, {}
    for i, f in enumerate(ring):
        if f.get("game") != game:
            bad.append("frame %d: game %s among %s frames" % (i, f.get("game"), game))
            break
        keys = {k for k in f if k != "flags"} | {"flags." + k for k in f.get("flags", {})}
        if i % 10 == 0 or frozenset(keys) not in keysets:  # a validator is slow: a sample
            keysets.add(frozenset(keys))
            errs = contract.errors("frame", f, 1)
            if errs and schema_bad < 3:
                bad.append("frame %d: frame schema: %s" % (i, errs[0]))
            schema_bad += bool(errs)
        for k in sorted(keys - set(entries)):
            bad.append("frame %d: key %s is not in the dictionary" % (i, k))
        derived = set(f.get("derived", []))
        for k in sorted(derived - set(f)):
            bad.append("frame %d: %s is in derived but not in the frame" % (i, k))
        seen_channels |= {k for k in f if k not in IDENTITY and k != "flags" and k not in derived}
        seen_derived |= derived
        seen_flags |= set(f.get("flags", {}))
        s = sent[i] if i < len(sent) else {}
        for k, v in f.items():
            # a derived value's accuracy is common/derive.h's (tests/unit/test_derive.c)
            if k in IDENTITY or k == "flags" or k not in entries or k not in s or k in derived:
                continue
            unit = entries[k]["unit"]
            for a, b in zip(v if isinstance(v, list) else [v], s[k] if isinstance(s[k], list) else [s[k]]):
                total[k] = total.get(k, 0) + 1
                if (a is None and (b is None or b < 0)) or \
                        (a is not None and b is not None and abs(a - b) <= max(REL_TOL * abs(b), ABS_TOL.get(unit, 0))):
                    agree[k] = agree.get(k, 0) + 1
    for k in sorted((seen_channels | seen_derived) & set(entries)):
        e = entries[k]
        if e["unit"] != unit_of(k):
            bad.append("%s: the dictionary's unit is %r, its name says %r" % (k, e["unit"], unit_of(k)))
        if (game, k) in EXCEPTIONS or total.get(k, 0) < MIN_VALUES:
            continue
        share = agree.get(k, 0) / total[k]
        if share < AGREE:
            bad.append("%s: only %.1f%% of its values are the emulator's (in %s)" % (k, 100 * share, e["unit"] or "1"))
    if bad and len(bad) > 40:
        bad = bad[:40] + ["..."]
    extra = sorted(seen_channels - set(declared["channels"]))
    missing = sorted(set(declared["channels"]) - seen_channels)
    if extra:
        bad.append("channels the frames carry that the dictionary does not declare for %s: %s" % (game, extra))
    if missing:
        bad.append("channels declared for %s that no frame carried: %s" % (game, missing))
    if set(declared["derived"]) - seen_derived:
        bad.append("channels the dictionary says pitwall derives for %s that no frame carried: %s"
                   % (game, sorted(set(declared["derived"]) - seen_derived)))
    if seen_derived - set(declared["derived"]) - set(declared["channels"]):
        bad.append("channels derived for %s that the dictionary does not say: %s"
                   % (game, sorted(seen_derived - set(declared["derived"]) - set(declared["channels"]))))
    if seen_flags != set(declared["flags"]):
        bad.append("flags: the frames report %s, the dictionary declares %s" % (sorted(seen_flags),
                                                                               sorted(declared["flags"])))
    compared = sum(1 for k in total if (game, k) not in EXCEPTIONS and total[k] >= MIN_VALUES)
    print("%s: %d frames, %d channels, %d derived, %d flags: %s" % (
        game, len(ring), len(seen_channels), len(seen_derived), len(seen_flags),
        "%d problems" % len(bad) if bad else "in the dictionary as declared, units as named, %d channels "
        "equal to the emulator's, the frame schema" % compared))
    for b in bad:
        print("  " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
