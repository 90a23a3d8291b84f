#!/usr/bin/env bash
# Builds the decky images with no image registry:
#   decnet/base:bookworm        a debootstrap minbase rootfs, imported (base containers and service base)
#   decnet/honeypot:<tag>       the self-contained agent in honeypot host mode (service containers)
# Uses whatever engine DOCKER_HOST points at (the test engine exports one). Needs root for debootstrap.
# Environment: DECNET_IMAGE_CACHE (default /var/cache/decnet-test), DECNET_HONEYPOT_TAG (default dev),
#              DECNET_DEBIAN_MIRROR (default: the bookworm mirror from this machine's apt sources).
# --rootfs-only: only prepare the cached rootfs (no engine needed); test.sh runs it beside the build.
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/../.." && pwd)
cache_dir=${DECNET_IMAGE_CACHE:-/var/cache/decnet-test}
tag=${DECNET_HONEYPOT_TAG:-dev}
base_image=decnet/base:bookworm
rootfs_tar="$cache_dir/rootfs-bookworm-minbase.tar"

log() { printf 'build-images: %s\n' "$*" >&2; }

# The Debian mirror this machine already uses for bookworm (deb822 .sources or one-line .list files).
find_mirror() {
  local file uri suites
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    uri=''; suites=''
    while IFS= read -r line; do
      case "$line" in
        URIs:*) uri=$(echo "${line#URIs:}" | awk '{print $1}') ;;
        Suites:*) suites=${line#Suites:} ;;
        '')
          if [ -n "$uri" ] && echo " $suites " | grep -q ' bookworm '; then echo "$uri"; return 0; fi
          uri=''; suites='' ;;
      esac
    done < <(cat "$file"; echo)
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] || continue
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { if ($(i + 1) == "bookworm") { print $i; exit } break } }' "$file")
    if [ -n "$uri" ]; then echo "$uri"; return 0; fi
  done
  return 1
}

build_rootfs_tar() {
  command -v debootstrap >/dev/null || { log "installing debootstrap"; apt-get install -y debootstrap >/dev/null; }
  local mirror=${DECNET_DEBIAN_MIRROR:-}
  [ -n "$mirror" ] || mirror=$(find_mirror) || { log "no bookworm mirror in the apt sources; set DECNET_DEBIAN_MIRROR"; exit 1; }
  rootfs=$(mktemp -d /tmp/decnet-rootfs.XXXXXX)
  trap discard_rootfs EXIT
  log "debootstrap bookworm from the configured apt mirror into $rootfs"
  debootstrap --variant=minbase --include=ca-certificates,libicu72,libssl3 bookworm "$rootfs" "$mirror" >/dev/null
  # Trim what a decky never needs; apt lists and caches are most of the size.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
         "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
         "$rootfs"/var/log/*.log "$rootfs"/var/cache/debconf/*-old
  mkdir -p "$cache_dir"
  tar -C "$rootfs" --numeric-owner --one-file-system -cf "$rootfs_tar.partial" .
  mv "$rootfs_tar.partial" "$rootfs_tar"
  discard_rootfs
  trap - EXIT
}

# debootstrap mounts /proc (and more) inside the rootfs; a failed run can leave them mounted, and
# deleting through a mount would reach the host's files. Unmount everything below it first.
rootfs=''
discard_rootfs() {
  [ -n "$rootfs" ] && [ -d "$rootfs" ] || return 0
  awk -v root="$rootfs" 'index($2, root "/") == 1 { print $2 }' /proc/mounts | sort -r | while read -r mount; do
    umount -l "$mount" || true
  done
  rm -rf --one-file-system "$rootfs"
}

# One debootstrap at a time: a second caller waits for the first one's rootfs.
ensure_rootfs_tar() {
  mkdir -p "$cache_dir"
  exec 9>"$cache_dir/.rootfs.lock"
  flock 9
  [ -f "$rootfs_tar" ] || build_rootfs_tar
  flock -u 9
}

if [ "${1:-}" = "--rootfs-only" ]; then
  ensure_rootfs_tar
  log "rootfs ready: $rootfs_tar"
  exit 0
fi

if docker image inspect "$base_image" >/dev/null 2>&1; then
  log "$base_image exists"
else
  ensure_rootfs_tar
  log "importing $base_image from $rootfs_tar"
  docker import "$rootfs_tar" "$base_image" >/dev/null
fi

context=$(mktemp -d /tmp/decnet-image-context.XXXXXX)
trap 'rm -rf "$context"' EXIT
log "publishing Decnet.Agent (linux-x64, self-contained, single file)"
dotnet publish "$repo_root/Decnet.Agent/Decnet.Agent.csproj" -c Release -r linux-x64 --self-contained \
  -p:PublishSingleFile=true -p:DebugType=none -o "$context/app" --nologo -v quiet >&2
cp "$repo_root/deploy/docker/Dockerfile.honeypot" "$context/Dockerfile"
log "building decnet/honeypot:$tag"
DOCKER_BUILDKIT=0 docker build -q --build-arg BASE="$base_image" -t "decnet/honeypot:$tag" "$context" >/dev/null
log "done: $base_image decnet/honeypot:$tag"
