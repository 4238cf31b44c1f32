#!/usr/bin/env bash
# tests/check/run.sh - `make check`: every other executable script in this
# folder, each printing one PASS/FAIL line (details of a failure on stderr).
# tests/run.sh runs the same scripts as part of the suite; checklib.py is the
# Python checks' shared part.
#
#   layering.py  a process folder includes only its own headers and common/
#   format.sh    every .c/.h is formatted as .clang-format says (clang-format 14)
#   banned.py    no sprintf/strcpy/atoi/..., no getenv outside common/config.c
#   schemas.py   docs/schemas/ are valid and every JSON endpoint of docs/api.md has its schemas
#
# Exits non-zero when any check failed.
set -u
cd "$(dirname "$0")"
rc=0
for c in ./*.py ./*.sh; do
	[ "$c" = ./run.sh ] || [ ! -x "$c" ] && continue
	"$c" || rc=1
done
exit "$rc"
