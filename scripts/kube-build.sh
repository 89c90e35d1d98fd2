#!/usr/bin/env bash
# Builds the test cluster's executables once and caches them outside the
# checkout, under $KILN_TEST_CACHE/kube/<key>/:
#   kube   etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
#          kubelet, kube-proxy and kubectl in one multi-call binary (testing/kube)
#   pause  the pod sandbox process (testing/kube/pause/pause.c, static)
# <key> hashes go.mod, go.sum, the sources, the link flags and the Go version.
# Prints the directory. Idempotent: with the same key it prints it at once.
# The first Go build compiles ~2,500 packages (25-45 min on 2 busy cores);
# Go's build cache makes a rebuild take a minute or two (the link).
#   --cached   print the directory if it is built, else fail (never build)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/build-cache.sh
cache=${KILN_TEST_CACHE:-/var/cache/kiln-test}
src=testing/kube
command -v go >/dev/null || { echo "kube-build: the test cluster is built with Go (1.24 or later), and go is not on PATH" >&2; exit 1; }

version=$(sed -n 's/^\(require \)\{0,1\}[[:space:]]*k8s.io\/kubernetes \(v[0-9.]*\)$/\2/p' "$src/go.mod")
[ -n "$version" ] || { echo "kube-build: no k8s.io/kubernetes version in $src/go.mod" >&2; exit 1; }
minor=${version#v1.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
key=$( { cat "$src/go.mod" "$src/go.sum" "$src"/*.go "$src/pause/pause.c"; echo "$ldflags"; go env GOVERSION GOARCH; } | sha256sum | cut -c1-16)
out=$cache/kube/$key
built() { [ -x "$out/kube" ] && [ -x "$out/pause" ]; }
build_cache_enter kube-build "$out" "${1:-}" "the test cluster's Kubernetes is not built: run bash scripts/kube-build.sh (the first build takes 25-45 minutes)"

gcc -static -Os -s -o "$out/pause.tmp" "$src/pause/pause.c"
mv "$out/pause.tmp" "$out/pause"
echo "kube-build: building Kubernetes $version for the test cluster into $out (first build: 25-45 minutes)" >&2
start=$(date +%s)
( cd "$src" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly \
    go build -trimpath -ldflags "$ldflags" -o "$out/kube.tmp" . )
mv "$out/kube.tmp" "$out/kube"
echo "kube-build: built in $(( $(date +%s) - start ))s" >&2
echo "$out"
