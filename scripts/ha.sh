#!/usr/bin/env bash
# A high-availability PostgreSQL for Waymark on loopback (issue 21, docs/ha.md): one etcd and two
# Patroni-managed PostgreSQL nodes (node1, node2) with synchronous streaming replication, all
# under $WAYMARK_VAR/ha and run as the postgres OS user.
#   up              starts whatever is not running, waits for a leader and a streaming synchronous
#                   standby, makes the waymark role and database once, writes database.url
#                   (read-write) and reports.url (prefer-standby); already up: prints them
#   down            stops both nodes (the standby first) and etcd; the data stays
#   status          the cluster table (patronictl list), or "down"
#   primary         the leader's PostgreSQL port
#   kill-primary    kill -9 of the leader's postmaster (a crash, to try failover); prints its port
#   wait-primary [SECONDS]  waits (60 s by default) until the read-write URL takes writes; prints
#                   the port it reached
#   clean           down, then deletes $WAYMARK_VAR/ha
# Ports from $WAYMARK_PG_PORT (P): PostgreSQL P+100 (node1) and P+101 (node2), Patroni's REST API
# P+102 and P+103, etcd client P+104 and peer P+105. WAYMARK_HA_TIMEOUT: how long `up` waits (60 s).
set -euo pipefail
source "$(dirname "$0")/env.sh"

HA=$WAYMARK_VAR/ha
RUN=$HA/run
LOGS=$HA/log
ETCD_PORT=$((WAYMARK_PG_PORT + 104))
ETCD_PEER_PORT=$((WAYMARK_PG_PORT + 105))
HA_TIMEOUT=${WAYMARK_HA_TIMEOUT:-60}
pg_port() { echo $((WAYMARK_PG_PORT + 99 + $1)); }
api_port() { echo $((WAYMARK_PG_PORT + 101 + $1)); }

# Debian's Patroni and etcd, installed when missing (quietly, as scripts/deps.sh does). Patroni
# talks to etcd's v3 API with its own client, which still needs the python-etcd module.
ensure_packages() {
  local packages=(patroni etcd-server etcd-client python3-etcd) missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  local out
  if ! out=$($sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq 2>&1 &&
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" 2>&1); then
    printf '%s\n' "$out" >&2
    log "could not install ${missing[*]}"
    exit 1
  fi
  # Debian starts the packaged etcd (port 2379); Waymark runs its own.
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now etcd >/dev/null 2>&1 || true
    $sudo systemctl disable --now patroni >/dev/null 2>&1 || true
  else
    $sudo service etcd stop >/dev/null 2>&1 || true
  fi
}

# A password kept in $HA/NAME.password (mode 600), made once.
secret() {
  local file=$HA/$1.password
  [ -s "$file" ] || (umask 077 && openssl rand -hex 24 > "$file")
  cat "$file"
}

# The pid of a process started by spawn, if it still runs (and is still ours).
pid_of() {
  local file=$RUN/$1.pid pid
  [ -f "$file" ] || return 1
  pid=$(cat "$file" 2>/dev/null || true)
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF "$HA/" || return 1
  echo "$pid"
}
running() { pid_of "$1" >/dev/null; }

# spawn NAME CMD…: CMD in the background, in its own session, as the postgres user, in $HA; its
# pid in $RUN/NAME.pid (the shell writes its own pid, then becomes CMD), its output in $LOGS/NAME.log.
spawn() {
  local name=$1; shift
  local runner=()
  [ "$(id -u)" = 0 ] && runner=(runuser -u postgres --)
  rm -f "$RUN/$name.pid"
  # shellcheck disable=SC2016 # expanded by the inner sh
  (cd "$HA" && setsid "${runner[@]}" sh -c 'echo $$ > "$1"; log=$2; shift 2; exec "$@" >> "$log" 2>&1' \
    sh "$RUN/$name.pid" "$LOGS/$name.log" "$@" < /dev/null > /dev/null 2>&1 &)
  local _
  for _ in $(seq 1 50); do running "$name" && return 0; sleep 0.1; done
  log "$name did not start; the end of $LOGS/$name.log:"
  tail -n 20 "$LOGS/$name.log" >&2 || true
  return 1
}

# Patroni's configuration of node N, rewritten at every `up` (a running node reads it again on
# `patronictl reload`). bootstrap.dcs applies once, when the cluster is made: after that the
# cluster-wide settings are kept in etcd (`patronictl -c $HA/node1.yml edit-config` changes them).
write_node_config() {
  local n=$1 superpw=$2 replpw=$3 apipw=$4
  local file=$HA/node$n.yml
  (umask 077 && cat > "$file.new" <<YAML
# Patroni for Waymark's loopback HA cluster, node$n. Written by scripts/ha.sh (docs/ha.md).
scope: waymark
namespace: /waymark/
name: node$n
log:
  level: INFO
restapi:
  listen: 127.0.0.1:$(api_port "$n")
  connect_address: 127.0.0.1:$(api_port "$n")
  # For the unsafe endpoints (switchover, restart, reinitialize); GET /cluster needs none.
  authentication:
    username: patroni
    password: '$apipw'
etcd3:
  hosts: 127.0.0.1:$ETCD_PORT
watchdog:
  mode: off
bootstrap:
  dcs:
    # Fast failover on loopback: a leader whose Patroni stops renewing its key (host or Patroni
    # gone) loses it after ttl seconds; Patroni checks every loop_wait seconds and retries etcd
    # and PostgreSQL for retry_timeout seconds (loop_wait + 2 × retry_timeout <= ttl).
    ttl: 11
    loop_wait: 1
    retry_timeout: 5
    # A crashed primary (its postmaster died, Patroni still alive) is failed over to the
    # synchronous standby at once instead of being crash-recovered in place (300 s by default);
    # Patroni then rewinds it and starts it again as a replica of the new leader.
    primary_start_timeout: 0
    maximum_lag_on_failover: 1048576
    # Synchronous replication: a commit returns to the application only once the standby has
    # flushed its WAL, and only that synchronous standby may be promoted, so a failover loses no
    # click the application was told was stored. Not strict: when the standby is gone, Patroni
    # turns synchronous replication off and the lone primary keeps taking writes.
    synchronous_mode: true
    synchronous_mode_strict: false
    synchronous_node_count: 1
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        max_connections: 300
        shared_buffers: 256MB
        wal_level: replica
        hot_standby: 'on'
        wal_log_hints: 'on'
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 256MB
        fsync: 'on'
        synchronous_commit: 'on'
        # As the embedded cluster: new WAL segments not zero-filled first (commits stalled on it).
        wal_init_zero: 'off'
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
    - data-checksums
    - auth-local: scram-sha-256
    - auth-host: scram-sha-256
postgresql:
  listen: 127.0.0.1:$(pg_port "$n")
  connect_address: 127.0.0.1:$(pg_port "$n")
  data_dir: $HA/node$n/data
  bin_dir: $PG_BIN
  pgpass: $HA/node$n/pgpass
  authentication:
    superuser:
      username: postgres
      password: '$superpw'
    replication:
      username: replicator
      password: '$replpw'
  parameters:
    # TCP on 127.0.0.1 only, as the embedded cluster without its socket.
    unix_socket_directories: ''
  pg_hba:
    - local all all scram-sha-256
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
  basebackup:
    - checkpoint: fast
YAML
  )
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$file.new"
  mv "$file.new" "$file"
}

etcd_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"'; }

start_etcd() {
  running etcd && return 0
  spawn etcd etcd --name waymark-ha --data-dir "$HA/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "waymark-ha=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state new \
    --initial-cluster-token "waymark-ha-$WAYMARK_PG_PORT" \
    --heartbeat-interval 100 --election-timeout 1000 \
    --auto-compaction-mode periodic --auto-compaction-retention 1h \
    --logger zap --log-outputs stderr --log-level warn
  local _
  for _ in $(seq 1 100); do etcd_healthy && return 0; sleep 0.2; done
  log "etcd did not become healthy on 127.0.0.1:$ETCD_PORT; the end of $LOGS/etcd.log:"
  tail -n 20 "$LOGS/etcd.log" >&2 || true
  return 1
}

# The cluster as Patroni's REST API sees it (from etcd), from whichever node answers.
cluster_json() {
  local n
  for n in 1 2; do
    curl -fsS --max-time 2 "http://127.0.0.1:$(api_port "$n")/cluster" 2>/dev/null && return 0
  done
  return 1
}
# member ROLE FIELD: a running member's name or port by its role (leader, sync_standby).
member() {
  local json; json=$(cluster_json) || return 1
  python3 -c '
import json, sys
for m in json.loads(sys.argv[1]).get("members", []):
    if m.get("role") == sys.argv[2] and m.get("state") == "running":
        print(m.get(sys.argv[3], "")); sys.exit(0)
sys.exit(1)' "$json" "$1" "$2"
}
leader() { member leader "$1"; }

# The superuser on one node, over TCP (the password from the environment, not the command line).
super_psql() {
  local port=$1; shift
  PGCONNECT_TIMEOUT=3 PGPASSWORD=$(cat "$HA/superuser.password") "$PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$port" \
    -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

# Waits until a leader takes writes and a synchronous standby is streaming from it, and Patroni
# has recorded that standby in etcd (from then on it may be promoted).
wait_ready() {
  local deadline=$((SECONDS + HA_TIMEOUT)) port
  while [ "$SECONDS" -lt "$deadline" ]; do
    if port=$(leader port) && [ "$(super_psql "$port" -c "SELECT NOT pg_is_in_recovery()" 2>/dev/null)" = t ] &&
      [[ "$(super_psql "$port" -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND sync_state = 'sync'" 2>/dev/null)" =~ ^[1-9] ]] &&
      member sync_standby name >/dev/null; then
      return 0
    fi
    sleep 0.5
  done
  log "no leader with a streaming synchronous standby after $HA_TIMEOUT s; logs in $LOGS"
  local name
  for name in node1 node2; do
    log "the end of $LOGS/$name.log:"
    tail -n 10 "$LOGS/$name.log" >&2 || true
  done
  return 1
}

urlencode() {
  local LC_ALL=C s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in
      [a-zA-Z0-9.~_-]) out+=$c ;;
      *) printf -v c '%%%02X' "'$c"; out+=$c ;;
    esac
  done
  printf '%s' "$out"
}

app_hosts() { echo "127.0.0.1:$(pg_port 1),127.0.0.1:$(pg_port 2)"; }
app_url() { printf 'postgresql://waymark:%s@%s/waymark?target_session_attrs=%s&connect_timeout=2\n' "$1" "$(app_hosts)" "$2"; }
write_urls() {
  local pw; pw=$(urlencode "$1")
  (umask 077 && app_url "$pw" read-write > "$HA/database.url.new" && app_url "$pw" prefer-standby > "$HA/reports.url.new")
  mv "$HA/database.url.new" "$HA/database.url"
  mv "$HA/reports.url.new" "$HA/reports.url"
}
# The application's password, from database.url.
app_password() {
  local url; url=$(cat "$HA/database.url")
  [[ "$url" =~ ^postgresql://waymark:([^@]*)@ ]] || { log "$HA/database.url is not a waymark URL"; return 1; }
  printf '%b' "${BASH_REMATCH[1]//%/\\x}"
}

# The application role and database, as scripts/postgres.sh makes them for the embedded cluster
# (role waymark with a random password kept only in the URL file, database waymark it owns);
# made once, on the leader (the standby gets them by replication).
bootstrap_app() {
  if [ -f "$HA/database.url" ]; then
    write_urls "$(app_password)"
    return 0
  fi
  local port pw; port=$(leader port); pw=$(openssl rand -hex 24)
  # The password goes on psql's standard input, not its command line.
  super_psql "$port" <<SQL
\\set pw '$pw'
SELECT format('%s ROLE waymark LOGIN PASSWORD %L',
  CASE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = 'waymark') THEN 'ALTER' ELSE 'CREATE' END, :'pw') \\gexec
SELECT 'CREATE DATABASE waymark OWNER waymark' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'waymark') \\gexec
SQL
  write_urls "$pw"
}

print_urls() {
  local file
  for file in database.url reports.url; do
    # The password stays in the file (mode 600).
    printf '%-13s %s  %s\n' "$file" "$HA/$file" "$(sed -E 's#^(postgresql://waymark:)[^@]*@#\1****@#' "$HA/$file")"
  done
}

up() {
  ensure_packages
  mkdir -p "$HA" "$RUN" "$LOGS" "$HA/node1" "$HA/node2"
  chmod 700 "$HA/node1" "$HA/node2"
  local superpw replpw apipw
  superpw=$(secret superuser) replpw=$(secret replication) apipw=$(secret restapi)
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$HA" "$RUN" "$LOGS" "$HA/node1" "$HA/node2"
    if ! runuser -u postgres -- test -w "$HA"; then
      log "the postgres user cannot reach $HA: make the checkout's parent folders world-executable (chmod o+x)"
      exit 1
    fi
  fi
  write_node_config 1 "$superpw" "$replpw" "$apipw"
  write_node_config 2 "$superpw" "$replpw" "$apipw"
  start_etcd
  local n started=0
  for n in 1 2; do
    running "node$n" && continue
    [ -f "$HA/node$n/data/PG_VERSION" ] || log "node$n: a new PostgreSQL node on 127.0.0.1:$(pg_port "$n") (first start: initdb or a copy of the leader)"
    spawn "node$n" patroni "$HA/node$n.yml"
    started=1
  done
  [ "$started" = 1 ] && log "waiting (up to $HA_TIMEOUT s) for a leader and a streaming synchronous standby"
  wait_ready
  bootstrap_app
  print_urls
}

# stop NAME SECONDS: SIGTERM, then SIGKILL if it is still there after SECONDS.
stop_proc() {
  local name=$1 timeout=$2 pid _
  pid=$(pid_of "$name") || { rm -f "$RUN/$name.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((timeout * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop in $timeout s: killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$name.pid"
}

# Processes of this HA directory: working in it (PostgreSQL's work in their data directory) or
# naming it on their command line, among the programs this script runs.
ha_pids() {
  local dir pid comm cwd cmd
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [ "$pid" = $$ ] && continue
    read -r comm 2>/dev/null < "$dir/comm" || continue
    case "$comm" in postgres | patroni | etcd | runuser | initdb | pg_* | python3) ;; *) continue ;; esac
    cwd=$(readlink "$dir/cwd" 2>/dev/null || true)
    cmd=$(tr '\0' ' ' < "$dir/cmdline" 2>/dev/null || true)
    if [ "$cwd" = "$HA" ] || [[ "$cwd" == "$HA/"* ]] || [[ "$cmd" == *"$HA/"* ]]; then echo "$pid"; fi
  done
}

down() {
  [ -d "$HA" ] || return 0
  # The standby first, so that stopping the leader last does not fail over to it.
  local first=node1 second=node2 name n pid
  [ "$(leader name 2>/dev/null || true)" = node1 ] && first=node2 second=node1
  for name in "$first" "$second"; do stop_proc "$name" 60; done
  # A PostgreSQL left without its Patroni (Patroni killed) is stopped cleanly.
  for n in 1 2; do
    local data=$HA/node$n/data
    pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
      as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    fi
  done
  stop_proc etcd 30
  # Whatever is left is killed.
  local pids _
  for _ in $(seq 1 50); do
    pids=$(ha_pids)
    [ -z "$pids" ] && return 0
    # shellcheck disable=SC2086 # one pid per word
    kill -KILL $pids 2>/dev/null || true
    sleep 0.2
  done
  log "processes of $HA still running: $(ha_pids | tr '\n' ' ')"
  return 1
}

status() {
  if ! running etcd && ! running node1 && ! running node2; then
    echo down
    return 0
  fi
  local name
  for name in etcd node1 node2; do running "$name" || log "$name is not running"; done
  patronictl -c "$HA/node1.yml" list
}

primary() {
  local port
  port=$(leader port) || { log "no running leader"; return 1; }
  echo "$port"
}

kill_primary() {
  local name port pid data
  name=$(leader name) || { log "no running leader"; return 1; }
  port=$(leader port)
  data=$HA/$name/data
  pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
  if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null; then
    log "the postmaster of $name is not running"
    return 1
  fi
  kill -KILL "$pid"
  log "killed the postmaster of $name (pid $pid, port $port)"
  echo "$port"
}

# wait-primary [SECONDS]: until the read-write URL reaches a primary that commits a write.
wait_primary() {
  local timeout=${1:-60} deadline out
  [[ "$timeout" =~ ^[0-9]+$ ]] || { log "wait-primary SECONDS: not a number: $timeout"; return 2; }
  [ -f "$HA/database.url" ] || { log "no $HA/database.url: run '$0 up' first"; return 1; }
  deadline=$((SECONDS + timeout))
  # The read-write URL's settings as libpq environment variables (no password on a command line).
  local envs=("PGHOST=127.0.0.1,127.0.0.1" PGPORT="$(pg_port 1),$(pg_port 2)" PGUSER=waymark PGDATABASE=waymark
    PGTARGETSESSIONATTRS=read-write PGCONNECT_TIMEOUT=2)
  while true; do
    # A transaction id makes it a write that commits (and waits for the synchronous standby, if any).
    out=$(env "${envs[@]}" PGPASSWORD="$(app_password)" timeout 10 "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 \
      -c "SELECT NOT pg_is_in_recovery(), inet_server_port() FROM pg_current_xact_id()" 2>/dev/null || true)
    if [[ "$out" =~ ^t\|([0-9]+)$ ]]; then
      echo "${BASH_REMATCH[1]}"
      return 0
    fi
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.2
  done
  log "no primary took a write within $timeout s"
  return 1
}

clean() {
  down
  case "$HA" in */ha) ;; *) log "refusing to delete $HA"; exit 1 ;; esac
  rm -rf "$HA"
  log "deleted $HA"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  primary) primary ;;
  kill-primary) kill_primary ;;
  wait-primary) wait_primary "${2:-60}" ;;
  clean) clean ;;
  *) echo "usage: $0 up|down|status|primary|kill-primary|wait-primary [SECONDS]|clean" >&2; exit 2 ;;
esac
