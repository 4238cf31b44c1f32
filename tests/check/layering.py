#!/usr/bin/env python3
"""tests/check/layering.py - the build's layering rule (docs/architecture.md section 1).

A process folder includes only its own headers and common/; common/ includes
no process folder. The process folders are capture/ (with capture/sim and
capture/replay), store/, analyze/ and api/ (with api/pwctl). tests/ may include
anything. Every violation is printed as "file:line: include" on stderr, then
one line "PASS layering" or "FAIL layering: N violations" on stdout.

Both #include "..." and #include <...> are looked at: a path is resolved
against the including file's folder first (as the compiler does for quotes),
then against the repository root (-I.); system headers resolve to neither and
are ignored.
"""
import os
import re
import sys

from checklib import ROOT, report, sources

PROCESS_DIRS = ("capture", "store", "analyze", "api")
SHARED_DIR = "common"
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def resolve(src, target):
    """The repository path an include names, or None for a system header."""
    local = os.path.normpath(os.path.join(os.path.dirname(src), target))
    if os.path.isfile(os.path.join(ROOT, local)):
        return local
    rooted = os.path.normpath(target)
    if os.path.isfile(os.path.join(ROOT, rooted)) or rooted.split(os.sep)[0] in (
            PROCESS_DIRS + (SHARED_DIR, "tests")):
        return rooted
    return None


def owner(path):
    return path.split(os.sep)[0]


def main():
    violations = []
    for top in PROCESS_DIRS + (SHARED_DIR,):
        for src in sources((top,)):
            with open(os.path.join(ROOT, src), encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    path = resolve(src, m.group(2))
                    if path is None:
                        continue
                    allowed = (SHARED_DIR,) if top == SHARED_DIR else (top, SHARED_DIR)
                    if path.startswith("..") or owner(path) not in allowed:
                        violations.append("%s:%d: %s" % (src, lineno, line.strip()))
    return report("layering", violations, "include(s) cross a process folder")


if __name__ == "__main__":
    sys.exit(main())
