#!/usr/bin/env bash
# tests/bench/run.sh - `make bench`: every figure printed and written to build/bench.txt.
# Targets (capture issue): decode < 200 ns/packet; ring >= 10 M frames/s with 0, 1, 2
# readers; UDP ingest >= 200,000 packets/s with zero loss; capture CPU < 1 % of a core
# at 333 Hz; capture RSS < 8 MB excluding the segment.
# Lap data (issue 10): one lap on a 1 m grid with 8 channels < 20 ms; a comparison of
# 6 laps < 60 ms, from a stored one-hour 333 Hz run (bench_lapdata).
# Exports (issue 10) of a stored one-hour 333 Hz run: CSV with 10 channels >= 2 M rows/s,
# MoTeC < 1 s, Parquet < 1 s, peak RSS of each < 64 MB (tests/bench/bench_export.c).
# Issue 12: the engineer's rules over a one-hour 333 Hz session < 100 ms; a per-lap job
# from the lap end to the WebSocket message < 1 s at p99.
set -u
cd "$(dirname "$0")/../.."
BIN=$PWD/build/bin
out=build/bench.txt
INST=bench$$
export PITWALL_INSTANCE=$INST
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -f /dev/shm/pitwall."$INST".* /dev/shm/pitwall-store."$INST"; }
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

tcp_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The stack the API benchmarks load: pw-sim at 333 Hz -> pw-capture -> pw-store, and
# pw-api, on private ports, with a run recording the feed. Sets AP (the API's port)
# and S_* for stack_down. $1 names the data dirs.
stack_up() {
	local ks bp
	ks=$(free_port)
	AP=$(tcp_port)
	bp=$(tcp_port)
	export PITWALL_FEEDS=ksudp:$ks PITWALL_RUN_DIR=$tmp/$1 PITWALL_DATA_DIR=$tmp/$1data PITWALL_API_PORT=$AP
	export PITWALL_BUS=tcp://127.0.0.1:$bp PITWALL_BUS_IN=tcp://127.0.0.1:$((bp + 1))
	"$BIN/pw-sim" --feed ksudp --port "$ks" --rate 333 --quiet >/dev/null 2>&1 &
	S_SIM=$!
	sleep 0.3
	"$BIN/pw-capture" --feed ksudp --port "$ks" --game-host 127.0.0.1 2>/dev/null &
	S_CAP=$!
	"$BIN/pw-store" 2>/dev/null &
	S_STORE=$!
	"$BIN/pw-api" 2>"$tmp/$1-api.log" &
	S_API=$!
	pids+=("$S_SIM" "$S_CAP" "$S_STORE" "$S_API")
	for _ in $(seq 50); do "$BIN/pwctl" call use_cases.list >/dev/null 2>&1 && break; sleep 0.1; done
	wait_frames ksudp 300 10
	for _ in $(seq 20); do "$BIN/pwctl" session create general >/dev/null; done
	S_SID=$("$BIN/pwctl" session create general | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	S_RID=$("$BIN/pwctl" run start "$S_SID" ksudp | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	S_DROPS=$(field ksudp kernel_drops)
}

# Stop the run and the stack; print whether the run lost anything. $1 labels the line.
stack_down() {
	"$BIN/pwctl" run stop "$S_SID" "$S_RID" | python3 -c '
import json, sys
r = json.load(sys.stdin)
lost, drops = r["frames_lost"], int(sys.argv[2])
print("%s load while recording 333 Hz: run frames %d = end - start %d, frames lost %d, kernel drops during the load %d  %s" % (
    sys.argv[1], r["frame_count"], r["end_marker"] - r["start_marker"], lost, drops,
    "ok" if lost == 0 and r["frame_count"] == r["end_marker"] - r["start_marker"] and drops == 0 else "LOSS"))' \
		"$1" "$(( $(field ksudp kernel_drops) - S_DROPS ))"
	kill "$S_SIM" "$S_CAP" "$S_STORE" "$S_API"
	wait "$S_SIM" "$S_CAP" "$S_STORE" "$S_API" 2>/dev/null
	rm -f /dev/shm/pitwall."$INST".ksudp
}

# The API under load while a 333 Hz run records. Target: >= 20,000 requests/s with
# p99 < 5 ms. wrk (closed loop, 32 connections) finds the most the API serves; its
# latencies are those of a saturated machine, where the load generator competes for
# the same two cores. bench_http (open loop) then sends exactly 20,000 requests/s and
# times each from when it was due, stalls included: the p99 at the target rate.
api_bench() {
	local res
	command -v wrk >/dev/null || { echo "api: wrk is not installed (apt-get install wrk), skipped"; return; }
	stack_up api
	for ep in live sessions; do
		wrk -t2 -c32 -d8s --latency "http://127.0.0.1:$AP/api/$ep" >"$tmp/wrk-$ep.txt" 2>&1
		res=$(build/bench/bench_http --port "$AP" --path "/api/$ep" --rate 20000 --connections 32 --seconds 8 2>&1)
		awk -v ep="$ep" -v line="$res" '/Requests\/sec/ { rps = $2 } /^ +99%/ { p99 = $2 }
			END { v = p99 + 0; if (p99 ~ /us$/) v /= 1000; else if (p99 ~ /s$/ && p99 !~ /ms$/) v *= 1000;
			      n = split(line, kv, " "); for (i = 2; i <= n; i++) { split(kv[i], q, "="); o[q[1]] = q[2] }
			      good = rps >= 20000 && o["achieved"] + 0 >= 19800 && o["p99_ms"] != "" && o["p99_ms"] + 0 < 5 && o["errors"] == 0;
			      printf "api GET /api/%s: %.0f requests/s at most (wrk, 32 connections, p99 %.2f ms saturated); at 20,000 requests/s: p50 %.2f, p99 %.2f, p99.9 %.2f ms, %d errors  %s\n",
			             ep, rps, v, o["p50_ms"], o["p99_ms"], o["p999_ms"], o["errors"], good ? "ok" : "MISSED TARGET" }' "$tmp/wrk-$ep.txt"
	done
	stack_down api
}

ws_bench() { # 100 WebSocket clients at 60 Hz while a 333 Hz run records
	local hz c0 c1 t0 t1 res drops
	hz=$(getconf CLK_TCK)
	stack_up ws
	c0=$(awk '{print $14 + $15}' /proc/"$S_API"/stat)
	t0=$(date +%s%N)
	res=$(build/bench/bench_ws --port "$AP" --clients 100 --hz 60 --seconds 10 2>"$tmp/ws-bench.err")
	t1=$(date +%s%N)
	c1=$(awk '{print $14 + $15}' /proc/"$S_API"/stat)
	drops=$(python3 -c 'import sys, urllib.request
m = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode()
print(sum(int(float(l.split()[-1])) for l in m.splitlines() if l.startswith("ws_frames_dropped_total{type=\"telemetry\",reason=\"queue_full\"")))' "$AP" 2>/dev/null)
	if [ -z "$res" ]; then
		echo "ws 100 clients at 60 Hz: bench_ws failed: $(head -c 300 "$tmp/ws-bench.err")  MISSED TARGET"
	else
		awk -v line="$res" -v drops="${drops:-?}" 'BEGIN {
			n = split(line, kv, " "); for (i = 2; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2] }
			good = v["connected"] == v["clients"] && v["worst_hz"] + 0 >= 55 && v["closes"] == 0 && v["errors"] == 0;
			printf "ws %d clients at %d Hz for %.0f s (333 Hz feed, a run recording): connected %d, telemetry %d, mean %.2f Hz, worst client %.2f Hz, gap p50 %.2f / p99 %.2f / max %.2f ms, lag p99 %d ms, closes %d, errors %d, telemetry dropped by the server (queue full) %s  %s\n",
				v["clients"], v["hz"], v["seconds"], v["connected"], v["telemetry"], v["mean_hz"], v["worst_hz"],
				v["p50_gap_ms"], v["p99_gap_ms"], v["max_gap_ms"], v["p99_lag_ms"], v["closes"], v["errors"], drops,
				good ? "ok" : "MISSED TARGET" }'
		sed -n 's/.*client limit lowered.* max_clients=\([0-9]*\).* num_threads=\([0-9]*\).*/ws client limit of pw-api: \1 (civetweb num_threads \2, a quarter kept for REST)/p' "$tmp/ws-api.log" | head -1
	fi
	awk -v c="$((c1 - c0))" -v hz="$hz" -v dt="$(( (t1 - t0) / 1000000 ))" 'BEGIN {
		printf "ws pw-api CPU with 100 clients at 60 Hz: %.1f %% of a core over %.1f s (connect, 0.5 s warm-up, 10 s, close)\n",
			100 * (c / hz) / (dt / 1000), dt / 1000 }'
	stack_down ws
}

# The exports of a stored one-hour 333 Hz run (bench_framefile writes it).
export_bench() {
	if build/bench/bench_framefile --write "$tmp/hour.frames"; then
		build/bench/bench_export "$tmp/hour.frames" "$tmp"
	else
		echo "export: the one-hour run could not be written  FAILED"
	fi
	rm -f "$tmp/hour.frames"
}

# The dashboard in Debian's chromium (tests/browser/bench.mjs): first view interactive < 1 s,
# first load < 300 KB transferred, compare of 6 laps at 1 m on a 5 km track drawn < 300 ms,
# the live view at 60 Hz: browser < 15 % of a core, pw-api < 2 % for the client.
dashboard_bench() {
	if [ ! -x /usr/bin/chromium ] || [ ! -d tests/browser/node_modules/playwright-core ]; then
		echo "dashboard: chromium or playwright-core missing (scripts/install-deps.sh), skipped"
		return
	fi
	stack_up dash
	PW_URL=http://127.0.0.1:$AP PW_API_PID=$S_API timeout 300 node tests/browser/bench.mjs
	stack_down dashboard
}

# Per-lap recommendations while driving: from a lap's end (its last frame's receive time)
# to the `recommendation` message on the WebSocket (its send time, t_ms), for every
# message. The emulator drives forza at 333 Hz, 15 times real time (a lap every 6 s, each
# per-lap job carrying ~30,000 frames) with the front lock-up fault; the cooldown is off so
# that every lap's findings are sent. Target (issue 12): p99 < 1 s.
live_recs() {
	local fz bp ws sim n=20
	fz=$(free_port)
	AP=$(tcp_port)
	bp=$(tcp_port)
	export PITWALL_FEEDS=forza:$fz PITWALL_RUN_DIR=$tmp/live PITWALL_DATA_DIR=$tmp/livedata
	export PITWALL_API_PORT=$AP PITWALL_LIVE_COOLDOWN_S=0
	export PITWALL_BUS=tcp://127.0.0.1:$bp PITWALL_BUS_IN=tcp://127.0.0.1:$((bp + 1))
	"$BIN/pw-capture" --feed forza --port "$fz" --bind 127.0.0.1 2>/dev/null &
	pids+=("$!")
	"$BIN/pw-store" 2>"$tmp/live-store.log" &
	pids+=("$!")
	"$BIN/pw-analyze" 2>/dev/null &
	pids+=("$!")
	"$BIN/pw-analyze" 2>/dev/null &
	pids+=("$!")
	"$BIN/pw-api" 2>/dev/null &
	pids+=("$!")
	for _ in $(seq 50); do "$BIN/pwctl" call use_cases.list >/dev/null 2>&1 && break; sleep 0.1; done
	for _ in $(seq 50); do build/tools/ws_client --port "$AP" 'wait 0' >/dev/null 2>&1 && break; sleep 0.1; done
	sid=$("$BIN/pwctl" session create general | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	"$BIN/pwctl" run start "$sid" forza >/dev/null
	build/tools/ws_client --port "$AP" \
		'send {"type":"subscribe","schema_version":1,"t_ms":0,"data":{"events":["recommendation"]}}' \
		'wait 600000' >"$tmp/live-ws.out" 2>/dev/null &
	ws=$!
	pids+=("$ws")
	sleep 0.5
	"$BIN/pw-sim" --feed forza --port "$fz" --rate 333 --laps "$n" --speed 15 --fault front_lockup \
		--quiet >/dev/null 2>&1
	sleep 3
	kill "$ws"
	wait "$ws" 2>/dev/null
	python3 - "$tmp/live-ws.out" "$n" <<'PY'
import json, sys
lat = sorted(m["t_ms"] - m["data"]["lap_end_t_ns"] / 1e6 for m in
             (json.loads(l.split(" ", 2)[2]) for l in open(sys.argv[1]) if l.split(" ")[1] == "text")
             if m["type"] == "recommendation")
laps = int(sys.argv[2])
if not lat:
    print("live recommendations: no message  MISSED TARGET")
    sys.exit(0)
pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print("live recommendations (forza 333 Hz at 15x, %d laps of ~30,000 frames, per-lap job -> worker -> bus -> WebSocket): "
      "%d messages, lap end -> message p50 %.0f ms, p99 %.0f ms, max %.0f ms  %s" % (
          laps, len(lat), pct(0.50), pct(0.99), lat[-1], "ok" if pct(0.99) < 1000 else "MISSED TARGET"))
PY
	for p in "${pids[@]: -6}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	unset PITWALL_LIVE_COOLDOWN_S
	rm -f /dev/shm/pitwall."$INST".forza
}

tmp=$(mktemp -d /tmp/pitwall-bench.XXXXXX)
trap 'cleanup; rm -rf "$tmp"' EXIT

# `tests/bench/run.sh SECTION...` runs only those (functions above, e.g. dashboard_bench) and
# writes build/bench-SECTION.txt, leaving the full run's build/bench.txt alone.
if [ $# -gt 0 ]; then
	for s in "$@"; do
		[ "$(type -t "$s")" = function ] || { echo "run.sh: no section $s" >&2; exit 2; }
	done
	out=build/bench-$(IFS=-; echo "$*").txt
	{
		echo "# pitwall benchmarks ($*), $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(uname -r)"
		for s in "$@"; do "$s"; done
	} 2>&1 | tee "$out"
	echo "written to $out"
	exit 0
fi

{
	echo "# pitwall benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(uname -r)"
	build/bench/bench_decode
	build/bench/bench_derive
	build/bench/bench_ring
	ingest 250000 1000000
	ingest max 1000000
	footprint
	[ -x build/bench/bench_framefile ] && build/bench/bench_framefile
	build/bench/bench_lapdata
	export_bench
	store_startup
	store_latency
	build/bench/bench_analysis
	build/bench/bench_manifest
	build/bench/bench_ws_seed
	build/bench/bench_engineer
	job_roundtrip
	api_bench
	ws_bench
	live_recs
	dashboard_bench
} 2>&1 | tee "$out"
echo "written to $out"
