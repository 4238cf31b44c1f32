#!/usr/bin/env bash
# tests/run.sh - run pitwall's test suite and end with "N passed, N failed".
#
#   tests/run.sh            the source checks (`make check`), unit tests, fuzz runs
#                           and integration tests (build/),
#                           then the unit tests and fuzz runs again under
#                           ASan+UBSan (build/san/) when that build exists
#   tests/run.sh --unit     unit tests and fuzz runs of $PW_BUILD only
#
# Every test program prints "PASS name" / "FAIL name" lines; a program that
# exits non-zero without a FAIL line counts as one failure. Logs of failing
# programs are printed; all logs stay in build/test-logs/.
set -u
cd "$(dirname "$0")/.."
export PW_TEST_DATA="$PWD/tests/data"
mode=${1:-all}
logs=build/test-logs
mkdir -p "$logs"
pass=0
fail=0
failed=()

run_prog() { # label timeout_s command...
	local label=$1 limit=$2
	shift 2
	local out="$logs/$label.out" err="$logs/$label.log" rc p f
	timeout --kill-after=10 "$limit" "$@" >"$out" 2>"$err" </dev/null
	rc=$?
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

run_unit() { # build dir, label suffix
	local b=$1 sfx=$2 t
	echo "== unit tests ($b)"
	for t in "$b"/tests/test_*; do
		[ -x "$t" ] || continue
		run_prog "$(basename "$t")$sfx" 600 "$t"
	done
	echo "== fuzz runs ($b, ${PW_FUZZ_ITERS:-30000} mutated inputs each)"
	for t in "$b"/fuzz/fuzz_*; do
		[ -x "$t" ] || continue
		local n
		n=$(basename "$t")
		run_prog "$n$sfx" 600 "$t" "tests/fuzz/corpus/${n#fuzz_}" "${PW_FUZZ_ITERS:-30000}" 1
	done
}

if [ "$mode" = "--unit" ]; then
	run_unit "${PW_BUILD:-build}" ""
else
	echo "== checks (make check)"
	for c in tests/check/*.py tests/check/*.sh; do
		[ "$(basename "$c")" = run.sh ] || [ ! -x "$c" ] && continue
		run_prog "check-$(basename "${c%.*}")" 120 "$c"
	done
	run_unit build ""
	echo "== integration tests"
	export PW_BIN="$PWD/build/bin"
	for t in tests/integration/test_*.sh; do
		[ -f "$t" ] || continue
		run_prog "$(basename "$t" .sh)" 600 bash "$t"
	done
	if [ -d build/san/tests ]; then
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
		export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
		run_unit build/san "[asan+ubsan]"
	fi
fi

if [ ${#failed[@]} -gt 0 ]; then
	echo "failed: ${failed[*]}"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
