#!/usr/bin/env bash
# Backup, restore and point-in-time recovery, for real (docs/backups.md), run by `make test`.
#
# On a test instance of its own (slot 8: var/test-8, so the main test instance is never
# disturbed), brought up here and stopped at the end:
#   phase A clicks and postbacks through nginx → `scripts/backup.sh backup --type full`
#   phase B → `scripts/backup.sh backup` (what `make backup` runs: an incremental one after a
#   recent full)
#   phase B2 → the time T is recorded → phase C, and a phase-A conversion turned `declined`
#   → `scripts/backup.sh check` (a WAL switch, archived and verified)
# then restores with scripts/backup.sh into new data directories started on slot 9's PostgreSQL
# port, one at a time:
#   latest   every click id, every conversion (id, click, key, status) and the postback ledger of
#            the original are there, and nothing else
#   time T   the clicks and conversions before T are there, those after T are not, and the
#            declined conversion is still approved
# Prints one line per check; exits non-zero on any mismatch.
#   WAYMARK_BACKUP_TEST_SLOT (8) and WAYMARK_BACKUP_COPY_SLOT (9) choose the slots;
#   WAYMARK_BACKUP_TEST_CLICKS (50) the clicks per phase.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SLOT=${WAYMARK_BACKUP_TEST_SLOT:-8}
COPY_SLOT=${WAYMARK_BACKUP_COPY_SLOT:-9}
PER_PHASE=${WAYMARK_BACKUP_TEST_CLICKS:-50}
# `make test` exports the main test instance's variables (its database URL, socket, ports):
# none of them may reach this instance.
for name in $(compgen -e); do
  case "$name" in WAYMARK_*|PGHOST|PGPORT|PGUSER|PGPASSWORD|PGDATABASE|PGPASSFILE) unset "$name" ;; esac
done
export WAYMARK_INSTANCE=test WAYMARK_TEST_SLOT=$SLOT
source "$ROOT/scripts/env.sh"
STACK=$ROOT/scripts/stack.sh
BACKUP=$ROOT/scripts/backup.sh
COPY_PORT=$((25433 + COPY_SLOT * 10))
COPIES=$ROOT/var/test-$COPY_SLOT/backup-test
WORK=$(mktemp -d)
started=""

failures=0
check() { # check LABEL COMMAND…: one line, ok or FAIL
  local label=$1; shift
  if "$@"; then printf 'ok    %s\n' "$label"; else printf 'FAIL  %s\n' "$label"; failures=$((failures + 1)); fi
}
die() { printf 'FAIL  %s\n' "$*"; exit 1; }

stop_copy() {
  local dir=$1
  if [ -f "$dir/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$dir" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
cleanup() {
  local rc=$?
  set +e
  for dir in "$COPIES"/*; do [ -d "$dir" ] && stop_copy "$dir"; done
  rm -rf "$COPIES" "$WORK"
  rmdir "$ROOT/var/test-$COPY_SLOT" 2>/dev/null
  [ -n "$started" ] && "$STACK" down >/dev/null 2>&1
  exit "$rc"
}
trap cleanup EXIT
trap "exit 130" INT TERM

# MARK: the instance
"$STACK" down >/dev/null 2>&1 || true
"$STACK" up 2>/dev/null || die "slot $SLOT: the stack did not start (see $WAYMARK_VAR/log/stack.log)"
started=1
DB=$(cat "$WAYMARK_VAR/database.url")
HTTPS=https://localhost:$WAYMARK_HTTPS_PORT
HTTP=http://localhost:$WAYMARK_HTTP_PORT
SUPERPW=$(cat "$PG_ROOT/superuser.password")
live() { "$PG_BIN/psql" "$DB" -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
copy() { PGPASSWORD=$SUPERPW "$PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$COPY_PORT" -U postgres -d waymark -v ON_ERROR_STOP=1 -c "$1"; }
cli() { (cd "$ROOT" && WAYMARK_DATABASE_URL=$DB "$WAYMARK_BIN" "$@") | tail -n 1; }
api() { # api METHOD PATH JSON → the answer's body; non-2xx is fatal
  local out code
  out=$(curl -sS --cacert "$WAYMARK_VAR/tls/cert.pem" -X "$1" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "$3" -w '\n%{http_code}' "$HTTPS/api/v1$2")
  code=${out##*$'\n'}
  [[ "$code" == 2* ]] || die "$1 $2 answered $code: ${out%$'\n'*}"
  printf '%s' "${out%$'\n'*}"
}
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
check "archive_mode is on for slot $SLOT (scripts/postgres.sh)" test "$(PGPASSWORD=$SUPERPW "$PG_BIN/psql" -X -At -h 127.0.0.1 -p "$WAYMARK_PG_PORT" -U postgres -d postgres -c 'SHOW archive_mode')" = on

# MARK: a campaign through the API, clicks and postbacks through nginx
stamp=$(date +%s)-$RANDOM
email=backup-$stamp@example.test
cli user create --email "$email" --password "backup-$stamp-password" --role owner >/dev/null
TOKEN=$(cli token create --email "$email" --name backup-test)
ws=$(api POST /workspaces "{\"name\":\"Backup $stamp\",\"timezone\":\"UTC\",\"currency\":\"USD\"}" | field id)
source_id=$(api POST /traffic-sources "{\"name\":\"Backup source $stamp\",\"workspace_id\":$ws,\"cost_currency\":\"USD\"}" | field id)
campaign=$(api POST /campaigns "{\"name\":\"Backup campaign $stamp\",\"traffic_source_id\":$source_id,\"destination_url\":\"https://offer.example/lp?s={clickid}\",\"cost_model\":{\"type\":\"cpc\",\"amount\":\"0.10\"}}")
KEY=$(field key <<< "$campaign")
CAMPAIGN_ID=$(field id <<< "$campaign")

# phase NAME: PER_PHASE clicks (each 302 means committed), a postback for every third click.
phase() {
  local name=$1 n answer code id
  : > "$WORK/clicks-$name"
  : > "$WORK/conversions-$name"
  for n in $(seq 1 "$PER_PHASE"); do
    answer=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "$HTTP/c/$KEY?sub1=$name&sub2=$n")
    code=${answer%% *}
    [ "$code" = 302 ] || die "phase $name: /c/$KEY answered $code"
    id=${answer##*s=}
    [[ "$id" =~ ^[A-Za-z0-9_-]{23}$ ]] || die "phase $name: no click id in the redirect ($answer)"
    echo "$id" >> "$WORK/clicks-$name"
    if [ $((n % 3)) = 0 ]; then
      answer=$(curl -sS -w ' %{http_code}' "$HTTP/postback?clickid=$id&payout=2.50&txid=$name-$n")
      [[ "$answer" == *'"recorded"'*' 200' ]] || die "phase $name: postback answered $answer"
      echo "$id t:$name-$n" >> "$WORK/conversions-$name"
    fi
  done
}
# Everything answered is committed (302 and 200 leave after the commit); nothing was spooled.
committed() {
  local health; health=$(curl -sS --cacert "$WAYMARK_VAR/tls/cert.pem" "$HTTPS/healthz")
  [[ "$health" == *'"click_spool_bytes":0'* && "$health" == *'"postback_spool_bytes":0'* ]] || return 1
  local want=$(($(cat "$WORK"/clicks-* | wc -l))) have
  have=$(live "SELECT count(*) FROM clicks WHERE campaign_id = $CAMPAIGN_ID")
  [ "$have" = "$want" ]
}
# A backup with the script `make backup` runs; its label is the newest in the repository.
backup() {
  "$BACKUP" backup "$@" > "$WORK/backup.out" 2>&1 || { cat "$WORK/backup.out"; return 1; }
  sed -n 's/^backup: done: //p' "$WORK/backup.out"
}

phase A
check "phase A: $PER_PHASE clicks and $(wc -l < "$WORK/conversions-A") conversions committed" committed
# A full one each run: the retention (two fulls) keeps this slot's repository from growing.
out=$(backup --type full) || die "scripts/backup.sh backup --type full failed"
printf 'ok    full backup after phase A: %s\n' "$out"
phase B
check "phase B: clicks and conversions committed" committed
out=$(backup) || die "scripts/backup.sh backup failed"
check "backup after phase B, as make backup takes it, is incremental: $out" bash -c '[[ "$1" == *" (incr), "* ]]' _ "$out"
check "the incremental backup is listed, based on the full one" bash -c '"$1" list | tail -n 2 | head -n 1 | grep -Eq "^[0-9]{8}-[0-9]{6}F_[0-9]{8}-[0-9]{6}I +incr"' _ "$BACKUP"
phase B2
check "phase B2: clicks and conversions committed" committed
# T: a whole second at least a second after the last commit before it, and a second before the next.
sleep 1.2
T=$(live "SELECT to_char(date_trunc('second', clock_timestamp()) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '+00'")
sleep 1.2
phase C
# After T, a phase-A conversion turns declined (a chargeback): as of T it was approved.
changed=$(head -n 1 "$WORK/conversions-A")
changed_click=${changed%% *}
changed_key=${changed#* }
answer=$(curl -sS -w ' %{http_code}' "$HTTP/postback?clickid=$changed_click&payout=2.50&txid=${changed_key#t:}&status=declined")
check "after T, a phase-A conversion is updated to declined ($answer)" test "${answer##* }" = 200
check "phase C: clicks and conversions committed" committed

# What the original holds, taken before the WAL switch of `check` (so all of it is archived).
snapshot() { # snapshot QUERY-RUNNER PREFIX
  "$1" "SELECT id FROM clicks ORDER BY id" > "$2.clicks"
  "$1" "SELECT id || ' ' || click_id || ' ' || dedupe_key || ' ' || status FROM conversions ORDER BY id" > "$2.conversions"
  "$1" "SELECT id || ' ' || outcome || ' ' || coalesce(conversion_id::text, '-') FROM postbacks ORDER BY id" > "$2.postbacks"
}
snapshot live "$WORK/live"
"$BACKUP" check > "$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; die "scripts/backup.sh check failed"; }
while read -r line; do printf 'ok    check: %s\n' "${line#backup: }"; done < "$WORK/check.out"

# MARK: restores
mkdir -p "$COPIES"
check "restore refuses the live data directory" bash -c '! "$1" restore --target "$2" >/dev/null 2>&1' _ "$BACKUP" "$PG_DATA"
start_copy() { # start_copy DIR: started on the spare port, replayed and promoted
  as_pg "$PG_BIN/pg_ctl" -D "$1" -l "$1/server.log" -o "-p $COPY_PORT" -w -t 120 start >/dev/null ||
    { tail -n 20 "$1/server.log"; return 1; }
  local _
  for _ in $(seq 1 600); do
    [ "$(copy "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ] && return 0
    sleep 0.1
  done
  tail -n 20 "$1/server.log"
  return 1
}
same() { cmp -s "$1" "$2" || { diff "$1" "$2" | head -n 5; return 1; }; }

# (a) the latest: everything of the original.
dir=$COPIES/latest
"$BACKUP" restore --target "$dir" > "$WORK/restore.out" 2>&1 || { cat "$WORK/restore.out"; die "scripts/backup.sh restore --target failed"; }
check "restore of the latest backup into $dir started on port $COPY_PORT, WAL replayed" start_copy "$dir"
snapshot copy "$WORK/latest"
check "latest: the $(wc -l < "$WORK/live.clicks") click ids equal the original's" same "$WORK/live.clicks" "$WORK/latest.clicks"
check "latest: the $(wc -l < "$WORK/live.conversions") conversions (id, click, key, status) equal the original's" same "$WORK/live.conversions" "$WORK/latest.conversions"
check "latest: the $(wc -l < "$WORK/live.postbacks") postbacks of the ledger equal the original's" same "$WORK/live.postbacks" "$WORK/latest.postbacks"
check "latest: every click of phases A, B, B2 and C is there" bash -c 'sort "$1"/clicks-* | comm -23 - <(sort "$2") | grep -q . && exit 1 || exit 0' _ "$WORK" "$WORK/latest.clicks"
check "latest: the copy does not archive into the original's repository" test "$(copy 'SHOW archive_mode')" = off
stop_copy "$dir"

# (b) point in time T: what was committed before T, and nothing after.
dir=$COPIES/pitr
"$BACKUP" restore --target "$dir" --time "$T" > "$WORK/restore.out" 2>&1 || { cat "$WORK/restore.out"; die "scripts/backup.sh restore --time failed"; }
check "restore to $T into $dir started on port $COPY_PORT, WAL replayed up to T" start_copy "$dir"
snapshot copy "$WORK/pitr"
sort "$WORK"/clicks-A "$WORK"/clicks-B "$WORK"/clicks-B2 > "$WORK/before"
sort "$WORK"/clicks-C > "$WORK/after"
sort "$WORK/pitr.clicks" > "$WORK/pitr.sorted"
check "time T: the $(wc -l < "$WORK/before") clicks of phases A, B and B2 (before T) are there" \
  bash -c '[ -z "$(comm -23 "$1" "$2")" ]' _ "$WORK/before" "$WORK/pitr.sorted"
check "time T: none of the $(wc -l < "$WORK/after") clicks of phase C (after T) is there" \
  bash -c '[ -z "$(comm -12 "$1" "$2")" ]' _ "$WORK/after" "$WORK/pitr.sorted"
check "time T: the click ids are exactly the original's without phase C" \
  bash -c 'sort "$1" | comm -23 - "$2" | cmp -s - "$3"' _ "$WORK/live.clicks" "$WORK/after" "$WORK/pitr.sorted"
awk '{ print $2 " " $3 }' "$WORK/pitr.conversions" | sort > "$WORK/pitr.keys"
sort "$WORK"/conversions-A "$WORK"/conversions-B "$WORK"/conversions-B2 > "$WORK/before.keys"
sort "$WORK"/conversions-C > "$WORK/after.keys"
check "time T: the $(wc -l < "$WORK/before.keys") conversions before T are there" \
  bash -c '[ -z "$(comm -23 "$1" "$2")" ]' _ "$WORK/before.keys" "$WORK/pitr.keys"
check "time T: none of the $(wc -l < "$WORK/after.keys") conversions after T is there" \
  bash -c '[ -z "$(comm -12 "$1" "$2")" ]' _ "$WORK/after.keys" "$WORK/pitr.keys"
check "time T: the conversion declined after T is still approved" \
  test "$(copy "SELECT status FROM conversions WHERE click_id = '$changed_click' AND dedupe_key = '$changed_key'")" = approved
check "time T: the original has it declined" \
  test "$(live "SELECT status FROM conversions WHERE click_id = '$changed_click' AND dedupe_key = '$changed_key'")" = declined
stop_copy "$dir"

if [ "$failures" -gt 0 ]; then
  printf 'backup_restore: %d check(s) failed\n' "$failures"
  exit 1
fi
printf 'backup_restore: every check passed\n'
