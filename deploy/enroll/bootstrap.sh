#!/usr/bin/env bash
# DECNET worker bootstrap for {{AGENT_NAME}}, rendered by the master. It can be run again after a failure
# until {{EXPIRES_AT}} (UTC) or until the worker's first heartbeat, whichever comes first.
#
# Usage (as printed by the Agent Enrollment page):
#   curl -fsS --proto =https --insecure --pinnedpubkey 'sha256//...' 'https://<master>/enroll/<token>.sh' | sudo bash
#   ... | sudo bash -s -- [--prefix DIR] [--no-systemd]
# --prefix DIR installs under DIR (DIR/opt/decnet, DIR/etc/decnet, DIR/var/lib/decnet, DIR/var/log/decnet),
#   so several workers can share one filesystem. Under systemd the units still go to /etc/systemd/system
#   (the only folder systemd reads), pointing into DIR; supervised, everything stays inside DIR.
# --no-systemd starts the agent and forwarder under decnet-supervise even where systemd runs.
# Without systemd (no systemctl, or /run/systemd/system missing) decnet-supervise is used as well.
set -euo pipefail
umask 022

AGENT_NAME='{{AGENT_NAME}}'
MASTER_HOST='{{MASTER_HOST}}'
BUNDLE_URL='{{BUNDLE_URL}}'
ARCHIVE_SHA256='{{ARCHIVE_SHA256}}'
PUBLIC_KEY_PIN='{{PUBLIC_KEY_PIN}}'
WITH_UPDATER='{{WITH_UPDATER}}'
UNITS='{{UNITS}}'

PREFIX="${DECNET_PREFIX:-}"
USE_SYSTEMD=auto
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix)
            [ $# -ge 2 ] || { echo "decnet: --prefix needs a directory" >&2; exit 2; }
            PREFIX="$2"; shift 2 ;;
        --prefix=*) PREFIX="${1#--prefix=}"; shift ;;
        --no-systemd) USE_SYSTEMD=no; shift ;;
        *) echo "decnet: unknown option '$1' (known: --prefix DIR, --no-systemd)" >&2; exit 2 ;;
    esac
done
if [ -n "$PREFIX" ]; then
    # Written into settings and sed expressions: an absolute path of plain characters only.
    if ! printf '%s' "$PREFIX" | grep -Eq '^/[A-Za-z0-9._/-]+$' || printf '%s' "$PREFIX" | grep -q '\.\.'; then
        echo "decnet: --prefix must be an absolute path of letters, digits, '.', '_', '-' and '/'" >&2
        exit 2
    fi
    PREFIX="${PREFIX%/}"
fi
if [ "$USE_SYSTEMD" = auto ]; then
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then USE_SYSTEMD=yes; else USE_SYSTEMD=no; fi
fi
INSTALL_DIR="$PREFIX/opt/decnet"
CONFIG_DIR="$PREFIX/etc/decnet"
STATE_DIR="$PREFIX/var/lib/decnet"
LOG_DIR="$PREFIX/var/log/decnet"
UNITS_DIR="$PREFIX/etc/systemd/system"
[ "$USE_SYSTEMD" = yes ] && UNITS_DIR=/etc/systemd/system
BIN_DIR="$PREFIX/usr/local/bin"
RUN_DIR="$STATE_DIR/run"

if [ "$(id -u)" -ne 0 ]; then
    echo "decnet: run this as root (curl ... | sudo bash)" >&2
    exit 1
fi
for tool in curl tar install sha256sum sed; do
    command -v "$tool" >/dev/null 2>&1 || { echo "decnet: '$tool' is required" >&2; exit 1; }
done
if [ "$USE_SYSTEMD" = no ]; then
    command -v setsid >/dev/null 2>&1 || { echo "decnet: 'setsid' (util-linux) is required to run without systemd" >&2; exit 1; }
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "decnet: downloading the worker bundle for $AGENT_NAME from $MASTER_HOST (pinned to the master's key)"
# --insecure only skips the system CA store, which does not know the swarm CA: the pinned key is checked.
curl -fsS --proto =https --insecure --pinnedpubkey "sha256//$PUBLIC_KEY_PIN" --retry 3 --retry-connrefused \
    -o "$work/bundle.tgz" "$BUNDLE_URL"
actual="$(sha256sum "$work/bundle.tgz" | cut -d' ' -f1)"
if [ "$actual" != "$ARCHIVE_SHA256" ]; then
    echo "decnet: the bundle's SHA-256 is $actual, the master announced $ARCHIVE_SHA256: not unpacking it" >&2
    exit 1
fi
mkdir -p "$work/bundle"
tar -xzf "$work/bundle.tgz" -C "$work/bundle" --no-same-owner

# The bundle's settings and units name the default paths; a prefix moves every one of them.
relocate() {
    if [ -n "$PREFIX" ]; then
        sed -e "s#/opt/decnet#$PREFIX/opt/decnet#g" -e "s#/etc/decnet#$PREFIX/etc/decnet#g" \
            -e "s#/var/lib/decnet#$PREFIX/var/lib/decnet#g" -e "s#/var/log/decnet#$PREFIX/var/log/decnet#g" "$1"
    else
        cat "$1"
    fi
}

# A second run (after a failure) replaces what the first one started.
stop_supervised() {
    [ -d "$RUN_DIR" ] || return 0
    for pidfile in "$RUN_DIR"/*.pid; do
        [ -e "$pidfile" ] || continue
        kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
    done
    for _ in $(seq 1 50); do
        ls "$RUN_DIR"/*.pid >/dev/null 2>&1 || return 0
        sleep 0.2
    done
}
stop_supervised

echo "decnet: installing the worker build into $INSTALL_DIR/releases/active"
mkdir -p "$INSTALL_DIR/releases"
rm -rf "$INSTALL_DIR/releases/active.new"
cp -a "$work/bundle/release" "$INSTALL_DIR/releases/active.new"
if [ -d "$INSTALL_DIR/releases/active" ]; then
    rm -rf "$INSTALL_DIR/releases/prev"
    mv "$INSTALL_DIR/releases/active" "$INSTALL_DIR/releases/prev"
fi
mv "$INSTALL_DIR/releases/active.new" "$INSTALL_DIR/releases/active"
ln -sfn "$INSTALL_DIR/releases/active" "$INSTALL_DIR/current"
chmod 0755 "$INSTALL_DIR/current/Decnet.Agent" 2>/dev/null || true
if [ ! -e "$INSTALL_DIR/current/libcoreclr.so" ] && ! command -v dotnet >/dev/null 2>&1; then
    echo "decnet: warning: no .NET runtime found; install dotnet-runtime-10.0 or ship a self-contained build" >&2
fi

echo "decnet: installing $CONFIG_DIR (settings and certificates, owner-only keys)"
install -d -m 0755 "$CONFIG_DIR"
relocate "$work/bundle/etc/decnet/decnet.ini" > "$work/decnet.ini"
if [ -n "$PREFIX" ]; then
    # [agent] is the last section: the folders self-destruct may clean, inside the prefix too.
    printf 'config-dir = %s\nunits-dir = %s\nbin-dir = %s\n' "$CONFIG_DIR" "$UNITS_DIR" "$BIN_DIR" >> "$work/decnet.ini"
fi
install -m 0600 -o root -g root "$work/decnet.ini" "$CONFIG_DIR/decnet.ini"
if [ -f "$work/bundle/etc/decnet/services.ini" ]; then
    install -m 0600 -o root -g root "$work/bundle/etc/decnet/services.ini" "$CONFIG_DIR/services.ini"
fi
for dir in agent updater; do
    if [ -d "$work/bundle/etc/decnet/$dir" ]; then
        install -d -m 0700 -o root -g root "$CONFIG_DIR/$dir"
        for file in "$work/bundle/etc/decnet/$dir"/*; do
            install -m 0600 -o root -g root "$file" "$CONFIG_DIR/$dir/$(basename "$file")"
        done
    fi
done
install -d -m 0750 "$LOG_DIR" "$STATE_DIR"
install -d -m 0755 "$UNITS_DIR" "$BIN_DIR"
ln -sfn "$INSTALL_DIR/current/Decnet.Agent" "$BIN_DIR/decnet-agent"
for unit in $UNITS; do
    relocate "$work/bundle/etc/systemd/system/$unit" > "$work/$unit"
    install -m 0644 -o root -g root "$work/$unit" "$UNITS_DIR/$unit"
done

if [ "$USE_SYSTEMD" = yes ]; then
    echo "decnet: starting the systemd units: $UNITS"
    systemctl daemon-reload
    # shellcheck disable=SC2086
    systemctl enable $UNITS
    # shellcheck disable=SC2086
    systemctl restart $UNITS
    echo "decnet: $AGENT_NAME enrolled; it appears on the master's Swarm Hosts page at its first heartbeat"
    exit 0
fi

# No systemd: each process runs under decnet-supervise, which restarts it 5 s after a failure (exit 2,
# a settings error, is not retried), as the units' Restart=on-failure would. A TERM stops a supervisor
# and its process; self-destruct does that. Nothing starts them again at boot.
cat > "$BIN_DIR/decnet-supervise" <<'SUPERVISE'
#!/bin/sh
# decnet-supervise RUN_DIR NAME LOG COMMAND...: written by the DECNET bootstrap where systemd does not run.
run=$1; name=$2; log=$3; shift 3
pidfile="$run/$name.pid"
stopfile="$run/$name.stop"
echo $$ > "$pidfile"
rm -f "$stopfile"
child=
stop() {
    if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; wait "$child"; fi
    rm -f "$pidfile"
    exit 0
}
trap stop TERM INT
while :; do
    "$@" >>"$log" 2>&1 </dev/null &
    child=$!
    wait "$child"
    code=$?
    child=
    [ -e "$stopfile" ] && break
    if [ "$code" -eq 0 ]; then echo "$(date -u +%FT%TZ) decnet-supervise: $name exited normally" >>"$log"; break; fi
    if [ "$code" -eq 2 ]; then echo "$(date -u +%FT%TZ) decnet-supervise: $name has a settings error (exit 2), not restarted" >>"$log"; break; fi
    echo "$(date -u +%FT%TZ) decnet-supervise: $name exited with $code, restarting in 5 s" >>"$log"
    sleep 5 &
    child=$!
    wait "$child"
    child=
done
rm -f "$pidfile"
SUPERVISE
chmod 0755 "$BIN_DIR/decnet-supervise"
install -d -m 0750 "$RUN_DIR"

supervise() {
    name=$1; shift
    setsid "$BIN_DIR/decnet-supervise" "$RUN_DIR" "$name" "$LOG_DIR/${name#decnet-}.log" "$@" </dev/null >/dev/null 2>&1 &
}
agent="$INSTALL_DIR/current/Decnet.Agent"
if [ "$WITH_UPDATER" = yes ]; then
    # The updater runs the agent itself (and the agent its forwarder) so that it can swap releases.
    supervise decnet-updater "$agent" updater --config "$CONFIG_DIR/decnet.ini" --restart process
    started="the updater (which runs the agent and its forwarder)"
else
    supervise decnet-agent "$agent" serve --config "$CONFIG_DIR/decnet.ini" --no-forwarder
    supervise decnet-forwarder "$agent" forward --config "$CONFIG_DIR/decnet.ini"
    started="the agent and the forwarder"
fi
sleep 1
echo "decnet: systemd is not managing this install: started $started under decnet-supervise (restarted after a failure, not at boot); pids in $RUN_DIR, logs in $LOG_DIR"
echo "decnet: $AGENT_NAME enrolled; it appears on the master's Swarm Hosts page at its first heartbeat"
