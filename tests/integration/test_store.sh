#!/usr/bin/env bash
# Integration: pw-store's command channel and bus, through pwctl. Session
# lifecycle, typed errors, events, persistence across restarts, corrupt files.
. "$(dirname "$0")/lib.sh"
bp=$(free_tcp_port)
export PITWALL_BUS=tcp://127.0.0.1:$bp PITWALL_BUS_IN=tcp://127.0.0.1:$((bp + 1))
PW=$BIN/pwctl
store_up() { "$PW" call use_cases.list >/dev/null 2>&1; }
start_store() {
	start store "$BIN/pw-store"
	STORE=$LAST_PID
	wait_for 10 store_up
}
stop_store() { kill "$STORE"; wait "$STORE"; }

start_store && pass "store answers commands" || fail "store answers commands"
start events "$PW" events --count 4 --timeout 20
wait_for 5 test -e "$TMP/events.out"
sleep 0.5 # a SUB socket needs a moment before publishers' messages reach it

check "use-cases: the four use case names, the seed's shape (strings)" \
	test "$("$PW" use-cases | jf 'd.__str__()')" = "['shift_points', 'car_grip', 'track_mapping', 'general']"
check "games.list: every decoded game as a name, the seed's four first" \
	test "$("$PW" call games.list | jf 'd[:4] + [len(d) >= 11, len(set(d)) == len(d), all(isinstance(g, str) for g in d)]')" = \
	"['assetto_corsa', 'assetto_corsa_competizione', 'project_cars_1', 'project_cars_2', True, True, True]"
out=$("$PW" session create car_grip --label "grip test")
id=$(echo "$out" | jf 'd["id"]')
check "session create returns an active session with guidance" \
	test "$(echo "$out" | jf 'd["status"]')/$(echo "$out" | jf 'd["guidance"] is not None')" = "active/True"
check "session get returns it" test "$("$PW" session get "$id" | jf 'd["label"]')" = "grip test"
"$PW" session reopen "$id" 2>"$TMP/err"
check "reopen of an active session: conflict (exit 1)" test $? -eq 1 -a -n "$(grep conflict "$TMP/err")"
check "complete: status completed, analysis pending" \
	test "$("$PW" session complete "$id" | jf 'd["analysis"]["status"]')" = pending
"$PW" session complete "$id" 2>/dev/null
check "complete twice: conflict" test $? -eq 1
out=$("$PW" session reopen "$id")
check "reopen: active again, analysis cleared" \
	test "$(echo "$out" | jf 'd["status"]')/$(echo "$out" | jf 'd["analysis"]')" = "active/None"
for bad in '{"use_case":"drifting"}' '{"use_case":"general","extra":1}' '{"use_case":5}' \
	'{"label":"x"}' "{\"use_case\":\"general\",\"label\":\"$(head -c 300 /dev/zero | tr '\0' x)\"}"; do
	"$PW" call session.create "$bad" 2>"$TMP/err" >/dev/null
	grep -q bad_request "$TMP/err" || fail "bad session.create $bad -> bad_request"
done
pass "malformed session.create arguments -> bad_request"
for bad in '{"id":"../../etc/passwd"}' '{"id":"00000000-0000-4000-8000-000000000000"}' '{}' '{"id":7}'; do
	"$PW" call session.get "$bad" 2>"$TMP/err" >/dev/null
	grep -qE 'bad_request|not_found' "$TMP/err" || fail "session.get $bad"
done
pass "invalid or unknown session ids -> bad_request / not_found"
"$PW" call no.such.command 2>"$TMP/err" >/dev/null
check "unknown command -> unknown_command" grep -q unknown_command "$TMP/err"
wait_for 10 test "$(wc -l <"$TMP/events.out")" -ge 4
check "bus: session.created / completed / analysis.pending / reopened events" \
	test "$(cut -d' ' -f1 "$TMP/events.out" | tr '\n' ' ')" = "session.created session.completed analysis.pending session.reopened "

id2=$("$PW" session create general | jf 'd["id"]')
"$PW" session delete "$id2" >/dev/null
check "delete removes the session" test -z "$("$PW" sessions --json | grep "$id2")"
check "deleted session file is gone" test ! -e "$PITWALL_DATA_DIR/sessions/$id2.json"

stop_store
echo '{not json' >"$PITWALL_DATA_DIR/sessions/11111111-1111-4111-8111-111111111111.json"
echo '{"id":"22222222-2222-4222-8222-222222222222","use_case":"warp"}' \
	>"$PITWALL_DATA_DIR/sessions/22222222-2222-4222-8222-222222222222.json"
head -c 10 /dev/urandom >"$PITWALL_DATA_DIR/sessions/33333333-3333-4333-8333-333333333333.json"
start_store
check "after a restart the session is still there" test "$("$PW" session get "$id" | jf 'd["label"]')" = "grip test"
check "corrupt session files are reported and skipped" test "$(grep -c 'corrupt session file' "$TMP/store.log")" -eq 3
check "and the others load" grep -q 'loaded=1 skipped=3' "$TMP/store.log"
stop_store
check "SIGTERM: store exits 0" test $? -eq 0
finish
