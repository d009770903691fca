#!/usr/bin/env bash
# Schemathesis (PyPI, v4) against docs/openapi.json on a running test instance: no 5xx, and
# every answer's status, content type, headers and body as the document says. Fixed seed, a
# bounded number of examples per operation and a bounded total time.
#
#   WAYMARK_INSTANCE=test [WAYMARK_TEST_SLOT=N] scripts/schemathesis.sh
#
# Environment:
#   WAYMARK_TEST_BASE_URL   the instance (default https://localhost:$WAYMARK_HTTPS_PORT)
#   WAYMARK_TEST_CA         its CA / self-signed certificate (default $WAYMARK_VAR/tls/cert.pem)
#   WAYMARK_SCHEMATHESIS_TOKEN  an owner's API token; by default one is made here with the CLI for
#                           the user schemathesis@waymark.test (created once, then reused)
#   SCHEMATHESIS_EXAMPLES   examples per operation and phase (default 25)
#   SCHEMATHESIS_MAX_TIME   seconds for the whole run (default 200)
#   SCHEMATHESIS_SEED       default 20261201
#   SCHEMATHESIS_WORKERS    default 1 (CPython 3.11's ast is not thread-safe, and Hypothesis
#                           parses lambdas with it: more workers fail now and then inside schemathesis)
#   SCHEMATHESIS_REPORT     directory for the JUnit and NDJSON reports (default $WAYMARK_VAR/schemathesis)
# Exit status: 0 when every check passed, non-zero otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
export WAYMARK_INSTANCE=${WAYMARK_INSTANCE:-test}
source scripts/env.sh
if [ "$WAYMARK_INSTANCE" != test ]; then
  log "schemathesis writes a lot of data: run it on a test instance (WAYMARK_INSTANCE=test)"
  exit 2
fi

BASE_URL=${WAYMARK_TEST_BASE_URL:-https://localhost:$WAYMARK_HTTPS_PORT}
BASE_URL=${BASE_URL%/}
CA=${WAYMARK_TEST_CA:-$WAYMARK_VAR/tls/cert.pem}
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-25}
MAX_TIME=${SCHEMATHESIS_MAX_TIME:-200}
SEED=${SCHEMATHESIS_SEED:-20261201}
WORKERS=${SCHEMATHESIS_WORKERS:-1}
REPORT=${SCHEMATHESIS_REPORT:-$WAYMARK_VAR/schemathesis}
DOC=$WAYMARK_ROOT/docs/openapi.json
PY=${PYTHON:-python3}

[ -f "$CA" ] || { log "no CA file at $CA (WAYMARK_TEST_CA)"; exit 2; }
scripts/pydeps.sh
"$PY" scripts/openapi_check.py "$DOC" >/dev/null

if ! curl -fsS --max-time 10 --cacert "$CA" "$BASE_URL/healthz" >/dev/null; then
  log "the instance at $BASE_URL does not answer /healthz: start it (scripts/stack.sh up)"
  exit 2
fi

# The token: an owner made once (idempotent), a new token per run.
TOKEN=${WAYMARK_SCHEMATHESIS_TOKEN:-}
if [ -z "$TOKEN" ]; then
  if [ -z "${WAYMARK_DATABASE_URL:-}" ] && [ -f "$WAYMARK_VAR/database.url" ]; then
    WAYMARK_DATABASE_URL=$(cat "$WAYMARK_VAR/database.url")
    export WAYMARK_DATABASE_URL
  fi
  [ -x "$WAYMARK_BIN" ] || { log "no binary at $WAYMARK_BIN: build first"; exit 2; }
  email=schemathesis@waymark.test
  if ! out=$("$WAYMARK_BIN" user create --email "$email" --password "schemathesis-$(openssl rand -hex 12)" --role owner 2>&1); then
    case "$out" in
      *"exists already"*) ;;
      *) log "could not create $email: $out"; exit 2 ;;
    esac
  fi
  TOKEN=$("$WAYMARK_BIN" token create --email "$email" --name "schemathesis $(date -u +%FT%TZ)" | tail -n 1)
fi
[ -n "$TOKEN" ] || { log "no API token"; exit 2; }

# api METHOD PATH [JSON]: one call with the token; prints the body, fails on a non-2xx status.
api() {
  local args=(-sS --max-time 30 --cacert "$CA" -H "Authorization: Bearer $TOKEN" -X "$1" "$BASE_URL/api/v1$2" -w '\n%{http_code}')
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  local out status
  out=$(curl "${args[@]}")
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  case "$status" in 2??) printf '%s' "$out" ;; *) log "fixture $1 $2 answered $status: $out"; return 1 ;; esac
}
json_field() { "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# Fixtures, so that path parameters hit real objects: a workspace, a source in it with a
# campaign and a click, a spend feed (of a local cost report), spend, and a connected GA4
# integration (the test instance's fake answers it); and a source, a campaign and a feed for the
# DELETE operations alone, so that the others keep theirs.
run_id=$(date -u +%Y%m%d%H%M%S)-$$
workspace=$(api POST /workspaces "{\"name\":\"schemathesis $run_id\",\"timezone\":\"Europe/Berlin\",\"currency\":\"USD\"}" | json_field id)
source_id=$(api POST /traffic-sources "{\"name\":\"schemathesis $run_id\",\"workspace_id\":$workspace,\"parameters\":[{\"name\":\"zone\",\"token\":\"{zone}\"}]}" | json_field id)
doomed_source=$(api POST /traffic-sources "{\"name\":\"schemathesis to delete $run_id\"}" | json_field id)
new_campaign() {
  api POST /campaigns "{\"name\":\"schemathesis $1 $run_id\",\"traffic_source_id\":$source_id,\"destination_url\":\"https://shop.example/?c={clickid}&z={zone}\"}"
}
campaign=$(new_campaign main)
campaign_id=$(printf '%s' "$campaign" | json_field id)
campaign_key=$(printf '%s' "$campaign" | json_field key)
doomed_campaign=$(new_campaign "to delete" | json_field id)
click_id=$(api POST /clicks "{\"campaign_key\":\"$campaign_key\",\"parameters\":{\"zone\":\"z1\"}}" | json_field click_id)
# The feeds read a small cost report from a local server (this script's, stopped at its end).
mkdir -p "$REPORT/feed"
printf 'date,campaign,amount\n%s,%s,2.50\n%s,%s,1.25\n' "$(date -u +%F)" "$campaign_key" "$(date -u -d yesterday +%F)" "$campaign_key" > "$REPORT/feed/cost.csv"
rm -f "$REPORT/feed/port"
"$PY" - "$REPORT/feed" <<'PYEOF' &
import http.server, sys
class Files(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs): super().__init__(*args, directory=sys.argv[1], **kwargs)
    def log_message(self, *args): pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
with open(sys.argv[1] + "/port.tmp", "w") as f: f.write(str(server.server_address[1]))
import os; os.rename(sys.argv[1] + "/port.tmp", sys.argv[1] + "/port")
server.serve_forever()
PYEOF
feed_server=$!
trap 'kill "$feed_server" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do [ -s "$REPORT/feed/port" ] && break; sleep 0.1; done
feed_url="http://127.0.0.1:$(cat "$REPORT/feed/port")/cost.csv"
new_feed() {
  api POST "/traffic-sources/$source_id/spend-feeds" "{\"name\":\"schemathesis $1 $run_id\",\"url\":\"$feed_url\",\"mapping\":{\"campaign\":\"campaign\",\"campaign_match\":\"key\",\"fixed_currency\":\"USD\"},\"timeout_seconds\":5,\"status\":\"paused\"}" | json_field id
}
feed_id=$(new_feed main)
doomed_feed=$(new_feed "to delete")
api POST "/traffic-sources/$source_id/integrations/ga4/connect" '{"measurement_id":"G-SCHEMA1234","api_secret":"schemathesis-secret"}' >/dev/null
api POST /spend "{\"entries\":[{\"date\":\"$(date -u +%F)\",\"traffic_source_id\":$source_id,\"campaign_id\":$campaign_id,\"dimensions\":{\"zone\":\"z1\"},\"amount\":\"1.50\",\"currency\":\"USD\"}]}" >/dev/null

mkdir -p "$REPORT"
rm -f "$REPORT"/junit-*.xml "$REPORT"/ndjson-*.ndjson  # the last run's reports only
config=$REPORT/schemathesis.toml
# The ids above are drawn most of the time; the rest are generated (mostly unknown: 404).
cat > "$config" <<EOF
seed = $SEED
workers = $WORKERS
max-time = $MAX_TIME
request-timeout = 30
tls-verify = "$CA"
suppress-health-check = ["all"]
warnings = false

[cache]
enabled = false

[generation]
max-examples = $EXAMPLES
mode = "all"
database = "none"

[auth.openapi.bearerAuth]
bearer = "\${WAYMARK_SCHEMATHESIS_BEARER}"

[checks]
enabled = false
not_a_server_error.enabled = true
status_code_conformance.enabled = true
content_type_conformance.enabled = true
response_headers_conformance.enabled = true
response_schema_conformance.enabled = true

[phases.coverage.extra-data-sources]
responses = true
[phases.fuzzing.extra-data-sources]
responses = true
[phases.stateful]
max-steps = 30

[dictionaries.workspaces]
values = [$workspace]
[dictionaries.sources]
values = [$source_id]
[dictionaries.campaigns]
values = [$campaign_id]
[dictionaries.feeds]
values = [$feed_id]
[dictionaries.doomed_sources]
values = [$doomed_source]
[dictionaries.doomed_campaigns]
values = [$doomed_campaign]
[dictionaries.doomed_feeds]
values = [$doomed_feed]
[dictionaries.clicks]
values = ["$click_id"]
[dictionaries.keys]
values = ["$campaign_key"]

[[operations]]
include-path-regex = "^/api/v1/workspaces/"
parameters = { "path.id" = { dictionary = "workspaces", probability = 0.7 } }

[[operations]]
include-operation-id = "deleteTrafficSource"
parameters = { "path.id" = { dictionary = "doomed_sources", probability = 0.5 } }

[[operations]]
include-operation-id = "deleteSpendFeed"
parameters = { "path.id" = { dictionary = "sources", probability = 0.8 }, "path.feed" = { dictionary = "doomed_feeds", probability = 0.5 } }

[[operations]]
include-path-regex = "^/api/v1/traffic-sources/[{]id[}]"
exclude-operation-id = ["deleteTrafficSource", "deleteSpendFeed"]
parameters = { "path.id" = { dictionary = "sources", probability = 0.8 }, "path.feed" = { dictionary = "feeds", probability = 0.8 } }

[[operations]]
include-operation-id = "deleteCampaign"
parameters = { "path.id" = { dictionary = "doomed_campaigns", probability = 0.5 } }

[[operations]]
include-path-regex = "^/api/v1/campaigns/"
exclude-operation-id = "deleteCampaign"
parameters = { "path.id" = { dictionary = "campaigns", probability = 0.6 } }

[[operations]]
include-path-regex = "^/api/v1/clicks/"
parameters = { "path.click_id" = { dictionary = "clicks", probability = 0.7 } }

[[operations]]
include-operation-id = "recordClick"
parameters = { "body.campaign_key" = { dictionary = "keys", probability = 0.7 } }
EOF

# GET /api/v1/openapi.json (public): once it is served, it must be this document.
exclude=()
served=$(curl -sS --max-time 10 --cacert "$CA" -o "$REPORT/served-openapi.json" -w '%{http_code}' "$BASE_URL/api/v1/openapi.json" || true)
if [ "$served" = 404 ]; then
  log "GET /api/v1/openapi.json is not served yet (404): left out of this run"
  exclude=(--exclude-operation-id getOpenAPI)
elif [ "$served" = 200 ] && ! "$PY" -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' "$DOC" "$REPORT/served-openapi.json" 2>/dev/null; then
  log "warning: GET /api/v1/openapi.json is not the same document as docs/openapi.json (an old build?)"
fi

export WAYMARK_SCHEMATHESIS_BEARER=$TOKEN
log "schemathesis on $BASE_URL: seed $SEED, $EXAMPLES examples per operation, at most ${MAX_TIME}s (fixtures: workspace $workspace, source $source_id, campaign $campaign_id, feed $feed_id)"
started=$(date +%s)
status=0
schemathesis_cli=(schemathesis)
command -v schemathesis >/dev/null 2>&1 || schemathesis_cli=("$PY" -m schemathesis.cli)
"${schemathesis_cli[@]}" --config-file "$config" --no-color run "$DOC" --url "$BASE_URL" "${exclude[@]}" \
  --report junit,ndjson --report-dir "$REPORT" --output-truncate true > "$REPORT/output.txt" 2>&1 || status=$?
elapsed=$(( $(date +%s) - started ))

# The summary: schemathesis's own closing lines, and where the rest is.
sed -n '/SUMMARY/,$p' "$REPORT/output.txt" | grep -v '^\s*$' | head -n 60 || true
if [ "$status" -ne 0 ]; then
  echo
  echo "FAILURES (first 120 lines; all in $REPORT/output.txt):"
  sed -n '/FAILURES/,/SUMMARY/p' "$REPORT/output.txt" | head -n 120
fi
log "schemathesis finished in ${elapsed}s with status $status (report: $REPORT)"
exit "$status"
