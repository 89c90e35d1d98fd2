#!/usr/bin/env bash
# The demo of what kiln does so far, offline: make a busybox base image from
# Debian's busybox-static, import it with a CMD, push it to a local registry
# (Debian's docker-registry on 127.0.0.1), remove it, pull it back, inspect
# it, save it, and check the store. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cache=$(bash scripts/test-images.sh)
work=$(mktemp -d)
. scripts/lib/registry.sh
trap 'stop_registry "$work/registry"; rm -rf "$work"' EXIT
kiln() { echo "+ kiln $*" >&2; node dist/cli/main.js --root "$work/root" "$@"; }
reg=$(start_registry "$work/registry")
port=${reg##*:}

kiln import --change 'CMD ["echo", "hello from kiln"]' --change 'ENV GREETING=hi' "$cache/busybox-rootfs.tar" demo/busybox:1.0
kiln images
kiln tag demo/busybox:1.0 "127.0.0.1:$port/demo/busybox:1.0"
kiln push "127.0.0.1:$port/demo/busybox:1.0"
kiln rmi demo/busybox:1.0 "127.0.0.1:$port/demo/busybox:1.0"
kiln pull "127.0.0.1:$port/demo/busybox:1.0"
kiln images --digests
kiln history "127.0.0.1:$port/demo/busybox:1.0"
kiln inspect "127.0.0.1:$port/demo/busybox:1.0" | head -20
kiln save -o "$work/busybox.tar" "127.0.0.1:$port/demo/busybox:1.0"
echo "+ skopeo inspect docker-archive:busybox.tar (the saved archive, read by skopeo)" >&2
skopeo inspect --config "docker-archive:$work/busybox.tar" | head -12
kiln system check
