#!/usr/bin/env bash
# The layering as linked: pw-store holds no analysis code (track builds and
# session analyses run in pw-analyze, the store only sends jobs), and neither
# do the programs that never analyse (capture, emulator, replay, api, pwctl).
# A symbol counts as analysis code when analyze/'s objects define it
# (libpwanalyze.a, beside the binaries), or when it carries the analyses'
# an_ prefix.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${PW_BIN:-$ROOT/build/bin}
LIB=${PW_ANALYZE_LIB:-$BIN/../lib/libpwanalyze.a}
FAILED=0

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1${2:+: $2}"; FAILED=1; }

if ! command -v nm >/dev/null; then
	fail "nm is installed (binutils)"
	exit 1
fi
if [ ! -f "$LIB" ]; then
	fail "the analysis library exists" "$LIB"
	exit 1
fi
# every global symbol analyze/'s objects define
SYMS=$(mktemp)
trap 'rm -f "$SYMS"' EXIT
nm -g --defined-only "$LIB" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u >"$SYMS"
n=$(wc -l <"$SYMS")
if [ "$n" -ge 5 ] && grep -qx an_track_build "$SYMS"; then
	pass "the analysis library defines $n global symbols, an_track_build among them"
else
	fail "the analysis library's symbols are readable" "$n symbols"
	exit 1
fi

for prog in pw-store pw-api pwctl pw-capture pw-sim pw-replay; do
	b=$BIN/$prog
	if [ ! -x "$b" ]; then
		fail "$prog exists" "$b"
		continue
	fi
	defined=$(nm --defined-only "$b" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u)
	if [ -z "$defined" ]; then
		fail "$prog has a symbol table (not stripped)"
		continue
	fi
	found=$({ grep -Fxf "$SYMS" <<<"$defined"; grep '^an_' <<<"$defined"; } | sort -u | head -n 8 | tr '\n' ' ')
	if [ -z "$found" ]; then
		pass "$prog defines no symbol of analyze/ (nm)"
	else
		fail "$prog defines no symbol of analyze/ (nm)" "$found"
	fi
done
exit "$FAILED"
