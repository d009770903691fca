#!/usr/bin/env bash
# The embedded PostgreSQL cluster under $WAYMARK_VAR/postgres: init | start | stop | status.
set -euo pipefail
source "$(dirname "$0")/env.sh"

init() {
  [ -f "$PG_DATA/PG_VERSION" ] && return 0
  log "creating a PostgreSQL cluster in $PG_DATA (port $WAYMARK_PG_PORT)"
  mkdir -p "$PG_ROOT"
  umask 077
  local superpw; superpw=$(openssl rand -hex 24)
  printf '%s\n' "$superpw" > "$PG_ROOT/superuser.password"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$PG_ROOT"
  if ! as_pg test -w "$PG_ROOT"; then
    log "the postgres user cannot reach $PG_ROOT: make the checkout's parent folders world-executable (chmod o+x)"
    exit 1
  fi
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 --pwfile="$PG_ROOT/superuser.password" >/dev/null
  cat >> "$PG_DATA/postgresql.conf" <<CONF
# Waymark's embedded cluster
port = $WAYMARK_PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 300
shared_buffers = 256MB
fsync = on
synchronous_commit = on
CONF
}

# The responder, the worker and the tools reach the cluster on a Unix socket (TCP loopback cost
# PostgreSQL a tenth of its CPU in the postback benchmark); TCP on 127.0.0.1 stays open. A path
# too long for a socket address (107 bytes) keeps TCP alone.
PG_SOCKET="$PG_ROOT/socket"
socket_fits() { [ ${#PG_SOCKET} -le 90 ]; }
socket_up() { [ -S "$PG_SOCKET/.s.PGSQL.$WAYMARK_PG_PORT" ]; }

start() {
  init
  if as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then bootstrap; return 0; fi
  local options=()
  if socket_fits; then
    mkdir -p "$PG_SOCKET"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_SOCKET"
    options=(-o "-k $PG_SOCKET")
  fi
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_ROOT/server.log" -w -t 60 "${options[@]}" start >/dev/null
  bootstrap
}

database_url() {
  if socket_up; then
    printf 'postgresql://waymark:%s@/waymark?host=%s&port=%s&connect_timeout=3\n' "$1" "$PG_SOCKET" "$WAYMARK_PG_PORT"
  else
    printf 'postgresql://waymark:%s@127.0.0.1:%s/waymark?connect_timeout=3\n' "$1" "$WAYMARK_PG_PORT"
  fi
}

# The application role and database, created once; their URL goes to $WAYMARK_VAR/database.url.
bootstrap() {
  if [ -f "$WAYMARK_VAR/database.url" ]; then
    # An instance made before the socket: the same role and password, over the socket.
    local old; old=$(cat "$WAYMARK_VAR/database.url")
    if socket_up && [[ "$old" =~ ^postgresql://waymark:([0-9a-f]+)@127\.0\.0\.1: ]]; then
      (umask 077; database_url "${BASH_REMATCH[1]}" > "$WAYMARK_VAR/database.url")
    fi
    return 0
  fi
  local superpw pw
  superpw=$(cat "$PG_ROOT/superuser.password")
  pw=$(openssl rand -hex 24)
  export PGPASSWORD=$superpw
  local psql=("$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$WAYMARK_PG_PORT" -U postgres -v ON_ERROR_STOP=1)
  "${psql[@]}" -d postgres -v pw="$pw" <<'SQL'
SELECT format('CREATE ROLE waymark LOGIN PASSWORD %L', :'pw') \gexec
CREATE DATABASE waymark OWNER waymark;
SQL
  unset PGPASSWORD
  umask 077
  database_url "$pw" > "$WAYMARK_VAR/database.url"
}

stop() {
  [ -f "$PG_DATA/PG_VERSION" ] || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1 || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null
}

status() { as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status; }

# Drops and re-creates the application database (tests only).
reset() {
  export PGPASSWORD; PGPASSWORD=$(cat "$PG_ROOT/superuser.password")
  "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$WAYMARK_PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS waymark WITH (FORCE)" -c "CREATE DATABASE waymark OWNER waymark"
}

case "${1:-}" in
  init) init ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  reset) reset ;;
  *) echo "usage: $0 init|start|stop|status|reset" >&2; exit 2 ;;
esac
