#!/usr/bin/env bash
# `make test`: starts the test instance (its own PostgreSQL, nginx, responder and worker under
# var/test), runs every test against it, and stops it whatever happens.
set -euo pipefail
export WAYMARK_INSTANCE=test
source "$(dirname "$0")/env.sh"
cleanup() { "$WAYMARK_ROOT/scripts/stack.sh" down || true; }
trap cleanup EXIT
"$WAYMARK_ROOT/scripts/stack.sh" down >/dev/null 2>&1 || true
"$WAYMARK_ROOT/scripts/stack.sh" up
WAYMARK_DATABASE_URL=$(cat "$WAYMARK_VAR/database.url")
export WAYMARK_DATABASE_URL
export WAYMARK_TEST_BASE_URL=https://localhost:$WAYMARK_HTTPS_PORT
export WAYMARK_TEST_HTTP_URL=http://localhost:$WAYMARK_HTTP_PORT
export WAYMARK_TEST_CA=$WAYMARK_VAR/tls/cert.pem
export WAYMARK_TEST_SCRIPTS=$WAYMARK_ROOT/scripts
mkdir -p "$WAYMARK_ROOT/var/test-artifacts"
cd "$WAYMARK_ROOT"
# The checks that attack the instance from outside run before the Swift tests (some of which
# restart the responder), so the last line printed is swift test's own summary:
#  - the target graph keeps the architecture's rules (scripts/check_architecture.py);
#  - the OpenAPI document is valid and matches the routes;
#  - the server install (deploy/) into a throwaway root: units, nginx site, Prometheus rules, a rolling restart;
#  - the hostile-input suite: every public and API path with malformed input, each answered
#    with a clear 4xx, the responder up, nothing stored changed;
#  - the report property test: random reports over a generated history equal a brute force (seed printed);
#  - backup, restore and point-in-time recovery with pgBackRest, on test slots 8 and 9 of its own;
#  - several responders (two sockets and one TCP) and two workers, kill -9 under load, on slot 6;
#  - failover: PostgreSQL with a Patroni-managed standby, kill -9 of the primary under load, on
#    slot 7 (also `make test-ha` alone);
#  - schemathesis against the document: no 5xx, every answer as documented;
#  - every libFuzzer target for 10 seconds from its seed corpus.
# `scripts/test.sh --filter NAME` (a subset of the Swift tests) skips them.
if [ $# -eq 0 ]; then
  "$WAYMARK_ROOT/scripts/pydeps.sh"
  python3 "$WAYMARK_ROOT/scripts/check_architecture.py"
  python3 "$WAYMARK_ROOT/scripts/openapi_check.py"
  "$WAYMARK_ROOT/scripts/check_deploy.sh"
  python3 "$WAYMARK_ROOT/Tests/Hostile/hostile.py"
  python3 "$WAYMARK_ROOT/Tests/Property/reports_property.py"
  "$WAYMARK_ROOT/Tests/Backup/backup_restore.sh"
  "$WAYMARK_ROOT/Tests/HA/responders.sh"
  "$WAYMARK_ROOT/Tests/HA/failover.sh"
  "$WAYMARK_ROOT/scripts/schemathesis.sh"
  "$WAYMARK_ROOT/scripts/fuzz.sh" "${WAYMARK_TEST_FUZZ_SECONDS:-10}"
fi
# The browser tests' page walk checks every page with axe-core (for the Python they run).
PYTHON=/usr/bin/python3 "$WAYMARK_ROOT/scripts/pydeps.sh" browser
# No pipe after swift test: its own summary line is the last thing printed, and its exit code
# is this script's.
swift test -c release --skip-build --disable-testable-imports --no-parallel "$@"
