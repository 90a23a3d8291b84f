#!/usr/bin/env bash
# Starts a private PostgreSQL server (Debian's postgresql package) for tests and benchmarks: its own data
# folder, one loopback address and port, no unix socket, password (scram-sha-256) authentication, no
# systemd. PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user the
# package created. The superuser is `decnet` with a random password.
# Usage: start-test-server.sh DIR ADDRESS PORT [--durable]
#   --durable keeps PostgreSQL's stock durability (fsync, synchronous commit): benchmarks use it.
#   Without it, fsync is off: a test database need not survive a power cut.
# Prints the connection string (without a database) on the last line of stdout.
set -euo pipefail

dir=$1
address=$2
port=$3
durable=${4:-}

log() { printf 'start-test-server: %s\n' "$*" >&2; }

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  log "PostgreSQL is not installed (Debian package postgresql)"
  exit 2
fi

run=()
if [ "$(id -u)" -eq 0 ]; then
  run=(runuser -u postgres --)
fi

mkdir -p "$dir"
# Who started it: a later run stops servers whose owner process is gone.
echo "${DECNET_TEST_OWNER_PID:-$PPID}" >"$dir/owner.pid"
password=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)
umask 077
printf '%s\n' "$password" >"$dir/pwfile"
if [ "$(id -u)" -eq 0 ]; then
  chown -R postgres: "$dir"
fi

"${run[@]}" "$bin/initdb" -D "$dir/data" -U decnet --pwfile="$dir/pwfile" -A scram-sha-256 \
  -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || { log "initdb failed:"; tail -n 20 "$dir/initdb.log" >&2; exit 1; }
rm -f "$dir/pwfile"

options="-c listen_addresses=$address -p $port -c unix_socket_directories='' -c max_connections=300"
if [ "$durable" != "--durable" ]; then
  options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
if ! "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$options" -w -t 60 start >/dev/null; then
  log "the server did not start:"
  tail -n 20 "$dir/server.log" >&2 || true
  exit 1
fi
echo "Host=$address;Port=$port;Username=decnet;Password=$password"
