#!/usr/bin/env bash
# Builds a minimal Debian bookworm root filesystem that stands in for the images' base,
# node:20-bookworm-slim, on machines without Docker: debootstrap (minbase) from Debian's
# packages, this machine's Node 20 binary at /usr/local/bin/node (the official image's path), and
# the base image's `node` user (uid/gid 1000). integration_tests/packaging/rootfs.test.ts replays the
# runtime stage's system step (apt-get install tini, the airbyte user) in a copy of it and runs the
# connectors there as uid 1000 with tini as PID 1; it is skipped when this rootfs does not exist.
# Needs root. Idempotent; about 1-3 minutes and ~250 MB the first time.
#   CDC_ROOTFS=/path  (default /var/cache/cdc-rootfs/bookworm)
set -euo pipefail
DEST="${CDC_ROOTFS:-/var/cache/cdc-rootfs/bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
NODE_BIN="$(readlink -f "$(command -v node)")"
STAMP="$DEST/.cdc-rootfs"
want="bookworm minbase node $("$NODE_BIN" --version)"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  echo "rootfs: up to date ($DEST: $want)"
  exit 0
fi
[[ "$("$NODE_BIN" --version)" == v20.* ]] || { echo "rootfs: need Node 20 on this machine, found $("$NODE_BIN" --version)" >&2; exit 1; }
if ! command -v debootstrap >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
rm -rf "$DEST.tmp"
mkdir -p "$(dirname "$DEST")"
debootstrap --variant=minbase bookworm "$DEST.tmp" "$MIRROR" >"$DEST.tmp.log" 2>&1 || { tail -n 20 "$DEST.tmp.log" >&2; exit 1; }
install -m 0755 "$NODE_BIN" "$DEST.tmp/usr/local/bin/node"
chroot "$DEST.tmp" groupadd --gid 1000 node
chroot "$DEST.tmp" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
rm -rf "$DEST.tmp/var/cache/apt/archives/"*.deb "$DEST.tmp/var/lib/apt/lists/"*
rm -rf "$DEST"
mv "$DEST.tmp" "$DEST"
rm -f "$DEST.tmp.log"
echo "$want" >"$STAMP"
echo "rootfs: built $DEST ($want, $(du -sh "$DEST" | cut -f1))"
