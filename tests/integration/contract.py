#!/usr/bin/env python3
"""contract.py - pitwall's published JSON Schemas (docs/schemas) for the tests.

As a module: Contract() loads every docs/schemas/<name>/<version>.json, checks
it against the draft 2020-12 meta-schema and builds a registry so that the
schemas' references ("/api/schemas/frame/v1", "#/$defs/...") resolve among
them, offline. Each schema says what it describes in "x-pitwall-describes":

  response METHOD PATH   the success body of an endpoint (PATH as docs/api.md
                         writes it, also served under /api/v1/...)
  response error         every error body
  request METHOD PATH    a request body
  line GET PATH          each JSON line of a streamed response
  ws server TYPE         a stream envelope the server sends (data by type)
  ws client TYPE         one a client sends
  bus TOPIC              a bus payload (TOPIC may be "lap.<feed>")
  job header|result      the analysis job messages
  output PROGRAM ...     JSON lines a program prints

  c = Contract()
  c.errors("session", obj)                  -> ["$.runs[0].id: ... "], [] when valid
  c.http_errors("GET", "/api/v1/sessions/x", 200, body_bytes, content_type)
                                            -> (schema name or None, errors)
  c.bus_errors(topic, payload)              -> (schema name or None, errors)

Works with Debian's python3-jsonschema (4.10, RefResolver) and with newer
releases (the referencing library).

As a program:
  contract.py check                 every schema valid, ids match paths, every
                                    reference resolves, every tag well formed
  contract.py validate NAME FILE    validate FILE (JSON, or JSON lines) against NAME
  contract.py bus FILE              validate `pwctl events` output ("topic json" lines)
  contract.py coverage              every endpoint of docs/api.md has its schemas
"""
import glob
import json
import os
import re
import sys
import warnings

import jsonschema
from jsonschema import Draft202012Validator

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SCHEMA_DIR = os.path.join(ROOT, "docs", "schemas")
BASE = "http://pitwall.invalid"
TAG_KINDS = ("response", "request", "line", "ws", "bus", "job", "output")


def _path(err):
    p = "$"
    for part in err.absolute_path:
        p += "[%d]" % part if isinstance(part, int) else "." + str(part)
    return p


class Contract:
    def __init__(self, root=SCHEMA_DIR):
        self.schemas = {}            # name -> schema (version v1)
        self.files = {}
        for f in sorted(glob.glob(os.path.join(root, "*", "*.json"))):
            name = os.path.basename(os.path.dirname(f))
            version = os.path.basename(f)[:-len(".json")]
            with open(f, encoding="utf-8") as fh:
                s = json.load(fh)
            self.files[(name, version)] = s
            if version == "v1":
                self.schemas[name] = s
        self.tags = {}               # tag -> schema name
        for name, s in self.schemas.items():
            for tag in s.get("x-pitwall-describes", []):
                self.tags[tag] = name
        self._validators = {}
        self._setup()

    def _setup(self):
        try:
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT202012
        except ImportError:
            store = {BASE + s["$id"]: s for s in self.schemas.values()}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                self._resolver = jsonschema.RefResolver(base_uri=BASE + "/", referrer={}, store=store)
            self._make = lambda root: Draft202012Validator(root, resolver=self._resolver)
            return
        registry = Registry().with_resources(
            (BASE + s["$id"], Resource.from_contents(s, default_specification=DRAFT202012))
            for s in self.schemas.values())
        self._make = lambda root: Draft202012Validator(root, registry=registry)

    def validator(self, name):
        if name not in self._validators:
            if name not in self.schemas:
                raise KeyError("no schema " + name)
            self._validators[name] = self._make({"$ref": BASE + "/api/schemas/%s/v1" % name})
        return self._validators[name]

    def errors(self, name, instance, limit=5):
        out = []
        for e in self.validator(name).iter_errors(instance):
            out.append("%s: %s" % (_path(e), e.message[:200]))
            if len(out) >= limit:
                break
        return out

    # --- endpoints -------------------------------------------------------------
    @staticmethod
    def _template_match(template, path):
        t, p = template.strip("/").split("/"), path.strip("/").split("/")
        return len(t) == len(p) and all(a == b or (a.startswith("{") and a.endswith("}"))
                                        for a, b in zip(t, p))

    def endpoint_schema(self, kind, method, path):
        """The schema tagged "KIND METHOD TEMPLATE" whose template matches path
        (/api/v1/... is /api/...; the query is ignored)."""
        path = path.split("?", 1)[0]
        if path.startswith("/api/v1/"):
            path = "/api/" + path[len("/api/v1/"):]
        best = None
        for tag, name in self.tags.items():
            parts = tag.split(" ")
            if len(parts) != 3 or parts[0] != kind or parts[1] != method:
                continue
            if self._template_match(parts[2], path):
                literal = sum(1 for s in parts[2].split("/") if not s.startswith("{"))
                if best is None or literal > best[0]:
                    best = (literal, name)
        return best[1] if best else None

    def http_errors(self, method, path, status, body, content_type=""):
        """The schema an HTTP response must follow and what is wrong with it."""
        if status == 204 or status == 101:
            return None, ([] if not body else ["a %d response has a body" % status])
        ctype = (content_type or "").split(";")[0].strip()
        if status >= 400:
            name = "error"
        elif ctype == "application/x-ndjson" or ctype == "application/jsonl":
            name = self.endpoint_schema("line", method, path)
            if not name:
                return None, ["no schema describes the lines of %s %s" % (method, path)]
            errs = []
            for i, line in enumerate(body.decode("utf-8", "replace").splitlines()):
                try:
                    errs += ["line %d %s" % (i + 1, e) for e in self.errors(name, json.loads(line), 2)]
                except ValueError:
                    errs.append("line %d is not JSON" % (i + 1))
                if len(errs) >= 5:
                    break
            return name, errs
        elif ctype not in ("application/json", "application/schema+json"):
            return None, []      # pcap, CSV, Prometheus text: not JSON
        elif ctype == "application/schema+json":
            return "(meta-schema)", self.meta_errors(body)
        else:
            name = self.endpoint_schema("response", method, path)
            if not name:
                return None, ["no schema describes the response of %s %s" % (method, path)]
        try:
            doc = json.loads(body)
        except ValueError:
            return name, ["the body is not JSON"]
        return name, self.errors(name, doc)

    @staticmethod
    def meta_errors(body):
        try:
            Draft202012Validator.check_schema(json.loads(body))
            return []
        except (ValueError, jsonschema.exceptions.SchemaError) as e:
            return [str(e)[:300]]

    def bus_errors(self, topic, payload):
        name = self.tags.get("bus " + topic)
        if name is None and "." in topic:
            name = self.tags.get("bus " + topic.split(".", 1)[0] + ".<feed>")
        if name is None:
            return None, ["no schema describes bus topic " + topic]
        return name, self.errors(name, payload)


# --- the program -------------------------------------------------------------------
def check(c):
    bad = []
    for (name, version), s in c.files.items():
        try:
            Draft202012Validator.check_schema(s)
        except jsonschema.exceptions.SchemaError as e:
            bad.append("%s/%s: not a valid 2020-12 schema: %s" % (name, version, e.message))
        if s.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
            bad.append("%s/%s: $schema is not draft 2020-12" % (name, version))
        if s.get("$id") != "/api/schemas/%s/%s" % (name, version):
            bad.append("%s/%s: $id %r does not match its path" % (name, version, s.get("$id")))
        if not re.fullmatch(r"[a-z0-9-]+", name) or not re.fullmatch(r"v[0-9]+", version):
            bad.append("%s/%s: name or version out of pattern" % (name, version))
        for tag in s.get("x-pitwall-describes", []):
            if tag.split(" ")[0] not in TAG_KINDS:
                bad.append("%s: tag %r of no known kind" % (name, tag))
        # every reference resolves: walk the schema, resolve each $ref
        refs = []

        def walk(v):
            if isinstance(v, dict):
                if isinstance(v.get("$ref"), str):
                    refs.append(v["$ref"])
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
        walk(s)
        for r in refs:
            target = r if not r.startswith("#") else "/api/schemas/%s/%s%s" % (name, version, r)
            m = re.fullmatch(r"/api/schemas/([a-z0-9-]+)/(v[0-9]+)(#.*)?", target)
            if not m or (m.group(1), m.group(2)) not in c.files:
                bad.append("%s/%s: $ref %s names no schema" % (name, version, r))
                continue
            doc = c.files[(m.group(1), m.group(2))]
            for part in (m.group(3) or "#").lstrip("#").strip("/").split("/"):
                if part and (not isinstance(doc, dict) or part not in doc):
                    bad.append("%s/%s: $ref %s points nowhere" % (name, version, r))
                    break
                doc = doc[part] if part else doc
    dup = {}
    for (name, _), s in c.files.items():
        for tag in s.get("x-pitwall-describes", []):
            dup.setdefault(tag, []).append(name)
    bad += ["tag %r is claimed by %s" % (t, n) for t, n in dup.items() if len(n) > 1]
    return bad


def coverage(c):
    """Every endpoint of docs/api.md's table has the schemas of its bodies."""
    bad = []
    with open(os.path.join(ROOT, "docs", "api.md"), encoding="utf-8") as f:
        rows = [l for l in f if re.match(r"\| (GET|POST|PUT|DELETE)( \+)? \| `/", l)]
    for row in rows:
        cells = [x.strip() for x in re.split(r"(?<!\\)\|", row.strip().strip("|"))]
        method, path, success = cells[0].split(" ")[0], cells[1].strip("`").split("?")[0], cells[2]
        if not path.startswith("/api/"):
            continue         # /metrics: Prometheus text
        if "schema+json" in success:
            continue         # a JSON Schema: checked against the draft 2020-12 meta-schema
        if success.startswith("204") or "pcap" in success or "streamed" in success:
            if "streamed" in success and not c.endpoint_schema("line", method, path):
                bad.append("%s %s: no schema for its JSON lines" % (method, path))
            continue
        if not c.endpoint_schema("response", method, path):
            bad.append("%s %s: no response schema" % (method, path))
        if "body:" in success and not c.endpoint_schema("request", method, path):
            bad.append("%s %s: no request schema" % (method, path))
    if len(rows) < 30:
        bad.append("docs/api.md lists only %d endpoints: the table was not found" % len(rows))
    return bad


def main(argv):
    c = Contract()
    if len(argv) >= 2 and argv[1] == "check":
        bad = check(c)
        for b in bad:
            print(b)
        print("%d schemas, %d problems" % (len(c.files), len(bad)))
        return 1 if bad else 0
    if len(argv) == 4 and argv[1] == "validate":
        with open(argv[3], encoding="utf-8") as f:
            text = f.read()
        try:
            docs = [json.loads(text)]
        except ValueError:
            docs = [json.loads(l) for l in text.splitlines() if l.strip()]
        bad = []
        for i, d in enumerate(docs):
            bad += ["#%d %s" % (i, e) for e in c.errors(argv[2], d)]
        for b in bad[:20]:
            print(b)
        print("%d documents, %d problems" % (len(docs), len(bad)))
        return 1 if bad or not docs else 0
    if len(argv) == 3 and argv[1] == "bus":
        n, bad = 0, []
        for line in open(argv[2], encoding="utf-8", errors="replace"):
            topic, _, body = line.rstrip("\n").partition(" ")
            if not topic:
                continue
            n += 1
            try:
                name, errs = c.bus_errors(topic, json.loads(body))
            except ValueError:
                errs = ["not JSON"]
            bad += ["%s: %s" % (topic, e) for e in errs]
        for b in bad[:20]:
            print(b)
        print("%d messages, %d problems" % (n, len(bad)))
        return 1 if bad or not n else 0
    if len(argv) == 2 and argv[1] == "coverage":
        bad = coverage(c)
        for b in bad:
            print(b)
        return 1 if bad else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
