#!/usr/bin/env bash
# Backups of the embedded PostgreSQL cluster with pgBackRest (docs/backups.md). WAL archiving is
# set up by scripts/postgres.sh; this script takes, lists, checks and restores the backups of
# one instance (WAYMARK_INSTANCE, as everywhere: `make backup` is the run instance).
#   backup [--type full|diff|incr]    default: full when the repository has none (or its newest
#                                      full is older than WAYMARK_BACKUP_FULL_DAYS, 7), else incr
#   info                               pgBackRest's summary of the stanza
#   list                               one line per backup, and the window point-in-time recovery covers
#   check                              archiving works now (a WAL segment pushed and found), the
#                                      repository verifies (checksums), and a backup exists
#   restore --target DIR [--time T] [--set LABEL]
#                                      a copy of the cluster in a new, empty DIR (never the live one),
#                                      with WAL archiving off; start it on a spare port to look at it
#   restore --in-place [--time T] [--set LABEL]
#                                      the instance's own data directory, with PostgreSQL stopped:
#                                      over the old files (--delta), or into an empty/missing one
# T is 'YYYY-MM-DD HH:MM:SS+00' (any UTC offset): point-in-time recovery replays WAL up to T
# and promotes (--type=time --target-action=promote); without it, up to the last archived WAL.
set -euo pipefail
source "$(dirname "$0")/env.sh"
PGBR_DIR=$WAYMARK_VAR/pgbackrest
STANZA=waymark

say() { printf 'backup: %s\n' "$*"; }
fail() { printf 'backup: %s\n' "$*" >&2; exit 1; }
usage() {
  echo "usage: scripts/backup.sh COMMAND (instance: WAYMARK_INSTANCE, now $WAYMARK_INSTANCE)" >&2
  sed -n '5,18p' "$0" | sed 's/^#//' >&2
  exit 2
}
pgbr() { "$WAYMARK_ROOT/scripts/postgres.sh" pgbackrest "$@"; }
pg_running() { [ -f "$PG_DATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }
super_psql() {
  PGCONNECT_TIMEOUT=5 PGPASSWORD=$(cat "$PG_ROOT/superuser.password") "$PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$WAYMARK_PG_PORT" \
    -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

# Every command: the embedded cluster of this instance, pgBackRest installed and configured.
require_setup() {
  [ "$EMBEDDED_PG" = 1 ] || fail "WAYMARK_DATABASE_URL points at an external database: back it up where it runs (this script backs up the embedded cluster in $PG_DATA)"
  command -v pgbackrest >/dev/null || fail "pgbackrest is not installed: apt-get install pgbackrest (scripts/deps.sh installs it)"
  [ -f "$PGBR_DIR/pgbackrest.conf" ] || fail "WAL archiving is not set up for the $WAYMARK_INSTANCE instance ($PGBR_DIR/pgbackrest.conf is missing): start Waymark once with pgbackrest installed (make up, or scripts/stack.sh up), and not with WAYMARK_WAL_ARCHIVE=off"
}
# backup and check: the cluster up and archiving.
require_archiving() {
  pg_running || fail "PostgreSQL of the $WAYMARK_INSTANCE instance is not running ($PG_DATA): start Waymark first (make up, or scripts/stack.sh up)"
  local mode; mode=$(super_psql -c "SHOW archive_mode") || fail "cannot connect to PostgreSQL on port $WAYMARK_PG_PORT"
  [ "$mode" = on ] || fail "archive_mode is $mode on the $WAYMARK_INSTANCE instance: restart Waymark (make down, make up) so that scripts/postgres.sh turns WAL archiving on (WAYMARK_WAL_ARCHIVE must not be off)"
  # The stanza is made when PostgreSQL starts; again here in case that failed (a no-op otherwise).
  pgbr --log-level-console=error stanza-create >/dev/null || fail "pgBackRest cannot create the stanza '$STANZA' (see above)"
}

info_json() { pgbr --log-level-console=error info --output=json; }

# A question about `pgbackrest info --output=json` (in INFO), answered by Python:
#   count                  the number of backups
#   auto-type DAYS         the type a backup without --type gets
#   newest                 the newest backup: label, type, sizes
#   list                   the table of backups and the recovery window
#   covers T               exit 0 when a backup ended at or before T (else the message why not)
#   wal-dir                the repository path of the newest archived WAL segment, for its time
info_py() {
  INFO=$1 python3 - "${@:2}" <<'PY'
import datetime as dt, json, os, sys, time
stanzas = json.loads(os.environ["INFO"] or "[]")
st = stanzas[0] if stanzas else {}
backups = st.get("backup", [])
what = sys.argv[1]

def utc(seconds):
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S+00")

def size(n):
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0

if what == "count":
    print(len(backups))
elif what == "auto-type":
    # full when there is none, or when the newest full is older than FULL_DAYS (0: never by
    # age), else incr: a daily `make backup` renews its full weekly, so retention can expire.
    fulls = [b for b in backups if b["type"] == "full"]
    days = float(sys.argv[2])
    old = fulls and days > 0 and time.time() - fulls[-1]["timestamp"]["stop"] > days * 86400
    print("full" if not fulls or old else "incr")
elif what == "newest":
    b = backups[-1]
    took = b["timestamp"]["stop"] - b["timestamp"]["start"]
    print("%s (%s), database %s, stored %s (this backup's new files %s), %d s, WAL %s to %s" % (
        b["label"], b["type"], size(b["info"]["size"]), size(b["info"]["repository"]["size"]),
        size(b["info"]["repository"]["delta"]), took, b["archive"]["start"], b["archive"]["stop"]))
elif what == "list":
    if not backups:
        print("no backups yet in stanza %s (scripts/backup.sh backup takes one)" % st.get("name", "waymark"))
        sys.exit(0)
    fmt = "%-34s %-4s  %-22s  %-22s  %9s  %11s  %s"
    print(fmt % ("label", "type", "started", "finished", "database", "new in repo", "based on"))
    for b in backups:
        print(fmt % (b["label"], b["type"], utc(b["timestamp"]["start"]), utc(b["timestamp"]["stop"]),
                     size(b["info"]["size"]), size(b["info"]["repository"]["delta"]), b.get("prior") or "-"))
    archive = [a for a in st.get("archive", []) if a.get("max")]
    newest = archive[-1]["max"] if archive else "none"
    print("point-in-time recovery: from %s (the end of the oldest backup) to the newest archived WAL segment %s%s" % (
        utc(backups[0]["timestamp"]["stop"]), newest, (", archived " + sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else ""))
elif what == "covers":
    text = sys.argv[2].strip()
    # PostgreSQL's form with a two-digit offset ('+00') becomes ISO's ('+00:00').
    if len(text) >= 3 and text[-3] in "+-" and text[-2:].isdigit():
        text += ":00"
    try:
        target = dt.datetime.fromisoformat(text)
    except ValueError:
        print("cannot read the time %r: give it as 'YYYY-MM-DD HH:MM:SS+00'" % sys.argv[2])
        sys.exit(1)
    if target.tzinfo is None:
        print("give the time with its UTC offset, e.g. '%s+00'" % sys.argv[2])
        sys.exit(1)
    if not backups:
        print("no backups yet")
        sys.exit(1)
    first = backups[0]["timestamp"]["stop"]
    if target.timestamp() < first:
        print("no backup ended before %s: the oldest (%s) ended at %s" % (sys.argv[2], backups[0]["label"], utc(first)))
        sys.exit(1)
elif what == "wal-dir":
    archive = [a for a in st.get("archive", []) if a.get("max")]
    if archive:
        print("archive/%s/%s/%s" % (st["name"], archive[-1]["id"], archive[-1]["max"][:16]), archive[-1]["max"])
PY
}

backup() {
  local type=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --type) [ $# -ge 2 ] || usage; type=$2; shift 2 ;;
      --type=*) type=${1#--type=}; shift ;;
      *) usage ;;
    esac
  done
  case "$type" in ""|full|diff|incr) ;; *) fail "--type is full, diff or incr (not '$type')" ;; esac
  require_setup
  require_archiving
  local json count; json=$(info_json); count=$(info_py "$json" count)
  local full_days=${WAYMARK_BACKUP_FULL_DAYS:-7}
  [[ "$full_days" =~ ^[0-9]+$ ]] || fail "WAYMARK_BACKUP_FULL_DAYS is a number of days (not '$full_days')"
  if [ -z "$type" ]; then
    type=$(info_py "$json" auto-type "$full_days")
  elif [ "$count" = 0 ] && [ "$type" != full ]; then
    say "no backup yet: this first one is full"
    type=full
  fi
  say "taking a $type backup of the $WAYMARK_INSTANCE instance ($PG_DATA, stanza $STANZA)"
  pgbr --log-level-console=warn backup --type="$type" ||
    fail "the backup failed: see above and $PGBR_DIR/log/$STANZA-backup.log"
  say "done: $(info_py "$(info_json)" newest)"
}

info() {
  require_setup
  pgbr --log-level-console=warn info
}

# The time the newest archived WAL segment was stored (from the repository's listing).
newest_wal_time() {
  local where; where=$(info_py "$1" wal-dir)
  [ -n "$where" ] || return 0
  local dir=${where% *} segment=${where#* }
  pgbr --log-level-console=error repo-ls --output=json --filter="^$segment" "$dir" 2>/dev/null | python3 -c '
import datetime as dt, json, sys
entries = json.load(sys.stdin)
times = [e["time"] for e in entries.values() if "time" in e]
if times:
    print(dt.datetime.fromtimestamp(max(times), dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S+00"))' || true
}

list() {
  require_setup
  local json; json=$(info_json)
  info_py "$json" list "$(newest_wal_time "$json")"
}

check() {
  require_setup
  require_archiving
  local out
  # `check`: the configuration matches the cluster, and a WAL segment switched now reaches the
  # repository (it waits for it).
  out=$(pgbr --log-level-console=info check 2>&1) || { printf '%s\n' "$out" >&2; fail "pgBackRest's check failed: WAL archiving does not work (see above, and $PG_ROOT/server.log)"; }
  local segment; segment=$(sed -n 's/.*WAL segment \([0-9A-F]*\) successfully archived.*/\1/p' <<< "$out" | tail -n 1)
  say "archiving works: WAL segment ${segment:-?} was just switched, pushed and found in the repository"
  # `verify`: every file of every backup and every archived WAL segment read back against its checksum.
  # (pgBackRest 2.45's verify exits 0 even when it finds bad files: its report is what says.)
  out=$(pgbr --log-level-console=warn verify --output=text --verbose 2>&1) || { printf '%s\n' "$out" >&2; fail "pgBackRest's verify failed (see above)"; }
  if ! grep -q '^status: ok' <<< "$out" || grep -q 'status: \(error\|invalid\)\|WARN\|ERROR' <<< "$out"; then
    printf '%s\n' "$out" >&2
    fail "pgBackRest's verify found a problem in the repository (see above): take a new full backup (scripts/backup.sh backup --type full) and look at $PGBR_DIR/log"
  fi
  local wal files
  wal=$(awk -F'total WAL checked: ' 'NF > 1 { n += $2 } END { print n + 0 }' <<< "$out")
  files=$(awk -F'total files checked: ' 'NF > 1 { n += $2 } END { print n + 0 }' <<< "$out")
  say "the repository verifies: $files backup file(s) and $wal archived WAL segment(s) match their checksums"
  local json count; json=$(info_json); count=$(info_py "$json" count)
  [ "$count" -gt 0 ] || fail "no backup yet: take one with scripts/backup.sh backup (make backup)"
  say "$count backup(s); the newest: $(info_py "$json" newest)"
}

restore() {
  local target="" in_place=0 time="" set=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --target) [ $# -ge 2 ] || usage; target=$2; shift 2 ;;
      --target=*) target=${1#--target=}; shift ;;
      --in-place) in_place=1; shift ;;
      --time) [ $# -ge 2 ] || usage; time=$2; shift 2 ;;
      --time=*) time=${1#--time=}; shift ;;
      --set) [ $# -ge 2 ] || usage; set=$2; shift 2 ;;
      --set=*) set=${1#--set=}; shift ;;
      *) usage ;;
    esac
  done
  if [ "$in_place" = 1 ] && [ -n "$target" ]; then fail "restore takes --target DIR or --in-place, not both"; fi
  if [ "$in_place" = 0 ] && [ -z "$target" ]; then fail "restore needs --target DIR (a new, empty directory) or --in-place"; fi
  require_setup
  local json; json=$(info_json)
  [ "$(info_py "$json" count)" -gt 0 ] || fail "no backup to restore in stanza $STANZA"
  local options=()
  if [ -n "$time" ]; then
    [[ "$time" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}[\ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([+-][0-9]{2}(:?[0-9]{2})?|Z)?$ ]] ||
      fail "--time is 'YYYY-MM-DD HH:MM:SS+00' (with its UTC offset), not '$time'"
    local why; why=$(info_py "$json" covers "$time") || fail "$why"
    options+=(--type=time "--target=$time" --target-action=promote)
  fi
  [ -n "$set" ] && options+=("--set=$set")
  local dir what
  if [ "$in_place" = 1 ]; then
    dir=$PG_DATA
    pg_running && fail "PostgreSQL of the $WAYMARK_INSTANCE instance is running: stop Waymark first (make down, or scripts/stack.sh down)"
    if [ -f "$PG_DATA/PG_VERSION" ]; then
      options+=(--delta)
      what="over the existing files of $PG_DATA (--delta: only what differs is written)"
    else
      [ -d "$PG_DATA" ] && [ -n "$(ls -A "$PG_DATA")" ] && fail "$PG_DATA is neither a PostgreSQL data directory nor empty: move it aside first"
      what="into $PG_DATA"
    fi
  else
    dir=$(realpath -m -- "$target")
    local live; live=$(realpath -m -- "$PG_DATA")
    case "$dir/" in "$live/"*) fail "$target is the live data directory (or inside it): restore a copy into a new directory, or use --in-place with PostgreSQL stopped" ;; esac
    case "$live/" in "$dir/"*) fail "$target contains the live data directory: give a new, empty directory" ;; esac
    [ -e "$dir" ] && [ ! -d "$dir" ] && fail "$target exists and is not a directory"
    [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] && fail "$target is not empty: give a new, empty directory"
    # The archive of the live cluster is not the copy's to write: it gets archive_mode = off.
    options+=("--pg1-path=$dir" --archive-mode=off)
    what="into $dir (a copy: WAL archiving off)"
  fi
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$dir"
    # On a new machine var/postgres may be new too: PostgreSQL writes its log and socket there.
    [ "$in_place" = 1 ] && chown postgres:postgres "$PG_ROOT"
  fi
  as_pg test -w "$dir" || fail "the PostgreSQL user cannot write $dir (its parent folders must be reachable: chmod o+x)"
  say "restoring ${set:-the latest backup} $what$([ -n "$time" ] && printf ', to the point in time %s' "$time")"
  pgbr --log-level-console=warn restore "${options[@]}" ||
    fail "the restore failed: see above and $PGBR_DIR/log/$STANZA-restore.log"
  local until="the last archived WAL"
  [ -n "$time" ] && until="$time"
  if [ "$in_place" = 1 ]; then
    local prefix=""
    [ "$WAYMARK_INSTANCE" = run ] || prefix="WAYMARK_INSTANCE=$WAYMARK_INSTANCE "
    [ "$WAYMARK_INSTANCE" = test ] && [ "${WAYMARK_TEST_SLOT:-0}" != 0 ] && prefix+="WAYMARK_TEST_SLOT=$WAYMARK_TEST_SLOT "
    say "restored. Start PostgreSQL first; it replays WAL up to $until, then opens for writes (on a new timeline), and this waits for it:"
    say "  ${prefix}scripts/postgres.sh start"
    say "then Waymark (make up, or ${prefix}scripts/stack.sh up), and take a new full backup: ${prefix}scripts/backup.sh backup --type full"
  else
    local runas=""
    [ "$(id -u)" = 0 ] && runas="runuser -u postgres -- "
    say "restored. To look at it, start it on a free port (it replays WAL up to $until, then opens):"
    say "  ${runas}$PG_BIN/pg_ctl -D $dir -l $dir/server.log -o '-p PORT' -w start"
    say "  PGPASSWORD=\$(cat $PG_ROOT/superuser.password) psql -h 127.0.0.1 -p PORT -U postgres waymark"
    say "and stop it: ${runas}$PG_BIN/pg_ctl -D $dir -m fast stop"
  fi
}

[ $# -ge 1 ] || usage
command=$1
shift
case "$command" in
  backup) backup "$@" ;;
  info) [ $# -eq 0 ] || usage; info ;;
  list) [ $# -eq 0 ] || usage; list ;;
  check) [ $# -eq 0 ] || usage; check ;;
  restore) restore "$@" ;;
  -h|--help|help) usage ;;
  *) usage ;;
esac
