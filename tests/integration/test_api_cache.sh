#!/usr/bin/env bash
# Integration: pw-api's answer cache and segment attachments never show stale
# data. The store's status page (common/storestat.h) lets pw-api reuse a read
# while the store's state generation is unchanged; these checks change the
# state behind the API's back (pwctl talks to the store directly) and read it
# back through the API at once, while other clients keep the cache hot.
# Also: store counters in /metrics, a paused and a killed store, feeds that
# appear or whose segment is recreated after the API started.
. "$(dirname "$0")/lib.sh"
bp=$(free_tcp_port)
export PITWALL_BUS=tcp://127.0.0.1:$bp PITWALL_BUS_IN=tcp://127.0.0.1:$((bp + 1))
KS=$(free_udp_port)
AP=$(free_tcp_port)
export PITWALL_FEEDS=ksudp:$KS PITWALL_API_PORT=$AP PITWALL_CMD_TIMEOUT_MS=1500
URL=http://127.0.0.1:$AP
CHECK=$ROOT/tests/integration/api_cache_check.py
store_up() { "$BIN/pwctl" call use_cases.list >/dev/null 2>&1; }
api_up() { api_store_up "$URL"; }

start store "$BIN/pw-store"
STORE=$LAST_PID
wait_for 30 store_up || fail "pw-store answers"
start api "$BIN/pw-api"
wait_for 30 api_up || fail "pw-api answers and reaches the store"

# the API started before any feed: one that appears later is served
start sim "$BIN/pw-sim" --feed ksudp --port "$KS" --rate 100 --quiet
start cap "$BIN/pw-capture" --feed ksudp --port "$KS" --game-host 127.0.0.1
CAP=$LAST_PID
wait_for 10 feed_at_least ksudp frames 20 || fail "the feed runs"
python3 "$CHECK" "$URL" live-feed "$CAP" || fail "a feed started after the API is in /api/live and /api/feeds"

# consistency: changes made through the store directly show at once
python3 "$CHECK" "$URL" consistency "$BIN/pwctl" ksudp || fail "reads through the cache are never stale"

# a capture restart that recreates the segment: the API follows the new one
kill "$CAP"
wait "$CAP" 2>/dev/null
rm -f /dev/shm/pitwall."$INST".ksudp
start cap2 "$BIN/pw-capture" --feed ksudp --port "$KS" --game-host 127.0.0.1
CAP2=$LAST_PID
python3 "$CHECK" "$URL" live-feed "$CAP2" || fail "a recreated segment is followed"

# the store paused: nothing is answered from the cache once its heartbeat is stale
python3 "$CHECK" "$URL" warm || fail "warm the cache"
kill -STOP "$STORE"
sleep 0.3 # > STORESTAT_FRESH_NS (100 ms): the page is stale
python3 "$CHECK" "$URL" paused || fail "a paused store: 503, pitwall_store_up 0"
kill -CONT "$STORE"
wait_for 10 api_up || fail "the API reaches the store again"

# the store killed and restarted: what it stored is served, changes show at once
python3 "$CHECK" "$URL" snapshot >"$TMP/before.json" || fail "snapshot"
kill -9 "$STORE"
wait "$STORE" 2>/dev/null
sleep 0.3
python3 "$CHECK" "$URL" exited || fail "a killed store: 503 at once"
start store2 "$BIN/pw-store"
wait_for 30 store_up || fail "pw-store restarts"
python3 "$CHECK" "$URL" after-restart "$TMP/before.json" "$BIN/pwctl" ||
	fail "after a store restart: the same sessions, changes at once"
finish
