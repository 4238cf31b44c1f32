#!/usr/bin/env python3
"""tests/check/banned.py - calls pitwall does not use, as curl's checksrc bans them.

Everywhere (the process folders, common/ and tests/):
  sprintf vsprintf        unbounded writes: snprintf / vsnprintf
  strcpy strcat           unbounded copies: snprintf, or memcpy after a length check
  strncpy strncat         silently truncate (and strncpy may not terminate)
  atoi atol atoll atof    no error, undefined on overflow: strtol / strtoll / strtod
                          with an end pointer and a range check
  gets                    no bound at all
  strtok                  hidden static state: strtok_r
In the programs only (capture/ store/ analyze/ api/ common/):
  rand srand random srandom
                          hidden global state shared by every thread (pw-api and
                          pw-store are threaded), and a sequence that differs
                          between C libraries, while the emulator promises
                          byte-identical datagrams for a seed: use a local
                          generator (capture/sim/driver.c: xorshift64*). Tests
                          may use rand() to make reproducible inputs.
  getenv secure_getenv    every variable goes through the configuration table,
                          common/config.c (tests read their own PW_TEST_* knobs).

Comments, string and character literals are ignored. Each use is printed as
"file:line: name() is banned: hint" on stderr, then "PASS banned-calls" or
"FAIL banned-calls: N uses" on stdout.
"""
import os
import re
import sys

from checklib import ROOT, report, sources

PROGRAM_DIRS = ("capture", "store", "analyze", "api", "common")
TEST_DIRS = ("tests",)
CONFIG_FILE = "common/config.c"

EVERYWHERE = {
    "sprintf": "snprintf",
    "vsprintf": "vsnprintf",
    "strcpy": "snprintf, or memcpy after a length check",
    "strcat": "snprintf, or memcpy after a length check",
    "strncpy": "snprintf, or memcpy after a length check",
    "strncat": "snprintf, or memcpy after a length check",
    "atoi": "strtol with an end pointer and a range check",
    "atol": "strtol with an end pointer and a range check",
    "atoll": "strtoll with an end pointer and a range check",
    "atof": "strtod with an end pointer and a range check",
    "gets": "fgets",
    "strtok": "strtok_r",
}
PROGRAMS_ONLY = {
    "rand": "a local generator (see capture/sim/driver.c)",
    "srand": "a local generator (see capture/sim/driver.c)",
    "random": "a local generator (see capture/sim/driver.c)",
    "srandom": "a local generator (see capture/sim/driver.c)",
    "getenv": "the configuration table in common/config.c",
    "secure_getenv": "the configuration table in common/config.c",
}


def strip(text):
    """text with comments and literals blanked out, line breaks kept."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def main():
    uses = []
    for src in sources(PROGRAM_DIRS + TEST_DIRS):
        rules = dict(EVERYWHERE)
        if src.split(os.sep)[0] in PROGRAM_DIRS:
            rules.update(PROGRAMS_ONLY)
            if src == CONFIG_FILE:
                del rules["getenv"], rules["secure_getenv"]
        pattern = re.compile(r"(?<![\w.>])(%s)\s*\(" % "|".join(sorted(rules)))
        with open(os.path.join(ROOT, src), encoding="utf-8", errors="replace") as f:
            code = strip(f.read())
        for lineno, line in enumerate(code.split("\n"), 1):
            for m in pattern.finditer(line):
                uses.append("%s:%d: %s() is banned: %s" % (src, lineno, m.group(1),
                                                          rules[m.group(1)]))
    return report("banned-calls", uses, "use(s)")


if __name__ == "__main__":
    sys.exit(main())
