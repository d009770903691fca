#!/usr/bin/env bash
# Installs Waymark on a Debian 12 server, as root, from this checkout (docs/operations.md):
#   deploy/install.sh --domain tracker.example.com [--domain t2.example.com …]
#   deploy/install.sh --no-build --binary PATH …    an already built binary (no Swift build)
#   deploy/install.sh --root DIR …                  into DIR instead of / (DESTDIR=DIR works
#                                                   too): no apt, no user, no systemctl, no nginx
#                                                   reload — the files only (scripts/check_deploy.sh)
#
# What it does (each step is safe to repeat; an upgrade is the same command):
#   apt packages (the missing ones), the "waymark" system user, `swift build -c release`,
#   /opt/waymark (bin/waymark + the Swift runtime it links in lib/, templates/, static/, data/,
#   db/migrations/, docs/), /usr/local/bin/waymark (the CLI with the server's settings),
#   /etc/waymark/waymark.env (from deploy/waymark.env.example, only when missing, with a new
#   WAYMARK_SECRET_KEY), /var/lib/waymark (spools), /var/log/waymark (nginx logs), the systemd
#   units, the nginx site (sites-available/waymark; enabled once the certificate exists), the
#   logrotate file. It starts nothing: docs/operations.md says what comes next.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root=${DESTDIR:-/}
build=1
binary=""
apt=1
domains=()

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=${2:?--root needs a directory}; shift 2 ;;
    --root=*) root=${1#--root=}; shift ;;
    --no-build) build=0; shift ;;
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --binary=*) binary=${1#--binary=}; shift ;;
    --domain) domains+=("${2:?--domain needs a name}"); shift 2 ;;
    --domain=*) domains+=("${1#--domain=}"); shift ;;
    --no-apt) apt=0; shift ;;
    -h | --help) usage 0 ;;
    *) echo "install.sh: unknown argument $1" >&2; usage 2 ;;
  esac
done

log() { printf '[install] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ -d "$root" ] || die "--root $root is not a directory"
root=$(cd "$root" && pwd)
system=0
[ "$root" = / ] && system=1
R=${root%/}   # prefix for every path below ("" on the real system)
[ ${#domains[@]} -gt 0 ] || domains=(tracker.example.com)
for d in "${domains[@]}"; do
  [[ $d =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] || die "not a domain name: $d"
done
domain=${domains[0]}
if [ "$system" = 1 ] && [ "$(id -u)" != 0 ]; then die "run as root (or use --root DIR)"; fi
[ "$build" = 1 ] || [ -n "$binary" ] || binary=$src/.build/release/waymark

# --- Debian packages -------------------------------------------------------------------------
packages=(nginx libnginx-mod-http-geoip geoip-database postgresql certbot logrotate curl ca-certificates
  openssl libfcgi0ldbl libpq5 libcurl4 libxml2)
# To build: the C libraries' headers and what the Swift toolchain needs on Debian 12.
[ "$build" = 1 ] && packages+=(libfcgi-dev libpq-dev libcurl4-openssl-dev binutils git gnupg2 libc6-dev libedit2
  libgcc-12-dev libpython3-dev libsqlite3-0 libstdc++-12-dev libxml2-dev libncurses-dev libz3-dev pkg-config tzdata
  zlib1g-dev)
if [ "$system" = 1 ] && [ "$apt" = 1 ]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# --- Build -----------------------------------------------------------------------------------
if [ "$build" = 1 ]; then
  swift=$(command -v swift || true)
  [ -n "$swift" ] || { [ -x /opt/swift/usr/bin/swift ] && swift=/opt/swift/usr/bin/swift; } ||
    die "no Swift toolchain: install Swift 6.3 at /opt/swift (docs/operations.md) or use --no-build --binary PATH"
  log "swift build -c release (in $src)"
  (cd "$src" && PATH=$(dirname "$swift"):$PATH "$swift" build -c release)
  binary=${binary:-$src/.build/release/waymark}
fi
[ -x "$binary" ] || die "no executable binary at $binary"
"$binary" --help >/dev/null || die "$binary --help failed (missing libraries? ldd $binary)"

# --- User ------------------------------------------------------------------------------------
if [ "$system" = 1 ]; then
  if ! getent passwd waymark >/dev/null; then
    log "creating the system user waymark"
    useradd --system --user-group --home-dir /var/lib/waymark --no-create-home --shell /usr/sbin/nologin waymark
  fi
  getent group www-data >/dev/null || die "no www-data group (nginx's): is nginx installed?"
fi
own() { [ "$system" = 1 ] && chown "$@"; return 0; }

# --- /opt/waymark ----------------------------------------------------------------------------
P=$R/opt/waymark
install -d -m 0755 "$P" "$P/bin" "$P/lib" "$P/docs" "$P/share" "$P/share/prometheus" "$P/share/nginx"
put() { # put SRC DEST MODE: replaced by a rename, so running processes keep their copy
  local tmp; tmp=$(dirname "$2")/.$(basename "$2").new
  install -m "$3" "$1" "$tmp" && mv -f "$tmp" "$2"
}
put_dir() { # put_dir SRC DEST: a directory replaced whole
  local new=$2.new old=$2.old
  rm -rf "$new" "$old"
  cp -R "$1" "$new"
  chmod -R u=rwX,go=rX "$new"
  [ -e "$2" ] && mv "$2" "$old"
  mv "$new" "$2"
  rm -rf "$old"
}
log "installing into ${R:-/}/opt/waymark"
put "$binary" "$P/bin/waymark" 0755
# The Swift runtime the binary links (everything outside Debian's own library folders), beside
# it: the units set LD_LIBRARY_PATH=/opt/waymark/lib, so a later toolchain at /opt/swift (or
# none) never changes what runs.
libs=$(ldd "$binary") || die "ldd $binary failed"
if grep -q "not found" <<<"$libs"; then
  die "$binary needs libraries that are not here: $(grep 'not found' <<<"$libs" | awk '{print $1}' | tr '\n' ' ')"
fi
while read -r lib; do
  put "$lib" "$P/lib/$(basename "$lib")" 0644
done < <(awk '$2 == "=>" && $3 ~ /^\// && $3 !~ /^\/(usr\/)?lib(32|64)?\// {print $3}' <<<"$libs")
put_dir "$src/templates" "$P/templates"
put_dir "$src/static" "$P/static"
put_dir "$src/data" "$P/data"
install -d -m 0755 "$P/db"
put_dir "$src/db/migrations" "$P/db/migrations"
for f in "$src"/docs/*.md "$src/docs/openapi.json"; do put "$f" "$P/docs/$(basename "$f")" 0644; done
put "$src/deploy/bin/waymark-rolling-restart" "$P/bin/waymark-rolling-restart" 0755
for f in "$src"/deploy/prometheus/*.yml; do put "$f" "$P/share/prometheus/$(basename "$f")" 0644; done
put "$src/deploy/waymark.env.example" "$P/share/waymark.env.example" 0644
{
  echo "installed $(date -u +%FT%TZ) from $src"
  echo "binary sha256 $(sha256sum "$binary" | cut -d' ' -f1)"
} > "$P/VERSION"
install -d -m 0755 "$R/usr/local/bin"
put "$src/deploy/bin/waymark" "$R/usr/local/bin/waymark" 0755

# --- State, logs, settings -------------------------------------------------------------------
install -d -m 0750 "$R/var/lib/waymark" "$R/var/lib/waymark/spool"
own -R waymark:waymark "$R/var/lib/waymark"
install -d -m 0755 "$R/var/log/waymark"
own root:adm "$R/var/log/waymark"
install -d -m 0755 "$R/etc/waymark"
env_file=$R/etc/waymark/waymark.env
if [ -e "$env_file" ]; then
  log "keeping $env_file (never overwritten; the example is $P/share/waymark.env.example)"
else
  key=$(openssl rand -base64 32)
  (umask 077 && sed -e "s#^WAYMARK_SECRET_KEY=.*#WAYMARK_SECRET_KEY=$key#" \
    -e "s#^WAYMARK_PUBLIC_URL=.*#WAYMARK_PUBLIC_URL=https://$domain#" \
    -e "s#^WAYMARK_PUBLIC_HTTP_URL=.*#WAYMARK_PUBLIC_HTTP_URL=http://$domain#" \
    "$src/deploy/waymark.env.example" > "$env_file")
  chmod 0600 "$env_file"
  own root:root "$env_file"
  log "wrote $env_file (with a new WAYMARK_SECRET_KEY: keep a copy with your backups)"
fi
setting() { sed -nE "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*([^[:space:]]*).*/\1/p" "$env_file" | tail -n 1; }
for v in WAYMARK_SOCKET WAYMARK_SPOOL; do
  [ -z "$(setting $v)" ] || log "warning: $env_file sets $v; the units set it per responder and ignore it there"
done

# --- systemd ---------------------------------------------------------------------------------
install -d -m 0755 "$R/etc/systemd/system"
for f in "$src"/deploy/systemd/*; do put "$f" "$R/etc/systemd/system/$(basename "$f")" 0644; done

# --- nginx -----------------------------------------------------------------------------------
threads=$(setting WAYMARK_THREADS); [[ $threads =~ ^[0-9]+$ ]] || threads=160
workers=$(nproc)
keepalive=$((threads / (2 * workers)))
[ "$keepalive" -ge 1 ] || keepalive=1
install -d -m 0755 "$R/etc/nginx/sites-available" "$R/etc/nginx/sites-enabled" "$R/etc/nginx/snippets" "$R/var/www/html"
for f in waymark-fastcgi.conf waymark-fastcgi-click.conf waymark-fastcgi-params.conf waymark-security-headers.conf; do
  put "$src/deploy/nginx/$f" "$R/etc/nginx/snippets/$f" 0644
done
geo_module=/usr/lib/nginx/modules/ngx_http_geoip_module.so
if [ -f "$geo_module" ] && [ -f /usr/share/GeoIP/GeoIP.dat ]; then
  echo "geoip_country /usr/share/GeoIP/GeoIP.dat;" > "$R/etc/nginx/snippets/waymark-geoip-http.conf"
  echo "fastcgi_param GEOIP_COUNTRY_CODE \$geoip_country_code;" > "$R/etc/nginx/snippets/waymark-geoip.conf"
else
  echo "# no GeoIP (libnginx-mod-http-geoip or geoip-database missing when install.sh ran)" |
    tee "$R/etc/nginx/snippets/waymark-geoip-http.conf" > "$R/etc/nginx/snippets/waymark-geoip.conf"
fi
rendered=$(mktemp)
trap 'rm -f "$rendered"' EXIT
sed -e "s#/etc/letsencrypt/live/tracker\.example\.com/#/etc/letsencrypt/live/$domain/#g" \
  -e "s#server_name tracker\.example\.com;#server_name ${domains[*]};#" \
  -e "s#-d tracker\.example\.com#-d $domain#g" \
  -e "s#^\([[:space:]]*keepalive\) [0-9]*;#\1 $keepalive;#" "$src/deploy/nginx/waymark-site.conf" > "$rendered"
site=$R/etc/nginx/sites-available/waymark
pristine=$P/share/nginx/waymark-site.conf
# The site is replaced only while it is as this script last wrote it (apart from the "down"
# marks of a rolling restart); an edited one is kept and the new one put beside it.
if [ ! -e "$site" ] || { [ -e "$pristine" ] && diff -q <(sed 's/ down;/;/' "$site") "$pristine" >/dev/null; }; then
  put "$rendered" "$site" 0644
else
  put "$rendered" "$site.new" 0644
  log "keeping your edited $site; the new version is $site.new (compare and merge)"
fi
put "$rendered" "$pristine" 0644
cert=/etc/letsencrypt/live/$domain/fullchain.pem
if [ -e "$R$cert" ]; then
  ln -sfn ../sites-available/waymark "$R/etc/nginx/sites-enabled/waymark"
elif [ ! -e "$R/etc/nginx/sites-enabled/waymark" ]; then
  log "nginx site not enabled yet: no certificate at $cert (docs/operations.md, \"TLS\")"
fi

# --- logrotate -------------------------------------------------------------------------------
install -d -m 0755 "$R/etc/logrotate.d"
put "$src/deploy/logrotate/waymark" "$R/etc/logrotate.d/waymark" 0644

# --- Apply (the real system only) ------------------------------------------------------------
if [ "$system" = 1 ]; then
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
  fi
  if [ -e /etc/nginx/sites-enabled/waymark ]; then
    nginx -t -q || die "nginx -t failed: see the message above"
    if [ -d /run/systemd/system ] && systemctl is-active --quiet nginx; then systemctl reload nginx; fi
  fi
fi
log "done: ${R:-/}/opt/waymark ($(basename "$binary"), keepalive $keepalive for $threads threads × $workers nginx workers)"
[ "$system" = 1 ] && log "next: docs/operations.md (database, $env_file, systemctl enable --now …)"
exit 0
