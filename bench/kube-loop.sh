#!/usr/bin/env bash
# The edit → pod-ready loop on the harness cluster: kiln through the kube backend vs buildah + a
# registry + the kubelet's pull (bench/kube-loop.mjs says what is timed). Needs the test cluster's
# Kubernetes (scripts/kube-build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-images.sh >/dev/null
KILN_TEST_KUBE_DIR=${KILN_TEST_KUBE_DIR:-$(bash scripts/kube-build.sh)}
export KILN_TEST_KUBE_DIR
exec node bench/kube-loop.mjs
