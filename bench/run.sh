#!/usr/bin/env bash
# npm run bench: every benchmark, kiln side by side with its peer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
command -v /usr/bin/time >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -qq time >/dev/null
bash bench/pull-push.sh
bash bench/containers.sh
bash bench/containerd-pull.sh
bash bench/build.sh
bash bench/cache-hit.sh
bash bench/executor.sh
bash bench/containerd-build.sh
bash bench/remote-build.sh
bash bench/kube-loop.sh
bash bench/kube-start.sh
bash bench/build-job.sh
bash bench/kube-run.sh
