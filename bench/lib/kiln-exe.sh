# Sourced by benchmarks: KILN=(dist/kiln), kiln as users run it (the packaged executable), packaged
# again first when it is missing or any of its sources is newer than it (a stale executable would
# measure old code).
kiln_exe() {
  if [[ ! -x dist/kiln ]] || [[ -n $(find src scripts/package.mjs scripts/sea-train.mjs package-lock.json -newer dist/kiln -type f -print -quit) ]]; then
    echo "bench: packaging dist/kiln (missing or older than its sources)" >&2
    npm run --silent package >&2
  fi
  KILN=(dist/kiln)
}
