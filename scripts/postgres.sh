#!/usr/bin/env bash
# The embedded PostgreSQL cluster under $WAYMARK_VAR/postgres: init | start | stop | status.
# WAL archiving to pgBackRest (docs/backups.md) is set up at init and, for a cluster made before
# it, on the next start; `scripts/backup.sh` takes the backups.
set -euo pipefail
source "$(dirname "$0")/env.sh"

# The responder, the worker and the tools reach the cluster on a Unix socket (TCP loopback cost
# PostgreSQL a tenth of its CPU in the postback benchmark); TCP on 127.0.0.1 stays open. A path
# too long for a socket address (107 bytes) keeps TCP alone.
PG_SOCKET="$PG_ROOT/socket"
socket_fits() { [ ${#PG_SOCKET} -le 90 ]; }
socket_up() { [ -S "$PG_SOCKET/.s.PGSQL.$WAYMARK_PG_PORT" ]; }

# pgBackRest: one stanza (`waymark`) per instance, its configuration in $WAYMARK_VAR/pgbackrest
# (pgbackrest.conf, written once and then the operator's; conf.d/*.conf added to it), the
# repository in $WAYMARK_VAR/backup unless pgbackrest.conf says otherwise.
# WAYMARK_WAL_ARCHIVE=on|off: on by default, off for the bench instance (it measures the click
# path alone; docs/backups.md).
PGBR_DIR=$WAYMARK_VAR/pgbackrest
PGBR_CONF=$PGBR_DIR/pgbackrest.conf
PGBR_REPO=$WAYMARK_VAR/backup
PGBR_STANZA=waymark
ARCHIVE_CONF=$PG_DATA/waymark-archive.conf
archive_wanted() {
  local want=${WAYMARK_WAL_ARCHIVE:-}
  [ -z "$want" ] && { [ "$WAYMARK_INSTANCE" = bench ] && want=off || want=on; }
  case "$want" in
    on) ;;
    off) return 1 ;;
    *) log "WAYMARK_WAL_ARCHIVE must be on or off (is '$want')"; exit 2 ;;
  esac
  if ! command -v pgbackrest >/dev/null; then
    log "warning: pgbackrest is not installed (scripts/deps.sh installs it): WAL archiving stays off"
    return 1
  fi
}
# pgbackrest as the cluster's owner, with this instance's configuration and the superuser's
# password (PGPASSFILE); over TCP when the cluster has no socket.
pgbr() {
  local envs=(PGPASSFILE="$PGBR_DIR/pgpass")
  socket_fits || envs+=(PGHOST=127.0.0.1)
  as_pg env "${envs[@]}" pgbackrest --config-path="$PGBR_DIR" --stanza="$PGBR_STANZA" "$@"
}

init() {
  [ -f "$PG_DATA/PG_VERSION" ] && return 0
  log "creating a PostgreSQL cluster in $PG_DATA (port $WAYMARK_PG_PORT)"
  # A repository left by an earlier cluster of this instance belongs to another system id: the
  # new cluster's stanza could not be created over it. It is kept aside, never deleted.
  if [ -d "$PGBR_REPO" ] && [ -n "$(ls -A "$PGBR_REPO" 2>/dev/null)" ]; then
    local aside; aside="$PGBR_REPO.before-$(date -u +%Y%m%dT%H%M%SZ)"
    log "moving the backups of the previous cluster aside to $aside"
    mv "$PGBR_REPO" "$aside"
  fi
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
# A new WAL segment is not first written full of zeros: on a young cluster each 16 MB of WAL
# (about 10 000 clicks) otherwise held every commit for 20-40 ms (make bench's p99).
wal_init_zero = off
CONF
  # WAYMARK_PG_STATEMENTS=1 (make bench's WAYMARK_BENCH_STATEMENTS=1): pg_stat_statements
  # loaded, so a benchmark can say which statements a request's PostgreSQL time goes to.
  if [ "${WAYMARK_PG_STATEMENTS:-0}" = 1 ]; then
    printf "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\npg_stat_statements.track_planning = on\n" >> "$PG_DATA/postgresql.conf"
  fi
  configure_archiving
}

# WAL archiving. The settings are in $PG_DATA/waymark-archive.conf, included from
# postgresql.conf (the include line is appended once, so a cluster made before archiving gets it
# on its next start) and rewritten at every start; ARCHIVE_CHANGED=1 when its content changed.
ARCHIVE_CHANGED=0
configure_archiving() {
  local wanted=off content
  if archive_wanted; then
    wanted=on
    write_pgbackrest_conf
    # archive_command is run by /bin/sh: the paths are double-quoted, and a single quote in them
    # is doubled for postgresql.conf.
    local command q="'"
    command="$(command -v pgbackrest) --config-path=\"$PGBR_DIR\" --stanza=$PGBR_STANZA archive-push %p"
    command=${command//$q/$q$q}
    content="# Written by scripts/postgres.sh at every start (WAYMARK_WAL_ARCHIVE=on): WAL archiving
# to pgBackRest, configured in $PGBR_CONF. See docs/backups.md.
wal_level = replica
archive_mode = on
archive_command = '$command'
# A WAL segment is archived at least once a minute while there is traffic: at most a minute of
# clicks is lost with the machine.
archive_timeout = 60
"
  else
    # Off and never on: nothing to write (the bench cluster stays as it was).
    [ -f "$ARCHIVE_CONF" ] || return 0
    content="# Written by scripts/postgres.sh at every start (WAYMARK_WAL_ARCHIVE=off or no pgbackrest).
archive_mode = off
"
  fi
  if ! grep -q "^include_if_exists = 'waymark-archive.conf'" "$PG_DATA/postgresql.conf"; then
    [ "$wanted" = on ] && log "turning WAL archiving on for the cluster in $PG_DATA (pgBackRest, stanza $PGBR_STANZA)"
    printf "# Waymark's WAL archiving (scripts/postgres.sh)\ninclude_if_exists = 'waymark-archive.conf'\n" |
      as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
    ARCHIVE_CHANGED=1
  fi
  if [ ! -f "$ARCHIVE_CONF" ] || [ "$(cat "$ARCHIVE_CONF")" != "${content%$'\n'}" ]; then
    printf '%s' "$content" | as_pg tee "$ARCHIVE_CONF" >/dev/null
    as_pg chmod 600 "$ARCHIVE_CONF"
    ARCHIVE_CHANGED=1
  fi
  ARCHIVE_WANTED=$wanted
}
ARCHIVE_WANTED=off

# $WAYMARK_VAR/pgbackrest: pgbackrest.conf (written when missing: after that it is the operator's,
# e.g. to put the repository on another disk or in S3; docs/backups.md), conf.d/, the password
# file pgBackRest's libpq uses (rewritten from the superuser password at every start), logs, locks.
write_pgbackrest_conf() {
  local dir
  for dir in "$PGBR_DIR" "$PGBR_DIR/conf.d" "$PGBR_DIR/log" "$PGBR_DIR/lock" "$PGBR_DIR/spool"; do
    mkdir -p "$dir"
  done
  chmod 750 "$PGBR_DIR"
  if [ ! -f "$PGBR_CONF" ]; then
    local socket_line="# pg1-socket-path: none (the socket path is too long; pgBackRest connects over TCP)"
    socket_fits && socket_line="pg1-socket-path=$PG_SOCKET"
    # zstd when this build of pgBackRest has it (Debian's does), else lz4, else gzip.
    local compress=gz libs; libs=$(ldd "$(command -v pgbackrest)" 2>/dev/null || true)
    if [[ "$libs" == *libzstd* ]]; then compress=zst; elif [[ "$libs" == *liblz4* ]]; then compress=lz4; fi
    cat > "$PGBR_CONF" <<CONF
# pgBackRest for Waymark's embedded PostgreSQL, instance $WAYMARK_INSTANCE (docs/backups.md).
# Written once by scripts/postgres.sh; yours to edit from now on (a repository on another disk,
# S3, retention). Files in conf.d/*.conf are added to it (e.g. a second repository, repo2-*).
# Used as: pgbackrest --config-path=$PGBR_DIR --stanza=$PGBR_STANZA …
[global]
repo1-path=$PGBR_REPO
# Two full backups are kept, with their differential and incremental backups and the WAL
# needed to restore any point in time since the older one.
repo1-retention-full=2
compress-type=$compress
compress-level=3
# A backup starts at once (an immediate checkpoint) instead of at the next scheduled one.
start-fast=y
process-max=2
log-path=$PGBR_DIR/log
log-level-file=info
lock-path=$PGBR_DIR/lock
spool-path=$PGBR_DIR/spool

[$PGBR_STANZA]
pg1-path=$PG_DATA
pg1-port=$WAYMARK_PG_PORT
pg1-user=postgres
$socket_line
CONF
  fi
  # It may come to hold repository credentials (S3 keys, a cipher passphrase).
  chmod 640 "$PGBR_CONF"
  # libpq's password file for the superuser (pgBackRest has no password option).
  (umask 077; printf '*:%s:*:postgres:%s\n' "$WAYMARK_PG_PORT" "$(cat "$PG_ROOT/superuser.password")" > "$PGBR_DIR/pgpass")
  mkdir -p "$PGBR_REPO"
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres:postgres "$PGBR_DIR"
    chown postgres:postgres "$PGBR_REPO"
  fi
}

# The stanza (the repository's record of this cluster), made once; cheap when it exists.
# A failure is reported, not fatal: the stack still starts, and `scripts/backup.sh check` says why.
ensure_stanza() {
  [ "$ARCHIVE_WANTED" = on ] || return 0
  # Already there in a repository on a local disk: nothing to do (stanza-create takes ~0.6 s).
  local repo; repo=$(sed -n 's/^repo1-path=//p' "$PGBR_CONF" | tail -n 1)
  if [ -n "$repo" ] && ! cat "$PGBR_CONF" "$PGBR_DIR"/conf.d/*.conf 2>/dev/null | grep -Eq '^repo1-type=[^p]' &&
    as_pg test -f "$repo/archive/$PGBR_STANZA/archive.info" && as_pg test -f "$repo/backup/$PGBR_STANZA/backup.info"; then
    return 0
  fi
  # A cluster still replaying a restored backup has its stanza already.
  [ "$(super_psql -c "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ] || return 0
  local out
  if ! out=$(pgbr --log-level-console=error stanza-create 2>&1); then
    log "warning: pgBackRest could not create the stanza '$PGBR_STANZA' (WAL archiving will fail until it can):"
    printf '%s\n' "$out" >&2
  fi
}

# `make run` says so while the archive has no backup to make it useful (and to expire it).
backup_hint() {
  [ "$ARCHIVE_WANTED" = on ] && [ "$WAYMARK_INSTANCE" = run ] || return 0
  local repo; repo=$(sed -n 's/^repo1-path=//p' "$PGBR_CONF" | tail -n 1)
  [ -n "$repo" ] && [ -d "$repo/backup/$PGBR_STANZA" ] || return 0
  local full
  for full in "$repo/backup/$PGBR_STANZA"/[0-9]*F; do [ -d "$full" ] && return 0; done
  log "no backup yet: WAL is archived to $repo, but only a backup makes it restorable (and lets old WAL expire): make backup (docs/backups.md)"
}

super_psql() {
  PGCONNECT_TIMEOUT=5 PGPASSWORD=$(cat "$PG_ROOT/superuser.password") "$PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$WAYMARK_PG_PORT" \
    -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

running() { as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

start() {
  init
  configure_archiving
  if running; then
    # Started before (a stack that died and left it running): a changed archive setting is
    # reloaded, and archive_mode, which only a restart applies, restarts it.
    if [ "$ARCHIVE_CHANGED" = 1 ]; then
      as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" reload >/dev/null
    fi
    bootstrap
    local mode; mode=$(super_psql -c "SHOW archive_mode" 2>/dev/null || true)
    if [ -n "$mode" ] && [ "$mode" != "$ARCHIVE_WANTED" ]; then
      log "restarting PostgreSQL so that archive_mode = $ARCHIVE_WANTED applies (it is $mode)"
      as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_ROOT/server.log" -m fast -w -t 60 restart >/dev/null
    fi
    ensure_stanza
    backup_hint
    return 0
  fi
  local options=() recovering=0
  if socket_fits; then
    mkdir -p "$PG_SOCKET"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_SOCKET"
    options=(-o "-k $PG_SOCKET")
  fi
  # A restored backup (scripts/backup.sh restore --in-place) replays WAL first: pg_ctl waits
  # until it is consistent (read-only), then wait_for_recovery until it is open for writes.
  local timeout=60
  [ -f "$PG_DATA/recovery.signal" ] && recovering=1 && timeout=86400
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_ROOT/server.log" -w -t "$timeout" "${options[@]}" start >/dev/null
  [ "$recovering" = 1 ] && wait_for_recovery
  bootstrap
  ensure_stanza
  backup_hint
}

# Waits until a restored cluster has replayed its WAL and opened for writes (it accepts
# read-only connections before): the application must not start against a cluster in recovery.
wait_for_recovery() {
  log "PostgreSQL is replaying the WAL of a restored backup; waiting until it opens for writes"
  local waited=0 state _
  while true; do
    if ! running; then
      log "PostgreSQL stopped during recovery; the end of $PG_ROOT/server.log:"
      tail -n 8 "$PG_ROOT/server.log" >&2
      if grep -q "recovery ended before configured recovery target was reached" <(tail -n 20 "$PG_ROOT/server.log"); then
        log "the archived WAL ends before the recovery time: restore again with an earlier --time (scripts/backup.sh list shows the window), or without --time"
      fi
      exit 1
    fi
    # PostgreSQL removes recovery.signal when the replay ends; it is open for writes just after.
    if ! as_pg test -f "$PG_DATA/recovery.signal"; then
      for _ in $(seq 1 40); do
        state=$(super_psql -c "SELECT pg_is_in_recovery()" 2>/dev/null || true)
        [ "$state" = f ] && break
        sleep 0.25
      done
      log "recovery done: PostgreSQL is open for writes"
      return 0
    fi
    sleep 0.5
    waited=$((waited + 1))
    [ $((waited % 20)) = 0 ] && log "still replaying WAL ($((waited / 2)) s; see $PG_ROOT/server.log)"
  done
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
  # With archiving on, the WAL segment in progress is closed first, so that the archiver pushes
  # it while the cluster shuts down: after a clean stop, every commit is in the archive.
  if [ -f "$ARCHIVE_CONF" ] && grep -q '^archive_mode = on' "$ARCHIVE_CONF"; then
    super_psql -c "SELECT pg_switch_wal() WHERE NOT pg_is_in_recovery() AND current_setting('archive_mode') = 'on'" >/dev/null 2>&1 || true
  fi
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
  # pgbackrest ARGS…: pgBackRest for this instance's stanza (scripts/backup.sh uses it).
  pgbackrest) shift; pgbr "$@" ;;
  *) echo "usage: $0 init|start|stop|status|reset|pgbackrest ARGS…" >&2; exit 2 ;;
esac
