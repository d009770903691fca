#!/usr/bin/env bash
# scripts/check_deploy.sh: checks the server install (deploy/, docs/operations.md) without
# touching this machine's system: everything happens in a throwaway root (mktemp -d, removed
# at the end) with a throwaway nginx of its own (own config, pid, temp and log paths, ports
# picked free on 127.0.0.1). One line per check; exits non-zero when any fails.
#
#   bash -n on the scripts; deploy/install.sh into the throwaway root (twice: idempotent, the
#   env file kept); the variables the code reads are all in the env example, and the guide names
#   none that the code does not read; systemd-analyze verify on the installed units (and, as a
#   control, on a broken copy, which must fail); systemctl --root enable; systemd-analyze
#   security; nginx -t on the site with a self-signed certificate in place of certbot's (and a
#   broken copy as control); the site's FastCGI params and security headers against the
#   development config; promtool check config / check rules / test rules; logrotate -d.
#   With WAYMARK_DATABASE_URL set (scripts/test.sh sets it), also live: the installed binary as
#   two responders (unprivileged, socket group www-data, as the units run them) behind the
#   throwaway nginx with the site: the CLI wrapper, /healthz through the upstream and on each
#   loopback port, tracking on HTTP, static files, /metrics closed to other addresses, headers,
#   and waymark-rolling-restart under load with no request refused.
#
# Tools missing here (systemd-analyze, promtool, nginx, logrotate, wrk) are installed with apt.
# WAYMARK_BIN: the binary to install (default .build/release/waymark; `make build` makes it).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${WAYMARK_BIN:-$ROOT/.build/release/waymark}
failures=0
passed=0
ok() { printf 'deploy: ok    %s\n' "$1"; passed=$((passed + 1)); }
skip() { printf 'deploy: skip  %s\n' "$1"; }
fail() {
  printf 'deploy: FAIL  %s\n' "$1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/        /'
  failures=$((failures + 1))
  return 0
}
# check NAME CMD…: ok when CMD exits 0.
check() {
  local name=$1 out; shift
  if out=$("$@" 2>&1); then ok "$name"; else fail "$name" "$out"; fi
}

# --- Tools -----------------------------------------------------------------------------------
need=()
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v promtool >/dev/null || need+=(prometheus)
command -v nginx >/dev/null || need+=(nginx)
command -v logrotate >/dev/null || need+=(logrotate)
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "deploy: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"; } >/dev/null 2>&1 ||
    fail "apt-get install ${need[*]}"
  # The packaged daemons are not wanted here: only their tools.
  if [ -d /run/systemd/system ]; then
    for p in "${need[@]}"; do
      case $p in prometheus | nginx) $sudo systemctl disable --now "$p" >/dev/null 2>&1 || true ;; esac
    done
  fi
fi

tmp=$(mktemp -d /tmp/waymark-deploy.XXXXXX)
chmod 0755 "$tmp"   # the unprivileged responders and nginx's workers read the install in it
T=$tmp/root
mkdir -p "$T"
pids=()
cleanup() {
  local p
  [ -f "$tmp/live/nginx.pid" ] && kill -QUIT "$(cat "$tmp/live/nginx.pid")" 2>/dev/null
  for p in "$tmp"/live/serve-*.pid; do [ -f "$p" ] && kill -TERM "$(cat "$p")" 2>/dev/null; done
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.5
  for p in "$tmp"/live/serve-*.pid; do [ -f "$p" ] && kill -KILL "$(cat "$p")" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- Scripts ---------------------------------------------------------------------------------
scripts=(deploy/install.sh deploy/bin/waymark deploy/bin/waymark-rolling-restart scripts/check_deploy.sh)
out=""
for s in "${scripts[@]}"; do out+=$(bash -n "$ROOT/$s" 2>&1); done
if [ -z "$out" ]; then ok "bash -n ${scripts[*]}"; else fail "bash -n" "$out"; fi

# --- install.sh into the throwaway root ------------------------------------------------------
if [ ! -x "$BIN" ]; then
  fail "install.sh: no binary at $BIN (make build)"
  exit 1
fi
if out=$("$ROOT/deploy/install.sh" --root "$T" --no-build --binary "$BIN" 2>&1); then
  ok "install.sh --root (throwaway) --no-build --binary $(basename "$BIN")"
else
  fail "install.sh --root" "$out"
  exit 1
fi
missing=""
for f in opt/waymark/bin/waymark opt/waymark/bin/waymark-rolling-restart opt/waymark/lib/libswiftCore.so \
  opt/waymark/templates/layout.mustache opt/waymark/static/waymark.css opt/waymark/data/templates.json \
  opt/waymark/db/migrations/0001_foundation.sql opt/waymark/docs/openapi.json opt/waymark/docs/operations.md \
  opt/waymark/share/prometheus/prometheus.yml opt/waymark/share/prometheus/waymark-alerts.yml usr/local/bin/waymark \
  etc/waymark/waymark.env etc/systemd/system/waymark-serve@.service etc/systemd/system/waymark-worker.service \
  etc/systemd/system/waymark-migrate.service etc/systemd/system/waymark.target etc/nginx/sites-available/waymark \
  etc/nginx/snippets/waymark-fastcgi.conf etc/nginx/snippets/waymark-fastcgi-click.conf etc/nginx/snippets/waymark-fastcgi-params.conf \
  etc/nginx/snippets/waymark-security-headers.conf etc/nginx/snippets/waymark-geoip.conf \
  etc/nginx/snippets/waymark-geoip-http.conf etc/logrotate.d/waymark; do
  [ -e "$T/$f" ] || missing+=" $f"
done
env_file=$T/etc/waymark/waymark.env
key=$(sed -n 's/^WAYMARK_SECRET_KEY=//p' "$env_file")
[ "$(printf '%s' "$key" | base64 -d 2>/dev/null | wc -c)" = 32 ] || missing+=" (WAYMARK_SECRET_KEY is not base64 of 32 bytes)"
[ "$(stat -c %a "$env_file")" = 600 ] || missing+=" (waymark.env is not mode 600)"
if [ -z "$missing" ]; then ok "install.sh: every file in place, env file 0600 with a generated key"; else fail "install.sh: missing:$missing"; fi
out=$("$ROOT/deploy/install.sh" --root "$T" --no-build --binary "$BIN" 2>&1)
if [ $? = 0 ] && [ "$key" = "$(sed -n 's/^WAYMARK_SECRET_KEY=//p' "$env_file")" ] && grep -q "keeping $env_file" <<<"$out"; then
  ok "install.sh again: idempotent, waymark.env kept"
else
  fail "install.sh again" "$out"
fi
help=$(LD_LIBRARY_PATH=$T/opt/waymark/lib "$T/opt/waymark/bin/waymark" --help 2>&1)
out=""
for sub in serve worker migrate; do grep -Eq "^[[:space:]]+$sub([[:space:]]|$)" <<<"$help" || out+=" $sub"; done
if [ -z "$out" ]; then ok "the units' commands exist (waymark serve, worker, migrate)"; else fail "waymark --help lacks:$out" "$help"; fi

# --- Variables: the code's against the env example and the guide ----------------------------
# Read by the code (Sources/, and the responder's own getenv calls).
code_vars=$(grep -rhoE '"WAYMARK_[A-Z0-9_]+"' "$ROOT/Sources" --include=*.swift | tr -d '"' | sort -u)
script_vars=$(grep -rhoE 'WAYMARK_[A-Z0-9_]+' "$ROOT/scripts" "$ROOT/nginx" | sort -u)
# Not for a server (tests, the development stack) or set by the units themselves.
not_operator="WAYMARK_TEST_ROUTES WAYMARK_TEST_BASE_URL WAYMARK_TEST_HTTP_URL WAYMARK_TEST_CA WAYMARK_TEST_SCRIPTS WAYMARK_INSTANCE WAYMARK_FAKE_"
out=""
for v in $code_vars; do
  grep -qw "$v" <<<"$not_operator" && continue
  grep -qw "$v" "$ROOT/deploy/waymark.env.example" || out+=" $v"
done
if [ -z "$out" ]; then ok "every WAYMARK_* variable the code reads is in deploy/waymark.env.example"; else fail "not in deploy/waymark.env.example:$out"; fi
# Named by the guide or the example but read by nothing yet (none today).
pending=""
out=""
named=$(cat "$ROOT/docs/operations.md" "$ROOT/deploy/waymark.env.example" "$ROOT"/deploy/systemd/* | grep -oE 'WAYMARK_[A-Z0-9_]+' | sort -u)
waiting=""
for v in $named; do
  if grep -qxF "$v" <<<"$code_vars$(printf '\n')$script_vars"; then continue; fi
  if grep -qw "$v" <<<"$pending"; then waiting+=" $v"; continue; fi
  out+=" $v"
done
if [ -z "$out" ]; then
  ok "every WAYMARK_* variable in docs/operations.md and deploy/ is read by the code${waiting:+ (not yet:$waiting)}"
else
  fail "named in docs/operations.md or deploy/ but read by nothing:$out"
fi

# --- systemd ---------------------------------------------------------------------------------
# systemd-analyze verify --root needs the distribution's units (sysinit.target, …) and every
# command of ExecStart= inside that root. It reports bad values ("…, ignoring") with exit
# status 0: any output at all is a failure here.
mkdir -p "$T/lib/systemd" "$T/usr/bin"
cp -a /lib/systemd/system "$T/lib/systemd/"
cp /usr/bin/env "$T/usr/bin/env"
units=(waymark-serve@1.service waymark-serve@2.service waymark-worker.service waymark-migrate.service waymark.target)
verify() { # verify UNIT…: no output, exit 0
  local out rc
  out=$(cd / && systemd-analyze verify --root="$T" --man=no "$@" 2>&1)
  rc=$?
  [ $rc = 0 ] && [ -z "$out" ] && return 0
  printf '%s\n(exit %s)\n' "$out" "$rc"
  return 1
}
check "systemd-analyze verify ${units[*]}" verify "${units[@]}"
# Controls: a broken copy of the responder's unit must fail the same check.
sed -e 's/^ProtectSystem=strict/ProtectSystem=stricter/' "$T/etc/systemd/system/waymark-serve@.service" \
  > "$T/etc/systemd/system/waymark-broken-value@.service"
sed -e 's#/opt/waymark/bin/waymark serve#/opt/waymark/bin/waymark-missing serve#; s#^ExecStart=/usr/bin/env #ExecStart=#' \
  "$T/etc/systemd/system/waymark-serve@.service" > "$T/etc/systemd/system/waymark-broken-exec@.service"
if out=$(verify waymark-broken-value@1.service); then fail "control: verify passed a unit with ProtectSystem=stricter"; else ok "control: verify rejects a broken unit (bad value: $(grep -o 'Failed to parse[^,]*' <<<"$out" | head -n 1))"; fi
if out=$(verify waymark-broken-exec@1.service); then fail "control: verify passed a unit whose binary is missing"; else ok "control: verify rejects a broken unit (missing executable)"; fi
rm -f "$T"/etc/systemd/system/waymark-broken-*
check "systemctl --root enable waymark.target waymark-serve@1 waymark-serve@2 waymark-worker waymark-migrate" \
  bash -c "systemctl --root='$T' enable waymark.target waymark-serve@1 waymark-serve@2 waymark-worker waymark-migrate >/dev/null 2>&1 &&
    test -L '$T/etc/systemd/system/waymark.target.wants/waymark-serve@1.service' &&
    test -L '$T/etc/systemd/system/waymark.target.wants/waymark-serve@2.service' &&
    test -L '$T/etc/systemd/system/waymark.target.wants/waymark-worker.service' &&
    test -L '$T/etc/systemd/system/multi-user.target.wants/waymark.target'"
exposure=$(cd / && systemd-analyze security --offline=yes --root="$T" waymark-serve@1.service 2>/dev/null | sed -nE 's/.*Overall exposure level for [^:]*: ([0-9.]+).*/\1/p')
check "systemd-analyze security: waymark-serve@1, worker, migrate exposure at most 3.0 (serve: ${exposure:-?})" \
  bash -c "cd / && systemd-analyze security --offline=yes --root='$T' --threshold=30 waymark-serve@1.service waymark-worker.service waymark-migrate.service >/dev/null"

# --- nginx -----------------------------------------------------------------------------------
N=$T/etc/nginx
W=$tmp/nginx
mkdir -p "$W/log" "$W/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=tracker.example.com \
  -keyout "$W/tls/privkey.pem" -out "$W/tls/fullchain.pem" >/dev/null 2>&1
cp /etc/nginx/mime.types /etc/nginx/fastcgi_params "$N/"
# The site as installed, with the throwaway certificate and log folder in place of the server's.
render_site() { # render_site SRC DEST
  sed -e "s#/etc/letsencrypt/live/[^/]*/#$W/tls/#g" -e "s#/var/log/waymark/#$W/log/#g" "$1" > "$2"
}
nginx_conf() { # nginx_conf FILE SITE PREFIX: a main config of its own around SITE
  mkdir -p "$3/tmp"
  # Debian's dynamic modules, as /etc/nginx/nginx.conf loads them (their paths are relative to
  # the default prefix, /usr/share/nginx).
  cat /etc/nginx/modules-enabled/*.conf 2>/dev/null | sed 's#^\([[:space:]]*load_module[[:space:]]*\)modules/#\1/usr/share/nginx/modules/#' > "$1.modules"
  cat > "$1" <<CONF
user www-data;
worker_processes 2;
pid $3/nginx.pid;
error_log $3/error.log warn;
include $1.modules;
events { worker_connections 1024; }
http {
    include mime.types;
    default_type application/octet-stream;
    client_body_temp_path $3/tmp/body;
    proxy_temp_path $3/tmp/proxy;
    fastcgi_temp_path $3/tmp/fastcgi;
    uwsgi_temp_path $3/tmp/uwsgi;
    scgi_temp_path $3/tmp/scgi;
    access_log $3/access.log;
    include $2;
}
CONF
}
render_site "$N/sites-available/waymark" "$N/check-site.conf"
nginx_conf "$N/check-nginx.conf" "$N/check-site.conf" "$W"
check "nginx -t on the site (self-signed certificate in place of certbot's, own prefix and pid)" \
  nginx -t -q -p "$W" -e "$W/error.log" -c "$N/check-nginx.conf"
sed -e '0,/fastcgi_pass waymark_app;/s//fastcgi_pass waymark_app/' "$N/snippets/waymark-fastcgi.conf" > "$N/snippets/waymark-fastcgi-broken.conf"
sed -e 's#snippets/waymark-fastcgi.conf#snippets/waymark-fastcgi-broken.conf#' "$N/check-site.conf" > "$N/check-site-broken.conf"
nginx_conf "$N/check-nginx-broken.conf" "$N/check-site-broken.conf" "$W"
if out=$(nginx -t -q -p "$W" -e "$W/error.log" -c "$N/check-nginx-broken.conf" 2>&1); then
  fail "control: nginx -t passed a site with a missing ';'"
elif grep -q 'waymark-fastcgi-broken.conf' <<<"$out"; then
  ok "control: nginx -t rejects a broken site ($(sed -nE 's/.*\[emerg\] ([^"]*"[^"]*").*/\1/p' <<<"$out" | head -n 1))"
else
  fail "control: nginx -t failed on the broken site for another reason" "$out"
fi
# The site's FastCGI params and headers are the development config's (nginx/).
directives() { grep -hvE '^[[:space:]]*(#|$)' "$@" | sed -E 's/[[:space:]]+/ /g; s/^ //; s/ $//'; }
out=""
for pair in fastcgi.conf:waymark-fastcgi.conf fastcgi-click.conf:waymark-fastcgi-click.conf; do
  while IFS= read -r d; do
    d=$(sed -e 's#^include /etc/nginx/fastcgi_params;#include fastcgi_params;#' \
      -e 's#^include @VAR@/nginx/geoip.conf;#include snippets/waymark-geoip.conf;#' <<<"$d")
    directives "$ROOT/deploy/nginx/${pair#*:}" "$ROOT/deploy/nginx/waymark-fastcgi-params.conf" | grep -qxF "$d" || out+=$'\n'"${pair%%:*}: $d"
  done < <(directives "$ROOT/nginx/fastcgi-params.conf" "$ROOT/nginx/${pair%%:*}" | grep -vxF 'include @VAR@/nginx/fastcgi-params.conf;')
done
if [ -z "$out" ]; then
  ok "site FastCGI params match nginx/fastcgi.conf and nginx/fastcgi-click.conf"
else
  fail "nginx/ lines missing from deploy/nginx:" "$out"
fi
if diff <(directives "$ROOT/nginx/security-headers.conf") <(directives "$ROOT/deploy/nginx/waymark-security-headers.conf") >/dev/null; then
  ok "site security headers match nginx/security-headers.conf"
else
  fail "deploy/nginx/waymark-security-headers.conf differs from nginx/security-headers.conf" \
    "$(diff <(directives "$ROOT/nginx/security-headers.conf") <(directives "$ROOT/deploy/nginx/waymark-security-headers.conf"))"
fi
out=$(grep -c 'fastcgi_next_upstream off;' "$ROOT/deploy/nginx/waymark-fastcgi.conf")
clicks_only=$(grep -c 'include snippets/waymark-fastcgi-click.conf' "$ROOT/deploy/nginx/waymark-site.conf")
other_click=$(grep 'include snippets/waymark-fastcgi-click.conf' "$ROOT/deploy/nginx/waymark-site.conf" | grep -vc 'location \^~ /c/ ' || true)
if [ "$out" = 1 ] && [ "$clicks_only" = 2 ] && [ "$other_click" = 0 ] && ! grep -q 'fastcgi_pass waymark_app' "$ROOT/deploy/nginx/waymark-site.conf"; then
  ok "every request to the upstream goes through snippets/waymark-fastcgi.conf (next_upstream off), /c/ alone through …-click.conf"
else
  fail "fastcgi_next_upstream: off on every upstream location but /c/ (on HTTP and HTTPS)"
fi

# --- Prometheus ------------------------------------------------------------------------------
P=$tmp/prometheus
mkdir -p "$P"
cp "$ROOT/deploy/prometheus/prometheus.yml" "$ROOT/deploy/prometheus/waymark-alerts.yml" "$ROOT/Tests/Deploy/waymark-alerts.test.yml" "$P/"
check "promtool check config deploy/prometheus/prometheus.yml" promtool check config "$P/prometheus.yml"
check "promtool check rules deploy/prometheus/waymark-alerts.yml" promtool check rules "$P/waymark-alerts.yml"
check "promtool test rules Tests/Deploy/waymark-alerts.test.yml" bash -c "cd '$P' && promtool test rules waymark-alerts.test.yml"
# Every metric the alerts and the guide use is one the code exports (a "waymark_…" label in Sources/).
metrics=$(grep -rhoE '"waymark_[a-z_]+"' "$ROOT/Sources" --include=*.swift | tr -d '"' | sort -u)
out=""
for m in $(cat "$ROOT/deploy/prometheus/waymark-alerts.yml" "$ROOT/docs/operations.md" | grep -oE 'waymark_[a-z_]+_(total|seconds|bytes|size|pending|busy|threads|in_use|age_seconds|alive|bucket|count|sum)\b|waymark_(deliveries|integrations|responder_threads|workers_alive)\b' | sort -u); do
  base=$(sed -E 's/_(bucket|sum|count)$//' <<<"$m")
  grep -qxF "$base" <<<"$metrics" || out+=" $m"
done
if [ -z "$out" ]; then ok "the alerts and docs/operations.md use only metric names the code exports"; else fail "metrics named in the alerts or docs/operations.md but exported by nothing:$out"; fi

# --- logrotate -------------------------------------------------------------------------------
check "logrotate -d deploy/logrotate/waymark" logrotate -d -s "$tmp/logrotate.state" "$T/etc/logrotate.d/waymark"

# --- Live: the installed tree serving behind the throwaway nginx ------------------------------
live() {
  if [ -z "${WAYMARK_DATABASE_URL:-}" ]; then
    skip "live checks: no WAYMARK_DATABASE_URL (scripts/test.sh runs them against the test instance)"
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    skip "live checks: need root (an unprivileged user for the responders, nginx's www-data workers)"
    return 0
  fi
  local L=$tmp/live
  mkdir -p "$L/run" "$L/spool" "$L/var" "$L/log"
  local user=nobody group www_gid
  group=$(id -gn nobody)
  www_gid=$(getent group www-data | cut -d: -f3)
  [ -n "$www_gid" ] || { fail "live: no www-data group (is nginx installed?)"; return 0; }
  chown "$user:$group" "$L/run" "$L/spool" "$L/var"
  chmod 0755 "$L/run"
  # The database over TCP (the test cluster's socket folder is PostgreSQL's own), small pools.
  local url
  url=$(python3 - "$WAYMARK_DATABASE_URL" <<'PY'
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); q = dict(u.parse_qsl(p.query)); host = q.pop("host", None)
if host and host.startswith("/"):
    port = q.pop("port", "5432")
    netloc = (p.netloc.split("@")[0] + "@" if "@" in p.netloc else "") + "127.0.0.1:" + port
    p = p._replace(netloc=netloc, query=u.urlencode(q))
print(u.urlunsplit(p))
PY
)
  sed -i -e "s#^WAYMARK_DATABASE_URL=.*#WAYMARK_DATABASE_URL=$url#" "$env_file"
  printf 'WAYMARK_THREADS=24\nWAYMARK_DB_POOL=4\n' >> "$env_file"

  # The CLI wrapper, as the operator runs it (as the unprivileged user, with the env file).
  out=$(WAYMARK_ENV_FILE=$env_file WAYMARK_PREFIX=$T/opt/waymark WAYMARK_STATE=$L/var WAYMARK_USER=$user \
    "$T/usr/local/bin/waymark" migrate 2>&1)
  if grep -q "migrations: up to date\|migrations applied" <<<"$out"; then ok "live: /usr/local/bin/waymark migrate ($out)"; else fail "live: waymark migrate" "$out"; fi

  # The responders as the unit runs them: its environment, an unprivileged user in www-data.
  cat > "$L/launch.py" <<PY
import os, sys
n = sys.argv[1]
env = {"PATH": "/usr/bin:/bin"}
for line in open("$env_file", encoding="utf-8"):
    line = line.strip()
    if not line or line[0] in "#;" or "=" not in line:
        continue
    k, v = line.split("=", 1)
    env[k.strip()] = v.strip()
env.update(WAYMARK_ROOT="$T/opt/waymark", WAYMARK_VAR="$L/var", WAYMARK_SOCKET_GROUP="www-data",
           LD_LIBRARY_PATH="$T/opt/waymark/lib", WAYMARK_SOCKET="$L/run/serve-%s.sock" % n,
           WAYMARK_SPOOL="$L/spool/serve-%s" % n)
os.chdir("$T/opt/waymark")
log = os.open("$L/log/serve-%s.log" % n, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
os.dup2(log, 1); os.dup2(log, 2)
os.execvpe("setpriv", ["setpriv", "--reuid=$user", "--regid=$group", "--groups=$www_gid", "--no-new-privs",
                       "$T/opt/waymark/bin/waymark", "serve"], env)
PY
  cat > "$L/start.sh" <<SH
#!/usr/bin/env bash
rm -f "$L/run/serve-\$1.sock"
setsid python3 "$L/launch.py" "\$1" < /dev/null &
echo \$! > "$L/serve-\$1.pid"
for _ in \$(seq 1 200); do [ -S "$L/run/serve-\$1.sock" ] && exit 0; sleep 0.1; done
echo "waymark-serve@\$1 did not open its socket" >&2; exit 1
SH
  cat > "$L/restart.sh" <<SH
#!/usr/bin/env bash
pid=\$(cat "$L/serve-\$1.pid")
kill -TERM "\$pid"
while kill -0 "\$pid" 2>/dev/null; do sleep 0.05; done
exec "$L/start.sh" "\$1"
SH
  chmod +x "$L/start.sh" "$L/restart.sh"
  if ! out=$("$L/start.sh" 1 2>&1 && "$L/start.sh" 2 2>&1); then
    fail "live: responders did not start" "$out$(printf '\n'; tail -n 20 "$L"/log/serve-*.log)"
    return 0
  fi
  local sock=$L/run/serve-1.sock
  if [ "$(stat -c '%a %U %G' "$sock")" = "660 $user www-data" ]; then
    ok "live: responder sockets are 0660, group www-data, owned by the unprivileged user"
  else
    fail "live: socket $(stat -c '%a %U %G' "$sock"), wanted 660 $user www-data"
  fi

  # The site with free ports, the sockets and folders of this run, on IPv4 loopback only.
  local ports p80 p443 p1 p2
  ports=$(python3 -c '
import socket
s = [socket.socket() for _ in range(4)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
  read -r p80 p443 p1 p2 <<<"$ports"
  local site=$N/sites-available/waymark
  render_site "$site" "$L/site.conf"
  sed -i -e '/listen \[::\]/d' -e "s#listen 80;#listen 127.0.0.1:$p80;#" -e "s#listen 443 ssl http2;#listen 127.0.0.1:$p443 ssl http2;#" \
    -e "s#listen 127.0.0.1:9181;#listen 127.0.0.1:$p1;#" -e "s#listen 127.0.0.1:9182;#listen 127.0.0.1:$p2;#" \
    -e "s#/run/waymark/#$L/run/#g" -e "s#/opt/waymark/#$T/opt/waymark/#g" -e "s#/var/www/html#$T/var/www/html#g" \
    -e "s#^\([[:space:]]*keepalive\) [0-9]*;#\1 6;#" "$L/site.conf"
  nginx_conf "$L/nginx.conf" "$L/site.conf" "$L"
  cp "$N/mime.types" "$N/fastcgi_params" "$L/"
  mkdir -p "$L/snippets" && cp "$N"/snippets/waymark-* "$L/snippets/"
  local ngx=(nginx -p "$L" -e "$L/error.log" -c "$L/nginx.conf")
  if ! out=$("${ngx[@]}" 2>&1); then fail "live: nginx did not start" "$out"; return 0; fi
  for _ in $(seq 1 50); do [ -s "$L/nginx.pid" ] && break; sleep 0.1; done

  local H=tracker.example.com c=(curl -sS -m 10 -o /dev/null -w '%{http_code}')
  local r1 r2 r3 r4 r5 r6 r7 r8
  r1=$("${c[@]}" -k --resolve "$H:$p443:127.0.0.1" "https://$H:$p443/healthz")
  r2=$("${c[@]}" "http://127.0.0.1:$p1/healthz")
  r3=$("${c[@]}" "http://127.0.0.1:$p2/healthz")
  r4=$("${c[@]}" --resolve "$H:$p80:127.0.0.1" "http://$H:$p80/c/nosuchcampaign")
  r5=$("${c[@]}" --resolve "$H:$p80:127.0.0.1" "http://$H:$p80/login")
  r6=$("${c[@]}" -k --resolve "$H:$p443:127.0.0.1" "https://$H:$p443/static/waymark.css")
  r7=$("${c[@]}" -k --interface 127.0.0.2 --resolve "$H:$p443:127.0.0.1" "https://$H:$p443/metrics")
  r8=$("${c[@]}" -k --resolve "$H:$p443:127.0.0.1" "https://$H:$p443/login")
  if [ "$r1 $r2 $r3" = "200 200 200" ]; then ok "live: /healthz 200 through the upstream and on each responder's loopback port"; else fail "live: /healthz upstream $r1, @1 $r2, @2 $r3" "$(tail -n 20 "$L/error.log" "$L"/log/serve-*.log)"; fi
  if [ "$r4" = 404 ] && [ "$r5" = 301 ]; then ok "live: HTTP: tracking paths reach the responder (unknown campaign 404), others 301 to HTTPS"; else fail "live: HTTP /c/… $r4 (want 404), /login $r5 (want 301)"; fi
  if [ "$r6" = 200 ] && [ "$r8" = 200 ]; then ok "live: HTTPS: static/ from /opt/waymark/static, the login page from the templates"; else fail "live: /static/waymark.css $r6, /login $r8"; fi
  if [ "$r7" = 403 ]; then ok "live: /metrics refused to a non-loopback address (403)"; else fail "live: /metrics from 127.0.0.2 answered $r7 (want 403)"; fi
  local m1
  m1=$(curl -sS -m 10 -w '\n%{http_code}' "http://127.0.0.1:$p1/metrics")
  case "$(tail -n 1 <<<"$m1")" in
    200) if grep -q '^waymark_responder_threads ' <<<"$m1"; then ok "live: /metrics on a responder's loopback port (Prometheus text)"; else fail "live: /metrics has no waymark_responder_threads" "$m1"; fi ;;
    404) skip "live: /metrics: this binary has no such route yet (built before it)" ;;
    *) fail "live: /metrics on 127.0.0.1:$p1 answered $(tail -n 1 <<<"$m1")" "$m1" ;;
  esac
  local headers
  headers=$(curl -sS -k -m 10 -D - -o /dev/null --resolve "$H:$p443:127.0.0.1" "https://$H:$p443/login" | tr -d '\r')
  if grep -qi '^x-frame-options: DENY' <<<"$headers" && grep -qi '^strict-transport-security:' <<<"$headers" &&
    grep -qi '^content-security-policy:' <<<"$headers"; then
    ok "live: security headers on HTTPS answers"
  else
    fail "live: security headers missing" "$headers"
  fi

  # A rolling restart under load: not one request refused or lost.
  local before1 before2
  before1=$(cat "$L/serve-1.pid") before2=$(cat "$L/serve-2.pid")
  # A user agent of its own per request: the upstream hashes the visitor (address + user agent)
  # to a responder, so one agent alone would only ever reach one of the two.
  cat > "$L/agents.lua" <<'LUA'
request = function()
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["User-Agent"] = "deploy-check " .. math.random(1, 100000)
  return wrk.format(nil, nil, headers)
end
LUA
  wrk -t2 -c8 -d12s -s "$L/agents.lua" -H "Host: $H" -H "Connection: close" "https://127.0.0.1:$p443/healthz" > "$L/wrk.txt" 2>&1 &
  local wrk_pid=$!
  pids+=("$wrk_pid")
  sleep 1.5
  out=$(WAYMARK_SITE=$L/site.conf WAYMARK_NGINX_PID=$L/nginx.pid WAYMARK_NGINX_TEST="${ngx[*]} -t -q" \
    WAYMARK_NGINX_RELOAD="${ngx[*]} -s reload" WAYMARK_RESTART="$L/restart.sh {}" WAYMARK_HEALTH_TIMEOUT=30 \
    "$T/opt/waymark/bin/waymark-rolling-restart" 2>&1)
  local rc=$?
  wait "$wrk_pid"
  local total non2xx errors
  total=$(sed -nE 's/^[[:space:]]*([0-9]+) requests in.*/\1/p' "$L/wrk.txt")
  non2xx=$(sed -nE 's/.*Non-2xx or 3xx responses: ([0-9]+).*/\1/p' "$L/wrk.txt")
  errors=$(sed -nE 's/.*Socket errors: (.*)/\1/p' "$L/wrk.txt")
  if [ $rc = 0 ] && [ "$before1" != "$(cat "$L/serve-1.pid")" ] && [ "$before2" != "$(cat "$L/serve-2.pid")" ] &&
    [ "${total:-0}" -gt 0 ] && [ -z "$non2xx" ] && [ -z "$errors" ] && ! grep -q ' down;' "$L/site.conf"; then
    ok "live: waymark-rolling-restart restarted both responders under load: $total requests, none refused or lost"
  else
    fail "live: rolling restart (exit $rc): ${total:-?} requests, non-2xx ${non2xx:-0}, socket errors ${errors:-none}" \
      "$out$(printf '\n'; cat "$L/wrk.txt")"
  fi

  # Control: the same load while a responder is restarted without being taken out of the
  # upstream first refuses requests (nginx does not resend them), which the check above would see.
  wrk -t2 -c8 -d6s -s "$L/agents.lua" -H "Host: $H" -H "Connection: close" "https://127.0.0.1:$p443/healthz" > "$L/wrk-control.txt" 2>&1 &
  wrk_pid=$!
  pids+=("$wrk_pid")
  sleep 1.5
  "$L/restart.sh" 1 >/dev/null 2>&1
  wait "$wrk_pid"
  non2xx=$(sed -nE 's/.*Non-2xx or 3xx responses: ([0-9]+).*/\1/p' "$L/wrk-control.txt")
  errors=$(sed -nE 's/.*Socket errors: (.*)/\1/p' "$L/wrk-control.txt")
  if [ -n "$non2xx$errors" ]; then
    ok "control: a restart without taking the responder out of the upstream refuses requests (non-2xx ${non2xx:-0}${errors:+, socket errors $errors})"
  else
    fail "control: a plain restart under load refused nothing: the rolling-restart check cannot tell" "$(cat "$L/wrk-control.txt")"
  fi
}
live

if [ "$failures" = 0 ]; then echo "deploy: all $passed checks ok"; else echo "deploy: $failures check(s) FAILED ($passed ok)"; fi
[ "$failures" = 0 ]
