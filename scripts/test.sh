#!/usr/bin/env bash
# scripts/test.sh - install what is missing, build everything (normal and
# ASan+UBSan), run the whole test suite. Ends with "N passed, N failed".
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
make -j"$jobs" all
make -j"$jobs" BUILD=build/san SAN=1 OPT=-O1 unit-tests
exec tests/run.sh
