#!/usr/bin/env bash
# Stops the engine started by start-test-engine.sh, by the PID it recorded, and waits for it to exit.
# Usage: stop-test-engine.sh [DIR] [--purge]   (--purge also deletes DIR: images, containers, volumes)
set -euo pipefail

dir=${1:-${DECNET_TEST_ENGINE_DIR:-/tmp/decnet-engine}}
pidfile="$dir/dockerd.pid"

if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid"
    fi
  fi
  rm -f "$pidfile"
fi

if [ "${2:-}" = "--purge" ]; then
  # Leftover mounts under the data root would make rm fail; they belong to this engine only.
  awk -v root="$dir" 'index($2, root "/") == 1 { print $2 }' /proc/mounts | sort -r | while read -r mount; do
    umount -l "$mount" || true
  done
  rm -rf --one-file-system "$dir"
fi
