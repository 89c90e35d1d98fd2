#!/usr/bin/env bash
# Builds testing/buildkit/estargz-check (the stargz-snapshotter's estargz reader as the oracle of kiln's
# eStargz outputs) once, from the Go modules BuildKit's build already fetched (same go.mod), and caches
# it under $KILN_TEST_CACHE/estargz-check/<key>/. Prints the executable's path. A few seconds.
#   --cached   print the path if it is built, else fail (never build)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/build-cache.sh
cache=${KILN_TEST_CACHE:-/var/cache/kiln-test}
src=testing/buildkit
command -v go >/dev/null || { echo "estargz-check-build: built with Go, and go is not on PATH" >&2; exit 1; }
key=$( { cat "$src/go.mod" "$src/go.sum" "$src/estargz-check/main.go"; go env GOVERSION GOARCH; } | sha256sum | cut -c1-16)
out=$cache/estargz-check/$key
built() { [ -x "$out/estargz-check" ]; }
build_cache_enter estargz-check-build "$out" "${1:-}" "not built: run bash scripts/estargz-check-build.sh" "$out/estargz-check"
( cd "$src" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" -o "$out/.tmp-estargz-check" ./estargz-check )
mv "$out/.tmp-estargz-check" "$out/estargz-check"
echo "$out/estargz-check"
