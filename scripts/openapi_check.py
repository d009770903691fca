#!/usr/bin/env python3
"""Checks docs/openapi.json: a valid OpenAPI 3.1 document (openapi-spec-validator), and the
project's own rules: every operation has an operationId and a 401 answer unless it is public,
and the document's paths are exactly the /api/v1 routes the responder registers (read from
Sources/Waymark: `router.get("/api/v1/…")`, `let base = "/api/v1/…"` + `router.post(base + "/…")`).

    scripts/openapi_check.py [docs/openapi.json]     exit 0 when all is well, 1 with the reasons
"""
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PUBLIC = {("get", "/api/v1/openapi.json")}
METHODS = {"get", "post", "put", "patch", "delete"}


def fail(problems):
    print(f"openapi_check: {len(problems)} problem(s) in the OpenAPI document:", file=sys.stderr)
    for p in problems:
        print("  - " + p, file=sys.stderr)
    sys.exit(1)


def registered_routes():
    """(method, path) of every /api/v1 route in the Swift sources (TestRoutes left out)."""
    routes = set()
    call = re.compile(r'router\.(get|post|put|patch|delete)\(\s*("(?:[^"\\]|\\.)*"|[A-Za-z_]+)\s*(?:\+\s*"((?:[^"\\]|\\.)*)")?')
    add = re.compile(r'router\.add\(\s*"([A-Z]+)"\s*,\s*("(?:[^"\\]|\\.)*"|[A-Za-z_]+)\s*(?:\+\s*"((?:[^"\\]|\\.)*)")?')
    base = re.compile(r'let\s+([A-Za-z_]+)\s*=\s*"(/api/v1[^"]*)"')
    src = os.path.join(ROOT, "Sources", "Waymark")
    for folder, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".swift") or name == "TestRoutes.swift":
                continue
            text = open(os.path.join(folder, name), encoding="utf-8").read()
            bases = dict(base.findall(text))
            found = [(m.group(1), m.group(2), m.group(3)) for m in call.finditer(text)]
            found += [(m.group(1).lower(), m.group(2), m.group(3)) for m in add.finditer(text)]
            for method, first, suffix in found:
                if first.startswith('"'):
                    path = first[1:-1]
                elif first in bases:
                    path = bases[first]
                else:
                    continue
                path += suffix or ""
                if path.startswith("/api/v1"):
                    routes.add((method, path))
    return routes


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "docs", "openapi.json")
    try:
        from openapi_spec_validator import validate
    except ImportError:
        print("openapi_check: openapi-spec-validator is not installed: run scripts/pydeps.sh validator", file=sys.stderr)
        sys.exit(2)
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        fail([f"{path} cannot be read as JSON: {e}"])
    if not str(doc.get("openapi", "")).startswith("3.1"):
        fail([f"{path}: `openapi` must be 3.1.x (is {doc.get('openapi')!r})"])
    try:
        validate(doc)
    except Exception as e:  # the validator's errors are of several classes
        message = [line for line in str(e).strip().splitlines() if line.strip()]
        where = "/".join(str(part) for part in getattr(e, "absolute_path", []) or [])
        fail([f"{path} is not a valid OpenAPI 3.1 document: " + (message[0] if message else type(e).__name__)
              + (f" (at {where})" if where else "")])

    problems = []
    documented = set()
    operation_ids = {}
    for p, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            documented.add((method, p))
            oid = operation.get("operationId")
            if not oid:
                problems.append(f"{method.upper()} {p} has no operationId")
            elif oid in operation_ids:
                problems.append(f"operationId {oid} is used twice ({operation_ids[oid]} and {method.upper()} {p})")
            else:
                operation_ids[oid] = f"{method.upper()} {p}"
            public = operation.get("security", doc.get("security")) == []
            if (method, p) in PUBLIC:
                if not public:
                    problems.append(f"{method.upper()} {p} must need no token (security: [])")
            elif public:
                problems.append(f"{method.upper()} {p} is public in the document but needs a token in the code")
            elif "401" not in operation.get("responses", {}):
                problems.append(f"{method.upper()} {p} has no 401 answer")

    routes = registered_routes() | PUBLIC  # the document's own route may land later than the document
    if not routes - PUBLIC:
        problems.append("no /api/v1 route found in Sources/Waymark (is this the project root?)")
    for method, p in sorted(routes - documented):
        problems.append(f"route {method.upper()} {p} is registered but has no operation in the document")
    for method, p in sorted(documented - routes):
        problems.append(f"{method.upper()} {p} is in the document but no such route is registered")
    if problems:
        fail(problems)
    print(f"openapi_check: {path} is valid OpenAPI {doc['openapi']}: {len(documented)} operations on {len(doc['paths'])} paths, matching the routes")


if __name__ == "__main__":
    main()
