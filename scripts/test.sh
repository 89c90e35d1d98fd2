#!/usr/bin/env bash
# The whole test suite: setup, offline test images, then every *.test.js.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export KILN_TEST_CACHE=${KILN_TEST_CACHE:-/var/cache/kiln-test}
bash scripts/test-images.sh --debian >/dev/null
# The test cluster's Kubernetes (src/testing/kube): built once, cached under $KILN_TEST_CACHE/kube.
KILN_TEST_KUBE_DIR=$(bash scripts/kube-build.sh)
export KILN_TEST_KUBE_DIR
# BuildKit, the oracle of the cache tests (src/testing/buildkit.ts): built once, cached under $KILN_TEST_CACHE/buildkit.
KILN_TEST_BUILDKIT_DIR=$(bash scripts/buildkit-build.sh)
export KILN_TEST_BUILDKIT_DIR
# The stargz-snapshotter's estargz reader, the oracle of the eStargz outputs (src/testing/estargz-check.ts); seconds.
KILN_TEST_ESTARGZ_CHECK=$(bash scripts/estargz-check-build.sh)
export KILN_TEST_ESTARGZ_CHECK
# only tests whose source still exists (tsc leaves the output of a moved or deleted file in dist/)
mapfile -t files < <(find dist -name '*.test.js' | sort | while read -r f; do s=src/${f#dist/}; [[ -f ${s%.js}.ts ]] && echo "$f"; done)
# TAP on stdout as always; a spec report beside it whose "failing tests" section (each failure with its error and
# stack) is printed again at the end, where a CI log's tail shows it.
spec=$(mktemp "${TMPDIR:-/tmp}/kiln-test-spec.XXXXXX")
trap 'rm -f "$spec"' EXIT
rc=0
node --test --test-concurrency=2 --test-reporter=tap --test-reporter-destination=stdout \
  --test-reporter=spec --test-reporter-destination="$spec" "${files[@]}" || rc=$?
if [[ $rc -ne 0 ]]; then
  echo "# ---- the failures again (spec reporter) ----"
  sed -e 's/\x1b\[[0-9;]*m//g' "$spec" | sed -n '/failing tests:/,$p' | head -n 400
fi
exit "$rc"
