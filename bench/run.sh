#!/usr/bin/env bash
# npm run bench: every benchmark, kiln side by side with its peer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
command -v bc >/dev/null || apt-get install -y -qq bc >/dev/null
bash bench/pull-push.sh
bash bench/build.sh
