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

{
	echo "# pitwall benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(uname -r)"
	build/bench/bench_decode
	build/bench/bench_ring
	ingest 250000 1000000
	ingest max 1000000
	footprint
} 2>&1 | tee "$out"
echo "written to $out"
