#!/usr/bin/env bash
# Starts a private Docker engine for tests, leaving the host's networking alone: no docker0 bridge,
# no iptables rules, no ip_forward change, its own data root, exec root and unix socket.
# Usage: start-test-engine.sh [DIR]   (default DIR: /tmp/decnet-engine)
# Prints the DOCKER_HOST to use on stdout. Needs root.
set -euo pipefail

dir=${1:-${DECNET_TEST_ENGINE_DIR:-/tmp/decnet-engine}}
socket="$dir/docker.sock"
pidfile="$dir/dockerd.pid"

log() { printf 'start-test-engine: %s\n' "$*" >&2; }

if ! command -v dockerd >/dev/null; then
  log "installing docker.io"
  DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io >/dev/null
fi

mkdir -p "$dir/data" "$dir/exec"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  log "engine already running (pid $(cat "$pidfile"))"
else
  rm -f "$pidfile" "$socket"
  setsid dockerd --bridge=none --iptables=false --ip6tables=false --ip-forward=false \
    --data-root "$dir/data" --exec-root "$dir/exec" -H "unix://$socket" -p "$pidfile" \
    >"$dir/dockerd.log" 2>&1 </dev/null &
fi

for _ in $(seq 1 120); do
  if docker -H "unix://$socket" info >/dev/null 2>&1; then
    echo "unix://$socket"
    exit 0
  fi
  sleep 0.5
done
log "dockerd did not answer within 60 s; last log lines:"
tail -n 20 "$dir/dockerd.log" >&2 || true
exit 1
