#!/usr/bin/env bash
# DECNET worker bootstrap for {{AGENT_NAME}}, rendered by the master. One download, valid until {{EXPIRES_AT}}.
# Usage (as printed by the Agent Enrollment page): curl -fsSL <this url> | sudo bash
set -euo pipefail

AGENT_NAME='{{AGENT_NAME}}'
BUNDLE_URL='{{BUNDLE_URL}}'
INSTALL_DIR='{{INSTALL_DIR}}'
LOG_DIR='{{LOG_DIR}}'
STATE_DIR='{{STATE_DIR}}'
UNITS='{{UNITS}}'

if [ "$(id -u)" -ne 0 ]; then
    echo "decnet: run this as root (curl ... | sudo bash)" >&2
    exit 1
fi
for tool in curl tar systemctl install; do
    command -v "$tool" >/dev/null 2>&1 || { echo "decnet: '$tool' is required" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "decnet: downloading the worker bundle for $AGENT_NAME"
curl -fsSL "$BUNDLE_URL" -o "$work/bundle.tgz"
mkdir -p "$work/bundle"
tar -xzf "$work/bundle.tgz" -C "$work/bundle" --no-same-owner

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

echo "decnet: installing /etc/decnet (settings and certificates, owner-only keys)"
install -d -m 0755 /etc/decnet
install -m 0600 -o root -g root "$work/bundle/etc/decnet/decnet.ini" /etc/decnet/decnet.ini
if [ -f "$work/bundle/etc/decnet/services.ini" ]; then
    install -m 0600 -o root -g root "$work/bundle/etc/decnet/services.ini" /etc/decnet/services.ini
fi
for dir in agent updater; do
    if [ -d "$work/bundle/etc/decnet/$dir" ]; then
        install -d -m 0700 -o root -g root "/etc/decnet/$dir"
        for file in "$work/bundle/etc/decnet/$dir"/*; do
            install -m 0600 -o root -g root "$file" "/etc/decnet/$dir/$(basename "$file")"
        done
    fi
done
# The units confine the agent to these folders (ReadWritePaths): they must exist before it starts.
install -d -m 0750 "$LOG_DIR" "$STATE_DIR"

echo "decnet: installing systemd units: $UNITS"
for unit in $UNITS; do
    install -m 0644 -o root -g root "$work/bundle/etc/systemd/system/$unit" "/etc/systemd/system/$unit"
done
systemctl daemon-reload
# shellcheck disable=SC2086
systemctl enable --now $UNITS
echo "decnet: $AGENT_NAME enrolled; it appears on the master's Swarm Hosts page at its first heartbeat"
