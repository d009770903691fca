#!/usr/bin/env bash
# Failover under load, for real (issue 21, docs/ha.md).
#
# On a test instance of its own (slot 7: var/test-7), brought up here and stopped at the end:
# the loopback Patroni + etcd cluster (scripts/ha.sh up, data in var/test-7/ha, kept between
# runs), then the stack against its read-write URL (no embedded PostgreSQL) with two responders
# and two workers. Tests/HA/failover.py then clicks through nginx for ~40 s, kills the primary's
# postmaster (scripts/ha.sh kill-primary) after ~8 s, sends postbacks before, during and after
# the outage, and checks that every click answered with a 302 is stored exactly once, that every
# postback made one conversion, that the S2S postbacks are delivered after the failover and
# that /healthz is ok with empty spools; it prints the failover figures.
#   WAYMARK_FAILOVER_TEST_SLOT (7) chooses the slot.
#   WAYMARK_HA_TEST_CLEAN=1 deletes the HA cluster (scripts/ha.sh clean) at the end instead of
#   keeping its data for the next run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SLOT=${WAYMARK_FAILOVER_TEST_SLOT:-7}
CLEAN=${WAYMARK_HA_TEST_CLEAN:-0}
# `make test` exports the main test instance's variables (and a shell may carry libpq's): none
# of them may reach this instance.
for name in $(compgen -e); do
  case "$name" in WAYMARK_* | PG*) unset "$name" ;; esac
done
export WAYMARK_INSTANCE=test WAYMARK_TEST_SLOT=$SLOT
source "$ROOT/scripts/env.sh"
HA=$ROOT/scripts/ha.sh
STACK=$ROOT/scripts/stack.sh
LISTEN_PORT=$((19101 + SLOT * 10 + 7))
export WAYMARK_RESPONDERS=2 WAYMARK_WORKERS=2

# The stack with PostgreSQL from scripts/ha.sh instead of its embedded cluster (WAYMARK_HA=1):
# it starts the pair, writes on its read-write URL, reads reports on the standby, and stops the
# pair with the rest.
export WAYMARK_HA=1
stack() { "$STACK" "$@"; }

ha_started=""
stack_started=""
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  [ -n "$stack_started" ] && stack down >/dev/null 2>&1
  if [ -n "$ha_started" ]; then
    if [ "$CLEAN" = 1 ]; then "$HA" clean >/dev/null 2>&1; else "$HA" down >/dev/null 2>&1; fi
  fi
  # Nothing of this instance may be left running (the HA nodes, etcd, the responders, the
  # workers and their supervisors, nginx, the fakes): processes naming its directory, working
  # in it, or started with its WAYMARK_VAR; this shell and its own children aside.
  local left="" dir pid ppid cwd cmd mine=" " up=$$
  # This shell's ancestors (whoever ran the test may carry the same WAYMARK_VAR).
  while [[ "$up" =~ ^[0-9]+$ ]] && [ "$up" -gt 1 ]; do
    mine+="$up "
    up=$(awk '/^PPid:/ {print $2}' "/proc/$up/status" 2>/dev/null || true)
  done
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    ppid=$(awk '/^PPid:/ {print $2}' "$dir/status" 2>/dev/null || true)
    [[ "$mine" == *" $pid "* ]] || [ "$ppid" = $$ ] || [ -z "$ppid" ] && continue
    cwd=$(readlink "$dir/cwd" 2>/dev/null || true)
    cmd=$(tr '\0' ' ' < "$dir/cmdline" 2>/dev/null || true)
    if [[ "$cwd" == "$WAYMARK_VAR" || "$cwd" == "$WAYMARK_VAR/"* || "$cmd" == *"$WAYMARK_VAR/"* ]] ||
      { tr '\0' '\n' < "$dir/environ"; } 2>/dev/null | grep -qxF "WAYMARK_VAR=$WAYMARK_VAR"; then
      left+=" $pid($(cat "$dir/comm" 2>/dev/null))"
    fi
  done
  if [ -n "$left" ]; then
    printf 'FAIL  processes of %s still running after the test:%s\n' "$WAYMARK_VAR" "$left"
    [ "$rc" = 0 ] && rc=1
  fi
  exit "$rc"
}
trap cleanup EXIT
trap "exit 130" INT TERM

# A stack of this slot left running is stopped first.
stack down >/dev/null 2>&1 || true
ha_started=1
stack_started=1
stack up >/dev/null 2>&1 || { echo "FAIL  the stack did not start on the HA cluster (see $WAYMARK_VAR/log/stack.log, $WAYMARK_VAR/ha/log)"; exit 1; }
WAYMARK_DATABASE_URL=$(cat "$WAYMARK_VAR/ha/database.url")
WAYMARK_REPORTS_DATABASE_URL=$(cat "$WAYMARK_VAR/ha/reports.url")
export WAYMARK_DATABASE_URL WAYMARK_REPORTS_DATABASE_URL
# The stack must be on the HA cluster, not on an embedded PostgreSQL of this slot.
if as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
  echo "FAIL  the embedded PostgreSQL of $WAYMARK_VAR is running: the stack is not on the HA cluster"
  exit 1
fi

# The database URL reaches failover.py through the environment only (never a command line).
python3 "$ROOT/Tests/HA/failover.py" --var "$WAYMARK_VAR" --root "$ROOT" --listen "$LISTEN_PORT" \
  --http "http://localhost:$WAYMARK_HTTP_PORT" --https "https://localhost:$WAYMARK_HTTPS_PORT"
