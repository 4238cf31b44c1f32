#!/usr/bin/env bash
# Integration: the session index (data/sessions.idx, store/sindex.c). A
# store starts from it without parsing the session files it describes, and
# answers exactly as it does after parsing them all: the list, a session's
# laps and analysis, lap.best, characteristics; a file changed, added or
# removed behind the index's back, a damaged index, a store killed with -9
# before it wrote its index: each is found and the files win.
. "$(dirname "$0")/lib.sh"
private_bus
export PITWALL_FEEDS=ksudp
PW=$BIN/pwctl
SD=$PITWALL_DATA_DIR/sessions
IDX=$PITWALL_DATA_DIR/sessions.idx
store_up() { "$PW" call use_cases.list >/dev/null 2>&1; }
start_store() { # name
	start "$1" "$BIN/pw-store"
	STORE=$LAST_PID
	wait_for 10 store_up
}
stop_store() { kill "$STORE"; wait "$STORE"; }
loaded() { # loaded, from the index, parsed, skipped
	grep -o 'msg="sessions loaded".*' "$TMP/$1.log" |
		sed 's/.*loaded=\([0-9]*\) skipped=\([0-9]*\) from_index=\([0-9]*\) parsed=\([0-9]*\).*/\1 \3 \4 \2/'
}

# 200 sessions written as a store writes them: two runs each, laps with
# times, a shift_points session per tenth with an analysis result
mkdir -p "$SD"
python3 - "$SD" <<'PY'
import json, sys, uuid
for i in range(200):
    sid = str(uuid.uuid4())
    runs = []
    for k in range(2):
        laps = [{"number": n + 1, "time_ms": 80000 + (i * 7919 + k * 104729 + n * 31) % 9000,
                 "valid": (i + n) % 5 != 0, "invalid_reason": "none", "game_session": 7,
                 "start_seq": 100 * n, "end_seq": 100 * n + 99, "frames": 100} for n in range(3)]
        runs.append({"id": str(uuid.uuid4()), "label": "run %d" % k, "feed_name": "ksudp",
                     "merge_feeds": [], "status": "stopped", "start_marker": 1000 * k,
                     "end_marker": 1000 * k + 900, "frame_count": 900, "data_truncated": False,
                     "frames_lost": 0, "started_ns": 1, "stopped_ns": 2, "stop_reason": "stopped",
                     "game": "assetto_corsa", "track": "monza" if i % 2 else "spa", "driver": "d",
                     "laps": laps})
    uc = "shift_points" if i % 10 == 0 else "general"
    an = {"gears": [{"gear": 1, "min_rpm": 3000, "max_rpm": 7000, "min_speed_kmh": 20, "max_speed_kmh": 90}],
          "recommended_shift_rpm": 7000} if uc == "shift_points" else {"status": "done", "laps": 6}
    s = {"format": 1, "id": sid, "use_case": uc, "label": "session %d" % i, "status": "completed",
         "created_ns": 1700000000000000000 + i, "completed_ns": 1700000000000000000 + i, "runs": runs,
         "analysis": an, "recording_id": None, "car_name": "car %d" % (i % 3)}
    open("%s/%s.json" % (sys.argv[1], sid), "w").write(json.dumps(s, separators=(",", ":")))
PY

answers() { # everything a client sees, in one line of JSON per command
	{ # lap.best first: from the index it reads the summaries, not the files
		"$PW" call lap.best '{"game":"assetto_corsa","track_name":"monza"}'
		"$PW" call lap.best '{"game":"assetto_corsa","track_name":"spa","car_name":"car 1"}'
		"$PW" call characteristics.list
		"$PW" call session.laps "{\"session_id\":\"$1\"}"
		"$PW" call session.list
	} 2>&1
}

start_store first
check "no index: every file parsed, the index written" test "$(loaded first)" = "200 0 200 0" -a -s "$IDX"
some=$("$PW" call session.list | jf 'd[57]["id"]')
answers "$some" >"$TMP/want"
stop_store

start_store second
check "from the index: no file parsed" test "$(loaded second)" = "200 200 0 0"
answers "$some" >"$TMP/got"
check "answers from the index equal those from the files (list, lap.best, characteristics, laps)" \
	cmp -s "$TMP/want" "$TMP/got"
check "lap.best from the index is a lap of its session's file" \
	test "$("$PW" call lap.best '{"game":"assetto_corsa","track_name":"monza"}' | jf 'd["valid"] and d["time_ms"] > 0')" = True

# a write to a session that came from the index keeps what its file held
other=$("$PW" call session.list | jf 'd[120]["id"]')
stop_store
start_store third
"$PW" call session.reopen "{\"id\":\"$other\"}" >/dev/null
check "a session from the index, changed: its file keeps its laps" \
	test "$(jf 'sum(len(r["laps"]) for r in d["runs"])' <"$SD/$other.json")" = 6
stop_store

# behind the index's back: one file rewritten, one removed, one added
victim=$(ls "$SD" | sed -n 3p)
gone=$(ls "$SD" | sed -n 4p)
python3 - "$SD/$victim" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
d["label"] = "renamed outside"
open(sys.argv[1] + ".tmp", "w").write(json.dumps(d))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
PY
rm "$SD/$gone"
cp "$SD/$(ls "$SD" | sed -n 5p)" "$TMP/copy.json"
new=00000000-0000-4000-8000-00000000abcd
python3 - "$TMP/copy.json" "$SD/$new.json" "$new" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["id"] = sys.argv[3]
open(sys.argv[2], "w").write(json.dumps(d))
PY
start_store fourth
check "changed, removed, added files: parsed or dropped, the rest from the index" \
	test "$(loaded fourth)" = "200 198 2 0"
check "the changed file wins" \
	test "$("$PW" call session.get "{\"id\":\"${victim%.json}\"}" | jf 'd["label"]')" = "renamed outside"
check "the removed one is gone, the added one is there" \
	test "$("$PW" call session.list | jf '[s["id"] for s in d].count("'"${gone%.json}"'") + [s["id"] for s in d].count("'"$new"'")')" = 1
stop_store

# a damaged index: rebuilt from the files, nothing lost
printf 'garbage' | dd of="$IDX" bs=1 seek=100 conv=notrunc 2>/dev/null
start_store fifth
check "damaged index: logged, every file parsed" \
	test "$(loaded fifth)" = "200 0 200 0" -a -n "$(grep 'session index unreadable' "$TMP/fifth.log")"

# killed before the index caught up: what was written since is parsed
made=$("$PW" session create general --label "after the index" | jf 'd["id"]')
kill -9 "$STORE"
wait "$STORE" 2>/dev/null
start_store sixth
check "a session created just before kill -9 is there after the restart" \
	test "$("$PW" call session.get "{\"id\":\"$made\"}" | jf 'd["label"]')" = "after the index"
check "... the only file parsed" test "$(loaded sixth)" = "201 200 1 0"
stop_store
finish
