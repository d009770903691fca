#!/usr/bin/env bash
# A self-signed ECDSA P-256 certificate for localhost under $WAYMARK_VAR/tls (made once).
set -euo pipefail
source "$(dirname "$0")/env.sh"
dir=$WAYMARK_VAR/tls
[ -f "$dir/cert.pem" ] && [ -f "$dir/key.pem" ] && exit 0
mkdir -p "$dir"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" >/dev/null 2>&1
chmod 644 "$dir/cert.pem"
log "self-signed certificate created in $dir"
