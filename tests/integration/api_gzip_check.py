#!/usr/bin/env python3
"""api_gzip_check.py URL MIN PATH... - pw-api's gzipped answers (docs/api.md "Compression").

Each PATH is read four times: without Accept-Encoding, with a browser's
("gzip, deflate, br, zstd"), with gzip at q=0 and with "br" alone. The answer
without is the reference. An answer of MIN bytes or more to the browser is
gzip (Content-Encoding: gzip, Vary: Accept-Encoding, Content-Length of the
compressed bytes) and decodes to the reference byte for byte; a smaller one is
the reference as it is. The other two are the reference, never compressed.
Prints one PASS/FAIL line per path; exits 1 when one failed.
"""
import gzip
import http.client
import sys


def get(host, path, accept_encoding):
    c = http.client.HTTPConnection(host, timeout=60)
    # skip_accept_encoding: http.client would otherwise send "identity" itself
    c.putrequest("GET", path, skip_accept_encoding=True)
    if accept_encoding is not None:
        c.putheader("Accept-Encoding", accept_encoding)
    c.endheaders()
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def check(host, path, least):
    status, h, plain = get(host, path, None)
    if status != 200:
        return False, "GET without Accept-Encoding: %d %s" % (status, plain[:200])
    if "content-encoding" in h:
        return False, "compressed without Accept-Encoding: %s" % h
    if int(h["content-length"]) != len(plain):
        return False, "Content-Length %s for %d bytes" % (h["content-length"], len(plain))
    status, h, body = get(host, path, "gzip, deflate, br, zstd")
    if status != 200:
        return False, "GET with gzip: %d" % status
    if len(plain) >= least:
        if h.get("content-encoding") != "gzip" or h.get("vary") != "Accept-Encoding":
            return False, "%d bytes not gzipped: %s" % (len(plain), h)
        if int(h["content-length"]) != len(body):
            return False, "Content-Length %s for %d gzipped bytes" % (h["content-length"], len(body))
        if gzip.decompress(body) != plain:
            return False, "the gzipped answer does not decode to the plain one"
        if len(body) >= len(plain):
            return False, "gzip did not shrink it: %d -> %d" % (len(plain), len(body))
        how = "gzip %d -> %d bytes, decodes to the same" % (len(plain), len(body))
    else:
        if "content-encoding" in h or body != plain:
            return False, "a %d-byte answer changed: %s" % (len(plain), h)
        how = "%d bytes, below %d: as it is" % (len(plain), least)
    for ae in ("gzip;q=0", "br"):
        status, h, body = get(host, path, ae)
        if status != 200 or "content-encoding" in h or body != plain:
            return False, "Accept-Encoding %s: %d %s" % (ae, status, h)
    return True, how + "; gzip;q=0 and br alone: as it is"


def main():
    host = sys.argv[1].split("//", 1)[1].rstrip("/")
    least = int(sys.argv[2])
    failed = 0
    for path in sys.argv[3:]:
        try:
            ok, res = check(host, path, least)
        except Exception as e:  # a broken answer is a failure of this path, not of the run
            ok, res = False, "error: %r" % e
        short = path if len(path) < 70 else path[:67] + "..."
        print("%s gzip GET %s: %s" % ("PASS" if ok else "FAIL", short, res))
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
