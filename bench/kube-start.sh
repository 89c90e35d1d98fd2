#!/usr/bin/env bash
# The kube backend's fixed cost per command on the harness cluster: kiln --backend kube images vs
# kubectl get pods -n kiln, and a no-change kiln --backend kube build (bench/kube-start.mjs).
# Needs the test cluster's Kubernetes (scripts/kube-build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-images.sh >/dev/null
KILN_TEST_KUBE_DIR=${KILN_TEST_KUBE_DIR:-$(bash scripts/kube-build.sh)}
export KILN_TEST_KUBE_DIR
exec node bench/kube-start.mjs
