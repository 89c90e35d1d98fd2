#!/usr/bin/env bash
# The test harness's one-node Kubernetes cluster, for trying kiln by hand.
#   scripts/cluster.sh up DIR     build Kubernetes if needed (first time: 25-45 min), start the
#                                 cluster in DIR, print its KUBECONFIG, node and containerd socket
#   scripts/cluster.sh down DIR   stop it and remove everything it made, DIR included
# The same TypeScript code as the tests' startCluster() (src/testing/kube/). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] && { [ "$1" = up ] || [ "$1" = down ]; } || { echo "usage: scripts/cluster.sh up|down DIR" >&2; exit 2; }
[ -f dist/testing/kube/cli.js ] || npm run --silent build
if [ "$1" = up ]; then
  KILN_TEST_KUBE_DIR=$(bash scripts/kube-build.sh)
  export KILN_TEST_KUBE_DIR
fi
exec node dist/testing/kube/cli.js "$1" "$2"
