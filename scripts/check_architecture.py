#!/usr/bin/env python3
"""The architecture rules the target graph must keep (README, Architecture), checked on
`swift package dump-package` and on every source file's imports. Exits 1 naming each breach.

- no file imports a module its target does not declare (a transitive arrow is no arrow);
- Tracking does not depend, even transitively, on HTTPClient (the click path calls no third party);
- only FastCGI, Postgres and HTTPClient depend on the C modules, or import them;
- the capability modules import neither FastCGI (threads and clocks come from Threads) nor
  another capability that the graph does not allow;
- the graph has no cycle (SwiftPM refuses one too; checked here so the message is ours);
- no SQL in the app module (routes, pages, the worker call the capabilities' stores), except
  the migration runner;
- in the capability modules, SQL only in stores (`*Store*.swift`) and pure builders
  (`*Query*.swift`); Google Ads' GAQL (a SELECT that is not SQL) is allowed in its folder;
- one writer per table: every INSERT INTO / UPDATE … SET / DELETE FROM of a table is in files
  of one store type (`<Name>Store.swift`, `<Name>Store+<Concern>.swift`);
- the source shape (README, Source layout): no function over 80 lines, the median file under
  120 lines, no line over 140 characters (string literals included: swift format cannot wrap them).
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
C_MODULES = {"CFastCGI", "CLibPQ", "CCurl"}
C_WRAPPERS = {"FastCGI", "Postgres", "HTTPClient"}
CAPABILITIES = {"WaymarkCore", "Accounts", "Catalog", "Tracking", "Conversions", "Deliveries", "Integrations", "Spend", "Reports"}
# Modules any file may import: the system's and the toolchain's.
SYSTEM = {"Foundation", "FoundationXML", "FoundationEssentials", "Glibc", "Darwin", "Dispatch", "Synchronization", "Testing", "XCTest"}
# Product names of package dependencies → the modules they bring.
PRODUCTS = {"Logging": {"Logging"}, "Crypto": {"Crypto"}, "CryptoExtras": {"CryptoExtras"}, "CSV": {"CSV"},
            "Mustache": {"Mustache"}, "ArgumentParser": {"ArgumentParser"}}


def package():
    out = subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main():
    pkg = package()
    deps, paths = {}, {}
    for t in pkg["targets"]:
        names = set()
        for d in t["dependencies"]:
            if "byName" in d:
                names.add(d["byName"][0])
            elif "target" in d:
                names.add(d["target"][0])
            elif "product" in d:
                names |= PRODUCTS.get(d["product"][0], {d["product"][0]})
        deps[t["name"]] = names
        kind = "Tests" if t["type"] == "test" else "Sources"
        paths[t["name"]] = t.get("path") or os.path.join(kind, t["name"])
    problems = []

    def closure(name, seen=None):
        seen = set() if seen is None else seen
        for d in deps.get(name, ()):
            if d not in seen:
                seen.add(d)
                closure(d, seen)
        return seen

    # No cycle.
    for name in deps:
        if name in closure(name):
            problems.append(f"{name} depends on itself through {sorted(closure(name) & set(deps))}")
    # Tracking never reaches HTTPClient.
    if "HTTPClient" in closure("Tracking"):
        problems.append("Tracking depends (transitively) on HTTPClient")
    # Only the wrappers reach the C modules directly.
    for name, ds in deps.items():
        if ds & C_MODULES and name not in C_WRAPPERS:
            problems.append(f"{name} depends on the C module(s) {sorted(ds & C_MODULES)}")
    # Every import is a declared dependency.
    for name, path in paths.items():
        directory = os.path.join(ROOT, path)
        if not os.path.isdir(directory):
            continue
        for folder, _, files in os.walk(directory):
            for f in files:
                if not f.endswith(".swift"):
                    continue
                file = os.path.join(folder, f)
                for line in open(file, encoding="utf-8"):
                    m = re.match(r"^(?:@testable\s+|@_exported\s+)?import\s+(\w+)", line)
                    if not m:
                        continue
                    module = m.group(1)
                    rel = os.path.relpath(file, ROOT)
                    if module in SYSTEM:
                        continue
                    if module in C_MODULES and name not in C_WRAPPERS:
                        problems.append(f"{rel} imports the C module {module}")
                    elif module == "FastCGI" and name in CAPABILITIES:
                        problems.append(f"{rel} imports FastCGI (threads and clocks are in Threads)")
                    elif module not in deps[name] and module != name:
                        problems.append(f"{rel} imports {module}, which {name} does not declare")
    problems += sql_outside_stores() + capability_sql_outside_stores() + one_writer_per_table() + source_shape()
    for p in problems:
        print("architecture:", p)
    print(f"architecture: {len(deps)} targets checked, {len(problems)} problem(s)")
    return 1 if problems else 0


SQL = re.compile(r"\b(?:database|c|connection)\.(?:query|transaction|execute)\(|PostgresQuery\(|"
                 r"\b(?:SELECT|INSERT INTO|DELETE FROM|UPDATE \w+ SET)\b")


def swift_files(*folders):
    for folder in folders:
        for directory, _, files in os.walk(os.path.join(ROOT, folder)):
            for f in sorted(files):
                if f.endswith(".swift"):
                    yield os.path.join(directory, f)


def sql_outside_stores():
    """The app module (Sources/Waymark) holds no SQL but its migration runner's."""
    problems = []
    for file in swift_files("Sources/Waymark"):
        rel = os.path.relpath(file, ROOT)
        if rel.startswith("Sources/Waymark/Migrations/"):
            continue
        for number, line in enumerate(open(file, encoding="utf-8"), 1):
            if not line.lstrip().startswith("//") and SQL.search(line):
                problems.append(f"{rel}:{number}: SQL in the app module (move it into a store): {line.strip()[:80]}")
    return problems



CAPABILITY_FOLDERS = [f"Sources/{name}" for name in sorted(CAPABILITIES)]
CAPABILITY_SQL = re.compile(r"\.(?:query|transaction)\(|\b(?:SELECT|INSERT INTO|DELETE FROM|UPDATE [a-z_]+(?: [a-z])? SET)\b|"
                            r"\bWITH [a-z_]+ AS \(")
# Google Ads' query language reads like SQL; in its folder a SELECT is GAQL, not SQL.
GAQL_FOLDER = "Sources/Integrations/GoogleAds/"
GAQL_SELECT = re.compile(r"\bSELECT\b")


def capability_sql_outside_stores():
    """In the capability modules SQL lives in stores and pure query builders only."""
    problems = []
    for file in swift_files(*CAPABILITY_FOLDERS):
        rel = os.path.relpath(file, ROOT)
        name = os.path.basename(file)
        if "Store" in name or "Query" in name:
            continue
        for number, line in enumerate(open(file, encoding="utf-8"), 1):
            if line.lstrip().startswith("//"):
                continue
            code = GAQL_SELECT.sub("", line) if rel.startswith(GAQL_FOLDER) else line
            if CAPABILITY_SQL.search(code):
                problems.append(f"{rel}:{number}: SQL outside a store (move it into a *Store type): {line.strip()[:80]}")
    return problems


WRITE = re.compile(r"\b(?:INSERT INTO|DELETE FROM)\s+([a-z_]+)\b|\bUPDATE\s+([a-z_]+)\s+(?:[a-z]\s+)?SET\b")
STORE_FILE = re.compile(r"^(\w+Store)(?:\+[\w-]+)?\.swift$")


def one_writer_per_table():
    """Each table is written (INSERT, UPDATE, DELETE) by one store type; others call it."""
    writers = {}
    for file in swift_files(*CAPABILITY_FOLDERS):
        name = os.path.basename(file)
        m = STORE_FILE.match(name)
        owner = m.group(1) if m else name
        for w in WRITE.finditer(open(file, encoding="utf-8").read()):
            table = w.group(1) or w.group(2)
            writers.setdefault(table, {}).setdefault(owner, os.path.relpath(file, ROOT))
    return [f"table {table} has {len(owners)} writers ({', '.join(sorted(owners.values()))}): make one store its only writer"
            for table, owners in sorted(writers.items()) if len(owners) > 1]


DECLARATION = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|package|static|final|"
                         r"override|mutating|nonisolated|convenience|required|class)\s+)*(?:func\s|init[?!]?\s*[(<])")
STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def function_lengths(lines):
    """(first line, length) of each function or initializer body, found by counting braces
    outside one-line string literals."""
    for start, line in enumerate(lines):
        if not DECLARATION.match(line):
            continue
        depth, opened = 0, False
        for end in range(start, len(lines)):
            code = STRING.sub('""', lines[end].split("//")[0] if '"' not in lines[end] else lines[end])
            depth += code.count("{") - code.count("}")
            opened = opened or "{" in code
            if opened and depth <= 0:
                yield start + 1, end - start + 1
                break
            if not opened and end > start + 8:
                break  # a protocol requirement: no body


def source_shape():
    problems, sizes = [], []
    for file in swift_files("Sources"):
        rel = os.path.relpath(file, ROOT)
        lines = open(file, encoding="utf-8").read().split("\n")
        sizes.append(len(lines))
        for start, length in function_lengths(lines):
            if length > 80:
                problems.append(f"{rel}:{start}: a function of {length} lines (at most 80)")
    for file in swift_files("Sources", "Tests"):
        rel = os.path.relpath(file, ROOT)
        for number, line in enumerate(open(file, encoding="utf-8"), 1):
            if len(line.rstrip("\n")) > 140:
                problems.append(f"{rel}:{number}: a line of {len(line.rstrip())} characters (at most 140)")
    sizes.sort()
    median = sizes[len(sizes) // 2] if sizes else 0
    if median >= 120:
        problems.append(f"the median Swift file has {median} lines (under 120)")
    print(f"architecture: {len(sizes)} source files, median {median} lines")
    return problems


if __name__ == "__main__":
    sys.exit(main())
