#!/usr/bin/env bash
# Installs the real peers the test-suite talks to, from Debian packages, only when missing.
# CI has no Docker: mosquitto (MQTT bridge tests), clickhouse-server (server-backend tests),
# chromium + chromium-driver (headless browser e2e), nodejs/npm only if the dashboard needs a rebuild.
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
{ [ -x /usr/sbin/clickhouse-server ] || [ -x /usr/bin/clickhouse-server ]; } || need+=(clickhouse-server clickhouse-client)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# deploy/ checks: `docker-compose config` validates the compose file, `kubectl kustomize` renders the manifests
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v kubectl >/dev/null 2>&1 || need+=(kubectl)
# a CJK font so zh-CN screenshots of the command-center page are legible
[ -d /usr/share/fonts/truetype/wqy ] || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: missing ${need[*]} and not root; tests needing them will fail with a clear message" >&2
  exit 0
fi
echo "install-test-deps: apt-get install ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || {
  # one unavailable package must not block the others (their tests then fail or skip with a reason)
  for pkg in "${need[@]}"; do apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null || \
    echo "install-test-deps: could not install $pkg" >&2; done; }
# Debian's packages start services on install where an init system exists; tests start their own.
pkill -x mosquitto 2>/dev/null || true
pkill -f clickhouse-server 2>/dev/null || true
