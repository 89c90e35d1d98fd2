# Sourced by benchmarks: KILN=(dist/kiln), kiln as users run it (the packaged executable), packaged
# again first when it is missing or any of its sources is newer than it (a stale executable would
# measure old code).
kiln_exe() {
  # Sources only: a README edited after packaging does not make the executable stale.
  if [[ ! -x dist/kiln ]] || [[ -n $(find src scripts/package.mjs scripts/sea-train.mjs package-lock.json -newer dist/kiln -type f \( -name '*.ts' -o -name '*.mjs' -o -name '*.cjs' -o -name '*.json' \) -print -quit) ]]; then
    echo "bench: packaging dist/kiln (missing or older than its sources)" >&2
    npm run --silent package >&2
    touch dist/kiln
  fi
  KILN=(dist/kiln)
}
