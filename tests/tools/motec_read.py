#!/usr/bin/env python3
"""motec_read.py - read a MoTeC i2 .ld log (and its .ldx) back, for the tests.

Written for pitwall's test suite from the public description of the layout
(docs/export.md, "MoTeC"); no third-party code. Used as a module
(read_ld, read_ldx) by tests/integration/test_export.sh's checks, or as

    motec_read.py FILE.ld [FILE.ldx]

which prints the header, the channel list and each channel's first values as
JSON. Every structural rule the writer promises is checked while reading
(marker, pointers inside the file, the channel list linked both ways and
ending, data inside the file, one count and rate for all channels); a broken
rule raises ValueError.
"""
import json
import struct
import sys
import xml.etree.ElementTree as ET

HEADER_SIZE = 1762
CHANNEL_SIZE = 124


def _str(b):
    return b.split(b"\0", 1)[0].decode("latin-1")


def read_ld(path):
    data = open(path, "rb").read()
    if len(data) < HEADER_SIZE:
        raise ValueError("shorter than the header")
    (marker, _, meta_ptr, data_ptr) = struct.unpack_from("<IIII", data, 0)
    if marker != 0x40:
        raise ValueError("marker 0x%x, not 0x40" % marker)
    if any(data[16:36]):
        raise ValueError("bytes 16..35 are not zero")
    (event_ptr,) = struct.unpack_from("<I", data, 36)
    c64, c66, c68 = struct.unpack_from("<HHH", data, 64)
    (serial,) = struct.unpack_from("<I", data, 70)
    device = _str(data[74:82])
    (version, _, nchan, _) = struct.unpack_from("<HHII", data, 82)
    hdr = {
        "meta_ptr": meta_ptr,
        "data_ptr": data_ptr,
        "event_ptr": event_ptr,
        "constants": [c64, c66, c68],
        "serial": serial,
        "device": device,
        "version": version,
        "channels": nchan,
        "date": _str(data[94:110]),
        "time": _str(data[126:142]),
        "driver": _str(data[158:222]),
        "vehicle": _str(data[222:286]),
        "venue": _str(data[350:414]),
        "pro_logging": struct.unpack_from("<I", data, 1502)[0],
        "session": _str(data[1508:1572]),
        "short_comment": _str(data[1572:1636]),
    }
    if event_ptr:
        if event_ptr + 1154 > len(data):
            raise ValueError("event block outside the file")
        e = data[event_ptr:event_ptr + 1154]
        (venue_ptr,) = struct.unpack_from("<H", e, 1152)
        hdr["event"] = {"name": _str(e[0:64]), "session": _str(e[64:128]),
                        "comment": _str(e[128:1152])}
        if venue_ptr:
            if venue_ptr + 1100 > len(data):
                raise ValueError("venue block outside the file")
            v = data[venue_ptr:venue_ptr + 1100]
            hdr["event"]["venue"] = _str(v[0:64])
            (vehicle_ptr,) = struct.unpack_from("<H", v, 1098)
            if vehicle_ptr:
                if vehicle_ptr + 260 > len(data):
                    raise ValueError("vehicle block outside the file")
                hdr["event"]["vehicle"] = _str(data[vehicle_ptr:vehicle_ptr + 64])

    channels = []
    seen = set()
    ptr, prev = meta_ptr, 0
    while ptr:
        if ptr in seen or ptr + CHANNEL_SIZE > len(data):
            raise ValueError("channel list loops or leaves the file at %d" % ptr)
        seen.add(ptr)
        (p_prev, p_next, dptr, count, counter, cls, size, rate, shift, mul, scale,
         dec) = struct.unpack_from("<IIIIHHHHhhhh", data, ptr)
        if p_prev != prev:
            raise ValueError("channel at %d: prev %d, expected %d" % (ptr, p_prev, prev))
        ch = {
            "name": _str(data[ptr + 32:ptr + 64]),
            "short_name": _str(data[ptr + 64:ptr + 72]),
            "unit": _str(data[ptr + 72:ptr + 84]),
            "class": cls, "size": size, "rate": rate, "count": count,
            "shift": shift, "mul": mul, "scale": scale, "dec": dec, "data_ptr": dptr,
        }
        if (cls, size) not in ((3, 2), (5, 4), (0, 2), (0, 4), (7, 4)):
            raise ValueError("%s: class %d size %d" % (ch["name"], cls, size))
        if dptr + count * size > len(data):
            raise ValueError("%s: data outside the file" % ch["name"])
        raw = data[dptr:dptr + count * size]
        if cls == 7:
            vals = list(struct.unpack("<%df" % count, raw))
        else:
            vals = list(struct.unpack("<%d%s" % (count, "h" if size == 2 else "i"), raw))
        # value = (raw / scale * 10^-dec + shift) * mul
        ch["values"] = [(v / scale * 10.0 ** -dec + shift) * mul for v in vals]
        ch["raw"] = vals
        channels.append(ch)
        prev, ptr = ptr, p_next
    if len(channels) != nchan:
        raise ValueError("header says %d channels, the list has %d" % (nchan, len(channels)))
    return hdr, channels


def read_ldx(path):
    root = ET.parse(path).getroot()
    if root.tag != "LDXFile":
        raise ValueError("root is %s" % root.tag)
    beacons = []
    for g in root.iter("MarkerGroup"):
        if g.get("Name") == "Beacons":
            for m in g.iter("Marker"):
                if m.get("ClassName") != "BCN":
                    raise ValueError("marker class %s" % m.get("ClassName"))
                beacons.append(int(m.get("Time")))
    details = {s.get("Id"): s.get("Value") for s in root.iter("String")}
    return {"beacons_us": beacons, "details": details}


if __name__ == "__main__":
    hdr, chans = read_ld(sys.argv[1])
    out = {"header": hdr, "channels": [
        {k: v for k, v in c.items() if k not in ("values", "raw")} | {"first": c["values"][:5]}
        for c in chans]}
    if len(sys.argv) > 2:
        out["ldx"] = read_ldx(sys.argv[2])
    json.dump(out, sys.stdout, indent=1)
    print()
