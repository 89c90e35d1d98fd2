#!/usr/bin/env bash
# The whole test suite: setup, offline test images, then every *.test.js.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export KILN_TEST_CACHE=${KILN_TEST_CACHE:-/var/cache/kiln-test}
bash scripts/test-images.sh --debian >/dev/null
mapfile -t files < <(find dist -name '*.test.js' | sort)
exec node --test --test-concurrency=2 "${files[@]}"
