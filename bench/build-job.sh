#!/usr/bin/env bash
# A build as a Kubernetes Job (kiln build --job on the harness cluster, pushing to a registry in the
# node's network namespace) vs kiln build on this machine (fresh root: pull, build, push to the same
# registry), the same Dockerfile; medians and their ratio (bench/build-job.mjs). Needs the test
# cluster's Kubernetes (scripts/kube-build.sh) and the packaged executable (npm run package).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-images.sh >/dev/null
. bench/lib/kiln-exe.sh; kiln_exe
KILN_TEST_KUBE_DIR=${KILN_TEST_KUBE_DIR:-$(bash scripts/kube-build.sh)}
export KILN_TEST_KUBE_DIR
exec node bench/build-job.mjs
