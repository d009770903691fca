#!/usr/bin/env bash
# Waymark's own nginx: render | start | stop | reload. Config under $WAYMARK_VAR/nginx.
set -euo pipefail
source "$(dirname "$0")/env.sh"
conf_dir=$WAYMARK_VAR/nginx
conf=$conf_dir/nginx.conf

render() {
  mkdir -p "$conf_dir"/tmp/{body,proxy,fastcgi,uwsgi,scgi} "$conf_dir/extra" "$WAYMARK_VAR/log" "$WAYMARK_VAR/run"
  local user_line=""
  if [ "$(id -u)" = 0 ]; then
    # Workers run as the checkout's owner, so they can read static/ and reach the socket.
    user_line="user $(stat -c %U "$WAYMARK_ROOT") $(stat -c %G "$WAYMARK_ROOT");"
  fi
  local threads=${WAYMARK_THREADS:-160} workers; workers=$(nproc)
  # Idle kept upstream connections per worker (they hold no responder thread).
  local keepalive=${WAYMARK_UPSTREAM_KEEPALIVE:-$(( threads / (2 * workers) ))}
  [ "$keepalive" -ge 1 ] || keepalive=1
  local geo_http="" geo_param="" modules=""
  local geo_module=/usr/lib/nginx/modules/ngx_http_geoip_module.so
  if [ -f "$geo_module" ] && [ -f /usr/share/GeoIP/GeoIP.dat ]; then
    modules="load_module $geo_module;"
    geo_http="geoip_country /usr/share/GeoIP/GeoIP.dat;"
    geo_param="fastcgi_param GEOIP_COUNTRY_CODE \$geoip_country_code;"
  fi
  echo "$geo_http" > "$conf_dir/geoip-http.conf"
  echo "$geo_param" > "$conf_dir/geoip.conf"
  local max_body=${WAYMARK_NGINX_MAX_BODY:-20m}
  # WAYMARK_METRICS_ALLOW: a comma list of addresses or CIDRs that may also read /metrics.
  local metrics_allow="" item
  for item in ${WAYMARK_METRICS_ALLOW:+${WAYMARK_METRICS_ALLOW//,/ }}; do
    [[ "$item" =~ ^[0-9A-Fa-f.:]+(/[0-9]{1,3})?$ ]] || { log "WAYMARK_METRICS_ALLOW: not an address or CIDR: $item"; exit 1; }
    metrics_allow+="allow $item; "
  done
  # WAYMARK_RESPONDERS sockets (the first WAYMARK_SOCKET, then …-2.sock, …), and responders on
  # other hosts: WAYMARK_UPSTREAM_EXTRA=host:port,host:port (their WAYMARK_LISTEN).
  local servers="" i n=${WAYMARK_RESPONDERS:-1}
  [[ "$n" =~ ^[1-9]$ ]] || { log "WAYMARK_RESPONDERS must be 1-9"; exit 1; }
  for i in $(seq 1 "$n"); do servers+="server unix:$(responder_socket "$i") max_fails=1 fail_timeout=2s; "; done
  for item in ${WAYMARK_UPSTREAM_EXTRA:+${WAYMARK_UPSTREAM_EXTRA//,/ }}; do
    [[ "$item" =~ ^[A-Za-z0-9.-]+:[0-9]{1,5}$ ]] || { log "WAYMARK_UPSTREAM_EXTRA: not host:port: $item"; exit 1; }
    servers+="server $item max_fails=1 fail_timeout=2s; "
  done
  for f in waymark.conf.template fastcgi.conf fastcgi-params.conf fastcgi-click.conf security-headers.conf; do
    local out=$conf_dir/$f
    [ "$f" = waymark.conf.template ] && out=$conf
    sed -e "s#@USER_LINE@#$user_line#g" -e "s#@LOAD_MODULES@#$modules#g" -e "s#@VAR@#$WAYMARK_VAR#g" -e "s#@ROOT@#$WAYMARK_ROOT#g" \
        -e "s#@SOCKET@#$WAYMARK_SOCKET#g" -e "s#@HTTP_PORT@#$WAYMARK_HTTP_PORT#g" \
        -e "s#@HTTPS_PORT@#$WAYMARK_HTTPS_PORT#g" -e "s#@TLS_CERT@#$WAYMARK_VAR/tls/cert.pem#g" \
        -e "s#@TLS_KEY@#$WAYMARK_VAR/tls/key.pem#g" -e "s#@MAX_BODY@#$max_body#g" \
        -e "s#@UPSTREAM_KEEPALIVE@#$keepalive#g" -e "s#@LOGIN_RATE@#${WAYMARK_LOGIN_RATE:-30r/m}#g" \
        -e "s#@METRICS_ALLOW@#$metrics_allow#g" -e "s#@UPSTREAM_SERVERS@#$servers#g" "$WAYMARK_ROOT/nginx/$f" > "$out"
  done
  nginx -q -t -p "$conf_dir" -c "$conf" -e "$WAYMARK_VAR/log/nginx-error.log"
}

running() { [ -f "$conf_dir/nginx.pid" ] && kill -0 "$(cat "$conf_dir/nginx.pid")" 2>/dev/null; }

start() {
  render
  if running; then
    nginx -p "$conf_dir" -c "$conf" -e "$WAYMARK_VAR/log/nginx-error.log" -s reload
  else
    nginx -p "$conf_dir" -c "$conf" -e "$WAYMARK_VAR/log/nginx-error.log"
  fi
}

stop() {
  running || return 0
  local pid; pid=$(cat "$conf_dir/nginx.pid")
  kill -QUIT "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -TERM "$pid" 2>/dev/null || true
}

case "${1:-}" in
  render) render ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 render|start|stop" >&2; exit 2 ;;
esac
