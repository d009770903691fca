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
# The hostile-input suite (Tests/Hostile/hostile.py): every public and API path attacked with
# malformed input; every answer a clear 4xx, the responder up, nothing stored changed. It runs
# before the Swift tests, some of which restart the responder.
python3 "$WAYMARK_ROOT/Tests/Hostile/hostile.py"
# No pipe after swift test: its own summary line is the last thing printed, and its exit code
# is this script's.
swift test -c release --skip-build --disable-testable-imports --no-parallel "$@"
