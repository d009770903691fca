#!/usr/bin/env bash
# Installs the Debian packages Waymark needs, only those that are missing.
set -euo pipefail
packages=(nginx libnginx-mod-http-geoip geoip-database postgresql libfcgi-dev libpq-dev
  libcurl4-openssl-dev libxml2 openssl curl ca-certificates wrk chromium chromium-driver python3-selenium
  pgbackrest systemd prometheus logrotate)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "[waymark] installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the packaged services; Waymark runs its own, so stop those (ports 80, 5432).
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now nginx >/dev/null 2>&1 || true
  $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
else
  $sudo service nginx stop >/dev/null 2>&1 || true
  $sudo service prometheus stop >/dev/null 2>&1 || true
fi
