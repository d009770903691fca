# Sourced by the other scripts: where things are for one instance of the stack.
#   WAYMARK_INSTANCE=run   (default) var/, ports 8443/8080, PostgreSQL on 55432: `make run`
#   WAYMARK_INSTANCE=test  var/test/, ports 18443/18080, PostgreSQL on 25433: `make test`
#   WAYMARK_INSTANCE=bench var/bench-stack/, ports 28443/28080, PostgreSQL on 25434: `make bench`
# (Test and bench ports stay below the ephemeral range 32768+, which heavy connection churn
# such as the benchmark's new-connection runs fills with TIME_WAIT sockets.)
# Tests and benchmarks get their own instance, so they never touch the data of `make run`.
WAYMARK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export WAYMARK_ROOT
WAYMARK_INSTANCE=${WAYMARK_INSTANCE:-run}
export WAYMARK_INSTANCE
case "$WAYMARK_INSTANCE" in
  run)
    export WAYMARK_VAR=${WAYMARK_VAR:-$WAYMARK_ROOT/var}
    export WAYMARK_PG_PORT=${WAYMARK_PG_PORT:-55432}
    export WAYMARK_HTTPS_PORT=${WAYMARK_HTTPS_PORT:-8443}
    export WAYMARK_HTTP_PORT=${WAYMARK_HTTP_PORT:-8080}
    ;;
  test)
    # WAYMARK_TEST_SLOT=N (1–9) is a second test instance beside the first (var/test-N, every
    # port N×10 higher), so two test runs never stop each other's stack.
    slot=${WAYMARK_TEST_SLOT:-0}
    case "$slot" in [0-9]) ;; *) echo "WAYMARK_TEST_SLOT must be 0-9" >&2; exit 2 ;; esac
    if [ "$slot" = 0 ]; then export WAYMARK_VAR=$WAYMARK_ROOT/var/test; else export WAYMARK_VAR=$WAYMARK_ROOT/var/test-$slot; fi
    export WAYMARK_PG_PORT=$((25433 + slot * 10)) WAYMARK_HTTPS_PORT=$((18443 + slot * 10)) WAYMARK_HTTP_PORT=$((18080 + slot * 10))
    export WAYMARK_TEST_ROUTES=1
    # Tests sign in hundreds of times from one address: nginx's login rate limit is lifted
    # here, and the app's own throttle is what the tests check.
    export WAYMARK_LOGIN_RATE=100r/s
    # The request log as JSON lines (what the metrics test reads back).
    export WAYMARK_LOG_FORMAT=json
    # No FX fetch by the stack's worker (no internet here); the FX test runs its own worker.
    export WAYMARK_FX_URL=off
    # Delivery retries in seconds, not minutes, so the retry and give-up tests run quickly.
    export WAYMARK_DELIVERY_BACKOFF=0.5 WAYMARK_DELIVERY_MAX_ATTEMPTS=3
    # The ad platforms are local fakes (Tests/Fakes) speaking their real protocols.
    # The tests' own listeners and fakes are on 127.0.0.1: the one address opened for outbound
    # calls (the rest of loopback stays denied, and the security tests use 127.0.0.2).
    export WAYMARK_OUTBOUND_ALLOW=127.0.0.1/32
    export WAYMARK_FAKE_PROVIDERS=1 WAYMARK_FAKE_PORT_BASE=$((19101 + slot * 10))
    unset slot
    unset WAYMARK_DATABASE_URL
    ;;
  bench)
    export WAYMARK_VAR=$WAYMARK_ROOT/var/bench-stack
    export WAYMARK_PG_PORT=25434 WAYMARK_HTTPS_PORT=28443 WAYMARK_HTTP_PORT=28080
    export WAYMARK_LOG_LEVEL=${WAYMARK_LOG_LEVEL:-warning} WAYMARK_FX_URL=off
    unset WAYMARK_DATABASE_URL
    ;;
  *) echo "unknown WAYMARK_INSTANCE $WAYMARK_INSTANCE" >&2; exit 2 ;;
esac
export WAYMARK_SOCKET=${WAYMARK_SOCKET:-$WAYMARK_VAR/run/waymark.sock}
# WAYMARK_RESPONDERS=N: N responder processes, each on its own socket and spool.
responder_socket() { if [ "$1" = 1 ]; then echo "$WAYMARK_SOCKET"; else echo "${WAYMARK_SOCKET%.sock}-$1.sock"; fi; }
responder_spool() { if [ "$1" = 1 ]; then echo "${WAYMARK_SPOOL:-$WAYMARK_VAR/spool}"; else echo "${WAYMARK_SPOOL:-$WAYMARK_VAR/spool}-$1"; fi; }
responder_name() { if [ "$1" = 1 ]; then echo serve; else echo "serve-$1"; fi; }
# WAYMARK_FAKE_PROVIDERS=1: the stack also runs the fake Google, Meta, TikTok and GA4
# servers (Tests/Fakes) and sends every provider call to them, with the fakes' app credentials.
if [ "${WAYMARK_FAKE_PROVIDERS:-0}" = 1 ]; then
  base=${WAYMARK_FAKE_PORT_BASE:-9101}
  export WAYMARK_FAKE_GOOGLE=http://127.0.0.1:$base WAYMARK_FAKE_META=http://127.0.0.1:$((base + 1))
  export WAYMARK_FAKE_TIKTOK=http://127.0.0.1:$((base + 2)) WAYMARK_FAKE_GA4=http://127.0.0.1:$((base + 3))
  export WAYMARK_PROVIDER_ORIGINS="https://accounts.google.com=$WAYMARK_FAKE_GOOGLE,https://oauth2.googleapis.com=$WAYMARK_FAKE_GOOGLE,https://googleads.googleapis.com=$WAYMARK_FAKE_GOOGLE,https://datamanager.googleapis.com=$WAYMARK_FAKE_GOOGLE,https://www.facebook.com=$WAYMARK_FAKE_META,https://graph.facebook.com=$WAYMARK_FAKE_META,https://business-api.tiktok.com=$WAYMARK_FAKE_TIKTOK,https://www.google-analytics.com=$WAYMARK_FAKE_GA4"
  export WAYMARK_GOOGLE_CLIENT_ID=${WAYMARK_GOOGLE_CLIENT_ID:-fake-google-client.apps.googleusercontent.com}
  export WAYMARK_GOOGLE_CLIENT_SECRET=${WAYMARK_GOOGLE_CLIENT_SECRET:-fake-google-secret}
  export WAYMARK_GOOGLE_ADS_DEVELOPER_TOKEN=${WAYMARK_GOOGLE_ADS_DEVELOPER_TOKEN:-fake-developer-token}
  export WAYMARK_META_APP_ID=${WAYMARK_META_APP_ID:-111111111111111} WAYMARK_META_APP_SECRET=${WAYMARK_META_APP_SECRET:-fake-meta-secret}
  export WAYMARK_TIKTOK_APP_ID=${WAYMARK_TIKTOK_APP_ID:-7000000000000000000} WAYMARK_TIKTOK_APP_SECRET=${WAYMARK_TIKTOK_APP_SECRET:-fake-tiktok-secret}
  unset base
fi
export WAYMARK_PUBLIC_URL=${WAYMARK_PUBLIC_URL:-https://localhost:$WAYMARK_HTTPS_PORT}
WAYMARK_BIN=$WAYMARK_ROOT/.build/release/waymark
# The embedded cluster: used unless WAYMARK_DATABASE_URL points elsewhere (run instance only).
PG_ROOT=$WAYMARK_VAR/postgres
PG_DATA=$PG_ROOT/data
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
# A URL that came from $WAYMARK_VAR/database.url (or none yet) means the embedded cluster.
EMBEDDED_PG=0
if [ -z "${WAYMARK_DATABASE_URL:-}" ]; then
  EMBEDDED_PG=1
  [ -f "$WAYMARK_VAR/database.url" ] && WAYMARK_DATABASE_URL=$(cat "$WAYMARK_VAR/database.url") && export WAYMARK_DATABASE_URL
elif [ -f "$WAYMARK_VAR/database.url" ] && [ "$WAYMARK_DATABASE_URL" = "$(cat "$WAYMARK_VAR/database.url")" ]; then
  EMBEDDED_PG=1
fi

log() { printf '[waymark] %s\n' "$*" >&2; }
# Runs a command as the PostgreSQL owner: `postgres` when we are root (initdb refuses root).
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
