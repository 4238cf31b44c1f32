#!/usr/bin/env bash
# Integration: pw-api's store calls share a pool of DEALERs (api/proxy.c), so
# what pw-api holds for them follows how many calls run at once, not how many
# of civetweb's 160 worker threads ever called the store. 150 store calls, each
# on a fresh connection (civetweb hands each to the next idle worker), then 16
# at a time: pw-api's open files (a DEALER is a TCP connection to the store and
# a mailbox) stay within what 16 concurrent calls need; with a socket per
# worker thread they grew by two per thread. The answers stay right.
# Likewise the workers' stacks (api/routes.c, release_stack): 200 dashboard
# pages, which go 12 kB deeper than a store call, on as many fresh connections
# leave pw-api's private memory where the store calls left it; each stack kept
# its deepest request's pages before (+1.9 MB over the 160 workers).
. "$(dirname "$0")/lib.sh"
private_bus
AP=$(free_tcp_port)
export PITWALL_API_PORT=$AP
URL=http://127.0.0.1:$AP
store_up() { "$BIN/pwctl" call use_cases.list >/dev/null 2>&1; }

start store "$BIN/pw-store"
wait_for 10 store_up || fail "pw-store answers"
start api "$BIN/pw-api"
API=$LAST_PID
wait_for 10 api_store_up "$URL" || fail "pw-api answers and reaches the store"

fds() { ls "/proc/$API/fd" | wc -l; }
# not cached (routes.c): every request is a store call; an unknown session is the store's 404
calls() { # N CONCURRENT
	python3 - "$URL" "$1" "$2" <<'PY'
import json, sys, urllib.request, urllib.error
from concurrent.futures import ThreadPoolExecutor
url, n, par = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sid = "00000000-0000-4000-8000-000000000000"
def one(_):
    try:
        urllib.request.urlopen(url + "/api/sessions/%s/analysis" % sid, timeout=10)
        return "200"
    except urllib.error.HTTPError as e:
        return "%d %s" % (e.code, json.loads(e.read())["error"]["code"])
with ThreadPoolExecutor(par) as ex:
    got = list(ex.map(one, range(n)))
bad = [g for g in got if g != "404 not_found"]
print("%d calls, %d not 404 not_found: %s" % (n, len(bad), bad[:3]))
sys.exit(1 if bad else 0)
PY
}
calls 4 1 >/dev/null # the first DEALER and what a call needs once
f0=$(fds)
check "150 store calls one after the other, each on a fresh connection: all answered" calls 150 1
f1=$(fds)
check "150 sequential calls on as many worker threads: pw-api's open files $f0 -> $f1 (at most +2)" \
	test "$f1" -le $((f0 + 2))
check "300 store calls 16 at a time: all answered" calls 300 16
f2=$(fds)
check "300 calls 16 at a time: open files $f1 -> $f2 (at most +2 per concurrent call)" \
	test "$f2" -le $((f0 + 2 + 32))

m0=$(own_kb "$API")
check "200 dashboard pages one after the other: all answered" fresh_gets "$URL/" 200
m1=$(own_kb "$API")
check_api_memory "200 dashboard pages on as many worker threads" "$m0" "$m1" 512
finish
