#!/usr/bin/env bash
# tests/soak/soak.sh - `make soak`: the whole stack under a steady load for SOAK_SECONDS
# (default 3600), then the figures that show it can run for hours.
#
#   SOAK_SECONDS=600 make soak        (or: bash tests/soak/soak.sh; PW_BIN=... for other builds)
#
# A private instance (tests/integration/lib.sh: own shared-memory names, random loopback ports,
# 127.0.0.1 only, everything stopped on exit): pw-sim on every feed at the feed's top rate
# (the decoders' max_rate_hz: ksudp 333 Hz, pcars 100, acc 100, forza 60, f1 120), one
# pw-capture per feed, pw-store, two pw-analyze workers and pw-api, with the default rings
# (5 minutes at the top rate). A run records on every feed (one general session each), 20
# WebSocket clients read /api/stream at 60 Hz (tests/tools/soak_ws.py: message counts and
# sequence continuity), every 30 s a compare (/api/compare of completed laps) and a CSV export
# (a completed lap, or the run so far) are asked and checked (tests/soak/soak_check.py), and
# every process's memory (VmRSS, and Private = Private_Clean + Private_Dirty from
# /proc/PID/smaps_rollup) is sampled at the start, every minute and at the end. Only public
# interfaces are used: pwctl, REST, /metrics, WebSocket.
#
# At the end the runs are stopped and checked: frame_count == end_marker - start_marker,
# frames_lost 0, no truncation, at least 90 % of the emulator's rate recorded, the whole run
# readable (pwctl export: one CSV row per frame); 0 frames lost by the store (ring lapped,
# /metrics), 0 kernel drops (the captures' counters in /metrics; /proc/net/snmp's machine-wide
# UDP RcvbufErrors/InErrors delta is printed, not checked: other programs share the machine),
# every process alive, no "error"/sanitizer line in any log, every WebSocket client connected
# to the end with no sequence gap and >= 90 % of its rate, and each process's memory without the
# rings at the end within max(+10 %, +4 MiB) of its sample after the warm-up (SOAK_WARMUP_S,
# below; the rings are shared memory that fills during the first 5 minutes, so VmRSS and
# smaps_rollup's Private, which counts ring pages only one process touched, are printed, not
# bounded). Any other environment (PITWALL_LOG_LEVEL, GLIBC_TUNABLES, ...) reaches every process.
# Prints a table, the counts and PASS/FAIL lines, ends with "N passed, N failed", writes it
# all to build/soak.txt and exits 1 on any failure (PW_KEEP_TMP=1 keeps the logs).
. "$(dirname "$0")/../integration/lib.sh"
unset PITWALL_RING_FRAMES PITWALL_RING_RAW_MB # the default rings, as deployed

SOAK_SECONDS=${SOAK_SECONDS:-3600}
case $SOAK_SECONDS in
'' | *[!0-9]*)
	echo "soak.sh: SOAK_SECONDS must be a whole number of seconds (>= 120), not '$SOAK_SECONDS'" >&2
	exit 2
	;;
esac
if [ "$SOAK_SECONDS" -lt 120 ]; then
	echo "soak.sh: SOAK_SECONDS must be >= 120 (a warm-up minute, then the soak), not $SOAK_SECONDS" >&2
	exit 2
fi
WS_CLIENTS=20
WS_HZ=60
TICK_S=30       # a compare and an export every TICK_S
RSS_EVERY_S=60  # memory samples
# the memory bound counts from the sample at SOAK_WARMUP_S: 240 s in runs of 10 minutes or more,
# else 60 s. The emulated lap takes about 90 s and the store buffers the lap being driven for
# the per-lap analysis (store/engineer.c: its capacity doubles up to a lap's frames and is
# kept), so memory reaches its plateau only when a whole lap has been buffered, after the
# second lap of the run: shorter runs cannot show it flat. Before the start, 320 requests have
# every one of pw-api's 160 workers serve one (below: each keeps ~16 kB of stack after its first)
WARMUP_S=${SOAK_WARMUP_S:-$([ "$SOAK_SECONDS" -ge 600 ] && echo 240 || echo 60)}
case $WARMUP_S in
'' | *[!0-9]*) echo "soak.sh: SOAK_WARMUP_S must be a whole number of seconds" >&2; exit 2 ;;
esac
if [ $((WARMUP_S % 60)) != 0 ] || [ "$WARMUP_S" -ge "$SOAK_SECONDS" ]; then
	echo "soak.sh: SOAK_WARMUP_S ($WARMUP_S) must be a multiple of 60 below SOAK_SECONDS" >&2
	exit 2
fi
GROWTH_PCT=10   # bound: max(+GROWTH_PCT %, +GROWTH_KB)
GROWTH_KB=4096
FEEDS=(ksudp pcars acc forza f1)
declare -A RATE=([ksudp]=333 [pcars]=100 [acc]=100 [forza]=60 [f1]=120)

REPORT=$ROOT/build/soak.txt
mkdir -p "$ROOT/build"
: >"$REPORT"
CHECK="python3 $ROOT/tests/soak/soak_check.py"
PW=$BIN/pwctl
NPASS=0
NFAIL=0
say() { printf '%s\n' "$*" | tee -a "$REPORT"; }
pass() { NPASS=$((NPASS + 1)); say "PASS $1"; }
fail() { NFAIL=$((NFAIL + 1)); FAILED=1; say "FAIL $1${2:+: $2}"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
snmp_udp() { # RcvbufErrors + InErrors of /proc/net/snmp's Udp line
	awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else
		print $c["RcvbufErrors"] + $c["InErrors"] }' /proc/net/snmp
}
metric() { # NAME{LABELS} in the metrics file $1
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}

say "soak: ${SOAK_SECONDS} s, feeds ${FEEDS[*]} at their top rates, $WS_CLIENTS WebSocket clients at $WS_HZ Hz,"
say "      a compare and an export every ${TICK_S} s; $(nproc) cores, load average $(load) at the start; $(date -u +%FT%TZ)"

# --- the stack ------------------------------------------------------------------------------
bp=$(free_tcp_port)
export PITWALL_BUS=tcp://127.0.0.1:$bp PITWALL_BUS_IN=tcp://127.0.0.1:$((bp + 1))
API=$(free_tcp_port)
export PITWALL_API_PORT=$API PITWALL_API_HOST=127.0.0.1
declare -A PORT
feeds=""
for f in "${FEEDS[@]}"; do
	PORT[$f]=$(free_udp_port)
	feeds="$feeds${feeds:+,}$f:${PORT[$f]}"
done
export PITWALL_FEEDS=$feeds

NAMES=() # process name -> pid, in start order
declare -A PIDOF
proc() { # NAME command...
	local name=$1
	shift
	start "$name" "$@"
	NAMES+=("$name")
	PIDOF[$name]=$LAST_PID
}
# the emulators first: ksudp and acc captures handshake with them at once (scripts/run.sh)
for f in "${FEEDS[@]}"; do
	proc "sim-$f" "$BIN/pw-sim" --feed "$f" --port "${PORT[$f]}" --host 127.0.0.1 \
		--rate "${RATE[$f]}" --mode laps --quiet
done
sleep 0.3
for f in "${FEEDS[@]}"; do
	proc "capture-$f" "$BIN/pw-capture" --feed "$f" --port "${PORT[$f]}" --bind 127.0.0.1 \
		--game-host 127.0.0.1
done
proc store "$BIN/pw-store"
proc analyze-1 "$BIN/pw-analyze"
proc analyze-2 "$BIN/pw-analyze"
proc api "$BIN/pw-api"

all_up() {
	"$PW" feeds --json | python3 -c '
import json, sys
f = [x for x in json.load(sys.stdin) if x["pid"]]
sys.exit(0 if len(f) == int(sys.argv[1]) and all(x["status"] == "up" and x["frames"] > 0 for x in f) else 1)' "${#FEEDS[@]}"
}
store_up() { "$PW" call use_cases.list >/dev/null 2>&1; }
if wait_for 30 all_up && wait_for 10 store_up && wait_for 10 api_store_up "http://127.0.0.1:$API"; then
	pass "the stack is up: ${#FEEDS[@]} feeds with frames, the store, the API"
else
	fail "the stack is up" "$("$PW" feeds 2>&1 | tail -n 6)"
	say "$NPASS passed, $NFAIL failed"
	exit 1
fi

# --- a run on every feed ----------------------------------------------------------------------
declare -A SID RID
for f in "${FEEDS[@]}"; do
	SID[$f]=$("$PW" session create general --label "soak $f" | jf 'd["id"]')
	RID[$f]=$("$PW" run start "${SID[$f]}" "$f" --label soak | jf 'd["id"]')
done
ok=1
for f in "${FEEDS[@]}"; do [ -n "${RID[$f]}" ] || ok=0; done
[ $ok = 1 ] && pass "a run records on each of the ${#FEEDS[@]} feeds" ||
	fail "a run records on each feed" "sessions ${SID[*]}, runs ${RID[*]}"

$CHECK metrics "$API" >"$TMP/metrics0"
SNMP0=$(snmp_udp)
python3 "$ROOT/tests/tools/soak_ws.py" --port "$API" --clients $WS_CLIENTS --hz $WS_HZ \
	--seconds "$SOAK_SECONDS" --out "$TMP/ws.json" >"$TMP/ws.out" 2>"$TMP/ws.err" &
WS=$!
PIDS+=("$WS")

# --- the load: RSS samples, a compare and an export every TICK_S -----------------------------
: >"$TMP/rss.tsv" # t name VmRSS_kB Private_kB Own_kB (Private without the rings) CPU_s
sample_rss() {
	local n v
	for n in "${NAMES[@]}"; do
		v=$($CHECK rss "${PIDOF[$n]}" 2>/dev/null) || v="0 0 0 0"
		printf '%s\t%s\t%s\n' "$1" "$n" "${v// /$'\t'}" >>"$TMP/rss.tsv"
	done
}
NCMP=0 NCMP_BAD=0 NCMP_SKIP=0 NEXP=0 NEXP_BAD=0
tick=0
tick_checks() {
	local i f lap lines out
	# the compare: the next feed (round robin) with a completed lap; its first completed lap
	# is the reference, its latest the lap compared
	for ((i = 0; i < ${#FEEDS[@]}; i++)); do
		f=${FEEDS[$(((tick + i) % ${#FEEDS[@]}))]}
		lines=$($CHECK laps "$API" "${SID[$f]}" 2>>"$TMP/checks.txt") || lines=""
		[ -n "$lines" ] && break
	done
	if [ -n "$lines" ]; then
		read -r _ ref _ <<<"$(head -n 1 <<<"$lines")"
		read -r _ lap _ <<<"$(tail -n 1 <<<"$lines")"
		NCMP=$((NCMP + 1))
		out=$($CHECK compare "$API" "${SID[$f]}" "${RID[$f]}" "$ref" "$lap") || NCMP_BAD=$((NCMP_BAD + 1))
		echo "$(date -u +%T) $f $out" >>"$TMP/checks.txt"
	else
		NCMP_SKIP=$((NCMP_SKIP + 1))
		echo "$(date -u +%T) compare skipped: no completed lap yet" >>"$TMP/checks.txt"
	fi
	# the export: the feed of this tick; its latest completed lap, else the run so far
	f=${FEEDS[$((tick % ${#FEEDS[@]}))]}
	lines=$($CHECK laps "$API" "${SID[$f]}" 2>>"$TMP/checks.txt") || lines=""
	NEXP=$((NEXP + 1))
	if [ -n "$lines" ]; then
		read -r _ lap _ frames sseq _ <<<"$(tail -n 1 <<<"$lines")"
		out=$($CHECK export "$API" "${SID[$f]}" "${RID[$f]}" "$lap" "$frames" "$sseq") ||
			NEXP_BAD=$((NEXP_BAD + 1))
	else
		out=$($CHECK export "$API" "${SID[$f]}" "${RID[$f]}") || NEXP_BAD=$((NEXP_BAD + 1))
	fi
	echo "$(date -u +%T) $f $out" >>"$TMP/checks.txt"
	tick=$((tick + 1))
}

# civetweb's 160 workers each keep ~16 kB of stack once they have served a request (the
# frames above the handler; api/routes.c gives back what a request used below them). The
# checks' few requests reach a worker that never served one now and then for the whole
# run: +2.5 MB at most over the 160, once, which the bound would take for growth. A
# dashboard open for a while has had every worker serve it: 320 requests on fresh
# connections (civetweb hands each to the next idle worker) do the same before the start.
fresh_gets "http://127.0.0.1:$API/api/sessions" 320 ||
	fail "320 requests to warm pw-api's workers" "an answer was not 200"

T0=$(date +%s)
sample_rss 0
next_rss=$RSS_EVERY_S
next_tick=$TICK_S
LOADMAX=$(load)
while :; do
	el=$(($(date +%s) - T0))
	[ "$el" -ge "$SOAK_SECONDS" ] && break
	if [ "$el" -ge "$next_tick" ]; then
		tick_checks
		next_tick=$((next_tick + TICK_S))
	fi
	if [ "$el" -ge "$next_rss" ]; then
		sample_rss "$next_rss"
		next_rss=$((next_rss + RSS_EVERY_S))
		l=$(load)
		awk -v a="${l%% *}" -v b="${LOADMAX%% *}" 'BEGIN { exit !(a > b) }' && LOADMAX=$l
		say "  $(date -u +%T) ${el} s: load $l, $(grep -c . "$TMP/checks.txt" 2>/dev/null || echo 0) checks done"
	fi
	sleep 1
done
END_S=$(($(date +%s) - T0))
sample_rss end

# --- the end ---------------------------------------------------------------------------------
alive=()
for n in "${NAMES[@]}"; do kill -0 "${PIDOF[$n]}" 2>/dev/null || alive+=("$n"); done
[ ${#alive[@]} = 0 ] && pass "every process ran to the end (${#NAMES[@]} processes)" ||
	fail "every process ran to the end" "gone: ${alive[*]}"

# the WebSocket clients stop by themselves after SOAK_SECONDS (bounded: 30 s more)
for _ in $(seq 300); do kill -0 "$WS" 2>/dev/null || break; sleep 0.1; done
kill "$WS" 2>/dev/null
wait "$WS" 2>/dev/null
$CHECK metrics "$API" >"$TMP/metrics1"
SNMP1=$(snmp_udp)

say ""
say "runs (one per feed, ${END_S} s):"
printf '  %-6s %9s %9s %10s %10s %7s %9s %6s\n' feed frames span frames/s rate_Hz lost truncated laps | tee -a "$REPORT"
for f in "${FEEDS[@]}"; do
	out=$("$PW" run stop "${SID[$f]}" "${RID[$f]}" 2>&1)
	read -r fc span lost trunc nlaps < <(echo "$out" | jf '"%s %s %s %s %s" % (d["frame_count"],
		d["end_marker"] - d["start_marker"], d["frames_lost"], d["data_truncated"], d.get("lap_count"))' 2>>"$TMP/checks.err")
	printf '  %-6s %9s %9s %10s %10s %7s %9s %6s\n' "$f" "${fc:-?}" "${span:-?}" \
		"$(python3 -c "print('%.1f' % (${fc:-0} / $END_S))")" "${RATE[$f]}" "${lost:-?}" "${trunc:-?}" \
		"${nlaps:-?}" | tee -a "$REPORT"
	if [ -n "${fc:-}" ] && [ "$fc" = "$span" ] && [ "$lost" = 0 ] && [ "$trunc" = False ] &&
		[ "$fc" -ge $((RATE[$f] * END_S * 9 / 10)) ]; then
		pass "$f: frame_count $fc == the sequence span, 0 lost, not truncated, >= 90 % of ${RATE[$f]} Hz"
	else
		fail "$f: frame_count == the sequence span, 0 lost, >= 90 % of the rate" "$(echo "$out" | head -c 300)"
	fi
	rows=""
	"$PW" export "${SID[$f]}" "${RID[$f]}" --format csv --out "$TMP/run-$f.csv" >/dev/null 2>"$TMP/export.err" &&
		rows=$(($(wc -l <"$TMP/run-$f.csv") - 1))
	[ -n "$rows" ] && [ "$rows" = "${fc:-x}" ] &&
		pass "$f: the whole run reads back (pwctl export: $rows CSV rows)" ||
		fail "$f: the whole run reads back" "${rows:-no file} rows, frame_count ${fc:-?}"
	rm -f "$TMP/run-$f.csv"
done

say ""
lost0=$(metric "$TMP/metrics0" pitwall_store_frames_lost_total)
lost1=$(metric "$TMP/metrics1" pitwall_store_frames_lost_total)
[ -n "$lost1" ] && [ "$((lost1 - lost0))" = 0 ] && pass "0 frames lost by the store (pitwall_store_frames_lost_total)" ||
	fail "0 frames lost by the store" "pitwall_store_frames_lost_total $lost0 -> $lost1"
drops=""
for f in "${FEEDS[@]}"; do
	k="pitwall_feed_kernel_drops_total{feed=\"$f\"}"
	d0=$(metric "$TMP/metrics0" "$k")
	d1=$(metric "$TMP/metrics1" "$k")
	w1=$(metric "$TMP/metrics1" "pitwall_feed_wrong_size_total{feed=\"$f\"}")
	u1=$(metric "$TMP/metrics1" "pitwall_feed_unknown_format_total{feed=\"$f\"}")
	p0=$(metric "$TMP/metrics0" "pitwall_feed_packets_total{feed=\"$f\"}")
	p1=$(metric "$TMP/metrics1" "pitwall_feed_packets_total{feed=\"$f\"}")
	say "  $f: $((p1 - p0)) packets, kernel drops ${d0:-?} -> ${d1:-?}, wrong size ${w1:-?}, unknown format ${u1:-?}"
	[ -n "$d1" ] && [ "$d1" = "$d0" ] && [ "$w1" = 0 ] && [ "$u1" = 0 ] || drops="$drops $f"
done
[ -z "$drops" ] && pass "0 kernel drops, 0 malformed datagrams on every feed (the captures' counters)" ||
	fail "0 kernel drops on every feed" "$drops"
say "  /proc/net/snmp UDP RcvbufErrors+InErrors, machine-wide (other programs too): +$((SNMP1 - SNMP0))"

# the WebSocket clients
if [ -s "$TMP/ws.json" ]; then
	ws=$(jf '"%d %d %d %d %d %d %d %s %s" % (d["connected"], d["messages"], d["telemetry"], d["gaps"],
		d["repeats"], d["bad"], d["closed_early"], min(c["rate_hz"] for c in d["per_client"]),
		max(c["rate_hz"] for c in d["per_client"]))' <"$TMP/ws.json")
	read -r conn msgs tel gaps reps bad early rmin rmax <<<"$ws"
	say "  WebSocket: $conn/$WS_CLIENTS clients, $msgs messages ($tel telemetry), rate $rmin-$rmax Hz, gaps $gaps, repeats $reps, malformed $bad, closed early $early"
	[ "$conn" = $WS_CLIENTS ] && [ "$gaps$reps$bad$early" = 0000 ] &&
		pass "$WS_CLIENTS WebSocket clients to the end, sequence 1, 2, 3, ... without a gap" ||
		fail "$WS_CLIENTS WebSocket clients to the end without a gap" "$ws $(head -c 300 "$TMP/ws.err")"
	python3 -c "import sys; sys.exit(0 if $rmin >= $WS_HZ * 0.9 else 1)" &&
		pass "every WebSocket client got >= 90 % of its $WS_HZ Hz (lowest $rmin Hz)" ||
		fail "every WebSocket client got >= 90 % of its $WS_HZ Hz" "lowest $rmin Hz"
else
	fail "the WebSocket clients' summary" "$(head -c 300 "$TMP/ws.err")"
fi
say "  ws_frames_dropped_total (every type and reason): $(awk '$1 ~ /^ws_frames_dropped_total/ { s += $2 } END { print s + 0 }' "$TMP/metrics1")"

# the compares and exports
say "  compares: $NCMP asked, $NCMP_BAD wrong, $NCMP_SKIP skipped (no completed lap yet); exports: $NEXP asked, $NEXP_BAD wrong"
[ "$NCMP_BAD" = 0 ] && [ "$NCMP" -gt 0 -o "$SOAK_SECONDS" -lt 300 ] &&
	pass "every compare right ($NCMP; the reference against itself 0, the last delta = the time difference)" ||
	fail "every compare right" "$(grep -m3 'bad\|skipped' "$TMP/checks.txt")"
[ "$NEXP_BAD" = 0 ] && [ "$NEXP" -gt 0 ] &&
	pass "every export right ($NEXP CSVs, consecutive seq, a lap's rows = its frames)" ||
	fail "every export right" "$(grep -m3 bad "$TMP/checks.txt")"

# the logs: a line logged at level error (or fatal), a sanitizer's report, and any line not in
# the log format (a crash, a library's message) that says error; a structured line whose
# key=value says error at a lower level (a store command refused, as asked) is not one
errs=$(for n in "${NAMES[@]}"; do
	awk -v n="$n" '$2 ~ /^(error|fatal|crit)$/ || /ERROR|[Ss]anitizer|runtime error/ ||
		($1 !~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-/ && tolower($0) ~ /error/) { print n ": " $0 }' "$TMP/$n.log"
done | head -n 5)
nwarn=$(cat "$TMP"/*.log | awk '$2 == "warn"' | wc -l)
say "  logs: $(cat "$TMP"/*.log | wc -l) lines, $nwarn at level warn"
[ -z "$errs" ] && pass "no error or sanitizer line in any process log" ||
	fail "no error or sanitizer line in any process log" "$errs"

# memory
say ""
say "memory (kB): VmRSS; Private = Private_Clean + Private_Dirty (smaps_rollup), which counts the"
say "ring pages only this process touched; Own = Private without the /dev/shm mappings (the rings),"
say "bounded: end <= the ${WARMUP_S} s sample + max(${GROWTH_PCT} %, ${GROWTH_KB} kB)"
printf '  %-13s %8s %8s %9s %9s %8s %8s %8s %7s %6s\n' process "RSS 0s" "RSS end" "Priv 0s" "Priv end" \
	"Own 0s" "Own ${WARMUP_S}s" "Own end" growth "CPU %" | tee -a "$REPORT"
grew=""
for n in "${NAMES[@]}"; do
	read -r r0 p0 o0 c0 < <(awk -F'\t' -v n="$n" '$1 == "0" && $2 == n { print $3, $4, $5, $6 }' "$TMP/rss.tsv")
	read -r _ _ ow < <(awk -F'\t' -v n="$n" -v t="$WARMUP_S" '$1 == t && $2 == n { print $3, $4, $5 }' "$TMP/rss.tsv")
	read -r re pe oe ce < <(awk -F'\t' -v n="$n" '$1 == "end" && $2 == n { print $3, $4, $5, $6 }' "$TMP/rss.tsv")
	g=$((${oe:-0} - ${ow:-0}))
	cpu=$(awk -v a="${c0:-0}" -v b="${ce:-0}" -v t="$END_S" 'BEGIN { printf "%.2f", (b - a) * 100 / t }')
	printf '  %-13s %8s %8s %9s %9s %8s %8s %8s %+7d %6s\n' "$n" "$r0" "$re" "$p0" "$pe" "$o0" "$ow" "$oe" "$g" "$cpu" |
		tee -a "$REPORT"
	lim=$((${ow:-0} * GROWTH_PCT / 100))
	[ "$lim" -lt "$GROWTH_KB" ] && lim=$GROWTH_KB
	[ "${oe:-0}" -gt 0 ] && [ "${ow:-0}" -gt 0 ] && [ "$g" -le "$lim" ] || grew="$grew $n(+${g} kB)"
done
[ -z "$grew" ] && pass "memory flat after ${WARMUP_S} s in every process (Own: max(+${GROWTH_PCT} %, +${GROWTH_KB} kB))" ||
	fail "memory flat after ${WARMUP_S} s in every process" "$grew"
awk -F'\t' '{ t[$1 == "end" ? 999999 : $1] += $5 } END { for (k in t) printf "%s %d\n", k, t[k] }' "$TMP/rss.tsv" |
	sort -n | awk 'BEGIN { printf "  Own, all processes, per minute (kB):" } { printf " %s", $2 } END { print "" }' |
	tee -a "$REPORT"

say ""
say "load average at the end $(load), highest 1-minute sample $LOADMAX; $(date -u +%FT%TZ)"
say "$NPASS passed, $NFAIL failed"
[ "$NFAIL" = 0 ]
