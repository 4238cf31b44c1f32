#!/usr/bin/env bash
# Golden decoder cases (curl's tests/data style, tests/data/README.md): every
# tests/data/<game>/<case>.jsonl is what `pw-capture --feed FEED --decode` must
# print for <case>.pcap (or .pcapng, .raw) next to it, byte for byte. FEED is
# the one word in tests/data/<game>/feed; extra pw-capture options for a case go
# in <case>.args. One PASS/FAIL line per case; a failure shows the first
# differences. Then tests/data/check_cases.py checks the golden files of the
# shipped cases against an independent decode of their sources (one
# "golden-source" PASS/FAIL line per case).
. "$(dirname "$0")/lib.sh"
DATA=$ROOT/tests/data
ncases=0

for golden in "$DATA"/*/*.jsonl; do
	[ -f "$golden" ] || continue
	dir=$(dirname "$golden")
	case_name=$(basename "$dir")/$(basename "$golden" .jsonl)
	capture=
	for ext in pcap pcapng raw; do
		[ -f "${golden%.jsonl}.$ext" ] && capture=${golden%.jsonl}.$ext && break
	done
	if [ -z "$capture" ] || [ ! -f "$dir/feed" ]; then
		fail "golden $case_name" "no capture next to it, or no $(basename "$dir")/feed"
		continue
	fi
	args=()
	[ -f "${golden%.jsonl}.args" ] && read -r -a args <"${golden%.jsonl}.args"
	out=$TMP/$(basename "$dir")-$(basename "$golden")
	"$BIN/pw-capture" --feed "$(cat "$dir/feed")" --decode "$capture" "${args[@]}" \
		>"$out" 2>"$out.err"
	rc=$?
	ncases=$((ncases + 1))
	if [ "$rc" -eq 0 ] && cmp -s "$out" "$golden"; then
		pass "golden $case_name"
	else
		fail "golden $case_name" "exit $rc; first differences (< golden, > decoded):"
		diff "$golden" "$out" | head -n 6 | cut -c1-300 >&2
		tail -n 3 "$out.err" >&2
	fi
done
check "golden: the shipped cases are there ($ncases found)" test "$ncases" -ge 15
python3 "$DATA/check_cases.py" || FAILED=1
finish
