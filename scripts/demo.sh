#!/usr/bin/env bash
# The demo, offline: make a busybox base image from Debian's busybox-static,
# build examples/hello/Dockerfile on it with `kiln build`, run the result with
# `kiln run` (on runc), rebuild from the cache, then push the image to a local
# registry (Debian's docker-registry on 127.0.0.1), remove it, pull it back and
# run it again, and check the store. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cache=$(bash scripts/test-images.sh)
work=$(mktemp -d)
. scripts/lib/registry.sh
kiln() { echo "+ kiln $*" >&2; node dist/cli/main.js --root "$work/root" "$@"; }
trap 'node dist/cli/main.js --root "$work/root" rm -f hello-detached >/dev/null 2>&1 || true; stop_registry "$work/registry"; rm -rf "$work"' EXIT
reg=$(start_registry "$work/registry")

kiln import --change 'CMD ["sh"]' "$cache/busybox-rootfs.tar" demo/busybox:1.0
kiln build --progress=plain -t hello:1 --build-arg GREETING=hello examples/hello
kiln images
kiln run --rm hello:1
echo "+ the same build again: every step comes from the cache" >&2
kiln build --progress=plain -t hello:1 --build-arg GREETING=hello examples/hello
kiln history hello:1
kiln run -d --name hello-detached hello:1 sh -c 'echo detached; sleep 30'
kiln ps
sleep 0.5
kiln logs hello-detached
kiln exec hello-detached cat /app/built.txt
kiln rm -f hello-detached
kiln tag hello:1 "$reg/demo/hello:1"
kiln push "$reg/demo/hello:1"
kiln rmi hello:1 "$reg/demo/hello:1"
kiln pull "$reg/demo/hello:1"
kiln run --rm "$reg/demo/hello:1"
kiln save -o "$work/hello.tar" "$reg/demo/hello:1"
echo "+ skopeo inspect docker-archive:hello.tar (the saved archive, read by skopeo)" >&2
skopeo inspect --config "docker-archive:$work/hello.tar" | head -12
kiln system check
