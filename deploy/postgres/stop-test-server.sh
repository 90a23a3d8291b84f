#!/usr/bin/env bash
# Stops a server started by start-test-server.sh; --purge also removes its folder.
# Usage: stop-test-server.sh DIR [--purge]
set -uo pipefail

dir=$1
purge=${2:-}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
run=()
if [ "$(id -u)" -eq 0 ]; then
  run=(runuser -u postgres --)
fi
if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
fi
if [ "$purge" = "--purge" ]; then
  rm -rf "$dir"
fi
