#!/usr/bin/env bash
# Builds a Debian 13 ("trixie") base image from Debian's packages, for machines that can reach
# Debian's mirrors but no container registry (the Dockerfile's default base, node:20-bookworm-slim,
# comes from Docker Hub). Trixie ships Node.js 20, which fits package.json "engines".
#
#   deploy/debian-base-image.sh [IMAGE]        # default local/debian-trixie
#   docker build --build-arg BASE=local/debian-trixie -t sailthru-destination .
#
# Needs root, debootstrap and a running Docker engine. An image already there is kept: delete it
# (docker image rm local/debian-trixie) to rebuild it.
set -euo pipefail

IMAGE="${1:-local/debian-trixie}"
SUITE="${DEBIAN_SUITE:-trixie}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "$IMAGE is already built (docker image rm $IMAGE to rebuild it)"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }

rootfs="$(mktemp -d /tmp/debian-rootfs.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
echo "debootstrap $SUITE into $rootfs (about a minute)"
debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; exit 1; }
rm -f "$rootfs.log"
# Package lists and caches would only make the image larger; each build stage fetches its own.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
tar -C "$rootfs" -c . | docker import - "$IMAGE" >/dev/null
echo "built $IMAGE"
