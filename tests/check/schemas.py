#!/usr/bin/env python3
"""tests/check/schemas.py - the JSON Schemas in docs/schemas/ are valid draft
2020-12 documents whose ids match their paths (contract.py check), and every
JSON endpoint of docs/api.md's table has the schemas of its bodies
(contract.py coverage): an endpoint added without its schema fails here.
Prints "PASS schemas" or "FAIL schemas: N problems" (each problem on stderr).
"""
import os
import sys

from checklib import ROOT, report

sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import contract  # noqa: E402  (python3-jsonschema, installed by install-deps)

c = contract.Contract()
sys.exit(report("schemas", contract.check(c) + contract.coverage(c), "problems"))
