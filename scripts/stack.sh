#!/usr/bin/env bash
# The whole stack for one instance (see env.sh): PostgreSQL, migrations, TLS, the responders
# (WAYMARK_RESPONDERS, default 1) and the workers (WAYMARK_WORKERS, default 1), each restarted
# by a small supervisor if it dies, and nginx. WAYMARK_HA=1: PostgreSQL is scripts/ha.sh's
# Patroni pair instead of the embedded cluster.
#   run    in the foreground; Ctrl-C (or SIGTERM) stops everything
#   up     the same in the background; returns once /healthz answers
#   down   stops what `up` or `run` started
#   status
set -euo pipefail
source "$(dirname "$0")/env.sh"
RUN=$WAYMARK_VAR/run
LOG=$WAYMARK_VAR/log

setup() {
  mkdir -p "$RUN" "$LOG"
  [[ "${WAYMARK_RESPONDERS:-1}" =~ ^[1-9]$ ]] || { log "WAYMARK_RESPONDERS must be 1-9"; exit 1; }
  [[ "${WAYMARK_WORKERS:-1}" =~ ^[1-9]$ ]] || { log "WAYMARK_WORKERS must be 1-9"; exit 1; }
  [ -x "$WAYMARK_BIN" ] || { log "no binary at $WAYMARK_BIN: run 'make build' first"; exit 1; }
  if [ "${WAYMARK_HA:-0}" = 1 ]; then
    # PostgreSQL with a standby (Patroni + etcd, docs/ha.md): writes on the multi-host URL that
    # finds the primary, reports on the standby; `down` stops it too.
    "$WAYMARK_ROOT/scripts/ha.sh" up >/dev/null
    touch "$RUN/ha"
    EMBEDDED_PG=0
    WAYMARK_DATABASE_URL=$(cat "$WAYMARK_VAR/ha/database.url")
    WAYMARK_REPORTS_DATABASE_URL=${WAYMARK_REPORTS_DATABASE_URL:-$(cat "$WAYMARK_VAR/ha/reports.url")}
    export WAYMARK_DATABASE_URL WAYMARK_REPORTS_DATABASE_URL
  elif [ "$EMBEDDED_PG" = 1 ]; then
    "$WAYMARK_ROOT/scripts/postgres.sh" start
    WAYMARK_DATABASE_URL=$(cat "$WAYMARK_VAR/database.url")
    export WAYMARK_DATABASE_URL
  fi
  (cd "$WAYMARK_ROOT" && "$WAYMARK_BIN" migrate)
  "$WAYMARK_ROOT/scripts/tls.sh"
  # The key that seals integration tokens (AES-GCM), unless WAYMARK_SECRET_KEY is set.
  if [ -z "${WAYMARK_SECRET_KEY:-}" ] && [ ! -s "$WAYMARK_VAR/secret.key" ]; then
    (umask 077 && openssl rand -base64 32 > "$WAYMARK_VAR/secret.key")
  fi
  [ "$WAYMARK_INSTANCE" = run ] && first_owner
  return 0
}

# The first owner account: made once, its password kept in var/owner.txt (mode 600).
first_owner() {
  local file=$WAYMARK_VAR/owner.txt
  [ -f "$file" ] && return 0
  local email=${WAYMARK_OWNER_EMAIL:-owner@waymark.local} password
  password=$(openssl rand -base64 18 | tr -d '/+=' | cut -c1-20)
  (cd "$WAYMARK_ROOT" && "$WAYMARK_BIN" user create --email "$email" --password "$password" --role owner >/dev/null)
  umask 077
  printf 'email: %s\npassword: %s\n' "$email" "$password" > "$file"
}

# supervise NAME CMD…: runs CMD, restarting it a second after it dies, until told to stop.
supervise() {
  local name=$1; shift
  (
    child=""
    stopping=0
    trap 'stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT
    while [ "$stopping" = 0 ]; do
      (cd "$WAYMARK_ROOT" && exec "$@") >> "$LOG/$name.log" 2>&1 &
      child=$!
      echo "$child" > "$RUN/$name.pid"
      wait "$child" || true
      [ "$stopping" = 1 ] && break
      echo "$(date -u +%FT%TZ) supervisor: $name exited, restarting in 1s" >> "$LOG/$name.log"
      sleep 1
    done
    # Let the child drain (in-flight requests, the last batch) before the supervisor ends.
    while kill -0 "$child" 2>/dev/null; do sleep 0.1; done
    rm -f "$RUN/$name.pid"
  ) &
  echo $! > "$RUN/$name.supervisor.pid"
}

wait_healthy() {
  for _ in $(seq 1 150); do
    if curl -fsS --cacert "$WAYMARK_VAR/tls/cert.pem" "https://localhost:$WAYMARK_HTTPS_PORT/healthz" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  log "Waymark did not become healthy; see $LOG"
  return 1
}

# Every supervised process of this instance (however many responders and workers it had).
supervised() {
  local f
  for f in "$RUN"/*.supervisor.pid; do [ -e "$f" ] && basename "$f" .supervisor.pid; done
  return 0
}

stop_all() {
  trap - INT TERM EXIT
  local names; names=$(supervised)
  for name in $names; do
    [ -f "$RUN/$name.supervisor.pid" ] && kill -TERM "$(cat "$RUN/$name.supervisor.pid")" 2>/dev/null || true
  done
  for name in $names; do
    local pid
    pid=$(cat "$RUN/$name.supervisor.pid" 2>/dev/null || true)
    if [ -n "$pid" ]; then
      for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$RUN/$name.supervisor.pid"
  done
  "$WAYMARK_ROOT/scripts/nginx.sh" stop || true
  if [ -f "$RUN/ha" ]; then
    "$WAYMARK_ROOT/scripts/ha.sh" down || true
    rm -f "$RUN/ha"
  elif [ "$EMBEDDED_PG" = 1 ]; then
    "$WAYMARK_ROOT/scripts/postgres.sh" stop || true
  fi
  rm -f "$RUN/stack.pid"
  log "stopped"
}

banner() {
  log "Waymark is up: https://localhost:$WAYMARK_HTTPS_PORT/ (tracking also on http://localhost:$WAYMARK_HTTP_PORT/c/…)"
  if [ -f "$WAYMARK_VAR/owner.txt" ]; then
    # The password goes to a terminal only, never into a log (`up` writes `run`'s output to stack.log).
    if [ -t 2 ]; then
      log "first owner: $(sed -n 's/^email: //p' "$WAYMARK_VAR/owner.txt")  password: $(sed -n 's/^password: //p' "$WAYMARK_VAR/owner.txt")"
    else
      log "first owner: $(sed -n 's/^email: //p' "$WAYMARK_VAR/owner.txt")  (password in $WAYMARK_VAR/owner.txt)"
    fi
  fi
  log "logs in $LOG; the certificate is self-signed ($WAYMARK_VAR/tls/cert.pem)"
}

is_up() { [ -f "$RUN/stack.pid" ] && kill -0 "$(cat "$RUN/stack.pid")" 2>/dev/null; }

run() {
  if is_up; then
    log "already running (pid $(cat "$RUN/stack.pid")); 'make down' stops it"
    exit 1
  fi
  setup
  echo $$ > "$RUN/stack.pid"
  trap 'stop_all; exit 0' INT TERM
  trap stop_all EXIT
  if [ "${WAYMARK_FAKE_PROVIDERS:-0}" = 1 ]; then
    supervise fakes python3 "$WAYMARK_ROOT/Tests/Fakes/fakes.py" --google "${WAYMARK_FAKE_GOOGLE##*:}" --meta "${WAYMARK_FAKE_META##*:}" \
      --tiktok "${WAYMARK_FAKE_TIKTOK##*:}" --ga4 "${WAYMARK_FAKE_GA4##*:}"
    for _ in $(seq 1 100); do curl -fs "$WAYMARK_FAKE_GA4/__fake/requests" >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  local i
  for i in $(seq 1 "${WAYMARK_RESPONDERS:-1}"); do
    mkdir -p "$(responder_spool "$i")"
    # Two malloc arenas, not glibc's 8 per core for 160 threads (most of the responder's
    # memory); each thread's tcache keeps small allocations off the arena locks.
    supervise "$(responder_name "$i")" env WAYMARK_SOCKET="$(responder_socket "$i")" WAYMARK_SPOOL="$(responder_spool "$i")" \
      MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}" "$WAYMARK_BIN" serve
  done
  for i in $(seq 1 "${WAYMARK_WORKERS:-1}"); do
    if [ "$i" = 1 ]; then supervise worker "$WAYMARK_BIN" worker; else supervise "worker-$i" "$WAYMARK_BIN" worker; fi
  done
  "$WAYMARK_ROOT/scripts/nginx.sh" start
  wait_healthy
  banner
  echo ready > "$RUN/stack.ready"
  # Stay in the foreground until a signal arrives.
  while true; do sleep 1 & wait $! || true; done
}

up() {
  if is_up; then
    wait_healthy && { banner; return 0; }
  fi
  mkdir -p "$RUN" "$LOG"
  rm -f "$RUN/stack.ready"
  setsid "$0" run >> "$LOG/stack.log" 2>&1 < /dev/null &
  for _ in $(seq 1 600); do
    [ -f "$RUN/stack.ready" ] && { banner; return 0; }
    kill -0 $! 2>/dev/null || { log "the stack failed to start:"; tail -n 20 "$LOG/stack.log" >&2; return 1; }
    sleep 0.2
  done
  log "timed out waiting for the stack; see $LOG/stack.log"
  return 1
}

down() {
  if is_up; then
    local pid; pid=$(cat "$RUN/stack.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  # Whatever is left (a stack that died without cleaning up).
  stop_all >/dev/null 2>&1 || true
}

case "${1:-}" in
  run) run ;;
  up) up ;;
  down) down ;;
  status) is_up && echo "running (pid $(cat "$RUN/stack.pid"))" || echo "stopped" ;;
  *) echo "usage: $0 run|up|down|status" >&2; exit 2 ;;
esac
