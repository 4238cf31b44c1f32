#!/usr/bin/env bash
# tests/run.sh - run pitwall's test suite and end with "N passed, N failed".
#
#   tests/run.sh            the source checks (`make check`), unit tests, fuzz runs
#                           and integration tests (build/),
#                           then the unit tests and fuzz runs again under
#                           ASan+UBSan (build/san/) when that build exists
#   tests/run.sh --unit     unit tests and fuzz runs of $PW_BUILD only
#   tests/run.sh --integration   the integration tests only (build/bin)
#
# Every test program prints "PASS name" / "FAIL name" lines; a program that
# exits non-zero without a FAIL line counts as one failure. Logs of failing
# programs are printed; all logs stay in build/test-logs/ (with each
# program's exit status and seconds in LABEL.rc).
#
# PW_TEST_JOBS (default: the number of CPUs, at most 4) programs run at a
# time; their results are printed in the order they were started. An
# integration test with the line "# pw-test: solo" runs with nothing beside it
# (it measures wake-ups, kills processes in a loop or drives a browser).
# Every integration test has its own instance, shared-memory names, ports and
# temporary folder (tests/integration/lib.sh), so any two can run together.
set -u
cd "$(dirname "$0")/.."
export PW_TEST_DATA="$PWD/tests/data"
mode=${1:-all}
logs=build/test-logs
mkdir -p "$logs"
pass=0
fail=0
failed=()

jobs_max=${PW_TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
case $jobs_max in '' | *[!0-9]* | 0) jobs_max=1 ;; esac
[ "$jobs_max" -gt 4 ] && [ -z "${PW_TEST_JOBS:-}" ] && jobs_max=4
pending=() # labels started and not yet reported, in start order
times=()   # "seconds label" of every program reported

report() { # label: count and print the finished program's results
	local label=$1 out="$logs/$1.out" err="$logs/$1.log" rc secs p f
	read -r rc secs <"$logs/$label.rc"
	times+=("$secs $label")
	p=$(grep -c '^PASS ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	sed -n 's/^\(PASS\|FAIL\) /  \1 /p' "$out" | sed "s/^  \(PASS\|FAIL\) /  \1 $label: /"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "  FAIL $label: exited with status $rc$([ "$rc" -eq 124 ] && echo ' (timeout)')"
	fi
	if [ "$f" -gt 0 ]; then
		failed+=("$label")
		echo "  --- last lines of $err ---"
		tail -n 40 "$err" | sed 's/^/  | /'
	fi
	pass=$((pass + p))
	fail=$((fail + f))
}

report_done() { # report the finished programs at the head of the queue, in order
	while [ ${#pending[@]} -gt 0 ] && [ -f "$logs/${pending[0]}.rc" ]; do
		report "${pending[0]}"
		pending=("${pending[@]:1}")
	done
}

running() { # how many started programs have not finished
	local l n=0
	for l in "${pending[@]}"; do [ -f "$logs/$l.rc" ] || n=$((n + 1)); done
	echo "$n"
}

wait_below() { # N: wait until fewer than N programs run
	while [ "$(running)" -ge "$1" ]; do
		sleep 0.2
		report_done
	done
	report_done
}

run_prog() { # label timeout_s command... : start it when a slot is free
	local label=$1 limit=$2
	shift 2
	wait_below "$jobs_max"
	rm -f "$logs/$label.rc"
	(
		t0=$SECONDS
		timeout --kill-after=10 "$limit" "$@" >"$logs/$label.out" 2>"$logs/$label.log" </dev/null
		rc=$?
		echo "$rc $((SECONDS - t0))" >"$logs/$label.rc.tmp" && mv "$logs/$label.rc.tmp" "$logs/$label.rc"
	) &
	pending+=("$label")
}

run_solo() { # label timeout_s command... : run it with nothing beside it
	wait_below 1
	run_prog "$@"
	wait_below 1
}

run_unit() { # build dir, label suffix
	local b=$1 sfx=$2 t
	wait_below 1
	echo "== unit tests ($b)"
	for t in "$b"/tests/test_*; do
		[ -x "$t" ] || continue
		run_prog "$(basename "$t")$sfx" 600 "$t"
	done
	wait_below 1
	echo "== fuzz runs ($b, ${PW_FUZZ_ITERS:-30000} mutated inputs each)"
	for t in "$b"/fuzz/fuzz_*; do
		[ -x "$t" ] || continue
		local n
		n=$(basename "$t")
		run_prog "$n$sfx" 600 "$t" "tests/fuzz/corpus/${n#fuzz_}" "${PW_FUZZ_ITERS:-30000}" 1
	done
}

run_integration() {
	local t
	wait_below 1
	echo "== integration tests"
	export PW_BIN="$PWD/build/bin"
	for t in tests/integration/test_*.sh; do
		[ -f "$t" ] || continue
		if grep -q '^# pw-test: solo' "$t"; then
			run_solo "$(basename "$t" .sh)" 600 bash "$t"
		else
			run_prog "$(basename "$t" .sh)" 600 bash "$t"
		fi
	done
	wait_below 1
}

if [ "$mode" = "--unit" ]; then
	run_unit "${PW_BUILD:-build}" ""
elif [ "$mode" = "--integration" ]; then
	run_integration
else
	echo "== checks (make check)"
	for c in tests/check/*.py tests/check/*.sh; do
		[ "$(basename "$c")" = run.sh ] || [ ! -x "$c" ] && continue
		run_prog "check-$(basename "${c%.*}")" 120 "$c"
	done
	run_unit build ""
	run_integration
	if [ -d build/san/tests ]; then
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
		export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
		run_unit build/san "[asan+ubsan]"
	fi
fi
wait_below 1

echo "slowest programs (seconds, $jobs_max at a time):"
printf '%s\n' "${times[@]}" | sort -rn | head -n 8 | awk '{ printf "  %4d %s\n", $1, $2 }'

if [ ${#failed[@]} -gt 0 ]; then
	echo "failed: ${failed[*]}"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
