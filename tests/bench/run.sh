#!/usr/bin/env bash
# tests/bench/run.sh - `make bench`: every figure printed and written to build/bench.txt.
# Targets (capture issue): decode < 200 ns/packet; ring >= 10 M frames/s with 0, 1, 2
# readers; UDP ingest >= 200,000 packets/s with zero loss; capture CPU < 1 % of a core
# at 333 Hz; capture RSS < 8 MB excluding the segment.
set -u
cd "$(dirname "$0")/../.."
BIN=$PWD/build/bin
out=build/bench.txt
INST=bench$$
export PITWALL_INSTANCE=$INST
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -f /dev/shm/pitwall."$INST".*; }
trap cleanup EXIT
field() { "$BIN/pwctl" feeds --json | python3 -c 'import json,sys; print([f for f in json.load(sys.stdin) if f["feed"]==sys.argv[1]][0][sys.argv[2]])' "$1" "$2"; }
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_frames() { # feed n seconds
	for _ in $(seq $(($3 * 10))); do [ "$(field "$1" frames)" -ge "$2" ] && return 0; sleep 0.1; done
	return 1
}

ingest() { # pps count
	local port cap sent t0 t1 rx fr dr
	port=$(free_port)
	"$BIN/pw-capture" --feed ksudp --passive --bind 127.0.0.1 --port "$port" --ring-frames 2097152 2>/dev/null &
	cap=$!
	pids+=("$cap")
	sleep 0.5
	t0=$(date +%s%N)
	if [ "$1" = max ]; then
		"$BIN/pw-replay" tests/data/ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap --port "$port" --max --loop --count "$2" --quiet 2>/dev/null
	else
		"$BIN/pw-replay" tests/data/ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap --port "$port" --pps "$1" --loop --count "$2" --quiet 2>/dev/null
	fi
	t1=$(date +%s%N)
	wait_frames ksudp "$2" 5
	rx=$(field ksudp received)
	fr=$(field ksudp frames)
	dr=$(field ksudp kernel_drops)
	awk -v n="$2" -v rx="$rx" -v fr="$fr" -v dr="$dr" -v dt="$(( (t1 - t0) / 1000 ))" -v mode="$1" 'BEGIN {
		rate = n / (dt / 1e6); lost = n - fr;
		printf "ingest %-6s: sent %d in %.2f s = %.0f packets/s; received %d, frames %d, kernel drops %d, lost %d  %s\n",
			mode, n, dt / 1e6, rate, rx, fr, dr, lost,
			(mode == "max") ? "(informational)" : ((lost == 0 && rate >= 200000) ? "ok" : "MISSED TARGET") }'
	kill "$cap"
	wait "$cap" 2>/dev/null
	rm -f /dev/shm/pitwall."$INST".ksudp
}

footprint() { # capture CPU and RSS at 333 Hz for 20 s
	local port sim cap t0 c0 c1 t1 hz
	port=$(free_port)
	hz=$(getconf CLK_TCK)
	"$BIN/pw-sim" --feed ksudp --port "$port" --rate 333 --quiet >/dev/null 2>&1 &
	sim=$!
	"$BIN/pw-capture" --feed ksudp --port "$port" --game-host 127.0.0.1 2>/dev/null &
	cap=$!
	pids+=("$sim" "$cap")
	wait_frames ksudp 300 10
	c0=$(awk '{print $14 + $15}' /proc/"$cap"/stat)
	t0=$(date +%s%N)
	sleep 20
	c1=$(awk '{print $14 + $15}' /proc/"$cap"/stat)
	t1=$(date +%s%N)
	awk -v c="$((c1 - c0))" -v hz="$hz" -v dt="$(( (t1 - t0) / 1000000 ))" -v fps="$(field ksudp frames_per_s)" 'BEGIN {
		cpu = 100 * (c / hz) / (dt / 1000);
		printf "capture CPU at %.0f frames/s: %.2f %% of a core over %.0f s  %s\n", fps, cpu, dt / 1000, cpu < 1 ? "ok" : "OVER TARGET" }'
	awk '/^(RssAnon|RssFile|RssShmem|VmHWM)/ { v[$1] = $2 } END {
		rss = v["RssAnon:"] + v["RssFile:"];
		printf "capture RSS excluding the segment: %.1f MB (anon %d kB + file %d kB; segment pages touched %d kB)  %s\n",
			rss / 1024, v["RssAnon:"], v["RssFile:"], v["RssShmem:"], rss < 8192 ? "ok" : "OVER TARGET" }' /proc/"$cap"/status
	kill "$sim" "$cap"
	wait "$cap" 2>/dev/null
	rm -f /dev/shm/pitwall."$INST".ksudp
}

store_latency() {
	local port bp cap st
	port=$(free_port)
	bp=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	export PITWALL_BUS=tcp://127.0.0.1:$bp PITWALL_BUS_IN=tcp://127.0.0.1:$((bp + 1))
	export PITWALL_FEEDS=ksudp:$port PITWALL_RUN_DIR=$tmp/run PITWALL_DATA_DIR=$tmp/data
	"$BIN/pw-capture" --feed ksudp --passive --bind 127.0.0.1 --port "$port" 2>/dev/null &
	cap=$!
	"$BIN/pw-store" 2>/dev/null &
	st=$!
	pids+=("$cap" "$st")
	for _ in $(seq 50); do "$BIN/pwctl" call use_cases.list >/dev/null 2>&1 && break; sleep 0.1; done
	build/bench/bench_latency "$port" "$PITWALL_BUS" 3000 333
	kill "$cap" "$st"
	wait "$cap" "$st" 2>/dev/null
	rm -f /dev/shm/pitwall."$INST".ksudp
}

store_startup() { # 10,000 stored sessions with two runs and laps each
	local dir=$tmp/startup st t0 t1
	mkdir -p "$dir/data/sessions"
	python3 - "$dir/data/sessions" <<'PY'
import json, sys, uuid
lap = {"number": 1, "time_ms": 89209, "measured_ms": 89208, "sector_ms": [30001, 29800, 29408],
       "valid": True, "invalid_reason": "none", "personal_best": True, "game_session": 7,
       "start_seq": 100, "end_seq": 29800, "min_speed_kmh": 61.2, "max_speed_kmh": 281.9, "frames": 29700}
for i in range(10000):
    sid = str(uuid.uuid4())
    runs = [{"id": str(uuid.uuid4()), "label": "run %d" % k, "feed_name": "ksudp", "merge_feeds": [],
             "status": "stopped", "start_marker": 1000 * k, "end_marker": 1000 * k + 900,
             "frame_count": 900, "data_truncated": False, "frames_lost": 0, "started_ns": 1,
             "stopped_ns": 2, "stop_reason": "stopped", "laps": [lap, lap]} for k in range(2)]
    s = {"format": 1, "id": sid, "use_case": "general", "label": "session %d" % i, "status": "completed",
         "created_ns": 1700000000000000000 + i, "completed_ns": 0, "runs": runs,
         "analysis": {"status": "done", "laps": 2}, "recording_id": None, "car_name": "pitwall_gt3"}
    open("%s/%s.json" % (sys.argv[1], sid), "w").write(json.dumps(s, separators=(",", ":")))
PY
	sync
	export PITWALL_DATA_DIR=$dir/data PITWALL_RUN_DIR=$dir/run PITWALL_FEEDS=ksudp
	t0=$(date +%s%N)
	"$BIN/pw-store" 2>"$dir/store.log" &
	st=$!
	pids+=("$st")
	for _ in $(seq 300); do "$BIN/pwctl" call use_cases.list >/dev/null 2>&1 && break; sleep 0.01; done
	t1=$(date +%s%N)
	n=$("$BIN/pwctl" sessions --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
	awk -v dt="$(( (t1 - t0) / 1000000 ))" -v n="$n" 'BEGIN {
		printf "store start-up with %d sessions: answering commands after %d ms  %s\n", n, dt, dt < 1000 ? "ok" : "OVER TARGET" }'
	kill "$st"
	wait "$st" 2>/dev/null
}

job_roundtrip() { # store + one worker; a small session re-analysed 10 times
	local port cap st wk sid rid t0 t1 n=10
	port=$(free_port)
	export PITWALL_FEEDS=ksudp:$port PITWALL_RUN_DIR=$tmp/rt PITWALL_DATA_DIR=$tmp/rtdata
	"$BIN/pw-capture" --feed ksudp --passive --bind 127.0.0.1 --port "$port" 2>/dev/null &
	cap=$!
	"$BIN/pw-store" 2>/dev/null &
	st=$!
	"$BIN/pw-analyze" 2>/dev/null &
	wk=$!
	pids+=("$cap" "$st" "$wk")
	for _ in $(seq 50); do "$BIN/pwctl" call use_cases.list >/dev/null 2>&1 && break; sleep 0.1; done
	sid=$("$BIN/pwctl" session create general | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	rid=$("$BIN/pwctl" run start "$sid" ksudp | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	"$BIN/pw-replay" tests/data/ac_remote/vthinsel_AssettoCorsa_monza_A8LMS.pcap --port "$port" --max --quiet 2>/dev/null
	sleep 1
	"$BIN/pwctl" run stop "$sid" "$rid" >/dev/null
	"$BIN/pwctl" session complete "$sid" >/dev/null
	status() { "$BIN/pwctl" session analysis "$sid" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("status", "done"))'; }
	for _ in $(seq 100); do [ "$(status)" != pending ] && break; sleep 0.05; done
	t0=$(date +%s%N)
	for _ in $(seq $n); do
		"$BIN/pwctl" call session.analyze "{\"id\":\"$sid\"}" >/dev/null
		for _ in $(seq 200); do [ "$(status)" != pending ] && break; sleep 0.005; done
	done
	t1=$(date +%s%N)
	awk -v dt="$(( (t1 - t0) / 1000000 ))" -v n="$n" 'BEGIN {
		printf "analysis job round trip (8641-frame session, store -> worker -> store, incl. pwctl polling): %.0f ms per job\n", dt / n }'
	kill "$cap" "$st" "$wk"
	wait "$cap" "$st" "$wk" 2>/dev/null
	rm -f /dev/shm/pitwall."$INST".ksudp
}

api_bench() { # wrk while a 333 Hz run records
	local ks ap cap st api sim sid rid before
	command -v wrk >/dev/null || { echo "api: wrk is not installed (apt-get install wrk), skipped"; return; }
	ks=$(free_port)
	ap=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	export PITWALL_FEEDS=ksudp:$ks PITWALL_RUN_DIR=$tmp/api PITWALL_DATA_DIR=$tmp/apidata PITWALL_API_PORT=$ap
	"$BIN/pw-sim" --feed ksudp --port "$ks" --rate 333 --quiet >/dev/null 2>&1 &
	sim=$!
	sleep 0.3
	"$BIN/pw-capture" --feed ksudp --port "$ks" --game-host 127.0.0.1 2>/dev/null &
	cap=$!
	"$BIN/pw-store" 2>/dev/null &
	st=$!
	"$BIN/pw-api" 2>/dev/null &
	api=$!
	pids+=("$sim" "$cap" "$st" "$api")
	for _ in $(seq 50); do "$BIN/pwctl" call use_cases.list >/dev/null 2>&1 && break; sleep 0.1; done
	for _ in $(seq 20); do "$BIN/pwctl" session create general >/dev/null; done
	sid=$("$BIN/pwctl" session create general | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	rid=$("$BIN/pwctl" run start "$sid" ksudp | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	before=$(field ksudp kernel_drops)
	for ep in live sessions; do
		wrk -t2 -c32 -d8s --latency "http://127.0.0.1:$ap/api/$ep" >"$tmp/wrk-$ep.txt" 2>&1
		awk -v ep="$ep" '/Requests\/sec/ { rps = $2 } /^ +99%/ { p99 = $2 }
			END { v = p99 + 0; if (p99 ~ /us$/) v /= 1000; else if (p99 ~ /s$/ && p99 !~ /ms$/) v *= 1000;
			      printf "api GET /api/%s: %.0f requests/s, p99 %.2f ms (32 connections, 2 threads)  %s\n", ep, rps, v,
			             (rps >= 20000 && v < 5) ? "ok" : "MISSED TARGET" }' "$tmp/wrk-$ep.txt"
	done
	out=$("$BIN/pwctl" run stop "$sid" "$rid")
	echo "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
lost = r["frames_lost"]
print("api load while recording 333 Hz: run frames %d = end - start %d, frames lost %d, kernel drops during the load %d  %s" % (
    r["frame_count"], r["end_marker"] - r["start_marker"], lost, int(sys.argv[1]),
    "ok" if lost == 0 and r["frame_count"] == r["end_marker"] - r["start_marker"] and int(sys.argv[1]) == 0 else "LOSS"))' 		"$(( $(field ksudp kernel_drops) - before ))"
	kill "$sim" "$cap" "$st" "$api"
	wait "$sim" "$cap" "$st" "$api" 2>/dev/null
	rm -f /dev/shm/pitwall."$INST".ksudp
}

tmp=$(mktemp -d /tmp/pitwall-bench.XXXXXX)
trap 'cleanup; rm -rf "$tmp"' EXIT

{
	echo "# pitwall benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(uname -r)"
	build/bench/bench_decode
	build/bench/bench_ring
	ingest 250000 1000000
	ingest max 1000000
	footprint
	[ -x build/bench/bench_framefile ] && build/bench/bench_framefile
	store_startup
	store_latency
	build/bench/bench_analysis
	job_roundtrip
	api_bench
} 2>&1 | tee "$out"
echo "written to $out"
