#!/usr/bin/env bash
# Integration: the one configuration table (common/config.c). README.md holds
# exactly the table `pwctl config --markdown` generates; every program's --help
# says where the configuration is documented and lists the variables the table
# says it reads; a malformed value stops every program at start (exit 2, an
# error naming the variable and what it accepts); the effective values are
# logged; nothing outside common/config.c reads the environment, and every
# PITWALL_* name the code and docs mention is a variable of the table.
. "$(dirname "$0")/lib.sh"
PW=$BIN/pwctl

# --- the README's table is the generated one --------------------------------------
"$PW" config --markdown >"$TMP/table.md"
check "pwctl config --markdown exits 0 and prints a table" \
	test "$?" -eq 0 -a "$(head -c 12 "$TMP/table.md")" = "| variable |"
awk '/^<!-- generated from the table in common\/config.c/ { f = 1; next }
     f && /^\|/ { print; t = 1; next }
     t { exit }' "$ROOT/README.md" >"$TMP/readme.md"
if cmp -s "$TMP/table.md" "$TMP/readme.md"; then
	pass "README.md's configuration table is the generated one"
else
	fail "README.md's configuration table is the generated one" \
		"regenerate it with build/bin/pwctl config --markdown: $(diff "$TMP/readme.md" "$TMP/table.md" | head -n 20)"
fi

# docs that quote defaults in a two-column row ("| `PITWALL_WS_IDLE_MS` | 60000 | ... |")
# quote the table's
awk -F' [|] ' 'NR > 2 { v = $1; sub(/^[|] `/, "", v); sub(/`.*/, "", v); d = $4; gsub(/`/, "", d)
	print v, d }' "$TMP/table.md" | sort >"$TMP/defaults"
for doc in "$ROOT"/docs/*.md; do
	quoted=$(sed -n 's/^| `\(PITWALL_[A-Z_]*\)` | \([^|]*\) | [^|]* |$/\1 \2/p' "$doc" | tr -d '`' |
		sed 's/ *$//' | sort)
	[ -n "$quoted" ] || continue
	check "$(basename "$doc"): the defaults it quotes are the table's ($(echo "$quoted" | wc -l))" \
		test -z "$(comm -23 <(echo "$quoted") "$TMP/defaults")"
done

# --- --help: where it is documented, and what each program reads ------------------
# reads PROGRAM: the variables whose "read by" column names PROGRAM (or every program)
reads() {
	awk -F' \\| ' -v p="$1" 'NR > 2 {
		n = split($5, by, ", "); sub(/ \|$/, "", by[n])
		for (i = 1; i <= n; i++) if (by[i] == p || by[i] == "every program") {
			v = $1; sub(/^\| `/, "", v); sub(/`.*/, "", v); print v
		}
	}' "$TMP/table.md"
}
for prog in pw-capture pw-store pw-analyze pw-api pw-sim pw-replay pwctl; do
	"$BIN/$prog" --help >"$TMP/help-$prog.txt" 2>&1
	rc=$?
	check "$prog --help: exit 0, points at README.md's \"Configuration\" table" \
		test "$rc" -eq 0 -a -n "$(grep -F '"Configuration" table of README.md' "$TMP/help-$prog.txt")"
	want=$(reads "$prog" | sort | tr '\n' ' ')
	have=$(sed -n '/^Configuration: /,$p' "$TMP/help-$prog.txt" | grep -o 'PITWALL_[A-Z_]*' | sort | tr '\n' ' ')
	check "$prog --help lists the variables it reads ($(echo "$want" | wc -w))" \
		test -n "$want" -a "$want" = "$have"
done

# --- a malformed value: exit 2 at start, naming the variable and the range ---------
# bad PROGRAM VAR VALUE EXPECT... : run PROGRAM with VAR=VALUE
bad() {
	local prog=$1 var=$2 val=$3 want=$4 out rc t0 ms
	shift 4
	t0=$(date +%s%N)
	out=$(env "$var=$val" timeout 10 "$BIN/$prog" "$@" 2>&1 >/dev/null </dev/null)
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$rc" -eq 2 ] && [ "$ms" -lt 1000 ] && [[ "$out" == *"$want"* ]]; then
		pass "$prog, $var='$val': exit 2 at start, says \"$want\""
	else
		fail "$prog, $var='$val': exit 2 at start, says \"$want\"" "exit $rc after $ms ms: $out"
	fi
}
for prog in pw-store pw-analyze pw-api pwctl; do
	bad "$prog" PITWALL_LOG_LEVEL loud "PITWALL_LOG_LEVEL must be one of debug|info|warn|error, got 'loud'"
done
bad pw-capture PITWALL_RING_FRAMES 0 "PITWALL_RING_FRAMES must be 1..268435456, got '0'" --feed ksudp
bad pw-capture PITWALL_RING_RAW_MB 8M "PITWALL_RING_RAW_MB must be 1..65536, got '8M'" --feed ksudp
bad pw-store PITWALL_BUS_FRAMES no "PITWALL_BUS_FRAMES must be 0..1, got 'no'"
bad pw-store PITWALL_JOB_DEADLINE_MS -1 "PITWALL_JOB_DEADLINE_MS must be 1..86400000, got '-1'"
bad pw-api PITWALL_CMD_TIMEOUT_MS 3s "PITWALL_CMD_TIMEOUT_MS must be 1..86400000, got '3s'"
bad pwctl PITWALL_CMD_TIMEOUT_MS 0 "pwctl: PITWALL_CMD_TIMEOUT_MS must be 1..86400000, got '0'" sessions
bad pw-api PITWALL_WS_IDLE_MS 99 "PITWALL_WS_IDLE_MS must be 100..86400000, got '99'"
bad pw-api PITWALL_WS_MAX_CLIENTS many "PITWALL_WS_MAX_CLIENTS must be 0..100000, got 'many'"
bad pw-api PITWALL_WS_SESSION_GAP_MS 1e3 "PITWALL_WS_SESSION_GAP_MS must be 0..86400000, got '1e3'"
bad pw-api PITWALL_API_PORT 70000 "PITWALL_API_PORT must be 1..65535, got '70000'"
bad pw-api RUSTY_TELEMETRY_API_PORT http \
	"RUSTY_TELEMETRY_API_PORT (read for PITWALL_API_PORT) must be 1..65535, got 'http'"
bad pw-analyze PITWALL_INSTANCE a/b "PITWALL_INSTANCE must be 1-40 of [A-Za-z0-9_-], got 'a/b'"
bad pw-store PITWALL_FEEDS "ksudp:0" "PITWALL_FEEDS: bad port in 'ksudp:0'"

# --- the effective values are logged at start -------------------------------------
mkdir -p "$PITWALL_RUN_DIR"
PITWALL_JOB_DEADLINE_MS=1234 PITWALL_LOG_LEVEL=INFO start analyze "$BIN/pw-analyze"
AN=$LAST_PID
if wait_for 10 grep -q 'msg=started' "$TMP/analyze.log"; then
	pass "pw-analyze starts"
else
	fail "pw-analyze starts"
fi
check "its config line carries the effective values" \
	grep -q " info analyze msg=config instance=$INST .* job_deadline_ms=1234 .* log_level=info ring_frames=65536 " "$TMP/analyze.log"
kill "$AN"
wait "$AN"
check "SIGTERM: pw-analyze exits 0" test $? -eq 0
PITWALL_API_TOKEN=s3cret PITWALL_CMD_TIMEOUT_MS=42 "$PW" config >"$TMP/config.txt"
check "pwctl config: one NAME=value line per variable, in the table's order" \
	test "$(cut -d= -f1 "$TMP/config.txt" | tr '\n' ' ')" = "$(sed -n '3,$p' "$TMP/table.md" | cut -d'`' -f2 | tr '\n' ' ')"
check "pwctl config: effective values, the token masked" \
	test "$(grep -E '^PITWALL_(CMD_TIMEOUT_MS|API_TOKEN|INSTANCE)=' "$TMP/config.txt" | tr '\n' ' ')" = \
	"PITWALL_INSTANCE=$INST PITWALL_API_TOKEN=set PITWALL_CMD_TIMEOUT_MS=42 "

# --- nothing else reads the environment; every name used is in the table ----------
cd "$ROOT" || exit 1
stray=$(grep -rnE '\b(secure_)?getenv *\(' capture store analyze api common --include='*.[ch]' |
	grep -v '^common/config\.c:')
check "no getenv outside common/config.c in capture/ store/ analyze/ api/ common/" test -z "$stray"
[ -z "$stray" ] || echo "$stray" >&2
known=$(cut -d'`' -f2 "$TMP/table.md" | grep '^PITWALL_' | sort -u)
used=$(grep -rhoE '\bPITWALL_[A-Z0-9_]*[A-Z0-9]\b' capture store analyze api common docs scripts \
	README.md tests/integration tests/tools tests/bench | sort -u)
unknown=$(comm -13 <(echo "$known") <(echo "$used"))
check "every PITWALL_* name in the code, docs, scripts and tests is in the table" test -z "$unknown"
[ -z "$unknown" ] || echo "not in the table: $unknown" >&2
fallbacks=$(grep -oE 'RUSTY_TELEMETRY_[A-Z_]*[A-Z]' "$TMP/table.md" | sort -u)
used=$(grep -rhoE '\bRUSTY_TELEMETRY_[A-Z_]*[A-Z]\b' capture store analyze api common docs README.md | sort -u)
check "every RUSTY_TELEMETRY_* name used is a fallback of the table" \
	test -z "$(comm -13 <(echo "$fallbacks") <(echo "$used"))"

finish
