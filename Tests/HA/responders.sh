#!/usr/bin/env bash
# Several responders behind one nginx, for real (issue 21), run by `make test`.
#
# On a test instance of its own (slot 6: var/test-6), brought up here and stopped at the end:
# WAYMARK_RESPONDERS=2 (two processes on unix sockets) and a third responder on TCP
# (WAYMARK_LISTEN=127.0.0.1:PORT, in nginx through WAYMARK_UPSTREAM_EXTRA), two workers
# (WAYMARK_WORKERS=2). Tests/HA/responders.py then checks that each responder serves clicks
# (the access log's upstream addresses), that the unique flag is what one responder gives,
# that one request sent to two responders is one click, and that kill -9 of a responder under
# load loses no answered click and stores none twice.
#   WAYMARK_RESPONDERS_TEST_SLOT (6) chooses the slot.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SLOT=${WAYMARK_RESPONDERS_TEST_SLOT:-6}
# `make test` exports the main test instance's variables: none of them may reach this one.
for name in $(compgen -e); do
  case "$name" in WAYMARK_*|PGHOST|PGPORT|PGUSER|PGPASSWORD|PGDATABASE|PGPASSFILE) unset "$name" ;; esac
done
export WAYMARK_INSTANCE=test WAYMARK_TEST_SLOT=$SLOT
source "$ROOT/scripts/env.sh"
TCP_PORT=$((19101 + SLOT * 10 + 6))
export WAYMARK_RESPONDERS=2 WAYMARK_WORKERS=2 WAYMARK_UPSTREAM_EXTRA=127.0.0.1:$TCP_PORT
tcp_pid=""

cleanup() {
  if [ -n "$tcp_pid" ]; then
    kill -TERM "$tcp_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$tcp_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$tcp_pid" 2>/dev/null || true
  fi
  "$ROOT/scripts/stack.sh" down >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$ROOT/scripts/stack.sh" down >/dev/null 2>&1 || true
"$ROOT/scripts/stack.sh" up >/dev/null
WAYMARK_DATABASE_URL=$(cat "$WAYMARK_VAR/database.url")
export WAYMARK_DATABASE_URL
mkdir -p "$WAYMARK_VAR/spool-tcp"
# The responder "on another host": TCP, its own spool, only nginx's address may connect.
(cd "$ROOT" && WAYMARK_LISTEN=127.0.0.1:$TCP_PORT WAYMARK_LISTEN_ALLOW=127.0.0.1 WAYMARK_SPOOL=$WAYMARK_VAR/spool-tcp \
  WAYMARK_SOCKET=$WAYMARK_VAR/run/unused-tcp.sock exec "$WAYMARK_BIN" serve) >> "$WAYMARK_VAR/log/serve-tcp.log" 2>&1 &
tcp_pid=$!
disown "$tcp_pid"
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$TCP_PORT") 2>/dev/null && break
  sleep 0.1
done
echo "$tcp_pid" > "$WAYMARK_VAR/run/serve-tcp.pid"
# nginx marked the TCP responder failed while the stack came up without it: a reload forgets that.
"$ROOT/scripts/nginx.sh" start
sleep 1

python3 "$ROOT/Tests/HA/responders.py" --var "$WAYMARK_VAR" --root "$ROOT" --tcp "127.0.0.1:$TCP_PORT" \
  --http "http://localhost:$WAYMARK_HTTP_PORT" --https "https://localhost:$WAYMARK_HTTPS_PORT"
