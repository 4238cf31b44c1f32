"""tests/check/checklib.py - what the Python source checks share: the tree they
read and the PASS/FAIL report run.sh and tests/run.sh count."""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def sources(tops):
    """Every .c and .h below the given top-level folders, as paths from ROOT, sorted."""
    for top in tops:
        for base, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs.sort()
            for name in sorted(files):
                if name.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(base, name), ROOT)


def report(check, problems, what):
    """Each problem on stderr, then one PASS/FAIL line; returns the exit status."""
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print("FAIL %s: %d %s" % (check, len(problems), what))
        return 1
    print("PASS %s" % check)
    return 0
