#!/usr/bin/env bash
# `run --rm IMAGE true` on the harness cluster: kiln --backend kube vs kubectl run --rm -i
# (bench/kube-run.mjs says what is timed). Needs the test cluster's Kubernetes (scripts/kube-build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-images.sh >/dev/null
KILN_TEST_KUBE_DIR=${KILN_TEST_KUBE_DIR:-$(bash scripts/kube-build.sh)}
export KILN_TEST_KUBE_DIR
exec node bench/kube-run.mjs
