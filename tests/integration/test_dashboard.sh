#!/usr/bin/env bash
# pw-test: solo (see tests/run.sh)
# Integration: the dashboard (docs/dashboard.md). pw-api's static files over HTTP (types, ETag and
# 304, gzip, HEAD, 404 page, traversal refused, /api keeps its JSON errors, 405), then the
# dashboard in Debian's chromium driven by playwright-core (tests/browser/dashboard.mjs) against
# the real stack: pw-sim -> pw-capture (ksudp live, forza for the session) -> pw-store + two
# pw-analyze -> pw-api; a second pw-api with PITWALL_API_TOKEN for the token prompt. Screenshots
# of every view at 1280x800 and 768x1024 go to build/dashboard/.
. "$(dirname "$0")/lib.sh"
private_bus
KS=$(free_udp_port)
FZ=$(free_udp_port)
AP=$(free_tcp_port)
AP2=$(free_tcp_port)
export PITWALL_FEEDS=ksudp:$KS,forza:$FZ PITWALL_API_PORT=$AP
URL=http://127.0.0.1:$AP
SHOTS=${PW_SHOTS:-$ROOT/build/dashboard}
extra_cleanup() {
	[ -f "$TMP/extra.pids" ] && while read -r p; do kill "$p" 2>/dev/null; done <"$TMP/extra.pids"
	cleanup
}
trap extra_cleanup EXIT

start sim "$BIN/pw-sim" --feed ksudp --port "$KS" --rate 60 --quiet
SIM=$LAST_PID
start cap "$BIN/pw-capture" --feed ksudp --port "$KS" --game-host 127.0.0.1
CAP=$LAST_PID
start capfz "$BIN/pw-capture" --feed forza --port "$FZ" --bind 127.0.0.1
start store "$BIN/pw-store"
STORE=$LAST_PID
wait_for 30 "$BIN/pwctl" call use_cases.list >/dev/null 2>&1 || fail "pw-store answers"
start worker1 "$BIN/pw-analyze"
start worker2 "$BIN/pw-analyze"
start api "$BIN/pw-api"
wait_for 30 api_store_up "$URL" || fail "pw-api answers and reaches the store"
PITWALL_API_PORT=$AP2 PITWALL_API_TOKEN=t0ken start api2 "$BIN/pw-api"
wait_for 10 feed_at_least ksudp frames 60

# --- static files over HTTP -------------------------------------------------------------------
python3 - "$URL" "$ROOT/build/www" <<'PY' || FAILED=1
import gzip, http.client, json, sys
host = sys.argv[1].split("//")[1]
www = sys.argv[2]
def req(method, path, headers=None):
    c = http.client.HTTPConnection(host, timeout=10)
    c.putrequest(method, path, skip_accept_encoding=True)
    for k, v in (headers or {}).items():
        c.putheader(k, v)
    c.endheaders()
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body
def check(name, ok, why=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + str(why)[:300]))
    return ok
index = open(www + "/index.html", "rb").read()
s, h, b = req("GET", "/")
check("GET /: 200 text/html, the dashboard's index.html", s == 200 and h.get("content-type") == "text/html; charset=utf-8" and b == index, (s, h))
etag = h.get("etag")
check("GET /: an ETag, Cache-Control no-cache, a same-origin Content-Security-Policy",
      bool(etag) and h.get("cache-control") == "no-cache" and "default-src 'self'" in h.get("content-security-policy", ""), h)
s, h, b = req("GET", "/", {"If-None-Match": etag})
check("GET / with its ETag: 304 Not Modified, no body", s == 304 and b == b"" and h.get("etag") == etag, (s, h))
s, h, b = req("HEAD", "/index.html")
check("HEAD /index.html: the headers, no body", s == 200 and b == b"" and int(h.get("content-length")) == len(index), (s, h))
for path, ctype in (("/js/app.js", "text/javascript; charset=utf-8"), ("/css/app.css", "text/css; charset=utf-8"),
                    ("/vendor/uPlot.esm.js", "text/javascript; charset=utf-8"), ("/img/icon.svg", "image/svg+xml")):
    raw = open(www + path, "rb").read()
    s, h, b = req("GET", path, {"Accept-Encoding": "gzip, deflate, br"})
    check("GET %s with Accept-Encoding gzip: %s, gzip, the file's bytes" % (path, ctype),
          s == 200 and h.get("content-type") == ctype and h.get("content-encoding") == "gzip"
          and gzip.decompress(b) == raw and h.get("vary") == "Accept-Encoding", (s, h, len(b)))
    s, h, b = req("GET", path)
    check("GET %s without it: the plain file" % path, s == 200 and "content-encoding" not in h and b == raw, (s, h))
s, h, b = req("GET", "/js/app.js", {"Accept-Encoding": "gzip;q=0"})
check("Accept-Encoding gzip;q=0: not gzipped", s == 200 and "content-encoding" not in h, h)
for path in ("/nope.html", "/js/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/.hidden", "/js/.x.js",
             "/js//app.js", "/" + "a/" * 20 + "x.js", "/js/app.js/"):
    s, h, b = req("GET", path)
    check("GET %s: 404 page (HTML), nothing outside the files" % path,
          s == 404 and h.get("content-type", "").startswith("text/html") and b"Not Found" in b and b"root:" not in b, (s, b[:120]))
s, h, b = req("GET", "/api/nope")
check("GET /api/nope: the API's JSON 404", s == 404 and json.loads(b)["error"]["code"] == "not_found", (s, b))
s, h, b = req("GET", "/apix")
check("GET /apix: not the API, a 404 page", s == 404 and h.get("content-type", "").startswith("text/html"), (s, h))
s, h, b = req("POST", "/index.html")
check("POST /index.html: 405 with Allow: GET, HEAD", s == 405 and h.get("allow") == "GET, HEAD", (s, h))
s, h, b = req("GET", "/api/health")
check("GET /api/health still answers JSON", s == 200 and json.loads(b)["store"] == "up", (s, b))
PY

# without its files pw-api says so on every path, and the API still works
AP3=$(free_tcp_port)
PITWALL_API_PORT=$AP3 PITWALL_WWW_DIR=$TMP/nothing start api3 "$BIN/pw-api"
wait_for 10 python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$AP3"
body=$(curl -s "http://127.0.0.1:$AP3/")
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$AP3/")
check "PITWALL_WWW_DIR without the files: / is a 404 page saying they are not installed" \
	test "$code" = 404 -a -n "$(echo "$body" | grep -F "not installed")"
grep -q 'the dashboard.s files are not there' "$TMP/api3.log" && pass "and pw-api's log names the directory" ||
	fail "and pw-api's log names the directory" "$(cat "$TMP/api3.log")"
check "and the API answers" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$AP3/api/use-cases")" = 200

# --- in the browser ---------------------------------------------------------------------------
if [ ! -x /usr/bin/chromium ] || [ ! -d "$ROOT/tests/browser/node_modules/playwright-core" ]; then
	fail "chromium and playwright-core are installed" "run scripts/install-deps.sh"
	finish
fi
rm -rf "$SHOTS"
PW_URL=$URL PW_BIN=$BIN PW_SHOTS=$SHOTS PW_TMP=$TMP PW_FORZA_PORT=$FZ PW_STORE_PID=$STORE PW_SIM_PID=$SIM \
	PW_CAP_PID=$CAP PW_TOKEN_URL=http://127.0.0.1:$AP2 PW_TOKEN=t0ken \
	timeout 400 node "$ROOT/tests/browser/dashboard.mjs" || FAILED=1
n=$(find "$SHOTS" -name '*.png' 2>/dev/null | wc -l)
check "screenshots of every view in build/dashboard ($n)" test "$n" -ge 16
finish
