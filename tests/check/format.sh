#!/usr/bin/env bash
# tests/check/format.sh - every .c/.h of the project is formatted as .clang-format says.
#
#   tests/check/format.sh          one line per file that would change, then
#                                  "PASS format" or "FAIL format: N of M files ..."
#   tests/check/format.sh --diff   also print what clang-format would change
#
# The configuration is written for clang-format 14 (other versions format some
# constructs differently, so they are not used). To fix a file:
# clang-format-14 -i FILE.
set -u
cd "$(dirname "$0")/../.."
show_diff=${1:-}

cf=
for c in clang-format-14 clang-format; do
	if command -v "$c" >/dev/null 2>&1 && "$c" --version | grep -q 'version 14\.'; then
		cf=$c
		break
	fi
done
if [ -z "$cf" ]; then
	echo "format: clang-format 14 is not installed (scripts/install-deps.sh installs it)" >&2
	echo "FAIL format: no clang-format 14"
	exit 1
fi

files=$(find capture store analyze api common tests -name '*.c' -o -name '*.h' | sort)
total=0
bad=0
lines=0
for f in $files; do
	total=$((total + 1))
	n=$("$cf" --style=file "$f" | diff "$f" - | grep -c '^[<>]')
	[ "$n" -eq 0 ] && continue
	bad=$((bad + 1))
	lines=$((lines + n))
	echo "$f: $n lines differ from .clang-format" >&2
	[ "$show_diff" = "--diff" ] && "$cf" --style=file "$f" | diff -u "$f" - >&2
done
if [ "$bad" -gt 0 ]; then
	echo "FAIL format: $bad of $total files ($lines lines) differ from .clang-format"
	exit 1
fi
echo "PASS format ($total files)"
