#!/usr/bin/env bash
# Builds BuildKit (buildkitd and buildctl, the version testing/buildkit/go.mod names) once and
# caches them under $KILN_TEST_CACHE/buildkit/<key>/: the oracle of the registry-cache tests
# (src/builder/cache-buildkit.test.ts). <key> hashes go.mod, go.sum and the Go version.
# Prints the directory. Idempotent: with the same key it prints it at once.
# About 3 minutes on 2 cores when Go's build cache already holds the test cluster's packages
# (scripts/kube-build.sh, which shares containerd, grpc, …), longer on a cold cache.
#   --cached   print the directory if it is built, else fail (never build)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/build-cache.sh
cache=${KILN_TEST_CACHE:-/var/cache/kiln-test}
src=testing/buildkit
command -v go >/dev/null || { echo "buildkit-build: BuildKit is built with Go, and go is not on PATH" >&2; exit 1; }
key=$( { cat "$src/go.mod" "$src/go.sum"; go env GOVERSION GOARCH; } | sha256sum | cut -c1-16)
out=$cache/buildkit/$key
built() { [ -x "$out/buildkitd" ] && [ -x "$out/buildctl" ]; }
build_cache_enter buildkit-build "$out" "${1:-}" "BuildKit is not built: run bash scripts/buildkit-build.sh (a few minutes)"
echo "buildkit-build: building BuildKit into $out" >&2
start=$(date +%s)
( cd "$src" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly \
    go build -trimpath -ldflags "-s -w" -o "$out/.tmp/" github.com/moby/buildkit/cmd/buildkitd github.com/moby/buildkit/cmd/buildctl )
mv "$out/.tmp/buildkitd" "$out/.tmp/buildctl" "$out/" && rmdir "$out/.tmp"
echo "buildkit-build: built in $(( $(date +%s) - start ))s" >&2
echo "$out"
