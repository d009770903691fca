#!/usr/bin/env bash
# `make bench`: starts the bench instance (var/bench-stack, its own PostgreSQL and nginx),
# adds the comparison servers (nginx's own 302, a C libfcgi responder), runs
# scripts/bench.py, and stops everything whatever happens.
set -euo pipefail
export WAYMARK_INSTANCE=bench
source "$(dirname "$0")/env.sh"
cleanup() {
  # libfcgi's SIGTERM handler only marks a shutdown for the next accept, which threads
  # blocked in accept never reach: SIGKILL after a moment, or it outlives the bench.
  if [ -n "${c_pid:-}" ]; then
    kill "$c_pid" 2>/dev/null || true
    sleep 0.3
    kill -9 "$c_pid" 2>/dev/null || true
    wait "$c_pid" 2>/dev/null || true
  fi
  rm -f "$WAYMARK_VAR/nginx/extra/bench.conf"
  "$WAYMARK_ROOT/scripts/stack.sh" down || true
}
trap cleanup EXIT
"$WAYMARK_ROOT/scripts/stack.sh" down >/dev/null 2>&1 || true
# A fresh instance each run: the report history is generated anew (10 million clicks, ~4 GB).
rm -rf "$WAYMARK_VAR"
unset WAYMARK_DATABASE_URL
# WAYMARK_BENCH_STATEMENTS=1: pg_stat_statements in the bench cluster (scripts/bench.py prints
# a measured run's statements per request).
[ "${WAYMARK_BENCH_STATEMENTS:-0}" = 1 ] && export WAYMARK_PG_STATEMENTS=1
"$WAYMARK_ROOT/scripts/stack.sh" up
WAYMARK_DATABASE_URL=$(cat "$WAYMARK_VAR/database.url")
export WAYMARK_DATABASE_URL
threads=${WAYMARK_THREADS:-160}
mkdir -p "$WAYMARK_ROOT/var/bench"
gcc -O2 -o "$WAYMARK_ROOT/var/bench/c-responder" "$WAYMARK_ROOT/bench/c-responder.c" -lfcgi -lpthread
"$WAYMARK_ROOT/var/bench/c-responder" "$WAYMARK_VAR/run/c-responder.sock" "$threads" &
c_pid=$!
workers=$(nproc)
keepalive=${WAYMARK_UPSTREAM_KEEPALIVE:-$(( threads / (2 * workers) ))}
sed -e "s#@C_SOCKET@#$WAYMARK_VAR/run/c-responder.sock#g" -e "s#@UPSTREAM_KEEPALIVE@#$keepalive#g" \
    -e "s#@NGINX_302_PORT@#28090#g" -e "s#@NGINX_302_TLS_PORT@#28091#g" -e "s#@C_PORT@#28092#g" -e "s#@C_TLS_PORT@#28093#g" \
    -e "s#@TLS_CERT@#$WAYMARK_VAR/tls/cert.pem#g" -e "s#@TLS_KEY@#$WAYMARK_VAR/tls/key.pem#g" \
    "$WAYMARK_ROOT/bench/bench-servers.conf.template" > "$WAYMARK_VAR/nginx/extra/bench.conf"
"$WAYMARK_ROOT/scripts/nginx.sh" start
sleep 1
echo "make bench: ${WAYMARK_BENCH_SECONDS:-8} s per run, $threads responder threads, nginx keepalive $keepalive per worker"
[ "${WAYMARK_BENCH_CLICKS:-1}" = 0 ] || python3 "$WAYMARK_ROOT/scripts/bench.py"
[ "${WAYMARK_BENCH_REPORT_CLICKS:-10000000}" = 0 ] || python3 "$WAYMARK_ROOT/scripts/bench_reports.py"
